#!/usr/bin/env bash
# The program dashboard over a large program: GET /api/v1/programs/{id}/stats (what the
# console's dashboard draws: clicks, referred signups and wins per day, totals, top referrers,
# rewards by status) on a program with 1,000,000 participants, 1,000,000 referrals (50,000
# referrers, a quarter won) and 10,000,000 clicks spread over the last 365 days, after
# `vouch rollups rebuild`. wrk (2 threads × 16 connections), release build, on SQLite and
# (when VOUCH_BENCH_POSTGRES_URL is set) PostgreSQL.
#
# The baseline in the same run is the same request for an empty program on the same server
# (the cost of the request itself; the difference is the cost of the data). Both the default
# range (the last 30 days) and a whole year are measured. The ranking of top referrers is
# kept while the range's win count stays the same (at most 30 s), so repeated requests for
# one range measure the kept ranking; the rows "a different range each request" ask for a
# year-long range ending on a random one of the last 30 days (about 2,000 ranges), so nearly
# every request ranks afresh: with one connection (the latency one user sees) and with 16
# (the machine's limit).
#
#   bench/dashboard.sh [seconds, default 10] [clicks, default 10000000] [referrals, default 1000000]
#
# VOUCH_BENCH_RUNS (default 3) repeats the measurements on the same data, each run measuring
# its baseline again.
#
# The rows are cloned by SQL from ones made through the API (a participant, a referral), so
# they hold what the application writes. Generating them takes minutes. Needs wrk, curl,
# python3 (and psql for PostgreSQL). Targets 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
CLICKS=${2:-10000000}
REFERRALS=${3:-1000000}
RUNS=${VOUCH_BENCH_RUNS:-3}
unset VOUCH_BENCH_RUNS  # every other VOUCH_* variable must be a setting of vouch's
REFERRERS=$(( REFERRALS / 20 ))  # 50,000 for a million referrals
for tool in wrk curl python3; do command -v $tool >/dev/null || { echo "install $tool"; exit 1; }; done
cargo build --release -q -p vouch
BIN=$PWD/target/release/vouch
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

stores=("sqlite://$WORK/bench.db")
if [ -n "${VOUCH_BENCH_POSTGRES_URL:-}" ]; then
    psql "$VOUCH_BENCH_POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS vouch_bench_d WITH (FORCE)" -c "CREATE DATABASE vouch_bench_d" 2>/dev/null
    stores+=("${VOUCH_BENCH_POSTGRES_URL%/*}/vouch_bench_d")
fi

# Runs SQL on the store: sqlite through Python's sqlite3, PostgreSQL through psql.
sql() { # url, sql text
    if [[ $1 == sqlite* ]]; then
        python3 - "${1#sqlite://}" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
for row in db.execute(sys.argv[2]).fetchall():
    print("|".join("" if v is None else str(v) for v in row))
PY
    else
        psql "$1" -AtqX -v ON_ERROR_STOP=1 -c "$2"
    fi
}
columns() { # url, table: its columns, comma-separated, in order
    if [[ $1 == sqlite* ]]; then
        sql "$1" "SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_table_info('$2') ORDER BY cid)"
    else
        sql "$1" "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '$2'"
    fi
}
# `INSERT INTO table SELECT …` cloning the template row `id` n times, with some columns
# replaced by expressions over n (the series) and d.at (one of the 365 days).
clone() { # url, table, template id, count, "col=expr;col=expr"
    local url=$1 table=$2 template=$3 count=$4 overrides=$5 cols select="" series
    cols=$(columns "$url" "$table")
    IFS=, read -ra list <<<"$cols"
    for c in "${list[@]}"; do
        local expr="t.$c"
        IFS=';' read -ra pairs <<<"$overrides"
        for p in "${pairs[@]}"; do [ "${p%%=*}" = "$c" ] && expr=${p#*=}; done
        select+="${select:+, }$expr"
    done
    if [[ $url == sqlite* ]]; then
        series="WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $count)"
    else
        series="WITH g(n) AS (SELECT generate_series(1, $count))"
    fi
    sql "$url" "INSERT INTO $table ($cols) $series SELECT $select FROM g JOIN bench_days d ON d.n = g.n % 365 CROSS JOIN $table t WHERE t.id = '$template'" >/dev/null
}

echo "| store | run | request | requests/s | p50 | p99 | non-2xx | timeouts |"
echo "|---|---:|---|---:|---:|---:|---:|---:|"
row() { # store, run, label, wrk output
    local rps p50 p99 bad slow
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$4"); p50=$(awk '$1=="50%" {print $2}' <<<"$4"); p99=$(awk '$1=="99%" {print $2}' <<<"$4")
    bad=$(awk '/Non-2xx/ {print $5}' <<<"$4")
    # Requests wrk gave up on after 2 s are not in its latencies: count them beside.
    slow=$(sed -n 's/.*timeout \([0-9]*\).*/\1/p' <<<"$4")
    echo "| $1 | $2 | $3 | $rps | $p50 | $p99 | ${bad:-0} | ${slow:-0} |"
}
PORT=18190
# A year-long range (300–364 days) ending on one of the last 30 days, new on each request.
cat > "$WORK/ranges.lua" <<'LUA'
math.randomseed(os.time())
request = function()
  local to = os.time() - math.random(0, 29) * 86400
  local from = to - math.random(300, 364) * 86400
  return wrk.format("GET", wrk.path .. "?from=" .. os.date("!%Y-%m-%d", from) .. "&to=" .. os.date("!%Y-%m-%d", to))
end
LUA
for db in "${stores[@]}"; do
    store=${db%%:*}
    export VOUCH_DATABASE_URL=$db
    KEY=$("$BIN" api-keys create --name bench --scope admin 2>/dev/null)
    serve() {
        RUST_LOG=warn "$BIN" serve --no-worker --bind 127.0.0.1:$PORT > "$WORK/serve.log" 2>&1 &
        SERVER=$!
        for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
    }
    api() { # method, path, body
        curl -sf -X "$1" "http://127.0.0.1:$PORT$2" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' ${3:+-d "$3"}
    }
    id_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
    serve
    BIG=$(api POST /api/v1/programs '{"name":"Big","landing_url":"https://shop.example.com/welcome"}' | id_of)
    EMPTY=$(api POST /api/v1/programs '{"name":"Empty","landing_url":"https://shop.example.com/welcome"}' | id_of)
    for p in "$BIG" "$EMPTY"; do api POST "/api/v1/programs/$p/status" '{"status":"live"}' >/dev/null; done
    CODE=$(api POST "/api/v1/programs/$BIG/participants" '{"email":"template-referrer@bench.example","first_name":"Tess"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
    api POST "/api/v1/programs/$BIG/participants" "{\"email\":\"template-friend@bench.example\",\"referred_by\":\"$CODE\"}" >/dev/null
    kill -TERM "$SERVER"; wait "$SERVER" || true

    PARTICIPANT=$(sql "$db" "SELECT id FROM participants WHERE email = 'template-friend@bench.example'")
    REFERRAL=$(sql "$db" "SELECT id FROM referrals WHERE referred_id = '$PARTICIPANT'")
    start=$(date +%s)
    sql "$db" "CREATE TABLE bench_days (n INTEGER PRIMARY KEY, at TEXT NOT NULL)" >/dev/null
    days=$(python3 - <<'PY'
import datetime
now = datetime.datetime.now(datetime.timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
at = lambda n: (now - datetime.timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
print(", ".join(f"({n}, '{at(n)}')" for n in range(365)))
PY
)
    sql "$db" "INSERT INTO bench_days (n, at) VALUES $days" >/dev/null
    clone "$db" participants "$PARTICIPANT" "$REFERRALS" \
        "id='par_bench' || g.n;email='b' || g.n || '@bench.example';email_key='b' || g.n || '@bench.example';code='BENCH' || g.n;created_at=d.at;updated_at=d.at;referred_by=NULL"
    clone "$db" referrals "$REFERRAL" "$REFERRALS" \
        "id='ref_bench' || g.n;referrer_id='par_bench' || (g.n % $REFERRERS + 1);referred_id='par_bench' || g.n;created_at=d.at;updated_at=d.at;stage=CASE WHEN g.n % 4 = 0 THEN 'won' ELSE t.stage END;won_at=CASE WHEN g.n % 4 = 0 THEN d.at ELSE NULL END"
    if [[ $db == sqlite* ]]; then series="WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $CLICKS)"; else series="WITH g(n) AS (SELECT generate_series(1, $CLICKS))"; fi
    sql "$db" "INSERT INTO clicks (id, at, program_id, participant_id, code, visitor_hash, referrer, utm, device_class)
        $series SELECT 'clk_bench' || g.n, d.at, '$BIG', 'par_bench' || (g.n % $REFERRERS + 1), 'BENCH' || (g.n % $REFERRERS + 1), 'v' || g.n, NULL, NULL, 'desktop'
        FROM g JOIN bench_days d ON d.n = g.n % 365" >/dev/null
    sql "$db" "DROP TABLE bench_days" >/dev/null
    "$BIN" rollups rebuild >/dev/null
    [[ $db == sqlite* ]] || sql "$db" "VACUUM ANALYZE" >/dev/null
    echo "<!-- $store: $(sql "$db" "SELECT COUNT(*) FROM clicks") clicks, $(sql "$db" "SELECT COUNT(*) FROM referrals") referrals, $(sql "$db" "SELECT COUNT(*) FROM daily_counts") rollup rows; generated and rebuilt in $(( $(date +%s) - start )) s -->"

    serve
    year_ago=$(python3 -c 'import datetime; print((datetime.date.today() - datetime.timedelta(days=364)).isoformat())')
    for run in $(seq 1 "$RUNS"); do
        for range in "" "?from=$year_ago"; do
            label=${range:+a year}; label=${label:-30 days}
            out=$(wrk -t2 -c16 -d"${SECS}s" --latency -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/api/v1/programs/$EMPTY/stats$range")
            row "$store" "$run" "empty program, $label (baseline)" "$out"
            out=$(wrk -t2 -c16 -d"${SECS}s" --latency -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/api/v1/programs/$BIG/stats$range")
            row "$store" "$run" "$CLICKS clicks / $REFERRALS referrals, $label" "$out"
        done
        for connections in 1 16; do
            out=$(wrk -t1 -c"$connections" -d"${SECS}s" --latency -s "$WORK/ranges.lua" -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/api/v1/programs/$BIG/stats")
            row "$store" "$run" "same, ~a year, a different range each request, $connections connection(s)" "$out"
        done
    done
    kill -TERM "$SERVER"; wait "$SERVER" || true
    PORT=$((PORT + 1))
done
