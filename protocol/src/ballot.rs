//! Encrypted ballots: encryption, digest, tracking code, Benaloh audit and
//! verification (PROTOCOL §6).
//!
//! A ballot is, per contest, one ElGamal ciphertext per option with a 0/1 proof each
//! and one selection-count proof, plus the voter's census root, nullifier and Groth16
//! eligibility proof. The flow (PROTOCOL 6.6):
//!
//! 1. [`encrypt_ballot`] encrypts the selections and makes every validity proof, bound
//!    to the manifest hash, the election key and the voter's nullifier, giving an
//!    [`EncryptedBallot`] and a [`BallotAudit`] (the nonces);
//! 2. the voter's device computes [`EncryptedBallot::digest`] and proves eligibility over
//!    it with `urna_circuits::prove`;
//! 3. [`EncryptedBallot::attach_eligibility`] gives the [`Ballot`] that is cast (or the
//!    voter audits it with [`BallotAudit::check`] and discards it).
//!
//! A ballot's identity is `(nullifier, digest)`, never its proof bytes (Groth16 proofs
//! are malleable). The digest covers everything but the Groth16 proof.

use alloc::format;
use alloc::vec::Vec;
use core::fmt;

use curve25519_dalek::ristretto::CompressedRistretto;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256, Sha512};
use urna_circuits::{
    BallotDigest, CensusRoot, CircuitError, EligibilityProof, EligibilityStatement, Nullifier,
    PreparedVerifyingKey,
};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::codec::{Canonical, Decode, Encode, Reader, Writer};
use crate::elgamal::{Ciphertext, ElectionPublicKey, Nonce};
use crate::error::{DecodeError, Error, VerificationError};
use crate::manifest::{read_election_id, Manifest, MAX_CONTESTS, MAX_OPTIONS};
use crate::proofs::{
    BatchVerifier, ProofContext, SelectionProof, ZeroOneProof, BALLOT_TRANSCRIPT_LABEL,
};
use urna_circuits::ElectionId;

/// Domain label of the ballot digest (PROTOCOL 6.6).
pub const DIGEST_DOMAIN: &[u8] = b"urna/v1/ballot-digest";
/// Domain label of the tracking code (PROTOCOL 6.6).
pub const TRACKING_CODE_DOMAIN: &[u8] = b"urna/v1/tracking-code";
/// Domain label of ciphertext fingerprints (PROTOCOL 6.7).
pub const FINGERPRINT_DOMAIN: &[u8] = b"urna/v1/ciphertext-fingerprint";
/// Length of the Groth16 eligibility proof encoding.
pub const ELIGIBILITY_PROOF_LEN: usize = 128;

/// Bytes of one option on the wire: a ciphertext and its 0/1 proof.
const OPTION_LEN: usize = Ciphertext::ENCODED_LEN + ZeroOneProof::ENCODED_LEN;

fn transcript() -> Transcript {
    Transcript::new(BALLOT_TRANSCRIPT_LABEL)
}

fn read_field<T>(
    r: &mut Reader<'_>,
    what: &'static str,
    f: fn(&[u8; 32]) -> Result<T, CircuitError>,
) -> Result<T, DecodeError> {
    f(&r.array()?).map_err(|_| DecodeError::NonCanonicalFieldElement { what })
}

// ------------------------------------------------------------------------------------
// Contest ballots
// ------------------------------------------------------------------------------------

/// One contest of a ballot: a ciphertext and a 0/1 proof per option, and the
/// selection-count proof (PROTOCOL 6.6).
///
/// Ciphertexts keep their compressed bytes (decoded once, never re-compressed), so
/// fields are private; build with [`encrypt_ballot`], [`ContestBallot::new`] or decoding.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ContestBallot {
    ciphertexts: Vec<Ciphertext>,
    compressed: Vec<[CompressedRistretto; 2]>,
    zero_one: Vec<ZeroOneProof>,
    selection: SelectionProof,
}

impl ContestBallot {
    /// Assembles a contest ballot; the numbers of ciphertexts and 0/1 proofs must match.
    pub fn new(
        ciphertexts: Vec<Ciphertext>,
        zero_one: Vec<ZeroOneProof>,
        selection: SelectionProof,
    ) -> Result<Self, Error> {
        if ciphertexts.len() != zero_one.len() || ciphertexts.len() > MAX_OPTIONS {
            return Err(Error::InvalidArgument(
                "one 0/1 proof per ciphertext, at most MAX_OPTIONS".into(),
            ));
        }
        let compressed = ciphertexts.iter().map(Ciphertext::compress).collect();
        Ok(Self {
            ciphertexts,
            compressed,
            zero_one,
            selection,
        })
    }

    /// The option ciphertexts, in option order.
    pub fn ciphertexts(&self) -> &[Ciphertext] {
        &self.ciphertexts
    }

    /// The 0/1 proofs, one per option.
    pub fn zero_one_proofs(&self) -> &[ZeroOneProof] {
        &self.zero_one
    }

    /// The selection-count proof.
    pub fn selection_proof(&self) -> &SelectionProof {
        &self.selection
    }

    /// Checks the contest's shape against the manifest (PROTOCOL 6.6, check 2).
    fn check_shape(&self, manifest: &Manifest, index: usize) -> Result<(), VerificationError> {
        let Some(contest) = manifest.contest(index) else {
            return Err(VerificationError::BallotShape {
                reason: format!("no contest {index}"),
            });
        };
        if self.ciphertexts.len() != contest.options.len() {
            return Err(VerificationError::BallotShape {
                reason: format!(
                    "contest {index} has {} ciphertexts, the manifest {} options",
                    self.ciphertexts.len(),
                    contest.options.len()
                ),
            });
        }
        // `checked_sub`: a manifest built in memory may not have been validated.
        let branches = contest
            .max_selections
            .checked_sub(contest.min_selections)
            .map(|d| d as usize + 1);
        if Some(self.selection.branches().len()) != branches {
            return Err(VerificationError::BallotShape {
                reason: format!("contest {index} selection proof has the wrong branch count"),
            });
        }
        Ok(())
    }

    fn verify_alone(
        &self,
        ctx: &ProofContext,
        manifest: &Manifest,
        index: usize,
    ) -> Result<(), VerificationError> {
        for (j, ((ct, bytes), proof)) in self
            .ciphertexts
            .iter()
            .zip(&self.compressed)
            .zip(&self.zero_one)
            .enumerate()
        {
            // PROTOCOL 6.2
            proof.verify_with_bytes(&mut transcript(), ctx, index, j, ct, bytes)?;
        }
        let (min, max) = min_max(manifest, index)?;
        // PROTOCOL 6.3
        self.selection.verify_with_bytes(
            &mut transcript(),
            ctx,
            index,
            &self.ciphertexts,
            &self.compressed,
            min,
            max,
        )
    }

    fn verify_into(
        &self,
        ctx: &ProofContext,
        manifest: &Manifest,
        index: usize,
        batch: &mut BatchVerifier,
    ) -> Result<(), VerificationError> {
        for (j, ((ct, bytes), proof)) in self
            .ciphertexts
            .iter()
            .zip(&self.compressed)
            .zip(&self.zero_one)
            .enumerate()
        {
            // PROTOCOL 6.2, 6.5
            proof.verify_batched_with_bytes(&mut transcript(), ctx, index, j, ct, bytes, batch)?;
        }
        let (min, max) = min_max(manifest, index)?;
        // PROTOCOL 6.3, 6.5
        self.selection.verify_batched_with_bytes(
            &mut transcript(),
            ctx,
            index,
            &self.ciphertexts,
            &self.compressed,
            min,
            max,
            batch,
        )
    }

    /// MSM terms this contest adds to a batch (for pre-allocation).
    fn batch_terms(&self) -> usize {
        6 * self.zero_one.len() + 2 * self.selection.branches().len() + 2
    }
}

fn min_max(manifest: &Manifest, index: usize) -> Result<(u32, u32), VerificationError> {
    manifest
        .contest(index)
        .map(|c| (c.min_selections, c.max_selections))
        .ok_or_else(|| VerificationError::BallotShape {
            reason: format!("no contest {index}"),
        })
}

impl Encode for ContestBallot {
    fn encode(&self, w: &mut Writer) {
        w.u32(u32::try_from(self.ciphertexts.len()).unwrap_or(u32::MAX));
        for ([a, b], proof) in self.compressed.iter().zip(&self.zero_one) {
            w.compressed(a);
            w.compressed(b);
            w.put(proof);
        }
        w.put(&self.selection);
    }
}

impl Decode for ContestBallot {
    const MIN_ENCODED_LEN: usize = 4 + SelectionProof::MIN_ENCODED_LEN;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = r.u32()? as usize;
        if n == 0 || n > MAX_OPTIONS {
            return Err(DecodeError::TooLong {
                what: "contest options",
                max: MAX_OPTIONS,
                actual: n,
            });
        }
        if n * OPTION_LEN > r.remaining() {
            return Err(DecodeError::UnexpectedEnd {
                needed: n * OPTION_LEN,
                remaining: r.remaining(),
            });
        }
        let mut ciphertexts = Vec::with_capacity(n);
        let mut compressed = Vec::with_capacity(n);
        let mut zero_one = Vec::with_capacity(n);
        for _ in 0..n {
            let a = CompressedRistretto(r.array()?);
            let b = CompressedRistretto(r.array()?);
            let alpha = a.decompress().ok_or(DecodeError::InvalidPoint {
                what: "ciphertext alpha",
            })?;
            let beta = b.decompress().ok_or(DecodeError::InvalidPoint {
                what: "ciphertext beta",
            })?;
            ciphertexts.push(Ciphertext { alpha, beta });
            compressed.push([a, b]);
            zero_one.push(r.get()?);
        }
        let selection = r.get()?;
        Ok(Self {
            ciphertexts,
            compressed,
            zero_one,
            selection,
        })
    }
}

// ------------------------------------------------------------------------------------
// Encrypted ballot (before the eligibility proof) and its digest
// ------------------------------------------------------------------------------------

/// A ballot without its eligibility proof: what [`encrypt_ballot`] makes and what the
/// digest covers (PROTOCOL 6.6).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EncryptedBallot {
    /// The election.
    pub election_id: ElectionId,
    /// The census root the eligibility proof is made against.
    pub census_root: CensusRoot,
    /// The voter's nullifier for this election.
    pub nullifier: Nullifier,
    /// One entry per manifest contest, in order.
    pub contests: Vec<ContestBallot>,
}

/// `SHA-512(len ‖ DIGEST_DOMAIN ‖ manifest_hash ‖ election_id ‖ census_root ‖ nullifier
/// ‖ enc(contests))` reduced into BN254 (PROTOCOL 6.6).
fn digest_of(
    manifest_hash: &[u8; 32],
    election_id: &ElectionId,
    census_root: &CensusRoot,
    nullifier: &Nullifier,
    contests: &[ContestBallot],
) -> BallotDigest {
    let mut w = Writer::new();
    w.bytes(DIGEST_DOMAIN);
    w.fixed(manifest_hash);
    w.fixed(&election_id.to_bytes());
    w.fixed(&census_root.to_bytes());
    w.fixed(&nullifier.to_bytes());
    w.seq(contests);
    let hash: [u8; 64] = Sha512::digest(w.as_bytes()).into();
    BallotDigest::from_wide_hash(&hash)
}

fn fingerprints(contests: &[ContestBallot]) -> Vec<[u8; 32]> {
    contests
        .iter()
        .flat_map(|c| c.compressed.iter())
        .map(|[a, b]| {
            let mut h = Sha256::new();
            h.update((FINGERPRINT_DOMAIN.len() as u32).to_be_bytes());
            h.update(FINGERPRINT_DOMAIN);
            h.update(a.as_bytes());
            h.update(b.as_bytes());
            h.finalize().into()
        })
        .collect()
}

/// Checks everything about validity except the eligibility proof (PROTOCOL 6.6,
/// checks 1-4); one multiscalar multiplication with weights bound to the ballot bytes,
/// then proof-by-proof on failure to name the failed proof.
fn verify_validity_of(
    election_id: &ElectionId,
    nullifier: &Nullifier,
    contests: &[ContestBallot],
    manifest: &Manifest,
    manifest_hash: &[u8; 32],
    pk: &ElectionPublicKey,
) -> Result<(), VerificationError> {
    check_cheap(election_id, contests, manifest)?;
    let ctx = ProofContext {
        manifest_hash: *manifest_hash,
        public_key: *pk,
        nullifier: *nullifier,
    };
    let mut binding = Writer::new();
    binding.fixed(manifest_hash);
    binding.put(pk);
    binding.fixed(&nullifier.to_bytes());
    binding.seq(contests);
    let mut batch = BatchVerifier::bound_to(binding.as_bytes());
    batch.reserve(contests.iter().map(ContestBallot::batch_terms).sum());
    for (i, contest) in contests.iter().enumerate() {
        contest.verify_into(&ctx, manifest, i, &mut batch)?;
    }
    if batch.finish().is_ok() {
        return Ok(());
    }
    verify_validity_alone(&ctx, contests, manifest)
}

/// Proof by proof, naming the first failure (PROTOCOL 6.2, 6.3).
fn verify_validity_alone(
    ctx: &ProofContext,
    contests: &[ContestBallot],
    manifest: &Manifest,
) -> Result<(), VerificationError> {
    for (i, contest) in contests.iter().enumerate() {
        contest.verify_alone(ctx, manifest, i)?;
    }
    // Unreachable for sound equations: the batch failed but every proof holds alone.
    Err(VerificationError::ValidityBatch)
}

/// PROTOCOL 6.6 checks 1 and 2: election id, then shape.
fn check_cheap(
    election_id: &ElectionId,
    contests: &[ContestBallot],
    manifest: &Manifest,
) -> Result<(), VerificationError> {
    if *election_id != manifest.election_id {
        return Err(VerificationError::WrongElection);
    }
    if contests.len() != manifest.contests.len() {
        return Err(VerificationError::BallotShape {
            reason: format!(
                "{} contests, the manifest has {}",
                contests.len(),
                manifest.contests.len()
            ),
        });
    }
    for (i, c) in contests.iter().enumerate() {
        c.check_shape(manifest, i)?;
    }
    Ok(())
}

impl EncryptedBallot {
    /// The ballot digest (PROTOCOL 6.6): SHA-512 over the domain label, the manifest
    /// hash, the election id, census root, nullifier and the canonical encoding of the
    /// contests (ciphertexts and validity proofs), reduced into the BN254 field.
    pub fn digest(&self, manifest_hash: &[u8; 32]) -> BallotDigest {
        digest_of(
            manifest_hash,
            &self.election_id,
            &self.census_root,
            &self.nullifier,
            &self.contests,
        )
    }

    /// The voter-facing tracking code of this ballot (PROTOCOL 6.6).
    pub fn tracking_code(&self, manifest_hash: &[u8; 32]) -> TrackingCode {
        TrackingCode::new(&self.nullifier, &self.digest(manifest_hash))
    }

    /// Checks the validity proofs (see [`Ballot::verify_validity`]).
    pub fn verify_validity(
        &self,
        manifest: &Manifest,
        pk: &ElectionPublicKey,
    ) -> Result<(), VerificationError> {
        verify_validity_of(
            &self.election_id,
            &self.nullifier,
            &self.contests,
            manifest,
            &manifest.manifest_hash(),
            pk,
        )
    }

    /// The Groth16 statement for this ballot: census root, nullifier, election id and
    /// the digest.
    pub fn eligibility_statement(&self, manifest_hash: &[u8; 32]) -> EligibilityStatement {
        EligibilityStatement::new(
            self.census_root,
            self.nullifier,
            self.election_id,
            self.digest(manifest_hash),
        )
    }

    /// Attaches the eligibility proof made over [`EncryptedBallot::digest`].
    pub fn attach_eligibility(self, eligibility: EligibilityProof) -> Ballot {
        Ballot {
            election_id: self.election_id,
            census_root: self.census_root,
            nullifier: self.nullifier,
            contests: self.contests,
            eligibility,
        }
    }
}

// ------------------------------------------------------------------------------------
// Tracking codes
// ------------------------------------------------------------------------------------

/// Crockford's base32 alphabet (no I, L, O, U).
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A short code a voter can read and compare (PROTOCOL 6.6): the first 10 bytes of
/// `SHA-256(len ‖ TRACKING_CODE_DOMAIN ‖ nullifier ‖ digest)`, shown as 16 Crockford
/// base32 characters in groups of four, e.g. `K3F9-X2QA-7MND-0RZT`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrackingCode([u8; 10]);

impl TrackingCode {
    /// The code of the ballot `(nullifier, digest)`.
    pub fn new(nullifier: &Nullifier, digest: &BallotDigest) -> Self {
        let mut h = Sha256::new();
        h.update((TRACKING_CODE_DOMAIN.len() as u32).to_be_bytes());
        h.update(TRACKING_CODE_DOMAIN);
        h.update(nullifier.to_bytes());
        h.update(digest.to_bytes());
        let full: [u8; 32] = h.finalize().into();
        let mut out = [0u8; 10];
        out.copy_from_slice(&full[..10]);
        Self(out)
    }

    /// The 10 bytes.
    pub fn as_bytes(&self) -> &[u8; 10] {
        &self.0
    }
}

impl fmt::Display for TrackingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // 80 bits = 16 symbols of 5 bits, most significant first.
        let v = self
            .0
            .iter()
            .fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
        for i in 0..16 {
            if i > 0 && i % 4 == 0 {
                f.write_str("-")?;
            }
            let sym = ((v >> (75 - 5 * i)) & 0x1f) as usize;
            write!(f, "{}", CROCKFORD[sym] as char)?;
        }
        Ok(())
    }
}

impl fmt::Debug for TrackingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TrackingCode({self})")
    }
}

// ------------------------------------------------------------------------------------
// Cast ballots
// ------------------------------------------------------------------------------------

/// A cast ballot (top-level object, tag [`Ballot::TAG`]; PROTOCOL 6.6).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Ballot {
    /// The election.
    pub election_id: ElectionId,
    /// The census root the eligibility proof was made against (must be the frozen one).
    pub census_root: CensusRoot,
    /// The voter's nullifier for this election (one counted ballot per nullifier).
    pub nullifier: Nullifier,
    /// One entry per manifest contest, in order.
    pub contests: Vec<ContestBallot>,
    /// The Groth16 proof of eligibility over the digest. Malleable: never an identity.
    pub eligibility: EligibilityProof,
}

impl Ballot {
    /// The ballot digest (see [`EncryptedBallot::digest`]); does not cover the Groth16
    /// proof.
    pub fn digest(&self, manifest_hash: &[u8; 32]) -> BallotDigest {
        digest_of(
            manifest_hash,
            &self.election_id,
            &self.census_root,
            &self.nullifier,
            &self.contests,
        )
    }

    /// The ballot's identity `(nullifier, digest)` (never the proof bytes).
    pub fn identity(&self, manifest_hash: &[u8; 32]) -> (Nullifier, BallotDigest) {
        (self.nullifier, self.digest(manifest_hash))
    }

    /// The voter-facing tracking code.
    pub fn tracking_code(&self, manifest_hash: &[u8; 32]) -> TrackingCode {
        TrackingCode::new(&self.nullifier, &self.digest(manifest_hash))
    }

    /// `SHA-256(len ‖ FINGERPRINT_DOMAIN ‖ α ‖ β)` of every option ciphertext, contest by
    /// contest (PROTOCOL 6.7): a board rejects a ballot re-using a ciphertext it holds.
    pub fn ciphertext_fingerprints(&self) -> Vec<[u8; 32]> {
        fingerprints(&self.contests)
    }

    /// The Groth16 statement of this ballot (computes the digest).
    pub fn eligibility_statement(&self, manifest_hash: &[u8; 32]) -> EligibilityStatement {
        EligibilityStatement::new(
            self.census_root,
            self.nullifier,
            self.election_id,
            self.digest(manifest_hash),
        )
    }

    /// Checks validity (PROTOCOL 6.6, checks 1-4): the election id, the shape against the
    /// manifest, every 0/1 proof and every selection-count proof, under `pk`.
    pub fn verify_validity(
        &self,
        manifest: &Manifest,
        pk: &ElectionPublicKey,
    ) -> Result<(), VerificationError> {
        verify_validity_of(
            &self.election_id,
            &self.nullifier,
            &self.contests,
            manifest,
            &manifest.manifest_hash(),
            pk,
        )
    }

    /// Checks eligibility (PROTOCOL 6.6, checks 5-7): the verifying key is the
    /// manifest's, the census root is the frozen one, and the Groth16 proof verifies for
    /// `(census_root, nullifier, election_id, digest)`.
    pub fn verify_eligibility(
        &self,
        pvk: &PreparedVerifyingKey,
        frozen_root: &CensusRoot,
        manifest: &Manifest,
    ) -> Result<(), VerificationError> {
        if self.election_id != manifest.election_id {
            return Err(VerificationError::WrongElection);
        }
        self.check_eligibility_inputs(pvk, frozen_root, manifest)?;
        let statement = self.eligibility_statement(&manifest.manifest_hash());
        urna_circuits::verify(pvk, &statement, &self.eligibility).map_err(|e| {
            VerificationError::EligibilityProof {
                reason: format!("{e}"),
            }
        })
    }

    fn check_eligibility_inputs(
        &self,
        pvk: &PreparedVerifyingKey,
        frozen_root: &CensusRoot,
        manifest: &Manifest,
    ) -> Result<(), VerificationError> {
        // PROTOCOL 6.6 check 5. With a ceremony the key is the one the board's
        // setup-keys entry commits to (PROTOCOL 14.10); the caller holds that entry.
        if let Some((vk_hash, _)) = manifest.setup.fixed_keys() {
            if pvk.verifying_key_hash() != *vk_hash {
                return Err(VerificationError::VerifyingKeyMismatch);
            }
        }
        // PROTOCOL 6.6 check 6
        if self.census_root != *frozen_root {
            return Err(VerificationError::WrongCensusRoot);
        }
        Ok(())
    }

    /// Validity, then eligibility (PROTOCOL 6.6): the cheap checks and the validity
    /// proofs run before the pairing.
    pub fn verify(
        &self,
        manifest: &Manifest,
        pk: &ElectionPublicKey,
        pvk: &PreparedVerifyingKey,
        frozen_root: &CensusRoot,
    ) -> Result<(), VerificationError> {
        self.check_eligibility_inputs(pvk, frozen_root, manifest)?;
        // With `parallel`, the validity MSM and the pairing check run side by side; the
        // validity result is still reported first when both fail.
        #[cfg(feature = "parallel")]
        {
            let (validity, eligibility) = rayon::join(
                || self.verify_validity(manifest, pk),
                || self.verify_eligibility(pvk, frozen_root, manifest),
            );
            validity.and(eligibility)
        }
        #[cfg(not(feature = "parallel"))]
        {
            self.verify_validity(manifest, pk)?;
            self.verify_eligibility(pvk, frozen_root, manifest)
        }
    }
}

/// Verifies many ballots of one election at once (PROTOCOL 6.7): every ballot's
/// validity equations in one multiscalar multiplication with random weights from `rng`,
/// and every eligibility proof with `urna_circuits::batch_verify`.
///
/// Returns `Ok(())` if all pass; otherwise every failed ballot, by position in
/// `ballots` (ascending), with the check that failed. A failed batch falls back to
/// ballot-by-ballot checks to name the culprits. Does not check nullifier uniqueness
/// or ciphertext re-use across ballots: that is the board's rule (PROTOCOL 6.7).
pub fn verify_ballots(
    ballots: &[Ballot],
    manifest: &Manifest,
    pk: &ElectionPublicKey,
    pvk: &PreparedVerifyingKey,
    frozen_root: &CensusRoot,
    rng: &mut impl CryptoRngCore,
) -> Result<(), Vec<(usize, VerificationError)>> {
    let manifest_hash = manifest.manifest_hash();
    let mut failures: Vec<(usize, VerificationError)> = Vec::new();
    let mut ok: Vec<usize> = Vec::with_capacity(ballots.len());

    // Cheap checks first (PROTOCOL 6.6 checks 1, 2, 5, 6).
    for (i, b) in ballots.iter().enumerate() {
        let cheap = check_cheap(&b.election_id, &b.contests, manifest)
            .and_then(|()| b.check_eligibility_inputs(pvk, frozen_root, manifest));
        match cheap {
            Ok(()) => ok.push(i),
            Err(e) => failures.push((i, e)),
        }
    }

    // Validity proofs in one MSM per chunk (PROTOCOL 6.5); chunks run on rayon with the
    // `parallel` feature. Each chunk draws its own weight seed from `rng`.
    let chunks = validity_chunks(ok.len());
    let seeded: Vec<(&[usize], BatchVerifier)> = ok
        .chunks(chunks.max(1))
        .map(|chunk| (chunk, BatchVerifier::new(rng)))
        .collect();
    let check_chunk = |(chunk, batch): (&[usize], BatchVerifier)| {
        verify_validity_chunk(ballots, chunk, batch, manifest, &manifest_hash, pk)
    };
    #[cfg(feature = "parallel")]
    let results: Vec<ChunkOutcome> = {
        use rayon::prelude::*;
        seeded.into_par_iter().map(check_chunk).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let results: Vec<ChunkOutcome> = seeded.into_iter().map(check_chunk).collect();
    let mut still_ok = Vec::with_capacity(ok.len());
    for (passed, failed) in results {
        still_ok.extend(passed);
        failures.extend(failed);
    }

    // Eligibility proofs in one batch (PROTOCOL 10.6). Each statement hashes its
    // ballot's ciphertexts and proofs (the digest): on all cores with `parallel`.
    let statement = |&i: &usize| ballots[i].eligibility_statement(&manifest_hash);
    #[cfg(feature = "parallel")]
    let statements: Vec<EligibilityStatement> = {
        use rayon::prelude::*;
        still_ok.par_iter().map(statement).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let statements: Vec<EligibilityStatement> = still_ok.iter().map(statement).collect();
    let items: Vec<(&EligibilityStatement, &EligibilityProof)> = statements
        .iter()
        .zip(&still_ok)
        .map(|(s, &i)| (s, &ballots[i].eligibility))
        .collect();
    match urna_circuits::batch_verify(pvk, &items, rng) {
        Ok(()) => {}
        Err(CircuitError::BatchRejected { bad }) => {
            for k in bad {
                if let Some(&i) = still_ok.get(k) {
                    failures.push((
                        i,
                        VerificationError::EligibilityProof {
                            reason: format!("{}", CircuitError::ProofRejected),
                        },
                    ));
                }
            }
        }
        Err(e) => {
            for &i in &still_ok {
                failures.push((
                    i,
                    VerificationError::EligibilityProof {
                        reason: format!("{e}"),
                    },
                ));
            }
        }
    }

    if failures.is_empty() {
        Ok(())
    } else {
        failures.sort_by_key(|(i, _)| *i);
        Err(failures)
    }
}

/// The ballots of a chunk that passed, and the failures with their checks.
type ChunkOutcome = (Vec<usize>, Vec<(usize, VerificationError)>);

/// Ballots per validity chunk: the whole batch in one MSM, or one chunk per rayon
/// thread with the `parallel` feature.
fn validity_chunks(n: usize) -> usize {
    #[cfg(feature = "parallel")]
    {
        n.div_ceil(rayon::current_num_threads().max(1))
    }
    #[cfg(not(feature = "parallel"))]
    {
        n
    }
}

/// Adds the validity equations of `chunk`'s ballots to `batch` and checks them in one
/// MSM; if that fails, checks each ballot alone to name the culprits (PROTOCOL 6.5).
/// Returns the ballots that passed and the failures.
fn verify_validity_chunk(
    ballots: &[Ballot],
    chunk: &[usize],
    mut batch: BatchVerifier,
    manifest: &Manifest,
    manifest_hash: &[u8; 32],
    pk: &ElectionPublicKey,
) -> ChunkOutcome {
    let mut failures = Vec::new();
    batch.reserve(
        chunk
            .iter()
            .map(|&i| {
                ballots[i]
                    .contests
                    .iter()
                    .map(ContestBallot::batch_terms)
                    .sum::<usize>()
            })
            .sum(),
    );
    let mut passed = Vec::with_capacity(chunk.len());
    for &i in chunk {
        let b = &ballots[i];
        let ctx = ProofContext {
            manifest_hash: *manifest_hash,
            public_key: *pk,
            nullifier: b.nullifier,
        };
        let added = b
            .contests
            .iter()
            .enumerate()
            .try_for_each(|(c, contest)| contest.verify_into(&ctx, manifest, c, &mut batch));
        match added {
            Ok(()) => passed.push(i),
            Err(e) => failures.push((i, e)),
        }
    }
    if batch.finish().is_err() {
        let mut next = Vec::with_capacity(passed.len());
        for &i in &passed {
            let b = &ballots[i];
            match verify_validity_of(
                &b.election_id,
                &b.nullifier,
                &b.contests,
                manifest,
                manifest_hash,
                pk,
            ) {
                Ok(()) => next.push(i),
                Err(e) => failures.push((i, e)),
            }
        }
        passed = next;
    }
    (passed, failures)
}

impl Encode for Ballot {
    fn encode(&self, w: &mut Writer) {
        w.fixed(&self.election_id.to_bytes());
        w.fixed(&self.census_root.to_bytes());
        w.fixed(&self.nullifier.to_bytes());
        w.seq(&self.contests);
        w.fixed(&self.eligibility.to_bytes());
    }
}

impl Decode for Ballot {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let election_id = read_election_id(r)?;
        let census_root = read_field(r, "census root", CensusRoot::from_bytes)?;
        let nullifier = read_field(r, "nullifier", Nullifier::from_bytes)?;
        let contests = r.seq("contests", MAX_CONTESTS)?;
        let eligibility =
            EligibilityProof::from_bytes(r.take(ELIGIBILITY_PROOF_LEN)?).map_err(|_| {
                DecodeError::InvalidValue {
                    what: "eligibility proof",
                    reason: "not a valid Groth16 proof encoding",
                }
            })?;
        Ok(Self {
            election_id,
            census_root,
            nullifier,
            contests,
            eligibility,
        })
    }
}

impl Canonical for Ballot {
    /// PROTOCOL 9.2 (range `0x01–0x0f`: manifest and ballot objects).
    const TAG: u8 = 0x02;
    const NAME: &'static str = "ballot";
}

// ------------------------------------------------------------------------------------
// Encryption and audit
// ------------------------------------------------------------------------------------

/// Encrypts a voter's selections and makes every validity proof (PROTOCOL 6.6 steps
/// 1-2). `selections[c][o]` says whether option `o` of contest `c` is selected.
///
/// Fails if the selections do not fit the manifest (wrong shape, or a count outside
/// `[min, max]`). Returns the ballot without its eligibility proof and the
/// [`BallotAudit`] holding the nonces (keep it secret unless the ballot is audited).
pub fn encrypt_ballot(
    manifest: &Manifest,
    pk: &ElectionPublicKey,
    census_root: CensusRoot,
    nullifier: Nullifier,
    selections: &[Vec<bool>],
    rng: &mut impl CryptoRngCore,
) -> Result<(EncryptedBallot, BallotAudit), Error> {
    if selections.len() != manifest.contests.len() {
        return Err(Error::InvalidArgument(
            "one selection list per contest".into(),
        ));
    }
    let ctx = ProofContext {
        manifest_hash: manifest.manifest_hash(),
        public_key: *pk,
        nullifier,
    };
    let mut contests = Vec::with_capacity(selections.len());
    let mut nonces = Vec::with_capacity(selections.len());
    for (i, (contest, chosen)) in manifest.contests.iter().zip(selections).enumerate() {
        if chosen.len() != contest.options.len() {
            return Err(Error::InvalidArgument(format!(
                "contest {i}: one choice per option"
            )));
        }
        let k = chosen.iter().filter(|c| **c).count() as u64;
        if k < u64::from(contest.min_selections) || k > u64::from(contest.max_selections) {
            return Err(Error::InvalidArgument(format!(
                "contest {i}: selection count out of range"
            )));
        }
        let mut cts = Vec::with_capacity(chosen.len());
        let mut rs = Vec::with_capacity(chosen.len());
        for vote in chosen {
            let (ct, r) = pk.encrypt_random(u64::from(*vote), rng);
            cts.push(ct);
            rs.push(r);
        }
        let compressed: Vec<_> = cts.iter().map(Ciphertext::compress).collect();
        let mut zero_one = Vec::with_capacity(chosen.len());
        for (j, vote) in chosen.iter().enumerate() {
            zero_one.push(ZeroOneProof::prove_with_bytes(
                &mut transcript(),
                &ctx,
                i,
                j,
                &cts[j],
                &compressed[j],
                *vote,
                &rs[j],
                rng,
            )?);
        }
        let r_sum = Nonce::from_scalar(rs.iter().map(|r| *r.expose_secret()).sum::<Scalar>());
        let selection = SelectionProof::prove_with_bytes(
            &mut transcript(),
            &ctx,
            i,
            &cts,
            &compressed,
            contest.min_selections,
            contest.max_selections,
            k,
            &r_sum,
            rng,
        )?;
        contests.push(ContestBallot {
            ciphertexts: cts,
            compressed,
            zero_one,
            selection,
        });
        nonces.push(rs);
    }
    let ballot = EncryptedBallot {
        election_id: manifest.election_id,
        census_root,
        nullifier,
        contests,
    };
    let audit = BallotAudit {
        selections: selections.to_vec(),
        nonces,
    };
    Ok((ballot, audit))
}

/// What a Benaloh audit reveals (PROTOCOL 6.8): the selections and every encryption
/// nonce. Secret until the voter chooses to audit (an audited ballot is never cast):
/// zeroized on drop, redacted `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct BallotAudit {
    selections: Vec<Vec<bool>>,
    nonces: Vec<Vec<Nonce>>,
}

impl BallotAudit {
    /// Assembles an audit from revealed values.
    pub fn new(selections: Vec<Vec<bool>>, nonces: Vec<Vec<Nonce>>) -> Self {
        Self { selections, nonces }
    }

    /// The revealed selections.
    pub fn expose_selections(&self) -> &[Vec<bool>] {
        &self.selections
    }

    /// The revealed nonces.
    pub fn expose_nonces(&self) -> &[Vec<Nonce>] {
        &self.nonces
    }

    /// Re-encrypts every selection with its nonce and compares with the ballot's
    /// ciphertexts (PROTOCOL 6.8): proves the device encrypted what the voter chose.
    pub fn check(
        &self,
        contests: &[ContestBallot],
        pk: &ElectionPublicKey,
    ) -> Result<(), VerificationError> {
        if contests.len() != self.selections.len() || contests.len() != self.nonces.len() {
            return Err(VerificationError::BallotShape {
                reason: "audit and ballot have different contest counts".into(),
            });
        }
        for (i, ((contest, chosen), rs)) in contests
            .iter()
            .zip(&self.selections)
            .zip(&self.nonces)
            .enumerate()
        {
            if contest.ciphertexts.len() != chosen.len() || chosen.len() != rs.len() {
                return Err(VerificationError::BallotShape {
                    reason: format!("audit and ballot differ in contest {i}"),
                });
            }
            for (j, ((ct, vote), r)) in contest.ciphertexts.iter().zip(chosen).zip(rs).enumerate() {
                if !ct.opens_to(pk, u64::from(*vote), r) {
                    return Err(VerificationError::AuditMismatch {
                        contest: i,
                        option: j,
                    });
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for BallotAudit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BallotAudit(<redacted>)")
    }
}

impl Encode for BallotAudit {
    fn encode(&self, w: &mut Writer) {
        w.u32(u32::try_from(self.selections.len()).unwrap_or(u32::MAX));
        for (chosen, rs) in self.selections.iter().zip(&self.nonces) {
            w.u32(u32::try_from(chosen.len()).unwrap_or(u32::MAX));
            for (vote, r) in chosen.iter().zip(rs) {
                w.bool(*vote);
                w.put(r);
            }
        }
    }
}

impl Decode for BallotAudit {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = r.u32()? as usize;
        if n > MAX_CONTESTS {
            return Err(DecodeError::TooLong {
                what: "audit contests",
                max: MAX_CONTESTS,
                actual: n,
            });
        }
        let mut selections = Vec::with_capacity(n);
        let mut nonces = Vec::with_capacity(n);
        for _ in 0..n {
            let m = r.u32()? as usize;
            if m > MAX_OPTIONS {
                return Err(DecodeError::TooLong {
                    what: "audit options",
                    max: MAX_OPTIONS,
                    actual: m,
                });
            }
            let mut chosen = Vec::with_capacity(m);
            let mut rs = Vec::with_capacity(m);
            for _ in 0..m {
                chosen.push(r.bool()?);
                rs.push(r.get()?);
            }
            selections.push(chosen);
            nonces.push(rs);
        }
        Ok(Self { selections, nonces })
    }
}
