//! The voter's whole flow through the crate, natively: register, build a ballot with
//! both proofs (checked by the protocol's verifier), audit, check receipts; and every
//! check's failing twin.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use urna_circuits::keys::setup_single_party;
use urna_circuits::{CensusTree, ElectionId, ProvingKey, VerifyingKey};
use urna_log::{leaf_hash, Checkpoint, MerkleTree, NoteSigner};
use urna_protocol::ballot::Ballot;
use urna_protocol::board::{BoardEntry, Payload, RegistrationCode};
use urna_protocol::codec::Canonical;
use urna_protocol::dkg::{DealerMessage, DkgContext, DkgOutcome};
use urna_protocol::elgamal::ElectionPublicKey;
use urna_protocol::encryption::EncryptionSecretKey;
use urna_protocol::manifest::{Contest, Manifest, Trustee};
use urna_protocol::signing::SigningKey;
use urna_web::ballot::{check_audit, load_proving_key, prepare_ballot};
use urna_web::board::describe_entry;
use urna_web::credential::Credential;
use urna_web::election::Election;
use urna_web::receipt::{check_receipt, recheck_receipt, BoardReceipt};

const DEPTH: u32 = 3;
const BOARD_SEED: [u8; 32] = [0xb0; 32];

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn keys() -> &'static (ProvingKey, VerifyingKey) {
    static K: OnceLock<(ProvingKey, VerifyingKey)> = OnceLock::new();
    K.get_or_init(|| setup_single_party(DEPTH, &mut rng(1)).unwrap())
}

struct Fixture {
    election: Election,
    manifest_entry: Vec<u8>,
    key: ElectionPublicKey,
    authority: SigningKey,
    /// The trustees' signed dealer entries (canonical bytes), trustees 1 and 2.
    dealer_entries: Vec<Vec<u8>>,
    trustee_signing: Vec<SigningKey>,
}

fn fixture() -> Fixture {
    let mut r = rng(2);
    let authority = SigningKey::generate(&mut r);
    let enc: Vec<_> = (0..2)
        .map(|_| EncryptionSecretKey::generate(&mut r))
        .collect();
    let trustee_signing: Vec<_> = (0..2).map(|_| SigningKey::generate(&mut r)).collect();
    let mut id = [0u8; 32];
    id[31] = 9;
    let id = ElectionId::from_bytes(&id).unwrap();
    let manifest = Manifest {
        election_id: id,
        title: "Web test".into(),
        contests: vec![
            Contest {
                title: "Chair".into(),
                options: vec!["A".into(), "B".into(), "C".into()],
                min_selections: 1,
                max_selections: 1,
            },
            Contest {
                title: "Board".into(),
                options: vec!["X".into(), "Y".into()],
                min_selections: 0,
                max_selections: 2,
            },
        ],
        opens_at: 1_000,
        closes_at: 2_000,
        census_depth: DEPTH,
        trustees: enc
            .iter()
            .enumerate()
            .map(|(i, k)| Trustee {
                name: format!("T{i}"),
                signing_key: trustee_signing[i].public_key(),
                encryption_key: k.public_key(),
            })
            .collect(),
        threshold: 2,
        authority_key: authority.public_key(),
        board_key: SigningKey::from_seed(&BOARD_SEED).public_key(),
        setup: urna_protocol::manifest::Setup::Keys {
            verifying_key_hash: keys().1.verifying_key_hash(),
            proving_key_hash: keys().0.proving_key_hash(),
        },
    };
    let ctx = DkgContext::new(
        manifest.manifest_hash(),
        2,
        enc.iter().map(|k| k.public_key()).collect(),
    )
    .unwrap();
    let msgs: Vec<_> = (1..=2)
        .map(|i| DealerMessage::deal(&ctx, i, &mut r).unwrap())
        .collect();
    let key = DkgOutcome::new(&ctx, &msgs, &[])
        .unwrap()
        .election_public_key();
    let dealer_entries = msgs
        .iter()
        .zip(&trustee_signing)
        .map(|(m, k)| {
            BoardEntry::signed(id, Payload::Dealer(m.clone()), k)
                .unwrap()
                .to_canonical_bytes()
        })
        .collect();
    let manifest_entry = BoardEntry::signed(id, Payload::Manifest(manifest), &authority)
        .unwrap()
        .to_canonical_bytes();
    let election = Election::from_manifest_entry(&manifest_entry, &id).unwrap();
    Fixture {
        election,
        manifest_entry,
        key,
        authority,
        dealer_entries,
        trustee_signing,
    }
}

fn census_with(c: &Credential) -> CensusTree {
    let mut tree = CensusTree::new(DEPTH).unwrap();
    tree.insert(
        Credential::generate(c.election_id(), &mut rng(50))
            .unwrap()
            .commitment(),
    )
    .unwrap();
    tree.insert(c.commitment()).unwrap();
    tree
}

fn signer() -> NoteSigner {
    NoteSigner::new(
        "test-board",
        ed25519_dalek::SigningKey::from_bytes(&BOARD_SEED),
    )
    .unwrap()
}

#[test]
fn manifest_entry_is_checked() {
    let f = fixture();
    let id = f.election.id();
    let mut other = [0u8; 32];
    other[31] = 10;
    let other = ElectionId::from_bytes(&other).unwrap();
    assert_eq!(
        Election::from_manifest_entry(&f.manifest_entry, &other)
            .unwrap_err()
            .code(),
        "unexpected_entry"
    );
    // Signed by someone else than the authority the manifest names.
    let forged = BoardEntry::signed(
        id,
        Payload::Manifest(f.election.manifest().clone()),
        &SigningKey::generate(&mut rng(3)),
    )
    .unwrap()
    .to_canonical_bytes();
    assert_eq!(
        Election::from_manifest_entry(&forged, &id)
            .unwrap_err()
            .code(),
        "verification"
    );
    let open = BoardEntry::signed(id, Payload::Open { at: 5 }, &f.authority)
        .unwrap()
        .to_canonical_bytes();
    assert_eq!(
        Election::from_manifest_entry(&open, &id)
            .unwrap_err()
            .code(),
        "unexpected_entry"
    );
    let mut flipped = f.manifest_entry.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert!(Election::from_manifest_entry(&flipped, &id).is_err());
    let summary = f.election.summary();
    assert_eq!(summary.contests.len(), 2);
    assert_eq!(summary.census_depth, DEPTH);
}

#[test]
fn ballot_with_both_proofs_verifies_and_audits() {
    let f = fixture();
    let pk_bytes = keys().0.to_bytes().unwrap();
    let prover = load_proving_key(&pk_bytes, &f.election).unwrap();
    let c = Credential::generate(f.election.id(), &mut rng(4)).unwrap();
    let census = census_with(&c);
    let path = census.path(1).unwrap().to_bytes();
    let selections = vec![vec![false, true, false], vec![true, true]];
    let prepared = prepare_ballot(
        &f.election,
        &f.key,
        &c,
        census.root(),
        &path,
        &selections,
        &mut rng(5),
    )
    .unwrap();
    let code = prepared.tracking_code();
    let cast = prepared.prove(&prover, &c, &mut rng(6)).unwrap();
    assert_eq!(cast.tracking_code, code);
    let entry = BoardEntry::from_canonical_bytes(&cast.entry).unwrap();
    let Payload::Ballot(ballot) = entry.payload() else {
        panic!("not a ballot")
    };
    let manifest = f.election.manifest();
    ballot
        .verify(manifest, &f.key, &keys().1.prepare(), &census.root())
        .unwrap();
    assert_eq!(
        ballot.tracking_code(&manifest.manifest_hash()).to_string(),
        code
    );
    assert_eq!(
        ballot.nullifier,
        c.expose_secret().nullifier(&f.election.id()).unwrap()
    );
    // The secret never appears in the cast entry.
    let secret_hex = hex::encode(c.expose_secret().to_bytes().as_ref());
    assert!(!hex::encode(&cast.entry).contains(&secret_hex));

    // Benaloh audit of the same ballot: reveals exactly the selections.
    let audit = prepared.audit().unwrap();
    let report = check_audit(&audit, Some((&f.election, &f.key))).unwrap();
    assert_eq!(report.selections, selections);
    assert_eq!(report.tracking_code, code);
    let report = check_audit(&audit, None).unwrap();
    assert_eq!(report.selections, selections);

    // Failing twins: a flipped revealed vote, a changed tracking code, another key.
    let mut v: serde_json::Value = serde_json::from_str(&audit).unwrap();
    let reveal = v["reveal"].as_str().unwrap().to_owned();
    // BallotAudit encoding: u32 contests, u32 options, then bool ‖ 32-byte nonce.
    let mut bytes = hex::decode(&reveal).unwrap();
    bytes[8] ^= 1;
    v["reveal"] = hex::encode(&bytes).into();
    assert_eq!(
        check_audit(&v.to_string(), None).unwrap_err().code(),
        "audit_failed"
    );
    let mut v: serde_json::Value = serde_json::from_str(&audit).unwrap();
    v["tracking_code"] = "0000-0000-0000-0000".into();
    assert_eq!(
        check_audit(&v.to_string(), None).unwrap_err().code(),
        "audit_failed"
    );
    let other_key =
        ElectionPublicKey::from_point(urna_protocol::group::G * curve_scalar(7)).unwrap();
    assert_eq!(
        check_audit(&audit, Some((&f.election, &other_key)))
            .unwrap_err()
            .code(),
        "audit_failed"
    );
    assert_eq!(check_audit("{}", None).unwrap_err().code(), "not_an_audit");
}

fn curve_scalar(n: u64) -> curve25519_dalek::scalar::Scalar {
    curve25519_dalek::scalar::Scalar::from(n)
}

#[test]
fn ballot_preparation_rejects_bad_inputs() {
    let f = fixture();
    let c = Credential::generate(f.election.id(), &mut rng(7)).unwrap();
    let census = census_with(&c);
    let good_path = census.path(1).unwrap().to_bytes();
    let ok = vec![vec![true, false, false], vec![false, false]];
    let try_with = |path: &[u8], root, sel: &[Vec<bool>]| {
        prepare_ballot(&f.election, &f.key, &c, root, path, sel, &mut rng(8))
            .unwrap_err()
            .code()
    };
    // Someone else's path (leaf 0), and a root that is not the census's.
    let wrong_path = census.path(0).unwrap().to_bytes();
    assert_eq!(
        try_with(&wrong_path, census.root(), &ok),
        "census_path_mismatch"
    );
    let other_root =
        census_with(&Credential::generate(f.election.id(), &mut rng(9)).unwrap()).root();
    assert_eq!(
        try_with(&good_path, other_root, &ok),
        "census_path_mismatch"
    );
    assert_eq!(
        try_with(&good_path[..10], census.root(), &ok),
        "census_path_mismatch"
    );
    // Contest rules.
    let two = vec![vec![true, true, false], vec![false, false]];
    assert_eq!(try_with(&good_path, census.root(), &two), "selection_count");
    let none = vec![vec![false, false, false], vec![false, false]];
    assert_eq!(
        try_with(&good_path, census.root(), &none),
        "selection_count"
    );
    let short = vec![vec![true, false, false]];
    assert_eq!(try_with(&good_path, census.root(), &short), "bad_input");
    // A credential of another election.
    let mut other = [0u8; 32];
    other[31] = 11;
    let stranger =
        Credential::generate(ElectionId::from_bytes(&other).unwrap(), &mut rng(10)).unwrap();
    assert_eq!(
        prepare_ballot(
            &f.election,
            &f.key,
            &stranger,
            census.root(),
            &good_path,
            &ok,
            &mut rng(8)
        )
        .unwrap_err()
        .code(),
        "credential_other_election"
    );
}

#[test]
fn proving_key_must_match_the_manifest() {
    let f = fixture();
    let mut bytes = keys().0.to_bytes().unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    assert_eq!(
        load_proving_key(&bytes, &f.election).unwrap_err().code(),
        "proving_key"
    );
    let (other, _) = setup_single_party(2, &mut rng(11)).unwrap();
    assert_eq!(
        load_proving_key(&other.to_bytes().unwrap(), &f.election)
            .unwrap_err()
            .code(),
        "proving_key"
    );
}

#[test]
fn receipts_verify_and_recheck_against_newer_checkpoints() {
    let f = fixture();
    let signer = signer();
    let vkey = signer.verifier().to_vkey();
    let verifier = f.election.board_verifier(&vkey).unwrap();
    let entries: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 40]).collect();
    let mut tree = MerkleTree::new();
    for e in &entries[..3] {
        tree.append(leaf_hash(e)).unwrap();
    }
    let sign = |tree: &MerkleTree| {
        Checkpoint::new("test-board", tree.size(), tree.root().unwrap())
            .unwrap()
            .sign(&signer)
            .unwrap()
    };
    let hexes = |v: Vec<urna_log::Hash>| {
        v.iter()
            .map(|h| hex::encode(h.as_bytes()))
            .collect::<Vec<_>>()
    };
    let receipt = BoardReceipt {
        index: 2,
        leaf_hash: hex::encode(leaf_hash(&entries[2]).as_bytes()),
        tree_size: 3,
        inclusion_proof: hexes(tree.inclusion_proof(2, 3).unwrap()),
        checkpoint: sign(&tree),
    };
    let id = hex::encode(f.election.id().to_bytes());
    let kept = check_receipt(&verifier, &id, "CODE", &entries[2], &receipt).unwrap();
    assert_eq!(kept.index, 2);
    assert_eq!(kept.tree_size, 3);

    // Failing twins: another entry, a wrong index, a forged checkpoint, a wrong size.
    assert_eq!(
        check_receipt(&verifier, &id, "CODE", &entries[1], &receipt)
            .unwrap_err()
            .code(),
        "receipt_invalid"
    );
    let bad_index = BoardReceipt {
        index: 1,
        ..clone_receipt(&receipt)
    };
    assert_eq!(
        check_receipt(&verifier, &id, "CODE", &entries[2], &bad_index)
            .unwrap_err()
            .code(),
        "receipt_invalid"
    );
    let rogue = NoteSigner::new(
        "test-board",
        ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
    )
    .unwrap();
    let forged = BoardReceipt {
        checkpoint: Checkpoint::new("test-board", 3, tree.root().unwrap())
            .unwrap()
            .sign(&rogue)
            .unwrap(),
        ..clone_receipt(&receipt)
    };
    assert_eq!(
        check_receipt(&verifier, &id, "CODE", &entries[2], &forged)
            .unwrap_err()
            .code(),
        "receipt_invalid"
    );
    let wrong_size = BoardReceipt {
        tree_size: 4,
        ..clone_receipt(&receipt)
    };
    assert_eq!(
        check_receipt(&verifier, &id, "CODE", &entries[2], &wrong_size)
            .unwrap_err()
            .code(),
        "receipt_invalid"
    );
    // A board key that is not the manifest's.
    assert_eq!(
        f.election
            .board_verifier(&rogue.verifier().to_vkey())
            .unwrap_err()
            .code(),
        "board_key_mismatch"
    );

    // Later: the log grew; the kept receipt re-checks against the new checkpoint.
    for e in &entries[3..] {
        tree.append(leaf_hash(e)).unwrap();
    }
    let newer = sign(&tree);
    let consistency = hexes(tree.consistency_proof(3, 5).unwrap());
    let inclusion = hexes(tree.inclusion_proof(2, 5).unwrap());
    let updated = recheck_receipt(&verifier, &kept, &newer, &consistency, &inclusion).unwrap();
    assert_eq!(updated.tree_size, 5);
    assert_eq!(updated.index, 2);
    // A fork: a different log of size 5 is not consistent with the kept checkpoint.
    let mut fork = MerkleTree::new();
    for e in [
        &entries[0],
        &entries[1],
        &entries[3],
        &entries[2],
        &entries[4],
    ] {
        fork.append(leaf_hash(e)).unwrap();
    }
    let forked = sign(&fork);
    assert_eq!(
        recheck_receipt(&verifier, &kept, &forked, &consistency, &inclusion)
            .unwrap_err()
            .code(),
        "receipt_invalid"
    );
    let mut bad = consistency.clone();
    bad[0] = "00".repeat(32);
    assert_eq!(
        recheck_receipt(&verifier, &kept, &newer, &bad, &inclusion)
            .unwrap_err()
            .code(),
        "receipt_invalid"
    );
}

fn clone_receipt(r: &BoardReceipt) -> BoardReceipt {
    BoardReceipt {
        index: r.index,
        leaf_hash: r.leaf_hash.clone(),
        tree_size: r.tree_size,
        inclusion_proof: r.inclusion_proof.clone(),
        checkpoint: r.checkpoint.clone(),
    }
}

#[test]
fn board_entries_are_described() {
    let f = fixture();
    let view = describe_entry(&f.manifest_entry, None).unwrap();
    assert_eq!(view.kind, "manifest");
    assert!(view.detail.contains("Web test"));
    let code = RegistrationCode::from_bytes([1; 16]);
    let c = Credential::generate(f.election.id(), &mut rng(12)).unwrap();
    let reg = c.registration_entry(&code).unwrap();
    let view = describe_entry(&reg, None).unwrap();
    assert_eq!(view.kind, "registration");
    assert!(view
        .detail
        .contains(&hex::encode(c.commitment().to_bytes())));
    assert!(describe_entry(&reg[..reg.len() - 1], None).is_err());
    let _unused: Option<Ballot> = None;
}

#[test]
fn election_key_is_recomputed_from_the_ceremony() {
    let f = fixture();
    let e = &f.election;
    // From the dealer entries alone, and equal to the board's statement.
    assert_eq!(
        e.election_key_from_ceremony(&f.dealer_entries, None)
            .unwrap(),
        f.key
    );
    assert_eq!(
        e.election_key_from_ceremony(&f.dealer_entries, Some(&f.key))
            .unwrap(),
        f.key
    );
    assert_eq!(
        urna_web::election::dealer_of(&f.dealer_entries[1]).unwrap(),
        2
    );

    // A board that states another key.
    let other = ElectionPublicKey::from_point(
        curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT * curve_scalar(7),
    )
    .unwrap();
    let err = e
        .election_key_from_ceremony(&f.dealer_entries, Some(&other))
        .unwrap_err();
    assert_eq!(err.code(), "election_key_mismatch");

    // One dealer short of the threshold.
    let err = e
        .election_key_from_ceremony(&f.dealer_entries[..1], None)
        .unwrap_err();
    assert_eq!(err.code(), "verification", "{err}");

    // A dealer message signed by the other trustee.
    let entry = BoardEntry::from_canonical_bytes(&f.dealer_entries[0]).unwrap();
    let forged = BoardEntry::signed(e.id(), entry.payload().clone(), &f.trustee_signing[1])
        .unwrap()
        .to_canonical_bytes();
    let err = e
        .election_key_from_ceremony(&[forged, f.dealer_entries[1].clone()], None)
        .unwrap_err();
    assert_eq!(err.code(), "verification", "{err}");

    // The same dealer twice.
    let err = e
        .election_key_from_ceremony(
            &[f.dealer_entries[0].clone(), f.dealer_entries[0].clone()],
            None,
        )
        .unwrap_err();
    assert_eq!(err.code(), "verification", "{err}");

    // An entry that is not part of the ceremony, and bytes that are not an entry.
    let err = e
        .election_key_from_ceremony(std::slice::from_ref(&f.manifest_entry), None)
        .unwrap_err();
    assert_eq!(err.code(), "unexpected_entry");
    assert_eq!(
        urna_web::election::dealer_of(&f.manifest_entry)
            .unwrap_err()
            .code(),
        "unexpected_entry"
    );
    let mut bad = f.dealer_entries[0].clone();
    bad.truncate(bad.len() - 1);
    assert_eq!(
        e.election_key_from_ceremony(&[bad], None)
            .unwrap_err()
            .code(),
        "decode"
    );
}

/// A ceremony election (PROTOCOL 14.10): the browser knows its key hashes only from the
/// board's `setup-keys` entry, signed by the board key the manifest names; until then no
/// proving key loads, and an entry signed by anyone else, of another kind or for a
/// fixed-keys election is refused.
#[test]
fn ceremony_keys_come_from_the_boards_setup_keys_entry() {
    use urna_protocol::board::SetupKeys;
    use urna_protocol::manifest::Setup;
    let f = fixture();
    let board = SigningKey::from_seed(&BOARD_SEED);
    let mut manifest = f.election.manifest().clone();
    manifest.setup = Setup::Ceremony {
        contributors: Vec::new(),
    };
    let id = manifest.election_id;
    let entry = BoardEntry::signed(id, Payload::Manifest(manifest), &f.authority)
        .unwrap()
        .to_canonical_bytes();
    let mut election = Election::from_manifest_entry(&entry, &id).unwrap();
    let summary = election.summary();
    assert_eq!(summary.setup_mode, "ceremony");
    assert_eq!(summary.verifying_key_hash, None);
    let pk_bytes = keys().0.to_bytes().unwrap();
    assert!(load_proving_key(&pk_bytes, &election).is_err());

    let payload = Payload::SetupKeys(SetupKeys {
        verifying_key: keys().1.clone(),
        proving_key_hash: keys().0.proving_key_hash(),
        transcript_hash: [7; 32],
    });
    // Signed by the authority, not the board: refused.
    let forged = BoardEntry::signed(id, payload.clone(), &f.authority)
        .unwrap()
        .to_canonical_bytes();
    assert!(election.set_setup_keys(&forged).is_err());
    // Another kind of entry: refused.
    assert!(election.set_setup_keys(&f.dealer_entries[0]).is_err());
    // The board's entry: the hashes are known and the key loads.
    let good = BoardEntry::signed(id, payload.clone(), &board)
        .unwrap()
        .to_canonical_bytes();
    election.set_setup_keys(&good).unwrap();
    let summary = election.summary();
    assert_eq!(
        summary.verifying_key_hash,
        Some(hex::encode(keys().1.verifying_key_hash()))
    );
    assert_eq!(
        summary.proving_key_hash,
        Some(hex::encode(keys().0.proving_key_hash()))
    );
    load_proving_key(&pk_bytes, &election).unwrap();
    // A fixed-keys election takes no setup-keys entry.
    let mut fixed = f.election.clone();
    let other = BoardEntry::signed(f.election.id(), payload, &board)
        .unwrap()
        .to_canonical_bytes();
    assert!(fixed.set_setup_keys(&other).is_err());
}
