#!/usr/bin/env bash
# Runs every test: the cmocka unit binaries in $BUILD/tests and the shell
# integration tests in tests/integration. Each shell test prints lines
#   ok - NAME | not ok - NAME: why | skipped: NAME: why
# and exits non-zero if anything failed. Ends with "N passed, N failed, N skipped".
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export BIN=${BIN:-$ROOT/bin} BUILD=${BUILD:-$ROOT/build}
export PEFLEET_SHARED=${PEFLEET_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
export PEFLEET_ROOT=$ROOT
TEST_TIMEOUT=${TEST_TIMEOUT:-900}
pass=0 fail=0 skip=0
failed_names=()
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

if [ ! -d "$PEFLEET_SHARED/corpus" ]; then
  echo "tests: ../shared not found at $PEFLEET_SHARED (set PEFLEET_SHARED)" >&2
fi

cd "$ROOT"
for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  out="$log/$name.out"
  timeout "$TEST_TIMEOUT" "$t" >"$out" 2>&1
  rc=$?
  p=$(grep -Eo '^\[  PASSED  \] [0-9]+' "$out" | grep -Eo '[0-9]+$' | tail -1)
  f=$(grep -Eo '^\[  FAILED  \] [0-9]+' "$out" | grep -Eo '[0-9]+$' | tail -1)
  s=$(grep -Eo '^\[  SKIPPED \] [0-9]+' "$out" | grep -Eo '[0-9]+$' | tail -1)
  p=${p:-0} f=${f:-0} s=${s:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
  grep -E '^\[ (RUN|  FAILED|  SKIPPED) \]|^\[  ERROR   \]|skipped:|[Ff]ailure|error' "$out" | grep -v '^\[ RUN' | sed "s/^/  $name: /"
  echo "$name: $p passed, $f failed, $s skipped"
  [ "$f" -gt 0 ] && failed_names+=("$name") && sed 's/^/    | /' "$out" | tail -40
done

for t in tests/integration/*.sh; do
  [ -f "$t" ] || continue
  name=$(basename "$t" .sh)
  out="$log/$name.out"
  timeout "$TEST_TIMEOUT" bash "$t" >"$out" 2>&1
  rc=$?
  p=$(grep -c '^ok - ' "$out")
  f=$(grep -c '^not ok - ' "$out")
  s=$(grep -c '^skipped: ' "$out")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1
    [ "$rc" -eq 124 ] && echo "not ok - $name: timed out after ${TEST_TIMEOUT}s" >>"$out"
  fi
  pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
  grep -E '^(not ok|skipped:)' "$out" | sed "s/^/  $name: /"
  echo "$name: $p passed, $f failed, $s skipped"
  [ "$f" -gt 0 ] && failed_names+=("$name") && sed 's/^/    | /' "$out" | tail -40
done

[ ${#failed_names[@]} -gt 0 ] && echo "failing: ${failed_names[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
