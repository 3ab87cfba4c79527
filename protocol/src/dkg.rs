//! The trustees' key ceremony: a t-of-n Pedersen/Feldman distributed key generation over
//! Ristretto255 (PROTOCOL §7).
//!
//! # Construction
//!
//! Trustees are numbered `1..=n` in manifest order; `t` is the threshold.
//!
//! 1. **Deal** (PROTOCOL 7.2). Dealer `i` picks a random polynomial
//!    `f_i(x) = a_i0 + a_i1·x + … + a_i,t−1·x^(t−1)` and publishes a [`DealerMessage`]:
//!    the commitments `C_ik = a_ik·G`, a Schnorr proof of knowledge of each `a_ik`, and for
//!    every trustee `j` (itself included, so a dealer can recover its own share from the
//!    board) the share `f_i(j)` encrypted to `j`'s key (PROTOCOL 7.3).
//! 2. **Check** (PROTOCOL 7.4). Everyone checks every dealer message; recipient `j`
//!    decrypts `σ_ij = f_i(j)` and checks `σ_ij·G = Σ_k j^k·C_ik`.
//! 3. **Complain** (PROTOCOL 7.5). If the share does not decrypt or does not match, `j`
//!    publishes a [`Complaint`] that reveals the share's Diffie-Hellman value with a
//!    Chaum-Pedersen proof; anyone can re-open the share and see who is at fault.
//! 4. **Qualify** (PROTOCOL 7.6). The qualified set `Q` is every dealer with a valid
//!    message and no valid complaint against it; `|Q| ≥ t` is required. Then
//!    * election key `h = Σ_{i∈Q} C_i0`;
//!    * trustee `j`'s public share key `H_j = Σ_{i∈Q} Σ_k j^k·C_ik`;
//!    * trustee `j`'s secret share `s_j = Σ_{i∈Q} f_i(j)`, with `s_j·G = H_j`.
//!
//! The joint secret `s = Σ_{i∈Q} a_i0` is never assembled; any `t` of the `s_j`
//! interpolate it, so any `t` trustees can decrypt (PROTOCOL §8).
//!
//! # Why the disqualification rule is safe
//!
//! A complaint is valid only if the revealed share really is bad (see
//! [`crate::encryption`]), so an honest dealer can never be disqualified, and a dealer
//! that cheats any recipient is. Known limitation (Gennaro, Jarecki, Krawczyk, Rabin
//! 1999): a coalition can decide, after seeing the others' messages, whether its own
//! contribution is dropped (by sending itself a bad share), which biases `h` slightly.
//! For ElGamal encryption this bias does not help the adversary (Gennaro et al. 2003,
//! "Secure applications of Pedersen's distributed key generation protocol").
//!
//! # Implementation details
//!
//! Dealing uses constant-time arithmetic on secrets; the polynomial is zeroized on drop.
//! Checks on public data use variable-time multiscalar multiplication.
//!
//! # Example
//!
//! ```
//! use rand_chacha::rand_core::SeedableRng;
//! use urna_protocol::dkg::{DealerMessage, DkgContext, DkgOutcome};
//! use urna_protocol::encryption::EncryptionSecretKey;
//! use urna_protocol::group::G;
//!
//! let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7); // tests only: seeded RNG
//! let keys: Vec<_> = (0..3).map(|_| EncryptionSecretKey::generate(&mut rng)).collect();
//! let ctx = DkgContext::new([0; 32], 2, keys.iter().map(|k| k.public_key()).collect()).unwrap();
//! let messages: Vec<_> = (1..=3).map(|i| DealerMessage::deal(&ctx, i, &mut rng).unwrap()).collect();
//! let outcome = DkgOutcome::new(&ctx, &messages, &[]).unwrap();
//! let s2 = outcome.secret_share(&ctx, &messages, 2, &keys[1]).unwrap();
//! assert_eq!(s2.expose_secret() * G, outcome.public_share_key(2));
//! ```

use alloc::vec::Vec;
use core::fmt;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, VartimeMultiscalarMul};
use merlin::Transcript;
use rand_core::CryptoRngCore;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::codec::{Canonical, Decode, Encode, Reader, Writer};
use crate::elgamal::ElectionPublicKey;
use crate::encryption::{
    DleqProof, EncryptedShare, EncryptionPublicKey, EncryptionSecretKey, ShareContext,
};
use crate::error::{DecodeError, Error, VerificationError};
use crate::group::{random_nonzero_scalar, G};
use crate::manifest::Manifest;
use crate::transcript::{TranscriptProtocol, PROTOCOL_DOMAIN};

/// Type tag of a [`DealerMessage`] (PROTOCOL §2 tag table, 7.2).
pub const DEALER_MESSAGE_TAG: u8 = 0x10;
/// Type tag of a [`Complaint`] (PROTOCOL §2 tag table, 7.5).
pub const COMPLAINT_TAG: u8 = 0x11;

/// Most trustees an election may have (bounds decoding).
pub const MAX_TRUSTEES: usize = 255;

/// Transcript proof kind of a coefficient's Schnorr proof (PROTOCOL 7.2).
pub const COEFFICIENT_PROOF_KIND: &[u8] = b"dkg-coefficient";
/// Transcript proof kind of a complaint's Chaum-Pedersen proof (PROTOCOL 7.5).
pub const COMPLAINT_PROOF_KIND: &[u8] = b"dkg-complaint";

/// The public parameters of a key ceremony: manifest hash, threshold and the trustees'
/// encryption keys in index order (trustee `j` has key `encryption_keys[j − 1]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DkgContext {
    manifest_hash: [u8; 32],
    threshold: u32,
    encryption_keys: Vec<EncryptionPublicKey>,
}

impl DkgContext {
    /// Checks `1 ≤ t ≤ n ≤ MAX_TRUSTEES` and that no two trustees share a key.
    pub fn new(
        manifest_hash: [u8; 32],
        threshold: u32,
        encryption_keys: Vec<EncryptionPublicKey>,
    ) -> Result<Self, Error> {
        let n = encryption_keys.len();
        if n == 0 || n > MAX_TRUSTEES {
            return Err(Error::InvalidArgument(alloc::format!(
                "number of trustees {n} not in 1..={MAX_TRUSTEES}"
            )));
        }
        if threshold == 0 || threshold as usize > n {
            return Err(Error::InvalidArgument(alloc::format!(
                "threshold {threshold} not in 1..={n}"
            )));
        }
        for (a, key) in encryption_keys.iter().enumerate() {
            if encryption_keys[..a].contains(key) {
                return Err(Error::InvalidArgument(alloc::format!(
                    "trustees {} and {} share an encryption key",
                    encryption_keys[..a]
                        .iter()
                        .position(|k| k == key)
                        .unwrap_or(0)
                        + 1,
                    a + 1
                )));
            }
        }
        Ok(Self {
            manifest_hash,
            threshold,
            encryption_keys,
        })
    }

    /// The ceremony of `manifest`: its hash, threshold and trustees' encryption keys.
    pub fn from_manifest(manifest: &Manifest) -> Result<Self, Error> {
        Self::new(
            manifest.manifest_hash(),
            manifest.threshold,
            manifest.trustees.iter().map(|t| t.encryption_key).collect(),
        )
    }

    /// The manifest hash every transcript and share key is bound to.
    pub fn manifest_hash(&self) -> &[u8; 32] {
        &self.manifest_hash
    }

    /// The threshold `t`.
    pub fn threshold(&self) -> u32 {
        self.threshold
    }

    /// The number of trustees `n`.
    pub fn n(&self) -> u32 {
        // `new` bounds n by MAX_TRUSTEES.
        self.encryption_keys.len() as u32
    }

    /// Trustee `index`'s encryption key (`index` is 1-based).
    pub fn encryption_key(&self, index: u32) -> Option<&EncryptionPublicKey> {
        let i = (index as usize).checked_sub(1)?;
        self.encryption_keys.get(i)
    }

    fn is_trustee(&self, index: u32) -> bool {
        (1..=self.n()).contains(&index)
    }

    fn share_context(&self, dealer: u32, recipient: u32) -> ShareContext {
        ShareContext {
            manifest_hash: self.manifest_hash,
            dealer,
            recipient,
        }
    }
}

/// A dealer's secret polynomial `f(x) = Σ_k a_k·x^k` (zeroized on drop, redacted `Debug`).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Polynomial {
    coefficients: Vec<Scalar>,
}

impl Polynomial {
    /// A random polynomial of degree `t − 1` with non-zero coefficients.
    pub fn random(threshold: u32, rng: &mut impl CryptoRngCore) -> Self {
        Self {
            coefficients: (0..threshold).map(|_| random_nonzero_scalar(rng)).collect(),
        }
    }

    /// The coefficients `a_0, …, a_{t−1}`: secret, handle with care.
    pub fn expose_secret(&self) -> &[Scalar] {
        &self.coefficients
    }

    /// `f(x)` by Horner's rule (constant-time in the coefficients).
    pub fn evaluate(&self, x: u32) -> Zeroizing<Scalar> {
        let x = Scalar::from(x);
        let mut acc = Zeroizing::new(Scalar::ZERO);
        for a in self.coefficients.iter().rev() {
            *acc = *acc * x + a;
        }
        acc
    }
}

impl fmt::Debug for Polynomial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Polynomial(degree {}, <redacted>)",
            self.coefficients.len().saturating_sub(1)
        )
    }
}

/// Schnorr proof of knowledge of `a` with `C = a·G`, batch-friendly form `(R, z)`
/// (PROTOCOL 7.2).
///
/// # Construction
///
/// * Commit: random `w`, `R = w·G`.
/// * Challenge: the transcript absorbs `C` (label `schnorr-C`) then `R` (`schnorr-R`);
///   `c` is drawn (`schnorr-c`). The caller absorbs the context first.
/// * Response: `z = w + c·a`.
/// * Verify: `z·G = R + c·C`.
///
/// # Implementation details
///
/// 64 bytes `R ‖ z`. Proving is constant-time; verifying is variable-time.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SchnorrProof {
    r: RistrettoPoint,
    z: Scalar,
}

impl SchnorrProof {
    /// Proves knowledge of `a` with `commitment = a·G`.
    pub fn prove(
        transcript: &mut Transcript,
        rng: &mut impl CryptoRngCore,
        a: &Scalar,
        commitment: &RistrettoPoint,
    ) -> Self {
        let w = Zeroizing::new(random_nonzero_scalar(rng));
        let r = *w * G;
        transcript.append_point(b"schnorr-C", commitment);
        transcript.append_point(b"schnorr-R", &r);
        let c = transcript.challenge_scalar(b"schnorr-c");
        Self { r, z: *w + c * a }
    }

    /// Checks `z·G = R + c·C`.
    #[must_use]
    pub fn check(&self, transcript: &mut Transcript, commitment: &RistrettoPoint) -> bool {
        transcript.append_point(b"schnorr-C", commitment);
        transcript.append_point(b"schnorr-R", &self.r);
        let c = transcript.challenge_scalar(b"schnorr-c");
        RistrettoPoint::vartime_double_scalar_mul_basepoint(&-c, commitment, &self.z) == self.r
    }
}

impl Encode for SchnorrProof {
    fn encode(&self, w: &mut Writer) {
        w.point(&self.r);
        w.scalar(&self.z);
    }
}

impl Decode for SchnorrProof {
    const MIN_ENCODED_LEN: usize = 64;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            r: r.point("schnorr commitment")?,
            z: r.scalar("schnorr response")?,
        })
    }
}

/// One coefficient's commitment `C_k = a_k·G` (never the identity) and its proof.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CoefficientCommitment {
    /// `C_k`.
    pub commitment: RistrettoPoint,
    /// Proof of knowledge of `a_k`.
    pub proof: SchnorrProof,
}

impl Encode for CoefficientCommitment {
    fn encode(&self, w: &mut Writer) {
        w.point(&self.commitment);
        self.proof.encode(w);
    }
}

impl Decode for CoefficientCommitment {
    const MIN_ENCODED_LEN: usize = 96;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            commitment: r.nonidentity_point("coefficient commitment")?,
            proof: r.get()?,
        })
    }
}

/// The coefficient proof's transcript (PROTOCOL 7.2): domain `dkg-coefficient`,
/// manifest hash, dealer index, coefficient index; the proof then absorbs `C_ik`, `R`.
fn coefficient_transcript(manifest_hash: &[u8; 32], dealer: u32, k: usize) -> Transcript {
    let mut t = Transcript::new(PROTOCOL_DOMAIN);
    t.domain_sep(COEFFICIENT_PROOF_KIND);
    t.append_bytes(b"manifest-hash", manifest_hash);
    t.append_u64_be(b"dealer", u64::from(dealer));
    t.append_u64_be(b"coefficient", k as u64);
    t
}

/// A dealer's public message (PROTOCOL 7.2): its index, the `t` coefficient commitments
/// with proofs, and one encrypted share per trustee `1..=n` in index order.
///
/// Canonical encoding (tag [`DEALER_MESSAGE_TAG`]): `u32 dealer ‖ seq(commitment ‖ proof)
/// ‖ seq(encrypted share)`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DealerMessage {
    dealer: u32,
    coefficients: Vec<CoefficientCommitment>,
    shares: Vec<EncryptedShare>,
}

impl DealerMessage {
    /// Deals as trustee `dealer` with a fresh random polynomial (PROTOCOL 7.2, 7.3).
    pub fn deal(
        ctx: &DkgContext,
        dealer: u32,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, Error> {
        let polynomial = Polynomial::random(ctx.threshold, rng);
        Self::deal_polynomial(ctx, dealer, &polynomial, rng)
    }

    /// Deals a given polynomial (its degree must be `t − 1`).
    pub fn deal_polynomial(
        ctx: &DkgContext,
        dealer: u32,
        polynomial: &Polynomial,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, Error> {
        if !ctx.is_trustee(dealer) {
            return Err(Error::InvalidArgument(alloc::format!(
                "dealer {dealer} is not a trustee"
            )));
        }
        if polynomial.coefficients.len() != ctx.threshold as usize {
            return Err(Error::InvalidArgument(
                "polynomial degree is not t - 1".into(),
            ));
        }
        let coefficients = polynomial
            .coefficients
            .iter()
            .enumerate()
            .map(|(k, a)| {
                let commitment = a * G;
                let mut t = coefficient_transcript(&ctx.manifest_hash, dealer, k);
                let proof = SchnorrProof::prove(&mut t, rng, a, &commitment);
                CoefficientCommitment { commitment, proof }
            })
            .collect();
        let mut shares = Vec::with_capacity(ctx.encryption_keys.len());
        for (recipient, key) in (1..=ctx.n()).zip(&ctx.encryption_keys) {
            let share = polynomial.evaluate(recipient);
            let sctx = ctx.share_context(dealer, recipient);
            shares.push(EncryptedShare::encrypt(&sctx, key, &share, rng)?);
        }
        Ok(Self {
            dealer,
            coefficients,
            shares,
        })
    }

    /// The dealer's index.
    pub fn dealer(&self) -> u32 {
        self.dealer
    }

    /// The commitments `C_0, …, C_{t−1}` with their proofs.
    pub fn coefficients(&self) -> &[CoefficientCommitment] {
        &self.coefficients
    }

    /// The share encrypted to trustee `recipient` (1-based).
    pub fn encrypted_share(&self, recipient: u32) -> Option<&EncryptedShare> {
        self.shares.get((recipient as usize).checked_sub(1)?)
    }

    /// Mutable access for tamper tests.
    #[doc(hidden)]
    pub fn parts_mut(
        &mut self,
    ) -> (
        &mut u32,
        &mut Vec<CoefficientCommitment>,
        &mut Vec<EncryptedShare>,
    ) {
        (&mut self.dealer, &mut self.coefficients, &mut self.shares)
    }

    /// `Σ_k j^k·C_k`: what `f(j)·G` must be (PROTOCOL 7.4).
    pub fn expected_share_point(&self, recipient: u32) -> RistrettoPoint {
        let j = Scalar::from(recipient);
        let mut power = Scalar::ONE;
        let mut scalars = Vec::with_capacity(self.coefficients.len());
        for _ in &self.coefficients {
            scalars.push(power);
            power *= j;
        }
        RistrettoPoint::vartime_multiscalar_mul(
            scalars,
            self.coefficients.iter().map(|c| c.commitment),
        )
    }

    /// Checks the public message (PROTOCOL 7.4): the dealer is a trustee, there are `t`
    /// commitments and `n` encrypted shares, and every proof of knowledge verifies.
    pub fn verify(&self, ctx: &DkgContext) -> Result<(), VerificationError> {
        // PROTOCOL 7.4 (a)
        if !ctx.is_trustee(self.dealer) {
            return Err(VerificationError::UnknownTrustee { index: self.dealer });
        }
        // PROTOCOL 7.4 (b)
        if self.coefficients.len() != ctx.threshold as usize {
            return Err(VerificationError::CommitmentCount {
                trustee: self.dealer,
                expected: ctx.threshold as usize,
                actual: self.coefficients.len(),
            });
        }
        // PROTOCOL 7.4 (c)
        if self.shares.len() != ctx.encryption_keys.len() {
            return Err(VerificationError::ShareCount {
                trustee: self.dealer,
                expected: ctx.encryption_keys.len(),
                actual: self.shares.len(),
            });
        }
        // PROTOCOL 7.4 (d)
        for (k, c) in self.coefficients.iter().enumerate() {
            let mut t = coefficient_transcript(&ctx.manifest_hash, self.dealer, k);
            if !c.proof.check(&mut t, &c.commitment) {
                return Err(VerificationError::CoefficientProof {
                    trustee: self.dealer,
                    coefficient: k,
                });
            }
        }
        Ok(())
    }

    /// Recipient's side (PROTOCOL 7.4 (e)): decrypts the share for `recipient` and checks
    /// it against the commitments. On error, the recipient should publish a
    /// [`Complaint`].
    pub fn receive(
        &self,
        ctx: &DkgContext,
        recipient: u32,
        secret_key: &EncryptionSecretKey,
    ) -> Result<Zeroizing<Scalar>, VerificationError> {
        let dealer = self.dealer;
        let enc = self
            .encrypted_share(recipient)
            .ok_or(VerificationError::UnknownTrustee { index: recipient })?;
        let share = enc
            .decrypt(&ctx.share_context(dealer, recipient), secret_key)
            .ok_or(VerificationError::ShareDecryption { dealer, recipient })?;
        if *share * G != self.expected_share_point(recipient) {
            return Err(VerificationError::ShareMismatch { dealer, recipient });
        }
        Ok(share)
    }
}

impl Encode for DealerMessage {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.dealer);
        w.seq(&self.coefficients);
        w.seq(&self.shares);
    }
}

impl Decode for DealerMessage {
    const MIN_ENCODED_LEN: usize = 12;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            dealer: r.u32()?,
            coefficients: r.seq("coefficient commitments", MAX_TRUSTEES)?,
            shares: r.seq("encrypted shares", MAX_TRUSTEES)?,
        })
    }
}

impl Canonical for DealerMessage {
    const TAG: u8 = DEALER_MESSAGE_TAG;
    const NAME: &'static str = "dealer message";
}

/// A recipient's complaint that a dealer sent it a bad share (PROTOCOL 7.5).
///
/// It reveals the share's Diffie-Hellman value `K = y_j·E_ij` and a [`DleqProof`] that
/// `log_G Y_j = log_E K`. Anyone can then open the encrypted share; the complaint is
/// valid iff the share does not decrypt or `σ·G ≠ Σ_k j^k·C_ik`.
///
/// Canonical encoding (tag [`COMPLAINT_TAG`]): `u32 complainer ‖ u32 accused ‖ K ‖ proof`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Complaint {
    complainer: u32,
    accused: u32,
    shared_secret: RistrettoPoint,
    proof: DleqProof,
}

/// The complaint's transcript (PROTOCOL 7.5): domain `dkg-complaint`, manifest hash,
/// complainer, accused, the encrypted share's bytes; the proof then absorbs
/// `E, Y_j, K, T_G, T_A`.
fn complaint_transcript(
    manifest_hash: &[u8; 32],
    complainer: u32,
    accused: u32,
    share: &EncryptedShare,
) -> Transcript {
    let mut t = Transcript::new(PROTOCOL_DOMAIN);
    t.domain_sep(COMPLAINT_PROOF_KIND);
    t.append_bytes(b"manifest-hash", manifest_hash);
    t.append_u64_be(b"complainer", u64::from(complainer));
    t.append_u64_be(b"accused", u64::from(accused));
    t.append_bytes(b"encrypted-share", &share.encoded());
    t
}

impl Complaint {
    /// Trustee `complainer` complains against `accused`'s message (PROTOCOL 7.5).
    ///
    /// This reveals that one share; only do it when [`DealerMessage::receive`] failed.
    pub fn new(
        ctx: &DkgContext,
        complainer: u32,
        secret_key: &EncryptionSecretKey,
        accused: &DealerMessage,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, Error> {
        let public = ctx
            .encryption_key(complainer)
            .ok_or_else(|| Error::InvalidArgument("complainer is not a trustee".into()))?;
        if secret_key.public_key() != *public {
            return Err(Error::InvalidArgument(
                "secret key is not the complainer's".into(),
            ));
        }
        let enc = accused
            .encrypted_share(complainer)
            .ok_or_else(|| Error::InvalidArgument("no share for the complainer".into()))?;
        let shared_secret = enc.shared_secret(secret_key);
        let mut t = complaint_transcript(&ctx.manifest_hash, complainer, accused.dealer, enc);
        let proof = DleqProof::prove(
            &mut t,
            rng,
            secret_key.expose_secret(),
            enc.ephemeral(),
            public.point(),
            &shared_secret,
        );
        Ok(Self {
            complainer,
            accused: accused.dealer,
            shared_secret,
            proof,
        })
    }

    /// Who complains.
    pub fn complainer(&self) -> u32 {
        self.complainer
    }

    /// Against whom.
    pub fn accused(&self) -> u32 {
        self.accused
    }

    /// The revealed Diffie-Hellman value `K`.
    pub fn shared_secret(&self) -> &RistrettoPoint {
        &self.shared_secret
    }

    /// Mutable access for tamper tests.
    #[doc(hidden)]
    pub fn parts_mut(&mut self) -> (&mut u32, &mut u32, &mut RistrettoPoint, &mut DleqProof) {
        (
            &mut self.complainer,
            &mut self.accused,
            &mut self.shared_secret,
            &mut self.proof,
        )
    }

    /// Checks the complaint against the accused dealer's (already verified) message
    /// (PROTOCOL 7.5). `Ok` means the dealer cheated and is disqualified; a false
    /// complaint is [`VerificationError::InvalidComplaint`].
    pub fn verify(
        &self,
        ctx: &DkgContext,
        accused: &DealerMessage,
    ) -> Result<(), VerificationError> {
        let invalid = || VerificationError::InvalidComplaint {
            complainer: self.complainer,
            accused: self.accused,
        };
        // PROTOCOL 7.5 (a): indices.
        if accused.dealer != self.accused || self.complainer == self.accused {
            return Err(invalid());
        }
        let public = ctx.encryption_key(self.complainer).ok_or_else(invalid)?;
        let enc = accused
            .encrypted_share(self.complainer)
            .ok_or_else(invalid)?;
        // PROTOCOL 7.5 (b): K is the Diffie-Hellman value of this share.
        let mut t = complaint_transcript(&ctx.manifest_hash, self.complainer, self.accused, enc);
        self.proof.verify(
            &mut t,
            enc.ephemeral(),
            public.point(),
            &self.shared_secret,
            invalid,
        )?;
        // PROTOCOL 7.5 (c): the share is bad.
        let sctx = ctx.share_context(self.accused, self.complainer);
        match enc.open(&sctx, public, &self.shared_secret) {
            None => Ok(()),
            Some(share) if *share * G != accused.expected_share_point(self.complainer) => Ok(()),
            Some(_) => Err(invalid()),
        }
    }
}

impl Encode for Complaint {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.complainer);
        w.u32(self.accused);
        w.point(&self.shared_secret);
        self.proof.encode(w);
    }
}

impl Decode for Complaint {
    const MIN_ENCODED_LEN: usize = 8 + 32 + 96;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            complainer: r.u32()?,
            accused: r.u32()?,
            shared_secret: r.point("complaint shared secret")?,
            proof: r.get()?,
        })
    }
}

impl Canonical for Complaint {
    const TAG: u8 = COMPLAINT_TAG;
    const NAME: &'static str = "complaint";
}

/// A trustee's final secret share `s_j = Σ_{i∈Q} f_i(j)` (zeroized on drop, redacted
/// `Debug`).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretShare {
    index: u32,
    s: Scalar,
}

impl SecretShare {
    /// Wraps a stored share of trustee `index`.
    pub fn from_scalar(index: u32, s: Scalar) -> Self {
        Self { index, s }
    }

    /// The trustee's index `j`.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The secret scalar `s_j`: handle with care.
    pub fn expose_secret(&self) -> &Scalar {
        &self.s
    }

    /// `H_j = s_j·G`.
    pub fn public_share_key(&self) -> RistrettoPoint {
        self.s * G
    }
}

impl fmt::Debug for SecretShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretShare")
            .field("index", &self.index)
            .field("s", &"<redacted>")
            .finish()
    }
}

/// The public result of the key ceremony (PROTOCOL 7.6): the qualified dealers, the
/// summed commitments `A_k = Σ_{i∈Q} C_ik`, and from them the election key and every
/// trustee's public share key. Computable from public messages alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DkgOutcome {
    qualified: Vec<u32>,
    joint_commitments: Vec<RistrettoPoint>,
    election_key: ElectionPublicKey,
    n: u32,
}

impl DkgOutcome {
    /// Verifies every dealer message and complaint, applies the disqualification rule
    /// and derives the joint key (PROTOCOL 7.6).
    ///
    /// Every message must verify and come from a distinct trustee; every complaint must be
    /// valid (a false complaint is an error: the board must not have accepted it). A
    /// dealer with at least one valid complaint against it is excluded; at least `t`
    /// dealers must remain.
    pub fn new(
        ctx: &DkgContext,
        messages: &[DealerMessage],
        complaints: &[Complaint],
    ) -> Result<Self, VerificationError> {
        // PROTOCOL 7.6 (a): every message valid, one per dealer.
        let mut seen = Vec::with_capacity(messages.len());
        for m in messages {
            m.verify(ctx)?;
            if seen.contains(&m.dealer) {
                return Err(VerificationError::UnknownTrustee { index: m.dealer });
            }
            seen.push(m.dealer);
        }
        // PROTOCOL 7.6 (b): every complaint valid; its target is disqualified.
        let mut disqualified = Vec::new();
        for c in complaints {
            let accused = messages.iter().find(|m| m.dealer == c.accused).ok_or(
                VerificationError::InvalidComplaint {
                    complainer: c.complainer,
                    accused: c.accused,
                },
            )?;
            c.verify(ctx, accused)?;
            disqualified.push(c.accused);
        }
        let mut qualified: Vec<u32> = seen
            .into_iter()
            .filter(|d| !disqualified.contains(d))
            .collect();
        qualified.sort_unstable();
        // PROTOCOL 7.6 (c): at least t qualified dealers.
        if qualified.len() < ctx.threshold as usize {
            return Err(VerificationError::TooFewQualifiedDealers {
                qualified: qualified.len(),
                threshold: ctx.threshold as usize,
            });
        }
        // PROTOCOL 7.6 (d): A_k = Σ_{i∈Q} C_ik, h = A_0.
        let mut joint_commitments = alloc::vec![RistrettoPoint::identity(); ctx.threshold as usize];
        for m in messages.iter().filter(|m| qualified.contains(&m.dealer)) {
            for (acc, c) in joint_commitments.iter_mut().zip(&m.coefficients) {
                *acc += c.commitment;
            }
        }
        // PROTOCOL 7.6 (d): h must not be the identity (possible only if every
        // qualified dealer colluded to cancel their constant terms).
        let election_key = ElectionPublicKey::from_point(joint_commitments[0])
            .map_err(|_| VerificationError::DegenerateElectionKey)?;
        Ok(Self {
            qualified,
            joint_commitments,
            election_key,
            n: ctx.n(),
        })
    }

    /// The qualified dealers, ascending.
    pub fn qualified(&self) -> &[u32] {
        &self.qualified
    }

    /// The election public key `h = Σ_{i∈Q} C_i0`.
    pub fn election_public_key(&self) -> ElectionPublicKey {
        self.election_key
    }

    /// `A_k = Σ_{i∈Q} C_ik`.
    pub fn joint_commitments(&self) -> &[RistrettoPoint] {
        &self.joint_commitments
    }

    /// Trustee `j`'s public share key `H_j = Σ_k j^k·A_k` (PROTOCOL 7.6 (e)).
    pub fn public_share_key(&self, j: u32) -> RistrettoPoint {
        let x = Scalar::from(j);
        let mut acc = RistrettoPoint::identity();
        for a in self.joint_commitments.iter().rev() {
            acc = acc * x + a;
        }
        acc
    }

    /// `H_1, …, H_n`.
    pub fn public_share_keys(&self) -> Vec<RistrettoPoint> {
        (1..=self.n).map(|j| self.public_share_key(j)).collect()
    }

    /// Trustee `j`'s secret share `s_j = Σ_{i∈Q} f_i(j)` (PROTOCOL 7.6 (f)): decrypts and
    /// checks the share from every qualified dealer. The messages are those the outcome
    /// was computed from.
    pub fn secret_share(
        &self,
        ctx: &DkgContext,
        messages: &[DealerMessage],
        j: u32,
        secret_key: &EncryptionSecretKey,
    ) -> Result<SecretShare, VerificationError> {
        let mut s = SecretShare {
            index: j,
            s: Scalar::ZERO,
        };
        for &dealer in &self.qualified {
            let m = messages
                .iter()
                .find(|m| m.dealer == dealer)
                .ok_or(VerificationError::UnknownTrustee { index: dealer })?;
            let share = m.receive(ctx, j, secret_key)?;
            s.s += *share;
        }
        // Each share matched Σ_k j^k·C_ik, so by linearity s_j·G = H_j.
        Ok(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn polynomial_evaluation_matches_definition() {
        let p = Polynomial {
            coefficients: alloc::vec![Scalar::from(3u64), Scalar::from(5u64), Scalar::from(7u64)],
        };
        // 3 + 5·2 + 7·4 = 41
        assert_eq!(*p.evaluate(2), Scalar::from(41u64));
        assert!(format!("{p:?}").contains("redacted"));
    }
}
