#!/usr/bin/env bash
# Explanations of verdicts (lib/pf_explain): `predict --explain` locally and
# `scan --server --explain` through a real pool give the same contributions
# (the scorer computes them), add up to p(x) - p(baseline) within 1e-3 on
# every corpus file, say which baseline they start from (the zero vector
# for an imported Keras model, the clean mean after explain-baseline or
# train), and through the pool name the 3 stored samples most like the file;
# --explain=0 and --explain=1000 are usage errors with one line.
. "$(dirname "$0")/lib/common.sh"
NAME=explain
need_corpus "$NAME"
need_redis "$NAME"
P=$BIN/pefleet
H5=$SHARED/seed/ergo-pe-av/model.h5
[ -f "$H5" ] || { skip "$NAME" "$H5 not found"; exit 0; }
fleet_ports
read -r SP SCP SIMP HP < <(free_ports 4)
D=$T/fleet
fleet_cleanup_on_exit "$D"
"$P" import-keras "$H5" -o "$T/m1" --version seed-a >/dev/null 2>&1 || { notok import "import-keras failed"; finish; }
FILES=("$CORPUS"/clean/* "$CORPUS"/malicious-test/*)

# completeness.py JSONL BASELINE_PREFIX: every line explained, complete, from that baseline
cat >"$T/complete.py" <<'PY'
import json, sys
want = sys.argv[2]
n = bad = 0
worst = 0.0
for line in open(sys.argv[1]):
    d = json.loads(line)
    if "error" in d:
        continue
    e = d.get("explanation")
    n += 1
    if not e or not e["baseline"].startswith(want) or len(e["top"]) != 10:
        bad += 1
        continue
    worst = max(worst, abs(e["sum"] - (e["p"] - e["p_baseline"])))
    if abs(e["p"] - d["probabilities"][1]) > 1e-6:
        bad += 1
print(n, bad, worst)
PY
"$P" predict "$T/m1" --jsonl --explain -q "${FILES[@]}" >"$T/local0.jsonl" 2>/dev/null
read -r n bad worst < <(python3 "$T/complete.py" "$T/local0.jsonl" zero)
check "imported_model_explained_from_zero ($n files, $bad bad)" test "$n" -ge 40 -a "$bad" -eq 0
check "completeness_zero_baseline (worst $worst)" python3 -c "import sys; sys.exit(0 if $worst < 1e-3 else 1)"

"$P" encode -q -o "$T/ds.csv" --label clean "$CORPUS/clean" 2>/dev/null
"$P" explain-baseline "$T/m1" --dataset "$T/ds.csv" >"$T/eb.out" 2>&1
check "explain_baseline ($(tail -1 "$T/eb.out"))" grep -q 'baseline "clean mean of dataset, [0-9]* rows"' "$T/eb.out"
"$P" predict "$T/m1" --jsonl --explain -q "${FILES[@]}" >"$T/local.jsonl" 2>/dev/null
read -r n bad worst < <(python3 "$T/complete.py" "$T/local.jsonl" "clean mean of dataset")
check "explained_from_the_clean_mean ($n files, $bad bad)" test "$n" -ge 40 -a "$bad" -eq 0
check "completeness_clean_mean (worst $worst)" python3 -c "import sys; sys.exit(0 if $worst < 1e-3 else 1)"

# the table: a "why" line per scored file with the top 3
"$P" predict "$T/m1" --explain "$CORPUS/malicious-test/clam-upack.exe" >"$T/table" 2>/dev/null
check table_has_why_line grep -qE '^    why \(malicious vs clean mean of dataset, [0-9]+ rows baseline\): [^,]+ [+-][0-9.]+, [^,]+ [+-][0-9.]+, [^,]+ [+-][0-9.]+$' "$T/table"

# bad requests
for k in 0 1000 x; do
  "$P" predict "$T/m1" --explain=$k "$CORPUS/clean/cli-64.exe" >/dev/null 2>"$T/err"; rc=$?
  check "explain_${k}_refused (exit $rc: $(head -1 "$T/err"))" test "$rc" -eq 2 -a "$(wc -l <"$T/err")" -eq 1
done

# through the pool: the same explanation, and the similar stored samples
if ! "$P" up --data "$D" --workers 1 --scorers 2 --model "$T/m1" --redis-port "$RP" --ingest-port "$IP" \
     --worker-port "$WP" --score-port "$SP" --scorer-port "$SCP" --similar-port "$SIMP" --port "$HP" >"$T/up.log" 2>&1; then
  notok up "$(tail -3 "$T/up.log")"; finish
fi
fleet_auth "$D" 2>/dev/null || true
"$P" ingest --data "$D" --label clean --wait "$CORPUS/clean" >/dev/null 2>&1
"$P" ingest --data "$D" --label malicious --wait "$CORPUS/malicious-test" >/dev/null 2>&1
"$P" scan --server --data "$D" --jsonl --explain -q "${FILES[@]}" >"$T/pool.jsonl" 2>/dev/null
read -r n bad worst < <(python3 "$T/complete.py" "$T/pool.jsonl" "clean mean of dataset")
check "pool_explained ($n files, $bad bad, worst completeness $worst)" test "$n" -ge 40 -a "$bad" -eq 0
python3 - "$T/local.jsonl" "$T/pool.jsonl" >"$T/cmp" <<'PY'
import json, sys
loc = {json.loads(l)["sha256"]: json.loads(l) for l in open(sys.argv[1])}
worst = 0.0; same = 0; similar = 0; n = 0
for l in open(sys.argv[2]):
    d = json.loads(l)
    if "explanation" not in d: continue
    n += 1
    a, b = loc[d["sha256"]]["explanation"], d["explanation"]
    if [t["index"] for t in a["top"]] == [t["index"] for t in b["top"]]: same += 1
    for x, y in zip(a["top"], b["top"]): worst = max(worst, abs(x["contribution"] - y["contribution"]))
    s = b.get("similar", [])
    if len(s) == 3 and s[0]["sha256"] == d["sha256"] and abs(s[0]["similarity"] - 1) < 1e-6 and s[0]["labels"]: similar += 1
print(n, same, worst, similar)
PY
read -r n same worst similar <"$T/cmp"
check "pool_explanation_equals_local ($same of $n same top 10, largest difference $worst)" \
  python3 -c "import sys; sys.exit(0 if $same == $n and $n > 0 and $worst < 1e-9 else 1)"
check "pool_names_3_similar_stored_samples ($similar of $n; the file itself first)" test "$similar" -eq "$n"

# the gateway: /v1/scan?explain=K gives the same explanation; the seed's POST / is unchanged
U=http://127.0.0.1:$HP
MAL=$CORPUS/malicious-test/clam-petite.exe
curl -s -F "x=@$MAL" "$U/v1/scan?explain=5" >"$T/gw.json"
python3 - "$T/local.jsonl" "$T/gw.json" "$(sha256sum "$MAL" | cut -d' ' -f1)" >"$T/gwcmp" 2>&1 <<'PY'
import json, sys
loc = {json.loads(l)["sha256"]: json.loads(l) for l in open(sys.argv[1])}[sys.argv[3]]["explanation"]
g = json.load(open(sys.argv[2]))["explanation"]
ok = [t["index"] for t in g["top"]] == [t["index"] for t in loc["top"][:5]] and len(g["top"]) == 5
ok = ok and max(abs(a["contribution"] - b["contribution"]) for a, b in zip(g["top"], loc["top"])) < 1e-9
ok = ok and g["baseline"] == loc["baseline"] and len(g.get("similar", [])) == 3 and abs(g["sum"] - (g["p"] - g["p_baseline"])) < 1e-3
print("same" if ok else "differs: %s" % json.dumps(g)[:300])
PY
check "gateway_explain_equals_local ($(cat "$T/gwcmp"))" grep -qx same "$T/gwcmp"
curl -s -F "x=@$MAL" -F explain=true "$U/v1/scan" | python3 -c 'import json,sys; sys.exit(0 if len(json.load(sys.stdin)["explanation"]["top"]) == 10 else 1)'
check gateway_explain_true_is_10 test $? -eq 0
for k in 0 1000 x; do
  code=$(curl -s -o "$T/bad.json" -w '%{http_code}' -F "x=@$MAL" "$U/v1/scan?explain=$k")
  check "gateway_explain_${k}_is_400 ($code: $(cat "$T/bad.json"))" grep -q '"error":"explain must be 1..486' "$T/bad.json"
done
curl -s -F "x=@$MAL" "$U/" >"$T/seed.json"
check "seed_reply_unchanged ($(cat "$T/seed.json"))" python3 -c "import json,sys; d=json.load(open('$T/seed.json')); sys.exit(0 if sorted(d) == ['clean','malicious'] else 1)"
# the MLSEC defenders' convention: the raw file as an application/octet-stream body, and "result"
curl -s --data-binary "@$MAL" -H 'Content-Type: application/octet-stream' "$U/" >"$T/raw.json"
check "octet_stream_result_1 ($(cat "$T/raw.json"))" python3 -c "import json,sys; d=json.load(open('$T/raw.json')); sys.exit(0 if d['result'] == 1 and d['malicious'] > 0.5 else 1)"
curl -s --data-binary "@$CORPUS/clean/cli-64.exe" -H 'Content-Type: application/octet-stream' "$U/" >"$T/raw0.json"
check "octet_stream_result_0 ($(cat "$T/raw0.json"))" python3 -c "import json,sys; d=json.load(open('$T/raw0.json')); sys.exit(0 if d['result'] == 0 and d['malicious'] < 0.5 else 1)"
finish
