//! `urna demo`: a complete election on this machine, through the board's real HTTP API.
//!
//! An embedded board (urna-server on SQLite, 127.0.0.1, an OS-chosen port) serves the
//! election. The demo then plays every role with the same code as the role commands: the
//! authority makes the manifest; the three trustees and the authority run the Groth16
//! setup ceremony on the board (each trustee contributes to both phases, the authority
//! closes each phase with a beacon from the board's signed checkpoint); the trustees
//! (threshold 2) run the key ceremony; voters register with one-time codes, download the
//! ceremony's proving key from the board (checked against the board's signed setup-keys
//! entry), prove and cast ballots (in parallel, with a progress bar), a few re-vote;
//! voting closes; trustees 1 and 3 post decryption shares (trustee 2 is absent) and the
//! board posts the tally. Finally the export is downloaded to DIR/board.ndjson and
//! recounted by the verifier library. Every file a role keeps is written under DIR.
//!
//! With `--fixed-keys` the board makes INSECURE single-party Groth16 keys instead of the
//! ceremony (faster; whoever made them can forge eligibility proofs).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, ensure, Context as _, Result};
use clap::Parser as _;
use rand::rngs::OsRng;
use rand::Rng as _;
use rayon::prelude::*;
use urna_circuits::MerklePath;
use urna_protocol::ballot::Ballot;
use urna_protocol::manifest::Manifest;

use crate::authority;
use crate::ceremony;
use crate::client::Client;
use crate::files;
use crate::keyfiles::{self, Credential};
use crate::ledger::{self, Election};
use crate::manifest_file::ManifestSpec;
use crate::progress;
use crate::trustee;
use crate::voter::{self, Booth, KeySource};

/// Arguments of `urna demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of voters.
    #[arg(long, default_value_t = 100)]
    pub voters: usize,
    /// Directory for the board and every role's files (must be new or empty).
    #[arg(long, default_value = "urna-demo")]
    pub dir: PathBuf,
    /// Census depth (the census holds 2^depth voters; proving time grows with it).
    #[arg(long, default_value_t = 10)]
    pub depth: u32,
    /// Keep the board running after the demo (Ctrl-C to stop), to browse it.
    #[arg(long)]
    pub keep_serving: bool,
    /// Skip the setup ceremony: the embedded board makes INSECURE single-party Groth16
    /// keys (faster). Whoever ran that setup — here, this demo's board — can forge
    /// eligibility proofs, i.e. cast ballots for voters who are not in the census.
    #[arg(long)]
    pub fixed_keys: bool,
}

const TRUSTEES: usize = 3;
const THRESHOLD: u32 = 2;
const ABSENT_TRUSTEE: usize = 2;

/// The demo's numbered steps.
struct Steps {
    done: u32,
    total: u32,
}

impl Steps {
    fn next(&mut self, text: &str) {
        self.done += 1;
        println!("[{}/{}] {text}", self.done, self.total);
    }
}

/// Runs the demo.
pub async fn run(args: Args) -> Result<()> {
    ensure!(args.voters >= 1, "--voters must be at least 1");
    ensure!(
        (1..=32).contains(&args.depth),
        "--depth must be between 1 and 32"
    );
    ensure!(
        args.voters as u64 <= 1u64 << args.depth,
        "a census of depth {} holds at most {} voters; raise --depth or lower --voters",
        args.depth,
        1u64 << args.depth
    );
    let dir = args.dir.clone();
    if dir.exists() {
        let empty = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_none();
        ensure!(
            empty,
            "{} is not empty (a previous demo?); remove it or choose another --dir",
            dir.display()
        );
    }
    files::create_private_dir(&dir)?;
    let started = Instant::now();

    // 1. The board.
    let mut steps = Steps {
        done: 0,
        total: if args.fixed_keys { 9 } else { 10 },
    };
    steps.next(if args.fixed_keys {
        "starting an embedded board (SQLite) with INSECURE single-party Groth16 keys"
    } else {
        "starting an embedded board (SQLite); its Groth16 keys will come from a setup ceremony"
    });
    let data_dir = dir.join("board");
    // Parsed like the server's own flags (so new server options keep their defaults),
    // then pinned: local address, this directory, SQLite, insecure keys of this depth.
    let mut config = urna_server::Config::try_parse_from(["urna-server"])
        .map_err(|e| anyhow!("server configuration: {e}"))?;
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.data_dir = data_dir.clone();
    config.database = None;
    config.board_key = None;
    config.origin = "urna-demo-board".into();
    config.keys_dir = None;
    config.insecure_dev_setup = args.fixed_keys.then_some(args.depth);
    config.verify_queue = config.verify_queue.max(256);
    // Every role of the demo posts from this one address: no per-client write limit.
    config.rate_limit_per_second = 0;
    let spin = progress::spinner(&if args.fixed_keys {
        format!("single-party Groth16 setup for census depth {}", args.depth)
    } else {
        "starting the board".to_owned()
    });
    let state = urna_server::config::build(&config)
        .await
        .context("cannot start the embedded board")?;
    spin.finish_and_clear();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .context("cannot listen on 127.0.0.1")?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(urna_server::serve(
        listener,
        urna_server::app(state),
        async move {
            let _ = stopped.await;
        },
    ));
    let url = format!("http://{addr}");
    println!("      board at {url}, data in {}", data_dir.display());

    let outcome = election(&args, &mut steps, &dir, &data_dir, &url).await;

    if outcome.is_ok() && args.keep_serving {
        println!("\nthe board keeps serving at {url} (Ctrl-C to stop)");
        urna_server::shutdown_signal().await;
    }
    let _ = stop.send(());
    match server.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("the embedded board stopped with an error: {e}"),
        Err(e) => eprintln!("the embedded board stopped: {e}"),
    }
    outcome?;
    println!("demo finished in {:.1?}", started.elapsed());
    Ok(())
}

async fn refresh(client: &Client, e: &Election) -> Result<Election> {
    Election::fetch(client, &e.id).await
}

fn manifest_text(depth: u32, now: u64, fixed_keys: bool) -> String {
    let mut text = format!(
        "# Written by `urna demo`.\n\
         title = \"Urna demo election\"\n\
         census_depth = {depth}\n\
         threshold = {THRESHOLD}\n\n\
         [window]\n\
         opens_at = {}\n\
         closes_at = {}\n\n\
         [[contests]]\n\
         title = \"Chair\"\n\
         options = [\"Ada\", \"Grace\", \"Edsger\"]\n\
         min = 1\n\
         max = 1\n\n\
         [[contests]]\n\
         title = \"Committee (up to two)\"\n\
         options = [\"P\", \"Q\", \"R\", \"S\"]\n\
         min = 0\n\
         max = 2\n",
        now.saturating_sub(60),
        now + 6 * 3600
    );
    for i in 1..=TRUSTEES {
        text.push_str(&format!(
            "\n[[trustees]]\npublic_key_file = \"trustees/trustee-{i}/trustee.pub\"\n"
        ));
    }
    if fixed_keys {
        text.push_str(
            "\n# INSECURE single-party keys made by the demo's board.\n\
             [setup]\nmode = \"fixed-keys\"\n",
        );
    } else {
        text.push_str(
            "\n# The Groth16 keys come from a setup ceremony on the board among the\n\
             # authority and the trustees.\n[setup]\nmode = \"ceremony\"\n",
        );
    }
    text
}

/// The setup ceremony on the board: every trustee contributes to each phase (as
/// `urna ceremony contribute`), the authority closes each phase with the checkpoint
/// beacon (as `urna ceremony beacon`).
async fn setup_ceremony(
    client: &Client,
    election: &Election,
    authority: &urna_protocol::signing::SigningKey,
    trustees: &[keyfiles::TrusteeKeys],
) -> Result<ledger::ElectionKeys> {
    let quiet = |_: &str| {};
    let beacon_notes = |m: &str| {
        if m.starts_with("beacon value") {
            println!("      {m}");
        }
    };
    for phase in 1..=2u8 {
        if phase == 2 {
            println!(
                "      phase 2: the board first derives the circuit's parameters from phase 1 \
                 (this may take a while)"
            );
        }
        for keys in trustees {
            let t0 = Instant::now();
            let done = ceremony::contribute(client, election, &keys.signing, &quiet).await?;
            ensure!(
                done.phase == phase,
                "contributed to phase {} instead of {phase}",
                done.phase
            );
            println!(
                "      phase {phase}: {} contributed in {:.1?}; hash {}",
                done.name,
                t0.elapsed(),
                hex::encode(done.hash)
            );
        }
        let done = ceremony::beacon(
            client,
            election,
            authority,
            ceremony::BeaconValue::Checkpoint,
            ceremony::DEFAULT_ITERATIONS_LOG,
            &beacon_notes,
        )
        .await?;
        println!(
            "      phase {phase}: closed by the authority's beacon; hash {}",
            hex::encode(done.hash)
        );
        if let Some(keys) = done.keys {
            println!(
                "      keys fixed by the board's setup-keys entry {} (checked): verifying key {}",
                keys.setup_keys_index.unwrap_or_default(),
                hex::encode(keys.verifying_key_hash)
            );
            return Ok(keys);
        }
    }
    bail!("the ceremony did not close after its phase-2 beacon")
}

/// Random choices within each contest's bounds: a uniform count in `[min, max]`, then
/// that many distinct options.
fn random_selections(manifest: &Manifest) -> Vec<Vec<bool>> {
    let mut rng = OsRng;
    manifest
        .contests
        .iter()
        .map(|c| {
            let n = c.options.len();
            let k = (rng.gen_range(c.min_selections..=c.max_selections) as usize).min(n);
            let mut picks = vec![false; n];
            for i in rand::seq::index::sample(&mut rng, n, k) {
                picks[i] = true;
            }
            picks
        })
        .collect()
}

/// One ballot to make: voter index, credential, census path and choices.
struct Job {
    voter: usize,
    credential: Arc<Credential>,
    path: Arc<MerklePath>,
    selections: Vec<Vec<bool>>,
}

async fn election(
    args: &Args,
    steps: &mut Steps,
    dir: &Path,
    data_dir: &Path,
    url: &str,
) -> Result<()> {
    let client = Client::new(url)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| anyhow!("the clock is before 1970"))?
        .as_secs();

    // 2. Keys and the manifest.
    steps.next("authority and trustee keys; the manifest");
    let authority_key_path = dir.join("authority").join("authority.key");
    let authority = urna_protocol::signing::SigningKey::generate(&mut OsRng);
    keyfiles::write_authority(&authority_key_path, &authority)?;
    let authority = keyfiles::read_authority(&authority_key_path)?;
    let trustee_dirs: Vec<PathBuf> = (1..=TRUSTEES)
        .map(|i| dir.join("trustees").join(format!("trustee-{i}")))
        .collect();
    for (i, d) in trustee_dirs.iter().enumerate() {
        trustee::keygen(d, &format!("Trustee {}", i + 1))?;
    }
    let manifest_path = dir.join("election.toml");
    files::write_public(
        &manifest_path,
        manifest_text(args.depth, now, args.fixed_keys).as_bytes(),
    )?;
    let (spec, base) = ManifestSpec::read(&manifest_path)?;
    let proving_key_path = data_dir
        .join("keys")
        .join(format!("insecure-depth-{}.pk", args.depth));
    let manifest = authority::create(
        &client,
        &spec,
        &base,
        &authority,
        args.fixed_keys.then_some(proving_key_path.as_path()),
    )
    .await?;
    let mut election = Election::fetch(&client, &manifest.election_id).await?;
    println!("      election {}", election.id_hex);
    let trustees = trustee_dirs
        .iter()
        .map(|d| keyfiles::read_trustee(d))
        .collect::<Result<Vec<_>>>()?;

    // The setup ceremony.
    if !args.fixed_keys {
        steps.next(&format!(
            "Groth16 setup ceremony on the board at census depth {}: 3 trustees contribute \
             to each phase, the authority closes each with a beacon",
            args.depth
        ));
        let t0 = Instant::now();
        setup_ceremony(&client, &election, &authority, &trustees).await?;
        println!("      ceremony closed in {:.1?}", t0.elapsed());
        election = refresh(&client, &election).await?;
    }

    // 3. Key ceremony.
    steps.next("key ceremony: 3 trustees deal and check each other's shares");
    for keys in &trustees {
        trustee::deal(&client, &election, keys).await?;
    }
    election = refresh(&client, &election).await?;
    for keys in &trustees {
        let report = trustee::check(&client, &election, keys).await?;
        ensure!(
            report.complained.is_empty() && report.good.len() == TRUSTEES,
            "trustee {} found bad shares from {:?}",
            report.me,
            report.complained
        );
    }

    // 4. Registration.
    steps.next(&format!(
        "registration: {} codes, {} voters register",
        args.voters, args.voters
    ));
    let codes_path = dir.join("authority").join("codes.txt");
    let codes = authority::issue_codes(
        &client,
        &election,
        &authority,
        args.voters,
        Some(&codes_path),
    )
    .await?;
    election = refresh(&client, &election).await?;
    let voters_dir = dir.join("voters");
    files::create_private_dir(&voters_dir)?;
    let bar = progress::bar(codes.len() as u64, "registering");
    let mut credential_paths = Vec::with_capacity(codes.len());
    for (i, code) in codes.iter().enumerate() {
        let path = voters_dir.join(format!("voter-{}.credential", i + 1));
        voter::register(&client, &election, code, &path).await?;
        credential_paths.push(path);
        bar.inc(1);
    }
    bar.finish_and_clear();

    // 5. Freeze and open.
    steps.next("census frozen, voting opened");
    let (root, size) = authority::freeze(&client, &election, &authority).await?;
    println!("      census: {size} voters, root {root}");
    authority::open(&client, &election, &authority).await?;
    election = refresh(&client, &election).await?;

    // 6. Voting.
    let revoters = args.voters.div_ceil(10).min(10);
    steps.next(&format!(
        "voting: {} ballots with random choices, then {revoters} re-votes",
        args.voters
    ));
    let source = if args.fixed_keys {
        KeySource::File(&proving_key_path)
    } else {
        KeySource::Board {
            cache_dir: &voters_dir,
        }
    };
    let pk =
        voter::obtain_proving_key(&client, &election, source, &|m| println!("      {m}")).await?;
    let booth = Arc::new(Booth::with_key(&client, election.clone(), Arc::new(pk)).await?);
    let mut credentials = Vec::with_capacity(credential_paths.len());
    let mut paths = Vec::with_capacity(credential_paths.len());
    for p in &credential_paths {
        let c = keyfiles::read_credential(p)?;
        paths.push(Arc::new(booth.census_path(&client, &c).await?));
        credentials.push(Arc::new(c));
    }
    let mut jobs: Vec<Job> = (0..args.voters)
        .map(|v| Job {
            voter: v,
            credential: credentials[v].clone(),
            path: paths[v].clone(),
            selections: random_selections(&election.manifest),
        })
        .collect();
    jobs.extend((0..revoters).map(|v| Job {
        voter: v,
        credential: credentials[v].clone(),
        path: paths[v].clone(),
        selections: random_selections(&election.manifest),
    }));
    let t0 = Instant::now();
    let bar = progress::bar(jobs.len() as u64, "proving ballots");
    let proving = {
        let booth = booth.clone();
        let bar = bar.clone();
        tokio::task::spawn_blocking(move || {
            let ballots: Result<Vec<Ballot>> = jobs
                .par_iter()
                .map(|job| {
                    let b =
                        booth.make_ballot(&job.credential, &job.path, &job.selections, &mut OsRng);
                    bar.inc(1);
                    b
                })
                .collect();
            ballots.map(|b| (jobs, b))
        })
    };
    let (jobs, ballots) = proving
        .await
        .map_err(|e| anyhow!("proving stopped: {e}"))??;
    bar.finish_and_clear();
    println!(
        "      {} ballots proved in {:.1?}",
        ballots.len(),
        t0.elapsed()
    );
    let receipts_dir = dir.join("receipts");
    files::create_private_dir(&receipts_dir)?;
    let bar = progress::bar(ballots.len() as u64, "casting ballots");
    let mut last_choice: Vec<Option<&Vec<Vec<bool>>>> = vec![None; args.voters];
    let mut first_receipt = None;
    for (job, ballot) in jobs.iter().zip(&ballots) {
        let receipt = booth.cast(&client, ballot).await?;
        receipt.write(&receipts_dir.join(format!("voter-{}.json", job.voter + 1)))?;
        if first_receipt.is_none() {
            first_receipt = Some(receipt);
        }
        last_choice[job.voter] = Some(&job.selections);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let first_receipt = first_receipt.ok_or_else(|| anyhow!("no ballot was cast"))?;
    let latest = voter::check_receipt(&client, &first_receipt).await?;
    println!(
        "      voter 1's first receipt (entry {}) checked against the latest checkpoint ({latest} entries)",
        first_receipt.index
    );
    let mut expected_counts: Vec<Vec<u64>> = election
        .manifest
        .contests
        .iter()
        .map(|c| vec![0; c.options.len()])
        .collect();
    for choice in last_choice.iter().flatten() {
        for (c, contest) in choice.iter().enumerate() {
            for (o, chosen) in contest.iter().enumerate() {
                expected_counts[c][o] += u64::from(*chosen);
            }
        }
    }

    // 7. Close.
    steps.next("voting closed");
    authority::close(&client, &election, &authority).await?;
    election = refresh(&client, &election).await?;

    // 8. Tally: trustee 2 is absent.
    steps.next(&format!(
        "tally: trustees 1 and 3 post decryption shares, trustee {ABSENT_TRUSTEE} is absent"
    ));
    let mut posted = false;
    for (i, keys) in trustees.iter().enumerate() {
        if i + 1 == ABSENT_TRUSTEE {
            continue;
        }
        posted = trustee::share(&client, &election, keys).await?.tally_posted;
        election = refresh(&client, &election).await?;
    }
    ensure!(
        posted,
        "the board did not post the tally after the second share"
    );
    let result = authority::tally(&client, &election)
        .await?
        .ok_or_else(|| anyhow!("the board shows no tally"))?;
    ensure!(
        result.counts() == expected_counts.as_slice(),
        "the tally {:?} differs from the voters' choices {:?}",
        result.counts(),
        expected_counts
    );
    println!();
    print!("{}", authority::format_result(&election.manifest, &result));
    println!("(equal to the count of the voters' last choices)\n");

    // 9. Export and verify.
    steps.next("board exported and verified by the verifier library");
    let export = dir.join("board.ndjson");
    let bytes = client.download(&election.path("/export"), &export).await?;
    let spin = progress::spinner("verifying every entry of the board");
    let verified = crate::verify::verify_export(&export).await;
    spin.finish_and_clear();
    let report = verified?;
    println!("{report}");
    println!("the board lives at:");
    println!("  url      {url} (while the demo runs)");
    println!("  database {}", data_dir.join("board.sqlite3").display());
    println!("  export   {} ({bytes} bytes)", export.display());
    println!(
        "  roles    {} (authority/, trustees/, voters/, receipts/)",
        dir.display()
    );
    if args.keep_serving {
        println!("  election {}", election.id_hex);
    }
    bail_if_not_tallied(&election)
}

fn bail_if_not_tallied(election: &Election) -> Result<()> {
    if election.summary.phase != "tallied" {
        bail!(
            "the election ends in phase {}, not tallied",
            election.summary.phase
        );
    }
    Ok(())
}
