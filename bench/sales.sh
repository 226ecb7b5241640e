#!/usr/bin/env bash
# Sales bonus throughput (issue 9): recording draft sales (the baseline), approving them (a
# bonus each), approving the bonuses (payments into the ledger), and one payout batch of all
# the due payments built, approved, exported and paid; on SQLite and (when
# VOUCH_BENCH_POSTGRES_URL is set, e.g. postgres://postgres@127.0.0.1:5432/postgres) PostgreSQL.
#
#   bench/sales.sh [sales, default 10000]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
cargo build --release -q -p vouch-app --example sales_bench
./target/release/examples/sales_bench sqlite "$N"
if [ -n "${VOUCH_BENCH_POSTGRES_URL:-}" ]; then
    ./target/release/examples/sales_bench "$VOUCH_BENCH_POSTGRES_URL" "$N"
fi
