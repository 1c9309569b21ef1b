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

# fleet_auth DIR: exports REDISCLI_AUTH, the Redis password of the fleet in
# DIR (`pefleet up` makes one unless --no-redis-password), so that redis-cli
# and $RCLI, here and in child processes, authenticate; unset when none.
fleet_auth() {
  local pw
  pw=$(sed -n 's/^redis_password = //p' "$1/pefleet.conf" 2>/dev/null)
  if [ -n "$pw" ]; then export REDISCLI_AUTH=$pw; else unset REDISCLI_AUTH; fi
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

# pool_up DIR MODEL: `pefleet up` in DIR with one encoder worker and two
# scorers serving MODEL, on the ports of fleet_ports and SP SCP SIMP HP
# (the caller's), then waits until both scorers are ready at the router.
# Says "not ok - up" and returns 1 when up fails.
pool_up() {
  local d=$1 m=$2
  if ! "$BIN/pefleet" up --data "$d" --workers 1 --scorers 2 --model "$m" --redis-port "$RP" --ingest-port "$IP" \
       --worker-port "$WP" --score-port "$SP" --scorer-port "$SCP" --similar-port "$SIMP" --port "$HP" \
       >"$T/up.out" 2>&1; then
    notok up "$(tail -3 "$T/up.out")"; return 1
  fi
  for _ in $(seq 100); do
    [ "$(grep -c 'ready, capacity' "$d/logs/score-router.log" 2>/dev/null)" -ge 2 ] && break; sleep 0.1
  done
}

# wait_http URL: waits up to 10 s for URL to answer 2xx.
wait_http() {
  for _ in $(seq 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done
  return 1
}
# mutated_samples DIR TAG REAL N: N files in DIR, all new distinct hashes for
# a new TAG: with REAL=1 the corpus files themselves, then six header bit
# flips of t32.exe (most fail, each with its own reason), two text files,
# and corpus files under 150 KB with TAG-specific overlay bytes (still PE).
mutated_samples() {
  python3 - "$CORPUS" "$1" "$2" "$3" "$4" <<'PY'
import os, random, sys
corpus, out, tag, real, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1", int(sys.argv[5])
rnd = random.Random(tag)
os.makedirs(out)
files = [os.path.join(corpus, d, f) for d in ("clean", "malicious-test") for f in sorted(os.listdir(os.path.join(corpus, d)))]
small = [f for f in files if os.path.getsize(f) < 150000]
k = 0
if real:  # the corpus itself once
    for f in files:
        open(os.path.join(out, "real_" + os.path.basename(f)), "wb").write(open(f, "rb").read()); k += 1
t32 = open(os.path.join(corpus, "clean/t32.exe"), "rb").read()
for i in range(6):  # header bit flips: most fail, each with its own reason
    b = bytearray(t32)
    for _ in range(rnd.randrange(1, 30)):
        b[rnd.randrange(0, 1024)] ^= 1 << rnd.randrange(8)
    open(os.path.join(out, "flip%d.exe" % i), "wb").write(bytes(b)); k += 1
for i in range(2):
    open(os.path.join(out, "text%d.txt" % i), "wb").write(("not a PE %s %d\n" % (tag, i)).encode() * 20); k += 1
i = 0
while k < n:  # overlay bytes: a new sha256, still a PE
    f = small[i % len(small)]
    data = open(f, "rb").read() + ("%s-%d" % (tag, i)).encode() + bytes(rnd.randrange(256) for _ in range(1 + i % 13))
    open(os.path.join(out, "ov%05d_%s" % (i, os.path.basename(f))), "wb").write(data)
    i += 1; k += 1
PY
}

# fleet_until DIR SECONDS EXPR: until `pefleet status --json` of the fleet in
# DIR makes the Python expression EXPR (over the status s) true; 1 if it
# never does within SECONDS. The last status is left in $T/st.json.
fleet_until() {
  local until=$((SECONDS + $2))
  while [ $SECONDS -lt $until ]; do
    if "$BIN/pefleet" status --json --interval 0 --data "$1" >"$T/st.json" 2>/dev/null &&
       python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
         "$T/st.json" "$3"; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}
# fleet_drained DIR: until nothing is queued or in flight (120 s at most).
fleet_drained() { fleet_until "$1" 120 's["queued"] == 0 and s["in_flight"] == 0'; }

# fleet_start DIR [up options]: `pefleet up` in DIR on RP, IP and WP with no
# scorer pool (options may add more); when it fails, a not ok with its
# output and the daemons' last log lines, and the test ends.
fleet_start() {
  local dir=$1; shift
  if ! "$BIN/pefleet" up --data "$dir" --redis-port "$RP" --ingest-port "$IP" --worker-port "$WP" --scorers 0 "$@" \
       >"$T/up.out" 2>&1; then
    notok fleet_up "$(tr '\n' ' ' <"$T/up.out")"; tail -20 "$dir"/logs/*.log; finish
  fi
  ok "fleet_up (redis $RP, ingest $IP, workers $WP)"
  fleet_auth "$dir" # up made a Redis password
}
