//! The statement's semantic newtypes and their canonical 32-byte codec (PROTOCOL §10.1).
//!
//! Every value is a BN254 scalar-field element encoded as 32 bytes big-endian. Decoding
//! rejects any integer at or above the modulus r; nothing is silently reduced. The one
//! deliberate reduction is [`BallotDigest::from_wide_hash`], which maps a 64-byte hash
//! into the field by reduction modulo r (bias below 2^-250).

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};

use crate::error::CircuitError;

/// Decodes 32 big-endian bytes into a field element, rejecting non-canonical values.
pub fn fr_from_bytes(bytes: &[u8; 32], what: &'static str) -> Result<Fr, CircuitError> {
    let fe = Fr::from_be_bytes_mod_order(bytes);
    // Canonical iff re-encoding gives back the same bytes (i.e. the integer was < r).
    if fr_to_bytes(&fe) != *bytes {
        return Err(CircuitError::NonCanonicalFieldElement { what });
    }
    Ok(fe)
}

/// Encodes a field element as 32 bytes big-endian.
pub fn fr_to_bytes(fe: &Fr) -> [u8; 32] {
    let v = fe.into_bigint().to_bytes_be();
    let mut out = [0u8; 32];
    out[32 - v.len()..].copy_from_slice(&v);
    out
}

macro_rules! field_newtype {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Fr);

        impl $name {
            /// Wraps a field element.
            pub fn from_fr(fe: Fr) -> Self {
                Self(fe)
            }
            /// The field element.
            pub fn to_fr(&self) -> Fr {
                self.0
            }
            /// Decodes 32 big-endian bytes; rejects values at or above the modulus.
            pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, CircuitError> {
                fr_from_bytes(bytes, $what).map(Self)
            }
            /// Decodes a slice that must be exactly 32 bytes.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, CircuitError> {
                let arr: [u8; 32] = bytes.try_into().map_err(|_| CircuitError::LenMismatch {
                    what: $what,
                    expected: 32,
                    actual: bytes.len(),
                })?;
                Self::from_bytes(&arr)
            }
            /// The canonical 32-byte big-endian encoding.
            pub fn to_bytes(&self) -> [u8; 32] {
                fr_to_bytes(&self.0)
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!(stringify!($name), "(0x"))?;
                for b in self.to_bytes() {
                    write!(f, "{:02x}", b)?;
                }
                write!(f, ")")
            }
        }
    };
}

field_newtype!(
    /// The election identifier as a field element: a public input of the eligibility
    /// proof and an input of the nullifier.
    ElectionId,
    "election id"
);
field_newtype!(
    /// `Poseidon(NULLIFIER_DOMAIN, secret, election_id)`: one per voter per election.
    Nullifier,
    "nullifier"
);
field_newtype!(
    /// The root of the census Poseidon Merkle tree.
    CensusRoot,
    "census root"
);
field_newtype!(
    /// A voter's identity commitment: a leaf of the census tree.
    IdentityCommitment,
    "identity commitment"
);
field_newtype!(
    /// The hash of a ballot's ciphertexts and validity proofs, in the field; bound into
    /// the eligibility proof so a proof cannot be moved to another ballot.
    BallotDigest,
    "ballot digest"
);

impl BallotDigest {
    /// Maps a 64-byte hash (e.g. SHA-512) into the field by reduction modulo r.
    pub fn from_wide_hash(hash: &[u8; 64]) -> Self {
        Self(Fr::from_be_bytes_mod_order(hash))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn modulus_is_rejected_and_modulus_minus_one_accepted() {
        let r_minus_1 = fr_to_bytes(&(Fr::from(0u64) - Fr::from(1u64)));
        assert!(Nullifier::from_bytes(&r_minus_1).is_ok());
        // r itself: add one to r-1 as a big-endian integer.
        let mut r = r_minus_1;
        for i in (0..32).rev() {
            let (v, carry) = r[i].overflowing_add(1);
            r[i] = v;
            if !carry {
                break;
            }
        }
        assert!(matches!(
            Nullifier::from_bytes(&r),
            Err(CircuitError::NonCanonicalFieldElement { .. })
        ));
        assert!(Nullifier::from_bytes(&[0xff; 32]).is_err());
    }

    #[test]
    fn round_trip() {
        let x = ElectionId::from_fr(Fr::from(123456789u64));
        assert_eq!(ElectionId::from_bytes(&x.to_bytes()), Ok(x));
        assert!(ElectionId::from_slice(&[0u8; 31]).is_err());
    }
}
