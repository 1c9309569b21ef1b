#!/usr/bin/env bash
# pefleet relevance and pefleet report on a real training run: a data set in
# which exactly one feature decides the label (every other feature is noise)
# is trained with `pefleet train --dataset`; relevance must rank that feature
# first; the report (and --compare, and a folder with files missing) is
# rendered in headless Chromium, which saves a PNG and dumps the DOM; the DOM
# must hold the titled plots and tables, and the console must stay silent.
. "$(dirname "$0")/lib/common.sh"
P=$BIN/pefleet
KEY=200 # byte(7d) in the ergo486 schema

python3 - "$T/ds.csv" "$KEY" <<'PY'
import random, sys
rnd = random.Random(5)
key = int(sys.argv[2])
with open(sys.argv[1], "w") as f:
    for i in range(3000):
        y = i % 2
        v = [rnd.random() for _ in range(486)]
        v[key] = 0.55 + 0.45 * rnd.random() if y else 0.45 * rnd.random()
        f.write(("malicious" if y else "clean") + "," + ",".join("%.5f" % x for x in v) + "\n")
PY

"$P" train --dataset "$T/ds.csv" -o "$T/m1" --epochs 30 --seed 5 -q >"$T/t1.out" 2>"$T/t1.err"
check train_exit_0 test $? -eq 0
check train_writes_plot_data test -s "$T/m1/roc.json" -a -s "$T/m1/pca.json" -a -s "$T/m1/dataset.json"
python3 - "$T/m1" <<'PY' >"$T/plots.out" 2>&1
import json, sys
d = sys.argv[1]
r = json.load(open(d + "/roc.json"))
assert r["split"] == "test" and r["rows"] == 450 and r["positives"] + r["negatives"] == 450
assert len(r["fpr"]) == len(r["tpr"]) == len(r["threshold"]) >= 2
assert (r["fpr"][0], r["tpr"][0]) == (0, 0) and (r["fpr"][-1], r["tpr"][-1]) == (1, 1)
assert all(a <= b for a, b in zip(r["fpr"], r["fpr"][1:])) and all(a <= b for a, b in zip(r["tpr"], r["tpr"][1:]))
assert [o["name"] for o in r["operating_points"]] == ["threshold", "fpr<=0.01", "fpr<=0.001"]
s = json.load(open(d + "/stats.json"))
assert abs(r["roc_auc"] - s["test"]["roc_auc"]) < 1e-12, (r["roc_auc"], s["test"]["roc_auc"])
p = json.load(open(d + "/pca.json"))
assert p["available"] and p["rows"] == 450 and len(p["points"]["pc1"]) == len(p["points"]["label"]) == 450
assert 0 < sum(p["explained_variance_ratio"]) <= 1 + 1e-9
assert all(a >= b - 1e-12 for a, b in zip(p["explained_variance_ratio"], p["explained_variance_ratio"][1:]))
src = json.load(open(d + "/dataset.json"))
assert src["source"] == "csv" and src["seed"] == 5 and src["path"].endswith("/ds.csv")
print("auc", r["roc_auc"], "roc points", len(r["fpr"]))
PY
if [ $? -eq 0 ]; then ok "roc_pca_dataset_json_shape ($(tail -1 "$T/plots.out"))"; else notok roc_pca_dataset_json_shape "$(tail -3 "$T/plots.out" | tr '\n' ' ')"; fi

# relevance on the recorded test split: the deciding feature first
"$P" relevance "$T/m1" >"$T/rel.out" 2>"$T/rel.err"
check relevance_exit_0 test $? -eq 0
python3 - "$T/m1/relevance.json" "$KEY" <<'PY' >"$T/relchk.out" 2>&1
import json, sys
r = json.load(open(sys.argv[1])); key = int(sys.argv[2])
f = r["features"]
assert len(f) == 486 and [x["rank"] for x in f] == list(range(1, 487))
assert sorted(x["index"] for x in f) == list(range(486))
assert f[0]["index"] == key, ("first", f[0])
assert f[0]["name"] == "byte(%02x)" % (key - 75), f[0]["name"]
assert f[0]["accuracy_drop"] > 0.2, f[0]
assert f[0]["accuracy_drop"] > 5 * max(abs(x["accuracy_drop"]) for x in f[1:]), (f[0], f[1])
assert r["rows"] == 450 and r["source"].startswith("test split of ")
print("first", f[0]["name"], "accuracy drop", f[0]["accuracy_drop"], "next", f[1]["accuracy_drop"])
PY
if [ $? -eq 0 ]; then ok "relevance_ranks_the_deciding_feature_first ($(tail -1 "$T/relchk.out"))"
else notok relevance_ranks_the_deciding_feature_first "$(tail -3 "$T/relchk.out" | tr '\n' ' ')"; fi
# the fast path gives the reference's figures (--exact re-runs the whole network per feature)
"$P" relevance "$T/m1" --exact -o "$T/rel_exact.json" >/dev/null 2>&1
check relevance_fast_equals_exact python3 -c '
import json,sys; a,b=(json.load(open(x))["features"] for x in sys.argv[1:3])
key=lambda f: f["index"]
for x,y in zip(sorted(a,key=key), sorted(b,key=key)):
    assert x["accuracy"]==y["accuracy"] and abs(x["roc_auc"]-y["roc_auc"])<1e-6, (x,y)' "$T/m1/relevance.json" "$T/rel_exact.json"
# a --ratio sample of a given CSV, written elsewhere
"$P" relevance "$T/m1" --dataset "$T/ds.csv" --ratio 0.3 -o "$T/rel2.json" --top 1 >"$T/rel2.out" 2>"$T/rel2.err"
check relevance_ratio_exit_0 test $? -eq 0
check relevance_ratio_sample python3 -c '
import json,sys; r=json.load(open(sys.argv[1])); assert r["rows"]==900, r["rows"]; assert r["features"][0]["index"]==int(sys.argv[2])' \
  "$T/rel2.json" "$KEY"
# no recorded CSV and no --dataset: a usage error that says why
mkdir -p "$T/bare" && cp "$T/m1/model.pfnn" "$T/bare/"
"$P" relevance "$T/bare" >/dev/null 2>"$T/bare.err"
check relevance_without_data_exit_2 test $? -eq 2
check relevance_without_data_says_why grep -q "no dataset.json.*give --dataset FILE" "$T/bare.err"

# a second, weaker model for --compare; a copy of m1 with files missing
"$P" train --dataset "$T/ds.csv" -o "$T/m2" --epochs 2 --seed 9 -q >/dev/null 2>&1
cp -r "$T/m1" "$T/m3" && rm -f "$T/m3/pca.json" "$T/m3/relevance.json" "$T/m3/history.json"
echo '{not json' >"$T/m3/roc.json"

"$P" report "$T/m1" -o "$T/r1.html" >"$T/rep.out" 2>"$T/rep.err"
check report_exit_0 test $? -eq 0
"$P" report "$T/m1" --compare "$T/m2" -o "$T/rc.html" >/dev/null 2>"$T/repc.err"
check report_compare_exit_0 test $? -eq 0
"$P" report "$T/m3" -o "$T/r3.html" >/dev/null 2>"$T/rep3.err"
check report_missing_files_exit_0 test $? -eq 0
"$P" report "$T/nonexistent" -o "$T/rx.html" >/dev/null 2>&1
check report_not_a_model_exit_1 test $? -eq 1
"$P" report "$T/m1" >/dev/null 2>&1
check report_default_path test -s "$T/m1/report.html"
# a folder with only model.pfnn (as import-keras leaves): --dataset computes the figures, ROC and PCA
"$P" report "$T/bare" --dataset "$T/ds.csv" -o "$T/rb.html" >/dev/null 2>"$T/repb.err"
check report_dataset_exit_0 test $? -eq 0
check report_dataset_fills_figures python3 -c '
import sys; t=open(sys.argv[1]).read()
for w in ("<h2>ROC curve (rows of ds.csv)</h2>", "aria-label=\"PCA projection of the test split\"",
          "aria-label=\"confusion matrix test\"", "computed from", "(3000 rows, 0 skipped)"):
    assert w in t, w
for w in ("Not available: ROC", "Not available: PCA", "Not available: figures"):
    assert w not in t, w' "$T/rb.html"
# hostile or damaged files: the page still renders, saying why
cp -r "$T/m1" "$T/m4"
echo '{"test": {"cm": "x", "accuracy": "y", "per_class": []}}' >"$T/m4/stats.json"
echo '{"loss": [1, 2], "acc": [1], "val_loss": [1, 2], "val_acc": [1, 2]}' >"$T/m4/history.json"
echo '{"available": false, "reason": "<script>alert(1)</script>"}' >"$T/m4/pca.json"
echo '{"features": [{"index": 1e300, "name": "</svg><script>x</script>", "accuracy_drop": "a"}]}' >"$T/m4/relevance.json"
"$P" report "$T/m4" -o "$T/r4.html" >/dev/null 2>"$T/rep4.err"
check report_damaged_files_exit_0 test $? -eq 0
check report_damaged_files_say_why python3 -c '
import sys; t=open(sys.argv[1]).read()
assert "history.json: the loss and accuracy arrays differ in length" in t
assert "stats.json: no train, validation or test object with a confusion matrix" in t and "nan" not in t.lower()
assert "&lt;script&gt;alert(1)&lt;/script&gt;" in t and "<script" not in t
assert "&lt;/svg&gt;&lt;script&gt;x&lt;/script&gt;" in t' "$T/r4.html"
# class names are escaped wherever they appear
sed -e 's/^clean,/0,/' -e 's/^malicious,/1,/' "$T/ds.csv" >"$T/ds01.csv" # labels as class indices
"$P" train --dataset "$T/ds01.csv" -o "$T/m5" --epochs 1 --classes '<b>clean</b>,mal&"icious' -q >/dev/null 2>&1
"$P" report "$T/m5" -o "$T/r5.html" >/dev/null 2>&1
check report_escapes_class_names python3 -c '
import sys; t=open(sys.argv[1]).read()
assert "<b>" not in t and "&lt;b&gt;clean&lt;/b&gt;" in t and "mal&amp;&quot;icious" in t' "$T/r5.html"
# self-contained: nothing to fetch, no scripts
check report_self_contained bash -c "! grep -Eiq '<script|<link|<img|<iframe|src=|href=\"[^#]|url\\(|https?://' '$T/r1.html' '$T/rc.html'"
V1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$T/m1/model.json")
V2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$T/m2/model.json")

if ! command -v chromium >/dev/null; then
  skip report_in_chromium "chromium not installed (make deps installs Debian's chromium)"
  finish
fi
CHROME=(timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
        --user-data-dir="$T/chrome" --enable-logging=stderr --v=0)

# a model trained by first-seen time (the fleet's Redis holds ds.csv's rows,
# dated over 8 weeks) gets the "Quality over time" panel
TIME_PAGE=""
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
  fleet_ports
  mkdir -p "$T/fleet/redis"
  redis-server --port "$RP" --bind 127.0.0.1 --dir "$T/fleet/redis" --save '' --appendonly no --daemonize yes \
    --pidfile "$T/fleet/redis/redis.pid" >/dev/null 2>&1
  trap 'kill "$(cat "$T/fleet/redis/redis.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$T"' EXIT
  for _ in $(seq 50); do $RCLI ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "redis_port = $RP" >"$T/fleet/pefleet.conf"
  awk -F, '{ printf "%s,@%d\n", $0, 1767571200 + int((NR - 1) * 8 * 7 * 86400 / 3000) }' "$T/ds.csv" >"$T/dated.csv"
  "$P" import-csv --data "$T/fleet" --seen-column -q "$T/dated.csv" >/dev/null 2>&1
  "$P" train --data "$T/fleet" --split time -o "$T/mt" --epochs 10 --seed 5 -q >/dev/null 2>&1
  check train_time_split_writes_over_time test -s "$T/mt/over_time.json"
  "$P" report "$T/mt" -o "$T/rt.html" >/dev/null 2>"$T/rept.err"
  check report_time_exit_0 test $? -eq 0
  "$P" evaluate "$T/mt" --by week --all --json --data "$T/fleet" >"$T/evt.json" 2>/dev/null
  "$P" report "$T/m1" --over-time "$T/evt.json" -o "$T/ro.html" >/dev/null 2>&1
  check report_over_time_option grep -q 'aria-label="quality over time"' "$T/ro.html"
  TIME_PAGE=rt
else
  skip report_time_panel "redis-server not installed"
fi

# the console check can fail: a probe page that logs an error is caught
printf '<!DOCTYPE html><title>probe</title><script>console.error("pefleet-probe")</script>\n' >"$T/probe.html"
"${CHROME[@]}" --dump-dom "file://$T/probe.html" >/dev/null 2>"$T/probe.err"
check chromium_console_is_captured grep -q 'CONSOLE.*pefleet-probe' "$T/probe.err"

# render, screenshot, DOM
"${CHROME[@]}" --screenshot="$T/r1.png" --window-size=1280,5400 "file://$T/r1.html" >/dev/null 2>"$T/shot.err"
check chromium_screenshot_exit_0 test $? -eq 0
check screenshot_is_a_big_png python3 -c '
import struct,sys; b=open(sys.argv[1],"rb").read()
assert b[:8]==b"\x89PNG\r\n\x1a\n", "not a PNG"
w,h=struct.unpack(">II", b[16:24]); assert (w,h)==(1280,5400), (w,h)
assert len(b) > 100000, "only %d bytes" % len(b)' "$T/r1.png"
[ -n "${PEFLEET_REPORT_PNG:-}" ] && cp "$T/r1.png" "$PEFLEET_REPORT_PNG"
for page in r1 rc r3 $TIME_PAGE; do
  "${CHROME[@]}" --dump-dom "file://$T/$page.html" >"$T/$page.dom" 2>"$T/$page.err"
  check "chromium_dump_dom_$page" test -s "$T/$page.dom"
  check "no_console_messages_$page" bash -c "! grep -E 'CONSOLE|Uncaught|Failed to load' '$T/$page.err' '$T/shot.err'"
done

# the page as Chromium parsed it: sections with their titled plots and tables
cat >"$T/dom.py" <<'PY'
import sys
from html.parser import HTMLParser
class Dom(HTMLParser):
    def __init__(s):
        super().__init__(); s.stack=[]; s.sections={}; s.cur=None; s.title=""; s.text=[]; s.svgs=[]; s.tables=[]; s.na=[]
    def handle_starttag(s, tag, a):
        a=dict(a); s.stack.append(tag); s.text=[]
        if tag=="section": s.cur=a.get("id"); s.sections[s.cur]={"h2":"","svg":[],"table":[],"na":0}
        if tag=="svg": s.svgs.append(a); s.sections.get(s.cur,{}).get("svg",[]).append(a.get("aria-label"))
        if tag=="table" and s.cur: s.sections[s.cur]["table"].append(a.get("aria-label"))
        if tag=="div" and a.get("class")=="na" and s.cur: s.sections[s.cur]["na"]+=1
    def handle_endtag(s, tag):
        t="".join(s.text).strip()
        if tag=="title" and "svg" not in s.stack: s.title=t
        if tag=="h2" and s.cur: s.sections[s.cur]["h2"]=t
        if tag=="section": s.cur=None
        if s.stack and s.stack[-1]==tag: s.stack.pop()
    def handle_data(s, d): s.text.append(d)
d=Dom(); d.feed(open(sys.argv[1]).read()); mode=sys.argv[2]; v1=sys.argv[3]; v2=sys.argv[4]
S=d.sections
want0={"model":"Model","history":"Training curves","roc":"ROC curve (test split)","confusion":"Confusion matrices",
      "figures":"Figures per split (stats.json)","dataset":"Data set size and class balance",
      "relevance":"Feature relevance (top 25)","pca":"PCA of the test split"}
want=dict(want0, time="Quality over time") if mode=="time" else want0
assert list(S)==list(want), list(S)
for k,h in want.items(): assert S[k]["h2"]==h, (k, S[k]["h2"])
txt=open(sys.argv[1]).read()
if mode=="full":
    assert d.title=="pefleet model report: "+v1, d.title
    assert S["history"]["svg"]==["Loss per epoch","Accuracy per epoch"], S["history"]
    assert S["roc"]["svg"]==["ROC curve of the test split","ROC curve of the test split, log FPR"], S["roc"]
    assert S["relevance"]["svg"]==["Top 25 features by relevance"], S["relevance"]
    assert S["pca"]["svg"]==["PCA projection of the test split","Explained variance per principal component"]
    assert S["confusion"]["table"]==["confusion matrix train","confusion matrix validation","confusion matrix test"]
    assert S["figures"]["table"]==["figures "+v1] and S["dataset"]["table"]==["data set"]
    assert sum(x["na"] for x in S.values())==0, "a not-available panel in a full report"
    for t in ("false positive rate","true positive rate","epoch","cross-entropy loss","accuracy","principal component",
              "drop when the feature is nulled","validation","training","byte(7d) [200]","ergo486 (id 1)"):
        assert t in txt, "missing text: "+t
elif mode=="time":
    assert S["time"]["svg"]==["Quality per week"], S["time"]
    assert S["time"]["table"]==["quality over time"], S["time"]
    assert S["time"]["na"]==0, S["time"]
    assert "TPR at 1% FPR" in txt and "2026-W" in txt and "week (1 = 2026-W" in txt, "time panel text"
    assert 'href="#time"' in txt
elif mode=="compare":
    assert d.title=="pefleet model report: %s vs %s" % (v1, v2), d.title
    assert S["figures"]["table"]==["figures "+v1, "figures "+v2], S["figures"]
    assert S["roc"]["svg"]==["ROC curve of the test split, both models","ROC curve of the test split, log FPR, both models"]
    assert txt.count("#8e44ad") >= 2, "the compared model's curve is not drawn"
    assert ("%s (AUC" % v2) in txt
else:
    na={k:x["na"] for k,x in S.items() if x["na"]}
    assert set(na)=={"history","roc","relevance","pca"}, na
    for why in ("no history.json in the model folder","roc.json: not valid JSON","no relevance.json in the model folder",
                "no pca.json in the model folder"):
        assert why in txt, "missing reason: "+why
    assert S["confusion"]["table"] and S["figures"]["table"]
print(mode, "ok:", len(d.svgs), "svg,", sum(len(x["table"]) for x in S.values()), "tables")
PY
for pm in r1:full rc:compare r3:missing ${TIME_PAGE:+rt:time}; do
  page=${pm%%:*} mode=${pm#*:}
  if python3 "$T/dom.py" "$T/$page.dom" "$mode" "$V1" "$V2" >"$T/$page.chk" 2>&1; then ok "report_dom_$mode ($(tail -1 "$T/$page.chk"))"
  else notok "report_dom_$mode" "$(tail -3 "$T/$page.chk" | tr '\n' ' ')"; fi
done
finish
