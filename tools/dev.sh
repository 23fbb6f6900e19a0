#!/usr/bin/env bash
# `npm run dev`: the whole local stack, kept in the foreground until Ctrl-C.
#   database   127.0.0.1:$PG_PORT (migrations + seed applied; or SUPABASE_DB_URL)
#   functions  http://127.0.0.1:$GATEWAY_PORT/functions/v1/<name>
#   dev issuer http://127.0.0.1:$GATEWAY_PORT/clerk (JWKS at /clerk/.well-known/jwks.json)
# Ports: tools/lib.sh (README, "Ports and databases"). Ctrl-C stops the gateway; Postgres keeps
# running (`npm run db:stop` stops it), so the next `npm run dev` starts in a second.
# The gateway restarts when a file under supabase/functions/ or tools/ changes, and when an uncaught
# error fails it after start-up (the platform likewise replaces a failed isolate).
# The alert notification dispatcher (POST /admin/alerts/dispatch) is woken every
# ALERT_DISPATCH_EVERY seconds (default 30) by a timer here, as pg_cron wakes it through pg_net on
# the hosted platform (docs/OPERATIONS.md); set ALERT_WEBHOOK_URL to receive the notifications.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# Before anything else: a second `npm run dev` (or anything on the port) fails here, in one line.
if (exec 3<>"/dev/tcp/127.0.0.1/$GATEWAY_PORT") 2>/dev/null; then
  die "port $GATEWAY_PORT in use (is \`npm run dev\` already running? another port: GATEWAY_PORT=<port> npm run dev)"
fi

bash tools/db.sh start
export SUPABASE_DB_URL="$(db_url)"
export FUNCTIONS_URL="http://127.0.0.1:$GATEWAY_PORT/functions/v1"

# The dispatcher's secret: given, or one for this run (the gateway inherits it).
if [ -z "${ALERT_DISPATCH_SECRET:-}" ]; then
  ALERT_DISPATCH_SECRET="dev-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
fi
export ALERT_DISPATCH_SECRET
dispatch_every="${ALERT_DISPATCH_EVERY:-30}"
[[ "$dispatch_every" =~ ^[0-9]+$ ]] && [ "$dispatch_every" -ge 1 ] || die "ALERT_DISPATCH_EVERY=$dispatch_every is not a number of seconds"
dispatch_timer() {
  while sleep "$dispatch_every"; do
    curl -s -o /dev/null -X POST -H "x-alerts-dispatch-secret: $ALERT_DISPATCH_SECRET" \
      "$FUNCTIONS_URL/admin/alerts/dispatch" || true
  done
}
dispatch_timer &
dispatch_pid=$!

on_exit() {
  kill "$dispatch_pid" 2>/dev/null || true
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
