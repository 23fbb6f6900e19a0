#!/usr/bin/env bash
# `npm test`: everything, from a fresh machine. Installs what is missing, starts the local
# database (or uses SUPABASE_DB_URL), runs the pgTAP suite with pg_prove, starts a gateway
# serving every function on a test port, runs the Deno tests (unit, HTTP integration, migration
# checks) and prints one closing line `tests: N passed, N failed` covering both suites.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

bash tools/db.sh start
export SUPABASE_DB_URL="$(db_url)"
db_psql -f tools/sql/test_helpers.sql >/dev/null

results_dir="$LOCAL_DIR/test-results"
mkdir -p "$results_dir"

# --- pgTAP ------------------------------------------------------------------------------
log "pgTAP suite (pg_prove)"
pgtap_out="$results_dir/pgtap.txt"
set +e
pg_prove --dbname "$SUPABASE_DB_URL" --ext .sql --recurse supabase/tests/database 2>&1 | tee "$pgtap_out"
pgtap_rc=${PIPESTATUS[0]}
set -e
pgtap_total=$(grep -oE 'Tests=[0-9]+' "$pgtap_out" | tail -1 | cut -d= -f2 || true)
pgtap_total=${pgtap_total:-0}
pgtap_failed=$( (grep -oE 'Failed [0-9]+/[0-9]+ subtests' "$pgtap_out" || true) | awk '{split($2,a,"/"); s+=a[1]} END {print s+0}')
if [ "$pgtap_rc" -ne 0 ] && [ "$pgtap_failed" -eq 0 ]; then pgtap_failed=1; fi # died or bad plan
pgtap_passed=$((pgtap_total - pgtap_failed))
[ "$pgtap_passed" -ge 0 ] || pgtap_passed=0

# --- Deno -------------------------------------------------------------------------------
gateway_port="${TEST_GATEWAY_PORT:-54331}"
export FUNCTIONS_URL="http://127.0.0.1:$gateway_port/functions/v1"
eval "$(deno run --quiet --allow-read --allow-write=.local --allow-env tools/dev_env.ts --port "$gateway_port")"
log "starting a test gateway on 127.0.0.1:$gateway_port"
gateway_log="$results_dir/gateway.log"
deno run --allow-net --allow-env --allow-read --allow-write=.local --allow-run \
  tools/gateway.ts --port "$gateway_port" >"$gateway_log" 2>&1 &
gateway_pid=$!
trap 'kill $gateway_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -fsS "$FUNCTIONS_URL/api/health" >/dev/null 2>&1 && break
  kill -0 $gateway_pid 2>/dev/null || { tail -30 "$gateway_log" >&2; die "gateway exited"; }
  sleep 0.5
done

log "Deno tests"
deno_out="$results_dir/deno.txt"
set +e
deno test --allow-all --no-check=remote tests/ "$@" 2>&1 | tee "$deno_out"
deno_rc=${PIPESTATUS[0]}
set -e
# Deno colours its summary even when piped; strip ANSI codes before reading it.
summary=$(sed -E 's/\x1b\[[0-9;]*m//g' "$deno_out" | grep -E '^(ok|FAILED) \|' | tail -1 || true)
deno_passed=$(printf '%s' "$summary" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || true)
deno_failed=$(printf '%s' "$summary" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || true)
deno_passed=${deno_passed:-0}; deno_failed=${deno_failed:-0}
if [ "$deno_rc" -ne 0 ] && [ "$deno_failed" -eq 0 ]; then deno_failed=1; fi # did not compile or crashed

passed=$((pgtap_passed + deno_passed))
failed=$((pgtap_failed + deno_failed))
echo
echo "pgTAP: $pgtap_passed passed, $pgtap_failed failed; Deno: $deno_passed passed, $deno_failed failed"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
