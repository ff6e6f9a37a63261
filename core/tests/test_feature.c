/* SPDX-License-Identifier: MIT */
/* VFIO_DEVICE_FEATURE dispatch: the kernel's order of checks, table-driven. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/device_internal.h"

#define F_GET VFIO_DEVICE_FEATURE_GET
#define F_SET VFIO_DEVICE_FEATURE_SET
#define F_PROBE VFIO_DEVICE_FEATURE_PROBE

enum { IDX_GET = 20, IDX_SET = 21, IDX_GETSET = 22, IDX_MISSING = 99 };

static const uint64_t get_value = 0x1122334455667788ull;
static int calls;
static uint32_t last_set;

static int fn_get(struct uvfio_device *dev, uint32_t flags, void *data, size_t len,
		  size_t *out_len)
{
	calls++;
	memcpy(data, &get_value, sizeof(get_value));
	*out_len = sizeof(get_value);
	return 0;
}

static int fn_set(struct uvfio_device *dev, uint32_t flags, void *data, size_t len,
		  size_t *out_len)
{
	calls++;
	memcpy(&last_set, data, sizeof(last_set));
	return 0;
}

static int fn_getset(struct uvfio_device *dev, uint32_t flags, void *data, size_t len,
		     size_t *out_len)
{
	calls++;
	if (flags & F_GET) {
		memcpy(data, &last_set, sizeof(last_set));
		*out_len = sizeof(last_set);
	} else {
		memcpy(&last_set, data, sizeof(last_set));
	}
	return 0;
}

static const struct uvfio_device_ops ops; /* no mig_ops */

static int setup(void **state)
{
	static const struct uvfio_feature feats[] = {
		{ IDX_GET, F_GET, 8, fn_get },
		{ IDX_SET, F_SET, 4, fn_set },
		{ IDX_GETSET, F_GET | F_SET, 4, fn_getset },
	};
	struct uvfio_device *dev = uvfio_device_create("feat", &ops, NULL);

	assert_non_null(dev);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(uvfio_device_add_feature(dev, &feats[i]), 0);
	calls = 0;
	last_set = 0;
	*state = dev;
	return 0;
}

static int teardown(void **state)
{
	uvfio_device_destroy(*state);
	return 0;
}

/* One VFIO_DEVICE_FEATURE call with a 64-byte buffer holding 0xa5 data. */
static int feat(struct uvfio_device *dev, uint32_t flags, uint32_t argsz,
		size_t *reply_len)
{
	uint8_t buf[64];
	struct vfio_device_feature hdr = { .argsz = argsz, .flags = flags };

	memset(buf, 0xa5, sizeof(buf));
	memcpy(buf, &hdr, sizeof(hdr));
	return uvfio_device_feature(dev, buf, sizeof(buf), reply_len);
}

struct row {
	uint16_t index;
	uint32_t ops; /* GET/SET/PROBE bits of the request */
	int ret;
	bool called;
};

/* Every GET/SET/PROBE combination against each kind of feature, with enough
 * data (argsz 8 + 16). Expected values written from reference §1.2. */
static const struct row rows[] = {
	/* GET-only feature */
	{ IDX_GET, 0, -EINVAL, false },
	{ IDX_GET, F_GET, 0, true },
	{ IDX_GET, F_SET, -EINVAL, false },
	{ IDX_GET, F_GET | F_SET, -EINVAL, false },
	{ IDX_GET, F_PROBE, 0, false },
	{ IDX_GET, F_PROBE | F_GET, 0, false },
	{ IDX_GET, F_PROBE | F_SET, -EINVAL, false },
	{ IDX_GET, F_PROBE | F_GET | F_SET, -EINVAL, false },
	/* SET-only feature */
	{ IDX_SET, 0, -EINVAL, false },
	{ IDX_SET, F_GET, -EINVAL, false },
	{ IDX_SET, F_SET, 0, true },
	{ IDX_SET, F_GET | F_SET, -EINVAL, false },
	{ IDX_SET, F_PROBE, 0, false },
	{ IDX_SET, F_PROBE | F_GET, -EINVAL, false },
	{ IDX_SET, F_PROBE | F_SET, 0, false },
	{ IDX_SET, F_PROBE | F_GET | F_SET, -EINVAL, false },
	/* GET|SET feature */
	{ IDX_GETSET, 0, -EINVAL, false },
	{ IDX_GETSET, F_GET, 0, true },
	{ IDX_GETSET, F_SET, 0, true },
	{ IDX_GETSET, F_GET | F_SET, -EINVAL, false },
	{ IDX_GETSET, F_PROBE, 0, false },
	{ IDX_GETSET, F_PROBE | F_GET, 0, false },
	{ IDX_GETSET, F_PROBE | F_SET, 0, false },
	{ IDX_GETSET, F_PROBE | F_GET | F_SET, 0, false },
	/* A feature nobody offers: ENOTTY once the generic checks pass. */
	{ IDX_MISSING, F_GET, -ENOTTY, false },
	{ IDX_MISSING, F_SET, -ENOTTY, false },
	{ IDX_MISSING, F_PROBE | F_GET, -ENOTTY, false },
	{ IDX_MISSING, F_GET | F_SET, -EINVAL, false }, /* flags checked first */
	/* Migration indexes are core-owned: ENOTTY without mig_ops. */
	{ VFIO_DEVICE_FEATURE_MIGRATION, F_PROBE | F_GET, -ENOTTY, false },
	{ VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, F_GET, -ENOTTY, false },
	{ VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, F_GET, -ENOTTY, false },
};

static void test_ops_table(void **state)
{
	struct uvfio_device *dev = *state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int before = calls;
		int ret = feat(dev, rows[i].index | rows[i].ops, 8 + 16, NULL);

		print_message("row %zu: index %u ops 0x%x -> %d\n", i, rows[i].index,
			      rows[i].ops, ret);
		assert_int_equal(ret, rows[i].ret);
		assert_int_equal(calls - before, rows[i].called ? 1 : 0);
	}
}

static void test_unknown_flag_bits(void **state)
{
	struct uvfio_device *dev = *state;

	assert_int_equal(feat(dev, IDX_GET | F_GET | (1u << 19), 24, NULL), -EINVAL);
	assert_int_equal(feat(dev, IDX_GET | F_GET | (1u << 31), 24, NULL), -EINVAL);
	/* Before the index lookup: an unknown index still says EINVAL. */
	assert_int_equal(feat(dev, IDX_MISSING | F_GET | (1u << 20), 24, NULL), -EINVAL);
	assert_int_equal(calls, 0);
}

static void test_argsz_below_header(void **state)
{
	struct uvfio_device *dev = *state;

	for (uint32_t argsz = 0; argsz < 8; argsz++) {
		assert_int_equal(feat(dev, IDX_GET | F_GET, argsz, NULL), -EINVAL);
		assert_int_equal(feat(dev, IDX_MISSING | F_PROBE, argsz, NULL), -EINVAL);
	}
	assert_int_equal(calls, 0);
	/* argsz beyond the caller's buffer is never read. */
	assert_int_equal(feat(dev, IDX_GET | F_GET, 65, NULL), -EFAULT);
	assert_int_equal(calls, 0);
}

static void test_short_data(void **state)
{
	struct uvfio_device *dev = *state;

	/* minsz 8 for IDX_GET, 4 for the others. */
	assert_int_equal(feat(dev, IDX_GET | F_GET, 8 + 7, NULL), -EINVAL);
	assert_int_equal(feat(dev, IDX_GET | F_GET, 8 + 8, NULL), 0);
	assert_int_equal(feat(dev, IDX_SET | F_SET, 8 + 3, NULL), -EINVAL);
	assert_int_equal(feat(dev, IDX_SET | F_SET, 8 + 4, NULL), 0);
	assert_int_equal(feat(dev, IDX_GETSET | F_GET, 8, NULL), -EINVAL);
	/* PROBE does not look at the data size. */
	assert_int_equal(feat(dev, IDX_GET | F_PROBE | F_GET, 8, NULL), 0);
	assert_int_equal(calls, 2);
}

static void test_get_reply(void **state)
{
	struct uvfio_device *dev = *state;
	struct vfio_device_feature hdr = { .argsz = 8 + 16, .flags = IDX_GET | F_GET };
	uint8_t buf[8 + 16];
	size_t reply = 0;
	uint64_t got;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, &hdr, sizeof(hdr));
	assert_int_equal(uvfio_device_feature(dev, buf, sizeof(buf), &reply), 0);
	assert_int_equal(reply, 8 + 8);
	memcpy(&got, buf + 8, sizeof(got));
	assert_true(got == get_value);

	assert_int_equal(feat(dev, IDX_GET | F_PROBE | F_GET, 24, &reply), 0);
	assert_int_equal(reply, 8);
	assert_int_equal(feat(dev, IDX_MISSING | F_GET, 24, &reply), -ENOTTY);
	assert_int_equal(reply, 8);
}

static void test_set_then_get(void **state)
{
	struct uvfio_device *dev = *state;
	struct vfio_device_feature hdr = { .argsz = 12, .flags = IDX_GETSET | F_SET };
	uint8_t buf[12];
	uint32_t v = 0xcafe, got = 0;
	size_t reply = 0;

	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + 8, &v, sizeof(v));
	assert_int_equal(uvfio_device_feature(dev, buf, sizeof(buf), &reply), 0);
	assert_int_equal(reply, 8);

	hdr.flags = IDX_GETSET | F_GET;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &hdr, sizeof(hdr));
	assert_int_equal(uvfio_device_feature(dev, buf, sizeof(buf), &reply), 0);
	assert_int_equal(reply, 12);
	memcpy(&got, buf + 8, sizeof(got));
	assert_int_equal(got, 0xcafe);
}

static void test_add_remove(void **state)
{
	struct uvfio_device *dev = *state;
	struct uvfio_feature dup = { IDX_GET, F_GET, 0, fn_get };
	struct uvfio_feature mig = { VFIO_DEVICE_FEATURE_MIGRATION, F_GET, 8, fn_get };
	struct uvfio_feature noops = { 30, 0, 0, fn_get };

	assert_int_equal(uvfio_device_add_feature(dev, &dup), -EEXIST);
	assert_int_equal(uvfio_device_add_feature(dev, &mig), -EINVAL);
	assert_int_equal(uvfio_device_add_feature(dev, &noops), -EINVAL);
	assert_int_equal(uvfio_device_remove_feature(dev, IDX_GET), 0);
	assert_int_equal(uvfio_device_remove_feature(dev, IDX_GET), -ENOENT);
	assert_int_equal(feat(dev, IDX_GET | F_PROBE | F_GET, 24, NULL), -ENOTTY);
	/* The others survive the removal. */
	assert_int_equal(feat(dev, IDX_GETSET | F_PROBE | F_GET, 24, NULL), 0);
	assert_int_equal(feat(dev, IDX_SET | F_PROBE | F_SET, 24, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ops_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_flag_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_argsz_below_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_then_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_remove, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
