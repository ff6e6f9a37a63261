#!/bin/sh
# The repo's private iommufd / VFIO-cdev definitions against the real 6.12
# uapi headers (from kernel-612.sh's cache): abi.c built both ways, outputs
# diffed; then the VF-token bind (6.17+, abi_token.c) against the 7.2 uapi
# (kernel-72.sh, which needs the sid chroot). Usage: abi.sh SOURCE_ROOT
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$1
k=$("$here/kernel-612.sh")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
gcc -O0 -w -DUVFIO_COMPAT -I"$root" -o "$tmp/compat" "$here/abi.c"
gcc -O0 -w -I"$k/usr/include" -o "$tmp/uapi" "$here/abi.c" 2>"$tmp/err" || {
    # 6.12 lacks a name the repo defines: say which, then fail.
    cat "$tmp/err" >&2; exit 1; }
"$tmp/compat" >"$tmp/compat.txt"
"$tmp/uapi" >"$tmp/uapi.txt"
if diff -u "$tmp/uapi.txt" "$tmp/compat.txt"; then
    echo "PASS abi: $(wc -l <"$tmp/uapi.txt") sizes, offsets, ioctl numbers and flags identical to $(cat "$k/source-version") uapi"
else
    echo "FAIL abi: private definitions differ from the 6.12 uapi (- uapi, + repo)"; exit 1
fi

chroot=$("$here/../guest/sid-chroot.sh")
k72=$("$here/kernel-72.sh" "$chroot" | tail -1)
gcc -O0 -w -DUVFIO_COMPAT -I"$root" -o "$tmp/tcompat" "$here/abi_token.c"
gcc -O0 -w -I"$k72/usr/include" -o "$tmp/tuapi" "$here/abi_token.c"
"$tmp/tcompat" >"$tmp/tcompat.txt"
"$tmp/tuapi" >"$tmp/tuapi.txt"
if diff -u "$tmp/tuapi.txt" "$tmp/tcompat.txt"; then
    echo "PASS abi-token: VFIO_DEVICE_BIND_IOMMUFD with a VF token identical to $(cat "$k72/source-version" 2>/dev/null || echo 7.2) uapi ($(wc -l <"$tmp/tuapi.txt") lines)"
else
    echo "FAIL abi-token: kvfio_bind_iommufd_token differs from the 7.2 uapi (- uapi, + repo)"; exit 1
fi
