//! The SQLite driver: the embedded default.
//!
//! WAL journal with `synchronous = FULL`, so a committed append survives a crash or a
//! power loss; one writer connection (SQLite has one writer anyway) taking
//! `BEGIN IMMEDIATE`, and a small pool of readers that WAL lets run beside it.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool, Transaction};
use urna_log::Hash;

use super::{
    checkpoint_from_row, insert_ballots, map_conflict, to_array, to_i64, to_u64, AppendPlan,
    AppendTx, BoxFuture, Derived, NewEntry, Storage, StorageError, StoredCheckpoint, StoredEntry,
    LATEST_CHECKPOINT_SQL, ROWS_PER_STATEMENT,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The writer's page cache (`PRAGMA cache_size`; negative: KiB). The ballot indexes
/// (nullifiers, ciphertext fingerprints, leaf hashes) take random keys, so each ballot
/// touches leaf pages all over them. With SQLite's default 2 MiB cache, once the
/// tables outgrew it, most inserts read their page back from the file (a system call).
/// Not larger than 64 MiB: when a B-tree split reorders page numbers, SQLite parks a
/// page at the lock-byte page's number (262,145 with 4 KiB pages) for a moment, and
/// the commit that follows then walks the cache's whole hash table to drop pages past
/// the end of the file. That walk costs in proportion to the cached pages: with
/// 256 MiB, ingest slowed as the board grew; with 64 MiB it held its rate over
/// 100,000 ballots (BENCHMARKS.md, fifth session). The memory is taken only as pages
/// are read.
const WRITER_CACHE_SIZE: &str = "-65536";

// `temp_store = memory` (set on the writer below): a multi-row INSERT inside the append
// transaction keeps a statement journal (the pages it changes, as they were, to undo
// that statement alone). SQLite spills it past 64 KiB to a temporary file, which
// doubled the bytes the writer wrote per ballot; in memory it is a copy of the pages
// one statement touches (at most `ROWS_PER_STATEMENT` rows).

/// WAL pages after which a commit checkpoints (`PRAGMA wal_autocheckpoint`; SQLite's
/// default is 1,000, i.e. 4 MB). A ballot adds about 8.5 pages to the WAL, so the
/// default checkpoints every ~120 ballots, each time copying pages that the next
/// commits dirty again. 4,096 pages (16 MiB) copies a hot page once per ~500 ballots;
/// 16,384 was no faster and its longer checkpoints, run inside a commit, raised p99.
const WAL_AUTOCHECKPOINT: &str = "4096";

/// The board in a SQLite database file.
#[derive(Clone, Debug)]
pub struct SqliteStorage {
    writer: SqlitePool,
    readers: SqlitePool,
}

impl SqliteStorage {
    /// Opens (creating if missing) the database at `path` and runs the migrations.
    pub async fn open(path: &Path) -> Result<Self, StorageError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        Self::with_options(options).await
    }

    /// Opens a database from a `sqlite:` URL (tests, or `--database sqlite:…`).
    pub async fn open_url(url: &str) -> Result<Self, StorageError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        Self::with_options(options).await
    }

    async fn with_options(options: SqliteConnectOptions) -> Result<Self, StorageError> {
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                options
                    .clone()
                    .pragma("cache_size", WRITER_CACHE_SIZE)
                    .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT)
                    .pragma("temp_store", "memory"),
            )
            .await?;
        MIGRATOR.run(&writer).await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { writer, readers })
    }

    /// The writer pool (tests use it to try forbidden statements).
    pub fn writer_pool(&self) -> &SqlitePool {
        &self.writer
    }
}

fn entry_from_row(row: &SqliteRow) -> Result<StoredEntry, StorageError> {
    let index: i64 = row.try_get("idx")?;
    let election_id: Vec<u8> = row.try_get("election_id")?;
    let kind: i64 = row.try_get("kind")?;
    let leaf_hash: Vec<u8> = row.try_get("leaf_hash")?;
    let entry: Vec<u8> = row.try_get("entry")?;
    Ok(StoredEntry {
        index: to_u64(index, "index")?,
        election_id: to_array(&election_id, "election id")?,
        kind: u8::try_from(kind)
            .map_err(|_| StorageError::Corrupt(format!("entry kind {kind}")))?,
        leaf_hash: Hash::from(to_array(&leaf_hash, "leaf hash")?),
        entry,
    })
}

impl Storage for SqliteStorage {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn begin_append(&self) -> BoxFuture<'_, Result<Box<dyn AppendTx>, StorageError>> {
        Box::pin(async move {
            let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
            let size: i64 = sqlx::query_scalar("SELECT size FROM log_head WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            let size = to_u64(size, "log size")?;
            Ok(Box::new(SqliteAppend { tx, size }) as Box<dyn AppendTx>)
        })
    }

    fn size(&self) -> BoxFuture<'_, Result<u64, StorageError>> {
        Box::pin(async move {
            let size: i64 = sqlx::query_scalar("SELECT size FROM log_head WHERE id = 1")
                .fetch_one(&self.readers)
                .await?;
            to_u64(size, "log size")
        })
    }

    fn entries(&self, from: u64, to: u64) -> BoxFuture<'_, Result<Vec<StoredEntry>, StorageError>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT idx, election_id, kind, leaf_hash, entry FROM log_entries \
                 WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
            )
            .bind(to_i64(from)?)
            .bind(to_i64(to)?)
            .fetch_all(&self.readers)
            .await?;
            rows.iter().map(entry_from_row).collect()
        })
    }

    fn election_entries(
        &self,
        election_id: [u8; 32],
        from: u64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<StoredEntry>, StorageError>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT idx, election_id, kind, leaf_hash, entry FROM log_entries \
                 WHERE election_id = ?1 AND idx >= ?2 ORDER BY idx LIMIT ?3",
            )
            .bind(election_id.to_vec())
            .bind(to_i64(from)?)
            .bind(i64::from(limit))
            .fetch_all(&self.readers)
            .await?;
            rows.iter().map(entry_from_row).collect()
        })
    }

    fn index_of_leaf_hash(
        &self,
        leaf_hash: Hash,
    ) -> BoxFuture<'_, Result<Option<u64>, StorageError>> {
        Box::pin(async move {
            let index: Option<i64> =
                sqlx::query_scalar("SELECT MIN(idx) FROM log_entries WHERE leaf_hash = ?1")
                    .bind(leaf_hash.as_bytes().to_vec())
                    .fetch_one(&self.readers)
                    .await?;
            index.map(|i| to_u64(i, "index")).transpose()
        })
    }

    fn latest_checkpoint(&self) -> BoxFuture<'_, Result<Option<StoredCheckpoint>, StorageError>> {
        Box::pin(async move {
            let row = sqlx::query(LATEST_CHECKPOINT_SQL)
                .fetch_optional(&self.readers)
                .await?;
            row.as_ref().map(checkpoint_from_row).transpose()
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(async move {
            sqlx::query("SELECT 1").execute(&self.readers).await?;
            Ok(())
        })
    }
}

struct SqliteAppend {
    tx: Transaction<'static, Sqlite>,
    size: u64,
}

impl AppendTx for SqliteAppend {
    fn size(&self) -> u64 {
        self.size
    }

    fn entries_from(&mut self, from: u64) -> BoxFuture<'_, Result<Vec<StoredEntry>, StorageError>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT idx, election_id, kind, leaf_hash, entry FROM log_entries \
                 WHERE idx >= ?1 ORDER BY idx",
            )
            .bind(to_i64(from)?)
            .fetch_all(&mut *self.tx)
            .await?;
            rows.iter().map(entry_from_row).collect()
        })
    }

    fn latest_checkpoint(
        &mut self,
    ) -> BoxFuture<'_, Result<Option<StoredCheckpoint>, StorageError>> {
        Box::pin(async move {
            let row = sqlx::query(LATEST_CHECKPOINT_SQL)
                .fetch_optional(&mut *self.tx)
                .await?;
            row.as_ref().map(checkpoint_from_row).transpose()
        })
    }

    fn append(
        &mut self,
        entries: Vec<NewEntry>,
        checkpoint: StoredCheckpoint,
    ) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(async move {
            let plan = AppendPlan::new(&entries, self.size, &checkpoint)?;
            let next = checkpoint.size;
            for chunk in plan.entries.chunks(ROWS_PER_STATEMENT) {
                QueryBuilder::<Sqlite>::new(
                    "INSERT INTO log_entries (idx, election_id, kind, leaf_hash, entry) ",
                )
                .push_values(chunk, |mut row, (idx, e)| {
                    row.push_bind(*idx)
                        .push_bind(e.election_id.as_slice())
                        .push_bind(i64::from(e.kind))
                        .push_bind(e.leaf_hash.as_bytes().as_slice())
                        .push_bind(e.entry.as_slice());
                })
                .build()
                .persistent(chunk.len() == 1)
                .execute(&mut *self.tx)
                .await
                .map_err(map_conflict)?;
            }
            for &(idx, eid, kind, d) in &plan.others {
                insert_derived(&mut self.tx, idx, eid, kind, d).await?;
            }
            insert_ballots::<Sqlite>(&mut self.tx, &plan).await?;
            let updated = sqlx::query("UPDATE log_head SET size = ?1 WHERE id = 1 AND size = ?2")
                .bind(to_i64(next)?)
                .bind(to_i64(self.size)?)
                .execute(&mut *self.tx)
                .await?;
            if updated.rows_affected() != 1 {
                return Err(StorageError::Corrupt(
                    "log head moved under its lock".into(),
                ));
            }
            sqlx::query("INSERT INTO checkpoints (size, root, note) VALUES (?1, ?2, ?3)")
                .bind(to_i64(checkpoint.size)?)
                .bind(checkpoint.root.as_bytes().to_vec())
                .bind(&checkpoint.note)
                .execute(&mut *self.tx)
                .await
                .map_err(map_conflict)?;
            self.size = next;
            Ok(())
        })
    }

    fn commit(self: Box<Self>) -> BoxFuture<'static, Result<(), StorageError>> {
        Box::pin(async move {
            self.tx.commit().await?;
            Ok(())
        })
    }
}

async fn insert_derived(
    tx: &mut Transaction<'static, Sqlite>,
    idx: i64,
    eid: &[u8],
    kind: u8,
    d: &Derived,
) -> Result<(), StorageError> {
    match d {
        Derived::Election => {
            sqlx::query("INSERT INTO elections (election_id, manifest_index) VALUES (?1, ?2)")
                .bind(eid)
                .bind(idx)
                .execute(&mut **tx)
                .await
                .map_err(map_conflict)?;
        }
        Derived::Trustee { trustee, other } => {
            sqlx::query(
                "INSERT INTO trustee_entries (election_id, kind, trustee, other, log_index) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .bind(eid)
            .bind(i64::from(kind))
            .bind(i64::from(*trustee))
            .bind(i64::from(*other))
            .bind(idx)
            .execute(&mut **tx)
            .await
            .map_err(map_conflict)?;
        }
        Derived::CodeHashes(hashes) => {
            for h in hashes {
                sqlx::query(
                    "INSERT INTO registration_codes (election_id, code_hash, log_index) \
                     VALUES (?1, ?2, ?3)",
                )
                .bind(eid)
                .bind(h.to_vec())
                .bind(idx)
                .execute(&mut **tx)
                .await
                .map_err(map_conflict)?;
            }
        }
        Derived::Registration {
            code_hash,
            position,
            commitment,
        } => {
            let spent = sqlx::query(
                "UPDATE registration_codes SET used_index = ?1 \
                 WHERE election_id = ?2 AND code_hash = ?3 AND used_index IS NULL",
            )
            .bind(idx)
            .bind(eid)
            .bind(code_hash.to_vec())
            .execute(&mut **tx)
            .await?;
            if spent.rows_affected() != 1 {
                return Err(StorageError::Conflict(
                    "registration code unknown or already used".into(),
                ));
            }
            sqlx::query(
                "INSERT INTO registrations (election_id, position, commitment, log_index) \
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .bind(eid)
            .bind(to_i64(*position)?)
            .bind(commitment.to_vec())
            .bind(idx)
            .execute(&mut **tx)
            .await
            .map_err(map_conflict)?;
        }
        Derived::Ballot { .. } => {
            return Err(StorageError::Corrupt(
                "ballot rows are written by insert_ballots".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    async fn pragma(pool: &SqlitePool, statement: &'static str) -> String {
        let row = sqlx::query(statement)
            .fetch_one(pool)
            .await
            .expect("pragma");
        match row.try_get::<i64, _>(0) {
            Ok(v) => v.to_string(),
            Err(_) => row.try_get::<String, _>(0).expect("pragma value"),
        }
    }

    #[tokio::test]
    async fn the_writer_is_durable_and_keeps_its_journals_in_memory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = SqliteStorage::open(&dir.path().join("board.sqlite3"))
            .await
            .expect("open");
        let w = storage.writer_pool();
        assert_eq!(pragma(w, "PRAGMA journal_mode").await, "wal");
        assert_eq!(pragma(w, "PRAGMA synchronous").await, "2", "FULL");
        assert_eq!(pragma(w, "PRAGMA foreign_keys").await, "1");
        assert_eq!(pragma(w, "PRAGMA temp_store").await, "2", "MEMORY");
        assert_eq!(pragma(w, "PRAGMA cache_size").await, WRITER_CACHE_SIZE);
        assert_eq!(
            pragma(w, "PRAGMA wal_autocheckpoint").await,
            WAL_AUTOCHECKPOINT
        );
        // The readers keep SQLite's defaults.
        assert_eq!(pragma(&storage.readers, "PRAGMA temp_store").await, "0");
    }
}
