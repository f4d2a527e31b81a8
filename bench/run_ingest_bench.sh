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
#        COLLECTOR: another auscult-collector binary (say, one built from an earlier commit, for A/B)
#        KEEP=1: leave the server running with the database (and collector.log), to look at it afterwards
#        COLLECTOR_LOG_LEVEL=debug: the collector logs each settling round (batches, edges, milliseconds)
#        WITH_ADVISORIES=DIR: import these CSAF advisories first (the classifier then matches every
#        device); WITH_POLICY=DIMENSION=VALUE (say type=infusion-pump): an accepted segmentation
#        policy for that group, so that every new edge is held against it (docs/policy.md)
#        PROFILE=1: the server loads pg_stat_statements and times functions; the statements and
#        functions that took most time are printed at the end, and the plans of statements that
#        took 200 ms or more are kept in /tmp/auscult-ingest-plans.log (auto_explain)
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
  if [[ ${KEEP:-0} == 1 ]]; then
    echo "KEEP=1: the database is kept: psql '$(auscult_pg_uri auscult)'; stop it with" \
      "'source deploy/lib/pg.sh && auscult_pg_stop $dir/pg' and remove $dir"
    return
  fi
  auscult_pg_stop "$dir/pg"
  rm -rf "$dir"
}
trap cleanup EXIT
# A server sized for the machine, as an operator would: a quarter of memory for shared buffers is
# the usual start; commits stay synchronous (an acknowledged batch is on disk).
profile=()
[[ ${PROFILE:-0} == 1 ]] && profile=(-c shared_preload_libraries=pg_stat_statements,auto_explain -c track_functions=all
                                  -c pg_stat_statements.track=all -c auto_explain.log_min_duration=200ms
                                  -c auto_explain.log_analyze=on -c auto_explain.log_nested_statements=on)
AUSCULT_PG_PORT=${AUSCULT_PG_PORT:-55471} auscult_pg_start "$dir/pg" -c shared_buffers=2GB -c max_wal_size=8GB \
  -c checkpoint_timeout=15min "${profile[@]}"
# As the quickstart: the collector role owns its database and is no superuser; the dashboards' group
# role must exist before its migrations grant it the views.
auscult_psql -c "CREATE ROLE auscult LOGIN" -c "CREATE ROLE auscult_dashboard NOLOGIN" \
  -c "CREATE DATABASE auscult OWNER auscult"
[[ ${PROFILE:-0} == 1 ]] && psql -X -q "$(auscult_pg_uri auscult)" -c "CREATE EXTENSION pg_stat_statements"
port=$((AUSCULT_PG_PORT + 1000))
"${COLLECTOR:-$build/bin/auscult-collector}" --listen="127.0.0.1:$port" --db="$(auscult_pg_uri auscult auscult)" --insecure \
  --db_connections="${DB_CONNECTIONS:-4}" --log_level="${COLLECTOR_LOG_LEVEL:-warn}" >"$dir/collector.log" 2>&1 &
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
if [[ -n ${WITH_ADVISORIES:-} ]]; then
  "$build/bin/auscult" --collector="127.0.0.1:$port" --insecure advisories import "$WITH_ADVISORIES" | tail -1
fi
if [[ -n ${WITH_POLICY:-} ]]; then
  # Accepted before any device exists (the CLI's accept needs members): a policy row as it stores one.
  # (psql interpolates :'variables' only in what it reads, not in -c)
  psql -X -q -v ON_ERROR_STOP=1 "$admin" -v dimension="${WITH_POLICY%%=*}" -v value="${WITH_POLICY#*=}" \
    <<<"INSERT INTO policies (dimension, group_value, members, accepted_by) VALUES (:'dimension', :'value', 0, 'bench')"
  echo "policy for ${WITH_POLICY} accepted"
fi

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
  (SELECT count(*) FROM device_advisories) || ' advisory matches, ' ||
  (SELECT count(*) FROM policy_violations) || ' policy violations, ' || pg_size_pretty(pg_database_size('auscult'))"
if [[ ${PROFILE:-0} == 1 ]]; then
  echo
  echo "== where the database's time went (pg_stat_statements, top-level and nested)"
  psql -X -P pager=off "$(auscult_pg_uri auscult)" -c "SELECT round(total_exec_time) AS ms, calls,
      round((total_exec_time / greatest(calls, 1))::numeric, 2) AS ms_per_call, rows,
      left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS statement
    FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25" \
    -c "SELECT funcname, calls, round(total_time) AS total_ms, round(self_time) AS self_ms
        FROM pg_stat_user_functions ORDER BY total_time DESC LIMIT 15"
  cp "$dir/pg/server.log" /tmp/auscult-ingest-plans.log
fi
