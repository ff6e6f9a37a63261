/* SPDX-License-Identifier: MIT */
/* The B+tree of IOVA windows against a plain array model. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/iova_tree.h"

#define N 4096
#define SLOT 0x10000ull /* node i may occupy [i*SLOT, i*SLOT + len) */

static struct iova_node nodes[N];
static bool present[N];
static uint8_t tags[N]; /* the model of the index's tags */

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_random_ops(void **state)
{
	struct iova_tree t;
	uint32_t count;

	(void)state;
	iova_tree_init(&t);
	for (int op = 0; op < 200000; op++) {
		unsigned int i = (unsigned int)(rnd() % N);

		if (present[i]) {
			iova_tree_remove(&t, &nodes[i]);
			present[i] = false;
		} else {
			nodes[i].start = i * SLOT;
			nodes[i].last = i * SLOT + 0x1000 * (1 + rnd() % 15) - 1;
			nodes[i].data = rnd();
			tags[i] = (uint8_t)rnd();
			assert_int_equal(iova_tree_insert(&t, &nodes[i], tags[i]), 0);
			present[i] = true;
		}
		/* the index's copy of a tag follows the node through splits and merges */
		if (op % 7 == 0) {
			unsigned int k = (unsigned int)(rnd() % N);

			if (present[k]) {
				tags[k] = (uint8_t)rnd();
				iova_tree_set_tag(&t, nodes[k].start, tags[k]);
			}
		}
		if (op < 20000 || op % 100 == 0) {
			assert_int_equal(iova_tree_check(&t), 0);
		}
	}
	/* or_tags over random ranges: the overlapped nodes' tags and bytes */
	for (int k = 0; k < 200; k++) {
		uint64_t a = rnd() % (N * SLOT), b = a + rnd() % (64 * SLOT), bytes = 0;
		uint8_t bit = (uint8_t)(1u << (rnd() % 8));

		for (unsigned int i = 0; i < N; i++) {
			if (present[i] && nodes[i].start <= b && nodes[i].last >= a) {
				tags[i] |= bit;
				bytes += nodes[i].last - nodes[i].start + 1;
			}
		}
		assert_int_equal(iova_tree_or_tags(&t, a, b, bit), bytes);
	}
	/* lookups from the index alone agree with the nodes */
	for (unsigned int i = 0; i < N; i++) {
		struct iova_hit h;
		int found = iova_tree_lookup(&t, i * SLOT + 0x800, &h);

		assert_int_equal(found, present[i]);
		if (!found)
			continue;
		assert_ptr_equal(h.node, &nodes[i]);
		assert_int_equal(h.start, nodes[i].start);
		assert_int_equal(h.last, nodes[i].last);
		assert_int_equal(h.data, nodes[i].data);
		assert_int_equal(h.tag, tags[i]);
		assert_int_equal(iova_tree_lookup(&t, nodes[i].last + 1, &h), 0);
		/* seek from the gap after it finds the next present node */
		found = iova_tree_seek(&t, nodes[i].last + 1, &h);
		for (unsigned int j = i + 1; j <= N; j++) {
			if (j == N) {
				assert_int_equal(found, 0);
			} else if (present[j]) {
				assert_int_equal(found, 1);
				assert_ptr_equal(h.node, &nodes[j]);
				assert_int_equal(h.tag, tags[j]);
				break;
			}
		}
	}
	/* lookups agree with the model */
	for (unsigned int i = 0; i < N; i++) {
		uint64_t addr = i * SLOT + 0x800;
		struct iova_node *f = iova_tree_find(&t, addr);

		assert_ptr_equal(f, present[i] ? &nodes[i] : NULL);
		f = iova_tree_first_from(&t, i * SLOT);
		for (unsigned int j = i; j < N; j++) {
			if (present[j]) {
				assert_ptr_equal(f, &nodes[j]);
				break;
			}
			if (j == N - 1)
				assert_null(f);
		}
	}
	/* in-order iteration visits every node once, ascending */
	count = 0;
	for (struct iova_node *n = iova_tree_first_from(&t, 0), *prev = NULL; n;
	     prev = n, n = iova_tree_next(&t, n)) {
		if (prev)
			assert_true(prev->last < n->start);
		count++;
	}
	assert_int_equal(count, t.count);
	/* drain in slot order: merges and root collapses down to empty */
	for (unsigned int i = 0; i < N; i++) {
		if (!present[i])
			continue;
		iova_tree_remove(&t, &nodes[i]);
		present[i] = false;
		assert_int_equal(iova_tree_check(&t), 0);
	}
	assert_int_equal(t.count, 0);
	assert_null(iova_tree_first_from(&t, 0));
	iova_tree_fini(&t);
}

/* Ascending then descending fills (split at either end), removal from the top. */
static void test_sequential(void **state)
{
	struct iova_tree t;

	(void)state;
	iova_tree_init(&t);
	for (unsigned int i = 0; i < N; i++) {
		unsigned int k = i < N / 2 ? i : N - 1 - (i - N / 2);

		nodes[k].start = k * SLOT;
		nodes[k].last = k * SLOT + SLOT - 1; /* adjacent windows */
		assert_int_equal(iova_tree_insert(&t, &nodes[k], 0), 0);
	}
	assert_int_equal(iova_tree_check(&t), 0);
	assert_int_equal(t.count, N);
	for (unsigned int k = 0; k < N; k++) {
		assert_ptr_equal(iova_tree_find(&t, k * SLOT), &nodes[k]);
		assert_ptr_equal(iova_tree_find(&t, k * SLOT + SLOT - 1), &nodes[k]);
		assert_ptr_equal(iova_tree_first_overlap(&t, k * SLOT + 5, k * SLOT + 5), &nodes[k]);
	}
	assert_null(iova_tree_find(&t, N * SLOT));
	for (unsigned int i = N; i-- > 0;) {
		iova_tree_remove(&t, &nodes[i]);
		if (i % 64 == 0)
			assert_int_equal(iova_tree_check(&t), 0);
	}
	assert_int_equal(iova_tree_check(&t), 0);
	assert_null(t.root);
	iova_tree_fini(&t);
}

static void test_overlap_and_top(void **state)
{
	struct iova_tree t;
	struct iova_node a = { .start = 0x1000, .last = 0x1fff };
	struct iova_node b = { .start = 0x1fff, .last = 0x2fff };
	struct iova_node top = { .start = UINT64_MAX - 0xfff, .last = UINT64_MAX };

	(void)state;
	iova_tree_init(&t);
	assert_int_equal(iova_tree_insert(&t, &a, 0), 0);
	assert_int_equal(iova_tree_insert(&t, &b, 0), -EEXIST);
	b.start = 0x2000;
	assert_int_equal(iova_tree_insert(&t, &b, 0), 0);
	assert_int_equal(iova_tree_insert(&t, &top, 0), 0);
	assert_ptr_equal(iova_tree_find(&t, UINT64_MAX), &top);
	assert_null(iova_tree_next(&t, &top));
	assert_ptr_equal(iova_tree_next(&t, &a), &b);
	assert_ptr_equal(iova_tree_first_overlap(&t, 0, 0x1000), &a);
	assert_null(iova_tree_first_overlap(&t, 0x3000, 0x4000));
	iova_tree_remove(&t, &a);
	assert_null(iova_tree_find(&t, 0x1000));
	assert_int_equal(t.count, 2);
	iova_tree_remove(&t, &b);
	iova_tree_remove(&t, &top);
	iova_tree_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_ops),
		cmocka_unit_test(test_sequential),
		cmocka_unit_test(test_overlap_and_top),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
