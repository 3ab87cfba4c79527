//! Batched ballot verification off the async runtime.
//!
//! Submissions queue their ballot on a bounded channel (full: `overloaded`, 503). A few
//! worker tasks each take whatever is queued — up to [`MAX_BATCH`] ballots — group it by
//! election, and verify each group in one call of `verify_ballots` on the blocking pool:
//! the validity proofs of the batch in one multiscalar multiplication and the Groth16
//! proofs in one batched pairing check, falling back to ballot-by-ballot checks to name
//! the failures. Under load, concurrent submissions therefore share pairings; alone, a
//! ballot is verified at once.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Mutex};
use urna_circuits::{CensusRoot, PreparedVerifyingKey};
use urna_protocol::ballot::{verify_ballots, Ballot};
use urna_protocol::elgamal::ElectionPublicKey;
use urna_protocol::manifest::Manifest;
use urna_protocol::VerificationError;

use crate::error::ApiError;

/// Most ballots verified in one batch.
pub const MAX_BATCH: usize = 32;

/// What a ballot of one election is verified against (fixed once voting opened).
#[derive(Clone, Debug)]
pub struct BallotContext {
    /// The election id.
    pub election: [u8; 32],
    /// The manifest.
    pub manifest: Arc<Manifest>,
    /// The election public key.
    pub public_key: ElectionPublicKey,
    /// The manifest's verifying key.
    pub pvk: Arc<PreparedVerifyingKey>,
    /// The frozen census root.
    pub root: CensusRoot,
}

struct Job {
    ballot: Ballot,
    ctx: BallotContext,
    reply: oneshot::Sender<Result<(), VerificationError>>,
}

/// The batching verifier.
pub struct Batcher {
    queue: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("capacity", &self.queue.capacity())
            .finish()
    }
}

impl Batcher {
    /// Starts `workers` worker tasks with a queue of `capacity` ballots. Must be called
    /// inside a Tokio runtime; the workers stop when the batcher is dropped.
    pub fn start(workers: usize, capacity: usize, batch_sizes: prometheus::Histogram) -> Self {
        let (queue, rx) = mpsc::channel::<Job>(capacity.max(1));
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..workers.max(1) {
            tokio::spawn(worker(rx.clone(), batch_sizes.clone()));
        }
        Self { queue }
    }

    /// Verifies one ballot (validity and eligibility), batched with whatever else is
    /// queued. `Err(ApiError::Overloaded)` when the queue is full.
    pub async fn verify(
        &self,
        ballot: Ballot,
        ctx: BallotContext,
    ) -> Result<Result<(), VerificationError>, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .try_send(Job { ballot, ctx, reply })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => ApiError::Overloaded { retry_after: 1 },
                mpsc::error::TrySendError::Closed(_) => ApiError::internal("verifier stopped"),
            })?;
        answer
            .await
            .map_err(|_| ApiError::internal("verifier dropped a ballot"))
    }
}

async fn worker(rx: Arc<Mutex<mpsc::Receiver<Job>>>, batch_sizes: prometheus::Histogram) {
    loop {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        {
            let mut rx = rx.lock().await;
            match rx.recv().await {
                Some(job) => jobs.push(job),
                None => return,
            }
            while jobs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
        }
        let mut groups: BTreeMap<[u8; 32], Vec<Job>> = BTreeMap::new();
        for job in jobs {
            groups.entry(job.ctx.election).or_default().push(job);
        }
        for (_, group) in groups {
            batch_sizes.observe(group.len() as f64);
            let done = tokio::task::spawn_blocking(move || verify_group(group)).await;
            if let Err(e) = done {
                tracing::error!(error = %e, "ballot verification task failed");
            }
        }
    }
}

fn verify_group(group: Vec<Job>) {
    let Some(ctx) = group.first().map(|j| j.ctx.clone()) else {
        return;
    };
    let (ballots, replies): (Vec<Ballot>, Vec<_>) =
        group.into_iter().map(|j| (j.ballot, j.reply)).unzip();
    let mut rng = rand::rngs::OsRng;
    let verdict = verify_ballots(
        &ballots,
        &ctx.manifest,
        &ctx.public_key,
        &ctx.pvk,
        &ctx.root,
        &mut rng,
    );
    let mut failures: BTreeMap<usize, VerificationError> = BTreeMap::new();
    if let Err(list) = verdict {
        for (i, e) in list {
            failures.entry(i).or_insert(e);
        }
    }
    for (i, reply) in replies.into_iter().enumerate() {
        let answer = match failures.remove(&i) {
            Some(e) => Err(e),
            None => Ok(()),
        };
        // The submitter may have gone away; nothing to do then.
        let _ = reply.send(answer);
    }
}
