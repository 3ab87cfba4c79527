//! The eligibility statement: the proof's public inputs, typed (PROTOCOL 10.4).

use ark_bn254::Fr;

use crate::types::{BallotDigest, CensusRoot, ElectionId, Nullifier};

/// Positions of the public inputs in the Groth16 instance (PROTOCOL 10.4). The order is
/// part of the verifying key: changing it breaks every key.
pub mod public_input {
    /// The census root.
    pub const CENSUS_ROOT: usize = 0;
    /// The nullifier.
    pub const NULLIFIER: usize = 1;
    /// The election id.
    pub const ELECTION_ID: usize = 2;
    /// The ballot digest.
    pub const BALLOT_DIGEST: usize = 3;
    /// How many public inputs there are.
    pub const COUNT: usize = 4;
}

/// What an eligibility proof claims: "I know a secret whose identity commitment is a leaf
/// of the census with root `census_root`, and `nullifier` is that secret's nullifier for
/// `election_id`; this proof is bound to `ballot_digest`."
///
/// Every component is a canonical field element by construction (its newtype's decoder
/// rejects values `>= r`), so the verifier's public inputs can only come from here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EligibilityStatement {
    census_root: CensusRoot,
    nullifier: Nullifier,
    election_id: ElectionId,
    ballot_digest: BallotDigest,
}

impl EligibilityStatement {
    /// Assembles a statement.
    pub fn new(
        census_root: CensusRoot,
        nullifier: Nullifier,
        election_id: ElectionId,
        ballot_digest: BallotDigest,
    ) -> Self {
        Self {
            census_root,
            nullifier,
            election_id,
            ballot_digest,
        }
    }

    /// The census root.
    pub fn census_root(&self) -> CensusRoot {
        self.census_root
    }

    /// The nullifier.
    pub fn nullifier(&self) -> Nullifier {
        self.nullifier
    }

    /// The election id.
    pub fn election_id(&self) -> ElectionId {
        self.election_id
    }

    /// The ballot digest.
    pub fn ballot_digest(&self) -> BallotDigest {
        self.ballot_digest
    }

    /// The Groth16 public inputs, in the order fixed by [`public_input`].
    pub fn to_field_elements(&self) -> [Fr; public_input::COUNT] {
        let mut x = [Fr::from(0u64); public_input::COUNT];
        x[public_input::CENSUS_ROOT] = self.census_root.to_fr();
        x[public_input::NULLIFIER] = self.nullifier.to_fr();
        x[public_input::ELECTION_ID] = self.election_id.to_fr();
        x[public_input::BALLOT_DIGEST] = self.ballot_digest.to_fr();
        x
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::error::CircuitError;

    #[test]
    fn field_elements_in_protocol_order() {
        let s = EligibilityStatement::new(
            CensusRoot::from_fr(Fr::from(1u64)),
            Nullifier::from_fr(Fr::from(2u64)),
            ElectionId::from_fr(Fr::from(3u64)),
            BallotDigest::from_fr(Fr::from(4u64)),
        );
        assert_eq!(
            s.to_field_elements(),
            [1u64, 2, 3, 4].map(Fr::from),
            "public input order is census_root, nullifier, election_id, ballot_digest"
        );
        assert_eq!(s.nullifier().to_fr(), Fr::from(2u64));
    }

    /// Non-canonical public-input bytes never become a statement: r itself, r + 1 and
    /// 2^256 - 1 are rejected by every component's decoder, r - 1 is accepted.
    #[test]
    fn non_canonical_public_inputs_are_rejected() {
        // r = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001
        let r: [u8; 32] = [
            0x30, 0x64, 0x4e, 0x72, 0xe1, 0x31, 0xa0, 0x29, 0xb8, 0x50, 0x45, 0xb6, 0x81, 0x81,
            0x58, 0x5d, 0x28, 0x33, 0xe8, 0x48, 0x79, 0xb9, 0x70, 0x91, 0x43, 0xe1, 0xf5, 0x93,
            0xf0, 0x00, 0x00, 0x01,
        ];
        let mut r_plus_1 = r;
        r_plus_1[31] = 0x02;
        let mut r_minus_1 = r;
        r_minus_1[31] = 0x00;
        for bad in [r, r_plus_1, [0xff; 32]] {
            assert!(matches!(
                CensusRoot::from_bytes(&bad),
                Err(CircuitError::NonCanonicalFieldElement { .. })
            ));
            assert!(Nullifier::from_bytes(&bad).is_err());
            assert!(ElectionId::from_bytes(&bad).is_err());
            assert!(BallotDigest::from_bytes(&bad).is_err());
        }
        assert!(CensusRoot::from_bytes(&r_minus_1).is_ok());
        assert!(BallotDigest::from_bytes(&r_minus_1).is_ok());
    }
}
