/* SPDX-License-Identifier: MIT */
/*
 * Live migration between two `uvfio serve` processes, driven by
 * uvfio_migrate() over real sockets while a thread keeps writing the
 * source's registers (until the source stops, as a VMM pauses its vCPUs);
 * the destination then answers with the state last written. Also: an edu
 * stream into a gpio card fails cleanly and the source runs on; dirty page
 * bitmaps of the DMA logging features, page-exact, over fd-backed and
 * message-based windows.
 *
 * argv[1]: the uvfio binary, argv[2]: testdev_server.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <uvfio/client.h>
#include <uvfio/mdev.h>
#include <uvfio/migrate.h>

#include "devices/testdev.h"

static const char *uvfio_bin, *testdev_bin;

struct srv {
	pid_t pid;
	char sock[100]; /* fits sun_path */
	char loc[160];
};

struct fx {
	char dir[64];
	int n;
	pid_t servers[8]; /* killed at teardown if a failed test left them */
	int nservers;
};

static void track(struct fx *f, pid_t pid)
{
	assert_true(f->nservers < 8);
	f->servers[f->nservers++] = pid;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/uvfio-mig-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	int st;

	/* a test that failed half-way must not leave servers running */
	for (int i = 0; i < f->nservers; i++)
		if (f->servers[i] > 0 && waitpid(f->servers[i], &st, WNOHANG) == 0) {
			kill(f->servers[i], SIGKILL);
			waitpid(f->servers[i], &st, 0);
		}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void start_args(struct fx *f, struct srv *s, const char *bin, const char *dev,
		       const char *x1, const char *x2);

/* Start `bin args...` serving on a fresh socket; wait until it listens. */
static void start(struct fx *f, struct srv *s, const char *bin, const char *dev)
{
	start_args(f, s, bin, dev, NULL, NULL);
}

/* The same, with two more arguments for the device (x1 NULL: none). */
static void start_args(struct fx *f, struct srv *s, const char *bin, const char *dev,
		       const char *x1, const char *x2)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char log[160];

	snprintf(s->sock, sizeof(s->sock), "%s/%d.sock", f->dir, ++f->n);
	snprintf(s->loc, sizeof(s->loc), "vfio-user:%s", s->sock);
	snprintf(log, sizeof(log), "%s/%d.log", f->dir, f->n);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (!s->pid) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		if (dev && x1)
			execl(bin, bin, "serve", dev, "--socket", s->sock, x1, x2, (char *)NULL);
		else if (dev)
			execl(bin, bin, "serve", dev, "--socket", s->sock, (char *)NULL);
		else
			execl(bin, bin, s->sock, (char *)NULL);
		_exit(127);
	}
	track(f, s->pid);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->sock);
	for (int t = 0; t < 500; t++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			close(fd);
			/* let the server see that probe go before a client comes */
			sleep_ms(20);
			return;
		}
		close(fd);
		sleep_ms(10);
	}
	fail_msg("%s never listened", s->sock);
}

static void stop(struct srv *s)
{
	int st;

	kill(s->pid, SIGTERM);
	assert_int_equal(waitpid(s->pid, &st, 0), s->pid);
}

static struct uvfio_client *connect_to(struct srv *s)
{
	struct uvfio_client *c = NULL;
	int ret = -1;

	/* the server takes one client at a time: retry while the probe goes */
	for (int t = 0; t < 100 && ret; t++) {
		ret = uvfio_client_open(s->loc, NULL, &c);
		if (ret)
			sleep_ms(10);
	}
	assert_int_equal(ret, 0);
	return c;
}

static uint64_t rd(struct uvfio_client *c, uint32_t index, uint64_t off, size_t size)
{
	uint64_t v = 0;

	assert_int_equal(uvfio_client_read(c, index, off, &v, size), (ssize_t)size);
	return v;
}

static void wr(struct uvfio_client *c, uint32_t index, uint64_t off, size_t size, uint64_t v)
{
	assert_int_equal(uvfio_client_write(c, index, off, &v, size), (ssize_t)size);
}

/* ---- a writer that keeps going until the source is about to stop ------------- */

struct writer {
	struct uvfio_client *c;
	/* writes value i to (index, off(i)); remembers the last i written */
	uint32_t index;
	uint64_t (*off)(uint64_t i);
	size_t size;
	uint64_t mask;
	volatile int stop;
	uint64_t count;
	pthread_t th;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		uint64_t v = (w->count + 1) & w->mask;

		if (uvfio_client_write(w->c, w->index, w->off(w->count + 1), &v, w->size) !=
		    (ssize_t)w->size)
			break;
		w->count++;
	}
	return NULL;
}

/* Until the writer has done n writes; a writer that stopped fails the test. */
static void wait_writes(struct writer *w, uint64_t n)
{
	for (int t = 0; __atomic_load_n(&w->count, __ATOMIC_RELAXED) < n; t++) {
		if (t > 20000)
			fail_msg("the writer did %llu of %llu writes in 20 s",
				 (unsigned long long)w->count, (unsigned long long)n);
		sleep_ms(1);
	}
}

static void before_stop(void *opaque)
{
	struct writer *w = opaque;

	__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
	pthread_join(w->th, NULL);
}

static int migrate_while_writing(struct uvfio_client *a, struct uvfio_client *b,
				 struct writer *w, char *why, size_t why_len)
{
	struct uvfio_migrate_opts o = { .before_stop = before_stop, .opaque = w,
					.why = why, .why_len = why_len };
	struct uvfio_migrate_stats st;

	w->c = a;
	assert_int_equal(pthread_create(&w->th, NULL, writer_main, w), 0);
	/* let it write a while before the migration starts, and during */
	wait_writes(w, 200);
	return uvfio_migrate(a, b, &o, &st);
}

/* ---- edu ------------------------------------------------------------------------ */

/* edu: the 4 KiB buffer at BAR0 0x40000, one u64 per write, wrapping */
static uint64_t edu_off(uint64_t i)
{
	return 0x40000 + (i % 512) * 8;
}

static void test_edu_live(void **state)
{
	struct fx *f = *state;
	struct srv sa, sb;
	struct uvfio_client *a, *b;
	struct writer w = { .index = 0, .off = edu_off, .size = 8, .mask = ~0ull };
	char why[256] = "";
	uint64_t last;

	start(f, &sa, uvfio_bin, "edu");
	start(f, &sb, uvfio_bin, "edu");
	a = connect_to(&sa);
	b = connect_to(&sb);
	wr(a, 0, 0x04, 4, 0x600df00d);	/* liveness */
	wr(a, 0, 0x08, 4, 12);		/* factorial */
	wr(a, 0, 0x60, 4, 0x40);	/* a pending interrupt */
	assert_int_equal(migrate_while_writing(a, b, &w, why, sizeof(why)), 0);

	last = w.count;
	assert_true(last >= 200);
	assert_int_equal(rd(b, 0, 0x04, 4), (uint32_t)~0x600df00du);
	assert_int_equal(rd(b, 0, 0x08, 4), 479001600);
	assert_int_equal(rd(b, 0, 0x24, 4), 0x40);
	/* every buffer slot holds the last value written to it */
	for (uint64_t slot = 0; slot < 512 && slot <= last; slot++) {
		uint64_t i = last - (last - slot) % 512; /* the last i in this slot */

		if (i)
			assert_int_equal(rd(b, 0, edu_off(i), 8), i);
	}
	/* the destination runs: the next write is seen */
	wr(b, 0, 0x04, 4, 1);
	assert_int_equal(rd(b, 0, 0x04, 4), 0xfffffffe);
	uvfio_client_close(a);
	uvfio_client_close(b);
	stop(&sa);
	stop(&sb);
}

/* ---- gpio ------------------------------------------------------------------------ */

static uint64_t gpio_off(uint64_t i)
{
	return (i & 1) ? 4 : 0; /* outputs 0-7, then 8-15 */
}

/* One request on the gpio card's control socket; returns the reply line. */
static void gpio_ctl(const char *path, const char *req, char *reply, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t got = 0;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (got < len - 1) {
		ssize_t n = read(fd, reply + got, len - 1 - got);

		assert_true(n > 0);
		got += (size_t)n;
		if (reply[got - 1] == '\n')
			break;
	}
	reply[got] = '\0';
	close(fd);
}

static void test_gpio_live(void **state)
{
	struct fx *f = *state;
	struct srv sa, sb;
	struct uvfio_client *a, *b;
	struct writer w = { .index = 2, .off = gpio_off, .size = 1, .mask = 0xff };
	char why[256] = "", ctl[100], reply[64];
	uint64_t last, odd, even;

	snprintf(ctl, sizeof(ctl), "%s/gpio.ctl", f->dir);
	start_args(f, &sa, uvfio_bin, "gpio", "--control", ctl);
	start(f, &sb, uvfio_bin, "gpio");
	a = connect_to(&sa);
	b = connect_to(&sb);
	(void)rd(a, 2, 2, 1); /* enable IRQ */
	/* the host changes inputs 0 and 8: the card latches an interrupt */
	gpio_ctl(ctl, "inputs 0x0101\n", reply, sizeof(reply));
	assert_string_equal(reply, "ok\n");
	assert_int_equal(rd(a, 2, 6, 1), 0x07);
	assert_true(rd(a, 7, 6, 2) & 0x08); /* STATUS.INTERRUPT: INTx up */
	assert_int_equal(migrate_while_writing(a, b, &w, why, sizeof(why)), 0);
	last = w.count;
	odd = (last & 1) ? last : last - 1;
	even = (last & 1) ? last - 1 : last;
	assert_int_equal(rd(b, 2, 4, 1), odd & 0xff);
	assert_int_equal(rd(b, 2, 0, 1), even & 0xff);
	assert_int_equal(rd(b, 2, 1, 1), 0x01); /* inputs */
	assert_int_equal(rd(b, 2, 5, 1), 0x01);
	assert_int_equal(rd(b, 2, 6, 1), 0x07); /* the latched interrupt */
	assert_true(rd(b, 7, 6, 2) & 0x08);	/* and the line */
	wr(b, 2, 1, 1, 0);			/* cleared on the destination */
	assert_int_equal(rd(b, 2, 6, 1), 0);
	assert_false(rd(b, 7, 6, 2) & 0x08);
	uvfio_client_close(a);
	uvfio_client_close(b);
	stop(&sa);
	stop(&sb);
}

/* ---- incompatible destination ------------------------------------------------- */

static void test_edu_into_gpio(void **state)
{
	struct fx *f = *state;
	struct srv sa, sb;
	struct uvfio_client *a, *b;
	struct writer w = { .index = 0, .off = edu_off, .size = 8, .mask = ~0ull };
	char why[256] = "";
	uint32_t s = 0;

	start(f, &sa, uvfio_bin, "edu");
	start(f, &sb, uvfio_bin, "gpio");
	a = connect_to(&sa);
	b = connect_to(&sb);
	wr(b, 2, 0, 1, 0x77);
	assert_int_equal(migrate_while_writing(a, b, &w, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "destination refused"));
	/* the source runs on, with its state */
	assert_int_equal(uvfio_client_mig_get_state(a, &s), 0);
	assert_int_equal(s, 2 /* RUNNING */);
	assert_int_equal(rd(a, 0, edu_off(w.count), 8), w.count);
	wr(a, 0, 0x04, 4, 5);
	assert_int_equal(rd(a, 0, 0x04, 4), 0xfffffffa);
	/* the destination was reset: RUNNING, power-on outputs */
	assert_int_equal(uvfio_client_mig_get_state(b, &s), 0);
	assert_int_equal(s, 2);
	wr(b, 7, 0x04, 2, 0x1); /* reset turned decoding off: on again */
	assert_int_equal(rd(b, 2, 0, 1), 0);
	uvfio_client_close(a);
	uvfio_client_close(b);
	stop(&sa);
	stop(&sb);
}

/* ---- dirty page logging over the wire ------------------------------------------ */

#define PG 4096u
#define FD_IOVA 0x100000ull
#define FD_PAGES 16u
#define MSG_IOVA (FD_IOVA + FD_PAGES * PG) /* right after: one report spans both */
#define MSG_PAGES 4u

static int log_start(struct uvfio_client *c, uint32_t n, const uint64_t *ranges)
{
	uint8_t buf[8 + 16 + 16 * 4] = { 0 };
	uint32_t argsz = 8 + 16 + 16 * n;
	uint32_t flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
	uint64_t pg = PG;

	memcpy(buf, &argsz, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &pg, 8);
	memcpy(buf + 16, &n, 4);
	if (n)
		memcpy(buf + 24, ranges, 16 * n);
	return uvfio_client_feature(c, buf);
}

static int log_report(struct uvfio_client *c, uint64_t iova, uint64_t len, uint64_t *bm)
{
	uint8_t buf[8 + 24 + 8] = { 0 };
	uint32_t argsz = sizeof(buf);
	uint32_t flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT;
	uint64_t pg = PG;
	int ret;

	memcpy(buf, &argsz, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &iova, 8);
	memcpy(buf + 16, &len, 8);
	memcpy(buf + 24, &pg, 8);
	ret = uvfio_client_feature(c, buf);
	memcpy(bm, buf + 32, 8);
	return ret;
}

static void td_fill(struct uvfio_client *c, uint64_t iova, uint64_t len, uint8_t byte)
{
	wr(c, 0, TESTDEV_REG_DMA_SRC, 8, byte);
	wr(c, 0, TESTDEV_REG_DMA_DST, 8, iova);
	wr(c, 0, TESTDEV_REG_DMA_LEN, 8, len);
	wr(c, 0, TESTDEV_REG_DMA_CMD, 8, TESTDEV_DMA_FILL);
	assert_int_equal(rd(c, 0, TESTDEV_REG_DMA_STATUS, 8), 0);
}

static void test_dirty_pages_exact(void **state)
{
	struct fx *f = *state;
	struct srv s;
	struct uvfio_client *c;
	uint8_t *msgmem = aligned_alloc(PG, MSG_PAGES * PG);
	struct uvfio_dma_map_args m = { .iova = FD_IOVA, .size = FD_PAGES * PG,
					.prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE };
	uint64_t ranges[4] = { FD_IOVA + 8 * PG, 4 * PG, MSG_IOVA, 2 * PG };
	uint64_t bm, want;
	uint8_t *mem;
	int fd;

	start(f, &s, testdev_bin, NULL);
	c = connect_to(&s);
	fd = memfd_create("ram", MFD_CLOEXEC);
	assert_int_equal(ftruncate(fd, FD_PAGES * PG), 0);
	mem = mmap(NULL, FD_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(mem != MAP_FAILED);
	m.fd = fd;
	assert_int_equal(uvfio_client_dma_map(c, &m), 0);
	m = (struct uvfio_dma_map_args){ .iova = MSG_IOVA, .size = MSG_PAGES * PG, .fd = -1,
					 .vaddr = msgmem,
					 .prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE };
	memset(msgmem, 0, MSG_PAGES * PG);
	assert_int_equal(uvfio_client_dma_map(c, &m), 0);

	/* all windows (num_ranges 0) */
	assert_int_equal(log_start(c, 0, NULL), 0);
	assert_int_equal(log_start(c, 0, NULL), -EBUSY);
	td_fill(c, FD_IOVA + 3 * PG + 100, 10, 0x11);	  /* page 3 */
	td_fill(c, FD_IOVA + 7 * PG + 2048, PG, 0x22);	  /* pages 7, 8 */
	td_fill(c, FD_IOVA + 15 * PG + 4000, 200, 0x33); /* page 15 and message page 0 */
	td_fill(c, MSG_IOVA + 2 * PG, 1, 0x44);		  /* message page 2 */
	assert_int_equal(mem[3 * PG + 100], 0x11);
	assert_int_equal(msgmem[2 * PG], 0x44);
	want = (1ull << 3) | (1ull << 7) | (1ull << 8) | (1ull << 15) | (1ull << 16) |
	       (1ull << 18);
	assert_int_equal(log_report(c, FD_IOVA, (FD_PAGES + MSG_PAGES) * PG, &bm), 0);
	assert_int_equal(bm, want);
	assert_int_equal(log_report(c, FD_IOVA, (FD_PAGES + MSG_PAGES) * PG, &bm), 0);
	assert_int_equal(bm, 0); /* read clears */
	{
		struct vfio_device_feature h = { .argsz = 8,
			.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP };

		assert_int_equal(uvfio_client_feature(c, &h), 0);
	}
	/* ranges only: fd pages 8..11 and message pages 0..1 (the client helpers) */
	{
		struct uvfio_dma_range r[2] = { { ranges[0], ranges[1] }, { ranges[2], ranges[3] } };
		uint64_t pg = 512; /* the device logs at 4 KiB at least, and says so */

		assert_int_equal(uvfio_client_dma_log_start(c, &pg, r, 2), 0);
		assert_int_equal(pg, PG);
		td_fill(c, FD_IOVA, FD_PAGES * PG, 0x55);
		td_fill(c, MSG_IOVA, MSG_PAGES * PG, 0x66);
		bm = 0;
		assert_int_equal(uvfio_client_dma_log_report(c, FD_IOVA, (FD_PAGES + MSG_PAGES) * PG,
							     PG, &bm, sizeof(bm)), 0);
		assert_int_equal(bm, (0xfull << 8) | (0x3ull << 16));
		assert_int_equal(uvfio_client_dma_log_stop(c), 0);
		assert_int_equal(uvfio_client_dma_log_report(c, FD_IOVA, PG, PG, &bm, sizeof(bm)),
				 -EINVAL);
	}

	uvfio_client_close(c);
	munmap(mem, FD_PAGES * PG);
	close(fd);
	free(msgmem);
	stop(&s);
}


/* ---- testdev with a state region: pre-copy rounds while the state is written -- */

#define TD_MIB 8u

static uint64_t td_off(uint64_t i)
{
	return (i * 7919 % (TD_MIB * 256)) * 4096 + (i % 8) * 8; /* scattered pages */
}

static void test_testdev_precopy_live(void **state)
{
	struct fx *f = *state;
	struct srv sa, sb;
	struct uvfio_client *a, *b;
	struct writer w = { .index = TESTDEV_STATE_REGION, .off = td_off, .size = 8,
			    .mask = ~0ull };
	struct uvfio_migrate_opts o = { .before_stop = before_stop, .opaque = &w,
					.converge_bytes = 64 * 1024, .max_iterations = 3 };
	struct uvfio_migrate_stats st = { 0 };
	static uint8_t ba[1 << 20], bb[1 << 20];
	char arg[32];
	pid_t pids[2];

	/* `uvfio serve testdev --state-mib 8`, twice */
	snprintf(arg, sizeof(arg), "%u", TD_MIB);
	for (int k = 0; k < 2; k++) {
		struct srv *s = k ? &sb : &sa;
		struct sockaddr_un un = { .sun_family = AF_UNIX };

		snprintf(s->sock, sizeof(s->sock), "%s/%d.sock", f->dir, ++f->n);
		snprintf(s->loc, sizeof(s->loc), "vfio-user:%s", s->sock);
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (!pids[k]) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd >= 0)
				dup2(fd, 2);
			execl(uvfio_bin, uvfio_bin, "serve", "testdev", "--socket", s->sock,
			      "--state-mib", arg, (char *)NULL);
			_exit(127);
		}
		s->pid = pids[k];
		track(f, s->pid);
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", s->sock);
		for (int t = 0; t < 500; t++) {
			int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			int ok = !connect(fd, (struct sockaddr *)&un, sizeof(un));

			close(fd);
			if (ok)
				break;
			sleep_ms(10);
		}
	}
	sleep_ms(20);
	a = connect_to(&sa);
	b = connect_to(&sb);
	wr(a, 0, TESTDEV_REG_SCRATCH, 8, 0xabcdef);

	w.c = a;
	assert_int_equal(pthread_create(&w.th, NULL, writer_main, &w), 0);
	wait_writes(&w, 100);
	assert_int_equal(uvfio_migrate(a, b, &o, &st), 0);
	assert_true(st.iterations >= 1 && st.iterations <= 3);
	assert_true(st.precopy_bytes >= (uint64_t)TD_MIB << 20);
	assert_true(st.bytes > st.precopy_bytes); /* the stop-copy part came too */

	/* the destination's state is the source's, page for page */
	for (uint64_t off = 0; off < ((uint64_t)TD_MIB << 20); off += sizeof(ba)) {
		for (uint64_t k = 0; k < sizeof(ba); k += 1 << 16) {
			assert_int_equal(uvfio_client_read(a, TESTDEV_STATE_REGION, off + k, ba + k,
							   1 << 16), 1 << 16);
			assert_int_equal(uvfio_client_read(b, TESTDEV_STATE_REGION, off + k, bb + k,
							   1 << 16), 1 << 16);
		}
		assert_memory_equal(ba, bb, sizeof(ba));
	}
	/* and holds the last value written */
	assert_int_equal(rd(b, TESTDEV_STATE_REGION, td_off(w.count), 8), w.count);
	assert_int_equal(rd(b, 0, TESTDEV_REG_SCRATCH, 8), 0xabcdef);
	uvfio_client_close(a);
	uvfio_client_close(b);
	stop(&sa);
	stop(&sb);
}


/* ---- mtty: two instances of one `uvfio serve mdev mtty` process ---------------- */

static uint64_t mtty_off(uint64_t i)
{
	return 7; /* the scratch register of port 0 */
}

static void test_mtty_live(void **state)
{
	struct fx *f = *state;
	struct srv sa = { 0 }, sb = { 0 };
	struct uvfio_client *a, *b;
	struct writer w = { .index = 0, .off = mtty_off, .size = 1, .mask = 0xff };
	char ctl[128], out[1024], uuid[64], why[256] = "";
	uint8_t v;
	pid_t pid;
	int st;

	snprintf(ctl, sizeof(ctl), "%s/control", f->dir);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0 && (dup2(fd, 1) < 0 || dup2(fd, 2) < 0))
			_exit(127);
		execl(uvfio_bin, uvfio_bin, "serve", "mdev", "mtty", "--dir", f->dir, "--control",
		      ctl, (char *)NULL);
		_exit(127);
	}
	track(f, pid);
	for (int t = 0; t < 500 && access(ctl, F_OK); t++)
		sleep_ms(10);
	for (int k = 0; k < 2; k++) {
		struct srv *s = k ? &sb : &sa;

		assert_int_equal(uvfio_mdev_control_request(ctl, "create mtty-2", out, sizeof(out)), 0);
		assert_int_equal(sscanf(out, "%63s %*s %99s", uuid, s->sock), 2);
		snprintf(s->loc, sizeof(s->loc), "vfio-user:%s", s->sock);
	}
	a = connect_to(&sa);
	b = connect_to(&sb);
	wr(a, 7, 0x04, 2, 0x1);			/* I/O decode (the client's guest does it) */
	wr(b, 7, 0x04, 2, 0x1);
	wr(a, 0, 3, 1, 0x1b);			/* port 0 LCR: 8E2 */
	wr(a, 1, 3, 1, 0x80);			/* port 1 DLAB, divisor 0x30 */
	wr(a, 1, 0, 1, 0x30);
	wr(a, 1, 3, 1, 0x03);
	wr(a, 0, 4, 1, 0x10);			/* port 0 loopback, then a byte in the FIFO */
	wr(a, 0, 0, 1, 'z');
	assert_int_equal(migrate_while_writing(a, b, &w, why, sizeof(why)), 0);
	v = (uint8_t)rd(b, 0, 7, 1);
	assert_int_equal(v, w.count & 0xff);
	assert_int_equal(rd(b, 0, 3, 1), 0x1b);
	assert_true(rd(b, 0, 5, 1) & 0x01);	/* LSR.DR: the byte came along */
	assert_int_equal(rd(b, 0, 0, 1), 'z');
	wr(b, 1, 3, 1, 0x83);
	assert_int_equal(rd(b, 1, 0, 1), 0x30);
	uvfio_client_close(a);
	uvfio_client_close(b);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &st, 0), pid);
}


/* ---- the command ---------------------------------------------------------------- */

/* Run `uvfio migrate --from A --to B --json`; returns the exit code, output in out. */
static int run_migrate_cli(struct fx *f, struct srv *a, struct srv *b, char *out, size_t len)
{
	char path[128];
	FILE *fp;
	size_t n;
	pid_t pid;
	int st;

	snprintf(path, sizeof(path), "%s/migrate.out", f->dir);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execl(uvfio_bin, uvfio_bin, "migrate", "--from", a->sock, "--to", b->sock,
		      "--json", "--max-iterations", "3", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(out, 1, len - 1, fp);
	out[n] = '\0';
	fclose(fp);
	return WEXITSTATUS(st);
}

static void test_cli(void **state)
{
	struct fx *f = *state;
	struct srv sa, sb, sg;
	struct uvfio_client *c;
	char out[2048];

	start(f, &sa, uvfio_bin, "testdev");
	start(f, &sb, uvfio_bin, "testdev");
	start(f, &sg, uvfio_bin, "gpio");
	c = connect_to(&sa);
	wr(c, 0, TESTDEV_REG_SCRATCH, 8, 0x5151);
	uvfio_client_close(c);
	sleep_ms(20); /* the server sees the close before the next client */

	assert_int_equal(run_migrate_cli(f, &sa, &sb, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "\"bytes\": "));
	assert_non_null(strstr(out, "\"downtime_ms\": "));
	assert_non_null(strstr(out, "\"iterations\": "));
	assert_non_null(strstr(out, "\"mibps\": "));
	/* testdev keeps its state across clients: the destination has it */
	c = connect_to(&sb);
	assert_int_equal(rd(c, 0, TESTDEV_REG_SCRATCH, 8), 0x5151);
	uvfio_client_close(c);
	sleep_ms(20);

	/* into a gpio card: exit 1, and why */
	assert_int_equal(run_migrate_cli(f, &sb, &sg, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "destination refused"));
	assert_non_null(strstr(out, "source left running"));
	stop(&sa);
	stop(&sb);
	stop(&sg);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_edu_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edu_into_gpio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty_pages_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_testdev_precopy_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mtty_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
	};

	if (argc < 3) {
		fprintf(stderr, "usage: %s UVFIO_BIN TESTDEV_SERVER\n", argv[0]);
		return 2;
	}
	uvfio_bin = argv[1];
	testdev_bin = argv[2];
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
