#!/usr/bin/env bash
# compose_env.sh [DIR]: what compose.yaml needs before `docker compose up`,
# made once in DIR (default: the current folder) and never replaced:
#   DIR/secrets/redis_password  64 hex characters from /dev/urandom (the
#                               folder 0700; the file owned by the image's
#                               user, uid 10001, mode 0400 when run as root,
#                               else 0644 inside the 0700 folder)
#   DIR/.env                    the gateway's host address and port (no secret)
# `make compose-up` runs it, then `docker compose up -d`.
set -eu
dir=${1:-.}
umask 077
mkdir -p "$dir/secrets"
chmod 0700 "$dir/secrets"
pw=$dir/secrets/redis_password
if [ -s "$pw" ]; then
  echo "compose-env: $pw exists, kept"
else
  tmp=$(mktemp "$dir/secrets/.redis_password.XXXXXX")
  od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$tmp"
  # the containers run as uid 10001 (Dockerfile) and read it through a bind mount
  if [ "$(id -u)" = 0 ]; then chown 10001:10001 "$tmp" && chmod 0400 "$tmp"; else chmod 0644 "$tmp"; fi
  mv "$tmp" "$pw"
  echo "compose-env: wrote a new Redis password to $pw"
fi
if [ -e "$dir/.env" ]; then
  echo "compose-env: $dir/.env exists, kept"
else
  umask 022
  cat >"$dir/.env" <<'ENV'
# the gateway's published address and port: 127.0.0.1 is this host only;
# any other address makes the gateway require its bearer token
# (docker compose exec gateway cat /var/lib/pefleet/keys/http.token)
PEFLEET_GATEWAY_ADDRESS=127.0.0.1
PEFLEET_GATEWAY_PORT=8080
ENV
  echo "compose-env: wrote $dir/.env (gateway on 127.0.0.1:8080)"
fi
