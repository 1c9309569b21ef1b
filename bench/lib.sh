# Shared helpers of the benchmark scripts (sourced).

# working_set DIR N TAG FILE...: fills DIR with N files taken from FILE...
# round-robin (NNNN-name); every copy after the first round gets a line
# "TAG copy K" appended, so all N have distinct sha256s. Sets BYTES to
# their total size and reads them once into the page cache.
working_set() {
  local dir=$1 n=$2 tag=$3
  shift 3
  local src=("$@") i f k dst
  mkdir -p "$dir"
  for ((i = 0; i < n; i++)); do
    f=${src[i % ${#src[@]}]}
    k=$((i / ${#src[@]}))
    dst=$(printf '%s/%04d-%s' "$dir" "$i" "$(basename "$f")")
    cp "$f" "$dst"
    if [ "$k" -gt 0 ]; then printf '%s copy %d\n' "$tag" "$k" >>"$dst"; fi
  done
  BYTES=$(find "$dir" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d", s}')
  cat "$dir"/* >/dev/null
}

# free_ports N: N free loopback ports on one line (bound at once: distinct).
free_ports() {
  python3 -c '
import socket, sys
s=[socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1",0))
print(*[x.getsockname()[1] for x in s])' "$1"
}
