//! The voter's secret (PROTOCOL 10.2).

use ark_bn254::Fr;
use ark_ff::{UniformRand, Zero};
use rand_core::CryptoRngCore;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::CircuitError;
use crate::poseidon::NativePoseidon;
use crate::types::{fr_from_bytes, fr_to_bytes, ElectionId, IdentityCommitment, Nullifier};

/// A voter's secret: a uniformly random nonzero BN254 scalar.
///
/// The identity commitment `Poseidon_1(secret)` goes into the census; the nullifier
/// `Poseidon_3(NULLIFIER_DOMAIN, secret, election_id)` marks the voter's ballots in one
/// election. Whoever holds the secret can vote as this voter.
///
/// Zeroized on drop; `Debug` is redacted; read the value through
/// [`VoterSecret::expose_secret`].
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct VoterSecret(Fr);

impl VoterSecret {
    /// Samples a fresh nonzero secret from a cryptographic RNG supplied by the caller.
    pub fn random(rng: &mut impl CryptoRngCore) -> Self {
        loop {
            let s = Fr::rand(rng);
            if !s.is_zero() {
                return Self(s);
            }
        }
    }

    /// Wraps a field element; zero is rejected (it is no secret).
    pub fn from_fr(s: Fr) -> Result<Self, CircuitError> {
        if s.is_zero() {
            return Err(CircuitError::NonCanonicalFieldElement {
                what: "voter secret (zero)",
            });
        }
        Ok(Self(s))
    }

    /// Decodes the canonical 32-byte big-endian encoding; rejects values `>= r` and zero.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, CircuitError> {
        let s = fr_from_bytes(bytes, "voter secret")?;
        Self::from_fr(s)
    }

    /// The canonical 32-byte big-endian encoding, zeroized when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(fr_to_bytes(&self.0))
    }

    /// The secret field element. Keep its copies short-lived.
    pub fn expose_secret(&self) -> &Fr {
        &self.0
    }

    /// `Poseidon_1(secret)`, the voter's census leaf (PROTOCOL 10.2).
    pub fn identity_commitment(&self) -> Result<IdentityCommitment, CircuitError> {
        NativePoseidon::new()?
            .identity_commitment(self.0)
            .map(IdentityCommitment::from_fr)
    }

    /// `Poseidon_3(NULLIFIER_DOMAIN, secret, election_id)` (PROTOCOL 10.2).
    pub fn nullifier(&self, election_id: &ElectionId) -> Result<Nullifier, CircuitError> {
        NativePoseidon::new()?
            .nullifier(self.0, election_id.to_fr())
            .map(Nullifier::from_fr)
    }
}

impl core::fmt::Debug for VoterSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("VoterSecret(<redacted>)")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;

    #[test]
    fn codec_round_trip_and_rejections() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let s = VoterSecret::random(&mut rng);
        let back = VoterSecret::from_bytes(&s.to_bytes()).unwrap();
        assert_eq!(back.expose_secret(), s.expose_secret());
        assert!(VoterSecret::from_bytes(&[0u8; 32]).is_err());
        assert!(VoterSecret::from_bytes(&[0xff; 32]).is_err());
        assert_eq!(format!("{s:?}"), "VoterSecret(<redacted>)");
    }

    #[test]
    fn nullifier_depends_on_election_and_secret() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
        let a = VoterSecret::random(&mut rng);
        let b = VoterSecret::random(&mut rng);
        let e1 = ElectionId::from_fr(Fr::from(1u64));
        let e2 = ElectionId::from_fr(Fr::from(2u64));
        assert_eq!(a.nullifier(&e1).unwrap(), a.nullifier(&e1).unwrap());
        assert_ne!(a.nullifier(&e1).unwrap(), a.nullifier(&e2).unwrap());
        assert_ne!(a.nullifier(&e1).unwrap(), b.nullifier(&e1).unwrap());
        assert_ne!(
            a.identity_commitment().unwrap(),
            b.identity_commitment().unwrap()
        );
    }
}
