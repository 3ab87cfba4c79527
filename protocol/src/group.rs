//! Ristretto255 helpers: the base point, hash-to-group generators (PROTOCOL §4.1).
//!
//! Every generator other than the standard base point is derived from a public label
//! by hash-to-group (SHA-512 to 64 bytes, then Ristretto's Elligator map), so no one
//! knows its discrete log relative to another and anyone can re-derive it. This is the
//! defence against trapdoored generators (Swiss Post/Scytl 2019).

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRngCore;
use sha2::Sha512;

/// The standard Ristretto255 base point `G`.
pub const G: RistrettoPoint = RISTRETTO_BASEPOINT_POINT;

/// Domain prefix of every hash-to-group label.
pub const GENERATOR_DOMAIN: &[u8] = b"urna/v1/generator/";

/// The generator derived from `label`: `RistrettoPoint::hash_from_bytes::<Sha512>(
/// "urna/v1/generator/" || label)`.
pub fn generator(label: &[u8]) -> RistrettoPoint {
    let mut input = alloc::vec::Vec::with_capacity(GENERATOR_DOMAIN.len() + label.len());
    input.extend_from_slice(GENERATOR_DOMAIN);
    input.extend_from_slice(label);
    RistrettoPoint::hash_from_bytes::<Sha512>(&input)
}

/// A uniformly random scalar from the caller's RNG.
pub fn random_scalar(rng: &mut impl CryptoRngCore) -> Scalar {
    Scalar::random(rng)
}

/// A uniformly random non-zero scalar.
pub fn random_nonzero_scalar(rng: &mut impl CryptoRngCore) -> Scalar {
    loop {
        let s = Scalar::random(rng);
        if s != Scalar::ZERO {
            return s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_are_deterministic_and_distinct() {
        assert_eq!(generator(b"a"), generator(b"a"));
        assert_ne!(generator(b"a"), generator(b"b"));
        assert_ne!(generator(b"a"), G);
    }
}
