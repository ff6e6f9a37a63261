/* SPDX-License-Identifier: MIT */
/* The device side of DMA: bus-master gate, no space, unmap notification. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/device_internal.h"

static int unmaps;
static uint64_t unmap_iova, unmap_size;

static void t_dma_unmap(struct uvfio_device *dev, uint64_t iova, uint64_t size)
{
	unmaps++;
	unmap_iova = iova;
	unmap_size = size;
}

static const struct uvfio_device_ops ops = { .dma_unmap = t_dma_unmap };

static char logged[256];

static void sink(enum uvfio_log_level level, const char *who, const char *msg,
		 void *opaque)
{
	if (level <= UVFIO_LOG_WARN)
		snprintf(logged, sizeof(logged), "%s: %s", who, msg);
}

static void test_gate(void **state)
{
	struct uvfio_device *dev = uvfio_device_create("dmadev", &ops, NULL);
	struct uvfio_dma *dma = uvfio_dma_create(NULL);
	uint8_t *mem = aligned_alloc(4096, 8192);
	struct uvfio_dma_map_args map = {
		.iova = 0x10000, .size = 8192, .fd = -1, .vaddr = mem,
		.prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE,
	};
	uint32_t v = 0x12345678, got = 0;

	assert_non_null(dev);
	assert_non_null(dma);
	memset(mem, 0, 8192);
	uvfio_log_set_sink(sink, NULL);

	/* Bus mastering starts off: refused and logged, naming the device. */
	assert_false(uvfio_device_bus_master(dev));
	assert_int_equal(uvfio_device_dma_write(dev, 0x10000, &v, 4), -EPERM);
	assert_non_null(strstr(logged, "dmadev"));
	assert_non_null(strstr(logged, "bus mastering"));
	assert_int_equal(uvfio_device_dma_read(dev, 0x10000, &got, 4), -EPERM);

	/* On, but no client memory. */
	uvfio_device_set_bus_master(dev, true);
	assert_int_equal(uvfio_device_dma_write(dev, 0x10000, &v, 4), -ENODEV);

	uvfio_device_set_dma(dev, dma);
	assert_ptr_equal(uvfio_device_dma(dev), dma);
	assert_int_equal(uvfio_dma_map(dma, &map), 0);
	assert_int_equal(uvfio_device_dma_write(dev, 0x10100, &v, 4), 0);
	assert_memory_equal(mem + 0x100, &v, 4);
	mem[0x1000] = 0xab;
	assert_int_equal(uvfio_device_dma_read(dev, 0x11000, &got, 1), 0);
	assert_int_equal(got & 0xff, 0xab);
	/* Outside every window: the space's answer comes through. */
	assert_int_equal(uvfio_device_dma_read(dev, 0x20000, &got, 4), -EFAULT);

	/* Off again: refused even with a space. */
	uvfio_device_set_bus_master(dev, false);
	assert_int_equal(uvfio_device_dma_read(dev, 0x10000, &got, 4), -EPERM);
	uvfio_device_set_bus_master(dev, true);

	/* Unmap reaches ops->dma_unmap. */
	assert_int_equal(uvfio_dma_unmap(dma, 0x10000, 8192, 0, NULL), 0);
	assert_int_equal(unmaps, 1);
	assert_int_equal(unmap_iova, 0x10000);
	assert_int_equal(unmap_size, 8192);

	/* Detached: no more notifications to this device. */
	map.vaddr = mem;
	assert_int_equal(uvfio_dma_map(dma, &map), 0);
	uvfio_device_set_dma(dev, NULL);
	assert_int_equal(uvfio_device_dma_read(dev, 0x10000, &got, 4), -ENODEV);
	assert_int_equal(uvfio_dma_unmap(dma, 0x10000, 8192, 0, NULL), 0);
	assert_int_equal(unmaps, 1);

	/* A freed device is detached too. */
	assert_int_equal(uvfio_dma_map(dma, &map), 0);
	uvfio_device_set_dma(dev, dma);
	uvfio_device_destroy(dev);
	assert_int_equal(uvfio_dma_unmap(dma, 0x10000, 8192, 0, NULL), 0);
	assert_int_equal(unmaps, 1);

	uvfio_log_set_sink(NULL, NULL);
	uvfio_dma_destroy(dma);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
