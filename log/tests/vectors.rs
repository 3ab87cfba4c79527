//! Known-answer vectors from independent implementations (`PROTOCOL 11.5`).
//!
//! Merkle vectors: the RFC 6962 / RFC 9162 reference tree of eight leaves, as published in
//! transparency-dev/merkle, `proof/verify_test.go` (the same roots appear in
//! google/certificate-transparency-go and the original C++ CT log's tests). Their inclusion
//! proofs are indexed from 1 there; here indices are 0-based.
//!
//! Signed-note vectors: golang.org/x/mod/sumdb/note (`note.go` package documentation and
//! `note_test.go`: the PeterNeumann and EnochRoot keys and notes), and the worked example of
//! the C2SP signed-note specification (`example.com/foo`).

// Test code: a panic is how a test reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use urna_log::{
    consistency_proof_len, leaf_hash, verify_consistency, verify_inclusion, Hash, KeyId, LogError,
    MerkleTree, NoteSigner, NoteVerifier, SignedNote, EMPTY_ROOT,
};

fn h(s: &str) -> Hash {
    Hash::from_slice(&hex::decode(s).expect("hex")).expect("32 bytes")
}

/// The eight leaf inputs of the reference tree (transparency-dev/merkle `leaves`).
const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Roots of the reference tree at sizes 1..=8 (transparency-dev/merkle `roots`).
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (0-based index, size, proof) from transparency-dev/merkle `inclusionProofs`.
const INCLUSION: &[(u64, u64, &[&str])] = &[
    (0, 1, &[]),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (size1, size2, proof) from transparency-dev/merkle `consistencyProofs`.
const CONSISTENCY: &[(u64, u64, &[&str])] = &[
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn reference_tree() -> MerkleTree {
    MerkleTree::from_leaf_hashes(
        LEAVES
            .iter()
            .map(|l| leaf_hash(&hex::decode(l).expect("hex"))),
    )
    .expect("in memory")
}

fn root(size: u64) -> Hash {
    h(ROOTS[size as usize - 1])
}

#[test]
fn empty_tree_root() {
    assert_eq!(
        EMPTY_ROOT,
        h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(MerkleTree::new().root(), Ok(EMPTY_ROOT));
}

#[test]
fn reference_roots_at_every_size() {
    let tree = reference_tree();
    for size in 1..=8u64 {
        assert_eq!(tree.root_at(size), Ok(root(size)), "size {size}");
    }
    // And incrementally, as a server would see them.
    let mut t = MerkleTree::new();
    for (i, l) in LEAVES.iter().enumerate() {
        t.append(leaf_hash(&hex::decode(l).expect("hex")))
            .expect("in memory");
        assert_eq!(t.root(), Ok(root(i as u64 + 1)));
    }
}

#[test]
fn reference_inclusion_proofs() {
    let tree = reference_tree();
    for &(index, size, proof) in INCLUSION {
        let proof: Vec<Hash> = proof.iter().map(|s| h(s)).collect();
        assert_eq!(
            tree.inclusion_proof(index, size).as_ref(),
            Ok(&proof),
            "make ({index}, {size})"
        );
        let leaf = tree.leaf_hash(index).expect("leaf");
        verify_inclusion(index, size, &leaf, &proof, &root(size)).expect("published proof");

        // The corruptions transparency-dev/merkle tries on the same vectors.
        let fails = |i: u64, n: u64, leaf: &Hash, p: &[Hash], r: &Hash| {
            verify_inclusion(i, n, leaf, p, r).is_err()
        };
        if index > 0 {
            assert!(fails(index - 1, size, &leaf, &proof, &root(size)));
        }
        assert!(fails(index + 1, size, &leaf, &proof, &root(size)));
        assert!(fails(index ^ 2, size, &leaf, &proof, &root(size)));
        assert!(fails(index, size * 2, &leaf, &proof, &root(size)));
        assert!(fails(index, size / 2, &leaf, &proof, &root(size)));
        assert!(fails(
            index,
            size,
            &leaf_hash(b"WrongLeaf"),
            &proof,
            &root(size)
        ));
        assert!(fails(index, size, &leaf, &proof, &EMPTY_ROOT));
        let mut longer = proof.clone();
        longer.push(root(size));
        assert_eq!(
            verify_inclusion(index, size, &leaf, &longer, &root(size)),
            Err(LogError::BadProofLength {
                expected: proof.len(),
                actual: proof.len() + 1
            })
        );
        let mut prepended = vec![root(size)];
        prepended.extend_from_slice(&proof);
        assert!(fails(index, size, &leaf, &prepended, &root(size)));
        for i in 0..proof.len() {
            let mut p = proof.clone();
            p[i] = common::flip(&p[i], 3);
            assert_eq!(
                verify_inclusion(index, size, &leaf, &p, &root(size)),
                Err(LogError::InclusionProofMismatch)
            );
        }
        if !proof.is_empty() {
            assert!(fails(
                index,
                size,
                &leaf,
                &proof[..proof.len() - 1],
                &root(size)
            ));
        }
    }
}

#[test]
fn reference_consistency_proofs() {
    let tree = reference_tree();
    for &(size1, size2, proof) in CONSISTENCY {
        let proof: Vec<Hash> = proof.iter().map(|s| h(s)).collect();
        assert_eq!(
            tree.consistency_proof(size1, size2).as_ref(),
            Ok(&proof),
            "make ({size1}, {size2})"
        );
        let (r1, r2) = (root(size1), root(size2));
        verify_consistency(size1, size2, &r1, &r2, &proof).expect("published proof");
        if proof.is_empty() {
            continue;
        }
        let fails = |m: u64, n: u64, a: &Hash, b: &Hash, p: &[Hash]| {
            verify_consistency(m, n, a, b, p).is_err()
        };
        assert!(fails(size1 - 1, size2, &r1, &r2, &proof));
        assert!(fails(size1 + 1, size2, &r1, &r2, &proof));
        assert!(fails(size1 ^ 2, size2, &r1, &r2, &proof));
        assert!(fails(size1, size2 * 2, &r1, &r2, &proof));
        assert!(fails(size1, size2 / 2, &r1, &r2, &proof));
        assert!(fails(size1, size2, &EMPTY_ROOT, &r2, &proof));
        assert!(fails(size1, size2, &r1, &EMPTY_ROOT, &proof));
        assert!(fails(size1, size2, &r2, &r1, &proof));
        assert!(fails(size1, size2, &r1, &r2, &[]));
        for extra in [r1, r2, proof[0]] {
            let mut p = proof.clone();
            p.push(extra);
            assert!(fails(size1, size2, &r1, &r2, &p));
            let mut p = vec![extra];
            p.extend_from_slice(&proof);
            assert!(fails(size1, size2, &r1, &r2, &p));
        }
        assert!(fails(size1, size2, &r1, &r2, &proof[..proof.len() - 1]));
        for i in 0..proof.len() {
            let mut p = proof.clone();
            p[i] = common::flip(&p[i], 4);
            assert_eq!(
                verify_consistency(size1, size2, &r1, &r2, &p),
                Err(LogError::ConsistencyProofMismatch)
            );
        }
    }
}

/// transparency-dev/merkle `TestVerifyConsistency`'s table of edge cases.
#[test]
fn consistency_edge_cases() {
    let a = leaf_hash(b"don't care 1");
    let b = leaf_hash(b"don't care 2");
    let e = EMPTY_ROOT;
    assert!(verify_consistency(0, 0, &a, &b, &[]).is_err());
    assert!(verify_consistency(1, 1, &a, &b, &[]).is_err());
    assert!(verify_consistency(0, 0, &e, &e, &[]).is_ok());
    // Stricter than transparency-dev: the root of size 0 must be the empty-tree root.
    assert!(verify_consistency(0, 1, &e, &b, &[]).is_ok());
    assert_eq!(
        verify_consistency(0, 1, &a, &b, &[]),
        Err(LogError::ConsistencyProofMismatch)
    );
    assert!(verify_consistency(1, 1, &b, &b, &[]).is_ok());
    assert_eq!(
        verify_consistency(1, 0, &a, &b, &[]),
        Err(LogError::SizesReversed { size1: 1, size2: 0 })
    );
    assert!(verify_consistency(2, 1, &a, &b, &[]).is_err());
    assert_eq!(
        verify_consistency(1, 2, &a, &b, &[]),
        Err(LogError::BadProofLength {
            expected: 1,
            actual: 0
        })
    );
    assert!(verify_consistency(0, 0, &e, &b, &[]).is_err());
    assert!(verify_consistency(1, 1, &e, &b, &[]).is_err());
    assert!(verify_consistency(0, 0, &e, &e, &[e]).is_err());
    assert!(verify_consistency(0, 1, &e, &e, &[e]).is_err());
    assert!(verify_consistency(1, 1, &e, &e, &[e]).is_err());
    assert_eq!(consistency_proof_len(6, 8), Ok(3));
}

// ---- golang.org/x/mod/sumdb/note -----------------------------------------------------

/// Signer key of the `note.go` package documentation and `note_test.go`.
const GO_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
/// Its verifier key.
const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
/// Second verifier key of the package documentation's doubly signed example.
const GO_ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
/// The signed text.
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n";
/// PeterNeumann's signature line over GO_TEXT.
const GO_PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
/// EnochRoot's signature line over GO_TEXT.
const GO_ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

/// The C2SP signed-note specification's worked example (signed-note.md, "Example").
const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

#[test]
fn go_keys_round_trip() {
    let signer = NoteSigner::from_skey(GO_SKEY).expect("Go signer key");
    assert_eq!(signer.name(), "PeterNeumann");
    assert_eq!(signer.key_id(), KeyId(0xc74f20a3));
    assert_eq!(signer.expose_skey().as_str(), GO_SKEY);
    assert_eq!(signer.verifier().to_vkey(), GO_VKEY);
    let v = NoteVerifier::from_vkey(GO_VKEY).expect("Go verifier key");
    assert_eq!(v, signer.verifier());
    assert_eq!(v.to_vkey(), GO_VKEY);
    // Debug never shows the secret.
    let dbg = format!("{signer:?}");
    assert!(!dbg.contains("AYEKFALV"), "{dbg}");
}

#[test]
fn go_signature_is_reproduced_byte_for_byte() {
    let signer = NoteSigner::from_skey(GO_SKEY).expect("Go signer key");
    let mut note = SignedNote::new(GO_TEXT).expect("text");
    note.add_signature(&signer).expect("sign");
    assert_eq!(note.encode(), Ok(format!("{GO_TEXT}\n{GO_PETER_SIG}")));
}

#[test]
fn go_notes_open() {
    let peter = NoteVerifier::from_vkey(GO_VKEY).expect("vkey");
    let enoch = NoteVerifier::from_vkey(GO_ENOCH_VKEY).expect("vkey");
    let single = format!("{GO_TEXT}\n{GO_PETER_SIG}");
    let note = SignedNote::open(single.as_bytes(), &peter).expect("Go note");
    assert_eq!(note.text(), GO_TEXT);
    assert_eq!(
        SignedNote::open(single.as_bytes(), &enoch),
        Err(LogError::MissingCheckpointSignature {
            key_name: "EnochRoot".into(),
            key_id: KeyId(0xaf0cfe78)
        })
    );

    // The doubly signed example: each key finds its own line and ignores the other.
    let double = format!("{GO_TEXT}\n{GO_PETER_SIG}{GO_ENOCH_SIG}");
    for v in [&peter, &enoch] {
        let note = SignedNote::open(double.as_bytes(), v).expect("double note");
        assert_eq!(note.signatures().len(), 2);
        assert_eq!(note.encode().as_deref(), Ok(double.as_str()));
    }

    // One changed character of text breaks both signatures.
    let tampered = double.replacen("answer", "answers", 1);
    for v in [&peter, &enoch] {
        assert!(matches!(
            SignedNote::open(tampered.as_bytes(), v),
            Err(LogError::BadCheckpointSignature { .. })
        ));
    }
}

#[test]
fn c2sp_spec_example_opens() {
    let v = NoteVerifier::from_vkey(SPEC_VKEY).expect("spec vkey");
    assert_eq!(v.key_id(), KeyId(0x530d903a));
    assert_eq!(v.to_vkey(), SPEC_VKEY);
    let note = SignedNote::open(SPEC_NOTE.as_bytes(), &v).expect("spec note");
    assert_eq!(note.text(), "This is an example message.\n");
}

#[test]
fn verifier_keys_are_parsed_strictly() {
    // Wrong key ID.
    assert_eq!(
        NoteVerifier::from_vkey(
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        ),
        Err(LogError::KeyIdMismatch {
            stated: KeyId(0xc74f20a4),
            computed: KeyId(0xc74f20a3)
        })
    );
    // Another name gives another key ID.
    assert!(matches!(
        NoteVerifier::from_vkey(
            "PeterNeumanN+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        ),
        Err(LogError::KeyIdMismatch { .. })
    ));
    for bad in [
        // Uppercase key ID.
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        // Unpadded base64.
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=",
        // Truncated key.
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",
        // Name with a space, empty name, missing parts.
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
        "PeterNeumann",
        "",
    ] {
        assert!(NoteVerifier::from_vkey(bad).is_err(), "{bad:?}");
    }
    // Signature type 0x02 (ECDSA) is not supported: same key bytes with the type changed.
    assert_eq!(
        NoteVerifier::from_vkey(
            "PeterNeumann+c74f20a3+Alpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        ),
        Err(LogError::UnsupportedKeyType { key_type: 0x02 })
    );
    // A signer key is not a verifier key, and the other way round.
    assert!(NoteVerifier::from_vkey(GO_SKEY).is_err());
    assert!(NoteSigner::from_skey(GO_VKEY).is_err());
    assert!(NoteSigner::from_skey(
        "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    )
    .is_err());
}
