//! Groth16 round trips, their failing twins, key codecs, batch verification and pinned
//! verifying-key digests. One setup per depth per test binary (`OnceLock`), from fixed
//! seeds, so the verifying keys are reproducible and pinned.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use ark_bn254::Fr;
use ark_ff::UniformRand;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use urna_circuits::{
    batch_verify, census::CensusTree, keys::setup_single_party, prove, verify, BallotDigest,
    CircuitError, ElectionId, EligibilityProof, EligibilityStatement, IdentityCommitment,
    MerklePath, Nullifier, PreparedVerifyingKey, ProvingKey, VerifyingKey, VoterSecret,
};

struct Keys {
    pk: ProvingKey,
    vk: VerifyingKey,
    pvk: PreparedVerifyingKey,
}

/// Insecure, deterministic test keys (the seed is the depth).
fn keys(depth: u32) -> &'static Keys {
    static K4: OnceLock<Keys> = OnceLock::new();
    static K20: OnceLock<Keys> = OnceLock::new();
    let cell = match depth {
        4 => &K4,
        20 => &K20,
        _ => panic!("no cached keys for depth {depth}"),
    };
    cell.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(u64::from(depth));
        let (pk, vk) = setup_single_party(depth, &mut rng).unwrap();
        let pvk = vk.prepare();
        Keys { pk, vk, pvk }
    })
}

struct Voter {
    secret: VoterSecret,
    path: MerklePath,
    statement: EligibilityStatement,
}

/// A census of `n` voters at `depth`, and voter `index`'s honest statement.
fn voter(depth: u32, n: usize, index: usize, seed: u64) -> Voter {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let secrets: Vec<VoterSecret> = (0..n).map(|_| VoterSecret::random(&mut rng)).collect();
    let leaves: Vec<IdentityCommitment> = secrets
        .iter()
        .map(|s| s.identity_commitment().unwrap())
        .collect();
    let tree = CensusTree::from_leaves(depth, &leaves).unwrap();
    let election_id = ElectionId::from_fr(Fr::rand(&mut rng));
    let secret = secrets[index].clone();
    let statement = EligibilityStatement::new(
        tree.root(),
        secret.nullifier(&election_id).unwrap(),
        election_id,
        BallotDigest::from_fr(Fr::rand(&mut rng)),
    );
    Voter {
        secret,
        path: tree.path(index as u64).unwrap(),
        statement,
    }
}

fn prove_for(v: &Voter, depth: u32, seed: u64) -> EligibilityProof {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    prove(&keys(depth).pk, &v.secret, &v.path, &v.statement, &mut rng).unwrap()
}

/// Ten valid (statement, proof) pairs at depth 4, shared by the batch tests.
fn valid_batch() -> &'static Vec<(EligibilityStatement, EligibilityProof)> {
    static B: OnceLock<Vec<(EligibilityStatement, EligibilityProof)>> = OnceLock::new();
    B.get_or_init(|| {
        (0..10u64)
            .map(|i| {
                let v = voter(4, 9, (i % 9) as usize, 1000 + i);
                let p = prove_for(&v, 4, 2000 + i);
                (v.statement, p)
            })
            .collect()
    })
}

fn bump(x: Fr) -> Fr {
    x + Fr::from(1u64)
}

#[test]
fn round_trip_at_depth_4_and_20() {
    for (depth, n, index) in [(4u32, 11usize, 6usize), (20, 5, 3)] {
        let v = voter(depth, n, index, u64::from(depth));
        let proof = prove_for(&v, depth, 7);
        verify(&keys(depth).pvk, &v.statement, &proof).unwrap();
        // Through the byte codec.
        let decoded = EligibilityProof::from_bytes(&proof.to_bytes()).unwrap();
        verify(&keys(depth).pvk, &v.statement, &decoded).unwrap();
        assert_eq!(format!("{proof:?}"), "EligibilityProof(128 bytes)");
        // Malleability: other bytes, same statement, still valid.
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let again = proof.rerandomize(&keys(depth).vk, &mut rng).unwrap();
        assert_ne!(again.to_bytes(), proof.to_bytes());
        verify(&keys(depth).pvk, &v.statement, &again).unwrap();
    }
}

#[test]
fn wrong_public_inputs_are_rejected() {
    let v = voter(4, 7, 2, 40);
    let proof = prove_for(&v, 4, 41);
    let pvk = &keys(4).pvk;
    let s = v.statement;
    verify(pvk, &s, &proof).unwrap();
    let wrong = [
        (
            "census root",
            EligibilityStatement::new(
                urna_circuits::CensusRoot::from_fr(bump(s.census_root().to_fr())),
                s.nullifier(),
                s.election_id(),
                s.ballot_digest(),
            ),
        ),
        (
            "nullifier",
            EligibilityStatement::new(
                s.census_root(),
                Nullifier::from_fr(bump(s.nullifier().to_fr())),
                s.election_id(),
                s.ballot_digest(),
            ),
        ),
        (
            "election id",
            EligibilityStatement::new(
                s.census_root(),
                s.nullifier(),
                ElectionId::from_fr(bump(s.election_id().to_fr())),
                s.ballot_digest(),
            ),
        ),
        (
            "ballot digest",
            EligibilityStatement::new(
                s.census_root(),
                s.nullifier(),
                s.election_id(),
                BallotDigest::from_fr(bump(s.ballot_digest().to_fr())),
            ),
        ),
    ];
    for (name, statement) in wrong {
        assert_eq!(
            verify(pvk, &statement, &proof),
            Err(CircuitError::ProofRejected),
            "{name}"
        );
    }
}

#[test]
fn flipped_proof_bits_are_rejected() {
    let v = voter(4, 3, 1, 50);
    let proof = prove_for(&v, 4, 51);
    let bytes = proof.to_bytes();
    let pvk = &keys(4).pvk;
    let (mut at_decode, mut at_verify) = (0, 0);
    for pos in 0..bytes.len() {
        let mut b = bytes;
        b[pos] ^= 1 << (pos % 8);
        match EligibilityProof::from_bytes(&b) {
            Err(_) => at_decode += 1,
            Ok(p) => {
                assert!(verify(pvk, &v.statement, &p).is_err(), "byte {pos}");
                at_verify += 1;
            }
        }
    }
    assert_eq!(at_decode + at_verify, 128);
    // Wrong lengths and the all-zero encoding (identity / invalid points).
    assert!(matches!(
        EligibilityProof::from_bytes(&bytes[..127]),
        Err(CircuitError::LenMismatch { .. })
    ));
    assert!(EligibilityProof::from_bytes(&[0u8; 128]).is_err());
}

#[test]
fn identity_points_are_rejected_at_decode() {
    use ark_serialize::CanonicalSerialize;
    let v = voter(4, 3, 0, 55);
    let proof = prove_for(&v, 4, 56);
    let mut ark = proof.as_ark().clone();
    ark.a = ark_bn254::G1Affine::identity();
    let mut bytes = Vec::new();
    ark.serialize_compressed(&mut bytes).unwrap();
    assert!(matches!(
        EligibilityProof::from_bytes(&bytes),
        Err(CircuitError::InvalidEncoding { .. })
    ));
}

/// `B` on the twist but outside G2 (a random point of the twist): the encoding is
/// canonical and decompresses, only the subgroup test refuses it. A `B` in G2 other
/// than the prover's decodes and fails verification instead.
#[test]
fn b_outside_g2_is_rejected_at_decode() {
    use ark_bn254::{Fq2, G2Affine};
    use ark_ec::{AffineRepr, CurveGroup};
    use ark_ff::Zero;
    use ark_serialize::CanonicalSerialize;
    let v = voter(4, 3, 0, 57);
    let proof = prove_for(&v, 4, 58);
    let mut rng = ChaCha20Rng::seed_from_u64(59);
    let mut outside = 0;
    while outside < 4 {
        let Some(b) = G2Affine::get_point_from_x_unchecked(Fq2::rand(&mut rng), true) else {
            continue;
        };
        assert!(b.is_on_curve());
        // Nearly every twist point is outside G2; skip the (negligible) others.
        if b.mul_bigint(<Fr as ark_ff::PrimeField>::MODULUS).is_zero() {
            continue;
        }
        outside += 1;
        let mut ark = proof.as_ark().clone();
        ark.b = b;
        let mut bytes = Vec::new();
        ark.serialize_compressed(&mut bytes).unwrap();
        assert!(matches!(
            EligibilityProof::from_bytes(&bytes),
            Err(CircuitError::InvalidEncoding { what }) if what.contains("not in G2")
        ));
        // Its G2 component (cofactor cleared) decodes, and fails the pairing check.
        ark.b = b.clear_cofactor().into_group().into_affine();
        let mut bytes = Vec::new();
        ark.serialize_compressed(&mut bytes).unwrap();
        let decoded = EligibilityProof::from_bytes(&bytes).unwrap();
        assert_eq!(
            verify(&keys(4).pvk, &v.statement, &decoded),
            Err(CircuitError::ProofRejected)
        );
    }
}

#[test]
fn prover_refuses_a_bad_witness() {
    let v = voter(4, 5, 1, 60);
    let pk = &keys(4).pk;
    let mut rng = ChaCha20Rng::seed_from_u64(61);
    // A secret outside the census.
    let stranger = VoterSecret::random(&mut rng);
    assert_eq!(
        prove(pk, &stranger, &v.path, &v.statement, &mut rng),
        Err(CircuitError::Unsatisfied)
    );
    // Another voter's path.
    let other = voter(4, 5, 2, 60);
    assert_eq!(
        prove(pk, &v.secret, &other.path, &v.statement, &mut rng),
        Err(CircuitError::Unsatisfied)
    );
    // A nullifier for another election.
    let s = v.statement;
    let wrong_nullifier = EligibilityStatement::new(
        s.census_root(),
        v.secret
            .nullifier(&ElectionId::from_fr(bump(s.election_id().to_fr())))
            .unwrap(),
        s.election_id(),
        s.ballot_digest(),
    );
    assert_eq!(
        prove(pk, &v.secret, &v.path, &wrong_nullifier, &mut rng),
        Err(CircuitError::Unsatisfied)
    );
    // A path of another depth.
    let deep = voter(5, 5, 1, 60);
    assert!(matches!(
        prove(pk, &deep.secret, &deep.path, &deep.statement, &mut rng),
        Err(CircuitError::PathLength {
            expected: 4,
            actual: 5
        })
    ));
    // The honest twin proves.
    assert!(prove(pk, &v.secret, &v.path, &v.statement, &mut rng).is_ok());
}

#[test]
fn batch_of_valid_proofs_passes() {
    let pvk = &keys(4).pvk;
    let items: Vec<(&EligibilityStatement, &EligibilityProof)> =
        valid_batch().iter().map(|(s, p)| (s, p)).collect();
    let mut rng = ChaCha20Rng::seed_from_u64(70);
    batch_verify(pvk, &items, &mut rng).unwrap();
    batch_verify(pvk, &items[..1], &mut rng).unwrap();
    batch_verify(pvk, &[], &mut rng).unwrap();
}

/// A batch of 40 (the ten valid proofs, cycled) with proofs at `bad` paired with a
/// digest they were not made for.
fn batch_with_bad(bad: &[usize]) -> Vec<(EligibilityStatement, EligibilityProof)> {
    let valid = valid_batch();
    (0..40)
        .map(|i| {
            let (s, p) = valid[i % valid.len()].clone();
            if bad.contains(&i) {
                let s = EligibilityStatement::new(
                    s.census_root(),
                    s.nullifier(),
                    s.election_id(),
                    BallotDigest::from_fr(bump(s.ballot_digest().to_fr())),
                );
                (s, p)
            } else {
                (s, p)
            }
        })
        .collect()
}

#[test]
fn batch_names_exactly_the_bad_proofs() {
    let pvk = &keys(4).pvk;
    let mut rng = ChaCha20Rng::seed_from_u64(80);
    for bad in [vec![7], vec![21, 39], vec![0, 1]] {
        let owned = batch_with_bad(&bad);
        let items: Vec<(&EligibilityStatement, &EligibilityProof)> =
            owned.iter().map(|(s, p)| (s, p)).collect();
        assert_eq!(
            batch_verify(pvk, &items, &mut rng),
            Err(CircuitError::BatchRejected { bad: bad.clone() }),
            "bad = {bad:?}"
        );
    }
    // A proof swapped onto another voter's statement is caught too.
    let valid = valid_batch();
    let mut items: Vec<(&EligibilityStatement, &EligibilityProof)> =
        valid.iter().map(|(s, p)| (s, p)).collect();
    items[4] = (&valid[4].0, &valid[5].1);
    assert_eq!(
        batch_verify(pvk, &items, &mut rng),
        Err(CircuitError::BatchRejected { bad: vec![4] })
    );
}

#[test]
fn key_codecs_and_hashes() {
    let k = keys(4);
    // Verifying key: canonical round trip, hash, and rejections.
    let vk_bytes = k.vk.to_bytes();
    assert_eq!(vk_bytes.len(), 392);
    assert_eq!(VerifyingKey::from_bytes(&vk_bytes).unwrap(), k.vk);
    let h = k.vk.verifying_key_hash();
    assert_eq!(k.pvk.verifying_key_hash(), h);
    VerifyingKey::from_bytes_with_hash(&vk_bytes, &h).unwrap();
    let mut flipped = vk_bytes.clone();
    flipped[40] ^= 1;
    assert!(matches!(
        VerifyingKey::from_bytes_with_hash(&flipped, &h),
        Err(CircuitError::KeyHashMismatch { .. })
    ));
    let mut longer = vk_bytes.clone();
    longer.push(0);
    assert!(VerifyingKey::from_bytes(&longer).is_err());
    assert!(VerifyingKey::from_bytes(&vk_bytes[..vk_bytes.len() - 1]).is_err());

    // Proving key: trusted load needs the right hash, checked load validates points.
    let pk_bytes = k.pk.to_bytes().unwrap();
    let ph = k.pk.proving_key_hash();
    let trusted = ProvingKey::from_bytes_trusted(&pk_bytes, &ph).unwrap();
    assert_eq!(trusted.proving_key_hash(), ph);
    assert_eq!(trusted.depth(), 4);
    let mut wrong = ph;
    wrong[0] ^= 1;
    assert!(matches!(
        ProvingKey::from_bytes_trusted(&pk_bytes, &wrong),
        Err(CircuitError::KeyHashMismatch { .. })
    ));
    let mut tampered = pk_bytes.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(matches!(
        ProvingKey::from_bytes_trusted(&tampered, &ph),
        Err(CircuitError::KeyHashMismatch { .. })
    ));
    let checked = ProvingKey::from_bytes_checked(&pk_bytes).unwrap();
    assert_eq!(checked.proving_key_hash(), ph);
    assert!(ProvingKey::from_bytes_checked(&pk_bytes[1..]).is_err());
    assert_eq!(checked.verifying_key().unwrap(), k.vk);

    // A reloaded key proves, and the proof verifies under the original key.
    let v = voter(4, 3, 2, 90);
    let mut rng = ChaCha20Rng::seed_from_u64(91);
    let proof = prove(&trusted, &v.secret, &v.path, &v.statement, &mut rng).unwrap();
    verify(&k.pvk, &v.statement, &proof).unwrap();

    // A key whose header claims another depth does not fit that depth's circuit: refused
    // at load, even when its hash was committed (the prover would index past its queries).
    let mut relabelled = pk_bytes.clone();
    relabelled[8] = 5;
    let rh = sha256(&relabelled);
    assert!(matches!(
        ProvingKey::from_bytes_trusted(&relabelled, &rh),
        Err(CircuitError::InvalidEncoding { what }) if what.contains("does not match the circuit")
    ));
    assert!(ProvingKey::from_bytes_checked(&relabelled).is_err());
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

/// Pinned verifying-key digests from the fixed-seed setups (STYLE §14). They change only
/// if the circuit, the Poseidon constants, the setup or the encoding change. Regenerate
/// with `URNA_UPDATE_SNAPSHOTS=1 cargo test -p urna-circuits --test groth16`.
#[test]
fn pinned_verifying_key_digests() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/vk_sha256.txt");
    let actual = format!(
        "depth 4: {}\ndepth 20: {}\n",
        hex::encode(keys(4).vk.verifying_key_hash()),
        hex::encode(keys(20).vk.verifying_key_hash())
    );
    if std::env::var_os("URNA_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path)
        .expect("missing snapshot; run with URNA_UPDATE_SNAPSHOTS=1 to create it");
    assert_eq!(actual, expected, "verifying key drifted");
}

/// arkworks' gadgets open `tracing` spans that Debug-format the whole constraint system;
/// under a logging subscriber that made key generation quadratic (gigabytes at depth 20).
/// Setup, key loading and proving must open none of them, whatever subscriber is active.
#[test]
fn synthesis_opens_no_tracing_spans_under_a_subscriber() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    struct Counting(Arc<AtomicUsize>);
    impl Subscriber for Counting {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            self.0.fetch_add(1, Ordering::SeqCst);
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, _: &Event<'_>) {}
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    let spans = Arc::new(AtomicUsize::new(0));
    let dispatch = tracing::Dispatch::new(Counting(spans.clone()));
    tracing::dispatcher::with_default(&dispatch, || {
        // The subscriber does see spans opened outside synthesis.
        let _s = tracing::info_span!("outside").entered();
        assert_eq!(spans.load(Ordering::SeqCst), 1);
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let (pk, vk) = setup_single_party(4, &mut rng).unwrap();
        let reloaded =
            ProvingKey::from_bytes_trusted(&pk.to_bytes().unwrap(), &pk.proving_key_hash())
                .unwrap();
        let v = voter(4, 3, 1, 8);
        let proof = prove(&reloaded, &v.secret, &v.path, &v.statement, &mut rng).unwrap();
        verify(&vk.prepare(), &v.statement, &proof).unwrap();
    });
    assert_eq!(
        spans.load(Ordering::SeqCst),
        1,
        "synthesis opened tracing spans"
    );
}
