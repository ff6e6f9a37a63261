/* SPDX-License-Identifier: MIT */
/*
 * The core's DMA_LOGGING_START/STOP/REPORT features: each errno of the
 * kernel's checks, page-exact bitmaps over windows, clear on read, ranges.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/device_internal.h"
#include "dma_test.h"

#define PG 0x1000ull
#define SET VFIO_DEVICE_FEATURE_SET
#define GET VFIO_DEVICE_FEATURE_GET
#define PROBE VFIO_DEVICE_FEATURE_PROBE

struct fx {
	struct uvfio_device *dev;
	struct uvfio_dma *dma;
	uint8_t *mem; /* 3 windows of 64 KiB, 64 KiB apart at 0x100000 */
};

static const struct uvfio_device_ops ops = { 0 };

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dev = uvfio_device_create("logdev", &ops, NULL);
	f->dma = uvfio_dma_create(NULL);
	f->mem = aligned_alloc(4096, 3 * 0x10000);
	memset(f->mem, 0, 3 * 0x10000);
	/* adjacent windows: [0x100000, 0x110000) [0x110000, 0x120000) [0x120000, 0x130000) */
	for (int i = 0; i < 3; i++)
		assert_int_equal(map_va(f->dma, 0x100000 + i * 0x10000, 0x10000, RW,
					f->mem + i * 0x10000), 0);
	uvfio_device_set_dma(f->dev, f->dma);
	uvfio_device_set_bus_master(f->dev, true);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	uvfio_device_set_dma(f->dev, NULL);
	uvfio_dma_destroy(f->dma);
	uvfio_device_destroy(f->dev);
	free(f->mem);
	free(f);
	return 0;
}

/* START with n ranges (iova, length pairs). Returns the feature's result. */
static int start(struct fx *f, uint64_t pgsize, uint32_t n, const uint64_t *r,
		 uint64_t *used)
{
	uint8_t buf[8 + 16 + 16 * 300];
	uint32_t argsz = (uint32_t)(8 + 16 + 16 * n), flags = SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
	int ret;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, &argsz, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &pgsize, 8);
	memcpy(buf + 16, &n, 4);
	if (n <= 300 && r)
		memcpy(buf + 24, r, 16 * n);
	ret = uvfio_device_feature(f->dev, buf, sizeof(buf), NULL);
	if (used)
		memcpy(used, buf + 8, 8);
	return ret;
}

static int stop(struct fx *f)
{
	struct vfio_device_feature h = { .argsz = 8, .flags = SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP };

	return uvfio_device_feature(f->dev, &h, sizeof(h), NULL);
}

/* REPORT into bm (words); argsz leaves room for `words` words. */
static int report(struct fx *f, uint64_t iova, uint64_t len, uint64_t pgsize,
		  uint64_t *bm, size_t words)
{
	uint8_t buf[8 + 24 + 8 * 64];
	uint32_t argsz = (uint32_t)(8 + 24 + 8 * words);
	uint32_t flags = GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT;
	size_t rl = 0;
	int ret;

	assert_true(words <= 64);
	memset(buf, 0xee, sizeof(buf));
	memcpy(buf, &argsz, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &iova, 8);
	memcpy(buf + 16, &len, 8);
	memcpy(buf + 24, &pgsize, 8);
	ret = uvfio_device_feature(f->dev, buf, sizeof(buf), &rl);
	if (!ret) {
		assert_true(rl >= 32 && rl <= argsz);
		memset(bm, 0, 8 * words);
		memcpy(bm, buf + 32, rl - 32);
	}
	return ret;
}

static void dwrite(struct fx *f, uint64_t iova, size_t len)
{
	uint8_t b[0x8000];

	memset(b, 0x5a, sizeof(b));
	assert_true(len <= sizeof(b));
	assert_int_equal(uvfio_device_dma_write(f->dev, iova, b, len), 0);
}

static void test_no_dma_space(void **state)
{
	struct uvfio_device *dev = uvfio_device_create("nodma", &ops, NULL);
	struct vfio_device_feature h = { .argsz = 8,
		.flags = PROBE | SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START };
	struct uvfio_feature fe = { .index = VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
				    .ops = SET, .fn = (uvfio_feature_fn)1 };

	/* Nothing to log without client memory: not offered, as no log_ops. */
	assert_int_equal(uvfio_device_feature(dev, &h, sizeof(h), NULL), -ENOTTY);
	/* Core-owned: a device cannot offer it itself. */
	assert_int_equal(uvfio_device_add_feature(dev, &fe), -EEXIST);
	uvfio_device_destroy(dev);
}

static void test_probe_and_ops(void **state)
{
	struct fx *f = *state;
	struct vfio_device_feature h = { .argsz = 8 };

	h.flags = PROBE | SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
	assert_int_equal(uvfio_device_feature(f->dev, &h, sizeof(h), NULL), 0);
	h.flags = PROBE | GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
	assert_int_equal(uvfio_device_feature(f->dev, &h, sizeof(h), NULL), -EINVAL);
	h.flags = PROBE | GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT;
	assert_int_equal(uvfio_device_feature(f->dev, &h, sizeof(h), NULL), 0);
	h.flags = PROBE | SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP;
	assert_int_equal(uvfio_device_feature(f->dev, &h, sizeof(h), NULL), 0);
	/* START shorter than its 16 fixed bytes */
	h.flags = SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
	assert_int_equal(uvfio_device_feature(f->dev, &h, sizeof(h), NULL), -EINVAL);
}

static void test_start_errors(void **state)
{
	struct fx *f = *state;
	uint64_t r[4];
	uint64_t used = 0;

	/* > 256 ranges */
	assert_int_equal(start(f, PG, 257, NULL, NULL), -E2BIG);
	/* unaligned iova, unaligned length */
	r[0] = 0x100800; r[1] = PG;
	assert_int_equal(start(f, PG, 1, r, NULL), -EINVAL);
	r[0] = 0x100000; r[1] = 0x800;
	assert_int_equal(start(f, PG, 1, r, NULL), -EINVAL);
	/* wraps */
	r[0] = 0xfffffffffffff000ull; r[1] = 2 * PG;
	assert_int_equal(start(f, PG, 1, r, NULL), -EOVERFLOW);
	/* overlapping the earlier range */
	r[0] = 0x100000; r[1] = 4 * PG; r[2] = 0x103000; r[3] = 2 * PG;
	assert_int_equal(start(f, PG, 2, r, NULL), -EINVAL);
	/* argsz shorter than num_ranges says */
	{
		uint8_t buf[8 + 16 + 16];
		uint32_t argsz = sizeof(buf), flags = SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START, n = 2;
		uint64_t pg = PG;

		memset(buf, 0, sizeof(buf));
		memcpy(buf, &argsz, 4);
		memcpy(buf + 4, &flags, 4);
		memcpy(buf + 8, &pg, 8);
		memcpy(buf + 16, &n, 4);
		assert_int_equal(uvfio_device_feature(f->dev, buf, sizeof(buf), NULL), -EINVAL);
	}
	/* page size 0 */
	assert_int_equal(start(f, 0, 0, NULL, NULL), -EINVAL);
	assert_false(uvfio_dma_logging(f->dma));
	/* adjacent, not overlapping: fine; a second start: EBUSY */
	r[0] = 0x100000; r[1] = 4 * PG; r[2] = 0x104000; r[3] = 2 * PG;
	assert_int_equal(start(f, PG, 2, r, &used), 0);
	assert_int_equal(used, PG);
	assert_int_equal(start(f, PG, 0, NULL, NULL), -EBUSY);
	assert_int_equal(stop(f), 0);
	/* a page size the device does not use is changed and returned */
	assert_int_equal(start(f, 0x3000, 0, NULL, &used), 0);
	assert_int_equal(used, 0x4000);
	assert_int_equal(stop(f), 0);
	assert_int_equal(start(f, 512, 0, NULL, &used), 0);
	assert_int_equal(used, PG);
	assert_int_equal(stop(f), 0);
}

static void test_report_errors(void **state)
{
	struct fx *f = *state;
	uint64_t bm[4];

	/* not logging */
	assert_int_equal(report(f, 0x100000, 0x10000, PG, bm, 1), -EINVAL);
	assert_int_equal(start(f, PG, 0, NULL, NULL), 0);
	assert_int_equal(report(f, 0x100000, 0x10000, 2048, bm, 1), -EINVAL);
	assert_int_equal(report(f, 0x100000, 0x10000, 0x3000, bm, 1), -EINVAL);
	assert_int_equal(report(f, 0x100000, 0x10000, 0, bm, 1), -EINVAL);
	assert_int_equal(report(f, 0xfffffffffffff000ull, 0x2000, PG, bm, 1), -EOVERFLOW);
	/* 65 pages need 2 words: 1 is too few */
	assert_int_equal(report(f, 0x100000, 65 * PG, PG, bm, 1), -EINVAL);
	assert_int_equal(report(f, 0x100000, 65 * PG, PG, bm, 2), 0);
	/* REPORT is GET only, START/STOP SET only */
	{
		struct vfio_device_feature h = { .argsz = 8,
			.flags = SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT };

		assert_int_equal(uvfio_device_feature(f->dev, &h, sizeof(h), NULL), -EINVAL);
		h.flags = GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP;
		assert_int_equal(uvfio_device_feature(f->dev, &h, sizeof(h), NULL), -EINVAL);
	}
	assert_int_equal(stop(f), 0);
}

/* A report over two whole windows and part of a third, bit for bit. */
static void test_span_windows_exact(void **state)
{
	struct fx *f = *state;
	uint64_t bm[2];

	assert_int_equal(start(f, PG, 0, NULL, NULL), 0); /* 0 ranges: all windows */
	dwrite(f, 0x100000, 1);		 /* window 0 page 0 */
	dwrite(f, 0x10f800, 0x1000);	 /* window 0 page 15 and window 1 page 0 */
	dwrite(f, 0x11a000, 0x2000);	 /* window 1 pages 10, 11 */
	dwrite(f, 0x121fff, 2);		 /* window 2 pages 1, 2 */
	dwrite(f, 0x128000, 8);		 /* window 2 page 8: outside the report */

	/* [0x100000, 0x124000): 36 pages */
	assert_int_equal(report(f, 0x100000, 0x24000, PG, bm, 1), 0);
	assert_int_equal(bm[0], (1ull << 0) | (1ull << 15) | (1ull << 16) |
					(1ull << 26) | (1ull << 27) | (1ull << 33) | (1ull << 34));
	/* reading cleared them */
	assert_int_equal(report(f, 0x100000, 0x24000, PG, bm, 1), 0);
	assert_int_equal(bm[0], 0);
	/* the page outside the first report is still dirty */
	assert_int_equal(report(f, 0x120000, 0x10000, PG, bm, 1), 0);
	assert_int_equal(bm[0], 1ull << 8);
	/* a report at 8 KiB granularity from an offset iova */
	dwrite(f, 0x113000, 4);
	assert_int_equal(report(f, 0x110000, 0x10000, 0x2000, bm, 1), 0);
	assert_int_equal(bm[0], 1ull << 1);
	assert_int_equal(stop(f), 0);
	/* stop then report: not logging */
	assert_int_equal(report(f, 0x100000, 0x10000, PG, bm, 1), -EINVAL);
}

/* Tracking is restricted to the requested ranges. */
static void test_ranges_only(void **state)
{
	struct fx *f = *state;
	uint64_t r[4] = { 0x102000, 2 * PG, 0x120000, PG };
	uint64_t bm[1];

	assert_int_equal(start(f, PG, 2, r, NULL), 0);
	dwrite(f, 0x100000, 0x5000); /* pages 0..4 of window 0: only 2, 3 tracked */
	dwrite(f, 0x11f000, 0x2000); /* window 1 page 15 (untracked), window 2 page 0 */
	assert_int_equal(report(f, 0x100000, 0x30000, PG, bm, 1), 0);
	assert_int_equal(bm[0], (1ull << 2) | (1ull << 3) | (1ull << 32));
	assert_int_equal(stop(f), 0);
}

/* Message-based windows: the DMA_WRITE the device sends is logged too. */
static int msg_writes;

static int msg_fn(void *opaque, uint64_t iova, void *buf, size_t len, bool is_write)
{
	msg_writes += is_write;
	return 0;
}

static void test_message_window_logged(void **state)
{
	struct fx *f = *state;
	uint64_t bm[1];

	uvfio_dma_set_msg_handler(f->dma, msg_fn, NULL);
	assert_int_equal(map_va(f->dma, 0x200000, 0x8000, RW, NULL), 0);
	assert_int_equal(start(f, PG, 0, NULL, NULL), 0);
	dwrite(f, 0x203000, 0x1001);
	assert_int_equal(msg_writes, 1);
	assert_int_equal(report(f, 0x200000, 0x8000, PG, bm, 1), 0);
	assert_int_equal(bm[0], (1ull << 3) | (1ull << 4));
	assert_int_equal(stop(f), 0);
}

/* Zero-copy write references mark their pages. */
static void test_write_ref_logged(void **state)
{
	struct fx *f = *state;
	struct uvfio_dma_ref ref;
	uint64_t bm[1];
	void *p;

	assert_int_equal(start(f, PG, 0, NULL, NULL), 0);
	p = uvfio_dma_get(f->dma, 0x115000, 0x1800, UVFIO_DMA_WRITE, &ref);
	assert_non_null(p);
	memset(p, 1, 0x1800);
	uvfio_dma_put(f->dma, &ref);
	assert_int_equal(report(f, 0x110000, 0x10000, PG, bm, 1), 0);
	assert_int_equal(bm[0], (1ull << 5) | (1ull << 6));
	assert_int_equal(stop(f), 0);
}


/* A report of more than 64 words goes through the chunked path page-exactly. */
static void test_big_report(void **state)
{
	struct fx *f = *state;
	const uint64_t base = 0x40000000, pages = 20480; /* 320 words */
	static uint8_t buf[8 + 24 + 320 * 8 + 1]; /* +1: the bitmap is unaligned below */
	uint8_t *b = buf + 1;
	uint32_t argsz = 8 + 24 + 320 * 8, flags = GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT;
	uint64_t len = pages * PG, pg = PG, w;
	const uint64_t dirty[] = { 0, 4095, 4096, 4097, 8191, 20479 };
	size_t rl = 0;

	uvfio_dma_set_msg_handler(f->dma, msg_fn, NULL);
	assert_int_equal(map_va(f->dma, base, len, RW, NULL), 0);
	assert_int_equal(start(f, PG, 0, NULL, NULL), 0);
	for (size_t i = 0; i < sizeof(dirty) / sizeof(dirty[0]); i++)
		dwrite(f, base + dirty[i] * PG + 17, 1);
	memcpy(b, &argsz, 4);
	memcpy(b + 4, &flags, 4);
	memcpy(b + 8, &base, 8);
	memcpy(b + 16, &len, 8);
	memcpy(b + 24, &pg, 8);
	assert_int_equal(uvfio_device_feature(f->dev, b, argsz, &rl), 0);
	assert_int_equal(rl, argsz);
	for (uint64_t p = 0; p < pages; p++) {
		bool want = false;

		for (size_t i = 0; i < sizeof(dirty) / sizeof(dirty[0]); i++)
			want |= dirty[i] == p;
		memcpy(&w, b + 32 + (p / 64) * 8, 8);
		assert_int_equal(!!(w & (1ull << (p % 64))), want);
	}
	assert_int_equal(stop(f), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_dma_space),
		T(test_probe_and_ops),
		T(test_start_errors),
		T(test_report_errors),
		T(test_span_windows_exact),
		T(test_ranges_only),
		T(test_message_window_logged),
		T(test_write_ref_logged),
		T(test_big_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
