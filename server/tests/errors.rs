//! Every bad input gets a 4xx with its stable code, and changes nothing (the log size is
//! checked after each). Handler-level, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use common::*;
use serde_json::json;
use tower::ServiceExt as _;
use urna_protocol::board::{BoardEntry, Payload};
use urna_protocol::codec::Canonical;
use urna_protocol::signing::SigningKey;

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

async fn size(r: &Router) -> u64 {
    call(r, "GET", "/v1/board", None).await.1["size"]
        .as_u64()
        .unwrap()
}

/// Posts, expects the error, and checks that the log did not grow.
async fn rejects(r: &Router, path: &str, entry: &[u8], status: StatusCode, code: &str) {
    let before = size(r).await;
    assert_error(&post(r, path, entry).await, status, code);
    assert_eq!(size(r).await, before, "{code} changed the log");
}

async fn raw(r: &Router, path: &str, body: Vec<u8>) -> (StatusCode, serde_json::Value) {
    let req = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let resp = r.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

async fn bad_requests(backend: Backend) {
    let db = Db::fresh(backend).await;
    let clock = TestClock::new(NOW);
    let r = router(open_board(db.open().await, &clock).await);
    let e = Election::new(20, 2, 1, 3);
    let base = format!("/v1/elections/{}", e.id_hex());

    // Malformed JSON, wrong shape, oversized body (413 before parsing).
    assert_error(
        &raw(&r, "/v1/elections", b"{".to_vec()).await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    );
    assert_error(
        &raw(&r, "/v1/elections", br#"{"entri": "00"}"#.to_vec()).await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    );
    let huge = format!(r#"{{"entry": "{}"}}"#, "0".repeat(300 * 1024));
    assert_error(
        &raw(&r, &format!("{base}/ballots"), huge.into_bytes()).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    );
    // Bad hex, bad encoding.
    assert_error(
        &call(&r, "POST", "/v1/elections", Some(json!({"entry": "zz"}))).await,
        StatusCode::BAD_REQUEST,
        "bad_encoding",
    );
    rejects(
        &r,
        "/v1/elections",
        &[1, 0x20, 0, 0],
        StatusCode::BAD_REQUEST,
        "bad_encoding",
    )
    .await;
    // A non-canonical field element: an election id above the BN254 modulus.
    let mut entry = e.manifest_entry();
    entry[2..34].copy_from_slice(&[0xff; 32]);
    rejects(
        &r,
        "/v1/elections",
        &entry,
        StatusCode::BAD_REQUEST,
        "non_canonical_field_element",
    )
    .await;

    // Manifest problems.
    let mut other = Election::new(21, 1, 1, 1);
    other.manifest.board_key = SigningKey::from_seed(&[5; 32]).public_key();
    rejects(
        &r,
        "/v1/elections",
        &other.manifest_entry(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_board_key",
    )
    .await;
    let mut other = Election::new(22, 1, 1, 1);
    other.manifest.setup = urna_protocol::manifest::Setup::Keys {
        verifying_key_hash: [9; 32],
        proving_key_hash: [9; 32],
    };
    rejects(
        &r,
        "/v1/elections",
        &other.manifest_entry(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_verifying_key",
    )
    .await;
    let forged = e.signed(
        Payload::Manifest(e.manifest.clone()),
        &SigningKey::from_seed(&[6; 32]),
    );
    rejects(
        &r,
        "/v1/elections",
        &forged,
        StatusCode::FORBIDDEN,
        "bad_signature",
    )
    .await;
    // Wrong kind at an endpoint; unknown election.
    rejects(
        &r,
        "/v1/elections",
        &e.codes_entry(),
        StatusCode::BAD_REQUEST,
        "wrong_entry_kind",
    )
    .await;
    rejects(
        &r,
        &format!("{base}/registration-codes"),
        &e.codes_entry(),
        StatusCode::NOT_FOUND,
        "unknown_election",
    )
    .await;

    assert_eq!(
        post(&r, "/v1/elections", &e.manifest_entry()).await.0,
        StatusCode::CREATED
    );
    let e2 = Election::new(23, 1, 1, 1);
    assert_eq!(
        post(&r, "/v1/elections", &e2.manifest_entry()).await.0,
        StatusCode::CREATED
    );
    // An entry of election e2 under e's path.
    rejects(
        &r,
        &format!("{base}/registration-codes"),
        &e2.codes_entry(),
        StatusCode::BAD_REQUEST,
        "wrong_election",
    )
    .await;
    // Authority entries signed by someone else.
    let codes = e.signed(
        Payload::RegistrationCodes(vec![[1; 32]]),
        &e.trustee_signing[0],
    );
    rejects(
        &r,
        &format!("{base}/registration-codes"),
        &codes,
        StatusCode::FORBIDDEN,
        "bad_signature",
    )
    .await;

    // Key ceremony: unknown trustee, invalid message, off-curve point, complaints.
    let msgs = e.dealer_messages();
    let mut unknown = msgs[0].clone();
    *unknown.parts_mut().0 = 7;
    let entry = e.signed(Payload::Dealer(unknown), &e.trustee_signing[0]);
    rejects(
        &r,
        &format!("{base}/dealers"),
        &entry,
        StatusCode::FORBIDDEN,
        "unknown_trustee",
    )
    .await;
    let mut moved = msgs[0].clone();
    *moved.parts_mut().0 = 2;
    let entry = e.signed(Payload::Dealer(moved), &e.trustee_signing[1]);
    rejects(
        &r,
        &format!("{base}/dealers"),
        &entry,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_entry",
    )
    .await;
    let mut entry = e.dealer_entry(&msgs[0]);
    // First coefficient commitment: after version, tag, election id, kind, dealer and
    // the sequence length.
    entry[43..75].copy_from_slice(&[0xff; 32]);
    rejects(
        &r,
        &format!("{base}/dealers"),
        &entry,
        StatusCode::BAD_REQUEST,
        "invalid_point",
    )
    .await;

    // Registration.
    assert_eq!(
        post(&r, &format!("{base}/registration-codes"), &e.codes_entry())
            .await
            .0,
        StatusCode::CREATED
    );
    rejects(
        &r,
        &format!("{base}/registration-codes"),
        &e.codes_entry(),
        StatusCode::CONFLICT,
        "duplicate_code_hash",
    )
    .await;
    let unknown_code = BoardEntry::unsigned(
        e.id,
        Payload::Registration {
            code: [0x55; 16],
            commitment: e.voters[0].identity_commitment().unwrap(),
        },
    )
    .unwrap()
    .to_canonical_bytes();
    rejects(
        &r,
        &format!("{base}/registrations"),
        &unknown_code,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_registration_code",
    )
    .await;
    assert_eq!(
        post(
            &r,
            &format!("{base}/registrations"),
            &e.registration_entry(0, 0)
        )
        .await
        .0,
        StatusCode::CREATED
    );
    rejects(
        &r,
        &format!("{base}/registrations"),
        &e.registration_entry(0, 1),
        StatusCode::CONFLICT,
        "registration_code_used",
    )
    .await;
    rejects(
        &r,
        &format!("{base}/registrations"),
        &e.registration_entry(1, 0),
        StatusCode::CONFLICT,
        "duplicate_commitment",
    )
    .await;
    // Freeze with the wrong size.
    let bad_freeze = e.signed(
        Payload::CensusFrozen {
            root: e.census().root(),
            size: 3,
        },
        &e.authority,
    );
    rejects(
        &r,
        &format!("{base}/census/freeze"),
        &bad_freeze,
        StatusCode::UNPROCESSABLE_ENTITY,
        "census_mismatch",
    )
    .await;
    // Open before the census froze.
    rejects(
        &r,
        &format!("{base}/open"),
        &e.open_entry(NOW),
        StatusCode::CONFLICT,
        "wrong_phase",
    )
    .await;
    // Close before open.
    rejects(
        &r,
        &format!("{base}/close"),
        &e.close_entry(NOW),
        StatusCode::CONFLICT,
        "wrong_phase",
    )
    .await;

    // Query parameters.
    for uri in [
        "/v1/log/entries?limit=0",
        "/v1/log/entries?start=abc",
        "/v1/log/inclusion",
        "/v1/log/inclusion?index=0&size=999",
        "/v1/log/consistency?from=5&to=2",
        "/v1/log/entries/x",
    ] {
        assert_error(
            &call(&r, "GET", uri, None).await,
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        );
    }
    for uri in ["/v1/log/entries/999", "/v1/nothing", "/v1/keys/00"] {
        let resp = call(&r, "GET", uri, None).await;
        assert!(resp.0.is_client_error(), "{uri}: {}", resp.1);
    }
    assert_error(
        &call(
            &r,
            "GET",
            &format!("/v1/elections/{}", "11".repeat(32)),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        "unknown_election",
    );
}
both!(bad_requests);

/// Window rules: open outside the manifest's window or with a skewed time, and ballots
/// after the window even without a close entry.
async fn window(backend: Backend) {
    let db = Db::fresh(backend).await;
    let clock = TestClock::new(NOW);
    let r = router(open_board(db.open().await, &clock).await);
    let e = Election::new(30, 1, 1, 2);
    let base = format!("/v1/elections/{}", e.id_hex());
    assert_eq!(
        post(&r, "/v1/elections", &e.manifest_entry()).await.0,
        StatusCode::CREATED
    );
    for m in e.dealer_messages() {
        assert_eq!(
            post(&r, &format!("{base}/dealers"), &e.dealer_entry(&m))
                .await
                .0,
            StatusCode::CREATED
        );
    }
    assert_eq!(
        post(&r, &format!("{base}/registration-codes"), &e.codes_entry())
            .await
            .0,
        StatusCode::CREATED
    );
    for v in 0..2 {
        assert_eq!(
            post(
                &r,
                &format!("{base}/registrations"),
                &e.registration_entry(v, v)
            )
            .await
            .0,
            StatusCode::CREATED
        );
    }
    assert_eq!(
        post(&r, &format!("{base}/census/freeze"), &e.freeze_entry())
            .await
            .0,
        StatusCode::CREATED
    );
    // The entry's time is far from the server clock.
    rejects(
        &r,
        &format!("{base}/open"),
        &e.open_entry(NOW - 5000),
        StatusCode::CONFLICT,
        "outside_window",
    )
    .await;
    // The server clock is before the manifest's window.
    clock.set(e.manifest.opens_at - 10);
    rejects(
        &r,
        &format!("{base}/open"),
        &e.open_entry(e.manifest.opens_at - 10),
        StatusCode::CONFLICT,
        "outside_window",
    )
    .await;
    clock.set(NOW);
    assert_eq!(
        post(&r, &format!("{base}/open"), &e.open_entry(NOW))
            .await
            .0,
        StatusCode::CREATED
    );
    // After closes_at, ballots are refused though no close entry was posted.
    let b = e.ballot(0, 0, 4000);
    clock.set(e.manifest.closes_at);
    rejects(
        &r,
        &format!("{base}/ballots"),
        &e.ballot_entry(&b),
        StatusCode::CONFLICT,
        "voting_closed",
    )
    .await;
    clock.set(NOW);
    assert_eq!(
        post(&r, &format!("{base}/ballots"), &e.ballot_entry(&b))
            .await
            .0,
        StatusCode::CREATED
    );
    // Shares before close.
    let aggregate = urna_protocol::tally::Aggregate::new(&[3]);
    rejects(
        &r,
        &format!("{base}/shares"),
        &e.shares_entry(1, &aggregate),
        StatusCode::CONFLICT,
        "wrong_phase",
    )
    .await;
}
both!(window);

/// The census holds 2^depth voters.
#[tokio::test]
async fn census_full() {
    let db = Db::fresh(Backend::Sqlite).await;
    let clock = TestClock::new(NOW);
    let r = router(open_board(db.open().await, &clock).await);
    let e = Election::new(40, 1, 1, 17);
    let base = format!("/v1/elections/{}", e.id_hex());
    assert_eq!(
        post(&r, "/v1/elections", &e.manifest_entry()).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        post(&r, &format!("{base}/registration-codes"), &e.codes_entry())
            .await
            .0,
        StatusCode::CREATED
    );
    for v in 0..16 {
        assert_eq!(
            post(
                &r,
                &format!("{base}/registrations"),
                &e.registration_entry(v, v)
            )
            .await
            .0,
            StatusCode::CREATED
        );
    }
    rejects(
        &r,
        &format!("{base}/registrations"),
        &e.registration_entry(16, 16),
        StatusCode::CONFLICT,
        "census_full",
    )
    .await;
}
