#!/usr/bin/env bash
# Checks Urna's Groth16 eligibility proofs with snarkjs, an independent implementation:
# runs a small setup ceremony (census depth 2, two contributors and a beacon per phase),
# makes a real eligibility proof with its keys, exports verification_key.json, proof.json
# and public.json in snarkjs's format (PROTOCOL 14.9), and requires
#   1. `snarkjs groth16 verify` to print OK on them, and
#   2. vk_alphabeta_12 to equal e(alpha, beta) computed by snarkjs's ffjavascript, and
#   3. `snarkjs groth16 verify` to reject the proof against a tampered public input.
# snarkjs is pinned in ceremony/interop/package-lock.json and installed with `npm ci`.
# Needs node and npm (Debian's packages). Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

interop=ceremony/interop
for tool in node npm npx; do
  if ! command -v "$tool" >/dev/null; then
    echo "error: $tool is not installed (apt-get install npm)" >&2
    exit 2
  fi
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== npm ci (snarkjs pinned by $interop/package-lock.json)"
(cd "$interop" && npm ci --ignore-scripts --no-audit --no-fund)

echo "== ceremony, proof and export"
# The test profile (optimised, see the root Cargo.toml) is the one `cargo test` builds.
cargo run --locked -q --profile test -p urna-ceremony --example snarkjs_export -- "$work/files"

snarkjs() {
  (cd "$interop" && npx --no snarkjs "$@")
}

echo "== snarkjs groth16 verify (must print OK)"
if ! out="$(snarkjs groth16 verify "$work/files/verification_key.json" \
  "$work/files/public.json" "$work/files/proof.json" 2>&1)"; then
  echo "$out"
  echo "FAIL: snarkjs rejected Urna's proof" >&2
  exit 1
fi
echo "$out"
if ! grep -q 'OK!' <<<"$out"; then
  echo "FAIL: snarkjs did not print OK" >&2
  exit 1
fi

echo "== vk_alphabeta_12 equals ffjavascript's e(alpha, beta)"
(cd "$interop" && node check-alphabeta.mjs "$work/files/verification_key.json")

echo "== snarkjs groth16 verify on a tampered public input (must fail)"
# The ballot digest (public signal 3, PROTOCOL 10.4) plus one: still a canonical field
# element unless the digest was r - 1 (probability 2^-254).
node -e '
  const fs = require("fs");
  const pub = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  pub[3] = (BigInt(pub[3]) + 1n).toString();
  fs.writeFileSync(process.argv[2], JSON.stringify(pub, null, 1));
' "$work/files/public.json" "$work/public_tampered.json"
if out="$(snarkjs groth16 verify "$work/files/verification_key.json" \
  "$work/public_tampered.json" "$work/files/proof.json" 2>&1)"; then
  status=0
else
  status=$?
fi
echo "$out"
if [ "$status" -eq 0 ] || grep -q 'OK!' <<<"$out"; then
  echo "FAIL: snarkjs accepted a proof for a tampered public input" >&2
  exit 1
fi
echo "PASS: snarkjs verifies Urna's proof and rejects the tampered statement"
