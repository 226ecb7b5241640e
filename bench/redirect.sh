#!/usr/bin/env bash
# GET /r/{code} under wrk (2 threads × 32 connections), release build, 10 000 participants, on
# SQLite and (when VOUCH_BENCH_POSTGRES_URL is set) PostgreSQL; the baseline is nginx answering
# `return 302` on the same machine in the same run. After each run the server is stopped
# gracefully and its log says how many clicks were counted and how many were written. The
# server runs with --no-worker: enrolling the 10 000 participants queues their welcome emails,
# whose delivery must not share the two cores with the measurement. The server's resident
# memory is read from /proc at the end of the load (VmRSS) with its peak over the whole run,
# enrolment included (VmHWM). Two floors are measured with the same script cost per request:
# tokio, hyper and axum answering the same 302 with nothing else (the HTTP stack's own floor,
# crates/server/examples/bare_redirect.rs), and each Vouch server's GET /healthz (its routing and
# middleware with no work behind them).
#
# Each row also gives the CPU time the server spent per request (user + system, from
# /proc/{pid}/stat over the load; nginx's summed over its workers), which compares servers
# without depending on how fast the shared cores were in that round.
#
#   bench/redirect.sh [seconds, default 10]
#   BENCH_BIN=/path/to/other/vouch bench/redirect.sh   # another build (e.g. a baseline commit's)
#
# Needs wrk, nginx and python3 (Debian: apt-get install wrk nginx). Targets 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
for tool in wrk nginx python3 pgrep; do command -v $tool >/dev/null || { echo "install $tool"; exit 1; }; done
cargo build --release -q -p vouch -p vouch-server --example bare_redirect
BIN=${BENCH_BIN:-$PWD/target/release/vouch}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null; rm -rf "$WORK"' EXIT

# Baseline: nginx returning the same kind of redirect.
cat > "$WORK/nginx.conf" <<NGINX
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:18098;
    location ~ ^/r/(.*)\$ { return 302 https://shop.example.com/welcome?ref=\$1; }
  }
}
NGINX
nginx -c "$WORK/nginx.conf"
# The HTTP stack's floor: the same 302 from tokio, hyper and axum with nothing else.
target/release/examples/bare_redirect 127.0.0.1:18097 &
BARE=$!

enrol() { # base url, key, program id
python3 - "$1" "$2" "$3" "$WORK/codes.txt" <<'PY'
import json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
base, key, program, out = sys.argv[1:5]
def enrol(i):
    req = urllib.request.Request(f"{base}/api/v1/programs/{program}/participants", method="POST",
        data=json.dumps({"email": f"p{i}@bench.example", "first_name": f"P{i}"}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)["code"]
with ThreadPoolExecutor(16) as pool:
    codes = list(pool.map(enrol, range(10000)))
open(out, "w").write("\n".join(codes) + "\n")
PY
}

stores=("sqlite://$WORK/bench.db")
if [ -n "${VOUCH_BENCH_POSTGRES_URL:-}" ]; then
    psql "$VOUCH_BENCH_POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS vouch_bench_r WITH (FORCE)" -c "CREATE DATABASE vouch_bench_r" 2>/dev/null
    stores+=("${VOUCH_BENCH_POSTGRES_URL%/*}/vouch_bench_r")
fi
echo "| server | requests/s | p50 | p99 | server CPU per request | clicks counted / written | resident memory (peak) |"
echo "|---|---:|---:|---:|---:|---|---|"
TICK_US=$((1000000 / $(getconf CLK_TCK)))
cpu_ticks() { # pids: user + system clock ticks so far, summed
    local total=0 pid
    # utime and stime: fields 14 and 15, counted after the command name, which may hold spaces.
    for pid in "$@"; do total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}'))); done
    echo "$total"
}
# load url pids... : runs wrk against url, sets OUT (its output) and CPU (µs per request)
load() {
    local url=$1 before after requests; shift
    before=$(cpu_ticks "$@")
    OUT=$(CODES="$WORK/codes.txt" wrk -t2 -c32 -d"${SECS}s" --latency -s bench/redirect.lua "$url")
    after=$(cpu_ticks "$@")
    requests=$(awk '/requests in/ {print $1}' <<<"$OUT")
    CPU=$(awk -v t=$((after - before)) -v us=$TICK_US -v n="$requests" 'BEGIN {if (n > 0) printf "%.1f µs", t * us / n; else print "—"}')
}
row() { # label, wrk output, cpu, clicks, memory
    local rps p50 p99
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$2"); p50=$(awk '$1=="50%" {print $2}' <<<"$2"); p99=$(awk '$1=="99%" {print $2}' <<<"$2")
    echo "| $1 | $rps | $p50 | $p99 | $3 | $4 | $5 |"
}
memory() { # pid: "VmRSS MB (VmHWM MB)"
    awk '/^VmRSS/ {rss=$2} /^VmHWM/ {hwm=$2} END {printf "%.0f MB (%.0f MB)", rss/1024, hwm/1024}' "/proc/$1/status"
}
PORT=18090
for db in "${stores[@]}"; do
    store=${db%%:*}
    export VOUCH_DATABASE_URL=$db
    KEY=$("$BIN" api-keys create --name bench --scope admin 2>/dev/null)
    # Request lines off, as nginx's access_log is; the click buffer still reports at shutdown.
    RUST_LOG=warn,vouch_server::clicks=info "$BIN" serve --no-worker --bind 127.0.0.1:$PORT --log-format json > "$WORK/serve-$store.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
    PROGRAM=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/programs" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
        -d '{"name":"Bench","landing_url":"https://shop.example.com/welcome"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/programs/$PROGRAM/status" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"status":"live"}' >/dev/null
    enrol "http://127.0.0.1:$PORT" "$KEY" "$PROGRAM"
    if [ "$store" = sqlite ]; then
        # shellcheck disable=SC2046 # one pid per word
        load http://127.0.0.1:18098 $(pgrep -P "$(cat "$WORK/nginx.pid")")
        row "nginx \`return 302\` (baseline)" "$OUT" "$CPU" "—" "—"
        load http://127.0.0.1:18097 "$BARE"
        row "axum \`302\`, no application (the HTTP stack's floor)" "$OUT" "$CPU" "—" "—"
    fi
    # Vouch's floor: its routing and middleware with no work behind them.
    FIXED_PATH=/healthz load "http://127.0.0.1:$PORT" "$SERVER"
    row "vouch ($store) GET /healthz" "$OUT" "$CPU" "—" "—"
    load "http://127.0.0.1:$PORT" "$SERVER"
    mem=$(memory "$SERVER")
    kill -TERM "$SERVER"; wait "$SERVER" || true
    clicks=$(grep '"click buffer written out"' "$WORK/serve-$store.log" | python3 -c 'import json,sys; d=json.loads(sys.stdin.readline()); print(d["counted"], "/", d["written"])')
    row "vouch ($store)" "$OUT" "$CPU" "$clicks" "$mem"
    PORT=$((PORT + 1))
done
