#!/bin/sh
# The repo's private iommufd / VFIO-cdev definitions against the real 6.12
# uapi headers (from kernel-612.sh's cache): abi.c built both ways, outputs
# diffed. Usage: abi.sh SOURCE_ROOT
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
