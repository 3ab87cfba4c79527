//! A ceremony run one contribution at a time, as a bulletin board runs it
//! (PROTOCOL 14.10).
//!
//! [`Transcript`](crate::Transcript) holds every contribution in memory, which suits a
//! file; a board receives contributions one by one, each as a log entry, and must keep
//! only what the next check needs. [`CeremonyState`] is that: the current parameters of
//! each phase, the hash chain, and counts. The board server and `urna-verify` both feed
//! it the contributions' bytes in log order, so they accept exactly the same ceremonies.
//!
//! [`ContributionState`] is what a contributor downloads from the board to contribute:
//! the ceremony's identity, the binding hash and the parameters the next contribution
//! updates (phase 1: every power; phase 2: only `delta` and the L and H queries).

use alloc::vec::Vec;

use rand_core::CryptoRngCore;
use urna_circuits::{ProvingKey, VerifyingKey};

use crate::beacon::Beacon;
use crate::codec::{Reader, Writer};
use crate::error::{CeremonyError, Phase};
use crate::phase1::{self, Phase1Contribution, Phase1Params};
use crate::phase2::{self, Phase2Contribution, Phase2Params, Phase2State};
use crate::qap::domain_size;
use crate::transcript::{
    phase1_contribution_hash_of_bytes, phase1_start, phase2_contribution_hash_of_bytes,
    phase2_start, MAX_CONTRIBUTIONS,
};

/// Where a ceremony stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Phase 1 takes contributions (and, after at least one, its beacon).
    Phase1,
    /// Phase 1 is closed; phase 2 takes contributions (and then its beacon).
    Phase2,
    /// Both phases are closed: the keys are fixed.
    Closed,
}

impl Stage {
    /// `"phase1"`, `"phase2"` or `"closed"`.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Phase1 => "phase1",
            Stage::Phase2 => "phase2",
            Stage::Closed => "closed",
        }
    }
}

/// What a contribution did, once accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The transcript hash after the contribution: what its contributor publishes.
    pub hash: [u8; 32],
    /// Whether it was the phase's closing beacon contribution.
    pub beacon: bool,
}

/// `log2` of the phase-1 size a ceremony for census `depth` uses: the eligibility
/// circuit's QAP domain (PROTOCOL 14.2).
pub fn log_n_for_depth(depth: u32) -> Result<u8, CeremonyError> {
    let m = domain_size(depth)?;
    // A power of two at most 2^17 (the circuit at depth 32 needs 2^14).
    Ok(m.trailing_zeros() as u8)
}

/// The ceremony's hash chain and order rules without its parameters (PROTOCOL 14.7,
/// 14.10): what a board keeps per election to know where the ceremony stands, at the cost
/// of one SHA-256 pass over each contribution. [`CeremonyState`] adds the parameters and
/// the verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    context: [u8; 32],
    depth: u32,
    log_n: u8,
    h1: [u8; 32],
    phase1: Counts,
    h2: [u8; 32],
    phase2: Counts,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    all: usize,
    random: usize,
    closed: bool,
}

impl Counts {
    /// The order rules of a contribution whose kind byte says `beacon`.
    fn check(&self, phase: Phase, beacon: bool) -> Result<(), CeremonyError> {
        if self.closed {
            return Err(CeremonyError::AfterBeacon {
                phase,
                index: self.all,
            });
        }
        check_count(
            self.all,
            match phase {
                Phase::One => "phase-1 contributions",
                Phase::Two => "phase-2 contributions",
            },
        )?;
        if beacon && self.random == 0 {
            return Err(CeremonyError::OnlyBeacon { phase });
        }
        Ok(())
    }

    fn record(&mut self, beacon: bool) {
        self.all += 1;
        if beacon {
            self.closed = true;
        } else {
            self.random += 1;
        }
    }
}

/// Whether the contribution encoded in `bytes` is a beacon contribution: its first byte,
/// the kind (PROTOCOL 14.7: `0x00` random, `0x01` beacon).
fn kind_is_beacon(bytes: &[u8], what: &'static str) -> Result<bool, CeremonyError> {
    match bytes.first() {
        Some(0) => Ok(false),
        Some(1) => Ok(true),
        _ => Err(CeremonyError::InvalidEncoding { what }),
    }
}

impl Chain {
    /// The chain of a new ceremony for census `depth`, bound to `context`.
    pub fn new(context: [u8; 32], depth: u32) -> Result<Self, CeremonyError> {
        let log_n = log_n_for_depth(depth)?;
        crate::phase1::check_log_n(log_n)?;
        Ok(Self {
            context,
            depth,
            log_n,
            h1: phase1_start(&context, log_n),
            phase1: Counts::default(),
            h2: [0; 32],
            phase2: Counts::default(),
        })
    }

    /// The context the ceremony is bound to.
    pub fn context(&self) -> &[u8; 32] {
        &self.context
    }

    /// The census depth of the circuit.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// `log2` of the phase-1 size.
    pub fn log_n(&self) -> u8 {
        self.log_n
    }

    /// Where the ceremony stands.
    pub fn stage(&self) -> Stage {
        if self.phase2.closed {
            Stage::Closed
        } else if self.phase1.closed {
            Stage::Phase2
        } else {
            Stage::Phase1
        }
    }

    /// Contributions recorded in phase 1 and phase 2 (beacons included).
    pub fn counts(&self) -> (usize, usize) {
        (self.phase1.all, self.phase2.all)
    }

    /// The current transcript hash: what the next contribution is bound to, and, once
    /// closed, the ceremony's final hash.
    pub fn hash(&self) -> [u8; 32] {
        if self.phase1.closed {
            self.h2
        } else {
            self.h1
        }
    }

    /// The phase-1 hash: the current one while phase 1 is open, its final one after.
    pub fn phase1_hash(&self) -> [u8; 32] {
        self.h1
    }

    /// Checks the order rules (PROTOCOL 14.10 rules 2 and 3, without the signer) for a
    /// phase-1 contribution encoded in `bytes`; returns whether it is a beacon.
    pub fn check_phase1(&self, bytes: &[u8]) -> Result<bool, CeremonyError> {
        let beacon = kind_is_beacon(bytes, "phase-1 contribution kind")?;
        self.phase1.check(Phase::One, beacon)?;
        Ok(beacon)
    }

    /// Checks the order rules for a phase-2 contribution (see [`Chain::check_phase1`]).
    pub fn check_phase2(&self, bytes: &[u8]) -> Result<bool, CeremonyError> {
        let beacon = kind_is_beacon(bytes, "phase-2 contribution kind")?;
        if !self.phase1.closed {
            return Err(CeremonyError::NotClosed { phase: Phase::One });
        }
        self.phase2.check(Phase::Two, beacon)?;
        Ok(beacon)
    }

    /// Records a phase-1 contribution that was verified (or is trusted) after
    /// [`Chain::check_phase1`]: advances the hash and the counts.
    pub fn record_phase1(&mut self, bytes: &[u8]) -> Result<Accepted, CeremonyError> {
        let beacon = self.check_phase1(bytes)?;
        self.h1 = phase1_contribution_hash_of_bytes(&self.h1, bytes);
        self.phase1.record(beacon);
        if beacon {
            self.h2 = phase2_start(&self.h1, self.depth);
        }
        Ok(Accepted {
            hash: self.h1,
            beacon,
        })
    }

    /// Records a phase-2 contribution (see [`Chain::record_phase1`]).
    pub fn record_phase2(&mut self, bytes: &[u8]) -> Result<Accepted, CeremonyError> {
        let beacon = self.check_phase2(bytes)?;
        self.h2 = phase2_contribution_hash_of_bytes(&self.h2, bytes);
        self.phase2.record(beacon);
        Ok(Accepted {
            hash: self.h2,
            beacon,
        })
    }
}

/// The state of a ceremony fed contribution by contribution (PROTOCOL 14.10): the
/// [`Chain`] and the current parameters of each phase.
#[derive(Clone)]
pub struct CeremonyState {
    chain: Chain,
    phase1: Phase1Params,
    /// The phase-2 parameters: derived from the closed phase 1 by
    /// [`CeremonyState::derive_phase2`], then updated by each contribution.
    phase2: Option<Phase2Params>,
}

impl core::fmt::Debug for CeremonyState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CeremonyState")
            .field("chain", &self.chain)
            .field("phase2_derived", &self.phase2.is_some())
            .finish()
    }
}

impl CeremonyState {
    /// A new ceremony for census `depth`, bound to `context` (the election id on a
    /// board), with phase 1 sized to the circuit's QAP domain.
    pub fn new(context: [u8; 32], depth: u32) -> Result<Self, CeremonyError> {
        let chain = Chain::new(context, depth)?;
        let phase1 = Phase1Params::initial(chain.log_n())?;
        Ok(Self {
            chain,
            phase1,
            phase2: None,
        })
    }

    /// The hash chain and counts.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// The context the ceremony is bound to.
    pub fn context(&self) -> &[u8; 32] {
        self.chain.context()
    }

    /// The census depth of the circuit.
    pub fn depth(&self) -> u32 {
        self.chain.depth()
    }

    /// `log2` of the phase-1 size.
    pub fn log_n(&self) -> u8 {
        self.chain.log_n()
    }

    /// Where the ceremony stands.
    pub fn stage(&self) -> Stage {
        self.chain.stage()
    }

    /// Contributions accepted in phase 1 and phase 2 (beacons included).
    pub fn counts(&self) -> (usize, usize) {
        self.chain.counts()
    }

    /// The current transcript hash (see [`Chain::hash`]).
    pub fn hash(&self) -> [u8; 32] {
        self.chain.hash()
    }

    /// The current phase-1 parameters.
    pub fn phase1_params(&self) -> &Phase1Params {
        &self.phase1
    }

    /// Whether phase 2 needs [`CeremonyState::derive_phase2`] before it can take a
    /// contribution or give its state.
    pub fn needs_phase2_derivation(&self) -> bool {
        self.stage() != Stage::Phase1 && self.phase2.is_none()
    }

    /// Verifies a phase-1 contribution (its canonical bytes, PROTOCOL 14.7) against the
    /// current state (14.3, 14.6) and applies it. A beacon contribution closes the phase
    /// and is refused before any contribution with a secret (`OnlyBeacon`).
    pub fn add_phase1(
        &mut self,
        bytes: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<Accepted, CeremonyError> {
        self.chain.check_phase1(bytes)?;
        let index = self.chain.counts().0;
        let c = Phase1Contribution::from_bytes(bytes, self.chain.log_n())?;
        phase1::verify_contribution(&self.phase1, &c, &self.chain.hash(), index, rng)?;
        let accepted = self.chain.record_phase1(bytes)?;
        self.phase1 = c.params;
        Ok(accepted)
    }

    /// Computes the initial phase-2 parameters from the closed phase 1 (PROTOCOL 14.4).
    /// The expensive step of a ceremony (group FFTs); does nothing if already done.
    ///
    /// The result is a function of the closed phase 1, which the phase-1 hash chain
    /// commits to (every contribution's bytes, hence the final parameters, and the
    /// context), and of the depth; the process keeps the last derivation under that key,
    /// so a verifier or board that derives the same ceremony again (after a rebuild, or
    /// for several boards of one election) pays once.
    pub fn derive_phase2(&mut self) -> Result<(), CeremonyError> {
        if self.stage() == Stage::Phase1 {
            return Err(CeremonyError::NotClosed { phase: Phase::One });
        }
        if self.phase2.is_none() {
            // The phase-1 hash is fixed once phase 1 closed: phase 2 starts from it.
            let key = (self.chain.phase1_hash(), self.chain.depth());
            self.phase2 = Some(derived_phase2(key, &self.phase1)?);
        }
        Ok(())
    }

    /// Verifies a phase-2 contribution against the current state (PROTOCOL 14.5, 14.6)
    /// and applies it; derives the initial phase-2 parameters first if needed.
    pub fn add_phase2(
        &mut self,
        bytes: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<Accepted, CeremonyError> {
        self.chain.check_phase2(bytes)?;
        let index = self.chain.counts().1;
        let c = Phase2Contribution::from_bytes(bytes)?;
        self.derive_phase2()?;
        let binding = self.chain.hash();
        let params = self
            .phase2
            .as_mut()
            .ok_or(CeremonyError::NotClosed { phase: Phase::One })?;
        phase2::verify_contribution(params, &c, &binding, index, rng)?;
        params.apply(&c);
        self.chain.record_phase2(bytes)
    }

    /// The keys of the closed ceremony (PROTOCOL 14.8), checked by the circuits crate.
    pub fn keys(&self) -> Result<(ProvingKey, VerifyingKey), CeremonyError> {
        if self.stage() != Stage::Closed {
            return Err(CeremonyError::NotClosed { phase: Phase::Two });
        }
        self.phase2
            .clone()
            .ok_or(CeremonyError::NotClosed { phase: Phase::Two })?
            .into_keys()
    }

    /// What the next contributor needs ([`ContributionState`]). In phase 2 the initial
    /// parameters must have been derived; `None` once the ceremony is closed.
    pub fn contribution_state(&self) -> Result<Option<ContributionState>, CeremonyError> {
        let (params, index) = match self.stage() {
            Stage::Closed => return Ok(None),
            Stage::Phase1 => (
                StateParams::Phase1(self.phase1.clone()),
                self.chain.counts().0,
            ),
            Stage::Phase2 => (
                StateParams::Phase2(
                    self.phase2
                        .as_ref()
                        .ok_or(CeremonyError::NotClosed { phase: Phase::One })?
                        .state(),
                ),
                self.chain.counts().1,
            ),
        };
        Ok(Some(ContributionState {
            context: *self.chain.context(),
            depth: self.chain.depth(),
            binding: self.chain.hash(),
            index,
            params,
        }))
    }
}

/// The last phase-2 derivation of this process, by (final phase-1 hash, depth).
type Derivation = (([u8; 32], u32), Phase2Params);
static LAST_DERIVATION: std::sync::Mutex<Option<Derivation>> = std::sync::Mutex::new(None);

/// [`phase2::initial`] through the one-entry cache [`LAST_DERIVATION`]. The lock is held
/// while deriving, so concurrent derivations of one ceremony compute it once.
fn derived_phase2(
    key: ([u8; 32], u32),
    phase1: &Phase1Params,
) -> Result<Phase2Params, CeremonyError> {
    let mut last = LAST_DERIVATION
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((k, params)) = last.as_ref() {
        if *k == key {
            return Ok(params.clone());
        }
    }
    let params = phase2::initial(phase1, key.1)?;
    *last = Some((key, params.clone()));
    Ok(params)
}

fn check_count(index: usize, what: &'static str) -> Result<(), CeremonyError> {
    if index >= MAX_CONTRIBUTIONS {
        return Err(CeremonyError::TooLarge {
            what,
            max: MAX_CONTRIBUTIONS,
            actual: index + 1,
        });
    }
    Ok(())
}

/// The magic prefix of an encoded [`ContributionState`].
pub const STATE_MAGIC: &[u8; 16] = b"urna-setup-state";

/// The parameters a contribution updates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateParams {
    /// Phase 1: every power.
    Phase1(Phase1Params),
    /// Phase 2: `delta` and the L and H queries.
    Phase2(Phase2State),
}

/// What a contributor downloads to make the next contribution (PROTOCOL 14.10):
///
/// ```text
/// state = "urna-setup-state" ‖ context (32) ‖ u32 depth ‖ u32 index ‖ binding (32) ‖ u8 phase ‖ params
/// params (phase 1) = the phase-1 parameters as in a phase-1 contribution (14.7)
/// params (phase 2) = [δ]_1 ‖ [δ]_2 ‖ u32 #L ‖ L ‖ u32 #H ‖ H
/// ```
///
/// The contributor need not trust it: a contribution made from a wrong state fails the
/// board's checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContributionState {
    /// The ceremony's context (the election id).
    pub context: [u8; 32],
    /// The census depth.
    pub depth: u32,
    /// The next contribution's index in its phase.
    pub index: usize,
    /// The transcript hash the next contribution is bound to.
    pub binding: [u8; 32],
    /// The parameters to update.
    pub params: StateParams,
}

impl ContributionState {
    /// The phase the next contribution belongs to.
    pub fn phase(&self) -> Phase {
        match self.params {
            StateParams::Phase1(_) => Phase::One,
            StateParams::Phase2(_) => Phase::Two,
        }
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.bytes(STATE_MAGIC);
        w.bytes(&self.context);
        w.u32(self.depth);
        // Bounded by MAX_CONTRIBUTIONS.
        w.u32(self.index as u32);
        w.bytes(&self.binding);
        match &self.params {
            StateParams::Phase1(p) => {
                w.u8(1);
                p.encode(&mut w);
            }
            StateParams::Phase2(s) => {
                w.u8(2);
                s.encode(&mut w);
            }
        }
        w.out
    }

    /// Decodes [`ContributionState::to_bytes`], checking every point.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CeremonyError> {
        let mut r = Reader::new(bytes);
        if r.take(STATE_MAGIC.len(), "setup state magic")? != STATE_MAGIC {
            return Err(CeremonyError::InvalidEncoding {
                what: "setup state magic",
            });
        }
        let context = r.array32("setup state context")?;
        let depth = r.u32("setup state depth")?;
        let log_n = log_n_for_depth(depth)?;
        let index = r.u32("setup state index")? as usize;
        check_count(index, "setup state index")?;
        let binding = r.array32("setup state binding")?;
        let params = match r.u8("setup state phase")? {
            1 => StateParams::Phase1(Phase1Params::decode(&mut r, log_n)?),
            2 => StateParams::Phase2(Phase2State::decode(&mut r)?),
            _ => {
                return Err(CeremonyError::InvalidEncoding {
                    what: "setup state phase",
                })
            }
        };
        r.finish("setup state (trailing bytes)")?;
        Ok(Self {
            context,
            depth,
            index,
            binding,
            params,
        })
    }

    /// Makes the next contribution with fresh secrets from `rng` (the OS generator);
    /// the secrets are zeroized before this returns. Returns the contribution's bytes
    /// (to post) and the transcript hash after it (to publish).
    pub fn contribute(
        &self,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(Vec<u8>, [u8; 32]), CeremonyError> {
        match &self.params {
            StateParams::Phase1(p) => {
                let c = phase1::contribute(p, &self.binding, rng);
                let bytes = c.to_bytes();
                let h = phase1_contribution_hash_of_bytes(&self.binding, &bytes);
                Ok((bytes, h))
            }
            StateParams::Phase2(s) => {
                let c = phase2::contribute_state(s, &self.binding, rng)?;
                let bytes = c.to_bytes();
                let h = phase2_contribution_hash_of_bytes(&self.binding, &bytes);
                Ok((bytes, h))
            }
        }
    }

    /// Makes the phase's closing contribution from a public `beacon` (PROTOCOL 14.6).
    pub fn contribute_beacon(&self, beacon: &Beacon) -> Result<(Vec<u8>, [u8; 32]), CeremonyError> {
        match &self.params {
            StateParams::Phase1(p) => {
                let c = phase1::contribute_beacon(p, &self.binding, beacon);
                let bytes = c.to_bytes();
                let h = phase1_contribution_hash_of_bytes(&self.binding, &bytes);
                Ok((bytes, h))
            }
            StateParams::Phase2(s) => {
                let c = phase2::contribute_beacon_state(s, &self.binding, beacon)?;
                let bytes = c.to_bytes();
                let h = phase2_contribution_hash_of_bytes(&self.binding, &bytes);
                Ok((bytes, h))
            }
        }
    }
}
