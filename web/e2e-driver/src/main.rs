//! `urna-web-e2e-driver`: plays the election authority and the trustees against a real
//! `urna-server` for the web client's end-to-end tests (`scripts/web-e2e.sh`).
//!
//! **Test only, insecure by design**: every authority and trustee key is derived from
//! one seed kept in a state file, so any later step can re-derive them. Real elections
//! use the `urna` CLI.
//!
//! ```text
//! urna-web-e2e-driver SERVER STATE setup CODES [TITLE [ceremony]]
//!                                      # manifest, key ceremony, codes (JSON out); with
//!                                      # `ceremony`, a setup ceremony on the board instead
//!                                      # of the board's dev keys (PROTOCOL 14.10)
//! urna-web-e2e-driver SERVER STATE freeze|open|close|tally
//! ```

use anyhow::{anyhow, bail, Context as _, Result};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};
use sha2::Digest as _;
use urna_circuits::{CensusTree, ElectionId, IdentityCommitment};
use urna_protocol::board::{BoardEntry, Payload, RegistrationCode};
use urna_protocol::codec::{Canonical, Decode, Reader};
use urna_protocol::dkg::{DealerMessage, DkgContext, DkgOutcome};
use urna_protocol::encryption::EncryptionSecretKey;
use urna_protocol::manifest::{Contest, Manifest, Trustee};
use urna_protocol::signing::{PublicKey, SigningKey};
use urna_protocol::tally::{Aggregate, TallyContext, TrusteeShares};

const TRUSTEES: u32 = 2;

struct Client {
    base: String,
    http: reqwest::blocking::Client,
}

impl Client {
    fn get(&self, path: &str) -> Result<Value> {
        let resp = self.http.get(format!("{}{path}", self.base)).send()?;
        let status = resp.status();
        let body: Value = resp.json().with_context(|| format!("GET {path}"))?;
        if !status.is_success() {
            bail!("GET {path}: {status} {body}");
        }
        Ok(body)
    }

    fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        let resp = self.http.get(format!("{}{path}", self.base)).send()?;
        if !resp.status().is_success() {
            bail!("GET {path}: {}", resp.status());
        }
        Ok(resp.bytes()?.to_vec())
    }

    fn post(&self, path: &str, entry: &[u8]) -> Result<Value> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&json!({ "entry": hex::encode(entry) }))
            .send()?;
        let status = resp.status();
        let body: Value = resp.json().with_context(|| format!("POST {path}"))?;
        if !status.is_success() {
            bail!("POST {path}: {status} {body}");
        }
        Ok(body)
    }
}

/// Everything the election needs, re-derived from the seed.
struct Keys {
    authority: SigningKey,
    trustee_signing: Vec<SigningKey>,
    trustee_enc: Vec<EncryptionSecretKey>,
    id: ElectionId,
    rng: ChaCha20Rng,
}

fn keys(seed: u64) -> Result<Keys> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let authority = SigningKey::generate(&mut rng);
    let trustee_signing = (0..TRUSTEES)
        .map(|_| SigningKey::generate(&mut rng))
        .collect();
    let trustee_enc = (0..TRUSTEES)
        .map(|_| EncryptionSecretKey::generate(&mut rng))
        .collect();
    let mut id = [0u8; 32];
    rng.fill_bytes(&mut id[1..]);
    let id = ElectionId::from_bytes(&id).map_err(|e| anyhow!("{e}"))?;
    Ok(Keys {
        authority,
        trustee_signing,
        trustee_enc,
        id,
        rng,
    })
}

fn now() -> Result<u64> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs())
}

fn hex32(v: &Value) -> Result<[u8; 32]> {
    let s = v.as_str().ok_or_else(|| anyhow!("not a string: {v}"))?;
    hex::decode(s)?
        .try_into()
        .map_err(|_| anyhow!("not 32 bytes: {s}"))
}

fn signed(k: &Keys, payload: Payload, key: &SigningKey) -> Result<Vec<u8>> {
    Ok(BoardEntry::signed(k.id, payload, key)?.to_canonical_bytes())
}

struct State {
    seed: u64,
    manifest: Manifest,
}

fn load(client: &Client, path: &str) -> Result<(State, Keys)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let v: Value = serde_json::from_str(&text)?;
    let seed = v["seed"].as_u64().ok_or_else(|| anyhow!("no seed"))?;
    let k = keys(seed)?;
    let summary = client.get(&format!("/v1/elections/{}", hex::encode(k.id.to_bytes())))?;
    let index = summary["manifest_index"]
        .as_u64()
        .ok_or_else(|| anyhow!("no manifest index"))?;
    let entry = client.get(&format!("/v1/log/entries/{index}"))?;
    let bytes = hex::decode(entry["entry"].as_str().unwrap_or_default())?;
    let Payload::Manifest(manifest) = BoardEntry::from_canonical_bytes(&bytes)?.payload().clone()
    else {
        bail!("entry {index} is not a manifest");
    };
    Ok((State { seed, manifest }, k))
}

fn dkg(k: &mut Keys, manifest: &Manifest) -> Result<(DkgContext, Vec<DealerMessage>)> {
    let ctx = DkgContext::new(
        manifest.manifest_hash(),
        manifest.threshold,
        k.trustee_enc.iter().map(|t| t.public_key()).collect(),
    )?;
    let msgs = (1..=TRUSTEES)
        .map(|i| DealerMessage::deal(&ctx, i, &mut k.rng))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((ctx, msgs))
}

/// Runs the election's setup ceremony on the board (PROTOCOL 14.10): both trustees
/// contribute to phase 1, trustee 1 to phase 2, the authority closes each phase with a
/// beacon; returns the keys the board's `setup-keys` entry names.
fn ceremony(client: &Client, k: &Keys) -> Result<()> {
    let id = hex::encode(k.id.to_bytes());
    let state = |client: &Client| -> Result<urna_ceremony::ContributionState> {
        let bytes = client.get_bytes(&format!("/v1/elections/{id}/setup/state"))?;
        Ok(urna_ceremony::ContributionState::from_bytes(&bytes)?)
    };
    let post = |phase: u8, contributor: u32, data: Vec<u8>, key: &SigningKey| -> Result<()> {
        let c = urna_protocol::board::SetupContribution { contributor, data };
        let payload = if phase == 1 {
            Payload::SetupPhase1(c)
        } else {
            Payload::SetupPhase2(c)
        };
        client.post(
            &format!("/v1/elections/{id}/setup/phase{phase}"),
            &signed(k, payload, key)?,
        )?;
        Ok(())
    };
    let mut rng = rand::rngs::OsRng;
    for (phase, trustees) in [(1u8, TRUSTEES), (2, 1)] {
        for t in 0..trustees {
            let (data, _) = state(client)?.contribute(&mut rng)?;
            post(phase, t + 1, data, &k.trustee_signing[t as usize])?;
        }
        // The beacon value: the hash of the board's latest signed checkpoint, which
        // covers the phase's last contribution.
        let checkpoint = client.get_bytes("/v1/log/checkpoint")?;
        let value: [u8; 32] = sha2::Sha256::digest(&checkpoint).into();
        let beacon = urna_ceremony::Beacon::new(&value, 10)?;
        let (data, _) = state(client)?.contribute_beacon(&beacon)?;
        post(phase, 0, data, &k.authority)?;
    }
    Ok(())
}

fn setup(
    client: &Client,
    path: &str,
    codes: usize,
    title: &str,
    with_ceremony: bool,
) -> Result<()> {
    let seed = u64::from_le_bytes(rand::random::<[u8; 8]>());
    let mut k = keys(seed)?;
    let board = client.get("/v1/board")?;
    let board_key = PublicKey::from_bytes(&hex32(&board["public_key"])?)?;
    // The first verifying key with a proving key: its depth is the key's byte 8.
    let mut chosen = None;
    for h in board["verifying_keys"].as_array().into_iter().flatten() {
        let hash = h.as_str().unwrap_or_default();
        if let Ok(pk) = client.get_bytes(&format!("/v1/keys/{hash}/proving-key")) {
            let depth = u32::from(*pk.get(8).ok_or_else(|| anyhow!("short proving key"))?);
            let pk_hash: [u8; 32] = sha2::Sha256::digest(&pk).into();
            chosen = Some((hex32(h)?, pk_hash, depth));
            break;
        }
    }
    let (vk_hash, pk_hash, depth) =
        chosen.ok_or_else(|| anyhow!("the board serves no proving key"))?;
    let t = now()?;
    let manifest = Manifest {
        election_id: k.id,
        title: title.into(),
        contests: vec![
            Contest {
                title: "Chair".into(),
                options: vec!["Ada".into(), "Grace".into(), "Barbara".into()],
                min_selections: 1,
                max_selections: 1,
            },
            Contest {
                title: "Proposals".into(),
                options: vec!["Longer library hours".into(), "Bike racks".into()],
                min_selections: 0,
                max_selections: 2,
            },
        ],
        opens_at: t - 60,
        closes_at: t + 24 * 3600,
        census_depth: depth,
        trustees: (0..TRUSTEES as usize)
            .map(|i| Trustee {
                name: format!("Trustee {}", i + 1),
                signing_key: k.trustee_signing[i].public_key(),
                encryption_key: k.trustee_enc[i].public_key(),
            })
            .collect(),
        threshold: TRUSTEES,
        authority_key: k.authority.public_key(),
        board_key,
        setup: if with_ceremony {
            urna_protocol::manifest::Setup::Ceremony {
                contributors: Vec::new(),
            }
        } else {
            urna_protocol::manifest::Setup::Keys {
                verifying_key_hash: vk_hash,
                proving_key_hash: pk_hash,
            }
        },
    };
    let id = hex::encode(k.id.to_bytes());
    client.post(
        "/v1/elections",
        &signed(&k, Payload::Manifest(manifest.clone()), &k.authority)?,
    )?;
    if with_ceremony {
        ceremony(client, &k)?;
    }
    let (_, msgs) = dkg(&mut k, &manifest)?;
    for m in &msgs {
        let i = m.dealer() as usize - 1;
        let entry = signed(&k, Payload::Dealer(m.clone()), &k.trustee_signing[i])?;
        client.post(&format!("/v1/elections/{id}/dealers"), &entry)?;
    }
    let mut code_rng = ChaCha20Rng::seed_from_u64(seed ^ 0xc0de);
    let codes: Vec<RegistrationCode> = (0..codes)
        .map(|_| RegistrationCode::random(&mut code_rng))
        .collect();
    let hashes = codes.iter().map(|c| c.hash(&k.id)).collect();
    client.post(
        &format!("/v1/elections/{id}/registration-codes"),
        &signed(&k, Payload::RegistrationCodes(hashes), &k.authority)?,
    )?;
    std::fs::write(path, json!({ "seed": seed, "election_id": id }).to_string())?;
    let code_text: Vec<String> = codes
        .iter()
        .map(|c| {
            let h = hex::encode(c.expose_secret());
            format!("{}-{}-{}-{}", &h[..8], &h[8..16], &h[16..24], &h[24..])
        })
        .collect();
    println!(
        "{}",
        json!({ "election_id": id, "depth": depth, "codes": code_text })
    );
    Ok(())
}

fn freeze(client: &Client, s: &State, k: &Keys) -> Result<()> {
    let id = hex::encode(k.id.to_bytes());
    let mut leaves = Vec::new();
    let mut start = 0u64;
    loop {
        let page = client.get(&format!(
            "/v1/elections/{id}/census?start={start}&limit=10000"
        ))?;
        for l in page["leaves"].as_array().into_iter().flatten() {
            leaves.push(IdentityCommitment::from_bytes(&hex32(l)?)?);
        }
        match page["next"].as_u64() {
            Some(n) => start = n,
            None => break,
        }
    }
    let tree = CensusTree::from_leaves(s.manifest.census_depth, &leaves)?;
    let entry = signed(
        k,
        Payload::CensusFrozen {
            root: tree.root(),
            size: tree.len(),
        },
        &k.authority,
    )?;
    client.post(&format!("/v1/elections/{id}/census/freeze"), &entry)?;
    println!("{}", json!({ "frozen": tree.len() }));
    Ok(())
}

fn tally(client: &Client, s: &State, k: &mut Keys) -> Result<()> {
    let id = hex::encode(k.id.to_bytes());
    let agg = client.get(&format!("/v1/elections/{id}/aggregate"))?;
    let bytes = hex::decode(agg["aggregate"].as_str().unwrap_or_default())?;
    let mut r = Reader::new(&bytes);
    let aggregate = Aggregate::decode(&mut r)?;
    r.finish()?;
    let (ctx, msgs) = dkg(k, &s.manifest)?;
    let outcome = DkgOutcome::new(&ctx, &msgs, &[])?;
    let tctx = TallyContext::from_dkg(&ctx, &outcome);
    let mut rng = ChaCha20Rng::seed_from_u64(s.seed ^ 0x7a11);
    for j in 1..=TRUSTEES {
        let secret = outcome.secret_share(&ctx, &msgs, j, &k.trustee_enc[j as usize - 1])?;
        let shares = TrusteeShares::create(&tctx, &secret, &aggregate, &mut rng)?;
        let entry = signed(
            k,
            Payload::DecryptionShares(shares),
            &k.trustee_signing[j as usize - 1],
        )?;
        client.post(&format!("/v1/elections/{id}/shares"), &entry)?;
    }
    println!("{}", json!({ "tallied": aggregate.ballots() }));
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: urna-web-e2e-driver SERVER STATE (setup CODES [TITLE [ceremony]] | freeze | open | close | tally)";
    let (Some(server), Some(state), Some(cmd)) = (args.get(1), args.get(2), args.get(3)) else {
        bail!(usage);
    };
    let client = Client {
        base: server.trim_end_matches('/').to_owned(),
        http: reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(120))
            .build()?,
    };
    if cmd == "setup" {
        let codes = args
            .get(4)
            .ok_or_else(|| anyhow!(usage))?
            .parse()
            .context("CODES")?;
        let title = args.get(5).map_or("Student council 2026", String::as_str);
        let with_ceremony = match args.get(6).map(String::as_str) {
            None => false,
            Some("ceremony") => true,
            Some(other) => bail!("unknown setup option {other}; {usage}"),
        };
        return setup(&client, state, codes, title, with_ceremony);
    }
    let (s, mut k) = load(&client, state)?;
    let id = hex::encode(k.id.to_bytes());
    match cmd.as_str() {
        "freeze" => freeze(&client, &s, &k),
        "open" => {
            let entry = signed(&k, Payload::Open { at: now()? }, &k.authority)?;
            client.post(&format!("/v1/elections/{id}/open"), &entry)?;
            println!("{}", json!({ "opened": true }));
            Ok(())
        }
        "close" => {
            let entry = signed(&k, Payload::Close { at: now()? }, &k.authority)?;
            client.post(&format!("/v1/elections/{id}/close"), &entry)?;
            println!("{}", json!({ "closed": true }));
            Ok(())
        }
        "tally" => tally(&client, &s, &mut k),
        other => bail!("unknown command {other}; {usage}"),
    }
}
