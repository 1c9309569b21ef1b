#!/usr/bin/env bash
# The house's layering (issue 15, README "Layout"): lib/ is layered
# base < pe < model < store < eval < net < report (LIB_LAYERS in the
# Makefile); a file of lib/ includes its own layer's headers and lower
# ones, never a higher layer's nor a program's; no folder but cli/
# includes a header of cli/; the include graph of the whole tree has no
# cycle; each folder of lib/ and each program folder has a README.
. "$(dirname "$0")/lib/common.sh"
cd "$ROOT"
python3 - <<'PY' >"$T/out" 2>&1
import os, re, glob, sys
layers = re.search(r'^LIB_LAYERS := (.*)$', open("Makefile").read(), re.M).group(1).split()
rank = {l: i for i, l in enumerate(layers)}
where = {}  # header name -> its path
for d in ["lib/" + l for l in layers] + ["cli", "sandbox", "supervisor", "broker", "encoder-worker", "scorer",
                                         "trainer", "gateway", "similar", "clamd"]:
    for h in glob.glob(d + "/*.h"):
        where.setdefault(os.path.basename(h), h)
files = [f for d in ["lib/" + l for l in layers] + ["cli", "sandbox", "supervisor", "broker", "encoder-worker",
                                                     "scorer", "trainer", "gateway", "similar", "clamd"]
         for f in glob.glob(d + "/*.[ch]")]
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
graph, bad = {}, []
for f in files:
    deps = []
    for name in inc.findall(open(f, errors="replace").read()):
        base = os.path.basename(name)
        if "/" in name and name.startswith(".."):
            bad.append(f"{f}: includes {name} by a relative path")
        t = where.get(base)
        if t is None:
            continue  # generated (pefleet.pb-c.h) or a system-ish header
        deps.append(t)
        fl, tl = f.split("/"), t.split("/")
        if fl[0] == "lib":
            if tl[0] != "lib":
                bad.append(f"{f}: lib/ includes the program header {t}")
            elif rank[tl[1]] > rank[fl[1]]:
                bad.append(f"{f}: layer {fl[1]} includes {t} of the higher layer {tl[1]}")
        if tl[0] == "cli" and fl[0] != "cli":
            bad.append(f"{f}: includes {t} of cli/")
    graph[f] = deps
# cycles among headers and their sources (a.c/a.h are one node)
node = lambda p: p[:-2]
g = {}
for f, deps in graph.items():
    g.setdefault(node(f), set()).update(node(d) for d in deps if node(d) != node(f))
state, stack = {}, []
def visit(n):
    state[n] = 1; stack.append(n)
    for m in sorted(g.get(n, ())):
        if state.get(m) == 1:
            bad.append("include cycle: " + " -> ".join(stack[stack.index(m):] + [m]))
        elif m not in state:
            visit(m)
    stack.pop(); state[n] = 2
for n in sorted(g):
    if n not in state:
        visit(n)
for d in ["lib/" + l for l in layers] + ["sandbox", "supervisor"]:
    if not os.path.isfile(d + "/README.md"):
        bad.append(f"{d}: no README.md")
print(f"{len(files)} files, {sum(len(v) for v in graph.values())} includes, layers {' < '.join(layers)}")
for b in bad:
    print("BAD " + b)
sys.exit(1 if bad else 0)
PY
rc=$?
sed 's/^/# /' "$T/out"
if [ $rc -eq 0 ]; then ok "layering ($(head -1 "$T/out"))"
else notok layering "$(grep -c '^BAD' "$T/out") violations: $(grep '^BAD' "$T/out" | head -3 | tr '\n' ' ')"; fi
finish
