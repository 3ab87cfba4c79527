//! The web client's routes: static pages from `--web-dir` and the proving-key endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use common::*;
use sha2::Digest as _;
use tower::ServiceExt as _;
use urna_server::keys::{ProvingKeys, VerifyingKeys};
use urna_server::{app_with_web, AppState, Limits, WebAssets};

struct Site {
    router: Router,
    _web: tempfile::TempDir,
    _outside: tempfile::TempDir,
    _db: Db,
}

async fn site(with_pages: bool) -> Site {
    let db = Db::fresh(Backend::Sqlite).await;
    let board = open_board(db.open().await, &TestClock::new(NOW)).await;
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "board key").unwrap();
    let web = tempfile::tempdir().unwrap();
    std::fs::write(
        web.path().join("index.html"),
        "<!doctype html><title>Urna</title>",
    )
    .unwrap();
    std::fs::write(web.path().join("app.js"), "export const x = 1;").unwrap();
    std::fs::create_dir(web.path().join("pkg")).unwrap();
    std::fs::write(web.path().join("pkg/urna_web_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let mut vks = VerifyingKeys::new();
    vks.insert(&groth16().vk);
    let mut pks = ProvingKeys::new();
    pks.insert(groth16().pk.to_bytes().unwrap(), &vks).unwrap();
    let router = app_with_web(
        AppState {
            board,
            limits: Limits::default(),
            rate_limit: None,
        },
        WebAssets {
            web_dir: with_pages.then(|| web.path().to_path_buf()),
            proving_keys: Arc::new(pks),
        },
    );
    Site {
        router,
        _web: web,
        _outside: outside,
        _db: db,
    }
}

async fn get(router: &Router, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let resp = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    (status, headers, body)
}

fn content_type(h: &axum::http::HeaderMap) -> String {
    h.get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn pages_are_served_with_their_types_and_policy() {
    let s = site(true).await;
    let (status, h, body) = get(&s.router, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type(&h).starts_with("text/html"));
    assert!(String::from_utf8(body).unwrap().contains("Urna"));
    let csp = h
        .get(header::CONTENT_SECURITY_POLICY)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'self'"));
    assert_eq!(h.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
    let (status, h, _) = get(&s.router, "/app.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type(&h).contains("javascript"),
        "{}",
        content_type(&h)
    );
    let (status, h, body) = get(&s.router, "/pkg/urna_web_bg.wasm").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type(&h), "application/wasm");
    assert_eq!(&body[..4], b"\0asm");
    // The API still answers, and unknown API paths are still JSON 404s.
    let (status, _, _) = get(&s.router, "/v1/board").await;
    assert_eq!(status, StatusCode::OK);
    let (status, h, body) = get(&s.router, "/v1/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(content_type(&h).starts_with("application/json"));
    assert!(String::from_utf8(body).unwrap().contains("not_found"));
}

#[tokio::test]
async fn nothing_outside_the_web_dir_and_no_listing() {
    let s = site(true).await;
    let outside = s
        ._outside
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for uri in [
        format!("/../{outside}/secret.txt"),
        format!("/..%2f{outside}%2fsecret.txt"),
        format!("/%2e%2e/{outside}/secret.txt"),
        "/pkg/../../etc/passwd".to_owned(),
        "/%2fetc%2fpasswd".to_owned(),
        "//etc/passwd".to_owned(),
    ] {
        let (status, _, body) = get(&s.router, &uri).await;
        assert_ne!(status, StatusCode::OK, "{uri}");
        let text = String::from_utf8_lossy(&body);
        assert!(
            !text.contains("board key") && !text.contains("root:"),
            "{uri}"
        );
    }
    // A directory without index.html is not listed.
    let (status, _, body) = get(&s.router, "/pkg/").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!String::from_utf8_lossy(&body).contains("urna_web_bg"));
    let (status, _, _) = get(&s.router, "/missing.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn without_a_web_dir_there_are_no_pages() {
    let s = site(false).await;
    let (status, _, body) = get(&s.router, "/").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8(body).unwrap().contains("not_found"));
}

#[tokio::test]
async fn proving_key_is_served_by_verifying_key_hash() {
    let s = site(false).await;
    let vk_hash = hex::encode(groth16().vk.verifying_key_hash());
    let (status, h, body) = get(&s.router, &format!("/v1/keys/{vk_hash}/proving-key")).await;
    assert_eq!(status, StatusCode::OK);
    let expected = groth16().pk.to_bytes().unwrap();
    assert_eq!(body, expected);
    let sha = hex::encode(sha2::Sha256::digest(&body));
    assert_eq!(h.get("x-urna-proving-key-sha256").unwrap(), sha.as_str());
    assert_eq!(sha, hex::encode(groth16().pk.proving_key_hash()));
    assert_eq!(content_type(&h), "application/octet-stream");
    assert!(h
        .get(header::CACHE_CONTROL)
        .unwrap()
        .to_str()
        .unwrap()
        .contains("immutable"));

    // Unknown hash: 404; malformed: 400.
    let (status, _, body) = get(
        &s.router,
        &format!("/v1/keys/{}/proving-key", "00".repeat(32)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8(body).unwrap().contains("not_found"));
    let (status, _, _) = get(&s.router, "/v1/keys/xyz/proving-key").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[test]
fn a_proving_key_without_a_known_verifying_key_is_refused() {
    let vks = VerifyingKeys::new();
    let mut pks = ProvingKeys::new();
    assert!(pks.insert(groth16().pk.to_bytes().unwrap(), &vks).is_err());
    let mut vks = VerifyingKeys::new();
    vks.insert(&groth16().vk);
    assert!(pks.insert(b"urna-pk1\x04garbage".to_vec(), &vks).is_err());
}

#[test]
fn proving_keys_load_from_the_keys_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("insecure-depth-4.pk"),
        groth16().pk.to_bytes().unwrap(),
    )
    .unwrap();
    std::fs::write(dir.path().join("junk.pk"), b"not a key").unwrap();
    let mut vks = VerifyingKeys::new();
    vks.insert(&groth16().vk);
    let pks = ProvingKeys::load_dir(dir.path(), &vks).unwrap();
    let served = pks.get(&groth16().vk.verifying_key_hash()).unwrap();
    assert_eq!(served.sha256, groth16().pk.proving_key_hash());
    assert!(pks.get(&[0; 32]).is_none());
    let none = ProvingKeys::load_dir(&dir.path().join("missing"), &vks).unwrap();
    assert!(none.get(&groth16().vk.verifying_key_hash()).is_none());
}
