//! A complete election with Urna's cryptographic core, in memory, with no server.
//!
//! Three trustees (threshold 2) run the key ceremony; the authority posts registration
//! codes; voters register identity commitments; the census is frozen; every voter casts
//! an encrypted ballot with validity proofs and a Groth16 eligibility proof, some
//! re-vote; the board verifies the ballots in a batch; voting closes; two trustees (the
//! third is absent) post decryption shares; the board publishes the tally. Every step is
//! a signed, canonically encoded board entry appended to an RFC 9162 log, and the run
//! ends with a signed checkpoint, a voter's inclusion proof, and a recount that checks
//! the result against the voters' plaintext choices.
//!
//! ```text
//! cargo run --release -p urna-protocol --example election -- [VOTERS] [DEPTH]
//! ```
//!
//! The Groth16 keys here come from a single-party setup made on the spot: whoever runs
//! it could forge eligibility proofs (see docs/PROTOCOL.md §1.4).

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{anyhow, ensure, Context, Result};
use rand::rngs::OsRng;
use rand::{CryptoRng, Rng, RngCore};
use urna_circuits::keys::setup_single_party;
use urna_circuits::{CensusTree, ElectionId, Nullifier, VoterSecret};
use urna_log::{leaf_hash, Checkpoint, MerkleTree, NoteSigner};
use urna_protocol::ballot::{encrypt_ballot, verify_ballots, Ballot};
use urna_protocol::board::{BoardEntry, Payload, RegistrationCode};
use urna_protocol::codec::Canonical;
use urna_protocol::dkg::{DealerMessage, DkgContext, DkgOutcome};
use urna_protocol::encryption::EncryptionSecretKey;
use urna_protocol::manifest::{Contest, Manifest, Trustee};
use urna_protocol::signing::SigningKey;
use urna_protocol::tally::{
    decrypt_tally, verify_tally, Aggregate, Tally, TallyContext, TrusteeShares,
};

/// What a run produced.
pub struct Report {
    /// Entries on the board.
    pub entries: u64,
    /// Ballots cast (including superseded ones).
    pub ballots_cast: usize,
    /// Ballots counted (the last per nullifier).
    pub ballots_counted: u64,
    /// The tally, per contest and option.
    pub counts: Vec<Vec<u64>>,
}

/// The board as the example keeps it: entries, their log, and the manifest.
struct Board {
    entries: Vec<BoardEntry>,
    tree: MerkleTree,
    manifest: Manifest,
}

impl Board {
    /// Appends an entry after the checks a board makes: canonical round trip and the
    /// signature rule of PROTOCOL 9.5.
    fn append(&mut self, entry: BoardEntry) -> Result<u64> {
        let bytes = entry.to_canonical_bytes();
        let decoded = BoardEntry::from_canonical_bytes(&bytes)?;
        ensure!(decoded == entry, "entry does not round-trip");
        decoded
            .verify_signature(&self.manifest)
            .with_context(|| format!("{} entry", entry.kind().name()))?;
        let index = self.tree.append(leaf_hash(&bytes))?;
        self.entries.push(decoded);
        Ok(index)
    }
}

/// Runs a whole election with `voters` voters on a census of depth `depth`.
pub fn run<R: RngCore + CryptoRng>(
    voters: usize,
    depth: u32,
    rng: &mut R,
    verbose: bool,
) -> Result<Report> {
    let say = |msg: String| {
        if verbose {
            println!("{msg}");
        }
    };
    ensure!(voters >= 1, "at least one voter");
    ensure!(
        (voters as u64) <= (1u64 << depth.min(32)),
        "census depth {depth} is too small for {voters} voters"
    );

    // --- keys and trusted setup ---------------------------------------------------
    let t0 = Instant::now();
    let (proving_key, verifying_key) = setup_single_party(depth, rng)?;
    say(format!(
        "groth16 setup (single-party, depth {depth}): {:.1?}",
        t0.elapsed()
    ));
    let authority = SigningKey::generate(rng);
    let board_key = SigningKey::generate(rng);
    let trustee_signing: Vec<SigningKey> = (0..3).map(|_| SigningKey::generate(rng)).collect();
    let trustee_encryption: Vec<EncryptionSecretKey> =
        (0..3).map(|_| EncryptionSecretKey::generate(rng)).collect();

    // --- manifest -----------------------------------------------------------------
    let mut id_bytes = [0u8; 32];
    rng.fill_bytes(&mut id_bytes[1..]);
    let election_id = ElectionId::from_bytes(&id_bytes)?;
    let manifest = Manifest {
        election_id,
        title: "Example election".into(),
        contests: vec![
            Contest {
                title: "Chair".into(),
                options: vec!["Ada".into(), "Grace".into(), "Edsger".into()],
                min_selections: 1,
                max_selections: 1,
            },
            Contest {
                title: "Committee (up to 2)".into(),
                options: vec!["P".into(), "Q".into(), "R".into(), "S".into(), "T".into()],
                min_selections: 0,
                max_selections: 2,
            },
        ],
        opens_at: 1_900_000_000,
        closes_at: 1_900_086_400,
        census_depth: depth,
        trustees: (0..3)
            .map(|i| Trustee {
                name: format!("trustee-{}", i + 1),
                signing_key: trustee_signing[i].public_key(),
                encryption_key: trustee_encryption[i].public_key(),
            })
            .collect(),
        threshold: 2,
        authority_key: authority.public_key(),
        board_key: board_key.public_key(),
        setup: urna_protocol::manifest::Setup::Keys {
            verifying_key_hash: verifying_key.verifying_key_hash(),
            proving_key_hash: proving_key.proving_key_hash(),
        },
    };
    manifest.validate()?;
    let manifest_hash = manifest.manifest_hash();
    let mut board = Board {
        entries: Vec::new(),
        tree: MerkleTree::new(),
        manifest: manifest.clone(),
    };
    board.append(BoardEntry::signed(
        election_id,
        Payload::Manifest(manifest.clone()),
        &authority,
    )?)?;
    say(format!("manifest {}", hex(&manifest_hash)));

    // --- key ceremony (PROTOCOL §7) -----------------------------------------------
    let ctx = DkgContext::from_manifest(&manifest)?;
    let mut dealer_messages = Vec::new();
    for (i, key) in trustee_signing.iter().enumerate() {
        let msg = DealerMessage::deal(&ctx, i as u32 + 1, rng)?;
        board.append(BoardEntry::signed(
            election_id,
            Payload::Dealer(msg.clone()),
            key,
        )?)?;
        dealer_messages.push(msg);
    }
    let outcome = DkgOutcome::new(&ctx, &dealer_messages, &[])?;
    let election_key = outcome.election_public_key();
    let secret_shares = (0..3u32)
        .map(|j| {
            outcome.secret_share(
                &ctx,
                &dealer_messages,
                j + 1,
                &trustee_encryption[j as usize],
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    say("key ceremony: 3 trustees, threshold 2, joint key published".into());

    // --- registration (PROTOCOL 9.4) ----------------------------------------------
    let codes: Vec<RegistrationCode> = (0..voters).map(|_| RegistrationCode::random(rng)).collect();
    let hashes = codes.iter().map(|c| c.hash(&election_id)).collect();
    board.append(BoardEntry::signed(
        election_id,
        Payload::RegistrationCodes(hashes),
        &authority,
    )?)?;
    let secrets: Vec<VoterSecret> = (0..voters).map(|_| VoterSecret::random(rng)).collect();
    let mut census = CensusTree::new(depth)?;
    for (code, secret) in codes.iter().zip(&secrets) {
        let commitment = secret.identity_commitment()?;
        let payload = Payload::Registration {
            code: *code.expose_secret(),
            commitment,
        };
        board.append(BoardEntry::unsigned(election_id, payload)?)?;
        census.insert(commitment)?;
    }
    let root = census.root();
    board.append(BoardEntry::signed(
        election_id,
        Payload::CensusFrozen {
            root,
            size: census.len(),
        },
        &authority,
    )?)?;
    say(format!(
        "census frozen: {} voters, root {}",
        census.len(),
        hex(&root.to_bytes())
    ));
    board.append(BoardEntry::signed(
        election_id,
        Payload::Open {
            at: manifest.opens_at,
        },
        &authority,
    )?)?;

    // --- voting (PROTOCOL §6, §10) ------------------------------------------------
    let t0 = Instant::now();
    let mut cast: Vec<Ballot> = Vec::new();
    let mut choices: HashMap<Nullifier, Vec<Vec<bool>>> = HashMap::new();
    let revoters = voters.div_ceil(10);
    for round in 0..2 {
        let who = if round == 0 { 0..voters } else { 0..revoters };
        for v in who {
            let selections = random_selections(&manifest, rng);
            let nullifier = secrets[v].nullifier(&election_id)?;
            let (encrypted, _audit) =
                encrypt_ballot(&manifest, &election_key, root, nullifier, &selections, rng)?;
            let statement = encrypted.eligibility_statement(&manifest_hash);
            let path = census.path(v as u64)?;
            let proof = urna_circuits::prove(&proving_key, &secrets[v], &path, &statement, rng)?;
            cast.push(encrypted.attach_eligibility(proof));
            choices.insert(nullifier, selections);
        }
    }
    say(format!(
        "{} ballots made ({revoters} re-votes) in {:.1?}",
        cast.len(),
        t0.elapsed()
    ));

    let t0 = Instant::now();
    let pvk = verifying_key.prepare();
    verify_ballots(&cast, &manifest, &election_key, &pvk, &root, rng)
        .map_err(|bad| anyhow!("ballots rejected: {bad:?}"))?;
    say(format!(
        "{} ballots batch-verified in {:.1?}",
        cast.len(),
        t0.elapsed()
    ));
    let mut ballot_indices = Vec::new();
    for ballot in &cast {
        ballot_indices.push(board.append(BoardEntry::unsigned(
            election_id,
            Payload::Ballot(ballot.clone()),
        )?)?);
    }
    board.append(BoardEntry::signed(
        election_id,
        Payload::Close {
            at: manifest.closes_at,
        },
        &authority,
    )?)?;

    // --- tally (PROTOCOL §8): the last ballot per nullifier counts -----------------
    let mut last: HashMap<Nullifier, &Ballot> = HashMap::new();
    for ballot in &cast {
        last.insert(ballot.nullifier, ballot);
    }
    let options: Vec<usize> = manifest.contests.iter().map(|c| c.options.len()).collect();
    let mut aggregate = Aggregate::new(&options);
    for ballot in last.values() {
        aggregate.add_ballot(ballot.contests.iter().map(|c| c.ciphertexts()))?;
    }
    let tally_ctx = TallyContext::from_dkg(&ctx, &outcome);
    let mut shares = Vec::new();
    for j in [0usize, 2] {
        // Trustee 2 is absent: any two of three suffice.
        let s = TrusteeShares::create(&tally_ctx, &secret_shares[j], &aggregate, rng)?;
        board.append(BoardEntry::signed(
            election_id,
            Payload::DecryptionShares(s.clone()),
            &trustee_signing[j],
        )?)?;
        shares.push(s);
    }
    let t0 = Instant::now();
    let result = decrypt_tally(&tally_ctx, &aggregate, &shares)?;
    say(format!(
        "tally decrypted in {:.1?} (trustee 2 absent)",
        t0.elapsed()
    ));
    let tally = Tally {
        aggregate: aggregate.clone(),
        result,
    };
    verify_tally(&tally_ctx, &aggregate, &shares, &tally)?;
    board.append(BoardEntry::signed(
        election_id,
        Payload::Tally(tally.clone()),
        &board_key,
    )?)?;

    // --- recount against the plaintext choices ------------------------------------
    let mut expected: Vec<Vec<u64>> = options.iter().map(|&n| vec![0; n]).collect();
    for selections in choices.values() {
        for (c, contest) in selections.iter().enumerate() {
            for (o, chosen) in contest.iter().enumerate() {
                expected[c][o] += u64::from(*chosen);
            }
        }
    }
    ensure!(
        tally.result.counts() == expected.as_slice(),
        "tally differs from the plaintext count"
    );

    // --- the log: signed checkpoint and a voter's receipt (PROTOCOL §11) ----------
    let signer = NoteSigner::generate("example.urna/board", rng)?;
    let checkpoint = Checkpoint::new("example.urna/board", board.tree.size(), board.tree.root()?)?;
    let note = checkpoint.sign(&signer)?;
    let opened = Checkpoint::open(note.as_bytes(), "example.urna/board", &signer.verifier())?;
    let mine = ballot_indices[0];
    let proof = board.tree.inclusion_proof(mine, opened.size())?;
    let leaf = leaf_hash(&board.entries[mine as usize].to_canonical_bytes());
    opened.verify_inclusion(mine, &leaf, &proof)?;
    say(format!(
        "checkpoint of {} entries signed; receipt for entry {mine} verified",
        opened.size()
    ));

    if verbose {
        println!(
            "\nResult ({} ballots counted of {} cast):",
            tally.result.ballots(),
            cast.len()
        );
        for (contest, counts) in manifest.contests.iter().zip(tally.result.counts()) {
            println!("  {}", contest.title);
            for (label, n) in contest.options.iter().zip(counts) {
                println!("    {label:<8} {n}");
            }
        }
    }
    Ok(Report {
        entries: board.tree.size(),
        ballots_cast: cast.len(),
        ballots_counted: tally.result.ballots(),
        counts: tally.result.counts().to_vec(),
    })
}

fn random_selections(manifest: &Manifest, rng: &mut impl Rng) -> Vec<Vec<bool>> {
    manifest
        .contests
        .iter()
        .map(|c| {
            let n = c.options.len();
            let k = rng.gen_range(c.min_selections..=c.max_selections) as usize;
            let mut picks = vec![false; n];
            let mut chosen = 0;
            while chosen < k {
                let i = rng.gen_range(0..n);
                if !picks[i] {
                    picks[i] = true;
                    chosen += 1;
                }
            }
            picks
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[allow(dead_code)] // unused when this file is included by the integration test
fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let voters: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()
        .context("VOTERS must be a number")?
        .unwrap_or(20);
    let depth: u32 = args
        .next()
        .map(|s| s.parse())
        .transpose()
        .context("DEPTH must be a number")?
        .unwrap_or(20);
    let report = run(voters, depth, &mut OsRng, true)?;
    println!(
        "\n{} board entries; recount matches the voters' choices.",
        report.entries
    );
    Ok(())
}
