#!/usr/bin/env bash
# Parity: `pefleet encode` over every file of ../shared/corpus reproduces
# expected-ergo486.tsv within 1e-9 per value, through the isolated parser,
# with one and with several workers; the CSV carries the same numbers.
. "$(dirname "$0")/lib/common.sh"
need_corpus encode_parity
CMP="python3 $ROOT/tests/integration/lib/compare_vectors.py $CORPUS/expected-ergo486.tsv $CORPUS"

for w in 1 2 4; do
  "$BIN/pefleet" encode -q --jsonl -w $w "$CORPUS/clean" "$CORPUS/malicious-test" >"$T/w$w.jsonl" 2>"$T/w$w.err"
  rc=$?
  if [ $rc -ne 0 ]; then notok "encode_parity_w$w" "exit $rc: $(head -3 "$T/w$w.err")"; continue; fi
  if $CMP "$T/w$w.jsonl" >"$T/w$w.cmp"; then
    ok "encode_parity_w$w ($(tail -1 "$T/w$w.cmp"))"
  else
    notok "encode_parity_w$w" "$(head -5 "$T/w$w.cmp" | tr '\n' ' ')"
  fi
done

# Output order is input order, whatever the worker count.
check encode_order_independent_of_workers cmp -s "$T/w1.jsonl" "$T/w4.jsonl"

# CSV: seed's dataset.csv layout, label = folder name, same values as JSONL.
"$BIN/pefleet" encode -q -o "$T/dataset.csv" "$CORPUS/clean" "$CORPUS/malicious-test"
python3 - "$T/dataset.csv" "$T/w1.jsonl" <<'PY' >"$T/csv.out" 2>&1
import csv, json, os, sys
rows = list(csv.reader(open(sys.argv[1])))
objs = [json.loads(l) for l in open(sys.argv[2])]
assert len(rows) == len(objs) == 51, (len(rows), len(objs))
for row, obj in zip(rows, objs):
    label = os.path.basename(os.path.dirname(obj["path"]))
    assert row[0] == label, (row[0], label)
    assert len(row) == 487, len(row)
    vals = [float(v) for v in row[1:]]
    assert vals == obj["vector"], obj["path"]
print("csv rows match jsonl exactly")
PY
if [ $? -eq 0 ]; then ok "encode_csv_layout"; else notok "encode_csv_layout" "$(tail -2 "$T/csv.out" | tr '\n' ' ')"; fi

# sha256 and size in the JSON lines match MANIFEST.tsv.
python3 - "$CORPUS/MANIFEST.tsv" "$T/w1.jsonl" <<'PY' >"$T/man.out" 2>&1
import json, sys
man = {}
for line in open(sys.argv[1]).read().splitlines()[1:]:
    sha, path, size = line.split("\t")[:3]
    man[path] = (sha, int(size))
n = 0
for l in open(sys.argv[2]):
    o = json.loads(l)
    rel = "/".join(o["path"].split("/")[-2:])
    assert (o["sha256"], o["size"]) == man[rel], rel
    n += 1
assert n == len(man), (n, len(man))
print("ok")
PY
if [ $? -eq 0 ]; then ok "encode_sha256_and_size"; else notok "encode_sha256_and_size" "$(tail -2 "$T/man.out" | tr '\n' ' ')"; fi
finish
