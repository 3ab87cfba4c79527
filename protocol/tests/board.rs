//! Board entries (PROTOCOL §9): a whole election through the example, encodings, and the
//! signature rule — every entry kind signed by anyone but its required signer is rejected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../examples/election.rs"]
mod election;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use urna_circuits::{CensusRoot, ElectionId, IdentityCommitment};
use urna_protocol::board::{BoardEntry, EntryKind, Payload, RegistrationCode};
use urna_protocol::codec::Canonical;
use urna_protocol::encryption::EncryptionSecretKey;
use urna_protocol::manifest::{Contest, Manifest, Trustee};
use urna_protocol::signing::SigningKey;
use urna_protocol::{DecodeError, VerificationError};

#[test]
fn whole_election_counts_the_last_ballot_per_voter() {
    let mut rng = ChaCha20Rng::seed_from_u64(2026);
    let report = election::run(8, 4, &mut rng, false).expect("election runs");
    assert_eq!(report.ballots_cast, 9, "8 ballots and one re-vote");
    assert_eq!(report.ballots_counted, 8);
    // Chair is 1-of-3: every counted ballot selects exactly one option.
    assert_eq!(report.counts[0].iter().sum::<u64>(), 8);
    // manifest + 3 dealers + codes + 8 registrations + freeze + open + 9 ballots + close
    // + 2 share entries + tally
    assert_eq!(report.entries, 1 + 3 + 1 + 8 + 1 + 1 + 9 + 1 + 2 + 1);
}

struct Keys {
    authority: SigningKey,
    board: SigningKey,
    trustees: Vec<SigningKey>,
    manifest: Manifest,
}

fn keys() -> Keys {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let authority = SigningKey::generate(&mut rng);
    let board = SigningKey::generate(&mut rng);
    let trustees: Vec<SigningKey> = (0..2).map(|_| SigningKey::generate(&mut rng)).collect();
    let manifest = Manifest {
        election_id: ElectionId::from_bytes(&[3; 32]).unwrap(),
        title: "Board test".into(),
        contests: vec![Contest {
            title: "Q".into(),
            options: vec!["yes".into(), "no".into()],
            min_selections: 1,
            max_selections: 1,
        }],
        opens_at: 10,
        closes_at: 20,
        census_depth: 4,
        trustees: trustees
            .iter()
            .enumerate()
            .map(|(i, k)| Trustee {
                name: format!("t{i}"),
                signing_key: k.public_key(),
                encryption_key: EncryptionSecretKey::generate(&mut rng).public_key(),
            })
            .collect(),
        threshold: 1,
        authority_key: authority.public_key(),
        board_key: board.public_key(),
        setup: urna_protocol::manifest::Setup::Keys {
            verifying_key_hash: [1; 32],
            proving_key_hash: [2; 32],
        },
    };
    Keys {
        authority,
        board,
        trustees,
        manifest,
    }
}

fn authority_payloads() -> Vec<Payload> {
    vec![
        Payload::RegistrationCodes(vec![[7; 32], [8; 32]]),
        Payload::CensusFrozen {
            root: CensusRoot::from_bytes(&[0; 32]).unwrap(),
            size: 2,
        },
        Payload::Open { at: 11 },
        Payload::Close { at: 19 },
    ]
}

#[test]
fn authority_entries_need_the_authority_key() {
    let k = keys();
    let id = k.manifest.election_id;
    let mut payloads = authority_payloads();
    payloads.push(Payload::Manifest(k.manifest.clone()));
    for payload in payloads {
        let good = BoardEntry::signed(id, payload.clone(), &k.authority).unwrap();
        assert_eq!(
            good.verify_signature(&k.manifest),
            Ok(()),
            "{:?}",
            good.kind()
        );
        for wrong in [&k.board, &k.trustees[0]] {
            let bad = BoardEntry::signed(id, payload.clone(), wrong).unwrap();
            assert!(
                matches!(
                    bad.verify_signature(&k.manifest),
                    Err(VerificationError::BadSignature { .. })
                ),
                "{:?} signed by the wrong key must fail",
                bad.kind()
            );
        }
    }
}

#[test]
fn signatures_do_not_transfer_between_kinds_or_elections() {
    let k = keys();
    let id = k.manifest.election_id;
    let open = BoardEntry::signed(id, Payload::Open { at: 11 }, &k.authority).unwrap();
    // Re-label the signed bytes as a close entry: same payload bytes, other kind.
    let mut bytes = open.to_canonical_bytes();
    assert_eq!(bytes[34], EntryKind::Open as u8);
    bytes[34] = EntryKind::Close as u8;
    let relabelled = BoardEntry::from_canonical_bytes(&bytes).unwrap();
    assert!(matches!(
        relabelled.verify_signature(&k.manifest),
        Err(VerificationError::BadSignature { .. })
    ));
    // The same entry under another election id.
    let mut bytes = open.to_canonical_bytes();
    bytes[2 + 31] ^= 1;
    let moved = BoardEntry::from_canonical_bytes(&bytes).unwrap();
    assert_eq!(
        moved.verify_signature(&k.manifest),
        Err(VerificationError::WrongElection)
    );
}

#[test]
fn unsigned_kinds_carry_no_signature_and_signed_kinds_must() {
    let k = keys();
    let id = k.manifest.election_id;
    let reg = Payload::Registration {
        code: [5; 16],
        commitment: IdentityCommitment::from_bytes(&[0; 32]).unwrap(),
    };
    assert!(BoardEntry::signed(id, reg.clone(), &k.authority).is_err());
    let entry = BoardEntry::unsigned(id, reg).unwrap();
    assert_eq!(entry.verify_signature(&k.manifest), Ok(()));
    assert!(entry.signature().is_none());
    assert!(BoardEntry::unsigned(id, Payload::Open { at: 1 }).is_err());
    // A signed kind cut short of its signature does not decode.
    let open = BoardEntry::signed(id, Payload::Open { at: 11 }, &k.authority).unwrap();
    let bytes = open.to_canonical_bytes();
    assert!(BoardEntry::from_canonical_bytes(&bytes[..bytes.len() - 64]).is_err());
}

#[test]
fn tally_entries_need_the_board_key() {
    let k = keys();
    // A tally payload is only built by the tally code; check the rule on the kind table.
    assert!(EntryKind::Tally.is_signed());
    let e = BoardEntry::signed(k.manifest.election_id, Payload::Open { at: 11 }, &k.board).unwrap();
    assert!(e.verify_signature(&k.manifest).is_err());
}

#[test]
fn every_byte_flip_of_a_signed_entry_is_rejected() {
    let k = keys();
    let id = k.manifest.election_id;
    for payload in authority_payloads() {
        let bytes = BoardEntry::signed(id, payload, &k.authority)
            .unwrap()
            .to_canonical_bytes();
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            if let Ok(e) = BoardEntry::from_canonical_bytes(&b) {
                assert!(
                    e.verify_signature(&k.manifest).is_err(),
                    "flip at byte {i} accepted"
                );
            }
        }
    }
}

#[test]
fn decoding_is_canonical_and_bounded() {
    let k = keys();
    let id = k.manifest.election_id;
    let bytes = BoardEntry::signed(id, Payload::Open { at: 11 }, &k.authority)
        .unwrap()
        .to_canonical_bytes();
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(
        BoardEntry::from_canonical_bytes(&trailing),
        Err(DecodeError::TrailingBytes { count: 1 })
    ));
    let mut unknown = bytes.clone();
    unknown[34] = 0x7f;
    assert!(matches!(
        BoardEntry::from_canonical_bytes(&unknown),
        Err(DecodeError::UnknownKind { .. })
    ));
    let mut big_id = bytes;
    big_id[2..34].copy_from_slice(&[0xff; 32]);
    assert!(matches!(
        BoardEntry::from_canonical_bytes(&big_id),
        Err(DecodeError::NonCanonicalFieldElement { .. })
    ));
    for len in 0..64 {
        let junk: Vec<u8> = (0..len).map(|i| (i * 37 + 1) as u8).collect();
        assert!(BoardEntry::from_canonical_bytes(&junk).is_err());
    }
}

#[test]
fn registration_code_hash_binds_the_election() {
    let code = RegistrationCode::from_bytes([9; 16]);
    let a = ElectionId::from_bytes(&[1; 32]).unwrap();
    let b = ElectionId::from_bytes(&[2; 32]).unwrap();
    assert_ne!(code.hash(&a), code.hash(&b));
    assert_eq!(format!("{code:?}"), "RegistrationCode(<redacted>)");
}

/// Setup-ceremony entries (PROTOCOL 9.3, 14.10): contributor 0 is the authority, `1..=n`
/// the trustees, then the manifest's extra contributors; anything else, or any
/// contributor when the setup is not a ceremony, is an unknown contributor; the keys
/// entry is the board's.
#[test]
fn setup_entries_are_signed_by_their_contributor() {
    use urna_protocol::board::{SetupContribution, MAX_SETUP_CONTRIBUTION_BYTES};
    use urna_protocol::manifest::{Contributor, Setup};
    let mut k = keys();
    let observer = SigningKey::from_seed(&[0x77; 32]);
    let fixed = k.manifest.clone();
    k.manifest.setup = Setup::Ceremony {
        contributors: vec![Contributor {
            name: "observer".into(),
            signing_key: observer.public_key(),
        }],
    };
    let id = k.manifest.election_id;
    let contribution = |contributor: u32| SetupContribution {
        contributor,
        data: vec![contributor as u8; 100],
    };
    let signers: Vec<(u32, &SigningKey)> = vec![
        (0, &k.authority),
        (1, &k.trustees[0]),
        (2, &k.trustees[1]),
        (3, &observer),
    ];
    for (index, key) in &signers {
        for payload in [
            Payload::SetupPhase1(contribution(*index)),
            Payload::SetupPhase2(contribution(*index)),
        ] {
            let good = BoardEntry::signed(id, payload.clone(), key).unwrap();
            assert_eq!(good.verify_signature(&k.manifest), Ok(()));
            let bytes = good.to_canonical_bytes();
            assert_eq!(BoardEntry::from_canonical_bytes(&bytes).unwrap(), good);
            // Anyone else's signature, or the same entry under a fixed-keys manifest.
            for (other, wrong) in &signers {
                if other != index {
                    let bad = BoardEntry::signed(id, payload.clone(), wrong).unwrap();
                    assert!(matches!(
                        bad.verify_signature(&k.manifest),
                        Err(VerificationError::BadSignature { .. })
                    ));
                }
            }
            assert_eq!(
                good.verify_signature(&fixed),
                Err(VerificationError::UnknownContributor { index: *index })
            );
        }
    }
    let unknown = BoardEntry::signed(id, Payload::SetupPhase1(contribution(4)), &observer).unwrap();
    assert_eq!(
        unknown.verify_signature(&k.manifest),
        Err(VerificationError::UnknownContributor { index: 4 })
    );

    // Bounds: an empty contribution and one above the maximum do not decode.
    let entry = BoardEntry::signed(id, Payload::SetupPhase1(contribution(0)), &k.authority)
        .unwrap()
        .to_canonical_bytes();
    let header = 2 + 32 + 1 + 4;
    let mut empty = entry[..header].to_vec();
    empty.extend_from_slice(&0u32.to_be_bytes());
    empty.extend_from_slice(&[0; 64]);
    assert!(BoardEntry::from_canonical_bytes(&empty).is_err());
    let mut huge = entry[..header].to_vec();
    huge.extend_from_slice(&(MAX_SETUP_CONTRIBUTION_BYTES as u32 + 1).to_be_bytes());
    assert!(matches!(
        BoardEntry::from_canonical_bytes(&huge),
        Err(DecodeError::TooLong { .. })
    ));
}

#[test]
fn setup_keys_entry_is_the_boards() {
    use urna_protocol::board::SetupKeys;
    let k = keys();
    let id = k.manifest.election_id;
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let (_, vk) = urna_circuits::keys::setup_single_party(1, &mut rng).unwrap();
    let payload = Payload::SetupKeys(SetupKeys {
        verifying_key: vk.clone(),
        proving_key_hash: [4; 32],
        transcript_hash: [5; 32],
    });
    let good = BoardEntry::signed(id, payload.clone(), &k.board).unwrap();
    assert_eq!(good.verify_signature(&k.manifest), Ok(()));
    let bytes = good.to_canonical_bytes();
    assert_eq!(BoardEntry::from_canonical_bytes(&bytes).unwrap(), good);
    let bad = BoardEntry::signed(id, payload, &k.authority).unwrap();
    assert!(matches!(
        bad.verify_signature(&k.manifest),
        Err(VerificationError::BadSignature { .. })
    ));
    // A verifying key that is not a canonical key does not decode.
    let mut broken = bytes.clone();
    let vk_start = 2 + 32 + 1 + 4;
    broken[vk_start + 5] ^= 0x01;
    assert!(
        BoardEntry::from_canonical_bytes(&broken).is_err()
            || BoardEntry::from_canonical_bytes(&broken).unwrap() != good
    );
}
