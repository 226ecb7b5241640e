#!/usr/bin/env bash
# Webhook delivery throughput (issues 3 and 13): the queue alone, the HTTP floor (the same POSTs
# with no database), event emission with fan-out, and signed deliveries through the real worker
# to a receiver on 127.0.0.1 (a batch at a time, then the worker's own loop), on SQLite and (when
# VOUCH_BENCH_POSTGRES_URL is set, e.g. postgres://postgres@127.0.0.1:5432/postgres) PostgreSQL.
#
#   bench/webhooks.sh [events, default 5000]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5000}
cargo build --release -q -p vouch-jobs --example deliveries
./target/release/examples/deliveries sqlite "$N"
if [ -n "${VOUCH_BENCH_POSTGRES_URL:-}" ]; then
    ./target/release/examples/deliveries "$VOUCH_BENCH_POSTGRES_URL" "$N"
fi
