/* SPDX-License-Identifier: MIT */
/*
 * `uvfio bench dma-map`, end to end: our client in this process, a testdev
 * server in a forked one, DMA_MAP and DMA_UNMAP over the vfio-user socket.
 *
 *   fd / no fd  R rounds; a round maps W windows of 4 KiB (iovas 8 KiB
 *               apart), then unmaps them in reverse order. Each window is
 *               mapped twice, interleaved op by op: once with the fd of one
 *               memfd (window i at offset i * 4 KiB; the kernel installs a
 *               fresh fd in the server for every message, as with QEMU),
 *               once without an fd (a message-based window). Every op is
 *               one sample (tens of µs: the clock costs nothing here).
 *   floors      in the same loop, a raw ping-pong with a forked echo
 *               process carrying the same bytes: DMA_MAP's 48 -> 16 with
 *               and without an SCM_RIGHTS fd (the echo closes it, as the
 *               server does), DMA_UNMAP's 40 -> 40.
 *   churn       one window mapped and unmapped with nothing else from the
 *               memfd mapped, W times with and W without an fd: the fd case
 *               creates and drops the server's backing mapping each time.
 *   full        F fd-backed windows of the memfd mapped at once, then all
 *               unmapped; the server's VMAs (/proc/PID/maps lines) and fds
 *               before, at the top and after, against vm.max_map_count.
 *
 * Medians and p99 of the samples; ratios fd / no fd of the medians. A
 * device DMA between two fd windows checks that they are the memfd.
 */
#include <dirent.h>
#include <errno.h>
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
#include <uvfio/dma.h>

#include "bench.h"
#include "bench_dma_map.h"
#include "devices/testdev.h"

#define PAGE 0x1000ull
#define STRIDE 0x2000ull
#define FD_BASE 0x100000000ull
#define NOFD_BASE 0x200000000ull
#define FULL_BASE 0x400000000ull
#define RW (UVFIO_DMA_READ | UVFIO_DMA_WRITE)

struct e2e {
	char dir[32], sock[64];
	pid_t server, echo;
	int echo_fd, memfd;
	struct uvfio_client *c;
	void *page; /* the client memory behind the no-fd windows */
};

/* ---- the floor: a raw ping-pong with an echo process ---- */

/* Request: byte 0 = reply length, byte 1 = request length; fds closed. */
static void echo_loop(int s)
{
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	uint8_t buf[256];

	for (;;) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
				      .msg_controllen = sizeof(ctl.b) };
		ssize_t n = recvmsg(s, &msg, MSG_CMSG_CLOEXEC), r;

		if (n < 2)
			_exit(0);
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			int *fds = (int *)(void *)CMSG_DATA(cm);
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; cm->cmsg_type == SCM_RIGHTS && i < k; i++)
				close(fds[i]);
		}
		while (n < buf[1]) {
			r = read(s, buf + n, (size_t)(buf[1] - n));
			if (r <= 0)
				_exit(0);
			n += r;
		}
		if (send(s, buf, buf[0], MSG_NOSIGNAL) != buf[0])
			_exit(0);
	}
}

static pid_t echo_start(int *out)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (!pid) {
		close(sv[0]);
		echo_loop(sv[1]);
	}
	close(sv[1]);
	*out = sv[0];
	return pid;
}

static int ping(int s, uint8_t req, uint8_t rep, int fd)
{
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	uint8_t buf[256] = { rep, req };
	struct iovec iov = { buf, req };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	size_t got = 0;

	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.b;
		msg.msg_controllen = sizeof(ctl.b);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	if (sendmsg(s, &msg, MSG_NOSIGNAL) != req)
		return -EIO;
	while (got < rep) {
		ssize_t r = read(s, buf + got, rep - got);

		if (r <= 0)
			return -EIO;
		got += (size_t)r;
	}
	return 0;
}

/* ---- setup ---- */

static int e2e_start(struct e2e *e, uint64_t pages)
{
	int ret;

	memset(e, 0, sizeof(*e));
	e->server = e->echo = -1;
	e->echo_fd = e->memfd = -1;
	snprintf(e->dir, sizeof(e->dir), "/tmp/uvfio-bench-XXXXXX");
	if (!mkdtemp(e->dir))
		return -errno;
	snprintf(e->sock, sizeof(e->sock), "%s/dev.sock", e->dir);
	e->page = aligned_alloc(PAGE, PAGE);
	e->memfd = memfd_create("uvfio-bench-dma-map", MFD_CLOEXEC);
	if (!e->page || e->memfd < 0 || ftruncate(e->memfd, (off_t)(pages * PAGE)))
		return -ENOMEM;
	e->server = bench_fork_testdev(e->sock, 0);
	if (e->server < 0)
		return (int)e->server;
	e->echo = echo_start(&e->echo_fd);
	if (e->echo < 0)
		return (int)e->echo;
	ret = uvfio_client_open(e->sock, NULL, &e->c);
	return ret;
}

static void e2e_stop(struct e2e *e)
{
	uvfio_client_close(e->c);
	bench_reap(e->server);
	if (e->echo_fd >= 0)
		close(e->echo_fd);
	if (e->echo > 0)
		waitpid(e->echo, NULL, 0); /* it exits at EOF */
	if (e->memfd >= 0)
		close(e->memfd);
	free(e->page);
	unlink(e->sock);
	rmdir(e->dir);
}

static int map_fd(struct e2e *e, uint64_t iova, uint64_t off)
{
	struct uvfio_dma_map_args a = { .iova = iova, .size = PAGE, .prot = RW,
					.fd = e->memfd, .fd_offset = off };

	return uvfio_client_dma_map(e->c, &a);
}

static int map_nofd(struct e2e *e, uint64_t iova)
{
	struct uvfio_dma_map_args a = { .iova = iova, .size = PAGE, .prot = RW, .fd = -1,
					.vaddr = e->page };

	return uvfio_client_dma_map(e->c, &a);
}

/* ---- fd / no fd and floors, interleaved op by op ---- */

enum { MAP_FD, MAP_NOFD, UNMAP_FD, UNMAP_NOFD, PP_MAP, PP_MAP_FD, PP_UNMAP, CHURN_FD,
       CHURN_NOFD, NKINDS };

static const char *const kind_name[NKINDS] = {
	"DMA_MAP with fd", "DMA_MAP without fd", "DMA_UNMAP (fd window)",
	"DMA_UNMAP (no-fd window)", "floor 48->16 B", "floor 48->16 B + fd",
	"floor 40->40 B", "churn map+unmap, fd", "churn map+unmap, no fd",
};

struct stat2 {
	double med, p99;
};

/* Time one call into *slot (when slot is set); the call's error is returned. */
#define TIMED(slot, call)                                                  \
	({                                                                 \
		uint64_t t0_ = bench_now_ns();                             \
		int r_ = (call);                                           \
		if (slot)                                                  \
			*(slot) = (double)(bench_now_ns() - t0_);          \
		r_;                                                        \
	})

/*
 * One op of each kind of a pair, in alternating order: the first request
 * after another process's turn can pay for a context switch that the
 * second does not (both processes share the CPU when pinned).
 */
static int map_pair(struct e2e *e, uint64_t i, double *sfd, double *snofd)
{
	int r;

	if (i & 1) {
		r = TIMED(snofd, map_nofd(e, NOFD_BASE + i * STRIDE));
		return r ? r : TIMED(sfd, map_fd(e, FD_BASE + i * STRIDE, i * PAGE));
	}
	r = TIMED(sfd, map_fd(e, FD_BASE + i * STRIDE, i * PAGE));
	return r ? r : TIMED(snofd, map_nofd(e, NOFD_BASE + i * STRIDE));
}

static int unmap_pair(struct e2e *e, uint64_t i, double *sfd, double *snofd)
{
	int r;

	if (i & 1) {
		r = TIMED(snofd, uvfio_client_dma_unmap(e->c, NOFD_BASE + i * STRIDE, PAGE));
		return r ? r : TIMED(sfd, uvfio_client_dma_unmap(e->c, FD_BASE + i * STRIDE, PAGE));
	}
	r = TIMED(sfd, uvfio_client_dma_unmap(e->c, FD_BASE + i * STRIDE, PAGE));
	return r ? r : TIMED(snofd, uvfio_client_dma_unmap(e->c, NOFD_BASE + i * STRIDE, PAGE));
}

static int ping_pair(struct e2e *e, uint64_t i, double *sfd, double *snofd)
{
	int r;

	if (i & 1) {
		r = TIMED(snofd, ping(e->echo_fd, 48, 16, -1));
		return r ? r : TIMED(sfd, ping(e->echo_fd, 48, 16, e->memfd));
	}
	r = TIMED(sfd, ping(e->echo_fd, 48, 16, e->memfd));
	return r ? r : TIMED(snofd, ping(e->echo_fd, 48, 16, -1));
}

static int one_round(struct e2e *e, uint64_t w, double **s, size_t at)
{
	int r = 0;

#define SLOT(k, i) (s ? &s[k][at + (i)] : NULL)
	for (uint64_t i = 0; i < w && !r; i++) {
		r = map_pair(e, i, SLOT(MAP_FD, i), SLOT(MAP_NOFD, i));
		if (!r)
			r = ping_pair(e, i, SLOT(PP_MAP_FD, i), SLOT(PP_MAP, i));
	}
	/* reverse order: the client's window list loses its last entry, no memmove */
	for (uint64_t i = w; i-- > 0 && !r;) {
		r = unmap_pair(e, i, SLOT(UNMAP_FD, i), SLOT(UNMAP_NOFD, i));
		if (!r)
			r = TIMED(SLOT(PP_UNMAP, i), ping(e->echo_fd, 40, 40, -1));
	}
#undef SLOT
	return r;
}

/* Map and unmap one window alone, fd and no fd in alternating order. */
static int churn(struct e2e *e, uint64_t w, double **s)
{
	for (uint64_t i = 0; i < w; i++) {
		for (int k = 0; k < 2; k++) {
			bool fd = (i + (uint64_t)k) & 1;
			uint64_t iova = fd ? FD_BASE : NOFD_BASE, t0 = bench_now_ns();
			int r = fd ? map_fd(e, iova, 0) : map_nofd(e, iova);

			if (!r)
				r = uvfio_client_dma_unmap(e->c, iova, PAGE);
			if (r)
				return r;
			s[fd ? CHURN_FD : CHURN_NOFD][i] = (double)(bench_now_ns() - t0);
		}
	}
	return 0;
}

/* Device DMA from window 0 to window 1 of the memfd: the windows are the memfd. */
static int check_windows(struct e2e *e)
{
	uint8_t *mem = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, e->memfd, 0);
	uint64_t regs[4] = { FD_BASE, FD_BASE + STRIDE, PAGE, TESTDEV_DMA_COPY }, st = 1;
	static const uint64_t off[4] = { TESTDEV_REG_DMA_SRC, TESTDEV_REG_DMA_DST,
					 TESTDEV_REG_DMA_LEN, TESTDEV_REG_DMA_CMD };
	int r;

	if (mem == MAP_FAILED)
		return -errno;
	for (uint64_t i = 0; i < PAGE; i++) {
		mem[i] = (uint8_t)(i * 7 + 1);
		mem[PAGE + i] = 0;
	}
	r = map_fd(e, FD_BASE, 0);
	if (!r)
		r = map_fd(e, FD_BASE + STRIDE, PAGE);
	for (int i = 0; i < 4 && !r; i++)
		if (uvfio_client_write(e->c, 0, off[i], &regs[i], 8) != 8)
			r = -EIO;
	if (!r && (uvfio_client_read(e->c, 0, TESTDEV_REG_DMA_STATUS, &st, 8) != 8 || st ||
		   memcmp(mem, mem + PAGE, PAGE)))
		r = -EIO;
	uvfio_client_dma_unmap(e->c, FD_BASE, PAGE);
	uvfio_client_dma_unmap(e->c, FD_BASE + STRIDE, PAGE);
	munmap(mem, 2 * PAGE);
	return r;
}

/* ---- full scale ---- */

/* Lines of /proc/PID/maps: one per VMA. */
static long vma_count(pid_t pid)
{
	char path[64], buf[4096];
	long n = 0;
	size_t got;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while ((got = fread(buf, 1, sizeof(buf), f)))
		for (size_t i = 0; i < got; i++)
			n += buf[i] == '\n';
	fclose(f);
	return n;
}

static long fd_count(pid_t pid)
{
	char path[64];
	struct dirent *d;
	long n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

struct full_result {
	uint64_t mapped, windows;
	long vma_before, vma_top, vma_after, fds_before, fds_top, max_map_count;
	int err;
	double map_med, unmap_med;
};

static int full_run(struct e2e *e, uint64_t f, struct full_result *fr)
{
	double *sm = calloc(f ? f : 1, sizeof(double)), *su = calloc(f ? f : 1, sizeof(double));
	FILE *mc;
	int r = 0;

	memset(fr, 0, sizeof(*fr));
	fr->windows = f;
	if (!sm || !su) {
		free(sm);
		free(su);
		return -ENOMEM;
	}
	mc = fopen("/proc/sys/vm/max_map_count", "re");
	if (!mc || fscanf(mc, "%ld", &fr->max_map_count) != 1)
		fr->max_map_count = -1;
	if (mc)
		fclose(mc);
	fr->vma_before = vma_count(e->server);
	fr->fds_before = fd_count(e->server);
	for (uint64_t i = 0; i < f; i++) {
		r = TIMED(&sm[i], map_fd(e, FULL_BASE + i * STRIDE, i * PAGE));
		if (r)
			break;
		fr->mapped++;
	}
	fr->err = r;
	fr->vma_top = vma_count(e->server);
	fr->fds_top = fd_count(e->server);
	for (uint64_t i = fr->mapped; i-- > 0;) {
		int u = TIMED(&su[i], uvfio_client_dma_unmap(e->c, FULL_BASE + i * STRIDE, PAGE));

		if (u && !fr->err)
			fr->err = u;
	}
	fr->vma_after = vma_count(e->server);
	fr->map_med = bench_median(sm, fr->mapped);
	fr->unmap_med = bench_median(su, fr->mapped);
	free(sm);
	free(su);
	return 0;
}

/* ---- the whole run ---- */

static void print_results(const struct dma_e2e_opts *o, const struct stat2 *st,
			  const struct full_result *fr)
{
	double pair_fd = st[MAP_FD].med + st[UNMAP_FD].med;
	double pair_nofd = st[MAP_NOFD].med + st[UNMAP_NOFD].med;
	double cpu = o->pinned ? (double)o->cpu : -1;

	if (o->json) {
		const struct bench_kv kv[] = {
			{ "windows", (double)o->windows, true },
			{ "rounds", (double)o->rounds, true },
			{ "cpu", cpu, false },
			{ "map_fd_ns", st[MAP_FD].med, false },
			{ "map_fd_p99_ns", st[MAP_FD].p99, false },
			{ "map_nofd_ns", st[MAP_NOFD].med, false },
			{ "map_nofd_p99_ns", st[MAP_NOFD].p99, false },
			{ "unmap_fd_ns", st[UNMAP_FD].med, false },
			{ "unmap_fd_p99_ns", st[UNMAP_FD].p99, false },
			{ "unmap_nofd_ns", st[UNMAP_NOFD].med, false },
			{ "unmap_nofd_p99_ns", st[UNMAP_NOFD].p99, false },
			{ "ratio_map", st[MAP_FD].med / st[MAP_NOFD].med, false },
			{ "ratio_unmap", st[UNMAP_FD].med / st[UNMAP_NOFD].med, false },
			{ "ratio_map_unmap", pair_fd / pair_nofd, false },
			{ "floor_map_ns", st[PP_MAP].med, false },
			{ "floor_map_fd_ns", st[PP_MAP_FD].med, false },
			{ "floor_unmap_ns", st[PP_UNMAP].med, false },
			{ "floor_ratio_fd", st[PP_MAP_FD].med / st[PP_MAP].med, false },
			{ "churn_fd_ns", st[CHURN_FD].med, false },
			{ "churn_nofd_ns", st[CHURN_NOFD].med, false },
			{ "churn_ratio", st[CHURN_FD].med / st[CHURN_NOFD].med, false },
		};
		const struct bench_kv kf[] = {
			{ "windows", (double)fr->windows, true },
			{ "ok", !fr->err && fr->mapped == fr->windows, true },
			{ "mapped", (double)fr->mapped, true },
			{ "vma_before", (double)fr->vma_before, false },
			{ "vma_top", (double)fr->vma_top, false },
			{ "vma_after", (double)fr->vma_after, false },
			{ "fds_before", (double)fr->fds_before, false },
			{ "fds_top", (double)fr->fds_top, false },
			{ "max_map_count", (double)fr->max_map_count, false },
			{ "map_ns", fr->map_med, false },
			{ "unmap_ns", fr->unmap_med, false },
		};

		bench_print_json_labeled(stdout, "part", "e2e", kv, sizeof(kv) / sizeof(kv[0]));
		if (o->full)
			bench_print_json_labeled(stdout, "part", "e2e-full", kf,
						 sizeof(kf) / sizeof(kf[0]));
		return;
	}
	printf("dma-map end to end: client -> testdev server process, %llu windows x %llu "
	       "rounds, %s; ns per op\n",
	       (unsigned long long)o->windows, (unsigned long long)o->rounds,
	       o->pinned ? "both pinned to one CPU" : "unpinned");
	for (int k = 0; k < NKINDS; k++)
		printf("  %-26s median %9.0f  p99 %9.0f\n", kind_name[k], st[k].med, st[k].p99);
	printf("  fd / no fd: DMA_MAP %.2f, DMA_UNMAP %.2f, map+unmap %.2f (goal <= 1.3); "
	       "floor with fd / without %.2f; churn %.2f\n",
	       st[MAP_FD].med / st[MAP_NOFD].med, st[UNMAP_FD].med / st[UNMAP_NOFD].med,
	       pair_fd / pair_nofd, st[PP_MAP_FD].med / st[PP_MAP].med,
	       st[CHURN_FD].med / st[CHURN_NOFD].med);
	if (!o->full)
		return;
	printf("  full: %llu of %llu fd-backed windows mapped%s%s; server VMAs %ld before, %ld "
	       "with all mapped, %ld after unmapping (vm.max_map_count %ld); server fds %ld "
	       "before, %ld with all mapped; median DMA_MAP %.0f ns, DMA_UNMAP %.0f ns\n",
	       (unsigned long long)fr->mapped, (unsigned long long)fr->windows,
	       fr->err ? ", failed: " : "", fr->err ? strerror(-fr->err) : "", fr->vma_before,
	       fr->vma_top, fr->vma_after, fr->max_map_count, fr->fds_before, fr->fds_top,
	       fr->map_med, fr->unmap_med);
}

int bench_dma_map_e2e(const struct dma_e2e_opts *o)
{
	uint64_t w = o->windows, n = o->rounds * w, warm = w / 10 + 1;
	double *s[NKINDS] = { 0 };
	struct stat2 st[NKINDS];
	struct full_result fr = { 0 };
	struct e2e e;
	int r;

	r = bench_pin(o->pinned, o->cpu, NULL, 0);
	if (r) {
		fprintf(stderr, "uvfio bench dma-map: cannot pin to CPU %lu: %s\n", o->cpu,
			strerror(-r));
		return r;
	}
	for (int k = 0; k < NKINDS; k++) {
		s[k] = calloc(n, sizeof(double));
		if (!s[k]) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = e2e_start(&e, w > o->full ? w : o->full);
	if (r) {
		fprintf(stderr, "uvfio bench dma-map: cannot start the server: %s\n", strerror(-r));
		goto out_stop;
	}
	r = one_round(&e, warm, NULL, 0);
	for (uint64_t i = 0; i < o->rounds && !r; i++)
		r = one_round(&e, w, s, i * w);
	if (!r)
		r = churn(&e, w, s);
	if (!r)
		r = check_windows(&e);
	if (r) {
		fprintf(stderr, "uvfio bench dma-map: end to end: %s\n", strerror(-r));
		goto out_stop;
	}
	if (o->full)
		r = full_run(&e, o->full, &fr);
	if (r) {
		fprintf(stderr, "uvfio bench dma-map: full run: %s\n", strerror(-r));
		goto out_stop;
	}
	for (int k = 0; k < NKINDS; k++) {
		size_t m = k >= CHURN_FD ? w : n;

		st[k].p99 = bench_percentile(s[k], m, 99);
		st[k].med = bench_median(s[k], m);
	}
	print_results(o, st, &fr);
	if (o->full && (fr.err || fr.mapped != fr.windows))
		r = -EIO; /* printed above */
out_stop:
	e2e_stop(&e);
out:
	for (int k = 0; k < NKINDS; k++)
		free(s[k]);
	return r;
}
