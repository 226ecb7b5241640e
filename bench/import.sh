#!/usr/bin/env bash
# `vouch import participants` of N rows (default 20,000) on SQLite and (when
# VOUCH_BENCH_POSTGRES_URL is set) PostgreSQL, release build, then the same file again (every
# row already enrolled). Half the rows name a referrer earlier in the file and one in a hundred
# a referrer later in it (a second pass).
#
# Baseline in the same run, the floor of a row-at-a-time import with no application: the same
# participant and referral rows written by plain SQL, one INSERT per row and 500 rows per
# transaction (as Vouch batches), into tables with the same unique keys — on SQLite through
# Python's sqlite3 (WAL, synchronous=FULL, as Vouch opens it), on PostgreSQL through psql.
#
#   bench/import.sh [rows, default 20000]
#
# Needs curl, python3 (and psql for PostgreSQL). Targets 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
for tool in curl python3; do command -v $tool >/dev/null || { echo "install $tool"; exit 1; }; done
cargo build --release -q -p vouch
BIN=$PWD/target/release/vouch
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 - "$N" "$WORK" <<'PY'
import sys
n, work = int(sys.argv[1]), sys.argv[2]
code = lambda i: f"I{i:07d}"
with open(f"{work}/people.csv", "w") as f, open(f"{work}/baseline.sql", "w") as sql:
    f.write("email,first_name,referred_by,code\n")
    sql.write("CREATE TABLE bp (id TEXT PRIMARY KEY, program_id TEXT NOT NULL, email TEXT NOT NULL, "
              "first_name TEXT, code TEXT NOT NULL UNIQUE, referred_by TEXT, created_at TEXT NOT NULL, "
              "UNIQUE (program_id, email));\n"
              "CREATE TABLE br (id TEXT PRIMARY KEY, program_id TEXT NOT NULL, referrer TEXT NOT NULL, "
              "referred TEXT NOT NULL UNIQUE, stage TEXT NOT NULL, created_at TEXT NOT NULL);\n")
    for i in range(n):
        if i % 100 == 98 and i + 2 < n:
            ref = code(i + 2)          # a referrer later in the file (with none itself)
        elif i % 2 == 1:
            ref = code(i - 1)          # a referrer earlier in the file
        else:
            ref = ""
        f.write(f"p{i}@import.example,P{i},{ref},{code(i)}\n")
        if i % 500 == 0:
            sql.write("BEGIN;\n")
        sql.write(f"INSERT INTO bp VALUES ('par_{i}', 'prg_1', 'p{i}@import.example', 'P{i}', "
                  f"'{code(i)}', {repr(ref) if ref else 'NULL'}, '2026-11-30T00:00:00Z');\n")
        if ref:
            sql.write(f"INSERT INTO br VALUES ('ref_{i}', 'prg_1', '{ref}', 'par_{i}', 'won', "
                      f"'2026-11-30T00:00:00Z');\n")
        if i % 500 == 499 or i == n - 1:
            sql.write("COMMIT;\n")
PY

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
per_s() { python3 -c "print(f'{$1 / ($3 - $2):,.0f}')"; }

stores=("sqlite://$WORK/bench.db")
if [ -n "${VOUCH_BENCH_POSTGRES_URL:-}" ]; then
    psql "$VOUCH_BENCH_POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS vouch_bench_i WITH (FORCE)" -c "CREATE DATABASE vouch_bench_i" -c "DROP DATABASE IF EXISTS vouch_bench_ib WITH (FORCE)" -c "CREATE DATABASE vouch_bench_ib" 2>/dev/null
    stores+=("${VOUCH_BENCH_POSTGRES_URL%/*}/vouch_bench_i")
fi
echo "| store | what | rows | seconds | rows/s |"
echo "|---|---|---:|---:|---:|"
PORT=18290
for db in "${stores[@]}"; do
    store=${db%%:*}
    # The floor: plain SQL, same rows, same transactions.
    t0=$(now)
    if [ "$store" = sqlite ]; then
        python3 - "$WORK/baseline.db" "$WORK/baseline.sql" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
for stmt in open(sys.argv[2]):
    db.execute(stmt)
PY
    else
        psql "${VOUCH_BENCH_POSTGRES_URL%/*}/vouch_bench_ib" -q -X -f "$WORK/baseline.sql" >/dev/null
    fi
    t1=$(now)
    echo "| $store | plain SQL, same rows (baseline) | $N | $(secs "$t0" "$t1") | $(per_s "$N" "$t0" "$t1") |"

    export VOUCH_DATABASE_URL=$db
    KEY=$("$BIN" api-keys create --name bench --scope admin 2>/dev/null)
    RUST_LOG=warn "$BIN" serve --no-worker --bind 127.0.0.1:$PORT > "$WORK/serve-$store.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
    SLUG=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/programs" -H "Authorization: Bearer $KEY" \
        -H 'Content-Type: application/json' -d '{"name":"Imported","landing_url":"https://shop.example.com"}' |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["slug"])')
    kill -TERM "$SERVER"; wait "$SERVER" || true
    t0=$(now)
    RUST_LOG=warn "$BIN" import participants --program "$SLUG" "$WORK/people.csv" > "$WORK/import-$store.txt"
    t1=$(now)
    echo "| $store | \`vouch import participants\` | $N | $(secs "$t0" "$t1") | $(per_s "$N" "$t0" "$t1") |"
    t0=$(now)
    RUST_LOG=warn "$BIN" import participants --program "$SLUG" "$WORK/people.csv" > "$WORK/again-$store.txt"
    t1=$(now)
    echo "| $store | the same file again (all already enrolled) | $N | $(secs "$t0" "$t1") | $(per_s "$N" "$t0" "$t1") |"
    echo "|  | $(cat "$WORK/import-$store.txt") | | | |"
    PORT=$((PORT + 1))
done
