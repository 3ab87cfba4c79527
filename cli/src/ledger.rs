//! Reading the board as a client that trusts it for nothing it can check: every entry's
//! leaf hash is recomputed from its bytes, every entry decodes canonically and carries
//! the signature its manifest requires, checkpoints are verified with the board key the
//! manifest names, and a full view of the log must hash to the signed checkpoint.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use anyhow::{anyhow, bail, ensure, Context as _, Result};
use urna_circuits::ElectionId;
use urna_log::{leaf_hash, Checkpoint, Hash, MerkleTree, NoteVerifier};
use urna_protocol::board::{BoardEntry, Payload, SetupKeys};
use urna_protocol::codec::{Canonical, Decode, Reader, MAX_OBJECT_BYTES};
use urna_protocol::dkg::{Complaint, DealerMessage, DkgContext, DkgOutcome};
use urna_protocol::elgamal::ElectionPublicKey;
use urna_protocol::manifest::Manifest;

use crate::client::{wire, Client};
use crate::files::hex32;

/// Entries asked for per page.
const PAGE: u64 = 200;

/// Parses an election id given on the command line.
pub fn parse_election_id(s: &str) -> Result<ElectionId> {
    let bytes = hex32("election id", s)
        .with_context(|| format!("{s:?} is not an election id (64 hex digits)"))?;
    ElectionId::from_bytes(&bytes).map_err(|e| anyhow!("{s:?} is not an election id: {e}"))
}

/// Decodes one log entry after checking its leaf hash.
pub fn decode_entry(e: &wire::Entry) -> Result<(Hash, BoardEntry)> {
    let (leaf, bytes) = checked_leaf(e)?;
    let entry = BoardEntry::from_canonical_bytes(&bytes)
        .map_err(|err| anyhow!("log entry {} does not decode: {err}", e.index))?;
    Ok((leaf, entry))
}

fn checked_leaf(e: &wire::Entry) -> Result<(Hash, Vec<u8>)> {
    ensure!(
        e.entry.len() <= 2 * MAX_OBJECT_BYTES,
        "log entry {} is too large",
        e.index
    );
    let bytes =
        hex::decode(&e.entry).map_err(|err| anyhow!("log entry {}: bad hex: {err}", e.index))?;
    let leaf = leaf_hash(&bytes);
    ensure!(
        hash32("leaf hash", &e.leaf_hash)? == leaf,
        "log entry {}: the leaf hash the board gives is not the hash of the entry",
        e.index
    );
    Ok((leaf, bytes))
}

/// An election as read from the board: the manifest is the authority-signed entry at the
/// index the board names.
#[derive(Clone, Debug)]
pub struct Election {
    /// The id.
    pub id: ElectionId,
    /// The id in hex.
    pub id_hex: String,
    /// The manifest.
    pub manifest: Manifest,
    /// Its hash.
    pub manifest_hash: [u8; 32],
    /// The board's summary (untrusted counters).
    pub summary: wire::Summary,
}

impl Election {
    /// Reads election `id` from the board.
    pub async fn fetch(client: &Client, id: &ElectionId) -> Result<Election> {
        let id_hex = hex::encode(id.to_bytes());
        let summary: wire::Summary = client.get_json(&format!("/v1/elections/{id_hex}")).await?;
        ensure!(
            summary.election_id.eq_ignore_ascii_case(&id_hex),
            "the board answered for another election"
        );
        let e: wire::Entry = client
            .get_json(&format!("/v1/log/entries/{}", summary.manifest_index))
            .await?;
        ensure!(
            e.index == summary.manifest_index,
            "the board answered with another entry"
        );
        let (_, entry) = decode_entry(&e)?;
        let Payload::Manifest(manifest) = entry.payload() else {
            bail!("entry {} is not the election's manifest", e.index);
        };
        let manifest = manifest.clone();
        ensure!(
            manifest.election_id == *id,
            "the manifest is for another election"
        );
        manifest
            .validate()
            .map_err(|err| anyhow!("the election's manifest is invalid: {err}"))?;
        entry
            .verify_signature(&manifest)
            .map_err(|err| anyhow!("the manifest entry is not signed by its authority: {err}"))?;
        if let Some(mode) = &summary.setup_mode {
            let ceremony = manifest.setup.is_ceremony();
            ensure!(
                (mode == "ceremony") == ceremony,
                "the board reports setup mode {mode:?} for an election whose manifest says {}",
                if ceremony { "ceremony" } else { "fixed-keys" }
            );
        }
        let manifest_hash = manifest.manifest_hash();
        ensure!(
            hex::encode(manifest_hash).eq_ignore_ascii_case(&summary.manifest_hash),
            "the board's manifest hash differs from the manifest it serves"
        );
        Ok(Election {
            id: *id,
            id_hex,
            manifest,
            manifest_hash,
            summary,
        })
    }

    /// The API path of this election, plus `rest`.
    pub fn path(&self, rest: &str) -> String {
        format!("/v1/elections/{}{rest}", self.id_hex)
    }
}

/// The board's checkpoint signer, checked against the key the manifest names.
pub async fn board_verifier(
    client: &Client,
    manifest: &Manifest,
) -> Result<(wire::BoardInfo, NoteVerifier)> {
    let info: wire::BoardInfo = client.get_json("/v1/board").await?;
    let verifier = NoteVerifier::from_vkey(&info.vkey).map_err(|e| {
        anyhow!(
            "the board's checkpoint key {:?} is malformed: {e}",
            info.vkey
        )
    })?;
    ensure!(
        verifier.verifying_key().to_bytes() == manifest.board_key.to_bytes(),
        "the board signs its checkpoints with another key than the manifest's board_key: \
         this is not the election's board"
    );
    Ok((info, verifier))
}

/// Opens a signed checkpoint.
pub fn open_checkpoint(note: &str, origin: &str, verifier: &NoteVerifier) -> Result<Checkpoint> {
    Checkpoint::open(note.as_bytes(), origin, verifier)
        .map_err(|e| anyhow!("the board's checkpoint does not verify: {e}"))
}

/// Checks the receipt of an entry this client posted: its leaf hash is the entry's,
/// its checkpoint is signed by the election's board, and its inclusion proof puts the
/// entry in that checkpoint's tree.
pub fn check_receipt_of(
    entry: &BoardEntry,
    receipt: &wire::Receipt,
    origin: &str,
    verifier: &NoteVerifier,
) -> Result<()> {
    use urna_protocol::codec::Canonical as _;
    let leaf = hash32("leaf hash", &receipt.leaf_hash)?;
    ensure!(
        leaf == leaf_hash(&entry.to_canonical_bytes()),
        "the board's receipt is for another entry than the one posted"
    );
    let checkpoint = open_checkpoint(&receipt.checkpoint, origin, verifier)?;
    ensure!(
        checkpoint.size() == receipt.tree_size,
        "the receipt's sizes disagree"
    );
    checkpoint
        .verify_inclusion(
            receipt.index,
            &leaf,
            &hashes("inclusion proof", &receipt.inclusion_proof)?,
        )
        .map_err(|e| anyhow!("the board's receipt does not prove the entry is in its log: {e}"))
}

/// The Groth16 keys of an election, and where their hashes come from.
#[derive(Clone, Debug)]
pub struct ElectionKeys {
    /// SHA-256 of the verifying key.
    pub verifying_key_hash: [u8; 32],
    /// SHA-256 of the proving key.
    pub proving_key_hash: [u8; 32],
    /// With a ceremony: the log index of the board's `setup-keys` entry.
    pub setup_keys_index: Option<u64>,
}

/// The election's key hashes: from the manifest for fixed keys; for a ceremony from the
/// board's `setup-keys` entry, read from the log and checked (leaf hash, decoding, the
/// board's signature under the manifest's board key, kind).
pub async fn election_keys(client: &Client, election: &Election) -> Result<ElectionKeys> {
    if let Some((vk, pk)) = election.manifest.setup.fixed_keys() {
        return Ok(ElectionKeys {
            verifying_key_hash: *vk,
            proving_key_hash: *pk,
            setup_keys_index: None,
        });
    }
    let index = election
        .summary
        .keys
        .as_ref()
        .and_then(|k| k.entry_index)
        .ok_or_else(|| {
            anyhow!(
                "the setup ceremony of election {} is not closed yet: it has no keys \
                 (see `urna ceremony status`)",
                election.id_hex
            )
        })?;
    let (_, keys) = setup_keys_entry(client, election, index).await?;
    if let Some(k) = &election.summary.keys {
        let said = [
            Some(&k.verifying_key_hash),
            Some(&k.proving_key_hash),
            k.transcript_hash.as_ref(),
        ];
        let signed = [
            keys.verifying_key_hash(),
            keys.proving_key_hash,
            keys.transcript_hash,
        ];
        ensure!(
            said.iter()
                .zip(signed)
                .all(|(a, b)| a.is_some_and(|a| a.eq_ignore_ascii_case(&hex::encode(b)))),
            "the board's election summary names other keys than its signed setup-keys entry {index}"
        );
    }
    Ok(ElectionKeys {
        verifying_key_hash: keys.verifying_key_hash(),
        proving_key_hash: keys.proving_key_hash,
        setup_keys_index: Some(index),
    })
}

/// Reads log entry `index`, which must be `election`'s `setup-keys` entry signed by the
/// board key its manifest names.
pub async fn setup_keys_entry(
    client: &Client,
    election: &Election,
    index: u64,
) -> Result<(BoardEntry, SetupKeys)> {
    let e: wire::Entry = client.get_json(&format!("/v1/log/entries/{index}")).await?;
    ensure!(e.index == index, "the board answered with another entry");
    let (_, entry) = decode_entry(&e)?;
    ensure!(
        entry.election_id() == &election.id,
        "log entry {index}, named as the setup-keys entry, is for another election"
    );
    let Payload::SetupKeys(keys) = entry.payload() else {
        bail!(
            "log entry {index}, named as the setup-keys entry, is a {} entry",
            entry.kind().name()
        );
    };
    entry.verify_signature(&election.manifest).map_err(|err| {
        anyhow!("the setup-keys entry {index} is not signed by the election's board: {err}")
    })?;
    let keys = keys.clone();
    Ok((entry, keys))
}

/// Parses one hex hash.
pub fn hash32(what: &str, s: &str) -> Result<Hash> {
    hex32(what, s).map(Hash::from)
}

/// Parses a list of hex hashes.
pub fn hashes(what: &str, list: &[String]) -> Result<Vec<Hash>> {
    ensure!(list.len() <= 64, "{what}: too long");
    list.iter().map(|h| hash32(what, h)).collect()
}

/// Pages through log entries `start..end`, checking each leaf hash and that the
/// indices are contiguous, until `visit` breaks.
pub async fn scan<F>(client: &Client, start: u64, end: u64, mut visit: F) -> Result<()>
where
    F: FnMut(u64, Hash, &wire::Entry) -> Result<ControlFlow<()>>,
{
    let mut next = start;
    while next < end {
        let limit = PAGE.min(end - next);
        let page: wire::EntriesPage = client
            .get_json(&format!("/v1/log/entries?start={next}&limit={limit}"))
            .await?;
        if page.entries.is_empty() {
            bail!("the board stopped serving the log at entry {next} (expected up to {end})");
        }
        for e in &page.entries {
            ensure!(e.index == next, "the board skipped log entry {next}");
            let (leaf, _) = checked_leaf(e)?;
            if visit(e.index, leaf, e)?.is_break() {
                return Ok(());
            }
            next += 1;
            if next >= end {
                return Ok(());
            }
        }
        if page.next.is_none() && end == u64::MAX {
            return Ok(());
        }
    }
    Ok(())
}

/// Decodes `e` if it belongs to `election`, checking its signature.
fn election_entry(election: &Election, e: &wire::Entry) -> Result<Option<BoardEntry>> {
    if !e.election_id.eq_ignore_ascii_case(&election.id_hex) {
        return Ok(None);
    }
    let (_, entry) = decode_entry(e)?;
    ensure!(
        entry.election_id() == &election.id,
        "log entry {} names another election than the board says",
        e.index
    );
    entry
        .verify_signature(&election.manifest)
        .map_err(|err| anyhow!("log entry {} ({}): {err}", e.index, entry.kind().name()))?;
    Ok(Some(entry))
}

/// The key ceremony's public messages.
pub struct Ceremony {
    /// The ceremony's parameters.
    pub ctx: DkgContext,
    /// Dealer messages.
    pub messages: Vec<DealerMessage>,
    /// Complaints.
    pub complaints: Vec<Complaint>,
}

impl Ceremony {
    /// Reads the dealer messages and complaints the board's summary counts.
    pub async fn fetch(client: &Client, election: &Election) -> Result<Ceremony> {
        let ctx = DkgContext::from_manifest(&election.manifest)
            .map_err(|e| anyhow!("the manifest's trustees: {e}"))?;
        let want_dealers: BTreeSet<u32> = election.summary.dealers.iter().copied().collect();
        let want_complaints = election.summary.complaints;
        let mut messages = Vec::new();
        let mut complaints = Vec::new();
        let done = |m: &Vec<DealerMessage>, c: &Vec<Complaint>| {
            let have: BTreeSet<u32> = m.iter().map(DealerMessage::dealer).collect();
            want_dealers.is_subset(&have) && c.len() >= want_complaints
        };
        if !done(&messages, &complaints) {
            scan(
                client,
                election.summary.manifest_index + 1,
                u64::MAX,
                |_, _, e| {
                    if e.kind == "dealer" || e.kind == "complaint" {
                        match election_entry(election, e)?.map(|x| x.payload().clone()) {
                            Some(Payload::Dealer(m)) => messages.push(m),
                            Some(Payload::Complaint(c)) => complaints.push(c),
                            _ => {}
                        }
                    }
                    Ok(if done(&messages, &complaints) {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    })
                },
            )
            .await?;
        }
        ensure!(
            done(&messages, &complaints),
            "the board's log lacks key-ceremony entries its summary counts"
        );
        Ok(Ceremony {
            ctx,
            messages,
            complaints,
        })
    }

    /// The ceremony's outcome, recomputed from the public messages.
    pub fn outcome(&self) -> Result<DkgOutcome> {
        DkgOutcome::new(&self.ctx, &self.messages, &self.complaints)
            .map_err(|e| anyhow!("the key ceremony on the board does not give a key: {e}"))
    }
}

/// The election public key, recomputed from the ceremony and checked against the board's.
pub async fn election_key(
    client: &Client,
    election: &Election,
) -> Result<(Ceremony, DkgOutcome, ElectionPublicKey)> {
    let ceremony = Ceremony::fetch(client, election).await?;
    let outcome = ceremony.outcome()?;
    let key = outcome.election_public_key();
    if let Some(board_key) = &election.summary.election_public_key {
        let bytes = hex::decode(board_key).map_err(|e| anyhow!("election key: {e}"))?;
        let mut r = Reader::new(&bytes);
        let theirs = ElectionPublicKey::decode(&mut r)
            .map_err(|e| anyhow!("the board's election key: {e}"))?;
        r.finish()
            .map_err(|e| anyhow!("the board's election key: {e}"))?;
        ensure!(
            theirs == key,
            "the board's election key is not the one its key ceremony gives"
        );
    }
    Ok((ceremony, outcome, key))
}

/// The whole log up to a signed checkpoint, with the election's entries decoded.
pub struct FullView {
    /// The election's entries, in log order, with their indices.
    pub entries: Vec<(u64, BoardEntry)>,
}

impl FullView {
    /// Reads every log entry up to the latest checkpoint and checks that their leaf
    /// hashes give the checkpoint's root.
    pub async fn fetch(client: &Client, election: &Election) -> Result<FullView> {
        let (info, verifier) = board_verifier(client, &election.manifest).await?;
        let note = client.get_text("/v1/log/checkpoint").await?;
        let checkpoint = open_checkpoint(&note, &info.origin, &verifier)?;
        let mut tree = MerkleTree::new();
        let mut entries = Vec::new();
        scan(client, 0, checkpoint.size(), |index, leaf, e| {
            tree.append(leaf).map_err(|err| anyhow!("log: {err}"))?;
            if let Some(entry) = election_entry(election, e)? {
                entries.push((index, entry));
            }
            Ok(ControlFlow::Continue(()))
        })
        .await?;
        ensure!(
            tree.size() == checkpoint.size()
                && tree.root().map_err(|e| anyhow!("log: {e}"))? == *checkpoint.root(),
            "the log the board serves does not hash to its signed checkpoint"
        );
        Ok(FullView { entries })
    }
}
