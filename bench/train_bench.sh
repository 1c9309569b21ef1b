#!/usr/bin/env bash
# Benchmark of `pefleet train` against PyTorch on the CPU: the seed's
# network (486-70-70-2, ReLU, dropout 0.3, softmax; Adam 0.001/0.9/0.999/1e-7;
# batch 64), the same synthetic data set, the same train/validation/test rows
# and the same number of epochs. Prints seconds per epoch (median over the
# epochs of the run) and test accuracy side by side. See bench/README.md.
#
# Needs bin/pefleet (make) and PyTorch for Debian's Python, which `make deps`
# does not install: apt-get install -y python3-torch
#
# environment:
#   PEFLEET_SHARED  the shared folder (default: ../shared next to the repo)
#   BIN             folder holding pefleet and pefleet-sandbox (default: bin)
#   BENCH_PYTHON    the Python with torch and numpy (default: /usr/bin/python3)
#   TRAIN_BENCH_ROWS    rows of the synthetic data set (default 30000)
#   TRAIN_BENCH_EPOCHS  epochs of every run (default 10; no early stopping)
#   TRAIN_BENCH_SEED    split, initialisation and data seed (default 1)
#   BENCH_KEEP=1    keep the temporary folder (its path is printed)
#   BENCH_QUIET_WAIT  seconds to wait for other processes to go quiet before
#                   each run and before redoing a disturbed one (300)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${PEFLEET_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
BIN=${BIN:-$ROOT/bin}
PY=${BENCH_PYTHON:-/usr/bin/python3}
ROWS=${TRAIN_BENCH_ROWS:-30000}
EPOCHS=${TRAIN_BENCH_EPOCHS:-10}
SEED=${TRAIN_BENCH_SEED:-1}
QUIET_WAIT=${BENCH_QUIET_WAIT:-300}
NCPU=$(nproc)
TORCH_PY=$ROOT/bench/torch_train.py

die() { echo "train_bench: $*" >&2; exit 1; }
for x in "$BIN/pefleet" "$BIN/pefleet-sandbox"; do [ -x "$x" ] || die "$x missing (run 'make')"; done
[ -x "$PY" ] || die "$PY not found (set BENCH_PYTHON)"
"$PY" -c 'import numpy' 2>/dev/null || die "numpy missing for $PY (make deps installs python3-numpy)"
"$PY" -c 'import torch' 2>/dev/null ||
  die "PyTorch missing for $PY; install Debian's (large, not part of make deps): apt-get install -y python3-torch"
for d in clean malicious-test; do [ -d "$SHARED/corpus/$d" ] || die "$SHARED/corpus/$d not found (set PEFLEET_SHARED)"; done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pefleet-train-bench.XXXXXX")
if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "keeping $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi

# ---- data: corpus vectors -> synthetic CSV (torch_train.py synth says how)
"$BIN/pefleet" encode --jsonl -q -o "$WORK/corpus.jsonl" "$SHARED/corpus/clean" "$SHARED/corpus/malicious-test" ||
  [ -s "$WORK/corpus.jsonl" ] || die "pefleet encode of the corpus failed"
CSV=$WORK/data.csv
"$PY" "$TORCH_PY" synth --vectors "$WORK/corpus.jsonl" --rows "$ROWS" --seed "$SEED" --out "$CSV" 2>"$WORK/synth.err" ||
  die "synth failed: $(cat "$WORK/synth.err")"
SYNTH=$(sed -n 's/^synth: //p' "$WORK/synth.err")
cat "$CSV" >/dev/null # page cache

# CPU seconds the whole machine spent busy so far (as in encode_bench.sh);
# a run's busy time minus its own CPU time is what other processes took.
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

# ---- the cases: name, then the command's kind and thread counts
# torch's matrix products go to OpenBLAS (Debian's build), whose thread pool
# torch.set_num_threads does not govern, so OPENBLAS_NUM_THREADS is set too.
NAMES=("pefleet --threads 1" "pefleet --threads 2" "torch 1 thread" "torch 2 threads" "torch 2 thr, BLAS 1")
KIND=(pefleet pefleet torch torch torch)
THREADS=(1 2 1 2 2)
BLAS=(1 2 1 2 1)
NCASE=${#NAMES[@]}

# One run of case c: writes $WORK/c$c.res as "rows-line|accuracy|seconds...",
# echoes the run's own cpu-s. Per-epoch seconds come from the program
# itself (pefleet: history.json; torch: its JSON): one training epoch plus
# the validation pass, as pefleet times it.
TIMEFORMAT='%U %S'
run_case() {
  local c=$1 t out=$WORK/c$1
  rm -rf "$out" "$out.json"
  if [ "${KIND[c]}" = pefleet ]; then
    t=$( { time "$BIN/pefleet" train --device cpu --dataset "$CSV" --seed "$SEED" --epochs "$EPOCHS" --patience 100000 \
      --threads "${THREADS[c]}" -o "$out" >"$out.log" 2>"$out.err"; } 2>&1 ) ||
      die "${NAMES[c]} failed: $(tail -3 "$out.err")"
    "$PY" - "$out" >"$out.res" <<'EOF'
import json, sys
d = sys.argv[1]
h = json.load(open(d + "/history.json"))
s = json.load(open(d + "/stats.json"))
rows = [s[k]["n"] for k in ("train", "validation", "test")]
print("%s|%r|%s" % (" ".join(map(str, rows)), s["test"]["accuracy"], " ".join("%.6f" % x for x in h["seconds"])))
EOF
  else
    t=$( { time env OMP_NUM_THREADS="${THREADS[c]}" OPENBLAS_NUM_THREADS="${BLAS[c]}" MKL_NUM_THREADS="${THREADS[c]}" \
      "$PY" "$TORCH_PY" train --csv "$CSV" --seed "$SEED" --epochs "$EPOCHS" --threads "${THREADS[c]}" \
      --out "$out.json" >"$out.log" 2>"$out.err"; } 2>&1 ) || die "${NAMES[c]} failed: $(tail -3 "$out.err")"
    "$PY" - "$out.json" >"$out.res" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print("%s|%r|%s" % (" ".join(map(str, r["rows"])), r["test_accuracy"], " ".join("%.6f" % x for x in r["seconds"])))
EOF
  fi
  awk '{printf "%.2f", $1 + $2}' <<<"$t"
}

NOISY=0
declare -a OTHERS CPUS WALLS
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((c = 0; c < NCASE; c++)); do
  for ((try = 0; try < 4; try++)); do
    quiet || echo "train_bench: warning: the machine is busy (others use > 10% of a core)" >&2
    b0=$(busy_s); w0=$(date +%s.%N)
    u=$(run_case "$c")
    b1=$(busy_s); w1=$(date +%s.%N)
    w=$(awk -v a="$w0" -v b="$w1" 'BEGIN {printf "%.2f", b - a}')
    o=$(awk -v a="$b0" -v b="$b1" -v u="$u" 'BEGIN {o = b - a - u; printf "%.2f", (o > 0 ? o : 0)}')
    # others may take 0.1 cpu-s plus 3% of the run's core-seconds
    awk -v o="$o" -v w="$w" -v n="$NCPU" 'BEGIN {exit !(o <= 0.1 + 0.03 * w * n)}' && break
    NOISY=$((NOISY + 1))
    [ "$try" -lt 3 ] || o="$o*"
  done
  OTHERS[c]=$o; CPUS[c]=$u; WALLS[c]=$w
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- same rows on both sides: row counts, and pefleet's own model scored on
# the split torch_train.py reproduces gives pefleet's confusion matrices
ref_rows=$(cut -d'|' -f1 "$WORK/c0.res")
for ((c = 1; c < NCASE; c++)); do
  r=$(cut -d'|' -f1 "$WORK/c$c.res")
  [ "$r" = "$ref_rows" ] || die "${NAMES[c]} split $r rows, pefleet $ref_rows"
done
grep -q "$(awk '{printf "%s train, %s validation, %s test rows", $1, $2, $3}' <<<"$ref_rows")" "$WORK/c0.err" ||
  die "pefleet's printout does not say $ref_rows rows: $(grep rows "$WORK/c0.err")"
"$PY" "$TORCH_PY" check --csv "$CSV" --seed "$SEED" --model "$WORK/c0" >"$WORK/check.out" 2>&1 ||
  die "the split differs: $(cat "$WORK/check.out")"

median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
declare -a MED ACC
best_torch=
for ((c = 0; c < NCASE; c++)); do
  MED[c]=$(cut -d'|' -f3 "$WORK/c$c.res" | median)
  ACC[c]=$(cut -d'|' -f2 "$WORK/c$c.res")
  if [ "${KIND[c]}" = torch ] && { [ -z "$best_torch" ] || awk -v a="${MED[c]}" -v b="${MED[best_torch]}" 'BEGIN {exit !(a < b)}'; }; then
    best_torch=$c
  fi
done

read -r ntr nva nte <<<"$ref_rows"
echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), nproc $NCPU, $(uname -r)"
echo "torch:    $("$PY" -c 'import torch; print(torch.__version__)') (python3-torch $(dpkg-query -W -f='${Version}' python3-torch 2>/dev/null || echo '?')), BLAS $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null | sed 's|.*/x86_64-linux-gnu/||')"
echo "data:     $SYNTH"
echo "split:    seed $SEED: $ntr train, $nva validation, $nte test rows, the same rows on both sides (checked)"
echo "run:      $EPOCHS epochs each, no early stopping; weights of the lowest validation loss scored on the test rows"
echo "load:     loadavg $load_before before, $load_after after; $NOISY run(s) redone for other load"
echo
printf '%-22s %9s %9s %10s %9s\n' name s/epoch test_acc speed acc_diff
for ((c = 0; c < NCASE; c++)); do
  awk -v n="${NAMES[c]}" -v s="${MED[c]}" -v a="${ACC[c]}" -v b="${MED[best_torch]}" -v ba="${ACC[best_torch]}" 'BEGIN {
    printf "%-22s %9.3f %8.2f%% %9.2fx %+9.2f\n", n, s, 100 * a, b / s, 100 * (a - ba) }'
done
echo
echo "s/epoch: median over the $EPOCHS epochs of one training epoch plus the validation pass."
echo "speed: the fastest torch row's s/epoch (${NAMES[best_torch]}) over this row's; acc_diff:"
echo "test accuracy minus that row's, in points. torch N threads: torch.set_num_threads(N),"
echo "OMP_NUM_THREADS=N, OPENBLAS_NUM_THREADS=N (\"BLAS 1\": 1)."
echo "Runs (per-epoch seconds; own cpu-s, wall s, cpu-s other processes took; * = kept though noisy):"
for ((c = 0; c < NCASE; c++)); do
  printf '  %-22s %s; cpu %s wall %s others %s\n' "${NAMES[c]}" "$(cut -d'|' -f3 "$WORK/c$c.res" | awk '{for (i = 1; i <= NF; i++) printf "%.3f ", $i}')" \
    "${CPUS[c]}" "${WALLS[c]}" "${OTHERS[c]}"
done
sed 's/^/  /' "$WORK/check.out"
