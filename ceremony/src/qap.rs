//! The eligibility circuit's R1CS, synthesised as the Groth16 generator does.

use ark_bn254::Fr;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisMode, R1CS_PREDICATE_LABEL,
};
use ark_relations::utils::matrix::Matrix;
use urna_circuits::circuit::EligibilityCircuit;

use crate::error::CeremonyError;

/// The R1CS of the eligibility circuit at one census depth.
pub(crate) struct Qap {
    /// `[A, B, C]`, one row per constraint; variables are numbered instance first
    /// (the constant 1 at index 0), then witness.
    pub(crate) matrices: Vec<Matrix<Fr>>,
    /// Instance variables including the constant.
    pub(crate) num_instance: usize,
    /// Witness variables.
    pub(crate) num_witness: usize,
    /// Constraints.
    pub(crate) num_constraints: usize,
}

fn synthesis_error(e: impl core::fmt::Display) -> CeremonyError {
    CeremonyError::Synthesis(e.to_string())
}

impl Qap {
    /// Synthesises the blank circuit of `depth` (optimisation goal: constraints, setup
    /// mode), with tracing switched off: arkworks' gadgets open a span per allocation,
    /// which under an active subscriber makes synthesis quadratic in time and memory.
    pub(crate) fn for_depth(depth: u32) -> Result<Self, CeremonyError> {
        tracing::dispatcher::with_default(&tracing::Dispatch::none(), || Self::synthesise(depth))
    }

    fn synthesise(depth: u32) -> Result<Self, CeremonyError> {
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

    /// The QAP domain size: constraints plus one row per instance variable, rounded up
    /// to a power of two (as arkworks' libsnark reduction).
    pub(crate) fn domain_size(&self) -> usize {
        (self.num_constraints + self.num_instance).next_power_of_two()
    }

    /// The column of matrix `which` for every variable: `(row, coefficient)` pairs.
    pub(crate) fn columns(&self, which: usize) -> Vec<Vec<(usize, Fr)>> {
        let mut cols = vec![Vec::new(); self.num_instance + self.num_witness];
        for (row, entries) in self.matrices[which].iter().enumerate() {
            for &(coeff, var) in entries {
                if let Some(col) = cols.get_mut(var) {
                    col.push((row, coeff));
                }
            }
        }
        cols
    }
}

/// The QAP domain size of the eligibility circuit at census `depth`: the number of
/// phase-1 powers `n` it needs.
pub fn domain_size(depth: u32) -> Result<usize, CeremonyError> {
    Ok(Qap::for_depth(depth)?.domain_size())
}
