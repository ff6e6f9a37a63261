/* SPDX-License-Identifier: MIT */
/*
 * What the client makes of the server's answers: region info and its caps,
 * the server's capability limits, and the message-based DMA windows that
 * decide which client bytes a server request may touch.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/vfio_compat.h"
#include "user/client_vfio_user.h"
#include "user/client_windows.h"
#include <uvfio/dma.h>

/* A region-info reply as bytes: struct, sparse cap, type cap. */
static size_t build_info(uint8_t *buf, uint64_t size, uint32_t flags,
			 const struct vfio_user_sparse_area *areas, uint32_t n,
			 bool type)
{
	struct vfio_user_region_info ri = {
		.flags = flags | VFIO_USER_F_REGION_CAPS, .index = 2, .size = size,
		.offset = 0x10000, .cap_offset = sizeof(ri),
	};
	struct vfio_user_cap_sparse_mmap sp = {
		.header = { .id = VFIO_USER_CAP_SPARSE_MMAP, .version = 1 },
		.nr_areas = n,
	};
	struct vfio_user_cap_type ty = {
		.header = { .id = VFIO_USER_CAP_TYPE, .version = 1 }, .type = 3, .subtype = 7,
	};
	size_t off = sizeof(ri);

	sp.header.next = type ? (uint32_t)(off + sizeof(sp) + n * sizeof(*areas)) : 0;
	memcpy(buf + off, &sp, sizeof(sp));
	off += sizeof(sp);
	if (n)
		memcpy(buf + off, areas, n * sizeof(*areas));
	off += n * sizeof(*areas);
	if (type) {
		memcpy(buf + off, &ty, sizeof(ty));
		off += sizeof(ty);
	}
	ri.argsz = (uint32_t)off;
	memcpy(buf, &ri, sizeof(ri));
	return off;
}

static int parse(const uint8_t *buf, size_t len, int fd, struct uvfio_region *out)
{
	struct vfio_user_region_info ri;
	struct vu_region_caps caps;
	int rc = vu_region_info_rep_parse(buf, len, &ri, &caps);

	return rc ? rc : uvfio_client_vu_region(&ri, &caps, fd, out);
}

static void test_region_sparse_and_type(void **state)
{
	struct vfio_user_sparse_area a[2] = { { 0, 0x1000 }, { 0x3000, 0x1000 } };
	uint8_t buf[512];
	struct uvfio_region r;
	size_t len = build_info(buf, 0x4000, VFIO_USER_F_REGION_READ | VFIO_USER_F_REGION_MMAP,
				a, 2, true);

	assert_int_equal(parse(buf, len, 42, &r), 0);
	assert_int_equal(r.size, 0x4000);
	assert_int_equal(r.offset, 0x10000);
	assert_true(r.flags & VFIO_REGION_INFO_FLAG_MMAP);
	assert_int_equal(r.mmap_fd, 42);
	assert_int_equal(r.nr_areas, 2);
	assert_int_equal(r.areas[1].offset, 0x3000);
	assert_int_equal(r.areas[1].size, 0x1000);
	assert_true(r.has_type);
	assert_int_equal(r.type, 3);
	assert_int_equal(r.subtype, 7);
}

/* An area reaching past the region end, or wrapping, is refused. */
static void test_region_area_out_of_bounds(void **state)
{
	struct vfio_user_sparse_area past[1] = { { 0x3000, 0x2000 } };
	struct vfio_user_sparse_area wrap[1] = { { 0x1000, UINT64_MAX - 0x800 } };
	uint8_t buf[512];
	struct uvfio_region r;
	size_t len;

	len = build_info(buf, 0x4000, VFIO_USER_F_REGION_MMAP, past, 1, false);
	assert_int_equal(parse(buf, len, -1, &r), -EPROTO);
	len = build_info(buf, 0x4000, VFIO_USER_F_REGION_MMAP, wrap, 1, false);
	assert_int_equal(parse(buf, len, -1, &r), -EPROTO);
}

/* A sparse cap with no (or only empty) areas: nothing is mappable, and a
 * region fd is not taken. */
static void test_region_sparse_empty(void **state)
{
	struct vfio_user_sparse_area empty[1] = { { 0x1000, 0 } };
	uint8_t buf[512];
	struct uvfio_region r;
	size_t len;

	len = build_info(buf, 0x4000, VFIO_USER_F_REGION_MMAP, NULL, 0, false);
	assert_int_equal(parse(buf, len, 9, &r), 0);
	assert_false(r.flags & VFIO_REGION_INFO_FLAG_MMAP);
	assert_int_equal(r.mmap_fd, -1);
	len = build_info(buf, 0x4000, VFIO_USER_F_REGION_MMAP, empty, 1, false);
	assert_int_equal(parse(buf, len, 9, &r), 0);
	assert_int_equal(r.nr_areas, 0);
	assert_int_equal(r.mmap_fd, -1);
}

/* A cap chain pointing outside the reply is the codec's to refuse. */
static void test_region_truncated_caps(void **state)
{
	struct vfio_user_sparse_area a[2] = { { 0, 0x1000 }, { 0x3000, 0x1000 } };
	uint8_t buf[512];
	struct uvfio_region r;
	size_t len = build_info(buf, 0x4000, VFIO_USER_F_REGION_MMAP, a, 2, true);

	assert_int_equal(parse(buf, len - 4, -1, &r), -EINVAL);
	assert_int_equal(parse(buf, 40, -1, &r), -EINVAL);
}

/* Without a sparse cap, a mappable region is mappable whole; no MMAP flag:
 * the fd is not taken. */
static void test_region_plain(void **state)
{
	struct vfio_user_region_info ri = {
		.argsz = sizeof(ri), .flags = VFIO_USER_F_REGION_READ | VFIO_USER_F_REGION_WRITE,
		.size = 256,
	};
	struct vu_region_caps caps = { 0 };
	struct uvfio_region r;

	assert_int_equal(uvfio_client_vu_region(&ri, &caps, 5, &r), 0);
	assert_int_equal(r.mmap_fd, -1);
	assert_int_equal(r.nr_areas, 0);
	ri.flags |= VFIO_USER_F_REGION_MMAP;
	assert_int_equal(uvfio_client_vu_region(&ri, &caps, 5, &r), 0);
	assert_int_equal(r.mmap_fd, 5);
	ri.offset = UINT64_MAX - 16; /* offset + size wraps */
	assert_int_equal(uvfio_client_vu_region(&ri, &caps, 5, &r), -EPROTO);
}

static void test_limits(void **state)
{
	struct vu_caps caps;
	uint32_t xfer, fds, msg;

	vu_caps_defaults(&caps);
	assert_int_equal(uvfio_client_vu_limits(&caps, &xfer, &fds, &msg), 0);
	assert_int_equal(xfer, 1u << 20);
	assert_int_equal(fds, 1);
	assert_true(msg >= (1u << 20) + 16 + 16);
	/* Far too generous a server: we still send at most 64 MiB, 253 fds. */
	caps.max_data_xfer_size = UINT32_MAX;
	caps.max_msg_fds = 100000;
	assert_int_equal(uvfio_client_vu_limits(&caps, &xfer, &fds, &msg), 0);
	assert_int_equal(xfer, 64u << 20);
	assert_int_equal(fds, 253);
	/* A stingy one: small chunks, but we still accept our own 1 MiB requests. */
	caps.max_data_xfer_size = 4096;
	caps.max_msg_fds = 0;
	assert_int_equal(uvfio_client_vu_limits(&caps, &xfer, &fds, &msg), 0);
	assert_int_equal(xfer, 4096);
	assert_int_equal(fds, 0);
	assert_true(msg >= (1u << 20) + 32);
	caps.max_data_xfer_size = 0;
	assert_int_equal(uvfio_client_vu_limits(&caps, &xfer, &fds, &msg), -EPROTO);
}

static void test_windows(void **state)
{
	static uint8_t mem_a[0x2000], mem_b[0x1000];
	struct uvfio_client_windows ws;
	struct uvfio_client_window a = { 0x10000, 0x2000, mem_a, UVFIO_DMA_READ | UVFIO_DMA_WRITE };
	struct uvfio_client_window b = { 0x20000, 0x1000, mem_b, UVFIO_DMA_READ };
	struct uvfio_client_window c = { 0x11000, 0x1000, mem_b, UVFIO_DMA_READ };

	uvfio_client_windows_init(&ws, 2);
	assert_int_equal(uvfio_client_windows_add(&ws, &b), 0);
	assert_int_equal(uvfio_client_windows_add(&ws, &a), 0);
	assert_int_equal(uvfio_client_windows_add(&ws, &c), -EEXIST);
	c.iova = 0x30000;
	assert_int_equal(uvfio_client_windows_add(&ws, &c), -ENOSPC);

	/* Inside: the right host address. */
	assert_ptr_equal(uvfio_client_windows_find(&ws, 0x10000, 0x2000, UVFIO_DMA_READ), mem_a);
	assert_ptr_equal(uvfio_client_windows_find(&ws, 0x11ffc, 4, UVFIO_DMA_WRITE),
			 mem_a + 0x1ffc);
	assert_ptr_equal(uvfio_client_windows_find(&ws, 0x20010, 16, UVFIO_DMA_READ), mem_b + 0x10);
	/* One byte past the end, before the start, in a hole, wrapping. */
	assert_null(uvfio_client_windows_find(&ws, 0x11ffc, 5, UVFIO_DMA_READ));
	assert_null(uvfio_client_windows_find(&ws, 0xfffc, 8, UVFIO_DMA_READ));
	assert_null(uvfio_client_windows_find(&ws, 0x18000, 4, UVFIO_DMA_READ));
	assert_null(uvfio_client_windows_find(&ws, UINT64_MAX - 2, 8, UVFIO_DMA_READ));
	assert_null(uvfio_client_windows_find(&ws, 0x10000, 0, UVFIO_DMA_READ));
	/* Across two adjacent-ish windows is not one window. */
	assert_null(uvfio_client_windows_find(&ws, 0x11000, 0x10000, UVFIO_DMA_READ));
	/* The device may not write a read-only window. */
	assert_null(uvfio_client_windows_find(&ws, 0x20000, 4, UVFIO_DMA_WRITE));

	/* Unmap is exact. */
	assert_int_equal(uvfio_client_windows_remove(&ws, 0x10000, 0x1000), -ENOENT);
	assert_int_equal(uvfio_client_windows_remove(&ws, 0x10000, 0x2000), 0);
	assert_null(uvfio_client_windows_find(&ws, 0x10000, 4, UVFIO_DMA_READ));
	assert_non_null(uvfio_client_windows_find(&ws, 0x20000, 4, UVFIO_DMA_READ));
	uvfio_client_windows_clear(&ws);
	assert_null(uvfio_client_windows_find(&ws, 0x20000, 4, UVFIO_DMA_READ));
	/* A window that wraps the address space cannot be added. */
	c.iova = UINT64_MAX - 0xfff;
	c.size = 0x2000;
	assert_int_equal(uvfio_client_windows_add(&ws, &c), -EINVAL);
	uvfio_client_windows_fini(&ws);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_region_sparse_and_type),
		cmocka_unit_test(test_region_area_out_of_bounds),
		cmocka_unit_test(test_region_sparse_empty),
		cmocka_unit_test(test_region_truncated_caps),
		cmocka_unit_test(test_region_plain),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_windows),
	};

	return cmocka_run_group_tests_name("user/client caps", tests, NULL, NULL);
}
