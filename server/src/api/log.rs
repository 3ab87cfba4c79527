//! Log endpoints: board identity, checkpoint, entries, inclusion and consistency proofs.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use urna_log::Hash;

use super::{hex32, AppState, QueryParams};
use crate::board::MAX_PAGE;
use crate::error::ApiError;
use crate::storage::StoredEntry;

/// `GET /v1/board`.
#[derive(Debug, Serialize, Deserialize)]
pub struct BoardInfo {
    /// The log's origin (checkpoint first line, key name).
    pub origin: String,
    /// The signed-note verifier key of the checkpoints.
    pub vkey: String,
    /// The board's Ed25519 public key (hex): a manifest's `board_key` must be this.
    pub public_key: String,
    /// SHA-256 (hex) of every Groth16 verifying key the board has.
    pub verifying_keys: Vec<String>,
    /// The published log size.
    pub size: u64,
}

pub(super) async fn board_info(State(s): State<AppState>) -> Result<Json<BoardInfo>, ApiError> {
    s.board.refresh().await?;
    let key = s.board.key();
    Ok(Json(BoardInfo {
        origin: key.origin().to_owned(),
        vkey: key.vkey(),
        public_key: hex::encode(key.public_key().to_bytes()),
        verifying_keys: s.board.verifying_keys().hashes().map(hex::encode).collect(),
        size: s.board.size(),
    }))
}

/// `GET /v1/keys/{hash}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct VerifyingKeyBody {
    /// SHA-256 of the key (hex).
    pub hash: String,
    /// The key's canonical compressed bytes (hex).
    pub verifying_key: String,
}

pub(super) async fn verifying_key(
    State(s): State<AppState>,
    Path(hash): Path<String>,
) -> Result<Json<VerifyingKeyBody>, ApiError> {
    let h = hex32("hash", &hash)?;
    let bytes = match s.board.verifying_keys().get(&h) {
        Some(key) => key.bytes.clone(),
        None => {
            s.board.refresh().await?;
            s.board
                .elections(|e| {
                    e.setup
                        .as_ref()
                        .and_then(|setup| setup.keys.as_ref())
                        .filter(|k| k.verifying_key_hash == h)
                        .map(|k| k.verifying_key.clone())
                })
                .into_iter()
                .flatten()
                .next()
                .ok_or_else(|| ApiError::NotFound("verifying key".into()))?
        }
    };
    Ok(Json(VerifyingKeyBody {
        hash: hex::encode(h),
        verifying_key: hex::encode(bytes.as_slice()),
    }))
}

pub(super) async fn checkpoint(State(s): State<AppState>) -> Result<Response, ApiError> {
    s.board.refresh().await?;
    let (_, note) = s.board.checkpoint_note();
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

/// One log entry on the wire.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct EntryBody {
    /// Log index.
    pub index: u64,
    /// Election id (hex).
    pub election_id: String,
    /// Kind name (PROTOCOL 9.3).
    pub kind: String,
    /// Leaf hash (hex).
    pub leaf_hash: String,
    /// Canonical bytes of the entry (hex).
    pub entry: String,
}

pub(crate) fn kind_name(kind: u8) -> String {
    urna_protocol::board::EntryKind::from_byte(kind)
        .map(|k| k.name().to_owned())
        .unwrap_or_else(|_| format!("unknown-{kind}"))
}

impl From<&StoredEntry> for EntryBody {
    fn from(e: &StoredEntry) -> Self {
        Self {
            index: e.index,
            election_id: hex::encode(e.election_id),
            kind: kind_name(e.kind),
            leaf_hash: hex::encode(e.leaf_hash.as_bytes()),
            // the bulk of an export: SIMD encoding (lowercase, as `hex`)
            entry: const_hex::encode(&e.entry),
        }
    }
}

/// `GET /v1/log/entries?start=&limit=`.
#[derive(Debug, Deserialize)]
pub(super) struct RangeQuery {
    #[serde(default)]
    start: u64,
    limit: Option<u64>,
}

/// A page of entries.
#[derive(Debug, Serialize, Deserialize)]
pub struct EntriesPage {
    /// The entries, in order.
    pub entries: Vec<EntryBody>,
    /// The start of the next page, if there is more.
    pub next: Option<u64>,
    /// The published size the page was read against.
    pub size: u64,
}

pub(super) async fn entries(
    State(s): State<AppState>,
    QueryParams(q): QueryParams<RangeQuery>,
) -> Result<Json<EntriesPage>, ApiError> {
    s.board.refresh().await?;
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::BadParameter(format!(
            "limit must be in 1..={MAX_PAGE}"
        )));
    }
    let size = s.board.size();
    let start = q.start.min(size);
    let end = size.min(start.saturating_add(limit));
    let rows = s.board.store().entries(start, end).await?;
    Ok(Json(EntriesPage {
        entries: rows.iter().map(EntryBody::from).collect(),
        next: (end < size).then_some(end),
        size,
    }))
}

pub(super) async fn entry(
    State(s): State<AppState>,
    Path(index): Path<String>,
) -> Result<Json<EntryBody>, ApiError> {
    let index: u64 = index
        .parse()
        .map_err(|_| ApiError::BadParameter("index must be a decimal number".into()))?;
    s.board.refresh().await?;
    if index >= s.board.size() {
        return Err(ApiError::NotFound(format!("entry {index}")));
    }
    let rows = s.board.store().entries(index, index + 1).await?;
    rows.first()
        .map(|e| Json(EntryBody::from(e)))
        .ok_or_else(|| ApiError::NotFound(format!("entry {index}")))
}

/// `GET /v1/log/inclusion?index=|leaf_hash=[&size=]`.
#[derive(Debug, Deserialize)]
pub(super) struct InclusionQuery {
    index: Option<u64>,
    leaf_hash: Option<String>,
    size: Option<u64>,
}

/// An inclusion proof.
#[derive(Debug, Serialize, Deserialize)]
pub struct InclusionBody {
    /// The entry's index.
    pub index: u64,
    /// Its leaf hash (hex).
    pub leaf_hash: String,
    /// The tree size the proof is for.
    pub tree_size: u64,
    /// Sibling hashes, leaf to root (hex).
    pub proof: Vec<String>,
    /// The latest signed checkpoint (its size may be larger than `tree_size` when a size
    /// was asked for).
    pub checkpoint: String,
}

fn hexes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| hex::encode(h.as_bytes())).collect()
}

pub(super) async fn inclusion(
    State(s): State<AppState>,
    QueryParams(q): QueryParams<InclusionQuery>,
) -> Result<Json<InclusionBody>, ApiError> {
    s.board.refresh().await?;
    let index = match (q.index, q.leaf_hash) {
        (Some(i), None) => i,
        (None, Some(h)) => {
            let h = Hash::from(hex32("leaf_hash", &h)?);
            s.board
                .store()
                .index_of_leaf_hash(h)
                .await?
                .ok_or_else(|| ApiError::NotFound("leaf hash".into()))?
        }
        _ => {
            return Err(ApiError::BadParameter(
                "give exactly one of index and leaf_hash".into(),
            ))
        }
    };
    let (published, note) = s.board.checkpoint_note();
    let size = q.size.unwrap_or(published);
    let (leaf, proof) = s.board.inclusion_proof(index, size)?;
    Ok(Json(InclusionBody {
        index,
        leaf_hash: hex::encode(leaf.as_bytes()),
        tree_size: size,
        proof: hexes(&proof),
        checkpoint: note,
    }))
}

/// `GET /v1/log/consistency?from=&to=`.
#[derive(Debug, Deserialize)]
pub(super) struct ConsistencyQuery {
    from: u64,
    to: Option<u64>,
}

/// A consistency proof.
#[derive(Debug, Serialize, Deserialize)]
pub struct ConsistencyBody {
    /// The older size.
    pub from: u64,
    /// The newer size.
    pub to: u64,
    /// The proof (hex).
    pub proof: Vec<String>,
    /// The latest signed checkpoint.
    pub checkpoint: String,
}

pub(super) async fn consistency(
    State(s): State<AppState>,
    QueryParams(q): QueryParams<ConsistencyQuery>,
) -> Result<Json<ConsistencyBody>, ApiError> {
    s.board.refresh().await?;
    let (published, note) = s.board.checkpoint_note();
    let to = q.to.unwrap_or(published);
    let proof = s.board.consistency_proof(q.from, to)?;
    Ok(Json(ConsistencyBody {
        from: q.from,
        to,
        proof: hexes(&proof),
        checkpoint: note,
    }))
}
