//! Bounded discrete logarithm by baby-step giant-step (PROTOCOL 8.5).
//!
//! # Construction
//!
//! To find `m ∈ [0, N]` with `m·G = M`, fix a stride `s ≥ 1` (by default
//! `s = ⌈√(N + 1)⌉`) and write `m = i·s + j` with `0 ≤ j < s`, `0 ≤ i ≤ ⌊N / s⌋`.
//!
//! * Baby steps (the table, built once): `j·G` for `j ∈ [0, s)`.
//! * Giant steps: `Q_i = M − i·s·G` for `i = 0, 1, …`; if `Q_i = j·G` is in the table,
//!   the answer is `i·s + j`, accepted only if it is `≤ N`.
//!
//! Cost: `s` table entries plus at most `⌊N/s⌋ + 1` giant steps per target; with `K`
//! targets sharing one table, `s ≈ √(K·(N + 1))` minimises `s + K·N/s`.
//!
//! # Implementation details
//!
//! Both sides compare `compress(2·P)` rather than `compress(P)`: doubling is a bijection
//! of the prime-order group, and Ristretto's batched "double and compress" shares one
//! field inversion among many points, which makes table building and giant steps several
//! times faster than compressing one point at a time. The table is a vector of
//! `(32-byte encoding, j)` sorted by encoding and searched by bisection (no hashing, no
//! `std`). All of this is variable-time: the inputs (aggregates) are public.
//!
//! # Example
//!
//! ```
//! use curve25519_dalek::scalar::Scalar;
//! use urna_protocol::group::G;
//! use urna_protocol::tally::DlogTable;
//!
//! let table = DlogTable::new(1_000);
//! assert_eq!(table.solve(&(Scalar::from(777u64) * G)), Some(777));
//! assert_eq!(table.solve(&(Scalar::from(1_001u64) * G)), None);
//! ```

use alloc::vec::Vec;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;

use crate::group::G;

/// Largest table (baby steps) a [`DlogTable`] will build: 2^22 entries, about 150 MiB.
pub const MAX_BABY_STEPS: u64 = 1 << 22;

/// Giant steps compressed per batch.
const GIANT_BATCH: usize = 64;

/// A precomputed baby-step table solving `m·G = M` for `m ∈ [0, max]`.
#[derive(Clone)]
pub struct DlogTable {
    max: u64,
    stride: u64,
    /// `(compress(2·j·G), j)` sorted by the encoding.
    baby: Vec<([u8; 32], u32)>,
    /// `−stride·G`.
    giant: RistrettoPoint,
}

impl core::fmt::Debug for DlogTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DlogTable")
            .field("max", &self.max)
            .field("stride", &self.stride)
            .finish()
    }
}

/// `⌈√x⌉` for `x ≥ 0`, exact in integers.
fn ceil_sqrt(x: u128) -> u128 {
    if x == 0 {
        return 0;
    }
    // Newton's method from above converges to ⌊√x⌋.
    let mut r = x;
    let mut next = r.div_ceil(2);
    while next < r {
        r = next;
        next = (r + x / r) / 2;
    }
    if r * r < x {
        r + 1
    } else {
        r
    }
}

impl DlogTable {
    /// A table for `m ∈ [0, max]` with stride `⌈√(max + 1)⌉` (one target at a time).
    pub fn new(max: u64) -> Self {
        Self::for_targets(max, 1)
    }

    /// A table for `m ∈ [0, max]` sized for `targets` solves sharing it:
    /// stride `⌈√(targets·(max + 1))⌉`, capped at [`MAX_BABY_STEPS`] and at `max + 1`.
    pub fn for_targets(max: u64, targets: usize) -> Self {
        let want = ceil_sqrt((max as u128 + 1) * (targets.max(1) as u128));
        let stride = want.clamp(1, (MAX_BABY_STEPS as u128).min(max as u128 + 1));
        // stride ≤ MAX_BABY_STEPS < 2^32.
        Self::with_stride(max, stride as u64)
    }

    /// A table with an explicit stride (number of baby steps), clamped to
    /// `[1, MAX_BABY_STEPS]`.
    pub fn with_stride(max: u64, stride: u64) -> Self {
        let stride = stride.clamp(1, MAX_BABY_STEPS);
        let mut points = Vec::with_capacity(stride as usize);
        let mut p = RistrettoPoint::identity();
        for _ in 0..stride {
            points.push(p);
            p += G;
        }
        let compressed = RistrettoPoint::double_and_compress_batch(&points);
        let mut baby: Vec<([u8; 32], u32)> = compressed
            .into_iter()
            .enumerate()
            .map(|(j, c)| (c.to_bytes(), j as u32))
            .collect();
        baby.sort_unstable_by_key(|e| e.0);
        Self {
            max,
            stride,
            baby,
            giant: -(Scalar::from(stride) * G),
        }
    }

    /// The largest solvable value `N`.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The stride `s` (number of baby steps).
    pub fn stride(&self) -> u64 {
        self.stride
    }

    fn lookup(&self, encoding: &[u8; 32]) -> Option<u64> {
        self.baby
            .binary_search_by(|(e, _)| e.cmp(encoding))
            .ok()
            .map(|k| u64::from(self.baby[k].1))
    }

    /// The `m ∈ [0, max]` with `m·G = target`, or `None` if there is none.
    pub fn solve(&self, target: &RistrettoPoint) -> Option<u64> {
        let giant_steps = self.max / self.stride + 1;
        let mut q = *target;
        let mut i = 0u64;
        let mut batch = Vec::with_capacity(GIANT_BATCH);
        while i < giant_steps {
            batch.clear();
            let first = i;
            while batch.len() < GIANT_BATCH && i < giant_steps {
                batch.push(q);
                q += self.giant;
                i += 1;
            }
            let compressed = RistrettoPoint::double_and_compress_batch(&batch);
            for (offset, c) in compressed.iter().enumerate() {
                if let Some(j) = self.lookup(c.as_bytes()) {
                    let m = (first + offset as u64)
                        .checked_mul(self.stride)?
                        .checked_add(j)?;
                    return (m <= self.max).then_some(m);
                }
            }
        }
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn ceil_sqrt_is_exact() {
        for x in 0u128..2000 {
            let r = ceil_sqrt(x);
            assert!(r * r >= x, "{x}");
            assert!(r == 0 || (r - 1) * (r - 1) < x, "{x}");
        }
        assert_eq!(ceil_sqrt(u64::MAX as u128 + 1), 1 << 32);
    }

    #[test]
    fn solves_every_value_in_range_and_nothing_beyond() {
        for max in [0u64, 1, 2, 3, 10, 99, 100] {
            for stride in [1, 2, 3, 7, 11, 200] {
                let t = DlogTable::with_stride(max, stride);
                for m in 0..=max + 3 {
                    let want = (m <= max).then_some(m);
                    assert_eq!(
                        t.solve(&(Scalar::from(m) * G)),
                        want,
                        "max {max} stride {stride} m {m}"
                    );
                }
            }
        }
        let t = DlogTable::new(50);
        assert_eq!(t.solve(&(-G)), None);
        assert_eq!(t.solve(&crate::group::generator(b"no dlog known")), None);
    }

    #[test]
    fn shared_table_sizes() {
        let t = DlogTable::for_targets(1_000_000, 5);
        assert_eq!(t.stride(), 2237);
        let t = DlogTable::for_targets(3, 100);
        assert_eq!(t.stride(), 4);
        assert_eq!(t.solve(&(Scalar::from(3u64) * G)), Some(3));
    }
}
