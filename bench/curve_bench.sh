#!/usr/bin/env bash
# What CURVE costs the fleet: `pefleet ingest --wait` of the same working set
# through the same daemons (redis-server with a password, pefleet-broker, N
# encoder workers, all on loopback, started by hand as on separate hosts),
# once with plain ZeroMQ and once with CURVE on every link (ingest client and
# workers admitted by the broker's ZAP handler). Runs alternate in pairs whose
# order flips (off on, on off, off on, ...) so a machine that drifts slower
# or faster during the benchmark favours neither; median of each. The clock
# runs from the ingest command's start to its exit (--wait: every vector in
# Redis); the run fails unless Redis holds every file as done or failed.
# Beside the wall clock, cpu-s: user+system CPU of redis, the broker, the
# workers and the ingest client in the run (where CURVE's crypto runs; the
# workers' parser children, which CURVE does not touch, are not counted:
# they live until their worker stops), which other load on the machine
# disturbs much less than the wall clock.
# A benchmark, not a test: it prints figures.
#
# environment: PEFLEET_SHARED, BIN (default bin), BENCH_FILES (default 1000),
#              BENCH_WORKERS (default nproc), BENCH_REPEAT (default 3)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
SHARED=${PEFLEET_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
BIN=${BIN:-$ROOT/bin}
NFILES=${BENCH_FILES:-1000}
WN=${BENCH_WORKERS:-$(nproc)}
REPEAT=${BENCH_REPEAT:-3}
die() { echo "curve_bench: $*" >&2; exit 1; }
[ -x "$BIN/pefleet-broker" ] || die "build first (make)"
command -v redis-server >/dev/null || die "redis-server not installed (make deps)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pefleet-curvebench.XXXXXX")
PIDS=()
stop_all() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
trap 'stop_all; rm -rf "$WORK"' EXIT

# the working set: the corpus repeated, every copy a distinct sha256
mapfile -t ORIG < <(find "$SHARED/corpus/clean" "$SHARED/corpus/malicious-test" -type f | LC_ALL=C sort)
[ ${#ORIG[@]} -gt 0 ] || die "no corpus at $SHARED/corpus"
SET=$WORK/set
working_set "$SET" "$NFILES" pefleet-curvebench "${ORIG[@]}"

K=$WORK/keys
"$BIN/pefleet" keygen server -o "$K" >/dev/null 2>&1
for n in worker client; do "$BIN/pefleet" keygen "$n" -o "$K" --role "$n" >/dev/null 2>&1; done
PASS=bench-$RANDOM$RANDOM

# one run: fresh Redis and daemons; prints the seconds ingest --wait took
run() {
  local curve=$1 d=$WORK/run-$2
  mkdir -p "$d/redis" "$d/logs"
  read -r RP IP WP < <(free_ports 3)
  cat >"$d/common.conf" <<EOF
redis_port = $RP
redis_password = $PASS
store = $d/store
ingest_endpoint = tcp://127.0.0.1:$IP
worker_endpoint = tcp://127.0.0.1:$WP
curve = $curve
curve_server_key = $K/server.pub
curve_allow_dir = $K/allowed
EOF
  for role in server worker client; do
    { cat "$d/common.conf"; echo "curve_secret_file = $K/$role.key"; } >"$d/$role.conf"
  done
  redis-server --port "$RP" --bind 127.0.0.1 --dir "$d/redis" --requirepass "$PASS" --appendonly yes \
    --appendfsync always --save '' >"$d/logs/redis.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do redis-cli -p "$RP" -a "$PASS" --no-auth-warning ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
  "$BIN/pefleet-broker" --config "$d/server.conf" 2>"$d/logs/broker.log" &
  PIDS+=($!)
  for ((w = 1; w <= WN; w++)); do
    "$BIN/pefleet-encoder-worker" --config "$d/worker.conf" 2>"$d/logs/worker-$w.log" &
    PIDS+=($!)
  done
  for _ in $(seq 200); do [ "$(grep -c ' ready, capacity' "$d/logs/broker.log")" -ge "$WN" ] && break; sleep 0.05; done
  [ "$(grep -c ' ready, capacity' "$d/logs/broker.log")" -ge "$WN" ] || die "workers not ready (curve=$curve)"
  local t0 t1 ticks=0 p f
  t0=$(date +%s.%N)
  local TIMEFORMAT='%3U %3S'
  { time "$BIN/pefleet" ingest --config "$d/client.conf" --label bench --wait -q "$SET" >"$d/ingest.out" 2>&1; } \
    2>"$d/ingest.cpu" || die "ingest failed (curve=$curve): $(tail -2 "$d/ingest.out")"
  t1=$(date +%s.%N)
  for p in "${PIDS[@]}"; do # utime stime cutime cstime of each daemon
    read -ra f < <(sed 's/.*) //' "/proc/$p/stat")
    ticks=$((ticks + f[11] + f[12] + f[13] + f[14]))
  done
  local fin
  fin=$(redis-cli -p "$RP" -a "$PASS" --no-auth-warning eval \
    "return redis.call('scard','pf:done') + redis.call('scard','pf:failed')" 0)
  [ "$fin" -eq "$NFILES" ] || die "only $fin of $NFILES finished (curve=$curve)"
  stop_all
  rm -rf "$d/store" "$d/redis"
  printf '%.3f %.3f\n' "$(echo "$t1 - $t0" | bc -l)" \
    "$(echo "$ticks / $(getconf CLK_TCK) + $(tr ' ' '+' <"$d/ingest.cpu")" | bc -l)"
}

median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
col() { printf '%s\n' "${@:2}" | awk -v c="$1" '{print $c}' | median; }
echo "curve_bench: $NFILES files, $(echo "$BYTES / 1000000" | bc -l | xargs printf '%.1f') MB, $WN worker(s)," \
  "$(date -u '+%F %H:%M UTC'), nproc $(nproc), loadavg $(cut -d' ' -f1-3 /proc/loadavg) before"
off=() on=()
for ((r = 0; r < REPEAT; r++)); do
  if ((r % 2 == 0)); then
    off+=("$(run 0 off-$r)")
    on+=("$(run 1 on-$r)")
  else
    on+=("$(run 1 on-$r)")
    off+=("$(run 0 off-$r)")
  fi
done
moff=$(col 1 "${off[@]}") mon=$(col 1 "${on[@]}") coff=$(col 2 "${off[@]}") con=$(col 2 "${on[@]}")
printf '%-26s %8s %10s %8s %8s %9s\n' case seconds samples/s ratio cpu-s cpu-ratio
printf '%-26s %8.2f %10.1f %8.2f %8.2f %9.2f\n' "plain ZeroMQ (baseline)" "$moff" "$(echo "$NFILES / $moff" | bc -l)" 1 "$coff" 1
printf '%-26s %8.2f %10.1f %8.2f %8.2f %9.2f\n' "CURVE + ZAP allow list" "$mon" "$(echo "$NFILES / $mon" | bc -l)" \
  "$(echo "$moff / $mon" | bc -l)" "$con" "$(echo "$con / $coff" | bc -l)"
echo "ratio: baseline seconds / these seconds (1 = as fast); cpu-ratio: cpu-s / baseline cpu-s (1 = no extra CPU)"
echo "runs (seconds cpu-s): off $(printf '%s, ' "${off[@]}") on $(printf '%s, ' "${on[@]}")"
echo "loadavg $(cut -d' ' -f1-3 /proc/loadavg) after"
