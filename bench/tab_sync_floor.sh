#!/usr/bin/env bash
# `npm run bench:tab-floor`: what a 20-tab reorder costs Postgres with parts of the schema taken
# away, to show where the tab sync's floor lies (issue 17, docs/PERFORMANCE.md "Tab sync: the floor").
#
# It alters the schema (disables triggers, drops the positions' unique constraint), so it never
# runs against the development database: it makes a scratch cluster of its own, afresh every run
# (pg-tab-floor, FLOOR_PG_PORT from tools/lib.sh, migrations and seed applied by tools/db.sh
# reset), and stops it at the end. One pgbench client (-M prepared, bench/pgbench/tab_sync.sql),
# so every figure is the sync's own work without queueing:
#   shipped, 1 row   the schema as migrated, a sync that renames one tab and moves none: the
#                    fixed cost of a sync, what one changed row costs however the order were stored
#   shipped          the schema as migrated (RLS, the tab and project triggers, four indexes), the
#                    first of 20 tabs dragged to the end: every row's position changes
#   no triggers      the same reorder, every trigger of workspace_tabs and projects disabled
#                    (history, tabs_version, audit, updated_at, guards)
#   no triggers, HOT the same, and the unique (project_id, position) constraint dropped with
#                    fillfactor 80, so moving a tab is a heap-only update that writes no index entry
# Figures: execution time per sync from pg_stat_statements (begin, context, sync, list read,
# commit; the payload statement pgbench needs is left out) and the CPU of every Postgres process
# (backends, WAL writer and the other background processes) from /proc per sync, the payload
# statement included. Bounded: --seconds per variant and round, --rounds.
source "$(dirname "$0")/../tools/lib.sh"
cd "$ROOT"

SECONDS_PER_RUN=5
ROUNDS=2
while [ "$#" -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    *) die "usage: bench/tab_sync_floor.sh [--seconds 5] [--rounds 2]" ;;
  esac
done
[[ "$SECONDS_PER_RUN" =~ ^[0-9]+$ ]] && [ "$SECONDS_PER_RUN" -ge 1 ] && [ "$SECONDS_PER_RUN" -le 60 ] \
  || die "--seconds: 1 to 60"
[[ "$ROUNDS" =~ ^[0-9]+$ ]] && [ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 10 ] || die "--rounds: 1 to 10"
command -v pgbench >/dev/null || die "pgbench is missing (postgresql-client-15; tools/db.sh installs it)"

export PG_CLUSTER=pg-tab-floor PG_PORT="$FLOOR_PG_PORT" SUPABASE_DB_URL=""
URL="postgresql://postgres:postgres@127.0.0.1:$FLOOR_PG_PORT/postgres"
stop_cluster() { bash tools/db.sh stop >/dev/null 2>&1 || true; }
trap stop_cluster EXIT
# A fresh cluster every run: the variants alter the schema of the one they run on.
bash tools/db.sh reset
q() { psql "$URL" -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

PROJECT=7ab5f100-0000-4000-8000-000000000001
q <<SQL
insert into public.users (id, email, clerk_created_at, clerk_updated_at)
values ('user_tabfloor', 'floor@example.invalid', now(), now()) on conflict (id) do nothing;
insert into public.projects (id, user_id, name) values ('$PROJECT', 'user_tabfloor', 'Tab floor')
on conflict (id) do nothing;
delete from public.workspace_tabs where project_id = '$PROJECT';
insert into public.workspace_tabs (project_id, user_id, position, title, kind, metadata)
select '$PROJECT', 'user_tabfloor', n, 'Tab ' || n, 'doc', '{"pinned": false}'
from generate_series(0, 19) as n;
SQL

# The postmaster: the parent of a backend, read while that backend lives.
POSTMASTER="$(q <<'SQL'
select pg_backend_pid() as pid \gset
\setenv BACKEND_PID :pid
\! awk '{ sub(/^.*\) /, ""); split($0, f, " "); print f[2] }' /proc/$BACKEND_PID/stat
SQL
)"
# CPU ticks (user + system) of the postmaster, of the children it has reaped (pgbench's backend
# exits before the second reading) and of every child still running. Processes may end while /proc
# is read: cat's complaint about them is not an error here.
postgres_cpu() {
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="$POSTMASTER" '
    { pid = $1; sub(/^.*\) /, ""); split($0, f, " ")
      if (pid == pm) cpu += f[12] + f[13] + f[14] + f[15]; else if (f[2] == pm) cpu += f[12] + f[13] }
    END { printf "%d", cpu }'
}
HZ="$(getconf CLK_TCK)"

declare -A SYNCS STATEMENT_MS CPU_TICKS
run_variant() {
  local name="$1" before after out change=(-D shift=19 -D rename=0)
  [ "$name" = "shipped, 1 row" ] && change=(-D shift=0 -D rename=1)
  q -c "select extensions.pg_stat_statements_reset()" >/dev/null
  before="$(postgres_cpu)"
  out="$(pgbench "$URL" -n -M prepared -c 1 -T "$SECONDS_PER_RUN" -D project="$PROJECT" "${change[@]}" \
    -f bench/pgbench/tab_sync.sql 2>&1)" || die "pgbench ($name): $out"
  after="$(postgres_cpu)"
  local syncs
  syncs="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")"
  [ -n "$syncs" ] && [ "$syncs" -gt 0 ] || die "pgbench ($name) processed nothing: $out"
  grep -q '^number of failed transactions: 0 ' <<<"$out" || die "pgbench ($name) failed: $out"
  SYNCS[$name]=$((${SYNCS[$name]:-0} + syncs))
  CPU_TICKS[$name]=$((${CPU_TICKS[$name]:-0} + after - before))
  # Every statement of the transaction but the payload pgbench builds first.
  STATEMENT_MS[$name]="$(q -c "select coalesce(sum(total_exec_time), 0) + ${STATEMENT_MS[$name]:-0}
    from extensions.pg_stat_statements where toplevel and (query in ('begin', 'commit')
      or query like 'select set_config(%' or query like 'with bumped as%' or query like 'select id, project_id,%')")"
}

VARIANTS=("shipped, 1 row" "shipped" "no triggers" "no triggers, HOT")
# Each variant takes one more part away, so they run in this order (the rounds of one variant back
# to back): the differences between them are several times the machine's drift.
for name in "${VARIANTS[@]}"; do
  case "$name" in
    "no triggers")
      q -c "alter table public.workspace_tabs disable trigger user" \
        -c "alter table public.projects disable trigger user" ;;
    "no triggers, HOT")
      q -c "alter table public.workspace_tabs drop constraint workspace_tabs_project_id_position_key" \
        -c "alter table public.workspace_tabs set (fillfactor = 80)" -c "vacuum full public.workspace_tabs" ;;
  esac
  for ((round = 1; round <= ROUNDS; round++)); do
    log "$name: round $round/$ROUNDS ($SECONDS_PER_RUN s)"
    run_variant "$name"
  done
done

printf '\nTab sync floor: a 20-tab list, its first tab dragged to the end (1 row: renamed), one connection, PostgreSQL %s\n' \
  "$(q -c "select current_setting('server_version')" | cut -d' ' -f1)"
printf '  statements: begin, context, the sync (tabs.ts replaceTabs), the list read, commit; goal <= 600 us\n\n'
printf '%-20s %10s %22s %22s\n' "variant" "syncs" "statements us/sync" "Postgres CPU us/sync"
for name in "${VARIANTS[@]}"; do
  awk -v n="$name" -v s="${SYNCS[$name]}" -v ms="${STATEMENT_MS[$name]}" -v t="${CPU_TICKS[$name]}" -v hz="$HZ" \
    'BEGIN { printf "%-20s %10d %22.0f %22.0f\n", n, s, ms * 1000 / s, t / hz * 1e6 / s }'
done
