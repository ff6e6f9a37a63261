/* SPDX-License-Identifier: MIT */
/*
 * Cross-process: hostile clients against a real testdev server process,
 * over raw sockets. After each attack the same server serves a well-behaved
 * client correctly and its /proc/PID/fd count is back to its idle baseline:
 *   - a header sent, then nothing: dropped after msg_timeout_ms; the next
 *     client is served
 *   - DMA_MAP flood (fd-backed windows) to the limit: ENOSPC, then works
 *     again after unmaps; the server keeps no window fd (the mapping
 *     holds the file), a refused window's fd is closed too
 *   - 250 fds with one message: refused (EINVAL), all closed
 *   - a memfd window truncated under the server, then device DMA into and
 *     out of it: the DMA fails with EFAULT, the server does not die of SIGBUS
 *   - DMA_UNMAP of the window a DMA is in progress on: processed only after
 *     the DMA (which completes, or fails cleanly when never answered)
 *   - MIG_DATA_WRITE garbage: an error, the device still works and migrates
 *   - disconnect at every step of a migration: the next client finds the
 *     device RUNNING and can migrate it
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <linux/vfio.h>
#include <cmocka.h>

#include "core/vfio_compat.h"
#include "devices/testdev.h"
#include "tests/proc/vu_raw.h"
#include "tests/proc/vu_xact.h"

#define MAX_MAPS 8
#define MSG_TIMEOUT_MS 300

static struct raw_server srv;
static int base_fds; /* the server's fds with no client */

static int setup(void **state)
{
	raw_server_start(&srv, "8", "300");
	base_fds = raw_fd_count(srv.pid);
	return 0;
}

static int teardown(void **state)
{
	return raw_server_stop(&srv);
}

static void alive(void)
{
	int st;

	assert_int_equal(waitpid(srv.pid, &st, WNOHANG), 0);
}

static uint64_t reg_read(int fd, uint64_t off)
{
	uint64_t v;

	assert_int_equal(region_read(fd, 0, off, 8), 0);
	memcpy(&v, rm.p + 16, 8);
	return v;
}

/* A well-behaved client: register round trip, DMA between two fd windows. */
static void well_behaved(void)
{
	int fd = raw_connect_versioned(&srv, base_fds), mfd = memfd_create("good", MFD_CLOEXEC);
	uint64_t v = 0x5eed;
	uint8_t *ram;

	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, 0x2000), 0);
	ram = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	assert_true(ram != MAP_FAILED);
	memset(ram, 0x3c, 0x1000);
	assert_int_equal(get_info_ok(fd), 0);
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_SCRATCH, &v, 8, 0), 0);
	assert_int_equal(reg_read(fd, TESTDEV_REG_SCRATCH), v);
	assert_int_equal(dma_map(fd, 0x100000, 0x2000, 0, mfd), 0);
	assert_int_equal(dma_copy(fd, 0x100000, 0x101000, 256, NULL), 0);
	assert_int_equal(reg_read(fd, TESTDEV_REG_DMA_STATUS), 0);
	assert_int_equal(ram[0x1000], 0x3c);
	assert_int_equal(ram[0x10ff], 0x3c);
	munmap(ram, 0x2000);
	close(mfd);
	close(fd);
	raw_wait_idle(&srv, base_fds);
	alive();
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A header, then nothing: the server drops the message after
 * msg_timeout_ms and then serves a second, well-behaved client. */
static void test_header_stall(void **state)
{
	int fd = raw_connect_versioned(&srv, base_fds), fd2;
	struct vfio_user_header h = { .msg_id = 7, .cmd = VFIO_USER_REGION_WRITE,
				      .msg_size = 100 };
	struct timespec t0;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	raw_send(fd, &h, sizeof(h), NULL, 0);
	fd2 = raw_connect(&srv); /* waits in the backlog meanwhile */
	assert_true(raw_closed(fd, 5000));
	ms = ms_since(&t0);
	assert_true(ms >= MSG_TIMEOUT_MS - 50 && ms < 3000);
	close(fd);
	/* fd2 connected while the first was still there: it is refused (EBUSY)
	 * or, if the drop came first, served. Either way never a hang. */
	close(fd2);
	well_behaved();
}

/* DMA_MAP with an fd each, up to max_dma_maps: ENOSPC, then unmaps free slots. */
static void test_dma_map_flood(void **state)
{
	int fd = raw_connect_versioned(&srv, base_fds), i, mfd;

	for (i = 0; i <= MAX_MAPS; i++) {
		mfd = memfd_create("flood", MFD_CLOEXEC);
		assert_true(mfd >= 0);
		assert_int_equal(ftruncate(mfd, 0x1000), 0);
		assert_int_equal(dma_map(fd, 0x1000000 + 0x10000 * (uint64_t)i, 0x1000, 0, mfd),
				 i < MAX_MAPS ? 0 : ENOSPC);
		close(mfd);
	}
	/* no window holds its fd (the mapping holds the file); the refused
	 * window's fd was closed too: only the connection's is left */
	assert_int_equal(raw_settled_fds(&srv, base_fds + 1), base_fds + 1);
	assert_int_equal(dma_unmap(fd, 0x1000000, 0x1000, 0), 0);
	assert_int_equal(dma_unmap(fd, 0x1010000, 0x1000, 0), 0);
	assert_int_equal(dma_map(fd, 0x9000000, 0x1000, 0, -1), 0);
	assert_int_equal(dma_map(fd, 0x9010000, 0x1000, 0, -1), 0);
	assert_int_equal(dma_map(fd, 0x9020000, 0x1000, 0, -1), ENOSPC);
	assert_int_equal(get_info_ok(fd), 0);
	close(fd);
	well_behaved();
}

/* 250 fds with one GET_INFO: refused, every fd closed, connection usable. */
static void test_250_fds(void **state)
{
	int fd = raw_connect_versioned(&srv, base_fds), fds[250];
	static const uint32_t gi[4] = { 16, 0, 0, 0 };

	for (int i = 0; i < 250; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC);
		assert_true(fds[i] >= 0);
	}
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_GET_INFO, gi, 16, fds, 250), EINVAL);
	for (int i = 0; i < 250; i++)
		close(fds[i]);
	assert_int_equal(raw_settled_fds(&srv, base_fds + 1), base_fds + 1);
	assert_int_equal(get_info_ok(fd), 0);
	close(fd);
	well_behaved();
}

/* The client truncates a mapped memfd: device DMA to and from the vanished
 * pages fails with EFAULT; the server survives; the rest still works. */
static void test_truncated_window(void **state)
{
	int fd = raw_connect_versioned(&srv, base_fds);
	int m1 = memfd_create("victim", MFD_CLOEXEC), m2 = memfd_create("other", MFD_CLOEXEC);

	assert_true(m1 >= 0 && m2 >= 0);
	assert_int_equal(ftruncate(m1, 0x2000), 0);
	assert_int_equal(ftruncate(m2, 0x2000), 0);
	/* a window longer than its file is refused at once */
	assert_int_equal(dma_map(fd, 0x100000, 0x4000, 0, m1), EFAULT);
	assert_int_equal(dma_map(fd, 0x100000, 0x2000, 0, m1), 0);
	assert_int_equal(dma_map(fd, 0x200000, 0x2000, 0, m2), 0);
	assert_int_equal(ftruncate(m1, 0x1000), 0); /* the second page is gone */

	assert_int_equal(dma_copy(fd, 0x101000, 0x200000, 64, NULL), 0);
	assert_int_equal(reg_read(fd, TESTDEV_REG_DMA_STATUS), EFAULT);
	assert_int_equal(dma_copy(fd, 0x200000, 0x101000, 64, NULL), 0);
	assert_int_equal(reg_read(fd, TESTDEV_REG_DMA_STATUS), EFAULT);
	alive();
	/* the page that is still there works */
	assert_int_equal(dma_copy(fd, 0x100000, 0x200000, 64, NULL), 0);
	assert_int_equal(reg_read(fd, TESTDEV_REG_DMA_STATUS), 0);
	/* grown back: the window works again (fresh zero page) */
	assert_int_equal(ftruncate(m1, 0x2000), 0);
	assert_int_equal(dma_copy(fd, 0x200000, 0x101000, 64, NULL), 0);
	assert_int_equal(reg_read(fd, TESTDEV_REG_DMA_STATUS), 0);
	assert_int_equal(get_info_ok(fd), 0);
	close(m1);
	close(m2);
	close(fd);
	well_behaved();
}

/* Start a copy inside a message-based window; returns the REGION_WRITE's id
 * once the server's DMA_READ has arrived (in rm). */
static uint16_t start_dma(int fd)
{
	uint64_t src = 0x400000, dst = 0x401000, len = 64, one = TESTDEV_DMA_COPY;
	uint8_t p[24];
	uint32_t region = 0, count = 8;
	uint64_t off = TESTDEV_REG_DMA_CMD;
	uint16_t id;

	assert_int_equal(dma_map(fd, 0x400000, 0x2000, 0, -1), 0);
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_DMA_SRC, &src, 8, 0), 0);
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_DMA_DST, &dst, 8, 0), 0);
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_DMA_LEN, &len, 8, 0), 0);
	memcpy(p, &off, 8);
	memcpy(p + 8, &region, 4);
	memcpy(p + 12, &count, 4);
	memcpy(p + 16, &one, 8);
	id = ++next_id;
	raw_cmd(fd, id, VFIO_USER_REGION_WRITE, 0, p, 24, NULL, 0);
	/* the copy reads its source first: that DMA_READ also tells the server
	 * our reply layout */
	assert_int_equal(raw_recv(fd, &rm, REPLY_TIMEOUT_MS), 0);
	assert_int_equal(rm.h.cmd, VFIO_USER_DMA_READ);
	assert_int_equal(rm.h.flags, 0);
	return id;
}

static void send_unmap(int fd, uint16_t id)
{
	struct vfio_user_dma_unmap u = { .argsz = sizeof(u), .addr = 0x400000, .size = 0x2000 };

	raw_cmd(fd, id, VFIO_USER_DMA_UNMAP, 0, &u, sizeof(u), NULL, 0);
}

/* DMA_UNMAP of the window while the device is mid-DMA on it: the unmap waits
 * (in order, behind the command that started the DMA); the DMA completes. */
static void test_unmap_mid_dma(void **state)
{
	int fd = raw_connect_versioned(&srv, base_fds);
	static uint8_t ram[0x2000];
	struct dma_served sv = { .ram = ram, .base = 0x400000, .size = 0x2000 };
	uint16_t wr_id, un_id;
	bool wr_done = false;

	memset(ram, 0x77, 0x1000);
	memset(ram + 0x1000, 0, 0x1000);
	wr_id = start_dma(fd);
	assert_int_equal(rm.h.cmd, VFIO_USER_DMA_READ);
	un_id = ++next_id;
	send_unmap(fd, un_id); /* before answering the DMA */
	serve_dma(fd, &sv, &rm);
	for (;;) {
		assert_int_equal(raw_recv(fd, &rm, REPLY_TIMEOUT_MS), 0);
		if (!(rm.h.flags & VFIO_USER_F_TYPE_REPLY)) {
			serve_dma(fd, &sv, &rm); /* the DMA_WRITE: still mapped */
			continue;
		}
		if (rm.h.msg_id == wr_id) {
			assert_int_equal(rm.h.flags, VFIO_USER_F_TYPE_REPLY);
			wr_done = true;
			continue;
		}
		assert_int_equal(rm.h.msg_id, un_id);
		assert_true(wr_done); /* the unmap came after the DMA */
		assert_int_equal(rm.h.flags, VFIO_USER_F_TYPE_REPLY);
		break;
	}
	assert_int_equal(sv.writes, 1);
	assert_int_equal(ram[0x1000], 0x77);
	assert_int_equal(ram[0x103f], 0x77);
	assert_int_equal(reg_read(fd, TESTDEV_REG_DMA_STATUS), 0);
	/* gone now: a DMA to it fails cleanly */
	assert_int_equal(dma_copy(fd, 0x400000, 0x401000, 64, NULL), 0);
	assert_int_equal(reg_read(fd, TESTDEV_REG_DMA_STATUS), EFAULT);
	close(fd);
	well_behaved();
}

/* The same, but the client never answers: the DMA fails (ETIMEDOUT) after
 * msg_timeout_ms, then the unmap is done. */
static void test_unmap_mid_dma_unanswered(void **state)
{
	int fd = raw_connect_versioned(&srv, base_fds);
	uint16_t wr_id, un_id;

	wr_id = start_dma(fd);
	un_id = ++next_id;
	send_unmap(fd, un_id);
	assert_int_equal(wait_reply(fd, wr_id, VFIO_USER_REGION_WRITE), 0);
	assert_int_equal(wait_reply(fd, un_id, VFIO_USER_DMA_UNMAP), 0);
	assert_int_equal(reg_read(fd, TESTDEV_REG_DMA_STATUS), ETIMEDOUT);
	assert_int_equal(get_info_ok(fd), 0);
	close(fd);
	well_behaved();
}

static int mig_get_state(int fd, uint32_t *state)
{
	uint8_t f[16] = { 0 };
	uint32_t argsz = 16, flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	int ret;

	memcpy(f, &argsz, 4);
	memcpy(f + 4, &flags, 4);
	ret = xact(fd, VFIO_USER_DEVICE_FEATURE, f, 16, NULL, 0);
	if (!ret)
		memcpy(state, rm.p + 8, 4);
	return ret;
}

/* A whole save of the device, then loading it back: migration works. */
static void migrates(int fd)
{
	static uint8_t stream[1 << 20];
	size_t total = 0;
	uint32_t n;

	assert_int_equal(mig_set_state(fd, VFIO_DEVICE_STATE_STOP_COPY), 0);
	for (;;) {
		assert_int_equal(mig_read(fd, 4096), 0);
		memcpy(&n, rm.p + 4, 4);
		if (!n)
			break;
		assert_true(total + n <= sizeof(stream));
		memcpy(stream + total, rm.p + 8, n);
		total += n;
	}
	assert_true(total > 0);
	assert_int_equal(mig_set_state(fd, VFIO_DEVICE_STATE_STOP), 0);
	assert_int_equal(mig_set_state(fd, VFIO_DEVICE_STATE_RESUMING), 0);
	for (size_t off = 0; off < total; off += 4096)
		assert_int_equal(mig_write(fd, stream + off,
					   (uint32_t)(total - off < 4096 ? total - off : 4096)), 0);
	assert_int_equal(mig_set_state(fd, VFIO_DEVICE_STATE_STOP), 0);
	assert_int_equal(mig_set_state(fd, VFIO_DEVICE_STATE_RUNNING), 0);
}

/* MIG_DATA_WRITE of garbage: an error (at the write or at the load), then
 * the device works: reset, registers, a full migration. */
static void test_mig_garbage(void **state)
{
	int fd = raw_connect_versioned(&srv, base_fds), werr, serr;
	uint8_t junk[512];
	uint32_t st = 0;
	uint64_t v = 42;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	assert_int_equal(mig_set_state(fd, VFIO_DEVICE_STATE_RESUMING), 0);
	werr = mig_write(fd, junk, sizeof(junk));
	serr = werr ? 0 : mig_set_state(fd, VFIO_DEVICE_STATE_STOP);
	assert_true(werr || serr);
	assert_int_equal(mig_get_state(fd, &st), 0);
	if (st != VFIO_DEVICE_STATE_RUNNING) {
		/* ERROR (or still RESUMING): a reset brings it back, as on the kernel */
		assert_int_equal(xact(fd, VFIO_USER_DEVICE_RESET, NULL, 0, NULL, 0), 0);
		assert_int_equal(mig_get_state(fd, &st), 0);
		assert_int_equal(st, VFIO_DEVICE_STATE_RUNNING);
	}
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_SCRATCH, &v, 8, 0), 0);
	assert_int_equal(reg_read(fd, TESTDEV_REG_SCRATCH), v);
	migrates(fd);
	close(fd);
	well_behaved();
}

/* Disconnect after each step of a save and of a load: the next client finds
 * the device RUNNING (the last close puts migration back, as the kernel's
 * drivers do) and can migrate it. */
static void test_mig_disconnect_every_step(void **state)
{
	enum { SAVE_STOPCOPY, SAVE_READ, SAVE_READ2, SAVE_STOP, LOAD_RESUMING, LOAD_WRITE,
	       LOAD_STOP, NSTEPS };
	static uint8_t chunk[4096];
	uint32_t chunk_len = 0;

	for (int k = 1; k <= NSTEPS; k++) {
		int fd = raw_connect_versioned(&srv, base_fds);
		uint32_t st = 99;

		for (int s = 0; s < k; s++) {
			switch (s) {
			case SAVE_STOPCOPY:
				assert_int_equal(mig_set_state(fd, VFIO_DEVICE_STATE_STOP_COPY), 0);
				break;
			case SAVE_READ:
			case SAVE_READ2:
				assert_int_equal(mig_read(fd, 1024), 0);
				if (s == SAVE_READ) {
					memcpy(&chunk_len, rm.p + 4, 4);
					memcpy(chunk, rm.p + 8, chunk_len);
				}
				break;
			case SAVE_STOP:
				assert_int_equal(mig_set_state(fd, VFIO_DEVICE_STATE_STOP), 0);
				break;
			case LOAD_RESUMING:
				assert_int_equal(mig_set_state(fd, VFIO_DEVICE_STATE_RESUMING), 0);
				break;
			case LOAD_WRITE:
				assert_int_equal(mig_write(fd, chunk, chunk_len), 0);
				break;
			case LOAD_STOP:
				/* a cut stream: refused */
				assert_int_not_equal(mig_set_state(fd, VFIO_DEVICE_STATE_STOP), 0);
				break;
			}
		}
		close(fd);
		raw_wait_idle(&srv, base_fds);
		alive();
		fd = raw_connect_versioned(&srv, base_fds);
		assert_int_equal(mig_get_state(fd, &st), 0);
		if (st != VFIO_DEVICE_STATE_RUNNING)
			fail_msg("after a disconnect at step %d the device is in state %u", k, st);
		migrates(fd);
		close(fd);
	}
	well_behaved();
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_stall),
		cmocka_unit_test(test_dma_map_flood),
		cmocka_unit_test(test_250_fds),
		cmocka_unit_test(test_truncated_window),
		cmocka_unit_test(test_unmap_mid_dma),
		cmocka_unit_test(test_unmap_mid_dma_unanswered),
		cmocka_unit_test(test_mig_garbage),
		cmocka_unit_test(test_mig_disconnect_every_step),
	};

	if (argc < 2)
		return 2;
	server_exe = argv[1];
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
