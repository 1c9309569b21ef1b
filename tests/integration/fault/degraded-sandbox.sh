#!/bin/sh
# Fault injection: the real sandbox as on a kernel without namespaces or
# Landlock (build/tools/deny_confine); it must say so and still parse.
root=$(cd "$(dirname "$0")/../../.." && pwd)
exec "$root/build/tools/deny_confine" "$root/bin/pefleet-sandbox" "$@"
