//! Durable storage of the board, behind the [`Storage`] trait, with SQLite
//! ([`sqlite::SqliteStorage`]) and PostgreSQL ([`postgres::PgStorage`]) drivers.
//!
//! # Tables
//!
//! * `log_entries (idx, election_id, kind, leaf_hash, entry)`: the log itself. Rows are
//!   only ever inserted; triggers in both schemas reject `UPDATE` and `DELETE` (and
//!   `TRUNCATE` on PostgreSQL).
//! * `log_head (size)`: one row; the sequencer's lock. An append transaction locks it
//!   (PostgreSQL `SELECT … FOR UPDATE`; SQLite `BEGIN IMMEDIATE`, one writer), inserts
//!   its rows at indices `size, size + 1, …` and stores the new size, so that two
//!   entries can never share an index even with several server processes on one
//!   database; the primary key on `idx` is the backstop.
//! * `checkpoints (size, root, note)`: every signed checkpoint; append-only too.
//! * Derived tables, written in the same transaction as the log rows they derive from:
//!   `elections`, `trustee_entries`, `registration_codes`, `registrations`, `ballots`,
//!   `nullifiers` (the ballot that counts for each nullifier), `ciphertext_fingerprints`.
//!   Their keys are backstops for the board's rules (one manifest per election, one use
//!   per code, one ballot per `(nullifier, digest)`, …).

use std::future::Future;
use std::pin::Pin;

use urna_log::Hash;

pub mod postgres;
pub mod sqlite;

/// A boxed, sendable future (the storage traits are object safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A storage failure. Details are for the operator's log, never for clients.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The database driver failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Running the embedded migrations failed.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Stored data breaks an invariant (e.g. a non-contiguous index or a bad hash).
    #[error("corrupt storage: {0}")]
    Corrupt(String),
    /// A derived-table constraint rejected a row: the board's own checks should have
    /// caught this first.
    #[error("constraint violated: {0}")]
    Conflict(String),
}

/// One stored log entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEntry {
    /// Its log index (0-based).
    pub index: u64,
    /// Its election id (32 bytes).
    pub election_id: [u8; 32],
    /// Its kind byte (PROTOCOL 9.3).
    pub kind: u8,
    /// Its RFC 9162 leaf hash.
    pub leaf_hash: Hash,
    /// Its canonical bytes (the log leaf data).
    pub entry: Vec<u8>,
}

/// A stored signed checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// The tree size it signs.
    pub size: u64,
    /// The root at that size.
    pub root: Hash,
    /// The signed note (C2SP tlog-checkpoint).
    pub note: String,
}

/// A derived-table row, written with the log row it derives from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Derived {
    /// A manifest entry: the election exists.
    Election,
    /// A trustee entry (dealer message, complaint, decryption shares), unique per
    /// `(kind, trustee, other)`; `other` is the accused trustee of a complaint, else 0.
    Trustee {
        /// The trustee's index.
        trustee: u32,
        /// The accused (complaints) or 0.
        other: u32,
    },
    /// Registration-code hashes posted by the authority.
    CodeHashes(Vec<[u8; 32]>),
    /// A registration: spends `code_hash`, adds `commitment` at census `position`.
    Registration {
        /// Hash of the spent code.
        code_hash: [u8; 32],
        /// Position in the census (registrations in board order).
        position: u64,
        /// The identity commitment.
        commitment: [u8; 32],
    },
    /// A ballot `(nullifier, digest)` and its ciphertext fingerprints.
    Ballot {
        /// The nullifier.
        nullifier: [u8; 32],
        /// The ballot digest.
        digest: [u8; 32],
        /// The fingerprints of its ciphertexts.
        fingerprints: Vec<[u8; 32]>,
    },
}

/// A row to append: the entry and what derives from it.
#[derive(Clone, Debug)]
pub struct NewEntry {
    /// The stored entry (its index must be the next one).
    pub entry: StoredEntry,
    /// The derived rows.
    pub derived: Vec<Derived>,
}

/// The board's durable store.
///
/// Reads see committed data. Appends go through [`Storage::begin_append`], which
/// returns a transaction holding the sequencer lock.
pub trait Storage: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Starts an append: opens a transaction and locks the log head.
    fn begin_append(&self) -> BoxFuture<'_, Result<Box<dyn AppendTx>, StorageError>>;

    /// The committed log size.
    fn size(&self) -> BoxFuture<'_, Result<u64, StorageError>>;

    /// Entries with `from <= index < to`, in order.
    fn entries(&self, from: u64, to: u64) -> BoxFuture<'_, Result<Vec<StoredEntry>, StorageError>>;

    /// Up to `limit` entries of one election with index `>= from`, in order.
    fn election_entries(
        &self,
        election_id: [u8; 32],
        from: u64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<StoredEntry>, StorageError>>;

    /// The lowest index of an entry with this leaf hash.
    fn index_of_leaf_hash(
        &self,
        leaf_hash: Hash,
    ) -> BoxFuture<'_, Result<Option<u64>, StorageError>>;

    /// The checkpoint of the largest size.
    fn latest_checkpoint(&self) -> BoxFuture<'_, Result<Option<StoredCheckpoint>, StorageError>>;

    /// Liveness of the database (for `/healthz`).
    fn ping(&self) -> BoxFuture<'_, Result<(), StorageError>>;
}

/// An open append transaction holding the sequencer lock. Dropping it without
/// [`AppendTx::commit`] rolls back.
pub trait AppendTx: Send {
    /// The log size when the lock was taken.
    fn size(&self) -> u64;

    /// Entries committed by others with `from <= index < size()` (catch-up).
    fn entries_from(&mut self, from: u64) -> BoxFuture<'_, Result<Vec<StoredEntry>, StorageError>>;

    /// Inserts the entries (indices `size(), size() + 1, …`), their derived rows, the
    /// new head and the checkpoint of the new size.
    fn append(
        &mut self,
        entries: Vec<NewEntry>,
        checkpoint: StoredCheckpoint,
    ) -> BoxFuture<'_, Result<(), StorageError>>;

    /// Commits: when this returns `Ok`, the entries are durable.
    fn commit(self: Box<Self>) -> BoxFuture<'static, Result<(), StorageError>>;
}

/// Converts a stored index to `u64`.
pub(crate) fn to_u64(v: i64, what: &str) -> Result<u64, StorageError> {
    u64::try_from(v).map_err(|_| StorageError::Corrupt(format!("negative {what}: {v}")))
}

/// Converts an index to the databases' signed 64-bit integer.
pub(crate) fn to_i64(v: u64) -> Result<i64, StorageError> {
    i64::try_from(v).map_err(|_| StorageError::Corrupt(format!("index {v} exceeds 2^63")))
}

pub(crate) fn to_array(v: &[u8], what: &str) -> Result<[u8; 32], StorageError> {
    v.try_into()
        .map_err(|_| StorageError::Corrupt(format!("{what} is {} bytes, not 32", v.len())))
}

/// Maps a unique-key violation to [`StorageError::Conflict`].
pub(crate) fn map_conflict(e: sqlx::Error) -> StorageError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StorageError::Conflict(db.message().to_owned())
        }
        _ => StorageError::Database(e),
    }
}
