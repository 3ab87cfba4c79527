//! Phase 1: powers of tau, independent of the circuit (PROTOCOL 14.2, 14.3).
//!
//! The parameters for `n = 2^log_n` are
//! `[tau^i]_1` (`i < 2n - 1`), `[tau^i]_2`, `[alpha tau^i]_1`, `[beta tau^i]_1` (`i < n`)
//! and `[beta]_2`. They start at `tau = alpha = beta = 1` (all generators). A
//! contribution with secrets `(t, a, b)` multiplies: `[tau^i]` by `t^i`,
//! `[alpha tau^i]_1` by `a t^i`, `[beta tau^i]_1` by `b t^i`, `[beta]_2` by `b`; the
//! exponents become `(tau t, alpha a, beta b)`. It carries a proof of knowledge of each
//! of `t, a, b` ([`KnowledgeProof`]).

use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::One;
use rand_core::CryptoRngCore;
use rayon::prelude::*;
use zeroize::Zeroize;

use crate::beacon::{beacon_pok, beacon_secret, matches_beacon, Beacon};
use crate::codec::{Reader, Writer};
use crate::error::{CeremonyError, Check, Phase, SecretName};
use crate::pok::{KnowledgeProof, Secret};
use crate::ratio::{g1, g2, pairing_eq, same_ratio_g1, same_ratio_g2};

/// The smallest `log_n`.
pub const MIN_LOG_N: u8 = 1;
/// The largest `log_n` (PROTOCOL 14.7): `2^16` powers, eight times what census depth 24
/// needs.
pub const MAX_LOG_N: u8 = 16;

/// The phase-1 parameters (PROTOCOL 14.2).
#[derive(Clone, PartialEq, Eq)]
pub struct Phase1Params {
    pub(crate) log_n: u8,
    pub(crate) tau_g1: Vec<G1Affine>,
    pub(crate) tau_g2: Vec<G2Affine>,
    pub(crate) alpha_tau_g1: Vec<G1Affine>,
    pub(crate) beta_tau_g1: Vec<G1Affine>,
    pub(crate) beta_g2: G2Affine,
}

impl core::fmt::Debug for Phase1Params {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Phase1Params(n=2^{})", self.log_n)
    }
}

pub(crate) fn check_log_n(log_n: u8) -> Result<(), CeremonyError> {
    if !(MIN_LOG_N..=MAX_LOG_N).contains(&log_n) {
        return Err(CeremonyError::TooLarge {
            what: "phase-1 log_n (allowed 1..=16)",
            max: usize::from(MAX_LOG_N),
            actual: usize::from(log_n),
        });
    }
    Ok(())
}

impl Phase1Params {
    /// The starting point: every element a generator (`tau = alpha = beta = 1`).
    pub fn initial(log_n: u8) -> Result<Self, CeremonyError> {
        check_log_n(log_n)?;
        let n = 1usize << log_n;
        Ok(Self {
            log_n,
            tau_g1: vec![g1(); 2 * n - 1],
            tau_g2: vec![g2(); n],
            alpha_tau_g1: vec![g1(); n],
            beta_tau_g1: vec![g1(); n],
            beta_g2: g2(),
        })
    }

    /// `log2(n)`.
    pub fn log_n(&self) -> u8 {
        self.log_n
    }

    /// `n`: the number of G2 powers, and the largest QAP domain these parameters serve.
    pub fn n(&self) -> usize {
        1usize << self.log_n
    }

    /// `[tau^i]_1` for `i < 2n - 1`.
    pub fn tau_g1(&self) -> &[G1Affine] {
        &self.tau_g1
    }

    /// `[tau^i]_2` for `i < n`.
    pub fn tau_g2(&self) -> &[G2Affine] {
        &self.tau_g2
    }

    /// `[alpha tau^i]_1` for `i < n`.
    pub fn alpha_tau_g1(&self) -> &[G1Affine] {
        &self.alpha_tau_g1
    }

    /// `[beta tau^i]_1` for `i < n`.
    pub fn beta_tau_g1(&self) -> &[G1Affine] {
        &self.beta_tau_g1
    }

    /// `[beta]_2`.
    pub fn beta_g2(&self) -> G2Affine {
        self.beta_g2
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.g1s(&self.tau_g1);
        w.g2s(&self.tau_g2);
        w.g1s(&self.alpha_tau_g1);
        w.g1s(&self.beta_tau_g1);
        w.g2(&self.beta_g2);
    }

    pub(crate) fn decode(r: &mut Reader<'_>, log_n: u8) -> Result<Self, CeremonyError> {
        check_log_n(log_n)?;
        let n = 1usize << log_n;
        Ok(Self {
            log_n,
            tau_g1: r.g1s(2 * n - 1, "phase-1 [tau^i]_1")?,
            tau_g2: r.g2s(n, "phase-1 [tau^i]_2")?,
            alpha_tau_g1: r.g1s(n, "phase-1 [alpha tau^i]_1")?,
            beta_tau_g1: r.g1s(n, "phase-1 [beta tau^i]_1")?,
            beta_g2: r.g2("phase-1 [beta]_2")?,
        })
    }

    /// Multiplies by the secrets `(t, a, b)` (PROTOCOL 14.3).
    fn update(&self, t: &Secret, a: &Secret, b: &Secret) -> Self {
        let (t, a, b) = (t.expose_secret(), a.expose_secret(), b.expose_secret());
        let mut powers: Vec<Fr> = Vec::with_capacity(self.tau_g1.len());
        let mut acc = Fr::one();
        for _ in 0..self.tau_g1.len() {
            powers.push(acc);
            acc *= t;
        }
        acc.zeroize();
        let tau_g1 = mul_g1(&self.tau_g1, &powers, &Fr::one());
        let tau_g2 = mul_g2(&self.tau_g2, &powers[..self.tau_g2.len()]);
        let alpha_tau_g1 = mul_g1(&self.alpha_tau_g1, &powers[..self.alpha_tau_g1.len()], a);
        let beta_tau_g1 = mul_g1(&self.beta_tau_g1, &powers[..self.beta_tau_g1.len()], b);
        let beta_g2 = (self.beta_g2 * b).into_affine();
        powers.zeroize();
        Self {
            log_n: self.log_n,
            tau_g1,
            tau_g2,
            alpha_tau_g1,
            beta_tau_g1,
            beta_g2,
        }
    }
}

/// `points[i] * (factor * scalars[i])`, in parallel.
fn mul_g1(points: &[G1Affine], scalars: &[Fr], factor: &Fr) -> Vec<G1Affine> {
    let out: Vec<G1Projective> = points
        .par_iter()
        .zip(scalars.par_iter())
        .map(|(p, s)| {
            let mut k = *s * factor;
            let q = *p * k;
            k.zeroize();
            q
        })
        .collect();
    G1Projective::normalize_batch(&out)
}

fn mul_g2(points: &[G2Affine], scalars: &[Fr]) -> Vec<G2Affine> {
    let out: Vec<G2Projective> = points
        .par_iter()
        .zip(scalars.par_iter())
        .map(|(p, s)| *p * s)
        .collect();
    G2Projective::normalize_batch(&out)
}

/// A phase-1 contribution: the new parameters and the proofs of knowledge of the three
/// secrets; for the closing contribution, the beacon they were derived from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase1Contribution {
    /// The parameters after this contribution.
    pub params: Phase1Params,
    /// Proof of knowledge of `t`.
    pub tau: KnowledgeProof,
    /// Proof of knowledge of `a`.
    pub alpha: KnowledgeProof,
    /// Proof of knowledge of `b`.
    pub beta: KnowledgeProof,
    /// The beacon, for the closing contribution.
    pub beacon: Option<Beacon>,
}

impl Phase1Contribution {
    pub(crate) fn encode(&self, w: &mut Writer) {
        match &self.beacon {
            None => w.u8(0),
            Some(b) => {
                w.u8(1);
                b.encode(w);
            }
        }
        w.pok(&self.tau);
        w.pok(&self.alpha);
        w.pok(&self.beta);
        self.params.encode(w);
    }

    pub(crate) fn decode(r: &mut Reader<'_>, log_n: u8) -> Result<Self, CeremonyError> {
        let beacon = match r.u8("phase-1 contribution kind")? {
            0 => None,
            1 => Some(Beacon::decode(r)?),
            _ => {
                return Err(CeremonyError::InvalidEncoding {
                    what: "phase-1 contribution kind",
                })
            }
        };
        let tau = r.pok()?;
        let alpha = r.pok()?;
        let beta = r.pok()?;
        let params = Phase1Params::decode(r, log_n)?;
        Ok(Self {
            params,
            tau,
            alpha,
            beta,
            beacon,
        })
    }

    /// The canonical encoding (PROTOCOL 14.7).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode(&mut w);
        w.out
    }

    /// Decodes [`Phase1Contribution::to_bytes`] for parameters of size `2^log_n`.
    pub fn from_bytes(bytes: &[u8], log_n: u8) -> Result<Self, CeremonyError> {
        let mut r = Reader::new(bytes);
        let c = Self::decode(&mut r, log_n)?;
        r.finish("phase-1 contribution (trailing bytes)")?;
        Ok(c)
    }
}

/// Contributes to phase 1 with fresh secrets from `rng` (the OS generator). `binding` is
/// the transcript hash before this contribution. The secrets are zeroized before this
/// returns.
pub fn contribute(
    prev: &Phase1Params,
    binding: &[u8; 32],
    rng: &mut impl CryptoRngCore,
) -> Phase1Contribution {
    let t = Secret::random(rng);
    let a = Secret::random(rng);
    let b = Secret::random(rng);
    let params = prev.update(&t, &a, &b);
    Phase1Contribution {
        params,
        tau: KnowledgeProof::prove_random(&t, SecretName::Tau, binding, rng),
        alpha: KnowledgeProof::prove_random(&a, SecretName::Alpha, binding, rng),
        beta: KnowledgeProof::prove_random(&b, SecretName::Beta, binding, rng),
        beacon: None,
    }
}

/// The closing contribution, with secrets derived from `beacon` (PROTOCOL 14.6).
pub fn contribute_beacon(
    prev: &Phase1Params,
    binding: &[u8; 32],
    beacon: &Beacon,
) -> Phase1Contribution {
    let seed = beacon.seed();
    let t = beacon_secret(&seed, binding, SecretName::Tau);
    let a = beacon_secret(&seed, binding, SecretName::Alpha);
    let b = beacon_secret(&seed, binding, SecretName::Beta);
    let params = prev.update(&t, &a, &b);
    Phase1Contribution {
        params,
        tau: beacon_pok(&t, &seed, binding, SecretName::Tau),
        alpha: beacon_pok(&a, &seed, binding, SecretName::Alpha),
        beta: beacon_pok(&b, &seed, binding, SecretName::Beta),
        beacon: Some(beacon.clone()),
    }
}

/// Verifies contribution number `index` against the previous parameters `prev`
/// (PROTOCOL 14.3): proofs of knowledge, freshness, links, internal consistency of every
/// power, and the beacon derivation for a closing contribution.
pub fn verify_contribution(
    prev: &Phase1Params,
    c: &Phase1Contribution,
    binding: &[u8; 32],
    index: usize,
    rng: &mut impl CryptoRngCore,
) -> Result<(), CeremonyError> {
    let fail = |check| CeremonyError::CheckFailed {
        phase: Phase::One,
        index,
        check,
    };
    let p = &c.params;
    let n = prev.n();
    if p.log_n != prev.log_n
        || p.tau_g1.len() != 2 * n - 1
        || p.tau_g2.len() != n
        || p.alpha_tau_g1.len() != n
        || p.beta_tau_g1.len() != n
    {
        return Err(CeremonyError::LenMismatch {
            what: "phase-1 parameters",
            expected: n,
            actual: p.n(),
        });
    }
    let proofs = [
        (SecretName::Tau, &c.tau),
        (SecretName::Alpha, &c.alpha),
        (SecretName::Beta, &c.beta),
    ];
    // PROTOCOL 14.3.1 and 14.3.2
    for (name, pok) in proofs {
        if pok.is_degenerate() {
            return Err(fail(Check::Degenerate(name)));
        }
        if !pok.verify(name, binding) {
            return Err(fail(Check::KnowledgeProof(name)));
        }
    }
    // PROTOCOL 14.6
    if let Some(beacon) = &c.beacon {
        let seed = beacon.seed();
        for (name, pok) in proofs {
            if !matches_beacon(pok, &seed, binding, name) {
                return Err(fail(Check::Beacon));
            }
        }
    }
    // PROTOCOL 14.3.4: generators
    if p.tau_g1[0] != g1() || p.tau_g2[0] != g2() {
        return Err(fail(Check::Generators));
    }
    if p.tau_g1[1].is_zero() || p.alpha_tau_g1[0].is_zero() || p.beta_tau_g1[0].is_zero() {
        return Err(fail(Check::Degenerate(SecretName::Tau)));
    }
    // PROTOCOL 14.3.3: new = old * x, i.e. e(new, [1]_2) = e(old, [x]_2)
    let links = [
        (SecretName::Tau, p.tau_g1[1], prev.tau_g1[1], c.tau.g2),
        (
            SecretName::Alpha,
            p.alpha_tau_g1[0],
            prev.alpha_tau_g1[0],
            c.alpha.g2,
        ),
        (
            SecretName::Beta,
            p.beta_tau_g1[0],
            prev.beta_tau_g1[0],
            c.beta.g2,
        ),
    ];
    for (name, new, old, x2) in links {
        if !pairing_eq(new, g2(), old, x2) {
            return Err(fail(Check::Link(name)));
        }
    }
    check_powers(p, rng).map_err(fail)
}

/// PROTOCOL 14.3.4: the internal consistency of parameters, batched.
fn check_powers(p: &Phase1Params, rng: &mut impl CryptoRngCore) -> Result<(), Check> {
    let tau2 = p.tau_g2[1];
    // [tau^{i+1}]_1 = tau * [tau^i]_1: e(P_{i+1}, [1]_2) = e(P_i, [tau]_2)
    let g1_vectors = [
        (Check::TauPowersG1, &p.tau_g1),
        (Check::AlphaTauPowers, &p.alpha_tau_g1),
        (Check::BetaTauPowers, &p.beta_tau_g1),
    ];
    for (check, v) in g1_vectors {
        if !same_ratio_g1(&v[1..], g2(), &v[..v.len() - 1], tau2, rng) {
            return Err(check);
        }
    }
    // [tau^{i+1}]_2: e([tau]_1, Q_i) = e([1]_1, Q_{i+1})
    if !same_ratio_g2(
        p.tau_g1[1],
        &p.tau_g2[..p.tau_g2.len() - 1],
        g1(),
        &p.tau_g2[1..],
        rng,
    ) {
        return Err(Check::TauPowersG2);
    }
    // [beta]_2: e([beta]_1, [1]_2) = e([1]_1, [beta]_2)
    if !pairing_eq(p.beta_tau_g1[0], g2(), g1(), p.beta_g2) {
        return Err(Check::BetaG2);
    }
    Ok(())
}
