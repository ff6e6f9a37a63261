#!/bin/sh
# Build the guest initramfs, cached by content hash:
#   mkinitramfs.sh CHROOT  ->  prints ${UVFIO_CACHE:-/var/cache/uvfio}/initramfs-HASH.cpio.gz
# Contents: the chroot's busybox-static, /init (init.sh), the guest check
# programs (prog/*.c, gcc -static -O2 on the host) and the kernel modules the
# checks insert, decompressed from the chroot's .ko.xz, dependencies resolved
# from modules.dep (one load-order list per group in /lib/modules/GROUP.list).
set -eu

chroot=$1
here=$(cd "$(dirname "$0")" && pwd)
cache=${UVFIO_CACHE:-/var/cache/uvfio}
kver=$(ls "$chroot/lib/modules" | sort -V | tail -1)
moddir=$chroot/lib/modules/$kver
# group: top-level modules (dependencies are added)
groups="edu:uio_pci_generic gpio:gpio-pci-idio-16"

hash=$( { cat "$0" "$here/init.sh" "$here"/prog/*.c "$here"/prog/*.h
	  echo "$kver $groups"; gcc --version | head -1
	  sha256sum "$chroot/bin/busybox" "$moddir/modules.dep"; } | sha256sum | cut -c1-16)
out=$cache/initramfs-$hash.cpio.gz
if [ -s "$out" ]; then
	echo "$out"
	exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/initramfs.lock"
flock 9
[ -s "$out" ] && { echo "$out"; exit 0; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/dev" "$stage/proc" "$stage/sys" "$stage/lib/modules"
cp "$chroot/bin/busybox" "$stage/bin/busybox"
cp "$here/init.sh" "$stage/init"
mknod -m 600 "$stage/dev/console" c 5 1
for src in "$here"/prog/*.c; do
	gcc -static -O2 -Wall -Wextra -Werror -o "$stage/bin/$(basename "$src" .c)" "$src"
done

# The load order of a module: its dependencies (deepest last in modules.dep), then itself.
deps() { # module name (as in the file name, without .ko.xz)
	line=$(grep -E "/$1\.ko(\.xz)?:" "$moddir/modules.dep") ||
		{ echo "mkinitramfs: module $1 not in $moddir/modules.dep" >&2; exit 1; }
	echo "${line%%:*}"
	for d in ${line#*:}; do echo "$d"; done
}
for g in $groups; do
	name=${g%%:*}
	for top in $(echo "${g#*:}" | tr , ' '); do
		deps "$top" | tac
	done | awk '!seen[$0]++' | while read -r rel; do
		m=$(basename "$rel"); m=${m%.xz}; m=${m%.ko}
		case "$rel" in
		*.xz) xz -dc "$moddir/$rel" >"$stage/lib/modules/$m.ko" ;;
		*) cp "$moddir/$rel" "$stage/lib/modules/$m.ko" ;;
		esac
		echo "$m"
	done >"$stage/lib/modules/$name.list"
done

tmp=$(mktemp "$cache/initramfs.tmp.XXXXXX")
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -6) >"$tmp"
chmod 644 "$tmp"
mv "$tmp" "$out"
# Older builds (other trees, older sources): keep a week's worth.
find "$cache" -maxdepth 1 -name 'initramfs-*.cpio.gz' -mtime +7 -delete
echo "$out"
