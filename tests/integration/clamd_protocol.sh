#!/usr/bin/env bash
# pefleet-clamd over raw sockets (tests/integration/lib/clamd_raw.py): every
# command with both prefixes and the old style, IDSESSION with several
# requests in flight, INSTREAM past StreamMaxLength, chunks that lie about
# their length, a client that disconnects mid-stream, the byte budget, the
# connection cap, FILDES over the Unix socket, and 200 concurrent
# connections; the daemon answers PING afterwards. Real fleet, real pool.
. "$(dirname "$0")/lib/common.sh"
NAME=clamd_protocol
need_corpus "$NAME"
need_redis "$NAME"
P=$BIN/pefleet
H5=$SHARED/seed/ergo-pe-av/model.h5
[ -f "$H5" ] || { skip "$NAME" "$H5 not found"; exit 0; }
fleet_ports
read -r SP SCP SIMP HP CP CP2 CP3 < <(free_ports 7)
D=$T/fleet
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; "$P" down --data "$D" >/dev/null 2>&1; rm -rf "$T"' EXIT
"$P" import-keras "$H5" -o "$T/m1" --version seed-a >/dev/null 2>&1 || { notok import "import-keras failed"; finish; }
if ! "$P" up --data "$D" --workers 1 --scorers 2 --model "$T/m1" --redis-port "$RP" --ingest-port "$IP" \
     --worker-port "$WP" --score-port "$SP" --scorer-port "$SCP" --similar-port "$SIMP" --port "$HP" >"$T/up.log" 2>&1; then
  notok up "$(tail -3 "$T/up.log")"; finish
fi
"$BIN/pefleet-clamd" --data "$D" --port "$CP" --socket "$T/c.sock" >"$T/clamd.log" 2>&1 &
PIDS+=($!)
"$BIN/pefleet-clamd" --data "$D" --port "$CP2" --socket "" --max-connections 3 --budget 1m --stream-max 512k \
  --read-timeout 4 --idle-timeout 3 --max-pending 8 >"$T/small.log" 2>&1 &
PIDS+=($!)
"$BIN/pefleet-clamd" --data "$D" --port "$CP3" --socket "" --max-connections 3 >"$T/cap.log" 2>&1 &
PIDS+=($!)
for port in "$CP" "$CP2" "$CP3"; do
  for _ in $(seq 50); do
    python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$port" 2>/dev/null && break
    sleep 0.1
  done
done
python3 "$(dirname "$0")/lib/clamd_raw.py" "$CP" "$T/c.sock" "$CP2" "$CORPUS/malicious-test/clam-aspack.exe" \
  "$CORPUS/clean/cli-64.exe" "$CP3" || FAILS=$((FAILS + 1))
for p in "${PIDS[@]}"; do
  kill -0 "$p" 2>/dev/null
  check "daemon_${p}_still_running" test $? -eq 0
done
perm=$(stat -c %a "$T/c.sock")
check "unix_socket_mode_0600 ($perm)" test "$perm" = 600
grep -q 'INSTREAM from 127.0.0.1:[0-9]*: [0-9]* bytes, sha256 [0-9a-f]\{64\}: Pefleet.Malicious.ergo486 FOUND (p=' "$T/clamd.log"
check log_line_per_request test $? -eq 0
finish
