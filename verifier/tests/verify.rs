//! The verifier accepts a good board built without the server, and rejects each tampered
//! variant with the specific check and the first entry at fault. Tampers below the Merkle
//! layer play a malicious board: they rebuild the tree and re-sign the checkpoint with
//! the board's key, so only the semantic check can catch them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::*;
use urna_log::NoteSigner;
use urna_protocol::board::{Payload, SetupContribution, SetupKeys};
use urna_protocol::signing::SigningKey;
use urna_protocol::tally::{Tally, TallyResult};
use urna_protocol::VerificationError;
use urna_verify::{Options, Phase, SetupReport, VerifyError, FIXED_KEYS_CAVEAT};

fn good() -> Vec<Line> {
    fixture().lines.clone()
}

#[test]
fn good_board_verifies() {
    let f = fixture();
    let report = f.verify(&f.lines).unwrap();
    assert_eq!(report.phase, Phase::Tallied);
    assert_eq!(report.tree_size, f.lines.len() as u64);
    assert_eq!(report.ballots_cast, 5);
    assert_eq!(report.ballots_superseded, 1);
    assert_eq!(report.ballots_counted, 4);
    assert_eq!(report.registrations, 4);
    assert_eq!(report.dealers, vec![1, 2, 3]);
    assert_eq!(report.trustees_with_shares, vec![1, 3]);
    let results = report.results.as_ref().unwrap();
    let counts: Vec<u64> = results[0].options.iter().map(|(_, n)| *n).collect();
    assert_eq!(counts, EXPECTED);
    assert_eq!(results[0].options[0].0, "A");
    // Readable and JSON reports.
    let text = report.to_string();
    assert!(
        text.contains("5 cast, 1 superseded by re-votes, 4 counted"),
        "{text}"
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["ballots_counted"], 4);
    assert_eq!(json["phase"], "tallied");
    // The keys are fixed by the manifest: said plainly, in both reports.
    let SetupReport::FixedKeys {
        verifying_key_hash,
        caveat,
        ..
    } = &report.setup
    else {
        panic!("not reported as fixed keys: {:?}", report.setup)
    };
    assert_eq!(
        verifying_key_hash,
        &hex::encode(groth16().1.verifying_key_hash())
    );
    assert_eq!(caveat, FIXED_KEYS_CAVEAT);
    assert!(
        text.contains("setup   fixed keys") && text.contains("not checked against any ceremony"),
        "{text}"
    );
    assert_eq!(json["setup"]["mode"], "fixed-keys");
    assert!(json["setup"]["caveat"]
        .as_str()
        .unwrap()
        .contains("forge eligibility proofs"));
}

#[test]
fn fixed_keys_refused_when_a_ceremony_is_required() {
    let f = fixture();
    let options = Options {
        require_ceremony: true,
        ..Default::default()
    };
    assert_fails!(
        f.verify_with(&f.lines, &options),
        Some(0),
        VerifyError::CeremonyRequired
    );
}

#[test]
fn fixed_keys_need_the_header_key() {
    let f = fixture();
    let text = f.export_with_key(&f.lines, None);
    assert_fails!(
        verify_text(&text),
        Some(0),
        VerifyError::MissingVerifyingKey
    );
}

#[test]
fn setup_entries_in_a_fixed_keys_election() {
    let f = fixture();
    let freeze = f.position(&f.lines, "census-frozen", 0);
    // A contribution: the manifest names no contributor (PROTOCOL 9.5).
    let mut lines = good();
    let contribution = SetupContribution {
        contributor: 0,
        data: vec![0],
    };
    lines.insert(
        freeze,
        Line::Own(f.signed(Payload::SetupPhase1(contribution), &f.authority)),
    );
    assert_fails!(
        f.verify(&lines),
        Some(freeze as u64),
        VerifyError::BadSignature(VerificationError::UnknownContributor { index: 0 })
    );
    // Keys "from a ceremony", signed by the board.
    let mut lines = good();
    let keys = SetupKeys {
        verifying_key: groth16().1.clone(),
        proving_key_hash: groth16().0.proving_key_hash(),
        transcript_hash: [0; 32],
    };
    lines.insert(freeze, f.setup_keys_entry(keys));
    assert_fails!(
        f.verify(&lines),
        Some(freeze as u64),
        VerifyError::SetupWithoutCeremony
    );
}

#[test]
fn unfinished_board_verifies_with_its_phase() {
    let f = fixture();
    let close = f.position(&f.lines, "close", 0);
    let report = f.verify(&f.lines[..close]).unwrap();
    assert_eq!(report.phase, Phase::Open);
    assert!(report.results.is_none());
    assert_eq!(report.ballots_counted, 4);
}

#[test]
fn the_file_source_and_small_chunks_agree() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("board.ndjson");
    std::fs::write(&path, f.export(&f.lines)).unwrap();
    let options = urna_verify::Options {
        chunk: 2,
        threads: Some(1),
        ..Default::default()
    };
    let report = urna_verify::verify_file(&path, &options).unwrap();
    assert_eq!(report.ballots_counted, 4);
    let missing = urna_verify::verify_file(&dir.path().join("nope"), &options).unwrap_err();
    assert!(matches!(missing.error, VerifyError::Io(_)));
    assert_eq!(missing.exit_code(), 2);
}

/// Flips the low byte of the first 0/1 proof's challenge `c_0` of the ballot at `i`
/// (35-byte entry prefix, 96 bytes of ids, two counts, one ciphertext, `a` and `b` of
/// branch 0): the entry stays canonical, the proof fails.
fn break_proof(lines: &mut [Line], i: usize) {
    let Line::Own(bytes) = &mut lines[i] else {
        unreachable!()
    };
    bytes[35 + 96 + 8 + 64 + 64] ^= 1;
}

#[test]
fn deferred_chunks_still_name_the_first_bad_ballot() {
    // Full chunks are verified later, beside the decoding of the next lines; whatever
    // the chunk size, the failure named is the first in log order: before a later
    // ballot with a bad proof, a later ballot that breaks a rule of the board, and a
    // later bad entry of another kind.
    let f = fixture();
    let first = f.position(&good(), "ballot", 1);
    let second = f.position(&good(), "ballot", 2);
    let close = f.position(&good(), "close", 0);
    let bad_tally = Line::Own(f.signed(
        Payload::Tally(Tally {
            aggregate: urna_protocol::tally::Aggregate::new(&[3]),
            result: f.tally.result.clone(),
        }),
        &f.board,
    ));
    // A ballot whose ciphertexts were first cast under another nullifier, just before
    // the close; then the tally (one line further down).
    let with_later_faults = |lines: &mut Vec<Line>| {
        let mut copy = f.ballot(1, 0, 78);
        copy.contests = f.first_ballot.contests.clone();
        lines.insert(close, Line::Own(f.unsigned(Payload::Ballot(copy))));
        let t = f.position(lines, "tally", 0);
        lines[t] = bad_tally.clone();
    };
    let mut lines = good();
    break_proof(&mut lines, first);
    break_proof(&mut lines, second);
    with_later_faults(&mut lines);
    let options = |chunk, threads| Options {
        chunk,
        threads,
        ..Default::default()
    };
    for chunk in [1, 2, 3, 512] {
        for threads in [None, Some(1)] {
            assert_fails!(
                f.verify_with(&lines, &options(chunk, threads)),
                Some(first as u64),
                VerifyError::InvalidBallot(_)
            );
        }
    }
    // Without the first: the second is named, then the copied ballot.
    let mut lines = good();
    break_proof(&mut lines, second);
    with_later_faults(&mut lines);
    for chunk in [1, 512] {
        assert_fails!(
            f.verify_with(&lines, &options(chunk, None)),
            Some(second as u64),
            VerifyError::InvalidBallot(_)
        );
    }
    let mut lines = good();
    with_later_faults(&mut lines);
    assert_fails!(
        f.verify(&lines),
        Some(close as u64),
        VerifyError::CiphertextReused
    );
}

// --- the log ------------------------------------------------------------------------

#[test]
fn changed_ballot_byte_breaks_its_leaf_hash() {
    let f = fixture();
    let text = f.export(&f.lines);
    let i = f.position(&f.lines, "ballot", 1);
    // Flip one hex digit inside the entry of line i (header is line 0).
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let line = &mut lines[i + 1];
    let at = line.find("\"entry\":\"").unwrap() + 9 + 400;
    let c = if &line[at..=at] == "0" { "1" } else { "0" };
    line.replace_range(at..=at, c);
    let tampered = lines.join("\n") + "\n";
    assert_fails!(
        verify_text(&tampered),
        Some(i as u64),
        VerifyError::LeafHashMismatch { .. }
    );
}

#[test]
fn changed_ballot_byte_under_a_resigned_checkpoint_fails_its_proof() {
    let f = fixture();
    let mut lines = good();
    let i = f.position(&lines, "ballot", 1);
    break_proof(&mut lines, i);
    assert_fails!(
        f.verify(&lines),
        Some(i as u64),
        VerifyError::InvalidBallot(_)
    );
}

#[test]
fn dropped_entry() {
    let f = fixture();
    let i = f.position(&f.lines, "registration", 2);
    // Dropped from the export: the indices jump.
    let text = f.export(&f.lines);
    let kept: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(n, _)| *n != i + 1)
        .map(|(_, l)| l)
        .collect();
    assert_fails!(
        verify_text(&(kept.join("\n") + "\n")),
        Some(i as u64),
        VerifyError::IndexMismatch { .. }
    );
    // Dropped and renumbered under the old checkpoint: the root differs.
    let mut lines = good();
    lines.remove(i);
    let cp = f.checkpoint_with(&f.lines, &board_signer());
    let mut text = render(f.id, &lines, &cp, &groth16().1.to_bytes());
    // The header's tree_size must still match the checkpoint to get to the root check.
    text = text.replacen(
        &format!("\"tree_size\":{}", lines.len()),
        &format!("\"tree_size\":{}", f.lines.len()),
        1,
    );
    assert_fails!(
        verify_text(&text),
        Some(lines.len() as u64),
        VerifyError::MissingEntries { .. }
    );
    lines.push(Line::Other(urna_log::leaf_hash(b"filler")));
    let text = render(f.id, &lines, &cp, &groth16().1.to_bytes());
    assert_fails!(verify_text(&text), None, VerifyError::RootMismatch { .. });
    // Dropped by a malicious board that re-signs: the census no longer adds up.
    let mut lines = good();
    lines.remove(i);
    let freeze = f.position(&lines, "census-frozen", 0);
    assert_fails!(
        f.verify(&lines),
        Some(freeze as u64),
        VerifyError::CensusSizeMismatch {
            entry: 4,
            registrations: 3
        }
    );
}

#[test]
fn swapped_entries() {
    let f = fixture();
    let freeze = f.position(&f.lines, "census-frozen", 0);
    // Swapped lines: the indices are out of order.
    let text = f.export(&f.lines);
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(freeze + 1, freeze + 2);
    assert_fails!(
        verify_text(&(lines.join("\n") + "\n")),
        Some(freeze as u64),
        VerifyError::IndexMismatch { .. }
    );
    // Swapped and renumbered under the old checkpoint: the root differs.
    let mut swapped = good();
    swapped.swap(freeze, freeze + 1);
    let cp = f.checkpoint_with(&f.lines, &board_signer());
    let text = render(f.id, &swapped, &cp, &groth16().1.to_bytes());
    assert_fails!(verify_text(&text), None, VerifyError::RootMismatch { .. });
    // Swapped by a board that re-signs: voting opens before the census froze.
    assert_fails!(
        f.verify(&swapped),
        Some(freeze as u64),
        VerifyError::WrongPhase(_)
    );
}

#[test]
fn truncated_and_padded_exports() {
    let f = fixture();
    let text = f.export(&f.lines);
    let all: Vec<&str> = text.lines().collect();
    let cut = all[..all.len() - 2].join("\n") + "\n";
    assert_fails!(
        verify_text(&cut),
        Some(f.lines.len() as u64 - 2),
        VerifyError::MissingEntries { .. }
    );
    let padded = text.clone() + &all[1..2].join("") + "\n";
    assert_fails!(
        verify_text(&padded),
        Some(f.lines.len() as u64),
        VerifyError::TrailingData { .. }
    );
}

// --- the header -----------------------------------------------------------------------

#[test]
fn forged_checkpoint_signature() {
    let f = fixture();
    let forger = NoteSigner::new(ORIGIN, ed25519_dalek::SigningKey::from_bytes(&[7; 32])).unwrap();
    let cp = f.checkpoint_with(&f.lines, &forger);
    let text = render(f.id, &f.lines, &cp, &groth16().1.to_bytes());
    assert_fails!(verify_text(&text), None, VerifyError::BadCheckpoint(_));
}

#[test]
fn header_format_and_fields() {
    let f = fixture();
    let text = f.export(&f.lines);
    let v1 = text.replacen("urna-board-export/v2", "urna-board-export/v1", 1);
    assert_fails!(
        verify_text(&v1),
        None,
        VerifyError::UnsupportedFormat { .. }
    );
    assert_fails!(verify_text(""), None, VerifyError::MissingHeader);
    let extra = text.replacen("\"format\":", "\"extra\":1,\"format\":", 1);
    assert_fails!(verify_text(&extra), None, VerifyError::MalformedHeader(_));
}

#[test]
fn verifying_key_not_matching_the_manifest() {
    let f = fixture();
    let cp = f.checkpoint_with(&f.lines, &board_signer());
    let (_, other_vk) = urna_circuits::keys::setup_single_party(DEPTH, &mut rng(5)).unwrap();
    let text = render(f.id, &f.lines, &cp, &other_vk.to_bytes());
    assert_fails!(
        verify_text(&text),
        Some(0),
        VerifyError::VerifyingKeyMismatch { .. }
    );
    let garbage = render(f.id, &f.lines, &cp, &[1, 2, 3]);
    assert_fails!(verify_text(&garbage), None, VerifyError::BadVerifyingKey(_));
}

// --- signatures and phases ------------------------------------------------------------

#[test]
fn entry_signed_by_a_key_not_in_the_manifest() {
    let f = fixture();
    let mut lines = good();
    let close = f.position(&lines, "close", 0);
    let stranger = SigningKey::generate(&mut rng(9));
    lines[close] = Line::Own(f.signed(Payload::Close { at: CLOSES_AT - 5 }, &stranger));
    assert_fails!(
        f.verify(&lines),
        Some(close as u64),
        VerifyError::BadSignature(_)
    );
}

#[test]
fn ballot_before_open_and_after_close() {
    let f = fixture();
    let open = f.position(&f.lines, "open", 0);
    let b = f.position(&f.lines, "ballot", 2);
    let mut lines = good();
    let ballot = lines.remove(b);
    lines.insert(open, ballot);
    assert_fails!(
        f.verify(&lines),
        Some(open as u64),
        VerifyError::BallotBeforeOpen
    );

    let mut lines = good();
    let close = f.position(&lines, "close", 0);
    let ballot = lines.remove(b);
    lines.insert(close, ballot); // just after the close entry, which moved up by one
    assert_fails!(
        f.verify(&lines),
        Some(close as u64),
        VerifyError::BallotAfterClose { .. }
    );
}

#[test]
fn open_outside_the_window_and_close_before_open() {
    let f = fixture();
    let mut lines = good();
    let open = f.position(&lines, "open", 0);
    lines[open] = Line::Own(f.signed(
        Payload::Open {
            at: OPENS_AT - 1000,
        },
        &f.authority,
    ));
    assert_fails!(
        f.verify(&lines),
        Some(open as u64),
        VerifyError::OpenOutsideWindow { .. }
    );
    let mut lines = good();
    let close = f.position(&lines, "close", 0);
    lines[close] = Line::Own(f.signed(Payload::Close { at: OPENS_AT }, &f.authority));
    assert_fails!(
        f.verify(&lines),
        Some(close as u64),
        VerifyError::CloseBeforeOpen { .. }
    );
}

// --- census -----------------------------------------------------------------------------

#[test]
fn wrong_census_root() {
    let f = fixture();
    let mut lines = good();
    let freeze = f.position(&lines, "census-frozen", 0);
    let mut other = urna_circuits::CensusTree::new(DEPTH).unwrap();
    other
        .insert(
            urna_circuits::VoterSecret::random(&mut rng(3))
                .identity_commitment()
                .unwrap(),
        )
        .unwrap();
    lines[freeze] = Line::Own(f.signed(
        Payload::CensusFrozen {
            root: other.root(),
            size: 4,
        },
        &f.authority,
    ));
    assert_fails!(
        f.verify(&lines),
        Some(freeze as u64),
        VerifyError::CensusRootMismatch { .. }
    );
}

#[test]
fn reused_registration_code() {
    let f = fixture();
    let mut lines = good();
    let first = f.position(&lines, "registration", 0);
    let last = f.position(&lines, "registration", 3);
    let stranger = urna_circuits::VoterSecret::random(&mut rng(4));
    lines.insert(
        last + 1,
        Line::Own(f.unsigned(Payload::Registration {
            code: *f.codes[0].expose_secret(),
            commitment: stranger.identity_commitment().unwrap(),
        })),
    );
    assert_fails!(
        f.verify(&lines),
        Some(last as u64 + 1),
        VerifyError::RegistrationCodeReused { first: x } if x == first as u64
    );
    // A code that was never posted.
    let mut lines = good();
    lines.insert(
        last + 1,
        Line::Own(f.unsigned(Payload::Registration {
            code: [9; 16],
            commitment: stranger.identity_commitment().unwrap(),
        })),
    );
    assert_fails!(
        f.verify(&lines),
        Some(last as u64 + 1),
        VerifyError::UnknownRegistrationCode
    );
}

// --- ballots and the nullifier rule -----------------------------------------------------

#[test]
fn stale_replay_is_not_counted_over_the_revote() {
    let f = fixture();
    let close = f.position(&f.lines, "close", 0);
    let first = f.position(&f.lines, "ballot", 0);
    // The board appends voter 0's first ballot again after its re-vote, so a naive "last
    // ballot counts" would count the old choice.
    let mut lines = good();
    lines.insert(
        close,
        Line::Own(f.unsigned(Payload::Ballot(f.first_ballot.clone()))),
    );
    assert_fails!(
        f.verify(&lines),
        Some(close as u64),
        VerifyError::ReplayedBallot { original } if original == first as u64
    );
    // The same with a re-randomised Groth16 proof (other bytes, same identity).
    let mut replay = f.first_ballot.clone();
    replay.eligibility = replay
        .eligibility
        .rerandomize(&groth16().1, &mut rng(11))
        .unwrap();
    assert_ne!(replay, f.first_ballot);
    let mut lines = good();
    lines.insert(close, Line::Own(f.unsigned(Payload::Ballot(replay))));
    assert_fails!(
        f.verify(&lines),
        Some(close as u64),
        VerifyError::ReplayedBallot { .. }
    );
}

#[test]
fn second_ballot_of_a_nullifier_after_close() {
    // A new ballot of voter 1 (another digest) placed after close would change the count.
    let f = fixture();
    let mut lines = good();
    let close = f.position(&lines, "close", 0);
    let b = f.ballot(1, 2, 77);
    lines.insert(close + 1, Line::Own(f.unsigned(Payload::Ballot(b))));
    assert_fails!(
        f.verify(&lines),
        Some(close as u64 + 1),
        VerifyError::BallotAfterClose { .. }
    );
}

#[test]
fn copied_ciphertext_under_another_nullifier() {
    let f = fixture();
    let mut lines = good();
    let close = f.position(&lines, "close", 0);
    let mut copy = f.ballot(1, 0, 78);
    copy.contests = f.first_ballot.contests.clone();
    lines.insert(close, Line::Own(f.unsigned(Payload::Ballot(copy))));
    assert_fails!(
        f.verify(&lines),
        Some(close as u64),
        VerifyError::CiphertextReused
    );
}

#[test]
fn ballot_against_another_census_root() {
    let f = fixture();
    let mut lines = good();
    let i = f.position(&lines, "ballot", 1);
    let mut b = f.ballot(1, 1, 1001);
    b.census_root = urna_circuits::CensusRoot::from_bytes(&[1; 32]).unwrap();
    lines[i] = Line::Own(f.unsigned(Payload::Ballot(b)));
    assert_fails!(
        f.verify(&lines),
        Some(i as u64),
        VerifyError::WrongCensusRoot
    );
}

// --- tally ------------------------------------------------------------------------------

#[test]
fn wrong_tally() {
    let f = fixture();
    let mut lines = good();
    let t = f.position(&lines, "tally", 0);
    let mut counts = f.tally.result.counts().to_vec();
    counts[0].swap(0, 1);
    let forged = Tally {
        aggregate: f.tally.aggregate.clone(),
        result: TallyResult::new(f.tally.result.ballots(), counts),
    };
    lines[t] = Line::Own(f.signed(Payload::Tally(forged), &f.board));
    assert_fails!(
        f.verify(&lines),
        Some(t as u64),
        VerifyError::TallyMismatch(_)
    );
    // An aggregate that leaves out a ballot.
    let mut lines = good();
    let forged = Tally {
        aggregate: urna_protocol::tally::Aggregate::new(&[3]),
        result: f.tally.result.clone(),
    };
    lines[t] = Line::Own(f.signed(Payload::Tally(forged), &f.board));
    assert_fails!(
        f.verify(&lines),
        Some(t as u64),
        VerifyError::AggregateMismatch
    );
}

#[test]
fn bad_decryption_share() {
    let f = fixture();
    let mut lines = good();
    let s = f.position(&lines, "decryption-shares", 1);
    let mut shares = f.shares[1].clone();
    let (_, rows) = shares.parts_mut();
    rows[0][1].factor += curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
    lines[s] = Line::Own(f.signed(Payload::DecryptionShares(shares), &f.trustee_signing[2]));
    assert_fails!(
        f.verify(&lines),
        Some(s as u64),
        VerifyError::InvalidDecryptionShares(_)
    );
}

#[test]
fn entries_after_the_tally_and_a_second_manifest() {
    let f = fixture();
    let mut lines = good();
    let close = f.position(&lines, "close", 0);
    let extra = lines[close].clone();
    lines.push(extra);
    assert_fails!(
        f.verify(&lines),
        Some(lines.len() as u64 - 1),
        VerifyError::EntryAfterTally
    );
    let mut lines = good();
    lines.insert(2, lines[0].clone());
    assert_fails!(f.verify(&lines), Some(2), VerifyError::DuplicateManifest);
    let mut lines = good();
    lines.swap(0, 2);
    assert_fails!(
        f.verify(&lines),
        Some(0),
        VerifyError::ManifestNotFirst { kind: "dealer" }
    );
}

#[test]
fn failure_display_names_the_entry_and_kind() {
    let f = fixture();
    let mut lines = good();
    let close = f.position(&lines, "close", 0);
    lines[close] = Line::Own(f.signed(
        Payload::Close { at: CLOSES_AT - 5 },
        &SigningKey::generate(&mut rng(10)),
    ));
    let failure = f.verify(&lines).unwrap_err();
    let text = failure.to_string();
    assert!(
        text.starts_with(&format!("entry {close} (close): signature")),
        "{text}"
    );
    assert_eq!(failure.error.check(), "BadSignature");
}

/// Writes the good board's export to `$URNA_VERIFY_DUMP` (for trying the CLI by hand).
#[test]
#[ignore = "writes a file; run by hand"]
fn dump_good_export() {
    let path = std::env::var("URNA_VERIFY_DUMP").expect("set URNA_VERIFY_DUMP");
    std::fs::write(path, fixture().export(&fixture().lines)).unwrap();
}
