/* SPDX-License-Identifier: MIT */
/*
 * Capability chains on hand-built buffers: what the kernel writes for
 * VFIO_IOMMU_GET_INFO and GET_REGION_INFO, and corrupt variants (truncated
 * arrays, loops, headers outside the buffer) that must be errors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/kvfio.h"

/* A type1 info buffer: header, DMA_AVAIL at 24, IOVA_RANGE at 40. */
struct iommu_buf {
	struct vfio_iommu_type1_info info;		  /* 0..24 */
	struct vfio_iommu_type1_info_dma_avail avail;	  /* 24..36 */
	uint32_t pad;					  /* 36..40 */
	struct vfio_iommu_type1_info_cap_iova_range rng;  /* 40..56 */
	struct vfio_iova_range r[2];			  /* 56..88 */
};

static void build_iommu(struct iommu_buf *b)
{
	memset(b, 0, sizeof(*b));
	b->info.argsz = sizeof(*b);
	b->info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	b->info.iova_pgsizes = 0x40201000; /* 4K | 2M | 1G */
	b->info.cap_offset = offsetof(struct iommu_buf, avail);
	b->avail.header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
	b->avail.header.version = 1;
	b->avail.header.next = offsetof(struct iommu_buf, rng);
	b->avail.avail = 65000;
	b->rng.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	b->rng.header.version = 1;
	b->rng.nr_iovas = 2;
	b->r[0] = (struct vfio_iova_range){ 0, 0xfedfffff };
	b->r[1] = (struct vfio_iova_range){ 0xfef00000, 0xffffffffffffull };
}

static void test_iommu_info(void **state)
{
	struct kvfio_iommu_info info;
	struct iommu_buf b;

	build_iommu(&b);
	assert_int_equal(kvfio_parse_iommu_info(&b, sizeof(b), &info), 0);
	assert_int_equal(info.pgsizes, 0x40201000);
	assert_true(info.has_dma_avail);
	assert_int_equal(info.dma_avail, 65000);
	assert_int_equal(info.nr_ranges, 2);
	assert_int_equal(info.ranges[0].last, 0xfedfffff);
	assert_int_equal(info.ranges[1].start, 0xfef00000);
	assert_int_equal(info.ranges[1].last, 0xffffffffffffull);

	/* Without the CAPS flag the chain is not looked at. */
	b.info.flags = VFIO_IOMMU_INFO_PGSIZES;
	b.info.cap_offset = 3; /* would be invalid */
	assert_int_equal(kvfio_parse_iommu_info(&b, sizeof(b), &info), 0);
	assert_int_equal(info.nr_ranges, 0);
	assert_false(info.has_dma_avail);
	/* Shorter than minsz (16). */
	assert_int_equal(kvfio_parse_iommu_info(&b, 12, &info), -EPROTO);
	(void)state;
}

static void test_iommu_corrupt(void **state)
{
	struct kvfio_iommu_info info;
	struct iommu_buf b;

	/* The range array claims 3 entries, the buffer holds 2. */
	build_iommu(&b);
	b.rng.nr_iovas = 3;
	assert_int_equal(kvfio_parse_iommu_info(&b, sizeof(b), &info), -EPROTO);
	/* Buffer cut inside the second range. */
	build_iommu(&b);
	assert_int_equal(kvfio_parse_iommu_info(&b, sizeof(b) - 8, &info), -EPROTO);
	/* A huge count must not overflow the bounds check. */
	build_iommu(&b);
	b.rng.nr_iovas = 0xffffffffu;
	assert_int_equal(kvfio_parse_iommu_info(&b, sizeof(b), &info), -EPROTO);
	/* next points at itself: a loop. */
	build_iommu(&b);
	b.avail.header.next = offsetof(struct iommu_buf, avail);
	assert_int_equal(kvfio_parse_iommu_info(&b, sizeof(b), &info), -EPROTO);
	/* next points back to the first cap: a longer loop. */
	build_iommu(&b);
	b.rng.header.next = offsetof(struct iommu_buf, avail);
	assert_int_equal(kvfio_parse_iommu_info(&b, sizeof(b), &info), -EPROTO);
	/* next past the end of the buffer. */
	build_iommu(&b);
	b.avail.header.next = sizeof(b) + 64;
	assert_int_equal(kvfio_parse_iommu_info(&b, sizeof(b), &info), -EPROTO);
	/* First cap inside the fixed header. */
	build_iommu(&b);
	b.info.cap_offset = 8;
	assert_int_equal(kvfio_parse_iommu_info(&b, sizeof(b), &info), -EPROTO);
	/* Header that does not fit at the end of the buffer. */
	build_iommu(&b);
	b.info.cap_offset = sizeof(b) - 4;
	assert_int_equal(kvfio_parse_iommu_info(&b, sizeof(b), &info), -EPROTO);
	/* A range with start > end. */
	build_iommu(&b);
	b.r[1].start = b.r[1].end + 1;
	assert_int_equal(kvfio_parse_iommu_info(&b, sizeof(b), &info), -EPROTO);
	/* DMA_AVAIL cap cut short by the next header. */
	build_iommu(&b);
	b.avail.header.next = offsetof(struct iommu_buf, avail) + 10;
	assert_int_equal(kvfio_parse_iommu_info(&b, sizeof(b), &info), -EPROTO);
	(void)state;
}

static int count_cap(void *opaque, uint16_t id, uint16_t v, const uint8_t *c, size_t l)
{
	(void)id; (void)v; (void)c; (void)l;
	++*(int *)opaque;
	return 0;
}

static void test_chain_limit(void **state)
{
	/* 100 empty caps chained forward: more than KVFIO_MAX_CAPS -> error. */
	uint8_t buf[24 + 100 * 8];
	int n = 0;

	memset(buf, 0, sizeof(buf));
	for (int i = 0; i < 100; i++) {
		struct vfio_info_cap_header h = { .id = 99, .version = 1,
			.next = i < 99 ? 24 + (i + 1) * 8 : 0 };
		memcpy(buf + 24 + i * 8, &h, sizeof(h));
	}
	assert_int_equal(kvfio_cap_walk(buf, sizeof(buf), 24, 24, count_cap, &n), -EPROTO);
	assert_int_equal(n, KVFIO_MAX_CAPS);
	(void)state;
}

struct region_buf {
	struct vfio_region_info info;			/* 0..32 */
	struct vfio_region_info_cap_sparse_mmap sp;	/* 32..48 */
	struct vfio_region_sparse_mmap_area a[2];	/* 48..80 */
	struct vfio_region_info_cap_type type;		/* 80..96 */
};

static void build_region(struct region_buf *b)
{
	memset(b, 0, sizeof(*b));
	b->info.argsz = sizeof(*b);
	b->info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS;
	b->info.index = 9;
	b->info.size = 0x10000;
	b->info.offset = 0x90000000000ull; /* reported as is, whatever encoding */
	b->info.cap_offset = offsetof(struct region_buf, sp);
	b->sp.header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	b->sp.header.version = 1;
	b->sp.header.next = offsetof(struct region_buf, type);
	b->sp.nr_areas = 2;
	b->a[0] = (struct vfio_region_sparse_mmap_area){ 0, 0x2000 };
	b->a[1] = (struct vfio_region_sparse_mmap_area){ 0x8000, 0x8000 };
	b->type.header.id = VFIO_REGION_INFO_CAP_TYPE;
	b->type.header.version = 1;
	b->type.type = 1;
	b->type.subtype = 3;
}

static void test_region_info(void **state)
{
	struct uvfio_region r;
	struct region_buf b;

	build_region(&b);
	assert_int_equal(kvfio_parse_region_info(&b, sizeof(b), &r), 0);
	assert_int_equal(r.offset, 0x90000000000ull);
	assert_int_equal(r.size, 0x10000);
	assert_int_equal(r.mmap_fd, -1);
	assert_true(r.flags & VFIO_REGION_INFO_FLAG_MMAP);
	assert_int_equal(r.nr_areas, 2);
	assert_int_equal(r.areas[1].offset, 0x8000);
	assert_int_equal(r.areas[1].size, 0x8000);
	assert_true(r.has_type);
	assert_int_equal(r.type, 1);
	assert_int_equal(r.subtype, 3);

	/* An area beyond the region is corrupt. */
	build_region(&b);
	b.a[1].size = 0x8001;
	assert_int_equal(kvfio_parse_region_info(&b, sizeof(b), &r), -EPROTO);
	/* Area offset + size wrapping. */
	build_region(&b);
	b.a[1].offset = ~0ull;
	assert_int_equal(kvfio_parse_region_info(&b, sizeof(b), &r), -EPROTO);
	/* More areas than the cap holds. */
	build_region(&b);
	b.sp.nr_areas = 3;
	assert_int_equal(kvfio_parse_region_info(&b, sizeof(b), &r), -EPROTO);
	/* A sparse cap without areas: nothing is mappable. */
	build_region(&b);
	b.sp.nr_areas = 0;
	assert_int_equal(kvfio_parse_region_info(&b, sizeof(b), &r), 0);
	assert_false(r.flags & VFIO_REGION_INFO_FLAG_MMAP);
	assert_int_equal(r.nr_areas, 0);
	/* Truncated header. */
	assert_int_equal(kvfio_parse_region_info(&b, 31, &r), -EPROTO);
	(void)state;
}

static void test_iova_check(void **state)
{
	struct kvfio_iommu_info info = { .pgsizes = 0x40201000, .nr_ranges = 2 };
	char msg[512];

	info.ranges[0] = (struct kvfio_iova_range){ 0, 0xfedfffff };
	info.ranges[1] = (struct kvfio_iova_range){ 0xfef00000, 0xffffffffffull };
	assert_int_equal(kvfio_iova_check(&info, 0x100000, 0x1000, msg, sizeof(msg)), 0);
	/* Straddles the reserved hole (the x86 MSI window). */
	assert_int_equal(kvfio_iova_check(&info, 0xfedff000, 0x2000, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "outside the IOMMU's valid ranges"));
	assert_non_null(strstr(msg, "[0, 0xfedfffff]"));
	/* Above the address width. */
	assert_int_equal(kvfio_iova_check(&info, 1ull << 48, 0x1000, msg, sizeof(msg)), -EINVAL);
	/* Smallest page size is 4 KiB. */
	assert_int_equal(kvfio_iova_check(&info, 0x100800, 0x1000, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "not aligned"));
	assert_int_equal(kvfio_iova_check(&info, 0x100000, 0, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(kvfio_iova_check(&info, ~0xfffull, 0x2000, msg, sizeof(msg)), -EOVERFLOW);
	/* No ranges reported: only alignment is checked (as type1 does). */
	info.nr_ranges = 0;
	assert_int_equal(kvfio_iova_check(&info, 1ull << 48, 0x1000, msg, sizeof(msg)), 0);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iommu_info),
		cmocka_unit_test(test_iommu_corrupt),
		cmocka_unit_test(test_chain_limit),
		cmocka_unit_test(test_region_info),
		cmocka_unit_test(test_iova_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
