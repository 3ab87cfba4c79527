//! The crate's one error type. Every variant has a stable [`WebError::code`] that the
//! pages map to a message for the voter.

use urna_circuits::CircuitError;
use urna_log::LogError;
use urna_protocol::{DecodeError, Error as ProtocolError, VerificationError};

/// Why a web-client operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// Hex that does not decode or has the wrong length.
    #[error("{what}: {reason}")]
    BadHex {
        /// The field.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A registration code that is not 16 bytes of hex.
    #[error("a registration code is 32 hexadecimal digits (dashes and spaces are ignored)")]
    BadRegistrationCode,
    /// A credential file that is not one.
    #[error("not an Urna credential: {0}")]
    NotACredential(&'static str),
    /// A credential of another election.
    #[error("this credential is for another election")]
    CredentialForOtherElection,
    /// An audit file that is not one.
    #[error("not an Urna ballot audit: {0}")]
    NotAnAudit(&'static str),
    /// JSON input of the wrong shape.
    #[error("bad input: {0}")]
    BadInput(String),
    /// The selections break a contest's rules.
    #[error("contest {contest} ({title}): choose between {min} and {max} options, not {chosen}")]
    SelectionCount {
        /// Contest index (0-based).
        contest: usize,
        /// Its title.
        title: String,
        /// Fewest allowed.
        min: u32,
        /// Most allowed.
        max: u32,
        /// How many were chosen.
        chosen: usize,
    },
    /// The board sent a board entry of the wrong kind or election.
    #[error("the board sent an unexpected entry: {0}")]
    UnexpectedEntry(String),
    /// The census path the board sent does not lead from the voter's commitment to the
    /// census root.
    #[error("the census path does not match this credential and the frozen census")]
    CensusPathMismatch,
    /// The proving key does not fit the election.
    #[error("the proving key does not fit this election: {0}")]
    ProvingKey(String),
    /// The board's key is not the one the manifest names.
    #[error("the board's checkpoint key is not the board key named in the manifest")]
    BoardKeyMismatch,
    /// The board's election key is not the one its key ceremony gives.
    #[error("the board's election key is not the one its key ceremony gives")]
    ElectionKeyMismatch,
    /// A receipt that does not verify.
    #[error("the receipt does not verify: {0}")]
    Receipt(String),
    /// An audit whose ciphertexts do not open to the revealed choices.
    #[error("the audit fails: {0}")]
    AuditFailed(String),
    /// A protocol object that does not decode.
    #[error("decoding: {0}")]
    Decode(#[from] DecodeError),
    /// A protocol check that failed.
    #[error("verification: {0}")]
    Verification(#[from] VerificationError),
    /// Another protocol error.
    #[error("protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// A circuit error (proving, Poseidon, census path).
    #[error("eligibility proof: {0}")]
    Circuit(#[from] CircuitError),
    /// A log error (checkpoint, proofs).
    #[error("log: {0}")]
    Log(#[from] LogError),
}

impl WebError {
    /// A stable, machine-readable code for the pages.
    pub fn code(&self) -> &'static str {
        match self {
            WebError::BadHex { .. } => "bad_hex",
            WebError::BadRegistrationCode => "bad_registration_code",
            WebError::NotACredential(_) => "not_a_credential",
            WebError::CredentialForOtherElection => "credential_other_election",
            WebError::NotAnAudit(_) => "not_an_audit",
            WebError::BadInput(_) => "bad_input",
            WebError::SelectionCount { .. } => "selection_count",
            WebError::UnexpectedEntry(_) => "unexpected_entry",
            WebError::CensusPathMismatch => "census_path_mismatch",
            WebError::ProvingKey(_) => "proving_key",
            WebError::BoardKeyMismatch => "board_key_mismatch",
            WebError::ElectionKeyMismatch => "election_key_mismatch",
            WebError::Receipt(_) => "receipt_invalid",
            WebError::AuditFailed(_) => "audit_failed",
            WebError::Decode(_) => "decode",
            WebError::Verification(_) => "verification",
            WebError::Protocol(_) => "protocol",
            WebError::Circuit(_) => "circuit",
            WebError::Log(_) => "log",
        }
    }
}

/// Decodes hex (either case) of any length.
pub(crate) fn from_hex(what: &'static str, s: &str) -> Result<Vec<u8>, WebError> {
    hex::decode(s.trim()).map_err(|e| WebError::BadHex {
        what,
        reason: e.to_string(),
    })
}

/// Decodes exactly 32 bytes of hex.
pub(crate) fn hex32(what: &'static str, s: &str) -> Result<[u8; 32], WebError> {
    from_hex(what, s)?.try_into().map_err(|_| WebError::BadHex {
        what,
        reason: "not 32 bytes".into(),
    })
}
