//! Group commit on SQLite and PostgreSQL: ballots that queue while a commit runs are
//! appended together (one transaction, one checkpoint), each with its own receipt;
//! inside a group the re-vote, replay and copied-ciphertext rules give the answers of
//! one-at-a-time appends; a storage failure fails the whole group and acknowledges
//! nothing, and the board recovers; a restart keeps every acknowledged ballot.
//!
//! The storage is wrapped in a [`Gated`] store whose appends the test can hold (so that
//! ballots queue up behind a commit, deterministically) and whose commits it can make
//! fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::Router;
use common::*;
use serde_json::Value;
use tokio::sync::RwLock;
use urna_log::{Checkpoint, Hash};
use urna_protocol::board::BoardEntry;
use urna_protocol::codec::Canonical;
use urna_server::board::rules::{admit, admit_in_group, Admission, GroupBallots};
use urna_server::board::state::BoardState;
use urna_server::board::Board;
use urna_server::storage::{
    AppendTx, BoxFuture, NewEntry, Storage, StorageError, StoredCheckpoint, StoredEntry,
};

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

/// A store whose appends wait while the gate is closed and whose commits fail while
/// `fail` is set.
struct Gated {
    inner: Arc<dyn Storage>,
    gate: Arc<RwLock<()>>,
    fail: Arc<AtomicBool>,
}

struct GatedTx {
    inner: Box<dyn AppendTx>,
    fail: Arc<AtomicBool>,
}

impl Storage for Gated {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    fn begin_append(&self) -> BoxFuture<'_, Result<Box<dyn AppendTx>, StorageError>> {
        Box::pin(async move {
            drop(self.gate.read().await);
            let inner = self.inner.begin_append().await?;
            Ok(Box::new(GatedTx {
                inner,
                fail: self.fail.clone(),
            }) as Box<dyn AppendTx>)
        })
    }
    fn size(&self) -> BoxFuture<'_, Result<u64, StorageError>> {
        self.inner.size()
    }
    fn entries(&self, from: u64, to: u64) -> BoxFuture<'_, Result<Vec<StoredEntry>, StorageError>> {
        self.inner.entries(from, to)
    }
    fn election_entries(
        &self,
        election_id: [u8; 32],
        from: u64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<StoredEntry>, StorageError>> {
        self.inner.election_entries(election_id, from, limit)
    }
    fn index_of_leaf_hash(
        &self,
        leaf_hash: Hash,
    ) -> BoxFuture<'_, Result<Option<u64>, StorageError>> {
        self.inner.index_of_leaf_hash(leaf_hash)
    }
    fn latest_checkpoint(&self) -> BoxFuture<'_, Result<Option<StoredCheckpoint>, StorageError>> {
        self.inner.latest_checkpoint()
    }
    fn ping(&self) -> BoxFuture<'_, Result<(), StorageError>> {
        self.inner.ping()
    }
}

impl AppendTx for GatedTx {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn entries_from(&mut self, from: u64) -> BoxFuture<'_, Result<Vec<StoredEntry>, StorageError>> {
        self.inner.entries_from(from)
    }
    fn latest_checkpoint(
        &mut self,
    ) -> BoxFuture<'_, Result<Option<StoredCheckpoint>, StorageError>> {
        self.inner.latest_checkpoint()
    }
    fn append(
        &mut self,
        entries: Vec<NewEntry>,
        checkpoint: StoredCheckpoint,
    ) -> BoxFuture<'_, Result<(), StorageError>> {
        self.inner.append(entries, checkpoint)
    }
    fn commit(self: Box<Self>) -> BoxFuture<'static, Result<(), StorageError>> {
        if self.fail.load(Ordering::SeqCst) {
            // Dropping the inner transaction rolls it back: nothing of the group lands.
            drop(self.inner);
            return Box::pin(async {
                Err(StorageError::Corrupt("injected commit failure".into()))
            });
        }
        self.inner.commit()
    }
}

struct Fixture {
    db: Db,
    clock: TestClock,
    board: Arc<Board>,
    router: Router,
    gate: Arc<RwLock<()>>,
    fail: Arc<AtomicBool>,
    e: Election,
    base: String,
}

/// A board over a gated store with election `seed` open and `voters` voters registered.
async fn open_election(backend: Backend, seed: u64, voters: usize) -> Fixture {
    let db = Db::fresh(backend).await;
    let clock = TestClock::new(NOW);
    let gate = Arc::new(RwLock::new(()));
    let fail = Arc::new(AtomicBool::new(false));
    let store = Arc::new(Gated {
        inner: db.open().await,
        gate: gate.clone(),
        fail: fail.clone(),
    });
    let board = open_board(store, &clock).await;
    let router = router(board.clone());
    let e = Election::new(seed, 1, 1, voters);
    let base = open_on(&router, &e, voters).await;
    Fixture {
        db,
        clock,
        board,
        router,
        gate,
        fail,
        e,
        base,
    }
}

/// Creates election `e` on the board of `r`, registers `voters` voters, freezes, opens;
/// returns its path.
async fn open_on(r: &Router, e: &Election, voters: usize) -> String {
    let base = format!("/v1/elections/{}", e.id_hex());
    assert_eq!(
        post(r, "/v1/elections", &e.manifest_entry()).await.0,
        StatusCode::CREATED
    );
    for m in e.dealer_messages() {
        let resp = post(r, &format!("{base}/dealers"), &e.dealer_entry(&m)).await;
        assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    }
    let resp = post(r, &format!("{base}/registration-codes"), &e.codes_entry()).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    for v in 0..voters {
        let resp = post(
            r,
            &format!("{base}/registrations"),
            &e.registration_entry(v, v),
        )
        .await;
        assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    }
    let resp = post(r, &format!("{base}/census/freeze"), &e.freeze_entry()).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    let resp = post(r, &format!("{base}/open"), &e.open_entry(NOW)).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    base
}

fn h(s: &Value) -> Hash {
    Hash::from_slice(&hex::decode(s.as_str().unwrap()).unwrap()).unwrap()
}

/// Checks a receipt's inclusion proof against its own signed checkpoint; returns the
/// checkpoint's size.
fn check_receipt(receipt: &Value) -> u64 {
    let key = board_key();
    let cp = Checkpoint::open(
        receipt["checkpoint"].as_str().unwrap().as_bytes(),
        key.origin(),
        &key.verifier(),
    )
    .unwrap();
    assert_eq!(cp.size(), receipt["tree_size"].as_u64().unwrap());
    let proof: Vec<Hash> = receipt["inclusion_proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(h)
        .collect();
    cp.verify_inclusion(
        receipt["index"].as_u64().unwrap(),
        &h(&receipt["leaf_hash"]),
        &proof,
    )
    .unwrap();
    cp.size()
}

/// Submits `entries` (ballots) while the store's appends are held, waits until all of
/// them are verified (so they queue for the appender), then releases the appends. The
/// first to reach the appender is a group alone; every later one queues behind it and
/// joins the next group.
async fn submit_held(f: &Fixture, entries: Vec<Vec<u8>>) -> Vec<(StatusCode, Value)> {
    let paths = vec![format!("{}/ballots", f.base); entries.len()];
    submit_held_then(f, entries.into_iter().zip(paths).collect(), || {}).await
}

/// [`submit_held`] for `(entry, path)` pairs, running `before_release` just before the
/// appends are released.
async fn submit_held_then(
    f: &Fixture,
    entries: Vec<(Vec<u8>, String)>,
    before_release: impl FnOnce(),
) -> Vec<(StatusCode, Value)> {
    let held = f.gate.write().await;
    let verified = f
        .board
        .metrics()
        .ballot_verification_seconds
        .get_sample_count();
    let n = entries.len() as u64;
    let mut tasks = Vec::new();
    for (entry, path) in entries {
        let r = f.router.clone();
        tasks.push(tokio::spawn(async move { post(&r, &path, &entry).await }));
        // Submission order is queue order: let each reach the verifier first.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while f
        .board
        .metrics()
        .ballot_verification_seconds
        .get_sample_count()
        < verified + n
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "ballots not verified in time"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // From verified to queued is a few instructions; give them time.
    tokio::time::sleep(Duration::from_millis(200)).await;
    before_release();
    drop(held);
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

async fn many_ballots_in_groups(backend: Backend) {
    let voters = 16; // the census capacity at depth 4
    let f = open_election(backend, 41, voters).await;
    let size_before = f.board.size();
    let groups_before = f.board.metrics().append_group_size.get_sample_count();
    // Every voter votes, then votes again: 32 ballots.
    let ballots: Vec<Vec<u8>> = tokio::task::spawn_blocking({
        let e = Election::new(41, 1, 1, voters);
        move || {
            (0..2 * voters)
                .map(|k| e.ballot_entry(&e.ballot(k % voters, k % 3, 5000 + k as u64)))
                .collect()
        }
    })
    .await
    .unwrap();
    let answers = submit_held(&f, ballots.clone()).await;
    let mut indices = BTreeSet::new();
    let mut sizes = BTreeSet::new();
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
        assert!(indices.insert(body["receipt"]["index"].as_u64().unwrap()));
        sizes.insert(check_receipt(&body["receipt"]));
    }
    // Contiguous indices right after the open entry.
    let n = answers.len() as u64;
    assert_eq!(
        indices,
        (size_before..size_before + n).collect::<BTreeSet<_>>()
    );
    assert_eq!(f.board.size(), size_before + n);
    // Two groups: the first ballot alone, then all the others in one transaction, whose
    // receipts share the group's checkpoint.
    let metrics = f.board.metrics();
    assert_eq!(
        metrics.append_group_size.get_sample_count() - groups_before,
        2
    );
    assert_eq!(sizes, BTreeSet::from([size_before + 1, size_before + n]));
    let rendered = metrics.render().unwrap();
    assert!(
        rendered.contains("urna_append_group_size_bucket"),
        "{rendered}"
    );
    assert!(
        rendered.contains("urna_append_commit_seconds_bucket"),
        "{rendered}"
    );
    // The log serves them all, and a restart keeps every acknowledged ballot.
    let (_, summary) = call(&f.router, "GET", &f.base, None).await;
    assert_eq!(summary["ballot_entries"], 2 * voters as u64);
    assert_eq!(summary["counted_ballots"], voters as u64);
    let restarted = open_board(f.db.open().await, &f.clock).await;
    assert_eq!(restarted.checkpoint_note(), f.board.checkpoint_note());
    let stored = restarted
        .store()
        .entries(size_before, size_before + n)
        .await
        .unwrap();
    for (k, (_, body)) in answers.iter().enumerate() {
        let index = body["receipt"]["index"].as_u64().unwrap();
        let entry = &stored[(index - size_before) as usize];
        assert_eq!(entry.entry, ballots[k]);
        assert_eq!(
            hex::encode(entry.leaf_hash.as_bytes()),
            body["receipt"]["leaf_hash"]
        );
    }
}
both!(many_ballots_in_groups);

/// What one submission came to, with indices relative to the first ballot's.
fn outcome(resp: &(StatusCode, Value), first: u64) -> (u16, String, Option<u64>) {
    let (status, body) = resp;
    let index = body["receipt"]["index"].as_u64().map(|i| i - first);
    let code = body["error"].as_str().unwrap_or("").to_owned();
    (status.as_u16(), code, index)
}

async fn one_nullifier_inside_a_group(backend: Backend) {
    // Voter 0 votes (a), re-votes (b), then both are replayed, and voter 1 votes (c),
    // all in one group; then the same sequence one at a time on another board.
    let e = Election::new(43, 1, 1, 2);
    let (a, b, c) = tokio::task::spawn_blocking({
        let e = Election::new(43, 1, 1, 2);
        move || {
            (
                e.ballot(0, 0, 100),
                e.ballot(0, 1, 101),
                e.ballot(1, 2, 102),
            )
        }
    })
    .await
    .unwrap();
    let sequence: Vec<Vec<u8>> = [&a, &b, &a, &b, &c]
        .iter()
        .map(|x| e.ballot_entry(x))
        .collect();

    let grouped = open_election(backend, 43, 2).await;
    let first = grouped.board.size();
    let groups_before = grouped.board.metrics().append_group_size.get_sample_count();
    let answers = submit_held(&grouped, sequence.clone()).await;
    assert_eq!(
        grouped.board.metrics().append_group_size.get_sample_count() - groups_before,
        2,
        "the first ballot alone, the four others in one group"
    );
    let grouped_outcomes: Vec<_> = answers.iter().map(|r| outcome(r, first)).collect();

    let serial = open_election(backend, 43, 2).await;
    let serial_first = serial.board.size();
    let mut serial_outcomes = Vec::new();
    for entry in &sequence {
        let resp = post(&serial.router, &format!("{}/ballots", serial.base), entry).await;
        serial_outcomes.push(outcome(&resp, serial_first));
    }
    assert_eq!(grouped_outcomes, serial_outcomes);
    assert_eq!(
        grouped_outcomes,
        vec![
            (201, String::new(), Some(0)),
            (201, String::new(), Some(1)),
            (200, String::new(), Some(0)),
            (200, String::new(), Some(1)),
            (201, String::new(), Some(2)),
        ]
    );
    // The re-vote counts, in both.
    for f in [&grouped, &serial] {
        let (_, summary) = call(&f.router, "GET", &f.base, None).await;
        assert_eq!(summary["ballot_entries"], 3);
        assert_eq!(summary["counted_ballots"], 2);
    }
    assert_eq!(grouped.board.size(), serial.board.size());
}
both!(one_nullifier_inside_a_group);

/// A copied ciphertext inside a group, at the level of the rules: deciding a sequence
/// of ballots against the state plus the group before each gives the same answers as
/// applying them one at a time. (Over HTTP a copy under another nullifier never
/// reaches a group: its proofs are bound to the original's nullifier, so it fails
/// verification, or the fast path sees the original already committed.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copied_ciphertext_inside_a_group_rules() {
    let e = Election::new(44, 1, 1, 3);
    let mut state = BoardState::default();
    let mut index = 0;
    let mut apply = |state: &mut BoardState, bytes: Vec<u8>| {
        let entry = BoardEntry::from_canonical_bytes(&bytes).unwrap();
        state.apply(index, &entry).unwrap();
        index += 1;
    };
    apply(&mut state, e.manifest_entry());
    for m in e.dealer_messages() {
        apply(&mut state, e.dealer_entry(&m));
    }
    apply(&mut state, e.codes_entry());
    for v in 0..3 {
        apply(&mut state, e.registration_entry(v, v));
    }
    apply(&mut state, e.freeze_entry());
    apply(&mut state, e.open_entry(NOW));
    let (b0, b0v2, b1) = tokio::task::spawn_blocking({
        let e = Election::new(44, 1, 1, 3);
        move || {
            (
                e.ballot(0, 0, 200),
                e.ballot(0, 1, 201),
                e.ballot(1, 2, 202),
            )
        }
    })
    .await
    .unwrap();
    // Voter 2 copies voter 0's ciphertexts; voter 0's re-vote carrying its first
    // ballot's contests is that first ballot again (same nullifier and digest).
    let mut copy = e.ballot(2, 0, 203);
    copy.contests = b0.contests.clone();
    let mut own = b0v2.clone();
    own.contests = b0.contests.clone();
    let sequence = [&b0, &copy, &b0v2, &b0, &own, &b1, &copy];
    let entries: Vec<BoardEntry> = sequence
        .iter()
        .map(|b| BoardEntry::from_canonical_bytes(&e.ballot_entry(b)).unwrap())
        .collect();
    let id = e.id.to_bytes();
    let base = index;

    // One group.
    let election = state.elections.get(&id).unwrap();
    let mut group = GroupBallots::default();
    let mut next = base;
    let mut grouped = Vec::new();
    for entry in &entries {
        let answer = admit_in_group(election, &group, entry, NOW).map_err(|e| e.code());
        if let Ok(Admission::Append(derived)) = &answer {
            group.record(election, next, derived);
            next += 1;
        }
        grouped.push(answer.map(|a| match a {
            Admission::Append(_) => None,
            Admission::Replay(i) => Some(i),
        }));
    }

    // One at a time.
    let mut serial_state = state.clone();
    let mut next = base;
    let mut serial = Vec::new();
    for entry in &entries {
        let election = serial_state.elections.get(&id).unwrap();
        let answer = admit(election, entry, NOW).map_err(|e| e.code());
        if let Ok(Admission::Append(_)) = &answer {
            serial_state.apply(next, entry).unwrap();
            next += 1;
        }
        serial.push(answer.map(|a| match a {
            Admission::Append(_) => None,
            Admission::Replay(i) => Some(i),
        }));
    }
    assert_eq!(grouped, serial);
    assert_eq!(
        grouped,
        vec![
            Ok(None),
            Err("ciphertext_reused"),
            Ok(None),
            Ok(Some(base)),
            Ok(Some(base)),
            Ok(None),
            Err("ciphertext_reused"),
        ]
    );
}

async fn failed_group_acknowledges_nothing(backend: Backend) {
    let f = open_election(backend, 45, 4).await;
    let size_before = f.board.size();
    let note_before = f.board.checkpoint_note();
    let ballots: Vec<Vec<u8>> = tokio::task::spawn_blocking({
        let e = Election::new(45, 1, 1, 4);
        move || {
            (0..4)
                .map(|v| e.ballot_entry(&e.ballot(v, v % 3, 300 + v as u64)))
                .collect()
        }
    })
    .await
    .unwrap();
    f.fail.store(true, Ordering::SeqCst);
    let answers = submit_held(&f, ballots.clone()).await;
    for resp in &answers {
        assert_error(resp, StatusCode::INTERNAL_SERVER_ERROR, "internal");
    }
    // Nothing was published or stored.
    assert_eq!(f.board.size(), size_before);
    assert_eq!(f.board.checkpoint_note(), note_before);
    assert_eq!(f.board.store().size().await.unwrap(), size_before);
    let (_, summary) = call(&f.router, "GET", &f.base, None).await;
    assert_eq!(summary["ballot_entries"], 0);

    // The board recovers (the tree is rebuilt from storage) and takes them all.
    f.fail.store(false, Ordering::SeqCst);
    let answers = submit_held(&f, ballots).await;
    let mut indices = BTreeSet::new();
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
        check_receipt(&body["receipt"]);
        indices.insert(body["receipt"]["index"].as_u64().unwrap());
    }
    assert_eq!(
        indices,
        (size_before..size_before + 4).collect::<BTreeSet<_>>()
    );
    let restarted = open_board(f.db.open().await, &f.clock).await;
    assert_eq!(restarted.checkpoint_note(), f.board.checkpoint_note());
    assert_eq!(restarted.size(), size_before + 4);
}
both!(failed_group_acknowledges_nothing);

/// A group mixing accepted, replayed and rejected ballots of two elections: the
/// rejected one gets its own error, takes no index, and the others are appended.
async fn rejection_inside_a_group(backend: Backend) {
    let f = open_election(backend, 46, 3).await;
    // A second election on the same board whose window ends 50 s after NOW.
    let mut short = Election::new(47, 1, 1, 1);
    short.manifest.closes_at = NOW + 50;
    let short_base = open_on(&f.router, &short, 1).await;
    let first = f.board.size();
    let (b0, b1, b2, c0) = tokio::task::spawn_blocking({
        let e = Election::new(46, 1, 1, 3);
        move || {
            let mut short = Election::new(47, 1, 1, 1);
            short.manifest.closes_at = NOW + 50;
            (
                e.ballot(0, 0, 400),
                e.ballot(1, 1, 401),
                e.ballot(2, 2, 402),
                short.ballot(0, 0, 403),
            )
        }
    })
    .await
    .unwrap();
    let e = &f.e;
    let ballots = format!("{}/ballots", f.base);
    let short_ballots = format!("{short_base}/ballots");
    // b0 commits alone; b1, c0, a replay of b0 and b2 queue behind it, and the clock
    // passes the short election's close while they wait: c0 is refused when its group
    // is decided, the others are not affected.
    let clock = f.clock.clone();
    let answers = submit_held_then(
        &f,
        vec![
            (e.ballot_entry(&b0), ballots.clone()),
            (e.ballot_entry(&b1), ballots.clone()),
            (short.ballot_entry(&c0), short_ballots),
            (e.ballot_entry(&b0), ballots.clone()),
            (e.ballot_entry(&b2), ballots),
        ],
        move || clock.set(NOW + 60),
    )
    .await;
    let outcomes: Vec<_> = answers.iter().map(|r| outcome(r, first)).collect();
    let closed = answers[2].0.as_u16();
    // Queue order is the order verifications finish, which a loaded machine may change
    // (b1 before b0, or the replay before b0): the answers are fixed, their order not.
    assert_eq!(outcomes[2], (closed, "voting_closed".to_owned(), None));
    assert_eq!(closed, 409);
    // b0 and its replay: one appended (201), one answered with the same index (200).
    let mut pair = [outcomes[0].clone(), outcomes[3].clone()];
    pair.sort();
    assert_eq!(pair[0].0, 200, "{outcomes:?}");
    assert_eq!(pair[1].0, 201, "{outcomes:?}");
    assert_eq!(pair[0].2, pair[1].2, "{outcomes:?}");
    // b0 (or its replay), b1 and b2 took the three new indices.
    let mut appended: Vec<u64> = [&pair[1], &outcomes[1], &outcomes[4]]
        .iter()
        .map(|o| {
            assert_eq!(o.0, 201, "{outcomes:?}");
            o.2.unwrap()
        })
        .collect();
    appended.sort_unstable();
    assert_eq!(appended, vec![0, 1, 2], "{outcomes:?}");
    for (status, body) in &answers {
        if status.is_success() {
            check_receipt(&body["receipt"]);
        }
    }
    assert_eq!(f.board.size(), first + 3);
}
both!(rejection_inside_a_group);

/// A rough ingest measurement (not a benchmark: depth-4 census, in-process router, no
/// network): `URNA_ROUGH_BALLOTS` ballots (default 512) submitted by 48 concurrent
/// clients, fully verified and durably committed; prints ballots a second, p50/p99
/// latency and the mean group size. Run with `--ignored --nocapture`.
async fn rough_throughput(backend: Backend) {
    let voters = 16;
    let total: usize = std::env::var("URNA_ROUGH_BALLOTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    let f = open_election(backend, 48, voters).await;
    let started = std::time::Instant::now();
    let ballots: Vec<Vec<u8>> = {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let workers = 2;
        for w in 0..workers {
            let tx = tx.clone();
            tokio::task::spawn_blocking(move || {
                let e = Election::new(48, 1, 1, voters);
                for k in (w..total).step_by(workers) {
                    let b = e.ballot(k % voters, k % 3, 10_000 + k as u64);
                    let _ = tx.send(e.ballot_entry(&b));
                }
            });
        }
        drop(tx);
        let mut out = Vec::with_capacity(total);
        while let Some(b) = rx.recv().await {
            out.push(b);
        }
        out
    };
    println!(
        "{backend:?}: proved {} ballots in {:.1} s",
        ballots.len(),
        started.elapsed().as_secs_f64()
    );
    let groups_before = f.board.metrics().append_group_size.get_sample_count();
    let group_sum_before = f.board.metrics().append_group_size.get_sample_sum();
    let limit = Arc::new(tokio::sync::Semaphore::new(48));
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for entry in ballots {
        let permit = limit.clone().acquire_owned().await.unwrap();
        let r = f.router.clone();
        let path = format!("{}/ballots", f.base);
        tasks.push(tokio::spawn(async move {
            let t = std::time::Instant::now();
            let resp = post(&r, &path, &entry).await;
            drop(permit);
            (resp.0, t.elapsed())
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        let (status, latency) = t.await.unwrap();
        assert_eq!(status, StatusCode::CREATED);
        latencies.push(latency);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let m = f.board.metrics();
    let groups = m.append_group_size.get_sample_count() - groups_before;
    let mean_group = (m.append_group_size.get_sample_sum() - group_sum_before) / groups as f64;
    println!(
        "{backend:?}: {} ballots in {elapsed:.2} s = {:.0}/s; p50 {:?}, p99 {:?}; {groups} groups, mean size {mean_group:.1}; mean commit {:.2} ms",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        1000.0 * m.append_commit_seconds.get_sample_sum()
            / m.append_commit_seconds.get_sample_count() as f64,
    );
}

mod rough {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a rough measurement, run on purpose"]
    async fn sqlite() {
        super::rough_throughput(super::Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a rough measurement, run on purpose"]
    async fn postgres() {
        super::rough_throughput(super::Backend::Postgres).await;
    }
}
