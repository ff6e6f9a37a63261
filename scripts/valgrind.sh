#!/bin/sh
# The cross-process tests with both ends under valgrind memcheck: the test
# binary (the raw-socket client, or the client library in test_client) and
# the testdev server process it starts. Uses the plain gcc build (build/).
#   scripts/valgrind.sh [TEST...]   (default: test_server_cmds test_server_bad
#                                    test_hostile test_client)
# Each process writes build/valgrind/<test>.<pid>.log; a definite or
# indirect leak or any memory error fails the run. Ends with
# "valgrind: N processes, N errors, N bytes definitely lost".
set -u
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind: not installed (scripts/deps.sh test)"; exit 1; }
[ -f build/build.ninja ] || meson setup build -Dwerror=true >/dev/null || exit 1
ninja -C build >/dev/null || exit 1
tests=${*:-test_server_cmds test_server_bad test_hostile test_client}
out=build/valgrind
rm -rf $out
mkdir -p $out
vg="valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite,indirect \
--error-exitcode=1 --track-fds=no --child-silent-after-fork=yes"
# The server the tests start, wrapped: same arguments, under memcheck.
cat >$out/testdev_server <<EOS
#!/bin/sh
exec $vg --log-file=$PWD/$out/server.%p.log $PWD/build/tests/proc/testdev_server "\$@"
EOS
chmod +x $out/testdev_server

status=0
results=$out/valgrind-testlog.json # meson's testlog format, for check.sh
: >$results
for t in $tests; do
	# Timeouts stretch under valgrind; the tests' own bounds still apply.
	if $vg --log-file=$out/$t.%p.log build/tests/proc/$t $PWD/$out/testdev_server \
		>$out/$t.out 2>&1; then
		echo "$t: ok"
		echo "{\"name\": \"valgrind_$t\", \"result\": \"OK\"}" >>$results
	else
		echo "$t: FAILED (see $out/$t.out)"
		echo "{\"name\": \"valgrind_$t\", \"result\": \"FAIL\"}" >>$results
		status=1
	fi
done
procs=0; errors=0; lost=0
for l in $out/*.log; do
	procs=$((procs + 1))
	e=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$l" | tr -d , | tail -1)
	d=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$l" | tr -d , | tail -1)
	errors=$((errors + ${e:-0}))
	lost=$((lost + ${d:-0}))
	if [ "${e:-0}" != 0 ]; then
		echo "$l: ${e} errors"; status=1
		echo "{\"name\": \"valgrind $l\", \"result\": \"FAIL\"}" >>$results
	fi
done
echo "valgrind: $procs processes, $errors errors, $lost bytes definitely lost"
exit $status
