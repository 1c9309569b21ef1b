#!/usr/bin/env bash
# Requests/s and p50/p99 latency through the HTTP gateway, with 1 and N
# scorers (N = cores, at least 2), for vector requests (POST / x=v0,...,
# urlencoded, the seed's form) and multipart uploads of the shared corpus
# (51 PE files, cycled), measured with Debian's wrk (Lua scripts in
# bench/lua/). Baselines in the same run, on the same pool:
#   - wrk GET /healthz: the gateway's HTTP cost alone (no pool),
#   - zscore vectors / zscore uploads: the same requests straight to the
#     score router over pf_rpc, no HTTP (build/tools/zscore).
# Each case runs with BENCH_CONNS connections (zscore: as many threads);
# "1 connection" is the vector case without queueing (latency alone);
# uploads (and their zscore baseline) run at each of BENCH_UPLOAD_CONNS.
# BENCH_GATEWAYS="before=/tmp/old/bin/pefleet-gateway after=bin/pefleet-gateway"
# measures each of those binaries, started on the same pool with their
# default flags, side by side in one run (default: the gateway `up` starts).
# A benchmark, not a test: it prints figures, and fails only when something
# breaks (a daemon does not start, or any request fails).
#
# env: BENCH_SECONDS (5 per case), BENCH_CONNS (wrk connections, 4),
#      BENCH_SCORERS ("1 $(nproc)" with at least 2), BENCH_UPLOAD_CONNS ("4 16 64"),
#      BENCH_GATEWAYS (LABEL=BINARY ...), BIN, BUILD
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
BIN=${BIN:-$ROOT/bin}
BUILD=${BUILD:-$ROOT/build}
SHARED=${PEFLEET_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
CORPUS=$SHARED/corpus
P=$BIN/pefleet
Z=$BUILD/tools/zscore
SECS=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNS:-4}
NC=$(nproc); [ "$NC" -lt 2 ] && NC=2
SCORERS=${BENCH_SCORERS:-1 $NC}
UPCONNS=${BENCH_UPLOAD_CONNS:-4 16 64}
GATEWAYS=${BENCH_GATEWAYS:-}
die() { echo "gateway_bench: $*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk not installed (make deps)"
[ -x "$BIN/pefleet-gateway" ] || die "$BIN/pefleet-gateway not built"
[ -x "$Z" ] || die "$Z not built (make)"
[ -f "$SHARED/seed/ergo-pe-av/model.h5" ] || die "no seed model under $SHARED"
T=$(mktemp -d /tmp/pefleet-gwbench.XXXXXX)
D=$T/fleet
GWPIDS=()
trap 'for p in "${GWPIDS[@]}"; do kill "$p" 2>/dev/null; done; "$P" down --data "$D" >/dev/null 2>&1; rm -rf "$T"' EXIT

echo "machine: $NC cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%dT%H:%MZ), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), 1 thread, $CONNS connections, ${SECS} s per case; zscore $CONNS threads"
"$P" import-keras "$SHARED/seed/ergo-pe-av/model.h5" -o "$T/m1" --version seed-a >/dev/null 2>&1 || die "import-keras failed"
FILES=()
while IFS= read -r f; do FILES+=("$f"); done < <(ls "$CORPUS"/clean/* "$CORPUS"/malicious-test/* | sort)
"$P" encode -q -o "$T/vec.csv" "${FILES[@]}" 2>/dev/null
[ -s "$T/vec.csv" ] || die "pefleet encode failed"
cut -d, -f2- "$T/vec.csv" | head -1 >"$T/one.vec"
echo "corpus: ${#FILES[@]} files, $(du -cb "${FILES[@]}" | tail -1 | cut -f1) bytes; vector body $(($(wc -c <"$T/one.vec") + 2)) bytes"

read -r RP IP WP SP SCP SIMP HP < <(free_ports 7)

# to_ms VALUE-WITH-UNIT (wrk prints 812.00us, 1.23ms, 1.02s)
to_ms() { awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.3f", n }'; }
ROWS=()
# run_wrk CASE SCORERS WRK-ARGS...: one row from wrk --latency (-cN first: N connections)
run_wrk() {
  local name=$1 s=$2 c=$CONNS; shift 2
  case $1 in -c[0-9]*) c=${1#-c}; shift ;; esac
  wrk -t1 -c"$c" -d"${SECS}s" --latency "$@" >"$T/wrk.out" 2>&1 || die "wrk failed: $(tail -2 "$T/wrk.out")"
  local rps p50 p99 bad
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$T/wrk.out")
  p50=$(to_ms "$(awk '$1=="50%" {print $2}' "$T/wrk.out")")
  p99=$(to_ms "$(awk '$1=="99%" {print $2}' "$T/wrk.out")")
  bad=$(awk '/Non-2xx/ {print $NF} /Socket errors/ {print "socket errors"}' "$T/wrk.out")
  [ -z "$bad" ] || die "$name: failed requests ($bad): $(grep -E 'Non-2xx|Socket' "$T/wrk.out")"
  ROWS+=("$(printf '%-50s %7s %10.0f %9s %9s' "$name" "$s" "$rps" "$p50" "$p99")")
}
# run_zscore CASE SCORERS [-tN] ZSCORE-ARGS...: one row from zscore's summary
run_zscore() {
  local name=$1 s=$2 t=$CONNS; shift 2
  case $1 in -t[0-9]*) t=${1#-t}; shift ;; esac
  "$Z" "tcp://127.0.0.1:$SP" "$@" -s "$SECS" -t "$t" >/dev/null 2>"$T/z.err" || die "$name: zscore failed: $(cat "$T/z.err")"
  local line; line=$(grep -m1 'req/s' "$T/z.err")
  local rps p50 p99
  rps=$(echo "$line" | sed -E 's/.*: ([0-9.]+) req\/s.*/\1/')
  p50=$(echo "$line" | sed -E 's/.*p50 ([0-9.]+) ms.*/\1/')
  p99=$(echo "$line" | sed -E 's/.*p99 ([0-9.]+) ms.*/\1/')
  ROWS+=("$(printf '%-50s %7s %10.0f %9s %9s' "$name" "$s" "$rps" "$p50" "$p99")")
}

for S in $SCORERS; do
  "$P" up --data "$D" --workers 1 --scorers "$S" --model "$T/m1" --redis-port "$RP" --ingest-port "$IP" \
    --worker-port "$WP" --score-port "$SP" --scorer-port "$SCP" --similar-port "$SIMP" --port "$HP" \
    >"$T/up.out" 2>&1 || die "pefleet up failed: $(tail -3 "$T/up.out")"
  for _ in $(seq 200); do
    [ "$(grep -c 'ready, capacity' "$D/logs/score-router.log" 2>/dev/null)" -ge "$S" ] &&
      curl -sf "http://127.0.0.1:$HP/healthz" >/dev/null && break
    sleep 0.1
  done
  # the gateways measured: up's, or each of BENCH_GATEWAYS on its own port
  GWS=()
  if [ -z "$GATEWAYS" ]; then GWS=("gateway=$HP"); fi
  for g in $GATEWAYS; do
    read -r gp < <(free_ports 1)
    "${g#*=}" --data "$D" --port "$gp" 2>"$T/gw-${g%%=*}.log" &
    GWPIDS+=($!)
    GWS+=("${g%%=*}=$gp")
  done
  for g in "${GWS[@]}"; do
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:${g#*=}/healthz" >/dev/null && break; sleep 0.1; done
    curl -sf -F "x=@${FILES[0]}" "http://127.0.0.1:${g#*=}/" >/dev/null || die "${g%%=*} does not score (see $D/logs, $T)"
  done
  for g in "${GWS[@]}"; do run_wrk "baseline: wrk GET /healthz (${g%%=*})" "$S" "http://127.0.0.1:${g#*=}/healthz"; done
  run_zscore "baseline: zscore vectors (no HTTP)" "$S" --csv "$T/vec.csv"
  for g in "${GWS[@]}"; do
    U=http://127.0.0.1:${g#*=}
    run_wrk "${g%%=*}: POST / vector" "$S" -s "$ROOT/bench/lua/post_vector.lua" "$U/" -- "$T/one.vec"
    run_wrk "${g%%=*}: POST / vector, 1 connection" "$S" -c1 -s "$ROOT/bench/lua/post_vector.lua" "$U/" -- "$T/one.vec"
  done
  for c in $UPCONNS; do
    run_zscore "baseline: zscore uploads, $c threads" "$S" -t"$c" --file "${FILES[@]}"
    for g in "${GWS[@]}"; do
      run_wrk "${g%%=*}: POST / multipart upload, $c conns" "$S" -c"$c" -s "$ROOT/bench/lua/post_files.lua" \
        "http://127.0.0.1:${g#*=}/" -- "${FILES[@]}"
    done
  done
  for p in "${GWPIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  GWPIDS=()
  "$P" down --data "$D" >/dev/null 2>&1
  sleep 0.5
done

echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-50s %7s %10s %9s %9s\n' case scorers "req/s" "p50 ms" "p99 ms"
for r in "${ROWS[@]}"; do echo "$r"; done
