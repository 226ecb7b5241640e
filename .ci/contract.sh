#!/usr/bin/env bash
# The API contract check: the real binary on a fresh SQLite database, and schemathesis
# generating requests from the OpenAPI document it serves (positive and negative data, then
# the stateful links). It fails on any server error, any answer that breaks the document, any
# undocumented status, any schema-valid request refused without the document saying why
# (.ci/schemathesis.toml lists those), and any schema-violating request accepted.
#
# Bounded: VOUCH_CONTRACT_SECONDS (default 180) of generation. VOUCH_CONTRACT_SEED picks the
# seed (default fixed, so CI is repeatable; any other seed explores further).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v schemathesis >/dev/null 2>&1; then
    python3 -m pip install --quiet 'schemathesis==4.32.5'
fi
cargo build --quiet -p vouch
bin="$PWD/target/debug/vouch"

work=$(mktemp -d)
export VOUCH_DATABASE_URL="sqlite://$work/vouch.db"
export RUST_LOG=warn
"$bin" migrate >/dev/null
key=$("$bin" api-keys create --name contract --scope admin 2>/dev/null)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.1
done

schemathesis --config-file .ci/schemathesis.toml run \
    "http://127.0.0.1:$port/api/v1/openapi.json" \
    -H "Authorization: Bearer $key" \
    --phases examples,coverage,fuzzing,stateful \
    --max-time "${VOUCH_CONTRACT_SECONDS:-180}" \
    --seed "${VOUCH_CONTRACT_SEED:-20261129}" \
    --workers 2 \
    --no-color
