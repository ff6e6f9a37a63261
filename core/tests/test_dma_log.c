/* SPDX-License-Identifier: MIT */
/* Dirty page logging of the DMA space: page-exact bitmaps, kernel bit rule. */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dma_test.h"

#define PG 0x1000ull

static char mem[0x100000];

static int setup(void **state)
{
	*state = uvfio_dma_create(NULL);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	uvfio_dma_destroy(*state);
	return 0;
}

static void test_report_errors(void **state)
{
	struct uvfio_dma *dma = *state;
	uint64_t bm[2] = { 0 };

	assert_int_equal(map_va(dma, 0x10000, 0x4000, RW, mem), 0);
	assert_false(uvfio_dma_logging(dma));
	assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0x4000, PG, bm, sizeof(bm)), -EINVAL);
	assert_int_equal(uvfio_dma_log_start(dma, 3000), -EINVAL);
	assert_int_equal(uvfio_dma_log_start(dma, PG), 0);
	assert_true(uvfio_dma_logging(dma));
	assert_int_equal(uvfio_dma_log_start(dma, PG), -EBUSY);
	assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0x4000, 0, bm, sizeof(bm)), -EINVAL);
	assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0x4000, 2048, bm, sizeof(bm)), -EINVAL);
	assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0x4000, 0x3000, bm, sizeof(bm)), -EINVAL);
	assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0, PG, bm, sizeof(bm)), -EINVAL);
	assert_int_equal(uvfio_dma_log_report(dma, 0xfffffffffffff000ull, 0x2000, PG, bm, sizeof(bm)),
			 -EOVERFLOW);
	/* 65 pages need two words */
	assert_int_equal(uvfio_dma_log_report(dma, 0, 65 * PG, PG, bm, 8), -EINVAL);
	assert_int_equal(uvfio_dma_log_report(dma, 0, 65 * PG, PG, bm, 16), 0);
	assert_int_equal(uvfio_dma_log_stop(dma), 0);
	assert_false(uvfio_dma_logging(dma));
	assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0x4000, PG, bm, sizeof(bm)), -EINVAL);
}

static void test_page_exact_span(void **state)
{
	struct uvfio_dma *dma = *state;
	uint64_t bm[1];
	char two[2] = "xy";

	/* A [0x10000, 0x14000) and B [0x14000, 0x18000) adjacent, C further up */
	assert_int_equal(map_va(dma, 0x10000, 0x4000, RW, mem), 0);
	assert_int_equal(map_va(dma, 0x14000, 0x4000, RW, mem + 0x4000), 0);
	assert_int_equal(map_va(dma, 0x20000, 0x2000, RW, mem + 0x8000), 0);
	assert_int_equal(uvfio_dma_log_start(dma, 0), 0);

	assert_int_equal(uvfio_dma_write(dma, 0x11000, "a", 1), 0);	/* A page 1 */
	assert_int_equal(uvfio_dma_write(dma, 0x13fff, two, 2), 0);	/* A page 3 + B page 0 */
	uvfio_dma_mark_dirty(dma, 0x20fff, 1);				/* C page 0 */
	uvfio_dma_mark_dirty(dma, 0x18000, 0x8000);			/* a hole: ignored */

	/* report [0x12000, 0x22000): part of A, all of B, the hole, all of C */
	bm[0] = 0;
	assert_int_equal(uvfio_dma_log_report(dma, 0x12000, 0x10000, PG, bm, sizeof(bm)), 0);
	assert_int_equal(le64toh(bm[0]), (1ull << 1) | (1ull << 2) | (1ull << 14));
	/* reading cleared what it reported */
	bm[0] = 0;
	assert_int_equal(uvfio_dma_log_report(dma, 0x12000, 0x10000, PG, bm, sizeof(bm)), 0);
	assert_int_equal(bm[0], 0);
	/* but not the page of A outside the report */
	assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0x14000, PG, bm, sizeof(bm)), 0);
	assert_int_equal(le64toh(bm[0]), 1ull << 1);
	/* reports only set bits: what the caller had stays */
	bm[0] = htole64(1ull << 63);
	assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0x14000, PG, bm, sizeof(bm)), 0);
	assert_int_equal(le64toh(bm[0]), 1ull << 63);
}

static void test_second_word_and_reads(void **state)
{
	struct uvfio_dma *dma = *state;
	uint64_t bm[2] = { 0 };
	char c;

	assert_int_equal(map_va(dma, 0x100000, 80 * PG, RW, mem), 0);
	assert_int_equal(uvfio_dma_log_start(dma, PG), 0);
	assert_int_equal(uvfio_dma_read(dma, 0x100000 + 3 * PG, &c, 1), 0); /* reads are clean */
	assert_int_equal(uvfio_dma_write(dma, 0x100000 + 70 * PG + 5, "z", 1), 0);
	assert_int_equal(uvfio_dma_log_report(dma, 0x100000, 80 * PG, PG, bm, sizeof(bm)), 0);
	assert_int_equal(bm[0], 0);
	assert_int_equal(le64toh(bm[1]), 1ull << 6);
}

static void test_report_pgsize_differs(void **state)
{
	struct uvfio_dma *dma = *state;
	uint64_t bm[1] = { 0 };

	assert_int_equal(map_va(dma, 0x10000, 0x8000, RW, mem), 0);
	assert_int_equal(uvfio_dma_log_start(dma, PG), 0);
	assert_int_equal(uvfio_dma_write(dma, 0x13000, "a", 1), 0);
	assert_int_equal(uvfio_dma_write(dma, 0x17000, "a", 1), 0);
	/* 8 KiB report pages: 0x13000 is in report page 1, 0x17000 in page 3 */
	assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0x8000, 2 * PG, bm, sizeof(bm)), 0);
	assert_int_equal(le64toh(bm[0]), (1ull << 1) | (1ull << 3));
	assert_int_equal(uvfio_dma_log_stop(dma), 0);

	/* logging pages larger than report pages: a dirty 16 KiB page marks 4 bits */
	assert_int_equal(uvfio_dma_log_start(dma, 4 * PG), 0);
	assert_int_equal(uvfio_dma_write(dma, 0x15000, "a", 1), 0);
	bm[0] = 0;
	assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0x8000, PG, bm, sizeof(bm)), 0);
	assert_int_equal(le64toh(bm[0]), 0xf0);
	/* a report covering part of a logging page reports it but keeps it dirty */
	assert_int_equal(uvfio_dma_write(dma, 0x15000, "a", 1), 0);
	bm[0] = 0;
	assert_int_equal(uvfio_dma_log_report(dma, 0x14000, 0x2000, PG, bm, sizeof(bm)), 0);
	assert_int_equal(le64toh(bm[0]), 0x3);
	bm[0] = 0;
	assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0x8000, PG, bm, sizeof(bm)), 0);
	assert_int_equal(le64toh(bm[0]), 0xf0);
	bm[0] = 0;
	assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0x8000, PG, bm, sizeof(bm)), 0);
	assert_int_equal(bm[0], 0);
}

static void test_write_ref_stays_dirty(void **state)
{
	struct uvfio_dma *dma = *state;
	struct uvfio_dma_ref ref, rref;
	uint64_t bm[1] = { 0 };
	char *p;

	assert_int_equal(map_va(dma, 0x10000, 0x4000, RW, mem), 0);
	assert_int_equal(uvfio_dma_log_start(dma, PG), 0);
	p = uvfio_dma_get(dma, 0x11000, 0x1001, RW, &ref);
	assert_non_null(p);
	assert_non_null(uvfio_dma_get(dma, 0x13000, 1, UVFIO_DMA_READ, &rref));
	uvfio_dma_put(dma, &rref);
	/* while the device may still write, every report shows the pages */
	for (int i = 0; i < 2; i++) {
		bm[0] = 0;
		assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0x4000, PG, bm, sizeof(bm)), 0);
		assert_int_equal(le64toh(bm[0]), 0x6);
	}
	p[0] = 1;
	uvfio_dma_put(dma, &ref);
	bm[0] = 0;
	assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0x4000, PG, bm, sizeof(bm)), 0);
	assert_int_equal(le64toh(bm[0]), 0x6);
	bm[0] = 0;
	assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0x4000, PG, bm, sizeof(bm)), 0);
	assert_int_equal(bm[0], 0);
}

static void test_map_while_logging(void **state)
{
	struct uvfio_dma *dma = *state;
	uint64_t bm[1] = { 0 }, n;

	assert_int_equal(uvfio_dma_log_start(dma, PG), 0);
	assert_int_equal(map_va(dma, 0x10000, 0x2000, RW, mem), 0);
	assert_int_equal(uvfio_dma_write(dma, 0x11000, "a", 1), 0);
	assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0x2000, PG, bm, sizeof(bm)), 0);
	assert_int_equal(le64toh(bm[0]), 0x2);
	/* an unmapped window reads clean */
	assert_int_equal(uvfio_dma_write(dma, 0x10000, "a", 1), 0);
	assert_int_equal(uvfio_dma_unmap(dma, 0x10000, 0x2000, 0, &n), 0);
	bm[0] = 0;
	assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0x2000, PG, bm, sizeof(bm)), 0);
	assert_int_equal(bm[0], 0);
	/* stop frees; writes after stop are not logged and do not crash */
	assert_int_equal(map_va(dma, 0x10000, 0x2000, RW, mem), 0);
	assert_int_equal(uvfio_dma_log_stop(dma), 0);
	assert_int_equal(uvfio_dma_write(dma, 0x10000, "a", 1), 0);
	uvfio_dma_mark_dirty(dma, 0x10000, 1);
	assert_int_equal(uvfio_dma_log_start(dma, PG), 0);
	bm[0] = 0;
	assert_int_equal(uvfio_dma_log_report(dma, 0x10000, 0x2000, PG, bm, sizeof(bm)), 0);
	assert_int_equal(bm[0], 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_report_errors),
		T(test_page_exact_span),
		T(test_second_word_and_reads),
		T(test_report_pgsize_differs),
		T(test_write_ref_stays_dirty),
		T(test_map_while_logging),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
