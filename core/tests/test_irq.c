/* SPDX-License-Identifier: MIT */
/* SET_IRQS validation (the kernel's table) and the action engine, with
 * real eventfds whose counters are read back. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/device_internal.h"

#define DN VFIO_IRQ_SET_DATA_NONE
#define DB VFIO_IRQ_SET_DATA_BOOL
#define DE VFIO_IRQ_SET_DATA_EVENTFD
#define AM VFIO_IRQ_SET_ACTION_MASK
#define AU VFIO_IRQ_SET_ACTION_UNMASK
#define AT VFIO_IRQ_SET_ACTION_TRIGGER

enum { INTX = 0, MSI = 1, EMPTY = 2, NR_INDEXES = 3, MSI_COUNT = 4 };

static const struct uvfio_device_ops ops;

struct fixture {
	struct uvfio_device *dev;
	int efd[MSI_COUNT];
};

static int setup(void **state)
{
	static struct fixture fx;

	fx.dev = uvfio_device_create("irq", &ops, NULL);
	assert_non_null(fx.dev);
	assert_int_equal(uvfio_device_set_num_irqs(fx.dev, NR_INDEXES), 0);
	assert_int_equal(uvfio_device_set_irq_info(fx.dev, INTX, 1,
		VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED), 0);
	assert_int_equal(uvfio_device_set_irq_info(fx.dev, MSI, MSI_COUNT,
		VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE), 0);
	for (int i = 0; i < MSI_COUNT; i++) {
		fx.efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		assert_true(fx.efd[i] >= 0);
	}
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	uvfio_device_destroy(fx->dev);
	for (int i = 0; i < MSI_COUNT; i++)
		close(fx->efd[i]);
	return 0;
}

/* The eventfd counter, reset to 0 by the read; 0 when never signalled. */
static uint64_t counter(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static int set_irqs(struct uvfio_device *dev, uint32_t flags, uint32_t index,
		    uint32_t start, uint32_t count, const void *data, size_t len)
{
	struct vfio_irq_set hdr = {
		.argsz = (uint32_t)(sizeof(hdr) + len), .flags = flags,
		.index = index, .start = start, .count = count,
	};

	return uvfio_device_set_irqs(dev, &hdr, data, len);
}

struct vrow {
	const char *what;
	uint32_t argsz_delta; /* subtracted from 20 + data_len */
	uint32_t flags, index, start, count;
	size_t data_len;
	int ret;
};

/* reference §3.5, rule by rule; data bytes are -1 fds / zero bools. */
static const struct vrow vrows[] = {
	{ "argsz 19", 1 + 0, DN | AT, MSI, 0, 1, 0, -EINVAL },
	{ "argsz 0", 20, DN | AT, MSI, 0, 1, 0, -EINVAL },
	{ "index == num indexes", 0, DN | AT, NR_INDEXES, 0, 1, 0, -EINVAL },
	{ "index huge", 0, DN | AT, UINT32_MAX, 0, 1, 0, -EINVAL },
	{ "start+count wraps", 0, DN | AT, MSI, UINT32_MAX, 1, 0, -EINVAL },
	{ "start+count wraps 2", 0, DN | AT, MSI, 2, UINT32_MAX - 1, 0, -EINVAL },
	{ "count == U32_MAX - start", 0, DN | AT, MSI, 0, UINT32_MAX, 0, -EINVAL },
	{ "unknown flag bit", 0, DN | AT | (1u << 6), MSI, 0, 1, 0, -EINVAL },
	{ "start == count", 0, DN | AT, MSI, MSI_COUNT, 0, 0, -EINVAL },
	{ "start+count > count", 0, DN | AT, MSI, 2, 3, 0, -EINVAL },
	{ "last vector", 0, DN | AT, MSI, 3, 1, 0, 0 },
	{ "disable on empty index", 0, DN | AT, EMPTY, 0, 0, 0, -EINVAL },
	{ "no data bit", 0, AT, MSI, 0, 1, 0, -EINVAL },
	{ "NONE|BOOL", 0, DN | DB | AT, MSI, 0, 1, 1, -EINVAL },
	{ "BOOL|EVENTFD", 0, DB | DE | AT, MSI, 0, 1, 4, -EINVAL },
	{ "all data bits", 0, DN | DB | DE | AT, MSI, 0, 1, 4, -EINVAL },
	{ "eventfds short", 1, DE | AT, MSI, 0, 2, 8, -EINVAL },
	{ "eventfds exact", 0, DE | AT, MSI, 0, 2, 8, 0 },
	{ "bools short", 1, DB | AT, MSI, 0, 4, 4, -EINVAL },
	{ "bools exact", 0, DB | AT, MSI, 0, 4, 4, 0 },
	{ "eventfd count 0", 0, DE | AT, MSI, 0, 0, 0, 0 },
	{ "disable index", 0, DN | AT, MSI, 0, 0, 0, 0 },
	/* Past validation, the engine: one action exactly, MASK needs MASKABLE. */
	{ "no action", 0, DN, MSI, 0, 1, 0, -ENOTTY },
	{ "two actions", 0, DN | AM | AU, INTX, 0, 1, 0, -ENOTTY },
	{ "mask non-maskable", 0, DN | AM, MSI, 0, 1, 0, -ENOTTY },
	{ "mask eventfd", 0, DE | AM, INTX, 0, 1, 4, -ENOTTY },
	{ "unmask eventfd", 0, DE | AU, INTX, 0, 1, 4, -ENOTTY },
	{ "mask none", 0, DN | AM, INTX, 0, 1, 0, 0 },
};

static void test_validation_table(void **state)
{
	struct fixture *fx = *state;
	uint8_t data[16];

	memset(data, 0xff, sizeof(data)); /* fds -1; bools != 0 */
	for (size_t i = 0; i < sizeof(vrows) / sizeof(vrows[0]); i++) {
		const struct vrow *r = &vrows[i];
		struct vfio_irq_set hdr = {
			.argsz = (uint32_t)(20 + r->data_len - r->argsz_delta),
			.flags = r->flags, .index = r->index,
			.start = r->start, .count = r->count,
		};
		int ret = uvfio_device_set_irqs(fx->dev, &hdr, data, r->data_len);

		print_message("%s -> %d\n", r->what, ret);
		assert_int_equal(ret, r->ret);
	}
}

static void test_data_len_checked(void **state)
{
	struct fixture *fx = *state;
	int32_t fds[2] = { -1, -1 };
	struct vfio_irq_set hdr = { .argsz = 28, .flags = DE | AT, .index = MSI,
				    .start = 0, .count = 2 };

	/* argsz claims 8 bytes of fds but only 4 arrived. */
	assert_int_equal(uvfio_device_set_irqs(fx->dev, &hdr, fds, 4), -EINVAL);
	assert_int_equal(uvfio_device_set_irqs(fx->dev, &hdr, NULL, 8), -EINVAL);
	assert_int_equal(uvfio_device_set_irqs(fx->dev, &hdr, fds, 8), 0);
	assert_int_equal(uvfio_device_set_irqs(fx->dev, NULL, fds, 8), -EINVAL);
}

static void test_info(void **state)
{
	struct fixture *fx = *state;
	struct vfio_irq_info ii = { .argsz = 15, .index = MSI };

	assert_int_equal(uvfio_device_irq_info(fx->dev, &ii), -EINVAL);
	ii.argsz = 16;
	ii.index = NR_INDEXES;
	assert_int_equal(uvfio_device_irq_info(fx->dev, &ii), -EINVAL);
	ii.index = MSI;
	assert_int_equal(uvfio_device_irq_info(fx->dev, &ii), 0);
	assert_int_equal(ii.count, MSI_COUNT);
	assert_int_equal(ii.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
	assert_int_equal(uvfio_device_set_irq_info(fx->dev, NR_INDEXES, 1, 0), -EINVAL);
	assert_int_equal(uvfio_device_set_irq_info(fx->dev, EMPTY, 1, 1u << 4), -EINVAL);
}

static void test_msi_trigger(void **state)
{
	struct fixture *fx = *state;
	int32_t fds[MSI_COUNT];
	int32_t none = -1;

	for (int i = 0; i < MSI_COUNT; i++)
		fds[i] = fx->efd[i];
	assert_int_equal(uvfio_irq_trigger(fx->dev, MSI, 2), 0); /* no fd yet */
	assert_int_equal(set_irqs(fx->dev, DE | AT, MSI, 0, MSI_COUNT, fds, sizeof(fds)), 0);
	for (int i = 0; i < MSI_COUNT; i++)
		assert_true(uvfio_irq_has_trigger(fx->dev, MSI, i));

	assert_int_equal(uvfio_irq_trigger(fx->dev, MSI, 2), 1);
	assert_int_equal(uvfio_irq_trigger(fx->dev, MSI, 2), 1);
	assert_int_equal(counter(fx->efd[2]), 2);
	assert_int_equal(counter(fx->efd[0]), 0);
	assert_int_equal(uvfio_irq_trigger(fx->dev, MSI, MSI_COUNT), -EINVAL);
	assert_int_equal(uvfio_irq_trigger(fx->dev, NR_INDEXES, 0), -EINVAL);

	/* -1 de-assigns one vector, the others keep theirs. */
	assert_int_equal(set_irqs(fx->dev, DE | AT, MSI, 1, 1, &none, 4), 0);
	assert_false(uvfio_irq_has_trigger(fx->dev, MSI, 1));
	assert_true(uvfio_irq_has_trigger(fx->dev, MSI, 0));
	assert_int_equal(uvfio_irq_trigger(fx->dev, MSI, 1), 0);
	assert_int_equal(counter(fx->efd[1]), 0);

	/* Loopback: NONE fires all, BOOL the selected ones. */
	assert_int_equal(set_irqs(fx->dev, DN | AT, MSI, 0, MSI_COUNT, NULL, 0), 0);
	assert_int_equal(counter(fx->efd[0]), 1);
	assert_int_equal(counter(fx->efd[1]), 0);
	assert_int_equal(counter(fx->efd[2]), 1);
	assert_int_equal(counter(fx->efd[3]), 1);
	uint8_t sel[MSI_COUNT] = { 0, 0, 1, 0 };
	assert_int_equal(set_irqs(fx->dev, DB | AT, MSI, 0, MSI_COUNT, sel, sizeof(sel)), 0);
	assert_int_equal(counter(fx->efd[2]), 1);
	assert_int_equal(counter(fx->efd[0]), 0);

	/* count 0 + NONE + TRIGGER disables the index. */
	assert_int_equal(set_irqs(fx->dev, DN | AT, MSI, 0, 0, NULL, 0), 0);
	for (int i = 0; i < MSI_COUNT; i++)
		assert_false(uvfio_irq_has_trigger(fx->dev, MSI, i));
	assert_int_equal(uvfio_irq_trigger(fx->dev, MSI, 0), 0);
	assert_int_equal(counter(fx->efd[0]), 0);
}

static void test_dup_and_rollback(void **state)
{
	struct fixture *fx = *state;
	int32_t fds[2];

	/* The core keeps its own dup: the caller may close what it passed. */
	fds[0] = dup(fx->efd[0]);
	assert_int_equal(set_irqs(fx->dev, DE | AT, MSI, 0, 1, fds, 4), 0);
	close(fds[0]);
	assert_int_equal(uvfio_irq_trigger(fx->dev, MSI, 0), 1);
	assert_int_equal(counter(fx->efd[0]), 1);

	/* A bad fd in a block changes nothing in that block. */
	fds[0] = fx->efd[1];
	fds[1] = 1000000; /* not open */
	assert_int_equal(set_irqs(fx->dev, DE | AT, MSI, 0, 2, fds, 8), -EBADF);
	assert_int_equal(uvfio_irq_trigger(fx->dev, MSI, 0), 1);
	assert_int_equal(counter(fx->efd[0]), 1);
	assert_int_equal(counter(fx->efd[1]), 0);
	assert_false(uvfio_irq_has_trigger(fx->dev, MSI, 1));
}

static void test_intx_automask_pending(void **state)
{
	struct fixture *fx = *state;
	int32_t fd = fx->efd[0];
	uint8_t no = 0, yes = 1;

	assert_int_equal(set_irqs(fx->dev, DE | AT, INTX, 0, 1, &fd, 4), 0);
	assert_false(uvfio_irq_masked(fx->dev, INTX, 0));
	/* Delivery masks an AUTOMASKED index. */
	assert_int_equal(uvfio_irq_trigger(fx->dev, INTX, 0), 1);
	assert_true(uvfio_irq_masked(fx->dev, INTX, 0));
	assert_int_equal(counter(fd), 1);
	/* Masked: the next one waits as pending. */
	assert_int_equal(uvfio_irq_trigger(fx->dev, INTX, 0), 0);
	assert_true(uvfio_irq_pending(fx->dev, INTX, 0));
	assert_int_equal(counter(fd), 0);
	/* Unmask delivers the pending one, which masks again. */
	assert_int_equal(set_irqs(fx->dev, DN | AU, INTX, 0, 1, NULL, 0), 0);
	assert_int_equal(counter(fd), 1);
	assert_false(uvfio_irq_pending(fx->dev, INTX, 0));
	assert_true(uvfio_irq_masked(fx->dev, INTX, 0));
	/* Nothing pending now: unmask only unmasks. */
	assert_int_equal(set_irqs(fx->dev, DN | AU, INTX, 0, 1, NULL, 0), 0);
	assert_false(uvfio_irq_masked(fx->dev, INTX, 0));
	assert_int_equal(counter(fd), 0);

	/* BOOL mask: only a non-zero byte acts. */
	assert_int_equal(set_irqs(fx->dev, DB | AM, INTX, 0, 1, &no, 1), 0);
	assert_false(uvfio_irq_masked(fx->dev, INTX, 0));
	assert_int_equal(set_irqs(fx->dev, DB | AM, INTX, 0, 1, &yes, 1), 0);
	assert_true(uvfio_irq_masked(fx->dev, INTX, 0));
	assert_int_equal(set_irqs(fx->dev, DB | AU, INTX, 0, 1, &no, 1), 0);
	assert_true(uvfio_irq_masked(fx->dev, INTX, 0));
	assert_int_equal(set_irqs(fx->dev, DB | AU, INTX, 0, 1, &yes, 1), 0);
	assert_false(uvfio_irq_masked(fx->dev, INTX, 0));
}

static void test_device_side_mask(void **state)
{
	struct fixture *fx = *state;
	int32_t fd = fx->efd[3];

	assert_int_equal(set_irqs(fx->dev, DE | AT, MSI, 3, 1, &fd, 4), 0);
	uvfio_irq_set_masked(fx->dev, MSI, 3, true);
	assert_int_equal(uvfio_irq_trigger(fx->dev, MSI, 3), 0);
	assert_true(uvfio_irq_pending(fx->dev, MSI, 3));
	assert_int_equal(counter(fd), 0);
	uvfio_irq_set_masked(fx->dev, MSI, 3, false);
	assert_int_equal(counter(fd), 1);
	assert_false(uvfio_irq_pending(fx->dev, MSI, 3));
	/* MSI is not AUTOMASKED: it stays unmasked after delivery. */
	assert_false(uvfio_irq_masked(fx->dev, MSI, 3));
}

static void test_release(void **state)
{
	struct fixture *fx = *state;
	int32_t fd = fx->efd[0];

	assert_int_equal(set_irqs(fx->dev, DE | AT, MSI, 0, 1, &fd, 4), 0);
	assert_int_equal(set_irqs(fx->dev, DE | AT, INTX, 0, 1, &fd, 4), 0);
	uvfio_irq_release_all(fx->dev);
	assert_false(uvfio_irq_has_trigger(fx->dev, MSI, 0));
	assert_false(uvfio_irq_has_trigger(fx->dev, INTX, 0));

	/* The last close releases them too. */
	assert_int_equal(uvfio_device_open(fx->dev), 0);
	assert_int_equal(uvfio_device_open(fx->dev), 0);
	assert_int_equal(set_irqs(fx->dev, DE | AT, MSI, 0, 1, &fd, 4), 0);
	uvfio_device_close(fx->dev);
	assert_true(uvfio_irq_has_trigger(fx->dev, MSI, 0));
	uvfio_device_close(fx->dev);
	assert_false(uvfio_irq_has_trigger(fx->dev, MSI, 0));
}

struct trigger_worker {
	struct uvfio_device *dev;
	int delivered;
};

static void *trigger_loop(void *arg)
{
	struct trigger_worker *w = arg;

	for (int i = 0; i < 2000; i++)
		if (uvfio_irq_trigger(w->dev, MSI, 0) == 1)
			w->delivered++;
	return NULL;
}

/* Workers trigger while the "server" keeps swapping the eventfd: every
 * delivery reported lands in the counter, none is lost or doubled. */
static void test_concurrent_trigger(void **state)
{
	struct fixture *fx = *state;
	struct trigger_worker w[4];
	pthread_t t[4];
	int32_t fd = fx->efd[0], none = -1;
	int total = 0;

	for (int i = 0; i < 4; i++) {
		w[i] = (struct trigger_worker){ fx->dev, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, trigger_loop, &w[i]), 0);
	}
	for (int i = 0; i < 500; i++) {
		assert_int_equal(set_irqs(fx->dev, DE | AT, MSI, 0, 1, &fd, 4), 0);
		assert_int_equal(set_irqs(fx->dev, DE | AT, MSI, 0, 1, &none, 4), 0);
	}
	assert_int_equal(set_irqs(fx->dev, DE | AT, MSI, 0, 1, &fd, 4), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		total += w[i].delivered;
	}
	assert_int_equal(counter(fx->efd[0]), (uint64_t)total);
}

static int custom_calls;

static int custom_set_irqs(struct uvfio_device *dev, const struct vfio_irq_set *hdr,
			   const void *data)
{
	custom_calls++;
	if (hdr->index == INTX)
		return -EBUSY; /* e.g. another interrupt mode is active */
	return uvfio_irq_set_default(dev, hdr, data);
}

static void test_bus_hook(void **state)
{
	static const struct uvfio_device_ops hook_ops = { .set_irqs = custom_set_irqs };
	struct uvfio_device *dev = uvfio_device_create("irq-hook", &hook_ops, NULL);
	int efd = eventfd(0, EFD_NONBLOCK);
	int32_t fd = efd;

	assert_int_equal(uvfio_device_set_num_irqs(dev, 2), 0);
	assert_int_equal(uvfio_device_set_irq_info(dev, INTX, 1, VFIO_IRQ_INFO_EVENTFD), 0);
	assert_int_equal(uvfio_device_set_irq_info(dev, MSI, 1, VFIO_IRQ_INFO_EVENTFD), 0);
	/* Validation first: the hook never sees an invalid request. */
	assert_int_equal(set_irqs(dev, DE | AT, MSI, 1, 1, &fd, 4), -EINVAL);
	assert_int_equal(custom_calls, 0);
	assert_int_equal(set_irqs(dev, DE | AT, INTX, 0, 1, &fd, 4), -EBUSY);
	assert_int_equal(set_irqs(dev, DE | AT, MSI, 0, 1, &fd, 4), 0);
	assert_int_equal(custom_calls, 2);
	assert_int_equal(uvfio_irq_trigger(dev, MSI, 0), 1);
	assert_int_equal(counter(efd), 1);
	uvfio_device_destroy(dev);
	close(efd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_validation_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_len_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi_trigger, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dup_and_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx_automask_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_side_mask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_trigger, setup, teardown),
		cmocka_unit_test(test_bus_hook),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
