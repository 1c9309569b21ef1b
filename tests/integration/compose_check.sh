#!/usr/bin/env bash
# compose.yaml: valid for Debian's docker-compose (`make compose-check`
# runs the same `config`), refuses to start without a Redis password, and
# says what the fleet needs: every service present, workers and scorers
# replicated, Redis with AOF and a password, CURVE on for every daemon with
# a key the keygen service makes, the GPU trainer behind its own profile,
# every PEFLEET_* variable a real setting, every program built.
. "$(dirname "$0")/lib/common.sh"
command -v docker-compose >/dev/null || { skip compose_check "docker-compose not installed (make deps installs it)"; exit 0; }
C=$ROOT/compose.yaml
DC="docker-compose -f $C --profile train --profile train-gpu --profile tools"

if PEFLEET_REDIS_PASSWORD=compose-check $DC config -q 2>"$T/err"; then ok compose_config_valid
else notok compose_config_valid "$(tr '\n' ' ' <"$T/err")"; finish; fi

env -u PEFLEET_REDIS_PASSWORD $DC config -q >/dev/null 2>"$T/nopass"
check compose_refuses_without_redis_password grep -q 'PEFLEET_REDIS_PASSWORD' "$T/nopass"

PEFLEET_REDIS_PASSWORD=compose-check $DC config >"$T/norm.yaml" 2>"$T/err"
python3 - "$T/norm.yaml" "$ROOT/lib/pf_config.c" "$BIN" "$ROOT" <<'PY'
import os, re, sys, yaml
norm, cfg_src, bindir, root = sys.argv[1:5]
d = yaml.safe_load(open(norm))
svc = d["services"]
fails = 0
def check(name, cond, why=""):
    global fails
    if cond: print("ok - " + name)
    else:
        print("not ok - %s: %s" % (name, why)); fails += 1

want = {"redis", "keygen", "broker", "encoder-worker", "score-router", "scorer", "similar", "gateway", "trainer", "trainer-gpu"}
check("compose_has_every_service", want <= set(svc), "missing %s" % sorted(want - set(svc)))
for s in ("encoder-worker", "scorer"):
    check("compose_%s_replicated" % s, svc[s].get("deploy", {}).get("replicas", 0) >= 2, str(svc[s].get("deploy")))
cmd = " ".join(svc["redis"]["command"] if isinstance(svc["redis"]["command"], list) else [svc["redis"]["command"]])
check("compose_redis_aof_and_password", "--appendonly yes" in cmd and "--requirepass" in cmd, cmd)
check("compose_redis_has_a_volume", any(str(v.get("target", v) if isinstance(v, dict) else v).find("/var/lib/pefleet/redis") >= 0
                                         for v in svc["redis"].get("volumes", [])), str(svc["redis"].get("volumes")))
ports = svc["gateway"].get("ports", [])
check("compose_gateway_publishes_8080", any("8080" in str(p) for p in ports), str(ports))
check("compose_trainer_on_demand", svc["trainer"].get("profiles") == ["train"] and svc["trainer-gpu"].get("profiles") == ["train-gpu"])
devs = svc["trainer-gpu"].get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices", [])
check("compose_gpu_reservation", any(x.get("driver") == "nvidia" and "gpu" in x.get("capabilities", []) for x in devs), str(devs))
check("compose_shared_store_and_models_volumes", {"store", "models", "keys"} <= set(d.get("volumes", {})))
nobuild = [n for n, x in svc.items() if str(x.get("image", "")).startswith("pefleet") and "build" not in x]
check("compose_every_pefleet_service_builds_the_image", not nobuild, "no build: %s (it would be pulled)" % nobuild)

# the settings pf_config knows
src = open(cfg_src).read()
table = src[src.index("keys[] = {"):]
table = table[:table.index("};")]
keys = set(re.findall(r"\bS\((\w+)\)", table)) | set(re.findall(r"\bI\((\w+),", table)) | set(re.findall(r'\{"(\w+)", \'s\'', table))
keygen_cmd = " ".join(svc["keygen"]["command"])
made = set(re.findall(r"for n in ([^;]*);", keygen_cmd)[0].split())
daemons = [n for n in svc if n not in ("redis", "keygen")]
for n in daemons:
    env = svc[n].get("environment", {})
    unknown = [k for k in env if k.startswith("PEFLEET_") and k[8:].lower() not in keys and k != "PEFLEET_DATA"]
    check("compose_%s_env_are_settings" % n, not unknown, "no such setting: %s" % unknown)
    key = os.path.basename(env.get("PEFLEET_CURVE_SECRET_FILE", ""))
    check("compose_%s_curve_on_with_a_made_key" % n, env.get("PEFLEET_CURVE") == "1" and key[:-4] in made and key.endswith(".key"),
          "curve %s, key %s, keygen makes %s" % (env.get("PEFLEET_CURVE"), key, sorted(made)))

# the programs compose starts
progs = set()
for n in daemons:
    c = svc[n].get("command", [])
    if isinstance(c, list) and c: progs.add(c[0])
src_dir = {"pefleet-gateway": "gateway", "pefleet-similar": "similar", "pefleet-score-router": "scorer", "pefleet-scorer": "scorer"}
for p in sorted(progs):
    if os.access(os.path.join(bindir, p), os.X_OK): print("ok - compose_program_built %s" % p)
    elif p in src_dir and not os.path.isdir(os.path.join(root, src_dir[p])):
        print("skipped: compose_program_built %s: its source (%s/) is not in the tree yet" % (p, src_dir[p]))
    else: check("compose_program_built %s" % p, False, "%s/%s missing (make)" % (bindir, p))
sys.exit(1 if fails else 0)
PY
[ $? -eq 0 ] || FAILS=$((FAILS + 1))

# the image compose builds: Debian 12, this repository's own deps and build
DF=$ROOT/Dockerfile
check dockerfile_debian12_base sh -c "grep -q '^FROM debian:12' '$DF' && ! grep '^FROM' '$DF' | grep -vq 'debian:12'"
check dockerfile_builds_with_make_deps_and_make sh -c "grep -q 'make deps' '$DF' && grep -q 'make -j' '$DF'"
check dockerfile_installs_the_programs grep -q 'COPY --from=build /src/bin/ /usr/local/bin/' "$DF"
finish
