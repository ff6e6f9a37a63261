/* SPDX-License-Identifier: MIT */
/*
 * `uvfio bench irq`: what an MSI-X vector costs the device side as the
 * number of vectors grows (default 1, 64, 2048: the PCI maximum). For each
 * count V, a PCI function with a V-entry MSI-X table, all V vectors given
 * eventfds with SET_IRQS:
 *
 *   trigger     uvfio_pci_raise_irq() of a random vector: routing, mask
 *               check, the eventfd write. Floor, same run: a write() to one
 *               of V eventfds picked the same way.
 *   masked      the same with every entry masked: the PBA bit is set, no
 *               syscall -- the bookkeeping alone
 *   table       a 4-byte write of a random entry's vector control (mask,
 *               unmask) through the BAR, as a driver programs the table
 *   set_irqs    SET_IRQS assigning V eventfds: in process (the core and
 *               bus call the server makes), and over vfio-user from a client
 *               to a forked server (chunks of 16 fds, the server's
 *               max_msg_fds); per vector
 *
 * Median and p99 of per-call samples (set_irqs: median of R repetitions).
 * The ratios compare the largest V with the smallest (SET_IRQS per vector:
 * with the smallest V >= 16, one full message): ~1 means the cost does not
 * grow with the number of vectors.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <uvfio/client.h>
#include <uvfio/pci.h>
#include <uvfio/server.h>

#include "bench.h"
#include "commands.h"

#define MAX_COUNTS 8
#define MSIX_MAX 2048u
#define CONFIG_REGION 7u /* VFIO_PCI_CONFIG_REGION_INDEX */
#define MSIX_INDEX 2u	 /* VFIO_PCI_MSIX_IRQ_INDEX */

struct opts {
	unsigned long counts[MAX_COUNTS];
	unsigned int ncounts;
	unsigned long iters, reps, cpu;
	bool pinned, json;
};

struct stat2 {
	double median, p99;
};

struct row {
	unsigned long v;
	struct stat2 floor, trigger, masked, table;
	double set_us, wire_us; /* medians of reps */
};

static struct stat2 stat_of(double *s, size_t n)
{
	struct stat2 r = { .p99 = bench_percentile(s, n, 99.0) };

	r.median = bench_median(s, n);
	return r;
}

/* BAR0: the table at 0, the PBA in the upper half. */
static struct uvfio_pci_info pci_info(unsigned long v)
{
	uint64_t bar = 4096;

	while (bar < 2 * v * 16)
		bar *= 2;
	return (struct uvfio_pci_info){
		.vendor_id = 0x1b36, .device_id = 0x0005, .class_code = 0xff0000,
		.bars = { [0] = { .size = bar } },
		.msix = { .table_size = (uint16_t)v, .table_bar = 0, .table_offset = 0,
			  .pba_bar = 0, .pba_offset = (uint32_t)(bar / 2) },
	};
}

static struct uvfio_device *make_device(unsigned long v, struct uvfio_pci_device **pdev_out)
{
	struct uvfio_pci_info info = pci_info(v);
	struct uvfio_pci_device *pdev = uvfio_pci_create("bench-irq", &info, NULL);
	struct uvfio_device *dev;
	uint16_t cmd = PCI_COMMAND_MEMORY;

	if (!pdev)
		return NULL;
	dev = uvfio_pci_to_device(pdev);
	if (uvfio_device_open(dev) ||
	    uvfio_device_write(dev, CONFIG_REGION, PCI_COMMAND, &cmd, 2) != 2) {
		uvfio_pci_destroy(pdev);
		return NULL;
	}
	*pdev_out = pdev;
	return dev;
}

static void free_device(struct uvfio_pci_device *pdev)
{
	struct uvfio_device *dev = uvfio_pci_to_device(pdev);

	uvfio_device_close(dev);
	uvfio_pci_destroy(pdev); /* never registered: frees the device too */
}

static struct vfio_irq_set irq_hdr(uint32_t flags, unsigned long v)
{
	return (struct vfio_irq_set){
		.argsz = (uint32_t)(sizeof(struct vfio_irq_set) +
				    ((flags & VFIO_IRQ_SET_DATA_EVENTFD) ? v * sizeof(int32_t) : 0)),
		.flags = flags | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = MSIX_INDEX,
		.count = (flags & VFIO_IRQ_SET_DATA_EVENTFD) ? (uint32_t)v : 0,
	};
}

#define ENABLE VFIO_IRQ_SET_DATA_EVENTFD
#define DISABLE VFIO_IRQ_SET_DATA_NONE

/* ---- in process ------------------------------------------------------------------ */

static int ctrl_write(struct uvfio_device *dev, unsigned long vec, uint32_t ctrl)
{
	return uvfio_device_write(dev, 0, vec * 16 + 12, &ctrl, 4) == 4 ? 0 : -EIO;
}

static int in_process(const struct opts *o, struct row *row, const int32_t *efds, double *s)
{
	unsigned long v = row->v, n = o->iters;
	struct uvfio_pci_device *pdev = NULL;
	struct uvfio_device *dev = make_device(v, &pdev);
	struct vfio_irq_set on = irq_hdr(ENABLE, v), off = irq_hdr(DISABLE, v);
	struct bench_rng rng;
	double *set = s; /* reps samples, then reused */
	uint64_t one = 1;
	int ret = -EIO;

	if (!dev)
		return -ENOMEM;
	bench_rng_seed(&rng, v);
	for (unsigned long r = 0; r < o->reps; r++) {
		uint64_t t0 = bench_now_ns();

		if (uvfio_device_set_irqs(dev, &on, efds, v * sizeof(int32_t)))
			goto out;
		set[r] = (double)(bench_now_ns() - t0) / 1000;
		if (uvfio_device_set_irqs(dev, &off, NULL, 0))
			goto out;
	}
	row->set_us = bench_median(set, o->reps);
	if (uvfio_device_set_irqs(dev, &on, efds, v * sizeof(int32_t)))
		goto out;

	/* the floor and the trigger, interleaved */
	for (unsigned long i = 0; i < n; i++) {
		unsigned long a = bench_rng_below(&rng, v), b = bench_rng_below(&rng, v);
		uint64_t t0 = bench_now_ns(), t1, t2;

		if (write(efds[a], &one, sizeof(one)) != sizeof(one))
			goto out;
		t1 = bench_now_ns();
		if (uvfio_pci_raise_irq(pdev, (unsigned int)b) != 1)
			goto out; /* every vector has its eventfd: delivered */
		t2 = bench_now_ns();
		s[i] = (double)(t1 - t0);
		s[n + i] = (double)(t2 - t1);
	}
	row->floor = stat_of(s, n);
	row->trigger = stat_of(s + n, n);

	/* table writes: mask or unmask a random entry */
	for (unsigned long i = 0; i < n; i++) {
		uint64_t t0 = bench_now_ns();

		if (ctrl_write(dev, bench_rng_below(&rng, v), i & 1 ? 0 : PCI_MSIX_ENTRY_CTRL_MASKBIT))
			goto out;
		s[i] = (double)(bench_now_ns() - t0);
	}
	row->table = stat_of(s, n);

	/* every entry masked: a raise only sets its PBA bit */
	for (unsigned long k = 0; k < v; k++)
		if (ctrl_write(dev, k, PCI_MSIX_ENTRY_CTRL_MASKBIT))
			goto out;
	for (unsigned long i = 0; i < n; i++) {
		unsigned long b = bench_rng_below(&rng, v);
		uint64_t t0 = bench_now_ns();

		if (uvfio_pci_raise_irq(pdev, (unsigned int)b) != 0)
			goto out;
		s[i] = (double)(bench_now_ns() - t0);
	}
	row->masked = stat_of(s, n);
	ret = 0;
out:
	free_device(pdev);
	return ret;
}

/* ---- over vfio-user -------------------------------------------------------------- */

static struct uvfio_server *child_srv;

static void child_term(int sig)
{
	(void)sig;
	uvfio_server_stop(child_srv);
}

/* A forked server of a device with v vectors at sock; its pid once it listens. */
static pid_t fork_server(const char *sock, unsigned long v)
{
	int pfd[2];
	pid_t pid;
	char ok;

	if (pipe(pfd))
		return -errno;
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = child_term };
		struct uvfio_pci_info info = pci_info(v);
		struct uvfio_pci_device *pdev = uvfio_pci_create("bench-irq", &info, NULL);

		close(pfd[0]);
		if (!pdev || uvfio_device_register(uvfio_pci_to_device(pdev)) ||
		    uvfio_server_create(uvfio_pci_to_device(pdev), sock, NULL, &child_srv))
			_exit(1);
		sigaction(SIGTERM, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		if (write(pfd[1], "r", 1) != 1)
			_exit(1);
		uvfio_server_run(child_srv);
		_exit(0);
	}
	close(pfd[1]);
	if (pid > 0 && read(pfd[0], &ok, 1) != 1) {
		bench_reap(pid);
		pid = -EIO;
	}
	close(pfd[0]);
	return pid;
}

static int over_wire(const struct opts *o, struct row *row, const int32_t *efds, double *s)
{
	char dir[] = "/tmp/uvfio-bench-XXXXXX", sock[64];
	struct vfio_irq_set on = irq_hdr(ENABLE, row->v), off = irq_hdr(DISABLE, row->v);
	struct uvfio_client *c = NULL;
	pid_t pid;
	int ret = -EIO;

	if (!mkdtemp(dir))
		return -errno;
	snprintf(sock, sizeof(sock), "%s/dev.sock", dir);
	pid = fork_server(sock, row->v);
	if (pid < 0 || uvfio_client_open(sock, NULL, &c))
		goto out;
	for (unsigned long r = 0; r < o->reps; r++) {
		uint64_t t0 = bench_now_ns();

		if (uvfio_client_set_irqs(c, &on, efds))
			goto out;
		s[r] = (double)(bench_now_ns() - t0) / 1000;
		if (uvfio_client_set_irqs(c, &off, NULL))
			goto out;
	}
	row->wire_us = bench_median(s, o->reps);
	ret = 0;
out:
	uvfio_client_close(c);
	bench_reap(pid);
	unlink(sock);
	rmdir(dir);
	return ret;
}

/* ---- command ---------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: uvfio bench irq [--vectors V,V,...] [--iterations N] [--reps R] [--cpu C] [--json]\n"
		"\n"
		"MSI-X on the device side as the vector count grows: a raise (and a raw\n"
		"eventfd write, the floor), a raise of a masked vector, a vector-control\n"
		"write to the table, and SET_IRQS of every vector (in process and over\n"
		"vfio-user), for a PCI function with V vectors, V from the list.\n"
		"  --vectors LIST  vector counts, 1..2048 (default 1,64,2048)\n"
		"  --iterations N  samples per measurement (default 20000)\n"
		"  --reps R        SET_IRQS repetitions (default 5)\n"
		"  --cpu C         pin the bench and its servers to CPU C\n"
		"  --json          one JSON object\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "vectors", required_argument, NULL, 'v' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "reps", required_argument, NULL, 'r' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *end;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "v:n:r:c:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			o->ncounts = 0;
			for (const char *p = optarg;; p = end + 1) {
				if (o->ncounts == MAX_COUNTS ||
				    bench_parse_ul(p, 10, 1, MSIX_MAX, &o->counts[o->ncounts++], &end) ||
				    (*end && *end != ','))
					goto bad;
				if (!*end)
					break;
			}
			break;
		case 'n':
			if (bench_parse_ul(optarg, 10, 10, 100000000, &o->iters, NULL))
				goto bad;
			break;
		case 'r':
			if (bench_parse_ul(optarg, 10, 1, 10000, &o->reps, NULL))
				goto bad;
			break;
		case 'c':
			if (bench_parse_ul(optarg, 10, 0, CPU_SETSIZE - 1, &o->cpu, NULL))
				goto bad;
			o->pinned = true;
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
	if (optind == argc)
		return 0;
	usage(stderr);
	return -EINVAL;
bad:
	fprintf(stderr, "uvfio bench irq: bad value '%s'\n", optarg);
	return -EINVAL;
}

/* Enough fds for the largest count: ours, and the server's copies. */
static int raise_nofile(unsigned long need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max < need)
		return -EMFILE;
	rl.rlim_cur = need;
	return setrlimit(RLIMIT_NOFILE, &rl) ? -errno : 0;
}

static void report(const struct opts *o, const char *placement, const struct row *rows)
{
	const struct row *a = &rows[0], *b = &rows[o->ncounts - 1], *m = a;
	double set_ratio, wire_ratio;

	/* SET_IRQS per vector against the smallest count that fills a message
	 * (16 fds): below it the fixed cost of a call dominates. */
	for (unsigned int i = 0; i < o->ncounts; i++) {
		if (rows[i].v >= 16) {
			m = &rows[i];
			break;
		}
	}
	set_ratio = (b->set_us / (double)b->v) / (m->set_us / (double)m->v);
	wire_ratio = (b->wire_us / (double)b->v) / (m->wire_us / (double)m->v);

	if (o->json) {
		struct bench_kv kv[2 + MAX_COUNTS * 11 + 5];
		char keys[MAX_COUNTS * 11][40];
		size_t n = 0, k = 0;

		kv[n++] = (struct bench_kv){ "iterations", (double)o->iters, true };
		kv[n++] = (struct bench_kv){ "reps", (double)o->reps, true };
		for (unsigned int i = 0; i < o->ncounts; i++) {
			const struct row *r = &rows[i];
			const struct { const char *name; double value; } f[] = {
				{ "floor_ns", r->floor.median }, { "floor_p99_ns", r->floor.p99 },
				{ "trigger_ns", r->trigger.median },
				{ "trigger_p99_ns", r->trigger.p99 },
				{ "masked_ns", r->masked.median }, { "masked_p99_ns", r->masked.p99 },
				{ "table_write_ns", r->table.median },
				{ "table_write_p99_ns", r->table.p99 },
				{ "set_irqs_us", r->set_us }, { "wire_set_irqs_us", r->wire_us },
				{ "trigger_vs_floor", r->trigger.median / r->floor.median },
			};

			for (size_t j = 0; j < sizeof(f) / sizeof(f[0]); j++) {
				snprintf(keys[k], sizeof(keys[k]), "v%lu_%s", r->v, f[j].name);
				kv[n++] = (struct bench_kv){ keys[k++], f[j].value,
							     j < 8 };
			}
		}
		kv[n++] = (struct bench_kv){ "trigger_ratio", b->trigger.median / a->trigger.median, false };
		kv[n++] = (struct bench_kv){ "masked_ratio", b->masked.median / a->masked.median, false };
		kv[n++] = (struct bench_kv){ "table_write_ratio", b->table.median / a->table.median, false };
		kv[n++] = (struct bench_kv){ "set_irqs_per_vector_ratio", set_ratio, false };
		kv[n++] = (struct bench_kv){ "wire_set_irqs_per_vector_ratio", wire_ratio, false };
		bench_print_json_labeled(stdout, "placement", placement, kv, n);
		return;
	}
	printf("placement: %s (bench and its servers)\n", placement);
	printf("%6s  %-21s %-21s %-21s %-21s %-17s %-17s\n", "", "floor: eventfd write",
	       "trigger", "trigger, masked", "table write", "SET_IRQS in proc", "SET_IRQS wire");
	printf("%6s  %-21s %-21s %-21s %-21s %-17s %-17s\n", "V", "median / p99 ns",
	       "median / p99 ns", "median / p99 ns", "median / p99 ns", "us (ns/vector)",
	       "us (ns/vector)");
	for (unsigned int i = 0; i < o->ncounts; i++) {
		const struct row *r = &rows[i];

		printf("%6lu  %8.0f / %-10.0f %8.0f / %-10.0f %8.0f / %-10.0f %8.0f / %-10.0f "
		       "%7.1f (%6.0f) %7.1f (%6.0f)\n",
		       r->v, r->floor.median, r->floor.p99, r->trigger.median, r->trigger.p99,
		       r->masked.median, r->masked.p99, r->table.median, r->table.p99, r->set_us,
		       r->set_us * 1000 / (double)r->v, r->wire_us, r->wire_us * 1000 / (double)r->v);
	}
	printf("ratio %lu/%lu: trigger %.2f (floor %.2f), masked %.2f, table write %.2f\n",
	       b->v, a->v, b->trigger.median / a->trigger.median,
	       b->floor.median / a->floor.median, b->masked.median / a->masked.median,
	       b->table.median / a->table.median);
	printf("ratio %lu/%lu per vector: SET_IRQS %.2f in process, %.2f over vfio-user\n",
	       b->v, m->v, set_ratio, wire_ratio);
	printf("(%lu samples per figure, SET_IRQS: median of %lu)\n", o->iters, o->reps);
}

int bench_irq(int argc, char **argv)
{
	struct opts o = { .counts = { 1, 64, 2048 }, .ncounts = 3, .iters = 20000, .reps = 5 };
	struct row rows[MAX_COUNTS] = { 0 };
	unsigned long maxv = 0;
	int32_t *efds = NULL;
	double *s = NULL;
	char placement[48];
	int rc, ret = UVFIO_EXIT_FAILURE;

	rc = parse(argc, argv, &o);
	if (rc)
		return rc > 0 ? UVFIO_EXIT_OK : UVFIO_EXIT_USAGE;
	if (bench_pin(o.pinned, o.cpu, placement, sizeof(placement))) {
		fprintf(stderr, "uvfio bench irq: --cpu %lu: %s\n", o.cpu, strerror(errno));
		return UVFIO_EXIT_FAILURE;
	}
	for (unsigned int i = 0; i < o.ncounts; i++)
		maxv = o.counts[i] > maxv ? o.counts[i] : maxv;
	rc = raise_nofile(2 * maxv + 64);
	if (rc) {
		fprintf(stderr, "uvfio bench irq: %lu eventfds need more open files: %s\n", maxv,
			strerror(-rc));
		return UVFIO_EXIT_FAILURE;
	}
	efds = malloc(maxv * sizeof(*efds));
	s = malloc(2 * (o.iters > o.reps ? o.iters : o.reps) * sizeof(*s));
	if (!efds || !s)
		goto out;
	for (unsigned long i = 0; i < maxv; i++)
		efds[i] = -1;
	for (unsigned long i = 0; i < maxv; i++) {
		efds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (efds[i] < 0) {
			fprintf(stderr, "uvfio bench irq: eventfd: %s\n", strerror(errno));
			goto out;
		}
	}
	for (unsigned int i = 0; i < o.ncounts; i++) {
		rows[i].v = o.counts[i];
		rc = in_process(&o, &rows[i], efds, s);
		if (!rc)
			rc = over_wire(&o, &rows[i], efds, s);
		if (rc) {
			fprintf(stderr, "uvfio bench irq: %lu vectors: a measurement failed (%s)\n",
				o.counts[i], strerror(-rc));
			goto out;
		}
	}
	report(&o, placement, rows);
	ret = UVFIO_EXIT_OK;
out:
	if (efds)
		for (unsigned long i = 0; i < maxv; i++)
			if (efds[i] >= 0)
				close(efds[i]);
	free(efds);
	free(s);
	return ret;
}
