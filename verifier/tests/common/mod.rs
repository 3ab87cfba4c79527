//! A good board built without the server, from the protocol, circuits and log crates,
//! and the tools of a malicious board: edit the entries, rebuild the tree, re-sign the
//! checkpoint with the board's key, and render the export.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::json;
use urna_circuits::keys::setup_single_party;
use urna_circuits::{CensusTree, ElectionId, ProvingKey, VerifyingKey, VoterSecret};
use urna_log::{leaf_hash, Checkpoint, CompactRange, Hash, NoteSigner};
use urna_protocol::ballot::{encrypt_ballot, Ballot};
use urna_protocol::board::{BoardEntry, Payload, RegistrationCode};
use urna_protocol::codec::Canonical;
use urna_protocol::dkg::{DealerMessage, DkgContext, DkgOutcome};
use urna_protocol::encryption::EncryptionSecretKey;
use urna_protocol::manifest::{Contest, Manifest, Trustee};
use urna_protocol::signing::SigningKey;
use urna_protocol::tally::{decrypt_tally, Aggregate, Tally, TallyContext, TrusteeShares};
use urna_verify::{verify_reader, Failure, Options, Report};

pub const DEPTH: u32 = 4;
pub const ORIGIN: &str = "test-board";
pub const BOARD_SEED: [u8; 32] = [0xb0; 32];
pub const OPENS_AT: u64 = 1_900_000_000;
pub const CLOSES_AT: u64 = 1_900_086_400;

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// Seeded, test-only Groth16 keys at depth 4.
pub fn groth16() -> &'static (ProvingKey, VerifyingKey) {
    static K: OnceLock<(ProvingKey, VerifyingKey)> = OnceLock::new();
    K.get_or_init(|| setup_single_party(DEPTH, &mut rng(0x6071_6016)).unwrap())
}

/// A line of the export: an entry of the election, or another election's leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    Own(Vec<u8>),
    Other(Hash),
}

impl Line {
    pub fn leaf(&self) -> Hash {
        match self {
            Line::Own(bytes) => leaf_hash(bytes),
            Line::Other(h) => *h,
        }
    }
}

/// The election and everything needed to write (or forge) its board.
pub struct Fixture {
    pub manifest: Manifest,
    pub id: ElectionId,
    pub authority: SigningKey,
    pub board: SigningKey,
    pub trustee_signing: Vec<SigningKey>,
    pub trustee_enc: Vec<EncryptionSecretKey>,
    pub voters: Vec<VoterSecret>,
    pub codes: Vec<RegistrationCode>,
    pub census: CensusTree,
    pub tally_ctx: TallyContext,
    pub aggregate: Aggregate,
    pub shares: Vec<TrusteeShares>,
    pub tally: Tally,
    /// Voter 0's first ballot, superseded by its re-vote.
    pub first_ballot: Ballot,
    /// The good board.
    pub lines: Vec<Line>,
}

/// Voters, their choice in the one contest, in casting order; voter 0 re-votes last.
pub const VOTES: [(usize, usize); 5] = [(0, 0), (1, 1), (2, 2), (3, 0), (0, 1)];
/// Counts of the good board: voter 0's re-vote (1) replaces its first vote (0).
pub const EXPECTED: [u64; 3] = [1, 2, 1];

impl Fixture {
    pub fn signed(&self, payload: Payload, key: &SigningKey) -> Vec<u8> {
        BoardEntry::signed(self.id, payload, key)
            .unwrap()
            .to_canonical_bytes()
    }

    pub fn unsigned(&self, payload: Payload) -> Vec<u8> {
        BoardEntry::unsigned(self.id, payload)
            .unwrap()
            .to_canonical_bytes()
    }

    /// Index of the `nth` line whose entry is of kind `kind` ("other" for other elections).
    pub fn position(&self, lines: &[Line], kind: &str, nth: usize) -> usize {
        lines
            .iter()
            .enumerate()
            .filter(|(_, l)| kind_of(l) == kind)
            .nth(nth)
            .unwrap_or_else(|| panic!("no {kind} entry number {nth}"))
            .0
    }

    /// The checkpoint of `lines`, signed with `signer`.
    pub fn checkpoint_with(&self, lines: &[Line], signer: &NoteSigner) -> String {
        let mut range = CompactRange::new();
        for l in lines {
            range.push(l.leaf()).unwrap();
        }
        Checkpoint::new(ORIGIN, range.size(), range.root())
            .unwrap()
            .sign(signer)
            .unwrap()
    }

    /// A malicious (or honest) board's export of `lines`: tree rebuilt, checkpoint
    /// re-signed with the board key.
    pub fn export(&self, lines: &[Line]) -> String {
        let cp = self.checkpoint_with(lines, &board_signer());
        render(self.id, lines, &cp, &groth16().1.to_bytes())
    }

    pub fn verify(&self, lines: &[Line]) -> Result<Report, Failure> {
        verify_text(&self.export(lines))
    }

    /// A ballot of `voter` for option `choice`, against the frozen census.
    pub fn ballot(&self, voter: usize, choice: usize, seed: u64) -> Ballot {
        make_ballot(
            &self.manifest,
            &self.tally_ctx,
            &self.census,
            &self.voters[voter],
            voter,
            choice,
            seed,
        )
    }
}

pub fn kind_of(line: &Line) -> &'static str {
    match line {
        Line::Other(_) => "other",
        Line::Own(bytes) => BoardEntry::from_canonical_bytes(bytes)
            .unwrap()
            .kind()
            .name(),
    }
}

pub fn board_signer() -> NoteSigner {
    NoteSigner::new(ORIGIN, ed25519_dalek::SigningKey::from_bytes(&BOARD_SEED)).unwrap()
}

/// Renders an export with the given checkpoint and verifying key bytes.
pub fn render(id: ElectionId, lines: &[Line], checkpoint: &str, vk: &[u8]) -> String {
    let signer = board_signer();
    let header = json!({
        "format": "urna-board-export/v2",
        "election_id": hex::encode(id.to_bytes()),
        "origin": ORIGIN,
        "vkey": signer.verifier().to_vkey(),
        "checkpoint": checkpoint,
        "tree_size": lines.len(),
        "verifying_key": hex::encode(vk),
    });
    let mut out = format!("{header}\n");
    for (i, l) in lines.iter().enumerate() {
        let line = match l {
            Line::Own(bytes) => json!({
                "index": i,
                "election_id": hex::encode(id.to_bytes()),
                "kind": kind_of(l),
                "leaf_hash": hex::encode(leaf_hash(bytes).as_bytes()),
                "entry": hex::encode(bytes),
            }),
            Line::Other(h) => json!({ "index": i, "leaf_hash": hex::encode(h.as_bytes()) }),
        };
        out.push_str(&format!("{line}\n"));
    }
    out
}

pub fn verify_text(text: &str) -> Result<Report, Failure> {
    verify_reader(text.as_bytes(), &Options::default())
}

fn make_ballot(
    manifest: &Manifest,
    tally_ctx: &TallyContext,
    census: &CensusTree,
    voter: &VoterSecret,
    leaf: usize,
    choice: usize,
    seed: u64,
) -> Ballot {
    let mut r = rng(seed);
    let nullifier = voter.nullifier(&manifest.election_id).unwrap();
    let selections = vec![(0..3).map(|o| o == choice).collect::<Vec<bool>>()];
    let (enc, _) = encrypt_ballot(
        manifest,
        tally_ctx.election_key(),
        census.root(),
        nullifier,
        &selections,
        &mut r,
    )
    .unwrap();
    let statement = enc.eligibility_statement(&manifest.manifest_hash());
    let path = census.path(leaf as u64).unwrap();
    let proof = urna_circuits::prove(&groth16().0, voter, &path, &statement, &mut r).unwrap();
    enc.attach_eligibility(proof)
}

/// The good board (built once per test binary).
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(build)
}

fn other(i: u8) -> Line {
    Line::Other(leaf_hash(&[b'o', i]))
}

fn build() -> Fixture {
    let mut r = rng(42);
    let authority = SigningKey::generate(&mut r);
    let board = SigningKey::from_seed(&BOARD_SEED);
    let trustee_signing: Vec<SigningKey> = (0..3).map(|_| SigningKey::generate(&mut r)).collect();
    let trustee_enc: Vec<EncryptionSecretKey> = (0..3)
        .map(|_| EncryptionSecretKey::generate(&mut r))
        .collect();
    let mut id_bytes = [0u8; 32];
    id_bytes[31] = 7;
    id_bytes[30] = 0x42;
    let id = ElectionId::from_bytes(&id_bytes).unwrap();
    let (pk, vk) = groth16();
    let manifest = Manifest {
        election_id: id,
        title: "Verifier test".into(),
        contests: vec![Contest {
            title: "Chair".into(),
            options: vec!["A".into(), "B".into(), "C".into()],
            min_selections: 1,
            max_selections: 1,
        }],
        opens_at: OPENS_AT,
        closes_at: CLOSES_AT,
        census_depth: DEPTH,
        trustees: (0..3)
            .map(|i| Trustee {
                name: format!("T{}", i + 1),
                signing_key: trustee_signing[i].public_key(),
                encryption_key: trustee_enc[i].public_key(),
            })
            .collect(),
        threshold: 2,
        authority_key: authority.public_key(),
        board_key: board.public_key(),
        setup: urna_protocol::manifest::Setup::Keys {
            verifying_key_hash: vk.verifying_key_hash(),
            proving_key_hash: pk.proving_key_hash(),
        },
    };
    let voters: Vec<VoterSecret> = (0..4).map(|_| VoterSecret::random(&mut r)).collect();
    let codes: Vec<RegistrationCode> = (0..6).map(|_| RegistrationCode::random(&mut r)).collect();
    let ctx = DkgContext::from_manifest(&manifest).unwrap();
    let messages: Vec<DealerMessage> = (1..=3)
        .map(|i| DealerMessage::deal(&ctx, i, &mut r).unwrap())
        .collect();
    let outcome = DkgOutcome::new(&ctx, &messages, &[]).unwrap();
    let tally_ctx = TallyContext::from_dkg(&ctx, &outcome);
    let leaves: Vec<_> = voters
        .iter()
        .map(|v| v.identity_commitment().unwrap())
        .collect();
    let census = CensusTree::from_leaves(DEPTH, &leaves).unwrap();
    let ballots: Vec<Ballot> = VOTES
        .iter()
        .enumerate()
        .map(|(k, &(voter, choice))| {
            make_ballot(
                &manifest,
                &tally_ctx,
                &census,
                &voters[voter],
                voter,
                choice,
                1000 + k as u64,
            )
        })
        .collect();

    let mut f = Fixture {
        manifest: manifest.clone(),
        id,
        authority,
        board,
        trustee_signing,
        trustee_enc,
        voters,
        codes,
        census,
        tally_ctx,
        aggregate: Aggregate::new(&[3]),
        shares: Vec::new(),
        tally: Tally {
            aggregate: Aggregate::new(&[3]),
            result: urna_protocol::tally::TallyResult::new(0, vec![vec![0; 3]]),
        },
        first_ballot: ballots[0].clone(),
        lines: Vec::new(),
    };

    let mut lines = vec![Line::Own(
        f.signed(Payload::Manifest(manifest.clone()), &f.authority),
    )];
    lines.push(other(0));
    for m in &messages {
        let key = &f.trustee_signing[m.dealer() as usize - 1];
        lines.push(Line::Own(f.signed(Payload::Dealer(m.clone()), key)));
    }
    let hashes = f.codes.iter().map(|c| c.hash(&id)).collect();
    lines.push(Line::Own(
        f.signed(Payload::RegistrationCodes(hashes), &f.authority),
    ));
    for (code, v) in f.codes.iter().zip(&f.voters) {
        lines.push(Line::Own(f.unsigned(Payload::Registration {
            code: *code.expose_secret(),
            commitment: v.identity_commitment().unwrap(),
        })));
    }
    lines.push(other(1));
    lines.push(Line::Own(f.signed(
        Payload::CensusFrozen {
            root: f.census.root(),
            size: f.census.len(),
        },
        &f.authority,
    )));
    lines.push(Line::Own(
        f.signed(Payload::Open { at: OPENS_AT + 5 }, &f.authority),
    ));

    let mut last = std::collections::HashMap::new();
    for (k, (&(voter, _), b)) in VOTES.iter().zip(&ballots).enumerate() {
        if k == 3 {
            lines.push(other(2));
        }
        lines.push(Line::Own(f.unsigned(Payload::Ballot(b.clone()))));
        last.insert(voter, b.clone());
    }
    lines.push(Line::Own(
        f.signed(Payload::Close { at: CLOSES_AT - 5 }, &f.authority),
    ));

    let mut aggregate = Aggregate::new(&[3]);
    for v in 0..4 {
        aggregate
            .add_ballot(last[&v].contests.iter().map(|c| c.ciphertexts()))
            .unwrap();
    }
    for j in [1u32, 3] {
        let secret = outcome
            .secret_share(&ctx, &messages, j, &f.trustee_enc[j as usize - 1])
            .unwrap();
        let s = TrusteeShares::create(&f.tally_ctx, &secret, &aggregate, &mut r).unwrap();
        lines.push(Line::Own(f.signed(
            Payload::DecryptionShares(s.clone()),
            &f.trustee_signing[j as usize - 1],
        )));
        f.shares.push(s);
    }
    let result = decrypt_tally(&f.tally_ctx, &aggregate, &f.shares).unwrap();
    assert_eq!(result.counts(), &[EXPECTED.to_vec()]);
    let tally = Tally {
        aggregate: aggregate.clone(),
        result,
    };
    lines.push(Line::Own(f.signed(Payload::Tally(tally.clone()), &f.board)));
    lines.push(other(3));
    f.aggregate = aggregate;
    f.tally = tally;
    f.lines = lines;
    f
}
