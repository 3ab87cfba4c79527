//! The HTTP API (docs/API.md): routing, body limits, extractors that turn every
//! rejection into an [`ApiError`].
//!
//! Encodings: JSON everywhere; binary objects (entries, hashes, ids, proofs) are
//! lowercase hex of their canonical bytes; the checkpoint is its signed-note text.

mod elections;
mod log;
pub mod ratelimit;
mod web;

pub use web::{WebAssets, CONTENT_SECURITY_POLICY, PROVING_KEY_SHA256_HEADER};

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use tower_http::trace::TraceLayer;

use crate::board::Board;
use crate::error::ApiError;

/// Body limits, in bytes.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Ballots.
    pub ballot: usize,
    /// Every other entry (a registration-codes entry holds up to 100,000 hashes).
    pub entry: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            ballot: 1 << 20,
            entry: 8 << 20,
        }
    }
}

/// What every handler gets.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The board.
    pub board: Arc<Board>,
    /// Body limits.
    pub limits: Limits,
    /// Per-client limits on writes (`None`: unlimited).
    pub rate_limit: Option<Arc<ratelimit::ClientRateLimit>>,
}

/// A JSON body whose rejections are [`ApiError`]s (413 for an oversized body, 400 for
/// malformed JSON).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(JsonBody(v)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::BodyTooLarge)
            }
            Err(rejection) => Err(ApiError::MalformedJson(rejection.body_text())),
        }
    }
}

/// Query parameters whose rejections are [`ApiError::BadParameter`].
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| QueryParams(q.0))
            .map_err(|e| ApiError::BadParameter(e.body_text()))
    }
}

/// Decodes lowercase or uppercase hex (no `0x` prefix), naming the field on failure.
/// SIMD where the CPU has it: a ballot's hex is most of its request body.
pub(crate) fn from_hex(what: &str, s: &str) -> Result<Vec<u8>, ApiError> {
    // `const_hex` would skip a leading `0x`, which is not hex.
    if let [b'0', c @ (b'x' | b'X'), ..] = s.as_bytes() {
        return Err(ApiError::BadEncoding(format!(
            "{what}: invalid character {:?} at position 1",
            char::from(*c)
        )));
    }
    const_hex::decode(s).map_err(|e| ApiError::BadEncoding(format!("{what}: {e}")))
}

/// Decodes 32 bytes of hex.
pub(crate) fn hex32(what: &str, s: &str) -> Result<[u8; 32], ApiError> {
    from_hex(what, s)?
        .try_into()
        .map_err(|_| ApiError::BadEncoding(format!("{what}: not 32 bytes")))
}

async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    match state.board.store().ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

async fn metrics(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    match state.board.metrics().render() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint".into())
}

/// The application with the voter web client: [`app`], plus
/// `GET /v1/keys/{vk_hash}/proving-key` and, when `web.web_dir` is set, the static
/// pages at `/` in place of the JSON 404 for unknown paths.
pub fn app_with_web(state: AppState, web: WebAssets) -> Router {
    let board = state.board.clone();
    let api = api_routes(state).merge(web::proving_key_routes(web.proving_keys, board));
    let router = match &web.web_dir {
        Some(dir) => api.fallback_service(web::static_files(dir)),
        None => api.fallback(not_found),
    };
    router.layer(TraceLayer::new_for_http())
}

/// The application: every route, with its body limit. Proving keys are served for the
/// elections' setup ceremonies only (the key files of `--keys-dir` come with
/// [`app_with_web`]).
pub fn app(state: AppState) -> Router {
    let board = state.board.clone();
    api_routes(state)
        .merge(web::proving_key_routes(Arc::default(), board))
        .fallback(not_found)
        .layer(TraceLayer::new_for_http())
}

fn api_routes(state: AppState) -> Router {
    let entry_limit = DefaultBodyLimit::max(state.limits.entry);
    let ballot_limit = DefaultBodyLimit::max(state.limits.ballot);
    let id = "/v1/elections/{id}";
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/v1/board", get(log::board_info))
        .route("/v1/keys/{hash}", get(log::verifying_key))
        .route("/v1/log/checkpoint", get(log::checkpoint))
        .route("/v1/log/entries", get(log::entries))
        .route("/v1/log/entries/{index}", get(log::entry))
        .route("/v1/log/inclusion", get(log::inclusion))
        .route("/v1/log/consistency", get(log::consistency))
        .route(
            "/v1/elections",
            post(elections::create)
                .get(elections::list)
                .layer(entry_limit),
        )
        .route(id, get(elections::get))
        .route(&format!("{id}/export"), get(elections::export))
        .route(&format!("{id}/census"), get(elections::census))
        .route(&format!("{id}/aggregate"), get(elections::aggregate))
        .route(
            &format!("{id}/census/path/{{commitment}}"),
            get(elections::census_path),
        )
        .route(
            &format!("{id}/dealers"),
            post(elections::dealer).layer(entry_limit),
        )
        .route(
            &format!("{id}/complaints"),
            post(elections::complaint).layer(entry_limit),
        )
        .route(
            &format!("{id}/registration-codes"),
            post(elections::registration_codes).layer(entry_limit),
        )
        .route(
            &format!("{id}/registrations"),
            post(elections::registration).layer(entry_limit),
        )
        .route(
            &format!("{id}/census/freeze"),
            post(elections::freeze).layer(entry_limit),
        )
        .route(
            &format!("{id}/open"),
            post(elections::open).layer(entry_limit),
        )
        .route(
            &format!("{id}/close"),
            post(elections::close).layer(entry_limit),
        )
        .route(
            &format!("{id}/ballots"),
            post(elections::ballot).layer(ballot_limit),
        )
        .route(
            &format!("{id}/shares"),
            post(elections::shares).layer(entry_limit),
        )
        .route(&format!("{id}/setup"), get(elections::setup))
        .route(&format!("{id}/setup/state"), get(elections::setup_state))
        .route(
            &format!("{id}/setup/phase1"),
            post(elections::setup_phase1).layer(entry_limit),
        )
        .route(
            &format!("{id}/setup/phase2"),
            post(elections::setup_phase2).layer(entry_limit),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.rate_limit.clone(),
            ratelimit::limit_writes,
        ))
        .with_state(state)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests
mod tests {
    use super::from_hex;

    #[test]
    fn hex_fields_take_either_case_and_no_prefix() {
        assert_eq!(from_hex("f", "00ffAb").unwrap(), [0, 255, 0xab]);
        assert_eq!(from_hex("f", "").unwrap(), Vec::<u8>::new());
        for bad in ["0x00", "0X00", "abc", "zz", "0 "] {
            let err = from_hex("f", bad).unwrap_err().to_string();
            assert!(err.contains("f: "), "{bad}: {err}");
        }
    }
}
