#!/usr/bin/env bash
# `npm run dev`: the whole local stack, kept in the foreground until Ctrl-C.
#   database   127.0.0.1:54322 (migrations + seed applied; or SUPABASE_DB_URL)
#   functions  http://127.0.0.1:54321/functions/v1/<name>
#   dev issuer http://127.0.0.1:54321/clerk (JWKS at /clerk/.well-known/jwks.json)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash tools/db.sh start
export SUPABASE_DB_URL="$(db_url)"
log "serving functions at http://127.0.0.1:$GATEWAY_PORT/functions/v1 (Ctrl-C to stop)"
log "a token for curl:  npm run -s token -- user_2devExample"
exec deno run --allow-net --allow-env --allow-read --allow-write=.local --allow-run \
  --watch=supabase/functions/ tools/gateway.ts --port "$GATEWAY_PORT"
