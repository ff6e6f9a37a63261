/* SPDX-License-Identifier: MIT */
/*
 * `uvfio bench`: the benchmarks, one file each, and the helpers they share
 * (clock, batch statistics, text/JSON output).
 */
#ifndef UVFIO_TOOL_BENCH_H
#define UVFIO_TOOL_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <stdio.h>

/* One benchmark: argv[0] is its name. Returns a UVFIO_EXIT_* code. */
int bench_dma_map(int argc, char **argv);
int bench_rtt(int argc, char **argv);
int bench_migrate(int argc, char **argv);
/* bench_dev.c */
int bench_posted(int argc, char **argv);
int bench_mmio(int argc, char **argv);
int bench_dma(int argc, char **argv);
int bench_ioeventfd(int argc, char **argv);
int bench_irq(int argc, char **argv);

/* Monotonic clock in nanoseconds. */
uint64_t bench_now_ns(void);

/* Statistics over per-batch means; both sort v in place. */
double bench_median(double *v, size_t n);
double bench_percentile(double *v, size_t n, double pct);

/* A deterministic PRNG (xorshift64*): runs are reproducible from a seed. */
struct bench_rng {
	uint64_t s;
};
void bench_rng_seed(struct bench_rng *r, uint64_t seed);
uint64_t bench_rng_next(struct bench_rng *r);
/* Uniform in [0, n), n > 0. */
uint64_t bench_rng_below(struct bench_rng *r, uint64_t n);

/* One result: an integer or a value with one decimal. */
struct bench_kv {
	const char *key;
	double value;
	bool integer;
};
/* A flat JSON object on one line, keys in the given order. */
void bench_print_json(FILE *out, const struct bench_kv *kv, size_t n);
/* The same, led by one string member (a label such as the CPU placement). */
void bench_print_json_labeled(FILE *out, const char *key, const char *label,
			      const struct bench_kv *kv, size_t n);

/*
 * --cpu: pin this process (and what it forks afterwards) to `cpu` when
 * `pinned`, and describe the placement ("pinned to CPU C" / "unpinned";
 * placement may be NULL).
 * Returns 0 or -errno of sched_setaffinity.
 */
int bench_pin(bool pinned, unsigned long cpu, char *placement, size_t cap);

/*
 * An option's number in [min, max] (strtoul in `base`, no sign): 0, or
 * -EINVAL. With rest NULL the whole of s must be the number; else *rest is
 * where it ends (a list separator, for the caller to check).
 */
int bench_parse_ul(const char *s, int base, unsigned long min, unsigned long max,
		   unsigned long *out, char **rest);

/*
 * Fork a process serving a testdev with `state_bytes` of migratable state
 * (0: none) at `sock`; returns its pid once it listens, or a negative errno.
 * SIGTERM stops it cleanly (bench_reap sends it and waits).
 */
pid_t bench_fork_testdev(const char *sock, uint64_t state_bytes);
void bench_reap(pid_t pid);

#endif
