#!/usr/bin/env bash
# make compose-test: the fleet in a real container engine. Starts a dockerd
# of its own (lib/engine.sh) unless one is reachable, makes the debian:12
# base image with debootstrap (cached), builds the image (cached layers),
# and in a temporary copy of the compose project with a fresh secret and
# .env (scripts/compose_env.sh): up -d, health, the seed's model promoted,
# the shared corpus ingested through the cli service and its export equal to
# a direct `pefleet encode`, scans through the published gateway equal to
# `pefleet predict` outside the stack, the bearer token when published
# beyond 127.0.0.1, an encoder-worker and the broker killed mid-ingest with
# every sample done or failed exactly once, --scale 3 with the new replicas
# taking work, and down -v leaving nothing behind. Requests go only to
# loopback addresses (the published ports); containers talk on the
# project's own network.
. "$(dirname "$0")/../integration/lib/common.sh"
. "$(dirname "$0")/lib/engine.sh"
need_corpus compose_test
P=$BIN/pefleet
H5=$SHARED/seed/ergo-pe-av/model.h5
LIMIT_MB=${PEFLEET_IMAGE_LIMIT_MB:-200}
for c in docker docker-compose curl python3; do
  command -v $c >/dev/null || { notok compose_test "$c not installed (make deps-test)"; finish; }
done
[ -x "$P" ] || { notok compose_test "$P not built (make programs)"; finish; }
[ -f "$H5" ] || { skip compose_test "$H5 not found"; exit 0; }

PROJ=$T/proj
NAME=pefleet-test-$$
DC=(docker-compose -p "$NAME" --project-directory "$PROJ" -f "$PROJ/compose.yaml")
project_up=0
cleanup() {
  if [ "$project_up" = 1 ]; then "${DC[@]}" --profile tools down -v --remove-orphans >/dev/null 2>&1; fi
  engine_stop
  rm -rf "$T"
}
trap cleanup EXIT
t_start=$SECONDS
engine_start

# --- the image ---------------------------------------------------------------------------
engine_base_image || finish
t0=$SECONDS
if ! docker build --network host -t pefleet:latest "$ROOT" >"$T/build.log" 2>&1; then
  notok image_builds "$(tail -5 "$T/build.log" | tr '\n' ' ')"; finish
fi
ok "image_builds ($((SECONDS - t0)) s, $(grep -c 'Using cache' "$T/build.log") steps from the cache)"
bytes=$(docker image inspect -f '{{.Size}}' pefleet:latest)
mb=$((bytes / 1000000))
check "image_under_${LIMIT_MB}_MB (${mb} MB)" test "$mb" -lt "$LIMIT_MB"
# the final stage holds no compiler, no -dev package and no test tool
docker run --rm --entrypoint sh pefleet:latest -c \
  'for c in cc gcc make clang chromium wrk docker-compose; do command -v $c; done; dpkg -l | awk "\$2 ~ /-dev(:|\$)/ {print \$2}"' \
  >"$T/extra.out" 2>&1
check "image_holds_no_build_or_test_tools" test ! -s "$T/extra.out"

# --- a fresh project: compose.yaml, a new secret and .env -------------------------------
mkdir -p "$PROJ"
cp "$ROOT/compose.yaml" "$PROJ/"
bash "$ROOT/scripts/compose_env.sh" "$PROJ" >/dev/null
check compose_env_secret_made test -s "$PROJ/secrets/redis_password"
check compose_env_secret_folder_private test "$(stat -c %a "$PROJ/secrets")" = 700
read -r HP < <(free_ports 1)
export PEFLEET_GATEWAY_PORT=$HP # over .env's 8080, which may be taken here
S=$T/samples # the cli service's /samples
mkdir -p "$S"
cp "$CORPUS"/clean/* "$CORPUS"/malicious-test/* "$S/"
chmod -R a+rX "$T"
export SAMPLES=$S
if ! "${DC[@]}" up -d --no-build >"$T/up.log" 2>&1; then
  notok compose_up "$(tail -5 "$T/up.log" | tr '\n' ' ')"; finish
fi
project_up=1
ok compose_up

# rcli ARGS...: redis-cli in the redis container, the password from its secret file
rcli() { docker exec "$(cid redis 1)" sh -c 'REDISCLI_AUTH=$(cat /run/secrets/redis_password) exec redis-cli --raw "$@"' sh "$@"; }
# cli ARGS...: a command of the cli service
cli() { "${DC[@]}" run --rm -T cli "$@"; }
# cid SERVICE N: the container id of replica N
cid() { docker ps -q --filter "label=com.docker.compose.project=$NAME" --filter "label=com.docker.compose.service=$1" \
          --filter "label=com.docker.compose.container-number=$2"; }
running() { docker ps -q --filter "label=com.docker.compose.project=$NAME" --filter "label=com.docker.compose.service=$1" | wc -l; }

healthy=0
for _ in $(seq 120); do
  if [ "$(docker inspect -f '{{.State.Health.Status}}' "$(cid gateway 1)" 2>/dev/null)" = healthy ] &&
     [ "$(docker inspect -f '{{.State.Health.Status}}' "$(cid redis 1)" 2>/dev/null)" = healthy ]; then healthy=1; break; fi
  sleep 1
done
check services_healthy test $healthy = 1
want="broker=1 encoder-worker=2 score-router=1 scorer=2 similar=1 gateway=1 redis=1"
have=""; for w in $want; do have="$have ${w%%=*}=$(running "${w%%=*}")"; done
check "every_service_running (${have# })" test "${have# }" = "$want"
check keygen_exited_0 test "$(docker inspect -f '{{.State.ExitCode}}' "$(docker ps -aq --filter "label=com.docker.compose.project=$NAME" --filter label=com.docker.compose.service=keygen)")" = 0

# --- what each container holds: its own key, no server key where files are parsed ------
for s in encoder-worker scorer gateway; do
  docker exec "$(cid $s 1)" sh -c 'ls /var/lib/pefleet/keys; env' >"$T/$s.keys" 2>&1
  check "${s}_holds_no_server_key" bash -c "! grep -q '^server.key$' '$T/$s.keys' && grep -q '^server.pub$' '$T/$s.keys'"
  check "${s}_password_not_in_environment" bash -c "grep -q '^PEFLEET_REDIS_PASSWORD_FILE=' '$T/$s.keys' && ! grep -q '^PEFLEET_REDIS_PASSWORD=' '$T/$s.keys' && ! grep -qF \"\$(cat '$PROJ/secrets/redis_password')\" '$T/$s.keys'"
done
docker exec "$(cid broker 1)" ls /var/lib/pefleet/keys/allowed/workers /var/lib/pefleet/keys/allowed/clients >"$T/broker.allowed" 2>&1
check broker_has_its_allow_lists grep -q 'encoder-worker.pub' "$T/broker.allowed"
nopw=$("${DC[@]}" exec -T redis redis-cli ping 2>&1)
check "redis_refuses_without_password ($nopw)" grep -q NOAUTH <<<"$nopw"
# the fleet's network is internal (the engine forwards nothing from it
# beyond its bridge); the gateway alone is also on edge, for its published port
nets() { docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$(cid "$1" 1)" | sed "s/${NAME}_//g; s/ $//"; }
internal=$(docker network ls -q --filter "label=com.docker.compose.project=$NAME" | xargs docker network inspect -f '{{index .Labels "com.docker.compose.network"}}={{.Internal}}' | sort | tr '\n' ' ')
check "fleet_network_internal ($internal; worker: $(nets encoder-worker), scorer: $(nets scorer), gateway: $(nets gateway))" \
  test "$internal|$(nets encoder-worker)|$(nets scorer)|$(nets gateway)" = "default=true edge=false |default|default|default edge"
ports=$(docker port "$(cid gateway 1)" 8080/tcp)
check "gateway_published_on_loopback_only ($ports)" test "$ports" = "127.0.0.1:$HP"

# --- the GPU trainer: only where the engine has the NVIDIA runtime ---------------------
if docker info -f '{{json .Runtimes}}' 2>/dev/null | grep -q nvidia; then
  if "${DC[@]}" --profile train-gpu run --rm -T trainer-gpu pefleet train --help >"$T/gpu.out" 2>&1; then ok trainer_gpu_starts
  else notok trainer_gpu_starts "$(tail -3 "$T/gpu.out" | tr '\n' ' ')"; fi
else
  skip trainer_gpu "no GPU (no NVIDIA container runtime in this engine)"
fi

# --- a model: the seed's, imported outside the stack, copied in and promoted -------------
M=$T/model
"$P" import-keras "$H5" -o "$M" --version compose-seed >/dev/null 2>&1 || { notok import_keras "failed"; finish; }
chmod -R a+rX "$M"
if "${DC[@]}" run --rm -T -v "$M:/import:ro" cli sh -ec \
     'rm -rf /var/lib/pefleet/models/seed; cp -r /import /var/lib/pefleet/models/seed; pefleet promote /var/lib/pefleet/models/seed' \
     >"$T/promote.out" 2>&1; then ok model_promoted
else notok model_promoted "$(tail -3 "$T/promote.out" | tr '\n' ' ')"; fi

# --- the shared corpus through the cli service; export equals a direct encode ------------
t0=$SECONDS
cli pefleet ingest --label corpus --wait /samples >"$T/ingest.out" 2>"$T/ingest.err"
check "corpus_ingested ($(tail -1 "$T/ingest.out"), $((SECONDS - t0)) s)" grep -q '^done [0-9]*, failed [0-9]*$' "$T/ingest.out"
cli pefleet export --jsonl >"$T/export.jsonl" 2>"$T/export.err"
"$P" encode -q --jsonl "$S" >"$T/direct.jsonl" 2>/dev/null
# compare EXPORT DIRECT LABEL: every file the encoder accepts has its vector
# (as float32) in the export; each one it rejects is "failed" in Redis
compare_export() {
  python3 - "$1" "$2" "$3" "$T/failed.txt" <<'PY'
import json, struct, sys
f32 = lambda x: struct.unpack("f", struct.pack("f", x))[0]
exported = {}
for l in open(sys.argv[1]):
    o = json.loads(l); exported[o["sha256"]] = o
failed = set(open(sys.argv[4]).read().split())
n = bad = 0
for l in open(sys.argv[2]):
    o = json.loads(l); sha = o["sha256"]
    if o["ok"]:
        n += 1
        e = exported.get(sha)
        if e is None: print("no exported vector for", o["path"]); bad += 1
        elif [f32(x) for x in o["vector"]] != e["vector"]: print("vector differs for", o["path"]); bad += 1
        elif e["label"] != sys.argv[3]: print("label", e["label"], "for", o["path"]); bad += 1
    elif sha not in failed: print("rejected by the encoder but not failed:", o["path"]); bad += 1
print("%d vectors equal, %d problems" % (n, bad))
sys.exit(1 if bad else 0)
PY
}
rcli SMEMBERS pf:failed >"$T/failed.txt"
if compare_export "$T/export.jsonl" "$T/direct.jsonl" corpus >"$T/cmp.out" 2>&1; then ok "export_equals_direct_encode ($(tail -1 "$T/cmp.out"))"
else notok export_equals_direct_encode "$(tail -5 "$T/cmp.out" | tr '\n' ' ')"; fi

# --- scans through the published gateway equal `pefleet predict` outside the stack ------
U=http://127.0.0.1:$HP
"$P" predict --jsonl "$M" "$S" >"$T/predict.jsonl" 2>/dev/null
: >"$T/scans.tsv"
for f in "$S"/*; do
  seed=$(curl -s -F "x=@$f" "$U/")
  v1=$(curl -s --data-binary "@$f" -H 'Content-Type: application/octet-stream' "$U/v1/scan")
  printf '%s\t%s\t%s\n' "$(basename "$f")" "$seed" "$v1" >>"$T/scans.tsv"
done
python3 - "$T/predict.jsonl" "$T/scans.tsv" <<'PY' >"$T/scancmp.out" 2>&1
import json, os, sys
pred = {}
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o.get("probabilities"): pred[os.path.basename(o["path"])] = o
n = bad = 0
for line in open(sys.argv[2]):
    name, seed, v1 = line.rstrip("\n").split("\t")
    p = pred.get(name)
    if p is None: continue  # not a PE the encoder accepts: predict has no probabilities
    n += 1
    try:
        s, v = json.loads(seed), json.loads(v1)
        a = [s["clean"], s["malicious"]]
        if max(abs(x - y) for x, y in zip(a, p["probabilities"])) > 1e-6: raise ValueError("seed API %s vs %s" % (a, p["probabilities"]))
        if max(abs(x - y) for x, y in zip(v["probabilities"], p["probabilities"])) > 1e-6: raise ValueError("/v1/scan %s" % v)
        if v["sha256"] != p["sha256"] or v["verdict"] != p["verdict"]: raise ValueError("/v1/scan %s" % v)
    except Exception as e:
        print(name, e); bad += 1
print("%d files scanned twice, %d differ from predict" % (n, bad))
sys.exit(1 if bad or n == 0 else 0)
PY
if [ $? -eq 0 ]; then ok "gateway_scans_equal_predict ($(tail -1 "$T/scancmp.out"))"
else notok gateway_scans_equal_predict "$(tail -5 "$T/scancmp.out" | tr '\n' ' ')"; fi

# --- published beyond 127.0.0.1, the gateway requires its bearer token -------------------
# (127.0.0.2: still this machine's loopback, but not the address that needs no token)
t1=$(free_ports 1)
if PEFLEET_GATEWAY_ADDRESS=127.0.0.2 PEFLEET_GATEWAY_PORT=$t1 "${DC[@]}" up -d --no-build --no-deps gateway >"$T/gw2.log" 2>&1; then
  for _ in $(seq 60); do curl -sf "http://127.0.0.2:$t1/healthz" >/dev/null && break; sleep 0.5; done
  token=$(docker exec "$(cid gateway 1)" cat /var/lib/pefleet/keys/http.token)
  f=$CORPUS/clean/t32.exe
  c1=$(curl -s -o /dev/null -w '%{http_code}' -F "x=@$f" "http://127.0.0.2:$t1/")
  c2=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong" -F "x=@$f" "http://127.0.0.2:$t1/")
  c3=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -F "x=@$f" "http://127.0.0.2:$t1/")
  check "gateway_elsewhere_requires_token (none $c1, wrong $c2, right $c3)" test "$c1/$c2/$c3" = 401/401/200
  check gateway_token_is_long test "${#token}" -ge 32
else notok gateway_elsewhere_requires_token "$(tail -3 "$T/gw2.log" | tr '\n' ' ')"; fi
"${DC[@]}" up -d --no-build --no-deps gateway >/dev/null 2>&1 # back on 127.0.0.1
for _ in $(seq 60); do curl -sf "$U/healthz" >/dev/null && break; sleep 0.5; done
c0=$(curl -s -o /dev/null -w '%{http_code}' -F "x=@$CORPUS/clean/t32.exe" "$U/")
check "gateway_on_127.0.0.1_needs_no_token ($c0)" test "$c0" = 200

# --- an encoder worker and the broker killed mid-ingest ----------------------------------
# many small new samples (overlays on the small corpus files: new sha256s) so
# that the kills land while the ingest runs
S2=$T/samples/chaos
python3 - "$CORPUS" "$S2" <<'PY'
import os, random, sys
corpus, out = sys.argv[1:3]
rnd = random.Random(11)
os.makedirs(out)
small = [os.path.join(corpus, d, f) for d in ("clean", "malicious-test") for f in sorted(os.listdir(os.path.join(corpus, d)))
         if os.path.getsize(os.path.join(corpus, d, f)) < 120000]
for k in range(2400):
    src = small[k % len(small)]
    data = open(src, "rb").read() + b"chaos-%d" % k
    open(os.path.join(out, "%04d_%s" % (k, os.path.basename(src))), "wb").write(data)
for k in range(20):
    open(os.path.join(out, "text%02d.txt" % k), "wb").write(b"not a PE %d\n" % k * 40)
PY
chmod -R a+rX "$S2"
n2=$(ls "$S2" | wc -l)
before=$(rcli SCARD pf:samples)
"${DC[@]}" run --rm -T cli pefleet ingest --label chaos --retry-for 180 /samples/chaos >"$T/ingest2.out" 2>"$T/ingest2.err" &
ING=$!
w1=$(cid encoder-worker 1); b1=$(cid broker 1)
for _ in $(seq 600); do [ $(($(rcli SCARD pf:samples) - before)) -ge 200 ] 2>/dev/null && break; sleep 0.1; done
docker kill "$w1" "$b1" >/dev/null
at_kill=$(($(rcli SCARD pf:samples) - before)); left=$((before + n2 - $(rcli SCARD pf:done) - $(rcli SCARD pf:failed)))
still=$(kill -0 $ING 2>/dev/null && echo "still sending" || echo "all sent")
check "killed_mid_ingest ($at_kill of $n2 stored, $left not yet encoded, ingest $still)" test "$left" -gt 0
sleep 2
# compose brings the killed containers back (docker kill counts as a stop for the restart policy)
"${DC[@]}" up -d --no-build >"$T/restart.log" 2>&1
check "compose_restarted_killed (worker $(docker inspect -f '{{.State.Status}}' "$w1"), broker $(docker inspect -f '{{.State.Status}}' "$b1"))" \
  test "$(docker inspect -f '{{.State.Status}}' "$w1")/$(docker inspect -f '{{.State.Status}}' "$b1")" = running/running
# and a crash (the second worker's process SIGKILLed from outside) is restarted by the policy alone
w2=$(cid encoder-worker 2)
kill -9 "$(docker inspect -f '{{.State.Pid}}' "$w2")"
for _ in $(seq 100); do [ "$(docker inspect -f '{{.RestartCount}}/{{.State.Status}}' "$w2")" = 1/running ] && break; sleep 0.2; done
check "crashed_worker_restarted_by_policy ($(docker inspect -f '{{.RestartCount}}/{{.State.Status}}' "$w2"))" \
  test "$(docker inspect -f '{{.RestartCount}}/{{.State.Status}}' "$w2")" = 1/running
wait $ING; irc=$?
check "chaos_ingest_acknowledged_everything (exit $irc)" test $irc -eq 0
drained=0
for _ in $(seq 300); do
  cli pefleet status --json >"$T/st.json" 2>/dev/null &&
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["queued"]==0 and s["in_flight"]==0 else 1)' "$T/st.json" &&
    { drained=1; break; }
  sleep 1
done
check "chaos_queue_drained ($(cat "$T/st.json" 2>/dev/null))" test $drained = 1
nd=$(sha256sum "$S"/* "$S2"/* 2>/dev/null | awk '{print $1}' | sort -u | wc -l)
samples=$(rcli SCARD pf:samples); done_n=$(rcli SCARD pf:done); failed_n=$(rcli SCARD pf:failed)
check "every_sample_stored_once ($samples of $nd distinct)" test "$samples" -eq "$nd"
check "every_sample_done_or_failed ($done_n done + $failed_n failed)" test $((done_n + failed_n)) -eq "$samples"
check done_and_failed_disjoint test "$(rcli SINTERCARD 2 pf:done pf:failed)" -eq 0
cli pefleet export --jsonl >"$T/export2.jsonl" 2>/dev/null
"$P" encode -q --jsonl "$S2" >"$T/direct2.jsonl" 2>/dev/null
rcli SMEMBERS pf:failed >"$T/failed.txt"
if compare_export "$T/export2.jsonl" "$T/direct2.jsonl" chaos >"$T/cmp2.out" 2>&1; then ok "chaos_vectors_equal_direct_encode ($(tail -1 "$T/cmp2.out"))"
else notok chaos_vectors_equal_direct_encode "$(tail -5 "$T/cmp2.out" | tr '\n' ' ')"; fi

# --- three of each: the new replicas take work ------------------------------------------
if "${DC[@]}" up -d --no-build --scale encoder-worker=3 --scale scorer=3 >"$T/scale.log" 2>&1; then ok scale_up
else notok scale_up "$(tail -3 "$T/scale.log" | tr '\n' ' ')"; fi
check "three_workers_three_scorers ($(running encoder-worker), $(running scorer))" test "$(running encoder-worker)/$(running scorer)" = 3/3
w3=$(cid encoder-worker 3); s3=$(cid scorer 3)
for _ in $(seq 100); do docker logs "$w3" 2>&1 | grep -q 'connected to broker' && docker logs "$s3" 2>&1 | grep -q 'connected to score router' && break; sleep 0.2; done
sleep 2 # the broker and the router count the new peers ready
# the parser sandbox inside a container: what Docker's defaults let it have
layers=$(docker logs "$w3" 2>&1 | grep -m1 'sandbox: layers in force' | sed 's/.*layers in force: //')
missing=$(docker logs "$w3" 2>&1 | grep -m1 'layers missing' | sed 's/.*on this kernel: //')
check "worker_sandbox_in_container (in force: ${layers:-?}; missing: ${missing:-none})" \
  grep -q 'no_new_privs.*seccomp' <<<"$layers"
S3=$T/samples/scale
python3 - "$CORPUS" "$S3" <<'PY'
import os, sys
corpus, out = sys.argv[1:3]
os.makedirs(out)
src = [os.path.join(corpus, "clean", f) for f in sorted(os.listdir(os.path.join(corpus, "clean")))
       if os.path.getsize(os.path.join(corpus, "clean", f)) < 120000]
for k in range(300):
    open(os.path.join(out, "%03d.bin" % k), "wb").write(open(src[k % len(src)], "rb").read() + b"scale-%d" % k)
PY
chmod -R a+rX "$S3"
cli pefleet ingest --label scale --wait /samples/scale >"$T/ingest3.out" 2>&1
n3=$(docker logs "$w3" 2>&1 | grep -c 'sample .* encoded')
check "new_worker_took_work ($n3 of 300 samples)" test "$n3" -gt 0
# eight at a time, so that the router spreads them (waiting on the curls by
# pid: our dockerd is a child of this shell too)
pids=()
for f in $(ls "$S3" | head -120); do
  curl -s -o /dev/null -F "x=@$S3/$f" "$U/" &
  pids+=($!)
  [ ${#pids[@]} = 8 ] && { wait "${pids[@]}"; pids=(); }
done
[ ${#pids[@]} = 0 ] || wait "${pids[@]}"
# each scorer logs every sample it scored ("sample SHA: VERDICT (p=…)")
scored3=$(docker logs "$s3" 2>&1 | grep -cE 'sample [0-9a-f]{64}: ')
check "new_scorer_took_work ($scored3 of 120 scans)" test "$scored3" -gt 0

# --- down -v: nothing left ---------------------------------------------------------------
"${DC[@]}" --profile tools down -v --remove-orphans >"$T/down.log" 2>&1
check compose_down_exit_0 test $? -eq 0
project_up=0
left_c=$(docker ps -aq --filter "label=com.docker.compose.project=$NAME" | wc -l)
left_n=$(docker network ls -q --filter "label=com.docker.compose.project=$NAME" | wc -l)
left_v=$(docker volume ls -q --filter "label=com.docker.compose.project=$NAME" | wc -l)
check "down_leaves_nothing ($left_c containers, $left_n networks, $left_v volumes)" test "$left_c/$left_n/$left_v" = 0/0/0
echo "  compose_test: $((SECONDS - t_start)) s in all"
finish
