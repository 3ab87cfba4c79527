//! Native Poseidon: the circomlib-compatible instance over BN254 (PROTOCOL 10.2).
//!
//! Every hash in this crate is `Poseidon_n`, the circomlib instance with `n` inputs and
//! width `t = n + 1`: S-box `x^5`, 8 full rounds and circomlib's partial-round count for
//! the width (56 for t = 2, 57 for t = 3, 56 for t = 4), the first state element (the
//! capacity) starts at zero and the output is the first state element after the
//! permutation. The native side is the `light-poseidon` crate; its in-circuit twin, built
//! from exactly the same constants, is [`gadget`].
//!
//! The three uses are separated by width (PROTOCOL 10.2):
//!
//! | use | hash | width |
//! |---|---|---|
//! | identity commitment | `Poseidon_1(secret)` | t = 2 |
//! | census tree node | `Poseidon_2(left, right)` | t = 3 |
//! | nullifier | `Poseidon_3(NULLIFIER_DOMAIN, secret, election_id)` | t = 4 |
//!
//! Distinct widths are distinct permutations (different round constants and MDS
//! matrices), so no output of one use is an output of another by construction of the
//! inputs alone; the nullifier additionally carries a fixed domain tag.

pub mod gadget;

use alloc::format;

use ark_bn254::Fr;
use ark_ff::PrimeField;
use light_poseidon::{Poseidon, PoseidonHasher};

use crate::error::CircuitError;

/// ASCII label whose big-endian integer value is [`nullifier_domain`] (PROTOCOL 10.2).
pub const NULLIFIER_DOMAIN_LABEL: &[u8] = b"urna/v1/nullifier";

/// `NULLIFIER_DOMAIN`: the label `"urna/v1/nullifier"` read as a big-endian integer
/// (17 bytes, so below 2^136 < r and no reduction happens).
pub fn nullifier_domain() -> Fr {
    Fr::from_be_bytes_mod_order(NULLIFIER_DOMAIN_LABEL)
}

fn poseidon_error(e: light_poseidon::PoseidonError) -> CircuitError {
    CircuitError::Poseidon(format!("{e}"))
}

/// Reusable native hashers for the three widths used by Urna.
///
/// Building a light-poseidon instance converts a few hundred round constants, so code
/// that hashes many times (the census tree) keeps one of these and reuses it.
pub struct NativePoseidon {
    t2: Poseidon<Fr>,
    t3: Poseidon<Fr>,
    t4: Poseidon<Fr>,
}

impl core::fmt::Debug for NativePoseidon {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("NativePoseidon { widths: [2, 3, 4] }")
    }
}

impl NativePoseidon {
    /// Instantiates the circomlib parameters for 1, 2 and 3 inputs.
    pub fn new() -> Result<Self, CircuitError> {
        Ok(Self {
            t2: Poseidon::<Fr>::new_circom(1).map_err(poseidon_error)?,
            t3: Poseidon::<Fr>::new_circom(2).map_err(poseidon_error)?,
            t4: Poseidon::<Fr>::new_circom(3).map_err(poseidon_error)?,
        })
    }

    /// `Poseidon_1(x)` (t = 2).
    pub fn hash1(&mut self, x: Fr) -> Result<Fr, CircuitError> {
        self.t2.hash(&[x]).map_err(poseidon_error)
    }

    /// `Poseidon_2(a, b)` (t = 3).
    pub fn hash2(&mut self, a: Fr, b: Fr) -> Result<Fr, CircuitError> {
        self.t3.hash(&[a, b]).map_err(poseidon_error)
    }

    /// `Poseidon_3(a, b, c)` (t = 4).
    pub fn hash3(&mut self, a: Fr, b: Fr, c: Fr) -> Result<Fr, CircuitError> {
        self.t4.hash(&[a, b, c]).map_err(poseidon_error)
    }

    /// Identity commitment `Poseidon_1(secret)` (PROTOCOL 10.2).
    pub fn identity_commitment(&mut self, secret: Fr) -> Result<Fr, CircuitError> {
        self.hash1(secret)
    }

    /// Census tree node `Poseidon_2(left, right)` (PROTOCOL 10.2, 10.3).
    pub fn node(&mut self, left: Fr, right: Fr) -> Result<Fr, CircuitError> {
        self.hash2(left, right)
    }

    /// Nullifier `Poseidon_3(NULLIFIER_DOMAIN, secret, election_id)` (PROTOCOL 10.2).
    pub fn nullifier(&mut self, secret: Fr, election_id: Fr) -> Result<Fr, CircuitError> {
        self.hash3(nullifier_domain(), secret, election_id)
    }
}

/// One-shot `Poseidon_n(inputs)` for `n = inputs.len()` in `1..=12` (circomlib widths).
///
/// Urna itself only uses `n` in `1..=3`; the other widths exist for cross-checking
/// published vectors.
pub fn hash(inputs: &[Fr]) -> Result<Fr, CircuitError> {
    Poseidon::<Fr>::new_circom(inputs.len())
        .map_err(poseidon_error)?
        .hash(inputs)
        .map_err(poseidon_error)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::types::fr_to_bytes;

    fn fr_hex(s: &str) -> Fr {
        let bytes = hex::decode(s).unwrap();
        Fr::from_be_bytes_mod_order(&bytes)
    }

    fn fr_dec(s: &str) -> Fr {
        use core::str::FromStr;
        Fr::from_str(s).unwrap()
    }

    /// Published circomlib / circomlibjs outputs (PROTOCOL 10.7).
    #[test]
    fn circomlib_vectors() {
        let one = Fr::from(1u64);
        let two = Fr::from(2u64);
        let three = Fr::from(3u64);
        let zero = Fr::from(0u64);
        let cases: [(&[Fr], Fr); 7] = [
            (
                &[zero],
                fr_hex("2a09a9fd93c590c26b91effbb2499f07e8f7aa12e2b4940a3aed2411cb65e11c"),
            ),
            (
                &[one],
                fr_hex("29176100eaa962bdc1fe6c654d6a3c130e96a4d1168b33848b897dc502820133"),
            ),
            (
                &[one, two],
                fr_hex("115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a"),
            ),
            (
                &[one, two, three],
                fr_hex("0e7732d89e6939c0ff03d5e58dab6302f3230e269dc5b968f725df34ab36d732"),
            ),
            (
                &[zero, zero, zero],
                fr_dec(
                    "5317387130258456662214331362918410991734007599705406860481038345552731150762",
                ),
            ),
            (
                &[one, zero, zero],
                fr_dec(
                    "16319005924338521988144249782199320915969277491928916027259324394544057385749",
                ),
            ),
            (
                &[one, two, three, Fr::from(4u64)],
                fr_hex("299c867db6c1fdd79dcefa40e4510b9837e60ebb1ce0663dbaa525df65250465"),
            ),
        ];
        for (inputs, expected) in cases {
            assert_eq!(hash(inputs).unwrap(), expected, "inputs {inputs:?}");
        }
        // Failing twin: a swapped input order gives another value.
        assert_ne!(hash(&[two, one]).unwrap(), cases[2].1);
    }

    #[test]
    fn reusable_hasher_matches_one_shot() {
        let mut h = NativePoseidon::new().unwrap();
        let (a, b, c) = (Fr::from(7u64), Fr::from(8u64), Fr::from(9u64));
        assert_eq!(h.hash1(a).unwrap(), hash(&[a]).unwrap());
        assert_eq!(h.hash2(a, b).unwrap(), hash(&[a, b]).unwrap());
        assert_eq!(h.hash3(a, b, c).unwrap(), hash(&[a, b, c]).unwrap());
        // Reuse keeps no state between calls.
        assert_eq!(h.hash2(a, b).unwrap(), hash(&[a, b]).unwrap());
        assert_eq!(
            h.nullifier(b, c).unwrap(),
            hash(&[nullifier_domain(), b, c]).unwrap()
        );
    }

    #[test]
    fn nullifier_domain_is_the_label_as_an_integer() {
        let mut expected = [0u8; 32];
        expected[32 - NULLIFIER_DOMAIN_LABEL.len()..].copy_from_slice(NULLIFIER_DOMAIN_LABEL);
        assert_eq!(fr_to_bytes(&nullifier_domain()), expected);
        assert_eq!(
            hex::encode(expected),
            "00000000000000000000000000000075726e612f76312f6e756c6c6966696572"
        );
    }
}
