#!/usr/bin/env bash
# Builds the voter web client into web/dist: the urna-web crate for wasm32 (release,
# fat LTO, one codegen unit), its wasm-bindgen glue (pinned version), and web/static.
# urna-server serves web/dist at / (--web-dir). Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

# Must equal the `wasm-bindgen` version pinned in the root Cargo.toml.
WASM_BINDGEN_VERSION=0.2.130
TARGET_DIR="${CARGO_TARGET_DIR:-target}"

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  if ! rustup target add wasm32-unknown-unknown; then
    echo "error: the Rust target wasm32-unknown-unknown is not installed and cannot be installed" >&2
    echo "       (rustup target add wasm32-unknown-unknown failed): the web client cannot be built." >&2
    echo "       The rest of the project builds and tests without it." >&2
    exit 2
  fi
fi

if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WASM_BINDGEN_VERSION"; then
  echo "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION" >&2
  # --locked first, as asked; a yanked dependency in the CLI's own lockfile makes that
  # fail, so fall back to a fresh resolution of the same CLI version.
  cargo install --locked wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" \
    || cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION"
fi

CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_OPT_LEVEL=3 \
  cargo build --locked -p urna-web --target wasm32-unknown-unknown --release

rm -rf web/dist
mkdir -p web/dist/pkg
wasm-bindgen --target web --no-typescript --out-dir web/dist/pkg \
  "$TARGET_DIR/wasm32-unknown-unknown/release/urna_web.wasm"
if command -v wasm-opt >/dev/null 2>&1; then
  wasm-opt -O3 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals -o web/dist/pkg/urna_web_bg.opt.wasm web/dist/pkg/urna_web_bg.wasm \
    && mv web/dist/pkg/urna_web_bg.opt.wasm web/dist/pkg/urna_web_bg.wasm
fi
cp -R web/static/. web/dist/
echo "built web/dist ($(du -h web/dist/pkg/urna_web_bg.wasm | cut -f1) of wasm)"
