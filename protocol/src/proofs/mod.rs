//! Ballot validity proofs (PROTOCOL §6): sigma proofs made non-interactive with merlin.
//!
//! * [`zero_one`]: an option ciphertext encrypts 0 or 1 (PROTOCOL 6.2);
//! * [`selection`]: the sum of a contest's option ciphertexts encrypts a count `k` with
//!   `min ≤ k ≤ max` (PROTOCOL 6.3).
//!
//! Both are instances of one relation, stated once in [`disjunctive`]: "the ciphertext
//! `(α, β)` encrypts one of the public values `m_0, …, m_{n−1}` under `h`", proved by
//! OR-composing Chaum-Pedersen proofs (Cramer, Damgård, Schoenmakers 1994).
//!
//! Proofs carry their commitments, so the verifier's checks are linear equations in
//! group elements; [`BatchVerifier`] folds the equations of many proofs with random
//! weights into one multiscalar multiplication (PROTOCOL 6.5). When a batch fails the
//! caller re-checks proofs one by one to name the failed one.
//!
//! Every proof binds, through its transcript, the [`ProofContext`] (manifest hash,
//! election key and the ballot's nullifier): a copied ciphertext re-cast under another
//! nullifier fails its proofs (Cortier-Smyth ballot replay).

pub mod disjunctive;
pub mod selection;
pub mod zero_one;

use alloc::vec::Vec;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use merlin::Transcript;
use rand_core::CryptoRngCore;
use urna_circuits::Nullifier;

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::elgamal::ElectionPublicKey;
use crate::error::{DecodeError, VerificationError};
use crate::transcript::TranscriptProtocol;

pub use disjunctive::{Branch, DisjunctiveProof};
pub use selection::SelectionProof;
pub use zero_one::ZeroOneProof;

/// Label of the transcript a ballot's proofs start from (`Transcript::new`).
pub const BALLOT_TRANSCRIPT_LABEL: &[u8] = b"urna/v1/ballot-validity";

const LABEL_MANIFEST_HASH: &[u8] = b"manifest-hash";
const LABEL_PUBLIC_KEY: &[u8] = b"election-public-key";
const LABEL_NULLIFIER: &[u8] = b"nullifier";
const LABEL_BATCH_DOMAIN: &[u8] = b"batch-weights";
const LABEL_BATCH_SEED: &[u8] = b"batch-seed";
const LABEL_BATCH_BINDING: &[u8] = b"batch-binding";
const LABEL_WEIGHT: &[u8] = b"weight";

/// The public values shared by every validity proof of one ballot (PROTOCOL 6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofContext {
    /// SHA-256 of the manifest's canonical bytes (PROTOCOL 3.3).
    pub manifest_hash: [u8; 32],
    /// The election public key `h`.
    pub public_key: ElectionPublicKey,
    /// The ballot's nullifier: binds the proofs to one voter's ballot.
    pub nullifier: Nullifier,
}

impl ProofContext {
    /// Absorbs, in order, the manifest hash, `h` and the nullifier (PROTOCOL 6.1).
    pub(crate) fn absorb(&self, t: &mut Transcript) {
        t.append_bytes(LABEL_MANIFEST_HASH, &self.manifest_hash);
        t.append_bytes(LABEL_PUBLIC_KEY, self.public_key.compressed().as_bytes());
        t.append_bytes(LABEL_NULLIFIER, &self.nullifier.to_bytes());
    }
}

/// A point kept with its compressed bytes, so it is decompressed once and never
/// re-compressed (transcripts absorb the bytes, equations use the point).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CompressedPoint {
    point: RistrettoPoint,
    bytes: CompressedRistretto,
}

impl CompressedPoint {
    /// Compresses `point`.
    pub fn new(point: RistrettoPoint) -> Self {
        Self {
            point,
            bytes: point.compress(),
        }
    }

    /// The point.
    pub fn point(&self) -> &RistrettoPoint {
        &self.point
    }

    /// The compressed encoding.
    pub fn bytes(&self) -> &CompressedRistretto {
        &self.bytes
    }
}

impl Encode for CompressedPoint {
    fn encode(&self, w: &mut Writer) {
        w.compressed(&self.bytes);
    }
}

impl Decode for CompressedPoint {
    const MIN_ENCODED_LEN: usize = 32;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bytes = CompressedRistretto(r.array()?);
        let point = bytes
            .decompress()
            .ok_or(DecodeError::InvalidPoint { what: "commitment" })?;
        Ok(Self { point, bytes })
    }
}

/// Accumulates the verification equations of many proofs as one multiscalar
/// multiplication (PROTOCOL 6.5).
///
/// Each equation `Σ s_i·P_i = 0` is multiplied by a fresh 128-bit weight `ρ` and added;
/// the batch holds iff the weighted sum is the identity. If any one equation fails, the
/// sum is the identity with probability at most `2^-128` over the weights (the group
/// has prime order, so a nonzero point times a weight is the identity for at most one
/// weight value once the others are fixed).
/// Terms on the base point `G` and on the election key `h` are merged into single
/// coefficients, so they add no MSM terms.
///
/// Weights come from a merlin transcript seeded either with 32 bytes from the
/// caller's RNG ([`BatchVerifier::new`]) or, for a deterministic check of a single
/// ballot, with the complete bytes under verification
/// ([`BatchVerifier::bound_to`]; the weights are then a hash of the proofs, as
/// Fiat-Shamir challenges are, so a prover cannot predict them before fixing the proofs).
pub struct BatchVerifier {
    g_coeff: Scalar,
    h: Option<(RistrettoPoint, Scalar)>,
    scalars: Vec<Scalar>,
    points: Vec<RistrettoPoint>,
    weights: Transcript,
}

impl core::fmt::Debug for BatchVerifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BatchVerifier")
            .field("terms", &self.points.len())
            .finish()
    }
}

impl BatchVerifier {
    /// An empty batch whose weights are seeded from `rng`.
    pub fn new(rng: &mut impl CryptoRngCore) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let mut weights = Transcript::new(BALLOT_TRANSCRIPT_LABEL);
        weights.domain_sep(LABEL_BATCH_DOMAIN);
        weights.append_bytes(LABEL_BATCH_SEED, &seed);
        Self::with_weights(weights)
    }

    /// An empty batch whose weights are derived from `binding`, which must contain every
    /// byte of every proof and statement later added (e.g. a ballot's canonical bytes).
    pub fn bound_to(binding: &[u8]) -> Self {
        let mut weights = Transcript::new(BALLOT_TRANSCRIPT_LABEL);
        weights.domain_sep(LABEL_BATCH_DOMAIN);
        weights.append_bytes(LABEL_BATCH_BINDING, binding);
        Self::with_weights(weights)
    }

    fn with_weights(weights: Transcript) -> Self {
        Self {
            g_coeff: Scalar::ZERO,
            h: None,
            scalars: Vec::new(),
            points: Vec::new(),
            weights,
        }
    }

    /// Number of MSM terms so far (besides `G` and `h`).
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether no terms were added yet.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty() && self.h.is_none()
    }

    /// Reserves room for `terms` more terms.
    pub fn reserve(&mut self, terms: usize) {
        self.scalars.reserve(terms);
        self.points.reserve(terms);
    }

    /// A fresh random 128-bit weight: 16 challenge bytes read as a little-endian
    /// integer (PROTOCOL 6.5).
    ///
    /// 128 bits bound the chance that a false equation survives the batch by `2^-128`,
    /// and halve the work of the multiscalar multiplication on the terms whose scalar
    /// is a weight alone (the commitments `a_j`, `b_j`): a variable-time MSM skips the
    /// upper, all-zero digits of a short scalar.
    pub(crate) fn weight(&mut self) -> Scalar {
        let mut bytes = [0u8; 16];
        self.weights.challenge_bytes(LABEL_WEIGHT, &mut bytes);
        Scalar::from(u128::from_le_bytes(bytes))
    }

    /// Adds `s·G`.
    pub(crate) fn add_g(&mut self, s: Scalar) {
        self.g_coeff += s;
    }

    /// Adds `s·h`.
    pub(crate) fn add_h(&mut self, h: &RistrettoPoint, s: Scalar) {
        match &mut self.h {
            Some((h0, coeff)) if h0 == h => *coeff += s,
            Some(_) => self.add(s, *h),
            None => self.h = Some((*h, s)),
        }
    }

    /// Adds `s·P`.
    pub(crate) fn add(&mut self, s: Scalar, p: RistrettoPoint) {
        self.scalars.push(s);
        self.points.push(p);
    }

    /// Runs the one multiscalar multiplication (variable time: public data only).
    ///
    /// Fails with [`VerificationError::ValidityBatch`]; re-check proofs individually to
    /// name the failed one.
    pub fn finish(self) -> Result<(), VerificationError> {
        let (h, h_coeff) = self.h.unwrap_or((RISTRETTO_BASEPOINT_POINT, Scalar::ZERO));
        let sum = RistrettoPoint::vartime_multiscalar_mul(
            self.scalars.iter().chain([self.g_coeff, h_coeff].iter()),
            self.points
                .iter()
                .chain([RISTRETTO_BASEPOINT_POINT, h].iter()),
        );
        if sum.is_identity() {
            Ok(())
        } else {
            Err(VerificationError::ValidityBatch)
        }
    }
}
