#!/usr/bin/env bash
# The API contract check: the real binary on a fresh database, and schemathesis generating
# requests from the OpenAPI document it serves (the document's examples, positive and negative
# data, then the stateful links). It fails on any server error, any answer that breaks the
# document, any undocumented status, any schema-valid request refused without the document
# saying why (.ci/schemathesis.toml lists those), and any schema-violating request accepted.
#
# It runs on SQLite, then on PostgreSQL when VOUCH_TEST_POSTGRES_URL names a server (a fresh
# database is created there and dropped afterwards).
#
# One worker: with two, CPython 3.11's ast.parse, which hypothesis calls from both threads,
# fails now and then with "AST constructor recursion depth mismatch" (a race inside CPython 3.11).
#
# Bounded: VOUCH_CONTRACT_SECONDS (default 120) of generation per store. VOUCH_CONTRACT_SEED
# picks the seed (default fixed, so CI is repeatable; any other seed explores further).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v schemathesis >/dev/null 2>&1; then
    python3 -m pip install --quiet 'schemathesis==4.32.5'
fi
cargo build --quiet -p vouch
bin="$PWD/target/debug/vouch"

work=$(mktemp -d)
server=""
pg_db=""
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    if [ -n "$pg_db" ]; then
        psql "$VOUCH_TEST_POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# run_on NAME DATABASE_URL: serve Vouch on that database and point schemathesis at it.
run_on() {
    local name=$1 url=$2
    echo "== contract on $name"
    export VOUCH_DATABASE_URL="$url"
    export RUST_LOG=warn
    "$bin" migrate >/dev/null
    local key port
    key=$("$bin" api-keys create --name "contract-$name" --scope admin 2>/dev/null)
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$bin" serve --bind "127.0.0.1:$port" >"$work/serve-$name.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
        sleep 0.1
    done
    schemathesis --config-file .ci/schemathesis.toml run \
        "http://127.0.0.1:$port/api/v1/openapi.json" \
        -H "Authorization: Bearer $key" \
        --phases examples,coverage,fuzzing,stateful \
        --max-time "${VOUCH_CONTRACT_SECONDS:-120}" \
        --seed "${VOUCH_CONTRACT_SEED:-20261129}" \
        --workers 1 \
        --no-color || {
        # The server's own account of what went wrong is what a failure needs first.
        echo "== server log ($name), last errors"
        grep -iE 'error|panic' "$work/serve-$name.log" | tail -40 || true
        return 1
    }
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=""
}

run_on sqlite "sqlite://$work/vouch.db"

if [ -n "${VOUCH_TEST_POSTGRES_URL:-}" ]; then
    pg_db="vouch_contract_$$"
    psql "$VOUCH_TEST_POSTGRES_URL" -q -c "CREATE DATABASE $pg_db" >/dev/null
    run_on postgres "${VOUCH_TEST_POSTGRES_URL%/*}/$pg_db"
fi
