#!/usr/bin/env bash
# Similarity search over 200,000 and 1,000,000 stored vectors: pefleet's
# index (bench/similar_bench.c over lib/pf_simindex) beside a numpy brute
# force (normalised float32 matrix times the query, threshold filter, top-K
# sort), same vectors, same queries, one run. Prints per-query ms for both,
# the speed ratio and memory per stored vector, and checks pefleet's hits
# against a float64 brute force for the first queries.
#
# Data: perturbed copies of the 51 corpus vectors (../shared/corpus/
# expected-ergo486.tsv): sparse, non-negative, in families like real PE
# files: each row = a corpus vector times (1 + s*N(0,1)) per value with s in
# {0.05, 0.2, 0.5}, clipped at 0, 10% of its non-zero values dropped and 2%
# of its zero values set to U(0, 0.2). Queries: fresh copies (s = 0.05).
#
# env: BENCH_SIZES ("200000 1000000"), BENCH_QUERIES (20), BENCH_THRESHOLD
# (0.9), BENCH_TOP (100), BENCH_PYTHON (/usr/bin/python3, needs numpy),
# SIMBENCH (the C driver; `make bench-similar` builds and runs this).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${PEFLEET_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
PY=${BENCH_PYTHON:-/usr/bin/python3}
SIMBENCH=${SIMBENCH:-$ROOT/build/bench/similar_bench}
SIZES=${BENCH_SIZES:-200000 1000000}
NQ=${BENCH_QUERIES:-20}
THR=${BENCH_THRESHOLD:-0.9}
TOP=${BENCH_TOP:-100}
die() { echo "similar_bench: $*" >&2; exit 1; }
[ -x "$SIMBENCH" ] || die "$SIMBENCH not built (make bench-similar)"
"$PY" -c 'import numpy' 2>/dev/null || die "numpy missing for $PY (make deps installs python3-numpy)"
[ -f "$SHARED/corpus/expected-ergo486.tsv" ] || die "no corpus at $SHARED/corpus"
T=$(mktemp -d /tmp/pefleet-simbench.XXXXXX)
trap 'rm -rf "$T"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "numpy:   $("$PY" -c 'import numpy; print(numpy.__version__)'), BLAS $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null | sed 's|.*/x86_64-linux-gnu/||')"
echo "queries: $NQ per size, threshold $THR, top $TOP"
rows=()
for N in $SIZES; do
  "$PY" - "$SHARED/corpus/expected-ergo486.tsv" "$N" "$NQ" "$T/rows.f32" "$T/q.f32" <<'PY' || die "data generation failed"
import sys, numpy as np
tsv, n, nq, rows_out, q_out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
base = np.array([[float(x) for x in l.rstrip("\n").split("\t")[2].split(",")]
                 for l in open(tsv) if l.split("\t")[1] == "OK"])
rng = np.random.default_rng(486)
def copies(m, sigmas):
    b = base[rng.integers(0, len(base), m)]
    s = rng.choice(sigmas, m)[:, None]
    x = np.clip(b * (1 + s * rng.standard_normal(b.shape)), 0, None)
    nz = b != 0
    x[nz & (rng.random(b.shape) < 0.10)] = 0
    add = ~nz & (rng.random(b.shape) < 0.02)
    x[add] = rng.uniform(0, 0.2, add.sum())
    bad = x.sum(1) == 0
    x[bad, 0] = 1.0
    return x.astype(np.float32)
with open(rows_out, "wb") as f:
    for k in range(0, n, 100000):
        copies(min(100000, n - k), [0.05, 0.2, 0.5]).tofile(f)
copies(nq, [0.05]).tofile(q_out)
PY
  # pefleet first, then numpy, one after the other so neither competes for the two cores
  out=$("$SIMBENCH" "$T/rows.f32" "$T/q.f32" 486 "$THR" "$TOP" "$T/hits.txt") || die "similar_bench failed"
  echo "  $out"
  "$PY" - "$T/rows.f32" "$T/q.f32" "$THR" "$TOP" "$T/hits.txt" "$out" >"$T/np.out" <<'PY' || { cat "$T/np.out"; die "numpy side failed"; }
import sys, time, numpy as np
rows_f, q_f, t, top, hits_f, c_line = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
X = np.fromfile(rows_f, dtype=np.float32).reshape(-1, 486)
Q = np.fromfile(q_f, dtype=np.float32).reshape(-1, 486)
M = X / np.linalg.norm(X.astype(np.float64), axis=1)[:, None].astype(np.float32)   # the baseline's matrix, not timed
def query(q):
    qn = q / np.linalg.norm(q)
    s = M @ qn
    idx = np.flatnonzero(s >= t)
    if idx.size > top:
        idx = idx[np.argpartition(-s[idx], top - 1)[:top]]
    return idx[np.argsort(-s[idx], kind="stable")], s
query(Q[0])  # warm-up
ms = []
np_res = []
for q in Q:
    t0 = time.perf_counter()
    idx, s = query(q)
    ms.append((time.perf_counter() - t0) * 1e3)
    np_res.append(idx)
ms = np.array(ms)
# pefleet's hits against a float64 brute force (first 3 queries)
hits = {}
for l in open(hits_f):
    p = l.split()
    hits[int(p[0])] = [(int(a), float(b)) for a, b in (h.split(":") for h in p[1:])]
X64n2 = np.einsum("ij,ij->i", X.astype(np.float64), X.astype(np.float64))
problems, checked, np_diff = 0, 0, 0
for qi in range(min(3, len(Q))):
    q = Q[qi].astype(np.float64)
    sim = np.empty(len(X))
    for k in range(0, len(X), 200000):
        sim[k:k + 200000] = (X[k:k + 200000].astype(np.float64) @ q) / np.sqrt((q @ q) * X64n2[k:k + 200000])
    got = hits[qi]
    gi = np.array([a for a, _ in got], dtype=np.int64)
    gs = np.array([b for _, b in got])
    if len(got) and np.max(np.abs(sim[gi] - gs)) > 1e-12: problems += 1
    if len(got) and gs.min() < t: problems += 1
    above = np.flatnonzero(sim >= t + 1e-12)
    floor = gs.min() if len(got) == top else t
    missed = np.setdiff1d(above[sim[above] > floor + 1e-12], gi)
    if missed.size: problems += 1
    if len(got) < top and above.size > len(got): problems += 1
    np_diff += len(np.setdiff1d(np_res[qi], gi))
    checked += 1
c = dict(kv.split("=") for kv in c_line.split()[1:])
c_ms = float(c["median_ms"])
print("numpy n=%d median_ms=%.3f mean_ms=%.3f bytes_per_vector=%d" % (len(X), np.median(ms), ms.mean(), M.shape[1] * 4))
print("ratio %.2f" % (np.median(ms) / c_ms))
print("exactness: %d queries checked against float64 brute force, %d problems; numpy float32 top-%d rows not in the exact top: %d"
      % (checked, problems, top, np_diff))
sys.exit(1 if problems else 0)
PY
  rc=$?
  sed 's/^/  /' "$T/np.out"
  [ $rc -eq 0 ] || die "pefleet's hits differ from the float64 brute force"
  pm=$(echo "$out" | sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p')
  pb=$(echo "$out" | sed -n 's/.*bytes_per_vector=\([0-9]*\).*/\1/p')
  nm=$(sed -n 's/^numpy .*median_ms=\([0-9.]*\).*/\1/p' "$T/np.out")
  ra=$(sed -n 's/^ratio //p' "$T/np.out")
  rows+=("$(printf '| %s | %s | %s | %sx | %s | 1944 |' "$N" "$pm" "$nm" "$ra" "$pb")")
done
echo
echo "| stored vectors | pefleet ms/query (median) | numpy ms/query (median) | speed-up | pefleet bytes/vector | numpy bytes/vector |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
