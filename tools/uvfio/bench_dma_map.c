/* SPDX-License-Identifier: MIT */
/*
 * `uvfio bench dma-map`: the cost of the DMA space's map, translate (get +
 * put) and unmap as the number of windows grows, in process; then DMA_MAP
 * and DMA_UNMAP end to end over a vfio-user socket, with and without an fd
 * (bench_dma_map_e2e.c).
 *
 * In process, for each N of --entries: N distinct 4 KiB windows at
 * random-ordered iovas (8 KiB apart, so none are adjacent), all backed by
 * one caller page (vaddr windows: the data structure alone, no syscalls).
 * A warm-up round maps them, runs T random translates of 8 bytes at random
 * offsets (timed), and unmaps them; then R rounds map and unmap them again
 * (timed; R = 20000 / N rounded up, so that a small N is measured over
 * enough operations). Map and unmap are timed in batches (N / 50, 16 to
 * 1000 ops, at most N); a phase's result is the median of the batch means
 * in ns per operation, after subtracting the cost of reading the clock
 * (measured in the same run: it matters at N = 1, where a batch is one op).
 * Addresses are drawn before timing so the PRNG is not measured.
 *
 * Each N also gets a memory floor measured in the same run (measure_floor)
 * and the bookkeeping bytes per window (window and index arenas plus heap
 * growth, after the N maps).
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <uvfio/dma.h>

#include "bench.h"
#include "bench_dma_map.h"
#include "commands.h"
#include "progress.h"
#include "core/dma_internal.h"

#define WIN_SIZE 0x1000ull
#define WIN_STRIDE 0x2000ull
#define XLATE_LEN 8
#define XLATE_BATCH 1000
#define MIN_MAP_OPS 20000
#define MAX_ENTRIES_LIST 16

struct dma_map_opts {
	uint64_t entries[MAX_ENTRIES_LIST];
	unsigned int nentries;
	uint64_t translates, seed;
	bool json, core, e2e;
	struct dma_e2e_opts e;
};

struct core_result {
	uint64_t n;
	double map, xl, xl_p99, unmap, floor, bytes_per_win;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: uvfio bench dma-map [--entries N[,N...]] [--translates T] [--seed S]\n"
		"                           [--windows W] [--rounds R] [--full F] [--cpu C]\n"
		"                           [--core-only | --e2e-only] [--json]\n"
		"in process (the DMA space alone, vaddr windows):\n"
		"  --entries N,...  window counts (default 1,1000,10000,65535)\n"
		"  --translates T   random uvfio_dma_get/put pairs per N (default 1000000)\n"
		"  --seed S         PRNG seed (default 1)\n"
		"end to end (client process -> testdev server process, one memfd):\n"
		"  --windows W      windows per round, DMA_MAP then DMA_UNMAP each (default 1000)\n"
		"  --rounds R       interleaved rounds with and without an fd (default 5)\n"
		"  --full F         fd-backed windows mapped at once, then unmapped (default\n"
		"                   65535, 0 skips): the server's VMA count at the top\n"
		"  --cpu C          pin the bench and the server to CPU C\n"
		"  --json           JSON lines: {\"part\": \"core\", \"entries\": N, ...} per N, then\n"
		"                   \"e2e\" and \"e2e-full\"\n");
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

/* "1,1000,65535": the iovas (N * 8 KiB) and the limit (u32) must fit. */
static int parse_list(char *s, struct dma_map_opts *o)
{
	char *save = NULL, *tok;

	o->nentries = 0;
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->nentries == MAX_ENTRIES_LIST ||
		    parse_u64(tok, 1, UINT32_MAX, &o->entries[o->nentries]))
			return -EINVAL;
		o->nentries++;
	}
	return o->nentries ? 0 : -EINVAL;
}

static int parse(int argc, char **argv, struct dma_map_opts *o)
{
	static const struct option longopts[] = {
		{ "entries", required_argument, NULL, 'n' },
		{ "translates", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "windows", required_argument, NULL, 'w' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "full", required_argument, NULL, 'f' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "core-only", no_argument, NULL, 'C' },
		{ "e2e-only", no_argument, NULL, 'E' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	*o = (struct dma_map_opts){
		.entries = { 1, 1000, 10000, 65535 }, .nentries = 4,
		.translates = 1000000, .seed = 1, .core = true, .e2e = true,
		.e = { .windows = 1000, .rounds = 5, .full = 65535 },
	};
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:t:s:w:r:f:c:CEjh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_list(optarg, o))
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
		case 'w':
			/* one memfd page per window, iovas 8 KiB apart */
			if (parse_u64(optarg, 1, 65535, &o->e.windows))
				goto bad;
			break;
		case 'r':
			if (parse_u64(optarg, 1, 1000, &o->e.rounds))
				goto bad;
			break;
		case 'f':
			if (parse_u64(optarg, 0, 65535, &o->e.full))
				goto bad;
			break;
		case 'c':
			if (parse_u64(optarg, 0, 1023, &v))
				goto bad;
			o->e.cpu = (unsigned long)v;
			o->e.pinned = true;
			break;
		case 'C':
			o->e2e = false;
			break;
		case 'E':
			o->core = false;
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
	if (optind != argc || (!o->core && !o->e2e)) {
		usage(stderr);
		return -EINVAL;
	}
	o->e.json = o->json;
	return 0;
bad:
	fprintf(stderr, "uvfio bench dma-map: bad value '%s'\n", optarg);
	return -EINVAL;
}

static void shuffle(uint64_t *v, uint64_t n, struct bench_rng *r)
{
	for (uint64_t i = n - 1; i > 0 && n; i--) {
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
 * load per op from a random one of n records of 80 bytes (a window and its
 * share of the index). A translate must at least touch its index entry once;
 * when N windows no longer fit the caches, that is one cache (and maybe TLB)
 * miss. Returns ns per load, or a negative value without memory.
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

/* The cost of one bench_now_ns() pair, to subtract from a timed batch. */
static double clock_cost(void)
{
	double v[1001];

	for (int i = 0; i < 1001; i++) {
		uint64_t t0 = bench_now_ns();

		v[i] = (double)(bench_now_ns() - t0);
	}
	return bench_median(v, 1001);
}

static double per_op(uint64_t t0, uint64_t t1, double clk, uint64_t ops)
{
	double ns = (double)(t1 - t0) - clk;

	return (ns > 0 ? ns : 0) / (double)ops;
}

/* Map iovas[0..n) in batches; means[] gets a mean per batch. */
static int map_all(struct uvfio_dma *dma, const uint64_t *iovas, uint64_t n, uint64_t batch,
		   void *page, double clk, double *means)
{
	for (size_t b = 0; b * batch < n; b++) {
		uint64_t first = b * batch, end = first + batch < n ? first + batch : n;
		uint64_t t0 = bench_now_ns();

		for (uint64_t i = first; i < end; i++) {
			struct uvfio_dma_map_args a = {
				.iova = iovas[i], .size = WIN_SIZE, .prot = UVFIO_DMA_READ,
				.fd = -1, .vaddr = page,
			};
			int r = uvfio_dma_map(dma, &a);

			if (r) {
				fprintf(stderr, "uvfio bench dma-map: map 0x%llx: %s\n",
					(unsigned long long)iovas[i], strerror(-r));
				return r;
			}
		}
		if (means)
			means[b] = per_op(t0, bench_now_ns(), clk, end - first);
	}
	return 0;
}

static int unmap_all(struct uvfio_dma *dma, const uint64_t *iovas, uint64_t n, uint64_t batch,
		     double clk, double *means)
{
	for (size_t b = 0; b * batch < n; b++) {
		uint64_t first = b * batch, end = first + batch < n ? first + batch : n;
		uint64_t t0 = bench_now_ns(), got;

		for (uint64_t i = first; i < end; i++) {
			int r = uvfio_dma_unmap(dma, iovas[i], WIN_SIZE, UVFIO_DMA_UNMAP_EXACT, &got);

			if (r || got != WIN_SIZE) {
				fprintf(stderr, "uvfio bench dma-map: unmap 0x%llx: %s\n",
					(unsigned long long)iovas[i], r ? strerror(-r) : "short");
				return r ? r : -EIO;
			}
		}
		if (means)
			means[b] = per_op(t0, bench_now_ns(), clk, end - first);
	}
	return 0;
}

static int translate(struct uvfio_dma *dma, const uint64_t *picks, uint64_t t, double clk,
		     double *means)
{
	struct progress prog;
	uintptr_t sink = 0;
	uint64_t failed = 0;

	progress_start(&prog, "dma-map: translate", t, PROGRESS_COUNT);
	for (size_t b = 0; b * XLATE_BATCH < t; b++) {
		uint64_t first = b * XLATE_BATCH;
		uint64_t end = first + XLATE_BATCH < t ? first + XLATE_BATCH : t;
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
		means[b] = per_op(t0, bench_now_ns(), clk, end - first);
		progress_update(&prog, end);
	}
	progress_done(&prog);
	if (failed || !sink) {
		fprintf(stderr, "uvfio bench dma-map: %llu translates failed\n",
			(unsigned long long)failed);
		return -EIO;
	}
	return 0;
}

static int core_run(uint64_t n, uint64_t t, struct bench_rng *rng, double clk,
		    struct core_result *res)
{
	uint64_t batch = n / 50, rounds = (MIN_MAP_OPS + n - 1) / n;
	struct uvfio_dma_limits lim = { .max_entries = (uint32_t)n };
	double *m_map = NULL, *m_unmap = NULL, *m_xl = NULL;
	uint64_t *iovas = NULL, *order = NULL, *picks = NULL;
	size_t nb, nb_xl = nbatches(t, XLATE_BATCH);
	struct uvfio_dma *dma;
	struct mallinfo2 mi0, mi1;
	struct progress prog;
	void *page = NULL;
	int ret = -ENOMEM;

	batch = batch < 16 ? 16 : batch > 1000 ? 1000 : batch;
	batch = batch > n ? n : batch;
	nb = nbatches(n, batch);
	dma = uvfio_dma_create(&lim);
	page = aligned_alloc(WIN_SIZE, WIN_SIZE);
	iovas = calloc((size_t)n, sizeof(*iovas));
	order = calloc((size_t)n, sizeof(*order));
	picks = calloc((size_t)t, sizeof(*picks));
	m_map = calloc(nb * rounds, sizeof(double));
	m_unmap = calloc(nb * rounds, sizeof(double));
	m_xl = calloc(nb_xl, sizeof(double));
	if (!dma || !page || !iovas || !order || !picks || !m_map || !m_unmap || !m_xl) {
		fprintf(stderr, "uvfio bench dma-map: out of memory\n");
		goto out;
	}
	memset(page, 0, WIN_SIZE);
	for (uint64_t i = 0; i < n; i++)
		iovas[i] = i * WIN_STRIDE;
	shuffle(iovas, n, rng);
	for (uint64_t i = 0; i < t; i++)
		picks[i] = iovas[bench_rng_below(rng, n)] +
			   bench_rng_below(rng, WIN_SIZE - XLATE_LEN + 1);

	/* warm-up round, with the translates and the memory report */
	mi0 = mallinfo2();
	ret = map_all(dma, iovas, n, batch, page, clk, NULL);
	if (ret)
		goto out;
	mi1 = mallinfo2();
	res->bytes_per_win = ((double)mi1.uordblks - (double)mi0.uordblks +
			      (double)uvfio_dma__arena_bytes(dma)) / (double)n;
	ret = translate(dma, picks, t, clk, m_xl);
	if (ret)
		goto out;
	memcpy(order, iovas, n * sizeof(*order));
	shuffle(order, n, rng);
	ret = unmap_all(dma, order, n, batch, clk, NULL);
	if (ret)
		goto out;

	progress_start(&prog, "dma-map: map/unmap", rounds * n, PROGRESS_COUNT);
	for (uint64_t r = 0; r < rounds; r++) {
		shuffle(iovas, n, rng);
		memcpy(order, iovas, n * sizeof(*order));
		shuffle(order, n, rng);
		ret = map_all(dma, iovas, n, batch, page, clk, m_map + r * nb);
		if (!ret)
			ret = unmap_all(dma, order, n, batch, clk, m_unmap + r * nb);
		if (ret)
			goto out;
		progress_update(&prog, (r + 1) * n); /* between rounds: not timed */
	}
	progress_done(&prog);
	if (uvfio_dma_count(dma)) {
		fprintf(stderr, "uvfio bench dma-map: windows left after unmapping all\n");
		ret = -EIO;
		goto out;
	}
	res->n = n;
	res->map = bench_median(m_map, nb * rounds);
	res->unmap = bench_median(m_unmap, nb * rounds);
	res->xl = bench_median(m_xl, nb_xl);
	res->xl_p99 = bench_percentile(m_xl, nb_xl, 99);
	res->floor = measure_floor(n, t, 80, rng);
	ret = 0;
out:
	free(m_xl);
	free(m_unmap);
	free(m_map);
	free(picks);
	free(order);
	free(iovas);
	uvfio_dma_destroy(dma);
	free(page);
	return ret;
}

/*
 * fd-backed windows in process: 1000 windows of one memfd, each map with a
 * fresh fd (dup'd before timing; the space closes it), against the same
 * windows without an fd, interleaved in batches of 50. The difference is
 * what an fd costs the server beyond the socket (fstat, fcntl, close; the
 * one mmap, at the first window, and munmap, at the last, are in the batch
 * that has them).
 */
#define FD_WINDOWS 1000
#define FD_BATCH 50
#define FD_ROUNDS 10

struct fd_result {
	double map_fd, map_va, unmap_fd, unmap_va;
};

static int fd_run(struct fd_result *res, double clk)
{
	enum { NB = FD_WINDOWS / FD_BATCH * FD_ROUNDS };
	double m[4][NB];
	struct uvfio_dma *dma = uvfio_dma_create(NULL);
	int mfd = memfd_create("uvfio-bench-fd", MFD_CLOEXEC), ret = -ENOMEM;
	static int fds[FD_WINDOWS];
	void *page = aligned_alloc(WIN_SIZE, WIN_SIZE);
	size_t k = 0;

	if (!dma || mfd < 0 || !page || ftruncate(mfd, FD_WINDOWS * WIN_SIZE))
		goto out;
	for (int r = 0; r < FD_ROUNDS; r++) {
		for (int i = 0; i < FD_WINDOWS; i++) {
			fds[i] = dup(mfd);
			if (fds[i] < 0) {
				ret = -errno;
				while (i--)
					close(fds[i]);
				goto out;
			}
		}
		for (int b = 0; b < FD_WINDOWS / FD_BATCH; b++, k++) {
			uint64_t t0 = bench_now_ns(), t1;

			for (int i = b * FD_BATCH; i < (b + 1) * FD_BATCH; i++) {
				struct uvfio_dma_map_args a = {
					.iova = i * WIN_STRIDE, .size = WIN_SIZE,
					.prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE, .fd = fds[i],
					.fd_offset = i * WIN_SIZE,
				};

				ret = uvfio_dma_map(dma, &a);
				if (ret)
					goto out;
			}
			t1 = bench_now_ns();
			for (int i = b * FD_BATCH; i < (b + 1) * FD_BATCH; i++) {
				struct uvfio_dma_map_args a = {
					.iova = (FD_WINDOWS + i) * WIN_STRIDE, .size = WIN_SIZE,
					.prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE, .fd = -1,
					.vaddr = page,
				};

				ret = uvfio_dma_map(dma, &a);
				if (ret)
					goto out;
			}
			m[0][k] = per_op(t0, t1, clk, FD_BATCH);
			m[1][k] = per_op(t1, bench_now_ns(), clk, FD_BATCH);
		}
		k -= FD_WINDOWS / FD_BATCH;
		for (int b = 0; b < FD_WINDOWS / FD_BATCH; b++, k++) {
			uint64_t t0 = bench_now_ns(), t1;

			for (int i = b * FD_BATCH; i < (b + 1) * FD_BATCH; i++)
				uvfio_dma_unmap(dma, i * WIN_STRIDE, WIN_SIZE, 0, NULL);
			t1 = bench_now_ns();
			for (int i = b * FD_BATCH; i < (b + 1) * FD_BATCH; i++)
				uvfio_dma_unmap(dma, (FD_WINDOWS + i) * WIN_STRIDE, WIN_SIZE, 0, NULL);
			m[2][k] = per_op(t0, t1, clk, FD_BATCH);
			m[3][k] = per_op(t1, bench_now_ns(), clk, FD_BATCH);
		}
	}
	ret = uvfio_dma_count(dma) ? -EIO : 0;
	res->map_fd = bench_median(m[0], NB);
	res->map_va = bench_median(m[1], NB);
	res->unmap_fd = bench_median(m[2], NB);
	res->unmap_va = bench_median(m[3], NB);
out:
	if (ret)
		fprintf(stderr, "uvfio bench dma-map: fd windows: %s\n", strerror(-ret));
	uvfio_dma_destroy(dma);
	if (mfd >= 0)
		close(mfd);
	free(page);
	return ret;
}

static void core_print(const struct dma_map_opts *o, const struct core_result *res,
		       const struct core_result *ref, double clk)
{
	if (!o->json) {
		printf("dma-map in process: 4 KiB vaddr windows, %zu bytes per window struct; "
		       "ns/op (median of batch means, clock cost %.1f ns subtracted)\n"
		       "ratios: /%llu = to the N=%llu run, /fl = to the floor of the same N\n",
		       uvfio_dma__window_bytes(), clk, (unsigned long long)ref->n,
		       (unsigned long long)ref->n);
		printf("%8s %8s %6s %6s %10s %8s %6s %6s %8s %6s %6s %8s %8s\n", "N", "map",
		       "/ref", "/fl", "translate", "p99", "/ref", "/fl", "unmap", "/ref", "/fl",
		       "floor", "B/win");
	}
	for (unsigned int i = 0; i < o->nentries; i++) {
		const struct core_result *c = &res[i];

		if (o->json) {
			const struct bench_kv kv[] = {
				{ "entries", (double)c->n, true },
				{ "map_ns", c->map, false },
				{ "translate_ns", c->xl, false },
				{ "translate_p99_ns", c->xl_p99, false },
				{ "unmap_ns", c->unmap, false },
				{ "floor_ns", c->floor, false },
				{ "ref_entries", (double)ref->n, true },
				{ "map_ratio_ref", c->map / ref->map, false },
				{ "translate_ratio_ref", c->xl / ref->xl, false },
				{ "unmap_ratio_ref", c->unmap / ref->unmap, false },
				{ "map_ratio_floor", c->map / c->floor, false },
				{ "translate_ratio_floor", c->xl / c->floor, false },
				{ "unmap_ratio_floor", c->unmap / c->floor, false },
				{ "bytes_per_window", c->bytes_per_win, false },
				{ "window_bytes", (double)uvfio_dma__window_bytes(), true },
				{ "clock_ns", clk, false },
			};

			bench_print_json_labeled(stdout, "part", "core", kv,
						 sizeof(kv) / sizeof(kv[0]));
		} else {
			printf("%8llu %8.1f %6.2f %6.1f %10.1f %8.1f %6.2f %6.1f %8.1f %6.2f %6.1f "
			       "%8.1f %8.0f\n",
			       (unsigned long long)c->n, c->map, c->map / ref->map, c->map / c->floor,
			       c->xl, c->xl_p99, c->xl / ref->xl, c->xl / c->floor, c->unmap,
			       c->unmap / ref->unmap, c->unmap / c->floor, c->floor, c->bytes_per_win);
		}
	}
	fflush(stdout);
}

int bench_dma_map(int argc, char **argv)
{
	struct core_result res[MAX_ENTRIES_LIST];
	const struct core_result *ref;
	struct fd_result fdr = { 0 };
	struct dma_map_opts o;
	struct bench_rng rng;
	double clk;
	int r;

	r = parse(argc, argv, &o);
	if (r)
		return r > 0 ? UVFIO_EXIT_OK : UVFIO_EXIT_USAGE;
	if (o.core) {
		bench_rng_seed(&rng, o.seed);
		clk = clock_cost();
		ref = &res[0];
		for (unsigned int i = 0; i < o.nentries; i++) {
			if (core_run(o.entries[i], o.translates, &rng, clk, &res[i]))
				return UVFIO_EXIT_FAILURE;
			/* ratios are to N = 1000 when it ran, else to the first N */
			if (o.entries[i] == 1000)
				ref = &res[i];
		}
		core_print(&o, res, ref, clk);
		if (fd_run(&fdr, clk))
			return UVFIO_EXIT_FAILURE;
		if (o.json) {
			const struct bench_kv kv[] = {
				{ "entries", FD_WINDOWS, true },
				{ "map_fd_ns", fdr.map_fd, false },
				{ "map_nofd_ns", fdr.map_va, false },
				{ "unmap_fd_ns", fdr.unmap_fd, false },
				{ "unmap_nofd_ns", fdr.unmap_va, false },
			};

			bench_print_json_labeled(stdout, "part", "core-fd", kv, 5);
		} else {
			printf("fd-backed, in process (%d windows of one memfd, a fresh fd each): "
			       "map %.0f ns (without fd %.0f), unmap %.0f ns (without fd %.0f)\n",
			       FD_WINDOWS, fdr.map_fd, fdr.map_va, fdr.unmap_fd, fdr.unmap_va);
		}
	}
	if (o.e2e && bench_dma_map_e2e(&o.e))
		return UVFIO_EXIT_FAILURE;
	return UVFIO_EXIT_OK;
}
