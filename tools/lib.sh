# Shared settings for the local stack scripts. Sourced, not executed.
# Everything local lives in .local/ (git-ignored): the Postgres cluster, its socket, logs,
# the dev issuer's RSA key, backups.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL_DIR="$ROOT/.local"

# --- Ports and databases: the one place they are chosen (README, "Ports and databases") --------
# Every npm script runs through tools/run.sh, which sources this file, so every command, tool,
# test and benchmark sees the same exported values; the TypeScript side reads them through
# tools/settings.ts and refuses to guess. Set PG_PORT / GATEWAY_PORT (or any other of them) in the
# environment to move the whole stack; the others follow.
#   PG_PORT           the development database (default 54322, Supabase's local default)
#   GATEWAY_PORT      the development gateway: functions, dev issuer (default 54321)
#   TEST_PG_PORT      npm test's own cluster, .local/pg-test (default PG_PORT + 10)
#   TEST_GATEWAY_PORT npm test's gateway (default GATEWAY_PORT + 10)
#   ROLLBACK_PG_PORT  tests/migrations_test.ts's scratch cluster (default PG_PORT + 7)
#   DEPLOY_PG_PORT    tests/jobs_test.ts's deploy/restore scratch cluster (default PG_PORT + 17)
#   FAULT_PG_PORT     tests/fault_test.ts's scratch cluster, restarted under load (default PG_PORT + 12)
#   FAULT_GATEWAY_PORT tests/fault_test.ts's own gateway (default GATEWAY_PORT + 12)
#   FLOOR_PG_PORT     bench/tab_sync_floor.sh's scratch cluster, whose schema it alters (default PG_PORT + 27)
#   SUPABASE_DB_URL   an existing Supabase-compatible database instead of the local cluster
#   FUNCTIONS_URL     where the functions are served (default http://127.0.0.1:GATEWAY_PORT/functions/v1)
is_port() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }
for _name in PG_PORT GATEWAY_PORT TEST_PG_PORT TEST_GATEWAY_PORT ROLLBACK_PG_PORT DEPLOY_PG_PORT FAULT_PG_PORT \
  FAULT_GATEWAY_PORT FLOOR_PG_PORT; do
  if [ -n "${!_name:-}" ] && ! is_port "${!_name}"; then
    printf '[%s] error: %s=%s is not a port number (1-65535)\n' "$(basename "$0" .sh)" "$_name" "${!_name}" >&2
    exit 1
  fi
done
unset _name
export PG_PORT="${PG_PORT:-54322}"
export GATEWAY_PORT="${GATEWAY_PORT:-54321}"
export TEST_PG_PORT="${TEST_PG_PORT:-$((PG_PORT + 10))}"
export TEST_GATEWAY_PORT="${TEST_GATEWAY_PORT:-$((GATEWAY_PORT + 10))}"
export ROLLBACK_PG_PORT="${ROLLBACK_PG_PORT:-$((PG_PORT + 7))}"
export DEPLOY_PG_PORT="${DEPLOY_PG_PORT:-$((PG_PORT + 17))}"
export FAULT_PG_PORT="${FAULT_PG_PORT:-$((PG_PORT + 12))}"
export FAULT_GATEWAY_PORT="${FAULT_GATEWAY_PORT:-$((GATEWAY_PORT + 12))}"
export FLOOR_PG_PORT="${FLOOR_PG_PORT:-$((PG_PORT + 27))}"

# PG_CLUSTER names the cluster folder; tests start their own cluster (pg-test) beside the main one.
PG_CLUSTER="${PG_CLUSTER:-pg}"
PG_CLUSTER_DIR="$LOCAL_DIR/$PG_CLUSTER"
PGDATA_DIR="$PG_CLUSTER_DIR/data"
PGSOCK_DIR="$PG_CLUSTER_DIR/run"
PGLOG_FILE="$PG_CLUSTER_DIR/postgres.log"
PG_VERSION=15
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"
LOCAL_DB_URL="postgresql://postgres:postgres@127.0.0.1:$PG_PORT/postgres"
# chromium: the browser tests of the support console (tests/console_test.ts, puppeteer-core drives it).
DEBIAN_PACKAGES="postgresql-15 postgresql-15-cron postgresql-15-pgtap postgresql-15-plpgsql-check libtap-parser-sourcehandler-pgtap-perl chromium"

export PATH="$ROOT/node_modules/.bin:$PATH"
# The Supabase CLI and Deno read these; keep their caches inside the project tree.
export DENO_NO_UPDATE_CHECK=1
export SUPABASE_TELEMETRY_DISABLED=1
export DO_NOT_TRACK=1

log() { printf '\033[2m[%s]\033[0m %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$(basename "$0" .sh)" "$*" >&2; exit 1; }

# The database the stack uses: SUPABASE_DB_URL when given (an existing Supabase-compatible
# database, e.g. from `supabase start`), otherwise the local cluster.
db_url() { printf '%s' "${SUPABASE_DB_URL:-$LOCAL_DB_URL}"; }
using_external_db() { [ -n "${SUPABASE_DB_URL:-}" ] && [ "${SUPABASE_DB_URL}" != "$LOCAL_DB_URL" ]; }

# Installs exactly what package-lock.json records and never rewrites it: `npm ci`, or, where the
# registry lacks some optional platform package the lock would list (npm ci then calls the lock out
# of step), `npm install --no-save`, which reads the lock but does not write it. Runs when
# node_modules is missing or older than package.json / package-lock.json.
ensure_npm_packages() {
  local marker="$ROOT/node_modules/.package-lock.json"
  if [ -x "$ROOT/node_modules/.bin/deno" ] && [ -x "$ROOT/node_modules/.bin/supabase" ] && [ -f "$marker" ] \
    && [ ! "$ROOT/package.json" -nt "$marker" ] && [ ! "$ROOT/package-lock.json" -nt "$marker" ]; then
    return 0
  fi
  log "installing npm packages from package-lock.json (deno, supabase CLI)"
  local npm_flags=(--no-audit --no-fund --loglevel=error)
  (cd "$ROOT" && { npm ci "${npm_flags[@]}" >/dev/null 2>&1 || npm install --no-save "${npm_flags[@]}" >&2; }) \
    || die "npm could not install the packages of package-lock.json (see the npm error above)"
  [ -x "$ROOT/node_modules/.bin/deno" ] || die "npm install did not provide node_modules/.bin/deno"
  touch "$marker"
}

have_debian_packages() {
  [ -x "$PG_BIN/initdb" ] && [ -x /usr/bin/pg_prove ] \
    && [ -f "/usr/share/postgresql/$PG_VERSION/extension/pg_cron.control" ] \
    && [ -f "/usr/share/postgresql/$PG_VERSION/extension/pgtap.control" ] \
    && [ -f "/usr/share/postgresql/$PG_VERSION/extension/plpgsql_check.control" ] \
    && [ -x /usr/bin/chromium ]
}

ensure_debian_packages() {
  have_debian_packages && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "PostgreSQL 15 with pg_cron, pgTAP and plpgsql_check is missing. Install it with:
  sudo apt-get update && sudo apt-get install -y $DEBIAN_PACKAGES"
  fi
  log "installing Debian packages: $DEBIAN_PACKAGES"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $DEBIAN_PACKAGES >&2
  # The Debian package creates and starts a default cluster on 5432; we do not use it.
  if command -v pg_dropcluster >/dev/null 2>&1 && pg_lsclusters -h 2>/dev/null | grep -q "^$PG_VERSION main"; then
    pg_dropcluster --stop "$PG_VERSION" main >&2 || true
  fi
}

# psql against the stack's database; extra args pass through.
db_psql() { PGOPTIONS="-c client_min_messages=warning" psql "$(db_url)" -X -v ON_ERROR_STOP=1 -q "$@"; }
