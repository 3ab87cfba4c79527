//! Tally (PROTOCOL §8): aggregation, decryption shares, combination, discrete log, and
//! the verifier's re-derivation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure

use curve25519_dalek::scalar::Scalar;
use proptest::prelude::*;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use urna_protocol::codec::Canonical;
use urna_protocol::dkg::{DealerMessage, DkgContext, DkgOutcome, SecretShare};
use urna_protocol::elgamal::{Ciphertext, ElectionPublicKey};
use urna_protocol::encryption::EncryptionSecretKey;
use urna_protocol::group::G;
use urna_protocol::tally::{
    decrypt_tally, decrypt_with_table, verify_tally, Aggregate, DlogTable, Tally, TallyContext,
    TallyResult, TrusteeShares,
};
use urna_protocol::{DecodeError, VerificationError};

const HASH: [u8; 32] = [0x5a; 32];

struct Election {
    tctx: TallyContext,
    pk: ElectionPublicKey,
    secrets: Vec<SecretShare>,
    rng: ChaCha20Rng,
}

fn ceremony(n: u32, t: u32, seed: u64) -> Election {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let keys: Vec<_> = (0..n)
        .map(|_| EncryptionSecretKey::generate(&mut rng))
        .collect();
    let ctx = DkgContext::new(HASH, t, keys.iter().map(|k| k.public_key()).collect()).unwrap();
    let msgs: Vec<_> = (1..=n)
        .map(|i| DealerMessage::deal(&ctx, i, &mut rng).unwrap())
        .collect();
    let outcome = DkgOutcome::new(&ctx, &msgs, &[]).unwrap();
    let secrets = (1..=n)
        .map(|j| {
            outcome
                .secret_share(&ctx, &msgs, j, &keys[j as usize - 1])
                .unwrap()
        })
        .collect();
    Election {
        tctx: TallyContext::from_dkg(&ctx, &outcome),
        pk: outcome.election_public_key(),
        secrets,
        rng,
    }
}

/// Two contests (3 options, 2 options) and seven ballots.
const VOTES: [[&[u64]; 2]; 7] = [
    [&[1, 0, 0], &[1, 0]],
    [&[0, 1, 0], &[1, 0]],
    [&[1, 0, 0], &[0, 1]],
    [&[0, 0, 1], &[1, 0]],
    [&[1, 0, 0], &[0, 0]],
    [&[0, 1, 0], &[1, 0]],
    [&[0, 0, 0], &[0, 1]],
];

fn expected() -> Vec<Vec<u64>> {
    vec![vec![3, 2, 1], vec![4, 2]]
}

fn aggregate(e: &mut Election) -> Aggregate {
    let mut agg = Aggregate::new(&[3, 2]);
    for ballot in VOTES {
        let cts: Vec<Vec<Ciphertext>> = ballot
            .iter()
            .map(|contest| {
                contest
                    .iter()
                    .map(|&m| e.pk.encrypt_random(m, &mut e.rng).0)
                    .collect()
            })
            .collect();
        agg.add_ballot(cts.iter().map(Vec::as_slice)).unwrap();
    }
    assert_eq!(agg.ballots(), 7);
    agg
}

fn all_shares(e: &mut Election, agg: &Aggregate) -> Vec<TrusteeShares> {
    let secrets = core::mem::take(&mut e.secrets);
    let out = secrets
        .iter()
        .map(|s| TrusteeShares::create(&e.tctx, s, agg, &mut e.rng).unwrap())
        .collect();
    e.secrets = secrets;
    out
}

#[test]
fn every_threshold_subset_decrypts_the_same_count() {
    let mut e = ceremony(3, 2, 1);
    let agg = aggregate(&mut e);
    let shares = all_shares(&mut e, &agg);
    for set in [
        vec![0usize, 1],
        vec![0, 2],
        vec![1, 2],
        vec![2, 0],
        vec![0, 1, 2],
    ] {
        let chosen: Vec<_> = set.iter().map(|&i| shares[i].clone()).collect();
        let result = decrypt_tally(&e.tctx, &agg, &chosen).unwrap();
        assert_eq!(result.counts(), expected().as_slice(), "subset {set:?}");
        assert_eq!(result.ballots(), 7);
        let tally = Tally {
            aggregate: agg.clone(),
            result,
        };
        verify_tally(&e.tctx, &agg, &chosen, &tally).unwrap();
    }
}

#[test]
fn published_tally_must_match() {
    let mut e = ceremony(3, 2, 2);
    let agg = aggregate(&mut e);
    let shares = all_shares(&mut e, &agg);
    let result = decrypt_tally(&e.tctx, &agg, &shares[..2]).unwrap();
    let good = Tally {
        aggregate: agg.clone(),
        result: result.clone(),
    };
    verify_tally(&e.tctx, &agg, &shares[..2], &good).unwrap();

    let mut counts = expected();
    counts[1][0] += 1;
    let wrong = Tally {
        aggregate: agg.clone(),
        result: TallyResult::new(7, counts),
    };
    assert!(matches!(
        verify_tally(&e.tctx, &agg, &shares, &wrong),
        Err(VerificationError::TallyMismatch { .. })
    ));
    let wrong = Tally {
        aggregate: agg.clone(),
        result: TallyResult::new(8, expected()),
    };
    assert!(matches!(
        verify_tally(&e.tctx, &agg, &shares, &wrong),
        Err(VerificationError::TallyMismatch { .. })
    ));
    let wrong = Tally {
        aggregate: agg.clone(),
        result: TallyResult::new(7, vec![vec![3, 2, 1]]),
    };
    assert!(matches!(
        verify_tally(&e.tctx, &agg, &shares, &wrong),
        Err(VerificationError::TallyMismatch { .. })
    ));
    // The published aggregate is not the one the ballots give.
    let mut other = agg.clone();
    other
        .add_ballot([&[Ciphertext::zero(); 3][..], &[Ciphertext::zero(); 2][..]])
        .unwrap();
    assert_eq!(
        verify_tally(&e.tctx, &other, &shares, &good),
        Err(VerificationError::AggregateMismatch)
    );
}

#[test]
fn tampered_decryption_shares_are_rejected() {
    let mut e = ceremony(3, 2, 3);
    let agg = aggregate(&mut e);
    let shares = all_shares(&mut e, &agg);
    // A wrong factor, at each position.
    for (c, o) in [(0usize, 0usize), (0, 2), (1, 1)] {
        let mut bad = shares[1].clone();
        bad.parts_mut().1[c][o].factor += G;
        assert_eq!(
            decrypt_tally(&e.tctx, &agg, &[shares[0].clone(), bad]),
            Err(VerificationError::DecryptionShareProof {
                trustee: 2,
                contest: c,
                option: o
            })
        );
    }
    // Flipped bits anywhere in the encoded shares: a decode error or the named proof.
    let bytes = shares[2].to_canonical_bytes();
    let header = 2 + 4 + 4; // version, tag, trustee, contest count
    for bit in (8 * header..8 * bytes.len()).step_by(7) {
        let mut b = bytes.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        match TrusteeShares::from_canonical_bytes(&b) {
            Err(_) => {}
            Ok(tampered) => {
                let err = tampered.verify(&e.tctx, &agg).unwrap_err();
                assert!(
                    matches!(
                        err,
                        VerificationError::DecryptionShareProof { trustee: 3, .. }
                            | VerificationError::DecryptionShareShape { trustee: 3 }
                    ),
                    "bit {bit}: {err:?}"
                );
            }
        }
    }
    // Shares made for another aggregate.
    let mut agg2 = Aggregate::new(&[3, 2]);
    let cts: Vec<Vec<Ciphertext>> = vec![
        vec![e.pk.encrypt_random(1, &mut e.rng).0; 3],
        vec![e.pk.encrypt_random(0, &mut e.rng).0; 2],
    ];
    agg2.add_ballot(cts.iter().map(Vec::as_slice)).unwrap();
    let foreign = TrusteeShares::create(&e.tctx, &e.secrets[0], &agg2, &mut e.rng).unwrap();
    assert!(matches!(
        decrypt_tally(&e.tctx, &agg, &[foreign, shares[1].clone()]),
        Err(VerificationError::DecryptionShareProof { trustee: 1, .. })
    ));
}

#[test]
fn share_set_rules() {
    let mut e = ceremony(3, 2, 4);
    let agg = aggregate(&mut e);
    let shares = all_shares(&mut e, &agg);
    assert_eq!(
        decrypt_tally(&e.tctx, &agg, &shares[..1]),
        Err(VerificationError::NotEnoughShares { have: 1, need: 2 })
    );
    assert_eq!(
        decrypt_tally(&e.tctx, &agg, &[]),
        Err(VerificationError::NotEnoughShares { have: 0, need: 2 })
    );
    assert_eq!(
        decrypt_tally(&e.tctx, &agg, &[shares[1].clone(), shares[1].clone()]),
        Err(VerificationError::UnknownTrustee { index: 2 })
    );
    let mut stranger = shares[0].clone();
    *stranger.parts_mut().0 = 4;
    assert_eq!(
        decrypt_tally(&e.tctx, &agg, &[shares[1].clone(), stranger]),
        Err(VerificationError::UnknownTrustee { index: 4 })
    );
    // A share relabelled as another trustee fails its proof (H_j differs).
    let mut relabelled = shares[0].clone();
    *relabelled.parts_mut().0 = 3;
    assert!(matches!(
        decrypt_tally(&e.tctx, &agg, &[shares[1].clone(), relabelled]),
        Err(VerificationError::DecryptionShareProof { trustee: 3, .. })
    ));
    let mut short = shares[0].clone();
    short.parts_mut().1[1].pop();
    assert_eq!(
        decrypt_tally(&e.tctx, &agg, &[shares[1].clone(), short]),
        Err(VerificationError::DecryptionShareShape { trustee: 1 })
    );
    // A secret share that does not match the ceremony cannot make shares.
    let fake = SecretShare::from_scalar(1, Scalar::from(5u64));
    assert!(TrusteeShares::create(&e.tctx, &fake, &agg, &mut e.rng).is_err());
}

#[test]
fn count_beyond_ballot_count_is_out_of_range() {
    let mut e = ceremony(3, 2, 5);
    // Claims 3 ballots but encrypts counts 2 and 5.
    let cts = vec![vec![
        e.pk.encrypt_random(2, &mut e.rng).0,
        e.pk.encrypt_random(5, &mut e.rng).0,
    ]];
    let agg = Aggregate::from_parts(3, cts);
    let shares = all_shares(&mut e, &agg);
    assert_eq!(
        decrypt_tally(&e.tctx, &agg, &shares[..2]),
        Err(VerificationError::CountOutOfRange {
            contest: 0,
            option: 1,
            max: 3
        })
    );
    // Even with a table that reaches further.
    let big = DlogTable::new(100);
    assert_eq!(
        decrypt_with_table(&e.tctx, &agg, &shares[..2], &big),
        Err(VerificationError::CountOutOfRange {
            contest: 0,
            option: 1,
            max: 3
        })
    );
    // A small table is replaced by one that covers the ballot count.
    let agg = Aggregate::from_parts(5, agg.contests().to_vec());
    let shares = all_shares(&mut e, &agg);
    let small = DlogTable::new(1);
    let r = decrypt_with_table(&e.tctx, &agg, &shares[1..], &small).unwrap();
    assert_eq!(r.counts(), &[vec![2, 5]]);
}

#[test]
fn ballot_shape_is_checked() {
    let mut agg = Aggregate::new(&[2, 1]);
    let z = Ciphertext::zero();
    assert!(matches!(
        agg.add_ballot([&[z, z][..]]),
        Err(VerificationError::BallotShape { .. })
    ));
    assert!(matches!(
        agg.add_ballot([&[z, z][..], &[z, z][..]]),
        Err(VerificationError::BallotShape { .. })
    ));
    assert!(matches!(
        agg.add_ballot([&[z, z][..], &[z][..], &[z][..]]),
        Err(VerificationError::BallotShape { .. })
    ));
    assert_eq!(agg.ballots(), 0);
    agg.add_ballot([&[z, z][..], &[z][..]]).unwrap();
    assert_eq!(agg.ballots(), 1);
}

#[test]
fn encodings_round_trip() {
    let mut e = ceremony(3, 2, 6);
    let agg = aggregate(&mut e);
    let shares = all_shares(&mut e, &agg);
    for s in &shares {
        let bytes = s.to_canonical_bytes();
        assert_eq!(bytes[1], 0x12);
        assert_eq!(bytes.len(), 2 + 4 + 4 + (4 + 3 * 128) + (4 + 2 * 128));
        assert_eq!(TrusteeShares::from_canonical_bytes(&bytes).as_ref(), Ok(s));
        let mut trailing = bytes.clone();
        trailing.push(1);
        assert!(TrusteeShares::from_canonical_bytes(&trailing).is_err());
    }
    let result = decrypt_tally(&e.tctx, &agg, &shares).unwrap();
    let bytes = result.to_canonical_bytes();
    assert_eq!(bytes[1], 0x13);
    assert_eq!(
        TallyResult::from_canonical_bytes(&bytes).as_ref(),
        Ok(&result)
    );
    let tally = Tally {
        aggregate: agg,
        result,
    };
    let bytes = tally.to_canonical_bytes();
    assert_eq!(bytes[1], 0x14);
    assert_eq!(Tally::from_canonical_bytes(&bytes).as_ref(), Ok(&tally));
    assert!(matches!(
        TallyResult::from_canonical_bytes(&bytes),
        Err(DecodeError::WrongTag {
            expected: 0x13,
            actual: 0x14
        })
    ));
    // A forged contest count cannot force an allocation.
    let forged = [1u8, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0xff];
    assert!(TallyResult::from_canonical_bytes(&forged).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// For t ≤ n ≤ 5, any t trustees decrypt what was encrypted under the joint key.
    #[test]
    fn any_threshold_subset_decrypts(
        n in 1u32..=5,
        t_frac in 0.0f64..1.0,
        seed in any::<u64>(),
        counts in proptest::collection::vec(0u64..=40, 1..4),
        pick in any::<u64>(),
    ) {
        let t = 1 + ((t_frac * f64::from(n)) as u32).min(n - 1);
        let mut e = ceremony(n, t, seed);
        let cts = vec![counts.iter().map(|&m| e.pk.encrypt_random(m, &mut e.rng).0).collect()];
        let agg = Aggregate::from_parts(40, cts);
        // Choose t distinct trustees from `pick`.
        let mut pool: Vec<usize> = (0..n as usize).collect();
        let mut state = pick;
        let mut chosen = Vec::new();
        for _ in 0..t {
            let i = (state % pool.len() as u64) as usize;
            state = state.rotate_left(13) ^ 0x9e37_79b9_7f4a_7c15;
            chosen.push(pool.remove(i));
        }
        let secrets = core::mem::take(&mut e.secrets);
        let shares: Vec<_> = chosen
            .iter()
            .map(|&i| TrusteeShares::create(&e.tctx, &secrets[i], &agg, &mut e.rng).unwrap())
            .collect();
        let result = decrypt_tally(&e.tctx, &agg, &shares).unwrap();
        prop_assert_eq!(result.counts(), core::slice::from_ref(&counts));
        if t > 1 {
            prop_assert_eq!(
                decrypt_tally(&e.tctx, &agg, &shares[..t as usize - 1]),
                Err(VerificationError::NotEnoughShares { have: t as usize - 1, need: t as usize })
            );
        }
    }
}

/// Pins the seeded encodings of every key-ceremony and tally object (STYLE §14): a change
/// to a transcript, an encoding or the dealing order changes this digest. Regenerate
/// only deliberately: `URNA_UPDATE_SNAPSHOTS=1 cargo test -p urna-protocol --test tally
/// -- --nocapture snapshot` prints the new value.
#[test]
fn snapshot_of_seeded_encodings() {
    use sha2::{Digest, Sha256};
    use urna_protocol::dkg::Complaint;
    use urna_protocol::encryption::{EncryptedShare, ShareContext};

    let mut rng = ChaCha20Rng::seed_from_u64(20_261_125);
    let keys: Vec<_> = (0..3)
        .map(|_| EncryptionSecretKey::generate(&mut rng))
        .collect();
    let ctx = DkgContext::new(HASH, 2, keys.iter().map(|k| k.public_key()).collect()).unwrap();
    let mut msgs: Vec<_> = (1..=3)
        .map(|i| DealerMessage::deal(&ctx, i, &mut rng).unwrap())
        .collect();
    let mut digest = Sha256::new();
    for m in &msgs {
        digest.update(m.to_canonical_bytes());
    }
    // Dealer 3 sends trustee 1 a bad share; trustee 1 complains.
    let mut bad = msgs[2].clone();
    let sctx = ShareContext {
        manifest_hash: HASH,
        dealer: 3,
        recipient: 1,
    };
    bad.parts_mut().2[0] =
        EncryptedShare::encrypt(&sctx, &keys[0].public_key(), &Scalar::ONE, &mut rng).unwrap();
    let complaint = Complaint::new(&ctx, 1, &keys[0], &bad, &mut rng).unwrap();
    digest.update(complaint.to_canonical_bytes());
    msgs[2] = bad;
    let outcome = DkgOutcome::new(&ctx, &msgs, &[complaint]).unwrap();
    assert_eq!(outcome.qualified(), &[1, 2]);
    let tctx = TallyContext::from_dkg(&ctx, &outcome);
    let pk = outcome.election_public_key();
    let cts = vec![vec![
        pk.encrypt_random(3, &mut rng).0,
        pk.encrypt_random(1, &mut rng).0,
    ]];
    let agg = Aggregate::from_parts(4, cts);
    let shares: Vec<_> = [1u32, 2]
        .iter()
        .map(|&j| {
            let s = outcome
                .secret_share(&ctx, &msgs, j, &keys[j as usize - 1])
                .unwrap();
            TrusteeShares::create(&tctx, &s, &agg, &mut rng).unwrap()
        })
        .collect();
    for s in &shares {
        digest.update(s.to_canonical_bytes());
    }
    let result = decrypt_tally(&tctx, &agg, &shares).unwrap();
    assert_eq!(result.counts(), &[vec![3, 1]]);
    digest.update(
        Tally {
            aggregate: agg,
            result,
        }
        .to_canonical_bytes(),
    );
    let got = hex::encode(digest.finalize());
    if std::env::var_os("URNA_UPDATE_SNAPSHOTS").is_some() {
        println!("snapshot_of_seeded_encodings = {got}");
        return;
    }
    assert_eq!(got, SNAPSHOT);
}

const SNAPSHOT: &str = "e6c4fb58a676c1b9e4e37b95d5ddaa2987155d782d51232ea2f8797731ca753d";
