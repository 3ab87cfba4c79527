//! `urna-server`: parse the configuration, open the board, serve until SIGINT/SIGTERM.

use anyhow::Context as _;
use clap::Parser as _;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = urna_server::Config::parse();
    let state = urna_server::config::build(&config)
        .await
        .context("cannot start the board")?;
    let web = urna_server::config::web_assets(&config).context("cannot load the web client")?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(
        addr = %listener.local_addr()?,
        origin = state.board.key().origin(),
        vkey = %state.board.key().vkey(),
        "urna-server listening"
    );
    urna_server::serve(
        listener,
        urna_server::app_with_web(state, web),
        urna_server::shutdown_signal(),
    )
    .await
    .context("server failed")?;
    Ok(())
}
