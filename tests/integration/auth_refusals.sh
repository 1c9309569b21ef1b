#!/usr/bin/env bash
# Authentication between hosts, refused where it must be: a real
# redis-server with a password and a broker with CURVE on (loopback).
# - Redis: a client without the password, or with a wrong one, is refused
#   (pefleet status fails and says why); the right password works.
# - ZeroMQ: an ingest request from a client whose key is not in the
#   broker's allow folder gets no answer and never reaches Redis, and the
#   broker's log names the refused key; a plain (non-CURVE) client gets no
#   answer either; the same request with an allowed key is acknowledged;
#   a key dropped into the folder later is admitted without a restart; a
#   key listed for another role (an encoder worker's, at the ingest port)
#   is refused and the log says which role it has; a key left directly in
#   the allow folder (the layout before roles) is admitted nowhere.
. "$(dirname "$0")/lib/common.sh"
need_redis auth_refusals
ZSEND=${BUILD:-$ROOT/build}/tools/zsend
[ -x "$ZSEND" ] || { skip auth_refusals "$ZSEND not built (make)"; exit 0; }
P=$BIN/pefleet
D=$T/fleet
mkdir -p "$D/logs" "$D/keys/allowed/clients"
fleet_ports
PASS=test-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
REDIS_PID= BROKER_PID=
trap '[ -n "$BROKER_PID" ] && kill $BROKER_PID 2>/dev/null; [ -n "$REDIS_PID" ] && kill $REDIS_PID 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT

redis-server --port "$RP" --bind 127.0.0.1 --dir "$D" --appendonly yes --requirepass "$PASS" --save '' \
  >"$D/logs/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 50); do redis-cli -p "$RP" -a "$PASS" --no-auth-warning ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done

# --- keys: the broker's, one allowed client, one unknown client -------------
"$P" keygen broker -o "$D/keys" >/dev/null 2>&1 &&
  "$P" keygen good -o "$D/keys" --role client >/dev/null 2>&1 &&
  "$P" keygen stranger -o "$D/keys" >/dev/null 2>&1 &&
  "$P" keygen late -o "$D/keys" >/dev/null 2>&1 &&
  "$P" keygen worker -o "$D/keys" --role worker >/dev/null 2>&1 &&
  "$P" keygen roleless -o "$D/keys" >/dev/null 2>&1
check keygen_made_six_pairs test -s "$D/keys/roleless.pub"
check keygen_role_lists_the_key cmp -s "$D/keys/good.pub" "$D/keys/allowed/clients/good.pub"
check keygen_role_worker_list cmp -s "$D/keys/worker.pub" "$D/keys/allowed/workers/worker.pub"
"$P" keygen worker2 -o "$D/keys" --role server >/dev/null 2>&1
check "keygen_unknown_role_exit_2 ($?)" test $? -eq 2
cp "$D/keys/roleless.pub" "$D/keys/allowed/"
check keygen_secret_mode_0600 test "$(stat -c %a "$D/keys/good.key")" = 600

cat >"$D/pefleet.conf" <<EOF
redis_port = $RP
redis_password = $PASS
ingest_endpoint = tcp://127.0.0.1:$IP
worker_endpoint = tcp://127.0.0.1:$WP
curve = 1
curve_secret_file = $D/keys/broker.key
curve_allow_dir = $D/keys/allowed
EOF

# --- Redis AUTH ----------------------------------------------------------------
"$P" status --data "$D" >"$T/st.ok" 2>&1
check status_with_password_works grep -q '^samples 0' "$T/st.ok"
PEFLEET_REDIS_PASSWORD=wrong-password "$P" status --data "$D" >"$T/st.bad" 2>&1
src=$?
if [ $src -ne 0 ] && grep -qiE 'WRONGPASS|invalid username-password|AUTH' "$T/st.bad"; then
  ok "status_with_wrong_password_refused (exit $src: $(head -1 "$T/st.bad"))"
else
  notok status_with_wrong_password_refused "exit $src: $(cat "$T/st.bad")"
fi
sed "/^redis_password/d" "$D/pefleet.conf" >"$T/nopass.conf"
"$P" status --config "$T/nopass.conf" >"$T/st.none" 2>&1
src=$?
if [ $src -ne 0 ] && grep -qiE 'NOAUTH|auth' "$T/st.none"; then
  ok "status_without_password_refused (exit $src: $(head -1 "$T/st.none"))"
else
  notok status_without_password_refused "exit $src: $(cat "$T/st.none")"
fi
check redis_cli_without_password_refused sh -c "redis-cli -p $RP get x 2>&1 | grep -q NOAUTH"

# --- a broker with CURVE on ---------------------------------------------------
"$BIN/pefleet-broker" --data "$D" 2>"$D/logs/broker.log" &
BROKER_PID=$!
for _ in $(seq 50); do grep -q listening "$D/logs/broker.log" && break; sleep 0.1; done
check broker_listens_with_curve grep -q 'listening.*CURVE' "$D/logs/broker.log"
check broker_config_printed_masked grep -q 'redis_password = \*\*\*\*' "$D/logs/broker.log"
check broker_log_has_no_secret sh -c "! grep -qF -e '$PASS' -e \"\$(sed -n 's/^secret //p' '$D/keys/broker.key')\" '$D/logs/broker.log'"

SHA1=$(printf 'stranger' | sha256sum | cut -c1-64)
SHA2=$(printf 'good' | sha256sum | cut -c1-64)
SHA3=$(printf 'late' | sha256sum | cut -c1-64)
SHA4=$(printf 'plain' | sha256sum | cut -c1-64)
RC="redis-cli -p $RP -a $PASS --no-auth-warning"

out=$("$ZSEND" --timeout 2500 --curve "$D/keys/stranger.key" "$D/keys/broker.pub" "tcp://127.0.0.1:$IP" ingest "$SHA1" clean 2>&1)
check "unknown_key_gets_no_answer ($out)" test "$out" = "no reply"
check unknown_key_never_reached_redis test "$($RC exists "pf:s:$SHA1")" = 0
stranger=$(cat "$D/keys/stranger.pub")
check broker_logged_refused_key grep -qF "refused client key $stranger" "$D/logs/broker.log"

out=$("$ZSEND" --timeout 2500 "tcp://127.0.0.1:$IP" ingest "$SHA4" clean 2>&1)
check "plain_client_gets_no_answer ($out)" test "$out" = "no reply"
check plain_client_never_reached_redis test "$($RC exists "pf:s:$SHA4")" = 0
# (libzmq reports a mismatch, or only a hang-up when the client saw it first)
check broker_logged_plain_client grep -qE "refused a peer on tcp://127.0.0.1:$IP: (not a CURVE client|it closed the connection)" \
  "$D/logs/broker.log"

out=$("$ZSEND" --timeout 5000 --curve "$D/keys/good.key" "$D/keys/broker.pub" "tcp://127.0.0.1:$IP" ingest "$SHA2" clean 2>&1)
check "allowed_key_is_acknowledged ($out)" sh -c "echo '$out' | grep -q '(queued)'"
check allowed_key_reached_redis test "$($RC exists "pf:s:$SHA2")" = 1

# a worker's key at the ingest port (a client socket): refused, and the log says why
SHA5=$(printf 'worker' | sha256sum | cut -c1-64)
out=$("$ZSEND" --timeout 2500 --curve "$D/keys/worker.key" "$D/keys/broker.pub" "tcp://127.0.0.1:$IP" ingest "$SHA5" clean 2>&1)
check "worker_key_at_ingest_gets_no_answer ($out)" test "$out" = "no reply"
check worker_key_at_ingest_never_reached_redis test "$($RC exists "pf:s:$SHA5")" = 0
check broker_logged_key_of_other_role grep -qF "refused client key $(cat "$D/keys/worker.pub") at 127.0.0.1: not in $D/keys/allowed/clients (the client socket's list); it is a worker key" "$D/logs/broker.log"
# a key directly in the allow folder has no role: admitted nowhere
out=$("$ZSEND" --timeout 2500 --curve "$D/keys/roleless.key" "$D/keys/broker.pub" "tcp://127.0.0.1:$IP" ingest "$SHA5" clean 2>&1)
check "roleless_key_gets_no_answer ($out)" test "$out" = "no reply"
check broker_warned_roleless_keys grep -q "curve: 1 \*.pub file(s) directly in $D/keys/allowed are ignored" "$D/logs/broker.log"

# a key that was refused is admitted once its .pub is in the folder
"$ZSEND" --timeout 1500 --curve "$D/keys/late.key" "$D/keys/broker.pub" "tcp://127.0.0.1:$IP" ingest "$SHA3" clean >/dev/null 2>&1
cp "$D/keys/late.pub" "$D/keys/allowed/clients/"
sleep 1.1 # the allow folder is read again at most once a second
out=$("$ZSEND" --timeout 5000 --curve "$D/keys/late.key" "$D/keys/broker.pub" "tcp://127.0.0.1:$IP" ingest "$SHA3" clean 2>&1)
check "key_added_later_is_admitted ($out)" sh -c "echo '$out' | grep -q '(queued)'"

# pefleet ingest with the wrong server key: a clear failure, nothing queued
echo hello >"$T/x.bin"
cat "$D/pefleet.conf" >"$T/client.conf"
printf "curve_server_key = %s\nstore = %s\n" "$D/keys/good.pub" "$D/store" >>"$T/client.conf"
sed -i "s|^curve_secret_file.*|curve_secret_file = $D/keys/good.key|" "$T/client.conf"
"$P" ingest --config "$T/client.conf" --label clean --retry-for 3 "$T/x.bin" >"$T/ing.out" 2>&1
irc=$?
check "ingest_with_wrong_server_key_fails (exit $irc: $(grep -m1 'did not' "$T/ing.out"))" sh -c "[ $irc -ne 0 ] && grep -q 'did not acknowledge' '$T/ing.out'"
check broker_logged_wrong_server_key grep -q "refused a peer on tcp://127.0.0.1:$IP: its handshake does not decrypt" "$D/logs/broker.log"
finish
