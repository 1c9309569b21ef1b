#!/usr/bin/env bash
# The broker under bad input: `pefleet up` a one-worker fleet on free ports,
# then send (with build/tools/zsend) garbage, oversized, wrong-version,
# body-less, too-many-frame and wrong-type messages to both of the broker's
# endpoints, and ingest requests with a malformed sha256 or label. Checks
# that ingest clients get a REJECTED ack naming the problem (or nothing, for
# messages that cannot be answered), that broker.log has exactly one line
# per bad message naming the reason, that the broker neither crashed nor was
# restarted, and that a normal `pefleet ingest --wait` still succeeds.
. "$(dirname "$0")/lib/common.sh"
need_corpus broker_bad_messages
need_redis broker_bad_messages
BUILD=${BUILD:-$ROOT/build}
ZS=$BUILD/tools/zsend
P=$BIN/pefleet
if [ ! -x "$ZS" ]; then notok zsend_built "$ZS not found (run make)"; finish; fi
D=$T/fleet
LOG=$D/logs/broker.log
fleet_ports
ING=tcp://127.0.0.1:$IP
WRK=tcp://127.0.0.1:$WP
fleet_cleanup_on_exit "$D"

if ! "$P" up --data "$D" --workers 1 --redis-port "$RP" --ingest-port "$IP" --worker-port "$WP" --scorers 0 >"$T/up.out" 2>&1; then
  notok fleet_up "$(tr '\n' ' ' <"$T/up.out")"; tail -20 "$D"/logs/*.log; finish
fi
ok "fleet_up (redis $RP, ingest $IP, workers $WP)"
broker_pid() { awk '$1=="broker" {print $3}' "$D/fleet.state"; }
worker_pid() { awk '$1=="encoder-worker" {print $3}' "$D/fleet.state"; }
BPID=$(broker_pid)
WPID=$(worker_pid)
# the broker is serving once the worker has announced itself
for _ in $(seq 1 100); do grep -q "ready, capacity" "$LOG" 2>/dev/null && break; sleep 0.1; done
check broker_serving grep -q "ready, capacity" "$LOG"

nlines() { wc -l <"$LOG"; }

# sendto NAME ENDPOINT REPLY_RE LOG_RE [zsend options] MODE [ARG...]
# Sends one message with zsend. REPLY_RE must match zsend's one-line answer
# ("^no reply$" when none is expected); LOG_RE must match the one WARN/ERROR
# line the message adds to broker.log ("" when it must add none).
sendto() {
  local name=$1 ep=$2 reply_re=$3 log_re=$4
  shift 4
  local opts=()
  while [ $# -gt 0 ] && [ "${1#--}" != "$1" ]; do opts+=("$1"); shift; done
  local tmo=2000
  [ "$reply_re" = "^no reply$" ] && tmo=400
  local before reply new lines
  before=$(nlines)
  reply=$("$ZS" --timeout "$tmo" "${opts[@]}" "$ep" "$@" 2>&1 | head -c 500)
  if [ -n "$log_re" ]; then
    for _ in $(seq 1 30); do [ "$(nlines)" -gt "$before" ] && break; sleep 0.1; done
    sleep 0.05
  else
    sleep 0.3
  fi
  new=$(tail -n +"$((before + 1))" "$LOG" | grep -E ' (WARN|ERROR) ')
  lines=$(printf '%s' "$new" | grep -c .)
  if ! printf '%s\n' "$reply" | grep -Eq -- "$reply_re"; then
    notok "$name" "reply '$reply' does not match /$reply_re/"
  elif [ -z "$log_re" ] && [ "$lines" -ne 0 ]; then
    notok "$name" "expected no log line, got: $new"
  elif [ -n "$log_re" ] && [ "$lines" -ne 1 ]; then
    notok "$name" "expected one log line matching /$log_re/, got $lines: $(printf '%s' "$new" | tr '\n' '|')"
  elif [ -n "$log_re" ] && ! printf '%s\n' "$new" | grep -Eq -- "$log_re"; then
    notok "$name" "log line '$new' does not match /$log_re/"
  else
    ok "$name (${reply:0:100}${log_re:+; logged: ${new#*]: }})"
  fi
}

REJ='^ack status=3 \(rejected\) '
GARBAGE_WHY='malformed message|unsupported schema version|without a body'
SHA_OK=$(head -c 64 /dev/urandom | sha256sum | cut -d' ' -f1)

# --- the ingest endpoint: answered with REJECTED where an answer is possible ---
sendto ingest_garbage_100 "$ING" "${REJ}.*error=($GARBAGE_WHY)" "rejecting ingest message: ($GARBAGE_WHY)" garbage 100 1
sendto ingest_garbage_3000 "$ING" "${REJ}.*error=($GARBAGE_WHY)" "rejecting ingest message: ($GARBAGE_WHY)" garbage 3000 2
sendto ingest_garbage_5 "$ING" "${REJ}.*error=($GARBAGE_WHY)" "rejecting ingest message: ($GARBAGE_WHY)" garbage 5 3
sendto ingest_oversize_under_zmq_cap "$ING" "${REJ}.*error=message of 65600 bytes exceeds the 65536-byte limit" \
  "rejecting ingest message: message of 65600 bytes exceeds the 65536-byte limit" oversize 65600
sendto ingest_version2 "$ING" "${REJ}.*error=unsupported schema version 2 " \
  "rejecting ingest message: unsupported schema version 2 " version2
sendto ingest_empty_envelope "$ING" "${REJ}.*error=message without a body" \
  "rejecting ingest message: message without a body" empty
sendto ingest_one_empty_frame "$ING" "${REJ}.*error=unsupported schema version 0 " \
  "rejecting ingest message: unsupported schema version 0 " frames 1
sendto ingest_too_many_frames "$ING" "^no reply$" "dropping an ingest message with 9 frames" frames 8
sendto ingest_too_many_frames_big "$ING" "^no reply$" "dropping an ingest message with 1001 frames" frames 1000
sendto ingest_job_on_ingest_socket "$ING" "${REJ}.*error=expected an ingest request, got job" \
  "rejecting ingest message: expected an ingest request, got job" job-to-ingest
sendto ingest_bad_sha256 "$ING" "${REJ}sha256=- .*error=sha256 must be 64 lower-case hex characters$" \
  "rejecting ingest of a malformed sha256" ingest not-a-sha clean
sendto ingest_upper_case_sha256 "$ING" "${REJ}.*error=sha256 must be 64 lower-case hex characters$" \
  "rejecting ingest of a malformed sha256" ingest "$(echo "$SHA_OK" | tr a-f A-F)" clean
sendto ingest_sha256_too_long "$ING" "${REJ}.*error=sha256 must be 64 lower-case hex characters$" \
  "rejecting ingest of a malformed sha256" ingest "${SHA_OK}0" clean
sendto ingest_label_with_comma "$ING" \
  "${REJ}sha256=$SHA_OK .*error=label must be 1-127 printable ASCII characters without commas$" \
  "rejecting ingest of $SHA_OK: bad label" ingest "$SHA_OK" "clean,malicious"
sendto ingest_empty_label "$ING" "${REJ}.*error=label must be" "rejecting ingest of $SHA_OK: bad label" \
  ingest "$SHA_OK" ""
sendto ingest_label_with_newline "$ING" "${REJ}.*error=label must be" "rejecting ingest of $SHA_OK: bad label" \
  ingest "$SHA_OK" $'clean\nINFO fake log line'

# Over ZMQ_MAXMSGSIZE: libzmq drops the connection before the broker sees it.
sendto ingest_oversize_over_zmq_cap "$ING" "^no reply$" "" oversize 1048576
sendto ingest_oversize_over_zmq_cap_4mib "$ING" "^no reply$" "" oversize 4194304

# --- the worker endpoint: never answered, always logged ----------------------
sendto worker_garbage_100 "$WRK" "^no reply$" "dropping a malformed worker message: ($GARBAGE_WHY)" garbage 100 1
sendto worker_garbage_3000 "$WRK" "^no reply$" "dropping a malformed worker message: ($GARBAGE_WHY)" garbage 3000 2
sendto worker_oversize_under_zmq_cap "$WRK" "^no reply$" \
  "dropping a malformed worker message: message of 65600 bytes exceeds the 65536-byte limit" oversize 65600
sendto worker_version2 "$WRK" "^no reply$" "dropping a malformed worker message: unsupported schema version 2 " version2
sendto worker_empty_envelope "$WRK" "^no reply$" "dropping a malformed worker message: message without a body" empty
sendto worker_one_empty_frame "$WRK" "^no reply$" "dropping a malformed worker message: unsupported schema version 0 " frames 1
sendto worker_too_many_frames "$WRK" "^no reply$" "dropping a worker message with 9 frames" frames 8
sendto worker_delimited_ingest "$WRK" "^no reply$" "dropping a worker message with 3 frames" ingest "$SHA_OK" clean
sendto worker_ingest_request "$WRK" "^no reply$" "dropping an unexpected ingest message from a worker" \
  --no-delim ingest "$SHA_OK" clean
sendto worker_job_from_a_worker "$WRK" "^no reply$" "dropping an unexpected job message from a worker" \
  --no-delim job-to-ingest
sendto worker_oversize_over_zmq_cap "$WRK" "^no reply$" "" oversize 1048576

# --- still the same broker, still serving ------------------------------------
check "broker_pid_unchanged ($BPID)" test "$(broker_pid)" = "$BPID"
check broker_process_alive kill -0 "$BPID"
check "worker_pid_unchanged ($WPID)" test "$(worker_pid)" = "$WPID"
"$P" status --json --data "$D" >"$T/st.json" 2>"$T/st.err"
check status_all_alive_no_restarts python3 -c '
import json,sys; s=json.load(open(sys.argv[1]))
roles=[d["role"] for d in s["daemons"]]
assert "broker" in roles and "encoder-worker" in roles, roles
for d in s["daemons"]:
    assert d["alive"], d
    assert d.get("restarts", 0) == 0, d' "$T/st.json"
check broker_log_has_no_errors bash -c "! grep -E ' ERROR ' '$LOG'"

# a well-formed request from the same tool is accepted: the rejections above
# were about the messages, not the tool
sendto ingest_well_formed_control "$ING" "^ack status=1 \(queued\) sha256=$SHA_OK " "" ingest "$SHA_OK" control

# and the real client still gets a sample through the whole fleet
F=$CORPUS/clean/t32.exe
[ -f "$F" ] || F=$(find "$CORPUS/clean" -type f | sort | head -1)
"$P" ingest --data "$D" --label clean --wait --retry-for 30 "$F" >"$T/ingest.out" 2>"$T/ingest.err"
irc=$?
if [ $irc -eq 0 ] && grep -q '^done 1, failed 0$' "$T/ingest.out"; then
  ok "pefleet_ingest_wait_after_bad_messages ($(basename "$F"))"
else
  notok pefleet_ingest_wait_after_bad_messages "exit $irc: $(tr '\n' ' ' <"$T/ingest.out") $(tr '\n' ' ' <"$T/ingest.err")"
fi
check "broker_pid_unchanged_at_end ($BPID)" test "$(broker_pid)" = "$BPID"

"$P" down --data "$D" >"$T/down.out" 2>&1
check fleet_down_exit_0 test $? -eq 0
check broker_stopped_cleanly grep -q "stopping: .* ingests acknowledged" "$LOG"
# (under `make sanitize`: no ASan/UBSan/LSan report from the broker or the worker)
check no_sanitizer_reports bash -c "! grep -Eq 'Sanitizer|runtime error:' '$LOG' '$D/logs/encoder-worker-1.log'"
finish
