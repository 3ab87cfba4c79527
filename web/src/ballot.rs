//! Building a ballot in the browser (PROTOCOL 6.6), its Benaloh audit (PROTOCOL 6.8),
//! and loading the proving key (PROTOCOL 10.5).
//!
//! The flow: [`prepare_ballot`] checks the census path against the voter's commitment
//! and the frozen root, encrypts the selections and makes every validity proof;
//! [`PreparedBallot::prove`] adds the Groth16 eligibility proof over the ballot digest
//! and gives the board entry to cast. Before casting, the voter may audit instead:
//! [`PreparedBallot::audit`] reveals the nonces (the ballot is then never cast) and
//! [`check_audit`] re-encrypts and compares, here or on any other device.

use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use urna_circuits::{CensusRoot, MerklePath, ProvingKey};
use urna_protocol::ballot::{encrypt_ballot, BallotAudit, ContestBallot, EncryptedBallot};
use urna_protocol::board::{BoardEntry, Payload};
use urna_protocol::codec::{Canonical, Decode, Encode, Reader, Writer};
use urna_protocol::elgamal::ElectionPublicKey;
use urna_protocol::manifest::{Manifest, MAX_CONTESTS};

use crate::credential::Credential;
use crate::election::{parse_election_key, Election};
use crate::error::{from_hex, hex32, WebError};

/// The `format` value of an audit file.
pub const AUDIT_FORMAT: &str = "urna-audit/v1";

/// Largest audit file accepted, in bytes.
pub const MAX_AUDIT_BYTES: usize = 4 << 20;

/// Loads the proving key after checking SHA-256 of its bytes against the election's
/// `proving_key_hash` (the manifest's, or its ceremony's `setup-keys` entry's), skipping
/// the (slow in wasm) point checks, and checks that it proves for the election's census
/// depth and verifying key.
pub fn load_proving_key(bytes: &[u8], election: &Election) -> Result<ProvingKey, WebError> {
    let manifest = election.manifest();
    let (vk_hash, pk_hash) = election.key_hashes().ok_or_else(|| {
        WebError::ProvingKey("the election's setup ceremony has not fixed its keys yet".into())
    })?;
    let pk = ProvingKey::from_bytes_trusted(bytes, &pk_hash)
        .map_err(|e| WebError::ProvingKey(e.to_string()))?;
    if pk.depth() != manifest.census_depth {
        return Err(WebError::ProvingKey(format!(
            "key for census depth {}, election has depth {}",
            pk.depth(),
            manifest.census_depth
        )));
    }
    if pk.verifying_key()?.verifying_key_hash() != vk_hash {
        return Err(WebError::ProvingKey(
            "its verifying key is not the election's".into(),
        ));
    }
    Ok(pk)
}

/// Checks the selections against the manifest before any work: one list per contest,
/// one choice per option, and each contest's count within `[min, max]`.
pub fn check_selections(manifest: &Manifest, selections: &[Vec<bool>]) -> Result<(), WebError> {
    if selections.len() != manifest.contests.len() {
        return Err(WebError::BadInput(format!(
            "{} contests, {} selection lists",
            manifest.contests.len(),
            selections.len()
        )));
    }
    for (i, (contest, chosen)) in manifest.contests.iter().zip(selections).enumerate() {
        if chosen.len() != contest.options.len() {
            return Err(WebError::BadInput(format!(
                "contest {i}: {} options, {} choices",
                contest.options.len(),
                chosen.len()
            )));
        }
        let k = chosen.iter().filter(|c| **c).count();
        if (k as u64) < u64::from(contest.min_selections)
            || (k as u64) > u64::from(contest.max_selections)
        {
            return Err(WebError::SelectionCount {
                contest: i,
                title: contest.title.clone(),
                min: contest.min_selections,
                max: contest.max_selections,
                chosen: k,
            });
        }
    }
    Ok(())
}

/// An encrypted ballot with its validity proofs, not yet proven eligible. Holds the
/// nonces (secret unless audited).
#[derive(Debug)]
pub struct PreparedBallot {
    encrypted: EncryptedBallot,
    audit: BallotAudit,
    path: MerklePath,
    manifest_hash: [u8; 32],
    public_key: ElectionPublicKey,
}

/// Encrypts `selections` for `credential` and makes the validity proofs (PROTOCOL 6.6
/// steps 1-2), after checking that `path` (from the board) leads from the credential's
/// commitment to `census_root` (the frozen root) at the election's depth.
pub fn prepare_ballot(
    election: &Election,
    public_key: &ElectionPublicKey,
    credential: &Credential,
    census_root: CensusRoot,
    path: &[u8],
    selections: &[Vec<bool>],
    rng: &mut impl CryptoRngCore,
) -> Result<PreparedBallot, WebError> {
    if credential.election_id() != election.id() {
        return Err(WebError::CredentialForOtherElection);
    }
    check_selections(election.manifest(), selections)?;
    let path = MerklePath::from_bytes(path).map_err(|_| WebError::CensusPathMismatch)?;
    if path.depth() != election.manifest().census_depth {
        return Err(WebError::CensusPathMismatch);
    }
    path.verify(&credential.commitment(), &census_root)
        .map_err(|_| WebError::CensusPathMismatch)?;
    let nullifier = credential.expose_secret().nullifier(&election.id())?;
    let (encrypted, audit) = encrypt_ballot(
        election.manifest(),
        public_key,
        census_root,
        nullifier,
        selections,
        rng,
    )?;
    Ok(PreparedBallot {
        encrypted,
        audit,
        path,
        manifest_hash: election.manifest_hash(),
        public_key: *public_key,
    })
}

/// A ballot ready to cast: the board entry and its tracking code.
#[derive(Debug, Clone)]
pub struct CastableBallot {
    /// Canonical board-entry bytes for `POST /v1/elections/{id}/ballots`.
    pub entry: Vec<u8>,
    /// The tracking code (`XXXX-XXXX-XXXX-XXXX`).
    pub tracking_code: String,
}

impl PreparedBallot {
    /// The tracking code the voter sees before deciding to cast or audit. It is fixed
    /// by the encryption: the Groth16 proof does not change it.
    pub fn tracking_code(&self) -> String {
        self.encrypted
            .tracking_code(&self.manifest_hash)
            .to_string()
    }

    /// Makes the Groth16 eligibility proof over the ballot digest (PROTOCOL 6.6 step 3)
    /// and gives the entry to cast.
    pub fn prove(
        &self,
        proving_key: &ProvingKey,
        credential: &Credential,
        rng: &mut impl CryptoRngCore,
    ) -> Result<CastableBallot, WebError> {
        let statement = self.encrypted.eligibility_statement(&self.manifest_hash);
        let proof = urna_circuits::prove(
            proving_key,
            credential.expose_secret(),
            &self.path,
            &statement,
            rng,
        )?;
        let ballot = self.encrypted.clone().attach_eligibility(proof);
        let entry = BoardEntry::unsigned(self.encrypted.election_id, Payload::Ballot(ballot))?;
        Ok(CastableBallot {
            entry: entry.to_canonical_bytes(),
            tracking_code: self.tracking_code(),
        })
    }

    /// Reveals the ballot's nonces for a Benaloh audit (PROTOCOL 6.8). The file lets
    /// any device check that the ciphertexts encrypt exactly these selections; an
    /// audited ballot must never be cast (the page discards it and encrypts afresh).
    pub fn audit(self) -> Result<String, WebError> {
        let mut contests = Writer::new();
        contests.seq(&self.encrypted.contests);
        let file = AuditFile {
            format: AUDIT_FORMAT.into(),
            election_id: hex::encode(self.encrypted.election_id.to_bytes()),
            manifest_hash: hex::encode(self.manifest_hash),
            election_public_key: hex::encode(self.public_key.to_bytes()),
            census_root: hex::encode(self.encrypted.census_root.to_bytes()),
            nullifier: hex::encode(self.encrypted.nullifier.to_bytes()),
            contests: hex::encode(contests.as_bytes()),
            reveal: hex::encode(self.audit.encoded()),
            tracking_code: self.tracking_code(),
        };
        serde_json::to_string_pretty(&file).map_err(|e| WebError::BadInput(e.to_string()))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditFile {
    format: String,
    election_id: String,
    manifest_hash: String,
    election_public_key: String,
    census_root: String,
    nullifier: String,
    contests: String,
    reveal: String,
    tracking_code: String,
}

/// What a successful audit shows: the tracking code (to compare with the one the page
/// showed) and the selections the ciphertexts hold.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct AuditReport {
    /// The tracking code, recomputed from the ciphertexts and proofs.
    pub tracking_code: String,
    /// Hex election id.
    pub election_id: String,
    /// The selections, per contest and option.
    pub selections: Vec<Vec<bool>>,
}

fn decode_all<T>(
    bytes: &[u8],
    f: impl FnOnce(&mut Reader<'_>) -> Result<T, urna_protocol::DecodeError>,
) -> Result<T, WebError> {
    let mut r = Reader::new(bytes);
    let v = f(&mut r)?;
    r.finish()?;
    Ok(v)
}

/// Checks an audit file (PROTOCOL 6.8): re-encrypts every revealed selection with its
/// nonce under the election key, compares with the ciphertexts, and recomputes the
/// tracking code from the ballot's contents, which must equal the file's.
///
/// With `expected` (the election and its public key, as the page knows them), the file
/// must also be for that election, manifest and key; without, the report's values must
/// be compared with the board's by hand.
pub fn check_audit(
    text: &str,
    expected: Option<(&Election, &ElectionPublicKey)>,
) -> Result<AuditReport, WebError> {
    if text.len() > MAX_AUDIT_BYTES {
        return Err(WebError::NotAnAudit("the file is too large"));
    }
    let file: AuditFile =
        serde_json::from_str(text).map_err(|_| WebError::NotAnAudit("not an audit file"))?;
    if file.format != AUDIT_FORMAT {
        return Err(WebError::NotAnAudit("unknown format"));
    }
    let election_id = crate::election::parse_election_id(&file.election_id)?;
    let manifest_hash = hex32("manifest hash", &file.manifest_hash)?;
    let public_key = parse_election_key(&file.election_public_key)?;
    let census_root = crate::election::parse_census_root(&file.census_root)?;
    let nullifier = urna_circuits::Nullifier::from_bytes(&hex32("nullifier", &file.nullifier)?)?;
    let contests: Vec<ContestBallot> = decode_all(&from_hex("contests", &file.contests)?, |r| {
        r.seq("contests", MAX_CONTESTS)
    })?;
    let reveal = decode_all(&from_hex("reveal", &file.reveal)?, BallotAudit::decode)?;
    if let Some((e, key)) = expected {
        if e.id() != election_id || e.manifest_hash() != manifest_hash || *key != public_key {
            return Err(WebError::AuditFailed(
                "the audit is for another election, manifest or election key".into(),
            ));
        }
    }
    reveal
        .check(&contests, &public_key)
        .map_err(|e| WebError::AuditFailed(e.to_string()))?;
    let encrypted = EncryptedBallot {
        election_id,
        census_root,
        nullifier,
        contests,
    };
    let tracking_code = encrypted.tracking_code(&manifest_hash).to_string();
    if tracking_code != file.tracking_code {
        return Err(WebError::AuditFailed(
            "the tracking code is not the ballot's".into(),
        ));
    }
    Ok(AuditReport {
        tracking_code,
        election_id: file.election_id.to_lowercase(),
        selections: reveal.expose_selections().to_vec(),
    })
}
