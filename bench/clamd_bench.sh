#!/usr/bin/env bash
# Files/s through pefleet-clamd (clamd's protocol) beside the other ways
# into the same score pool, on the same files in one run, so users see what
# the protocol costs:
#   baseline: pefleet scan --server DIR  (pf_rpc straight to the score router)
#   gateway:  the seed's POST / x=@file, one curl, one keep-alive connection
#   clamdscan --stream  (INSTREAM, a TCP connection per file)
#   clamdscan --fdpass  (FILDES over the Unix socket)
#   clamdscan --multiscan (server-side paths, 4 scoring threads in the daemon)
# Every case is sequential on the client side but --multiscan. A fleet of its
# own (1 worker, BENCH_SCORERS scorers, the seed's Keras model) on free
# ports; median of BENCH_RUNS runs. A benchmark, not a test: it fails only
# when something breaks (a daemon does not start, or a file gets no verdict).
#
# env: BENCH_FILES (400), BENCH_RUNS (3), BENCH_SCORERS (2), BIN, BUILD
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
BIN=${BIN:-$ROOT/bin}
SHARED=${PEFLEET_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
CORPUS=$SHARED/corpus
P=$BIN/pefleet
N=${BENCH_FILES:-400}
RUNS=${BENCH_RUNS:-3}
SCORERS=${BENCH_SCORERS:-2}
die() { echo "clamd_bench: $*" >&2; exit 1; }
command -v clamdscan >/dev/null || die "clamdscan not installed (make deps)"
command -v curl >/dev/null || die "curl not installed (make deps)"
T=$(mktemp -d /tmp/pefleet-clamd-bench.XXXXXX)
D=$T/fleet
trap '"$P" down --data "$D" >/dev/null 2>&1; rm -rf "$T"' EXIT
read -r RP IP WP SP SCP SIMP HP CP < <(free_ports 8)
"$P" import-keras "$SHARED/seed/ergo-pe-av/model.h5" -o "$T/m1" --version seed >/dev/null 2>&1 || die "import-keras failed"
mapfile -t SRC < <(awk -F'\t' '$2 == "OK" {print $1}' "$CORPUS/expected-ergo486.tsv" 2>/dev/null | sed "s|^|$CORPUS/|")
[ ${#SRC[@]} -gt 0 ] || mapfile -t SRC < <(ls "$CORPUS"/clean/* "$CORPUS"/malicious-test/*)
working_set "$T/set" "$N" clamd-bench "${SRC[@]}"
PEFLEET_CLAMD_PORT=$CP "$P" up --data "$D" --workers 1 --scorers "$SCORERS" --model "$T/m1" --redis-port "$RP" \
  --ingest-port "$IP" --worker-port "$WP" --score-port "$SP" --scorer-port "$SCP" --similar-port "$SIMP" \
  --port "$HP" --clamd-port "$CP" --clamd-socket "$T/up.sock" >"$T/up.log" 2>&1 || die "up failed: $(tail -2 "$T/up.log")"
# the multiscan case needs server-side paths: a pefleet-clamd of the bench's own beside the fleet's
read -r CP2 < <(free_ports 1)
"$BIN/pefleet-clamd" --data "$D" --port "$CP2" --socket "" --allow-path "$T/set" >"$T/clamd2.log" 2>&1 &
C2=$!
trap 'kill $C2 2>/dev/null; "$P" down --data "$D" >/dev/null 2>&1; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
printf 'TCPSocket %s\nTCPAddr 127.0.0.1\n' "$CP" >"$T/tcp.conf"
printf 'TCPSocket %s\nTCPAddr 127.0.0.1\n' "$CP2" >"$T/tcp2.conf"
printf 'LocalSocket %s\n' "$T/up.sock" >"$T/unix.conf"
for _ in $(seq 100); do clamdscan -c "$T/tcp2.conf" --ping 1 >/dev/null 2>&1 && break; sleep 0.1; done
for f in "$T"/set/*; do printf 'url = "http://127.0.0.1:%s/"\nform = "x=@%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nnext\n' "$HP" "$f"; done >"$T/curl.cfg"

# run NAME CMD...: seconds of one run; checks that every file got a verdict
secs() { local t0 t1; t0=$(date +%s.%N); "$@"; local rc=$?; t1=$(date +%s.%N); echo "$t0 $t1 $rc"; }
case_scan()   { "$P" scan --server --data "$D" -q "$T/set" >"$T/out" 2>/dev/null; [ "$(wc -l <"$T/out")" -eq $((N + 1)) ]; }
case_http()   { curl -s -K "$T/curl.cfg" >"$T/out" 2>/dev/null; [ "$(grep -c '^200$' "$T/out")" -eq "$N" ]; }
case_stream() { clamdscan -c "$T/tcp.conf" --stream --no-summary "$T"/set/* >"$T/out" 2>&1; [ "$(grep -cE ': (OK|.* FOUND)$' "$T/out")" -eq "$N" ]; }
case_fdpass() { clamdscan -c "$T/unix.conf" --fdpass --no-summary "$T"/set/* >"$T/out" 2>&1; [ "$(grep -cE ': (OK|.* FOUND)$' "$T/out")" -eq "$N" ]; }
case_multi()  { clamdscan -c "$T/tcp2.conf" --multiscan --no-summary "$T/set" >"$T/out" 2>&1; ! grep -q ERROR "$T/out"; }
NAMES=("baseline: pefleet scan --server" "gateway: POST / x=@file (curl)" "clamdscan --stream (INSTREAM)" \
       "clamdscan --fdpass (FILDES)" "clamdscan --multiscan (paths)")
FUNCS=(case_scan case_http case_stream case_fdpass case_multi)
declare -A T_S
for ((r = 0; r < RUNS; r++)); do
  for i in "${!FUNCS[@]}"; do
    read -r t0 t1 rc < <(secs "${FUNCS[i]}")
    [ "$rc" -eq 0 ] || die "${NAMES[i]}: not every file got a verdict (see $T/out)"
    T_S[$i]="${T_S[$i]:-} $(echo "$t1 - $t0" | bc -l)"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
echo "clamd_bench: $N files, $((BYTES / 1024 / 1024)) MB, $(date -u +%F), $(nproc) cores, $SCORERS scorers, median of $RUNS, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-40s %8s %9s %8s\n' case seconds files/s "vs base"
base=
for i in "${!FUNCS[@]}"; do
  m=$(echo "${T_S[$i]}" | median)
  fps=$(echo "$N / $m" | bc -l)
  [ -z "$base" ] && base=$fps
  printf '%-40s %8.2f %9.1f %8.2f\n' "${NAMES[i]}" "$m" "$fps" "$(echo "$fps / $base" | bc -l)"
done
