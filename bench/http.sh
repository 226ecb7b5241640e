#!/usr/bin/env bash
# HTTP benchmark of the foundation's hot paths with wrk, on SQLite and (when
# VOUCH_BENCH_POSTGRES_URL is set, e.g. postgres://postgres@127.0.0.1:5432/postgres) PostgreSQL.
#
#   bench/http.sh [seconds per endpoint, default 10]
#
# For each store: a fresh database, `vouch demo`, an API key, `vouch serve` (release build),
# then wrk (2 threads, 32 connections) against
#   - GET /healthz                                   baseline: the same server, no database
#   - GET /api/v1/accounts?limit=20 (bearer key)     key lookup + keyset page of 20 accounts
#   - GET /api/v1/accounts?q=referral&limit=20       search (LIKE over name, code, email)
#   - GET /register?super_customer_id=3192           public registration page (1 query + template)
# and then, from the same binary in the same run: the key-authenticated list from a server
# started with VOUCH_API_KEY_CACHE_SECONDS=0 (every request looks its key up), and /healthz from
# one started with VOUCH_METRICS_TOKEN set (every request timed for /metrics).
# Prints a Markdown table for BENCHMARKS.md. Targets 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER=${1:-10}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
cargo build --release -q -p vouch
BIN=$PWD/target/release/vouch
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

stores=("sqlite://$WORK/bench.db")
if [ -n "${VOUCH_BENCH_POSTGRES_URL:-}" ]; then
    psql "$VOUCH_BENCH_POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS vouch_bench WITH (FORCE)" -c "CREATE DATABASE vouch_bench"
    stores+=("${VOUCH_BENCH_POSTGRES_URL%/*}/vouch_bench")
fi

PORT_BASE=18089
echo "| store | endpoint | requests/s | p50 | p99 |"
echo "|---|---|---:|---:|---:|"
for db in "${stores[@]}"; do
    store=${db%%:*}
    export VOUCH_DATABASE_URL=$db
    (cd "$WORK" && "$BIN" demo >/dev/null)
    KEY=$(cd "$WORK" && "$BIN" api-keys create --name bench --scope read 2>/dev/null)
    PORT=$((PORT_BASE++))
    RUST_LOG=warn "$BIN" serve --bind 127.0.0.1:$PORT >/dev/null 2>&1 &
    SERVER=$!
    for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
    run() {
        local name=$1 url=$2; shift 2
        local out
        out=$(wrk -t2 -c32 -d"${SECONDS_PER}s" --latency "$@" "$url")
        local rps p50 p99
        rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
        p50=$(awk '$1=="50%" {print $2}' <<<"$out")
        p99=$(awk '$1=="99%" {print $2}' <<<"$out")
        if grep -q "Non-2xx" <<<"$out"; then name="$name (NON-2xx answers!)"; fi
        echo "| $store | $name | $rps | $p50 | $p99 |"
    }
    run "GET /healthz (baseline)" "http://127.0.0.1:$PORT/healthz"
    run "GET /api/v1/accounts?limit=20" "http://127.0.0.1:$PORT/api/v1/accounts?limit=20" -H "Authorization: Bearer $KEY"
    run "GET /api/v1/accounts?q=referral&limit=20" "http://127.0.0.1:$PORT/api/v1/accounts?q=referral&limit=20" -H "Authorization: Bearer $KEY"
    run "GET /register?super_customer_id=3192" "http://127.0.0.1:$PORT/register?super_customer_id=3192"
    kill "$SERVER"
    wait "$SERVER" || true
    PORT=$((PORT_BASE++))
    VOUCH_API_KEY_CACHE_SECONDS=0 RUST_LOG=warn "$BIN" serve --bind 127.0.0.1:$PORT >/dev/null 2>&1 &
    SERVER=$!
    for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
    run "GET /api/v1/accounts?limit=20, key cache off" "http://127.0.0.1:$PORT/api/v1/accounts?limit=20" -H "Authorization: Bearer $KEY"
    kill "$SERVER"
    wait "$SERVER" || true
    PORT=$((PORT_BASE++))
    VOUCH_METRICS_TOKEN=bench-metrics-token-0123 RUST_LOG=warn "$BIN" serve --bind 127.0.0.1:$PORT >/dev/null 2>&1 &
    SERVER=$!
    for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
    run "GET /healthz, /metrics on (every request timed)" "http://127.0.0.1:$PORT/healthz"
    kill "$SERVER"
    wait "$SERVER" || true
done
