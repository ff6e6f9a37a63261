#!/bin/sh
# The README's test command: build, run every test (unit, cross-process,
# guest), then the unit and cross-process tests again under ASan+UBSan,
# then every fuzz target for UVFIO_FUZZ_SECONDS (default 10 s each; longer:
# scripts/fuzz.sh 3600) and the cross-process tests under valgrind
# (UVFIO_VALGRIND=0 skips it). See docs/reliability.md.
# Ends with one line "N passed, N failed[, N skipped]".
set -u
cd "$(dirname "$0")/.."
scripts/deps.sh test || exit 1

status=0
build() { # dir, extra meson args...
	dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dwerror=true "$@" >"$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log"; return 1; }
	fi
	ninja -C "$dir" >"$dir.ninja.log" 2>&1 || { tail -50 "$dir.ninja.log"; return 1; }
}

rm -f build/meson-logs/testlog.json build-asan/meson-logs/testlog.json \
	build-fuzz/fuzz-testlog.json build/valgrind/valgrind-testlog.json
extra_logs=
if build build; then
	meson test -C build --print-errorlogs --num-processes 2 || status=1
else
	status=1
fi
if build build-asan -Db_sanitize=address,undefined -Db_lundef=false; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		meson test -C build-asan --print-errorlogs --num-processes 2 --no-suite guest \
		--no-suite bench || status=1
else
	status=1
fi

if command -v clang >/dev/null 2>&1; then
	scripts/fuzz.sh "${UVFIO_FUZZ_SECONDS:-10}" || status=1
	extra_logs="$extra_logs build-fuzz/fuzz-testlog.json"
fi
if [ "${UVFIO_VALGRIND:-1}" != 0 ] && command -v valgrind >/dev/null 2>&1; then
	scripts/valgrind.sh || status=1
	extra_logs="$extra_logs build/valgrind/valgrind-testlog.json"
fi

python3 scripts/count-tests.py build/meson-logs/testlog.json build-asan/meson-logs/testlog.json \
	$extra_logs || status=1
exit $status
