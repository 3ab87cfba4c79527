//! The `urna` binary as a person runs it: `urna demo`, and a role-by-role election against
//! a board started in the test, with the mistakes people make and the messages they get.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
            "--voters",
            "6",
            "--depth",
            &DEPTH.to_string(),
            "--dir",
            demo.to_str().unwrap(),
        ],
    );
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

/// A board on 127.0.0.1 with single-party (insecure) keys at [`DEPTH`], in this process.
struct Board {
    url: String,
    data: PathBuf,
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
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
        _runtime: runtime,
        _dir: dir,
    }
}

fn field(out: &str, label: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(label))
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
"#,
        now - 60,
        now + 3600
    );
    std::fs::write(work.path().join("election.toml"), manifest).unwrap();

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
