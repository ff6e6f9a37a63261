#!/bin/sh
# Fetch Debian 12's current 6.1 kernel (the one linux-image-amd64 depends on)
# with apt-get download, extract it with dpkg-deb -x (never installed) and keep
# vmlinuz plus the VFIO modules and the modules they depend on (.modinfo).
# Output (stdout, last line): the cache directory with vmlinuz, modules/*.ko and
# modules.order (insmod order, dependencies first).  Keyed by the package
# version, the module list and RECIPE.  Facts: /work/shared/reference/guest-testing.md §1.
set -eu
CACHE=${UVFIO_CACHE:-/var/cache/uvfio}/kguest
mkdir -p "$CACHE"
log() { echo "kernel-deb61: $*" >&2; }
WANT="vfio vfio_iommu_type1 irqbypass vfio_virqfd vfio-pci-core vfio-pci"

exec 9>"$CACHE/kernel-deb61.lock"
flock 9

# What apt knows, asked again only when apt's package lists change (apt-cache
# takes seconds).
STAMP=$(stat -c '%n %Y %s' /var/lib/apt/lists/*Packages* 2>/dev/null | sha256sum | cut -c1-16)
if [ "$(sed -n 1p "$CACHE/deb61.apt" 2>/dev/null)" = "$STAMP" ]; then
    PKG=$(sed -n 2p "$CACHE/deb61.apt"); VER=$(sed -n 3p "$CACHE/deb61.apt")
else
    PKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-6\.1\.0-[0-9]+-amd64$/ {print $2; exit}')
    [ -n "$PKG" ] || { log "apt knows no linux-image-6.1.0-*-amd64 (via linux-image-amd64)"; exit 1; }
    VER=$(apt-cache policy "$PKG" | awk '/Candidate:/ {print $2}')
    printf '%s\n%s\n%s\n' "$STAMP" "$PKG" "$VER" >"$CACHE/deb61.apt"
fi
RECIPE=1   # bump when the extraction below changes its output
KEY=$(echo "$RECIPE $PKG $VER $WANT" | sha256sum | cut -c1-16)
OUT="$CACHE/$PKG-$KEY"
if [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/modules.order" ]; then echo "$OUT"; exit 0; fi

DEBS="$CACHE/debs"; mkdir -p "$DEBS"
DEB=$(ls "$DEBS/${PKG}_"*_amd64.deb 2>/dev/null | grep -F "$(echo "$VER" | sed 's/:/%3a/')" || true)
if [ -z "$DEB" ]; then
    log "apt-get download $PKG=$VER"
    (cd "$DEBS" && apt-get download -q "$PKG=$VER" >&2)
    DEB=$(ls "$DEBS/${PKG}_"*_amd64.deb | grep -F "$(echo "$VER" | sed 's/:/%3a/')")
fi

WORK="$OUT.work"; rm -rf "$WORK" "$OUT"; mkdir -p "$WORK/x" "$WORK/out/modules"
dpkg-deb -x "$DEB" "$WORK/x"
MODDIR=$(echo "$WORK"/x/lib/modules/*)
[ -d "$MODDIR" ] || MODDIR=$(echo "$WORK"/x/usr/lib/modules/*)
cp "$WORK"/x/boot/vmlinuz-* "$WORK/out/vmlinuz"
# The package ships no modules.dep (the installer runs depmod, and the host has
# no kmod): read each module's own "depends=" from its .modinfo strings instead.
python3 - "$MODDIR" "$WORK/out" $WANT <<'PY'
import os, re, sys, shutil, lzma
moddir, out, want = sys.argv[1], sys.argv[2], sys.argv[3:]
def norm(n): return n.replace("-", "_")
files = {}
for root, _, names in os.walk(moddir):
    for f in names:
        if ".ko" in f: files[norm(f[:f.index(".ko")])] = os.path.join(root, f)
def data(n):
    p = files[n]
    return lzma.open(p).read() if p.endswith(".xz") else open(p, "rb").read()
order = []
def visit(n):
    if n in order: return
    m = re.search(rb"(?:^|\x00)depends=([^\x00]*)\x00", data(n))
    for d in (m.group(1).decode().split(",") if m else []):
        if d: visit(norm(d))
    order.append(n)
for w in want:
    if norm(w) not in files:   # built in, or merged into vfio (6.2+ has no vfio_virqfd)
        print("kernel-deb61: %s is not a module here, skipped" % w, file=sys.stderr); continue
    visit(norm(w))
with open(os.path.join(out, "modules.order"), "w") as f:
    for n in order:
        open(os.path.join(out, "modules", n + ".ko"), "wb").write(data(n))
        f.write(n + ".ko\n")
PY
echo "$PKG $VER" > "$WORK/out/version"
mv "$WORK/out" "$OUT"; rm -rf "$WORK" "$DEB"   # 70 MB, fetched again only if needed
log "$PKG $VER: $(cat "$OUT/modules.order" | tr '\n' ' ')"
echo "$OUT"
