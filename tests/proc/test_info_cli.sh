#!/bin/sh
# `uvfio info` against a real testdev server: text, JSON, and its errors.
#   test_info_cli.sh UVFIO_BINARY TESTDEV_SERVER_BINARY
set -u
uvfio=$1
server=$2
dir=$(mktemp -d /tmp/uvfio-info-XXXXXX)
sock=$dir/dev.sock
fail=0
srv=

cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

check() { # description, command...
	what=$1; shift
	if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}

"$server" "$sock" >"$dir/server.out" 2>&1 &
srv=$!
for _ in $(seq 50); do grep -q ready "$dir/server.out" 2>/dev/null && break; sleep 0.1; done

out=$("$uvfio" info "vfio-user:$sock"); rc=$?
check "text: exit 0" [ $rc -eq 0 ]
check "text: device flags decoded" sh -c 'echo "$1" | grep -q "flags 0x1 RESET"' - "$out"
check "text: sparse area of region 1" sh -c 'echo "$1" | grep -q "mmap areas: \[0x1000, +0x1000)"' - "$out"
check "text: testdev's doorbells (IRQ register, vectors 0-2)" sh -c 'echo "$1" | grep -q "doorbells (ioeventfd): 0x10/8B=0 0x10/8B=0x1 0x10/8B=0x2$"' - "$out"
check "text: irq 0 decoded" sh -c 'echo "$1" | grep -q "count 4 flags 0x3 EVENTFD MASKABLE"' - "$out"

json=$("$uvfio" info "$sock" --json); rc=$?
check "json: exit 0" [ $rc -eq 0 ]
check "json: shape and values" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert set(d) >= {"flags", "regions", "irqs"}, d
assert d["flags"] == 1
r = d["regions"]
assert [x["index"] for x in r] == [0, 1, 2]
assert r[0]["size"] == 256 and r[0]["mmap_areas"] == []
assert r[1]["mmap_areas"] == [{"offset": 4096, "size": 4096}]
assert r[2]["mmap_areas"] == [{"offset": 0, "size": 4096}]
assert r[0]["doorbells"] == [{"offset": 16, "size": 8, "data": v} for v in (0, 1, 2)], r[0]
assert r[1]["doorbells"] == [] and r[2]["doorbells"] == []
assert d["irqs"] == [{"index": 0, "count": 4, "flags": 3}]
' "$json"

kill "$srv"; wait "$srv" 2>/dev/null; srv=
err=$("$uvfio" info "vfio-user:$sock" 2>&1); rc=$?
check "server gone: exit 1" [ $rc -eq 1 ]
check "server gone: names the socket and the reason" \
	sh -c 'echo "$1" | grep -q "^uvfio: vfio-user:$2: \(connection refused\|no such file or directory\) (is .uvfio serve. running?)"' - "$err" "$sock"
"$uvfio" info >/dev/null 2>&1; rc=$?
check "no location: exit 2" [ $rc -eq 2 ]
"$uvfio" info "$sock" --bogus >/dev/null 2>&1; rc=$?
check "unknown option: exit 2" [ $rc -eq 2 ]
err=$("$uvfio" info not-a-location 2>&1); rc=$?
check "unknown location: exit 1 and says so" sh -c '[ $1 -eq 1 ] && echo "$2" | grep -q "not a device location"' - $rc "$err"
exit $fail
