//! The append-only Merkle tree the board server keeps, and the proofs it serves
//! (RFC 9162 §2.1.3.1 and §2.1.4.1, `PROTOCOL 11.2`, `PROTOCOL 11.3`).
//!
//! # Storage
//!
//! The tree stores the hash of every *complete* subtree, level by level: level 0 holds the
//! leaf hashes, and node `i` of level `l` is the root of leaves `[i·2^l, (i+1)·2^l)`. A tree
//! of `n` leaves thus holds `floor(n / 2^l)` hashes at level `l`, fewer than `2n` in all
//! (64 MiB for a million leaves). Appending a leaf adds one hash at level 0 and one more at
//! each level where it completes a subtree, so its cost is amortised `O(1)`.
//!
//! Any subtree the RFC's definitions need at any size `m <= n` is either one stored
//! complete subtree or a right-border subtree, which is recomputed from the at most
//! `log2 n` complete subtrees it splits into. Hence a root costs `O(log n)` hash reads and
//! hash computations, an inclusion or consistency proof `O(log² n)`, never `O(n)`.
//!
//! The storage is behind [`HashStore`], so a server may keep it in a database; this crate
//! ships [`MemoryStore`].

use core::fmt;

use crate::hash::{node_hash, split_point, Hash};
use crate::LogError;

/// Where a [`MerkleTree`] keeps its complete-subtree hashes.
///
/// Level `l` is an append-only list of hashes; its entry `i` is the root of the perfect
/// subtree over leaves `[i·2^l, (i+1)·2^l)`. Only [`MerkleTree`] should append to a store,
/// which keeps the invariant `len(l + 1) == len(l) / 2`.
pub trait HashStore {
    /// Number of hashes stored at `level` (at level 0: the number of leaves).
    fn len(&self, level: u8) -> u64;

    /// Whether the store holds no leaves.
    fn is_empty(&self) -> bool {
        self.len(0) == 0
    }

    /// The hash at `index` of `level`, if stored.
    fn get(&self, level: u8, index: u64) -> Option<Hash>;

    /// Appends `hash` to `level`, at index `len(level)`.
    fn push(&mut self, level: u8, hash: Hash);
}

/// A [`HashStore`] in memory: one vector per level.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MemoryStore {
    levels: Vec<Vec<Hash>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A million hashes are no use in a debug print; their counts are.
        let lens: Vec<usize> = self.levels.iter().map(Vec::len).collect();
        f.debug_struct("MemoryStore")
            .field("level_lens", &lens)
            .finish()
    }
}

impl HashStore for MemoryStore {
    fn len(&self, level: u8) -> u64 {
        self.levels
            .get(usize::from(level))
            .map_or(0, |l| l.len() as u64)
    }

    fn get(&self, level: u8, index: u64) -> Option<Hash> {
        let index = usize::try_from(index).ok()?;
        self.levels.get(usize::from(level))?.get(index).copied()
    }

    fn push(&mut self, level: u8, hash: Hash) {
        let level = usize::from(level);
        if self.levels.len() <= level {
            self.levels.resize_with(level + 1, Vec::new);
        }
        // In range: resized just above.
        if let Some(l) = self.levels.get_mut(level) {
            l.push(hash);
        }
    }
}

/// An append-only RFC 9162 Merkle tree over leaf hashes, able to give its root and proofs at
/// its current size and at every earlier size.
///
/// ```
/// use urna_log::{leaf_hash, MerkleTree};
///
/// let tree = MerkleTree::from_leaf_hashes((0u32..1000).map(|i| leaf_hash(&i.to_be_bytes())))?;
/// assert_eq!(tree.size(), 1000);
/// let proof = tree.inclusion_proof(123, 500)?;
/// urna_log::verify_inclusion(123, 500, &leaf_hash(&123u32.to_be_bytes()), &proof, &tree.root_at(500)?)?;
/// # Ok::<(), urna_log::LogError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MerkleTree<S = MemoryStore> {
    store: S,
}

impl MerkleTree<MemoryStore> {
    /// An empty tree in memory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a tree in memory from its leaf hashes, in log order.
    pub fn from_leaf_hashes<I>(leaf_hashes: I) -> Result<Self, LogError>
    where
        I: IntoIterator<Item = Hash>,
    {
        let mut tree = Self::new();
        for h in leaf_hashes {
            tree.append(h)?;
        }
        Ok(tree)
    }
}

impl<S: HashStore> MerkleTree<S> {
    /// A tree over an existing store, which must have been filled by a [`MerkleTree`].
    pub fn with_store(store: S) -> Self {
        Self { store }
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Gives the store back.
    pub fn into_store(self) -> S {
        self.store
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.store.len(0)
    }

    /// Appends a leaf hash (see [`crate::leaf_hash`]) and returns its index.
    ///
    /// Fails only with [`LogError::MissingNode`] if the store has lost a hash.
    pub fn append(&mut self, leaf_hash: Hash) -> Result<u64, LogError> {
        let index = self.size();
        self.store.push(0, leaf_hash);
        // Every time the new node is a right child, its parent's subtree is complete.
        let mut level: u8 = 0;
        let mut i = index;
        let mut right = leaf_hash;
        while i & 1 == 1 {
            let left = self.node(level, i - 1)?;
            right = node_hash(&left, &right);
            level += 1;
            i >>= 1;
            self.store.push(level, right);
        }
        Ok(index)
    }

    /// The leaf hash at `index`.
    pub fn leaf_hash(&self, index: u64) -> Result<Hash, LogError> {
        let size = self.size();
        if index >= size {
            return Err(LogError::IndexOutOfRange { index, size });
        }
        self.node(0, index)
    }

    /// The root at the current size.
    pub fn root(&self) -> Result<Hash, LogError> {
        self.root_at(self.size())
    }

    /// The root of the tree formed by the first `size` leaves (`PROTOCOL 11.1`).
    pub fn root_at(&self, size: u64) -> Result<Hash, LogError> {
        self.check_size(size)?;
        if size == 0 {
            return Ok(crate::EMPTY_ROOT);
        }
        self.range_hash(0, size)
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves
    /// (RFC 9162 §2.1.3.1, `PROTOCOL 11.2`), ordered from the leaf up.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(size)?;
        if index >= size {
            return Err(LogError::IndexOutOfRange { index, size });
        }
        // PATH(m, D[lo:hi]), unrolled from the root down; the siblings come out root
        // first and are reversed at the end.
        let mut path = Vec::with_capacity(crate::inclusion_proof_len(index, size)?);
        let (mut lo, mut hi) = (0, size);
        while hi - lo > 1 {
            let k = split_point(hi - lo);
            if index - lo < k {
                path.push(self.range_hash(lo + k, hi)?);
                hi = lo + k;
            } else {
                path.push(self.range_hash(lo, lo + k)?);
                lo += k;
            }
        }
        path.reverse();
        Ok(path)
    }

    /// The consistency proof between the trees of the first `size1` and `size2` leaves
    /// (RFC 9162 §2.1.4.1, `PROTOCOL 11.3`); empty if `size1` is 0 or equals `size2`.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(size2)?;
        let len = crate::consistency_proof_len(size1, size2)?;
        if len == 0 {
            return Ok(Vec::new());
        }
        // SUBPROOF(m, D[lo:hi], b), unrolled from the root down.
        let mut proof = Vec::with_capacity(len);
        let (mut lo, mut hi, mut whole_old_tree) = (0, size2, true);
        loop {
            if size1 == hi {
                if !whole_old_tree {
                    proof.push(self.range_hash(lo, hi)?);
                }
                break;
            }
            let k = split_point(hi - lo);
            if size1 - lo <= k {
                proof.push(self.range_hash(lo + k, hi)?);
                hi = lo + k;
            } else {
                proof.push(self.range_hash(lo, lo + k)?);
                lo += k;
                whole_old_tree = false;
            }
        }
        proof.reverse();
        Ok(proof)
    }

    fn check_size(&self, size: u64) -> Result<(), LogError> {
        let current = self.size();
        if size > current {
            return Err(LogError::SizeOutOfRange {
                requested: size,
                current,
            });
        }
        Ok(())
    }

    fn node(&self, level: u8, index: u64) -> Result<Hash, LogError> {
        self.store
            .get(level, index)
            .ok_or(LogError::MissingNode { level, index })
    }

    /// MTH(D[lo:hi]) for `lo < hi <= size` (`PROTOCOL 11.1`).
    ///
    /// A perfect, aligned range is one stored node. Otherwise the range is split at the
    /// RFC's `k` and the right part recomputed; for the ranges that the RFC's proofs use
    /// (`lo` a multiple of a power of two at least `hi - lo`), the left part is then always
    /// one stored node, so the cost is one read per one-bit of `hi - lo`.
    fn range_hash(&self, lo: u64, hi: u64) -> Result<Hash, LogError> {
        let n = hi.saturating_sub(lo);
        if n == 0 {
            // Never asked for; the empty range hashes like the empty tree.
            return Ok(crate::EMPTY_ROOT);
        }
        if n.is_power_of_two() && lo.is_multiple_of(n) {
            let level = n.trailing_zeros() as u8;
            return self.node(level, lo >> level);
        }
        let k = split_point(n);
        let left = self.range_hash(lo, lo + k)?;
        let right = self.range_hash(lo + k, hi)?;
        Ok(node_hash(&left, &right))
    }
}
