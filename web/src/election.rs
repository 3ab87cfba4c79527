//! The election as the voter's browser sees it: the manifest read from its board entry
//! (signature checked), the election public key, and the board's checkpoint key.

use serde::Serialize;
use urna_circuits::{CensusRoot, ElectionId};
use urna_log::NoteVerifier;
use urna_protocol::board::{BoardEntry, EntryKind, Payload};
use urna_protocol::codec::{Canonical, Decode, Reader};
use urna_protocol::dkg::{DkgContext, DkgOutcome};
use urna_protocol::elgamal::ElectionPublicKey;
use urna_protocol::manifest::Manifest;

use crate::error::{from_hex, hex32, WebError};

/// An election's manifest, checked: read from the manifest board entry, which must be
/// of kind `manifest`, of the expected election, and signed by the authority key the
/// manifest names. For an election with a setup ceremony, the Groth16 key hashes come
/// from the board's `setup-keys` entry ([`Election::set_setup_keys`], PROTOCOL 14.10).
#[derive(Clone, Debug)]
pub struct Election {
    manifest: Manifest,
    manifest_hash: [u8; 32],
    /// `(verifying_key_hash, proving_key_hash)` from the checked `setup-keys` entry.
    ceremony_keys: Option<([u8; 32], [u8; 32])>,
}

/// What the pages show of a manifest ([`Election::summary`]).
#[derive(Serialize, Debug)]
pub struct ElectionSummary {
    /// Hex election id.
    pub election_id: String,
    /// Title.
    pub title: String,
    /// Contests, in ballot order.
    pub contests: Vec<ContestSummary>,
    /// Voting opens (Unix seconds).
    pub opens_at: u64,
    /// Voting closes (Unix seconds).
    pub closes_at: u64,
    /// Census depth (a proving key is for one depth).
    pub census_depth: u32,
    /// Hex manifest hash.
    pub manifest_hash: String,
    /// Where the keys come from: `fixed-keys` (the manifest names them) or `ceremony`
    /// (the board's `setup-keys` entry).
    pub setup_mode: String,
    /// Hex SHA-256 of the Groth16 verifying key; `None` while a ceremony has not closed
    /// (or its `setup-keys` entry was not given).
    pub verifying_key_hash: Option<String>,
    /// Hex SHA-256 of the Groth16 proving key (checked before the key is loaded).
    pub proving_key_hash: Option<String>,
}

/// One contest of [`ElectionSummary`].
#[derive(Serialize, Debug)]
pub struct ContestSummary {
    /// Title.
    pub title: String,
    /// Option labels.
    pub options: Vec<String>,
    /// Fewest selections.
    pub min_selections: u32,
    /// Most selections.
    pub max_selections: u32,
}

impl Election {
    /// Reads the manifest from its board entry (canonical bytes), checking kind, election
    /// and the authority's signature.
    pub fn from_manifest_entry(entry: &[u8], expected_id: &ElectionId) -> Result<Self, WebError> {
        let entry = BoardEntry::from_canonical_bytes(entry)?;
        if entry.election_id() != expected_id {
            return Err(WebError::UnexpectedEntry(
                "the manifest is for another election".into(),
            ));
        }
        let Payload::Manifest(manifest) = entry.payload() else {
            return Err(WebError::UnexpectedEntry(format!(
                "expected a manifest, got a {} entry",
                entry.kind().name()
            )));
        };
        manifest.validate()?;
        entry.verify_signature(manifest)?;
        Ok(Self {
            manifest_hash: manifest.manifest_hash(),
            manifest: manifest.clone(),
            ceremony_keys: None,
        })
    }

    /// Takes the Groth16 key hashes of a ceremony election from the board's `setup-keys`
    /// entry (canonical bytes), after checking its kind, its election and the board's
    /// signature under the key the manifest names (PROTOCOL 9.5, 14.10). Refused for an
    /// election whose manifest fixes the keys.
    pub fn set_setup_keys(&mut self, entry: &[u8]) -> Result<(), WebError> {
        if !self.manifest.setup.is_ceremony() {
            return Err(WebError::UnexpectedEntry(
                "this election's keys are fixed by its manifest".into(),
            ));
        }
        let entry = BoardEntry::from_canonical_bytes(entry)?;
        if *entry.election_id() != self.manifest.election_id {
            return Err(WebError::UnexpectedEntry(
                "the setup-keys entry is for another election".into(),
            ));
        }
        let Payload::SetupKeys(keys) = entry.payload() else {
            return Err(WebError::UnexpectedEntry(format!(
                "expected a setup-keys entry, got a {} entry",
                entry.kind().name()
            )));
        };
        entry.verify_signature(&self.manifest)?;
        self.ceremony_keys = Some((keys.verifying_key_hash(), keys.proving_key_hash));
        Ok(())
    }

    /// The election's `(verifying_key_hash, proving_key_hash)`: the manifest's, or the
    /// checked `setup-keys` entry's; `None` while a ceremony's keys are unknown.
    pub fn key_hashes(&self) -> Option<([u8; 32], [u8; 32])> {
        match self.manifest.setup.fixed_keys() {
            Some((vk, pk)) => Some((*vk, *pk)),
            None => self.ceremony_keys,
        }
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The manifest hash (PROTOCOL 4).
    pub fn manifest_hash(&self) -> [u8; 32] {
        self.manifest_hash
    }

    /// The election id.
    pub fn id(&self) -> ElectionId {
        self.manifest.election_id
    }

    /// What the pages show.
    pub fn summary(&self) -> ElectionSummary {
        let m = &self.manifest;
        ElectionSummary {
            election_id: hex::encode(m.election_id.to_bytes()),
            title: m.title.clone(),
            contests: m
                .contests
                .iter()
                .map(|c| ContestSummary {
                    title: c.title.clone(),
                    options: c.options.clone(),
                    min_selections: c.min_selections,
                    max_selections: c.max_selections,
                })
                .collect(),
            opens_at: m.opens_at,
            closes_at: m.closes_at,
            census_depth: m.census_depth,
            manifest_hash: hex::encode(self.manifest_hash),
            setup_mode: if m.setup.is_ceremony() {
                "ceremony".into()
            } else {
                "fixed-keys".into()
            },
            verifying_key_hash: self.key_hashes().map(|(vk, _)| hex::encode(vk)),
            proving_key_hash: self.key_hashes().map(|(_, pk)| hex::encode(pk)),
        }
    }

    /// The election public key, recomputed from the key ceremony's board entries
    /// (canonical bytes of every `dealer` and `complaint` entry of this election), each
    /// checked for its election and its trustee's signature, then every dealer message and
    /// complaint verified and the joint key derived as the verifier does (PROTOCOL 7.6).
    /// If the board states a key (`board_key`), it must be this one: the browser never
    /// encrypts to a key only the board vouches for.
    pub fn election_key_from_ceremony(
        &self,
        entries: &[Vec<u8>],
        board_key: Option<&ElectionPublicKey>,
    ) -> Result<ElectionPublicKey, WebError> {
        let ctx = DkgContext::from_manifest(&self.manifest)?;
        let mut messages = Vec::new();
        let mut complaints = Vec::new();
        for bytes in entries {
            let entry = BoardEntry::from_canonical_bytes(bytes)?;
            if entry.election_id() != &self.manifest.election_id {
                return Err(WebError::UnexpectedEntry(
                    "a key-ceremony entry of another election".into(),
                ));
            }
            entry.verify_signature(&self.manifest)?;
            match entry.payload() {
                Payload::Dealer(m) => messages.push(m.clone()),
                Payload::Complaint(c) => complaints.push(*c),
                _ => {
                    return Err(WebError::UnexpectedEntry(format!(
                        "expected a dealer or complaint entry, got a {} entry",
                        entry.kind().name()
                    )))
                }
            }
        }
        let key = DkgOutcome::new(&ctx, &messages, &complaints)?.election_public_key();
        if board_key.is_some_and(|b| *b != key) {
            return Err(WebError::ElectionKeyMismatch);
        }
        Ok(key)
    }

    /// Opens the board's checkpoint key (`vkey` from `GET /v1/board`) and checks that
    /// its Ed25519 key is the `board_key` the manifest names: the board signs
    /// checkpoints and its own entries with one key, so a receipt is only accepted
    /// under the key the authority committed to.
    pub fn board_verifier(&self, vkey: &str) -> Result<NoteVerifier, WebError> {
        let verifier = NoteVerifier::from_vkey(vkey.trim())?;
        if verifier.verifying_key().to_bytes() != self.manifest.board_key.to_bytes() {
            return Err(WebError::BoardKeyMismatch);
        }
        Ok(verifier)
    }
}

/// Decodes an election id from hex (a canonical field element).
pub fn parse_election_id(hex_id: &str) -> Result<ElectionId, WebError> {
    Ok(ElectionId::from_bytes(&hex32("election id", hex_id)?)?)
}

/// Decodes a census root from hex (a canonical field element).
pub fn parse_census_root(hex_root: &str) -> Result<CensusRoot, WebError> {
    Ok(CensusRoot::from_bytes(&hex32("census root", hex_root)?)?)
}

/// Decodes the election public key from hex (a canonical Ristretto255 point, not the
/// identity).
pub fn parse_election_key(hex_key: &str) -> Result<ElectionPublicKey, WebError> {
    let bytes = from_hex("election public key", hex_key)?;
    let mut r = Reader::new(&bytes);
    let key = ElectionPublicKey::decode(&mut r)?;
    r.finish()?;
    Ok(key)
}

/// The kind of a board entry (for the board view), without checking more than its
/// encoding.
pub fn entry_kind(entry: &[u8]) -> Result<EntryKind, WebError> {
    Ok(BoardEntry::from_canonical_bytes(entry)?.kind())
}

/// The dealing trustee of a `dealer` entry, from its encoding alone (the signature is
/// checked by [`Election::election_key_from_ceremony`]).
pub fn dealer_of(entry: &[u8]) -> Result<u32, WebError> {
    match BoardEntry::from_canonical_bytes(entry)?.payload() {
        Payload::Dealer(m) => Ok(m.dealer()),
        other => Err(WebError::UnexpectedEntry(format!(
            "expected a dealer entry, got a {} entry",
            other.kind().name()
        ))),
    }
}
