#!/usr/bin/env bash
# Time as a dimension, through the real commands against a real
# redis-server (free port, temp folder): a drifting data set of synthetic
# vectors with first-seen dates over 12 weeks (import-csv --seen-column),
# whose malicious class moves from one feature pattern (A) to another (B)
# from week 7 on; train --split time is deterministic and leak-free;
# evaluate --by week shows the TPR at 1% FPR of a model trained on weeks 1-6
# falling over weeks 7-12; retrain promotes a challenger trained with weeks
# 1-9 that beats the champion on the fresh window, and refuses one trained
# on older data only, the registry saying why; re-importing never moves a
# first-seen date; export and status show them.
. "$(dirname "$0")/lib/common.sh"
need_redis time_drift
P=$BIN/pefleet
D=$T/fleet
mkdir -p "$D/redis"

fleet_ports
redis-server --port "$RP" --bind 127.0.0.1 --dir "$D/redis" --save '' --appendonly no --daemonize yes \
  --pidfile "$D/redis/redis.pid" >/dev/null 2>&1
trap 'kill "$(cat "$D/redis/redis.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do $RCLI ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "redis_port = $RP" >"$D/pefleet.conf"

# --- the drifting data set: 12 weeks from Monday 2026-01-05 (ISO week 2),
# 400 rows a week, half malicious; a malicious row of week w >= 7 is of
# family B with probability (w - 6) / 6, else of family A
python3 - "$T" <<'PY'
import datetime, random, sys
t = sys.argv[1]
rnd = random.Random(5)
start = datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc)
A, B = (5, 80, 200, 333), (40, 150, 260, 410)
out = []
for week in range(1, 13):
    share_b = max(0, week - 6) / 6
    for i in range(400):
        y = i % 2
        v = [rnd.random() * 0.2 for _ in range(486)]
        if y:
            for k in (B if rnd.random() < share_b else A):
                v[k] += 0.6
        when = start + datetime.timedelta(weeks=week - 1, seconds=rnd.randrange(7 * 86400))
        out.append(("malicious" if y else "clean") + "," + ",".join("%.6f" % x for x in v) + ","
                   + when.strftime("%Y-%m-%dT%H:%M:%SZ"))
open(t + "/drift.csv", "w").write("\n".join(out) + "\n")
# the same rows dated a year later: duplicates, first dates kept
open(t + "/redated.csv", "w").write("\n".join(l.rsplit(",", 1)[0] + ",2027-01-04" for l in out[:50]) + "\n")
PY
W7=2026-02-16   # Monday of week 7
W10=2026-03-09  # Monday of week 10
W4=2026-01-26   # Monday of week 4

"$P" import-csv --data "$D" --label-map none --seen-column "$T/drift.csv" >"$T/imp.out" 2>&1
check "import_with_seen_column ($(tail -1 "$T/imp.out"))" grep -q "4800 imported" "$T/imp.out"
"$P" import-csv --data "$D" --label-map none --seen-column "$T/redated.csv" >"$T/imp2.out" 2>&1
check reimport_is_duplicate grep -q "50 duplicates" "$T/imp2.out"
"$P" export --jsonl --data "$D" >"$T/all.jsonl" 2>/dev/null
check reimport_keeps_first_seen python3 -c '
import json, sys
assert not [l for l in open(sys.argv[1]) if json.loads(l)["first_seen"].startswith("2027")]' "$T/all.jsonl"
check export_jsonl_first_seen python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 4800
assert all(r["first_seen"].startswith("2026-") and r["first_seen"].endswith("Z") for r in rows)
assert min(r["first_seen"] for r in rows) >= "2026-01-05" and max(r["first_seen"] for r in rows) < "2026-03-30"' "$T/all.jsonl"
"$P" export --with-seen --data "$D" 2>/dev/null | head -1 | grep -Eq ',2026-0[1-3]-[0-9]{2}T[0-9:]{8}Z$'
check export_csv_with_seen test $? -eq 0
"$P" import-csv --data "$D" --seen-column /dev/stdin <<<"clean,1,2,yesterday" >"$T/bad.out" 2>&1
check seen_column_bad_date_reported grep -q "is not a first-seen date" "$T/bad.out"
"$P" status --json --data "$D" >"$T/st.json" 2>/dev/null
check status_first_seen python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["first_seen"]
assert s["oldest"].startswith("2026-01-05") and s["newest"].startswith("2026-03-29") and s["samples"] == 4800, s' "$T/st.json"

# --- train --split time: deterministic and leak-free --------------------------------
"$P" train --data "$D" --split time --epochs 3 --seed 3 -q -o "$T/ts1" >/dev/null 2>"$T/ts1.err"
"$P" train --data "$D" --split time --epochs 3 --seed 3 -q -o "$T/ts2" >/dev/null 2>"$T/ts2.err"
check time_split_trains test -s "$T/ts1/model.pfnn"
check time_split_deterministic cmp -s "$T/ts1/model.pfnn" "$T/ts2/model.pfnn"
check time_split_recorded python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["split"]
assert s["kind"] == "time" and s["test_since"] is None, s
n = [s[k]["rows"] for k in ("train", "validation", "test")]
assert sum(n) == 4800 and abs(n[0] - 3360) <= 5 and abs(n[1] - 720) <= 5, n
assert s["train"]["first_seen_to"] < s["validation"]["first_seen_from"], s
assert s["validation"]["first_seen_to"] < s["test"]["first_seen_from"], s
assert s["data_end"] == s["validation"]["first_seen_to"], s' "$T/ts1/stats.json"
# leak-free, checked on the samples themselves: the split train made, rebuilt
# from export's first-seen times by the documented rule, has no sample in two
# splits and every test sample newer than every train sample
check time_split_leak_free python3 - "$T/all.jsonl" "$T/ts1/stats.json" <<'PY'
import json, sys
rows = sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda r: (r["first_seen"], r["sha256"]))
s = json.load(open(sys.argv[2]))["split"]
def part(k):
    return {r["sha256"] for r in rows if s[k]["first_seen_from"] <= r["first_seen"] <= s[k]["first_seen_to"]}
tr, va, te = part("train"), part("validation"), part("test")
assert len(tr) == s["train"]["rows"] and len(va) == s["validation"]["rows"] and len(te) == s["test"]["rows"]
assert not (tr & va) and not (tr & te) and not (va & te)
seen = {r["sha256"]: r["first_seen"] for r in rows}
assert min(seen[h] for h in te) > max(seen[h] for h in tr)
assert min(seen[h] for h in te) > max(seen[h] for h in va)
PY
"$P" train --data "$D" --split time --test-since $W7 --epochs 3 -q -o "$T/ts3" >/dev/null 2>&1
check test_since_cut python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["split"]
assert s["test"]["rows"] == 2400 and s["test"]["first_seen_from"] >= "2026-02-16", s
assert s["validation"]["first_seen_to"] < "2026-02-16", s' "$T/ts3/stats.json"
"$P" train --dataset "$T/drift.csv" --split time -o "$T/x" >/dev/null 2>&1
check time_split_needs_fleet test $? -eq 2
"$P" train --data "$D" --test-since $W7 -o "$T/x" >/dev/null 2>&1
check test_since_needs_time_split test $? -eq 2

# --- the champion: weeks 1-6 (retrain with no champion promotes it) -----------------
"$P" retrain --data "$D" --split time --test-since $W7 --epochs 30 --seed 7 -q >"$T/r1.out" 2>"$T/r1.err"; rc=$?
check "champion_weeks_1_6_promoted (rc $rc)" test $rc -eq 0
V1=$(sed -n 's/^promoted \([^ ]*\) (first model)$/\1/p' "$T/r1.out")
check over_time_json_written test -s "$D/models/$V1/over_time.json"

# --- evaluate --by week: its TPR at 1% FPR falls over weeks 7-12 -------------------
"$P" evaluate "$D/models/$V1" --by week --json --data "$D" >"$T/ev.json" 2>"$T/ev.err"
check "evaluate_by_week_json ($(head -c 200 "$T/ev.err"))" python3 - "$T/ev.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
p = e["periods"]
assert e["by"] == "week" and e["thresholds_from"] == "validation"
assert [x["period"] for x in p] == ["2026-W%02d" % w for w in range(8, 14)], [x["period"] for x in p]
assert all(x["samples"]["clean"] == 200 and x["samples"]["malicious"] == 200 for x in p)
t = [x["tpr_at_fpr_0.01"] for x in p]
print("# TPR at 1% FPR, weeks 7-12:", " ".join("%.3f" % v for v in t))
assert t[0] >= 0.7 and t[-1] <= 0.2, t               # from most to almost none
assert all(t[i + 1] <= t[i] + 0.05 for i in range(5)), t  # falling week after week
assert all(x["fpr_at_fpr_0.01"] <= 0.05 for x in p)   # the threshold did not move
PY
"$P" evaluate "$D/models/$V1" --by week --data "$D" >"$T/ev.txt" 2>&1
check evaluate_by_week_table grep -q "^2026-W13 *2026-03-23 *200 *200 " "$T/ev.txt"
"$P" evaluate "$D/models/$V1" --by month --all --data "$D" --json >"$T/evm.json" 2>&1
check evaluate_by_month python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["periods"]
assert [x["period"] for x in p] == ["2026-01", "2026-02", "2026-03"], p
assert sum(x["samples"]["clean"] + x["samples"]["malicious"] for x in p) == 4800' "$T/evm.json"
"$P" evaluate "$D/models/$V1" --by fortnight --data "$D" >/dev/null 2>&1
check evaluate_bad_period_exit_2 test $? -eq 2

# --- a challenger trained with weeks 1-9 beats it on the fresh window: promoted --------
"$P" retrain --data "$D" --split time --test-since $W10 --epochs 30 --seed 7 -q --fpr-tolerance 0.02 \
  >"$T/r2.out" 2>"$T/r2.err"; rc=$?
V2=$(sed -n "s/^promoted \([^ ]*\), replacing $V1\$/\1/p" "$T/r2.out")
check "challenger_weeks_1_9_promoted (rc $rc, $V2)" test $rc -eq 0 -a -n "$V2"
check challenger_fresh_window_line grep -q "^fresh window (first seen after 2026-03-0[1-8]T[0-9:]*Z, 1200 rows): challenger ROC AUC" "$T/r2.out"
"$P" models --json --data "$D" >"$T/m2.json" 2>&1
check registry_keeps_promotion python3 - "$T/m2.json" "$V2" "$V1" <<'PY'
import json, sys
m = {e["version"]: e for e in json.load(open(sys.argv[1]))}
g = m[sys.argv[2]]["gate"]
assert g["decision"] == "promoted" and g["champion"] == sys.argv[3], g
assert "fresh window" in g["reason"], g
f, t = g["fresh"], g["test"]
assert f["rows"] == 1200 and f["challenger_roc_auc"] > f["champion_roc_auc"] + 0.2, f
assert t["rows"] == 1200 and t["challenger_roc_auc"] is not None and t["champion_roc_auc"] is not None, t
PY

# --- a challenger trained on older data only (weeks 1-3): refused, and why -------------
"$P" retrain --data "$D" --split time --test-since $W4 --epochs 30 --seed 7 -q --fpr-tolerance 1 \
  >"$T/r3.out" 2>"$T/r3.err"; rc=$?
check "older_challenger_refused_exit_4 (rc $rc)" test $rc -eq 4
check older_challenger_champion_stays test "$($RCLI GET pf:model:current)" = "$V2"
V3=$(sed -n 's/^registered \([^ ]*\) in .*/\1/p' "$T/r3.out")
check older_challenger_says_fresh grep -q "^kept champion $V2: .*ROC AUC [0-9.]* on the fresh window (1200 samples first seen after" "$T/r3.out"
"$P" models --json --data "$D" >"$T/m3.json" 2>&1
check registry_says_why_refused python3 - "$T/m3.json" "$V3" "$V2" <<'PY'
import json, sys
m = {e["version"]: e for e in json.load(open(sys.argv[1]))}
g = m[sys.argv[2]]["gate"]
assert g["decision"] == "kept" and g["champion"] == sys.argv[3], g
assert "on the fresh window" in g["reason"] and "below the champion's" in g["reason"], g
assert g["fresh"]["challenger_roc_auc"] < g["fresh"]["champion_roc_auc"], g
assert m[sys.argv[3]]["current"] and not m[sys.argv[2]]["current"]
PY
"$P" models --data "$D" >"$T/m3.txt" 2>&1
check models_table_shows_why grep -q "^    why: .*on the fresh window" "$T/m3.txt"
check models_table_gate_column grep -Eq "^\* $V2 .* promoted *$" "$T/m3.txt"
finish
