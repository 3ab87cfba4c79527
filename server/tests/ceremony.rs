//! The setup ceremony on the board (PROTOCOL 14.10), on SQLite and on PostgreSQL:
//! contributors download the state and contribute, the authority closes each phase with a
//! beacon, the board appends its `setup-keys` entry, serves the derived keys and verifies
//! ballots with them; every out-of-order, forged or stale contribution is refused with
//! its code; a restart in the middle of the ceremony and after it loses nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use common::*;
use rand_core::OsRng;
use tower::ServiceExt as _;
use urna_ceremony::{Beacon, ContributionState};
use urna_circuits::ProvingKey;
use urna_protocol::board::{Payload, SetupContribution, SetupKeys};
use urna_protocol::codec::Canonical;
use urna_protocol::manifest::{Contributor, Setup};
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

/// An election with a ceremony: two trustees (threshold 1), two voters, and one extra
/// contributor (index 3).
fn ceremony_election(seed: u64) -> (Election, SigningKey) {
    let mut e = Election::new(seed, 2, 1, 2);
    let observer = SigningKey::from_seed(&[0x0b; 32]);
    e.manifest.setup = Setup::Ceremony {
        contributors: vec![Contributor {
            name: "Observer".into(),
            signing_key: observer.public_key(),
        }],
    };
    (e, observer)
}

/// A GET whose body is bytes.
async fn get_bytes(router: &Router, uri: &str) -> (StatusCode, Vec<u8>) {
    let req = Request::builder()
        .method("GET")
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

async fn download(router: &Router, base: &str) -> ContributionState {
    let (s, bytes) = get_bytes(router, &format!("{base}/setup/state")).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&bytes));
    ContributionState::from_bytes(&bytes).unwrap()
}

fn contribution(
    e: &Election,
    phase: u8,
    contributor: u32,
    data: Vec<u8>,
    key: &SigningKey,
) -> Vec<u8> {
    let c = SetupContribution { contributor, data };
    let payload = if phase == 1 {
        Payload::SetupPhase1(c)
    } else {
        Payload::SetupPhase2(c)
    };
    e.signed(payload, key)
}

fn beacon(label: &str) -> Beacon {
    Beacon::new(label.as_bytes(), 4).unwrap()
}

async fn ceremony_on_the_board(backend: Backend) {
    let db = Db::fresh(backend).await;
    let clock = TestClock::new(NOW);
    let board = open_board(db.open().await, &clock).await;
    let mut r = router(board);
    let (e, observer) = ceremony_election(41);
    let base = format!("/v1/elections/{}", e.id_hex());
    let p1 = format!("{base}/setup/phase1");
    let p2 = format!("{base}/setup/phase2");
    let resp = post(&r, "/v1/elections", &e.manifest_entry()).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);

    let (s, setup) = call(&r, "GET", &format!("{base}/setup"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(setup["mode"], "ceremony");
    assert_eq!(setup["stage"], "phase1");
    assert_eq!(setup["contributors"].as_array().unwrap().len(), 4);
    assert_eq!(setup["contributors"][3]["name"], "Observer");
    assert!(setup["keys"].is_null());

    // The census cannot freeze before the ceremony closes.
    assert_error(
        &post(&r, &format!("{base}/census/freeze"), &e.freeze_entry()).await,
        StatusCode::CONFLICT,
        "wrong_phase",
    );

    // Trustee 1 contributes from the downloaded state.
    let state = download(&r, &base).await;
    assert_eq!(state.index, 0);
    assert_eq!(state.context, e.id.to_bytes());
    let (data, published) = state.contribute(&mut OsRng).unwrap();
    let t1 = contribution(&e, 1, 1, data.clone(), &e.trustee_signing[0]);
    let resp = post(&r, &p1, &t1).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    let (_, setup) = call(&r, "GET", &format!("{base}/setup"), None).await;
    assert_eq!(setup["contributions"][0]["hash"], hex::encode(published));
    assert_eq!(setup["contributions"][0]["contributor"], 1);
    assert_eq!(setup["hash"], hex::encode(published));

    // Refusals, each with its code, none of which changes the board.
    let size_before = call(&r, "GET", "/v1/board", None).await.1["size"].clone();
    // The same contributor twice in a phase.
    assert_error(
        &post(&r, &p1, &t1).await,
        StatusCode::CONFLICT,
        "duplicate_entry",
    );
    // A contribution made from the state before trustee 1's (stale): bound to the old hash.
    let (stale, _) = state.contribute(&mut OsRng).unwrap();
    assert_error(
        &post(
            &r,
            &p1,
            &contribution(&e, 1, 2, stale, &e.trustee_signing[1]),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_entry",
    );
    // Signed by someone else than the contributor it names.
    let fresh = download(&r, &base).await;
    let (data2, _) = fresh.contribute(&mut OsRng).unwrap();
    assert_error(
        &post(
            &r,
            &p1,
            &contribution(&e, 1, 2, data2.clone(), &e.trustee_signing[0]),
        )
        .await,
        StatusCode::FORBIDDEN,
        "bad_signature",
    );
    // A contributor the manifest does not name.
    assert_error(
        &post(&r, &p1, &contribution(&e, 1, 9, data2.clone(), &observer)).await,
        StatusCode::FORBIDDEN,
        "unknown_contributor",
    );
    // A beacon posted by a trustee.
    let (b_data, _) = fresh.contribute_beacon(&beacon("not yours")).unwrap();
    assert_error(
        &post(
            &r,
            &p1,
            &contribution(&e, 1, 2, b_data, &e.trustee_signing[1]),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_entry",
    );
    // A contribution whose bytes are damaged (a flipped bit in the last point).
    let mut damaged = data2.clone();
    let last = damaged.len() - 5;
    damaged[last] ^= 0x01;
    assert_error(
        &post(
            &r,
            &p1,
            &contribution(&e, 1, 2, damaged, &e.trustee_signing[1]),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_entry",
    );
    // Phase 2 before phase 1 closed.
    assert_error(
        &post(
            &r,
            &p2,
            &contribution(&e, 2, 2, data2.clone(), &e.trustee_signing[1]),
        )
        .await,
        StatusCode::CONFLICT,
        "wrong_phase",
    );
    assert_eq!(
        call(&r, "GET", "/v1/board", None).await.1["size"],
        size_before
    );

    // Trustee 2 and the observer contribute; the authority closes phase 1.
    let resp = post(
        &r,
        &p1,
        &contribution(&e, 1, 2, data2, &e.trustee_signing[1]),
    )
    .await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    let (data3, _) = download(&r, &base).await.contribute(&mut OsRng).unwrap();
    let resp = post(&r, &p1, &contribution(&e, 1, 3, data3, &observer)).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    let (close1, _) = download(&r, &base)
        .await
        .contribute_beacon(&beacon("phase 1 beacon"))
        .unwrap();
    let resp = post(&r, &p1, &contribution(&e, 1, 0, close1, &e.authority)).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    let (late, _) = fresh.contribute(&mut OsRng).unwrap();
    assert_error(
        &post(&r, &p1, &contribution(&e, 1, 3, late, &observer)).await,
        StatusCode::CONFLICT,
        "wrong_phase",
    );

    // A restart between the phases: the board rebuilds the ceremony from its log.
    drop(r);
    let board = open_board(db.open().await, &clock).await;
    r = router(board);

    // Phase 2: the download derives the circuit's parameters from phase 1.
    let state2 = download(&r, &base).await;
    assert_eq!(state2.index, 0);
    // A phase closed by its beacon alone protects nothing.
    let (only_beacon, _) = state2.contribute_beacon(&beacon("too early")).unwrap();
    assert_error(
        &post(&r, &p2, &contribution(&e, 2, 0, only_beacon, &e.authority)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_entry",
    );
    let (d1, _) = state2.contribute(&mut OsRng).unwrap();
    let resp = post(&r, &p2, &contribution(&e, 2, 1, d1, &e.trustee_signing[0])).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    let (close2, final_hash) = download(&r, &base)
        .await
        .contribute_beacon(&beacon("phase 2 beacon"))
        .unwrap();
    let resp = post(&r, &p2, &contribution(&e, 2, 0, close2, &e.authority)).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    // The board appended its setup-keys entry with the beacon.
    let appended = resp.1["appended_by_board"].as_array().unwrap();
    assert_eq!(appended.len(), 1);
    let keys_index = appended[0]["index"].as_u64().unwrap();
    assert_eq!(keys_index, resp.1["receipt"]["index"].as_u64().unwrap() + 1);

    let (_, setup) = call(&r, "GET", &format!("{base}/setup"), None).await;
    assert_eq!(setup["stage"], "closed");
    assert_eq!(setup["contributions"].as_array().unwrap().len(), 6);
    assert_eq!(setup["keys"]["transcript_hash"], hex::encode(final_hash));
    assert_eq!(setup["keys"]["entry_index"], keys_index);
    let vk_hash = setup["keys"]["verifying_key_hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let pk_hash = setup["keys"]["proving_key_hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, summary) = call(&r, "GET", &base, None).await;
    assert_eq!(summary["setup_mode"], "ceremony");
    assert_eq!(summary["keys"]["verifying_key_hash"], vk_hash.as_str());

    // The setup-keys entry is the board's, and says what the summary says.
    let (s, entry) = call(&r, "GET", &format!("/v1/log/entries/{keys_index}"), None).await;
    assert_eq!(s, StatusCode::OK);
    let bytes = hex::decode(entry["entry"].as_str().unwrap()).unwrap();
    let keys_entry = urna_protocol::board::BoardEntry::from_canonical_bytes(&bytes).unwrap();
    keys_entry.verify_signature(&e.manifest).unwrap();
    let Payload::SetupKeys(k) = keys_entry.payload() else {
        panic!("not a setup-keys entry")
    };
    assert_eq!(hex::encode(k.verifying_key_hash()), vk_hash);
    assert_eq!(hex::encode(k.proving_key_hash), pk_hash);
    // Clients cannot post one.
    let forged = e.signed(
        Payload::SetupKeys(SetupKeys {
            verifying_key: groth16().vk.clone(),
            proving_key_hash: groth16().pk.proving_key_hash(),
            transcript_hash: final_hash,
        }),
        &e.authority,
    );
    assert_error(
        &post(&r, &p2, &forged).await,
        StatusCode::BAD_REQUEST,
        "wrong_entry_kind",
    );
    // Nothing after the close.
    let (late2, _) = state2.contribute(&mut OsRng).unwrap();
    assert_error(
        &post(&r, &p2, &contribution(&e, 2, 3, late2, &observer)).await,
        StatusCode::CONFLICT,
        "wrong_phase",
    );
    let (s, _) = get_bytes(&r, &format!("{base}/setup/state")).await;
    assert_eq!(s, StatusCode::CONFLICT);

    // The keys are served: the verifying key, and the proving key whose hash the entry
    // names.
    let (s, vk) = call(&r, "GET", &format!("/v1/keys/{vk_hash}"), None).await;
    assert_eq!(s, StatusCode::OK, "{vk}");
    assert_eq!(vk["verifying_key"], hex::encode(k.verifying_key.to_bytes()));
    let (s, pk_bytes) = get_bytes(&r, &format!("/v1/keys/{vk_hash}/proving-key")).await;
    assert_eq!(s, StatusCode::OK);
    let pk = ProvingKey::from_bytes_trusted(&pk_bytes, &k.proving_key_hash).unwrap();
    assert_eq!(pk.verifying_key().unwrap(), k.verifying_key);

    // The election goes on with the ceremony's keys.
    for m in e.dealer_messages() {
        let resp = post(&r, &format!("{base}/dealers"), &e.dealer_entry(&m)).await;
        assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    }
    let resp = post(&r, &format!("{base}/registration-codes"), &e.codes_entry()).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    for v in 0..2 {
        let resp = post(
            &r,
            &format!("{base}/registrations"),
            &e.registration_entry(v, v),
        )
        .await;
        assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    }
    let resp = post(&r, &format!("{base}/census/freeze"), &e.freeze_entry()).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    let resp = post(&r, &format!("{base}/open"), &e.open_entry(NOW)).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    let good = e.ballot_with(&pk, &e.census(), 0, 1, 7);
    let resp = post(&r, &format!("{base}/ballots"), &e.ballot_entry(&good)).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    // A ballot proved with keys that do not come from the ceremony (the board's
    // single-party test keys): refused.
    let foreign = e.ballot_with(&groth16().pk, &e.census(), 1, 1, 8);
    assert_error(
        &post(&r, &format!("{base}/ballots"), &e.ballot_entry(&foreign)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_ballot",
    );

    // After a restart the proving key is derived again from the log: the same bytes.
    drop(r);
    let board = open_board(db.open().await, &clock).await;
    let r = router(board);
    let (s, again) = get_bytes(&r, &format!("/v1/keys/{vk_hash}/proving-key")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again, pk_bytes);
    let (s, export) = get_bytes(&r, &format!("{base}/export")).await;
    assert_eq!(s, StatusCode::OK);
    let header: serde_json::Value =
        serde_json::from_slice(export.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert!(header.get("verifying_key").is_none(), "{header}");
}

both!(ceremony_on_the_board);

/// An election with fixed keys has no ceremony: contributions are refused and there is
/// no state to download.
async fn fixed_keys_have_no_ceremony(backend: Backend) {
    let db = Db::fresh(backend).await;
    let clock = TestClock::new(NOW);
    let r = router(open_board(db.open().await, &clock).await);
    let e = Election::new(42, 2, 1, 2);
    let base = format!("/v1/elections/{}", e.id_hex());
    assert_eq!(
        post(&r, "/v1/elections", &e.manifest_entry()).await.0,
        StatusCode::CREATED
    );
    let (s, setup) = call(&r, "GET", &format!("{base}/setup"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(setup["mode"], "fixed-keys");
    assert_eq!(
        setup["keys"]["verifying_key_hash"],
        hex::encode(groth16().vk.verifying_key_hash())
    );
    let (s, _) = get_bytes(&r, &format!("{base}/setup/state")).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (ceremony, _) = ceremony_election(42);
    let state = urna_ceremony::CeremonyState::new(e.id.to_bytes(), DEPTH).unwrap();
    let (data, _) = state
        .contribution_state()
        .unwrap()
        .unwrap()
        .contribute(&mut OsRng)
        .unwrap();
    assert_error(
        &post(
            &r,
            &format!("{base}/setup/phase1"),
            &contribution(&ceremony, 1, 0, data, &e.authority),
        )
        .await,
        StatusCode::FORBIDDEN,
        "unknown_contributor",
    );
}

both!(fixed_keys_have_no_ceremony);
