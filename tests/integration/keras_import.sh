#!/usr/bin/env bash
# pefleet import-keras and predict: the seed's Keras model.h5 becomes a model
# folder whose predictions on every corpus file match the seed's own scores
# (../shared/corpus/expected-seed-model-scores.tsv) within 1e-6, printing
# the largest difference; truncated, non-HDF5 and wrong-shape files (made
# with build/tools/mkh5) each fail with exit 1 and one error line, and
# leave no model behind. Also: usage errors, --force, --classes for a
# 3-class model, model.json, a damaged model.pfnn refused by predict.
. "$(dirname "$0")/lib/common.sh"
NAME=keras_import
if [ ! -d "$SHARED" ]; then skip "$NAME" "../shared not found"; exit 0; fi
P=$BIN/pefleet
H5=$SHARED/seed/ergo-pe-av/model.h5
TSV=$CORPUS/expected-seed-model-scores.tsv
BUILD=${BUILD:-$ROOT/build}
MKH5=$BUILD/tools/mkh5
[ -f "$H5" ] || { skip "$NAME" "$H5 not found"; exit 0; }

# --- usage ---------------------------------------------------------------------
"$P" import-keras --help >"$T/h" 2>&1; check usage_help_exit_0 test $? -eq 0
check usage_help_text grep -q "usage: pefleet import-keras" "$T/h"
"$P" import-keras >/dev/null 2>&1; check usage_no_file_exit_2 test $? -eq 2
"$P" import-keras "$H5" >/dev/null 2>&1; check usage_no_output_exit_2 test $? -eq 2
"$P" import-keras "$H5" -o "$T/x" --threshold 1.5 >/dev/null 2>&1; check usage_bad_threshold_exit_2 test $? -eq 2
"$P" import-keras "$H5" -o "$T/x" --classes "clean,,bad" >/dev/null 2>&1; check usage_bad_classes_exit_2 test $? -eq 2
"$P" import-keras "$H5" -o "$T/x" --classes "a,a" >/dev/null 2>&1; check usage_duplicate_class_exit_2 test $? -eq 2
"$P" predict --help >"$T/h" 2>&1; check predict_help_exit_0 test $? -eq 0
"$P" predict "$T/x" >/dev/null 2>&1; check predict_no_path_exit_2 test $? -eq 2
"$P" predict -w 0 "$T/x" "$H5" >/dev/null 2>&1; check predict_bad_workers_exit_2 test $? -eq 2
"$P" predict "$T/nomodel" "$H5" >/dev/null 2>"$T/e"; rc=$?
check predict_missing_model_exit_1 test $rc -eq 1
check predict_missing_model_one_line test "$(wc -l <"$T/e")" -eq 1

# --- the seed ------------------------------------------------------------------
M=$T/seed
"$P" import-keras "$H5" -o "$M" >"$T/imp.out" 2>"$T/imp.err"; rc=$?
if [ $rc -ne 0 ]; then notok seed_import "exit $rc: $(head -1 "$T/imp.err")"; finish; fi
ok "seed_import ($(cat "$T/imp.out"))"
check seed_model_file test -s "$M/model.pfnn"
check seed_no_temp_left test -z "$(ls -A "$M" | grep -v '^model\.\(pfnn\|json\)$' || true)"
SHA=$(sha256sum "$H5" | cut -d' ' -f1)
if python3 - "$M/model.json" "$SHA" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
sizes = [j["layers"][0]["inputs"]] + [l["units"] for l in j["layers"]]
assert sizes == [486, 70, 70, 2], sizes
assert [l["activation"] for l in j["layers"]] == ["relu", "relu", "softmax"]
assert j["classes"] == ["clean", "malicious"] and j["threshold"] == 0.5, j
assert j["source"]["sha256"] == sys.argv[2] and j["version"] == "keras-" + sys.argv[2][:12], j
assert j["format"] == "pfnn" and j["schema"] == "ergo486" and j["parameters"] == 39202
PY
then ok seed_model_json; else notok seed_model_json "model.json does not describe the seed"; fi

"$P" import-keras "$H5" -o "$M" >/dev/null 2>"$T/e"; rc=$?
check reimport_without_force_exit_1 test $rc -eq 1
check reimport_without_force_message grep -q "already holds a model .*; --force replaces it" "$T/e"
"$P" import-keras "$H5" -o "$M" --force --version seed-keras --threshold 0.25 >/dev/null 2>&1
check reimport_force_exit_0 test $? -eq 0
check reimport_force_options grep -q '"version": "seed-keras"' "$M/model.json"
"$P" import-keras "$H5" -o "$M" --force >/dev/null 2>&1

# --- predictions against the seed's own scores ------------------------------------
if [ ! -f "$TSV" ]; then
  skip seed_scores "$TSV not found"
else
  "$P" predict --jsonl "$M" "$CORPUS/clean" "$CORPUS/malicious-test" >"$T/pred.jsonl" 2>"$T/pred.err"; rc=$?
  check predict_corpus_exit_0 test $rc -eq 0
  check predict_summary grep -Eq "^pefleet predict: [0-9]+ files, [0-9]+ clean, [0-9]+ malicious, 0 failed" "$T/pred.err"
  if out=$(python3 - "$T/pred.jsonl" "$TSV" "$CORPUS" <<'PY'
import json, os, sys
pred, tsv, corpus = sys.argv[1:4]
got = {}
for line in open(pred):
    r = json.loads(line)
    rel = os.path.relpath(r["path"], corpus)
    if "probabilities" not in r:
        print("%s: no prediction (%s)" % (rel, r.get("error"))); sys.exit(1)
    p = r["probabilities"]
    if len(p) != 2 or abs(sum(p) - 1) > 1e-6:
        print("%s: probabilities %r" % (rel, p)); sys.exit(1)
    if r["verdict"] != ("malicious" if p[1] >= 0.5 else "clean"):
        print("%s: verdict %s for %r" % (rel, r["verdict"], p)); sys.exit(1)
    got[rel] = p
worst, where, n = 0.0, "", 0
rows = [l.rstrip("\n").split("\t") for l in open(tsv)][1:]
for path, pc, pm in rows:
    if path not in got:
        print("%s: in the expected scores but not predicted" % path); sys.exit(1)
    for a, b in zip(got[path], (float(pc), float(pm))):
        if abs(a - b) > worst: worst, where = abs(a - b), path
    n += 1
extra = set(got) - {r[0] for r in rows}
if extra:
    print("predicted files without expected scores: %s" % sorted(extra)[:3]); sys.exit(1)
print("%d files, largest difference %.3g (%s)" % (n, worst, where))
sys.exit(0 if worst <= 1e-6 and n > 0 else 1)
PY
  ); then ok "seed_scores_match ($out)"; else notok seed_scores_match "$out"; fi
  "$P" predict -q "$M" "$CORPUS/clean" "$CORPUS/malicious-test" >"$T/pred.txt" 2>/dev/null
  check predict_table_rows test "$(wc -l <"$T/pred.txt")" -eq "$(($(wc -l <"$T/pred.jsonl") + 1))"
  check predict_table_header grep -q "^verdict .*p_clean .*p_malicious .*sha256 .*path$" "$T/pred.txt"
fi
"$P" predict --jsonl "$M" "$H5" "$T/missing.exe" >"$T/bad.jsonl" 2>"$T/bad.err"; rc=$?
check predict_bad_input_exit_1 test $rc -eq 1
check predict_bad_input_error_record grep -q '"error":' "$T/bad.jsonl"

cp -r "$M" "$T/damaged"
printf '\x01' | dd of="$T/damaged/model.pfnn" bs=1 seek=100000 conv=notrunc 2>/dev/null
"$P" predict "$T/damaged" "$H5" >/dev/null 2>"$T/e"; rc=$?
check damaged_model_exit_1 test $rc -eq 1
check damaged_model_says_checksum grep -q "checksum mismatch" "$T/e"

# --- files that must be refused ---------------------------------------------------
# refuse NAME FILE WANT: exit 1, exactly one line on stderr naming the problem, no model written
refuse() {
  local name=$1 file=$2 want=$3 out=$T/out-$1
  "$P" import-keras "$file" -o "$out" >"$T/$name.out" 2>"$T/$name.err"; local rc=$?
  local lines; lines=$(wc -l <"$T/$name.err")
  if [ $rc -ne 1 ]; then notok "$name" "exit $rc, want 1"; return; fi
  if [ "$lines" -ne 1 ]; then notok "$name" "$lines lines on stderr, want 1: $(tr '\n' '|' <"$T/$name.err")"; return; fi
  if ! grep -q "^pefleet import-keras: error: .*$want" "$T/$name.err"; then
    notok "$name" "message '$(cat "$T/$name.err")' lacks '$want'"; return
  fi
  if [ -e "$out/model.pfnn" ]; then notok "$name" "a model was written"; return; fi
  ok "$name ($(sed 's/^pefleet import-keras: error: //' "$T/$name.err"))"
}
head -c 200000 "$H5" >"$T/trunc.h5"; refuse truncated_h5 "$T/trunc.h5" "truncated file"
head -c 4096 "$H5" >"$T/trunc4k.h5"; refuse truncated_h5_header "$T/trunc4k.h5" "not a readable HDF5 file"
: >"$T/empty.h5"; refuse empty_file "$T/empty.h5" "not a readable HDF5 file"
printf 'this is not a model\n' >"$T/text.h5"; refuse non_hdf5_text "$T/text.h5" "file signature not found"
if [ -d "$CORPUS/clean" ]; then refuse non_hdf5_pe "$CORPUS/clean/t32.exe" "file signature not found"; fi
refuse missing_file "$T/nope.h5" "cannot open"

if [ ! -x "$MKH5" ]; then
  skip wrong_shapes "$MKH5 not built (make builds tests/tools)"
else
  mk() { local f=$T/$1.h5; shift; "$MKH5" "$f" "$@" || notok mkh5 "mkh5 $*"; echo "$f"; }
  mkk() { local f=$T/$1.h5 v=$2; shift 2; "$MKH5" --keras "$v" "$f" "$@" || notok mkh5 "mkh5 $*"; echo "$f"; }
  # a well-formed file of the seed's shape imports: the tool writes what the importer reads
  f=$(mk good 486x70 70x70 70x2)
  "$P" import-keras "$f" -o "$T/good" >/dev/null 2>"$T/e"; check synthetic_seed_shape_imports test $? -eq 0
  refuse wrong_input_width "$(mk s1 485x70 70x70 70x2)" "kernel is 485x70, but the first layer must take the 486"
  refuse wrong_chain "$(mk s2 486x70 60x70 70x2)" "kernel is 60x70, but dense_1 has 70 units"
  refuse wrong_bias "$(mk s3 486x70:69 70x70 70x2)" "bias has 69 values for 70 units"
  refuse wrong_classes "$(mk s4 486x70 70x70 70x3)" "3 outputs but 2 classes"
  refuse one_output "$(mk s5 486x70 70x1)" "output layer has 1 units"
  refuse wrong_activation "$(mk s6 486x70@tanh 70x70 70x2)" "activation 'tanh'; expected 'relu'"
  refuse wrong_output_activation "$(mk s7 486x70 70x2@sigmoid)" "activation 'sigmoid'; expected 'softmax'"
  refuse too_many_layers "$(mk s8 486x8 8x8 8x8 8x8 8x8 8x8 8x8 8x8 8x2)" "more than 8 Dense layers"
  refuse keras1 "$(mkk s9 1.2.2 486x70 70x2)" "only Keras 2"
  f=$T/s10.h5; "$MKH5" --no-config "$f" 486x70 70x2; refuse no_model_config "$f" "no model_config"
  # sizes come from the file: a 486-16-3 network with three named classes imports and predicts
  f=$(mk three 486x16 16x3)
  "$P" import-keras "$f" -o "$T/three" --classes "clean, grey, malicious" >/dev/null 2>"$T/e"
  check three_class_import_exit_0 test $? -eq 0
  if [ -d "$CORPUS/clean" ]; then
    "$P" predict --jsonl "$T/three" "$CORPUS/clean/t32.exe" >"$T/three.jsonl" 2>/dev/null
    check three_class_predict python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert len(r["probabilities"]) == 3 and abs(sum(r["probabilities"]) - 1) < 1e-6
assert r["verdict"] in ("clean", "grey", "malicious")' "$T/three.jsonl"
  fi
fi
# a relative file name: HDF5 makes it absolute (getcwd) inside the confined reader
( cd "$(dirname "$H5")" && "$P" import-keras "$(basename "$H5")" -o "$T/relative" ) >"$T/rel.out" 2>&1
check "import_by_relative_path ($(tail -1 "$T/rel.out" | cut -c1-80))" test -f "$T/relative/model.pfnn"
finish
