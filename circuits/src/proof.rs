//! Proving and verifying one eligibility proof (PROTOCOL 10.4, 10.5).

use ark_bn254::{Bn254, Fr};
use ark_ec::AffineRepr;
use ark_ff::UniformRand;
use ark_groth16::Groth16;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use rand_core::CryptoRngCore;

use crate::census::MerklePath;
use crate::circuit::EligibilityCircuit;
use crate::error::CircuitError;
use crate::keys::{PreparedVerifyingKey, ProvingKey, VerifyingKey};
use crate::poseidon::NativePoseidon;
use crate::secret::VoterSecret;
use crate::statement::{public_input, EligibilityStatement};

/// Length of an encoded proof: compressed `A` (G1, 32) `|| B` (G2, 64) `|| C` (G1, 32).
pub const PROOF_LEN: usize = 128;

/// A Groth16 eligibility proof.
///
/// Groth16 proofs are malleable (anyone can re-randomize one into other valid bytes for
/// the same statement), so a ballot's identity is its nullifier and digest, never these
/// bytes.
#[derive(Clone)]
pub struct EligibilityProof {
    pub(crate) inner: ark_groth16::Proof<Bn254>,
    bytes: [u8; PROOF_LEN],
}

impl core::fmt::Debug for EligibilityProof {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "EligibilityProof({} bytes)", PROOF_LEN)
    }
}

impl PartialEq for EligibilityProof {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for EligibilityProof {}

impl EligibilityProof {
    /// Wraps an arkworks proof (points the caller made, so already on their curves).
    pub fn from_ark(inner: ark_groth16::Proof<Bn254>) -> Result<Self, CircuitError> {
        let mut bytes = [0u8; PROOF_LEN];
        inner
            .serialize_compressed(&mut bytes[..])
            .map_err(|_| CircuitError::InvalidEncoding {
                what: "eligibility proof",
            })?;
        Ok(Self { inner, bytes })
    }

    /// Decodes the 128-byte canonical encoding with full checks: each point on its curve
    /// and in the prime-order subgroup, none the identity, and the canonical re-encoding
    /// equal to the input.
    ///
    /// G1 has cofactor 1, so `A` and `C` are in their group once on the curve; `B` is
    /// tested with [`crate::subgroup::g2_in_subgroup`] (the same verdict as arkworks'
    /// `Validate::Yes`, at about half the cost).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CircuitError> {
        let arr: [u8; PROOF_LEN] = bytes.try_into().map_err(|_| CircuitError::LenMismatch {
            what: "eligibility proof",
            expected: PROOF_LEN,
            actual: bytes.len(),
        })?;
        // Decompression solves the curve equation for y, so the points are on their
        // curves; the checks below make that explicit and add G2's subgroup test.
        let inner = ark_groth16::Proof::<Bn254>::deserialize_with_mode(
            &arr[..],
            Compress::Yes,
            Validate::No,
        )
        .map_err(|_| CircuitError::InvalidEncoding {
            what: "eligibility proof",
        })?;
        if !(inner.a.is_on_curve() && inner.c.is_on_curve() && inner.b.is_on_curve()) {
            return Err(CircuitError::InvalidEncoding {
                what: "eligibility proof (point not on its curve)",
            });
        }
        if !crate::subgroup::g2_in_subgroup(&inner.b) {
            return Err(CircuitError::InvalidEncoding {
                what: "eligibility proof (B not in G2)",
            });
        }
        if inner.a.is_zero() || inner.b.is_zero() || inner.c.is_zero() {
            return Err(CircuitError::InvalidEncoding {
                what: "eligibility proof (identity point)",
            });
        }
        let proof = Self::from_ark(inner)?;
        if proof.bytes != arr {
            return Err(CircuitError::InvalidEncoding {
                what: "eligibility proof (non-canonical)",
            });
        }
        Ok(proof)
    }

    /// The 128-byte canonical encoding.
    pub fn to_bytes(&self) -> [u8; PROOF_LEN] {
        self.bytes
    }

    /// A fresh-looking proof of the same statement (Groth16 malleability, [BKSV20]
    /// theorem 3): `A' = A / r1`, `B' = r1 B + r1 r2 delta`, `C' = C + r2 A`. Anyone can do
    /// this without the witness, which is why a ballot's identity is never its proof
    /// bytes. Useful for tests and benchmarks.
    pub fn rerandomize(
        &self,
        vk: &VerifyingKey,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, CircuitError> {
        Self::from_ark(Groth16::<Bn254>::rerandomize_proof(
            vk.as_ark(),
            &self.inner,
            rng,
        ))
    }

    /// The arkworks proof.
    pub fn as_ark(&self) -> &ark_groth16::Proof<Bn254> {
        &self.inner
    }
}

/// Checks the witness natively against the statement (PROTOCOL 10.4): the leaf
/// `Poseidon_1(secret)` leads along `path` to the census root, and the nullifier is the
/// secret's for the election. The digest is unconstrained by the witness.
pub fn check_witness(
    secret: &VoterSecret,
    path: &MerklePath,
    statement: &EligibilityStatement,
) -> Result<(), CircuitError> {
    let mut h = NativePoseidon::new()?;
    let s = *secret.expose_secret();
    let leaf = h.identity_commitment(s)?;
    if path.root_from_with(&mut h, leaf)? != statement.census_root().to_fr() {
        return Err(CircuitError::Unsatisfied);
    }
    if h.nullifier(s, statement.election_id().to_fr())? != statement.nullifier().to_fr() {
        return Err(CircuitError::Unsatisfied);
    }
    Ok(())
}

/// Proves eligibility for `statement` (PROTOCOL 10.4).
///
/// The witness is checked natively first: a secret or path that does not match the
/// statement returns [`CircuitError::Unsatisfied`] instead of an invalid proof. The path's
/// depth must be the key's.
pub fn prove(
    pk: &ProvingKey,
    secret: &VoterSecret,
    path: &MerklePath,
    statement: &EligibilityStatement,
    rng: &mut impl CryptoRngCore,
) -> Result<EligibilityProof, CircuitError> {
    if path.depth() != pk.depth() {
        return Err(CircuitError::PathLength {
            expected: pk.depth() as usize,
            actual: path.depth() as usize,
        });
    }
    check_witness(secret, path, statement)?;
    let circuit = EligibilityCircuit::new(secret, path, statement);
    // The matrices were computed once with the key; only the witness is synthesised here
    // (crate::shape). r and s are the prover's blinding scalars (PROTOCOL 10.5).
    let shape = pk.shape();
    let assignment = shape.assignment(circuit)?;
    let r = Fr::rand(rng);
    let s = Fr::rand(rng);
    let proof = crate::prover::create_proof(pk.as_ark(), shape, &assignment, r, s)?;
    EligibilityProof::from_ark(proof)
}

/// Verifies one proof against its statement (PROTOCOL 10.5):
/// `e(A, B) = e(alpha, beta) * e(IC(x), gamma) * e(C, delta)` with
/// `IC(x) = IC_0 + sum_j x_j IC_{j+1}` and `x = statement.to_field_elements()`.
pub fn verify(
    pvk: &PreparedVerifyingKey,
    statement: &EligibilityStatement,
    proof: &EligibilityProof,
) -> Result<(), CircuitError> {
    let ic_len = pvk.inner.vk.gamma_abc_g1.len();
    if ic_len != public_input::COUNT + 1 {
        return Err(CircuitError::WrongKeyShape {
            expected: public_input::COUNT,
            actual: ic_len.saturating_sub(1),
        });
    }
    let x = statement.to_field_elements();
    match Groth16::<Bn254>::verify_proof(&pvk.inner, &proof.inner, &x) {
        Ok(true) => Ok(()),
        Ok(false) => Err(CircuitError::ProofRejected),
        Err(e) => Err(CircuitError::Groth16(alloc::format!("verify: {e}"))),
    }
}
