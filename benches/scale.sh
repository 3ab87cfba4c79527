#!/usr/bin/env bash
# One election-scale run (issue 6): generate (once, cached), start a fresh urna-server,
# load it, close and tally, export, recount. Prints the load and recount reports and the
# load average.
#
#   benches/scale.sh DATA BACKEND C [gen flags...]
#
#   DATA     the generator's directory (cached: generated only if DATA/bench.json is
#            missing), e.g. /work/bench-data/d20-100k. Keep it outside the repository.
#   BACKEND  sqlite | postgres | postgres2 (two server processes on one PostgreSQL
#            schema; the odd ballots go to one, the even ones to the other, C/2
#            connections each, at the same time; no close, export or recount)
#   C        concurrent connections
#   gen flags, used only when generating: e.g. --voters 100000 --depth 20 --simulate-proofs
#
# Environment: URNA_BIN (default target/release; with CARGO_TARGET_DIR set, that dir's
# release), PG_BASE (default postgres://postgres@127.0.0.1:5432/test), LOAD_FLAGS (extra
# flags of `urna-bench load`, e.g. "--rate 1500").
set -euo pipefail
data=${1:?DATA}; backend=${2:?BACKEND}; conc=${3:?C}; shift 3
bin=${URNA_BIN:-${CARGO_TARGET_DIR:-target}/release}
pg_base=${PG_BASE:-postgres://postgres@127.0.0.1:5432/test}
run=$(mktemp -d /tmp/urna-scale.XXXXXX)
pids=()
schema=""
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ $rc -ne 0 ]]; then
    # A failed step keeps the board (hours of set-up at a million ballots): restart
    # `urna-server --data-dir $run/a` (or on the schema) to go on by hand.
    echo "# failed (exit $rc): kept $run${schema:+ and schema $schema}" >&2
    return
  fi
  if [[ -n $schema ]]; then psql "$pg_base" -qc "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $schema CASCADE" || true; fi
  rm -rf "$run"
}
trap cleanup EXIT

if [[ ! -f $data/bench.json ]]; then
  "$bin/urna-bench" gen --out "$data" "$@" >/dev/null
fi

start_server() { # $1: data dir of this process, $2: database URL or empty; sets $url
  local args=(--listen 127.0.0.1:0 --data-dir "$1" --board-key "$data/board.key"
              --keys-dir "$data/keys" --verify-queue 1024)
  [[ -n $2 ]] && args+=(--database "$2")
  if "$bin/urna-server" --help | grep -q -- --rate-limit-per-second; then
    args+=(--rate-limit-per-second 0)
  fi
  NO_COLOR=1 RUST_LOG=warn,urna_server=info "$bin/urna-server" "${args[@]}" >"$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do
    addr=$(grep -o 'addr=[0-9.:]*' "$1.log" | head -1 | cut -d= -f2 || true)
    [[ -n $addr ]] && { url="http://$addr"; return; }
    sleep 0.1
  done
  echo "server did not start:" >&2; cat "$1.log" >&2; exit 1
}

# User + system CPU seconds of a process (and its finished children), from /proc.
server_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/hz}' "/proc/$1/stat"
}

db=""
case $backend in
  sqlite) ;;
  postgres|postgres2)
    schema=urna_bench_$$_$RANDOM
    psql "$pg_base" -qc "CREATE SCHEMA $schema"
    db="$pg_base?options=-csearch_path%3D$schema" ;;
  *) echo "BACKEND: sqlite | postgres | postgres2" >&2; exit 2 ;;
esac

start_server "$run/a" "$db"; url1=$url
echo "# $(date -u +%FT%TZ) backend=$backend c=$conc data=$data" >&2
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if [[ $backend == postgres2 ]]; then
  # Two processes on one PostgreSQL: the set-up through the first, then half of the
  # ballots through each, at the same time (the second load starts after the first
  # has opened the election).
  start_server "$run/b" "$db"; url2=$url; url=$url1
  n=$(grep -c '' "$data/ballots.ndjson")
  "$bin/urna-bench" load --url "$url" --ballots "$data" -c 1 --limit 0 -q >/dev/null
  half=$(mktemp -d "$run/half.XXXX"); other=$(mktemp -d "$run/other.XXXX")
  for d in "$half" "$other"; do
    cp "$data"/bench.json "$data"/board.key "$data"/BENCHMARK-ONLY-secrets.json "$data"/setup.ndjson "$d"/
    ln -s "$data/keys" "$d/keys"
  done
  awk 'NR%2==1' "$data/ballots.ndjson" >"$half/ballots.ndjson"
  awk 'NR%2==0' "$data/ballots.ndjson" >"$other/ballots.ndjson"
  "$bin/urna-bench" load --url "$url" --ballots "$half" -c $((conc / 2)) --json -q ${LOAD_FLAGS:-} >"$run/l1.json" &
  l1=$!
  "$bin/urna-bench" load --url "$url2" --ballots "$other" -c $((conc / 2)) --json -q ${LOAD_FLAGS:-} >"$run/l2.json"
  wait $l1
  cat "$run/l1.json" "$run/l2.json"
  echo "# $n ballots through two processes" >&2
else
  # Three steps, so that the server's CPU time of the ballot phase alone is known:
  # set-up (one connection), ballots (C connections), close + tally + export.
  "$bin/urna-bench" load --url "$url" --ballots "$data" -c 1 --limit 0 -q
  cpu0=$(server_cpu "${pids[0]}")
  /usr/bin/time -f '# load tool: %e s wall, %U s user, %S s sys, %M KiB peak' \
    "$bin/urna-bench" load --url "$url" --ballots "$data" -c "$conc" ${LOAD_FLAGS:-}
  cpu1=$(server_cpu "${pids[0]}")
  echo "# server CPU during the ballot phase: $(echo "$cpu0 $cpu1" | awk '{printf "%.2f", $2-$1}') s" >&2
  echo "# load average after load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  "$bin/urna-bench" load --url "$url" --ballots "$data" -c 1 --limit 0 --close \
    --export "$data.export.ndjson" -q
  /usr/bin/time -v "$bin/urna-bench" recount --export "$data.export.ndjson" --data "$data" \
    2>"$run/time.txt"
  grep -E 'Maximum resident|Elapsed \(wall|User time|System time' "$run/time.txt" >&2
  echo "# load average after recount: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
fi
