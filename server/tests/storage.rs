//! Storage guarantees on SQLite and PostgreSQL: the schema rejects UPDATE and DELETE of
//! log rows; concurrent appends through two boards sharing one database (as two server
//! processes would) give contiguous, unique indices and one tree; concurrent ballots
//! under one nullifier leave one well-defined last ballot; a board refuses to start over
//! a log signed by another key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use common::*;
use urna_server::board::{Board, BoardOptions};
use urna_server::keys::{BoardKey, VerifyingKeys};

macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::Backend::Postgres).await;
            }
        }
    };
}

async fn raw_execute(db: &Db, sql: &'static str) -> Result<u64, sqlx::Error> {
    match db.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await?;
            let r = sqlx::query(sql)
                .execute(&pool)
                .await
                .map(|r| r.rows_affected());
            pool.close().await;
            r
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await?;
            let r = sqlx::query(sql)
                .execute(&pool)
                .await
                .map(|r| r.rows_affected());
            pool.close().await;
            r
        }
    }
}

async fn append_only(backend: Backend) {
    let db = Db::fresh(backend).await;
    let clock = TestClock::new(NOW);
    let board = open_board(db.open().await, &clock).await;
    let r = router(board.clone());
    let e = Election::new(10, 1, 1, 1);
    assert_eq!(
        post(&r, "/v1/elections", &e.manifest_entry()).await.0,
        StatusCode::CREATED
    );
    for sql in [
        "UPDATE log_entries SET kind = 2",
        "UPDATE log_entries SET entry = entry",
        "DELETE FROM log_entries",
        "DELETE FROM log_entries WHERE idx = 0",
        "UPDATE checkpoints SET note = 'forged'",
        "DELETE FROM checkpoints",
    ] {
        let err = raw_execute(&db, sql).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    if backend == Backend::Postgres {
        let err = raw_execute(&db, "TRUNCATE log_entries CASCADE")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    // Nothing changed: a fresh board over the database opens and checks its log.
    drop(r);
    drop(board);
    let board = open_board(db.open().await, &clock).await;
    assert_eq!(board.size(), 1);
}
both!(append_only);

async fn concurrent_appends_two_processes(backend: Backend) {
    let db = Db::fresh(backend).await;
    let clock = TestClock::new(NOW);
    // Two boards over one database, as two server processes.
    let a = open_board(db.open().await, &clock).await;
    let b = open_board(db.open().await, &clock).await;
    let (ra, rb) = (router(a.clone()), router(b.clone()));
    let n = 12;
    let e = Election::new(11, 1, 1, n);
    let base = format!("/v1/elections/{}", e.id_hex());
    assert_eq!(
        post(&ra, "/v1/elections", &e.manifest_entry()).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        post(&rb, &format!("{base}/registration-codes"), &e.codes_entry())
            .await
            .0,
        StatusCode::CREATED
    );
    let mut tasks = Vec::new();
    for v in 0..n {
        let r = if v % 2 == 0 { ra.clone() } else { rb.clone() };
        let entry = e.registration_entry(v, v);
        let path = format!("{base}/registrations");
        tasks.push(tokio::spawn(async move { post(&r, &path, &entry).await }));
    }
    let mut indices = BTreeSet::new();
    for t in tasks {
        let (s, body) = t.await.unwrap();
        assert_eq!(s, StatusCode::CREATED, "{body}");
        assert!(indices.insert(body["receipt"]["index"].as_u64().unwrap()));
    }
    // Contiguous, no duplicates: 2..2+n.
    assert_eq!(indices, (2..2 + n as u64).collect::<BTreeSet<_>>());
    // Both processes agree on the log after catching up.
    let (_, ca) = call(&ra, "GET", "/v1/log/checkpoint", None).await;
    let (_, cb) = call(&rb, "GET", "/v1/log/checkpoint", None).await;
    assert_eq!(ca, cb);
    let (_, page) = call(&rb, "GET", "/v1/log/entries?start=0&limit=1000", None).await;
    let got: Vec<u64> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(got, (0..2 + n as u64).collect::<Vec<_>>());
    let (_, sa) = call(&ra, "GET", &base, None).await;
    assert_eq!(sa["registrations"], n);
    // A code used through one process is used for the other.
    assert_error(
        &post(
            &ra,
            &format!("{base}/registrations"),
            &e.registration_entry(1, 0),
        )
        .await,
        StatusCode::CONFLICT,
        "registration_code_used",
    );
    // A restart rebuilds the same tree.
    let c = open_board(db.open().await, &clock).await;
    assert_eq!(c.checkpoint_note(), a.checkpoint_note());
}
both!(concurrent_appends_two_processes);

async fn concurrent_ballots_one_nullifier(backend: Backend) {
    let db = Db::fresh(backend).await;
    let clock = TestClock::new(NOW);
    let a = open_board(db.open().await, &clock).await;
    let b = open_board(db.open().await, &clock).await;
    let (ra, rb) = (router(a.clone()), router(b.clone()));
    let e = Election::new(12, 1, 1, 2);
    let base = format!("/v1/elections/{}", e.id_hex());
    assert_eq!(
        post(&ra, "/v1/elections", &e.manifest_entry()).await.0,
        StatusCode::CREATED
    );
    for m in e.dealer_messages() {
        assert_eq!(
            post(&ra, &format!("{base}/dealers"), &e.dealer_entry(&m))
                .await
                .0,
            StatusCode::CREATED
        );
    }
    assert_eq!(
        post(&ra, &format!("{base}/registration-codes"), &e.codes_entry())
            .await
            .0,
        StatusCode::CREATED
    );
    for v in 0..2 {
        assert_eq!(
            post(
                &rb,
                &format!("{base}/registrations"),
                &e.registration_entry(v, v)
            )
            .await
            .0,
            StatusCode::CREATED
        );
    }
    assert_eq!(
        post(&ra, &format!("{base}/census/freeze"), &e.freeze_entry())
            .await
            .0,
        StatusCode::CREATED
    );
    assert_eq!(
        post(&rb, &format!("{base}/open"), &e.open_entry(NOW))
            .await
            .0,
        StatusCode::CREATED
    );

    // Four different ballots of voter 0 and three copies of one more, all at once.
    let ballots: Vec<_> = (0..4)
        .map(|k| e.ballot(0, k % 3, 2000 + k as u64))
        .collect();
    let same = e.ballot(0, 1, 3000);
    let mut tasks = Vec::new();
    for (k, ballot) in ballots.iter().chain([&same, &same, &same]).enumerate() {
        let r = if k % 2 == 0 { ra.clone() } else { rb.clone() };
        let entry = e.ballot_entry(ballot);
        let path = format!("{base}/ballots");
        tasks.push(tokio::spawn(async move { post(&r, &path, &entry).await }));
    }
    let mut appended = BTreeSet::new();
    let mut same_indices = BTreeSet::new();
    for (k, t) in tasks.into_iter().enumerate() {
        let (s, body) = t.await.unwrap();
        assert!(s == StatusCode::CREATED || s == StatusCode::OK, "{body}");
        let index = body["receipt"]["index"].as_u64().unwrap();
        if s == StatusCode::CREATED {
            assert!(appended.insert(index));
        }
        if k >= 4 {
            same_indices.insert(index);
        }
    }
    // Five distinct ballots appended, contiguously; the three copies share one index.
    assert_eq!(appended.len(), 5);
    let first = *appended.iter().next().unwrap();
    assert_eq!(appended, (first..first + 5).collect::<BTreeSet<_>>());
    assert_eq!(same_indices.len(), 1);
    // One ballot counts for the nullifier: the last one.
    let (_, summary) = call(&rb, "GET", &base, None).await;
    assert_eq!(summary["ballot_entries"], 5);
    assert_eq!(summary["counted_ballots"], 1);
}
both!(concurrent_ballots_one_nullifier);

async fn refuses_log_of_another_key(backend: Backend) {
    let db = Db::fresh(backend).await;
    let clock = TestClock::new(NOW);
    let board = open_board(db.open().await, &clock).await;
    let r = router(board.clone());
    let e = Election::new(13, 1, 1, 1);
    assert_eq!(
        post(&r, "/v1/elections", &e.manifest_entry()).await.0,
        StatusCode::CREATED
    );
    drop(r);
    drop(board);
    let other = BoardKey::from_seed("test-board", &[0xb1; 32]).unwrap();
    let err = Board::open(
        db.open().await,
        other,
        VerifyingKeys::new(),
        BoardOptions {
            clock: clock.clock(),
            ..BoardOptions::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("board key"), "{err}");
}
both!(refuses_log_of_another_key);

/// `SELECT` of one integer (tests read the derived tables directly).
async fn raw_int(db: &Db, sql: &'static str) -> i64 {
    match db.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            let v = sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .expect(sql);
            pool.close().await;
            v
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            let v = sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .expect(sql);
            pool.close().await;
            v
        }
    }
}

/// One ballot row for [`append_group`]: `(nullifier, digest, fingerprints)` by byte.
type BallotRow = (u8, u8, &'static [u8]);

/// Appends one group of ballot rows straight through the storage trait (the board's
/// rules are not involved: this tests the derived tables' own backstops).
async fn append_group(
    store: &std::sync::Arc<dyn urna_server::storage::Storage>,
    rows: &[BallotRow],
) -> Result<(), urna_server::storage::StorageError> {
    use urna_server::storage::{Derived, NewEntry, StoredCheckpoint, StoredEntry};
    let mut tx = store.begin_append().await?;
    let size = tx.size();
    let entries: Vec<NewEntry> = rows
        .iter()
        .enumerate()
        .map(|(k, (n, d, fps))| {
            let index = size + k as u64;
            let bytes = vec![*n, *d, index as u8];
            NewEntry {
                entry: StoredEntry {
                    index,
                    election_id: [7; 32],
                    kind: urna_protocol::board::EntryKind::Ballot as u8,
                    leaf_hash: urna_log::leaf_hash(&bytes),
                    entry: bytes,
                },
                derived: vec![Derived::Ballot {
                    nullifier: [*n; 32],
                    digest: [*d; 32],
                    fingerprints: fps.iter().map(|f| [*f; 32]).collect(),
                }],
            }
        })
        .collect();
    let checkpoint = StoredCheckpoint {
        size: size + rows.len() as u64,
        root: urna_log::leaf_hash(b"not checked by storage"),
        note: format!("checkpoint {}", size + rows.len() as u64),
    };
    tx.append(entries, checkpoint).await?;
    tx.commit().await
}

/// The ballots' derived rows of a group are written set-based; they must say what
/// row-by-row writes said: the latest ballot per nullifier counts (also within one
/// group), a ciphertext may be re-cast under its own nullifier only, and a conflict
/// anywhere in a group writes nothing of it.
async fn ballot_rows_of_a_group(backend: Backend) {
    use urna_server::storage::StorageError;
    let db = Db::fresh(backend).await;
    let store = db.open().await;
    // Nullifier 1 votes twice in one group and re-casts ciphertext 11 the second time.
    append_group(
        &store,
        &[(1, 1, &[11, 12]), (2, 2, &[13]), (1, 3, &[11, 14])],
    )
    .await
    .unwrap();
    let q = |sql| raw_int(&db, sql);
    assert_eq!(q("SELECT COUNT(*) FROM ballots").await, 3);
    assert_eq!(q("SELECT COUNT(*) FROM nullifiers").await, 2);
    // Nullifier 2 counts with index 1, nullifier 1 with its re-vote at index 2, and each
    // row names a stored ballot of that nullifier with that digest.
    assert_eq!(q("SELECT MIN(latest_index) FROM nullifiers").await, 1);
    assert_eq!(q("SELECT MAX(latest_index) FROM nullifiers").await, 2);
    assert_eq!(q(JOINED).await, 2);
    assert_eq!(q("SELECT COUNT(*) FROM ciphertext_fingerprints").await, 4);
    // Another nullifier casting a stored ciphertext: the whole group is refused.
    let err = append_group(&store, &[(3, 4, &[15]), (2, 5, &[12])])
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Conflict(_)), "{err}");
    // Two nullifiers casting one ciphertext inside a group.
    let err = append_group(&store, &[(4, 6, &[16]), (5, 7, &[16])])
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Conflict(_)), "{err}");
    // The same (nullifier, digest) twice.
    let err = append_group(&store, &[(2, 2, &[])]).await.unwrap_err();
    assert!(matches!(err, StorageError::Conflict(_)), "{err}");
    assert_eq!(q("SELECT COUNT(*) FROM log_entries").await, 3);
    assert_eq!(q("SELECT COUNT(*) FROM ballots").await, 3);
    assert_eq!(q("SELECT COUNT(*) FROM ciphertext_fingerprints").await, 4);
    // A later group's re-vote moves the nullifier's latest ballot on.
    append_group(&store, &[(2, 8, &[13])]).await.unwrap();
    assert_eq!(q("SELECT COUNT(*) FROM nullifiers").await, 2);
    assert_eq!(q("SELECT MAX(latest_index) FROM nullifiers").await, 3);
    assert_eq!(q("SELECT MIN(latest_index) FROM nullifiers").await, 2);
    assert_eq!(q(JOINED).await, 2);
}

const JOINED: &str = "SELECT COUNT(*) FROM nullifiers n JOIN ballots b \
     ON b.log_index = n.latest_index AND b.nullifier = n.nullifier AND b.digest = n.latest_digest";
both!(ballot_rows_of_a_group);
