#!/usr/bin/env bash
# The HTTP gateway against hostile clients (issue 13, points 1, 2, 3 and 8),
# over a real pool (`pefleet up`: redis, score router, scorers) and our own
# pefleet-gateway processes with their own flags:
# - budget: 100 concurrent slow 40 MiB uploads; those past --body-budget
#   get 503 with Retry-After (read by the client, not a dropped
#   connection), the others their answer; /healthz and a vector score
#   answer within a second all along; the gateway's peak resident memory
#   (VmHWM) stays under the budget plus a stated overhead;
# - the pool stopped (SIGSTOP on the router) with 100 scans waiting on it
#   and only 2 HTTP threads: /healthz and a vector /encode still answer,
#   and every scan completes once the router runs again;
# - a body trickling under --min-rate is dropped long before the idle
#   timeout; --per-ip-connections refuses the connection past it;
# - server-side paths: every refusal (outside, .., symlinks out, a FIFO, a
#   folder, missing outside) is the same 403 with the same body; the FIFO
#   at once; a name missing inside the folder is 404;
# - the race: a folder in the allowed folder and a symlink out trade
#   places (renameat2 RENAME_EXCHANGE, build/tools/swapdir) while scans
#   name a file beneath it: nothing outside is ever read;
# - 8: a token file others may read, or owned by another user, stops the
#   gateway at start; with a token /healthz says only ok; without one an
#   Origin header, or a Host that is not the bound address or an
#   --allow-host name, is 403.
. "$(dirname "$0")/lib/common.sh"
NAME=gateway_hostile
need_corpus "$NAME"
need_redis "$NAME"
command -v curl >/dev/null || { skip "$NAME" "curl not installed"; exit 0; }
P=$BIN/pefleet
G=$BIN/pefleet-gateway
SWAP=${BUILD:-$ROOT/build}/tools/swapdir
H5=$SHARED/seed/ergo-pe-av/model.h5
[ -x "$G" ] || { notok "$NAME" "$G not built"; finish; }
[ -x "$SWAP" ] || { notok "$NAME" "$SWAP not built (make)"; finish; }
[ -f "$H5" ] || { skip "$NAME" "$H5 not found"; exit 0; }
fleet_ports
read -r SP SCP SIMP HP GA GB GC < <(free_ports 7)
D=$T/fleet
GPIDS=()
STOPPED=
trap '[ -n "$STOPPED" ] && kill -CONT "$STOPPED" 2>/dev/null; for p in "${GPIDS[@]}"; do kill "$p" 2>/dev/null; done; "$P" down --data "$D" >/dev/null 2>&1; rm -rf "$T"' EXIT

"$P" import-keras "$H5" -o "$T/m1" --version seed-a >/dev/null 2>&1 || { notok import "import-keras failed"; finish; }
pool_up "$D" "$T/m1" || finish

F=$CORPUS/clean/t32.exe
BAD=$CORPUS/malicious-test/clam-aspack.exe
mkdir -p "$T/allowed/d" "$T/outside/d" "$T/allowed/sub"
cp "$F" "$T/allowed/t32.exe"
cp "$F" "$T/outside/t32.exe"
cp "$F" "$T/allowed/d/f"
cp "$BAD" "$T/outside/d/f"                        # what a read outside would return
ln -s "$T/outside/t32.exe" "$T/allowed/escape.exe" # absolute symlink out
ln -s ../outside/t32.exe "$T/allowed/rel.exe"      # relative symlink out
ln -s "$T/outside/d" "$T/allowed/l"                # trades places with allowed/d in the race
mkfifo "$T/allowed/fifo"
"$P" encode --jsonl "$F" >"$T/enc.jsonl" 2>/dev/null
VEC=$(python3 -c 'import json,sys; print(",".join(repr(v) for v in json.loads(open(sys.argv[1]).readline())["vector"]))' "$T/enc.jsonl")
printf 'x=%s' "$VEC" >"$T/vec.body"

BUDGET=$((256 << 20))
OVERHEAD=$((64 << 20)) # stated: the process (~12 MiB), MHD's per-connection pools, ZeroMQ, malloc's slack
"$G" --data "$D" --port "$GA" --threads 2 --max-upload 41m --body-budget "$BUDGET" --per-ip-connections 160 \
  --max-connections 200 --min-rate 65536 --min-rate-window 3 --score-timeout 20000 \
  --allow-path "$T/allowed" --allow-host scan.test 2>"$T/ga.log" &
GPIDS+=($!)
GAPID=$!
UA=http://127.0.0.1:$GA
wait_http "$UA/healthz"
check gateway_listens curl -sf "$UA/healthz" -o /dev/null

# --- 1: the budget under 100 concurrent slow 40 MiB uploads -------------------------------
check budget_holds_under_100_slow_uploads python3 - "$GA" "$T/vec.body" "$GAPID" "$BUDGET" "$OVERHEAD" <<'PY'
import os, socket, select, sys, time, threading, subprocess
port, vecfile, pid, budget, overhead = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
N, SIZE, RATE = 100, 40 << 20, 4 << 20  # each upload at 4 MiB/s: 10 s when admitted
hdr = (b"POST /v1/scan HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/octet-stream\r\n"
       b"Content-Length: %d\r\n\r\n" % (port, SIZE))
chunk = b"\0" * 65536
conns = []
for _ in range(N):
    s = socket.create_connection(("127.0.0.1", port))
    s.setblocking(False)
    conns.append({"s": s, "sent": -len(hdr), "resp": b"", "state": None})
probe_fail = []
done = threading.Event()
def probe():
    while not done.is_set():
        for args in (["http://127.0.0.1:%d/healthz" % port],
                     ["--data-binary", "@" + vecfile, "http://127.0.0.1:%d/" % port]):
            r = subprocess.run(["curl", "-s", "-m", "1", "-o", "/dev/null", "-w", "%{http_code}"] + args,
                               capture_output=True, text=True)
            if r.stdout != "200": probe_fail.append((args[-1], r.stdout))
        time.sleep(0.3)
th = threading.Thread(target=probe); th.start()
t0 = time.time()
def status(c):
    head = c["resp"].split(b"\r\n", 1)[0].split()
    return int(head[1]) if len(head) > 1 and head[1].isdigit() else 0
def complete(c):
    r = c["resp"]
    if b"\r\n\r\n" not in r: return False
    h, b = r.split(b"\r\n\r\n", 1)
    for line in h.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"): return len(b) >= int(line.split(b":")[1])
    return True
retry_after = 0
while any(c["state"] is None for c in conns) and time.time() - t0 < 120:
    allowed = int((time.time() - t0) * RATE) + 65536
    for c in conns:
        if c["state"] is not None: continue
        s = c["s"]
        try:
            d = s.recv(65536)
            if d == b"": c["state"] = "closed" if not c["resp"] else "answered"
            c["resp"] += d
        except BlockingIOError: pass
        except OSError: c["state"] = "reset"
        if c["resp"] and complete(c): c["state"] = "answered"
        if c["state"] is not None or c["sent"] >= SIZE or c["sent"] >= allowed: continue
        try:
            if c["sent"] < 0: n = s.send(hdr[len(hdr) + c["sent"]:])
            else: n = s.send(chunk[:min(len(chunk), SIZE - c["sent"])])
            c["sent"] += n
        except BlockingIOError: pass
        except OSError: pass  # refused mid-body: the answer is read above
    time.sleep(0.01)
done.set(); th.join()
codes = {}
for c in conns:
    k = status(c) if c["state"] in ("answered", "closed", "reset") and c["resp"] else c["state"]
    codes[k] = codes.get(k, 0) + 1
    if status(c) == 503 and b"\r\nRetry-After:" in c["resp"]: retry_after += 1
hwm = [l for l in open("/proc/%s/status" % pid) if l.startswith("VmHWM")][0].split()[1]
hwm = int(hwm) * 1024
print("# %d uploads of 40 MiB: answers %s; 503 with Retry-After %d; VmHWM %.1f MiB (budget %d MiB + overhead %d MiB); "
      "probes failed: %s" % (N, codes, retry_after, hwm / 2**20, budget >> 20, overhead >> 20, probe_fail[:5]))
assert set(codes) <= {503, 400}, codes                  # every upload answered: nothing dropped
assert codes.get(503, 0) >= N - 3 and codes.get(400, 0) >= 1, codes  # 3 fit the budget (each held twice)
assert retry_after == codes[503], retry_after
if os.environ.get("PEFLEET_SANITIZE"): print("# VmHWM not checked under AddressSanitizer (its quarantine and shadow)")
else: assert hwm < budget + overhead, hwm
assert not probe_fail, probe_fail
PY

metric() { curl -s -m 2 "$UA/metrics" | awk -v n="$1" '$1==n {print $2}'; }
check "budget_refusals_counted ($(metric pefleet_gateway_budget_refused_total))" test "$(metric pefleet_gateway_budget_refused_total)" -ge 97
check every_held_byte_released test "$(metric pefleet_gateway_body_bytes_held)" = 0

# --- 1: a pool that does not answer holds no HTTP thread ------------------------------------
RPID=$(awk '$1=="score-router" {print $3}' "$D/fleet.state")
python3 - "$GA" "$F" >"$T/waiting.out" 2>&1 <<'PY' &
import sys, threading, http.client
port, data = int(sys.argv[1]), open(sys.argv[2], "rb").read()
codes = []
def scan():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("POST", "/v1/scan", data, {"Content-Type": "application/octet-stream"})
    codes.append(c.getresponse().status)
ts = [threading.Thread(target=scan) for _ in range(100)]
for t in ts: t.start()
for t in ts: t.join()
print("codes", sorted(set(codes)), len(codes))
PY
WPID=$!
if [ -n "$RPID" ] && kill -STOP "$RPID"; then
  STOPPED=$RPID
  for _ in $(seq 50); do
    w=$(curl -s -m 1 "$UA/metrics" | awk '$1=="pefleet_gateway_pool_waiting" {print $2}')
    [ "${w:-0}" -ge 100 ] && break; sleep 0.1
  done
  check "scans_wait_on_the_stopped_pool (${w:-0} waiting)" test "${w:-0}" -ge 100
  check healthz_answers_while_100_scans_wait test "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "$UA/healthz")" = 200
  check vector_encode_answers_while_100_scans_wait \
    test "$(curl -s -m 1 -o /dev/null -w '%{http_code}' --data-binary @"$T/vec.body" "$UA/encode")" = 200
  kill -CONT "$RPID"; STOPPED=
  wait "$WPID"
  check every_waiting_scan_answered_after_the_pool_resumed grep -q 'codes \[200\] 100' "$T/waiting.out"
else
  notok pool_stopped "no score-router pid in $D/fleet.state"
fi

# --- 1: the minimum rate, and the per-address connection limit -------------------------------
check trickle_dropped_before_idle_timeout python3 - "$GA" <<'PY'
import socket, time, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"POST /v1/scan HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
          b"Content-Length: 1000000\r\n\r\n")
t0, closed = time.time(), False
s.settimeout(0.5)
while time.time() - t0 < 25:  # the idle timeout is 30 s; the rate window 3 s
    try:
        s.send(b"MZ" * 50)    # 200 bytes/s, under --min-rate 65536
        if s.recv(4096) == b"": closed = True; break
    except socket.timeout: pass
    except OSError: closed = True; break
print("# closed after %.1f s" % (time.time() - t0))
assert closed, "a 200 bytes/s body was still open after 25 s"
PY
check slow_body_counted test "$(metric pefleet_gateway_slow_bodies_dropped_total)" -ge 1

printf 'tok-%s\n' "$RANDOM$RANDOM" >"$T/token"
chmod 600 "$T/token"
"$G" --data "$D" --port "$GB" --token-file "$T/token" --per-ip-connections 2 --threads 2 2>"$T/gb.log" &
GPIDS+=($!)
UB=http://127.0.0.1:$GB
wait_http "$UB/healthz"
check per_ip_connection_limit python3 - "$GB" <<'PY'
import socket, subprocess, sys
port = int(sys.argv[1])
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
r = subprocess.run(["curl", "-s", "-m", "2", "-o", "/dev/null", "-w", "%{http_code}",
                    "http://127.0.0.1:%d/healthz" % port], capture_output=True, text=True)
assert r.stdout != "200", "a third connection from one address was served past --per-ip-connections 2"
for s in idle: s.close()
r = subprocess.run(["curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
                    "http://127.0.0.1:%d/healthz" % port], capture_output=True, text=True)
assert r.stdout == "200", "not answering once the others closed: " + r.stdout
PY

# --- 8: the token file, /healthz with a token, Host and Origin without one -------------------
check healthz_with_token_says_only_ok test "$(curl -s "$UB/healthz")" = '{"status":"ok"}'
check healthz_without_token_names_model grep -q '"model_version"' <(curl -s "$UA/healthz")
cp "$T/token" "$T/token.wide"; chmod 644 "$T/token.wide"
cp "$T/token" "$T/token.other"; chmod 600 "$T/token.other"; chown nobody "$T/token.other" 2>/dev/null
for t in wide other; do
  if [ "$t" = other ] && [ "$(stat -c %u "$T/token.$t")" = "$(id -u)" ]; then skip token_owned_by_another_user "cannot chown"; continue; fi
  timeout 10 "$G" --data "$D" --port "$GC" --token-file "$T/token.$t" >"$T/gc.out" 2>&1
  rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q 'chmod 600' "$T/gc.out"; then ok "token_file_${t}_refused_at_start (exit $rc)"
  else notok "token_file_${t}_refused_at_start" "exit $rc: $(head -2 "$T/gc.out")"; fi
done
code() { curl -s -m 5 -o "$T/code.out" -w '%{http_code}' "$@"; }
check origin_refused_without_token test "$(code -H 'Origin: http://evil.example' "$UA/healthz")" = 403
check foreign_host_refused_without_token test "$(code -H "Host: evil.example:$GA" "$UA/healthz")" = 403
check foreign_host_refused_on_scan test "$(code -H "Host: evil.example" --data-binary @"$T/vec.body" "$UA/")" = 403
check allow_host_name_served test "$(code -H "Host: scan.test:$GA" "$UA/healthz")" = 200
check localhost_served test "$(code -H "Host: localhost:$GA" "$UA/healthz")" = 200
check origin_with_token_decided_by_token test "$(code -H 'Origin: http://evil.example' "$UB/healthz")" = 200

# --- 2, 3: one 403, one text, for every refused path; 404 only inside -------------------------
: >"$T/refusals"
for p in /etc/passwd /etc/nonexistent-pefleet "$T/allowed/../../etc/passwd" "$T/allowed/../../etc/nonexistent-pefleet" \
         "$T/allowed/../outside/t32.exe" "$T/allowed/../outside/nonexistent" "$T/outside/t32.exe" \
         "$T/allowed/escape.exe" "$T/allowed/rel.exe" "$T/allowed/fifo" "$T/allowed/sub" "$T/allowed"; do
  c=$(code -G --data-urlencode "x=$p" "$UA/encode")
  printf '%s %s\t%s\n' "$c" "$(md5sum <"$T/code.out" | cut -c1-32)" "$p" >>"$T/refusals"
done
check every_refusal_same_403_same_body python3 - "$T/refusals" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
kinds = set(r[0] for r in rows)
assert len(kinds) == 1 and next(iter(kinds)).startswith("403 "), rows  # the FIFO too: 403 at once, not 000
print("# %d refusals, one status and body" % len(rows))
PY
check missing_inside_is_404 test "$(code -G --data-urlencode "x=$T/allowed/nope.exe" "$UA/encode")" = 404
check allowed_file_served test "$(code -G --data-urlencode "x=$T/allowed/t32.exe" "$UA/encode")" = 200

# --- 2: the race, a folder and a symlink out trading places ------------------------------------
"$SWAP" "$T/allowed/d" "$T/allowed/l" 30 4000000 >"$T/swaps" 2>&1 &
SWPID=$!
check race_reads_nothing_outside python3 - "$GA" "$T/allowed/d/f" "$F" "$BAD" <<'PY'
import sys, threading, time, hashlib, http.client, json, urllib.parse
port, path = int(sys.argv[1]), sys.argv[2]
inside = hashlib.sha256(open(sys.argv[3], "rb").read()).hexdigest()
outside = hashlib.sha256(open(sys.argv[4], "rb").read()).hexdigest()
url = "/v1/scan?x=" + urllib.parse.quote(path)
counts, lock = {}, threading.Lock()
t0 = time.time()
def run():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.time() - t0 < 15:
        with lock:
            if sum(counts.values()) >= 3000: return
        c.request("GET", url)
        r = c.getresponse(); b = r.read()
        k = r.status
        if k == 200:
            sha = json.loads(b)["sha256"]
            k = "inside" if sha == inside else "OUTSIDE" if sha == outside else "other " + sha
        with lock: counts[k] = counts.get(k, 0) + 1
ts = [threading.Thread(target=run) for _ in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print("# %d scans in %.1f s while the folder and the symlink swapped: %s" % (sum(counts.values()), time.time() - t0, counts))
assert "OUTSIDE" not in counts, counts
assert counts.get("inside", 0) > 0 and counts.get(403, 0) > 0, counts  # both sides of the swap were seen
assert set(counts) <= {"inside", 403, 404}, counts
PY
kill "$SWPID" 2>/dev/null; wait "$SWPID" 2>/dev/null
check gateway_alive kill -0 "$GAPID"
finish
