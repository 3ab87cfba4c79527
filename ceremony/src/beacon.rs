//! The random beacon that closes each phase (PROTOCOL 14.6).
//!
//! After the last contribution of a phase, the coordinator announces a public value that
//! nobody could predict when that contribution was made (for example the hash of a
//! future block of a public blockchain, or a drand round). The closing contribution's
//! secrets are derived from it deterministically, so anyone recomputes them:
//!
//! - `h_0 = value`, `h_{i+1} = SHA-256(h_i)` for `i < 2^k`, and `seed = h_{2^k}`. The
//!   iterated hash is a delay: a last contributor trying to influence the beacon cannot
//!   cheaply evaluate the outcome of many candidate values (as snarkjs's beacon).
//! - `x = H("beacon" || seed || binding || name)` (SHA-512 mod `r`) for each secret
//!   name, with `binding` the transcript hash before the beacon contribution.
//! - The Schnorr nonce of the proof of knowledge is `H("beacon-nonce" || seed ||
//!   binding || name)`: it is public, as is the secret.
//!
//! A verifier recomputes `seed` and `x` and checks `X1 = [x]_1`; the usual checks of the
//! contribution then prove the parameters were multiplied by exactly `x`.

use ark_bn254::{Fr, G1Affine};
use ark_ec::CurveGroup;
use sha2::{Digest, Sha256};

use crate::codec::{Reader, Writer};
use crate::error::{CeremonyError, SecretName};
use crate::pok::{KnowledgeProof, Secret};
use crate::ratio::{g1, hash_to_scalar};

/// The largest beacon value, in bytes.
pub const MAX_BEACON_VALUE_LEN: usize = 256;
/// The largest iteration exponent `k` (`2^k` hashes).
pub const MAX_BEACON_ITERATIONS_LOG: u8 = 32;

/// A public beacon value and the iteration exponent `k`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Beacon {
    value: Vec<u8>,
    iterations_log: u8,
}

impl Beacon {
    /// A beacon of `value` (at most 256 bytes) hashed `2^iterations_log` times
    /// (`iterations_log <= 32`).
    pub fn new(value: &[u8], iterations_log: u8) -> Result<Self, CeremonyError> {
        if value.len() > MAX_BEACON_VALUE_LEN {
            return Err(CeremonyError::TooLarge {
                what: "beacon value",
                max: MAX_BEACON_VALUE_LEN,
                actual: value.len(),
            });
        }
        if iterations_log > MAX_BEACON_ITERATIONS_LOG {
            return Err(CeremonyError::TooLarge {
                what: "beacon iteration exponent",
                max: usize::from(MAX_BEACON_ITERATIONS_LOG),
                actual: usize::from(iterations_log),
            });
        }
        Ok(Self {
            value: value.to_vec(),
            iterations_log,
        })
    }

    /// The public value.
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// The iteration exponent `k`.
    pub fn iterations_log(&self) -> u8 {
        self.iterations_log
    }

    /// `seed = h_{2^k}` with `h_0 = value`, `h_{i+1} = SHA-256(h_i)`.
    pub fn seed(&self) -> [u8; 32] {
        let mut h: [u8; 32] = Sha256::digest(&self.value).into();
        let iterations: u64 = 1u64 << self.iterations_log;
        for _ in 1..iterations {
            h = Sha256::digest(h).into();
        }
        h
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u8(self.iterations_log);
        // new() bounds the length by 256.
        w.u16(self.value.len() as u16);
        w.bytes(&self.value);
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, CeremonyError> {
        let iterations_log = r.u8("beacon")?;
        let len = usize::from(r.u16("beacon")?);
        let value = r.take(len, "beacon")?;
        Self::new(value, iterations_log)
    }
}

/// The secret named `name` derived from a beacon seed (PROTOCOL 14.6).
pub fn beacon_secret_scalar(seed: &[u8; 32], binding: &[u8; 32], name: SecretName) -> Fr {
    hash_to_scalar(b"beacon", &[seed, binding, &[name.tag()]])
}

pub(crate) fn beacon_secret(seed: &[u8; 32], binding: &[u8; 32], name: SecretName) -> Secret {
    Secret::from_fr(beacon_secret_scalar(seed, binding, name))
}

/// The beacon contribution's proof of knowledge (public nonce).
pub(crate) fn beacon_pok(
    secret: &Secret,
    seed: &[u8; 32],
    binding: &[u8; 32],
    name: SecretName,
) -> KnowledgeProof {
    let nonce = hash_to_scalar(b"beacon-nonce", &[seed, binding, &[name.tag()]]);
    KnowledgeProof::prove(secret, nonce, name, binding)
}

/// Whether `pok` is about the secret the beacon derives.
pub(crate) fn matches_beacon(
    pok: &KnowledgeProof,
    seed: &[u8; 32],
    binding: &[u8; 32],
    name: SecretName,
) -> bool {
    let x = beacon_secret_scalar(seed, binding, name);
    let expected: G1Affine = (g1() * x).into_affine();
    pok.g1 == expected
}
