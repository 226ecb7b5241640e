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
# With PostgreSQL, each round also runs the page's query alone under pgbench (same 32 clients,
# prepared statements, rows sent and discarded): what the database and these cores can give
# this page with no application, the floor Vouch's figure compares with. pgbench runs without
# TLS, as Vouch reaches a database on loopback; for a database on another machine, where Vouch
# keeps TLS, the floor is not like for like. Each Vouch row also
# gives the server's CPU time per request (user + system, from /proc/{pid}/stat).
#
# Needs wrk, curl and (for PostgreSQL) psql and pgbench. Targets 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
ROUNDS=${2:-3}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
if [ -n "${VOUCH_BENCH_POSTGRES_URL:-}" ]; then
    for tool in psql pgbench; do command -v $tool >/dev/null || { echo "install $tool (apt-get install postgresql-client)"; exit 1; }; done
fi
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

# The statement the accounts list sends for `?limit=20` (default order, one row more than the
# page to know whether another follows).
echo 'SELECT * FROM accounts WHERE 1 = 1 ORDER BY id ASC, id ASC LIMIT 21;' > "$WORK/page.sql"
TICK_US=$((1000000 / $(getconf CLK_TCK)))
# utime and stime: fields 14 and 15, counted after the command name, which may hold spaces.
ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
echo "| round | store | binary | requests/s | p99 | server CPU per request |"
echo "|---|---|---|---:|---:|---:|"
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
            before=$(ticks "$server")
            out=$(wrk -t2 -c32 -d"${SECS}s" --latency -H "Authorization: Bearer ${KEYS[$db]}" 'http://127.0.0.1:18230/api/v1/accounts?limit=20')
            after=$(ticks "$server")
            rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
            cpu=$(awk -v t=$((after - before)) -v us="$TICK_US" -v n="$(awk '/requests in/ {print $1}' <<<"$out")" 'BEGIN {if (n > 0) printf "%.0f µs", t * us / n; else print "—"}')
            grep -q "Non-2xx" <<<"$out" && name="$name (NON-2xx answers!)"
            echo "| $round | ${db%%:*} | $name | $rps | $p99 | $cpu |"
            kill "$server" 2>/dev/null || true; wait "$server" || true
        done
        if [ "${db%%:*}" = postgres ]; then
            # Without TLS, as Vouch reaches a database on loopback (libpq would negotiate it).
            tps=$(PGSSLMODE=disable pgbench -n -M prepared -c 32 -j 2 -T "$SECS" -f "$WORK/page.sql" "$db" 2>&1 | awk '/^tps/ {print $3}') || tps="pgbench failed"
            echo "| $round | postgres | pgbench, the page's query alone (the floor) | $tps | — | — |"
        fi
    done
done
