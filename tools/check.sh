#!/usr/bin/env bash
# `npm run check` (and the end of `npm test`): the fast gates over every function, tool, test and
# benchmark: `deno fmt --check`, `deno lint`, `deno check` (type check, every .ts file of
# supabase/functions, tools, tests and bench, not only the entry points). Prints one line per gate
# and closes with `gates: N passed, N failed`; exits 1 when any gate fails.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_npm_packages

passed=0
failed=0
gate() {
  local name="$1"; shift
  local out
  if out=$("$@" 2>&1); then
    passed=$((passed + 1))
    printf 'ok     %s\n' "$name"
  else
    failed=$((failed + 1))
    # Deno colours its output even when captured; the findings, without the backtrace noise.
    printf '%s\n' "$out" | sed -E 's/\x1b\[[0-9;]*m//g' | grep -vE '^(Stack backtrace:|   [0-9]+: <unknown>)$' \
      | grep -vE '^(Check|Download) ' >&2 || true
    printf 'FAILED %s\n' "$name"
  fi
}
gate "deno fmt --check" deno fmt --check
gate "deno lint" deno lint
gate "deno check (supabase/functions tools tests bench)" deno check supabase/functions tools tests bench
echo "gates: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
