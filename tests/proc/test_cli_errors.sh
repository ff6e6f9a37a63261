#!/bin/sh
# Errors for people: each subcommand's failures name the thing and the reason,
# and exit 1 (operation failed) or 2 (bad command line), as README and man
# uvfio document.
#   test_cli_errors.sh UVFIO_BINARY
set -u
uvfio=$1
dir=$(mktemp -d /tmp/uvfio-err-XXXXXX)
fail=0
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/sys/bus/pci/devices"

expect() { # exit code, stderr pattern (grep -E), command...
	want=$1 pat=$2; shift 2
	err=$("$@" 2>&1 >/dev/null); rc=$?
	if [ $rc -eq "$want" ] && echo "$err" | grep -Eq -e "$pat"; then
		echo "ok   $*"
	else
		echo "FAIL $* -> exit $rc: $err (want $want, /$pat/)"
		fail=1
	fi
}

expect 2 "'nonsense' is not a command" "$uvfio" nonsense
expect 1 "^uvfio: $dir/no.sock: no such file or directory \(is 'uvfio serve' running\?\)" \
	"$uvfio" info "$dir/no.sock"
expect 2 "--listen PATH and --connect PATH are required" "$uvfio" trace --listen "$dir/t.sock"
expect 1 "^uvfio: /nonexistent/t.sock: no such file or directory \(its directory does not exist\)" \
	"$uvfio" trace --listen /nonexistent/t.sock --connect "$dir/no.sock"
expect 1 "0000:99:00.0: no such PCI device" env UVFIO_SYSFS_ROOT="$dir/sys" "$uvfio" unbind 0000:99:00.0
expect 1 "0000:99:00.0: no such PCI device" env UVFIO_SYSFS_ROOT="$dir/sys" "$uvfio" bind 0000:99:00.0
expect 2 "'bad' is not a PCI address" "$uvfio" bind bad
expect 1 "^uvfio: $dir/none: no such file or directory \(is 'uvfio serve mdev' running" \
	"$uvfio" mdev list --control "$dir/none"
expect 2 "--control PATH is required" "$uvfio" mdev list
expect 1 "^uvfio: serve mdev mtty: /nonexistent/d: no such file or directory \(create the directory first\)" \
	"$uvfio" serve mdev mtty --dir /nonexistent/d
expect 1 "/nonexistent/x.sock.*(N|n)o such file or directory \(its directory does not exist\)" \
	"$uvfio" serve edu --socket /nonexistent/x.sock
expect 2 "unknown device 'nope'" "$uvfio" serve nope --socket "$dir/x.sock"
expect 2 "'nope' is not a benchmark" "$uvfio" bench nope
expect 1 "^uvfio: $dir/a.sock: no such file or directory \(is 'uvfio serve' running\?\)" \
	"$uvfio" migrate --from "$dir/a.sock" --to "$dir/b.sock"
out=$(UVFIO_SYSFS_ROOT="$dir/sys" "$uvfio" ls --dir /nonexistent 2>&1); rc=$?
if [ $rc -eq 0 ] && echo "$out" | grep -q "/nonexistent: none (no such file or directory)"; then
	echo "ok   ls --dir /nonexistent"
else
	echo "FAIL ls --dir /nonexistent -> $rc: $out"; fail=1
fi
exit $fail
