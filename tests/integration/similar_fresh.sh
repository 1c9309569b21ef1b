#!/usr/bin/env bash
# Search that sees what was just stored: 20 times in a row, a fresh sample
# is ingested with --wait and queried at once (`pefleet similar SHA256`);
# each answer must be exactly the brute-force one over every stored vector
# (`pefleet export --jsonl`, cosine in double precision): the same samples,
# in the same order, similarities within 1e-9. The similarity service
# catches up to the pf:vectors stream's newest entry, read when a query
# arrives, before it answers (similar/similar_sync.c).
. "$(dirname "$0")/lib/common.sh"
NAME=similar_fresh
need_corpus "$NAME"
need_redis "$NAME"
P=$BIN/pefleet
fleet_ports
read -r SP SCP SIMP HP < <(free_ports 4)
D=$T/fleet
fleet_cleanup_on_exit "$D"
if ! "$P" up --data "$D" --workers 1 --scorers 1 --redis-port "$RP" --ingest-port "$IP" --worker-port "$WP" \
     --score-port "$SP" --scorer-port "$SCP" --similar-port "$SIMP" --port "$HP" >"$T/up.log" 2>&1; then
  notok up "$(tail -3 "$T/up.log")"; finish
fi
fleet_auth "$D" 2>/dev/null || true
"$P" ingest --data "$D" --label clean --wait "$CORPUS/clean" >/dev/null 2>&1
mkdir -p "$T/fresh"
SRC=("$CORPUS"/clean/*.exe)
good=0
for i in $(seq 1 20); do
  f="$T/fresh/sample-$i.exe"
  cp "${SRC[$((i % ${#SRC[@]}))]}" "$f"
  printf 'fresh sample %d %s\n' "$i" "$RANDOM$RANDOM" >>"$f" # a new sha256, a vector close to its source's
  sha=$(sha256sum "$f" | cut -d' ' -f1)
  "$P" ingest --data "$D" --label fresh --wait "$f" >"$T/ingest.out" 2>&1 || { notok "ingest_$i" "$(tail -1 "$T/ingest.out")"; continue; }
  "$P" similar --data "$D" --threshold 0.5 --top 10000 --jsonl "$sha" >"$T/got.jsonl" 2>"$T/got.err"
  rc=$?
  "$P" export --data "$D" --split all --jsonl -o "$T/all.jsonl" 2>/dev/null
  if python3 - "$sha" "$T/all.jsonl" "$T/got.jsonl" >"$T/cmp" 2>&1 <<'PY'
import json, math, sys
sha, allp, gotp = sys.argv[1:4]
rows = [json.loads(l) for l in open(allp)]
vec = {r["sha256"]: r["vector"] for r in rows}
if sha not in vec:
    print("not exported"); sys.exit(1)
q = vec[sha]
nq = math.sqrt(sum(x * x for x in q))
want = []
for s, v in vec.items():
    nv = math.sqrt(sum(x * x for x in v))
    c = sum(a * b for a, b in zip(q, v)) / (nq * nv) if nq and nv else 0.0
    if c >= 0.5: want.append((-c, s))
want.sort()
got = [json.loads(l) for l in open(gotp)]
if [s for _, s in want] != [g["sha256"] for g in got]:
    print("hits differ: want %d (%s...), got %d" % (len(want), want[0][1][:12] if want else "-", len(got))); sys.exit(1)
worst = max(abs(-c - g["similarity"]) for (c, _), g in zip(want, got))
if worst > 1e-9:
    print("similarity off by %g" % worst); sys.exit(1)
print(len(got))
PY
  then good=$((good + 1))
  else notok "fresh_query_$i" "$(cat "$T/cmp") (similar exit $rc: $(head -1 "$T/got.err"))"
  fi
done
check "fresh_samples_found_at_once ($good of 20 exact)" test "$good" -eq 20
finish
