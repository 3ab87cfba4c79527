//! Shared test fixtures: fresh databases (SQLite in a temporary directory, PostgreSQL in a
//! fresh schema of database `test` on 127.0.0.1:5432), a seeded election with
//! single-party (insecure, test-only) Groth16 keys at census depth 4, and helpers to
//! build every kind of entry.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};
use tower::ServiceExt as _;
use urna_circuits::keys::setup_single_party;
use urna_circuits::{
    CensusRoot, CensusTree, ElectionId, PreparedVerifyingKey, ProvingKey, VerifyingKey, VoterSecret,
};
use urna_protocol::ballot::{encrypt_ballot, Ballot};
use urna_protocol::board::{BoardEntry, Payload, RegistrationCode};
use urna_protocol::codec::{Canonical, Decode, Reader};
use urna_protocol::dkg::{DealerMessage, DkgContext, DkgOutcome};
use urna_protocol::elgamal::ElectionPublicKey;
use urna_protocol::encryption::EncryptionSecretKey;
use urna_protocol::manifest::{Contest, Manifest, Trustee};
use urna_protocol::signing::SigningKey;
use urna_protocol::tally::{Aggregate, TallyContext, TrusteeShares};
use urna_server::board::{Board, BoardOptions, Clock};
use urna_server::keys::{BoardKey, VerifyingKeys};
use urna_server::storage::postgres::PgStorage;
use urna_server::storage::sqlite::SqliteStorage;
use urna_server::storage::Storage;
use urna_server::{app, AppState, Limits};

pub const DEPTH: u32 = 4;
pub const NOW: u64 = 1_900_000_000;

/// The two backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database; keeps its temporary directory alive.
pub struct Db {
    pub backend: Backend,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the server URL and the test's schema, dropped with the `Db`.
    pg_schema: Option<(String, String)>,
}

impl Drop for Db {
    fn drop(&mut self) {
        let Some((base, schema)) = self.pg_schema.take() else {
            return;
        };
        // Best effort, on a thread of its own: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(pool) = sqlx::PgPool::connect(&base).await {
                    let drop_schema = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS {schema} CASCADE"
                    )))
                    .execute(&pool);
                    let _ =
                        tokio::time::timeout(std::time::Duration::from_secs(10), drop_schema).await;
                    pool.close().await;
                }
            });
        })
        .join();
    }
}

fn pg_base_urls() -> Vec<String> {
    if let Ok(url) = std::env::var("URNA_TEST_DATABASE_URL") {
        return vec![url];
    }
    vec![
        "postgres://postgres@127.0.0.1:5432/test".into(),
        "postgres://root@127.0.0.1:5432/test".into(),
    ]
}

static SCHEMA_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Db {
    pub async fn fresh(backend: Backend) -> Db {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("board.sqlite3").display());
                Db {
                    backend,
                    url,
                    _dir: Some(dir),
                    pg_schema: None,
                }
            }
            Backend::Postgres => {
                let mut errors = Vec::new();
                for base in pg_base_urls() {
                    match sqlx::PgPool::connect(&base).await {
                        Ok(pool) => {
                            let schema = format!(
                                "urna_test_{}_{}_{}",
                                std::process::id(),
                                SCHEMA_COUNTER.fetch_add(1, Ordering::SeqCst),
                                rand::random::<u32>()
                            );
                            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                                .execute(&pool)
                                .await
                                .unwrap();
                            pool.close().await;
                            let url = format!("{base}?options[search_path]={schema}");
                            return Db {
                                backend,
                                url,
                                _dir: None,
                                pg_schema: Some((base, schema)),
                            };
                        }
                        Err(e) => errors.push(format!("{base}: {e}")),
                    }
                }
                panic!(
                    "PostgreSQL tests need a server on 127.0.0.1:5432 with database `test` \
                     and trust auth (or URNA_TEST_DATABASE_URL); could not connect: {}",
                    errors.join("; ")
                );
            }
        }
    }

    pub async fn open(&self) -> Arc<dyn Storage> {
        match self.backend {
            Backend::Sqlite => Arc::new(SqliteStorage::open_url(&self.url).await.unwrap()),
            Backend::Postgres => Arc::new(PgStorage::connect(&self.url).await.unwrap()),
        }
    }
}

/// Seeded, test-only Groth16 keys at depth 4 (shared by the tests of one binary).
pub struct Groth16 {
    pub pk: ProvingKey,
    pub vk: VerifyingKey,
    pub pvk: PreparedVerifyingKey,
}

pub fn groth16() -> &'static Groth16 {
    static K: OnceLock<Groth16> = OnceLock::new();
    K.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(0x6071_6016);
        let (pk, vk) = setup_single_party(DEPTH, &mut rng).unwrap();
        let pvk = vk.prepare();
        Groth16 { pk, vk, pvk }
    })
}

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// A test clock the tests can move.
#[derive(Clone)]
pub struct TestClock(pub Arc<AtomicU64>);

impl TestClock {
    pub fn new(t: u64) -> Self {
        Self(Arc::new(AtomicU64::new(t)))
    }
    pub fn set(&self, t: u64) {
        self.0.store(t, Ordering::SeqCst);
    }
    pub fn clock(&self) -> Clock {
        let c = self.0.clone();
        Arc::new(move || c.load(Ordering::SeqCst))
    }
}

pub fn board_key() -> BoardKey {
    BoardKey::from_seed("test-board", &[0xb0; 32]).unwrap()
}

/// Opens a board over `store` with the test key, the test VK and `clock`.
pub async fn open_board(store: Arc<dyn Storage>, clock: &TestClock) -> Arc<Board> {
    let mut vks = VerifyingKeys::new();
    vks.insert(&groth16().vk);
    Board::open(
        store,
        board_key(),
        vks,
        BoardOptions {
            verify_workers: 2,
            verify_queue: 64,
            clock: clock.clock(),
            read_only: false,
        },
    )
    .await
    .unwrap()
}

pub fn router(board: Arc<Board>) -> Router {
    app(AppState {
        board,
        limits: Limits {
            ballot: 256 * 1024,
            entry: 4 << 20,
        },
        rate_limit: None,
    })
}

/// An election: its keys, trustees, voters, and codes.
pub struct Election {
    pub manifest: Manifest,
    pub id: ElectionId,
    pub authority: SigningKey,
    pub trustee_signing: Vec<SigningKey>,
    pub trustee_enc: Vec<EncryptionSecretKey>,
    pub voters: Vec<VoterSecret>,
    pub codes: Vec<RegistrationCode>,
}

impl Election {
    /// `n` trustees with threshold `t`, `voters` voters; window around [`NOW`].
    pub fn new(seed: u64, n: u32, t: u32, voters: usize) -> Election {
        let mut r = rng(seed);
        let authority = SigningKey::generate(&mut r);
        let trustee_signing: Vec<SigningKey> =
            (0..n).map(|_| SigningKey::generate(&mut r)).collect();
        let trustee_enc: Vec<EncryptionSecretKey> = (0..n)
            .map(|_| EncryptionSecretKey::generate(&mut r))
            .collect();
        let mut id_bytes = [0u8; 32];
        id_bytes[31] = (seed % 251) as u8 + 1;
        id_bytes[30] = 0x42;
        let id = ElectionId::from_bytes(&id_bytes).unwrap();
        let manifest = Manifest {
            election_id: id,
            title: format!("Test election {seed}"),
            contests: vec![Contest {
                title: "Chair".into(),
                options: vec!["A".into(), "B".into(), "C".into()],
                min_selections: 1,
                max_selections: 1,
            }],
            opens_at: NOW - 100,
            closes_at: NOW + 10_000,
            census_depth: DEPTH,
            trustees: (0..n as usize)
                .map(|i| Trustee {
                    name: format!("T{}", i + 1),
                    signing_key: trustee_signing[i].public_key(),
                    encryption_key: trustee_enc[i].public_key(),
                })
                .collect(),
            threshold: t,
            authority_key: authority.public_key(),
            board_key: board_key().public_key(),
            setup: urna_protocol::manifest::Setup::Keys {
                verifying_key_hash: groth16().vk.verifying_key_hash(),
                proving_key_hash: groth16().pk.proving_key_hash(),
            },
        };
        let voters: Vec<VoterSecret> = (0..voters).map(|_| VoterSecret::random(&mut r)).collect();
        let codes = (0..voters.len().max(1) + 2)
            .map(|_| RegistrationCode::random(&mut r))
            .collect();
        Election {
            manifest,
            id,
            authority,
            trustee_signing,
            trustee_enc,
            voters,
            codes,
        }
    }

    pub fn id_hex(&self) -> String {
        hex::encode(self.id.to_bytes())
    }

    pub fn signed(&self, payload: Payload, key: &SigningKey) -> Vec<u8> {
        BoardEntry::signed(self.id, payload, key)
            .unwrap()
            .to_canonical_bytes()
    }

    pub fn manifest_entry(&self) -> Vec<u8> {
        self.signed(Payload::Manifest(self.manifest.clone()), &self.authority)
    }

    pub fn dkg(&self) -> DkgContext {
        DkgContext::new(
            self.manifest.manifest_hash(),
            self.manifest.threshold,
            self.trustee_enc.iter().map(|k| k.public_key()).collect(),
        )
        .unwrap()
    }

    pub fn dealer_messages(&self) -> Vec<DealerMessage> {
        let ctx = self.dkg();
        let mut r = rng(77);
        (1..=self.trustee_enc.len() as u32)
            .map(|i| DealerMessage::deal(&ctx, i, &mut r).unwrap())
            .collect()
    }

    pub fn dealer_entry(&self, m: &DealerMessage) -> Vec<u8> {
        let i = m.dealer() as usize - 1;
        self.signed(Payload::Dealer(m.clone()), &self.trustee_signing[i])
    }

    pub fn outcome(&self) -> DkgOutcome {
        DkgOutcome::new(&self.dkg(), &self.dealer_messages(), &[]).unwrap()
    }

    pub fn public_key(&self) -> ElectionPublicKey {
        self.outcome().election_public_key()
    }

    pub fn codes_entry(&self) -> Vec<u8> {
        let hashes = self.codes.iter().map(|c| c.hash(&self.id)).collect();
        self.signed(Payload::RegistrationCodes(hashes), &self.authority)
    }

    pub fn registration_entry(&self, code: usize, voter: usize) -> Vec<u8> {
        BoardEntry::unsigned(
            self.id,
            Payload::Registration {
                code: *self.codes[code].expose_secret(),
                commitment: self.voters[voter].identity_commitment().unwrap(),
            },
        )
        .unwrap()
        .to_canonical_bytes()
    }

    pub fn census(&self) -> CensusTree {
        let leaves: Vec<_> = self
            .voters
            .iter()
            .map(|v| v.identity_commitment().unwrap())
            .collect();
        CensusTree::from_leaves(DEPTH, &leaves).unwrap()
    }

    pub fn freeze_entry(&self) -> Vec<u8> {
        let census = self.census();
        self.signed(
            Payload::CensusFrozen {
                root: census.root(),
                size: census.len(),
            },
            &self.authority,
        )
    }

    pub fn open_entry(&self, at: u64) -> Vec<u8> {
        self.signed(Payload::Open { at }, &self.authority)
    }

    pub fn close_entry(&self, at: u64) -> Vec<u8> {
        self.signed(Payload::Close { at }, &self.authority)
    }

    /// A cast ballot of `voter` (leaf `voter` of `census`) for option `choice`.
    pub fn ballot_in(&self, census: &CensusTree, voter: usize, choice: usize, seed: u64) -> Ballot {
        self.ballot_with(&groth16().pk, census, voter, choice, seed)
    }

    /// [`Election::ballot_in`], proved with proving key `pk`.
    pub fn ballot_with(
        &self,
        pk: &ProvingKey,
        census: &CensusTree,
        voter: usize,
        choice: usize,
        seed: u64,
    ) -> Ballot {
        let mut r = rng(seed);
        let root: CensusRoot = census.root();
        let nullifier = self.voters[voter].nullifier(&self.id).unwrap();
        let selections = vec![(0..3).map(|o| o == choice).collect::<Vec<bool>>()];
        let (enc, _) = encrypt_ballot(
            &self.manifest,
            &self.public_key(),
            root,
            nullifier,
            &selections,
            &mut r,
        )
        .unwrap();
        let statement = enc.eligibility_statement(&self.manifest.manifest_hash());
        let path = census.path(voter as u64).unwrap();
        let proof =
            urna_circuits::prove(pk, &self.voters[voter], &path, &statement, &mut r).unwrap();
        enc.attach_eligibility(proof)
    }

    pub fn ballot(&self, voter: usize, choice: usize, seed: u64) -> Ballot {
        self.ballot_in(&self.census(), voter, choice, seed)
    }

    /// A census with one more (unregistered) leaf: another root.
    pub fn other_census(&self) -> CensusTree {
        let mut census = self.census();
        census
            .insert(
                VoterSecret::random(&mut rng(999))
                    .identity_commitment()
                    .unwrap(),
            )
            .unwrap();
        census
    }

    pub fn ballot_entry(&self, b: &Ballot) -> Vec<u8> {
        BoardEntry::unsigned(self.id, Payload::Ballot(b.clone()))
            .unwrap()
            .to_canonical_bytes()
    }

    /// Trustee `j`'s shares of `aggregate`.
    pub fn shares_entry(&self, j: u32, aggregate: &Aggregate) -> Vec<u8> {
        let ctx = self.dkg();
        let msgs = self.dealer_messages();
        let outcome = DkgOutcome::new(&ctx, &msgs, &[]).unwrap();
        let secret = outcome
            .secret_share(&ctx, &msgs, j, &self.trustee_enc[j as usize - 1])
            .unwrap();
        let tctx = TallyContext::from_dkg(&ctx, &outcome);
        let shares = TrusteeShares::create(&tctx, &secret, aggregate, &mut rng(j as u64)).unwrap();
        self.signed(
            Payload::DecryptionShares(shares),
            &self.trustee_signing[j as usize - 1],
        )
    }
}

pub fn decode_aggregate(hex_bytes: &str) -> Aggregate {
    let bytes = hex::decode(hex_bytes).unwrap();
    let mut r = Reader::new(&bytes);
    let a = Aggregate::decode(&mut r).unwrap();
    r.finish().unwrap();
    a
}

/// A request through the router (no network).
pub async fn call(
    router: &Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let req = Request::builder().method(method).uri(uri);
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(&b).unwrap()))
            .unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

/// Posts an entry to `path`.
pub async fn post(router: &Router, path: &str, entry: &[u8]) -> (StatusCode, Value) {
    call(
        router,
        "POST",
        path,
        Some(json!({ "entry": hex::encode(entry) })),
    )
    .await
}

/// Asserts an error response with `code`.
#[track_caller]
pub fn assert_error(resp: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(resp.0, status, "body: {}", resp.1);
    assert_eq!(resp.1["error"], code, "body: {}", resp.1);
}
