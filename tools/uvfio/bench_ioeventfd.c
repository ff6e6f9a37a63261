/* SPDX-License-Identifier: MIT */
/*
 * `uvfio bench ioeventfd`: a doorbell register rung through its ioeventfd
 * (GET_REGION_IO_FDS: the client writes an eventfd, no message, no reply)
 * against the same register written with REGION_WRITE, with a reply and
 * posted (No_reply), and against a raw eventfd between two processes,
 * measured in the same run.
 *
 * The register is testdev's IRQ register, a doorbell for vectors 0-2:
 * a ring raises that vector. Two forked testdev servers: one for a client
 * with doorbells, one for a client opened with no_ioeventfds, so all three
 * paths write the same value to the same register of the same device.
 *
 *   latency     one write, until the device has seen it: it raises vector 0,
 *               whose eventfd the bench reads (blocking). Floor: eventfd
 *               ping-pong between two processes (write A; the peer, blocked
 *               in read(A), writes B; read B) -- the same two hops.
 *   throughput  N writes of vector 1 (no eventfd: no interrupt work), then
 *               REGION_READs of the device's counters until it has seen all
 *               N (posted/replied: one READ, which the protocol orders after
 *               the writes; doorbells are unordered, so the bench polls).
 *               Floor: N eventfd writes that a peer process reads, then one
 *               ping back once it has counted N.
 *
 * Sides are interleaved block by block so other load hits all of them.
 * Latency: median and p99 of per-sample times; throughput: median and the
 * slowest of R runs. --cpu C pins the bench, the servers and the floor
 * peers to one CPU.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uvfio/client.h>

#include "bench.h"
#include "commands.h"
#include "devices/testdev.h"
#include "progress.h"

#define LAT_VECTOR 0u  /* its eventfd is read by the bench */
#define TPUT_VECTOR 1u /* no eventfd: the device only counts */
#define BLOCKS 20

enum side { FLOOR, DOORBELL, POSTED, REPLIED, NSIDES };
static const char *const side_name[NSIDES] = { "floor", "doorbell", "posted", "replied" };

struct ctx {
	struct uvfio_client *bell, *msg; /* with doorbells / no_ioeventfds */
	int irq_bell, irq_msg;		 /* vector 0's eventfds (blocking) */
	int lat_a, lat_b;		 /* floor peers' eventfds */
	int tput_a, tput_b;
	unsigned long count;
};

/* ---- floor peers ------------------------------------------------------------ */

/* Latency peer: every read of a becomes a write of b. */
static void peer_pingpong(int a, int b)
{
	uint64_t v, one = 1;

	while (read(a, &v, sizeof(v)) == sizeof(v))
		if (write(b, &one, sizeof(one)) != sizeof(one))
			break;
	_exit(0);
}

/* Throughput peer: count what a delivers; each full `n` is a write of b. */
static void peer_counter(int a, int b, uint64_t n)
{
	uint64_t v, total = 0, one = 1;

	while (read(a, &v, sizeof(v)) == sizeof(v)) {
		total += v;
		for (; total >= n; total -= n)
			if (write(b, &one, sizeof(one)) != sizeof(one))
				_exit(1);
	}
	_exit(0);
}

static pid_t fork_peer(int kind, int a, int b, uint64_t n)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (kind == 0)
			peer_pingpong(a, b);
		peer_counter(a, b, n);
	}
	return pid;
}

/* ---- one write, until the device has seen it --------------------------------- */

static int wait_irq(int efd)
{
	uint64_t v;

	return read(efd, &v, sizeof(v)) == sizeof(v) ? 0 : -EIO;
}

static int one_write(struct ctx *x, enum side s)
{
	uint64_t v = LAT_VECTOR, one = 1;
	ssize_t r;

	switch (s) {
	case FLOOR:
		if (write(x->lat_a, &one, sizeof(one)) != sizeof(one))
			return -EIO;
		return wait_irq(x->lat_b);
	case DOORBELL:
		r = uvfio_client_write_posted(x->bell, 0, TESTDEV_REG_IRQ, &v, 8);
		return r == 8 ? wait_irq(x->irq_bell) : -EIO;
	case POSTED:
		r = uvfio_client_write_posted(x->msg, 0, TESTDEV_REG_IRQ, &v, 8);
		return r == 8 ? wait_irq(x->irq_msg) : -EIO;
	case REPLIED:
		r = uvfio_client_write(x->msg, 0, TESTDEV_REG_IRQ, &v, 8);
		return r == 8 ? wait_irq(x->irq_msg) : -EIO;
	default:
		return -EINVAL;
	}
}

static int lat_block(struct ctx *x, enum side s, double *samples, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0 = bench_now_ns();

		if (one_write(x, s))
			return -EIO;
		if (samples)
			samples[i] = (double)(bench_now_ns() - t0);
	}
	return 0;
}

/* ---- N writes, until the device has seen them all ---------------------------- */

static int counters(struct uvfio_client *c, uint64_t *v)
{
	return uvfio_client_read(c, 0, TESTDEV_REG_IRQ, v, 8) == 8 ? 0 : -EIO;
}

static int tput_run(struct ctx *x, enum side s, double *ns)
{
	struct uvfio_client *c = s == DOORBELL ? x->bell : x->msg;
	uint64_t v = TPUT_VECTOR, one = 1, before = 0, now, t0;
	uint32_t want;
	ssize_t r = 8;

	if (s != FLOOR && counters(c, &before))
		return -EIO;
	want = (s == DOORBELL ? TESTDEV_IRQ_BY_DOORBELL(before) : TESTDEV_IRQ_BY_WRITE(before)) +
	       (uint32_t)x->count;
	t0 = bench_now_ns();
	for (unsigned long i = 0; i < x->count && r == 8; i++) {
		switch (s) {
		case FLOOR:
			r = write(x->tput_a, &one, sizeof(one));
			break;
		case DOORBELL:
		case POSTED:
			r = uvfio_client_write_posted(c, 0, TESTDEV_REG_IRQ, &v, 8);
			break;
		default:
			r = uvfio_client_write(c, 0, TESTDEV_REG_IRQ, &v, 8);
			break;
		}
	}
	if (r != 8)
		return -EIO;
	if (s == FLOOR) {
		if (wait_irq(x->tput_b))
			return -EIO;
	} else {
		/* Posted and replied: one READ, ordered after the writes. A
		 * doorbell is not ordered: read until the device counted all. */
		for (;;) {
			if (counters(c, &now))
				return -EIO;
			if ((s == DOORBELL ? TESTDEV_IRQ_BY_DOORBELL(now)
					   : TESTDEV_IRQ_BY_WRITE(now)) == want)
				break;
			if (s != DOORBELL || bench_now_ns() - t0 > 10000000000ull)
				return -EIO; /* 10 s: rings were lost */
		}
	}
	*ns = (double)(bench_now_ns() - t0);
	return 0;
}

/* ---- setup ---------------------------------------------------------------------- */

struct server {
	char dir[32], sock[64];
	pid_t pid;
};

static int server_start(struct server *sv)
{
	snprintf(sv->dir, sizeof(sv->dir), "/tmp/uvfio-bench-XXXXXX");
	sv->pid = -1;
	sv->sock[0] = 0;
	if (!mkdtemp(sv->dir))
		return -errno;
	snprintf(sv->sock, sizeof(sv->sock), "%s/dev.sock", sv->dir);
	sv->pid = bench_fork_testdev(sv->sock, 0);
	return sv->pid < 0 ? (int)sv->pid : 0;
}

static void server_stop(struct server *sv)
{
	bench_reap(sv->pid);
	if (sv->sock[0])
		unlink(sv->sock);
	rmdir(sv->dir);
}

/* Open a client and give vector 0 a blocking eventfd. */
static int client_start(const struct server *sv, bool doorbells, struct uvfio_client **c,
			int *irq)
{
	struct uvfio_client_opts o = { .no_ioeventfds = !doorbells };
	struct vfio_irq_set s = {
		.argsz = sizeof(s) + sizeof(int32_t),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = 0, .start = LAT_VECTOR, .count = 1,
	};
	struct uvfio_client_ioeventfd e[TESTDEV_DOORBELL_VECTORS];
	int rc;

	*irq = eventfd(0, EFD_CLOEXEC);
	if (*irq < 0)
		return -errno;
	rc = uvfio_client_open(sv->sock, &o, c);
	if (!rc)
		rc = uvfio_client_set_irqs(*c, &s, (int32_t[]){ *irq });
	/* The doorbells are asked for now, not inside the first timed write. */
	if (!rc && uvfio_client_ioeventfds(*c, 0, e, TESTDEV_DOORBELL_VECTORS) !=
			   (doorbells ? (int)TESTDEV_DOORBELL_VECTORS : 0))
		rc = -ENOTSUP;
	return rc;
}

/* ---- command --------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: uvfio bench ioeventfd [--iterations N] [--count N] [--reps R] [--cpu C] [--json]\n"
		"\n"
		"A doorbell register rung through its ioeventfd (GET_REGION_IO_FDS) against\n"
		"REGION_WRITE with a reply and posted (No_reply), and a raw eventfd between\n"
		"two processes (the floor), measured in the same run.\n"
		"  --iterations N  latency samples per side (default 10000): one write until\n"
		"                  the device's interrupt for it is read\n"
		"  --count N       writes per throughput run (default 10000)\n"
		"  --reps R        throughput runs per side (default 7)\n"
		"  --cpu C         pin the bench, the servers and the floor peers to CPU C\n"
		"  --json          one JSON object\n");
}

struct opts {
	unsigned long iters, count, reps, cpu;
	bool pinned, json;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "iterations", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'N' },
		{ "reps", required_argument, NULL, 'r' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;
	unsigned long *dst = NULL, min = 1, max = 100000000;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "n:N:r:c:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			dst = &o->iters;
			min = BLOCKS;
			break;
		case 'N':
			dst = &o->count;
			min = 1;
			max = 100000000;
			break;
		case 'r':
			dst = &o->reps;
			min = 1;
			max = 1000;
			break;
		case 'c':
			dst = &o->cpu;
			min = 0;
			max = CPU_SETSIZE - 1;
			o->pinned = true;
			break;
		case 'j':
			o->json = true;
			continue;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
		if (bench_parse_ul(optarg, 10, min, max, dst, NULL)) {
			fprintf(stderr, "uvfio bench ioeventfd: bad value '%s' (%lu..%lu)\n",
				optarg, min, max);
			return -EINVAL;
		}
		min = 1;
		max = 100000000;
	}
	if (optind != argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

struct stat2 {
	double median, p99;
};

static struct stat2 stat_of(double *v, size_t n)
{
	struct stat2 s = { .p99 = bench_percentile(v, n, 99.0) };

	s.median = bench_median(v, n);
	return s;
}

static int measure_latency(struct ctx *x, unsigned int n, double *samples[NSIDES])
{
	unsigned int per = n / BLOCKS ? n / BLOCKS : 1, warm = n / 10 > 1000 ? 1000 : n / 10;
	struct progress prog;

	for (int s = 0; s < NSIDES; s++)
		if (lat_block(x, (enum side)s, NULL, warm + 1))
			return -EIO;
	progress_start(&prog, "ioeventfd: latency", n, PROGRESS_COUNT);
	for (unsigned int done = 0; done < n; done += per) {
		unsigned int k = n - done < per ? n - done : per;

		for (int s = 0; s < NSIDES; s++)
			if (lat_block(x, (enum side)s, samples[s] + done, k))
				return -EIO;
		progress_update(&prog, done + k);
	}
	progress_done(&prog);
	return 0;
}

static int measure_tput(struct ctx *x, unsigned long reps, double *runs[NSIDES])
{
	struct progress prog;
	double t;

	for (int s = 0; s < NSIDES; s++) /* warm-up */
		if (tput_run(x, (enum side)s, &t))
			return -EIO;
	progress_start(&prog, "ioeventfd: throughput", reps, PROGRESS_COUNT);
	for (unsigned long r = 0; r < reps; r++) {
		for (int s = 0; s < NSIDES; s++)
			if (tput_run(x, (enum side)s, &runs[s][r]))
				return -EIO;
		progress_update(&prog, r + 1);
	}
	progress_done(&prog);
	return 0;
}

static void report(const struct opts *o, const char *placement, const struct stat2 lat[NSIDES],
		   const double ops[NSIDES], const double slow[NSIDES])
{
	if (o->json) {
		struct bench_kv kv[3 + 5 * NSIDES];
		char keys[5 * NSIDES][40];
		size_t n = 0, k = 0;

		kv[n++] = (struct bench_kv){ "iterations", (double)o->iters, true };
		kv[n++] = (struct bench_kv){ "count", (double)o->count, true };
		kv[n++] = (struct bench_kv){ "reps", (double)o->reps, true };
		for (int s = 0; s < NSIDES; s++) {
			snprintf(keys[k], sizeof(keys[k]), "%s_median_ns", side_name[s]);
			kv[n++] = (struct bench_kv){ keys[k++], lat[s].median, true };
			snprintf(keys[k], sizeof(keys[k]), "%s_p99_ns", side_name[s]);
			kv[n++] = (struct bench_kv){ keys[k++], lat[s].p99, true };
			snprintf(keys[k], sizeof(keys[k]), "%s_ratio", side_name[s]);
			kv[n++] = (struct bench_kv){ keys[k++], lat[s].median / lat[FLOOR].median,
						     false };
			snprintf(keys[k], sizeof(keys[k]), "%s_ops", side_name[s]);
			kv[n++] = (struct bench_kv){ keys[k++], ops[s], true };
			snprintf(keys[k], sizeof(keys[k]), "%s_ops_ratio", side_name[s]);
			kv[n++] = (struct bench_kv){ keys[k++], ops[FLOOR] / ops[s], false };
		}
		bench_print_json_labeled(stdout, "placement", placement, kv, n);
		return;
	}
	printf("placement: %s (bench, both servers, floor peers)\n", placement);
	printf("latency: one write until the device's interrupt for it is read, %lu samples each\n",
	       o->iters);
	printf("  floor     eventfd ping-pong, 2 processes  median %8.0f ns  p99 %8.0f ns\n",
	       lat[FLOOR].median, lat[FLOOR].p99);
	printf("  doorbell  posted write -> ioeventfd       median %8.0f ns  p99 %8.0f ns  "
	       "%.2fx floor\n", lat[DOORBELL].median, lat[DOORBELL].p99,
	       lat[DOORBELL].median / lat[FLOOR].median);
	printf("  posted    REGION_WRITE, No_reply          median %8.0f ns  p99 %8.0f ns  "
	       "%.2fx floor\n", lat[POSTED].median, lat[POSTED].p99,
	       lat[POSTED].median / lat[FLOOR].median);
	printf("  replied   REGION_WRITE and its reply      median %8.0f ns  p99 %8.0f ns  "
	       "%.2fx floor\n", lat[REPLIED].median, lat[REPLIED].p99,
	       lat[REPLIED].median / lat[FLOOR].median);
	printf("throughput: %lu writes until the device has seen them all, median of %lu runs "
	       "(slowest)\n", o->count, o->reps);
	printf("  floor     eventfd writes, peer counts     %10.0f ops/s (%.0f)\n", ops[FLOOR],
	       slow[FLOOR]);
	printf("  doorbell  posted writes -> ioeventfd      %10.0f ops/s (%.0f)  floor/doorbell "
	       "%.2f\n", ops[DOORBELL], slow[DOORBELL], ops[FLOOR] / ops[DOORBELL]);
	printf("  posted    REGION_WRITE, No_reply          %10.0f ops/s (%.0f)\n", ops[POSTED],
	       slow[POSTED]);
	printf("  replied   REGION_WRITE and its reply      %10.0f ops/s (%.0f)\n", ops[REPLIED],
	       slow[REPLIED]);
	printf("doorbell vs posted: %.1fx the ops/s, %.2fx the latency; vs replied: %.1fx, %.2fx\n",
	       ops[DOORBELL] / ops[POSTED], lat[DOORBELL].median / lat[POSTED].median,
	       ops[DOORBELL] / ops[REPLIED], lat[DOORBELL].median / lat[REPLIED].median);
}

int bench_ioeventfd(int argc, char **argv)
{
	struct opts o = { .iters = 10000, .count = 10000, .reps = 7 };
	struct ctx x = { .irq_bell = -1, .irq_msg = -1, .lat_a = -1, .lat_b = -1,
			 .tput_a = -1, .tput_b = -1 };
	struct server sb = { .pid = -1 }, sm = { .pid = -1 };
	double *lat_s[NSIDES] = { 0 }, *runs[NSIDES] = { 0 };
	double ops[NSIDES], slow[NSIDES];
	struct stat2 lat[NSIDES];
	pid_t peers[2] = { -1, -1 };
	char placement[48];
	int rc, ret = UVFIO_EXIT_FAILURE;

	rc = parse(argc, argv, &o);
	if (rc)
		return rc > 0 ? UVFIO_EXIT_OK : UVFIO_EXIT_USAGE;
	/* Before any fork: servers and peers inherit the placement. */
	if (bench_pin(o.pinned, o.cpu, placement, sizeof(placement))) {
		fprintf(stderr, "uvfio bench ioeventfd: --cpu %lu: %s\n", o.cpu, strerror(errno));
		return UVFIO_EXIT_FAILURE;
	}
	x.count = o.count;
	for (int s = 0; s < NSIDES; s++) {
		lat_s[s] = calloc(o.iters, sizeof(double));
		runs[s] = calloc(o.reps, sizeof(double));
		if (!lat_s[s] || !runs[s])
			goto out;
	}
	x.lat_a = eventfd(0, EFD_CLOEXEC);
	x.lat_b = eventfd(0, EFD_CLOEXEC);
	x.tput_a = eventfd(0, EFD_CLOEXEC);
	x.tput_b = eventfd(0, EFD_CLOEXEC);
	if (x.lat_a < 0 || x.lat_b < 0 || x.tput_a < 0 || x.tput_b < 0)
		goto out;
	peers[0] = fork_peer(0, x.lat_a, x.lat_b, 0);
	peers[1] = fork_peer(1, x.tput_a, x.tput_b, o.count);
	if (peers[0] < 0 || peers[1] < 0)
		goto out;
	rc = server_start(&sb);
	if (!rc)
		rc = server_start(&sm);
	if (!rc)
		rc = client_start(&sb, true, &x.bell, &x.irq_bell);
	if (!rc)
		rc = client_start(&sm, false, &x.msg, &x.irq_msg);
	if (rc) {
		fprintf(stderr, "uvfio bench ioeventfd: could not start: %s\n", strerror(-rc));
		goto out;
	}
	if (measure_latency(&x, (unsigned int)o.iters, lat_s) || measure_tput(&x, o.reps, runs)) {
		fprintf(stderr, "uvfio bench ioeventfd: a run failed (a write, or the device did "
				"not see what was written)\n");
		goto out;
	}
	for (int s = 0; s < NSIDES; s++) {
		lat[s] = stat_of(lat_s[s], o.iters);
		ops[s] = (double)o.count * 1e9 / bench_median(runs[s], o.reps);
		slow[s] = (double)o.count * 1e9 / runs[s][o.reps - 1]; /* sorted by the median */
	}
	report(&o, placement, lat, ops, slow);
	ret = UVFIO_EXIT_OK;
out:
	uvfio_client_close(x.bell);
	uvfio_client_close(x.msg);
	server_stop(&sb);
	server_stop(&sm);
	for (int i = 0; i < 2; i++) {
		if (peers[i] > 0) {
			kill(peers[i], SIGKILL);
			waitpid(peers[i], NULL, 0);
		}
	}
	for (int i = 0; i < 2; i++) {
		int *fd = i ? &x.irq_msg : &x.irq_bell;

		if (*fd >= 0)
			close(*fd);
	}
	if (x.lat_a >= 0)
		close(x.lat_a);
	if (x.lat_b >= 0)
		close(x.lat_b);
	if (x.tput_a >= 0)
		close(x.tput_a);
	if (x.tput_b >= 0)
		close(x.tput_b);
	for (int s = 0; s < NSIDES; s++) {
		free(lat_s[s]);
		free(runs[s]);
	}
	return ret;
}
