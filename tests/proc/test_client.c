/* SPDX-License-Identifier: MIT */
/*
 * The client API against a real server process (testdev_server, see
 * devices/testdev.h for the device): every verb, DMA through an fd-backed
 * and a message-based window, IRQ delivery through an eventfd, and what a
 * caller sees when the server dies or stalls, and after it comes back.
 *
 *   test_client SERVER_BINARY [UVFIO_BINARY]
 *
 * With UVFIO_BINARY every scenario runs through `uvfio trace` (a proxy
 * between the client and the server): the results must be the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <uvfio/client.h>

#include "core/vfio_compat.h"
#include "devices/testdev.h"

static const char *server_bin;
static const char *uvfio_bin; /* set: clients go through `uvfio trace` */

struct fixture {
	char dir[32];
	char path[64];	/* what the client opens */
	char real[64];	/* where the server listens (== path without the proxy) */
	char log[64];	/* the proxy's output */
	pid_t server;
	pid_t proxy;
	struct uvfio_client *c;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Start testdev_server on f->path; returns once it says "ready". */
static pid_t start_server(struct fixture *f)
{
	struct pollfd pfd;
	char line[16] = { 0 };
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execl(server_bin, server_bin, f->real, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_true(read(p[0], line, sizeof(line) - 1) > 0);
	assert_non_null(strstr(line, "ready"));
	close(p[0]);
	return pid;
}

/* `uvfio trace --listen path --connect real --json`; returns once it listens. */
static pid_t start_proxy(struct fixture *f)
{
	char buf[4096];
	pid_t pid;
	int fd;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fd = open(f->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			_exit(127);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execl(uvfio_bin, uvfio_bin, "trace", "--listen", f->path, "--connect",
		      f->real, "--json", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		ssize_t n = 0;

		fd = open(f->log, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
		}
		if (n > 0) {
			buf[n] = 0;
			if (strstr(buf, "listening"))
				return pid;
		}
		usleep(10000);
	}
	fail_msg("uvfio trace did not start");
	return -1;
}

static void stop_proxy(struct fixture *f)
{
	int status;

	if (f->proxy <= 0)
		return;
	kill(f->proxy, SIGTERM);
	assert_int_equal(waitpid(f->proxy, &status, 0), f->proxy);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	f->proxy = -1;
	unlink(f->log);
}

static void stop_server(struct fixture *f)
{
	int status;

	if (f->server <= 0)
		return;
	kill(f->server, SIGKILL);
	waitpid(f->server, &status, 0);
	f->server = -1;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct uvfio_client_opts o = { .timeout_ms = 2000 };

	strcpy(f->dir, "/tmp/uvfio-tc-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/dev.sock", f->dir);
	snprintf(f->real, sizeof(f->real), "%s/%s.sock", f->dir, uvfio_bin ? "real" : "dev");
	snprintf(f->log, sizeof(f->log), "%s/trace.log", f->dir);
	f->server = start_server(f);
	if (uvfio_bin)
		f->proxy = start_proxy(f);
	assert_int_equal(uvfio_client_open(f->path, &o, &f->c), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	uvfio_client_close(f->c);
	stop_proxy(f);
	stop_server(f);
	unlink(f->path);
	unlink(f->real);
	rmdir(f->dir);
	free(f);
	return 0;
}

static uint64_t rd64(struct uvfio_client *c, uint64_t reg)
{
	uint64_t v = 0;

	assert_int_equal(uvfio_client_read(c, 0, reg, &v, 8), 8);
	return v;
}

static void wr64(struct uvfio_client *c, uint64_t reg, uint64_t v)
{
	assert_int_equal(uvfio_client_write(c, 0, reg, &v, 8), 8);
}

/* ---- info ------------------------------------------------------------------ */

static void test_info(void **state)
{
	struct fixture *f = *state;
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = 0 };
	struct uvfio_region r;

	assert_string_equal(uvfio_client_backend(f->c), "vfio-user");
	assert_int_equal(uvfio_client_get_info(f->c, &info), 0);
	assert_int_equal(info.num_regions, TESTDEV_NUM_REGIONS);
	assert_true(info.num_irqs >= 1);
	assert_true(info.flags & VFIO_DEVICE_FLAGS_RESET);

	assert_int_equal(uvfio_client_region(f->c, 0, &r), 0);
	assert_int_equal(r.size, TESTDEV_REGS_SIZE);
	assert_int_equal(r.flags & 7, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
	assert_int_equal(r.mmap_fd, -1);

	/* Sparse: only the second page of "mem" is mappable. */
	assert_int_equal(uvfio_client_region(f->c, 1, &r), 0);
	assert_int_equal(r.size, TESTDEV_MEM_SIZE);
	assert_true(r.flags & VFIO_REGION_INFO_FLAG_MMAP);
	assert_true(r.mmap_fd >= 0);
	assert_int_equal(r.nr_areas, 1);
	assert_int_equal(r.areas[0].offset, 4096);
	assert_int_equal(r.areas[0].size, 4096);

	assert_int_equal(uvfio_client_region(f->c, 2, &r), 0);
	assert_true(r.flags & VFIO_REGION_INFO_FLAG_MMAP);
	assert_true(r.mmap_fd >= 0);

	assert_int_equal(uvfio_client_region(f->c, TESTDEV_NUM_REGIONS, &r), -EINVAL);

	assert_int_equal(uvfio_client_irq_info(f->c, &irq), 0);
	assert_int_equal(irq.count, TESTDEV_NUM_VECTORS);
	assert_true(irq.flags & VFIO_IRQ_INFO_EVENTFD);

	/* As the kernel: argsz below the struct, or an index past the end. */
	info.argsz = 8;
	assert_int_equal(uvfio_client_get_info(f->c, &info), -EINVAL);
	irq.argsz = 8;
	assert_int_equal(uvfio_client_irq_info(f->c, &irq), -EINVAL);
	irq.argsz = sizeof(irq);
	irq.index = 1;
	assert_int_equal(uvfio_client_irq_info(f->c, &irq), -EINVAL);
}

/* ---- region access --------------------------------------------------------- */

static void test_read_write(void **state)
{
	struct fixture *f = *state;
	uint8_t data[TESTDEV_REGS_SIZE - TESTDEV_REG_DATA], back[sizeof(data)];
	uint8_t big[TESTDEV_MEM_SIZE], big_back[TESTDEV_MEM_SIZE];
	uint32_t v32;

	assert_int_equal(rd64(f->c, TESTDEV_REG_ID), TESTDEV_ID);
	wr64(f->c, TESTDEV_REG_SCRATCH, 0x1122334455667788ull);
	assert_int_equal(rd64(f->c, TESTDEV_REG_SCRATCH), 0x1122334455667788ull);
	/* A 4-byte access at an offset inside a register. */
	assert_int_equal(uvfio_client_read(f->c, 0, TESTDEV_REG_SCRATCH + 4, &v32, 4), 4);
	assert_int_equal(v32, 0x11223344);

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 3 + 1);
	assert_int_equal(uvfio_client_write(f->c, 0, TESTDEV_REG_DATA, data, sizeof(data)),
			 (ssize_t)sizeof(data));
	assert_int_equal(uvfio_client_read(f->c, 0, TESTDEV_REG_DATA, back, sizeof(back)),
			 (ssize_t)sizeof(back));
	assert_memory_equal(data, back, sizeof(data));

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i ^ (i >> 8));
	assert_int_equal(uvfio_client_write(f->c, 1, 0, big, sizeof(big)), (ssize_t)sizeof(big));
	assert_int_equal(uvfio_client_read(f->c, 1, 0, big_back, sizeof(big)),
			 (ssize_t)sizeof(big));
	assert_memory_equal(big, big_back, sizeof(big));

	/* The server's refusals come back as its errno. */
	assert_int_equal(uvfio_client_read(f->c, 0, TESTDEV_REGS_SIZE - 4, &v32, 8), -EINVAL);
	assert_int_equal(uvfio_client_write(f->c, 0, TESTDEV_REG_ID, &v32, 4), -EINVAL);
	assert_int_equal(uvfio_client_read(f->c, 7, 0, &v32, 4), -EINVAL);
	/* And the connection is still fine after them. */
	assert_int_equal(rd64(f->c, TESTDEV_REG_ID), TESTDEV_ID);
}

/* Posted writes: no answer awaited, kept in order, refusals unreported. */
static void test_write_posted(void **state)
{
	struct fixture *f = *state;
	uint8_t big[TESTDEV_MEM_SIZE], back[TESTDEV_MEM_SIZE];
	uint32_t v32 = 0;

	for (uint64_t i = 0; i < 1000; i++)
		assert_int_equal(uvfio_client_write_posted(f->c, 0, TESTDEV_REG_SCRATCH, &i, 8), 8);
	/* the read is handled after every write before it */
	assert_int_equal(rd64(f->c, TESTDEV_REG_SCRATCH), 999);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(uvfio_client_write_posted(f->c, 1, 0, big, sizeof(big)),
			 (ssize_t)sizeof(big));
	assert_int_equal(uvfio_client_read(f->c, 1, 0, back, sizeof(back)), (ssize_t)sizeof(back));
	assert_memory_equal(big, back, sizeof(big));
	/* a write the device refuses is dropped silently; the link lives on */
	assert_int_equal(uvfio_client_write_posted(f->c, 0, TESTDEV_REG_ID, &v32, 4), 4);
	assert_int_equal(rd64(f->c, TESTDEV_REG_ID), TESTDEV_ID);
	assert_int_equal(uvfio_client_write_posted(f->c, 7, 0, &v32, 4), -EINVAL);
	assert_int_equal(uvfio_client_write_posted(f->c, 0, 0, NULL, 4), -EINVAL);
	assert_int_equal(uvfio_client_write_posted(f->c, 0, 0, &v32, 0), 0);
}

static void test_mmap(void **state)
{
	struct fixture *f = *state;
	uint8_t back[64];
	uint8_t *p;

	p = uvfio_client_mmap(f->c, 1, 4096, 4096, PROT_READ | PROT_WRITE);
	assert_non_null(p);
	memcpy(p + 100, "through the mapping", 20);
	assert_int_equal(uvfio_client_read(f->c, 1, 4096 + 100, back, 20), 20);
	assert_memory_equal(back, "through the mapping", 20);
	assert_int_equal(uvfio_client_write(f->c, 1, 4096 + 200, "via the socket", 15), 15);
	assert_memory_equal(p + 200, "via the socket", 15);

	/* Outside the sparse area, past it, unaligned, or not mappable at all. */
	errno = 0;
	assert_null(uvfio_client_mmap(f->c, 1, 0, 4096, PROT_READ));
	assert_int_equal(errno, EINVAL);
	assert_null(uvfio_client_mmap(f->c, 1, 4096, 8192, PROT_READ));
	assert_int_equal(errno, EINVAL);
	assert_null(uvfio_client_mmap(f->c, 1, 4097, 100, PROT_READ));
	assert_int_equal(errno, EINVAL);
	assert_null(uvfio_client_mmap(f->c, 0, 0, 256, PROT_READ));
	assert_int_equal(errno, EINVAL);

	/* Region 2 maps whole. */
	assert_non_null(uvfio_client_mmap(f->c, 2, 0, TESTDEV_WHOLE_SIZE, PROT_READ));

	assert_int_equal(uvfio_client_munmap(f->c, p, 100), -EINVAL);
	assert_int_equal(uvfio_client_munmap(f->c, p, 4096), 0);
	assert_int_equal(uvfio_client_munmap(f->c, p, 4096), -EINVAL);
	/* The region-2 mapping is left for close to undo. */
}

/* ---- interrupts ------------------------------------------------------------- */

static bool fired(int efd, int timeout_ms)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t v;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return false;
	return read(efd, &v, sizeof(v)) == sizeof(v) && v > 0;
}

static int set_eventfds(struct uvfio_client *c, uint32_t start, uint32_t count,
			const int32_t *fds)
{
	struct vfio_irq_set s = {
		.argsz = sizeof(s) + count * sizeof(int32_t),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = 0, .start = start, .count = count,
	};

	return uvfio_client_set_irqs(c, &s, fds);
}

static void test_irq_eventfd(void **state)
{
	struct fixture *f = *state;
	int32_t fds[4];
	int32_t none[4] = { -1, -1, -1, -1 };
	struct vfio_irq_set disable = {
		.argsz = sizeof(disable),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = 0,
	};

	for (int i = 0; i < 4; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	/* A hole at vector 2: sent as three chunks (fds, none, fds). */
	int32_t mixed[4] = { fds[0], fds[1], -1, fds[3] };

	assert_int_equal(set_eventfds(f->c, 0, 4, mixed), 0);
	wr64(f->c, TESTDEV_REG_IRQ, 1);
	assert_true(fired(fds[1], 2000));
	assert_false(fired(fds[0], 0));
	wr64(f->c, TESTDEV_REG_IRQ, 3);
	assert_true(fired(fds[3], 2000));
	wr64(f->c, TESTDEV_REG_IRQ, 2); /* no eventfd: nothing anywhere */
	for (int i = 0; i < 4; i++)
		assert_false(fired(fds[i], 50));

	/* De-assign vector 1 (a chunk of -1 goes without fds). */
	assert_int_equal(set_eventfds(f->c, 1, 1, none), 0);
	wr64(f->c, TESTDEV_REG_IRQ, 1);
	assert_false(fired(fds[1], 100));
	wr64(f->c, TESTDEV_REG_IRQ, 0);
	assert_true(fired(fds[0], 2000));

	/* DATA_NONE with count 0 disables the whole index. */
	assert_int_equal(uvfio_client_set_irqs(f->c, &disable, NULL), 0);
	wr64(f->c, TESTDEV_REG_IRQ, 0);
	assert_false(fired(fds[0], 100));

	/* Beyond the index's vectors: the server's -EINVAL. */
	assert_int_equal(set_eventfds(f->c, 3, 2, fds), -EINVAL);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
}

/* ---- doorbells (GET_REGION_IO_FDS) --------------------------------------------- */

/* Wait until the device has counted `n` doorbell rings in all. */
static bool doorbells_reach(struct uvfio_client *c, uint32_t n)
{
	for (int i = 0; i < 500; i++) {
		if (TESTDEV_IRQ_BY_DOORBELL(rd64(c, TESTDEV_REG_IRQ)) == n)
			return true;
		usleep(10000);
	}
	return false;
}

static void set_all_eventfds(struct uvfio_client *c, int32_t *fds)
{
	for (int i = 0; i < (int)TESTDEV_NUM_VECTORS; i++) {
		if (fds[i] < 0)
			fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		assert_true(fds[i] >= 0);
	}
	assert_int_equal(set_eventfds(c, 0, TESTDEV_NUM_VECTORS, fds), 0);
}

static ssize_t posted64(struct uvfio_client *c, uint64_t v)
{
	return uvfio_client_write_posted(c, 0, TESTDEV_REG_IRQ, &v, 8);
}

/*
 * A posted write that matches a doorbell reaches the device through its
 * eventfd, with no REGION_WRITE (the device counts what its write op saw);
 * one that does not match (a value without datamatch, another size) and
 * every uvfio_client_write go as messages.
 */
static void test_doorbell(void **state)
{
	struct fixture *f = *state;
	struct uvfio_client_ioeventfd e[8];
	int32_t fds[4] = { -1, -1, -1, -1 };
	uint32_t v32 = 0, db, wr;
	uint64_t base;

	set_all_eventfds(f->c, fds);
	assert_int_equal(uvfio_client_ioeventfds(f->c, 0, e, 8), TESTDEV_DOORBELL_VECTORS);
	for (uint32_t i = 0; i < TESTDEV_DOORBELL_VECTORS; i++) {
		assert_int_equal(e[i].offset, TESTDEV_REG_IRQ);
		assert_int_equal(e[i].size, 8);
		assert_true(e[i].datamatch);
		assert_int_equal(e[i].data, i);
		assert_true(e[i].fd >= 0);
		for (uint32_t k = 0; k < i; k++)
			assert_int_not_equal(e[i].fd, e[k].fd);
	}
	assert_int_equal(uvfio_client_ioeventfds(f->c, 0, e, 1), TESTDEV_DOORBELL_VECTORS);
	assert_int_equal(uvfio_client_ioeventfds(f->c, 1, e, 8), 0);
	assert_int_equal(uvfio_client_ioeventfds(f->c, TESTDEV_NUM_REGIONS, e, 8), -EINVAL);

	base = rd64(f->c, TESTDEV_REG_IRQ);
	db = TESTDEV_IRQ_BY_DOORBELL(base);
	wr = TESTDEV_IRQ_BY_WRITE(base);
	/* the fast path: vector 2 fires, no write op ran */
	assert_int_equal(posted64(f->c, 2), 8);
	assert_true(fired(fds[2], 2000));
	assert_false(fired(fds[1], 0));
	assert_true(doorbells_reach(f->c, db + 1));
	/* a run of them: all counted (an eventfd adds them up), none a message */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(posted64(f->c, 1), 8);
	assert_true(doorbells_reach(f->c, db + 1001));
	assert_true(fired(fds[1], 2000));
	assert_int_equal(TESTDEV_IRQ_BY_WRITE(rd64(f->c, TESTDEV_REG_IRQ)), wr);

	/* no doorbell for vector 3: a REGION_WRITE, seen by the write op */
	assert_int_equal(posted64(f->c, 3), 8);
	assert_true(fired(fds[3], 2000));
	assert_int_equal(TESTDEV_IRQ_BY_WRITE(rd64(f->c, TESTDEV_REG_IRQ)), wr + 1);
	/* vector 0 in 4 bytes: no doorbell of that size */
	assert_int_equal(uvfio_client_write_posted(f->c, 0, TESTDEV_REG_IRQ, &v32, 4), 4);
	assert_true(fired(fds[0], 2000));
	assert_int_equal(TESTDEV_IRQ_BY_WRITE(rd64(f->c, TESTDEV_REG_IRQ)), wr + 2);
	/* a replied write never takes the fast path */
	wr64(f->c, TESTDEV_REG_IRQ, 0);
	assert_true(fired(fds[0], 0));
	assert_int_equal(TESTDEV_IRQ_BY_WRITE(rd64(f->c, TESTDEV_REG_IRQ)), wr + 3);
	assert_int_equal(TESTDEV_IRQ_BY_DOORBELL(rd64(f->c, TESTDEV_REG_IRQ)), db + 1001);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
}

/* Reopen: the server takes one client at a time, and through the proxy the
 * old connection may still be on its way out. */
static struct uvfio_client *reopen(struct fixture *f, const struct uvfio_client_opts *o)
{
	struct uvfio_client *c = NULL;
	int rc = -EBUSY;

	uvfio_client_close(f->c);
	f->c = NULL;
	for (int i = 0; i < 200 && rc == -EBUSY; i++) {
		rc = uvfio_client_open(f->path, o, &c);
		if (rc == -EBUSY)
			usleep(10000);
	}
	assert_int_equal(rc, 0);
	f->c = c;
	return c;
}

/* A new client gets new doorbell eventfds: one an old client kept rings
 * nothing. With opts.no_ioeventfds every write is a message. */
static void test_doorbell_reconnect(void **state)
{
	struct fixture *f = *state;
	struct uvfio_client_opts o = { .timeout_ms = 2000 };
	struct uvfio_client_ioeventfd e[4];
	int32_t fds[4] = { -1, -1, -1, -1 };
	uint64_t one = 1, before;
	int old;

	assert_int_equal(uvfio_client_ioeventfds(f->c, 0, e, 4), TESTDEV_DOORBELL_VECTORS);
	old = dup(e[0].fd);
	assert_true(old >= 0);
	reopen(f, &o);
	set_all_eventfds(f->c, fds);
	before = rd64(f->c, TESTDEV_REG_IRQ);
	assert_int_equal(write(old, &one, 8), 8);
	assert_false(fired(fds[0], 200));
	assert_int_equal(rd64(f->c, TESTDEV_REG_IRQ), before);
	assert_int_equal(posted64(f->c, 0), 8); /* asks for the new ones */
	assert_true(fired(fds[0], 2000));
	assert_true(doorbells_reach(f->c, TESTDEV_IRQ_BY_DOORBELL(before) + 1));
	close(old);

	o.no_ioeventfds = true;
	reopen(f, &o);
	set_all_eventfds(f->c, fds);
	assert_int_equal(uvfio_client_ioeventfds(f->c, 0, e, 4), 0);
	before = rd64(f->c, TESTDEV_REG_IRQ);
	assert_int_equal(posted64(f->c, 1), 8);
	assert_true(fired(fds[1], 2000));
	assert_int_equal(rd64(f->c, TESTDEV_REG_IRQ), before + 1); /* by write */
	for (int i = 0; i < 4; i++)
		close(fds[i]);
}

/* ---- DMA ---------------------------------------------------------------------- */

static uint64_t run_dma(struct uvfio_client *c, uint64_t src, uint64_t dst, uint64_t len)
{
	wr64(c, TESTDEV_REG_DMA_SRC, src);
	wr64(c, TESTDEV_REG_DMA_DST, dst);
	wr64(c, TESTDEV_REG_DMA_LEN, len);
	wr64(c, TESTDEV_REG_DMA_CMD, 1);
	return rd64(c, TESTDEV_REG_DMA_STATUS);
}

static void test_dma_fd(void **state)
{
	struct fixture *f = *state;
	size_t size = 4 * 4096;
	int memfd = memfd_create("dma", MFD_CLOEXEC);
	struct uvfio_dma_map_args m = {
		.iova = 0x100000, .size = size, .prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE,
		.fd = memfd, .fd_offset = 0,
	};
	uint8_t *mem;

	assert_int_equal(ftruncate(memfd, (off_t)size), 0);
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	assert_true(mem != MAP_FAILED);
	for (size_t i = 0; i < 8192; i++)
		mem[i] = (uint8_t)(i * 7);
	assert_int_equal(uvfio_client_dma_map(f->c, &m), 0);
	assert_int_equal(run_dma(f->c, 0x100000, 0x102000, 8192), 0);
	assert_memory_equal(mem, mem + 8192, 8192);
	/* The same range again: the server refuses the overlap. */
	assert_int_equal(uvfio_client_dma_map(f->c, &m), -EEXIST);

	assert_int_equal(uvfio_client_dma_unmap(f->c, 0x100000, size), 0);
	assert_int_not_equal(run_dma(f->c, 0x100000, 0x102000, 4096), 0);
	munmap(mem, size);
	close(memfd); /* the client never took ours */
}

static void test_dma_message(void **state)
{
	struct fixture *f = *state;
	size_t size = 64 * 1024;
	uint8_t *src = aligned_alloc(4096, size), *dst = aligned_alloc(4096, size);
	struct uvfio_dma_map_args ms = {
		.iova = 0x200000, .size = size, .prot = UVFIO_DMA_READ, .fd = -1, .vaddr = src,
	};
	struct uvfio_dma_map_args md = {
		.iova = 0x300000, .size = size, .prot = UVFIO_DMA_WRITE, .fd = -1, .vaddr = dst,
	};

	for (size_t i = 0; i < size; i++)
		src[i] = (uint8_t)(i * 11 + 5);
	memset(dst, 0, size);
	assert_int_equal(uvfio_client_dma_map(f->c, &ms), 0);
	assert_int_equal(uvfio_client_dma_map(f->c, &md), 0);
	/* The device reads src and writes dst: both served by this client. */
	assert_int_equal(run_dma(f->c, 0x200000 + 100, 0x300000 + 300, 40000), 0);
	assert_memory_equal(src + 100, dst + 300, 40000);
	assert_int_equal(dst[299], 0);
	assert_int_equal(dst[300 + 40000], 0);

	/* Protection as mapped: the device may not write a read-only window. */
	assert_int_not_equal(run_dma(f->c, 0x300000, 0x200000, 16), 0);
	/* Overlap is refused before anything goes out. */
	ms.iova += 4096;
	assert_int_equal(uvfio_client_dma_map(f->c, &ms), -EEXIST);
	/* Without fd a vaddr is needed: there is nothing else to serve from. */
	ms.iova = 0x400000;
	ms.vaddr = NULL;
	assert_int_equal(uvfio_client_dma_map(f->c, &ms), -EINVAL);

	/* After unmap-all, nothing is reachable. */
	assert_int_equal(uvfio_client_dma_unmap_all(f->c), 0);
	assert_int_not_equal(run_dma(f->c, 0x200000, 0x300000, 16), 0);
	free(src);
	free(dst);
}

/* ---- reset, feature, migration -------------------------------------------------- */

static void test_reset_feature(void **state)
{
	struct fixture *f = *state;
	struct {
		struct vfio_device_feature h;
		uint64_t v;
		uint64_t spare;
	} feat = { .h = { .argsz = sizeof(feat) - 8 } };
	struct vfio_device_feature probe = {
		.argsz = sizeof(probe),
		.flags = TESTDEV_FEATURE | VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET,
	};

	wr64(f->c, TESTDEV_REG_SCRATCH, 99);
	assert_int_equal(uvfio_client_reset(f->c), 0);
	assert_int_equal(rd64(f->c, TESTDEV_REG_SCRATCH), 0);
	assert_int_equal(rd64(f->c, TESTDEV_REG_ID), TESTDEV_ID);

	feat.h.flags = TESTDEV_FEATURE | VFIO_DEVICE_FEATURE_SET;
	feat.v = 0xabcdef;
	assert_int_equal(uvfio_client_feature(f->c, &feat), 0);
	feat.h.flags = TESTDEV_FEATURE | VFIO_DEVICE_FEATURE_GET;
	feat.h.argsz = sizeof(feat); /* room to spare: argsz stays ours */
	feat.v = 0;
	assert_int_equal(uvfio_client_feature(f->c, &feat), 0);
	assert_int_equal(feat.v, 0xabcdef);
	assert_int_equal(feat.h.argsz, sizeof(feat));
	assert_int_equal(feat.h.flags, TESTDEV_FEATURE | VFIO_DEVICE_FEATURE_GET);
	assert_int_equal(uvfio_client_feature(f->c, &probe), 0);
	/* Not offered: ENOTTY, as the kernel answers. */
	probe.flags = 0x1ff | VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET;
	assert_int_equal(uvfio_client_feature(f->c, &probe), -ENOTTY);
	/* argsz below the struct is refused before it goes out. */
	probe.argsz = 4;
	assert_int_equal(uvfio_client_feature(f->c, &probe), -EINVAL);
}

static int mig_set(struct uvfio_client *c, uint32_t state)
{
	struct {
		struct vfio_device_feature h;
		struct vfio_device_feature_mig_state s;
	} m = {
		.h = { .argsz = sizeof(m),
		       .flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE },
		.s = { .device_state = state, .data_fd = -1 },
	};

	return uvfio_client_feature(c, &m);
}

static void test_migration(void **state)
{
	struct fixture *f = *state;
	static uint8_t stream[64 * 1024];
	ssize_t n, total = 0;

	wr64(f->c, TESTDEV_REG_SCRATCH, 0x5151);
	assert_int_equal(mig_set(f->c, VFIO_DEVICE_STATE_STOP_COPY), 0);
	while ((n = uvfio_client_mig_read(f->c, stream + total, sizeof(stream) - total)) > 0)
		total += n;
	assert_int_equal(n, 0);
	assert_true(total > TESTDEV_REGS_SIZE); /* the registers and more, framed */
	assert_int_equal(mig_set(f->c, VFIO_DEVICE_STATE_STOP), 0);

	assert_int_equal(uvfio_client_reset(f->c), 0);
	assert_int_equal(rd64(f->c, TESTDEV_REG_SCRATCH), 0);
	assert_int_equal(mig_set(f->c, VFIO_DEVICE_STATE_RESUMING), 0);
	assert_int_equal(uvfio_client_mig_write(f->c, stream, (size_t)total), 0);
	assert_int_equal(mig_set(f->c, VFIO_DEVICE_STATE_STOP), 0);
	assert_int_equal(rd64(f->c, TESTDEV_REG_SCRATCH), 0x5151);
	/* Data in the wrong state is the server's EINVAL (or similar). */
	assert_true(uvfio_client_mig_write(f->c, stream, 8) < 0);
	assert_int_equal(mig_set(f->c, VFIO_DEVICE_STATE_RUNNING), 0);
}

/* ---- idle service ---------------------------------------------------------------- */

static void test_process_idle(void **state)
{
	struct fixture *f = *state;
	uint64_t t0 = now_ms();

	assert_true(uvfio_client_fd(f->c) >= 0);
	assert_int_equal(uvfio_client_process(f->c, 0), 0);
	assert_int_equal(uvfio_client_process(f->c, 50), 0);
	assert_true(now_ms() - t0 >= 45);
	assert_int_equal(rd64(f->c, TESTDEV_REG_ID), TESTDEV_ID);
}

/* ---- several threads on one client ---------------------------------------------- */

struct worker {
	struct uvfio_client *c;
	int id, errors;
	int *stop;
};

static void *reader(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 500; i++) {
		uint64_t v = 0, mine = ((uint64_t)w->id << 32) | (uint64_t)i;

		if (uvfio_client_read(w->c, 0, TESTDEV_REG_ID, &v, 8) != 8 || v != TESTDEV_ID)
			w->errors++;
		/* Each thread owns one data register: its writes come back. */
		if (uvfio_client_write(w->c, 0, TESTDEV_REG_DATA + 8 * w->id, &mine, 8) != 8 ||
		    uvfio_client_read(w->c, 0, TESTDEV_REG_DATA + 8 * w->id, &v, 8) != 8 ||
		    v != mine)
			w->errors++;
	}
	return NULL;
}

static void *idler(void *arg)
{
	struct worker *w = arg;

	while (!__atomic_load_n(w->stop, __ATOMIC_ACQUIRE))
		if (uvfio_client_process(w->c, 5) < 0)
			w->errors++;
	return NULL;
}

/* Calls from several threads, and an idle loop beside them, stay matched. */
static void test_threads(void **state)
{
	struct fixture *f = *state;
	int stop = 0;
	struct worker w[4];
	pthread_t th[4];

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .c = f->c, .id = i, .stop = &stop };
		pthread_create(&th[i], NULL, i == 3 ? idler : reader, &w[i]);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(th[3], NULL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(w[i].errors, 0);
}

/* ---- a dying server -------------------------------------------------------------- */

struct killer {
	pid_t pid;
	int delay_ms;
};

static void *kill_later(void *arg)
{
	struct killer *k = arg;

	usleep((useconds_t)k->delay_ms * 1000);
	kill(k->pid, SIGKILL);
	return NULL;
}

/* Killed while a request waits: the call fails at once, not at the
 * timeout, later calls fail fast, and a restarted server can be reopened. */
static void test_server_killed_mid_request(void **state)
{
	struct fixture *f = *state;
	struct uvfio_client_opts o = { .timeout_ms = 2000 };
	struct killer k = { f->server, 150 };
	struct uvfio_client *c2;
	pthread_t th;
	uint64_t v, t0;
	ssize_t r;
	int status;

	/* Stopped, it cannot answer; then it dies while we wait. */
	kill(f->server, SIGSTOP);
	pthread_create(&th, NULL, kill_later, &k);
	t0 = now_ms();
	r = uvfio_client_read(f->c, 0, TESTDEV_REG_ID, &v, 8);
	assert_true(r == -ECONNRESET || r == -EPIPE);
	assert_true(now_ms() - t0 < 1500);
	pthread_join(th, NULL);
	waitpid(f->server, &status, 0);
	f->server = -1;

	t0 = now_ms();
	assert_int_equal(uvfio_client_read(f->c, 0, TESTDEV_REG_ID, &v, 8), r);
	assert_int_equal(uvfio_client_reset(f->c), r);
	assert_int_equal(uvfio_client_process(f->c, 100), r);
	assert_true(now_ms() - t0 < 200); /* far below the timeout */

	/* Restarted: a new client works. */
	f->server = start_server(f);
	assert_int_equal(uvfio_client_open(f->path, &o, &c2), 0);
	assert_int_equal(rd64(c2, TESTDEV_REG_ID), TESTDEV_ID);
	uvfio_client_close(f->c);
	f->c = c2;
}

/* Stalled: the call gives up after the configured timeout. */
static void test_server_stalled(void **state)
{
	struct fixture *f = *state;
	struct uvfio_client_opts o = { .timeout_ms = 300 };
	struct uvfio_client *c;
	uint64_t v, t0, dt;

	/* One client at a time: a second one hears EBUSY in the VERSION reply. */
	assert_int_equal(uvfio_client_open(f->path, &o, &c), -EBUSY);
	uvfio_client_close(f->c);
	f->c = NULL;
	usleep(50000);
	assert_int_equal(uvfio_client_open(f->path, &o, &c), 0);
	kill(f->server, SIGSTOP);
	t0 = now_ms();
	assert_int_equal(uvfio_client_read(c, 0, TESTDEV_REG_ID, &v, 8), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 290 && dt < 1000);
	t0 = now_ms();
	assert_int_equal(uvfio_client_read(c, 0, TESTDEV_REG_ID, &v, 8), -ETIMEDOUT);
	assert_true(now_ms() - t0 < 200); /* far below the timeout */
	kill(f->server, SIGCONT);
	f->c = c;
}

/* ---- a fake server in a child process: accepts, then misbehaves ---------- */

#include <sys/socket.h>
#include <sys/un.h>

#include "user/proto.h"

struct fake {
	char dir[32];
	char path[64];
	pid_t pid;
};

static int fake_read(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read one message; its payload (up to cap bytes) into buf. */
static int fake_recv(int fd, struct vfio_user_header *h, void *buf, size_t cap)
{
	uint8_t skip[256];
	size_t len;

	if (fake_read(fd, h, sizeof(*h)) || h->msg_size < sizeof(*h))
		return -1;
	len = h->msg_size - sizeof(*h);
	if (len <= cap)
		return fake_read(fd, buf, len);
	if (fake_read(fd, buf, cap))
		return -1;
	for (len -= cap; len; len -= len < sizeof(skip) ? len : sizeof(skip))
		if (fake_read(fd, skip, len < sizeof(skip) ? len : sizeof(skip)))
			return -1;
	return 0;
}

static void fake_reply(int fd, const struct vfio_user_header *req, const void *p, size_t len)
{
	struct vfio_user_header h = { .msg_id = req->msg_id, .cmd = req->cmd,
				      .msg_size = (uint32_t)(sizeof(h) + len),
				      .flags = VFIO_USER_F_TYPE_REPLY };
	uint8_t buf[64];

	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), p, len);
	if (write(fd, buf, sizeof(h) + len) != (ssize_t)(sizeof(h) + len))
		_exit(10);
}

/* Wait for one ring on an eventfd: its count, or 0. */
static uint64_t fake_ring(int efd, int timeout_ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t n = 0;

	if (poll(&p, 1, timeout_ms) != 1 || read(efd, &n, 8) != 8)
		return 0;
	return n;
}

/*
 * mode 2: GET_REGION_IO_FDS answered as libvfio-user does (48-byte entries,
 * one fd for two entries, a shadow entry), then the client's posted writes
 * checked: the matching ones ring the eventfd, the other one is a message.
 */
static void fake_serve_iofds(int fd)
{
	struct vfio_user_header h;
	uint8_t p[4096], rep[16 + 16 + 3 * 48] = { 0 };
	int efd[2] = { eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC) };
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(2 * sizeof(int))];
	} ctl;
	struct iovec iov = { rep, sizeof(rep) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			      .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	uint64_t off, data;
	uint32_t region, count;

	if (fake_recv(fd, &h, p, sizeof(p)) || h.cmd != VFIO_USER_VERSION)
		_exit(12);
	fake_reply(fd, &h, (uint16_t[]){ 0, 0 }, 4);
	if (fake_recv(fd, &h, p, sizeof(p)) || h.cmd != VFIO_USER_DEVICE_GET_INFO)
		_exit(15);
	fake_reply(fd, &h, (uint32_t[]){ 16, 0, 1, 0 }, 16); /* one region */
	if (fake_recv(fd, &h, p, sizeof(p)) || h.cmd != VFIO_USER_DEVICE_GET_REGION_IO_FDS)
		_exit(30);
	memcpy(&region, p + 8, 4);
	memcpy(&count, p + 12, 4);
	if (region != 0 || count != 0 || *(uint32_t *)p < 16 + 3 * 48)
		_exit(31); /* the client offers room for 48-byte entries */
	/* header, then: 4 bytes at 8 == 0x77 (fd 0); shadow (fd 1); 4 bytes at 0x10 (fd 0) */
	h = (struct vfio_user_header){ .msg_id = h.msg_id, .cmd = h.cmd,
				       .msg_size = sizeof(rep), .flags = VFIO_USER_F_TYPE_REPLY };
	memcpy(rep, &h, 16);
	memcpy(rep + 16, (uint32_t[]){ 16 + 3 * 48, 0, 0, 3 }, 16);
	memcpy(rep + 32, (uint64_t[]){ 8, 4 }, 16);
	memcpy(rep + 32 + 16, (uint32_t[]){ 0, VFIO_USER_IO_FD_TYPE_IOEVENTFD,
					    VFIO_USER_IOEVENTFD_DATAMATCH, 0 }, 16);
	memcpy(rep + 32 + 40, (uint64_t[]){ 0x77 }, 8);
	memcpy(rep + 80, (uint64_t[]){ 0x20, 8 }, 16);
	memcpy(rep + 80 + 16, (uint32_t[]){ 1, VFIO_USER_IO_FD_TYPE_SHADOW, 0, 1 }, 16);
	memcpy(rep + 128, (uint64_t[]){ 0x10, 4 }, 16);
	memcpy(rep + 128 + 16, (uint32_t[]){ 0, VFIO_USER_IO_FD_TYPE_IOEVENTFD, 0, 0 }, 16);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(cm), efd, sizeof(efd));
	if (sendmsg(fd, &msg, 0) != (ssize_t)sizeof(rep))
		_exit(32);
	/* the test writes 0x77 at 8, anything at 0x10 (both fd 0: two rings,
	 * maybe counted together), then 0x78 at 8 (a message) */
	for (uint64_t rings = 0, n; rings < 2; rings += n)
		if (!(n = fake_ring(efd[0], 3000)) || rings + n > 2)
			_exit(33);
	if (fake_recv(fd, &h, p, sizeof(p)) || h.cmd != VFIO_USER_REGION_WRITE ||
	    !(h.flags & VFIO_USER_F_NO_REPLY) || h.msg_size != 16 + 16 + 4)
		_exit(35);
	memcpy(&off, p, 8);
	data = 0;
	memcpy(&data, p + 16, 4);
	if (off != 8 || data != 0x78)
		_exit(36);
	/* the message came after every write: no third ring, the shadow fd unused */
	if (fake_ring(efd[1], 0) || fake_ring(efd[0], 0))
		_exit(34);
	close(fd);
	_exit(0);
}

/* The child's side; exits 0 when the client behaved. */
static void fake_serve(int lfd, int mode)
{
	struct vfio_user_header h;
	uint8_t p[4096];
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		_exit(11);
	if (mode == 0) { /* takes the VERSION, never answers */
		fake_recv(fd, &h, p, sizeof(p));
		sleep(30);
		_exit(0);
	}
	if (mode == 2)
		fake_serve_iofds(fd);
	/* mode 1: a proper VERSION (0.0, no JSON), then requests outside
	 * the client's window after its DMA_MAP */
	if (fake_recv(fd, &h, p, sizeof(p)) || h.cmd != VFIO_USER_VERSION)
		_exit(12);
	fake_reply(fd, &h, (uint16_t[]){ 0, 0 }, 4);
	if (fake_recv(fd, &h, p, sizeof(p)) || h.cmd != VFIO_USER_DEVICE_GET_INFO)
		_exit(15);
	fake_reply(fd, &h, (uint32_t[]){ 16, 0, 0, 0 }, 16);
	if (fake_recv(fd, &h, p, sizeof(p)) || h.cmd != VFIO_USER_DMA_MAP)
		_exit(13);
	fake_reply(fd, &h, NULL, 0);
	{
		/* the window: 0x10000 + 0x1000, READ only */
		static const uint64_t reqs[][3] = {
			{ VFIO_USER_DMA_READ, 0x0f000, 16 },  /* before it */
			{ VFIO_USER_DMA_READ, 0x10ff8, 16 },  /* crosses its end */
			{ VFIO_USER_DMA_READ, 0x11000, 1 },   /* just after */
			{ VFIO_USER_DMA_WRITE, 0x10000, 8 },  /* no write permission */
			{ VFIO_USER_DMA_READ, 0xfffffffffffffff8ull, 16 }, /* wraps */
		};

		for (unsigned int i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
			uint8_t m[16 + 16 + 8] = { 0 };
			struct vfio_user_header rq = { .msg_id = (uint16_t)(500 + i),
				.cmd = (uint16_t)reqs[i][0],
				.msg_size = (uint32_t)(32 + (reqs[i][0] == VFIO_USER_DMA_WRITE ? 8 : 0)) };

			memcpy(m, &rq, 16);
			memcpy(m + 16, &reqs[i][1], 8);
			memcpy(m + 24, &reqs[i][2], 8);
			memset(m + 32, 0xee, 8);
			if (write(fd, m, rq.msg_size) != (ssize_t)rq.msg_size)
				_exit(14);
			if (fake_recv(fd, &h, p, sizeof(p)) || h.msg_id != rq.msg_id ||
			    h.flags != (VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR) ||
			    h.error_no == 0 || h.msg_size != 16)
				_exit(20 + (int)i); /* the client must refuse it */
		}
	}
	close(fd);
	_exit(0);
}

static void fake_start(struct fake *f, int mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd;

	strcpy(f->dir, "/tmp/uvfio-fake-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/s.sock", f->dir);
	strcpy(sa.sun_path, f->path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (!f->pid)
		fake_serve(lfd, mode);
	close(lfd);
}

static int fake_stop(struct fake *f)
{
	int st = 0;

	kill(f->pid, SIGTERM);
	waitpid(f->pid, &st, 0);
	unlink(f->path);
	rmdir(f->dir);
	return st;
}

/* A server that accepts and never answers VERSION: open fails in time. */
static void test_version_never_answered(void **state)
{
	struct uvfio_client_opts o = { .timeout_ms = 300 };
	struct uvfio_client *c = (void *)1;
	struct fake f;
	uint64_t t0, dt;

	fake_start(&f, 0);
	t0 = now_ms();
	assert_int_equal(uvfio_client_open(f.path, &o, &c), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_null(c);
	assert_true(dt >= 290 && dt < 2000);
	fake_stop(&f);
}

/* Server requests outside the client's windows (or without the right) are
 * refused with an error reply; the client's memory is untouched. */
static void test_requests_outside_windows(void **state)
{
	struct uvfio_client_opts o = { .timeout_ms = 2000 };
	static uint8_t mem[3 * 4096] __attribute__((aligned(4096)));
	struct uvfio_dma_map_args m = { .iova = 0x10000, .size = 0x1000, .fd = -1,
					.prot = UVFIO_DMA_READ, .vaddr = mem + 4096 };
	struct uvfio_client *c;
	struct fake f;
	int st = -1;

	memset(mem, 0x5a, sizeof(mem));
	fake_start(&f, 1);
	assert_int_equal(uvfio_client_open(f.path, &o, &c), 0);
	assert_int_equal(uvfio_client_dma_map(c, &m), 0);
	for (int i = 0; i < 200; i++) {
		if (waitpid(f.pid, &st, WNOHANG) == f.pid)
			break;
		/* once the fake server hangs up, process fails at once */
		if (uvfio_client_process(c, 100) < 0)
			usleep(50000);
	}
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	for (size_t i = 0; i < sizeof(mem); i++)
		assert_int_equal(mem[i], 0x5a);
	uvfio_client_close(c);
	unlink(f.path);
	rmdir(f.dir);
}

/* A server answering GET_REGION_IO_FDS in libvfio-user's 48-byte layout,
 * with one fd for two entries and a shadow entry (interop hazard 7). */
static void test_doorbell_libvfio_user_layout(void **state)
{
	struct uvfio_client_opts o = { .timeout_ms = 2000 };
	struct uvfio_client_ioeventfd e[4];
	struct uvfio_client *c;
	uint32_t v;
	struct fake f;
	int st = -1;

	fake_start(&f, 2);
	assert_int_equal(uvfio_client_open(f.path, &o, &c), 0);
	assert_int_equal(uvfio_client_ioeventfds(c, 0, e, 4), 2); /* the shadow left out */
	assert_int_equal(e[0].offset, 8);
	assert_int_equal(e[0].size, 4);
	assert_true(e[0].datamatch);
	assert_int_equal(e[0].data, 0x77);
	assert_int_equal(e[1].offset, 0x10);
	assert_false(e[1].datamatch);
	assert_int_equal(e[0].fd, e[1].fd);
	v = 0x77;
	assert_int_equal(uvfio_client_write_posted(c, 0, 8, &v, 4), 4);
	v = 0x1234;
	assert_int_equal(uvfio_client_write_posted(c, 0, 0x10, &v, 4), 4);
	v = 0x78;
	assert_int_equal(uvfio_client_write_posted(c, 0, 8, &v, 4), 4);
	assert_int_equal(waitpid(f.pid, &st, 0), f.pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	uvfio_client_close(c);
	unlink(f.path);
	rmdir(f.dir);
}

static void test_bad_locations(void **state)
{
	struct uvfio_client *c;

	assert_int_equal(uvfio_client_open("vfio-user:/nonexistent/dir/x.sock", NULL, &c), -ENOENT);
	assert_null(c);
	assert_int_equal(uvfio_client_open("nothing-we-know", NULL, &c), -EPROTONOSUPPORT);
	assert_int_equal(uvfio_client_open("", NULL, &c), -EINVAL);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_posted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irq_eventfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_doorbell, setup, teardown),
		cmocka_unit_test_setup_teardown(test_doorbell_reconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_feature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_process_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_killed_mid_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_stalled, setup, teardown),
		cmocka_unit_test(test_bad_locations),
		cmocka_unit_test(test_version_never_answered),
		cmocka_unit_test(test_requests_outside_windows),
		cmocka_unit_test(test_doorbell_libvfio_user_layout),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s SERVER_BINARY [UVFIO_BINARY]\n", argv[0]);
		return 2;
	}
	server_bin = argv[1];
	if (argc > 2)
		uvfio_bin = argv[2];
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name(uvfio_bin ? "client through uvfio trace"
							: "client over vfio-user",
					   tests, NULL, NULL);
}
