#!/usr/bin/env bash
# pefleet scan, local and through the pool: `pefleet scan MODEL_DIR` prints
# exactly what `pefleet predict` prints (table and JSONL, same exit codes);
# `pefleet scan --server ENDPOINT` (a real pool from `pefleet up` with the
# seed's model) prints the same table, the same verdicts and sha256s, and
# probabilities within 1e-6, with the same exit codes; with no pool it fails
# every file with a clear reason and exit 1; `pefleet serve` runs the
# gateway in the foreground (it scores through the pool of --data and stops
# on SIGTERM).
. "$(dirname "$0")/lib/common.sh"
NAME=scan_server
need_corpus "$NAME"
need_redis "$NAME"
P=$BIN/pefleet
H5=$SHARED/seed/ergo-pe-av/model.h5
[ -f "$H5" ] || { skip "$NAME" "$H5 not found"; exit 0; }
fleet_ports
read -r SP SCP SIMP HP DEAD SERVEP < <(free_ports 6)
D=$T/fleet
fleet_cleanup_on_exit "$D"
"$P" import-keras "$H5" -o "$T/m1" --version seed-a >/dev/null 2>&1 || { notok import "import-keras failed"; finish; }

S=$T/samples
mkdir -p "$S"
cp "$CORPUS"/clean/*.exe "$CORPUS"/malicious-test/clam-aspack.exe "$S/"
printf 'not a PE at all\n' >"$S/zz-text.exe"

# --- local: scan is predict ----------------------------------------------------------
"$P" predict "$T/m1" -q "$S" >"$T/predict.tab" 2>/dev/null; prc=$?
"$P" scan "$T/m1" -q "$S" >"$T/scan.tab" 2>/dev/null; src=$?
check "local_scan_table_equals_predict (exit $src)" cmp -s "$T/predict.tab" "$T/scan.tab"
check local_scan_exit_equals_predict test "$prc" -eq "$src" -a "$src" -eq 1
"$P" predict "$T/m1" --jsonl -q "$S" >"$T/predict.jsonl" 2>/dev/null
"$P" scan "$T/m1" --jsonl -q "$S" >"$T/scan.jsonl" 2>/dev/null
check local_scan_jsonl_equals_predict cmp -s "$T/predict.jsonl" "$T/scan.jsonl"
"$P" scan "$T/m1" -q "$CORPUS/clean/t32.exe" >/dev/null 2>&1
check local_scan_exit_0_when_all_scored test $? -eq 0

# --- through the pool --------------------------------------------------------------------
pool_up "$D" "$T/m1" || finish
EP=tcp://127.0.0.1:$SP
"$P" scan --server "$EP" -q "$S" >"$T/remote.tab" 2>"$T/remote.err"; rrc=$?
check "remote_scan_table_equals_local (exit $rrc)" cmp -s "$T/scan.tab" "$T/remote.tab"
check remote_scan_exit_1_with_a_non_pe test "$rrc" -eq 1
check remote_scan_names_the_failure grep -q 'zz-text.exe: not a PE' "$T/remote.err"
"$P" scan --server "$EP" --jsonl -q "$S" >"$T/remote.jsonl" 2>/dev/null
check remote_scan_jsonl_matches_local python3 - "$T/scan.jsonl" "$T/remote.jsonl" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b) and len(a) > 2, (len(a), len(b))
for x, y in zip(a, b):
    assert x["path"] == y["path"] and x["sha256"] == y["sha256"], (x, y)
    assert ("error" in x) == ("error" in y), (x, y)
    if "error" in x: continue
    assert x["verdict"] == y["verdict"], (x, y)
    assert max(abs(p - q) for p, q in zip(x["probabilities"], y["probabilities"])) <= 1e-6, (x, y)
PY
# the default endpoint: score_endpoint of the fleet's configuration
"$P" scan --server --data "$D" -q "$CORPUS/clean/t32.exe" >"$T/default.tab" 2>"$T/default.err"
check "remote_scan_default_endpoint (exit $?)" grep -q '^clean .*t32.exe$' "$T/default.tab"
"$P" scan --server="tcp://127.0.0.1:$DEAD" --timeout 1 -q "$CORPUS/clean/t32.exe" "$S/zz-text.exe" >/dev/null 2>"$T/dead.err"
check "remote_scan_no_pool_fails (exit $?)" test "$(grep -c 'the score pool at tcp://127.0.0.1:'"$DEAD"': no \(connection to the service\|answer\) within 1000 ms' "$T/dead.err")" -eq 2
"$P" scan --server "$EP" 2>/dev/null
check remote_scan_usage_exit_2 test $? -eq 2
"$P" serve --help >"$T/serve.out" 2>&1
check serve_help_is_the_gateways bash -c "grep -q '^usage: pefleet serve ' '$T/serve.out' && grep -q -- '--allow-path DIR' '$T/serve.out'"
# pefleet serve: the gateway in the foreground, its address from --port, its pool from --data
"$P" serve --data "$D" --port "$SERVEP" --classes "good, evil" 2>"$T/serve.log" &
SERVE_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$SERVEP/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -s -F "x=@$CORPUS/clean/t32.exe" "http://127.0.0.1:$SERVEP/" >"$T/serve.json" 2>/dev/null
check serve_scores_through_the_pool python3 -c '
import json,sys; r=json.load(open(sys.argv[1])); assert set(r)=={"good","evil"} and r["good"]>0.5, r' "$T/serve.json"
kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null
check serve_stops_on_sigterm grep -q 'stopped' "$T/serve.log"
finish
