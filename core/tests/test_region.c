/* SPDX-License-Identifier: MIT */
/* Region table, region info with caps and the argsz retry, access checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/device_internal.h"

struct backing {
	uint8_t mem[0x100];
	int reads, writes;
};

static ssize_t t_read(struct uvfio_device *dev, uint32_t index, uint64_t pos,
		      void *buf, size_t count)
{
	struct backing *b = uvfio_device_priv(dev);

	b->reads++;
	memcpy(buf, b->mem + pos, count);
	return (ssize_t)count;
}

static ssize_t t_write(struct uvfio_device *dev, uint32_t index, uint64_t pos,
		       const void *buf, size_t count)
{
	struct backing *b = uvfio_device_priv(dev);

	b->writes++;
	memcpy(b->mem + pos, buf, count);
	return (ssize_t)count;
}

static const struct uvfio_device_ops ops = { .read = t_read, .write = t_write };
static const struct uvfio_device_ops ops_none;

static struct backing backing;

static int setup(void **state)
{
	struct uvfio_device *dev = uvfio_device_create("region", &ops, &backing);
	struct uvfio_region r0 = {
		.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
		.size = 0x100, .offset = 0x1000, .mmap_fd = -1,
	};
	struct uvfio_region r1 = {
		.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_MMAP,
		.size = 0x4000, .offset = 1ull << 40, .mmap_fd = -1,
		.nr_areas = 2, .areas = { { 0, 0x1000 }, { 0x3000, 0x1000 } },
		.has_type = true, .type = 0x80008086, .subtype = 3,
	};
	struct uvfio_region r2 = {
		.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_MMAP,
		.size = 0x1000, .offset = 2ull << 40, .mmap_fd = -1,
		.has_type = true, .type = 1, .subtype = 1,
	};

	memset(&backing, 0, sizeof(backing));
	assert_non_null(dev);
	assert_int_equal(uvfio_device_set_num_regions(dev, 4), 0);
	assert_int_equal(uvfio_device_set_region(dev, 0, &r0), 0);
	assert_int_equal(uvfio_device_set_region(dev, 1, &r1), 0);
	assert_int_equal(uvfio_device_set_region(dev, 2, &r2), 0);
	*state = dev;
	return 0;
}

static int teardown(void **state)
{
	uvfio_device_destroy(*state);
	return 0;
}

static void test_table(void **state)
{
	struct uvfio_device *dev = *state;
	struct uvfio_region bad = { .flags = VFIO_REGION_INFO_FLAG_MMAP, .size = 0x1000,
				    .nr_areas = 1, .areas = { { 0x800, 0x1000 } } };

	assert_int_equal(uvfio_device_num_regions(dev), 4);
	assert_non_null(uvfio_device_region(dev, 3));
	assert_int_equal(uvfio_device_region(dev, 3)->size, 0);
	assert_int_equal(uvfio_device_region(dev, 3)->mmap_fd, -1);
	assert_null(uvfio_device_region(dev, 4));
	/* Sparse area past the end of the region. */
	assert_int_equal(uvfio_device_set_region(dev, 3, &bad), -EINVAL);
	bad.areas[0].offset = UINT64_MAX - 1; /* offset + size wraps */
	assert_int_equal(uvfio_device_set_region(dev, 3, &bad), -EINVAL);
	bad.areas[0].offset = 0;
	bad.nr_areas = UVFIO_MAX_MMAP_AREAS + 1;
	assert_int_equal(uvfio_device_set_region(dev, 3, &bad), -EINVAL);
	bad.nr_areas = 1;
	bad.flags |= VFIO_REGION_INFO_FLAG_CAPS; /* the core's to set */
	assert_int_equal(uvfio_device_set_region(dev, 3, &bad), -EINVAL);
	bad.flags = VFIO_REGION_INFO_FLAG_READ; /* areas without MMAP */
	assert_int_equal(uvfio_device_set_region(dev, 3, &bad), -EINVAL);
	bad.flags = VFIO_REGION_INFO_FLAG_MMAP;
	assert_int_equal(uvfio_device_set_region(dev, 4, &bad), -EINVAL);
	assert_int_equal(uvfio_device_set_region(dev, 3, &bad), 0);
}

static int info(struct uvfio_device *dev, uint8_t *buf, size_t buflen,
		uint32_t argsz, uint32_t index)
{
	struct vfio_region_info ri = { .argsz = argsz, .index = index };

	memset(buf, 0xee, buflen);
	memcpy(buf, &ri, sizeof(ri));
	return uvfio_device_region_info(dev, buf, buflen);
}

static void test_info_basic(void **state)
{
	struct uvfio_device *dev = *state;
	uint8_t buf[256];
	struct vfio_region_info ri;

	assert_int_equal(info(dev, buf, sizeof(buf), 31, 0), -EINVAL);
	assert_int_equal(info(dev, buf, sizeof(buf), 32, 4), -EINVAL);
	assert_int_equal(info(dev, buf, sizeof(buf), 32, UINT32_MAX), -EINVAL);
	/* argsz bigger than the buffer given. */
	assert_int_equal(info(dev, buf, 40, 64, 0), -EINVAL);

	assert_int_equal(info(dev, buf, sizeof(buf), 64, 0), 0);
	memcpy(&ri, buf, sizeof(ri));
	assert_int_equal(ri.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
	assert_int_equal(ri.size, 0x100);
	assert_int_equal(ri.offset, 0x1000);
	assert_int_equal(ri.cap_offset, 0);
	assert_int_equal(ri.argsz, 64); /* no caps: argsz untouched */
	assert_int_equal(buf[32], 0xee); /* nothing written after the struct */
}

static void test_info_caps_retry(void **state)
{
	struct uvfio_device *dev = *state;
	const uint32_t need = 32 + (16 + 2 * 16) + 16;
	struct vfio_region_info_cap_sparse_mmap sp;
	struct vfio_region_sparse_mmap_area area;
	struct vfio_region_info_cap_type ty;
	struct vfio_region_info ri;
	uint8_t buf[256];

	/* Too small for the caps: argsz raised, CAPS set, cap_offset 0. */
	assert_int_equal(info(dev, buf, sizeof(buf), 32, 1), 0);
	memcpy(&ri, buf, sizeof(ri));
	assert_int_equal(ri.argsz, need);
	assert_int_equal(ri.cap_offset, 0);
	assert_true(ri.flags & VFIO_REGION_INFO_FLAG_CAPS);
	assert_int_equal(ri.size, 0x4000);
	assert_true(ri.offset == 1ull << 40);
	assert_int_equal(buf[32], 0xee);
	/* One byte short is still too small. */
	assert_int_equal(info(dev, buf, sizeof(buf), need - 1, 1), 0);
	memcpy(&ri, buf, sizeof(ri));
	assert_int_equal(ri.argsz, need);
	assert_int_equal(ri.cap_offset, 0);

	/* Retry with the size asked for: the chain follows the struct. */
	assert_int_equal(info(dev, buf, sizeof(buf), need, 1), 0);
	memcpy(&ri, buf, sizeof(ri));
	assert_int_equal(ri.argsz, need);
	assert_int_equal(ri.cap_offset, 32);
	assert_int_equal(ri.flags, VFIO_REGION_INFO_FLAG_READ |
			 VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS);
	memcpy(&sp, buf + 32, sizeof(sp));
	assert_int_equal(sp.header.id, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
	assert_int_equal(sp.header.version, 1);
	assert_int_equal(sp.nr_areas, 2);
	memcpy(&area, buf + 32 + sizeof(sp) + sizeof(area), sizeof(area));
	assert_int_equal(area.offset, 0x3000);
	assert_int_equal(area.size, 0x1000);
	assert_int_equal(sp.header.next, 32 + 16 + 2 * 16);
	memcpy(&ty, buf + sp.header.next, sizeof(ty));
	assert_int_equal(ty.header.id, VFIO_REGION_INFO_CAP_TYPE);
	assert_int_equal(ty.header.next, 0);
	assert_int_equal(ty.type, 0x80008086);
	assert_int_equal(ty.subtype, 3);

	/* MMAP without sparse areas: only the TYPE cap. */
	assert_int_equal(info(dev, buf, sizeof(buf), 32, 2), 0);
	memcpy(&ri, buf, sizeof(ri));
	assert_int_equal(ri.argsz, 48);
	assert_int_equal(info(dev, buf, sizeof(buf), 48, 2), 0);
	memcpy(&ri, buf, sizeof(ri));
	assert_int_equal(ri.cap_offset, 32);
	memcpy(&ty, buf + 32, sizeof(ty));
	assert_int_equal(ty.header.id, VFIO_REGION_INFO_CAP_TYPE);
	assert_int_equal(ty.header.next, 0);
	assert_int_equal(ty.type, 1);
}

static void test_access(void **state)
{
	struct uvfio_device *dev = *state;
	uint32_t v = 0xdeadbeef, got = 0;

	assert_int_equal(uvfio_device_write(dev, 0, 0x10, &v, 4), 4);
	assert_int_equal(uvfio_device_read(dev, 0, 0x10, &got, 4), 4);
	assert_int_equal(got, 0xdeadbeef);
	/* Last bytes of the region are fine, one more is not. */
	assert_int_equal(uvfio_device_read(dev, 0, 0xfc, &got, 4), 4);
	assert_int_equal(uvfio_device_read(dev, 0, 0xfd, &got, 4), -EINVAL);
	assert_int_equal(uvfio_device_write(dev, 0, 0x100, &v, 1), -EINVAL);
	assert_int_equal(uvfio_device_read(dev, 0, UINT64_MAX - 1, &got, 4), -EINVAL);
	/* Index and flag checks. */
	assert_int_equal(uvfio_device_read(dev, 4, 0, &got, 4), -EINVAL);
	assert_int_equal(uvfio_device_read(dev, 3, 0, &got, 0), -EINVAL);
	assert_int_equal(uvfio_device_write(dev, 1, 0, &v, 4), -EINVAL);
	assert_int_equal(uvfio_device_read(dev, 1, 0, &got, 4), 4);

	int reads = backing.reads, writes = backing.writes;

	assert_int_equal(uvfio_device_read(dev, 0, 0, &got, 0), 0);
	assert_int_equal(backing.reads, reads);
	assert_int_equal(backing.writes, writes);
	/* None of the refused accesses reached the op. */
	assert_int_equal(backing.reads, 3);
	assert_int_equal(backing.writes, 1);
}

static void test_no_ops(void **state)
{
	struct uvfio_device *dev = uvfio_device_create("noops", &ops_none, NULL);
	struct uvfio_region r = { .flags = VFIO_REGION_INFO_FLAG_READ |
					   VFIO_REGION_INFO_FLAG_WRITE, .size = 16 };
	uint8_t b[4] = { 0 };

	assert_int_equal(uvfio_device_set_num_regions(dev, 1), 0);
	assert_int_equal(uvfio_device_set_region(dev, 0, &r), 0);
	assert_int_equal(uvfio_device_read(dev, 0, 0, b, 4), -EINVAL);
	assert_int_equal(uvfio_device_write(dev, 0, 0, b, 4), -EINVAL);
	uvfio_device_destroy(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_info_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_info_caps_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access, setup, teardown),
		cmocka_unit_test(test_no_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
