# Shell functions for a private PostgreSQL 15 cluster in a folder of its own, reachable only on a
# Unix socket in that folder: never the system cluster, never a TCP port. Sourced by
# deploy/quickstart.sh and tests/run.sh.
#
# initdb refuses to run as root, so as root the cluster belongs to the "postgres" user (created by
# Debian's postgresql package); as a normal user it belongs to that user.

AUSCULT_PG_BIN=${AUSCULT_PG_BIN:-/usr/lib/postgresql/15/bin}

auscult_pg_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# auscult_pg_folder DIR: makes DIR for a cluster, owned by whoever will run the server.
auscult_pg_folder() {
  local dir=$1
  if [[ ${#dir} -gt 90 ]]; then
    echo "pg: $dir is too long for a Unix socket path; choose a shorter folder" >&2
    return 1
  fi
  if [[ $(id -u) -eq 0 ]]; then
    install -d -o postgres -g postgres -m 0700 "$dir"
    if ! runuser -u postgres -- test -x "$dir"; then
      echo "pg: user postgres cannot reach $dir (a parent folder is private); choose another folder" >&2
      return 1
    fi
  else
    install -d -m 0700 "$dir"
  fi
}

# auscult_pg_start DIR [postgres -c options...]: initialises DIR/data on first use, starts the
# server with its socket in DIR, and sets AUSCULT_PG_SOCKET_DIR, AUSCULT_PG_PORT and
# AUSCULT_PG_ADMIN_URI (the postgres superuser, database "postgres").
auscult_pg_start() {
  local dir=$1
  shift
  local port=${AUSCULT_PG_PORT:-55432}
  auscult_pg_folder "$dir" || return 1
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    auscult_pg_as_owner "$AUSCULT_PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  fi
  local opts="-k $dir -p $port -c listen_addresses=''"
  local o
  for o in "$@"; do opts+=" $o"; done
  if ! auscult_pg_as_owner "$AUSCULT_PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    auscult_pg_as_owner "$AUSCULT_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$opts" start \
      >/dev/null || { tail -20 "$dir/server.log" >&2; return 1; }
  fi
  AUSCULT_PG_SOCKET_DIR=$dir
  AUSCULT_PG_PORT=$port
  AUSCULT_PG_ADMIN_URI="postgresql://postgres@/postgres?host=$dir&port=$port"
  export AUSCULT_PG_SOCKET_DIR AUSCULT_PG_PORT AUSCULT_PG_ADMIN_URI
}

# auscult_pg_start_standby DIR PRIMARY [postgres -c options...]: a hot standby that streams from the
# primary PRIMARY names (a libpq connection string whose user has the REPLICATION attribute, e.g.
# "host=/srv/pg port=55432 user=replicator application_name=dashboards"), in DIR/data with its
# socket in DIR on port AUSCULT_PG_PORT. On first use DIR/data is copied from the primary with
# pg_basebackup -R, which writes standby.signal and primary_conninfo (postgresql.auto.conf); later
# calls start the same standby again. Sets the variables auscult_pg_start sets, for the standby.
# docs/scale-out.md shows the same steps for a production server.
auscult_pg_start_standby() {
  local dir=$1 primary=$2
  shift 2
  auscult_pg_folder "$dir" || return 1
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    auscult_pg_as_owner "$AUSCULT_PG_BIN/pg_basebackup" -D "$dir/data" -d "$primary" -R -X stream \
      --checkpoint=fast >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; return 1; }
  fi
  auscult_pg_start "$dir" "$@"
}

auscult_pg_stop() {
  local dir=$1
  [[ -f "$dir/data/postmaster.pid" ]] || return 0
  auscult_pg_as_owner "$AUSCULT_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# auscult_pg_uri DATABASE [USER]: the URI of a database in the running private cluster, for USER
# (default postgres, the superuser). The cluster trusts its socket, so no password.
auscult_pg_uri() {
  echo "postgresql://${2:-postgres}@/$1?host=$AUSCULT_PG_SOCKET_DIR&port=$AUSCULT_PG_PORT"
}

auscult_psql() {
  PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 "$AUSCULT_PG_ADMIN_URI" "$@"
}
