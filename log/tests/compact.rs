//! The streaming root builder against the naive recursive `MTH` of `common` and against
//! [`MerkleTree`] (`PROTOCOL 11.1`).

// Test code: a panic is how a test reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{leaves, mth};
use proptest::prelude::*;
use urna_log::{leaf_hash, CompactRange, MerkleTree};

#[test]
fn every_prefix_matches_the_reference_up_to_300() {
    let all = leaves(300);
    let mut range = CompactRange::new();
    assert_eq!(range.root(), mth(&[]));
    for (i, h) in all.iter().enumerate() {
        range.push(*h).unwrap();
        assert_eq!(range.root(), mth(&all[..=i]), "size {}", i + 1);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary leaf data and sizes: the streamed root equals the tree's root, and a
    /// change to any one leaf changes it.
    #[test]
    fn streamed_root_equals_tree_root(
        data in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..200),
        pick in any::<prop::sample::Index>(),
    ) {
        let hashes: Vec<_> = data.iter().map(|d| leaf_hash(d)).collect();
        let mut range = CompactRange::new();
        for h in &hashes {
            range.push(*h).unwrap();
        }
        let tree = MerkleTree::from_leaf_hashes(hashes.iter().copied()).unwrap();
        prop_assert_eq!(range.size(), tree.size());
        prop_assert_eq!(range.root(), tree.root().unwrap());

        let k = pick.index(hashes.len());
        let mut changed = CompactRange::new();
        for (i, h) in hashes.iter().enumerate() {
            let h = if i == k { leaf_hash(b"\x00tampered\x00") } else { *h };
            changed.push(h).unwrap();
        }
        if hashes[k] != leaf_hash(b"\x00tampered\x00") {
            prop_assert_ne!(changed.root(), range.root());
        }
    }
}
