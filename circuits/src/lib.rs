//! Urna's eligibility circuit.
//!
//! A voter proves with Groth16 over BN254 that their identity commitment is a leaf of the
//! census Poseidon Merkle tree and that the public nullifier is
//! `Poseidon(domain, secret, election id)`, binding a public ballot digest, without
//! revealing which leaf is theirs. See `docs/PROTOCOL.md` (PROTOCOL §10).
//!
//! # Modules
//!
//! - [`types`]: the canonical 32-byte field-element newtypes (PROTOCOL 10.1).
//! - [`poseidon`] and [`poseidon::gadget`]: circomlib-compatible Poseidon, native and
//!   in-circuit, and the domain separation between its three uses (PROTOCOL 10.2).
//! - [`secret`]: the voter's secret, its identity commitment and nullifiers.
//! - [`census`]: the census Merkle tree and its paths (PROTOCOL 10.3).
//! - [`statement`] and [`circuit`]: the public inputs and the relation (PROTOCOL 10.4).
//! - [`keys`]: Groth16 keys, their codecs and hashes, and the **single-party** setup
//!   (PROTOCOL 10.5).
//! - [`proof`]: proving and verifying one proof; [`batch`]: batch verification
//!   (PROTOCOL 10.6); [`subgroup`]: the G2 membership test proofs are decoded with.
//!
//! # Trusted setup warning
//!
//! [`keys::setup_single_party`] samples the Groth16 toxic waste in one process. Whoever
//! runs it can forge eligibility proofs for any statement — vote as anyone, any number of
//! times — until keys come from a multi-party ceremony. Ballot *contents* stay protected
//! by the validity proofs, which need no trusted setup.
//!
//! # Example
//!
//! ```
//! use rand::rngs::OsRng;
//! use urna_circuits::{
//!     census::CensusTree, keys::setup_single_party, prove, verify, BallotDigest,
//!     ElectionId, EligibilityStatement, VoterSecret,
//! };
//!
//! # fn main() -> Result<(), urna_circuits::CircuitError> {
//! let depth = 2;
//! let (pk, vk) = setup_single_party(depth, &mut OsRng)?; // insecure: see above
//! let voter = VoterSecret::random(&mut OsRng);
//! let mut census = CensusTree::new(depth)?;
//! let index = census.insert(voter.identity_commitment()?)?;
//! let election = ElectionId::from_fr(7u64.into());
//! let statement = EligibilityStatement::new(
//!     census.root(),
//!     voter.nullifier(&election)?,
//!     election,
//!     BallotDigest::from_wide_hash(&[1u8; 64]),
//! );
//! let proof = prove(&pk, &voter, &census.path(index)?, &statement, &mut OsRng)?;
//! verify(&vk.prepare(), &statement, &proof)?;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

extern crate alloc;

pub mod batch;
pub mod census;
pub mod circuit;
pub mod error;
pub mod keys;
pub mod poseidon;
pub mod proof;
mod prover;
pub mod secret;
mod shape;
pub mod statement;
pub mod subgroup;
pub mod types;

pub use batch::batch_verify;
pub use census::{CensusTree, MerklePath};
pub use error::CircuitError;
pub use keys::{PreparedVerifyingKey, ProvingKey, VerifyingKey};
pub use proof::{prove, verify, EligibilityProof};
pub use secret::VoterSecret;
pub use statement::EligibilityStatement;
pub use types::{BallotDigest, CensusRoot, ElectionId, IdentityCommitment, Nullifier};
