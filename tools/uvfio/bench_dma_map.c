/* SPDX-License-Identifier: MIT */
/*
 * `uvfio bench dma-map --entries N`: the cost of the DMA space's map,
 * translate (get + put) and unmap as the number of windows grows.
 *
 * N distinct 4 KiB windows at random-ordered iovas (8 KiB apart, so none are
 * adjacent), all backed by one caller page (vaddr windows: no mmap cost in
 * the numbers). Then T random translates of 8 bytes at random offsets, then
 * an EXACT unmap of every window in a new random order. Each phase is timed
 * in batches; a phase's result is the median of the batch means, in ns per
 * operation (the translate p99 of batch means is printed in text mode).
 * Addresses are drawn before timing so the PRNG is not measured. Text mode
 * also prints a memory floor measured in the same run (see measure_floor).
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <uvfio/dma.h>

#include "bench.h"
#include "commands.h"
#include "progress.h"
#include "core/dma_internal.h"

#define WIN_SIZE 0x1000ull
#define WIN_STRIDE 0x2000ull
#define XLATE_LEN 8
#define XLATE_BATCH 1000

struct dma_map_opts {
	uint64_t entries, translates, seed;
	bool json;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: uvfio bench dma-map [--entries N] [--translates T] [--seed S] [--json]\n"
		"  --entries N     windows to map (default 1000)\n"
		"  --translates T  random uvfio_dma_get/put pairs (default 1000000)\n"
		"  --seed S        PRNG seed (default 1)\n"
		"  --json          one JSON object: entries, map_ns, translate_ns, unmap_ns,\n"
		"                  window_bytes (sizeof the per-window struct)\n");
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse(int argc, char **argv, struct dma_map_opts *o)
{
	static const struct option longopts[] = {
		{ "entries", required_argument, NULL, 'n' },
		{ "translates", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct dma_map_opts){ .entries = 1000, .translates = 1000000, .seed = 1 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:t:s:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			/* the iovas (N * 8 KiB) and the limit (u32) must fit */
			if (parse_u64(optarg, 1, UINT32_MAX, &o->entries))
				goto bad;
			break;
		case 't':
			if (parse_u64(optarg, 1, 1ull << 32, &o->translates))
				goto bad;
			break;
		case 's':
			if (parse_u64(optarg, 0, UINT64_MAX, &o->seed))
				goto bad;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "uvfio bench dma-map: bad value '%s' for --%s\n", optarg,
		c == 'n' ? "entries" : c == 't' ? "translates" : "seed");
	return -EINVAL;
}

static void shuffle(uint64_t *v, uint64_t n, struct bench_rng *r)
{
	for (uint64_t i = n - 1; i > 0; i--) {
		uint64_t j = bench_rng_below(r, i + 1), t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

static size_t nbatches(uint64_t ops, uint64_t batch)
{
	return (size_t)((ops + batch - 1) / batch);
}

/*
 * The memory floor of this machine for the same working set: one dependent
 * load per op from a random one of n records the size of a window's heap
 * chunk. A translate must at least touch its window once; in a tree that
 * no longer fits the cache, each of the lower levels costs about this much.
 * Returns ns per load, or a negative value without memory.
 */
static double measure_floor(uint64_t n, uint64_t ops, size_t rec, struct bench_rng *r)
{
	size_t nb = nbatches(ops, XLATE_BATCH);
	uint64_t *order = NULL, t0, p = 0;
	double ns = -1, *means = NULL;
	char *recs;

	recs = calloc((size_t)n, rec);
	order = calloc((size_t)n, sizeof(*order));
	if (!recs || !order)
		goto out;
	for (uint64_t i = 0; i < n; i++)
		order[i] = i;
	shuffle(order, n, r);
	/* one random cycle through all records: every load depends on the last */
	for (uint64_t i = 0; i < n; i++)
		*(uint64_t *)(recs + order[i] * rec) = order[(i + 1) % n];
	for (uint64_t i = 0; i < n; i++) /* warm up: fault in, fill caches */
		p = *(volatile uint64_t *)(recs + p * rec);
	/* median of batch means, as for the operations */
	means = calloc(nb, sizeof(*means));
	if (!means)
		goto out;
	for (size_t b = 0; b < nb; b++) {
		t0 = bench_now_ns();
		for (uint64_t i = 0; i < XLATE_BATCH; i++)
			p = *(volatile uint64_t *)(recs + p * rec);
		means[b] = (double)(bench_now_ns() - t0) / XLATE_BATCH;
	}
	ns = bench_median(means, nb);
out:
	free(means);
	free(order);
	free(recs);
	return ns;
}

int bench_dma_map(int argc, char **argv)
{
	struct dma_map_opts o;
	struct uvfio_dma_limits lim = { 0 };
	struct uvfio_dma *dma = NULL;
	uint64_t *iovas = NULL, *picks = NULL, batch, failed = 0;
	double *m_map = NULL, *m_xl = NULL, *m_unmap = NULL;
	double map_ns, xl_ns, xl_p99, unmap_ns, heap_per_win, floor_ns;
	size_t nb_map, nb_xl;
	struct mallinfo2 mi0, mi1;
	struct bench_rng rng;
	struct progress prog;
	void *page = NULL;
	uintptr_t sink = 0;
	int ret = UVFIO_EXIT_FAILURE, r;

	r = parse(argc, argv, &o);
	if (r)
		return r > 0 ? UVFIO_EXIT_OK : UVFIO_EXIT_USAGE;

	/* small N: batches of >= 16 ops keep clock overhead below ~2 ns/op */
	batch = o.entries / 50;
	batch = batch < 16 ? 16 : batch > 1000 ? 1000 : batch;
	nb_map = nbatches(o.entries, batch);
	nb_xl = nbatches(o.translates, XLATE_BATCH);

	lim.max_entries = (uint32_t)o.entries;
	dma = uvfio_dma_create(&lim);
	page = aligned_alloc(WIN_SIZE, WIN_SIZE);
	iovas = calloc((size_t)o.entries, sizeof(*iovas));
	picks = calloc((size_t)o.translates, sizeof(*picks));
	m_map = calloc(nb_map, sizeof(double));
	m_unmap = calloc(nb_map, sizeof(double));
	m_xl = calloc(nb_xl, sizeof(double));
	if (!dma || !page || !iovas || !picks || !m_map || !m_unmap || !m_xl) {
		fprintf(stderr, "uvfio bench dma-map: out of memory\n");
		goto out;
	}
	memset(page, 0, WIN_SIZE);

	bench_rng_seed(&rng, o.seed);
	for (uint64_t i = 0; i < o.entries; i++)
		iovas[i] = i * WIN_STRIDE;
	shuffle(iovas, o.entries, &rng);
	for (uint64_t i = 0; i < o.translates; i++)
		picks[i] = iovas[bench_rng_below(&rng, o.entries)] +
			   bench_rng_below(&rng, WIN_SIZE - XLATE_LEN + 1);

	mi0 = mallinfo2();
	progress_start(&prog, "dma-map: map", o.entries, PROGRESS_COUNT);
	for (size_t b = 0; b < nb_map; b++) {
		uint64_t first = b * batch, end = first + batch < o.entries ? first + batch : o.entries;
		uint64_t t0 = bench_now_ns();

		for (uint64_t i = first; i < end; i++) {
			struct uvfio_dma_map_args a = {
				.iova = iovas[i], .size = WIN_SIZE, .prot = UVFIO_DMA_READ,
				.fd = -1, .vaddr = page,
			};

			r = uvfio_dma_map(dma, &a);
			if (r) {
				fprintf(stderr, "uvfio bench dma-map: map 0x%llx: %s\n",
					(unsigned long long)iovas[i], strerror(-r));
				goto out;
			}
		}
		m_map[b] = (double)(bench_now_ns() - t0) / (double)(end - first);
		progress_update(&prog, end); /* between batches: not timed */
	}
	mi1 = mallinfo2();
	progress_done(&prog);
	heap_per_win = (double)(mi1.uordblks - mi0.uordblks) / (double)o.entries;

	progress_start(&prog, "dma-map: translate", o.translates, PROGRESS_COUNT);
	for (size_t b = 0; b < nb_xl; b++) {
		uint64_t first = b * XLATE_BATCH;
		uint64_t end = first + XLATE_BATCH < o.translates ? first + XLATE_BATCH : o.translates;
		uint64_t t0 = bench_now_ns();

		for (uint64_t i = first; i < end; i++) {
			struct uvfio_dma_ref ref;
			void *p = uvfio_dma_get(dma, picks[i], XLATE_LEN, UVFIO_DMA_READ, &ref);

			if (!p) {
				failed++;
				continue;
			}
			sink += (uintptr_t)p;
			uvfio_dma_put(dma, &ref);
		}
		m_xl[b] = (double)(bench_now_ns() - t0) / (double)(end - first);
		progress_update(&prog, end);
	}
	progress_done(&prog);
	if (failed) {
		fprintf(stderr, "uvfio bench dma-map: %llu translates failed\n",
			(unsigned long long)failed);
		goto out;
	}

	shuffle(iovas, o.entries, &rng);
	progress_start(&prog, "dma-map: unmap", o.entries, PROGRESS_COUNT);
	for (size_t b = 0; b < nb_map; b++) {
		uint64_t first = b * batch, end = first + batch < o.entries ? first + batch : o.entries;
		uint64_t t0 = bench_now_ns(), n;

		for (uint64_t i = first; i < end; i++) {
			r = uvfio_dma_unmap(dma, iovas[i], WIN_SIZE, UVFIO_DMA_UNMAP_EXACT, &n);
			if (r || n != WIN_SIZE) {
				fprintf(stderr, "uvfio bench dma-map: unmap 0x%llx: %s\n",
					(unsigned long long)iovas[i], r ? strerror(-r) : "short");
				goto out;
			}
		}
		m_unmap[b] = (double)(bench_now_ns() - t0) / (double)(end - first);
		progress_update(&prog, end);
	}
	progress_done(&prog);
	if (uvfio_dma_count(dma)) {
		fprintf(stderr, "uvfio bench dma-map: windows left after unmapping all\n");
		goto out;
	}

	map_ns = bench_median(m_map, nb_map);
	unmap_ns = bench_median(m_unmap, nb_map);
	xl_ns = bench_median(m_xl, nb_xl);
	xl_p99 = bench_percentile(m_xl, nb_xl, 99);

	floor_ns = measure_floor(o.entries, o.translates, 80, &rng);

	if (o.json) {
		const struct bench_kv kv[] = {
			{ "entries", (double)o.entries, true },
			{ "map_ns", map_ns, false },
			{ "translate_ns", xl_ns, false },
			{ "unmap_ns", unmap_ns, false },
			{ "window_bytes", (double)uvfio_dma__window_bytes(), true },
		};

		bench_print_json(stdout, kv, sizeof(kv) / sizeof(kv[0]));
	} else {
		printf("dma-map: %llu windows of 4 KiB, %zu bytes per window struct "
		       "(%.0f heap bytes per window with malloc overhead)\n",
		       (unsigned long long)o.entries, uvfio_dma__window_bytes(), heap_per_win);
		printf("  map        %8.1f ns/op  (median of %zu batch means, %llu ops each)\n",
		       map_ns, nb_map, (unsigned long long)batch);
		printf("  translate  %8.1f ns/op  (get+put; median of %zu batch means of %d, p99 %.1f)\n",
		       xl_ns, nb_xl, XLATE_BATCH, xl_p99);
		printf("  unmap      %8.1f ns/op  (EXACT, random order; median of %zu batch means)\n",
		       unmap_ns, nb_map);
		printf("  floor      %8.1f ns/op  (one dependent random load over %llu 80-byte records)\n",
		       floor_ns, (unsigned long long)o.entries);
	}
	ret = sink ? UVFIO_EXIT_OK : UVFIO_EXIT_FAILURE;
out:
	free(m_xl);
	free(m_unmap);
	free(m_map);
	free(picks);
	free(iovas);
	uvfio_dma_destroy(dma);
	free(page);
	return ret;
}
