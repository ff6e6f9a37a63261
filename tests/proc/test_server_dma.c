/* SPDX-License-Identifier: MIT */
/*
 * Server-initiated DMA from device work (`uvfio serve edu`: the DMA engine
 * runs from a uvfio_server_add_fd callback), for windows mapped without an
 * fd, i.e. through DMA_READ/DMA_WRITE messages:
 *   - our client: RAM -> device -> RAM through a message-based window;
 *   - a raw client that behaves as QEMU: it answers DMA requests only when
 *     it waits for no reply of its own (QEMU's main loop vs. a vCPU in an
 *     MMIO access). While the server's DMA_READ is unanswered, register
 *     reads must still be answered (before, this deadlocked);
 *   - a command that arrives in the same bytes as a DMA reply is served
 *     after the DMA without any new socket activity.
 *
 *   test_server_dma UVFIO_BINARY
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <uvfio/client.h>

#include "devices/testdev.h" /* vu_xact.h's DMA helpers name testdev registers */
#include "tests/proc/vu_xact.h"

#define BAR0 0u
#define CONFIG 7u
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_BUF 0x40000ull
#define IOVA 0x100000ull
#define RAM_SIZE 0x2000u

static const char *uvfio_bin;
/* A copy of the running server, killed by teardown if a test fails (the
 * test's own frame is gone by then). */
static struct raw_server live;
static bool live_on;

static void edu_start(struct raw_server *s)
{
	struct stat st;

	snprintf(s->dir, sizeof(s->dir), "/tmp/uvfio-sdma-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/edu.sock", s->dir);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		execl(uvfio_bin, uvfio_bin, "serve", "edu", "--socket", s->path, (char *)NULL);
		_exit(127);
	}
	live = *s;
	live_on = true;
	for (int i = 0; i < 200 && stat(s->path, &st); i++)
		usleep(10000);
	assert_int_equal(stat(s->path, &st), 0);
}

static void edu_stop(struct raw_server *s)
{
	int st = 0;

	live_on = false;
	kill(s->pid, SIGTERM);
	waitpid(s->pid, &st, 0);
	rmdir(s->dir);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
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

/* ---- our client --------------------------------------------------------------- */

static uint32_t c_rd32(struct uvfio_client *c, uint64_t off)
{
	uint32_t v = 0;

	assert_int_equal(uvfio_client_read(c, BAR0, off, &v, 4), 4);
	return v;
}

static void c_wr64(struct uvfio_client *c, uint64_t off, uint64_t v)
{
	assert_int_equal(uvfio_client_write(c, BAR0, off, &v, 8), 8);
}

/* Start a transfer and wait (reading the command register) until it's done. */
static uint32_t c_dma(struct uvfio_client *c, uint64_t src, uint64_t dst, uint64_t n,
		      uint64_t cmd)
{
	uint32_t v;

	c_wr64(c, EDU_DMA_SRC, src);
	c_wr64(c, EDU_DMA_DST, dst);
	c_wr64(c, EDU_DMA_COUNT, n);
	c_wr64(c, EDU_DMA_CMD, cmd);
	for (int i = 0; i < 500; i++) {
		v = c_rd32(c, EDU_DMA_CMD);
		if (!(v & 1))
			return v;
		usleep(2000);
	}
	fail_msg("DMA did not complete");
	return v;
}

static void test_client_message_dma(void **state)
{
	struct raw_server s;
	struct uvfio_client *c;
	char loc[160];
	uint8_t *ram = aligned_alloc(4096, RAM_SIZE);
	struct uvfio_dma_map_args m = {
		.iova = IOVA, .size = RAM_SIZE, .prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE,
		.fd = -1, .vaddr = ram,
	};
	uint16_t pcmd;

	(void)state;
	edu_start(&s);
	snprintf(loc, sizeof(loc), "vfio-user:%s", s.path);
	assert_int_equal(uvfio_client_open(loc, NULL, &c), 0);
	for (unsigned int i = 0; i < RAM_SIZE; i++)
		ram[i] = (uint8_t)(i * 7 + 3);
	memset(ram + 0x1000, 0, 0x1000);
	assert_int_equal(uvfio_client_dma_map(c, &m), 0);
	assert_int_equal(uvfio_client_read(c, CONFIG, 4, &pcmd, 2), 2);
	pcmd |= 0x6;
	assert_int_equal(uvfio_client_write(c, CONFIG, 4, &pcmd, 2), 2);

	/* RAM -> device buffer, then device buffer -> another part of RAM. */
	assert_int_equal(c_dma(c, IOVA + 0x123, EDU_BUF + 0x10, 0xa00, 1), 0);
	assert_int_equal(c_dma(c, EDU_BUF + 0x10, IOVA + 0x1000 + 0x45, 0xa00, 3) & 0x80000001u,
			 0);
	assert_memory_equal(ram + 0x123, ram + 0x1045, 0xa00);
	assert_int_equal(ram[0x1044], 0);
	assert_int_equal(ram[0x1045 + 0xa00], 0);

	assert_int_equal(uvfio_client_dma_unmap_all(c), 0);
	uvfio_client_close(c);
	free(ram);
	edu_stop(&s);
}

/* ---- a client that behaves as QEMU --------------------------------------------- */

static uint8_t qram[RAM_SIZE];

static void r_wr64(int fd, uint64_t off, uint64_t v, uint32_t flags)
{
	int ret = region_write(fd, BAR0, off, &v, 8, flags);

	if (!(flags & VFIO_USER_F_NO_REPLY))
		assert_int_equal(ret, 0);
}

/* Receive until a DMA request from the server comes; it stays unanswered. */
static void r_expect_dma_req(int fd, struct raw_msg *req, uint16_t cmd)
{
	assert_int_equal(raw_recv(fd, req, REPLY_TIMEOUT_MS), 0);
	assert_int_equal(req->h.flags & VFIO_USER_F_TYPE_MASK, VFIO_USER_F_TYPE_COMMAND);
	assert_int_equal(req->h.cmd, cmd);
}

/* The answer to a DMA request, in the spec's layout, into buf; its length. */
static size_t r_dma_reply(const struct raw_msg *req, uint8_t *buf)
{
	struct vfio_user_header h = { .msg_id = req->h.msg_id, .cmd = req->h.cmd,
				      .flags = VFIO_USER_F_TYPE_REPLY };
	uint64_t addr, count;

	memcpy(&addr, req->p, 8);
	memcpy(&count, req->p + 8, 8);
	assert_true(addr >= IOVA && addr + count <= IOVA + RAM_SIZE);
	memcpy(buf + 16, &addr, 8);
	memcpy(buf + 24, &count, 8);
	if (req->h.cmd == VFIO_USER_DMA_READ) {
		memcpy(buf + 32, qram + (addr - IOVA), count);
		h.msg_size = (uint32_t)(32 + count);
	} else {
		assert_int_equal(req->len, 16 + count);
		memcpy(qram + (addr - IOVA), req->p + 16, count);
		h.msg_size = 32;
	}
	memcpy(buf, &h, 16);
	return h.msg_size;
}

/* Read the DMA command register; every reply must come without our help. */
static uint32_t r_cmd_reg(int fd)
{
	uint32_t v;

	assert_int_equal(region_read(fd, BAR0, EDU_DMA_CMD, 4), 0);
	assert_int_equal(rm.len, 16 + 4);
	memcpy(&v, rm.p + 16, 4);
	return v;
}

static uint32_t r_wait_done(int fd)
{
	uint32_t v = 1;

	for (int i = 0; i < 500 && (v & 1); i++) {
		v = r_cmd_reg(fd);
		if (v & 1)
			usleep(2000);
	}
	assert_int_equal(v & 1, 0);
	return v;
}

static void test_qemu_like_client(void **state)
{
	static uint8_t rep[16 + 16 + RAM_SIZE + 64];
	static struct raw_msg req;
	struct raw_server s;
	uint16_t pcmd = 0x6;
	uint8_t buf[0x300];
	size_t n;
	int fd;

	(void)state;
	edu_start(&s);
	fd = raw_connect(&s);
	do_version(fd);
	assert_int_equal(dma_map(fd, IOVA, RAM_SIZE, 0, -1), 0); /* no fd: messages */
	assert_int_equal(region_write(fd, CONFIG, 4, &pcmd, 2, 0), 0);
	for (unsigned int i = 0; i < RAM_SIZE; i++)
		qram[i] = (uint8_t)(i * 13 + 1);

	/* RAM -> device, the start posted as QEMU does (No_reply). */
	r_wr64(fd, EDU_DMA_SRC, IOVA + 0x40, 0);
	r_wr64(fd, EDU_DMA_DST, EDU_BUF, 0);
	r_wr64(fd, EDU_DMA_COUNT, sizeof(buf), 0);
	r_wr64(fd, EDU_DMA_CMD, 1, VFIO_USER_F_NO_REPLY);
	r_expect_dma_req(fd, &req, VFIO_USER_DMA_READ);
	/* A vCPU polls the engine while the main loop can't answer yet: the
	 * server must answer these reads with the DMA still pending. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(r_cmd_reg(fd) & 1, 1);
	n = r_dma_reply(&req, rep);
	raw_send(fd, rep, n, NULL, 0);
	assert_int_equal(r_wait_done(fd), 0);
	assert_int_equal(region_read(fd, BAR0, EDU_BUF, sizeof(buf)), 0);
	assert_memory_equal(rm.p + 16, qram + 0x40, sizeof(buf));

	/* Device -> RAM. The DMA reply and a register read go out in one
	 * write: the server takes both off the socket during the DMA, and
	 * must still answer the read with nothing new arriving. */
	memset(qram + 0x1000, 0, 0x1000);
	r_wr64(fd, EDU_DMA_SRC, EDU_BUF, 0);
	r_wr64(fd, EDU_DMA_DST, IOVA + 0x1008, 0);
	r_wr64(fd, EDU_DMA_COUNT, sizeof(buf), 0);
	r_wr64(fd, EDU_DMA_CMD, 3, VFIO_USER_F_NO_REPLY);
	r_expect_dma_req(fd, &req, VFIO_USER_DMA_WRITE);
	n = r_dma_reply(&req, rep);
	{
		uint8_t p[16];
		uint64_t off = EDU_DMA_CMD;
		uint32_t region = BAR0, count = 4;
		struct vfio_user_header h = { .msg_id = ++next_id, .cmd = VFIO_USER_REGION_READ,
					      .msg_size = 32 };

		memcpy(p, &off, 8);
		memcpy(p + 8, &region, 4);
		memcpy(p + 12, &count, 4);
		memcpy(rep + n, &h, 16);
		memcpy(rep + n + 16, p, 16);
		raw_send(fd, rep, n + 32, NULL, 0);
		assert_int_equal(wait_reply(fd, h.msg_id, VFIO_USER_REGION_READ), 0);
	}
	assert_int_equal(r_wait_done(fd), 2); /* to RAM, no error */
	assert_memory_equal(qram + 0x1008, qram + 0x40, sizeof(buf));
	assert_int_equal(qram[0x1007], 0);

	/* A DMA_UNMAP while the DMA waits cancels it; the unmap then runs. */
	r_wr64(fd, EDU_DMA_SRC, IOVA, 0);
	r_wr64(fd, EDU_DMA_DST, EDU_BUF, 0);
	r_wr64(fd, EDU_DMA_COUNT, 16, 0);
	r_wr64(fd, EDU_DMA_CMD, 1, VFIO_USER_F_NO_REPLY);
	r_expect_dma_req(fd, &req, VFIO_USER_DMA_READ);
	assert_int_equal(dma_unmap(fd, IOVA, RAM_SIZE, 0), 0);
	assert_int_equal(r_wait_done(fd) & 0x80000000u, 0x80000000u); /* failed */
	n = r_dma_reply(&req, rep); /* late: dropped as stale */
	raw_send(fd, rep, n, NULL, 0);
	assert_int_equal(get_info_ok(fd), 0);

	close(fd);
	edu_stop(&s);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_client_message_dma, teardown),
		cmocka_unit_test_teardown(test_qemu_like_client, teardown),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s UVFIO_BINARY\n", argv[0]);
		return 2;
	}
	uvfio_bin = argv[1];
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
