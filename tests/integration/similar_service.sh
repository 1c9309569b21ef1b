#!/usr/bin/env bash
# The similarity service (pefleet-similar) against a real fleet (`pefleet up`
# on free ports, real redis-server): the corpus vectors (`pefleet encode`,
# then import-csv) plus synthetic rows (perturbed copies, duplicate vectors
# under other shas, rows within 1e-7 of 0.5 / 0.9 / 0.99 of a query, signed
# rows) are loaded at start. Checked against an independent brute force in
# Python (sequential double sums, the formula of lib/pf_simindex.h, over the
# float32 vectors `pefleet export` returns): for several samples, thresholds
# 0.5, 0.9, 0.99, 1 and tops 5 and 10000, the hits, their order and their
# similarities are exactly equal; queries by file (CLI: encoded locally), by
# the file's bytes (encoded by the service) and by a raw vector too. Then:
# vectors stored after start (import-csv, and `pefleet ingest` through the
# broker and an encoder worker) are found without a restart, also after
# Redis restarts; each bad query (unknown sha256, wrong length, zero vector,
# NaN, not a PE file, garbage frames) gets a clear error and the service
# stays up.
. "$(dirname "$0")/lib/common.sh"
need_corpus similar_service
need_redis similar_service
P=$BIN/pefleet
BUILD=${BUILD:-$ROOT/build}
Z=$BUILD/tools/zsimilar
[ -x "$BIN/pefleet-similar" ] || { skip similar_service "no $BIN/pefleet-similar"; exit 0; }
[ -x "$Z" ] || { skip similar_service "no $Z (make builds tests/tools)"; exit 0; }
D=$T/fleet
fleet_ports
SP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; "$BIN/pefleet" down --data "$D" >/dev/null 2>&1; rm -rf "$T"' EXIT

# --- usage errors ---------------------------------------------------------------
"$P" similar >/dev/null 2>&1
check usage_no_query_exit_2 test $? -eq 2
"$P" similar --top 0 abc >/dev/null 2>&1
check usage_top_0_exit_2 test $? -eq 2
"$P" similar --threshold 1.5 abc >/dev/null 2>&1
check usage_threshold_out_of_range_exit_2 test $? -eq 2

if ! "$P" up --data "$D" --workers 1 --scorers 0 --redis-port "$RP" --ingest-port "$IP" --worker-port "$WP" \
    --similar-port "$SP" >"$T/up.out" 2>&1; then
  notok fleet_up "$(tr '\n' ' ' <"$T/up.out")"; finish
fi
ok "fleet_up (redis $RP, similar $SP)"
fleet_auth "$D" # up made a Redis password
EP=tcp://127.0.0.1:$SP

# --- the stored vectors -----------------------------------------------------------
"$P" encode -q --label auto -o "$T/corpus.csv" "$CORPUS" 2>/dev/null
check "corpus_encoded ($(wc -l <"$T/corpus.csv") rows)" test -s "$T/corpus.csv"
python3 - "$T/corpus.csv" "$T/synth.csv" <<'PY'
import math, random, sys
rows = [l.rstrip("\n").split(",") for l in open(sys.argv[1])]
base = [[float(v) for v in r[1:]] for r in rows]
rnd = random.Random(6)
out = []
def unit(v):
    n = math.sqrt(sum(x * x for x in v)); return [x / n for x in v]
for i in range(300):                       # families: perturbed copies
    b = base[rnd.randrange(len(base))]
    s = rnd.choice([0.01, 0.1, 0.4])
    out.append(["1" if i % 2 else "0"] + [repr(max(0.0, x * (1 + s * rnd.gauss(0, 1)))) if x else "0" for x in b])
for i in range(20):                        # the same vector under another sha (the label differs)
    out.append(["dup%d" % i] + rows[i][1:])
q = unit(base[0])
for t in (0.5, 0.9, 0.99):                 # rows within 1e-7 of a threshold of the first corpus vector
    for k in range(8):
        c = t + rnd.uniform(-1e-7, 1e-7)
        w = [rnd.gauss(0, 1) for _ in q]
        d = sum(a * b for a, b in zip(w, q)); w = unit([a - d * b for a, b in zip(w, q)])
        s = math.sqrt(1 - c * c)
        out.append(["near"] + [repr(3.0 * (c * a + s * b)) for a, b in zip(q, w)])
for i in range(30):                        # signed rows: negative similarities
    out.append(["signed"] + [repr(rnd.gauss(0, 1)) for _ in q])
open(sys.argv[2], "w").write("".join(",".join(r) + "\n" for r in out))
PY
cat "$T/corpus.csv" "$T/synth.csv" >"$T/all.csv"
"$P" import-csv -q --label-map none --data "$D" "$T/all.csv"
check import_exit_0 test $? -eq 0
NSTORED=$($RCLI SCARD pf:done)

"$BIN/pefleet-similar" --data "$D" >"$T/similar.log" 2>&1 &
SPID=$!
for _ in $(seq 1 100); do grep -q 'listening on' "$T/similar.log" 2>/dev/null && break; sleep 0.1; done
check service_listening grep -q "listening on $EP" "$T/similar.log"
check "load_reported ($NSTORED vectors)" grep -Eq "loaded $NSTORED vectors \(0 skipped\) in [0-9.]+ s; [0-9]+ bytes per stored vector" "$T/similar.log"
check config_printed grep -q "similar_endpoint = $EP" "$T/similar.log"

# --- exact against brute force ------------------------------------------------------
"$P" export --jsonl --data "$D" >"$T/export.jsonl" 2>/dev/null
FILE1=$(ls "$CORPUS"/clean/* | head -1)
"$P" encode --jsonl "$FILE1" >"$T/file1.jsonl" 2>/dev/null
python3 - "$T/export.jsonl" "$P" "$D" "$FILE1" "$T/file1.jsonl" "$Z" "$EP" "$T" <<'PY' >"$T/exact.out" 2>&1
import json, math, struct, subprocess, sys
exp, P, D, file1, file1_json, Z, EP, T = sys.argv[1:9]
S = {}
for l in open(exp):
    o = json.loads(l)
    S[o["sha256"]] = o
f32 = lambda x: struct.unpack("f", struct.pack("f", x))[0]
norm2 = {}
for sha, o in S.items():
    n = 0.0
    for x in o["vector"]: n += x * x
    norm2[sha] = n
cache = {}
def brute(q, t, top):
    key = tuple(q)
    if key not in cache:
        qq = 0.0
        for x in q: qq += x * x
        sims = []
        for sha, o in S.items():
            d = 0.0
            for a, b in zip(q, o["vector"]): d += a * b
            sims.append((-(d / math.sqrt(qq * norm2[sha])), sha))
        sims.sort()
        cache[key] = sims
    return [(sha, -s) for s, sha in cache[key] if -s >= t][:top]
problems, compared = 0, 0
def compare(what, got, want):
    global problems, compared
    compared += 1
    if [(h["sha256"], h["similarity"]) for h in got] != want:
        problems += 1
        print("%s: %d hits, brute force %d" % (what, len(got), len(want)))
        for k, (g, w) in enumerate(zip([(h["sha256"], h["similarity"]) for h in got], want)):
            if g != w: print("  first difference at %d: %s vs %s" % (k, g, w)); break
        return
    for h in got:
        o = S[h["sha256"]]
        if h["split"] != o["split"] or o["label"] not in h["labels"]:
            problems += 1; print(what, "labels/split", h, o["label"], o["split"]); return
def cli(args):
    r = subprocess.run([P, "similar", "--jsonl", "--data", D] + args, capture_output=True, text=True)
    if r.returncode != 0:
        print("pefleet similar", args, "exit", r.returncode, r.stderr.strip()); return None
    return [json.loads(l) for l in r.stdout.splitlines()]
by_label = {}
for sha, o in S.items(): by_label.setdefault(o["label"], []).append(sha)
queries = sorted(by_label["clean"])[:2] + sorted(by_label["malicious-test"])[:2] + sorted(by_label["dup3"]) + \
          sorted(by_label["signed"])[:1] + sorted(by_label["near"])[:1]
# the corpus row the near-threshold rows were built around: the first line of corpus.csv
first = open(T + "/corpus.csv").readline().rstrip("\n")
import hashlib
queries.append(hashlib.sha256(first.encode()).hexdigest())
for sha in queries:
    for t in (0.5, 0.9, 0.99, 1.0):
        for top in (5, 10000):
            got = cli([sha, "--threshold", repr(t), "--top", str(top)])
            if got is None: problems += 1; continue
            compare("sha %s t=%g top=%d" % (sha[:12], t, top), got, brute(S[sha]["vector"], t, top))
# negative thresholds and 0 (sent as the largest double below 0)
sha = sorted(by_label["signed"])[0]
for t in (-1.0, -0.2, 0.0):
    got = cli([sha, "--threshold", repr(t), "--top", "10000"])
    want = brute(S[sha]["vector"], t if t != 0 else -5e-324, 10000)
    if got is None: problems += 1
    else: compare("signed t=%g" % t, got, want)
# by file: encoded by the CLI, query = its vector rounded to float32
fv = [f32(x) for x in json.loads(open(file1_json).readline())["vector"]]
for t in (0.9, 0.99):
    got = cli([file1, "--threshold", repr(t), "--top", "10000"])
    if got is None: problems += 1
    else: compare("file t=%g" % t, got, brute(fv, t, 10000))
# by the file's bytes (the service's isolated encoder) and by a raw vector
def zsim(args):
    r = subprocess.run([Z, EP] + args, capture_output=True, text=True)
    lines = r.stdout.splitlines()
    if r.returncode != 0 or not lines or not lines[0].startswith("status=1 "):
        print("zsimilar", args, r.returncode, r.stdout[:200]); return None
    return [{"sha256": l.split()[1], "similarity": float(l.split()[2]),
             "labels": l.split()[3].split(","), "split": l.split()[4]} for l in lines[1:]]
got = zsim(["--threshold", "0.9", "--top", "10000", "sample", file1])
if got is None: problems += 1
else: compare("sample bytes", got, brute(fv, 0.9, 10000))
raw = [x * 0.7 + 0.01 * (i % 7) for i, x in enumerate(json.loads(open(file1_json).readline())["vector"])]
open(T + "/raw.txt", "w").write(" ".join(repr(x) for x in raw))
got = zsim(["--threshold", "0.5", "--top", "10000", "vector-file", T + "/raw.txt"])
if got is None: problems += 1
else: compare("raw vector", got, brute([f32(x) for x in raw], 0.5, 10000))
print("%d queries compared with the brute force over %d vectors, %d problems" % (compared, len(S), problems))
sys.exit(1 if problems else 0)
PY
if [ $? -eq 0 ]; then ok "exact_equals_brute_force ($(tail -1 "$T/exact.out"))"
else notok exact_equals_brute_force "$(tail -8 "$T/exact.out" | tr '\n' ' ')"; fi

# --- several files at once (encoded by the service's children, answered as they finish)
pids=()
for f in $(ls "$CORPUS"/clean/* | head -6); do
  "$Z" "$EP" --top 1 sample "$f" >"$T/par.$(basename "$f").out" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done   # only these: the service runs in the background too
wait_ok=1
for o in "$T"/par.*.out; do head -1 "$o" | grep -q '^status=1 .*hits=1' || wait_ok=0; done
check "concurrent_file_queries ($(ls "$T"/par.*.out | wc -l) at once)" test $wait_ok -eq 1
check service_alive_after_concurrent_files kill -0 "$SPID"

# --- stored after start: found without a restart ------------------------------------
# wait_found SHA: 0 once `pefleet similar SHA` finds it at 1 (10 s at most)
wait_found() {
  for _ in $(seq 1 100); do
    "$P" similar "$1" --threshold 1 --jsonl --timeout 5 --data "$D" 2>/dev/null | grep -q "\"sha256\":\"$1\",\"similarity\":1," && return 0
    sleep 0.1
  done
  return 1
}
new_row() { # new_row FILE SEED: one fresh row; prints its sha256
  python3 -c 'import random,sys; r=random.Random(int(sys.argv[2])); open(sys.argv[1],"w").write("fresh," + ",".join(repr(r.random()) for _ in range(486)))' "$1" "$2"
  sha256sum "$1" | cut -d' ' -f1
}
S1=$(new_row "$T/new1.csv" 1)
"$P" similar "$S1" --data "$D" >/dev/null 2>"$T/before.err"
check unknown_before_import grep -q "unknown sha256" "$T/before.err"
"$P" import-csv -q --label-map none --data "$D" "$T/new1.csv"
check new_import_found_without_restart wait_found "$S1"
# a batch (read with pipelined requests): every row is found
python3 -c 'import random,sys
r = random.Random(99)
open(sys.argv[1], "w").write("".join("batch," + ",".join(repr(r.random()) for _ in range(486)) + "\n" for _ in range(60)))' "$T/batch.csv"
"$P" import-csv -q --label-map none --data "$D" "$T/batch.csv"
B1=$(head -1 "$T/batch.csv" | tr -d '\n' | sha256sum | cut -d' ' -f1)
B60=$(tail -1 "$T/batch.csv" | tr -d '\n' | sha256sum | cut -d' ' -f1)
check batch_first_found wait_found "$B1"
check batch_last_found wait_found "$B60"
check batch_read_pipelined grep -Eq "added [0-9]+ vectors from the stream" "$T/similar.log"
FILE2=$(ls "$CORPUS"/malicious-test/* | head -1)
S2=$(sha256sum "$FILE2" | cut -d' ' -f1)
"$P" ingest --wait --label fresh-ingest --data "$D" "$FILE2" >/dev/null 2>&1
check new_ingest_found_without_restart wait_found "$S2"
"$P" similar "$S2" --threshold 1 --jsonl --data "$D" >"$T/s2.jsonl" 2>/dev/null
check ingested_labels_and_duplicate python3 -c '
import json, sys
h = [json.loads(l) for l in open(sys.argv[1])]
me = [x for x in h if x["sha256"] == sys.argv[2]]
assert me and me[0]["labels"] == ["fresh-ingest"], h
assert len(h) >= 2, h   # its corpus row has the same vector: exactly 1 too
' "$T/s2.jsonl" "$S2"

# --- Redis restarts: the service reconnects and keeps following ---------------------
for round in 1 2; do
  rp=$(awk '$1=="redis" {print $3}' "$D/fleet.state")
  [ -n "$rp" ] && kill -TERM "$rp"
  for _ in $(seq 1 100); do sleep 0.1; $RCLI ping 2>/dev/null | grep -q PONG && break; done
  S3=$(new_row "$T/new3.csv" $((10 + round)))
  for _ in $(seq 1 50); do "$P" import-csv -q --label-map none --data "$D" "$T/new3.csv" 2>/dev/null && break; sleep 0.2; done
  check "found_after_redis_restart_$round" wait_found "$S3"
done
check service_survived_redis_restarts kill -0 "$SPID"
check redis_outage_logged grep -q "redis reachable again" "$T/similar.log"

# --- bad queries: a clear error each, and the service stays up ----------------------
zero64=$(printf '0%.0s' $(seq 64))
"$P" similar "$zero64" --data "$D" >/dev/null 2>"$T/unk.err"
rc=$?
check "unknown_sha_exit_1 (exit $rc: $(cat "$T/unk.err"))" test $rc -eq 1 -a -n "$(grep 'unknown sha256' "$T/unk.err")"
zcheck() { # zcheck NAME STATUS TEXT ARGS...: the reply has STATUS and TEXT in its error
  local name=$1 st=$2 text=$3; shift 3
  local out; out=$("$Z" "$EP" "$@" 2>&1 | head -1)
  case "$out" in
    "status=$st "*"$text"*) ok "$name ($out)" ;;
    *) notok "$name" "got: $out" ;;
  esac
}
zcheck unknown_sha_status 5 "unknown sha256" sha "$zero64"
zcheck malformed_sha_status 5 "malformed sha256" sha NOTHEX
zcheck wrong_length_485 4 "it has 485 values, expected 486" vector 485 ones
zcheck wrong_length_0 4 "it has 0 values, expected 486" vector 0 ones
zcheck zero_vector 4 "zero vector" vector 486 zeros
zcheck nan_vector 4 "not a finite number" vector 486 nan
zcheck inf_vector 4 "not a finite number" vector 486 inf
zcheck beyond_float32 4 "beyond float32 range" vector 486 big
zcheck no_query 6 "no query" none
zcheck bad_threshold 6 "threshold must be in [-1, 1]" --threshold 3 vector 486 ones
zcheck not_pe_sample 2 "not a PE file" sample "$CORPUS/MANIFEST.tsv"
"$BUILD/tools/zsend" "$EP" garbage 300 7 >"$T/garbage.out" 2>&1
check garbage_answered_with_error grep -q 'reply similar_reply' "$T/garbage.out"
"$BUILD/tools/zsend" "$EP" frames 3 >/dev/null 2>&1
"$BUILD/tools/zsend" "$EP" version2 >/dev/null 2>&1
"$BUILD/tools/zsend" "$EP" empty >/dev/null 2>&1
zcheck good_query_after_bad_ones 1 "" --threshold 0.5 vector 486 ones
check service_alive_after_bad_queries kill -0 "$SPID"
check bad_queries_logged grep -q "bad vector: zero vector" "$T/similar.log"
"$P" similar "$zero64" --server tcp://127.0.0.1:1 --timeout 1 --data "$D" >/dev/null 2>"$T/down.err"
rc=$?
check "unreachable_service_exit_1 ($(cat "$T/down.err"))" test $rc -eq 1

kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
check stop_logged grep -q "stopping: [0-9]* queries answered" "$T/similar.log"
check no_sanitizer_report_in_service_log test -z "$(grep -E 'Sanitizer|runtime error' "$T/similar.log")"
SPID=
finish
