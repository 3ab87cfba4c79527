//! The protocol crate's errors.
//!
//! [`DecodeError`] says why bytes were not a canonical encoding; [`VerificationError`]
//! names the check that failed (each variant cites its PROTOCOL step); [`Error`] is the
//! crate's one error type and wraps both.

use alloc::string::String;

/// Bytes that are not the canonical encoding of the expected object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended early.
    #[error("input ended early: needed {needed} bytes, {remaining} remain")]
    UnexpectedEnd {
        /// Bytes the next field needs.
        needed: usize,
        /// Bytes left in the input.
        remaining: usize,
    },
    /// Bytes were left after the object.
    #[error("{count} trailing bytes after the object")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// A length or count above its bound.
    #[error("{what} too long: at most {max}, got {actual}")]
    TooLong {
        /// Which field.
        what: &'static str,
        /// Largest accepted.
        max: usize,
        /// What the input claimed.
        actual: usize,
    },
    /// A boolean or option tag that is neither 0 nor 1.
    #[error("invalid boolean or option byte {0:#04x}")]
    InvalidBool(u8),
    /// A string that is not UTF-8.
    #[error("{what} is not valid UTF-8")]
    InvalidUtf8 {
        /// Which field.
        what: &'static str,
    },
    /// 32 bytes that do not decompress to a Ristretto255 point.
    #[error("{what} is not a valid Ristretto255 point encoding")]
    InvalidPoint {
        /// Which field.
        what: &'static str,
    },
    /// The identity point where it is meaningless.
    #[error("{what} must not be the identity point")]
    IdentityPoint {
        /// Which field.
        what: &'static str,
    },
    /// A scalar at or above the Ristretto255 group order.
    #[error("{what} is not a canonical scalar")]
    NonCanonicalScalar {
        /// Which field.
        what: &'static str,
    },
    /// A BN254 field element at or above the modulus.
    #[error("{what} is not a canonical BN254 field element")]
    NonCanonicalFieldElement {
        /// Which field.
        what: &'static str,
    },
    /// A format version this implementation does not know.
    #[error("unsupported format version {0}")]
    UnsupportedVersion(u8),
    /// The type tag of another object.
    #[error("wrong type tag: expected {expected:#04x}, got {actual:#04x}")]
    WrongTag {
        /// The tag of the type asked for.
        expected: u8,
        /// The tag found.
        actual: u8,
    },
    /// An enum discriminant that names no variant.
    #[error("unknown {what} kind {value}")]
    UnknownKind {
        /// Which enum.
        what: &'static str,
        /// The byte found.
        value: u8,
    },
    /// A value that decodes but breaks a rule of its type.
    #[error("invalid {what}: {reason}")]
    InvalidValue {
        /// Which field.
        what: &'static str,
        /// The rule broken.
        reason: &'static str,
    },
}

/// A check that failed; each variant names the check (and PROTOCOL step).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerificationError {
    // ---- manifest (PROTOCOL §3) ----
    /// The manifest breaks a structural rule.
    #[error("invalid manifest: {reason}")]
    InvalidManifest {
        /// The rule broken.
        reason: String,
    },

    // ---- signatures (PROTOCOL §9) ----
    /// An Ed25519 signature that does not verify.
    #[error("bad signature by {signer}")]
    BadSignature {
        /// Who was meant to have signed.
        signer: String,
    },
    /// A key that the manifest does not allow to sign this entry.
    #[error("signer not authorised for {entry}: {signer}")]
    UnauthorisedSigner {
        /// Entry kind.
        entry: &'static str,
        /// The key or role found.
        signer: String,
    },

    /// A setup-ceremony contributor index the manifest does not name (PROTOCOL 14.10),
    /// or any contributor when the manifest's setup is not a ceremony.
    #[error("unknown setup contributor {index}")]
    UnknownContributor {
        /// The index found.
        index: u32,
    },

    // ---- ballots (PROTOCOL §5, §6) ----
    /// The ballot's shape does not match the manifest.
    #[error("ballot shape does not match the manifest: {reason}")]
    BallotShape {
        /// What differs.
        reason: String,
    },
    /// A disjunctive proof that an option encrypts 0 or 1 failed.
    #[error("0/1 proof failed for contest {contest} option {option}")]
    ZeroOneProof {
        /// Contest index.
        contest: usize,
        /// Option index.
        option: usize,
    },
    /// The proof that the number of selections is within [min, max] failed.
    #[error("selection-count proof failed for contest {contest}")]
    SelectionCountProof {
        /// Contest index.
        contest: usize,
    },
    /// The ballot names another election.
    #[error("ballot is for another election")]
    WrongElection,
    /// The ballot digest does not match its contents.
    #[error("ballot digest does not match the ballot")]
    BallotDigestMismatch,
    /// The Groth16 eligibility proof failed.
    #[error("eligibility proof failed: {reason}")]
    EligibilityProof {
        /// The circuit crate's reason.
        reason: String,
    },
    /// The census root is not the frozen one.
    #[error("census root does not match the frozen census")]
    WrongCensusRoot,
    /// A batch of validity-proof equations failed (PROTOCOL 6.5); the proofs are then
    /// re-checked one by one to name the failed one.
    #[error("batched validity-proof check failed")]
    ValidityBatch,
    /// A Benaloh audit's revealed choice and nonce do not re-encrypt to the ballot's
    /// ciphertext (PROTOCOL 6.8).
    #[error("audit does not open contest {contest} option {option}")]
    AuditMismatch {
        /// Contest index.
        contest: usize,
        /// Option index.
        option: usize,
    },
    /// The Groth16 verifying key is not the one whose hash the manifest names.
    #[error("verifying key does not match the manifest's hash")]
    VerifyingKeyMismatch,
    /// A ballot in a batch failed (PROTOCOL 6.7); `index` is its position in the batch.
    #[error("ballot {index} of the batch failed: {source}")]
    BallotInBatch {
        /// Position of the ballot in the batch.
        index: usize,
        /// Why it failed.
        source: alloc::boxed::Box<VerificationError>,
    },

    // ---- key ceremony (PROTOCOL §7) ----
    /// A trustee index outside 1..=n, or a duplicate.
    #[error("unknown or duplicate trustee {index}")]
    UnknownTrustee {
        /// The index found.
        index: u32,
    },
    /// A trustee published the wrong number of coefficient commitments.
    #[error("trustee {trustee} published {actual} commitments, expected {expected}")]
    CommitmentCount {
        /// Trustee index.
        trustee: u32,
        /// The threshold t.
        expected: usize,
        /// What was published.
        actual: usize,
    },
    /// A Schnorr proof of knowledge of a coefficient failed.
    #[error("proof of knowledge failed for trustee {trustee} coefficient {coefficient}")]
    CoefficientProof {
        /// Trustee index.
        trustee: u32,
        /// Coefficient index.
        coefficient: usize,
    },
    /// An encrypted share could not be decrypted.
    #[error("share from trustee {dealer} to trustee {recipient} does not decrypt")]
    ShareDecryption {
        /// Sender.
        dealer: u32,
        /// Receiver.
        recipient: u32,
    },
    /// A share that does not match the dealer's commitments.
    #[error("share from trustee {dealer} to trustee {recipient} does not match the commitments")]
    ShareMismatch {
        /// Sender.
        dealer: u32,
        /// Receiver.
        recipient: u32,
    },
    /// A complaint that does not prove what it claims.
    #[error("invalid complaint by trustee {complainer} against trustee {accused}")]
    InvalidComplaint {
        /// Who complained.
        complainer: u32,
        /// Against whom.
        accused: u32,
    },

    /// A dealer published the wrong number of encrypted shares (PROTOCOL 7.4).
    #[error("trustee {trustee} published {actual} encrypted shares, expected {expected}")]
    ShareCount {
        /// Dealer index.
        trustee: u32,
        /// The number of trustees n.
        expected: usize,
        /// What was published.
        actual: usize,
    },
    /// Fewer than t dealers remain qualified after complaints (PROTOCOL 7.6).
    #[error("only {qualified} qualified dealers, need at least {threshold}")]
    TooFewQualifiedDealers {
        /// Dealers left.
        qualified: usize,
        /// The threshold t.
        threshold: usize,
    },
    /// The qualified dealers' constant terms sum to the identity (PROTOCOL 7.6).
    #[error("the joint election key is the identity point")]
    DegenerateElectionKey,

    // ---- tally (PROTOCOL §8) ----
    /// A decryption share's Chaum-Pedersen proof failed.
    #[error(
        "decryption share proof failed for trustee {trustee}, contest {contest}, option {option}"
    )]
    DecryptionShareProof {
        /// Trustee index.
        trustee: u32,
        /// Contest index.
        contest: usize,
        /// Option index.
        option: usize,
    },
    /// A trustee's decryption shares do not match the aggregate's contests and options.
    #[error("decryption shares of trustee {trustee} do not match the aggregate's shape")]
    DecryptionShareShape {
        /// Trustee index.
        trustee: u32,
    },
    /// Fewer than t distinct shares.
    #[error("not enough decryption shares: have {have}, need {need}")]
    NotEnoughShares {
        /// Distinct shares given.
        have: usize,
        /// The threshold.
        need: usize,
    },
    /// A count above the number of ballots (no discrete log in range).
    #[error("count for contest {contest} option {option} is not in 0..={max}")]
    CountOutOfRange {
        /// Contest index.
        contest: usize,
        /// Option index.
        option: usize,
        /// Largest possible count.
        max: u64,
    },
    /// A published tally that differs from the decrypted aggregate.
    #[error("published tally does not match: {reason}")]
    TallyMismatch {
        /// What differs.
        reason: String,
    },
    /// The homomorphic aggregate does not match the ballots.
    #[error("aggregate ciphertext does not match the counted ballots")]
    AggregateMismatch,
}

/// The protocol crate's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bytes were not a canonical encoding.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A check failed.
    #[error(transparent)]
    Verification(#[from] VerificationError),
    /// A caller passed arguments that cannot work (e.g. threshold above n).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}
