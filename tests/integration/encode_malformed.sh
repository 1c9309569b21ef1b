#!/usr/bin/env bash
# Bad input: non-PE files, truncated PEs and bit-flipped PEs each get exactly
# one clear error, good files among them still encode exactly, nothing is
# lost; hung, crashing and babbling parsers are contained too.
. "$(dirname "$0")/lib/common.sh"
need_corpus encode_malformed
CMP="python3 $ROOT/tests/integration/lib/compare_vectors.py $CORPUS/expected-ergo486.tsv $CORPUS"
M=$T/mixed
mkdir -p "$M"

# --- the mixed folder: good files between bad ones ---------------------------
python3 - "$CORPUS" "$M" <<'PY'
import os, random, shutil, struct, sys
corpus, out = sys.argv[1:3]
rnd = random.Random(20261123)
goods = ["clean/t32.exe", "clean/t64.exe", "clean/libssp-0.dll", "malicious-test/clam-upx.exe",
         "malicious-test/clam-mew.exe", "clean/fbx64.efi.signed"]
def put(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
for i, g in enumerate(goods):
    shutil.copyfile(os.path.join(corpus, g), os.path.join(out, "good%d_%s" % (i, os.path.basename(g))))
# not PE at all
put("bad_empty.bin", b"")
put("bad_text.txt", b"hello, this is a text file\n" * 40)
put("bad_random.bin", bytes(rnd.randrange(256) for _ in range(4096)))
put("bad_mz_only.exe", b"MZ")
put("bad_elf.bin", open("/bin/true", "rb").read())
# MZ and PE signature but no valid optional header: LIEF itself throws
t32 = open(os.path.join(corpus, "clean/t32.exe"), "rb").read()
lfanew = struct.unpack_from("<I", t32, 0x3c)[0]
b = bytearray(t32); b[lfanew + 24:lfanew + 26] = b"\x99\x99"
put("bad_lief_magic.exe", bytes(b))
# truncated PEs
# cut inside the headers: no parser can take these
for cut in (1, 63, 64, lfanew + 2):
    put("bad_trunc_t32_%d.exe" % cut, t32[:cut])
# cut later: LIEF may still parse the headers (then a vector is right) or not
for cut in (lfanew + 30, 400, 1024, len(t32) // 2):
    put("trunc_t32_%d.exe" % cut, t32[:cut])
t64 = open(os.path.join(corpus, "clean/t64.exe"), "rb").read()
put("trunc_t64_300.exe", t64[:300])
# bit flips in the headers (most break parsing; some still parse: both are fine)
for i in range(60):
    b = bytearray(t32 if i % 2 else t64)
    for _ in range(rnd.randrange(1, 40)):
        b[rnd.randrange(0, 1024)] ^= 1 << rnd.randrange(8)
    put("flip_%02d.exe" % i, bytes(b))
PY
nfiles=$(ls "$M" | wc -l)

"$BIN/pefleet" encode -q --jsonl -w 2 "$M" >"$T/mixed.jsonl" 2>"$T/mixed.err"
rc=$?
check malformed_exit_status_1 test "$rc" -eq 1
nlines=$(wc -l <"$T/mixed.jsonl")
check "malformed_one_result_per_file ($nlines/$nfiles)" test "$nlines" -eq "$nfiles"
python3 - "$T/mixed.jsonl" "$T/mixed.err" <<'PY' >"$T/check.out" 2>&1
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
errs = open(sys.argv[2]).read().splitlines()
failed = [o for o in objs if not o["ok"]]
bad_names = [o["path"] for o in objs if "/bad_" in o["path"]]
for o in objs:
    name = o["path"].rsplit("/", 1)[1]
    if name.startswith("bad_"):
        assert not o["ok"], name + " should fail"
    if name.startswith("good"):
        assert o["ok"], name + " should encode: " + o.get("error", "")
    if not o["ok"]:
        e = o["error"]
        assert e and "\n" not in e and len(e) < 256, (name, e)
# exactly one stderr line per failed file, naming it
for o in failed:
    lines = [l for l in errs if l.startswith("pefleet encode: error: " + o["path"] + ": ")]
    assert len(lines) == 1, (o["path"], lines)
assert len([l for l in errs if "error:" in l]) == len(failed), "extra error lines"
print("failed:", len(failed), "of", len(objs))
for key in ("not a PE file", "truncated PE", "LIEF rejected the file", "empty file"):
    assert any(key in o["error"] for o in failed), "no error mentions " + key
print("ok")
PY
if [ $? -eq 0 ]; then ok "malformed_each_bad_file_one_clear_error ($(head -1 "$T/check.out"))"
else notok "malformed_each_bad_file_one_clear_error" "$(tail -3 "$T/check.out" | tr '\n' ' ')"; fi

# the good files among the bad ones carry exact vectors
python3 - "$T/mixed.jsonl" "$CORPUS" >"$T/good.jsonl" <<'PY'
import json, sys, os
names = {"good0_t32.exe": "clean/t32.exe", "good1_t64.exe": "clean/t64.exe", "good2_libssp-0.dll": "clean/libssp-0.dll",
         "good3_clam-upx.exe": "malicious-test/clam-upx.exe", "good4_clam-mew.exe": "malicious-test/clam-mew.exe",
         "good5_fbx64.efi.signed": "clean/fbx64.efi.signed"}
for l in open(sys.argv[1]):
    o = json.loads(l)
    n = o["path"].rsplit("/", 1)[1]
    if n in names:
        o["path"] = os.path.join(sys.argv[2], names[n])
        print(json.dumps(o))
PY
python3 - "$CORPUS/expected-ergo486.tsv" "$T/good.jsonl" "$CORPUS" <<'PY' >"$T/goodcmp.out" 2>&1
import json, os, sys
exp = {}
for line in open(sys.argv[1]):
    rel, st, vals = line.rstrip("\n").split("\t")
    exp[os.path.join(sys.argv[3], rel)] = [float(v) for v in vals.split(",")]
n = 0
for l in open(sys.argv[2]):
    o = json.loads(l)
    d = max(abs(a - b) for a, b in zip(o["vector"], exp[o["path"]]))
    assert d <= 1e-9, (o["path"], d)
    n += 1
assert n == 6, n
print("ok")
PY
if [ $? -eq 0 ]; then ok "malformed_good_files_still_exact"; else notok "malformed_good_files_still_exact" "$(tail -2 "$T/goodcmp.out" | tr '\n' ' ')"; fi

# a path that does not exist: clear error, exit 1, the rest still encodes
"$BIN/pefleet" encode -q "$T/no-such-file" "$CORPUS/clean/t32.exe" >"$T/nf.csv" 2>"$T/nf.err"
rc=$?
check missing_path_exit_1 test "$rc" -eq 1
check missing_path_one_error grep -q "no-such-file: No such file or directory" "$T/nf.err"
check missing_path_rest_encoded test "$(wc -l <"$T/nf.csv")" -eq 1

# --- limits ------------------------------------------------------------------
cp "$CORPUS/clean/t32.exe" "$T/big.exe"; chmod u+w "$T/big.exe"; truncate -s 64M "$T/big.exe"
if [ -n "${PEFLEET_SANITIZE:-}" ]; then
  skip memory_limit "the address-space limit is off under AddressSanitizer"
else
  "$BIN/pefleet" encode -q --jsonl --mem 150 "$T/big.exe" "$CORPUS/clean/t64.exe" >"$T/mem.jsonl" 2>"$T/mem.err"
  if grep -q '"ok":false,"error":"[^"]*memory' "$T/mem.jsonl" && grep -q '"ok":true' "$T/mem.jsonl" && [ "$(wc -l <"$T/mem.jsonl")" -eq 2 ]; then
    ok "memory_limit_contained ($(grep -o '"error":"[^"]*"' "$T/mem.jsonl"))"
  else notok memory_limit_contained "$(cat "$T/mem.jsonl" "$T/mem.err" | cut -c1-200 | tr '\n' ' ')"; fi
fi
"$BIN/pefleet" encode -q --jsonl --max-size 1 "$CORPUS/malicious-test/clam_IScab_ext.exe" >"$T/max.jsonl" 2>/dev/null
check max_size_refused grep -q '"error":"file too large: 1748612 bytes' "$T/max.jsonl"

# --- fault injection: real processes that hang, crash or babble --------------
start=$(date +%s)
PEFLEET_SANDBOX=$FAULT/hang-sandbox.sh "$BIN/pefleet" encode -q --jsonl -w 1 --timeout 1 \
  "$CORPUS/clean/t32.exe" "$CORPUS/clean/t64.exe" >"$T/hang.jsonl" 2>"$T/hang.err"
rc=$? took=$(( $(date +%s) - start ))
if [ $rc -eq 1 ] && [ "$(grep -c 'timed out after 1000 ms' "$T/hang.jsonl")" -eq 2 ] && [ $took -lt 20 ]; then
  ok "hung_parser_killed_per_file (${took}s)"
else notok hung_parser_killed_per_file "rc=$rc took=${took}s $(cat "$T/hang.jsonl" | tr '\n' ' ')"; fi

PEFLEET_SANDBOX=$FAULT/crash-sandbox.sh "$BIN/pefleet" encode -q --jsonl -w 2 \
  "$CORPUS/clean/t32.exe" "$CORPUS/clean/t64.exe" "$CORPUS/clean/w32.exe" >"$T/crash.jsonl" 2>/dev/null
check crashing_parser_reported test "$(grep -c 'crashed with signal 11' "$T/crash.jsonl")" -eq 3

PEFLEET_SANDBOX=$FAULT/garbage-sandbox.sh "$BIN/pefleet" encode -q --jsonl -w 1 --timeout 5 \
  "$CORPUS/clean/t32.exe" "$CORPUS/clean/t64.exe" >"$T/garbage.jsonl" 2>/dev/null
check babbling_parser_reported test "$(grep -c 'malformed reply' "$T/garbage.jsonl")" -eq 2

PEFLEET_SANDBOX=/nonexistent/sandbox "$BIN/pefleet" encode -q "$CORPUS/clean/t32.exe" >/dev/null 2>"$T/nosb.err"
rc=$?
check missing_sandbox_clear_error test "$rc" -eq 1 -a "$(grep -c 'cannot run /nonexistent/sandbox' "$T/nosb.err")" -eq 1

# no parser processes left behind
sleep 0.2
check no_orphan_parsers test -z "$(pgrep -f "sleep 3601" || true)"
finish
