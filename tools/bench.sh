#!/usr/bin/env bash
# `npm run bench`: every benchmark in bench/ (each prints its own figures and ratios), one after
# the other against the local stack (PG_PORT, or SUPABASE_DB_URL; tools/lib.sh). Benchmarks assert
# nothing; tests do. bench/webhooks.ts, bench/api.ts and bench/edge.ts start their own gateways on
# free ports; bench/edge.ts drives them with wrk (installing it with apt-get when run as root).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash tools/db.sh start
export SUPABASE_DB_URL="$(db_url)"
status=0
for bench in bench/*.ts; do
  # _*.ts are modules; plans.ts has its own command (npm run bench:plans, scale 1 by default);
  # edge.ts runs last, so its table (every ratio of the edge path, docs/PERFORMANCE.md) ends the output.
  case "$(basename "$bench")" in _* | plans.ts | edge.ts) continue ;; esac
  log "running $bench"
  deno run --allow-all "$bench" "$@" || status=1
done
# The tab sync's floor (its own scratch cluster, whose schema it alters), then the edge table.
log "running bench/tab_sync_floor.sh"
bash bench/tab_sync_floor.sh || status=1
log "running bench/edge.ts"
deno run --allow-all bench/edge.ts "$@" || status=1
exit $status
