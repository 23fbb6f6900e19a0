#!/usr/bin/env bash
# Local database lifecycle: start | stop | reset | status | url | psql
#
#   start  ensure a PostgreSQL 15 cluster (pg_cron preloaded, pgTAP and plpgsql_check available)
#          runs at 127.0.0.1:54322, apply the local platform bootstrap, apply pending migrations
#          with the Supabase CLI and load supabase/seed.sql. Idempotent; a cluster left behind by a
#          crashed run is recovered. With SUPABASE_DB_URL pointing elsewhere, no cluster is created:
#          only migrations and seed are applied there.
#   stop   stop the local cluster (no-op when it is not running).
#   reset  throw the local cluster away and start from scratch.
#   bare   ensure the cluster runs with the platform bootstrap only (no migrations, no seed);
#          tests use it with PG_CLUSTER/PG_PORT for a scratch cluster.
source "$(dirname "$0")/lib.sh"

as_cluster_owner() {
  # initdb and the postmaster refuse to run as root.
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_running() { [ -f "$PGDATA_DIR/PG_VERSION" ] && as_cluster_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; }

init_cluster() {
  log "creating a PostgreSQL $PG_VERSION cluster in .local/$PG_CLUSTER"
  mkdir -p "$PGDATA_DIR" "$PGSOCK_DIR"
  local pwfile="$PG_CLUSTER_DIR/.pw"
  printf 'postgres\n' >"$pwfile"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$PG_CLUSTER_DIR"; fi
  chmod 700 "$PGDATA_DIR"
  as_cluster_owner "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  cat >>"$PGDATA_DIR/postgresql.conf" <<CONF

# --- local Supabase-like stack (tools/db.sh) ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGSOCK_DIR'
max_connections = 200
shared_buffers = '1GB'
work_mem = '16MB'
maintenance_work_mem = '512MB'
max_wal_size = '4GB'
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
# pg_cron runs each job in a background worker: no libpq connection, so no password to give
# (over TCP every job would fail to authenticate).
cron.use_background_workers = on
max_worker_processes = 32
cron.timezone = 'UTC'
timezone = 'UTC'
log_timezone = 'UTC'
# A throwaway development cluster: durability is traded for speed. Production is Supabase's.
synchronous_commit = off
# A session idle inside a transaction (a crashed client) gives its locks back after 5 minutes.
idle_in_transaction_session_timeout = '5min'
# Realtime reads changes through logical decoding.
wal_level = logical
CONF
}

# Settings added after a cluster was created are appended to it (restarting it if running).
upgrade_cluster_config() {
  local conf="$PGDATA_DIR/postgresql.conf"
  if ! grep -q "^idle_in_transaction_session_timeout" "$conf"; then
    printf "idle_in_transaction_session_timeout = '5min'\n" >>"$conf"
    if pg_running; then as_cluster_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" reload >/dev/null; fi
  fi
  if ! grep -q "^cron.use_background_workers" "$conf"; then
    printf "cron.use_background_workers = on\nmax_worker_processes = 32\n" >>"$conf"
    if pg_running; then
      log "restarting PostgreSQL to run pg_cron jobs in background workers"
      as_cluster_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGLOG_FILE" -w -t 60 restart >/dev/null
    fi
  fi
}

start_cluster() {
  [ -f "$PGDATA_DIR/PG_VERSION" ] || init_cluster
  mkdir -p "$PGSOCK_DIR"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$PGSOCK_DIR"; fi
  upgrade_cluster_config
  if pg_running; then return 0; fi
  # Recover from a crashed run: a postmaster.pid whose process is gone (or was reused by an
  # unrelated process) would make the postmaster refuse to start.
  local pidfile="$PGDATA_DIR/postmaster.pid"
  if [ -f "$pidfile" ]; then
    local pid; pid=$(head -1 "$pidfile")
    if ! ps -p "$pid" -o comm= 2>/dev/null | grep -q postgres; then
      log "removing stale postmaster.pid left by a crashed run"
      rm -f "$pidfile"
    fi
  fi
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  if ! as_cluster_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGLOG_FILE" -w -t 60 start >/dev/null; then
    tail -20 "$PGLOG_FILE" >&2 || true
    die "PostgreSQL did not start (log: .local/$PG_CLUSTER/postgres.log)"
  fi
}

wait_for_db() {
  for _ in $(seq 1 60); do
    psql "$(db_url)" -X -qAt -c 'select 1' >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  die "database at $(db_url | sed 's/:[^:@]*@/:***@/') does not answer"
}

apply_schema() {
  if ! using_external_db; then
    # Local-only stand-in for what a Supabase project already has (roles, auth.jwt(), grants).
    db_psql -f "$ROOT/tools/sql/platform_bootstrap.sql" >/dev/null
  fi
  log "applying migrations with the Supabase CLI"
  (cd "$ROOT" && supabase migration up --db-url "$(db_url)" --yes 2>&1 | grep -vE '^(Connecting|Skipping)|--db-url is deprecated' >&2 || true)
  # `migration up` prints but does not always fail loudly; check that nothing is pending.
  local pending
  pending=$(cd "$ROOT" && supabase migration list --db-url "$(db_url)" 2>/dev/null | awk -F'|' 'NF>=3 && $1 ~ /[0-9]/ && $2 !~ /[0-9]/ {print $1}' | tr -d ' ')
  [ -z "$pending" ] || die "migrations not applied: $pending"
  log "loading supabase/seed.sql"
  db_psql -f "$ROOT/supabase/seed.sql" >/dev/null
}

cmd="${1:-start}"
case "$cmd" in
  start)
    ensure_npm_packages
    if using_external_db; then
      log "SUPABASE_DB_URL is set: using that database, no local cluster"
    else
      ensure_debian_packages
      start_cluster
    fi
    wait_for_db
    apply_schema
    log "database ready: $(db_url | sed 's/:[^:@]*@/:***@/')"
    ;;
  bare)
    ensure_debian_packages
    start_cluster
    wait_for_db
    db_psql -f "$ROOT/tools/sql/platform_bootstrap.sql" >/dev/null
    ;;
  stop)
    if pg_running; then
      as_cluster_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null
      log "stopped"
    fi
    ;;
  reset)
    using_external_db && die "refusing to reset an external database; use 'supabase db reset' there"
    "$0" stop
    rm -rf "$PG_CLUSTER_DIR"
    "$0" start
    ;;
  status)
    if pg_running; then echo "running on 127.0.0.1:$PG_PORT"; else echo "stopped"; exit 1; fi
    ;;
  url) db_url; echo ;;
  psql) shift; db_psql "$@" ;;
  *) die "usage: db.sh start|stop|reset|bare|status|url|psql" ;;
esac
