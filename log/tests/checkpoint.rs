//! Checkpoints and signed notes: format, round trips, strict parsing and tampering
//! (`PROTOCOL 11.4`).

// Test code: a panic is how a test reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use proptest::prelude::*;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use urna_log::note::{MAX_NOTE_SIZE, MAX_SIGNATURES};
use urna_log::{
    leaf_hash, Checkpoint, Hash, LogError, MerkleTree, NoteSigner, NoteVerifier, SignedNote,
};

const ORIGIN: &str = "board.example/election-2026";

/// Deterministic test keys (test-only: a fixed-seed RNG).
fn test_signer(name: &str, seed: u64) -> NoteSigner {
    NoteSigner::generate(name, &mut ChaCha20Rng::seed_from_u64(seed)).expect("valid name")
}

fn tree(n: u64) -> MerkleTree {
    MerkleTree::from_leaf_hashes((0..n).map(|i| leaf_hash(&i.to_be_bytes()))).expect("in memory")
}

fn signed(size: u64) -> (NoteSigner, Checkpoint, String) {
    let signer = test_signer(ORIGIN, 1);
    let cp = Checkpoint::new(ORIGIN, size, tree(size).root().expect("root")).expect("origin");
    let note = cp.sign(&signer).expect("sign");
    (signer, cp, note)
}

/// The example body of the C2SP tlog-checkpoint specification.
#[test]
fn c2sp_checkpoint_example_body() {
    let body =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    let cp = Checkpoint::from_body(body).expect("spec example");
    assert_eq!(cp.origin(), "example.com/behind-the-sofa");
    assert_eq!(cp.size(), 20_852_163);
    assert_eq!(
        BASE64.encode(cp.root().as_bytes()),
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    );
    assert!(cp.extensions().is_empty());
    assert_eq!(cp.to_body(), body);
}

#[test]
fn sign_then_open_round_trips() {
    let (signer, cp, note) = signed(1234);
    assert!(note.starts_with(&cp.to_body()));
    assert!(note.contains(&format!("\n\n\u{2014} {ORIGIN} ")));
    let opened = Checkpoint::open(note.as_bytes(), ORIGIN, &signer.verifier()).expect("opens");
    assert_eq!(opened, cp);

    // Through the key strings, as a client configured with the vkey would do.
    let v = NoteVerifier::from_vkey(&signer.verifier().to_vkey()).expect("vkey");
    assert_eq!(
        Checkpoint::open(note.as_bytes(), ORIGIN, &v),
        Ok(cp.clone())
    );
    let s = NoteSigner::from_skey(&signer.expose_skey()).expect("skey");
    assert_eq!(cp.sign(&s).as_ref(), Ok(&note)); // Ed25519 is deterministic

    // With extension lines.
    let cp = cp
        .with_extensions(["ext one", "ext two"])
        .expect("extensions");
    let note = cp.sign(&signer).expect("sign");
    assert_eq!(
        Checkpoint::open(note.as_bytes(), ORIGIN, &signer.verifier()),
        Ok(cp)
    );

    // The empty tree.
    let cp = Checkpoint::new(ORIGIN, 0, urna_log::EMPTY_ROOT).expect("origin");
    assert!(cp.to_body().contains("\n0\n"));
    let note = cp.sign(&signer).expect("sign");
    assert_eq!(
        Checkpoint::open(note.as_bytes(), ORIGIN, &signer.verifier()),
        Ok(cp)
    );
}

/// Replaces the `line`-th line of a signed note.
fn replace_line(note: &str, line: usize, with: &str) -> String {
    let mut lines: Vec<&str> = note.split('\n').collect();
    lines[line] = with;
    lines.join("\n")
}

#[test]
fn tampered_checkpoints_are_rejected() {
    let (signer, cp, note) = signed(1234);
    let v = signer.verifier();
    let bad_sig = |msg: &str| {
        matches!(
            Checkpoint::open(msg.as_bytes(), ORIGIN, &v),
            Err(LogError::BadCheckpointSignature { .. })
        )
    };

    // Changed origin, size, root, or an added extension line.
    assert!(bad_sig(&replace_line(
        &note,
        0,
        "board.example/election-2027"
    )));
    assert!(bad_sig(&replace_line(&note, 1, "1235")));
    assert!(bad_sig(&replace_line(&note, 1, "1233")));
    let other_root = BASE64.encode(tree(1233).root().expect("root").as_bytes());
    assert!(bad_sig(&replace_line(&note, 2, &other_root)));
    assert!(bad_sig(&note.replacen("\n\n", "\nextra\n\n", 1)));

    // Any flipped bit in the signature bytes (the 64 bytes after the key ID).
    let sig_line = note.lines().last().expect("signature line");
    let b64 = sig_line.rsplit(' ').next().expect("base64");
    let raw = BASE64.decode(b64).expect("base64");
    for byte in 4..raw.len() {
        let mut r = raw.clone();
        r[byte] ^= 0x10;
        let forged = note.replace(b64, &BASE64.encode(&r));
        assert!(bad_sig(&forged), "flipped signature byte {byte}");
    }

    // Wrong verifier: another key under the same name has another key ID, so its
    // verifier does not find a signature at all.
    let other = test_signer(ORIGIN, 2).verifier();
    assert_eq!(
        Checkpoint::open(note.as_bytes(), ORIGIN, &other),
        Err(LogError::MissingCheckpointSignature {
            key_name: ORIGIN.into(),
            key_id: other.key_id()
        })
    );

    // The right key but a checkpoint of another log.
    assert_eq!(
        Checkpoint::open(note.as_bytes(), "board.example/other", &v),
        Err(LogError::OriginMismatch {
            expected: "board.example/other".into(),
            actual: ORIGIN.into()
        })
    );

    // A signature by another key relabelled with our name and key ID.
    let impostor = test_signer(ORIGIN, 3);
    let other_note = cp.sign(&impostor).expect("sign");
    let other_raw = BASE64
        .decode(
            other_note
                .lines()
                .last()
                .expect("line")
                .rsplit(' ')
                .next()
                .expect("b64"),
        )
        .expect("base64");
    let mut relabelled = raw[..4].to_vec();
    relabelled.extend_from_slice(&other_raw[4..]);
    assert!(bad_sig(&note.replace(b64, &BASE64.encode(&relabelled))));

    // A good line followed by a bad line of the same key: the whole note is rejected.
    let mut r = raw.clone();
    r[10] ^= 1;
    let two = format!("{note}\u{2014} {ORIGIN} {}\n", BASE64.encode(&r));
    assert!(bad_sig(&two));
}

#[test]
fn cosignatures_from_unknown_keys_are_ignored() {
    let (signer, cp, note) = signed(77);
    let witness = test_signer("witness.example/w1", 9);
    let mut n = SignedNote::parse(note.as_bytes()).expect("parse");
    n.add_signature(&witness).expect("cosign");
    let cosigned = n.encode().expect("encode");
    assert_eq!(cosigned.matches('\u{2014}').count(), 2);
    assert_eq!(
        Checkpoint::open(cosigned.as_bytes(), ORIGIN, &signer.verifier()),
        Ok(cp.clone())
    );
    assert_eq!(
        Checkpoint::open(cosigned.as_bytes(), ORIGIN, &witness.verifier()),
        Ok(cp)
    );
    // A line with the log's name but an unknown key ID is ignored too.
    let stranger = format!("{cosigned}\u{2014} {ORIGIN} AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
    assert!(SignedNote::open(stranger.as_bytes(), &signer.verifier()).is_ok());
    // Re-signing with the same key replaces its line rather than adding one.
    let mut n = SignedNote::parse(cosigned.as_bytes()).expect("parse");
    n.add_signature(&signer).expect("re-sign");
    assert_eq!(n.signatures().len(), 2);
}

fn malformed_body(body: &str) -> bool {
    matches!(
        Checkpoint::from_body(body),
        Err(LogError::MalformedCheckpoint { .. })
    )
}

#[test]
fn checkpoint_bodies_are_parsed_strictly() {
    let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
    let ok = format!("o\n5\n{root}\n");
    assert!(Checkpoint::from_body(&ok).is_ok());
    assert!(Checkpoint::from_body(&format!("o\n0\n{root}\n")).is_ok());
    assert!(Checkpoint::from_body(&format!("o\n18446744073709551615\n{root}\n")).is_ok());
    for size in [
        "05",
        "00",
        "+5",
        "-5",
        " 5",
        "5 ",
        "0x5",
        "",
        "5.0",
        "\u{0665}",
        "18446744073709551616",
    ] {
        assert!(
            malformed_body(&format!("o\n{size}\n{root}\n")),
            "size {size:?}"
        );
    }
    for bad_root in [
        // Unpadded, padded wrongly, non-canonical trailing bits, URL alphabet, 31 and 33
        // bytes, hex, with whitespace.
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I",
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I==",
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=",
        "CsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=",
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==",
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IA",
        "0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62",
        " CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
    ] {
        assert!(
            malformed_body(&format!("o\n5\n{bad_root}\n")),
            "root {bad_root:?}"
        );
    }
    for body in [
        format!("o\n5\n{root}"),           // no final newline
        format!("o\n5\n{root}\n\n"),       // empty extension line
        format!("o\n5\n{root}\nx\n\ny\n"), // empty line amid extensions
        "o\n5\n".to_string(),              // no root
        String::new(),
        format!("\n5\n{root}\n"),               // empty origin
        format!("o o\n5\n{root}\n"),            // whitespace in origin
        format!("o+o\n5\n{root}\n"),            // '+' in origin
        format!("o\r\n5\n{root}\n"),            // CR
        format!("o\n5\n{root}\nbad\u{7}ext\n"), // control character
    ] {
        assert!(malformed_body(&body), "{body:?}");
    }
    assert!(Checkpoint::new("", 1, Hash::default()).is_err());
    assert!(Checkpoint::new("a b", 1, Hash::default()).is_err());
    assert!(Checkpoint::new("a", 1, Hash::default())
        .expect("origin")
        .with_extensions([""])
        .is_err());
    assert!(Checkpoint::new("a", 1, Hash::default())
        .expect("origin")
        .with_extensions(["two\nlines"])
        .is_err());
}

fn malformed_note(msg: &[u8]) -> bool {
    matches!(SignedNote::parse(msg), Err(LogError::MalformedNote { .. }))
}

#[test]
fn notes_are_parsed_strictly() {
    let (signer, _, note) = signed(3);
    let sig_line = note.lines().last().expect("line").to_string();
    let body = note.split("\n\n").next().expect("body").to_string() + "\n";
    assert!(SignedNote::parse(note.as_bytes()).is_ok());

    let cases: Vec<Vec<u8>> = vec![
        body.clone().into_bytes(),                            // no signatures
        format!("{body}\n").into_bytes(),                     // blank line, no signatures
        note.trim_end_matches('\n').as_bytes().to_vec(),      // no final newline
        note.replace('\u{2014}', "-").into_bytes(),           // hyphen, not em dash
        note.replace("\u{2014} ", "\u{2014}").into_bytes(),   // no space after the dash
        note.replace("\u{2014} ", "\u{2014}  ").into_bytes(), // empty key name
        note.replace(&format!("{ORIGIN} "), &format!("{ORIGIN}+x "))
            .into_bytes(), // '+' in name
        note.replace(&format!("{ORIGIN} "), ORIGIN).into_bytes(), // no space before the base64
        format!("{note}\n").into_bytes(),                     // trailing blank line
        format!("{note}junk\n").into_bytes(),                 // a line that is not a signature
        note.replace("\n\n", "\n\r\n").into_bytes(),          // CR
        format!("{body}\n\u{2014} k AAAAAA==\n").into_bytes(), // signature of key ID only
        format!("{body}\n\u{2014} k AAAAAAB=\n").into_bytes(), // non-canonical base64
        format!("{body}\n\u{2014} k AAAA AAA=\n").into_bytes(), // space in base64
        {
            let mut v = note.clone().into_bytes();
            v[1] = 0xff; // invalid UTF-8
            v
        },
        format!("{body}\t\n\n{sig_line}\n").into_bytes(), // tab in text
    ];
    for (i, c) in cases.iter().enumerate() {
        assert!(
            malformed_note(c),
            "case {i}: {:?}",
            String::from_utf8_lossy(c)
        );
    }

    // Bounds.
    let big = format!("{}\n\n{sig_line}\n", "a".repeat(MAX_NOTE_SIZE));
    assert!(matches!(
        SignedNote::parse(big.as_bytes()),
        Err(LogError::NoteTooLarge { .. })
    ));
    let many = format!(
        "{body}\n{}",
        format!("{sig_line}\n").repeat(MAX_SIGNATURES + 1)
    );
    assert_eq!(
        SignedNote::parse(many.as_bytes()),
        Err(LogError::TooManySignatures {
            max: MAX_SIGNATURES
        })
    );
    let enough = format!("{body}\n{}", format!("{sig_line}\n").repeat(MAX_SIGNATURES));
    assert!(SignedNote::open(enough.as_bytes(), &signer.verifier()).is_ok());

    // Text must end with a newline and be free of control characters to be signed.
    assert!(SignedNote::new("no newline").is_err());
    assert!(SignedNote::new("bell\u{7}\n").is_err());
    assert!(SignedNote::new("ok\n").expect("text").encode().is_err()); // unsigned
}

#[test]
fn signer_names_are_checked() {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    for bad in ["", "a b", "a+b", "a\nb"] {
        assert!(NoteSigner::new(bad, key.clone()).is_err(), "{bad:?}");
        assert!(
            NoteVerifier::new(bad, key.verifying_key()).is_err(),
            "{bad:?}"
        );
    }
    // A small-order public key is refused.
    let weak = ed25519_dalek::VerifyingKey::from_bytes(&[
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ])
    .expect("identity point decodes");
    assert!(NoteVerifier::new("n", weak).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any single-byte change of a signed checkpoint is rejected (and never panics).
    #[test]
    fn any_byte_change_is_rejected(pos_seed: usize, xor in 1u8..=255) {
        let (signer, _, note) = signed(4242);
        let mut msg = note.into_bytes();
        let pos = pos_seed % msg.len();
        msg[pos] ^= xor;
        prop_assert!(Checkpoint::open(&msg, ORIGIN, &signer.verifier()).is_err());
    }

    /// Arbitrary bytes never panic the parsers.
    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = SignedNote::parse(&bytes);
        if let Ok(s) = core::str::from_utf8(&bytes) {
            let _ = Checkpoint::from_body(s);
            let _ = NoteVerifier::from_vkey(s);
            let _ = NoteSigner::from_skey(s);
        }
    }
}

#[test]
fn receipts_and_extensions_check_against_checkpoints() {
    let t = tree(100);
    let old = Checkpoint::new(ORIGIN, 60, t.root_at(60).expect("root")).expect("origin");
    let new = Checkpoint::new(ORIGIN, 100, t.root().expect("root")).expect("origin");
    let leaf = t.leaf_hash(42).expect("leaf");
    let proof = t.inclusion_proof(42, 100).expect("proof");
    assert_eq!(new.verify_inclusion(42, &leaf, &proof), Ok(()));
    assert!(old.verify_inclusion(42, &leaf, &proof).is_err());
    assert!(new.verify_inclusion(43, &leaf, &proof).is_err());

    let proof = t.consistency_proof(60, 100).expect("proof");
    assert_eq!(old.verify_extended_by(&new, &proof), Ok(()));
    assert!(new.verify_extended_by(&old, &proof).is_err());
    let forked = Checkpoint::new(ORIGIN, 100, leaf_hash(b"fork")).expect("origin");
    assert_eq!(
        old.verify_extended_by(&forked, &proof),
        Err(LogError::ConsistencyProofMismatch)
    );
    let other_log = Checkpoint::new("other.example/log", 100, *new.root()).expect("origin");
    assert!(matches!(
        old.verify_extended_by(&other_log, &proof),
        Err(LogError::OriginMismatch { .. })
    ));
}
