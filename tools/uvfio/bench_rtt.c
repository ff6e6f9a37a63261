/* SPDX-License-Identifier: MIT */
/*
 * `uvfio bench rtt`: the cost of one client call against what the socket
 * alone costs, measured in the same run.
 *
 *   floor   raw UNIX-socket ping-pong between two processes with the byte
 *           sizes of a 4-byte REGION_READ: 32-byte request, 36-byte reply
 *   rtt     4-byte REGION_READ through uvfio_client_read and a forked
 *           uvfio server serving a one-register device
 *   dma     1 MiB device read of client memory mapped without fd (one
 *           DMA_READ served by the client while its REGION_WRITE waits),
 *           against 1 MiB (of written memory, like the client's) sent
 *           through a socket between two processes in answer to a 32-byte
 *           request. The floor leaves out the REGION_WRITE round trip that
 *           starts the device's DMA: it is lower than the protocol allows.
 *
 * Per-iteration samples (CLOCK_MONOTONIC) after a warm-up; medians and p99.
 * --cpu pins both processes to one CPU: no cross-CPU wake-ups (≈44 µs each on
 * these VMs), so the numbers show the software path, not the scheduler.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uvfio/client.h>
#include <uvfio/device.h>
#include <uvfio/server.h>

#include "bench.h"
#include "commands.h"
#include "progress.h"
#include "tool_error.h"

#define REQ_BYTES 32u	/* header + REGION_READ request */
#define REP_BYTES 36u	/* header + REGION_READ reply + 4 data bytes */
#define DMA_BYTES (1u << 20)
#define DMA_IOVA 0x100000ull

/* The bench device's registers (region 0). */
#define REG_VALUE 0x0  /* RO u32 */
#define REG_DMA_GO 0x8 /* write u64 iova: the device reads DMA_BYTES from it */
#define REG_SUM 0x10   /* RO u64: sum of the bytes of the last DMA read */
#define REGS_SIZE 64u

struct bench_dev {
	uint8_t *buf; /* DMA_BYTES */
};

static ssize_t dev_read(struct uvfio_device *dev, uint32_t index, uint64_t pos,
			void *out, size_t count)
{
	struct bench_dev *bd = uvfio_device_priv(dev);
	uint8_t regs[REGS_SIZE] = { 0 };
	uint32_t value = 0x5a5a1234;
	uint64_t sum = 0;

	if (pos == REG_SUM) /* only when asked: a sum costs more than the read */
		for (size_t i = 0; i < DMA_BYTES; i++)
			sum += bd->buf[i];
	memcpy(regs + REG_VALUE, &value, sizeof(value));
	memcpy(regs + REG_SUM, &sum, sizeof(sum));
	memcpy(out, regs + pos, count); /* the core checked pos + count <= size */
	return (ssize_t)count;
}

static ssize_t dev_write(struct uvfio_device *dev, uint32_t index, uint64_t pos,
			 const void *in, size_t count)
{
	struct bench_dev *bd = uvfio_device_priv(dev);
	uint64_t iova;
	int rc;

	if (pos != REG_DMA_GO || count != sizeof(iova))
		return -EINVAL;
	memcpy(&iova, in, sizeof(iova));
	rc = uvfio_device_dma_read(dev, iova, bd->buf, DMA_BYTES);
	return rc ? rc : (ssize_t)count;
}

static const struct uvfio_device_ops bench_ops = {
	.read = dev_read,
	.write = dev_write,
};

/* Child: serve the bench device at `path` until the parent kills us. */
static void serve(const char *path, int ready_fd)
{
	struct bench_dev bd = { .buf = malloc(DMA_BYTES) };
	struct uvfio_region r = {
		.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
		.size = REGS_SIZE,
		.mmap_fd = -1,
	};
	struct uvfio_server *srv;
	struct uvfio_device *dev = uvfio_device_create("bench", &bench_ops, &bd);
	char ok = 1;

	if (!bd.buf || !dev || uvfio_device_set_num_regions(dev, 1) ||
	    uvfio_device_set_region(dev, 0, &r) || uvfio_device_register(dev))
		_exit(1);
	uvfio_device_set_bus_master(dev, true);
	if (uvfio_server_create(dev, path, NULL, &srv))
		_exit(1);
	if (write(ready_fd, &ok, 1) != 1)
		_exit(1);
	close(ready_fd);
	uvfio_server_run(srv);
	_exit(0);
}

/* ---- raw socket floors --------------------------------------------------- */

static int full_read(int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static int full_write(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/*
 * Child of a floor: answer every `req`-byte message with `rep` bytes. The
 * bytes are written first, as the client's DMA memory is: a calloc'd buffer
 * never written maps the shared zero page, and sending 1 MiB of it reads
 * one cached 4 KiB page 256 times (≈4 % faster than real memory here).
 */
static void echo(int fd, size_t req, size_t rep)
{
	uint8_t in[REQ_BYTES];
	uint8_t *out = malloc(rep);

	if (!out)
		_exit(1);
	for (size_t i = 0; i < rep; i++)
		out[i] = (uint8_t)(i * 13 + 7);
	while (!full_read(fd, in, req))
		if (full_write(fd, out, rep))
			break;
	_exit(0);
}

/* A floor peer: a child answering `rep` bytes to each request. */
struct floor_peer {
	int fd;
	pid_t pid;
	size_t rep;
	uint8_t *in;
};

static int floor_start(struct floor_peer *f, size_t rep)
{
	int sv[2];

	f->rep = rep;
	f->pid = -1;
	f->in = malloc(rep);
	if (!f->in || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		free(f->in);
		return -1;
	}
	f->pid = fork();
	if (f->pid == 0) {
		close(sv[0]);
		echo(sv[1], REQ_BYTES, rep);
	}
	close(sv[1]);
	f->fd = sv[0];
	return f->pid < 0 ? -1 : 0;
}

static void floor_stop(struct floor_peer *f)
{
	int status;

	close(f->fd);
	if (f->pid > 0)
		waitpid(f->pid, &status, 0);
	free(f->in);
}

/* n round trips; samples in ns (NULL: warm-up). */
static int floor_block(struct floor_peer *f, double *samples, unsigned int n)
{
	uint8_t req[REQ_BYTES] = { 0 };

	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0 = bench_now_ns();

		if (full_write(f->fd, req, sizeof(req)) || full_read(f->fd, f->in, f->rep))
			return -1;
		if (samples)
			samples[i] = (double)(bench_now_ns() - t0);
	}
	return 0;
}

/* ---- through the client -------------------------------------------------------- */

static int rtt_block(struct uvfio_client *c, double *samples, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint32_t v;
		uint64_t t0 = bench_now_ns();
		ssize_t r = uvfio_client_read(c, 0, REG_VALUE, &v, sizeof(v));

		if (r != sizeof(v) || v != 0x5a5a1234) {
			fprintf(stderr, "uvfio bench rtt: region read: %s\n",
				r < 0 ? strerror((int)-r) : "wrong value");
			return -1;
		}
		if (samples)
			samples[i] = (double)(bench_now_ns() - t0);
	}
	return 0;
}

/* The client memory the device reads, mapped without fd (message based). */
static uint8_t *dma_setup(struct uvfio_client *c, uint64_t *sum)
{
	uint8_t *mem = mmap(NULL, DMA_BYTES, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uvfio_dma_map_args map = {
		.iova = DMA_IOVA, .size = DMA_BYTES, .prot = UVFIO_DMA_READ,
		.fd = -1, .vaddr = mem,
	};
	int rc;

	if (mem == MAP_FAILED)
		return NULL;
	*sum = 0;
	for (size_t i = 0; i < DMA_BYTES; i++) {
		mem[i] = (uint8_t)(i * 13 + 7);
		*sum += mem[i];
	}
	rc = uvfio_client_dma_map(c, &map);
	if (rc) {
		fprintf(stderr, "uvfio bench rtt: dma map: %s\n", strerror(-rc));
		munmap(mem, DMA_BYTES);
		return NULL;
	}
	return mem;
}

static int dma_block(struct uvfio_client *c, double *samples, unsigned int n)
{
	uint64_t iova = DMA_IOVA;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0 = bench_now_ns();
		ssize_t r = uvfio_client_write(c, 0, REG_DMA_GO, &iova, sizeof(iova));

		if (r != sizeof(iova)) {
			fprintf(stderr, "uvfio bench rtt: dma: %s\n",
				r < 0 ? strerror((int)-r) : "short write");
			return -1;
		}
		if (samples)
			samples[i] = (double)(bench_now_ns() - t0);
	}
	return 0;
}

/*
 * Alternate blocks of `a` and `b` so both see the same machine (other load,
 * frequency, cache state) instead of one running in a quiet moment.
 */
#define BLOCKS 20

struct side {
	int (*block)(void *ctx, double *samples, unsigned int n);
	void *ctx;
	double *samples;
};

static int floor_blk(void *ctx, double *s, unsigned int n) { return floor_block(ctx, s, n); }
static int rtt_blk(void *ctx, double *s, unsigned int n) { return rtt_block(ctx, s, n); }
static int dma_blk(void *ctx, double *s, unsigned int n) { return dma_block(ctx, s, n); }

static int interleave(const char *label, struct side *a, struct side *b, unsigned int warm,
		      unsigned int n)
{
	unsigned int per = n / BLOCKS ? n / BLOCKS : 1;
	struct progress prog;

	if (a->block(a->ctx, NULL, warm) || b->block(b->ctx, NULL, warm))
		return -1;
	progress_start(&prog, label, n, PROGRESS_COUNT);
	for (unsigned int done = 0; done < n; done += per) {
		unsigned int k = n - done < per ? n - done : per;

		if (a->block(a->ctx, a->samples + done, k) ||
		    b->block(b->ctx, b->samples + done, k))
			return -1;
		progress_update(&prog, done + k); /* between blocks: not timed */
	}
	progress_done(&prog);
	return 0;
}

/* ---- command ----------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: uvfio bench rtt [--json] [--iterations N] [--cpu C] [--only rtt|dma]\n"
		"\n"
		"4-byte REGION_READ round trips through the client and a forked server,\n"
		"and 1 MiB message-based DMA reads, each against a raw-socket floor\n"
		"measured in the same run. Medians and p99 of per-iteration samples.\n"
		"  --iterations N  round trips per measurement (default 20000; DMA: N/20)\n"
		"  --cpu C         pin both processes to CPU C (default: unpinned)\n"
		"  --only PART     run only the round trips (rtt) or the DMA reads (dma),\n"
		"                  e.g. to count one part's syscalls with strace\n"
		"  --json          one JSON object\n");
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || !*s || *end || *out > max ? -1 : 0;
}

struct stats {
	double median, p99;
};

static struct stats stats_of(double *v, size_t n)
{
	struct stats s;

	s.p99 = bench_percentile(v, n, 99.0);
	s.median = bench_median(v, n);
	return s;
}

int bench_rtt(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned long iters = 20000, cpu = 0, v;
	bool json = false, pinned = false, do_rtt = true, do_dma = true;
	char dir[] = "/tmp/uvfio-bench-XXXXXX", path[64], placement[48], ok;
	struct stats floor = { 0 }, rtt = { 0 }, dma = { 0 }, dma_floor = { 0 };
	struct uvfio_client *c = NULL;
	struct floor_peer fp;
	struct side a, b;
	uint8_t *mem = NULL;
	uint64_t sum, dev_sum = 0;
	unsigned int n, warm, n_dma, warm_dma;
	int opt, rc, ready[2], status, ret = UVFIO_EXIT_FAILURE;
	double *samples;
	pid_t srv = -1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jn:c:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'n':
			if (parse_uint(optarg, 100000000, &v) || v < 20) {
				fprintf(stderr, "uvfio bench rtt: --iterations: '%s' is not a count >= 20\n",
					optarg);
				return UVFIO_EXIT_USAGE;
			}
			iters = v;
			break;
		case 'c':
			if (parse_uint(optarg, CPU_SETSIZE - 1, &cpu)) {
				fprintf(stderr, "uvfio bench rtt: --cpu: '%s' is not a CPU number\n",
					optarg);
				return UVFIO_EXIT_USAGE;
			}
			pinned = true;
			break;
		case 'o':
			if (strcmp(optarg, "rtt") && strcmp(optarg, "dma")) {
				fprintf(stderr, "uvfio bench rtt: --only: '%s' is not rtt or dma\n",
					optarg);
				return UVFIO_EXIT_USAGE;
			}
			do_rtt = !strcmp(optarg, "rtt");
			do_dma = !do_rtt;
			break;
		case 'h':
			usage(stdout);
			return UVFIO_EXIT_OK;
		default:
			usage(stderr);
			return UVFIO_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return UVFIO_EXIT_USAGE;
	}
	/* Before any fork: the children inherit the placement. */
	rc = bench_pin(pinned, cpu, placement, sizeof(placement));
	if (rc) {
		fprintf(stderr, "uvfio bench rtt: --cpu %lu: %s\n", cpu, strerror(-rc));
		return UVFIO_EXIT_FAILURE;
	}
	n = (unsigned int)iters;
	warm = n / 10 > 1000 ? 1000 : n / 10;
	n_dma = n / 20;
	warm_dma = n_dma / 10 ? n_dma / 10 : 1;
	samples = malloc(2 * n * sizeof(*samples));
	if (!samples)
		return UVFIO_EXIT_FAILURE;

	/* A server process serving the bench device, and our client. */
	if (!mkdtemp(dir)) {
		tool_error("bench rtt: a temporary directory in /tmp", errno, NULL);
		goto out;
	}
	if (pipe(ready)) {
		tool_error("bench rtt: pipe", errno, NULL);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/dev.sock", dir);
	srv = fork();
	if (srv == 0) {
		close(ready[0]);
		serve(path, ready[1]);
	}
	close(ready[1]);
	if (srv < 0 || read(ready[0], &ok, 1) != 1) {
		close(ready[0]);
		fprintf(stderr, "uvfio bench rtt: the server process did not start\n");
		goto out_srv;
	}
	close(ready[0]);
	rc = uvfio_client_open(path, NULL, &c);
	if (rc) {
		tool_error(path, -rc, "the benchmark's own server");
		goto out_srv;
	}

	/* (a) floor and (b) client round trips, interleaved */
	if (do_rtt) {
		if (floor_start(&fp, REP_BYTES)) {
			fprintf(stderr, "uvfio bench rtt: floor: %s\n", strerror(errno));
			goto out_srv;
		}
		a = (struct side){ floor_blk, &fp, samples };
		b = (struct side){ rtt_blk, c, samples + n };
		rc = interleave("rtt: round trips", &a, &b, warm, n);
		floor_stop(&fp);
		if (rc)
			goto out_srv;
		floor = stats_of(samples, n);
		rtt = stats_of(samples + n, n);
	}

	/* (c) 1 MiB message-based DMA reads and 1 MiB through a socket, interleaved */
	if (do_dma) {
		mem = dma_setup(c, &sum);
		if (!mem)
			goto out_srv;
		if (floor_start(&fp, REQ_BYTES + DMA_BYTES)) {
			fprintf(stderr, "uvfio bench rtt: 1 MiB floor: %s\n", strerror(errno));
			goto out_srv;
		}
		a = (struct side){ floor_blk, &fp, samples };
		b = (struct side){ dma_blk, c, samples + n_dma };
		rc = interleave("rtt: 1 MiB DMA reads", &a, &b, warm_dma, n_dma);
		floor_stop(&fp);
		if (rc)
			goto out_srv;
		/* The device really read our bytes. */
		if (uvfio_client_read(c, 0, REG_SUM, &dev_sum, sizeof(dev_sum)) !=
			    sizeof(dev_sum) || dev_sum != sum) {
			fprintf(stderr, "uvfio bench rtt: dma: the device read the wrong bytes\n");
			goto out_srv;
		}
		dma_floor = stats_of(samples, n_dma);
		dma = stats_of(samples + n_dma, n_dma);
	}

	if (json) {
		const struct bench_kv kv_rtt[] = {
			{ "iterations", n, true },
			{ "floor_median_ns", floor.median, true },
			{ "floor_p99_ns", floor.p99, true },
			{ "rtt_median_ns", rtt.median, true },
			{ "rtt_p99_ns", rtt.p99, true },
			{ "rtt_ratio", rtt.median / floor.median, false },
		};
		const struct bench_kv kv_dma[] = {
			{ "dma_iterations", n_dma, true },
			{ "dma_median_ns", dma.median, true },
			{ "dma_p99_ns", dma.p99, true },
			{ "dma_floor_median_ns", dma_floor.median, true },
			{ "dma_floor_p99_ns", dma_floor.p99, true },
			{ "dma_read_mibps", 1e9 / dma.median, false },
			{ "dma_floor_mibps", 1e9 / dma_floor.median, false },
			{ "dma_pct_of_floor", 100.0 * dma_floor.median / dma.median, false },
		};
		struct bench_kv kv[sizeof(kv_rtt) / sizeof(kv_rtt[0]) +
				   sizeof(kv_dma) / sizeof(kv_dma[0])];
		size_t nkv = 0;

		if (do_rtt)
			for (size_t i = 0; i < sizeof(kv_rtt) / sizeof(kv_rtt[0]); i++)
				kv[nkv++] = kv_rtt[i];
		if (do_dma)
			for (size_t i = 0; i < sizeof(kv_dma) / sizeof(kv_dma[0]); i++)
				kv[nkv++] = kv_dma[i];
		bench_print_json_labeled(stdout, "placement", placement, kv, nkv);
	} else {
		printf("placement: %s (both processes)\n", placement);
		if (do_rtt) {
			printf("floor: raw socket %u/%u B ping-pong   median %8.0f ns  p99 %8.0f ns\n",
			       REQ_BYTES, REP_BYTES, floor.median, floor.p99);
			printf("rtt:   4-byte REGION_READ via client  median %8.0f ns  p99 %8.0f ns  "
			       "ratio %.3f (goal <= 1.05)\n",
			       rtt.median, rtt.p99, rtt.median / floor.median);
		}
		if (do_dma) {
			printf("dma:   1 MiB DMA_READ, no fd          %8.1f MiB/s (median %.0f ns, "
			       "p99 %.0f ns)\n", 1e9 / dma.median, dma.median, dma.p99);
			printf("floor: 1 MiB through a socket         %8.1f MiB/s (median %.0f ns, "
			       "p99 %.0f ns)\n", 1e9 / dma_floor.median, dma_floor.median,
			       dma_floor.p99);
			printf("dma/floor: %.0f %% (goal >= 70 %%)\n",
			       100.0 * dma_floor.median / dma.median);
		}
		printf("iterations: %u round trips, %u DMA reads, after warm-up\n",
		       do_rtt ? n : 0, do_dma ? n_dma : 0);
	}
	ret = UVFIO_EXIT_OK;

out_srv:
	if (c && mem)
		uvfio_client_dma_unmap_all(c);
	if (mem)
		munmap(mem, DMA_BYTES);
	uvfio_client_close(c);
	if (srv > 0) {
		kill(srv, SIGKILL);
		waitpid(srv, &status, 0);
	}
	unlink(path);
	rmdir(dir);
out:
	free(samples);
	return ret;
}
