//! The PostgreSQL driver: for production and for several server processes sharing one
//! database.
//!
//! Every append locks the one row of `log_head` with `SELECT … FOR UPDATE` inside its
//! transaction, so appenders in any number of processes take turns; each process then
//! catches up on the rows the others appended before it sequences its own.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, QueryBuilder, Row, Transaction};
use urna_log::Hash;

use super::{
    checkpoint_from_row, insert_ballots, map_conflict, to_array, to_i64, to_u64, AppendPlan,
    AppendTx, BoxFuture, Derived, NewEntry, Storage, StorageError, StoredCheckpoint, StoredEntry,
    LATEST_CHECKPOINT_SQL, ROWS_PER_STATEMENT,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The board in a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PgStorage {
    pool: PgPool,
}

impl PgStorage {
    /// The connection pool to `url`.
    async fn connect_pool(url: &str) -> Result<PgPool, StorageError> {
        let options = PgConnectOptions::from_str(url)?;
        Ok(PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options)
            .await?)
    }

    /// Connects to `url` (`postgres://…`), runs the migrations.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let pool = Self::connect_pool(url).await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// Connects to `url` as a read-only replica: runs no migration (a hot-standby
    /// PostgreSQL replica refuses writes) and checks instead that every migration this
    /// build knows was applied by a writable server on the primary.
    pub async fn connect_read_only(url: &str) -> Result<Self, StorageError> {
        let pool = Self::connect_pool(url).await?;
        let applied: Vec<i64> = match sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(&pool)
        .await
        {
            Ok(v) => v,
            // No migrations table: nothing was ever migrated here.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let missing: Vec<String> = MIGRATOR
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .filter(|m| !applied.contains(&m.version))
            .map(|m| format!("{} {}", m.version, m.description))
            .collect();
        if !missing.is_empty() {
            return Err(StorageError::NotMigrated(missing.join(", ")));
        }
        Ok(Self { pool })
    }

    /// The pool (tests use it to try forbidden statements).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn entry_from_row(row: &PgRow) -> Result<StoredEntry, StorageError> {
    let index: i64 = row.try_get("idx")?;
    let election_id: Vec<u8> = row.try_get("election_id")?;
    let kind: i16 = row.try_get("kind")?;
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

impl Storage for PgStorage {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn begin_append(&self) -> BoxFuture<'_, Result<Box<dyn AppendTx>, StorageError>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            let size: i64 = sqlx::query_scalar("SELECT size FROM log_head WHERE id = 1 FOR UPDATE")
                .fetch_one(&mut *tx)
                .await?;
            let size = to_u64(size, "log size")?;
            Ok(Box::new(PgAppend { tx, size }) as Box<dyn AppendTx>)
        })
    }

    fn size(&self) -> BoxFuture<'_, Result<u64, StorageError>> {
        Box::pin(async move {
            let size: i64 = sqlx::query_scalar("SELECT size FROM log_head WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
            to_u64(size, "log size")
        })
    }

    fn entries(&self, from: u64, to: u64) -> BoxFuture<'_, Result<Vec<StoredEntry>, StorageError>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT idx, election_id, kind, leaf_hash, entry FROM log_entries \
                 WHERE idx >= $1 AND idx < $2 ORDER BY idx",
            )
            .bind(to_i64(from)?)
            .bind(to_i64(to)?)
            .fetch_all(&self.pool)
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
                 WHERE election_id = $1 AND idx >= $2 ORDER BY idx LIMIT $3",
            )
            .bind(election_id.to_vec())
            .bind(to_i64(from)?)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
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
                sqlx::query_scalar("SELECT MIN(idx) FROM log_entries WHERE leaf_hash = $1")
                    .bind(leaf_hash.as_bytes().to_vec())
                    .fetch_one(&self.pool)
                    .await?;
            index.map(|i| to_u64(i, "index")).transpose()
        })
    }

    fn latest_checkpoint(&self) -> BoxFuture<'_, Result<Option<StoredCheckpoint>, StorageError>> {
        Box::pin(async move {
            let row = sqlx::query(LATEST_CHECKPOINT_SQL)
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(checkpoint_from_row).transpose()
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(async move {
            sqlx::query("SELECT 1").execute(&self.pool).await?;
            Ok(())
        })
    }
}

struct PgAppend {
    tx: Transaction<'static, Postgres>,
    size: u64,
}

impl AppendTx for PgAppend {
    fn size(&self) -> u64 {
        self.size
    }

    fn entries_from(&mut self, from: u64) -> BoxFuture<'_, Result<Vec<StoredEntry>, StorageError>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT idx, election_id, kind, leaf_hash, entry FROM log_entries \
                 WHERE idx >= $1 ORDER BY idx",
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
                QueryBuilder::<Postgres>::new(
                    "INSERT INTO log_entries (idx, election_id, kind, leaf_hash, entry) ",
                )
                .push_values(chunk, |mut row, (idx, e)| {
                    row.push_bind(*idx)
                        .push_bind(e.election_id.as_slice())
                        .push_bind(i16::from(e.kind))
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
            insert_ballots::<Postgres>(&mut self.tx, &plan).await?;
            let updated = sqlx::query("UPDATE log_head SET size = $1 WHERE id = 1 AND size = $2")
                .bind(to_i64(next)?)
                .bind(to_i64(self.size)?)
                .execute(&mut *self.tx)
                .await?;
            if updated.rows_affected() != 1 {
                return Err(StorageError::Corrupt(
                    "log head moved under its lock".into(),
                ));
            }
            sqlx::query("INSERT INTO checkpoints (size, root, note) VALUES ($1, $2, $3)")
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
    tx: &mut Transaction<'static, Postgres>,
    idx: i64,
    eid: &[u8],
    kind: u8,
    d: &Derived,
) -> Result<(), StorageError> {
    match d {
        Derived::Election => {
            sqlx::query("INSERT INTO elections (election_id, manifest_index) VALUES ($1, $2)")
                .bind(eid)
                .bind(idx)
                .execute(&mut **tx)
                .await
                .map_err(map_conflict)?;
        }
        Derived::Trustee { trustee, other } => {
            sqlx::query(
                "INSERT INTO trustee_entries (election_id, kind, trustee, other, log_index) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(eid)
            .bind(i16::from(kind))
            .bind(i64::from(*trustee))
            .bind(i64::from(*other))
            .bind(idx)
            .execute(&mut **tx)
            .await
            .map_err(map_conflict)?;
        }
        Derived::CodeHashes(hashes) => {
            // One statement for up to 100,000 hashes.
            let hashes: Vec<Vec<u8>> = hashes.iter().map(|h| h.to_vec()).collect();
            sqlx::query(
                "INSERT INTO registration_codes (election_id, code_hash, log_index) \
                 SELECT $1, h, $3 FROM unnest($2::bytea[]) AS h",
            )
            .bind(eid)
            .bind(hashes)
            .bind(idx)
            .execute(&mut **tx)
            .await
            .map_err(map_conflict)?;
        }
        Derived::Registration {
            code_hash,
            position,
            commitment,
        } => {
            let spent = sqlx::query(
                "UPDATE registration_codes SET used_index = $1 \
                 WHERE election_id = $2 AND code_hash = $3 AND used_index IS NULL",
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
                 VALUES ($1, $2, $3, $4)",
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
