#!/usr/bin/env bash
# make demo: the whole system on one machine, end to end, with real PE files
# from Debian packages. Starts the embedded fleet, ingests a small labelled
# corpus, trains, promotes the model, scans files through the HTTP API with
# curl and prints the verdicts.
#
# A corpus this small makes a demo model, not a detector: the point is to see
# every part work together, not to trust its verdicts.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
P=$BIN/pefleet
DATA=${PEFLEET_DEMO_DATA:-$ROOT/pefleet-demo}
PORT=${PEFLEET_DEMO_PORT:-8080}
CORPUS=$DATA/corpus
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Debian packages that ship real PE files: clean ones (the mingw-w64 runtime
# DLLs, NSIS's plugins and stubs, systemd-boot's EFI images) and ClamAV's
# harmless test files, packed the way malware is, labelled malicious.
PKGS="clamav-testfiles nsis gcc-mingw-w64-x86-64-win32-runtime gcc-mingw-w64-i686-win32-runtime systemd-boot-efi curl"
say "1/7 installing the demo corpus packages ($PKGS)"
missing=""
for p in $PKGS; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then echo "run as root, or install:$missing" >&2; exit 1; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
echo "present: $PKGS"

say "2/7 collecting PE files"
rm -rf "$CORPUS"; mkdir -p "$CORPUS/clean" "$CORPUS/malicious"
is_pe() { head -c 2 "$1" 2>/dev/null | cmp -s - <(printf MZ); }
n=0
for f in $(dpkg -L nsis nsis-common gcc-mingw-w64-x86-64-win32-runtime gcc-mingw-w64-i686-win32-runtime \
           systemd-boot-efi 2>/dev/null | sort -u); do
  [ -f "$f" ] && is_pe "$f" || continue
  cp "$f" "$CORPUS/clean/$(echo "$f" | tr / _ | sed 's/^_//')"; n=$((n + 1))
done
m=0
for f in $(dpkg -L clamav-testfiles | sort); do
  [ -f "$f" ] && is_pe "$f" || continue
  cp "$f" "$CORPUS/malicious/$(basename "$f")"; m=$((m + 1))
done
echo "$n clean files (mingw-w64 runtime, NSIS, systemd-boot), $m malicious-labelled files (clamav-testfiles) in $CORPUS"

say "3/7 starting the fleet in $DATA (redis, broker, encoder workers, scorer pool, HTTP gateway on 127.0.0.1:$PORT)"
"$P" down --data "$DATA" >/dev/null 2>&1 || true
"$P" up --data "$DATA" --workers 2 --scorers 2 --port "$PORT"

say "4/7 ingesting (hash, store, queue; encoder workers store each vector in Redis)"
"$P" ingest --data "$DATA" --label clean --wait "$CORPUS/clean"
"$P" ingest --data "$DATA" --label malicious --wait "$CORPUS/malicious"
"$P" status --data "$DATA"

say "5/7 training the seed's network on the fleet's 70/15/15 splits"
MODEL=$DATA/models/demo-$(date +%Y%m%d-%H%M%S)
mkdir -p "$DATA/models"
"$P" train --data "$DATA" -o "$MODEL" --epochs 300 --patience 40 -q

"$P" report "$MODEL" -o "$MODEL/report.html" >/dev/null && echo "report (training curves, ROC, confusion matrices): $MODEL/report.html"

say "6/7 promoting $MODEL (every scorer switches to it)"
"$P" promote "$MODEL" --data "$DATA"
sleep 1

say "7/7 scanning through the HTTP API (the seed's: curl -F \"x=@file\" http://127.0.0.1:$PORT/)"
for f in $(ls "$CORPUS/clean" | shuf -n 3 --random-source=<(yes)); do
  printf '%-60s ' "clean/$f"; curl -sS -F "x=@$CORPUS/clean/$f" "http://127.0.0.1:$PORT/"
done
for f in $(ls "$CORPUS/malicious" | shuf -n 3 --random-source=<(yes)); do
  printf '%-60s ' "malicious/$f"; curl -sS -F "x=@$CORPUS/malicious/$f" "http://127.0.0.1:$PORT/"
done
f=$(ls "$CORPUS/malicious" | head -1)
echo; echo "the same file through /v1/scan:"
curl -sS -F "x=@$CORPUS/malicious/$f" "http://127.0.0.1:$PORT/v1/scan"

cat <<EOF

This is a demo model trained on $((n + m)) files: it shows every part of pefleet
working together; it is not a detector. For a real one:
  - your own corpus:   $P ingest --data $DATA --label clean|malicious --wait DIR
                       $P train --data $DATA -o models/mine && $P promote models/mine --data $DATA
  - the seed's data:   $P import-csv --data $DATA dataset.csv   (ergo-pe-av's dataset.csv)
  - the seed's model:  $P import-keras model.h5 -o models/seed && $P promote models/seed --data $DATA
Status: $P status --data $DATA    Logs: $DATA/logs/
Stop the fleet:      $P down --data $DATA
EOF
