//! `urna-bench` end to end: gen (real and simulated proofs) → a real board on a local
//! port (SQLite) → load (set-up, ballots, close, shares, export) → recount, with the
//! numbers checked; and a forged proof under another trapdoor rejected by the board.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use clap::Parser as _;
use urna_benches::data::{Layout, SetupLine};
use urna_benches::gen::{self, GenOptions};
use urna_benches::load::{self, LoadOptions};
use urna_benches::recount::{self, RecountOptions};
use urna_benches::simulate::Trapdoor;
use urna_protocol::board::{BoardEntry, Payload};
use urna_protocol::codec::Canonical as _;

/// A board on 127.0.0.1 (port chosen by the OS) serving `data`'s keys; its URL and a
/// handle that stops it.
async fn start_board(data: &Path, db_dir: &Path) -> (String, tokio::sync::oneshot::Sender<()>) {
    let layout = Layout::new(data);
    let base = [
        "urna-server".to_owned(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--data-dir".into(),
        db_dir.display().to_string(),
        "--board-key".into(),
        layout.board_key().display().to_string(),
        "--keys-dir".into(),
        layout.keys().display().to_string(),
    ];
    // Rate limiting (if this server version has it) would throttle a load test from one
    // address: switch it off when the flag exists.
    let mut with_flag = base.to_vec();
    with_flag.extend(["--rate-limit-per-second".into(), "0".into()]);
    let config = urna_server::Config::try_parse_from(&with_flag)
        .or_else(|_| urna_server::Config::try_parse_from(&base))
        .unwrap();
    let state = urna_server::config::build(&config).await.unwrap();
    let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(urna_server::serve(
        listener,
        urna_server::app(state),
        async move {
            let _ = stopped.await;
        },
    ));
    (url, stop)
}

fn gen_data(dir: &Path, voters: u64, simulate: bool) {
    let meta = gen::run(&GenOptions {
        voters,
        depth: 3,
        options: 5,
        out: dir.to_path_buf(),
        simulate_proofs: simulate,
        window_seconds: 3600,
        progress: false,
    })
    .unwrap();
    assert_eq!(meta.voters, voters);
    assert_eq!(meta.expected_counts.iter().sum::<u64>(), voters);
    assert_eq!(meta.simulated_proofs, simulate);
    assert_eq!(
        Layout::new(dir).trapdoor().exists(),
        simulate,
        "the trapdoor is written only for simulated proofs"
    );
}

fn options(url: &str, data: &Path) -> LoadOptions {
    LoadOptions {
        url: url.to_owned(),
        data: data.to_path_buf(),
        concurrency: 4,
        limit: None,
        rate: None,
        retries: 20,
        close: false,
        export: None,
        progress: false,
    }
}

/// Load, close, export and recount; checks every number.
async fn full_run(data: &Path, voters: u64, url: &str, skip_setup: bool) {
    let export = data.join("export.ndjson");
    let report = load::run(&LoadOptions {
        close: true,
        export: Some(export.clone()),
        ..options(url, data)
    })
    .await
    .unwrap();
    assert_eq!(report.setup.is_none(), skip_setup);
    if let Some(s) = &report.setup {
        assert_eq!(s.registrations, voters);
    }
    assert_eq!(report.ballots.sent, voters);
    assert_eq!(report.ballots.accepted, voters, "{report}");
    assert!(report.ballots.errors.is_empty(), "{report}");
    assert!(report.ballots.accepted_per_second > 0.0);
    let l = &report.ballots.latency;
    assert!(0.0 < l.p50_ms && l.p50_ms <= l.p99_ms && l.p99_ms <= l.max_ms);
    let close = report.close.as_ref().unwrap();
    assert!(close.tally_posted);
    assert_eq!(close.aggregate_ballots, voters);
    assert!(report.export.as_ref().unwrap().bytes > 0);

    let recount = tokio::task::spawn_blocking({
        let data = data.to_path_buf();
        move || {
            recount::run(&RecountOptions {
                export,
                data: Some(data),
                threads: None,
            })
        }
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(recount.ballots_cast, voters);
    assert_eq!(recount.ballots_counted, voters);
    assert_eq!(recount.phase, "tallied");
    assert_eq!(recount.tally_matches_choices, Some(true), "{recount}");
    assert!(recount.ballots_per_second > 0.0);
    assert!(recount.peak_rss_mib.unwrap_or(1.0) > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_proofs_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let voters = 3;
    tokio::task::spawn_blocking({
        let data = data.clone();
        move || gen_data(&data, voters, false)
    })
    .await
    .unwrap();
    let (url, stop) = start_board(&data, &tmp.path().join("board")).await;
    full_run(&data, voters, &url, false).await;
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_proofs_end_to_end_and_foreign_forgery_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let voters = 8;
    tokio::task::spawn_blocking({
        let data = data.clone();
        move || gen_data(&data, voters, true)
    })
    .await
    .unwrap();
    let (url, stop) = start_board(&data, &tmp.path().join("board")).await;

    // Set-up only (no ballot sent).
    let report = load::run(&LoadOptions {
        limit: Some(0),
        ..options(&url, &data)
    })
    .await
    .unwrap();
    assert_eq!(report.setup.as_ref().unwrap().registrations, voters);
    assert_eq!(report.ballots.sent, 0);

    // The first stored ballot with its proof re-forged under ANOTHER trapdoor's key:
    // the board must reject it.
    let layout = Layout::new(&data);
    let setup_text = std::fs::read_to_string(layout.setup()).unwrap();
    let first: SetupLine = serde_json::from_str(setup_text.lines().next().unwrap()).unwrap();
    let entry = BoardEntry::from_canonical_bytes(&hex::decode(&first.entry).unwrap()).unwrap();
    let Payload::Manifest(manifest) = entry.payload() else {
        panic!("the first set-up entry is not the manifest")
    };
    let ballots_text = std::fs::read_to_string(layout.ballots()).unwrap();
    let line: serde_json::Value =
        serde_json::from_str(ballots_text.lines().next().unwrap()).unwrap();
    let entry =
        BoardEntry::from_canonical_bytes(&hex::decode(line["entry"].as_str().unwrap()).unwrap())
            .unwrap();
    let Payload::Ballot(mut ballot) = entry.payload().clone() else {
        panic!("not a ballot")
    };
    let other = Trapdoor::random(&mut rand::rngs::OsRng);
    let (_, other_vk) = other.setup(3, &mut rand::rngs::OsRng).unwrap();
    let statement = ballot.eligibility_statement(&manifest.manifest_hash());
    ballot.eligibility = other
        .simulate(&other_vk, &statement, &mut rand::rngs::OsRng)
        .unwrap();
    let forged = BoardEntry::unsigned(manifest.election_id, Payload::Ballot(ballot))
        .unwrap()
        .to_canonical_bytes();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let resp = reqwest::Client::new()
        .post(format!(
            "{url}/v1/elections/{}/ballots",
            hex::encode(manifest.election_id.to_bytes())
        ))
        .header("content-type", "application/json")
        .body(format!("{{\"entry\":\"{}\"}}", hex::encode(forged)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_ballot", "{body}");

    // Now every stored ballot (set-up skipped: the election is open), close, recount.
    full_run(&data, voters, &url, true).await;
    let _ = stop.send(());
}
