//! `urna-bench recount`: the verifier library (`urna-verify`) on a board export, timed,
//! with the process's peak resident memory.
//!
//! The figure is the whole recount, as an auditor runs it: the log's two passes, every
//! signature, the key ceremony, the census, every ballot's validity and eligibility
//! proofs (batched), the aggregate, the decryption shares and the tally. Run it as its
//! own process (the `urna-bench recount` command) so that the peak memory is the
//! verifier's; `/usr/bin/time -v urna-verify FILE` measures the same from outside.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, ensure, Context as _, Result};
use serde::Serialize;

use crate::data::Layout;

/// Options of `recount`.
#[derive(Clone, Debug)]
pub struct RecountOptions {
    /// The export file.
    pub export: PathBuf,
    /// The `gen` data directory, to compare the tally with the ballots' choices.
    pub data: Option<PathBuf>,
    /// Verifier threads (default: one per core).
    pub threads: Option<usize>,
}

/// What `recount` measured.
#[derive(Clone, Debug, Serialize)]
pub struct RecountReport {
    /// The export file.
    pub export: String,
    /// Its size in bytes.
    pub export_bytes: u64,
    /// Ballot entries verified.
    pub ballots_cast: u64,
    /// Ballots counted (last per nullifier).
    pub ballots_counted: u64,
    /// Log entries of the board.
    pub tree_size: u64,
    /// The election's phase at the end of the log.
    pub phase: String,
    /// The tally, if published.
    pub counts: Option<Vec<u64>>,
    /// Whether the tally equals the choices `gen` recorded (with `--data`).
    pub tally_matches_choices: Option<bool>,
    /// Wall-clock seconds of the whole recount.
    pub seconds: f64,
    /// Ballots verified a second (ballots cast / seconds).
    pub ballots_per_second: f64,
    /// Peak resident memory of this process, MiB (`VmHWM`).
    pub peak_rss_mib: Option<f64>,
}

impl std::fmt::Display for RecountReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "recount of {} ({} bytes, {} log entries): verified, phase {}",
            self.export, self.export_bytes, self.tree_size, self.phase
        )?;
        writeln!(
            f,
            "  {} ballots cast, {} counted, in {:.2} s: {:.0} ballots/s",
            self.ballots_cast, self.ballots_counted, self.seconds, self.ballots_per_second
        )?;
        match self.peak_rss_mib {
            Some(m) => writeln!(f, "  peak resident memory {m:.1} MiB")?,
            None => writeln!(f, "  peak resident memory unknown (no /proc)")?,
        }
        if let Some(c) = &self.counts {
            writeln!(f, "  tally {c:?}")?;
        }
        if let Some(m) = self.tally_matches_choices {
            writeln!(f, "  tally equals the generated choices: {m}")?;
        }
        Ok(())
    }
}

/// Peak resident set size of this process in MiB, from `/proc/self/status` (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Runs the recount.
pub fn run(opts: &RecountOptions) -> Result<RecountReport> {
    let export_bytes = std::fs::metadata(&opts.export)
        .with_context(|| format!("cannot read {}", opts.export.display()))?
        .len();
    let mut vopts = urna_verify::Options::default();
    if let Some(t) = opts.threads {
        ensure!(t >= 1, "--threads must be at least 1");
        vopts.threads = Some(t);
    }
    let t0 = Instant::now();
    let report = urna_verify::verify_file(&opts.export, &vopts)
        .map_err(|f| anyhow!("the verifier rejected the board: {f}"))?;
    let seconds = t0.elapsed().as_secs_f64();
    let counts = report
        .results
        .as_ref()
        .and_then(|r| r.first())
        .map(|c| c.options.iter().map(|(_, n)| *n).collect::<Vec<u64>>());
    let tally_matches_choices = match &opts.data {
        Some(dir) => {
            let meta = Layout::new(dir).read_meta()?;
            ensure!(
                meta.election_id == report.election_id,
                "the export is election {}, the data directory's is {}",
                report.election_id,
                meta.election_id
            );
            counts.as_ref().map(|c| *c == meta.expected_counts)
        }
        None => None,
    };
    Ok(RecountReport {
        export: opts.export.display().to_string(),
        export_bytes,
        ballots_cast: report.ballots_cast,
        ballots_counted: report.ballots_counted,
        tree_size: report.tree_size,
        phase: report.phase.name().to_owned(),
        counts,
        tally_matches_choices,
        seconds,
        ballots_per_second: report.ballots_cast as f64 / seconds.max(1e-9),
        peak_rss_mib: peak_rss_mib(),
    })
}
