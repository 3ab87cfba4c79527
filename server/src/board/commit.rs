//! Group commit: the board's one appender.
//!
//! Every append request — a verified ballot, or the decision function of any other
//! entry — goes to one queue. A single task per board takes whatever is queued and
//! appends it as one *group*: one storage transaction, one signed checkpoint, one commit
//! (one fsync), then an answer to each request. Ballots queue up while the previous
//! group commits, so under load a group holds many ballots; when the board is idle a
//! lone ballot is committed at once, without waiting for company.
//!
//! # Decisions inside a group
//!
//! Only ballots share a group (up to [`MAX_GROUP`]); every other entry kind is a group
//! of one. Each ballot is decided in queue order against the committed state and the
//! ballots admitted before it in the group ([`rules::admit_in_group`]), which gives the
//! same answers as appending them one at a time: a second ballot with the nullifier and
//! digest of an earlier one in the group is a replay of it, a ciphertext already cast in
//! the group under another nullifier is rejected. A rejected ballot gets its own error
//! and does not affect the others.
//!
//! # Failures
//!
//! If storage fails (or anything after the leaves were integrated into the tree), the
//! whole group fails: no request in it is acknowledged, and the in-memory state is
//! marked stale and rebuilt from storage before the next group, so the tree and the
//! stored log always agree.
//!
//! The appender runs as its own task, so a client that disconnects while its ballot is
//! being committed cannot cancel the commit half-way for the others.

use std::collections::HashMap;
use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::sync::Weak;
use std::time::Instant;

use futures_util::FutureExt as _;
use tokio::sync::{mpsc, oneshot};
use urna_log::{leaf_hash, MerkleTree};
use urna_protocol::board::BoardEntry;

use super::rules::{self, Admission, GroupBallots};
use super::state::BoardState;
use super::{read, write, Board, LogInner, Plan, Receipt};
use crate::error::ApiError;
use crate::storage::{Derived, NewEntry, StoredEntry};

/// Most ballots committed in one group.
pub const MAX_GROUP: usize = 256;

/// Requests the queue holds before submitters wait for room.
pub(super) const QUEUE: usize = 4 * MAX_GROUP;

/// A decision function for a non-ballot entry: given the state under the sequencer lock
/// and the server clock, what to append.
pub(super) type Decide = Box<dyn FnOnce(&BoardState, u64) -> Result<Plan, ApiError> + Send>;

/// What one request asks the appender to do.
pub(super) enum Work {
    /// A ballot whose proofs verified: decided against the state and the ballots before
    /// it in its group.
    Ballot {
        /// Its election id.
        election: [u8; 32],
        /// The entry (boxed: it is large beside the other variant).
        entry: Box<BoardEntry>,
        /// Its canonical bytes.
        bytes: Vec<u8>,
    },
    /// Any other entry: decided alone.
    Other(Decide),
}

/// The answer to one request: its receipts (the entry's first, then what the board
/// appended with it) and whether it is a replay.
pub(super) type Answer = Result<(Vec<Receipt>, bool), ApiError>;

/// One queued request.
pub(super) struct Request {
    pub(super) work: Work,
    pub(super) reply: oneshot::Sender<Answer>,
}

impl Request {
    fn is_ballot(&self) -> bool {
        matches!(self.work, Work::Ballot { .. })
    }
}

/// The appender's loop: takes a group from the queue, commits it, answers. Stops when
/// the board is dropped (its sender closes the queue).
pub(super) async fn run(board: Weak<Board>, mut queue: mpsc::Receiver<Request>) {
    let mut carried: Option<Request> = None;
    loop {
        let first = match carried.take() {
            Some(r) => r,
            None => match queue.recv().await {
                Some(r) => r,
                None => return,
            },
        };
        let mut group = vec![first];
        if group[0].is_ballot() {
            while group.len() < MAX_GROUP {
                match queue.try_recv() {
                    Ok(r) if r.is_ballot() => group.push(r),
                    Ok(r) => {
                        // Another kind ends the group; it is the next group, alone.
                        carried = Some(r);
                        break;
                    }
                    Err(_) => break,
                }
            }
        }
        let Some(board) = board.upgrade() else {
            return;
        };
        // A panic must not stop the board's only appender: the group's waiters get an
        // error (their reply channels are dropped), the state is rebuilt from storage
        // before the next group, and the appender goes on.
        let committed = AssertUnwindSafe(board.commit_group(group))
            .catch_unwind()
            .await;
        if committed.is_err() {
            tracing::error!("a group commit panicked; its requests were not acknowledged");
            *board.append.lock().await = true;
        }
    }
}

/// What became of one request of a group while deciding.
enum Outcome {
    /// Its rows are `rows[range]`.
    Appended(Range<usize>),
    /// It is the entry already at this index.
    Replay(u64),
    /// It was refused.
    Rejected(ApiError),
}

/// An error for every waiter of a failed group: the same status and code, without
/// needing `ApiError: Clone`.
fn group_error(e: &ApiError) -> ApiError {
    match e {
        ApiError::Conflict => ApiError::Conflict,
        ApiError::Overloaded { retry_after } => ApiError::Overloaded {
            retry_after: *retry_after,
        },
        other => ApiError::Internal(other.to_string()),
    }
}

impl Board {
    /// Commits one group and answers each of its requests.
    async fn commit_group(&self, group: Vec<Request>) {
        self.metrics.append_group_size.observe(group.len() as f64);
        let (works, replies): (Vec<Work>, Vec<oneshot::Sender<Answer>>) =
            group.into_iter().map(|r| (r.work, r.reply)).unzip();
        match self.append_group(works).await {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    // The submitter may have gone away; its entry is on the board anyway.
                    let _ = reply.send(answer);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, size = replies.len(), "group commit failed");
                for reply in replies {
                    let _ = reply.send(Err(group_error(&e)));
                }
            }
        }
    }

    /// Locks the sequencer, catches up, decides each request of the group in order,
    /// sequences, integrates and publishes the group's rows, and commits them in one
    /// transaction. `Err` fails the whole group; `Ok` has one answer per request.
    async fn append_group(&self, works: Vec<Work>) -> Result<Vec<Answer>, ApiError> {
        let mut stale = self.append.lock().await;
        let mut tx = self.store.begin_append().await?;
        // Catch up (or rebuild after a failed append).
        if *stale {
            let all = tx.entries_from(0).await?;
            *write(&self.log) = LogInner {
                tree: MerkleTree::new(),
                published: None,
            };
            *write(&self.state) = BoardState::default();
            self.integrate_committed(&all).map_err(ApiError::Internal)?;
            *stale = false;
        } else {
            let have = read(&self.log).tree.size();
            if have < tx.size() {
                let page = tx.entries_from(have).await?;
                if let Err(e) = self.integrate_committed(&page) {
                    *stale = true;
                    return Err(ApiError::Internal(e));
                }
            } else if have > tx.size() {
                *stale = true;
                return Err(ApiError::internal("tree ahead of the stored log"));
            }
        }
        if tx.size() > 0 {
            let latest = tx.latest_checkpoint().await?;
            let mut log = write(&self.log);
            if log.published.as_ref().map_or(0, |c| c.size) < latest.as_ref().map_or(0, |c| c.size)
            {
                log.published = latest;
            }
        }
        // Decide, in queue order, each against the state and the group before it.
        let base = tx.size();
        let now = self.now();
        let mut rows: Vec<(BoardEntry, Vec<u8>, Vec<Derived>)> = Vec::new();
        let mut outcomes = Vec::with_capacity(works.len());
        {
            let state = read(&self.state);
            let mut group: HashMap<[u8; 32], GroupBallots> = HashMap::new();
            for work in works {
                let outcome = match work {
                    Work::Ballot {
                        election,
                        entry,
                        bytes,
                    } => match state.elections.get(&election) {
                        None => Outcome::Rejected(ApiError::UnknownElection),
                        Some(e) => {
                            let pending = group.entry(election).or_default();
                            match rules::admit_in_group(e, pending, &entry, now) {
                                Ok(Admission::Replay(i)) => Outcome::Replay(i),
                                Ok(Admission::Append(derived)) => {
                                    let k = rows.len();
                                    pending.record(e, base + k as u64, &derived);
                                    rows.push((*entry, bytes, derived));
                                    Outcome::Appended(k..k + 1)
                                }
                                Err(err) => Outcome::Rejected(err),
                            }
                        }
                    },
                    // The grouping in `run` keeps these alone in their group.
                    Work::Other(decide) => match decide(&state, now) {
                        Ok(Plan::Replay(i)) => Outcome::Replay(i),
                        Ok(Plan::Append(r)) => {
                            let k = rows.len();
                            rows.extend(r);
                            Outcome::Appended(k..rows.len())
                        }
                        Err(err) => Outcome::Rejected(err),
                    },
                };
                outcomes.push(outcome);
            }
        }
        if rows.is_empty() {
            // Nothing to append: replays answer against the latest checkpoint.
            drop(tx);
            return Ok(outcomes
                .into_iter()
                .map(|o| match o {
                    Outcome::Replay(i) => Ok((vec![self.receipt(i)?], true)),
                    Outcome::Rejected(e) => Err(e),
                    Outcome::Appended(_) => Err(ApiError::internal("appended without rows")),
                })
                .collect());
        }
        // Sequence.
        let mut new_entries = Vec::with_capacity(rows.len());
        for (k, (entry, bytes, derived)) in rows.iter().enumerate() {
            new_entries.push(NewEntry {
                entry: StoredEntry {
                    index: base + k as u64,
                    election_id: entry.election_id().to_bytes(),
                    kind: entry.kind() as u8,
                    leaf_hash: leaf_hash(bytes),
                    entry: bytes.clone(),
                },
                derived: derived.clone(),
            });
        }
        // Integrate and publish.
        let checkpoint = match self.integrate_and_sign(&new_entries) {
            Ok(cp) => cp,
            Err(e) => {
                *stale = true;
                return Err(e);
            }
        };
        // Commit: one transaction, one fsync, for the whole group.
        let started = Instant::now();
        let stored = async {
            tx.append(new_entries, checkpoint.clone()).await?;
            tx.commit().await
        }
        .await;
        self.metrics
            .append_commit_seconds
            .observe(started.elapsed().as_secs_f64());
        if let Err(e) = stored {
            *stale = true;
            return Err(e.into());
        }
        // Acknowledge: the state follows the committed log.
        {
            let mut state = write(&self.state);
            for (k, (entry, _, _)) in rows.iter().enumerate() {
                if let Err(e) = state.apply(base + k as u64, entry) {
                    *stale = true;
                    tracing::error!(error = %e, "applying a committed entry failed");
                }
            }
        }
        let mut answers = Vec::with_capacity(outcomes.len());
        {
            let mut log = write(&self.log);
            log.published = Some(checkpoint.clone());
            for outcome in outcomes {
                answers.push(match outcome {
                    Outcome::Appended(range) => range
                        .map(|k| Self::receipt_in(&log.tree, base + k as u64, &checkpoint))
                        .collect::<Result<Vec<_>, _>>()
                        .map(|r| (r, false)),
                    Outcome::Replay(i) => {
                        Self::receipt_in(&log.tree, i, &checkpoint).map(|r| (vec![r], true))
                    }
                    Outcome::Rejected(e) => Err(e),
                });
            }
        }
        for (entry, _, _) in &rows {
            self.metrics
                .entries_appended
                .with_label_values(&[entry.kind().name()])
                .inc();
        }
        self.metrics
            .log_size
            .set(i64::try_from(checkpoint.size).unwrap_or(i64::MAX));
        drop(stale);
        Ok(answers)
    }
}
