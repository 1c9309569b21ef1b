#!/usr/bin/env python3
"""The PyTorch side of bench/train_bench.sh (see bench/README.md).

Three commands:

  synth --vectors JSONL --rows N --seed S --out CSV
      Writes a synthetic two-class data set in the seed's dataset.csv layout
      (label, then 486 values; no header) from the corpus vectors that
      `pefleet encode --jsonl` printed. Needs numpy only.

  train --csv CSV --seed S --epochs E --threads T --out JSON
      Splits CSV exactly as `pefleet train --dataset CSV --seed S` does
      (lib/pf_dataset.c), trains the seed's network with PyTorch on the CPU
      with the same recipe and writes per-epoch seconds and test figures.

  check --csv CSV --seed S --model DIR
      Reads the model pefleet trained (DIR/model.pfnn) and its
      DIR/stats.json, scores every split reproduced here with that model and
      fails unless the row counts, class counts and confusion matrices are
      the ones pefleet reported: proof that both sides used the same rows.

Thread counts are fixed by the caller through the environment
(OMP_NUM_THREADS, OPENBLAS_NUM_THREADS) before Python starts, and again
here with torch.set_num_threads.
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np

DIM = 486
CLASSES = ("clean", "malicious")
MASK64 = (1 << 64) - 1


# ---- the split of lib/pf_dataset.c ----

def pefleet_split(n, seed):
    """Row indices of train, validation and test, as pf_dataset_split picks
    them: a Fisher-Yates shuffle driven by splitmix64 seeded with seed, then
    the first 70%, the next 15% and the rest (integer division)."""
    idx = list(range(n))
    s = seed & MASK64
    for i in range(n, 1, -1):
        s = (s + 0x9E3779B97F4A7C15) & MASK64
        z = s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        z ^= z >> 31
        j = z % i
        idx[i - 1], idx[j] = idx[j], idx[i - 1]
    ntrain, nval = n * 70 // 100, n * 15 // 100
    idx = np.asarray(idx, dtype=np.int64)
    return idx[:ntrain], idx[ntrain:ntrain + nval], idx[ntrain + nval:]


def load_csv(path):
    """Labels (class indices) and float32 features of a CSV in the seed's
    layout. Values are parsed to double and then rounded to float32, as
    pf_dataset_load_csv does."""
    labels = np.loadtxt(path, delimiter=",", usecols=0, dtype=str)
    x = np.loadtxt(path, delimiter=",", usecols=range(1, DIM + 1), dtype=np.float64).astype(np.float32)
    y = np.array([CLASSES.index(v) for v in labels], dtype=np.int64)
    return x, y


# ---- synth ----

def cmd_synth(a):
    vecs = {0: [], 1: []}
    with open(a.vectors) as f:
        for line in f:
            r = json.loads(line)
            if not r.get("ok"):
                continue
            folder = os.path.basename(os.path.dirname(r["path"]))
            c = 0 if folder == "clean" else 1 if folder.startswith("malicious") else None
            if c is None or len(r["vector"]) != DIM:
                continue
            vecs[c].append(r["vector"])
    if not vecs[0] or not vecs[1]:
        sys.exit("torch_train.py synth: need vectors of clean/ and malicious*/ files")
    base = [np.asarray(vecs[c], dtype=np.float64) for c in (0, 1)]
    rng = np.random.default_rng(a.seed)
    n = a.rows
    y = rng.integers(0, 2, n)  # the class the row is built from
    own = np.empty((n, DIM))
    other = np.empty((n, DIM))
    for c in (0, 1):
        k = np.flatnonzero(y == c)
        own[k] = base[c][rng.integers(0, len(base[c]), len(k))]
        other[k] = base[1 - c][rng.integers(0, len(base[1 - c]), len(k))]
    # blend with a vector of the other class: the further toward it, the
    # harder the row (blend up to 0.55, so some rows sit past the midpoint)
    blend = rng.uniform(0.0, 0.55, (n, 1))
    x = (1.0 - blend) * own + blend * other
    x *= rng.normal(1.0, 0.15, (n, DIM))          # multiplicative jitter
    x += rng.normal(0.0, 0.03, (n, DIM))          # additive noise
    x[rng.random((n, DIM)) < 0.05] = 0.0          # 5% of values lost
    np.clip(x, 0.0, 1.0, out=x)
    label = y.copy()
    flip = rng.random(n) < 0.02                   # 2% wrong labels
    label[flip] = 1 - label[flip]
    x = x.astype(np.float32)
    with open(a.out, "w") as f:
        for i in range(n):
            f.write(CLASSES[label[i]])
            f.write(",")
            f.write(",".join("%.6g" % v if v else "0" for v in x[i].tolist()))
            f.write("\n")
    print("synth: %d rows (%d clean, %d malicious) from %d clean + %d malicious corpus vectors"
          % (n, int((label == 0).sum()), int((label == 1).sum()), len(base[0]), len(base[1])), file=sys.stderr)


# ---- train ----

def cmd_train(a):
    import torch
    from torch import nn

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    t0 = time.monotonic()
    x, y = load_csv(a.csv)
    tr, va, te = pefleet_split(len(y), a.seed)
    xt, yt = torch.from_numpy(x[tr]), torch.from_numpy(y[tr])
    xv, yv = torch.from_numpy(x[va]), torch.from_numpy(y[va])
    xe, ye = torch.from_numpy(x[te]), torch.from_numpy(y[te])
    print("torch_train: %d train, %d validation, %d test rows loaded in %.1f s (threads %d)"
          % (len(tr), len(va), len(te), time.monotonic() - t0, torch.get_num_threads()), file=sys.stderr)

    # the seed's network: logits out; softmax is inside the loss
    model = nn.Sequential(
        nn.Linear(DIM, 70), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(70, 70), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(70, 2))
    for m in model:
        if isinstance(m, nn.Linear):  # Keras's defaults, as pf_train
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(model.parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    B = 64

    def evaluate(xs, ys):
        model.eval()
        with torch.no_grad():
            logits = model(xs)
            loss = loss_fn(logits, ys).item()
            p1 = torch.softmax(logits, 1)[:, 1]
        model.train()
        return loss, p1

    history = []
    best_loss, best_state, best_epoch = float("inf"), None, 0
    n = len(yt)
    for e in range(1, a.epochs + 1):
        ts = time.monotonic()
        model.train()
        perm = torch.randperm(n)
        loss_sum, correct = 0.0, 0
        for s in range(0, n, B):  # the last batch may be partial, as in pefleet
            k = perm[s:s + B]
            xb, yb = xt[k], yt[k]
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(k)
            correct += (out.argmax(1) == yb).sum().item()
        vloss, vp1 = evaluate(xv, yv)
        secs = time.monotonic() - ts
        vacc = ((vp1 >= 0.5).long() == yv).float().mean().item()
        history.append(secs)
        print("epoch %3d/%d  loss %.4f  acc %.4f  val_loss %.4f  val_acc %.4f  %.3f s"
              % (e, a.epochs, loss_sum / n, correct / n, vloss, vacc, secs))
        sys.stdout.flush()
        if vloss < best_loss:  # pefleet keeps the weights of the lowest validation loss
            best_loss, best_epoch = vloss, e
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    _, p1 = evaluate(xe, ye)
    pred = (p1 >= 0.5).long()  # pefleet's verdict: class 1 when p1 >= threshold 0.5
    acc = (pred == ye).float().mean().item()
    print("test: %d rows, accuracy %.4f (weights of epoch %d)" % (len(ye), acc, best_epoch))
    with open(a.out, "w") as f:
        json.dump({"threads": torch.get_num_threads(), "seconds": history, "test_accuracy": acc,
                   "rows": [len(tr), len(va), len(te)], "best_epoch": best_epoch,
                   "torch": torch.__version__}, f)


# ---- check ----

def read_pfnn(path):
    """Layer sizes and (W, b) per layer of a pefleet model file (layout in
    lib/model/pf_model.h)."""
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:4] != b"PFNN":
        sys.exit("check: %s is not a pefleet model" % path)
    p = 4 + 4 + 8 + 2 + 2
    (nl,) = struct.unpack_from("<I", buf, p)
    p += 4
    sizes = struct.unpack_from("<%dI" % (nl + 1), buf, p)
    p += 4 * (nl + 1) + 8  # sizes, threshold
    for _ in range(2):  # version, parent
        (ln,) = struct.unpack_from("<H", buf, p)
        p += 2 + ln
    (nc,) = struct.unpack_from("<I", buf, p)
    p += 4
    for _ in range(nc):
        (ln,) = struct.unpack_from("<H", buf, p)
        p += 2 + ln
    layers = []
    for i in range(nl):
        w = np.frombuffer(buf, "<f4", sizes[i] * sizes[i + 1], p).reshape(sizes[i], sizes[i + 1])
        p += 4 * w.size
        b = np.frombuffer(buf, "<f4", sizes[i + 1], p)
        p += 4 * b.size
        layers.append((w.astype(np.float64), b.astype(np.float64)))
    (fmt,) = struct.unpack_from("<I", buf, 4)
    if fmt == 2:  # the explanations' baseline: u32 dim, name, f32 values
        (dim,) = struct.unpack_from("<I", buf, p)
        p += 4
        (ln,) = struct.unpack_from("<H", buf, p)
        p += 2 + ln + 4 * dim
    if p + 4 != len(buf):
        sys.exit("check: %s: unexpected length" % path)
    return layers


def cmd_check(a):
    x, y = load_csv(a.csv)
    layers = read_pfnn(os.path.join(a.model, "model.pfnn"))
    with open(os.path.join(a.model, "stats.json")) as f:
        stats = json.load(f)
    bad = 0
    for name, idx in zip(("train", "validation", "test"), pefleet_split(len(y), a.seed)):
        h = x[idx].astype(np.float64)
        for i, (w, b) in enumerate(layers):
            h = h @ w + b
            if i + 1 < len(layers):
                h = np.maximum(h, 0)
        h -= h.max(1, keepdims=True)
        p = np.exp(h)
        p1 = p[:, 1] / p.sum(1)
        yy = y[idx]
        s = stats[name]
        support = [int((yy == c).sum()) for c in (0, 1)]
        want_support = [s["per_class"][c]["support"] for c in CLASSES]
        # the confusion matrix from float64 scores may differ from pefleet's
        # float32 ones only for rows whose p1 is within rounding of 0.5
        pred = (p1 >= 0.5).astype(int)
        cm = [[int(((yy == t) & (pred == q)).sum()) for q in (0, 1)] for t in (0, 1)]
        edge = int((np.abs(p1 - 0.5) < 1e-5).sum())
        diff = sum(abs(cm[t][q] - s["cm"][t][q]) for t in (0, 1) for q in (0, 1))
        ok = len(idx) == s["n"] and support == want_support and diff <= 2 * edge
        bad += not ok
        print("check %-10s rows %6d (pefleet %6d)  per class %s (pefleet %s)  cm %s (pefleet %s)  %s"
              % (name, len(idx), s["n"], support, want_support, cm, s["cm"], "same" if ok else "DIFFERENT"))
    sys.exit(1 if bad else 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("synth")
    s.add_argument("--vectors", required=True)
    s.add_argument("--rows", type=int, default=30000)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--out", required=True)
    t = sub.add_parser("train")
    t.add_argument("--csv", required=True)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--epochs", type=int, default=10)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--out", required=True)
    c = sub.add_parser("check")
    c.add_argument("--csv", required=True)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--model", required=True)
    a = ap.parse_args()
    {"synth": cmd_synth, "train": cmd_train, "check": cmd_check}[a.cmd](a)


if __name__ == "__main__":
    main()
