//! Eligibility proofs at census depth 20 (PROTOCOL §10): proving, single verification
//! with a prepared key, and batch verification of 1,000 proofs (reported per proof).
//!
//! Keys come from the insecure single-party setup with a seeded RNG (benchmark only).
//! The 1,000 batch proofs are 10 honest proofs for 10 voters, each re-randomized 100
//! times: re-randomized proofs are distributed like fresh ones and cost the verifier
//! exactly the same, and proving 1,000 real proofs would dominate the set-up time.

use criterion::{criterion_main, BatchSize, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::SeedableRng;
use urna_circuits::census::{CensusTree, DEFAULT_DEPTH};
use urna_circuits::keys::setup_single_party;
use urna_circuits::{
    batch_verify, prove, verify, BallotDigest, ElectionId, EligibilityProof, EligibilityStatement,
    IdentityCommitment, MerklePath, PreparedVerifyingKey, ProvingKey, VerifyingKey, VoterSecret,
};

const BATCH: usize = 1_000;
const VOTERS: usize = 10;

struct Voter {
    secret: VoterSecret,
    path: MerklePath,
    statement: EligibilityStatement,
}

struct Fixture {
    pk: ProvingKey,
    vk: VerifyingKey,
    pvk: PreparedVerifyingKey,
    voters: Vec<Voter>,
}

#[allow(clippy::unwrap_used)] // bench set-up
fn fixture() -> Fixture {
    // Benchmark only: a seeded RNG.
    let mut rng = StdRng::seed_from_u64(2026);
    let (pk, vk) = setup_single_party(DEFAULT_DEPTH, &mut rng).unwrap();
    let pvk = vk.prepare();
    let secrets: Vec<VoterSecret> = (0..VOTERS).map(|_| VoterSecret::random(&mut rng)).collect();
    let leaves: Vec<IdentityCommitment> = secrets
        .iter()
        .map(|s| s.identity_commitment().unwrap())
        .collect();
    let tree = CensusTree::from_leaves(DEFAULT_DEPTH, &leaves).unwrap();
    let election = ElectionId::from_fr(2026u64.into());
    let voters = secrets
        .into_iter()
        .enumerate()
        .map(|(i, secret)| {
            let statement = EligibilityStatement::new(
                tree.root(),
                secret.nullifier(&election).unwrap(),
                election,
                BallotDigest::from_wide_hash(&[i as u8; 64]),
            );
            Voter {
                path: tree.path(i as u64).unwrap(),
                secret,
                statement,
            }
        })
        .collect();
    Fixture {
        pk,
        vk,
        pvk,
        voters,
    }
}

#[allow(clippy::unwrap_used)] // bench
fn bench_eligibility(c: &mut Criterion) {
    let f = fixture();
    let mut rng = StdRng::seed_from_u64(7);
    let v = &f.voters[0];

    let mut group = c.benchmark_group("eligibility_depth20");
    group.sample_size(10);
    group.bench_function("prove", |b| {
        b.iter(|| prove(&f.pk, &v.secret, &v.path, &v.statement, &mut rng).unwrap())
    });

    let proof = prove(&f.pk, &v.secret, &v.path, &v.statement, &mut rng).unwrap();
    group.bench_function("verify_prepared", |b| {
        b.iter(|| verify(&f.pvk, &v.statement, &proof).unwrap())
    });

    let honest: Vec<(EligibilityStatement, EligibilityProof)> = f
        .voters
        .iter()
        .map(|v| {
            let p = prove(&f.pk, &v.secret, &v.path, &v.statement, &mut rng).unwrap();
            (v.statement, p)
        })
        .collect();
    let owned: Vec<(EligibilityStatement, EligibilityProof)> = (0..BATCH)
        .map(|i| {
            let (s, p) = &honest[i % VOTERS];
            (*s, p.rerandomize(&f.vk, &mut rng).unwrap())
        })
        .collect();
    let items: Vec<(&EligibilityStatement, &EligibilityProof)> =
        owned.iter().map(|(s, p)| (s, p)).collect();
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("batch_verify_1000", |b| {
        b.iter_batched(
            || StdRng::seed_from_u64(11),
            |mut r| batch_verify(&f.pvk, &items, &mut r).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// `criterion_group!` expands to an undocumented `pub fn`; keep the lint off for it only.
mod group {
    #![allow(missing_docs)]
    use super::bench_eligibility;
    criterion::criterion_group!(benches, bench_eligibility);
}
criterion_main!(group::benches);
