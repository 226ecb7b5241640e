#!/usr/bin/env bash
# Two builds of vouch, the same attributed-signup load, alternating: for comparing a change
# with the commit before it on this machine, in the same run. Each run starts
# `vouch serve --no-worker` on a fresh database (SQLite, and PostgreSQL when
# VOUCH_BENCH_POSTGRES_URL is set), makes a live program with a reward every 5 wins and 100
# referrers through the API, then runs wrk (2 threads × 16 connections) POSTing signups
# `referred_by` one of the referrers in turn (bench/signups.lua, as bench/signups.sh's
# attributed row). The order of the builds flips every round. Prints, per run: signups/s, p99,
# the server's CPU time per signup (user + system from /proc around the load) and its group
# commits (groups / writes they held / groups run again because a write failed, from
# /metrics); on PostgreSQL also the deadlocks PostgreSQL detected in the run's database
# (pg_stat_database, read once the server's connections have closed and reported them).
#
#   bench/signups-ab.sh BEFORE_BIN AFTER_BIN [rounds, default 3] [seconds, default 10]
#
# BENCH_STORES=postgres (or sqlite) runs one store only.
#
# Needs wrk, curl, python3 (and psql for PostgreSQL). Targets 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=$1; AFTER=$2; ROUNDS=${3:-3}; SECS=${4:-10}
for tool in wrk curl python3; do command -v $tool >/dev/null || { echo "install $tool"; exit 1; }; done
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=18390
stores=(sqlite)
[ -n "${VOUCH_BENCH_POSTGRES_URL:-}" ] && stores+=(postgres)
if [ -n "${BENCH_STORES:-}" ]; then
    read -ra stores <<<"$BENCH_STORES"
    for store in "${stores[@]}"; do
        [[ "$store" == sqlite || "$store" == postgres ]] || { echo "BENCH_STORES: sqlite and/or postgres, not $store"; exit 1; }
    done
    [[ " ${stores[*]} " == *" postgres "* && -z "${VOUCH_BENCH_POSTGRES_URL:-}" ]] && { echo "BENCH_STORES names postgres: set VOUCH_BENCH_POSTGRES_URL"; exit 1; }
fi

run() { # bin, store: one run, one table row
    local bin=$1 store=$2 db
    if [ "$store" = sqlite ]; then
        rm -f "$WORK"/ab.db*; db="sqlite://$WORK/ab.db"
    else
        psql "$VOUCH_BENCH_POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS vouch_bench_ab WITH (FORCE)" -c "CREATE DATABASE vouch_bench_ab" 2>/dev/null
        db="${VOUCH_BENCH_POSTGRES_URL%/*}/vouch_bench_ab"
    fi
    export VOUCH_DATABASE_URL=$db
    local key metrics=bench-metrics-token-0123456789 server program
    key=$("$bin" api-keys create --name bench --scope admin 2>/dev/null)
    RUST_LOG=warn VOUCH_METRICS_TOKEN=$metrics "$bin" serve --no-worker --bind 127.0.0.1:$PORT > "$WORK/serve.log" 2>&1 &
    server=$!
    for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
    api() { curl -sf -X "$1" "http://127.0.0.1:$PORT$2" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$3"; }
    program=$(api POST /api/v1/programs '{"name":"Bench","landing_url":"https://shop.example.com/welcome"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    api POST "/api/v1/programs/$program/status" '{"status":"live"}' >/dev/null
    api POST "/api/v1/programs/$program/reward-rules" '{"name":"Every 5","trigger":"every","threshold":5,"amount":500}' >/dev/null
    : > "$WORK/codes.txt"
    for i in $(seq 1 100); do
        api POST "/api/v1/programs/$program/participants" "{\"email\":\"referrer$i@bench.example\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])' >> "$WORK/codes.txt"
    done
    # This machine's PostgreSQL runs with autovacuum off (its CI configuration), so nothing
    # would analyze the new tables: each connection would keep the plans it made while they
    # were empty, and one (the fraud check's lookup by email key) scans the whole program.
    # A server with autovacuum on analyzes a table after its first 50 rows; so does this.
    if [ "$store" = postgres ]; then psql "$db" -qc ANALYZE; fi
    local c0 c1 out groups
    c0=$(awk '{print $14 + $15}' "/proc/$server/stat")
    out=$(CODES="$WORK/codes.txt" KEY=$key SIGNUP_PATH="/api/v1/programs/$program/participants" ATTRIBUTED=1 RUN=ab \
        wrk -t2 -c16 -d"${SECS}s" --latency -s bench/signups.lua "http://127.0.0.1:$PORT")
    c1=$(awk '{print $14 + $15}' "/proc/$server/stat")
    groups=$(curl -sf "http://127.0.0.1:$PORT/metrics" -H "Authorization: Bearer $metrics" | awk '/^vouch_group_commit/ {print $2}' | paste -sd/ -)
    kill -TERM "$server"; wait "$server" || true
    local deadlocks=—
    if [ "$store" = postgres ]; then
        deadlocks=$(psql "$VOUCH_BENCH_POSTGRES_URL" -Atc "SELECT deadlocks FROM pg_stat_database WHERE datname = 'vouch_bench_ab'")
    fi
    python3 - "$c0" "$c1" "$(getconf CLK_TCK)" "$groups" "$deadlocks" <<PY
import re, sys
out = """$out"""
c0, c1, tck, groups, deadlocks = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
rps = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
reqs = int(re.search(r"(\d+) requests in", out).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
cpu = (c1 - c0) / tck * 1000 / max(reqs, 1)
print(f"| $store | {rps} | {p99} | {cpu:.2f} ms | {groups} | {bad.group(1) if bad else 0} | {deadlocks} |")
PY
}
echo "| round | build | store | signups/s | p99 | CPU per signup | groups/writes/reruns | non-2xx | deadlocks |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
for round in $(seq 1 "$ROUNDS"); do
    if (( round % 2 )); then order=(before after); else order=(after before); fi
    for build in "${order[@]}"; do
        bin=$BEFORE; [ "$build" = after ] && bin=$AFTER
        for store in "${stores[@]}"; do
            echo "| $round | $build |$(run "$bin" "$store" | cut -c2-)"
        done
    done
done
