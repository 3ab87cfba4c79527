//! The circuits crate's error type.

use alloc::string::String;

/// Everything that can go wrong in the circuits crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CircuitError {
    /// 32 bytes that encode an integer at or above the BN254 scalar-field modulus.
    /// Public inputs are never reduced (Semaphore #16, snarkjs CVE-2023-33252).
    #[error("{what} is not a canonical BN254 field element")]
    NonCanonicalFieldElement {
        /// Which value.
        what: &'static str,
    },
    /// Wrong input length.
    #[error("{what}: expected {expected} bytes, got {actual}")]
    LenMismatch {
        /// Which value.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        actual: usize,
    },
    /// A proof or key that does not deserialize with full checks (on curve, in subgroup).
    #[error("invalid {what} encoding")]
    InvalidEncoding {
        /// Which object.
        what: &'static str,
    },
    /// A census depth outside 1..=32.
    #[error("census depth {0} is not in 1..=32")]
    InvalidDepth(u32),
    /// A leaf index beyond the tree's capacity, or a full tree.
    #[error("leaf index {index} out of range for depth {depth}")]
    LeafIndexOutOfRange {
        /// The index.
        index: u64,
        /// The tree depth.
        depth: u32,
    },
    /// A Merkle path of the wrong length.
    #[error("Merkle path has {actual} siblings, the tree has depth {expected}")]
    PathLength {
        /// The depth.
        expected: usize,
        /// Siblings given.
        actual: usize,
    },
    /// A Merkle path that does not lead from the leaf to the census root.
    #[error("the Merkle path does not lead from the leaf to the census root")]
    NotInCensus,
    /// A proving or verifying key whose hash is not the one expected.
    #[error("{what} hash does not match the committed hash")]
    KeyHashMismatch {
        /// Which key.
        what: &'static str,
    },
    /// The verifying key is for another census depth or circuit.
    #[error("verifying key has {actual} public inputs, the circuit has {expected}")]
    WrongKeyShape {
        /// Expected public inputs.
        expected: usize,
        /// Found.
        actual: usize,
    },
    /// A Groth16 proof that does not verify against its statement.
    #[error("eligibility proof does not verify")]
    ProofRejected,
    /// Batch verification failed; the indices of the proofs at fault.
    #[error("{} of the batch's proofs do not verify", bad.len())]
    BatchRejected {
        /// Indices (into the batch) of the proofs that fail alone.
        bad: alloc::vec::Vec<usize>,
    },
    /// The witness does not satisfy the circuit (e.g. a wrong path or secret).
    #[error("witness does not satisfy the eligibility circuit")]
    Unsatisfied,
    /// Poseidon failed (e.g. wrong arity).
    #[error("poseidon: {0}")]
    Poseidon(String),
    /// Proving or setup failed inside arkworks.
    #[error("groth16 {0} failed")]
    Groth16(String),
}
