#!/bin/sh
# Install the Debian packages a uvfio job needs, only those missing.
#   scripts/deps.sh build   compiler, meson, ninja, cmocka
#   scripts/deps.sh test    build + what the tests use (QEMU, debootstrap, busybox, clang)
set -eu

build_pkgs="gcc make meson ninja-build pkg-config libcmocka-dev python3 scdoc"
test_pkgs="$build_pkgs debootstrap qemu-system-x86 busybox-static cpio gzip xz-utils kmod clang libclang-rt-14-dev valgrind"

case "${1:-build}" in
build) want=$build_pkgs ;;
test) want=$test_pkgs ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "uvfio: missing packages:$missing (run as root, or: apt-get install$missing)" >&2
	exit 1
fi
echo "uvfio: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
