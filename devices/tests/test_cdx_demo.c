/* SPDX-License-Identifier: MIT */
/* cdx-demo through the core API: its resources, and its DMA engine gated
 * by VFIO_DEVICE_FEATURE_BUS_MASTER. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include <uvfio/cdx.h>
#include <uvfio/log.h>

#include "core/vfio_compat.h"
#include "devices/cdx_demo.h"
#include "devices/registry.h"

#define IOVA 0x1000000u
#define MEMSZ 0x4000u

struct demo {
	struct uvfio_sample_dev sd;
	struct uvfio_dma *dma;
	uint8_t *mem;
};

static void demo_up(struct demo *t, int argc, char **argv)
{
	const struct uvfio_sample *s = uvfio_sample_find("cdx-demo");
	struct uvfio_dma_map_args map = {
		.iova = IOVA, .size = MEMSZ, .fd = -1,
		.prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE,
	};

	assert_non_null(s);
	assert_int_equal(s->create(argc, argv, &t->sd), 0);
	t->dma = uvfio_dma_create(NULL);
	t->mem = aligned_alloc(4096, MEMSZ);
	assert_non_null(t->dma);
	assert_non_null(t->mem);
	memset(t->mem, 0, MEMSZ);
	map.vaddr = t->mem;
	assert_int_equal(uvfio_dma_map(t->dma, &map), 0);
	assert_int_equal(uvfio_device_open(t->sd.dev), 0);
	uvfio_device_set_dma(t->sd.dev, t->dma);
}

static void demo_down(struct demo *t)
{
	uvfio_device_set_dma(t->sd.dev, NULL);
	uvfio_device_close(t->sd.dev);
	uvfio_sample_find("cdx-demo")->destroy(t->sd.priv);
	uvfio_dma_destroy(t->dma);
	free(t->mem);
}

static uint32_t reg_read(struct demo *t, uint32_t off)
{
	uint32_t v = 0;

	assert_int_equal(uvfio_device_read(t->sd.dev, CDX_DEMO_RES_DMA, off, &v, 4), 4);
	return v;
}

static void reg_write(struct demo *t, uint32_t off, uint32_t v)
{
	assert_int_equal(uvfio_device_write(t->sd.dev, CDX_DEMO_RES_DMA, off, &v, 4), 4);
}

static int bus_master(struct demo *t, uint32_t flags, uint32_t op)
{
	struct {
		struct vfio_device_feature hdr;
		uint32_t op;
	} f = { .hdr = { .argsz = sizeof(f),
			 .flags = flags | VFIO_DEVICE_FEATURE_BUS_MASTER },
		.op = op };

	return uvfio_device_feature(t->sd.dev, &f, sizeof(f), NULL);
}

/* Copy 64 bytes from IOVA to IOVA + 0x2000. */
static uint32_t dma_copy(struct demo *t, uint32_t ctrl)
{
	uint64_t src = IOVA, dst = IOVA + 0x2000;

	assert_int_equal(uvfio_device_write(t->sd.dev, CDX_DEMO_RES_DMA, CDX_DEMO_DMA_SRC,
					    &src, 8), 8);
	assert_int_equal(uvfio_device_write(t->sd.dev, CDX_DEMO_RES_DMA, CDX_DEMO_DMA_DST,
					    &dst, 8), 8);
	reg_write(t, CDX_DEMO_DMA_LEN, 64);
	reg_write(t, CDX_DEMO_DMA_CTRL, ctrl);
	return reg_read(t, CDX_DEMO_DMA_STATUS);
}

static void test_layout(void **state)
{
	struct demo t;
	char *argv[] = { "cdx-demo", NULL };
	struct vfio_device_info di = { .argsz = sizeof(di) };
	const uint32_t R = VFIO_REGION_INFO_FLAG_READ, W = VFIO_REGION_INFO_FLAG_WRITE,
		       M = VFIO_REGION_INFO_FLAG_MMAP;
	uint32_t id = 0;
	char text[16];

	demo_up(&t, 1, argv);
	assert_int_equal(uvfio_device_get_info(t.sd.dev, &di), 0);
	assert_int_equal(di.flags, VFIO_DEVICE_FLAGS_CDX | VFIO_DEVICE_FLAGS_RESET);
	assert_int_equal(di.num_regions, 4);
	assert_int_equal(di.num_irqs, 1);
	assert_int_equal(uvfio_device_region(t.sd.dev, CDX_DEMO_RES_SRAM)->flags, R | W | M);
	assert_int_equal(uvfio_device_region(t.sd.dev, CDX_DEMO_RES_ROM)->flags, R | M);
	assert_int_equal(uvfio_device_region(t.sd.dev, CDX_DEMO_RES_MAILBOX)->flags, R | W);
	assert_int_equal(uvfio_device_region(t.sd.dev, CDX_DEMO_RES_DMA)->flags, R | W);

	assert_int_equal(uvfio_device_read(t.sd.dev, CDX_DEMO_RES_ROM, 0, &id, 4), 4);
	assert_int_equal(id, CDX_DEMO_ID);
	assert_int_equal(uvfio_device_read(t.sd.dev, CDX_DEMO_RES_ROM, 8, text, 15), 15);
	assert_string_equal(text, "uvfio cdx-demo");
	assert_int_equal(uvfio_device_write(t.sd.dev, CDX_DEMO_RES_ROM, 0, &id, 4), -EINVAL);
	assert_int_equal(reg_read(&t, CDX_DEMO_DMA_ID), CDX_DEMO_ID);
	/* ID is the device's: a write does not change it. */
	reg_write(&t, CDX_DEMO_DMA_ID, 0);
	assert_int_equal(reg_read(&t, CDX_DEMO_DMA_ID), CDX_DEMO_ID);
	demo_down(&t);
}

static void test_dma_gated(void **state)
{
	struct demo t;
	char *argv[] = { "cdx-demo", NULL };
	struct {
		struct vfio_irq_set hdr;
		int32_t fd;
	} set = {
		.hdr = { .argsz = sizeof(set), .index = 0, .start = 0, .count = 1,
			 .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER },
	};
	uint64_t n = 0;

	demo_up(&t, 1, argv);
	for (unsigned int i = 0; i < 64; i++)
		t.mem[i] = (uint8_t)(i * 7 + 1);
	set.fd = eventfd(0, EFD_NONBLOCK);
	assert_int_equal(uvfio_device_set_irqs(t.sd.dev, &set.hdr, &set.fd, 4), 0);

	/* Open cleared bus mastering: the copy is refused, nothing written. */
	assert_false(cdx_demo_bus_master(t.sd.priv));
	assert_int_equal(dma_copy(&t, CDX_DEMO_CTRL_GO), CDX_DEMO_STATUS_ERROR);
	assert_int_equal(reg_read(&t, CDX_DEMO_DMA_ERROR), EPERM);
	assert_int_equal(t.mem[0x2000], 0);

	assert_int_equal(bus_master(&t, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET, 0), 0);
	assert_int_equal(bus_master(&t, VFIO_DEVICE_FEATURE_SET, VFIO_DEVICE_FEATURE_SET_MASTER), 0);
	assert_true(cdx_demo_bus_master(t.sd.priv));
	assert_int_equal(dma_copy(&t, CDX_DEMO_CTRL_GO | CDX_DEMO_CTRL_IRQ),
			 CDX_DEMO_STATUS_DONE);
	assert_int_equal(reg_read(&t, CDX_DEMO_DMA_ERROR), 0);
	assert_memory_equal(t.mem + 0x2000, t.mem, 64);
	assert_int_equal(read(set.fd, &n, 8), 8);
	assert_int_equal(n, 1);

	/* Cleared again: refused again. */
	memset(t.mem + 0x2000, 0, 64);
	assert_int_equal(bus_master(&t, VFIO_DEVICE_FEATURE_SET, VFIO_DEVICE_FEATURE_CLEAR_MASTER), 0);
	assert_int_equal(dma_copy(&t, CDX_DEMO_CTRL_GO), CDX_DEMO_STATUS_ERROR);
	assert_int_equal(t.mem[0x2000], 0);

	/* A length the engine cannot do is an error, not a partial copy. */
	assert_int_equal(bus_master(&t, VFIO_DEVICE_FEATURE_SET, 1), 0);
	reg_write(&t, CDX_DEMO_DMA_LEN, CDX_DEMO_DMA_MAX + 1);
	reg_write(&t, CDX_DEMO_DMA_CTRL, CDX_DEMO_CTRL_GO);
	assert_int_equal(reg_read(&t, CDX_DEMO_DMA_STATUS), CDX_DEMO_STATUS_ERROR);
	assert_int_equal(reg_read(&t, CDX_DEMO_DMA_ERROR), EINVAL);

	/* DEVICE_RESET puts the registers back. */
	assert_int_equal(uvfio_device_reset(t.sd.dev), 0);
	assert_int_equal(reg_read(&t, CDX_DEMO_DMA_STATUS), CDX_DEMO_STATUS_IDLE);
	assert_int_equal(reg_read(&t, CDX_DEMO_DMA_LEN), 0);
	close(set.fd);
	demo_down(&t);
}

static void test_no_bus_master(void **state)
{
	struct demo t;
	char *argv[] = { "cdx-demo", "--no-bus-master", NULL };
	char *bad[] = { "cdx-demo", "--bogus", NULL };
	struct uvfio_sample_dev sd;

	demo_up(&t, 2, argv);
	assert_int_equal(bus_master(&t, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET, 0),
			 -ENOTTY);
	/* No control: the device masters as built. */
	for (unsigned int i = 0; i < 64; i++)
		t.mem[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(dma_copy(&t, CDX_DEMO_CTRL_GO), CDX_DEMO_STATUS_DONE);
	assert_memory_equal(t.mem + 0x2000, t.mem, 64);
	demo_down(&t);

	assert_int_equal(uvfio_sample_find("cdx-demo")->create(2, bad, &sd), -EINVAL);
}

static void test_resets(void **state)
{
	struct demo t;
	char *argv[] = { "cdx-demo", NULL };
	uint32_t v = 0x11223344, got = 0;
	unsigned int base;

	demo_up(&t, 1, argv);
	base = cdx_demo_resets(t.sd.priv);
	assert_int_equal(base, 1); /* the first open */
	assert_int_equal(uvfio_device_write(t.sd.dev, CDX_DEMO_RES_MAILBOX, 0x10, &v, 4), 4);
	assert_int_equal(uvfio_device_write(t.sd.dev, CDX_DEMO_RES_SRAM, 0x10, &v, 4), 4);
	uvfio_device_close(t.sd.dev);
	assert_int_equal(cdx_demo_resets(t.sd.priv), 2); /* the last close */
	assert_int_equal(uvfio_device_read(t.sd.dev, CDX_DEMO_RES_MAILBOX, 0x10, &got, 4), 4);
	assert_int_equal(got, 0);
	assert_int_equal(uvfio_device_read(t.sd.dev, CDX_DEMO_RES_SRAM, 0x10, &got, 4), 4);
	assert_int_equal(got, 0);
	/* The ROM survives resets. */
	assert_int_equal(uvfio_device_read(t.sd.dev, CDX_DEMO_RES_ROM, 0, &got, 4), 4);
	assert_int_equal(got, CDX_DEMO_ID);
	assert_int_equal(uvfio_device_open(t.sd.dev), 0);
	demo_down(&t);
}

static void quiet(enum uvfio_log_level level, const char *who, const char *msg,
		  void *opaque)
{
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_dma_gated),
		cmocka_unit_test(test_no_bus_master),
		cmocka_unit_test(test_resets),
	};

	uvfio_log_set_sink(quiet, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
