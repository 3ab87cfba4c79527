//! Urna's transparency log, as a pure library.
//!
//! The bulletin board is one append-only log. This crate holds everything about that log
//! that is mathematics rather than plumbing, so that the server, the standalone verifier and
//! the in-browser client share one implementation:
//!
//! - [`hash`]: RFC 9162 Merkle tree hashing over SHA-256 (`PROTOCOL 11.1`);
//! - [`proof`]: checking inclusion proofs (`PROTOCOL 11.2`) and consistency proofs
//!   (`PROTOCOL 11.3`), with every bound checked and a named error for every failure;
//! - [`tree`]: an append-only tree that stores its complete-subtree hashes level by level
//!   behind the small [`HashStore`] trait, and makes roots and proofs at any earlier size in
//!   `O(log n)` (roots) or `O(log² n)` (proofs) hash reads;
//! - [`compact`]: [`CompactRange`], the root of a streamed log in `O(log n)` memory, for
//!   auditors that download the whole log;
//! - [`note`] and [`checkpoint`]: C2SP `signed-note` envelopes with Ed25519 signatures and
//!   C2SP `tlog-checkpoint` bodies (`PROTOCOL 11.4`).
//!
//! The crate does no I/O, reads no clock and spawns nothing; randomness (only needed to
//! generate a key) is passed in. It builds for `wasm32-unknown-unknown`.
//!
//! Sequencing (giving an entry a durable index), integration (appending its leaf hash to
//! the tree) and publishing (signing a checkpoint) are separate steps that the server
//! performs in that order; this crate provides the last two as [`MerkleTree::append`] and
//! [`Checkpoint::sign`]. It is the server's duty never to sign a checkpoint inconsistent with
//! one it signed before; [`MerkleTree::consistency_proof`] and [`verify_consistency`] are the
//! tools to check that.
//!
//! # Example
//!
//! ```
//! use urna_log::{leaf_hash, verify_inclusion, verify_consistency, MerkleTree};
//!
//! let mut tree = MerkleTree::new();
//! for entry in [&b"manifest"[..], b"open", b"ballot 1", b"ballot 2", b"close"] {
//!     tree.append(leaf_hash(entry))?;
//! }
//! let root3 = tree.root_at(3)?;
//! let root5 = tree.root()?;
//!
//! // A receipt for entry 2 against the tree of size 5.
//! let proof = tree.inclusion_proof(2, 5)?;
//! verify_inclusion(2, 5, &leaf_hash(b"ballot 1"), &proof, &root5)?;
//!
//! // The tree of size 5 extends the tree of size 3.
//! let proof = tree.consistency_proof(3, 5)?;
//! verify_consistency(3, 5, &root3, &root5, &proof)?;
//! # Ok::<(), urna_log::LogError>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod checkpoint;
pub mod compact;
mod error;
pub mod hash;
pub mod note;
pub mod proof;
pub mod tree;

pub use checkpoint::Checkpoint;
pub use compact::CompactRange;
pub use error::LogError;
pub use hash::{leaf_hash, node_hash, Hash, EMPTY_ROOT, HASH_LEN};
pub use note::{KeyId, NoteSignature, NoteSigner, NoteVerifier, SignedNote};
pub use proof::{
    consistency_proof_len, inclusion_proof_len, root_from_inclusion_proof, verify_consistency,
    verify_inclusion,
};
pub use tree::{HashStore, MemoryStore, MerkleTree};
