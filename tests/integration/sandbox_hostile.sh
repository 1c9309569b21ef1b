#!/usr/bin/env bash
# The parser sandbox attacked from inside (issue 12). A hostile build of the
# sandbox (build/tests/pefleet-sandbox-hostile: sandbox/sb_hostile.c in
# place of the parse) attacks instead of parsing when a sample says so:
# open /etc/passwd, the sample store and ../shared; create a file in /tmp;
# socket+connect to the fleet's Redis; read/write every descriptor 0-1023;
# read its environment; fork, clone, execve /bin/sh; ptrace and kill its
# parent; raise its CPU and address-space limits; map executable memory;
# claim another sample's sha256. Each attack must fail or kill the child,
# and `pefleet encode`, an encoder worker and a scorer must each report one
# clear error for that file and go on (a real PE after the attacks gets
# its exact vector or verdict), with Redis and the store untouched.
# Then a live child (the hang attack) is read from /proc: Seccomp 2,
# NoNewPrivs 1, only its pipes and its sample's memfd open, an empty
# environment, hard limits equal to soft ones.
. "$(dirname "$0")/lib/common.sh"
NAME=sandbox_hostile
need_corpus "$NAME"
need_redis "$NAME"
P=$BIN/pefleet
HOSTILE=${BUILD:-$ROOT/build}/tests/pefleet-sandbox-hostile
Z=${BUILD:-$ROOT/build}/tools/zscore
H5=$SHARED/seed/ergo-pe-av/model.h5
[ -x "$HOSTILE" ] || { notok "$NAME" "$HOSTILE not built"; finish; }
[ -x "$Z" ] || { notok "$NAME" "$Z not built"; finish; }

fleet_ports
read -r SP SCP SIMP HP < <(free_ports 4)
D=$T/fleet
fleet_cleanup_on_exit "$D"
S=$T/samples
mkdir -p "$S" "$T/tmp"
CANARY=/tmp/pefleet-hostile-was-here
rm -f "$CANARY" "$T/tmp/pefleet-hostile-was-here"

# variables a daemon may hold; the child must see none of them
export PEFLEET_TEST_SECRET=hunter2 REDIS_TEST_URL=redis://secret@127.0.0.1/

"$P" import-keras "$H5" -o "$T/model" >/dev/null 2>&1 || { notok import "import-keras failed"; finish; }
if ! PEFLEET_SANDBOX=$HOSTILE "$P" up --data "$D" --workers 1 --scorers 1 --model "$T/model" --redis-port "$RP" \
     --ingest-port "$IP" --worker-port "$WP" --score-port "$SP" --scorer-port "$SCP" --similar-port "$SIMP" \
     --port "$HP" >"$T/up.out" 2>&1; then
  notok up "$(tail -3 "$T/up.out")"; finish
fi
fleet_auth "$D"
for _ in $(seq 100); do grep -q 'ready, capacity' "$D/logs/score-router.log" 2>/dev/null && break; sleep 0.1; done

# one sample already stored: the attacks must leave it, and its keys, as they are
"$P" ingest --data "$D" --label clean --wait -q "$CORPUS/clean/t64.exe" >/dev/null 2>&1 ||
  { notok ingest_clean "ingest of t64.exe failed"; finish; }
OLD_SHA=$(sha256sum "$CORPUS/clean/t64.exe" | cut -d' ' -f1)
STORED=$(find "$D/store" -type f | head -1)
[ -n "$STORED" ] || { notok store "no file in $D/store"; finish; }
snapshot() {
  ( cd "$D/store" && find . -type f -print0 | sort -z | xargs -0 sha256sum )
  for k in $($RCLI --scan --pattern "*$OLD_SHA*" | sort); do echo "$k $($RCLI --raw DUMP "$k" | sha256sum)"; done
  $RCLI CONFIG GET requirepass | tail -1
}
snapshot >"$T/before.snap"

# attack NAME "ATTACK ARGS" REGEX: a sample that makes the child attack, and
# the error every daemon must report for it
NAMES=() REGEX=()
attack() {
  printf 'MZ this is no PE: PEFLEET-HOSTILE %s\n' "$2" >"$S/$1.exe"
  NAMES+=("$1") REGEX+=("$3")
}
V='parser violated the sandbox: syscall'
attack open-passwd "open /etc/passwd" 'hostile open: blocked \(Permission denied\)'
attack open-store "open $STORED" 'hostile open: blocked \(Permission denied\)'
attack open-shared "open $CORPUS/MANIFEST.tsv" 'hostile open: blocked \(Permission denied\)'
attack create-tmp "create /tmp" "$V openat"
attack create-own "create $T/tmp" "$V openat"
attack connect-redis "connect 127.0.0.1 $RP" "$V socket"
attack fds "fds" 'hostile fds: blocked'
attack env "env" 'hostile env: blocked \(0 variables'
attack fork "fork" "$V clone"
attack clone "clone" "$V clone"
attack exec "exec" "$V execve"
attack ptrace "ptrace" "$V ptrace"
attack kill "kill" "$V kill"
if [ "${PEFLEET_SANITIZE:-0}" = 1 ]; then
  # `make sanitize`: ASan needs prlimit64 and no address-space limit
  # (README, the parser sandbox); a raise is still refused by the hard limit
  attack rlimit-cpu "rlimit-cpu" "hostile setrlimit: blocked \\(Operation not permitted\\)"
  skip rlimit_as "sanitizer build: no address-space limit"
else
  attack rlimit-cpu "rlimit-cpu" "$V prlimit64"
  attack rlimit-as "rlimit-as" "$V prlimit64"
fi
attack mmap-exec "mmap-exec" "$V mmap"
attack forge "forge" "parser reported a sha256 that is not its sample's"
cp "$CORPUS/clean/t32.exe" "$S/zz-real.exe"
REAL_SHA=$(sha256sum "$S/zz-real.exe" | cut -d' ' -f1)
"$P" encode -q -o "$T/real.csv" "$S/zz-real.exe" 2>/dev/null || { notok real_vector "the real sandbox failed on t32.exe"; finish; }
sha_of() { sha256sum "$S/$1.exe" | cut -d' ' -f1; }

# --- pefleet encode -----------------------------------------------------------
PEFLEET_SANDBOX=$HOSTILE "$P" encode -w 2 -q --jsonl -o "$T/enc.jsonl" "$S" 2>"$T/enc.err"
for i in "${!NAMES[@]}"; do
  n=${NAMES[i]}
  line=$(grep -F "\"$S/$n.exe\"" "$T/enc.jsonl")
  if grep -q ESCAPED <<<"$line"; then notok "encode_$n" "the attack worked: $line"
  elif grep -Eq "\"sha256\":\"$(sha_of "$n")\".*\"ok\":false,\"error\":\"${REGEX[i]}" <<<"$line"; then ok "encode_$n"
  else notok "encode_$n" "wanted /${REGEX[i]}/, got: $line"; fi
done
check encode_one_error_line_each test "$(grep -c 'error:' "$T/enc.err")" -eq "${#NAMES[@]}"
"$P" encode -q -o "$T/real2.csv" "$S/zz-real.exe" 2>/dev/null
python3 - "$T/enc.jsonl" "$T/real.csv" "$S/zz-real.exe" <<'PY' && ok encode_goes_on_real_vector_exact || notok encode_goes_on_real_vector_exact "the real PE after the attacks"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
r = [x for x in rows if x["path"] == sys.argv[3]][0]
want = [float(v) for v in open(sys.argv[2]).read().split("\n")[0].split(",")[-486:]]
assert r["ok"] and len(r["vector"]) == 486
assert max(abs(a - b) for a, b in zip(r["vector"], want)) == 0, "vector differs"
PY
check nothing_created_in_tmp test ! -e "$CANARY" -a ! -e "$T/tmp/pefleet-hostile-was-here"

# --- encoder worker --------------------------------------------------------------
"$P" ingest --data "$D" --label malicious --wait -q "$S" >/dev/null 2>&1
WLOG=$(ls "$D"/logs/encoder-worker*.log | head -1)
for i in "${!NAMES[@]}"; do
  n=${NAMES[i]}
  line=$(grep "sample $(sha_of "$n") " "$WLOG" | tail -1)
  if grep -Eq "sample $(sha_of "$n") failed: ${REGEX[i]}" <<<"$line"; then ok "worker_$n"
  else notok "worker_$n" "wanted /${REGEX[i]}/, got: ${line:-nothing in $WLOG}"; fi
done
check worker_logs_its_layers grep -q 'sandbox: layers in force: .*no_new_privs .*landlock.*seccomp' "$WLOG"
check worker_goes_on_real_encoded grep -q "sample $REAL_SHA encoded" "$WLOG"
check daemons_alive python3 -c '
import json, subprocess, sys
s = json.loads(subprocess.run(sys.argv[1:], capture_output=True, text=True).stdout)
assert all(d["alive"] for d in s["daemons"]), s["daemons"]' "$P" status --data "$D" --json --interval 0

# --- scorer ------------------------------------------------------------------------
FILES=()
for n in "${NAMES[@]}"; do FILES+=("$S/$n.exe"); done
FILES+=("$S/zz-real.exe")
"$Z" "tcp://127.0.0.1:$SP" --file "${FILES[@]}" -n ${#FILES[@]} -t 1 --print >"$T/score.jsonl" 2>"$T/z.err"
for i in "${!NAMES[@]}"; do
  n=${NAMES[i]}
  line=$(sed -n "$((i + 1))p" "$T/score.jsonl")
  if grep -Eq "\"error\":\"[^\"]*${REGEX[i]}" <<<"$line"; then ok "scorer_$n"
  else notok "scorer_$n" "wanted /${REGEX[i]}/, got: $line"; fi
done
last=$(tail -1 "$T/score.jsonl")
if grep -q "\"sha256\":\"$REAL_SHA\".*\"verdict\":\"clean\"" <<<"$last"; then ok scorer_goes_on_real_verdict
else notok scorer_goes_on_real_verdict "$last"; fi

check scorer_logs_its_layers grep -q 'sandbox: layers in force: .*seccomp' "$(ls "$D"/logs/scorer*.log | head -1)"

# --- nothing else changed ------------------------------------------------------------
snapshot >"$T/after.snap"
# the store gained the samples ingested above and nothing else changed
grep -v -F -f <(for n in "${NAMES[@]}"; do sha_of "$n"; done; echo "$REAL_SHA") "$T/after.snap" >"$T/after.old"
if diff "$T/before.snap" "$T/after.old" >"$T/snap.diff"; then ok store_and_redis_untouched
else notok store_and_redis_untouched "$(head -5 "$T/snap.diff" | tr '\n' ' ')"; fi
check no_hostile_keys test -z "$($RCLI --scan --pattern '*hostile*')"

# --- a live child, read from /proc ----------------------------------------------------
printf 'MZ PEFLEET-HOSTILE hang\n' >"$T/hang.exe"
PEFLEET_SANDBOX=$HOSTILE "$P" encode -q --timeout 60 --cpu 30 -o "$T/hang.csv" "$T/hang.exe" 2>/dev/null &
EP=$!
child=
for _ in $(seq 100); do
  for p in $(pgrep -f '^pefleet-sandbox --cpu 30 '); do
    grep -q '^Seccomp_filters:[[:space:]]*2' "/proc/$p/status" 2>/dev/null && child=$p
  done
  [ -n "$child" ] && break
  sleep 0.1
done
if [ -z "$child" ]; then
  notok live_child "no parser child with two seccomp filters appeared"
else
  st=/proc/$child/status
  check live_seccomp_filter grep -Eq '^Seccomp:[[:space:]]+2$' "$st"
  check live_no_new_privs grep -Eq '^NoNewPrivs:[[:space:]]+1$' "$st"
  if [ "$(id -u)" = 0 ]; then check live_uid_nobody grep -Eq '^Uid:[[:space:]]+65534' "$st"; fi
  fds=$(for f in /proc/$child/fd/*; do readlink "$f"; done | sort)
  bad=$(grep -Ev '^pipe:\[[0-9]+\]$|^/memfd:pefleet-sample \(deleted\)$' <<<"$fds")
  if [ -z "$bad" ] && [ "$(grep -c memfd <<<"$fds")" -eq 1 ]; then ok "live_only_pipes_and_sample ($(echo $fds))"
  else notok live_only_pipes_and_sample "open: $(echo $fds)"; fi
  check live_empty_environment test "$(tr -d '\0' </proc/$child/environ | wc -c)" -eq 0
  lim_ok=1
  LIMITS=("Max cpu time" "Max file size" "Max core file size" "Max processes" "Max open files")
  [ "${PEFLEET_SANITIZE:-0}" = 1 ] || LIMITS+=("Max address space")
  for l in "${LIMITS[@]}"; do
    read -r soft hard < <(grep "^$l" "/proc/$child/limits" | sed "s/^$l *//" | awk '{print $1, $2}')
    if [ "$soft" != "$hard" ] || [ "$soft" = unlimited ]; then lim_ok=0; echo "# $l: soft $soft hard $hard"; fi
  done
  check live_hard_limits_equal_soft test "$lim_ok" = 1
  check live_file_size_zero grep -Eq '^Max file size +0 +0 ' "/proc/$child/limits"
  check live_no_processes grep -Eq '^Max processes +0 +0 ' "/proc/$child/limits"
fi
kill "$EP" 2>/dev/null; wait "$EP" 2>/dev/null
sleep 0.3
check live_child_gone_with_encode test -z "$(pgrep -f '^pefleet-sandbox --cpu 30 ')"
finish
