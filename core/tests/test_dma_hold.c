/* SPDX-License-Identifier: MIT */
/* The in-flight table of a DMA space (core/dma_hold.c) against a plain array model. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/dma_internal.h"

#define KEYS 3000

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/*
 * Keys as windows are: 64-byte aligned addresses (never dereferenced). Not
 * consecutive ones: multiplicative hashing spreads those without a single
 * collision, and removal must be tested on runs of colliding keys.
 */
static const void *key(unsigned int i)
{
	uint64_t z = (i + 1) * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (const void *)(uintptr_t)((z & 0xffffffffffull) << 6 | 0x40);
}

static void test_random_ops(void **state)
{
	static uint32_t n[KEYS], w[KEYS];
	struct dma_holds h;
	uint32_t live = 0, max_cap = 0;

	(void)state;
	assert_int_equal(dma_holds_init(&h), 0);
	for (int op = 0; op < 400000; op++) {
		/* grow towards many holds, then drain */
		bool fill = op < 200000 ? rnd() % 3 != 0 : rnd() % 3 == 0;
		unsigned int i = (unsigned int)(rnd() % KEYS);
		bool write = rnd() & 1;

		if (fill || !n[i]) {
			if (!fill)
				continue;
			assert_int_equal(dma_holds_reserve(&h, 1), 0);
			assert_int_equal(dma_hold_check(&h, key(i), write), 0);
			dma_hold_add(&h, key(i), write);
			live += !n[i];
			n[i]++;
			w[i] += write;
		} else {
			/* a write hold if all are writes, else either kind */
			write = w[i] && (n[i] == w[i] || write);
			assert_int_equal(dma_hold_drop(&h, key(i), write), n[i] - 1);
			n[i]--;
			w[i] -= write;
			live -= !n[i];
		}
		assert_int_equal(h.used, live);
		assert_true(h.used <= (h.mask + 1) / 2); /* at most half full */
		if (h.mask + 1 > max_cap)
			max_cap = h.mask + 1;
		if (op % 1000 == 0 || op > 399000) {
			for (unsigned int k = 0; k < KEYS; k++) {
				assert_int_equal(dma_hold_count(&h, key(k)), n[k]);
				assert_int_equal(dma_hold_writes(&h, key(k)), w[k]);
			}
		}
	}
	assert_true(max_cap > 64); /* it grew */
	for (unsigned int k = 0; k < KEYS; k++)
		while (n[k]) {
			assert_int_equal(dma_hold_drop(&h, key(k), w[k] > 0), n[k] - 1);
			w[k] -= w[k] > 0;
			n[k]--;
		}
	assert_int_equal(h.used, 0);
	for (unsigned int k = 0; k <= h.mask; k++)
		assert_null(h.v[k].key);
	dma_holds_fini(&h);
}

/* A drop without a hold changes nothing; counts saturate with -EAGAIN. */
static void test_edges(void **state)
{
	struct dma_holds h;

	(void)state;
	assert_int_equal(dma_holds_init(&h), 0);
	assert_int_equal(dma_hold_drop(&h, key(1), false), 0);
	assert_int_equal(h.used, 0);
	assert_int_equal(dma_holds_reserve(&h, 1), 0);
	dma_hold_add(&h, key(1), true);
	for (uint32_t i = 0; i <= h.mask; i++)
		if (h.v[i].key == key(1)) {
			h.v[i].n = UINT32_MAX;
			h.v[i].w = 1;
		}
	assert_int_equal(dma_hold_check(&h, key(1), false), -EAGAIN);
	assert_int_equal(dma_hold_check(&h, key(2), false), 0);
	dma_holds_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_ops),
		cmocka_unit_test(test_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
