//! Urna's election protocol.
//!
//! Pure protocol logic with no I/O: the election manifest and the canonical encoding of
//! every protocol object, exponential ElGamal over Ristretto255, the ballot validity
//! proofs, the trustees' distributed key generation, the tally with verifiable
//! decryption shares, and the typed entries of the bulletin board. Randomness comes in
//! from the caller; every decoder is canonical and checked. See `docs/PROTOCOL.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

extern crate alloc;

pub mod ballot;
pub mod board;
pub mod codec;
pub mod dkg;
pub mod elgamal;
pub mod encryption;
pub mod error;
pub mod group;
pub mod manifest;
pub mod proofs;
pub mod signing;
pub mod tally;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod transcript;

pub use error::{DecodeError, Error, VerificationError};
