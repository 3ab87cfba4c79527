//! The one error type of the HTTP API (STYLE §18): every variant has a stable,
//! machine-readable code and an HTTP status; internal details are logged, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use urna_protocol::{DecodeError, VerificationError};

use crate::storage::StorageError;

/// An API error. `code()` is stable: clients may match on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The body is not valid JSON of the expected shape.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// The body is larger than the limit of this endpoint.
    #[error("request body larger than this endpoint accepts")]
    BodyTooLarge,
    /// A query or path parameter is missing, malformed or out of range.
    #[error("bad request parameter: {0}")]
    BadParameter(String),
    /// Hex, base64 or a canonical encoding that does not decode.
    #[error("bad encoding: {0}")]
    BadEncoding(String),
    /// A field element at or above the BN254 modulus.
    #[error("non-canonical field element: {what}")]
    NonCanonicalFieldElement {
        /// Which value.
        what: String,
    },
    /// A point that is not on the curve or not canonical.
    #[error("invalid point: {what}")]
    InvalidPoint {
        /// Which value.
        what: String,
    },
    /// The entry's kind is not the one this endpoint takes.
    #[error("expected a {expected} entry, got {actual}")]
    WrongKind {
        /// What the endpoint takes.
        expected: &'static str,
        /// What was posted.
        actual: &'static str,
    },
    /// The entry (or ballot) names another election.
    #[error("the entry is for another election")]
    WrongElection,
    /// No election with this id on the board.
    #[error("unknown election")]
    UnknownElection,
    /// The election already exists.
    #[error("election already exists")]
    ElectionExists,
    /// Nothing at this index, leaf hash or key.
    #[error("not found: {0}")]
    NotFound(String),
    /// The manifest breaks a rule.
    #[error("invalid manifest: {0}")]
    InvalidManifest(String),
    /// The manifest's board key is not this board's key.
    #[error("the manifest names another board key")]
    WrongBoardKey,
    /// The manifest's verifying-key hash is not a key this board has.
    #[error("unknown verifying key {0}")]
    UnknownVerifyingKey(String),
    /// A signature that does not verify under the key the manifest names.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// A trustee index that is not a trustee of the election.
    #[error("unknown trustee {0}")]
    UnknownTrustee(u32),
    /// A setup contributor the manifest does not name, or a contribution to an election
    /// whose keys are fixed by its manifest.
    #[error("unknown setup contributor {0} (contributors are 0 the authority, 1..=n the trustees, then the manifest's extra contributors; an election with fixed keys has none)")]
    UnknownContributor(u32),
    /// A trustee message, complaint or share that fails its protocol checks.
    #[error("invalid entry: {0}")]
    InvalidEntry(String),
    /// A ballot proof (validity or eligibility) that does not verify.
    #[error("invalid ballot: {0}")]
    InvalidBallot(String),
    /// A ballot against a census root that is not the frozen one.
    #[error("census root does not match the frozen census")]
    WrongCensusRoot,
    /// A census-frozen entry whose root or size is not the board's.
    #[error("census mismatch: {0}")]
    CensusMismatch(String),
    /// An entry not allowed in the election's current phase.
    #[error("not allowed in phase {phase}: {reason}")]
    WrongPhase {
        /// The election's phase.
        phase: &'static str,
        /// Why.
        reason: String,
    },
    /// A ballot before the election opened.
    #[error("voting is not open")]
    VotingNotOpen,
    /// A ballot after the election closed (by entry or by the manifest's window).
    #[error("voting is closed")]
    VotingClosed,
    /// A registration or code after the census froze.
    #[error("the census is frozen")]
    CensusFrozen,
    /// A time outside the window allowed by the manifest and the server clock.
    #[error("outside the voting window: {0}")]
    OutsideWindow(String),
    /// A registration with a code whose hash the authority never posted.
    #[error("unknown registration code")]
    UnknownRegistrationCode,
    /// A registration with a code that was already used.
    #[error("registration code already used")]
    RegistrationCodeUsed,
    /// A code hash posted twice.
    #[error("registration code hash already posted")]
    DuplicateCodeHash,
    /// An identity commitment registered twice.
    #[error("identity commitment already registered")]
    DuplicateCommitment,
    /// The census is full (`2^depth` registrations).
    #[error("the census is full")]
    CensusFull,
    /// A second dealer message, complaint or share set from one trustee.
    #[error("duplicate entry: {0}")]
    Duplicate(String),
    /// A ciphertext already on the board under another nullifier.
    #[error("a ciphertext of this ballot is already on the board under another nullifier")]
    CiphertextReused,
    /// The verification queue is full: retry after the given seconds.
    #[error("server busy, retry later")]
    Overloaded {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// This server is a read-only replica (`--read-only`): writes go to the board's
    /// writable servers.
    #[error("this server is a read-only replica of the board: send writes to a writable server")]
    ReadOnly,
    /// This client (by address) sent more writes than its rate limit allows: retry
    /// after the given seconds.
    #[error("too many requests from this address, retry later")]
    RateLimited {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// A database-level uniqueness violation (a race the checks did not catch).
    #[error("conflict with the board's state")]
    Conflict,
    /// Anything else; details are logged only.
    #[error("internal error")]
    Internal(String),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    /// The stable code.
    pub error: &'static str,
    /// A human-readable message.
    pub message: String,
}

impl ApiError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::BodyTooLarge => "body_too_large",
            ApiError::BadParameter(_) => "bad_parameter",
            ApiError::BadEncoding(_) => "bad_encoding",
            ApiError::NonCanonicalFieldElement { .. } => "non_canonical_field_element",
            ApiError::InvalidPoint { .. } => "invalid_point",
            ApiError::WrongKind { .. } => "wrong_entry_kind",
            ApiError::WrongElection => "wrong_election",
            ApiError::UnknownElection => "unknown_election",
            ApiError::ElectionExists => "election_exists",
            ApiError::NotFound(_) => "not_found",
            ApiError::InvalidManifest(_) => "invalid_manifest",
            ApiError::WrongBoardKey => "wrong_board_key",
            ApiError::UnknownVerifyingKey(_) => "unknown_verifying_key",
            ApiError::BadSignature(_) => "bad_signature",
            ApiError::UnknownTrustee(_) => "unknown_trustee",
            ApiError::UnknownContributor(_) => "unknown_contributor",
            ApiError::InvalidEntry(_) => "invalid_entry",
            ApiError::InvalidBallot(_) => "invalid_ballot",
            ApiError::WrongCensusRoot => "wrong_census_root",
            ApiError::CensusMismatch(_) => "census_mismatch",
            ApiError::WrongPhase { .. } => "wrong_phase",
            ApiError::VotingNotOpen => "voting_not_open",
            ApiError::VotingClosed => "voting_closed",
            ApiError::CensusFrozen => "census_frozen",
            ApiError::OutsideWindow(_) => "outside_window",
            ApiError::UnknownRegistrationCode => "unknown_registration_code",
            ApiError::RegistrationCodeUsed => "registration_code_used",
            ApiError::DuplicateCodeHash => "duplicate_code_hash",
            ApiError::DuplicateCommitment => "duplicate_commitment",
            ApiError::CensusFull => "census_full",
            ApiError::Duplicate(_) => "duplicate_entry",
            ApiError::CiphertextReused => "ciphertext_reused",
            ApiError::Overloaded { .. } => "overloaded",
            ApiError::ReadOnly => "read_only",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Conflict => "conflict",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_)
            | ApiError::BadParameter(_)
            | ApiError::BadEncoding(_)
            | ApiError::NonCanonicalFieldElement { .. }
            | ApiError::InvalidPoint { .. }
            | ApiError::WrongKind { .. }
            | ApiError::WrongElection => StatusCode::BAD_REQUEST,
            ApiError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BadSignature(_)
            | ApiError::UnknownTrustee(_)
            | ApiError::UnknownContributor(_) => StatusCode::FORBIDDEN,
            ApiError::UnknownElection | ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::InvalidManifest(_)
            | ApiError::WrongBoardKey
            | ApiError::UnknownVerifyingKey(_)
            | ApiError::InvalidEntry(_)
            | ApiError::InvalidBallot(_)
            | ApiError::WrongCensusRoot
            | ApiError::CensusMismatch(_)
            | ApiError::UnknownRegistrationCode => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::ElectionExists
            | ApiError::WrongPhase { .. }
            | ApiError::VotingNotOpen
            | ApiError::VotingClosed
            | ApiError::CensusFrozen
            | ApiError::OutsideWindow(_)
            | ApiError::RegistrationCodeUsed
            | ApiError::DuplicateCodeHash
            | ApiError::DuplicateCommitment
            | ApiError::CensusFull
            | ApiError::Duplicate(_)
            | ApiError::CiphertextReused
            | ApiError::Conflict => StatusCode::CONFLICT,
            ApiError::Overloaded { .. } | ApiError::ReadOnly => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// An internal error with a detail for the log.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        ApiError::Internal(detail.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            ApiError::Internal(detail) => {
                tracing::error!(detail = %detail, "internal error");
                "internal error".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = (
            status,
            Json(ErrorBody {
                error: self.code(),
                message,
            }),
        )
            .into_response();
        if let ApiError::Overloaded { retry_after } | ApiError::RateLimited { retry_after } = self {
            if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Conflict(detail) => {
                tracing::warn!(detail = %detail, "storage constraint rejected an append");
                ApiError::Conflict
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<DecodeError> for ApiError {
    fn from(e: DecodeError) -> Self {
        match e {
            DecodeError::NonCanonicalFieldElement { what } => ApiError::NonCanonicalFieldElement {
                what: what.to_owned(),
            },
            DecodeError::InvalidPoint { what } | DecodeError::IdentityPoint { what } => {
                ApiError::InvalidPoint {
                    what: what.to_owned(),
                }
            }
            other => ApiError::BadEncoding(other.to_string()),
        }
    }
}

impl From<VerificationError> for ApiError {
    /// The generic mapping; callers map ballot failures to [`ApiError::InvalidBallot`].
    fn from(e: VerificationError) -> Self {
        match e {
            VerificationError::BadSignature { .. }
            | VerificationError::UnauthorisedSigner { .. } => ApiError::BadSignature(e.to_string()),
            VerificationError::UnknownTrustee { index } => ApiError::UnknownTrustee(index),
            VerificationError::UnknownContributor { index } => ApiError::UnknownContributor(index),
            VerificationError::WrongElection => ApiError::WrongElection,
            VerificationError::WrongCensusRoot => ApiError::WrongCensusRoot,
            VerificationError::InvalidManifest { reason } => ApiError::InvalidManifest(reason),
            other => ApiError::InvalidEntry(other.to_string()),
        }
    }
}
