//! The JavaScript interface (wasm-bindgen), only on `wasm32`. Values cross as strings:
//! hex for bytes, JSON for structures, `Uint8Array` for the proving key. A failure
//! throws an `Error` whose message is `"<code>: <text>"`, `<code>` being
//! [`WebError::code`].

use rand_core::OsRng;
use wasm_bindgen::prelude::*;

use crate::ballot::{self, PreparedBallot as InnerPrepared};
use crate::board;
use crate::credential::{parse_registration_code, Credential};
use crate::election::{self as el, Election as InnerElection};
use crate::error::{from_hex, hex32, WebError};
use crate::receipt::{self, BoardReceipt, VoterReceipt};

fn js(e: WebError) -> JsError {
    JsError::new(&format!("{}: {e}", e.code()))
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, JsError> {
    serde_json::to_string(v).map_err(|e| js(WebError::BadInput(e.to_string())))
}

fn parse<'a, T: serde::Deserialize<'a>>(what: &str, text: &'a str) -> Result<T, JsError> {
    serde_json::from_str(text).map_err(|e| js(WebError::BadInput(format!("{what}: {e}"))))
}

/// An election's checked manifest.
#[wasm_bindgen]
pub struct Election(InnerElection);

#[wasm_bindgen]
impl Election {
    /// Reads the manifest entry (hex) of election `election_id` (hex), checking its
    /// kind, election and authority signature.
    #[wasm_bindgen(js_name = fromEntry)]
    pub fn from_entry(entry_hex: &str, election_id: &str) -> Result<Election, JsError> {
        let id = el::parse_election_id(election_id).map_err(js)?;
        let bytes = from_hex("manifest entry", entry_hex).map_err(js)?;
        InnerElection::from_manifest_entry(&bytes, &id)
            .map(Election)
            .map_err(js)
    }

    /// Takes the Groth16 key hashes of a ceremony election from the board's `setup-keys`
    /// entry (hex canonical bytes; kind, election and board signature checked).
    #[wasm_bindgen(js_name = setSetupKeys)]
    pub fn set_setup_keys(&mut self, entry_hex: &str) -> Result<(), JsError> {
        let bytes = from_hex("setup-keys entry", entry_hex).map_err(js)?;
        self.0.set_setup_keys(&bytes).map_err(js)
    }

    /// The manifest as JSON (title, contests, window, depth, setup mode, key hashes).
    pub fn summary(&self) -> Result<String, JsError> {
        json(&self.0.summary())
    }

    /// The election public key (hex), recomputed from the key ceremony's entries (a JSON
    /// array of hex canonical entries: every `dealer` and `complaint` entry of this
    /// election) and compared with the board's (hex, or empty if the board states none).
    #[wasm_bindgen(js_name = electionKey)]
    pub fn election_key(&self, entries_json: &str, board_key: &str) -> Result<String, JsError> {
        if entries_json.len() > 16 * 1024 * 1024 {
            return Err(js(WebError::BadInput(
                "key-ceremony entries too large".into(),
            )));
        }
        let hexes: Vec<String> = parse("key-ceremony entries", entries_json)?;
        let entries = hexes
            .iter()
            .map(|h| from_hex("key-ceremony entry", h))
            .collect::<Result<Vec<_>, _>>()
            .map_err(js)?;
        let board = if board_key.trim().is_empty() {
            None
        } else {
            Some(el::parse_election_key(board_key).map_err(js)?)
        };
        let key = self
            .0
            .election_key_from_ceremony(&entries, board.as_ref())
            .map_err(js)?;
        Ok(hex::encode(key.to_bytes()))
    }

    /// Checks that the board's `vkey` is the board key the manifest names.
    #[wasm_bindgen(js_name = checkBoardKey)]
    pub fn check_board_key(&self, vkey: &str) -> Result<(), JsError> {
        self.0.board_verifier(vkey).map(|_| ()).map_err(js)
    }
}

/// The dealing trustee (1-based) of a `dealer` entry (hex canonical bytes), whose
/// signature is checked later, with the rest of the ceremony, by `Election.electionKey`.
#[wasm_bindgen(js_name = dealerOf)]
pub fn dealer_of(entry_hex: &str) -> Result<u32, JsError> {
    let bytes = from_hex("dealer entry", entry_hex).map_err(js)?;
    el::dealer_of(&bytes).map_err(js)
}

/// A fresh credential for `election_id` (hex): the credential file's JSON.
#[wasm_bindgen(js_name = newCredential)]
pub fn new_credential(election_id: &str) -> Result<String, JsError> {
    let id = el::parse_election_id(election_id).map_err(js)?;
    let c = Credential::generate(id, &mut OsRng).map_err(js)?;
    Ok(c.to_json().map_err(js)?.to_string())
}

/// Reads and checks a credential file for `election_id` (hex); returns its commitment
/// (hex).
#[wasm_bindgen(js_name = readCredential)]
pub fn read_credential(text: &str, election_id: &str) -> Result<String, JsError> {
    let id = el::parse_election_id(election_id).map_err(js)?;
    let c = Credential::from_json(text, Some(&id)).map_err(js)?;
    Ok(hex::encode(c.commitment().to_bytes()))
}

/// The registration entry (hex) spending `code` for the credential's commitment.
#[wasm_bindgen(js_name = registrationEntry)]
pub fn registration_entry(credential: &str, code: &str) -> Result<String, JsError> {
    let c = Credential::from_json(credential, None).map_err(js)?;
    let code = parse_registration_code(code).map_err(js)?;
    Ok(hex::encode(c.registration_entry(&code).map_err(js)?))
}

/// The proving key, loaded after its hash matched the manifest's.
#[wasm_bindgen]
pub struct Prover(urna_circuits::ProvingKey);

#[wasm_bindgen]
impl Prover {
    /// Loads the proving key bytes for `election` (hash, depth and verifying key
    /// checked; points unchecked).
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: &[u8], election: &Election) -> Result<Prover, JsError> {
        ballot::load_proving_key(bytes, &election.0)
            .map(Prover)
            .map_err(js)
    }
}

/// An encrypted ballot with validity proofs, before the eligibility proof.
#[wasm_bindgen]
pub struct PreparedBallot(Option<InnerPrepared>);

fn selections(text: &str) -> Result<Vec<Vec<bool>>, JsError> {
    if text.len() > 64 * 1024 {
        return Err(js(WebError::BadInput("selections too large".into())));
    }
    parse("selections", text)
}

/// Encrypts the selections (JSON `[[bool…]…]`) and makes the validity proofs, after
/// checking the census path (hex) against the credential and the root (hex).
#[wasm_bindgen(js_name = prepareBallot)]
pub fn prepare_ballot(
    election: &Election,
    election_key: &str,
    credential: &str,
    census_root: &str,
    path: &str,
    selection_json: &str,
) -> Result<PreparedBallot, JsError> {
    let key = el::parse_election_key(election_key).map_err(js)?;
    let c = Credential::from_json(credential, Some(&election.0.id())).map_err(js)?;
    let root = el::parse_census_root(census_root).map_err(js)?;
    let path = from_hex("census path", path).map_err(js)?;
    let chosen = selections(selection_json)?;
    ballot::prepare_ballot(&election.0, &key, &c, root, &path, &chosen, &mut OsRng)
        .map(|p| PreparedBallot(Some(p)))
        .map_err(js)
}

fn used() -> JsError {
    js(WebError::BadInput(
        "this ballot was audited and is gone".into(),
    ))
}

#[wasm_bindgen]
impl PreparedBallot {
    /// The tracking code.
    #[wasm_bindgen(js_name = trackingCode)]
    pub fn tracking_code(&self) -> Result<String, JsError> {
        Ok(self.0.as_ref().ok_or_else(used)?.tracking_code())
    }

    /// Makes the eligibility proof: JSON `{"entry": "<hex>", "tracking_code": "…"}`.
    pub fn prove(&self, prover: &Prover, credential: &str) -> Result<String, JsError> {
        let inner = self.0.as_ref().ok_or_else(used)?;
        let c = Credential::from_json(credential, None).map_err(js)?;
        let cast = inner.prove(&prover.0, &c, &mut OsRng).map_err(js)?;
        json(&serde_json::json!({
            "entry": hex::encode(&cast.entry),
            "tracking_code": cast.tracking_code,
        }))
    }

    /// Reveals the nonces (the audit file's JSON); the ballot can no longer be proven.
    pub fn audit(&mut self) -> Result<String, JsError> {
        self.0.take().ok_or_else(used)?.audit().map_err(js)
    }
}

/// Checks an audit file on its own (another device): returns the report's JSON, whose
/// election id and tracking code the voter compares by hand.
#[wasm_bindgen(js_name = checkAudit)]
pub fn check_audit(text: &str) -> Result<String, JsError> {
    json(&ballot::check_audit(text, None).map_err(js)?)
}

/// Checks an audit file, which must be for `election` and its key (hex): returns the
/// report's JSON.
#[wasm_bindgen(js_name = checkAuditFor)]
pub fn check_audit_for(
    text: &str,
    election: &Election,
    election_key: &str,
) -> Result<String, JsError> {
    let key = el::parse_election_key(election_key).map_err(js)?;
    json(&ballot::check_audit(text, Some((&election.0, &key))).map_err(js)?)
}

/// Checks a submission's receipt (JSON, as the board sent it) for the posted `entry`
/// (hex): returns the kept receipt's JSON.
#[wasm_bindgen(js_name = checkReceipt)]
pub fn check_receipt(
    election: &Election,
    vkey: &str,
    tracking_code: &str,
    entry_hex: &str,
    receipt_json: &str,
) -> Result<String, JsError> {
    let verifier = election.0.board_verifier(vkey).map_err(js)?;
    let entry = from_hex("entry", entry_hex).map_err(js)?;
    let r: BoardReceipt = parse("receipt", receipt_json)?;
    let id = hex::encode(election.0.id().to_bytes());
    json(&receipt::check_receipt(&verifier, &id, tracking_code, &entry, &r).map_err(js)?)
}

/// Re-checks a kept receipt (JSON) against a newer checkpoint with a consistency and an
/// inclusion proof (JSON arrays of hex): returns the updated receipt's JSON.
#[wasm_bindgen(js_name = recheckReceipt)]
pub fn recheck_receipt(
    election: &Election,
    vkey: &str,
    receipt_json: &str,
    new_checkpoint: &str,
    consistency_json: &str,
    inclusion_json: &str,
) -> Result<String, JsError> {
    let verifier = election.0.board_verifier(vkey).map_err(js)?;
    let kept: VoterReceipt = parse("receipt", receipt_json)?;
    let consistency: Vec<String> = parse("consistency proof", consistency_json)?;
    let inclusion: Vec<String> = parse("inclusion proof", inclusion_json)?;
    json(
        &receipt::recheck_receipt(&verifier, &kept, new_checkpoint, &consistency, &inclusion)
            .map_err(js)?,
    )
}

/// A one-line view of a board entry (hex) as JSON; `manifest_hash` (hex or empty) lets
/// ballots show their tracking codes.
#[wasm_bindgen(js_name = describeEntry)]
pub fn describe_entry(entry_hex: &str, manifest_hash: &str) -> Result<String, JsError> {
    let entry = from_hex("entry", entry_hex).map_err(js)?;
    let hash = if manifest_hash.is_empty() {
        None
    } else {
        Some(hex32("manifest hash", manifest_hash).map_err(js)?)
    };
    json(&board::describe_entry(&entry, hash.as_ref()).map_err(js)?)
}

/// The tally entry (hex) of `election` as labelled counts (JSON).
#[wasm_bindgen(js_name = tallyResult)]
pub fn tally_result(entry_hex: &str, election: &Election) -> Result<String, JsError> {
    let entry = from_hex("entry", entry_hex).map_err(js)?;
    json(&board::tally_result(&entry, &election.0).map_err(js)?)
}
