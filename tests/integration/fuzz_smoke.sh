#!/usr/bin/env bash
# Fuzz smoke test: builds the libFuzzer targets (make -s fuzz), replays every
# crafted input of tests/fuzz/regressions, then fuzzes fuzz_pe for 20 s over
# the seed corpus plus the regressions, and fuzz_wire, fuzz_msg, fuzz_csvrow,
# fuzz_gwparse, fuzz_curvekey (with its regression inputs), fuzz_blobs, fuzz_clamdcmd,
# fuzz_folder and fuzz_kerascfg for 5 s each over their seeds.
# Skipped (exit 0) when clang or its libFuzzer runtime is missing.
# Crashing inputs are kept as $BUILD/fuzz/smoke-*.
set -u
ROOT=${PEFLEET_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export PEFLEET_SHARED=${PEFLEET_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
BUILD=${BUILD:-$ROOT/build}
FUZZ_CC=${FUZZ_CC:-clang}
PE_SECONDS=20
WIRE_SECONDS=5
MSG_SECONDS=5
CSVROW_SECONDS=5
FAILS=0
T=$(mktemp -d /tmp/pefleet-fuzz.XXXXXX)
trap 'rm -rf "$T"' EXIT

ok() { echo "ok - $1"; }
notok() { echo "not ok - $1: $2"; FAILS=$((FAILS + 1)); }
skip() { echo "skipped: $1: $2"; exit 0; }

# The first line that says why a libFuzzer run failed.
why() {
  local w
  w=$(grep -m1 -E 'ERROR: |runtime error:|invariant violated|SUMMARY:|deadly signal|timeout' "$1")
  echo "${w:-exit status $2, see $1}"
}

# --- is there a libFuzzer toolchain at all? ----------------------------------
command -v "$FUZZ_CC" >/dev/null || skip fuzz_smoke "$FUZZ_CC not found"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\n%s\n' \
  'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return d && n > 99999999; }' >"$T/probe.c"
if ! "$FUZZ_CC" -fsanitize=fuzzer,address,undefined "$T/probe.c" -o "$T/probe" >"$T/probe.log" 2>&1; then
  skip fuzz_smoke "$FUZZ_CC cannot link -fsanitize=fuzzer (libclang-rt-dev missing?): $(head -1 "$T/probe.log")"
fi

# --- build ----------------------------------------------------------------------
if ! make -s -C "$ROOT" fuzz BUILD="$BUILD" FUZZ_CC="$FUZZ_CC" >"$T/build.log" 2>&1; then
  notok fuzz_build "make -s fuzz failed: $(grep -m1 -E 'error|Error' "$T/build.log")"
  sed 's/^/    /' "$T/build.log" | tail -20
  exit 1
fi
FZ=$BUILD/fuzz
ok fuzz_build

# --- regression inputs, each replayed once ------------------------------------
REG=$ROOT/tests/fuzz/regressions
regs=()
if [ -d "$REG" ]; then
  while IFS= read -r f; do regs+=("$f"); done < <(find "$REG" -type f ! -name '.*' | sort)
fi
if [ ${#regs[@]} -gt 0 ]; then
  "$FZ/fuzz_pe" -artifact_prefix="$FZ/smoke-" "${regs[@]}" >"$T/reg.log" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ]; then ok "fuzz_pe regressions (${#regs[@]} inputs)"
  else
    cp "$T/reg.log" "$FZ/smoke-regressions.log"
    notok "fuzz_pe regressions" "$(why "$T/reg.log" "$rc") (log: $FZ/smoke-regressions.log)"
  fi
fi

# --- fuzz_pe over the seeds ---------------------------------------------------
[ -d "$PEFLEET_SHARED/corpus" ] || echo "# fuzz_smoke: $PEFLEET_SHARED/corpus not found, crafted seeds only"
"$ROOT/tests/fuzz/seed_corpus.sh" "$T/seeds" >/dev/null || notok fuzz_seeds "seed_corpus.sh failed"
mkdir -p "$T/new"
dirs=("$T/new" "$T/seeds")
[ -d "$REG" ] && dirs+=("$REG")
"$FZ/fuzz_pe" -max_total_time=$PE_SECONDS -max_len=65536 -timeout=10 -print_final_stats=1 \
  -dict="$ROOT/tests/fuzz/pe.dict" -artifact_prefix="$FZ/smoke-" "${dirs[@]}" >"$T/pe.log" 2>&1
rc=$?
runs=$(grep -Eo 'number_of_executed_units: *[0-9]+' "$T/pe.log" | grep -Eo '[0-9]+$')
if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
  ok "fuzz_pe ran ${PE_SECONDS}s clean"
  echo "# fuzz_pe: $runs executions in ${PE_SECONDS}s"
else
  cp "$T/pe.log" "$FZ/smoke-pe.log"
  notok "fuzz_pe ran ${PE_SECONDS}s clean" "$(why "$T/pe.log" "$rc") (log: $FZ/smoke-pe.log)"
  tail -30 "$T/pe.log" | sed 's/^/    /'
fi

# fuzz_for TARGET SECONDS MAX_LEN DICT|- DIR...: one fuzzing run of TARGET
# over the seed folders, ok when it ends clean.
fuzz_for() {
  local name=$1 secs=$2 maxlen=$3 dict=$4
  shift 4
  local d=()
  [ "$dict" != - ] && d=(-dict="$ROOT/tests/fuzz/$dict")
  "$FZ/$name" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 -print_final_stats=1 "${d[@]}" \
    -artifact_prefix="$FZ/smoke-$name-" "$@" >"$T/$name.log" 2>&1
  local rc=$?
  if [ "$rc" -eq 0 ]; then ok "$name ran ${secs}s clean"
  else
    cp "$T/$name.log" "$FZ/smoke-$name.log"
    notok "$name ran ${secs}s clean" "$(why "$T/$name.log" "$rc") (log: $FZ/smoke-$name.log)"
    tail -30 "$T/$name.log" | sed 's/^/    /'
  fi
}

# --- the other targets over their seeds -------------------------------------------
"$ROOT/tests/fuzz/seed_corpus.sh" --wire "$T/wire" >/dev/null || notok fuzz_seeds "seed_corpus.sh --wire failed"
fuzz_for fuzz_wire "$WIRE_SECONDS" 16384 wire.dict "$T/wire"
"$ROOT/tests/fuzz/seed_corpus.sh" --msg "$T/msg" >/dev/null || notok fuzz_seeds "seed_corpus.sh --msg failed"
fuzz_for fuzz_msg "$MSG_SECONDS" 8192 - "$T/msg"
"$ROOT/tests/fuzz/seed_corpus.sh" --csvrow "$T/csvrow" >/dev/null || notok fuzz_seeds "seed_corpus.sh --csvrow failed"
fuzz_for fuzz_csvrow "$CSVROW_SECONDS" 16384 csvrow.dict "$T/csvrow"
# the gateway's request parsing
"$ROOT/tests/fuzz/seed_gwparse.sh" "$T/gwparse" >/dev/null || notok fuzz_seeds "seed_gwparse.sh failed"
fuzz_for fuzz_gwparse 5 16384 gwparse.dict "$T/gwparse"
# CURVE key pair and .pub files: a generated pair, and the regression inputs
mkdir -p "$T/curvekey"
"${BIN:-$ROOT/bin}/pefleet" keygen seed -o "$T/curvekey" >/dev/null 2>&1 || notok fuzz_seeds "pefleet keygen failed"
fuzz_for fuzz_curvekey 5 8192 - "$T/curvekey" "$ROOT/tests/fuzz/regressions-curvekey"
# model files and stored vectors
mkdir -p "$T/blobs"
"$BUILD/tools/mkblobseeds" "$T/blobs" || notok fuzz_seeds "mkblobseeds failed"
fuzz_for fuzz_blobs 5 200000 - "$T/blobs"
# pefleet-clamd's command lines
mkdir -p "$T/clamdcmd"
i=0
for c in 'zPING' 'nVERSIONCOMMANDS\n' 'PING' 'zINSTREAM' 'zIDSESSION' 'zSCAN /srv/a b' 'nMULTISCAN /x\n' \
         'zFILDES' 'QUIT' 'zEND' 'nCONTSCAN /a\r\n' 'zALLMATCHSCAN /y'; do
  i=$((i + 1)); printf '\001%b\000' "$c" >"$T/clamdcmd/seed$i"
done
fuzz_for fuzz_clamdcmd 5 8192 - "$T/clamdcmd"
# the model folder's files
"$ROOT/tests/fuzz/seed_corpus.sh" --folder "$T/folder" >/dev/null || notok fuzz_seeds "seed_corpus.sh --folder failed"
fuzz_for fuzz_folder 5 65536 folder.dict "$T/folder" "$ROOT/tests/fuzz/regressions-folder"

# the Keras model_config JSON (tests/fuzz/seed_kerascfg.sh)
"$ROOT/tests/fuzz/seed_kerascfg.sh" "$T/kerascfg"
fuzz_for fuzz_kerascfg 5 65536 - "$T/kerascfg"

[ "$FAILS" -eq 0 ]
