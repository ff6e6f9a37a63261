#!/bin/sh
# Run every libFuzzer target for a bounded time (default 30 s each).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Builds build-fuzz (clang, -Dfuzz=true, ASan+UBSan, -Werror) if needed.
# Seeds: tests/fuzz/corpus/<target>/ (read only); new inputs go to
# build-fuzz/corpus/<target>/; a crash is saved as build-fuzz/crashes/<target>-*
# and fails the run: check it in under tests/fuzz/regressions/<target>/ (the
# unit suite replays it) and fix it. A long run: scripts/fuzz.sh 3600.
# Ends with "fuzz: N executions, N crashes".
set -u
cd "$(dirname "$0")/.."
secs=${1:-30}
[ $# -gt 0 ] && shift
targets=${*:-server client caps_json pci_config mig_load}
dir=build-fuzz

if ! command -v clang >/dev/null; then
	echo "fuzz: clang missing (scripts/deps.sh test installs it)"; exit 1
fi
if [ ! -f $dir/build.ninja ]; then
	CC=clang meson setup $dir -Dfuzz=true -Dtests=false -Dwerror=true \
		-Db_sanitize=address,undefined -Db_lundef=false >$dir.setup.log 2>&1 ||
		{ cat $dir.setup.log; exit 1; }
fi
ninja -C $dir >$dir.ninja.log 2>&1 || { tail -30 $dir.ninja.log; exit 1; }
mkdir -p $dir/crashes

total=0; crashes=0; status=0
# One line per target in meson's testlog format: check.sh counts them.
results=$dir/fuzz-testlog.json
: >$results
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for t in $targets; do
	mkdir -p $dir/corpus/$t
	log=$dir/fuzz_$t.log
	$dir/tests/fuzz/fuzz_$t -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=8192 -print_final_stats=1 -artifact_prefix=$dir/crashes/$t- \
		$dir/corpus/$t tests/fuzz/corpus/$t >$log 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' $log | tail -1)
	runs=${runs:-0}
	total=$((total + runs))
	if [ $rc -ne 0 ]; then
		crashes=$((crashes + 1)); status=1
		echo "fuzz_$t: CRASH after $runs executions (exit $rc); see $log"
		grep -m3 -E 'ERROR|runtime error|SUMMARY|Test unit written' $log
		echo "{\"name\": \"fuzz_$t\", \"result\": \"FAIL\"}" >>$results
	else
		echo "fuzz_$t: $runs executions in ${secs}s, no crash"
		echo "{\"name\": \"fuzz_$t\", \"result\": \"OK\"}" >>$results
	fi
done
echo "fuzz: $total executions, $crashes crashes"
exit $status
