#!/bin/sh
# Build (once) a small x86_64 kernel from Debian's linux-source-6.12 with
# iommufd, the VFIO cdev, noiommu, vfio-pci, intel-iommu, virtio-iommu, the
# mtty mdev sample, uio_pci_generic and a PCI GPIO driver, all built in.
# Output (stdout, last line): the cache directory holding bzImage, config and
# usr/include (make headers_install).  Keyed by the linux-source version, the
# option lists, gcc's version and RECIPE: a change to any of them rebuilds.
# Facts: /work/shared/reference/guest-testing.md section 2.
set -eu
CACHE=${UVFIO_CACHE:-/var/cache/uvfio}/kguest
mkdir -p "$CACHE"
log() { echo "kernel-612: $*" >&2; }

OPTS="64BIT SMP PRINTK TTY SERIAL_8250 SERIAL_8250_CONSOLE SERIAL_8250_PCI
BLK_DEV_INITRD RD_GZIP DEVTMPFS DEVTMPFS_MOUNT PROC_FS SYSFS TMPFS SHMEM
MEMFD_CREATE MULTIUSER FUTEX EPOLL SIGNALFD TIMERFD EVENTFD POSIX_TIMERS
FILE_LOCKING BINFMT_ELF BINFMT_SCRIPT NET UNIX ACPI PCI PCI_MSI PCIEPORTBUS
PCI_MMCONFIG IOMMU_SUPPORT INTEL_IOMMU IRQ_REMAP VIRTIO_MENU VIRTIO_PCI
VIRTIO_IOMMU IOMMUFD VFIO VFIO_GROUP VFIO_CONTAINER VFIO_IOMMU_TYPE1
VFIO_DEVICE_CDEV VFIO_NOIOMMU VFIO_PCI VFIO_PCI_CORE VFIO_VIRQFD SAMPLES
SAMPLE_VFIO_MDEV_MTTY VFIO_MDEV UIO UIO_PCI_GENERIC GPIOLIB GPIO_CDEV
GPIO_PCI_IDIO_16 KERNEL_GZIP"
OFF="MODULES KERNEL_XZ IOMMUFD_VFIO_CONTAINER"

exec 9>"$CACHE/kernel-612.lock"
flock 9

# The newest linux-source-6.12 apt knows (Debian 12: bookworm-security).
# Asked again only when apt's package lists change (apt-cache takes seconds).
STAMP=$(stat -c '%n %Y %s' /var/lib/apt/lists/*Packages* 2>/dev/null | sha256sum | cut -c1-16)
if [ "$(sed -n 1p "$CACHE/612.apt" 2>/dev/null)" = "$STAMP" ]; then
    VER=$(sed -n 2p "$CACHE/612.apt")
else
    VER=$(apt-cache policy linux-source-6.12 | awk '/Candidate:/ {print $2}')
    printf '%s\n%s\n' "$STAMP" "$VER" >"$CACHE/612.apt"
fi
[ -n "$VER" ] && [ "$VER" != "(none)" ] || { log "apt knows no linux-source-6.12"; exit 1; }
# The key: what goes into the kernel (source version, options, compiler, and
# RECIPE, bumped whenever the build steps below change their output).
RECIPE=1
KEY=$(echo "$RECIPE $VER $OPTS $OFF $(gcc --version | head -1)" | sha256sum | cut -c1-16)
OUT="$CACHE/linux-6.12-$KEY"
if [ -f "$OUT/bzImage" ] && [ -f "$OUT/usr/include/linux/iommufd.h" ]; then
    echo "$OUT"; exit 0
fi

# Kernel build tools (objtool needs libelf-dev): installed here if missing,
# as scripts/deps.sh does for the rest.
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
DEB=$(ls "$SRCDEB"/linux-source-6.12_"$(echo "$VER" | sed 's/:/%3a/')"_all.deb 2>/dev/null || true)
if [ -z "$DEB" ]; then
    log "apt-get download linux-source-6.12=$VER"
    (cd "$SRCDEB" && apt-get download -q "linux-source-6.12=$VER" >&2)
    DEB=$(ls "$SRCDEB"/linux-source-6.12_*"$(echo "$VER" | sed 's/:/%3a/')"_all.deb)
fi

T0=$(date +%s)
# An interrupted build (a test timeout, ^C) resumes in WORK: make is incremental.
WORK="$OUT.build"
rm -rf "$OUT"
if [ ! -f "$WORK/.unpacked" ]; then
    rm -rf "$WORK"
    mkdir -p "$WORK"
    log "unpacking $DEB"
    dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$WORK" --wildcards '*linux-source-6.12.tar.xz'
    tar -xJf "$WORK"/usr/src/linux-source-6.12.tar.xz -C "$WORK"
    rm -rf "$WORK/usr"
    touch "$WORK/.unpacked"
fi
SRC="$WORK/linux-source-6.12"
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

log "make -j$(nproc) bzImage (3.5 to 25 min cold, by how busy the host is)"
make -s ARCH=x86_64 -j"$(nproc)" bzImage >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log" >&2; exit 1; }
# headers_install without rsync: `make headers` leaves them in usr/include.
make -s ARCH=x86_64 headers >&2
mkdir -p "$WORK/out"
(cd usr && find include -name '*.h' | cpio -pdm --quiet "$WORK/out/usr")
cp arch/x86/boot/bzImage .config "$WORK/out/"
echo "$VER" > "$WORK/out/source-version"
mv "$WORK/out" "$OUT"
cd /
rm -rf "$WORK" "$DEB"   # 150 MB; fetched again (seconds) only if a rebuild needs it
log "built in $(( $(date +%s) - T0 )) s: $(du -sh "$OUT" | cut -f1)"
echo "$OUT"
