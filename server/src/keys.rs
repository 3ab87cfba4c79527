//! The board's signing key and the Groth16 verifying keys it checks ballots with.
//!
//! **Board key.** One Ed25519 key signs the board's checkpoints (as the C2SP signed-note
//! key named by the log's origin) and its own board entries (the tally). It is stored
//! as a signed-note signer key (`PRIVATE+KEY+<origin>+<key id>+<base64>`), in a file
//! created with mode 0600, generated on first start unless `--board-key` names one.
//!
//! **Verifying keys.** The eligibility circuit depends only on the census depth, so one
//! verifying key serves every election of that depth. The board loads every `*.vk` file
//! (the key's canonical compressed bytes) of its keys directory and indexes them by
//! SHA-256; an election is accepted only if its manifest's `verifying_key_hash` is one
//! of them.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use urna_circuits::{PreparedVerifyingKey, VerifyingKey};
use urna_log::{NoteSigner, NoteVerifier};
use urna_protocol::signing::{PublicKey, SigningKey};
use zeroize::Zeroizing;

/// Errors loading keys (startup only).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Reading or writing a key file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A key file that does not parse.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// The board's key: signs checkpoints and board entries. `Debug` shows only the public
/// key.
pub struct BoardKey {
    note: NoteSigner,
    entry: SigningKey,
}

impl std::fmt::Debug for BoardKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoardKey")
            .field("vkey", &self.note.verifier().to_vkey())
            .finish()
    }
}

impl BoardKey {
    /// From a 32-byte seed and the log's origin (the key name).
    pub fn from_seed(origin: &str, seed: &[u8; 32]) -> Result<Self, String> {
        if origin.starts_with("urna/") {
            // Keeps note texts apart from protocol signature messages, which start
            // with "urna/v1/signature/" (PROTOCOL 9.1).
            return Err("the origin must not start with \"urna/\"".into());
        }
        let note = NoteSigner::new(origin, ed25519_dalek::SigningKey::from_bytes(seed))
            .map_err(|e| format!("invalid origin {origin:?}: {e}"))?;
        Ok(Self {
            note,
            entry: SigningKey::from_seed(seed),
        })
    }

    /// A fresh key.
    pub fn generate(origin: &str) -> Result<Self, String> {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, seed.as_mut());
        Self::from_seed(origin, &seed)
    }

    /// Parses a signed-note signer key.
    pub fn from_skey(skey: &str) -> Result<Self, String> {
        let skey = skey.trim();
        let note = NoteSigner::from_skey(skey).map_err(|e| format!("not a signer key: {e}"))?;
        // PRIVATE+KEY+<name>+<key id>+<base64>: the name has no '+', the base64 may.
        let b64 = skey.splitn(5, '+').nth(4).unwrap_or_default();
        let raw = Zeroizing::new(BASE64.decode(b64).map_err(|_| "bad base64".to_owned())?);
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
            raw.get(1..)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| "key is not 32 bytes".to_owned())?,
        );
        let key = Self::from_seed(note.name(), &seed)?;
        Ok(key)
    }

    /// Loads the key at `path`, or generates one there (mode 0600) for `origin` if the
    /// file does not exist.
    pub fn load_or_generate(path: &Path, origin: &str) -> Result<Self, KeyError> {
        let p = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let text = Zeroizing::new(text);
                Self::from_skey(&text).map_err(|reason| KeyError::Invalid { path: p, reason })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate(origin).map_err(|reason| KeyError::Invalid {
                    path: p.clone(),
                    reason,
                })?;
                write_secret(path, key.note.expose_skey().as_bytes()).map_err(|source| {
                    KeyError::Io {
                        path: p.clone(),
                        source,
                    }
                })?;
                tracing::info!(path = %p, vkey = %key.vkey(), "generated a new board key");
                Ok(key)
            }
            Err(source) => Err(KeyError::Io { path: p, source }),
        }
    }

    /// Loads an existing key file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let p = path.display().to_string();
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| KeyError::Io {
                    path: p.clone(),
                    source,
                })?,
            );
        Self::from_skey(&text).map_err(|reason| KeyError::Invalid { path: p, reason })
    }

    /// The log's origin (the key name).
    pub fn origin(&self) -> &str {
        self.note.name()
    }

    /// The signed-note signer.
    pub fn note_signer(&self) -> &NoteSigner {
        &self.note
    }

    /// The signed-note verifier.
    pub fn verifier(&self) -> NoteVerifier {
        self.note.verifier()
    }

    /// The verifier key string (`<origin>+<key id>+<base64>`).
    pub fn vkey(&self) -> String {
        self.note.verifier().to_vkey()
    }

    /// The protocol signing key (for the board's own entries).
    pub fn entry_signer(&self) -> &SigningKey {
        &self.entry
    }

    /// The public key, as a manifest names it.
    pub fn public_key(&self) -> PublicKey {
        self.entry.public_key()
    }
}

#[cfg(unix)]
fn write_secret(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.write_all(b"\n")?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_secret(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(bytes)?;
    f.write_all(b"\n")?;
    f.sync_all()
}

/// A verifying key the board knows.
#[derive(Clone, Debug)]
pub struct KnownKey {
    /// Its canonical bytes.
    pub bytes: Arc<Vec<u8>>,
    /// Prepared for verification.
    pub prepared: Arc<PreparedVerifyingKey>,
}

/// The Groth16 verifying keys of this board, by SHA-256.
#[derive(Clone, Debug, Default)]
pub struct VerifyingKeys {
    by_hash: BTreeMap<[u8; 32], KnownKey>,
}

impl VerifyingKeys {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key; returns its hash.
    pub fn insert(&mut self, vk: &VerifyingKey) -> [u8; 32] {
        let hash = vk.verifying_key_hash();
        self.by_hash.insert(
            hash,
            KnownKey {
                bytes: Arc::new(vk.to_bytes()),
                prepared: Arc::new(vk.prepare()),
            },
        );
        hash
    }

    /// The key with this hash.
    pub fn get(&self, hash: &[u8; 32]) -> Option<&KnownKey> {
        self.by_hash.get(hash)
    }

    /// Every key hash.
    pub fn hashes(&self) -> impl Iterator<Item = &[u8; 32]> {
        self.by_hash.keys()
    }

    /// Loads every `*.vk` file of `dir` (missing directory: no keys).
    pub fn load_dir(dir: &Path) -> Result<Self, KeyError> {
        let mut keys = Self::new();
        for path in files_with_extension(dir, "vk")? {
            let p = path.display().to_string();
            let bytes = std::fs::read(&path).map_err(|source| KeyError::Io {
                path: p.clone(),
                source,
            })?;
            let vk = VerifyingKey::from_bytes(&bytes).map_err(|e| KeyError::Invalid {
                path: p.clone(),
                reason: e.to_string(),
            })?;
            let hash = keys.insert(&vk);
            tracing::info!(path = %p, hash = %hex::encode(hash), "loaded verifying key");
        }
        Ok(keys)
    }
}

/// The files of `dir` named `*.{ext}`, sorted (a missing directory has none).
fn files_with_extension(dir: &Path, ext: &str) -> Result<Vec<std::path::PathBuf>, KeyError> {
    let io = |source| KeyError::Io {
        path: dir.display().to_string(),
        source,
    };
    let read = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(io(source)),
    };
    let mut paths = Vec::new();
    for item in read {
        let path = item.map_err(io)?.path();
        if path.extension().and_then(|e| e.to_str()) == Some(ext) {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// Writes `vk` into `dir` as `eligibility-<hash prefix>.vk` (used by
/// `--insecure-dev-setup`).
pub fn write_verifying_key(dir: &Path, vk: &VerifyingKey) -> Result<(), KeyError> {
    std::fs::create_dir_all(dir).map_err(|source| KeyError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let hash = hex::encode(vk.verifying_key_hash());
    let path = dir.join(format!("eligibility-{}.vk", &hash[..16]));
    std::fs::write(&path, vk.to_bytes()).map_err(|source| KeyError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Largest proving-key file the board loads (a depth-32 key is far smaller).
pub const MAX_PROVING_KEY_BYTES: u64 = 1 << 30;

/// A proving key the board serves to voters' browsers: its bytes (the encoding of
/// PROTOCOL 10.5, uncompressed) and their SHA-256.
#[derive(Clone, Debug)]
pub struct ServedProvingKey {
    /// The key's bytes.
    pub bytes: axum::body::Bytes,
    /// SHA-256 of the bytes (what a manifest names as `proving_key_hash`).
    pub sha256: [u8; 32],
}

impl ServedProvingKey {
    /// The key's bytes and their hash.
    pub fn new(bytes: Vec<u8>) -> Self {
        use sha2::Digest as _;
        let sha256: [u8; 32] = sha2::Sha256::digest(&bytes).into();
        Self {
            bytes: axum::body::Bytes::from(bytes),
            sha256,
        }
    }
}

/// The proving keys of this board, by the SHA-256 of their verifying key.
///
/// The board never proves; it only hands these bytes to browsers, which check them
/// against the manifest's `proving_key_hash` before use.
#[derive(Clone, Debug, Default)]
pub struct ProvingKeys {
    by_vk: BTreeMap<[u8; 32], ServedProvingKey>,
}

impl ProvingKeys {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a proving key (its bytes) under the hash of its verifying key, which must be
    /// one of `vks`; returns that hash.
    pub fn insert(&mut self, bytes: Vec<u8>, vks: &VerifyingKeys) -> Result<[u8; 32], String> {
        let served = ServedProvingKey::new(bytes);
        // The file is the operator's own, so the hash we just computed is the trusted one.
        let pk = urna_circuits::ProvingKey::from_bytes_trusted(&served.bytes, &served.sha256)
            .map_err(|e| e.to_string())?;
        let vk_hash = pk
            .verifying_key()
            .map_err(|e| e.to_string())?
            .verifying_key_hash();
        if vks.get(&vk_hash).is_none() {
            return Err(format!(
                "its verifying key {} is not one of the board's",
                hex::encode(vk_hash)
            ));
        }
        self.by_vk.insert(vk_hash, served);
        Ok(vk_hash)
    }

    /// The proving key whose verifying key has this hash.
    pub fn get(&self, vk_hash: &[u8; 32]) -> Option<&ServedProvingKey> {
        self.by_vk.get(vk_hash)
    }

    /// Loads every `*.pk` file of `dir` (e.g. `insecure-depth-20.pk` of the dev setup)
    /// whose verifying key is one of `vks`; other files are skipped with a warning.
    /// A missing directory means no keys.
    pub fn load_dir(dir: &Path, vks: &VerifyingKeys) -> Result<Self, KeyError> {
        let mut keys = Self::new();
        for path in files_with_extension(dir, "pk")? {
            let p = path.display().to_string();
            let io = |source| KeyError::Io {
                path: p.clone(),
                source,
            };
            if std::fs::metadata(&path).map_err(io)?.len() > MAX_PROVING_KEY_BYTES {
                tracing::warn!(path = %p, "proving key file too large; not served");
                continue;
            }
            let bytes = std::fs::read(&path).map_err(io)?;
            match keys.insert(bytes, vks) {
                Ok(vk_hash) => {
                    tracing::info!(path = %p, vk_hash = %hex::encode(vk_hash), "serving proving key");
                }
                Err(reason) => tracing::warn!(path = %p, %reason, "proving key not served"),
            }
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signer_key_round_trips_for_every_seed() {
        // Standard base64 may hold '+', which also separates the key's fields.
        for i in 0..=255u8 {
            let key = BoardKey::from_seed("board.example", &[i; 32]).unwrap();
            let again = BoardKey::from_skey(&key.note_signer().expose_skey()).unwrap();
            assert_eq!(again.public_key(), key.public_key());
            assert_eq!(again.vkey(), key.vkey());
        }
    }

    #[test]
    fn origin_must_not_look_like_a_protocol_domain() {
        assert!(BoardKey::from_seed("urna/v1/signature/", &[1; 32]).is_err());
        assert!(BoardKey::from_seed("has space", &[1; 32]).is_err());
    }

    #[test]
    fn debug_shows_no_secret() {
        let key = BoardKey::from_seed("board.example", &[3; 32]).unwrap();
        let skey = key.note_signer().expose_skey();
        let secret = skey.rsplit('+').next().unwrap_or_default().to_owned();
        assert!(!format!("{key:?}").contains(&secret));
    }
}
