//! Hashing helpers and the batched same-ratio checks (PROTOCOL 14.1, 14.3.4).
//!
//! `same_ratio(P, Q; R, S)` is the statement `e(P, Q) = e(R, S)`: the pairs `(P, R)` and
//! `(S, Q)` have the same discrete-log ratio. A vector of such statements sharing `Q`
//! and `S` is checked at once by drawing independent 128-bit weights `rho_i` after the
//! points are fixed and testing `e(sum rho_i P_i, Q) = e(sum rho_i R_i, S)`: if any one
//! statement is false, the combined one holds with probability at most `2^-128` over the
//! weights (the failing exponent differences form a nonzero linear form in the `rho_i`).

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{PrimeField, Zero};
use ark_serialize::CanonicalSerialize;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256, Sha512};

/// Domain-separation prefix of every hash in the ceremony.
pub(crate) const DOMAIN: &[u8] = b"urna-ceremony/v1/";

/// SHA-256 over `DOMAIN || label || parts...`.
pub(crate) fn hash(label: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(label);
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// A scalar from SHA-512 over `DOMAIN || label || parts...`, reduced modulo `r`
/// (512 bits reduced: bias below `2^-250`).
pub(crate) fn hash_to_scalar(label: &[u8], parts: &[&[u8]]) -> Fr {
    let mut h = Sha512::new();
    h.update(DOMAIN);
    h.update(label);
    for p in parts {
        h.update(p);
    }
    let wide: [u8; 64] = h.finalize().into();
    Fr::from_le_bytes_mod_order(&wide)
}

/// The compressed encoding of a point or scalar (for hashing).
pub(crate) fn compressed(x: &impl CanonicalSerialize) -> Vec<u8> {
    let mut out = Vec::with_capacity(x.compressed_size());
    // Writing to a Vec cannot fail for the BN254 types used here; an error would leave
    // the bytes short, which only changes the hash.
    let _ = x.serialize_compressed(&mut out);
    out
}

/// `len` independent uniform 128-bit weights.
fn weights(len: usize, rng: &mut impl CryptoRngCore) -> Vec<Fr> {
    (0..len)
        .map(|_| {
            let mut b = [0u8; 16];
            rng.fill_bytes(&mut b);
            Fr::from(u128::from_le_bytes(b))
        })
        .collect()
}

/// `e(p, q) == e(r, s)`.
pub(crate) fn pairing_eq(p: G1Affine, q: G2Affine, r: G1Affine, s: G2Affine) -> bool {
    let neg_r = (-r.into_group()).into_affine();
    Bn254::multi_pairing([p, neg_r], [q, s]).is_zero()
}

/// For all `i`: `e(p[i], q) == e(r[i], s)`, batched with random 128-bit weights.
pub(crate) fn same_ratio_g1(
    p: &[G1Affine],
    q: G2Affine,
    r: &[G1Affine],
    s: G2Affine,
    rng: &mut impl CryptoRngCore,
) -> bool {
    if p.len() != r.len() {
        return false;
    }
    if p.is_empty() {
        return true;
    }
    let rho = weights(p.len(), rng);
    let (Ok(lp), Ok(lr)) = (G1Projective::msm(p, &rho), G1Projective::msm(r, &rho)) else {
        return false;
    };
    pairing_eq(lp.into_affine(), q, lr.into_affine(), s)
}

/// For all `i`: `e(p, q[i]) == e(r, s[i])`, batched with random 128-bit weights.
pub(crate) fn same_ratio_g2(
    p: G1Affine,
    q: &[G2Affine],
    r: G1Affine,
    s: &[G2Affine],
    rng: &mut impl CryptoRngCore,
) -> bool {
    if q.len() != s.len() {
        return false;
    }
    if q.is_empty() {
        return true;
    }
    let rho = weights(q.len(), rng);
    let (Ok(lq), Ok(ls)) = (G2Projective::msm(q, &rho), G2Projective::msm(s, &rho)) else {
        return false;
    };
    pairing_eq(p, lq.into_affine(), r, ls.into_affine())
}

/// The generators of G1 and G2.
pub(crate) fn g1() -> G1Affine {
    G1Affine::generator()
}

/// The generator of G2.
pub(crate) fn g2() -> G2Affine {
    G2Affine::generator()
}
