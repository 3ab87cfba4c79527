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

/// The state of a ceremony fed contribution by contribution (PROTOCOL 14.10).
#[derive(Clone)]
pub struct CeremonyState {
    context: [u8; 32],
    depth: u32,
    log_n: u8,
    phase1: Phase1Params,
    h1: [u8; 32],
    phase1_count: usize,
    phase1_random: usize,
    phase1_closed: bool,
    /// The phase-2 parameters: derived from the closed phase 1 by
    /// [`CeremonyState::derive_phase2`], then updated by each contribution.
    phase2: Option<Phase2Params>,
    h2: [u8; 32],
    phase2_count: usize,
    phase2_random: usize,
    phase2_closed: bool,
}

impl core::fmt::Debug for CeremonyState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CeremonyState")
            .field("depth", &self.depth)
            .field("log_n", &self.log_n)
            .field("stage", &self.stage())
            .field("phase1", &self.phase1_count)
            .field("phase2", &self.phase2_count)
            .finish()
    }
}

impl CeremonyState {
    /// A new ceremony for census `depth`, bound to `context` (the election id on a
    /// board), with phase 1 sized to the circuit's QAP domain.
    pub fn new(context: [u8; 32], depth: u32) -> Result<Self, CeremonyError> {
        let log_n = log_n_for_depth(depth)?;
        let phase1 = Phase1Params::initial(log_n)?;
        Ok(Self {
            context,
            depth,
            log_n,
            phase1,
            h1: phase1_start(&context, log_n),
            phase1_count: 0,
            phase1_random: 0,
            phase1_closed: false,
            phase2: None,
            h2: [0; 32],
            phase2_count: 0,
            phase2_random: 0,
            phase2_closed: false,
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
        if self.phase2_closed {
            Stage::Closed
        } else if self.phase1_closed {
            Stage::Phase2
        } else {
            Stage::Phase1
        }
    }

    /// Contributions accepted in phase 1 and phase 2 (beacons included).
    pub fn counts(&self) -> (usize, usize) {
        (self.phase1_count, self.phase2_count)
    }

    /// The current transcript hash: what the next contribution is bound to, and, once
    /// closed, the ceremony's final hash.
    pub fn hash(&self) -> [u8; 32] {
        if self.phase1_closed {
            self.h2
        } else {
            self.h1
        }
    }

    /// The current phase-1 parameters.
    pub fn phase1_params(&self) -> &Phase1Params {
        &self.phase1
    }

    /// Whether phase 2 needs [`CeremonyState::derive_phase2`] before it can take a
    /// contribution or give its state.
    pub fn needs_phase2_derivation(&self) -> bool {
        self.phase1_closed && self.phase2.is_none()
    }

    /// Verifies a phase-1 contribution (its canonical bytes, PROTOCOL 14.7) against the
    /// current state (14.3, 14.6) and applies it. A beacon contribution closes the phase
    /// and is refused before any contribution with a secret (`OnlyBeacon`).
    pub fn add_phase1(
        &mut self,
        bytes: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<Accepted, CeremonyError> {
        let index = self.phase1_count;
        if self.phase1_closed {
            return Err(CeremonyError::AfterBeacon {
                phase: Phase::One,
                index,
            });
        }
        check_count(index, "phase-1 contributions")?;
        let c = Phase1Contribution::from_bytes(bytes, self.log_n)?;
        let beacon = c.beacon.is_some();
        if beacon && self.phase1_random == 0 {
            return Err(CeremonyError::OnlyBeacon { phase: Phase::One });
        }
        phase1::verify_contribution(&self.phase1, &c, &self.h1, index, rng)?;
        self.apply_phase1(bytes, c);
        Ok(Accepted {
            hash: self.h1,
            beacon,
        })
    }

    fn apply_phase1(&mut self, bytes: &[u8], c: Phase1Contribution) {
        self.h1 = phase1_contribution_hash_of_bytes(&self.h1, bytes);
        self.phase1_count += 1;
        if c.beacon.is_some() {
            self.phase1_closed = true;
            self.h2 = phase2_start(&self.h1, self.depth);
        } else {
            self.phase1_random += 1;
        }
        self.phase1 = c.params;
    }

    /// Computes the initial phase-2 parameters from the closed phase 1 (PROTOCOL 14.4).
    /// The expensive step of a ceremony (group FFTs); does nothing if already done.
    pub fn derive_phase2(&mut self) -> Result<(), CeremonyError> {
        if !self.phase1_closed {
            return Err(CeremonyError::NotClosed { phase: Phase::One });
        }
        if self.phase2.is_none() {
            self.phase2 = Some(phase2::initial(&self.phase1, self.depth)?);
        }
        Ok(())
    }

    fn phase2_mut(&mut self) -> Result<&mut Phase2Params, CeremonyError> {
        self.derive_phase2()?;
        self.phase2
            .as_mut()
            .ok_or(CeremonyError::NotClosed { phase: Phase::One })
    }

    /// Verifies a phase-2 contribution against the current state (PROTOCOL 14.5, 14.6)
    /// and applies it; derives the initial phase-2 parameters first if needed.
    pub fn add_phase2(
        &mut self,
        bytes: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<Accepted, CeremonyError> {
        let index = self.phase2_count;
        if !self.phase1_closed {
            return Err(CeremonyError::NotClosed { phase: Phase::One });
        }
        if self.phase2_closed {
            return Err(CeremonyError::AfterBeacon {
                phase: Phase::Two,
                index,
            });
        }
        check_count(index, "phase-2 contributions")?;
        let c = Phase2Contribution::from_bytes(bytes)?;
        let beacon = c.beacon.is_some();
        if beacon && self.phase2_random == 0 {
            return Err(CeremonyError::OnlyBeacon { phase: Phase::Two });
        }
        let h2 = self.h2;
        let params = self.phase2_mut()?;
        phase2::verify_contribution(params, &c, &h2, index, rng)?;
        params.apply(&c);
        self.h2 = phase2_contribution_hash_of_bytes(&h2, bytes);
        self.phase2_count += 1;
        if beacon {
            self.phase2_closed = true;
        } else {
            self.phase2_random += 1;
        }
        Ok(Accepted {
            hash: self.h2,
            beacon,
        })
    }

    /// The keys of the closed ceremony (PROTOCOL 14.8), checked by the circuits crate.
    pub fn keys(&self) -> Result<(ProvingKey, VerifyingKey), CeremonyError> {
        if !self.phase2_closed {
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
        let params = match self.stage() {
            Stage::Closed => return Ok(None),
            Stage::Phase1 => StateParams::Phase1(self.phase1.clone()),
            Stage::Phase2 => StateParams::Phase2(
                self.phase2
                    .as_ref()
                    .ok_or(CeremonyError::NotClosed { phase: Phase::One })?
                    .state(),
            ),
        };
        Ok(Some(ContributionState {
            context: self.context,
            depth: self.depth,
            binding: self.hash(),
            index: match self.stage() {
                Stage::Phase1 => self.phase1_count,
                _ => self.phase2_count,
            },
            params,
        }))
    }
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
