#!/usr/bin/env bash
# pefleet train and evaluate as users run them: the CSV path on a learnable
# synthetic data set (stats.json and history.json in the documented shape,
# repeatable with --seed), the Redis path through a real fleet's splits,
# evaluate --json, usage errors, and the GPU path (skipped without a GPU).
. "$(dirname "$0")/lib/common.sh"
P=$BIN/pefleet

# a data set a 486-70-70-2 network can learn: class-dependent means on a few
# features plus noise everywhere, labels by name
python3 "$ROOT/tests/integration/lib/synth_dataset.py" "$T/ds.csv" 1500

"$P" train --dataset "$T/ds.csv" -o "$T/m1" --epochs 20 --seed 7 >"$T/t1.out" 2>"$T/t1.err"; rc=$?
check train_csv_exit_0 test $rc -eq 0
check train_prints_epochs grep -q "^epoch   1/20  loss" "$T/t1.out"
check train_prints_test_figures grep -q "^test: 225 rows, accuracy" "$T/t1.out"
check train_says_device grep -q "device cpu" "$T/t1.err"
check model_folder_files test -s "$T/m1/model.pfnn" -a -s "$T/m1/stats.json" -a -s "$T/m1/history.json" -a -s "$T/m1/model.json"
python3 - "$T/m1" <<'PY' >"$T/shape.out" 2>&1
import json, sys
d = sys.argv[1]
s = json.load(open(d + "/stats.json"))
assert set(s) == {"train", "validation", "test", "split"}, s.keys()
assert s.pop("split") == {"kind": "random", "source": "csv", "test_since": None}  # how the splits were made
for k, v in s.items():
    for key in ("cm", "accuracy", "per_class", "roc_auc", "threshold", "fpr", "tpr_at_fpr"):
        assert key in v, (k, key)
    assert set(v["per_class"]) == {"clean", "malicious"}
    assert set(v["tpr_at_fpr"]) == {"0.01", "0.001"}
    (tn, fp), (fn, tp) = v["cm"]
    assert tn + fp + fn + tp == v["n"]
assert (s["train"]["n"], s["validation"]["n"], s["test"]["n"]) == (1050, 225, 225)
assert s["test"]["accuracy"] >= 0.95, s["test"]["accuracy"]
assert s["test"]["roc_auc"] >= 0.98, s["test"]["roc_auc"]
h = json.load(open(d + "/history.json"))
assert set(h) == {"loss", "acc", "val_loss", "val_acc", "seconds"}
assert len({len(v) for v in h.values()}) == 1 and 1 <= len(h["loss"]) <= 20
m = json.load(open(d + "/model.json"))
assert m["layers"] == [486, 70, 70, 2] and m["classes"] == ["clean", "malicious"]
print("test accuracy", s["test"]["accuracy"], "auc", s["test"]["roc_auc"], "epochs", len(h["loss"]))
PY
if [ $? -eq 0 ]; then ok "train_outputs_shape_and_quality ($(tail -1 "$T/shape.out"))"; else notok train_outputs_shape_and_quality "$(tail -3 "$T/shape.out" | tr '\n' ' ')"; fi

# --seed makes a run repeatable bit for bit
"$P" train --dataset "$T/ds.csv" -o "$T/m2" --epochs 20 --seed 7 -q >/dev/null 2>&1
check seed_repeatable_weights cmp -s "$T/m1/model.pfnn" "$T/m2/model.pfnn"
check seed_repeatable_history python3 -c '
import json,sys; a,b=(json.load(open(x)) for x in sys.argv[1:3])
assert all(a[k]==b[k] for k in ("loss","acc","val_loss","val_acc")), "histories differ"' "$T/m1/history.json" "$T/m2/history.json"
"$P" train --dataset "$T/ds.csv" -o "$T/m3" --epochs 3 --seed 8 -q >/dev/null 2>&1
check other_seed_differs bash -c "! cmp -s '$T/m1/model.pfnn' '$T/m3/model.pfnn'"

# evaluate: the same figures as a stats.json split
"$P" evaluate "$T/m1" --dataset "$T/ds.csv" --json >"$T/ev.json" 2>"$T/ev.err"
check evaluate_json_exit_0 test $? -eq 0
check evaluate_json_shape python3 -c '
import json,sys; v=json.load(open(sys.argv[1])); assert v["n"]==1500 and v["accuracy"]>=0.95 and "roc_auc" in v' "$T/ev.json"
"$P" evaluate "$T/m1" --dataset "$T/ds.csv" >"$T/ev.txt"
check evaluate_text grep -q "^evaluated: 1500 rows, accuracy" "$T/ev.txt"
"$P" evaluate "$T/nonexistent" --dataset "$T/ds.csv" >/dev/null 2>"$T/e"
check evaluate_missing_model_exit_1 test $? -eq 1

# bad rows are reported by line and skipped
cp "$T/ds.csv" "$T/bad.csv"; echo "clean,1,2,3" >>"$T/bad.csv"; echo "weird,$(head -1 "$T/ds.csv" | cut -d, -f2-)" >>"$T/bad.csv"
"$P" train --dataset "$T/bad.csv" -o "$T/m4" --epochs 1 -q >/dev/null 2>"$T/bad.err"
check bad_rows_reported bash -c "grep -q 'bad.csv:1501: 3 values, expected 486' '$T/bad.err' && grep -q \"bad.csv: 1 rows skipped: their label is not a class (clean, malicious): 'weird' 1 \" '$T/bad.err'"

# usage errors and the device switch
"$P" train --epochs 0 --dataset "$T/ds.csv" >/dev/null 2>&1; check bad_epochs_exit_2 test $? -eq 2
"$P" train --layers 70,x --dataset "$T/ds.csv" >/dev/null 2>&1; check bad_layers_exit_2 test $? -eq 2
"$P" train --device tpu --dataset "$T/ds.csv" >/dev/null 2>&1; check bad_device_exit_2 test $? -eq 2
"$P" train --help >/dev/null; check train_help_exit_0 test $? -eq 0
# --device gpu: trains on the GPU when one answers (GPU build), else exits 1
# saying why; the step-by-step parity with the CPU is tests/unit/test_train_gpu.c
"$P" train --device gpu --dataset "$T/ds.csv" -o "$T/mg" --epochs 20 --seed 7 >"$T/tg.out" 2>"$T/tg.err"; rc=$?
if grep -q "^pefleet train: device gpu (" "$T/tg.err"; then
  check gpu_train_exit_0 test $rc -eq 0
  check gpu_train_quality python3 -c '
import json,sys; s=json.load(open(sys.argv[1])); assert s["test"]["accuracy"]>=0.95, s["test"]["accuracy"]' "$T/mg/stats.json"
else
  check gpu_unavailable_exit_1 test $rc -eq 1
  check gpu_unavailable_says_why grep -q "^pefleet train: --device gpu: .*(use cpu)" "$T/tg.err"
  skip gpu_training_parity "no GPU ($(head -1 "$T/tg.err" | sed 's/^pefleet train: --device gpu: //'))"
fi

# other layer sizes train too
"$P" train --dataset "$T/ds.csv" -o "$T/m5" --layers 32 --epochs 2 -q >/dev/null 2>&1
check other_layer_sizes python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["layers"]==[486,32,2]' "$T/m5/model.json"

# the Redis path: a real fleet's splits
need_redis train_cli
fleet_ports
D=$T/fleet
fleet_cleanup_on_exit "$D"
if "$P" up --data "$D" --workers 1 --redis-port "$RP" --ingest-port "$IP" --worker-port "$WP" --scorers 0 >"$T/up.out" 2>&1 &&
   "$P" import-csv --data "$D" --label-map none "$T/ds.csv" >/dev/null 2>"$T/imp.err"; then
  fleet_auth "$D" # up made a Redis password
  "$P" train --data "$D" -o "$T/m6" --epochs 5 >"$T/t6.out" 2>"$T/t6.err"; rc=$?
  check train_redis_exit_0 test $rc -eq 0
  tr_n=$($RCLI SCARD pf:split:train); va_n=$($RCLI SCARD pf:split:validation); te_n=$($RCLI SCARD pf:split:test)
  check "train_redis_uses_the_splits ($tr_n/$va_n/$te_n)" grep -q "$tr_n train, $va_n validation, $te_n test rows" "$T/t6.err"
else
  notok train_redis "fleet or import failed: $(cat "$T/up.out" "$T/imp.err" | tail -3 | tr '\n' ' ')"
fi
finish
