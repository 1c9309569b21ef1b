#!/usr/bin/env bash
# Redis dies while an encoder worker holds finished verdicts. `pefleet up`
# one worker; queue a few hundred samples; while they are in flight,
# SIGSTOP the supervisor (so it cannot restart Redis at once) and SIGKILL
# redis-server. The worker finishes the jobs it has, cannot store them,
# and must say it holds them (not drop them, not die); then the supervisor
# goes on, restarts Redis from its AOF, and the worker must say it saved
# them. The same worker process all along; every sample ingest reported is
# done or failed in the end, exactly one of the two, with nothing stuck in
# flight, and no restart of the fleet.
. "$(dirname "$0")/lib/common.sh"
need_corpus redis_outage
need_redis redis_outage
P=$BIN/pefleet
D=$T/fleet
fleet_ports
fleet_cleanup_on_exit "$D"
fleet_start "$D" --workers 1
role_pid() { awk -v r="$1" '$1==r && $3>0 {print $3}' "$D/fleet.state"; }
SUP=$(awk '$1=="supervisor" {print $2}' "$D/fleet.state")
WPID=$(role_pid encoder-worker)
RPID=$(role_pid redis)
WLOG=$D/logs/encoder-worker-1.log

mutated_samples "$T/s" outage 0 400
kill -STOP "$WPID" # the queue fills while the worker waits, so it surely has jobs when Redis dies
"$P" ingest --data "$D" --label mixed --retry-for 120 "$T/s" >"$T/ingest.out" 2>"$T/ingest.err" &
ING=$!
for _ in $(seq 1 300); do
  q=$($RCLI LLEN pf:queue 2>/dev/null)
  [ "${q:-0}" -ge 20 ] && break
  sleep 0.1
done
check "work_queued_before_the_outage ($q queued)" test "${q:-0}" -ge 20
w0=$(wc -l <"$WLOG")
kill -STOP "$SUP"
kill -CONT "$WPID"
sleep 0.2
inflight=$($RCLI ZCARD pf:inflight)
kill -9 "$RPID"
held=0
for _ in $(seq 1 150); do
  tail -n +"$((w0 + 1))" "$WLOG" | grep -q "holding verdicts until it is back" && { held=1; break; }
  sleep 0.1
done
check "worker_says_it_holds_verdicts ($inflight in flight when redis died)" test $held -eq 1
check worker_still_alive kill -0 "$WPID"
kill -CONT "$SUP" # it restarts Redis (AOF, appendfsync always)
saved=0
for _ in $(seq 1 300); do
  tail -n +"$((w0 + 1))" "$WLOG" | grep -q "all held verdicts saved" && { saved=1; break; }
  sleep 0.1
done
check worker_says_it_saved_them test $saved -eq 1
wait $ING; irc=$?
check "ingest_acknowledged_everything (exit $irc)" test $irc -eq 0
fleet_drained "$D"; drc=$?
check "queue_drained ($(cut -c1-120 "$T/st.json"))" test $drc -eq 0
check "same_worker_process_all_along (pid $WPID)" test "$(role_pid encoder-worker)" = "$WPID"
bad=0; n=0
while read -r sha st _; do
  n=$((n + 1))
  d=$($RCLI SISMEMBER pf:done "$sha"); f=$($RCLI SISMEMBER pf:failed "$sha")
  [ "$d$f" = 10 ] || [ "$d$f" = 01 ] || { bad=$((bad + 1)); echo "  not settled exactly once: $sha ($d$f)"; }
done <"$T/ingest.out"
check "every_sample_settled_once ($n samples, $bad problems)" test $bad -eq 0 -a "$n" -eq "$(ls "$T/s" | wc -l)"
finish
