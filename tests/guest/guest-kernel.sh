#!/bin/sh
# The kernel the guest boots: guest-kernel.sh CHROOT prints a host path.
# The sid kernel's bzImage spends seconds under TCG decompressing itself
# (zstd); its uncompressed vmlinux boots directly through QEMU's PVH entry
# (CONFIG_PVH), so it is extracted once and cached by the bzImage's hash.
# Without the zstd tool (or if extraction fails) the bzImage itself is used.
set -eu

chroot=$1
cache=${UVFIO_CACHE:-/var/cache/uvfio}
bz=$(ls "$chroot"/boot/vmlinuz-* | sort -V | tail -1)

if ! command -v zstd >/dev/null; then
	echo "$bz"
	exit 0
fi
hash=$(sha256sum "$bz" | cut -c1-16)
out=$cache/vmlinux-$hash
if [ ! -s "$out" ]; then
	mkdir -p "$cache"
	tmp=$(mktemp "$cache/vmlinux.tmp.XXXXXX")
	# The payload starts at the first zstd frame magic (28 b5 2f fd); trailing
	# bytes after the frame make zstd complain, hence the output check.
	off=$(grep -abo "$(printf '\050\265\057\375')" "$bz" | head -1 | cut -d: -f1)
	if [ -n "$off" ]; then
		tail -c +$((off + 1)) "$bz" | zstd -dcq >"$tmp" 2>/dev/null || true
	fi
	if [ "$(head -c 4 "$tmp" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
		chmod 644 "$tmp"
		mv "$tmp" "$out"
		find "$cache" -maxdepth 1 -name 'vmlinux-*' ! -name "vmlinux-$hash" -mtime +7 -delete
	else
		rm -f "$tmp"
		echo "$bz"
		exit 0
	fi
fi
echo "$out"
