#!/usr/bin/env bash
# Benchmark of `pefleet encode` against LIEF parsing the same files in one
# process (bench/lief_baseline). Run it through `make bench`, which builds
# both. See bench/README.md for what is measured.
#
# environment:
#   PEFLEET_SHARED  the shared folder (default: ../shared next to the repo)
#   BIN             folder holding pefleet and pefleet-sandbox (default: bin)
#   BASELINE        the lief_baseline binary (default: build/bench/lief_baseline)
#   BENCH_FILES     size of the working set (default 2000)
#   BENCH_REPEAT    runs of each case; the median is reported (default 3)
#   BENCH_WORKERS   the many-worker case (default: nproc)
#   BENCH_KEEP=1    keep the temporary folder (its path is printed)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${PEFLEET_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
BIN=${BIN:-$ROOT/bin}
BASELINE=${BASELINE:-$ROOT/build/bench/lief_baseline}
NFILES=${BENCH_FILES:-2000}
REPEAT=${BENCH_REPEAT:-3}
NCPU=$(nproc)
WN=${BENCH_WORKERS:-$NCPU}

die() { echo "encode_bench: $*" >&2; exit 1; }
for x in "$BIN/pefleet" "$BIN/pefleet-sandbox" "$BASELINE"; do
  [ -x "$x" ] || die "$x missing (run 'make bench')"
done
SRC=()
for d in clean malicious-test; do
  [ -d "$SHARED/corpus/$d" ] || die "$SHARED/corpus/$d not found (set PEFLEET_SHARED)"
  SRC+=("$SHARED/corpus/$d")
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pefleet-bench.XXXXXX")
if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "keeping $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi

# ---- working set: the corpus PE files, replicated to NFILES. Copy k > 0 of
# a file gets a short tag appended (overlay bytes LIEF ignores), so every file
# has its own sha256 and nothing is deduplicated anywhere.
mapfile -t ORIG < <(find "${SRC[@]}" -type f | LC_ALL=C sort)
[ "${#ORIG[@]}" -gt 0 ] || die "no corpus files"
SET=$WORK/set
mkdir -p "$SET"
for ((i = 0; i < NFILES; i++)); do
  f=${ORIG[i % ${#ORIG[@]}]}
  k=$((i / ${#ORIG[@]}))
  dst=$(printf '%s/%04d-%s' "$SET" "$i" "$(basename "$f")")
  cp "$f" "$dst"
  if [ "$k" -gt 0 ]; then printf 'pefleet-bench copy %d\n' "$k" >>"$dst"; fi
done
nuniq=$(sha256sum "$SET"/* | cut -d' ' -f1 | sort -u | wc -l)
[ "$nuniq" -eq "$NFILES" ] || die "working set has $nuniq distinct files, wanted $NFILES"
BYTES=$(find "$SET" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d", s}')
cat "$SET"/* >/dev/null # page cache

# ---- one run of each case; prints "seconds user+sys"
TIMEFORMAT='%R %U %S'
run_baseline() {
  local t out
  t=$( { time "$BASELINE" "$SET" >"$WORK/base.out" 2>"$WORK/base.err"; } 2>&1 ) ||
    die "baseline failed: $(cat "$WORK/base.err")"
  out=$(cat "$WORK/base.out")
  [[ $out =~ files=([0-9]+).*seconds=([0-9.]+) ]] || die "baseline printed: $out"
  [ "${BASH_REMATCH[1]}" -eq "$NFILES" ] || die "baseline saw ${BASH_REMATCH[1]} files"
  # the baseline times only the parse loop; CPU is the whole process's
  echo "${BASH_REMATCH[2]} $(awk '{printf "%.3f", $2 + $3}' <<<"$t")"
}
run_encode() { # workers
  local t rows
  rm -f "$WORK/out.csv"
  t=$( { time "$BIN/pefleet" encode -w "$1" -q -o "$WORK/out.csv" "$SET" 2>"$WORK/enc.err"; } 2>&1 ) ||
    die "pefleet encode -w $1 failed: $(head -3 "$WORK/enc.err")"
  rows=$(wc -l <"$WORK/out.csv")
  [ "$rows" -eq "$NFILES" ] || die "pefleet encode -w $1 wrote $rows rows for $NFILES files"
  awk '{printf "%.3f %.3f\n", $1, $2 + $3}' <<<"$t"
}

# Share of CPU time not idle over one second, all cores: other load.
busy() {
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  local tot=0 idle=$(( (b[4] + b[5]) - (a[4] + a[5]) ))
  for j in 1 2 3 4 5 6 7 8; do tot=$((tot + b[j] - a[j])); done
  awk -v i="$idle" -v t="$tot" 'BEGIN {printf "%.0f%%", (t > 0 ? 100 * (t - i) / t : 0)}'
}

NAMES=("lief-baseline" "pefleet -w 1" "pefleet -w $WN")
CORES=(1 1 "$WN")
declare -a SECS CPUS
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
busy_before=$(busy)
"$BIN/pefleet" encode -w "$WN" -q -o "$WORK/out.csv" "$SET" 2>/dev/null || true # warm-up
for ((r = 0; r < REPEAT; r++)); do # interleaved, so slow phases hit every case
  for c in 0 1 2; do
    case $c in
      0) res=$(run_baseline) ;;
      1) res=$(run_encode 1) ;;
      2) res=$(run_encode "$WN") ;;
    esac
    read -r s u <<<"$res"
    SECS[c]+="$s "
    CPUS[c]+="$u "
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

lief_pkg=$(dpkg-query -W -f='${Version}' liblief-dev 2>/dev/null || echo unknown)
echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), nproc $NCPU, $(uname -r)"
echo "LIEF:     $("$BASELINE" --version | cut -d' ' -f2) (liblief-dev $lief_pkg)"
echo "set:      $NFILES files, $(awk -v b="$BYTES" 'BEGIN {printf "%.1f", b / 1e6}') MB, from ${#ORIG[@]} corpus PE files; median of $REPEAT runs"
echo "load:     loadavg $load_before before, $load_after after; CPU busy before start: $busy_before"
echo
printf '%-16s %6s %7s %8s %9s %8s %14s %8s %9s %8s\n' \
  name files MB seconds files/s MB/s files/s/core ratio ratio/core cpu-s
base_fps=
for c in 0 1 2; do
  s=$(median "${SECS[c]}")
  u=$(median "${CPUS[c]}")
  fps=$(awk -v n="$NFILES" -v s="$s" 'BEGIN {printf "%.1f", n / s}')
  [ -n "$base_fps" ] || base_fps=$fps
  awk -v name="${NAMES[c]}" -v n="$NFILES" -v b="$BYTES" -v s="$s" -v k="${CORES[c]}" -v bf="$base_fps" -v u="$u" 'BEGIN {
    f = n / s
    printf "%-16s %6d %7.1f %8.3f %9.1f %8.1f %14.1f %7.2fx %8.2fx %8.2f\n",
      name, n, b / 1e6, s, f, b / 1e6 / s, f / k, f / bf, f / k / bf, u }'
done
echo
echo "seconds: wall clock (baseline: its parse loop only; pefleet: the whole command)."
echo "cpu-s: user+sys of the whole process tree. ratio: files/s over the baseline's;"
echo "ratio/core: files/s per worker over the baseline's (one core)."
for c in 0 1 2; do echo "runs ${NAMES[c]}: seconds ${SECS[c]}"; done
