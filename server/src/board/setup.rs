//! The setup ceremony on the board (PROTOCOL 14.10): contributions verified and
//! appended in order, the `setup-keys` entry after the phase-2 beacon, what a contributor
//! downloads, and the proving key voters use.
//!
//! The election state (`state::SetupProgress`) holds only the hash chain and the order
//! rules, rebuilt from the log like everything else. The parameters a contribution is
//! checked against (megabytes) live here, one [`CeremonyWork`] per election behind an
//! async mutex that also serialises the election's contributions in this process. They
//! are rebuilt on demand from the stored entries ([`Board::catch_up`]): after a restart,
//! or when another process sharing the database appended a contribution. Every
//! contribution, including those replayed from storage, goes through the full checks.

use std::sync::Arc;

use rand_core::OsRng;
use urna_ceremony::{CeremonyError, CeremonyState, Stage};
use urna_protocol::board::{BoardEntry, EntryKind, Payload, SetupKeys};
use urna_protocol::codec::Canonical;

use super::{read, Board, Plan, Submitted, MAX_PAGE};
use crate::error::ApiError;
use crate::keys::ServedProvingKey;

/// The heavy state of one election's ceremony.
pub(super) struct CeremonyWork {
    /// The parameters and chain, as far as they were fed.
    state: CeremonyState,
    /// The derived proving key's bytes, once closed (served to voters).
    proving_key: Option<Arc<ServedProvingKey>>,
}

/// The per-election handle: an async mutex, so a contribution is checked against the
/// state it will extend, and appended before the next one is checked.
pub(super) type CeremonyHandle = Arc<tokio::sync::Mutex<Option<CeremonyWork>>>;

fn ceremony_error(e: CeremonyError) -> ApiError {
    ApiError::InvalidEntry(format!("setup contribution: {e}"))
}

impl Board {
    /// The election's ceremony handle (created empty on first use).
    fn ceremony_handle(&self, id: &[u8; 32]) -> CeremonyHandle {
        let mut map = self.ceremonies.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(*id).or_default().clone()
    }

    /// Brings `work` up to the contributions committed on the board, verifying each one
    /// read from storage. Creates the state on first use.
    async fn catch_up(
        &self,
        id: &[u8; 32],
        work: &mut Option<CeremonyWork>,
    ) -> Result<(), ApiError> {
        let (committed, depth) = self.with_election(id, |e| {
            (
                e.setup.as_ref().map(|s| s.chain.counts()),
                e.manifest.census_depth,
            )
        })?;
        let Some(committed) = committed else {
            return Err(ApiError::WrongPhase {
                phase: "setup",
                reason: "the election's keys are fixed by its manifest: it has no ceremony".into(),
            });
        };
        if work.is_none() {
            let state = CeremonyState::new(*id, depth).map_err(ApiError::internal)?;
            *work = Some(CeremonyWork {
                state,
                proving_key: None,
            });
        }
        let Some(w) = work.as_mut() else {
            return Err(ApiError::internal("ceremony state missing"));
        };
        if w.state.counts() == committed {
            return Ok(());
        }
        // Replay the election's contributions from storage, skipping those applied.
        let (mut seen1, mut seen2) = (0usize, 0usize);
        let (have1, have2) = w.state.counts();
        let mut from = 0;
        let mut state = w.state.clone();
        loop {
            let page = self
                .store
                .election_entries(*id, from, MAX_PAGE as u32)
                .await?;
            let Some(last) = page.last() else { break };
            from = last.index + 1;
            let mut todo = Vec::new();
            for row in page {
                let phase1 = row.kind == EntryKind::SetupPhase1 as u8;
                let phase2 = row.kind == EntryKind::SetupPhase2 as u8;
                if !(phase1 || phase2) {
                    continue;
                }
                let skip = if phase1 {
                    seen1 += 1;
                    seen1 <= have1
                } else {
                    seen2 += 1;
                    seen2 <= have2
                };
                if !skip {
                    todo.push(row);
                }
            }
            if todo.is_empty() {
                continue;
            }
            state = self
                .pool
                .run(move || {
                    let mut state = state;
                    for row in &todo {
                        let entry = BoardEntry::from_canonical_bytes(&row.entry)
                            .map_err(|e| format!("entry {}: {e}", row.index))?;
                        let result = match entry.payload() {
                            Payload::SetupPhase1(c) => state.add_phase1(&c.data, &mut OsRng),
                            Payload::SetupPhase2(c) => state.add_phase2(&c.data, &mut OsRng),
                            _ => continue,
                        };
                        result.map_err(|e| format!("entry {}: {e}", row.index))?;
                    }
                    Ok::<_, String>(state)
                })
                .await?
                .map_err(|e| ApiError::internal(format!("replaying the setup ceremony: {e}")))?;
        }
        w.state = state;
        Ok(())
    }

    /// Verifies a `setup-phase1` or `setup-phase2` entry against the election's ceremony
    /// and appends it; after the phase-2 beacon, appends the board's `setup-keys` entry
    /// with it (PROTOCOL 14.10).
    pub(super) async fn post_setup(
        &self,
        entry: BoardEntry,
        bytes: Vec<u8>,
    ) -> Result<Submitted, ApiError> {
        let id = entry.election_id().to_bytes();
        // Signature, phase, order, signer of a beacon: fast, before any point is read.
        self.precheck(&entry)?;
        let (phase1, data) = match entry.payload() {
            Payload::SetupPhase1(c) => (true, c.data.clone()),
            Payload::SetupPhase2(c) => (false, c.data.clone()),
            _ => return Err(ApiError::internal("post_setup without a contribution")),
        };
        let handle = self.ceremony_handle(&id);
        let mut guard = handle.lock().await;
        self.catch_up(&id, &mut guard).await?;
        let Some(work) = guard.as_ref() else {
            return Err(ApiError::internal("ceremony state missing"));
        };
        let before = work.state.hash();
        let state = work.state.clone();
        // PROTOCOL 14.10 rule 4, off the runtime; a phase-2 beacon also derives the keys.
        let (state, accepted, keys) = self
            .pool
            .run(move || {
                let mut state = state;
                let accepted = if phase1 {
                    state.add_phase1(&data, &mut OsRng)
                } else {
                    state.add_phase2(&data, &mut OsRng)
                }
                .map_err(ceremony_error)?;
                let keys = if state.stage() == Stage::Closed {
                    let (pk, vk) = state.keys().map_err(ApiError::internal)?;
                    let pk_bytes = pk.to_bytes().map_err(ApiError::internal)?;
                    Some((vk, pk_bytes))
                } else {
                    None
                };
                Ok::<_, ApiError>((state, accepted, keys))
            })
            .await??;
        let (keys_entry, proving_key) = match keys {
            Some((vk, pk_bytes)) => {
                let served = ServedProvingKey::new(pk_bytes);
                let payload = Payload::SetupKeys(SetupKeys {
                    verifying_key: vk,
                    proving_key_hash: served.sha256,
                    transcript_hash: state.hash(),
                });
                let signed =
                    BoardEntry::signed(*entry.election_id(), payload, self.key.entry_signer())
                        .map_err(ApiError::internal)?;
                (Some(signed), Some(Arc::new(served)))
            }
            None => (None, None),
        };
        let receipts = self
            .append(move |board, now| {
                let election = board.elections.get(&id).ok_or(ApiError::UnknownElection)?;
                let derived = match super::rules::admit(election, &entry, now)? {
                    super::rules::Admission::Append(d) => d,
                    super::rules::Admission::Replay(i) => return Ok(Plan::Replay(i)),
                };
                // Another process may have extended the ceremony since the check.
                let current = election.setup.as_ref().map(|s| s.chain.hash());
                if current != Some(before) {
                    return Err(ApiError::Conflict);
                }
                let mut rows = vec![(entry.clone(), bytes.clone(), derived)];
                if let Some(k) = &keys_entry {
                    rows.push((k.clone(), k.to_canonical_bytes(), Vec::new()));
                }
                Ok(Plan::Append(rows))
            })
            .await?;
        if let Some(work) = guard.as_mut() {
            work.state = state;
            work.proving_key = proving_key;
        }
        drop(guard);
        if phase1 && accepted.beacon {
            self.derive_phase2_later(id);
        }
        Self::submitted(receipts, None)
    }

    /// Derives the initial phase-2 parameters in the background once phase 1 closed
    /// (the expensive step, PROTOCOL 14.4), so the first phase-2 contributor does not
    /// wait for it. Failures are logged; the next request derives again.
    fn derive_phase2_later(&self, id: [u8; 32]) {
        let handle = self.ceremony_handle(&id);
        let pool_permit = self.pool.clone();
        tokio::spawn(async move {
            let mut guard = handle.lock().await;
            let Some(work) = guard.take() else { return };
            if !work.state.needs_phase2_derivation() {
                *guard = Some(work);
                return;
            }
            let mut state = work.state.clone();
            let derived = pool_permit
                .run(move || state.derive_phase2().map(|()| state))
                .await;
            match derived {
                Ok(Ok(state)) => {
                    *guard = Some(CeremonyWork {
                        state,
                        proving_key: work.proving_key,
                    })
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "deriving the phase-2 parameters failed");
                    *guard = Some(work);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "phase-2 derivation deferred to the next request");
                    *guard = Some(work);
                }
            }
        });
    }

    /// What the next contributor of election `id` downloads (PROTOCOL 14.10,
    /// `ContributionState`), deriving the phase-2 parameters first if needed.
    pub async fn setup_state(&self, id: &[u8; 32]) -> Result<Vec<u8>, ApiError> {
        self.refresh().await?;
        let handle = self.ceremony_handle(id);
        let mut guard = handle.lock().await;
        self.catch_up(id, &mut guard).await?;
        let Some(work) = guard.as_mut() else {
            return Err(ApiError::internal("ceremony state missing"));
        };
        if work.state.stage() == Stage::Closed {
            return Err(ApiError::WrongPhase {
                phase: "setup",
                reason: "the setup ceremony is closed".into(),
            });
        }
        let mut state = work.state.clone();
        let (state, bytes) = self
            .pool
            .run(move || {
                state.derive_phase2().or_else(|e| match e {
                    CeremonyError::NotClosed { .. } => Ok(()),
                    other => Err(other),
                })?;
                let bytes = state
                    .contribution_state()?
                    .map(|s| s.to_bytes())
                    .unwrap_or_default();
                Ok::<_, CeremonyError>((state, bytes))
            })
            .await?
            .map_err(ApiError::internal)?;
        work.state = state;
        Ok(bytes)
    }

    /// The proving key of the ceremony election whose setup-keys entry names verifying
    /// key `vk_hash`, derived from the ceremony if this process has not yet (after a
    /// restart that replays every contribution: slow, once).
    pub async fn ceremony_proving_key(
        &self,
        vk_hash: &[u8; 32],
    ) -> Result<Option<Arc<ServedProvingKey>>, ApiError> {
        self.refresh().await?;
        let found = {
            let state = read(&self.state);
            state.elections.iter().find_map(|(id, e)| {
                let keys = e.setup.as_ref()?.keys.as_ref()?;
                (keys.verifying_key_hash == *vk_hash).then_some((*id, keys.proving_key_hash))
            })
        };
        let Some((id, pk_hash)) = found else {
            return Ok(None);
        };
        let handle = self.ceremony_handle(&id);
        let mut guard = handle.lock().await;
        if let Some(pk) = guard.as_ref().and_then(|w| w.proving_key.clone()) {
            return Ok(Some(pk));
        }
        self.catch_up(&id, &mut guard).await?;
        let Some(work) = guard.as_mut() else {
            return Err(ApiError::internal("ceremony state missing"));
        };
        let state = work.state.clone();
        let bytes = self
            .pool
            .run(move || {
                let (pk, _) = state.keys()?;
                pk.to_bytes().map_err(CeremonyError::from)
            })
            .await?
            .map_err(ApiError::internal)?;
        let served = Arc::new(ServedProvingKey::new(bytes));
        if served.sha256 != pk_hash {
            return Err(ApiError::internal(
                "the proving key derived from the ceremony is not the one its setup-keys entry names",
            ));
        }
        work.proving_key = Some(served.clone());
        Ok(Some(served))
    }
}
