//! Bulletin-board entries and who may sign them (PROTOCOL §9).
//!
//! The board is one append-only log per server; every leaf of its Merkle tree (§11) is
//! the canonical encoding of one [`BoardEntry`]. An entry names its election, carries a
//! typed payload, and — for every kind written by the authority, a trustee or the board
//! itself — an Ed25519 signature by the key the manifest names for that kind.
//! Registrations and ballots are not signed: a one-time code, respectively the
//! eligibility proof, is their authorisation.
//!
//! ```text
//! entry = 0x01 ‖ 0x20 ‖ election_id (32) ‖ kind (1) ‖ payload ‖ [signature (64)]
//! ```
//!
//! The signature is present exactly when the kind is signed (so there is one encoding),
//! and is made over `SIGNING_DOMAIN ‖ enc(context) ‖ enc(message)` (§9.1) with
//! `context = "urna/v1/entry/" ‖ kind name` and
//! `message = election_id ‖ kind ‖ payload` (the entry's bytes without the signature).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use sha2::{Digest, Sha256};
use urna_circuits::{CensusRoot, ElectionId, IdentityCommitment, VerifyingKey};

use crate::ballot::Ballot;
use crate::codec::{Canonical, Decode, Encode, Reader, Writer};
use crate::dkg::{Complaint, DealerMessage};
use crate::error::{DecodeError, VerificationError};
use crate::manifest::Manifest;
use crate::signing::{PublicKey, Signature, SigningKey};
use crate::tally::{Tally, TrusteeShares};

/// Tag of a board entry (PROTOCOL 9.2).
pub const BOARD_ENTRY_TAG: u8 = 0x20;

/// Most registration-code hashes in one entry.
pub const MAX_CODE_HASHES: usize = 100_000;

/// Length of a one-time registration code, in bytes.
pub const REGISTRATION_CODE_BYTES: usize = 16;

/// Largest setup-ceremony contribution carried by one entry, in bytes (PROTOCOL 9.3):
/// a phase-1 contribution for `2^14` powers (census depth 32) is about 3.2 MB.
pub const MAX_SETUP_CONTRIBUTION_BYTES: usize = 4 * 1024 * 1024;

/// Domain of registration-code hashes (PROTOCOL 9.4).
pub const REGISTRATION_CODE_DOMAIN: &[u8] = b"urna/v1/registration-code";

/// The kind of a board entry (PROTOCOL 9.2): its byte in the encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum EntryKind {
    /// The election manifest. Signed by the authority key it names.
    Manifest = 1,
    /// A trustee's DKG dealer message. Signed by that trustee.
    Dealer = 2,
    /// A trustee's complaint against a dealer. Signed by the complaining trustee.
    Complaint = 3,
    /// Hashes of one-time registration codes. Signed by the authority.
    RegistrationCodes = 4,
    /// A voter's registration: a code and an identity commitment. Unsigned.
    Registration = 5,
    /// The frozen census: its root and size. Signed by the authority.
    CensusFrozen = 6,
    /// Voting opens. Signed by the authority.
    Open = 7,
    /// Voting closes. Signed by the authority.
    Close = 8,
    /// A ballot. Unsigned: the eligibility proof authorises it.
    Ballot = 9,
    /// A trustee's decryption shares of the aggregate. Signed by that trustee.
    DecryptionShares = 10,
    /// The tally: aggregate and result. Signed by the board.
    Tally = 11,
    /// A phase-1 (powers of tau) contribution to the setup ceremony. Signed by its
    /// contributor.
    SetupPhase1 = 12,
    /// A phase-2 (circuit-specific) contribution to the setup ceremony. Signed by its
    /// contributor.
    SetupPhase2 = 13,
    /// The Groth16 keys the closed ceremony derives. Signed by the board.
    SetupKeys = 14,
}

impl EntryKind {
    /// Every kind, in byte order.
    pub const ALL: [EntryKind; 14] = [
        EntryKind::Manifest,
        EntryKind::Dealer,
        EntryKind::Complaint,
        EntryKind::RegistrationCodes,
        EntryKind::Registration,
        EntryKind::CensusFrozen,
        EntryKind::Open,
        EntryKind::Close,
        EntryKind::Ballot,
        EntryKind::DecryptionShares,
        EntryKind::Tally,
        EntryKind::SetupPhase1,
        EntryKind::SetupPhase2,
        EntryKind::SetupKeys,
    ];

    /// The kind's stable name (used in signature contexts, APIs and reports).
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::Manifest => "manifest",
            EntryKind::Dealer => "dealer",
            EntryKind::Complaint => "complaint",
            EntryKind::RegistrationCodes => "registration-codes",
            EntryKind::Registration => "registration",
            EntryKind::CensusFrozen => "census-frozen",
            EntryKind::Open => "open",
            EntryKind::Close => "close",
            EntryKind::Ballot => "ballot",
            EntryKind::DecryptionShares => "decryption-shares",
            EntryKind::Tally => "tally",
            EntryKind::SetupPhase1 => "setup-phase1",
            EntryKind::SetupPhase2 => "setup-phase2",
            EntryKind::SetupKeys => "setup-keys",
        }
    }

    /// Whether entries of this kind carry a signature.
    pub fn is_signed(self) -> bool {
        !matches!(self, EntryKind::Registration | EntryKind::Ballot)
    }

    /// The kind with byte `value`.
    pub fn from_byte(value: u8) -> Result<Self, DecodeError> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| *k as u8 == value)
            .ok_or(DecodeError::UnknownKind {
                what: "board entry",
                value,
            })
    }

    /// The signature context of this kind: `"urna/v1/entry/" ‖ name`.
    pub fn signature_context(self) -> Vec<u8> {
        let mut ctx = b"urna/v1/entry/".to_vec();
        ctx.extend_from_slice(self.name().as_bytes());
        ctx
    }
}

/// A one-time registration code (PROTOCOL 9.4). Secret until used; redacted `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistrationCode([u8; REGISTRATION_CODE_BYTES]);

impl RegistrationCode {
    /// A fresh random code.
    pub fn random(rng: &mut impl rand_core::CryptoRngCore) -> Self {
        let mut b = [0u8; REGISTRATION_CODE_BYTES];
        rng.fill_bytes(&mut b);
        Self(b)
    }

    /// From its bytes.
    pub fn from_bytes(bytes: [u8; REGISTRATION_CODE_BYTES]) -> Self {
        Self(bytes)
    }

    /// The code's bytes (secret until it is used).
    pub fn expose_secret(&self) -> &[u8; REGISTRATION_CODE_BYTES] {
        &self.0
    }

    /// `SHA-256(len ‖ REGISTRATION_CODE_DOMAIN ‖ election_id ‖ code)`: what the authority
    /// posts before the code is used.
    pub fn hash(&self, election_id: &ElectionId) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update((REGISTRATION_CODE_DOMAIN.len() as u32).to_be_bytes());
        h.update(REGISTRATION_CODE_DOMAIN);
        h.update(election_id.to_bytes());
        h.update(self.0);
        h.finalize().into()
    }
}

impl fmt::Debug for RegistrationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RegistrationCode(<redacted>)")
    }
}

/// A contribution to the setup ceremony as a board entry carries it (PROTOCOL 9.3,
/// 14.10): who contributed, and the contribution's canonical bytes (PROTOCOL 14.7),
/// which the `urna-ceremony` crate decodes and checks. They are kept as bytes here so
/// that reading the board does not pay for thousands of point checks.
#[derive(Clone, PartialEq, Eq)]
pub struct SetupContribution {
    /// The contributor's index (PROTOCOL 14.10): 0 the authority, `1..=n` the trustees,
    /// then the manifest's extra contributors.
    pub contributor: u32,
    /// The contribution's canonical encoding, at most
    /// [`MAX_SETUP_CONTRIBUTION_BYTES`].
    pub data: Vec<u8>,
}

impl fmt::Debug for SetupContribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetupContribution")
            .field("contributor", &self.contributor)
            .field("bytes", &self.data.len())
            .finish()
    }
}

impl Encode for SetupContribution {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.contributor);
        w.bytes(&self.data);
    }
}

impl Decode for SetupContribution {
    const MIN_ENCODED_LEN: usize = 4 + 4;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let contributor = r.u32()?;
        let data = r
            .bytes("setup contribution", MAX_SETUP_CONTRIBUTION_BYTES)?
            .to_vec();
        if data.is_empty() {
            return Err(DecodeError::InvalidValue {
                what: "setup contribution",
                reason: "empty",
            });
        }
        Ok(Self { contributor, data })
    }
}

/// The keys a closed setup ceremony derives, as the board commits to them
/// (PROTOCOL 9.3, 14.10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupKeys {
    /// The Groth16 verifying key (PROTOCOL 10.5; decoded with every point check).
    pub verifying_key: VerifyingKey,
    /// SHA-256 of the proving key's bytes (PROTOCOL 10.5).
    pub proving_key_hash: [u8; 32],
    /// The ceremony's final transcript hash (`h2` after the phase-2 beacon, 14.7).
    pub transcript_hash: [u8; 32],
}

impl SetupKeys {
    /// SHA-256 of the verifying key's canonical bytes.
    pub fn verifying_key_hash(&self) -> [u8; 32] {
        self.verifying_key.verifying_key_hash()
    }
}

impl Encode for SetupKeys {
    fn encode(&self, w: &mut Writer) {
        w.bytes(&self.verifying_key.to_bytes());
        w.fixed(&self.proving_key_hash);
        w.fixed(&self.transcript_hash);
    }
}

/// Longest verifying-key encoding accepted (PROTOCOL 10.5: 392 bytes).
const MAX_VERIFYING_KEY_BYTES: usize = 1024;

impl Decode for SetupKeys {
    const MIN_ENCODED_LEN: usize = 4 + 32 + 32;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let vk = r.bytes("verifying key", MAX_VERIFYING_KEY_BYTES)?;
        let verifying_key =
            VerifyingKey::from_bytes(vk).map_err(|_| DecodeError::InvalidValue {
                what: "verifying key",
                reason: "not a canonical Groth16 verifying key (PROTOCOL 10.5)",
            })?;
        Ok(Self {
            verifying_key,
            proving_key_hash: r.array()?,
            transcript_hash: r.array()?,
        })
    }
}

/// The payload of a board entry, by kind (PROTOCOL 9.3).
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Payload {
    /// The manifest.
    Manifest(Manifest),
    /// A dealer message of the key ceremony.
    Dealer(DealerMessage),
    /// A complaint of the key ceremony.
    Complaint(Complaint),
    /// Hashes of one-time registration codes.
    RegistrationCodes(Vec<[u8; 32]>),
    /// A registration: the (now spent) code and the voter's identity commitment.
    Registration {
        /// The one-time code, revealed to spend it.
        code: [u8; REGISTRATION_CODE_BYTES],
        /// The voter's census leaf.
        commitment: IdentityCommitment,
    },
    /// The frozen census.
    CensusFrozen {
        /// Root of the census tree of every registration, in board order.
        root: CensusRoot,
        /// Number of registered voters.
        size: u64,
    },
    /// Voting opens at `at` (Unix seconds).
    Open {
        /// The time.
        at: u64,
    },
    /// Voting closes at `at` (Unix seconds).
    Close {
        /// The time.
        at: u64,
    },
    /// A ballot.
    Ballot(Ballot),
    /// A trustee's decryption shares.
    DecryptionShares(TrusteeShares),
    /// The tally.
    Tally(Tally),
    /// A phase-1 contribution to the setup ceremony.
    SetupPhase1(SetupContribution),
    /// A phase-2 contribution to the setup ceremony.
    SetupPhase2(SetupContribution),
    /// The keys of the closed ceremony.
    SetupKeys(SetupKeys),
}

impl Payload {
    /// The payload's kind.
    pub fn kind(&self) -> EntryKind {
        match self {
            Payload::Manifest(_) => EntryKind::Manifest,
            Payload::Dealer(_) => EntryKind::Dealer,
            Payload::Complaint(_) => EntryKind::Complaint,
            Payload::RegistrationCodes(_) => EntryKind::RegistrationCodes,
            Payload::Registration { .. } => EntryKind::Registration,
            Payload::CensusFrozen { .. } => EntryKind::CensusFrozen,
            Payload::Open { .. } => EntryKind::Open,
            Payload::Close { .. } => EntryKind::Close,
            Payload::Ballot(_) => EntryKind::Ballot,
            Payload::DecryptionShares(_) => EntryKind::DecryptionShares,
            Payload::Tally(_) => EntryKind::Tally,
            Payload::SetupPhase1(_) => EntryKind::SetupPhase1,
            Payload::SetupPhase2(_) => EntryKind::SetupPhase2,
            Payload::SetupKeys(_) => EntryKind::SetupKeys,
        }
    }

    fn encode_body(&self, w: &mut Writer) {
        match self {
            Payload::Manifest(m) => m.encode(w),
            Payload::Dealer(d) => d.encode(w),
            Payload::Complaint(c) => c.encode(w),
            Payload::RegistrationCodes(hashes) => w.seq(hashes),
            Payload::Registration { code, commitment } => {
                w.fixed(code);
                w.fixed(&commitment.to_bytes());
            }
            Payload::CensusFrozen { root, size } => {
                w.fixed(&root.to_bytes());
                w.u64(*size);
            }
            Payload::Open { at } | Payload::Close { at } => w.u64(*at),
            Payload::Ballot(b) => b.encode(w),
            Payload::DecryptionShares(s) => s.encode(w),
            Payload::Tally(t) => t.encode(w),
            Payload::SetupPhase1(c) | Payload::SetupPhase2(c) => c.encode(w),
            Payload::SetupKeys(k) => k.encode(w),
        }
    }

    fn decode_body(kind: EntryKind, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match kind {
            EntryKind::Manifest => Payload::Manifest(r.get()?),
            EntryKind::Dealer => Payload::Dealer(r.get()?),
            EntryKind::Complaint => Payload::Complaint(r.get()?),
            EntryKind::RegistrationCodes => {
                let hashes: Vec<[u8; 32]> = r.seq("registration code hashes", MAX_CODE_HASHES)?;
                if hashes.is_empty() {
                    return Err(DecodeError::InvalidValue {
                        what: "registration code hashes",
                        reason: "empty",
                    });
                }
                Payload::RegistrationCodes(hashes)
            }
            EntryKind::Registration => Payload::Registration {
                code: r.array()?,
                commitment: field(r, "identity commitment", IdentityCommitment::from_bytes)?,
            },
            EntryKind::CensusFrozen => Payload::CensusFrozen {
                root: field(r, "census root", CensusRoot::from_bytes)?,
                size: r.u64()?,
            },
            EntryKind::Open => Payload::Open { at: r.u64()? },
            EntryKind::Close => Payload::Close { at: r.u64()? },
            EntryKind::Ballot => Payload::Ballot(r.get()?),
            EntryKind::DecryptionShares => Payload::DecryptionShares(r.get()?),
            EntryKind::Tally => Payload::Tally(r.get()?),
            EntryKind::SetupPhase1 => Payload::SetupPhase1(r.get()?),
            EntryKind::SetupPhase2 => Payload::SetupPhase2(r.get()?),
            EntryKind::SetupKeys => Payload::SetupKeys(r.get()?),
        })
    }
}

fn field<T, E>(
    r: &mut Reader<'_>,
    what: &'static str,
    parse: impl FnOnce(&[u8; 32]) -> Result<T, E>,
) -> Result<T, DecodeError> {
    let bytes = r.array::<32>()?;
    parse(&bytes).map_err(|_| DecodeError::NonCanonicalFieldElement { what })
}

/// The signer a kind of entry must be signed by (PROTOCOL 9.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signer {
    /// The election authority (manifest's `authority_key`).
    Authority,
    /// Trustee `i` (1-based), by its manifest `signing_key`.
    Trustee(u32),
    /// Setup contributor `i` (PROTOCOL 14.10; [`Manifest::contributor_key`]).
    Contributor(u32),
    /// The board (manifest's `board_key`).
    Board,
    /// Nobody: the entry is authorised otherwise.
    None,
}

/// One entry of the bulletin board (PROTOCOL 9.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoardEntry {
    election_id: ElectionId,
    payload: Payload,
    signature: Option<Signature>,
}

impl BoardEntry {
    /// An unsigned entry (registration or ballot).
    pub fn unsigned(election_id: ElectionId, payload: Payload) -> Result<Self, crate::Error> {
        if payload.kind().is_signed() {
            return Err(crate::Error::InvalidArgument(alloc::format!(
                "{} entries must be signed",
                payload.kind().name()
            )));
        }
        Ok(Self {
            election_id,
            payload,
            signature: None,
        })
    }

    /// An entry signed with `key` (which must be the key the manifest names for the
    /// kind; that is checked by [`BoardEntry::verify_signature`], not here).
    pub fn signed(
        election_id: ElectionId,
        payload: Payload,
        key: &SigningKey,
    ) -> Result<Self, crate::Error> {
        let kind = payload.kind();
        if !kind.is_signed() {
            return Err(crate::Error::InvalidArgument(alloc::format!(
                "{} entries are not signed",
                kind.name()
            )));
        }
        let mut entry = Self {
            election_id,
            payload,
            signature: None,
        };
        entry.signature = Some(key.sign(&kind.signature_context(), &entry.signed_message()));
        Ok(entry)
    }

    /// The election the entry belongs to.
    pub fn election_id(&self) -> &ElectionId {
        &self.election_id
    }

    /// The entry's kind.
    pub fn kind(&self) -> EntryKind {
        self.payload.kind()
    }

    /// The payload.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// The signature, for signed kinds.
    pub fn signature(&self) -> Option<&Signature> {
        self.signature.as_ref()
    }

    /// The bytes that are signed: `election_id ‖ kind ‖ payload`.
    pub fn signed_message(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode_unsigned(&mut w);
        w.into_bytes()
    }

    fn encode_unsigned(&self, w: &mut Writer) {
        w.fixed(&self.election_id.to_bytes());
        w.u8(self.kind() as u8);
        self.payload.encode_body(w);
    }

    /// Who must have signed this entry (PROTOCOL 9.5).
    pub fn required_signer(&self) -> Signer {
        match &self.payload {
            Payload::Manifest(_)
            | Payload::RegistrationCodes(_)
            | Payload::CensusFrozen { .. }
            | Payload::Open { .. }
            | Payload::Close { .. } => Signer::Authority,
            Payload::Dealer(d) => Signer::Trustee(d.dealer()),
            Payload::Complaint(c) => Signer::Trustee(c.complainer()),
            Payload::DecryptionShares(s) => Signer::Trustee(s.trustee()),
            Payload::Tally(_) | Payload::SetupKeys(_) => Signer::Board,
            Payload::SetupPhase1(c) | Payload::SetupPhase2(c) => Signer::Contributor(c.contributor),
            Payload::Registration { .. } | Payload::Ballot(_) => Signer::None,
        }
    }

    /// Checks the entry against its election's manifest (PROTOCOL 9.5): the election id
    /// matches, the payload's own election id (manifest, ballot) matches, and the
    /// signature verifies under the key the manifest names for this kind. For a manifest
    /// entry, `manifest` must be the entry's own manifest.
    pub fn verify_signature(&self, manifest: &Manifest) -> Result<(), VerificationError> {
        if self.election_id != manifest.election_id {
            return Err(VerificationError::WrongElection);
        }
        match &self.payload {
            Payload::Manifest(m) if m != manifest => {
                return Err(VerificationError::InvalidManifest {
                    reason: "manifest entry checked against another manifest".into(),
                })
            }
            Payload::Ballot(b) if b.election_id != self.election_id => {
                return Err(VerificationError::WrongElection)
            }
            _ => {}
        }
        let kind = self.kind();
        let (key, who): (&PublicKey, String) = match self.required_signer() {
            Signer::None => return Ok(()),
            Signer::Authority => (&manifest.authority_key, "the election authority".into()),
            Signer::Board => (&manifest.board_key, "the board".into()),
            Signer::Trustee(i) => {
                let trustee = i
                    .checked_sub(1)
                    .and_then(|k| manifest.trustees.get(k as usize))
                    .ok_or(VerificationError::UnknownTrustee { index: i })?;
                (&trustee.signing_key, alloc::format!("trustee {i}"))
            }
            Signer::Contributor(i) => {
                let key = manifest
                    .contributor_key(i)
                    .ok_or(VerificationError::UnknownContributor { index: i })?;
                (key, alloc::format!("setup contributor {i}"))
            }
        };
        let signature = self
            .signature
            .as_ref()
            .ok_or_else(|| VerificationError::BadSignature {
                signer: who.clone(),
            })?;
        key.verify(
            &kind.signature_context(),
            &self.signed_message(),
            signature,
            &who,
        )
    }

    /// The log leaf data of this entry: its canonical bytes.
    pub fn leaf_data(&self) -> Vec<u8> {
        self.to_canonical_bytes()
    }
}

impl Encode for BoardEntry {
    fn encode(&self, w: &mut Writer) {
        self.encode_unsigned(w);
        if let Some(sig) = &self.signature {
            sig.encode(w);
        }
    }
}

impl Decode for BoardEntry {
    const MIN_ENCODED_LEN: usize = 33;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let election_id = field(r, "election id", ElectionId::from_bytes)?;
        let kind = EntryKind::from_byte(r.u8()?)?;
        let payload = Payload::decode_body(kind, r)?;
        let signature = if kind.is_signed() {
            Some(r.get()?)
        } else {
            None
        };
        Ok(Self {
            election_id,
            payload,
            signature,
        })
    }
}

impl Canonical for BoardEntry {
    const TAG: u8 = BOARD_ENTRY_TAG;
    const NAME: &'static str = "board entry";
}
