//! The Groth16 prover (PROTOCOL 10.5), with its five multi-scalar multiplications run
//! side by side.
//!
//! With the full assignment `z = (1, x, w)` (instance then witness), the QAP quotient
//! `h` (computed by arkworks' libsnark reduction from the cached matrices) and the
//! blinding scalars `r, s`, the proof is
//!
//! ```text
//! A = alpha + sum_i z_i A_i(tau)          + r delta         (G1)
//! B = beta  + sum_i z_i B_i(tau)          + s delta         (G2, and in G1 for C)
//! C = sum_{i witness} z_i L_i + sum_j h_j H_j + s A + r B_G1 - r s delta   (G1)
//! ```
//!
//! where `A_i(tau), B_i(tau)` are the proving key's `a_query`, `b_g1_query` and
//! `b_g2_query`, `L_i = (beta A_i(tau) + alpha B_i(tau) + C_i(tau)) / delta` its
//! `l_query` and `H_j = tau^j t(tau) / delta` its `h_query`.
//!
//! This is the computation of `ark_groth16::Groth16::create_proof_with_reduction_and_matrices`
//! (same key, same equations, so the proofs verify with the same verifying key); the
//! difference is scheduling. arkworks runs the five MSMs one after the other, each split
//! by windows over the threads, and each has a serial part (sorting the scalars by size,
//! summing the windows), so on two cores a proof kept about 1.3 cores busy. Here the MSMs
//! are independent rayon tasks, which fills the cores during each other's serial parts.

use alloc::vec::Vec;

use ark_bn254::{Bn254, Fr, G1Projective, G2Projective};
use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::{BigInteger256, PrimeField};
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
use ark_poly::GeneralEvaluationDomain;

use crate::error::CircuitError;
use crate::shape::CircuitShape;

/// Runs `a` and `b`, on two rayon tasks when the `parallel` feature is on.
fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    #[cfg(feature = "parallel")]
    {
        rayon::join(a, b)
    }
    #[cfg(not(feature = "parallel"))]
    {
        (a(), b())
    }
}

fn to_bigints(scalars: &[Fr]) -> Vec<BigInteger256> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        scalars.par_iter().map(|s| s.into_bigint()).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        scalars.iter().map(|s| s.into_bigint()).collect()
    }
}

/// Makes a Groth16 proof from the full assignment `(1, x, w)` of the circuit `shape`
/// describes, with the blinding scalars `r` and `s`.
///
/// The caller has checked the key against the shape (`CircuitShape::check_key`) and the
/// assignment's length (`CircuitShape::assignment`); a mismatch is still an error here,
/// never an out-of-bounds index.
pub(crate) fn create_proof(
    pk: &ark_groth16::ProvingKey<Bn254>,
    shape: &CircuitShape,
    assignment: &[Fr],
    r: Fr,
    s: Fr,
) -> Result<ark_groth16::Proof<Bn254>, CircuitError> {
    let variables = shape.num_instance + shape.num_witness;
    if assignment.len() != variables
        || pk.a_query.len() != variables
        || pk.b_g1_query.len() != variables
        || pk.b_g2_query.len() != variables
        || pk.l_query.len() != shape.num_witness
    {
        return Err(CircuitError::Groth16(
            "prove: the key, the circuit and the assignment do not have the same size".into(),
        ));
    }
    let h = LibsnarkReduction::witness_map_from_matrices::<Fr, GeneralEvaluationDomain<Fr>>(
        &shape.matrices,
        shape.num_instance,
        shape.num_constraints,
        assignment,
    )
    .map_err(|e| CircuitError::Groth16(alloc::format!("prove: {e}")))?;
    if h.len() < pk.h_query.len() {
        return Err(CircuitError::Groth16(
            "prove: the quotient is shorter than the key's h query".into(),
        ));
    }
    let z = to_bigints(assignment);
    let witness = &z[shape.num_instance..];
    let h = to_bigints(&h[..pk.h_query.len()]);

    // The five MSMs: sum z_i A_i, sum z_i B_i (G1 and G2), sum w_i L_i, sum h_j H_j.
    // The full query includes the constant variable's point (z_0 = 1).
    let ((a_sum, b_g1_sum), ((b_g2_sum, l_sum), h_sum)) = join(
        || {
            join(
                || G1Projective::msm_bigint(&pk.a_query, &z),
                || G1Projective::msm_bigint(&pk.b_g1_query, &z),
            )
        },
        || {
            join(
                || {
                    join(
                        || G2Projective::msm_bigint(&pk.b_g2_query, &z),
                        || G1Projective::msm_bigint(&pk.l_query, witness),
                    )
                },
                || G1Projective::msm_bigint(&pk.h_query, &h),
            )
        },
    );

    let delta_g1: G1Projective = pk.delta_g1.into();
    let a = a_sum + pk.vk.alpha_g1 + delta_g1 * r;
    let b_g1 = b_g1_sum + pk.beta_g1 + delta_g1 * s;
    let b_g2 = b_g2_sum + pk.vk.beta_g2 + G2Projective::from(pk.vk.delta_g2) * s;
    let c = l_sum + h_sum + a * s + b_g1 * r - delta_g1 * (r * s);
    Ok(ark_groth16::Proof {
        a: a.into_affine(),
        b: b_g2.into_affine(),
        c: c.into_affine(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::census::CensusTree;
    use crate::circuit::EligibilityCircuit;
    use crate::keys::setup_single_party;
    use crate::secret::VoterSecret;
    use crate::statement::EligibilityStatement;
    use crate::types::{BallotDigest, ElectionId, IdentityCommitment};
    use ark_ff::UniformRand;
    use ark_groth16::Groth16;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    /// The same key, assignment and blinding scalars give exactly the proof arkworks'
    /// own prover makes (an independent implementation of the same equations).
    #[test]
    fn same_proof_as_arkworks_prover() {
        let mut rng = ChaCha20Rng::seed_from_u64(41);
        let depth = 4;
        let (pk, _) = setup_single_party(depth, &mut rng).unwrap();
        let secrets: Vec<VoterSecret> = (0..3).map(|_| VoterSecret::random(&mut rng)).collect();
        let leaves: Vec<IdentityCommitment> = secrets
            .iter()
            .map(|s| s.identity_commitment().unwrap())
            .collect();
        let tree = CensusTree::from_leaves(depth, &leaves).unwrap();
        let election = ElectionId::from_fr(Fr::rand(&mut rng));
        let statement = EligibilityStatement::new(
            tree.root(),
            secrets[1].nullifier(&election).unwrap(),
            election,
            BallotDigest::from_fr(Fr::rand(&mut rng)),
        );
        let path = tree.path(1).unwrap();
        let shape = pk.shape();
        let assignment = shape
            .assignment(EligibilityCircuit::new(&secrets[1], &path, &statement))
            .unwrap();
        for (r, s) in [
            (Fr::rand(&mut rng), Fr::rand(&mut rng)),
            (Fr::from(0u64), Fr::rand(&mut rng)),
        ] {
            let ours = create_proof(pk.as_ark(), shape, &assignment, r, s).unwrap();
            let theirs = Groth16::<Bn254>::create_proof_with_reduction_and_matrices(
                pk.as_ark(),
                r,
                s,
                &shape.matrices,
                shape.num_instance,
                shape.num_constraints,
                &assignment,
            )
            .unwrap();
            assert_eq!(ours, theirs);
        }
        // A short assignment is an error, not a panic.
        assert!(create_proof(
            pk.as_ark(),
            shape,
            &assignment[1..],
            Fr::from(1u64),
            Fr::from(1u64)
        )
        .is_err());
    }
}
