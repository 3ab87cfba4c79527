//! `urna voter …`: register with a one-time code, cast (and re-cast) a ballot, check a
//! receipt against the board.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, ensure, Context as _, Result};
use clap::Subcommand;
use rand::rngs::OsRng;
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use urna_circuits::{CensusRoot, MerklePath, ProvingKey, VoterSecret};
use urna_log::{leaf_hash, NoteVerifier};
use urna_protocol::ballot::{encrypt_ballot, Ballot};
use urna_protocol::board::{BoardEntry, Payload};
use urna_protocol::codec::Canonical;
use urna_protocol::elgamal::ElectionPublicKey;
use urna_protocol::manifest::Manifest;

use crate::authority::{parse_code, MAX_PROVING_KEY_BYTES};
use crate::client::{wire, Client, ClientError};
use crate::files::{self, hex32};
use crate::keyfiles::{self, Credential};
use crate::ledger::{
    self, board_verifier, hash32, hashes, open_checkpoint, Election, ElectionKeys,
};

/// A voter's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register with a one-time code: makes a credential, posts its census leaf, and writes
    /// the credential to a file (mode 0600) the voter keeps to vote.
    Register {
        /// The election id (hex).
        #[arg(long, env = "URNA_ELECTION")]
        election: String,
        /// The registration code the authority gave you.
        #[arg(long)]
        code: String,
        /// Where to write the credential (never overwritten).
        #[arg(long, default_value = "urna.credential")]
        out: PathBuf,
    },
    /// Cast a ballot (casting again later replaces the earlier ballot).
    #[command(visible_alias = "revote")]
    Vote {
        /// The credential file from `urna voter register`.
        #[arg(long, default_value = "urna.credential")]
        credential: PathBuf,
        /// The Groth16 proving key the election names (checked against its hash). Without
        /// it, the key is downloaded from the board, checked against the election's keys
        /// (the manifest's, or the board's signed setup-keys entry of a ceremony) and
        /// kept next to the credential (in proving-keys/) for the next votes.
        #[arg(long, env = "URNA_PROVING_KEY")]
        proving_key: Option<PathBuf>,
        /// A choice, `CONTEST=OPTION`, each by title or by number from 1; repeat for each
        /// option chosen. Contests not named get no selection.
        #[arg(long = "select", value_name = "CONTEST=OPTION")]
        selections: Vec<String>,
        /// Where to write the receipt.
        #[arg(long, default_value = "receipt.json")]
        receipt: PathBuf,
    },
    /// Check a receipt: the ballot is in the log, and the board's latest checkpoint
    /// extends the one in the receipt.
    Check {
        /// The receipt file.
        receipt: PathBuf,
    },
}

/// Runs a voter command.
pub async fn run(server: &str, command: Command) -> Result<()> {
    match command {
        Command::Register {
            election,
            code,
            out,
        } => {
            let client = Client::new(server)?;
            let code = parse_code(&code)?;
            let election = crate::authority::fetch(&client, &election).await?;
            register(&client, &election, &code, &out).await?;
            println!(
                "registered in \"{}\"; your credential is in {} (mode 0600): keep it secret, \
                 you need it to vote",
                election.manifest.title,
                out.display()
            );
            Ok(())
        }
        Command::Vote {
            credential,
            proving_key,
            selections,
            receipt,
        } => {
            let client = Client::new(server)?;
            let cache_dir = credential
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let credential = keyfiles::read_credential(&credential)?;
            let source = match &proving_key {
                Some(path) => KeySource::File(path),
                None => KeySource::Board {
                    cache_dir: &cache_dir,
                },
            };
            let booth = Booth::open(&client, &credential.election_id, source).await?;
            let choice = parse_selections(&booth.election.manifest, &selections)?;
            let path = booth.census_path(&client, &credential).await?;
            let ballot = booth.make_ballot(&credential, &path, &choice, &mut OsRng)?;
            let r = booth.cast(&client, &ballot).await?;
            r.write(&receipt)?;
            println!(
                "ballot cast in \"{}\": log entry {}, tracking code {}{}",
                booth.election.manifest.title,
                r.index,
                r.tracking_code,
                if r.replayed {
                    " (already on the board)"
                } else {
                    ""
                }
            );
            println!(
                "receipt written to {}; check it with `urna voter check {}`",
                receipt.display(),
                receipt.display()
            );
            Ok(())
        }
        Command::Check { receipt } => {
            let r = ReceiptFile::read(&receipt)?;
            let client = Client::new(server)?;
            let latest = check_receipt(&client, &r).await?;
            println!(
                "receipt verified: ballot {} is log entry {} of the board; the board's latest \
                 checkpoint ({} entries) extends the receipt's ({} entries)",
                r.tracking_code, r.index, latest, r.tree_size
            );
            Ok(())
        }
    }
}

/// Registers a fresh credential with `code`; the credential file is written before the
/// registration is posted (so it is never lost), and removed if the board refuses it.
pub async fn register(
    client: &Client,
    election: &Election,
    code: &urna_protocol::board::RegistrationCode,
    out: &Path,
) -> Result<()> {
    ensure!(
        election.summary.phase == "setup",
        "registration is over in election {}: its census is {}",
        election.id_hex,
        if election.summary.phase == "frozen" || election.summary.phase == "open" {
            "frozen".to_owned()
        } else {
            format!("closed (phase {})", election.summary.phase)
        }
    );
    let secret = VoterSecret::random(&mut OsRng);
    let commitment = secret.identity_commitment()?;
    let credential = Credential {
        election_id: election.id,
        secret,
        commitment,
    };
    keyfiles::write_credential(out, &credential)?;
    let entry = BoardEntry::unsigned(
        election.id,
        Payload::Registration {
            code: *code.expose_secret(),
            commitment,
        },
    )?;
    match client
        .post_entry(&election.path("/registrations"), &entry)
        .await
    {
        Ok(_) => Ok(()),
        Err(e @ ClientError::Api { .. }) => {
            // The board refused: this credential is not registered, so it is useless.
            let _ = std::fs::remove_file(out);
            Err(e.into())
        }
        Err(e) => Err(anyhow::Error::from(e).context(format!(
            "the registration may or may not have reached the board; keep {} and check \
             `urna authority status`",
            out.display()
        ))),
    }
}

/// Parses `CONTEST=OPTION` choices into per-contest selections, checking the contests'
/// bounds.
pub fn parse_selections(manifest: &Manifest, choices: &[String]) -> Result<Vec<Vec<bool>>> {
    let mut selections: Vec<Vec<bool>> = manifest
        .contests
        .iter()
        .map(|c| vec![false; c.options.len()])
        .collect();
    for choice in choices {
        let (c, o) = choice
            .split_once('=')
            .ok_or_else(|| anyhow!("--select {choice:?}: write CONTEST=OPTION"))?;
        let ci = find(c.trim(), manifest.contests.iter().map(|c| c.title.as_str())).ok_or_else(
            || {
                anyhow!(
                    "--select {choice:?}: no contest {c:?}; the contests are: {}",
                    list(manifest.contests.iter().map(|c| c.title.as_str()))
                )
            },
        )?;
        let contest = &manifest.contests[ci];
        let oi = find(o.trim(), contest.options.iter().map(String::as_str)).ok_or_else(|| {
            anyhow!(
                "--select {choice:?}: no option {o:?} in \"{}\"; the options are: {}",
                contest.title,
                list(contest.options.iter().map(String::as_str))
            )
        })?;
        ensure!(
            !selections[ci][oi],
            "--select {choice:?}: this option is already selected"
        );
        selections[ci][oi] = true;
    }
    for (contest, s) in manifest.contests.iter().zip(&selections) {
        let n = s.iter().filter(|x| **x).count() as u32;
        ensure!(
            n >= contest.min_selections && n <= contest.max_selections,
            "\"{}\" needs between {} and {} selections, you made {n} (use --select \"{}=OPTION\")",
            contest.title,
            contest.min_selections,
            contest.max_selections,
            contest.title
        );
    }
    Ok(selections)
}

fn find<'a>(key: &str, names: impl Iterator<Item = &'a str>) -> Option<usize> {
    let names: Vec<&str> = names.collect();
    if let Some(i) = names.iter().position(|n| *n == key) {
        return Some(i);
    }
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(key)) {
        return Some(i);
    }
    key.parse::<usize>()
        .ok()
        .filter(|n| (1..=names.len()).contains(n))
        .map(|n| n - 1)
}

fn list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .enumerate()
        .map(|(i, n)| format!("{} {n:?}", i + 1))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where a voter's proving key comes from.
#[derive(Clone, Copy, Debug)]
pub enum KeySource<'a> {
    /// A file the voter has.
    File(&'a Path),
    /// The board (`GET /v1/keys/{vk_hash}/proving-key`), kept in `cache_dir/proving-keys/`.
    Board {
        /// The voter's directory.
        cache_dir: &'a Path,
    },
}

/// The directory, next to the credential, where downloaded proving keys are kept by hash.
pub const PROVING_KEY_CACHE: &str = "proving-keys";
/// How long a proving-key download may take (hundreds of MB at large depths; after a
/// restart the board derives a ceremony's key again first).
const PROVING_KEY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3 * 3600);

fn keys_origin(keys: &ElectionKeys) -> String {
    match keys.setup_keys_index {
        Some(i) => format!("the board's signed setup-keys entry {i}"),
        None => "the manifest".to_owned(),
    }
}

/// The election's proving key, from a file or downloaded from the board (and cached),
/// checked against the election's keys ([`load_proving_key`]).
pub async fn obtain_proving_key(
    client: &Client,
    election: &Election,
    source: KeySource<'_>,
    notify: &dyn Fn(&str),
) -> Result<ProvingKey> {
    let keys = ledger::election_keys(client, election).await?;
    match source {
        KeySource::File(path) => load_proving_key(path, election, &keys),
        KeySource::Board { cache_dir } => {
            proving_key_from_board(client, election, &keys, cache_dir, notify).await
        }
    }
}

/// Downloads the election's proving key into `cache_dir/proving-keys/HASH.pk` unless it
/// is there, accepting only bytes whose SHA-256 is the election's `proving_key_hash`.
async fn proving_key_from_board(
    client: &Client,
    election: &Election,
    keys: &ElectionKeys,
    cache_dir: &Path,
    notify: &dyn Fn(&str),
) -> Result<ProvingKey> {
    let pk_hex = hex::encode(keys.proving_key_hash);
    let dir = cache_dir.join(PROVING_KEY_CACHE);
    let path = dir.join(format!("{pk_hex}.pk"));
    if path.is_file() {
        match load_proving_key(&path, election, keys) {
            Ok(pk) => {
                notify(&format!("using the proving key kept in {}", path.display()));
                return Ok(pk);
            }
            Err(e) => {
                eprintln!(
                    "warning: the kept proving key {} is not the election's ({e}); \
                     downloading it again",
                    path.display()
                );
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            }
        }
    }
    files::create_private_dir(&dir)?;
    let part = dir.join(format!("{pk_hex}.pk.part"));
    if part.exists() {
        std::fs::remove_file(&part).with_context(|| format!("cannot remove {}", part.display()))?;
    }
    notify("downloading the election's proving key from the board (checked by its hash)");
    let spin = crate::progress::spinner("downloading the proving key");
    let got = client
        .download_hashed(
            &format!(
                "/v1/keys/{}/proving-key",
                hex::encode(keys.verifying_key_hash)
            ),
            &part,
            MAX_PROVING_KEY_BYTES,
            PROVING_KEY_TIMEOUT,
        )
        .await;
    spin.finish_and_clear();
    let (size, sha) = match got {
        Ok(x) => x,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            if e.downcast_ref::<ClientError>().and_then(ClientError::code) == Some("not_found") {
                bail!(
                    "the board does not serve the proving key of election {} (verifying key \
                     hash {}); give it with --proving-key",
                    election.id_hex,
                    hex::encode(keys.verifying_key_hash)
                );
            }
            return Err(e.context("downloading the proving key"));
        }
    };
    if sha != keys.proving_key_hash {
        let _ = std::fs::remove_file(&part);
        bail!(
            "refused the proving key the board served for election {}: its SHA-256 {} is not \
             the proving_key_hash {} of {}",
            election.id_hex,
            hex::encode(sha),
            pk_hex,
            keys_origin(keys)
        );
    }
    std::fs::rename(&part, &path)
        .with_context(|| format!("cannot move the proving key to {}", path.display()))?;
    notify(&format!(
        "proving key downloaded ({size} bytes) and kept in {}",
        path.display()
    ));
    load_proving_key(&path, election, keys).inspect_err(|_| {
        let _ = std::fs::remove_file(&path);
    })
}

/// Loads the proving key at `path` for an election whose keys are `keys`: its SHA-256
/// must be `proving_key_hash`, the verifying key derived from it must hash to
/// `verifying_key_hash`, and its depth must be the census depth.
pub fn load_proving_key(
    path: &Path,
    election: &Election,
    keys: &ElectionKeys,
) -> Result<ProvingKey> {
    let m = &election.manifest;
    let origin = keys_origin(keys);
    let bytes = files::read_large(path, "proving key", MAX_PROVING_KEY_BYTES)?;
    let pk = ProvingKey::from_bytes_trusted(&bytes, &keys.proving_key_hash).map_err(|e| {
        anyhow!(
            "the proving key {} is not the one election {} names (the proving_key_hash of \
             {origin}): {e}",
            path.display(),
            election.id_hex
        )
    })?;
    let vk = pk
        .verifying_key()
        .map_err(|e| anyhow!("proving key {}: {e}", path.display()))?;
    ensure!(
        vk.verifying_key_hash() == keys.verifying_key_hash,
        "the proving key {} does not follow the election's keys: its verifying key hash {} \
         is not the verifying_key_hash {} of {origin}",
        path.display(),
        hex::encode(vk.verifying_key_hash()),
        hex::encode(keys.verifying_key_hash)
    );
    ensure!(
        pk.depth() == m.census_depth,
        "the proving key is for census depth {}, the election's census has depth {}",
        pk.depth(),
        m.census_depth
    );
    Ok(pk)
}

/// Refuses an election that is not open for voting.
fn check_open(election: &Election) -> Result<()> {
    match election.summary.phase.as_str() {
        "open" => Ok(()),
        "setup" | "frozen" => bail!(
            "election {} is not open for voting yet (phase {})",
            election.id_hex,
            election.summary.phase
        ),
        other => bail!(
            "voting in election {} is closed (phase {other})",
            election.id_hex
        ),
    }
}

/// Everything needed to make and cast ballots in one open election.
pub struct Booth {
    /// The election.
    pub election: Election,
    /// The election key (recomputed from the key ceremony).
    pub key: ElectionPublicKey,
    /// The frozen census root.
    pub root: CensusRoot,
    /// The proving key.
    pub proving_key: Arc<ProvingKey>,
    origin: String,
    vkey: String,
    verifier: NoteVerifier,
}

impl Booth {
    /// Reads the election, checks it is open, obtains and checks the proving key.
    pub async fn open(
        client: &Client,
        id: &urna_circuits::ElectionId,
        proving_key: KeySource<'_>,
    ) -> Result<Booth> {
        let election = Election::fetch(client, id).await?;
        check_open(&election)?;
        let pk = obtain_proving_key(client, &election, proving_key, &|m| println!("{m}")).await?;
        Self::with_key(client, election, Arc::new(pk)).await
    }

    /// As [`Booth::open`], with a proving key already loaded and checked.
    pub async fn with_key(
        client: &Client,
        election: Election,
        proving_key: Arc<ProvingKey>,
    ) -> Result<Booth> {
        check_open(&election)?;
        let root_hex = election
            .summary
            .census_root
            .as_deref()
            .ok_or_else(|| anyhow!("the board names no census root for an open election"))?;
        let root = CensusRoot::from_bytes(&hex32("census root", root_hex)?)
            .map_err(|e| anyhow!("census root: {e}"))?;
        let (_, _, key) = ledger::election_key(client, &election).await?;
        let (info, verifier) = board_verifier(client, &election.manifest).await?;
        Ok(Booth {
            election,
            key,
            root,
            proving_key,
            origin: info.origin,
            vkey: info.vkey,
            verifier,
        })
    }

    /// The credential's census path, checked against the frozen root.
    pub async fn census_path(
        &self,
        client: &Client,
        credential: &Credential,
    ) -> Result<MerklePath> {
        ensure!(
            credential.election_id == self.election.id,
            "this credential is for election {}, not {}",
            hex::encode(credential.election_id.to_bytes()),
            self.election.id_hex
        );
        let commitment = hex::encode(credential.commitment.to_bytes());
        let answer: wire::CensusPath = match client
            .get_json(&self.election.path(&format!("/census/path/{commitment}")))
            .await
        {
            Ok(a) => a,
            Err(ClientError::Api { code, .. }) if code == "not_found" => bail!(
                "this credential is not in the census of election {} (wrong credential file?)",
                self.election.id_hex
            ),
            Err(e) => return Err(e.into()),
        };
        ensure!(
            hash32("census root", &answer.root)?.as_ref() == self.root.to_bytes(),
            "the board's census root differs from the frozen one"
        );
        let bytes = hex::decode(&answer.path).map_err(|e| anyhow!("census path: {e}"))?;
        let path = MerklePath::from_bytes(&bytes).map_err(|e| anyhow!("census path: {e}"))?;
        ensure!(
            path.depth() == self.election.manifest.census_depth,
            "the board's census path has the wrong depth"
        );
        ensure!(
            answer.index == path.index(),
            "the board's census path has the wrong index"
        );
        path.verify(&credential.commitment, &self.root)
            .map_err(|e| {
                anyhow!("the board's census path does not lead to the frozen root: {e}")
            })?;
        Ok(path)
    }

    /// Encrypts `selections` and proves eligibility (CPU-heavy, no I/O).
    pub fn make_ballot(
        &self,
        credential: &Credential,
        path: &MerklePath,
        selections: &[Vec<bool>],
        rng: &mut impl CryptoRngCore,
    ) -> Result<Ballot> {
        let m = &self.election.manifest;
        let nullifier = credential.secret.nullifier(&self.election.id)?;
        let (encrypted, _audit) =
            encrypt_ballot(m, &self.key, self.root, nullifier, selections, rng)
                .map_err(|e| anyhow!("cannot make the ballot: {e}"))?;
        let statement = encrypted.eligibility_statement(&self.election.manifest_hash);
        let proof =
            urna_circuits::prove(&self.proving_key, &credential.secret, path, &statement, rng)
                .map_err(|e| anyhow!("cannot prove eligibility: {e}"))?;
        Ok(encrypted.attach_eligibility(proof))
    }

    /// Posts the ballot and checks the receipt the board gives.
    pub async fn cast(&self, client: &Client, ballot: &Ballot) -> Result<ReceiptFile> {
        let entry = BoardEntry::unsigned(self.election.id, Payload::Ballot(ballot.clone()))?;
        let submitted = client
            .post_entry(&self.election.path("/ballots"), &entry)
            .await?;
        let r = &submitted.receipt;
        let leaf = hash32("leaf hash", &r.leaf_hash)?;
        if !submitted.replayed {
            ensure!(
                leaf == leaf_hash(&entry.to_canonical_bytes()),
                "the board's receipt is for another entry than this ballot"
            );
        }
        let checkpoint = open_checkpoint(&r.checkpoint, &self.origin, &self.verifier)?;
        ensure!(
            checkpoint.size() == r.tree_size,
            "the receipt's sizes disagree"
        );
        checkpoint
            .verify_inclusion(
                r.index,
                &leaf,
                &hashes("inclusion proof", &r.inclusion_proof)?,
            )
            .map_err(|e| {
                anyhow!("the board's receipt does not prove the ballot is in its log: {e}")
            })?;
        let tracking = ballot
            .tracking_code(&self.election.manifest_hash)
            .to_string();
        if let Some(t) = &submitted.tracking_code {
            ensure!(
                *t == tracking,
                "the board's tracking code is not the ballot's"
            );
        }
        Ok(ReceiptFile {
            kind: RECEIPT_KIND.into(),
            election_id: self.election.id_hex.clone(),
            tracking_code: tracking,
            origin: self.origin.clone(),
            vkey: self.vkey.clone(),
            index: r.index,
            leaf_hash: r.leaf_hash.clone(),
            tree_size: r.tree_size,
            inclusion_proof: r.inclusion_proof.clone(),
            checkpoint: r.checkpoint.clone(),
            replayed: submitted.replayed,
        })
    }
}

const RECEIPT_KIND: &str = "urna-ballot-receipt";

/// A ballot's receipt as the voter keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptFile {
    /// `urna-ballot-receipt`.
    pub kind: String,
    /// The election (hex).
    pub election_id: String,
    /// The ballot's tracking code.
    pub tracking_code: String,
    /// The log's origin.
    pub origin: String,
    /// The board's checkpoint key (checked against the manifest when cast).
    pub vkey: String,
    /// Log index.
    pub index: u64,
    /// Leaf hash (hex).
    pub leaf_hash: String,
    /// Size of the receipt's checkpoint.
    pub tree_size: u64,
    /// Inclusion proof (hex).
    pub inclusion_proof: Vec<String>,
    /// The signed checkpoint.
    pub checkpoint: String,
    /// Whether the board already had this ballot.
    #[serde(default)]
    pub replayed: bool,
}

impl ReceiptFile {
    /// Writes the receipt (mode 0600).
    pub fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self)?;
        files::write_private(path, json.as_bytes())
    }

    /// Reads a receipt.
    pub fn read(path: &Path) -> Result<ReceiptFile> {
        let text = files::read_small(path, "receipt")?;
        let r: ReceiptFile = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a ballot receipt", path.display()))?;
        ensure!(
            r.kind == RECEIPT_KIND,
            "{} is not a ballot receipt (kind {:?})",
            path.display(),
            r.kind
        );
        Ok(r)
    }
}

/// Checks a receipt against the board; returns the latest checkpoint's size.
pub async fn check_receipt(client: &Client, r: &ReceiptFile) -> Result<u64> {
    let verifier = NoteVerifier::from_vkey(&r.vkey).map_err(|e| anyhow!("receipt key: {e}"))?;
    let info: wire::BoardInfo = client.get_json("/v1/board").await?;
    ensure!(
        info.vkey == r.vkey,
        "this board signs with another key ({}) than the board that gave the receipt ({})",
        info.vkey,
        r.vkey
    );
    let mine = open_checkpoint(&r.checkpoint, &r.origin, &verifier)?;
    ensure!(mine.size() == r.tree_size, "the receipt's sizes disagree");
    let leaf = hash32("leaf hash", &r.leaf_hash)?;
    mine.verify_inclusion(
        r.index,
        &leaf,
        &hashes("inclusion proof", &r.inclusion_proof)?,
    )
    .map_err(|e| anyhow!("the receipt's inclusion proof is wrong: {e}"))?;
    let note = client.get_text("/v1/log/checkpoint").await?;
    let latest = open_checkpoint(&note, &r.origin, &verifier)?;
    ensure!(
        latest.size() >= mine.size(),
        "the board's log shrank from {} to {} entries: it is not append-only",
        mine.size(),
        latest.size()
    );
    if latest.size() > mine.size() {
        let c: wire::Consistency = client
            .get_json(&format!(
                "/v1/log/consistency?from={}&to={}",
                mine.size(),
                latest.size()
            ))
            .await?;
        ensure!(
            c.from == mine.size() && c.to == latest.size(),
            "the board answered another consistency proof"
        );
        mine.verify_extended_by(&latest, &hashes("consistency proof", &c.proof)?)
            .map_err(|e| {
                anyhow!("the board's latest checkpoint does not extend the receipt's: {e}")
            })?;
    } else {
        ensure!(
            latest.root() == mine.root(),
            "two checkpoints of the same size with different roots: the board forked its log"
        );
    }
    Ok(latest.size())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use urna_circuits::ElectionId;
    use urna_protocol::manifest::Contest;
    use urna_protocol::signing::SigningKey;

    fn manifest() -> Manifest {
        let k = SigningKey::generate(&mut OsRng).public_key();
        Manifest {
            election_id: ElectionId::from_bytes(&[1; 32]).unwrap(),
            title: "t".into(),
            contests: vec![
                Contest {
                    title: "Chair".into(),
                    options: vec!["Ada".into(), "Grace".into()],
                    min_selections: 1,
                    max_selections: 1,
                },
                Contest {
                    title: "Committee".into(),
                    options: vec!["P".into(), "Q".into(), "R".into()],
                    min_selections: 0,
                    max_selections: 2,
                },
            ],
            opens_at: 0,
            closes_at: 1,
            census_depth: 4,
            trustees: vec![],
            threshold: 1,
            authority_key: k,
            board_key: k,
            setup: urna_protocol::manifest::Setup::Keys {
                verifying_key_hash: [0; 32],
                proving_key_hash: [0; 32],
            },
        }
    }

    #[test]
    fn selections_by_title_or_number() {
        let m = manifest();
        let s = parse_selections(
            &m,
            &["Chair=Grace".into(), "2=1".into(), "committee=r".into()],
        )
        .unwrap();
        assert_eq!(s, vec![vec![false, true], vec![true, false, true]]);
    }

    #[test]
    fn bad_selections_are_explained() {
        let m = manifest();
        for (choices, want) in [
            (vec![], "needs between 1 and 1"),
            (vec!["Chair=Ada", "Chair=Grace"], "needs between 1 and 1"),
            (vec!["Chair=Ada", "Chair=Ada"], "already selected"),
            (vec!["Mayor=Ada"], "no contest"),
            (vec!["Chair=Bob"], "no option"),
            (vec!["Chair"], "CONTEST=OPTION"),
            (vec!["Chair=3"], "no option"),
        ] {
            let choices: Vec<String> = choices.into_iter().map(String::from).collect();
            let err = parse_selections(&m, &choices).unwrap_err().to_string();
            assert!(err.contains(want), "{choices:?}: {err}");
        }
    }
}
