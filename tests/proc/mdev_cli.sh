#!/bin/sh
# uvfio serve mdev + uvfio mdev: a CLI round trip over the control socket.
#   mdev_cli.sh PATH/TO/uvfio
set -u
UVFIO=$1
D=$(mktemp -d /tmp/uvfio-mdev-cli.XXXXXX)
PID=
U=0b1e2b3c-4d5e-4f60-8172-8394a5b6c7d8
fail() { echo "FAIL: $*" >&2; cat "$D.log" >&2; [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$D" "$D.log"; exit 1; }
m() { "$UVFIO" mdev "$@" --control "$D/control"; }

"$UVFIO" serve mdev mtty --dir "$D" >"$D.log" 2>&1 &
PID=$!
i=0
while [ ! -S "$D/control" ]; do
	i=$((i + 1)); [ $i -gt 100 ] && fail "control socket never appeared"; sleep 0.05
done

m types | grep -q "^mtty-1	24	vfio-pci	" || fail "types mtty-1"
m types | grep -q "^mtty-2	12	vfio-pci	" || fail "types mtty-2"
m types --json | grep -q '"id":"mtty-2".*"available_instances":12' || fail "types --json"

out=$(m create mtty-2 --uuid "$U") || fail "create"
echo "$out" | grep -q "^$U	mtty-2	$D/$U.sock	pty /dev/" || fail "create output: $out"
[ -S "$D/$U.sock" ] || fail "instance socket missing"
m types | grep -q "^mtty-2	11	" || fail "available did not fall"

m create mtty-2 --uuid "$U" 2>/dev/null && fail "duplicate accepted"
m create mtty-2 --uuid "$U" 2>&1 | grep -qi "File exists (an instance with that UUID exists)" || fail "duplicate errno"
m create mtty-2 --uuid not-a-uuid 2>&1 | grep -qi "Invalid argument" || fail "bad uuid errno"
m create mtty-7 2>&1 | grep -qi "No such file" || fail "unknown type errno"

m list | grep -q "^$U	mtty-2	" || fail "list"
m list --json | grep -q "\"uuid\":\"$U\"" || fail "list --json"

# The instance is a real vfio-user device.
"$UVFIO" info "vfio-user:$D/$U.sock" | grep -q "PCI" || fail "info over the instance socket"

m remove "$U" || fail "remove"
[ -e "$D/$U.sock" ] && fail "socket left after remove"
m types | grep -q "^mtty-2	12	" || fail "available did not rise"
m remove "$U" 2>&1 | grep -qi "No such file.*no such instance" || fail "remove twice errno"
[ -z "$(m list)" ] || fail "list not empty"

kill "$PID"; wait "$PID" || fail "serve exit status"
PID=
[ -e "$D/control" ] && fail "control socket left"
grep -q "created $U (mtty-2)" "$D.log" || fail "serve did not log the create"
# No parent: the message names the control socket and what to check.
err=$(m list 2>&1); rc=$?
[ $rc -eq 1 ] || fail "no parent: exit $rc"
echo "$err" | grep -q "^uvfio: $D/control: .*(is 'uvfio serve mdev' running" || fail "no parent: $err"
rm -rf "$D" "$D.log"
echo ok
