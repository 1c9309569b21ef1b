#!/usr/bin/env bash
# pefleet retrain, promote, models and rollback against a real redis-server
# (free port, temp folder) holding synthetic labelled vectors loaded with
# import-csv: retrain refuses too few samples per class; the first model
# that passes the floors is promoted; a challenger below the sample floor is
# registered but not promoted; a challenger trained on poisoned data (label-
# flipped rows crafted so that their sha256 puts them all in the train
# split, leaving the test split as it was) is worse on the test split and
# refused, the champion staying; promote by version and by folder; rollback;
# models --json content.
. "$(dirname "$0")/lib/common.sh"
need_redis retrain
P=$BIN/pefleet
D=$T/fleet
M=$D/models
mkdir -p "$D/redis"

# --- usage errors need no fleet ----------------------------------------------------
"$P" retrain -o "$T/x" --data "$D" >/dev/null 2>&1; check usage_output_is_retrains_exit_2 test $? -eq 2
"$P" retrain --min-per-class x --data "$D" >/dev/null 2>&1; check usage_bad_min_per_class_exit_2 test $? -eq 2
"$P" retrain --auc-tolerance 2 --data "$D" >/dev/null 2>&1; check usage_bad_tolerance_exit_2 test $? -eq 2
"$P" promote >/dev/null 2>&1; check usage_promote_nothing_exit_2 test $? -eq 2

fleet_ports
redis-server --port "$RP" --bind 127.0.0.1 --dir "$D/redis" --save '' --appendonly no --daemonize yes \
  --pidfile "$D/redis/redis.pid" >/dev/null 2>&1
trap 'kill "$(cat "$D/redis/redis.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do $RCLI ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "redis_port = $RP" >"$D/pefleet.conf"

# --- data: class-dependent means on a few features (learnable), plus
# poison: the same signal with the labels swapped, only rows whose sha256
# falls in the train split (pf_split_of: first 16 hex digits mod 10000 < 7000)
python3 - "$T" <<'PY'
import hashlib, random, sys
t = sys.argv[1]
def rows(seed, n, flip=False, train_only=False):
    rnd = random.Random(seed)
    out = []
    while len(out) < n:
        y = len(out) % 2
        v = [rnd.random() * 0.2 for _ in range(486)]
        for k in (5, 80, 200, 333, 481):
            v[k] += 0.6 if y else 0.0
        label = ("clean" if y else "malicious") if flip else ("malicious" if y else "clean")
        line = label + "," + ",".join("%.6f" % x for x in v)
        if train_only and int(hashlib.sha256(line.encode()).hexdigest()[:16], 16) % 10000 >= 7000:
            continue
        out.append(line)
    return out
open(t + "/few.csv", "w").write("\n".join(rows(1, 60)) + "\n")
open(t + "/good.csv", "w").write("\n".join(rows(11, 1500)) + "\n")
open(t + "/poison.csv", "w").write("\n".join(rows(23, 3000, flip=True, train_only=True)) + "\n")
PY

# --- too few samples per class: refused, nothing trained or registered -----------
"$P" retrain --data "$D" >"$T/r0.out" 2>&1; rc=$?
check "empty_store_refused_exit_3 (rc $rc)" test $rc -eq 3
"$P" import-csv --data "$D" --label-map none "$T/few.csv" >/dev/null 2>&1
"$P" retrain --data "$D" --epochs 2 -q >"$T/r1.out" 2>&1; rc=$?
check "few_samples_refused_exit_3 (rc $rc)" test $rc -eq 3
check few_samples_says_why grep -q "^refused: too few samples per class (train clean [0-9]*, malicious [0-9]*" "$T/r1.out"
"$P" models --json --data "$D" >"$T/m0.json" 2>&1
check refused_registers_nothing python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == []' "$T/m0.json"
check refused_trains_nothing bash -c "! ls -A '$M' 2>/dev/null | grep -q ."

# --- the first model that passes the floors is promoted ---------------------------
"$P" import-csv --data "$D" --label-map none "$T/good.csv" >/dev/null 2>&1
TEST_N=$($RCLI SCARD pf:split:test)
"$P" retrain --data "$D" --epochs 20 --seed 7 -q >"$T/r2.out" 2>"$T/r2.err"; rc=$?
check "first_model_promoted_exit_0 (rc $rc)" test $rc -eq 0
V1=$(sed -n 's/^promoted \([^ ]*\) (first model)$/\1/p' "$T/r2.out")
check "first_model_promoted_line ($V1)" test -n "$V1"
check first_model_current test "$($RCLI GET pf:model:current)" = "$V1"
check first_model_folder test -s "$M/$V1/model.pfnn" -a -s "$M/$V1/stats.json" -a -s "$M/$V1/model.json"
check first_model_says_figures grep -q "^challenger $V1 (parent none, [0-9]* training samples): test ROC AUC [01]\.[0-9]*, FPR" "$T/r2.out"

# --- a good challenger below the sample floor: registered, not promoted -----------
"$P" retrain --data "$D" --epochs 20 --seed 8 -q --min-samples 100000000 --auc-tolerance 1 --fpr-tolerance 1 \
  >"$T/r3.out" 2>"$T/r3.err"; rc=$?
check "below_floor_not_promoted_exit_4 (rc $rc)" test $rc -eq 4
V2=$(sed -n 's/^registered \([^ ]*\) in .*/\1/p' "$T/r3.out")
check "below_floor_says_why ($V2)" grep -q "^not promoted: $V2 was trained on [0-9]* samples, below the floor of 100000000" "$T/r3.out"
check below_floor_champion_stays test "$($RCLI GET pf:model:current)" = "$V1"
check below_floor_parent_in_model_json grep -q "\"parent\": \"$V1\"" "$M/$V2/model.json"

# --- a promotion reaches running scorers: a score router and two scorers
# answer a steady stream of vector requests (build/tools/zscore, one thread,
# chunks of 200 back to back) while a retrain promotes a new model; no
# request fails, the first replies name the old version, the last chunk
# (sent after the promotion) only the new one
CH=$V1
Z=${BUILD:-$ROOT/build}/tools/zscore
if [ -x "$Z" ] && [ -x "$BIN/pefleet-score-router" ] && [ -x "$BIN/pefleet-scorer" ]; then
  # the router binds two free ports; a port taken again between the pick and
  # the bind (other tests run beside this one) means new ports, up to 5 times
  RTP=; SC1=; SC2=
  trap 'touch "$T/stop"; kill $RTP $SC1 $SC2 $(cat "$T/zpid" 2>/dev/null) 2>/dev/null
        kill "$(cat "$D/redis/redis.pid" 2>/dev/null)" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
  for attempt in 1 2 3 4 5; do
    read -r SP SCP < <(free_ports 2)
    printf 'redis_port = %s\nscore_endpoint = tcp://127.0.0.1:%s\nscorer_endpoint = tcp://127.0.0.1:%s\n' \
      "$RP" "$SP" "$SCP" >"$D/pefleet.conf"
    "$BIN/pefleet-score-router" --data "$D" >"$T/router.log" 2>&1 & RTP=$!
    for _ in $(seq 100); do
      grep -q "clients on" "$T/router.log" && break; kill -0 "$RTP" 2>/dev/null || break; sleep 0.1
    done
    grep -q "clients on" "$T/router.log" && kill -0 "$RTP" 2>/dev/null && break
    echo "attempt $attempt: $(grep ERROR "$T/router.log" | tail -1)" >>"$T/router.attempts"
    kill "$RTP" 2>/dev/null; wait "$RTP" 2>/dev/null; RTP=
  done
  EP=tcp://127.0.0.1:$SP
  check "hot_reload_router_up ($(grep -c . "$T/router.attempts" 2>/dev/null || echo 0) port retries)" test -n "$RTP"
  "$BIN/pefleet-scorer" --data "$D" >"$T/scorer1.log" 2>&1 & SC1=$!
  "$BIN/pefleet-scorer" --data "$D" >"$T/scorer2.log" 2>&1 & SC2=$!
  for _ in $(seq 100); do "$Z" "$EP" --csv "$T/good.csv" --rows 1 -n 1 --timeout 500 >/dev/null 2>&1 && break; sleep 0.1; done
  # chunks of 200 requests back to back; each zscore's pid is kept so that
  # cleanup can stop it (every request has a 5 s limit)
  ( while [ ! -e "$T/stop" ]; do
      "$Z" "$EP" --csv "$T/good.csv" --rows 200 -n 200 -t 1 --timeout 5000 --print >>"$T/stream.jsonl" \
        2>>"$T/stream.err" &
      echo $! >"$T/zpid"
      wait $! || echo "chunk failed" >>"$T/stream.fail"
    done ) &
  LOOP=$!
  for _ in $(seq 100); do [ -s "$T/stream.jsonl" ] && break; sleep 0.1; done
  "$P" retrain --data "$D" --epochs 20 --seed 9 -q --auc-tolerance 0.05 --fpr-tolerance 0.05 >"$T/r5.out" 2>"$T/r5.err"; rc=$?
  check "hot_reload_retrain_promoted_exit_0 (rc $rc)" test $rc -eq 0
  V4=$(sed -n 's/^promoted \([^ ]*\), replacing .*/\1/p' "$T/r5.out")
  check "hot_reload_retrain_replaced_champion ($V4)" grep -q "^promoted $V4, replacing $V1$" "$T/r5.out"
  # two more whole chunks, both begun after the promotion
  k=$(grep -c . "$T/stream.err" 2>/dev/null)
  for _ in $(seq 600); do [ "$(grep -c . "$T/stream.err")" -ge $((k + 2)) ] && break; sleep 0.1; done
  touch "$T/stop"
  for _ in $(seq 300); do kill -0 "$LOOP" 2>/dev/null || break; sleep 0.1; done
  kill "$(cat "$T/zpid")" 2>/dev/null; wait "$LOOP"
  check "hot_reload_no_failed_request ($(grep -c . "$T/stream.err") chunks)" test ! -e "$T/stream.fail"
  python3 - "$T/stream.jsonl" "$V1" "$V4" <<'PY' >"$T/stream.check" 2>&1
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
old, new = sys.argv[2:4]
assert all(r["status"] == 1 for r in rows), [r for r in rows if r["status"] != 1][:1]
vers = [r["model_version"] for r in rows]
assert set(vers) <= {old, new}, set(vers)
assert vers[0] == old, vers[0]
assert vers[-200:] == [new] * 200, vers[-200:].count(old)
print("%d replies: %d from %s, then %d from %s" % (len(vers), vers.count(old), old, vers.count(new), new))
PY
  check "hot_reload_scorers_switched ($(tail -1 "$T/stream.check"))" grep -q "^[0-9]* replies" "$T/stream.check"
  [ -n "$V4" ] && CH=$V4
else
  skip hot_reload "zscore or the scorer programs are not built"
fi

# --- poisoned training data: the challenger is worse, the champion stays -----------
"$P" import-csv --data "$D" --label-map none "$T/poison.csv" >/dev/null 2>&1
check "poison_left_test_split_alone ($TEST_N)" test "$($RCLI SCARD pf:split:test)" = "$TEST_N"
"$P" retrain --data "$D" --epochs 20 --seed 7 -q >"$T/r4.out" 2>"$T/r4.err"; rc=$?
check "worse_challenger_refused_exit_4 (rc $rc)" test $rc -eq 4
V3=$(sed -n 's/^registered \([^ ]*\) in .*/\1/p' "$T/r4.out")
check "worse_challenger_says_why ($V3)" grep -q "^kept champion $CH: challenger's ROC AUC [0-9.]* is below the champion's [0-9.]* - tolerance 0;" "$T/r4.out"
check worse_challenger_prints_both grep -q "^champion   $CH: test ROC AUC" "$T/r4.out"
check worse_challenger_champion_stays test "$($RCLI GET pf:model:current)" = "$CH"

# --- models --json: every challenger, parents, samples, figures, current -----------
"$P" models --json --data "$D" >"$T/m1.json" 2>&1
python3 - "$T/m1.json" "$V1" "$V2" "$V3" "$M" "$CH" <<'PY' >"$T/m1.check" 2>&1
import json, sys
path, v1, v2, v3, models, ch = sys.argv[1:7]
l = json.load(open(path))
by = {e["version"]: e for e in l}
order = [v3, ch, v2, v1] if ch != v1 else [v3, v2, v1]
assert [e["version"] for e in l] == order, [e["version"] for e in l]   # newest first
assert [e["version"] for e in l if e["current"]] == [ch]
assert by[v1]["parent"] == "" and by[v2]["parent"] == v1 and by[ch]["parent"] == (v1 if ch != v1 else "")
assert by[v3]["parent"] == ch
for v in order:
    e = by[v]
    assert e["dir"].endswith("/models/" + v), e["dir"]
    assert isinstance(e["samples"], int) and e["samples"] > 0 and e["registered"] > 0
    assert 0 <= e["test_roc_auc"] <= 1 and 0 <= e["test_fpr"] <= 1, e
    s = json.load(open(models + "/" + v + "/model.json"))
    assert e["samples"] == s["rows"]["train"], (e["samples"], s["rows"])
assert by[v3]["samples"] > by[v1]["samples"]            # the poison went to train
assert by[ch]["test_roc_auc"] > by[v3]["test_roc_auc"]
print("ok")
PY
check "models_json_content ($(tail -1 "$T/m1.check"))" grep -qx ok "$T/m1.check"
"$P" models --data "$D" >"$T/m1.txt" 2>&1
check models_text_marks_current grep -q "^\* $CH " "$T/m1.txt"

# --- one retrain per models folder at a time (flock on the folder) ----------------
flock "$M" "$P" retrain --data "$D" --epochs 1 -q >"$T/r6.out" 2>"$T/r6.err"; rc=$?
check "concurrent_retrain_exit_1 (rc $rc)" test $rc -eq 1
check concurrent_retrain_says_why grep -q "another retrain is running on this folder; nothing done" "$T/r6.err"

# --- promote by version and by folder, rollback ----------------------------------
"$P" promote "$V2" --data "$D" >"$T/p1.out" 2>&1; rc=$?
check "promote_version_exit_0 (rc $rc)" test $rc -eq 0
check promote_version_current test "$($RCLI GET pf:model:current)" = "$V2"
"$P" rollback --data "$D" >"$T/rb.out" 2>&1; rc=$?
check "rollback_exit_0 (rc $rc)" test $rc -eq 0
check rollback_back_to_champion test "$($RCLI GET pf:model:current)" = "$CH"
check rollback_says grep -q "^rolled back from $V2 to $CH$" "$T/rb.out"
"$P" promote 0123456789ab --data "$D" >/dev/null 2>"$T/p2.err"; rc=$?
check "promote_unknown_version_exit_1 (rc $rc)" test $rc -eq 1
cp -r "$M/$V3" "$T/imported"
"$P" promote "$T/imported" --data "$D" >"$T/p3.out" 2>&1; rc=$?
check "promote_folder_exit_0 (rc $rc)" test $rc -eq 0
check promote_folder_current test "$($RCLI GET pf:model:current)" = "$V3"
finish
