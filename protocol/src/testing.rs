//! proptest strategies for protocol types (feature `testing`; STYLE §15).
//!
//! Values are derived from proptest's byte input, never from an RNG, so failures shrink
//! and replay. Keys made here are test keys: their secrets are derivable from the
//! strategy input.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use proptest::prelude::*;
use urna_circuits::{BallotDigest, ElectionId, Nullifier};

use crate::elgamal::{Ciphertext, ElectionPublicKey};
use crate::encryption::EncryptionPublicKey;
use crate::group::G;
use crate::manifest::{Contest, Manifest, Trustee, MAX_OPTIONS, MAX_STRING_BYTES};
use crate::signing::SigningKey;

/// A uniformly distributed scalar (64 bytes reduced modulo the group order).
pub fn arb_scalar() -> impl Strategy<Value = Scalar> {
    (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(lo, hi)| {
        let mut wide = [0u8; 64];
        wide[..32].copy_from_slice(&lo);
        wide[32..].copy_from_slice(&hi);
        Scalar::from_bytes_mod_order_wide(&wide)
    })
}

/// A point `s·G` for an arbitrary scalar `s` (may be the identity when `s = 0`).
pub fn arb_point() -> impl Strategy<Value = RistrettoPoint> {
    arb_scalar().prop_map(|s| s * G)
}

/// An arbitrary ciphertext (two independent points; not necessarily well formed).
pub fn arb_ciphertext() -> impl Strategy<Value = Ciphertext> {
    (arb_point(), arb_point()).prop_map(|(alpha, beta)| Ciphertext { alpha, beta })
}

/// An arbitrary election public key (never the identity).
pub fn arb_public_key() -> impl Strategy<Value = ElectionPublicKey> {
    arb_scalar().prop_filter_map("identity key", |s| {
        ElectionPublicKey::from_point(s * G).ok()
    })
}

/// An arbitrary canonical BN254 field element, as a nullifier.
pub fn arb_nullifier() -> impl Strategy<Value = Nullifier> {
    (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(lo, hi)| {
        let mut wide = [0u8; 64];
        wide[..32].copy_from_slice(&lo);
        wide[32..].copy_from_slice(&hi);
        Nullifier::from_fr(BallotDigest::from_wide_hash(&wide).to_fr())
    })
}

/// An arbitrary canonical election id.
pub fn arb_election_id() -> impl Strategy<Value = ElectionId> {
    arb_nullifier().prop_map(|n| ElectionId::from_fr(n.to_fr()))
}

fn arb_label() -> impl Strategy<Value = String> {
    const CHARS: &[char] = &['a', 'b', 'z', 'A', 'Q', '0', '9', ' ', '-', 'ä', 'é', '✓'];
    proptest::collection::vec(proptest::sample::select(CHARS), 1..=(MAX_STRING_BYTES / 4))
        .prop_map(|cs| cs.into_iter().collect())
}

/// A valid contest with 1 to `max_options` options and a valid `[min, max]`.
pub fn arb_contest(max_options: usize) -> impl Strategy<Value = Contest> {
    let max_options = max_options.clamp(1, MAX_OPTIONS);
    (
        arb_label(),
        proptest::collection::vec(arb_label(), 1..=max_options),
    )
        .prop_flat_map(|(title, options)| {
            let n = options.len() as u32;
            (Just(title), Just(options), 0..=n)
                .prop_flat_map(move |(t, o, max)| (Just(t), Just(o), 0..=max, Just(max)))
        })
        .prop_map(|(title, options, min_selections, max_selections)| Contest {
            title,
            options,
            min_selections,
            max_selections,
        })
}

/// A valid manifest with 1 to 3 contests of up to 6 options and 1 to 4 trustees.
///
/// Trustee, authority and board keys come from distinct fixed seeds: test keys only.
pub fn arb_manifest() -> impl Strategy<Value = Manifest> {
    (
        arb_election_id(),
        arb_label(),
        proptest::collection::vec(arb_contest(6), 1..=3),
        0u64..(1 << 40),
        1u64..(1 << 20),
        1u32..=32,
        1usize..=4,
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
    )
        .prop_flat_map(|(id, title, contests, opens, len, depth, n, vkh, pkh)| {
            (
                Just((id, title, contests, opens, len, depth, n, vkh, pkh)),
                1..=(n as u32),
            )
        })
        .prop_filter_map(
            "test key is the identity",
            |((election_id, title, contests, opens_at, len, census_depth, n, vkh, pkh), t)| {
                let trustees = (1..=n as u8)
                    .map(|i| {
                        Some(Trustee {
                            name: format!("trustee {i}"),
                            signing_key: SigningKey::from_seed(&[i; 32]).public_key(),
                            // Y = (i + 1)·G: a test key with a known secret.
                            encryption_key: EncryptionPublicKey::from_point(
                                Scalar::from(u64::from(i) + 1) * G,
                            )
                            .ok()?,
                        })
                    })
                    .collect::<Option<Vec<Trustee>>>()?;
                Some(Manifest {
                    election_id,
                    title,
                    contests,
                    opens_at,
                    closes_at: opens_at + len,
                    census_depth,
                    trustees,
                    threshold: t,
                    authority_key: SigningKey::from_seed(&[0xa0; 32]).public_key(),
                    board_key: SigningKey::from_seed(&[0xb0; 32]).public_key(),
                    setup: crate::manifest::Setup::Keys {
                        verifying_key_hash: vkh,
                        proving_key_hash: pkh,
                    },
                })
            },
        )
}

/// Selections that satisfy `contest`: `[min, max]` options chosen.
pub fn arb_selection(contest: &Contest) -> impl Strategy<Value = Vec<bool>> {
    let n = contest.options.len();
    let (min, max) = (
        contest.min_selections as usize,
        contest.max_selections as usize,
    );
    (min..=max, Just(n))
        .prop_flat_map(|(k, n)| Just((0..n).map(|i| i < k).collect::<Vec<bool>>()).prop_shuffle())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests
mod tests {
    use super::*;
    use crate::codec::{Canonical, Decode, Encode, Reader};
    use crate::proofs::{SelectionProof, ZeroOneProof};

    proptest! {
        #[test]
        fn ciphertext_round_trip(ct in arb_ciphertext()) {
            let bytes = ct.encoded();
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(Ciphertext::decode(&mut r), Ok(ct));
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn public_key_round_trip(pk in arb_public_key()) {
            let bytes = pk.encoded();
            prop_assert_eq!(ElectionPublicKey::decode(&mut Reader::new(&bytes)), Ok(pk));
        }

        #[test]
        fn homomorphic_sum_matches_scalar_sum(
            pk in arb_public_key(),
            ms in proptest::collection::vec(0u64..1000, 0..8),
            rs in proptest::collection::vec(arb_scalar(), 8),
        ) {
            let sum: Ciphertext = ms.iter().zip(&rs).map(|(m, r)| pk.encrypt(*m, r)).sum();
            let total: u64 = ms.iter().sum();
            let r_total: Scalar = rs.iter().take(ms.len()).sum();
            prop_assert_eq!(sum, pk.encrypt(total, &r_total));
        }

        #[test]
        fn manifest_round_trip(m in arb_manifest()) {
            prop_assert_eq!(m.validate(), Ok(()));
            let bytes = m.to_canonical_bytes();
            prop_assert_eq!(Manifest::from_canonical_bytes(&bytes), Ok(m));
        }

        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = Manifest::from_canonical_bytes(&bytes);
            let _ = crate::ballot::Ballot::from_canonical_bytes(&bytes);
            let _ = crate::ballot::ContestBallot::decode(&mut Reader::new(&bytes));
            let _ = crate::ballot::BallotAudit::decode(&mut Reader::new(&bytes));
            let _ = ZeroOneProof::decode(&mut Reader::new(&bytes));
            let _ = SelectionProof::decode(&mut Reader::new(&bytes));
            let _ = Ciphertext::decode(&mut Reader::new(&bytes));
        }

        #[test]
        fn prefixed_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            // With a valid version and tag, the body decoders see the garbage.
            let mut m = alloc::vec![crate::codec::FORMAT_VERSION, Manifest::TAG];
            m.extend_from_slice(&bytes);
            let _ = Manifest::from_canonical_bytes(&m);
            let mut b = alloc::vec![crate::codec::FORMAT_VERSION, crate::ballot::Ballot::TAG];
            b.extend_from_slice(&bytes);
            let _ = crate::ballot::Ballot::from_canonical_bytes(&b);
        }
    }
}
