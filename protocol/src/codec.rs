//! The canonical byte encoding of every protocol object (PROTOCOL §2).
//!
//! One encoding, by construction: every value has exactly one byte string and the
//! decoder accepts nothing else.
//!
//! * unsigned integers are fixed-width big-endian (`u8`, `u16`, `u32`, `u64`);
//! * a `bool` is `0x00` or `0x01`, any other byte is rejected;
//! * a byte string or UTF-8 string is a `u32` length followed by the bytes, and the
//!   decoder is always told the largest length it accepts;
//! * a sequence is a `u32` count followed by the items, bounded the same way;
//! * an `Option` is `0x00`, or `0x01` followed by the value;
//! * a Ristretto255 point is its 32-byte compression, which must decompress;
//! * a Ristretto255 scalar is 32 bytes little-endian and must be below the group order;
//! * a BN254 scalar-field element is 32 bytes big-endian and must be below the modulus;
//! * a top-level object ([`Canonical`]) starts with the format version
//!   [`FORMAT_VERSION`] and its one-byte type tag, and must be followed by nothing.
//!
//! Because every variable-length part is length-prefixed and every top-level object is
//! tagged, two different objects never share an encoding (the Swiss Post 2022 class of
//! ambiguity), and hashing or signing the encoding binds the whole object.

use alloc::string::String;
use alloc::vec::Vec;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha256};

use crate::error::DecodeError;

/// Version byte that opens every top-level encoding.
pub const FORMAT_VERSION: u8 = 1;

/// Hard upper bound on any single decoded top-level object (16 MiB).
pub const MAX_OBJECT_BYTES: usize = 16 * 1024 * 1024;

/// Appends canonical encodings to a byte buffer.
#[derive(Default, Debug, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// The bytes written so far, borrowed.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// Two bytes, big-endian.
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Four bytes, big-endian.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Eight bytes, big-endian.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// `0x00` or `0x01`.
    pub fn bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }

    /// Bytes of a length fixed by the type (no prefix).
    pub fn fixed(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }

    /// A length-prefixed byte string.
    ///
    /// Lengths above `u32::MAX` cannot occur for objects below [`MAX_OBJECT_BYTES`];
    /// such a length is clamped, which the decoder then rejects.
    pub fn bytes(&mut self, v: &[u8]) {
        self.u32(u32::try_from(v.len()).unwrap_or(u32::MAX));
        self.buf.extend_from_slice(v);
    }

    /// A length-prefixed UTF-8 string.
    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }

    /// A compressed Ristretto255 point.
    pub fn point(&mut self, p: &RistrettoPoint) {
        self.buf.extend_from_slice(p.compress().as_bytes());
    }

    /// An already compressed Ristretto255 point.
    pub fn compressed(&mut self, p: &CompressedRistretto) {
        self.buf.extend_from_slice(p.as_bytes());
    }

    /// A Ristretto255 scalar (32 bytes little-endian, canonical).
    pub fn scalar(&mut self, s: &Scalar) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// A sequence: `u32` count, then each item.
    pub fn seq<T: Encode>(&mut self, items: &[T]) {
        self.u32(u32::try_from(items.len()).unwrap_or(u32::MAX));
        for item in items {
            item.encode(self);
        }
    }

    /// An optional value: `0x00`, or `0x01` and the value.
    pub fn option<T: Encode>(&mut self, v: Option<&T>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                v.encode(self);
            }
        }
    }

    /// Any encodable value.
    pub fn put<T: Encode + ?Sized>(&mut self, v: &T) {
        v.encode(self);
    }
}

/// Reads canonical encodings from a byte slice, rejecting anything non-canonical.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Fails unless every byte was read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { count }),
        }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let remaining = self.remaining();
        if n > remaining {
            return Err(DecodeError::UnexpectedEnd {
                needed: n,
                remaining,
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    /// Two bytes, big-endian.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// Four bytes, big-endian.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Eight bytes, big-endian.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// `0x00` or `0x01`; anything else is rejected.
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(DecodeError::InvalidBool(other)),
        }
    }

    /// A length-prefixed byte string of at most `max` bytes.
    pub fn bytes(&mut self, what: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(DecodeError::TooLong {
                what,
                max,
                actual: len,
            });
        }
        self.take(len)
    }

    /// A length-prefixed UTF-8 string of at most `max` bytes.
    pub fn str(&mut self, what: &'static str, max: usize) -> Result<String, DecodeError> {
        let raw = self.bytes(what, max)?;
        core::str::from_utf8(raw)
            .map(String::from)
            .map_err(|_| DecodeError::InvalidUtf8 { what })
    }

    /// A Ristretto255 point; bytes that do not decompress are rejected.
    /// The identity is accepted here; callers reject it where it is meaningless.
    pub fn point(&mut self, what: &'static str) -> Result<RistrettoPoint, DecodeError> {
        let bytes = self.array::<32>()?;
        CompressedRistretto(bytes)
            .decompress()
            .ok_or(DecodeError::InvalidPoint { what })
    }

    /// A Ristretto255 point that must not be the identity.
    pub fn nonidentity_point(&mut self, what: &'static str) -> Result<RistrettoPoint, DecodeError> {
        let p = self.point(what)?;
        if p == RistrettoPoint::default() {
            return Err(DecodeError::IdentityPoint { what });
        }
        Ok(p)
    }

    /// A canonical Ristretto255 scalar (below the group order).
    pub fn scalar(&mut self, what: &'static str) -> Result<Scalar, DecodeError> {
        let bytes = self.array::<32>()?;
        Option::<Scalar>::from(Scalar::from_canonical_bytes(bytes))
            .ok_or(DecodeError::NonCanonicalScalar { what })
    }

    /// A sequence of at most `max` items.
    ///
    /// The count is also checked against the bytes left (every item takes at least
    /// `min_item_bytes`), so a forged count never causes a large allocation.
    pub fn seq<T: Decode>(
        &mut self,
        what: &'static str,
        max: usize,
    ) -> Result<Vec<T>, DecodeError> {
        let count = self.u32()? as usize;
        if count > max {
            return Err(DecodeError::TooLong {
                what,
                max,
                actual: count,
            });
        }
        let min = T::MIN_ENCODED_LEN.max(1);
        if count.saturating_mul(min) > self.remaining() {
            return Err(DecodeError::UnexpectedEnd {
                needed: count.saturating_mul(min),
                remaining: self.remaining(),
            });
        }
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            out.push(T::decode(self)?);
        }
        Ok(out)
    }

    /// An optional value.
    pub fn option<T: Decode>(&mut self) -> Result<Option<T>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(T::decode(self)?)),
            other => Err(DecodeError::InvalidBool(other)),
        }
    }

    /// Any decodable value.
    pub fn get<T: Decode>(&mut self) -> Result<T, DecodeError> {
        T::decode(self)
    }
}

/// A value with a canonical encoding.
pub trait Encode {
    /// Appends the canonical encoding of `self`.
    fn encode(&self, w: &mut Writer);

    /// The canonical encoding of `self` alone (no version or tag).
    fn encoded(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode(&mut w);
        w.into_bytes()
    }
}

/// A value decodable from its canonical encoding.
pub trait Decode: Sized {
    /// Fewest bytes any encoding of this type takes (bounds pre-allocation).
    const MIN_ENCODED_LEN: usize = 1;

    /// Reads one value; rejects every non-canonical encoding.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

/// A top-level protocol object: versioned, tagged, and hashed by its encoding.
pub trait Canonical: Encode + Decode {
    /// The object's one-byte type tag (PROTOCOL §2, table of tags).
    const TAG: u8;
    /// Human name of the type, used in errors.
    const NAME: &'static str;

    /// `FORMAT_VERSION || TAG || encoding`.
    fn to_canonical_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(FORMAT_VERSION);
        w.u8(Self::TAG);
        self.encode(&mut w);
        w.into_bytes()
    }

    /// Decodes a whole top-level object: version, tag, body and nothing after it.
    fn from_canonical_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_OBJECT_BYTES {
            return Err(DecodeError::TooLong {
                what: Self::NAME,
                max: MAX_OBJECT_BYTES,
                actual: bytes.len(),
            });
        }
        let mut r = Reader::new(bytes);
        let version = r.u8()?;
        if version != FORMAT_VERSION {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        let tag = r.u8()?;
        if tag != Self::TAG {
            return Err(DecodeError::WrongTag {
                expected: Self::TAG,
                actual: tag,
            });
        }
        let value = Self::decode(&mut r)?;
        r.finish()?;
        Ok(value)
    }

    /// SHA-256 over the canonical bytes: the object's identity (e.g. the manifest hash).
    fn canonical_hash(&self) -> [u8; 32] {
        Sha256::digest(self.to_canonical_bytes()).into()
    }
}

impl Encode for RistrettoPoint {
    fn encode(&self, w: &mut Writer) {
        w.point(self);
    }
}

impl Decode for RistrettoPoint {
    const MIN_ENCODED_LEN: usize = 32;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.point("point")
    }
}

impl Encode for Scalar {
    fn encode(&self, w: &mut Writer) {
        w.scalar(self);
    }
}

impl Decode for Scalar {
    const MIN_ENCODED_LEN: usize = 32;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.scalar("scalar")
    }
}

impl Encode for u32 {
    fn encode(&self, w: &mut Writer) {
        w.u32(*self);
    }
}

impl Decode for u32 {
    const MIN_ENCODED_LEN: usize = 4;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u32()
    }
}

impl Encode for u64 {
    fn encode(&self, w: &mut Writer) {
        w.u64(*self);
    }
}

impl Decode for u64 {
    const MIN_ENCODED_LEN: usize = 8;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u64()
    }
}

impl<const N: usize> Encode for [u8; N] {
    fn encode(&self, w: &mut Writer) {
        w.fixed(self);
    }
}

impl<const N: usize> Decode for [u8; N] {
    const MIN_ENCODED_LEN: usize = N;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.array()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_big_endian_fixed_width() {
        let mut w = Writer::new();
        w.u8(1);
        w.u16(0x0203);
        w.u32(0x0405_0607);
        w.u64(0x0809_0a0b_0c0d_0e0f);
        assert_eq!(
            w.as_bytes(),
            &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
        );
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8().ok(), Some(1));
        assert_eq!(r.u16().ok(), Some(0x0203));
        assert_eq!(r.u32().ok(), Some(0x0405_0607));
        assert_eq!(r.u64().ok(), Some(0x0809_0a0b_0c0d_0e0f));
        assert!(r.finish().is_ok());
    }

    #[test]
    fn bool_rejects_other_bytes() {
        assert_eq!(Reader::new(&[2]).bool(), Err(DecodeError::InvalidBool(2)));
        assert_eq!(Reader::new(&[1]).bool(), Ok(true));
    }

    #[test]
    fn bytes_are_bounded_and_checked_against_input() {
        let mut w = Writer::new();
        w.bytes(b"hello");
        let b = w.into_bytes();
        assert_eq!(Reader::new(&b).bytes("x", 5), Ok(&b"hello"[..]));
        assert!(matches!(
            Reader::new(&b).bytes("x", 4),
            Err(DecodeError::TooLong {
                max: 4,
                actual: 5,
                ..
            })
        ));
        // A length that claims more than the input holds.
        let forged = [0xff, 0xff, 0xff, 0xff, 0];
        assert!(matches!(
            Reader::new(&forged).bytes("x", usize::MAX),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
    }

    #[test]
    fn seq_count_cannot_force_allocation() {
        let forged = [0x00, 0x10, 0x00, 0x00];
        assert!(matches!(
            Reader::new(&forged).seq::<Scalar>("s", 1 << 20),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
    }

    #[test]
    fn non_canonical_scalar_rejected() {
        // The group order l itself is not canonical.
        let l = Scalar::ZERO - Scalar::ONE;
        let mut bytes = l.to_bytes();
        bytes[0] = bytes[0].wrapping_add(1);
        assert!(matches!(
            Reader::new(&bytes).scalar("s"),
            Err(DecodeError::NonCanonicalScalar { .. })
        ));
        assert!(Reader::new(&[0xff; 32]).scalar("s").is_err());
    }

    #[test]
    fn invalid_point_rejected() {
        // 0xff.. is not a valid Ristretto encoding (not a field element below p).
        assert!(matches!(
            Reader::new(&[0xff; 32]).point("p"),
            Err(DecodeError::InvalidPoint { .. })
        ));
        // The identity decodes but `nonidentity_point` rejects it.
        assert!(Reader::new(&[0; 32]).point("p").is_ok());
        assert!(matches!(
            Reader::new(&[0; 32]).nonidentity_point("p"),
            Err(DecodeError::IdentityPoint { .. })
        ));
    }

    #[test]
    fn trailing_bytes_rejected() {
        let r = Reader::new(&[0]);
        assert_eq!(r.finish(), Err(DecodeError::TrailingBytes { count: 1 }));
    }
}
