//! A good board built without the server, from the protocol, circuits, ceremony and log
//! crates, and the tools of a malicious board: edit the entries, rebuild the tree,
//! re-sign the checkpoint with the board's key, and render the export.
//!
//! Two boards: [`fixture`] for an election whose manifest fixes its Groth16 keys (a
//! seeded single-party setup), and [`ceremony_fixture`] for one that runs the setup
//! ceremony on its board (PROTOCOL 14.10) and proves its ballots with the keys the
//! ceremony derives.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::json;
use urna_ceremony::{Beacon, CeremonyState};
use urna_circuits::keys::setup_single_party;
use urna_circuits::{CensusTree, ElectionId, ProvingKey, VerifyingKey, VoterSecret};
use urna_log::{leaf_hash, Checkpoint, CompactRange, Hash, NoteSigner};
use urna_protocol::ballot::{encrypt_ballot, Ballot};
use urna_protocol::board::{BoardEntry, Payload, RegistrationCode, SetupContribution, SetupKeys};
use urna_protocol::codec::Canonical;
use urna_protocol::dkg::{DealerMessage, DkgContext, DkgOutcome};
use urna_protocol::encryption::EncryptionSecretKey;
use urna_protocol::manifest::{Contest, Contributor, Manifest, Setup, Trustee};
use urna_protocol::signing::SigningKey;
use urna_protocol::tally::{decrypt_tally, Aggregate, Tally, TallyContext, TrusteeShares};
use urna_verify::{verify_reader, Failure, Options, Report};

/// Asserts a failure at `index` whose error matches `pattern`.
macro_rules! assert_fails {
    ($result:expr, $index:expr, $pattern:pat $(if $guard:expr)?) => {{
        let failure: urna_verify::Failure = $result.expect_err("the board must not verify");
        assert_eq!(failure.index, $index, "wrong index: {failure}");
        assert!(
            matches!(failure.error, $pattern $(if $guard)?),
            "wrong check: {failure} ({:?})",
            failure.error
        );
        assert!(failure.error.is_verdict());
        assert_eq!(failure.exit_code(), 1);
        failure
    }};
}

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

/// A ceremony election's setup: the extra contributor's key and what the ceremony
/// derived.
pub struct CeremonySetup {
    /// Contributor 4 (after the authority and three trustees): "Observer".
    pub observer: SigningKey,
    pub proving_key: ProvingKey,
    pub verifying_key: VerifyingKey,
    pub transcript_hash: [u8; 32],
    /// The hash after each contribution, in board order (phase 1, then phase 2).
    pub hashes: Vec<[u8; 32]>,
}

/// The contributions of the ceremony board: (phase, contributor, beacon value).
pub const CONTRIBUTIONS: [(u8, u32, Option<&[u8]>); 6] = [
    (1, 1, None),
    (1, 4, None),
    (1, 0, Some(b"phase 1 beacon")),
    (2, 0, None),
    (2, 2, None),
    (2, 0, Some(b"phase 2 beacon")),
];

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
    /// The ceremony, for a ceremony election.
    pub ceremony: Option<CeremonySetup>,
    /// The verifying key the export's header carries (none for a ceremony election).
    pub header_vk: Option<Vec<u8>>,
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
        self.export_with_key(lines, self.header_vk.as_deref())
    }

    /// [`Fixture::export`] with `vk` as the header's verifying key (`None`: omitted).
    pub fn export_with_key(&self, lines: &[Line], vk: Option<&[u8]>) -> String {
        let cp = self.checkpoint_with(lines, &board_signer());
        render_with(self.id, lines, &cp, vk)
    }

    /// The proving key the election's voters use.
    pub fn proving_key(&self) -> &ProvingKey {
        match &self.ceremony {
            Some(c) => &c.proving_key,
            None => &groth16().0,
        }
    }

    /// The signing key of setup contributor `index` (PROTOCOL 14.10).
    pub fn contributor_key(&self, index: u32) -> &SigningKey {
        match index {
            0 => &self.authority,
            1..=3 => &self.trustee_signing[index as usize - 1],
            _ => {
                &self
                    .ceremony
                    .as_ref()
                    .expect("a ceremony election")
                    .observer
            }
        }
    }

    /// A setup entry of `phase` by `contributor`, signed with its key.
    pub fn setup_entry(&self, phase: u8, contributor: u32, data: Vec<u8>) -> Line {
        let c = SetupContribution { contributor, data };
        let payload = match phase {
            1 => Payload::SetupPhase1(c),
            _ => Payload::SetupPhase2(c),
        };
        Line::Own(self.signed(payload, self.contributor_key(contributor)))
    }

    /// A setup-keys entry signed by the board.
    pub fn setup_keys_entry(&self, keys: SetupKeys) -> Line {
        Line::Own(self.signed(Payload::SetupKeys(keys), &self.board))
    }

    pub fn verify(&self, lines: &[Line]) -> Result<Report, Failure> {
        verify_text(&self.export(lines))
    }

    pub fn verify_with(&self, lines: &[Line], options: &Options) -> Result<Report, Failure> {
        verify_reader(self.export(lines).as_bytes(), options)
    }

    /// A ballot of `voter` for option `choice`, against the frozen census.
    pub fn ballot(&self, voter: usize, choice: usize, seed: u64) -> Ballot {
        self.ballot_with(self.proving_key(), voter, choice, seed)
    }

    /// A ballot of `voter` for option `choice`, proved with `pk`.
    pub fn ballot_with(&self, pk: &ProvingKey, voter: usize, choice: usize, seed: u64) -> Ballot {
        make_ballot(
            &self.manifest,
            &self.tally_ctx,
            &self.census,
            pk,
            &self.voters[voter],
            voter,
            choice,
            seed,
        )
    }
}

/// The contribution carried by a setup entry.
pub fn contribution_of(line: &Line) -> SetupContribution {
    let Line::Own(bytes) = line else {
        panic!("not an entry of the election")
    };
    match BoardEntry::from_canonical_bytes(bytes).unwrap().payload() {
        Payload::SetupPhase1(c) | Payload::SetupPhase2(c) => c.clone(),
        other => panic!("not a setup contribution: {other:?}"),
    }
}

/// The payload of a setup-keys entry.
pub fn setup_keys_of(line: &Line) -> SetupKeys {
    let Line::Own(bytes) = line else {
        panic!("not an entry of the election")
    };
    match BoardEntry::from_canonical_bytes(bytes).unwrap().payload() {
        Payload::SetupKeys(k) => k.clone(),
        other => panic!("not setup-keys: {other:?}"),
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
    render_with(id, lines, checkpoint, Some(vk))
}

/// Renders an export with the given checkpoint and, if any, verifying key bytes.
pub fn render_with(id: ElectionId, lines: &[Line], checkpoint: &str, vk: Option<&[u8]>) -> String {
    let signer = board_signer();
    let mut header = json!({
        "format": "urna-board-export/v2",
        "election_id": hex::encode(id.to_bytes()),
        "origin": ORIGIN,
        "vkey": signer.verifier().to_vkey(),
        "checkpoint": checkpoint,
        "tree_size": lines.len(),
    });
    if let Some(vk) = vk {
        header["verifying_key"] = json!(hex::encode(vk));
    }
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

#[allow(clippy::too_many_arguments)]
fn make_ballot(
    manifest: &Manifest,
    tally_ctx: &TallyContext,
    census: &CensusTree,
    pk: &ProvingKey,
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
    let proof = urna_circuits::prove(pk, voter, &path, &statement, &mut r).unwrap();
    enc.attach_eligibility(proof)
}

/// The good board of a fixed-keys election (built once per test binary).
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| build(false))
}

/// The good board of a ceremony election (built once per test binary).
pub fn ceremony_fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| build(true))
}

/// Runs the ceremony of [`CONTRIBUTIONS`] for election `id` at [`DEPTH`], as the
/// contributors and the board would: each contributor computes from the state it
/// downloads, the board verifies and applies. Returns the contributions' bytes and the
/// ceremony's keys and hashes.
fn run_ceremony(id: &ElectionId, observer: SigningKey) -> (Vec<Vec<u8>>, CeremonySetup) {
    let mut r = rng(0xce7e);
    let mut state = CeremonyState::new(id.to_bytes(), DEPTH).unwrap();
    let mut contributions = Vec::new();
    let mut hashes = Vec::new();
    for (phase, _, beacon) in CONTRIBUTIONS {
        let download = state.contribution_state().unwrap().unwrap();
        let (bytes, published) = match beacon {
            None => download.contribute(&mut r).unwrap(),
            Some(value) => download
                .contribute_beacon(&Beacon::new(value, 4).unwrap())
                .unwrap(),
        };
        let accepted = match phase {
            1 => state.add_phase1(&bytes, &mut r).unwrap(),
            _ => state.add_phase2(&bytes, &mut r).unwrap(),
        };
        assert_eq!(accepted.hash, published);
        assert_eq!(accepted.beacon, beacon.is_some());
        if state.needs_phase2_derivation() {
            state.derive_phase2().unwrap();
        }
        contributions.push(bytes);
        hashes.push(published);
    }
    let (proving_key, verifying_key) = state.keys().unwrap();
    let setup = CeremonySetup {
        observer,
        proving_key,
        verifying_key,
        transcript_hash: state.hash(),
        hashes,
    };
    (contributions, setup)
}

fn other(i: u8) -> Line {
    Line::Other(leaf_hash(&[b'o', i]))
}

fn build(ceremony: bool) -> Fixture {
    let mut r = rng(42);
    let authority = SigningKey::generate(&mut r);
    let board = SigningKey::from_seed(&BOARD_SEED);
    let trustee_signing: Vec<SigningKey> = (0..3).map(|_| SigningKey::generate(&mut r)).collect();
    let trustee_enc: Vec<EncryptionSecretKey> = (0..3)
        .map(|_| EncryptionSecretKey::generate(&mut r))
        .collect();
    let mut id_bytes = [0u8; 32];
    id_bytes[31] = if ceremony { 8 } else { 7 };
    id_bytes[30] = 0x42;
    let id = ElectionId::from_bytes(&id_bytes).unwrap();
    let (contributions, ceremony) = if ceremony {
        let observer = SigningKey::generate(&mut rng(0x0b5e));
        let (c, setup) = run_ceremony(&id, observer);
        (c, Some(setup))
    } else {
        (Vec::new(), None)
    };
    let (pk, vk) = match &ceremony {
        Some(c) => (&c.proving_key, &c.verifying_key),
        None => (&groth16().0, &groth16().1),
    };
    let setup = match &ceremony {
        Some(c) => Setup::Ceremony {
            contributors: vec![Contributor {
                name: "Observer".into(),
                signing_key: c.observer.public_key(),
            }],
        },
        None => Setup::Keys {
            verifying_key_hash: vk.verifying_key_hash(),
            proving_key_hash: pk.proving_key_hash(),
        },
    };
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
        setup,
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
                pk,
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
        header_vk: ceremony.is_none().then(|| vk.to_bytes()),
        ceremony: None,
    };
    let keys = ceremony.as_ref().map(|c| SetupKeys {
        verifying_key: c.verifying_key.clone(),
        proving_key_hash: c.proving_key.proving_key_hash(),
        transcript_hash: c.transcript_hash,
    });
    f.ceremony = ceremony;

    let mut lines = vec![Line::Own(
        f.signed(Payload::Manifest(manifest.clone()), &f.authority),
    )];
    lines.push(other(0));
    // The setup ceremony (PROTOCOL 14.10): contributions, another election's entry
    // between two of them, and the board's setup-keys entry right after the beacon.
    for (k, ((phase, contributor, _), bytes)) in CONTRIBUTIONS.iter().zip(contributions).enumerate()
    {
        if k == 1 {
            lines.push(other(4));
        }
        lines.push(f.setup_entry(*phase, *contributor, bytes));
    }
    if let Some(keys) = keys {
        lines.push(f.setup_keys_entry(keys));
    }
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
