#!/usr/bin/env bash
# `vouch import participants` of N rows (default 20,000) on SQLite and (when
# VOUCH_BENCH_POSTGRES_URL is set) PostgreSQL, release build, then the same file again (every
# row already enrolled). Half the rows name a referrer earlier in the file and one in a hundred
# a referrer later in it (a second pass).
#
# Baseline in the same run, the floor with no application: the rows Vouch writes for the file
# (participant, referral, its stage change, two audit entries, three events with payloads of
# the same size, the daily counts), written by plain SQL into a database with Vouch's own
# schema (migrated by the same binary): multi-row INSERTs of 1,000 rows, 2,000 file rows per
# transaction, as Vouch batches. SQL text generated before the clock starts; run by Python's
# sqlite3 (WAL, synchronous=FULL, foreign keys on, as Vouch opens it) or by psql.
#
#   bench/import.sh [rows, default 20000]
#
# VOUCH_BENCH_RUNS (default 3) repeats everything (fresh databases each time) with one build.
#
# Needs curl, python3 (and psql for PostgreSQL). Targets 127.0.0.1 only. Disk: about 3 KB per
# row per database.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
RUNS=${VOUCH_BENCH_RUNS:-3}
unset VOUCH_BENCH_RUNS  # every other VOUCH_* variable must be a setting of vouch's
for tool in curl python3; do command -v $tool >/dev/null || { echo "install $tool"; exit 1; }; done
cargo build --release -q -p vouch
BIN=$PWD/target/release/vouch
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 - "$N" "$WORK" <<'PY'
import sys
n, work = int(sys.argv[1]), sys.argv[2]
code = lambda i: f"I{i:07d}"
with open(f"{work}/people.csv", "w") as f:
    f.write("email,first_name,referred_by,code\n")
    for i in range(n):
        if i % 100 == 98 and i + 2 < n:
            ref = code(i + 2)          # a referrer later in the file (with none itself)
        elif i % 2 == 1:
            ref = code(i - 1)          # a referrer earlier in the file
        else:
            ref = ""
        f.write(f"p{i}@import.example,P{i},{ref},{code(i)}\n")
PY

# The baseline's SQL for program $2 (the same people as people.csv), into $3.
baseline_sql() {
    python3 - "$N" "$1" "$2" <<'PY'
import sys, json
n, program, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
at = "2026-11-30T00:00:00.000Z"
day = at[:10]
code = lambda i: f"I{i:07d}"
def referrer_of(i):
    if i % 100 == 98 and i + 2 < n: return i + 2
    if i % 2 == 1: return i - 1
    return None
q = lambda v: "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"
def values(rows): return ", ".join("(" + ", ".join(q(v) for v in r) + ")" for r in rows)
def participant_json(i):
    return json.dumps({"id": f"par_{i:026d}", "program_id": program, "email": f"p{i}@import.example",
        "first_name": f"P{i}", "last_name": None, "code": code(i), "referral_link": f"http://127.0.0.1:8080/r/{code(i)}",
        "referred_by": None, "status": "active", "account_id": None, "signed_up_at": at, "created_at": at, "updated_at": at})
def referral_json(i, r):
    return json.dumps({"id": f"ref_{i:026d}", "program_id": program, "referrer_id": f"par_{r:026d}",
        "referred_id": f"par_{i:026d}", "source": "import", "stage": "won", "won_at": at, "flags": [],
        "review": "none", "review_reason": None, "reviewed_by": None, "reviewed_at": None, "created_at": at, "updated_at": at})
with open(out, "w") as sql:
    # A row whose referrer is not in yet waits for the next pass over the file, as in Vouch.
    passes, pending, done = [], list(range(n)), set()
    while pending:
        this, waiting = [], []
        for i in pending:
            r = referrer_of(i)
            if r is None or r in done:
                this.append(i)
                done.add(i)
            else:
                waiting.append(i)
        passes.append(this)
        pending = waiting
    for order in passes:
        for start in range(0, len(order), 2000):
            batch = order[start:start + 2000]
            sql.write("BEGIN;\n")
            for s in range(0, len(batch), 1000):
                rows = batch[s:s + 1000]
                refs = [(i, referrer_of(i)) for i in rows if referrer_of(i) is not None]
                sql.write("INSERT INTO participants (id, program_id, email, first_name, last_name, code, status, signed_up_at, created_at, updated_at, referred_by, email_key) VALUES "
                    + values((f"par_{i:026d}", program, f"p{i}@import.example", f"P{i}", None, code(i), "active", at, at, at,
                              None if referrer_of(i) is None else f"par_{referrer_of(i):026d}", f"p{i}@import.example") for i in rows) + ";\n")
                if refs:
                    sql.write("INSERT INTO referrals (id, program_id, referrer_id, referred_id, source, stage, won_at, created_at, updated_at, flags, review) VALUES "
                        + values((f"ref_{i:026d}", program, f"par_{r:026d}", f"par_{i:026d}", "import", "won", at, at, at, "[]", "none") for i, r in refs) + ";\n")
                    sql.write("INSERT INTO referral_stage_changes (id, referral_id, from_stage, to_stage, reason, actor, at) VALUES "
                        + values((f"rsc_{i:026d}", f"ref_{i:026d}", None, "won", None, "cli", at) for i, r in refs) + ";\n")
                audit = []
                events = []
                for i in rows:
                    p = participant_json(i)
                    audit.append((f"aud_p{i:026d}", at, "system", None, "cli", "participant.created", "participant", f"par_{i:026d}", None, p, None, None))
                    events.append((f"evt_p{i:026d}", "participant.created", at, p))
                    r = referrer_of(i)
                    if r is not None:
                        j = referral_json(i, r)
                        audit.append((f"aud_r{i:026d}", at, "system", None, "cli", "referral.created", "referral", f"ref_{i:026d}", None, j, None, None))
                        events.append((f"evt_r{i:026d}", "referral.created", at, j))
                        events.append((f"evt_w{i:026d}", "referral.won", at, j))
                sql.write("INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_label, action, entity, entity_id, before_json, after_json, request_id, client_ip) VALUES " + values(audit) + ";\n")
                sql.write("INSERT INTO events (id, type, created_at, data) VALUES " + values(events) + ";\n")
            counts = {}
            for i in batch:
                r = referrer_of(i)
                if r is not None:
                    counts[f"par_{r:026d}"] = counts.get(f"par_{r:026d}", 0) + 1
            if counts:
                total = sum(counts.values())
                rows = [(program, who, day, 0, c, c) for who, c in counts.items()] + [(program, "", day, 0, total, total)]
                sql.write("INSERT INTO daily_counts (program_id, participant_id, day, clicks, signups, won) VALUES " + values(rows)
                          + " ON CONFLICT (program_id, participant_id, day, shard) DO UPDATE SET signups = daily_counts.signups + excluded.signups, won = daily_counts.won + excluded.won;\n")
            sql.write("COMMIT;\n")
PY
}

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
per_s() { python3 -c "print(f'{$1 / ($3 - $2):,.0f}')"; }

PORT=18290
# Migrates the database $1 with Vouch, creates a program in it and prints "id slug".
make_program() {
    export VOUCH_DATABASE_URL=$1
    local key server
    key=$("$BIN" api-keys create --name bench --scope admin 2>/dev/null)
    RUST_LOG=warn "$BIN" serve --no-worker --bind 127.0.0.1:$PORT > "$WORK/serve-$PORT.log" 2>&1 &
    server=$!
    for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
    curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/programs" -H "Authorization: Bearer $key" \
        -H 'Content-Type: application/json' -d '{"name":"Imported","landing_url":"https://shop.example.com"}' |
        python3 -c 'import json,sys; p = json.load(sys.stdin); print(p["id"], p["slug"])'
    kill -TERM "$server"; wait "$server" || true
    PORT=$((PORT + 1))
}

stores=("sqlite://$WORK/bench.db")
baselines=("sqlite://$WORK/baseline.db")
if [ -n "${VOUCH_BENCH_POSTGRES_URL:-}" ]; then
    stores+=("${VOUCH_BENCH_POSTGRES_URL%/*}/vouch_bench_i")
    baselines+=("${VOUCH_BENCH_POSTGRES_URL%/*}/vouch_bench_ib")
fi
echo "| run | store | what | rows | seconds | rows/s |"
echo "|---:|---|---|---:|---:|---:|"
for run in $(seq 1 "$RUNS"); do
if [ -n "${VOUCH_BENCH_POSTGRES_URL:-}" ]; then
    psql "$VOUCH_BENCH_POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS vouch_bench_i WITH (FORCE)" -c "CREATE DATABASE vouch_bench_i" -c "DROP DATABASE IF EXISTS vouch_bench_ib WITH (FORCE)" -c "CREATE DATABASE vouch_bench_ib" 2>/dev/null
fi
for k in "${!stores[@]}"; do
    db=${stores[$k]}
    base=${baselines[$k]}
    store=${db%%:*}
    # The floor: the same rows by plain SQL into the same schema.
    read -r BASE_ID _ < <(make_program "$base")
    baseline_sql "$BASE_ID" "$WORK/baseline.sql"
    t0=$(now)
    if [ "$store" = sqlite ]; then
        python3 - "${base#sqlite://}" "$WORK/baseline.sql" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL"); db.execute("PRAGMA foreign_keys=ON")
for stmt in open(sys.argv[2]):
    db.execute(stmt)
PY
    else
        psql "$base" -q -X -v ON_ERROR_STOP=1 -f "$WORK/baseline.sql" >/dev/null
    fi
    t1=$(now)
    rm -f "$WORK/baseline.sql"
    echo "| $run | $store | plain SQL, the same rows into the same schema (baseline) | $N | $(secs "$t0" "$t1") | $(per_s "$N" "$t0" "$t1") |"

    read -r _ SLUG < <(make_program "$db")
    export VOUCH_DATABASE_URL=$db
    t0=$(now)
    RUST_LOG=warn "$BIN" import participants --program "$SLUG" "$WORK/people.csv" > "$WORK/import-$store.txt"
    t1=$(now)
    echo "| $run | $store | \`vouch import participants\` | $N | $(secs "$t0" "$t1") | $(per_s "$N" "$t0" "$t1") |"
    t0=$(now)
    RUST_LOG=warn "$BIN" import participants --program "$SLUG" "$WORK/people.csv" > "$WORK/again-$store.txt"
    t1=$(now)
    echo "| $run | $store | the same file again (all already enrolled) | $N | $(secs "$t0" "$t1") | $(per_s "$N" "$t0" "$t1") |"
    echo "|  |  | $(tail -n 1 "$WORK/import-$store.txt") | | | |"
    if [ "$store" = sqlite ]; then rm -f "$WORK"/bench.db* "$WORK"/baseline.db*; fi
done
done
