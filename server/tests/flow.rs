//! Handler-level tests (`Router` + `oneshot`) of a whole election on SQLite and on
//! PostgreSQL: creation, key ceremony, registration, freeze, open, ballots (replay,
//! re-vote, copied ciphertexts, wrong census root, bad proofs), close, shares and the
//! tally; the log endpoints and the export; a restart that keeps every entry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::*;
use urna_log::{Checkpoint, Hash};

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

fn h(s: &serde_json::Value) -> Hash {
    Hash::from_slice(&hex::decode(s.as_str().unwrap()).unwrap()).unwrap()
}

/// Checks a receipt against the board's key.
fn check_receipt(receipt: &serde_json::Value) {
    let key = board_key();
    let cp = Checkpoint::open(
        receipt["checkpoint"].as_str().unwrap().as_bytes(),
        key.origin(),
        &key.verifier(),
    )
    .unwrap();
    assert_eq!(cp.size(), receipt["tree_size"].as_u64().unwrap());
    let proof: Vec<Hash> = receipt["inclusion_proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(h)
        .collect();
    cp.verify_inclusion(
        receipt["index"].as_u64().unwrap(),
        &h(&receipt["leaf_hash"]),
        &proof,
    )
    .unwrap();
}

async fn full_election(backend: Backend) {
    let db = Db::fresh(backend).await;
    let clock = TestClock::new(NOW);
    let board = open_board(db.open().await, &clock).await;
    let r = router(board.clone());
    let e = Election::new(1, 2, 2, 3);
    let base = format!("/v1/elections/{}", e.id_hex());

    // Board identity.
    let (s, info) = call(&r, "GET", "/v1/board", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        info["public_key"],
        hex::encode(board_key().public_key().to_bytes())
    );

    // Create.
    let resp = post(&r, "/v1/elections", &e.manifest_entry()).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    assert_eq!(resp.1["receipt"]["index"], 0);
    check_receipt(&resp.1["receipt"]);
    assert_error(
        &post(&r, "/v1/elections", &e.manifest_entry()).await,
        StatusCode::CONFLICT,
        "election_exists",
    );

    // Key ceremony.
    for m in e.dealer_messages() {
        let resp = post(&r, &format!("{base}/dealers"), &e.dealer_entry(&m)).await;
        assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    }
    let m1 = &e.dealer_messages()[0];
    assert_error(
        &post(&r, &format!("{base}/dealers"), &e.dealer_entry(m1)).await,
        StatusCode::CONFLICT,
        "duplicate_entry",
    );

    // Registration.
    let resp = post(&r, &format!("{base}/registration-codes"), &e.codes_entry()).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    for v in 0..3 {
        let resp = post(
            &r,
            &format!("{base}/registrations"),
            &e.registration_entry(v, v),
        )
        .await;
        assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    }
    assert_error(
        &post(
            &r,
            &format!("{base}/registrations"),
            &e.registration_entry(0, 1),
        )
        .await,
        StatusCode::CONFLICT,
        "registration_code_used",
    );
    // Ballot before open.
    let early = e.ballot(0, 0, 500);
    assert_error(
        &post(&r, &format!("{base}/ballots"), &e.ballot_entry(&early)).await,
        StatusCode::CONFLICT,
        "voting_not_open",
    );
    // Freeze.
    let resp = post(&r, &format!("{base}/census/freeze"), &e.freeze_entry()).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    assert_error(
        &post(
            &r,
            &format!("{base}/registrations"),
            &e.registration_entry(3, 0),
        )
        .await,
        StatusCode::CONFLICT,
        "census_frozen",
    );
    let (s, census) = call(&r, "GET", &format!("{base}/census"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(census["size"], 3);
    assert_eq!(census["root"], hex::encode(e.census().root().to_bytes()));
    let commitment = hex::encode(e.voters[1].identity_commitment().unwrap().to_bytes());
    let (s, path) = call(&r, "GET", &format!("{base}/census/path/{commitment}"), None).await;
    assert_eq!(s, StatusCode::OK, "{path}");
    assert_eq!(path["index"], 1);
    let mp = urna_circuits::MerklePath::from_bytes(
        &hex::decode(path["path"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    mp.verify(
        &e.voters[1].identity_commitment().unwrap(),
        &e.census().root(),
    )
    .unwrap();

    // Open.
    let resp = post(&r, &format!("{base}/open"), &e.open_entry(NOW)).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    let (_, summary) = call(&r, "GET", &base, None).await;
    assert_eq!(summary["phase"], "open");

    // Ballots.
    let b0 = e.ballot(0, 0, 1000);
    let first = post(&r, &format!("{base}/ballots"), &e.ballot_entry(&b0)).await;
    assert_eq!(first.0, StatusCode::CREATED, "{}", first.1);
    check_receipt(&first.1["receipt"]);
    assert!(first.1["tracking_code"].is_string());
    // Byte-identical replay: the original receipt, nothing added.
    let again = post(&r, &format!("{base}/ballots"), &e.ballot_entry(&b0)).await;
    assert_eq!(again.0, StatusCode::OK, "{}", again.1);
    assert_eq!(again.1["replayed"], true);
    assert_eq!(again.1["receipt"]["index"], first.1["receipt"]["index"]);
    // Re-randomised proof: same identity, same answer.
    let mut b0r = b0.clone();
    b0r.eligibility = b0
        .eligibility
        .rerandomize(&groth16().vk, &mut rng(4))
        .unwrap();
    let rr = post(&r, &format!("{base}/ballots"), &e.ballot_entry(&b0r)).await;
    assert_eq!(rr.0, StatusCode::OK, "{}", rr.1);
    assert_eq!(rr.1["receipt"]["index"], first.1["receipt"]["index"]);
    // Voter 1 votes B; voter 0 re-votes C.
    let b1 = e.ballot(1, 1, 1001);
    assert_eq!(
        post(&r, &format!("{base}/ballots"), &e.ballot_entry(&b1))
            .await
            .0,
        StatusCode::CREATED
    );
    let b0v2 = e.ballot(0, 2, 1002);
    let revote = post(&r, &format!("{base}/ballots"), &e.ballot_entry(&b0v2)).await;
    assert_eq!(revote.0, StatusCode::CREATED, "{}", revote.1);
    // The earlier ballot replayed after the re-vote: its old receipt, never superseding.
    let old = post(&r, &format!("{base}/ballots"), &e.ballot_entry(&b0)).await;
    assert_eq!(old.0, StatusCode::OK);
    assert_eq!(old.1["receipt"]["index"], first.1["receipt"]["index"]);
    // Wrong census root.
    let wrong = e.ballot_in(&e.other_census(), 2, 0, 1003);
    assert_error(
        &post(&r, &format!("{base}/ballots"), &e.ballot_entry(&wrong)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_census_root",
    );
    // A proof for another ballot: invalid.
    let mut forged = e.ballot(2, 0, 1004);
    forged.eligibility = b1.eligibility.clone();
    assert_error(
        &post(&r, &format!("{base}/ballots"), &e.ballot_entry(&forged)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_ballot",
    );
    // Voter 2 copies voter 1's ciphertexts (proofs bound to voter 1's nullifier, and the
    // copy is caught first by its fingerprints).
    let mut copy = e.ballot(2, 0, 1005);
    copy.contests = b1.contests.clone();
    assert_error(
        &post(&r, &format!("{base}/ballots"), &e.ballot_entry(&copy)).await,
        StatusCode::CONFLICT,
        "ciphertext_reused",
    );
    let (_, summary) = call(&r, "GET", &base, None).await;
    assert_eq!(summary["ballot_entries"], 3);
    assert_eq!(summary["counted_ballots"], 2);

    // Close, then no more ballots.
    clock.set(NOW + 50);
    let resp = post(&r, &format!("{base}/close"), &e.close_entry(NOW + 50)).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    let late = e.ballot(2, 0, 1006);
    assert_error(
        &post(&r, &format!("{base}/ballots"), &e.ballot_entry(&late)).await,
        StatusCode::CONFLICT,
        "voting_closed",
    );

    // Tally: two trustees' shares (t = 2); the board appends the tally with the second.
    // Two requests at once share the one computation and get the same aggregate; a
    // request given up at once (its future dropped) leaves nothing half-done behind.
    let agg_url = format!("{base}/aggregate");
    drop(
        tokio::time::timeout(
            std::time::Duration::from_micros(1),
            call(&r, "GET", &agg_url, None),
        )
        .await,
    );
    let ((s, agg), (s_again, agg_again)) = tokio::join!(
        call(&r, "GET", &agg_url, None),
        call(&r, "GET", &agg_url, None)
    );
    assert_eq!(s, StatusCode::OK, "{agg}");
    assert_eq!(s_again, StatusCode::OK, "{agg_again}");
    assert_eq!(agg, agg_again);
    assert_eq!(agg["ballots"], 2);
    let aggregate = decode_aggregate(agg["aggregate"].as_str().unwrap());
    let s1 = post(
        &r,
        &format!("{base}/shares"),
        &e.shares_entry(1, &aggregate),
    )
    .await;
    assert_eq!(s1.0, StatusCode::CREATED, "{}", s1.1);
    assert!(s1.1.get("appended_by_board").is_none());
    let s2 = post(
        &r,
        &format!("{base}/shares"),
        &e.shares_entry(2, &aggregate),
    )
    .await;
    assert_eq!(s2.0, StatusCode::CREATED, "{}", s2.1);
    let tally_receipt = &s2.1["appended_by_board"][0];
    check_receipt(tally_receipt);
    let (_, summary) = call(&r, "GET", &base, None).await;
    assert_eq!(summary["phase"], "tallied");
    let (_, entry) = call(
        &r,
        "GET",
        &format!("/v1/log/entries/{}", tally_receipt["index"]),
        None,
    )
    .await;
    assert_eq!(entry["kind"], "tally");
    let tally_entry = <urna_protocol::board::BoardEntry as urna_protocol::codec::Canonical>::from_canonical_bytes(
        &hex::decode(entry["entry"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    tally_entry.verify_signature(&e.manifest).unwrap();
    let urna_protocol::board::Payload::Tally(t) = tally_entry.payload() else {
        panic!()
    };
    // Voter 0's re-vote (C) counts, not the first ballot (A); voter 1 chose B.
    assert_eq!(t.result.counts(), &[vec![0, 1, 1]]);

    // Log endpoints.
    let size = tally_receipt["tree_size"].as_u64().unwrap();
    let (s, page) = call(&r, "GET", "/v1/log/entries?start=0&limit=5", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page["entries"].as_array().unwrap().len(), 5);
    assert_eq!(page["next"], 5);
    let (s, cp) = call(&r, "GET", "/v1/log/checkpoint", None).await;
    assert_eq!(s, StatusCode::OK);
    let note_before = cp.clone();
    let key = board_key();
    let latest = Checkpoint::open(
        cp.as_str().unwrap().as_bytes(),
        key.origin(),
        &key.verifier(),
    )
    .unwrap();
    assert_eq!(latest.size(), size);
    let leaf = first.1["receipt"]["leaf_hash"].as_str().unwrap();
    let (s, inc) = call(
        &r,
        "GET",
        &format!("/v1/log/inclusion?leaf_hash={leaf}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{inc}");
    let proof: Vec<Hash> = inc["proof"].as_array().unwrap().iter().map(h).collect();
    latest
        .verify_inclusion(
            inc["index"].as_u64().unwrap(),
            &h(&inc["leaf_hash"]),
            &proof,
        )
        .unwrap();
    let first_cp = Checkpoint::open(
        first.1["receipt"]["checkpoint"]
            .as_str()
            .unwrap()
            .as_bytes(),
        key.origin(),
        &key.verifier(),
    )
    .unwrap();
    let (s, cons) = call(
        &r,
        "GET",
        &format!("/v1/log/consistency?from={}&to={size}", first_cp.size()),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{cons}");
    let proof: Vec<Hash> = cons["proof"].as_array().unwrap().iter().map(h).collect();
    first_cp.verify_extended_by(&latest, &proof).unwrap();

    // Export (v2): a header with the manifest's verifying key, then one line per log
    // index; the leaf hashes add up to the checkpoint's root.
    let (s, export) = call(&r, "GET", &format!("{base}/export"), None).await;
    assert_eq!(s, StatusCode::OK);
    let text = export.as_str().unwrap().to_owned();
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(header["format"], "urna-board-export/v2");
    assert_eq!(header["tree_size"].as_u64().unwrap(), size);
    assert_eq!(
        hex::decode(header["verifying_key"].as_str().unwrap()).unwrap(),
        groth16().vk.to_bytes()
    );
    let cp = Checkpoint::open(
        header["checkpoint"].as_str().unwrap().as_bytes(),
        key.origin(),
        &key.verifier(),
    )
    .unwrap();
    let mut range = urna_log::CompactRange::new();
    for (i, line) in lines.enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["index"].as_u64().unwrap(), i as u64);
        let entry = hex::decode(v["entry"].as_str().unwrap()).unwrap();
        let leaf = urna_log::leaf_hash(&entry);
        assert_eq!(leaf, h(&v["leaf_hash"]));
        range.push(leaf).unwrap();
    }
    assert_eq!(range.size(), cp.size());
    assert_eq!(&range.root(), cp.root());

    // Restart: a new board over the same database keeps every entry and checkpoint.
    drop(r);
    drop(board);
    let board = open_board(db.open().await, &clock).await;
    let r = router(board);
    let (_, cp2) = call(&r, "GET", "/v1/log/checkpoint", None).await;
    assert_eq!(cp2, note_before);
    let (_, summary) = call(&r, "GET", &base, None).await;
    assert_eq!(summary["phase"], "tallied");
    assert_eq!(summary["counted_ballots"], 2);
}

both!(full_election);

/// Complaints: a valid complaint (the dealer sent a bad share) is appended; a false one
/// and a repeated one are refused; the key ceremony then disqualifies the dealer.
async fn complaints(backend: Backend) {
    use urna_protocol::board::Payload;
    use urna_protocol::dkg::Complaint;
    let db = Db::fresh(backend).await;
    let clock = TestClock::new(NOW);
    let r = router(open_board(db.open().await, &clock).await);
    let e = Election::new(60, 3, 2, 2);
    let base = format!("/v1/elections/{}", e.id_hex());
    assert_eq!(
        post(&r, "/v1/elections", &e.manifest_entry()).await.0,
        StatusCode::CREATED
    );
    let mut msgs = e.dealer_messages();
    // Dealer 1 sends trustee 2 a share that does not decrypt.
    msgs[0].parts_mut().2[1].tamper_ciphertext(3);
    for m in &msgs {
        let resp = post(&r, &format!("{base}/dealers"), &e.dealer_entry(m)).await;
        assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    }
    let ctx = e.dkg();
    let complaint = Complaint::new(&ctx, 2, &e.trustee_enc[1], &msgs[0], &mut rng(61)).unwrap();
    let entry = e.signed(Payload::Complaint(complaint), &e.trustee_signing[1]);
    let resp = post(&r, &format!("{base}/complaints"), &entry).await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    assert_error(
        &post(&r, &format!("{base}/complaints"), &entry).await,
        StatusCode::CONFLICT,
        "duplicate_entry",
    );
    // Trustee 3 complains falsely about the honest dealer 2.
    let false_complaint =
        Complaint::new(&ctx, 3, &e.trustee_enc[2], &msgs[1], &mut rng(62)).unwrap();
    let entry = e.signed(Payload::Complaint(false_complaint), &e.trustee_signing[2]);
    assert_error(
        &post(&r, &format!("{base}/complaints"), &entry).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_entry",
    );
    let (_, summary) = call(&r, "GET", &base, None).await;
    assert_eq!(summary["complaints"], 1);
    assert_eq!(summary["dealers"], serde_json::json!([1, 2, 3]));
}

both!(complaints);
