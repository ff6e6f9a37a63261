/* SPDX-License-Identifier: MIT */
/*
 * The CDX bus driver against vfio-cdx's rules: device info, region flags
 * per kind of resource, the mmap checks in the kernel's order, reset at
 * open/close/DEVICE_RESET, the BUS_MASTER feature with and without a
 * bus_master op, DMA gated by it, IDs and module aliases.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <uvfio/cdx.h>
#include <uvfio/log.h>

#include "core/vfio_compat.h"

#define PG 4096u

/* What the fake device saw. */
struct fake {
	int resets;
	int reset_ret;
	int bm_calls;
	bool bm_on;
	int bm_ret;
	uint8_t regs[0x40];
};

static int fake_reset(struct uvfio_cdx_device *cdx)
{
	struct fake *f = uvfio_cdx_priv(cdx);

	f->resets++;
	return f->reset_ret;
}

static int fake_bm(struct uvfio_cdx_device *cdx, bool on)
{
	struct fake *f = uvfio_cdx_priv(cdx);

	f->bm_calls++;
	if (f->bm_ret)
		return f->bm_ret;
	f->bm_on = on;
	return 0;
}

static ssize_t fake_read(struct uvfio_cdx_device *cdx, uint32_t index,
			 uint64_t pos, void *buf, size_t count)
{
	struct fake *f = uvfio_cdx_priv(cdx);

	memcpy(buf, f->regs + pos, count);
	return (ssize_t)count;
}

static ssize_t fake_write(struct uvfio_cdx_device *cdx, uint32_t index,
			  uint64_t pos, const void *buf, size_t count)
{
	struct fake *f = uvfio_cdx_priv(cdx);

	memcpy(f->regs + pos, buf, count);
	return (ssize_t)count;
}

static const struct uvfio_cdx_ops ops_bm = { .reset = fake_reset, .bus_master = fake_bm };
static const struct uvfio_cdx_ops ops_nobm = { .reset = fake_reset };

enum { R_RW = 0, R_RO, R_REGS, R_ODDSIZE };

/* Four kinds of resource: writable mappable, read-only mappable,
 * registers at a start that is not page aligned, memory of an odd size. */
static struct uvfio_cdx_info base_info(const struct uvfio_cdx_ops *ops)
{
	struct uvfio_cdx_info info = {
		.vendor = 0x10ee,
		.device = 0x8084,
		.num_resources = 4,
		.resources = {
			[R_RW] = { .start = 0x100000, .size = 2 * PG },
			[R_RO] = { .start = 0x200000, .size = PG, .read_only = true },
			[R_REGS] = { .start = 0x300040, .size = 0x40,
				     .read = fake_read, .write = fake_write },
			[R_ODDSIZE] = { .start = 0x400000, .size = PG + 8 },
		},
		.num_msi = 4,
		.ops = ops,
	};
	return info;
}

struct fixture {
	struct fake f;
	struct uvfio_cdx_device *cdx;
	struct uvfio_device *dev;
};

static struct fixture *fixture_new(const struct uvfio_cdx_info *info)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_int_equal(uvfio_cdx_create("cdx-test", info, &fx->f, &fx->cdx), 0);
	fx->dev = uvfio_cdx_to_device(fx->cdx);
	assert_non_null(fx->dev);
	return fx;
}

static void fixture_free(struct fixture *fx)
{
	while (uvfio_device_open_count(fx->dev))
		uvfio_device_close(fx->dev);
	uvfio_cdx_destroy(fx->cdx);
	free(fx);
}

static int feature(struct uvfio_device *dev, uint32_t flags, uint32_t argsz,
		   uint32_t op)
{
	struct {
		struct vfio_device_feature hdr;
		uint32_t op;
	} buf = { .hdr = { .argsz = argsz, .flags = flags }, .op = op };

	return uvfio_device_feature(dev, &buf, sizeof(buf), NULL);
}

#define BM VFIO_DEVICE_FEATURE_BUS_MASTER
#define SET VFIO_DEVICE_FEATURE_SET
#define GET VFIO_DEVICE_FEATURE_GET
#define PROBE VFIO_DEVICE_FEATURE_PROBE

/* ---- create ------------------------------------------------------------- */

static void test_create_rejects(void **state)
{
	struct uvfio_cdx_info info;
	struct uvfio_cdx_device *cdx = NULL;
	static const struct uvfio_cdx_ops no_reset = { .bus_master = fake_bm };

	info = base_info(&ops_bm);
	info.vendor = 0xFFFF;
	assert_int_equal(uvfio_cdx_create("x", &info, NULL, &cdx), -EINVAL);
	info = base_info(&ops_bm);
	info.device = 0xFFFF;
	assert_int_equal(uvfio_cdx_create("x", &info, NULL, &cdx), -EINVAL);
	info = base_info(&no_reset);
	assert_int_equal(uvfio_cdx_create("x", &info, NULL, &cdx), -EINVAL);
	info = base_info(NULL);
	assert_int_equal(uvfio_cdx_create("x", &info, NULL, &cdx), -EINVAL);
	info = base_info(&ops_bm);
	info.num_resources = 0;
	assert_int_equal(uvfio_cdx_create("x", &info, NULL, &cdx), -EINVAL);
	info.num_resources = UVFIO_CDX_MAX_RESOURCES + 1;
	assert_int_equal(uvfio_cdx_create("x", &info, NULL, &cdx), -EINVAL);
	info = base_info(&ops_bm);
	info.resources[R_ODDSIZE].size = 0;
	assert_int_equal(uvfio_cdx_create("x", &info, NULL, &cdx), -EINVAL);
	/* A mapping would bypass handlers: refused on an aligned resource. */
	info = base_info(&ops_bm);
	info.resources[R_RW].read = fake_read;
	info.resources[R_RW].write = fake_write;
	assert_int_equal(uvfio_cdx_create("x", &info, NULL, &cdx), -EINVAL);
	/* Writable registers need a write handler. */
	info = base_info(&ops_bm);
	info.resources[R_REGS].write = NULL;
	assert_int_equal(uvfio_cdx_create("x", &info, NULL, &cdx), -EINVAL);
	info = base_info(&ops_bm);
	info.num_msi = UVFIO_CDX_MAX_MSI + 1;
	assert_int_equal(uvfio_cdx_create("x", &info, NULL, &cdx), -EINVAL);
	assert_null(cdx);

	/* The same description without the faults is accepted. */
	info = base_info(&ops_bm);
	assert_int_equal(uvfio_cdx_create("x", &info, NULL, &cdx), 0);
	assert_ptr_equal(uvfio_cdx_from_device(uvfio_cdx_to_device(cdx)), cdx);
	uvfio_cdx_destroy(cdx);
}

/* ---- info --------------------------------------------------------------- */

static void test_info(void **state)
{
	struct uvfio_cdx_info info = base_info(&ops_bm);
	struct fixture *fx = fixture_new(&info);
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = 0 };

	assert_int_equal(uvfio_device_get_info(fx->dev, &di), 0);
	assert_int_equal(di.flags, VFIO_DEVICE_FLAGS_CDX | VFIO_DEVICE_FLAGS_RESET);
	assert_int_equal(di.num_regions, 4);
	assert_int_equal(di.num_irqs, 1);
	assert_int_equal(uvfio_device_irq_info(fx->dev, &ii), 0);
	assert_int_equal(ii.count, 4);
	assert_int_equal(ii.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
	ii.index = 1;
	assert_int_equal(uvfio_device_irq_info(fx->dev, &ii), -EINVAL);
	di.argsz = 15;
	assert_int_equal(uvfio_device_get_info(fx->dev, &di), -EINVAL);
	fixture_free(fx);

	/* No MSI: no IRQ index at all. */
	info.num_msi = 0;
	info.num_resources = 1;
	fx = fixture_new(&info);
	di.argsz = sizeof(di);
	assert_int_equal(uvfio_device_get_info(fx->dev, &di), 0);
	assert_int_equal(di.num_regions, 1);
	assert_int_equal(di.num_irqs, 0);
	ii.index = 0;
	assert_int_equal(uvfio_device_irq_info(fx->dev, &ii), -EINVAL);
	fixture_free(fx);
}

static void region_info(struct uvfio_device *dev, uint32_t index,
			struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	assert_int_equal(uvfio_device_region_info(dev, ri, sizeof(*ri)), 0);
}

static void test_region_flags(void **state)
{
	struct uvfio_cdx_info info = base_info(&ops_bm);
	struct fixture *fx;
	struct vfio_region_info ri;
	const uint32_t R = VFIO_REGION_INFO_FLAG_READ, W = VFIO_REGION_INFO_FLAG_WRITE,
		       M = VFIO_REGION_INFO_FLAG_MMAP;

	/* A fifth kind: aligned size at an unaligned start. */
	info.resources[R_REGS].start = 0x300800;
	info.resources[R_REGS].size = PG;
	fx = fixture_new(&info);

	region_info(fx->dev, R_RW, &ri);
	assert_int_equal(ri.flags, R | W | M);
	assert_int_equal(ri.size, 2 * PG);
	assert_int_equal(ri.offset, 0);
	assert_true(uvfio_device_region(fx->dev, R_RW)->mmap_fd >= 0);

	region_info(fx->dev, R_RO, &ri);
	assert_int_equal(ri.flags, R | M);
	assert_int_equal(ri.offset, (uint64_t)1 << 40);

	region_info(fx->dev, R_REGS, &ri);
	assert_int_equal(ri.flags, R | W);
	assert_int_equal(ri.offset, (uint64_t)2 << 40);
	assert_int_equal(uvfio_device_region(fx->dev, R_REGS)->mmap_fd, -1);

	region_info(fx->dev, R_ODDSIZE, &ri);
	assert_int_equal(ri.flags, R | W);
	assert_int_equal(ri.size, PG + 8);
	assert_int_equal(ri.offset, (uint64_t)3 << 40);

	ri.argsz = sizeof(ri);
	ri.index = 4;
	assert_int_equal(uvfio_device_region_info(fx->dev, &ri, sizeof(ri)), -EINVAL);
	fixture_free(fx);
}

/* ---- region access ------------------------------------------------------ */

static void test_region_access(void **state)
{
	struct uvfio_cdx_info info = base_info(&ops_bm);
	struct fixture *fx = fixture_new(&info);
	uint32_t v = 0xdeadbeef, got = 0;
	uint8_t *ro = uvfio_cdx_resource_mem(fx->cdx, R_RO);

	/* Handlers see register accesses. */
	assert_int_equal(uvfio_device_write(fx->dev, R_REGS, 8, &v, 4), 4);
	assert_memory_equal(fx->f.regs + 8, &v, 4);
	assert_int_equal(uvfio_device_read(fx->dev, R_REGS, 8, &got, 4), 4);
	assert_int_equal(got, v);
	assert_null(uvfio_cdx_resource_mem(fx->cdx, R_REGS));

	/* Memory resources: what the device sees is what the client reads. */
	assert_int_equal(uvfio_device_write(fx->dev, R_ODDSIZE, PG + 4, &v, 4), 4);
	assert_memory_equal((uint8_t *)uvfio_cdx_resource_mem(fx->cdx, R_ODDSIZE) + PG + 4,
			    &v, 4);
	assert_int_equal(uvfio_device_write(fx->dev, R_ODDSIZE, PG + 6, &v, 4), -EINVAL);

	/* Read-only: the device fills it, the client only reads it. */
	assert_non_null(ro);
	memcpy(ro + 16, &v, 4);
	assert_int_equal(uvfio_device_read(fx->dev, R_RO, 16, &got, 4), 4);
	assert_int_equal(got, v);
	assert_int_equal(uvfio_device_write(fx->dev, R_RO, 16, &v, 4), -EINVAL);
	fixture_free(fx);
}

/* ---- mmap ---------------------------------------------------------------- */

static void test_mmap_check_order(void **state)
{
	struct uvfio_cdx_info info = base_info(&ops_bm);
	struct fixture *fx = fixture_new(&info);
	const int RW = PROT_READ | PROT_WRITE;

	/* Each request fails at one step; later faults in the same request
	 * show that the earlier check comes first. */
	/* 1. index out of range (with a bad prot and a bad length too) */
	assert_int_equal(uvfio_cdx_mmap_check(fx->dev, 4, 0, 1, RW), -EINVAL);
	/* 2. region without MMAP (a write-capable one, bad length too) */
	assert_int_equal(uvfio_cdx_mmap_check(fx->dev, R_REGS, 0, 1, RW), -EINVAL);
	assert_int_equal(uvfio_cdx_mmap_check(fx->dev, R_ODDSIZE, 0, PG, PROT_READ), -EINVAL);
	/* 3. PROT_WRITE on a read-only region: EPERM, before the length and
	 *    range checks that would also fail. */
	assert_int_equal(uvfio_cdx_mmap_check(fx->dev, R_RO, 0, PG, RW), -EPERM);
	assert_int_equal(uvfio_cdx_mmap_check(fx->dev, R_RO, 0, 1, PROT_WRITE), -EPERM);
	assert_int_equal(uvfio_cdx_mmap_check(fx->dev, R_RO, 64 * PG, PG, PROT_WRITE), -EPERM);
	/* 4. less than a page, or not page granular, before the range check */
	assert_int_equal(uvfio_cdx_mmap_check(fx->dev, R_RW, 0, 0, RW), -EINVAL);
	assert_int_equal(uvfio_cdx_mmap_check(fx->dev, R_RW, 0, PG - 1, RW), -EINVAL);
	assert_int_equal(uvfio_cdx_mmap_check(fx->dev, R_RW, 0, PG + 1, RW), -EINVAL);
	assert_int_equal(uvfio_cdx_mmap_check(fx->dev, R_RW, 8, PG, RW), -EINVAL);
	/* 5. range beyond the resource, including wrap-around */
	assert_int_equal(uvfio_cdx_mmap_check(fx->dev, R_RW, PG, 2 * PG, RW), -EINVAL);
	assert_int_equal(uvfio_cdx_mmap_check(fx->dev, R_RW, 0, 3 * PG, RW), -EINVAL);
	assert_int_equal(uvfio_cdx_mmap_check(fx->dev, R_RW, UINT64_MAX - PG + 1, 2 * PG, RW),
			 -EINVAL);
	/* and what passes every step */
	assert_int_equal(uvfio_cdx_mmap_check(fx->dev, R_RW, 0, 2 * PG, RW), 0);
	assert_int_equal(uvfio_cdx_mmap_check(fx->dev, R_RW, PG, PG, RW), 0);
	assert_int_equal(uvfio_cdx_mmap_check(fx->dev, R_RO, 0, PG, PROT_READ), 0);
	fixture_free(fx);
}

static void test_mmap_shared_memory(void **state)
{
	struct uvfio_cdx_info info = base_info(&ops_bm);
	struct fixture *fx = fixture_new(&info);
	const struct uvfio_region *ro = uvfio_device_region(fx->dev, R_RO);
	const struct uvfio_region *rw = uvfio_device_region(fx->dev, R_RW);
	uint8_t *map = NULL, *dev_view = uvfio_cdx_resource_mem(fx->cdx, R_RW);
	uint32_t v = 0x5a5a1234, got = 0;
	void *p;

	/* The client's mapping and the device's memory are the same bytes. */
	assert_int_equal(uvfio_cdx_mmap(fx->dev, R_RW, PG, PG, PROT_READ | PROT_WRITE,
					(void **)&map), 0);
	memcpy(map + 4, &v, 4);
	assert_memory_equal(dev_view + PG + 4, &v, 4);
	assert_int_equal(uvfio_device_read(fx->dev, R_RW, PG + 4, &got, 4), 4);
	assert_int_equal(got, v);
	munmap(map, PG);

	/* A vfio-user client maps the fd at the reported offset. */
	assert_int_equal(ro->offset, (uint64_t)1 << 40);
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, ro->mmap_fd, (off_t)ro->offset);
	assert_true(p != MAP_FAILED);
	munmap(p, PG);
	/* Read-only for a client that skips the check: the seal refuses a
	 * writable shared mapping, and the file cannot be resized. */
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro->mmap_fd, (off_t)ro->offset);
	assert_true(p == MAP_FAILED);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(rw->mmap_fd, 0), -1);
	assert_int_equal(errno, EPERM);
	/* uvfio_cdx_mmap refuses before mmap does. */
	assert_int_equal(uvfio_cdx_mmap(fx->dev, R_RO, 0, PG, PROT_WRITE, &p), -EPERM);
	assert_int_equal(uvfio_cdx_mmap(fx->dev, R_REGS, 0, PG, PROT_READ, &p), -EINVAL);
	fixture_free(fx);
}

/* ---- reset ---------------------------------------------------------------- */

static void test_reset_counts(void **state)
{
	struct uvfio_cdx_info info = base_info(&ops_bm);
	struct fixture *fx = fixture_new(&info);

	assert_int_equal(fx->f.resets, 0);
	assert_int_equal(uvfio_device_open(fx->dev), 0);
	assert_int_equal(fx->f.resets, 1);	/* first open */
	assert_int_equal(uvfio_device_open(fx->dev), 0);
	assert_int_equal(fx->f.resets, 1);	/* not on a second open */
	assert_int_equal(uvfio_device_reset(fx->dev), 0);
	assert_int_equal(fx->f.resets, 2);	/* DEVICE_RESET */
	uvfio_device_close(fx->dev);
	assert_int_equal(fx->f.resets, 2);	/* not the last close */
	uvfio_device_close(fx->dev);
	assert_int_equal(fx->f.resets, 3);	/* last close */

	/* DEVICE_RESET passes the device's error on. */
	fx->f.reset_ret = -EIO;
	assert_int_equal(uvfio_device_reset(fx->dev), -EIO);
	/* A reset failing at open fails the open, and nothing stays open. */
	assert_int_equal(uvfio_device_open(fx->dev), -EIO);
	assert_int_equal(uvfio_device_open_count(fx->dev), 0);
	assert_int_equal(fx->f.bm_calls, 1); /* only the successful open's clear */
	fx->f.reset_ret = 0;
	assert_int_equal(uvfio_device_open(fx->dev), 0);
	fixture_free(fx);
}

/* ---- BUS_MASTER ------------------------------------------------------------ */

static void test_bus_master_feature(void **state)
{
	struct uvfio_cdx_info info = base_info(&ops_bm);
	struct fixture *fx = fixture_new(&info);

	/* Not open: nothing cleared yet, nothing offered. */
	assert_int_equal(feature(fx->dev, PROBE | SET | BM, 8, 0), -ENOTTY);

	fx->f.bm_on = true;
	assert_int_equal(uvfio_device_open(fx->dev), 0);
	/* Open cleared bus mastering through the op: off on both sides. */
	assert_int_equal(fx->f.bm_calls, 1);
	assert_false(fx->f.bm_on);
	assert_false(uvfio_device_bus_master(fx->dev));

	assert_int_equal(feature(fx->dev, PROBE | SET | BM, 8, 0), 0);
	/* GET is not an op of this feature: refused, also under PROBE. */
	assert_int_equal(feature(fx->dev, PROBE | GET | BM, 8, 0), -EINVAL);
	assert_int_equal(feature(fx->dev, GET | BM, 12, 0), -EINVAL);
	/* The payload is a u32. */
	assert_int_equal(feature(fx->dev, SET | BM, 8 + 3, 1), -EINVAL);
	assert_int_equal(feature(fx->dev, SET | BM, 8, 1), -EINVAL);
	/* Only ops 0 and 1. */
	assert_int_equal(feature(fx->dev, SET | BM, 12, 2), -EINVAL);
	assert_int_equal(feature(fx->dev, SET | BM, 12, 0xffffffff), -EINVAL);
	assert_int_equal(fx->f.bm_calls, 1); /* none of those reached the op */

	assert_int_equal(feature(fx->dev, SET | BM, 12, VFIO_DEVICE_FEATURE_SET_MASTER), 0);
	assert_true(fx->f.bm_on);
	assert_true(uvfio_device_bus_master(fx->dev));
	assert_int_equal(feature(fx->dev, SET | BM, 12, VFIO_DEVICE_FEATURE_CLEAR_MASTER), 0);
	assert_false(fx->f.bm_on);
	assert_false(uvfio_device_bus_master(fx->dev));

	/* The op's failure is the caller's answer; the gate stays put. */
	fx->f.bm_ret = -EIO;
	assert_int_equal(feature(fx->dev, SET | BM, 12, 1), -EIO);
	assert_false(uvfio_device_bus_master(fx->dev));
	fx->f.bm_ret = 0;

	/* After the last close the feature is gone until the next open. */
	uvfio_device_close(fx->dev);
	assert_int_equal(feature(fx->dev, PROBE | SET | BM, 8, 0), -ENOTTY);
	assert_int_equal(uvfio_device_open(fx->dev), 0);
	assert_int_equal(feature(fx->dev, PROBE | SET | BM, 8, 0), 0);
	fixture_free(fx);
}

static void test_bus_master_not_offered(void **state)
{
	struct uvfio_cdx_info info = base_info(&ops_nobm);
	struct fixture *fx = fixture_new(&info);

	/* No bus_master op: the kernel's !BME_SUPPORT path. */
	assert_int_equal(uvfio_device_open(fx->dev), 0);
	assert_int_equal(feature(fx->dev, PROBE | SET | BM, 8, 0), -ENOTTY);
	assert_int_equal(feature(fx->dev, SET | BM, 12, 1), -ENOTTY);
	/* Nobody can turn it off, so the device masters as built. */
	assert_true(uvfio_device_bus_master(fx->dev));
	fixture_free(fx);

	/* An op that cannot clear at open: not offered either. */
	info = base_info(&ops_bm);
	fx = fixture_new(&info);
	fx->f.bm_ret = -EOPNOTSUPP;
	assert_int_equal(uvfio_device_open(fx->dev), 0);
	assert_int_equal(fx->f.bm_calls, 1);
	assert_int_equal(feature(fx->dev, PROBE | SET | BM, 8, 0), -ENOTTY);
	/* Other feature indexes are unknown to vfio-cdx. */
	assert_int_equal(feature(fx->dev, PROBE | SET | 3, 8, 0), -ENOTTY);
	fixture_free(fx);
}

static void test_dma_gated(void **state)
{
	struct uvfio_cdx_info info = base_info(&ops_bm);
	struct fixture *fx = fixture_new(&info);
	struct uvfio_dma *dma = uvfio_dma_create(NULL);
	uint8_t *mem = aligned_alloc(PG, PG);
	struct uvfio_dma_map_args map = {
		.iova = 0x100000, .size = PG, .fd = -1, .vaddr = mem,
		.prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE,
	};
	uint32_t v = 0xcafef00d;

	assert_non_null(dma);
	memset(mem, 0, PG);
	assert_int_equal(uvfio_dma_map(dma, &map), 0);
	assert_int_equal(uvfio_device_open(fx->dev), 0);
	uvfio_device_set_dma(fx->dev, dma);

	assert_int_equal(uvfio_device_dma_write(fx->dev, 0x100000, &v, 4), -EPERM);
	assert_int_equal(feature(fx->dev, SET | BM, 12, 1), 0);
	assert_int_equal(uvfio_device_dma_write(fx->dev, 0x100000, &v, 4), 0);
	assert_memory_equal(mem, &v, 4);
	assert_int_equal(feature(fx->dev, SET | BM, 12, 0), 0);
	v = 0;
	assert_int_equal(uvfio_device_dma_write(fx->dev, 0x100000, &v, 4), -EPERM);
	assert_int_not_equal(*(uint32_t *)mem, 0);

	uvfio_device_set_dma(fx->dev, NULL);
	fixture_free(fx);
	uvfio_dma_destroy(dma);
	free(mem);
}

/* ---- MSI ----------------------------------------------------------------- */

static void test_msi(void **state)
{
	struct uvfio_cdx_info info = base_info(&ops_bm);
	struct fixture *fx = fixture_new(&info);
	struct {
		struct vfio_irq_set hdr;
		int32_t fd;
	} set = {
		.hdr = { .argsz = sizeof(set), .index = 0, .start = 2, .count = 1,
			 .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER },
	};
	uint64_t n = 0;

	set.fd = eventfd(0, EFD_NONBLOCK);
	assert_true(set.fd >= 0);
	assert_int_equal(uvfio_device_open(fx->dev), 0);
	assert_int_equal(uvfio_device_set_irqs(fx->dev, &set.hdr, &set.fd, 4), 0);
	assert_int_equal(uvfio_cdx_raise_msi(fx->cdx, 2), 1);
	assert_int_equal(read(set.fd, &n, 8), 8);
	assert_int_equal(n, 1);
	assert_int_equal(uvfio_cdx_raise_msi(fx->cdx, 4), -EINVAL);
	/* The last close drops the eventfds, as vfio_cdx_irqs_cleanup. */
	uvfio_device_close(fx->dev);
	assert_false(uvfio_irq_has_trigger(fx->dev, 0, 2));
	close(set.fd);
	fixture_free(fx);
}

/* ---- IDs --------------------------------------------------------------- */

static void test_modalias(void **state)
{
	char buf[64];
	struct uvfio_cdx_id id = { 0x10ee, 0x8084 };
	struct uvfio_cdx_id any = { UVFIO_CDX_ANY_ID, UVFIO_CDX_ANY_ID };
	struct uvfio_cdx_id vend = { 0x00ab, UVFIO_CDX_ANY_ID };

	assert_int_equal(uvfio_cdx_modalias(&id, buf, sizeof(buf)), 19);
	assert_string_equal(buf, "vfio_cdx:v10EEd8084");
	assert_int_equal(uvfio_cdx_modalias(&any, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "vfio_cdx:v*d*");
	assert_int_equal(uvfio_cdx_modalias(&vend, buf, sizeof(buf)), 16);
	assert_string_equal(buf, "vfio_cdx:v00ABd*");
	/* Exactly the length plus NUL fits; one less does not. */
	assert_int_equal(uvfio_cdx_modalias(&id, buf, 20), 19);
	assert_int_equal(uvfio_cdx_modalias(&id, buf, 19), -ENOSPC);
	assert_int_equal(uvfio_cdx_modalias(&id, buf, 5), -ENOSPC);
	assert_int_equal(uvfio_cdx_modalias(NULL, buf, sizeof(buf)), -EINVAL);
}

static void test_id_match(void **state)
{
	const struct uvfio_cdx_id exact = { 0x10ee, 0x8084 };
	const struct uvfio_cdx_id any_dev = { 0x10ee, UVFIO_CDX_ANY_ID };
	const struct uvfio_cdx_id any = { UVFIO_CDX_ANY_ID, UVFIO_CDX_ANY_ID };
	const struct uvfio_cdx_id table[] = {
		{ 0x1234, 0x0001 },
		{ 0x10ee, UVFIO_CDX_ANY_ID },
		{ UVFIO_CDX_ANY_ID, UVFIO_CDX_ANY_ID },
		{ 0, 0 },
	};

	assert_true(uvfio_cdx_id_match(&exact, 0x10ee, 0x8084));
	assert_false(uvfio_cdx_id_match(&exact, 0x10ee, 0x8085));
	assert_false(uvfio_cdx_id_match(&exact, 0x10ef, 0x8084));
	assert_true(uvfio_cdx_id_match(&any_dev, 0x10ee, 0x0000));
	assert_false(uvfio_cdx_id_match(&any_dev, 0x10ef, 0x8084));
	assert_true(uvfio_cdx_id_match(&any, 0x0001, 0x0002));

	assert_ptr_equal(uvfio_cdx_match_table(table, 0x1234, 0x0001), &table[0]);
	assert_ptr_equal(uvfio_cdx_match_table(table, 0x10ee, 0x5555), &table[1]);
	assert_ptr_equal(uvfio_cdx_match_table(table, 0x1234, 0x0002), &table[2]);
	/* The terminator ends the walk: entries past it are never seen. */
	assert_null(uvfio_cdx_match_table(&table[3], 0x1234, 0x0001));
}

static void quiet(enum uvfio_log_level level, const char *who, const char *msg,
		  void *opaque)
{
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_rejects),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_region_flags),
		cmocka_unit_test(test_region_access),
		cmocka_unit_test(test_mmap_check_order),
		cmocka_unit_test(test_mmap_shared_memory),
		cmocka_unit_test(test_reset_counts),
		cmocka_unit_test(test_bus_master_feature),
		cmocka_unit_test(test_bus_master_not_offered),
		cmocka_unit_test(test_dma_gated),
		cmocka_unit_test(test_msi),
		cmocka_unit_test(test_modalias),
		cmocka_unit_test(test_id_match),
	};

	if (sysconf(_SC_PAGESIZE) != PG)
		return 77; /* the resources are laid out for 4 KiB pages */
	uvfio_log_set_sink(quiet, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
