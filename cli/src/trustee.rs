//! `urna trustee …`: a trustee's keys, the key ceremony (deal, check and complain) and
//! the decryption shares after close. The secret keys stay in the trustee's directory;
//! only signed public messages go to the board.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, ensure, Result};
use clap::Subcommand;
use rand::rngs::OsRng;
use urna_circuits::Nullifier;
use urna_protocol::ballot::Ballot;
use urna_protocol::board::{BoardEntry, Payload};
use urna_protocol::codec::{Decode, Reader};
use urna_protocol::dkg::{Complaint, DealerMessage, DkgContext, DkgOutcome};
use urna_protocol::encryption::EncryptionSecretKey;
use urna_protocol::signing::SigningKey;
use urna_protocol::tally::{Aggregate, TallyContext, TrusteeShares};

use crate::client::{wire, Client};
use crate::keyfiles::{self, TrusteeKeys};
use crate::ledger::{Ceremony, Election, FullView};

/// An election and the trustee directory that acts in it.
#[derive(Debug, clap::Args)]
pub struct Target {
    /// The election id (hex).
    #[arg(long, env = "URNA_ELECTION")]
    pub election: String,
    /// The trustee's directory.
    #[arg(long, env = "URNA_TRUSTEE_DIR", default_value = "trustee")]
    pub dir: PathBuf,
}

impl Target {
    async fn load(&self, server: &str) -> Result<(Client, Election, TrusteeKeys)> {
        let keys = keyfiles::read_trustee(&self.dir)?;
        let client = Client::new(server)?;
        let election = crate::authority::fetch(&client, &self.election).await?;
        Ok((client, election, keys))
    }
}

/// A trustee's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make a trustee's keys: DIR/trustee.key (secret, 0600) and DIR/trustee.pub (give it
    /// to the authority).
    Keygen {
        /// The trustee's name, as the manifest will show it.
        #[arg(long)]
        name: String,
        /// The trustee's directory (created with mode 0700).
        #[arg(long, env = "URNA_TRUSTEE_DIR", default_value = "trustee")]
        dir: PathBuf,
    },
    /// Key ceremony, step 1: deal (post commitments and encrypted shares for every trustee).
    Deal(Target),
    /// Key ceremony, step 2: check the shares the other trustees dealt to me, and post a
    /// complaint against each dealer whose share is wrong.
    Check(Target),
    /// After close: post my decryption shares of the aggregate of the counted ballots.
    Share(Target),
}

/// Runs a trustee command.
pub async fn run(server: &str, command: Command) -> Result<()> {
    match command {
        Command::Keygen { name, dir } => {
            let keys = keygen(&dir, &name)?;
            println!(
                "trustee keys written to {} (secret, mode 0600); give {} to the authority",
                dir.join(keyfiles::TRUSTEE_KEY_FILE).display(),
                dir.join(keyfiles::TRUSTEE_PUBLIC_FILE).display()
            );
            println!(
                "signing key {}",
                hex::encode(keys.signing.public_key().to_bytes())
            );
            Ok(())
        }
        Command::Deal(target) => {
            let (client, election, keys) = target.load(server).await?;
            let me = deal(&client, &election, &keys).await?;
            println!(
                "trustee {me} dealt its shares for election {}",
                election.id_hex
            );
            Ok(())
        }
        Command::Check(target) => {
            let (client, election, keys) = target.load(server).await?;
            let report = check(&client, &election, &keys).await?;
            println!(
                "trustee {}: shares from trustees {:?} verified",
                report.me, report.good
            );
            if !report.complained.is_empty() {
                println!(
                    "complaints posted against trustees {:?} (their shares did not verify)",
                    report.complained
                );
            }
            let missing: Vec<u32> = (1..=election.manifest.trustees.len() as u32)
                .filter(|i| !report.good.contains(i) && !report.complained.contains(i))
                .collect();
            if !missing.is_empty() {
                println!("no dealer message yet from trustees {missing:?}");
            }
            Ok(())
        }
        Command::Share(target) => {
            let (client, election, keys) = target.load(server).await?;
            let outcome = share(&client, &election, &keys).await?;
            println!(
                "trustee {} posted decryption shares of {} counted ballots",
                outcome.me, outcome.ballots
            );
            if outcome.tally_posted {
                println!("the board posted the tally: see `urna authority tally`");
            }
            Ok(())
        }
    }
}

/// Makes and writes a trustee's keys.
pub fn keygen(dir: &Path, name: &str) -> Result<TrusteeKeys> {
    ensure!(!name.trim().is_empty(), "--name must not be empty");
    let keys = TrusteeKeys {
        name: name.to_owned(),
        signing: SigningKey::generate(&mut OsRng),
        encryption: EncryptionSecretKey::generate(&mut OsRng),
    };
    keyfiles::write_trustee(dir, &keys)?;
    Ok(keys)
}

/// This trustee's index (1-based) in the election's manifest.
pub fn my_index(election: &Election, keys: &TrusteeKeys) -> Result<u32> {
    let signing = keys.signing.public_key();
    let encryption = keys.encryption.public_key();
    let position = election
        .manifest
        .trustees
        .iter()
        .position(|t| t.signing_key == signing && t.encryption_key == encryption)
        .ok_or_else(|| {
            anyhow!(
                "these trustee keys ({}) are not those of a trustee of election {}",
                keys.name,
                election.id_hex
            )
        })?;
    Ok(position as u32 + 1)
}

/// Posts this trustee's dealer message.
pub async fn deal(client: &Client, election: &Election, keys: &TrusteeKeys) -> Result<u32> {
    let me = my_index(election, keys)?;
    if election.summary.dealers.contains(&me) {
        bail!("trustee {me} already dealt in election {}", election.id_hex);
    }
    let ctx = DkgContext::from_manifest(&election.manifest)?;
    let message = DealerMessage::deal(&ctx, me, &mut OsRng)?;
    let entry = BoardEntry::signed(election.id, Payload::Dealer(message), &keys.signing)?;
    client
        .post_entry(&election.path("/dealers"), &entry)
        .await?;
    Ok(me)
}

/// What `check` found.
#[derive(Debug)]
pub struct CheckReport {
    /// This trustee's index.
    pub me: u32,
    /// Dealers whose share verified.
    pub good: Vec<u32>,
    /// Dealers complained about (now or before).
    pub complained: Vec<u32>,
}

/// Checks the share each dealer sent this trustee, and complains about bad ones.
pub async fn check(
    client: &Client,
    election: &Election,
    keys: &TrusteeKeys,
) -> Result<CheckReport> {
    let me = my_index(election, keys)?;
    let ceremony = Ceremony::fetch(client, election).await?;
    let already: BTreeSet<u32> = ceremony
        .complaints
        .iter()
        .filter(|c| c.complainer() == me)
        .map(Complaint::accused)
        .collect();
    let mut report = CheckReport {
        me,
        good: Vec::new(),
        complained: already.iter().copied().collect(),
    };
    for message in &ceremony.messages {
        let dealer = message.dealer();
        if already.contains(&dealer) {
            continue;
        }
        match message.receive(&ceremony.ctx, me, &keys.encryption) {
            Ok(_) => report.good.push(dealer),
            Err(_) => {
                let complaint =
                    Complaint::new(&ceremony.ctx, me, &keys.encryption, message, &mut OsRng)?;
                let entry =
                    BoardEntry::signed(election.id, Payload::Complaint(complaint), &keys.signing)?;
                client
                    .post_entry(&election.path("/complaints"), &entry)
                    .await?;
                report.complained.push(dealer);
            }
        }
    }
    report.good.sort_unstable();
    report.complained.sort_unstable();
    Ok(report)
}

/// What `share` did.
#[derive(Debug)]
pub struct ShareReport {
    /// This trustee's index.
    pub me: u32,
    /// Ballots in the aggregate.
    pub ballots: u64,
    /// Whether the board posted the tally with these shares.
    pub tally_posted: bool,
}

/// Decrypts nothing but the aggregate of the counted ballots: the trustee reads the whole
/// log (checked against the signed checkpoint), recomputes the aggregate of the last
/// ballot per nullifier itself, checks the board's aggregate equals it, and only then
/// posts its decryption shares. A board cannot make it decrypt a single ballot.
pub async fn share(
    client: &Client,
    election: &Election,
    keys: &TrusteeKeys,
) -> Result<ShareReport> {
    let me = my_index(election, keys)?;
    let view = FullView::fetch(client, election).await?;
    let mut messages = Vec::new();
    let mut complaints = Vec::new();
    let mut last: HashMap<Nullifier, &Ballot> = HashMap::new();
    let mut closed = false;
    for (_, entry) in &view.entries {
        match entry.payload() {
            Payload::Dealer(m) => messages.push(m.clone()),
            Payload::Complaint(c) => complaints.push(*c),
            Payload::Ballot(b) => {
                last.insert(b.nullifier, b);
            }
            Payload::Close { .. } => closed = true,
            Payload::DecryptionShares(s) if s.trustee() == me => {
                bail!("trustee {me} already posted its decryption shares")
            }
            _ => {}
        }
    }
    ensure!(
        closed,
        "voting in election {} is not closed yet (phase {}): shares come after close",
        election.id_hex,
        election.summary.phase
    );
    let ctx = DkgContext::from_manifest(&election.manifest)?;
    let outcome = DkgOutcome::new(&ctx, &messages, &complaints)
        .map_err(|e| anyhow!("the key ceremony on the board: {e}"))?;
    let secret = outcome
        .secret_share(&ctx, &messages, me, &keys.encryption)
        .map_err(|e| anyhow!("cannot recover this trustee's key share: {e}"))?;
    let options: Vec<usize> = election
        .manifest
        .contests
        .iter()
        .map(|c| c.options.len())
        .collect();
    let mut aggregate = Aggregate::new(&options);
    for ballot in last.values() {
        aggregate
            .add_ballot(ballot.contests.iter().map(|c| c.ciphertexts()))
            .map_err(|e| anyhow!("a ballot on the board does not fit the manifest: {e}"))?;
    }
    let theirs: wire::AggregateBody = client.get_json(&election.path("/aggregate")).await?;
    let bytes = hex::decode(&theirs.aggregate).map_err(|e| anyhow!("aggregate: {e}"))?;
    let mut r = Reader::new(&bytes);
    let board_aggregate =
        Aggregate::decode(&mut r).map_err(|e| anyhow!("the board's aggregate: {e}"))?;
    r.finish()
        .map_err(|e| anyhow!("the board's aggregate: {e}"))?;
    ensure!(
        board_aggregate == aggregate && theirs.ballots == aggregate.ballots(),
        "the board's aggregate is not the sum of the counted ballots on its log: refusing to \
         decrypt it"
    );
    let tally_ctx = TallyContext::from_dkg(&ctx, &outcome);
    let shares = TrusteeShares::create(&tally_ctx, &secret, &aggregate, &mut OsRng)?;
    let entry = BoardEntry::signed(
        election.id,
        Payload::DecryptionShares(shares),
        &keys.signing,
    )?;
    let submitted = client.post_entry(&election.path("/shares"), &entry).await?;
    Ok(ShareReport {
        me,
        ballots: aggregate.ballots(),
        tally_posted: !submitted.appended_by_board.is_empty(),
    })
}
