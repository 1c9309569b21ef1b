# pefleet image: Debian 12, built from this repository. One image runs every
# role of compose.yaml (redis, broker, encoder-worker, score router, scorer,
# similarity service, gateway, trainer, keygen, the CLI).
#
#   docker build --network host -t pefleet .
#
# Stage 1 installs only what building needs (`make deps-build`: no test
# tools) and builds the programs (`make programs GPU=0`: the CUDA toolkit is
# not in Debian's images; a GPU image would start FROM nvidia/cuda and build
# with GPU=auto). Stage 2 holds the programs and their run-time libraries
# only. `make compose-test` checks the image stays under its size limit.
FROM debian:12 AS build
WORKDIR /src
# the packages first, from the Makefile alone: a change to the sources
# rebuilds from the layer below, not the apt-get
COPY Makefile ./
RUN apt-get update \
 && apt-get install -y --no-install-recommends make \
 && make deps-build \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make clean && make -j"$(nproc)" GPU=0 programs
# the Debian packages that hold the libraries the programs load (the run-time
# halves of the -dev packages in DEB_BUILD_PACKAGES), for stage 2
RUN for b in bin/*; do ldd "$b"; done | awk '$3 ~ /^\// {print $3}' | sort -u | xargs -r readlink -f \
  | xargs -r dpkg -S 2>/dev/null | cut -d: -f1 | sort -u >runtime-packages.txt \
 && test -s runtime-packages.txt && cat runtime-packages.txt

FROM debian:12
# the run-time libraries found in stage 1, redis-server (with redis-cli) for
# the redis service, and curl for the gateway's health check; no manuals,
# documents or translations
COPY --from=build /src/runtime-packages.txt /tmp/
RUN printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\npath-exclude /usr/share/info/*\n' \
      >/etc/dpkg/dpkg.cfg.d/pefleet-nodoc \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      $(cat /tmp/runtime-packages.txt) redis-server redis-tools curl \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/runtime-packages.txt
COPY --from=build /src/bin/ /usr/local/bin/
# fail the build here, not at run time, when a run-time library is missing
RUN for b in /usr/local/bin/pefleet*; do \
      if ldd "$b" | grep 'not found'; then echo "missing library for $b" >&2; exit 1; fi; done
# one unprivileged user owns the data; named volumes mounted on these
# folders start out owned by it (keygen/ holds the mount points of the
# one-shot keygen service: one key volume per role)
RUN useradd --system --uid 10001 --home-dir /var/lib/pefleet --shell /usr/sbin/nologin pefleet \
 && mkdir -p /var/lib/pefleet/store /var/lib/pefleet/models /var/lib/pefleet/keys /var/lib/pefleet/redis \
      /var/lib/pefleet/keygen/server /var/lib/pefleet/keygen/worker /var/lib/pefleet/keygen/scorer \
      /var/lib/pefleet/keygen/gateway /var/lib/pefleet/keygen/cli /var/lib/pefleet/keygen/trainer /var/lib/pefleet/keygen/clamd \
      /var/lib/pefleet/keygen/allowed-clients /var/lib/pefleet/keygen/allowed-workers /var/lib/pefleet/keygen/allowed-scorers \
 && chown -R pefleet:pefleet /var/lib/pefleet && chmod 0700 /var/lib/pefleet/keys /var/lib/pefleet/keygen/*
USER pefleet
WORKDIR /var/lib/pefleet
ENV PEFLEET_DATA=/var/lib/pefleet
CMD ["pefleet", "--help"]
