//! C2SP `tlog-checkpoint` bodies, signed as C2SP signed notes (`PROTOCOL 11.4`).
//!
//! ```text
//! <origin>
//! <tree size, decimal, no leading zeros>
//! <root hash, standard padded base64>
//! [<extension line>...]
//! ```
//!
//! Every line ends with a newline and none may be empty.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::hash::{Hash, HASH_LEN};
use crate::note::{check_key_name, NoteSigner, NoteVerifier, SignedNote, MAX_NOTE_SIZE};
use crate::LogError;

/// A log's signed statement of its size and root: the tree head a receipt is checked
/// against.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

fn malformed(reason: &'static str) -> LogError {
    LogError::MalformedCheckpoint { reason }
}

/// The origin must be usable as a key name too: non-empty, no whitespace, no control
/// character, no `+` (the C2SP spec recommends this; Urna requires it).
fn check_origin(origin: &str) -> Result<(), LogError> {
    check_key_name(origin)
        .map_err(|_| malformed("origin is empty or holds whitespace, a control character or '+'"))
}

fn check_extension(line: &str) -> Result<(), LogError> {
    if line.is_empty() {
        return Err(malformed("empty extension line"));
    }
    if line.chars().any(char::is_control) {
        return Err(malformed("control character in an extension line"));
    }
    Ok(())
}

/// Parses a tree size: ASCII digits only, no sign, no leading zero unless the size is 0.
fn parse_size(line: &str) -> Result<u64, LogError> {
    if line.is_empty() || !line.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed("tree size is not a decimal number"));
    }
    if line.len() > 1 && line.starts_with('0') {
        return Err(malformed("tree size has a leading zero"));
    }
    line.parse::<u64>()
        .map_err(|_| malformed("tree size does not fit in 64 bits"))
}

fn parse_root(line: &str) -> Result<Hash, LogError> {
    let raw = BASE64
        .decode(line)
        .map_err(|_| malformed("root hash is not canonical base64"))?;
    if raw.len() != HASH_LEN {
        return Err(malformed("root hash is not 32 bytes"));
    }
    Hash::from_slice(&raw)
}

impl Checkpoint {
    /// A checkpoint of the log `origin` at `size` leaves with root `root`.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Result<Self, LogError> {
        let origin = origin.into();
        check_origin(&origin)?;
        Ok(Self {
            origin,
            size,
            root,
            extensions: Vec::new(),
        })
    }

    /// Adds extension lines (non-empty, no control characters). The C2SP spec advises
    /// against them, as monitors cannot audit them; Urna's own checkpoints carry none.
    pub fn with_extensions<I, L>(mut self, lines: I) -> Result<Self, LogError>
    where
        I: IntoIterator<Item = L>,
        L: Into<String>,
    {
        for line in lines {
            let line = line.into();
            check_extension(&line)?;
            self.extensions.push(line);
        }
        Ok(self)
    }

    /// The log's identity.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root hash at that size.
    pub fn root(&self) -> &Hash {
        &self.root
    }

    /// The extension lines, without their newlines.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The checkpoint body: the note text that is signed (`PROTOCOL 11.4`).
    pub fn to_body(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root.as_bytes())
        );
        for line in &self.extensions {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// Parses a checkpoint body strictly (`PROTOCOL 11.4`).
    ///
    /// This checks no signature: use [`Self::open`] on anything received.
    pub fn from_body(body: &str) -> Result<Self, LogError> {
        // PROTOCOL 11.4.4: bounded, newline-terminated, non-empty lines.
        if body.len() > MAX_NOTE_SIZE {
            return Err(LogError::NoteTooLarge {
                size: body.len(),
                max: MAX_NOTE_SIZE,
            });
        }
        let body = body
            .strip_suffix('\n')
            .ok_or(malformed("body does not end with a newline"))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(malformed("fewer than three lines"));
        };
        // PROTOCOL 11.4.4: origin, decimal size, base64 root, extension lines.
        check_origin(origin)?;
        let size = parse_size(size)?;
        let root = parse_root(root)?;
        let extensions = lines
            .map(|l| check_extension(l).map(|()| l.to_owned()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Checks that `proof` shows `leaf_hash` at `index` in the tree this checkpoint signs
    /// (`PROTOCOL 11.2`): the size and root come from the checkpoint, as they must.
    pub fn verify_inclusion(
        &self,
        index: u64,
        leaf_hash: &Hash,
        proof: &[Hash],
    ) -> Result<(), LogError> {
        crate::verify_inclusion(index, self.size, leaf_hash, proof, &self.root)
    }

    /// Checks that `newer`, a checkpoint of the same log, extends this one
    /// (`PROTOCOL 11.3`).
    pub fn verify_extended_by(&self, newer: &Checkpoint, proof: &[Hash]) -> Result<(), LogError> {
        if newer.origin != self.origin {
            return Err(LogError::OriginMismatch {
                expected: self.origin.clone(),
                actual: newer.origin.clone(),
            });
        }
        crate::verify_consistency(self.size, newer.size, &self.root, &newer.root, proof)
    }

    /// Signs the checkpoint and returns the signed note (`PROTOCOL 11.4`).
    ///
    /// The C2SP spec asks that the key name match the origin; this is not enforced, so one
    /// key may serve a test log under another origin, but Urna's server uses its origin.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String, LogError> {
        let mut note = SignedNote::new(self.to_body())?;
        note.add_signature(signer)?;
        note.encode()
    }

    /// Opens a signed checkpoint of the log `origin`: parses the note, checks the
    /// signature of `verifier` over the body, then parses the body and checks its origin
    /// (`PROTOCOL 11.4`).
    pub fn open(msg: &[u8], origin: &str, verifier: &NoteVerifier) -> Result<Self, LogError> {
        // PROTOCOL 11.4.4: parse, verify, then (and only then) read the body.
        let note = SignedNote::open(msg, verifier)?;
        let checkpoint = Self::from_body(note.text())?;
        if checkpoint.origin != origin {
            return Err(LogError::OriginMismatch {
                expected: origin.to_owned(),
                actual: checkpoint.origin,
            });
        }
        Ok(checkpoint)
    }
}
