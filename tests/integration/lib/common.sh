# Shared helpers for the shell integration tests (sourced).
# Each test prints "ok - NAME", "not ok - NAME: why" or "skipped: NAME: why".
set -u
ROOT=${PEFLEET_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
BIN=${BIN:-$ROOT/bin}
# pefleet-clamd listens on 3310 by default; tests that want it pass --clamd-port
export PEFLEET_CLAMD_PORT=${PEFLEET_CLAMD_PORT:-0}
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

# need_redis NAME: skips the test (exit 0) without redis-server and redis-cli.
need_redis() {
  command -v redis-server >/dev/null || { skip "$1" "redis-server not installed"; exit 0; }
  command -v redis-cli >/dev/null || { skip "$1" "redis-cli not installed"; exit 0; }
}

# fleet_ports: sets RP, IP, WP to three free loopback ports (Redis, ingest,
# workers) and RCLI to a redis-cli for RP.
fleet_ports() {
  read -r RP IP WP < <(free_ports 3)
  RCLI="redis-cli -p $RP --no-auth-warning"
}

# fleet_cleanup_on_exit DIR: stops the fleet in DIR and removes $T at exit.
fleet_cleanup_on_exit() {
  FLEET_DIR=$1
  trap '"$BIN/pefleet" down --data "$FLEET_DIR" >/dev/null 2>&1; rm -rf "$T"' EXIT
}

# free_ports N: prints N free loopback ports on one line (bound at once, so
# they differ), e.g. read -r SP SCP SIMP HP < <(free_ports 4).
free_ports() {
  python3 -c '
import socket, sys
s=[socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1",0))
print(*[x.getsockname()[1] for x in s])' "$1"
}
