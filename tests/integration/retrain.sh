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

# --- poisoned training data: the challenger is worse, the champion stays -----------
"$P" import-csv --data "$D" --label-map none "$T/poison.csv" >/dev/null 2>&1
check "poison_left_test_split_alone ($TEST_N)" test "$($RCLI SCARD pf:split:test)" = "$TEST_N"
"$P" retrain --data "$D" --epochs 20 --seed 7 -q >"$T/r4.out" 2>"$T/r4.err"; rc=$?
check "worse_challenger_refused_exit_4 (rc $rc)" test $rc -eq 4
V3=$(sed -n 's/^registered \([^ ]*\) in .*/\1/p' "$T/r4.out")
check "worse_challenger_says_why ($V3)" grep -q "^kept champion $V1: challenger's ROC AUC [0-9.]* is below the champion's [0-9.]* - tolerance 0;" "$T/r4.out"
check worse_challenger_prints_both grep -q "^champion   $V1: test ROC AUC" "$T/r4.out"
check worse_challenger_champion_stays test "$($RCLI GET pf:model:current)" = "$V1"

# --- models --json: every challenger, parents, samples, figures, current -----------
"$P" models --json --data "$D" >"$T/m1.json" 2>&1
python3 - "$T/m1.json" "$V1" "$V2" "$V3" "$M" <<'PY' >"$T/m1.check" 2>&1
import json, sys
path, v1, v2, v3, models = sys.argv[1:6]
l = json.load(open(path))
by = {e["version"]: e for e in l}
assert [e["version"] for e in l] == [v3, v2, v1], [e["version"] for e in l]   # newest first
assert [e["current"] for e in l] == [False, False, True]
assert by[v1]["parent"] == "" and by[v2]["parent"] == v1 and by[v3]["parent"] == v1
for v in (v1, v2, v3):
    e = by[v]
    assert e["dir"].endswith("/models/" + v), e["dir"]
    assert isinstance(e["samples"], int) and e["samples"] > 0 and e["registered"] > 0
    assert 0 <= e["test_roc_auc"] <= 1 and 0 <= e["test_fpr"] <= 1, e
    s = json.load(open(models + "/" + v + "/model.json"))
    assert e["samples"] == s["rows"]["train"], (e["samples"], s["rows"])
assert by[v3]["samples"] > by[v1]["samples"]            # the poison went to train
assert by[v1]["test_roc_auc"] > by[v3]["test_roc_auc"]
print("ok")
PY
check "models_json_content ($(tail -1 "$T/m1.check"))" grep -qx ok "$T/m1.check"
"$P" models --data "$D" >"$T/m1.txt" 2>&1
check models_text_marks_current grep -q "^\* $V1 " "$T/m1.txt"

# --- promote by version and by folder, rollback ----------------------------------
"$P" promote "$V2" --data "$D" >"$T/p1.out" 2>&1; rc=$?
check "promote_version_exit_0 (rc $rc)" test $rc -eq 0
check promote_version_current test "$($RCLI GET pf:model:current)" = "$V2"
"$P" rollback --data "$D" >"$T/rb.out" 2>&1; rc=$?
check "rollback_exit_0 (rc $rc)" test $rc -eq 0
check rollback_back_to_champion test "$($RCLI GET pf:model:current)" = "$V1"
check rollback_says grep -q "^rolled back from $V2 to $V1$" "$T/rb.out"
"$P" promote 0123456789ab --data "$D" >/dev/null 2>"$T/p2.err"; rc=$?
check "promote_unknown_version_exit_1 (rc $rc)" test $rc -eq 1
cp -r "$M/$V3" "$T/imported"
"$P" promote "$T/imported" --data "$D" >"$T/p3.out" 2>&1; rc=$?
check "promote_folder_exit_0 (rc $rc)" test $rc -eq 0
check promote_folder_current test "$($RCLI GET pf:model:current)" = "$V3"
finish
