//! The verifier accepts an export produced by the real server (`urna-server`, in
//! process, SQLite), with another election's entries interleaved in the log, and over
//! HTTP with `verify_url`. Reuses the server's own test fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../server/tests/common/mod.rs"]
mod server_common;

use axum::http::StatusCode;
use server_common::*;
use urna_verify::{verify_reader, verify_url, Options, Phase, VerifyError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_of_the_real_server_verifies() {
    let db = Db::fresh(Backend::Sqlite).await;
    let clock = TestClock::new(NOW);
    let board = open_board(db.open().await, &clock).await;
    let r = router(board);
    let e = Election::new(11, 2, 2, 3);
    let other = Election::new(12, 2, 1, 1);
    let base = format!("/v1/elections/{}", e.id_hex());
    let other_base = format!("/v1/elections/{}", other.id_hex());
    let ok = |resp: (StatusCode, serde_json::Value)| {
        assert!(resp.0.is_success(), "{}", resp.1);
        resp.1
    };

    ok(post(&r, "/v1/elections", &e.manifest_entry()).await);
    ok(post(&r, "/v1/elections", &other.manifest_entry()).await);
    for m in e.dealer_messages() {
        ok(post(&r, &format!("{base}/dealers"), &e.dealer_entry(&m)).await);
    }
    for m in other.dealer_messages() {
        ok(post(
            &r,
            &format!("{other_base}/dealers"),
            &other.dealer_entry(&m),
        )
        .await);
    }
    ok(post(&r, &format!("{base}/registration-codes"), &e.codes_entry()).await);
    for v in 0..3 {
        ok(post(
            &r,
            &format!("{base}/registrations"),
            &e.registration_entry(v, v),
        )
        .await);
    }
    ok(post(&r, &format!("{base}/census/freeze"), &e.freeze_entry()).await);
    ok(post(&r, &format!("{base}/open"), &e.open_entry(NOW)).await);
    for (voter, choice, seed) in [(0, 0, 1), (1, 1, 2), (2, 1, 3), (0, 2, 4)] {
        let b = e.ballot(voter, choice, seed);
        ok(post(&r, &format!("{base}/ballots"), &e.ballot_entry(&b)).await);
    }
    ok(post(&r, &format!("{base}/close"), &e.close_entry(NOW + 10)).await);
    let (_, agg) = call(&r, "GET", &format!("{base}/aggregate"), None).await;
    let aggregate = decode_aggregate(agg["aggregate"].as_str().unwrap());
    for j in [1, 2] {
        ok(post(
            &r,
            &format!("{base}/shares"),
            &e.shares_entry(j, &aggregate),
        )
        .await);
    }
    let (s, summary) = call(&r, "GET", &base, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(summary["phase"], "tallied");

    let (s, export) = call(&r, "GET", &format!("{base}/export"), None).await;
    assert_eq!(s, StatusCode::OK);
    let text = export.as_str().unwrap().to_owned();
    let report = verify_reader(text.as_bytes(), &Options::default()).unwrap();
    assert_eq!(report.phase, Phase::Tallied);
    assert_eq!(report.ballots_cast, 4);
    assert_eq!(report.ballots_superseded, 1);
    assert_eq!(report.ballots_counted, 3);
    assert!(report.tree_size > report.election_entries);
    let counts: Vec<u64> = report.results.as_ref().unwrap()[0]
        .options
        .iter()
        .map(|(_, n)| *n)
        .collect();
    assert_eq!(counts, vec![0, 2, 1]);

    // The other election's export verifies too (set-up phase, its lines are the
    // first election's leaf hashes).
    let (_, export) = call(&r, "GET", &format!("{other_base}/export"), None).await;
    let report = verify_reader(export.as_str().unwrap().as_bytes(), &Options::default()).unwrap();
    assert_eq!(report.phase, Phase::Setup);
    assert_eq!(report.election_entries, 3);

    // Over HTTP: a real listener and the blocking client.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, r).await });
    let id = e.id_hex();
    let url = format!("http://{addr}");
    let (fetched, unknown) = tokio::task::spawn_blocking(move || {
        (
            verify_url(&url, &id, &Options::default()),
            verify_url(&url, &"ab".repeat(32), &Options::default()),
        )
    })
    .await
    .unwrap();
    assert_eq!(fetched.unwrap().ballots_counted, 3);
    let unknown = unknown.unwrap_err();
    assert!(matches!(unknown.error, VerifyError::Http(_)), "{unknown}");
    assert_eq!(unknown.exit_code(), 2);
    server.abort();
}
