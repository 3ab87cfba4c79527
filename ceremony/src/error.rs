//! The ceremony crate's error type.

use alloc::string::String;

use urna_circuits::CircuitError;

/// The two phases of the ceremony.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Powers of tau, independent of the circuit (PROTOCOL 14.2).
    One,
    /// The circuit-specific update of `delta` (PROTOCOL 14.4).
    Two,
}

impl core::fmt::Display for Phase {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Phase::One => write!(f, "phase 1"),
            Phase::Two => write!(f, "phase 2"),
        }
    }
}

/// The name of a contributor's secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretName {
    /// `tau`, the evaluation point (phase 1).
    Tau,
    /// `alpha` (phase 1).
    Alpha,
    /// `beta` (phase 1).
    Beta,
    /// `delta` (phase 2).
    Delta,
}

impl SecretName {
    /// The one-byte tag hashed into proofs of knowledge and beacon derivations.
    pub(crate) fn tag(self) -> u8 {
        match self {
            SecretName::Tau => 1,
            SecretName::Alpha => 2,
            SecretName::Beta => 3,
            SecretName::Delta => 4,
        }
    }
}

impl core::fmt::Display for SecretName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SecretName::Tau => write!(f, "tau"),
            SecretName::Alpha => write!(f, "alpha"),
            SecretName::Beta => write!(f, "beta"),
            SecretName::Delta => write!(f, "delta"),
        }
    }
}

/// A check of PROTOCOL §14 that a contribution failed. Each names its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Check {
    /// PROTOCOL 14.3.1: the Schnorr proof of knowledge of the secret, or `[x]_1` and
    /// `[x]_2` not holding the same exponent.
    KnowledgeProof(SecretName),
    /// PROTOCOL 14.3.2: the secret is 0 or 1, i.e. the contribution changes nothing
    /// (reuses the previous state) or destroys the parameters.
    Degenerate(SecretName),
    /// PROTOCOL 14.3.3: the new parameters are not the previous ones multiplied by the
    /// secret the proof of knowledge is about.
    Link(SecretName),
    /// PROTOCOL 14.3.4: `[tau^0]_1` or `[tau^0]_2` is not the generator.
    Generators,
    /// PROTOCOL 14.3.4: the `[tau^i]_1` are not consecutive powers of `[tau]_2`'s exponent.
    TauPowersG1,
    /// PROTOCOL 14.3.4: the `[tau^i]_2` are not consecutive powers of `tau`.
    TauPowersG2,
    /// PROTOCOL 14.3.4: the `[alpha tau^i]_1` are not consecutive powers of `tau`.
    AlphaTauPowers,
    /// PROTOCOL 14.3.4: the `[beta tau^i]_1` are not consecutive powers of `tau`.
    BetaTauPowers,
    /// PROTOCOL 14.3.4: `[beta]_2` does not match `[beta]_1`.
    BetaG2,
    /// PROTOCOL 14.5: `[delta]_1` and `[delta]_2` do not hold the same exponent.
    DeltaG2,
    /// PROTOCOL 14.5: the L query was not divided by the new `delta`.
    LQuery,
    /// PROTOCOL 14.5: the H query was not divided by the new `delta`.
    HQuery,
    /// PROTOCOL 14.6: the secret is not the one derived from the beacon.
    Beacon,
}

impl core::fmt::Display for Check {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Check::KnowledgeProof(s) => write!(f, "proof of knowledge of {s} (14.3.1)"),
            Check::Degenerate(s) => write!(f, "{s} is 0 or 1: no change (14.3.2)"),
            Check::Link(s) => write!(f, "link of {s} to the previous state (14.3.3)"),
            Check::Generators => write!(f, "first powers are the generators (14.3.4)"),
            Check::TauPowersG1 => write!(f, "same-ratio check of the G1 powers of tau (14.3.4)"),
            Check::TauPowersG2 => write!(f, "same-ratio check of the G2 powers of tau (14.3.4)"),
            Check::AlphaTauPowers => write!(f, "same-ratio check of alpha tau^i (14.3.4)"),
            Check::BetaTauPowers => write!(f, "same-ratio check of beta tau^i (14.3.4)"),
            Check::BetaG2 => write!(f, "[beta]_2 matches [beta]_1 (14.3.4)"),
            Check::DeltaG2 => write!(f, "[delta]_2 matches [delta]_1 (14.5)"),
            Check::LQuery => write!(f, "same-ratio check of the L query (14.5)"),
            Check::HQuery => write!(f, "same-ratio check of the H query (14.5)"),
            Check::Beacon => write!(f, "secret derived from the beacon (14.6)"),
        }
    }
}

/// Everything that can go wrong in the ceremony crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CeremonyError {
    /// A contribution failed a verification check.
    #[error("{phase} contribution {index}: {check} failed")]
    CheckFailed {
        /// The phase.
        phase: Phase,
        /// The contribution's index in its phase, from 0.
        index: usize,
        /// The failed check.
        check: Check,
    },
    /// Bytes that do not decode (bad point, non-canonical encoding, truncation).
    #[error("invalid encoding: {what}")]
    InvalidEncoding {
        /// What was being decoded.
        what: &'static str,
    },
    /// A vector of the wrong length.
    #[error("{what}: expected {expected} elements, got {actual}")]
    LenMismatch {
        /// Which vector.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        actual: usize,
    },
    /// A size above the bounds of PROTOCOL 14.7.
    #[error("{what}: {actual} exceeds the bound {max}")]
    TooLarge {
        /// Which size.
        what: &'static str,
        /// The bound.
        max: usize,
        /// The value.
        actual: usize,
    },
    /// Phase 1 has too few powers for the circuit's QAP domain.
    #[error("phase 1 has {available} powers of tau, the circuit's domain needs {needed}")]
    TooFewPowers {
        /// Powers `n` in phase 1.
        available: usize,
        /// The QAP domain size.
        needed: usize,
    },
    /// A phase without contributions or not closed by a beacon.
    #[error("{phase} is not closed by a beacon contribution")]
    NotClosed {
        /// The phase.
        phase: Phase,
    },
    /// A beacon contribution that is not the last of its phase, or a contribution after
    /// the phase was closed.
    #[error("{phase} contribution {index} comes after the beacon")]
    AfterBeacon {
        /// The phase.
        phase: Phase,
        /// The contribution's index.
        index: usize,
    },
    /// A beacon contribution with no contribution with a secret before it in its phase:
    /// the beacon's secret is public, so the phase would protect nothing.
    #[error("{phase} would be closed by its beacon without any secret contribution")]
    OnlyBeacon {
        /// The phase.
        phase: Phase,
    },
    /// A key that does not follow from the transcript.
    #[error("the {what} is not the one the transcript derives")]
    KeyMismatch {
        /// Which key.
        what: &'static str,
    },
    /// Constraint synthesis or key wrapping in the circuits crate failed.
    #[error("circuit: {0}")]
    Circuit(#[from] CircuitError),
    /// Constraint synthesis of the eligibility circuit failed.
    #[error("synthesis: {0}")]
    Synthesis(String),
    /// JSON export failed.
    #[error("JSON export: {what}")]
    Json {
        /// What was being exported.
        what: &'static str,
    },
}
