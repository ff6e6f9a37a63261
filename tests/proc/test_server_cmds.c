/* SPDX-License-Identifier: MIT */
/*
 * Cross-process: every vfio-user command against the testdev server, over a
 * real socket with hand-built messages.
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
#include <uvfio/mig_stream.h>

#include "devices/testdev.h"
#include "tests/proc/vu_raw.h"
#include "tests/proc/vu_xact.h"

static void test_version_and_info(void **state)
{
	struct raw_server s;
	struct vfio_user_device_info di = { .argsz = 16 };
	struct vfio_user_irq_info ii = { .argsz = 16, .index = 0 };
	struct vfio_user_region_io_fds io = { .argsz = 16, .index = 1 };
	const char *caps = "{\"capabilities\":{\"max_msg_fds\":4,\"max_data_xfer_size\":65536}}";
	uint8_t vbuf[256];
	int fd;

	raw_server_start(&s, NULL, NULL);
	fd = raw_connect(&s);
	/* minor = min(client's, ours): 0 for QEMU, 2 when the client says 5 */
	memset(vbuf, 0, sizeof(vbuf));
	vbuf[2] = 5;
	memcpy(vbuf + 4, caps, strlen(caps) + 1);
	assert_int_equal(xact(fd, VFIO_USER_VERSION, vbuf, 4 + strlen(caps) + 1, NULL, 0), 0);
	assert_true(rm.len > 4);
	assert_int_equal(*(uint16_t *)rm.p, 0);
	assert_int_equal(*(uint16_t *)(rm.p + 2), 2);
	assert_int_equal(rm.p[rm.len - 1], 0);
	assert_non_null(strstr((char *)rm.p + 4, "\"max_msg_fds\":16"));
	assert_non_null(strstr((char *)rm.p + 4, "\"max_data_xfer_size\":1048576"));
	assert_non_null(strstr((char *)rm.p + 4, "\"write_multiple\":true"));

	assert_int_equal(xact(fd, VFIO_USER_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0), 0);
	assert_int_equal(rm.len, 16);
	memcpy(&di, rm.p, 16);
	assert_int_equal(di.num_regions, TESTDEV_NUM_REGIONS);
	assert_int_equal(di.num_irqs, 1);
	assert_true(di.flags & VFIO_USER_F_DEVICE_RESET);

	assert_int_equal(xact(fd, VFIO_USER_DEVICE_GET_IRQ_INFO, &ii, sizeof(ii), NULL, 0), 0);
	memcpy(&ii, rm.p, 16);
	assert_int_equal(ii.count, TESTDEV_NUM_VECTORS);
	assert_int_equal(ii.flags & (VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE),
			 VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE);

	assert_int_equal(xact(fd, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &io, sizeof(io), NULL, 0), 0);
	memcpy(&io, rm.p, 16);
	assert_int_equal(io.count, 0);
	assert_int_equal(io.index, 1);
	close(fd);
	assert_int_equal(raw_server_stop(&s), 0);
}

/* A client that sends 0.0 (QEMU) gets minor 0; one without JSON (SPDK) is served. */
static void test_version_minor_and_no_json(void **state)
{
	struct raw_server s;
	uint8_t v[4] = { 0, 0, 0, 0 };
	int fd;

	raw_server_start(&s, NULL, NULL);
	fd = raw_connect(&s);
	assert_int_equal(xact(fd, VFIO_USER_VERSION, v, 4, NULL, 0), 0);
	assert_int_equal(*(uint16_t *)(rm.p + 2), 0);
	assert_int_equal(get_info_ok(fd), 0);
	close(fd);
	assert_int_equal(raw_server_stop(&s), 0);
}

static void test_region_info(void **state)
{
	struct vfio_user_region_info ri = { .argsz = 32, .index = 1 };
	struct raw_server s;
	uint8_t *map;
	int fd, mfd;

	raw_server_start(&s, NULL, NULL);
	fd = raw_connect(&s);
	do_version(fd);

	/* plain region: no caps, no fd */
	ri.index = 0;
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, 32, NULL, 0), 0);
	assert_int_equal(rm.len, 32);
	assert_int_equal(rm.nfds, 0);
	memcpy(&ri, rm.p, 32);
	assert_int_equal(ri.size, TESTDEV_REGS_SIZE);
	assert_int_equal(ri.flags & VFIO_USER_F_REGION_MMAP, 0);

	/* mappable region, argsz 32: the size needed, CAPS, no fd */
	ri = (struct vfio_user_region_info){ .argsz = 32, .index = 1 };
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, 32, NULL, 0), 0);
	assert_int_equal(rm.len, 32);
	assert_int_equal(rm.nfds, 0);
	memcpy(&ri, rm.p, 32);
	assert_int_equal(ri.argsz, 32 + 16 + 16);
	assert_true(ri.flags & VFIO_USER_F_REGION_CAPS);
	assert_int_equal(ri.cap_offset, 0);

	/* the retry: caps + exactly one fd */
	ri = (struct vfio_user_region_info){ .argsz = 64, .index = 1 };
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, 32, NULL, 0), 0);
	assert_int_equal(rm.len, 64);
	assert_int_equal(rm.nfds, 1);
	{
		struct vfio_user_cap_sparse_mmap sp;
		struct vfio_user_sparse_area a;

		memcpy(&ri, rm.p, 32);
		assert_int_equal(ri.cap_offset, 32);
		memcpy(&sp, rm.p + 32, sizeof(sp));
		memcpy(&a, rm.p + 48, sizeof(a));
		assert_int_equal(sp.header.id, VFIO_USER_CAP_SPARSE_MMAP);
		assert_int_equal(sp.nr_areas, 1);
		assert_int_equal(a.offset, 4096);
		assert_int_equal(a.size, 4096);
	}
	mfd = rm.fds[0];
	map = mmap(NULL, TESTDEV_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd,
		   (off_t)ri.offset);
	assert_true(map != MAP_FAILED);
	/* a REGION_WRITE shows in the client's mapping, and a store in the read */
	{
		uint8_t wr[16 + 4] = { 0 };
		uint64_t off = 4100;
		uint32_t region = 1, count = 4;

		memcpy(wr, &off, 8);
		memcpy(wr + 8, &region, 4);
		memcpy(wr + 12, &count, 4);
		memcpy(wr + 16, "vfio", 4);
		assert_int_equal(xact(fd, VFIO_USER_REGION_WRITE, wr, sizeof(wr), NULL, 0), 0);
		assert_memory_equal(map + 4100, "vfio", 4);
		memcpy(map + 8, "user", 4);
		assert_int_equal(region_read(fd, 1, 8, 4), 0);
		assert_memory_equal(rm.p + 16, "user", 4);
	}
	munmap(map, TESTDEV_MEM_SIZE);
	close(mfd);

	/* mappable without areas: the server names the whole region */
	ri = (struct vfio_user_region_info){ .argsz = 512, .index = 2 };
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, 32, NULL, 0), 0);
	assert_int_equal(rm.len, 64);
	assert_int_equal(rm.nfds, 1);
	{
		struct vfio_user_sparse_area a;

		memcpy(&ri, rm.p, 32);
		assert_int_equal(ri.argsz, 64);
		assert_int_equal(ri.offset, TESTDEV_MEM_SIZE);
		memcpy(&a, rm.p + 48, sizeof(a));
		assert_int_equal(a.offset, 0);
		assert_int_equal(a.size, TESTDEV_WHOLE_SIZE);
	}
	raw_close_fds(&rm);
	close(fd);
	assert_int_equal(raw_server_stop(&s), 0);
}

/* A client that receives no fds (max_msg_fds 0) is never sent one. */
static void test_region_info_no_fds(void **state)
{
	struct vfio_user_region_info ri = { .argsz = 512, .index = 1 };
	struct raw_server s;
	int fd;

	raw_server_start(&s, NULL, NULL);
	fd = raw_connect(&s);
	do_version_caps(fd, "{\"capabilities\":{\"max_msg_fds\":0}}");
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, 32, NULL, 0), 0);
	assert_int_equal(rm.nfds, 0);
	memcpy(&ri, rm.p, 32);
	assert_int_equal(ri.flags & VFIO_USER_F_REGION_MMAP, 0);
	close(fd);
	assert_int_equal(raw_server_stop(&s), 0);
}

static void test_region_rw_multi_noreply(void **state)
{
	struct raw_server s;
	uint64_t v = 0x1122334455667788ull, got;
	uint8_t multi[8 + 2 * 24] = { 0 };
	struct vfio_user_write_multi_data e = { .region = 0, .count = 8 };
	int fd;

	raw_server_start(&s, NULL, NULL);
	fd = raw_connect(&s);
	do_version(fd);

	assert_int_equal(region_read(fd, 0, TESTDEV_REG_ID, 8), 0);
	memcpy(&got, rm.p + 16, 8);
	assert_int_equal(got, TESTDEV_ID);
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_SCRATCH, &v, 8, 0), 0);
	assert_int_equal(region_read(fd, 0, TESTDEV_REG_SCRATCH, 8), 0);
	assert_memory_equal(rm.p + 16, &v, 8);

	/* posted write (No_reply) then a read: no reply for the first, order kept */
	v = 42;
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_SCRATCH, &v, 8,
				      VFIO_USER_F_NO_REPLY), -1);
	assert_int_equal(region_read(fd, 0, TESTDEV_REG_SCRATCH, 8), 0);
	assert_memory_equal(rm.p + 16, &v, 8);

	/* WRITE_MULTI: two 8-byte writes */
	*(uint64_t *)multi = 2;
	e.offset = 0x40;
	memset(e.data, 0xaa, 8);
	memcpy(multi + 8, &e, 24);
	e.offset = 0x48;
	memset(e.data, 0xbb, 8);
	memcpy(multi + 32, &e, 24);
	assert_int_equal(xact(fd, VFIO_USER_REGION_WRITE_MULTI, multi, sizeof(multi), NULL, 0), 0);
	assert_int_equal(*(uint64_t *)rm.p, 2);
	assert_int_equal(region_read(fd, 0, 0x40, 16), 0);
	assert_int_equal(rm.p[16], 0xaa);
	assert_int_equal(rm.p[31], 0xbb);
	/* a failing entry ends the batch: the reply counts what was done */
	e.region = 9;
	memcpy(multi + 32, &e, 24);
	assert_int_equal(xact(fd, VFIO_USER_REGION_WRITE_MULTI, multi, sizeof(multi), NULL, 0), 0);
	assert_int_equal(*(uint64_t *)rm.p, 1);
	/* ... and if the first fails, it is an error */
	memcpy(multi + 8, &e, 24);
	assert_int_equal(xact(fd, VFIO_USER_REGION_WRITE_MULTI, multi, sizeof(multi), NULL, 0),
			 EINVAL);

	/* reset clears the register file, keeps the ID */
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_RESET, NULL, 0, NULL, 0), 0);
	assert_int_equal(rm.len, 0);
	assert_int_equal(region_read(fd, 0, TESTDEV_REG_SCRATCH, 8), 0);
	memcpy(&got, rm.p + 16, 8);
	assert_int_equal(got, 0);
	assert_int_equal(region_read(fd, 0, TESTDEV_REG_ID, 8), 0);
	memcpy(&got, rm.p + 16, 8);
	assert_int_equal(got, TESTDEV_ID);
	close(fd);
	assert_int_equal(raw_server_stop(&s), 0);
}

static void test_set_irqs(void **state)
{
	struct raw_server s;
	struct vfio_user_irq_set is = { .argsz = 20, .index = 0, .start = 0,
					.count = TESTDEV_NUM_VECTORS,
					.flags = VFIO_IRQ_SET_DATA_EVENTFD |
						 VFIO_IRQ_SET_ACTION_TRIGGER };
	int efd[TESTDEV_NUM_VECTORS], fd, i;
	uint64_t v, cnt;
	struct pollfd p;

	raw_server_start(&s, NULL, NULL);
	fd = raw_connect(&s);
	do_version(fd);
	for (i = 0; i < (int)TESTDEV_NUM_VECTORS; i++)
		efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_SET_IRQS, &is, sizeof(is), efd,
			      TESTDEV_NUM_VECTORS), 0);
	v = 2;
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_IRQ, &v, 8, 0), 0);
	assert_int_equal(read(efd[2], &cnt, 8), 8);
	assert_int_equal(cnt, 1);
	assert_int_equal(read(efd[1], &cnt, 8), -1); /* only vector 2 fired */

	/* mask vector 3 (DATA_NONE|MASK), trigger: nothing until unmask */
	{
		struct vfio_user_irq_set m = { .argsz = 20, .index = 0, .start = 3, .count = 1,
					       .flags = VFIO_IRQ_SET_DATA_NONE |
							VFIO_IRQ_SET_ACTION_MASK };
		assert_int_equal(xact(fd, VFIO_USER_DEVICE_SET_IRQS, &m, 20, NULL, 0), 0);
		v = 3;
		assert_int_equal(region_write(fd, 0, TESTDEV_REG_IRQ, &v, 8, 0), 0);
		assert_int_equal(read(efd[3], &cnt, 8), -1);
		m.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK;
		assert_int_equal(xact(fd, VFIO_USER_DEVICE_SET_IRQS, &m, 20, NULL, 0), 0);
		assert_int_equal(read(efd[3], &cnt, 8), 8);
	}

	/* DATA_EVENTFD with no fds de-assigns [start, start+count) */
	is.start = 2;
	is.count = 1;
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_SET_IRQS, &is, sizeof(is), NULL, 0), 0);
	v = 2;
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_IRQ, &v, 8, 0), 0);
	p = (struct pollfd){ .fd = efd[2], .events = POLLIN };
	assert_int_equal(poll(&p, 1, 50), 0);
	v = 0;
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_IRQ, &v, 8, 0), 0);
	assert_int_equal(read(efd[0], &cnt, 8), 8); /* the others stay */
	for (i = 0; i < (int)TESTDEV_NUM_VECTORS; i++)
		close(efd[i]);
	close(fd);
	assert_int_equal(raw_server_stop(&s), 0);
}

/* GET_REGION_IO_FDS: argsz dance, entries and their eventfds, the same fds
 * again, errors; a ring reaches the device with no message; a new
 * connection gets new eventfds and the old ones ring nothing. */
static int io_fds(int fd, uint32_t index, uint32_t argsz)
{
	struct vfio_user_region_io_fds io = { .argsz = argsz, .index = index };

	return xact(fd, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &io, sizeof(io), NULL, 0);
}

static uint64_t irq_reg(int fd)
{
	uint64_t v;

	assert_int_equal(region_read(fd, 0, TESTDEV_REG_IRQ, 8), 0);
	memcpy(&v, rm.p + 16, 8);
	return v;
}

static bool efd_fired(int efd, int timeout_ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t cnt;

	return poll(&p, 1, timeout_ms) == 1 && read(efd, &cnt, 8) == 8 && cnt;
}

static void test_region_io_fds(void **state)
{
	const uint32_t n = TESTDEV_DOORBELL_VECTORS;
	const uint32_t need = 16 + n * 40;
	struct vfio_user_region_io_fds io;
	struct vfio_user_sub_region_ioeventfd e;
	struct vfio_user_irq_set is = { .argsz = 20, .index = 0, .start = 0,
					.count = TESTDEV_NUM_VECTORS,
					.flags = VFIO_IRQ_SET_DATA_EVENTFD |
						 VFIO_IRQ_SET_ACTION_TRIGGER };
	int efd[TESTDEV_NUM_VECTORS], bell[TESTDEV_DOORBELL_VECTORS], old, fd, base;
	uint64_t one = 1, v;
	struct raw_server s;

	raw_server_start(&s, NULL, NULL);
	base = raw_fd_count(s.pid);
	fd = raw_connect(&s);
	do_version(fd);
	for (int i = 0; i < (int)TESTDEV_NUM_VECTORS; i++)
		efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_SET_IRQS, &is, sizeof(is), efd,
			      TESTDEV_NUM_VECTORS), 0);

	/* argsz 16, and one byte short: the size needed and the count, no fds */
	for (uint32_t k = 0; k < 2; k++) {
		assert_int_equal(io_fds(fd, 0, k ? need - 1 : 16), 0);
		assert_int_equal(rm.len, 16);
		assert_int_equal(rm.nfds, 0);
		memcpy(&io, rm.p, 16);
		assert_int_equal(io.argsz, need);
		assert_int_equal(io.count, n);
		assert_int_equal(io.index, 0);
	}
	/* enough room: the spec's 40-byte entries, one eventfd each */
	assert_int_equal(io_fds(fd, 0, 4096), 0);
	assert_int_equal(rm.len, need);
	assert_int_equal(rm.nfds, n);
	memcpy(&io, rm.p, 16);
	assert_int_equal(io.argsz, need);
	assert_int_equal(io.count, n);
	for (uint32_t i = 0; i < n; i++) {
		memcpy(&e, rm.p + 16 + 40 * i, 40);
		assert_int_equal(e.offset, TESTDEV_REG_IRQ);
		assert_int_equal(e.size, 8);
		assert_int_equal(e.type, VFIO_USER_IO_FD_TYPE_IOEVENTFD);
		assert_int_equal(e.flags, VFIO_USER_IOEVENTFD_DATAMATCH);
		assert_int_equal(e.datamatch, i);
		assert_true(e.fd_index < n);
		bell[i] = rm.fds[e.fd_index];
	}
	/* the same again: the same eventfds (a ring through the new copy
	 * of vector 1's is counted like one through the first) */
	assert_int_equal(io_fds(fd, 0, 4096), 0);
	assert_int_equal(rm.nfds, n);
	old = rm.fds[1];
	for (uint32_t i = 0; i < rm.nfds; i++)
		if (rm.fds[i] != old)
			close(rm.fds[i]);

	/* a ring: vector 2 fires, counted as a doorbell, no write op ran */
	v = irq_reg(fd);
	assert_int_equal(write(bell[2], &one, 8), 8);
	assert_true(efd_fired(efd[2], 2000));
	assert_false(efd_fired(efd[1], 0));
	assert_int_equal(TESTDEV_IRQ_BY_DOORBELL(irq_reg(fd)), TESTDEV_IRQ_BY_DOORBELL(v) + 1);
	assert_int_equal(TESTDEV_IRQ_BY_WRITE(irq_reg(fd)), TESTDEV_IRQ_BY_WRITE(v));
	assert_int_equal(write(old, &one, 8), 8);
	assert_true(efd_fired(efd[1], 2000));
	assert_int_equal(TESTDEV_IRQ_BY_DOORBELL(irq_reg(fd)), TESTDEV_IRQ_BY_DOORBELL(v) + 2);
	/* a client may add any count: one delivery, the device told the count */
	v = irq_reg(fd);
	one = 0xfffffffffffffffeull; /* the most an eventfd takes */
	assert_int_equal(write(bell[0], &one, 8), 8);
	one = 1;
	assert_true(efd_fired(efd[0], 2000));
	assert_int_equal(TESTDEV_IRQ_BY_DOORBELL(irq_reg(fd)),
			 (uint32_t)(TESTDEV_IRQ_BY_DOORBELL(v) + 0xfffffffeu));
	/* a REGION_WRITE of the same register still works, as a write */
	v = 0;
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_IRQ, &v, 8, 0), 0);
	assert_true(efd_fired(efd[0], 0));

	/* regions without doorbells, and what is refused */
	assert_int_equal(io_fds(fd, 1, 4096), 0);
	memcpy(&io, rm.p, 16);
	assert_int_equal(io.count, 0);
	assert_int_equal(rm.nfds, 0);
	assert_int_equal(io_fds(fd, TESTDEV_NUM_REGIONS, 4096), EINVAL);
	assert_int_equal(io_fds(fd, 0, 15), EINVAL);
	io = (struct vfio_user_region_io_fds){ .argsz = 4096, .index = 0, .count = 1 };
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &io, 16, NULL, 0), EINVAL);
	io.count = 0;
	io.flags = 1;
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &io, 16, NULL, 0), EINVAL);
	assert_int_equal(get_info_ok(fd), 0); /* still serving */

	/* A new connection: new eventfds; the old ones ring nothing. */
	close(fd);
	fd = raw_connect_versioned(&s, base); /* every doorbell fd closed first */
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_SET_IRQS, &is, sizeof(is), efd,
			      TESTDEV_NUM_VECTORS), 0);
	v = irq_reg(fd);
	assert_int_equal(write(bell[0], &one, 8), 8);
	assert_false(efd_fired(efd[0], 200));
	assert_int_equal(irq_reg(fd), v);
	assert_int_equal(io_fds(fd, 0, 4096), 0);
	assert_int_equal(rm.nfds, n);
	memcpy(&e, rm.p + 16, 40); /* entry 0: datamatch 0 */
	assert_int_equal(e.datamatch, 0);
	assert_int_equal(write(rm.fds[e.fd_index], &one, 8), 8);
	assert_true(efd_fired(efd[0], 2000));
	raw_close_fds(&rm);
	for (uint32_t i = 0; i < n; i++)
		close(bell[i]);
	close(old);
	for (int i = 0; i < (int)TESTDEV_NUM_VECTORS; i++)
		close(efd[i]);
	close(fd);
	assert_int_equal(raw_server_stop(&s), 0);
}

/* A client that takes fewer fds per message than a region has doorbells
 * gets none: its writes go as messages. */
static void test_region_io_fds_few_fds(void **state)
{
	struct vfio_user_region_io_fds io;
	struct raw_server s;
	int fd;

	raw_server_start(&s, NULL, NULL);
	fd = raw_connect(&s);
	do_version_caps(fd, "{\"capabilities\":{\"max_msg_fds\":2}}");
	assert_int_equal(io_fds(fd, 0, 4096), 0);
	memcpy(&io, rm.p, 16);
	assert_int_equal(io.count, 0);
	assert_int_equal(io.argsz, 16);
	assert_int_equal(rm.nfds, 0);
	close(fd);
	assert_int_equal(raw_server_stop(&s), 0);
}

static void test_feature_and_migration(void **state)
{
	struct raw_server s;
	uint8_t f[8 + 16];
	uint8_t stream[32 * 1024];
	size_t total;
	uint32_t argsz, flags, st;
	uint64_t v, got;
	int fd;

	raw_server_start(&s, NULL, NULL);
	fd = raw_connect(&s);
	do_version(fd);

	/* test feature: SET then GET, and PROBE */
	argsz = 16;
	flags = VFIO_DEVICE_FEATURE_SET | TESTDEV_FEATURE;
	v = 0xfeed;
	memcpy(f, &argsz, 4);
	memcpy(f + 4, &flags, 4);
	memcpy(f + 8, &v, 8);
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_FEATURE, f, 16, NULL, 0), 0);
	flags = VFIO_DEVICE_FEATURE_GET | TESTDEV_FEATURE;
	memcpy(f + 4, &flags, 4);
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_FEATURE, f, 8, NULL, 0), 0);
	assert_int_equal(rm.len, 16);
	assert_int_equal(*(uint32_t *)rm.p, 16);
	memcpy(&got, rm.p + 8, 8);
	assert_int_equal(got, 0xfeed);
	flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET | TESTDEV_FEATURE;
	memcpy(f + 4, &flags, 4);
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_FEATURE, f, 8, NULL, 0), 0);
	/* GET reply capped by the request's argsz: too small -> error */
	argsz = 12;
	flags = VFIO_DEVICE_FEATURE_GET | TESTDEV_FEATURE;
	memcpy(f, &argsz, 4);
	memcpy(f + 4, &flags, 4);
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_FEATURE, f, 8, NULL, 0), EINVAL);
	/* migration capability */
	argsz = 16;
	flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION;
	memcpy(f, &argsz, 4);
	memcpy(f + 4, &flags, 4);
	assert_int_equal(xact(fd, VFIO_USER_DEVICE_FEATURE, f, 8, NULL, 0), 0);
	memcpy(&got, rm.p + 8, 8);
	assert_int_equal(got, VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY);

	/* pre-copy: RUNNING -> PRE_COPY streams while running (the header comes
	 * first; without a state region nothing else), then back */
	assert_int_equal(mig_set_state(fd, UVFIO_MIG_PRE_COPY), 0);
	assert_int_equal(mig_read(fd, 16), 0);
	memcpy(&st, rm.p + 4, 4);
	assert_int_equal(st, 16);
	memcpy(&st, rm.p + 8, 4);
	assert_int_equal(st, UVFIO_MIG_MAGIC);
	assert_int_equal(mig_read(fd, 4096), 0); /* short: the round's end */
	memcpy(&st, rm.p + 4, 4);
	assert_int_equal(st, UVFIO_MIG_HDR_SIZE - 16);
	assert_int_equal(mig_set_state(fd, UVFIO_MIG_RUNNING), 0);
	assert_int_not_equal(mig_read(fd, 16), 0); /* not while RUNNING */

	/* save: scratch = 0x5a5a, RUNNING -> STOP_COPY, read the stream to its end */
	v = 0x5a5a;
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_SCRATCH, &v, 8, 0), 0);
	assert_int_equal(mig_set_state(fd, UVFIO_MIG_STOP_COPY), 0);
	total = 0;
	do {
		assert_int_equal(mig_read(fd, 4096), 0);
		memcpy(&st, rm.p + 4, 4);
		assert_true(st <= 4096 && total + st <= sizeof(stream));
		memcpy(stream + total, rm.p + 8, st);
		total += st;
	} while (st);
	assert_true(total > TESTDEV_REGS_SIZE);

	/* change scratch, then load the saved stream in pieces: scratch is back */
	assert_int_equal(mig_set_state(fd, UVFIO_MIG_STOP), 0);
	assert_int_equal(mig_set_state(fd, UVFIO_MIG_RUNNING), 0);
	v = 0x7777;
	assert_int_equal(region_write(fd, 0, TESTDEV_REG_SCRATCH, &v, 8, 0), 0);
	assert_int_equal(mig_set_state(fd, UVFIO_MIG_STOP), 0);
	assert_int_equal(mig_set_state(fd, UVFIO_MIG_RESUMING), 0);
	for (size_t off = 0; off < total; off += 100)
		assert_int_equal(mig_write(fd, stream + off,
					   (uint32_t)(total - off < 100 ? total - off : 100)), 0);
	assert_int_equal(mig_set_state(fd, UVFIO_MIG_STOP), 0);
	assert_int_equal(mig_set_state(fd, UVFIO_MIG_RUNNING), 0);
	assert_int_equal(region_read(fd, 0, TESTDEV_REG_SCRATCH, 8), 0);
	memcpy(&got, rm.p + 16, 8);
	assert_int_equal(got, 0x5a5a);

	/* a stream with a bad magic is refused, the device ends in ERROR */
	stream[0] ^= 0xff;
	assert_int_equal(mig_set_state(fd, UVFIO_MIG_RESUMING), 0);
	assert_int_equal(mig_write(fd, stream, 100), EINVAL);
	assert_int_equal(mig_set_state(fd, UVFIO_MIG_STOP), EINVAL);
	close(fd);
	assert_int_equal(raw_server_stop(&s), 0);
}

/* fd-backed DMA: map a memfd, let the DMA engine copy inside it. */
static void test_dma_fd(void **state)
{
	struct raw_server s;
	uint8_t *mem;
	int fd, mfd;
	uint64_t st;

	raw_server_start(&s, NULL, NULL);
	fd = raw_connect(&s);
	do_version(fd);
	mfd = memfd_create("client-ram", MFD_CLOEXEC);
	assert_int_equal(ftruncate(mfd, 0x4000), 0);
	mem = mmap(NULL, 0x4000, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	assert_true(mem != MAP_FAILED);
	memset(mem, 0x11, 0x1000);
	memset(mem + 0x2000, 0, 0x1000);
	assert_int_equal(dma_map(fd, 0x100000, 0x4000, 0, mfd), 0);
	close(mfd); /* the server holds its own */
	assert_int_equal(dma_copy(fd, 0x100000, 0x102000, 0x1000, NULL), 0);
	assert_int_equal(region_read(fd, 0, TESTDEV_REG_DMA_STATUS, 8), 0);
	memcpy(&st, rm.p + 16, 8);
	assert_int_equal(st, 0);
	assert_int_equal(mem[0x2000], 0x11);
	assert_int_equal(mem[0x2fff], 0x11);
	/* unmap exact; the engine then faults */
	assert_int_equal(dma_unmap(fd, 0x100000, 0x4000, 0), 0);
	assert_int_equal(dma_copy(fd, 0x100000, 0x102000, 0x1000, NULL), 0);
	assert_int_equal(region_read(fd, 0, TESTDEV_REG_DMA_STATUS, 8), 0);
	memcpy(&st, rm.p + 16, 8);
	assert_int_equal(st, EFAULT);
	/* unmap-all (flag bit 1, addr = size = 0) */
	mfd = memfd_create("client-ram2", MFD_CLOEXEC);
	assert_int_equal(ftruncate(mfd, 0x1000), 0);
	assert_int_equal(dma_map(fd, 0x200000, 0x1000, 0, mfd), 0);
	close(mfd);
	assert_int_equal(dma_unmap(fd, 0, 0, VFIO_USER_F_DMA_UNMAP_ALL), 0);
	assert_int_equal(dma_unmap(fd, 0x200000, 0x1000, 0), ENOENT);
	munmap(mem, 0x4000);
	close(fd);
	assert_int_equal(raw_server_stop(&s), 0);
}

/*
 * Message-based DMA: windows mapped without fd. The copy makes the server
 * send DMA_READ then DMA_WRITE; a GET_INFO sent meanwhile is answered only
 * after the REGION_WRITE that started the copy (strict order).
 */
static void test_dma_messages(void **state)
{
	struct raw_server s;
	static uint8_t ram[0x40000];
	struct dma_served sv = { .ram = ram, .base = 0x400000, .size = sizeof(ram) };
	int fd;
	uint64_t st;

	raw_server_start(&s, NULL, NULL);
	fd = raw_connect(&s);
	do_version_caps(fd, "{\"capabilities\":{\"max_data_xfer_size\":4096}}");
	for (size_t i = 0; i < 0x10000; i++)
		ram[i] = (uint8_t)(i * 7);
	assert_int_equal(dma_map(fd, 0x400000, sizeof(ram), 0, -1), 0);
	sv.pipeline_get_info = true;
	assert_int_equal(dma_copy(fd, 0x400000, 0x420000, 0x10000, &sv), 0);
	/* chunked by the client's max_data_xfer_size: 16 reads, 16 writes */
	assert_int_equal(sv.reads, 16);
	assert_int_equal(sv.writes, 16);
	assert_true(sv.max_chunk <= 4096);
	assert_true(sv.get_info_after_write);
	assert_memory_equal(ram + 0x20000, ram, 0x10000);
	assert_int_equal(region_read(fd, 0, TESTDEV_REG_DMA_STATUS, 8), 0);
	memcpy(&st, rm.p + 16, 8);
	assert_int_equal(st, 0);

	/* the client answers DMA_READ with an error: the engine reports it */
	sv.fail_reads = EIO;
	sv.pipeline_get_info = false;
	assert_int_equal(dma_copy(fd, 0x400000, 0x420000, 0x100, &sv), 0);
	assert_int_equal(region_read(fd, 0, TESTDEV_REG_DMA_STATUS, 8), 0);
	memcpy(&st, rm.p + 16, 8);
	assert_int_equal(st, EIO);
	close(fd);
	assert_int_equal(raw_server_stop(&s), 0);
}

/* A QEMU-like client (u32-count DMA layout, §4.1): the server follows it. */
static void test_dma_messages_qemu_layout(void **state)
{
	struct raw_server s;
	static uint8_t ram[0x10000];
	struct dma_served sv = { .ram = ram, .base = 0x800000, .size = sizeof(ram),
				 .narrow = true };
	int fd;
	uint64_t st;

	raw_server_start(&s, NULL, NULL);
	fd = raw_connect(&s);
	do_version(fd);
	for (size_t i = 0; i < 0x2000; i++)
		ram[i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(dma_map(fd, 0x800000, sizeof(ram), 0, -1), 0);
	assert_int_equal(dma_copy(fd, 0x800000, 0x808000, 0x2000, &sv), 0);
	assert_int_equal(region_read(fd, 0, TESTDEV_REG_DMA_STATUS, 8), 0);
	memcpy(&st, rm.p + 16, 8);
	assert_int_equal(st, 0);
	assert_int_equal(sv.reads, 1);
	assert_int_equal(sv.narrow_writes, 1);
	assert_memory_equal(ram + 0x8000, ram, 0x2000);
	close(fd);
	assert_int_equal(raw_server_stop(&s), 0);
}

/*
 * A device whose first message DMA is a write: the server first learns the
 * client's layout with a zero-length DMA_READ, then writes in that layout.
 */
static void fill_first(bool narrow)
{
	struct raw_server s;
	static uint8_t ram[0x4000];
	struct dma_served sv = { .ram = ram, .base = 0x800000, .size = sizeof(ram),
				 .narrow = narrow };
	int fd;
	uint64_t st;

	raw_server_start(&s, NULL, NULL);
	fd = raw_connect(&s);
	do_version(fd);
	memset(ram, 0, sizeof(ram));
	assert_int_equal(dma_map(fd, 0x800000, sizeof(ram), 0, -1), 0);
	assert_int_equal(dma_run(fd, TESTDEV_DMA_FILL, 0xa5, 0x801000, 0x1000, &sv), 0);
	assert_int_equal(region_read(fd, 0, TESTDEV_REG_DMA_STATUS, 8), 0);
	memcpy(&st, rm.p + 16, 8);
	assert_int_equal(st, 0);
	assert_int_equal(sv.reads, 1); /* the probe */
	assert_int_equal(sv.writes, 1);
	assert_int_equal(sv.narrow_writes, narrow ? 1 : 0);
	assert_int_equal(ram[0x1000], 0xa5);
	assert_int_equal(ram[0x1fff], 0xa5);
	assert_int_equal(ram[0x0fff], 0);
	assert_int_equal(ram[0x2000], 0);
	/* the layout is known now: no second probe */
	assert_int_equal(dma_run(fd, TESTDEV_DMA_FILL, 0x5a, 0x802000, 0x10, &sv), 0);
	assert_int_equal(sv.reads, 1);
	assert_int_equal(ram[0x2000], 0x5a);
	close(fd);
	assert_int_equal(raw_server_stop(&s), 0);
}

static void test_dma_write_first_probe(void **state)
{
	fill_first(false);
}

static void test_dma_write_first_probe_qemu(void **state)
{
	fill_first(true);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_and_info),
		cmocka_unit_test(test_version_minor_and_no_json),
		cmocka_unit_test(test_region_info),
		cmocka_unit_test(test_region_info_no_fds),
		cmocka_unit_test(test_region_rw_multi_noreply),
		cmocka_unit_test(test_set_irqs),
		cmocka_unit_test(test_region_io_fds),
		cmocka_unit_test(test_region_io_fds_few_fds),
		cmocka_unit_test(test_feature_and_migration),
		cmocka_unit_test(test_dma_fd),
		cmocka_unit_test(test_dma_messages),
		cmocka_unit_test(test_dma_messages_qemu_layout),
		cmocka_unit_test(test_dma_write_first_probe),
		cmocka_unit_test(test_dma_write_first_probe_qemu),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s SERVER_EXE | UVFIO_EXE serve\n", argv[0]);
		return 2;
	}
	server_exe = argv[1];
	serve_mode = argc > 2 && !strcmp(argv[2], "serve");
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
