//! The eligibility circuit (PROTOCOL 10.4).
//!
//! # Relation
//!
//! Public: `census_root`, `nullifier`, `election_id`, `ballot_digest` (in this order).
//! Private: `secret`, siblings `s_0 .. s_{d-1}`, index bits `b_0 .. b_{d-1}`.
//!
//! ```text
//! b_l * (1 - b_l) = 0                                   for every level l
//! n_0 = Poseidon_1(secret)                              (the identity commitment)
//! t_l = b_l * (s_l - n_l)                               (one constraint)
//! left_l = n_l + t_l,  right_l = s_l - t_l              (swap when b_l = 1)
//! n_{l+1} = Poseidon_2(left_l, right_l)
//! n_d = census_root
//! Poseidon_3(NULLIFIER_DOMAIN, secret, election_id) = nullifier
//! ballot_digest * ballot_digest = digest_sq             (binds the digest explicitly)
//! ```
//!
//! One struct with `Option` witnesses serves both setup ([`EligibilityCircuit::blank`])
//! and proving ([`EligibilityCircuit::new`]); the depth is fixed per instance.

use alloc::vec::Vec;

use ark_bn254::Fr;
use ark_r1cs_std::{
    alloc::AllocVar,
    boolean::Boolean,
    eq::EqGadget,
    fields::{fp::FpVar, FieldVar},
};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use zeroize::Zeroize;

use crate::census::{check_depth, MerklePath};
use crate::error::CircuitError;
use crate::poseidon::{gadget::PoseidonGadget, nullifier_domain};
use crate::secret::VoterSecret;
use crate::statement::{public_input, EligibilityStatement};

/// The eligibility circuit for one census depth.
///
/// The private witness is zeroized when the circuit is dropped (best effort: arkworks
/// keeps its own copy of the assignment while proving).
#[derive(Clone)]
pub struct EligibilityCircuit {
    depth: u32,
    secret: Option<Fr>,
    siblings: Option<Vec<Fr>>,
    index_bits: Option<Vec<bool>>,
    public: Option<[Fr; public_input::COUNT]>,
}

impl core::fmt::Debug for EligibilityCircuit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EligibilityCircuit")
            .field("depth", &self.depth)
            .field("has_witness", &self.secret.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for EligibilityCircuit {
    fn drop(&mut self) {
        self.secret.zeroize();
        if let Some(s) = self.siblings.as_mut() {
            s.zeroize();
        }
        if let Some(b) = self.index_bits.as_mut() {
            b.zeroize();
        }
    }
}

impl EligibilityCircuit {
    /// The circuit without a witness, for key generation and counting constraints.
    pub fn blank(depth: u32) -> Result<Self, CircuitError> {
        check_depth(depth)?;
        Ok(Self {
            depth,
            secret: None,
            siblings: None,
            index_bits: None,
            public: None,
        })
    }

    /// The circuit with a full assignment. The depth is the path's. Nothing is checked
    /// here: [`crate::prove`] checks the witness natively first.
    pub fn new(secret: &VoterSecret, path: &MerklePath, statement: &EligibilityStatement) -> Self {
        Self {
            depth: path.depth(),
            secret: Some(*secret.expose_secret()),
            siblings: Some(path.siblings().to_vec()),
            index_bits: Some(path.index_bits()),
            public: Some(statement.to_field_elements()),
        }
    }

    /// The census depth.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    fn public_value(&self, i: usize) -> Result<Fr, SynthesisError> {
        self.public
            .map(|x| x[i])
            .ok_or(SynthesisError::AssignmentMissing)
    }

    fn synthesize(&self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let depth = self.depth as usize;
        // The gadgets' parameters come from light-poseidon and cannot fail for widths
        // 2..=4; a failure would be a broken dependency, reported as an arity error.
        let h1 = PoseidonGadget::new(1).map_err(|_| SynthesisError::ArityMismatch)?;
        let h2 = PoseidonGadget::new(2).map_err(|_| SynthesisError::ArityMismatch)?;
        let h3 = PoseidonGadget::new(3).map_err(|_| SynthesisError::ArityMismatch)?;

        // PROTOCOL 10.4: public inputs, allocated in the statement's order.
        let census_root =
            FpVar::new_input(cs.clone(), || self.public_value(public_input::CENSUS_ROOT))?;
        let nullifier =
            FpVar::new_input(cs.clone(), || self.public_value(public_input::NULLIFIER))?;
        let election_id =
            FpVar::new_input(cs.clone(), || self.public_value(public_input::ELECTION_ID))?;
        let ballot_digest = FpVar::new_input(cs.clone(), || {
            self.public_value(public_input::BALLOT_DIGEST)
        })?;

        // Private witness.
        let secret = FpVar::new_witness(cs.clone(), || {
            self.secret.ok_or(SynthesisError::AssignmentMissing)
        })?;
        let mut siblings = Vec::with_capacity(depth);
        let mut bits = Vec::with_capacity(depth);
        for l in 0..depth {
            siblings.push(FpVar::new_witness(cs.clone(), || {
                self.siblings
                    .as_ref()
                    .and_then(|s| s.get(l).copied())
                    .ok_or(SynthesisError::AssignmentMissing)
            })?);
            // Boolean::new_witness enforces b * (1 - b) = 0.
            bits.push(Boolean::new_witness(cs.clone(), || {
                self.index_bits
                    .as_ref()
                    .and_then(|b| b.get(l).copied())
                    .ok_or(SynthesisError::AssignmentMissing)
            })?);
        }

        // PROTOCOL 10.4 (1): the leaf is the identity commitment Poseidon_1(secret).
        let mut node = h1.hash(core::slice::from_ref(&secret))?;

        // PROTOCOL 10.4 (2): walk up with a one-constraint conditional swap per level.
        for (sibling, bit) in siblings.iter().zip(bits.iter()) {
            let t = FpVar::from(bit.clone()) * (sibling - &node);
            let left = &node + &t;
            let right = sibling - &t;
            node = h2.hash(&[left, right])?;
        }
        // PROTOCOL 10.4 (3): the root reached is the public census root.
        node.enforce_equal(&census_root)?;

        // PROTOCOL 10.4 (4): nullifier = Poseidon_3(NULLIFIER_DOMAIN, secret, election_id).
        let computed = h3.hash(&[FpVar::Constant(nullifier_domain()), secret, election_id])?;
        computed.enforce_equal(&nullifier)?;

        // PROTOCOL 10.4 (5): bind the ballot digest with an explicit constraint, so no
        // tool can drop it as an unused input.
        let digest_sq = FpVar::new_witness(cs.clone(), || {
            let d = self.public_value(public_input::BALLOT_DIGEST)?;
            Ok(d * d)
        })?;
        ballot_digest.mul_equals(&ballot_digest, &digest_sq)?;
        Ok(())
    }
}

impl ConstraintSynthesizer<Fr> for EligibilityCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        self.synthesize(cs)
    }
}

/// The number of R1CS constraints of the eligibility circuit at `depth`, as the Groth16
/// setup sees them (PROTOCOL 10.4): `242 * depth + 474`, e.g. 5,314 at depth 20.
pub fn num_constraints(depth: u32) -> Result<usize, CircuitError> {
    Ok(crate::shape::CircuitShape::for_depth(depth)?.num_constraints)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::census::CensusTree;
    use crate::types::{BallotDigest, ElectionId, IdentityCommitment};
    use ark_ff::UniformRand;
    use ark_relations::gr1cs::ConstraintSystem;
    use rand_chacha::rand_core::SeedableRng;

    struct Fixture {
        circuit: EligibilityCircuit,
    }

    /// An honest assignment at `depth` for the voter at leaf `index` of a small census.
    fn fixture(depth: u32, index: usize, seed: u64) -> Fixture {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let n = 6usize.min(1 << depth);
        let secrets: Vec<VoterSecret> = (0..n).map(|_| VoterSecret::random(&mut rng)).collect();
        let leaves: Vec<IdentityCommitment> = secrets
            .iter()
            .map(|s| s.identity_commitment().unwrap())
            .collect();
        let tree = CensusTree::from_leaves(depth, &leaves).unwrap();
        let election_id = ElectionId::from_fr(Fr::rand(&mut rng));
        let secret = &secrets[index];
        let statement = EligibilityStatement::new(
            tree.root(),
            secret.nullifier(&election_id).unwrap(),
            election_id,
            BallotDigest::from_fr(Fr::rand(&mut rng)),
        );
        let path = tree.path(index as u64).unwrap();
        Fixture {
            circuit: EligibilityCircuit::new(secret, &path, &statement),
        }
    }

    fn is_satisfied(circuit: EligibilityCircuit) -> bool {
        let cs = ConstraintSystem::<Fr>::new_ref();
        circuit.generate_constraints(cs.clone()).unwrap();
        cs.is_satisfied().unwrap()
    }

    #[test]
    fn honest_witness_satisfies_at_several_positions() {
        for (depth, index) in [(4u32, 0usize), (4, 3), (4, 5), (1, 1)] {
            let f = fixture(depth, index, 40 + index as u64);
            assert!(is_satisfied(f.circuit), "depth {depth} index {index}");
        }
    }

    /// Every private and public value is constrained: changing any one of them leaves
    /// the constraint system unsatisfied (0xPARC zk-bug-tracker: under-constrained
    /// circuits).
    #[test]
    fn mutated_witnesses_are_unsatisfied() {
        type Mutation = fn(&mut EligibilityCircuit);
        let mutations: [(&str, Mutation); 8] = [
            ("sibling", |c| {
                c.siblings.as_mut().unwrap()[2] += Fr::from(1u64)
            }),
            ("index bit", |c| {
                let b = &mut c.index_bits.as_mut().unwrap()[1];
                *b = !*b;
            }),
            ("secret", |c| {
                *c.secret.as_mut().unwrap() += Fr::from(1u64);
            }),
            ("census root", |c| {
                c.public.as_mut().unwrap()[public_input::CENSUS_ROOT] += Fr::from(1u64);
            }),
            ("nullifier", |c| {
                c.public.as_mut().unwrap()[public_input::NULLIFIER] += Fr::from(1u64);
            }),
            ("election id", |c| {
                c.public.as_mut().unwrap()[public_input::ELECTION_ID] += Fr::from(1u64);
            }),
            ("top sibling", |c| {
                c.siblings.as_mut().unwrap()[3] += Fr::from(1u64);
            }),
            ("bottom index bit", |c| {
                let b = &mut c.index_bits.as_mut().unwrap()[0];
                *b = !*b;
            }),
        ];
        for (name, mutate) in mutations {
            let mut f = fixture(4, 3, 7);
            assert!(is_satisfied(f.circuit.clone()), "{name}: honest twin");
            mutate(&mut f.circuit);
            assert!(
                !is_satisfied(f.circuit),
                "{name}: mutated witness satisfied"
            );
        }
    }

    /// Synthesizes honestly, inlines every linear combination (so no cached value
    /// survives), lets `poke` overwrite assigned values as a cheating prover would, and
    /// reports satisfaction.
    fn satisfied_after(
        circuit: EligibilityCircuit,
        poke: impl FnOnce(&mut Vec<Fr>, &mut Vec<Fr>),
    ) -> bool {
        let cs = ConstraintSystem::<Fr>::new_ref();
        circuit.generate_constraints(cs.clone()).unwrap();
        cs.finalize();
        {
            let mut inner = cs.borrow_mut().unwrap();
            let a = &mut inner.assignments;
            poke(&mut a.instance_assignment, &mut a.witness_assignment);
        }
        cs.is_satisfied().unwrap()
    }

    /// The digest is bound: a prover who claims another digest than the one the witness
    /// squares violates `digest * digest = digest_sq`.
    #[test]
    fn wrong_digest_is_unsatisfied() {
        // instance_assignment[0] is the constant 1; public inputs follow in order.
        let slot = 1 + public_input::BALLOT_DIGEST;
        assert!(satisfied_after(fixture(4, 3, 7).circuit, |_, _| {}));
        assert!(!satisfied_after(fixture(4, 3, 7).circuit, |x, _| {
            x[slot] += Fr::from(1u64)
        }));
        // The digest's square is the last witness; changing it alone also fails.
        assert!(!satisfied_after(fixture(4, 3, 7).circuit, |_, w| {
            let last = w.len() - 1;
            w[last] += Fr::from(1u64)
        }));
    }

    /// A non-boolean "bit" would let a prover blend the two children; the booleanity
    /// constraint forbids it. Witness layout: secret, then (sibling, bit) per level.
    #[test]
    fn index_bits_must_be_boolean() {
        let bit_slot = 2;
        assert!(satisfied_after(fixture(4, 3, 8).circuit, |_, _| {}));
        assert!(!satisfied_after(fixture(4, 3, 8).circuit, |_, w| {
            w[bit_slot] = Fr::from(2u64)
        }));
    }

    /// Pinned constraint counts (STYLE §14): 242 per level plus 474.
    #[test]
    fn pinned_constraint_count() {
        assert_eq!(num_constraints(20).unwrap(), 5_314);
        assert_eq!(num_constraints(4).unwrap(), 242 * 4 + 474);
        assert_eq!(num_constraints(1).unwrap(), 242 + 474);
        assert!(num_constraints(0).is_err());
    }
}
