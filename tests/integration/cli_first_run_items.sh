#!/usr/bin/env bash
# Issue 20, item by item: what a new user met on the way from the first
# command to the first verdict. Each check fails on the behaviour the issue
# describes and passes on the fixed one.
. "$(dirname "$0")/lib/common.sh"
need_corpus cli_first_run_items
P=$BIN/pefleet
W=$T/w
mkdir -p "$W"
cd "$W" || exit 1
"$P" encode -q --label clean -o clean.csv "$CORPUS/clean" 2>/dev/null
"$P" encode -q --label malicious -o mal.csv "$CORPUS/malicious-test" 2>/dev/null
cat clean.csv mal.csv >ok.csv
SEED_H5=$SHARED/seed/ergo-pe-av/model.h5

# ---- 1. work lost to a missing folder: -o is checked before the work ----
"$P" train --dataset ok.csv -o models/m1 --epochs 3 -q >t1.out 2>t1.err; rc=$?
check "p1_train_makes_missing_parents (rc $rc)" test $rc -eq 0 -a -s models/m1/model.pfnn
"$P" train --dataset ok.csv -o models/m1 --epochs 3 >t2.out 2>t2.err; rc=$?
check "p1_train_refuses_existing_model_before_training (rc $rc)" \
  bash -c "[ $rc -eq 1 ] && grep -q 'models/m1 already holds a model.*--force replaces it' t2.err && ! grep -q '^epoch' t2.out"
cp models/m1/model.pfnn m1.before
"$P" train --dataset ok.csv -o models/m1 --epochs 2 --seed 3 --force -q >/dev/null 2>&1
check p1_train_force_replaces test $? -eq 0
check p1_train_force_replaced_weights bash -c "! cmp -s models/m1/model.pfnn m1.before"
if [ -f "$SEED_H5" ]; then
  "$P" import-keras "$SEED_H5" -o deep/er/seed >ik.out 2>ik.err; rc=$?
  check "p1_import_keras_makes_missing_parents (rc $rc)" test $rc -eq 0 -a -s deep/er/seed/model.pfnn
else
  skip p1_import_keras_makes_missing_parents "no seed model.h5"
fi
"$P" report models/m1 -o out/reports/m1.html >/dev/null 2>&1
check p1_report_makes_missing_parents test -s out/reports/m1.html
"$P" report models/m1 -o out/reports/m1.html >/dev/null 2>rep2.err; rc=$?
check "p5_report_refuses_existing_without_force (rc $rc)" bash -c "[ $rc -eq 1 ] && grep -q 'exists; --force replaces it' rep2.err"
"$P" report models/m1 -o out/reports/m1.html --force >/dev/null 2>&1
check p5_report_force_replaces test $? -eq 0

# ---- 5. report --compare on different test splits; no nan in a legend ----
"$P" train --dataset ok.csv -o models/s9 --epochs 2 --seed 9 -q >/dev/null 2>&1
"$P" report models/m1 --compare models/s9 -o cmp.html >/dev/null 2>cmp.err
check p5_compare_warns_on_stderr grep -q "warning: the two models' test splits differ" cmp.err
check p5_compare_warns_on_the_page grep -q "Not comparable as drawn" cmp.html
"$P" report models/m1 --compare models/s9 --dataset ok.csv -o cmp2.html >/dev/null 2>cmp2.err
check p5_compare_dataset_same_rows bash -c "! grep -q 'differ' cmp2.err && ! grep -q 'Not comparable' cmp2.html && grep -q 'rows of ok.csv' cmp2.html"
check p5_no_nan_in_legends bash -c "! grep -qi 'threshold nan' cmp.html out/reports/m1.html cmp2.html"

# ---- 2. labels silently wrong ----
"$P" encode -q -o auto.csv "$CORPUS/clean" "$CORPUS/malicious-test" 2>enc.err
check "p2_encode_warns_once_about_folder_names ($(grep -c warning enc.err))" \
  bash -c "[ \$(grep -c 'warning' enc.err) -eq 1 ] && grep -q \"17 rows are labelled by a folder name that is not a class (clean, malicious): 'malicious-test' 17\" enc.err"
"$P" train --dataset auto.csv -o models/bad --epochs 2 -q >tb.out 2>tb.err; rc=$?
check "p2_train_one_class_exit_1 (rc $rc)" test $rc -eq 1
check p2_train_wrote_no_model test ! -e models/bad/model.pfnn
check "p2_train_unknown_labels_one_line ($(grep -c 'malicious-test' tb.err) lines)" \
  bash -c "[ \$(grep -c 'malicious-test' tb.err) -eq 1 ] && grep -q \"17 rows skipped: their label is not a class (clean, malicious): 'malicious-test' 17 .*--label-map malicious-test=malicious\" tb.err"
check p2_train_says_class_missing grep -q "no 'malicious' row in auto.csv" tb.err
"$P" train --dataset auto.csv -o models/mapped --epochs 2 -q --label-map malicious-test=malicious >/dev/null 2>tm.err
check p2_train_label_map_works test $? -eq 0 -a -s models/mapped/model.pfnn
"$P" evaluate models/m1 --dataset auto.csv >ev.out 2>ev.err; rc=$?
check "p2_evaluate_one_class_exit_1 (rc $rc)" bash -c "[ $rc -eq 1 ] && grep -q \"no 'malicious' row\" ev.err"
"$P" evaluate models/m1 --dataset auto.csv --label-map malicious-test=malicious >/dev/null 2>&1
check p2_evaluate_label_map_works test $? -eq 0
mkdir -p bare && cp models/m1/model.pfnn bare/
"$P" report bare --dataset auto.csv -o bare.html >/dev/null 2>rb.err; rc=$?
check "p2_report_dataset_one_class_exit_1 (rc $rc)" test $rc -eq 1 -a ! -e bare.html
"$P" train --dataset ok.csv -o models/x --label-map malicious-test=nosuch >/dev/null 2>lm.err
rc=$?
check "p2_label_map_unknown_class_exit_2 (rc $rc)" bash -c "[ $rc -eq 2 ] && grep -q \"'nosuch' is not a class\" lm.err"

# ---- 3. promises the output does not keep ----
"$P" evaluate models/m1 --dataset ok.csv >ev2.out 2>&1
check p3_evaluate_prints_confusion_matrix bash -c "grep -q '^confusion matrix at threshold 0.5' ev2.out && grep -Eq '^  clean +[0-9]+ +[0-9]+$' ev2.out && grep -Eq '^  malicious +[0-9]+ +[0-9]+$' ev2.out"
check p3_evaluate_prints_per_class bash -c "grep -Eq '^  class +precision +recall +f1 +support' ev2.out && grep -Eq '^  malicious +[0-9.]+ +[0-9.]+ +[0-9.]+ +17$' ev2.out"
check p3_evaluate_help_matches grep -q "confusion matrix" <("$P" evaluate --help)
"$P" relevance models/m1 >/dev/null 2>&1
names=$(grep -o '`import([^`]*)`\|`byte([^`]*)`' "$ROOT/README.md" | tr -d '`' | sort -u)
bad_names=""
for n in $names; do grep -qF "\"$n\"" models/m1/relevance.json || bad_names="$bad_names $n"; done
check "p3_readme_feature_names_are_real (${bad_names:-all found})" test -z "$bad_names"
sp=$(grep -o 'pefleet serve --data /srv/pefleet --port [0-9]*' "$ROOT/README.md" | awk '{print $NF}')
up=$(grep -o 'pefleet up --workers 4 --scorers 2 --port [0-9]*' "$ROOT/README.md" | awk '{print $NF}')
check "p3_readme_serve_and_up_ports_differ (serve $sp, up $up)" test -n "$sp" -a -n "$up" -a "$sp" != "$up"

# ---- 4. noise, usage errors and confusing words ----
"$P" train --dataset ok.csv -o models/q --epochs 2 -q >q.out 2>q.err
check "p4_train_quiet_is_quiet ($(wc -l <q.err) stderr lines)" bash -c "! grep -q 'device' q.err && [ ! -s q.err ]"
bad=""
for c in encode up down status ingest train evaluate export import-csv import-keras predict scan serve promote \
         models rollback retrain requeue feed keygen similar report explain-baseline relevance; do
  "$P" $c --foo >u.out 2>u.err; rc=$?
  [ $rc -eq 2 ] && [ "$(wc -l <u.err)" -eq 1 ] && grep -qx "pefleet $c: unknown option '\{0,1\}--foo'\{0,1\} (see pefleet $c --help)" u.err ||
    bad="$bad $c(rc $rc: $(head -1 u.err))"
done
check "p4_unknown_option_one_line_exit_2 (${bad:-every command})" test -z "$bad"
"$P" train --dataset >u.out 2>u.err
check p4_missing_value_one_line bash -c "[ \$(wc -l <u.err) -eq 1 ] && grep -q 'option --dataset needs a value (see pefleet train --help)' u.err"
"$P" serve --help >sh.out 2>&1
check p4_serve_help_says_serve bash -c "grep -q '^usage: pefleet serve ' sh.out && ! grep -q 'pefleet-gateway \[' sh.out"
"$P" predict "$CORPUS/clean/t32.exe" >/dev/null 2>pr.err; rc=$?
check "p4_predict_without_model_says_so (rc $rc)" bash -c "[ $rc -eq 2 ] && grep -q 'no MODEL_DIR given: .*t32.exe is not a model folder' pr.err && [ \$(wc -l <pr.err) -eq 1 ]"
"$P" scan "$CORPUS/clean" >/dev/null 2>sc.err; rc=$?
check "p4_scan_folder_alone_names_scan (rc $rc)" bash -c "[ $rc -eq 2 ] && grep -q '^pefleet scan: no MODEL_DIR given' sc.err && grep -q -- '--server' sc.err && ! grep -q 'usage: pefleet predict' sc.err"
"$P" keygen -o keys k1 >/dev/null 2>&1
"$P" keygen -o keys k1 >/dev/null 2>kg.err; rc=$?
check "p4_keygen_over_existing_key_exit_1 (rc $rc)" bash -c "[ $rc -eq 1 ] && grep -q 'exists; --force replaces it' kg.err"
"$P" down --data "$T/nofleet" >dn.out 2>&1; rc=$?
check "p4_down_nothing_running_exit_0 (rc $rc)" bash -c "[ $rc -eq 0 ] && grep -q 'nothing running' dn.out"
read -r DEADP < <(free_ports 1)
"$P" scan --server "tcp://127.0.0.1:$DEADP" --timeout 3 "$CORPUS/clean/t32.exe" >/dev/null 2>ss.err
check "p4_scan_server_timeout_honest ($(head -1 ss.err | cut -c1-120))" bash -c "! grep -q 'within 60 s' ss.err && grep -q 'no connection to the service within 2000 ms' ss.err"

# ---- the fleet's items: status, down --config, serve's port, similar prefixes, scorer_ms, 404 ----
need_redis cli_first_run_items
fleet_ports
read -r SP SCP SIMP HP HP2 < <(free_ports 5)
D=$T/fleet
"$P" status --data "$D" >st0.out 2>&1
check p4_status_without_fleet_says_so_once bash -c "[ \$(grep -c unreachable st0.out) -le 1 ] || grep -q 'no fleet' st0.out"
fleet_cleanup_on_exit "$D"
mkdir -p allowed && cp "$CORPUS/clean/t32.exe" allowed/ && ln -s "$W/allowed" linked
if [ -s "deep/er/seed/model.pfnn" ] && pool_up "$D" deep/er/seed; then
  fleet_auth "$D"
  redis-cli -p "$RP" --no-auth-warning CONFIG SET save "" >/dev/null 2>&1
  "$P" status --data "$D" --interval 0 >st1.out 2>&1
  check p4_status_with_fleet_exit_0 test $? -eq 0
  # status with Redis down: one "unreachable", not two
  "$P" ingest --data "$D" --label clean --wait "$CORPUS/clean" >ing.out 2>&1
  "$P" ingest --data "$D" --label malicious --wait "$CORPUS/clean/t32.exe" >ing2.out 2>&1
  # a known file under another label: a conflict, said on its own line and in the totals
  check "p4_ingest_says_label_conflict ($(grep -m1 t32 ing2.out | cut -c67-))" \
    grep -q "duplicate, label conflict: stored as 'clean', not 'malicious'" ing2.out
  check p4_ingest_totals_count_conflicts grep -q '1 duplicates (1 label conflict)' ing2.out
  sha=$(sha256sum "$CORPUS/clean/t32.exe" | cut -c1-12)
  "$P" similar "$sha" --data "$D" --top 3 >sim.out 2>sim.err; rc=$?
  check "p4_similar_accepts_12_digit_prefix (rc $rc)" bash -c "[ $rc -eq 0 ] && grep -q \"$(sha256sum "$CORPUS/clean/t32.exe" | cut -c1-8)\" sim.out"
  "$P" similar 000000000000 --data "$D" >/dev/null 2>sim2.err
  check p4_similar_unknown_prefix_says_so grep -q 'no stored sample' sim2.err
  # serve: the port in effect is the one printed
  "$P" serve --data "$D" --port "$HP2" --allow-path "$W/linked" >serve.log 2>&1 &
  SVP=$!
  if wait_http "http://127.0.0.1:$HP2/healthz"; then
    check "p4_serve_prints_the_port_in_effect" bash -c "grep -q 'http_port = $HP2' serve.log && ! grep -q 'http_port = 8080' serve.log"
    code=$(curl -s -o nf.json -w '%{http_code}' --data-urlencode "x=$W/linked/missing.exe" "http://127.0.0.1:$HP2/v1/scan")
    check "p3_missing_file_in_allowed_folder_404 ($code $(cat nf.json))" test "$code" = 404
    for k in 1 2 3; do
      curl -s --data-binary @"$CORPUS/clean/t32.exe" -H 'Content-Type: application/octet-stream' \
        "http://127.0.0.1:$HP2/v1/scan" >scan$k.json
    done
    # whole milliseconds before: three scans that all land on an integer would be a 1-in-10^9 chance now
    check "p3_scorer_ms_precision ($(grep -ho '"scorer_ms":[^,}]*' scan?.json | tr '\n' ' '))" python3 -c '
import json,sys; v=[json.load(open(f))["scorer_ms"] for f in sys.argv[1:]]
assert any(x != round(x) for x in v), v' scan1.json scan2.json scan3.json
  else
    notok serve_started "$(tail -3 serve.log)"
  fi
  kill "$SVP" 2>/dev/null; wait "$SVP" 2>/dev/null
  "$P" down --config "$D/pefleet.conf" >dc.out 2>&1; rc=$?
  check "p3_down_takes_config (rc $rc)" bash -c "[ $rc -eq 0 ] && grep -q 'stopped' dc.out"
  "$P" down --config "$D/pefleet.conf" >dc2.out 2>&1; rc=$?
  check "p4_down_again_nothing_running (rc $rc)" bash -c "[ $rc -eq 0 ] && grep -q 'nothing running' dc2.out"
  "$P" status --data "$D" --interval 0 >st2.out 2>&1
  check "p4_status_unreachable_said_once ($(grep -o 'unreachable' st2.out | wc -l))" test "$(grep -o 'unreachable' st2.out | wc -l)" -eq 1
else
  skip fleet_items "no seed model (import-keras) or the pool did not start"
fi
finish
