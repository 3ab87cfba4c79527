//! Urna's bulletin board server.
//!
//! The board is one append-only log (PROTOCOL §9, §11) stored in SQLite or PostgreSQL,
//! with an in-memory RFC 9162 Merkle tree and signed checkpoints. Election authorities,
//! trustees and voters post canonically encoded, signed (or proof-authorised) board
//! entries over a JSON API; the board checks each against the protocol crate's rules
//! and its own phase rules before it is appended, and answers with a receipt.
//!
//! * [`config`]: flags, environment and start-up;
//! * [`storage`]: the [`storage::Storage`] trait and its SQLite and PostgreSQL drivers;
//! * [`board`]: the service — checks, sequencing, integration, publishing;
//! * [`api`]: the HTTP layer, [`api::app`] being the router;
//! * [`error`]: [`error::ApiError`], the one error type of the API;
//! * [`keys`]: the board key and the Groth16 verifying keys;
//! * [`metrics`]: Prometheus metrics.
//!
//! See `docs/API.md` and `docs/PROTOCOL.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod board;
pub mod config;
pub mod error;
pub mod keys;
pub mod metrics;
pub mod storage;

pub use api::{app, app_with_web, AppState, Limits, WebAssets};
pub use board::{Board, BoardOptions, Receipt, Submitted};
pub use config::Config;
pub use error::ApiError;

/// Serves `router` on `listener` until `shutdown` completes, then finishes the requests
/// in flight. Handlers see the peer address (`ConnectInfo<SocketAddr>`), which the
/// per-client rate limit keys on.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
