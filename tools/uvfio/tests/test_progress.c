/* SPDX-License-Identifier: MIT */
/* The progress helper: a bar on a terminal, quiet lines elsewhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tools/uvfio/progress.h"

static void test_tty_bar(void **state)
{
	struct progress p;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	progress_start_on(&p, f, true, "copy", 4 << 20, PROGRESS_BYTES);
	p.start_ns -= 1000000000ull; /* 1 s ago: a rate is shown */
	progress_update(&p, 1 << 20); /* first update draws at once */
	progress_add(&p, 1 << 20);    /* within 100 ms: no redraw */
	progress_update(&p, 4 << 20);
	progress_done(&p);
	fclose(f);
	assert_non_null(strstr(buf, "\rcopy [########"));
	assert_non_null(strstr(buf, " 25% 1.0 MiB/4.0 MiB"));
	assert_null(strstr(buf, " 50% "));
	assert_non_null(strstr(buf, "100% 4.0 MiB/4.0 MiB"));
	assert_non_null(strstr(buf, "iB/s)")); /* a rate */
	assert_int_equal(buf[len - 1], '\n');
	free(buf);
}

static void test_plain_short_loop_is_quiet(void **state)
{
	struct progress p;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	progress_start_on(&p, f, false, "map", 100, PROGRESS_COUNT);
	for (int i = 1; i <= 100; i++)
		progress_update(&p, (uint64_t)i);
	progress_done(&p);
	fclose(f);
	assert_int_equal(len, 0);
	free(buf);
}

static void test_plain_long_loop_lines(void **state)
{
	struct progress p;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	progress_start_on(&p, f, false, "map", 100, PROGRESS_COUNT);
	p.start_ns -= 2000000000ull; /* as if it had run 2 s */
	for (int i = 1; i <= 100; i++)
		progress_update(&p, (uint64_t)i);
	progress_done(&p);
	fclose(f);
	assert_non_null(strstr(buf, "map:  25% 25/100"));
	assert_non_null(strstr(buf, "map:  50% 50/100"));
	assert_non_null(strstr(buf, "map:  75% 75/100"));
	assert_non_null(strstr(buf, "map: 100% 100/100"));
	assert_null(strchr(buf, '\r'));
	free(buf);
}

static void test_disabled(void **state)
{
	struct progress p;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	setenv("UVFIO_PROGRESS", "0", 1);
	progress_start_on(&p, f, true, "x", 10, PROGRESS_COUNT);
	progress_update(&p, 5);
	progress_done(&p);
	unsetenv("UVFIO_PROGRESS");
	fclose(f);
	assert_int_equal(len, 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tty_bar),
		cmocka_unit_test(test_plain_short_loop_is_quiet),
		cmocka_unit_test(test_plain_long_loop_lines),
		cmocka_unit_test(test_disabled),
	};

	return cmocka_run_group_tests_name("progress", tests, NULL, NULL);
}
