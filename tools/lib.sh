# Shared settings for the local stack scripts. Sourced, not executed.
# Everything local lives in .local/ (git-ignored): the Postgres cluster, its socket, logs,
# the dev issuer's RSA key, backups.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL_DIR="$ROOT/.local"
# PG_CLUSTER names the cluster folder; tests start a scratch cluster beside the main one.
PG_CLUSTER="${PG_CLUSTER:-pg}"
PG_CLUSTER_DIR="$LOCAL_DIR/$PG_CLUSTER"
PGDATA_DIR="$PG_CLUSTER_DIR/data"
PGSOCK_DIR="$PG_CLUSTER_DIR/run"
PGLOG_FILE="$PG_CLUSTER_DIR/postgres.log"
PG_PORT="${PG_PORT:-54322}"
PG_VERSION=15
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"
LOCAL_DB_URL="postgresql://postgres:postgres@127.0.0.1:$PG_PORT/postgres"
GATEWAY_PORT="${GATEWAY_PORT:-54321}"
DEBIAN_PACKAGES="postgresql-15 postgresql-15-cron postgresql-15-pgtap postgresql-15-plpgsql-check libtap-parser-sourcehandler-pgtap-perl"

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

ensure_npm_packages() {
  if [ ! -x "$ROOT/node_modules/.bin/deno" ] || [ ! -x "$ROOT/node_modules/.bin/supabase" ] \
    || [ "$ROOT/package.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    log "installing npm packages (deno, supabase CLI)"
    (cd "$ROOT" && npm install --no-audit --no-fund --loglevel=error >&2 && touch node_modules/.package-lock.json)
  fi
}

have_debian_packages() {
  [ -x "$PG_BIN/initdb" ] && [ -x /usr/bin/pg_prove ] \
    && [ -f "/usr/share/postgresql/$PG_VERSION/extension/pg_cron.control" ] \
    && [ -f "/usr/share/postgresql/$PG_VERSION/extension/pgtap.control" ] \
    && [ -f "/usr/share/postgresql/$PG_VERSION/extension/plpgsql_check.control" ]
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
