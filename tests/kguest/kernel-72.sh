#!/bin/sh
# Build (once) a small x86_64 kernel from Debian sid's linux-source-7.2 (the
# newest the sid chroot's apt knows) with kernel-612.sh's options plus SR-IOV
# (PCI_IOV): iommufd, the VFIO cdev with BIND_IOMMUFD's VF token (6.17+),
# vfio-pci, intel-iommu, all built in (no modules). For kguest-sriov-cdev.
# The source package is fetched by the sid chroot's apt (never installed, on
# the host or in the chroot); the kernel is built on the host with its gcc.
# Usage: kernel-72.sh CHROOT. Output (stdout, last line): the cache
# directory holding bzImage, config, version (make kernelrelease) and
# usr/include. Keyed by the linux-source version, the option lists, gcc's
# version and RECIPE: a change to any of them rebuilds.
set -eu
chroot=$1
CACHE=${UVFIO_CACHE:-/var/cache/uvfio}/kguest
mkdir -p "$CACHE"
log() { echo "kernel-72: $*" >&2; }

# kernel-612.sh's list, then what SR-IOV adds: PCI_IOV (VFs, sriov_numvfs;
# selects PCI_ATS), PCI_QUIRKS (ACS and other quirks the group layout
# depends on; tinyconfig turns them off).
OPTS="64BIT SMP PRINTK TTY SERIAL_8250 SERIAL_8250_CONSOLE SERIAL_8250_PCI
BLK_DEV_INITRD RD_GZIP DEVTMPFS DEVTMPFS_MOUNT PROC_FS SYSFS TMPFS SHMEM
MEMFD_CREATE MULTIUSER FUTEX EPOLL SIGNALFD TIMERFD EVENTFD POSIX_TIMERS
FILE_LOCKING BINFMT_ELF BINFMT_SCRIPT NET UNIX ACPI PCI PCI_MSI PCIEPORTBUS
PCI_MMCONFIG IOMMU_SUPPORT INTEL_IOMMU IRQ_REMAP VIRTIO_MENU VIRTIO_PCI
VIRTIO_IOMMU IOMMUFD VFIO VFIO_GROUP VFIO_CONTAINER VFIO_IOMMU_TYPE1
VFIO_DEVICE_CDEV VFIO_NOIOMMU VFIO_PCI VFIO_PCI_CORE VFIO_VIRQFD SAMPLES
SAMPLE_VFIO_MDEV_MTTY VFIO_MDEV UIO UIO_PCI_GENERIC GPIOLIB GPIO_CDEV
GPIO_PCI_IDIO_16 KERNEL_GZIP
PCI_IOV PCI_ATS PCI_QUIRKS"
OFF="MODULES KERNEL_XZ IOMMUFD_VFIO_CONTAINER"

exec 9>"$CACHE/kernel-72.lock"
flock 9

# The newest linux-source-7.2 the chroot's apt knows; asked again only when
# the chroot's package lists change.
STAMP=$(stat -c '%n %Y %s' "$chroot"/var/lib/apt/lists/*Packages* 2>/dev/null | sha256sum | cut -c1-16)
if [ "$(sed -n 1p "$CACHE/72.apt" 2>/dev/null)" = "$STAMP" ]; then
    VER=$(sed -n 2p "$CACHE/72.apt")
else
    VER=$(chroot "$chroot" apt-cache policy linux-source-7.2 | awk '/Candidate:/ {print $2}')
    printf '%s\n%s\n' "$STAMP" "$VER" >"$CACHE/72.apt"
fi
# sid moves on: once its apt (a new chroot) no longer offers 7.2, or the
# mirror's pool no longer has this version, the newest kernel built before is
# used rather than failing; with none, the error says what to bump.
cached() {
    c=$(ls -dt "$CACHE"/linux-7.2-*/bzImage 2>/dev/null | head -1)
    [ -n "$c" ] || return 1
    log "$1; using the cached build ${c%/bzImage}"
    echo "${c%/bzImage}"
}
if [ -z "$VER" ] || [ "$VER" = "(none)" ]; then
    cached "the sid chroot's apt knows no linux-source-7.2" && exit 0
    log "the sid chroot's apt knows no linux-source-7.2 and nothing is cached: move kernel-72.sh to the newest linux-source (>= 6.17)"
    exit 1
fi
# The key: what goes into the kernel (source version, options, compiler, and
# RECIPE, bumped whenever the build steps below change their output).
RECIPE=1
KEY=$(echo "$RECIPE $VER $OPTS $OFF $(gcc --version | head -1)" | sha256sum | cut -c1-16)
OUT="$CACHE/linux-7.2-$KEY"
if [ -f "$OUT/bzImage" ] && [ -f "$OUT/version" ] && [ -f "$OUT/usr/include/linux/iommufd.h" ]; then
    echo "$OUT"; exit 0
fi

# Kernel build tools (objtool needs libelf-dev), as kernel-612.sh.
missing=""
for p in flex bison bc libelf-dev make gcc; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] || { log "missing packages:$missing (apt-get install$missing)"; exit 1; }
    log "installing$missing"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2
fi

SRCDEB="$CACHE/debs"
mkdir -p "$SRCDEB"
DEBNAME=linux-source-7.2_$(echo "$VER" | sed 's/:/%3a/')_all.deb
WORK="$OUT.build"
if [ ! -f "$WORK/.unpacked" ] && [ ! -f "$SRCDEB/$DEBNAME" ]; then
    # apt-get download in the chroot (it writes to the current directory),
    # into a directory of the chroot's own, then out to the cache.
    dl=$(mktemp -d "$chroot/tmp/kernel-72.XXXXXX")
    log "apt-get download linux-source-7.2=$VER (in $chroot)"
    chroot "$chroot" sh -c "cd /tmp/${dl##*/} && apt-get download -q linux-source-7.2=$VER" 2>&1 |
        grep -v 'unsandboxed as root' >&2 || true
    if ! mv "$dl/$DEBNAME" "$SRCDEB/"; then
        rm -rf "$dl"
        cached "linux-source-7.2=$VER could not be downloaded" && exit 0
        log "download failed"; exit 1
    fi
    rmdir "$dl"
fi

T0=$(date +%s)
# An interrupted build (a test timeout, ^C) resumes in WORK: make is incremental.
rm -rf "$OUT"
if [ ! -f "$WORK/.unpacked" ]; then
    rm -rf "$WORK"
    mkdir -p "$WORK"
    log "unpacking $DEBNAME"
    dpkg-deb --fsys-tarfile "$SRCDEB/$DEBNAME" | tar -x -C "$WORK" --wildcards '*linux-source-7.2.tar.xz'
    tar -xJf "$WORK"/usr/src/linux-source-7.2.tar.xz -C "$WORK"
    rm -rf "$WORK/usr"
    touch "$WORK/.unpacked"
fi
SRC="$WORK/linux-source-7.2"
cd "$SRC"

if [ ! -f "$WORK/.configured" ]; then
    log "configuring (tinyconfig + $(echo $OPTS | wc -w) options)"
    make -s ARCH=x86_64 tinyconfig >&2
    for o in $OPTS; do ./scripts/config --enable "$o"; done
    for o in $OFF; do ./scripts/config --disable "$o"; done
    make -s ARCH=x86_64 olddefconfig >&2
fi
bad=""
for o in $OPTS; do grep -qx "CONFIG_$o=y" .config || bad="$bad $o"; done
for o in $OFF; do grep -qx "CONFIG_$o=y" .config && bad="$bad !$o"; done
if [ -n "$bad" ]; then log "FATAL: options did not stick:$bad"; exit 1; fi
touch "$WORK/.configured"

log "make -j$(nproc) bzImage (log $WORK/build.log)"
make -s ARCH=x86_64 -j"$(nproc)" bzImage >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log" >&2; exit 1; }
make -s ARCH=x86_64 headers >&2
mkdir -p "$WORK/out"
(cd usr && find include -name '*.h' | cpio -pdm --quiet "$WORK/out/usr")
cp arch/x86/boot/bzImage .config "$WORK/out/"
mv "$WORK/out/.config" "$WORK/out/config"
make -s ARCH=x86_64 kernelrelease >"$WORK/out/version"
echo "$VER" >"$WORK/out/source-version"
mv "$WORK/out" "$OUT"
cd /
rm -rf "$WORK" "$SRCDEB/$DEBNAME"   # 164 MB; fetched again (seconds) only if a rebuild needs it
log "built in $(( $(date +%s) - T0 )) s: $(du -sh "$OUT" | cut -f1)"
echo "$OUT"
