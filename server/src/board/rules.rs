//! The board's phase and uniqueness rules (`docs/PROTOCOL.md` §12.1–12.3).
//!
//! [`admit`] is pure: given an election's state, an entry whose signature and proofs
//! were already checked, and the server's clock, it says whether the entry may be
//! appended and which derived rows it writes. The board calls it once before the
//! expensive checks (to fail fast) and again under the sequencer lock (to decide).
//!
//! Ballots are committed in groups: [`admit_in_group`] decides a ballot against the
//! committed state *and* the ballots admitted before it in the same group
//! ([`GroupBallots`]), so that a group gives exactly the answers one-at-a-time appends
//! would (a second ballot of one nullifier and digest is a replay of the first, a
//! ciphertext cast earlier in the group under another nullifier is a copy).

use std::collections::HashMap;

use urna_protocol::board::{BoardEntry, Payload, RegistrationCode};

use super::state::{ElectionState, Phase};
use crate::error::ApiError;
use crate::storage::Derived;

/// Largest difference, in seconds, allowed between the time in an open or close entry
/// and the server's clock.
pub const MAX_CLOCK_SKEW: u64 = 300;

/// The decision on an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Append it, with these derived rows.
    Append(Vec<Derived>),
    /// A ballot already on the board at this index (same nullifier and digest): answer
    /// with its receipt and append nothing.
    Replay(u64),
}

fn wrong_phase(state: &ElectionState, reason: &str) -> ApiError {
    ApiError::WrongPhase {
        phase: state.phase().name(),
        reason: reason.to_owned(),
    }
}

/// A contribution out of order (PROTOCOL 14.10 rules 2, 3).
fn ceremony_order_error(state: &ElectionState, e: urna_ceremony::CeremonyError) -> ApiError {
    use urna_ceremony::CeremonyError as C;
    match e {
        C::AfterBeacon { .. } | C::NotClosed { .. } => wrong_phase(state, &e.to_string()),
        other => ApiError::InvalidEntry(other.to_string()),
    }
}

fn check_time(at: u64, now: u64) -> Result<(), ApiError> {
    if at.abs_diff(now) > MAX_CLOCK_SKEW {
        return Err(ApiError::OutsideWindow(format!(
            "entry time {at} is more than {MAX_CLOCK_SKEW} s from the server clock {now}"
        )));
    }
    Ok(())
}

/// The ballots of one election admitted earlier in the group being committed: what
/// [`ElectionState::apply`] will record for them once the group is durable.
#[derive(Clone, Debug, Default)]
pub struct GroupBallots {
    /// `(nullifier, digest) → index` of the group's ballots.
    ballots: HashMap<([u8; 32], [u8; 32]), u64>,
    /// Fingerprint → the nullifier that cast it first, for fingerprints new in the group.
    fingerprints: HashMap<[u8; 32], [u8; 32]>,
}

impl GroupBallots {
    /// Records a ballot admitted at `index` with these derived rows (as
    /// [`ElectionState::apply`] would once it is committed).
    pub fn record(&mut self, state: &ElectionState, index: u64, derived: &[Derived]) {
        for d in derived {
            if let Derived::Ballot {
                nullifier,
                digest,
                fingerprints,
            } = d
            {
                self.ballots.insert((*nullifier, *digest), index);
                for fp in fingerprints {
                    if !state.fingerprints.contains_key(fp) {
                        self.fingerprints.entry(*fp).or_insert(*nullifier);
                    }
                }
            }
        }
    }
}

/// Decides whether `entry` (signature and proofs already checked) may be appended to
/// `state` at server time `now` (Unix seconds).
pub fn admit(state: &ElectionState, entry: &BoardEntry, now: u64) -> Result<Admission, ApiError> {
    admit_in_group(state, &GroupBallots::default(), entry, now)
}

/// [`admit`] against `state` followed by the ballots `group` admitted before `entry` in
/// the same commit group. Only ballots are grouped, so nothing else in the state can
/// have changed inside a group.
pub fn admit_in_group(
    state: &ElectionState,
    group: &GroupBallots,
    entry: &BoardEntry,
    now: u64,
) -> Result<Admission, ApiError> {
    let m = &state.manifest;
    let phase = state.phase();
    match entry.payload() {
        Payload::Manifest(_) => Err(ApiError::ElectionExists),
        Payload::Tally(_) => Err(ApiError::WrongKind {
            expected: "client",
            actual: "tally",
        }),
        Payload::SetupKeys(_) => Err(ApiError::WrongKind {
            expected: "a contribution",
            actual: "setup-keys",
        }),
        Payload::SetupPhase1(c) | Payload::SetupPhase2(c) => {
            // PROTOCOL 14.10 rules 1-3; rule 4 (the contribution verifies) is the
            // board's expensive check.
            let Some(setup) = &state.setup else {
                return Err(ApiError::UnknownContributor(c.contributor));
            };
            if phase != Phase::Setup {
                return Err(wrong_phase(state, "the census froze: the setup is over"));
            }
            if setup.is_done() {
                return Err(wrong_phase(state, "the setup ceremony is closed"));
            }
            let first = matches!(entry.payload(), Payload::SetupPhase1(_));
            let checked = if first {
                setup.chain.check_phase1(&c.data)
            } else {
                setup.chain.check_phase2(&c.data)
            };
            let beacon = checked.map_err(|e| ceremony_order_error(state, e))?;
            if beacon && c.contributor != 0 {
                return Err(ApiError::InvalidEntry(format!(
                    "a beacon contribution closes a phase and is the authority's \
                     (contributor 0), not contributor {}'s",
                    c.contributor
                )));
            }
            let phase_no = if first { 1 } else { 2 };
            if setup.contributions.iter().any(|r| {
                r.phase == phase_no && r.contributor == c.contributor && r.beacon == beacon
            }) {
                return Err(ApiError::Duplicate(format!(
                    "contributor {} already contributed to phase {phase_no}",
                    c.contributor
                )));
            }
            // One contribution per contributor and phase, plus the authority's beacon
            // (PROTOCOL 14.10 rule 3); the database enforces it too.
            Ok(Admission::Append(vec![Derived::Trustee {
                trustee: c.contributor,
                other: u32::from(beacon),
            }]))
        }
        Payload::Dealer(d) => {
            if state.opened.is_some() {
                return Err(wrong_phase(
                    state,
                    "the key ceremony ended when voting opened",
                ));
            }
            if state.dealers.contains_key(&d.dealer()) {
                return Err(ApiError::Duplicate(format!(
                    "trustee {} already posted a dealer message",
                    d.dealer()
                )));
            }
            Ok(Admission::Append(vec![Derived::Trustee {
                trustee: d.dealer(),
                other: 0,
            }]))
        }
        Payload::Complaint(c) => {
            if state.opened.is_some() {
                return Err(wrong_phase(
                    state,
                    "the key ceremony ended when voting opened",
                ));
            }
            if !state.dealers.contains_key(&c.accused()) {
                return Err(ApiError::InvalidEntry(format!(
                    "trustee {} has no dealer message to complain about",
                    c.accused()
                )));
            }
            if state
                .complaints
                .iter()
                .any(|k| k.complainer() == c.complainer() && k.accused() == c.accused())
            {
                return Err(ApiError::Duplicate(format!(
                    "trustee {} already complained about trustee {}",
                    c.complainer(),
                    c.accused()
                )));
            }
            Ok(Admission::Append(vec![Derived::Trustee {
                trustee: c.complainer(),
                other: c.accused(),
            }]))
        }
        Payload::RegistrationCodes(hashes) => {
            if state.frozen.is_some() {
                return Err(ApiError::CensusFrozen);
            }
            let mut seen = std::collections::HashSet::with_capacity(hashes.len());
            for h in hashes {
                if state.code_hashes.contains_key(h) || !seen.insert(*h) {
                    return Err(ApiError::DuplicateCodeHash);
                }
            }
            Ok(Admission::Append(vec![Derived::CodeHashes(hashes.clone())]))
        }
        Payload::Registration { code, commitment } => {
            if state.frozen.is_some() {
                return Err(ApiError::CensusFrozen);
            }
            let code_hash = RegistrationCode::from_bytes(*code).hash(&m.election_id);
            match state.code_hashes.get(&code_hash) {
                None => return Err(ApiError::UnknownRegistrationCode),
                Some(true) => return Err(ApiError::RegistrationCodeUsed),
                Some(false) => {}
            }
            let commitment = commitment.to_bytes();
            if state.commitment_set.contains(&commitment) {
                return Err(ApiError::DuplicateCommitment);
            }
            let position = state.commitments.len() as u64;
            let capacity = 1u64.checked_shl(m.census_depth).unwrap_or(u64::MAX);
            if position >= capacity {
                return Err(ApiError::CensusFull);
            }
            Ok(Admission::Append(vec![Derived::Registration {
                code_hash,
                position,
                commitment,
            }]))
        }
        Payload::CensusFrozen { size, .. } => {
            if state.frozen.is_some() {
                return Err(wrong_phase(state, "the census is already frozen"));
            }
            if !state.keys_fixed() {
                return Err(wrong_phase(
                    state,
                    "the setup ceremony must be closed (its setup-keys entry on the board) \
                     before the census freezes",
                ));
            }
            if *size != state.commitments.len() as u64 {
                return Err(ApiError::CensusMismatch(format!(
                    "the entry says {size} registrations, the board has {}",
                    state.commitments.len()
                )));
            }
            // The root is compared with the board's census tree by the caller (it costs
            // one Poseidon hash per node, so it is computed off the lock).
            Ok(Admission::Append(Vec::new()))
        }
        Payload::Open { at } => {
            if phase != Phase::Frozen {
                return Err(wrong_phase(
                    state,
                    "voting opens once, after the census froze",
                ));
            }
            if now < m.opens_at || now >= m.closes_at {
                return Err(ApiError::OutsideWindow(format!(
                    "the manifest's window is [{}, {}), the server clock is {now}",
                    m.opens_at, m.closes_at
                )));
            }
            check_time(*at, now)?;
            state
                .ceremony_outcome()
                .map_err(|e| wrong_phase(state, &format!("key ceremony incomplete: {e}")))?;
            Ok(Admission::Append(Vec::new()))
        }
        Payload::Close { at } => {
            if phase != Phase::Open {
                return Err(wrong_phase(state, "voting closes once, after it opened"));
            }
            check_time(*at, now)?;
            Ok(Admission::Append(Vec::new()))
        }
        Payload::Ballot(b) => {
            match phase {
                Phase::Setup | Phase::Frozen => return Err(ApiError::VotingNotOpen),
                Phase::Closed | Phase::Tallied => return Err(ApiError::VotingClosed),
                Phase::Open => {}
            }
            if now < m.opens_at {
                return Err(ApiError::VotingNotOpen);
            }
            if now >= m.closes_at {
                return Err(ApiError::VotingClosed);
            }
            let frozen = state.frozen.as_ref().ok_or(ApiError::VotingNotOpen)?;
            if b.census_root != frozen.root {
                return Err(ApiError::WrongCensusRoot);
            }
            let nullifier = b.nullifier.to_bytes();
            let digest = b.digest(&state.manifest_hash).to_bytes();
            let key = (nullifier, digest);
            if let Some(&index) = state.ballots.get(&key).or_else(|| group.ballots.get(&key)) {
                return Ok(Admission::Replay(index));
            }
            let fingerprints = b.ciphertext_fingerprints();
            for fp in &fingerprints {
                // The committed owner came first; the group's only for new fingerprints.
                let owner = state
                    .fingerprints
                    .get(fp)
                    .or_else(|| group.fingerprints.get(fp));
                if let Some(owner) = owner {
                    if *owner != nullifier {
                        return Err(ApiError::CiphertextReused);
                    }
                }
            }
            Ok(Admission::Append(vec![Derived::Ballot {
                nullifier,
                digest,
                fingerprints,
            }]))
        }
        Payload::DecryptionShares(s) => {
            match phase {
                Phase::Closed => {}
                Phase::Tallied => return Err(wrong_phase(state, "the tally is already posted")),
                _ => return Err(wrong_phase(state, "decryption shares come after close")),
            }
            if state.shares.contains_key(&s.trustee()) {
                return Err(ApiError::Duplicate(format!(
                    "trustee {} already posted decryption shares",
                    s.trustee()
                )));
            }
            Ok(Admission::Append(vec![Derived::Trustee {
                trustee: s.trustee(),
                other: 0,
            }]))
        }
    }
}
