//! Urna's eligibility circuit.
//!
//! A voter proves with Groth16 over BN254 that their identity commitment is a leaf of the
//! census Poseidon Merkle tree and that the public nullifier is
//! `Poseidon(domain, secret, election id)`, binding a public ballot digest, without
//! revealing which leaf is theirs. See `docs/PROTOCOL.md` §10.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

extern crate alloc;

pub mod error;
pub mod types;

pub use error::CircuitError;
pub use types::{BallotDigest, CensusRoot, ElectionId, IdentityCommitment, Nullifier};
