#!/bin/sh
# Ensure the Debian sid chroot the guest tests run QEMU from exists:
#   ${UVFIO_CACHE:-/var/cache/uvfio}/sid  (qemu-system-x86 with vfio-user-pci,
#   the sid kernel and its modules, busybox-static).
# Prints the chroot's path. Built once (about 2.5 min) into a temporary
# directory and renamed on success; fast when cached. Exits 77 (meson: skip)
# only when the Debian mirror cannot be reached.
set -eu

cache=${UVFIO_CACHE:-/var/cache/uvfio}
dir=$cache/sid
mirror=${UVFIO_MIRROR:-http://deb.debian.org/debian}
pkgs=qemu-system-x86,busybox-static,linux-image-amd64

complete() {
	[ -x "$1/usr/bin/qemu-system-x86_64" ] && [ -x "$1/bin/busybox" ] &&
		ls "$1"/boot/vmlinuz-* >/dev/null 2>&1
}

if complete "$dir"; then
	echo "$dir"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "sid-chroot: building $dir needs root" >&2
	exit 77
fi
mkdir -p "$cache"
# One builder at a time (meson runs tests in parallel).
exec 9>"$cache/sid.lock"
flock 9
if complete "$dir"; then
	echo "$dir"
	exit 0
fi

command -v debootstrap >/dev/null || { echo "sid-chroot: debootstrap missing (scripts/deps.sh test)" >&2; exit 1; }

# Reachability first, so that a network outage is a skip and not a failure.
host=$(echo "$mirror" | sed -E 's,^[a-z]+://([^/:]+).*,\1,')
if ! python3 - "$mirror/dists/sid/Release" <<'PY' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=20).read(64)
PY
then
	echo "sid-chroot: SKIP: the Debian mirror $host cannot be reached; the guest tests need a sid chroot at $dir" >&2
	exit 77
fi

tmp=$(mktemp -d "$cache/sid.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "sid-chroot: building $dir with debootstrap (about 2.5 min, log $cache/debootstrap.log)" >&2
start=$(date +%s)
if ! debootstrap --variant=minbase --include=$pkgs sid "$tmp" "$mirror" >"$cache/debootstrap.log" 2>&1; then
	tail -20 "$cache/debootstrap.log" >&2
	echo "sid-chroot: debootstrap failed" >&2
	exit 1
fi
complete "$tmp" || { echo "sid-chroot: debootstrap result incomplete" >&2; exit 1; }
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "sid-chroot: built in $(( $(date +%s) - start )) s" >&2
echo "$dir"
