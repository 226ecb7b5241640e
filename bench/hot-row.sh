#!/usr/bin/env bash
# What one counter row costs PostgreSQL when every transaction adds to it, with no application:
# 16 pgbench clients each commit an insert and an addition to a day's count, (a) all to one
# row, (b) to one of 16 shards, client k to shard k mod 16 (Vouch takes shards in turn, so
# transactions committing together hold different ones), (c) no count at all. A row being added to stays locked until
# its transaction's commit is flushed, so (a) runs one flush after another: the ceiling a
# program's row of the day in `daily_counts` put on transactions committing referred signups,
# before it was split into shards (migration 0033). Three rounds, one line per row.
#
#   VOUCH_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres bench/hot-row.sh [seconds, default 8]
#
# Needs psql and pgbench. Targets the database server the URL names (loopback here).
set -euo pipefail
SECS=${1:-8}
URL=${VOUCH_BENCH_POSTGRES_URL:?set VOUCH_BENCH_POSTGRES_URL}
[[ "$URL" =~ ^postgres(ql)?://[^/]+/[^/]+$ ]] || { echo "VOUCH_BENCH_POSTGRES_URL must name a database: postgres://user@host:port/postgres"; exit 1; }
DB="${URL%/*}/vouch_bench_hot_row"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; psql "$URL" -qc "DROP DATABASE IF EXISTS vouch_bench_hot_row WITH (FORCE)" 2>/dev/null || true' EXIT
psql "$URL" -q -c "DROP DATABASE IF EXISTS vouch_bench_hot_row WITH (FORCE)" -c "CREATE DATABASE vouch_bench_hot_row"
psql "$DB" -q -c "CREATE TABLE counts (program_id TEXT, day TEXT, shard INTEGER, signups BIGINT, PRIMARY KEY (program_id, day, shard))" \
    -c "CREATE TABLE signups (id BIGSERIAL PRIMARY KEY, email TEXT)"
add() { printf 'BEGIN;\nINSERT INTO signups (email) VALUES (%s);\n%sCOMMIT;\n' "'a@example.com'" "$1"; }
upsert="INSERT INTO counts VALUES ('prg', '2026-12-02', %s, 1) ON CONFLICT (program_id, day, shard) DO UPDATE SET signups = counts.signups + 1;\n"
add "$(printf "$upsert" 0)" > "$WORK/one_row.sql"
{ echo '\set s :client_id % 16'; add "$(printf "$upsert" :s)"; } > "$WORK/sixteen_shards.sql"
add "" > "$WORK/no_count.sql"
echo "| round | transactions | commits/s |"
echo "|---|---|---:|"
for round in 1 2 3; do
    for script in one_row sixteen_shards no_count; do
        tps=$(PGSSLMODE=disable pgbench -n -M prepared -c 16 -j 2 -T "$SECS" -f "$WORK/$script.sql" "$DB" 2>&1 | awk '/^tps/ {printf "%.0f", $3; exit}')
        echo "| $round | $script | $tps |"
    done
done
