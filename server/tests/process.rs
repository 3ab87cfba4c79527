//! The `urna-server` binary as a process: start-up from flags, SIGTERM, a restart that
//! keeps every acknowledged entry, and two processes sharing one PostgreSQL database
//! (they must never write two entries at one index, and must agree on the log).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use urna_log::Checkpoint;
use urna_server::keys::write_verifying_key;

/// A running server process and its address.
struct Process {
    child: Child,
    base: String,
}

impl Process {
    /// Starts `urna-server` with `args`, waiting for its "listening" log line.
    fn start(args: &[String]) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_urna-server"))
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent && line.contains("urna-server listening") {
                    let addr = line
                        .split_whitespace()
                        .find_map(|w| w.strip_prefix("addr="))
                        .map(str::to_owned);
                    let _ = tx.send(addr);
                    sent = true;
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the server did not start")
            .expect("no address in the listening line");
        Process {
            child,
            base: format!("http://{addr}"),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM and expects a clean exit.
    fn terminate(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit status after SIGTERM: {status}");
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no exit 30 s after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn args(data_dir: &Path, key_file: &Path, database: Option<&str>) -> Vec<String> {
    let mut a = vec![
        "--data-dir".to_owned(),
        data_dir.display().to_string(),
        "--board-key".into(),
        key_file.display().to_string(),
    ];
    if let Some(url) = database {
        a.push("--database".into());
        a.push(url.to_owned());
    }
    a
}

/// A data directory with the test verifying key and the test board key.
fn data_dir() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    write_verifying_key(&dir.path().join("keys"), &groth16().vk).unwrap();
    let key_file = dir.path().join("board.key");
    std::fs::write(
        &key_file,
        board_key().note_signer().expose_skey().as_bytes(),
    )
    .unwrap();
    (dir, key_file)
}

async fn post(client: &reqwest::Client, url: String, entry: &[u8]) -> (u16, Value) {
    let resp = client
        .post(url)
        .json(&json!({ "entry": hex::encode(entry) }))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

async fn text(client: &reqwest::Client, url: String) -> String {
    client
        .get(url)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn open_checkpoint(note: &str) -> Checkpoint {
    let key = board_key();
    Checkpoint::open(note.as_bytes(), key.origin(), &key.verifier()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_then_restart_keeps_every_acknowledged_entry() {
    let (dir, key_file) = data_dir();
    let a = args(dir.path(), &key_file, None);
    let client = http_client();

    let server = Process::start(&a);
    let e = Election::new(61, 1, 1, 3);
    let (status, _) = post(&client, server.url("/v1/elections"), &e.manifest_entry()).await;
    assert_eq!(status, 201);
    let codes = format!("/v1/elections/{}/registration-codes", e.id_hex());
    let (status, _) = post(&client, server.url(&codes), &e.codes_entry()).await;
    assert_eq!(status, 201);
    let regs = format!("/v1/elections/{}/registrations", e.id_hex());
    let (status, receipt) = post(&client, server.url(&regs), &e.registration_entry(0, 0)).await;
    assert_eq!(status, 201, "{receipt}");
    let checkpoint = text(&client, server.url("/v1/log/checkpoint")).await;
    assert_eq!(open_checkpoint(&checkpoint).size(), 3);
    server.terminate();

    let server = Process::start(&a);
    assert_eq!(
        text(&client, server.url("/v1/log/checkpoint")).await,
        checkpoint
    );
    // The spent code stays spent across the restart.
    let (status, body) = post(&client, server.url(&regs), &e.registration_entry(0, 1)).await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = post(&client, server.url(&regs), &e.registration_entry(1, 1)).await;
    assert_eq!(status, 201);
    server.terminate();
}

/// Two processes on one PostgreSQL database (the replica mode of docs/API.md): writes
/// through either land in one log with contiguous indices, and each process catches up
/// with the other's entries before it appends or answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_postgres_log() {
    let db = Db::fresh(Backend::Postgres).await;
    let (dir_a, key_a) = data_dir();
    let (dir_b, key_b) = data_dir();
    let a = Process::start(&args(dir_a.path(), &key_a, Some(&db.url)));
    let b = Process::start(&args(dir_b.path(), &key_b, Some(&db.url)));
    let client = http_client();

    let voters = 10;
    let e = Election::new(62, 1, 1, voters);
    let (status, _) = post(&client, a.url("/v1/elections"), &e.manifest_entry()).await;
    assert_eq!(status, 201);
    // B learns of the election A created.
    let codes = format!("/v1/elections/{}/registration-codes", e.id_hex());
    let (status, body) = post(&client, b.url(&codes), &e.codes_entry()).await;
    assert_eq!(status, 201, "{body}");

    // Registrations sent to both at once, alternating.
    let regs = format!("/v1/elections/{}/registrations", e.id_hex());
    let mut tasks = Vec::new();
    for voter in 0..voters {
        let url = if voter % 2 == 0 {
            a.url(&regs)
        } else {
            b.url(&regs)
        };
        let entry = e.registration_entry(voter, voter);
        let client = client.clone();
        tasks.push(tokio::spawn(
            async move { post(&client, url, &entry).await },
        ));
    }
    let mut indices = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 201, "{body}");
        indices.push(body["receipt"]["index"].as_u64().unwrap());
    }
    indices.sort_unstable();
    assert_eq!(indices, (2..2 + voters as u64).collect::<Vec<_>>());

    // Both serve the same log; each one's checkpoint is consistent with the other's.
    let size = 2 + voters as u64;
    for p in [&a, &b] {
        let page: Value = client
            .get(p.url("/v1/log/entries?start=0&limit=100"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let entries = page["entries"].as_array().unwrap();
        assert_eq!(entries.len() as u64, size);
        for (i, entry) in entries.iter().enumerate() {
            assert_eq!(entry["index"].as_u64().unwrap(), i as u64);
        }
        let cp = open_checkpoint(&text(&client, p.url("/v1/log/checkpoint")).await);
        assert_eq!(cp.size(), size);
    }
    let ca = open_checkpoint(&text(&client, a.url("/v1/log/checkpoint")).await);
    let cb = open_checkpoint(&text(&client, b.url("/v1/log/checkpoint")).await);
    assert_eq!(ca.root(), cb.root());
    a.terminate();
    b.terminate();
}

/// Runs `urna-server` with `args`, expecting it to refuse to start: returns its
/// standard error.
fn start_fails(args: &[String]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_urna-server"))
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("urna-server {args:?} kept running");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A read-only replica over the database of a writable server (SCALING.md, "The read
/// path on replicas"): it refuses to start before the schema exists (it runs no
/// migrations) or without PostgreSQL, refuses every write with 503 `read_only` without
/// touching the log, and serves what the writable server appended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_replica_serves_reads_and_refuses_writes() {
    let db = Db::fresh(Backend::Postgres).await;
    let (dir_a, key_a) = data_dir();
    let (dir_r, key_r) = data_dir();
    let mut replica_args = args(dir_r.path(), &key_r, Some(&db.url));
    replica_args.push("--read-only".into());

    // No writable server has migrated the schema yet.
    let err = start_fails(&replica_args);
    assert!(err.contains("not migrated"), "{err}");
    // SQLite has no replicas.
    let mut sqlite_args = args(dir_r.path(), &key_r, None);
    sqlite_args.push("--read-only".into());
    let err = start_fails(&sqlite_args);
    assert!(
        err.contains("--read-only needs --database postgres"),
        "{err}"
    );

    let a = Process::start(&args(dir_a.path(), &key_a, Some(&db.url)));
    let r = Process::start(&replica_args);
    let client = http_client();
    let e = Election::new(63, 1, 1, 4);

    // A write sent to the replica is refused, and nothing reaches the log.
    let (status, body) = post(&client, r.url("/v1/elections"), &e.manifest_entry()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "read_only", "{body}");
    let cp = open_checkpoint(&text(&client, a.url("/v1/log/checkpoint")).await);
    assert_eq!(cp.size(), 0);

    // The writable server appends; the replica serves it.
    let (status, _) = post(&client, a.url("/v1/elections"), &e.manifest_entry()).await;
    assert_eq!(status, 201);
    let codes = format!("/v1/elections/{}/registration-codes", e.id_hex());
    let (status, body) = post(&client, r.url(&codes), &e.codes_entry()).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("read_only")));
    let (status, _) = post(&client, a.url(&codes), &e.codes_entry()).await;
    assert_eq!(status, 201);
    let ca = open_checkpoint(&text(&client, a.url("/v1/log/checkpoint")).await);
    let cr = open_checkpoint(&text(&client, r.url("/v1/log/checkpoint")).await);
    assert_eq!(cr.size(), 2);
    assert_eq!(cr.root(), ca.root());
    let path = format!("/v1/elections/{}", e.id_hex());
    let from_r: Value = serde_json::from_str(&text(&client, r.url(&path)).await).unwrap();
    let from_a: Value = serde_json::from_str(&text(&client, a.url(&path)).await).unwrap();
    assert_eq!(from_r, from_a);
    assert!(
        from_r["registration_codes"].as_u64().unwrap() > 0,
        "{from_r}"
    );
    a.terminate();
    r.terminate();
}

/// An HTTP client for the tests. Built with the workspace's features unified, reqwest may
/// have rustls without a default crypto provider (the CLI picks *ring*), so one is
/// installed first; plain `http://` needs none, but reqwest refuses to build without it.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
