//! Phase 2: the circuit-specific parameters and the updates of `delta`
//! (PROTOCOL 14.4, 14.5).
//!
//! From the final phase-1 parameters and the eligibility circuit's QAP, [`initial`]
//! computes Groth16 keys with `gamma = delta = 1`; each contribution multiplies
//! `[delta]_1`, `[delta]_2` by a fresh secret `d` and the L and H queries by `1/d`.

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::scalar_mul::glv::GLVConfig;
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{Field, One, Zero};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use rand_core::CryptoRngCore;
use rayon::prelude::*;
use urna_circuits::{ProvingKey, VerifyingKey};

use crate::beacon::{beacon_pok, beacon_secret, matches_beacon, Beacon};
use crate::codec::{Reader, Writer};
use crate::error::{CeremonyError, Check, Phase, SecretName};
use crate::phase1::Phase1Params;
use crate::pok::{KnowledgeProof, Secret};
use crate::qap::Qap;
use crate::ratio::{g1, g2, pairing_eq, same_ratio_g1};

/// The largest L or H query a phase-2 contribution may carry (PROTOCOL 14.7).
pub const MAX_QUERY_LEN: usize = 1 << 17;

/// Phase-2 parameters: a Groth16 proving key for the eligibility circuit at one depth.
#[derive(Clone)]
pub struct Phase2Params {
    depth: u32,
    pk: ark_groth16::ProvingKey<Bn254>,
}

impl core::fmt::Debug for Phase2Params {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Phase2Params(depth={}, l={}, h={})",
            self.depth,
            self.pk.l_query.len(),
            self.pk.h_query.len()
        )
    }
}

/// Scalar multiplication with the curve's GLV endomorphism: arkworks 0.6 uses it for
/// BN254's G1 but not for G2, where it halves the doublings. Phase 2's initial
/// parameters are tens of thousands of such multiplications (PROTOCOL 14.4).
pub(crate) trait GlvMul: CurveGroup<ScalarField = Fr> {
    /// `p * s`.
    fn glv_mul(p: &Self, s: &Fr) -> Self;
}

impl<P: GLVConfig<ScalarField = Fr>> GlvMul for ark_ec::short_weierstrass::Projective<P> {
    fn glv_mul(p: &Self, s: &Fr) -> Self {
        P::glv_mul_projective(*p, *s)
    }
}

/// Columns with more non-unit coefficients than this are combined by a (parallel)
/// bucket multi-scalar multiplication; shorter ones by [`combine_small`].
const LONG_COLUMN: usize = 64;

/// Splits `sum_{(row, c) in col} c * basis[row]`: the `±1` terms are added into the
/// returned point, the other non-zero terms are returned as `(c, basis[row])` pairs.
/// Rows outside `basis` are skipped.
fn split_unit_terms<G: GlvMul>(
    col: &[(usize, Fr)],
    basis: &[G::Affine],
) -> (G, Vec<(Fr, G::Affine)>) {
    let mut acc = G::zero();
    let mut terms = Vec::new();
    for (row, c) in col {
        let Some(p) = basis.get(*row) else { continue };
        if c.is_one() {
            acc += p;
        } else if (-*c).is_one() {
            acc -= p;
        } else if !c.is_zero() {
            terms.push((*c, *p));
        }
    }
    (acc, terms)
}

/// `sum_{(row, c) in col} c * basis[row]` for a short column: additions for the `±1`
/// coefficients; the other terms grouped by coefficient (Poseidon's MDS constants repeat
/// within a column), their bases added, and one GLV multiplication per distinct
/// coefficient. Serial: the columns run in parallel.
fn combine_small<G: GlvMul>(col: &[(usize, Fr)], basis: &[G::Affine]) -> G {
    let (mut acc, mut terms) = split_unit_terms::<G>(col, basis);
    terms.sort_unstable_by_key(|x| x.0);
    let mut k = 0;
    while k < terms.len() {
        let c = terms[k].0;
        let mut sum = G::zero();
        while k < terms.len() && terms[k].0 == c {
            sum += terms[k].1;
            k += 1;
        }
        acc += G::glv_mul(&sum, &c);
    }
    acc
}

/// [`combine_small`] for a long column (the constant's, with one round constant per
/// Poseidon row): a bucket multi-scalar multiplication, itself parallel.
fn combine_long<G: GlvMul>(col: &[(usize, Fr)], basis: &[G::Affine]) -> G {
    let (acc, terms) = split_unit_terms::<G>(col, basis);
    let (scalars, bases): (Vec<Fr>, Vec<G::Affine>) = terms.into_iter().unzip();
    acc + G::msm_unchecked(&bases, &scalars)
}

/// Every column of a matrix combined with `basis`: short columns in parallel (serially
/// each), long ones one after the other with a parallel multi-scalar multiplication
/// (nesting that in the parallel iterator overflowed the worker threads' stacks).
fn combine_all<G: GlvMul>(cols: &[Vec<(usize, Fr)>], basis: &[G::Affine]) -> Vec<G> {
    let long = |col: &Vec<(usize, Fr)>| col.len() > LONG_COLUMN;
    let mut out: Vec<G> = cols
        .par_iter()
        .map(|col| {
            if long(col) {
                G::zero()
            } else {
                combine_small(col, basis)
            }
        })
        .collect();
    for (i, col) in cols.iter().enumerate() {
        if long(col) {
            out[i] = combine_long(col, basis);
        }
    }
    out
}

/// A group element whose multiplication by a scalar uses [`GlvMul`], so that arkworks'
/// FFT (which multiplies by twiddle factors through `MulAssign<Fr>`) runs GLV in G2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Glv<G>(G);

impl<G: GlvMul> core::ops::Add for Glv<G> {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Glv(self.0 + o.0)
    }
}

impl<G: GlvMul> core::ops::Sub for Glv<G> {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        Glv(self.0 - o.0)
    }
}

impl<G: GlvMul> core::ops::AddAssign for Glv<G> {
    fn add_assign(&mut self, o: Self) {
        self.0 += o.0;
    }
}

impl<G: GlvMul> core::ops::SubAssign for Glv<G> {
    fn sub_assign(&mut self, o: Self) {
        self.0 -= o.0;
    }
}

impl<G: GlvMul> core::ops::MulAssign<Fr> for Glv<G> {
    fn mul_assign(&mut self, s: Fr) {
        self.0 = G::glv_mul(&self.0, &s);
    }
}

impl<G: GlvMul> Zero for Glv<G> {
    fn zero() -> Self {
        Glv(G::zero())
    }
    fn is_zero(&self) -> bool {
        self.0.is_zero()
    }
}

/// The Lagrange-basis elements `[L_j(tau) * k]` from the powers `[tau^i * k]` (`i < m`):
/// an inverse FFT over the group, since `L_j(X) = (1/m) sum_i omega^{-ij} X^i`.
fn lagrange<G: GlvMul>(
    domain: &GeneralEvaluationDomain<Fr>,
    powers: &[G::Affine],
) -> Vec<G::Affine> {
    let mut v: Vec<Glv<G>> = powers.par_iter().map(|p| Glv(p.into_group())).collect();
    domain.ifft_in_place(&mut v);
    let v: Vec<G> = v.into_iter().map(|g| g.0).collect();
    G::normalize_batch(&v)
}

/// Computes the initial phase-2 parameters (`delta = gamma = 1`) for census `depth`
/// from the final phase-1 parameters (PROTOCOL 14.4).
pub fn initial(phase1: &Phase1Params, depth: u32) -> Result<Phase2Params, CeremonyError> {
    let qap = Qap::for_depth(depth)?;
    let m = qap.domain_size();
    if m > phase1.n() {
        return Err(CeremonyError::TooFewPowers {
            available: phase1.n(),
            needed: m,
        });
    }
    let domain = GeneralEvaluationDomain::<Fr>::new(m).ok_or(CeremonyError::TooFewPowers {
        available: phase1.n(),
        needed: m,
    })?;
    if domain.size() != m {
        return Err(CeremonyError::Synthesis(
            "unexpected QAP domain size".into(),
        ));
    }
    // [L_j(tau)]_1, [L_j(tau)]_2, [alpha L_j(tau)]_1, [beta L_j(tau)]_1
    let lag_g1 = lagrange::<G1Projective>(&domain, &phase1.tau_g1()[..m]);
    let lag_g2 = lagrange::<G2Projective>(&domain, &phase1.tau_g2()[..m]);
    let alpha_lag = lagrange::<G1Projective>(&domain, &phase1.alpha_tau_g1()[..m]);
    let beta_lag = lagrange::<G1Projective>(&domain, &phase1.beta_tau_g1()[..m]);

    let (cols_a, cols_b, cols_c) = (qap.columns(0), qap.columns(1), qap.columns(2));
    let nc = qap.num_constraints;
    let ni = qap.num_instance;
    // Instance variable i also has A-coefficient 1 in the extra row nc + i (libsnark's
    // reduction, which arkworks' prover uses).
    let extra = |i: usize| if i < ni { Some(nc + i) } else { None };

    let mut a_query = combine_all::<G1Projective>(&cols_a, &lag_g1);
    let b_g1_query = combine_all::<G1Projective>(&cols_b, &lag_g1);
    let b_g2_query = combine_all::<G2Projective>(&cols_b, &lag_g2);
    // [beta u_i + alpha v_i + w_i]_1
    let mut abc = combine_all::<G1Projective>(&cols_a, &beta_lag);
    for (i, (b, c)) in combine_all::<G1Projective>(&cols_b, &alpha_lag)
        .into_iter()
        .zip(combine_all::<G1Projective>(&cols_c, &lag_g1))
        .enumerate()
    {
        abc[i] += b + c;
        if let Some(row) = extra(i) {
            abc[i] += beta_lag[row];
            a_query[i] += lag_g1[row];
        }
    }
    // [tau^i t(tau)]_1 = [tau^{i+m}]_1 - [tau^i]_1 for i < m - 1
    let tau = phase1.tau_g1();
    let h_query: Vec<G1Projective> = (0..m - 1)
        .into_par_iter()
        .map(|i| tau[i + m].into_group() - tau[i])
        .collect();

    let abc = G1Projective::normalize_batch(&abc);
    let vk = ark_groth16::VerifyingKey::<Bn254> {
        alpha_g1: phase1.alpha_tau_g1()[0],
        beta_g2: phase1.beta_g2(),
        gamma_g2: g2(),
        delta_g2: g2(),
        gamma_abc_g1: abc[..ni].to_vec(),
    };
    let pk = ark_groth16::ProvingKey::<Bn254> {
        vk,
        beta_g1: phase1.beta_tau_g1()[0],
        delta_g1: g1(),
        a_query: G1Projective::normalize_batch(&a_query),
        b_g1_query: G1Projective::normalize_batch(&b_g1_query),
        b_g2_query: G2Projective::normalize_batch(&b_g2_query),
        h_query: G1Projective::normalize_batch(&h_query),
        l_query: abc[ni..].to_vec(),
    };
    Ok(Phase2Params { depth, pk })
}

impl Phase2Params {
    /// The census depth.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// The arkworks proving key these parameters are.
    pub fn as_ark(&self) -> &ark_groth16::ProvingKey<Bn254> {
        &self.pk
    }

    /// Replaces `delta` and the L and H queries by a contribution's. Call only after
    /// [`verify_contribution`] accepted it.
    pub fn apply(&mut self, c: &Phase2Contribution) {
        self.pk.delta_g1 = c.delta_g1;
        self.pk.vk.delta_g2 = c.delta_g2;
        self.pk.l_query.clone_from(&c.l_query);
        self.pk.h_query.clone_from(&c.h_query);
    }

    /// The proving and verifying keys, checked by the circuits crate.
    pub fn into_keys(self) -> Result<(ProvingKey, VerifyingKey), CeremonyError> {
        let vk = VerifyingKey::from_ark(self.pk.vk.clone())?;
        let pk = ProvingKey::from_ark(self.depth, self.pk)?;
        Ok((pk, vk))
    }

    /// What a contributor needs of these parameters: `delta` and the L and H queries.
    pub fn state(&self) -> Phase2State {
        Phase2State {
            delta_g1: self.pk.delta_g1,
            delta_g2: self.pk.vk.delta_g2,
            l_query: self.pk.l_query.clone(),
            h_query: self.pk.h_query.clone(),
        }
    }
}

/// The part of the phase-2 parameters a contribution changes (PROTOCOL 14.5, 14.10):
/// what a contributor downloads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase2State {
    /// `[delta]_1`.
    pub delta_g1: G1Affine,
    /// `[delta]_2`.
    pub delta_g2: G2Affine,
    /// The L query.
    pub l_query: Vec<G1Affine>,
    /// The H query.
    pub h_query: Vec<G1Affine>,
}

impl Phase2State {
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.g1(&self.delta_g1);
        w.g2(&self.delta_g2);
        // Lengths are bounded by MAX_QUERY_LEN < 2^32 when decoded or computed.
        w.u32(self.l_query.len() as u32);
        w.g1s(&self.l_query);
        w.u32(self.h_query.len() as u32);
        w.g1s(&self.h_query);
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, CeremonyError> {
        Ok(Self {
            delta_g1: r.g1("phase-2 state [delta]_1")?,
            delta_g2: r.g2("phase-2 state [delta]_2")?,
            l_query: query(r, "phase-2 state L query")?,
            h_query: query(r, "phase-2 state H query")?,
        })
    }
}

/// `delta · d`, and the L and H queries divided by `d` (PROTOCOL 14.5).
fn update(
    delta_g1: &G1Affine,
    delta_g2: &G2Affine,
    l: &[G1Affine],
    h: &[G1Affine],
    d: &Secret,
) -> Result<Phase2Contribution, CeremonyError> {
    {
        let d = d.expose_secret();
        let mut d_inv = d
            .inverse()
            .ok_or(CeremonyError::Synthesis("zero delta".into()))?;
        let div = |v: &[G1Affine]| {
            let out: Vec<G1Projective> = v.par_iter().map(|p| *p * d_inv).collect();
            G1Projective::normalize_batch(&out)
        };
        let l_query = div(l);
        let h_query = div(h);
        zeroize::Zeroize::zeroize(&mut d_inv);
        Ok(Phase2Contribution {
            delta_g1: (*delta_g1 * d).into_affine(),
            delta_g2: (*delta_g2 * d).into_affine(),
            l_query,
            h_query,
            // Filled in by the caller.
            delta: KnowledgeProof {
                g1: G1Affine::zero(),
                g2: G2Affine::zero(),
                commitment: G1Affine::zero(),
                response: Fr::zero(),
            },
            beacon: None,
        })
    }
}

/// A phase-2 contribution: the new `delta` and L, H queries, and the proof of knowledge
/// of the secret `d`; for the closing contribution, the beacon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase2Contribution {
    /// `[delta]_1` after the contribution.
    pub delta_g1: G1Affine,
    /// `[delta]_2` after the contribution.
    pub delta_g2: G2Affine,
    /// The L query divided by `d`.
    pub l_query: Vec<G1Affine>,
    /// The H query divided by `d`.
    pub h_query: Vec<G1Affine>,
    /// Proof of knowledge of `d`.
    pub delta: KnowledgeProof,
    /// The beacon, for the closing contribution.
    pub beacon: Option<Beacon>,
}

impl Phase2Contribution {
    pub(crate) fn encode(&self, w: &mut Writer) {
        match &self.beacon {
            None => w.u8(0),
            Some(b) => {
                w.u8(1);
                b.encode(w);
            }
        }
        w.pok(&self.delta);
        w.g1(&self.delta_g1);
        w.g2(&self.delta_g2);
        // Lengths are bounded by MAX_QUERY_LEN < 2^32 when decoded or computed.
        w.u32(self.l_query.len() as u32);
        w.g1s(&self.l_query);
        w.u32(self.h_query.len() as u32);
        w.g1s(&self.h_query);
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, CeremonyError> {
        let beacon = match r.u8("phase-2 contribution kind")? {
            0 => None,
            1 => Some(Beacon::decode(r)?),
            _ => {
                return Err(CeremonyError::InvalidEncoding {
                    what: "phase-2 contribution kind",
                })
            }
        };
        let delta = r.pok()?;
        let delta_g1 = r.g1("phase-2 [delta]_1")?;
        let delta_g2 = r.g2("phase-2 [delta]_2")?;
        let l_query = query(r, "phase-2 L query")?;
        let h_query = query(r, "phase-2 H query")?;
        Ok(Self {
            delta_g1,
            delta_g2,
            l_query,
            h_query,
            delta,
            beacon,
        })
    }

    /// The canonical encoding (PROTOCOL 14.7).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode(&mut w);
        w.out
    }

    /// Decodes [`Phase2Contribution::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CeremonyError> {
        let mut r = Reader::new(bytes);
        let c = Self::decode(&mut r)?;
        r.finish("phase-2 contribution (trailing bytes)")?;
        Ok(c)
    }
}

fn query(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<G1Affine>, CeremonyError> {
    let len = r.u32(what)? as usize;
    if len > MAX_QUERY_LEN {
        return Err(CeremonyError::TooLarge {
            what,
            max: MAX_QUERY_LEN,
            actual: len,
        });
    }
    r.g1s(len, what)
}

/// Contributes to phase 2 with a fresh secret from `rng`; `binding` is the transcript
/// hash before this contribution. The secret is zeroized before this returns.
pub fn contribute(
    prev: &Phase2Params,
    binding: &[u8; 32],
    rng: &mut impl CryptoRngCore,
) -> Result<Phase2Contribution, CeremonyError> {
    contribute_state(&prev.state(), binding, rng)
}

/// [`contribute`] from the downloaded [`Phase2State`].
pub fn contribute_state(
    prev: &Phase2State,
    binding: &[u8; 32],
    rng: &mut impl CryptoRngCore,
) -> Result<Phase2Contribution, CeremonyError> {
    let d = Secret::random(rng);
    let mut c = update(
        &prev.delta_g1,
        &prev.delta_g2,
        &prev.l_query,
        &prev.h_query,
        &d,
    )?;
    c.delta = KnowledgeProof::prove_random(&d, SecretName::Delta, binding, rng);
    Ok(c)
}

/// [`contribute_beacon`] from the downloaded [`Phase2State`].
pub fn contribute_beacon_state(
    prev: &Phase2State,
    binding: &[u8; 32],
    beacon: &Beacon,
) -> Result<Phase2Contribution, CeremonyError> {
    let seed = beacon.seed();
    let d = beacon_secret(&seed, binding, SecretName::Delta);
    let mut c = update(
        &prev.delta_g1,
        &prev.delta_g2,
        &prev.l_query,
        &prev.h_query,
        &d,
    )?;
    c.delta = beacon_pok(&d, &seed, binding, SecretName::Delta);
    c.beacon = Some(beacon.clone());
    Ok(c)
}

/// The closing contribution of phase 2, derived from `beacon` (PROTOCOL 14.6).
pub fn contribute_beacon(
    prev: &Phase2Params,
    binding: &[u8; 32],
    beacon: &Beacon,
) -> Result<Phase2Contribution, CeremonyError> {
    contribute_beacon_state(&prev.state(), binding, beacon)
}

/// Verifies phase-2 contribution number `index` against the previous parameters
/// (PROTOCOL 14.5).
pub fn verify_contribution(
    prev: &Phase2Params,
    c: &Phase2Contribution,
    binding: &[u8; 32],
    index: usize,
    rng: &mut impl CryptoRngCore,
) -> Result<(), CeremonyError> {
    let fail = |check| CeremonyError::CheckFailed {
        phase: Phase::Two,
        index,
        check,
    };
    if c.l_query.len() != prev.pk.l_query.len() {
        return Err(CeremonyError::LenMismatch {
            what: "phase-2 L query",
            expected: prev.pk.l_query.len(),
            actual: c.l_query.len(),
        });
    }
    if c.h_query.len() != prev.pk.h_query.len() {
        return Err(CeremonyError::LenMismatch {
            what: "phase-2 H query",
            expected: prev.pk.h_query.len(),
            actual: c.h_query.len(),
        });
    }
    let name = SecretName::Delta;
    // PROTOCOL 14.3.1, 14.3.2 applied to d
    if c.delta.is_degenerate() {
        return Err(fail(Check::Degenerate(name)));
    }
    if !c.delta.verify(name, binding) {
        return Err(fail(Check::KnowledgeProof(name)));
    }
    // PROTOCOL 14.6
    if let Some(beacon) = &c.beacon {
        if !matches_beacon(&c.delta, &beacon.seed(), binding, name) {
            return Err(fail(Check::Beacon));
        }
    }
    // PROTOCOL 14.5 (1): [delta']_1 = d [delta]_1
    if !pairing_eq(c.delta_g1, g2(), prev.pk.delta_g1, c.delta.g2) {
        return Err(fail(Check::Link(name)));
    }
    // PROTOCOL 14.5 (2): [delta']_2 holds the exponent of [delta']_1
    if !pairing_eq(c.delta_g1, g2(), g1(), c.delta_g2) {
        return Err(fail(Check::DeltaG2));
    }
    // PROTOCOL 14.5 (3), (4): e(L'_i, [delta']_2) = e(L_i, [delta]_2), same for H
    if !same_ratio_g1(
        &c.l_query,
        c.delta_g2,
        &prev.pk.l_query,
        prev.pk.vk.delta_g2,
        rng,
    ) {
        return Err(fail(Check::LQuery));
    }
    if !same_ratio_g1(
        &c.h_query,
        c.delta_g2,
        &prev.pk.h_query,
        prev.pk.vk.delta_g2,
        rng,
    ) {
        return Err(fail(Check::HQuery));
    }
    Ok(())
}
