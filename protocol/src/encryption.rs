//! Trustee encryption keys and the authenticated encryption of DKG shares
//! (PROTOCOL §7.1, §7.3, §7.5).
//!
//! # Why Ristretto255 and not X25519
//!
//! A share complaint (PROTOCOL §7.5) must be *publicly* verifiable: anyone must be able to
//! tell, from the board alone, whether the dealer sent a bad share. The recipient therefore
//! reveals the Diffie-Hellman value of that one share together with a proof that it is the
//! correct one. Such a proof is a Chaum-Pedersen proof of equal discrete logarithms, which
//! needs a prime-order group; X25519 only exposes Montgomery u-coordinates of a curve with
//! cofactor 8, so it has no such proof. A trustee's encryption key is therefore a
//! Ristretto255 key pair `(y, Y = y·G)`, and the share encryption is hashed ElGamal
//! (DHIES) over Ristretto255 with ChaCha20-Poly1305.
//!
//! # Construction (PROTOCOL §7.3)
//!
//! To send the scalar share `σ` from dealer `i` to recipient `j` with key `Y_j`:
//!
//! 1. pick a fresh ephemeral scalar `e ≠ 0`, publish `E = e·G`;
//! 2. `K = e·Y_j` (the recipient computes `K = y_j·E`);
//! 3. `key = SHA-256(KDF_DOMAIN ‖ manifest_hash ‖ u32 i ‖ u32 j ‖ Y_j ‖ E ‖ K)`
//!    (every field fixed-width, so the concatenation is unambiguous);
//! 4. `ct ‖ tag = ChaCha20-Poly1305(key, nonce = 0^12, aad, σ as 32 bytes LE)` where
//!    `aad = AAD_DOMAIN ‖ manifest_hash ‖ u32 i ‖ u32 j ‖ Y_j ‖ E`.
//!
//! The all-zero nonce is safe because every key is used for exactly one message: the key
//! depends on the fresh ephemeral `E`.
//!
//! # Complaint reveal (PROTOCOL §7.5)
//!
//! The recipient publishes `K` and a [`DleqProof`] that `log_G Y_j = log_E K`. Anyone can
//! then derive the key, open the ciphertext and check the share. Soundness: the proof shows
//! `K` is *the* Diffie-Hellman value (special soundness of Chaum-Pedersen), and `K`
//! determines the key, so a complainer can neither make a good share look bad nor a bad
//! one look good. Revealing `K` discloses only this one share (each share has its own `E`)
//! and nothing about `y_j` (the proof is zero-knowledge), so the recipient's other shares
//! stay private.
//!
//! # Implementation details
//!
//! The KDF is a single SHA-256 over fixed-width fields rather than HKDF: `K` is a uniform
//! group element under DDH and we need one 32-byte key, so a hash in the random-oracle
//! model is the textbook hashed-ElGamal KDF. Decryption is constant-time up to the AEAD
//! check; opening with a revealed `K` is public and need not be.

use core::fmt;
use core::hash::{Hash, Hasher};

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, VartimeMultiscalarMul};
use merlin::Transcript;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::{DecodeError, Error, VerificationError};
use crate::group::{random_nonzero_scalar, G};
use crate::transcript::TranscriptProtocol;

/// Domain prefix of the share-key derivation (PROTOCOL §7.3 step 3).
pub const KDF_DOMAIN: &[u8] = b"urna/v1/dkg-share/key";
/// Domain prefix of the share AEAD's associated data (PROTOCOL §7.3 step 4).
pub const AAD_DOMAIN: &[u8] = b"urna/v1/dkg-share/aad";

/// Bytes of an encrypted share body: the 32-byte scalar plus the 16-byte Poly1305 tag.
pub const SHARE_CIPHERTEXT_LEN: usize = 48;

/// A trustee's public encryption key `Y = y·G` (a Ristretto255 point, never the identity),
/// as named in the manifest.
#[derive(Clone, Copy)]
pub struct EncryptionPublicKey {
    point: RistrettoPoint,
    compressed: CompressedRistretto,
}

impl EncryptionPublicKey {
    /// Decodes 32 bytes: a canonical Ristretto255 encoding that is not the identity
    /// (the identity would make every shared secret public).
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, DecodeError> {
        let compressed = CompressedRistretto(*bytes);
        let point = compressed.decompress().ok_or(DecodeError::InvalidPoint {
            what: "encryption public key",
        })?;
        Self::from_point(point)
    }

    /// From a point; rejects the identity.
    pub fn from_point(point: RistrettoPoint) -> Result<Self, DecodeError> {
        if point == RistrettoPoint::identity() {
            return Err(DecodeError::IdentityPoint {
                what: "encryption public key",
            });
        }
        Ok(Self {
            point,
            compressed: point.compress(),
        })
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.compressed.to_bytes()
    }

    /// The point `Y`.
    pub fn point(&self) -> &RistrettoPoint {
        &self.point
    }
}

impl PartialEq for EncryptionPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.compressed == other.compressed
    }
}

impl Eq for EncryptionPublicKey {}

impl Hash for EncryptionPublicKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.compressed.as_bytes().hash(state);
    }
}

impl fmt::Debug for EncryptionPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptionPublicKey({})", hex::encode(self.to_bytes()))
    }
}

impl Encode for EncryptionPublicKey {
    fn encode(&self, w: &mut Writer) {
        w.compressed(&self.compressed);
    }
}

impl Decode for EncryptionPublicKey {
    const MIN_ENCODED_LEN: usize = 32;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::from_bytes(&r.array()?)
    }
}

/// A trustee's secret encryption key `y` (zeroized on drop, redacted `Debug`).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct EncryptionSecretKey {
    y: Scalar,
}

impl EncryptionSecretKey {
    /// A fresh non-zero key from the caller's RNG.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self {
            y: random_nonzero_scalar(rng),
        }
    }

    /// From 32 bytes: a canonical, non-zero scalar.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, DecodeError> {
        let y = Option::<Scalar>::from(Scalar::from_canonical_bytes(*bytes)).ok_or(
            DecodeError::NonCanonicalScalar {
                what: "encryption secret key",
            },
        )?;
        if y == Scalar::ZERO {
            return Err(DecodeError::InvalidValue {
                what: "encryption secret key",
                reason: "zero",
            });
        }
        Ok(Self { y })
    }

    /// The secret scalar `y`: handle with care.
    pub fn expose_secret(&self) -> &Scalar {
        &self.y
    }

    /// The public key `Y = y·G`.
    pub fn public_key(&self) -> EncryptionPublicKey {
        let point = self.y * G;
        EncryptionPublicKey {
            point,
            compressed: point.compress(),
        }
    }
}

impl fmt::Debug for EncryptionSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EncryptionSecretKey")
            .field(&"<redacted>")
            .finish()
    }
}

/// Who sends a share to whom, in which election: bound into the key derivation, the
/// AEAD's associated data and the complaint proof (PROTOCOL §7.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShareContext {
    /// Hash of the election manifest.
    pub manifest_hash: [u8; 32],
    /// The dealer's trustee index (1-based).
    pub dealer: u32,
    /// The recipient's trustee index (1-based).
    pub recipient: u32,
}

impl ShareContext {
    fn fields(
        &self,
        recipient_key: &EncryptionPublicKey,
        ephemeral: &CompressedRistretto,
    ) -> Writer {
        let mut w = Writer::new();
        w.fixed(&self.manifest_hash);
        w.u32(self.dealer);
        w.u32(self.recipient);
        w.compressed(&recipient_key.compressed);
        w.compressed(ephemeral);
        w
    }

    fn key(
        &self,
        recipient_key: &EncryptionPublicKey,
        ephemeral: &CompressedRistretto,
        shared: &RistrettoPoint,
    ) -> Zeroizing<[u8; 32]> {
        let mut h = Sha256::new();
        h.update(KDF_DOMAIN);
        h.update(self.fields(recipient_key, ephemeral).as_bytes());
        h.update(shared.compress().as_bytes());
        Zeroizing::new(h.finalize().into())
    }

    fn aad(&self, recipient_key: &EncryptionPublicKey, ephemeral: &CompressedRistretto) -> Writer {
        let mut w = Writer::new();
        w.fixed(AAD_DOMAIN);
        w.fixed(self.fields(recipient_key, ephemeral).as_bytes());
        w
    }
}

/// A share encrypted to one recipient: the ephemeral point `E` and the 48-byte
/// ChaCha20-Poly1305 ciphertext with its tag (PROTOCOL §7.3).
///
/// Encoding: `E` (32 bytes, not the identity) ‖ 48 bytes; 80 bytes in all.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EncryptedShare {
    ephemeral: CompressedRistretto,
    ephemeral_point: RistrettoPoint,
    ciphertext: [u8; SHARE_CIPHERTEXT_LEN],
}

impl fmt::Debug for EncryptedShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedShare")
            .field("ephemeral", &hex::encode(self.ephemeral.as_bytes()))
            .field("ciphertext_len", &SHARE_CIPHERTEXT_LEN)
            .finish()
    }
}

impl EncryptedShare {
    /// Encrypts `share` for `recipient_key` (PROTOCOL §7.3).
    pub fn encrypt(
        ctx: &ShareContext,
        recipient_key: &EncryptionPublicKey,
        share: &Scalar,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, Error> {
        let e = Zeroizing::new(random_nonzero_scalar(rng));
        let ephemeral_point = *e * G;
        let ephemeral = ephemeral_point.compress();
        let shared = *e * recipient_key.point;
        let key = ctx.key(recipient_key, &ephemeral, &shared);
        let aad = ctx.aad(recipient_key, &ephemeral);
        let mut buf = Zeroizing::new(share.to_bytes());
        let cipher = ChaCha20Poly1305::new(key.as_ref().into());
        let tag = cipher
            .encrypt_in_place_detached(&[0u8; 12].into(), aad.as_bytes(), buf.as_mut())
            .map_err(|_| Error::InvalidArgument("share encryption failed".into()))?;
        let mut ciphertext = [0u8; SHARE_CIPHERTEXT_LEN];
        ciphertext[..32].copy_from_slice(buf.as_ref());
        ciphertext[32..].copy_from_slice(&tag);
        Ok(Self {
            ephemeral,
            ephemeral_point,
            ciphertext,
        })
    }

    /// The ephemeral point `E`.
    pub fn ephemeral(&self) -> &RistrettoPoint {
        &self.ephemeral_point
    }

    /// The recipient's Diffie-Hellman value `K = y·E`: secret until revealed in a complaint.
    pub fn shared_secret(&self, secret_key: &EncryptionSecretKey) -> RistrettoPoint {
        secret_key.y * self.ephemeral_point
    }

    /// Decrypts with the recipient's secret key. `None` if the tag does not verify or the
    /// plaintext is not a canonical scalar.
    pub fn decrypt(
        &self,
        ctx: &ShareContext,
        secret_key: &EncryptionSecretKey,
    ) -> Option<Zeroizing<Scalar>> {
        let shared = Zeroizing::new(self.shared_secret(secret_key));
        self.open(ctx, &secret_key.public_key(), &shared)
    }

    /// Opens the ciphertext with a (revealed) shared secret `K` (PROTOCOL §7.5). `None`
    /// if the tag does not verify or the plaintext is not a canonical scalar.
    pub fn open(
        &self,
        ctx: &ShareContext,
        recipient_key: &EncryptionPublicKey,
        shared: &RistrettoPoint,
    ) -> Option<Zeroizing<Scalar>> {
        let key = ctx.key(recipient_key, &self.ephemeral, shared);
        let aad = ctx.aad(recipient_key, &self.ephemeral);
        let mut buf = Zeroizing::new([0u8; 32]);
        buf.copy_from_slice(&self.ciphertext[..32]);
        let cipher = ChaCha20Poly1305::new(key.as_ref().into());
        cipher
            .decrypt_in_place_detached(
                &[0u8; 12].into(),
                aad.as_bytes(),
                buf.as_mut(),
                self.ciphertext[32..].into(),
            )
            .ok()?;
        Option::<Scalar>::from(Scalar::from_canonical_bytes(*buf)).map(Zeroizing::new)
    }

    /// Flips one bit of the ciphertext body (tests of tamper detection).
    #[doc(hidden)]
    pub fn tamper_ciphertext(&mut self, bit: usize) {
        let i = (bit / 8) % SHARE_CIPHERTEXT_LEN;
        self.ciphertext[i] ^= 1 << (bit % 8);
    }
}

impl Encode for EncryptedShare {
    fn encode(&self, w: &mut Writer) {
        w.compressed(&self.ephemeral);
        w.fixed(&self.ciphertext);
    }
}

impl Decode for EncryptedShare {
    const MIN_ENCODED_LEN: usize = 32 + SHARE_CIPHERTEXT_LEN;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let ephemeral_point = r.nonidentity_point("share ephemeral key")?;
        Ok(Self {
            ephemeral: ephemeral_point.compress(),
            ephemeral_point,
            ciphertext: r.array()?,
        })
    }
}

/// Chaum-Pedersen proof that two discrete logarithms are equal, in the batch-friendly
/// form (commitments and response): `log_G X = log_A D` (PROTOCOL §7.5, §8.3).
///
/// It proves a *decryption factor* correct: for a complaint `X = Y_j`, `A = E`, `D = K`;
/// for a tally decryption share `X = H_j`, `A = α`, `D = D_j`.
///
/// # Construction
///
/// Prover knows `x` with `X = x·G` and `D = x·A`.
///
/// * Commit: random `w`; `T_G = w·G`, `T_A = w·A`.
/// * Challenge: the transcript absorbs, in order, `A` (label `dleq-A`), `X` (`dleq-X`),
///   `D` (`dleq-D`), `T_G` (`dleq-TG`), `T_A` (`dleq-TA`); then `c` is drawn
///   (`dleq-c`). The caller absorbs the domain separator and statement context before.
/// * Response: `z = w + c·x`.
/// * Verify: `z·G = T_G + c·X` and `z·A = T_A + c·D`.
///
/// # Implementation details
///
/// 96 bytes: `T_G ‖ T_A ‖ z`. Proving uses constant-time scalar multiplication;
/// verification is variable-time (public data). Because the proof carries its
/// commitments, many proofs verify with one multiscalar multiplication
/// ([`DleqProof::verify_batch`]).
///
/// # Example
///
/// ```
/// use curve25519_dalek::scalar::Scalar;
/// use merlin::Transcript;
/// use urna_protocol::encryption::DleqProof;
/// use urna_protocol::group::{generator, G};
/// # use rand_chacha::rand_core::SeedableRng;
/// let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1); // tests only: seeded RNG
/// let x = Scalar::from(7u64);
/// let a = generator(b"example");
/// let proof = DleqProof::prove(&mut Transcript::new(b"ex"), &mut rng, &x, &a, &(x * G), &(x * a));
/// assert!(proof.check(&mut Transcript::new(b"ex"), &a, &(x * G), &(x * a)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DleqProof {
    t_g: RistrettoPoint,
    t_a: RistrettoPoint,
    z: Scalar,
}

/// One statement and proof for [`DleqProof::verify_batch`]: `(A, X, D, proof, challenge)`.
#[derive(Clone, Copy, Debug)]
pub struct DleqInstance<'a> {
    /// The second base `A`.
    pub base: &'a RistrettoPoint,
    /// The public key `X = x·G`.
    pub public: &'a RistrettoPoint,
    /// The factor `D = x·A`.
    pub factor: &'a RistrettoPoint,
    /// The proof.
    pub proof: &'a DleqProof,
    /// The challenge the proof's transcript produced (see [`DleqProof::challenge`]).
    pub challenge: Scalar,
}

impl DleqProof {
    /// Proves `log_G X = log_A D = x`. The caller has already absorbed its domain
    /// separator and the statement's context into `transcript`.
    pub fn prove(
        transcript: &mut Transcript,
        rng: &mut impl CryptoRngCore,
        x: &Scalar,
        base: &RistrettoPoint,
        public: &RistrettoPoint,
        factor: &RistrettoPoint,
    ) -> Self {
        let w = Zeroizing::new(random_nonzero_scalar(rng));
        let t_g = *w * G;
        let t_a = *w * base;
        let partial = Self {
            t_g,
            t_a,
            z: Scalar::ZERO,
        };
        let c = partial.challenge(transcript, base, public, factor);
        Self {
            t_g,
            t_a,
            z: *w + c * x,
        }
    }

    /// Absorbs the statement and commitments and draws the challenge `c`.
    pub fn challenge(
        &self,
        transcript: &mut Transcript,
        base: &RistrettoPoint,
        public: &RistrettoPoint,
        factor: &RistrettoPoint,
    ) -> Scalar {
        transcript.append_point(b"dleq-A", base);
        transcript.append_point(b"dleq-X", public);
        transcript.append_point(b"dleq-D", factor);
        transcript.append_point(b"dleq-TG", &self.t_g);
        transcript.append_point(b"dleq-TA", &self.t_a);
        transcript.challenge_scalar(b"dleq-c")
    }

    /// Checks the proof: `z·G = T_G + c·X` and `z·A = T_A + c·D`. Callers turn `false`
    /// into the [`VerificationError`] that names their check (see [`Self::verify`]).
    #[must_use]
    pub fn check(
        &self,
        transcript: &mut Transcript,
        base: &RistrettoPoint,
        public: &RistrettoPoint,
        factor: &RistrettoPoint,
    ) -> bool {
        let c = self.challenge(transcript, base, public, factor);
        let lhs_g = RistrettoPoint::vartime_double_scalar_mul_basepoint(&-c, public, &self.z);
        let lhs_a = RistrettoPoint::vartime_multiscalar_mul([self.z, -c], [*base, *factor]);
        lhs_g == self.t_g && lhs_a == self.t_a
    }

    /// [`Self::check`], returning `err` on failure.
    pub fn verify(
        &self,
        transcript: &mut Transcript,
        base: &RistrettoPoint,
        public: &RistrettoPoint,
        factor: &RistrettoPoint,
        err: impl FnOnce() -> VerificationError,
    ) -> Result<(), VerificationError> {
        if self.check(transcript, base, public, factor) {
            Ok(())
        } else {
            Err(err())
        }
    }

    /// Checks many proofs at once (challenges already drawn from their transcripts).
    ///
    /// With weights `ρ_i, ρ'_i` derived by hashing every instance (so they are fixed only
    /// after all proofs are), checks
    /// `Σ ρ_i (z_i·G − T_G,i − c_i·X_i) + ρ'_i (z_i·A_i − T_A,i − c_i·D_i) = 0`
    /// with one multiscalar multiplication. `true` means every proof verifies except with
    /// probability about `2^-250`; on `false` callers re-check one by one to name the
    /// failing proof.
    #[must_use]
    pub fn verify_batch(instances: &[DleqInstance<'_>]) -> bool {
        if instances.is_empty() {
            return true;
        }
        let mut weights = Transcript::new(b"urna/v1/dleq-batch");
        for inst in instances {
            weights.append_point(b"A", inst.base);
            weights.append_point(b"X", inst.public);
            weights.append_point(b"D", inst.factor);
            weights.append_point(b"TG", &inst.proof.t_g);
            weights.append_point(b"TA", &inst.proof.t_a);
            weights.append_scalar(b"z", &inst.proof.z);
            weights.append_scalar(b"c", &inst.challenge);
        }
        let mut scalars = alloc::vec::Vec::with_capacity(1 + 6 * instances.len());
        let mut points = alloc::vec::Vec::with_capacity(1 + 6 * instances.len());
        let mut g_coeff = Scalar::ZERO;
        for inst in instances {
            let rho = weights.challenge_scalar(b"rho");
            let rho2 = weights.challenge_scalar(b"rho2");
            let (z, c) = (inst.proof.z, inst.challenge);
            g_coeff += rho * z;
            scalars.extend_from_slice(&[-rho, -(rho * c), rho2 * z, -rho2, -(rho2 * c)]);
            points.extend_from_slice(&[
                inst.proof.t_g,
                *inst.public,
                *inst.base,
                inst.proof.t_a,
                *inst.factor,
            ]);
        }
        scalars.push(g_coeff);
        points.push(G);
        RistrettoPoint::vartime_multiscalar_mul(scalars, points) == RistrettoPoint::identity()
    }
}

impl Encode for DleqProof {
    fn encode(&self, w: &mut Writer) {
        w.point(&self.t_g);
        w.point(&self.t_a);
        w.scalar(&self.z);
    }
}

impl Decode for DleqProof {
    const MIN_ENCODED_LEN: usize = 96;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            t_g: r.point("dleq commitment T_G")?,
            t_a: r.point("dleq commitment T_A")?,
            z: r.scalar("dleq response")?,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn ctx() -> ShareContext {
        ShareContext {
            manifest_hash: [7; 32],
            dealer: 1,
            recipient: 2,
        }
    }

    #[test]
    fn share_round_trip_and_context_binding() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let sk = EncryptionSecretKey::generate(&mut rng);
        let pk = sk.public_key();
        let share = Scalar::from(12345u64);
        let enc = EncryptedShare::encrypt(&ctx(), &pk, &share, &mut rng).unwrap();
        assert_eq!(enc.decrypt(&ctx(), &sk).map(|s| *s), Some(share));
        let mut other = ctx();
        other.dealer = 3;
        assert!(enc.decrypt(&other, &sk).is_none());
        let mut other = ctx();
        other.manifest_hash[0] ^= 1;
        assert!(enc.decrypt(&other, &sk).is_none());
        let sk2 = EncryptionSecretKey::generate(&mut rng);
        assert!(enc.decrypt(&ctx(), &sk2).is_none());
        for bit in [0, 100, 255, 256, 383] {
            let mut bad = enc;
            bad.tamper_ciphertext(bit);
            assert!(bad.decrypt(&ctx(), &sk).is_none(), "bit {bit}");
        }
        let bytes = enc.encoded();
        assert_eq!(bytes.len(), 80);
        assert_eq!(EncryptedShare::decode(&mut Reader::new(&bytes)), Ok(enc));
    }

    #[test]
    fn keys_decode_and_debug_is_redacted() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let sk = EncryptionSecretKey::generate(&mut rng);
        let pk = sk.public_key();
        assert_eq!(EncryptionPublicKey::from_bytes(&pk.to_bytes()), Ok(pk));
        assert!(EncryptionPublicKey::from_bytes(&[0; 32]).is_err());
        assert!(EncryptionPublicKey::from_bytes(&[0xff; 32]).is_err());
        let dbg = format!("{sk:?}");
        assert!(!dbg.contains(&hex::encode(sk.expose_secret().as_bytes())));
        assert!(dbg.contains("redacted"));
        let again = EncryptionSecretKey::from_bytes(&sk.expose_secret().to_bytes()).unwrap();
        assert_eq!(again.public_key(), pk);
        assert!(EncryptionSecretKey::from_bytes(&[0; 32]).is_err());
    }

    #[test]
    fn dleq_proof_and_batch() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let x = random_nonzero_scalar(&mut rng);
        let a = crate::group::generator(b"dleq-test");
        let (pubk, d) = (x * G, x * a);
        let proof = DleqProof::prove(&mut Transcript::new(b"t"), &mut rng, &x, &a, &pubk, &d);
        assert!(proof.check(&mut Transcript::new(b"t"), &a, &pubk, &d));
        assert!(!proof.check(&mut Transcript::new(b"u"), &a, &pubk, &d));
        assert!(!proof.check(&mut Transcript::new(b"t"), &a, &pubk, &(d + G)));
        let c = proof.challenge(&mut Transcript::new(b"t"), &a, &pubk, &d);
        let good = DleqInstance {
            base: &a,
            public: &pubk,
            factor: &d,
            proof: &proof,
            challenge: c,
        };
        assert!(DleqProof::verify_batch(&[good, good]));
        let wrong = d + G;
        let bad = DleqInstance {
            factor: &wrong,
            ..good
        };
        assert!(!DleqProof::verify_batch(&[good, bad]));
        let bytes = proof.encoded();
        assert_eq!(DleqProof::decode(&mut Reader::new(&bytes)), Ok(proof));
    }
}
