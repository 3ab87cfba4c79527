//! `urna-bench gen`: a demo election and one valid ballot per voter, made offline and in
//! parallel, stored so that a load run does not pay for proving.
//!
//! Everything a board needs to run the election is written as board entries in board
//! order (`setup.ndjson`): the manifest, the trustees' dealer messages (a 2-of-3 key
//! ceremony), the registration codes, one registration per voter, the frozen census.
//! Voting is opened by `urna-bench load` at load time (the open entry must carry the
//! board's current time). Each ballot is a 1-of-`options` choice drawn at random, with
//! real validity proofs and a real eligibility proof, or, with `--simulate-proofs`, an
//! eligibility proof **forged** with the benchmark setup's trapdoor (see
//! [`crate::simulate`]).

use std::io::{BufWriter, Write as _};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, ensure, Context as _, Result};
use rand::rngs::OsRng;
use rand::{Rng as _, RngCore as _};
use rayon::prelude::*;
use urna_circuits::{CensusTree, ElectionId, ProvingKey, VerifyingKey, VoterSecret};
use urna_protocol::ballot::encrypt_ballot;
use urna_protocol::board::{BoardEntry, Payload, RegistrationCode, MAX_CODE_HASHES};
use urna_protocol::codec::Canonical as _;
use urna_protocol::dkg::{DealerMessage, DkgContext, DkgOutcome};
use urna_protocol::elgamal::ElectionPublicKey;
use urna_protocol::encryption::EncryptionSecretKey;
use urna_protocol::manifest::{Contest, Manifest, Trustee};
use urna_protocol::signing::SigningKey;

use crate::data::{write_private, Layout, Meta, Secrets, SetupLine, FORMAT};
use crate::simulate::Trapdoor;

/// Trustees of the benchmark election.
pub const TRUSTEES: u32 = 3;
/// Decryption threshold.
pub const THRESHOLD: u32 = 2;
/// Registration codes per `registration-codes` entry (the protocol allows
/// [`MAX_CODE_HASHES`]; half keeps the request well under the board's body limit).
pub const CODES_PER_ENTRY: usize = MAX_CODE_HASHES / 2;
/// Ballots made per parallel chunk (bounds memory).
const CHUNK: usize = 4096;

/// Options of `gen`.
#[derive(Clone, Debug)]
pub struct GenOptions {
    /// Voters registered, one ballot each.
    pub voters: u64,
    /// Census depth.
    pub depth: u32,
    /// Options of the one contest (choose exactly one).
    pub options: usize,
    /// Output directory (new or empty).
    pub out: PathBuf,
    /// Forge the eligibility proofs with the benchmark setup's trapdoor.
    pub simulate_proofs: bool,
    /// Length of the voting window from now, in seconds.
    pub window_seconds: u64,
    /// Print progress to stderr.
    pub progress: bool,
}

fn now() -> Result<u64> {
    Ok(SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| anyhow!("the clock is before 1970"))?
        .as_secs())
}

fn random_election_id() -> Result<ElectionId> {
    let mut bytes = [0u8; 32];
    // The top byte zero keeps the big-endian value below the BN254 modulus.
    OsRng.fill_bytes(&mut bytes[1..]);
    ElectionId::from_bytes(&bytes).map_err(|e| anyhow!("election id: {e}"))
}

fn entry_hex(id: ElectionId, payload: Payload, key: Option<&SigningKey>) -> Result<String> {
    let entry = match key {
        Some(k) => BoardEntry::signed(id, payload, k),
        None => BoardEntry::unsigned(id, payload),
    }
    .map_err(|e| anyhow!("board entry: {e}"))?;
    Ok(hex::encode(entry.to_canonical_bytes()))
}

/// How eligibility proofs are made.
enum Prover {
    Real(ProvingKey),
    Simulated(Trapdoor, VerifyingKey),
}

/// Runs `gen`; returns the metadata written to `bench.json`.
pub fn run(opts: &GenOptions) -> Result<Meta> {
    ensure!(opts.voters >= 1, "--voters must be at least 1");
    ensure!(
        (1..=32).contains(&opts.depth),
        "--depth must be between 1 and 32"
    );
    ensure!(
        opts.voters <= 1u64 << opts.depth,
        "a census of depth {} holds at most {} voters",
        opts.depth,
        1u64 << opts.depth
    );
    ensure!(
        (2..=64).contains(&opts.options),
        "--options must be between 2 and 64"
    );
    if opts.out.exists() {
        let empty = std::fs::read_dir(&opts.out)
            .with_context(|| format!("cannot read {}", opts.out.display()))?
            .next()
            .is_none();
        ensure!(empty, "{} is not empty", opts.out.display());
    }
    std::fs::create_dir_all(&opts.out)
        .with_context(|| format!("cannot create {}", opts.out.display()))?;
    let layout = Layout::new(&opts.out);
    let say = |s: &str| {
        if opts.progress {
            eprintln!("{s}");
        }
    };
    let t_start = Instant::now();

    // The board's key: the server is started with --board-key on this file.
    let board_key =
        urna_server::keys::BoardKey::load_or_generate(&layout.board_key(), "urna-bench-board")
            .map_err(|e| anyhow!("board key: {e}"))?;

    // Groth16 keys.
    say(&format!("Groth16 setup, census depth {}", opts.depth));
    let (pk_hash, vk, prover) = if opts.simulate_proofs {
        let trapdoor = Trapdoor::random(&mut OsRng);
        write_private(&layout.trapdoor(), trapdoor.to_hex()?.as_bytes())?;
        let (pk, vk) = trapdoor.setup(opts.depth, &mut OsRng)?;
        (
            pk.proving_key_hash(),
            vk.clone(),
            Prover::Simulated(trapdoor, vk),
        )
    } else {
        let (pk, vk) = urna_circuits::keys::setup_single_party(opts.depth, &mut OsRng)
            .map_err(|e| anyhow!("Groth16 setup: {e}"))?;
        (pk.proving_key_hash(), vk, Prover::Real(pk))
    };
    urna_server::keys::write_verifying_key(&layout.keys(), &vk)
        .map_err(|e| anyhow!("verifying key: {e}"))?;

    // Roles' keys and the manifest.
    let authority = SigningKey::generate(&mut OsRng);
    let trustee_signing: Vec<SigningKey> = (0..TRUSTEES)
        .map(|_| SigningKey::generate(&mut OsRng))
        .collect();
    let trustee_enc: Vec<EncryptionSecretKey> = (0..TRUSTEES)
        .map(|_| EncryptionSecretKey::generate(&mut OsRng))
        .collect();
    let id = random_election_id()?;
    let id_hex = hex::encode(id.to_bytes());
    let created_at = now()?;
    let manifest = Manifest {
        election_id: id,
        title: format!("urna-bench election, {} voters", opts.voters),
        contests: vec![Contest {
            title: "Choose one".into(),
            options: (1..=opts.options).map(|i| format!("Option {i}")).collect(),
            min_selections: 1,
            max_selections: 1,
        }],
        opens_at: created_at.saturating_sub(60),
        closes_at: created_at + opts.window_seconds.max(60),
        census_depth: opts.depth,
        trustees: (0..TRUSTEES as usize)
            .map(|i| Trustee {
                name: format!("Bench trustee {}", i + 1),
                signing_key: trustee_signing[i].public_key(),
                encryption_key: trustee_enc[i].public_key(),
            })
            .collect(),
        threshold: THRESHOLD,
        authority_key: authority.public_key(),
        board_key: board_key.public_key(),
        setup: urna_protocol::manifest::Setup::Keys {
            verifying_key_hash: vk.verifying_key_hash(),
            proving_key_hash: pk_hash,
        },
    };
    manifest.validate().map_err(|e| anyhow!("manifest: {e}"))?;

    // Key ceremony.
    let ctx = DkgContext::new(
        manifest.manifest_hash(),
        THRESHOLD,
        trustee_enc.iter().map(|k| k.public_key()).collect(),
    )
    .map_err(|e| anyhow!("key ceremony: {e}"))?;
    let messages = (1..=TRUSTEES)
        .map(|i| DealerMessage::deal(&ctx, i, &mut OsRng))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("dealing: {e}"))?;
    let election_key: ElectionPublicKey = DkgOutcome::new(&ctx, &messages, &[])
        .map_err(|e| anyhow!("key ceremony: {e}"))?
        .election_public_key();

    // Voters, codes, census.
    say(&format!("{} voters and registration codes", opts.voters));
    let n = usize::try_from(opts.voters).map_err(|_| anyhow!("--voters too large"))?;
    let voters: Vec<VoterSecret> = (0..n).map(|_| VoterSecret::random(&mut OsRng)).collect();
    let codes: Vec<RegistrationCode> = (0..n)
        .map(|_| RegistrationCode::random(&mut OsRng))
        .collect();
    let commitments = voters
        .par_iter()
        .map(|v| v.identity_commitment())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("identity commitment: {e}"))?;
    let census =
        CensusTree::from_leaves(opts.depth, &commitments).map_err(|e| anyhow!("census: {e}"))?;
    let root = census.root();

    // setup.ndjson, in board order.
    {
        let path = layout.setup();
        let file = std::fs::File::create(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = BufWriter::new(file);
        let mut line = |path: String, entry: String| -> Result<()> {
            serde_json::to_writer(&mut w, &SetupLine { path, entry })?;
            w.write_all(b"\n")?;
            Ok(())
        };
        let base = format!("/v1/elections/{id_hex}");
        line(
            "/v1/elections".into(),
            entry_hex(id, Payload::Manifest(manifest.clone()), Some(&authority))?,
        )?;
        for m in &messages {
            let i = m.dealer() as usize - 1;
            line(
                format!("{base}/dealers"),
                entry_hex(id, Payload::Dealer(m.clone()), Some(&trustee_signing[i]))?,
            )?;
        }
        for chunk in codes.chunks(CODES_PER_ENTRY) {
            let hashes = chunk.iter().map(|c| c.hash(&id)).collect();
            line(
                format!("{base}/registration-codes"),
                entry_hex(id, Payload::RegistrationCodes(hashes), Some(&authority))?,
            )?;
        }
        for (code, commitment) in codes.iter().zip(&commitments) {
            line(
                format!("{base}/registrations"),
                entry_hex(
                    id,
                    Payload::Registration {
                        code: *code.expose_secret(),
                        commitment: *commitment,
                    },
                    None,
                )?,
            )?;
        }
        line(
            format!("{base}/census/freeze"),
            entry_hex(
                id,
                Payload::CensusFrozen {
                    root,
                    size: census.len(),
                },
                Some(&authority),
            )?,
        )?;
        w.flush()?;
    }

    // Ballots, in parallel, chunk by chunk.
    say(&format!(
        "{} ballots ({} eligibility proofs)",
        opts.voters,
        if opts.simulate_proofs {
            "SIMULATED, benchmark-only"
        } else {
            "real"
        }
    ));
    let manifest_hash = manifest.manifest_hash();
    let counts: Vec<AtomicU64> = (0..opts.options).map(|_| AtomicU64::new(0)).collect();
    let t_ballots = Instant::now();
    let path = layout.ballots();
    let file = std::fs::File::create(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = BufWriter::new(file);
    let mut done = 0usize;
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let lines = (start..end)
            .into_par_iter()
            .map(|i| -> Result<String> {
                let mut rng = OsRng;
                let choice = rng.gen_range(0..opts.options);
                let selections = vec![(0..opts.options).map(|o| o == choice).collect()];
                let nullifier = voters[i]
                    .nullifier(&id)
                    .map_err(|e| anyhow!("nullifier: {e}"))?;
                let (enc, _audit) = encrypt_ballot(
                    &manifest,
                    &election_key,
                    root,
                    nullifier,
                    &selections,
                    &mut rng,
                )
                .map_err(|e| anyhow!("encrypting ballot {i}: {e}"))?;
                let statement = enc.eligibility_statement(&manifest_hash);
                let proof = match &prover {
                    Prover::Real(pk) => {
                        let path = census
                            .path(i as u64)
                            .map_err(|e| anyhow!("census path: {e}"))?;
                        urna_circuits::prove(pk, &voters[i], &path, &statement, &mut rng)
                            .map_err(|e| anyhow!("proving ballot {i}: {e}"))?
                    }
                    Prover::Simulated(trapdoor, vk) => {
                        trapdoor.simulate(vk, &statement, &mut rng)?
                    }
                };
                counts[choice].fetch_add(1, Ordering::Relaxed);
                let entry = entry_hex(id, Payload::Ballot(enc.attach_eligibility(proof)), None)?;
                Ok(format!("{{\"entry\":\"{entry}\"}}\n"))
            })
            .collect::<Result<Vec<String>>>()?;
        for l in &lines {
            w.write_all(l.as_bytes())?;
        }
        done = end;
        if opts.progress {
            let s = t_ballots.elapsed().as_secs_f64();
            eprintln!(
                "  {done}/{n} ballots, {:.0} ballots/s",
                done as f64 / s.max(1e-9)
            );
        }
    }
    w.flush()?;
    let ballot_seconds = t_ballots.elapsed().as_secs_f64();
    debug_assert_eq!(done, n);

    // Secrets (benchmark-only) and metadata.
    let secrets = Secrets {
        warning: "BENCHMARK ONLY: the authority's and trustees' keys of an urna-bench election; \
                  never use for a real election"
            .into(),
        authority: hex::encode(authority.expose_seed()),
        trustee_signing: trustee_signing
            .iter()
            .map(|k| hex::encode(k.expose_seed()))
            .collect(),
        trustee_encryption: trustee_enc
            .iter()
            .map(|k| hex::encode(k.expose_secret().to_bytes()))
            .collect(),
    };
    write_private(
        &layout.secrets(),
        serde_json::to_string_pretty(&secrets)?.as_bytes(),
    )?;
    let meta = Meta {
        format: FORMAT.into(),
        election_id: id_hex,
        depth: opts.depth,
        voters: opts.voters,
        options: opts.options,
        simulated_proofs: opts.simulate_proofs,
        expected_counts: counts.iter().map(|c| c.load(Ordering::Relaxed)).collect(),
        trustees: TRUSTEES,
        threshold: THRESHOLD,
        ballot_seconds,
        created_at,
    };
    std::fs::write(layout.meta(), serde_json::to_string_pretty(&meta)?)
        .with_context(|| format!("cannot write {}", layout.meta().display()))?;
    say(&format!(
        "done in {:.1?} (ballots {ballot_seconds:.1} s, {:.0}/s)",
        t_start.elapsed(),
        opts.voters as f64 / ballot_seconds.max(1e-9)
    ));
    Ok(meta)
}
