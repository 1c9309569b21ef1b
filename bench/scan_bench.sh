#!/usr/bin/env bash
# Loading the stored vectors from Redis, before and after the batched scan
# (lib/store/pf_db_scan.c, issue 15), on N stored 486-value vectors (default
# 100,000), same Redis, same data, one run:
#   (a) training's load: tests/tools/scan_load, which loads every sample the
#       way `pefleet train` does (pf_timed_load_db, then the three stored
#       splits); the baseline is the same tool built against the library of
#       the commit before the batched scan (one pf_db_get round trip per
#       sample);
#   (b) the similarity service's start-up: pefleet-similar from its start
#       until it logs the load done and answers a query (tests/tools/zsimilar);
#       the baseline is that commit's pefleet-similar (its own pipelined
#       loader on a second connection).
# Each side runs BENCH_RUNS times, alternating; the median is printed.
#
# The baseline tree is unpacked with `git archive` into
# build/bench/scan-base-<commit> and built there (GPU=0, only what is
# needed; kept for the next run).
#
# environment:
#   BIN, BUILD       this tree's programs and build folder (default bin, build)
#   BENCH_BASE       the baseline commit (default: the parent of the commit that
#                    added lib/store/pf_db_scan.c)
#   BENCH_ROWS       stored vectors (default 100000)
#   BENCH_RUNS       runs of each side (default 3)
#   BENCH_KEEP=1     keep the temporary folder (its path is printed)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
BUILD=${BUILD:-$ROOT/build}
ROWS=${BENCH_ROWS:-100000}
RUNS=${BENCH_RUNS:-3}
. "$ROOT/bench/lib.sh"
die() { echo "scan_bench: $*" >&2; exit 1; }
REDIS=$(command -v redis-server) || die "redis-server not installed"
for x in "$BIN/pefleet" "$BIN/pefleet-similar" "$BUILD/tools/scan_load" "$BUILD/tools/zsimilar"; do
  [ -x "$x" ] || die "$x missing (run 'make')"
done

BASE=${BENCH_BASE:-}
if [ -z "$BASE" ]; then
  added=$(git -C "$ROOT" log --diff-filter=A --format=%H -- lib/store/pf_db_scan.c | tail -1)
  [ -n "$added" ] || die "cannot find the commit that added lib/store/pf_db_scan.c (set BENCH_BASE)"
  BASE=$(git -C "$ROOT" rev-parse "$added^")
fi
BASE=$(git -C "$ROOT" rev-parse --short=12 "$BASE")
BT=$BUILD/bench/scan-base-$BASE
if [ ! -x "$BT/build/tools/scan_load" ] || [ ! -x "$BT/bin/pefleet-similar" ]; then
  echo "building the baseline ($BASE) in $BT ..."
  rm -rf "$BT" && mkdir -p "$BT"
  git -C "$ROOT" archive "$BASE" | tar -x -C "$BT"
  cp "$ROOT/tests/tools/scan_load.c" "$BT/tests/tools/"
  make -C "$BT" -j"$(nproc)" GPU=0 build/tools/scan_load bin/pefleet-similar >"$BT.log" 2>&1 ||
    die "baseline build failed (see $BT.log)"
fi

T=$(mktemp -d /tmp/pefleet-scanbench.XXXXXX)
RPID=
SPID=
cleanup() {
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null
  [ -n "$RPID" ] && kill "$RPID" 2>/dev/null
  wait 2>/dev/null
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
read -r RP SP <<<"$(free_ports 2)"

echo "machine:  $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "redis:    $("$REDIS" --version | awk '{print $3}'), no persistence, port $RP"
echo "baseline: $BASE (one round trip per sample for training; similar's own pipelined loader)"
echo "this:     $(git -C "$ROOT" rev-parse --short=12 HEAD)$(git -C "$ROOT" diff --quiet HEAD -- lib similar || echo ' + uncommitted changes')"

"$REDIS" --port "$RP" --bind 127.0.0.1 --dir "$T" --save "" --appendonly no --daemonize no >"$T/redis.log" 2>&1 &
RPID=$!
for _ in $(seq 1 100); do redis-cli -p "$RP" ping >/dev/null 2>&1 && break; sleep 0.05; done
mkdir -p "$T/data"
printf 'redis_port = %s\nsimilar_endpoint = tcp://127.0.0.1:%s\n' "$RP" "$SP" >"$T/data/pefleet.conf"

# sparse non-negative rows like encoded PE files: 40 of 486 values set
python3 - "$ROWS" "$T/rows.csv" <<'PY'
import random, sys
n, out = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(15)
with open(out, "w") as f:
    for i in range(n):
        row = ["0"] * 486
        for c in rnd.sample(range(486), 40):
            row[c] = "%.4g" % (rnd.gammavariate(1.0, 2.0) + 0.001)
        f.write("%d,%s\n" % (rnd.randrange(2), ",".join(row)))
PY
t0=$(date +%s.%N)
"$BIN/pefleet" import-csv -q --data "$T/data" "$T/rows.csv" || die "import-csv failed"
t1=$(date +%s.%N)
STORED=$(redis-cli -p "$RP" scard pf:done)
[ "$STORED" -eq "$ROWS" ] || die "stored $STORED of $ROWS rows"
printf 'data:     %d vectors stored with pefleet import-csv in %.1f s; %s of Redis memory\n' "$STORED" \
  "$(echo "$t1 - $t0" | bc)" "$(redis-cli -p "$RP" info memory | sed -n 's/^used_memory_human:\(.*\)\r$/\1/p')"

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# (a) training's load: seconds, from the tool's own line
train_load() { # TOOL
  local out
  out=$("$1" "$RP") || die "$1 failed"
  [[ $out == "rows $ROWS "* ]] || die "$1: $out"
  echo "$out" >>"$T/train.lines"
  sed 's/.*seconds //' <<<"$out"
}
# (b) the similarity service: seconds from start until it answers a query
# (the load done first), and the load time it logs itself
similar_start() { # BINARY LOG
  local t0 t1 ok=0
  t0=$(date +%s.%N)
  "$1" --data "$T/data" >"$2" 2>&1 &
  SPID=$!
  for _ in $(seq 1 1200); do
    if grep -q 'loaded [0-9]* vectors' "$2" &&
      "$BUILD/tools/zsimilar" "tcp://127.0.0.1:$SP" sha "$(sed -n '1p' "$T/sha.txt")" >/dev/null 2>&1; then
      ok=1
      break
    fi
    sleep 0.05
  done
  t1=$(date +%s.%N)
  kill "$SPID" 2>/dev/null
  wait "$SPID" 2>/dev/null || true
  SPID=
  [ "$ok" = 1 ] || die "$1 did not answer within a minute (see $2)"
  grep -q "loaded $ROWS vectors (0 skipped)" "$2" || die "$1: $(grep -m1 'loaded' "$2")"
  echo "$(echo "$t1 - $t0" | bc | awk '{printf "%.3f", $1}') $(sed -n 's/.*loaded [0-9]* vectors (0 skipped) in \([0-9.]*\) s.*/\1/p' "$2")"
}
redis-cli -p "$RP" srandmember pf:done 1 >"$T/sha.txt"

: >"$T/a.base" && : >"$T/a.new" && : >"$T/b.base" && : >"$T/b.new"
for r in $(seq 1 "$RUNS"); do
  train_load "$BT/build/tools/scan_load" >>"$T/a.base"
  train_load "$BUILD/tools/scan_load" >>"$T/a.new"
  similar_start "$BT/bin/pefleet-similar" "$T/sim-base-$r.log" >>"$T/b.base"
  similar_start "$BIN/pefleet-similar" "$T/sim-new-$r.log" >>"$T/b.new"
done
echo "load:     $(sed -n '1p' "$T/train.lines")"
a0=$(median <"$T/a.base")
a1=$(median <"$T/a.new")
b0=$(cut -d' ' -f1 "$T/b.base" | median)
b1=$(cut -d' ' -f1 "$T/b.new" | median)
l0=$(cut -d' ' -f2 "$T/b.base" | median)
l1=$(cut -d' ' -f2 "$T/b.new" | median)
echo
echo "median of $RUNS runs, $ROWS stored vectors       baseline ($BASE)   batched scan   speed-up"
printf '(a) training load (pefleet train'"'"'s)    %10.2f s %16.2f s %9.1fx\n' "$a0" "$a1" "$(echo "$a0 / $a1" | bc -l)"
printf '(b) pefleet-similar start to answer   %10.2f s %16.2f s %9.1fx\n' "$b0" "$b1" "$(echo "$b0 / $b1" | bc -l)"
printf '    of which its load (its own log)   %10.2f s %16.2f s %9.1fx\n' "$l0" "$l1" "$(echo "$l0 / $l1" | bc -l)"
printf '    vectors a second (load)           %10.0f %18.0f\n' "$(echo "$ROWS / $l0" | bc -l)" "$(echo "$ROWS / $l1" | bc -l)"
echo "each run: (a) base $(tr '\n' ' ' <"$T/a.base")| new $(tr '\n' ' ' <"$T/a.new")"
echo "          (b) base $(cut -d' ' -f1 "$T/b.base" | tr '\n' ' ')| new $(cut -d' ' -f1 "$T/b.new" | tr '\n' ' ')"
