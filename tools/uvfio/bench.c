/* SPDX-License-Identifier: MIT */
/* Helpers shared by the benchmarks: clock, statistics, PRNG, JSON. */
#include <stdlib.h>
#include <time.h>

#include "bench.h"

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
			fprintf(out, "%.4g", kv[i].value); /* ratios need 3 decimals */
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
