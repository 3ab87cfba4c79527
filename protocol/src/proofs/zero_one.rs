//! Proof that an option ciphertext encrypts 0 or 1 (PROTOCOL 6.2).
//!
//! # Construction
//!
//! Statement: the [`ProofContext`] (manifest hash, `h`, nullifier), the contest and
//! option indices, and the ciphertext `(α, β)`. Claim: `(α, β)` encrypts `m ∈ {0, 1}`,
//! i.e. `log_G α = log_h β` or `log_G α = log_h (β − G)`.
//!
//! * **Transcript** (in order): `dom-sep "urna/v1"`, `proof-kind "zero-one"`,
//!   `manifest-hash`, `election-public-key`, `nullifier`, `contest` (u64), `option`
//!   (u64), `alpha`, `beta`, then the disjunctive part: `value-count = 2`, `value = 0`,
//!   `value = 1`, `a`, `b` of branch 0, `a`, `b` of branch 1; challenge `c`.
//! * **Commit / response**: the CDS OR-proof of [`super::disjunctive`] with values
//!   `(m_0, m_1) = (0, 1)`.
//! * **Verification**: `c_0 + c_1 = c`; for `j ∈ {0, 1}`: `z_j·G = a_j + c_j·α` and
//!   `z_j·h = b_j + c_j·(β − j·G)`.
//!
//! # Implementation details
//!
//! 256 bytes: two branches `(a_j, b_j, c_j, z_j)`, no length prefix (the count is fixed).
//! The prover is constant-time in the vote and the nonce. Because the nullifier is in
//! the transcript, a ciphertext copied into another voter's ballot fails its proof
//! (Cortier-Smyth replay).
//!
//! # Example
//!
//! ```
//! use merlin::Transcript;
//! use rand_chacha::rand_core::SeedableRng;
//! use urna_circuits::Nullifier;
//! use urna_protocol::elgamal::ElectionPublicKey;
//! use urna_protocol::group::{random_scalar, G};
//! use urna_protocol::proofs::{ProofContext, ZeroOneProof, BALLOT_TRANSCRIPT_LABEL};
//!
//! let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let public_key = ElectionPublicKey::from_point(random_scalar(&mut rng) * G).unwrap();
//! let ctx = ProofContext {
//!     manifest_hash: [7; 32],
//!     public_key,
//!     nullifier: Nullifier::from_bytes(&[1; 32]).unwrap(),
//! };
//! let (ct, r) = public_key.encrypt_random(1, &mut rng);
//! let proof = ZeroOneProof::prove(
//!     &mut Transcript::new(BALLOT_TRANSCRIPT_LABEL), &ctx, 0, 3, &ct, true, &r, &mut rng,
//! ).unwrap();
//! assert!(proof.verify(&mut Transcript::new(BALLOT_TRANSCRIPT_LABEL), &ctx, 0, 3, &ct).is_ok());
//! // The same proof for another option index fails.
//! assert!(proof.verify(&mut Transcript::new(BALLOT_TRANSCRIPT_LABEL), &ctx, 0, 4, &ct).is_err());
//! ```

use curve25519_dalek::ristretto::CompressedRistretto;
use merlin::Transcript;
use rand_core::CryptoRngCore;

use super::disjunctive::{Branch, DisjunctiveProof};
use super::{BatchVerifier, ProofContext};
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::elgamal::{Ciphertext, Nonce};
use crate::error::{DecodeError, Error, VerificationError};
use crate::transcript::TranscriptProtocol;

/// Proof-kind label of the 0/1 proof.
pub const PROOF_KIND: &[u8] = b"zero-one";
const LABEL_CONTEST: &[u8] = b"contest";
const LABEL_OPTION: &[u8] = b"option";
const LABEL_ALPHA: &[u8] = b"alpha";
const LABEL_BETA: &[u8] = b"beta";
const VALUES: [u64; 2] = [0, 1];

/// A proof that an option ciphertext encrypts 0 or 1 (see the module documentation).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ZeroOneProof(DisjunctiveProof);

fn absorb(
    t: &mut Transcript,
    ctx: &ProofContext,
    contest: usize,
    option: usize,
    ct_bytes: &[CompressedRistretto; 2],
) {
    t.domain_sep(PROOF_KIND);
    ctx.absorb(t);
    t.append_u64_be(LABEL_CONTEST, contest as u64);
    t.append_u64_be(LABEL_OPTION, option as u64);
    t.append_bytes(LABEL_ALPHA, ct_bytes[0].as_bytes());
    t.append_bytes(LABEL_BETA, ct_bytes[1].as_bytes());
}

impl ZeroOneProof {
    /// Encoded size in bytes.
    pub const ENCODED_LEN: usize = 2 * Branch::ENCODED_LEN;

    /// Proves that `ct = encrypt(vote, r)` encrypts 0 or 1. Constant-time in `vote`
    /// and `r`.
    #[allow(clippy::too_many_arguments)]
    pub fn prove(
        t: &mut Transcript,
        ctx: &ProofContext,
        contest: usize,
        option: usize,
        ct: &Ciphertext,
        vote: bool,
        r: &Nonce,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, Error> {
        Self::prove_with_bytes(t, ctx, contest, option, ct, &ct.compress(), vote, r, rng)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn prove_with_bytes(
        t: &mut Transcript,
        ctx: &ProofContext,
        contest: usize,
        option: usize,
        ct: &Ciphertext,
        ct_bytes: &[CompressedRistretto; 2],
        vote: bool,
        r: &Nonce,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, Error> {
        absorb(t, ctx, contest, option, ct_bytes);
        let proof = DisjunctiveProof::prove(
            t,
            ctx.public_key.as_point(),
            ct,
            &VALUES,
            u64::from(vote),
            r.expose_secret(),
            rng,
        )?;
        Ok(Self(proof))
    }

    /// Verifies alone (PROTOCOL 6.2); fails with [`VerificationError::ZeroOneProof`].
    pub fn verify(
        &self,
        t: &mut Transcript,
        ctx: &ProofContext,
        contest: usize,
        option: usize,
        ct: &Ciphertext,
    ) -> Result<(), VerificationError> {
        self.verify_with_bytes(t, ctx, contest, option, ct, &ct.compress())
    }

    pub(crate) fn verify_with_bytes(
        &self,
        t: &mut Transcript,
        ctx: &ProofContext,
        contest: usize,
        option: usize,
        ct: &Ciphertext,
        ct_bytes: &[CompressedRistretto; 2],
    ) -> Result<(), VerificationError> {
        absorb(t, ctx, contest, option, ct_bytes);
        self.0
            .verify(t, ctx.public_key.as_point(), ct, &VALUES)
            .map_err(|_| VerificationError::ZeroOneProof { contest, option })
    }

    /// Checks the challenge sum now and defers the group equations to `batch`
    /// (PROTOCOL 6.5).
    pub fn verify_batched(
        &self,
        t: &mut Transcript,
        ctx: &ProofContext,
        contest: usize,
        option: usize,
        ct: &Ciphertext,
        batch: &mut BatchVerifier,
    ) -> Result<(), VerificationError> {
        self.verify_batched_with_bytes(t, ctx, contest, option, ct, &ct.compress(), batch)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn verify_batched_with_bytes(
        &self,
        t: &mut Transcript,
        ctx: &ProofContext,
        contest: usize,
        option: usize,
        ct: &Ciphertext,
        ct_bytes: &[CompressedRistretto; 2],
        batch: &mut BatchVerifier,
    ) -> Result<(), VerificationError> {
        absorb(t, ctx, contest, option, ct_bytes);
        self.0
            .verify_batched(t, ctx.public_key.as_point(), ct, &VALUES, batch)
            .map_err(|_| VerificationError::ZeroOneProof { contest, option })
    }

    /// The two branches.
    pub fn branches(&self) -> &[Branch] {
        self.0.branches()
    }
}

impl Encode for ZeroOneProof {
    fn encode(&self, w: &mut Writer) {
        self.0.encode_branches(w);
    }
}

impl Decode for ZeroOneProof {
    const MIN_ENCODED_LEN: usize = Self::ENCODED_LEN;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let b0 = Branch::decode(r)?;
        let b1 = Branch::decode(r)?;
        Ok(Self(DisjunctiveProof::from_branches(alloc::vec![b0, b1])))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests
mod tests {
    use super::*;
    use crate::elgamal::ElectionPublicKey;
    use crate::group::{random_scalar, G};
    use crate::proofs::BALLOT_TRANSCRIPT_LABEL;
    use rand_chacha::rand_core::SeedableRng;
    use urna_circuits::Nullifier;

    fn t() -> Transcript {
        Transcript::new(BALLOT_TRANSCRIPT_LABEL)
    }

    fn setup() -> (rand_chacha::ChaCha20Rng, ProofContext) {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(21);
        let public_key = ElectionPublicKey::from_point(random_scalar(&mut rng) * G).unwrap();
        let ctx = ProofContext {
            manifest_hash: [9; 32],
            public_key,
            nullifier: Nullifier::from_bytes(&[3; 32]).unwrap(),
        };
        (rng, ctx)
    }

    #[test]
    fn zero_and_one_verify_and_round_trip() {
        let (mut rng, ctx) = setup();
        for vote in [false, true] {
            let (ct, r) = ctx.public_key.encrypt_random(u64::from(vote), &mut rng);
            let p = ZeroOneProof::prove(&mut t(), &ctx, 1, 2, &ct, vote, &r, &mut rng).unwrap();
            assert_eq!(p.verify(&mut t(), &ctx, 1, 2, &ct), Ok(()));
            let bytes = p.encoded();
            assert_eq!(bytes.len(), ZeroOneProof::ENCODED_LEN);
            let mut rd = Reader::new(&bytes);
            assert_eq!(ZeroOneProof::decode(&mut rd).as_ref(), Ok(&p));
        }
    }

    #[test]
    fn encryption_of_two_has_no_valid_proof() {
        let (mut rng, ctx) = setup();
        let (ct, r) = ctx.public_key.encrypt_random(2, &mut rng);
        for vote in [false, true] {
            let p = ZeroOneProof::prove(&mut t(), &ctx, 0, 0, &ct, vote, &r, &mut rng).unwrap();
            assert_eq!(
                p.verify(&mut t(), &ctx, 0, 0, &ct),
                Err(VerificationError::ZeroOneProof {
                    contest: 0,
                    option: 0
                })
            );
        }
    }

    #[test]
    fn statement_changes_are_rejected() {
        let (mut rng, ctx) = setup();
        let (ct, r) = ctx.public_key.encrypt_random(1, &mut rng);
        let p = ZeroOneProof::prove(&mut t(), &ctx, 0, 0, &ct, true, &r, &mut rng).unwrap();
        let mut other = ctx;
        other.manifest_hash[0] ^= 1;
        assert!(p.verify(&mut t(), &other, 0, 0, &ct).is_err());
        let mut other = ctx;
        other.nullifier = Nullifier::from_bytes(&[4; 32]).unwrap();
        assert!(p.verify(&mut t(), &other, 0, 0, &ct).is_err());
        let mut other = ctx;
        other.public_key = ElectionPublicKey::from_point(random_scalar(&mut rng) * G).unwrap();
        assert!(p.verify(&mut t(), &other, 0, 0, &ct).is_err());
        assert!(p.verify(&mut t(), &ctx, 1, 0, &ct).is_err());
        assert!(p.verify(&mut t(), &ctx, 0, 1, &ct).is_err());
        let mut ct2 = ct;
        ct2.beta += G;
        assert!(p.verify(&mut t(), &ctx, 0, 0, &ct2).is_err());
        assert!(p
            .verify(&mut Transcript::new(b"other"), &ctx, 0, 0, &ct)
            .is_err());
    }
}
