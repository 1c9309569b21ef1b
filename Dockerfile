# pefleet image: Debian 12, built from this repository.
FROM debian:12
WORKDIR /src
COPY . .
RUN apt-get update && make deps && make && install -m 0755 bin/pefleet bin/pefleet-sandbox /usr/local/bin/ \
 && rm -rf /var/lib/apt/lists/*
ENTRYPOINT []
