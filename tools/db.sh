#!/usr/bin/env bash
# Local database lifecycle: start | stop | reset | bare | status | url | psql
#
#   start  ensure a PostgreSQL 15 cluster shaped like hosted Supabase runs at 127.0.0.1:$PG_PORT
#          (superuser supabase_admin; postgres NOT a superuser; pg_cron preloaded; the
#          supautils_shim loaded), apply the local platform bootstrap as supabase_admin, apply
#          pending migrations with the Supabase CLI as postgres and load supabase/seed.sql.
#          Idempotent; a cluster left behind by a crashed run is recovered. With SUPABASE_DB_URL
#          pointing elsewhere, no cluster is created: only migrations and seed are applied there.
#   stop   stop the local cluster (no-op when it is not running).
#   reset  throw the local cluster away and start from scratch.
#   bare   ensure the cluster runs with the platform bootstrap only (no migrations, no seed);
#          tests use it with PG_CLUSTER/PG_PORT for a scratch cluster.
#   status "running on 127.0.0.1:<port>" (exit 0), or why not (exit 1).
#
# Where the cluster lives: initdb and the postmaster refuse to run as root, so as root they run as
# the `postgres` OS user, which cannot enter a clone kept in a private (mode 700) folder such as
# root's home. The cluster therefore lives OUTSIDE the clone, in a folder of its own that the
# cluster's OS user owns: /var/tmp/workspace-backend-<hash of the clone path>/<PG_CLUSTER>
# (SUPABASE_LOCAL_STATE_DIR replaces /var/tmp), and .local/<PG_CLUSTER> is a symlink to it for
# people (logs). Deleting .local therefore never orphans a running cluster: the next command
# finds it again at the same place. The port is a setting of the cluster, rewritten on every
# start: changing PG_PORT moves the cluster to the new port (restarting it).
source "$(dirname "$0")/lib.sh"

# --- Settings db.sh adds to tools/lib.sh (owned by the port-convention work; kept here so that
# --- file stays as it is). lib.sh's PG_CLUSTER_DIR/PGDATA_DIR/... point into .local; the real
# --- cluster folder is outside the clone, see above.
PG_SUPERUSER=supabase_admin
PG_SUPERUSER_URL="postgresql://$PG_SUPERUSER:postgres@127.0.0.1:$PG_PORT/postgres"
# Needed to build tools/supautils_shim with PGXS.
BUILD_DEBIAN_PACKAGES="postgresql-server-dev-15 make gcc libc6-dev"
if [ "$(id -u)" -eq 0 ]; then CLUSTER_OS_USER=postgres; else CLUSTER_OS_USER="$(id -un)"; fi
STATE_BASE="${SUPABASE_LOCAL_STATE_DIR:-/var/tmp}/workspace-backend-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
LINK_DIR="$LOCAL_DIR/$PG_CLUSTER"
PG_CLUSTER_DIR="$STATE_BASE/$PG_CLUSTER"
PGDATA_DIR="$PG_CLUSTER_DIR/data"
PGSOCK_DIR="$PG_CLUSTER_DIR/run"
PGLOG_FILE="$PG_CLUSTER_DIR/postgres.log"
PLATFORM_CONF="$PGDATA_DIR/supabase_platform.conf"
SHIM_SRC="$ROOT/tools/supautils_shim"

# Libpq fails fast instead of hanging on a host that drops packets.
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-5}"

masked() { printf '%s' "$1" | sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#'; }

as_cluster_owner() {
  # From / : the clone's folder may be one the cluster's OS user cannot enter.
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u "$CLUSTER_OS_USER" -- "$@"); else (cd / && "$@"); fi
}

pg_running() { [ -f "$PGDATA_DIR/PG_VERSION" ] && as_cluster_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; }
# The port the running postmaster listens on (its postmaster.pid, line 4).
running_port() { sed -n 4p "$PGDATA_DIR/postmaster.pid" 2>/dev/null || true; }

port_in_use() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
port_pid() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -oE 'pid=[0-9]+' | head -1 | cut -d= -f2; }

# Why the port is taken, in one line; empty when it is free.
port_problem() {
  local port="$1" pid cwd
  port_in_use "$port" || return 0
  pid=$(port_pid "$port")
  if [ -z "$pid" ]; then
    printf 'port %s is already in use by another process: stop it or choose another PG_PORT' "$port"
    return 0
  fi
  cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || true)
  case "$cwd" in
    *" (deleted)")
      if [[ "$cwd" == "$ROOT/"* || "$cwd" == "$STATE_BASE/"* ]]; then
        printf 'port %s is held by an orphaned PostgreSQL of this clone (pid %s) whose data folder was deleted (%s): stop it with "kill %s", then run again' \
          "$port" "$pid" "${cwd% (deleted)}" "$pid"
        return 0
      fi
      ;;
  esac
  printf 'port %s is already in use by %s (pid %s%s): stop it or choose another PG_PORT' \
    "$port" "$(ps -o comm= -p "$pid" 2>/dev/null || echo '?')" "$pid" "${cwd:+, in $cwd}"
}

ensure_build_packages() {
  # pgxs.mk alone is not enough: postgresql-client-15 ships it, the server headers come only with
  # postgresql-server-dev-15, so look for postgres.h itself.
  if [ -x "$PG_BIN/pg_config" ] && [ -f "/usr/lib/postgresql/$PG_VERSION/lib/pgxs/src/makefiles/pgxs.mk" ] \
    && [ -f "$("$PG_BIN/pg_config" --includedir-server)/postgres.h" ] \
    && command -v make >/dev/null && command -v gcc >/dev/null; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    die "building tools/supautils_shim needs PostgreSQL's server headers: sudo apt-get install -y $BUILD_DEBIAN_PACKAGES"
  fi
  log "installing Debian packages: $BUILD_DEBIAN_PACKAGES"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $BUILD_DEBIAN_PACKAGES >&2
}

# The folder outside the clone, owned by the cluster's OS user.
ensure_state_dir() {
  if [ -L "$STATE_BASE" ] || { [ -e "$STATE_BASE" ] && [ "$(stat -c %U "$STATE_BASE")" != "$CLUSTER_OS_USER" ]; }; then
    die "$STATE_BASE is not a folder owned by $CLUSTER_OS_USER: remove it (or set SUPABASE_LOCAL_STATE_DIR) and run again"
  fi
  if [ ! -d "$STATE_BASE" ]; then
    install -d -m 700 "$STATE_BASE"
    if [ "$(id -u)" -eq 0 ]; then chown "$CLUSTER_OS_USER:$CLUSTER_OS_USER" "$STATE_BASE"; fi
  fi
  printf '%s\n' "$ROOT" >"$STATE_BASE/clone-path" 2>/dev/null || as_cluster_owner sh -c "printf '%s\n' '$ROOT' >'$STATE_BASE/clone-path'"
  as_cluster_owner mkdir -p "$PG_CLUSTER_DIR" "$PGSOCK_DIR"
  as_cluster_owner chmod 700 "$PG_CLUSTER_DIR"
}

# Clusters made by the old bootstrap lived in .local/<cluster>/data, with postgres a superuser:
# they are throwaway development clusters, so they are stopped and replaced.
retire_legacy_cluster() {
  mkdir -p "$LOCAL_DIR"
  if [ -d "$LINK_DIR" ] && [ ! -L "$LINK_DIR" ]; then
    if [ -f "$LINK_DIR/data/PG_VERSION" ]; then
      log "recreating the local cluster: .local/$PG_CLUSTER was made by the old bootstrap (postgres a superuser, unlike on Supabase); its data is thrown away"
      as_cluster_owner "$PG_BIN/pg_ctl" -D "$LINK_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$LINK_DIR"
  fi
  if [ "$(readlink "$LINK_DIR" 2>/dev/null)" != "$PG_CLUSTER_DIR" ]; then ln -sfn "$PG_CLUSTER_DIR" "$LINK_DIR"; fi
}

# tools/supautils_shim built with PGXS into $STATE_BASE/supautils_shim/<source hash>/, rebuilt
# when its sources change. Prints the folder. A new build gets a new folder: a running server
# keeps the library it loaded until it restarts.
ensure_shim() {
  local hash dir
  hash=$( (cd "$SHIM_SRC" && find . -type f ! -name '*.o' ! -name '*.so' ! -name '*.bc' | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -c1-16)
  dir="$STATE_BASE/supautils_shim/$hash"
  if [ ! -f "$dir/supautils_shim.so" ]; then
    # One build at a time (a scratch cluster may start while the main one does).
    exec 9>"$STATE_BASE/.shim-build.lock"
    flock 9
  fi
  if [ ! -f "$dir/supautils_shim.so" ]; then
    ensure_build_packages
    log "building tools/supautils_shim (PGXS, PostgreSQL $PG_VERSION)"
    local build
    build=$(mktemp -d)
    cp -r "$SHIM_SRC/." "$build/"
    if ! make -C "$build" PG_CONFIG="$PG_BIN/pg_config" >"$build/build.log" 2>&1; then
      tail -20 "$build/build.log" >&2
      die "building tools/supautils_shim failed (output above)"
    fi
    as_cluster_owner mkdir -p "$dir.partial"
    cp "$build/supautils_shim.so" "$dir.partial/"
    cp -r "$SHIM_SRC/extension_custom_scripts" "$dir.partial/"
    if [ "$(id -u)" -eq 0 ]; then chown -R "$CLUSTER_OS_USER:$CLUSTER_OS_USER" "$dir.partial"; fi
    chmod -R go-w "$dir.partial"
    rm -rf "$dir" && mv "$dir.partial" "$dir"
    rm -rf "$build"
  fi
  printf '%s' "$dir"
}

init_cluster() {
  log "creating a PostgreSQL $PG_VERSION cluster (superuser $PG_SUPERUSER) in $PG_CLUSTER_DIR"
  local pwfile="$PG_CLUSTER_DIR/.pw"
  as_cluster_owner sh -c "umask 077 && printf 'postgres\n' >'$pwfile'"
  as_cluster_owner "$PG_BIN/initdb" -D "$PGDATA_DIR" -U "$PG_SUPERUSER" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  as_cluster_owner sh -c "cat >>'$PGDATA_DIR/postgresql.conf'" <<CONF

# --- local Supabase-like stack: tools/db.sh rewrites this file on every start ---
include = 'supabase_platform.conf'
CONF
}

# The cluster's settings, regenerated on every start. Prints "port" when only the port changed,
# "other" when anything else did, nothing when unchanged.
write_platform_conf() {
  local shim_dir="$1" new old_port
  new=$(cat <<CONF
# Written by tools/db.sh on every start; edit tools/db.sh instead.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGSOCK_DIR'
max_connections = 200
shared_buffers = '1GB'
work_mem = '16MB'
maintenance_work_mem = '512MB'
max_wal_size = '4GB'
# pg_stat_statements, pg_cron and auto_explain preloaded as on Supabase (its shared_preload_libraries
# has all three; a non-superuser cannot LOAD a library); supautils_shim stands in for supautils.
shared_preload_libraries = 'pg_stat_statements, pg_cron, auto_explain, $shim_dir/supautils_shim'
# pg_stat_statements.track stays at its default, top, as on Supabase (supabase/postgres's
# postgresql.conf.j2 does not set it): 'all' also tracks every statement inside functions, policies
# and triggers, which measured 30% more Postgres CPU on an RLS transaction here (docs/PERFORMANCE.md).

supautils_shim.privileged_role = 'postgres'
supautils_shim.superuser = '$PG_SUPERUSER'
# The extensions our migrations, tests and tools create (all in Supabase's privileged list).
supautils_shim.privileged_extensions = 'pg_cron, pgtap, plpgsql_check'
supautils_shim.extension_custom_scripts_path = '$shim_dir/extension_custom_scripts'
# From Supabase's supautils.privileged_role_allowed_configs (supabase/postgres,
# ansible/files/postgresql_config/supautils.conf.j2; auto_explain.* since its PR #1426), the
# settings our tests and benchmarks use. Like supautils, only SET [LOCAL] is elevated, not set_config().
supautils_shim.privileged_role_allowed_configs = 'session_replication_role, auto_explain.*'
# Supabase's supautils.reserved_roles.
supautils_shim.reserved_roles = 'supabase_admin, supabase_auth_admin, supabase_storage_admin, supabase_replication_admin, dashboard_user, pgbouncer, service_role, authenticator, authenticated, anon'
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
)
  if [ -f "$PLATFORM_CONF" ] && [ "$(cat "$PLATFORM_CONF")" = "$new" ]; then return 0; fi
  old_port=$(sed -nE 's/^port = ([0-9]+)$/\1/p' "$PLATFORM_CONF" 2>/dev/null || true)
  local old_rest new_rest
  old_rest=$(grep -v '^port = ' "$PLATFORM_CONF" 2>/dev/null || true)
  new_rest=$(printf '%s\n' "$new" | grep -v '^port = ')
  printf '%s\n' "$new" | as_cluster_owner sh -c "cat >'$PLATFORM_CONF'"
  if [ -n "$old_port" ] && [ "$old_port" != "$PG_PORT" ] && [ "$old_rest" = "$new_rest" ]; then
    printf 'port:%s' "$old_port"
  else
    printf 'other'
  fi
}

start_cluster() {
  ensure_state_dir
  retire_legacy_cluster
  if ! pg_running; then
    # Before anything is created or built: a port taken by someone else is the user's to free.
    local taken; taken=$(port_problem "$PG_PORT")
    [ -z "$taken" ] || die "$taken"
  fi
  [ -f "$PGDATA_DIR/PG_VERSION" ] || init_cluster
  local shim_dir change
  shim_dir=$(ensure_shim)
  change=$(write_platform_conf "$shim_dir")
  if pg_running; then
    if [ -z "$change" ]; then return 0; fi
    local listening; listening=$(running_port)
    if [ "$listening" != "$PG_PORT" ]; then
      local problem; problem=$(port_problem "$PG_PORT")
      [ -z "$problem" ] || die "$problem (the cluster still runs on $listening)"
      log "PG_PORT changed from $listening to $PG_PORT: restarting the cluster on $PG_PORT"
    else
      log "cluster settings changed (tools/db.sh, tools/supautils_shim): restarting PostgreSQL"
    fi
    if ! as_cluster_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGLOG_FILE" -m fast -w -t 60 restart >/dev/null; then
      tail -20 "$PGLOG_FILE" >&2 || true
      die "PostgreSQL did not restart (log: $PGLOG_FILE)"
    fi
    return 0
  fi
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
  local problem; problem=$(port_problem "$PG_PORT")
  [ -z "$problem" ] || die "$problem"
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  if ! as_cluster_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGLOG_FILE" -w -t 60 start >/dev/null; then
    tail -20 "$PGLOG_FILE" >&2 || true
    die "PostgreSQL did not start (log: $PGLOG_FILE)"
  fi
}

# One line naming the cause: wrong password, database missing, unreachable. Only a server that
# is still starting up is waited for.
wait_for_db() {
  local url="$1" err
  for _ in $(seq 1 40); do
    if err=$(psql "$url" -X -qAt -c 'select 1' 2>&1 >/dev/null); then return 0; fi
    case "$err" in
      *"starting up"* | *"shutting down"* | *"in recovery mode"*) sleep 0.25 ;;
      *"password authentication failed"* | *"no password supplied"*)
        die "wrong password for $(masked "$url"): fix the password in SUPABASE_DB_URL (the local stack's is 'postgres')" ;;
      *"does not exist"*)
        die "$(masked "$url"): $(printf '%s' "$err" | grep -oE '(role|database) "[^"]+" does not exist' | head -1); check SUPABASE_DB_URL" ;;
      *)
        if using_external_db; then
          die "database at $(masked "$url") is unreachable ($(printf '%s' "$err" | tr '\n' ' ' | sed -E 's/^psql: error: //; s/ +$//')): check the host and port in SUPABASE_DB_URL"
        fi
        die "the local database at 127.0.0.1:$PG_PORT does not answer ($(printf '%s' "$err" | head -1)); see $PGLOG_FILE" ;;
    esac
  done
  die "database at $(masked "$url") is still starting up after 10 s; see $PGLOG_FILE"
}

apply_bootstrap() {
  # Local-only stand-in for what a Supabase project already has, applied by its superuser.
  PGOPTIONS="-c client_min_messages=warning" psql "$PG_SUPERUSER_URL" -X -v ON_ERROR_STOP=1 -q \
    -f "$ROOT/tools/sql/platform_bootstrap.sql" >/dev/null
}

apply_schema() {
  log "applying migrations with the Supabase CLI"
  (cd "$ROOT" && supabase migration up --db-url "$(db_url)" --yes 2>&1 | grep -vE '^(Connecting|Skipping)|--db-url is deprecated' >&2 || true)
  # `migration up` prints but does not always fail loudly; check that nothing is pending.
  # The history the CLI records (supabase_migrations.schema_migrations), against the files shipped.
  local applied pending="" file version
  applied=$(db_psql -At -c "select version from supabase_migrations.schema_migrations" 2>/dev/null || true)
  for file in "$ROOT"/supabase/migrations/*.sql; do
    version=$(basename "$file")
    version=${version%%_*}
    grep -qxF "$version" <<<"$applied" || pending="$pending $version"
  done
  [ -z "$pending" ] || die "migrations not applied:$pending"
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
      wait_for_db "$PG_SUPERUSER_URL"
      apply_bootstrap
    fi
    wait_for_db "$(db_url)"
    apply_schema
    log "database ready: $(masked "$(db_url)")"
    ;;
  bare)
    ensure_debian_packages
    start_cluster
    wait_for_db "$PG_SUPERUSER_URL"
    apply_bootstrap
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
    rm -f "$LINK_DIR"
    "$0" start
    ;;
  status)
    if pg_running; then
      echo "running on 127.0.0.1:$(running_port) (data: $PGDATA_DIR)"
    else
      problem=$(port_problem "$PG_PORT")
      if [ -n "$problem" ]; then echo "not running; $problem"; else echo "stopped"; fi
      exit 1
    fi
    ;;
  url) db_url; echo ;;
  psql) shift; db_psql "$@" ;;
  *) die "usage: db.sh start|stop|reset|bare|status|url|psql" ;;
esac
