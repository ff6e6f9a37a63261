/* SPDX-License-Identifier: MIT */
/* Helpers shared by the benchmarks: clock, statistics, PRNG, JSON. */
#include <stdlib.h>
#include <time.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uvfio/server.h>

#include "bench.h"
#include "devices/testdev.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_percentile(double *v, size_t n, double pct)
{
	size_t i;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	/* nearest rank */
	i = (size_t)(pct / 100.0 * (double)n + 0.5);
	if (i > 0)
		i--;
	return v[i < n ? i : n - 1];
}

double bench_median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bench_rng_seed(struct bench_rng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x9e3779b97f4a7c15ull; /* the state must not be 0 */
}

uint64_t bench_rng_next(struct bench_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

uint64_t bench_rng_below(struct bench_rng *r, uint64_t n)
{
	/* the modulo bias is < n / 2^64: irrelevant for picking test addresses */
	return bench_rng_next(r) % n;
}

static void print_members(FILE *out, const struct bench_kv *kv, size_t n, bool first)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s\"%s\": ", i || !first ? ", " : "", kv[i].key);
		if (kv[i].integer)
			fprintf(out, "%llu", (unsigned long long)kv[i].value);
		else
			fprintf(out, kv[i].value >= 1000 || kv[i].value <= -1000 ? "%.1f" : "%.4g",
				kv[i].value); /* ratios need 3 decimals, big values no exponent */
	}
	fputs("}\n", out);
}

void bench_print_json(FILE *out, const struct bench_kv *kv, size_t n)
{
	fputc('{', out);
	print_members(out, kv, n, true);
}

void bench_print_json_labeled(FILE *out, const char *key, const char *label,
			      const struct bench_kv *kv, size_t n)
{
	/* Labels are our own words: nothing in them needs escaping. */
	fprintf(out, "{\"%s\": \"%s\"", key, label);
	print_members(out, kv, n, false);
}

int bench_pin(bool pinned, unsigned long cpu, char *placement, size_t cap)
{
	cpu_set_t set;

	if (!pinned) {
		if (placement)
			snprintf(placement, cap, "unpinned");
		return 0;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	if (placement)
		snprintf(placement, cap, "pinned to CPU %lu", cpu);
	return 0;
}

int bench_parse_ul(const char *s, int base, unsigned long min, unsigned long max,
		   unsigned long *out, char **rest)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, base);
	if (rest)
		*rest = end;
	if (errno || end == s || (!rest && *end) || s[0] == '-' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* ---- a testdev server in a child process ---- */

static struct uvfio_server *child_srv;

static void child_term(int sig)
{
	(void)sig;
	uvfio_server_stop(child_srv);
}

pid_t bench_fork_testdev(const char *sock, uint64_t state_bytes)
{
	int pfd[2];
	pid_t pid;
	char ok;

	if (pipe(pfd))
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = errno;

		close(pfd[0]);
		close(pfd[1]);
		return -err;
	}
	if (!pid) {
		struct uvfio_server_opts o = { .listen_fd = -1 };
		struct sigaction sa = { .sa_handler = child_term };
		struct uvfio_device *dev = testdev_create_opts(state_bytes);

		close(pfd[0]);
		if (!dev || uvfio_device_register(dev) ||
		    uvfio_server_create(dev, sock, &o, &child_srv))
			_exit(1);
		sigaction(SIGTERM, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		if (write(pfd[1], "r", 1) != 1)
			_exit(1);
		uvfio_server_run(child_srv);
		uvfio_server_destroy(child_srv);
		uvfio_device_unregister(dev);
		_exit(0);
	}
	close(pfd[1]);
	/* The child writes once it listens; EOF means it failed to start. */
	if (read(pfd[0], &ok, 1) != 1) {
		close(pfd[0]);
		bench_reap(pid);
		return -EIO;
	}
	close(pfd[0]);
	return pid;
}

void bench_reap(pid_t pid)
{
	int st;

	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, &st, 0);
	}
}
