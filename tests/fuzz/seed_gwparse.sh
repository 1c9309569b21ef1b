#!/usr/bin/env bash
# Seeds for fuzz_gwparse (tests/fuzz/fuzz_gwparse.c) in DIR: the first byte
# picks the decoder (low 2 bits: 0/1 JSON body, 2 vector, 3 capped field)
# and its cap, the rest is a request body the gateway sees in real use.
set -eu
out=${1:?usage: seed_gwparse.sh DIR}
mkdir -p "$out"
vec=$(python3 -c 'print(",".join(str(i / 7.0) for i in range(486)))')
seed() { printf "$1" >"$out/$2"; printf '%s' "$3" >>"$out/$2"; }
seed '\x01' json-str "{\"x\": \"$vec\"}"
seed '\x01' json-list "{\"x\": [$vec], \"top\": 5, \"threshold\": 0.9}"
seed '\x01' json-esc '{"x": "a\"b\\\\c\u00e9\ud83d\ude00\n/x/y", "sha256": "00ff", "other": {"a": [true, false, null, -1.5e-3]}}'
seed '\x00' json-small '{"x": "/srv/samples/a.exe"}'
seed '\x01' json-bad '{"x": [1, 2, "a"]}'
seed '\x02' vec "$vec"
seed '\x02' vec-brackets "[ 1, -2.5e-3 ,3E2 ]"
seed '\x06' vec-nan "1,nan,-inf,0x10,,2"
seed '\x03' field "some file bytes MZ\x90\x00"
