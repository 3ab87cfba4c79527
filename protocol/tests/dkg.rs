//! Key ceremony (PROTOCOL §7): full runs, tampering, complaints and disqualification.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use urna_protocol::codec::{Canonical, Encode};
use urna_protocol::dkg::{Complaint, DealerMessage, DkgContext, DkgOutcome, Polynomial};
use urna_protocol::encryption::{EncryptedShare, EncryptionSecretKey, ShareContext};
use urna_protocol::group::G;
use urna_protocol::tally::lagrange_at_zero;
use urna_protocol::{DecodeError, VerificationError};

const HASH: [u8; 32] = [0xab; 32];

struct Setup {
    ctx: DkgContext,
    keys: Vec<EncryptionSecretKey>,
    messages: Vec<DealerMessage>,
    rng: ChaCha20Rng,
}

fn setup(n: u32, t: u32, seed: u64) -> Setup {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let keys: Vec<_> = (0..n)
        .map(|_| EncryptionSecretKey::generate(&mut rng))
        .collect();
    let ctx = DkgContext::new(HASH, t, keys.iter().map(|k| k.public_key()).collect()).unwrap();
    let messages = (1..=n)
        .map(|i| DealerMessage::deal(&ctx, i, &mut rng).unwrap())
        .collect();
    Setup {
        ctx,
        keys,
        messages,
        rng,
    }
}

/// Replaces dealer `dealer`'s share for `recipient` by a well-encrypted wrong value.
fn send_bad_share(s: &mut Setup, dealer: u32, recipient: u32) {
    let key = *s.ctx.encryption_key(recipient).unwrap();
    let sctx = ShareContext {
        manifest_hash: HASH,
        dealer,
        recipient,
    };
    let bad = EncryptedShare::encrypt(&sctx, &key, &Scalar::from(42u64), &mut s.rng).unwrap();
    let (_, _, shares) = s.messages[dealer as usize - 1].parts_mut();
    shares[recipient as usize - 1] = bad;
}

#[test]
fn full_ceremony_gives_consistent_keys() {
    let s = setup(3, 2, 1);
    for m in &s.messages {
        m.verify(&s.ctx).unwrap();
    }
    let outcome = DkgOutcome::new(&s.ctx, &s.messages, &[]).unwrap();
    assert_eq!(outcome.qualified(), &[1, 2, 3]);
    // h = Σ C_i0
    let h: RistrettoPoint = s
        .messages
        .iter()
        .map(|m| m.coefficients()[0].commitment)
        .sum();
    assert_eq!(*outcome.election_public_key().as_point(), h);
    // s_j·G = H_j = Σ_i Σ_k j^k C_ik
    let shares: Vec<_> = (1..=3)
        .map(|j| {
            outcome
                .secret_share(&s.ctx, &s.messages, j, &s.keys[j as usize - 1])
                .unwrap()
        })
        .collect();
    for sh in &shares {
        assert_eq!(sh.public_share_key(), outcome.public_share_key(sh.index()));
        let direct: RistrettoPoint = s
            .messages
            .iter()
            .map(|m| m.expected_share_point(sh.index()))
            .sum();
        assert_eq!(direct, outcome.public_share_key(sh.index()));
    }
    // Any 2 shares interpolate the joint secret.
    for set in [[1u32, 2], [1, 3], [2, 3]] {
        let l = lagrange_at_zero(&set).unwrap();
        let secret: Scalar = set
            .iter()
            .zip(&l)
            .map(|(&j, l)| shares[j as usize - 1].expose_secret() * l)
            .sum();
        assert_eq!(secret * G, h);
    }
    // Every trustee gets a matching share from every dealer.
    for m in &s.messages {
        for j in 1..=3 {
            let share = m.receive(&s.ctx, j, &s.keys[j as usize - 1]).unwrap();
            assert_eq!(*share * G, m.expected_share_point(j));
        }
    }
    // Debug never shows the secret.
    let dbg = format!("{:?}", shares[0]);
    assert!(dbg.contains("redacted"));
    assert!(!dbg.contains(&hex::encode(shares[0].expose_secret().as_bytes())));
}

#[test]
fn context_rejects_bad_parameters() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let keys: Vec<_> = (0..3)
        .map(|_| EncryptionSecretKey::generate(&mut rng).public_key())
        .collect();
    assert!(DkgContext::new(HASH, 0, keys.clone()).is_err());
    assert!(DkgContext::new(HASH, 4, keys.clone()).is_err());
    assert!(DkgContext::new(HASH, 1, vec![]).is_err());
    assert!(DkgContext::new(HASH, 2, vec![keys[0], keys[1], keys[0]]).is_err());
    let ctx = DkgContext::new(HASH, 3, keys).unwrap();
    assert!(DealerMessage::deal(&ctx, 0, &mut rng).is_err());
    assert!(DealerMessage::deal(&ctx, 4, &mut rng).is_err());
    let p = Polynomial::random(2, &mut rng);
    assert!(DealerMessage::deal_polynomial(&ctx, 1, &p, &mut rng).is_err());
}

#[test]
fn encodings_round_trip() {
    let mut s = setup(3, 2, 3);
    for m in &s.messages {
        let bytes = m.to_canonical_bytes();
        assert_eq!(bytes[1], 0x10);
        assert_eq!(DealerMessage::from_canonical_bytes(&bytes).as_ref(), Ok(m));
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(matches!(
            DealerMessage::from_canonical_bytes(&trailing),
            Err(DecodeError::TrailingBytes { count: 1 })
        ));
        assert!(matches!(
            Complaint::from_canonical_bytes(&bytes),
            Err(DecodeError::WrongTag {
                expected: 0x11,
                actual: 0x10
            })
        ));
        assert!(DealerMessage::from_canonical_bytes(&bytes[..bytes.len() - 1]).is_err());
    }
    send_bad_share(&mut s, 1, 2);
    let c = Complaint::new(&s.ctx, 2, &s.keys[1], &s.messages[0], &mut s.rng).unwrap();
    let bytes = c.to_canonical_bytes();
    assert_eq!(bytes[1], 0x11);
    assert_eq!(bytes.len(), 2 + 8 + 32 + 96);
    assert_eq!(Complaint::from_canonical_bytes(&bytes), Ok(c));
}

/// Byte offsets in a dealer message's canonical encoding (version, tag, u32 dealer,
/// u32 count, then 96 bytes per coefficient: C ‖ R ‖ z; u32 count, 80 bytes per share).
fn coefficient_offset(k: usize) -> usize {
    2 + 4 + 4 + 96 * k
}

fn share_offset(t: usize, j: usize) -> usize {
    coefficient_offset(t) + 4 + 80 * (j - 1)
}

#[test]
fn flipped_bits_in_commitments_and_proofs_are_rejected() {
    let s = setup(3, 3, 4);
    let m = &s.messages[1];
    let bytes = m.to_canonical_bytes();
    for k in 0..3 {
        // Any bit of C_k, R_k, or the low byte of z_k.
        for bit in (0..8 * 64).chain(8 * 64..8 * 65) {
            let mut b = bytes.clone();
            b[coefficient_offset(k) + bit / 8] ^= 1 << (bit % 8);
            match DealerMessage::from_canonical_bytes(&b) {
                Err(DecodeError::InvalidPoint { .. }) | Err(DecodeError::IdentityPoint { .. }) => {}
                Err(e) => panic!("unexpected decode error {e:?}"),
                Ok(tampered) => assert_eq!(
                    tampered.verify(&s.ctx),
                    Err(VerificationError::CoefficientProof {
                        trustee: 2,
                        coefficient: k
                    }),
                    "coefficient {k} bit {bit}"
                ),
            }
        }
    }
    // A structurally tampered commitment is caught too.
    let mut tampered = m.clone();
    tampered.parts_mut().1[1].commitment += G;
    assert_eq!(
        tampered.verify(&s.ctx),
        Err(VerificationError::CoefficientProof {
            trustee: 2,
            coefficient: 1
        })
    );
}

#[test]
fn message_structure_is_checked() {
    let s = setup(3, 2, 5);
    let m = &s.messages[0];
    // Replayed under another dealer index: the proofs are bound to the index.
    let mut other = m.clone();
    *other.parts_mut().0 = 2;
    assert_eq!(
        other.verify(&s.ctx),
        Err(VerificationError::CoefficientProof {
            trustee: 2,
            coefficient: 0
        })
    );
    let mut other = m.clone();
    *other.parts_mut().0 = 4;
    assert_eq!(
        other.verify(&s.ctx),
        Err(VerificationError::UnknownTrustee { index: 4 })
    );
    // Wrong commitment and share counts.
    let mut other = m.clone();
    other.parts_mut().1.pop();
    assert_eq!(
        other.verify(&s.ctx),
        Err(VerificationError::CommitmentCount {
            trustee: 1,
            expected: 2,
            actual: 1
        })
    );
    let mut other = m.clone();
    other.parts_mut().2.pop();
    assert_eq!(
        other.verify(&s.ctx),
        Err(VerificationError::ShareCount {
            trustee: 1,
            expected: 3,
            actual: 2
        })
    );
    // Bound to the manifest hash.
    let other_ctx = DkgContext::new(
        [0xac; 32],
        2,
        s.keys.iter().map(|k| k.public_key()).collect(),
    )
    .unwrap();
    assert_eq!(
        m.verify(&other_ctx),
        Err(VerificationError::CoefficientProof {
            trustee: 1,
            coefficient: 0
        })
    );
    // Two messages from one dealer.
    let twice = vec![
        s.messages[0].clone(),
        s.messages[1].clone(),
        s.messages[0].clone(),
    ];
    assert_eq!(
        DkgOutcome::new(&s.ctx, &twice, &[]),
        Err(VerificationError::UnknownTrustee { index: 1 })
    );
    // Only some dealers published: still fine with at least t.
    let outcome = DkgOutcome::new(&s.ctx, &s.messages[1..], &[]).unwrap();
    assert_eq!(outcome.qualified(), &[2, 3]);
    assert_eq!(
        DkgOutcome::new(&s.ctx, &s.messages[2..], &[]),
        Err(VerificationError::TooFewQualifiedDealers {
            qualified: 1,
            threshold: 2
        })
    );
}

#[test]
fn flipped_bit_in_encrypted_share_gives_valid_complaint() {
    let mut s = setup(3, 2, 6);
    let bytes = s.messages[2].to_canonical_bytes();
    // Flip bits in the ciphertext part of the share for trustee 1 (after its E).
    for bit in [0usize, 7, 200, 255, 256, 300, 383] {
        let mut b = bytes.clone();
        b[share_offset(2, 1) + 32 + bit / 8] ^= 1 << (bit % 8);
        let tampered = DealerMessage::from_canonical_bytes(&b).unwrap();
        tampered.verify(&s.ctx).unwrap(); // the public part is still fine
        assert_eq!(
            tampered.receive(&s.ctx, 1, &s.keys[0]).map(|_| ()),
            Err(VerificationError::ShareDecryption {
                dealer: 3,
                recipient: 1
            })
        );
        let c = Complaint::new(&s.ctx, 1, &s.keys[0], &tampered, &mut s.rng).unwrap();
        c.verify(&s.ctx, &tampered).unwrap();
        // The same complaint against the untampered message is false.
        assert_eq!(
            c.verify(&s.ctx, &s.messages[2]),
            Err(VerificationError::InvalidComplaint {
                complainer: 1,
                accused: 3
            })
        );
    }
    // A flipped bit in the ephemeral key: not a point, or a different shared secret.
    let mut b = bytes.clone();
    b[share_offset(2, 1)] ^= 0x02;
    if let Ok(tampered) = DealerMessage::from_canonical_bytes(&b) {
        assert_eq!(
            tampered.receive(&s.ctx, 1, &s.keys[0]).map(|_| ()),
            Err(VerificationError::ShareDecryption {
                dealer: 3,
                recipient: 1
            })
        );
    }
}

#[test]
fn bad_share_gets_valid_complaint_and_dealer_is_disqualified() {
    let mut s = setup(3, 2, 7);
    send_bad_share(&mut s, 2, 3);
    let bad = &s.messages[1];
    bad.verify(&s.ctx).unwrap();
    assert_eq!(
        bad.receive(&s.ctx, 3, &s.keys[2]).map(|_| ()),
        Err(VerificationError::ShareMismatch {
            dealer: 2,
            recipient: 3
        })
    );
    let complaint = Complaint::new(&s.ctx, 3, &s.keys[2], bad, &mut s.rng).unwrap();
    complaint.verify(&s.ctx, bad).unwrap();
    // Survives its encoding.
    let decoded = Complaint::from_canonical_bytes(&complaint.to_canonical_bytes()).unwrap();
    decoded.verify(&s.ctx, bad).unwrap();

    // Without the complaint trustee 3 cannot compute its share.
    let naive = DkgOutcome::new(&s.ctx, &s.messages, &[]).unwrap();
    assert_eq!(
        naive
            .secret_share(&s.ctx, &s.messages, 3, &s.keys[2])
            .map(|_| ()),
        Err(VerificationError::ShareMismatch {
            dealer: 2,
            recipient: 3
        })
    );

    let outcome = DkgOutcome::new(&s.ctx, &s.messages, &[complaint]).unwrap();
    assert_eq!(outcome.qualified(), &[1, 3]);
    let h: RistrettoPoint = [0usize, 2]
        .iter()
        .map(|&i| s.messages[i].coefficients()[0].commitment)
        .sum();
    assert_eq!(*outcome.election_public_key().as_point(), h);
    let shares: Vec<_> = (1..=3)
        .map(|j| {
            outcome
                .secret_share(&s.ctx, &s.messages, j, &s.keys[j as usize - 1])
                .unwrap()
        })
        .collect();
    let l = lagrange_at_zero(&[1, 3]).unwrap();
    let secret = shares[0].expose_secret() * l[0] + shares[2].expose_secret() * l[1];
    assert_eq!(secret * G, h);
}

#[test]
fn false_and_forged_complaints_are_rejected() {
    let mut s = setup(3, 2, 8);
    let invalid = VerificationError::InvalidComplaint {
        complainer: 2,
        accused: 1,
    };
    // Trustee 2 complains about an honest dealer.
    let c = Complaint::new(&s.ctx, 2, &s.keys[1], &s.messages[0], &mut s.rng).unwrap();
    assert_eq!(c.verify(&s.ctx, &s.messages[0]), Err(invalid.clone()));
    assert_eq!(
        DkgOutcome::new(&s.ctx, &s.messages, &[c]),
        Err(invalid.clone())
    );

    // Against a really bad share, but with a forged shared secret or proof.
    send_bad_share(&mut s, 1, 2);
    let good = Complaint::new(&s.ctx, 2, &s.keys[1], &s.messages[0], &mut s.rng).unwrap();
    good.verify(&s.ctx, &s.messages[0]).unwrap();
    let mut forged = good;
    *forged.parts_mut().2 += G;
    assert_eq!(forged.verify(&s.ctx, &s.messages[0]), Err(invalid.clone()));
    let bytes = good.to_canonical_bytes();
    for bit in (0..8 * 96).step_by(5) {
        let mut b = bytes.clone();
        b[2 + 8 + 32 + bit / 8] ^= 1 << (bit % 8);
        if let Ok(tampered) = Complaint::from_canonical_bytes(&b) {
            assert_eq!(
                tampered.verify(&s.ctx, &s.messages[0]),
                Err(invalid.clone()),
                "bit {bit}"
            );
        }
    }
    // Complaints naming the wrong parties.
    let mut wrong = good;
    *wrong.parts_mut().0 = 3;
    assert_eq!(
        wrong.verify(&s.ctx, &s.messages[0]),
        Err(VerificationError::InvalidComplaint {
            complainer: 3,
            accused: 1
        })
    );
    assert_eq!(good.verify(&s.ctx, &s.messages[1]), Err(invalid.clone()));
    let mut own = good;
    *own.parts_mut().1 = 2;
    assert_eq!(
        own.verify(&s.ctx, &s.messages[1]),
        Err(VerificationError::InvalidComplaint {
            complainer: 2,
            accused: 2
        })
    );
    // A complaint against a dealer with no message.
    assert_eq!(
        DkgOutcome::new(&s.ctx, &s.messages[1..], &[good]),
        Err(invalid)
    );
    // A key that is not the complainer's cannot complain.
    assert!(Complaint::new(&s.ctx, 2, &s.keys[0], &s.messages[0], &mut s.rng).is_err());
}

#[test]
fn disqualification_below_threshold_fails() {
    let mut s = setup(3, 3, 9);
    send_bad_share(&mut s, 3, 1);
    let c = Complaint::new(&s.ctx, 1, &s.keys[0], &s.messages[2], &mut s.rng).unwrap();
    assert_eq!(
        DkgOutcome::new(&s.ctx, &s.messages, &[c]),
        Err(VerificationError::TooFewQualifiedDealers {
            qualified: 2,
            threshold: 3
        })
    );
}

#[test]
fn wrong_key_cannot_read_share() {
    let s = setup(3, 2, 10);
    let outcome = DkgOutcome::new(&s.ctx, &s.messages, &[]).unwrap();
    assert_eq!(
        outcome
            .secret_share(&s.ctx, &s.messages, 1, &s.keys[1])
            .map(|_| ()),
        Err(VerificationError::ShareDecryption {
            dealer: 1,
            recipient: 1
        })
    );
    let enc = s.messages[0].encrypted_share(2).unwrap();
    assert!(enc.encoded().len() == 80);
}
