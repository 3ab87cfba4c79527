//! Configuration (flags and environment) and start-up: storage, keys, the board.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;

use crate::api::ratelimit::{ClientRateLimit, RateLimitConfig};
use crate::api::{AppState, Limits};
use crate::board::{Board, BoardOptions, StartError};
use crate::keys::{BoardKey, KeyError, ProvingKeys, VerifyingKeys};
use crate::storage::postgres::PgStorage;
use crate::storage::sqlite::SqliteStorage;
use crate::storage::{Storage, StorageError};

/// `urna-server`: the Urna bulletin board.
#[derive(Clone, Debug, Parser)]
#[command(name = "urna-server", version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "URNA_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory for the SQLite database, the board key and the verifying keys.
    #[arg(long, env = "URNA_DATA_DIR", default_value = "./urna-data")]
    pub data_dir: PathBuf,

    /// Database URL: `postgres://…` for PostgreSQL, or `sqlite:…`; default: SQLite in
    /// the data directory (`board.sqlite3`).
    #[arg(long = "database", env = "URNA_DATABASE_URL")]
    pub database: Option<String>,

    /// The board's signing key (a signed-note signer key file); default: `board.key` in
    /// the data directory, generated on first start.
    #[arg(long, env = "URNA_BOARD_KEY")]
    pub board_key: Option<PathBuf>,

    /// The log's origin (key name) when a board key is generated.
    #[arg(long, env = "URNA_ORIGIN", default_value = "urna-board")]
    pub origin: String,

    /// Directory of Groth16 verifying keys (`*.vk`); default: `keys` in the data
    /// directory.
    #[arg(long, env = "URNA_KEYS_DIR")]
    pub keys_dir: Option<PathBuf>,

    /// INSECURE, for demos and tests: generate single-party Groth16 keys for this census
    /// depth into the keys directory if none were generated before. Whoever runs this
    /// can forge eligibility proofs.
    #[arg(long, value_name = "DEPTH")]
    pub insecure_dev_setup: Option<u32>,

    /// Proof verifications running at once (default: the number of CPUs).
    #[arg(long, env = "URNA_VERIFY_WORKERS")]
    pub verify_workers: Option<usize>,

    /// Proof verifications admitted at once; beyond it the server answers 503. A
    /// 2-core server needs 100–200 ballots in flight to keep both cores busy
    /// (BENCHMARKS.md); 256 queued ballots are a few MB and about 0.2 s of work.
    #[arg(long, env = "URNA_VERIFY_QUEUE", default_value_t = 256)]
    pub verify_queue: usize,

    /// Largest request body for ballots, in bytes.
    #[arg(long, env = "URNA_MAX_BALLOT_BYTES", default_value_t = 1 << 20)]
    pub max_ballot_bytes: usize,

    /// Largest request body for other entries, in bytes.
    #[arg(long, env = "URNA_MAX_ENTRY_BYTES", default_value_t = 8 << 20)]
    pub max_entry_bytes: usize,

    /// Per-client rate limit on writes (POST): sustained requests a second from one
    /// address (an IPv6 /64); 0 disables. The default lets a household or a NAT'd
    /// office vote and re-vote freely and stops one address from flooding the board;
    /// a load test from one machine must pass 0.
    #[arg(long, env = "URNA_RATE_LIMIT_PER_SECOND", default_value_t = 100)]
    pub rate_limit_per_second: u32,

    /// Per-client burst: writes one address may send at once; 0 disables the limit.
    #[arg(long, env = "URNA_RATE_LIMIT_BURST", default_value_t = 200)]
    pub rate_limit_burst: u32,

    /// Take the client address for rate limits from the last `X-Forwarded-For`
    /// address (only behind a reverse proxy that sets it; otherwise clients could pick
    /// their own address).
    #[arg(long, env = "URNA_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// Run as a read-only replica (PostgreSQL only, e.g. over a hot-standby replica of
    /// the primary): serve the log, the elections, census paths and exports, catching
    /// up on every read; answer every write with 503 `read_only`; run no migrations
    /// (a writable server on the primary applies them) and never take the sequencer
    /// lock.
    #[arg(long, env = "URNA_READ_ONLY")]
    pub read_only: bool,

    /// Directory of the voter web client served at `/` (built by
    /// `scripts/build-web.sh`); default: `web/dist` under the working directory, if it
    /// exists.
    #[arg(long, env = "URNA_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
}

/// The default `--web-dir`, used only if it exists.
pub const DEFAULT_WEB_DIR: &str = "web/dist";

/// The web client's assets: the pages' directory and the proving keys of the keys
/// directory (`*.pk`) whose verifying keys the board has.
pub fn web_assets(config: &Config) -> Result<crate::api::WebAssets, SetupError> {
    let web_dir = match &config.web_dir {
        Some(dir) if dir.is_dir() => Some(dir.clone()),
        Some(dir) => {
            return Err(SetupError::Io {
                path: dir.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
            })
        }
        None => {
            let dir = PathBuf::from(DEFAULT_WEB_DIR);
            dir.is_dir().then_some(dir)
        }
    };
    match &web_dir {
        Some(dir) => tracing::info!(dir = %dir.display(), "serving the web client at /"),
        None => tracing::info!("no web client directory; not serving pages"),
    }
    let keys_dir = keys_dir(config);
    let vks = VerifyingKeys::load_dir(&keys_dir)?;
    let proving_keys = ProvingKeys::load_dir(&keys_dir, &vks)?;
    Ok(crate::api::WebAssets {
        web_dir,
        proving_keys: Arc::new(proving_keys),
    })
}

fn keys_dir(config: &Config) -> PathBuf {
    config
        .keys_dir
        .clone()
        .unwrap_or_else(|| config.data_dir.join("keys"))
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// A directory could not be created.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Opening the database failed.
    #[error("database: {0}")]
    Storage(#[from] StorageError),
    /// `--read-only` without a PostgreSQL database.
    #[error("--read-only needs --database postgres://… (a replica of the primary's database); an embedded SQLite board has one writable server")]
    ReadOnlyNeedsPostgres,
    /// A key could not be loaded.
    #[error("keys: {0}")]
    Keys(#[from] KeyError),
    /// The stored board is inconsistent.
    #[error(transparent)]
    Board(#[from] StartError),
    /// The insecure setup failed.
    #[error("insecure dev setup: {0}")]
    DevSetup(String),
}

/// Opens the storage the configuration names.
pub async fn open_storage(config: &Config) -> Result<Arc<dyn Storage>, SetupError> {
    match config.database.as_deref() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            if config.read_only {
                Ok(Arc::new(PgStorage::connect_read_only(url).await?))
            } else {
                Ok(Arc::new(PgStorage::connect(url).await?))
            }
        }
        _ if config.read_only => Err(SetupError::ReadOnlyNeedsPostgres),
        Some(url) => Ok(Arc::new(SqliteStorage::open_url(url).await?)),
        None => Ok(Arc::new(
            SqliteStorage::open(&config.data_dir.join("board.sqlite3")).await?,
        )),
    }
}

fn insecure_dev_setup(dir: &std::path::Path, depth: u32) -> Result<(), SetupError> {
    let marker = dir.join(format!("insecure-depth-{depth}.pk"));
    if marker.exists() {
        return Ok(());
    }
    tracing::warn!(
        depth,
        "INSECURE: generating single-party Groth16 keys; this server's operator can forge \
         eligibility proofs for every election using them"
    );
    let (pk, vk) = urna_circuits::keys::setup_single_party(depth, &mut rand::rngs::OsRng)
        .map_err(|e| SetupError::DevSetup(e.to_string()))?;
    crate::keys::write_verifying_key(dir, &vk)?;
    let bytes = pk
        .to_bytes()
        .map_err(|e| SetupError::DevSetup(e.to_string()))?;
    std::fs::write(&marker, bytes).map_err(|source| SetupError::Io {
        path: marker.display().to_string(),
        source,
    })?;
    Ok(())
}

/// Builds the application state from the configuration: data directory, database,
/// board key, verifying keys, the board (rebuilt and checked from storage).
pub async fn build(config: &Config) -> Result<AppState, SetupError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| SetupError::Io {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let key = match &config.board_key {
        Some(path) => BoardKey::load(path)?,
        None => BoardKey::load_or_generate(&config.data_dir.join("board.key"), &config.origin)?,
    };
    let keys_dir = keys_dir(config);
    if let Some(depth) = config.insecure_dev_setup {
        insecure_dev_setup(&keys_dir, depth)?;
    }
    let vks = VerifyingKeys::load_dir(&keys_dir)?;
    let store = open_storage(config).await?;
    let mut options = BoardOptions {
        verify_queue: config.verify_queue,
        read_only: config.read_only,
        ..BoardOptions::default()
    };
    if let Some(w) = config.verify_workers {
        options.verify_workers = w;
    }
    let board = Board::open(store, key, vks, options).await?;
    let rate_limit = ClientRateLimit::start(RateLimitConfig {
        per_second: config.rate_limit_per_second,
        burst: config.rate_limit_burst,
        trust_forwarded_for: config.trust_forwarded_for,
    });
    match &rate_limit {
        Some(_) => tracing::info!(
            per_second = config.rate_limit_per_second,
            burst = config.rate_limit_burst,
            trust_forwarded_for = config.trust_forwarded_for,
            "per-client rate limit on writes"
        ),
        None => tracing::info!("no per-client rate limit"),
    }
    Ok(AppState {
        board,
        limits: Limits {
            ballot: config.max_ballot_bytes,
            entry: config.max_entry_bytes,
        },
        rate_limit,
    })
}
