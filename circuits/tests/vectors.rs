//! PROTOCOL 10.7 test vectors, pinned. The same values are printed in
//! `docs/PROTOCOL.md`; an independent implementation (e.g. circomlibjs)
//! should reproduce every one of them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ark_bn254::Fr;
use urna_circuits::census::{empty_subtree_roots, CensusTree};
use urna_circuits::poseidon::{hash, nullifier_domain};
use urna_circuits::types::fr_to_bytes;
use urna_circuits::{ElectionId, VoterSecret};

fn hex32(x: &Fr) -> String {
    hex::encode(fr_to_bytes(x))
}

fn f(n: u64) -> Fr {
    Fr::from(n)
}

#[test]
fn protocol_10_7_vectors() {
    let print = std::env::var_os("URNA_PRINT_VECTORS").is_some();
    let mut actual: Vec<(&str, String)> = vec![
        ("Poseidon_1(1)", hex32(&hash(&[f(1)]).unwrap())),
        ("Poseidon_2(1, 2)", hex32(&hash(&[f(1), f(2)]).unwrap())),
        (
            "Poseidon_3(1, 2, 3)",
            hex32(&hash(&[f(1), f(2), f(3)]).unwrap()),
        ),
        ("NULLIFIER_DOMAIN", hex32(&nullifier_domain())),
    ];
    let z = empty_subtree_roots(20).unwrap();
    actual.push(("Z_1", hex32(&z[1])));
    actual.push(("Z_2", hex32(&z[2])));
    actual.push(("Z_20", hex32(&z[20])));

    let secrets: Vec<VoterSecret> = (1..=3u64)
        .map(|i| VoterSecret::from_fr(f(i)).unwrap())
        .collect();
    let leaves: Vec<_> = secrets
        .iter()
        .map(|s| s.identity_commitment().unwrap())
        .collect();
    actual.push(("identity_commitment(secret = 1)", hex32(&leaves[0].to_fr())));
    let election = ElectionId::from_fr(f(1));
    actual.push((
        "nullifier(secret = 1, election_id = 1)",
        hex32(&secrets[0].nullifier(&election).unwrap().to_fr()),
    ));
    let tree = CensusTree::from_leaves(2, &leaves).unwrap();
    actual.push((
        "census root, depth 2, secrets 1, 2, 3",
        hex32(&tree.root().to_fr()),
    ));
    actual.push((
        "path(2) encoding",
        hex::encode(tree.path(2).unwrap().to_bytes()),
    ));

    let expected: &[(&str, &str)] = &[
        (
            "Poseidon_1(1)",
            "29176100eaa962bdc1fe6c654d6a3c130e96a4d1168b33848b897dc502820133",
        ),
        (
            "Poseidon_2(1, 2)",
            "115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a",
        ),
        (
            "Poseidon_3(1, 2, 3)",
            "0e7732d89e6939c0ff03d5e58dab6302f3230e269dc5b968f725df34ab36d732",
        ),
        (
            "NULLIFIER_DOMAIN",
            "00000000000000000000000000000075726e612f76312f6e756c6c6966696572",
        ),
        (
            "Z_1",
            "2098f5fb9e239eab3ceac3f27b81e481dc3124d55ffed523a839ee8446b64864",
        ),
        (
            "Z_2",
            "1069673dcdb12263df301a6ff584a7ec261a44cb9dc68df067a4774460b1f1e1",
        ),
        (
            "Z_20",
            "2134e76ac5d21aab186c2be1dd8f84ee880a1e46eaf712f9d371b6df22191f3e",
        ),
        (
            "identity_commitment(secret = 1)",
            "29176100eaa962bdc1fe6c654d6a3c130e96a4d1168b33848b897dc502820133",
        ),
        (
            "nullifier(secret = 1, election_id = 1)",
            "2cf08f52c8979868a2d5357bebe5cf3052a99cc2acb09c93407a23f1e83df4c4",
        ),
        (
            "census root, depth 2, secrets 1, 2, 3",
            "07feffa1b81b48d28b3000e2d8b2fc7f9e813938248614d7e50ceba453f3d805",
        ),
        (
            "path(2) encoding",
            "0200000002\
             0000000000000000000000000000000000000000000000000000000000000000\
             163d03f7550746164d022ae803e93c1abe652ec202c073b84e75e737deb4df56",
        ),
    ];
    if print {
        for (k, v) in &actual {
            println!("{k}: {v}");
        }
    }
    let actual: Vec<(&str, &str)> = actual.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(actual, expected);
}
