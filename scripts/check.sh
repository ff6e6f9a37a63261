#!/bin/sh
# The README's test command: build, run every test (unit, cross-process,
# guest), then the unit and cross-process tests again under ASan+UBSan.
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

rm -f build/meson-logs/testlog.json build-asan/meson-logs/testlog.json
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

python3 scripts/count-tests.py build/meson-logs/testlog.json build-asan/meson-logs/testlog.json || status=1
exit $status
