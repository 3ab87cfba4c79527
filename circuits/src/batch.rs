//! Batch verification of eligibility proofs (PROTOCOL 10.6).
//!
//! # Construction
//!
//! Proof `i` (statement `x_i`, proof `(A_i, B_i, C_i)`) is valid iff
//! `e(A_i, B_i) = e(alpha, beta) * e(IC(x_i), gamma) * e(C_i, delta)`. With independent
//! random weights `r_i` (below), the batch check is
//!
//! ```text
//! prod_i e(r_i A_i, B_i) * e(sum_i r_i IC(x_i), -gamma) * e(sum_i r_i C_i, -delta)
//!     == e(alpha, beta)^(sum_i r_i)
//! ```
//!
//! computed with one multi-Miller loop over `n + 2` pairs and one final exponentiation.
//! `sum_i r_i IC(x_i)` is the 5-term sum `sum_j s_j IC_j` (one GLV scalar
//! multiplication per base) with combined scalars `s_0 = sum_i r_i`,
//! `s_{j+1} = sum_i r_i x_{i,j}`; `sum_i r_i C_i` is one MSM (over `2n` bases, below).
//!
//! # The weights
//!
//! Each weight is `r_i = a_i + b_i·lambda (mod r)` with `(a_i, b_i)` uniform among the
//! pairs of 64-bit integers other than `(0, 0)`, where `lambda` is the eigenvalue of
//! G1's endomorphism `phi(x, y) = (beta·x, y)`: `phi(P) = [lambda]P`, `lambda^2 + lambda +
//! 1 = 0 (mod r)`. So `r_i·A_i = a_i·A_i + b_i·phi(A_i)`, a joint 64-bit double-and-add
//! (64 doublings instead of the 128 of a plain 128-bit weight), and `sum r_i C_i` is an
//! MSM over the `2n` bases `C_i, phi(C_i)` with 64-bit scalars.
//!
//! The map `(a, b) -> a + b·lambda mod r` is injective on these pairs: if two pairs gave
//! the same weight, their difference `(d, e) != (0, 0)`, `|d|, |e| < 2^64`, would have
//! `d + e·lambda = 0`; then `e != 0` and `lambda = -d/e`, so `d^2 - d·e + e^2 = 0 (mod r)`
//! (multiply `lambda^2 + lambda + 1` by `e^2`). But `0 < d^2 - d·e + e^2 < 3·2^128 < r`,
//! since the form is positive definite. So each `r_i` is uniform over `2^128 - 1`
//! distinct nonzero residues, and if any proof is invalid (its equation's ratio is a
//! `GT` element other than 1, of prime order `r`) the batch equation holds for at most
//! one residue of its `r_i` once the others are fixed: with probability below `2^-127.99`
//! over the weights, which are drawn after the proofs are fixed, from the caller's
//! CSPRNG.
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

use ark_bn254::{g1::Config as G1Config, Bn254, Fr, G1Affine, G1Projective};
use ark_ec::{
    pairing::{Pairing, PairingOutput},
    scalar_mul::glv::GLVConfig,
    AdditiveGroup, CurveGroup, VariableBaseMSM,
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

/// A batch weight `a + b·lambda` (see the module documentation).
#[derive(Clone, Copy, Debug)]
struct Weight {
    a: u64,
    b: u64,
}

impl Weight {
    /// Samples `(a, b)` uniformly among the pairs other than `(0, 0)`.
    fn random(rng: &mut impl CryptoRngCore) -> Self {
        loop {
            let w = Self {
                a: rng.next_u64(),
                b: rng.next_u64(),
            };
            if (w.a, w.b) != (0, 0) {
                return w;
            }
        }
    }

    /// The weight as a scalar, `a + b·lambda mod r`.
    fn to_fr(self) -> Fr {
        Fr::from(self.a) + Fr::from(self.b) * G1Config::LAMBDA
    }

    /// `[a + b·lambda]p = [a]p + [b]phi(p)`, by a joint double-and-add over the 64 bits
    /// of `a` and `b`; `both` must be `p + phi(p)`.
    fn mul(self, p: &G1Affine, both: &G1Affine) -> G1Projective {
        let phi = G1Config::endomorphism_affine(p);
        let top = 64 - (self.a | self.b).leading_zeros();
        let mut acc = G1Projective::zero();
        for bit in (0..top).rev() {
            acc.double_in_place();
            match ((self.a >> bit) & 1, (self.b >> bit) & 1) {
                (1, 0) => acc += p,
                (0, 1) => acc += &phi,
                (1, 1) => acc += both,
                _ => {}
            }
        }
        acc
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
    // Weights are drawn sequentially from the caller's RNG (it need not be Sync).
    let r: Vec<Weight> = group.iter().map(|_| Weight::random(rng)).collect();
    let r_fr: Vec<Fr> = r.iter().map(|w| w.to_fr()).collect();

    // Combined IC scalars: s_0 = sum r_i, s_{j+1} = sum r_i x_{i,j}.
    let mut s = [Fr::zero(); public_input::COUNT + 1];
    for (&i, ri) in group.iter().zip(&r_fr) {
        s[0] += ri;
        for (sj, xj) in s[1..].iter_mut().zip(items[i].0.to_field_elements()) {
            *sj += *ri * xj;
        }
    }
    let sum_r = s[0];
    if vk.gamma_abc_g1.len() != s.len() {
        return Err(CircuitError::WrongKeyShape {
            expected: public_input::COUNT,
            actual: vk.gamma_abc_g1.len().saturating_sub(1),
        });
    }
    // One GLV multiplication per base: for full-size scalars ark-ec's `msm` builds a new
    // two-thread rayon pool on every call, which costs more than these few products.
    let ic_terms: Vec<(G1Affine, Fr)> = vk.gamma_abc_g1.iter().copied().zip(s).collect();
    let ic: G1Projective = map_all(&ic_terms, |(base, sj)| *base * sj)
        .into_iter()
        .sum();
    // sum_i r_i C_i = sum_i a_i C_i + b_i phi(C_i): 2n bases, 64-bit scalars.
    let c_bases: Vec<G1Affine> = group
        .iter()
        .map(|&i| items[i].1.inner.c)
        .chain(
            group
                .iter()
                .map(|&i| G1Config::endomorphism_affine(&items[i].1.inner.c)),
        )
        .collect();
    let c_scalars: Vec<u64> = r.iter().map(|w| w.a).chain(r.iter().map(|w| w.b)).collect();
    let sum_c = G1Projective::msm_u64(&c_bases, &c_scalars);

    // r_i A_i (joint 64-bit double-and-add, with A_i + phi(A_i) made affine in one
    // batch) and the prepared B_i.
    let both: Vec<G1Projective> = group
        .iter()
        .map(|&i| {
            let a = items[i].1.inner.a;
            a + G1Config::endomorphism_affine(&a)
        })
        .collect();
    let both = G1Projective::normalize_batch(&both);
    let triples: Vec<(usize, Weight, G1Affine)> = group
        .iter()
        .copied()
        .zip(r.iter().copied())
        .zip(both)
        .map(|((i, w), b)| (i, w, b))
        .collect();
    let ra: Vec<G1Projective> = map_all(&triples, |(i, w, both)| w.mul(&items[*i].1.inner.a, both));
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

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::PrimeGroup;
    use ark_ff::{BigInteger, One, PrimeField, UniformRand};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn lambda_is_phis_eigenvalue_and_a_cube_root_of_unity() {
        let l = G1Config::LAMBDA;
        assert_eq!(l * l + l + Fr::one(), Fr::zero());
        assert_ne!(l, Fr::one());
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for _ in 0..20 {
            let p = (G1Projective::generator() * Fr::rand(&mut rng)).into_affine();
            assert_eq!(G1Projective::from(G1Config::endomorphism_affine(&p)), p * l);
        }
    }

    #[test]
    fn weights_multiply_as_their_scalars() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let edge = [
            Weight { a: 1, b: 0 },
            Weight { a: 0, b: 1 },
            Weight { a: u64::MAX, b: 0 },
            Weight { a: 0, b: u64::MAX },
            Weight {
                a: u64::MAX,
                b: u64::MAX,
            },
            Weight { a: 1 << 63, b: 1 },
        ];
        let random: Vec<Weight> = (0..40).map(|_| Weight::random(&mut rng)).collect();
        for w in edge.iter().chain(&random) {
            let p = (G1Projective::generator() * Fr::rand(&mut rng)).into_affine();
            let both = (p + G1Config::endomorphism_affine(&p)).into_affine();
            assert_eq!(w.mul(&p, &both), p * w.to_fr(), "{w:?}");
        }
        // Random weights use both halves and are never zero.
        assert!(random.iter().all(|w| !w.to_fr().is_zero()));
        assert!(random
            .iter()
            .any(|w| w.to_fr().into_bigint().num_bits() > 200));
    }

    #[test]
    fn the_weight_form_is_positive_definite_below_r() {
        // The injectivity argument of the module documentation needs
        // 3·2^128 < r: r has 254 bits.
        assert_eq!(Fr::MODULUS_BIT_SIZE, 254);
        // and d^2 - d·e + e^2 != 0 for small nonzero (d, e): a + b·lambda never
        // collides for the extreme pairs either.
        let w = |a: u64, b: u64| Weight { a, b }.to_fr();
        let samples = [0, 1, 2, u64::MAX / 2, u64::MAX - 1, u64::MAX];
        let mut seen = std::collections::HashSet::new();
        for a in samples {
            for b in samples {
                assert!(seen.insert(w(a, b)), "({a}, {b}) collides");
            }
        }
    }
}
