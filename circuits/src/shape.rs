//! The eligibility circuit's constraint matrices, computed once per proving key.
//!
//! A Groth16 prover needs the R1CS matrices `A, B, C` to compute the quotient `h(X)`
//! (PROTOCOL 10.5). arkworks' default prover rebuilds them on every proof: it records
//! every linear combination while synthesising, inlines them and converts them to
//! matrices, which costs about as much as the multi-scalar multiplications. The matrices
//! depend only on the census depth, so [`CircuitShape`] computes them once (by the same
//! synthesis in setup mode that the key generator runs) and the prover then synthesises
//! only the witness.

use alloc::vec::Vec;

use ark_bn254::{Bn254, Fr};
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisMode, R1CS_PREDICATE_LABEL,
};
use ark_relations::utils::matrix::Matrix;

use crate::circuit::EligibilityCircuit;
use crate::error::CircuitError;

/// The R1CS of the eligibility circuit at one depth.
pub(crate) struct CircuitShape {
    /// `[A, B, C]`, one row per constraint, entries `(coefficient, variable index)` with
    /// the instance variables (the constant 1 first) before the witness variables.
    pub(crate) matrices: Vec<Matrix<Fr>>,
    /// Instance variables, including the constant 1.
    pub(crate) num_instance: usize,
    /// Witness variables.
    pub(crate) num_witness: usize,
    /// Constraints.
    pub(crate) num_constraints: usize,
}

/// Runs `f` with tracing switched off on this thread.
///
/// arkworks' gadgets open a `tracing` span per allocation and comparison, and some spans
/// record their arguments with `Debug`, which prints the whole constraint system. Under
/// an active subscriber (the server's and the CLI's logs) synthesis then becomes
/// quadratic in time and memory: gigabytes at census depth 20. Synthesis never logs
/// anything useful, so it runs with no subscriber.
pub(crate) fn quietly<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(feature = "std")]
    {
        tracing::dispatcher::with_default(&tracing::Dispatch::none(), f)
    }
    #[cfg(not(feature = "std"))]
    {
        f()
    }
}

fn synthesis_error(e: impl core::fmt::Display) -> CircuitError {
    CircuitError::Groth16(alloc::format!("synthesis: {e}"))
}

impl CircuitShape {
    /// Synthesises the blank circuit of `depth` as the Groth16 generator does
    /// (optimisation goal: constraints, i.e. every linear combination inlined).
    pub(crate) fn for_depth(depth: u32) -> Result<Self, CircuitError> {
        quietly(|| Self::synthesise(depth))
    }

    fn synthesise(depth: u32) -> Result<Self, CircuitError> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        EligibilityCircuit::blank(depth)?
            .generate_constraints(cs.clone())
            .map_err(synthesis_error)?;
        cs.finalize();
        let num_instance = cs.num_instance_variables();
        let num_witness = cs.num_witness_variables();
        let num_constraints = cs.num_constraints();
        let mut all = cs.to_matrices().map_err(synthesis_error)?;
        let matrices = all
            .remove(R1CS_PREDICATE_LABEL)
            .ok_or_else(|| synthesis_error("no R1CS predicate"))?;
        if matrices.len() != 3 || matrices.iter().any(|m| m.len() != num_constraints) {
            return Err(synthesis_error("malformed R1CS matrices"));
        }
        Ok(Self {
            matrices,
            num_instance,
            num_witness,
            num_constraints,
        })
    }

    /// Checks that `pk` has one query point per variable of this circuit, so the prover
    /// never indexes past a query vector and a key for another depth is refused.
    pub(crate) fn check_key(
        &self,
        pk: &ark_groth16::ProvingKey<Bn254>,
    ) -> Result<(), CircuitError> {
        let variables = self.num_instance + self.num_witness;
        // The QAP domain holds the constraints plus one row per instance variable;
        // `h(X)` has degree below the domain size.
        let domain = (self.num_constraints + self.num_instance).next_power_of_two();
        let fits = pk.a_query.len() == variables
            && pk.b_g1_query.len() == variables
            && pk.b_g2_query.len() == variables
            && pk.l_query.len() == self.num_witness
            && pk.vk.gamma_abc_g1.len() == self.num_instance
            && pk.h_query.len() + 1 == domain;
        if fits {
            Ok(())
        } else {
            Err(CircuitError::InvalidEncoding {
                what: "proving key (its size does not match the circuit of its depth)",
            })
        }
    }

    /// Synthesises `circuit` in witness-only mode and returns the full assignment
    /// `(1, public inputs, witness)`.
    pub(crate) fn assignment(&self, circuit: EligibilityCircuit) -> Result<Vec<Fr>, CircuitError> {
        quietly(|| self.witness(circuit))
    }

    fn witness(&self, circuit: EligibilityCircuit) -> Result<Vec<Fr>, CircuitError> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Prove {
            construct_matrices: false,
            generate_lc_assignments: false,
        });
        circuit
            .generate_constraints(cs.clone())
            .map_err(synthesis_error)?;
        cs.finalize();
        let mut full = cs.instance_assignment().map_err(synthesis_error)?;
        let witness = cs.witness_assignment().map_err(synthesis_error)?;
        if full.len() != self.num_instance || witness.len() != self.num_witness {
            return Err(synthesis_error(
                "the witness does not have the shape of the circuit",
            ));
        }
        full.extend_from_slice(&witness);
        Ok(full)
    }
}
