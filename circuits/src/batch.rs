//! Batch verification of eligibility proofs (PROTOCOL 10.6).
//!
//! # Construction
//!
//! Proof `i` (statement `x_i`, proof `(A_i, B_i, C_i)`) is valid iff
//! `e(A_i, B_i) = e(alpha, beta) * e(IC(x_i), gamma) * e(C_i, delta)`. With independent
//! uniformly random 128-bit scalars `r_i != 0`, the batch check is
//!
//! ```text
//! prod_i e(r_i A_i, B_i) * e(sum_i r_i IC(x_i), -gamma) * e(sum_i r_i C_i, -delta)
//!     == e(alpha, beta)^(sum_i r_i)
//! ```
//!
//! computed with one multi-Miller loop over `n + 2` pairs and one final exponentiation.
//! `sum_i r_i IC(x_i)` is one 5-base multi-scalar multiplication
//! `sum_j s_j IC_j` with combined scalars `s_0 = sum_i r_i`,
//! `s_{j+1} = sum_i r_i x_{i,j}`; `sum_i r_i C_i` is one `n`-base MSM.
//!
//! If any proof is invalid, the batch equation holds with probability at most `2^-128`
//! over the choice of the `r_i` (the `r_i` are drawn after the proofs are fixed, from the
//! caller's CSPRNG).
//!
//! # Finding the bad proofs
//!
//! On failure the batch is bisected: each half is batch-checked with fresh scalars, and
//! groups of at most [`INDIVIDUAL_THRESHOLD`] proofs are checked one by one. With `k` bad
//! proofs among `n` this costs `O(k log n)` batch checks, and the answer names exactly the
//! proofs that fail on their own.
//!
//! # Implementation details
//!
//! With the `parallel` feature the scalar multiplications `r_i A_i`, the preparation of
//! the `B_i` for pairing, the MSMs and the Miller loop run on rayon's pool. Nothing here
//! is constant time; all inputs are public.

use alloc::vec::Vec;

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective};
use ark_ec::{
    pairing::{Pairing, PairingOutput},
    AffineRepr, CurveGroup, VariableBaseMSM,
};
use ark_ff::Zero;
use rand_core::CryptoRngCore;

use crate::error::CircuitError;
use crate::keys::PreparedVerifyingKey;
use crate::proof::{verify, EligibilityProof};
use crate::statement::{public_input, EligibilityStatement};

/// Groups this small are checked proof by proof during bisection.
pub const INDIVIDUAL_THRESHOLD: usize = 4;

type G2Prepared = <Bn254 as Pairing>::G2Prepared;
type G1Prepared = <Bn254 as Pairing>::G1Prepared;

/// Verifies many proofs at once (PROTOCOL 10.6).
///
/// Returns `Ok(())` iff every proof verifies against its statement (up to a `2^-128`
/// failure probability), else [`CircuitError::BatchRejected`] with the indices (into
/// `items`, ascending) of exactly the proofs that fail on their own. An empty batch
/// verifies.
pub fn batch_verify(
    pvk: &PreparedVerifyingKey,
    items: &[(&EligibilityStatement, &EligibilityProof)],
    rng: &mut impl CryptoRngCore,
) -> Result<(), CircuitError> {
    let ic_len = pvk.inner.vk.gamma_abc_g1.len();
    if ic_len != public_input::COUNT + 1 {
        return Err(CircuitError::WrongKeyShape {
            expected: public_input::COUNT,
            actual: ic_len.saturating_sub(1),
        });
    }
    let all: Vec<usize> = (0..items.len()).collect();
    if batch_holds(pvk, items, &all, rng)? {
        return Ok(());
    }
    let mut bad = Vec::new();
    bisect(pvk, items, &all, rng, &mut bad)?;
    if bad.is_empty() {
        // Impossible for a correct batch equation (a random combination of equations
        // that all hold also holds); every proof passed on its own, so accept.
        return Ok(());
    }
    bad.sort_unstable();
    Err(CircuitError::BatchRejected { bad })
}

/// Appends to `bad` the indices in `group` whose proofs fail; `group` is known to fail
/// as a batch.
fn bisect(
    pvk: &PreparedVerifyingKey,
    items: &[(&EligibilityStatement, &EligibilityProof)],
    group: &[usize],
    rng: &mut impl CryptoRngCore,
    bad: &mut Vec<usize>,
) -> Result<(), CircuitError> {
    if group.len() <= INDIVIDUAL_THRESHOLD {
        for &i in group {
            let (statement, proof) = items[i];
            match verify(pvk, statement, proof) {
                Ok(()) => {}
                Err(CircuitError::ProofRejected) => bad.push(i),
                Err(e) => return Err(e),
            }
        }
        return Ok(());
    }
    let (left, right) = group.split_at(group.len() / 2);
    let left_ok = batch_holds(pvk, items, left, rng)?;
    if !left_ok {
        bisect(pvk, items, left, rng, bad)?;
    }
    // If the left half holds, the right half must hold the fault: skip its batch check.
    if !left_ok && batch_holds(pvk, items, right, rng)? {
        return Ok(());
    }
    bisect(pvk, items, right, rng, bad)
}

/// Samples a nonzero 128-bit scalar.
fn random_scalar(rng: &mut impl CryptoRngCore) -> u128 {
    loop {
        let r = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
        if r != 0 {
            return r;
        }
    }
}

#[cfg(feature = "parallel")]
fn map_all<T: Sync, U: Send>(xs: &[T], f: impl Fn(&T) -> U + Sync + Send) -> Vec<U> {
    use rayon::prelude::*;
    xs.par_iter().map(f).collect()
}

#[cfg(not(feature = "parallel"))]
fn map_all<T, U>(xs: &[T], f: impl Fn(&T) -> U) -> Vec<U> {
    xs.iter().map(f).collect()
}

/// Whether the batch equation holds for the proofs at `group`.
fn batch_holds(
    pvk: &PreparedVerifyingKey,
    items: &[(&EligibilityStatement, &EligibilityProof)],
    group: &[usize],
    rng: &mut impl CryptoRngCore,
) -> Result<bool, CircuitError> {
    if group.is_empty() {
        return Ok(true);
    }
    let vk = &pvk.inner.vk;
    // Scalars are drawn sequentially from the caller's RNG (it need not be Sync).
    let r: Vec<u128> = group.iter().map(|_| random_scalar(rng)).collect();
    let r_fr: Vec<Fr> = r.iter().map(|&ri| Fr::from(ri)).collect();

    // Combined IC scalars: s_0 = sum r_i, s_{j+1} = sum r_i x_{i,j}.
    let mut s = [Fr::zero(); public_input::COUNT + 1];
    for (&i, ri) in group.iter().zip(&r_fr) {
        s[0] += ri;
        for (sj, xj) in s[1..].iter_mut().zip(items[i].0.to_field_elements()) {
            *sj += *ri * xj;
        }
    }
    let sum_r = s[0];
    let ic = G1Projective::msm(&vk.gamma_abc_g1, &s).map_err(|_| CircuitError::WrongKeyShape {
        expected: public_input::COUNT,
        actual: vk.gamma_abc_g1.len().saturating_sub(1),
    })?;
    let c_bases: Vec<G1Affine> = group.iter().map(|&i| items[i].1.inner.c).collect();
    let sum_c = G1Projective::msm(&c_bases, &r_fr).map_err(|_| CircuitError::ProofRejected)?;

    // r_i A_i (128-bit scalars) and the prepared B_i.
    let pairs: Vec<(usize, u128)> = group.iter().copied().zip(r.iter().copied()).collect();
    let ra: Vec<G1Projective> = map_all(&pairs, |&(i, ri)| {
        items[i]
            .1
            .inner
            .a
            .mul_bigint([ri as u64, (ri >> 64) as u64])
    });
    let ra = G1Projective::normalize_batch(&ra);
    let b: Vec<G2Prepared> = map_all(group, |&i| G2Prepared::from(items[i].1.inner.b));

    let mut g1: Vec<G1Prepared> = ra.into_iter().map(G1Prepared::from).collect();
    g1.push(G1Prepared::from(ic.into_affine()));
    g1.push(G1Prepared::from(sum_c.into_affine()));
    let mut g2 = b;
    g2.push(pvk.inner.gamma_g2_neg_pc.clone());
    g2.push(pvk.inner.delta_g2_neg_pc.clone());

    let lhs = match Bn254::final_exponentiation(Bn254::multi_miller_loop(g1, g2)) {
        Some(v) => v,
        None => return Ok(false),
    };
    let rhs = PairingOutput::<Bn254>(pvk.inner.alpha_g1_beta_g2) * sum_r;
    Ok(lhs == rhs)
}
