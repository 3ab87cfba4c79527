//! Exhaustive and property tests of the tree and the proof checkers, against the naive
//! recursive reference in `common` (`PROTOCOL 11.1`–`11.3`).

// Test code: a panic is how a test reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::cell::Cell;
use std::sync::OnceLock;

use common::{flip, leaves, mth, path_shape};
use proptest::prelude::*;
use urna_log::{
    consistency_proof_len, inclusion_proof_len, root_from_inclusion_proof, verify_consistency,
    verify_inclusion, Hash, HashStore, LogError, MemoryStore, MerkleTree,
};

const INCLUSION_MAX: usize = 300;
const CONSISTENCY_MAX: usize = 150;

#[test]
fn roots_match_the_reference_at_every_size() {
    let l = leaves(INCLUSION_MAX);
    let tree = MerkleTree::from_leaf_hashes(l.iter().copied()).expect("in memory");
    for n in 0..=INCLUSION_MAX {
        assert_eq!(tree.root_at(n as u64), Ok(mth(&l[..n])), "size {n}");
    }
    assert_eq!(
        tree.root_at(INCLUSION_MAX as u64 + 1),
        Err(LogError::SizeOutOfRange {
            requested: INCLUSION_MAX as u64 + 1,
            current: INCLUSION_MAX as u64
        })
    );
}

/// Every index of every size up to 300: the proof equals the reference PATH, has the
/// advertised length, verifies, and fails for any other index, for a flipped leaf, root
/// or proof hash, and for another size unless the two sizes give the same path shape.
#[test]
fn every_inclusion_proof_up_to_300() {
    let l = leaves(INCLUSION_MAX);
    let tree = MerkleTree::from_leaf_hashes(l.iter().copied()).expect("in memory");
    let mut same_shape_other_size = 0usize;
    for n in 1..=INCLUSION_MAX as u64 {
        let root = tree.root_at(n).expect("root");
        for i in 0..n {
            let proof = tree.inclusion_proof(i, n).expect("proof");
            let leaf = l[i as usize];
            assert_eq!(
                proof,
                common::path(i as usize, &l[..n as usize]),
                "({i}, {n})"
            );
            assert_eq!(inclusion_proof_len(i, n), Ok(proof.len()));
            assert_eq!(
                verify_inclusion(i, n, &leaf, &proof, &root),
                Ok(()),
                "({i}, {n})"
            );

            // Any other index of the same tree, with the same leaf hash.
            for j in [i.wrapping_sub(1), i + 1, i ^ 1, i ^ 2, i ^ 4] {
                if j != i && j < n {
                    assert!(verify_inclusion(j, n, &leaf, &proof, &root).is_err());
                }
            }
            // Out of range.
            assert_eq!(
                verify_inclusion(n, n, &leaf, &proof, &root),
                Err(LogError::IndexOutOfRange { index: n, size: n })
            );
            // Flipped leaf, root, or any proof hash.
            assert_eq!(
                verify_inclusion(i, n, &flip(&leaf, 0), &proof, &root),
                Err(LogError::InclusionProofMismatch)
            );
            assert_eq!(
                verify_inclusion(i, n, &leaf, &proof, &flip(&root, 255)),
                Err(LogError::InclusionProofMismatch)
            );
            for k in 0..proof.len() {
                let mut p = proof.clone();
                p[k] = flip(&p[k], (k * 37 + 5) % 256);
                assert_eq!(
                    verify_inclusion(i, n, &leaf, &p, &root),
                    Err(LogError::InclusionProofMismatch)
                );
            }
            // Another size: rejected, unless the walk is literally the same (then the
            // checkpoint's signature, which binds size and root, is what tells them apart).
            for m in [n - 1, n + 1, n * 2, n / 2] {
                if m == n || m <= i {
                    continue;
                }
                let res = verify_inclusion(i, m, &leaf, &proof, &root);
                if path_shape(i, m) == path_shape(i, n) {
                    same_shape_other_size += 1;
                    assert_eq!(res, Ok(()));
                } else {
                    assert!(res.is_err(), "({i}, {n}) accepted as ({i}, {m})");
                }
            }
        }
    }
    // The exception above is real (e.g. leaf 0 of 7 and of 8 leaves climbs the same way):
    // both directions of the equivalence were checked.
    assert!(same_shape_other_size > 0);
}

/// Every pair m <= n up to 150: the proof equals the reference PROOF, has the advertised
/// length, verifies, and fails for a flipped root or proof hash and for other sizes.
#[test]
fn every_consistency_proof_up_to_150() {
    let l = leaves(CONSISTENCY_MAX);
    let tree = MerkleTree::from_leaf_hashes(l.iter().copied()).expect("in memory");
    let roots: Vec<Hash> = (0..=CONSISTENCY_MAX as u64)
        .map(|n| tree.root_at(n).expect("root"))
        .collect();
    for n in 0..=CONSISTENCY_MAX as u64 {
        for m in 0..=n {
            let proof = tree.consistency_proof(m, n).expect("proof");
            let (r1, r2) = (roots[m as usize], roots[n as usize]);
            assert_eq!(
                proof,
                common::consistency(m as usize, &l[..n as usize]),
                "({m}, {n})"
            );
            assert_eq!(consistency_proof_len(m, n), Ok(proof.len()));
            assert_eq!(
                verify_consistency(m, n, &r1, &r2, &proof),
                Ok(()),
                "({m}, {n})"
            );

            if m < n {
                assert_eq!(
                    verify_consistency(n, m, &r2, &r1, &proof),
                    Err(LogError::SizesReversed { size1: n, size2: m })
                );
                assert!(verify_consistency(m, n, &flip(&r1, 7), &r2, &proof).is_err());
                // Every tree extends the empty tree, whatever its root: only m > 0 binds r2.
                if m > 0 {
                    assert!(verify_consistency(m, n, &r1, &flip(&r2, 7), &proof).is_err());
                }
            }
            for k in 0..proof.len() {
                let mut p = proof.clone();
                p[k] = flip(&p[k], (k * 53 + 1) % 256);
                assert_eq!(
                    verify_consistency(m, n, &r1, &r2, &p),
                    Err(LogError::ConsistencyProofMismatch),
                    "({m}, {n}) flip {k}"
                );
            }
            // Other sizes with the true roots of those sizes: the proof is for (m, n) only.
            for (m2, n2) in [
                (m + 1, n),
                (m.wrapping_sub(1), n),
                (m, n + 1),
                (m, n.wrapping_sub(1)),
            ] {
                if (m2, n2) == (m, n) || m2 > n2 || n2 > CONSISTENCY_MAX as u64 {
                    continue;
                }
                let (a, b) = (roots[m2 as usize], roots[n2 as usize]);
                if consistency_proof_len(m2, n2) == Ok(0) && proof.is_empty() {
                    continue; // both trivial: nothing to tell apart
                }
                assert!(
                    verify_consistency(m2, n2, &a, &b, &proof).is_err(),
                    "proof for ({m}, {n}) accepted for ({m2}, {n2})"
                );
            }
        }
    }
}

/// The checkers never panic at the extremes of u64.
#[test]
fn extreme_sizes() {
    let h = leaves(1)[0];
    let proof64 = vec![h; 64];
    for (i, n) in [
        (0, u64::MAX),
        (u64::MAX - 1, u64::MAX),
        (1 << 63, u64::MAX),
        (u64::MAX, u64::MAX),
        (0, 1 << 63),
    ] {
        for p in [&proof64[..], &proof64[..63], &[][..]] {
            let _ = verify_inclusion(i, n, &h, p, &h);
            let _ = root_from_inclusion_proof(i, n, &h, p);
            let _ = verify_consistency(i, n, &h, &h, p);
            let _ = verify_consistency(n, i, &h, &h, p);
        }
    }
    assert_eq!(inclusion_proof_len(0, u64::MAX), Ok(64));
    assert_eq!(consistency_proof_len(u64::MAX, u64::MAX), Ok(0));
}

/// A store that counts reads, to pin the cost claims of `PROTOCOL 11.1`.
#[derive(Default)]
struct CountingStore {
    inner: MemoryStore,
    reads: Cell<u64>,
}

impl HashStore for CountingStore {
    fn len(&self, level: u8) -> u64 {
        self.inner.len(level)
    }
    fn get(&self, level: u8, index: u64) -> Option<Hash> {
        self.reads.set(self.reads.get() + 1);
        self.inner.get(level, index)
    }
    fn push(&mut self, level: u8, hash: Hash) {
        self.inner.push(level, hash);
    }
}

#[test]
fn roots_and_proofs_read_logarithmically_many_hashes() {
    const N: u64 = (1 << 17) + 12_345;
    let mut tree = MerkleTree::with_store(CountingStore::default());
    for i in 0..N {
        tree.append(urna_log::leaf_hash(&i.to_le_bytes()))
            .expect("in memory");
    }
    let reads = |tree: &MerkleTree<CountingStore>| tree.store().reads.replace(0);
    reads(&tree);
    for size in [1, 2, 3, 1000, 65_537, N - 1, N] {
        let root = tree.root_at(size).expect("root");
        assert!(reads(&tree) <= 64, "root at {size}");
        for index in [0, size / 3, size - 1] {
            let proof = tree.inclusion_proof(index, size).expect("proof");
            assert!(reads(&tree) <= 18 * 18, "inclusion ({index}, {size})");
            let leaf = tree.leaf_hash(index).expect("leaf");
            verify_inclusion(index, size, &leaf, &proof, &root).expect("verifies");
        }
        for old in [1, size / 2, size - 1] {
            let proof = tree.consistency_proof(old, size).expect("proof");
            assert!(reads(&tree) <= 18 * 18, "consistency ({old}, {size})");
            let old_root = tree.root_at(old).expect("root");
            verify_consistency(old, size, &old_root, &root, &proof).expect("verifies");
        }
    }
    // The store holds fewer than two hashes per leaf.
    let stored: u64 = (0..64).map(|l| tree.store().len(l)).sum();
    assert!(stored < 2 * N);
}

#[test]
fn requests_outside_the_tree_are_errors() {
    let tree = MerkleTree::from_leaf_hashes(leaves(10)).expect("in memory");
    assert_eq!(
        tree.inclusion_proof(10, 10),
        Err(LogError::IndexOutOfRange {
            index: 10,
            size: 10
        })
    );
    assert_eq!(
        tree.inclusion_proof(3, 11),
        Err(LogError::SizeOutOfRange {
            requested: 11,
            current: 10
        })
    );
    assert_eq!(
        tree.consistency_proof(5, 4),
        Err(LogError::SizesReversed { size1: 5, size2: 4 })
    );
    assert!(tree.consistency_proof(5, 11).is_err());
    assert!(tree.leaf_hash(10).is_err());
    assert_eq!(
        MerkleTree::new().inclusion_proof(0, 0),
        Err(LogError::IndexOutOfRange { index: 0, size: 0 })
    );
}

fn big_tree() -> &'static (Vec<Hash>, MerkleTree) {
    static TREE: OnceLock<(Vec<Hash>, MerkleTree)> = OnceLock::new();
    TREE.get_or_init(|| {
        let l = leaves(5000);
        let t = MerkleTree::from_leaf_hashes(l.iter().copied()).expect("in memory");
        (l, t)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Flipping any single bit of any proof hash, the leaf or the root makes an inclusion
    /// proof fail; so does any other index.
    #[test]
    fn inclusion_single_bit_flips_fail(
        n in 1u64..=5000,
        i_seed: u64,
        target: usize,
        bit in 0usize..256,
        other_seed: u64,
    ) {
        let (l, tree) = big_tree();
        let i = i_seed % n;
        let root = tree.root_at(n).expect("root");
        let proof = tree.inclusion_proof(i, n).expect("proof");
        let leaf = l[i as usize];
        prop_assert_eq!(verify_inclusion(i, n, &leaf, &proof, &root), Ok(()));

        let slots = proof.len() + 2;
        let (mut leaf2, mut proof2, mut root2) = (leaf, proof.clone(), root);
        match target % slots {
            0 => leaf2 = flip(&leaf, bit),
            1 => root2 = flip(&root, bit),
            k => proof2[k - 2] = flip(&proof2[k - 2], bit),
        }
        prop_assert_eq!(
            verify_inclusion(i, n, &leaf2, &proof2, &root2),
            Err(LogError::InclusionProofMismatch)
        );

        let j = other_seed % n;
        if j != i {
            prop_assert!(verify_inclusion(j, n, &leaf, &proof, &root).is_err());
        }
    }

    /// Flipping any single bit of any proof hash or of either root makes a consistency
    /// proof fail; so does any other pair of sizes.
    #[test]
    fn consistency_single_bit_flips_fail(
        n in 1u64..=5000,
        m_seed: u64,
        target: usize,
        bit in 0usize..256,
        other_m: u64,
        other_n: u64,
    ) {
        let (_, tree) = big_tree();
        let m = 1 + m_seed % n; // 1..=n
        let (r1, r2) = (tree.root_at(m).expect("root"), tree.root_at(n).expect("root"));
        let proof = tree.consistency_proof(m, n).expect("proof");
        prop_assert_eq!(verify_consistency(m, n, &r1, &r2, &proof), Ok(()));

        let slots = proof.len() + 2;
        let (mut a, mut b, mut p) = (r1, r2, proof.clone());
        match target % slots {
            0 => a = flip(&r1, bit),
            1 => b = flip(&r2, bit),
            k => p[k - 2] = flip(&p[k - 2], bit),
        }
        prop_assert!(verify_consistency(m, n, &a, &b, &p).is_err());

        let n2 = 1 + other_n % 5000;
        let m2 = 1 + other_m % n2;
        if (m2, n2) != (m, n) && !(m2 == n2 && m == n) {
            let (a, b) = (tree.root_at(m2).expect("root"), tree.root_at(n2).expect("root"));
            prop_assert!(verify_consistency(m2, n2, &a, &b, &proof).is_err());
        }
    }

    /// Random garbage never panics the checkers.
    #[test]
    fn garbage_never_panics(
        i: u64,
        n: u64,
        len in 0usize..70,
        fill: [u8; 32],
    ) {
        let h = Hash::from_bytes(fill);
        let p = vec![h; len];
        let _ = verify_inclusion(i, n, &h, &p, &h);
        let _ = verify_consistency(i, n, &h, &h, &p);
        let _ = verify_consistency(i.min(n), i.max(n), &h, &h, &p);
    }
}
