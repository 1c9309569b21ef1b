#!/usr/bin/env bash
# The properties pefleet derives because LIEF's C API does not expose them
# (the has_* set, the virtual size, the Rich header: lib/pf_ergo486.c and
# lib/pf_pe.c) against LIEF 0.9's own C++ API (tests/difftool/lief_props.cc,
# the same liblief-dev): on every file of ../shared/corpus and every PE file
# under /usr/lib/grub, /usr/lib/systemd/boot and /usr/share/nsis that this
# machine's packages hold (make deps installs grub-efi-amd64-bin,
# systemd-boot-efi and nsis-common), every value must be LIEF's. Each
# disagreement is listed with both answers.
. "$(dirname "$0")/lib/common.sh"
NAME=lief_differential
need_corpus "$NAME"
BUILD=${BUILD:-$ROOT/build}
LP=$BUILD/tools/lief_props PP=$BUILD/tools/pf_props
for t in "$LP" "$PP"; do [ -x "$t" ] || { notok "$NAME" "$t not built (make)"; finish; }; done
# the PE files: "MZ" at the start
python3 - "$CORPUS/clean" "$CORPUS/malicious-test" /usr/lib/grub /usr/lib/systemd/boot /usr/share/nsis >"$T/files" <<'PY'
import os, sys
for top in sys.argv[1:]:
    for d, _, names in sorted(os.walk(top)):
        for n in sorted(names):
            p = os.path.join(d, n)
            try:
                if os.path.isfile(p) and not os.path.islink(p) and open(p, "rb").read(2) == b"MZ":
                    print(p)
            except OSError:
                pass
PY
n=$(wc -l <"$T/files")
for pkg in grub:/usr/lib/grub/ systemd-boot:/usr/lib/systemd/boot/ nsis:/usr/share/nsis/; do
  k=$(grep -c "^${pkg#*:}" "$T/files")
  if [ "$k" -gt 0 ]; then ok "package_files_${pkg%%:*} ($k PE files)"
  else notok "package_files_${pkg%%:*}" "no PE file under ${pkg#*:} (make deps installs the package)"; fi
done
tr '\n' '\0' <"$T/files" | xargs -0 "$LP" >"$T/lief.out" 2>/dev/null
tr '\n' '\0' <"$T/files" | xargs -0 "$PP" >"$T/pf.out" 2>/dev/null
check "both_tools_answered ($n files)" test "$(wc -l <"$T/lief.out")" -eq "$n" -a "$(wc -l <"$T/pf.out")" -eq "$n"
python3 - "$T/lief.out" "$T/pf.out" <<'PY' >"$T/diff"
import sys
names = ["has_configuration", "has_debug", "has_exceptions", "has_exports", "has_imports", "has_nx",
         "has_relocations", "has_resources", "has_rich_header", "has_signature", "has_tls"]
lief = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
pf = [l.rstrip("\n").split("\t") for l in open(sys.argv[2])]
for a, b in zip(lief, pf):
    if a[0] != b[0]:
        print("%s: out of step with %s" % (a[0], b[0])); break
    if a[1] == "error" or b[1] == "error":
        if a[1] != b[1]: print("%s: LIEF %s, pefleet %s" % (a[0], " ".join(a[1:]), " ".join(b[1:])))
        continue
    for name, x, y in zip(names, a[1].split(","), b[1].split(",")):
        if x != y: print("%s: %s LIEF %s pefleet %s" % (a[0], name, x, y))
    if a[2] != b[2]: print("%s: virtual_size LIEF %s pefleet %s" % (a[0], a[2], b[2]))
PY
if [ -s "$T/diff" ]; then notok "derived_values_equal_lief ($n files)" "$(wc -l <"$T/diff") differences: $(head -3 "$T/diff" | tr '\n' ';')"
else ok "derived_values_equal_lief ($n files, 12 values each)"; fi
# the GRUB images whose relocation table ends at the end of the file: LIEF 0.9 says 0
g=$(grep -c '^/usr/lib/grub/.*\.efi	.*,.*,.*,.*,.*,.*,0,' "$T/lief.out")
check "grub_images_without_relocations_per_lief ($g)" test "$g" -gt 0
finish
