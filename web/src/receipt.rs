//! Checking the board's receipts in the browser (PROTOCOL 11.2-11.4): a ballot's
//! inclusion proof against the board's signed checkpoint, and later the consistency of
//! that checkpoint with a newer one.

use serde::{Deserialize, Serialize};
use urna_log::{leaf_hash, Checkpoint, Hash, NoteVerifier};

use crate::error::{hex32, WebError};

/// The most hashes an inclusion or consistency proof may have (a tree of 2^64 leaves
/// needs 64 for inclusion and at most 128 for consistency).
const MAX_PROOF_HASHES: usize = 130;

/// A receipt as the board sends it in a submission (docs/API.md).
#[derive(Deserialize, Debug)]
pub struct BoardReceipt {
    /// The entry's log index.
    pub index: u64,
    /// Hex leaf hash.
    pub leaf_hash: String,
    /// The tree size of the checkpoint.
    pub tree_size: u64,
    /// Hex hashes, leaf to root.
    pub inclusion_proof: Vec<String>,
    /// The signed checkpoint note.
    pub checkpoint: String,
}

/// A checked receipt, as the page shows and keeps it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct VoterReceipt {
    /// Hex election id.
    pub election_id: String,
    /// The ballot's tracking code.
    pub tracking_code: String,
    /// The entry's log index.
    pub index: u64,
    /// Hex leaf hash of the entry.
    pub leaf_hash: String,
    /// Tree size of the checkpoint the inclusion was checked against.
    pub tree_size: u64,
    /// Hex root of that checkpoint.
    pub root: String,
    /// The signed checkpoint note.
    pub checkpoint: String,
}

fn parse_proof(hashes: &[String]) -> Result<Vec<Hash>, WebError> {
    if hashes.len() > MAX_PROOF_HASHES {
        return Err(WebError::Receipt("proof too long".into()));
    }
    hashes
        .iter()
        .map(|h| Ok(Hash::from_bytes(hex32("proof hash", h)?)))
        .collect()
}

/// Opens a signed checkpoint of the board whose key is `verifier` (origin = key name).
pub fn open_checkpoint(note: &str, verifier: &NoteVerifier) -> Result<Checkpoint, WebError> {
    Checkpoint::open(note.as_bytes(), verifier.name(), verifier)
        .map_err(|e| WebError::Receipt(format!("checkpoint: {e}")))
}

/// Checks a receipt for `entry` (the canonical bytes the page posted): the checkpoint's
/// signature, that its size is the receipt's, that the leaf hash is the entry's, and
/// the inclusion proof against the checkpoint's root.
pub fn check_receipt(
    verifier: &NoteVerifier,
    election_id: &str,
    tracking_code: &str,
    entry: &[u8],
    receipt: &BoardReceipt,
) -> Result<VoterReceipt, WebError> {
    let checkpoint = open_checkpoint(&receipt.checkpoint, verifier)?;
    if checkpoint.size() != receipt.tree_size {
        return Err(WebError::Receipt(
            "the checkpoint is not of the receipt's tree size".into(),
        ));
    }
    let leaf = leaf_hash(entry);
    if hex32("leaf hash", &receipt.leaf_hash)? != *leaf.as_bytes() {
        return Err(WebError::Receipt(
            "the leaf hash is not the ballot's".into(),
        ));
    }
    let proof = parse_proof(&receipt.inclusion_proof)?;
    checkpoint
        .verify_inclusion(receipt.index, &leaf, &proof)
        .map_err(|e| WebError::Receipt(format!("inclusion: {e}")))?;
    Ok(VoterReceipt {
        election_id: election_id.to_lowercase(),
        tracking_code: tracking_code.into(),
        index: receipt.index,
        leaf_hash: hex::encode(leaf.as_bytes()),
        tree_size: checkpoint.size(),
        root: hex::encode(checkpoint.root().as_bytes()),
        checkpoint: receipt.checkpoint.clone(),
    })
}

/// Re-checks a kept receipt against a newer checkpoint (a later visit): `new_checkpoint`
/// must be signed by the board, extend the receipt's checkpoint (`consistency`, from
/// `GET /v1/log/consistency`), and include the receipt's leaf (`inclusion`, from
/// `GET /v1/log/inclusion` at the new size). Returns the receipt updated to the new
/// checkpoint.
pub fn recheck_receipt(
    verifier: &NoteVerifier,
    receipt: &VoterReceipt,
    new_checkpoint: &str,
    consistency: &[String],
    inclusion: &[String],
) -> Result<VoterReceipt, WebError> {
    let old = open_checkpoint(&receipt.checkpoint, verifier)?;
    if old.size() != receipt.tree_size || hex::encode(old.root().as_bytes()) != receipt.root {
        return Err(WebError::Receipt(
            "the kept receipt does not match its own checkpoint".into(),
        ));
    }
    let new = open_checkpoint(new_checkpoint, verifier)?;
    if new.size() < old.size() {
        return Err(WebError::Receipt("the new checkpoint is smaller".into()));
    }
    old.verify_extended_by(&new, &parse_proof(consistency)?)
        .map_err(|e| WebError::Receipt(format!("consistency: {e}")))?;
    let leaf = Hash::from_bytes(hex32("leaf hash", &receipt.leaf_hash)?);
    new.verify_inclusion(receipt.index, &leaf, &parse_proof(inclusion)?)
        .map_err(|e| WebError::Receipt(format!("inclusion: {e}")))?;
    Ok(VoterReceipt {
        tree_size: new.size(),
        root: hex::encode(new.root().as_bytes()),
        checkpoint: new_checkpoint.into(),
        ..receipt.clone()
    })
}
