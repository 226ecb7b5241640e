#!/usr/bin/env bash
# GET /api/v1/accounts?limit=20 (a key-authenticated page of 20 accounts) under wrk (2 threads ×
# 32 connections), release build, on SQLite and (when VOUCH_BENCH_POSTGRES_URL is set)
# PostgreSQL, each store filled once by `vouch demo`. With BASELINE_BIN set to a vouch binary
# built from another commit, each round runs that binary and this build in turn on the same
# databases, so the two compare within one run; which goes first alternates between rounds. The
# baseline must know every migration of the databases this build creates (`serve` refuses a
# database migrated past it), so compare commits that share their migrations:
#
#   git worktree add /tmp/vouch-base <commit> && (cd /tmp/vouch-base && cargo build --release -p vouch)
#   BASELINE_BIN=/tmp/vouch-base/target/release/vouch bench/accounts.sh [seconds, default 10] [rounds, default 3]
#
# Needs wrk, curl and (for PostgreSQL) psql. Targets 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
ROUNDS=${2:-3}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
cargo build --release -q -p vouch
BIN=$PWD/target/release/vouch
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

stores=("sqlite://$WORK/bench.db")
if [ -n "${VOUCH_BENCH_POSTGRES_URL:-}" ]; then
    psql "$VOUCH_BENCH_POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS vouch_bench_a WITH (FORCE)" -c "CREATE DATABASE vouch_bench_a" 2>/dev/null
    stores+=("${VOUCH_BENCH_POSTGRES_URL%/*}/vouch_bench_a")
fi
declare -A KEYS
for db in "${stores[@]}"; do
    (cd "$WORK" && VOUCH_DATABASE_URL=$db "$BIN" demo >/dev/null)
    KEYS[$db]=$(cd "$WORK" && VOUCH_DATABASE_URL=$db "$BIN" api-keys create --name bench --scope read 2>/dev/null)
done
builds=("this build:$BIN")
[ -n "${BASELINE_BIN:-}" ] && builds=("baseline:$BASELINE_BIN" "${builds[@]}")

echo "| round | store | binary | requests/s | p99 |"
echo "|---|---|---|---:|---:|"
for round in $(seq 1 "$ROUNDS"); do
    # Alternate which build goes first: the first warms the caches for the second.
    order=("${builds[@]}")
    if [ $((round % 2)) -eq 0 ] && [ ${#builds[@]} -eq 2 ]; then order=("${builds[1]}" "${builds[0]}"); fi
    for db in "${stores[@]}"; do
        for build in "${order[@]}"; do
            name=${build%%:*}; bin=${build#*:}
            VOUCH_DATABASE_URL=$db RUST_LOG=warn "$bin" serve --no-worker --bind 127.0.0.1:18230 >/dev/null 2>&1 &
            server=$!
            for _ in $(seq 1 50); do curl -sf http://127.0.0.1:18230/readyz >/dev/null && break; sleep 0.2; done
            curl -sf http://127.0.0.1:18230/readyz >/dev/null || { echo "$name did not start on ${db%%:*}"; exit 1; }
            out=$(wrk -t2 -c32 -d"${SECS}s" --latency -H "Authorization: Bearer ${KEYS[$db]}" 'http://127.0.0.1:18230/api/v1/accounts?limit=20')
            rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
            grep -q "Non-2xx" <<<"$out" && name="$name (NON-2xx answers!)"
            echo "| $round | ${db%%:*} | $name | $rps | $p99 |"
            kill "$server" 2>/dev/null || true; wait "$server" || true
        done
    done
done
