//! Reading an `urna-board-export/v2` file (PROTOCOL 13.1): a bounded line reader, the
//! header, and the two shapes of entry line. Every byte is hostile: lines are bounded
//! before they are buffered, JSON objects must have exactly the expected fields, hex must
//! decode to the expected lengths.

use std::io::{BufRead, Read};

use serde::Deserialize;
use sha2::{Digest, Sha256};
use urna_circuits::VerifyingKey;
use urna_log::{Checkpoint, Hash, NoteVerifier};
use urna_protocol::codec::MAX_OBJECT_BYTES;

use crate::error::VerifyError;

/// The format this verifier reads.
pub const FORMAT: &str = "urna-board-export/v2";

/// The longest line accepted: a largest entry in hex plus room for the other fields (the
/// header, with a checkpoint of at most 1 MiB JSON-escaped, is far below this).
pub const MAX_LINE_BYTES: usize = 2 * MAX_OBJECT_BYTES + 64 * 1024;

/// Reads `\n`-terminated lines of at most [`MAX_LINE_BYTES`] into one reused buffer.
pub(crate) struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            buf: Vec::new(),
        }
    }

    /// The next line without its `\n`, or `None` at the end.
    pub(crate) fn next_line(&mut self) -> Result<Option<&[u8]>, VerifyError> {
        self.buf.clear();
        let limit = MAX_LINE_BYTES as u64 + 1;
        let n = Read::take(self.inner.by_ref(), limit).read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(None);
        }
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        }
        if self.buf.len() > MAX_LINE_BYTES {
            return Err(VerifyError::LineTooLong {
                max: MAX_LINE_BYTES,
            });
        }
        Ok(Some(&self.buf))
    }

    /// The next lines, at most `max_lines` of them and, past the first, at most
    /// `max_bytes` of text: empty at the end. If reading a line failed, the lines read
    /// before it come with the error (they are checked first).
    pub(crate) fn read_batch(
        &mut self,
        max_lines: usize,
        max_bytes: usize,
    ) -> (Vec<Vec<u8>>, Option<VerifyError>) {
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        while batch.len() < max_lines.max(1) && bytes < max_bytes {
            match self.next_line() {
                Ok(Some(raw)) => {
                    bytes += raw.len();
                    batch.push(raw.to_vec());
                }
                Ok(None) => break,
                Err(e) => return (batch, Some(e)),
            }
        }
        (batch, None)
    }
}

#[derive(Deserialize)]
struct FormatOnly {
    format: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    format: String,
    election_id: String,
    origin: String,
    vkey: String,
    checkpoint: String,
    tree_size: u64,
    /// Omitted for an election whose keys come from a ceremony on the board (PROTOCOL
    /// 13.1): its key is in the `setup-keys` entry.
    #[serde(default)]
    verifying_key: Option<String>,
}

/// The Groth16 verifying key the header carries, decoded.
pub(crate) struct HeaderKey {
    pub(crate) key: VerifyingKey,
    /// SHA-256 of the key's bytes.
    pub(crate) hash: [u8; 32],
}

/// The header, checked (PROTOCOL 13.3 checks 1–4): the checkpoint opened under the
/// board's key and origin, the verifying key (if any) decoded.
pub(crate) struct Header {
    pub(crate) election_id: [u8; 32],
    pub(crate) origin: String,
    pub(crate) board_key: [u8; 32],
    pub(crate) checkpoint: Checkpoint,
    /// The Groth16 key of a fixed-keys election; `None` if the header omits it (as for
    /// a ceremony election). Which one the election needs is known from its manifest.
    pub(crate) verifying_key: Option<HeaderKey>,
}

impl Header {
    pub(crate) fn parse(line: &[u8]) -> Result<Self, VerifyError> {
        let bad = |e: &dyn std::fmt::Display| VerifyError::MalformedHeader(e.to_string());
        let format: FormatOnly = serde_json::from_slice(line).map_err(|e| bad(&e))?;
        if format.format != FORMAT {
            return Err(VerifyError::UnsupportedFormat {
                found: format.format,
                expected: FORMAT,
            });
        }
        let raw: RawHeader = serde_json::from_slice(line).map_err(|e| bad(&e))?;
        debug_assert_eq!(raw.format, FORMAT);
        let election_id =
            hex32(&raw.election_id).map_err(|e| bad(&format_args!("election_id: {e}")))?;
        let verifier = NoteVerifier::from_vkey(&raw.vkey).map_err(VerifyError::BadVerifierKey)?;
        // PROTOCOL 11.4.4: parse, verify under the key, then check the origin.
        let checkpoint = Checkpoint::open(raw.checkpoint.as_bytes(), &raw.origin, &verifier)
            .map_err(VerifyError::BadCheckpoint)?;
        if raw.tree_size != checkpoint.size() {
            return Err(VerifyError::TreeSizeMismatch {
                header: raw.tree_size,
                checkpoint: checkpoint.size(),
            });
        }
        let verifying_key = match raw.verifying_key {
            None => None,
            Some(hex_key) => {
                if hex_key.len() > 2 * MAX_OBJECT_BYTES {
                    return Err(bad(&"verifying_key: too long"));
                }
                let vk_bytes =
                    decode_hex(&hex_key).map_err(|e| bad(&format_args!("verifying_key: {e}")))?;
                let hash: [u8; 32] = Sha256::digest(&vk_bytes).into();
                let key = VerifyingKey::from_bytes(&vk_bytes)
                    .map_err(|e| VerifyError::BadVerifyingKey(e.to_string()))?;
                Some(HeaderKey { key, hash })
            }
        };
        Ok(Self {
            election_id,
            origin: raw.origin,
            board_key: verifier.verifying_key().to_bytes(),
            checkpoint,
            verifying_key,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    index: u64,
    leaf_hash: String,
    election_id: Option<String>,
    kind: Option<String>,
    entry: Option<String>,
}

/// One line after the header.
pub(crate) struct Line {
    pub(crate) index: u64,
    pub(crate) leaf_hash: Hash,
    /// For an entry of the exported election: its election id, kind name and bytes.
    pub(crate) full: Option<FullEntry>,
}

/// The fields of a full line.
pub(crate) struct FullEntry {
    pub(crate) election_id: [u8; 32],
    pub(crate) kind: String,
    pub(crate) bytes: Vec<u8>,
}

impl Line {
    /// Parses a line: its fields, hex values and their lengths.
    pub(crate) fn parse(line: &[u8]) -> Result<Self, VerifyError> {
        let bad = |e: &dyn std::fmt::Display| VerifyError::MalformedLine(e.to_string());
        let raw: RawLine = serde_json::from_slice(line).map_err(|e| bad(&e))?;
        let leaf_hash =
            Hash::from(hex32(&raw.leaf_hash).map_err(|e| bad(&format_args!("leaf_hash: {e}")))?);
        let full = match (raw.election_id, raw.kind, raw.entry) {
            (None, None, None) => None,
            (Some(election_id), Some(kind), Some(entry)) => {
                if entry.len() > 2 * MAX_OBJECT_BYTES {
                    return Err(bad(&"entry: longer than the largest object"));
                }
                Some(FullEntry {
                    election_id: hex32(&election_id)
                        .map_err(|e| bad(&format_args!("election_id: {e}")))?,
                    kind,
                    bytes: decode_hex(&entry).map_err(|e| bad(&format_args!("entry: {e}")))?,
                })
            }
            _ => {
                return Err(bad(
                    &"a line has all of election_id, kind and entry, or none of them",
                ))
            }
        };
        Ok(Self {
            index: raw.index,
            leaf_hash,
            full,
        })
    }
}

/// Refuses a leading `0x`, which `const_hex` would skip: an export never has one.
fn no_prefix(s: &str) -> Result<(), String> {
    match s.as_bytes() {
        [b'0', c @ (b'x' | b'X'), ..] => Err(format!(
            "invalid character {:?} at position 1",
            char::from(*c)
        )),
        _ => Ok(()),
    }
}

/// Decodes hex digits of either case (SIMD where the CPU has it: an entry's hex is the
/// bulk of every line the verifier reads, twice).
pub(crate) fn decode_hex(s: &str) -> Result<Vec<u8>, String> {
    no_prefix(s)?;
    const_hex::decode(s).map_err(|e| e.to_string())
}

/// 64 hex digits to 32 bytes.
pub(crate) fn hex32(s: &str) -> Result<[u8; 32], String> {
    if s.len() != 64 {
        return Err(format!("expected 64 hex digits, got {}", s.len()));
    }
    no_prefix(s)?;
    let mut out = [0u8; 32];
    const_hex::decode_to_slice(s, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Where a ballot's fields sit in the canonical bytes of its board entry (PROTOCOL 9.3,
/// 6.6): `0x01 ‖ 0x20 ‖ election_id (32) ‖ kind (1) ‖ ballot body`, the body being
/// `election_id (32) ‖ census_root (32) ‖ nullifier (32) ‖ contests ‖ proof (128)`.
const BALLOT_BODY: usize = 35;
const NULLIFIER_AT: usize = BALLOT_BODY + 64;
const PROOF_LEN: usize = urna_protocol::ballot::ELIGIBILITY_PROOF_LEN;

/// The nullifier and a hash identifying a ballot entry's `(nullifier, digest)`.
///
/// The digest (PROTOCOL 6.6) is a hash of everything in the ballot body but the Groth16
/// proof, under the election's one manifest; so for canonical entries, equal
/// `SHA-256(body without proof)` means equal `(nullifier, digest)` and conversely. Read
/// from the raw bytes so the first pass need not decode ballots; `None` if the bytes are
/// too short to be a ballot entry (the second pass then rejects the entry).
pub(crate) fn ballot_key(entry: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let end = entry.len().checked_sub(PROOF_LEN)?;
    let nullifier: [u8; 32] = entry
        .get(NULLIFIER_AT..NULLIFIER_AT + 32)?
        .try_into()
        .ok()?;
    let body = entry.get(BALLOT_BODY..end)?;
    if body.len() < 96 {
        return None;
    }
    Some((nullifier, Sha256::digest(body).into()))
}

/// The byte of a board entry's kind, if the bytes are long enough.
pub(crate) fn raw_kind(entry: &[u8]) -> Option<u8> {
    entry.get(BALLOT_BODY - 1).copied()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests
mod tests {
    use super::{decode_hex, hex32};

    #[test]
    fn hex_decoding_matches_the_reference_decoder() {
        let bytes: Vec<u8> = (0..=255u8).chain(0..=255).collect();
        for len in [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 511] {
            let lower = hex::encode(&bytes[..len]);
            assert_eq!(decode_hex(&lower).unwrap(), &bytes[..len]);
            assert_eq!(decode_hex(&lower.to_uppercase()).unwrap(), &bytes[..len]);
            // One bad digit anywhere, in either nibble, is refused as `hex` refuses it.
            for at in 0..lower.len() {
                for bad in ['g', 'G', ' ', 'x', '\u{e9}'] {
                    let mut s = lower.clone().into_bytes();
                    let mut enc = [0u8; 4];
                    let enc = bad.encode_utf8(&mut enc).as_bytes();
                    s.splice(at..at + 1, enc.iter().copied());
                    let s = String::from_utf8(s).unwrap();
                    assert!(decode_hex(&s).is_err(), "{s}");
                    assert_eq!(decode_hex(&s).is_err(), hex::decode(&s).is_err());
                }
            }
        }
        assert_eq!(decode_hex("abc").unwrap_err(), "odd number of digits");
    }

    #[test]
    fn a_0x_prefix_is_not_hex() {
        for s in ["0x", "0xab", "0Xab", "0x00112233"] {
            let err = decode_hex(s).unwrap_err();
            assert!(err.contains("position 1"), "{err}");
        }
        let mut s = "0x".to_string();
        s.push_str(&"ab".repeat(31));
        assert_eq!(s.len(), 64);
        assert!(hex32(&s).is_err());
        assert_eq!(hex32(&"ab".repeat(32)).unwrap(), [0xab; 32]);
        assert!(hex32(&"ab".repeat(31)).is_err());
    }
}
