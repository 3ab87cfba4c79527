//! Rejection tests: every check of PROTOCOL §14 has a contribution that fails it.

use ark_bn254::{Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{One, Zero};
use rand::rngs::OsRng;

use crate::beacon::{beacon_secret_scalar, Beacon};
use crate::error::{CeremonyError, Check, Phase, SecretName};
use crate::phase1::{self, Phase1Contribution, Phase1Params};
use crate::phase2;
use crate::pok::{KnowledgeProof, Secret};
use crate::transcript::{verify_transcript, Transcript};

const BINDING: [u8; 32] = [7u8; 32];

fn check_failed(phase: Phase, index: usize, check: Check) -> CeremonyError {
    CeremonyError::CheckFailed {
        phase,
        index,
        check,
    }
}

fn bump_g1(p: &G1Affine) -> G1Affine {
    (p.into_group() + G1Affine::generator()).into_affine()
}

fn bump_g2(p: &G2Affine) -> G2Affine {
    (p.into_group() + G2Affine::generator()).into_affine()
}

/// Phase-1 parameters after one honest contribution, and a second honest contribution.
fn phase1_pair(log_n: u8) -> (Phase1Params, Phase1Contribution) {
    let start = Phase1Params::initial(log_n).unwrap();
    let first = phase1::contribute(&start, &[1u8; 32], &mut OsRng);
    let second = phase1::contribute(&first.params, &BINDING, &mut OsRng);
    (first.params, second)
}

fn verify1(prev: &Phase1Params, c: &Phase1Contribution) -> Result<(), CeremonyError> {
    phase1::verify_contribution(prev, c, &BINDING, 1, &mut OsRng)
}

#[test]
fn honest_phase1_contribution_verifies() {
    let (prev, c) = phase1_pair(3);
    verify1(&prev, &c).unwrap();
    // and the bytes round-trip
    let again = Phase1Contribution::from_bytes(&c.to_bytes(), 3).unwrap();
    assert_eq!(again, c);
}

#[test]
fn phase1_rejects_missing_or_wrong_knowledge_proofs() {
    let (prev, c) = phase1_pair(3);
    // no proof: the commitment and response left empty
    let mut bad = c.clone();
    bad.alpha.commitment = G1Affine::zero();
    bad.alpha.response = Fr::zero();
    assert_eq!(
        verify1(&prev, &bad),
        Err(check_failed(
            Phase::One,
            1,
            Check::KnowledgeProof(SecretName::Alpha)
        ))
    );
    // a wrong response
    let mut bad = c.clone();
    bad.tau.response += Fr::one();
    assert_eq!(
        verify1(&prev, &bad),
        Err(check_failed(
            Phase::One,
            1,
            Check::KnowledgeProof(SecretName::Tau)
        ))
    );
    // a proof made for another place of the transcript (other binding)
    let other = phase1::contribute(&prev, &[9u8; 32], &mut OsRng);
    assert_eq!(
        verify1(&prev, &other),
        Err(check_failed(
            Phase::One,
            1,
            Check::KnowledgeProof(SecretName::Tau)
        ))
    );
    // [x]_2 not matching [x]_1
    let mut bad = c.clone();
    bad.beta.g2 = bump_g2(&bad.beta.g2);
    assert_eq!(
        verify1(&prev, &bad),
        Err(check_failed(
            Phase::One,
            1,
            Check::KnowledgeProof(SecretName::Beta)
        ))
    );
}

#[test]
fn phase1_rejects_reused_state() {
    let (prev, c) = phase1_pair(3);
    // the previous state again, with valid proofs of knowledge of x = 1
    let one = Secret::from_fr(Fr::one());
    let reuse = Phase1Contribution {
        params: prev.clone(),
        tau: KnowledgeProof::prove_random(&one, SecretName::Tau, &BINDING, &mut OsRng),
        alpha: KnowledgeProof::prove_random(&one, SecretName::Alpha, &BINDING, &mut OsRng),
        beta: KnowledgeProof::prove_random(&one, SecretName::Beta, &BINDING, &mut OsRng),
        beacon: None,
    };
    assert_eq!(
        verify1(&prev, &reuse),
        Err(check_failed(
            Phase::One,
            1,
            Check::Degenerate(SecretName::Tau)
        ))
    );
    // the previous state with fresh proofs that do not match it
    let unlinked = Phase1Contribution {
        params: prev.clone(),
        ..c.clone()
    };
    assert_eq!(
        verify1(&prev, &unlinked),
        Err(check_failed(Phase::One, 1, Check::Link(SecretName::Tau)))
    );
}

#[test]
fn phase1_rejects_broken_same_ratio_relations() {
    let (prev, c) = phase1_pair(3);
    let mut bad = c.clone();
    let v = &mut bad.params.tau_g1;
    v[9] = bump_g1(&v[9]);
    assert_eq!(
        verify1(&prev, &bad),
        Err(check_failed(Phase::One, 1, Check::TauPowersG1))
    );
    // the last power too (only the shifted vector sees it)
    let mut bad = c.clone();
    let v = &mut bad.params.tau_g1;
    let last = v.len() - 1;
    v[last] = bump_g1(&v[last]);
    assert_eq!(
        verify1(&prev, &bad),
        Err(check_failed(Phase::One, 1, Check::TauPowersG1))
    );
    let mut bad = c.clone();
    bad.params.tau_g2[3] = bump_g2(&bad.params.tau_g2[3]);
    assert_eq!(
        verify1(&prev, &bad),
        Err(check_failed(Phase::One, 1, Check::TauPowersG2))
    );
    let mut bad = c.clone();
    bad.params.alpha_tau_g1[2] = bump_g1(&bad.params.alpha_tau_g1[2]);
    assert_eq!(
        verify1(&prev, &bad),
        Err(check_failed(Phase::One, 1, Check::AlphaTauPowers))
    );
    let mut bad = c.clone();
    bad.params.beta_tau_g1[7] = bump_g1(&bad.params.beta_tau_g1[7]);
    assert_eq!(
        verify1(&prev, &bad),
        Err(check_failed(Phase::One, 1, Check::BetaTauPowers))
    );
    let mut bad = c.clone();
    bad.params.beta_g2 = bump_g2(&bad.params.beta_g2);
    assert_eq!(
        verify1(&prev, &bad),
        Err(check_failed(Phase::One, 1, Check::BetaG2))
    );
    let mut bad = c.clone();
    bad.params.tau_g1[0] = bump_g1(&G1Affine::generator());
    assert_eq!(
        verify1(&prev, &bad),
        Err(check_failed(Phase::One, 1, Check::Generators))
    );
    // the whole alpha vector of another contribution: consistent powers, wrong link
    let other = phase1::contribute(&prev, &BINDING, &mut OsRng);
    let mut bad = c.clone();
    bad.params.alpha_tau_g1 = other.params.alpha_tau_g1.clone();
    assert_eq!(
        verify1(&prev, &bad),
        Err(check_failed(Phase::One, 1, Check::Link(SecretName::Alpha)))
    );
}

#[test]
fn phase1_beacon_is_recomputed() {
    let (prev, _) = phase1_pair(3);
    let beacon = Beacon::new(b"block 123", 3).unwrap();
    let c = phase1::contribute_beacon(&prev, &BINDING, &beacon);
    verify1(&prev, &c).unwrap();
    // claimed to come from another beacon value
    let mut bad = c.clone();
    bad.beacon = Some(Beacon::new(b"block 124", 3).unwrap());
    assert_eq!(
        verify1(&prev, &bad),
        Err(check_failed(Phase::One, 1, Check::Beacon))
    );
    // or from the same value with fewer iterations
    let mut bad = c.clone();
    bad.beacon = Some(Beacon::new(b"block 123", 2).unwrap());
    assert_eq!(
        verify1(&prev, &bad),
        Err(check_failed(Phase::One, 1, Check::Beacon))
    );
    // a random contribution labelled as the beacon's
    let mut bad = phase1::contribute(&prev, &BINDING, &mut OsRng);
    bad.beacon = Some(beacon);
    assert_eq!(
        verify1(&prev, &bad),
        Err(check_failed(Phase::One, 1, Check::Beacon))
    );
}

#[test]
fn beacon_known_answer() {
    // PROTOCOL 14.6 test vector: value "urna beacon test vector", k = 10, binding = 32
    // zero bytes.
    let beacon = Beacon::new(b"urna beacon test vector", 10).unwrap();
    let seed = beacon.seed();
    let tau = beacon_secret_scalar(&seed, &[0u8; 32], SecretName::Tau);
    let delta = beacon_secret_scalar(&seed, &[0u8; 32], SecretName::Delta);
    let got = (hex::encode(seed), tau.to_string(), delta.to_string());
    let expected = (
        KAT_SEED.to_string(),
        KAT_TAU.to_string(),
        KAT_DELTA.to_string(),
    );
    assert_eq!(got, expected);
    // k = 0 is one hash of the value
    use sha2::Digest;
    let one: [u8; 32] = sha2::Sha256::digest(b"x").into();
    assert_eq!(Beacon::new(b"x", 0).unwrap().seed(), one);
}

// Recomputed independently (Python hashlib) when pinned.
const KAT_SEED: &str = "9118506d1551dc020bae2d9632edaa787abd3513bd24c1eadb942710604e3f6f";
const KAT_TAU: &str =
    "17186829373282918535004532910413720609054318601954120703200529606810729356437";
const KAT_DELTA: &str =
    "11566914347412097856502842801496655161846034836028817352937125791708020542732";

#[test]
fn beacon_bounds() {
    assert!(matches!(
        Beacon::new(&[0u8; 257], 1),
        Err(CeremonyError::TooLarge { .. })
    ));
    assert!(matches!(
        Beacon::new(b"v", 33),
        Err(CeremonyError::TooLarge { .. })
    ));
}

#[test]
fn secrets_are_not_printed() {
    let s = Secret::random(&mut OsRng);
    assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
}

/// A transcript of depth 1 with phase 1 closed (2^10 powers).
fn closed_phase1() -> Transcript {
    let depth = 1;
    let log_n = crate::qap::domain_size(depth).unwrap().trailing_zeros() as u8;
    let mut t = Transcript::new([0x42; 32], log_n, depth).unwrap();
    t.contribute_phase1(&mut OsRng).unwrap();
    t.close_phase1(&Beacon::new(b"phase 1 beacon", 2).unwrap(), &mut OsRng)
        .unwrap();
    t
}

#[test]
fn phase2_rejections_and_transcript_rules() {
    let mut t = closed_phase1();
    // phase 1 is closed
    assert_eq!(
        t.contribute_phase1(&mut OsRng).map(|_| ()),
        Err(CeremonyError::AfterBeacon {
            phase: Phase::One,
            index: 2
        })
    );
    t.contribute_phase2(&mut OsRng).unwrap();
    let prev = t.phase2_params().unwrap();
    let binding = t.phase2_hash();
    let c = phase2::contribute(&prev, &binding, &mut OsRng).unwrap();
    let verify = |c: &phase2::Phase2Contribution| {
        phase2::verify_contribution(&prev, c, &binding, 1, &mut OsRng)
    };
    verify(&c).unwrap();
    let fail = |check| Err(check_failed(Phase::Two, 1, check));

    let mut bad = c.clone();
    bad.delta.response += Fr::one();
    assert_eq!(verify(&bad), fail(Check::KnowledgeProof(SecretName::Delta)));
    let mut bad = c.clone();
    bad.delta.commitment = G1Affine::zero();
    bad.delta.response = Fr::zero();
    assert_eq!(verify(&bad), fail(Check::KnowledgeProof(SecretName::Delta)));

    // the previous state again, with a proof of knowledge of d = 1
    let one = Secret::from_fr(Fr::one());
    let reuse = phase2::Phase2Contribution {
        delta_g1: prev.as_ark().delta_g1,
        delta_g2: prev.as_ark().vk.delta_g2,
        l_query: prev.as_ark().l_query.clone(),
        h_query: prev.as_ark().h_query.clone(),
        delta: KnowledgeProof::prove_random(&one, SecretName::Delta, &binding, &mut OsRng),
        beacon: None,
    };
    assert_eq!(verify(&reuse), fail(Check::Degenerate(SecretName::Delta)));
    // the previous state with a fresh, unrelated proof
    let unlinked = phase2::Phase2Contribution {
        delta: c.delta.clone(),
        ..reuse
    };
    assert_eq!(verify(&unlinked), fail(Check::Link(SecretName::Delta)));

    let mut bad = c.clone();
    bad.delta_g2 = bump_g2(&bad.delta_g2);
    assert_eq!(verify(&bad), fail(Check::DeltaG2));
    let mut bad = c.clone();
    bad.l_query[3] = bump_g1(&bad.l_query[3]);
    assert_eq!(verify(&bad), fail(Check::LQuery));
    let mut bad = c.clone();
    let last = bad.h_query.len() - 1;
    bad.h_query[last] = bump_g1(&bad.h_query[last]);
    assert_eq!(verify(&bad), fail(Check::HQuery));
    let mut bad = c.clone();
    bad.h_query.pop();
    assert!(matches!(
        verify(&bad),
        Err(CeremonyError::LenMismatch { .. })
    ));

    // a transcript that is not closed is refused; an appended bad contribution is
    // refused with its index
    assert_eq!(
        verify_transcript(&t, &mut OsRng).map(|_| ()),
        Err(CeremonyError::NotClosed { phase: Phase::Two })
    );
    let mut bad = c.clone();
    bad.l_query[0] = bump_g1(&bad.l_query[0]);
    assert_eq!(
        t.add_phase2(bad, &mut OsRng).map(|_| ()),
        fail(Check::LQuery)
    );
    t.add_phase2(c, &mut OsRng).unwrap();
    let beacon = Beacon::new(b"phase 2 beacon", 2).unwrap();
    let mut closing =
        phase2::contribute_beacon(&t.phase2_params().unwrap(), &t.phase2_hash(), &beacon).unwrap();
    closing.beacon = Some(Beacon::new(b"phase 2 beacon!", 2).unwrap());
    assert_eq!(
        t.add_phase2(closing, &mut OsRng).map(|_| ()),
        Err(check_failed(Phase::Two, 2, Check::Beacon))
    );
    t.close_phase2(&beacon, &mut OsRng).unwrap();
    verify_transcript(&t, &mut OsRng).unwrap();

    // tampering with the encoded transcript: a modified phase-2 point is caught by the
    // transcript check, a modified phase-1 point too (with its index)
    let mut t2 = t.clone();
    t2.phase2[1].h_query[5] = bump_g1(&t2.phase2[1].h_query[5]);
    let t2 = Transcript::from_bytes(&t2.to_bytes()).unwrap();
    assert_eq!(
        verify_transcript(&t2, &mut OsRng).map(|_| ()),
        Err(check_failed(Phase::Two, 1, Check::HQuery))
    );
    let mut t3 = t.clone();
    t3.phase1[0].params.alpha_tau_g1[4] = bump_g1(&t3.phase1[0].params.alpha_tau_g1[4]);
    assert_eq!(
        verify_transcript(&t3, &mut OsRng).map(|_| ()),
        Err(check_failed(Phase::One, 0, Check::AlphaTauPowers))
    );
    // a beacon in the middle of phase 2
    let mut t4 = t.clone();
    t4.phase2.swap(1, 2);
    assert_eq!(
        verify_transcript(&t4, &mut OsRng).map(|_| ()),
        Err(CeremonyError::AfterBeacon {
            phase: Phase::Two,
            index: 2
        })
    );
}

#[test]
fn encoding_is_canonical_and_bounded() {
    let t = Transcript::new([0x42; 32], 3, 1).unwrap();
    let mut t = t;
    t.contribute_phase1(&mut OsRng).unwrap();
    let bytes = t.to_bytes();
    assert_eq!(Transcript::from_bytes(&bytes).unwrap(), t);
    // trailing bytes
    let mut b = bytes.clone();
    b.push(0);
    assert!(matches!(
        Transcript::from_bytes(&b),
        Err(CeremonyError::InvalidEncoding { .. })
    ));
    // truncated
    assert!(matches!(
        Transcript::from_bytes(&bytes[..bytes.len() - 1]),
        Err(CeremonyError::InvalidEncoding { .. })
    ));
    // a corrupted point (the x coordinate of the last [tau^i]_1 of the parameters):
    // either off the curve or a different, still valid, point caught by verification
    let header = 16 + 32 + 2 + 4 + 1 + 3 * 160;
    let mut b = bytes.clone();
    b[header + 5] ^= 1;
    match Transcript::from_bytes(&b) {
        Err(CeremonyError::InvalidEncoding { .. }) => {}
        Ok(t) => assert_ne!(t, Transcript::from_bytes(&bytes).unwrap()),
        Err(e) => panic!("unexpected {e}"),
    }
    // an absurd contribution count
    let mut b = bytes[..16 + 32 + 2].to_vec();
    b.extend_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        Transcript::from_bytes(&b),
        Err(CeremonyError::TooLarge { .. })
    ));
    // log_n out of range
    let mut b = bytes.clone();
    b[16 + 32] = 17;
    assert!(matches!(
        Transcript::from_bytes(&b),
        Err(CeremonyError::TooLarge { .. })
    ));
    // too few powers for the circuit
    let mut small = Transcript::new([0x42; 32], 3, 1).unwrap();
    small.contribute_phase1(&mut OsRng).unwrap();
    small
        .close_phase1(&Beacon::new(b"b", 0).unwrap(), &mut OsRng)
        .unwrap();
    assert!(matches!(
        small.contribute_phase2(&mut OsRng),
        Err(CeremonyError::TooFewPowers { .. })
    ));
}

/// The incremental state (PROTOCOL 14.10) accepts exactly what `verify_transcript`
/// accepts, derives the same keys and hash, and refuses what the board must refuse.
#[test]
fn incremental_state_matches_the_transcript() {
    use crate::state::{CeremonyState, ContributionState, Stage};
    let context = [0x5a; 32];
    let depth = 1;
    let mut state = CeremonyState::new(context, depth).unwrap();
    let mut t = Transcript::new(context, state.log_n(), depth).unwrap();
    assert_eq!(state.stage(), Stage::Phase1);
    assert_eq!(state.hash(), t.phase1_hash());

    // A beacon cannot close a phase that has no secret contribution.
    let beacon1 = Beacon::new(b"phase 1 beacon", 2).unwrap();
    let download = |s: &CeremonyState| {
        let bytes = s.contribution_state().unwrap().unwrap().to_bytes();
        ContributionState::from_bytes(&bytes).unwrap()
    };
    let (early, _) = download(&state).contribute_beacon(&beacon1).unwrap();
    assert_eq!(
        state.add_phase1(&early, &mut OsRng),
        Err(CeremonyError::OnlyBeacon { phase: Phase::One })
    );

    // Two contributors, each from the downloaded state.
    for _ in 0..2 {
        let (bytes, published) = download(&state).contribute(&mut OsRng).unwrap();
        let accepted = state.add_phase1(&bytes, &mut OsRng).unwrap();
        assert_eq!(accepted.hash, published);
        assert!(!accepted.beacon);
        let c = Phase1Contribution::from_bytes(&bytes, state.log_n()).unwrap();
        assert_eq!(t.add_phase1(c, &mut OsRng).unwrap(), published);
        // The same contribution again is bound to the old hash: refused.
        assert!(matches!(
            state.add_phase1(&bytes, &mut OsRng),
            Err(CeremonyError::CheckFailed { .. })
        ));
    }
    // A contribution made for another ceremony (another context) is refused.
    let mut other = CeremonyState::new([0x5b; 32], depth).unwrap();
    let (foreign, _) = download(&other).contribute(&mut OsRng).unwrap();
    other.add_phase1(&foreign, &mut OsRng).unwrap();
    let mut elsewhere = CeremonyState::new([0x5c; 32], depth).unwrap();
    assert!(matches!(
        elsewhere.add_phase1(&foreign, &mut OsRng),
        Err(CeremonyError::CheckFailed { .. })
    ));

    let (close1, h) = download(&state).contribute_beacon(&beacon1).unwrap();
    let accepted = state.add_phase1(&close1, &mut OsRng).unwrap();
    assert!(accepted.beacon);
    assert_eq!(accepted.hash, h);
    t.add_phase1(
        Phase1Contribution::from_bytes(&close1, state.log_n()).unwrap(),
        &mut OsRng,
    )
    .unwrap();
    assert_eq!(state.stage(), Stage::Phase2);
    assert!(state.needs_phase2_derivation());
    assert!(matches!(
        state.add_phase1(&close1, &mut OsRng),
        Err(CeremonyError::AfterBeacon { .. })
    ));
    assert_eq!(
        state.keys().map(|_| ()),
        Err(CeremonyError::NotClosed { phase: Phase::Two })
    );
    state.derive_phase2().unwrap();
    assert_eq!(state.hash(), t.phase2_hash());

    let beacon2 = Beacon::new(b"phase 2 beacon", 2).unwrap();
    let (early, _) = download(&state).contribute_beacon(&beacon2).unwrap();
    assert_eq!(
        state.add_phase2(&early, &mut OsRng),
        Err(CeremonyError::OnlyBeacon { phase: Phase::Two })
    );
    let (bytes, published) = download(&state).contribute(&mut OsRng).unwrap();
    assert_eq!(
        state.add_phase2(&bytes, &mut OsRng).unwrap().hash,
        published
    );
    t.add_phase2(
        phase2::Phase2Contribution::from_bytes(&bytes).unwrap(),
        &mut OsRng,
    )
    .unwrap();
    let (close2, _) = download(&state).contribute_beacon(&beacon2).unwrap();
    assert!(state.add_phase2(&close2, &mut OsRng).unwrap().beacon);
    t.add_phase2(
        phase2::Phase2Contribution::from_bytes(&close2).unwrap(),
        &mut OsRng,
    )
    .unwrap();
    assert_eq!(state.stage(), Stage::Closed);
    assert_eq!(state.contribution_state().unwrap(), None);
    assert_eq!(state.hash(), t.phase2_hash());
    assert_eq!(state.counts(), (3, 2));

    let (pk, vk) = state.keys().unwrap();
    let (tpk, tvk) = verify_transcript(&t, &mut OsRng).unwrap();
    assert_eq!(vk, tvk);
    assert_eq!(pk.proving_key_hash(), tpk.proving_key_hash());
}

#[test]
fn transcript_with_only_beacons_is_refused() {
    let depth = 1;
    let log_n = crate::qap::domain_size(depth).unwrap().trailing_zeros() as u8;
    let mut t = Transcript::new([0x42; 32], log_n, depth).unwrap();
    t.close_phase1(&Beacon::new(b"b", 0).unwrap(), &mut OsRng)
        .unwrap();
    t.contribute_phase2(&mut OsRng).unwrap();
    t.close_phase2(&Beacon::new(b"c", 0).unwrap(), &mut OsRng)
        .unwrap();
    assert_eq!(
        verify_transcript(&t, &mut OsRng).map(|_| ()),
        Err(CeremonyError::OnlyBeacon { phase: Phase::One })
    );
}

#[test]
fn contribution_state_decoding_is_checked() {
    use crate::state::{CeremonyState, ContributionState};
    let state = CeremonyState::new([1; 32], 1).unwrap();
    let bytes = state.contribution_state().unwrap().unwrap().to_bytes();
    assert!(ContributionState::from_bytes(&bytes).is_ok());
    for len in [0, 10, 16, 48, 60, bytes.len() - 1] {
        assert!(
            ContributionState::from_bytes(&bytes[..len]).is_err(),
            "{len}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(ContributionState::from_bytes(&longer).is_err());
    let mut bad_magic = bytes.clone();
    bad_magic[0] ^= 1;
    assert!(ContributionState::from_bytes(&bad_magic).is_err());
    let mut bad_phase = bytes.clone();
    bad_phase[16 + 32 + 4 + 4 + 32] = 3;
    assert!(ContributionState::from_bytes(&bad_phase).is_err());
    let mut bad_point = bytes.clone();
    // The first [tau^i]_1: a flipped bit gives a non-canonical or off-curve encoding,
    // or another point.
    let at = 16 + 32 + 4 + 4 + 32 + 1 + 3;
    bad_point[at] ^= 0x40;
    if let Ok(s) = ContributionState::from_bytes(&bad_point) {
        assert_ne!(s, ContributionState::from_bytes(&bytes).unwrap());
    }
}
