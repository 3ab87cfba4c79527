//! The board service: checks entries, sequences them into the log, integrates them into
//! the Merkle tree and publishes signed checkpoints.
//!
//! # Appending (sequence → integrate → publish)
//!
//! Every append, whatever its kind, is queued for the board's appender task, which
//! commits verified ballots in groups and every other entry alone (see [`commit`]). For
//! each group:
//!
//! 1. *lock*: the process-wide append mutex, then a storage transaction holding the
//!    sequencer lock (the `log_head` row);
//! 2. *catch up*: entries that other processes committed since this one last looked are
//!    integrated into the in-memory tree and state;
//! 3. *decide*: the board's rules are applied to the current state, in queue order,
//!    each ballot also against the group's ballots before it (a decision taken before
//!    the lock is only a fast path);
//! 4. *sequence*: the entries get the next indices;
//! 5. *integrate*: their leaf hashes are appended to the tree;
//! 6. *publish*: one checkpoint of the new size is signed for the group, after checking
//!    that the new tree is consistent with the last published checkpoint;
//! 7. *commit*: rows, derived rows, the new head and the checkpoint in one transaction;
//!    only then is anything acknowledged, each request with its own receipt against the
//!    group's checkpoint.
//!
//! If anything fails after step 5 the in-memory state is marked stale and rebuilt from
//! storage at the next append, so the tree and the stored log always agree.

pub mod batch;
pub mod commit;
pub mod rules;
mod setup;
pub mod state;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use tokio::sync::{mpsc, Mutex, Semaphore};
use urna_circuits::{CensusTree, MerklePath};
use urna_log::{leaf_hash, verify_consistency, Checkpoint, Hash, MerkleTree};
use urna_protocol::board::{BoardEntry, EntryKind, Payload};
use urna_protocol::codec::Canonical;
use urna_protocol::tally::{decrypt_tally, verify_tally, Aggregate, Tally, TrusteeShares};

use crate::error::ApiError;
use crate::keys::{BoardKey, VerifyingKeys};
use crate::metrics::Metrics;
use crate::storage::{Derived, NewEntry, Storage, StoredCheckpoint, StoredEntry};
use rules::{admit, Admission};
use state::{BoardState, ElectionState, Phase};

/// The server's clock: Unix seconds. Tests may substitute their own.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    })
}

/// Most entries returned by one page of a log read.
pub const MAX_PAGE: u64 = 1000;

/// How the board runs.
#[derive(Clone)]
pub struct BoardOptions {
    /// Proof verifications running at once (threads of the blocking pool).
    pub verify_workers: usize,
    /// Proof verifications admitted at once (running or waiting); beyond it, 503.
    pub verify_queue: usize,
    /// The clock.
    pub clock: Clock,
    /// A read-only replica: serves reads of the stored log (catching up with the
    /// writable servers on every read) and refuses every write with
    /// [`ApiError::ReadOnly`]; it never takes the sequencer lock.
    pub read_only: bool,
}

impl std::fmt::Debug for BoardOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoardOptions")
            .field("verify_workers", &self.verify_workers)
            .field("verify_queue", &self.verify_queue)
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl Default for BoardOptions {
    fn default() -> Self {
        Self {
            verify_workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            verify_queue: 256,
            clock: system_clock(),
            read_only: false,
        }
    }
}

/// A receipt: where an entry is in the log, and the signed checkpoint that proves it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Receipt {
    /// Log index of the entry.
    pub index: u64,
    /// Its RFC 9162 leaf hash (hex).
    pub leaf_hash: String,
    /// The tree size of the checkpoint.
    pub tree_size: u64,
    /// The inclusion proof (hex hashes, leaf to root) in the tree of the checkpoint.
    pub inclusion_proof: Vec<String>,
    /// The signed checkpoint (C2SP signed note).
    pub checkpoint: String,
}

/// The answer to a submission.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Submitted {
    /// The receipt of the submitted entry.
    pub receipt: Receipt,
    /// True when the entry was already on the board (ballot replay): nothing was added.
    pub replayed: bool,
    /// The ballot's tracking code, for ballots.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tracking_code: Option<String>,
    /// Entries the board appended with it (the tally, after the last needed share).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub appended_by_board: Vec<Receipt>,
}

struct LogInner {
    tree: MerkleTree,
    /// The last checkpoint committed (None for the empty log).
    published: Option<StoredCheckpoint>,
}

/// What a ballot's verification needs from its election's state: the manifest, its
/// hash, the keys, the frozen census root, the verifying key, and the admission.
type BallotPre = (
    Arc<urna_protocol::manifest::Manifest>,
    [u8; 32],
    Option<Arc<state::ElectionKeys>>,
    Option<urna_circuits::CensusRoot>,
    Option<Arc<urna_circuits::PreparedVerifyingKey>>,
    Admission,
);

/// What the expensive checks of one entry need from its election's state.
struct Pre {
    dkg: urna_protocol::dkg::DkgContext,
    threshold: usize,
    depth: u32,
    accused: Option<urna_protocol::dkg::DealerMessage>,
    commitments: Vec<urna_circuits::IdentityCommitment>,
    keys: Option<Arc<state::ElectionKeys>>,
    shares: Vec<TrusteeShares>,
}

/// Sums the ballots of election `id` whose indices are in `counted` (PROTOCOL 8.1),
/// reading the log page by page and decoding each page's ballots on rayon's threads.
async fn sum_counted(
    store: Arc<dyn Storage>,
    pool: CpuPool,
    id: [u8; 32],
    counted: HashSet<u64>,
    options: Vec<usize>,
) -> Result<Aggregate, ApiError> {
    let options = Arc::new(options);
    let mut aggregate = Aggregate::new(&options);
    let mut from = 0;
    loop {
        let page = store.election_entries(id, from, MAX_PAGE as u32).await?;
        let Some(last) = page.last() else { break };
        from = last.index + 1;
        let ballots: Vec<StoredEntry> = page
            .into_iter()
            .filter(|e| e.kind == EntryKind::Ballot as u8 && counted.contains(&e.index))
            .collect();
        if ballots.is_empty() {
            continue;
        }
        let options = options.clone();
        let part = pool
            .run(move || {
                use rayon::prelude::*;
                ballots
                    .par_chunks(AGGREGATE_CHUNK)
                    .map(|chunk| {
                        let mut part = Aggregate::new(&options);
                        for stored in chunk {
                            let entry = BoardEntry::from_canonical_bytes(&stored.entry)
                                .map_err(|e| format!("entry {}: {e}", stored.index))?;
                            if let Payload::Ballot(b) = entry.payload() {
                                part.add_ballot(b.contests.iter().map(|c| c.ciphertexts()))
                                    .map_err(|e| format!("entry {}: {e}", stored.index))?;
                            }
                        }
                        Ok::<_, String>(part)
                    })
                    .try_reduce(|| Aggregate::new(&options), |a, b| Ok(merge(a, &b)))
            })
            .await?
            .map_err(ApiError::Internal)?;
        aggregate = merge(aggregate, &part);
    }
    Ok(aggregate)
}

/// The sum of two aggregates of the same shape.
fn merge(a: Aggregate, b: &Aggregate) -> Aggregate {
    let mut contests = a.contests().to_vec();
    for (sums, more) in contests.iter_mut().zip(b.contests()) {
        for (sum, ct) in sums.iter_mut().zip(more) {
            *sum += ct;
        }
    }
    Aggregate::from_parts(a.ballots() + b.ballots(), contests)
}

fn s_clone(entry: &BoardEntry) -> Result<TrusteeShares, ApiError> {
    match entry.payload() {
        Payload::DecryptionShares(s) => Ok(s.clone()),
        _ => Err(ApiError::internal("expected decryption shares")),
    }
}

/// What a locked decision appends.
enum Plan {
    Append(Vec<(BoardEntry, Vec<u8>, Vec<Derived>)>),
    Replay(u64),
}

/// A bounded pool for CPU-heavy checks, off the async runtime. Clones share the bounds.
#[derive(Clone)]
struct CpuPool {
    queue: Arc<Semaphore>,
    workers: Arc<Semaphore>,
}

impl CpuPool {
    fn new(workers: usize, queue: usize) -> Self {
        Self {
            queue: Arc::new(Semaphore::new(queue.max(1))),
            workers: Arc::new(Semaphore::new(workers.max(1))),
        }
    }

    async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let queued = self
            .queue
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Overloaded { retry_after: 1 })?;
        let worker = self
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(move || {
            let out = f();
            drop(worker);
            drop(queued);
            out
        })
        .await
        .map_err(ApiError::internal)
    }
}

/// The bulletin board.
pub struct Board {
    store: Arc<dyn Storage>,
    key: BoardKey,
    vks: VerifyingKeys,
    state: RwLock<BoardState>,
    log: RwLock<LogInner>,
    /// Serialises appends in this process; `true` when the in-memory state must be
    /// rebuilt from storage before the next append.
    append: Mutex<bool>,
    clock: Clock,
    /// Refuses every write (a read-only replica).
    read_only: bool,
    pool: CpuPool,
    ballots: batch::Batcher,
    /// The appender's queue (group commit).
    appender: mpsc::Sender<commit::Request>,
    metrics: Metrics,
    empty_checkpoint: String,
    /// The setup ceremonies' parameters, by election (see `setup`).
    ceremonies: std::sync::Mutex<HashMap<[u8; 32], setup::CeremonyHandle>>,
    /// Per election, the aggregate once computed; its lock lets one computation run at a
    /// time (see [`Board::aggregate`]).
    aggregates: std::sync::Mutex<HashMap<[u8; 32], AggregateSlot>>,
}

/// Where one election's aggregate is computed and kept.
type AggregateSlot = Arc<Mutex<Option<Arc<Aggregate>>>>;

/// Ballots per rayon task when summing the aggregate.
const AGGREGATE_CHUNK: usize = 256;

impl std::fmt::Debug for Board {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Board")
            .field("backend", &self.store.backend())
            .field("key", &self.key)
            .finish()
    }
}

/// Why the board could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    /// The stored log does not match its checkpoints, or was signed by another key.
    #[error("stored log is inconsistent: {0}")]
    Inconsistent(String),
    /// Metrics registration failed.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    // A panic while holding the lock leaves data that was being replaced wholesale;
    // reading it is no worse than the alternative of failing every request.
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

fn hex_hashes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| hex::encode(h.as_bytes())).collect()
}

fn map_ballot_error(e: urna_protocol::VerificationError) -> ApiError {
    use urna_protocol::VerificationError as V;
    match e {
        V::WrongElection => ApiError::WrongElection,
        V::WrongCensusRoot => ApiError::WrongCensusRoot,
        other => ApiError::InvalidBallot(other.to_string()),
    }
}

impl Board {
    /// Opens the board over `store`: rebuilds the tree and the election state from the
    /// stored log and checks them against the last stored checkpoint.
    pub async fn open(
        store: Arc<dyn Storage>,
        key: BoardKey,
        vks: VerifyingKeys,
        options: BoardOptions,
    ) -> Result<Arc<Self>, StartError> {
        let empty = Checkpoint::new(key.origin(), 0, urna_log::EMPTY_ROOT)
            .and_then(|c| c.sign(key.note_signer()))
            .map_err(|e| StartError::Inconsistent(e.to_string()))?;
        let metrics = Metrics::new()?;
        let ballots = batch::Batcher::start(
            options.verify_workers,
            options.verify_queue,
            metrics.ballot_batch_size.clone(),
        );
        let (appender, queue) = mpsc::channel(commit::QUEUE);
        let board = Self {
            store,
            key,
            vks,
            state: RwLock::new(BoardState::default()),
            log: RwLock::new(LogInner {
                tree: MerkleTree::new(),
                published: None,
            }),
            append: Mutex::new(false),
            clock: options.clock,
            read_only: options.read_only,
            pool: CpuPool::new(options.verify_workers, options.verify_queue),
            ballots,
            appender,
            metrics,
            empty_checkpoint: empty,
            ceremonies: std::sync::Mutex::new(HashMap::new()),
            aggregates: std::sync::Mutex::new(HashMap::new()),
        };
        let latest = board.store.latest_checkpoint().await?;
        let size = board.store.size().await?;
        let mut from = 0;
        while from < size {
            let to = size.min(from + MAX_PAGE);
            let page = board.store.entries(from, to).await?;
            board
                .integrate_committed(&page)
                .map_err(StartError::Inconsistent)?;
            from = to;
        }
        board.check_against(latest.as_ref(), size)?;
        write(&board.log).published = latest;
        board
            .metrics
            .log_size
            .set(i64::try_from(size).unwrap_or(i64::MAX));
        tracing::info!(
            size,
            backend = board.store.backend(),
            read_only = board.read_only,
            "board opened"
        );
        let board = Arc::new(board);
        tokio::spawn(commit::run(Arc::downgrade(&board), queue));
        Ok(board)
    }

    /// Checks the rebuilt tree against the stored checkpoint (size, root, signature).
    fn check_against(
        &self,
        checkpoint: Option<&StoredCheckpoint>,
        size: u64,
    ) -> Result<(), StartError> {
        let log = read(&self.log);
        if log.tree.size() != size {
            return Err(StartError::Inconsistent(format!(
                "{} leaves rebuilt for a head of {size}",
                log.tree.size()
            )));
        }
        let Some(cp) = checkpoint else {
            if size == 0 {
                return Ok(());
            }
            return Err(StartError::Inconsistent(format!(
                "{size} entries but no checkpoint"
            )));
        };
        if cp.size != size {
            return Err(StartError::Inconsistent(format!(
                "last checkpoint has size {}, the log {size}",
                cp.size
            )));
        }
        let root = log
            .tree
            .root_at(cp.size)
            .map_err(|e| StartError::Inconsistent(e.to_string()))?;
        if root != cp.root {
            return Err(StartError::Inconsistent(
                "the rebuilt tree's root differs from the last checkpoint's".into(),
            ));
        }
        let opened = Checkpoint::open(cp.note.as_bytes(), self.key.origin(), &self.key.verifier())
            .map_err(|e| {
                StartError::Inconsistent(format!(
                    "the last checkpoint does not open under this board's key \
                     (was the board key replaced?): {e}"
                ))
            })?;
        if opened.size() != cp.size || *opened.root() != cp.root {
            return Err(StartError::Inconsistent(
                "the last checkpoint's note differs from its stored size and root".into(),
            ));
        }
        Ok(())
    }

    /// Appends committed entries to the tree and the state.
    fn integrate_committed(&self, entries: &[StoredEntry]) -> Result<(), String> {
        let mut log = write(&self.log);
        let mut state = write(&self.state);
        for e in entries {
            if e.index != log.tree.size() {
                return Err(format!(
                    "entry {} follows a tree of {} leaves",
                    e.index,
                    log.tree.size()
                ));
            }
            if leaf_hash(&e.entry) != e.leaf_hash {
                return Err(format!("entry {}: stored leaf hash is wrong", e.index));
            }
            log.tree.append(e.leaf_hash).map_err(|e| e.to_string())?;
            state.apply_stored(e)?;
        }
        Ok(())
    }

    /// The board key.
    pub fn key(&self) -> &BoardKey {
        &self.key
    }

    /// The verifying keys.
    pub fn verifying_keys(&self) -> &VerifyingKeys {
        &self.vks
    }

    /// The Groth16 verifying key of an election, prepared: the one its manifest names,
    /// or its ceremony's from the `setup-keys` entry (PROTOCOL 14.10); `None` while the
    /// ceremony runs.
    pub fn election_verifying_key(
        &self,
        election: &ElectionState,
    ) -> Option<Arc<urna_circuits::PreparedVerifyingKey>> {
        match &election.setup {
            None => {
                let (vk_hash, _) = election.manifest.setup.fixed_keys()?;
                Some(self.vks.get(vk_hash)?.prepared.clone())
            }
            Some(s) => Some(s.keys.as_ref()?.prepared.clone()),
        }
    }

    /// The canonical bytes and hash of an election's verifying key (see
    /// [`Board::election_verifying_key`]).
    pub fn election_verifying_key_bytes(
        &self,
        election: &ElectionState,
    ) -> Option<(Arc<Vec<u8>>, [u8; 32])> {
        match &election.setup {
            None => {
                let (vk_hash, _) = election.manifest.setup.fixed_keys()?;
                Some((self.vks.get(vk_hash)?.bytes.clone(), *vk_hash))
            }
            Some(s) => {
                let k = s.keys.as_ref()?;
                Some((k.verifying_key.clone(), k.verifying_key_hash))
            }
        }
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The storage.
    pub fn store(&self) -> &Arc<dyn Storage> {
        &self.store
    }

    /// The server clock, now.
    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Catches up with entries other processes committed (multi-process PostgreSQL).
    pub async fn refresh(&self) -> Result<(), ApiError> {
        let Some(latest) = self.store.latest_checkpoint().await? else {
            return Ok(());
        };
        let known = read(&self.log).published.as_ref().map_or(0, |c| c.size);
        if latest.size <= known {
            return Ok(());
        }
        let stale = self.append.lock().await;
        if *stale {
            // The next append rebuilds; readers keep the committed view until then.
            return Ok(());
        }
        let have = read(&self.log).tree.size();
        if have < latest.size {
            let page = self.store.entries(have, latest.size).await?;
            self.integrate_committed(&page)
                .map_err(ApiError::Internal)?;
        }
        let mut log = write(&self.log);
        if log.published.as_ref().map_or(0, |c| c.size) < latest.size {
            log.published = Some(latest);
        }
        drop(stale);
        Ok(())
    }

    /// The latest published checkpoint note.
    pub fn checkpoint_note(&self) -> (u64, String) {
        let log = read(&self.log);
        match &log.published {
            Some(cp) => (cp.size, cp.note.clone()),
            None => (0, self.empty_checkpoint.clone()),
        }
    }

    /// The published size.
    pub fn size(&self) -> u64 {
        read(&self.log).published.as_ref().map_or(0, |c| c.size)
    }

    /// The receipt of the entry at `index` against the latest checkpoint.
    pub fn receipt(&self, index: u64) -> Result<Receipt, ApiError> {
        let log = read(&self.log);
        let cp = log
            .published
            .as_ref()
            .ok_or_else(|| ApiError::NotFound(format!("entry {index}")))?;
        Self::receipt_in(&log.tree, index, cp)
    }

    fn receipt_in(
        tree: &MerkleTree,
        index: u64,
        cp: &StoredCheckpoint,
    ) -> Result<Receipt, ApiError> {
        if index >= cp.size {
            return Err(ApiError::NotFound(format!("entry {index}")));
        }
        let proof = tree
            .inclusion_proof(index, cp.size)
            .map_err(ApiError::internal)?;
        let leaf = tree.leaf_hash(index).map_err(ApiError::internal)?;
        Ok(Receipt {
            index,
            leaf_hash: hex::encode(leaf.as_bytes()),
            tree_size: cp.size,
            inclusion_proof: hex_hashes(&proof),
            checkpoint: cp.note.clone(),
        })
    }

    /// The inclusion proof of `index` in the tree of `size` (which must be published).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<(Hash, Vec<Hash>), ApiError> {
        let log = read(&self.log);
        let published = log.published.as_ref().map_or(0, |c| c.size);
        if size > published {
            return Err(ApiError::BadParameter(format!(
                "size {size} is beyond the published size {published}"
            )));
        }
        if index >= size {
            return Err(ApiError::BadParameter(format!(
                "index {index} is not below size {size}"
            )));
        }
        let leaf = log.tree.leaf_hash(index).map_err(ApiError::internal)?;
        let proof = log
            .tree
            .inclusion_proof(index, size)
            .map_err(ApiError::internal)?;
        Ok((leaf, proof))
    }

    /// The consistency proof between published sizes `from <= to`.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, ApiError> {
        let log = read(&self.log);
        let published = log.published.as_ref().map_or(0, |c| c.size);
        if to > published || from > to {
            return Err(ApiError::BadParameter(format!(
                "need from <= to <= {published}, got {from} and {to}"
            )));
        }
        log.tree
            .consistency_proof(from, to)
            .map_err(ApiError::internal)
    }

    /// Runs `f` on an election's state.
    pub fn with_election<T>(
        &self,
        id: &[u8; 32],
        f: impl FnOnce(&ElectionState) -> T,
    ) -> Result<T, ApiError> {
        let state = read(&self.state);
        state
            .elections
            .get(id)
            .map(f)
            .ok_or(ApiError::UnknownElection)
    }

    /// Runs `f` on every election, in board order.
    pub fn elections<T>(&self, mut f: impl FnMut(&ElectionState) -> T) -> Vec<T> {
        let state = read(&self.state);
        state
            .order
            .iter()
            .filter_map(|id| state.elections.get(id))
            .map(&mut f)
            .collect()
    }

    /// The frozen census tree of an election.
    pub async fn census(&self, id: &[u8; 32]) -> Result<Arc<CensusTree>, ApiError> {
        let (cached, depth, leaves) = self.with_election(id, |e| {
            (
                e.census.clone(),
                e.manifest.census_depth,
                e.frozen.as_ref().map(|_| e.commitments.clone()),
            )
        })?;
        if let Some(tree) = cached {
            return Ok(tree);
        }
        let Some(leaves) = leaves else {
            return Err(ApiError::WrongPhase {
                phase: Phase::Setup.name(),
                reason: "the census is not frozen yet".into(),
            });
        };
        let tree = self
            .pool
            .run(move || CensusTree::from_leaves(depth, &leaves))
            .await?
            .map_err(ApiError::internal)?;
        let tree = Arc::new(tree);
        let mut state = write(&self.state);
        if let Some(e) = state.elections.get_mut(id) {
            e.census = Some(tree.clone());
        }
        Ok(tree)
    }

    /// A voter's census path, by identity commitment.
    pub async fn census_path(
        &self,
        id: &[u8; 32],
        commitment: &[u8; 32],
    ) -> Result<(u64, MerklePath), ApiError> {
        let position = self.with_election(id, |e| {
            e.commitments
                .iter()
                .position(|c| c.to_bytes() == *commitment)
        })?;
        let position =
            position.ok_or_else(|| ApiError::NotFound("identity commitment".into()))? as u64;
        let tree = self.census(id).await?;
        let path = tree.path(position).map_err(ApiError::internal)?;
        Ok((position, path))
    }

    // ---------------------------------------------------------------------------------
    // Submissions
    // ---------------------------------------------------------------------------------

    /// Submits an entry of kind `expected` (the endpoint's), for election `election`
    /// (the path's, if any), as its canonical bytes.
    pub async fn submit(
        &self,
        expected: EntryKind,
        election: Option<[u8; 32]>,
        bytes: Vec<u8>,
    ) -> Result<Submitted, ApiError> {
        if self.read_only {
            return Err(ApiError::ReadOnly);
        }
        let entry = BoardEntry::from_canonical_bytes(&bytes)?;
        if entry.kind() != expected {
            return Err(ApiError::WrongKind {
                expected: expected.name(),
                actual: entry.kind().name(),
            });
        }
        if let Some(id) = election {
            if entry.election_id().to_bytes() != id {
                return Err(ApiError::WrongElection);
            }
        }
        // A ballot skips the catch-up here: its append decides it against the committed
        // log (catching up first), and its cheap checks are repeated after a catch-up
        // if the local view refuses it (`cast_ballot_inner`).
        if !matches!(entry.payload(), Payload::Ballot(_)) {
            self.refresh().await?;
        }
        match entry.payload() {
            Payload::Manifest(_) => self.create_election(entry, bytes).await,
            Payload::Ballot(_) => self.cast_ballot(entry, bytes).await,
            Payload::Tally(_) => Err(ApiError::WrongKind {
                expected: "a client entry",
                actual: "tally",
            }),
            Payload::SetupKeys(_) => Err(ApiError::WrongKind {
                expected: "a client entry",
                actual: "setup-keys",
            }),
            Payload::SetupPhase1(_) | Payload::SetupPhase2(_) => {
                self.post_setup(entry, bytes).await
            }
            _ => self.post_entry(entry, bytes).await,
        }
    }

    async fn create_election(
        &self,
        entry: BoardEntry,
        bytes: Vec<u8>,
    ) -> Result<Submitted, ApiError> {
        let Payload::Manifest(m) = entry.payload() else {
            return Err(ApiError::internal("create_election without a manifest"));
        };
        m.validate()
            .map_err(|e| ApiError::InvalidManifest(e.to_string()))?;
        if m.board_key != self.key.public_key() {
            return Err(ApiError::WrongBoardKey);
        }
        if let Some((vk_hash, _)) = m.setup.fixed_keys() {
            if self.vks.get(vk_hash).is_none() {
                return Err(ApiError::UnknownVerifyingKey(hex::encode(vk_hash)));
            }
        }
        entry.verify_signature(m)?;
        ElectionState::new(m.clone(), 0).map_err(ApiError::InvalidManifest)?;
        let id = entry.election_id().to_bytes();
        let receipts = self
            .append(move |state, _now| {
                if state.elections.contains_key(&id) {
                    return Err(ApiError::ElectionExists);
                }
                Ok(Plan::Append(vec![(
                    entry.clone(),
                    bytes.clone(),
                    vec![Derived::Election],
                )]))
            })
            .await?;
        Self::submitted(receipts, None)
    }

    fn submitted(
        receipts: (Vec<Receipt>, bool),
        tracking_code: Option<String>,
    ) -> Result<Submitted, ApiError> {
        let (mut receipts, replayed) = receipts;
        if receipts.is_empty() {
            return Err(ApiError::internal("append produced no receipt"));
        }
        let receipt = receipts.remove(0);
        Ok(Submitted {
            receipt,
            replayed,
            tracking_code,
            appended_by_board: receipts,
        })
    }

    /// Signature and the fast-path decision, under the state lock; copies out only what
    /// the expensive checks of this kind need (never the whole election).
    fn precheck(&self, entry: &BoardEntry) -> Result<Pre, ApiError> {
        let state = read(&self.state);
        let election = state
            .elections
            .get(&entry.election_id().to_bytes())
            .ok_or(ApiError::UnknownElection)?;
        entry.verify_signature(&election.manifest)?;
        admit(election, entry, self.now())?;
        let mut pre = Pre {
            dkg: election.dkg.clone(),
            threshold: election.manifest.threshold as usize,
            depth: election.manifest.census_depth,
            accused: None,
            commitments: Vec::new(),
            keys: election.keys.clone(),
            shares: Vec::new(),
        };
        match entry.payload() {
            Payload::Complaint(c) => pre.accused = election.dealers.get(&c.accused()).cloned(),
            Payload::CensusFrozen { .. } => pre.commitments = election.commitments.clone(),
            Payload::DecryptionShares(_) => {
                pre.shares = election.shares.values().cloned().collect()
            }
            _ => {}
        }
        Ok(pre)
    }

    async fn post_entry(&self, entry: BoardEntry, bytes: Vec<u8>) -> Result<Submitted, ApiError> {
        let id = entry.election_id().to_bytes();
        let pre = self.precheck(&entry)?;
        let mut tally: Option<BoardEntry> = None;
        // The expensive checks, off the runtime.
        match entry.payload() {
            Payload::Dealer(d) => {
                let d = d.clone();
                let ctx = pre.dkg;
                self.pool.run(move || d.verify(&ctx)).await??;
            }
            Payload::Complaint(c) => {
                let c = *c;
                let ctx = pre.dkg;
                let accused = pre
                    .accused
                    .ok_or_else(|| ApiError::InvalidEntry("no such dealer".into()))?;
                self.pool.run(move || c.verify(&ctx, &accused)).await??;
            }
            Payload::CensusFrozen { root, .. } => {
                let depth = pre.depth;
                let leaves = pre.commitments;
                let tree = self
                    .pool
                    .run(move || CensusTree::from_leaves(depth, &leaves))
                    .await?
                    .map_err(ApiError::internal)?;
                if tree.root() != *root {
                    return Err(ApiError::CensusMismatch(
                        "the root is not the board's census root over the registrations".into(),
                    ));
                }
            }
            Payload::DecryptionShares(s) => {
                let keys = pre
                    .keys
                    .ok_or_else(|| ApiError::internal("closed election without keys"))?;
                let aggregate = self.aggregate(&id).await?;
                let s = s.clone();
                let (tctx, agg) = (keys.tally.clone(), aggregate.clone());
                self.pool.run(move || s.verify(&tctx, &agg)).await??;
                if pre.shares.len() + 1 == pre.threshold {
                    let mut shares = pre.shares;
                    shares.push(s_clone(&entry)?);
                    tally = Some(self.make_tally(&entry, keys, shares, aggregate).await?);
                }
            }
            _ => {}
        }
        let receipts = self
            .append(move |state, now| {
                let election = state.elections.get(&id).ok_or(ApiError::UnknownElection)?;
                let derived = match admit(election, &entry, now)? {
                    Admission::Append(d) => d,
                    Admission::Replay(i) => return Ok(Plan::Replay(i)),
                };
                let mut rows = vec![(entry.clone(), bytes.clone(), derived)];
                if let Payload::DecryptionShares(_) = entry.payload() {
                    let threshold = election.manifest.threshold as usize;
                    if election.shares.len() + 1 == threshold {
                        // Shares only grow and the count is unchanged since the tally
                        // was computed, so it was computed from these very shares.
                        let t = tally.clone().ok_or(ApiError::Conflict)?;
                        let b = t.to_canonical_bytes();
                        rows.push((t, b, Vec::new()));
                    }
                }
                Ok(Plan::Append(rows))
            })
            .await?;
        Self::submitted(receipts, None)
    }

    /// Computes, verifies and signs the tally from `shares` (the last one in `last`).
    async fn make_tally(
        &self,
        last: &BoardEntry,
        keys: Arc<state::ElectionKeys>,
        shares: Vec<TrusteeShares>,
        aggregate: Arc<Aggregate>,
    ) -> Result<BoardEntry, ApiError> {
        let result = self
            .pool
            .run(move || {
                let result = decrypt_tally(&keys.tally, &aggregate, &shares)?;
                let tally = Tally {
                    aggregate: (*aggregate).clone(),
                    result,
                };
                verify_tally(&keys.tally, &aggregate, &shares, &tally)?;
                Ok::<_, urna_protocol::VerificationError>(tally)
            })
            .await?
            .map_err(|e| ApiError::internal(format!("tally failed: {e}")))?;
        BoardEntry::signed(
            *last.election_id(),
            Payload::Tally(result),
            self.key.entry_signer(),
        )
        .map_err(ApiError::internal)
    }

    /// The aggregate of the ballots that count (the latest per nullifier) of a closed
    /// election; computed once.
    ///
    /// The computation reads every entry of the election and decodes the counted ballots
    /// in parallel (minutes for a million ballots on 2 cores). It runs as its own task,
    /// so a request that gives up (a client's timeout) does not cancel it: the result is
    /// kept for the next request. One computation runs at a time per election; requests
    /// that arrive meanwhile wait for it.
    pub async fn aggregate(&self, id: &[u8; 32]) -> Result<Arc<Aggregate>, ApiError> {
        let phase = self.with_election(id, |e| e.phase())?;
        if !matches!(phase, Phase::Closed | Phase::Tallied) {
            return Err(ApiError::WrongPhase {
                phase: phase.name(),
                reason: "the aggregate exists once voting closed".into(),
            });
        }
        let slot = self
            .aggregates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(*id)
            .or_default()
            .clone();
        if let Ok(kept) = slot.try_lock() {
            if let Some(a) = kept.as_ref() {
                return Ok(a.clone());
            }
        }
        let (counted, options) = self.with_election(id, |e| {
            (
                e.latest.values().copied().collect::<HashSet<u64>>(),
                e.manifest
                    .contests
                    .iter()
                    .map(|c| c.options.len())
                    .collect::<Vec<_>>(),
            )
        })?;
        let (store, pool, id_owned) = (self.store.clone(), self.pool.clone(), *id);
        let task = tokio::spawn(async move {
            let mut kept = slot.lock().await;
            if let Some(a) = kept.as_ref() {
                return Ok(a.clone());
            }
            let a = Arc::new(sum_counted(store, pool, id_owned, counted, options).await?);
            *kept = Some(a.clone());
            Ok::<_, ApiError>(a)
        });
        task.await.map_err(ApiError::internal)?
    }

    async fn cast_ballot(&self, entry: BoardEntry, bytes: Vec<u8>) -> Result<Submitted, ApiError> {
        let result = self.cast_ballot_inner(entry, bytes).await;
        match &result {
            Ok(s) if s.replayed => self.metrics.ballots_replayed.inc(),
            Ok(_) => self.metrics.ballots_accepted.inc(),
            Err(e) => self
                .metrics
                .ballots_rejected
                .with_label_values(&[e.code()])
                .inc(),
        }
        result
    }

    /// The cheap checks of a ballot against the local view of the board, and what its
    /// verification needs.
    fn ballot_precheck(&self, entry: &BoardEntry, id: &[u8; 32]) -> Result<BallotPre, ApiError> {
        let state = read(&self.state);
        let election = state.elections.get(id).ok_or(ApiError::UnknownElection)?;
        entry.verify_signature(&election.manifest)?;
        let admission = admit(election, entry, self.now())?;
        Ok((
            election.manifest.clone(),
            election.manifest_hash,
            election.keys.clone(),
            election.frozen.as_ref().map(|f| f.root),
            self.election_verifying_key(election),
            admission,
        ))
    }

    async fn cast_ballot_inner(
        &self,
        entry: BoardEntry,
        bytes: Vec<u8>,
    ) -> Result<Submitted, ApiError> {
        let Payload::Ballot(ballot) = entry.payload() else {
            return Err(ApiError::internal("cast_ballot without a ballot"));
        };
        let id = entry.election_id().to_bytes();
        // Cheap checks first: election, phase, window, census root, replay, re-use. The
        // local view may trail other processes sharing the database: what it refuses is
        // checked again after catching up (what it admits is decided again at append).
        let (manifest, manifest_hash, keys, frozen_root, vk, admission) =
            match self.ballot_precheck(&entry, &id) {
                Ok(pre) => pre,
                Err(_) => {
                    self.refresh().await?;
                    self.ballot_precheck(&entry, &id)?
                }
            };
        let tracking = Some(ballot.tracking_code(&manifest_hash).to_string());
        if let Admission::Replay(index) = admission {
            return Ok(Submitted {
                receipt: self.receipt(index)?,
                replayed: true,
                tracking_code: tracking,
                appended_by_board: Vec::new(),
            });
        }
        let keys = keys.ok_or(ApiError::VotingNotOpen)?;
        let frozen_root = frozen_root.ok_or(ApiError::VotingNotOpen)?;
        let vk = vk.ok_or_else(|| ApiError::internal("election without its verifying key"))?;
        // The proofs, off the runtime, batched with concurrent submissions.
        let started = Instant::now();
        let verdict = self
            .ballots
            .verify(
                ballot.clone(),
                batch::BallotContext {
                    election: id,
                    manifest,
                    public_key: keys.public_key,
                    pvk: vk,
                    root: frozen_root,
                },
            )
            .await?;
        self.metrics
            .ballot_verification_seconds
            .observe(started.elapsed().as_secs_f64());
        verdict.map_err(map_ballot_error)?;
        let receipts = self
            .enqueue(commit::Work::Ballot {
                election: id,
                entry: Box::new(entry),
                bytes,
            })
            .await?;
        Self::submitted(receipts, tracking)
    }

    // ---------------------------------------------------------------------------------
    // Sequence, integrate, publish
    // ---------------------------------------------------------------------------------

    /// Appends what `decide` plans, under the sequencer lock (a commit group of one).
    /// Returns the receipts and whether the answer is a replay.
    async fn append<F>(&self, decide: F) -> Result<(Vec<Receipt>, bool), ApiError>
    where
        F: FnOnce(&BoardState, u64) -> Result<Plan, ApiError> + Send + 'static,
    {
        self.enqueue(commit::Work::Other(Box::new(decide))).await
    }

    /// Queues `work` for the appender and waits for its answer.
    async fn enqueue(&self, work: commit::Work) -> Result<(Vec<Receipt>, bool), ApiError> {
        // Every append passes here: a replica never reaches the sequencer lock.
        if self.read_only {
            return Err(ApiError::ReadOnly);
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.appender
            .send(commit::Request { work, reply })
            .await
            .map_err(|_| ApiError::internal("the appender stopped"))?;
        answer
            .await
            .map_err(|_| ApiError::internal("the appender dropped a request"))?
    }

    /// Integrates the new leaves and signs the checkpoint of the new size, refusing if
    /// it would not extend the last published checkpoint.
    fn integrate_and_sign(&self, entries: &[NewEntry]) -> Result<StoredCheckpoint, ApiError> {
        let mut log = write(&self.log);
        for e in entries {
            let index = log
                .tree
                .append(e.entry.leaf_hash)
                .map_err(ApiError::internal)?;
            if index != e.entry.index {
                return Err(ApiError::internal(format!(
                    "sequenced at {} but integrated at {index}",
                    e.entry.index
                )));
            }
        }
        let size = log.tree.size();
        let root = log.tree.root().map_err(ApiError::internal)?;
        if let Some(prev) = &log.published {
            let proof = log
                .tree
                .consistency_proof(prev.size, size)
                .map_err(ApiError::internal)?;
            verify_consistency(prev.size, size, &prev.root, &root, &proof).map_err(|e| {
                ApiError::internal(format!("refusing to sign an inconsistent checkpoint: {e}"))
            })?;
        }
        let note = Checkpoint::new(self.key.origin(), size, root)
            .and_then(|c| c.sign(self.key.note_signer()))
            .map_err(ApiError::internal)?;
        Ok(StoredCheckpoint { size, root, note })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn full_pool_answers_overloaded() {
        let pool = Arc::new(CpuPool::new(1, 1));
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let busy = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(move || wait.recv().is_ok()).await })
        };
        // Wait until the first job holds the only queue slot.
        while pool.queue.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let err = pool.run(|| ()).await.unwrap_err();
        assert!(matches!(err, ApiError::Overloaded { .. }));
        let response = err.into_response();
        assert_eq!(
            response.status(),
            axum::http::StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(response.headers()["retry-after"], "1");
        release.send(()).unwrap();
        assert!(busy.await.unwrap().unwrap());
        assert_eq!(pool.run(|| 5).await.unwrap(), 5);
    }
}
