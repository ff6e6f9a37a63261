/* SPDX-License-Identifier: MIT */
/*
 * Cross-process: how the server takes messages off the stream. It reads the
 * socket in batches (one recvmsg brings several messages, or a part of one),
 * answers with one send, goes back to epoll without a read when the last one
 * emptied the socket, and receives the data of a DMA_READ reply straight
 * into the device's buffer. Each test shapes the bytes so that one of these
 * paths must cope with an awkward case:
 *   - several commands in one write; a command split byte by byte;
 *   - an fd that arrives in the same read as other messages, or with only
 *     the first byte of its message;
 *   - messages straddling the 8 KiB receive buffer, and a payload larger
 *     than it, all queued before the server reads (it is stopped meanwhile);
 *   - DMA_READ replies split into pieces, followed by a command in the same
 *     write, or with addr/count that don't match the request.
 *
 *   test_server_stream TESTDEV_SERVER
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "devices/testdev.h"
#include "tests/proc/vu_raw.h"
#include "tests/proc/vu_xact.h"

#define DATA TESTDEV_REG_DATA
#define MEM_REGION 1u

/* Build a whole message (header + payload) at buf; its length. */
static size_t put_msg(uint8_t *buf, uint16_t id, uint16_t cmd, uint32_t flags,
		      const void *p, size_t len)
{
	struct vfio_user_header h = { .msg_id = id, .cmd = cmd,
				      .msg_size = (uint32_t)(sizeof(h) + len), .flags = flags };

	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), p, len);
	return sizeof(h) + len;
}

/* REGION_WRITE of n bytes at off of region, into buf. */
static size_t put_write(uint8_t *buf, uint16_t id, uint32_t flags, uint32_t region,
			uint64_t off, const void *data, uint32_t n)
{
	static uint8_t p[16 + TESTDEV_MEM_SIZE];

	memcpy(p, &off, 8);
	memcpy(p + 8, &region, 4);
	memcpy(p + 12, &n, 4);
	memcpy(p + 16, data, n);
	return put_msg(buf, id, VFIO_USER_REGION_WRITE, flags, p, 16 + n);
}

static size_t put_read(uint8_t *buf, uint16_t id, uint32_t region, uint64_t off, uint32_t n)
{
	uint8_t p[16];

	memcpy(p, &off, 8);
	memcpy(p + 8, &region, 4);
	memcpy(p + 12, &n, 4);
	return put_msg(buf, id, VFIO_USER_REGION_READ, 0, p, 16);
}

static uint64_t rd64(int fd, uint64_t off)
{
	uint64_t v;

	assert_int_equal(region_read(fd, 0, off, 8), 0);
	assert_int_equal(rm.len, 16 + 8);
	memcpy(&v, rm.p + 16, 8);
	return v;
}

static void write_all(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = send(fd, (const uint8_t *)buf + done, len - done, MSG_NOSIGNAL);

		assert_true(n > 0);
		done += (size_t)n;
	}
}

static const char *server_bin;
/* The running server, killed by teardown if a test fails midway (its output
 * pipe would otherwise keep the test runner waiting). */
static struct raw_server live;
static bool live_on;

static void start(struct raw_server *s, int *fd)
{
	server_exe = server_bin;
	raw_server_start(s, NULL, NULL);
	live = *s;
	live_on = true;
	*fd = raw_connect(s);
	do_version(*fd);
}

static void stop(struct raw_server *s, int fd)
{
	close(fd);
	live_on = false;
	assert_int_equal(raw_server_stop(s), 0);
}

static int teardown(void **state)
{
	(void)state;
	if (live_on) {
		raw_server_kill(&live);
		live_on = false;
	}
	return 0;
}

/* Three commands in one write: each answered, in order. */
static void test_batched_commands(void **state)
{
	struct raw_server s;
	uint8_t buf[256];
	uint64_t a = 0x1111, b = 0x2222;
	size_t n = 0;
	int fd;

	(void)state;
	start(&s, &fd);
	n += put_write(buf + n, 100, VFIO_USER_F_NO_REPLY, 0, DATA, &a, 8);
	n += put_write(buf + n, 101, 0, 0, DATA + 8, &b, 8);
	n += put_read(buf + n, 102, 0, DATA, 16);
	write_all(fd, buf, n);
	assert_int_equal(wait_reply(fd, 101, VFIO_USER_REGION_WRITE), 0);
	assert_int_equal(wait_reply(fd, 102, VFIO_USER_REGION_READ), 0);
	assert_int_equal(rm.len, 16 + 16);
	assert_memory_equal(rm.p + 16, &a, 8);
	assert_memory_equal(rm.p + 24, &b, 8);
	stop(&s, fd);
}

/* A command that trickles in one byte per write, then one that doesn't. */
static void test_split_bytewise(void **state)
{
	struct raw_server s;
	uint8_t buf[64];
	uint64_t v = 0xabcdef0123456789ull;
	size_t n;
	int fd;

	(void)state;
	start(&s, &fd);
	n = put_write(buf, 200, 0, 0, DATA, &v, 8);
	for (size_t i = 0; i < n; i++) {
		write_all(fd, buf + i, 1);
		usleep(1000);
	}
	assert_int_equal(wait_reply(fd, 200, VFIO_USER_REGION_WRITE), 0);
	assert_int_equal(rd64(fd, DATA), v);
	stop(&s, fd);
}

/*
 * fds travel with the first byte of their message's header:
 *   - a DMA_MAP whose fd comes with its first byte and the rest byte by byte;
 *   - a DMA_MAP with fd queued behind another command (the server is
 *     stopped, so one read can bring both) and followed by a third.
 * Each window must be the one mapped with its fd: a DMA copy between
 * them goes through the memfds.
 */
static void test_fds_with_batched_and_split_messages(void **state)
{
	struct raw_server s;
	struct vfio_user_dma_map dm = { .argsz = sizeof(dm),
					.flags = VFIO_USER_F_DMA_REGION_READ |
						 VFIO_USER_F_DMA_REGION_WRITE,
					.size = 0x1000 };
	struct vfio_user_device_info di = { .argsz = 16 };
	uint8_t buf[256], *m1, *m2;
	uint64_t v = 7;
	int fd, f1, f2;
	size_t n;

	(void)state;
	start(&s, &fd);
	f1 = memfd_create("win1", MFD_CLOEXEC);
	f2 = memfd_create("win2", MFD_CLOEXEC);
	assert_int_equal(ftruncate(f1, 0x1000), 0);
	assert_int_equal(ftruncate(f2, 0x1000), 0);
	m1 = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED, f1, 0);
	m2 = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED, f2, 0);
	assert_true(m1 != MAP_FAILED && m2 != MAP_FAILED);
	for (int i = 0; i < 0x1000; i++)
		m1[i] = (uint8_t)(i * 3 + 1);

	/* fd with the first byte, the rest one byte per write */
	dm.addr = 0x100000;
	n = put_msg(buf, 300, VFIO_USER_DMA_MAP, 0, &dm, sizeof(dm));
	raw_send(fd, buf, 1, &f1, 1);
	for (size_t i = 1; i < n; i++) {
		usleep(500);
		write_all(fd, buf + i, 1);
	}
	assert_int_equal(wait_reply(fd, 300, VFIO_USER_DMA_MAP), 0);

	/* [posted write] [DMA_MAP + fd] [GET_INFO], all queued before a read */
	kill(s.pid, SIGSTOP);
	n = put_write(buf, 301, VFIO_USER_F_NO_REPLY, 0, DATA, &v, 8);
	write_all(fd, buf, n);
	dm.addr = 0x200000;
	n = put_msg(buf, 302, VFIO_USER_DMA_MAP, 0, &dm, sizeof(dm));
	raw_send(fd, buf, n, &f2, 1);
	n = put_msg(buf, 303, VFIO_USER_DEVICE_GET_INFO, 0, &di, sizeof(di));
	write_all(fd, buf, n);
	kill(s.pid, SIGCONT);
	assert_int_equal(wait_reply(fd, 302, VFIO_USER_DMA_MAP), 0);
	assert_int_equal(wait_reply(fd, 303, VFIO_USER_DEVICE_GET_INFO), 0);
	assert_int_equal(rd64(fd, DATA), v);

	/* 0x100000 (f1) -> 0x200000 (f2), no message DMA involved */
	assert_int_equal(dma_copy(fd, 0x100000, 0x200000, 0x1000, NULL), 0);
	assert_int_equal(rd64(fd, TESTDEV_REG_DMA_STATUS), 0);
	assert_memory_equal(m2, m1, 0x1000);

	munmap(m1, 0x1000);
	munmap(m2, 0x1000);
	close(f1);
	close(f2);
	stop(&s, fd);
}

/*
 * 400 posted writes (40 bytes each: messages cross the 8 KiB receive buffer's
 * end at every offset the stream happens to reach), a write larger than the
 * buffer, and reads of both, queued while the server is stopped.
 */
static void test_straddling_and_large(void **state)
{
	static uint8_t buf[400 * 40 + 2 * TESTDEV_MEM_SIZE + 256];
	static uint8_t mem[TESTDEV_MEM_SIZE];
	struct raw_server s;
	size_t n = 0;
	uint64_t v = 0;
	int fd;

	(void)state;
	start(&s, &fd);
	for (unsigned int i = 0; i < sizeof(mem); i++)
		mem[i] = (uint8_t)(i * 11 + 5);
	kill(s.pid, SIGSTOP);
	for (v = 1; v <= 400; v++)
		n += put_write(buf + n, (uint16_t)(400 + v), VFIO_USER_F_NO_REPLY, 0, DATA, &v, 8);
	n += put_write(buf + n, 900, 0, MEM_REGION, 0, mem, sizeof(mem));
	n += put_read(buf + n, 901, 0, DATA, 8);
	n += put_read(buf + n, 902, MEM_REGION, 0, sizeof(mem));
	assert_true(n <= sizeof(buf));
	/* The socket buffer takes only part of this: write it from a child
	 * while the server runs again. */
	pid_t w = fork();

	assert_true(w >= 0);
	if (w == 0) {
		write_all(fd, buf, n);
		_exit(0);
	}
	usleep(20000);
	kill(s.pid, SIGCONT);
	assert_int_equal(wait_reply(fd, 900, VFIO_USER_REGION_WRITE), 0);
	assert_int_equal(wait_reply(fd, 901, VFIO_USER_REGION_READ), 0);
	assert_memory_equal(rm.p + 16, &(uint64_t){ 400 }, 8);
	assert_int_equal(wait_reply(fd, 902, VFIO_USER_REGION_READ), 0);
	assert_int_equal(rm.len, 16 + sizeof(mem));
	assert_memory_equal(rm.p + 16, mem, sizeof(mem));
	assert_int_equal(waitpid(w, NULL, 0), w);
	stop(&s, fd);
}

/* ---- DMA_READ replies, received straight into the device's buffer ---------- */

enum reply_shape {
	WHOLE_WITH_NEXT, /* reply + a GET_INFO in one write */
	PIECES,		 /* header, 5 bytes, the rest of addr/count, data in 3 */
	WRONG_ADDR,	 /* addr off by one: the DMA fails, the stream goes on */
	WRONG_COUNT,	 /* count one less, the message as long as it says */
	NARROW_PIECES,	 /* QEMU's u32 layout, in pieces */
};

#define RAM_BASE 0x400000ull
#define COPY_LEN 0x3000u /* data over the receive buffer's 8 KiB */

static uint8_t ram[0x10000];

static void send_pieces(int fd, const uint8_t *p, size_t n, const size_t *cuts)
{
	size_t at = 0;

	for (; *cuts && *cuts < n; cuts++) {
		write_all(fd, p + at, *cuts - at);
		at = *cuts;
		usleep(2000);
	}
	write_all(fd, p + at, n - at);
}

/* Answer the DMA_READ req in the given shape; returns the id of a command
 * sent along with it (0: none). */
static uint16_t answer_read(int fd, const struct raw_msg *req, enum reply_shape shape)
{
	static uint8_t rep[32 + COPY_LEN + 64];
	struct vfio_user_header h = { .msg_id = req->h.msg_id, .cmd = req->h.cmd,
				      .flags = VFIO_USER_F_TYPE_REPLY };
	uint64_t addr, count;
	size_t fixed = shape == NARROW_PIECES ? 12 : 16, n;
	uint16_t id = 0;

	memcpy(&addr, req->p, 8);
	memcpy(&count, req->p + 8, 8);
	assert_int_equal(req->len, 16);
	assert_true(addr >= RAM_BASE && addr + count <= RAM_BASE + sizeof(ram));
	memcpy(rep + 16 + fixed, ram + (addr - RAM_BASE), count);
	if (shape == WRONG_ADDR)
		addr++;
	if (shape == WRONG_COUNT)
		count--;
	memcpy(rep + 16, &addr, 8);
	if (fixed == 12) {
		uint32_t c32 = (uint32_t)count;

		memcpy(rep + 24, &c32, 4);
	} else {
		memcpy(rep + 24, &count, 8);
	}
	h.msg_size = (uint32_t)(16 + fixed + count);
	memcpy(rep, &h, 16);
	n = h.msg_size;
	if (shape == WHOLE_WITH_NEXT) {
		struct vfio_user_device_info di = { .argsz = 16 };

		id = ++next_id;
		n += put_msg(rep + n, id, VFIO_USER_DEVICE_GET_INFO, 0, &di, sizeof(di));
		write_all(fd, rep, n);
	} else if (shape == PIECES || shape == NARROW_PIECES) {
		const size_t cuts[] = { 16, 21, 16 + fixed, 16 + fixed + 100,
					16 + fixed + 0x2001, 0 };

		send_pieces(fd, rep, n, cuts);
	} else {
		write_all(fd, rep, n);
	}
	return id;
}

/* testdev copies RAM_BASE -> RAM_BASE + 0x8000 by message DMA (from inside
 * the REGION_WRITE that starts it). Returns the engine's status. */
static uint64_t copy_with(int fd, enum reply_shape shape)
{
	struct dma_served sv = { .ram = ram, .base = RAM_BASE, .size = sizeof(ram),
				 .narrow = shape == NARROW_PIECES };
	uint64_t src = RAM_BASE, dst = RAM_BASE + 0x8000, len = COPY_LEN, cmd = TESTDEV_DMA_COPY;
	uint16_t id, extra = 0;
	bool done = false, extra_done = false;
	uint8_t p[24];
	uint32_t region = 0, count = 8;
	uint64_t off = TESTDEV_REG_DMA_CMD;

	memset(ram + 0x8000, 0, COPY_LEN);
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_DMA_SRC, &src, 8, 0), 0);
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_DMA_DST, &dst, 8, 0), 0);
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_DMA_LEN, &len, 8, 0), 0);
	memcpy(p, &off, 8);
	memcpy(p + 8, &region, 4);
	memcpy(p + 12, &count, 4);
	memcpy(p + 16, &cmd, 8);
	id = ++next_id;
	raw_cmd(fd, id, VFIO_USER_REGION_WRITE, 0, p, sizeof(p), NULL, 0);
	while (!done || (extra && !extra_done)) {
		assert_int_equal(raw_recv(fd, &rm, REPLY_TIMEOUT_MS), 0);
		if (!(rm.h.flags & VFIO_USER_F_TYPE_REPLY)) {
			if (rm.h.cmd == VFIO_USER_DMA_READ)
				extra = answer_read(fd, &rm, shape);
			else
				serve_dma(fd, &sv, &rm);
			continue;
		}
		if (rm.h.msg_id == id) {
			assert_int_equal(rm.h.flags, VFIO_USER_F_TYPE_REPLY);
			assert_false(extra && extra_done); /* in order */
			done = true;
		} else {
			assert_int_equal(rm.h.msg_id, extra);
			assert_int_equal(rm.h.cmd, VFIO_USER_DEVICE_GET_INFO);
			assert_true(done);
			extra_done = true;
		}
	}
	return rd64(fd, TESTDEV_REG_DMA_STATUS);
}

static void test_dma_read_reply_shapes(void **state)
{
	struct raw_server s;
	int fd;

	(void)state;
	start(&s, &fd);
	for (size_t i = 0; i < sizeof(ram); i++)
		ram[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(dma_map(fd, RAM_BASE, sizeof(ram), 0, -1), 0);

	assert_int_equal(copy_with(fd, WHOLE_WITH_NEXT), 0);
	assert_memory_equal(ram + 0x8000, ram, COPY_LEN);
	assert_int_equal(copy_with(fd, PIECES), 0);
	assert_memory_equal(ram + 0x8000, ram, COPY_LEN);

	/* A reply that doesn't match the request fails the DMA (nothing is
	 * written back), and the connection goes on. */
	assert_int_equal(copy_with(fd, WRONG_ADDR), EIO);
	assert_int_equal(ram[0x8000], 0);
	assert_int_equal(copy_with(fd, WRONG_COUNT), EIO);
	assert_int_equal(get_info_ok(fd), 0);

	assert_int_equal(copy_with(fd, PIECES), 0);
	assert_memory_equal(ram + 0x8000, ram, COPY_LEN);
	stop(&s, fd);

	/* QEMU's layout, from a fresh connection (the layout is learnt once) */
	start(&s, &fd);
	assert_int_equal(dma_map(fd, RAM_BASE, sizeof(ram), 0, -1), 0);
	assert_int_equal(copy_with(fd, NARROW_PIECES), 0);
	assert_memory_equal(ram + 0x8000, ram, COPY_LEN);
	stop(&s, fd);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_batched_commands, teardown),
		cmocka_unit_test_teardown(test_split_bytewise, teardown),
		cmocka_unit_test_teardown(test_fds_with_batched_and_split_messages, teardown),
		cmocka_unit_test_teardown(test_straddling_and_large, teardown),
		cmocka_unit_test_teardown(test_dma_read_reply_shapes, teardown),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s TESTDEV_SERVER\n", argv[0]);
		return 2;
	}
	server_bin = argv[1];
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
