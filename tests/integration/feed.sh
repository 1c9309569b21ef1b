#!/usr/bin/env bash
# pefleet feed against a real fleet (`pefleet up` on free ports: redis,
# broker, an encoder worker): a copy of the corpus fed into the store (one
# line per file, every file in Redis and encoded); fed again, every file is
# skipped by its sha256 and nothing is sent; new files are fed with --move
# and --wait and every acknowledged or known file lands in DIR/done/ with
# its relative path; a file the store refuses (larger than --max-size)
# stays in place, is named on stderr and makes the exit status 1; done/ is
# never fed again; usage errors. Also a regression check of `pefleet
# ingest`, which shares the sending code. Symlinks in the drop folder are
# named one line each and never followed, and a folder swapped for a symlink
# while feed runs (renameat2 RENAME_EXCHANGE in a loop) reads nothing outside.
. "$(dirname "$0")/lib/common.sh"
need_corpus feed
need_redis feed
P=$BIN/pefleet
D=$T/fleet
fleet_ports
fleet_cleanup_on_exit "$D"

# --- usage errors need no fleet ----------------------------------------------------
"$P" feed "$T" --data "$D" >/dev/null 2>&1; check usage_no_label_exit_2 test $? -eq 2
"$P" feed "$T/nope" --label clean --data "$D" >/dev/null 2>&1; check usage_not_a_folder_exit_2 test $? -eq 2
"$P" feed --label clean --data "$D" >/dev/null 2>&1; check usage_no_dir_exit_2 test $? -eq 2

if ! "$P" up --data "$D" --workers 1 --redis-port "$RP" --ingest-port "$IP" --worker-port "$WP" --scorers 0 >"$T/up.out" 2>&1; then
  notok fleet_up "$(tr '\n' ' ' <"$T/up.out")"; finish
fi
ok "fleet_up (redis $RP)"
fleet_auth "$D" # up made a Redis password

DROP=$T/drop
mkdir -p "$DROP"
cp -r "$CORPUS/clean" "$CORPUS/malicious-test" "$DROP/"
N=$(find "$DROP" -type f | wc -l)
U=$(find "$DROP" -type f -exec sha256sum {} + | awk '{print $1}' | sort -u | wc -l)

# --- first feed: every file is new -----------------------------------------------------
"$P" feed "$DROP" --label clean --wait --data "$D" >"$T/f1.out" 2>"$T/f1.err"; rc=$?
check "first_feed_exit_0_or_encode_failures (rc $rc)" test $rc -eq 0 -o $rc -eq 1
check "first_feed_queued_all ($N files, $U distinct)" test "$(grep -c "  queued  \|  duplicate  " "$T/f1.out")" -eq "$N"
check first_feed_summary grep -q "^feed $DROP: $N new ($U queued, $((N - U)) duplicates, 0 rejected, 0 unacknowledged), 0 skipped" "$T/f1.out"
check "first_feed_in_redis ($($RCLI SCARD pf:samples))" test "$($RCLI SCARD pf:samples)" -eq "$U"
check first_feed_waited grep -q "^done [0-9]*, failed [0-9]*$" "$T/f1.out"
check first_feed_nothing_queued test "$($RCLI LLEN pf:queue)" -eq 0 -a "$($RCLI ZCARD pf:inflight)" -eq 0
check first_feed_left_files test "$(find "$DROP" -type f | wc -l)" -eq "$N"

# --- fed again: all skipped by sha256, nothing sent ------------------------------------
"$P" feed "$DROP" --label clean --data "$D" >"$T/f2.out" 2>"$T/f2.err"; rc=$?
check "second_feed_exit_0 (rc $rc)" test $rc -eq 0
check "second_feed_all_skipped" test "$(grep -c "  skipped  " "$T/f2.out")" -eq "$N"
check second_feed_sent_nothing bash -c "! grep -q '  queued  \|  duplicate  ' '$T/f2.out'"
check second_feed_summary grep -q "^feed $DROP: 0 new (0 queued, 0 duplicates, 0 rejected, 0 unacknowledged), $N skipped (already ingested)" "$T/f2.out"
check second_feed_no_new_sample test "$($RCLI SCARD pf:samples)" -eq "$U"

# --- new files with --move: new and known files all go to done/ --------------------------
mkdir -p "$DROP/new/deeper"
f0=$(find "$CORPUS/clean" -type f | sort | head -1)
{ cat "$f0"; echo "feed-test-1"; } >"$DROP/new/a.exe"
{ cat "$f0"; echo "feed-test-2"; } >"$DROP/new/deeper/b.exe"
head -c 3000000 /dev/urandom >"$DROP/big.bin"
"$P" feed "$DROP" --label clean --move --wait --max-size 2 --data "$D" >"$T/f3.out" 2>"$T/f3.err"; rc=$?
check "move_feed_rejects_big_exit_1 (rc $rc)" test $rc -eq 1
check move_feed_names_big grep -q "big.bin: cannot store: file too large" "$T/f3.err"
check move_feed_big_stays test -f "$DROP/big.bin"
check move_feed_queued_new test "$(grep -c "  queued  " "$T/f3.out")" -eq 2
check move_feed_summary grep -q "^feed $DROP: 3 new (2 queued, 0 duplicates, 1 rejected, 0 unacknowledged), $N skipped (already ingested), 0 failed to read or move, $((N + 2)) moved to $DROP/done" "$T/f3.out"
check move_feed_new_in_redis test "$($RCLI SCARD pf:samples)" -eq "$((U + 2))"
check move_feed_keeps_paths test -f "$DROP/done/new/deeper/b.exe" -a -f "$DROP/done/new/a.exe" -a -f "$DROP/done/clean/$(basename "$f0")"
check "move_feed_only_failure_left ($(find "$DROP" -type f -not -path "$DROP/done/*" | tr '\n' ' '))" \
  test "$(find "$DROP" -type f -not -path "$DROP/done/*" | wc -l)" -eq 1
check move_feed_done_count test "$(find "$DROP/done" -type f | wc -l)" -eq "$((N + 2))"

# --- done/ is not fed again; a name already in done/ gets the sha appended --------------------
rm -f "$DROP/big.bin"
cp "$f0" "$DROP/clean/"
"$P" feed "$DROP" --label clean --move --data "$D" >"$T/f4.out" 2>"$T/f4.err"; rc=$?
check "refeed_exit_0 (rc $rc)" test $rc -eq 0
check refeed_done_left_out grep -q "^feed $DROP: 0 new (.*), 1 skipped (already ingested), 0 failed to read or move, 1 moved" "$T/f4.out"
check refeed_same_name_kept_both test "$(ls "$DROP/done/clean/$(basename "$f0")"* | wc -l)" -eq 2

# --- one feed per folder at a time (flock on the folder) ----------------------------------
flock "$DROP" "$P" feed "$DROP" --label clean --data "$D" >"$T/f5.out" 2>"$T/f5.err"; rc=$?
check "concurrent_feed_exit_1 (rc $rc)" test $rc -eq 1
check concurrent_feed_says_why grep -q "another feed is running on this folder; nothing done" "$T/f5.err"

# --- symlinks in the drop folder are named, one line each, and never followed ----------------
OUTSIDE=$T/outside
mkdir -p "$OUTSIDE/dir" "$T/drop2/sub"
{ cat "$f0"; echo "feed-secret-file"; } >"$OUTSIDE/secret.exe"
{ cat "$f0"; echo "feed-secret-in-dir"; } >"$OUTSIDE/dir/inner.exe"
{ cat "$f0"; echo "feed-real-file"; } >"$T/drop2/real.exe"
ln -s "$OUTSIDE/secret.exe" "$T/drop2/link.exe"
ln -s "$OUTSIDE/dir" "$T/drop2/sub/linkdir"
ln -s "$OUTSIDE/nothing" "$T/drop2/dangling.exe"
SECRET=$(sha256sum "$OUTSIDE/secret.exe" | awk '{print $1}')
INNER=$(sha256sum "$OUTSIDE/dir/inner.exe" | awk '{print $1}')
"$P" feed "$T/drop2" --label clean --move --data "$D" >"$T/f6.out" 2>"$T/f6.err"; rc=$?
check "symlinks_skipped_exit_0 (rc $rc)" test $rc -eq 0
check symlinks_one_line_each test "$(grep -c ": a symlink; not followed, skipped$" "$T/f6.err")" -eq 3
for l in link.exe sub/linkdir dangling.exe; do
  check "symlink_named_$(basename "$l")" grep -q "^pefleet feed: warning: $T/drop2/$l: a symlink; not followed, skipped$" "$T/f6.err"
done
check symlink_target_not_ingested test "$($RCLI SISMEMBER pf:samples "$SECRET")" -eq 0 -a -z "$(find "$D" -name "$SECRET")"
check symlinked_dir_not_walked test "$($RCLI SISMEMBER pf:samples "$INNER")" -eq 0
check symlink_real_file_fed grep -q "  queued  $T/drop2/real.exe" "$T/f6.out"
check symlinks_summary grep -q "^feed $T/drop2: 1 new (1 queued, .*, 3 symlinks skipped in" "$T/f6.out"
check symlinks_left_in_place test -L "$T/drop2/link.exe" -a -L "$T/drop2/sub/linkdir" -a -f "$OUTSIDE/secret.exe"

# --- a folder swapped for a symlink while feed runs: nothing outside is read --------------
# (renameat2 RENAME_EXCHANGE flips DROP3/sub, a real folder, and DROP3/alt, a
# symlink to OUTSIDE3/sub holding the same names with other bytes, while feed
# runs 10 times; bounded: at most 2,000,000 swaps, and it stops with the feeds)
D3=$T/drop3 O3=$T/outside3
mkdir -p "$D3/sub" "$O3/sub"
for i in $(seq 20); do
  { cat "$f0"; echo "feed-race-inside-$i"; } >"$D3/sub/x$i.exe"
  { cat "$f0"; echo "feed-race-secret-$i"; } >"$O3/sub/x$i.exe"
done
ln -s "$O3/sub" "$D3/alt"
SECRETS=$(sha256sum "$O3"/sub/*.exe | awk '{print $1}')
python3 - "$D3/sub" "$D3/alt" "$T/swap.stop" <<'PY' &
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = sys.argv[1].encode(), sys.argv[2].encode()
for i in range(2000000):
    if i % 1000 == 0 and os.path.exists(sys.argv[3]):
        break
    if libc.renameat2(-100, a, -100, b, 2) != 0:  # AT_FDCWD, RENAME_EXCHANGE
        sys.exit("renameat2: " + os.strerror(ctypes.get_errno()))
PY
SWAP=$!
for r in $(seq 10); do "$P" feed "$D3" --label clean --data "$D" >>"$T/f7.out" 2>>"$T/f7.err"; done
touch "$T/swap.stop"
wait $SWAP
check "race_swapper_ran (exit $?)" test -e "$T/swap.stop"
leaked=0
for s in $SECRETS; do
  [ "$($RCLI SISMEMBER pf:samples "$s")" = 0 ] && [ -z "$(find "$D" -name "$s")" ] || leaked=$((leaked + 1))
done
refused=$(grep -c "a symlink in its path (not followed)" "$T/f7.err")
check "race_nothing_outside_ingested ($leaked of 20 outside files leaked)" test "$leaked" -eq 0
check "race_swaps_seen_and_refused ($refused opens refused, $(grep -c ': a symlink; not followed, skipped$' "$T/f7.err") symlinks reported)" test "$refused" -gt 0

# --- pefleet ingest still sends as before (the code feed shares) ---------------------------
{ cat "$f0"; echo "ingest-test"; } >"$T/i.exe"
"$P" ingest --label clean --wait --data "$D" "$T/i.exe" "$f0" >"$T/i.out" 2>"$T/i.err"; rc=$?
check "ingest_exit_0 (rc $rc)" test $rc -eq 0
check ingest_lines grep -q "  queued  $T/i.exe" "$T/i.out"
check ingest_duplicate grep -q "  duplicate  $f0" "$T/i.out"
check ingest_summary grep -q "^pefleet ingest: 2 files: 1 queued, 1 duplicates, 0 rejected in" "$T/i.err"
# --- first-seen times: feed --seen-at mtime (a mirror kept by wget -N), ingest
# --seen-at DATE; a sample fed or ingested again keeps its first date ---------------
D4=$T/dated
mkdir -p "$D4"
{ cat "$f0"; echo "seen-mtime"; } >"$D4/m.exe"
touch -d '2026-03-02 10:20:30 UTC' "$D4/m.exe"
SM=$(sha256sum "$D4/m.exe" | cut -d' ' -f1)
"$P" feed "$D4" --label clean --seen-at mtime --wait --data "$D" >"$T/f8.out" 2>"$T/f8.err"; rc=$?
check "feed_seen_at_mtime (rc $rc)" test "$($RCLI HGET "pf:s:$SM" first_seen)" = "$(date -u -d '2026-03-02 10:20:30' +%s)"
check feed_seen_at_indexed test "$($RCLI ZSCORE pf:seen "$SM")" = "$(date -u -d '2026-03-02 10:20:30' +%s)"
{ cat "$f0"; echo "seen-date"; } >"$T/d.exe"
SD=$(sha256sum "$T/d.exe" | cut -d' ' -f1)
"$P" ingest --label clean --seen-at 2026-01-15 --data "$D" "$T/d.exe" >/dev/null 2>&1
check ingest_seen_at_date test "$($RCLI HGET "pf:s:$SD" first_seen)" = "$(date -u -d 2026-01-15 +%s)"
"$P" ingest --label clean --seen-at 2026-02-20T08:00:00Z --data "$D" "$T/d.exe" "$D4/m.exe" >/dev/null 2>&1
check reingest_keeps_first_seen test "$($RCLI HGET "pf:s:$SD" first_seen)" = "$(date -u -d 2026-01-15 +%s)" \
  -a "$($RCLI HGET "pf:s:$SM" first_seen)" = "$(date -u -d '2026-03-02 10:20:30' +%s)"
"$P" ingest --label clean --seen-at 2026-02-30 --data "$D" "$T/d.exe" >/dev/null 2>&1
check ingest_bad_seen_at_exit_2 test $? -eq 2
"$P" feed "$D4" --label clean --seen-at 2999-01-01 --data "$D" >/dev/null 2>&1
check feed_future_seen_at_exit_2 test $? -eq 2
"$P" ingest --label clean --data "$D" "$T/i.exe" >/dev/null 2>&1
"$P" export --jsonl --data "$D" 2>/dev/null | grep -q "\"sha256\":\"$SM\",.*\"first_seen\":\"2026-03-02T10:20:30Z\""
check export_shows_first_seen test $? -eq 0
"$P" status --data "$D" >"$T/st.out" 2>&1
check status_shows_first_seen grep -q "^first seen: oldest 2026-01-15T00:00:00Z, newest 20[0-9-]*T[0-9:]*Z" "$T/st.out"
finish
