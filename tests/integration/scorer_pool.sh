#!/usr/bin/env bash
# The scorer pool as `pefleet up` runs it: redis, score router, two scorers,
# the seed's model (import-keras) promoted with `up --model`. Checks, through
# real ZeroMQ requests (build/tools/zscore, which uses lib/pf_rpc):
# uploads of every corpus file score as the seed's own scores (1e-6);
# vectors and stored sha256s score the same; each bad input (wrong length,
# NaN, not a PE, unknown sha256) gets its clear error; a scorer SIGKILLed
# under a stream of requests loses none (the router hands its requests to
# the other) and the uploads it was holding are removed from $TMPDIR by its
# replacement; and a hot reload (pefleet promote) under a steady stream of
# requests fails none and switches every scorer to the new version.
. "$(dirname "$0")/lib/common.sh"
NAME=scorer_pool
need_corpus "$NAME"
need_redis "$NAME"
P=$BIN/pefleet
Z=${BUILD:-$ROOT/build}/tools/zscore
H5=$SHARED/seed/ergo-pe-av/model.h5
TSV=$CORPUS/expected-seed-model-scores.tsv
[ -x "$Z" ] || { notok "$NAME" "$Z not built"; finish; }
[ -f "$H5" ] || { skip "$NAME" "$H5 not found"; exit 0; }
fleet_ports
read -r SP SCP SIMP HP < <(free_ports 4)
D=$T/fleet
fleet_cleanup_on_exit "$D"
EP=tcp://127.0.0.1:$SP

"$P" import-keras "$H5" -o "$T/m1" --version seed-a >/dev/null 2>&1 &&
  "$P" import-keras "$H5" -o "$T/m2" --version seed-b --threshold 0.9 >/dev/null 2>&1 ||
  { notok import "import-keras failed"; finish; }

mkdir -p "$T/tmp"  # the scorers' uploads go to $TMPDIR
if ! TMPDIR=$T/tmp "$P" up --data "$D" --workers 1 --scorers 2 --model "$T/m1" --redis-port "$RP" --ingest-port "$IP" \
     --worker-port "$WP" --score-port "$SP" --scorer-port "$SCP" --similar-port "$SIMP" --port "$HP" \
     >"$T/up.out" 2>&1; then
  notok up "$(tail -3 "$T/up.out")"; finish
fi
fleet_auth "$D" # up made a Redis password
check up_says_model grep -q "model seed-a" "$T/up.out"
"$P" status --json --data "$D" >"$T/st.json" 2>/dev/null
check status_lists_scorers python3 -c '
import json,sys
j=json.load(open(sys.argv[1]))
roles=[d["role"] for d in j["daemons"] if d["alive"]]
assert roles.count("scorer")==2 and roles.count("score-router")==1, roles' "$T/st.json"

# wait for both scorers to be ready (the router logs each)
for _ in $(seq 100); do
  [ "$(grep -c 'ready, capacity' "$D/logs/score-router.log" 2>/dev/null)" -ge 2 ] && break; sleep 0.1
done

# --- every corpus file, uploaded, scores as the seed did ----------------------
FILES=()
while IFS=$'\t' read -r path _ _; do [ "$path" = path ] || FILES+=("$CORPUS/$path"); done <"$TSV"
"$Z" "$EP" --file "${FILES[@]}" -n ${#FILES[@]} --print >"$T/up.jsonl" 2>"$T/z.err"
check upload_all_ok test $? -eq 0
if python3 - "$T/up.jsonl" "$TSV" "$CORPUS" <<'PY'
import json, sys, hashlib
rows = [json.loads(l) for l in open(sys.argv[1])]
exp = {}
for line in open(sys.argv[2]).read().splitlines()[1:]:
    path, p0, p1 = line.split("\t")
    sha = hashlib.sha256(open(sys.argv[3] + "/" + path, "rb").read()).hexdigest()
    exp[sha] = (float(p0), float(p1))
assert len(rows) == len(exp), (len(rows), len(exp))
worst = 0
for r in rows:
    assert r["status"] == 1 and r["model_version"] == "seed-a", r
    e = exp[r["sha256"]]
    worst = max(worst, abs(r["p"][0] - e[0]), abs(r["p"][1] - e[1]))
    want = "malicious" if r["p"][1] >= 0.5 else "clean"
    assert r["verdict"] == want, r
assert worst <= 1e-6, worst
print("largest difference %.2g" % worst)
PY
then ok "upload_scores_match_seed ($(python3 -c 'print(1)' >/dev/null; echo "${#FILES[@]} files"))"
else notok upload_scores_match_seed "scores differ from $TSV"; fi

# --- vectors and stored samples -------------------------------------------------
"$P" encode -q -o "$T/corpus.csv" "$CORPUS/clean" "$CORPUS/malicious-test" 2>/dev/null
"$Z" "$EP" --csv "$T/corpus.csv" -n 51 --print >"$T/vec.jsonl" 2>"$T/z.err"
check vectors_all_ok test $? -eq 0
check vectors_have_probabilities python3 -c '
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
assert len(rows)==51 and all(r["status"]==1 and abs(sum(r["p"])-1)<1e-5 for r in rows)' "$T/vec.jsonl"
"$P" ingest --data "$D" --label clean --wait "$CORPUS/clean" >/dev/null 2>&1
SHA1=$(sha256sum "${FILES[0]}" | cut -d' ' -f1)
"$P" ingest --data "$D" --label malicious --wait "${FILES[0]}" >/dev/null 2>&1
"$Z" "$EP" --sha "$SHA1" --print >"$T/sha.jsonl" 2>"$T/z.err"
check sha_lookup_ok test $? -eq 0
check sha_lookup_matches_upload python3 -c '
import json,sys
a=json.loads(open(sys.argv[1]).readline()); b=[json.loads(l) for l in open(sys.argv[2])]
m=[r for r in b if r["sha256"]==a["sha256"]][0]
assert max(abs(x-y) for x,y in zip(a["p"],m["p"]))<1e-6, (a,m)' "$T/sha.jsonl" "$T/up.jsonl"

# --- bad inputs: a clear error each, and the pool keeps answering --------------
cut -d, -f1-11 "$T/corpus.csv" | head -1 >"$T/short.csv"
"$Z" "$EP" --csv "$T/short.csv" --print >"$T/bad1" 2>&1
check bad_length_refused grep -q '"status":4,.*has 10 values' "$T/bad1"
head -1 "$T/corpus.csv" | sed 's/,[^,]*/,nan/3' >"$T/nan.csv"
"$Z" "$EP" --csv "$T/nan.csv" --print >"$T/bad2" 2>&1
check nan_refused grep -q '"status":4,.*not a finite number' "$T/bad2"
printf 'just text, not a PE\n' >"$T/text.exe"
"$Z" "$EP" --file "$T/text.exe" --print >"$T/bad3" 2>&1
check not_pe_refused grep -q '"status":2' "$T/bad3"
"$Z" "$EP" --sha 0000000000000000000000000000000000000000000000000000000000000000 --print >"$T/bad4" 2>&1
check unknown_sha_refused grep -q '"status":5,.*unknown sha256' "$T/bad4"
"$Z" "$EP" --sha nothex --print >"$T/bad5" 2>&1
check malformed_sha_refused grep -q '"status":5' "$T/bad5"
"$Z" "$EP" --csv "$T/corpus.csv" -n 20 >/dev/null 2>&1
check pool_answers_after_bad_input test $? -eq 0

# --- a scorer killed under load loses no request --------------------------------
"$Z" "$EP" --file "${FILES[@]}" -s 6 -t 4 >"$T/kill.out" 2>"$T/kill.err" &
ZP=$!
sleep 2
VICTIM=$(python3 -c '
import json,sys
j=json.load(open(sys.argv[1]))
print([d["pid"] for d in j["daemons"] if d["role"]=="scorer" and d["alive"]][0])' "$T/st.json")
# frozen first (well under the liveness period), so it surely dies holding
# requests the router handed it
kill -STOP "$VICTIM"
sleep 0.5
kill -9 "$VICTIM"
wait $ZP; rc=$?
check "scorer_killed_no_request_lost ($(sed 's/^zscore: //' "$T/kill.err"))" test $rc -eq 0
check router_logged_redelivery grep -q "stopped answering heartbeats\|is unreachable" "$D/logs/score-router.log"
moved=$(sed -n "s/.*(pid $VICTIM) .*; \([0-9]*\) request(s) go to another scorer.*/\1/p" "$D/logs/score-router.log" | head -1)
check "router_handed_the_dead_scorers_requests_to_another (${moved:-no line for pid $VICTIM})" test "${moved:-0}" -gt 0

# --- hot reload under a steady stream --------------------------------------------
for _ in $(seq 100); do  # the killed scorer is back (supervision) and ready again
  [ "$(grep -c 'ready, capacity' "$D/logs/score-router.log")" -ge 3 ] && break; sleep 0.1
done
check killed_scorer_uploads_removed test -z "$(ls "$T/tmp" | grep "^pefleet-scorer-$VICTIM-" || true)"
"$Z" "$EP" --csv "$T/corpus.csv" -s 6 -t 2 >"$T/reload.out" 2>"$T/reload.err" &
ZP=$!
sleep 2
"$P" promote "$T/m2" --data "$D" >"$T/promote.out" 2>&1
check promote_exit_0 test $? -eq 0
wait $ZP; rc=$?
check "hot_reload_no_failed_request ($(sed 's/^zscore: //' "$T/reload.err"))" test $rc -eq 0
check hot_reload_both_versions_served grep -q "model seed-a: [0-9]*; model seed-b: [0-9]*" "$T/reload.err"
"$Z" "$EP" --csv "$T/corpus.csv" -n 40 -t 4 >/dev/null 2>"$T/after.err"
check every_scorer_switched grep -q "40 ok.*model seed-b: 40$" "$T/after.err"
for f in "$D"/logs/scorer-*.log; do
  grep -q "model seed-b now serves" "$f" || { notok scorer_logs_switch "$f has no switch"; }
done

# --- Redis SIGKILLed (the supervisor restarts it) under a stream of vector
# requests: the scorers keep their model, so none fails; once Redis is back
# they hear the next promotion again.
"$Z" "$EP" --csv "$T/corpus.csv" -s 5 -t 2 >/dev/null 2>"$T/redis.err" &
ZP=$!
sleep 1
"$P" status --json --interval 0 --data "$D" >"$T/st2.json" 2>/dev/null
RPID=$(python3 -c '
import json,sys
print([d["pid"] for d in json.load(open(sys.argv[1]))["daemons"] if d["role"]=="redis"][0])' "$T/st2.json")
kill -9 "$RPID"
wait $ZP; rc=$?
check "redis_killed_vectors_still_scored ($(sed 's/^zscore: //' "$T/redis.err"))" test $rc -eq 0
for _ in $(seq 100); do $RCLI ping >/dev/null 2>&1 && break; sleep 0.1; done
check redis_was_restarted grep -q "redis (pid $RPID) killed by signal 9" "$D/logs/supervisor.log"
"$P" promote seed-a --data "$D" >/dev/null 2>&1
check promote_after_redis_restart test $? -eq 0
sw=0
for _ in $(seq 50); do
  "$Z" "$EP" --csv "$T/corpus.csv" -n 20 -t 4 >/dev/null 2>"$T/back.err"
  grep -q "20 ok.*model seed-a: 20$" "$T/back.err" && { sw=1; break; }
  sleep 0.2
done
check scorers_follow_promotion_after_redis_restart test $sw -eq 1
finish
