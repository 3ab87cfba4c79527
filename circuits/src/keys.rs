//! Groth16 keys for the eligibility circuit: generation, canonical codecs and hashes
//! (PROTOCOL 10.5).
//!
//! # Trusted setup — read this
//!
//! [`setup_single_party`] is the only key generation this crate offers today. It samples
//! the toxic waste (`alpha, beta, gamma, delta, tau`) in this process and forgets it, but
//! nothing proves that it was forgotten: **whoever runs it can forge an eligibility proof
//! for any statement**, i.e. cast ballots for nullifiers of their choosing in any election
//! using these keys. Vote *privacy* and ballot *validity* do not depend on these keys.
//! Production elections need keys from a multi-party (phase 2) ceremony, in which one
//! honest participant suffices; until that exists, the operator who ran this function
//! must be trusted not to forge eligibility.
//!
//! # Encodings
//!
//! - [`VerifyingKey`]: arkworks' compressed canonical encoding (392 bytes), decoded with
//!   full checks (on curve, in the prime-order subgroup, canonical re-encoding, no
//!   identity points, exactly 4 public inputs). Its hash is SHA-256 of those bytes.
//! - [`ProvingKey`]: `"urna-pk1"` (8 bytes) `|| depth (1 byte) ||` arkworks' uncompressed
//!   encoding. Uncompressed, because decompressing and subgroup-checking tens of
//!   thousands of points is slow: the normal loader [`ProvingKey::from_bytes_trusted`]
//!   first checks SHA-256 of all the bytes against a committed hash and then skips the
//!   point checks. [`ProvingKey::from_bytes_checked`] checks everything instead.

use alloc::sync::Arc;
use alloc::vec::Vec;

use ark_bn254::Bn254;
use ark_ec::AffineRepr;
use ark_groth16::Groth16;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};

use crate::census::check_depth;
use crate::circuit::EligibilityCircuit;
use crate::error::CircuitError;
use crate::shape::CircuitShape;
use crate::statement::public_input;

/// Magic prefix of the proving-key encoding.
pub const PROVING_KEY_MAGIC: &[u8; 8] = b"urna-pk1";

/// Number of `gamma_abc_g1` elements: one per public input plus the constant.
const IC_LEN: usize = public_input::COUNT + 1;

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn check_vk_shape(vk: &ark_groth16::VerifyingKey<Bn254>) -> Result<(), CircuitError> {
    if vk.gamma_abc_g1.len() != IC_LEN {
        return Err(CircuitError::WrongKeyShape {
            expected: public_input::COUNT,
            actual: vk.gamma_abc_g1.len().saturating_sub(1),
        });
    }
    let any_identity = vk.alpha_g1.is_zero()
        || vk.beta_g2.is_zero()
        || vk.gamma_g2.is_zero()
        || vk.delta_g2.is_zero()
        || vk.gamma_abc_g1.iter().any(|p| p.is_zero());
    if any_identity {
        return Err(CircuitError::InvalidEncoding {
            what: "verifying key (identity point)",
        });
    }
    Ok(())
}

/// Generates a proving and a verifying key for census `depth` in one process.
///
/// **Insecure for real elections**: whoever runs this can forge eligibility proofs (see
/// the module documentation and PROTOCOL 10.5). Use it for tests, demos, and until the
/// multi-party ceremony exists.
pub fn setup_single_party(
    depth: u32,
    rng: &mut impl CryptoRngCore,
) -> Result<(ProvingKey, VerifyingKey), CircuitError> {
    let circuit = EligibilityCircuit::blank(depth)?;
    let pk = crate::shape::quietly(|| {
        Groth16::<Bn254>::generate_random_parameters_with_reduction(circuit, rng)
    })
    .map_err(|e| CircuitError::Groth16(alloc::format!("setup: {e}")))?;
    let vk = VerifyingKey::from_ark(pk.vk.clone())?;
    let pk = ProvingKey::from_ark(depth, pk)?;
    Ok((pk, vk))
}

/// A Groth16 verifying key for the eligibility circuit.
#[derive(Clone)]
pub struct VerifyingKey {
    inner: ark_groth16::VerifyingKey<Bn254>,
    bytes: Vec<u8>,
    hash: [u8; 32],
}

impl core::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "VerifyingKey(sha256=")?;
        for b in self.hash {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for VerifyingKey {}

impl VerifyingKey {
    /// Wraps an arkworks verifying key (from a setup ceremony, say) after the checks of
    /// [`VerifyingKey::from_bytes`]'s shape rules: 4 public inputs, no identity point.
    pub fn from_ark(inner: ark_groth16::VerifyingKey<Bn254>) -> Result<Self, CircuitError> {
        check_vk_shape(&inner)?;
        let mut bytes = Vec::with_capacity(inner.compressed_size());
        inner
            .serialize_compressed(&mut bytes)
            .map_err(|_| CircuitError::InvalidEncoding {
                what: "verifying key",
            })?;
        let hash = sha256(&bytes);
        Ok(Self { inner, bytes, hash })
    }

    /// Decodes the canonical compressed encoding with full checks: every point on the
    /// curve and in the prime-order subgroup, the canonical re-encoding equal to the
    /// input, no identity point, and 4 public inputs.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CircuitError> {
        let mut reader = bytes;
        let inner = ark_groth16::VerifyingKey::<Bn254>::deserialize_with_mode(
            &mut reader,
            Compress::Yes,
            Validate::Yes,
        )
        .map_err(|_| CircuitError::InvalidEncoding {
            what: "verifying key",
        })?;
        let vk = Self::from_ark(inner)?;
        if vk.bytes != bytes {
            return Err(CircuitError::InvalidEncoding {
                what: "verifying key (non-canonical)",
            });
        }
        Ok(vk)
    }

    /// [`VerifyingKey::from_bytes`], also requiring SHA-256 of the bytes to equal
    /// `expected_hash` (e.g. the hash named in the election manifest).
    pub fn from_bytes_with_hash(
        bytes: &[u8],
        expected_hash: &[u8; 32],
    ) -> Result<Self, CircuitError> {
        if sha256(bytes) != *expected_hash {
            return Err(CircuitError::KeyHashMismatch {
                what: "verifying key",
            });
        }
        Self::from_bytes(bytes)
    }

    /// The canonical compressed encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// SHA-256 of [`VerifyingKey::to_bytes`]: the value an election manifest names.
    pub fn verifying_key_hash(&self) -> [u8; 32] {
        self.hash
    }

    /// Precomputes `e(alpha, beta)` and the prepared `-gamma`, `-delta` for verification.
    pub fn prepare(&self) -> PreparedVerifyingKey {
        PreparedVerifyingKey {
            inner: ark_groth16::prepare_verifying_key(&self.inner),
            hash: self.hash,
        }
    }

    /// The arkworks key.
    pub fn as_ark(&self) -> &ark_groth16::VerifyingKey<Bn254> {
        &self.inner
    }
}

/// A verifying key prepared for pairing checks (see [`VerifyingKey::prepare`]).
#[derive(Clone)]
pub struct PreparedVerifyingKey {
    pub(crate) inner: ark_groth16::PreparedVerifyingKey<Bn254>,
    hash: [u8; 32],
}

impl core::fmt::Debug for PreparedVerifyingKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PreparedVerifyingKey(sha256=")?;
        for b in self.hash {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

impl From<&VerifyingKey> for PreparedVerifyingKey {
    fn from(vk: &VerifyingKey) -> Self {
        vk.prepare()
    }
}

impl PreparedVerifyingKey {
    /// The hash of the verifying key this was prepared from.
    pub fn verifying_key_hash(&self) -> [u8; 32] {
        self.hash
    }
}

/// A Groth16 proving key for the eligibility circuit at one census depth.
#[derive(Clone)]
pub struct ProvingKey {
    depth: u32,
    inner: ark_groth16::ProvingKey<Bn254>,
    hash: [u8; 32],
    /// The circuit's constraint matrices, computed once at load (see [`crate::shape`]).
    shape: Arc<CircuitShape>,
}

impl core::fmt::Debug for ProvingKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ProvingKey(depth={}, sha256=", self.depth)?;
        for b in self.hash {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

impl ProvingKey {
    /// Wraps an arkworks proving key for census `depth` (from a setup ceremony, say),
    /// checking that its sizes fit the circuit of that depth.
    pub fn from_ark(
        depth: u32,
        inner: ark_groth16::ProvingKey<Bn254>,
    ) -> Result<Self, CircuitError> {
        let shape = CircuitShape::for_depth(depth)?;
        shape.check_key(&inner)?;
        let mut pk = Self {
            depth,
            inner,
            hash: [0u8; 32],
            shape: Arc::new(shape),
        };
        pk.hash = sha256(&pk.to_bytes()?);
        Ok(pk)
    }

    /// The census depth this key proves for.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// The matching verifying key.
    pub fn verifying_key(&self) -> Result<VerifyingKey, CircuitError> {
        VerifyingKey::from_ark(self.inner.vk.clone())
    }

    /// The encoding: magic, depth, and arkworks' uncompressed proving key.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CircuitError> {
        let mut out = Vec::with_capacity(9 + self.inner.uncompressed_size());
        out.extend_from_slice(PROVING_KEY_MAGIC);
        // check_depth guarantees depth <= 32.
        out.push(self.depth as u8);
        self.inner
            .serialize_uncompressed(&mut out)
            .map_err(|_| CircuitError::InvalidEncoding {
                what: "proving key",
            })?;
        Ok(out)
    }

    /// SHA-256 of [`ProvingKey::to_bytes`].
    pub fn proving_key_hash(&self) -> [u8; 32] {
        self.hash
    }

    fn split_header(bytes: &[u8]) -> Result<(u32, &[u8]), CircuitError> {
        if bytes.len() < 9 || &bytes[..8] != PROVING_KEY_MAGIC {
            return Err(CircuitError::InvalidEncoding {
                what: "proving key header",
            });
        }
        let depth = u32::from(bytes[8]);
        check_depth(depth)?;
        Ok((depth, &bytes[9..]))
    }

    fn finish(
        depth: u32,
        inner: ark_groth16::ProvingKey<Bn254>,
        rest: &[u8],
        hash: [u8; 32],
    ) -> Result<Self, CircuitError> {
        if !rest.is_empty() {
            return Err(CircuitError::InvalidEncoding {
                what: "proving key (trailing bytes)",
            });
        }
        check_vk_shape(&inner.vk)?;
        let shape = CircuitShape::for_depth(depth)?;
        shape.check_key(&inner)?;
        Ok(Self {
            depth,
            inner,
            hash,
            shape: Arc::new(shape),
        })
    }

    /// Loads a proving key **without** point validation, after checking that SHA-256 of
    /// `bytes` equals `expected_hash` (PROTOCOL 10.5). The hash must come from a trusted
    /// place (the setup transcript, a manifest), never from the same source as the bytes.
    pub fn from_bytes_trusted(
        bytes: &[u8],
        expected_hash: &[u8; 32],
    ) -> Result<Self, CircuitError> {
        let hash = sha256(bytes);
        if hash != *expected_hash {
            return Err(CircuitError::KeyHashMismatch {
                what: "proving key",
            });
        }
        let (depth, mut rest) = Self::split_header(bytes)?;
        let inner = ark_groth16::ProvingKey::<Bn254>::deserialize_uncompressed_unchecked(&mut rest)
            .map_err(|_| CircuitError::InvalidEncoding {
                what: "proving key",
            })?;
        Self::finish(depth, inner, rest, hash)
    }

    /// Loads a proving key with full point validation (on curve, in subgroup). Slow.
    pub fn from_bytes_checked(bytes: &[u8]) -> Result<Self, CircuitError> {
        let (depth, mut rest) = Self::split_header(bytes)?;
        let inner = ark_groth16::ProvingKey::<Bn254>::deserialize_with_mode(
            &mut rest,
            Compress::No,
            Validate::Yes,
        )
        .map_err(|_| CircuitError::InvalidEncoding {
            what: "proving key",
        })?;
        Self::finish(depth, inner, rest, sha256(bytes))
    }

    /// The arkworks proving key inside.
    pub fn as_ark(&self) -> &ark_groth16::ProvingKey<Bn254> {
        &self.inner
    }

    pub(crate) fn shape(&self) -> &CircuitShape {
        &self.shape
    }
}
