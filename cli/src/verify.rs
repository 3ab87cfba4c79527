//! `urna verify`: the recount of the verifier library (`urna-verify`) on a board export
//! file or on an election of the board.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};

/// Arguments of `urna verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A board export file (`GET /v1/elections/{id}/export`); without it, the election
    /// is downloaded from --server.
    pub file: Option<PathBuf>,
    /// The election to download and verify (hex), when no file is given.
    #[arg(long, env = "URNA_ELECTION")]
    pub election: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `urna verify`.
pub async fn run(server: &str, args: Args) -> Result<()> {
    let server = server.to_owned();
    let report = tokio::task::spawn_blocking(move || {
        let options = urna_verify::Options::default();
        match (&args.file, &args.election) {
            (Some(file), _) => urna_verify::verify_file(file, &options),
            (None, Some(election)) => urna_verify::verify_url(&server, election, &options),
            (None, None) => {
                return Err(anyhow!(
                    "give an export file or --election ID (with --server) to verify"
                ))
            }
        }
        .map(|r| (r, args.json))
        .map_err(|f| anyhow!("verification failed: {f}"))
    })
    .await
    .map_err(|e| anyhow!("the verifier stopped: {e}"))??;
    let (report, json) = report;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(())
}

/// Verifies an export file; the readable report, or why it failed.
pub async fn verify_export(path: &Path) -> Result<String> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        match urna_verify::verify_file(&path, &urna_verify::Options::default()) {
            Ok(report) => Ok(report.to_string()),
            Err(failure) => bail!("the verifier rejected the board: {failure}"),
        }
    })
    .await
    .map_err(|e| anyhow!("the verifier stopped: {e}"))?
}
