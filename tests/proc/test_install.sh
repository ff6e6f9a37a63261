#!/bin/sh
# `meson install --destdir`: the library, headers, uvfio.pc, the binary, man
# pages, bash completion and systemd units land where they belong, and a
# program builds against the installed headers and library alone.
#   test_install.sh BUILD_DIR SOURCE_DIR PREFIX LIBDIR BINDIR INCLUDEDIR MANDIR DATADIR HAVE_MAN SANITIZE
set -u
build=$1 src=$2 prefix=$3 libdir=$4 bindir=$5 incdir=$6 mandir=$7 datadir=$8 have_man=$9
sanitize=${10:-none}
dest=$(mktemp -d /tmp/uvfio-install-XXXXXX)
fail=0
trap 'rm -rf "$dest"' EXIT
check() { what=$1; shift; if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi; }
abs() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }
root=$dest$prefix
lib=$dest$(abs "$libdir") bin=$dest$(abs "$bindir") inc=$dest$(abs "$incdir")
man=$dest$(abs "$mandir") share=$dest$(abs "$datadir")

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$dest.log" 2>&1; rc=$?
check "meson install --destdir: exit 0" [ $rc -eq 0 ]
[ $rc -eq 0 ] || cat "$dest.log"
rm -f "$dest.log"

check "binary: $bindir/uvfio runs" sh -c '"$1/uvfio" --version | grep -q "^uvfio [0-9]"' - "$bin"
check "shared library" sh -c 'ls "$1"/libuvfio.so.* >/dev/null 2>&1 && [ -L "$1/libuvfio.so" ]' - "$lib"
check "static library" [ -f "$lib/libuvfio.a" ]
for h in uvfio.h client.h server.h device.h dma.h pci.h cdx.h mdev.h log.h version.h; do
	check "header uvfio/$h" [ -f "$inc/uvfio/$h" ]
done
check "uvfio.pc" [ -f "$lib/pkgconfig/uvfio.pc" ]
if [ "$have_man" = true ]; then
	for p in uvfio uvfio-serve uvfio-info uvfio-trace uvfio-ls uvfio-bind uvfio-unbind uvfio-bench uvfio-mdev uvfio-migrate; do
		check "man page $p.1" [ -e "$man/man1/$p.1" ]
	done
	check "man uvfio.1 documents the exit codes" grep -q "EXIT STATUS" "$man/man1/uvfio.1"
else
	echo "skip man pages (scdoc not installed)"
fi
check "bash completion" sh -c '[ -f "$1/bash-completion/completions/uvfio" ] && bash -n "$1/bash-completion/completions/uvfio"' - "$share"
check "systemd units" sh -c '[ -f "$1/lib/systemd/system/uvfio@.socket" ] && grep -q "^ExecStart=$2/bin/uvfio serve %i" "$1/lib/systemd/system/uvfio@.service"' - "$root" "$prefix"
check "bash completion completes commands" bash -c '. "$1/bash-completion/completions/uvfio"; COMP_WORDS=(uvfio tr); COMP_CWORD=1; _uvfio; [ "${COMPREPLY[*]}" = trace ]' - "$share"

# A driver built from the installed files only (pkg-config with the destdir as sysroot).
flags=$(PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$lib/pkgconfig pkg-config --cflags --libs uvfio 2>/dev/null)
check "pkg-config --cflags --libs uvfio" [ -n "$flags" ]
# A sanitized build's library needs the sanitizer runtime in the program too.
[ "$sanitize" != none ] && flags="-fsanitize=$sanitize $flags"
# shellcheck disable=SC2086
cc -Wall -Werror -o "$dest/minimal-driver" "$src/examples/minimal-driver.c" $flags -lpthread 2>"$dest/cc.log"; rc=$?
[ $rc -eq 0 ] || cat "$dest/cc.log"
check "examples/minimal-driver.c builds against the installed headers and library" [ $rc -eq 0 ]
LD_LIBRARY_PATH=$lib "$dest/minimal-driver" >/dev/null 2>&1; rc=$?
check "and runs (usage: exit 2)" [ $rc -eq 2 ]
exit $fail
