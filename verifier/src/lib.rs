//! `urna-verify`: recounts an Urna election from a complete board export, trusting
//! nothing but the mathematics.
//!
//! The input is an `urna-board-export/v2` file (PROTOCOL 13.1), read from a file, a
//! reader, or the board's `GET /v1/elections/{id}/export`. The verifier checks, in the
//! order of PROTOCOL 13.3 and stopping at the first failure:
//!
//! 1. the header, the checkpoint's signature under the board's key and its origin;
//! 2. **the log** (first pass): every index from 0 in order, every leaf hash, and the
//!    root recomputed from all leaf hashes, which proves that every entry is in the
//!    signed log and that none is missing;
//! 3. **the election** (second pass), entry by entry in log order: canonical decoding,
//!    the manifest first and signed by its authority, the board's key the manifest
//!    names, **where the Groth16 keys come from** (below), every signature, the phase
//!    rules, the key ceremony, the registration codes and the census root, every ballot
//!    (voting window, census root, validity and eligibility proofs in batches, the replay
//!    and copied-ciphertext rules, the last ballot per nullifier counted), the
//!    homomorphic aggregate, every decryption share and the published tally.
//!
//! # The Groth16 keys
//!
//! A manifest either fixes the eligibility circuit's keys or runs a setup ceremony on the
//! board (PROTOCOL 3.1, 14.10):
//!
//! - **A ceremony on the board**: every `setup-phase1` and `setup-phase2` contribution is
//!   verified in log order from the generators on, with the incremental state the board
//!   uses ([`urna_ceremony::CeremonyState`]) and the rules of PROTOCOL 14.10 (before the
//!   census freeze, phase order, beacons by the authority after a secret contribution,
//!   nothing after `setup-keys`); after the phase-2 beacon the verifier derives the keys
//!   and requires the board's `setup-keys` entry, the election's next entry, to hold
//!   exactly the derived verifying key, proving-key hash and transcript hash. Ballots are
//!   verified under that key. The report lists each contribution and the final hashes.
//! - **Fixed keys**: the export header's verifying key must hash to the manifest's
//!   `verifying_key_hash`. Nothing on the board shows how those keys were made: the
//!   report says so ([`FIXED_KEYS_CAVEAT`]: with a single-party setup, whoever made them
//!   could forge eligibility proofs), and [`Options::require_ceremony`]
//!   (`--require-ceremony`) refuses such a board.
//!
//! A [`Failure`] names the first entry at fault by log index and the check it failed.
//! Memory does not grow with the ballots: lines are streamed, ballots are verified in
//! chunks and dropped, and the per-voter state is a few bytes (see *Memory*).
//!
//! Both passes use every core of the rayon pool ([`Options::threads`]): lines are parsed,
//! hashed and decoded in batches on all threads, then checked in log order; a full chunk
//! of ballots is verified while the next batch is decoded and checked (PROTOCOL 13.2).
//!
//! # Memory
//!
//! Two passes over the export: the first records, per nullifier, the index of its last
//! ballot (the one that counts); the second verifies. Kept throughout: per nullifier a
//! small record, per option ciphertext a 16-byte fingerprint prefix (the copied-ciphertext
//! rule), per re-voting nullifier the identities of its ballots, and while registration
//! is open the census. A setup ceremony costs one [`urna_ceremony::CeremonyState`] (the
//! current parameters, never the transcript) until its keys are derived, and a small
//! record per contribution. A URL or reader source is first spilled to a temporary file.
//!
//! # Example
//!
//! ```no_run
//! let report = urna_verify::verify_file(
//!     std::path::Path::new("board.ndjson"),
//!     &urna_verify::Options::default(),
//! )?;
//! println!("{report}");
//! # Ok::<(), urna_verify::Failure>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod check;
pub mod error;
mod export;
pub mod report;
mod scan;
mod setup;

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

pub use check::MAX_CLOCK_SKEW;
pub use error::{Failure, VerifyError};
pub use export::{FORMAT, MAX_LINE_BYTES};
pub use report::{
    CeremonyReport, ContestResult, ContributionReport, Phase, Report, SetupReport,
    FIXED_KEYS_CAVEAT,
};

use export::{Header, LineReader};

/// How to verify.
#[derive(Clone, Debug)]
pub struct Options {
    /// Worker threads for proof verification (`None`: one per core).
    pub threads: Option<usize>,
    /// Ballots verified together in one batch (validity MSM and Groth16 batch).
    pub chunk: usize,
    /// Largest export accepted from a URL or a reader, in bytes.
    pub max_download_bytes: u64,
    /// Timeout of the connection to a board (URL source).
    pub connect_timeout: Duration,
    /// Refuse an election whose manifest fixes its Groth16 keys instead of running the
    /// setup ceremony on its board (`CeremonyRequired`): nothing on such a board shows
    /// that no one knows the keys' trapdoor (PROTOCOL 10.5, 14.10).
    pub require_ceremony: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            threads: None,
            chunk: 512,
            max_download_bytes: 1 << 40,
            connect_timeout: Duration::from_secs(30),
            require_ceremony: false,
        }
    }
}

/// Verifies an export file.
pub fn verify_file(path: &Path, options: &Options) -> Result<Report, Failure> {
    let file = File::open(path).map_err(|e| {
        VerifyError::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))
    })?;
    verify_seekable(file, options)
}

/// Fetches `GET {base_url}/v1/elections/{election_id_hex}/export` and verifies it. The
/// download is spilled to a temporary file (two passes), at most
/// [`Options::max_download_bytes`].
pub fn verify_url(
    base_url: &str,
    election_id_hex: &str,
    options: &Options,
) -> Result<Report, Failure> {
    let id = export::hex32(election_id_hex)
        .map_err(|e| VerifyError::Usage(format!("election id: {e}")))?;
    let base = base_url.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(VerifyError::Usage(format!("not an http(s) URL: {base_url:?}")).into());
    }
    let url = format!("{base}/v1/elections/{}/export", hex::encode(id));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(options.connect_timeout))
        .build()
        .into();
    let response = agent
        .get(&url)
        .call()
        .map_err(|e| VerifyError::Http(format!("GET {url}: {e}")))?;
    let body = response.into_body().into_reader();
    verify_reader(BufReader::new(body), options)
}

/// Verifies an export read from `reader` (spilled to a temporary file, at most
/// [`Options::max_download_bytes`], since the verifier makes two passes).
pub fn verify_reader(reader: impl BufRead, options: &Options) -> Result<Report, Failure> {
    let mut spill = tempfile::tempfile().map_err(VerifyError::Io)?;
    let limit = options.max_download_bytes;
    let copied = std::io::copy(&mut reader.take(limit.saturating_add(1)), &mut spill)
        .map_err(VerifyError::Io)?;
    if copied > limit {
        return Err(VerifyError::Usage(format!(
            "the export is larger than the limit of {limit} bytes"
        ))
        .into());
    }
    spill.flush().map_err(VerifyError::Io)?;
    verify_seekable(spill, options)
}

/// Both passes over a seekable export.
fn verify_seekable(file: File, options: &Options) -> Result<Report, Failure> {
    let run = || -> Result<Report, Failure> {
        let started = Instant::now();
        let mut handle = &file;
        handle.seek(SeekFrom::Start(0)).map_err(VerifyError::Io)?;
        let mut lines = LineReader::new(BufReader::with_capacity(1 << 20, handle));
        let header = read_header(&mut lines)?;
        let scan = scan::scan(&mut lines, &header)?;
        drop(lines);

        handle.seek(SeekFrom::Start(0)).map_err(VerifyError::Io)?;
        let mut lines = LineReader::new(BufReader::with_capacity(1 << 20, handle));
        read_header(&mut lines)?;
        let mut report = check::check(&mut lines, &header, scan, options)?;
        report.describe_checks();
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    };
    match options.threads {
        None => run(),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map_err(|e| VerifyError::Usage(format!("thread pool: {e}")))?
            .install(run),
    }
}

/// PROTOCOL 13.3 checks 1–4.
fn read_header<R: BufRead>(lines: &mut LineReader<R>) -> Result<Header, Failure> {
    let line = lines.next_line()?.ok_or(VerifyError::MissingHeader)?;
    Ok(Header::parse(line)?)
}
