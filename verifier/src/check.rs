//! The second pass (PROTOCOL 13.3, checks 10 onwards): every entry of the election, in
//! log order, against the protocol: decoding, the manifest, signatures, the phase rules,
//! the Groth16 setup ceremony (PROTOCOL 14.10, in [`crate::setup`]), the key ceremony,
//! registration and the census, ballots with the nullifier rule, the aggregate,
//! decryption shares and the tally.
//!
//! Memory stays bounded as the board grows: ballots are held only in one pending chunk
//! (verified together, then dropped); what is kept per ballot is a 16-byte fingerprint
//! per option ciphertext, and per re-voting nullifier the identities of its ballots.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;
use std::sync::Arc;

use rand_core::OsRng;
use urna_circuits::{CensusRoot, CensusTree, PreparedVerifyingKey};
use urna_protocol::ballot::{verify_ballots, Ballot};
use urna_protocol::board::{
    BoardEntry, EntryKind, Payload, RegistrationCode, SetupContribution, SetupKeys,
};
use urna_protocol::codec::Canonical;
use urna_protocol::dkg::{Complaint, DealerMessage, DkgContext, DkgOutcome};
use urna_protocol::elgamal::ElectionPublicKey;
use urna_protocol::manifest::{Manifest, Setup};
use urna_protocol::tally::{verify_tally, Aggregate, Tally, TallyContext, TrusteeShares};
use urna_protocol::VerificationError;

use crate::error::{Failure, VerifyError};
use crate::export::{ballot_key, FullEntry, Header, Line, LineReader};
use crate::report::{CeremonyReport, ContestResult, Phase, Report, SetupReport, FIXED_KEYS_CAVEAT};
use crate::scan::{NullifierInfo, Scan};
use crate::setup::Ceremony;
use crate::Options;

/// The largest difference, in seconds, the board allows between an open or close entry's
/// time and its clock (PROTOCOL 12.1 item 7).
pub const MAX_CLOCK_SKEW: u64 = 300;

/// Lines parsed and decoded ahead of the rules, together on every core, at most this
/// many at a time...
const DECODE_BATCH_LINES: usize = 512;
/// ...and at most this many bytes of line text (a setup contribution is a few MB).
const DECODE_BATCH_BYTES: usize = 32 << 20;

/// An entry as the rules receive it: decoded (PROTOCOL 13.3 check 10) ahead of them.
type Decoded = Result<BoardEntry, (Option<&'static str>, VerifyError)>;

/// A line of the second pass, parsed and, for the exported election's entries, decoded.
enum Parsed {
    /// Another election's entry: only its leaf hash, which the first pass checked.
    Other,
    /// An entry of the election, its line kind, bytes and decoding.
    Full(FullEntry, Box<Decoded>),
}

/// PROTOCOL 13.3 check 10: the entry decodes canonically (the decoder accepts one
/// encoding per object; the re-encoding is compared as well, so no decoder slip can let
/// two encodings of one entry through).
fn decode_entry(bytes: &[u8]) -> Decoded {
    let entry =
        BoardEntry::from_canonical_bytes(bytes).map_err(|e| (None, VerifyError::EntryDecode(e)))?;
    if entry.to_canonical_bytes() != bytes {
        return Err((Some(entry.kind().name()), VerifyError::NonCanonicalEntry));
    }
    Ok(entry)
}

fn parse_and_decode(raw: &[u8]) -> Result<Parsed, VerifyError> {
    let line = Line::parse(raw)?;
    Ok(match line.full {
        None => Parsed::Other,
        Some(full) => {
            let decoded = decode_entry(&full.bytes);
            Parsed::Full(full, Box::new(decoded))
        }
    })
}

/// Runs the second pass over the lines after the header. Lines are read in batches;
/// each batch is parsed and decoded on all cores (point decompression is most of a
/// ballot's decoding), then its entries go through the rules one by one, in log order,
/// so the first failure reported is still the first in the log.
pub(crate) fn check<R: BufRead>(
    lines: &mut LineReader<R>,
    header: &Header,
    scan: Scan,
    options: &Options,
) -> Result<Report, Failure> {
    let mut state = State::new(header, scan, options);
    let mut index = 0u64;
    loop {
        let (batch, error) = lines.read_batch(DECODE_BATCH_LINES, DECODE_BATCH_BYTES);
        let (n, end) = (batch.len() as u64, batch.is_empty());
        state.entries(index, batch)?;
        index += n;
        if let Some(e) = error {
            // Everything read before the bad line is checked first.
            state.flush()?;
            return Err(Failure::at(index, None, e));
        }
        if end {
            break;
        }
    }
    state.finish()
}

/// Ballots verified together, and their log indices.
#[derive(Default)]
struct Chunk {
    ballots: Vec<Ballot>,
    indices: Vec<u64>,
}

/// What ballots are verified against: the manifest, the election key, the frozen census
/// root and the Groth16 verifying key. Owned (the large parts shared), so that a batch of
/// chunks can be verified while the rules move the state on (see [`State::entries`]).
#[derive(Clone)]
struct VerifyContext {
    manifest: Arc<Manifest>,
    public_key: ElectionPublicKey,
    root: CensusRoot,
    pvk: Arc<PreparedVerifyingKey>,
}

/// Verifies `chunks` one after the other (each with PROTOCOL 6.7: validity proofs in
/// one multiscalar multiplication per part, Groth16 proofs in one batch; on failure the
/// culprits are named) and reports the first failed ballot in log order.
fn verify_chunks(context: Option<&VerifyContext>, chunks: Vec<Chunk>) -> Result<(), Failure> {
    let at = |index, e| Failure::at(index, Some(EntryKind::Ballot.name()), e);
    for Chunk { ballots, indices } in chunks {
        let first = indices.first().copied().unwrap_or_default();
        let Some(c) = context else {
            return Err(at(first, VerifyError::BallotBeforeOpen));
        };
        if let Err(failures) = verify_ballots(
            &ballots,
            &c.manifest,
            &c.public_key,
            &c.pvk,
            &c.root,
            &mut OsRng,
        ) {
            let (pos, error) = failures.into_iter().min_by_key(|(i, _)| *i).unwrap_or((
                0,
                VerificationError::EligibilityProof {
                    reason: "batch rejected".into(),
                },
            ));
            let index = indices.get(pos).copied().unwrap_or(first);
            return Err(at(index, VerifyError::InvalidBallot(error)));
        }
    }
    Ok(())
}

/// The census while registration is open.
struct Registration {
    /// Code hash → index of the registration that spent it.
    codes: HashMap<[u8; 32], Option<u64>>,
    commitments: HashSet<[u8; 32]>,
    /// The census leaves in board order; the tree is built once, at the freeze, level by
    /// level (about one Poseidon hash per leaf, on all cores) rather than leaf by leaf
    /// (`depth` hashes per leaf, which was a third of a 10,000-ballot recount).
    leaves: Vec<urna_circuits::IdentityCommitment>,
    /// `2^depth`.
    capacity: u64,
}

/// The key ceremony's result, fixed by the open entry.
struct Keys {
    public_key: ElectionPublicKey,
    tally: TallyContext,
}

/// Everything the second pass knows about the election so far.
struct State<'a> {
    header: &'a Header,
    options: &'a Options,
    /// The key ballots are verified with: the header's for fixed keys (once it matched
    /// the manifest), the `setup-keys` entry's for a ceremony.
    pvk: Option<Arc<PreparedVerifyingKey>>,
    /// The setup ceremony of a ceremony election (PROTOCOL 14.10).
    ceremony: Option<Ceremony>,
    nullifiers: HashMap<[u8; 32], NullifierInfo>,
    election_entries: u64,

    manifest: Option<(Arc<Manifest>, DkgContext)>,
    dealers: BTreeMap<u32, DealerMessage>,
    complaints: Vec<Complaint>,
    registration: Option<Registration>,
    registrations: u64,
    frozen: Option<CensusRoot>,
    opened: Option<(u64, u64)>,
    keys: Option<Keys>,
    closed: Option<(u64, u64)>,

    /// Ballots waiting for their chunk to fill up.
    pending: Chunk,
    /// Full chunks, in log order, whose verification waits for the next batch of lines:
    /// it runs beside that batch's decoding and checks (see [`State::entries`]).
    ready: Vec<Chunk>,
    /// Per re-voting nullifier, the identities of its ballots so far and their indices.
    revotes: HashMap<[u8; 32], Vec<([u8; 32], u64)>>,
    /// First 16 bytes of each option ciphertext's fingerprint → ordinal of the nullifier
    /// that cast it first.
    fingerprints: HashMap<[u8; 16], u32>,
    aggregate: Option<Aggregate>,
    ballots_cast: u64,
    ballots_counted: u64,

    shares: BTreeMap<u32, TrusteeShares>,
    tally: Option<Tally>,
    kinds: BTreeMap<&'static str, u64>,
    signatures: u64,
}

impl<'a> State<'a> {
    fn new(header: &'a Header, scan: Scan, options: &'a Options) -> Self {
        Self {
            header,
            options,
            pvk: None,
            ceremony: None,
            nullifiers: scan.nullifiers,
            election_entries: scan.election_entries,
            manifest: None,
            dealers: BTreeMap::new(),
            complaints: Vec::new(),
            registration: None,
            registrations: 0,
            frozen: None,
            opened: None,
            keys: None,
            closed: None,
            pending: Chunk::default(),
            ready: Vec::new(),
            revotes: HashMap::new(),
            fingerprints: HashMap::new(),
            aggregate: None,
            ballots_cast: 0,
            ballots_counted: 0,
            shares: BTreeMap::new(),
            tally: None,
            kinds: BTreeMap::new(),
            signatures: 0,
        }
    }

    /// Parses and decodes the lines `raws` (log indices from `first`) on all cores, then
    /// checks the election's entries among them in order.
    ///
    /// The chunks of ballots that filled up in the previous batch are verified at the same
    /// time as this batch is decoded and checked (`rayon::join`), so that the serial
    /// stretches of each, above all the rules applied line by line, keep the other's
    /// threads busy. Their verdict takes precedence over anything found in this batch:
    /// they precede it in the log. Only ballots fill chunks, and ballots change nothing a
    /// ballot is verified against (every other entry verifies the ballots before it at
    /// once, see [`State::entry`]), so the deferred chunks are verified against the same
    /// keys, census root and manifest as at their place; the context is taken before this
    /// batch's entries can change it.
    fn entries(&mut self, first: u64, raws: Vec<Vec<u8>>) -> Result<(), Failure> {
        use rayon::prelude::*;
        let ready = std::mem::take(&mut self.ready);
        let context = self.verify_context();
        let (verified, checked) = rayon::join(
            || verify_chunks(context.as_ref(), ready),
            || {
                let parsed: Vec<Result<Parsed, VerifyError>> =
                    raws.par_iter().map(|raw| parse_and_decode(raw)).collect();
                drop(raws);
                self.check_parsed(first, parsed)
            },
        );
        verified?;
        checked
    }

    /// Applies the rules to the parsed lines of one batch (log indices from `first`), in
    /// order.
    fn check_parsed(
        &mut self,
        first: u64,
        parsed: Vec<Result<Parsed, VerifyError>>,
    ) -> Result<(), Failure> {
        for (index, line) in (first..).zip(parsed) {
            match line {
                Err(e) => {
                    // The ballots pending before the bad line are verified first.
                    self.flush()?;
                    return Err(Failure::at(index, None, e));
                }
                Ok(Parsed::Other) => {}
                Ok(Parsed::Full(full, decoded)) => {
                    self.entry(index, &full.kind, &full.bytes, *decoded)?;
                }
            }
        }
        Ok(())
    }

    /// Checks one entry of the election at log index `index`, decoded ahead.
    fn entry(
        &mut self,
        index: u64,
        line_kind: &str,
        bytes: &[u8],
        decoded: Decoded,
    ) -> Result<(), Failure> {
        // Every failure below is reported only after the ballots pending before it are
        // verified, so the failure named is always the first in log order.
        if crate::export::raw_kind(bytes) != Some(EntryKind::Ballot as u8) {
            self.flush()?;
        }
        match self.entry_inner(index, line_kind, bytes, decoded) {
            Ok(()) if self.pending.ballots.len() >= self.options.chunk.max(1) => {
                self.defer_pending();
                Ok(())
            }
            Ok(()) => Ok(()),
            Err((kind, error)) => {
                self.flush()?;
                Err(Failure::at(index, kind, error))
            }
        }
    }

    fn entry_inner(
        &mut self,
        index: u64,
        line_kind: &str,
        bytes: &[u8],
        decoded: Decoded,
    ) -> Result<(), (Option<&'static str>, VerifyError)> {
        // PROTOCOL 13.3 check 10: canonical decoding (done ahead, `decode_entry`).
        let entry = decoded?;
        let kind = entry.kind();
        let name = kind.name();
        let fail = |e: VerifyError| (Some(name), e);
        if line_kind != name {
            return Err(fail(VerifyError::KindMismatch {
                line: line_kind.to_owned(),
                entry: name,
            }));
        }
        if entry.election_id().to_bytes() != self.header.election_id {
            return Err(fail(VerifyError::WrongElection {
                expected: hex::encode(self.header.election_id),
                found: hex::encode(entry.election_id().to_bytes()),
            }));
        }
        *self.kinds.entry(name).or_default() += 1;

        // check 11: the manifest comes first.
        let Some((manifest, _)) = &self.manifest else {
            return self.manifest_entry(&entry).map_err(fail);
        };
        if self.tally.is_some() {
            return Err(fail(VerifyError::EntryAfterTally));
        }
        if kind == EntryKind::Manifest {
            return Err(fail(VerifyError::DuplicateManifest));
        }
        // check 14: the signature rule (PROTOCOL 9.5).
        entry
            .verify_signature(manifest)
            .map_err(|e| fail(VerifyError::BadSignature(e)))?;
        if kind.is_signed() {
            self.signatures += 1;
        }
        // PROTOCOL 14.10 rule 5: the board appends setup-keys in the transaction of the
        // phase-2 beacon, so it is the election's next entry.
        if let Some(beacon) = self.ceremony.as_ref().and_then(Ceremony::awaiting_keys) {
            if kind != EntryKind::SetupKeys {
                return Err(fail(VerifyError::SetupKeysNotNext { beacon }));
            }
        }
        match entry.payload() {
            Payload::Manifest(_) => Err(VerifyError::DuplicateManifest),
            Payload::Dealer(d) => self.dealer(d),
            Payload::Complaint(c) => self.complaint(c),
            Payload::RegistrationCodes(hashes) => self.codes(hashes),
            Payload::Registration { code, commitment } => self.register(index, code, commitment),
            Payload::CensusFrozen { root, size } => self.freeze(root, *size),
            Payload::Open { at } => self.open(index, *at),
            Payload::Close { at } => self.close(index, *at),
            Payload::Ballot(b) => self.ballot(index, b, bytes),
            Payload::DecryptionShares(s) => self.decryption_shares(s),
            Payload::Tally(t) => self.tally(t),
            Payload::SetupPhase1(c) | Payload::SetupPhase2(c) => {
                self.setup_contribution(index, kind, c)
            }
            Payload::SetupKeys(k) => self.setup_keys(index, k),
        }
        .map_err(fail)
    }

    /// Checks 11–13: the election's first entry is its manifest, signed by its own
    /// authority key, naming the board's key and, with fixed keys, the header's
    /// verifying key; with a ceremony, the ceremony starts (PROTOCOL 14.10).
    fn manifest_entry(&mut self, entry: &BoardEntry) -> Result<(), VerifyError> {
        let Payload::Manifest(m) = entry.payload() else {
            return Err(VerifyError::ManifestNotFirst {
                kind: entry.kind().name(),
            });
        };
        m.validate()
            .map_err(|e| VerifyError::InvalidManifest(e.to_string()))?;
        entry
            .verify_signature(m)
            .map_err(VerifyError::BadSignature)?;
        self.signatures += 1;
        if m.board_key.to_bytes() != self.header.board_key {
            return Err(VerifyError::BoardKeyMismatch);
        }
        match &m.setup {
            Setup::Keys {
                verifying_key_hash, ..
            } => {
                if self.options.require_ceremony {
                    return Err(VerifyError::CeremonyRequired);
                }
                let header = self
                    .header
                    .verifying_key
                    .as_ref()
                    .ok_or(VerifyError::MissingVerifyingKey)?;
                if *verifying_key_hash != header.hash {
                    return Err(VerifyError::VerifyingKeyMismatch {
                        expected: hex::encode(verifying_key_hash),
                        actual: hex::encode(header.hash),
                    });
                }
                self.pvk = Some(Arc::new(header.key.prepare()));
            }
            // The key is checked against the ceremony's setup-keys entry (PROTOCOL 14.10).
            Setup::Ceremony { .. } => self.ceremony = Some(Ceremony::new(m)?),
        }
        let ctx = DkgContext::from_manifest(m)
            .map_err(|e| VerifyError::InvalidManifest(e.to_string()))?;
        let capacity = CensusTree::new(m.census_depth)
            .map_err(|e| VerifyError::InvalidManifest(e.to_string()))?
            .capacity();
        self.registration = Some(Registration {
            codes: HashMap::new(),
            commitments: HashSet::new(),
            leaves: Vec::new(),
            capacity,
        });
        self.manifest = Some((Arc::new(m.clone()), ctx));
        Ok(())
    }

    fn manifest(&self) -> Result<&(Arc<Manifest>, DkgContext), VerifyError> {
        self.manifest
            .as_ref()
            .ok_or(VerifyError::ManifestNotFirst { kind: "?" })
    }

    /// Check 15: dealer messages (PROTOCOL 7.4), before voting opens, one per trustee.
    fn dealer(&mut self, d: &DealerMessage) -> Result<(), VerifyError> {
        if self.opened.is_some() {
            return Err(VerifyError::WrongPhase(
                "dealer message after voting opened".into(),
            ));
        }
        if self.dealers.contains_key(&d.dealer()) {
            return Err(VerifyError::DuplicateEntry(format!(
                "second dealer message of trustee {}",
                d.dealer()
            )));
        }
        let (_, ctx) = self.manifest()?;
        d.verify(ctx).map_err(VerifyError::InvalidDealerMessage)?;
        self.dealers.insert(d.dealer(), d.clone());
        Ok(())
    }

    /// Check 16: complaints (PROTOCOL 7.5) against a posted dealer message, before voting
    /// opens, one per pair; a false complaint is an error (the board must refuse it).
    fn complaint(&mut self, c: &Complaint) -> Result<(), VerifyError> {
        if self.opened.is_some() {
            return Err(VerifyError::WrongPhase(
                "complaint after voting opened".into(),
            ));
        }
        if self
            .complaints
            .iter()
            .any(|k| k.complainer() == c.complainer() && k.accused() == c.accused())
        {
            return Err(VerifyError::DuplicateEntry(format!(
                "second complaint of trustee {} about trustee {}",
                c.complainer(),
                c.accused()
            )));
        }
        let invalid = VerifyError::InvalidComplaint(VerificationError::InvalidComplaint {
            complainer: c.complainer(),
            accused: c.accused(),
        });
        let accused = self.dealers.get(&c.accused()).ok_or(invalid)?;
        let (_, ctx) = self.manifest()?;
        c.verify(ctx, accused)
            .map_err(VerifyError::InvalidComplaint)?;
        self.complaints.push(*c);
        Ok(())
    }

    fn registration(&mut self) -> Result<&mut Registration, VerifyError> {
        self.registration
            .as_mut()
            .ok_or_else(|| VerifyError::WrongPhase("the census is frozen".into()))
    }

    /// Check 17: registration-code hashes, before the freeze, each posted once.
    fn codes(&mut self, hashes: &[[u8; 32]]) -> Result<(), VerifyError> {
        let reg = self.registration()?;
        for h in hashes {
            if reg.codes.insert(*h, None).is_some() {
                return Err(VerifyError::DuplicateCodeHash);
            }
        }
        Ok(())
    }

    /// Check 18: a registration spends a posted, unspent code (PROTOCOL 9.4) and adds a
    /// new commitment as the next census leaf.
    fn register(
        &mut self,
        index: u64,
        code: &[u8; 16],
        commitment: &urna_circuits::IdentityCommitment,
    ) -> Result<(), VerifyError> {
        let election_id = self.manifest()?.0.election_id;
        let depth = self.manifest()?.0.census_depth;
        let hash = RegistrationCode::from_bytes(*code).hash(&election_id);
        let reg = self.registration()?;
        match reg.codes.get_mut(&hash) {
            None => return Err(VerifyError::UnknownRegistrationCode),
            Some(Some(first)) => return Err(VerifyError::RegistrationCodeReused { first: *first }),
            Some(spent) => *spent = Some(index),
        }
        if !reg.commitments.insert(commitment.to_bytes()) {
            return Err(VerifyError::DuplicateCommitment);
        }
        if reg.leaves.len() as u64 >= reg.capacity {
            return Err(VerifyError::CensusFull { depth });
        }
        reg.leaves.push(*commitment);
        self.registrations += 1;
        Ok(())
    }

    /// PROTOCOL 14.10 rules 1–4 for a setup contribution: before the freeze, then the
    /// ceremony's order, beacon and verification rules.
    fn setup_contribution(
        &mut self,
        index: u64,
        kind: EntryKind,
        c: &SetupContribution,
    ) -> Result<(), VerifyError> {
        if self.frozen.is_some() {
            return Err(VerifyError::SetupAfterFreeze);
        }
        match (&mut self.ceremony, &self.manifest) {
            (Some(ceremony), Some((manifest, _))) => {
                ceremony.contribution(index, kind, c, manifest)
            }
            // Unreachable: check 14 refuses a contributor a fixed-keys manifest does not
            // name (`UnknownContributor`), and it names none.
            _ => Err(VerifyError::SetupWithoutCeremony),
        }
    }

    /// PROTOCOL 14.10 rule 5: the board's `setup-keys` entry of a ceremony election,
    /// before the freeze, directly after the phase-2 beacon, equal to the derived keys.
    fn setup_keys(&mut self, index: u64, k: &SetupKeys) -> Result<(), VerifyError> {
        let Some(ceremony) = self.ceremony.as_mut() else {
            return Err(VerifyError::SetupWithoutCeremony);
        };
        if self.frozen.is_some() {
            return Err(VerifyError::SetupAfterFreeze);
        }
        let pvk = ceremony.keys(index, k, self.header.verifying_key.as_ref())?;
        self.pvk = Some(Arc::new(pvk));
        Ok(())
    }

    /// Check 19: the frozen census is the tree of the registrations in board order;
    /// with a ceremony, its keys are fixed first (PROTOCOL 12.1 rule 6, 14.10).
    fn freeze(&mut self, root: &CensusRoot, size: u64) -> Result<(), VerifyError> {
        if self.registration.is_none() {
            return Err(VerifyError::WrongPhase(
                "the census is already frozen".into(),
            ));
        }
        if self.ceremony.as_ref().is_some_and(|c| !c.is_closed()) {
            return Err(VerifyError::SetupKeysMissing);
        }
        let reg = self
            .registration
            .take()
            .ok_or_else(|| VerifyError::WrongPhase("the census is already frozen".into()))?;
        if size != self.registrations {
            return Err(VerifyError::CensusSizeMismatch {
                entry: size,
                registrations: self.registrations,
            });
        }
        let depth = self.manifest()?.0.census_depth;
        let computed = CensusTree::from_leaves(depth, &reg.leaves)
            .map_err(|e| VerifyError::InvalidManifest(e.to_string()))?
            .root();
        if computed != *root {
            return Err(VerifyError::CensusRootMismatch {
                entry: hex::encode(root.to_bytes()),
                computed: hex::encode(computed.to_bytes()),
            });
        }
        self.frozen = Some(*root);
        Ok(())
    }

    /// Check 20: voting opens once, after the freeze, at a time the board could accept;
    /// the key ceremony over the posted messages and complaints yields the election key.
    fn open(&mut self, index: u64, at: u64) -> Result<(), VerifyError> {
        if self.frozen.is_none() || self.opened.is_some() {
            return Err(VerifyError::WrongPhase(
                "voting opens once, after the census froze".into(),
            ));
        }
        let (m, ctx) = self.manifest()?;
        // PROTOCOL 12.1 item 7: opens_at <= now < closes_at and |at - now| <= 300.
        if at.saturating_add(MAX_CLOCK_SKEW) < m.opens_at
            || at >= m.closes_at.saturating_add(MAX_CLOCK_SKEW)
        {
            return Err(VerifyError::OpenOutsideWindow {
                at,
                opens_at: m.opens_at,
                closes_at: m.closes_at,
                skew: MAX_CLOCK_SKEW,
            });
        }
        let messages: Vec<DealerMessage> = self.dealers.values().cloned().collect();
        let outcome =
            DkgOutcome::new(ctx, &messages, &self.complaints).map_err(VerifyError::KeyCeremony)?;
        let options: Vec<usize> = m.contests.iter().map(|c| c.options.len()).collect();
        self.keys = Some(Keys {
            public_key: outcome.election_public_key(),
            tally: TallyContext::from_dkg(ctx, &outcome),
        });
        self.aggregate = Some(Aggregate::new(&options));
        self.opened = Some((at, index));
        Ok(())
    }

    /// Check 21: voting closes once, after it opened, not at an earlier time.
    fn close(&mut self, index: u64, at: u64) -> Result<(), VerifyError> {
        let Some((open_at, _)) = self.opened else {
            return Err(VerifyError::WrongPhase("close before open".into()));
        };
        if self.closed.is_some() {
            return Err(VerifyError::WrongPhase("voting already closed".into()));
        }
        if at < open_at {
            return Err(VerifyError::CloseBeforeOpen {
                open: open_at,
                close: at,
            });
        }
        self.closed = Some((at, index));
        Ok(())
    }

    /// Checks 22–25 for one ballot: the voting window, the frozen root, the replay and
    /// copied-ciphertext rules, then (in chunks) its proofs; the last ballot per
    /// nullifier is added to the aggregate.
    fn ballot(&mut self, index: u64, b: &Ballot, bytes: &[u8]) -> Result<(), VerifyError> {
        if self.opened.is_none() {
            return Err(VerifyError::BallotBeforeOpen);
        }
        if let Some((_, close)) = self.closed {
            return Err(VerifyError::BallotAfterClose { close });
        }
        let frozen = self.frozen.ok_or(VerifyError::BallotBeforeOpen)?;
        if b.census_root != frozen {
            return Err(VerifyError::WrongCensusRoot);
        }
        let nullifier = b.nullifier.to_bytes();
        let (_, identity) = ballot_key(bytes).ok_or(VerifyError::EntryDecode(
            urna_protocol::DecodeError::InvalidValue {
                what: "ballot entry",
                reason: "too short",
            },
        ))?;
        let info = *self.nullifiers.get(&nullifier).ok_or_else(|| {
            VerifyError::MalformedLine("ballot not seen by the first pass".into())
        })?;
        // PROTOCOL 12.2: a replay (same nullifier and digest) is never appended.
        if info.ballots > 1 {
            let seen = self.revotes.entry(nullifier).or_default();
            if let Some(&(_, original)) = seen.iter().find(|(id, _)| *id == identity) {
                return Err(VerifyError::ReplayedBallot { original });
            }
            seen.push((identity, index));
        }
        // PROTOCOL 12.2: a ciphertext first cast under another nullifier.
        for fp in b.ciphertext_fingerprints() {
            let mut short = [0u8; 16];
            short.copy_from_slice(&fp[..16]);
            let owner = *self.fingerprints.entry(short).or_insert(info.ordinal);
            if owner != info.ordinal {
                return Err(VerifyError::CiphertextReused);
            }
        }
        self.ballots_cast += 1;
        // PROTOCOL 12.2: the ballot with the highest index counts.
        if info.last == index {
            let aggregate = self
                .aggregate
                .as_mut()
                .ok_or(VerifyError::BallotBeforeOpen)?;
            aggregate
                .add_ballot(b.contests.iter().map(|c| c.ciphertexts()))
                .map_err(VerifyError::InvalidBallot)?;
            self.ballots_counted += 1;
        }
        self.pending.ballots.push(b.clone());
        self.pending.indices.push(index);
        Ok(())
    }

    /// Moves the pending ballots, if any, to the chunks waiting for verification.
    fn defer_pending(&mut self) {
        if !self.pending.ballots.is_empty() {
            self.ready.push(std::mem::take(&mut self.pending));
        }
    }

    /// What ballots are verified against, once the election is open.
    fn verify_context(&self) -> Option<VerifyContext> {
        let (Some((manifest, _)), Some(keys), Some(root), Some(pvk)) =
            (&self.manifest, &self.keys, &self.frozen, &self.pvk)
        else {
            return None;
        };
        Some(VerifyContext {
            manifest: Arc::clone(manifest),
            public_key: keys.public_key,
            root: *root,
            pvk: Arc::clone(pvk),
        })
    }

    /// Verifies every ballot not verified yet, now, in log order: the deferred chunks,
    /// then the pending ballots.
    fn flush(&mut self) -> Result<(), Failure> {
        self.defer_pending();
        let ready = std::mem::take(&mut self.ready);
        verify_chunks(self.verify_context().as_ref(), ready)
    }

    /// Check 26: decryption shares after close, one set per trustee, each proof valid
    /// against the recomputed aggregate and the trustee's share key.
    fn decryption_shares(&mut self, s: &TrusteeShares) -> Result<(), VerifyError> {
        if self.closed.is_none() {
            return Err(VerifyError::WrongPhase(
                "decryption shares before voting closed".into(),
            ));
        }
        if self.shares.contains_key(&s.trustee()) {
            return Err(VerifyError::DuplicateEntry(format!(
                "second decryption shares of trustee {}",
                s.trustee()
            )));
        }
        let (Some(keys), Some(aggregate)) = (&self.keys, &self.aggregate) else {
            return Err(VerifyError::WrongPhase("no key ceremony".into()));
        };
        s.verify(&keys.tally, aggregate)
            .map_err(VerifyError::InvalidDecryptionShares)?;
        self.shares.insert(s.trustee(), s.clone());
        Ok(())
    }

    /// Checks 27–28: the tally's aggregate is the recomputed one, and its result is the
    /// decryption by the posted shares (PROTOCOL 8.6).
    fn tally(&mut self, t: &Tally) -> Result<(), VerifyError> {
        if self.closed.is_none() {
            return Err(VerifyError::WrongPhase("tally before voting closed".into()));
        }
        let (Some(keys), Some(aggregate)) = (&self.keys, &self.aggregate) else {
            return Err(VerifyError::WrongPhase("no key ceremony".into()));
        };
        let shares: Vec<TrusteeShares> = self.shares.values().cloned().collect();
        verify_tally(&keys.tally, aggregate, &shares, t).map_err(|e| match e {
            VerificationError::AggregateMismatch => VerifyError::AggregateMismatch,
            VerificationError::TallyMismatch { reason } => VerifyError::TallyMismatch(reason),
            other => VerifyError::InvalidTally(other),
        })?;
        self.tally = Some(t.clone());
        Ok(())
    }

    fn finish(mut self) -> Result<Report, Failure> {
        self.flush()?;
        let Some((manifest, _)) = &self.manifest else {
            return Err(Failure::global(VerifyError::NoManifest));
        };
        // PROTOCOL 14.10 rule 5: the export cannot end between the phase-2 beacon and
        // the setup-keys entry the board appends with it.
        if let Some(beacon) = self.ceremony.as_ref().and_then(Ceremony::awaiting_keys) {
            return Err(Failure::at(
                beacon,
                Some(EntryKind::SetupPhase2.name()),
                VerifyError::SetupKeysNotNext { beacon },
            ));
        }
        // PROTOCOL 13.1: a ceremony election's header carries no key before the
        // ceremony fixed one (once it did, the key was compared at setup-keys).
        if self.header.verifying_key.is_some()
            && self.ceremony.as_ref().is_some_and(|c| !c.is_closed())
        {
            return Err(Failure::global(VerifyError::UnexpectedVerifyingKey));
        }
        let setup = match (&manifest.setup, &self.ceremony) {
            (
                Setup::Keys {
                    verifying_key_hash,
                    proving_key_hash,
                },
                _,
            ) => SetupReport::FixedKeys {
                verifying_key_hash: hex::encode(verifying_key_hash),
                proving_key_hash: hex::encode(proving_key_hash),
                caveat: FIXED_KEYS_CAVEAT.to_owned(),
            },
            (Setup::Ceremony { .. }, Some(ceremony)) => SetupReport::Ceremony(ceremony.report()),
            // Unreachable: the manifest entry starts the ceremony.
            (Setup::Ceremony { .. }, None) => SetupReport::Ceremony(CeremonyReport {
                stage: "phase1".into(),
                contributions: Vec::new(),
                keys_entry: None,
                transcript_hash: None,
                verifying_key_hash: None,
                proving_key_hash: None,
            }),
        };
        let phase = if self.tally.is_some() {
            Phase::Tallied
        } else if self.closed.is_some() {
            Phase::Closed
        } else if self.opened.is_some() {
            Phase::Open
        } else if self.frozen.is_some() {
            Phase::Frozen
        } else {
            Phase::Setup
        };
        let results = self.tally.as_ref().map(|t| {
            manifest
                .contests
                .iter()
                .zip(t.result.counts())
                .map(|(c, counts)| ContestResult {
                    title: c.title.clone(),
                    options: c
                        .options
                        .iter()
                        .cloned()
                        .zip(counts.iter().copied())
                        .collect(),
                })
                .collect()
        });
        Ok(Report {
            election_id: hex::encode(self.header.election_id),
            title: manifest.title.clone(),
            origin: self.header.origin.clone(),
            tree_size: self.header.checkpoint.size(),
            root: self.header.checkpoint.root().to_string(),
            election_entries: self.election_entries,
            entries_by_kind: self
                .kinds
                .iter()
                .map(|(k, n)| ((*k).to_owned(), *n))
                .collect(),
            phase,
            setup,
            signatures: self.signatures,
            dealers: self.dealers.keys().copied().collect(),
            complaints: self.complaints.len() as u64,
            registrations: self.registrations,
            ballots_cast: self.ballots_cast,
            ballots_superseded: self.ballots_cast - self.ballots_counted,
            ballots_counted: self.ballots_counted,
            trustees_with_shares: self.shares.keys().copied().collect(),
            results,
            checks: Vec::new(),
            seconds: 0.0,
        })
    }
}
