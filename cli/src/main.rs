//! `urna`: the command line of an Urna election.
//!
//! Commands are grouped by role, each in its own module:
//!
//! * [`authority`]: `urna authority keygen|create|codes|freeze|open|close|tally|status`;
//! * [`trustee`]: `urna trustee keygen|deal|check|share`;
//! * [`ceremony`]: `urna ceremony keygen|contribute|beacon|status`, the Groth16 setup
//!   ceremony on the board;
//! * [`voter`]: `urna voter register|vote|check`;
//! * [`verify`]: `urna verify`, the recount of the verifier library;
//! * [`demo`]: `urna demo`, a whole election against an embedded board on SQLite.
//!
//! Every command talks to the board over its HTTP API ([`client`]) and trusts it only
//! for what it cannot check ([`ledger`]); keys and credentials are files of mode 0600 in
//! directories of mode 0700 ([`files`], [`keyfiles`]). See `docs/CLI.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod authority;
mod ceremony;
mod client;
mod demo;
mod files;
mod keyfiles;
mod ledger;
mod manifest_file;
mod progress;
mod trustee;
mod verify;
mod voter;

use clap::{Parser, Subcommand};

/// urna: run an end-to-end verifiable election against an Urna board.
#[derive(Debug, Parser)]
#[command(name = "urna", version, about, propagate_version = true)]
struct Cli {
    /// The board's address.
    #[arg(
        long,
        global = true,
        env = "URNA_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    server: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The election authority: manifest, registration codes, census, open, close, tally.
    #[command(subcommand)]
    Authority(authority::Command),
    /// A trustee: keys, key ceremony, decryption shares.
    #[command(subcommand)]
    Trustee(trustee::Command),
    /// The Groth16 setup ceremony on the board: contribute, close a phase, status.
    #[command(subcommand)]
    Ceremony(ceremony::Command),
    /// A voter: register, vote, check a receipt.
    #[command(subcommand)]
    Voter(voter::Command),
    /// Recount an election: verify a board export file or the board's election.
    Verify(verify::Args),
    /// Run a whole election locally against an embedded board on SQLite.
    Demo(demo::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Authority(c) => authority::run(&cli.server, c).await,
            Command::Trustee(c) => trustee::run(&cli.server, c).await,
            Command::Ceremony(c) => ceremony::run(&cli.server, c).await,
            Command::Voter(c) => voter::run(&cli.server, c).await,
            Command::Verify(a) => verify::run(&cli.server, a).await,
            Command::Demo(a) => demo::run(a).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
