#!/usr/bin/env bash
# `npm run bench`: every benchmark in bench/ (each prints its own figures and ratios), one after
# the other against the local stack (PG_PORT, or SUPABASE_DB_URL; tools/lib.sh). Benchmarks assert
# nothing; tests do. bench/webhooks.ts and bench/api.ts start their own gateways on free ports.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash tools/db.sh start
export SUPABASE_DB_URL="$(db_url)"
status=0
for bench in bench/*.ts; do
  # _*.ts are modules; plans.ts has its own command (npm run bench:plans, scale 1 by default).
  case "$(basename "$bench")" in _* | plans.ts) continue ;; esac
  log "running $bench"
  deno run --allow-all "$bench" "$@" || status=1
done
exit $status
