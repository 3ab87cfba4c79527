//! RFC 9162 Merkle tree hashing with SHA-256 (`PROTOCOL 11.1`).
//!
//! ```text
//! MTH({})        = SHA-256()
//! MTH({d(0)})    = SHA-256(0x00 || d(0))                       leaf hash
//! MTH(D[n])      = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  node hash,
//!                  k = the largest power of two smaller than n
//! ```
//!
//! The distinct prefixes keep a leaf from ever hashing like an interior node (second
//! pre-image resistance across levels).

use core::fmt;

use sha2::{Digest, Sha256};

use crate::LogError;

/// Length in bytes of every hash in the log.
pub const HASH_LEN: usize = 32;

/// Domain prefix of a leaf hash (`PROTOCOL 11.1`).
const LEAF_PREFIX: u8 = 0x00;
/// Domain prefix of an interior node hash (`PROTOCOL 11.1`).
const NODE_PREFIX: u8 = 0x01;

/// A SHA-256 hash in the log: a leaf hash, an interior node hash or a tree root.
///
/// `Debug` and `Display` print lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash([u8; HASH_LEN]);

/// The root of the empty tree, `SHA-256("")` (`PROTOCOL 11.1`).
pub const EMPTY_ROOT: Hash = Hash([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

impl Hash {
    /// Wraps 32 bytes.
    pub const fn from_bytes(bytes: [u8; HASH_LEN]) -> Self {
        Self(bytes)
    }

    /// Reads a hash from a slice that must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, LogError> {
        <[u8; HASH_LEN]>::try_from(bytes)
            .map(Self)
            .map_err(|_| LogError::BadHashLength {
                expected: HASH_LEN,
                actual: bytes.len(),
            })
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; HASH_LEN] {
        &self.0
    }

    /// The 32 bytes, by value.
    pub const fn to_bytes(self) -> [u8; HASH_LEN] {
        self.0
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<[u8; HASH_LEN]> for Hash {
    fn from(bytes: [u8; HASH_LEN]) -> Self {
        Self(bytes)
    }
}

impl fmt::LowerHex for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(self, f)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self:x})")
    }
}

/// The leaf hash of an entry: `SHA-256(0x00 || data)` (`PROTOCOL 11.1`).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(data);
    Hash(h.finalize().into())
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)` (`PROTOCOL 11.1`).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// The largest power of two strictly smaller than `n`, for `n >= 2` (the split point `k` of
/// RFC 9162 §2.1.1). Returns 0 for `n < 2`.
pub(crate) fn split_point(n: u64) -> u64 {
    if n < 2 {
        return 0;
    }
    1u64 << (63 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        let h: [u8; 32] = Sha256::digest([]).into();
        assert_eq!(EMPTY_ROOT, Hash(h));
    }

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        assert_eq!(split_point(0), 0);
        assert_eq!(split_point(1), 0);
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(8), 4);
        assert_eq!(split_point(9), 8);
        assert_eq!(split_point(u64::MAX), 1 << 63);
        assert_eq!(split_point(1 << 63), 1 << 62);
        assert_eq!(split_point((1 << 63) + 1), 1 << 63);
    }

    #[test]
    fn from_slice_checks_length() {
        assert!(Hash::from_slice(&[0; 32]).is_ok());
        assert_eq!(
            Hash::from_slice(&[0; 31]),
            Err(LogError::BadHashLength {
                expected: 32,
                actual: 31
            })
        );
    }

    #[test]
    fn debug_is_hex() {
        assert_eq!(
            format!("{EMPTY_ROOT:?}"),
            "Hash(e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855)"
        );
    }
}
