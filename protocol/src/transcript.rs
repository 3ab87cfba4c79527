//! Fiat-Shamir transcripts (PROTOCOL §4.2): every label and domain separator in one place.
//!
//! Proof functions take `&mut merlin::Transcript` from the caller. Merlin frames every
//! message with its label and length, so absorbed values are unambiguous. Strong
//! Fiat-Shamir: a proof's transcript absorbs the protocol domain, the manifest hash,
//! the election public key and every public value of the statement before any
//! challenge is drawn.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;

/// Versioned protocol domain, absorbed first by every transcript.
pub const PROTOCOL_DOMAIN: &[u8] = b"urna/v1";

/// Urna's transcript operations.
pub trait TranscriptProtocol {
    /// Absorbs a proof-kind domain separator (e.g. `b"zero-one"`).
    fn domain_sep(&mut self, proof_kind: &'static [u8]);
    /// Absorbs a point under `label`.
    fn append_point(&mut self, label: &'static [u8], point: &RistrettoPoint);
    /// Absorbs a scalar under `label`.
    fn append_scalar(&mut self, label: &'static [u8], scalar: &Scalar);
    /// Absorbs a `u64` under `label`.
    fn append_u64_be(&mut self, label: &'static [u8], v: u64);
    /// Absorbs bytes under `label` (merlin frames them with their length).
    fn append_bytes(&mut self, label: &'static [u8], bytes: &[u8]);
    /// Draws a challenge scalar (64 bytes reduced modulo the group order).
    fn challenge_scalar(&mut self, label: &'static [u8]) -> Scalar;
}

impl TranscriptProtocol for Transcript {
    fn domain_sep(&mut self, proof_kind: &'static [u8]) {
        self.append_message(b"dom-sep", PROTOCOL_DOMAIN);
        self.append_message(b"proof-kind", proof_kind);
    }

    fn append_point(&mut self, label: &'static [u8], point: &RistrettoPoint) {
        self.append_message(label, point.compress().as_bytes());
    }

    fn append_scalar(&mut self, label: &'static [u8], scalar: &Scalar) {
        self.append_message(label, scalar.as_bytes());
    }

    fn append_u64_be(&mut self, label: &'static [u8], v: u64) {
        self.append_message(label, &v.to_be_bytes());
    }

    fn append_bytes(&mut self, label: &'static [u8], bytes: &[u8]) {
        self.append_message(label, bytes);
    }

    fn challenge_scalar(&mut self, label: &'static [u8]) -> Scalar {
        let mut buf = [0u8; 64];
        self.challenge_bytes(label, &mut buf);
        Scalar::from_bytes_mod_order_wide(&buf)
    }
}
