# pefleet image: Debian 12, built from this repository. One image runs every
# role of compose.yaml (redis, broker, encoder-worker, score router, scorer,
# similarity service, gateway, trainer, keygen, the CLI).
#
#   docker build -t pefleet .
#
# Stage 1 builds with the project's own `make deps && make` (GPU=0: the
# CUDA toolkit is not in Debian's images; a GPU image would start FROM
# nvidia/cuda and build with GPU=auto). Stage 2 holds the programs and
# the run-time libraries only.
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN apt-get update \
 && apt-get install -y --no-install-recommends make \
 && make deps \
 && make clean && make -j"$(nproc)" GPU=0 \
 && rm -rf /var/lib/apt/lists/*
# the Debian packages that hold the libraries the programs load (the run-time
# halves of the -dev packages in the Makefile's DEB_PACKAGES), for stage 2
RUN for b in bin/*; do ldd "$b"; done | awk '$3 ~ /^\// {print $3}' | sort -u | xargs -r readlink -f \
  | xargs -r dpkg -S 2>/dev/null | cut -d: -f1 | sort -u >runtime-packages.txt \
 && test -s runtime-packages.txt && cat runtime-packages.txt

FROM debian:12
# the run-time libraries found in stage 1, redis-server (with redis-cli) for
# the redis service, and curl for the gateway's health check
COPY --from=build /src/runtime-packages.txt /tmp/
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      $(cat /tmp/runtime-packages.txt) redis-server redis-tools curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt
COPY --from=build /src/bin/ /usr/local/bin/
# fail the build here, not at run time, when a run-time library is missing
RUN for b in /usr/local/bin/pefleet*; do \
      if ldd "$b" | grep 'not found'; then echo "missing library for $b" >&2; exit 1; fi; done
# one unprivileged user owns the data; named volumes mounted on these
# folders start out owned by it
RUN useradd --system --uid 10001 --home-dir /var/lib/pefleet --shell /usr/sbin/nologin pefleet \
 && mkdir -p /var/lib/pefleet/store /var/lib/pefleet/models /var/lib/pefleet/keys /var/lib/pefleet/redis \
 && chown -R pefleet:pefleet /var/lib/pefleet
USER pefleet
WORKDIR /var/lib/pefleet
ENV PEFLEET_DATA=/var/lib/pefleet
CMD ["pefleet", "--help"]
