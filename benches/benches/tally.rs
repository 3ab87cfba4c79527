//! Tally decryption of a 1,000,000-ballot aggregate (PROTOCOL §8).
//!
//! Five options whose counts are near 200,000 each. The aggregate is built directly as
//! encryptions of the counts under a 2-of-3 joint key (encrypting a million ballots would
//! only measure encryption). The measured step is what a verifier does: check both
//! trustees' decryption shares, combine them by Lagrange interpolation and solve the five
//! discrete logarithms, including building the baby-step table.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use rand::rngs::StdRng;
use rand::SeedableRng;
use urna_protocol::dkg::{DealerMessage, DkgContext, DkgOutcome};
use urna_protocol::encryption::EncryptionSecretKey;
use urna_protocol::tally::{
    decrypt_tally, decrypt_with_table, Aggregate, DlogTable, TallyContext, TrusteeShares,
};

const BALLOTS: u64 = 1_000_000;
const COUNTS: [u64; 5] = [200_123, 199_877, 200_500, 199_500, 200_000];

struct Fixture {
    tctx: TallyContext,
    aggregate: Aggregate,
    shares: Vec<TrusteeShares>,
}

#[allow(clippy::unwrap_used)] // bench set-up
fn fixture() -> Fixture {
    // Benchmark only: a seeded RNG.
    let mut rng = StdRng::seed_from_u64(2026);
    let keys: Vec<_> = (0..3)
        .map(|_| EncryptionSecretKey::generate(&mut rng))
        .collect();
    let ctx =
        DkgContext::new([0x11; 32], 2, keys.iter().map(|k| k.public_key()).collect()).unwrap();
    let msgs: Vec<_> = (1..=3)
        .map(|i| DealerMessage::deal(&ctx, i, &mut rng).unwrap())
        .collect();
    let outcome = DkgOutcome::new(&ctx, &msgs, &[]).unwrap();
    let pk = outcome.election_public_key();
    let tctx = TallyContext::from_dkg(&ctx, &outcome);
    let cts = vec![COUNTS
        .iter()
        .map(|&m| pk.encrypt_random(m, &mut rng).0)
        .collect()];
    let aggregate = Aggregate::from_parts(BALLOTS, cts);
    let shares = [1u32, 3]
        .iter()
        .map(|&j| {
            let s = outcome
                .secret_share(&ctx, &msgs, j, &keys[j as usize - 1])
                .unwrap();
            TrusteeShares::create(&tctx, &s, &aggregate, &mut rng).unwrap()
        })
        .collect();
    Fixture {
        tctx,
        aggregate,
        shares,
    }
}

#[allow(clippy::unwrap_used)] // bench assertions
fn bench_tally(c: &mut Criterion) {
    let f = fixture();
    let result = decrypt_tally(&f.tctx, &f.aggregate, &f.shares).unwrap();
    assert_eq!(result.counts(), &[COUNTS.to_vec()]);

    let mut group = c.benchmark_group("tally_1m_ballots_5_options");
    group.sample_size(10);
    group.bench_function(
        "decrypt_tally (verify shares, table build, combine, dlog)",
        |b| b.iter(|| decrypt_tally(&f.tctx, &f.aggregate, &f.shares).unwrap()),
    );
    group.bench_function("dlog table build (shared, 5 targets)", |b| {
        b.iter(|| DlogTable::for_targets(BALLOTS, 5))
    });
    let table = DlogTable::for_targets(BALLOTS, 5);
    group.bench_function("decrypt with prebuilt table", |b| {
        b.iter(|| decrypt_with_table(&f.tctx, &f.aggregate, &f.shares, &table).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_tally);
criterion_main!(benches);
