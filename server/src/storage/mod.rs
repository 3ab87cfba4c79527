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
//!
//! An append writes its group's rows set-based (`AppendPlan`): the log rows and the
//! ballots' derived rows with one multi-row statement per table (per
//! 256 rows), the fingerprints inserted unless their key is already stored (those few
//! then checked by key); the rare non-ballot derived rows one by one.

use std::collections::{HashMap, HashSet};
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
    /// A read-only replica found migrations this build needs that the database lacks
    /// (a writable server on the primary applies them).
    #[error("database schema not migrated (missing: {0}); start a writable urna-server on the primary first")]
    NotMigrated(String),
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

    /// The latest stored checkpoint, read inside this transaction (so under its lock,
    /// with the writer's own page cache on SQLite).
    fn latest_checkpoint(
        &mut self,
    ) -> BoxFuture<'_, Result<Option<StoredCheckpoint>, StorageError>>;

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

/// The latest checkpoint (same SQL on both databases).
pub(crate) const LATEST_CHECKPOINT_SQL: &str =
    "SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1";

/// A row of [`LATEST_CHECKPOINT_SQL`] on either database.
pub(crate) fn checkpoint_from_row<'r, R>(row: &'r R) -> Result<StoredCheckpoint, StorageError>
where
    R: sqlx::Row,
    &'static str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let size: i64 = row.try_get("size")?;
    let root: Vec<u8> = row.try_get("root")?;
    let note: String = row.try_get("note")?;
    Ok(StoredCheckpoint {
        size: to_u64(size, "checkpoint size")?,
        root: Hash::from(to_array(&root, "checkpoint root")?),
        note,
    })
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

/// Most rows one multi-row statement carries (each row binds at most five values, far
/// below SQLite's 32,766 and PostgreSQL's 65,535 parameters).
///
/// A statement of one row is prepared once per connection and cached, like any fixed
/// query; a statement of several rows (its text depends on the count) is prepared for
/// that use only, its cost shared by the rows, so the cache is not churned by the
/// group sizes.
pub(crate) const ROWS_PER_STATEMENT: usize = 256;

/// Four columns of a ballot-derived row: the election, two 32-byte keys (nullifier and
/// digest, or fingerprint and nullifier) and the log index.
pub(crate) type Row4<'a> = (&'a [u8; 32], &'a [u8; 32], &'a [u8; 32], i64);

/// An append group split for set-based writes: the log rows, the ballots' derived rows
/// gathered across the group (one statement per table instead of a round trip per
/// row), and the other derived rows in log order, written one by one.
#[derive(Debug, Default)]
pub(crate) struct AppendPlan<'a> {
    /// The entries with their log index as stored, in log order.
    pub entries: Vec<(i64, &'a StoredEntry)>,
    /// `(log index, election, kind, derived)` of every non-ballot derived row.
    pub others: Vec<(i64, &'a [u8; 32], u8, &'a Derived)>,
    /// `(election, nullifier, digest, log index)` of every ballot, in log order.
    pub ballots: Vec<Row4<'a>>,
    /// `(election, fingerprint, nullifier, log index)` of every ballot ciphertext.
    pub fingerprints: Vec<Row4<'a>>,
}

impl<'a> AppendPlan<'a> {
    /// Splits `entries`, checking that they are numbered `size, size + 1, …` and that
    /// the checkpoint is of the size after them.
    pub fn new(
        entries: &'a [NewEntry],
        size: u64,
        checkpoint: &StoredCheckpoint,
    ) -> Result<Self, StorageError> {
        let mut plan = Self::default();
        let mut next = size;
        for new in entries {
            let e = &new.entry;
            if e.index != next {
                return Err(StorageError::Corrupt(format!(
                    "entry sequenced at {} but the head is {next}",
                    e.index
                )));
            }
            let idx = to_i64(e.index)?;
            plan.entries.push((idx, e));
            for d in &new.derived {
                match d {
                    Derived::Ballot {
                        nullifier,
                        digest,
                        fingerprints,
                    } => {
                        plan.ballots.push((&e.election_id, nullifier, digest, idx));
                        for fp in fingerprints {
                            plan.fingerprints.push((&e.election_id, fp, nullifier, idx));
                        }
                    }
                    other => plan.others.push((idx, &e.election_id, e.kind, other)),
                }
            }
            next += 1;
        }
        if checkpoint.size != next {
            return Err(StorageError::Corrupt(format!(
                "checkpoint of size {} for a log of size {next}",
                checkpoint.size
            )));
        }
        Ok(plan)
    }

    /// The `nullifiers` rows: for each `(election, nullifier)` of the group its latest
    /// ballot (PostgreSQL's upsert may not touch a row twice in one statement; the
    /// stored row is replaced only by a higher index, as row-by-row upserts would).
    pub fn latest_ballots(&self) -> Vec<Row4<'a>> {
        let mut latest: HashMap<(&[u8; 32], &[u8; 32]), usize> = HashMap::new();
        for (k, (eid, nullifier, _, _)) in self.ballots.iter().enumerate() {
            latest.insert((eid, nullifier), k);
        }
        let mut keep: Vec<usize> = latest.into_values().collect();
        keep.sort_unstable();
        keep.into_iter().map(|k| self.ballots[k]).collect()
    }

    /// The group's fingerprint rows to insert, each fingerprint once: a ciphertext may
    /// be re-cast in the group under the nullifier that first cast it (nothing more to
    /// insert), never under another one (a conflict). Owners already stored are checked
    /// by `insert_ballots`.
    pub fn new_fingerprints(&self) -> Result<Vec<Row4<'a>>, StorageError> {
        let mut owners: HashMap<(&[u8; 32], &[u8; 32]), &[u8; 32]> = HashMap::new();
        let mut rows = Vec::new();
        for &(eid, fp, nullifier, idx) in &self.fingerprints {
            match owners.get(&(eid, fp)) {
                Some(owner) if *owner != nullifier => return Err(recast_conflict()),
                Some(_) => {}
                None => {
                    owners.insert((eid, fp), nullifier);
                    rows.push((eid, fp, nullifier, idx));
                }
            }
        }
        Ok(rows)
    }
}

/// A ciphertext cast again under another nullifier than the one that first cast it.
fn recast_conflict() -> StorageError {
    StorageError::Conflict("ciphertext already on the board under another nullifier".into())
}

/// The ballots' derived rows of one group, a few statements per table: `ballots`, the
/// `nullifiers` upsert (the highest index counts), and the ciphertext fingerprints
/// (`ON CONFLICT DO NOTHING`; a fingerprint already stored must belong to the same
/// nullifier).
pub(crate) async fn insert_ballots<DB>(
    conn: &mut DB::Connection,
    plan: &AppendPlan<'_>,
) -> Result<(), StorageError>
where
    DB: sqlx::Database + sqlx::database::HasStatementCache,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> &'q [u8]: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'r> Vec<u8>: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    for<'s> &'s str: sqlx::ColumnIndex<DB::Row>,
{
    insert_rows::<DB>(
        conn,
        "INSERT INTO ballots (election_id, nullifier, digest, log_index) ",
        &plan.ballots,
        "",
    )
    .await?;
    insert_rows::<DB>(
        conn,
        "INSERT INTO nullifiers (election_id, nullifier, latest_digest, latest_index) ",
        &plan.latest_ballots(),
        " ON CONFLICT (election_id, nullifier) DO UPDATE \
         SET latest_index = excluded.latest_index, latest_digest = excluded.latest_digest \
         WHERE excluded.latest_index > nullifiers.latest_index",
    )
    .await?;
    // The group's new fingerprints (a conflict inside the group is refused here), then
    // inserted unless already stored. The unique key decides which are stored: no
    // lookup whose plan depends on the table's statistics (a new election's tables
    // have none until they are analyzed, and PostgreSQL then scans every fingerprint
    // of the election for each lookup of a list). The few already stored are checked
    // one by one by their full key.
    let rows = plan.new_fingerprints()?;
    let mut inserted: HashSet<([u8; 32], [u8; 32])> = HashSet::with_capacity(rows.len());
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let returned = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO ciphertext_fingerprints (election_id, fingerprint, nullifier, log_index) ",
        )
        .push_values(chunk, |mut row, (eid, fp, nullifier, idx)| {
            row.push_bind(eid.as_slice())
                .push_bind(fp.as_slice())
                .push_bind(nullifier.as_slice())
                .push_bind(*idx);
        })
        .push(
            " ON CONFLICT (election_id, fingerprint) DO NOTHING RETURNING election_id, fingerprint",
        )
        .build()
        .persistent(chunk.len() == 1)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_conflict)?;
        for row in returned {
            let eid: Vec<u8> = sqlx::Row::try_get(&row, "election_id")?;
            let fp: Vec<u8> = sqlx::Row::try_get(&row, "fingerprint")?;
            inserted.insert((
                to_array(&eid, "election id")?,
                to_array(&fp, "fingerprint")?,
            ));
        }
    }
    for (eid, fp, nullifier, _) in rows {
        if inserted.contains(&(*eid, *fp)) {
            continue;
        }
        let mut q = sqlx::QueryBuilder::<DB>::new(
            "SELECT nullifier FROM ciphertext_fingerprints WHERE election_id = ",
        );
        q.push_bind(eid.as_slice())
            .push(" AND fingerprint = ")
            .push_bind(fp.as_slice());
        let row = q.build().persistent(true).fetch_one(&mut *conn).await?;
        let owner: Vec<u8> = sqlx::Row::try_get(&row, "nullifier")?;
        // Re-cast under the nullifier that first cast it: nothing to insert.
        if owner.as_slice() != nullifier.as_slice() {
            return Err(recast_conflict());
        }
    }
    Ok(())
}

/// `head VALUES (…), (…) tail` over `rows`, [`ROWS_PER_STATEMENT`] rows a statement; a
/// unique-key violation is a [`StorageError::Conflict`].
async fn insert_rows<DB>(
    conn: &mut DB::Connection,
    head: &str,
    rows: &[Row4<'_>],
    tail: &str,
) -> Result<(), StorageError>
where
    DB: sqlx::Database + sqlx::database::HasStatementCache,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> &'q [u8]: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'r> Vec<u8>: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    for<'s> &'s str: sqlx::ColumnIndex<DB::Row>,
{
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        sqlx::QueryBuilder::<DB>::new(head)
            .push_values(chunk, |mut row, (eid, a, b, idx)| {
                row.push_bind(eid.as_slice())
                    .push_bind(a.as_slice())
                    .push_bind(b.as_slice())
                    .push_bind(*idx);
            })
            .push(tail)
            .build()
            .persistent(chunk.len() == 1)
            .execute(&mut *conn)
            .await
            .map_err(map_conflict)?;
    }
    Ok(())
}
