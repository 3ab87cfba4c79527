//! A deliberately naive reference implementation of RFC 9162 §2.1, written straight from
//! the recursive definitions (MTH, PATH, SUBPROOF) over a slice of leaf hashes, to check
//! the crate's stored-subtree tree against. It recomputes everything: O(n) per call.

#![allow(dead_code)] // each test binary uses a different part of it

use urna_log::{node_hash, Hash, EMPTY_ROOT};

/// The largest power of two strictly smaller than `n` (n >= 2).
pub fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]) over leaf hashes.
pub fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => EMPTY_ROOT,
        1 => d[0],
        n => {
            let k = k_of(n);
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

/// PATH(m, D[n]).
pub fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = k_of(n);
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

/// SUBPROOF(m, D[n], b).
fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { Vec::new() } else { vec![mth(d)] };
    }
    let k = k_of(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

/// PROOF(m, D[n]); empty for m = 0 or m = n.
pub fn consistency(m: usize, d: &[Hash]) -> Vec<Hash> {
    if m == 0 || m == d.len() {
        return Vec::new();
    }
    subproof(m, d, true)
}

/// The directions an inclusion proof's hashes are combined in (true: sibling on the left),
/// read straight off the recursive PATH definition. Two (index, size) pairs with the same
/// shape accept the same proof for the same root, since the walk never sees the size
/// otherwise: the size is bound by the signed checkpoint, not by the proof.
pub fn path_shape(m: u64, n: u64) -> Vec<bool> {
    if n <= 1 {
        return Vec::new();
    }
    let k = k_of(n as usize) as u64;
    if m < k {
        let mut p = path_shape(m, k);
        p.push(false);
        p
    } else {
        let mut p = path_shape(m - k, n - k);
        p.push(true);
        p
    }
}

/// n distinct leaf hashes.
pub fn leaves(n: usize) -> Vec<Hash> {
    (0..n as u64)
        .map(|i| urna_log::leaf_hash(&i.to_le_bytes()))
        .collect()
}

/// `h` with bit `bit` (0..256) flipped.
pub fn flip(h: &Hash, bit: usize) -> Hash {
    let mut b = h.to_bytes();
    b[bit / 8] ^= 1 << (bit % 8);
    Hash::from_bytes(b)
}
