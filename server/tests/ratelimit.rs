//! Per-client rate limits over real HTTP (the server's configuration, a socket on a
//! port chosen by the OS, the peer address the limit keys on): writes beyond the burst
//! get 429 `rate_limited` with `Retry-After`; reads are not limited; a disabled limit
//! never answers 429; `X-Forwarded-For` counts only with `--trust-forwarded-for`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;

use clap::Parser as _;
use common::*;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use urna_server::keys::write_verifying_key;
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
    _dir: tempfile::TempDir,
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

/// Starts the server with `extra` flags over `db`.
async fn start(db: &Db, extra: &[&str]) -> Running {
    let dir = tempfile::tempdir().unwrap();
    write_verifying_key(&dir.path().join("keys"), &groth16().vk).unwrap();
    let mut args = vec![
        "urna-server".to_owned(),
        "--data-dir".into(),
        dir.path().display().to_string(),
    ];
    if db.backend == Backend::Postgres {
        args.push("--database".into());
        args.push(db.url.clone());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let config = Config::try_parse_from(args).unwrap();
    let state = urna_server::config::build(&config).await.unwrap();
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
    Running {
        addr,
        stop,
        task,
        _dir: dir,
    }
}

/// An HTTP client (see `process.rs` for why a crypto provider is installed).
fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Posts a registration with a code nobody posted, optionally with `X-Forwarded-For`.
async fn register(
    client: &reqwest::Client,
    server: &Running,
    e: &Election,
    forwarded: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut req = client
        .post(server.url(&format!("/v1/elections/{}/registrations", e.id_hex())))
        .json(&json!({ "entry": hex::encode(e.registration_entry(0, 0)) }));
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, resp.json().await.unwrap())
}

async fn limits_writes(backend: Backend) {
    let db = Db::fresh(backend).await;
    let server = start(
        &db,
        &["--rate-limit-per-second", "1", "--rate-limit-burst", "3"],
    )
    .await;
    let client = http_client();
    let e = Election::new(60, 1, 1, 1);
    // The burst passes the limit (and fails on its own merits: no such election).
    for _ in 0..3 {
        let (status, _, body) = register(&client, &server, &e, None).await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body["error"], "unknown_election");
    }
    let (status, retry, body) = register(&client, &server, &e, None).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], "rate_limited");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("too many requests"));
    let retry: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    // Ballots and election creation are writes too.
    let resp = client
        .post(server.url(&format!("/v1/elections/{}/ballots", e.id_hex())))
        .json(&json!({ "entry": "00" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let resp = client
        .post(server.url("/v1/elections"))
        .json(&json!({ "entry": hex::encode(e.manifest_entry()) }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    // Reads are not limited.
    for _ in 0..10 {
        let resp = client
            .get(server.url("/v1/log/checkpoint"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    // X-Forwarded-For is not trusted by default: another claimed address is still us.
    let (status, _, _) = register(&client, &server, &e, Some("198.51.100.1")).await;
    assert_eq!(status, 429);
    // After the advertised wait, the bucket has a token again.
    tokio::time::sleep(std::time::Duration::from_secs(retry)).await;
    let (status, _, body) = register(&client, &server, &e, None).await;
    assert_eq!(status, 404, "{body}");
    server.stop().await;
}
both!(limits_writes);

async fn disabled_never_limits(backend: Backend) {
    let db = Db::fresh(backend).await;
    for flags in [
        &["--rate-limit-per-second", "0"][..],
        &["--rate-limit-burst", "0"][..],
    ] {
        let server = start(&db, flags).await;
        let client = http_client();
        let e = Election::new(61, 1, 1, 1);
        let mut tasks = Vec::new();
        for _ in 0..300 {
            let (client, url) = (
                client.clone(),
                server.url(&format!("/v1/elections/{}/registrations", e.id_hex())),
            );
            let entry = hex::encode(e.registration_entry(0, 0));
            tasks.push(tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({ "entry": entry }))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 404);
        }
        server.stop().await;
    }
}
both!(disabled_never_limits);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_when_trusted() {
    let db = Db::fresh(Backend::Sqlite).await;
    let server = start(
        &db,
        &[
            "--rate-limit-per-second",
            "1",
            "--rate-limit-burst",
            "1",
            "--trust-forwarded-for",
        ],
    )
    .await;
    let client = http_client();
    let e = Election::new(62, 1, 1, 1);
    // Each proxied client has its own bucket: the last address of the header counts.
    assert_eq!(
        register(&client, &server, &e, Some("203.0.113.5, 198.51.100.1"))
            .await
            .0,
        404
    );
    assert_eq!(
        register(&client, &server, &e, Some("203.0.113.5, 198.51.100.1"))
            .await
            .0,
        429
    );
    assert_eq!(
        register(&client, &server, &e, Some("198.51.100.1, 198.51.100.2"))
            .await
            .0,
        404
    );
    // Without the header, the proxy's own (socket) address.
    assert_eq!(register(&client, &server, &e, None).await.0, 404);
    assert_eq!(register(&client, &server, &e, None).await.0, 429);
    server.stop().await;
}

#[test]
fn defaults() {
    let config = Config::try_parse_from(["urna-server"]).unwrap();
    assert_eq!(config.rate_limit_per_second, 100);
    assert_eq!(config.rate_limit_burst, 200);
    assert!(!config.trust_forwarded_for);
}
