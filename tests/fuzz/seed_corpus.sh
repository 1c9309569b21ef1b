#!/usr/bin/env bash
# Fills a libFuzzer seed folder.
#   seed_corpus.sh DIR          PE seeds for fuzz_pe: every PE file of
#                               ../shared/corpus (copied now, never committed),
#                               truncated copies cut at each header boundary,
#                               header-mutated copies, and two tiny PEs made here
#   seed_corpus.sh --wire DIR   pf_wire frames for fuzz_wire
#   seed_corpus.sh --msg DIR    pefleet envelopes (proto/pefleet.proto) for
#                               fuzz_msg: a valid envelope per body type, and
#                               wrong-version, body-less and truncated ones
#   seed_corpus.sh --csvrow DIR dataset.csv rows for fuzz_csvrow (first byte:
#                               label and value room, then the line)
#   seed_corpus.sh --folder DIR model folder files for fuzz_folder (first
#                               byte: which parser; then the file): each
#                               file as the trainer writes it, and damaged
#                               ones (truncated, wrong types, long arrays)
# ../shared is $PEFLEET_SHARED, else ../shared beside the repository root.
# Running it again rewrites the same files, so it is safe on a fuzzed corpus.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${PEFLEET_SHARED:-$(cd "$ROOT/.." && pwd)/shared}

usage() { echo "usage: $0 DIR | --wire DIR | --msg DIR | --csvrow DIR | --folder DIR" >&2; exit 2; }
mode=pe
if [ "${1:-}" = "--wire" ]; then mode=wire; shift; fi
if [ "${1:-}" = "--msg" ]; then mode=msg; shift; fi
if [ "${1:-}" = "--csvrow" ]; then mode=csvrow; shift; fi
if [ "${1:-}" = "--folder" ]; then mode=folder; shift; fi
[ $# -eq 1 ] || usage
OUT=$1
mkdir -p "$OUT"
command -v python3 >/dev/null || { echo "seed_corpus: python3 not found" >&2; exit 1; }

if [ "$mode" = wire ]; then
  python3 - "$OUT" <<'PY'
import os, struct, sys
out = sys.argv[1]
MAGIC, MAX = 0x50465731, 8192
def frame(t, i, payload, reserved=0, total=None):
    n = 24 + len(payload) if total is None else total
    return struct.pack("<IIIIQ", MAGIC, n, t, reserved, i) + payload
seeds = {
    "req": frame(1, 1, b"/work/shared/corpus/clean/t32.exe"),
    "hash": frame(2, 2, bytes(range(32)) + struct.pack("<Q", 65536)),
    "vec": frame(3, 3, struct.pack("<486d", *[i / 486.0 for i in range(486)])),
    "err": frame(4, 4, struct.pack("<i", -4) + b"not a PE file (no MZ signature)"),
    "empty_payload": frame(1, 0, b""),
    "max_frame": frame(4, 2**64 - 1, b"\xff" * (MAX - 24)),
    "stream": frame(1, 7, b"a") + frame(2, 7, b"\0" * 40) + frame(4, 7, b"\xfc\xff\xff\xffx"),
    "partial": frame(3, 9, b"\0" * 100)[:60],
    "header_only": frame(3, 9, b"\0" * 100)[:24],
    "bad_magic": b"PFW2" + frame(1, 1, b"x")[4:],
    "bad_type": frame(9, 1, b"x"),
    "too_long": frame(1, 1, b"x", total=MAX + 1),
    "too_short": frame(1, 1, b"x", total=23),
    "reserved_set": frame(2, 5, b"\0" * 40, reserved=0xffffffff),
}
for name, data in seeds.items():
    with open(os.path.join(out, "wire-" + name), "wb") as f:
        f.write(data)
PY
  echo "seed_corpus: $(ls "$OUT" | wc -l) files in $OUT"
  exit 0
fi

if [ "$mode" = folder ]; then
  python3 - "$OUT" <<'PY2'
import json, os, sys
out = sys.argv[1]
split = {"cm": [[40, 5], [3, 52]], "accuracy": 0.92, "per_class": {"clean": {"precision": 0.93, "recall": 0.89,
         "f1": 0.91, "support": 45}, "malicious": {"precision": 0.91, "recall": 0.95, "f1": 0.93, "support": 55}},
         "roc_auc": 0.97, "threshold": 0.5, "fpr": 0.11, "tpr_at_fpr": {"0.01": {"tpr": 0.6, "threshold": 0.91},
         "0.001": {"tpr": 0.2, "threshold": None}}, "n": 100}
files = {
    0: {"format": 2, "version": "e9d68e23597c", "parent": "0123abcd", "schema": 1, "layers": [486, 70, 70, 2],
        "classes": ["clean", "malicious"], "threshold": 0.5, "rows": {"train": 840, "validation": 180, "test": 180}},
    1: {"train": split, "validation": split, "test": split,
        "split": {"kind": "time", "source": "fleet", "test_since": "2026-01-20T00:00:00Z",
                  "train": {"rows": 840, "first_seen_from": "2025-12-01T00:00:00Z", "first_seen_to": "2026-01-10T00:00:00Z"},
                  "validation": {"rows": 180, "first_seen_from": "2026-01-10T00:00:00Z", "first_seen_to": "2026-02-01T00:00:00Z"},
                  "test": {"rows": 0, "first_seen_from": None, "first_seen_to": None},
                  "data_end": "2026-02-01T00:00:00Z", "data_end_unix": 1769904000}},
    2: {"loss": [0.7, 0.5, 0.4], "acc": [0.5, 0.7, 0.8], "val_loss": [0.7, 0.6, 0.5], "val_acc": [0.5, 0.6, 0.7],
        "seconds": [0.1, 0.1, 0.1]},
    3: {"split": "test", "rows": 100, "positives": 55, "negatives": 45, "roc_auc": 0.97, "points_total": 90,
        "fpr": [0, 0.1, 1], "tpr": [0, 0.8, 1], "threshold": [None, 0.5, 0.01],
        "operating_points": [{"name": "threshold", "threshold": 0.5, "fpr": 0.11, "tpr": 0.95},
                             {"name": "fpr<=0.01", "threshold": None, "fpr": 0, "tpr": 0}]},
    4: {"available": True, "split": "test", "rows": 4, "fit_rows": 4, "standardized": True,
        "classes": ["clean", "malicious"], "explained_variance_ratio": [0.5, 0.3], "points_total": 4,
        "points": {"pc1": [1, -1, 0.5, 2], "pc2": [0, 1, -2, 0.1], "label": [0, 1, 1, 0]}},
    5: {"source": "csv", "path": "/data/ds.csv", "seed": 5, "split": "70/15/15"},
    6: {"model": "e9d68e23597c", "source": "test split", "rows": 180, "base": {"accuracy": 0.9, "roc_auc": 0.95},
        "features": [{"rank": 1, "index": 200, "name": "byte(7d)", "accuracy_drop": 0.3, "auc_drop": 0.2}]},
    7: {"by": "week", "model": "e9d68e23597c", "threshold": 0.5, "thresholds_from": "validation",
        "periods": [{"period": "2026-W07", "start": "2026-02-09T00:00:00Z", "end": "2026-02-16T00:00:00Z",
                     "samples": {"clean": 10, "malicious": 12}, "roc_auc": 0.9, "tpr": 0.8, "fpr": 0.1,
                     "tpr_at_fpr_0.01": None, "fpr_at_fpr_0.01": 0, "tpr_at_fpr_0.001": 0,
                     "fpr_at_fpr_0.001": 0}]},
}
def put(name, kind, data):
    with open(os.path.join(out, "folder-%d-%s" % (kind, name)), "wb") as f:
        f.write(bytes([kind]) + data)
for kind, obj in files.items():
    text = json.dumps(obj).encode()
    put("valid", kind, text)
    put("truncated", kind, text[: len(text) // 2])
    put("array", kind, b"[" + text + b"]")
    put("empty", kind, b"")
    put("types", kind, json.dumps({k: "x" for k in obj}).encode())
put("unavailable", 4, b'{"available": false, "reason": "fewer than 3 rows in the split"}')
put("keras", 0, b'{"format": "pfnn", "format_version": 2, "layers": [{"name": "d", "units": 70}], "classes": ["a", "b"]}')
put("redis", 5, b'{"source": "redis"}')
put("long", 3, b'{"fpr": [' + b",".join([b"0"] * 3000) + b'], "tpr": [' + b",".join([b"1"] * 3000) + b"]}")
put("nested", 1, b'{"test": ' + b"[" * 2000 + b"]" * 2000 + b"}")
put("history_lengths", 2, b'{"loss": [1, 2], "acc": [1], "val_loss": [1, 2], "val_acc": [1, 2]}')
PY2
  echo "seed_corpus: $(ls "$OUT" | wc -l) files in $OUT"
  exit 0
fi

if [ "$mode" = csvrow ]; then
  python3 - "$OUT" <<'PY'
import math, os, sys
out = sys.argv[1]
vals = [repr(float(i % 2)) if i < 11 else repr(round(math.sin(i) * 10 ** (i % 9 - 4), 6)) for i in range(486)]
row = lambda label, vs: (label + "," + ",".join(vs)).encode()
seeds = {
    "row486": b"\xff" + row("clean", vals),
    "row486_numeric_label": b"\xff" + row("1", vals),
    "row486_quoted": b"\xff" + row('"mal ""x"", y"', ['"%s"' % v for v in vals[:20]] + vals[20:]),
    "short": b"\x0f" + row("malicious", vals[:5]),
    "label_room_small": b"\x05" + row("a-long-label", vals[:3]),
    "forms": b"\xff" + row("x", ["0", "-0", "+1", ".5", "5.", "1e-400", "1.7976931348623157e308", "2.5E+3"]),
    "nan": b"\xff" + row("x", ["1", "nan", "2"]),
    "inf": b"\xff" + row("x", ["-Infinity"]),
    "range": b"\xff" + row("x", ["1e999"]),
    "not_number": b"\xff" + row("x", ["1", "abc", "0x10", " 1"]),
    "empty_value": b"\xff" + row("x", ["1", "", "2"]),
    "trailing_comma": b"\xff" + row("x", ["1", "2"]) + b",",
    "unterminated": b"\xff" + b'"clean,1,2',
    "after_quote": b"\xff" + b'"clean"x,1',
    "cr": b"\xff" + b"clean,1\r,2",
    "nul": b"\xff" + b"clean,1\x00,2",
    "label_only": b"\xff" + b"clean",
    "empty": b"\xff",
}
for name, data in seeds.items():
    with open(os.path.join(out, "csvrow-" + name), "wb") as f:
        f.write(data)
PY
  echo "seed_corpus: $(ls "$OUT" | wc -l) files in $OUT"
  exit 0
fi

if [ "$mode" = msg ]; then
  python3 - "$OUT" <<'PY'
import os, struct, sys
out = sys.argv[1]
# protobuf wire format by hand: (field << 3 | type), varints, length-delimited
def varint(v):
    b = bytearray()
    while True:
        if v < 0x80:
            b.append(v)
            return bytes(b)
        b.append(0x80 | (v & 0x7f))
        v >>= 7
def vf(field, v): return varint(field << 3) + varint(v)
def ld(field, data):
    if isinstance(data, str): data = data.encode()
    return varint(field << 3 | 2) + varint(len(data)) + data
def dbl(field, x): return varint(field << 3 | 1) + struct.pack("<d", x)
def packed(field, xs): return ld(field, b"".join(struct.pack("<d", x) for x in xs))
def env(body_field, body, version=1): return (vf(1, version) if version else b"") + ld(body_field, body)
SHA = "0123456789abcdef" * 4
seeds = {
    "ingest": env(2, ld(1, SHA) + ld(2, "malicious") + vf(3, 123456)),
    "ingest_ack": env(3, ld(1, SHA) + vf(2, 3) + ld(3, "label must be 1-127 printable ASCII characters")),
    "ready": env(4, ld(1, "host-1234-1700000000") + vf(2, 4) + vf(3, 1234)),
    "heartbeat": env(5, ld(1, "broker")),
    "heartbeat_empty": env(5, b""),
    "job": env(6, ld(1, SHA) + vf(2, 1)),
    "result": env(7, ld(1, SHA) + vf(2, 0) + ld(3, "not a PE file") + vf(4, 1)),
    "score_sample": env(8, ld(1, b"MZ" + bytes(200)) + ld(4, "r1")),
    "score_sha": env(8, ld(2, SHA) + ld(4, "r2")),
    "score_vector": env(8, ld(3, packed(1, [i / 485.0 for i in range(486)])) + ld(4, "r3")),
    "score_reply": env(9, ld(1, "r1") + ld(2, SHA) + packed(3, [0.25, 0.75]) + ld(4, "malicious")
                       + dbl(5, 0.5) + ld(6, "m1") + vf(7, 1)),
    "similar": env(10, ld(1, SHA) + dbl(4, 0.9) + vf(5, 10) + ld(6, "q")),
    "similar_reply": env(11, ld(1, "q") + ld(2, ld(1, SHA) + dbl(2, 0.97) + ld(3, "clean") + ld(3, "x")
                                          + ld(4, "train")) + ld(2, ld(1, SHA)) + vf(3, 1)),
    "version2": env(2, ld(1, SHA) + ld(2, "clean"), version=2),
    "version0": env(2, ld(1, SHA) + ld(2, "clean"), version=0),
    "no_body": vf(1, 1),
    "unknown_field": vf(1, 1) + ld(15, "future body"),
    "two_bodies": env(6, ld(1, SHA)) + ld(5, ld(1, "w")),
    "unpacked_repeated": env(9, dbl(3, 0.1) + dbl(3, 0.9)),
    "empty": b"",
}
seeds["truncated"] = seeds["ingest"][:-5]
# field number 0 behind a non-minimal tag varint: protobuf-c keeps it as an
# unknown field it cannot pack back (fuzz_msg found this; see has_field0)
seeds["field0_nonminimal_tag"] = b"\x80\x00\xfa\x3e" + vf(1, 1) + ld(7, b"")
seeds["length_past_end"] = vf(1, 1) + varint(2 << 3 | 2) + varint(1000) + b"abc"
for name, data in seeds.items():
    with open(os.path.join(out, "msg-" + name), "wb") as f:
        f.write(data)
PY
  echo "seed_corpus: $(ls "$OUT" | wc -l) files in $OUT"
  exit 0
fi

if [ ! -d "$SHARED/corpus" ]; then
  echo "seed_corpus: $SHARED/corpus not found (set PEFLEET_SHARED); only the crafted seeds" >&2
fi

python3 - "$SHARED/corpus" "$OUT" <<'PY'
import os, struct, sys
corpus, out = sys.argv[1:3]
HEAD = 65536   # fuzz_pe runs with -max_len=65536: longer cuts add nothing
MHEAD = 16384  # mutants keep the headers and the first sections only

def put(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)

def u16(b, o): return struct.unpack_from("<H", b, o)[0] if o + 2 <= len(b) else None
def u32(b, o): return struct.unpack_from("<I", b, o)[0] if o + 4 <= len(b) else None
def set16(b, o, v):
    if o + 2 <= len(b): struct.pack_into("<H", b, o, v & 0xffff)
def set32(b, o, v):
    if o + 4 <= len(b): struct.pack_into("<I", b, o, v & 0xffffffff)

def variants(tag, raw):
    """Truncated and header-mutated copies of one PE file."""
    lfanew = u32(raw, 0x3c)
    if lfanew is None or lfanew + 26 > len(raw) or raw[lfanew:lfanew + 4] != b"PE\0\0":
        return
    nsec, optsize = u16(raw, lfanew + 6), u16(raw, lfanew + 20)
    opt = lfanew + 24
    plus = u16(raw, opt) == 0x20b
    fixed = 112 if plus else 96
    dirs, sec = opt + fixed, opt + optsize
    cuts = {2, 63, 64, lfanew + 4, lfanew + 23, opt + 1, opt + fixed // 2, opt + fixed - 1,
            dirs + 40, sec - 1, sec + 20, sec + 40 * nsec // 2, sec + 40 * nsec, sec + 40 * nsec + 1,
            1024, 4096, len(raw) // 2, len(raw) - 1}
    for c in sorted(cuts):
        if 0 < c < min(len(raw), HEAD):
            put("%s.cut%d" % (tag, c), raw[:c])

    head = raw[:MHEAD]
    ep = u32(raw, opt + 16) or 0
    sec0_va = u32(raw, sec + 12) or 0
    def mutant(name, *edits):
        b = bytearray(head)
        for fn, off, val in edits:
            fn(b, off, val)
        put("%s.%s" % (tag, name), bytes(b))
    mutant("lfanew_far", (set32, 0x3c, 0xfffffff0))
    mutant("lfanew_end", (set32, 0x3c, len(head) - 4))
    mutant("nsec0", (set16, lfanew + 6, 0))
    mutant("nsec_max", (set16, lfanew + 6, 0xffff))
    mutant("optsize0", (set16, lfanew + 20, 0))
    mutant("optsize_max", (set16, lfanew + 20, 0xffff))
    mutant("magic_swap", (set16, opt, 0x10b if plus else 0x20b))
    mutant("ndirs0", (set32, dirs - 4, 0))
    mutant("ndirs_max", (set32, dirs - 4, 0xffffffff))
    mutant("salign0", (set32, opt + 32, 0))
    mutant("salign_small", (set32, opt + 32, 0x200))
    mutant("falign0", (set32, opt + 36, 0))
    mutant("aligns_odd", (set32, opt + 32, 0x1001), (set32, opt + 36, 3))
    mutant("ep_end", (set32, opt + 16, len(head) - 10))
    mutant("ep_far", (set32, opt + 16, 0xffffffc0))
    mutant("nx_flip", (set16, opt + 70, (u16(raw, opt + 70) or 0) ^ 0x100))
    mutant("sec0_vsize0", (set32, sec + 8, 0))
    mutant("sec0_vsize_max", (set32, sec + 8, 0xffffffff))
    mutant("sec0_raw_huge", (set32, sec + 16, 0xffffffff), (set32, sec + 20, 0xfffffff0))
    mutant("sec0_raw_past", (set32, sec + 20, len(head) + 100))
    mutant("sec0_va_top", (set32, sec + 12, 0xfffff000), (set32, sec + 8, 0xffffffff))
    mutant("dirs_at_ep", *[(set32, dirs + 8 * d, ep) for d in range(16)])
    mutant("dirs_at_sec0", *[(set32, dirs + 8 * d, sec0_va) for d in range(16)])
    mutant("dirs_max", *[(set32, dirs + 8 * d, 0xffffffff) for d in range(16)])
    mutant("loadcfg_big", (set32, dirs + 80, sec0_va), (set32, dirs + 84, 0xffffffff))
    mutant("cert_end", (set32, dirs + 32, len(head) - 8), (set32, dirs + 36, 8))
    mutant("cert_huge", (set32, dirs + 32, 64), (set32, dirs + 36, 0xffffffff))

def tiny_pe(plus):
    """A minimal PE32/PE32+ with one section, a Rich marker, a signature blob."""
    fixed = 112 if plus else 96
    optsize = fixed + 16 * 8
    lfanew = 0x80
    sec = lfanew + 24 + optsize
    raw_off = (sec + 40 + 0x1ff) & ~0x1ff
    b = bytearray(raw_off + 0x200 + 64)
    b[0:2] = b"MZ"
    set32(b, 0x3c, lfanew)
    b[0x60:0x64] = b"Rich"
    set32(b, 0x64, 0x1234abcd)
    b[lfanew:lfanew + 4] = b"PE\0\0"
    set16(b, lfanew + 4, 0x8664 if plus else 0x14c)
    set16(b, lfanew + 6, 1)
    set16(b, lfanew + 20, optsize)
    opt = lfanew + 24
    set16(b, opt, 0x20b if plus else 0x10b)
    set32(b, opt + 16, 0x1000)                       # entry point
    set32(b, opt + 32, 0x1000)
    set32(b, opt + 36, 0x200)
    set16(b, opt + 70, 0x100)                        # NX
    set32(b, opt + fixed - 4, 16)
    dirs = opt + fixed
    set32(b, dirs + 2 * 8, 0x1010); set32(b, dirs + 2 * 8 + 4, 16)     # resources
    set32(b, dirs + 6 * 8, 0x1020); set32(b, dirs + 6 * 8 + 4, 28)     # debug
    set32(b, dirs + 10 * 8, 0x1040); set32(b, dirs + 10 * 8 + 4, 0x40) # load config
    set32(b, dirs + 4 * 8, raw_off + 0x200); set32(b, dirs + 4 * 8 + 4, 64)  # certificate
    b[sec:sec + 8] = b".text\0\0\0"
    set32(b, sec + 8, 0x200); set32(b, sec + 12, 0x1000)
    set32(b, sec + 16, 0x200); set32(b, sec + 20, raw_off)
    set32(b, sec + 36, 0x60000020)
    set32(b, raw_off + 0x40, 0x40)                   # load config size field
    for i in range(0x60, 0x200): b[raw_off + i] = i & 0xff
    cert = raw_off + 0x200
    set32(b, cert, 64); set16(b, cert + 4, 0x200); set16(b, cert + 6, 2)
    b[cert + 8:cert + 10] = b"\x30\x82"
    b[cert + 12:cert + 23] = bytes([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02])
    return bytes(b)

n = 0
for plus in (0, 1):
    put("crafted-tiny-pe32%s" % ("plus" if plus else ""), tiny_pe(plus))
    variants("crafted-tiny-pe32%s" % ("plus" if plus else ""), tiny_pe(plus))
if os.path.isdir(corpus):
    for sub in sorted(os.listdir(corpus)):
        d = os.path.join(corpus, sub)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), "rb") as f:
                raw = f.read()
            if raw[:2] != b"MZ":
                continue
            tag = "%s-%s" % (sub, name)
            put(tag, raw)
            variants(tag, raw)
            n += 1
print("seed_corpus: %d PE files from %s, %d files in %s" % (n, corpus, len(os.listdir(out)), out))
PY
