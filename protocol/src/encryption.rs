//! Trustee encryption keys (X25519) used to send DKG shares privately (PROTOCOL §7.3).

use core::fmt;

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::DecodeError;

/// A trustee's X25519 public encryption key, as named in the manifest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncryptionPublicKey(pub(crate) x25519_dalek::PublicKey);

impl EncryptionPublicKey {
    /// Decodes 32 bytes; rejects the all-zero key and other low-order points, whose
    /// Diffie-Hellman output would be predictable.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, DecodeError> {
        let key = x25519_dalek::PublicKey::from(*bytes);
        // A low-order point yields an all-zero shared secret with any scalar.
        let probe = x25519_dalek::StaticSecret::from([0x42u8; 32]);
        if !probe.diffie_hellman(&key).was_contributory() {
            return Err(DecodeError::InvalidValue {
                what: "x25519 public key",
                reason: "low-order point",
            });
        }
        Ok(Self(key))
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
}

impl fmt::Debug for EncryptionPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptionPublicKey({})", hex::encode(self.to_bytes()))
    }
}

impl Encode for EncryptionPublicKey {
    fn encode(&self, w: &mut Writer) {
        w.fixed(self.0.as_bytes());
    }
}

impl Decode for EncryptionPublicKey {
    const MIN_ENCODED_LEN: usize = 32;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::from_bytes(&r.array()?)
    }
}
