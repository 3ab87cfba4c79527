//! The census: a fixed-depth Poseidon Merkle tree of identity commitments
//! (PROTOCOL 10.3).
//!
//! Leaves are appended left to right. An empty leaf is `0`; the root of an empty subtree
//! of height `i` is `Z_i`, with `Z_0 = 0` and `Z_{i+1} = Poseidon_2(Z_i, Z_i)`. A node is
//! `Poseidon_2(left, right)`.
//!
//! # Storage
//!
//! Because leaves are appended in order, the non-empty nodes of level `l` are exactly the
//! first `ceil(n / 2^l)`; every other node is `Z_l`. The tree keeps only those non-empty
//! prefixes, so memory is `O(n)` whatever the depth (a depth-32 tree with three leaves
//! holds a few dozen field elements), [`CensusTree::insert`] costs `depth` hashes, and
//! [`CensusTree::from_leaves`] costs about `n` hashes (level by level; in parallel with the
//! `parallel` feature).

use alloc::vec::Vec;

use ark_bn254::Fr;
use ark_ff::Zero;

use crate::error::CircuitError;
use crate::poseidon::NativePoseidon;
use crate::types::{fr_from_bytes, fr_to_bytes, CensusRoot, IdentityCommitment};

/// The smallest census depth.
pub const MIN_DEPTH: u32 = 1;
/// The largest census depth (2^32 leaves).
pub const MAX_DEPTH: u32 = 32;
/// The default census depth: 2^20 (about a million) voters.
pub const DEFAULT_DEPTH: u32 = 20;

/// Checks `MIN_DEPTH <= depth <= MAX_DEPTH`.
pub fn check_depth(depth: u32) -> Result<(), CircuitError> {
    if (MIN_DEPTH..=MAX_DEPTH).contains(&depth) {
        Ok(())
    } else {
        Err(CircuitError::InvalidDepth(depth))
    }
}

/// The empty-subtree roots `Z_0 ..= Z_depth` (PROTOCOL 10.3).
pub fn empty_subtree_roots(depth: u32) -> Result<Vec<Fr>, CircuitError> {
    check_depth(depth)?;
    let mut h = NativePoseidon::new()?;
    let mut zeros = Vec::with_capacity(depth as usize + 1);
    let mut z = Fr::zero();
    zeros.push(z);
    for _ in 0..depth {
        z = h.node(z, z)?;
        zeros.push(z);
    }
    Ok(zeros)
}

/// A census tree of fixed depth with sparse storage.
pub struct CensusTree {
    depth: u32,
    /// `zeros[l]` = `Z_l`, the root of an empty subtree of height `l`.
    zeros: Vec<Fr>,
    /// `levels[l]` = the non-empty prefix of level `l` (level 0 = leaves,
    /// level `depth` = root).
    levels: Vec<Vec<Fr>>,
    hasher: NativePoseidon,
}

impl core::fmt::Debug for CensusTree {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CensusTree")
            .field("depth", &self.depth)
            .field("leaves", &self.len())
            .field("root", &self.root())
            .finish()
    }
}

impl CensusTree {
    /// An empty tree of the given depth (`1..=32`).
    pub fn new(depth: u32) -> Result<Self, CircuitError> {
        let zeros = empty_subtree_roots(depth)?;
        Ok(Self {
            depth,
            zeros,
            levels: (0..=depth).map(|_| Vec::new()).collect(),
            hasher: NativePoseidon::new()?,
        })
    }

    /// Builds a tree from its leaves, in order (leaf `i` gets index `i`).
    pub fn from_leaves(depth: u32, leaves: &[IdentityCommitment]) -> Result<Self, CircuitError> {
        let mut tree = Self::new(depth)?;
        if leaves.len() as u64 > tree.capacity() {
            return Err(CircuitError::LeafIndexOutOfRange {
                index: leaves.len() as u64,
                depth,
            });
        }
        let mut level: Vec<Fr> = leaves.iter().map(IdentityCommitment::to_fr).collect();
        for l in 0..depth as usize {
            let next = hash_level(&level, tree.zeros[l])?;
            tree.levels[l] = level;
            level = next;
        }
        tree.levels[depth as usize] = level;
        Ok(tree)
    }

    /// The depth.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// `2^depth`, the number of leaf positions.
    pub fn capacity(&self) -> u64 {
        1u64 << self.depth
    }

    /// The number of leaves inserted.
    pub fn len(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// Whether no leaf has been inserted.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// The leaf at `index`, if inserted.
    pub fn leaf(&self, index: u64) -> Option<IdentityCommitment> {
        let i = usize::try_from(index).ok()?;
        self.levels[0]
            .get(i)
            .copied()
            .map(IdentityCommitment::from_fr)
    }

    /// Appends a leaf and returns its index; `depth` hashes.
    pub fn insert(&mut self, leaf: IdentityCommitment) -> Result<u64, CircuitError> {
        let index = self.len();
        if index >= self.capacity() {
            return Err(CircuitError::LeafIndexOutOfRange {
                index,
                depth: self.depth,
            });
        }
        self.levels[0].push(leaf.to_fr());
        let mut i = self.levels[0].len() - 1;
        for l in 0..self.depth as usize {
            let parent = i / 2;
            let left = self.node(l, 2 * parent);
            let right = self.node(l, 2 * parent + 1);
            let h = self.hasher.node(left, right)?;
            let up = &mut self.levels[l + 1];
            if parent < up.len() {
                up[parent] = h;
            } else {
                up.push(h);
            }
            i = parent;
        }
        Ok(index)
    }

    /// The root (`Z_depth` for an empty tree).
    pub fn root(&self) -> CensusRoot {
        CensusRoot::from_fr(self.node(self.depth as usize, 0))
    }

    /// The authentication path of an inserted leaf.
    pub fn path(&self, index: u64) -> Result<MerklePath, CircuitError> {
        if index >= self.len() {
            return Err(CircuitError::LeafIndexOutOfRange {
                index,
                depth: self.depth,
            });
        }
        // index < len <= 2^32 fits in usize on every supported target (wasm32 included:
        // a wasm32 tree cannot hold 2^32 leaves in memory anyway).
        let mut i = usize::try_from(index).map_err(|_| CircuitError::LeafIndexOutOfRange {
            index,
            depth: self.depth,
        })?;
        let mut siblings = Vec::with_capacity(self.depth as usize);
        for l in 0..self.depth as usize {
            siblings.push(self.node(l, i ^ 1));
            i /= 2;
        }
        Ok(MerklePath { index, siblings })
    }

    /// The node at level `l`, position `i`: stored, or the empty-subtree root.
    fn node(&self, l: usize, i: usize) -> Fr {
        self.levels[l].get(i).copied().unwrap_or(self.zeros[l])
    }
}

/// Hashes one level into the next: pairs `(2j, 2j + 1)`, the last odd node paired
/// with `zero` (the empty-subtree root of this level).
fn hash_level(level: &[Fr], zero: Fr) -> Result<Vec<Fr>, CircuitError> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        level
            .par_chunks(2)
            .map_init(NativePoseidon::new, |h, pair| match h {
                Ok(h) => h.node(pair[0], pair.get(1).copied().unwrap_or(zero)),
                Err(e) => Err(e.clone()),
            })
            .collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        let mut h = NativePoseidon::new()?;
        level
            .chunks(2)
            .map(|pair| h.node(pair[0], pair.get(1).copied().unwrap_or(zero)))
            .collect()
    }
}

/// A census authentication path (PROTOCOL 10.3): the leaf index and the sibling of each
/// node on the way up, bottom first.
///
/// Bit `l` of the index (`index_bits()[l]`) says whether the node at level `l` is a right
/// child (1: the sibling is on the left).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerklePath {
    index: u64,
    siblings: Vec<Fr>,
}

impl MerklePath {
    /// A path from parts; `siblings.len()` is the depth (`1..=32`) and `index < 2^depth`.
    pub fn new(index: u64, siblings: Vec<Fr>) -> Result<Self, CircuitError> {
        let depth =
            u32::try_from(siblings.len()).map_err(|_| CircuitError::InvalidDepth(u32::MAX))?;
        check_depth(depth)?;
        if index >= 1u64 << depth {
            return Err(CircuitError::LeafIndexOutOfRange { index, depth });
        }
        Ok(Self { index, siblings })
    }

    /// The depth (number of siblings).
    pub fn depth(&self) -> u32 {
        // At most 32 by construction.
        self.siblings.len() as u32
    }

    /// The leaf index.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The siblings, bottom first.
    pub fn siblings(&self) -> &[Fr] {
        &self.siblings
    }

    /// The index bits, least significant (bottom level) first.
    pub fn index_bits(&self) -> Vec<bool> {
        (0..self.siblings.len())
            .map(|l| (self.index >> l) & 1 == 1)
            .collect()
    }

    /// The root reached from `leaf` along this path.
    pub fn root_from(&self, leaf: &IdentityCommitment) -> Result<CensusRoot, CircuitError> {
        let mut h = NativePoseidon::new()?;
        self.root_from_with(&mut h, leaf.to_fr())
            .map(CensusRoot::from_fr)
    }

    pub(crate) fn root_from_with(
        &self,
        h: &mut NativePoseidon,
        leaf: Fr,
    ) -> Result<Fr, CircuitError> {
        let mut node = leaf;
        for (sibling, is_right) in self.siblings.iter().zip(self.index_bits()) {
            node = if is_right {
                h.node(*sibling, node)?
            } else {
                h.node(node, *sibling)?
            };
        }
        Ok(node)
    }

    /// Checks that this path leads from `leaf` to `root`.
    pub fn verify(&self, leaf: &IdentityCommitment, root: &CensusRoot) -> Result<(), CircuitError> {
        if self.root_from(leaf)? == *root {
            Ok(())
        } else {
            Err(CircuitError::NotInCensus)
        }
    }

    /// The canonical encoding (PROTOCOL 10.3):
    /// `depth (1 byte) || index (4 bytes, big-endian) || siblings (32 bytes each, bottom
    /// first)`, `5 + 32 * depth` bytes in all.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + 32 * self.siblings.len());
        out.push(self.siblings.len() as u8);
        // index < 2^depth <= 2^32.
        out.extend_from_slice(&(self.index as u32).to_be_bytes());
        for s in &self.siblings {
            out.extend_from_slice(&fr_to_bytes(s));
        }
        out
    }

    /// Decodes [`MerklePath::to_bytes`]; rejects a bad depth, an index `>= 2^depth`, a
    /// wrong length and non-canonical siblings.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CircuitError> {
        let (&depth, rest) = bytes.split_first().ok_or(CircuitError::LenMismatch {
            what: "merkle path",
            expected: 5,
            actual: 0,
        })?;
        let depth = u32::from(depth);
        check_depth(depth)?;
        let expected = 5 + 32 * depth as usize;
        if bytes.len() != expected {
            return Err(CircuitError::LenMismatch {
                what: "merkle path",
                expected,
                actual: bytes.len(),
            });
        }
        let mut index_bytes = [0u8; 4];
        index_bytes.copy_from_slice(&rest[..4]);
        let index = u64::from(u32::from_be_bytes(index_bytes));
        let siblings = rest[4..]
            .chunks_exact(32)
            .map(|c| {
                let mut a = [0u8; 32];
                a.copy_from_slice(c);
                fr_from_bytes(&a, "merkle path sibling")
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(index, siblings)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::poseidon;
    use ark_ff::UniformRand;
    use rand_chacha::rand_core::SeedableRng;

    fn leaves(n: usize, seed: u64) -> Vec<IdentityCommitment> {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| IdentityCommitment::from_fr(Fr::rand(&mut rng)))
            .collect()
    }

    /// A reference root computed the naive way (all 2^depth leaves).
    fn naive_root(depth: u32, leaves: &[IdentityCommitment]) -> Fr {
        let mut level: Vec<Fr> = (0..1usize << depth)
            .map(|i| leaves.get(i).map(|l| l.to_fr()).unwrap_or(Fr::zero()))
            .collect();
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|p| poseidon::hash(&[p[0], p[1]]).unwrap())
                .collect();
        }
        level[0]
    }

    #[test]
    fn empty_roots_follow_the_recurrence() {
        let z = empty_subtree_roots(3).unwrap();
        assert_eq!(z[0], Fr::zero());
        assert_eq!(z[1], poseidon::hash(&[Fr::zero(), Fr::zero()]).unwrap());
        assert_eq!(z[3], poseidon::hash(&[z[2], z[2]]).unwrap());
        assert_eq!(CensusTree::new(3).unwrap().root().to_fr(), z[3]);
        assert!(CensusTree::new(0).is_err());
        assert!(CensusTree::new(33).is_err());
    }

    #[test]
    fn insert_from_leaves_and_naive_agree() {
        for (depth, n) in [(1u32, 1usize), (1, 2), (3, 5), (4, 16), (5, 7)] {
            let ls = leaves(n, u64::from(depth) * 100 + n as u64);
            let mut t = CensusTree::new(depth).unwrap();
            for (i, l) in ls.iter().enumerate() {
                assert_eq!(t.insert(*l).unwrap(), i as u64);
            }
            let bulk = CensusTree::from_leaves(depth, &ls).unwrap();
            let naive = naive_root(depth, &ls);
            assert_eq!(t.root().to_fr(), naive);
            assert_eq!(bulk.root().to_fr(), naive);
            for (i, l) in ls.iter().enumerate() {
                let p = t.path(i as u64).unwrap();
                assert_eq!(p, bulk.path(i as u64).unwrap());
                p.verify(l, &t.root()).unwrap();
                // Failing twins: another leaf, another root.
                let other = IdentityCommitment::from_fr(l.to_fr() + Fr::from(1u64));
                assert_eq!(p.verify(&other, &t.root()), Err(CircuitError::NotInCensus));
                let bad_root = CensusRoot::from_fr(naive + Fr::from(1u64));
                assert!(p.verify(l, &bad_root).is_err());
            }
            assert!(t.path(n as u64).is_err());
        }
    }

    #[test]
    fn full_tree_rejects_insert() {
        let mut t = CensusTree::new(1).unwrap();
        let ls = leaves(3, 9);
        t.insert(ls[0]).unwrap();
        t.insert(ls[1]).unwrap();
        assert!(matches!(
            t.insert(ls[2]),
            Err(CircuitError::LeafIndexOutOfRange { index: 2, depth: 1 })
        ));
        assert!(CensusTree::from_leaves(1, &ls).is_err());
    }

    #[test]
    fn depth_32_with_a_few_leaves() {
        let ls = leaves(3, 32);
        let mut t = CensusTree::new(32).unwrap();
        for l in &ls {
            t.insert(*l).unwrap();
        }
        assert_eq!(t.capacity(), 1u64 << 32);
        let p = t.path(2).unwrap();
        assert_eq!(p.depth(), 32);
        p.verify(&ls[2], &t.root()).unwrap();
        assert_eq!(CensusTree::from_leaves(32, &ls).unwrap().root(), t.root());
    }

    /// 100k leaves at depth 20 build level by level (about 2 * 10^5 hashes, a few
    /// seconds); the last leaf's path leads to the root.
    #[test]
    fn hundred_thousand_leaves_at_depth_20() {
        let ls: Vec<IdentityCommitment> = (0..100_000u64)
            .map(|i| IdentityCommitment::from_fr(Fr::from(i + 1)))
            .collect();
        let t = CensusTree::from_leaves(20, &ls).unwrap();
        assert_eq!(t.len(), 100_000);
        let p = t.path(99_999).unwrap();
        p.verify(&ls[99_999], &t.root()).unwrap();
        assert!(p.verify(&ls[99_998], &t.root()).is_err());
    }

    #[test]
    fn path_codec_round_trip_and_rejections() {
        let ls = leaves(5, 77);
        let t = CensusTree::from_leaves(4, &ls).unwrap();
        let p = t.path(3).unwrap();
        let bytes = p.to_bytes();
        assert_eq!(bytes.len(), 5 + 32 * 4);
        assert_eq!(&bytes[..5], &[4, 0, 0, 0, 3]);
        assert_eq!(MerklePath::from_bytes(&bytes).unwrap(), p);
        // Truncated, extended, zero depth, index out of range, non-canonical sibling.
        assert!(MerklePath::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(MerklePath::from_bytes(&longer).is_err());
        let mut b = bytes.clone();
        b[0] = 0;
        assert!(MerklePath::from_bytes(&b).is_err());
        let mut b = bytes.clone();
        b[4] = 16;
        assert!(matches!(
            MerklePath::from_bytes(&b),
            Err(CircuitError::LeafIndexOutOfRange {
                index: 16,
                depth: 4
            })
        ));
        let mut b = bytes.clone();
        b[5..37].copy_from_slice(&[0xff; 32]);
        assert!(matches!(
            MerklePath::from_bytes(&b),
            Err(CircuitError::NonCanonicalFieldElement { .. })
        ));
        assert!(MerklePath::from_bytes(&[]).is_err());
    }
}
