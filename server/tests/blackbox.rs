//! Black-box tests: the real server (configuration, start-up, HTTP on a port chosen by
//! the OS, graceful shutdown) with a fresh database per test, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;

use clap::Parser as _;
use common::*;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use urna_server::keys::{write_verifying_key, BoardKey};
use urna_server::Config;

macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::Backend::Postgres).await;
            }
        }
    };
}

struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

async fn start(config: &Config) -> Running {
    let state = urna_server::config::build(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(urna_server::serve(
        listener,
        urna_server::app(state),
        async {
            let _ = stopped.await;
        },
    ));
    Running { addr, stop, task }
}

fn config(data_dir: &Path, db: &Db, board_key: Option<&Path>) -> Config {
    let mut args = vec![
        "urna-server".to_owned(),
        "--data-dir".into(),
        data_dir.display().to_string(),
        "--max-ballot-bytes".into(),
        "65536".into(),
    ];
    if db.backend == Backend::Postgres {
        args.push("--database".into());
        args.push(db.url.clone());
    }
    if let Some(k) = board_key {
        args.push("--board-key".into());
        args.push(k.display().to_string());
    }
    Config::try_parse_from(args).unwrap()
}

async fn serves_and_restarts(backend: Backend) {
    let db = Db::fresh(backend).await;
    let dir = tempfile::tempdir().unwrap();
    write_verifying_key(&dir.path().join("keys"), &groth16().vk).unwrap();
    let key_file = dir.path().join("test-board.key");
    std::fs::write(
        &key_file,
        board_key().note_signer().expose_skey().as_bytes(),
    )
    .unwrap();
    let config = config(dir.path(), &db, Some(&key_file));
    let client = http_client();

    let server = start(&config).await;
    let health = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let info: Value = client
        .get(server.url("/v1/board"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["vkey"], board_key().vkey());
    assert_eq!(
        info["verifying_keys"][0],
        hex::encode(groth16().vk.verifying_key_hash())
    );

    let e = Election::new(50, 1, 1, 2);
    let resp = client
        .post(server.url("/v1/elections"))
        .json(&json!({ "entry": hex::encode(e.manifest_entry()) }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    // Oversized ballot body: 413 with the JSON error, before parsing.
    let big = vec![b'0'; 70_000];
    let resp = client
        .post(server.url(&format!("/v1/elections/{}/ballots", e.id_hex())))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "body_too_large");
    // Metrics.
    let metrics = client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("urna_log_size 1"), "{metrics}");
    assert!(
        metrics.contains("urna_entries_appended_total{kind=\"manifest\"} 1"),
        "{metrics}"
    );
    let checkpoint = client
        .get(server.url("/v1/log/checkpoint"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(checkpoint, created["receipt"]["checkpoint"]);
    server.stop().await;

    // Restart: every acknowledged entry is still there, under the same checkpoint.
    let server = start(&config).await;
    let again = client
        .get(server.url("/v1/log/checkpoint"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(again, checkpoint);
    let elections: Value = client
        .get(server.url("/v1/elections"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(elections[0]["election_id"], e.id_hex());
    assert_eq!(elections[0]["phase"], "setup");
    server.stop().await;
}
both!(serves_and_restarts);

/// With no `--board-key`, a key is generated into the data directory with mode 0600 on
/// first start and reused after.
#[tokio::test]
async fn generates_board_key_once() {
    let db = Db::fresh(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &db, None);
    let server = start(&config).await;
    let client = http_client();
    let first: Value = client
        .get(server.url("/v1/board"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.stop().await;
    let path = dir.path().join("board.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let key = BoardKey::load(&path).unwrap();
    assert_eq!(first["vkey"], key.vkey());
    assert_eq!(first["origin"], "urna-board");
    let server = start(&config).await;
    let second: Value = client
        .get(server.url("/v1/board"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["vkey"], second["vkey"]);
    server.stop().await;
    // The default database is SQLite in the data directory.
    assert!(dir.path().join("board.sqlite3").exists());
}

/// `--insecure-dev-setup DEPTH` writes single-party keys once; the board serves the VK.
#[tokio::test]
async fn insecure_dev_setup_writes_keys_once() {
    let db = Db::fresh(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), &db, None);
    config.insecure_dev_setup = Some(2);
    let client = http_client();
    for _ in 0..2 {
        let server = start(&config).await;
        let info: Value = client
            .get(server.url("/v1/board"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let hashes = info["verifying_keys"].as_array().unwrap().clone();
        assert_eq!(hashes.len(), 1, "{info}");
        let key: Value = client
            .get(server.url(&format!("/v1/keys/{}", hashes[0].as_str().unwrap())))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let vk = urna_circuits::VerifyingKey::from_bytes(
            &hex::decode(key["verifying_key"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            hex::encode(vk.verifying_key_hash()),
            hashes[0].as_str().unwrap()
        );
        server.stop().await;
    }
    assert!(dir.path().join("keys/insecure-depth-2.pk").exists());
}

/// An HTTP client for the tests. Built with the workspace's features unified, reqwest may
/// have rustls without a default crypto provider (the CLI picks *ring*), so one is
/// installed first; plain `http://` needs none, but reqwest refuses to build without it.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
