//! The board's view of each election, derived from the log by replay: the phase, the
//! key ceremony, the census, the ballots that count, the decryption shares.
//!
//! Every process rebuilds this state from the stored log at start and keeps it current
//! by applying each entry it (or another process sharing the database) appends.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use urna_ceremony::{Chain, Stage};
use urna_circuits::{CensusRoot, CensusTree, IdentityCommitment, PreparedVerifyingKey};
use urna_protocol::board::{BoardEntry, Payload, RegistrationCode, SetupContribution};
use urna_protocol::codec::Canonical;
use urna_protocol::dkg::{Complaint, DealerMessage, DkgContext, DkgOutcome};
use urna_protocol::elgamal::ElectionPublicKey;
use urna_protocol::manifest::Manifest;
use urna_protocol::tally::{TallyContext, TrusteeShares};

use crate::storage::StoredEntry;

/// An election's phase (`docs/PROTOCOL.md` §12.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Manifest posted: key ceremony and registration.
    Setup,
    /// Census frozen; waiting for the open entry.
    Frozen,
    /// Voting is open.
    Open,
    /// Voting closed: decryption shares.
    Closed,
    /// The tally is on the board.
    Tallied,
}

impl Phase {
    /// The phase's name.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Setup => "setup",
            Phase::Frozen => "frozen",
            Phase::Open => "open",
            Phase::Closed => "closed",
            Phase::Tallied => "tallied",
        }
    }
}

/// The frozen census.
#[derive(Clone, Debug)]
pub struct Frozen {
    /// Its root.
    pub root: CensusRoot,
    /// Number of registrations.
    pub size: u64,
    /// Log index of the census-frozen entry.
    pub index: u64,
}

/// What the key ceremony produced (computed when voting opens).
#[derive(Clone, Debug)]
pub struct ElectionKeys {
    /// The election public key.
    pub public_key: ElectionPublicKey,
    /// What the tally needs.
    pub tally: TallyContext,
}

/// One accepted setup-ceremony contribution (PROTOCOL 14.10).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ContributionRecord {
    /// The phase: 1 or 2.
    pub phase: u8,
    /// Log index of its entry.
    pub index: u64,
    /// The contributor's index (0 the authority, `1..=n` the trustees, then the extra
    /// contributors).
    pub contributor: u32,
    /// Whether it is the phase's closing beacon contribution.
    pub beacon: bool,
    /// The transcript hash after it (what its contributor publishes), hex.
    pub hash: String,
}

/// The keys a closed ceremony derived, from the board's `setup-keys` entry.
#[derive(Clone, Debug)]
pub struct CeremonyKeys {
    /// Log index of the `setup-keys` entry.
    pub index: u64,
    /// SHA-256 of the verifying key.
    pub verifying_key_hash: [u8; 32],
    /// SHA-256 of the proving key.
    pub proving_key_hash: [u8; 32],
    /// The final transcript hash.
    pub transcript_hash: [u8; 32],
    /// The verifying key's canonical bytes.
    pub verifying_key: Arc<Vec<u8>>,
    /// The verifying key, prepared for ballots.
    pub prepared: Arc<PreparedVerifyingKey>,
}

/// Where an election's setup ceremony stands (PROTOCOL 14.10), from its entries: the
/// hash chain and the order rules, without the parameters (the board keeps those apart,
/// see `Board::ceremony`).
#[derive(Clone, Debug)]
pub struct SetupProgress {
    /// The chain.
    pub chain: Chain,
    /// Every accepted contribution, in log order.
    pub contributions: Vec<ContributionRecord>,
    /// The keys, once the board appended its `setup-keys` entry.
    pub keys: Option<CeremonyKeys>,
}

impl SetupProgress {
    /// Records a committed contribution entry of phase `phase` at `index`.
    fn record(&mut self, phase: u8, index: u64, c: &SetupContribution) -> Result<(), String> {
        let accepted = match phase {
            1 => self.chain.record_phase1(&c.data),
            _ => self.chain.record_phase2(&c.data),
        }
        .map_err(|e| e.to_string())?;
        self.contributions.push(ContributionRecord {
            phase,
            index,
            contributor: c.contributor,
            beacon: accepted.beacon,
            hash: hex::encode(accepted.hash),
        });
        Ok(())
    }

    /// Whether the ceremony is closed and its keys are on the board.
    pub fn is_done(&self) -> bool {
        self.keys.is_some()
    }
}

/// One election.
#[derive(Clone, Debug)]
pub struct ElectionState {
    /// The manifest.
    pub manifest: Arc<Manifest>,
    /// Its hash.
    pub manifest_hash: [u8; 32],
    /// Log index of the manifest entry.
    pub manifest_index: u64,
    /// The key ceremony's public parameters.
    pub dkg: DkgContext,
    /// Dealer messages by trustee.
    pub dealers: BTreeMap<u32, DealerMessage>,
    /// Complaints, in board order.
    pub complaints: Vec<Complaint>,
    /// Posted registration-code hashes and whether each is used.
    pub code_hashes: HashMap<[u8; 32], bool>,
    /// Census leaves in board order.
    pub commitments: Vec<IdentityCommitment>,
    /// The same, as a set.
    pub commitment_set: HashSet<[u8; 32]>,
    /// The frozen census.
    pub frozen: Option<Frozen>,
    /// The census tree, once frozen (built lazily).
    pub census: Option<Arc<CensusTree>>,
    /// The open entry: time and index.
    pub opened: Option<(u64, u64)>,
    /// The ceremony's outcome, from the open entry on.
    pub keys: Option<Arc<ElectionKeys>>,
    /// The close entry: time and index.
    pub closed: Option<(u64, u64)>,
    /// Every ballot `(nullifier, digest) → index`.
    pub ballots: HashMap<([u8; 32], [u8; 32]), u64>,
    /// The ballot that counts for each nullifier (the latest).
    pub latest: HashMap<[u8; 32], u64>,
    /// Ciphertext fingerprint → nullifier that cast it first.
    pub fingerprints: HashMap<[u8; 32], [u8; 32]>,
    /// Ballot entries on the board (re-votes included).
    pub ballot_entries: u64,
    /// Decryption shares by trustee.
    pub shares: BTreeMap<u32, TrusteeShares>,
    /// Log index of the tally.
    pub tally: Option<u64>,
    /// The setup ceremony, when the manifest's setup is one (PROTOCOL 14.10).
    pub setup: Option<SetupProgress>,
}

impl ElectionState {
    /// A new election from its manifest entry at `index`.
    pub fn new(manifest: Manifest, index: u64) -> Result<Self, String> {
        let dkg = DkgContext::new(
            manifest.manifest_hash(),
            manifest.threshold,
            manifest.trustees.iter().map(|t| t.encryption_key).collect(),
        )
        .map_err(|e| e.to_string())?;
        let setup = if manifest.setup.is_ceremony() {
            Some(SetupProgress {
                chain: Chain::new(manifest.election_id.to_bytes(), manifest.census_depth)
                    .map_err(|e| e.to_string())?,
                contributions: Vec::new(),
                keys: None,
            })
        } else {
            None
        };
        Ok(Self {
            manifest_hash: manifest.manifest_hash(),
            manifest: Arc::new(manifest),
            manifest_index: index,
            dkg,
            dealers: BTreeMap::new(),
            complaints: Vec::new(),
            code_hashes: HashMap::new(),
            commitments: Vec::new(),
            commitment_set: HashSet::new(),
            frozen: None,
            census: None,
            opened: None,
            keys: None,
            closed: None,
            ballots: HashMap::new(),
            latest: HashMap::new(),
            fingerprints: HashMap::new(),
            ballot_entries: 0,
            shares: BTreeMap::new(),
            tally: None,
            setup,
        })
    }

    /// Whether the Groth16 keys are fixed: by the manifest, or by the ceremony's
    /// `setup-keys` entry.
    pub fn keys_fixed(&self) -> bool {
        self.setup.as_ref().is_none_or(SetupProgress::is_done)
    }

    /// The ceremony's stage, for a ceremony election.
    pub fn setup_stage(&self) -> Option<Stage> {
        self.setup.as_ref().map(|s| s.chain.stage())
    }

    /// The phase.
    pub fn phase(&self) -> Phase {
        if self.tally.is_some() {
            Phase::Tallied
        } else if self.closed.is_some() {
            Phase::Closed
        } else if self.opened.is_some() {
            Phase::Open
        } else if self.frozen.is_some() {
            Phase::Frozen
        } else {
            Phase::Setup
        }
    }

    /// The outcome of the key ceremony over the posted messages and complaints.
    pub fn ceremony_outcome(&self) -> Result<ElectionKeys, String> {
        let messages: Vec<DealerMessage> = self.dealers.values().cloned().collect();
        let outcome =
            DkgOutcome::new(&self.dkg, &messages, &self.complaints).map_err(|e| e.to_string())?;
        Ok(ElectionKeys {
            public_key: outcome.election_public_key(),
            tally: TallyContext::from_dkg(&self.dkg, &outcome),
        })
    }

    /// Applies a committed entry at `index` (which the board's rules admitted).
    pub fn apply(&mut self, index: u64, entry: &BoardEntry) -> Result<(), String> {
        match entry.payload() {
            Payload::Manifest(_) => return Err("second manifest for one election".into()),
            Payload::Dealer(d) => {
                self.dealers.insert(d.dealer(), d.clone());
            }
            Payload::Complaint(c) => self.complaints.push(*c),
            Payload::RegistrationCodes(hashes) => {
                for h in hashes {
                    self.code_hashes.insert(*h, false);
                }
            }
            Payload::Registration { code, commitment } => {
                let hash = RegistrationCode::from_bytes(*code).hash(&self.manifest.election_id);
                self.code_hashes.insert(hash, true);
                self.commitment_set.insert(commitment.to_bytes());
                self.commitments.push(*commitment);
            }
            Payload::CensusFrozen { root, size } => {
                self.frozen = Some(Frozen {
                    root: *root,
                    size: *size,
                    index,
                });
            }
            Payload::Open { at } => {
                self.opened = Some((*at, index));
                self.keys = Some(Arc::new(self.ceremony_outcome()?));
            }
            Payload::Close { at } => self.closed = Some((*at, index)),
            Payload::Ballot(b) => {
                let nullifier = b.nullifier.to_bytes();
                let digest = b.digest(&self.manifest_hash).to_bytes();
                self.ballots.insert((nullifier, digest), index);
                self.latest.insert(nullifier, index);
                for fp in b.ciphertext_fingerprints() {
                    self.fingerprints.entry(fp).or_insert(nullifier);
                }
                self.ballot_entries += 1;
            }
            Payload::DecryptionShares(s) => {
                self.shares.insert(s.trustee(), s.clone());
            }
            Payload::Tally(_) => self.tally = Some(index),
            Payload::SetupPhase1(c) | Payload::SetupPhase2(c) => {
                let phase = if matches!(entry.payload(), Payload::SetupPhase1(_)) {
                    1
                } else {
                    2
                };
                self.setup
                    .as_mut()
                    .ok_or("a setup contribution in an election with fixed keys")?
                    .record(phase, index, c)?;
            }
            Payload::SetupKeys(k) => {
                let setup = self
                    .setup
                    .as_mut()
                    .ok_or("setup keys in an election with fixed keys")?;
                setup.keys = Some(CeremonyKeys {
                    index,
                    verifying_key_hash: k.verifying_key_hash(),
                    proving_key_hash: k.proving_key_hash,
                    transcript_hash: k.transcript_hash,
                    verifying_key: Arc::new(k.verifying_key.to_bytes()),
                    prepared: Arc::new(k.verifying_key.prepare()),
                });
            }
        }
        Ok(())
    }

    /// The census tree over the registrations (cached once frozen).
    pub fn census_tree(&mut self) -> Result<Arc<CensusTree>, String> {
        if let Some(t) = &self.census {
            if t.len() == self.commitments.len() as u64 {
                return Ok(t.clone());
            }
        }
        let tree = Arc::new(
            CensusTree::from_leaves(self.manifest.census_depth, &self.commitments)
                .map_err(|e| e.to_string())?,
        );
        if self.frozen.is_some() {
            self.census = Some(tree.clone());
        }
        Ok(tree)
    }
}

/// Every election on the board.
#[derive(Clone, Debug, Default)]
pub struct BoardState {
    /// Elections by id.
    pub elections: HashMap<[u8; 32], ElectionState>,
    /// Election ids in board order.
    pub order: Vec<[u8; 32]>,
}

impl BoardState {
    /// Applies a committed entry (decoding it).
    pub fn apply_stored(&mut self, stored: &StoredEntry) -> Result<(), String> {
        let entry = BoardEntry::from_canonical_bytes(&stored.entry)
            .map_err(|e| format!("entry {} does not decode: {e}", stored.index))?;
        self.apply(stored.index, &entry)
    }

    /// Applies a committed, decoded entry.
    pub fn apply(&mut self, index: u64, entry: &BoardEntry) -> Result<(), String> {
        let id = entry.election_id().to_bytes();
        if let Payload::Manifest(m) = entry.payload() {
            if self.elections.contains_key(&id) {
                return Err(format!("entry {index}: second manifest for an election"));
            }
            self.elections
                .insert(id, ElectionState::new(m.clone(), index)?);
            self.order.push(id);
            return Ok(());
        }
        let election = self
            .elections
            .get_mut(&id)
            .ok_or_else(|| format!("entry {index}: no manifest for its election"))?;
        election
            .apply(index, entry)
            .map_err(|e| format!("entry {index}: {e}"))
    }
}
