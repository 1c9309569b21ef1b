#!/usr/bin/env python3
"""synth_dataset.py OUT.csv [ROWS]: a data set a 486-70-70-2 network can learn.

Class-dependent means on a few features plus noise everywhere, labels by
name (clean / malicious, alternating), seed 11: the same file every time.
Used by train_cli.sh and up_secrets.sh."""
import random
import sys

rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1500
rnd = random.Random(11)
with open(sys.argv[1], "w") as f:
    for i in range(rows):
        y = i % 2
        v = [rnd.random() * 0.2 for _ in range(486)]
        for k in (5, 80, 200, 333, 481):
            v[k] += 0.6 if y else 0.0
        f.write(("malicious" if y else "clean") + "," + ",".join("%.6f" % x for x in v) + "\n")
