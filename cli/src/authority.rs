//! `urna authority …`: the election authority's commands — key, manifest, registration
//! codes, census freeze, open, close, tally and status.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, ensure, Result};
use clap::Subcommand;
use rand::rngs::OsRng;
use sha2::{Digest as _, Sha256};
use urna_circuits::{CensusTree, ProvingKey};
use urna_protocol::board::{BoardEntry, Payload, RegistrationCode, MAX_CODE_HASHES};
use urna_protocol::manifest::Manifest;
use urna_protocol::signing::{PublicKey, SigningKey};
use urna_protocol::tally::TallyResult;

use crate::client::{wire, Client};
use crate::files::{self, hex32};
use crate::keyfiles;
use crate::ledger::{self, decode_entry, Election, FullView};
use crate::manifest_file::{Filled, FixedKeys, ManifestSpec, SetupMode};

/// Largest proving key file read (depth 32 keys are a few GiB).
pub const MAX_PROVING_KEY_BYTES: u64 = 8 << 30;

/// The election a command acts on.
#[derive(Debug, clap::Args)]
pub struct ElectionArg {
    /// The election id (hex).
    #[arg(long, env = "URNA_ELECTION")]
    pub election: String,
}

/// An election and the authority key that signs for it.
#[derive(Debug, clap::Args)]
pub struct Signed {
    /// The election id (hex).
    #[arg(long, env = "URNA_ELECTION")]
    pub election: String,
    /// The authority key file.
    #[arg(long, env = "URNA_AUTHORITY_KEY", default_value = "authority.key")]
    pub key: PathBuf,
}

impl Signed {
    async fn load(&self, server: &str) -> Result<(Client, Election, SigningKey)> {
        let client = Client::new(server)?;
        let key = keyfiles::read_authority(&self.key)?;
        let election = fetch(&client, &self.election).await?;
        Ok((client, election, key))
    }
}

/// The authority's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make a new authority signing key (a file only the authority keeps, mode 0600).
    Keygen {
        /// Where to write the key.
        #[arg(long, default_value = "authority.key")]
        out: PathBuf,
    },
    /// Create an election from a manifest file (TOML) and post it to the board.
    Create {
        /// The manifest file (see cli/examples/election.toml).
        #[arg(long)]
        manifest: PathBuf,
        /// The authority key file.
        #[arg(long, env = "URNA_AUTHORITY_KEY", default_value = "authority.key")]
        key: PathBuf,
        /// Only with `[setup] mode = "fixed-keys"`: the Groth16 proving key made before
        /// the election for the manifest's census depth; its hash goes into the manifest,
        /// and its verifying key must be one of the board's. (By default the keys come
        /// from a setup ceremony on the board: `urna ceremony`.)
        #[arg(long)]
        proving_key: Option<PathBuf>,
    },
    /// Issue one-time registration codes: post their hashes, write the codes (one per
    /// voter) to a file or print them.
    Codes {
        #[command(flatten)]
        target: Signed,
        /// How many codes.
        #[arg(long)]
        count: usize,
        /// Write the codes to this file (mode 0600) instead of printing them.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Freeze the census: sign the root of every registration on the board.
    Freeze(Signed),
    /// Open voting (after the key ceremony and the census freeze, inside the window).
    Open(Signed),
    /// Close voting.
    Close(Signed),
    /// Show the tally (the board posts it once enough trustees posted their shares).
    Tally(ElectionArg),
    /// Show an election's phase and counters.
    Status(ElectionArg),
}

/// Runs an authority command.
pub async fn run(server: &str, command: Command) -> Result<()> {
    match command {
        Command::Keygen { out } => {
            let key = SigningKey::generate(&mut OsRng);
            keyfiles::write_authority(&out, &key)?;
            println!("authority key written to {} (mode 0600)", out.display());
            println!("public key: {}", hex::encode(key.public_key().to_bytes()));
            Ok(())
        }
        Command::Create {
            manifest,
            key,
            proving_key,
        } => {
            let client = Client::new(server)?;
            let key = keyfiles::read_authority(&key)?;
            let (spec, base) = ManifestSpec::read(&manifest)?;
            match (spec.setup_mode()?, &proving_key) {
                (SetupMode::Ceremony, Some(pk)) => bail!(
                    "{} runs a setup ceremony on the board ([setup] mode = \"ceremony\", the \
                     default): the election's keys will come from the ceremony, so \
                     --proving-key {} is not used; remove it, or set mode = \"fixed-keys\" \
                     in [setup] to use keys made before the election",
                    manifest.display(),
                    pk.display()
                ),
                (SetupMode::FixedKeys, None) => bail!(
                    "{} says [setup] mode = \"fixed-keys\": give the proving key made before \
                     the election with --proving-key (e.g. a board's \
                     keys/insecure-depth-{}.pk), or remove the mode to run a setup ceremony \
                     on the board",
                    manifest.display(),
                    spec.census_depth
                ),
                _ => {}
            }
            let m = create(&client, &spec, &base, &key, proving_key.as_deref()).await?;
            let id = hex::encode(m.election_id.to_bytes());
            println!("election created: {}", m.title);
            println!("election id:   {id}");
            println!("manifest hash: {}", hex::encode(m.manifest_hash()));
            if m.setup.is_ceremony() {
                println!(
                    "setup: a ceremony on the board; contributors: {}",
                    crate::ceremony::describe_contributors(&m).join(", ")
                );
                println!(
                    "  each contributes to phase 1 with `urna ceremony contribute`, you close it \
                     with `urna ceremony beacon`; then the same for phase 2. The census can \
                     freeze only after that."
                );
            }
            println!("(for the next commands: export URNA_ELECTION={id})");
            Ok(())
        }
        Command::Codes { target, count, out } => {
            let (client, election, key) = target.load(server).await?;
            let codes = issue_codes(&client, &election, &key, count, out.as_deref()).await?;
            match out {
                Some(path) => println!(
                    "{} registration codes posted; the codes are in {} (mode 0600), one per voter",
                    codes.len(),
                    path.display()
                ),
                None => {
                    for c in &codes {
                        println!("{}", format_code(c));
                    }
                }
            }
            Ok(())
        }
        Command::Freeze(target) => {
            let (client, election, key) = target.load(server).await?;
            let (root, size) = freeze(&client, &election, &key).await?;
            println!("census frozen: {size} voters, root {root}");
            Ok(())
        }
        Command::Open(target) => {
            let (client, election, key) = target.load(server).await?;
            open(&client, &election, &key).await?;
            println!("voting is open in {}", election.id_hex);
            Ok(())
        }
        Command::Close(target) => {
            let (client, election, key) = target.load(server).await?;
            close(&client, &election, &key).await?;
            println!("voting is closed in {}", election.id_hex);
            Ok(())
        }
        Command::Tally(ElectionArg { election }) => {
            let client = Client::new(server)?;
            let election = fetch(&client, &election).await?;
            match tally(&client, &election).await? {
                Some(result) => {
                    print!("{}", format_result(&election.manifest, &result));
                    Ok(())
                }
                None => bail!(
                    "no tally yet: phase {}, decryption shares from trustees {:?} of the {} needed",
                    election.summary.phase,
                    election.summary.shares,
                    election.manifest.threshold
                ),
            }
        }
        Command::Status(ElectionArg { election }) => {
            let client = Client::new(server)?;
            let election = fetch(&client, &election).await?;
            print!("{}", format_status(&election));
            Ok(())
        }
    }
}

/// Reads the election named on the command line.
pub async fn fetch(client: &Client, id: &str) -> Result<Election> {
    Election::fetch(client, &ledger::parse_election_id(id)?).await
}

fn now() -> Result<u64> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| anyhow!("the clock is before 1970"))?
        .as_secs())
}

/// Loads a proving key file, trusting its own hash (the authority names it in the
/// manifest; voters then load it against that hash).
pub fn load_proving_key_for_manifest(path: &Path) -> Result<ProvingKey> {
    let bytes = files::read_large(path, "proving key", MAX_PROVING_KEY_BYTES)?;
    let hash: [u8; 32] = Sha256::digest(&bytes).into();
    ProvingKey::from_bytes_trusted(&bytes, &hash)
        .map_err(|e| anyhow!("{} is not an Urna proving key: {e}", path.display()))
}

/// Builds the manifest from `spec`, signs it and posts it. `proving_key` is the key of
/// a fixed-keys manifest; a ceremony manifest takes none.
pub async fn create(
    client: &Client,
    spec: &ManifestSpec,
    base: &Path,
    key: &SigningKey,
    proving_key: Option<&Path>,
) -> Result<Manifest> {
    let info: wire::BoardInfo = client.get_json("/v1/board").await?;
    let board_key = PublicKey::from_bytes(&hex32("board public key", &info.public_key)?)
        .map_err(|e| anyhow!("the board's public key: {e}"))?;
    let fixed_keys = match proving_key {
        Some(path) => Some(fixed_keys(client, &info, spec, path)?),
        None => None,
    };
    let filled = Filled {
        authority_key: key.public_key(),
        board_key,
        fixed_keys,
    };
    let manifest = spec.build(base, &filled, &mut OsRng)?;
    let entry = BoardEntry::signed(
        manifest.election_id,
        Payload::Manifest(manifest.clone()),
        key,
    )?;
    client.post_entry("/v1/elections", &entry).await?;
    Ok(manifest)
}

/// The hashes of the proving key at `proving_key` and of its verifying key, which must
/// be one of the board's.
fn fixed_keys(
    client: &Client,
    info: &wire::BoardInfo,
    spec: &ManifestSpec,
    proving_key: &Path,
) -> Result<FixedKeys> {
    let pk = load_proving_key_for_manifest(proving_key)?;
    ensure!(
        pk.depth() == spec.census_depth,
        "the proving key {} is for census depth {}, the manifest says {}",
        proving_key.display(),
        pk.depth(),
        spec.census_depth
    );
    let vk = pk
        .verifying_key()
        .map_err(|e| anyhow!("the proving key's verifying key: {e}"))?;
    let vk_hash = hex::encode(vk.verifying_key_hash());
    ensure!(
        info.verifying_keys
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&vk_hash)),
        "the board at {} holds no verifying key for this proving key ({vk_hash}); \
         its keys: {:?}",
        client.base(),
        info.verifying_keys
    );
    Ok(FixedKeys {
        verifying_key_hash: vk.verifying_key_hash(),
        proving_key_hash: pk.proving_key_hash(),
    })
}

/// A registration code as printed: 32 hex digits in groups of four.
pub fn format_code(code: &RegistrationCode) -> String {
    let hex = hex::encode(code.expose_secret());
    let mut out = String::with_capacity(40);
    for (i, c) in hex.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(c);
    }
    out
}

/// Parses a registration code (dashes and spaces are ignored).
pub fn parse_code(s: &str) -> Result<RegistrationCode> {
    let clean: String = s.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    let bytes = hex::decode(&clean)
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .ok_or_else(|| anyhow!("{s:?} is not a registration code (32 hex digits)"))?;
    Ok(RegistrationCode::from_bytes(bytes))
}

/// Makes `count` codes, writes them to `out` (if given) and posts their hashes.
pub async fn issue_codes(
    client: &Client,
    election: &Election,
    key: &SigningKey,
    count: usize,
    out: Option<&Path>,
) -> Result<Vec<RegistrationCode>> {
    ensure!(count > 0, "--count must be at least 1");
    let capacity = 1u64
        .checked_shl(election.manifest.census_depth)
        .unwrap_or(u64::MAX);
    ensure!(
        count as u64 <= capacity,
        "{count} codes exceed the census capacity 2^{} = {capacity}",
        election.manifest.census_depth
    );
    let codes: Vec<RegistrationCode> = (0..count)
        .map(|_| RegistrationCode::random(&mut OsRng))
        .collect();
    if let Some(path) = out {
        let mut text = zeroize::Zeroizing::new(String::new());
        for c in &codes {
            let _ = writeln!(text, "{}", format_code(c));
        }
        files::write_secret(path, text.as_bytes())?;
    }
    for (i, chunk) in codes.chunks(MAX_CODE_HASHES).enumerate() {
        let hashes = chunk.iter().map(|c| c.hash(&election.id)).collect();
        let entry = BoardEntry::signed(election.id, Payload::RegistrationCodes(hashes), key)?;
        if let Err(e) = client
            .post_entry(&election.path("/registration-codes"), &entry)
            .await
        {
            if let (0, Some(path)) = (i, out) {
                // None of the codes in the file is valid: do not leave them around.
                let _ = std::fs::remove_file(path);
            }
            return Err(e.into());
        }
    }
    Ok(codes)
}

/// Freezes the census: reads the whole log, checks every registration spent a posted,
/// unspent code, and signs the root of the registrations in board order.
pub async fn freeze(
    client: &Client,
    election: &Election,
    key: &SigningKey,
) -> Result<(String, u64)> {
    let not_closed = || {
        anyhow!(
            "the setup ceremony of election {} is not closed yet: the census can freeze only \
             after the authority's phase-2 beacon fixed the keys (see `urna ceremony status`)",
            election.id_hex
        )
    };
    if election.manifest.setup.is_ceremony() && election.summary.keys.is_none() {
        return Err(not_closed());
    }
    let view = FullView::fetch(client, election).await?;
    let mut codes: HashMap<[u8; 32], bool> = HashMap::new();
    let mut leaves = Vec::new();
    for (index, entry) in &view.entries {
        match entry.payload() {
            Payload::RegistrationCodes(hashes) => {
                for h in hashes {
                    codes.insert(*h, false);
                }
            }
            Payload::Registration { code, commitment } => {
                let h = RegistrationCode::from_bytes(*code).hash(&election.id);
                match codes.get_mut(&h) {
                    Some(used @ false) => *used = true,
                    _ => bail!("log entry {index}: a registration without a valid code"),
                }
                leaves.push(*commitment);
            }
            Payload::CensusFrozen { .. } => bail!("the census is already frozen (entry {index})"),
            _ => {}
        }
    }
    let tree = CensusTree::from_leaves(election.manifest.census_depth, &leaves)
        .map_err(|e| anyhow!("census: {e}"))?;
    let root = tree.root();
    let entry = BoardEntry::signed(
        election.id,
        Payload::CensusFrozen {
            root,
            size: tree.len(),
        },
        key,
    )?;
    match client
        .post_entry(&election.path("/census/freeze"), &entry)
        .await
    {
        Ok(_) => {}
        Err(e) if e.code() == Some("wrong_phase") && election.manifest.setup.is_ceremony() => {
            let now = Election::fetch(client, &election.id).await?;
            if now.summary.keys.is_none() {
                return Err(not_closed());
            }
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    }
    Ok((hex::encode(root.to_bytes()), tree.len()))
}

/// Posts the open entry (now).
pub async fn open(client: &Client, election: &Election, key: &SigningKey) -> Result<()> {
    let entry = BoardEntry::signed(election.id, Payload::Open { at: now()? }, key)?;
    client.post_entry(&election.path("/open"), &entry).await?;
    Ok(())
}

/// Posts the close entry (now).
pub async fn close(client: &Client, election: &Election, key: &SigningKey) -> Result<()> {
    let entry = BoardEntry::signed(election.id, Payload::Close { at: now()? }, key)?;
    client.post_entry(&election.path("/close"), &entry).await?;
    Ok(())
}

/// The tally entry's result, if the board posted it (its signature by the manifest's
/// board key checked).
pub async fn tally(client: &Client, election: &Election) -> Result<Option<TallyResult>> {
    let Some(index) = election.summary.tally_index else {
        return Ok(None);
    };
    let e: wire::Entry = client.get_json(&format!("/v1/log/entries/{index}")).await?;
    ensure!(e.index == index, "the board answered with another entry");
    let (_, entry) = decode_entry(&e)?;
    ensure!(
        entry.election_id() == &election.id,
        "the tally entry is for another election"
    );
    entry
        .verify_signature(&election.manifest)
        .map_err(|err| anyhow!("the tally entry: {err}"))?;
    let Payload::Tally(t) = entry.payload() else {
        bail!("entry {index} is not a tally");
    };
    Ok(Some(t.result.clone()))
}

/// The result, per contest and option.
pub fn format_result(manifest: &Manifest, result: &TallyResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} ballots counted",
        manifest.title,
        result.ballots()
    );
    for (contest, counts) in manifest.contests.iter().zip(result.counts()) {
        let _ = writeln!(out, "  {}", contest.title);
        let width = contest
            .options
            .iter()
            .map(|o| o.chars().count())
            .max()
            .unwrap_or(0);
        for (label, n) in contest.options.iter().zip(counts) {
            let _ = writeln!(out, "    {label:<width$}  {n}");
        }
    }
    out
}

fn format_status(e: &Election) -> String {
    let s = &e.summary;
    let mut out = String::new();
    let _ = writeln!(out, "election      {}", e.id_hex);
    let _ = writeln!(out, "title         {}", s.title);
    let _ = writeln!(out, "phase         {}", s.phase);
    let _ = writeln!(
        out,
        "window        {} .. {} (Unix seconds)",
        s.opens_at, s.closes_at
    );
    let _ = writeln!(
        out,
        "trustees      {} (threshold {}); dealt: {:?}; complaints: {}",
        e.manifest.trustees.len(),
        e.manifest.threshold,
        s.dealers,
        s.complaints
    );
    let setup = match (&s.keys, e.manifest.setup.is_ceremony()) {
        (None, true) => {
            "ceremony on the board, not closed yet (see `urna ceremony status`)".to_owned()
        }
        (Some(k), true) => format!(
            "ceremony on the board, closed; verifying key {}",
            k.verifying_key_hash
        ),
        (_, false) => format!(
            "fixed keys; verifying key {}",
            e.manifest
                .setup
                .fixed_keys()
                .map_or_else(String::new, |(vk, _)| hex::encode(vk))
        ),
    };
    let _ = writeln!(out, "setup         {setup}");
    let _ = writeln!(
        out,
        "registration  {} codes, {} registered",
        s.registration_codes, s.registrations
    );
    let _ = writeln!(
        out,
        "census root   {}",
        s.census_root.as_deref().unwrap_or("(not frozen)")
    );
    let _ = writeln!(
        out,
        "ballots       {} cast, {} counted",
        s.ballot_entries, s.counted_ballots
    );
    let _ = writeln!(out, "shares        from trustees {:?}", s.shares);
    let _ = writeln!(
        out,
        "tally         {}",
        s.tally_index
            .map_or_else(|| "(none yet)".to_owned(), |i| format!("log entry {i}"))
    );
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        let c = RegistrationCode::random(&mut OsRng);
        let s = format_code(&c);
        assert_eq!(s.len(), 39);
        assert_eq!(parse_code(&s).unwrap().expose_secret(), c.expose_secret());
        assert!(parse_code("abcd").is_err());
        assert!(parse_code(&"zz".repeat(16)).is_err());
    }
}
