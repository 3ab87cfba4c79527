//! The board's HTTP API as the CLI sees it (docs/API.md): typed requests, bounded
//! response bodies, and the server's machine-readable error codes turned into messages
//! a person can act on.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use urna_protocol::board::BoardEntry;
use urna_protocol::codec::Canonical;

/// Largest JSON answer read from the board (a page of entries, a census page).
const MAX_JSON_BYTES: usize = 64 << 20;
/// Largest text answer (a checkpoint).
const MAX_TEXT_BYTES: usize = 64 << 10;
/// How often a write is retried when the board says it is overloaded.
const OVERLOAD_RETRIES: u32 = 8;
/// Longest wait between those retries.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(10);

/// An error talking to the board.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No connection, a timeout, or a broken answer.
    #[error("cannot reach the board at {url}: {reason} (is the server running, and is --server / URNA_SERVER right?)")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The board answered with one of its error codes.
    #[error("{}", explain(code, message))]
    Api {
        /// HTTP status.
        status: u16,
        /// The stable code (docs/API.md "Errors").
        code: String,
        /// The board's message.
        message: String,
    },
    /// The answer is not what the API promises.
    #[error("the server at {url} did not answer as an Urna board does (HTTP {status}): {detail}")]
    Unexpected {
        /// The URL asked.
        url: String,
        /// HTTP status.
        status: u16,
        /// What was wrong.
        detail: String,
    },
}

impl ClientError {
    /// The board's error code, if the board answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A clear message for each of the board's error codes, with the board's own text.
fn explain(code: &str, message: &str) -> String {
    let plain = match code {
        "unknown_election" => "no election with this id on this board (check --election)",
        "voting_not_open" => "the election is not open for voting yet",
        "voting_closed" => "voting in this election is closed",
        "registration_code_used" => "this registration code has already been used",
        "unknown_registration_code" => {
            "this registration code is not valid for this election (check the code and --election)"
        }
        "census_frozen" => "registration is over: the census of this election is frozen",
        "census_full" => "the census is full: the manifest's census depth allows no more voters",
        "duplicate_commitment" => "this credential is already registered",
        "duplicate_code_hash" => "these registration codes were already posted",
        "wrong_census_root" => {
            "the ballot was made for another census than the frozen one (re-run the vote)"
        }
        "bad_signature" => {
            "the board rejected the signature: this key is not the one the election's manifest names"
        }
        "unknown_trustee" => "this trustee is not a trustee of the election",
        "wrong_board_key" => "the manifest names another board key than this board's",
        "unknown_verifying_key" => {
            "the board does not hold the Groth16 verifying key the manifest names"
        }
        "election_exists" => "an election with this id already exists on the board",
        "invalid_manifest" => "the board rejected the manifest",
        "unknown_contributor" => {
            "this key is not a setup-ceremony contributor of the election (or the election has \
             fixed keys and no ceremony)"
        }
        "wrong_phase" => "not allowed in the election's current phase",
        "outside_window" => "outside the election's time window or too far from the board's clock",
        "duplicate_entry" => "this was already posted",
        "ciphertext_reused" => "a ciphertext of this ballot is already on the board under another voter",
        "invalid_ballot" => "the board rejected the ballot",
        "invalid_entry" => "the board rejected the entry",
        "census_mismatch" => "the census changed since it was read (run the command again)",
        "conflict" => "the board changed while the request was checked (run the command again)",
        "wrong_entry_kind" => "the board does not take this kind of entry here",
        "overloaded" => "the board is overloaded; try again later",
        "body_too_large" => "the request is larger than the board accepts",
        "not_found" => "not found on the board",
        "internal" => "the board had an internal error",
        _ => "the board rejected the request",
    };
    format!("{plain} [{code}: {message}]")
}

/// Wire types of docs/API.md, as the CLI reads them.
pub mod wire {
    use super::{Deserialize, Serialize};

    /// `GET /v1/board`.
    #[derive(Clone, Debug, Deserialize)]
    pub struct BoardInfo {
        /// The log's origin line.
        pub origin: String,
        /// The signed-note verifier key.
        pub vkey: String,
        /// The Ed25519 key a manifest names as `board_key` (hex).
        pub public_key: String,
        /// Groth16 verifying keys by SHA-256 (hex).
        pub verifying_keys: Vec<String>,
    }

    /// An election summary.
    #[derive(Clone, Debug, Deserialize)]
    pub struct Summary {
        /// Election id (hex).
        pub election_id: String,
        /// Title.
        pub title: String,
        /// `setup`, `frozen`, `open`, `closed`, `tallied`.
        pub phase: String,
        /// Log index of the manifest.
        pub manifest_index: u64,
        /// Manifest hash (hex).
        pub manifest_hash: String,
        /// Window start.
        pub opens_at: u64,
        /// Window end.
        pub closes_at: u64,
        /// Trustees who dealt.
        pub dealers: Vec<u32>,
        /// Complaints posted.
        pub complaints: usize,
        /// Registration codes posted.
        pub registration_codes: usize,
        /// Registrations.
        pub registrations: usize,
        /// Frozen census root (hex).
        pub census_root: Option<String>,
        /// Election public key (hex), once open.
        pub election_public_key: Option<String>,
        /// Ballot entries.
        pub ballot_entries: u64,
        /// Ballots that count.
        pub counted_ballots: usize,
        /// Trustees who posted shares.
        pub shares: Vec<u32>,
        /// Index of the tally entry.
        pub tally_index: Option<u64>,
        /// Where the Groth16 keys come from: `fixed-keys` or `ceremony`.
        #[serde(default)]
        pub setup_mode: Option<String>,
        /// The keys, once fixed (the board's word: checked by the commands that use them).
        #[serde(default)]
        pub keys: Option<KeyHashes>,
    }

    /// The keys an election's eligibility proofs use, as the board reports them.
    #[derive(Clone, Debug, Deserialize)]
    pub struct KeyHashes {
        /// SHA-256 of the Groth16 verifying key (hex).
        pub verifying_key_hash: String,
        /// SHA-256 of the proving key (hex).
        pub proving_key_hash: String,
        /// With a ceremony: the final transcript hash (hex).
        #[serde(default)]
        pub transcript_hash: Option<String>,
        /// With a ceremony: the log index of the board's `setup-keys` entry.
        #[serde(default)]
        pub entry_index: Option<u64>,
    }

    /// A setup contributor (`GET …/setup`).
    #[derive(Clone, Debug, Deserialize)]
    pub struct ContributorInfo {
        /// 0 the authority, `1..=n` the trustees, then the extra contributors.
        pub index: u32,
        /// Its name.
        pub name: String,
        /// Its Ed25519 signing key (hex).
        pub signing_key: String,
    }

    /// An accepted setup contribution (`GET …/setup`).
    #[derive(Clone, Debug, Deserialize)]
    pub struct ContributionRecord {
        /// 1 or 2.
        pub phase: u8,
        /// Log index of its entry.
        pub index: u64,
        /// The contributor's index.
        pub contributor: u32,
        /// Whether it is the phase's closing beacon.
        pub beacon: bool,
        /// The transcript hash after it (hex).
        pub hash: String,
    }

    /// `GET /v1/elections/{id}/setup`.
    #[derive(Clone, Debug, Deserialize)]
    pub struct SetupSummary {
        /// `fixed-keys` or `ceremony`.
        pub mode: String,
        /// With a ceremony: `phase1`, `phase2` or `closed`.
        #[serde(default)]
        pub stage: Option<String>,
        /// The census depth.
        pub depth: u32,
        /// With a ceremony: the current transcript hash (hex).
        #[serde(default)]
        pub hash: Option<String>,
        /// With a ceremony: who may contribute.
        #[serde(default)]
        pub contributors: Vec<ContributorInfo>,
        /// With a ceremony: the accepted contributions, in log order.
        #[serde(default)]
        pub contributions: Vec<ContributionRecord>,
        /// The keys, once fixed.
        #[serde(default)]
        pub keys: Option<KeyHashes>,
    }

    /// The answer to a write (with its receipt): the server's own type (the CLI embeds
    /// the server for `urna demo`, so the two cannot drift apart).
    pub use urna_server::Submitted as Submission;

    /// A receipt (the server's own type, as [`Submission`]).
    pub use urna_server::Receipt;

    /// One log entry.
    #[derive(Clone, Debug, Deserialize)]
    pub struct Entry {
        /// Log index.
        pub index: u64,
        /// Election id (hex).
        pub election_id: String,
        /// Kind name.
        pub kind: String,
        /// Leaf hash (hex).
        pub leaf_hash: String,
        /// Canonical entry bytes (hex).
        pub entry: String,
    }

    /// A page of log entries.
    #[derive(Clone, Debug, Deserialize)]
    pub struct EntriesPage {
        /// The entries.
        pub entries: Vec<Entry>,
        /// Next start, absent on the last page.
        pub next: Option<u64>,
    }

    /// `GET /v1/log/consistency`.
    #[derive(Clone, Debug, Deserialize)]
    pub struct Consistency {
        /// From size.
        pub from: u64,
        /// To size.
        pub to: u64,
        /// Proof (hex hashes).
        pub proof: Vec<String>,
    }

    /// `GET /v1/elections/{id}/census/path/{commitment}`.
    #[derive(Clone, Debug, Deserialize)]
    pub struct CensusPath {
        /// Leaf index.
        pub index: u64,
        /// Census root (hex).
        pub root: String,
        /// Canonical MerklePath bytes (hex).
        pub path: String,
    }

    /// `GET /v1/elections/{id}/aggregate`.
    #[derive(Clone, Debug, Deserialize)]
    pub struct AggregateBody {
        /// Ballots summed.
        pub ballots: u64,
        /// Aggregate (hex, PROTOCOL 8.1).
        pub aggregate: String,
    }

    #[derive(Deserialize)]
    pub(super) struct ErrorBody {
        pub error: String,
        #[serde(default)]
        pub message: String,
    }

    #[derive(Serialize)]
    pub(super) struct PostEntry {
        pub entry: String,
    }
}

/// A client of one board.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// A client of the board at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> anyhow::Result<Client> {
        let base = base.trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base)
            .map_err(|e| anyhow::anyhow!("the server address {base:?} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            anyhow::bail!("the server address {base:?} must start with http:// or https://");
        }
        // TLS (https boards) with rustls and the ring provider; installing it twice is
        // harmless, so the error of a second install is ignored.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .user_agent(concat!("urna/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client { http, base })
    }

    /// The board's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn unreachable(url: &str, e: &reqwest::Error) -> ClientError {
        let mut reason = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            reason.push_str(": ");
            reason.push_str(&s.to_string());
            source = s.source();
        }
        ClientError::Unreachable {
            url: url.to_owned(),
            reason,
        }
    }

    /// Reads at most `max` bytes of a body.
    async fn body(
        url: &str,
        mut resp: reqwest::Response,
        max: usize,
    ) -> Result<Vec<u8>, ClientError> {
        let status = resp.status().as_u16();
        if resp.content_length().is_some_and(|n| n > max as u64) {
            return Err(ClientError::Unexpected {
                url: url.to_owned(),
                status,
                detail: format!("the answer is larger than {max} bytes"),
            });
        }
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| Self::unreachable(url, &e))? {
            if out.len() + chunk.len() > max {
                return Err(ClientError::Unexpected {
                    url: url.to_owned(),
                    status,
                    detail: format!("the answer is larger than {max} bytes"),
                });
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Turns a non-success answer into an error.
    async fn fail(url: &str, resp: reqwest::Response) -> ClientError {
        let status = resp.status().as_u16();
        match Self::body(url, resp, 1 << 20).await {
            Ok(bytes) => match serde_json::from_slice::<wire::ErrorBody>(&bytes) {
                Ok(b) => ClientError::Api {
                    status,
                    code: b.error,
                    message: b.message,
                },
                Err(_) => ClientError::Unexpected {
                    url: url.to_owned(),
                    status,
                    detail: format!(
                        "not an Urna error body: {:?}",
                        String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                    ),
                },
            },
            Err(e) => e,
        }
    }

    /// `GET path`: the URL and the successful answer.
    async fn get(&self, path: &str) -> Result<(String, reqwest::Response), ClientError> {
        self.get_within(path, None).await
    }

    /// `GET path` with its own time limit (for the board's slow answers).
    async fn get_within(
        &self,
        path: &str,
        timeout: Option<Duration>,
    ) -> Result<(String, reqwest::Response), ClientError> {
        let url = self.url(path);
        let mut request = self.http.get(&url);
        if let Some(t) = timeout {
            request = request.timeout(t);
        }
        let resp = request
            .send()
            .await
            .map_err(|e| Self::unreachable(&url, &e))?;
        if !resp.status().is_success() {
            return Err(Self::fail(&url, resp).await);
        }
        Ok((url, resp))
    }

    async fn get_raw(&self, path: &str, max: usize) -> Result<Vec<u8>, ClientError> {
        let (url, resp) = self.get(path).await?;
        Self::body(&url, resp, max).await
    }

    /// `GET path`, a JSON answer.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let bytes = self.get_raw(path, MAX_JSON_BYTES).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Unexpected {
            url: self.url(path),
            status: 200,
            detail: format!("malformed JSON: {e}"),
        })
    }

    /// `GET path`, a binary answer of at most `max` bytes, waiting up to `timeout`.
    pub async fn get_bytes(
        &self,
        path: &str,
        max: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, ClientError> {
        let (url, resp) = self.get_within(path, Some(timeout)).await?;
        Self::body(&url, resp, max).await
    }

    /// `GET path`, a text answer (a checkpoint).
    pub async fn get_text(&self, path: &str) -> Result<String, ClientError> {
        let bytes = self.get_raw(path, MAX_TEXT_BYTES).await?;
        String::from_utf8(bytes).map_err(|_| ClientError::Unexpected {
            url: self.url(path),
            status: 200,
            detail: "the text is not UTF-8".into(),
        })
    }

    /// Posts one board entry to `path`; retries while the board says it is overloaded.
    pub async fn post_entry(
        &self,
        path: &str,
        entry: &BoardEntry,
    ) -> Result<wire::Submission, ClientError> {
        self.post_entry_within(path, entry, None).await
    }

    /// As [`Client::post_entry`], waiting up to `timeout` for each answer (entries the
    /// board takes long to check, such as setup contributions).
    pub async fn post_entry_within(
        &self,
        path: &str,
        entry: &BoardEntry,
        timeout: Option<Duration>,
    ) -> Result<wire::Submission, ClientError> {
        let url = self.url(path);
        let body = wire::PostEntry {
            entry: hex::encode(entry.to_canonical_bytes()),
        };
        let mut attempt = 0;
        loop {
            let mut request = self.http.post(&url).json(&body);
            if let Some(t) = timeout {
                request = request.timeout(t);
            }
            let resp = request
                .send()
                .await
                .map_err(|e| Self::unreachable(&url, &e))?;
            let status = resp.status();
            if status.is_success() {
                let bytes = Self::body(&url, resp, MAX_JSON_BYTES).await?;
                return serde_json::from_slice(&bytes).map_err(|e| ClientError::Unexpected {
                    url: url.clone(),
                    status: status.as_u16(),
                    detail: format!("malformed submission: {e}"),
                });
            }
            let wait = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(Duration::from_secs(1), Duration::from_secs)
                .min(MAX_RETRY_WAIT);
            let err = Self::fail(&url, resp).await;
            if err.code() == Some("overloaded") && attempt < OVERLOAD_RETRIES {
                attempt += 1;
                tokio::time::sleep(wait).await;
                continue;
            }
            return Err(err);
        }
    }

    /// Streams `GET path` into `file` (no size limit: the caller asked for the file).
    pub async fn download(&self, path: &str, file: &std::path::Path) -> anyhow::Result<u64> {
        use std::io::Write as _;
        let (url, mut resp) = self.get(path).await?;
        let f = std::fs::File::create(file)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", file.display()))?;
        let mut out = std::io::BufWriter::new(f);
        let mut n = 0u64;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| Self::unreachable(&url, &e))?
        {
            out.write_all(&chunk)?;
            n += chunk.len() as u64;
        }
        out.flush()?;
        out.get_ref().sync_all()?;
        Ok(n)
    }

    /// Streams `GET path` into a new file `file` (never overwritten), waiting up to
    /// `timeout`, refusing more than `max` bytes; returns its size and SHA-256. The
    /// caller checks the hash (the file is the caller's to remove).
    pub async fn download_hashed(
        &self,
        path: &str,
        file: &std::path::Path,
        max: u64,
        timeout: Duration,
    ) -> anyhow::Result<(u64, [u8; 32])> {
        use sha2::Digest as _;
        use std::io::Write as _;
        let (url, mut resp) = self.get_within(path, Some(timeout)).await?;
        if resp.content_length().is_some_and(|n| n > max) {
            anyhow::bail!("{url}: the answer is larger than {max} bytes");
        }
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(file)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", file.display()))?;
        let mut out = std::io::BufWriter::new(f);
        let mut hasher = sha2::Sha256::new();
        let mut n = 0u64;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| Self::unreachable(&url, &e))?
        {
            n += chunk.len() as u64;
            if n > max {
                anyhow::bail!("{url}: the answer is larger than {max} bytes");
            }
            hasher.update(&chunk);
            out.write_all(&chunk)?;
        }
        out.flush()?;
        out.get_ref().sync_all()?;
        Ok((n, hasher.finalize().into()))
    }
}
