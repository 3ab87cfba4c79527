//! The voter web client: the static pages (`--web-dir`) and the proving keys the
//! pages download (docs/API.md, "Web client").

use std::path::Path as FsPath;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use super::hex32;
use crate::board::Board;
use crate::error::ApiError;
use crate::keys::ProvingKeys;

/// The header carrying the SHA-256 (hex) of a served proving key.
pub const PROVING_KEY_SHA256_HEADER: &str = "x-urna-proving-key-sha256";

/// The pages' Content-Security-Policy: everything from the board itself, nothing from
/// anywhere else; wasm may be compiled, nothing may frame the pages.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' \
    'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; img-src 'self' data: blob:; \
    style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// What the web routes serve.
#[derive(Clone, Debug, Default)]
pub struct WebAssets {
    /// The directory of the built web client (`web/dist`), if any.
    pub web_dir: Option<std::path::PathBuf>,
    /// The proving keys, by verifying-key hash.
    pub proving_keys: Arc<ProvingKeys>,
}

/// What the proving-key route serves from: the board's key files, and the keys its
/// elections' setup ceremonies derived.
#[derive(Clone, Debug)]
pub(super) struct ProvingKeySource {
    keys: Arc<ProvingKeys>,
    board: Arc<Board>,
}

/// `GET /v1/keys/{vk_hash}/proving-key`: the uncompressed proving-key bytes for that
/// verifying key, with their SHA-256 in [`PROVING_KEY_SHA256_HEADER`]; immutable, so
/// cached for a year. A key of a ceremony election is derived from its transcript on the
/// first request after a start (PROTOCOL 14.10).
pub(super) async fn proving_key(
    State(source): State<ProvingKeySource>,
    Path(hash): Path<String>,
) -> Result<Response, ApiError> {
    let h = hex32("hash", &hash)?;
    let key = match source.keys.get(&h) {
        Some(k) => Arc::new(k.clone()),
        None => source
            .board
            .ceremony_proving_key(&h)
            .await?
            .ok_or_else(|| ApiError::NotFound("proving key".into()))?,
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CACHE_CONTROL,
                "public, max-age=31536000, immutable".to_owned(),
            ),
            (
                HeaderName::from_static(PROVING_KEY_SHA256_HEADER),
                hex::encode(key.sha256),
            ),
        ],
        key.bytes.clone(),
    )
        .into_response())
}

/// The proving-key route, with its own state.
pub(super) fn proving_key_routes(keys: Arc<ProvingKeys>, board: Arc<Board>) -> Router {
    Router::new()
        .route(
            "/v1/keys/{hash}/proving-key",
            axum::routing::get(proving_key),
        )
        .with_state(ProvingKeySource { keys, board })
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint or file".into())
}

/// Serves the files of `dir` at `/` (`index.html` for a directory, no listings, nothing
/// outside `dir`: `tower-http` rejects `..` and absolute components), with the pages'
/// security headers. Content types come from the file extension (`.wasm` is
/// `application/wasm`). Anything else is the API's JSON 404.
pub(super) fn static_files(dir: &FsPath) -> Router {
    let serve = ServeDir::new(dir)
        .append_index_html_on_directories(true)
        .not_found_service(axum::routing::any(not_found));
    Router::new()
        .fallback_service(serve)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
}
