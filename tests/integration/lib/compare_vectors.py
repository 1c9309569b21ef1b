#!/usr/bin/env python3
"""Compares `pefleet encode --jsonl` output with expected-ergo486.tsv.

usage: compare_vectors.py EXPECTED.tsv CORPUS_DIR OUTPUT.jsonl [TOLERANCE]
Prints one line per file that differs and a summary with the largest
absolute difference; exits 1 on any difference above the tolerance or on a
file missing from the output.
"""
import json
import os
import sys


def main():
    expected_path, corpus, output = sys.argv[1:4]
    tol = float(sys.argv[4]) if len(sys.argv) > 4 else 1e-9
    expected = {}
    with open(expected_path) as f:
        for line in f:
            rel, status, values = line.rstrip("\n").split("\t")
            expected[os.path.normpath(os.path.join(corpus, rel))] = (status, [float(v) for v in values.split(",")])
    got = {}
    with open(output) as f:
        for line in f:
            obj = json.loads(line)
            got[os.path.normpath(obj["path"])] = obj
    bad = 0
    worst = 0.0
    for path, (status, values) in sorted(expected.items()):
        obj = got.get(path)
        if obj is None:
            print(f"{path}: missing from the output")
            bad += 1
            continue
        if status != "OK" or not obj["ok"]:
            if (status == "OK") != bool(obj["ok"]):
                print(f"{path}: expected status {status}, got ok={obj['ok']} {obj.get('error', '')}")
                bad += 1
            continue
        vec = obj["vector"]
        if len(vec) != 486:
            print(f"{path}: vector has {len(vec)} values")
            bad += 1
            continue
        diffs = [abs(a - b) for a, b in zip(vec, values)]
        d = max(diffs)
        worst = max(worst, d)
        if d > tol:
            i = diffs.index(d)
            print(f"{path}: value {i} differs by {d:g} (got {vec[i]!r}, expected {values[i]!r})")
            bad += 1
    print(f"compared {len(expected)} files, {bad} differ, largest difference {worst:g}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
