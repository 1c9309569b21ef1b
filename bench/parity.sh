#!/usr/bin/env bash
# The check to run after any speed change to the encoder path (see
# bench/README.md). Not a test: prints what it finds, exits 1 on a mismatch.
#  1. `pefleet encode --jsonl` over corpus/clean and corpus/malicious-test
#     against corpus/expected-ergo486.tsv: every file ok, max |diff| <= 1e-9.
#  2. `pefleet encode /etc/passwd`: exit 1, nothing on stdout, one error line
#     on stderr (beside the summary line).
#  3. with REF_BIN=folder of an older build: byte-identical --jsonl output of
#     both builds over PATH... (default: the two corpus folders), -w 1 and -w 2.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${PEFLEET_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
BIN=${BIN:-$ROOT/bin}
CORPUS=$SHARED/corpus
[ -f "$CORPUS/expected-ergo486.tsv" ] || { echo "parity: $CORPUS/expected-ergo486.tsv not found (set PEFLEET_SHARED)" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/pefleet-parity.XXXXXX")
trap 'rm -rf "$T"' EXIT
bad=0

"$BIN/pefleet" encode -q --jsonl "$CORPUS/clean" "$CORPUS/malicious-test" >"$T/new.jsonl" 2>"$T/new.err"
echo "encode exit $?, $(wc -l <"$T/new.jsonl") lines, $(wc -l <"$T/new.err") stderr lines"
python3 - "$CORPUS/expected-ergo486.tsv" "$CORPUS" "$T/new.jsonl" <<'PY' || bad=1
import json, os, sys
tsv, corpus, jl = sys.argv[1:]
want = {}
for line in open(tsv):
    rel, status, vals = line.rstrip("\n").split("\t")
    want[rel] = (status, [float(v) for v in vals.split(",")] if vals else [])
got = {}
for line in open(jl):
    o = json.loads(line)
    got[os.path.relpath(o["path"], corpus)] = o
worst, where, fails = 0.0, "", []
for rel, (status, vec) in want.items():
    o = got.get(rel)
    if o is None or not o["ok"] or status != "OK" or len(o["vector"]) != 486 or len(vec) != 486:
        fails.append(rel)
        continue
    d = max(abs(a - b) for a, b in zip(o["vector"], vec))
    if d > worst:
        worst, where = d, rel
print(f"parity: {len(want)} expected, {len(got)} encoded, {len(fails)} missing or failed, "
      f"max |diff| {worst:.3g}{' (' + where + ')' if where else ''}")
sys.exit(1 if fails or worst > 1e-9 or len(want) != 51 else 0)
PY

"$BIN/pefleet" encode /etc/passwd >"$T/pw.out" 2>"$T/pw.err"
rc=$?
echo "/etc/passwd: exit $rc, stdout $(wc -c <"$T/pw.out") bytes, stderr:"
sed 's/^/  | /' "$T/pw.err"
[ "$rc" -eq 1 ] && [ "$(grep -c 'error' "$T/pw.err")" -eq 1 ] && [ ! -s "$T/pw.out" ] ||
  { echo "parity: /etc/passwd: wanted exit 1, no output and one error line"; bad=1; }

if [ -n "${REF_BIN:-}" ]; then
  [ $# -gt 0 ] || set -- "$CORPUS/clean" "$CORPUS/malicious-test"
  for w in 1 2; do
    "$REF_BIN/pefleet" encode -q --jsonl -w $w "$@" >"$T/ref$w.jsonl" 2>"$T/ref$w.err"
    r1=$?
    "$BIN/pefleet" encode -q --jsonl -w $w "$@" >"$T/cur$w.jsonl" 2>"$T/cur$w.err"
    r2=$?
    if [ $r1 -eq $r2 ] && cmp -s "$T/ref$w.jsonl" "$T/cur$w.jsonl" && cmp -s "$T/ref$w.err" "$T/cur$w.err"; then
      echo "identical to $REF_BIN with -w $w: $(wc -l <"$T/cur$w.jsonl") lines, exit $r2"
    else
      echo "parity: output differs from $REF_BIN with -w $w (exit $r1 vs $r2)"
      bad=1
    fi
  done
fi
[ $bad -eq 0 ] && echo "parity: ok" || echo "parity: FAILED"
exit $bad
