//! Ballot tests (PROTOCOL §6): every check has a failing twin (STYLE §13).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests

mod ballot_support;

use ballot_support::{default_selections, election, rng};
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use sha2::{Digest, Sha256};
use urna_circuits::{CensusRoot, Nullifier};
use urna_protocol::ballot::{
    encrypt_ballot, verify_ballots, Ballot, BallotAudit, ContestBallot, EncryptedBallot,
};
use urna_protocol::codec::{Canonical, Decode, Encode, Reader};
use urna_protocol::elgamal::{Ciphertext, ElectionPublicKey, Nonce};
use urna_protocol::group::G;
use urna_protocol::proofs::{ProofContext, SelectionProof, ZeroOneProof, BALLOT_TRANSCRIPT_LABEL};
use urna_protocol::{DecodeError, VerificationError};

fn t() -> Transcript {
    Transcript::new(BALLOT_TRANSCRIPT_LABEL)
}

#[test]
fn honest_ballot_verifies_and_round_trips() {
    let e = election();
    let mut r = rng(1);
    let ballot = e.cast(0, &default_selections(), &mut r);
    assert_eq!(ballot.verify_validity(&e.manifest, &e.pk), Ok(()));
    assert_eq!(
        ballot.verify_eligibility(&e.pvk, &e.root, &e.manifest),
        Ok(())
    );
    assert_eq!(ballot.verify(&e.manifest, &e.pk, &e.pvk, &e.root), Ok(()));

    let bytes = ballot.to_canonical_bytes();
    assert_eq!(bytes[1], Ballot::TAG);
    let decoded = Ballot::from_canonical_bytes(&bytes).unwrap();
    assert_eq!(decoded, ballot);
    assert_eq!(decoded.to_canonical_bytes(), bytes);
    assert_eq!(
        decoded.digest(&e.manifest_hash),
        ballot.digest(&e.manifest_hash)
    );
    assert_eq!(decoded.verify(&e.manifest, &e.pk, &e.pvk, &e.root), Ok(()));

    // Contest and proof encodings round-trip on their own too.
    for c in &ballot.contests {
        let enc = c.encoded();
        let mut rd = Reader::new(&enc);
        assert_eq!(ContestBallot::decode(&mut rd).as_ref(), Ok(c));
        assert!(rd.finish().is_ok());
    }

    // The homomorphic sum decrypts to the selections.
    for (contest, chosen) in ballot.contests.iter().zip(default_selections()) {
        for (ct, vote) in contest.ciphertexts().iter().zip(chosen) {
            let m = ct.beta - e.secret * ct.alpha;
            assert_eq!(m, Scalar::from(u64::from(vote)) * G);
        }
    }
}

#[test]
fn tracking_code_format_and_identity() {
    let e = election();
    let mut r = rng(2);
    let ballot = e.cast(1, &default_selections(), &mut r);
    let code = ballot.tracking_code(&e.manifest_hash).to_string();
    assert_eq!(code.len(), 19, "{code}");
    for (i, ch) in code.chars().enumerate() {
        if i % 5 == 4 {
            assert_eq!(ch, '-');
        } else {
            assert!("0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(ch), "{code}");
        }
    }
    // Identity is (nullifier, digest): re-randomizing the Groth16 proof changes neither.
    let (n, d) = ballot.identity(&e.manifest_hash);
    assert_eq!(n, ballot.nullifier);
    let mut other = ballot.clone();
    other.eligibility = e.prove(1, &e.encrypt(1, &default_selections(), &mut r).0, &mut r);
    assert_eq!(other.identity(&e.manifest_hash), (n, d));
    assert_eq!(
        other.tracking_code(&e.manifest_hash),
        ballot.tracking_code(&e.manifest_hash)
    );
}

/// Pinned: the encoding and digest of a fixed-seed encrypted ballot (PROTOCOL 6.6).
/// Regenerate only deliberately: `URNA_UPDATE_SNAPSHOTS=1` prints the new values.
#[test]
fn pinned_encrypted_ballot_snapshot() {
    let e = election();
    let mut r = rng(0x5eed);
    let nullifier = Nullifier::from_bytes(&[0x0a; 32]).unwrap();
    let root = CensusRoot::from_bytes(&[0x0b; 32]).unwrap();
    let pk = ElectionPublicKey::from_point(Scalar::from(1234567u64) * G).unwrap();
    let (enc, _) = encrypt_ballot(
        &e.manifest_sans_keys(),
        &pk,
        root,
        nullifier,
        &default_selections(),
        &mut r,
    )
    .unwrap();
    let mh = e.manifest_sans_keys().manifest_hash();
    let mut w = urna_protocol::codec::Writer::new();
    w.seq(&enc.contests);
    let contests_hash = hex::encode(Sha256::digest(w.as_bytes()));
    let digest = hex::encode(enc.digest(&mh).to_bytes());
    let code = enc.tracking_code(&mh).to_string();
    if std::env::var_os("URNA_UPDATE_SNAPSHOTS").is_some() {
        println!("contests_hash = {contests_hash}\ndigest = {digest}\ncode = {code}");
        return;
    }
    assert_eq!(contests_hash, PINNED_CONTESTS_HASH);
    assert_eq!(digest, PINNED_DIGEST);
    assert_eq!(code, PINNED_CODE);
}

const PINNED_CONTESTS_HASH: &str =
    "fd9b3fe7f2d2fbaa1c8854bf2476822441b781edd5bc2b13176e4d17825f3033";
const PINNED_DIGEST: &str = "11ca85bf188d8b6ad31a7f2fddfe75d61690fa245319f82e45e2bf568fba61c8";
const PINNED_CODE: &str = "2AP6-JMGK-2PVN-P9WB";

trait SansKeys {
    fn manifest_sans_keys(&self) -> urna_protocol::manifest::Manifest;
}

impl SansKeys for ballot_support::Election {
    /// The fixture manifest with fixed key hashes, so the snapshot does not depend on
    /// the Groth16 setup.
    fn manifest_sans_keys(&self) -> urna_protocol::manifest::Manifest {
        ballot_support::manifest([0x22; 32], [0x33; 32])
    }
}

#[test]
fn every_flipped_bit_is_rejected() {
    let e = election();
    let mut r = rng(3);
    let ballot = e.cast(2, &default_selections(), &mut r);
    let bytes = ballot.to_canonical_bytes();
    let mut decode_errors = 0;
    let mut verify_errors = 0;
    // One bit per byte, rotating through the bit positions.
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 1 << (i % 8);
        match Ballot::from_canonical_bytes(&b) {
            Err(_) => decode_errors += 1,
            Ok(tampered) => {
                let res = tampered.verify(&e.manifest, &e.pk, &e.pvk, &e.root);
                assert!(res.is_err(), "flip at byte {i} accepted");
                verify_errors += 1;
            }
        }
    }
    assert!(decode_errors > 0 && verify_errors > 0);
}

#[test]
fn flipped_bits_name_the_failed_check() {
    let e = election();
    let mut r = rng(4);
    let ballot = e.cast(0, &default_selections(), &mut r);

    // A ciphertext changed: its 0/1 proof fails first.
    let mut cts: Vec<Ciphertext> = ballot.contests[1].ciphertexts().to_vec();
    cts[2].beta += G;
    let mut tampered = ballot.clone();
    tampered.contests[1] = ContestBallot::new(
        cts,
        ballot.contests[1].zero_one_proofs().to_vec(),
        ballot.contests[1].selection_proof().clone(),
    )
    .unwrap();
    assert_eq!(
        tampered.verify_validity(&e.manifest, &e.pk),
        Err(VerificationError::ZeroOneProof {
            contest: 1,
            option: 2
        })
    );

    // A selection proof from another contest ballot: the selection check fails.
    let other = e.cast(0, &default_selections(), &mut r);
    let mut tampered = ballot.clone();
    tampered.contests[0] = ContestBallot::new(
        ballot.contests[0].ciphertexts().to_vec(),
        ballot.contests[0].zero_one_proofs().to_vec(),
        other.contests[0].selection_proof().clone(),
    )
    .unwrap();
    assert_eq!(
        tampered.verify_validity(&e.manifest, &e.pk),
        Err(VerificationError::SelectionCountProof { contest: 0 })
    );
}

#[test]
fn two_cannot_be_proved_zero_or_one() {
    let e = election();
    let mut r = rng(5);
    let nullifier = e.nullifier(0);
    let ctx = ProofContext {
        manifest_hash: e.manifest_hash,
        public_key: e.pk,
        nullifier,
    };
    // Contest 1 (0..=2 of 4): option 0 encrypts 2, others 0; a "0/1 proof" claiming 1.
    let votes = [2u64, 0, 0, 0];
    let (cts, nonces): (Vec<_>, Vec<_>) = votes
        .iter()
        .map(|m| e.pk.encrypt_random(*m, &mut r))
        .unzip();
    let zero_one: Vec<ZeroOneProof> = cts
        .iter()
        .zip(&nonces)
        .enumerate()
        .map(|(j, (ct, n))| {
            ZeroOneProof::prove(&mut t(), &ctx, 1, j, ct, j == 0, n, &mut r).unwrap()
        })
        .collect();
    let r_sum = Nonce::from_scalar(nonces.iter().map(|n| *n.expose_secret()).sum());
    let selection =
        SelectionProof::prove(&mut t(), &ctx, 1, &cts, 0, 2, 2, &r_sum, &mut r).unwrap();
    let (mut enc, _) = e.encrypt(0, &default_selections(), &mut r);
    enc.contests[1] = ContestBallot::new(cts, zero_one, selection).unwrap();
    assert_eq!(
        enc.verify_validity(&e.manifest, &e.pk),
        Err(VerificationError::ZeroOneProof {
            contest: 1,
            option: 0
        })
    );
}

#[test]
fn count_outside_min_max_is_rejected() {
    let e = election();
    let mut r = rng(6);
    // The builder refuses: two selections in the 1-of-3 contest, none is fine only in 0..=2.
    let too_many = vec![vec![true, true, false], vec![false; 4]];
    assert!(encrypt_ballot(
        &e.manifest,
        &e.pk,
        e.root,
        e.nullifier(0),
        &too_many,
        &mut r
    )
    .is_err());
    let too_few = vec![vec![false; 3], vec![false; 4]];
    assert!(encrypt_ballot(&e.manifest, &e.pk, e.root, e.nullifier(0), &too_few, &mut r).is_err());
    let three = vec![vec![true, false, false], vec![true, true, true, false]];
    assert!(encrypt_ballot(&e.manifest, &e.pk, e.root, e.nullifier(0), &three, &mut r).is_err());

    // Forged: honest 0/1 proofs for two selections in contest 0 and a selection proof
    // that lies about the count.
    let nullifier = e.nullifier(0);
    let ctx = ProofContext {
        manifest_hash: e.manifest_hash,
        public_key: e.pk,
        nullifier,
    };
    let votes = [true, true, false];
    let (cts, nonces): (Vec<_>, Vec<_>) = votes
        .iter()
        .map(|v| e.pk.encrypt_random(u64::from(*v), &mut r))
        .unzip();
    let zero_one: Vec<ZeroOneProof> = cts
        .iter()
        .zip(&nonces)
        .zip(votes)
        .enumerate()
        .map(|(j, ((ct, n), v))| {
            ZeroOneProof::prove(&mut t(), &ctx, 0, j, ct, v, n, &mut r).unwrap()
        })
        .collect();
    let r_sum = Nonce::from_scalar(nonces.iter().map(|n| *n.expose_secret()).sum());
    assert!(SelectionProof::prove(&mut t(), &ctx, 0, &cts, 1, 1, 2, &r_sum, &mut r).is_err());
    let lying = SelectionProof::prove(&mut t(), &ctx, 0, &cts, 1, 1, 1, &r_sum, &mut r).unwrap();
    let (mut enc, _) = e.encrypt(0, &default_selections(), &mut r);
    enc.contests[0] = ContestBallot::new(cts.clone(), zero_one.clone(), lying).unwrap();
    assert_eq!(
        enc.verify_validity(&e.manifest, &e.pk),
        Err(VerificationError::SelectionCountProof { contest: 0 })
    );
    // A valid proof for the range [2, 2] is the wrong shape for this contest.
    let wide = SelectionProof::prove(&mut t(), &ctx, 0, &cts, 0, 2, 2, &r_sum, &mut r).unwrap();
    enc.contests[0] = ContestBallot::new(cts, zero_one, wide).unwrap();
    assert!(matches!(
        enc.verify_validity(&e.manifest, &e.pk),
        Err(VerificationError::BallotShape { .. })
    ));
}

#[test]
fn wrong_manifest_key_or_nullifier_in_transcript_fails() {
    let e = election();
    let mut r = rng(7);
    let (enc, _) = e.encrypt(0, &default_selections(), &mut r);
    assert_eq!(enc.verify_validity(&e.manifest, &e.pk), Ok(()));

    // Another manifest (same election id, same contests, another title): new hash.
    let mut m2 = e.manifest.clone();
    m2.title.push('!');
    assert_eq!(
        enc.verify_validity(&m2, &e.pk),
        Err(VerificationError::ZeroOneProof {
            contest: 0,
            option: 0
        })
    );
    // Another election key.
    let pk2 = ElectionPublicKey::from_point(Scalar::from(99u64) * G).unwrap();
    assert_eq!(
        enc.verify_validity(&e.manifest, &pk2),
        Err(VerificationError::ZeroOneProof {
            contest: 0,
            option: 0
        })
    );
    // Another nullifier.
    let mut other = enc.clone();
    other.nullifier = e.nullifier(1);
    assert_eq!(
        other.verify_validity(&e.manifest, &e.pk),
        Err(VerificationError::ZeroOneProof {
            contest: 0,
            option: 0
        })
    );
    // Another election id.
    let mut m3 = e.manifest.clone();
    m3.election_id = urna_circuits::ElectionId::from_bytes(&[8; 32]).unwrap();
    assert_eq!(
        enc.verify_validity(&m3, &e.pk),
        Err(VerificationError::WrongElection)
    );
    // Contest order swapped relative to the proofs (indices are in the transcript).
    let mut swapped = enc.clone();
    swapped.contests.swap(0, 1);
    let mut m4 = e.manifest.clone();
    m4.contests.swap(0, 1);
    assert!(swapped.verify_validity(&m4, &e.pk).is_err());
}

/// Cortier-Smyth: an attacker copies a victim's ciphertexts (and proofs) into a ballot
/// under the attacker's own nullifier, hoping the tally leaks the victim's vote.
#[test]
fn replayed_ciphertexts_under_another_nullifier_fail() {
    let e = election();
    let mut r = rng(8);
    let victim = e.cast(0, &default_selections(), &mut r);
    let copy = EncryptedBallot {
        election_id: victim.election_id,
        census_root: victim.census_root,
        nullifier: e.nullifier(3),
        contests: victim.contests.clone(),
    };
    assert_eq!(
        copy.verify_validity(&e.manifest, &e.pk),
        Err(VerificationError::ZeroOneProof {
            contest: 0,
            option: 0
        })
    );
    // Even with a genuine eligibility proof for the attacker over the copy's digest,
    // the ballot is rejected.
    let proof = e.prove(3, &copy, &mut r);
    let cast = copy.attach_eligibility(proof);
    assert_eq!(
        cast.verify_eligibility(&e.pvk, &e.root, &e.manifest),
        Ok(())
    );
    assert!(cast.verify(&e.manifest, &e.pk, &e.pvk, &e.root).is_err());
    // And the board sees the copied ciphertexts.
    assert_eq!(
        cast.ciphertext_fingerprints(),
        victim.ciphertext_fingerprints()
    );
    let fresh = e.cast(3, &default_selections(), &mut r);
    let victim_fps = victim.ciphertext_fingerprints();
    assert!(fresh
        .ciphertext_fingerprints()
        .iter()
        .all(|f| !victim_fps.contains(f)));
}

#[test]
fn eligibility_checks_fail_by_name() {
    let e = election();
    let mut r = rng(9);
    let ballot = e.cast(4, &default_selections(), &mut r);
    let other_root = CensusRoot::from_bytes(&[1; 32]).unwrap();
    assert_eq!(
        ballot.verify_eligibility(&e.pvk, &other_root, &e.manifest),
        Err(VerificationError::WrongCensusRoot)
    );
    let mut m2 = e.manifest.clone();
    m2.setup = urna_protocol::manifest::Setup::Keys {
        verifying_key_hash: [0; 32],
        proving_key_hash: [0; 32],
    };
    assert_eq!(
        ballot.verify_eligibility(&e.pvk, &e.root, &m2),
        Err(VerificationError::VerifyingKeyMismatch)
    );
    // The proof moved to another ballot of the same voter (different digest).
    let mut moved = e.cast(4, &default_selections(), &mut r);
    moved.eligibility = ballot.eligibility.clone();
    assert!(matches!(
        moved.verify_eligibility(&e.pvk, &e.root, &e.manifest),
        Err(VerificationError::EligibilityProof { .. })
    ));
    // Validity still holds for the moved ballot: only eligibility names the fault.
    assert_eq!(moved.verify_validity(&e.manifest, &e.pk), Ok(()));
    // Another voter's nullifier under this voter's proof.
    let mut renamed = ballot.clone();
    renamed.nullifier = e.nullifier(5);
    assert!(renamed
        .verify_eligibility(&e.pvk, &e.root, &e.manifest)
        .is_err());
}

#[test]
fn shape_mismatches_are_named() {
    let e = election();
    let mut r = rng(10);
    let ballot = e.cast(0, &default_selections(), &mut r);
    let mut fewer = ballot.clone();
    fewer.contests.pop();
    assert!(matches!(
        fewer.verify_validity(&e.manifest, &e.pk),
        Err(VerificationError::BallotShape { .. })
    ));
    let mut wrong_options = ballot.clone();
    wrong_options.contests.swap(0, 1);
    assert!(matches!(
        wrong_options.verify_validity(&e.manifest, &e.pk),
        Err(VerificationError::BallotShape { .. })
    ));
}

#[test]
fn benaloh_audit_opens_the_ciphertexts() {
    let e = election();
    let mut r = rng(11);
    let (enc, audit) = e.encrypt(0, &default_selections(), &mut r);
    assert_eq!(audit.check(&enc.contests, &e.pk), Ok(()));
    assert_eq!(format!("{audit:?}"), "BallotAudit(<redacted>)");
    // Round trip of the audit encoding.
    let bytes = audit.encoded();
    let decoded = BallotAudit::decode(&mut Reader::new(&bytes)).unwrap();
    assert_eq!(decoded.check(&enc.contests, &e.pk), Ok(()));
    // A device that encrypted something else is caught.
    let mut lie = default_selections();
    lie[1][3] = false;
    lie[1][2] = true;
    let forged = BallotAudit::new(lie, audit.expose_nonces().to_vec());
    assert_eq!(
        forged.check(&enc.contests, &e.pk),
        Err(VerificationError::AuditMismatch {
            contest: 1,
            option: 2
        })
    );
    let mut nonces = audit.expose_nonces().to_vec();
    nonces[0][1] = Nonce::from_scalar(Scalar::ONE);
    let forged = BallotAudit::new(default_selections(), nonces);
    assert_eq!(
        forged.check(&enc.contests, &e.pk),
        Err(VerificationError::AuditMismatch {
            contest: 0,
            option: 1
        })
    );
}

#[test]
fn batch_names_the_bad_ballots() {
    let e = election();
    let mut r = rng(12);
    let selections = [
        default_selections(),
        vec![vec![true, false, false], vec![false; 4]],
        vec![vec![false, false, true], vec![true, true, false, false]],
    ];
    let mut ballots: Vec<Ballot> = (0..6)
        .map(|v| e.cast(v, &selections[v % 3], &mut r))
        .collect();
    assert_eq!(
        verify_ballots(&ballots, &e.manifest, &e.pk, &e.pvk, &e.root, &mut r),
        Ok(())
    );
    assert_eq!(
        verify_ballots(&[], &e.manifest, &e.pk, &e.pvk, &e.root, &mut r),
        Ok(())
    );

    // Ballot 1: a tampered response in a 0/1 proof (decodes, fails validity).
    let mut bytes = ballots[1].to_canonical_bytes();
    // version, tag, 3 field elements, contest count, option count, α, β, a0, b0, c0: z0.
    let z0 = 2 + 96 + 4 + 4 + 64 + 64 + 32;
    bytes[z0] ^= 1;
    ballots[1] = Ballot::from_canonical_bytes(&bytes).unwrap();
    // Ballot 4: the eligibility proof of ballot 3.
    ballots[4].eligibility = ballots[3].eligibility.clone();
    // Ballot 5: wrong census root.
    ballots[5].census_root = CensusRoot::from_bytes(&[2; 32]).unwrap();

    let failures =
        verify_ballots(&ballots, &e.manifest, &e.pk, &e.pvk, &e.root, &mut r).unwrap_err();
    let indices: Vec<usize> = failures.iter().map(|(i, _)| *i).collect();
    assert_eq!(indices, vec![1, 4, 5], "{failures:?}");
    assert_eq!(
        failures[0].1,
        VerificationError::ZeroOneProof {
            contest: 0,
            option: 0
        }
    );
    assert!(matches!(
        failures[1].1,
        VerificationError::EligibilityProof { .. }
    ));
    assert_eq!(failures[2].1, VerificationError::WrongCensusRoot);
    // The batch agrees with the one-by-one checks.
    for (i, b) in ballots.iter().enumerate() {
        let alone = b.verify(&e.manifest, &e.pk, &e.pvk, &e.root);
        assert_eq!(alone.is_err(), indices.contains(&i), "ballot {i}");
    }
}

#[test]
fn non_canonical_fields_are_rejected() {
    let e = election();
    let mut r = rng(13);
    let ballot = e.cast(0, &default_selections(), &mut r);
    let bytes = ballot.to_canonical_bytes();
    for (offset, what) in [(2, "election id"), (34, "census root"), (66, "nullifier")] {
        let mut b = bytes.clone();
        b[offset..offset + 32].copy_from_slice(&[0xff; 32]);
        assert!(
            matches!(
                Ballot::from_canonical_bytes(&b),
                Err(DecodeError::NonCanonicalFieldElement { .. })
            ),
            "{what}"
        );
    }
    // Truncation and trailing bytes.
    assert!(Ballot::from_canonical_bytes(&bytes[..bytes.len() - 1]).is_err());
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        Ballot::from_canonical_bytes(&longer),
        Err(DecodeError::TrailingBytes { count: 1 })
    ));
    // A contest with zero options.
    let mut zero = bytes[..98].to_vec();
    zero.extend_from_slice(&1u32.to_be_bytes());
    zero.extend_from_slice(&0u32.to_be_bytes());
    assert!(Ballot::from_canonical_bytes(&zero).is_err());
}
