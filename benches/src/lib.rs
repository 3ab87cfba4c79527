//! Benchmarks for Urna.
//!
//! - `benches/`: criterion micro-benchmarks of the cryptographic core (tally decryption,
//!   eligibility proofs, whole ballots).
//! - `urna-bench` (this library and `src/bin/urna-bench.rs`): election-scale tools that
//!   anyone can rerun against a real `urna-server` process:
//!   - [`gen`]: a demo election (census of N voters, a 1-of-5 contest, a 2-of-3 key
//!     ceremony) and one valid ballot per voter, made in parallel and stored;
//!   - [`load`]: posts the stored election and ballots to a board with C concurrent
//!     connections and reports accepted ballots a second, latency percentiles and errors
//!     by code; optionally closes, tallies and exports the election;
//!   - [`recount`]: the verifier on an export, with ballots a second and peak memory.
//!
//! [`simulate`] holds the **benchmark-only** Groth16 setup with a kept trapdoor that lets
//! `gen --simulate-proofs` forge eligibility proofs instead of proving them (0.25 s each
//! at depth 20). Such proofs cost the verifier exactly what real ones cost. See
//! `docs/SCALING.md` and the "Election scale" section of `BENCHMARKS.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod data;
pub mod gen;
pub mod load;
pub mod recount;
pub mod simulate;
