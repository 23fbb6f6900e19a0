#!/usr/bin/env bash
# `npm test`: everything, from a fresh machine. Installs what is missing, starts the tests' own
# database (cluster .local/pg-test on TEST_PG_PORT, never the development database; with
# SUPABASE_DB_URL set to another database, that one, and the tests write to it), runs the pgTAP
# suite with pg_prove, starts a gateway serving every function on TEST_GATEWAY_PORT, runs the Deno
# tests (unit, HTTP integration, migration checks), then the fast gates (tools/check.sh: deno fmt
# --check, deno lint, deno check). Closing line: `tests: N passed, N failed, N skipped` over all
# of them (a gate counts as one test).
#
#   npm test                          everything
#   npm test -- tests/api_test.ts     the pgTAP suite, these Deno test files, the gates
#
# Skips: a test may be skipped only where the test itself declares why. A Deno test whose name
# starts with "[declared skip: <reason>]" may be ignored; a pgTAP skip must give a reason starting
# with "declared skip:" (`select skip('declared skip: <reason>', n)`). Any other skip counts as
# failed: a test that silently does not run proves nothing.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

if using_external_db; then
  log "SUPABASE_DB_URL is set: the tests run against that database and write test users into it"
else
  # The tests' own cluster: a test never writes into the development database.
  export PG_CLUSTER=pg-test PG_PORT="$TEST_PG_PORT"
  unset SUPABASE_DB_URL
  source "$ROOT/tools/lib.sh" # recompute the cluster paths and LOCAL_DB_URL for the test cluster
fi
bash tools/db.sh start
export SUPABASE_DB_URL="$(db_url)"
db_psql -f tools/sql/test_helpers.sql >/dev/null

results_dir="$LOCAL_DIR/test-results"
mkdir -p "$results_dir"

# --- pgTAP ------------------------------------------------------------------------------
log "pgTAP suite (pg_prove)"
pgtap_out="$results_dir/pgtap.txt"
set +e
# --verbose so that skips are visible in the TAP stream; the screen gets everything but the
# individual "ok" lines.
pg_prove --verbose --dbname "$SUPABASE_DB_URL" --ext .sql --recurse supabase/tests/database >"$pgtap_out" 2>&1
pgtap_rc=$?
set -e
grep -vE '^\s*ok [0-9]+' "$pgtap_out" || true
pgtap_total=$(grep -oE 'Tests=[0-9]+' "$pgtap_out" | tail -1 | cut -d= -f2 || true)
pgtap_total=${pgtap_total:-0}
pgtap_failed=$( (grep -oE 'Failed [0-9]+/[0-9]+ subtests' "$pgtap_out" || true) | awk '{split($2,a,"/"); s+=a[1]} END {print s+0}')
if [ "$pgtap_rc" -ne 0 ] && [ "$pgtap_failed" -eq 0 ]; then pgtap_failed=1; fi # died or bad plan
pgtap_skipped=$(grep -ciE '^\s*ok [0-9]+ .*# skip' "$pgtap_out" || true)
pgtap_undeclared=$(grep -iE '^\s*ok [0-9]+ .*# skip' "$pgtap_out" | grep -viE '# skip:? *declared skip:' || true)
pgtap_passed=$((pgtap_total - pgtap_failed - pgtap_skipped))
[ "$pgtap_passed" -ge 0 ] || pgtap_passed=0

# --- Deno -------------------------------------------------------------------------------
export FUNCTIONS_URL="http://127.0.0.1:$TEST_GATEWAY_PORT/functions/v1"
eval "$(deno run --quiet --allow-read --allow-write=.local --allow-env tools/dev_env.ts --port "$TEST_GATEWAY_PORT")"
log "starting a test gateway on 127.0.0.1:$TEST_GATEWAY_PORT"
gateway_log="$results_dir/gateway.log"
deno run --allow-net --allow-env --allow-read --allow-write=.local \
  tools/gateway.ts --port "$TEST_GATEWAY_PORT" >"$gateway_log" 2>&1 &
gateway_pid=$!
cleanup() {
  kill "$gateway_pid" 2>/dev/null || true
  wait "$gateway_pid" 2>/dev/null || true
  # The test cluster is stopped again: it is started (seconds) by the next run. So are the scratch
  # clusters some tests start (migrations_test, jobs_test, fault_test): nothing is left running.
  using_external_db || bash tools/db.sh stop >/dev/null 2>&1 || true
  local scratch
  for scratch in "pg-scratch:$ROLLBACK_PG_PORT" "pg-jobs-test:$DEPLOY_PG_PORT" "pg-fault:$FAULT_PG_PORT"; do
    PG_CLUSTER="${scratch%%:*}" PG_PORT="${scratch##*:}" SUPABASE_DB_URL="" bash tools/db.sh stop >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT
up=0
for _ in $(seq 1 120); do
  if curl -fsS "$FUNCTIONS_URL/api/health" >/dev/null 2>&1; then up=1; break; fi
  if ! kill -0 "$gateway_pid" 2>/dev/null; then
    grep -E 'error' "$gateway_log" | tail -3 >&2 || tail -5 "$gateway_log" >&2
    die "the test gateway exited (log: .local/test-results/gateway.log)"
  fi
  sleep 0.5
done
[ "$up" -eq 1 ] || die "the test gateway did not answer $FUNCTIONS_URL/api/health within 60 s (log: .local/test-results/gateway.log)"

log "Deno tests"
deno_out="$results_dir/deno.txt"
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(tests/)
deno_junit="$results_dir/deno.junit.xml"
rm -f "$deno_junit"
set +e
# The counts come from the JUnit report (tools/junit_summary.ts), not from the console; NO_COLOR
# keeps the copy in deno.txt plain text.
NO_COLOR=1 deno test --allow-all --no-check=remote --junit-path="$deno_junit" "${targets[@]}" 2>&1 | tee "$deno_out"
deno_rc=${PIPESTATUS[0]}
set -e
junit_summary() { deno run --quiet --allow-read tools/junit_summary.ts "$1" "$deno_junit"; }
read -r deno_passed deno_failed deno_skipped <<<"$(junit_summary counts)"
deno_passed=${deno_passed:-0}
deno_failed=${deno_failed:-0}
deno_skipped=${deno_skipped:-0}
if [ "$deno_rc" -ne 0 ] && [ "$deno_failed" -eq 0 ]; then deno_failed=1; fi # did not compile or crashed
# A skipped (ignored) test is allowed only when its name declares the skip.
deno_undeclared=$(junit_summary skipped | grep -vE '^\[declared skip: [^]]+\]' || true)

# --- Fast gates -------------------------------------------------------------------------
log "gates: deno fmt --check, deno lint, deno check"
gates_out="$results_dir/gates.txt"
set +e
bash tools/check.sh 2>&1 | tee "$gates_out"
set -e
gates_passed=$(grep -oE '^gates: [0-9]+ passed' "$gates_out" | grep -oE '[0-9]+' || true)
gates_failed=$(grep -oE '^gates: [0-9]+ passed, [0-9]+ failed' "$gates_out" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || true)
gates_passed=${gates_passed:-0}
gates_failed=${gates_failed:-3} # no closing line: the gates did not run

# --- Closing line -----------------------------------------------------------------------
undeclared=0
echo
if [ -n "$pgtap_undeclared" ] || [ -n "$deno_undeclared" ]; then
  echo "Skipped without a declared reason (counted as failed; see tools/test.sh, \"Skips\"):"
  while IFS= read -r line; do [ -n "$line" ] && echo "  pgTAP: $line" && undeclared=$((undeclared + 1)); done <<<"$pgtap_undeclared"
  while IFS= read -r line; do [ -n "$line" ] && echo "  Deno:  $line" && undeclared=$((undeclared + 1)); done <<<"$deno_undeclared"
fi
passed=$((pgtap_passed + deno_passed + gates_passed))
failed=$((pgtap_failed + deno_failed + gates_failed + undeclared))
skipped=$((pgtap_skipped + deno_skipped))
echo "pgTAP: $pgtap_passed passed, $pgtap_failed failed, $pgtap_skipped skipped;" \
  "Deno: $deno_passed passed, $deno_failed failed, $deno_skipped skipped;" \
  "gates: $gates_passed passed, $gates_failed failed"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
