#!/usr/bin/env bash
# Attributed signups through the API: POST /api/v1/programs/{id}/participants with
# `referred_by` (the referral, fraud checks, the welcome and "referral won" emails and a reward
# per win, all in one transaction each) under wrk (2 threads × 16 connections), release build,
# on SQLite and (when VOUCH_BENCH_POSTGRES_URL is set) PostgreSQL. The baseline in the same run
# is the same enrolment without `referred_by`. The server runs with --no-worker so that email
# delivery does not share the two cores with the measurement.
#
# The physical floor in the same run: the rows one attributed signup writes (counted across
# every table after the run) inserted by plain SQL with no application — on PostgreSQL by
# pgbench (16 clients, one transaction per signup), on SQLite by Python's sqlite3 (one
# writer, WAL, synchronous=FULL), once with a transaction per signup and once with 64 signups
# per transaction (what group commit does at most).
#
#   bench/signups.sh [seconds, default 10]
#   BENCH_BIN=/path/to/other/vouch bench/signups.sh   # another build (e.g. a baseline commit's)
#
# Needs wrk, curl and python3. Targets 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
for tool in wrk curl python3; do command -v $tool >/dev/null || { echo "install $tool"; exit 1; }; done
[ -n "${BENCH_BIN:-}" ] || cargo build --release -q -p vouch
BIN=${BENCH_BIN:-$PWD/target/release/vouch}
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
count_rows() { # every table's rows
    if [[ $1 == sqlite* ]]; then
        python3 - "${1#sqlite://}" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
print(sum(db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables))
PY
    else
        psql "$1" -AtqX -c "SELECT SUM((xpath('/row/c/text()', query_to_xml('SELECT COUNT(*) AS c FROM ' || quote_ident(table_name), false, true, '')))[1]::text::bigint) FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
    fi
}
floor() { # store, database, rows per signup: the same number of rows by plain SQL
    if [ "$1" = sqlite ]; then
        for group in 1 64; do
            python3 - "$WORK/floor-$group.db" "$3" "$group" "$SECS" <<'PY'
import sqlite3, sys, time, uuid
path, rows, group, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE floor_rows (id TEXT PRIMARY KEY, owner TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL, at TEXT NOT NULL)")
db.execute("CREATE INDEX floor_rows_owner ON floor_rows (owner, at)")
body = "x" * 200
done, start = 0, time.monotonic()
while time.monotonic() - start < secs:
    db.execute("BEGIN IMMEDIATE")
    for _ in range(group):
        owner = uuid.uuid4().hex
        for r in range(rows):
            db.execute("INSERT INTO floor_rows VALUES (?, ?, ?, ?, ?)", (uuid.uuid4().hex, owner, f"k{r}", body, "2026-11-30T00:00:00Z"))
    db.execute("COMMIT")
    done += group
print(f"{done / (time.monotonic() - start):.0f}")
PY
        done | { read -r one; read -r many
            echo "| sqlite | floor: $3 rows by plain SQL, a transaction per signup | $one | | | |"
            echo "| sqlite | floor: the same, 64 signups per transaction | $many | | | |"; }
    else
        local fdb=${VOUCH_BENCH_POSTGRES_URL%/*}/vouch_bench_floor
        psql "$VOUCH_BENCH_POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS vouch_bench_floor WITH (FORCE)" -c "CREATE DATABASE vouch_bench_floor" 2>/dev/null
        psql "$fdb" -qX -c "CREATE TABLE floor_rows (id TEXT PRIMARY KEY, owner TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL, at TEXT NOT NULL)" -c "CREATE INDEX floor_rows_owner ON floor_rows (owner, at)"
        { echo "BEGIN;"; for r in $(seq 1 "$3"); do
            echo "INSERT INTO floor_rows VALUES (gen_random_uuid()::text, :client_id || '-' || random(), 'k$r', repeat('x', 200), '2026-11-30T00:00:00Z');"
          done; echo "COMMIT;"; } > "$WORK/floor.sql"
        local tps
        tps=$(pgbench -n -c 16 -j 2 -T "$SECS" -f "$WORK/floor.sql" "$fdb" 2>/dev/null | awk '/^tps/ {print int($3)}')
        echo "| postgres | floor: $3 rows by plain SQL (pgbench, 16 clients), a transaction per signup | $tps | | | |"
    fi
}
PORT=18190
for db in "${stores[@]}"; do
    store=${db%%:*}; if [ "$store" = postgresql ]; then store=postgres; fi
    export VOUCH_DATABASE_URL=$db
    KEY=$("$BIN" api-keys create --name bench --scope admin 2>/dev/null)
    METRICS=bench-metrics-token-0123456789
    RUST_LOG=warn VOUCH_METRICS_TOKEN=$METRICS "$BIN" serve --no-worker --bind 127.0.0.1:$PORT > "$WORK/serve-$store.log" 2>&1 &
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
    # This machine's PostgreSQL runs with autovacuum off (its CI configuration), so nothing
    # would analyze the new tables: each connection would keep the plans it made while they
    # were empty, and one (the fraud check's lookup by email key) scans the whole program.
    # A server with autovacuum on analyzes a table after its first 50 rows; so does this.
    if [ "$store" = postgres ]; then psql "$db" -qc ANALYZE; fi
    export CODES="$WORK/codes.txt" KEY SIGNUP_PATH="/api/v1/programs/$PROGRAM/participants"
    out=$(ATTRIBUTED=0 RUN=plain wrk -t2 -c16 -d"${SECS}s" --latency -s bench/signups.lua "http://127.0.0.1:$PORT")
    row "$store" "without referrer (baseline)" "$out"
    rows_before=$(count_rows "$db")
    out=$(ATTRIBUTED=1 RUN=ref wrk -t2 -c16 -d"${SECS}s" --latency -s bench/signups.lua "http://127.0.0.1:$PORT")
    row "$store" "attributed (\`referred_by\`)" "$out"
    won=$(curl -sf "http://127.0.0.1:$PORT/api/v1/programs/$PROGRAM/stats" -H "Authorization: Bearer $KEY" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["totals"]["won"])' || echo "?")
    echo "|  | referrals won and recorded after the run | $won | | | |"
    groups=$(curl -sf "http://127.0.0.1:$PORT/metrics" -H "Authorization: Bearer $METRICS" | awk '/^vouch_group_commit/ {print $2}' | paste -sd/ -)
    echo "|  | group commits / writes they held / groups run again (whole run) | $groups | | | |"
    kill -TERM "$SERVER"; wait "$SERVER" || true
    # Rows an attributed signup wrote: every table's rows after minus before, per signup.
    rows_after=$(count_rows "$db")
    per=$(python3 -c "print(max(1, round(($rows_after - $rows_before) / max(1, $won))))")
    echo "|  | rows written per attributed signup | $per | | | |"
    floor "$store" "$db" "$per"
    PORT=$((PORT + 1))
done
