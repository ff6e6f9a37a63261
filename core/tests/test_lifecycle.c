/* SPDX-License-Identifier: MIT */
/* Open/close counting and unregister as the kernel does them. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/device_internal.h"

struct counters {
	int opens, closes, requests, releases;
	int open_result;
	unsigned int last_request;
	struct uvfio_device *dev;
	pthread_mutex_t lock;
	bool let_go; /* set by request: the holder thread drops its ref */
};

static int t_open(struct uvfio_device *dev)
{
	struct counters *c = uvfio_device_priv(dev);

	c->opens++;
	return c->open_result;
}

static void t_close(struct uvfio_device *dev)
{
	struct counters *c = uvfio_device_priv(dev);

	c->closes++;
}

static void t_request(struct uvfio_device *dev, unsigned int count)
{
	struct counters *c = uvfio_device_priv(dev);

	pthread_mutex_lock(&c->lock);
	c->requests++;
	c->last_request = count;
	/* Let go only on the third request, so the interval loop is seen. */
	if (count >= 2)
		c->let_go = true;
	pthread_mutex_unlock(&c->lock);
}

static void t_release(struct uvfio_device *dev)
{
	struct counters *c = uvfio_device_priv(dev);

	c->releases++;
}

static int t_reset(struct uvfio_device *dev)
{
	return 0;
}

static const struct uvfio_device_ops ops = {
	.open_device = t_open,
	.close_device = t_close,
	.request = t_request,
	.release = t_release,
};

static const struct uvfio_device_ops ops_reset = { .reset = t_reset };

static void test_open_close_counting(void **state)
{
	struct counters c = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct uvfio_device *dev = uvfio_device_create("life", &ops, &c);

	assert_non_null(dev);
	for (int i = 0; i < 5; i++)
		assert_int_equal(uvfio_device_open(dev), 0);
	assert_int_equal(c.opens, 1);
	assert_int_equal(uvfio_device_open_count(dev), 5);
	for (int i = 0; i < 4; i++)
		uvfio_device_close(dev);
	assert_int_equal(c.closes, 0);
	assert_int_equal(uvfio_device_open_count(dev), 1);
	uvfio_device_close(dev);
	assert_int_equal(c.closes, 1);
	assert_int_equal(uvfio_device_open_count(dev), 0);
	/* An extra close is refused, not counted below zero. */
	uvfio_device_close(dev);
	assert_int_equal(c.closes, 1);
	assert_int_equal(uvfio_device_open_count(dev), 0);
	/* A new first open calls open_device again. */
	assert_int_equal(uvfio_device_open(dev), 0);
	assert_int_equal(c.opens, 2);
	uvfio_device_close(dev);
	assert_int_equal(c.closes, 2);
	uvfio_device_destroy(dev);
}

static void test_failing_open(void **state)
{
	struct counters c = { .lock = PTHREAD_MUTEX_INITIALIZER, .open_result = -EIO };
	struct uvfio_device *dev = uvfio_device_create("life", &ops, &c);

	assert_int_equal(uvfio_device_open(dev), -EIO);
	assert_int_equal(uvfio_device_open_count(dev), 0);
	assert_int_equal(c.closes, 0);
	/* The next open is a first open again and reaches open_device. */
	c.open_result = 0;
	assert_int_equal(uvfio_device_open(dev), 0);
	assert_int_equal(c.opens, 2);
	assert_int_equal(uvfio_device_open_count(dev), 1);
	uvfio_device_close(dev);
	assert_int_equal(c.closes, 1);
	uvfio_device_destroy(dev);
}

static void test_refs(void **state)
{
	struct counters c = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct uvfio_device *dev = uvfio_device_create("life", &ops, &c);

	/* Not registered: no reference can be taken. */
	assert_false(uvfio_device_try_get(dev));
	assert_int_equal(uvfio_device_register(dev), 0);
	assert_int_equal(uvfio_device_register(dev), -EBUSY);
	assert_true(uvfio_device_try_get(dev));
	uvfio_device_put(dev);
	/* Nobody else holds it: unregister returns without asking anyone. */
	uvfio_device_unregister(dev);
	assert_int_equal(c.requests, 0);
	assert_int_equal(c.releases, 1);
}

static void *holder(void *arg)
{
	struct counters *c = arg;

	for (;;) {
		bool go;

		pthread_mutex_lock(&c->lock);
		go = c->let_go;
		pthread_mutex_unlock(&c->lock);
		if (go)
			break;
		usleep(1000);
	}
	/* A user that still had the device open closes it, then lets go. */
	uvfio_device_close(c->dev);
	uvfio_device_put(c->dev);
	return NULL;
}

static void test_unregister_waits(void **state)
{
	struct counters c = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct uvfio_device *dev = uvfio_device_create("life", &ops, &c);
	pthread_t t;

	c.dev = dev;
	uvfio_device_set_request_interval_ms(dev, 20);
	assert_int_equal(uvfio_device_register(dev), 0);
	assert_true(uvfio_device_try_get(dev));
	assert_int_equal(uvfio_device_open(dev), 0);
	assert_int_equal(pthread_create(&t, NULL, holder, &c), 0);

	uvfio_device_unregister(dev);

	/* Returned only after the holder let go, which it did on request 2. */
	assert_int_equal(c.requests, 3);
	assert_int_equal(c.last_request, 2);
	assert_int_equal(c.closes, 1);
	assert_int_equal(c.releases, 1);
	pthread_join(t, NULL);
}

static void test_info_and_reset(void **state)
{
	struct uvfio_device *dev = uvfio_device_create("life", &ops, NULL);
	struct uvfio_device *rdev = uvfio_device_create("life-reset", &ops_reset, NULL);
	struct vfio_device_info info = { .argsz = 15 };

	assert_int_equal(uvfio_device_get_info(dev, &info), -EINVAL);
	uvfio_device_set_flags(dev, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
	assert_int_equal(uvfio_device_set_num_regions(dev, 3), 0);
	assert_int_equal(uvfio_device_set_num_irqs(dev, 2), 0);
	info.argsz = sizeof(info);
	assert_int_equal(uvfio_device_get_info(dev, &info), 0);
	/* RESET only follows ops->reset. */
	assert_int_equal(info.flags, VFIO_DEVICE_FLAGS_PCI);
	assert_int_equal(info.num_regions, 3);
	assert_int_equal(info.num_irqs, 2);
	assert_int_equal(uvfio_device_reset(dev), -EINVAL);

	info.argsz = 16;
	assert_int_equal(uvfio_device_get_info(rdev, &info), 0);
	assert_int_equal(info.flags, VFIO_DEVICE_FLAGS_RESET);
	assert_int_equal(uvfio_device_reset(rdev), 0);
	uvfio_device_destroy(dev);
	uvfio_device_destroy(rdev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_close_counting),
		cmocka_unit_test(test_failing_open),
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_unregister_waits),
		cmocka_unit_test(test_info_and_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
