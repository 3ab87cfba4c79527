//! Contributors' secrets and their proofs of knowledge (PROTOCOL 14.3.1).
//!
//! # Construction
//!
//! For a secret `x`, the contributor publishes `X1 = [x]_1`, `X2 = [x]_2` and a Schnorr
//! proof of knowledge of `x = log X1` made non-interactive by Fiat–Shamir and bound to
//! the ceremony: nonce `k`, commitment `R = [k]_1`, challenge
//! `c = H("pok" || name || binding || X1 || X2 || R)` (SHA-512 reduced mod `r`), response
//! `z = k + c x`. The binding is the hash of the transcript before the contribution, so a
//! proof cannot be replayed at another place of the transcript or in another ceremony.
//!
//! Verification: `[z]_1 = R + c X1` and `e(X1, [1]_2) = e([1]_1, X2)`.
//!
//! # Why
//!
//! The proof of knowledge is what makes a contribution's secret *independent* of the
//! secrets before it: without it, a last contributor could publish parameters whose
//! exponent is a function of the earlier ones (for example cancel them) without knowing
//! any exponent. With it, an extractor (rewinding, in the random-oracle model) obtains
//! every adversarial contributor's `x`, so the final exponent is `x_h * (known product)`
//! for the honest contributor's uniformly random `x_h`, which the adversary never sees:
//! the argument of Bowe–Gabizon–Miers 2017, with a Schnorr proof in place of their
//! hash-to-G2 "r-point" (BN254 has no standard hash to G2 in arkworks, and the Schnorr
//! proof is the textbook extractable proof of knowledge of a discrete logarithm).

use ark_bn254::{Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{One, UniformRand, Zero};
use rand_core::CryptoRngCore;
use zeroize::Zeroize;

use crate::error::SecretName;
use crate::ratio::{compressed, g1, g2, hash_to_scalar, pairing_eq};

/// A contributor's secret scalar: zeroized on drop, never printed.
pub struct Secret(Fr);

impl Secret {
    /// A uniformly random nonzero secret from `rng` (the contributor's OS randomness).
    pub fn random(rng: &mut impl CryptoRngCore) -> Self {
        loop {
            let x = Fr::rand(rng);
            if !x.is_zero() && !x.is_one() {
                return Self(x);
            }
        }
    }

    /// A secret from a value fixed by the caller (the beacon derivation).
    pub(crate) fn from_fr(x: Fr) -> Self {
        Self(x)
    }

    /// The scalar. Callers must not copy it anywhere that is not zeroized.
    pub(crate) fn expose_secret(&self) -> &Fr {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Secret(<redacted>)")
    }
}

/// `[x]_1`, `[x]_2` and a Schnorr proof of knowledge of `x` (PROTOCOL 14.3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnowledgeProof {
    /// `X1 = [x]_1`.
    pub g1: G1Affine,
    /// `X2 = [x]_2`.
    pub g2: G2Affine,
    /// The commitment `R = [k]_1`.
    pub commitment: G1Affine,
    /// The response `z = k + c x`.
    pub response: Fr,
}

fn challenge(
    name: SecretName,
    binding: &[u8; 32],
    g1: &G1Affine,
    g2: &G2Affine,
    commitment: &G1Affine,
) -> Fr {
    hash_to_scalar(
        b"pok",
        &[
            &[name.tag()],
            binding,
            &compressed(g1),
            &compressed(g2),
            &compressed(commitment),
        ],
    )
}

impl KnowledgeProof {
    /// Proves knowledge of `secret` with the nonce `nonce` (uniform, used once; it is
    /// zeroized here).
    pub(crate) fn prove(
        secret: &Secret,
        mut nonce: Fr,
        name: SecretName,
        binding: &[u8; 32],
    ) -> Self {
        let x = secret.expose_secret();
        let g1 = (g1() * x).into_affine();
        let g2 = (g2() * x).into_affine();
        let commitment = (crate::ratio::g1() * nonce).into_affine();
        let c = challenge(name, binding, &g1, &g2, &commitment);
        let response = nonce + c * x;
        nonce.zeroize();
        Self {
            g1,
            g2,
            commitment,
            response,
        }
    }

    /// Proves with a fresh nonce from `rng`.
    pub(crate) fn prove_random(
        secret: &Secret,
        name: SecretName,
        binding: &[u8; 32],
        rng: &mut impl CryptoRngCore,
    ) -> Self {
        Self::prove(secret, Fr::rand(rng), name, binding)
    }

    /// Checks the Schnorr equation and that `X1`, `X2` hold the same exponent.
    pub(crate) fn verify(&self, name: SecretName, binding: &[u8; 32]) -> bool {
        if self.g1.is_zero() || self.g2.is_zero() {
            return false;
        }
        let c = challenge(name, binding, &self.g1, &self.g2, &self.commitment);
        let lhs = g1() * self.response;
        let rhs = self.commitment.into_group() + self.g1 * c;
        lhs == rhs && pairing_eq(self.g1, g2(), g1(), self.g2)
    }

    /// Whether the secret is 0 or 1 (a contribution that changes nothing).
    pub(crate) fn is_degenerate(&self) -> bool {
        self.g1.is_zero() || self.g1 == g1()
    }
}
