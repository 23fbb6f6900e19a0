#!/usr/bin/env bash
# The wrapper every npm script runs through: `bash tools/run.sh <command> [args...]`.
# Sources tools/lib.sh (the one place ports and the database are chosen), exports its settings
# (PG_PORT, GATEWAY_PORT, TEST_*, ROLLBACK_PG_PORT, DEPLOY_PG_PORT, SUPABASE_DB_URL, FUNCTIONS_URL)
# and runs the command from the project root; `*.sh` commands run with bash. Also the way to run
# a tool, test or benchmark by hand with the same settings:
#   bash tools/run.sh deno test -A tests/api_test.ts
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
[ "$#" -gt 0 ] || die "usage: bash tools/run.sh <command> [args...]"
ensure_npm_packages
export SUPABASE_DB_URL="$(db_url)"
export FUNCTIONS_URL="${FUNCTIONS_URL:-http://127.0.0.1:$GATEWAY_PORT/functions/v1}"
case "$1" in
  *.sh) exec bash "$@" ;;
  *) exec "$@" ;;
esac
