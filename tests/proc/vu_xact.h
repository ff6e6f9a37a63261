/* SPDX-License-Identifier: MIT */
/* Request/reply helpers on top of vu_raw.h (one connection at a time). */
#ifndef UVFIO_TESTS_VU_XACT_H
#define UVFIO_TESTS_VU_XACT_H

#include <stdbool.h>
#include <linux/vfio.h>

#include "tests/proc/vu_raw.h"

static struct raw_msg rm; /* the last reply */
static uint16_t next_id;

#define REPLY_TIMEOUT_MS 3000

/* Wait for the reply to `id`: 0, its errno, or -1 if none came. */
static inline int wait_reply(int fd, uint16_t id, uint16_t cmd)
{
	if (raw_recv(fd, &rm, REPLY_TIMEOUT_MS))
		return -1;
	assert_int_equal(rm.h.msg_id, id);
	assert_int_equal(rm.h.cmd, cmd);
	assert_int_equal(rm.h.flags & VFIO_USER_F_TYPE_MASK, VFIO_USER_F_TYPE_REPLY);
	if (rm.h.flags & VFIO_USER_F_ERROR) {
		assert_int_equal(rm.h.flags, VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR);
		assert_int_equal(rm.h.msg_size, 16);
		assert_int_not_equal(rm.h.error_no, 0);
		return (int)rm.h.error_no;
	}
	return 0;
}

static inline int xact_flags(int fd, uint16_t cmd, uint32_t flags, const void *p,
		      size_t len, const int *fds, unsigned int nfds)
{
	uint16_t id = ++next_id;

	raw_cmd(fd, id, cmd, flags, p, len, fds, nfds);
	return wait_reply(fd, id, cmd);
}

static inline int xact(int fd, uint16_t cmd, const void *p, size_t len, const int *fds,
		unsigned int nfds)
{
	return xact_flags(fd, cmd, 0, p, len, fds, nfds);
}

static inline void do_version_caps(int fd, const char *caps)
{
	uint8_t v[512] = { 0 };
	size_t len = 4;

	if (caps) {
		memcpy(v + 4, caps, strlen(caps) + 1);
		len += strlen(caps) + 1;
	}
	assert_int_equal(xact(fd, VFIO_USER_VERSION, v, len, NULL, 0), 0);
}

static inline void do_version(int fd)
{
	do_version_caps(fd, "{\"capabilities\":{\"max_msg_fds\":16}}");
}

/* A new connection after the previous client is gone, VERSION negotiated. */
static inline int raw_connect_versioned(const struct raw_server *s, int idle_fds)
{
	int fd;

	raw_wait_idle(s, idle_fds);
	fd = raw_connect(s);
	do_version(fd);
	return fd;
}

static inline int get_info_ok(int fd)
{
	struct vfio_user_device_info di = { .argsz = 16 };
	int ret = xact(fd, VFIO_USER_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0);

	if (!ret)
		assert_int_equal(rm.len, 16);
	return ret;
}

static inline int region_read(int fd, uint32_t region, uint64_t off, uint32_t count)
{
	uint8_t p[16];

	memcpy(p, &off, 8);
	memcpy(p + 8, &region, 4);
	memcpy(p + 12, &count, 4);
	return xact(fd, VFIO_USER_REGION_READ, p, 16, NULL, 0);
}

/* With VFIO_USER_F_NO_REPLY: sent, nothing awaited, returns -1. */
static inline int region_write(int fd, uint32_t region, uint64_t off, const void *data,
			uint32_t count, uint32_t flags)
{
	uint8_t p[16 + 64];

	assert_true(count <= 64);
	memcpy(p, &off, 8);
	memcpy(p + 8, &region, 4);
	memcpy(p + 12, &count, 4);
	memcpy(p + 16, data, count);
	if (flags & VFIO_USER_F_NO_REPLY) {
		raw_cmd(fd, ++next_id, VFIO_USER_REGION_WRITE, flags, p, 16 + count, NULL, 0);
		return -1;
	}
	return xact_flags(fd, VFIO_USER_REGION_WRITE, flags, p, 16 + count, NULL, 0);
}

static inline int dma_map(int fd, uint64_t iova, uint64_t size, uint64_t off, int mfd)
{
	struct vfio_user_dma_map m = {
		.argsz = sizeof(m), .flags = 3, .offset = off, .addr = iova, .size = size,
	};

	return xact(fd, VFIO_USER_DMA_MAP, &m, sizeof(m), mfd >= 0 ? &mfd : NULL,
		    mfd >= 0 ? 1 : 0);
}

static inline int dma_unmap(int fd, uint64_t iova, uint64_t size, uint32_t flags)
{
	struct vfio_user_dma_unmap u = {
		.argsz = sizeof(u), .flags = flags, .addr = iova, .size = size,
	};

	return xact(fd, VFIO_USER_DMA_UNMAP, &u, sizeof(u), NULL, 0);
}

static inline int mig_set_state(int fd, uint32_t state)
{
	uint8_t f[16];
	uint32_t argsz = 16, flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	int32_t dfd = -1;

	memcpy(f, &argsz, 4);
	memcpy(f + 4, &flags, 4);
	memcpy(f + 8, &state, 4);
	memcpy(f + 12, &dfd, 4);
	return xact(fd, VFIO_USER_DEVICE_FEATURE, f, 16, NULL, 0);
}

static inline int mig_read(int fd, uint32_t size)
{
	uint32_t p[2] = { 8 + size, size };

	return xact(fd, VFIO_USER_MIG_DATA_READ, p, 8, NULL, 0);
}

static inline int mig_write(int fd, const void *data, uint32_t n)
{
	uint8_t p[8 + 4096];
	uint32_t argsz = 8 + n;

	assert_true(n <= 4096);
	memcpy(p, &argsz, 4);
	memcpy(p + 4, &n, 4);
	memcpy(p + 8, data, n);
	return xact(fd, VFIO_USER_MIG_DATA_WRITE, p, 8 + n, NULL, 0);
}

/* The client side of message-based DMA: serves DMA_READ/WRITE from `ram`. */
struct dma_served {
	uint8_t *ram;
	uint64_t base, size;
	unsigned int reads, writes;
	uint64_t max_chunk;
	int fail_reads;		/* answer DMA_READ with this errno */
	bool pipeline_get_info; /* send a GET_INFO while the copy runs */
	bool get_info_after_write;
	bool narrow; /* act as QEMU: u32 count, data at 12, header-only write reply */
	unsigned int narrow_writes; /* DMA_WRITEs that came in the u32 layout */
};

static inline void serve_dma(int fd, struct dma_served *sv, const struct raw_msg *m)
{
	static uint8_t rep[16 + 16 + (1u << 20)];
	struct vfio_user_header h = { .msg_id = m->h.msg_id, .cmd = m->h.cmd,
				      .flags = VFIO_USER_F_TYPE_REPLY };
	uint64_t addr, count;

	assert_int_equal(m->h.flags, 0);
	assert_true(m->len >= 16);
	memcpy(&addr, m->p, 8);
	memcpy(&count, m->p + 8, 8);
	if (sv->narrow) {
		uint32_t c32;

		memcpy(&c32, m->p + 8, 4);
		if (m->h.cmd == VFIO_USER_DMA_WRITE && m->len == 12 + (size_t)c32) {
			/* the server followed our layout */
			assert_true(addr >= sv->base && addr + c32 <= sv->base + sv->size);
			memcpy(sv->ram + (addr - sv->base), m->p + 12, c32);
			sv->writes++;
			sv->narrow_writes++;
			h.msg_size = 16;
			memcpy(rep, &h, 16);
			raw_send(fd, rep, 16, NULL, 0);
			return;
		}
		if (m->h.cmd == VFIO_USER_DMA_READ) {
			assert_true(addr >= sv->base && addr + count <= sv->base + sv->size);
			sv->reads++;
			c32 = (uint32_t)count;
			memcpy(rep + 16, &addr, 8);
			memcpy(rep + 24, &c32, 4);
			memcpy(rep + 28, sv->ram + (addr - sv->base), count);
			h.msg_size = (uint32_t)(28 + count);
			memcpy(rep, &h, 16);
			raw_send(fd, rep, h.msg_size, NULL, 0);
			return;
		}
	}
	assert_true(addr >= sv->base && addr + count <= sv->base + sv->size);
	if (count > sv->max_chunk)
		sv->max_chunk = count;
	memcpy(rep + 16, &addr, 8);
	memcpy(rep + 24, &count, 8);
	if (m->h.cmd == VFIO_USER_DMA_READ) {
		sv->reads++;
		if (sv->fail_reads) {
			h.flags |= VFIO_USER_F_ERROR;
			h.error_no = (uint32_t)sv->fail_reads;
			h.msg_size = 16;
			memcpy(rep, &h, 16);
			raw_send(fd, rep, 16, NULL, 0);
			return;
		}
		memcpy(rep + 32, sv->ram + (addr - sv->base), count);
		h.msg_size = (uint32_t)(32 + count);
	} else {
		assert_int_equal(m->h.cmd, VFIO_USER_DMA_WRITE);
		assert_int_equal(m->len, 16 + count);
		sv->writes++;
		memcpy(sv->ram + (addr - sv->base), m->p + 16, count);
		h.msg_size = 32;
	}
	memcpy(rep, &h, 16);
	raw_send(fd, rep, h.msg_size, NULL, 0);
}

/* Program the DMA engine and run `cmd`; with sv, serve the server's requests. */
static inline int dma_run(int fd, uint64_t cmd, uint64_t src, uint64_t dst,
			  uint64_t len, struct dma_served *sv)
{
	uint64_t one = cmd;
	uint8_t p[24];
	uint32_t region = 0, count = 8;
	uint64_t off = TESTDEV_REG_DMA_CMD;
	uint16_t id, info_id = 0;
	bool write_done = false, info_done = false;
	int ret = -1;

	assert_int_equal(region_write(fd, 0, TESTDEV_REG_DMA_SRC, &src, 8, 0), 0);
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_DMA_DST, &dst, 8, 0), 0);
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_DMA_LEN, &len, 8, 0), 0);
	if (!sv)
		return region_write(fd, 0, TESTDEV_REG_DMA_CMD, &one, 8, 0);

	memcpy(p, &off, 8);
	memcpy(p + 8, &region, 4);
	memcpy(p + 12, &count, 4);
	memcpy(p + 16, &one, 8);
	id = ++next_id;
	raw_cmd(fd, id, VFIO_USER_REGION_WRITE, 0, p, 24, NULL, 0);
	while (!write_done || (info_id && !info_done)) {
		assert_int_equal(raw_recv(fd, &rm, REPLY_TIMEOUT_MS), 0);
		if (!(rm.h.flags & VFIO_USER_F_TYPE_REPLY)) {
			serve_dma(fd, sv, &rm);
			if (sv->pipeline_get_info && !info_id) {
				struct vfio_user_device_info di = { .argsz = 16 };

				info_id = ++next_id;
				raw_cmd(fd, info_id, VFIO_USER_DEVICE_GET_INFO, 0, &di, 16,
					NULL, 0);
			}
			continue;
		}
		if (rm.h.msg_id == id) {
			assert_int_equal(rm.h.cmd, VFIO_USER_REGION_WRITE);
			write_done = true;
			ret = rm.h.flags & VFIO_USER_F_ERROR ? (int)rm.h.error_no : 0;
		} else {
			assert_int_equal(rm.h.msg_id, info_id);
			assert_int_equal(rm.h.flags, VFIO_USER_F_TYPE_REPLY);
			info_done = true;
			sv->get_info_after_write = write_done;
		}
	}
	return ret;
}

static inline int dma_copy(int fd, uint64_t src, uint64_t dst, uint64_t len,
			   struct dma_served *sv)
{
	return dma_run(fd, TESTDEV_DMA_COPY, src, dst, len, sv);
}

#endif
