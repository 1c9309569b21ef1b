#!/usr/bin/env bash
# make gpu-check: the first thing to run wherever an NVIDIA GPU appears.
# Builds with CUDA, runs the GPU trainer's parity tests against the CPU step
# (build/tests/test_train_gpu with PEFLEET_REQUIRE_GPU=1: a skip is a
# failure here), then trains the seed's network on the same synthetic data
# on the CPU and on the GPU in the same run, and prints a one-screen
# summary. Within 5 minutes; without a GPU it says "skipped: no GPU".
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "skipped: no GPU (nvidia-smi finds none)"
  exit 0
fi
T=$(mktemp -d /tmp/pefleet-gpu-check.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
echo "== gpu-check $(date -u '+%Y-%m-%d %H:%M UTC') on $(nvidia-smi -L | head -1)"
nvidia-smi --query-gpu=driver_version,memory.total --format=csv,noheader | sed 's/^/driver, memory: /'
if ! timeout 240 make -j"$(nproc)" GPU=auto all >"$T/build.log" 2>&1; then
  echo "FAIL build:"; tail -20 "$T/build.log"; exit 1
fi
grep -m1 '^gpu:' "$T/build.log" || true
echo "== parity: GPU step against the CPU step"
PEFLEET_REQUIRE_GPU=1 timeout 120 build/tests/test_train_gpu >"$T/parity.log" 2>&1 || fail=1
grep -E '^\[  (PASSED|FAILED|SKIPPED) \]|^\[  FAILED  \] test|max (abs|rel)|diff' "$T/parity.log" | head -20
[ "$fail" = 0 ] || { echo "FAIL parity:"; tail -30 "$T/parity.log"; }
echo "== training: the same data, CPU then GPU (5 epochs, 30000 rows)"
python3 tests/integration/lib/synth_dataset.py "$T/data.csv" 30000
for dev in cpu gpu; do
  start=$(date +%s.%N)
  if timeout 120 bin/pefleet train --device "$dev" --dataset "$T/data.csv" --epochs 5 --patience 100 --seed 1 \
       -o "$T/m-$dev" >"$T/train-$dev.log" 2>&1; then
    end=$(date +%s.%N)
    acc=$(grep -Eo 'test accuracy [0-9.]+|accuracy [0-9.]+' "$T/train-$dev.log" | tail -1)
    printf '%-4s %6.1f s  %s  (%s)\n' "$dev" "$(echo "$end - $start" | bc)" "${acc:-?}" \
      "$(grep -m1 -Eo 'device [a-z]+[^)]*\)?' "$T/train-$dev.log" || echo "device ?")"
  else
    fail=1; echo "FAIL train --device $dev:"; tail -10 "$T/train-$dev.log"
  fi
done
[ "$fail" = 0 ] && echo "gpu-check: passed" || echo "gpu-check: FAILED"
exit "$fail"
