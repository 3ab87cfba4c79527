//! The Groth16 setup ceremony on the board (PROTOCOL 14.10), checked in the second pass.
//!
//! An election whose manifest's setup is `Ceremony` runs a two-phase multi-party
//! ceremony (PROTOCOL §14) as `setup-phase1` and `setup-phase2` entries, closed by the
//! board's `setup-keys` entry. The verifier feeds every contribution, in log order, to
//! the same incremental state the board uses ([`CeremonyState`]), so every contribution
//! is verified from the generators on and nothing is taken from the board's word; after
//! the phase-2 beacon it derives the keys itself and requires the `setup-keys` entry,
//! the election's next entry, to be exactly those keys and the final transcript hash.
//!
//! Memory: one [`CeremonyState`] (the current parameters of each phase, never the
//! transcript), dropped once the keys are derived, and a small record per contribution
//! for the report.

use rand_core::OsRng;
use urna_ceremony::{CeremonyError, CeremonyState, Stage};
use urna_circuits::{PreparedVerifyingKey, VerifyingKey};
use urna_protocol::board::{EntryKind, SetupContribution, SetupKeys};
use urna_protocol::manifest::Manifest;

use crate::error::VerifyError;
use crate::export::HeaderKey;
use crate::report::{CeremonyReport, ContributionReport};

/// The contributor index of the election authority, the only one who posts beacons
/// (PROTOCOL 14.10 rule 3).
const AUTHORITY: u32 = 0;

/// The first byte of a contribution's canonical encoding is its kind (PROTOCOL 14.7:
/// `kind = 0x00 | 0x01 ‖ …`, random | beacon).
const BEACON_KIND: u8 = 0x01;

/// What the closed ceremony derives (PROTOCOL 14.8), until the `setup-keys` entry.
struct Derived {
    /// Log index of the phase-2 beacon that closed the ceremony.
    beacon: u64,
    verifying_key: VerifyingKey,
    proving_key_hash: [u8; 32],
    transcript_hash: [u8; 32],
}

/// The ceremony's `setup-keys` entry, checked.
struct Fixed {
    index: u64,
    verifying_key_hash: [u8; 32],
    proving_key_hash: [u8; 32],
    transcript_hash: [u8; 32],
}

/// A ceremony election's setup, as far as the board has gone.
pub(crate) struct Ceremony {
    /// The incremental state while the ceremony is open; dropped once it is closed.
    state: Option<CeremonyState>,
    /// Where the ceremony stands.
    stage: Stage,
    /// One record per contribution, for the report.
    contributions: Vec<ContributionReport>,
    /// The derived keys, between the phase-2 beacon and the `setup-keys` entry.
    derived: Option<Derived>,
    /// The `setup-keys` entry, once checked.
    fixed: Option<Fixed>,
}

impl Ceremony {
    /// A new ceremony for `manifest`'s election: context the election id, the circuit at
    /// its census depth (PROTOCOL 14.10 "Parameters").
    pub(crate) fn new(manifest: &Manifest) -> Result<Self, VerifyError> {
        let state = CeremonyState::new(manifest.election_id.to_bytes(), manifest.census_depth)
            .map_err(|e| VerifyError::InvalidManifest(format!("setup ceremony: {e}")))?;
        Ok(Self {
            state: Some(state),
            stage: Stage::Phase1,
            contributions: Vec::new(),
            derived: None,
            fixed: None,
        })
    }

    /// The log index of the phase-2 beacon, while the board's `setup-keys` entry is due
    /// (it must be the election's next entry, PROTOCOL 14.10 rule 5).
    pub(crate) fn awaiting_keys(&self) -> Option<u64> {
        self.derived.as_ref().map(|d| d.beacon)
    }

    /// Whether the `setup-keys` entry is on the board and checked: the keys are fixed.
    pub(crate) fn is_closed(&self) -> bool {
        self.fixed.is_some()
    }

    /// PROTOCOL 14.10 rules 2–4 for a `setup-phase1` or `setup-phase2` entry at log
    /// index `index` (rule 1, before the freeze, is checked by the caller; the signature
    /// by its contributor by check 14). After the phase-2 beacon, derives the keys.
    pub(crate) fn contribution(
        &mut self,
        index: u64,
        kind: EntryKind,
        c: &SetupContribution,
        manifest: &Manifest,
    ) -> Result<(), VerifyError> {
        // Rule 2: nothing after setup-keys; each phase's contributions while it is open.
        if let Some(fixed) = &self.fixed {
            return Err(VerifyError::SetupAfterKeys { keys: fixed.index });
        }
        let out_of_order = |stage: Stage| VerifyError::SetupOutOfOrder {
            kind: kind.name(),
            stage: stage.name(),
        };
        let state = self.state.as_mut().ok_or(out_of_order(self.stage))?;
        let phase = match (kind, state.stage()) {
            (EntryKind::SetupPhase1, Stage::Phase1) => 1,
            (EntryKind::SetupPhase2, Stage::Phase2) => 2,
            (_, stage) => return Err(out_of_order(stage)),
        };
        // Rule 3: only the authority posts beacons (the ceremony state refuses a beacon
        // before any secret contribution of its phase: `OnlyBeacon`).
        let beacon = c.data.first() == Some(&BEACON_KIND);
        if beacon && c.contributor != AUTHORITY {
            return Err(VerifyError::BeaconNotByAuthority {
                contributor: c.contributor,
            });
        }
        // Rule 4: decoded, verified against the current state and bound to the current
        // transcript hash (PROTOCOL 14.3, 14.5, 14.6).
        let accepted = match phase {
            1 => state.add_phase1(&c.data, &mut OsRng),
            _ => state.add_phase2(&c.data, &mut OsRng),
        }
        .map_err(|e| match e {
            CeremonyError::OnlyBeacon { .. } => VerifyError::BeaconWithoutSecret(e),
            other => VerifyError::InvalidContribution(other),
        })?;
        if accepted.beacon != beacon {
            // The decoder read the same kind byte; kept as a check, not an assumption.
            return Err(VerifyError::InvalidContribution(
                CeremonyError::InvalidEncoding {
                    what: "contribution kind",
                },
            ));
        }
        let name = manifest
            .contributor(c.contributor)
            .map(|(name, _)| name.to_owned())
            .unwrap_or_default();
        self.contributions.push(ContributionReport {
            phase,
            index,
            contributor: c.contributor,
            name,
            beacon,
            hash: hex::encode(accepted.hash),
        });
        self.stage = state.stage();
        if self.stage == Stage::Closed {
            // PROTOCOL 14.8: the keys of the closed ceremony, checked by the circuits
            // crate; the proving key is kept only long enough to hash it.
            let (proving_key, verifying_key) =
                state.keys().map_err(VerifyError::InvalidContribution)?;
            self.derived = Some(Derived {
                beacon: index,
                verifying_key,
                proving_key_hash: proving_key.proving_key_hash(),
                transcript_hash: state.hash(),
            });
            self.state = None;
        }
        Ok(())
    }

    /// PROTOCOL 14.10 rule 5: the `setup-keys` entry at `index` (signed by the board,
    /// check 14) is the election's next entry after the phase-2 beacon (the caller
    /// refuses any other entry there) and holds exactly the derived verifying key,
    /// proving-key hash and transcript hash. A verifying key in the export's header must
    /// be that key too (PROTOCOL 13.1). Returns the key ballots are verified with.
    pub(crate) fn keys(
        &mut self,
        index: u64,
        k: &SetupKeys,
        header_key: Option<&HeaderKey>,
    ) -> Result<PreparedVerifyingKey, VerifyError> {
        if let Some(fixed) = &self.fixed {
            return Err(VerifyError::SetupAfterKeys { keys: fixed.index });
        }
        let Some(derived) = self.derived.take() else {
            return Err(VerifyError::SetupOutOfOrder {
                kind: EntryKind::SetupKeys.name(),
                stage: self.stage.name(),
            });
        };
        if k.verifying_key != derived.verifying_key {
            return Err(VerifyError::SetupKeyMismatch {
                what: "verifying key",
            });
        }
        if k.proving_key_hash != derived.proving_key_hash {
            return Err(VerifyError::SetupKeyMismatch {
                what: "proving key hash",
            });
        }
        if k.transcript_hash != derived.transcript_hash {
            return Err(VerifyError::SetupKeyMismatch {
                what: "transcript hash",
            });
        }
        let verifying_key_hash = derived.verifying_key.verifying_key_hash();
        if let Some(header) = header_key {
            if header.key != derived.verifying_key {
                return Err(VerifyError::VerifyingKeyMismatch {
                    expected: hex::encode(verifying_key_hash),
                    actual: hex::encode(header.hash),
                });
            }
        }
        self.fixed = Some(Fixed {
            index,
            verifying_key_hash,
            proving_key_hash: derived.proving_key_hash,
            transcript_hash: derived.transcript_hash,
        });
        Ok(derived.verifying_key.prepare())
    }

    /// The ceremony as the report shows it.
    pub(crate) fn report(&self) -> CeremonyReport {
        CeremonyReport {
            stage: self.stage.name().to_owned(),
            contributions: self.contributions.clone(),
            keys_entry: self.fixed.as_ref().map(|f| f.index),
            transcript_hash: self.fixed.as_ref().map(|f| hex::encode(f.transcript_hash)),
            verifying_key_hash: self
                .fixed
                .as_ref()
                .map(|f| hex::encode(f.verifying_key_hash)),
            proving_key_hash: self.fixed.as_ref().map(|f| hex::encode(f.proving_key_hash)),
        }
    }
}
