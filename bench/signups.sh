#!/usr/bin/env bash
# Attributed signups through the API: POST /api/v1/programs/{id}/participants with
# `referred_by` (the referral, fraud checks, the welcome and "referral won" emails and a reward
# per win, all in one transaction each) under wrk (2 threads × 16 connections), release build,
# on SQLite and (when VOUCH_BENCH_POSTGRES_URL is set) PostgreSQL. The baseline in the same run
# is the same enrolment without `referred_by`. The server runs with --no-worker so that email
# delivery does not share the two cores with the measurement.
#
#   bench/signups.sh [seconds, default 10]
#
# Needs wrk, curl and python3. Targets 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
for tool in wrk curl python3; do command -v $tool >/dev/null || { echo "install $tool"; exit 1; }; done
cargo build --release -q -p vouch
BIN=$PWD/target/release/vouch
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

stores=("sqlite://$WORK/bench.db")
if [ -n "${VOUCH_BENCH_POSTGRES_URL:-}" ]; then
    psql "$VOUCH_BENCH_POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS vouch_bench_s WITH (FORCE)" -c "CREATE DATABASE vouch_bench_s" 2>/dev/null
    stores+=("${VOUCH_BENCH_POSTGRES_URL%/*}/vouch_bench_s")
fi
echo "| store | enrolment | signups/s | p50 | p99 | non-2xx |"
echo "|---|---|---:|---:|---:|---:|"
row() { # store, label, wrk output
    local rps p50 p99 bad
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$3"); p50=$(awk '$1=="50%" {print $2}' <<<"$3"); p99=$(awk '$1=="99%" {print $2}' <<<"$3")
    bad=$(awk '/Non-2xx/ {print $5}' <<<"$3"); echo "| $1 | $2 | $rps | $p50 | $p99 | ${bad:-0} |"
}
PORT=18190
for db in "${stores[@]}"; do
    store=${db%%:*}
    export VOUCH_DATABASE_URL=$db
    KEY=$("$BIN" api-keys create --name bench --scope admin 2>/dev/null)
    RUST_LOG=warn "$BIN" serve --no-worker --bind 127.0.0.1:$PORT > "$WORK/serve-$store.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
    api() { curl -sf -X "$1" "http://127.0.0.1:$PORT$2" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$3"; }
    PROGRAM=$(api POST /api/v1/programs '{"name":"Bench","landing_url":"https://shop.example.com/welcome"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    api POST "/api/v1/programs/$PROGRAM/status" '{"status":"live"}' >/dev/null
    api POST "/api/v1/programs/$PROGRAM/reward-rules" '{"name":"Every 5","trigger":"every","threshold":5,"amount":500}' >/dev/null
    : > "$WORK/codes.txt"
    for i in $(seq 1 100); do
        api POST "/api/v1/programs/$PROGRAM/participants" "{\"email\":\"referrer$i@bench.example\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])' >> "$WORK/codes.txt"
    done
    export CODES="$WORK/codes.txt" KEY SIGNUP_PATH="/api/v1/programs/$PROGRAM/participants"
    out=$(ATTRIBUTED=0 RUN=plain wrk -t2 -c16 -d"${SECS}s" --latency -s bench/signups.lua "http://127.0.0.1:$PORT")
    row "$store" "without referrer (baseline)" "$out"
    out=$(ATTRIBUTED=1 RUN=ref wrk -t2 -c16 -d"${SECS}s" --latency -s bench/signups.lua "http://127.0.0.1:$PORT")
    row "$store" "attributed (\`referred_by\`)" "$out"
    won=$(curl -sf "http://127.0.0.1:$PORT/api/v1/programs/$PROGRAM/stats" -H "Authorization: Bearer $KEY" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["totals"]["won"])' || echo "?")
    echo "|  | referrals won and recorded after the run | $won | | | |"
    kill -TERM "$SERVER"; wait "$SERVER" || true
    PORT=$((PORT + 1))
done
