#!/usr/bin/env bash
# Hot reload through the HTTP gateway, the way a sandbox pipeline sees it:
# `pefleet up` with the seed's model (version seed-a) and the gateway; two
# curl clients send a steady stream of /v1/scan requests (raw vectors of the
# corpus and corpus file uploads) while `pefleet promote` makes seed-b
# serve. Every request must answer 200 (none fails or is dropped during the
# switch), both versions must have answered, and every request after the
# promotion returned must be answered by seed-b. Then `pefleet rollback`
# brings seed-a back the same way.
. "$(dirname "$0")/lib/common.sh"
NAME=gateway_reload
need_corpus "$NAME"
need_redis "$NAME"
command -v curl >/dev/null || { skip "$NAME" "curl not installed"; exit 0; }
P=$BIN/pefleet
H5=$SHARED/seed/ergo-pe-av/model.h5
[ -f "$H5" ] || { skip "$NAME" "$H5 not found"; exit 0; }
[ -x "$BIN/pefleet-gateway" ] || { notok "$NAME" "pefleet-gateway not built"; finish; }
fleet_ports
read -r SP SCP SIMP HP < <(free_ports 4)
D=$T/fleet
fleet_cleanup_on_exit "$D"
URL=http://127.0.0.1:$HP

"$P" import-keras "$H5" -o "$T/m1" --version seed-a >/dev/null 2>&1 &&
  "$P" import-keras "$H5" -o "$T/m2" --version seed-b --threshold 0.9 >/dev/null 2>&1 ||
  { notok import "import-keras failed"; finish; }
if ! "$P" up --data "$D" --workers 1 --scorers 2 --model "$T/m1" --redis-port "$RP" --ingest-port "$IP" \
     --worker-port "$WP" --score-port "$SP" --scorer-port "$SCP" --similar-port "$SIMP" --port "$HP" \
     >"$T/up.out" 2>&1; then
  notok up "$(tail -3 "$T/up.out")"; finish
fi
for _ in $(seq 100); do curl -sf "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
for _ in $(seq 100); do
  [ "$(grep -c 'ready, capacity' "$D/logs/score-router.log" 2>/dev/null)" -ge 2 ] && break; sleep 0.1
done
"$P" encode -q -o "$T/corpus.csv" "$CORPUS/clean" 2>/dev/null
cut -d, -f2- "$T/corpus.csv" | head -20 >"$T/vectors"
mapfile -t FILES < <(find "$CORPUS/malicious-test" -type f | sort | head -8)

# client LOG KIND: requests until $T/stop exists; one line per request:
# "<http code> <model_version>"
client() {
  local log=$1 kind=$2 i=0
  while [ ! -e "$T/stop" ]; do
    if [ "$kind" = vec ]; then
      v=$(sed -n "$((i % 20 + 1))p" "$T/vectors")
      out=$(curl -s -o - -w '\n%{http_code}' --data-urlencode "x=$v" "$URL/v1/scan")
    else
      out=$(curl -s -o - -w '\n%{http_code}' -F "x=@${FILES[i % ${#FILES[@]}]}" "$URL/v1/scan")
    fi
    code=$(tail -1 <<<"$out")
    ver=$(head -1 <<<"$out" | sed -n 's/.*"model_version": *"\([^"]*\)".*/\1/p')
    echo "$code ${ver:--} $EPOCHREALTIME" >>"$log"
    i=$((i + 1))
  done
}
client "$T/c1" vec & C1=$!
client "$T/c2" file & C2=$!
sleep 3
PROMOTED=$EPOCHREALTIME
"$P" promote "$T/m2" --data "$D" >"$T/promote.out" 2>&1
check promote_exit_0 test $? -eq 0
sleep 3
touch "$T/stop"; wait $C1 $C2

summary() { awk '{n++; c[$1]++; v[$2]++} END {printf "%d requests;", n; for (k in c) printf " http %s: %d;", k, c[k]; for (k in v) printf " %s: %d;", k, v[k]}' "$T/c1" "$T/c2"; }
S=$(summary)
check "reload_no_failed_request ($S)" test "$(cat "$T/c1" "$T/c2" | awk '$1 != 200' | wc -l)" -eq 0
check reload_both_versions_answered sh -c "grep -q ' seed-a ' '$T/c1' && grep -q ' seed-b ' '$T/c1' && grep -q ' seed-b ' '$T/c2'"
# a request sent a second after promote returned is answered by the new model
LATE=$(cat "$T/c1" "$T/c2" | awk -v t="$PROMOTED" '$3 > t + 2 && $2 != "seed-b"' | wc -l)
check reload_late_requests_new_model test "$LATE" -eq 0

rm -f "$T/stop" "$T/c1"
client "$T/c1" vec & C1=$!
sleep 1
"$P" rollback --data "$D" >"$T/rollback.out" 2>&1
check rollback_exit_0 test $? -eq 0
sleep 3
touch "$T/stop"; wait $C1
check rollback_no_failed_request test "$(awk '$1 != 200' "$T/c1" | wc -l)" -eq 0
check rollback_serves_seed_a sh -c "tail -3 '$T/c1' | grep -q ' seed-a '"
finish
