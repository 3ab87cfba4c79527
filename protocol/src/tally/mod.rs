//! The tally: homomorphic aggregation, verifiable threshold decryption and the bounded
//! discrete logarithm (PROTOCOL §8).
//!
//! # Construction
//!
//! 1. **Aggregate** (PROTOCOL 8.1). For every contest `c` and option `o`, the sum of the
//!    counted ballots' ciphertexts `(α, β)_{c,o} = Σ_b (α, β)_{b,c,o}`; it encrypts the
//!    number of votes `m_{c,o}` for the option.
//! 2. **Decryption share** (PROTOCOL 8.2). Trustee `j` with secret share `s_j` publishes,
//!    for every aggregate ciphertext, `D_j = s_j·α` with a Chaum-Pedersen proof
//!    ([`DleqProof`]) that `log_G H_j = log_α D_j`, where `H_j` is its public share key
//!    from the key ceremony.
//! 3. **Verify** (PROTOCOL 8.3). Every share's proof is checked; trustees must be known
//!    and distinct; at least `t` must have published.
//! 4. **Combine** (PROTOCOL 8.4). For the set `S` of trustees with shares,
//!    `λ_j = Π_{k∈S, k≠j} k / (k − j)` (Lagrange at 0) and
//!    `M = β − Σ_{j∈S} λ_j·D_j = β − s·α = m·G`.
//! 5. **Discrete log** (PROTOCOL 8.5). `m ∈ [0, number of ballots]` is recovered by
//!    baby-step giant-step ([`DlogTable`]); no solution in range is
//!    [`VerificationError::CountOutOfRange`].
//!
//! # Example
//!
//! ```
//! use rand_chacha::rand_core::SeedableRng;
//! use urna_protocol::dkg::{DealerMessage, DkgContext, DkgOutcome};
//! use urna_protocol::encryption::EncryptionSecretKey;
//! use urna_protocol::tally::{decrypt_tally, Aggregate, TallyContext, TrusteeShares};
//!
//! let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9); // tests only: seeded RNG
//! let keys: Vec<_> = (0..3).map(|_| EncryptionSecretKey::generate(&mut rng)).collect();
//! let ctx = DkgContext::new([1; 32], 2, keys.iter().map(|k| k.public_key()).collect()).unwrap();
//! let msgs: Vec<_> = (1..=3).map(|i| DealerMessage::deal(&ctx, i, &mut rng).unwrap()).collect();
//! let outcome = DkgOutcome::new(&ctx, &msgs, &[]).unwrap();
//! let pk = outcome.election_public_key();
//!
//! // One contest with two options; three ballots.
//! let mut aggregate = Aggregate::new(&[2]);
//! for vote in [[1u64, 0], [0, 1], [1, 0]] {
//!     let cts: Vec<_> = vote.iter().map(|&m| pk.encrypt_random(m, &mut rng).0).collect();
//!     aggregate.add_ballot([cts.as_slice()]).unwrap();
//! }
//! let tctx = TallyContext::from_dkg(&ctx, &outcome);
//! let shares: Vec<_> = [1u32, 3]
//!     .iter()
//!     .map(|&j| {
//!         let s = outcome.secret_share(&ctx, &msgs, j, &keys[j as usize - 1]).unwrap();
//!         TrusteeShares::create(&tctx, &s, &aggregate, &mut rng).unwrap()
//!     })
//!     .collect();
//! let result = decrypt_tally(&tctx, &aggregate, &shares).unwrap();
//! assert_eq!(result.counts(), &[vec![2, 1]]);
//! ```

mod dlog;

pub use dlog::{DlogTable, MAX_BABY_STEPS};

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use merlin::Transcript;
use rand_core::CryptoRngCore;

use crate::codec::{Canonical, Decode, Encode, Reader, Writer};
use crate::dkg::{DkgContext, DkgOutcome, SecretShare, MAX_TRUSTEES};
use crate::elgamal::{Ciphertext, ElectionPublicKey};
use crate::encryption::{DleqInstance, DleqProof};
use crate::error::{DecodeError, Error, VerificationError};
use crate::transcript::{TranscriptProtocol, PROTOCOL_DOMAIN};

/// Type tag of [`TrusteeShares`] (PROTOCOL §2 tag table, 8.2).
pub const TRUSTEE_SHARES_TAG: u8 = 0x12;
/// Type tag of [`TallyResult`] (PROTOCOL §2 tag table, 8.6).
pub const TALLY_RESULT_TAG: u8 = 0x13;
/// Type tag of [`Tally`] (PROTOCOL §2 tag table, 8.6).
pub const TALLY_TAG: u8 = 0x14;

/// Transcript proof kind of a decryption share's proof (PROTOCOL 8.2).
pub const DECRYPTION_SHARE_PROOF_KIND: &[u8] = b"decryption-share";

/// Most contests an aggregate may have (bounds decoding).
pub const MAX_CONTESTS: usize = 1024;
/// Most options a contest may have (bounds decoding).
pub const MAX_OPTIONS: usize = 1024;

/// What the tally needs from the key ceremony: manifest hash, election key `h`,
/// threshold and every trustee's public share key `H_j` (index `j − 1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TallyContext {
    manifest_hash: [u8; 32],
    election_key: ElectionPublicKey,
    threshold: u32,
    share_keys: Vec<RistrettoPoint>,
}

impl TallyContext {
    /// Checks `1 ≤ t ≤ n ≤ MAX_TRUSTEES`.
    pub fn new(
        manifest_hash: [u8; 32],
        election_key: ElectionPublicKey,
        threshold: u32,
        share_keys: Vec<RistrettoPoint>,
    ) -> Result<Self, Error> {
        let n = share_keys.len();
        if n == 0 || n > MAX_TRUSTEES || threshold == 0 || threshold as usize > n {
            return Err(Error::InvalidArgument(format!(
                "threshold {threshold} of {n} trustees is not 1 <= t <= n <= {MAX_TRUSTEES}"
            )));
        }
        Ok(Self {
            manifest_hash,
            election_key,
            threshold,
            share_keys,
        })
    }

    /// From a finished key ceremony.
    pub fn from_dkg(ctx: &DkgContext, outcome: &DkgOutcome) -> Self {
        Self {
            manifest_hash: *ctx.manifest_hash(),
            election_key: outcome.election_public_key(),
            threshold: ctx.threshold(),
            share_keys: outcome.public_share_keys(),
        }
    }

    /// The election public key `h`.
    pub fn election_key(&self) -> &ElectionPublicKey {
        &self.election_key
    }

    /// The threshold `t`.
    pub fn threshold(&self) -> u32 {
        self.threshold
    }

    /// Trustee `j`'s public share key `H_j`.
    pub fn share_key(&self, j: u32) -> Option<&RistrettoPoint> {
        self.share_keys.get((j as usize).checked_sub(1)?)
    }
}

/// The homomorphic aggregate (PROTOCOL 8.1): how many ballots were counted and, per
/// contest and option, the sum of their ciphertexts.
///
/// Encoding: `u64 ballots ‖ u32 contests ‖ for each: seq(ciphertext)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Aggregate {
    ballots: u64,
    contests: Vec<Vec<Ciphertext>>,
}

impl Aggregate {
    /// The empty aggregate for contests with `options[c]` options each.
    pub fn new(options: &[usize]) -> Self {
        Self {
            ballots: 0,
            contests: options
                .iter()
                .map(|&n| alloc::vec![Ciphertext::zero(); n])
                .collect(),
        }
    }

    /// From parts (e.g. a recount that summed the ballots itself).
    pub fn from_parts(ballots: u64, contests: Vec<Vec<Ciphertext>>) -> Self {
        Self { ballots, contests }
    }

    /// Adds one ballot's ciphertexts, contest by contest (PROTOCOL 8.1).
    pub fn add_ballot<'a, I>(&mut self, contests: I) -> Result<(), VerificationError>
    where
        I: IntoIterator<Item = &'a [Ciphertext]>,
    {
        let mut sums = self.contests.clone();
        let mut seen = 0usize;
        for (c, cts) in contests.into_iter().enumerate() {
            let acc = sums
                .get_mut(c)
                .ok_or_else(|| VerificationError::BallotShape {
                    reason: format!("more than {} contests", self.contests.len()),
                })?;
            if acc.len() != cts.len() {
                return Err(VerificationError::BallotShape {
                    reason: format!(
                        "contest {c} has {} options, expected {}",
                        cts.len(),
                        acc.len()
                    ),
                });
            }
            for (a, ct) in acc.iter_mut().zip(cts) {
                *a += ct;
            }
            seen += 1;
        }
        if seen != self.contests.len() {
            return Err(VerificationError::BallotShape {
                reason: format!("{seen} contests, expected {}", self.contests.len()),
            });
        }
        self.contests = sums;
        self.ballots += 1;
        Ok(())
    }

    /// The number of ballots counted.
    pub fn ballots(&self) -> u64 {
        self.ballots
    }

    /// The summed ciphertexts, per contest and option.
    pub fn contests(&self) -> &[Vec<Ciphertext>] {
        &self.contests
    }

    fn shape_matches<T>(&self, other: &[Vec<T>]) -> bool {
        self.contests.len() == other.len()
            && self
                .contests
                .iter()
                .zip(other)
                .all(|(a, b)| a.len() == b.len())
    }

    fn ciphertext_count(&self) -> usize {
        self.contests.iter().map(Vec::len).sum()
    }
}

/// Writes `u32 count ‖ seq(item)` per inner vector.
fn write_nested<T: Encode>(w: &mut Writer, v: &[Vec<T>]) {
    w.u32(u32::try_from(v.len()).unwrap_or(u32::MAX));
    for inner in v {
        w.seq(inner);
    }
}

/// Reads what [`write_nested`] wrote; every inner sequence takes at least 4 bytes, which
/// bounds the outer count by the input length before anything is allocated.
fn read_nested<T: Decode>(
    r: &mut Reader<'_>,
    what: &'static str,
    max_outer: usize,
    max_inner: usize,
) -> Result<Vec<Vec<T>>, DecodeError> {
    let count = r.u32()? as usize;
    if count > max_outer {
        return Err(DecodeError::TooLong {
            what,
            max: max_outer,
            actual: count,
        });
    }
    if count.saturating_mul(4) > r.remaining() {
        return Err(DecodeError::UnexpectedEnd {
            needed: count.saturating_mul(4),
            remaining: r.remaining(),
        });
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        out.push(r.seq(what, max_inner)?);
    }
    Ok(out)
}

impl Encode for Aggregate {
    fn encode(&self, w: &mut Writer) {
        w.u64(self.ballots);
        write_nested(w, &self.contests);
    }
}

impl Decode for Aggregate {
    const MIN_ENCODED_LEN: usize = 12;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            ballots: r.u64()?,
            contests: read_nested(r, "aggregate ciphertexts", MAX_CONTESTS, MAX_OPTIONS)?,
        })
    }
}

/// One trustee's decryption of one aggregate ciphertext: `D_j = s_j·α` and the proof
/// that `log_G H_j = log_α D_j` (PROTOCOL 8.2). 128 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DecryptionShare {
    /// `D_j = s_j·α`.
    pub factor: RistrettoPoint,
    /// The Chaum-Pedersen proof.
    pub proof: DleqProof,
}

impl Encode for DecryptionShare {
    fn encode(&self, w: &mut Writer) {
        w.point(&self.factor);
        self.proof.encode(w);
    }
}

impl Decode for DecryptionShare {
    const MIN_ENCODED_LEN: usize = 128;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            factor: r.point("decryption factor")?,
            proof: r.get()?,
        })
    }
}

/// The decryption share's transcript (PROTOCOL 8.2): domain `decryption-share`,
/// manifest hash, election key `h`, trustee index, contest index, option index, `α`, `β`;
/// the proof then absorbs `α, H_j, D_j, T_G, T_A`.
fn share_transcript(
    ctx: &TallyContext,
    trustee: u32,
    contest: usize,
    option: usize,
    ct: &Ciphertext,
) -> Transcript {
    let mut t = Transcript::new(PROTOCOL_DOMAIN);
    t.domain_sep(DECRYPTION_SHARE_PROOF_KIND);
    t.append_bytes(b"manifest-hash", &ctx.manifest_hash);
    t.append_point(b"election-key", ctx.election_key.as_point());
    t.append_u64_be(b"trustee", u64::from(trustee));
    t.append_u64_be(b"contest", contest as u64);
    t.append_u64_be(b"option", option as u64);
    t.append_point(b"alpha", &ct.alpha);
    t.append_point(b"beta", &ct.beta);
    t
}

/// A trustee's decryption shares for a whole aggregate, one per contest and option: the
/// "decryption shares" board entry (PROTOCOL 8.2).
///
/// Canonical encoding (tag [`TRUSTEE_SHARES_TAG`]): `u32 trustee ‖ u32 contests ‖ for
/// each: seq(decryption share)`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TrusteeShares {
    trustee: u32,
    shares: Vec<Vec<DecryptionShare>>,
}

impl TrusteeShares {
    /// Computes and proves trustee `secret.index()`'s shares of `aggregate`
    /// (PROTOCOL 8.2).
    pub fn create(
        ctx: &TallyContext,
        secret: &SecretShare,
        aggregate: &Aggregate,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, Error> {
        let j = secret.index();
        let h_j = *ctx
            .share_key(j)
            .ok_or_else(|| Error::InvalidArgument(format!("trustee {j} is not a trustee")))?;
        let s_j = secret.expose_secret();
        if s_j * crate::group::G != h_j {
            return Err(Error::InvalidArgument(format!(
                "secret share does not match H_{j} of the key ceremony"
            )));
        }
        let shares = aggregate
            .contests
            .iter()
            .enumerate()
            .map(|(c, options)| {
                options
                    .iter()
                    .enumerate()
                    .map(|(o, ct)| {
                        let factor = s_j * ct.alpha;
                        let mut t = share_transcript(ctx, j, c, o, ct);
                        let proof = DleqProof::prove(&mut t, rng, s_j, &ct.alpha, &h_j, &factor);
                        DecryptionShare { factor, proof }
                    })
                    .collect()
            })
            .collect();
        Ok(Self { trustee: j, shares })
    }

    /// The trustee's index.
    pub fn trustee(&self) -> u32 {
        self.trustee
    }

    /// The shares, per contest and option.
    pub fn shares(&self) -> &[Vec<DecryptionShare>] {
        &self.shares
    }

    /// Mutable access for tamper tests.
    #[doc(hidden)]
    pub fn parts_mut(&mut self) -> (&mut u32, &mut Vec<Vec<DecryptionShare>>) {
        (&mut self.trustee, &mut self.shares)
    }

    /// Checks the shares against the aggregate (PROTOCOL 8.3 (a)–(c)): a known trustee,
    /// the aggregate's shape, and every proof (batched; on failure the first bad share
    /// is named).
    pub fn verify(
        &self,
        ctx: &TallyContext,
        aggregate: &Aggregate,
    ) -> Result<(), VerificationError> {
        let j = self.trustee;
        // PROTOCOL 8.3 (a)
        let h_j = ctx
            .share_key(j)
            .ok_or(VerificationError::UnknownTrustee { index: j })?;
        // PROTOCOL 8.3 (b)
        if !aggregate.shape_matches(&self.shares) {
            return Err(VerificationError::DecryptionShareShape { trustee: j });
        }
        // PROTOCOL 8.3 (c)
        let mut instances = Vec::with_capacity(aggregate.ciphertext_count());
        let mut where_ = Vec::with_capacity(aggregate.ciphertext_count());
        for (c, (cts, shares)) in aggregate.contests.iter().zip(&self.shares).enumerate() {
            for (o, (ct, share)) in cts.iter().zip(shares).enumerate() {
                let mut t = share_transcript(ctx, j, c, o, ct);
                let challenge = share.proof.challenge(&mut t, &ct.alpha, h_j, &share.factor);
                instances.push(DleqInstance {
                    base: &ct.alpha,
                    public: h_j,
                    factor: &share.factor,
                    proof: &share.proof,
                    challenge,
                });
                where_.push((c, o));
            }
        }
        if DleqProof::verify_batch(&instances) {
            return Ok(());
        }
        for (inst, &(contest, option)) in instances.iter().zip(&where_) {
            if !DleqProof::verify_batch(core::slice::from_ref(inst)) {
                return Err(VerificationError::DecryptionShareProof {
                    trustee: j,
                    contest,
                    option,
                });
            }
        }
        // The batch failed but no single proof did: only possible with negligible
        // probability; fail closed and name the first share.
        Err(VerificationError::DecryptionShareProof {
            trustee: j,
            contest: 0,
            option: 0,
        })
    }
}

impl Encode for TrusteeShares {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.trustee);
        write_nested(w, &self.shares);
    }
}

impl Decode for TrusteeShares {
    const MIN_ENCODED_LEN: usize = 8;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            trustee: r.u32()?,
            shares: read_nested(r, "decryption shares", MAX_CONTESTS, MAX_OPTIONS)?,
        })
    }
}

impl Canonical for TrusteeShares {
    const TAG: u8 = TRUSTEE_SHARES_TAG;
    const NAME: &'static str = "trustee decryption shares";
}

/// The decrypted counts (PROTOCOL 8.6): the number of ballots and, per contest and
/// option, the number of votes.
///
/// Canonical encoding (tag [`TALLY_RESULT_TAG`]): `u64 ballots ‖ u32 contests ‖ for
/// each: seq(u64 count)`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TallyResult {
    ballots: u64,
    counts: Vec<Vec<u64>>,
}

impl TallyResult {
    /// From parts.
    pub fn new(ballots: u64, counts: Vec<Vec<u64>>) -> Self {
        Self { ballots, counts }
    }

    /// The number of ballots counted.
    pub fn ballots(&self) -> u64 {
        self.ballots
    }

    /// The counts, per contest and option.
    pub fn counts(&self) -> &[Vec<u64>] {
        &self.counts
    }
}

impl Encode for TallyResult {
    fn encode(&self, w: &mut Writer) {
        w.u64(self.ballots);
        write_nested(w, &self.counts);
    }
}

impl Decode for TallyResult {
    const MIN_ENCODED_LEN: usize = 12;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            ballots: r.u64()?,
            counts: read_nested(r, "counts", MAX_CONTESTS, MAX_OPTIONS)?,
        })
    }
}

impl Canonical for TallyResult {
    const TAG: u8 = TALLY_RESULT_TAG;
    const NAME: &'static str = "tally result";
}

/// The published tally (PROTOCOL 8.6): the aggregate that was decrypted and its result.
///
/// Canonical encoding (tag [`TALLY_TAG`]): aggregate ‖ result (untagged).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Tally {
    /// The aggregate.
    pub aggregate: Aggregate,
    /// The decrypted counts.
    pub result: TallyResult,
}

impl Encode for Tally {
    fn encode(&self, w: &mut Writer) {
        self.aggregate.encode(w);
        self.result.encode(w);
    }
}

impl Decode for Tally {
    const MIN_ENCODED_LEN: usize = 24;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            aggregate: r.get()?,
            result: r.get()?,
        })
    }
}

impl Canonical for Tally {
    const TAG: u8 = TALLY_TAG;
    const NAME: &'static str = "tally";
}

/// `λ_j = Π_{k∈S, k≠j} k / (k − j)` for each `j ∈ S` (PROTOCOL 8.4). The indices must be
/// distinct and non-zero (else `None`).
pub fn lagrange_at_zero(indices: &[u32]) -> Option<Vec<Scalar>> {
    let mut numerators = Vec::with_capacity(indices.len());
    let mut denominators = Vec::with_capacity(indices.len());
    for (a, &j) in indices.iter().enumerate() {
        if j == 0 {
            return None;
        }
        let mut num = Scalar::ONE;
        let mut den = Scalar::ONE;
        for (b, &k) in indices.iter().enumerate() {
            if a != b {
                if k == j {
                    return None;
                }
                num *= Scalar::from(k);
                den *= Scalar::from(k) - Scalar::from(j);
            }
        }
        numerators.push(num);
        denominators.push(den);
    }
    Scalar::batch_invert(&mut denominators);
    Some(
        numerators
            .into_iter()
            .zip(denominators)
            .map(|(n, d)| n * d)
            .collect(),
    )
}

/// Verifies the trustees' shares and decrypts the aggregate with a given table
/// (PROTOCOL 8.3–8.5). A table that does not cover `[0, aggregate.ballots()]` is
/// replaced by one that does.
pub fn decrypt_with_table(
    ctx: &TallyContext,
    aggregate: &Aggregate,
    shares: &[TrusteeShares],
    table: &DlogTable,
) -> Result<TallyResult, VerificationError> {
    // PROTOCOL 8.3 (d): distinct trustees.
    let mut indices: Vec<u32> = Vec::with_capacity(shares.len());
    for s in shares {
        if indices.contains(&s.trustee) {
            return Err(VerificationError::UnknownTrustee { index: s.trustee });
        }
        indices.push(s.trustee);
    }
    // PROTOCOL 8.3 (a)–(c)
    for s in shares {
        s.verify(ctx, aggregate)?;
    }
    // PROTOCOL 8.3 (e): at least t.
    if indices.len() < ctx.threshold as usize {
        return Err(VerificationError::NotEnoughShares {
            have: indices.len(),
            need: ctx.threshold as usize,
        });
    }
    // PROTOCOL 8.4
    let lambdas =
        lagrange_at_zero(&indices).ok_or(VerificationError::UnknownTrustee { index: 0 })?;
    let mut scalars: Vec<Scalar> = Vec::with_capacity(indices.len() + 1);
    scalars.push(Scalar::ONE);
    scalars.extend(lambdas.iter().map(|l| -l));
    let max = aggregate.ballots;
    let owned;
    let table = if table.max() < max {
        owned = DlogTable::for_targets(max, aggregate.ciphertext_count());
        &owned
    } else {
        table
    };
    let mut counts = Vec::with_capacity(aggregate.contests.len());
    for (c, cts) in aggregate.contests.iter().enumerate() {
        let mut row = Vec::with_capacity(cts.len());
        for (o, ct) in cts.iter().enumerate() {
            let points =
                core::iter::once(ct.beta).chain(shares.iter().map(|s| s.shares[c][o].factor));
            let m_point = RistrettoPoint::vartime_multiscalar_mul(&scalars, points);
            // PROTOCOL 8.5
            let m = table.solve(&m_point).filter(|&m| m <= max).ok_or(
                VerificationError::CountOutOfRange {
                    contest: c,
                    option: o,
                    max,
                },
            )?;
            row.push(m);
        }
        counts.push(row);
    }
    Ok(TallyResult {
        ballots: max,
        counts,
    })
}

/// Verifies the shares and decrypts the aggregate (PROTOCOL 8.3–8.5), building one
/// discrete-log table shared by every option.
pub fn decrypt_tally(
    ctx: &TallyContext,
    aggregate: &Aggregate,
    shares: &[TrusteeShares],
) -> Result<TallyResult, VerificationError> {
    let table = DlogTable::for_targets(aggregate.ballots, aggregate.ciphertext_count());
    decrypt_with_table(ctx, aggregate, shares, &table)
}

/// Re-derives a published tally (PROTOCOL 8.6): the published aggregate must equal the
/// one recomputed from the counted ballots, the shares must verify, and their
/// decryption must equal the published result.
pub fn verify_tally(
    ctx: &TallyContext,
    recomputed: &Aggregate,
    shares: &[TrusteeShares],
    tally: &Tally,
) -> Result<(), VerificationError> {
    // PROTOCOL 8.6 (a)
    if tally.aggregate != *recomputed {
        return Err(VerificationError::AggregateMismatch);
    }
    // PROTOCOL 8.6 (b)
    let result = decrypt_tally(ctx, recomputed, shares)?;
    // PROTOCOL 8.6 (c)
    if result.ballots != tally.result.ballots {
        return Err(VerificationError::TallyMismatch {
            reason: format!(
                "{} ballots published, {} counted",
                tally.result.ballots, result.ballots
            ),
        });
    }
    if let Some(reason) = first_difference(&tally.result.counts, &result.counts) {
        return Err(VerificationError::TallyMismatch { reason });
    }
    Ok(())
}

fn first_difference(published: &[Vec<u64>], decrypted: &[Vec<u64>]) -> Option<String> {
    if published.len() != decrypted.len() {
        return Some(format!(
            "{} contests published, {} decrypted",
            published.len(),
            decrypted.len()
        ));
    }
    for (c, (p, d)) in published.iter().zip(decrypted).enumerate() {
        if p.len() != d.len() {
            return Some(format!(
                "contest {c}: {} options published, {} decrypted",
                p.len(),
                d.len()
            ));
        }
        for (o, (a, b)) in p.iter().zip(d).enumerate() {
            if a != b {
                return Some(format!(
                    "contest {c} option {o}: {a} published, {b} decrypted"
                ));
            }
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn lagrange_interpolates_constant_term() {
        // f(x) = 5 + 3x + 2x^2: any 3 points give f(0) = 5.
        let f = |x: u64| Scalar::from(5 + 3 * x + 2 * x * x);
        for set in [[1u32, 2, 3], [2, 4, 5], [5, 1, 3]] {
            let l = lagrange_at_zero(&set).unwrap();
            let sum: Scalar = set.iter().zip(&l).map(|(&j, l)| f(u64::from(j)) * l).sum();
            assert_eq!(sum, Scalar::from(5u64));
        }
        assert!(lagrange_at_zero(&[1, 1]).is_none());
        assert!(lagrange_at_zero(&[0, 1]).is_none());
    }
}
