//! Election endpoints: create, list, get, the writes of each role, the census and the
//! export of one election's board.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use urna_protocol::board::EntryKind;

use super::log::EntryBody;
use super::{from_hex, hex32, AppState, JsonBody, QueryParams};
use crate::board::state::{ElectionState, Phase};
use crate::board::{Board, Submitted, MAX_PAGE};
use crate::error::ApiError;

/// The body of every write: one board entry.
#[derive(Debug, Serialize, Deserialize)]
pub struct PostEntry {
    /// The canonical bytes of the board entry (PROTOCOL 9.3), hex.
    pub entry: String,
}

async fn submit(
    s: &AppState,
    kind: EntryKind,
    election: Option<&str>,
    body: PostEntry,
) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    let election = election.map(|e| hex32("election id", e)).transpose()?;
    let bytes = from_hex("entry", &body.entry)?;
    let submitted = s.board.submit(kind, election, bytes).await?;
    let status = if submitted.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(submitted)))
}

type Posted = Result<(StatusCode, Json<Submitted>), ApiError>;

pub(super) async fn create(State(s): State<AppState>, JsonBody(b): JsonBody<PostEntry>) -> Posted {
    submit(&s, EntryKind::Manifest, None, b).await
}

macro_rules! post_kind {
    ($name:ident, $kind:expr) => {
        pub(super) async fn $name(
            State(s): State<AppState>,
            Path(id): Path<String>,
            JsonBody(b): JsonBody<PostEntry>,
        ) -> Posted {
            submit(&s, $kind, Some(&id), b).await
        }
    };
}

post_kind!(dealer, EntryKind::Dealer);
post_kind!(complaint, EntryKind::Complaint);
post_kind!(registration_codes, EntryKind::RegistrationCodes);
post_kind!(registration, EntryKind::Registration);
post_kind!(freeze, EntryKind::CensusFrozen);
post_kind!(open, EntryKind::Open);
post_kind!(close, EntryKind::Close);
post_kind!(ballot, EntryKind::Ballot);
post_kind!(shares, EntryKind::DecryptionShares);
post_kind!(setup_phase1, EntryKind::SetupPhase1);
post_kind!(setup_phase2, EntryKind::SetupPhase2);

/// A setup contributor an election names (PROTOCOL 14.10).
#[derive(Debug, Serialize, Deserialize)]
pub struct ContributorInfo {
    /// Its index: 0 the authority, `1..=n` the trustees, then the extra contributors.
    pub index: u32,
    /// Its name.
    pub name: String,
    /// Its Ed25519 signing key (hex).
    pub signing_key: String,
}

/// The keys an election's eligibility proofs use.
#[derive(Debug, Serialize, Deserialize)]
pub struct KeyHashes {
    /// SHA-256 of the Groth16 verifying key (hex).
    pub verifying_key_hash: String,
    /// SHA-256 of the proving key (hex).
    pub proving_key_hash: String,
    /// With a ceremony: the final transcript hash (hex).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub transcript_hash: Option<String>,
    /// With a ceremony: the log index of the board's `setup-keys` entry.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub entry_index: Option<u64>,
}

/// `GET …/setup`: where the election's Groth16 keys come from and, for a ceremony, how
/// far it went.
#[derive(Debug, Serialize, Deserialize)]
pub struct SetupSummary {
    /// `fixed-keys` (named by the manifest) or `ceremony` (run on this board).
    pub mode: String,
    /// With a ceremony: `phase1`, `phase2` or `closed`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stage: Option<String>,
    /// The census depth the keys are for.
    pub depth: u32,
    /// With a ceremony: the current transcript hash (hex), what the next contribution is
    /// bound to (the final hash once closed).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hash: Option<String>,
    /// With a ceremony: who may contribute.
    #[serde(default)]
    pub contributors: Vec<ContributorInfo>,
    /// With a ceremony: the accepted contributions, in log order.
    #[serde(default)]
    pub contributions: Vec<crate::board::state::ContributionRecord>,
    /// The keys, once fixed.
    pub keys: Option<KeyHashes>,
}

fn setup_summary(e: &ElectionState) -> SetupSummary {
    use urna_protocol::codec::Encode;
    let m = &e.manifest;
    let Some(setup) = &e.setup else {
        let keys = m.setup.fixed_keys().map(|(vk, pk)| KeyHashes {
            verifying_key_hash: hex::encode(vk),
            proving_key_hash: hex::encode(pk),
            transcript_hash: None,
            entry_index: None,
        });
        return SetupSummary {
            mode: "fixed-keys".into(),
            stage: None,
            depth: m.census_depth,
            hash: None,
            contributors: Vec::new(),
            contributions: Vec::new(),
            keys,
        };
    };
    let mut contributors = Vec::new();
    let mut index = 0u32;
    while let Some((name, key)) = m.contributor(index) {
        contributors.push(ContributorInfo {
            index,
            name: name.to_owned(),
            signing_key: hex::encode(key.encoded()),
        });
        index += 1;
    }
    SetupSummary {
        mode: "ceremony".into(),
        stage: Some(setup.chain.stage().name().into()),
        depth: m.census_depth,
        hash: Some(hex::encode(setup.chain.hash())),
        contributors,
        contributions: setup.contributions.clone(),
        keys: setup.keys.as_ref().map(|k| KeyHashes {
            verifying_key_hash: hex::encode(k.verifying_key_hash),
            proving_key_hash: hex::encode(k.proving_key_hash),
            transcript_hash: Some(hex::encode(k.transcript_hash)),
            entry_index: Some(k.index),
        }),
    }
}

pub(super) async fn setup(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SetupSummary>, ApiError> {
    let id = hex32("election id", &id)?;
    s.board.refresh().await?;
    Ok(Json(s.board.with_election(&id, setup_summary)?))
}

/// `GET …/setup/state`: what the next contributor needs (PROTOCOL 14.10), binary.
pub(super) async fn setup_state(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = hex32("election id", &id)?;
    let bytes = s.board.setup_state(&id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response())
}

/// An election's summary.
#[derive(Debug, Serialize, Deserialize)]
pub struct ElectionSummary {
    /// The election id (hex).
    pub election_id: String,
    /// The manifest's title.
    pub title: String,
    /// The phase: `setup`, `frozen`, `open`, `closed`, `tallied`.
    pub phase: Phase,
    /// Log index of the manifest entry.
    pub manifest_index: u64,
    /// The manifest hash (hex).
    pub manifest_hash: String,
    /// The manifest's voting window (Unix seconds).
    pub opens_at: u64,
    /// End of the window.
    pub closes_at: u64,
    /// Trustees who posted a dealer message.
    pub dealers: Vec<u32>,
    /// Complaints posted.
    pub complaints: usize,
    /// Registration codes posted.
    pub registration_codes: usize,
    /// Registrations (census leaves).
    pub registrations: usize,
    /// The frozen census root (hex).
    pub census_root: Option<String>,
    /// The election public key (hex), from the open entry on.
    pub election_public_key: Option<String>,
    /// Ballot entries on the board (re-votes included).
    pub ballot_entries: u64,
    /// Ballots that count (one per nullifier).
    pub counted_ballots: usize,
    /// Trustees who posted decryption shares.
    pub shares: Vec<u32>,
    /// Log index of the tally entry.
    pub tally_index: Option<u64>,
    /// Where the Groth16 keys come from (the whole story at `…/setup`).
    pub setup_mode: String,
    /// The keys, once fixed (by the manifest, or by the ceremony's `setup-keys` entry).
    pub keys: Option<KeyHashes>,
}

fn summary(e: &ElectionState) -> ElectionSummary {
    use urna_protocol::codec::Encode;
    ElectionSummary {
        election_id: hex::encode(e.manifest.election_id.to_bytes()),
        title: e.manifest.title.clone(),
        phase: e.phase(),
        manifest_index: e.manifest_index,
        manifest_hash: hex::encode(e.manifest_hash),
        opens_at: e.manifest.opens_at,
        closes_at: e.manifest.closes_at,
        dealers: e.dealers.keys().copied().collect(),
        complaints: e.complaints.len(),
        registration_codes: e.code_hashes.len(),
        registrations: e.commitments.len(),
        census_root: e.frozen.as_ref().map(|f| hex::encode(f.root.to_bytes())),
        election_public_key: e.keys.as_ref().map(|k| hex::encode(k.public_key.encoded())),
        ballot_entries: e.ballot_entries,
        counted_ballots: e.latest.len(),
        shares: e.shares.keys().copied().collect(),
        tally_index: e.tally,
        setup_mode: if e.setup.is_some() {
            "ceremony".into()
        } else {
            "fixed-keys".into()
        },
        keys: setup_summary(e).keys,
    }
}

pub(super) async fn list(
    State(s): State<AppState>,
) -> Result<Json<Vec<ElectionSummary>>, ApiError> {
    s.board.refresh().await?;
    Ok(Json(s.board.elections(summary)))
}

pub(super) async fn get(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ElectionSummary>, ApiError> {
    let id = hex32("election id", &id)?;
    s.board.refresh().await?;
    Ok(Json(s.board.with_election(&id, summary)?))
}

/// `GET …/census?start=&limit=`.
#[derive(Debug, Deserialize)]
pub(super) struct CensusQuery {
    #[serde(default)]
    start: usize,
    limit: Option<usize>,
}

/// A page of the census.
#[derive(Debug, Serialize, Deserialize)]
pub struct CensusPage {
    /// The census depth.
    pub depth: u32,
    /// Registrations so far.
    pub size: usize,
    /// The frozen root (hex), once frozen.
    pub root: Option<String>,
    /// Identity commitments (hex) from `start`, in census order.
    pub leaves: Vec<String>,
    /// The start of the next page.
    pub next: Option<usize>,
}

/// Most census leaves per page.
const MAX_CENSUS_PAGE: usize = 10_000;

pub(super) async fn census(
    State(s): State<AppState>,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<CensusQuery>,
) -> Result<Json<CensusPage>, ApiError> {
    let id = hex32("election id", &id)?;
    let limit = q.limit.unwrap_or(MAX_CENSUS_PAGE);
    if limit == 0 || limit > MAX_CENSUS_PAGE {
        return Err(ApiError::BadParameter(format!(
            "limit must be in 1..={MAX_CENSUS_PAGE}"
        )));
    }
    s.board.refresh().await?;
    s.board.with_election(&id, |e| {
        let size = e.commitments.len();
        let start = q.start.min(size);
        let end = size.min(start.saturating_add(limit));
        Json(CensusPage {
            depth: e.manifest.census_depth,
            size,
            root: e.frozen.as_ref().map(|f| hex::encode(f.root.to_bytes())),
            leaves: e
                .commitments
                .get(start..end)
                .unwrap_or_default()
                .iter()
                .map(|c| hex::encode(c.to_bytes()))
                .collect(),
            next: (end < size).then_some(end),
        })
    })
}

/// A voter's census path.
#[derive(Debug, Serialize, Deserialize)]
pub struct CensusPathBody {
    /// The leaf's position.
    pub index: u64,
    /// The frozen root (hex).
    pub root: String,
    /// The path, canonical `MerklePath` encoding (PROTOCOL 10.3), hex.
    pub path: String,
}

pub(super) async fn census_path(
    State(s): State<AppState>,
    Path((id, commitment)): Path<(String, String)>,
) -> Result<Json<CensusPathBody>, ApiError> {
    let id = hex32("election id", &id)?;
    let commitment = hex32("identity commitment", &commitment)?;
    s.board.refresh().await?;
    let (index, path) = s.board.census_path(&id, &commitment).await?;
    let root = s.board.census(&id).await?.root();
    Ok(Json(CensusPathBody {
        index,
        root: hex::encode(root.to_bytes()),
        path: hex::encode(path.to_bytes()),
    }))
}

/// The format name of an export (`docs/API.md`, PROTOCOL §13).
pub const EXPORT_FORMAT: &str = "urna-board-export/v2";

/// The first line of an export.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExportHeader {
    /// [`EXPORT_FORMAT`].
    pub format: String,
    /// The election (hex).
    pub election_id: String,
    /// The log's origin.
    pub origin: String,
    /// The board's signed-note verifier key.
    pub vkey: String,
    /// The signed checkpoint the lines below add up to.
    pub checkpoint: String,
    /// Its size: the number of lines after this one.
    pub tree_size: u64,
    /// The canonical bytes (hex) of the Groth16 verifying key the manifest names by its
    /// `verifying_key_hash`; absent for an election with a setup ceremony, whose key is in
    /// its `setup-keys` entry (PROTOCOL 14.10).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub verifying_key: Option<String>,
}

/// One line of an export after the header: an entry of the election in full, or only the
/// leaf hash of another election's entry.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ExportLine {
    /// An entry of the exported election.
    Entry(EntryBody),
    /// An entry of another election: its place in the log and its leaf hash.
    Other {
        /// Log index.
        index: u64,
        /// Leaf hash (hex).
        leaf_hash: String,
    },
}

fn export_page(rows: &[crate::storage::StoredEntry], id: &[u8; 32]) -> Result<String, ApiError> {
    let mut out = String::new();
    for row in rows {
        let line = if row.election_id == *id {
            ExportLine::Entry(EntryBody::from(row))
        } else {
            ExportLine::Other {
                index: row.index,
                leaf_hash: hex::encode(row.leaf_hash.as_bytes()),
            }
        };
        out.push_str(&serde_json::to_string(&line).map_err(ApiError::internal)?);
        out.push('\n');
    }
    Ok(out)
}

/// `GET /v1/elections/{id}/export`: one line per log index up to the checkpoint's size,
/// so that an auditor recomputes the root from every leaf hash (inclusion and
/// completeness at once). Streamed page by page.
pub(super) async fn export(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = hex32("election id", &id)?;
    s.board.refresh().await?;
    let verifying_key = s.board.with_election(&id, |e| {
        if e.setup.is_some() {
            return Ok(None);
        }
        s.board
            .election_verifying_key_bytes(e)
            .map(|(bytes, _)| Some(hex::encode(bytes.as_slice())))
            .ok_or_else(|| ApiError::internal("the manifest's verifying key is not on this board"))
    })??;
    let (size, note) = s.board.checkpoint_note();
    let header_line = ExportHeader {
        format: EXPORT_FORMAT.into(),
        election_id: hex::encode(id),
        origin: s.board.key().origin().to_owned(),
        vkey: s.board.key().vkey(),
        checkpoint: note,
        tree_size: size,
        verifying_key,
    };
    let mut first = serde_json::to_string(&header_line).map_err(ApiError::internal)?;
    first.push('\n');
    let board: Arc<Board> = s.board.clone();
    // Streamed page by page, so an export of a million ballots is never in memory.
    let pages = futures_util::stream::unfold(0u64, move |from| {
        let board = board.clone();
        async move {
            if from >= size {
                return None;
            }
            let to = size.min(from.saturating_add(MAX_PAGE));
            let page = match board.store().entries(from, to).await {
                Ok(rows) if rows.len() as u64 == to - from => export_page(&rows, &id),
                Ok(rows) => Err(ApiError::internal(format!(
                    "log entries {from}..{to}: {} rows",
                    rows.len()
                ))),
                Err(e) => Err(ApiError::internal(e)),
            };
            match page {
                Ok(text) => Some((Ok::<_, std::io::Error>(text), to)),
                Err(e) => {
                    tracing::error!(error = %e, "export failed");
                    // End the stream: a truncated export fails verification.
                    Some((Err(std::io::Error::other("export failed")), size))
                }
            }
        }
    });
    let stream = futures_util::StreamExt::chain(
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(first) }),
        pages,
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"urna-board-{}.ndjson\"",
                    hex::encode(id)
                ),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// The aggregate the trustees decrypt.
#[derive(Debug, Serialize, Deserialize)]
pub struct AggregateBody {
    /// Ballots counted (one per nullifier).
    pub ballots: u64,
    /// The aggregate's encoding (`u64 ballots ‖ u32 contests ‖ seq(ciphertext)…`,
    /// PROTOCOL 8.1), hex.
    pub aggregate: String,
}

pub(super) async fn aggregate(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AggregateBody>, ApiError> {
    use urna_protocol::codec::Encode;
    let id = hex32("election id", &id)?;
    s.board.refresh().await?;
    let aggregate = s.board.aggregate(&id).await?;
    Ok(Json(AggregateBody {
        ballots: aggregate.ballots(),
        aggregate: hex::encode(aggregate.encoded()),
    }))
}
