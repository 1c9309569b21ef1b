#!/usr/bin/env bash
# The supervisor of `pefleet up` SIGKILLed: its daemons keep running (and
# keep every sample), `pefleet up` refuses to start a second fleet over
# them and says how to stop them, `pefleet down` stops exactly those
# daemons (Redis last) and forgets the fleet, and `up` works again on the
# same data with nothing lost.
. "$(dirname "$0")/lib/common.sh"
NAME=supervisor_killed
need_corpus "$NAME"
need_redis "$NAME"
P=$BIN/pefleet
fleet_ports
D=$T/fleet
fleet_cleanup_on_exit "$D"
up() { "$P" up --data "$D" --workers 1 --scorers 0 --redis-port "$RP" --ingest-port "$IP" --worker-port "$WP" "$@"; }
up >"$T/up.out" 2>&1 || { notok up "$(tail -2 "$T/up.out")"; finish; }
"$P" ingest --data "$D" --label clean --wait "$CORPUS/clean" >/dev/null 2>&1
check ingest_before test $? -eq 0
"$P" status --json --interval 0 --data "$D" >"$T/st.json"
read -r SUP BROKER REDIS < <(python3 -c '
import json,sys
d={x["role"]:x["pid"] for x in json.load(open(sys.argv[1]))["daemons"]}
print(d["supervisor"], d["broker"], d["redis"])' "$T/st.json")
kill -9 "$SUP"
sleep 0.3
check daemons_survive_the_supervisor kill -0 "$BROKER" "$REDIS"
up >"$T/up2.out" 2>&1; rc=$?
check up_refused_over_orphans test $rc -eq 1
check up_says_how grep -q "still run without their supervisor.*pefleet down --data" "$T/up2.out"
check orphans_untouched_by_refused_up kill -0 "$BROKER" "$REDIS"
"$P" down --data "$D" >"$T/down.out" 2>&1; rc=$?
check down_stops_orphans test $rc -eq 0
check down_says_so grep -q "supervisor in .* had died; stopped the [0-9]* daemon(s)" "$T/down.out"
sleep 0.2
# gone, or a zombie nobody reaps (the supervisor that would have is dead)
running() { [ -r "/proc/$1/stat" ] && ! awk '{sub(/.*\) /, ""); exit !($1 == "Z" || $1 == "X")}' "/proc/$1/stat"; }
if running "$BROKER" || running "$REDIS"; then notok orphans_gone "broker or redis still running"
else ok orphans_gone; fi
"$P" down --data "$D" >"$T/down2.out" 2>&1
rc=$?
# down is idempotent (issue 20): exit 0, and it says nothing runs
check "second_down_says_nothing_runs (exit $rc: $(head -1 "$T/down2.out"))" grep -q "nothing running" "$T/down2.out"
check second_down_exit_0 test "$rc" -eq 0
up >"$T/up3.out" 2>&1
check up_again test $? -eq 0
"$P" status --json --interval 0 --data "$D" >"$T/st3.json"
check nothing_lost python3 -c '
import json,sys,os
j=json.load(open(sys.argv[1]))
n=len(os.listdir(sys.argv[2]))
assert j["done"]+j["failed"]==n and j["queued"]==0, (j, n)' "$T/st3.json" "$CORPUS/clean"
finish
