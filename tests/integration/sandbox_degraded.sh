#!/usr/bin/env bash
# The parser sandbox where the kernel lacks layers (issue 12): on a
# "kernel" without namespaces or Landlock (tests/integration/fault/
# degraded-sandbox.sh runs the real sandbox under a filter that fails
# unshare and Landlock's syscalls) `pefleet encode` and an encoder worker
# log one warning naming each missing layer, keep the others (the seccomp
# filter still kills a forbidden syscall) and still encode exactly.
. "$(dirname "$0")/lib/common.sh"
NAME=sandbox_degraded
need_corpus "$NAME"
P=$BIN/pefleet
DEG=$FAULT/degraded-sandbox.sh
HOSTILE=${BUILD:-$ROOT/build}/tests/pefleet-sandbox-hostile
[ -x "${BUILD:-$ROOT/build}/tools/deny_confine" ] || { notok "$NAME" "build/tools/deny_confine not built"; finish; }

"$P" encode -q -o "$T/want.csv" "$CORPUS/clean/t32.exe" 2>"$T/full.err"
check full_kernel_no_warning test ! -s "$T/full.err"

PEFLEET_SANDBOX=$DEG "$P" encode -q -o "$T/got.csv" "$CORPUS/clean/t32.exe" 2>"$T/deg.err"
rc=$?
check degraded_still_encodes test "$rc" -eq 0
check degraded_same_vector cmp -s "$T/want.csv" "$T/got.csv"
check degraded_one_warning test "$(grep -c 'WARNING: layers missing' "$T/deg.err")" -eq 1
check warning_names_namespaces grep -q 'namespaces (unshare: Operation not permitted)' "$T/deg.err"
check warning_names_landlock grep -Eq 'landlock \(kernel < 5\.13\)' "$T/deg.err"

# the remaining layers still hold: the hostile parser under the same filter
printf 'MZ PEFLEET-HOSTILE exec\n' >"$T/exec.exe"
cat >"$T/hostile-degraded.sh" <<SH
#!/bin/sh
exec "${BUILD:-$ROOT/build}/tools/deny_confine" "$HOSTILE" "\$@"
SH
chmod +x "$T/hostile-degraded.sh"
PEFLEET_SANDBOX=$T/hostile-degraded.sh "$P" encode -q --jsonl -o "$T/exec.jsonl" "$T/exec.exe" 2>/dev/null
check degraded_seccomp_still_kills grep -q 'parser violated the sandbox: syscall execve' "$T/exec.jsonl"
finish
