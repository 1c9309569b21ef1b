# Shared helpers for the shell integration tests (sourced).
# Each test prints "ok - NAME", "not ok - NAME: why" or "skipped: NAME: why".
set -u
ROOT=${PEFLEET_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
BIN=${BIN:-$ROOT/bin}
SHARED=${PEFLEET_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
CORPUS=$SHARED/corpus
FAULT=$ROOT/tests/integration/fault
FAILS=0
T=$(mktemp -d /tmp/pefleet-test.XXXXXX)
trap 'rm -rf "$T"' EXIT

ok() { echo "ok - $1"; }
notok() { echo "not ok - $1: $2"; FAILS=$((FAILS + 1)); }
skip() { echo "skipped: $1: $2"; }
# check NAME COMMAND...: ok when the command succeeds.
check() {
  local name=$1; shift
  if "$@"; then ok "$name"; else notok "$name" "failed: $*"; fi
}
need_corpus() {
  if [ ! -d "$CORPUS" ]; then skip "$1" "../shared/corpus not found"; exit 0; fi
}
finish() { [ "$FAILS" -eq 0 ]; exit $?; }
