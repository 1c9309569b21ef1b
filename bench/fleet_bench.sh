#!/usr/bin/env bash
# End-to-end fleet throughput: `pefleet ingest --wait` through a real fleet
# (`pefleet up`: redis-server, broker, encoder workers) from the first file
# stored to the last vector in Redis, with 1 and N workers, beside the
# single-process encoder (`pefleet encode -w 1` and `-w N`) over the same
# files in the same run. A benchmark, not a test: it prints figures.
#
# environment: PEFLEET_SHARED, BIN (default bin), BENCH_FILES (default 1000),
#              BENCH_WORKERS (default nproc), BENCH_REPEAT (default 3, median)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
SHARED=${PEFLEET_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
BIN=${BIN:-$ROOT/bin}
NFILES=${BENCH_FILES:-1000}
NCPU=$(nproc)
WN=${BENCH_WORKERS:-$NCPU}
REPEAT=${BENCH_REPEAT:-3}
die() { echo "fleet_bench: $*" >&2; exit 1; }
[ -x "$BIN/pefleet-broker" ] || die "build first (make)"
command -v redis-server >/dev/null || die "redis-server not installed (make deps)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pefleet-fleetbench.XXXXXX")
trap '"$BIN/pefleet" down --data "$WORK/fleet" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

mapfile -t ORIG < <(find "$SHARED/corpus/clean" "$SHARED/corpus/malicious-test" -type f | LC_ALL=C sort)
SET=$WORK/set
working_set "$SET" "$NFILES" pefleet-fleetbench "${ORIG[@]}"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

encode_case() { # workers
  for ((r = 0; r < REPEAT; r++)); do
    t0=$(now); "$BIN/pefleet" encode -q -w "$1" -o "$WORK/out.csv" "$SET" 2>/dev/null; t1=$(now)
    echo "$t1 - $t0" | bc -l
  done | median
}

fleet_case() { # workers
  for ((r = 0; r < REPEAT; r++)); do
    rm -rf "$WORK/fleet"
    read -r RP IP WP < <(free_ports 3)
    "$BIN/pefleet" up --data "$WORK/fleet" --workers "$1" --redis-port "$RP" --ingest-port "$IP" --worker-port "$WP" --scorers 0 >/dev/null
    t0=$(now)
    "$BIN/pefleet" ingest --data "$WORK/fleet" --label bench -q --wait "$SET" >/dev/null 2>&1
    t1=$(now)
    # up made a Redis password (pefleet.conf, 0600)
    done_n=$(REDISCLI_AUTH=$(sed -n 's/^redis_password = //p' "$WORK/fleet/pefleet.conf") redis-cli -p "$RP" --no-auth-warning SCARD pf:done)
    "$BIN/pefleet" down --data "$WORK/fleet" >/dev/null
    [ "$done_n" -eq "$NFILES" ] || die "fleet stored $done_n of $NFILES vectors"
    echo "$t1 - $t0" | bc -l
  done | median
}

echo "fleet_bench: $NFILES files, $(echo "$BYTES / 1000000" | bc -l | xargs printf '%.1f') MB, $(date -u +%Y-%m-%d), $NCPU cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %8s %10s %8s\n' case seconds samples/s "vs encode"
e1=$(encode_case 1); eN=$(encode_case "$WN")
f1=$(fleet_case 1); fN=$(fleet_case "$WN")
row() { printf '%-34s %8.2f %10.1f %8s\n' "$1" "$2" "$(echo "$NFILES / $2" | bc -l)" "$3"; }
row "baseline: pefleet encode -w 1" "$e1" "1.00"
row "baseline: pefleet encode -w $WN" "$eN" "1.00"
row "fleet: ingest --wait, 1 worker" "$f1" "$(printf '%.2f' "$(echo "$e1 / $f1" | bc -l)")"
row "fleet: ingest --wait, $WN workers" "$fN" "$(printf '%.2f' "$(echo "$eN / $fN" | bc -l)")"
