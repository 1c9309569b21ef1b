#!/usr/bin/env bash
# A way back for failed samples, and commands that fail fast without a
# fleet. On a real one-worker fleet: a sample ingested with a configuration
# whose store the workers do not read fails ("sample missing from the
# store"); ingesting it again says "failed earlier: REASON (pefleet requeue
# SHA256)" instead of "duplicate" (and now stores the file where the
# workers look); `pefleet requeue --reason` puts it back with its attempts
# reset and it is done. requeue by sha256 and --all-failed, of a sample
# that is not failed, of an unknown one, and its usage errors. Then, with
# no pefleet.conf in the folder, ingest, status, export and requeue say
# "no fleet in DIR (pefleet up --data DIR)" and create nothing; with the
# fleet stopped, ingest says "broker at ENDPOINT does not answer" with the
# cause and the time waited, within a few seconds, and stores nothing.
. "$(dirname "$0")/lib/common.sh"
need_corpus requeue_failfast
need_redis requeue_failfast
P=$BIN/pefleet
D=$T/fleet
fleet_ports
fleet_cleanup_on_exit "$D"
fleet_start "$D" --workers 1

# --- a sample that failed for a passing cause, and the way back --------------
cp "$CORPUS/clean/t32.exe" "$T/lonely.exe"; printf 'lonely' >>"$T/lonely.exe"
sha=$(sha256sum "$T/lonely.exe" | cut -d' ' -f1)
sed "s|^store = .*|store = $T/otherstore|" "$D/pefleet.conf" >"$T/other.conf"
"$P" ingest --config "$T/other.conf" --label clean --wait "$T/lonely.exe" >"$T/i1.out" 2>&1
reason=$($RCLI HGET "pf:s:$sha" reason)
check "missing_store_file_fails_clearly ($reason)" sh -c "echo '$reason' | grep -q '^sample missing from the store'"
"$P" ingest --data "$D" --label clean "$T/lonely.exe" >"$T/i2.out" 2>"$T/i2.err"
check "ingest_of_failed_sample_says_failed_earlier ($(cut -c1-150 "$T/i2.out"))" \
  grep -qxF "$sha  failed earlier: $reason (pefleet requeue $sha)  $T/lonely.exe" "$T/i2.out"
check ingest_summary_counts_failed_earlier grep -q "1 duplicates (1 failed earlier)" "$T/i2.err"
$RCLI HSET "pf:s:$sha" attempts 2 >/dev/null # as if it had been delivered before
"$P" requeue --data "$D" --reason "sample missing" >"$T/rq1.out" 2>&1
check "requeue_by_reason_says_how_many ($(cat "$T/rq1.out"))" grep -qx "pefleet requeue: 1 sample(s) back on the queue" "$T/rq1.out"
"$P" ingest --data "$D" --label clean --wait -q "$T/lonely.exe" >"$T/i3.out" 2>&1
check "requeued_sample_is_done ($(tail -1 "$T/i3.out"))" test "$($RCLI HGET "pf:s:$sha" status)" = done
check requeue_reset_attempts test "$($RCLI HGET "pf:s:$sha" attempts)" = 0
check requeue_cleared_reason test -z "$($RCLI HGET "pf:s:$sha" reason)"
check requeued_sample_not_failed test "$($RCLI SISMEMBER pf:failed "$sha")" = 0

# --- by sha256, --all-failed, not failed, unknown, usage ----------------------
printf 'not a PE at all\n' >"$T/text.txt"
tsha=$(sha256sum "$T/text.txt" | cut -d' ' -f1)
"$P" ingest --data "$D" --label clean --wait -q "$T/text.txt" >/dev/null 2>&1
check text_failed test "$($RCLI HGET "pf:s:$tsha" status)" = failed
"$P" requeue --data "$D" "$tsha" "$sha" >"$T/rq2.out" 2>&1; rc=$?
check "requeue_by_sha_skips_one_not_failed (exit $rc: $(cat "$T/rq2.out"))" sh -c "[ $rc -eq 0 ] &&
  grep -qx 'pefleet requeue: 1 sample(s) back on the queue, 1 named one(s) not failed (left as they are)' '$T/rq2.out'"
for _ in $(seq 1 100); do [ "$($RCLI HGET "pf:s:$tsha" status)" = failed ] && break; sleep 0.1; done
check "requeued_text_fails_again_with_its_reason ($($RCLI HGET "pf:s:$tsha" reason))" \
  test "$($RCLI HGET "pf:s:$tsha" reason)" = "not a PE file (no MZ signature)"
"$P" requeue --data "$D" --all-failed >"$T/rq3.out" 2>&1
check "requeue_all_failed ($(cat "$T/rq3.out"))" grep -qx "pefleet requeue: 1 sample(s) back on the queue" "$T/rq3.out"
"$P" requeue --data "$D" 0000000000000000000000000000000000000000000000000000000000000000 >"$T/rq4.out" 2>&1; rc=$?
check "requeue_unknown_sha_exit_1 ($(head -1 "$T/rq4.out"))" sh -c "[ $rc -eq 1 ] && grep -q 'not a known sample' '$T/rq4.out'"
"$P" requeue --data "$D" >/dev/null 2>&1; check requeue_nothing_named_exit_2 test $? -eq 2
"$P" requeue --data "$D" NOTAHASH >/dev/null 2>&1; check requeue_bad_sha_exit_2 test $? -eq 2

# --- no fleet in the folder: said at once, nothing created --------------------
N=$T/nofleet
for cmd in "ingest --label clean $T/text.txt" "status" "export" "requeue --all-failed"; do
  "$P" $cmd --data "$N" >"$T/nf.out" 2>&1; rc=$?
  check "no_fleet_${cmd%% *} (exit $rc: $(head -1 "$T/nf.out"))" sh -c "[ $rc -eq 1 ] &&
    grep -qxF 'pefleet ${cmd%% *}: no fleet in $N (pefleet up --data $N)' '$T/nf.out' && [ ! -e '$N' ]"
done

# --- the fleet stopped: the broker does not answer, nothing is stored --------
"$P" down --data "$D" >/dev/null 2>&1
before=$(find "$D/store" -type f | wc -l)
cp "$T/lonely.exe" "$T/new.exe"; printf 'new' >>"$T/new.exe"
s0=$SECONDS
"$P" ingest --data "$D" --label clean "$T/new.exe" >"$T/down.out" 2>&1; rc=$?
took=$((SECONDS - s0))
check "ingest_without_broker_says_so (exit $rc, ${took} s: $(head -1 "$T/down.out" | cut -c1-200))" sh -c "[ $rc -eq 1 ] &&
  grep -q 'broker at tcp://127.0.0.1:$IP does not answer: it did not acknowledge a connection in [0-9.]* s: Connection refused; nothing was stored' '$T/down.out'"
check "ingest_without_broker_fails_within_seconds (${took} s, not 60)" test "$took" -le 15
check "nothing_stored_without_a_broker ($before files)" test "$(find "$D/store" -type f | wc -l)" -eq "$before"
finish
