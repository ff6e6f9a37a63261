#!/bin/sh
# The Debian sid chroot's kernel (tests/guest/sid-chroot.sh; 7.2 at the time
# of writing: vfio-pci, PCI_IOV, intel-iommu; no IOMMUFD) for kguest runs, in
# the layout kernel-deb61.sh gives run.py: vmlinuz (the uncompressed vmlinux
# that guest-kernel.sh extracts, which QEMU boots through PVH), modules/*.ko
# and modules.order (insmod order, dependencies first, names with '_'),
# config and version. Modules: the VFIO stack, plus iommufd when this kernel
# has it as a module. Usage: kernel-sid.sh CHROOT. Output (stdout, last
# line): the cache directory. Keyed by the kernel image, the module list
# and RECIPE.
set -eu
chroot=$1
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${UVFIO_CACHE:-/var/cache/uvfio}/kguest
mkdir -p "$CACHE"
log() { echo "kernel-sid: $*" >&2; }
WANT="vfio vfio_iommu_type1 vfio-pci iommufd"

exec 9>"$CACHE/kernel-sid.lock"
flock 9

img=$("$here/../guest/guest-kernel.sh" "$chroot")
kver=$(ls "$chroot/lib/modules" | sort -V | tail -1)
moddir=$chroot/lib/modules/$kver
RECIPE=1   # bump when the output below changes
KEY=$( { echo "$RECIPE $kver $WANT"; sha256sum "$img" "$moddir/modules.dep"; } |
	sha256sum | cut -c1-16)
OUT="$CACHE/sid-$kver-$KEY"
if [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/modules.order" ]; then echo "$OUT"; exit 0; fi

WORK="$OUT.work"; rm -rf "$WORK" "$OUT"; mkdir -p "$WORK/modules"
cp "$img" "$WORK/vmlinuz"
cp "$chroot/boot/config-$kver" "$WORK/config"
echo "$kver" >"$WORK/version"
# modules.dep lists a module's dependencies, deepest last: load them in
# reverse, then the module. A wanted module that is absent is built in (or
# not configured): skipped.
for w in $WANT; do
	line=$(grep -E "/$w\.ko(\.xz|\.zst)?:" "$moddir/modules.dep") ||
		{ log "$w is not a module of $kver, skipped"; continue; }
	{ echo "${line%%:*}"; for d in ${line#*:}; do echo "$d"; done; } | tac
done | awk '!seen[$0]++' | while read -r rel; do
	m=$(basename "$rel"); m=${m%.xz}; m=${m%.zst}; m=$(echo "${m%.ko}" | tr - _)
	case "$rel" in
	*.xz) xz -dc "$moddir/$rel" >"$WORK/modules/$m.ko" ;;
	*.zst) zstd -dcq "$moddir/$rel" >"$WORK/modules/$m.ko" ;;
	*) cp "$moddir/$rel" "$WORK/modules/$m.ko" ;;
	esac
	echo "$m.ko"
done >"$WORK/modules.order"
mv "$WORK" "$OUT"
log "$kver: $(tr '\n' ' ' <"$OUT/modules.order")"
echo "$OUT"
