#!/usr/bin/env bash
# Partner throughput (issue 10): leads sold and delivered by API post through the real worker to
# a receiver on 127.0.0.1 (with plain POSTs as the same run's baseline), and the partner
# portal's View Referrals search over many referrals, on SQLite and (when
# VOUCH_BENCH_POSTGRES_URL is set, e.g. postgres://postgres@127.0.0.1:5432/postgres) PostgreSQL.
#
#   bench/partners.sh [leads, default 2000] [referrals, default 100000]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
R=${2:-100000}
cargo build --release -q -p vouch-jobs --example partners
./target/release/examples/partners sqlite "$N" "$R"
if [ -n "${VOUCH_BENCH_POSTGRES_URL:-}" ]; then
    ./target/release/examples/partners "$VOUCH_BENCH_POSTGRES_URL" "$N" "$R"
fi
