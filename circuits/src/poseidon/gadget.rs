//! In-circuit Poseidon, the R1CS twin of [`crate::poseidon`] (PROTOCOL 10.2).
//!
//! The round constants and MDS matrix are taken at run time from light-poseidon's own
//! parameter function (`light_poseidon::parameters::bn254_x5::get_poseidon_parameters`),
//! so the native hash and the gadget cannot drift apart by a mistyped constant. The
//! permutation follows light-poseidon's structure exactly:
//!
//! ```text
//! state = [0, x_1, ..., x_n]                      (t = n + 1)
//! for round in 0..(R_F/2 + R_P + R_F/2):
//!     state[i] += ark[round * t + i]              (all i)
//!     full round:    state[i] = state[i]^5        (all i)
//!     partial round: state[0] = state[0]^5
//!     state = M * state                            (state'[i] = sum_j M[i][j] state[j])
//! output state[0]
//! ```
//!
//! In the circuit, each round's constant addition is folded into the preceding MDS layer
//! (`state'[i] = sum_j M[i][j] state[j] + ark[(round + 1) * t + i]`), which is the same
//! function written as one linear combination per state element.
//!
//! # Cost
//!
//! Each S-box `x^5` is three multiplications (`x^2`, `x^4`, `x^4 * x`), so one constraint
//! each; additions of constants and the MDS layer are linear and free. A hash therefore
//! costs `3 * (R_F * t + R_P)` constraints, minus 3 for every S-box whose input is a
//! constant (the zero capacity element in the first round, and a constant domain tag):
//! 213 for t = 2, 240 for t = 3, and 258 for t = 4 with a constant first input.

use alloc::vec::Vec;

use ark_bn254::Fr;
use ark_ff::{One, Zero};
use ark_r1cs_std::fields::{
    fp::{AllocatedFp, FpVar},
    FieldVar,
};
use ark_relations::gr1cs::{LinearCombination, SynthesisError, Variable};
use light_poseidon::parameters::bn254_x5::get_poseidon_parameters;

use crate::error::CircuitError;

/// The circomlib parameters for one width, as used by the gadget.
#[derive(Clone)]
pub struct PoseidonGadget {
    width: usize,
    full_rounds: usize,
    partial_rounds: usize,
    /// Round constants, `width` per round, round-major.
    ark: Vec<Fr>,
    /// MDS matrix, row-major: `mds[i][j]`.
    mds: Vec<Vec<Fr>>,
}

impl core::fmt::Debug for PoseidonGadget {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PoseidonGadget")
            .field("width", &self.width)
            .field("full_rounds", &self.full_rounds)
            .field("partial_rounds", &self.partial_rounds)
            .finish_non_exhaustive()
    }
}

impl PoseidonGadget {
    /// The circomlib instance for `n_inputs` inputs (width `n_inputs + 1`), read from
    /// light-poseidon's parameter tables.
    pub fn new(n_inputs: usize) -> Result<Self, CircuitError> {
        let width = n_inputs + 1;
        let t = u8::try_from(width)
            .map_err(|_| CircuitError::Poseidon(alloc::format!("width {width} too large")))?;
        let params = get_poseidon_parameters::<Fr>(t)
            .map_err(|e| CircuitError::Poseidon(alloc::format!("{e}")))?;
        // The gadget hard-codes x^5 and the round layout below; refuse anything else.
        let rounds = params.full_rounds + params.partial_rounds;
        if params.alpha != 5
            || params.width != width
            || params.full_rounds % 2 != 0
            || params.ark.len() != rounds * width
            || params.mds.len() != width
            || params.mds.iter().any(|row| row.len() != width)
        {
            return Err(CircuitError::Poseidon(alloc::format!(
                "unexpected light-poseidon parameters for width {width}"
            )));
        }
        Ok(Self {
            width,
            full_rounds: params.full_rounds,
            partial_rounds: params.partial_rounds,
            ark: params.ark,
            mds: params.mds,
        })
    }

    /// The permutation width `t`.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The number of full rounds `R_F`.
    pub fn full_rounds(&self) -> usize {
        self.full_rounds
    }

    /// The number of partial rounds `R_P`.
    pub fn partial_rounds(&self) -> usize {
        self.partial_rounds
    }

    /// `Poseidon_n(inputs)` in the circuit; `inputs.len()` must be `width - 1`.
    pub fn hash(&self, inputs: &[FpVar<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
        if inputs.len() + 1 != self.width {
            return Err(SynthesisError::ArityMismatch);
        }
        // Capacity element (light-poseidon's domain tag) is zero for circomlib.
        let mut state: Vec<FpVar<Fr>> = Vec::with_capacity(self.width);
        state.push(FpVar::zero());
        state.extend(inputs.iter().cloned());

        let half = self.full_rounds / 2;
        let rounds = self.full_rounds + self.partial_rounds;
        let one = [Fr::one()];
        // Round 0's constants; every later round's constants are folded into the
        // preceding MDS layer, so each state element is one linear combination.
        state = state
            .iter()
            .enumerate()
            .map(|(i, s)| linear_combination(&one, core::slice::from_ref(s), self.ark[i]))
            .collect::<Result<_, _>>()?;
        for round in 0..rounds {
            // S-boxes: all lanes in full rounds, lane 0 in partial rounds.
            let full = round < half || round >= half + self.partial_rounds;
            if full {
                for s in state.iter_mut() {
                    *s = sbox(s)?;
                }
            } else {
                state[0] = sbox(&state[0])?;
            }
            // MDS layer plus the next round's constants (linear: no constraints).
            let next = round + 1;
            state = self
                .mds
                .iter()
                .enumerate()
                .map(|(i, row)| {
                    let c = if next < rounds {
                        self.ark[next * self.width + i]
                    } else {
                        Fr::zero()
                    };
                    linear_combination(row, &state, c)
                })
                .collect::<Result<_, _>>()?;
        }
        Ok(state.swap_remove(0))
    }
}

/// `sum_i coeffs[i] * xs[i] + constant` as a single symbolic linear combination: no
/// constraint, and one entry for the constraint system to inline instead of one per
/// addition and scaling (which made LC inlining a large share of proving time).
fn linear_combination(
    coeffs: &[Fr],
    xs: &[FpVar<Fr>],
    constant: Fr,
) -> Result<FpVar<Fr>, SynthesisError> {
    let mut konst = constant;
    let mut terms = Vec::with_capacity(xs.len() + 1);
    let mut value = Some(Fr::zero());
    let mut cs = None;
    for (c, x) in coeffs.iter().zip(xs) {
        match x {
            FpVar::Constant(k) => konst += *c * k,
            FpVar::Var(v) => {
                terms.push((*c, v.variable));
                // No value in setup mode; then the sum has none either.
                value = value.and_then(|acc| v.value().ok().map(|val| acc + *c * val));
                cs = Some(v.cs.clone());
            }
        }
    }
    let Some(cs) = cs else {
        return Ok(FpVar::Constant(konst));
    };
    if !konst.is_zero() {
        terms.push((konst, Variable::One));
    }
    let value = value.map(|v| v + konst);
    let variable = cs.new_lc(|| LinearCombination(terms))?;
    Ok(FpVar::Var(AllocatedFp::new(value, variable, cs)))
}

/// `x^5` with three multiplication constraints (none when `x` is a constant).
fn sbox(x: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let x2 = x.square()?;
    let x4 = x2.square()?;
    Ok(x4 * x)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::poseidon;
    use ark_ff::UniformRand;
    use ark_r1cs_std::{alloc::AllocVar, eq::EqGadget, GR1CSVar};
    use ark_relations::gr1cs::ConstraintSystem;
    use rand_chacha::rand_core::SeedableRng;

    /// For each width used (t = 2, 3, 4): the gadget's value equals light-poseidon's on
    /// random inputs and the constraint system is satisfied; the failing twin is an
    /// equality against a perturbed expected value, which must not be satisfied.
    #[test]
    fn gadget_equals_native_for_each_width() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(102);
        let expected_rounds = [(2usize, 56usize), (3, 57), (4, 56)];
        for (t, rp) in expected_rounds {
            let gadget = PoseidonGadget::new(t - 1).unwrap();
            assert_eq!(gadget.width(), t);
            assert_eq!(gadget.full_rounds(), 8);
            assert_eq!(gadget.partial_rounds(), rp);
            for trial in 0..3 {
                let inputs: Vec<Fr> = (0..t - 1).map(|_| Fr::rand(&mut rng)).collect();
                let native = poseidon::hash(&inputs).unwrap();

                let cs = ConstraintSystem::<Fr>::new_ref();
                let vars: Vec<FpVar<Fr>> = inputs
                    .iter()
                    .map(|x| FpVar::new_witness(cs.clone(), || Ok(*x)).unwrap())
                    .collect();
                let out = gadget.hash(&vars).unwrap();
                assert_eq!(out.value().unwrap(), native, "t = {t}, trial {trial}");
                let expected = FpVar::new_input(cs.clone(), || Ok(native)).unwrap();
                out.enforce_equal(&expected).unwrap();
                assert!(cs.is_satisfied().unwrap(), "t = {t}");

                // Failing twin.
                let cs = ConstraintSystem::<Fr>::new_ref();
                let vars: Vec<FpVar<Fr>> = inputs
                    .iter()
                    .map(|x| FpVar::new_witness(cs.clone(), || Ok(*x)).unwrap())
                    .collect();
                let out = gadget.hash(&vars).unwrap();
                let wrong = FpVar::new_input(cs.clone(), || Ok(native + Fr::from(1u64))).unwrap();
                out.enforce_equal(&wrong).unwrap();
                assert!(!cs.is_satisfied().unwrap(), "t = {t}");
            }
        }
    }

    #[test]
    fn constraint_costs() {
        for (t, cost) in [(2usize, 213usize), (3, 240)] {
            let gadget = PoseidonGadget::new(t - 1).unwrap();
            let cs = ConstraintSystem::<Fr>::new_ref();
            let vars: Vec<FpVar<Fr>> = (0..t - 1)
                .map(|i| FpVar::new_witness(cs.clone(), || Ok(Fr::from(i as u64))).unwrap())
                .collect();
            let _ = gadget.hash(&vars).unwrap();
            assert_eq!(cs.num_constraints(), cost, "t = {t}");
        }
        // t = 4 with a constant first input (the nullifier's domain tag).
        let gadget = PoseidonGadget::new(3).unwrap();
        let cs = ConstraintSystem::<Fr>::new_ref();
        let mut vars = vec![FpVar::constant(poseidon::nullifier_domain())];
        for i in 0..2u64 {
            vars.push(FpVar::new_witness(cs.clone(), || Ok(Fr::from(i))).unwrap());
        }
        let _ = gadget.hash(&vars).unwrap();
        assert_eq!(cs.num_constraints(), 258);
    }

    #[test]
    fn wrong_arity_is_an_error() {
        let gadget = PoseidonGadget::new(2).unwrap();
        assert_eq!(
            gadget.hash(&[FpVar::zero()]).unwrap_err(),
            SynthesisError::ArityMismatch
        );
    }
}
