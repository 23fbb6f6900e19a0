#!/usr/bin/env bash
# `npm run dev`: the whole local stack, kept in the foreground until Ctrl-C.
#   database   127.0.0.1:$PG_PORT (migrations + seed applied; or SUPABASE_DB_URL)
#   functions  http://127.0.0.1:$GATEWAY_PORT/functions/v1/<name>
#   dev issuer http://127.0.0.1:$GATEWAY_PORT/clerk (JWKS at /clerk/.well-known/jwks.json)
# Ports: tools/lib.sh (README, "Ports and databases"). Ctrl-C stops the gateway; Postgres keeps
# running (`npm run db:stop` stops it), so the next `npm run dev` starts in a second.
# The gateway restarts when a file under supabase/functions/ or tools/ changes, and when an uncaught
# error fails it after start-up (the platform likewise replaces a failed isolate).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# Before anything else: a second `npm run dev` (or anything on the port) fails here, in one line.
if (exec 3<>"/dev/tcp/127.0.0.1/$GATEWAY_PORT") 2>/dev/null; then
  die "port $GATEWAY_PORT in use (is \`npm run dev\` already running? another port: GATEWAY_PORT=<port> npm run dev)"
fi

bash tools/db.sh start
export SUPABASE_DB_URL="$(db_url)"
export FUNCTIONS_URL="http://127.0.0.1:$GATEWAY_PORT/functions/v1"

on_exit() {
  if using_external_db; then return; fi
  log "gateway stopped; PostgreSQL keeps running on 127.0.0.1:$PG_PORT (npm run db:stop stops it)"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

log "serving functions at $FUNCTIONS_URL (Ctrl-C to stop)"
log "a token for curl:  npm run -s token -- user_2devExample"
while true; do
  started=$SECONDS
  set +e
  deno run --allow-net --allow-env --allow-read --allow-write=.local \
    tools/gateway.ts --port "$GATEWAY_PORT" --watch
  status=$?
  set -e
  if [ "$status" -eq 75 ]; then
    # A watched file changed (tools/gateway.ts RESTART_STATUS).
    log "restarting the gateway"
  elif [ "$status" -eq 1 ] && [ $((SECONDS - started)) -ge 5 ]; then
    # An uncaught error failed the process after it had served (_shared/http.ts fails an isolate it
    # cannot trust): a new one takes over, as the platform replaces a failed isolate. A failure at
    # start-up (a syntax or configuration error) ends the stack instead of looping.
    log "the gateway failed (status 1, cause above): starting a new one, as the platform replaces a failed isolate"
  else
    exit "$status"
  fi
done
