//! Ballot validity proofs and full ballot verification (PROTOCOL §6).
//!
//! * `validity_5_options`: encrypting and proving one 5-option contest (0/1 proofs and
//!   the selection-count proof) and checking it, for a 1-of-5 and a 0-to-5 contest;
//! * `ballot_depth20`: one full ballot (eligibility at census depth 20 and validity,
//!   one 1-of-5 contest) verified alone, and per ballot in a batch of 1,000
//!   (`verify_ballots`: one multiscalar multiplication for all validity proofs, one
//!   Groth16 batch for all eligibility proofs).
//!
//! Keys come from the insecure single-party setup with a seeded RNG (benchmark only).
//! The batch is 1,000 distinct honest ballots from 1,000 distinct voters, each with its
//! own Groth16 proof; proving them takes minutes and is done once per run. Set
//! `URNA_BENCH_BALLOTS` to use another batch size.

use criterion::{criterion_main, BatchSize, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::SeedableRng;
use urna_circuits::census::CensusTree;
use urna_circuits::keys::setup_single_party;
use urna_circuits::{ElectionId, IdentityCommitment, PreparedVerifyingKey, VoterSecret};
use urna_protocol::ballot::{encrypt_ballot, verify_ballots, Ballot};
use urna_protocol::elgamal::ElectionPublicKey;
use urna_protocol::encryption::EncryptionPublicKey;
use urna_protocol::group::{random_scalar, G};
use urna_protocol::manifest::{Contest, Manifest, Trustee};
use urna_protocol::signing::SigningKey;

const DEPTH: u32 = 20;
const DEFAULT_BATCH: usize = 1_000;

/// Distinct ballots proved for the batch bench (the rest are re-randomised copies).
const DISTINCT: usize = 50;

fn batch_size() -> usize {
    std::env::var("URNA_BENCH_BALLOTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_BATCH)
}

#[allow(clippy::unwrap_used)] // bench set-up
fn manifest(min: u32, max: u32, vk_hash: [u8; 32], pk_hash: [u8; 32]) -> Manifest {
    let mut rng = StdRng::seed_from_u64(1);
    Manifest {
        election_id: ElectionId::from_fr(2026u64.into()),
        title: "Benchmark election".into(),
        contests: vec![Contest {
            title: "Five options".into(),
            options: (1..=5).map(|i| format!("Option {i}")).collect(),
            min_selections: min,
            max_selections: max,
        }],
        opens_at: 1_800_000_000,
        closes_at: 1_800_086_400,
        census_depth: DEPTH,
        trustees: vec![Trustee {
            name: "T1".into(),
            signing_key: SigningKey::generate(&mut rng).public_key(),
            encryption_key: EncryptionPublicKey::from_point(random_scalar(&mut rng) * G).unwrap(),
        }],
        threshold: 1,
        authority_key: SigningKey::generate(&mut rng).public_key(),
        board_key: SigningKey::generate(&mut rng).public_key(),
        setup: urna_protocol::manifest::Setup::Keys {
            verifying_key_hash: vk_hash,
            proving_key_hash: pk_hash,
        },
    }
}

fn election_key(rng: &mut StdRng) -> ElectionPublicKey {
    loop {
        if let Ok(pk) = ElectionPublicKey::from_point(random_scalar(rng) * G) {
            return pk;
        }
    }
}

#[allow(clippy::unwrap_used)] // bench
fn bench_validity(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(5);
    let pk = election_key(&mut rng);
    let secret = VoterSecret::random(&mut rng);
    let mut group = c.benchmark_group("validity_5_options");
    for (name, min, max, choice) in [
        ("1_of_5", 1, 1, vec![false, false, true, false, false]),
        ("0_to_5", 0, 5, vec![true, false, true, true, false]),
    ] {
        let m = manifest(min, max, [0; 32], [0; 32]);
        let nullifier = secret.nullifier(&m.election_id).unwrap();
        let root = CensusTree::new(DEPTH).unwrap().root();
        let selections = vec![choice];
        group.bench_function(format!("{name}/encrypt_and_prove"), |b| {
            b.iter(|| encrypt_ballot(&m, &pk, root, nullifier, &selections, &mut rng).unwrap())
        });
        let (enc, _) = encrypt_ballot(&m, &pk, root, nullifier, &selections, &mut rng).unwrap();
        group.bench_function(format!("{name}/verify"), |b| {
            b.iter(|| enc.verify_validity(&m, &pk).unwrap())
        });
    }
    group.finish();
}

struct Fixture {
    manifest: Manifest,
    pk: ElectionPublicKey,
    pvk: PreparedVerifyingKey,
    root: urna_circuits::CensusRoot,
    ballots: Vec<Ballot>,
}

#[allow(clippy::unwrap_used)] // bench set-up
fn fixture(n: usize) -> Fixture {
    // Benchmark only: a seeded RNG and a single-party Groth16 setup.
    let mut rng = StdRng::seed_from_u64(2026);
    let (proving_key, vk) = setup_single_party(DEPTH, &mut rng).unwrap();
    let manifest = manifest(
        1,
        1,
        vk.verifying_key_hash(),
        proving_key.proving_key_hash(),
    );
    let manifest_hash = manifest.manifest_hash();
    let pk = election_key(&mut rng);
    // Prove at most DISTINCT ballots; the batch repeats them with re-randomised Groth16
    // proofs, which cost the verifier exactly what fresh proofs cost (same equations,
    // fresh points), so a batch of 1,000 does not need 1,000 proving runs.
    let distinct = n.clamp(1, DISTINCT);
    let secrets: Vec<VoterSecret> = (0..distinct)
        .map(|_| VoterSecret::random(&mut rng))
        .collect();
    let leaves: Vec<IdentityCommitment> = secrets
        .iter()
        .map(|s| s.identity_commitment().unwrap())
        .collect();
    let tree = CensusTree::from_leaves(DEPTH, &leaves).unwrap();
    let root = tree.root();
    eprintln!("ballot bench: proving {distinct} ballots (census depth {DEPTH}), once per run...");
    let started = std::time::Instant::now();
    let proved: Vec<Ballot> = secrets
        .iter()
        .enumerate()
        .map(|(i, secret)| {
            let mut selection = vec![false; 5];
            selection[i % 5] = true;
            let nullifier = secret.nullifier(&manifest.election_id).unwrap();
            let (enc, _) =
                encrypt_ballot(&manifest, &pk, root, nullifier, &[selection], &mut rng).unwrap();
            let statement = enc.eligibility_statement(&manifest_hash);
            let path = tree.path(i as u64).unwrap();
            let proof =
                urna_circuits::prove(&proving_key, secret, &path, &statement, &mut rng).unwrap();
            enc.attach_eligibility(proof)
        })
        .collect();
    let ballots = (0..n)
        .map(|i| {
            let mut b = proved[i % distinct].clone();
            if i >= distinct {
                b.eligibility = b.eligibility.rerandomize(&vk, &mut rng).unwrap();
            }
            b
        })
        .collect();
    eprintln!("ballot bench: proved in {:.1?}", started.elapsed());
    Fixture {
        manifest,
        pk,
        pvk: vk.prepare(),
        root,
        ballots,
    }
}

#[allow(clippy::unwrap_used)] // bench
fn bench_ballots(c: &mut Criterion) {
    let n = batch_size();
    let f = fixture(n);
    let mut group = c.benchmark_group("ballot_depth20");
    group.sample_size(10);
    let one = &f.ballots[0];
    group.bench_function("verify_alone", |b| {
        b.iter(|| one.verify(&f.manifest, &f.pk, &f.pvk, &f.root).unwrap())
    });
    group.bench_function("validity_alone", |b| {
        b.iter(|| one.verify_validity(&f.manifest, &f.pk).unwrap())
    });
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("verify_batch_{n}"), |b| {
        b.iter_batched(
            || StdRng::seed_from_u64(11),
            |mut r| {
                verify_ballots(&f.ballots, &f.manifest, &f.pk, &f.pvk, &f.root, &mut r).unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// `criterion_group!` expands to an undocumented `pub fn`; keep the lint off for it only.
mod group {
    #![allow(missing_docs)]
    use super::{bench_ballots, bench_validity};
    criterion::criterion_group!(benches, bench_validity, bench_ballots);
}
criterion_main!(group::benches);
