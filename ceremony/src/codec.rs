//! The canonical byte encoding of ceremony objects (PROTOCOL 14.7).
//!
//! Points are arkworks' compressed encodings (G1: 32 bytes, G2: 64 bytes), scalars 32
//! bytes little-endian; lengths are big-endian. Decoding checks every point (on the
//! curve, in the prime-order subgroup) and requires the re-encoding to equal the input,
//! so each object has exactly one encoding.

use ark_bn254::{Fr, G1Affine, G2Affine};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use rayon::prelude::*;

use crate::error::CeremonyError;
use crate::pok::KnowledgeProof;

/// G1 compressed size.
pub(crate) const G1_LEN: usize = 32;
/// G2 compressed size.
pub(crate) const G2_LEN: usize = 64;

/// Appends encodings to a byte vector.
pub(crate) struct Writer {
    pub(crate) out: Vec<u8>,
}

impl Writer {
    pub(crate) fn new() -> Self {
        Self { out: Vec::new() }
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.out.push(v);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    fn item(&mut self, x: &impl CanonicalSerialize) {
        // Serialising BN254 points and scalars into a Vec cannot fail.
        let _ = x.serialize_compressed(&mut self.out);
    }

    pub(crate) fn g1(&mut self, p: &G1Affine) {
        self.item(p);
    }

    pub(crate) fn g2(&mut self, p: &G2Affine) {
        self.item(p);
    }

    pub(crate) fn fr(&mut self, x: &Fr) {
        self.item(x);
    }

    pub(crate) fn g1s(&mut self, ps: &[G1Affine]) {
        self.out.reserve(ps.len() * G1_LEN);
        for p in ps {
            self.g1(p);
        }
    }

    pub(crate) fn g2s(&mut self, ps: &[G2Affine]) {
        self.out.reserve(ps.len() * G2_LEN);
        for p in ps {
            self.g2(p);
        }
    }

    pub(crate) fn pok(&mut self, p: &KnowledgeProof) {
        self.g1(&p.g1);
        self.g2(&p.g2);
        self.g1(&p.commitment);
        self.fr(&p.response);
    }
}

/// Reads encodings from a byte slice.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

fn decode_one<T: CanonicalDeserialize + CanonicalSerialize>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, CeremonyError> {
    let mut r = bytes;
    let x = T::deserialize_with_mode(&mut r, Compress::Yes, Validate::Yes)
        .map_err(|_| CeremonyError::InvalidEncoding { what })?;
    let mut again = Vec::with_capacity(bytes.len());
    x.serialize_compressed(&mut again)
        .map_err(|_| CeremonyError::InvalidEncoding { what })?;
    if !r.is_empty() || again != bytes {
        return Err(CeremonyError::InvalidEncoding { what });
    }
    Ok(x)
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], CeremonyError> {
        if self.rest.len() < n {
            return Err(CeremonyError::InvalidEncoding { what });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn array32(&mut self, what: &'static str) -> Result<[u8; 32], CeremonyError> {
        self.take(32, what)?
            .try_into()
            .map_err(|_| CeremonyError::InvalidEncoding { what })
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, CeremonyError> {
        Ok(self.take(1, what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, CeremonyError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, CeremonyError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn g1(&mut self, what: &'static str) -> Result<G1Affine, CeremonyError> {
        decode_one(self.take(G1_LEN, what)?, what)
    }

    pub(crate) fn g2(&mut self, what: &'static str) -> Result<G2Affine, CeremonyError> {
        decode_one(self.take(G2_LEN, what)?, what)
    }

    pub(crate) fn fr(&mut self, what: &'static str) -> Result<Fr, CeremonyError> {
        decode_one(self.take(32, what)?, what)
    }

    /// `count` G1 points, decoded and checked in parallel. The caller bounds `count`;
    /// the bytes are taken (and their length checked) before anything is allocated.
    pub(crate) fn g1s(
        &mut self,
        count: usize,
        what: &'static str,
    ) -> Result<Vec<G1Affine>, CeremonyError> {
        let len = count
            .checked_mul(G1_LEN)
            .ok_or(CeremonyError::InvalidEncoding { what })?;
        let bytes = self.take(len, what)?;
        bytes
            .par_chunks_exact(G1_LEN)
            .map(|c| decode_one(c, what))
            .collect()
    }

    /// `count` G2 points (see [`Reader::g1s`]).
    pub(crate) fn g2s(
        &mut self,
        count: usize,
        what: &'static str,
    ) -> Result<Vec<G2Affine>, CeremonyError> {
        let len = count
            .checked_mul(G2_LEN)
            .ok_or(CeremonyError::InvalidEncoding { what })?;
        let bytes = self.take(len, what)?;
        bytes
            .par_chunks_exact(G2_LEN)
            .map(|c| decode_one(c, what))
            .collect()
    }

    pub(crate) fn pok(&mut self) -> Result<KnowledgeProof, CeremonyError> {
        Ok(KnowledgeProof {
            g1: self.g1("proof of knowledge")?,
            g2: self.g2("proof of knowledge")?,
            commitment: self.g1("proof of knowledge")?,
            response: self.fr("proof of knowledge")?,
        })
    }

    pub(crate) fn finish(&self, what: &'static str) -> Result<(), CeremonyError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(CeremonyError::InvalidEncoding { what })
        }
    }
}
