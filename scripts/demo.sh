#!/usr/bin/env bash
# Runs a whole election locally (`urna demo`: an embedded board on SQLite, 3 trustees with
# threshold 2, 100 voters, re-votes, a tally with one trustee absent, and the verifier),
# then keeps the board serving, with the voter web client at its address, until Ctrl-C.
# Builds whatever it needs; extra arguments go to `urna demo` (see `urna demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

if ./scripts/build-web.sh; then
  echo "web client built into web/dist; the board serves it at /"
else
  echo "warning: the web client could not be built (see above); the demo runs without it" >&2
fi
dir="${URNA_DEMO_DIR:-./urna-demo}"
if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
  dir="$dir-$(date +%Y%m%d-%H%M%S)"
fi
exec cargo run --release --locked -p urna-cli -- demo --dir "$dir" --keep-serving "$@"
