# The container engine of `make compose-test` (sourced): a dockerd of our
# own unless one is reachable, and the debian:12 base image made from
# Debian's archive with debootstrap (no image registry is reachable here).
#
#   engine_start        sets DOCKER_HOST; prints "skipped: no container engine: WHY" and exits 0
#                       when dockerd cannot start
#   engine_stop         stops our dockerd by its pid (a no-op for an engine we did not start)
#   engine_base_image   makes debian:12 once; later runs reuse it
#
# Our dockerd keeps its images and build cache in $PEFLEET_COMPOSE_CACHE
# (default /var/cache/pefleet-compose-test/data-root), so later runs on the
# same machine (CI included) reuse the base image and every cached build
# layer; its exec-root, socket and pid file live in a temporary folder.
# A lock on the cache folder keeps two runs from sharing one data-root.
# Needs: tests/integration/lib/common.sh sourced (skip, $T).

COMPOSE_CACHE=${PEFLEET_COMPOSE_CACHE:-/var/cache/pefleet-compose-test}
ENGINE_DIR=""
ENGINE_PID=""

# engine_reachable: 0 when `docker info` answers at $DOCKER_HOST (or the default socket)
engine_reachable() { docker info >/dev/null 2>&1; }

engine_start() {
  if engine_reachable; then
    echo "  engine: using the reachable one (${DOCKER_HOST:-unix:///var/run/docker.sock})"
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    skip compose_test "no container engine: none reachable and dockerd needs root"; exit 0
  fi
  command -v dockerd >/dev/null || { skip compose_test "no container engine: dockerd not installed (make deps-test)"; exit 0; }
  mkdir -p "$COMPOSE_CACHE/data-root" || { skip compose_test "no container engine: cannot make $COMPOSE_CACHE"; exit 0; }
  exec 9>"$COMPOSE_CACHE/lock"
  if ! flock -w 1200 9; then skip compose_test "no container engine: $COMPOSE_CACHE is held by another run"; exit 0; fi
  ENGINE_DIR=$(mktemp -d /tmp/pefleet-dockerd.XXXXXX)
  # --bridge none: no docker0 (the stack makes its own networks, builds use
  # the host's network), so it cannot collide with another engine's bridge
  dockerd --data-root "$COMPOSE_CACHE/data-root" --exec-root "$ENGINE_DIR/exec" \
    -H "unix://$ENGINE_DIR/docker.sock" --pidfile "$ENGINE_DIR/dockerd.pid" --bridge none \
    >"$ENGINE_DIR/dockerd.log" 2>&1 &
  ENGINE_PID=$!
  export DOCKER_HOST="unix://$ENGINE_DIR/docker.sock"
  for _ in $(seq 600); do
    engine_reachable && break
    if ! kill -0 "$ENGINE_PID" 2>/dev/null; then
      local why
      why=$(grep -E 'level=(fatal|error)|failed to start' "$ENGINE_DIR/dockerd.log" | tail -1)
      [ -n "$why" ] || why=$(tail -1 "$ENGINE_DIR/dockerd.log")
      skip compose_test "no container engine: $why"
      ENGINE_PID=""; rm -rf "$ENGINE_DIR"; exit 0
    fi
    sleep 0.1
  done
  if ! engine_reachable; then
    skip compose_test "no container engine: dockerd (pid $ENGINE_PID) did not answer in 60 s: $(tail -1 "$ENGINE_DIR/dockerd.log")"
    engine_stop; exit 0
  fi
  echo "  engine: dockerd $(docker version -f '{{.Server.Version}}' 2>/dev/null) started (pid $ENGINE_PID, data-root $COMPOSE_CACHE/data-root)"
}

engine_stop() {
  [ -n "$ENGINE_PID" ] || return 0
  kill -TERM "$ENGINE_PID" 2>/dev/null
  for _ in $(seq 300); do kill -0 "$ENGINE_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$ENGINE_PID" 2>/dev/null
  wait "$ENGINE_PID" 2>/dev/null
  ENGINE_PID=""
  # dockerd leaves its default network namespace mounted in the exec-root
  awk -v d="$ENGINE_DIR/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount "$m"; done
  rm -rf "$ENGINE_DIR"
}

# engine_base_image: debian:12 from Debian's archive, made once per engine
engine_base_image() {
  if docker image inspect debian:12 >/dev/null 2>&1; then echo "  base image: debian:12 cached"; return 0; fi
  command -v debootstrap >/dev/null || { notok base_image "debootstrap not installed (make deps-test)"; return 1; }
  local root t0=$SECONDS
  root=$(mktemp -d /tmp/pefleet-rootfs.XXXXXX)
  if ! debootstrap --variant=minbase bookworm "$root" "${PEFLEET_DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
       >"$T/debootstrap.log" 2>&1; then
    notok base_image "debootstrap failed: $(tail -3 "$T/debootstrap.log" | tr '\n' ' ')"; rm -rf "$root"; return 1
  fi
  echo "deb http://deb.debian.org/debian-security bookworm-security main" >>"$root/etc/apt/sources.list"
  # the downloaded .debs, package lists, manuals and translations stay out
  if ! tar -C "$root" --exclude=./var/cache/apt/archives/*.deb --exclude=./var/lib/apt/lists/*_* \
        --exclude=./usr/share/doc/* --exclude=./usr/share/man/* --exclude=./usr/share/locale/* -c . |
       docker import - debian:12 >/dev/null; then
    notok base_image "docker import failed"; rm -rf "$root"; return 1
  fi
  rm -rf "$root"
  echo "  base image: debian:12 made with debootstrap in $((SECONDS - t0)) s"
}
