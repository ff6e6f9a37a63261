/* SPDX-License-Identifier: MIT */
/* The migration stream's TLV writer and reader: framing, identity, bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <uvfio/log.h>
#include <uvfio/mig_stream.h>

static const struct uvfio_mig_id ID = { .type = "thing", .version = 3, .id = 0x1234567890ull };

static void quiet(enum uvfio_log_level level, const char *who, const char *msg, void *o)
{
}

/* header, u32 7=0xaabbccdd, section 9 { u64 1, bytes 2 "xyz" }, END */
static void build(struct uvfio_mig_writer *w)
{
	uvfio_mig_writer_init(w, 0);
	uvfio_mig_put_header(w, &ID);
	uvfio_mig_put_u32(w, 7, 0xaabbccdd);
	uvfio_mig_section_begin(w, 9);
	uvfio_mig_put_u64(w, 1, 0x1122334455667788ull);
	uvfio_mig_put(w, 2, "xyz", 3);
	uvfio_mig_section_end(w);
	assert_int_equal(uvfio_mig_put_end(w), 0);
}

static void test_round_trip(void **state)
{
	struct uvfio_mig_writer w;
	struct uvfio_mig_reader r, s;
	const void *v;
	uint16_t tag;
	size_t n;
	uint32_t u32;
	uint64_t u64;
	char b[3];

	build(&w);
	assert_int_equal(w.len, UVFIO_MIG_HDR_SIZE + (8 + 4) + (8 + (8 + 8) + (8 + 3)) + 8);
	assert_int_equal(uvfio_mig_open(&r, w.buf, w.len, &ID, "t"), 0);
	assert_int_equal(uvfio_mig_next(&r, &tag, &v, &n), 1);
	assert_int_equal(tag, 7);
	assert_int_equal(uvfio_mig_get_u64(v, n, &u64), -EINVAL); /* exact size only */
	assert_int_equal(uvfio_mig_get_u32(v, n, &u32), 0);
	assert_int_equal(u32, 0xaabbccdd);
	assert_int_equal(uvfio_mig_next(&r, &tag, &v, &n), 1);
	assert_int_equal(tag, 9);
	assert_int_equal(uvfio_mig_open_section(&s, v, n), 0);
	assert_int_equal(uvfio_mig_next(&s, &tag, &v, &n), 1);
	assert_int_equal(uvfio_mig_get_u64(v, n, &u64), 0);
	assert_int_equal(u64, 0x1122334455667788ull);
	assert_int_equal(uvfio_mig_next(&s, &tag, &v, &n), 1);
	assert_int_equal(uvfio_mig_get_bytes(v, n, b, 3), 0);
	assert_memory_equal(b, "xyz", 3);
	assert_int_equal(uvfio_mig_next(&s, &tag, &v, &n), 0);
	assert_int_equal(uvfio_mig_next(&r, &tag, &v, &n), 0); /* END */
	uvfio_mig_writer_fini(&w);
}

/* A stream cut after any byte is refused as a whole. */
static void test_truncated_everywhere(void **state)
{
	struct uvfio_mig_writer w;
	struct uvfio_mig_reader r;

	build(&w);
	for (size_t cut = 0; cut < w.len; cut++)
		assert_int_equal(uvfio_mig_open(&r, w.buf, cut, &ID, "t"), -EINVAL);
	/* and with a byte too many */
	{
		uint8_t *b = malloc(w.len + 1);

		memcpy(b, w.buf, w.len);
		b[w.len] = 0;
		assert_int_equal(uvfio_mig_open(&r, b, w.len + 1, &ID, "t"), -EINVAL);
		free(b);
	}
	uvfio_mig_writer_fini(&w);
}

static void test_identity(void **state)
{
	struct uvfio_mig_writer w;
	struct uvfio_mig_reader r;
	struct uvfio_mig_id other;

	build(&w);
	other = ID;
	other.type = "other";
	assert_int_equal(uvfio_mig_open(&r, w.buf, w.len, &other, "t"), -EINVAL);
	other = ID;
	other.version = 4;
	assert_int_equal(uvfio_mig_open(&r, w.buf, w.len, &other, "t"), -EINVAL);
	other = ID;
	other.id = 0x1234567891ull;
	assert_int_equal(uvfio_mig_open(&r, w.buf, w.len, &other, "t"), -EINVAL);
	w.buf[0] ^= 1; /* magic */
	assert_int_equal(uvfio_mig_open(&r, w.buf, w.len, &ID, "t"), -EINVAL);
	w.buf[0] ^= 1;
	w.buf[4] = 2; /* format */
	assert_int_equal(uvfio_mig_open(&r, w.buf, w.len, &ID, "t"), -EINVAL);
	w.buf[4] = 1;
	assert_int_equal(uvfio_mig_open(&r, w.buf, w.len, &ID, "t"), 0);
	uvfio_mig_writer_fini(&w);
}

static void test_bad_framing(void **state)
{
	struct uvfio_mig_writer w;
	struct uvfio_mig_reader r;
	size_t rec = UVFIO_MIG_HDR_SIZE;

	build(&w);
	/* a length past the end */
	w.buf[rec + 4] = 0xff;
	assert_int_equal(uvfio_mig_open(&r, w.buf, w.len, &ID, "t"), -EINVAL);
	w.buf[rec + 4] = 4;
	/* reserved bits set */
	w.buf[rec + 2] = 1;
	assert_int_equal(uvfio_mig_open(&r, w.buf, w.len, &ID, "t"), -EINVAL);
	w.buf[rec + 2] = 0;
	/* END with a length */
	w.buf[w.len - 4] = 1;
	assert_int_equal(uvfio_mig_open(&r, w.buf, w.len, &ID, "t"), -EINVAL);
	w.buf[w.len - 4] = 0;
	assert_int_equal(uvfio_mig_open(&r, w.buf, w.len, &ID, "t"), 0);
	/* a section whose inner records overrun it */
	{
		uint8_t sec[8 + 4] = { 1, 0, 0, 0, 8, 0, 0, 0, 1, 2, 3, 4 };

		assert_int_equal(uvfio_mig_open_section(&r, sec, sizeof(sec)), -EINVAL);
		sec[4] = 4;
		assert_int_equal(uvfio_mig_open_section(&r, sec, sizeof(sec)), 0);
		assert_int_equal(uvfio_mig_open_section(&r, sec, 7), -EINVAL);
	}
	uvfio_mig_writer_fini(&w);
}

static void test_writer_limits(void **state)
{
	struct uvfio_mig_writer w;
	static uint8_t big[100];
	struct uvfio_mig_id longname = { .type = "sixteen-chars-xx", .version = 1 };

	uvfio_mig_writer_init(&w, 64);
	uvfio_mig_put_header(&w, &ID);
	uvfio_mig_put(&w, 1, big, sizeof(big));
	assert_int_equal(uvfio_mig_put_end(&w), -E2BIG);
	uvfio_mig_writer_fini(&w);
	uvfio_mig_writer_init(&w, 0);
	uvfio_mig_put_header(&w, &longname);
	assert_int_equal(uvfio_mig_put_end(&w), -EINVAL);
	uvfio_mig_writer_fini(&w);
	/* a section left open */
	uvfio_mig_writer_init(&w, 0);
	uvfio_mig_put_header(&w, &ID);
	uvfio_mig_section_begin(&w, 1);
	assert_int_equal(uvfio_mig_put_end(&w), -EINVAL);
	uvfio_mig_writer_fini(&w);
}

static void test_buffer(void **state)
{
	struct uvfio_mig_buffer b;
	struct uvfio_mig_writer w;
	uint8_t out[16];

	uvfio_mig_buffer_init(&b, 10);
	assert_int_equal(uvfio_mig_buffer_append(&b, "0123456789", 10), 0);
	assert_int_equal(uvfio_mig_buffer_append(&b, "x", 1), -E2BIG);
	assert_int_equal(b.load_len, 10);
	build(&w);
	uvfio_mig_buffer_set_save(&b, &w);
	assert_null(w.buf);
	assert_int_equal(uvfio_mig_buffer_read(&b, out, sizeof(out)), 16);
	assert_int_equal(uvfio_mig_buffer_pending(&b), b.save_len - 16);
	while (uvfio_mig_buffer_read(&b, out, sizeof(out)))
		;
	assert_int_equal(uvfio_mig_buffer_read(&b, out, sizeof(out)), 0);
	uvfio_mig_buffer_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_bad_framing),
		cmocka_unit_test(test_writer_limits),
		cmocka_unit_test(test_buffer),
	};

	uvfio_log_set_sink(quiet, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
