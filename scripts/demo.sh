#!/bin/sh
# The main job: serve uvfio's edu device over vfio-user in one process and
# drive it end to end from another through the client API.
set -eu
cd "$(dirname "$0")/.."
uvfio=build/tools/uvfio/uvfio
dir=$(mktemp -d /tmp/uvfio-demo.XXXXXX)
sock=$dir/edu.sock
cleanup() { [ -n "${srv:-}" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

echo "== uvfio serve edu --socket $sock"
$uvfio serve edu --socket "$sock" &
srv=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done

echo "== uvfio info vfio-user:$sock"
$uvfio info "vfio-user:$sock"
echo "== edu-driver (DMA through the shared memfd)"
build/examples/edu-driver "vfio-user:$sock"
echo "== edu-driver --no-fd (DMA through DMA_READ/DMA_WRITE messages)"
build/examples/edu-driver --no-fd "vfio-user:$sock"
echo "== stopping the server"
kill -TERM "$srv"; wait "$srv"; srv=
[ ! -e "$sock" ] && echo "socket removed; demo done"
