//! `urna-bench`: generate an election's ballots, load a board with them, recount an
//! export. See the crate documentation of `urna_benches` and `docs/SCALING.md`.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Election-scale benchmarks for Urna: ballot generator, board load test, recount.
#[derive(Debug, Parser)]
#[command(name = "urna-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a demo election (census of N voters, one 1-of-5 contest, 2-of-3 trustees)
    /// and one valid ballot per voter, in parallel, stored in DIR.
    ///
    /// Serve it with `urna-server --board-key DIR/board.key --keys-dir DIR/keys`.
    /// With --simulate-proofs the eligibility proofs are FORGED with the trapdoor of a
    /// benchmark-only Groth16 setup made here (written to DIR/BENCHMARK-ONLY-groth16-
    /// trapdoor-allows-forgery.hex). This is the forgery any single-party (dev) setup
    /// allows; the proofs cost the verifier exactly what real ones cost. Never let a
    /// real election use keys from DIR/keys. The validity proofs are always real.
    Gen {
        /// Voters in the census (one ballot each).
        #[arg(long)]
        voters: u64,
        /// Census depth (2^depth voters at most).
        #[arg(long, default_value_t = 20)]
        depth: u32,
        /// Options of the contest (choose exactly one).
        #[arg(long, default_value_t = 5)]
        options: usize,
        /// Output directory (new or empty).
        #[arg(long)]
        out: PathBuf,
        /// BENCHMARK ONLY: forge the eligibility proofs with the setup's trapdoor
        /// instead of proving (0.25 s each at depth 20).
        #[arg(long)]
        simulate_proofs: bool,
        /// Length of the voting window from now, in days.
        #[arg(long, default_value_t = 30)]
        window_days: u64,
        /// No progress on stderr.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Post the stored election and ballots to a running board and measure.
    Load {
        /// The board's URL.
        #[arg(long)]
        url: String,
        /// The `gen` output directory.
        #[arg(long)]
        ballots: PathBuf,
        /// Concurrent connections.
        #[arg(short = 'c', long, default_value_t = 32)]
        concurrency: usize,
        /// Send only the first N ballots.
        #[arg(long)]
        limit: Option<u64>,
        /// Open loop: offer this many ballots a second (default: closed loop).
        #[arg(long)]
        rate: Option<f64>,
        /// Retries of a ballot answered 503 overloaded or 429.
        #[arg(long, default_value_t = 20)]
        retries: u32,
        /// Afterwards close the election and post two trustees' decryption shares
        /// (the board then appends the tally).
        #[arg(long)]
        close: bool,
        /// Afterwards download the election's export to this file.
        #[arg(long)]
        export: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// No progress on stderr.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Recount an exported board with the verifier library; ballots a second and peak
    /// memory.
    Recount {
        /// The export file (`GET /v1/elections/{id}/export`).
        #[arg(long)]
        export: PathBuf,
        /// The `gen` directory: also check the tally against the generated choices.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Verifier threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Gen {
            voters,
            depth,
            options,
            out,
            simulate_proofs,
            window_days,
            quiet,
        } => {
            let meta = urna_benches::gen::run(&urna_benches::gen::GenOptions {
                voters,
                depth,
                options,
                out,
                simulate_proofs,
                window_seconds: window_days.saturating_mul(86_400),
                progress: !quiet,
            })?;
            println!("{}", serde_json::to_string_pretty(&meta)?);
        }
        Command::Load {
            url,
            ballots,
            concurrency,
            limit,
            rate,
            retries,
            close,
            export,
            json,
            quiet,
        } => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let report =
                rt.block_on(urna_benches::load::run(&urna_benches::load::LoadOptions {
                    url,
                    data: ballots,
                    concurrency,
                    limit,
                    rate,
                    retries,
                    close,
                    export,
                    progress: !quiet,
                }))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{report}");
            }
        }
        Command::Recount {
            export,
            data,
            threads,
            json,
        } => {
            let report = urna_benches::recount::run(&urna_benches::recount::RecountOptions {
                export,
                data,
                threads,
            })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{report}");
            }
        }
    }
    Ok(())
}
