/* SPDX-License-Identifier: MIT */
/* VERSION capabilities JSON: valid, real peers' strings, unknown keys, malformed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "user/codec.h"

static int parse(const char *s, struct vu_caps *c)
{
	return vu_caps_parse(s, strlen(s), c);
}

static void test_defaults(void **state)
{
	struct vu_caps c;

	assert_int_equal(parse("{}", &c), 0);
	assert_int_equal(c.max_msg_fds, 1);
	assert_int_equal(c.max_data_xfer_size, 1u << 20);
	assert_int_equal(c.pgsizes, 4096);
	assert_int_equal(c.max_dma_maps, 65535);
	assert_false(c.write_multiple);
	assert_false(c.twin_socket);
	assert_int_equal(parse("{\"capabilities\":{}}", &c), 0);
	assert_int_equal(c.max_msg_fds, 1);
}

/* QEMU's client (qobject_to_json of its capability dict, with the legacy migration object). */
static void test_qemu(void **state)
{
	const char *qemu =
		"{\"capabilities\": {\"max_msg_fds\": 16, \"max_data_xfer_size\": 1048576, "
		"\"pgsizes\": 4096, \"max_dma_maps\": 65535, "
		"\"migration\": {\"pgsize\": 4096, \"max_bitmap_size\": 268435456}, "
		"\"write_multiple\": true}}";
	struct vu_caps c;

	assert_int_equal(parse(qemu, &c), 0);
	assert_int_equal(c.max_msg_fds, 16);
	assert_int_equal(c.max_data_xfer_size, 1048576);
	assert_int_equal(c.pgsizes, 4096);
	assert_int_equal(c.max_dma_maps, 65535);
	assert_true(c.write_multiple);
	assert_true(c.has_migration);
	assert_int_equal(c.mig_pgsize, 4096);
	assert_int_equal(c.mig_max_bitmap_size, 268435456);
}

static void test_libvfio_user_and_twin(void **state)
{
	const char *s = "{\n\t\"capabilities\" : {\"max_msg_fds\":8,\"max_data_xfer_size\":1048576,"
			"\"twin_socket\":{\"supported\":true,\"fd_index\":0},"
			"\"migration\":{\"pgsize\":4096}}\r\n}";
	struct vu_caps c;

	assert_int_equal(parse(s, &c), 0);
	assert_int_equal(c.max_msg_fds, 8);
	assert_true(c.twin_socket);
	assert_true(c.has_twin_fd_index);
	assert_int_equal(c.twin_fd_index, 0);
	assert_int_equal(c.mig_pgsize, 4096);
}

static void test_unknown_keys(void **state)
{
	const char *s = "{\"vendor\":{\"x\":[1,2,{\"y\":null}],\"z\":-1.5e3},"
			"\"capabilities\":{\"future_thing\":{\"a\":[true,false]},"
			"\"max_msg_fds\":4,\"shiny\":\"\\u00e9\\n\\\"\",\"a_very_long_key_name_that_is_longer_than_32\":1,"
			"\"max_data_xfer_size\":65536},\"zzz\":\"\"}";
	struct vu_caps c;

	assert_int_equal(parse(s, &c), 0);
	assert_int_equal(c.max_msg_fds, 4);
	assert_int_equal(c.max_data_xfer_size, 65536);
	/* a long key whose prefix is a known key is not that key */
	assert_int_equal(parse("{\"capabilities\":{\"max_msg_fds_and_then_some_more_letters\":\"x\"}}", &c), 0);
	assert_int_equal(c.max_msg_fds, 1);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		" ",
		"[]",
		"\"capabilities\"",
		"{",
		"{\"capabilities\"}",
		"{\"capabilities\":}",
		"{\"capabilities\":{},}",
		"{\"capabilities\":{\"max_msg_fds\":1,}}",
		"{\"capabilities\":{\"max_msg_fds\" 1}}",
		"{\"capabilities\":{max_msg_fds:1}}",
		"{'capabilities':{}}",
		"{\"capabilities\":{}}x",
		"{\"capabilities\":{}}{}",
		"{\"a\":tru}",
		"{\"a\":nul}",
		"{\"a\":01}",
		"{\"a\":1.}",
		"{\"a\":.5}",
		"{\"a\":1e}",
		"{\"a\":-}",
		"{\"a\":+1}",
		"{\"a\":\"unterminated}",
		"{\"a\":\"bad escape \\x\"}",
		"{\"a\":\"bad unicode \\u12G4\"}",
		"{\"a\":\"ctl \x01\"}",
		"{\"a\":[1,2}",
		"{\"a\":[1,]}",
		/* known keys with the wrong type or range */
		"{\"capabilities\":[]}",
		"{\"capabilities\":{\"max_msg_fds\":\"16\"}}",
		"{\"capabilities\":{\"max_msg_fds\":-1}}",
		"{\"capabilities\":{\"max_msg_fds\":1.5}}",
		"{\"capabilities\":{\"max_msg_fds\":1025}}",
		"{\"capabilities\":{\"max_data_xfer_size\":0}}",
		"{\"capabilities\":{\"max_data_xfer_size\":4294967296}}",
		"{\"capabilities\":{\"max_data_xfer_size\":99999999999999999999999}}",
		"{\"capabilities\":{\"pgsizes\":0}}",
		"{\"capabilities\":{\"max_dma_maps\":0}}",
		"{\"capabilities\":{\"write_multiple\":1}}",
		"{\"capabilities\":{\"twin_socket\":true}}",
		"{\"capabilities\":{\"twin_socket\":{\"supported\":\"yes\"}}}",
		"{\"capabilities\":{\"migration\":4096}}",
		"{\"capabilities\":{\"migration\":{\"pgsize\":0}}}",
	};
	struct vu_caps c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vu_caps_defaults(&c);
		c.max_msg_fds = 77;
		if (parse(bad[i], &c) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		/* the caller's caps are untouched on failure */
		assert_int_equal(c.max_msg_fds, 77);
	}
	/* an embedded NUL ends the text early: what follows is garbage */
	assert_int_equal(vu_caps_parse("{}\0{}", 5, &c), -EINVAL);
}

static void test_limits(void **state)
{
	char deep[64], big[VFIO_USER_MAX_CAPS_JSON + 16];
	struct vu_caps c;
	int d;

	/* depth: top object + 7 arrays = 8 is fine, 9 is not */
	for (d = 8; d <= 9; d++) {
		int n = snprintf(deep, sizeof(deep), "{\"a\":");
		for (int i = 1; i < d; i++)
			deep[n++] = '[';
		for (int i = 1; i < d; i++)
			deep[n++] = ']';
		deep[n++] = '}';
		deep[n] = 0;
		assert_int_equal(parse(deep, &c), d == 8 ? 0 : -EINVAL);
	}
	/* length: exactly the limit parses, one more byte does not */
	memset(big, ' ', sizeof(big));
	memcpy(big, "{}", 2);
	assert_int_equal(vu_caps_parse(big, VFIO_USER_MAX_CAPS_JSON, &c), 0);
	assert_int_equal(vu_caps_parse(big, VFIO_USER_MAX_CAPS_JSON + 1, &c), -EINVAL);
}

static void test_emit_roundtrip(void **state)
{
	struct vu_caps in, out;
	char buf[512];
	ssize_t n;

	vu_caps_defaults(&in);
	in.max_msg_fds = 16;
	in.max_data_xfer_size = 1 << 20;
	in.max_dma_maps = 1000;
	in.write_multiple = true;
	n = vu_caps_emit(&in, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	assert_int_equal(parse(buf, &out), 0);
	assert_int_equal(out.max_msg_fds, 16);
	assert_int_equal(out.max_dma_maps, 1000);
	assert_true(out.write_multiple);
	assert_false(out.twin_socket);
	assert_null(strstr(buf, "twin_socket"));
	in.twin_socket = true;
	in.has_twin_fd_index = true;
	in.twin_fd_index = 0;
	in.has_migration = true;
	in.mig_pgsize = 4096;
	n = vu_caps_emit(&in, buf, sizeof(buf));
	assert_int_equal(parse(buf, &out), 0);
	assert_true(out.twin_socket && out.has_twin_fd_index);
	assert_int_equal(out.mig_pgsize, 4096);
	/* too small a buffer */
	assert_int_equal(vu_caps_emit(&in, buf, (size_t)n), -ENOSPC);
	assert_int_equal(vu_caps_emit(&in, buf, (size_t)n + 1), n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_qemu),
		cmocka_unit_test(test_libvfio_user_and_twin),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_emit_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
