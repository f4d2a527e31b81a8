#!/usr/bin/env bash
# See Auscult work on one machine: installs what is missing, builds, starts a private PostgreSQL
# cluster in a folder of its own and a collector, runs a sensor over bundled captures (or the
# captures you name), and prints the device inventory and its connections.
#
#   deploy/quickstart.sh [CAPTURE.pcap ...]   run (again); each run starts from an empty inventory
#   deploy/quickstart.sh --keep CAPTURE ...   add to the inventory of the previous run
#   deploy/quickstart.sh stop                 stop the collector and the PostgreSQL cluster
#
# Environment: AUSCULT_STATE_DIR (where the cluster, logs and pid files live), AUSCULT_PORT
# (collector port, default 7740).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source deploy/lib/build.sh
source deploy/lib/pg.sh

port=${AUSCULT_PORT:-7740}
build=$root/build
if [[ -n "${AUSCULT_STATE_DIR:-}" ]]; then
  state=$AUSCULT_STATE_DIR
elif [[ $(id -u) -eq 0 ]] && ! runuser -u postgres -- test -x "$root" 2>/dev/null; then
  # As root the cluster belongs to "postgres", which cannot reach a checkout under /root.
  state=/var/lib/auscult/quickstart
else
  state=$root/.auscult
fi
mkdir -p "$state"
[[ $(id -u) -eq 0 ]] && chmod 0755 "$state"
pidfile=$state/collector.pid

stop_collector() {
  if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")"
    for _ in $(seq 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$pidfile"
}

if [[ "${1:-}" == "stop" ]]; then
  stop_collector
  auscult_pg_stop "$state/pg"
  echo "quickstart: collector and PostgreSQL stopped (data kept in $state; delete it to start over)"
  exit 0
fi
keep=0
if [[ "${1:-}" == "--keep" ]]; then
  keep=1
  shift
fi
captures=("$@")
if [[ ${#captures[@]} -eq 0 ]]; then
  d=$root/tests/data/captures
  captures=("$d/mixed/wikipedia.pcap" "$d/medical/hl7.pcap" "$d/dhcp/dhcp.pcap" "$d/lldp-cdp/LLDP_and_CDP.pcap"
            "$d/ethernet-vlan/twovlan.pcap" "$d/clinical/dicom_store_worklist.pcap" "$d/clinical/hl7_mllp.pcap")
fi
for c in "${captures[@]}"; do
  [[ -r "$c" ]] || { echo "quickstart: cannot read capture file $c" >&2; exit 1; }
done

echo "quickstart: checking packages" >&2
deploy/install-deps.sh
echo "quickstart: building (the first build takes a few minutes)" >&2
auscult_build "$build" --target auscult-sensor auscult-collector auscult

echo "quickstart: PostgreSQL in $state/pg" >&2
AUSCULT_PG_PORT=55432 auscult_pg_start "$state/pg"
stop_collector
# The collector runs as role "auscult", which owns its database and is no superuser (it refuses to
# run as one: docs/security.md). Only a superuser may make roles, so the dashboards' group role is
# made here too, before the collector's migrations grant it the dashboard views.
auscult_psql <<'EOT'
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auscult') THEN
    CREATE ROLE auscult LOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auscult_dashboard') THEN
    CREATE ROLE auscult_dashboard NOLOGIN;
  END IF;
END
$$;
ALTER ROLE auscult LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
EOT
if [[ $keep -eq 0 ]]; then
  auscult_psql -c "DROP DATABASE IF EXISTS auscult WITH (FORCE)"
fi
if [[ -z $(auscult_psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'auscult'") ]]; then
  auscult_psql -c "CREATE DATABASE auscult OWNER auscult"
else
  # Kept from a previous run: if a quickstart made it before the collector ran as its own role, its
  # objects belong to postgres; hand them over (nothing to do otherwise).
  PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -v owner=auscult \
    "$(auscult_pg_uri auscult)" -f deploy/db-hand-over.sql >/dev/null
fi
db=$(auscult_pg_uri auscult auscult)

if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "quickstart: port $port is taken by another program; run with AUSCULT_PORT=<free port>" >&2
  exit 1
fi
"$build/bin/auscult-collector" --listen="127.0.0.1:$port" --db="$db" --insecure >"$state/collector.log" 2>&1 &
echo $! >"$pidfile"
for _ in $(seq 150); do
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$(cat "$pidfile")" 2>/dev/null || { cat "$state/collector.log" >&2; exit 1; }
  sleep 0.2
done

cli=("$build/bin/auscult" --collector="127.0.0.1:$port" --insecure)
if [[ $keep -eq 0 ]]; then
  # Departments come from a segment map; this one fits the bundled captures (edit it for yours).
  "${cli[@]}" segments import "$root/deploy/examples/segments.csv" >/dev/null
fi
list=$(IFS=,; echo "${captures[*]}")
"$build/bin/auscult-sensor" --pcap="$list" --collector="127.0.0.1:$port" --insecure \
  --sensor_id=quickstart --site=demo-hospital --wing=north-wing --log_level=warn

echo
echo "== Devices, riskiest first (docs/risk.md; types from collector/data/device_rules.txt) =="
"${cli[@]}" devices
echo
echo "== Connections (largest 15) =="
"${cli[@]}" connections --limit=15
echo
echo "== Clinical connections (HL7, DICOM, ...: patient data kinds are counted, never read) =="
"${cli[@]}" connections --clinical --limit=15
cat <<EOT

Auscult is running: collector on 127.0.0.1:$port, PostgreSQL in $state/pg (log: $state/collector.log).
Ask more:
  $build/bin/auscult --collector=127.0.0.1:$port --insecure devices --json
  $build/bin/auscult --collector=127.0.0.1:$port --insecure device 1      # why it is what it is, its risk factors
  $build/bin/auscult --collector=127.0.0.1:$port --insecure devices --category=medical
  $build/bin/auscult --collector=127.0.0.1:$port --insecure connections --protocol=dns
  psql "$db" -c 'SELECT * FROM connections LIMIT 5'
Add captures:  deploy/quickstart.sh --keep your-capture.pcap
Stop:          deploy/quickstart.sh stop
EOT
