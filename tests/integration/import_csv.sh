#!/usr/bin/env bash
# pefleet import-csv against a real fleet (`pefleet up` on free ports): a
# dataset.csv made of `pefleet encode` rows of the corpus, synthetic rows
# with numeric labels (CRLF, quoted, odd number forms, a duplicate) and bad
# rows (wrong width, nan, inf, 1e999, an empty line, a word, an unmapped
# label, a label pf_db refuses, a value beyond float32, a line over 1 MiB).
# Checked: each bad row is reported once, by its line number, and the run
# exits 1; export returns exactly the good rows' vectors as float32 with the
# mapped labels, each keyed by the sha256 of its row and in the split that
# sha gives (pf:split:<name> membership too); a second import adds nothing;
# a different label for a known row is a conflict; status counts them done.
. "$(dirname "$0")/lib/common.sh"
need_corpus import_csv
need_redis import_csv
P=$BIN/pefleet
D=$T/fleet
fleet_ports
fleet_cleanup_on_exit "$D"

# --- usage errors need no fleet -------------------------------------------------
"$P" import-csv >/dev/null 2>&1
check usage_no_file_exit_2 test $? -eq 2
"$P" import-csv --label-map 0=clean,0=bad --data "$D" x.csv >/dev/null 2>&1
check usage_bad_label_map_exit_2 test $? -eq 2
"$P" import-csv --label-map '0=' --data "$D" x.csv >/dev/null 2>&1
check usage_empty_map_name_exit_2 test $? -eq 2
"$P" import-csv --batch 0 --data "$D" x.csv >/dev/null 2>&1
check usage_bad_batch_exit_2 test $? -eq 2

if ! "$P" up --data "$D" --workers 1 --redis-port "$RP" --ingest-port "$IP" --worker-port "$WP" --scorers 0 >"$T/up.out" 2>&1; then
  notok fleet_up "$(tr '\n' ' ' <"$T/up.out")"; finish
fi
ok "fleet_up (redis $RP)"
fleet_auth "$D" # up made a Redis password

"$P" import-csv --data "$D" "$T/missing.csv" >/dev/null 2>"$T/missing.err"
check missing_file_exit_1 test $? -eq 1

# --- the dataset ------------------------------------------------------------------
# encoded rows are welcome, not required: what is tested here is the import
"$P" encode -q --label auto -o "$T/encoded.csv" "$CORPUS" 2>"$T/encode.err"
if [ -s "$T/encoded.csv" ]; then ok "encode_made_rows ($(wc -l <"$T/encoded.csv"))"
else skip encode_made_rows "pefleet encode made no rows ($(head -1 "$T/encode.err")); synthetic rows only"; fi
CSV=$T/dataset.csv
python3 - "$T/encoded.csv" "$CSV" "$T/expect.json" <<'PY'
import hashlib, json, random, sys
encoded, out, expect = sys.argv[1:4]
rnd = random.Random(11)
lines = []   # raw bytes of each line, ending included
bad = {}     # line number -> reason substring
def add(raw, reason=None):
    lines.append(raw)
    if reason: bad[len(lines)] = reason
for l in open(encoded, "rb"):
    add(l)
def vals(n=486):
    v = []
    for i in range(n):
        k = rnd.randrange(6)
        v.append(["0", "1", "%.6g" % rnd.uniform(-5, 5), "%de-3" % rnd.randrange(1000),
                  repr(rnd.random()), "-0"][k])
    return v
def row(label, v, end=b"\n"):
    return (label + "," + ",".join(v)).encode() + end
for i in range(300):
    add(row(str(i % 2), vals(), b"\r\n" if i % 7 == 0 else b"\n"))
odd = vals()
odd[:6] = ["+1.5", ".25", "5.", "1E+02", "1e-400", "3.4028234663852886e38"]
add(row("1", odd))
add(row('"0"', vals()))                  # a quoted numeric label
add(row("1.0", vals()))                  # numeric: 1.0 is 1
add(row("packed", vals()))               # a class name, stored as it is
add(lines[len(lines) - 10])              # an exact duplicate of an earlier row
v = vals(); add(row("0", v[:485]), "expected 486 values, found 485")
v = vals(); add(row("1", v + ["1"]), "expected 486 values, found 487")
v = vals(); v[10] = "nan"; add(row("0", v), "value 11 is not finite: 'nan'")
v = vals(); v[0] = "inf"; add(row("1", v), "value 1 is not finite: 'inf'")
v = vals(); v[485] = "1e999"; add(row("0", v), "value 486 is out of range: '1e999'")
add(b"\n", "empty line")
v = vals(); v[200] = "abc"; add(row("1", v), "value 201 is not a number: 'abc'")
v = vals(); add(row("2", v), "label '2' is not in the label map")
v = vals(); add(row("tab\there", v), "label must be 1-127 printable ASCII characters")
v = vals(); v[3] = "1e39"; add(row("0", v), "value 4 is beyond float32 range")
add(b"1," + b"0," * 600000 + b"0\n", "line longer than 1048576 bytes")
v = vals(); add(row("1", v))             # good rows after the bad ones
last = row("0", vals())
add(last[:-1])                           # the last line has no line ending
open(out, "wb").write(b"".join(lines))

def f32(x):
    import struct
    return struct.unpack("f", struct.pack("f", x))[0]
def split_of(sha):
    n = int(sha[:16], 16) % 10000
    return "train" if n < 7000 else "validation" if n < 8500 else "test"
good = {}
mapping = {0.0: "clean", 1.0: "malicious"}
for i, raw in enumerate(lines, 1):
    if i in bad: continue
    body = raw.rstrip(b"\n")
    if body.endswith(b"\r"): body = body[:-1]
    sha = hashlib.sha256(body).hexdigest()
    fields = body.decode().split(",")
    label = fields[0].strip('"')
    try:
        label = mapping[float(label)]
    except ValueError:
        pass
    if sha in good: continue
    good[sha] = {"label": label, "vector": [f32(float(x)) for x in fields[1:]], "split": split_of(sha), "line": i}
json.dump({"lines": len(lines), "bad": bad, "good": good}, open(expect, "w"))

PY
read -r NLINES NBAD NGOOD < <(python3 -c '
import json,sys; e=json.load(open(sys.argv[1])); print(e["lines"], len(e["bad"]), len(e["good"]))' "$T/expect.json")
echo "  dataset: $NLINES lines, $NBAD bad, $NGOOD distinct good rows"

# --- import (small batches: several in flight, bad rows in many) ----------------
"$P" import-csv --batch 7 --data "$D" "$CSV" >"$T/imp1.out" 2>"$T/imp1.err"
rc=$?
check "import_with_bad_rows_exit_1 (exit $rc)" test $rc -eq 1
python3 - "$T/imp1.err" "$T/expect.json" "$CSV" <<'PY' >"$T/reports.out" 2>&1
import json, re, sys
err, expect, csv = sys.argv[1:4]
bad = {int(k): v for k, v in json.load(open(expect))["bad"].items()}
seen, order, problems = {}, [], 0
for l in open(err):
    m = re.match(r"pefleet import-csv: (.*):(\d+): (.*)$", l.rstrip("\n"))
    if not m: continue
    if m.group(1) != csv:
        print("report names", m.group(1)); problems += 1
    n = int(m.group(2))
    if n in seen:
        print("line", n, "reported twice"); problems += 1
    seen[n] = m.group(3)
    order.append(n)
if order != sorted(order):
    print("reports out of line order:", order); problems += 1
for n, want in sorted(bad.items()):
    if n not in seen:
        print("line", n, "not reported; want", want); problems += 1
    elif want not in seen[n]:
        print("line", n, "reported as", repr(seen[n]), "want", repr(want)); problems += 1
for n in sorted(set(seen) - set(bad)):
    print("good line", n, "reported:", seen[n]); problems += 1
print(len(seen), "reports,", problems, "problems")
sys.exit(1 if problems else 0)
PY
if [ $? -eq 0 ]; then ok "bad_rows_reported_by_line ($(tail -1 "$T/reports.out"))"
else notok bad_rows_reported_by_line "$(tail -5 "$T/reports.out" | tr '\n' ' ')"; fi
sum1=$(grep 'rows read' "$T/imp1.err")
echo "  $sum1"
check summary_counts grep -q "$NLINES rows read, $NGOOD imported, 1 duplicates, $NBAD skipped" "$T/imp1.err"
check nothing_on_stdout test ! -s "$T/imp1.out"

# --- export: exactly the good rows, float32, mapped labels, right splits --------
"$P" export --jsonl --data "$D" >"$T/export.jsonl" 2>/dev/null
check export_exit_0 test $? -eq 0
python3 - "$T/export.jsonl" "$T/expect.json" "$RP" <<'PY' >"$T/cmp.out" 2>&1
import json, subprocess, sys
exp_file, expect, port = sys.argv[1:4]
good = json.load(open(expect))["good"]
got = {}
problems = 0
for l in open(exp_file):
    o = json.loads(l)
    if o["sha256"] in got:
        print("exported twice:", o["sha256"]); problems += 1
    got[o["sha256"]] = o
for sha in sorted(set(got) - set(good)):
    print("exported but not a good row:", sha); problems += 1
for sha, g in good.items():
    o = got.get(sha)
    if o is None:
        print("good row not exported: line", g["line"], sha); problems += 1; continue
    if o["vector"] != g["vector"]:
        diff = [i for i, (a, b) in enumerate(zip(o["vector"], g["vector"])) if a != b]
        print("vector differs: line", g["line"], "values", diff[:5], len(o["vector"])); problems += 1
    if o["label"] != g["label"]:
        print("label", repr(o["label"]), "want", repr(g["label"]), "line", g["line"]); problems += 1
    if o["split"] != g["split"]:
        print("split", o["split"], "want", g["split"], "line", g["line"]); problems += 1
# split sets and record fields, straight from Redis
cmds = []
for sha, g in good.items():
    cmds.append("SISMEMBER pf:split:%s %s" % (g["split"], sha))
    cmds.append("HMGET pf:s:%s status size schema attempts" % sha)
    cmds.append("SISMEMBER pf:done %s" % sha)
out = subprocess.run(["redis-cli", "-p", port, "--no-auth-warning"], input="\n".join(cmds) + "\n",
                     capture_output=True, text=True).stdout.split("\n")
k = 0
for sha, g in good.items():
    member, status, size, schema, attempts, done = out[k:k + 6]
    k += 6
    if member != "1": print("not in pf:split:" + g["split"], sha); problems += 1
    if (status, size, schema, attempts) != ("done", "0", "1", "0"):
        print("record fields", (status, size, schema, attempts), sha); problems += 1
    if done != "1": print("not in pf:done", sha); problems += 1
splits = {}
for g in good.values(): splits[g["split"]] = splits.get(g["split"], 0) + 1
print("compared", len(good), "rows,", len(got), "exported, splits", splits, ",", problems, "problems")
sys.exit(1 if problems else 0)
PY
if [ $? -eq 0 ]; then ok "export_equals_good_rows ($(tail -1 "$T/cmp.out"))"
else notok export_equals_good_rows "$(tail -6 "$T/cmp.out" | tr '\n' ' ')"; fi
check no_hash_in_two_splits test "$($RCLI SINTERCARD 2 pf:split:train pf:split:validation)" -eq 0 -a \
  "$($RCLI SINTERCARD 2 pf:split:train pf:split:test)" -eq 0 -a "$($RCLI SINTERCARD 2 pf:split:validation pf:split:test)" -eq 0
check nothing_queued test "$($RCLI LLEN pf:queue)" -eq 0 -a "$($RCLI ZCARD pf:inflight)" -eq 0

# --- again: duplicates only ------------------------------------------------------
"$P" import-csv --data "$D" "$CSV" >/dev/null 2>"$T/imp2.err"
rc=$?
check "reimport_still_exit_1_for_bad_rows (exit $rc)" test $rc -eq 1
check reimport_adds_nothing grep -q "$NLINES rows read, 0 imported, $((NGOOD + 1)) duplicates, $NBAD skipped" "$T/imp2.err"
check "samples_unchanged ($($RCLI SCARD pf:samples))" test "$($RCLI SCARD pf:samples)" -eq "$NGOOD"
# a file of good rows only, all known: exit 0
"$P" import-csv -q --data "$D" "$T/encoded.csv" >/dev/null 2>"$T/imp3.err"
check known_good_rows_exit_0 test $? -eq 0
check quiet_prints_nothing test ! -s "$T/imp3.err"
# from standard input, with a tiny batch: the same answer
"$P" import-csv --batch 3 --data "$D" - <"$CSV" >/dev/null 2>"$T/imp4.err"
check stdin_batch3_same_counts grep -q "$NLINES rows read, 0 imported, $((NGOOD + 1)) duplicates, $NBAD skipped" "$T/imp4.err"

# --- the same rows under another label map: conflicts, first label kept --------
sha1=$(python3 -c '
import json,sys; g=json.load(open(sys.argv[1]))["good"]
print(next(s for s, v in g.items() if v["label"] == "malicious"))' "$T/expect.json")
"$P" import-csv --label-map 0=safe,1=bad --data "$D" "$CSV" >/dev/null 2>"$T/imp5.err"
check conflict_counted grep -q 'duplicates ([0-9]* with another label)' "$T/imp5.err"
check conflict_recorded test "$($RCLI SISMEMBER pf:conflicts "$sha1")" -eq 1
check first_label_kept test "$($RCLI HGET "pf:s:$sha1" label)" = malicious
check second_label_added test "$($RCLI SISMEMBER "pf:s:$sha1:labels" bad)" -eq 1
# 'none': numeric labels are stored as they are (new rows only: a known row keeps its first label)
printf '7,%s\n' "$(python3 -c 'print(",".join(["0.5"] * 486))')" >"$T/seven.csv"
"$P" import-csv --label-map none -q --data "$D" "$T/seven.csv"
check label_map_none_exit_0 test $? -eq 0
sha7=$(head -c -1 "$T/seven.csv" | sha256sum | cut -d' ' -f1)
check label_map_none_keeps_number test "$($RCLI HGET "pf:s:$sha7" label)" = 7

# --- status sees them as done ----------------------------------------------------
total=$((NGOOD + 1))
"$P" status --json --data "$D" >"$T/st.json"
check "status_counts_done ($total)" python3 -c '
import json,sys; s=json.load(open(sys.argv[1])); n=int(sys.argv[2])
assert s["done"]==n and s["queued"]==0 and s["in_flight"]==0 and s["failed"]==0, s' "$T/st.json" "$total"

"$P" down --data "$D" >/dev/null 2>&1
check fleet_down_exit_0 test $? -eq 0
"$P" import-csv --data "$D" "$T/seven.csv" >/dev/null 2>"$T/down.err"
rc=$?
check "redis_down_exit_1 (exit $rc: $(head -1 "$T/down.err"))" test $rc -eq 1 -a -s "$T/down.err"
finish
