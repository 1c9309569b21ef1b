#!/usr/bin/env bash
# The fleet under fire: `pefleet up` with a real redis-server, broker and
# encoder workers on free ports; ingest the corpus and hundreds of mutated
# copies while encoder workers are SIGKILLed at random and the broker once,
# then Redis is restarted. After the queue drains every hash is done or
# failed exactly once, every done vector equals a direct `pefleet encode`
# (as float32), no hash sits in two splits, and nothing was lost.
. "$(dirname "$0")/lib/common.sh"
need_corpus fleet_chaos
need_redis fleet_chaos
P=$BIN/pefleet
D=$T/fleet
fleet_ports
fleet_cleanup_on_exit "$D"

# --- samples: corpus, mutated copies (new hashes), broken ones, non-PE ------
S=$T/samples
python3 - "$CORPUS" "$S" <<'PY'
import os, random, sys
corpus, out = sys.argv[1:3]
rnd = random.Random(7)
os.makedirs(out)
files = [os.path.join(d, f) for d in ("clean", "malicious-test") for f in sorted(os.listdir(os.path.join(corpus, d)))]
for rel in files:
    data = open(os.path.join(corpus, rel), "rb").read()
    base = rel.replace("/", "_")
    open(os.path.join(out, base), "wb").write(data)
    for k in range(4):  # overlay bytes: a new sha256, still a PE
        open(os.path.join(out, "%s.ov%d" % (base, k)), "wb").write(data + bytes(rnd.randrange(256) for _ in range(1 + k * 7)))
t32 = open(os.path.join(corpus, "clean/t32.exe"), "rb").read()
for k in range(30):  # header bit flips: many fail to parse
    b = bytearray(t32)
    for _ in range(rnd.randrange(1, 30)):
        b[rnd.randrange(0, 1024)] ^= 1 << rnd.randrange(8)
    open(os.path.join(out, "flip%02d.exe" % k), "wb").write(bytes(b))
for k in range(5):
    open(os.path.join(out, "text%d.txt" % k), "wb").write(("not a PE %d\n" % k).encode() * 50)
# an exact duplicate under another name: stored once
open(os.path.join(out, "dup_of_t32.exe"), "wb").write(t32)
PY
nfiles=$(ls "$S" | wc -l)
ndistinct=$(sha256sum "$S"/* | awk '{print $1}' | sort -u | wc -l)

# --- start the fleet -----------------------------------------------------------
if ! "$P" up --data "$D" --workers 2 --redis-port "$RP" --ingest-port "$IP" --worker-port "$WP" --scorers 0 --max-attempts 6 >"$T/up.out" 2>&1; then
  notok fleet_up "$(cat "$T/up.out" | tr '\n' ' ')"; tail -20 "$D"/logs/*.log; finish
fi
ok "fleet_up (redis $RP, ingest $IP, workers $WP)"
fleet_auth "$D" # up made a Redis password
"$P" status --json --data "$D" >"$T/st.json"
check status_json_lists_daemons python3 -c '
import json,sys; s=json.load(open(sys.argv[1]))
roles=[d["role"] for d in s["daemons"] if d["alive"]]
assert roles.count("encoder-worker")==2 and "broker" in roles and "redis" in roles, roles
for k in ("queued","in_flight","done","failed"): assert k in s' "$T/st.json"

worker_pids() { awk '$1=="encoder-worker" && $3>0 {print $3}' "$D/fleet.state"; }
broker_pid() { awk '$1=="broker" {print $3}' "$D/fleet.state"; }

# --- ingest while killing workers and the broker -----------------------------
"$P" ingest --data "$D" --label mixed --retry-for 120 "$S" >"$T/ingest.out" 2>"$T/ingest.err" &
ING=$!
kills=0
for i in $(seq 1 40); do
  sleep 0.4
  kill -0 $ING 2>/dev/null || [ $i -gt 10 ] || true
  if [ $((i % 3)) -eq 0 ] && [ $kills -lt 8 ]; then
    pid=$(worker_pids | shuf -n 1)
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
  fi
  if [ $i -eq 7 ]; then bp=$(broker_pid); [ -n "$bp" ] && kill -9 "$bp"; fi
  if [ $i -eq 14 ]; then rp=$(awk '$1=="redis" {print $3}' "$D/fleet.state"); [ -n "$rp" ] && kill -TERM "$rp"; fi
done
wait $ING; irc=$?
check "ingest_acknowledged_everything (exit $irc)" test $irc -eq 0
check ingest_one_line_per_file test "$(wc -l <"$T/ingest.out")" -eq "$nfiles"

# --- a Redis restart with work still queued: AOF brings everything back -----
rp=$(awk '$1=="redis" {print $3}' "$D/fleet.state")
kill -TERM "$rp"
sleep 1.5

# --- drain ----------------------------------------------------------------------
drained=0
for i in $(seq 1 600); do
  if "$P" status --json --data "$D" >"$T/st.json" 2>/dev/null &&
     python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["queued"]==0 and s["in_flight"]==0 else 1)' "$T/st.json"; then
    drained=1; break
  fi
  sleep 0.5
done
check queue_drained test $drained -eq 1
echo "  status after drain: $(cat "$T/st.json")"
echo "  workers killed: $kills, broker killed once, redis restarted twice (mid-ingest and after)"

samples=$($RCLI SCARD pf:samples); done_n=$($RCLI SCARD pf:done); failed_n=$($RCLI SCARD pf:failed)
check "every_distinct_hash_stored_once ($samples/$ndistinct)" test "$samples" -eq "$ndistinct"
check "done_plus_failed_is_everything ($done_n + $failed_n)" test $((done_n + failed_n)) -eq "$samples"
check done_and_failed_disjoint test "$($RCLI SINTERCARD 2 pf:done pf:failed)" -eq 0
check no_hash_in_two_splits test "$($RCLI SINTERCARD 2 pf:split:train pf:split:validation)" -eq 0 -a \
  "$($RCLI SINTERCARD 2 pf:split:train pf:split:test)" -eq 0 -a "$($RCLI SINTERCARD 2 pf:split:validation pf:split:test)" -eq 0
splits=$(( $($RCLI SCARD pf:split:train) + $($RCLI SCARD pf:split:validation) + $($RCLI SCARD pf:split:test) ))
check "splits_cover_done ($splits)" test "$splits" -eq "$done_n"

# --- every vector equals a direct encode of the same file (float32) ---------
"$P" export --data "$D" --jsonl >"$T/export.jsonl" 2>/dev/null
"$P" encode -q --jsonl "$S" >"$T/direct.jsonl" 2>/dev/null
python3 - "$T/export.jsonl" "$T/direct.jsonl" "$RP" <<'PY' >"$T/cmp.out" 2>&1
import json, struct, subprocess, sys
f32 = lambda x: struct.unpack("f", struct.pack("f", x))[0]
direct = {}
for l in open(sys.argv[2]):
    o = json.loads(l)
    direct.setdefault(o["sha256"], o)
exported = {}
for l in open(sys.argv[1]):
    o = json.loads(l)
    exported[o["sha256"]] = o
bad = 0
for sha, o in direct.items():
    if o["ok"]:
        e = exported.get(sha)
        if e is None:
            print("missing done vector for", sha, o["path"]); bad += 1; continue
        if [f32(x) for x in o["vector"]] != e["vector"]:
            print("vector differs for", sha, o["path"]); bad += 1
        if e["label"] != "mixed":
            print("label", e["label"], sha); bad += 1
    else:
        st = subprocess.run(["redis-cli", "-p", sys.argv[3], "HGET", "pf:s:" + sha, "status"], capture_output=True, text=True).stdout.strip()
        if st != "failed":
            print("sample the encoder rejects is", repr(st), "not failed:", sha, o["path"]); bad += 1
print("compared", len(direct), "samples,", len(exported), "exported,", bad, "problems")
sys.exit(1 if bad else 0)
PY
if [ $? -eq 0 ]; then ok "fleet_vectors_equal_direct_encode ($(tail -1 "$T/cmp.out"))"; else notok fleet_vectors_equal_direct_encode "$(tail -5 "$T/cmp.out" | tr '\n' ' ')"; fi

# failed samples carry a one-line reason
reasons=$(for s in $($RCLI SMEMBERS pf:failed); do $RCLI HGET "pf:s:$s" reason; done)
check failed_samples_have_reasons test -z "$(echo "$reasons" | grep -c '^$' | grep -v '^0$' || true)"
check failed_reason_names_the_problem bash -c "echo \"\$1\" | grep -Eq 'not a PE file|LIEF rejected|truncated PE'" _ "$reasons"

# a duplicate with a different label is recorded as a conflict, not overwritten
"$P" ingest --data "$D" --label other -q "$S/clean_t32.exe" >/dev/null 2>&1
sha=$(sha256sum "$S/clean_t32.exe" | cut -d' ' -f1)
check label_conflict_recorded test "$($RCLI SISMEMBER pf:conflicts "$sha")" -eq 1
check first_label_kept test "$($RCLI HGET "pf:s:$sha" label)" = mixed

# a sample missing from the workers' store: clear failure, nothing else lost
sed "s|^store = .*|store = $T/otherstore|" "$D/pefleet.conf" >"$T/other.conf"
head -c 3000 /dev/urandom >"$T/lonely.bin"
"$P" ingest --config "$T/other.conf" --label lonely --wait "$T/lonely.bin" >"$T/lonely.out" 2>&1
lsha=$(sha256sum "$T/lonely.bin" | cut -d' ' -f1)
check missing_store_file_clear_failure bash -c "$RCLI HGET pf:s:$lsha reason | grep -q 'sample missing from the store'"

# supervision restarted what we killed
"$P" status --json --data "$D" >"$T/st.json"
check daemons_all_alive_after_chaos python3 -c '
import json,sys; s=json.load(open(sys.argv[1]))
assert all(d["alive"] for d in s["daemons"]), s["daemons"]' "$T/st.json"

pids=$(awk '$1=="supervisor" || $3>0 {print ($1=="supervisor") ? $2 : $3}' "$D/fleet.state")
"$P" down --data "$D" >"$T/down.out" 2>&1
check fleet_down_exit_0 test $? -eq 0
alive=""; for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
check "fleet_down_stops_everything ($(echo $pids | wc -w) processes)" test -z "$alive"
"$P" status --data "$D" >/dev/null 2>&1
check status_after_down_exit_1 test $? -eq 1
finish
