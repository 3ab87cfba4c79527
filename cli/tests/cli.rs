//! The `urna` binary as a person runs it: `urna demo` (with fixed keys, and with the setup
//! ceremony), a role-by-role election against a board started in the test, and a setup
//! ceremony through `urna ceremony`, with the mistakes people make and the messages they
//! get.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const DEPTH: u32 = 4;

fn urna(server: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_urna"))
        .arg("--server")
        .arg(server)
        .args(args)
        .env_remove("URNA_ELECTION")
        .env_remove("URNA_SERVER")
        .env_remove("URNA_AUTHORITY_KEY")
        .env_remove("URNA_TRUSTEE_DIR")
        .env_remove("URNA_PROVING_KEY")
        .output()
        .expect("run urna")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[track_caller]
fn ok(server: &str, args: &[&str]) -> String {
    let o = urna(server, args);
    assert!(o.status.success(), "urna {args:?} failed:\n{}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[track_caller]
fn fails(server: &str, args: &[&str], message: &str) {
    let o = urna(server, args);
    assert!(
        !o.status.success(),
        "urna {args:?} succeeded:\n{}",
        text(&o)
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(message),
        "urna {args:?}: expected {message:?} in:\n{}",
        text(&o)
    );
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn demo_runs_a_whole_election_and_verifies_it() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let out = ok(
        "http://127.0.0.1:1",
        &[
            "demo",
            "--fixed-keys",
            "--voters",
            "6",
            "--depth",
            &DEPTH.to_string(),
            "--dir",
            demo.to_str().unwrap(),
        ],
    );
    assert!(out.contains("[1/9] starting an embedded board"), "{out}");
    assert!(out.contains("INSECURE single-party Groth16 keys"), "{out}");
    assert!(out.contains("6 ballots counted"), "{out}");
    assert!(
        out.contains("equal to the count of the voters' last choices"),
        "{out}"
    );
    assert!(out.contains("board.ndjson"), "{out}");
    assert!(demo.join("board.ndjson").is_file());
    assert!(demo.join("board").join("board.sqlite3").is_file());
    #[cfg(unix)]
    {
        assert_eq!(mode(&demo.join("authority").join("authority.key")), 0o600);
        assert_eq!(mode(&demo.join("trustees").join("trustee-1")), 0o700);
        assert_eq!(
            mode(&demo.join("trustees").join("trustee-1").join("trustee.key")),
            0o600
        );
        assert_eq!(mode(&demo.join("voters").join("voter-1.credential")), 0o600);
    }
    // A second demo into the same directory is refused, not mixed in.
    fails(
        "http://127.0.0.1:1",
        &[
            "demo",
            "--voters",
            "1",
            "--depth",
            "2",
            "--dir",
            demo.to_str().unwrap(),
        ],
        "is not empty",
    );
}

/// The demo with its default setup ceremony: every step up to the verifier's recount.
#[test]
fn demo_runs_the_setup_ceremony() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let o = urna(
        "http://127.0.0.1:1",
        &[
            "demo",
            "--voters",
            "3",
            "--depth",
            &DEPTH.to_string(),
            "--dir",
            demo.to_str().unwrap(),
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let all = text(&o);
    assert!(
        out.contains("[3/10] Groth16 setup ceremony on the board at census depth 4"),
        "{all}"
    );
    for phase in 1..=2 {
        for t in 1..=3 {
            assert!(
                out.contains(&format!("phase {phase}: Trustee {t} contributed")),
                "{all}"
            );
        }
        assert!(
            out.contains(&format!("phase {phase}: closed by the authority's beacon")),
            "{all}"
        );
    }
    assert!(
        out.contains("beacon value: ") && out.contains("root of the board's signed checkpoint"),
        "{all}"
    );
    assert!(
        out.contains("keys fixed by the board's setup-keys entry"),
        "{all}"
    );
    assert!(out.contains("proving key downloaded"), "{all}");
    assert!(out.contains("3 ballots counted"), "{all}");
    assert!(
        out.contains("equal to the count of the voters' last choices"),
        "{all}"
    );
    assert!(out.contains("[10/10] board exported and verified"), "{all}");
    let manifest = std::fs::read_to_string(demo.join("election.toml")).unwrap();
    assert!(manifest.contains("mode = \"ceremony\""), "{manifest}");
    assert!(!demo.join("board").join("keys").exists());
    if !o.status.success() {
        // The verifier learns the ceremony on another branch; until then it refuses every
        // ceremony board, and that recount is the only step allowed to fail here.
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains("error: the verifier rejected the board"),
            "{all}"
        );
    }
}

/// A board on 127.0.0.1 with single-party (insecure) keys at [`DEPTH`], in this process.
struct Board {
    url: String,
    data: PathBuf,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

/// A proxy in front of a board that can lie the way a dishonest or stale board would.
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    /// Flip a byte of every proving key served.
    tamper_proving_key: AtomicBool,
    /// Serve the first ceremony state seen again and again.
    freeze_state: AtomicBool,
    frozen: Mutex<Option<Vec<u8>>>,
}

async fn forward(
    axum::extract::State(p): axum::extract::State<Arc<Proxy>>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap();
    let path = req
        .uri()
        .path_and_query()
        .map(|x| x.as_str().to_owned())
        .unwrap_or_default();
    let content_type = req
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(req.into_body(), usize::MAX)
        .await
        .unwrap();
    let state = path.ends_with("/setup/state");
    if state && p.freeze_state.load(Ordering::SeqCst) {
        if let Some(saved) = p.frozen.lock().unwrap().clone() {
            return axum::response::Response::builder()
                .status(200)
                .header("content-type", "application/octet-stream")
                .body(axum::body::Body::from(saved))
                .unwrap();
        }
    }
    let mut request = p
        .http
        .request(method, format!("{}{path}", p.upstream))
        .body(body.to_vec());
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    let resp = request.send().await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let mut bytes = resp.bytes().await.unwrap().to_vec();
    if status == 200 {
        if path.ends_with("/proving-key") && p.tamper_proving_key.load(Ordering::SeqCst) {
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x01;
        }
        if state && p.freeze_state.load(Ordering::SeqCst) {
            *p.frozen.lock().unwrap() = Some(bytes.clone());
        }
    }
    let mut builder = axum::response::Response::builder().status(status);
    if let Some(ct) = content_type {
        builder = builder.header("content-type", ct);
    }
    builder.body(axum::body::Body::from(bytes)).unwrap()
}

impl Board {
    /// Starts a [`Proxy`] in front of this board; its URL and its switches.
    fn proxy(&self) -> (String, Arc<Proxy>) {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let proxy = Arc::new(Proxy {
            upstream: self.url.clone(),
            http: reqwest::Client::new(),
            tamper_proving_key: AtomicBool::new(false),
            freeze_state: AtomicBool::new(false),
            frozen: Mutex::new(None),
        });
        let router = axum::Router::new()
            .fallback(forward)
            .with_state(proxy.clone());
        let url = self.runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, router).await });
            format!("http://{addr}")
        });
        (url, proxy)
    }
}

fn start_board() -> Board {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("board");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    use clap::Parser as _;
    let mut config = urna_server::Config::try_parse_from(["urna-server"]).unwrap();
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.data_dir = data.clone();
    config.database = None;
    config.board_key = None;
    config.keys_dir = None;
    config.insecure_dev_setup = Some(DEPTH);
    config.verify_workers = Some(2);
    let url = runtime.block_on(async {
        let state = urna_server::config::build(&config).await.unwrap();
        let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(urna_server::serve(
            listener,
            urna_server::app(state),
            std::future::pending(),
        ));
        format!("http://{addr}")
    });
    Board {
        url,
        data,
        runtime,
        _dir: dir,
    }
}

fn field(out: &str, label: &str) -> String {
    out.lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} in {out}"))
        .trim()
        .to_owned()
}

#[test]
fn roles_one_by_one_with_their_mistakes() {
    let board = start_board();
    let s = board.url.as_str();
    let work = tempfile::tempdir().unwrap();
    let w = |p: &str| work.path().join(p).to_str().unwrap().to_owned();
    let pk = board
        .data
        .join("keys")
        .join(format!("insecure-depth-{DEPTH}.pk"));
    let pk = pk.to_str().unwrap();

    // Keys.
    ok(s, &["authority", "keygen", "--out", &w("authority.key")]);
    ok(
        s,
        &["trustee", "keygen", "--name", "Alice", "--dir", &w("t1")],
    );
    ok(
        s,
        &["trustee", "keygen", "--name", "Bob", "--dir", &w("t2")],
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&work.path().join("authority.key")), 0o600);
        assert_eq!(mode(&work.path().join("t1")), 0o700);
        assert_eq!(mode(&work.path().join("t1/trustee.key")), 0o600);
    }
    fails(
        s,
        &["authority", "keygen", "--out", &w("authority.key")],
        "refusing to overwrite",
    );

    // The manifest.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let manifest = format!(
        r#"title = "Club vote"
census_depth = {DEPTH}
threshold = 2
[window]
opens_at = {}
closes_at = {}
[[contests]]
title = "Chair"
options = ["Ada", "Grace"]
min = 1
max = 1
[[trustees]]
public_key_file = "t1/trustee.pub"
[[trustees]]
public_key_file = "t2/trustee.pub"
[setup]
mode = "fixed-keys"
"#,
        now - 60,
        now + 3600
    );
    std::fs::write(work.path().join("election.toml"), manifest).unwrap();
    // Fixed keys need the proving key they were made with.
    fails(
        s,
        &[
            "authority",
            "create",
            "--manifest",
            &w("election.toml"),
            "--key",
            &w("authority.key"),
        ],
        "says [setup] mode = \"fixed-keys\": give the proving key made before the election \
         with --proving-key",
    );

    let create = [
        "authority",
        "create",
        "--manifest",
        &w("election.toml"),
        "--key",
        &w("authority.key"),
        "--proving-key",
        pk,
    ];
    // Wrong server address.
    fails(
        "http://127.0.0.1:1",
        &create,
        "cannot reach the board at http://127.0.0.1:1",
    );
    fails(
        "not a url",
        &["authority", "status", "--election", "00"],
        "is not a URL",
    );

    let out = ok(s, &create);
    let id = field(&out, "election id:");
    let e = id.as_str();
    fails(
        s,
        &["authority", "status", "--election", &"11".repeat(31)],
        "not an election id",
    );
    let mut unknown = "00".repeat(31);
    unknown.push_str("01");
    fails(
        s,
        &["authority", "status", "--election", &unknown],
        "no election with this id",
    );
    // No ceremony to contribute to.
    fails(
        s,
        &[
            "ceremony",
            "contribute",
            "--election",
            e,
            "--key",
            &w("authority.key"),
        ],
        "has fixed keys named by its manifest: it has no setup ceremony",
    );
    let out = ok(s, &["ceremony", "status", "--election", e]);
    assert!(out.contains("fixed keys named by the manifest"), "{out}");
    let out = ok(s, &["authority", "status", "--election", e]);
    assert!(out.contains("setup         fixed keys"), "{out}");

    // Key ceremony.
    for t in ["t1", "t2"] {
        ok(s, &["trustee", "deal", "--election", e, "--dir", &w(t)]);
    }
    fails(
        s,
        &["trustee", "deal", "--election", e, "--dir", &w("t1")],
        "already dealt",
    );
    for t in ["t1", "t2"] {
        let out = ok(s, &["trustee", "check", "--election", e, "--dir", &w(t)]);
        assert!(
            out.contains("shares from trustees [1, 2] verified"),
            "{out}"
        );
    }

    // Registration.
    ok(
        s,
        &[
            "authority",
            "codes",
            "--election",
            e,
            "--key",
            &w("authority.key"),
            "--count",
            "3",
            "--out",
            &w("codes.txt"),
        ],
    );
    let codes: Vec<String> = std::fs::read_to_string(work.path().join("codes.txt"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(codes.len(), 3);
    let register = |code: &str, out: &str| {
        vec![
            "voter".to_owned(),
            "register".into(),
            "--election".into(),
            e.to_owned(),
            "--code".into(),
            code.to_owned(),
            "--out".into(),
            w(out),
        ]
    };
    fn args(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    ok(s, &args(&register(&codes[0], "v1.credential")));
    #[cfg(unix)]
    assert_eq!(mode(&work.path().join("v1.credential")), 0o600);
    // Code already used: clear message, and no useless credential left behind.
    fails(
        s,
        &args(&register(&codes[0], "v9.credential")),
        "this registration code has already been used",
    );
    assert!(!work.path().join("v9.credential").exists());
    fails(
        s,
        &args(&register(&"ab".repeat(16), "v9.credential")),
        "not valid for this election",
    );
    ok(s, &args(&register(&codes[1], "v2.credential")));

    let vote = |cred: &str, choice: &str, receipt: &str| {
        vec![
            "voter".to_owned(),
            "vote".into(),
            "--credential".into(),
            w(cred),
            "--proving-key".into(),
            pk.to_owned(),
            "--select".into(),
            choice.to_owned(),
            "--receipt".into(),
            w(receipt),
        ]
    };
    // Election not open.
    fails(
        s,
        &args(&vote("v1.credential", "Chair=Ada", "r1.json")),
        "is not open for voting yet",
    );

    ok(
        s,
        &[
            "authority",
            "freeze",
            "--election",
            e,
            "--key",
            &w("authority.key"),
        ],
    );
    fails(
        s,
        &args(&register(&codes[2], "v3.credential")),
        "registration is over",
    );
    ok(
        s,
        &[
            "authority",
            "open",
            "--election",
            e,
            "--key",
            &w("authority.key"),
        ],
    );

    // Wrong credential file, wrong proving key, a bad choice.
    fails(
        s,
        &args(&vote("authority.key", "Chair=Ada", "r1.json")),
        "not a voter credential",
    );
    fails(
        s,
        &args(&vote("t1/trustee.pub", "Chair=Ada", "r1.json")),
        "not a voter credential",
    );
    std::fs::write(work.path().join("bogus.pk"), b"not a proving key").unwrap();
    let mut bad_pk = vote("v1.credential", "Chair=Ada", "r1.json");
    bad_pk[5] = w("bogus.pk");
    fails(s, &args(&bad_pk), "is not the one election");
    fails(
        s,
        &args(&vote("v1.credential", "Chair=Bob", "r1.json")),
        "no option \"Bob\"",
    );

    // Votes, a re-vote, receipts.
    let out = ok(s, &args(&vote("v1.credential", "Chair=Ada", "r1.json")));
    assert!(out.contains("tracking code"), "{out}");
    ok(s, &args(&vote("v2.credential", "1=1", "r2.json")));
    ok(s, &args(&vote("v1.credential", "Chair=Grace", "r1b.json")));
    let out = ok(s, &["voter", "check", &w("r1.json")]);
    assert!(out.contains("receipt verified"), "{out}");
    fails(
        s,
        &["voter", "check", &w("v1.credential")],
        "is not a ballot receipt",
    );
    // A tampered receipt fails.
    let tampered = std::fs::read_to_string(work.path().join("r1.json"))
        .unwrap()
        .replace("\"index\": ", "\"index\": 1");
    std::fs::write(work.path().join("bad.json"), tampered).unwrap();
    fails(
        s,
        &["voter", "check", &w("bad.json")],
        "inclusion proof is wrong",
    );

    // Close, shares, tally.
    fails(
        s,
        &["trustee", "share", "--election", e, "--dir", &w("t1")],
        "not closed yet",
    );
    ok(
        s,
        &[
            "authority",
            "close",
            "--election",
            e,
            "--key",
            &w("authority.key"),
        ],
    );
    fails(
        s,
        &args(&vote("v2.credential", "Chair=Grace", "r2b.json")),
        "closed",
    );
    fails(s, &["authority", "tally", "--election", e], "no tally yet");
    ok(s, &["trustee", "share", "--election", e, "--dir", &w("t1")]);
    let out = ok(s, &["trustee", "share", "--election", e, "--dir", &w("t2")]);
    assert!(out.contains("the board posted the tally"), "{out}");
    let out = ok(s, &["authority", "tally", "--election", e]);
    assert!(out.contains("2 ballots counted"), "{out}");
    assert!(out.contains("Ada    1"), "{out}");
    assert!(out.contains("Grace  1"), "{out}");
    let out = ok(s, &["authority", "status", "--election", e]);
    assert!(out.contains("tallied"), "{out}");

    // The recount.
    ok(s, &["verify", "--election", e]);
}

/// A setup ceremony on the board through `urna ceremony`, with an extra contributor, the
/// refusals on the way, and voters proving with the ceremony's proving key downloaded
/// from the board (a tampered one refused).
#[test]
fn setup_ceremony_through_the_cli() {
    let board = start_board();
    let s = board.url.as_str();
    let (proxy_url, proxy) = board.proxy();
    let p = proxy_url.as_str();
    let work = tempfile::tempdir().unwrap();
    let w = |p: &str| work.path().join(p).to_str().unwrap().to_owned();
    let insecure_pk = board
        .data
        .join("keys")
        .join(format!("insecure-depth-{DEPTH}.pk"));
    let insecure_pk = insecure_pk.to_str().unwrap();

    // Keys: the authority, two trustees, an extra contributor and a stranger.
    ok(s, &["authority", "keygen", "--out", &w("authority.key")]);
    for (name, dir) in [("Alice", "t1"), ("Bob", "t2")] {
        ok(s, &["trustee", "keygen", "--name", name, "--dir", &w(dir)]);
    }
    let out = ok(s, &["ceremony", "keygen", "--out", &w("obs")]);
    assert!(out.contains("give"), "{out}");
    #[cfg(unix)]
    {
        assert_eq!(mode(&work.path().join("obs")), 0o700);
        assert_eq!(mode(&work.path().join("obs/contributor.key")), 0o600);
    }
    fails(
        s,
        &["ceremony", "keygen", "--out", &w("obs")],
        "refusing to overwrite",
    );
    ok(s, &["ceremony", "keygen", "--out", &w("stranger")]);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let manifest = format!(
        r#"title = "Ceremony vote"
census_depth = {DEPTH}
threshold = 1
[window]
opens_at = {}
closes_at = {}
[[contests]]
title = "Chair"
options = ["Ada", "Grace"]
min = 1
max = 1
[[trustees]]
public_key_file = "t1/trustee.pub"
[[trustees]]
public_key_file = "t2/trustee.pub"
[[setup.contributors]]
name = "Observer"
public_key_file = "obs/contributor.pub"
"#,
        now - 60,
        now + 3600
    );
    std::fs::write(work.path().join("election.toml"), manifest).unwrap();
    let mut create = vec![
        "authority".to_owned(),
        "create".into(),
        "--manifest".into(),
        w("election.toml"),
        "--key".into(),
        w("authority.key"),
    ];
    fn args(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    // A ceremony takes no proving key.
    let mut with_pk = create.clone();
    with_pk.extend(["--proving-key".to_owned(), insecure_pk.to_owned()]);
    fails(
        s,
        &args(&with_pk),
        "runs a setup ceremony on the board ([setup] mode = \"ceremony\", the default)",
    );
    let out = ok(s, &args(&create));
    assert!(
        out.contains("contributors: 0 the election authority, 1 Alice, 2 Bob, 3 Observer"),
        "{out}"
    );
    let id = field(&out, "election id:");
    let e = id.as_str();
    create.clear();

    let contribute = |server: &str, key: &str| {
        urna(
            server,
            &["ceremony", "contribute", "--election", e, "--key", &w(key)],
        )
    };
    let contributed = |server: &str, key: &str| -> String {
        let o = contribute(server, key);
        assert!(o.status.success(), "contribute {key}:\n{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        field(&out, "hash after your contribution (publish it):")
    };
    let authority_key = w("authority.key");
    let beacon = |server: &str, extra: &[&str]| -> String {
        let mut a = vec![
            "ceremony",
            "beacon",
            "--election",
            e,
            "--key",
            authority_key.as_str(),
        ];
        a.extend_from_slice(extra);
        ok(server, &a)
    };

    let out = ok(s, &["ceremony", "status", "--election", e]);
    assert!(out.contains("phase 1 open"), "{out}");
    assert!(out.contains("3  Observer (extra contributor)"), "{out}");
    assert!(
        out.contains("not yet in phase 1: Alice, Bob, Observer"),
        "{out}"
    );

    // Refusals before anyone contributed.
    fails(
        s,
        &[
            "ceremony",
            "beacon",
            "--election",
            e,
            "--key",
            &w("authority.key"),
        ],
        "phase 1 has no contribution yet",
    );
    let o = contribute(s, "stranger");
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is not one of the setup contributors"),
        "{}",
        text(&o)
    );
    fails(
        s,
        &[
            "ceremony",
            "beacon",
            "--election",
            e,
            "--key",
            &w("t1/trustee.key"),
        ],
        "not an authority key file",
    );
    fails(
        s,
        &[
            "ceremony",
            "contribute",
            "--election",
            e,
            "--key",
            &w("obs/contributor.pub"),
        ],
        "urna-contributor-public file, not an authority, trustee or setup contributor key file",
    );
    fails(
        s,
        &[
            "authority",
            "freeze",
            "--election",
            e,
            "--key",
            &w("authority.key"),
        ],
        "is not closed yet",
    );

    // Phase 1: Alice (by her directory), Bob through a proxy that then keeps serving the
    // state Bob extended, so the Observer's contribution from it is stale.
    let h_alice = contributed(s, "t1");
    let out = ok(s, &["ceremony", "status", "--election", e]);
    assert!(out.contains(&h_alice), "{out}");
    let o = contribute(s, "t1");
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("Alice (contributor 1) already contributed to phase 1"),
        "{}",
        text(&o)
    );
    proxy.freeze_state.store(true, Ordering::SeqCst);
    let h_bob = contributed(p, "t2/trustee.key");
    let o = contribute(p, "obs");
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("someone contributed in the meantime"),
        "{}",
        text(&o)
    );
    proxy.freeze_state.store(false, Ordering::SeqCst);
    let h_obs = contributed(s, "obs/contributor.key");
    let out = beacon(s, &[]);
    assert!(
        out.contains("beacon value: ") && out.contains("root of the board's signed checkpoint"),
        "{out}"
    );
    assert!(out.contains("2^20 SHA-256"), "{out}");
    assert!(out.contains("phase 1 closed by the beacon"), "{out}");
    let out = ok(s, &["ceremony", "status", "--election", e]);
    assert!(out.contains("phase 2 open"), "{out}");
    for h in [&h_alice, &h_bob, &h_obs] {
        assert!(out.contains(h.as_str()), "{out}");
    }

    // Phase 2: the Observer, then the authority itself, then the beacon with a given value.
    let o = contribute(s, "obs");
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("may take a while"), "{stdout}");
    assert!(
        stdout.contains("contribution to phase 2 accepted"),
        "{stdout}"
    );
    contributed(s, "authority.key");
    let out = beacon(s, &["--value", "0123456789abcdef", "--iterations-log", "8"]);
    assert!(
        out.contains("beacon value: 0123456789abcdef (given with --value)"),
        "{out}"
    );
    assert!(out.contains("the ceremony is closed"), "{out}");
    let vk_hash = field(&out, "verifying key hash");
    let pk_hash = field(&out, "proving key hash");

    // Closed: nothing more.
    let o = contribute(s, "t2");
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is closed"),
        "{}",
        text(&o)
    );
    fails(
        s,
        &[
            "ceremony",
            "beacon",
            "--election",
            e,
            "--key",
            &w("authority.key"),
        ],
        "is closed",
    );
    let out = ok(s, &["ceremony", "status", "--election", e]);
    assert!(out.contains("closed: the keys are fixed"), "{out}");
    assert!(out.contains(&vk_hash) && out.contains(&pk_hash), "{out}");
    let out = ok(s, &["authority", "status", "--election", e]);
    assert!(out.contains("ceremony on the board, closed"), "{out}");

    // The election goes on with the ceremony's keys.
    for t in ["t1", "t2"] {
        ok(s, &["trustee", "deal", "--election", e, "--dir", &w(t)]);
    }
    ok(
        s,
        &[
            "authority",
            "codes",
            "--election",
            e,
            "--key",
            &w("authority.key"),
            "--count",
            "2",
            "--out",
            &w("codes.txt"),
        ],
    );
    let codes: Vec<String> = std::fs::read_to_string(work.path().join("codes.txt"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    for (i, code) in codes.iter().enumerate() {
        let cred = w(&format!("voter-{}/urna.credential", i + 1));
        ok(
            s,
            &[
                "voter",
                "register",
                "--election",
                e,
                "--code",
                code,
                "--out",
                &cred,
            ],
        );
    }
    for step in ["freeze", "open"] {
        ok(
            s,
            &[
                "authority",
                step,
                "--election",
                e,
                "--key",
                &w("authority.key"),
            ],
        );
    }
    let vote = |server: &str, voter: u32, choice: &str, extra: &[&str]| {
        let cred = w(&format!("voter-{voter}/urna.credential"));
        let receipt = w(&format!("voter-{voter}/receipt.json"));
        let mut a = vec![
            "voter",
            "vote",
            "--credential",
            cred.as_str(),
            "--select",
            choice,
            "--receipt",
            receipt.as_str(),
        ];
        a.extend_from_slice(extra);
        urna(server, &a)
    };
    let cache = work.path().join("voter-1").join("proving-keys");
    // A local proving key that is not the ceremony's (the board's single-party key).
    let o = vote(s, 1, "Chair=Ada", &["--proving-key", insecure_pk]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("the proving_key_hash of the board's signed setup-keys entry"),
        "{}",
        text(&o)
    );
    // A board that serves a tampered proving key: refused, nothing kept.
    proxy.tamper_proving_key.store(true, Ordering::SeqCst);
    let o = vote(p, 1, "Chair=Ada", &[]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("refused the proving key the board served"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0);
    proxy.tamper_proving_key.store(false, Ordering::SeqCst);
    // Downloaded, checked and kept; the re-vote uses the kept key.
    let o = vote(s, 1, "Chair=Ada", &[]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("proving key downloaded"), "{stdout}");
    assert!(cache.join(format!("{pk_hash}.pk")).is_file());
    let o = vote(s, 1, "Chair=Grace", &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("using the proving key kept in"),
        "{}",
        text(&o)
    );
    let o = vote(s, 2, "Chair=Grace", &[]);
    assert!(o.status.success(), "{}", text(&o));

    ok(
        s,
        &[
            "authority",
            "close",
            "--election",
            e,
            "--key",
            &w("authority.key"),
        ],
    );
    let out = ok(s, &["trustee", "share", "--election", e, "--dir", &w("t1")]);
    assert!(out.contains("the board posted the tally"), "{out}");
    let out = ok(s, &["authority", "tally", "--election", e]);
    assert!(out.contains("2 ballots counted"), "{out}");
    assert!(out.contains("Grace  2"), "{out}");
}
