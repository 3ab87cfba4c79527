//! The voter's credential (PROTOCOL 10.2) and registration (PROTOCOL 9.4).
//!
//! A credential is the voter's secret for one election. Its identity commitment is
//! the only thing the board ever sees; the secret stays in the browser (and in the file
//! the voter keeps). The file is JSON:
//!
//! ```json
//! {"format": "urna-credential/v1", "election_id": "<hex 32>",
//!  "secret": "<hex 32>", "commitment": "<hex 32>"}
//! ```
//!
//! Reading one checks every field: the format tag, canonical field elements, a nonzero
//! secret, and that the commitment is the secret's (so a damaged file is caught before a
//! ballot is built from it).

use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use urna_circuits::{ElectionId, IdentityCommitment, VoterSecret};
use urna_protocol::board::{BoardEntry, Payload, RegistrationCode, REGISTRATION_CODE_BYTES};
use urna_protocol::codec::Canonical;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{hex32, WebError};

/// The `format` value of a credential file.
pub const CREDENTIAL_FORMAT: &str = "urna-credential/v1";

/// Largest credential file accepted, in bytes (a real one is about 250).
pub const MAX_CREDENTIAL_BYTES: usize = 4096;

/// The file's fields; wiped when dropped (it holds the secret's hex).
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct CredentialFile {
    format: String,
    election_id: String,
    secret: String,
    commitment: String,
}

/// A voter's credential for one election. `Debug` is redacted; the secret is zeroized
/// on drop (by [`VoterSecret`]).
pub struct Credential {
    election_id: ElectionId,
    secret: VoterSecret,
    commitment: IdentityCommitment,
}

impl core::fmt::Debug for Credential {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Credential(commitment={}, secret=<redacted>)",
            hex::encode(self.commitment.to_bytes())
        )
    }
}

impl Credential {
    /// A fresh credential for `election_id`.
    pub fn generate(
        election_id: ElectionId,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, WebError> {
        Self::from_secret(election_id, VoterSecret::random(rng))
    }

    fn from_secret(election_id: ElectionId, secret: VoterSecret) -> Result<Self, WebError> {
        let commitment = secret.identity_commitment()?;
        Ok(Self {
            election_id,
            secret,
            commitment,
        })
    }

    /// The election this credential is for.
    pub fn election_id(&self) -> ElectionId {
        self.election_id
    }

    /// The identity commitment: the voter's census leaf, the only public part.
    pub fn commitment(&self) -> IdentityCommitment {
        self.commitment
    }

    /// The secret. Keep its copies short-lived.
    pub fn expose_secret(&self) -> &VoterSecret {
        &self.secret
    }

    /// The credential file's contents (secret: handle with care).
    pub fn to_json(&self) -> Result<Zeroizing<String>, WebError> {
        let file = CredentialFile {
            format: CREDENTIAL_FORMAT.into(),
            election_id: hex::encode(self.election_id.to_bytes()),
            secret: hex::encode(self.secret.to_bytes().as_ref()),
            commitment: hex::encode(self.commitment.to_bytes()),
        };
        serde_json::to_string_pretty(&file)
            .map(Zeroizing::new)
            .map_err(|e| WebError::BadInput(e.to_string()))
    }

    /// Reads a credential file, checking every field (see the module documentation).
    /// With `election_id`, the credential must be for that election.
    pub fn from_json(text: &str, election_id: Option<&ElectionId>) -> Result<Self, WebError> {
        if text.len() > MAX_CREDENTIAL_BYTES {
            return Err(WebError::NotACredential("the file is too large"));
        }
        let file: CredentialFile = serde_json::from_str(text)
            .map_err(|_| WebError::NotACredential("not a credential file"))?;
        if file.format != CREDENTIAL_FORMAT {
            return Err(WebError::NotACredential("unknown format"));
        }
        let id = hex32("election id", &file.election_id)
            .ok()
            .and_then(|b| ElectionId::from_bytes(&b).ok())
            .ok_or(WebError::NotACredential("bad election id"))?;
        let secret_bytes = Zeroizing::new(
            hex32("secret", &file.secret).map_err(|_| WebError::NotACredential("bad secret"))?,
        );
        let secret = VoterSecret::from_bytes(&secret_bytes)
            .map_err(|_| WebError::NotACredential("bad secret"))?;
        let commitment = hex32("commitment", &file.commitment)
            .map_err(|_| WebError::NotACredential("bad commitment"))?;
        let credential = Self::from_secret(id, secret)?;
        if credential.commitment.to_bytes() != commitment {
            return Err(WebError::NotACredential(
                "the commitment does not match the secret",
            ));
        }
        if let Some(expected) = election_id {
            if *expected != id {
                return Err(WebError::CredentialForOtherElection);
            }
        }
        Ok(credential)
    }

    /// The registration entry spending `code` for this credential's commitment
    /// (PROTOCOL 9.4): canonical board-entry bytes for
    /// `POST /v1/elections/{id}/registrations`.
    pub fn registration_entry(&self, code: &RegistrationCode) -> Result<Vec<u8>, WebError> {
        let entry = BoardEntry::unsigned(
            self.election_id,
            Payload::Registration {
                code: *code.expose_secret(),
                commitment: self.commitment,
            },
        )?;
        Ok(entry.to_canonical_bytes())
    }
}

/// Parses a one-time registration code as the authority hands it out: 32 hexadecimal
/// digits, either case, with any dashes and spaces ignored.
pub fn parse_registration_code(text: &str) -> Result<RegistrationCode, WebError> {
    if text.len() > 128 {
        return Err(WebError::BadRegistrationCode);
    }
    let digits: Zeroizing<String> = Zeroizing::new(
        text.chars()
            .filter(|c| !matches!(c, '-' | ' ' | '\t' | '\n' | '\r'))
            .collect(),
    );
    let bytes =
        Zeroizing::new(hex::decode(digits.as_str()).map_err(|_| WebError::BadRegistrationCode)?);
    let code: [u8; REGISTRATION_CODE_BYTES] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| WebError::BadRegistrationCode)?;
    Ok(RegistrationCode::from_bytes(code))
}

/// Formats a registration code the way [`parse_registration_code`] reads it: lowercase
/// hex in four groups of eight digits.
pub fn format_registration_code(code: &RegistrationCode) -> String {
    let digits = hex::encode(code.expose_secret());
    digits
        .as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn id(n: u8) -> ElectionId {
        let mut b = [0u8; 32];
        b[31] = n;
        ElectionId::from_bytes(&b).unwrap()
    }

    #[test]
    fn credential_file_round_trips() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let c = Credential::generate(id(7), &mut rng).unwrap();
        let json = c.to_json().unwrap();
        let back = Credential::from_json(&json, Some(&id(7))).unwrap();
        assert_eq!(back.commitment(), c.commitment());
        assert_eq!(
            back.expose_secret().to_bytes().as_ref(),
            c.expose_secret().to_bytes().as_ref()
        );
        assert!(!format!("{c:?}").contains(&hex::encode(c.expose_secret().to_bytes().as_ref())));
    }

    #[test]
    fn credential_file_rejects_every_kind_of_damage() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let c = Credential::generate(id(7), &mut rng).unwrap();
        let good: serde_json::Value = serde_json::from_str(&c.to_json().unwrap()).unwrap();
        let with = |field: &str, value: serde_json::Value| {
            let mut v = good.clone();
            v[field] = value;
            v.to_string()
        };
        let cases = [
            ("not json".to_owned(), "not_a_credential"),
            ("{}".to_owned(), "not_a_credential"),
            (
                with("format", "urna-credential/v2".into()),
                "not_a_credential",
            ),
            (with("secret", "00".repeat(32).into()), "not_a_credential"),
            (with("secret", "ff".repeat(32).into()), "not_a_credential"),
            (with("secret", "zz".into()), "not_a_credential"),
            (
                with("commitment", "01".repeat(32).into()),
                "not_a_credential",
            ),
            (
                with("election_id", "ff".repeat(32).into()),
                "not_a_credential",
            ),
            (with("extra", 1.into()), "not_a_credential"),
            (" ".repeat(MAX_CREDENTIAL_BYTES + 1), "not_a_credential"),
        ];
        for (text, code) in cases {
            let err = Credential::from_json(&text, None).unwrap_err();
            assert_eq!(err.code(), code, "{text}");
        }
        let err = Credential::from_json(&c.to_json().unwrap(), Some(&id(8))).unwrap_err();
        assert_eq!(err.code(), "credential_other_election");
    }

    #[test]
    fn registration_codes_parse_with_or_without_dashes() {
        let code = RegistrationCode::from_bytes([0xab; 16]);
        let text = format_registration_code(&code);
        assert_eq!(text, "abababab-abababab-abababab-abababab");
        assert_eq!(parse_registration_code(&text).unwrap(), code);
        assert_eq!(
            parse_registration_code(&text.to_uppercase().replace('-', " ")).unwrap(),
            code
        );
        for bad in [
            "",
            "abab",
            &"ab".repeat(17),
            &"zz".repeat(16),
            &"-".repeat(200),
        ] {
            assert_eq!(
                parse_registration_code(bad).unwrap_err().code(),
                "bad_registration_code"
            );
        }
    }

    #[test]
    fn registration_entry_carries_only_code_and_commitment() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let c = Credential::generate(id(9), &mut rng).unwrap();
        let code = RegistrationCode::from_bytes([5; 16]);
        let bytes = c.registration_entry(&code).unwrap();
        let entry = BoardEntry::from_canonical_bytes(&bytes).unwrap();
        assert_eq!(*entry.election_id(), id(9));
        match entry.payload() {
            Payload::Registration {
                code: k,
                commitment,
            } => {
                assert_eq!(k, &[5; 16]);
                assert_eq!(*commitment, c.commitment());
            }
            other => panic!("unexpected payload {other:?}"),
        }
        let secret_hex = hex::encode(c.expose_secret().to_bytes().as_ref());
        assert!(!hex::encode(&bytes).contains(&secret_hex));
    }
}
