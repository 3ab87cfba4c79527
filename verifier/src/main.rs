//! `urna-verify`: the command-line verifier (see the library's documentation).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use urna_verify::{verify_file, verify_url, Failure, Options};

const EXIT_CODES: &str = "\
Exit codes:
  0  the board verifies: every check held for every entry
  1  verification failed: the first entry at fault and the check it failed are printed
  2  usage error, or the export could not be read or fetched";

/// Verifies an Urna election from a complete board export: the signed log, the manifest,
/// the Groth16 setup ceremony on the board (every contribution from the generators on,
/// and the keys it derives; PROTOCOL §14.10), the key ceremony, the census, every ballot
/// (batched proofs, nullifier rule), the aggregate, the decryption shares and the tally
/// (docs/PROTOCOL.md §13). An election whose manifest fixes its keys is reported as
/// such: those keys are not checked against any ceremony (see --require-ceremony).
#[derive(Debug, Parser)]
#[command(name = "urna-verify", version, after_help = EXIT_CODES)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["file", "url"])))]
struct Args {
    /// An `urna-board-export/v2` file (from `GET /v1/elections/{id}/export`).
    file: Option<PathBuf>,
    /// Fetch the export from this board (e.g. https://board.example.org).
    #[arg(long, requires = "election", conflicts_with = "file")]
    url: Option<String>,
    /// The election id (64 hex digits), with --url.
    #[arg(long, requires = "url")]
    election: Option<String>,
    /// Print a JSON report instead of the readable one.
    #[arg(long)]
    json: bool,
    /// Worker threads for proof verification (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Refuse an election whose manifest fixes its Groth16 keys instead of running the
    /// setup ceremony on its board (PROTOCOL 14.10): with fixed keys, nothing on the
    /// board shows that whoever made them cannot forge eligibility proofs.
    #[arg(long)]
    require_ceremony: bool,
    /// Ballots verified together in one batch.
    #[arg(long, default_value_t = Options::default().chunk as u64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    chunk: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let options = Options {
        threads: args.threads,
        chunk: usize::try_from(args.chunk).unwrap_or(1),
        require_ceremony: args.require_ceremony,
        ..Options::default()
    };
    let result = match (&args.file, &args.url, &args.election) {
        (Some(file), _, _) => verify_file(file, &options),
        (None, Some(url), Some(election)) => verify_url(url, election, &options),
        _ => Err(Failure::global(urna_verify::VerifyError::Usage(
            "give a FILE, or --url and --election".into(),
        ))),
    };
    let mut out = std::io::stdout().lock();
    match result {
        Ok(report) => {
            let printed = if args.json {
                serde_json::to_string_pretty(&serde_json::json!({ "ok": true, "report": report }))
                    .map(|s| writeln!(out, "{s}"))
            } else {
                Ok(writeln!(out, "{report}\n\nOK: the board verifies."))
            };
            match printed {
                Ok(Ok(())) => ExitCode::SUCCESS,
                _ => ExitCode::from(2),
            }
        }
        Err(failure) => {
            if args.json {
                let value = serde_json::json!({
                    "ok": false,
                    "index": failure.index,
                    "kind": failure.kind,
                    "check": failure.error.check(),
                    "error": failure.error.to_string(),
                    "message": failure.to_string(),
                });
                let _ = writeln!(out, "{value:#}");
            }
            let what = if failure.error.is_verdict() {
                "verification FAILED"
            } else {
                "error"
            };
            eprintln!("urna-verify: {what}: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
