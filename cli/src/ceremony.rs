//! `urna ceremony …`: the multi-party Groth16 setup ceremony an election runs on its
//! board (PROTOCOL 14.10), for every role that takes part in it.
//!
//! * `keygen`: an extra contributor's signing key (the authority names its public file
//!   in the manifest's `[[setup.contributors]]`);
//! * `contribute`: the authority, a trustee or an extra contributor downloads the
//!   current state, contributes with fresh OS randomness (the secret is dropped inside
//!   the ceremony library before the contribution is even posted), posts it, checks the
//!   receipt and that the board shows the contribution with the hash the contributor
//!   publishes;
//! * `beacon`: the authority closes the current phase with a public random beacon
//!   (by default the root of the board's latest signed checkpoint, which covers the
//!   phase's last contribution); after the phase-2 beacon the board appends its
//!   `setup-keys` entry, which is read back and checked;
//! * `status`: where the ceremony stands.
//!
//! The board is trusted for nothing it can be checked on: the state downloaded need not
//! be trusted (a contribution made from a wrong state is refused, PROTOCOL 14.10 rule 4),
//! receipts are checked against the checkpoint signed by the manifest's board key, and
//! the `setup-keys` entry is checked against that key too. Only the full recount
//! (`urna verify`) re-verifies every contribution.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, ensure, Context as _, Result};
use clap::Subcommand;
use rand::rngs::OsRng;
use urna_ceremony::{Beacon, ContributionState, Phase};
use urna_protocol::board::{BoardEntry, Payload, SetupContribution};
use urna_protocol::manifest::Manifest;
use urna_protocol::signing::{PublicKey, SigningKey};

use crate::client::{wire, Client, ClientError};
use crate::keyfiles::{self, KeyOwner};
use crate::ledger::{self, board_verifier, check_receipt_of, open_checkpoint, Election};
use crate::progress;

/// The default beacon iteration exponent: `2^20` SHA-256 steps (PROTOCOL 14.10).
pub const DEFAULT_ITERATIONS_LOG: u8 = 20;
/// Largest state answer read (phase 1 at the largest domain is a few tens of MB).
const MAX_STATE_BYTES: usize = 256 << 20;
/// How long the board may take to answer the state: in phase 2 its first answer derives
/// the circuit's parameters from phase 1 (minutes at large census depths).
const STATE_TIMEOUT: Duration = Duration::from_secs(3 * 3600);
/// How long the board may take to verify a contribution (and, after the phase-2 beacon,
/// to derive the keys).
const POST_TIMEOUT: Duration = Duration::from_secs(3600);

const MEANWHILE: &str = "someone contributed in the meantime, so this contribution (made \
                         from the state before theirs) was refused; run the command again";

/// The ceremony's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make an extra contributor's signing key: DIR/contributor.key (secret, 0600) and
    /// DIR/contributor.pub (give it to the authority, who names it in the manifest).
    Keygen {
        /// The contributor's directory (created with mode 0700).
        #[arg(long, default_value = "contributor")]
        out: PathBuf,
    },
    /// Contribute to the current phase of an election's setup ceremony, and print the
    /// hash to publish.
    Contribute {
        /// The election id (hex).
        #[arg(long, env = "URNA_ELECTION")]
        election: String,
        /// Your key: the authority key file, a trustee's `trustee.key` (or its
        /// directory), or a contributor's `contributor.key` (or its directory).
        #[arg(long)]
        key: PathBuf,
    },
    /// The authority closes the current phase with a public random beacon.
    Beacon {
        /// The election id (hex).
        #[arg(long, env = "URNA_ELECTION")]
        election: String,
        /// The authority key file.
        #[arg(long, env = "URNA_AUTHORITY_KEY", default_value = "authority.key")]
        key: PathBuf,
        /// The beacon's public value (hex, at most 256 bytes), fixed after the phase's
        /// last contribution (a drand round, a block hash announced in advance). Default:
        /// the root of the board's latest signed checkpoint.
        #[arg(long, value_name = "HEX")]
        value: Option<String>,
        /// The beacon hashes its value 2^K times (at most 32).
        #[arg(long, value_name = "K", default_value_t = DEFAULT_ITERATIONS_LOG)]
        iterations_log: u8,
    },
    /// Show where an election's setup ceremony stands.
    Status {
        /// The election id (hex).
        #[arg(long, env = "URNA_ELECTION")]
        election: String,
    },
}

/// Runs a ceremony command.
pub async fn run(server: &str, command: Command) -> Result<()> {
    match command {
        Command::Keygen { out } => {
            let key = SigningKey::generate(&mut OsRng);
            keyfiles::write_contributor(&out, &key)?;
            println!(
                "contributor key written to {} (secret, mode 0600); give {} to the authority",
                out.join(keyfiles::CONTRIBUTOR_KEY_FILE).display(),
                out.join(keyfiles::CONTRIBUTOR_PUBLIC_FILE).display()
            );
            println!("public key {}", hex::encode(key.public_key().to_bytes()));
            Ok(())
        }
        Command::Contribute { election, key } => {
            let (owner, key) = keyfiles::read_any_signing_key(&key)?;
            let client = Client::new(server)?;
            let election = crate::authority::fetch(&client, &election).await?;
            let done = contribute(&client, &election, &key, &|m| println!("{m}")).await?;
            if owner == KeyOwner::Authority && done.contributor == 0 {
                println!("(as the authority you also close each phase: `urna ceremony beacon`)");
            }
            print_contributed(&done);
            Ok(())
        }
        Command::Beacon {
            election,
            key,
            value,
            iterations_log,
        } => {
            let key = keyfiles::read_authority(&key)?;
            let value = match value {
                Some(hex) => BeaconValue::Given(
                    hex::decode(hex.trim())
                        .map_err(|e| anyhow!("--value {hex:?} is not hex: {e}"))?,
                ),
                None => BeaconValue::Checkpoint,
            };
            let client = Client::new(server)?;
            let election = crate::authority::fetch(&client, &election).await?;
            let done = beacon(&client, &election, &key, value, iterations_log, &|m| {
                println!("{m}")
            })
            .await?;
            print_contributed(&done);
            Ok(())
        }
        Command::Status { election } => {
            let client = Client::new(server)?;
            let election = crate::authority::fetch(&client, &election).await?;
            print!("{}", status(&client, &election).await?);
            Ok(())
        }
    }
}

fn print_contributed(done: &Contributed) {
    if done.beacon {
        println!(
            "phase {} closed by the beacon; transcript hash after it: {}",
            done.phase,
            hex::encode(done.hash)
        );
    } else {
        println!(
            "contribution to phase {} accepted (log entry {}): {} is contributor {}",
            done.phase, done.log_index, done.name, done.contributor
        );
        println!(
            "hash after your contribution (publish it): {}",
            hex::encode(done.hash)
        );
    }
    if let Some(keys) = &done.keys {
        println!("the ceremony is closed; the board's setup-keys entry (checked):");
        println!(
            "  verifying key hash {}",
            hex::encode(keys.verifying_key_hash)
        );
        println!(
            "  proving key hash   {}",
            hex::encode(keys.proving_key_hash)
        );
        if let Some(i) = keys.setup_keys_index {
            println!("  log entry          {i}");
        }
    }
}

/// What a contribution (or a beacon) did.
#[derive(Clone, Debug)]
pub struct Contributed {
    /// 1 or 2.
    pub phase: u8,
    /// The contributor's index (0 the authority).
    pub contributor: u32,
    /// The contributor's name in the manifest.
    pub name: String,
    /// Whether it was the phase's closing beacon.
    pub beacon: bool,
    /// The transcript hash after it (what the contributor publishes).
    pub hash: [u8; 32],
    /// Its log index.
    pub log_index: u64,
    /// After the phase-2 beacon: the keys of the board's `setup-keys` entry (checked).
    pub keys: Option<ledger::ElectionKeys>,
}

/// Where a beacon's public value comes from.
#[derive(Clone, Debug)]
pub enum BeaconValue {
    /// The root of the board's latest signed checkpoint (it covers the phase's last
    /// contribution).
    Checkpoint,
    /// A value given by the authority.
    Given(Vec<u8>),
}

/// The contributor index of `key` in the election's ceremony, and its name.
pub fn contributor_index(election: &Election, key: &PublicKey) -> Result<(u32, String)> {
    let m = &election.manifest;
    ensure!(
        m.setup.is_ceremony(),
        "election {} has fixed keys named by its manifest: it has no setup ceremony",
        election.id_hex
    );
    let mut i = 0u32;
    while let Some((name, k)) = m.contributor(i) {
        if k == key {
            return Ok((i, name.to_owned()));
        }
        i += 1;
    }
    bail!(
        "this key ({}) is not one of the setup contributors of election {}: neither its \
         authority's, nor a trustee's, nor an extra contributor's its manifest names",
        hex::encode(key.to_bytes()),
        election.id_hex
    )
}

/// The board's setup summary of the election.
pub async fn setup_summary(client: &Client, election: &Election) -> Result<wire::SetupSummary> {
    let s: wire::SetupSummary = client.get_json(&election.path("/setup")).await?;
    let m = &election.manifest;
    let ceremony = s.mode == "ceremony";
    ensure!(
        ceremony == m.setup.is_ceremony(),
        "the board reports setup mode {:?} for an election whose manifest says otherwise",
        s.mode
    );
    ensure!(
        s.depth == m.census_depth,
        "the board reports setup depth {} for an election of census depth {}",
        s.depth,
        m.census_depth
    );
    // The contributors the board lists are the manifest's.
    for c in &s.contributors {
        let named = m.contributor(c.index).is_some_and(|(name, key)| {
            name == c.name
                && c.signing_key
                    .eq_ignore_ascii_case(&hex::encode(key.to_bytes()))
        });
        ensure!(
            named,
            "the board lists a setup contributor {} ({:?}) the manifest does not name so",
            c.index,
            c.name
        );
    }
    Ok(s)
}

/// The phase open for contributions (1 or 2); a clear error when there is none.
fn open_phase(s: &wire::SetupSummary, election: &Election) -> Result<u8> {
    if s.mode != "ceremony" {
        bail!(
            "election {} has fixed keys named by its manifest: it has no setup ceremony",
            election.id_hex
        );
    }
    match s.stage.as_deref() {
        Some("phase1") => Ok(1),
        Some("phase2") => Ok(2),
        Some("closed") => bail!(
            "the setup ceremony of election {} is closed: its keys are fixed{}",
            election.id_hex,
            s.keys.as_ref().map_or_else(String::new, |k| format!(
                " (verifying key hash {})",
                k.verifying_key_hash
            ))
        ),
        other => bail!("the board reports an unknown ceremony stage {other:?}"),
    }
}

/// Downloads and decodes the state the next contribution extends.
async fn download_state(
    client: &Client,
    election: &Election,
    phase: u8,
    notify: &dyn Fn(&str),
) -> Result<ContributionState> {
    if phase == 2 {
        notify(
            "downloading the ceremony state for phase 2 (the board first derives the \
             circuit's parameters from phase 1: this may take a while, minutes at large \
             census depths)",
        );
    } else {
        notify("downloading the ceremony state for phase 1");
    }
    let spin = progress::spinner(&format!("downloading the phase-{phase} state"));
    let got = client
        .get_bytes(
            &election.path("/setup/state"),
            MAX_STATE_BYTES,
            STATE_TIMEOUT,
        )
        .await;
    spin.finish_and_clear();
    let bytes = match got {
        Ok(b) => b,
        Err(e) if e.code() == Some("wrong_phase") => {
            // Closed in the meantime (or no ceremony): say which.
            let s = setup_summary(client, election).await?;
            open_phase(&s, election)?;
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    let state = tokio::task::spawn_blocking(move || ContributionState::from_bytes(&bytes))
        .await
        .map_err(|e| anyhow!("decoding the state stopped: {e}"))?
        .map_err(|e| anyhow!("the board's ceremony state does not decode: {e}"))?;
    ensure!(
        state.context == election.id.to_bytes(),
        "the board's ceremony state is for another election"
    );
    ensure!(
        state.depth == election.manifest.census_depth,
        "the board's ceremony state is for census depth {}, the election's is {}",
        state.depth,
        election.manifest.census_depth
    );
    Ok(state)
}

fn phase_number(p: Phase) -> u8 {
    match p {
        Phase::One => 1,
        Phase::Two => 2,
    }
}

/// Contributes to the current phase with `key` (the authority's, a trustee's or an
/// extra contributor's), checks the receipt and that the board shows the contribution.
pub async fn contribute(
    client: &Client,
    election: &Election,
    key: &SigningKey,
    notify: &dyn Fn(&str),
) -> Result<Contributed> {
    post(client, election, key, None, notify).await
}

/// Closes the current phase with a beacon contribution signed by the authority `key`.
pub async fn beacon(
    client: &Client,
    election: &Election,
    key: &SigningKey,
    value: BeaconValue,
    iterations_log: u8,
    notify: &dyn Fn(&str),
) -> Result<Contributed> {
    ensure!(
        key.public_key() == election.manifest.authority_key,
        "only the election's authority closes a phase with a beacon, and this is not the \
         authority key of election {}",
        election.id_hex
    );
    if let BeaconValue::Given(v) = &value {
        // Checked before anything is downloaded.
        Beacon::new(v, iterations_log).map_err(|e| anyhow!("the beacon: {e}"))?;
    } else {
        Beacon::new(&[], iterations_log).map_err(|e| anyhow!("the beacon: {e}"))?;
    }
    post(client, election, key, Some((value, iterations_log)), notify).await
}

async fn post(
    client: &Client,
    election: &Election,
    key: &SigningKey,
    beacon: Option<(BeaconValue, u8)>,
    notify: &dyn Fn(&str),
) -> Result<Contributed> {
    let (me, name) = contributor_index(election, &key.public_key())?;
    let is_beacon = beacon.is_some();
    let (info, verifier) = board_verifier(client, &election.manifest).await?;
    let s = setup_summary(client, election).await?;
    let phase = open_phase(&s, election)?;
    if let Some(done) = s
        .contributions
        .iter()
        .find(|c| c.phase == phase && c.contributor == me && c.beacon == is_beacon)
    {
        if is_beacon {
            bail!(
                "phase {phase} is already closed by a beacon (log entry {})",
                done.index
            );
        }
        bail!(
            "{name} (contributor {me}) already contributed to phase {phase} of election {} \
             (log entry {}, hash {}): one contribution per contributor and phase",
            election.id_hex,
            done.index,
            done.hash
        );
    }
    if is_beacon
        && !s
            .contributions
            .iter()
            .any(|c| c.phase == phase && !c.beacon)
    {
        bail!(
            "phase {phase} has no contribution yet: a beacon closes a phase only after at \
             least one contributor made a contribution with a secret (a phase closed by its \
             beacon alone would protect nothing)"
        );
    }

    let state = download_state(client, election, phase, notify).await?;
    if phase_number(state.phase()) != phase {
        bail!(
            "the ceremony moved on to phase {} in the meantime; run the command again",
            phase_number(state.phase())
        );
    }

    let beacon = match beacon {
        None => None,
        Some((value, k)) => {
            let (value, origin) = match value {
                BeaconValue::Given(v) => (v, "given with --value".to_owned()),
                BeaconValue::Checkpoint => {
                    // The checkpoint must cover the phase's last contribution, which the
                    // state extends.
                    ensure!(
                        s.hash
                            .as_deref()
                            .is_some_and(|h| h.eq_ignore_ascii_case(&hex::encode(state.binding))),
                        "someone contributed while the beacon was being prepared (nothing was \
                         posted); run the command again"
                    );
                    let last = s
                        .contributions
                        .last()
                        .map(|c| c.index)
                        .ok_or_else(|| anyhow!("the board shows no contribution"))?;
                    let note = client.get_text("/v1/log/checkpoint").await?;
                    let checkpoint = open_checkpoint(&note, &info.origin, &verifier)?;
                    ensure!(
                        checkpoint.size() > last,
                        "the board's latest checkpoint (size {}) does not cover the last \
                         contribution (log entry {last}) yet; run the command again",
                        checkpoint.size()
                    );
                    (
                        checkpoint.root().as_ref().to_vec(),
                        format!(
                            "the root of the board's signed checkpoint of size {}, which \
                             covers the last contribution (log entry {last})",
                            checkpoint.size()
                        ),
                    )
                }
            };
            notify(&format!("beacon value: {} ({origin})", hex::encode(&value)));
            notify(&format!(
                "beacon iterations: 2^{k} SHA-256 steps (anyone recomputes the beacon from \
                 the value and K = {k})"
            ));
            Some(Beacon::new(&value, k).map_err(|e| anyhow!("the beacon: {e}"))?)
        }
    };

    let what = if is_beacon {
        format!("computing the phase-{phase} beacon contribution")
    } else {
        format!("computing your phase-{phase} contribution")
    };
    let spin = progress::spinner(&what);
    let computed = tokio::task::spawn_blocking(move || match &beacon {
        None => state.contribute(&mut OsRng).map(|(d, h)| (state, d, h)),
        Some(b) => state.contribute_beacon(b).map(|(d, h)| (state, d, h)),
    })
    .await;
    spin.finish_and_clear();
    let (state, data, hash) = computed
        .map_err(|e| anyhow!("the contribution stopped: {e}"))?
        .map_err(|e| anyhow!("cannot contribute: {e}"))?;

    let contribution = SetupContribution {
        contributor: me,
        data,
    };
    let (payload, path) = if phase == 1 {
        (Payload::SetupPhase1(contribution), "/setup/phase1")
    } else {
        (Payload::SetupPhase2(contribution), "/setup/phase2")
    };
    let entry = BoardEntry::signed(election.id, payload, key)?;
    let spin = progress::spinner("the board verifies the contribution");
    let posted = client
        .post_entry_within(&election.path(path), &entry, Some(POST_TIMEOUT))
        .await;
    spin.finish_and_clear();
    let submitted = match posted {
        Ok(s) => s,
        Err(e) => {
            return Err(refused(client, election, &name, me, phase, &state, e).await);
        }
    };
    ensure!(
        !submitted.replayed,
        "the board says this contribution was already on it"
    );
    check_receipt_of(&entry, &submitted.receipt, &info.origin, &verifier)
        .context("the receipt of the contribution")?;
    let log_index = submitted.receipt.index;

    // The board shows the contribution with the hash the contributor publishes.
    let after = setup_summary(client, election).await?;
    let shown = after.contributions.iter().any(|c| {
        c.phase == phase
            && c.contributor == me
            && c.beacon == is_beacon
            && c.index == log_index
            && c.hash.eq_ignore_ascii_case(&hex::encode(hash))
    });
    ensure!(
        shown,
        "the board accepted the contribution (log entry {log_index}) but its setup status \
         does not show it with the hash {}",
        hex::encode(hash)
    );

    // After the phase-2 beacon the board appends its setup-keys entry.
    let keys = if is_beacon && phase == 2 {
        let r = submitted.appended_by_board.first().ok_or_else(|| {
            anyhow!("the board closed the ceremony but appended no setup-keys entry with it")
        })?;
        ensure!(
            r.index == log_index + 1,
            "the board's setup-keys entry is not the entry after the beacon"
        );
        let (keys_entry, keys) = ledger::setup_keys_entry(client, election, r.index).await?;
        check_receipt_of(&keys_entry, r, &info.origin, &verifier)
            .context("the receipt of the setup-keys entry")?;
        ensure!(
            keys.transcript_hash == hash,
            "the board's setup-keys entry names another final transcript hash than the \
             ceremony's"
        );
        Some(ledger::ElectionKeys {
            verifying_key_hash: keys.verifying_key_hash(),
            proving_key_hash: keys.proving_key_hash,
            setup_keys_index: Some(r.index),
        })
    } else {
        None
    };
    Ok(Contributed {
        phase,
        contributor: me,
        name,
        beacon: is_beacon,
        hash,
        log_index,
        keys,
    })
}

/// Turns the board's refusal of a contribution into what the contributor should do.
async fn refused(
    client: &Client,
    election: &Election,
    name: &str,
    me: u32,
    phase: u8,
    state: &ContributionState,
    e: ClientError,
) -> anyhow::Error {
    match e.code() {
        Some("duplicate_entry") => anyhow!(
            "{name} (contributor {me}) already contributed to phase {phase} of election {}: \
             one contribution per contributor and phase",
            election.id_hex
        ),
        Some("conflict") => anyhow!("{MEANWHILE}"),
        Some("invalid_entry") | Some("wrong_phase") => {
            // Stale (someone contributed first) or closed meanwhile, unless the board's
            // state is still the one this contribution extends.
            let now = match setup_summary(client, election).await {
                Ok(s) => s,
                Err(_) => return e.into(),
            };
            let moved = now
                .hash
                .as_deref()
                .is_some_and(|h| !h.eq_ignore_ascii_case(&hex::encode(state.binding)));
            match (e.code(), now.stage.as_deref()) {
                (Some("wrong_phase"), Some("closed")) => anyhow!(
                    "the setup ceremony of election {} was closed in the meantime",
                    election.id_hex
                ),
                (Some("wrong_phase"), Some("phase2")) if phase == 1 => anyhow!(
                    "phase 1 was closed by the authority's beacon in the meantime; run the \
                     command again to contribute to phase 2"
                ),
                _ if moved => anyhow!("{MEANWHILE}"),
                _ => anyhow::Error::from(e).context("the board refused the contribution"),
            }
        }
        _ => e.into(),
    }
}

/// The ceremony's status, as a person reads it.
pub async fn status(client: &Client, election: &Election) -> Result<String> {
    let s = setup_summary(client, election).await?;
    let m = &election.manifest;
    let mut out = String::new();
    let _ = writeln!(out, "election      {}", election.id_hex);
    if s.mode != "ceremony" {
        let _ = writeln!(
            out,
            "setup         fixed keys named by the manifest (no ceremony on this board)"
        );
        if let Some((vk, pk)) = m.setup.fixed_keys() {
            let _ = writeln!(out, "verifying key {}", hex::encode(vk));
            let _ = writeln!(out, "proving key   {}", hex::encode(pk));
        }
        return Ok(out);
    }
    let _ = writeln!(
        out,
        "setup         a ceremony on the board, census depth {}",
        m.census_depth
    );
    let stage = match s.stage.as_deref() {
        Some("phase1") => "phase 1 open (powers of tau)",
        Some("phase2") => "phase 2 open (the circuit's keys); phase 1 closed",
        Some("closed") => "closed: the keys are fixed",
        _ => "unknown",
    };
    let _ = writeln!(out, "stage         {stage}");
    if let Some(h) = &s.hash {
        let _ = writeln!(out, "transcript    {h}");
    }
    let _ = writeln!(out, "contributors");
    let mut i = 0u32;
    while let Some((name, _)) = m.contributor(i) {
        let role = match i {
            0 => "authority, closes each phase with a beacon".to_owned(),
            i if (i as usize) <= m.trustees.len() => format!("trustee {i}"),
            _ => "extra contributor".to_owned(),
        };
        let _ = writeln!(out, "  {i:>3}  {name} ({role})");
        i += 1;
    }
    let _ = writeln!(out, "contributions");
    if s.contributions.is_empty() {
        let _ = writeln!(out, "  (none yet)");
    }
    for c in &s.contributions {
        let who = if c.beacon {
            "beacon".to_owned()
        } else {
            m.contributor(c.contributor)
                .map_or_else(|| format!("#{}", c.contributor), |(n, _)| n.to_owned())
        };
        let _ = writeln!(
            out,
            "  phase {}  {who:<24} entry {:<6} {}",
            c.phase, c.index, c.hash
        );
    }
    for (phase, stage) in [(1u8, "phase1"), (2, "phase2")] {
        if s.stage.as_deref() != Some(stage) {
            continue;
        }
        let waiting: Vec<String> = (1..i)
            .filter(|&j| {
                !s.contributions
                    .iter()
                    .any(|c| c.phase == phase && c.contributor == j && !c.beacon)
            })
            .filter_map(|j| m.contributor(j).map(|(n, _)| n.to_owned()))
            .collect();
        if !waiting.is_empty() {
            let _ = writeln!(out, "not yet in phase {phase}: {}", waiting.join(", "));
        }
    }
    if s.stage.as_deref() == Some("closed") {
        let keys = ledger::election_keys(client, &refresh_summary(client, election).await?)
            .await
            .context("the setup-keys entry")?;
        let _ = writeln!(
            out,
            "keys          from the board's setup-keys entry {} (signed by the board, checked)",
            keys.setup_keys_index.unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "verifying key {}",
            hex::encode(keys.verifying_key_hash)
        );
        let _ = writeln!(out, "proving key   {}", hex::encode(keys.proving_key_hash));
    }
    Ok(out)
}

/// The election re-read (its summary names the setup-keys entry once closed).
async fn refresh_summary(client: &Client, election: &Election) -> Result<Election> {
    if election.summary.keys.is_some() {
        return Ok(election.clone());
    }
    Election::fetch(client, &election.id).await
}

/// The ceremony's contributors as listed after `urna authority create`.
pub fn describe_contributors(m: &Manifest) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0u32;
    while let Some((name, _)) = m.contributor(i) {
        out.push(format!("{i} {name}"));
        i += 1;
    }
    out
}
