//! A streaming root builder: the RFC 9162 root of a log whose leaf hashes arrive one by
//! one, in `O(log n)` memory (`PROTOCOL 11.1`).
//!
//! A tree of `n` leaves splits, from the left, into perfect subtrees whose sizes are the
//! powers of two of `n`'s binary expansion, largest first (a *compact range* over
//! `[0, n)`). [`CompactRange`] keeps only the roots of those subtrees, at most 64.
//! Appending a leaf merges equal-sized neighbours like a binary counter's carry, and the
//! root of the whole tree is the right fold `node(s_0, node(s_1, … node(s_{k−2}, s_{k−1})))`,
//! which is RFC 9162's `MTH` because its split point `k` (the largest power of two below
//! `n`) is exactly the size of the first subtree.
//!
//! An auditor uses it to recompute a checkpoint's root from a complete download of the log,
//! which proves at once that every entry is included and that none is missing.
//!
//! ```
//! use urna_log::{leaf_hash, CompactRange, MerkleTree};
//!
//! let mut range = CompactRange::new();
//! let mut tree = MerkleTree::new();
//! for i in 0u32..37 {
//!     range.push(leaf_hash(&i.to_be_bytes()))?;
//!     tree.append(leaf_hash(&i.to_be_bytes()))?;
//! }
//! assert_eq!(range.size(), 37);
//! assert_eq!(range.root(), tree.root()?);
//! # Ok::<(), urna_log::LogError>(())
//! ```

use crate::hash::{node_hash, Hash, EMPTY_ROOT};
use crate::LogError;

/// The roots of the perfect subtrees covering leaves `[0, size)`, largest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactRange {
    size: u64,
    /// `stack[i]` is the root of the `i`-th subtree from the left; subtree sizes are the
    /// set bits of `size`, in decreasing order.
    stack: Vec<Hash>,
}

impl CompactRange {
    /// The range of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of leaves pushed.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends the next leaf hash (see [`crate::leaf_hash`]).
    ///
    /// Fails with [`LogError::SizeOutOfRange`] only once `2^64 − 1` leaves were pushed.
    pub fn push(&mut self, leaf_hash: Hash) -> Result<(), LogError> {
        let new_size = self.size.checked_add(1).ok_or(LogError::SizeOutOfRange {
            requested: u64::MAX,
            current: self.size,
        })?;
        // Each trailing one bit of the old size is a subtree the new leaf completes.
        let mut hash = leaf_hash;
        for _ in 0..self.size.trailing_ones() {
            // The stack holds one hash per set bit of `size`, so it is not empty here.
            let Some(left) = self.stack.pop() else {
                break;
            };
            hash = node_hash(&left, &hash);
        }
        self.stack.push(hash);
        self.size = new_size;
        Ok(())
    }

    /// The RFC 9162 root of the leaves pushed so far ([`EMPTY_ROOT`] for none).
    pub fn root(&self) -> Hash {
        let mut subtrees = self.stack.iter().rev();
        let Some(&last) = subtrees.next() else {
            return EMPTY_ROOT;
        };
        subtrees.fold(last, |right, left| node_hash(left, &right))
    }

    /// The subtree roots, largest subtree first (one per set bit of [`Self::size`]).
    pub fn subtree_roots(&self) -> &[Hash] {
        &self.stack
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{leaf_hash, MerkleTree};

    #[test]
    fn matches_merkle_tree_at_every_size() {
        let mut range = CompactRange::new();
        let mut tree = MerkleTree::new();
        assert_eq!(range.root(), EMPTY_ROOT);
        for i in 0u32..600 {
            let h = leaf_hash(&i.to_le_bytes());
            range.push(h).unwrap();
            tree.append(h).unwrap();
            assert_eq!(range.size(), tree.size());
            assert_eq!(range.root(), tree.root().unwrap(), "size {}", i + 1);
            assert_eq!(
                range.subtree_roots().len(),
                range.size().count_ones() as usize
            );
        }
    }

    #[test]
    fn one_leaf_root_is_its_leaf_hash() {
        let mut range = CompactRange::new();
        let h = leaf_hash(b"only");
        range.push(h).unwrap();
        assert_eq!(range.root(), h);
    }

    #[test]
    fn order_matters() {
        let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
        let mut ab = CompactRange::new();
        ab.push(a).unwrap();
        ab.push(b).unwrap();
        let mut ba = CompactRange::new();
        ba.push(b).unwrap();
        ba.push(a).unwrap();
        assert_ne!(ab.root(), ba.root());
        assert_eq!(ab.root(), node_hash(&a, &b));
    }
}
