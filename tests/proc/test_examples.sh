#!/bin/sh
# examples/minimal-device served, examples/minimal-driver driving it, each
# under 100 lines as promised.
#   test_examples.sh MINIMAL_DEVICE MINIMAL_DRIVER SRCDIR
set -u
dev=$1 drv=$2 src=$3
dir=$(mktemp -d /tmp/uvfio-ex-XXXXXX)
fail=0 pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
check() { what=$1; shift; if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi; }

for f in minimal-device.c minimal-driver.c; do
	n=$(wc -l <"$src/examples/$f")
	check "$f: $n lines, under 100" [ "$n" -lt 100 ]
done
"$dev" "$dir/m.sock" >"$dir/dev.out" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q ready "$dir/dev.out" 2>/dev/null && break; sleep 0.1; done
out=$("$drv" "vfio-user:$dir/m.sock"); rc=$?
check "driver: exit 0" [ $rc -eq 0 ]
check "driver: info, ID, scratch, interrupt, reset" sh -c 'echo "$1" | tr "\n" " " | grep -q "regions 1 irqs 1 reset yes id 0x6d696e31 scratch 0xc0ffee ok interrupt 1 after reset scratch 0"' - "$out"
out=$("$drv" "vfio-user:$dir/m.sock"); rc=$?
check "a second run after the first left: exit 0" [ $rc -eq 0 ]
kill "$pid"; wait "$pid"; rc=$?; pid=
check "device: exit 0 on SIGTERM, socket removed" sh -c '[ $1 -eq 0 ] && [ ! -e "$2" ]' - $rc "$dir/m.sock"
"$drv" "vfio-user:$dir/m.sock" >/dev/null 2>"$dir/err"; rc=$?
check "driver without a device: exit 1, names the location" sh -c '[ $1 -eq 1 ] && grep -q "m.sock: open:" "$2"' - $rc "$dir/err"
exit $fail
