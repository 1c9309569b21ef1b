#!/usr/bin/env bash
# Many hosts on one machine: network namespaces joined by veth pairs stand
# for the hosts, and every link between them is a real TCP connection with
# ZeroMQ CURVE on and Redis AUTH.
#   core    10.77.X.1   redis-server (password), pefleet-broker, score router
#           10.78.X.1
#   enc     10.77.X.2   encoder workers (one per core), pefleet ingest and
#                       scan --server, the HTTP gateway
#   score   10.78.X.2   scorers, a worker whose key is unknown
# (X is picked per run.) The sample store is a folder all three see, as a
# shared mount would be between real hosts. Ingest the corpus through it
# and check every sample is done; check the worker with an unknown key is
# refused (it is never ready at the broker, never encodes a sample, and the
# broker's log names its key). Keys have roles (keygen --role): a scorer's
# key is refused at the broker's worker port, the gateway's (a client key)
# at the router's scorer port, a worker's at the router's score port, each
# refusal logged with the key's role. Then scan through the pool (the seed's model
# promoted): `pefleet scan --server` and the gateway's POST / from the
# encoder host give what a local `pefleet scan` gives, and a scan client
# with an unknown key gets nothing. Needs root (CAP_NET_ADMIN) to make
# namespaces: skipped with the reason otherwise. Namespaces and daemons are
# removed at exit, failure or not.
. "$(dirname "$0")/lib/common.sh"
need_corpus multihost_netns
need_redis multihost_netns
command -v ip >/dev/null || { skip multihost_netns "ip (iproute2) not installed"; exit 0; }
P=$BIN/pefleet
NET=$((RANDOM % 200 + 20))
NS_CORE=pfc$$ NS_ENC=pfe$$ NS_SCORE=pfs$$
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.3
  for ns in $NS_CORE $NS_ENC $NS_SCORE; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  wait 2>/dev/null
  [ -n "${KEEP_LOGS:-}" ] && cp -r "$T/logs" "$KEEP_LOGS"
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP # the EXIT trap still removes the namespaces

if ! ip netns add "$NS_CORE" 2>"$T/netns.err"; then
  skip multihost_netns "cannot make network namespaces ($(head -1 "$T/netns.err"); needs root or CAP_NET_ADMIN)"
  exit 0
fi
ip netns add "$NS_ENC" && ip netns add "$NS_SCORE" || { notok netns_setup "ip netns add failed"; finish; }
CORE_IP=10.77.$NET.1 ENC_IP=10.77.$NET.2 CORE_IP2=10.78.$NET.1 SCORE_IP=10.78.$NET.2
setup_net() {
  ip link add "pfa$$" type veth peer name "pfb$$" &&
    ip link set "pfa$$" netns "$NS_CORE" && ip link set "pfb$$" netns "$NS_ENC" &&
    ip link add "pfc$$" type veth peer name "pfd$$" &&
    ip link set "pfc$$" netns "$NS_CORE" && ip link set "pfd$$" netns "$NS_SCORE" &&
    ip -n "$NS_CORE" addr add "$CORE_IP/24" dev "pfa$$" && ip -n "$NS_ENC" addr add "$ENC_IP/24" dev "pfb$$" &&
    ip -n "$NS_CORE" addr add "$CORE_IP2/24" dev "pfc$$" && ip -n "$NS_SCORE" addr add "$SCORE_IP/24" dev "pfd$$" &&
    for ns in $NS_CORE $NS_ENC $NS_SCORE; do ip -n "$ns" link set lo up || return 1; done &&
    ip -n "$NS_CORE" link set "pfa$$" up && ip -n "$NS_CORE" link set "pfc$$" up &&
    ip -n "$NS_ENC" link set "pfb$$" up && ip -n "$NS_SCORE" link set "pfd$$" up
}
if ! setup_net 2>"$T/net.err"; then
  if grep -qiE 'not supported|unknown device type|permission denied|not permitted' "$T/net.err"; then
    skip multihost_netns "cannot make veth links here: $(head -1 "$T/net.err")"; exit 0
  fi
  notok netns_setup "$(cat "$T/net.err")"; finish
fi
check "hosts_have_routes_to_core (core $CORE_IP/$CORE_IP2, enc $ENC_IP, score $SCORE_IP)" \
  sh -c "ip -n $NS_ENC route get $CORE_IP >/dev/null && ip -n $NS_SCORE route get $CORE_IP2 >/dev/null"
check encoder_host_has_no_route_to_score_host sh -c "! ip -n $NS_ENC route get $SCORE_IP >/dev/null 2>&1"

# --- keys: one server pair (broker, score router), one per client ------------
K=$T/keys
mkdir -p "$T/logs"
for n in server:none worker:worker client:client scorer:scorer gateway:client rogue:none; do
  role=${n#*:}; n=${n%%:*}
  "$P" keygen "$n" -o "$K" $([ "$role" = none ] || echo "--role $role") >/dev/null 2>&1 || notok keygen "$n"
done
PASS=ns-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
STORE=$T/store
mkdir -p "$STORE"

# One configuration per host role, as each host would have its own file.
common() {
  cat <<EOF
redis_password = $PASS
store = $STORE
ingest_endpoint = tcp://$CORE_IP:5555
worker_endpoint = tcp://$CORE_IP:5556
score_endpoint = tcp://$CORE_IP:5557
scorer_endpoint = tcp://$CORE_IP2:5558
curve = 1
curve_server_key = $K/server.pub
heartbeat_ms = 300
EOF
}
# the broker binds every address of its host; clients name the one they reach
{ common; echo "data = $T/core"; echo "redis_host = 127.0.0.1"; echo "redis_port = 6390"
  echo "ingest_endpoint = tcp://*:5555"; echo "worker_endpoint = tcp://*:5556"
  echo "score_endpoint = tcp://*:5557"; echo "scorer_endpoint = tcp://*:5558"
  echo "curve_secret_file = $K/server.key"; echo "curve_allow_dir = $K/allowed"; } >"$T/core.conf"
{ common; echo "redis_host = $CORE_IP"; echo "redis_port = 6390"; echo "curve_secret_file = $K/worker.key"; } >"$T/worker.conf"
{ common; echo "redis_host = $CORE_IP"; echo "redis_port = 6390"; echo "curve_secret_file = $K/client.key"; } >"$T/client.conf"
{ common; echo "redis_host = $CORE_IP2"; echo "redis_port = 6390"; echo "curve_secret_file = $K/rogue.key"
  echo "worker_endpoint = tcp://$CORE_IP2:5556"; } >"$T/rogue.conf"
{ common; echo "redis_host = $CORE_IP2"; echo "redis_port = 6390"; echo "curve_secret_file = $K/scorer.key"; } >"$T/scorer.conf"
# a scorer's key used by a worker, the gateway's key used by a scorer (score host)
sed "s|^curve_secret_file.*|curve_secret_file = $K/scorer.key|" "$T/rogue.conf" >"$T/scorer-as-worker.conf"
sed "s|^curve_secret_file.*|curve_secret_file = $K/gateway.key|" "$T/scorer.conf" >"$T/gateway-as-scorer.conf"
{ common; echo "redis_host = $CORE_IP"; echo "redis_port = 6390"; echo "curve_secret_file = $K/gateway.key"
  echo "http_address = $ENC_IP"; echo "http_port = 8080"; } >"$T/gateway.conf"
mkdir -p "$T/core"

# --- core host: redis (password, AOF) and the broker ------------------------
ip netns exec "$NS_CORE" redis-server --port 6390 --bind "127.0.0.1 $CORE_IP $CORE_IP2" --requirepass "$PASS" \
  --appendonly yes --dir "$T/core" --save '' >"$T/logs/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
  ip netns exec "$NS_ENC" redis-cli -h "$CORE_IP" -p 6390 -a "$PASS" --no-auth-warning ping 2>/dev/null | grep -q PONG && break
  sleep 0.1
done
check redis_reachable_from_encoder_host_with_password \
  sh -c "ip netns exec $NS_ENC redis-cli -h $CORE_IP -p 6390 -a '$PASS' --no-auth-warning ping | grep -q PONG"
check redis_refuses_encoder_host_without_password \
  sh -c "ip netns exec $NS_ENC redis-cli -h $CORE_IP -p 6390 get x 2>&1 | grep -q NOAUTH"

ip netns exec "$NS_CORE" "$BIN/pefleet-broker" --config "$T/core.conf" 2>"$T/logs/broker.log" &
PIDS+=($!)
for _ in $(seq 100); do grep -q listening "$T/logs/broker.log" && break; sleep 0.1; done
check broker_listens_with_curve grep -q "listening: ingest tcp://\\*:5555.*CURVE" "$T/logs/broker.log"

# --- encoder host: one worker per core; score host: a worker with an unknown key
ncores=$(nproc)
for i in $(seq 1 "$ncores"); do
  ip netns exec "$NS_ENC" "$BIN/pefleet-encoder-worker" --config "$T/worker.conf" 2>"$T/logs/worker-$i.log" &
  PIDS+=($!)
done
ip netns exec "$NS_SCORE" "$BIN/pefleet-encoder-worker" --config "$T/rogue.conf" 2>"$T/logs/rogue.log" &
ROGUE=$!
PIDS+=($ROGUE)
ip netns exec "$NS_SCORE" "$BIN/pefleet-encoder-worker" --config "$T/scorer-as-worker.conf" 2>"$T/logs/scorer-as-worker.log" &
SAW=$!
PIDS+=($SAW)
for _ in $(seq 100); do
  [ "$(grep -c ' ready, capacity' "$T/logs/broker.log")" -ge "$ncores" ] && break
  sleep 0.1
done
check "all_${ncores}_workers_ready_over_curve" test "$(grep -c ' ready, capacity' "$T/logs/broker.log")" -ge "$ncores"

# --- ingest the corpus from the encoder host --------------------------------
S=$T/samples
mkdir -p "$S"
cp "$CORPUS"/clean/* "$S/"
nfiles=$(ls "$S" | wc -l)
ip netns exec "$NS_ENC" "$P" ingest --config "$T/client.conf" --label clean --wait -q "$S" >"$T/ingest.out" 2>&1
irc=$?
# a corpus file LIEF rejects is a verdict too ("done" or "failed"): count both
read -r done failed < <(ip netns exec "$NS_ENC" redis-cli -h "$CORE_IP" -p 6390 -a "$PASS" --no-auth-warning \
  eval "return {redis.call('scard','pf:done'), redis.call('scard','pf:failed')}" 0 | tr '\n' ' ')
check "every_sample_finished_over_the_hosts ($nfiles files: done $done, failed $failed, ingest exit $irc)" \
  test "$((done + failed))" -eq "$nfiles"
check ingest_waited_successfully grep -q "^done $done, failed $failed" "$T/ingest.out"
encoded=$(cat "$T"/logs/worker-*.log | grep -c 'encoded$')
check "encoder_host_workers_did_the_work ($encoded encoded)" test "$encoded" -eq "$done"

# --- the worker with an unknown key ------------------------------------------
rogue_key=$(cat "$K/rogue.pub")
check rogue_worker_refused_in_broker_log grep -qF "refused client key $rogue_key at $SCORE_IP" "$T/logs/broker.log"
check rogue_worker_never_ready sh -c "! grep -q '(pid $ROGUE) ready' '$T/logs/broker.log'"
check rogue_worker_never_encoded sh -c "! grep -qE 'encoded|failed:' '$T/logs/rogue.log'"
check rogue_worker_still_running kill -0 "$ROGUE"
for _ in $(seq 100); do grep -qF "refused client key $(cat "$K/scorer.pub")" "$T/logs/broker.log" && break; sleep 0.1; done
check scorer_key_refused_at_worker_port grep -qF "refused client key $(cat "$K/scorer.pub") at $SCORE_IP: not in $K/allowed/workers (the worker socket's list); it is a scorer key" "$T/logs/broker.log"
check scorer_key_worker_never_ready sh -c "! grep -q '(pid $SAW) ready' '$T/logs/broker.log'"
check scorer_key_worker_never_encoded sh -c "! grep -qE 'encoded|failed:' '$T/logs/scorer-as-worker.log'"

# --- scanning through the pool: router on core, scorers on the score host ----
H5=$SHARED/seed/ergo-pe-av/model.h5
if [ ! -x "$BIN/pefleet-score-router" ] || [ ! -x "$BIN/pefleet-scorer" ]; then
  skip multihost_scan "pefleet-score-router / pefleet-scorer not built"; finish
fi
[ -f "$H5" ] || { skip multihost_scan "$H5 not found"; finish; }
"$P" import-keras "$H5" -o "$T/m1" >/dev/null 2>&1 || { notok import_keras "import-keras failed"; finish; }
ip netns exec "$NS_CORE" "$P" promote "$T/m1" --config "$T/core.conf" >"$T/promote.out" 2>&1
check promote_on_core_host test $? -eq 0
ip netns exec "$NS_CORE" "$BIN/pefleet-score-router" --config "$T/core.conf" 2>"$T/logs/score-router.log" &
PIDS+=($!)
for i in 1 2; do
  ip netns exec "$NS_SCORE" "$BIN/pefleet-scorer" --config "$T/scorer.conf" 2>"$T/logs/scorer-$i.log" &
  PIDS+=($!)
done
for _ in $(seq 100); do
  [ "$(cat "$T/logs/score-router.log" 2>/dev/null | grep -c 'ready, capacity')" -ge 2 ] && break; sleep 0.1
done
check router_runs_the_curve_allow_list grep -q 'curve: 4 allowed client key' "$T/logs/score-router.log"
check "two_scorers_ready_over_curve" test "$(grep -c 'ready, capacity' "$T/logs/score-router.log")" -ge 2
check scorers_subscribed_to_promotions_with_auth \
  sh -c "grep -q 'listening for model promotions' '$T/logs/scorer-1.log' && grep -q 'listening for model promotions' '$T/logs/scorer-2.log'"
SC=$T/scan
mkdir -p "$SC"
cp "$CORPUS"/clean/t32.exe "$CORPUS"/malicious-test/clam-aspack.exe "$SC/" 2>/dev/null || cp "$CORPUS"/clean/* "$SC/"
"$P" scan "$T/m1" --jsonl -q "$SC" >"$T/local.jsonl" 2>/dev/null
ip netns exec "$NS_ENC" "$P" scan --server --config "$T/client.conf" --jsonl -q "$SC" >"$T/remote.jsonl" 2>"$T/remote.err"
src=$?
check "scan_through_the_hosts_equals_local (exit $src)" python3 - "$T/local.jsonl" "$T/remote.jsonl" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b) and len(a) >= 2, (len(a), len(b))
for x, y in zip(a, b):
    assert x["sha256"] == y["sha256"] and "error" not in y, (x, y)
    assert x["verdict"] == y["verdict"], (x, y)
    assert max(abs(p - q) for p, q in zip(x["probabilities"], y["probabilities"])) <= 1e-6, (x, y)
PY
sed "s|^curve_secret_file.*|curve_secret_file = $K/rogue.key|" "$T/client.conf" >"$T/rogue-client.conf"
ip netns exec "$NS_ENC" "$P" scan --server --config "$T/rogue-client.conf" --timeout 2 -q "$SC" >"$T/rogue-scan.out" 2>"$T/rogue-scan.err"
rsc=$?
check "scan_with_unknown_key_gets_no_answer (exit $rsc: $(head -c 100 "$T/rogue-scan.err"))" \
  sh -c "[ $rsc -eq 1 ] && ! grep -qE '^(clean|malicious) ' '$T/rogue-scan.out' && grep -qE 'did not answer|no connection' '$T/rogue-scan.err'"
check router_logged_refused_scan_key grep -qF "refused client key $(cat "$K/rogue.pub") at $ENC_IP" "$T/logs/score-router.log"
# a worker's key at the router's score port (a client socket)
sed "s|^curve_secret_file.*|curve_secret_file = $K/worker.key|" "$T/client.conf" >"$T/worker-client.conf"
ip netns exec "$NS_ENC" "$P" scan --server --config "$T/worker-client.conf" --timeout 2 -q "$SC" >"$T/wk-scan.out" 2>"$T/wk-scan.err"
rsc=$?
check "scan_with_worker_key_gets_no_answer (exit $rsc)" sh -c "[ $rsc -eq 1 ] && ! grep -qE '^(clean|malicious) ' '$T/wk-scan.out'"
check worker_key_refused_at_score_port grep -qF "refused client key $(cat "$K/worker.pub") at $ENC_IP: not in $K/allowed/clients (the client socket's list); it is a worker key" "$T/logs/score-router.log"
# the gateway's key (the host that faces the internet) registering as a scorer
nready=$(grep -c 'ready, capacity' "$T/logs/score-router.log")
ip netns exec "$NS_SCORE" "$BIN/pefleet-scorer" --config "$T/gateway-as-scorer.conf" 2>"$T/logs/gateway-as-scorer.log" &
PIDS+=($!)
for _ in $(seq 100); do grep -qF "refused client key $(cat "$K/gateway.pub")" "$T/logs/score-router.log" && break; sleep 0.1; done
check gateway_key_refused_at_scorer_port grep -qF "refused client key $(cat "$K/gateway.pub") at $SCORE_IP: not in $K/allowed/scorers (the scorer socket's list); it is a client key" "$T/logs/score-router.log"
check gateway_key_never_a_ready_scorer test "$(grep -c 'ready, capacity' "$T/logs/score-router.log")" -eq "$nready"

# the HTTP gateway on the encoder host, a client of the router on core
if [ -x "$BIN/pefleet-gateway" ] && command -v curl >/dev/null; then
  ip netns exec "$NS_ENC" "$BIN/pefleet-gateway" --config "$T/gateway.conf" 2>"$T/logs/gateway.log" &
  PIDS+=($!)
  for _ in $(seq 100); do
    ip netns exec "$NS_ENC" curl -sf "http://$ENC_IP:8080/healthz" >/dev/null 2>&1 && break; sleep 0.1
  done
  f=$(ls "$SC" | head -1)
  ip netns exec "$NS_ENC" curl -s -F "x=@$SC/$f" "http://$ENC_IP:8080/" >"$T/gw.json" 2>&1
  check "gateway_scan_through_the_hosts_equals_local ($(head -c 120 "$T/gw.json"))" python3 - "$T/local.jsonl" "$T/gw.json" "$f" <<'PY'
import json, sys
loc = [json.loads(l) for l in open(sys.argv[1])]
want = [x for x in loc if x["path"].endswith("/" + sys.argv[3])][0]
got = json.load(open(sys.argv[2]))
assert abs(got["clean"] - want["probabilities"][0]) <= 1e-6 and abs(got["malicious"] - want["probabilities"][1]) <= 1e-6, (got, want)
PY
else
  skip multihost_gateway "pefleet-gateway or curl missing"
fi

# every daemon printed its configuration at start, with no secret in it
secrets=$(sed -n 's/^secret //p' "$K"/*.key)
for log in "$T"/logs/*.log; do
  name=$(basename "$log" .log)
  [ "$name" = redis ] && continue
  check "${name}_printed_its_configuration" grep -q '^  curve = 1$' "$log"
  check "${name}_log_masks_secrets" sh -c "grep -q '^  redis_password = \*\*\*\*$' '$log' && ! grep -qF -e '$PASS' $(for x in $secrets; do printf -- "-e '%s' " "$x"; done) '$log'"
done
finish
