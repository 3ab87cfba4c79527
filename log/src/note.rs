//! C2SP `signed-note` envelopes with Ed25519 signatures (`PROTOCOL 11.4`).
//!
//! A signed note is a UTF-8 text ending in a newline, a blank line, then one or more
//! signature lines:
//!
//! ```text
//! <text, ending in "\n">
//!
//! — <key name> <base64(4-byte key ID || 64-byte Ed25519 signature)>
//! ```
//!
//! The key ID of an Ed25519 key is the first four bytes, read big-endian, of
//! `SHA-256(key name || 0x0A || 0x01 || 32-byte public key)`. Keys travel as text:
//!
//! ```text
//! verifier key: <name>+<8 hex digits of key ID>+<base64(0x01 || public key)>
//! signer key:   PRIVATE+KEY+<name>+<8 hex digits of key ID>+<base64(0x01 || seed)>
//! ```
//!
//! Parsing is strict and bounded: at most [`MAX_NOTE_SIZE`] bytes and [`MAX_SIGNATURES`]
//! signature lines; canonical padded base64 only; lowercase hex key IDs; key names that are
//! non-empty and hold no whitespace, control character or `+`.
//!
//! A note verifies against a verifier key when at least one signature line carries that
//! key's name and key ID and every such line verifies. Lines from other keys, including
//! lines that share only the name or only the key ID, are ignored, as the C2SP spec
//! requires, so witnesses may add cosignatures.

use core::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::LogError;

/// Largest signed note accepted, in bytes (1 MiB).
pub const MAX_NOTE_SIZE: usize = 1 << 20;
/// Most signature lines accepted in one note. The C2SP spec asks for at least 16.
pub const MAX_SIGNATURES: usize = 100;

/// Signature type byte of Ed25519 in key IDs and key encodings.
const ED25519_TYPE: u8 = 0x01;
/// Prefix of every signature line: em dash (U+2014) and a space.
const SIG_PREFIX: &str = "\u{2014} ";
/// Prefix of a signer key string.
const SIGNER_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// A 32-bit key ID; `Display` prints the 8 lowercase hex digits used in key strings.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct KeyId(pub u32);

impl KeyId {
    /// The Ed25519 key ID of `name` and `key` (`PROTOCOL 11.4`).
    pub fn ed25519(name: &str, key: &VerifyingKey) -> Self {
        // PROTOCOL 11.4.1: SHA-256(name || 0x0A || 0x01 || public key)[..4], big-endian.
        let mut h = Sha256::new();
        h.update(name.as_bytes());
        h.update([b'\n', ED25519_TYPE]);
        h.update(key.as_bytes());
        let d = h.finalize();
        Self(u32::from_be_bytes([d[0], d[1], d[2], d[3]]))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// Checks a key name: non-empty, no whitespace, no control character, no `+`.
pub(crate) fn check_key_name(name: &str) -> Result<(), LogError> {
    if name.is_empty() {
        return Err(LogError::InvalidKeyName { reason: "empty" });
    }
    if name.chars().any(char::is_whitespace) {
        return Err(LogError::InvalidKeyName {
            reason: "contains whitespace",
        });
    }
    if name.chars().any(char::is_control) {
        return Err(LogError::InvalidKeyName {
            reason: "contains a control character",
        });
    }
    if name.contains('+') {
        return Err(LogError::InvalidKeyName {
            reason: "contains '+'",
        });
    }
    Ok(())
}

/// Parses exactly 8 lowercase hex digits.
fn parse_key_id(hex: &str) -> Result<KeyId, LogError> {
    let malformed = LogError::MalformedKey {
        reason: "key ID is not 8 lowercase hex digits",
    };
    if hex.len() != 8 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(malformed);
    }
    u32::from_str_radix(hex, 16)
        .map(KeyId)
        .map_err(|_| malformed)
}

/// Splits `name+hex+base64` (the base64 may itself contain `+`).
fn split_key(s: &str) -> Result<(&str, &str, &str), LogError> {
    let (name, rest) = s.split_once('+').ok_or(LogError::MalformedKey {
        reason: "expected name+keyid+key",
    })?;
    let (id, key) = rest.split_once('+').ok_or(LogError::MalformedKey {
        reason: "expected name+keyid+key",
    })?;
    Ok((name, id, key))
}

/// Decodes `base64(0x01 || 32 bytes)`, refusing other types and lengths.
fn decode_typed_key(b64: &str) -> Result<Zeroizing<[u8; 32]>, LogError> {
    let raw = Zeroizing::new(BASE64.decode(b64).map_err(|_| LogError::MalformedKey {
        reason: "key is not canonical base64",
    })?);
    let (&key_type, key) = raw.split_first().ok_or(LogError::MalformedKey {
        reason: "key is empty",
    })?;
    if key_type != ED25519_TYPE {
        return Err(LogError::UnsupportedKeyType { key_type });
    }
    let mut out = Zeroizing::new([0u8; 32]);
    if key.len() != out.len() {
        return Err(LogError::MalformedKey {
            reason: "Ed25519 key is not 32 bytes",
        });
    }
    out.copy_from_slice(key);
    Ok(out)
}

/// Encodes `base64(0x01 || key)`.
fn encode_typed_key(key: &[u8; 32]) -> Zeroizing<String> {
    let mut raw = Zeroizing::new([0u8; 33]);
    raw[0] = ED25519_TYPE;
    raw[1..].copy_from_slice(key);
    Zeroizing::new(BASE64.encode(&raw[..]))
}

/// A public key that checks note signatures: an Ed25519 key with its name and key ID.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: KeyId,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// A verifier for `key` under `name`.
    ///
    /// Fails if the name is invalid or the key is of small order (such a key would let
    /// anyone forge signatures).
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, LogError> {
        check_key_name(name)?;
        if key.is_weak() {
            return Err(LogError::MalformedKey {
                reason: "Ed25519 public key of small order",
            });
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: KeyId::ed25519(name, &key),
            key,
        })
    }

    /// Parses a verifier key string `<name>+<hex key ID>+<base64(0x01 || public key)>`,
    /// checking that the key ID is the one the name and key give.
    pub fn from_vkey(vkey: &str) -> Result<Self, LogError> {
        // PROTOCOL 11.4.1
        let (name, id, key) = split_key(vkey)?;
        check_key_name(name)?;
        let stated = parse_key_id(id)?;
        let bytes = decode_typed_key(key)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| LogError::MalformedKey {
            reason: "not an Ed25519 public key",
        })?;
        let v = Self::new(name, key)?;
        if v.key_id != stated {
            return Err(LogError::KeyIdMismatch {
                stated,
                computed: v.key_id,
            });
        }
        Ok(v)
    }

    /// The verifier key string (see [`Self::from_vkey`]).
    pub fn to_vkey(&self) -> String {
        let key = encode_typed_key(self.key.as_bytes());
        format!("{}+{}+{}", self.name, self.key_id, key.as_str())
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The Ed25519 public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }
}

impl fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NoteVerifier")
            .field(&self.to_vkey())
            .finish()
    }
}

/// A private key that signs notes: an Ed25519 signing key with its name and key ID.
///
/// The signing key is zeroized on drop and `Debug` prints only the public parts.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    key_id: KeyId,
    key: SigningKey,
}

impl NoteSigner {
    /// A signer for `key` under `name`.
    pub fn new(name: &str, key: SigningKey) -> Result<Self, LogError> {
        check_key_name(name)?;
        let key_id = KeyId::ed25519(name, &key.verifying_key());
        Ok(Self {
            name: name.to_owned(),
            key_id,
            key,
        })
    }

    /// A fresh key under `name`, drawn from `rng`.
    pub fn generate(name: &str, rng: &mut impl CryptoRngCore) -> Result<Self, LogError> {
        Self::new(name, SigningKey::generate(rng))
    }

    /// Parses a signer key string
    /// `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte seed)>`, checking that the
    /// key ID is the one the name and derived public key give.
    pub fn from_skey(skey: &str) -> Result<Self, LogError> {
        let rest = skey
            .strip_prefix(SIGNER_KEY_PREFIX)
            .ok_or(LogError::MalformedKey {
                reason: "signer key does not start with PRIVATE+KEY+",
            })?;
        let (name, id, key) = split_key(rest)?;
        check_key_name(name)?;
        let stated = parse_key_id(id)?;
        let seed = decode_typed_key(key)?;
        let s = Self::new(name, SigningKey::from_bytes(&seed))?;
        if s.key_id != stated {
            return Err(LogError::KeyIdMismatch {
                stated,
                computed: s.key_id,
            });
        }
        Ok(s)
    }

    /// The signer key string (see [`Self::from_skey`]). It holds the secret seed; it is
    /// zeroized when dropped.
    pub fn expose_skey(&self) -> Zeroizing<String> {
        let key = encode_typed_key(self.key.as_bytes());
        let mut out = Zeroizing::new(String::with_capacity(
            SIGNER_KEY_PREFIX.len() + self.name.len() + 10 + key.len(),
        ));
        out.push_str(SIGNER_KEY_PREFIX);
        out.push_str(&self.name);
        out.push('+');
        out.push_str(&self.key_id.to_string());
        out.push('+');
        out.push_str(&key);
        out
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    fn sign_text(&self, text: &str) -> NoteSignature {
        NoteSignature {
            key_name: self.name.clone(),
            key_id: self.key_id,
            signature: self.key.sign(text.as_bytes()).to_bytes().to_vec(),
        }
    }
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &self.key_id)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// One signature line of a note.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NoteSignature {
    key_name: String,
    key_id: KeyId,
    signature: Vec<u8>,
}

impl NoteSignature {
    /// The key name on the line.
    pub fn key_name(&self) -> &str {
        &self.key_name
    }

    /// The key ID (the first four bytes of the decoded base64).
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The signature bytes after the key ID (64 bytes for Ed25519; other lengths are kept
    /// for signature types this crate does not check).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    fn write_line(&self, out: &mut String) {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id.0.to_be_bytes());
        raw.extend_from_slice(&self.signature);
        out.push_str(SIG_PREFIX);
        out.push_str(&self.key_name);
        out.push(' ');
        out.push_str(&BASE64.encode(raw));
        out.push('\n');
    }
}

/// Checks that a note text is well formed: within the size bound, ending in a newline and
/// free of control characters other than newline.
fn check_text(text: &str) -> Result<(), LogError> {
    if text.len() > MAX_NOTE_SIZE {
        return Err(LogError::NoteTooLarge {
            size: text.len(),
            max: MAX_NOTE_SIZE,
        });
    }
    if !text.ends_with('\n') {
        return Err(LogError::MalformedNote {
            reason: "text does not end with a newline",
        });
    }
    check_no_controls(text)
}

fn check_no_controls(s: &str) -> Result<(), LogError> {
    if s.chars().any(|c| c < ' ' && c != '\n') {
        return Err(LogError::MalformedNote {
            reason: "contains a control character other than newline",
        });
    }
    Ok(())
}

/// A note text with its signature lines, verified or not.
///
/// [`Self::parse`] checks only the grammar; the text must not be trusted until
/// [`Self::verify`] has succeeded for a trusted key.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignedNote {
    text: String,
    signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// An unsigned note holding `text`, which must end with a newline and hold no control
    /// characters but newlines.
    pub fn new(text: impl Into<String>) -> Result<Self, LogError> {
        let text = text.into();
        check_text(&text)?;
        Ok(Self {
            text,
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note strictly (`PROTOCOL 11.4`), without checking any signature.
    pub fn parse(msg: &[u8]) -> Result<Self, LogError> {
        // PROTOCOL 11.4.2. Bounds first, before any work proportional to the input.
        if msg.len() > MAX_NOTE_SIZE {
            return Err(LogError::NoteTooLarge {
                size: msg.len(),
                max: MAX_NOTE_SIZE,
            });
        }
        let msg = core::str::from_utf8(msg).map_err(|_| LogError::MalformedNote {
            reason: "not valid UTF-8",
        })?;
        check_no_controls(msg)?;

        // The text ends at the last blank line; it keeps its final newline.
        let split = msg.rfind("\n\n").ok_or(LogError::MalformedNote {
            reason: "no blank line before the signatures",
        })?;
        let (text, sigs) = (&msg[..split + 1], &msg[split + 2..]);
        let sigs = sigs.strip_suffix('\n').ok_or(LogError::MalformedNote {
            reason: "signature block is empty or does not end with a newline",
        })?;
        if sigs.split('\n').count() > MAX_SIGNATURES {
            return Err(LogError::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }

        let mut signatures = Vec::new();
        for line in sigs.split('\n') {
            let rest = line
                .strip_prefix(SIG_PREFIX)
                .ok_or(LogError::MalformedNote {
                    reason: "signature line does not start with an em dash and a space",
                })?;
            let (name, b64) = rest.split_once(' ').ok_or(LogError::MalformedNote {
                reason: "signature line has no space after the key name",
            })?;
            check_key_name(name).map_err(|_| LogError::MalformedNote {
                reason: "invalid key name in a signature line",
            })?;
            let raw = BASE64.decode(b64).map_err(|_| LogError::MalformedNote {
                reason: "signature is not canonical base64",
            })?;
            let (id, signature) = match raw.split_first_chunk::<4>() {
                Some((id, signature)) if !signature.is_empty() => (id, signature),
                _ => {
                    return Err(LogError::MalformedNote {
                        reason: "signature shorter than a key ID and one byte",
                    })
                }
            };
            signatures.push(NoteSignature {
                key_name: name.to_owned(),
                key_id: KeyId(u32::from_be_bytes(*id)),
                signature: signature.to_vec(),
            });
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Checks the signature of `verifier`'s key (`PROTOCOL 11.4`).
    ///
    /// # Errors
    /// [`LogError::MissingCheckpointSignature`] if no line carries both the key's name and
    /// key ID; [`LogError::BadCheckpointSignature`] if such a line does not verify.
    pub fn verify(&self, verifier: &NoteVerifier) -> Result<(), LogError> {
        // PROTOCOL 11.4.3: lines of this key (name and key ID) must all verify, and there
        // must be one; lines of other keys are ignored.
        let mut found = false;
        for sig in self
            .signatures
            .iter()
            .filter(|s| s.key_name == verifier.name && s.key_id == verifier.key_id)
        {
            let bad = || LogError::BadCheckpointSignature {
                key_name: verifier.name.clone(),
                key_id: verifier.key_id,
            };
            let bytes: &[u8; 64] = sig.signature.as_slice().try_into().map_err(|_| bad())?;
            verifier
                .key
                .verify_strict(self.text.as_bytes(), &Signature::from_bytes(bytes))
                .map_err(|_| bad())?;
            found = true;
        }
        if found {
            Ok(())
        } else {
            Err(LogError::MissingCheckpointSignature {
                key_name: verifier.name.clone(),
                key_id: verifier.key_id,
            })
        }
    }

    /// Parses `msg` and checks `verifier`'s signature: [`Self::parse`] then [`Self::verify`].
    pub fn open(msg: &[u8], verifier: &NoteVerifier) -> Result<Self, LogError> {
        let note = Self::parse(msg)?;
        note.verify(verifier)?;
        Ok(note)
    }

    /// Signs the text with `signer`, replacing any earlier signature line of the same key.
    pub fn add_signature(&mut self, signer: &NoteSigner) -> Result<(), LogError> {
        self.signatures
            .retain(|s| !(s.key_name == signer.name && s.key_id == signer.key_id));
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(LogError::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }
        self.signatures.push(signer.sign_text(&self.text));
        Ok(())
    }

    /// The note text, ending in a newline. Trust it only after [`Self::verify`].
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// The encoded note: text, blank line, signature lines.
    ///
    /// Fails with [`LogError::MalformedNote`] if the note has no signature, since such a
    /// note has no encoding.
    pub fn encode(&self) -> Result<String, LogError> {
        if self.signatures.is_empty() {
            return Err(LogError::MalformedNote {
                reason: "a signed note needs at least one signature",
            });
        }
        let mut out = String::with_capacity(self.text.len() + 1 + 128 * self.signatures.len());
        out.push_str(&self.text);
        out.push('\n');
        for sig in &self.signatures {
            sig.write_line(&mut out);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names() {
        assert!(check_key_name("example.com/log").is_ok());
        for bad in [
            "",
            "a b",
            "a+b",
            "a\tb",
            "a\u{a0}b",
            "a\u{2003}b",
            "a\u{7f}b",
        ] {
            assert!(check_key_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn key_ids_are_strict_hex() {
        assert_eq!(parse_key_id("c74f20a3"), Ok(KeyId(0xc74f20a3)));
        for bad in [
            "C74F20A3",
            "c74f20a",
            "c74f20a30",
            "+74f20a3",
            "c74f20ag",
            "",
        ] {
            assert!(parse_key_id(bad).is_err(), "{bad:?}");
        }
    }
}
