//! Urna's multi-party Groth16 setup ceremony for the eligibility circuit (PROTOCOL §14).
//!
//! With a single-party setup ([`urna_circuits::keys::setup_single_party`]) whoever ran it
//! can forge eligibility proofs. This crate replaces it with a ceremony in the style of
//! Bowe–Gabizon–Miers 2017 (as snarkjs and the perpetual powers of tau): the keys are
//! sound as long as **one** contributor was honest and destroyed their secrets.
//!
//! # Modules
//!
//! - [`phase1`]: powers of tau, independent of the circuit (PROTOCOL 14.2, 14.3).
//! - [`phase2`]: the eligibility circuit's keys from phase 1 and the updates of `delta`
//!   (PROTOCOL 14.4, 14.5).
//! - [`beacon`]: the public random beacon that closes each phase (PROTOCOL 14.6).
//! - [`state`]: a ceremony fed one contribution at a time, as the board runs it, and
//!   what a contributor downloads (PROTOCOL 14.10).
//! - [`transcript`]: the public transcript, its canonical encoding and hash chain, and
//!   [`verify_transcript`], which derives the keys (PROTOCOL 14.7, 14.8).
//! - [`pok`]: the contributors' secrets and proofs of knowledge (PROTOCOL 14.3.1).
//! - [`snarkjs`]: export of keys and proofs to snarkjs's JSON (PROTOCOL 14.9).
//!
//! # Example
//!
//! ```
//! use rand::rngs::OsRng;
//! use urna_ceremony::{verify_transcript, Beacon, Transcript};
//!
//! # fn main() -> Result<(), urna_ceremony::CeremonyError> {
//! let depth = 1;
//! let log_n = urna_ceremony::domain_size(depth)?.trailing_zeros() as u8;
//! let mut t = Transcript::new([0x42; 32], log_n, depth)?;
//! let published = t.contribute_phase1(&mut OsRng)?; // each contributor publishes this
//! t.close_phase1(&Beacon::new(b"block hash after the last contribution", 4)?, &mut OsRng)?;
//! t.contribute_phase2(&mut OsRng)?;
//! t.close_phase2(&Beacon::new(b"another public value", 4)?, &mut OsRng)?;
//! let (pk, vk) = verify_transcript(&Transcript::from_bytes(&t.to_bytes())?, &mut OsRng)?;
//! # let _ = (published, pk, vk);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

extern crate alloc;

pub mod beacon;
mod codec;
pub mod error;
pub mod phase1;
pub mod phase2;
pub mod pok;
mod qap;
mod ratio;
pub mod snarkjs;
pub mod state;
pub mod transcript;

#[cfg(test)]
mod tests;

pub use beacon::Beacon;
pub use error::{CeremonyError, Check, Phase, SecretName};
pub use phase1::{Phase1Contribution, Phase1Params};
pub use phase2::{Phase2Contribution, Phase2Params, Phase2State};
pub use pok::KnowledgeProof;
pub use qap::domain_size;
pub use state::{
    log_n_for_depth, Accepted, CeremonyState, Chain, ContributionState, Stage, StateParams,
};
pub use transcript::{check_keys, verify_keys, verify_transcript, Transcript};
