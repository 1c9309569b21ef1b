#!/usr/bin/env bash
# The fleet under fire, with real crashes that hit work in flight.
# `pefleet up` with a real redis-server (AOF, appendfsync always), broker
# and two encoder workers on free ports. Three rounds, each with more than
# a thousand new distinct samples (corpus files and mutated copies made
# here: overlays that keep them PE files, header bit flips and text files
# that fail): each round ingests three waves, and before each kill waits on
# `pefleet status` until at least 20 samples are queued or in flight, then
# SIGKILLs an encoder worker, the broker or redis-server (the order differs
# per round) and asserts the kill hit in-flight work:
#   worker: the broker says it redelivers N > 0 of its jobs, and requeues them;
#   broker: the new broker's "resumed from redis: N in-flight job(s)" has N > 0;
#   redis:  jobs were in pf:inflight when it died, the broker saw the outage,
#           and after the restart (AOF) no sample is lost from the queue.
# With no restart of the fleet, after each round every sample ingest
# reported is done or failed, exactly one of the two; every vector equals a
# direct `pefleet encode` (float32) and every failure reason is exactly the
# one a direct encode gives. Then: a second `up` on ports the first fleet
# uses is refused naming the port, starts nothing and leaves the first
# fleet untouched; a daemon of another fleet is refused by the Redis check.
. "$(dirname "$0")/lib/common.sh"
need_corpus fleet_chaos
need_redis fleet_chaos
P=$BIN/pefleet
D=$T/fleet
fleet_ports
fleet_cleanup_on_exit "$D"
ROUNDS=${CHAOS_ROUNDS:-3}
WAVE=${CHAOS_WAVE:-350} # samples per wave; three waves a round

# --- start the fleet (liveness 5 heartbeats: workers held with SIGSTOP stay well
# inside it on a loaded machine) ---------------------------------------------------
PEFLEET_LIVENESS=5 fleet_start "$D" --workers 2 --max-attempts 20
check "redis_appendfsync_always ($($RCLI CONFIG GET appendfsync | tail -1))" \
  test "$($RCLI CONFIG GET appendfsync | tail -1)" = always
fid=$(sed -n 's/^fleet_id = //p' "$D/pefleet.conf")
check "fleet_id_in_folder_and_redis ($fid)" test -n "$fid" -a "$($RCLI GET pf:fleet)" = "$fid"
"$P" status --json --data "$D" >"$T/st.json"
check status_json_lists_daemons python3 -c '
import json,sys; s=json.load(open(sys.argv[1]))
roles=[d["role"] for d in s["daemons"] if d["alive"]]
assert roles.count("encoder-worker")==2 and "broker" in roles and "redis" in roles, roles
for k in ("queued","in_flight","done","failed"): assert k in s' "$T/st.json"

role_pid() { awk -v r="$1" '$1==r && $3>0 {print $3}' "$D/fleet.state"; }
pids_now() { awk '$1=="supervisor" {print "s",$2} $1!="supervisor" {print $1"-"$2,$3}' "$D/fleet.state" | sort; }
loglines() { wc -l <"$D/logs/$1.log"; }
since() { tail -n +"$(($2 + 1))" "$D/logs/$1.log"; } # since LOG LINES: what LOG got after LINES lines

# wait_work: until status shows >= 20 samples queued or in flight (30 s at most)
wait_work() { fleet_until "$D" 30 's["queued"] + s["in_flight"] >= 20'; }
# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
  local n=$(($1 * 10)); shift
  for _ in $(seq 1 $n); do "$@" && return 0; sleep 0.1; done
  return 1
}
redis_back() { [ "$(role_pid redis)" != "$1" ] && $RCLI PING 2>/dev/null | grep -q PONG; } # redis_back OLD_PID

# kill_worker / kill_broker / kill_redis: each runs while the workers are
# held (SIGSTOP) with the jobs the broker handed them, SIGKILLs, lets the
# workers go on, checks the kill hit work in flight, and waits until the
# fleet has recovered (the next wave then finds it whole).
logged() { since broker "$1" | grep -q "$2"; } # logged LINES PATTERN: the broker logged it since
readies() { [ "$(since broker "$1" | grep -c "ready, capacity")" -ge "$2" ]; } # readies LINES N
kill_worker() {
  local pid other b0; pid=$(echo $held | tr ' ' '\n' | shuf -n 1); other=$(echo $held | tr ' ' '\n' | grep -vx "$pid")
  b0=$(loglines broker)
  kill -9 "$pid"
  kill -CONT $other
  if wait_for 20 logged "$b0" "(pid $pid) .*; redelivering"; then
    local line n re; line=$(since broker "$b0" | grep -m1 "(pid $pid) .*; redelivering")
    n=$(echo "$line" | sed -n 's/.*redelivering \([0-9]*\) job.*/\1/p')
    re=$(since broker "$b0" | grep -c "requeued after worker")
    check "r${r}_worker_kill_hit_work (pid $pid: $n job(s) redelivered, $re requeued)" test "${n:-0}" -gt 0 -a "$re" -gt 0
  else
    notok "r${r}_worker_kill_hit_work" "the broker never said it redelivered the jobs of worker $pid"
  fi
  wait_for 20 readies "$b0" 1 || notok "r${r}_worker_restarted" "no new worker announced itself"
}
kill_broker() {
  local pid b0; pid=$(role_pid broker); b0=$(loglines broker)
  kill -9 "$pid"
  if wait_for 20 logged "$b0" "resumed from redis"; then
    local n; n=$(since broker "$b0" | sed -n 's/.*resumed from redis: \([0-9]*\) in-flight.*/\1/p' | head -1)
    check "r${r}_broker_kill_hit_work (pid $pid: resumed $n in-flight job(s))" test "${n:-0}" -gt 0
  else
    notok "r${r}_broker_kill_hit_work" "no new broker resumed from redis after killing $pid"
  fi
  kill -CONT $held
  wait_for 30 readies "$b0" 2 || notok "r${r}_workers_back_with_new_broker" "they did not announce themselves"
}
kill_redis() {
  local pid inflight; pid=$(role_pid redis)
  inflight=$($RCLI ZCARD pf:inflight)
  kill -9 "$pid"
  kill -CONT $held
  if wait_for 30 redis_back "$pid"; then
    local q f d s
    read -r q f d s < <($RCLI EVAL "return {redis.call('LLEN','pf:queue')+redis.call('ZCARD','pf:inflight'),
      redis.call('SCARD','pf:failed'), redis.call('SCARD','pf:done'), redis.call('SCARD','pf:samples')}" 0 | tr '\n' ' ')
    check "r${r}_redis_kill_hit_work ($inflight in flight when it died; after: $q queued or in flight, $d done, $f failed of $s)" \
      test "$inflight" -gt 0 -a $((q + d + f)) -ge "$s"
  else
    notok "r${r}_redis_kill_hit_work" "the supervisor did not bring redis back"
  fi
}

orders=("worker broker redis" "redis worker broker" "broker redis worker")
for r in $(seq 1 "$ROUNDS"); do
  order=${orders[$(((r - 1) % 3))]}
  S=$T/r$r
  mkdir -p "$S"
  w=0
  for k in $order; do
    w=$((w + 1))
    mutated_samples "$S/w$w" "r${r}w$w" $([ "$r$w" = 11 ] && echo 1 || echo 0) "$WAVE"
    # the workers wait (SIGSTOP, well under the liveness period) while the
    # wave is queued, so the kill finds work however fast this machine encodes
    held=$(role_pid encoder-worker | tr '\n' ' ')
    kill -STOP $held
    "$P" ingest --data "$D" --label mixed --retry-for 120 "$S/w$w" >"$S/ingest$w.out" 2>"$S/ingest$w.err" &
    eval "ING$w=$!"
    if wait_work; then kill_$k
    else kill -CONT $held; notok "r${r}_work_in_flight_before_${k}_kill" "status never showed 20 queued"; fi
  done
  for w in 1 2 3; do
    eval "wait \$ING$w"; irc=$?
    check "r${r}_ingest${w}_acknowledged_everything (exit $irc)" test $irc -eq 0
    check "r${r}_ingest${w}_one_line_per_file" test "$(wc -l <"$S/ingest$w.out")" -eq "$(ls "$S/w$w" | wc -l)"
  done
  # drain, with no restart of the fleet
  check "r${r}_queue_drained (order: $order)" fleet_drained "$D"
  echo "  round $r status after drain: $(cat "$T/st.json" | cut -c1-200)"

  # every sample ingest reported is settled exactly once, as a direct encode says
  "$P" export --data "$D" --jsonl >"$T/export.jsonl" 2>/dev/null
  "$P" encode -q --jsonl "$S"/w1 "$S"/w2 "$S"/w3 >"$T/direct.jsonl" 2>/dev/null
  cat "$S"/ingest?.out >"$T/reported"
  python3 - "$T/export.jsonl" "$T/direct.jsonl" "$T/reported" "$RP" <<'PY' >"$T/cmp.out" 2>&1
import json, struct, subprocess, sys
f32 = lambda x: struct.unpack("f", struct.pack("f", x))[0]
direct = {}
for l in open(sys.argv[2]):
    o = json.loads(l)
    direct.setdefault(o["sha256"], o)
exported = {json.loads(l)["sha256"]: json.loads(l) for l in open(sys.argv[1])}
reported = {}
for l in open(sys.argv[3]):
    sha, st = l.split()[:2]
    reported[sha] = st
shas = sorted(reported)
rcli = lambda cmds: subprocess.run(["redis-cli", "-p", sys.argv[4]], input="".join(cmds), capture_output=True, text=True).stdout.split("\n")
out = rcli(["HGET pf:s:%s status\nSISMEMBER pf:done %s\nSISMEMBER pf:failed %s\nHGET pf:s:%s reason\n" % (s, s, s, s) for s in shas])
bad = 0
for i, sha in enumerate(shas):
    status, in_done, in_failed, reason = out[4 * i:4 * i + 4]
    o = direct.get(sha)
    if o is None:
        print("reported but not among the files:", sha); bad += 1; continue
    if (in_done, in_failed) not in (("1", "0"), ("0", "1")):
        print("not settled exactly once:", sha, status, in_done, in_failed, o["path"]); bad += 1; continue
    if o["ok"]:
        e = exported.get(sha)
        if status != "done" or e is None:
            print("should be done:", sha, status, repr(reason), o["path"]); bad += 1; continue
        if [f32(x) for x in o["vector"]] != e["vector"]:
            print("vector differs for", sha, o["path"]); bad += 1
        if e["label"] != "mixed":
            print("label", e["label"], sha); bad += 1
    elif status != "failed" or reason != o["error"]:
        print("should fail with %r, is %s with %r: %s" % (o["error"], status, reason, o["path"])); bad += 1
if len(reported) != len(direct):
    print("files:", len(direct), "reported by ingest:", len(reported)); bad += 1
nfail = sum(1 for o in direct.values() if not o["ok"])
print("checked", len(shas), "samples (%d failing, reasons exact)," % nfail, bad, "problems")
sys.exit(1 if bad else 0)
PY
  if [ $? -eq 0 ]; then ok "r${r}_every_sample_settled_once_as_direct_encode ($(tail -1 "$T/cmp.out"))"
  else notok "r${r}_every_sample_settled_once_as_direct_encode" "$(tail -8 "$T/cmp.out" | tr '\n' ' ')"; fi
  rm -rf "$S"/w1 "$S"/w2 "$S"/w3
done

samples=$($RCLI SCARD pf:samples); done_n=$($RCLI SCARD pf:done); failed_n=$($RCLI SCARD pf:failed)
check "done_plus_failed_is_everything ($done_n + $failed_n = $samples)" test $((done_n + failed_n)) -eq "$samples"
check done_and_failed_disjoint test "$($RCLI SINTERCARD 2 pf:done pf:failed)" -eq 0
check no_hash_in_two_splits test "$($RCLI SINTERCARD 2 pf:split:train pf:split:validation)" -eq 0 -a \
  "$($RCLI SINTERCARD 2 pf:split:train pf:split:test)" -eq 0 -a "$($RCLI SINTERCARD 2 pf:split:validation pf:split:test)" -eq 0
splits=$(( $($RCLI SCARD pf:split:train) + $($RCLI SCARD pf:split:validation) + $($RCLI SCARD pf:split:test) ))
check "splits_cover_done ($splits)" test "$splits" -eq "$done_n"
# the heartbeats' job lists never made the broker think a job was lost on the
# way (on one host nothing is: a false alarm would mean needless redeliveries)
false_lost=$(grep -c "does not hold sample" "$D/logs/broker.log")
check "no_job_taken_for_lost_on_the_way ($false_lost)" test "$false_lost" -eq 0
st=$(grep -c "stopped answering\|is unreachable" "$D/logs/broker.log"); rs=$(grep -c "resumed from redis" "$D/logs/broker.log")
echo "  $ROUNDS rounds: $samples samples; worker deaths seen by the broker: $st; broker starts: $rs"

# --- a claim whose reply never came back (Redis died between the two): the --
# job sits in pf:inflight with no worker holding it; the broker must put it
# back within the liveness period, without a restart and without using up an
# attempt. Made exactly so: workers held full, the broker paused, the claim
# script's two steps done by hand.
held=$(role_pid encoder-worker | tr '\n' ' ')
kill -STOP $held
mutated_samples "$T/orphan" orphan 0 12
"$P" ingest --data "$D" --label mixed -q "$T/orphan" >/dev/null 2>&1
queued_some() { [ "$($RCLI LLEN pf:queue)" -ge 1 ]; }
wait_for 20 queued_some
bpid=$(role_pid broker); b0=$(loglines broker)
kill -STOP "$bpid"
osha=$($RCLI EVAL "local s = redis.call('RPOP', 'pf:queue'); redis.call('ZADD', 'pf:inflight', ARGV[1], s); return s" \
  0 "$(($(date +%s%3N) - 5000))")
kill -CONT "$bpid"
kill -CONT $held
fleet_drained "$D"
ost=$($RCLI HGET "pf:s:$osha" status); oat=$($RCLI HGET "pf:s:$osha" attempts)
check "orphaned_claim_back_on_the_queue_and_settled (${osha:0:12}…: $ost, attempts $oat)" \
  sh -c "[ '$ost' = done ] || [ '$ost' = failed ] && [ '$oat' = 0 ] &&
    [ \"\$($RCLI ZSCORE pf:inflight $osha)\" = '' ]"
check orphaned_claim_logged logged "$b0" "sample $osha was in flight with no live worker holding it; back on the queue"
check "orphaned_claim_no_broker_restart" test "$(role_pid broker)" = "$bpid"

# --- connections dropped under the workers, worker and broker both alive: ---
# the workers are held with jobs waiting unread, then their TCP connections
# to the broker are destroyed (ss -K) and ZeroMQ reconnects on its own:
# every sample still settles, with no restart of anything. (The jobs survive
# here: Linux keeps the unread bytes of a destroyed socket readable. A job
# that really is lost with a connection is handled by the heartbeats' job
# lists, tested in tests/unit/test_broker_table.c.)
held=$(role_pid encoder-worker | tr '\n' ' ')
kill -STOP $held
mutated_samples "$T/dropped" dropped 0 12
"$P" ingest --data "$D" --label mixed -q "$T/dropped" >/dev/null 2>&1
inflight_some() { [ "$($RCLI ZCARD pf:inflight)" -ge 2 ]; }
wait_for 20 inflight_some
was=$($RCLI ZRANGE pf:inflight 0 -1 | tr '\n' ' ')
pids=$(pids_now)
if ss -K dst 127.0.0.1 dport = ":$WP" >"$T/ss.out" 2>&1 && grep -q ESTAB "$T/ss.out"; then
  kill -CONT $held
  fleet_drained "$D"; drc=$?
  bad=0
  for s in $was; do [ "$($RCLI HGET "pf:s:$s" status)" = queued ] && bad=$((bad + 1)); done
  check "connections_dropped_every_sample_settles ($(echo $was | wc -w) were in flight, $bad still queued)" \
    test $drc -eq 0 -a $bad -eq 0
  check "connections_dropped_nothing_restarted" test "$(pids_now)" = "$pids"
else
  kill -CONT $held
  skip connections_dropped "ss -K cannot destroy sockets here ($(tail -1 "$T/ss.out"))"
  fleet_drained "$D"
fi

# a duplicate with a different label is recorded as a conflict, not overwritten
t32sha=$(sha256sum "$CORPUS/clean/t32.exe" | cut -d' ' -f1)
"$P" ingest --data "$D" --label other -q "$CORPUS/clean/t32.exe" >/dev/null 2>&1
check label_conflict_recorded test "$($RCLI SISMEMBER pf:conflicts "$t32sha")" -eq 1
check first_label_kept test "$($RCLI HGET "pf:s:$t32sha" label)" = mixed

# supervision restarted what we killed
"$P" status --json --data "$D" >"$T/st.json"
check daemons_all_alive_after_chaos python3 -c '
import json,sys; s=json.load(open(sys.argv[1]))
assert all(d["alive"] for d in s["daemons"]), s["daemons"]' "$T/st.json"

# --- a second fleet on the first one's ports: refused, first fleet untouched --
before=$(pids_now)
read -r FP1 FP2 < <(free_ports 2)
"$P" up --data "$T/fleet2" --workers 1 --scorers 0 --redis-port "$RP" --ingest-port "$FP1" --worker-port "$FP2" \
  >"$T/up2.out" 2>&1; urc=$?
check "second_fleet_on_same_redis_port_refused (exit $urc: $(head -1 "$T/up2.out"))" \
  sh -c "[ $urc -eq 1 ] && grep -q 'port $RP (Redis.*already in use' '$T/up2.out'"
"$P" up --data "$T/fleet3" --workers 1 --scorers 0 --redis-port "$FP1" --ingest-port "$FP2" --worker-port "$WP" \
  >"$T/up3.out" 2>&1; urc=$?
check "second_fleet_on_same_worker_port_refused (exit $urc: $(head -1 "$T/up3.out"))" \
  sh -c "[ $urc -eq 1 ] && grep -q 'port $WP (broker workers.*already in use' '$T/up3.out'"
stray=$(pgrep -f "$T/fleet[23]" | tr '\n' ' ')
check "second_fleet_started_nothing (${stray:-no process})" sh -c "[ ! -e '$T/fleet2/fleet.state' ] &&
  [ ! -e '$T/fleet3/fleet.state' ] && [ -z '$stray' ]"
check "first_fleet_untouched (same pids)" test "$(pids_now)" = "$before"
mkdir -p "$T/after"
printf 'after the clash\n' >"$T/after/a.txt"; cp "$CORPUS/clean/t32.exe" "$T/after/t.exe"; printf 'Z' >>"$T/after/t.exe"
"$P" ingest --data "$D" --label after --wait -q "$T/after" >"$T/after.out" 2>&1
check "first_fleet_still_works ($(tail -1 "$T/after.out"))" grep -q "^done 1, failed 1" "$T/after.out"

# a daemon configured for another fleet is refused by the Redis it reaches
sed "s/^fleet_id = .*/fleet_id = 0000another0000/" "$D/pefleet.conf" >"$T/foreign.conf"
timeout 20 "$BIN/pefleet-encoder-worker" --config "$T/foreign.conf" >"$T/foreign.log" 2>&1; frc=$?
check "daemon_of_another_fleet_refused (exit $frc)" sh -c "[ $frc -eq 1 ] &&
  grep -q \"serves fleet $fid, not this one (0000another0000): refusing\" '$T/foreign.log'"
check "first_fleet_id_unchanged" test "$($RCLI GET pf:fleet)" = "$fid"

pids=$(awk '$1=="supervisor" || $3>0 {print ($1=="supervisor") ? $2 : $3}' "$D/fleet.state")
"$P" down --data "$D" >"$T/down.out" 2>&1
check fleet_down_exit_0 test $? -eq 0
alive=""; for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
check "fleet_down_stops_everything ($(echo $pids | wc -w) processes)" test -z "$alive"
"$P" status --data "$D" >/dev/null 2>&1
check status_after_down_exit_1 test $? -eq 1
finish
