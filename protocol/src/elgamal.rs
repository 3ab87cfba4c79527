//! Exponential ElGamal over Ristretto255 (PROTOCOL §5).
//!
//! A message `m` is encoded in the exponent, `m·G`, so ciphertexts add homomorphically
//! and the tally is decrypted as a small discrete logarithm.
//!
//! # Construction
//!
//! * Election key: `h = s·G` for the trustees' shared secret `s` (PROTOCOL 5.1); `h` is
//!   never the identity.
//! * Encryption of `m` with nonce `r` (PROTOCOL 5.2): `(α, β) = (r·G, m·G + r·h)`.
//! * Homomorphism (PROTOCOL 5.3): `(α₁, β₁) + (α₂, β₂) = (α₁ + α₂, β₁ + β₂)` encrypts
//!   `m₁ + m₂` with nonce `r₁ + r₂`; [`Ciphertext::zero`] `= (0, 0)` is the neutral
//!   element.
//! * Decryption (done in shares, PROTOCOL §8): `β − s·α = m·G`.
//!
//! # Implementation details
//!
//! A ciphertext is 64 bytes (two compressed points). Encryption is constant-time in
//! both `m` and `r` (fixed-base table multiplication for `G`, constant-time variable-base
//! multiplication for `h`). Nonces are [`Nonce`]s: zeroized on drop, redacted `Debug`.
//!
//! # Example
//!
//! ```
//! use urna_protocol::elgamal::{Ciphertext, ElectionPublicKey};
//! use urna_protocol::group::G;
//! use curve25519_dalek::scalar::Scalar;
//!
//! let s = Scalar::from(7u64);
//! let pk = ElectionPublicKey::from_point(s * G).unwrap();
//! let c1 = pk.encrypt(1, &Scalar::from(11u64));
//! let c2 = pk.encrypt(1, &Scalar::from(13u64));
//! let sum: Ciphertext = [c1, c2].into_iter().sum();
//! assert_eq!(sum.beta - s * sum.alpha, Scalar::from(2u64) * G);
//! ```

use core::fmt;
use core::iter::Sum;
use core::ops::{Add, AddAssign};

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use rand_core::CryptoRngCore;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::DecodeError;
use crate::group::random_scalar;

/// The election public key `h = s·G` (PROTOCOL 5.1); never the identity.
///
/// Keeps its compressed form too, so transcripts absorb it without re-compressing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ElectionPublicKey {
    point: RistrettoPoint,
    bytes: CompressedRistretto,
}

impl ElectionPublicKey {
    /// Wraps a point; rejects the identity (it would make every ciphertext reveal `m·G`).
    pub fn from_point(h: RistrettoPoint) -> Result<Self, DecodeError> {
        if h == RistrettoPoint::identity() {
            return Err(DecodeError::IdentityPoint {
                what: "election public key",
            });
        }
        Ok(Self {
            point: h,
            bytes: h.compress(),
        })
    }

    fn from_point_and_bytes(
        point: RistrettoPoint,
        bytes: CompressedRistretto,
    ) -> Result<Self, DecodeError> {
        if point == RistrettoPoint::identity() {
            return Err(DecodeError::IdentityPoint {
                what: "election public key",
            });
        }
        Ok(Self { point, bytes })
    }

    /// The point `h`.
    pub fn as_point(&self) -> &RistrettoPoint {
        &self.point
    }

    /// The compressed encoding of `h`.
    pub fn compressed(&self) -> &CompressedRistretto {
        &self.bytes
    }

    /// The 32-byte compressed encoding of `h`.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.bytes.to_bytes()
    }

    /// Encrypts `m` with the nonce `r`: `(r·G, m·G + r·h)` (PROTOCOL 5.2).
    ///
    /// Constant-time in `m` and `r`. The nonce must be uniformly random and used once;
    /// prefer [`ElectionPublicKey::encrypt_random`].
    pub fn encrypt(&self, m: u64, r: &Scalar) -> Ciphertext {
        let alpha = RISTRETTO_BASEPOINT_TABLE * r;
        let beta = RISTRETTO_BASEPOINT_TABLE * &Scalar::from(m) + self.point * r;
        Ciphertext { alpha, beta }
    }

    /// Encrypts `m` under a fresh nonce drawn from `rng`; returns the nonce for proofs
    /// and for a Benaloh audit.
    pub fn encrypt_random(&self, m: u64, rng: &mut impl CryptoRngCore) -> (Ciphertext, Nonce) {
        let r = Nonce(random_scalar(rng));
        (self.encrypt(m, &r.0), r)
    }
}

impl fmt::Debug for ElectionPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ElectionPublicKey({})", hex::encode(self.to_bytes()))
    }
}

impl Encode for ElectionPublicKey {
    fn encode(&self, w: &mut Writer) {
        w.compressed(&self.bytes);
    }
}

impl Decode for ElectionPublicKey {
    const MIN_ENCODED_LEN: usize = 32;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        // Ristretto decoding is canonical: the bytes read are the compression of `point`.
        let bytes = CompressedRistretto(r.array()?);
        let point = bytes.decompress().ok_or(DecodeError::InvalidPoint {
            what: "election public key",
        })?;
        Self::from_point_and_bytes(point, bytes)
    }
}

/// An exponential ElGamal ciphertext `(α, β) = (r·G, m·G + r·h)` (PROTOCOL 5.2).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ciphertext {
    /// `α = r·G`.
    pub alpha: RistrettoPoint,
    /// `β = m·G + r·h`.
    pub beta: RistrettoPoint,
}

impl Ciphertext {
    /// The encoded size in bytes.
    pub const ENCODED_LEN: usize = 64;

    /// `(0, 0)`: the neutral element of aggregation (an encryption of 0 with nonce 0).
    pub fn zero() -> Self {
        Self {
            alpha: RistrettoPoint::identity(),
            beta: RistrettoPoint::identity(),
        }
    }

    /// Both points compressed: `[α, β]`.
    pub fn compress(&self) -> [CompressedRistretto; 2] {
        [self.alpha.compress(), self.beta.compress()]
    }

    /// Re-encrypts `m` with `r` under `pk` and compares: checks an opening revealed by a
    /// Benaloh audit (PROTOCOL 6.8).
    pub fn opens_to(&self, pk: &ElectionPublicKey, m: u64, r: &Nonce) -> bool {
        pk.encrypt(m, r.expose_secret()) == *self
    }
}

impl fmt::Debug for Ciphertext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b] = self.compress();
        write!(
            f,
            "Ciphertext({}, {})",
            hex::encode(a.as_bytes()),
            hex::encode(b.as_bytes())
        )
    }
}

impl Add for Ciphertext {
    type Output = Ciphertext;
    fn add(self, rhs: Ciphertext) -> Ciphertext {
        Ciphertext {
            alpha: self.alpha + rhs.alpha,
            beta: self.beta + rhs.beta,
        }
    }
}

impl<'a> Add<&'a Ciphertext> for &'a Ciphertext {
    type Output = Ciphertext;
    fn add(self, rhs: &'a Ciphertext) -> Ciphertext {
        Ciphertext {
            alpha: self.alpha + rhs.alpha,
            beta: self.beta + rhs.beta,
        }
    }
}

impl AddAssign for Ciphertext {
    fn add_assign(&mut self, rhs: Ciphertext) {
        self.alpha += rhs.alpha;
        self.beta += rhs.beta;
    }
}

impl<'a> AddAssign<&'a Ciphertext> for Ciphertext {
    fn add_assign(&mut self, rhs: &'a Ciphertext) {
        self.alpha += rhs.alpha;
        self.beta += rhs.beta;
    }
}

impl Sum for Ciphertext {
    fn sum<I: Iterator<Item = Ciphertext>>(iter: I) -> Self {
        iter.fold(Ciphertext::zero(), |acc, c| acc + c)
    }
}

impl<'a> Sum<&'a Ciphertext> for Ciphertext {
    fn sum<I: Iterator<Item = &'a Ciphertext>>(iter: I) -> Self {
        iter.fold(Ciphertext::zero(), |acc, c| acc + *c)
    }
}

impl Encode for Ciphertext {
    fn encode(&self, w: &mut Writer) {
        w.point(&self.alpha);
        w.point(&self.beta);
    }
}

impl Decode for Ciphertext {
    const MIN_ENCODED_LEN: usize = Self::ENCODED_LEN;
    /// Both points must decompress. The identity is accepted (an aggregate may be
    /// `(0, 0)`); a ballot's option ciphertext with `α = 0` simply fails its proofs.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let alpha = r.point("ciphertext alpha")?;
        let beta = r.point("ciphertext beta")?;
        Ok(Self { alpha, beta })
    }
}

/// An encryption nonce `r`: secret, zeroized on drop, redacted `Debug`.
///
/// Revealing it (a Benaloh audit, PROTOCOL 6.8) reveals the vote, so only ballots that
/// are audited and never cast may have their nonces published.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Nonce(Scalar);

impl Nonce {
    /// Wraps a scalar (e.g. a nonce revealed by an audit).
    pub fn from_scalar(r: Scalar) -> Self {
        Self(r)
    }

    /// A fresh uniformly random nonce.
    pub fn random(rng: &mut impl CryptoRngCore) -> Self {
        Self(random_scalar(rng))
    }

    /// The secret scalar.
    pub fn expose_secret(&self) -> &Scalar {
        &self.0
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Nonce(<redacted>)")
    }
}

impl Encode for Nonce {
    fn encode(&self, w: &mut Writer) {
        w.scalar(&self.0);
    }
}

impl Decode for Nonce {
    const MIN_ENCODED_LEN: usize = 32;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(r.scalar("nonce")?))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests
mod tests {
    use super::*;
    use crate::group::G;
    use rand_chacha::rand_core::SeedableRng;

    fn keypair(rng: &mut rand_chacha::ChaCha20Rng) -> (Scalar, ElectionPublicKey) {
        let s = random_scalar(rng);
        (s, ElectionPublicKey::from_point(s * G).unwrap())
    }

    #[test]
    fn encrypt_decrypt_and_homomorphism() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        let (s, pk) = keypair(&mut rng);
        let mut acc = Ciphertext::zero();
        for m in [0u64, 1, 1, 0, 1] {
            let (c, _) = pk.encrypt_random(m, &mut rng);
            acc += c;
        }
        assert_eq!(acc.beta - s * acc.alpha, Scalar::from(3u64) * G);
    }

    #[test]
    fn opening_check() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(6);
        let (_, pk) = keypair(&mut rng);
        let (c, r) = pk.encrypt_random(1, &mut rng);
        assert!(c.opens_to(&pk, 1, &r));
        assert!(!c.opens_to(&pk, 0, &r));
        assert!(!c.opens_to(&pk, 1, &Nonce::from_scalar(Scalar::ONE)));
    }

    #[test]
    fn identity_key_rejected() {
        assert!(ElectionPublicKey::from_point(RistrettoPoint::identity()).is_err());
        assert!(ElectionPublicKey::decode(&mut Reader::new(&[0u8; 32])).is_err());
    }

    #[test]
    fn nonce_debug_is_redacted() {
        let n = Nonce::from_scalar(Scalar::from(42u64));
        assert_eq!(format!("{n:?}"), "Nonce(<redacted>)");
    }

    #[test]
    fn ciphertext_round_trip() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let (_, pk) = keypair(&mut rng);
        let (c, _) = pk.encrypt_random(1, &mut rng);
        let bytes = c.encoded();
        assert_eq!(bytes.len(), Ciphertext::ENCODED_LEN);
        let mut r = Reader::new(&bytes);
        assert_eq!(Ciphertext::decode(&mut r), Ok(c));
        assert!(r.finish().is_ok());
    }
}
