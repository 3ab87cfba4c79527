//! Ed25519 signatures for authority, trustee and board writes (PROTOCOL §9.1).
//!
//! Every signature is over `SIGNING_DOMAIN || context || message`, where `context` is
//! the entry kind's label, so a signature made for one kind of entry can never be
//! replayed as another. Verification uses `verify_strict` (rejects small-order keys and
//! non-canonical signature encodings).

use alloc::vec::Vec;
use core::fmt;
use ed25519_dalek::{Signer, VerifyingKey};
use rand_core::CryptoRngCore;

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::{DecodeError, VerificationError};

/// Domain prefix of every signed message.
pub const SIGNING_DOMAIN: &[u8] = b"urna/v1/signature/";

/// An Ed25519 public key, checked on decoding (valid point, not small order).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Decodes 32 bytes; rejects encodings that are not a point or are of small order.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, DecodeError> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| DecodeError::InvalidPoint {
            what: "ed25519 public key",
        })?;
        if key.is_weak() {
            return Err(DecodeError::InvalidValue {
                what: "ed25519 public key",
                reason: "small-order point",
            });
        }
        // Decompression accepts some non-canonical y encodings; insist on the canonical one.
        if key.as_bytes() != bytes {
            return Err(DecodeError::InvalidPoint {
                what: "ed25519 public key",
            });
        }
        Ok(Self(key))
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Checks `signature` over `context` and `message`.
    pub fn verify(
        &self,
        context: &[u8],
        message: &[u8],
        signature: &Signature,
        signer: &str,
    ) -> Result<(), VerificationError> {
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        self.0
            .verify_strict(&signed_message(context, message), &sig)
            .map_err(|_| VerificationError::BadSignature {
                signer: signer.into(),
            })
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.to_bytes()))
    }
}

impl Encode for PublicKey {
    fn encode(&self, w: &mut Writer) {
        w.fixed(self.0.as_bytes());
    }
}

impl Decode for PublicKey {
    const MIN_ENCODED_LEN: usize = 32;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::from_bytes(&r.array()?)
    }
}

/// A 64-byte Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(self.0))
    }
}

impl Encode for Signature {
    fn encode(&self, w: &mut Writer) {
        w.fixed(&self.0);
    }
}

impl Decode for Signature {
    const MIN_ENCODED_LEN: usize = 64;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(r.array()?))
    }
}

/// An Ed25519 signing key (zeroized on drop, redacted `Debug`).
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// A fresh key from the caller's RNG.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self(ed25519_dalek::SigningKey::generate(rng))
    }

    /// From the 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed: secret, handle with care.
    pub fn expose_seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `message` under `context`.
    pub fn sign(&self, context: &[u8], message: &[u8]) -> Signature {
        Signature(self.0.sign(&signed_message(context, message)).to_bytes())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SigningKey")
            .field(&self.public_key())
            .finish()
    }
}

fn signed_message(context: &[u8], message: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.fixed(SIGNING_DOMAIN);
    w.bytes(context);
    w.bytes(message);
    w.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;

    #[test]
    fn sign_verify_and_context_separation() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let sk = SigningKey::generate(&mut rng);
        let pk = sk.public_key();
        let sig = sk.sign(b"manifest", b"hello");
        assert!(pk.verify(b"manifest", b"hello", &sig, "a").is_ok());
        assert!(pk.verify(b"open", b"hello", &sig, "a").is_err());
        assert!(pk.verify(b"manifest", b"hellp", &sig, "a").is_err());
        let mut bad = sig;
        bad.0[3] ^= 1;
        assert!(pk.verify(b"manifest", b"hello", &bad, "a").is_err());
        assert_eq!(PublicKey::from_bytes(&pk.to_bytes()), Ok(pk));
    }

    #[test]
    fn small_order_key_rejected() {
        // The identity point (y = 1) has small order.
        let mut id = [0u8; 32];
        id[0] = 1;
        assert!(PublicKey::from_bytes(&id).is_err());
    }
}
