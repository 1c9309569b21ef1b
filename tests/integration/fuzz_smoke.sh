#!/usr/bin/env bash
# Fuzz smoke test: builds the libFuzzer targets (make -s fuzz), replays every
# crafted input of tests/fuzz/regressions, then fuzzes fuzz_pe for 20 s over
# the seed corpus plus the regressions, and fuzz_wire, fuzz_msg and
# fuzz_csvrow for 5 s each over their seeds.
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

# --- fuzz_wire over its seeds -------------------------------------------------
"$ROOT/tests/fuzz/seed_corpus.sh" --wire "$T/wire" >/dev/null || notok fuzz_seeds "seed_corpus.sh --wire failed"
"$FZ/fuzz_wire" -max_total_time=$WIRE_SECONDS -max_len=16384 -timeout=10 -print_final_stats=1 \
  -dict="$ROOT/tests/fuzz/wire.dict" -artifact_prefix="$FZ/smoke-wire-" "$T/wire" >"$T/wire.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok "fuzz_wire ran ${WIRE_SECONDS}s clean"
else
  cp "$T/wire.log" "$FZ/smoke-wire.log"
  notok "fuzz_wire ran ${WIRE_SECONDS}s clean" "$(why "$T/wire.log" "$rc") (log: $FZ/smoke-wire.log)"
  tail -30 "$T/wire.log" | sed 's/^/    /'
fi

# --- fuzz_msg over its seeds ---------------------------------------------------
"$ROOT/tests/fuzz/seed_corpus.sh" --msg "$T/msg" >/dev/null || notok fuzz_seeds "seed_corpus.sh --msg failed"
"$FZ/fuzz_msg" -max_total_time=$MSG_SECONDS -max_len=8192 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$FZ/smoke-msg-" "$T/msg" >"$T/msg.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok "fuzz_msg ran ${MSG_SECONDS}s clean"
else
  cp "$T/msg.log" "$FZ/smoke-msg.log"
  notok "fuzz_msg ran ${MSG_SECONDS}s clean" "$(why "$T/msg.log" "$rc") (log: $FZ/smoke-msg.log)"
  tail -30 "$T/msg.log" | sed 's/^/    /'
fi

# --- fuzz_csvrow over its seeds --------------------------------------------------
"$ROOT/tests/fuzz/seed_corpus.sh" --csvrow "$T/csvrow" >/dev/null || notok fuzz_seeds "seed_corpus.sh --csvrow failed"
"$FZ/fuzz_csvrow" -max_total_time=$CSVROW_SECONDS -max_len=16384 -timeout=10 -print_final_stats=1 \
  -dict="$ROOT/tests/fuzz/csvrow.dict" -artifact_prefix="$FZ/smoke-csvrow-" "$T/csvrow" >"$T/csvrow.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok "fuzz_csvrow ran ${CSVROW_SECONDS}s clean"
else
  cp "$T/csvrow.log" "$FZ/smoke-csvrow.log"
  notok "fuzz_csvrow ran ${CSVROW_SECONDS}s clean" "$(why "$T/csvrow.log" "$rc") (log: $FZ/smoke-csvrow.log)"
  tail -30 "$T/csvrow.log" | sed 's/^/    /'
fi

# --- fuzz_gwparse (the gateway's request parsing) over its seeds ----------------
"$ROOT/tests/fuzz/seed_gwparse.sh" "$T/gwparse" >/dev/null || notok fuzz_seeds "seed_gwparse.sh failed"
"$FZ/fuzz_gwparse" -max_total_time=5 -max_len=16384 -timeout=10 -print_final_stats=1 \
  -dict="$ROOT/tests/fuzz/gwparse.dict" -artifact_prefix="$FZ/smoke-gwparse-" "$T/gwparse" >"$T/gwparse.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok "fuzz_gwparse ran 5s clean"
else
  cp "$T/gwparse.log" "$FZ/smoke-gwparse.log"
  notok "fuzz_gwparse ran 5s clean" "$(why "$T/gwparse.log" "$rc") (log: $FZ/smoke-gwparse.log)"
  tail -30 "$T/gwparse.log" | sed 's/^/    /'
fi

# --- fuzz_curvekey (CURVE key pair and .pub files): a generated key pair and
# the regression inputs as seeds
mkdir -p "$T/curvekey"
"$ROOT/bin/pefleet" keygen seed -o "$T/curvekey" >/dev/null 2>&1 || "${BIN:-$ROOT/bin}/pefleet" keygen seed -o "$T/curvekey" >/dev/null 2>&1
cp "$ROOT"/tests/fuzz/regressions-curvekey/* "$T/curvekey/" 2>/dev/null
"$FZ/fuzz_curvekey" -max_total_time=5 -max_len=8192 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$FZ/smoke-curvekey-" "$T/curvekey" >"$T/curvekey.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok "fuzz_curvekey ran 5s clean (regressions included)"
else
  cp "$T/curvekey.log" "$FZ/smoke-curvekey.log"
  notok "fuzz_curvekey ran 5s clean" "$(why "$T/curvekey.log" "$rc") (log: $FZ/smoke-curvekey.log)"
  tail -30 "$T/curvekey.log" | sed 's/^/    /'
fi

# --- fuzz_blobs (model files and stored vectors) over generated seeds
mkdir -p "$T/blobs"
"${BUILD:-$ROOT/build}/tools/mkblobseeds" "$T/blobs" || notok fuzz_seeds "mkblobseeds failed"
"$FZ/fuzz_blobs" -max_total_time=5 -max_len=200000 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$FZ/smoke-blobs-" "$T/blobs" >"$T/blobs.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok "fuzz_blobs ran 5s clean"
else
  cp "$T/blobs.log" "$FZ/smoke-blobs.log"
  notok "fuzz_blobs ran 5s clean" "$(why "$T/blobs.log" "$rc") (log: $FZ/smoke-blobs.log)"
  tail -30 "$T/blobs.log" | sed 's/^/    /'
fi

[ "$FAILS" -eq 0 ]
