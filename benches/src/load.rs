//! `urna-bench load`: drives a running `urna-server` over HTTP with the stored election.
//!
//! 1. **Set-up** (skipped if the election is already open on the board): every entry of
//!    `setup.ndjson` is posted in order, one at a time (the census root the ballots were
//!    made for depends on the order of the registrations), then an open entry signed
//!    now by the benchmark's authority key.
//! 2. **Ballots**: the lines of `ballots.ndjson` are posted by `C` concurrent workers,
//!    closed loop (each worker sends its next ballot when the previous one is answered),
//!    or open loop at `--rate` ballots a second, where a ballot's latency counts from
//!    its scheduled send time (no coordinated omission). A 503 `overloaded` or a 429 is
//!    retried after its `Retry-After` (at most `--retries` times); the latency then
//!    includes the waiting.
//! 3. Optionally **close** (close entry, then two trustees' decryption shares; the board
//!    appends the tally) and **export** the election to a file for `urna-bench recount`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, ensure, Context as _, Result};
use rand::rngs::OsRng;
use serde::Serialize;
use serde_json::Value;
use tokio::io::AsyncBufReadExt as _;
use tokio::io::AsyncWriteExt as _;
use urna_protocol::board::{BoardEntry, Payload};
use urna_protocol::codec::{Canonical as _, Decode as _, Reader};
use urna_protocol::dkg::{DkgContext, DkgOutcome};
use urna_protocol::tally::{Aggregate, TallyContext, TrusteeShares};

use crate::data::{Layout, Meta, Secrets, SetupLine};

/// Options of `load`.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The board's base URL (`http://127.0.0.1:8080`).
    pub url: String,
    /// The data directory of `gen`.
    pub data: PathBuf,
    /// Concurrent connections.
    pub concurrency: usize,
    /// Send only the first this many ballots.
    pub limit: Option<u64>,
    /// Open loop: ballots per second offered (closed loop without it).
    pub rate: Option<f64>,
    /// Retries of a ballot answered 503 or 429.
    pub retries: u32,
    /// Close the election and post the trustees' shares afterwards.
    pub close: bool,
    /// Download the election's export to this file afterwards.
    pub export: Option<PathBuf>,
    /// Print progress to stderr.
    pub progress: bool,
}

/// Latency percentiles, in milliseconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
    /// Mean.
    pub mean_ms: f64,
}

impl Latency {
    fn of(mut micros: Vec<u64>) -> Self {
        if micros.is_empty() {
            return Self::default();
        }
        micros.sort_unstable();
        let q = |p: f64| {
            let rank = ((p * micros.len() as f64).ceil() as usize).clamp(1, micros.len());
            micros[rank - 1] as f64 / 1000.0
        };
        let sum: u128 = micros.iter().map(|&m| u128::from(m)).sum();
        Self {
            p50_ms: q(0.50),
            p90_ms: q(0.90),
            p99_ms: q(0.99),
            max_ms: q(1.0),
            mean_ms: sum as f64 / micros.len() as f64 / 1000.0,
        }
    }
}

/// The set-up phase.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SetupReport {
    /// Entries posted (set-up and open).
    pub entries: u64,
    /// Of which registrations.
    pub registrations: u64,
    /// Seconds for all of it.
    pub seconds: f64,
    /// Seconds for the registrations alone (one at a time).
    pub registration_seconds: f64,
}

/// The ballot phase.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BallotReport {
    /// Ballots sent.
    pub sent: u64,
    /// Answered 201 (appended).
    pub accepted: u64,
    /// Answered 200 (replayed).
    pub replayed: u64,
    /// Final errors by API error code (or HTTP status / transport error).
    pub errors: BTreeMap<String, u64>,
    /// 503/429 answers that were retried.
    pub retried: u64,
    /// Wall-clock seconds from the first send to the last answer.
    pub seconds: f64,
    /// Accepted ballots a second.
    pub accepted_per_second: f64,
    /// Latency of the accepted ballots.
    pub latency: Latency,
}

/// The close, shares and tally phase.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CloseReport {
    /// Ballots in the aggregate.
    pub aggregate_ballots: u64,
    /// Whether the board appended the tally.
    pub tally_posted: bool,
    /// Seconds.
    pub seconds: f64,
}

/// The export download.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ExportReport {
    /// File written.
    pub file: String,
    /// Bytes.
    pub bytes: u64,
    /// Seconds.
    pub seconds: f64,
}

/// What `load` measured.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LoadReport {
    /// Board URL.
    pub url: String,
    /// Election id.
    pub election_id: String,
    /// Concurrent connections.
    pub concurrency: usize,
    /// Offered rate (open loop), if any.
    pub rate: Option<f64>,
    /// Whether the stored eligibility proofs are simulated (benchmark-only forgeries).
    pub simulated_proofs: bool,
    /// Set-up, if it ran.
    pub setup: Option<SetupReport>,
    /// Ballots.
    pub ballots: BallotReport,
    /// Close, if it ran.
    pub close: Option<CloseReport>,
    /// Export, if it ran.
    pub export: Option<ExportReport>,
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "board {} election {}", self.url, self.election_id)?;
        if let Some(s) = &self.setup {
            writeln!(
                f,
                "setup: {} entries in {:.2} s; {} registrations one at a time in {:.2} s ({:.0}/s)",
                s.entries,
                s.seconds,
                s.registrations,
                s.registration_seconds,
                s.registrations as f64 / s.registration_seconds.max(1e-9)
            )?;
        }
        let b = &self.ballots;
        writeln!(
            f,
            "ballots: {} sent with {} connections{}{}: {} accepted, {} replayed, {} retried (503/429)",
            b.sent,
            self.concurrency,
            self.rate
                .map(|r| format!(", offered {r:.0}/s"))
                .unwrap_or_default(),
            if self.simulated_proofs {
                " (simulated eligibility proofs)"
            } else {
                ""
            },
            b.accepted,
            b.replayed,
            b.retried
        )?;
        writeln!(
            f,
            "  {:.0} accepted ballots/s over {:.2} s; latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            b.accepted_per_second,
            b.seconds,
            b.latency.p50_ms,
            b.latency.p90_ms,
            b.latency.p99_ms,
            b.latency.max_ms
        )?;
        if b.errors.is_empty() {
            writeln!(f, "  errors: none")?;
        } else {
            for (code, n) in &b.errors {
                writeln!(f, "  error {code}: {n}")?;
            }
        }
        if let Some(c) = &self.close {
            writeln!(
                f,
                "close: aggregate of {} ballots, tally posted: {}, {:.2} s",
                c.aggregate_ballots, c.tally_posted, c.seconds
            )?;
        }
        if let Some(e) = &self.export {
            writeln!(
                f,
                "export: {} bytes to {} in {:.2} s",
                e.bytes, e.file, e.seconds
            )?;
        }
        Ok(())
    }
}

fn now() -> Result<u64> {
    Ok(SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| anyhow!("the clock is before 1970"))?
        .as_secs())
}

fn json_body(entry: &[u8]) -> String {
    format!("{{\"entry\":\"{}\"}}", hex::encode(entry))
}

/// Outcome of one POST.
enum Answer {
    Appended(Value),
    Replayed,
    Retry(Duration),
    Error(String),
}

async fn post(client: &reqwest::Client, url: &str, body: String) -> Answer {
    let resp = match client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => {
            return Answer::Error(if e.is_timeout() {
                "transport: timeout".into()
            } else if e.is_connect() {
                "transport: connect".into()
            } else {
                "transport: other".into()
            })
        }
    };
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse::<f64>().ok());
    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(_) => return Answer::Error("transport: body".into()),
    };
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    match status.as_u16() {
        201 => Answer::Appended(value),
        200 if value["replayed"] == Value::Bool(true) => Answer::Replayed,
        503 | 429 => Answer::Retry(Duration::from_secs_f64(
            retry_after.unwrap_or(0.05).clamp(0.01, 1.0),
        )),
        s => Answer::Error(match value["error"].as_str() {
            Some(code) => code.to_owned(),
            None => format!("http {s}"),
        }),
    }
}

/// Posts one set-up entry and demands 201.
async fn post_setup(client: &reqwest::Client, url: &str, body: String) -> Result<Value> {
    loop {
        match post(client, url, body.clone()).await {
            Answer::Appended(v) => return Ok(v),
            Answer::Retry(d) => tokio::time::sleep(d).await,
            Answer::Replayed => bail!("{url}: unexpected replay"),
            Answer::Error(code) => bail!("{url}: the board answered {code}"),
        }
    }
}

async fn get_json(client: &reqwest::Client, url: &str) -> Result<(u16, Value)> {
    let resp = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = resp.status().as_u16();
    let value = resp.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, value))
}

fn decode_entry(hex_entry: &str) -> Result<BoardEntry> {
    let bytes = hex::decode(hex_entry).context("entry is not hex")?;
    BoardEntry::from_canonical_bytes(&bytes).map_err(|e| anyhow!("entry: {e}"))
}

/// The run's context.
struct Ctx {
    client: reqwest::Client,
    base: String,
    layout: Layout,
    meta: Meta,
    secrets: Secrets,
}

impl Ctx {
    fn election_url(&self, rest: &str) -> String {
        format!("{}/v1/elections/{}{rest}", self.base, self.meta.election_id)
    }
}

/// Runs `load`.
pub async fn run(opts: &LoadOptions) -> Result<LoadReport> {
    ensure!(
        (1..=4096).contains(&opts.concurrency),
        "-c must be between 1 and 4096"
    );
    if let Some(r) = opts.rate {
        ensure!(r > 0.0 && r.is_finite(), "--rate must be positive");
    }
    let layout = Layout::new(&opts.data);
    let meta = layout.read_meta()?;
    let secrets = layout.read_secrets()?;
    // reqwest is built without a rustls provider (the workspace picks ring, which ureq
    // already builds): install it once per process before the first client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(opts.concurrency)
        .timeout(Duration::from_secs(120))
        .build()
        .context("HTTP client")?;
    let ctx = Ctx {
        client,
        base: opts.url.trim_end_matches('/').to_owned(),
        layout,
        meta,
        secrets,
    };
    let mut report = LoadReport {
        url: ctx.base.clone(),
        election_id: ctx.meta.election_id.clone(),
        concurrency: opts.concurrency,
        rate: opts.rate,
        simulated_proofs: ctx.meta.simulated_proofs,
        ..LoadReport::default()
    };

    // The board must be the one the election was made for.
    let board_key = urna_server::keys::BoardKey::load(&ctx.layout.board_key())
        .map_err(|e| anyhow!("board key: {e}"))?;
    let (status, board) = get_json(&ctx.client, &format!("{}/v1/board", ctx.base)).await?;
    ensure!(status == 200, "GET /v1/board answered {status}");
    ensure!(
        board["public_key"].as_str()
            == Some(hex::encode(board_key.public_key().to_bytes()).as_str()),
        "the board at {} does not use this data directory's key: start urna-server with \
         --board-key {} --keys-dir {}",
        ctx.base,
        ctx.layout.board_key().display(),
        ctx.layout.keys().display()
    );

    let (status, summary) = get_json(&ctx.client, &ctx.election_url("")).await?;
    match (status, summary["phase"].as_str()) {
        (404, _) => report.setup = Some(setup(&ctx, opts.progress).await?),
        (200, Some("open")) => {}
        (200, phase) => bail!(
            "the election is already on this board in phase {}; use a fresh database",
            phase.unwrap_or("?")
        ),
        (s, _) => bail!("GET election answered {s}"),
    }

    report.ballots = ballots(&ctx, opts).await?;

    if opts.close {
        report.close = Some(close(&ctx).await?);
    }
    if let Some(file) = &opts.export {
        report.export = Some(export(&ctx, file).await?);
    }
    Ok(report)
}

async fn setup(ctx: &Ctx, progress: bool) -> Result<SetupReport> {
    let t0 = Instant::now();
    let path = ctx.layout.setup();
    let file = tokio::fs::File::open(&path)
        .await
        .with_context(|| format!("cannot open {}", path.display()))?;
    let mut lines = tokio::io::BufReader::new(file).lines();
    let mut report = SetupReport::default();
    let mut reg_time = Duration::ZERO;
    while let Some(line) = lines.next_line().await? {
        let SetupLine { path, entry } =
            serde_json::from_str(&line).context("setup.ndjson: bad line")?;
        let url = format!("{}{path}", ctx.base);
        let is_registration = path.ends_with("/registrations");
        let t = Instant::now();
        post_setup(&ctx.client, &url, format!("{{\"entry\":\"{entry}\"}}")).await?;
        if is_registration {
            reg_time += t.elapsed();
            report.registrations += 1;
            if progress && report.registrations % 10_000 == 0 {
                eprintln!("  {} registrations", report.registrations);
            }
        }
        report.entries += 1;
    }
    let authority = ctx.secrets.authority()?;
    let id = urna_circuits::ElectionId::from_slice(
        &hex::decode(&ctx.meta.election_id).context("election id")?,
    )
    .map_err(|e| anyhow!("election id: {e}"))?;
    let open = BoardEntry::signed(id, Payload::Open { at: now()? }, &authority)
        .map_err(|e| anyhow!("open entry: {e}"))?;
    post_setup(
        &ctx.client,
        &ctx.election_url("/open"),
        json_body(&open.to_canonical_bytes()),
    )
    .await?;
    report.entries += 1;
    report.seconds = t0.elapsed().as_secs_f64();
    report.registration_seconds = reg_time.as_secs_f64();
    Ok(report)
}

/// Per-worker tallies.
#[derive(Default)]
struct WorkerStats {
    latencies: Vec<u64>,
    accepted: u64,
    replayed: u64,
    retried: u64,
    errors: BTreeMap<String, u64>,
}

async fn ballots(ctx: &Ctx, opts: &LoadOptions) -> Result<BallotReport> {
    // A reader thread streams the ballots into a bounded queue.
    let path = ctx.layout.ballots();
    let limit = opts.limit.unwrap_or(u64::MAX);
    let (tx, rx) = tokio::sync::mpsc::channel::<(u64, String)>(opts.concurrency * 4);
    let reader = tokio::task::spawn_blocking(move || -> Result<u64> {
        use std::io::BufRead as _;
        let file = std::fs::File::open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let mut n = 0u64;
        for line in std::io::BufReader::with_capacity(1 << 20, file).lines() {
            if n >= limit {
                break;
            }
            let line = line.context("ballots.ndjson")?;
            if tx.blocking_send((n, line)).is_err() {
                break;
            }
            n += 1;
        }
        Ok(n)
    });
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let url = Arc::new(ctx.election_url("/ballots"));
    let done = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let ticker = opts.progress.then(|| {
        let done = done.clone();
        tokio::spawn(async move {
            let mut last = 0;
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                let d = done.load(Ordering::Relaxed);
                eprintln!(
                    "  {d} ballots answered, {:.0}/s in the last 5 s",
                    (d - last) as f64 / 5.0
                );
                last = d;
            }
        })
    });
    let mut workers = Vec::with_capacity(opts.concurrency);
    for _ in 0..opts.concurrency {
        let rx = rx.clone();
        let client = ctx.client.clone();
        let url = url.clone();
        let done = done.clone();
        let rate = opts.rate;
        let retries = opts.retries;
        workers.push(tokio::spawn(async move {
            let mut s = WorkerStats::default();
            loop {
                let next = rx.lock().await.recv().await;
                let Some((k, body)) = next else { break };
                // Open loop: ballot k is due at t0 + k / rate; latency counts from then.
                let start = match rate {
                    Some(r) => {
                        let due = t0 + Duration::from_secs_f64(k as f64 / r);
                        tokio::time::sleep_until(due.into()).await;
                        due
                    }
                    None => Instant::now(),
                };
                let mut attempt = 0;
                loop {
                    match post(&client, &url, body.clone()).await {
                        Answer::Appended(_) => {
                            s.accepted += 1;
                            s.latencies.push(start.elapsed().as_micros() as u64);
                        }
                        Answer::Replayed => s.replayed += 1,
                        Answer::Retry(d) if attempt < retries => {
                            attempt += 1;
                            s.retried += 1;
                            tokio::time::sleep(d).await;
                            continue;
                        }
                        Answer::Retry(_) => {
                            *s.errors
                                .entry("overloaded (retries exhausted)".into())
                                .or_default() += 1
                        }
                        Answer::Error(code) => *s.errors.entry(code).or_default() += 1,
                    }
                    break;
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            s
        }));
    }
    let mut report = BallotReport::default();
    let mut latencies = Vec::new();
    for w in workers {
        let s = w.await.map_err(|e| anyhow!("worker: {e}"))?;
        report.accepted += s.accepted;
        report.replayed += s.replayed;
        report.retried += s.retried;
        for (code, n) in s.errors {
            *report.errors.entry(code).or_default() += n;
        }
        latencies.extend(s.latencies);
    }
    report.seconds = t0.elapsed().as_secs_f64();
    if let Some(t) = ticker {
        t.abort();
    }
    report.sent = reader.await.map_err(|e| anyhow!("reader: {e}"))??;
    report.accepted_per_second = report.accepted as f64 / report.seconds.max(1e-9);
    report.latency = Latency::of(latencies);
    Ok(report)
}

async fn close(ctx: &Ctx) -> Result<CloseReport> {
    let t0 = Instant::now();
    // The manifest and dealer messages, from the stored set-up entries.
    let text = tokio::fs::read_to_string(ctx.layout.setup()).await?;
    let mut manifest = None;
    let mut messages = Vec::new();
    for line in text.lines() {
        let l: SetupLine = serde_json::from_str(line)?;
        if l.path.ends_with("/registrations") {
            break; // nothing of the key ceremony after this
        }
        match decode_entry(&l.entry)?.payload() {
            Payload::Manifest(m) => manifest = Some(m.clone()),
            Payload::Dealer(d) => messages.push(d.clone()),
            _ => {}
        }
    }
    let manifest = manifest.ok_or_else(|| anyhow!("setup.ndjson has no manifest"))?;
    let id = manifest.election_id;
    let authority = ctx.secrets.authority()?;
    let close = BoardEntry::signed(id, Payload::Close { at: now()? }, &authority)
        .map_err(|e| anyhow!("close entry: {e}"))?;
    post_setup(
        &ctx.client,
        &ctx.election_url("/close"),
        json_body(&close.to_canonical_bytes()),
    )
    .await?;

    // The board sums every counted ballot on the first request: minutes for a million
    // ballots, so this request gets a long timeout of its own.
    let resp = ctx
        .client
        .get(ctx.election_url("/aggregate"))
        .timeout(Duration::from_secs(3600))
        .send()
        .await
        .context("GET aggregate")?;
    let status = resp.status().as_u16();
    let agg = resp.json::<Value>().await.unwrap_or(Value::Null);
    ensure!(status == 200, "GET aggregate answered {status}");
    let agg_bytes = hex::decode(agg["aggregate"].as_str().unwrap_or_default())
        .context("aggregate is not hex")?;
    let mut r = Reader::new(&agg_bytes);
    let aggregate = Aggregate::decode(&mut r).map_err(|e| anyhow!("aggregate: {e}"))?;
    r.finish().map_err(|e| anyhow!("aggregate: {e}"))?;

    let dkg = DkgContext::new(
        manifest.manifest_hash(),
        manifest.threshold,
        manifest.trustees.iter().map(|t| t.encryption_key).collect(),
    )
    .map_err(|e| anyhow!("key ceremony: {e}"))?;
    let outcome =
        DkgOutcome::new(&dkg, &messages, &[]).map_err(|e| anyhow!("key ceremony: {e}"))?;
    let tctx = TallyContext::from_dkg(&dkg, &outcome);
    let mut tally_posted = false;
    for j in 1..=manifest.threshold {
        let enc = ctx.secrets.trustee_encryption(j)?;
        let secret = outcome
            .secret_share(&dkg, &messages, j, &enc)
            .map_err(|e| anyhow!("trustee {j}'s share: {e}"))?;
        let shares = TrusteeShares::create(&tctx, &secret, &aggregate, &mut OsRng)
            .map_err(|e| anyhow!("trustee {j}'s decryption shares: {e}"))?;
        let entry = BoardEntry::signed(
            id,
            Payload::DecryptionShares(shares),
            &ctx.secrets.trustee_signing(j)?,
        )
        .map_err(|e| anyhow!("shares entry: {e}"))?;
        let answer = post_setup(
            &ctx.client,
            &ctx.election_url("/shares"),
            json_body(&entry.to_canonical_bytes()),
        )
        .await?;
        tally_posted |= answer["appended_by_board"]
            .as_array()
            .is_some_and(|a| !a.is_empty());
    }
    Ok(CloseReport {
        aggregate_ballots: agg["ballots"].as_u64().unwrap_or(0),
        tally_posted,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

async fn export(ctx: &Ctx, file: &std::path::Path) -> Result<ExportReport> {
    let t0 = Instant::now();
    let mut resp = ctx
        .client
        .get(ctx.election_url("/export"))
        .timeout(Duration::from_secs(24 * 3600))
        .send()
        .await
        .context("GET export")?;
    ensure!(
        resp.status().is_success(),
        "GET export answered {}",
        resp.status()
    );
    let mut out = tokio::io::BufWriter::new(
        tokio::fs::File::create(file)
            .await
            .with_context(|| format!("cannot create {}", file.display()))?,
    );
    let mut bytes = 0u64;
    while let Some(chunk) = resp.chunk().await.context("export body")? {
        out.write_all(&chunk).await?;
        bytes += chunk.len() as u64;
    }
    out.flush().await?;
    Ok(ExportReport {
        file: file.display().to_string(),
        bytes,
        seconds: t0.elapsed().as_secs_f64(),
    })
}
