//! Measures the ceremony at one census depth (default 24): contribution and
//! verification times, sizes, and the time to verify a whole transcript of one
//! contributor and one beacon per phase. `cargo run --release -p urna-ceremony
//! --example measure -- <depth>` (or `--release`).

use std::time::Instant;

use anyhow::Context;
use rand::rngs::OsRng;
use urna_ceremony::{
    domain_size, phase1, phase2, verify_transcript, Beacon, Phase1Params, Transcript,
};

fn secs(t: Instant) -> String {
    format!("{:.2} s", t.elapsed().as_secs_f64())
}

fn mb(bytes: usize) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

fn main() -> anyhow::Result<()> {
    let depth: u32 = match std::env::args().nth(1) {
        Some(d) => d.parse().context("depth")?,
        None => 24,
    };
    let threads = rayon::current_num_threads();
    let m = domain_size(depth)?;
    let log_n = m.trailing_zeros() as u8;
    println!("census depth {depth}: QAP domain {m} = 2^{log_n}, {threads} threads");

    let mut t = Transcript::new([0x42; 32], log_n, depth)?;
    let start = Phase1Params::initial(log_n)?;
    let clock = Instant::now();
    let c = phase1::contribute(&start, &t.phase1_hash(), &mut OsRng);
    println!("phase 1: contribute {}", secs(clock));
    println!("phase 1: contribution size {}", mb(c.to_bytes().len()));
    let clock = Instant::now();
    phase1::verify_contribution(&start, &c, &t.phase1_hash(), 0, &mut OsRng)?;
    println!("phase 1: verify one contribution {}", secs(clock));
    let bytes = c.to_bytes();
    let clock = Instant::now();
    let _ = urna_ceremony::Phase1Contribution::from_bytes(&bytes, log_n)?;
    println!(
        "phase 1: decode one contribution (point checks) {}",
        secs(clock)
    );
    t.add_phase1(c, &mut OsRng)?;
    t.close_phase1(&Beacon::new(b"measure", 10)?, &mut OsRng)?;

    let clock = Instant::now();
    let p1 = t.phase1_params()?;
    let base = phase2::initial(&p1, depth)?;
    println!("phase 2: initial keys from phase 1 {}", secs(clock));
    let clock = Instant::now();
    let c = phase2::contribute(&base, &t.phase2_hash(), &mut OsRng)?;
    println!("phase 2: contribute {}", secs(clock));
    println!("phase 2: contribution size {}", mb(c.to_bytes().len()));
    let clock = Instant::now();
    phase2::verify_contribution(&base, &c, &t.phase2_hash(), 0, &mut OsRng)?;
    println!("phase 2: verify one contribution {}", secs(clock));
    t.add_phase2(c, &mut OsRng)?;
    t.close_phase2(&Beacon::new(b"measure", 10)?, &mut OsRng)?;

    let bytes = t.to_bytes();
    println!(
        "transcript (1 contributor + beacon per phase): {}",
        mb(bytes.len())
    );
    let clock = Instant::now();
    let decoded = Transcript::from_bytes(&bytes)?;
    println!("transcript: decode {}", secs(clock));
    let clock = Instant::now();
    let (pk, vk) = verify_transcript(&decoded, &mut OsRng)?;
    println!("transcript: verify and derive keys {}", secs(clock));
    println!(
        "proving key {}, verifying key sha256 {}",
        mb(pk.to_bytes()?.len()),
        hex::encode(vk.verifying_key_hash())
    );
    Ok(())
}
