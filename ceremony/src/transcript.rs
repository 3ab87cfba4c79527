//! The public transcript of a ceremony, its hashes, and its verification
//! (PROTOCOL 14.7, 14.8).

use rand_core::CryptoRngCore;
use urna_circuits::{ProvingKey, VerifyingKey};

use crate::beacon::Beacon;
use crate::codec::{Reader, Writer};
use crate::error::{CeremonyError, Phase};
use crate::phase1::{self, Phase1Contribution, Phase1Params};
use crate::phase2::{self, Phase2Contribution, Phase2Params};
use crate::ratio::hash;

/// The magic prefix of an encoded transcript.
pub const TRANSCRIPT_MAGIC: &[u8; 16] = b"urna-ceremony-v1";
/// The most contributions a phase may have (PROTOCOL 14.7).
pub const MAX_CONTRIBUTIONS: usize = 1024;

/// The hash before the first phase-1 contribution: bound to the ceremony's `context`
/// (on a board, the election id) and the size.
pub(crate) fn phase1_start(context: &[u8; 32], log_n: u8) -> [u8; 32] {
    hash(b"phase1/init", &[context, &[log_n]])
}

/// The hash before the first phase-2 contribution: bound to the closed phase 1.
pub(crate) fn phase2_start(phase1_hash: &[u8; 32], depth: u32) -> [u8; 32] {
    hash(b"phase2/init", &[phase1_hash, &depth.to_be_bytes()])
}

/// `h_k = H(label || h_{k-1} || encoding of contribution k)`.
fn chain(label: &[u8], prev: &[u8; 32], encoded: &[u8]) -> [u8; 32] {
    hash(label, &[prev, encoded])
}

/// The hash after a phase-1 contribution whose predecessor hash is `prev`: the value a
/// contributor publishes.
pub fn phase1_contribution_hash(prev: &[u8; 32], c: &Phase1Contribution) -> [u8; 32] {
    phase1_contribution_hash_of_bytes(prev, &c.to_bytes())
}

/// [`phase1_contribution_hash`] of a contribution's canonical bytes.
pub fn phase1_contribution_hash_of_bytes(prev: &[u8; 32], encoded: &[u8]) -> [u8; 32] {
    chain(b"phase1/contribution", prev, encoded)
}

/// The hash after a phase-2 contribution (see [`phase1_contribution_hash`]).
pub fn phase2_contribution_hash(prev: &[u8; 32], c: &Phase2Contribution) -> [u8; 32] {
    phase2_contribution_hash_of_bytes(prev, &c.to_bytes())
}

/// [`phase2_contribution_hash`] of a contribution's canonical bytes.
pub fn phase2_contribution_hash_of_bytes(prev: &[u8; 32], encoded: &[u8]) -> [u8; 32] {
    chain(b"phase2/contribution", prev, encoded)
}

/// A ceremony transcript: the phase-1 size, the census depth, and every contribution.
///
/// Phase-1 contributions carry full parameters; phase-2 contributions carry only what
/// changes (`delta`, the L and H queries), the rest is derived from phase 1 and the
/// circuit. Each phase ends with exactly one beacon contribution.
#[derive(Clone)]
pub struct Transcript {
    context: [u8; 32],
    log_n: u8,
    depth: u32,
    pub(crate) phase1: Vec<Phase1Contribution>,
    pub(crate) phase2: Vec<Phase2Contribution>,
    /// Phase-2 parameters before any contribution (derived, not encoded).
    phase2_base: Option<Phase2Params>,
}

impl core::fmt::Debug for Transcript {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Transcript")
            .field("context", &self.context)
            .field("log_n", &self.log_n)
            .field("depth", &self.depth)
            .field("phase1", &self.phase1.len())
            .field("phase2", &self.phase2.len())
            .finish()
    }
}

impl PartialEq for Transcript {
    fn eq(&self, other: &Self) -> bool {
        self.context == other.context
            && self.log_n == other.log_n
            && self.depth == other.depth
            && self.phase1 == other.phase1
            && self.phase2 == other.phase2
    }
}
impl Eq for Transcript {}

impl Transcript {
    /// An empty transcript for phase-1 parameters of size `2^log_n` and census `depth`,
    /// bound to `context` (PROTOCOL 14.7: on a board, the election id; any 32 bytes that
    /// name the ceremony elsewhere), so no contribution can be replayed into another
    /// ceremony.
    pub fn new(context: [u8; 32], log_n: u8, depth: u32) -> Result<Self, CeremonyError> {
        check_bounds(log_n, depth)?;
        Ok(Self {
            context,
            log_n,
            depth,
            phase1: Vec::new(),
            phase2: Vec::new(),
            phase2_base: None,
        })
    }

    /// The 32 bytes the ceremony is bound to.
    pub fn context(&self) -> &[u8; 32] {
        &self.context
    }

    /// `log2` of the number of powers.
    pub fn log_n(&self) -> u8 {
        self.log_n
    }

    /// The census depth of phase 2.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// The phase-1 contributions.
    pub fn phase1(&self) -> &[Phase1Contribution] {
        &self.phase1
    }

    /// The phase-2 contributions.
    pub fn phase2(&self) -> &[Phase2Contribution] {
        &self.phase2
    }

    /// The current phase-1 parameters (what the next contributor starts from).
    pub fn phase1_params(&self) -> Result<Phase1Params, CeremonyError> {
        match self.phase1.last() {
            Some(c) => Ok(c.params.clone()),
            None => Phase1Params::initial(self.log_n),
        }
    }

    /// The phase-1 hash chain: `hashes[k]` follows contribution `k`.
    pub fn phase1_hashes(&self) -> Vec<[u8; 32]> {
        let mut h = phase1_start(&self.context, self.log_n);
        self.phase1
            .iter()
            .map(|c| {
                h = phase1_contribution_hash(&h, c);
                h
            })
            .collect()
    }

    /// The current phase-1 hash: the binding of the next contribution.
    pub fn phase1_hash(&self) -> [u8; 32] {
        self.phase1_hashes()
            .last()
            .copied()
            .unwrap_or_else(|| phase1_start(&self.context, self.log_n))
    }

    fn phase1_closed(&self) -> bool {
        self.phase1.last().is_some_and(|c| c.beacon.is_some())
    }

    fn phase2_closed(&self) -> bool {
        self.phase2.last().is_some_and(|c| c.beacon.is_some())
    }

    /// Verifies a phase-1 contribution against the current state and appends it
    /// (the coordinator's step). Returns the new hash.
    pub fn add_phase1(
        &mut self,
        c: Phase1Contribution,
        rng: &mut impl CryptoRngCore,
    ) -> Result<[u8; 32], CeremonyError> {
        let index = self.phase1.len();
        if self.phase1_closed() || !self.phase2.is_empty() {
            return Err(CeremonyError::AfterBeacon {
                phase: Phase::One,
                index,
            });
        }
        if index >= MAX_CONTRIBUTIONS {
            return Err(CeremonyError::TooLarge {
                what: "phase-1 contributions",
                max: MAX_CONTRIBUTIONS,
                actual: index + 1,
            });
        }
        let binding = self.phase1_hash();
        phase1::verify_contribution(&self.phase1_params()?, &c, &binding, index, rng)?;
        let h = phase1_contribution_hash(&binding, &c);
        self.phase1.push(c);
        Ok(h)
    }

    /// Contributes to phase 1 with fresh secrets from `rng` and appends the contribution.
    /// Returns the hash to publish.
    pub fn contribute_phase1(
        &mut self,
        rng: &mut impl CryptoRngCore,
    ) -> Result<[u8; 32], CeremonyError> {
        let c = phase1::contribute(&self.phase1_params()?, &self.phase1_hash(), rng);
        self.add_phase1(c, rng)
    }

    /// Closes phase 1 with a beacon contribution.
    pub fn close_phase1(
        &mut self,
        beacon: &Beacon,
        rng: &mut impl CryptoRngCore,
    ) -> Result<[u8; 32], CeremonyError> {
        let c = phase1::contribute_beacon(&self.phase1_params()?, &self.phase1_hash(), beacon);
        self.add_phase1(c, rng)
    }

    /// The phase-2 hash chain: `hashes[k]` follows contribution `k`.
    pub fn phase2_hashes(&self) -> Vec<[u8; 32]> {
        let mut h = phase2_start(&self.phase1_hash(), self.depth);
        self.phase2
            .iter()
            .map(|c| {
                h = phase2_contribution_hash(&h, c);
                h
            })
            .collect()
    }

    /// The current phase-2 hash: the binding of the next contribution.
    pub fn phase2_hash(&self) -> [u8; 32] {
        self.phase2_hashes()
            .last()
            .copied()
            .unwrap_or_else(|| phase2_start(&self.phase1_hash(), self.depth))
    }

    /// The current phase-2 parameters (derived from phase 1 on first use, then cached).
    /// Phase 1 must be closed.
    pub fn phase2_params(&mut self) -> Result<Phase2Params, CeremonyError> {
        if !self.phase1_closed() {
            return Err(CeremonyError::NotClosed { phase: Phase::One });
        }
        let base = match &self.phase2_base {
            Some(b) => b.clone(),
            None => {
                let b = phase2::initial(&self.phase1_params()?, self.depth)?;
                self.phase2_base = Some(b.clone());
                b
            }
        };
        let mut p = base;
        if let Some(c) = self.phase2.last() {
            p.apply(c);
        }
        Ok(p)
    }

    /// Verifies a phase-2 contribution against the current state and appends it.
    pub fn add_phase2(
        &mut self,
        c: Phase2Contribution,
        rng: &mut impl CryptoRngCore,
    ) -> Result<[u8; 32], CeremonyError> {
        let index = self.phase2.len();
        if self.phase2_closed() {
            return Err(CeremonyError::AfterBeacon {
                phase: Phase::Two,
                index,
            });
        }
        if index >= MAX_CONTRIBUTIONS {
            return Err(CeremonyError::TooLarge {
                what: "phase-2 contributions",
                max: MAX_CONTRIBUTIONS,
                actual: index + 1,
            });
        }
        let prev = self.phase2_params()?;
        let binding = self.phase2_hash();
        phase2::verify_contribution(&prev, &c, &binding, index, rng)?;
        let h = phase2_contribution_hash(&binding, &c);
        self.phase2.push(c);
        Ok(h)
    }

    /// Contributes to phase 2 with a fresh secret from `rng` and appends it.
    pub fn contribute_phase2(
        &mut self,
        rng: &mut impl CryptoRngCore,
    ) -> Result<[u8; 32], CeremonyError> {
        let prev = self.phase2_params()?;
        let c = phase2::contribute(&prev, &self.phase2_hash(), rng)?;
        self.add_phase2(c, rng)
    }

    /// Closes phase 2 with a beacon contribution.
    pub fn close_phase2(
        &mut self,
        beacon: &Beacon,
        rng: &mut impl CryptoRngCore,
    ) -> Result<[u8; 32], CeremonyError> {
        let prev = self.phase2_params()?;
        let c = phase2::contribute_beacon(&prev, &self.phase2_hash(), beacon)?;
        self.add_phase2(c, rng)
    }

    /// The canonical encoding: magic, context (32 bytes), `log_n` (1 byte), depth
    /// (1 byte), then each phase as a 4-byte count and its contributions.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.bytes(TRANSCRIPT_MAGIC);
        w.bytes(&self.context);
        w.u8(self.log_n);
        // check_bounds keeps the depth at most 32.
        w.u8(self.depth as u8);
        w.u32(self.phase1.len() as u32);
        for c in &self.phase1 {
            c.encode(&mut w);
        }
        w.u32(self.phase2.len() as u32);
        for c in &self.phase2 {
            c.encode(&mut w);
        }
        w.out
    }

    /// Decodes [`Transcript::to_bytes`], checking every point and the bounds. Nothing is
    /// verified: see [`verify_transcript`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CeremonyError> {
        let mut r = Reader::new(bytes);
        if r.take(TRANSCRIPT_MAGIC.len(), "transcript magic")? != TRANSCRIPT_MAGIC {
            return Err(CeremonyError::InvalidEncoding {
                what: "transcript magic",
            });
        }
        let context = r.array32("transcript context")?;
        let log_n = r.u8("transcript header")?;
        let depth = u32::from(r.u8("transcript header")?);
        let mut t = Self::new(context, log_n, depth)?;
        let count = contribution_count(&mut r, "phase-1 contributions")?;
        for _ in 0..count {
            t.phase1.push(Phase1Contribution::decode(&mut r, log_n)?);
        }
        let count = contribution_count(&mut r, "phase-2 contributions")?;
        for _ in 0..count {
            t.phase2.push(Phase2Contribution::decode(&mut r)?);
        }
        r.finish("transcript (trailing bytes)")?;
        Ok(t)
    }
}

fn check_bounds(log_n: u8, depth: u32) -> Result<(), CeremonyError> {
    phase1::check_log_n(log_n)?;
    urna_circuits::circuit::EligibilityCircuit::blank(depth)?;
    Ok(())
}

fn contribution_count(r: &mut Reader<'_>, what: &'static str) -> Result<usize, CeremonyError> {
    let count = r.u32(what)? as usize;
    if count > MAX_CONTRIBUTIONS {
        return Err(CeremonyError::TooLarge {
            what,
            max: MAX_CONTRIBUTIONS,
            actual: count,
        });
    }
    if count > r.remaining() {
        return Err(CeremonyError::InvalidEncoding { what });
    }
    Ok(count)
}

/// Verifies a whole transcript (PROTOCOL 14.8) and derives the keys from it: every
/// contribution of phase 1 from the generators on, phase 1 closed by a beacon, the
/// initial phase-2 parameters recomputed from phase 1 and the circuit, every phase-2
/// contribution, phase 2 closed by a beacon. `rng` draws the weights of the batched
/// same-ratio checks.
pub fn verify_transcript(
    t: &Transcript,
    rng: &mut impl CryptoRngCore,
) -> Result<(ProvingKey, VerifyingKey), CeremonyError> {
    check_bounds(t.log_n, t.depth)?;
    check_closed(Phase::One, t.phase1.iter().map(|c| c.beacon.is_some()))?;
    check_closed(Phase::Two, t.phase2.iter().map(|c| c.beacon.is_some()))?;

    let mut prev = Phase1Params::initial(t.log_n)?;
    let mut h = phase1_start(&t.context, t.log_n);
    for (index, c) in t.phase1.iter().enumerate() {
        phase1::verify_contribution(&prev, c, &h, index, rng)?;
        h = phase1_contribution_hash(&h, c);
        prev = c.params.clone();
    }

    let mut params = phase2::initial(&prev, t.depth)?;
    drop(prev);
    let mut h = phase2_start(&h, t.depth);
    for (index, c) in t.phase2.iter().enumerate() {
        phase2::verify_contribution(&params, c, &h, index, rng)?;
        h = phase2_contribution_hash(&h, c);
        params.apply(c);
    }
    params.into_keys()
}

/// [`verify_transcript`], then [`check_keys`]: a key not derived from the transcript is
/// refused.
pub fn verify_keys(
    t: &Transcript,
    vk: &VerifyingKey,
    pk_hash: Option<&[u8; 32]>,
    rng: &mut impl CryptoRngCore,
) -> Result<(ProvingKey, VerifyingKey), CeremonyError> {
    let (pk, derived) = verify_transcript(t, rng)?;
    check_keys(&pk, &derived, vk, pk_hash)?;
    Ok((pk, derived))
}

/// Requires the claimed verifying key `vk` (and, if given, the proving key hash
/// `pk_hash`, §10.5) to equal the keys `derived_pk`, `derived_vk` that
/// [`verify_transcript`] returned.
pub fn check_keys(
    derived_pk: &ProvingKey,
    derived_vk: &VerifyingKey,
    vk: &VerifyingKey,
    pk_hash: Option<&[u8; 32]>,
) -> Result<(), CeremonyError> {
    if derived_vk != vk {
        return Err(CeremonyError::KeyMismatch {
            what: "verifying key",
        });
    }
    if let Some(expected) = pk_hash {
        if derived_pk.proving_key_hash() != *expected {
            return Err(CeremonyError::KeyMismatch {
                what: "proving key",
            });
        }
    }
    Ok(())
}

/// Each phase is non-empty, its last contribution a beacon, and no other one, and at
/// least one contribution with a secret precedes the beacon (a beacon's secret is
/// public).
fn check_closed(
    phase: Phase,
    is_beacon: impl ExactSizeIterator<Item = bool>,
) -> Result<(), CeremonyError> {
    let len = is_beacon.len();
    if len == 0 {
        return Err(CeremonyError::NotClosed { phase });
    }
    for (index, beacon) in is_beacon.enumerate() {
        let last = index + 1 == len;
        if beacon && !last {
            return Err(CeremonyError::AfterBeacon {
                phase,
                index: index + 1,
            });
        }
        if last && !beacon {
            return Err(CeremonyError::NotClosed { phase });
        }
    }
    if len == 1 {
        return Err(CeremonyError::OnlyBeacon { phase });
    }
    Ok(())
}
