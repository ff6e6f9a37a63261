/* SPDX-License-Identifier: MIT */
/*
 * The guest programs' verdict lines (kvfio-selftest, kguest-sriov):
 * "CHECK name PASS|FAIL detail", one line each, flushed at once so a
 * guest that dies mid-run still shows how far it got; the runners on the
 * host (the tests/kguest runners) parse them. Header-only: one copy per program.
 */
#ifndef UVFIO_KERNEL_TESTS_CHECK_LINE_H
#define UVFIO_KERNEL_TESTS_CHECK_LINE_H

#include <stdarg.h>
#include <stdio.h>

static int failures; /* FAIL lines so far */

static void check(const char *name, int ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void check(const char *name, int ok, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	/* One line per check; newlines in details would split it. */
	for (char *p = detail; *p; p++)
		if (*p == '\n')
			*p = ' ';
	printf("CHECK %s %s %s\n", name, ok ? "PASS" : "FAIL", detail);
	fflush(stdout);
	failures += !ok;
}

#endif
