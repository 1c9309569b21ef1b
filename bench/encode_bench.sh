#!/usr/bin/env bash
# Benchmark of `pefleet encode` against LIEF parsing the same files in one
# process (bench/lief_baseline). Run it through `make bench`, which builds
# both. See bench/README.md for what is measured.
#
# environment:
#   PEFLEET_SHARED  the shared folder (default: ../shared next to the repo)
#   BIN             folder holding pefleet and pefleet-sandbox (default: bin)
#   BASELINE        the lief_baseline binary (default: build/bench/lief_baseline)
#   UNHARDENED      the sandbox built with every isolation layer off, the
#                   "before" of the isolation (default:
#                   build/bench/pefleet-sandbox-unhardened; never installed)
#   BENCH_FILES     size of the working set (default 2000)
#   BENCH_REPEAT    runs of each case; the median is reported (default 3)
#   BENCH_WORKERS   the many-worker case (default: nproc)
#   BENCH_KEEP=1    keep the temporary folder (its path is printed)
#   BENCH_QUIET_WAIT  seconds to wait for other processes to go quiet before
#                   the first run and before redoing a disturbed one (300)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
SHARED=${PEFLEET_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
BIN=${BIN:-$ROOT/bin}
BASELINE=${BASELINE:-$ROOT/build/bench/lief_baseline}
UNHARDENED=${UNHARDENED:-$ROOT/build/bench/pefleet-sandbox-unhardened}
NFILES=${BENCH_FILES:-2000}
REPEAT=${BENCH_REPEAT:-3}
NCPU=$(nproc)
WN=${BENCH_WORKERS:-$NCPU}

die() { echo "encode_bench: $*" >&2; exit 1; }
for x in "$BIN/pefleet" "$BIN/pefleet-sandbox" "$BASELINE" "$UNHARDENED"; do
  [ -x "$x" ] || die "$x missing (run 'make bench')"
done
EXPECTED=$SHARED/corpus/expected-ergo486.tsv
[ -f "$EXPECTED" ] || die "$EXPECTED not found (set PEFLEET_SHARED)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pefleet-bench.XXXXXX")
if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "keeping $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi

# ---- working set: the PE files of corpus/clean and corpus/malicious-test
# (those expected-ergo486.tsv lists as OK: LIEF parses them all, so the
# in-process baseline cannot abort), replicated to NFILES. Copy k > 0 of a
# file gets a short tag appended after its last byte (overlay: headers and
# sections unchanged), so every file has its own sha256.
mapfile -t ORIG < <(awk -F'\t' -v c="$SHARED/corpus" '$2 == "OK" && $1 ~ /^(clean|malicious-test)\// {print c "/" $1}' "$EXPECTED" | LC_ALL=C sort)
[ "${#ORIG[@]}" -gt 0 ] || die "no OK files of clean/ or malicious-test/ in $EXPECTED"
for f in "${ORIG[@]}"; do [ -f "$f" ] || die "$f is listed in $EXPECTED but missing"; done
SET=$WORK/set
working_set "$SET" "$NFILES" pefleet-bench "${ORIG[@]}"
nuniq=$(sha256sum "$SET"/* | cut -d' ' -f1 | sort -u | wc -l)
[ "$nuniq" -eq "$NFILES" ] || die "working set has $nuniq distinct files, wanted $NFILES"

# ---- one run of each case; prints "seconds cpu-s wall" (cpu-s: user+sys
# of the process tree; wall: of the whole command)
TIMEFORMAT='%R %U %S'
run_baseline() {
  local t out
  t=$( { time "$BASELINE" "$SET" >"$WORK/base.out" 2>"$WORK/base.err"; } 2>&1 ) ||
    die "baseline failed: $(cat "$WORK/base.err")"
  out=$(cat "$WORK/base.out")
  [[ $out =~ files=([0-9]+).*seconds=([0-9.]+) ]] || die "baseline printed: $out"
  [ "${BASH_REMATCH[1]}" -eq "$NFILES" ] || die "baseline saw ${BASH_REMATCH[1]} files"
  # the baseline times only its parse loop; CPU and wall are the process's
  echo "${BASH_REMATCH[2]} $(awk '{printf "%.3f %.3f", $2 + $3, $1}' <<<"$t")"
}
run_encode() { # workers [sandbox program]
  local t rows sb=${2:-$BIN/pefleet-sandbox}
  rm -f "$WORK/out.csv"
  t=$( { time PEFLEET_SANDBOX=$sb "$BIN/pefleet" encode -w "$1" -q -o "$WORK/out.csv" "$SET" 2>"$WORK/enc.err"; } 2>&1 ) ||
    die "pefleet encode -w $1 failed: $(head -3 "$WORK/enc.err")"
  rows=$(wc -l <"$WORK/out.csv")
  [ "$rows" -eq "$NFILES" ] || die "pefleet encode -w $1 wrote $rows rows for $NFILES files"
  awk '{printf "%.3f %.3f %.3f\n", $1, $2 + $3, $1}' <<<"$t"
}

# CPU seconds the whole machine spent busy (user, nice, system, irq,
# softirq, steal) so far. A run's busy time minus its own process tree's CPU
# time is what other processes took while it ran.
TCK=$(getconf CLK_TCK)
busy_s() { awk -v t="$TCK" '/^cpu / {printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / t}' /proc/stat; }

# Waits (at most QUIET_WAIT s) for a second in which others use < 10% of a core.
quiet() {
  local a b waited=0
  while :; do
    a=$(busy_s); sleep 1; b=$(busy_s)
    awk -v d="$(awk -v a="$a" -v b="$b" 'BEGIN {print b - a}')" 'BEGIN {exit !(d < 0.1)}' && return 0
    waited=$((waited + 1))
    [ "$waited" -ge "$QUIET_WAIT" ] && return 1
  done
}

# One measured run of case c, retried (after waiting for quiet) while other
# processes took more than 0.05 cpu-s plus 3% of the run's core-seconds.
# Sets s (seconds), u (own cpu-s), o (others' cpu-s).
measure() {
  local c=$1 try res b0 b1
  for ((try = 0; try < 4; try++)); do
    b0=$(busy_s)
    case $c in
      0) res=$(run_baseline) ;;
      1) res=$(run_encode 1) ;;
      2) res=$(run_encode "$WN") ;;
      3) res=$(run_encode 1 "$UNHARDENED") ;;
      4) res=$(run_encode "$WN" "$UNHARDENED") ;;
    esac
    b1=$(busy_s)
    read -r s u w <<<"$res"
    o=$(awk -v a="$b0" -v b="$b1" -v u="$u" 'BEGIN {o = b - a - u; printf "%.2f", (o > 0 ? o : 0)}')
    awk -v o="$o" -v w="$w" -v n="$NCPU" 'BEGIN {exit !(o <= 0.05 + 0.03 * w * n)}' && return 0
    NOISY=$((NOISY + 1))
    quiet || true
  done
  s="$s*" # kept although noisy
}

NAMES=("lief-baseline" "pefleet -w 1" "pefleet -w $WN" "unhardened -w 1" "unhardened -w $WN")
CORES=(1 1 "$WN" 1 "$WN")
declare -a SECS CPUS OTHERS
NOISY=0
QUIET_WAIT=${BENCH_QUIET_WAIT:-300}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
quiet || echo "encode_bench: warning: the machine is busy (others use > 10% of a core); figures may be low" >&2
"$BIN/pefleet" encode -w "$WN" -q -o "$WORK/out.csv" "$SET" 2>/dev/null || true # warm-up
for ((r = 0; r < REPEAT; r++)); do # interleaved, so slow phases hit every case
  for c in 0 1 2 3 4; do
    measure "$c"
    SECS[c]+="$s "
    CPUS[c]+="$u "
    OTHERS[c]+="$o "
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

median() { tr -d '*' <<<"$1" | tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

lief_pkg=$(dpkg-query -W -f='${Version}' liblief-dev 2>/dev/null || echo unknown)
echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), nproc $NCPU, $(uname -r)"
echo "LIEF:     $("$BASELINE" --version | cut -d' ' -f2) (liblief-dev $lief_pkg)"
echo "set:      $NFILES files, $(awk -v b="$BYTES" 'BEGIN {printf "%.1f", b / 1e6}') MB, from ${#ORIG[@]} corpus PE files; median of $REPEAT runs"
echo "load:     loadavg $load_before before, $load_after after; $NOISY run(s) redone for other load"
echo
printf '%-16s %6s %7s %8s %9s %8s %14s %8s %9s %8s\n' \
  name files MB seconds files/s MB/s files/s/core ratio ratio/core cpu-s
base_fps=
declare -a FPS
for c in 0 1 2 3 4; do
  s=$(median "${SECS[c]}")
  u=$(median "${CPUS[c]}")
  fps=$(awk -v n="$NFILES" -v s="$s" 'BEGIN {printf "%.1f", n / s}')
  [ -n "$base_fps" ] || base_fps=$fps
  FPS[c]=$fps
  awk -v name="${NAMES[c]}" -v n="$NFILES" -v b="$BYTES" -v s="$s" -v k="${CORES[c]}" -v bf="$base_fps" -v u="$u" 'BEGIN {
    f = n / s
    printf "%-16s %6d %7.1f %8.3f %9.1f %8.1f %14.1f %7.2fx %8.2fx %8.2f\n",
      name, n, b / 1e6, s, f, b / 1e6 / s, f / k, f / bf, f / k / bf, u }'
done
echo
echo "seconds: wall clock (baseline: its parse loop only; pefleet: the whole command)."
echo "cpu-s: user+sys of the whole process tree. ratio: files/s over the baseline's;"
echo "ratio/core: files/s per worker over the baseline's (one core)."
echo
echo "isolation (every layer of sandbox/ against the same protocol with none: $UNHARDENED):"
awk -v h="${FPS[1]}" -v u="${FPS[3]}" 'BEGIN {printf "  -w 1:  hardened %.1f files/s, unhardened %.1f files/s: %.2f of unhardened\n", h, u, h / u}'
awk -v h="${FPS[2]}" -v u="${FPS[4]}" -v w="$WN" 'BEGIN {printf "  -w %d:  hardened %.1f files/s, unhardened %.1f files/s: %.2f of unhardened\n", w, h, u, h / u}'
echo "Runs (seconds; cpu-s other processes took during each run, * = kept though noisy):"
for c in 0 1 2 3 4; do printf '  %-16s %s; others %s\n' "${NAMES[c]}" "${SECS[c]}" "${OTHERS[c]}"; done
