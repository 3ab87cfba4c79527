//! **Benchmark-only** Groth16 setup whose trapdoor is kept, and proofs simulated with it.
//!
//! A real eligibility proof at census depth 20 costs about 0.25 s of proving, so a
//! million ballots would take some 35 hours on a 2-core machine. The board's verifier
//! does not care how a proof was made, only that it satisfies the verification equation
//!
//! ```text
//! e(A, B) = e(α·G1, β·G2) · e(X, γ·G2) · e(C, δ·G2),   X = IC₀ + Σ xᵢ·ICᵢ₊₁
//! ```
//!
//! Whoever knows the setup's trapdoor `(α, β, γ, δ)` (and the generators `G1`, `G2`)
//! satisfies it for **any** public inputs without a witness: pick random `a`, `b` and set
//!
//! ```text
//! A = a·G1,   B = b·G2,   C = δ⁻¹·((a·b − α·β)·G1 − γ·X).
//! ```
//!
//! Then `e(C, δ·G2) = e(G1, G2)^(ab − αβ) · e(X, G2)^(−γ)` and the right-hand side
//! collapses to `e(G1, G2)^(ab) = e(A, B)`. Such a proof costs the verifier exactly what a
//! real one costs (same equation, points of the same distribution), which is all a load
//! or recount benchmark needs.
//!
//! This is a **forgery**. It is possible only because the benchmark generated its own
//! single-party setup and kept the toxic waste; the README's security model already says
//! that whoever runs a single-party (dev) setup can forge eligibility proofs. The
//! trapdoor is written only into the benchmark's data directory, in a file whose name
//! says what it is ([`TRAPDOOR_FILE`]); never point a real election's board at keys
//! made here. The ballots' validity proofs (ElGamal, disjunctive Chaum-Pedersen) are
//! always real.

use anyhow::{anyhow, Context as _, Result};
use ark_bn254::{Bn254, Fr, G1Projective, G2Projective};
use ark_ec::{CurveGroup, PrimeGroup};
use ark_ff::{Field, UniformRand};
use ark_groth16::Groth16;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rand::{CryptoRng, RngCore};
use urna_circuits::circuit::EligibilityCircuit;
use urna_circuits::{EligibilityProof, EligibilityStatement, ProvingKey, VerifyingKey};

/// Name of the file, in the benchmark's data directory, that holds the trapdoor.
pub const TRAPDOOR_FILE: &str = "BENCHMARK-ONLY-groth16-trapdoor-allows-forgery.hex";

/// The toxic waste of a benchmark setup: enough to forge any eligibility proof for keys
/// made with it. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Trapdoor {
    alpha: Fr,
    beta: Fr,
    gamma: Fr,
    delta: Fr,
    g1: G1Projective,
    g2: G2Projective,
}

impl core::fmt::Debug for Trapdoor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Trapdoor(benchmark only, redacted)")
    }
}

impl Trapdoor {
    /// A fresh random trapdoor (the standard generators of BN254).
    pub fn random(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        Self {
            alpha: Fr::rand(rng),
            beta: Fr::rand(rng),
            gamma: Fr::rand(rng),
            delta: Fr::rand(rng),
            g1: G1Projective::generator(),
            g2: G2Projective::generator(),
        }
    }

    /// The encoding written to [`TRAPDOOR_FILE`]: hex of arkworks' compressed
    /// `(α, β, γ, δ, G1, G2)`.
    pub fn to_hex(&self) -> Result<String> {
        let mut bytes = Vec::new();
        let scalars = vec![self.alpha, self.beta, self.gamma, self.delta];
        (scalars, self.g1.into_affine(), self.g2.into_affine())
            .serialize_compressed(&mut bytes)
            .map_err(|e| anyhow!("encoding the trapdoor: {e}"))?;
        Ok(hex::encode(bytes))
    }

    /// Parses [`Trapdoor::to_hex`] (points checked).
    pub fn from_hex(text: &str) -> Result<Self> {
        let bytes = hex::decode(text.trim()).context("the trapdoor file is not hex")?;
        type Parts = (Vec<Fr>, ark_bn254::G1Affine, ark_bn254::G2Affine);
        let (scalars, g1, g2) = Parts::deserialize_compressed(&bytes[..])
            .map_err(|e| anyhow!("decoding the trapdoor: {e}"))?;
        let [alpha, beta, gamma, delta] = <[Fr; 4]>::try_from(scalars)
            .map_err(|_| anyhow!("the trapdoor file does not hold four scalars"))?;
        Ok(Self {
            alpha,
            beta,
            gamma,
            delta,
            g1: g1.into(),
            g2: g2.into(),
        })
    }

    /// Runs the Groth16 setup of the eligibility circuit at `depth` with this trapdoor
    /// (ark-groth16's `generate_parameters_with_qap`; `τ` is drawn from `rng` and
    /// forgotten, it is not needed to simulate).
    pub fn setup(
        &self,
        depth: u32,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(ProvingKey, VerifyingKey)> {
        let circuit = EligibilityCircuit::blank(depth).map_err(|e| anyhow!("circuit: {e}"))?;
        let pk = Groth16::<Bn254>::generate_parameters_with_qap(
            circuit, self.alpha, self.beta, self.gamma, self.delta, self.g1, self.g2, rng,
        )
        .map_err(|e| anyhow!("Groth16 setup: {e}"))?;
        let vk = VerifyingKey::from_ark(pk.vk.clone()).map_err(|e| anyhow!("{e}"))?;
        let pk = ProvingKey::from_ark(depth, pk).map_err(|e| anyhow!("{e}"))?;
        Ok((pk, vk))
    }

    /// A simulated (forged) proof of `statement` under `vk`, which must come from
    /// [`Trapdoor::setup`] with this trapdoor; under any other key it fails to verify.
    pub fn simulate(
        &self,
        vk: &VerifyingKey,
        statement: &EligibilityStatement,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<EligibilityProof> {
        let ic = &vk.as_ark().gamma_abc_g1;
        let inputs = statement.to_field_elements();
        if ic.len() != inputs.len() + 1 {
            return Err(anyhow!(
                "verifying key has {} inputs, the statement {}",
                ic.len().saturating_sub(1),
                inputs.len()
            ));
        }
        let mut x: G1Projective = ic[0].into();
        for (xi, base) in inputs.iter().zip(&ic[1..]) {
            x += *base * xi;
        }
        let a = Fr::rand(rng);
        let b = Fr::rand(rng);
        let delta_inv = self
            .delta
            .inverse()
            .ok_or_else(|| anyhow!("trapdoor with δ = 0"))?;
        let c =
            self.g1 * ((a * b - self.alpha * self.beta) * delta_inv) - x * (self.gamma * delta_inv);
        let proof = ark_groth16::Proof::<Bn254> {
            a: (self.g1 * a).into_affine(),
            b: (self.g2 * b).into_affine(),
            c: c.into_affine(),
        };
        EligibilityProof::from_ark(proof).map_err(|e| anyhow!("simulated proof: {e}"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rand::rngs::OsRng;
    use urna_circuits::{BallotDigest, CensusRoot, ElectionId, Nullifier};

    fn statement(seed: u64) -> EligibilityStatement {
        EligibilityStatement::new(
            CensusRoot::from_fr(Fr::from(seed)),
            Nullifier::from_fr(Fr::from(seed + 1)),
            ElectionId::from_fr(Fr::from(seed + 2)),
            BallotDigest::from_wide_hash(&[seed as u8; 64]),
        )
    }

    #[test]
    fn simulated_proofs_verify_only_under_their_own_key() {
        let t1 = Trapdoor::random(&mut OsRng);
        let (_, vk1) = t1.setup(2, &mut OsRng).unwrap();
        let t2 = Trapdoor::random(&mut OsRng);
        let (_, vk2) = t2.setup(2, &mut OsRng).unwrap();
        let s = statement(5);
        let proof = t1.simulate(&vk1, &s, &mut OsRng).unwrap();
        urna_circuits::verify(&vk1.prepare(), &s, &proof).unwrap();
        // Another key (another trapdoor) rejects it.
        assert!(urna_circuits::verify(&vk2.prepare(), &s, &proof).is_err());
        // Simulating with the wrong trapdoor for vk1 fails too.
        let wrong = t2.simulate(&vk1, &s, &mut OsRng).unwrap();
        assert!(urna_circuits::verify(&vk1.prepare(), &s, &wrong).is_err());
        // The proof is bound to its statement.
        assert!(urna_circuits::verify(&vk1.prepare(), &statement(6), &proof).is_err());
    }

    #[test]
    fn trapdoor_round_trips() {
        let t = Trapdoor::random(&mut OsRng);
        assert_eq!(Trapdoor::from_hex(&t.to_hex().unwrap()).unwrap(), t);
        assert!(!format!("{t:?}").contains(&t.to_hex().unwrap()[..16]));
    }
}
