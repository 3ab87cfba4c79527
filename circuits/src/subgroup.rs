//! Membership test for BN254's G2 subgroup, at about half the cost of arkworks' own.
//!
//! # Math
//!
//! BN254 is parameterised by `x = 4965661367192848881` (63 bits). The twist
//! `E'(F_p²)` holds `h·r` points; G2 is its subgroup of prime order `r`, and the cofactor
//! `h` is about `2^254`, so a point taken off the wire must be tested. The untwist-
//! Frobenius-twist endomorphism
//!
//! ```text
//! ψ(x, y) = (x̄·ξ^((p−1)/3), ȳ·ξ^((p−1)/2)),   ξ = 9 + u,   F_p² = F_p[u]/(u² + 1),
//! ```
//!
//! (`x̄` the conjugate, i.e. the Frobenius) acts on G2 as multiplication by `p`. For BN
//! curves, El Housni, Guillevic and Piellard (ePrint 2022/352, section 4.3) show that a
//! point `P` of `E'(F_p²)` lies in G2 if and only if
//!
//! ```text
//! [x+1]P + ψ([x]P) + ψ²([x]P) = ψ³([2x]P)
//! ```
//!
//! which costs one 63-bit scalar multiplication, where arkworks' test `ψ(P) = [6x²]P`
//! costs a 127-bit one. The test here runs both checks' shared part once (`[x]P`), then
//! four additions and three applications of `ψ`, each a few `F_p²` multiplications.
//!
//! In Jacobian coordinates (`x = X/Z²`, `y = Y/Z³`) ψ is `(X̄·ξ^((p−1)/3), Ȳ·ξ^((p−1)/2),
//! Z̄)`, since conjugation is a field automorphism.
//!
//! # Tests
//!
//! The constants are recomputed from their definitions, ψ is checked to act as `[p]` on
//! G2, and the test is compared with the definition `[r]P = 0` on random points of the
//! twist, on G2 points and on points of the cofactor part (`[r]R`) and mixtures.

use ark_bn254::{Fq2, G2Affine, G2Projective};
use ark_ec::{AdditiveGroup, AffineRepr};
use ark_ff::MontFp;

/// The BN parameter `x` of BN254.
const BN_X: u64 = 4_965_661_367_192_848_881;

/// `ξ^((p−1)/3)` with `ξ = 9 + u`.
const PSI_X: Fq2 = Fq2::new(
    MontFp!("21575463638280843010398324269430826099269044274347216827212613867836435027261"),
    MontFp!("10307601595873709700152284273816112264069230130616436755625194854815875713954"),
);

/// `ξ^((p−1)/2)` with `ξ = 9 + u`.
const PSI_Y: Fq2 = Fq2::new(
    MontFp!("2821565182194536844548159561693502659359617185244120367078079554186484126554"),
    MontFp!("3505843767911556378687030309984248845540243509899259641013678093033130930403"),
);

/// The conjugate (Frobenius) of an `F_p²` element.
fn conjugate(a: &Fq2) -> Fq2 {
    Fq2::new(a.c0, -a.c1)
}

/// ψ on a Jacobian point.
fn psi(p: &G2Projective) -> G2Projective {
    G2Projective::new_unchecked(
        conjugate(&p.x) * PSI_X,
        conjugate(&p.y) * PSI_Y,
        conjugate(&p.z),
    )
}

/// Whether `point`, which must be on the twist `E'(F_p²)`, lies in the prime-order
/// subgroup G2. Variable time (the point is public).
pub fn g2_in_subgroup(point: &G2Affine) -> bool {
    if point.is_zero() {
        return true;
    }
    let xp: G2Projective = point.mul_bigint([BN_X]);
    let lhs = xp + point + psi(&xp) + psi(&psi(&xp));
    let rhs = psi(&psi(&psi(&xp.double())));
    lhs == rhs
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Fq, Fr, G2Affine};
    use ark_ec::short_weierstrass::SWCurveConfig;
    use ark_ec::CurveGroup;
    use ark_ec::PrimeGroup;
    use ark_ff::Field;
    use ark_ff::{PrimeField, UniformRand, Zero};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn psi_affine(p: &G2Affine) -> G2Affine {
        psi(&p.into_group()).into_affine()
    }

    /// `[r]P = 0`: the definition of G2 membership for a point on the twist.
    fn by_definition(p: &G2Affine) -> bool {
        p.mul_bigint(Fr::MODULUS).is_zero()
    }

    /// A point of the twist with a random `x` (any of its `h·r` points, nearly never in
    /// G2).
    fn random_twist_point(rng: &mut ChaCha20Rng) -> G2Affine {
        loop {
            let x = Fq2::rand(rng);
            if let Some(p) = G2Affine::get_point_from_x_unchecked(x, bool::rand(rng)) {
                assert!(p.is_on_curve());
                return p;
            }
        }
    }

    #[test]
    fn constants_match_their_definitions() {
        let xi = Fq2::new(Fq::from(9u64), Fq::from(1u64));
        // p is odd: p − 1 clears the lowest bit.
        let mut p_minus_1 = Fq::MODULUS;
        p_minus_1.0[0] -= 1;
        let exp3 = num_div(p_minus_1, 3);
        let exp2 = num_div(p_minus_1, 2);
        assert_eq!(xi.pow(exp3), PSI_X);
        assert_eq!(xi.pow(exp2), PSI_Y);
        // x as in the curve's defining polynomials: r = 36x⁴ + 36x³ + 18x² + 6x + 1.
        let x = Fr::from(BN_X);
        let r_of_x = Fr::from(36u64) * x.pow([4])
            + Fr::from(36u64) * x.pow([3])
            + Fr::from(18u64) * x * x
            + Fr::from(6u64) * x
            + Fr::from(1u64);
        assert!(r_of_x.is_zero(), "r(x) must vanish modulo r");
    }

    /// `n / d` for a small `d`, limb by limb (big-endian long division).
    fn num_div(n: <Fq as PrimeField>::BigInt, d: u64) -> [u64; 4] {
        let mut out = [0u64; 4];
        let mut rem: u128 = 0;
        for i in (0..4).rev() {
            let cur = (rem << 64) | u128::from(n.0[i]);
            out[i] = (cur / u128::from(d)) as u64;
            rem = cur % u128::from(d);
        }
        assert_eq!(rem, 0);
        out
    }

    #[test]
    fn psi_acts_as_p_on_g2() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let p_mod_r = Fr::from_be_bytes_mod_order(&{
            let mut b = Vec::new();
            for limb in Fq::MODULUS.0.iter().rev() {
                b.extend_from_slice(&limb.to_be_bytes());
            }
            b
        });
        for _ in 0..8 {
            let q = (G2Projective::generator() * Fr::rand(&mut rng)).into_affine();
            assert_eq!(psi_affine(&q), (q * p_mod_r).into_affine());
            assert!(psi_affine(&q).is_on_curve());
        }
    }

    #[test]
    fn agrees_with_the_definition() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let r = Fr::MODULUS;
        let (mut inside, mut outside) = (0, 0);
        for i in 0..200 {
            let random = random_twist_point(&mut rng);
            // The cofactor part: [r]R has order dividing h, so it is outside G2 unless 0.
            let cofactor_part = random.mul_bigint(r).into_affine();
            let g2 = (G2Projective::generator() * Fr::rand(&mut rng)).into_affine();
            let mixed = (g2.into_group() + cofactor_part).into_affine();
            let cleared = random.clear_cofactor();
            for p in [random, cofactor_part, g2, mixed, cleared] {
                assert!(p.is_on_curve());
                let expected = by_definition(&p);
                assert_eq!(g2_in_subgroup(&p), expected, "sample {i}: {p:?}");
                assert_eq!(
                    ark_bn254::g2::Config::is_in_correct_subgroup_assuming_on_curve(&p),
                    expected
                );
                if expected {
                    inside += 1;
                } else {
                    outside += 1;
                }
            }
        }
        assert!(
            inside >= 400 && outside >= 400,
            "{inside} in, {outside} out"
        );
        assert!(g2_in_subgroup(&G2Affine::zero()));
        assert!(g2_in_subgroup(&G2Affine::generator()));
    }
}
