//! The one relation behind every validity proof (PROTOCOL 6.4): a ciphertext encrypts
//! one of a public list of values.
//!
//! # Construction
//!
//! Statement: generators `G`, `h`, a ciphertext `(α, β)` and public values
//! `m_0, …, m_{n−1}`. Witness: an index `i` and the nonce `r` with `α = r·G` and
//! `β = m_i·G + r·h`. For each branch `j` the claim is a Chaum-Pedersen equality of
//! discrete logs: `log_G α = log_h (β − m_j·G)`. The OR-composition (CDS):
//!
//! * **Commit.** For every `j ≠ i` pick `c_j, z_j` at random and *simulate*
//!   `a_j = z_j·G − c_j·α`, `b_j = z_j·h − c_j·(β − m_j·G)`. For `j = i` pick `w` at
//!   random and set `a_i = w·G`, `b_i = w·h`.
//! * **Challenge.** After the caller has absorbed the statement (including the
//!   ciphertext or what it is computed from), absorb the values (`n`, then each `m_j`)
//!   and every `(a_j, b_j)`; draw `c`.
//! * **Response.** `c_i = c − Σ_{j≠i} c_j`, `z_i = w + c_i·r`. The proof is
//!   `(a_j, b_j, c_j, z_j)` for every `j`.
//! * **Verification.** Recompute `c` from the transcript; check `Σ_j c_j = c` and, for
//!   every `j`,
//!   - (E1) `z_j·G = a_j + c_j·α`,
//!   - (E2) `z_j·h = b_j + c_j·(β − m_j·G)`.
//!
//! Batched (PROTOCOL 6.5) with 128-bit weights `ρ_j, σ_j`, the equations add the terms
//! `ρ_j·a_j + σ_j·b_j + (Σ ρ_j c_j)·α + (Σ σ_j c_j)·β − (ρ_j z_j + σ_j c_j m_j)·G −
//! σ_j z_j·h`, which must sum to the identity.
//!
//! # Implementation details
//!
//! A branch is 128 bytes (`a`, `b` compressed; `c`, `z` canonical scalars). The prover is
//! constant-time in `i` and `r`: every branch is computed by the same formula,
//! `a_j = u_j·G − e_j·α`, `b_j = u_j·h − e_j·(β − m_j·G)`, where `(u_j, e_j)` is
//! `(z_j, c_j)` for a simulated branch and `(w, 0)` for the real one, chosen with
//! `subtle` conditional selection; the final `c_j, z_j` are selected the same way.
//! Verification is variable-time (public data only).
//!
//! # Example
//!
//! ```
//! // Note: real proofs absorb their statement first (see `zero_one`, `selection`).
//! use merlin::Transcript;
//! use rand_chacha::rand_core::SeedableRng;
//! use urna_protocol::elgamal::ElectionPublicKey;
//! use urna_protocol::group::{random_scalar, G};
//! use urna_protocol::proofs::DisjunctiveProof;
//!
//! let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let pk = ElectionPublicKey::from_point(random_scalar(&mut rng) * G).unwrap();
//! let (ct, r) = pk.encrypt_random(2, &mut rng);
//! let values = [1, 2, 3];
//! let proof = DisjunctiveProof::prove(
//!     &mut Transcript::new(b"example"), pk.as_point(), &ct, &values, 2,
//!     r.expose_secret(), &mut rng,
//! ).unwrap();
//! assert!(proof
//!     .verify(&mut Transcript::new(b"example"), pk.as_point(), &ct, &values)
//!     .is_ok());
//! ```

use alloc::vec::Vec;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{MultiscalarMul, VartimeMultiscalarMul};
use merlin::Transcript;
use rand_core::CryptoRngCore;
use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroize;

use super::{BatchVerifier, CompressedPoint};
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::elgamal::Ciphertext;
use crate::error::{DecodeError, Error};
use crate::group::random_scalar;
use crate::transcript::TranscriptProtocol;

const LABEL_VALUE_COUNT: &[u8] = b"value-count";
const LABEL_VALUE: &[u8] = b"value";
const LABEL_A: &[u8] = b"a";
const LABEL_B: &[u8] = b"b";
const LABEL_CHALLENGE: &[u8] = b"c";

/// One branch `(a_j, b_j, c_j, z_j)` of a disjunctive proof.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Branch {
    /// `a_j`, the commitment on `G`.
    pub a: CompressedPoint,
    /// `b_j`, the commitment on `h`.
    pub b: CompressedPoint,
    /// The branch challenge `c_j`.
    pub c: Scalar,
    /// The response `z_j`.
    pub z: Scalar,
}

impl Branch {
    /// Encoded size in bytes.
    pub const ENCODED_LEN: usize = 128;
}

impl Encode for Branch {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.a);
        w.put(&self.b);
        w.scalar(&self.c);
        w.scalar(&self.z);
    }
}

impl Decode for Branch {
    const MIN_ENCODED_LEN: usize = Self::ENCODED_LEN;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            a: r.get()?,
            b: r.get()?,
            c: r.scalar("branch challenge")?,
            z: r.scalar("branch response")?,
        })
    }
}

/// A proof that a ciphertext encrypts one of a list of public values (see the module
/// documentation). One branch per value, in the order of the values.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DisjunctiveProof {
    branches: Vec<Branch>,
}

/// Why a disjunctive proof does not verify (mapped by callers to a named error).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DisjunctiveFailure {
    /// The proof has a branch count other than the number of values.
    BranchCount,
    /// `Σ c_j ≠ c`.
    ChallengeSum,
    /// Equation E1 of the branch failed.
    E1(usize),
    /// Equation E2 of the branch failed.
    E2(usize),
}

fn absorb_values(t: &mut Transcript, values: &[u64]) {
    t.append_u64_be(LABEL_VALUE_COUNT, values.len() as u64);
    for m in values {
        t.append_u64_be(LABEL_VALUE, *m);
    }
}

fn challenge(t: &mut Transcript, branches: &[Branch]) -> Scalar {
    for br in branches {
        t.append_bytes(LABEL_A, br.a.bytes().as_bytes());
        t.append_bytes(LABEL_B, br.b.bytes().as_bytes());
    }
    t.challenge_scalar(LABEL_CHALLENGE)
}

impl DisjunctiveProof {
    /// Wraps branches (e.g. decoded ones).
    pub fn from_branches(branches: Vec<Branch>) -> Self {
        Self { branches }
    }

    /// The branches, one per value.
    pub fn branches(&self) -> &[Branch] {
        &self.branches
    }

    /// Proves that `ct` encrypts `m`, one of `values`, with nonce `r` under `h`. The
    /// transcript must already hold the statement (domain label, manifest hash, key,
    /// nullifier, indices, the ciphertext); this absorbs the values and the commitments.
    ///
    /// Constant-time in `m` and `r`. Fails if `m` is not among `values` (no proof
    /// exists). If `ct` is not an encryption of `m` with `r`, the proof will not verify.
    pub fn prove(
        t: &mut Transcript,
        h: &RistrettoPoint,
        ct: &Ciphertext,
        values: &[u64],
        m: u64,
        r: &Scalar,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, Error> {
        let n = values.len();
        let is_real: Vec<subtle::Choice> = values.iter().map(|v| v.ct_eq(&m)).collect();
        let found = is_real
            .iter()
            .fold(subtle::Choice::from(0), |acc, c| acc | *c);
        if !bool::from(found) {
            return Err(Error::InvalidArgument(
                "value is not among the proof's values".into(),
            ));
        }
        absorb_values(t, values);

        let mut w: Vec<Scalar> = (0..n).map(|_| random_scalar(rng)).collect();
        let c_sim: Vec<Scalar> = (0..n).map(|_| random_scalar(rng)).collect();
        let z_sim: Vec<Scalar> = (0..n).map(|_| random_scalar(rng)).collect();
        let mut branches = Vec::with_capacity(n);
        let mut e_sum = Scalar::ZERO;
        for j in 0..n {
            // (u_j, e_j) = (w_j, 0) on the real branch, (z_j, c_j) on simulated ones.
            let mut u = z_sim[j];
            u.conditional_assign(&w[j], is_real[j]);
            let e = Scalar::conditional_select(&c_sim[j], &Scalar::ZERO, is_real[j]);
            e_sum += e;
            let a = RistrettoPoint::multiscalar_mul([u, -e], [RISTRETTO_BASEPOINT_POINT, ct.alpha]);
            let b = RistrettoPoint::multiscalar_mul(
                [u, -e, e * Scalar::from(values[j])],
                [*h, ct.beta, RISTRETTO_BASEPOINT_POINT],
            );
            u.zeroize();
            branches.push(Branch {
                a: CompressedPoint::new(a),
                b: CompressedPoint::new(b),
                c: Scalar::ZERO,
                z: Scalar::ZERO,
            });
        }
        let c = challenge(t, &branches);
        let c_real = c - e_sum;
        for (j, br) in branches.iter_mut().enumerate() {
            let mut z_real = w[j] + c_real * r;
            br.c = Scalar::conditional_select(&c_sim[j], &c_real, is_real[j]);
            br.z = Scalar::conditional_select(&z_sim[j], &z_real, is_real[j]);
            z_real.zeroize();
        }
        w.zeroize();
        Ok(Self { branches })
    }

    /// Recomputes the challenge and checks `Σ c_j = c` (PROTOCOL 6.4, first check).
    fn check_challenge(
        &self,
        t: &mut Transcript,
        values: &[u64],
    ) -> Result<(), DisjunctiveFailure> {
        if self.branches.len() != values.len() {
            return Err(DisjunctiveFailure::BranchCount);
        }
        absorb_values(t, values);
        let c = challenge(t, &self.branches);
        let sum: Scalar = self.branches.iter().map(|br| br.c).sum();
        if sum != c {
            return Err(DisjunctiveFailure::ChallengeSum);
        }
        Ok(())
    }

    /// Verifies alone: the challenge sum, then E1 and E2 of every branch (variable-time).
    pub fn verify(
        &self,
        t: &mut Transcript,
        h: &RistrettoPoint,
        ct: &Ciphertext,
        values: &[u64],
    ) -> Result<(), DisjunctiveFailure> {
        self.check_challenge(t, values)?;
        for (j, (br, m)) in self.branches.iter().zip(values).enumerate() {
            // E1: z_j·G − c_j·α = a_j
            let lhs1 =
                RistrettoPoint::vartime_double_scalar_mul_basepoint(&-br.c, &ct.alpha, &br.z);
            if lhs1 != *br.a.point() {
                return Err(DisjunctiveFailure::E1(j));
            }
            // E2: z_j·h − c_j·β + c_j·m_j·G = b_j
            let lhs2 = RistrettoPoint::vartime_multiscalar_mul(
                [br.z, -br.c, br.c * Scalar::from(*m)],
                [*h, ct.beta, RISTRETTO_BASEPOINT_POINT],
            );
            if lhs2 != *br.b.point() {
                return Err(DisjunctiveFailure::E2(j));
            }
        }
        Ok(())
    }

    /// Checks the challenge sum now and adds E1 and E2 of every branch to `batch`
    /// with fresh weights (PROTOCOL 6.5).
    pub fn verify_batched(
        &self,
        t: &mut Transcript,
        h: &RistrettoPoint,
        ct: &Ciphertext,
        values: &[u64],
        batch: &mut BatchVerifier,
    ) -> Result<(), DisjunctiveFailure> {
        self.check_challenge(t, values)?;
        // The negated form of E1, E2 (PROTOCOL 6.5): the commitments keep the short
        // weights as their scalars, which the MSM handles at half the cost of full ones.
        let mut g = Scalar::ZERO;
        let mut hs = Scalar::ZERO;
        let mut alpha = Scalar::ZERO;
        let mut beta = Scalar::ZERO;
        for (br, m) in self.branches.iter().zip(values) {
            let rho = batch.weight();
            let sigma = batch.weight();
            let sigma_c = sigma * br.c;
            g -= rho * br.z + sigma_c * Scalar::from(*m);
            hs -= sigma * br.z;
            alpha += rho * br.c;
            beta += sigma_c;
            batch.add(rho, *br.a.point());
            batch.add(sigma, *br.b.point());
        }
        batch.add_g(g);
        batch.add_h(h, hs);
        batch.add(alpha, ct.alpha);
        batch.add(beta, ct.beta);
        Ok(())
    }

    /// Encodes exactly the branches (their count is fixed by the statement).
    pub(crate) fn encode_branches(&self, w: &mut Writer) {
        for br in &self.branches {
            br.encode(w);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests
mod tests {
    use super::*;
    use crate::elgamal::ElectionPublicKey;
    use crate::group::G;
    use rand_chacha::rand_core::SeedableRng;

    fn setup() -> (rand_chacha::ChaCha20Rng, ElectionPublicKey) {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
        let pk = ElectionPublicKey::from_point(random_scalar(&mut rng) * G).unwrap();
        (rng, pk)
    }

    #[test]
    fn every_value_proves_and_verifies_alone_and_batched() {
        let (mut rng, pk) = setup();
        let values = [0u64, 1, 2, 3];
        let mut batch = BatchVerifier::new(&mut rng);
        for m in values {
            let (ct, r) = pk.encrypt_random(m, &mut rng);
            let p = DisjunctiveProof::prove(
                &mut Transcript::new(b"t"),
                pk.as_point(),
                &ct,
                &values,
                m,
                r.expose_secret(),
                &mut rng,
            )
            .unwrap();
            assert_eq!(
                p.verify(&mut Transcript::new(b"t"), pk.as_point(), &ct, &values),
                Ok(())
            );
            p.verify_batched(
                &mut Transcript::new(b"t"),
                pk.as_point(),
                &ct,
                &values,
                &mut batch,
            )
            .unwrap();
        }
        assert_eq!(batch.finish(), Ok(()));
    }

    #[test]
    fn value_outside_the_list_cannot_be_proved_or_forged() {
        let (mut rng, pk) = setup();
        let values = [0u64, 1];
        let (ct, r) = pk.encrypt_random(2, &mut rng);
        assert!(DisjunctiveProof::prove(
            &mut Transcript::new(b"t"),
            pk.as_point(),
            &ct,
            &values,
            2,
            r.expose_secret(),
            &mut rng
        )
        .is_err());
        // Lying about m: claim 1 while the ciphertext holds 2.
        let p = DisjunctiveProof::prove(
            &mut Transcript::new(b"t"),
            pk.as_point(),
            &ct,
            &values,
            1,
            r.expose_secret(),
            &mut rng,
        )
        .unwrap();
        assert!(p
            .verify(&mut Transcript::new(b"t"), pk.as_point(), &ct, &values)
            .is_err());
        let mut batch = BatchVerifier::new(&mut rng);
        p.verify_batched(
            &mut Transcript::new(b"t"),
            pk.as_point(),
            &ct,
            &values,
            &mut batch,
        )
        .unwrap();
        assert!(batch.finish().is_err());
    }
}
