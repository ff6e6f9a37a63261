/* SPDX-License-Identifier: MIT */
/*
 * Device-access benchmarks against a testdev served by a forked vfio-user
 * server (or, for dma, the DMA space in process), each against its floor
 * measured in the same run:
 *
 *   posted  N posted REGION_WRITEs (No_reply) then one READ, against the
 *           same N writes with replies then one READ: ops/s and the ratio
 *   mmio    4-byte loads through the client's mmap of the testdev's memfd
 *           BAR (region 1), against 4-byte REGION_READs of it: ns per access
 *   dma     1 MiB uvfio_dma_write into an fd-backed window, against memcpy
 *           of 1 MiB into a mapping of the same kind: % of memcpy bandwidth
 *
 * Every figure is a median over repetitions (posted: runs of N; mmio and dma:
 * per-batch or per-transfer samples after a warm-up), with the p99 where
 * there are enough samples. The two sides of a comparison are interleaved so
 * load from other processes hits both. --cpu C pins the bench and the server
 * to one CPU (no cross-CPU wake-ups, ≈44 µs each on these VMs).
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uvfio/client.h>
#include <uvfio/dma.h>
#include <uvfio/server.h>

#include "bench.h"
#include "commands.h"
#include "devices/testdev.h"

struct dev_opts {
	unsigned long count, reps, cpu;
	bool pinned, json;
};

/* Returns 1 for --help, 0 to run, -EINVAL on a usage error. */
static int parse(const char *name, const char *help, int argc, char **argv, struct dev_opts *o)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "reps", required_argument, NULL, 'r' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "n:r:c:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (bench_parse_ul(optarg, 0, 1, 100000000, &o->count, NULL))
				goto bad;
			break;
		case 'r':
			if (bench_parse_ul(optarg, 0, 1, 100000, &o->reps, NULL))
				goto bad;
			break;
		case 'c':
			if (bench_parse_ul(optarg, 0, 0, CPU_SETSIZE - 1, &o->cpu, NULL))
				goto bad;
			o->pinned = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			printf("usage: uvfio bench %s [--count N] [--reps R] [--cpu C] [--json]\n%s",
			       name, help);
			return 1;
		default:
			goto usage;
		}
	}
	if (optind == argc)
		return 0;
usage:
	fprintf(stderr, "usage: uvfio bench %s [--count N] [--reps R] [--cpu C] [--json]\n", name);
	return -EINVAL;
bad:
	fprintf(stderr, "uvfio bench %s: bad value '%s'\n", name, optarg);
	return -EINVAL;
}

static int pin(const struct dev_opts *o, char *placement, size_t cap)
{
	return bench_pin(o->pinned, o->cpu, placement, cap);
}

/* ---- a forked testdev server and our client ---- */

struct peer {
	char dir[32], sock[64];
	pid_t pid;
	struct uvfio_client *c;
};

static int peer_start(struct peer *p)
{
	memset(p, 0, sizeof(*p));
	p->pid = -1;
	snprintf(p->dir, sizeof(p->dir), "/tmp/uvfio-bench-XXXXXX");
	if (!mkdtemp(p->dir))
		return -errno;
	snprintf(p->sock, sizeof(p->sock), "%s/dev.sock", p->dir);
	p->pid = bench_fork_testdev(p->sock, 0);
	if (p->pid < 0)
		return (int)p->pid;
	return uvfio_client_open(p->sock, NULL, &p->c);
}

static void peer_stop(struct peer *p)
{
	uvfio_client_close(p->c);
	bench_reap(p->pid);
	unlink(p->sock);
	rmdir(p->dir);
}

/* ---- posted ---- */

/* N writes of the scratch register, then a read that must see the last. */
static int write_run(struct uvfio_client *c, unsigned long n, bool posted, double *ns)
{
	uint64_t t0 = bench_now_ns(), v = 0;
	ssize_t r;

	for (uint64_t i = 1; i <= n; i++) {
		r = posted ? uvfio_client_write_posted(c, 0, TESTDEV_REG_SCRATCH, &i, 8)
			   : uvfio_client_write(c, 0, TESTDEV_REG_SCRATCH, &i, 8);
		if (r != 8)
			return r < 0 ? (int)r : -EIO;
	}
	if (uvfio_client_read(c, 0, TESTDEV_REG_SCRATCH, &v, 8) != 8 || v != n)
		return -EIO;
	*ns = (double)(bench_now_ns() - t0);
	return 0;
}

int bench_posted(int argc, char **argv)
{
	struct dev_opts o = { .count = 10000, .reps = 7 };
	char placement[48];
	double *pw, *rw, t, pmed, rmed;
	struct peer p;
	int rc, ret = UVFIO_EXIT_FAILURE;

	rc = parse("posted",
		   "  N (default 10000) posted REGION_WRITEs then one READ, against N with\n"
		   "  replies then one READ; R (default 7) interleaved runs of each, medians.\n",
		   argc, argv, &o);
	if (rc)
		return rc > 0 ? UVFIO_EXIT_OK : UVFIO_EXIT_USAGE;
	if (pin(&o, placement, sizeof(placement)))
		return UVFIO_EXIT_FAILURE;
	pw = calloc(o.reps, sizeof(*pw));
	rw = calloc(o.reps, sizeof(*rw));
	if (!pw || !rw || (rc = peer_start(&p))) {
		fprintf(stderr, "uvfio bench posted: could not start: %s\n", strerror(-rc));
		goto out;
	}
	/* warm-up: a tenth of a run each */
	if (write_run(p.c, o.count / 10 + 1, true, &t) || write_run(p.c, o.count / 10 + 1, false, &t))
		goto fail;
	for (unsigned long r = 0; r < o.reps; r++)
		if (write_run(p.c, o.count, true, &pw[r]) || write_run(p.c, o.count, false, &rw[r]))
			goto fail;
	pmed = bench_median(pw, o.reps);
	rmed = bench_median(rw, o.reps);
	if (o.json) {
		const struct bench_kv kv[] = {
			{ "count", (double)o.count, true },
			{ "posted_ops", o.count * 1e9 / pmed, true },
			{ "replied_ops", o.count * 1e9 / rmed, true },
			{ "ratio", rmed / pmed, false },
		};
		bench_print_json_labeled(stdout, "placement", placement, kv, 4);
	} else {
		printf("placement: %s (bench and server)\n", placement);
		printf("posted:  %lu No_reply REGION_WRITEs + 1 READ  %10.0f ops/s  (median of %lu runs, "
		       "slowest %.0f)\n", o.count, o.count * 1e9 / pmed, o.reps,
		       o.count * 1e9 / pw[o.reps - 1]);
		printf("replied: %lu REGION_WRITEs + 1 READ           %10.0f ops/s  (median of %lu runs, "
		       "slowest %.0f)\n", o.count, o.count * 1e9 / rmed, o.reps,
		       o.count * 1e9 / rw[o.reps - 1]);
		printf("ratio:   %.1fx (goal >= 3)\n", rmed / pmed);
	}
	ret = UVFIO_EXIT_OK;
	goto out_peer;
fail:
	fprintf(stderr, "uvfio bench posted: a run failed (the read did not see the last write)\n");
out_peer:
	peer_stop(&p);
out:
	free(pw);
	free(rw);
	return ret;
}

/* ---- mmio ---- */

#define MMIO_AREA 4096u
#define MMIO_LEN 4096u

int bench_mmio(int argc, char **argv)
{
	struct dev_opts o = { .count = 20000, .reps = 1 };
	enum { BATCH = 1000 };
	char placement[48];
	double *ms = NULL, *rs = NULL, mmed, rmed, mp99, rp99;
	volatile uint32_t *bar;
	uint32_t v, sink = 0;
	struct peer p;
	unsigned long nb;
	int rc, ret = UVFIO_EXIT_FAILURE;

	rc = parse("mmio",
		   "  4-byte loads through the client's mmap of testdev region 1 (memfd page),\n"
		   "  batches of 1000, against N (default 20000) 4-byte REGION_READs.\n",
		   argc, argv, &o);
	if (rc)
		return rc > 0 ? UVFIO_EXIT_OK : UVFIO_EXIT_USAGE;
	if (pin(&o, placement, sizeof(placement)))
		return UVFIO_EXIT_FAILURE;
	nb = o.count;
	ms = calloc(nb, sizeof(*ms));
	rs = calloc(nb, sizeof(*rs));
	if (!ms || !rs || (rc = peer_start(&p))) {
		fprintf(stderr, "uvfio bench mmio: could not start: %s\n", strerror(-rc));
		goto out;
	}
	/* region 1's mappable (sparse) area is its second page */
	bar = uvfio_client_mmap(p.c, 1, MMIO_AREA, MMIO_LEN, PROT_READ | PROT_WRITE);
	if (!bar) {
		fprintf(stderr, "uvfio bench mmio: mmap of region 1: %s\n", strerror(errno));
		goto out_peer;
	}
	/* the mapping is the device's memory: a write through it reads back by message */
	bar[100] = 0xfeedf00d;
	if (uvfio_client_read(p.c, 1, MMIO_AREA + 400, &v, 4) != 4 || v != 0xfeedf00d) {
		fprintf(stderr, "uvfio bench mmio: the mapping is not the device's memory\n");
		goto out_peer;
	}
	for (unsigned long i = 0; i < nb / 10 + 1; i++) /* warm-up */
		if (uvfio_client_read(p.c, 1, MMIO_AREA + (i * 4) % MMIO_LEN, &v, 4) != 4)
			goto out_peer;
	for (unsigned long i = 0; i < nb; i++) {
		uint64_t t0 = bench_now_ns(), t1;

		for (unsigned int k = 0; k < BATCH; k++)
			sink += bar[(k * 16) % (MMIO_LEN / 4)];
		t1 = bench_now_ns();
		ms[i] = (double)(t1 - t0) / BATCH;
		if (uvfio_client_read(p.c, 1, MMIO_AREA + (i * 64) % MMIO_LEN, &v, 4) != 4)
			goto out_peer;
		rs[i] = (double)(bench_now_ns() - t1);
		sink += v;
	}
	mmed = bench_median(ms, nb);
	mp99 = bench_percentile(ms, nb, 99);
	rmed = bench_median(rs, nb);
	rp99 = bench_percentile(rs, nb, 99);
	if (o.json) {
		const struct bench_kv kv[] = {
			{ "mmap_ns", mmed, false },	  { "mmap_p99_ns", mp99, false },
			{ "region_read_ns", rmed, false }, { "region_read_p99_ns", rp99, false },
			{ "ratio", rmed / mmed, false },
		};
		bench_print_json_labeled(stdout, "placement", placement, kv, 5);
	} else {
		printf("placement: %s (bench and server)\n", placement);
		printf("mmap:        4-byte load  median %10.2f ns  p99 %10.2f ns  (batches of %d)\n",
		       mmed, mp99, BATCH);
		printf("REGION_READ: 4 bytes      median %10.0f ns  p99 %10.0f ns  (%lu samples)\n",
		       rmed, rp99, nb);
		printf("ratio:       %.0fx (expect >= 100)%s\n", rmed / mmed, sink == 1 ? " " : "");
	}
	ret = UVFIO_EXIT_OK;
out_peer:
	peer_stop(&p);
out:
	free(ms);
	free(rs);
	return ret;
}

/* ---- dma ---- */

#define XFER (1u << 20)
#define DMA_IOVA 0x40000000ull

static void *memfd_map(int *fd_out)
{
	int fd = memfd_create("uvfio-bench-dma", MFD_CLOEXEC);
	void *p;

	if (fd < 0 || ftruncate(fd, XFER)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	p = mmap(NULL, XFER, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return NULL;
	}
	*fd_out = fd;
	return p;
}

int bench_dma(int argc, char **argv)
{
	struct dev_opts o = { .count = 2000, .reps = 1 };
	char placement[48];
	double *ds = NULL, *cs = NULL, dmed, cmed, dp99, cp99;
	struct uvfio_dma *dma = NULL;
	uint8_t *src = NULL, *floor_dst = NULL, *win = NULL;
	int fd = -1, floor_fd = -1, rc, ret = UVFIO_EXIT_FAILURE;
	unsigned long n, warm;

	rc = parse("dma",
		   "  N (default 2000) 1 MiB uvfio_dma_write()s into an fd-backed window of an\n"
		   "  in-process DMA space, interleaved with 1 MiB memcpy()s into a mapping of\n"
		   "  another memfd (the floor). Message-based DMA: see 'uvfio bench rtt'.\n",
		   argc, argv, &o);
	if (rc)
		return rc > 0 ? UVFIO_EXIT_OK : UVFIO_EXIT_USAGE;
	if (pin(&o, placement, sizeof(placement)))
		return UVFIO_EXIT_FAILURE;
	n = o.count;
	warm = n / 10 + 1;
	ds = calloc(n, sizeof(*ds));
	cs = calloc(n, sizeof(*cs));
	src = malloc(XFER);
	floor_dst = memfd_map(&floor_fd);
	dma = uvfio_dma_create(NULL);
	if (!ds || !cs || !src || !floor_dst || !dma || !(win = memfd_map(&fd))) {
		fprintf(stderr, "uvfio bench dma: out of memory\n");
		goto out;
	}
	{
		struct uvfio_dma_map_args a = { .iova = DMA_IOVA, .size = XFER,
						.prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE, .fd = fd };

		rc = uvfio_dma_map(dma, &a);
		if (rc) {
			fprintf(stderr, "uvfio bench dma: map: %s\n", strerror(-rc));
			goto out;
		}
		fd = -1; /* the space owns it */
	}
	for (size_t i = 0; i < XFER; i++)
		src[i] = (uint8_t)(i * 13 + 5);
	for (unsigned long i = 0; i < warm + n; i++) {
		uint64_t t0 = bench_now_ns(), t1, t2;

		rc = uvfio_dma_write(dma, DMA_IOVA, src, XFER);
		t1 = bench_now_ns();
		memcpy(floor_dst, src, XFER);
		__asm__ volatile("" ::: "memory");
		t2 = bench_now_ns();
		if (rc) {
			fprintf(stderr, "uvfio bench dma: write: %s\n", strerror(-rc));
			goto out;
		}
		if (i >= warm) {
			ds[i - warm] = (double)(t1 - t0);
			cs[i - warm] = (double)(t2 - t1);
		}
	}
	/* the window really holds the bytes: read them back through the space */
	if (uvfio_dma_read(dma, DMA_IOVA, floor_dst, XFER) || memcmp(floor_dst, src, XFER)) {
		fprintf(stderr, "uvfio bench dma: the window does not hold what was written\n");
		goto out;
	}
	dmed = bench_median(ds, n);
	dp99 = bench_percentile(ds, n, 99);
	cmed = bench_median(cs, n);
	cp99 = bench_percentile(cs, n, 99);
	if (o.json) {
		const struct bench_kv kv[] = {
			{ "dma_write_mibps", 1e9 / dmed, false },
			{ "memcpy_mibps", 1e9 / cmed, false },
			{ "percent", 100 * cmed / dmed, false },
		};
		bench_print_json_labeled(stdout, "placement", placement, kv, 3);
	} else {
		printf("placement: %s\n", placement);
		printf("uvfio_dma_write 1 MiB, fd window  %8.0f MiB/s  (median %.0f ns, p99 %.0f ns)\n",
		       1e9 / dmed, dmed, dp99);
		printf("memcpy 1 MiB into a memfd map     %8.0f MiB/s  (median %.0f ns, p99 %.0f ns)\n",
		       1e9 / cmed, cmed, cp99);
		printf("ratio: %.0f %% of memcpy bandwidth (goal >= 80 %%), %lu transfers each\n",
		       100 * cmed / dmed, n);
	}
	ret = UVFIO_EXIT_OK;
out:
	uvfio_dma_destroy(dma);
	if (win)
		munmap(win, XFER);
	if (floor_dst)
		munmap(floor_dst, XFER);
	if (fd >= 0)
		close(fd);
	if (floor_fd >= 0)
		close(floor_fd);
	free(src);
	free(cs);
	free(ds);
	return ret;
}
