/* SPDX-License-Identifier: MIT */
/* Doorbells: what may be declared (KVM's rules), listing, and delivery. */
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
	int writes;
	uint64_t last_pos;
	size_t last_len;
	uint64_t notified, notify_calls;
	const struct uvfio_ioeventfd *notify_ev;
};

static struct backing bk;

static ssize_t t_write(struct uvfio_device *dev, uint32_t index, uint64_t pos,
		       const void *buf, size_t count)
{
	struct backing *b = uvfio_device_priv(dev);

	b->writes++;
	b->last_pos = pos;
	b->last_len = count;
	memcpy(b->mem + pos, buf, count);
	return (ssize_t)count;
}

static void t_notify(struct uvfio_device *dev, const struct uvfio_ioeventfd *ev,
		     uint64_t count)
{
	struct backing *b = uvfio_device_priv(dev);

	b->notified += count;
	b->notify_calls++;
	b->notify_ev = ev;
	assert_ptr_equal(ev->opaque, &bk);
}

static const struct uvfio_device_ops ops = { .write = t_write };

/* region 0: 256 B RW; region 1: 8 KiB RW|MMAP, second page mappable;
 * region 2: read-only; region 3: 4 KiB RW|MMAP without areas (all mapped) */
static int setup(void **state)
{
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	struct uvfio_device *dev = uvfio_device_create("ioefd", &ops, &bk);
	struct uvfio_region r0 = { .flags = rw, .size = 0x100, .mmap_fd = -1 };
	struct uvfio_region r1 = { .flags = rw | VFIO_REGION_INFO_FLAG_MMAP, .size = 0x2000,
				   .mmap_fd = -1, .nr_areas = 1, .areas = { { 0x1000, 0x1000 } } };
	struct uvfio_region r2 = { .flags = VFIO_REGION_INFO_FLAG_READ, .size = 0x100,
				   .mmap_fd = -1 };
	struct uvfio_region r3 = { .flags = rw | VFIO_REGION_INFO_FLAG_MMAP, .size = 0x1000,
				   .mmap_fd = -1 };

	memset(&bk, 0, sizeof(bk));
	assert_non_null(dev);
	assert_int_equal(uvfio_device_set_num_regions(dev, 4), 0);
	assert_int_equal(uvfio_device_set_region(dev, 0, &r0), 0);
	assert_int_equal(uvfio_device_set_region(dev, 1, &r1), 0);
	assert_int_equal(uvfio_device_set_region(dev, 2, &r2), 0);
	assert_int_equal(uvfio_device_set_region(dev, 3, &r3), 0);
	*state = dev;
	return 0;
}

static int teardown(void **state)
{
	uvfio_device_destroy(*state);
	return 0;
}

#define DM UVFIO_IOEVENTFD_DATAMATCH

static int add(struct uvfio_device *dev, uint32_t index, uint64_t off, uint32_t size,
	       uint32_t flags, uint64_t dm, bool notify)
{
	struct uvfio_ioeventfd ev = { .index = index, .offset = off, .size = size,
				      .flags = flags, .datamatch = dm,
				      .notify = notify ? t_notify : NULL, .opaque = &bk };

	return uvfio_device_add_ioeventfd(dev, &ev);
}

static void test_validation(void **state)
{
	struct uvfio_device *dev = *state;

	assert_int_equal(uvfio_device_add_ioeventfd(dev, NULL), -EINVAL);
	assert_int_equal(add(dev, 0, 0x10, 3, DM, 1, false), -EINVAL);	 /* size */
	assert_int_equal(add(dev, 0, 0x12, 4, DM, 1, false), -EINVAL);	 /* alignment */
	assert_int_equal(add(dev, 0, 0x100, 4, DM, 1, false), -EINVAL); /* past the end */
	assert_int_equal(add(dev, 0, UINT64_MAX - 7, 8, DM, 1, false), -EINVAL); /* wraps */
	assert_int_equal(add(dev, 4, 0, 4, DM, 1, false), -EINVAL);	 /* no region */
	assert_int_equal(add(dev, 2, 0, 4, DM, 1, false), -EINVAL);	 /* read-only */
	assert_int_equal(add(dev, 1, 0x1000, 4, DM, 1, false), -EINVAL); /* mapped area */
	assert_int_equal(add(dev, 3, 0, 4, DM, 1, false), -EINVAL);	 /* all mapped */
	assert_int_equal(add(dev, 0, 0x10, 1, DM, 0x100, false), -EINVAL); /* too wide */
	assert_int_equal(add(dev, 0, 0x10, 4, 2, 1, false), -EINVAL);	 /* flags */
	assert_int_equal(add(dev, 0, 0x10, 4, 0, 0, false), -EINVAL);	 /* value lost, no notify */
	/* the trapped page of a sparse region is fine, and so are the limits */
	assert_int_equal(add(dev, 1, 0xff8, 8, 0, 0, true), 0);
	assert_int_equal(add(dev, 0, 0xf8, 8, DM, UINT64_MAX, false), 0);
	assert_int_equal(add(dev, 0, 0xff, 1, DM, 0xff, false), 0);
	assert_int_equal(uvfio_device_ioeventfds(dev, 2, NULL, 0), 0);
	assert_int_equal(uvfio_device_ioeventfds(dev, 4, NULL, 0), -EINVAL);
}

static void test_collisions(void **state)
{
	struct uvfio_device *dev = *state;

	assert_int_equal(add(dev, 0, 0x10, 4, DM, 1, false), 0);
	assert_int_equal(add(dev, 0, 0x10, 4, DM, 2, false), 0);   /* other value */
	assert_int_equal(add(dev, 0, 0x10, 4, DM, 1, false), -EEXIST);
	assert_int_equal(add(dev, 0, 0x10, 4, 0, 0, true), -EEXIST); /* any value vs 1 */
	assert_int_equal(add(dev, 0, 0x10, 8, DM, 1, false), 0);   /* other length */
	assert_int_equal(add(dev, 0, 0x14, 4, 0, 0, true), 0);
	assert_int_equal(add(dev, 0, 0x14, 4, DM, 9, false), -EEXIST); /* 9 vs any value */
	assert_int_equal(add(dev, 1, 0x10, 4, DM, 1, false), 0);   /* other region */
	assert_int_equal(uvfio_device_ioeventfds(dev, 0, NULL, 0), 4);
}

static void test_limits_and_busy(void **state)
{
	struct uvfio_device *dev = *state;
	struct uvfio_ioeventfd list[UVFIO_MAX_IOEVENTFDS_PER_REGION];

	for (uint32_t i = 0; i < UVFIO_MAX_IOEVENTFDS_PER_REGION; i++)
		assert_int_equal(add(dev, 0, 8 * i, 8, DM, i, false), 0);
	assert_int_equal(add(dev, 0, 0x80, 8, DM, 0, false), -ENOSPC);
	assert_int_equal(add(dev, 1, 0x0, 8, DM, 0, false), 0); /* per region */
	assert_int_equal(uvfio_device_ioeventfds(dev, 0, list, 3), (int)UVFIO_MAX_IOEVENTFDS_PER_REGION);
	assert_int_equal(list[2].offset, 16);
	assert_int_equal(list[2].datamatch, 2);

	/* Once a client has the device open the table stays as it is. */
	assert_int_equal(uvfio_device_open(dev), 0);
	assert_int_equal(add(dev, 1, 0x8, 8, DM, 0, false), -EBUSY);
	uvfio_device_close(dev);
	assert_int_equal(add(dev, 1, 0x8, 8, DM, 0, false), 0);
}

static void test_delivery(void **state)
{
	struct uvfio_device *dev = *state;
	struct uvfio_ioeventfd list[4];

	/* region 0: #0 datamatch 0x1234 (2 bytes) -> write op; #1 kick -> notify */
	assert_int_equal(add(dev, 0, 0x20, 2, DM, 0x1234, false), 0);
	assert_int_equal(add(dev, 0, 0x40, 4, 0, 0, true), 0);
	assert_int_equal(uvfio_device_ioeventfds(dev, 0, list, 4), 2);
	assert_int_equal(list[1].offset, 0x40);

	/* Without notify the device sees the write of the value, once per call. */
	assert_int_equal(uvfio_device_ioeventfd_signal(dev, 0, 0, 5), 0);
	assert_int_equal(bk.writes, 1);
	assert_int_equal(bk.last_pos, 0x20);
	assert_int_equal(bk.last_len, 2);
	assert_int_equal(bk.mem[0x20], 0x34);
	assert_int_equal(bk.mem[0x21], 0x12);
	assert_int_equal(bk.notify_calls, 0);

	/* With notify: the count, no write. */
	assert_int_equal(uvfio_device_ioeventfd_signal(dev, 0, 1, 3), 0);
	assert_int_equal(bk.notified, 3);
	assert_int_equal(bk.notify_calls, 1);
	assert_int_equal(bk.notify_ev->offset, 0x40);
	assert_int_equal(bk.writes, 1);
	/* count 0: nothing; no such doorbell: -EINVAL */
	assert_int_equal(uvfio_device_ioeventfd_signal(dev, 0, 1, 0), 0);
	assert_int_equal(bk.notify_calls, 1);
	assert_int_equal(uvfio_device_ioeventfd_signal(dev, 0, 2, 1), -EINVAL);
	assert_int_equal(uvfio_device_ioeventfd_signal(dev, 1, 0, 1), -EINVAL);
	assert_int_equal(uvfio_device_ioeventfd_signal(dev, 9, 0, 1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collisions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_and_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delivery, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
