#!/usr/bin/env bash
# What an explanation costs: the same requests through one scorer with and
# without `explain` (ScoreRequest.explain: Integrated Gradients, computed by
# the scorer), beside each other in one run, for vector requests (rows of
# the corpus's vectors) and uploads (the corpus's PE files). Figures:
# requests/s from one client thread (build/tools/zscore) and the scorer's
# CPU time per request (utime + stime from /proc, before and after).
# The seed's Keras model with a clean-mean baseline (explain-baseline).
# A benchmark, not a test: it fails only when something breaks.
# env: BENCH_N (vector requests per case, 2000), BENCH_UPLOADS (500)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
BIN=${BIN:-$ROOT/bin}
BUILD=${BUILD:-$ROOT/build}
SHARED=${PEFLEET_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
CORPUS=$SHARED/corpus
P=$BIN/pefleet
Z=$BUILD/tools/zscore
N=${BENCH_N:-2000}
NU=${BENCH_UPLOADS:-500}
die() { echo "explain_bench: $*" >&2; exit 1; }
T=$(mktemp -d /tmp/pefleet-explain-bench.XXXXXX)
D=$T/fleet
trap '"$P" down --data "$D" >/dev/null 2>&1; rm -rf "$T"' EXIT
read -r RP IP WP SP SCP SIMP HP < <(free_ports 7)
"$P" import-keras "$SHARED/seed/ergo-pe-av/model.h5" -o "$T/m1" --version seed >/dev/null 2>&1 || die "import-keras failed"
"$P" encode -q -o "$T/all.csv" "$CORPUS/clean" "$CORPUS/malicious-test" 2>/dev/null
"$P" encode -q -o "$T/clean.csv" --label clean "$CORPUS/clean" 2>/dev/null
"$P" explain-baseline "$T/m1" --dataset "$T/clean.csv" >/dev/null || die "explain-baseline failed"
PEFLEET_CLAMD_PORT=0 "$P" up --data "$D" --workers 1 --scorers 1 --model "$T/m1" --redis-port "$RP" --ingest-port "$IP" \
  --worker-port "$WP" --score-port "$SP" --scorer-port "$SCP" --similar-port "$SIMP" --port "$HP" >"$T/up.log" 2>&1 \
  || die "up failed: $(tail -2 "$T/up.log")"
spid=$("$P" status --data "$D" --json 2>/dev/null | python3 -c 'import json,sys; print([d["pid"] for d in json.load(sys.stdin)["daemons"] if d["role"].startswith("scorer") and d["role"] != "score-router"][0])')
[ -n "$spid" ] || die "no scorer pid"
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
EP=tcp://127.0.0.1:$SP
"$Z" "$EP" --csv "$T/all.csv" -n 200 -t 1 >/dev/null 2>&1 # warm up
printf 'explain_bench: %s, %s cores, load %s, 1 scorer, 1 client thread, seed model (clean-mean baseline)\n' \
  "$(date -u +%F)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %8s %10s %14s %8s\n' case requests req/s "scorer CPU/req" "vs plain"
base_cpu=
for c in "vectors:plain:--csv $T/all.csv:$N" "vectors:explain:--csv $T/all.csv --explain:$N" \
         "uploads:plain:--file $CORPUS/clean/* $CORPUS/malicious-test/*:$NU" \
         "uploads:explain:--file $CORPUS/clean/* $CORPUS/malicious-test/* --explain:$NU"; do
  IFS=: read -r kind mode args n <<<"$c"
  c0=$(cpu "$spid")
  # shellcheck disable=SC2086
  out=$("$Z" "$EP" $args -n "$n" -t 1 2>&1) || die "$kind $mode: $out"
  c1=$(cpu "$spid")
  rps=$(echo "$out" | grep -Eo '[0-9.]+ req/s' | head -1 | cut -d' ' -f1)
  per=$(echo "($c1 - $c0) * 1000 / $HZ / $n" | bc -l)
  if [ "$mode" = plain ]; then base_cpu=$per; ratio=1; else ratio=$(echo "$per / $base_cpu" | bc -l); fi
  printf '%-34s %8d %10s %11.3f ms %8.2f\n' "$kind, $mode" "$n" "${rps:-?}" "$per" "$ratio"
done
