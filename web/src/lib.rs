//! Urna's voter web client: everything the voter's browser computes.
//!
//! The pages in `web/static` call this crate, compiled to `wasm32-unknown-unknown`
//! with `wasm-bindgen` (the [`wasm`] module, only on that target). Every function here
//! is plain Rust and is tested natively. The voter's secret and selections never leave
//! the browser: the board receives only the identity commitment ([`credential`]) and
//! the encrypted ballot with its proofs ([`ballot`]).
//!
//! - [`credential`]: the voter's credential file and the registration entry;
//! - [`election`]: the manifest read from its board entry (signature checked), the
//!   election key and the board's checkpoint key (checked against the manifest);
//! - [`ballot`]: loading the proving key (hash-checked), encrypting, the validity and
//!   eligibility proofs, and the Benaloh audit;
//! - [`receipt`]: checking inclusion against the signed checkpoint, and consistency with
//!   a later one;
//! - [`board`]: a one-line view of each board entry, and the tally.
//!
//! Trust: the manifest must be signed by its authority key, the checkpoint by the board
//! key the manifest names, and the proving key must hash to the manifest's
//! `proving_key_hash`. The election public key and the census path come from the board;
//! a wrong census path is caught here, a wrong election key by the voter's audit.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod ballot;
pub mod board;
pub mod credential;
pub mod election;
pub mod error;
pub mod receipt;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::WebError;
