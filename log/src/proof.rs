//! Checking inclusion proofs (RFC 9162 §2.1.3.2, `PROTOCOL 11.2`) and consistency proofs
//! (RFC 9162 §2.1.4.2, `PROTOCOL 11.3`).
//!
//! Proofs are made by [`crate::MerkleTree`]; this module only checks them, so that a client
//! holding nothing but a signed checkpoint can depend on it alone.
//!
//! Every function here is total: any index, any sizes up to `u64::MAX` and any proof give
//! either `Ok` or a named [`LogError`], never a panic. Before walking a proof, the checker
//! compares its length with the exact length the index and sizes call for, so a proof with a
//! hash too many or too few is rejected as [`LogError::BadProofLength`] whatever its hashes.

use crate::hash::{node_hash, Hash, EMPTY_ROOT};
use crate::LogError;

/// Number of significant bits of `x` (0 for 0).
fn bit_len(x: u64) -> u32 {
    64 - x.leading_zeros()
}

/// `(inner, border)` of the audit path of leaf `index` in a tree of `size` leaves,
/// `index < size`: the path climbs `inner` levels inside the perfect subtree that holds both
/// the leaf and the last leaf, then picks up `border` left siblings on the tree's right
/// border.
fn decompose(index: u64, size: u64) -> (u32, u32) {
    let inner = bit_len(index ^ (size - 1));
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner, border)
}

/// The exact number of hashes in the inclusion proof of leaf `index` in a tree of `size`
/// leaves (`PROTOCOL 11.2`).
///
/// Fails with [`LogError::IndexOutOfRange`] unless `index < size`.
pub fn inclusion_proof_len(index: u64, size: u64) -> Result<usize, LogError> {
    if index >= size {
        return Err(LogError::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose(index, size);
    // Both are at most 64, so the sum fits any usize.
    Ok((inner + border) as usize)
}

/// The exact number of hashes in the consistency proof between trees of `size1` and
/// `size2` leaves (`PROTOCOL 11.3`): zero when `size1` is 0 or equals `size2`.
///
/// Fails with [`LogError::SizesReversed`] if `size1 > size2`.
pub fn consistency_proof_len(size1: u64, size2: u64) -> Result<usize, LogError> {
    if size1 > size2 {
        return Err(LogError::SizesReversed { size1, size2 });
    }
    if size1 == 0 || size1 == size2 {
        return Ok(0);
    }
    // The proof is the inclusion proof of the last leaf of the old tree, minus the levels
    // inside the largest perfect subtree that ends at size1 (whose root the verifier
    // already knows), plus that subtree's root unless it is the whole old tree.
    let (inner, border) = decompose(size1 - 1, size2);
    let shift = size1.trailing_zeros();
    let inner = inner.saturating_sub(shift);
    let seed = u32::from(size1 != 1u64 << shift);
    Ok((seed + inner + border) as usize)
}

fn check_len(expected: usize, proof: &[Hash]) -> Result<(), LogError> {
    if proof.len() == expected {
        Ok(())
    } else {
        Err(LogError::BadProofLength {
            expected,
            actual: proof.len(),
        })
    }
}

/// The root that an inclusion proof leads to from `leaf_hash` at `index` in a tree of
/// `size` leaves (RFC 9162 §2.1.3.2, `PROTOCOL 11.2`).
///
/// Callers that hold the expected root should use [`verify_inclusion`].
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
) -> Result<Hash, LogError> {
    // PROTOCOL 11.2 step 1: index < size and the proof has exactly the expected length.
    check_len(inclusion_proof_len(index, size)?, proof)?;

    // PROTOCOL 11.2 step 2: walk up from the leaf.
    let mut fnode = index;
    let mut snode = size - 1;
    let mut r = *leaf_hash;
    for p in proof {
        if snode == 0 {
            // Unreachable after the length check; kept so the walk is safe on its own.
            return Err(LogError::InclusionProofMismatch);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    // PROTOCOL 11.2 step 3: the walk must end at the root level.
    if snode != 0 {
        return Err(LogError::InclusionProofMismatch);
    }
    Ok(r)
}

/// Checks that `proof` shows `leaf_hash` at `index` in the tree of `size` leaves whose root
/// is `root` (RFC 9162 §2.1.3.2, `PROTOCOL 11.2`).
///
/// The proof binds the leaf and its index to the root; the size is bound to the root only
/// by the checkpoint that signs both, so take `size` and `root` from one verified
/// [`crate::Checkpoint`].
///
/// # Errors
/// [`LogError::IndexOutOfRange`] unless `index < size`, [`LogError::BadProofLength`] if the
/// proof does not hold exactly [`inclusion_proof_len`] hashes, and
/// [`LogError::InclusionProofMismatch`] if it leads to another root.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), LogError> {
    let computed = root_from_inclusion_proof(index, size, leaf_hash, proof)?;
    if computed == *root {
        Ok(())
    } else {
        Err(LogError::InclusionProofMismatch)
    }
}

/// Checks that the tree of `size2` leaves with root `root2` extends the tree of `size1`
/// leaves with root `root1` (RFC 9162 §2.1.4.2, `PROTOCOL 11.3`).
///
/// Special cases, all with an empty proof: equal sizes need equal roots, and `size1 = 0`
/// needs `root1` to be the empty-tree root [`EMPTY_ROOT`] (every tree extends the empty one).
///
/// # Errors
/// [`LogError::SizesReversed`] if `size1 > size2`, [`LogError::BadProofLength`] if the proof
/// does not hold exactly [`consistency_proof_len`] hashes, and
/// [`LogError::ConsistencyProofMismatch`] if it does not reproduce both roots.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash,
    root2: &Hash,
    proof: &[Hash],
) -> Result<(), LogError> {
    // PROTOCOL 11.3 step 1: size1 <= size2 and the proof has exactly the expected length.
    check_len(consistency_proof_len(size1, size2)?, proof)?;

    // PROTOCOL 11.3 step 2: the trivial cases.
    if size1 == size2 {
        return if root1 == root2 {
            Ok(())
        } else {
            Err(LogError::ConsistencyProofMismatch)
        };
    }
    if size1 == 0 {
        return if *root1 == EMPTY_ROOT {
            Ok(())
        } else {
            Err(LogError::ConsistencyProofMismatch)
        };
    }

    // PROTOCOL 11.3 step 3: 0 < size1 < size2. If size1 is a power of two the old root is
    // the seed of the walk, otherwise the proof's first hash is.
    let (seed, rest) = if size1.is_power_of_two() {
        (*root1, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(LogError::ConsistencyProofMismatch),
        }
    };
    let mut fnode = size1 - 1;
    let mut snode = size2 - 1;
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let mut fr = seed;
    let mut sr = seed;
    for c in rest {
        if snode == 0 {
            return Err(LogError::ConsistencyProofMismatch);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }

    // PROTOCOL 11.3 step 4: both roots reproduced and the walk ended at the root level.
    if snode == 0 && fr == *root1 && sr == *root2 {
        Ok(())
    } else {
        Err(LogError::ConsistencyProofMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_at_the_extremes_do_not_panic() {
        assert_eq!(inclusion_proof_len(0, u64::MAX), Ok(64));
        assert_eq!(inclusion_proof_len(u64::MAX - 1, u64::MAX), Ok(63));
        assert!(inclusion_proof_len(u64::MAX, u64::MAX).is_err());
        assert!(consistency_proof_len(u64::MAX, u64::MAX - 1).is_err());
        assert_eq!(consistency_proof_len(u64::MAX, u64::MAX), Ok(0));
        assert!(consistency_proof_len(1, u64::MAX).is_ok());
        assert!(consistency_proof_len(u64::MAX - 1, u64::MAX).is_ok());
        assert!(consistency_proof_len(1 << 63, u64::MAX).is_ok());
    }

    #[test]
    fn out_of_range_index() {
        let h = Hash::default();
        assert_eq!(
            verify_inclusion(0, 0, &h, &[], &h),
            Err(LogError::IndexOutOfRange { index: 0, size: 0 })
        );
        assert_eq!(
            verify_inclusion(u64::MAX, u64::MAX, &h, &[], &h),
            Err(LogError::IndexOutOfRange {
                index: u64::MAX,
                size: u64::MAX
            })
        );
    }
}
