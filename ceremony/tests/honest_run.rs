//! An honest ceremony of three contributors and a beacon in each phase gives keys that
//! prove and verify a real eligibility proof; keys not derived from it are refused.
#![allow(clippy::unwrap_used)]

use rand::rngs::OsRng;
use urna_ceremony::{
    check_keys, domain_size, snarkjs, verify_keys, verify_transcript, Beacon, CeremonyError,
    Transcript,
};
use urna_circuits::{
    census::CensusTree, keys::setup_single_party, prove, verify, BallotDigest, CircuitError,
    ElectionId, EligibilityStatement, ProvingKey, VoterSecret,
};

fn honest_transcript(depth: u32, contributors: usize) -> Transcript {
    let log_n = domain_size(depth).unwrap().trailing_zeros() as u8;
    let mut t = Transcript::new([0x42; 32], log_n, depth).unwrap();
    let mut published = Vec::new();
    for _ in 0..contributors {
        published.push(t.contribute_phase1(&mut OsRng).unwrap());
    }
    published.push(
        t.close_phase1(
            &Beacon::new(b"phase-1 beacon value", 6).unwrap(),
            &mut OsRng,
        )
        .unwrap(),
    );
    assert_eq!(t.phase1_hashes(), published);
    let mut published = Vec::new();
    for _ in 0..contributors {
        published.push(t.contribute_phase2(&mut OsRng).unwrap());
    }
    published.push(
        t.close_phase2(
            &Beacon::new(b"phase-2 beacon value", 6).unwrap(),
            &mut OsRng,
        )
        .unwrap(),
    );
    assert_eq!(t.phase2_hashes(), published);
    t
}

fn statement_and_proof(
    pk: &ProvingKey,
    depth: u32,
) -> (EligibilityStatement, urna_circuits::EligibilityProof) {
    let voter = VoterSecret::random(&mut OsRng);
    let mut census = CensusTree::new(depth).unwrap();
    census
        .insert(
            VoterSecret::random(&mut OsRng)
                .identity_commitment()
                .unwrap(),
        )
        .unwrap();
    let index = census.insert(voter.identity_commitment().unwrap()).unwrap();
    let election = ElectionId::from_fr(42u64.into());
    let statement = EligibilityStatement::new(
        census.root(),
        voter.nullifier(&election).unwrap(),
        election,
        BallotDigest::from_wide_hash(&[3u8; 64]),
    );
    let proof = prove(
        pk,
        &voter,
        &census.path(index).unwrap(),
        &statement,
        &mut OsRng,
    )
    .unwrap();
    (statement, proof)
}

#[test]
fn honest_ceremony_gives_working_keys() {
    let depth = 4;
    let t = honest_transcript(depth, 3);
    let bytes = t.to_bytes();
    let decoded = Transcript::from_bytes(&bytes).unwrap();
    assert_eq!(decoded, t);
    assert_eq!(decoded.to_bytes(), bytes);
    // the keys the coordinator announces are the ones anyone derives from the transcript
    let (announced_pk, announced_vk) = t.clone().phase2_params().unwrap().into_keys().unwrap();
    let (pk, vk) = verify_keys(
        &decoded,
        &announced_vk,
        Some(&announced_pk.proving_key_hash()),
        &mut OsRng,
    )
    .unwrap();
    assert_eq!(pk.depth(), depth);
    assert_eq!(pk.verifying_key().unwrap(), vk);

    let (statement, proof) = statement_and_proof(&pk, depth);
    verify(&vk.prepare(), &statement, &proof).unwrap();
    // the failing twin: another ballot digest
    let other = EligibilityStatement::new(
        statement.census_root(),
        statement.nullifier(),
        statement.election_id(),
        BallotDigest::from_wide_hash(&[4u8; 64]),
    );
    assert_eq!(
        verify(&vk.prepare(), &other, &proof),
        Err(CircuitError::ProofRejected)
    );

    // keys not derived from the transcript are refused
    let (foreign_pk, foreign_vk) = setup_single_party(depth, &mut OsRng).unwrap();
    assert_eq!(
        verify_keys(&t, &foreign_vk, None, &mut OsRng).map(|_| ()),
        Err(CeremonyError::KeyMismatch {
            what: "verifying key"
        })
    );
    assert_eq!(
        check_keys(&pk, &vk, &vk, Some(&foreign_pk.proving_key_hash())),
        Err(CeremonyError::KeyMismatch {
            what: "proving key"
        })
    );

    // the snarkjs export has snarkjs's shape
    let vk_json: serde_json::Value =
        serde_json::from_str(&snarkjs::verification_key_json(&vk)).unwrap();
    assert_eq!(vk_json["protocol"], "groth16");
    assert_eq!(vk_json["curve"], "bn128");
    assert_eq!(vk_json["nPublic"], 4);
    assert_eq!(vk_json["IC"].as_array().unwrap().len(), 5);
    assert_eq!(vk_json["vk_gamma_2"][2], serde_json::json!(["1", "0"]));
    assert_eq!(vk_json["vk_alpha_1"][2], "1");
    assert_eq!(vk_json["vk_alphabeta_12"].as_array().unwrap().len(), 2);
    let proof_json: serde_json::Value = serde_json::from_str(&snarkjs::proof_json(&proof)).unwrap();
    assert_eq!(proof_json["pi_b"].as_array().unwrap().len(), 3);
    let public: Vec<String> = serde_json::from_str(&snarkjs::public_json(&statement)).unwrap();
    assert_eq!(public.len(), 4);
    assert_eq!(public[2], "42");
}

/// The size of census depth 24: 2^13 powers. Slow; run with `--ignored`.
#[test]
#[ignore]
fn depth_24_ceremony() {
    let depth = 24;
    assert_eq!(domain_size(depth).unwrap(), 1 << 13);
    let t = honest_transcript(depth, 1);
    let (pk, vk) = verify_transcript(&t, &mut OsRng).unwrap();
    let (statement, proof) = statement_and_proof(&pk, depth);
    verify(&vk.prepare(), &statement, &proof).unwrap();
}
