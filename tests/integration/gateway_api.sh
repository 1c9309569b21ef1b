#!/usr/bin/env bash
# The HTTP gateway with curl, over a real pool: `pefleet up` (redis, score
# router, two scorers, the seed's model imported with import-keras and
# promoted with --model, and the gateway `up` starts), plus two more
# pefleet-gateway processes on the same pool with their own flags (a small
# --max-upload, --allow-path, --token-file, a dead similarity endpoint).
# Checks every seed API form (multipart upload, GET ?x=, urlencoded POST,
# JSON string and list, server-side path) against the seed's own scores
# (1e-6), /encode against `pefleet encode`, /v1/scan, /healthz, /metrics,
# each bad input with its status and one-line JSON reason, and that the
# gateway still answers afterwards.
. "$(dirname "$0")/lib/common.sh"
NAME=gateway_api
need_corpus "$NAME"
need_redis "$NAME"
command -v curl >/dev/null || { skip "$NAME" "curl not installed"; exit 0; }
P=$BIN/pefleet
G=$BIN/pefleet-gateway
H5=$SHARED/seed/ergo-pe-av/model.h5
TSV=$CORPUS/expected-seed-model-scores.tsv
[ -x "$G" ] || { notok "$NAME" "$G not built"; finish; }
[ -f "$H5" ] || { skip "$NAME" "$H5 not found"; exit 0; }
fleet_ports
read -r SP SCP SIMP HP G1 G2 DEAD G3 < <(free_ports 8)
D=$T/fleet
GPIDS=()
trap 'for p in "${GPIDS[@]}"; do kill "$p" 2>/dev/null; done; "$P" down --data "$D" >/dev/null 2>&1; rm -rf "$T"' EXIT

"$P" import-keras "$H5" -o "$T/m1" --version seed-a >/dev/null 2>&1 || { notok import "import-keras failed"; finish; }
pool_up "$D" "$T/m1" || finish

# --- our own gateways on the same pool ---------------------------------------------
mkdir -p "$T/allowed" "$T/outside"
cp "$CORPUS/clean/t32.exe" "$T/allowed/t32.exe"
cp "$CORPUS/clean/t32.exe" "$T/outside/t32.exe"
ln -s "$T/outside/t32.exe" "$T/allowed/escape.exe" # a symlink out of the allowed folder
printf 'secret-token-%s\n' "$RANDOM" >"$T/token"
chmod 600 "$T/token" # the gateway refuses a token file others can read
"$G" --data "$D" --port "$G1" --max-upload 3m --allow-path "$T/allowed" --threads 4 --score-timeout 5000 2>"$T/g1.log" &
GPIDS+=($!)
"$G" --data "$D" --port "$G2" --token-file "$T/token" --similar-endpoint "tcp://127.0.0.1:$DEAD" \
  --similar-timeout 300 --classes "safe, bad" 2>"$T/g2.log" &
GPIDS+=($!)
U1=http://127.0.0.1:$G1
U2=http://127.0.0.1:$G2
UP=http://127.0.0.1:$HP
for _ in $(seq 100); do
  curl -sf "$U1/healthz" >/dev/null && curl -sf "$U2/healthz" >/dev/null && curl -sf "$UP/healthz" >/dev/null && break
  sleep 0.1
done
check gateways_listen curl -sf "$U1/healthz" -o /dev/null
check up_started_gateway curl -sf "$UP/healthz" -o /dev/null

# req NAME URL CURL-ARGS...: body in $T/NAME.out, status in $T/NAME.code
req() {
  local n=$1 url=$2; shift 2
  curl -s -o "$T/$n.out" -w '%{http_code}' "$@" "$url" >"$T/$n.code" 2>/dev/null || true
}
# want NAME CODE [REASON-REGEX]: the status, and for errors a one-line JSON {"error"} matching REASON-REGEX
want() {
  local n=$1 code=$2 re=${3:-}
  local got; got=$(cat "$T/$n.code")
  if [ "$got" != "$code" ]; then notok "$n" "status $got, wanted $code: $(head -c 300 "$T/$n.out")"; return; fi
  if [ "$code" != 200 ]; then
    if ! python3 -c '
import json,sys,re
b=open(sys.argv[1]).read()
assert b.count("\n")<=1, "more than one line"
e=json.loads(b)["error"]
assert e and "\n" not in e
assert re.search(sys.argv[2], e), e' "$T/$n.out" "$re" 2>"$T/$n.why"; then
      notok "$n" "reply $(head -c 300 "$T/$n.out"): $(tail -1 "$T/$n.why")"; return
    fi
  fi
  ok "$n ($code)"
}

# --- the seed API: every corpus file uploaded (curl -F x=@file) -------------------
: >"$T/seed.tsv"
while IFS=$'\t' read -r path _ _; do
  [ "$path" = path ] && continue
  curl -s -F "x=@$CORPUS/$path" "$U1/" | tr -d '\n' >>"$T/seed.tsv"
  printf '\t%s\n' "$path" >>"$T/seed.tsv"
done <"$TSV"
check seed_upload_scores_match_expected python3 - "$T/seed.tsv" "$TSV" <<'PY'
import json, sys
exp = {}
for line in open(sys.argv[2]).read().splitlines()[1:]:
    path, p0, p1 = line.split("\t")
    exp[path] = (float(p0), float(p1))
worst, n = 0, 0
for line in open(sys.argv[1]):
    body, path = line.rstrip("\n").split("\t")
    r = json.loads(body)
    assert set(r) == {"clean", "malicious"}, (path, body)
    e = exp[path]
    worst = max(worst, abs(r["clean"] - e[0]), abs(r["malicious"] - e[1]))
    n += 1
assert n == len(exp), (n, len(exp))
assert worst <= 1e-6, worst
print("# %d files, largest difference %.2g" % (n, worst))
PY

# --- one file through every other form ------------------------------------------------
F=$CORPUS/clean/t32.exe
"$P" encode --jsonl "$F" >"$T/enc.jsonl" 2>/dev/null
VEC=$(python3 -c 'import json,sys; print(",".join(repr(v) for v in json.loads(open(sys.argv[1]).readline())["vector"]))' "$T/enc.jsonl")
printf '{"x": "%s"}' "$VEC" >"$T/x_str.json"
printf '{"x": [%s], "other": {"nested": [1, "two", null]}}' "$VEC" >"$T/x_list.json"
req ref "$U1/" -F "x=@$F"
req get_vector "$U1/?x=$VEC"
req post_urlencoded "$U1/" --data-urlencode "x=$VEC"
req post_multipart_text "$U1/" -F "x=$VEC"
req post_json_string "$U1/" -H 'Content-Type: application/json' --data-binary @"$T/x_str.json"
req post_json_list "$U1/" -H 'Content-Type: application/json' --data-binary @"$T/x_list.json"
req get_path "$U1/?x=$T/allowed/t32.exe"
req post_path "$U1/" --data-urlencode "x=$T/allowed/t32.exe"
req up_gateway_upload "$UP/" -F "x=@$F"
for n in get_vector post_urlencoded post_multipart_text post_json_string post_json_list get_path post_path up_gateway_upload; do
  check "${n}_same_as_upload" python3 -c '
import json,sys
a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
assert set(a)=={"clean","malicious"} and set(a)==set(b), (a,b)
assert all(abs(a[k]-b[k])<=1e-6 for k in a), (a,b)' "$T/ref.out" "$T/$n.out"
done
req classes_flag "$U2/" -H "Authorization: Bearer $(cat "$T/token")" -F "x=@$F"
check classes_flag_names python3 -c '
import json,sys; a=json.load(open(sys.argv[1])); assert set(a)=={"safe","bad"}, a' "$T/classes_flag.out"

# --- /encode equals pefleet encode ------------------------------------------------------
req encode_upload "$U1/encode" -F "x=@$F"
req encode_path "$U1/encode?x=$T/allowed/t32.exe"
for n in encode_upload encode_path; do
  check "${n}_equals_pefleet_encode" python3 -c '
import json,sys
a=json.load(open(sys.argv[1])); b=json.loads(open(sys.argv[2]).readline())["vector"]
assert isinstance(a,list) and len(a)==486==len(b), len(a)
d=max(abs(x-y) for x,y in zip(a,b)); assert d==0, d' "$T/$n.out" "$T/enc.jsonl"
done

# --- /v1/scan ---------------------------------------------------------------------------------
req scan_upload "$U1/v1/scan" -F "x=@$CORPUS/malicious-test/clam-aspack.exe"
req scan_raw "$U1/v1/scan" -H 'Content-Type: application/octet-stream' --data-binary @"$CORPUS/malicious-test/clam-aspack.exe"
for n in scan_upload scan_raw; do
  check "$n" python3 -c '
import json,sys,hashlib
r=json.load(open(sys.argv[1]))
for k in ("sha256","verdict","probabilities","threshold","model_version","elapsed_ms"): assert k in r, k
assert r["sha256"]==hashlib.sha256(open(sys.argv[2],"rb").read()).hexdigest(), r
assert r["verdict"]=="malicious" and r["model_version"]=="seed-a", r
assert abs(r["probabilities"][1]-0.983559)<=1e-5 and r["threshold"]==0.5, r' "$T/$n.out" "$CORPUS/malicious-test/clam-aspack.exe"
done
req scan_unknown_sha "$U1/v1/scan?sha256=$(printf '0%.0s' $(seq 64))"
want scan_unknown_sha 404 .

# --- bad inputs: status and a one-line reason ------------------------------------------
printf 'just some text, not a PE\n' >"$T/text.txt"
head -c 4000000 /dev/urandom >"$T/big.bin"
req missing_x "$U1/"
want missing_x 400 'missing x'
req missing_x_post "$U1/" -d "y=1"
want missing_x_post 400 'missing x'
req malformed_vector "$U1/?x=1,2,abc"
want malformed_vector 400 'not a number'
req empty_value "$U1/?x=1,,2"
want empty_value 400 'empty'
req wrong_length "$U1/?x=1,2,3"
want wrong_length 400 '486|length|values'
req nan_value "$U1/" --data-urlencode "x=${VEC%%,*},nan,${VEC#*,}"
want nan_value 400 'NaN'
req inf_value "$U1/" --data-urlencode "x=1e999,${VEC#*,}"
want inf_value 400 'finite'
req encode_wrong_length "$U1/encode?x=1,2"
want encode_wrong_length 400 '486'
req not_pe_upload "$U1/" -F "x=@$T/text.txt"
want not_pe_upload 400 'PE|MZ'
req empty_upload "$U1/v1/scan" -H 'Content-Type: application/octet-stream' --data-binary ''
want empty_upload 400 .
req oversized_upload "$U1/" -F "x=@$T/big.bin"
want oversized_upload 413 'limit'
req oversized_chunked "$U1/v1/scan" -H 'Transfer-Encoding: chunked' -F "x=@$T/big.bin"
want oversized_chunked 413 'limit'
req oversized_raw_chunked "$U1/v1/scan" -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' --data-binary @"$T/big.bin"
want oversized_raw_chunked 413 'limit'
req path_missing "$U1/?x=$T/allowed/nope.exe"
want path_missing 404 'no such file'
req path_outside "$U1/?x=/etc/passwd"
want path_outside 403 'outside'
req path_symlink_escape "$U1/?x=$T/allowed/escape.exe"
want path_symlink_escape 403 'outside'
req path_dotdot "$U1/?x=$T/allowed/../outside/t32.exe"
want path_dotdot 403 'outside'
req paths_disabled "$U2/?x=$T/allowed/t32.exe" -H "Authorization: Bearer $(cat "$T/token")"
want paths_disabled 403 'disabled'
req x_twice "$U1/" -F "x=@$F" -F "x=1,2"
want x_twice 400 'twice'
req bad_json "$U1/" -H 'Content-Type: application/json' -d '{"x": [1, 2'
want bad_json 400 'JSON'
req json_not_object "$U1/" -H 'Content-Type: application/json' -d '[1,2]'
want json_not_object 400 'JSON'
req no_token "$U2/"
want no_token 401 'token'
req bad_token "$U2/" -H 'Authorization: Bearer wrong' -F "x=@$F"
want bad_token 401 'token'
req good_token "$U2/" -H "Authorization: Bearer $(cat "$T/token")" -F "x=@$F"
want good_token 200
req healthz_without_token "$U2/healthz"
want healthz_without_token 200
req similar_down "$U2/similar?sha256=$(printf 'a%.0s' $(seq 64))" -H "Authorization: Bearer $(cat "$T/token")"
want similar_down 503 'similarity service'
req unknown_route "$U1/nope"
want unknown_route 404 'no such route'
req bad_method "$U1/" -X PUT
want bad_method 405 'not allowed'

# --- /similar through the similarity service (when built) ---------------------------------
if [ -x "$BIN/pefleet-similar" ]; then
  "$P" ingest --data "$D" --label clean --wait "$CORPUS/clean" >"$T/ingest.out" 2>&1
  SHA=$(sha256sum "$F" | cut -d' ' -f1)
  for _ in $(seq 100); do  # the service picks new vectors up from the pf:vectors stream
    curl -s "$U1/similar?sha256=$SHA&top=3" | grep -q "\"$SHA\"" && break; sleep 0.1
  done
  req similar_by_sha "$U1/similar?sha256=$SHA&top=3"
  req similar_by_upload "$U1/similar" -F "x=@$F" -F "threshold=0.5" -F "top=5"
  req similar_by_vector "$U1/similar" --data-urlencode "x=$VEC" --data-urlencode "top=2"
  for n in similar_by_sha similar_by_upload similar_by_vector; do
    check "$n" python3 -c '
import json,sys
r=json.load(open(sys.argv[1])); sha=sys.argv[2]; top=int(sys.argv[3])
h=r["hits"]; assert 1<=len(h)<=top, r
for x in h: assert set(x)=={"sha256","similarity","labels","split"}, x
s=[x["similarity"] for x in h]; assert s==sorted(s,reverse=True), s
me=[x for x in h if x["sha256"]==sha]; assert me and abs(me[0]["similarity"]-1)<1e-9 and me[0]["labels"]==["clean"], h' \
      "$T/$n.out" "$SHA" "$(case $n in similar_by_sha) echo 3;; similar_by_upload) echo 5;; *) echo 2;; esac)"
  done
  req similar_unknown_sha "$U1/similar?sha256=$(printf '0%.0s' $(seq 64))"
  want similar_unknown_sha 404 .
  req similar_bad_threshold "$U1/similar?sha256=$SHA&threshold=2"
  want similar_bad_threshold 400 threshold
  req similar_not_pe "$U1/similar" -F "x=@$T/text.txt"
  want similar_not_pe 400 'PE|MZ'
else
  skip similar "$BIN/pefleet-similar not built"
fi

# --- the connection limit and the idle timeout ---------------------------------------------
# a gateway allowing 2 connections: with 2 idle ones open, a third request
# gets nothing; the idle ones are closed by the timeout, then it answers
"$G" --data "$D" --port "$G3" --max-connections 2 --timeout 6 --threads 2 2>"$T/g3.log" &
GPIDS+=($!)
wait_http "http://127.0.0.1:$G3/healthz"
check connection_limit_and_idle_timeout python3 - "$G3" <<'PY'
import socket, subprocess, sys
port = int(sys.argv[1])
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
r = subprocess.run(["curl", "-s", "-m", "1", "-o", "/dev/null", "-w", "%{http_code}",
                    "http://127.0.0.1:%d/healthz" % port], capture_output=True, text=True)
assert r.stdout != "200", "a third connection was served past --max-connections 2"
for s in idle:  # closed by the gateway after --timeout (EOF), never answered
    s.settimeout(60)
    assert s.recv(16) == b"", "an idle connection got bytes"
r = subprocess.run(["curl", "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}",
                    "http://127.0.0.1:%d/healthz" % port], capture_output=True, text=True)
assert r.stdout == "200", "not answering after the idle connections closed: " + r.stdout
PY

# --- the score router SIGKILLed: `up` restarts it, the gateway reconnects -----------------------
rp=$(awk '$1=="score-router" {print $3}' "$D/fleet.state")
if [ -n "$rp" ] && kill -9 "$rp" 2>/dev/null; then
  code=000
  for _ in $(seq 60); do  # the supervisor restarts the router; the gateway's DEALERs reconnect by themselves
    code=$(curl -s -o "$T/after_restart.out" -w '%{http_code}' -F "x=@$F" "$U1/" 2>/dev/null)
    [ "$code" = 200 ] && break; sleep 0.5
  done
  check "scores_after_router_restart (status $code)" test "$code" = 200
  check router_was_restarted test "$(awk '$1=="score-router" {print $3}' "$D/fleet.state")" != "$rp"
else
  notok router_restart "no score-router pid in $D/fleet.state"
fi

# --- /metrics and /healthz, and the gateway still answers --------------------------------
req metrics "$U1/metrics"
check metrics_prometheus python3 -c '
import sys,re
t=open(sys.argv[1]).read()
for pat in (r"pefleet_gateway_requests_total\{route=\"/\",code=\"200\"\} [1-9]",
            r"pefleet_gateway_requests_total\{route=\"/\",code=\"400\"\} [1-9]",
            r"pefleet_gateway_requests_total\{route=\"/v1/scan\",code=\"413\"\} [1-9]",
            r"pefleet_gateway_request_duration_seconds_bucket\{route=\"/\",le=\"\+Inf\"\} [1-9]",
            r"pefleet_gateway_request_duration_seconds_count\{route=\"/encode\"\} [1-9]",
            r"pefleet_gateway_verdicts_total\{verdict=\"malicious\"\} [1-9]",
            r"pefleet_gateway_verdicts_total\{verdict=\"clean\"\} [1-9]",
            r"pefleet_gateway_in_flight [0-9]", r"pefleet_gateway_pool_waiting 0",
            r"pefleet_gateway_model_info\{version=\"seed-a\"\} 1"):
    assert re.search(pat, t), pat' "$T/metrics.out"
req healthz "$U1/healthz"
check healthz_names_model grep -q '"status":"ok","model_version":"seed-a"' "$T/healthz.out"
req still_answers "$U1/" -F "x=@$F"
want still_answers 200
check gateways_alive kill -0 "${GPIDS[0]}" "${GPIDS[1]}"
check log_line_per_request grep -Eq 'POST / 200 sha256=[0-9a-f]{64} [0-9.]+ ms' "$T/g1.log"
finish
