#!/usr/bin/env bash
# End-to-end tests of the voter web client: builds it (scripts/build-web.sh), builds
# urna-server and the test driver, starts a server with INSECURE single-party dev keys,
# and runs web/tests in headless Chromium (playwright-core, /usr/bin/chromium).
#
#   scripts/web-e2e.sh            functional tests (census depth $URNA_E2E_DEPTH, default 8)
#   scripts/web-e2e.sh --timing   ballot timings at depth 20 (web/test-results/timings.json)
#
# Needs: Debian chromium, node + npm (npm ci in web/), the wasm32 target.
set -euo pipefail
cd "$(dirname "$0")/.."

TIMING=0
DEPTH="${URNA_E2E_DEPTH:-8}"
if [ "${1:-}" = "--timing" ]; then TIMING=1; DEPTH=20; fi
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ ! -x "$CHROMIUM" ]; then
  echo "error: $CHROMIUM not found; install Debian's chromium (apt-get install -y chromium)" >&2
  exit 2
fi

./scripts/build-web.sh
# The test profile (opt-level 3 for the workspace too): the dev profile leaves the
# arkworks code instantiated in urna-circuits unoptimised, and key generation and
# loading then take minutes. Its binaries land in $TARGET_DIR/debug.
PROFILE=test BIN="$TARGET_DIR/debug"
# Depth-20 key generation was killed by the OOM killer (22 GiB RSS) in the test profile
# (debug assertions on); the timing run uses a release build instead.
if [ "$TIMING" = 1 ]; then PROFILE=release BIN="$TARGET_DIR/release"; fi
cargo build --locked --profile "$PROFILE" -p urna-server -p urna-web-e2e-driver
(cd web && { [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund; })

WORK="$(mktemp -d)"
# Keys are slow to make at depth 20: keep them between runs, next to the build.
KEYS="$TARGET_DIR/web-e2e-keys/depth-$DEPTH"
mkdir -p "$KEYS"
PORT="${URNA_E2E_PORT:-$((20000 + RANDOM % 20000))}"
"$BIN/urna-server" --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" \
  --keys-dir "$KEYS" --insecure-dev-setup "$DEPTH" --web-dir web/dist \
  >"$WORK/server.log" 2>&1 &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

for _ in $(seq 1 600); do
  if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER" 2>/dev/null; then cat "$WORK/server.log" >&2; exit 1; fi
  sleep 1
done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null

mkdir -p "$WORK/state"
cd web
URNA_URL="http://127.0.0.1:$PORT" URNA_DRIVER="$(cd .. && realpath "$BIN/urna-web-e2e-driver")" \
  URNA_STATE="$WORK/state" URNA_TIMING="$TIMING" CHROMIUM="$CHROMIUM" \
  node --test --test-concurrency=1 tests/ || { echo "--- server log ---" >&2; tail -50 "$WORK/server.log" >&2; exit 1; }
