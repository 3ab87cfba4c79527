//! Runs a small ceremony (census depth 2, two contributors and a beacon per phase),
//! makes a real eligibility proof with the keys, and writes `verification_key.json`,
//! `proof.json` and `public.json` in snarkjs's format into the directory given as the
//! only argument (used by `scripts/snarkjs-interop.sh`).

use std::path::PathBuf;

use anyhow::{bail, Context};
use rand::rngs::OsRng;
use urna_ceremony::{domain_size, snarkjs, verify_transcript, Beacon, Transcript};
use urna_circuits::{
    census::CensusTree, prove, verify, BallotDigest, ElectionId, EligibilityStatement, VoterSecret,
};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        bail!("usage: snarkjs_export <output directory>");
    };
    let dir = PathBuf::from(dir);
    let depth = 2;
    let log_n = domain_size(depth)?.trailing_zeros() as u8;
    let mut t = Transcript::new([0x42; 32], log_n, depth)?;
    for _ in 0..2 {
        t.contribute_phase1(&mut OsRng)?;
    }
    t.close_phase1(&Beacon::new(b"interop phase 1", 4)?, &mut OsRng)?;
    for _ in 0..2 {
        t.contribute_phase2(&mut OsRng)?;
    }
    t.close_phase2(&Beacon::new(b"interop phase 2", 4)?, &mut OsRng)?;
    let (pk, vk) = verify_transcript(&t, &mut OsRng)?;

    let voter = VoterSecret::random(&mut OsRng);
    let mut census = CensusTree::new(depth)?;
    let index = census.insert(voter.identity_commitment()?)?;
    let election = ElectionId::from_fr(2026u64.into());
    let statement = EligibilityStatement::new(
        census.root(),
        voter.nullifier(&election)?,
        election,
        BallotDigest::from_wide_hash(&[5u8; 64]),
    );
    let proof = prove(&pk, &voter, &census.path(index)?, &statement, &mut OsRng)?;
    verify(&vk.prepare(), &statement, &proof)?;

    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let files = [
        ("verification_key.json", snarkjs::verification_key_json(&vk)),
        ("proof.json", snarkjs::proof_json(&proof)),
        ("public.json", snarkjs::public_json(&statement)),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    println!("wrote {}", dir.display());
    Ok(())
}
