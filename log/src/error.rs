//! The crate's one error type.

use crate::note::KeyId;

/// Everything that can go wrong in the transparency log: a proof that does not check, a
/// request outside the tree, or a malformed or badly signed note or checkpoint.
///
/// Each variant names the check that failed; the `PROTOCOL 11.x` numbers in the variant
/// documentation point at the normative step in `docs/PROTOCOL.md`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// A leaf index is not below the tree size (`PROTOCOL 11.2`).
    #[error("leaf index {index} is out of range for a tree of size {size}")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The size of the tree it was requested in.
        size: u64,
    },
    /// A tree size is larger than the tree holds.
    #[error("tree size {requested} exceeds the current size {current}")]
    SizeOutOfRange {
        /// The requested size.
        requested: u64,
        /// The number of leaves the tree holds.
        current: u64,
    },
    /// A consistency proof was asked for or checked with `size1 > size2` (`PROTOCOL 11.3`).
    #[error("consistency between sizes {size1} and {size2}: the first must not exceed the second")]
    SizesReversed {
        /// The older tree size.
        size1: u64,
        /// The newer tree size.
        size2: u64,
    },
    /// A proof holds the wrong number of hashes for its index and sizes
    /// (`PROTOCOL 11.2`, `PROTOCOL 11.3`).
    #[error("proof holds {actual} hashes, expected {expected}")]
    BadProofLength {
        /// The number of hashes the index and sizes call for.
        expected: usize,
        /// The number of hashes given.
        actual: usize,
    },
    /// An inclusion proof does not lead from the leaf hash to the root (`PROTOCOL 11.2`).
    #[error("inclusion proof does not lead to the expected root")]
    InclusionProofMismatch,
    /// A consistency proof does not reproduce both roots (`PROTOCOL 11.3`).
    #[error("consistency proof does not reproduce both roots")]
    ConsistencyProofMismatch,
    /// A hash was not 32 bytes long.
    #[error("hash must be {expected} bytes, got {actual}")]
    BadHashLength {
        /// Always 32.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// The hash store lacks a node the tree's size says it must hold: the store is corrupt
    /// or was filled by something other than [`crate::MerkleTree`].
    #[error("hash store has no node at level {level}, index {index}")]
    MissingNode {
        /// Height of the node above the leaves (leaves are level 0).
        level: u8,
        /// Index of the node within its level.
        index: u64,
    },
    /// A signed note is larger than [`crate::note::MAX_NOTE_SIZE`] (`PROTOCOL 11.4`).
    #[error("note is {size} bytes, more than the limit of {max}")]
    NoteTooLarge {
        /// The size given.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A signed note carries more than [`crate::note::MAX_SIGNATURES`] signature lines
    /// (`PROTOCOL 11.4`).
    #[error("note carries more than {max} signature lines")]
    TooManySignatures {
        /// The limit.
        max: usize,
    },
    /// A signed note does not follow the C2SP signed-note grammar (`PROTOCOL 11.4`).
    #[error("malformed signed note: {reason}")]
    MalformedNote {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A checkpoint body does not follow the C2SP tlog-checkpoint grammar (`PROTOCOL 11.4`).
    #[error("malformed checkpoint: {reason}")]
    MalformedCheckpoint {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A key name is empty or holds whitespace, a control character or `+` (`PROTOCOL 11.4`).
    #[error("invalid key name: {reason}")]
    InvalidKeyName {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A verifier or signer key string is malformed (`PROTOCOL 11.4`).
    #[error("malformed key: {reason}")]
    MalformedKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A key's stated key ID is not the one its name and public key give (`PROTOCOL 11.4`).
    #[error("key ID {stated} does not match the computed key ID {computed}")]
    KeyIdMismatch {
        /// The key ID written in the key string.
        stated: KeyId,
        /// The key ID computed from the name and public key.
        computed: KeyId,
    },
    /// A key uses a signature type other than Ed25519 (`0x01`).
    #[error("unsupported signature type 0x{key_type:02x}")]
    UnsupportedKeyType {
        /// The signature type byte found.
        key_type: u8,
    },
    /// A checkpoint names a different log than the one expected.
    #[error("checkpoint origin is {actual:?}, expected {expected:?}")]
    OriginMismatch {
        /// The origin the caller expected.
        expected: String,
        /// The origin the checkpoint names.
        actual: String,
    },
    /// A signature line from the verifier's key (same name and key ID) does not verify over
    /// the note text (`PROTOCOL 11.4`).
    #[error("signature by {key_name}+{key_id} does not verify")]
    BadCheckpointSignature {
        /// The key name.
        key_name: String,
        /// The key ID.
        key_id: KeyId,
    },
    /// The note carries no signature line from the verifier's key (`PROTOCOL 11.4`).
    #[error("note carries no signature by {key_name}+{key_id}")]
    MissingCheckpointSignature {
        /// The key name.
        key_name: String,
        /// The key ID.
        key_id: KeyId,
    },
}
