//! Export to snarkjs's Groth16 JSON format (PROTOCOL 14.9).
//!
//! snarkjs (`snarkjs groth16 verify verification_key.json public.json proof.json`)
//! reads BN254 ("bn128") points as projective coordinates in decimal strings: G1 as
//! `[x, y, "1"]`, G2 as `[[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]` (an `Fq2` element
//! `c0 + c1 u` written `[c0, c1]`), the identity as z = 0. `vk_alphabeta_12` is
//! `e(alpha, beta)` in `Fq12 = Fq6[w]`, `Fq6 = Fq2[v]`, written
//! `[[c0.c0, c0.c1, c0.c2], [c1.c0, c1.c1, c1.c2]]`; snarkjs's verifier does not read
//! it. Public signals are the decimal field elements of the statement in the order of
//! the verifying key's IC. The files are written as snarkjs writes them
//! (`JSON.stringify(.., null, 1)`, its key order).

use ark_bn254::{Bn254, Fq, Fq12, Fq2, G1Affine, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::AffineRepr;
use urna_circuits::{EligibilityProof, EligibilityStatement, VerifyingKey};

/// A JSON value as snarkjs's files use them.
enum Json {
    Str(String),
    Num(usize),
    Arr(Vec<Json>),
    Obj(Vec<(&'static str, Json)>),
}

impl Json {
    fn write(&self, out: &mut String, indent: usize) {
        let pad = |out: &mut String, n: usize| out.extend(core::iter::repeat_n(' ', n));
        match self {
            Json::Str(s) => {
                out.push('"');
                out.push_str(s);
                out.push('"');
            }
            Json::Num(n) => out.push_str(&n.to_string()),
            Json::Arr(items) if items.is_empty() => out.push_str("[]"),
            Json::Arr(items) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    pad(out, indent + 1);
                    item.write(out, indent + 1);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                pad(out, indent);
                out.push(']');
            }
            Json::Obj(fields) => {
                out.push_str("{\n");
                for (i, (k, v)) in fields.iter().enumerate() {
                    pad(out, indent + 1);
                    out.push('"');
                    out.push_str(k);
                    out.push_str("\": ");
                    v.write(out, indent + 1);
                    out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
                }
                pad(out, indent);
                out.push('}');
            }
        }
    }

    fn render(&self) -> String {
        let mut s = String::new();
        self.write(&mut s, 0);
        s
    }
}

fn dec(x: &Fq) -> Json {
    Json::Str(x.to_string())
}

fn str(s: &str) -> Json {
    Json::Str(s.to_string())
}

fn fq2(x: &Fq2) -> Json {
    Json::Arr(vec![dec(&x.c0), dec(&x.c1)])
}

fn g1(p: &G1Affine) -> Json {
    match p.xy() {
        Some((x, y)) => Json::Arr(vec![dec(&x), dec(&y), str("1")]),
        None => Json::Arr(vec![str("0"), str("1"), str("0")]),
    }
}

fn g2(p: &G2Affine) -> Json {
    match p.xy() {
        Some((x, y)) => Json::Arr(vec![fq2(&x), fq2(&y), Json::Arr(vec![str("1"), str("0")])]),
        None => Json::Arr(vec![
            Json::Arr(vec![str("0"), str("0")]),
            Json::Arr(vec![str("1"), str("0")]),
            Json::Arr(vec![str("0"), str("0")]),
        ]),
    }
}

fn fq12(x: &Fq12) -> Json {
    let fq6 = |c: &ark_bn254::Fq6| Json::Arr(vec![fq2(&c.c0), fq2(&c.c1), fq2(&c.c2)]);
    Json::Arr(vec![fq6(&x.c0), fq6(&x.c1)])
}

/// `verification_key.json`.
pub fn verification_key_json(vk: &VerifyingKey) -> String {
    let vk = vk.as_ark();
    let alphabeta = Bn254::pairing(vk.alpha_g1, vk.beta_g2).0;
    Json::Obj(vec![
        ("protocol", str("groth16")),
        ("curve", str("bn128")),
        (
            "nPublic",
            Json::Num(vk.gamma_abc_g1.len().saturating_sub(1)),
        ),
        ("vk_alpha_1", g1(&vk.alpha_g1)),
        ("vk_beta_2", g2(&vk.beta_g2)),
        ("vk_gamma_2", g2(&vk.gamma_g2)),
        ("vk_delta_2", g2(&vk.delta_g2)),
        ("vk_alphabeta_12", fq12(&alphabeta)),
        ("IC", Json::Arr(vk.gamma_abc_g1.iter().map(g1).collect())),
    ])
    .render()
}

/// `proof.json`.
pub fn proof_json(proof: &EligibilityProof) -> String {
    let p = proof.as_ark();
    Json::Obj(vec![
        ("pi_a", g1(&p.a)),
        ("pi_b", g2(&p.b)),
        ("pi_c", g1(&p.c)),
        ("protocol", str("groth16")),
        ("curve", str("bn128")),
    ])
    .render()
}

/// `public.json`: the statement's public inputs as decimal strings.
pub fn public_json(statement: &EligibilityStatement) -> String {
    Json::Arr(
        statement
            .to_field_elements()
            .iter()
            .map(|x| Json::Str(x.to_string()))
            .collect(),
    )
    .render()
}
