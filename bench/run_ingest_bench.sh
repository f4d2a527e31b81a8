#!/usr/bin/env bash
# Ingest at hospital scale (docs/performance.md): a private PostgreSQL in a temporary folder
# (deploy/lib/pg.sh), a collector on it as its own non-superuser role, and auscult-loadgen playing
# simulated sensors against it, in three runs on the same growing database:
#   1. the baseline, raw COPY of flow rows into an unindexed table, then the ingest as fast as the
#      collector acknowledges (flow observations applied per second, and the ratio);
#   2. the ingest paced at RATE (default: 80 % of what run 1 reached), for freshness at that load;
#   3. with MEMORY_DURATION > 0, the same paced load for that long, the collector's RSS sampled.
#
#   bench/run_ingest_bench.sh [BUILD_DIR]
#   env: SENSORS (20) DEVICES_PER_SENSOR (500) DURATION (60s) RATE MEMORY_DURATION (600s; 0 skips)
#        DB_CONNECTIONS (the collector's --db_connections, 4)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
sensors=${SENSORS:-20}
devices=${DEVICES_PER_SENSOR:-500}
duration=${DURATION:-60s}
memory_duration=${MEMORY_DURATION:-600s}
source deploy/lib/pg.sh
cmake --build "$build" --target auscult-collector auscult-loadgen >/dev/null

dir=$(mktemp -d /tmp/auscult-ingest-XXXXXX)
chmod 755 "$dir"  # the cluster's owner (postgres, when run as root) must reach its folder
collector_pid=
cleanup() {
  [[ -n $collector_pid ]] && kill "$collector_pid" 2>/dev/null && wait "$collector_pid" 2>/dev/null
  auscult_pg_stop "$dir/pg"
  rm -rf "$dir"
}
trap cleanup EXIT
# A server sized for the machine, as an operator would: a quarter of memory for shared buffers is
# the usual start; commits stay synchronous (an acknowledged batch is on disk).
AUSCULT_PG_PORT=${AUSCULT_PG_PORT:-55471} auscult_pg_start "$dir/pg" -c shared_buffers=2GB -c max_wal_size=8GB \
  -c checkpoint_timeout=15min
# As the quickstart: the collector role owns its database and is no superuser; the dashboards' group
# role must exist before its migrations grant it the views.
auscult_psql -c "CREATE ROLE auscult LOGIN" -c "CREATE ROLE auscult_dashboard NOLOGIN" \
  -c "CREATE DATABASE auscult OWNER auscult"
port=$((AUSCULT_PG_PORT + 1000))
"$build/bin/auscult-collector" --listen="127.0.0.1:$port" --db="$(auscult_pg_uri auscult auscult)" --insecure \
  --db_connections="${DB_CONNECTIONS:-4}" --log_level=warn >"$dir/collector.log" 2>&1 &
collector_pid=$!
# Up when it listens (its migrations run first); its log is shown if it stops instead.
for i in $(seq 600); do
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  if ! kill -0 "$collector_pid" 2>/dev/null || [[ $i -eq 600 ]]; then
    echo "run_ingest_bench: the collector did not start:" >&2
    cat "$dir/collector.log" >&2
    exit 1
  fi
  sleep 0.1
done
loadgen=("$build/bin/auscult-loadgen" --collector="127.0.0.1:$port" --sensors="$sensors"
         --devices_per_sensor="$devices" --sites=$((sensors < 4 ? sensors : 4)) --collector_pid="$collector_pid")
admin=$(auscult_pg_uri auscult)

echo "== 1. as fast as acknowledged, $sensors sensors, $((sensors * devices)) devices, $duration"
"${loadgen[@]}" --duration="$duration" --db="$admin" | tee "$dir/run1.txt"
rate=${RATE:-$(awk '/^  rate:/ {printf "%d", $2 * 0.8}' "$dir/run1.txt")}

echo
echo "== 2. paced at $rate flow observations/s, $duration"
"${loadgen[@]}" --duration="$duration" --rate="$rate" --db="$admin" --copy_rows=0 --seed=2

if [[ $memory_duration != 0 ]]; then
  echo
  echo "== 3. memory: paced at $rate flow observations/s for $memory_duration"
  "${loadgen[@]}" --duration="$memory_duration" --rate="$rate" --db="$admin" --copy_rows=0 --seed=3 \
    --rss_interval=30s
fi
echo
psql -X -tA "$admin" -c "SELECT 'database: ' || (SELECT count(*) FROM devices) || ' devices, ' ||
  (SELECT count(*) FROM flows) || ' flows, ' || (SELECT count(*) FROM graph_edges) || ' edges, ' ||
  pg_size_pretty(pg_database_size('auscult'))"
