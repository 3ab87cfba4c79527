//! The setup ceremony on the board (PROTOCOL 14.10): the verifier accepts an election
//! whose Groth16 keys come from a ceremony on its board (contributions by the authority,
//! two trustees and an extra contributor, each phase closed by the authority's beacon)
//! and rejects each broken rule with its specific check at the entry at fault. As in
//! `verify.rs`, the tampering board re-signs what it changes (entries with the key the
//! rule names, the checkpoint with the board's key), so only the ceremony check can
//! catch it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::*;
use urna_ceremony::{
    log_n_for_depth, Beacon, CeremonyError, CeremonyState, Check, Phase as CeremonyPhase,
    Phase1Contribution, Phase2Contribution,
};
use urna_protocol::board::{Payload, SetupKeys};
use urna_verify::{Options, Phase, SetupReport, VerifyError};

fn good() -> Vec<Line> {
    ceremony_fixture().lines.clone()
}

/// The log index of the `nth` entry of `kind` on the good ceremony board.
fn at(kind: &str, nth: usize) -> usize {
    let f = ceremony_fixture();
    f.position(&f.lines, kind, nth)
}

#[test]
fn ceremony_board_verifies_and_lists_its_contributions() {
    let f = ceremony_fixture();
    let setup = f.ceremony.as_ref().unwrap();
    // As the server exports it (no verifying key in the header), under --require-ceremony.
    let options = Options {
        require_ceremony: true,
        ..Default::default()
    };
    let report = f.verify_with(&f.lines, &options).unwrap();
    assert_eq!(report.phase, Phase::Tallied);
    assert_eq!(report.ballots_counted, 4);
    let counts: Vec<u64> = report.results.as_ref().unwrap()[0]
        .options
        .iter()
        .map(|(_, n)| *n)
        .collect();
    assert_eq!(counts, EXPECTED);

    let SetupReport::Ceremony(c) = &report.setup else {
        panic!("not reported as a ceremony: {:?}", report.setup)
    };
    assert_eq!(c.stage, "closed");
    assert_eq!(c.contributions.len(), CONTRIBUTIONS.len());
    let mut nth = [0usize; 2];
    for (k, (record, (phase, contributor, beacon))) in
        c.contributions.iter().zip(CONTRIBUTIONS).enumerate()
    {
        let kind = if phase == 1 {
            "setup-phase1"
        } else {
            "setup-phase2"
        };
        let n = &mut nth[usize::from(phase) - 1];
        assert_eq!(record.index, at(kind, *n) as u64);
        *n += 1;
        assert_eq!(record.phase, phase);
        assert_eq!(record.contributor, contributor);
        assert_eq!(record.beacon, beacon.is_some());
        assert_eq!(record.hash, hex::encode(setup.hashes[k]));
    }
    assert_eq!(c.contributions[0].name, "T1");
    assert_eq!(c.contributions[1].name, "Observer");
    assert_eq!(c.contributions[2].name, "the election authority");
    assert_eq!(c.keys_entry, Some(at("setup-keys", 0) as u64));
    assert_eq!(
        c.transcript_hash.as_deref(),
        Some(hex::encode(setup.transcript_hash).as_str())
    );
    assert_eq!(
        c.verifying_key_hash.as_deref(),
        Some(hex::encode(setup.verifying_key.verifying_key_hash()).as_str())
    );
    assert_eq!(
        c.proving_key_hash.as_deref(),
        Some(hex::encode(setup.proving_key.proving_key_hash()).as_str())
    );

    let text = report.to_string();
    assert!(
        text.contains("ceremony on the board, stage closed"),
        "{text}"
    );
    assert!(text.contains("Observer"), "{text}");
    assert!(!text.contains("WARNING"), "{text}");
    assert!(
        report
            .checks
            .iter()
            .any(|l| l.starts_with("setup ceremony: 3 phase-1 and 3 phase-2 contributions")),
        "{:?}",
        report.checks
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["setup"]["mode"], "ceremony");
    assert_eq!(json["setup"]["contributions"][1]["name"], "Observer");
    assert_eq!(json["setup"]["contributions"][2]["beacon"], true);
}

#[test]
fn header_key_of_a_ceremony_election_must_be_the_derived_one() {
    let f = ceremony_fixture();
    let setup = f.ceremony.as_ref().unwrap();
    // The derived key in the header is accepted.
    let text = f.export_with_key(&f.lines, Some(&setup.verifying_key.to_bytes()));
    let report = verify_text(&text).unwrap();
    assert_eq!(report.phase, Phase::Tallied);
    // Another key is refused at the setup-keys entry.
    let text = f.export_with_key(&f.lines, Some(&groth16().1.to_bytes()));
    assert_fails!(
        verify_text(&text),
        Some(at("setup-keys", 0) as u64),
        VerifyError::VerifyingKeyMismatch { .. }
    );
}

#[test]
fn unfinished_ceremony_verifies_up_to_its_stage_and_takes_no_header_key() {
    let f = ceremony_fixture();
    let cut = &f.lines[..=at("setup-phase1", 1)];
    let report = f.verify(cut).unwrap();
    assert_eq!(report.phase, Phase::Setup);
    let SetupReport::Ceremony(c) = &report.setup else {
        panic!("not a ceremony")
    };
    assert_eq!(c.stage, "phase1");
    assert_eq!(c.contributions.len(), 2);
    assert_eq!(c.keys_entry, None);
    // A header key before the ceremony fixed one is refused.
    let setup = f.ceremony.as_ref().unwrap();
    let text = f.export_with_key(cut, Some(&setup.verifying_key.to_bytes()));
    assert_fails!(
        verify_text(&text),
        None,
        VerifyError::UnexpectedVerifyingKey
    );
}

// --- rule 4: every contribution verified ---------------------------------------------

#[test]
fn contribution_with_a_broken_proof_of_knowledge() {
    let f = ceremony_fixture();
    let mut lines = good();
    let i = at("setup-phase1", 1);
    let c = contribution_of(&lines[i]);
    let mut p = Phase1Contribution::from_bytes(&c.data, log_n_for_depth(DEPTH).unwrap()).unwrap();
    // Still valid points, re-signed by the Observer: only the Schnorr check fails.
    std::mem::swap(&mut p.tau.commitment, &mut p.alpha.commitment);
    lines[i] = f.setup_entry(1, c.contributor, p.to_bytes());
    assert_fails!(
        f.verify(&lines),
        Some(i as u64),
        VerifyError::InvalidContribution(CeremonyError::CheckFailed {
            phase: CeremonyPhase::One,
            index: 1,
            check: Check::KnowledgeProof(_),
        })
    );
}

/// Where `[tau^i]_1` starts in a phase-1 contribution with a secret (PROTOCOL 14.7):
/// the kind byte, then three proofs of knowledge of `32 + 64 + 32 + 32` bytes.
const TAU_G1_AT: usize = 1 + 3 * 160;

#[test]
fn contribution_with_a_broken_same_ratio_relation() {
    let f = ceremony_fixture();
    // Phase 1: [tau^2]_1 and [tau^3]_1 swapped, re-signed by T1. Each is a valid point and
    // the proofs of knowledge are untouched, but the powers are no longer consecutive.
    let mut lines = good();
    let i = at("setup-phase1", 0);
    let c = contribution_of(&lines[i]);
    let mut data = c.data.clone();
    let (two, three) = (TAU_G1_AT + 2 * 32, TAU_G1_AT + 3 * 32);
    let p2: Vec<u8> = data[two..two + 32].to_vec();
    data.copy_within(three..three + 32, two);
    data[three..three + 32].copy_from_slice(&p2);
    assert_ne!(data, c.data);
    lines[i] = f.setup_entry(1, c.contributor, data);
    assert_fails!(
        f.verify(&lines),
        Some(i as u64),
        VerifyError::InvalidContribution(CeremonyError::CheckFailed {
            phase: CeremonyPhase::One,
            index: 0,
            check: Check::TauPowersG1,
        })
    );

    // Phase 2: two L-query points swapped, re-signed by T2.
    let mut lines = good();
    let i = at("setup-phase2", 1);
    let c = contribution_of(&lines[i]);
    let mut p = Phase2Contribution::from_bytes(&c.data).unwrap();
    // The proof of knowledge and delta are untouched, but the L query is no longer the
    // old one divided by d.
    p.l_query.swap(0, 1);
    lines[i] = f.setup_entry(2, c.contributor, p.to_bytes());
    let failure = assert_fails!(
        f.verify(&lines),
        Some(i as u64),
        VerifyError::InvalidContribution(CeremonyError::CheckFailed {
            phase: CeremonyPhase::Two,
            index: 1,
            check: Check::LQuery,
        })
    );
    assert_eq!(failure.error.check(), "InvalidContribution");
    let message = failure.to_string();
    assert!(
        message.contains("setup-phase2") && message.contains("L query"),
        "{message}"
    );
}

#[test]
fn the_same_contribution_posted_twice() {
    let mut lines = good();
    let i = at("setup-phase1", 0);
    let copy = lines[i].clone();
    lines.insert(i + 1, copy);
    // Bound to the transcript hash before it: refused after itself.
    assert_fails!(
        ceremony_fixture().verify(&lines),
        Some(i as u64 + 1),
        VerifyError::InvalidContribution(CeremonyError::CheckFailed {
            phase: CeremonyPhase::One,
            index: 1,
            ..
        })
    );
}

// --- rule 3: beacons ----------------------------------------------------------------

#[test]
fn beacon_by_a_trustee() {
    let f = ceremony_fixture();
    let mut lines = good();
    let i = at("setup-phase1", 2);
    let c = contribution_of(&lines[i]);
    lines[i] = f.setup_entry(1, 1, c.data);
    assert_fails!(
        f.verify(&lines),
        Some(i as u64),
        VerifyError::BeaconNotByAuthority { contributor: 1 }
    );
}

#[test]
fn phase_closed_by_a_beacon_alone() {
    let f = ceremony_fixture();
    // Phase 1: a beacon computed from the generators, posted first by the authority.
    let state = CeremonyState::new(f.id.to_bytes(), DEPTH).unwrap();
    let (bytes, _) = state
        .contribution_state()
        .unwrap()
        .unwrap()
        .contribute_beacon(&Beacon::new(b"too early", 4).unwrap())
        .unwrap();
    let mut lines = good();
    let first = at("setup-phase1", 0);
    lines.insert(first, f.setup_entry(1, 0, bytes));
    assert_fails!(
        f.verify(&lines),
        Some(first as u64),
        VerifyError::BeaconWithoutSecret(CeremonyError::OnlyBeacon {
            phase: CeremonyPhase::One
        })
    );
    // Phase 2: its secret contributions dropped, the beacon comes first.
    let mut lines = good();
    let second = at("setup-phase2", 1);
    lines.remove(second);
    lines.remove(at("setup-phase2", 0));
    let beacon = f.position(&lines, "setup-phase2", 0);
    assert_fails!(
        f.verify(&lines),
        Some(beacon as u64),
        VerifyError::BeaconWithoutSecret(CeremonyError::OnlyBeacon {
            phase: CeremonyPhase::Two
        })
    );
}

// --- rules 1 and 2: order -----------------------------------------------------------

#[test]
fn contributions_out_of_phase_order() {
    let f = ceremony_fixture();
    // A phase-2 contribution while phase 1 is open.
    let mut lines = good();
    let p2 = lines.remove(at("setup-phase2", 0));
    let beacon1 = at("setup-phase1", 2);
    lines.insert(beacon1, p2);
    assert_fails!(
        f.verify(&lines),
        Some(beacon1 as u64),
        VerifyError::SetupOutOfOrder {
            kind: "setup-phase2",
            stage: "phase1"
        }
    );
    // A phase-1 contribution after phase 1's beacon.
    let mut lines = good();
    let after = at("setup-phase1", 2) + 1;
    lines.insert(after, lines[at("setup-phase1", 1)].clone());
    assert_fails!(
        f.verify(&lines),
        Some(after as u64),
        VerifyError::SetupOutOfOrder {
            kind: "setup-phase1",
            stage: "phase2"
        }
    );
}

#[test]
fn contributions_after_setup_keys_and_after_the_freeze() {
    let f = ceremony_fixture();
    let keys = at("setup-keys", 0);
    let mut lines = good();
    lines.insert(keys + 1, lines[at("setup-phase2", 1)].clone());
    assert_fails!(
        f.verify(&lines),
        Some(keys as u64 + 1),
        VerifyError::SetupAfterKeys { keys: k } if k == keys as u64
    );
    let freeze = at("census-frozen", 0);
    let mut lines = good();
    lines.insert(freeze + 1, lines[at("setup-phase1", 0)].clone());
    assert_fails!(
        f.verify(&lines),
        Some(freeze as u64 + 1),
        VerifyError::SetupAfterFreeze
    );
}

// --- rule 5: the board's setup-keys entry --------------------------------------------

#[test]
fn setup_keys_that_do_not_follow_from_the_transcript() {
    let f = ceremony_fixture();
    let i = at("setup-keys", 0);
    let honest = setup_keys_of(&f.lines[i]);
    let forged = [
        (
            SetupKeys {
                verifying_key: groth16().1.clone(),
                ..honest.clone()
            },
            "verifying key",
        ),
        (
            SetupKeys {
                proving_key_hash: groth16().0.proving_key_hash(),
                ..honest.clone()
            },
            "proving key hash",
        ),
        (
            SetupKeys {
                transcript_hash: [0x7a; 32],
                ..honest.clone()
            },
            "transcript hash",
        ),
    ];
    for (keys, what) in forged {
        let mut lines = good();
        lines[i] = f.setup_keys_entry(keys);
        assert_fails!(
            f.verify(&lines),
            Some(i as u64),
            VerifyError::SetupKeyMismatch { what: w } if w == what
        );
    }
}

#[test]
fn census_freeze_without_setup_keys() {
    let f = ceremony_fixture();
    // The ceremony never closed: it stopped after phase 1 (phase 2 and setup-keys are
    // missing), and the census froze all the same.
    let lines: Vec<Line> = good()
        .into_iter()
        .filter(|l| !matches!(kind_of(l), "setup-phase2" | "setup-keys"))
        .collect();
    let freeze = f.position(&lines, "census-frozen", 0);
    assert_fails!(
        f.verify(&lines),
        Some(freeze as u64),
        VerifyError::SetupKeysMissing
    );
}

#[test]
fn setup_keys_not_directly_after_the_phase2_beacon() {
    let f = ceremony_fixture();
    let beacon = at("setup-phase2", 2) as u64;
    // Another entry of the election between the beacon and setup-keys.
    let mut lines = good();
    let keys = at("setup-keys", 0);
    lines.swap(keys, keys + 1);
    assert_fails!(
        f.verify(&lines),
        Some(keys as u64),
        VerifyError::SetupKeysNotNext { beacon: b } if b == beacon
    );
    // The export ends after the beacon.
    assert_fails!(
        f.verify(&f.lines[..keys]),
        Some(beacon),
        VerifyError::SetupKeysNotNext { beacon: b } if b == beacon
    );
    // setup-keys while phase 2 is open (here: right after phase 1's beacon).
    let mut lines = good();
    let entry = lines.remove(keys);
    let early = at("setup-phase1", 2) + 1;
    lines.insert(early, entry);
    assert_fails!(
        f.verify(&lines),
        Some(early as u64),
        VerifyError::SetupOutOfOrder {
            kind: "setup-keys",
            stage: "phase2"
        }
    );
}

// --- ballots ------------------------------------------------------------------------

#[test]
fn ballot_proved_with_other_keys() {
    let f = ceremony_fixture();
    let mut lines = good();
    let i = f.position(&lines, "ballot", 1);
    // The same ballot, proved with a single-party key pair instead of the ceremony's.
    let (voter, choice) = VOTES[1];
    let b = f.ballot_with(&groth16().0, voter, choice, 1001);
    lines[i] = Line::Own(f.unsigned(Payload::Ballot(b)));
    assert_fails!(
        f.verify(&lines),
        Some(i as u64),
        VerifyError::InvalidBallot(_)
    );
}

/// Writes the ceremony board's export to `$URNA_VERIFY_DUMP` (for trying the CLI by hand).
#[test]
#[ignore = "writes a file; run by hand"]
fn dump_ceremony_export() {
    let path = std::env::var("URNA_VERIFY_DUMP").expect("set URNA_VERIFY_DUMP");
    let f = ceremony_fixture();
    std::fs::write(path, f.export(&f.lines)).unwrap();
}
