//! Property tests over real ballots: mutated encodings never panic the decoder and are
//! never accepted by the verifier (PROTOCOL 6.6).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests

mod ballot_support;

use ballot_support::{default_selections, election, rng};
use proptest::prelude::*;
use std::sync::OnceLock;
use urna_protocol::ballot::Ballot;
use urna_protocol::codec::Canonical;

fn ballot_bytes() -> &'static Vec<u8> {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| {
        let e = election();
        e.cast(0, &default_selections(), &mut rng(99))
            .to_canonical_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn mutated_ballot_is_rejected(pos in any::<prop::sample::Index>(), xor in 1u8..=255) {
        let e = election();
        let mut bytes = ballot_bytes().clone();
        let i = pos.index(bytes.len());
        bytes[i] ^= xor;
        if let Ok(b) = Ballot::from_canonical_bytes(&bytes) {
            prop_assert!(b.verify(&e.manifest, &e.pk, &e.pvk, &e.root).is_err());
        }
    }

    #[test]
    fn truncated_or_extended_ballot_is_rejected(
        cut in any::<prop::sample::Index>(),
        extra in proptest::collection::vec(any::<u8>(), 1..64),
    ) {
        let bytes = ballot_bytes();
        let n = cut.index(bytes.len());
        prop_assert!(Ballot::from_canonical_bytes(&bytes[..n]).is_err());
        let mut longer = bytes.clone();
        longer.extend_from_slice(&extra);
        prop_assert!(Ballot::from_canonical_bytes(&longer).is_err());
    }
}
