//! Proof that a contest's number of selections is within `[min, max]` (PROTOCOL 6.3).
//!
//! # Construction
//!
//! Statement: the [`ProofContext`], the contest index, the option ciphertexts
//! `(α_i, β_i)` for `i < n`, and the bounds `min ≤ max`. Let
//! `(α, β) = Σ_i (α_i, β_i)`, an encryption of `k = Σ_i m_i` with nonce `r = Σ_i r_i`.
//! Claim: `k ∈ {min, min + 1, …, max}`.
//!
//! * **Transcript** (in order): `dom-sep "urna/v1"`, `proof-kind "selection-count"`,
//!   `manifest-hash`, `election-public-key`, `nullifier`, `contest` (u64),
//!   `option-count = n` (u64), then `option-alpha`, `option-beta` of each option in
//!   order, `min` (u64), `max` (u64), then the disjunctive part: `value-count`, each
//!   `value` `min..=max`, each branch's `a`, `b`; challenge `c`. The sum itself is not
//!   absorbed: it is a function of the absorbed option ciphertexts.
//! * **Commit / response**: the CDS OR-proof of [`super::disjunctive`] on `(α, β)` with
//!   values `min..=max` (one branch per value; with `min = max` it is a plain
//!   Chaum-Pedersen proof).
//! * **Verification**: recompute `(α, β)`; `Σ_j c_j = c`; for every branch `j` with
//!   value `m_j`: `z_j·G = a_j + c_j·α` and `z_j·h = b_j + c_j·(β − m_j·G)`.
//!
//! # Implementation details
//!
//! Encoded as a `u32` branch count (at most [`MAX_BRANCHES`]) and `128` bytes per branch;
//! the verifier requires exactly `max − min + 1` branches. Prover constant-time in `k`
//! and the nonces; verification variable-time.
//!
//! # Example
//!
//! ```
//! use merlin::Transcript;
//! use rand_chacha::rand_core::SeedableRng;
//! use urna_circuits::Nullifier;
//! use urna_protocol::elgamal::{ElectionPublicKey, Nonce};
//! use urna_protocol::group::{random_scalar, G};
//! use urna_protocol::proofs::{ProofContext, SelectionProof, BALLOT_TRANSCRIPT_LABEL};
//!
//! let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let public_key = ElectionPublicKey::from_point(random_scalar(&mut rng) * G).unwrap();
//! let ctx = ProofContext {
//!     manifest_hash: [7; 32],
//!     public_key,
//!     nullifier: Nullifier::from_bytes(&[1; 32]).unwrap(),
//! };
//! let votes = [1u64, 0, 1];
//! let (cts, nonces): (Vec<_>, Vec<_>) =
//!     votes.iter().map(|m| public_key.encrypt_random(*m, &mut rng)).unzip();
//! let r_sum = Nonce::from_scalar(nonces.iter().map(|r| *r.expose_secret()).sum());
//! let t = || Transcript::new(BALLOT_TRANSCRIPT_LABEL);
//! let proof = SelectionProof::prove(&mut t(), &ctx, 0, &cts, 1, 2, 2, &r_sum, &mut rng).unwrap();
//! assert!(proof.verify(&mut t(), &ctx, 0, &cts, 1, 2).is_ok());
//! // Claiming the range [0, 1] with the same proof fails.
//! assert!(proof.verify(&mut t(), &ctx, 0, &cts, 0, 1).is_err());
//! ```

use alloc::vec::Vec;

use curve25519_dalek::ristretto::CompressedRistretto;
use merlin::Transcript;
use rand_core::CryptoRngCore;

use super::disjunctive::{Branch, DisjunctiveProof};
use super::{BatchVerifier, ProofContext};
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::elgamal::{Ciphertext, Nonce};
use crate::error::{DecodeError, Error, VerificationError};
use crate::manifest::MAX_OPTIONS;
use crate::transcript::TranscriptProtocol;

/// Proof-kind label of the selection-count proof.
pub const PROOF_KIND: &[u8] = b"selection-count";
/// Largest number of branches (`max − min + 1 ≤ MAX_OPTIONS + 1`).
pub const MAX_BRANCHES: usize = MAX_OPTIONS + 1;
const LABEL_CONTEST: &[u8] = b"contest";
const LABEL_OPTION_COUNT: &[u8] = b"option-count";
const LABEL_OPTION_ALPHA: &[u8] = b"option-alpha";
const LABEL_OPTION_BETA: &[u8] = b"option-beta";
const LABEL_MIN: &[u8] = b"min";
const LABEL_MAX: &[u8] = b"max";

/// A proof that the sum of a contest's option ciphertexts encrypts a count in
/// `[min, max]` (see the module documentation).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SelectionProof(DisjunctiveProof);

fn absorb(
    t: &mut Transcript,
    ctx: &ProofContext,
    contest: usize,
    option_bytes: &[[CompressedRistretto; 2]],
    min: u32,
    max: u32,
) {
    t.domain_sep(PROOF_KIND);
    ctx.absorb(t);
    t.append_u64_be(LABEL_CONTEST, contest as u64);
    t.append_u64_be(LABEL_OPTION_COUNT, option_bytes.len() as u64);
    for [a, b] in option_bytes {
        t.append_bytes(LABEL_OPTION_ALPHA, a.as_bytes());
        t.append_bytes(LABEL_OPTION_BETA, b.as_bytes());
    }
    t.append_u64_be(LABEL_MIN, u64::from(min));
    t.append_u64_be(LABEL_MAX, u64::from(max));
}

fn values(min: u32, max: u32) -> Vec<u64> {
    (u64::from(min)..=u64::from(max)).collect()
}

impl SelectionProof {
    /// Proves that the option ciphertexts' sum encrypts `k` with `min ≤ k ≤ max`, where
    /// `r_sum` is the sum of the option nonces. Fails if `min > max`, if the range
    /// exceeds [`MAX_BRANCHES`] values, or if `k` is outside the range.
    #[allow(clippy::too_many_arguments)]
    pub fn prove(
        t: &mut Transcript,
        ctx: &ProofContext,
        contest: usize,
        ciphertexts: &[Ciphertext],
        min: u32,
        max: u32,
        k: u64,
        r_sum: &Nonce,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, Error> {
        let bytes: Vec<_> = ciphertexts.iter().map(Ciphertext::compress).collect();
        Self::prove_with_bytes(
            t,
            ctx,
            contest,
            ciphertexts,
            &bytes,
            min,
            max,
            k,
            r_sum,
            rng,
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn prove_with_bytes(
        t: &mut Transcript,
        ctx: &ProofContext,
        contest: usize,
        ciphertexts: &[Ciphertext],
        option_bytes: &[[CompressedRistretto; 2]],
        min: u32,
        max: u32,
        k: u64,
        r_sum: &Nonce,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, Error> {
        if min > max || (max - min) as usize >= MAX_BRANCHES {
            return Err(Error::InvalidArgument(
                "selection range must have min <= max".into(),
            ));
        }
        absorb(t, ctx, contest, option_bytes, min, max);
        let sum: Ciphertext = ciphertexts.iter().sum();
        let proof = DisjunctiveProof::prove(
            t,
            ctx.public_key.as_point(),
            &sum,
            &values(min, max),
            k,
            r_sum.expose_secret(),
            rng,
        )?;
        Ok(Self(proof))
    }

    /// Verifies alone (PROTOCOL 6.3); fails with
    /// [`VerificationError::SelectionCountProof`].
    pub fn verify(
        &self,
        t: &mut Transcript,
        ctx: &ProofContext,
        contest: usize,
        ciphertexts: &[Ciphertext],
        min: u32,
        max: u32,
    ) -> Result<(), VerificationError> {
        let bytes: Vec<_> = ciphertexts.iter().map(Ciphertext::compress).collect();
        self.verify_with_bytes(t, ctx, contest, ciphertexts, &bytes, min, max)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn verify_with_bytes(
        &self,
        t: &mut Transcript,
        ctx: &ProofContext,
        contest: usize,
        ciphertexts: &[Ciphertext],
        option_bytes: &[[CompressedRistretto; 2]],
        min: u32,
        max: u32,
    ) -> Result<(), VerificationError> {
        let fail = VerificationError::SelectionCountProof { contest };
        if min > max {
            return Err(fail);
        }
        absorb(t, ctx, contest, option_bytes, min, max);
        let sum: Ciphertext = ciphertexts.iter().sum();
        self.0
            .verify(t, ctx.public_key.as_point(), &sum, &values(min, max))
            .map_err(|_| fail)
    }

    /// Checks the challenge sum now and defers the group equations to `batch`
    /// (PROTOCOL 6.5).
    #[allow(clippy::too_many_arguments)]
    pub fn verify_batched(
        &self,
        t: &mut Transcript,
        ctx: &ProofContext,
        contest: usize,
        ciphertexts: &[Ciphertext],
        min: u32,
        max: u32,
        batch: &mut BatchVerifier,
    ) -> Result<(), VerificationError> {
        let bytes: Vec<_> = ciphertexts.iter().map(Ciphertext::compress).collect();
        self.verify_batched_with_bytes(t, ctx, contest, ciphertexts, &bytes, min, max, batch)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn verify_batched_with_bytes(
        &self,
        t: &mut Transcript,
        ctx: &ProofContext,
        contest: usize,
        ciphertexts: &[Ciphertext],
        option_bytes: &[[CompressedRistretto; 2]],
        min: u32,
        max: u32,
        batch: &mut BatchVerifier,
    ) -> Result<(), VerificationError> {
        let fail = VerificationError::SelectionCountProof { contest };
        if min > max {
            return Err(fail);
        }
        absorb(t, ctx, contest, option_bytes, min, max);
        let sum: Ciphertext = ciphertexts.iter().sum();
        self.0
            .verify_batched(t, ctx.public_key.as_point(), &sum, &values(min, max), batch)
            .map_err(|_| fail)
    }

    /// The branches, one per value `min..=max`.
    pub fn branches(&self) -> &[Branch] {
        self.0.branches()
    }
}

impl Encode for SelectionProof {
    fn encode(&self, w: &mut Writer) {
        w.seq(self.0.branches());
    }
}

impl Decode for SelectionProof {
    const MIN_ENCODED_LEN: usize = 4 + Branch::ENCODED_LEN;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let branches: Vec<Branch> = r.seq("selection proof branches", MAX_BRANCHES)?;
        if branches.is_empty() {
            return Err(DecodeError::InvalidValue {
                what: "selection proof",
                reason: "no branches",
            });
        }
        Ok(Self(DisjunctiveProof::from_branches(branches)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests
mod tests {
    use super::*;
    use crate::elgamal::ElectionPublicKey;
    use crate::group::{random_scalar, G};
    use crate::proofs::BALLOT_TRANSCRIPT_LABEL;
    use curve25519_dalek::scalar::Scalar;
    use rand_chacha::rand_core::SeedableRng;
    use urna_circuits::Nullifier;

    fn t() -> Transcript {
        Transcript::new(BALLOT_TRANSCRIPT_LABEL)
    }

    fn setup(
        votes: &[u64],
    ) -> (
        rand_chacha::ChaCha20Rng,
        ProofContext,
        Vec<Ciphertext>,
        Nonce,
    ) {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(31);
        let public_key = ElectionPublicKey::from_point(random_scalar(&mut rng) * G).unwrap();
        let ctx = ProofContext {
            manifest_hash: [5; 32],
            public_key,
            nullifier: Nullifier::from_bytes(&[6; 32]).unwrap(),
        };
        let mut cts = Vec::new();
        let mut r = Scalar::ZERO;
        for m in votes {
            let (c, n) = public_key.encrypt_random(*m, &mut rng);
            cts.push(c);
            r += n.expose_secret();
        }
        (rng, ctx, cts, Nonce::from_scalar(r))
    }

    #[test]
    fn counts_inside_the_range_verify() {
        let (mut rng, ctx, cts, r) = setup(&[1, 0, 1, 0, 0]);
        for (min, max) in [(0, 5), (2, 2), (1, 3), (0, 2), (2, 5)] {
            let p =
                SelectionProof::prove(&mut t(), &ctx, 0, &cts, min, max, 2, &r, &mut rng).unwrap();
            assert_eq!(p.branches().len(), (max - min + 1) as usize);
            assert_eq!(p.verify(&mut t(), &ctx, 0, &cts, min, max), Ok(()));
            let bytes = p.encoded();
            assert_eq!(
                SelectionProof::decode(&mut Reader::new(&bytes)).as_ref(),
                Ok(&p)
            );
        }
    }

    #[test]
    fn count_outside_the_range_is_rejected() {
        let (mut rng, ctx, cts, r) = setup(&[1, 1, 1, 0, 0]);
        // k = 3 is not in [1, 2]: the prover refuses...
        assert!(SelectionProof::prove(&mut t(), &ctx, 0, &cts, 1, 2, 3, &r, &mut rng).is_err());
        // ...and a proof made by lying about k does not verify.
        let p = SelectionProof::prove(&mut t(), &ctx, 0, &cts, 1, 2, 2, &r, &mut rng).unwrap();
        assert_eq!(
            p.verify(&mut t(), &ctx, 0, &cts, 1, 2),
            Err(VerificationError::SelectionCountProof { contest: 0 })
        );
        // A valid proof for [0, 3] does not pass as a proof for [0, 2] or [1, 3].
        let p = SelectionProof::prove(&mut t(), &ctx, 0, &cts, 0, 3, 3, &r, &mut rng).unwrap();
        assert!(p.verify(&mut t(), &ctx, 0, &cts, 0, 3).is_ok());
        assert!(p.verify(&mut t(), &ctx, 0, &cts, 0, 2).is_err());
        assert!(p.verify(&mut t(), &ctx, 0, &cts, 1, 3).is_err());
        assert!(p.verify(&mut t(), &ctx, 1, &cts, 0, 3).is_err());
        assert!(p.verify(&mut t(), &ctx, 0, &cts[..4], 0, 3).is_err());
    }
}
