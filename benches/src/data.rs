//! The benchmark's data directory: what `urna-bench gen` writes and the other commands
//! read.
//!
//! ```text
//! DIR/bench.json          metadata (election id, voters, depth, proof mode, expected tally)
//! DIR/board.key           the board's signing key: start urna-server with --board-key
//! DIR/keys/*.vk, *.pk     Groth16 keys: start urna-server with --keys-dir DIR/keys
//! DIR/setup.ndjson        the election's set-up entries in board order: {"path", "entry"}
//! DIR/ballots.ndjson      one ballot per line, the body of POST …/ballots: {"entry"}
//! DIR/BENCHMARK-ONLY-secrets.json   authority and trustee keys (to open, close, tally)
//! DIR/BENCHMARK-ONLY-groth16-trapdoor-allows-forgery.hex   only with --simulate-proofs
//! ```
//!
//! Every secret here is a benchmark's: the directory must never serve a real election.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use serde::{Deserialize, Serialize};
use urna_protocol::encryption::EncryptionSecretKey;
use urna_protocol::signing::SigningKey;

/// Format name of `bench.json`.
pub const FORMAT: &str = "urna-bench-data/v1";

/// `bench.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    /// [`FORMAT`].
    pub format: String,
    /// The election id (hex).
    pub election_id: String,
    /// Census depth.
    pub depth: u32,
    /// Registered voters (= ballots, one each).
    pub voters: u64,
    /// Options of the one contest (1-of-n).
    pub options: usize,
    /// Whether the eligibility proofs were simulated with the setup's trapdoor.
    pub simulated_proofs: bool,
    /// The contest's counts the ballots add up to.
    pub expected_counts: Vec<u64>,
    /// Trustees and threshold.
    pub trustees: u32,
    /// Decryption threshold.
    pub threshold: u32,
    /// Wall-clock seconds `gen` spent making the ballots.
    pub ballot_seconds: f64,
    /// Unix time of generation.
    pub created_at: u64,
}

/// Benchmark-only secrets: the authority's and trustees' keys.
#[derive(Clone, Serialize, Deserialize)]
pub struct Secrets {
    /// What this is.
    pub warning: String,
    /// Authority signing seed (hex).
    pub authority: String,
    /// Trustees' signing seeds (hex).
    pub trustee_signing: Vec<String>,
    /// Trustees' encryption secret keys (hex).
    pub trustee_encryption: Vec<String>,
}

impl core::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Secrets(redacted)")
    }
}

fn hex32(text: &str, what: &str) -> Result<[u8; 32]> {
    let bytes = hex::decode(text).with_context(|| format!("{what}: not hex"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow!("{what}: not 32 bytes"))
}

impl Secrets {
    /// The authority's key.
    pub fn authority(&self) -> Result<SigningKey> {
        Ok(SigningKey::from_seed(&hex32(&self.authority, "authority")?))
    }

    /// Trustee `j`'s (1-based) signing key.
    pub fn trustee_signing(&self, j: u32) -> Result<SigningKey> {
        let s = self
            .trustee_signing
            .get((j as usize).wrapping_sub(1))
            .ok_or_else(|| anyhow!("no trustee {j}"))?;
        Ok(SigningKey::from_seed(&hex32(s, "trustee signing key")?))
    }

    /// Trustee `j`'s (1-based) encryption key.
    pub fn trustee_encryption(&self, j: u32) -> Result<EncryptionSecretKey> {
        let s = self
            .trustee_encryption
            .get((j as usize).wrapping_sub(1))
            .ok_or_else(|| anyhow!("no trustee {j}"))?;
        EncryptionSecretKey::from_bytes(&hex32(s, "trustee encryption key")?)
            .map_err(|e| anyhow!("trustee encryption key: {e}"))
    }
}

/// Paths inside a data directory.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The directory.
    pub dir: PathBuf,
}

impl Layout {
    /// The layout of `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }
    /// `bench.json`.
    pub fn meta(&self) -> PathBuf {
        self.dir.join("bench.json")
    }
    /// The board key file.
    pub fn board_key(&self) -> PathBuf {
        self.dir.join("board.key")
    }
    /// The keys directory.
    pub fn keys(&self) -> PathBuf {
        self.dir.join("keys")
    }
    /// Set-up entries.
    pub fn setup(&self) -> PathBuf {
        self.dir.join("setup.ndjson")
    }
    /// Ballots.
    pub fn ballots(&self) -> PathBuf {
        self.dir.join("ballots.ndjson")
    }
    /// Secrets.
    pub fn secrets(&self) -> PathBuf {
        self.dir.join("BENCHMARK-ONLY-secrets.json")
    }
    /// The trapdoor (simulated proofs only).
    pub fn trapdoor(&self) -> PathBuf {
        self.dir.join(crate::simulate::TRAPDOOR_FILE)
    }

    /// Reads `bench.json`.
    pub fn read_meta(&self) -> Result<Meta> {
        let path = self.meta();
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!("cannot read {} (made by `urna-bench gen`?)", path.display())
        })?;
        let meta: Meta = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a bench metadata file", path.display()))?;
        if meta.format != FORMAT {
            return Err(anyhow!(
                "{}: format {:?}, expected {FORMAT}",
                path.display(),
                meta.format
            ));
        }
        Ok(meta)
    }

    /// Reads the secrets.
    pub fn read_secrets(&self) -> Result<Secrets> {
        let path = self.secrets();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{}: bad secrets file", path.display()))
    }
}

/// One line of `setup.ndjson`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SetupLine {
    /// The API path to POST to (relative to the board's URL).
    pub path: String,
    /// The entry (hex).
    pub entry: String,
}

/// Writes `bytes` to a new file readable by the owner only (unix), for secrets.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
