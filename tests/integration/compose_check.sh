#!/usr/bin/env bash
# compose.yaml: valid for Debian's docker-compose (`make compose-check`
# runs the same `config`), and says what the fleet needs: every service
# present, workers and scorers replicated, Redis with AOF and a password
# handed over as a file (a compose secret, never an environment variable),
# CURVE on for every daemon with a key the keygen service makes into that
# daemon's own key volume (no server key where hostile files are parsed),
# the gateway published on 127.0.0.1 unless told otherwise, the GPU trainer
# behind its own profile, every PEFLEET_* variable a real setting, every
# program built. (make compose-test runs the stack for real.)
. "$(dirname "$0")/lib/common.sh"
command -v docker-compose >/dev/null || { skip compose_check "docker-compose not installed (make deps installs it)"; exit 0; }
C=$ROOT/compose.yaml
DC="docker-compose -f $C --profile train --profile train-gpu --profile tools"

export PEFLEET_SECRETS=$T/secrets
bash "$ROOT/scripts/compose_env.sh" "$T" >/dev/null
check compose_env_makes_a_password test "$(wc -c <"$T/secrets/redis_password")" -eq 64
cp "$T/secrets/redis_password" "$T/pw.before"
bash "$ROOT/scripts/compose_env.sh" "$T" >/dev/null
check compose_env_keeps_the_password cmp -s "$T/pw.before" "$T/secrets/redis_password"
if env -u PEFLEET_GATEWAY_ADDRESS $DC config -q 2>"$T/err"; then ok compose_config_valid
else notok compose_config_valid "$(tr '\n' ' ' <"$T/err")"; finish; fi

env -u PEFLEET_GATEWAY_ADDRESS $DC config >"$T/norm.yaml" 2>"$T/err"
PEFLEET_GATEWAY_ADDRESS=10.1.2.3 $DC config >"$T/elsewhere.yaml" 2>"$T/err"
python3 - "$T/norm.yaml" "$ROOT/lib/net/pf_config.c" "$BIN" "$ROOT" "$T/elsewhere.yaml" <<'PY'
import os, re, sys, yaml
norm, cfg_src, bindir, root, elsewhere = sys.argv[1:6]
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
check("compose_redis_aof_and_password", "--appendonly yes" in cmd and re.search(r"^requirepass ", cmd, re.M), cmd)
check("compose_redis_has_a_volume", any(str(v.get("target", v) if isinstance(v, dict) else v).find("/var/lib/pefleet/redis") >= 0
                                         for v in svc["redis"].get("volumes", [])), str(svc["redis"].get("volumes")))
ports = svc["gateway"].get("ports", [])
check("compose_gateway_publishes_8080", any("8080" in str(p) for p in ports), str(ports))
def host_ips(s):
    return [p.get("host_ip") if isinstance(p, dict) else str(p).rsplit(":", 2)[0] for p in s["gateway"].get("ports", [])]
check("compose_gateway_on_127_0_0_1_by_default", host_ips(svc) == ["127.0.0.1"], str(host_ips(svc)))
e = yaml.safe_load(open(elsewhere))["services"]["gateway"]
gcmd = " ".join(e["command"] if isinstance(e["command"], list) else [e["command"]])
check("compose_gateway_address_is_a_variable", host_ips({"gateway": e}) == ["10.1.2.3"] and
      e["environment"].get("GATEWAY_PUBLISHED_ADDRESS") == "10.1.2.3", str(host_ips({"gateway": e})))
check("compose_gateway_elsewhere_needs_the_token", "--token-file" in gcmd and "127.0.0.1|" in gcmd, gcmd)
# secrets as files: no password in any environment, every Redis client reads the secret
for n, x in svc.items():
    env = x.get("environment", {}) or {}
    check("compose_%s_no_password_in_environment" % n, "PEFLEET_REDIS_PASSWORD" not in env and
          not any("password" in str(v).lower() and "/run/secrets/" not in str(v) for v in env.values()), str(env))
    if n != "keygen":
        sec = [s.get("source") if isinstance(s, dict) else s for s in x.get("secrets", [])]
        check("compose_%s_gets_the_password_file" % n, "redis_password" in sec, str(sec))
check("compose_redis_password_on_stdin", re.search(r"^requirepass \$+\(cat /run/secrets/redis_password\)", cmd, re.M) and " - <<" in cmd
      and "--requirepass" not in cmd, cmd)
# one key volume per role: no server key where hostile files are parsed
def mounts(n):
    return {(v.get("source"), v.get("target")) if isinstance(v, dict) else tuple(str(v).split(":")[:2]) for v in svc[n].get("volumes", [])}
for n in ("encoder-worker", "scorer", "gateway", "cli", "trainer"):
    srcs = {s for s, t in mounts(n)}
    check("compose_%s_no_server_keys" % n, "keys-server" not in srcs and not any(str(s).startswith("allowed-") for s in srcs), str(srcs))
for n, lists in (("broker", {"clients", "workers"}), ("score-router", {"clients", "scorers"}), ("similar", {"clients"})):
    got = {s[len("allowed-"):] for s, t in mounts(n) if str(s).startswith("allowed-")}
    check("compose_%s_allow_lists_of_its_roles" % n, got == lists and ("keys-server", "/var/lib/pefleet/keys") in mounts(n), str(mounts(n)))
nets = d.get("networks", {})
check("compose_fleet_network_internal", (nets.get("default") or {}).get("internal") is True and
      set(svc["gateway"].get("networks", {})) == {"default", "edge"}, str(nets))
check("compose_trainer_on_demand", svc["trainer"].get("profiles") == ["train"] and svc["trainer-gpu"].get("profiles") == ["train-gpu"])
devs = svc["trainer-gpu"].get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices", [])
check("compose_gpu_reservation", any(x.get("driver") == "nvidia" and "gpu" in x.get("capabilities", []) for x in devs), str(devs))
check("compose_shared_store_and_models_volumes", {"store", "models"} <= set(d.get("volumes", {})))
check("compose_one_key_volume_per_role", {"keys-server", "keys-worker", "keys-scorer", "keys-gateway", "keys-cli", "keys-trainer"}
      <= set(d.get("volumes", {})) and "keys" not in d.get("volumes", {}), str(sorted(d.get("volumes", {}))))
nobuild = [n for n, x in svc.items() if str(x.get("image", "")).startswith("pefleet") and "build" not in x]
check("compose_every_pefleet_service_builds_the_image", not nobuild, "no build: %s (it would be pulled)" % nobuild)

# the settings pf_config knows
src = open(cfg_src).read()
table = src[src.index("keys[] = {"):]
table = table[:table.index("};")]
keys = set(re.findall(r"\bS\((\w+)\)", table)) | set(re.findall(r"\bI\((\w+),", table)) | set(re.findall(r'\{"(\w+)", \'s\'', table))
keygen_cmd = " ".join(svc["keygen"]["command"])
made = {"server"} | {e.split(":")[0] for e in re.findall(r"for e in ([^;]*);", keygen_cmd)[0].split()}
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
    if isinstance(c, list) and c and c[0].startswith("pefleet"): progs.add(c[0])
    elif isinstance(c, list) and c: progs |= set(re.findall(r"\bexec (pefleet[\w-]*)", " ".join(c)))
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
check dockerfile_builds_with_make_deps_build_and_make sh -c "grep -q 'make deps-build' '$DF' && grep -q 'make -j.* programs' '$DF'"
check dockerfile_no_test_packages sh -c "! grep -Eq 'make deps( |$)|make deps-test' '$DF'"
check dockerfile_installs_the_programs grep -q 'COPY --from=build /src/bin/ /usr/local/bin/' "$DF"
finish
