#!/usr/bin/env bash
# pefleet-clamd with Debian's real clamdscan (package clamdscan): a clamd.conf
# naming pefleet-clamd's TCP port, and another naming its Unix socket.
# `clamdscan --stream`, `--fdpass`, `--multiscan` and plain (server-side
# paths, beneath --allow-path) over the shared corpus print, for every file,
# FOUND exactly where `pefleet predict` with the same model says malicious;
# clamdscan exits 1 when something is found, 0 when nothing, 2 on errors,
# and its summary counts the infected files; `--ping 1` and `--version`
# work; `pefleet up --clamd-port/--clamd-socket` starts a pefleet-clamd of
# its own that answers the same way.
. "$(dirname "$0")/lib/common.sh"
NAME=clamd_clamdscan
need_corpus "$NAME"
need_redis "$NAME"
command -v clamdscan >/dev/null || { skip "$NAME" "clamdscan not installed (make deps installs it)"; exit 0; }
P=$BIN/pefleet
H5=$SHARED/seed/ergo-pe-av/model.h5
[ -f "$H5" ] || { skip "$NAME" "$H5 not found"; exit 0; }
fleet_ports
read -r SP SCP SIMP HP CP CP2 < <(free_ports 6)
D=$T/fleet
CDPID=
trap '[ -n "$CDPID" ] && kill "$CDPID" 2>/dev/null; "$P" down --data "$D" >/dev/null 2>&1; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
"$P" import-keras "$H5" -o "$T/m1" --version seed-a >/dev/null 2>&1 || { notok import "import-keras failed"; finish; }
# (the daemons inherit the environment, where common.sh turns clamd off)
if ! PEFLEET_CLAMD_PORT=$CP "$P" up --data "$D" --workers 1 --scorers 2 --model "$T/m1" --redis-port "$RP" --ingest-port "$IP" \
     --worker-port "$WP" --score-port "$SP" --scorer-port "$SCP" --similar-port "$SIMP" --port "$HP" \
     --clamd-port "$CP" --clamd-socket "$T/up.sock" >"$T/up.log" 2>&1; then
  notok up "$(tail -3 "$T/up.log")"; finish
fi
# a pefleet-clamd of the test's own, allowed to read the shared corpus
"$BIN/pefleet-clamd" --data "$D" --port "$CP2" --socket "$T/c.sock" --allow-path "$CORPUS" >"$T/clamd.log" 2>&1 &
CDPID=$!
printf 'TCPSocket %s\nTCPAddr 127.0.0.1\n' "$CP2" >"$T/tcp.conf"
printf 'LocalSocket %s\n' "$T/c.sock" >"$T/unix.conf"
printf 'TCPSocket %s\nTCPAddr 127.0.0.1\n' "$CP" >"$T/up-tcp.conf"
printf 'LocalSocket %s\n' "$T/up.sock" >"$T/up-unix.conf"
for _ in $(seq 50); do clamdscan -c "$T/tcp.conf" --ping 1 >/dev/null 2>&1 && break; sleep 0.1; done

# what pefleet predict says of each file, with the same model
"$P" predict "$T/m1" --jsonl -q "$CORPUS/clean" "$CORPUS/malicious-test" 2>/dev/null | python3 -c '
import json, os, sys
for l in sys.stdin:
    d = json.loads(l)
    print(os.path.realpath(d["path"]), "FOUND" if d["verdict"] == "malicious" else "OK")' | sort >"$T/expect"
nexp=$(wc -l <"$T/expect")
nfound=$(grep -c ' FOUND$' "$T/expect")
check "predict_scored_the_corpus ($nexp files, $nfound malicious)" test "$nexp" -ge 40 -a "$nfound" -ge 1

# clamdscan's per-file lines -> "PATH FOUND|OK", sorted
lines() { python3 -c '
import os, sys
for l in sys.stdin:
    l = l.rstrip("\n")
    if l.endswith(" FOUND"): v = "FOUND"
    elif l.endswith(": OK"): v = "OK"
    else: continue
    p = l.rsplit(": ", 1)[0]
    print(os.path.realpath(p), v)' | sort; }

# --- --stream (INSTREAM) and --fdpass (FILDES), every file named: a line each ----------
mapfile -t FILES < <(cut -d' ' -f1 "$T/expect")
clamdscan -c "$T/tcp.conf" --stream "${FILES[@]}" >"$T/stream.out" 2>&1; rc=$?
lines <"$T/stream.out" >"$T/stream"
check "stream_verdicts_equal_predict" cmp -s "$T/expect" "$T/stream"
check "stream_exit_1_when_found (exit $rc)" test "$rc" -eq 1
check "stream_summary_counts_infected" grep -qx "Infected files: $nfound" "$T/stream.out"
clamdscan -c "$T/unix.conf" --fdpass "${FILES[@]}" >"$T/fdpass.out" 2>&1; rc=$?
lines <"$T/fdpass.out" >"$T/fdpass"
check "fdpass_verdicts_equal_predict" cmp -s "$T/expect" "$T/fdpass"
check "fdpass_exit_1_when_found (exit $rc)" test "$rc" -eq 1
grep -q 'FILDES from unix' "$T/clamd.log"
check fdpass_went_through_FILDES test $? -eq 0

# --- folders: --stream, --multiscan and plain (server-side paths) --------------------
# (clamdscan prints a folder's FOUND files, or one "FOLDER: OK" when none)
grep ' FOUND$' "$T/expect" >"$T/expect.found"
clamdscan -c "$T/tcp.conf" --stream "$CORPUS/clean" "$CORPUS/malicious-test" >"$T/sdir.out" 2>&1
lines <"$T/sdir.out" | grep ' FOUND$' >"$T/sdir.found"
check "stream_folders_found_equal_predict" cmp -s "$T/expect.found" "$T/sdir.found"
clamdscan -c "$T/tcp.conf" --multiscan "$CORPUS/clean" "$CORPUS/malicious-test" >"$T/multi.out" 2>&1; rc=$?
lines <"$T/multi.out" | grep ' FOUND$' >"$T/multi.found"
check "multiscan_found_equal_predict" cmp -s "$T/expect.found" "$T/multi.found"
check "multiscan_exit_1_when_found (exit $rc)" test "$rc" -eq 1
check "multiscan_clean_folder_ok" grep -qx "$CORPUS/clean: OK" "$T/multi.out"
clamdscan -c "$T/tcp.conf" "$CORPUS/clean" "$CORPUS/malicious-test" >"$T/plain.out" 2>&1; rc=$?
lines <"$T/plain.out" | grep ' FOUND$' >"$T/plain.found"
check "plain_found_equal_predict" cmp -s "$T/expect.found" "$T/plain.found"
check "plain_exit_1_when_found (exit $rc)" test "$rc" -eq 1
check "plain_summary_counts_infected" grep -qx "Infected files: $nfound" "$T/plain.out"
grep -q '^SCAN '"$CORPUS"'/malicious-test' "$T/clamd.log" || grep -q 'SCAN .*malicious-test' "$T/clamd.log"
check plain_went_through_server_side_paths test $? -eq 0

# --- exit codes: nothing found, an error ---------------------------------------------
clean1=$(grep ' OK$' "$T/expect" | head -1 | cut -d' ' -f1)
clamdscan -c "$T/tcp.conf" --stream "$clean1" >"$T/one.out" 2>&1; rc=$?
check "exit_0_when_nothing_found (exit $rc)" test "$rc" -eq 0
check one_clean_file_ok grep -qx "$clean1: OK" "$T/one.out"
clamdscan -c "$T/tcp.conf" /etc/passwd >"$T/denied.out" 2>&1; rc=$?
check "exit_2_on_error (exit $rc)" test "$rc" -eq 2
check path_outside_allow_list_refused grep -qx '/etc/passwd: Access denied. ERROR' "$T/denied.out"

# --- predict and scan --infected-exit: clamscan's exit codes, as clamdscan's ---------
for c in "clean:$clean1:0" "found:$CORPUS/malicious-test:1" "failed:/etc/passwd:2"; do
  what=${c%%:*} rest=${c#*:} path=${rest%:*} want=${rest##*:}
  "$P" predict "$T/m1" -q --infected-exit "$path" >/dev/null 2>&1; prc=$?
  "$P" scan --server --data "$D" -q --infected-exit "$path" >/dev/null 2>&1; src=$?
  check "infected_exit_$what (predict $prc, scan --server $src, want $want)" test "$prc" -eq "$want" -a "$src" -eq "$want"
done
"$P" predict "$T/m1" -q "$CORPUS/malicious-test" >/dev/null 2>&1
check "without_infected_exit_found_is_0" test $? -eq 0

# --- ping and version ---------------------------------------------------------------
out=$(clamdscan -c "$T/tcp.conf" --ping 1 2>&1); rc=$?
check "ping (exit $rc: $out)" test "$rc" -eq 0 -a "$out" = PONG
out=$(clamdscan -c "$T/tcp.conf" --version 2>&1)
case "$out" in "pefleet-clamd 1.0/seed-a/"*) ok "version ($out)" ;; *) notok version "got '$out'" ;; esac

# --- the pefleet-clamd that up started ------------------------------------------------
out=$(clamdscan -c "$T/up-tcp.conf" --ping 1 2>&1)
check "up_started_clamd_tcp ($out)" test "$out" = PONG
out=$(clamdscan -c "$T/up-unix.conf" --ping 1 2>&1)
check "up_started_clamd_unix ($out)" test "$out" = PONG
mal1=$(grep ' FOUND$' "$T/expect" | head -1 | cut -d' ' -f1)
clamdscan -c "$T/up-unix.conf" --fdpass "$mal1" >"$T/upfd.out" 2>&1; rc=$?
check "up_clamd_finds (exit $rc)" grep -qx "$mal1: Pefleet.Malicious.ergo486 FOUND" "$T/upfd.out"
"$P" status --data "$D" 2>/dev/null | grep -q '^clamd .* yes'
check up_status_lists_clamd test $? -eq 0
finish
