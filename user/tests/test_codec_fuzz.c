/* SPDX-License-Identifier: MIT */
/*
 * Deterministic random inputs through every codec parser and the caps JSON
 * parser. Each input lives in a buffer of exactly its length, so under
 * ASan any read past the payload fails the test. Results must be 0 or
 * -EINVAL, and accepted messages must satisfy the bounds the parsers
 * promise (the server relies on them).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "user/codec.h"

#define ITER 20000
#define XFER 4096u

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	/* xorshift64*: reproducible across runs and hosts */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

/* Random bytes, but small integers often, so parsers get past their first checks. */
static uint8_t *gen(size_t *len)
{
	size_t n = rnd() % 200;
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
	for (size_t i = 0; i + 4 <= n; i += 4) {
		uint32_t v;

		switch (rnd() % 4) {
		case 0:
			v = rnd() % 64;
			break;
		case 1:
			v = (uint32_t)n;
			break;
		default:
			continue;
		}
		memcpy(p + i, &v, 4);
	}
	*len = n;
	return p;
}

#define OK_OR_EINVAL(x)                                    \
	do {                                               \
		int _r = (x);                              \
		if (_r != 0 && _r != -EINVAL)              \
			fail_msg("%s returned %d", #x, _r); \
	} while (0)

static void test_fuzz_parsers(void **state)
{
	for (int it = 0; it < ITER; it++) {
		struct vfio_user_header h;
		struct vu_version v;
		struct vfio_user_dma_map dm;
		struct vu_dma_unmap du;
		struct vfio_user_device_info di;
		struct vfio_user_region_info ri;
		struct vu_region_caps caps;
		struct vfio_user_region_io_fds io;
		const void *ents;
		size_t stride;
		struct vfio_user_irq_info ii;
		struct vu_set_irqs si;
		struct vu_region_access ra;
		struct vu_dma_access da;
		struct vu_write_multi wm;
		struct vu_feature f;
		struct vu_mig_data md;
		uint64_t cnt;
		size_t len;
		uint8_t *p = gen(&len);
		int r;

		if (len >= 16) {
			r = vu_hdr_parse(p, len, 1024, &h);
			if (r && r != -EINVAL && r != -EMSGSIZE)
				fail_msg("hdr %d", r);
			if (!r)
				assert_true(h.msg_size >= 16 && h.msg_size <= 1024);
		}
		r = vu_version_req_parse(p, len, &v);
		OK_OR_EINVAL(r);
		if (!r && v.caps) {
			assert_true(v.caps + v.caps_len < (const char *)p + len);
			OK_OR_EINVAL(vu_caps_parse(v.caps, v.caps_len, &(struct vu_caps){ 0 }));
		}
		OK_OR_EINVAL(vu_dma_map_req_parse(p, len, &dm));
		r = vu_dma_unmap_req_parse(p, len, XFER, &du);
		OK_OR_EINVAL(r);
		if (!r && du.dirty)
			assert_true(du.bitmap.size <= XFER && du.bitmap.pgsize);
		r = vu_dma_unmap_rep_parse(p, len, XFER, &du);
		OK_OR_EINVAL(r);
		if (!r && du.dirty)
			assert_true((const uint8_t *)du.bits + du.bitmap.size <= p + len);
		OK_OR_EINVAL(vu_device_info_req_parse(p, len, &di));
		OK_OR_EINVAL(vu_region_info_req_parse(p, len, &ri));
		r = vu_region_info_rep_parse(p, len, &ri, &caps);
		OK_OR_EINVAL(r);
		if (!r)
			assert_true(caps.nr_areas <= VU_MAX_SPARSE_AREAS);
		OK_OR_EINVAL(vu_region_io_fds_req_parse(p, len, &io));
		r = vu_region_io_fds_rep_parse(p, len, &io, &ents, &stride);
		OK_OR_EINVAL(r);
		if (!r && ents) {
			struct vfio_user_sub_region_ioeventfd e;

			assert_true(stride == 40 || stride == 48);
			assert_true(16 + (uint64_t)io.count * stride <= len);
			vu_region_io_fds_entry(ents, stride, io.count - 1, &e);
		}
		OK_OR_EINVAL(vu_irq_info_req_parse(p, len, &ii));
		r = vu_set_irqs_req_parse(p, len, rnd() % 3, &si);
		OK_OR_EINVAL(r);
		if (!r && si.bools)
			assert_true(si.bools + si.s.count <= p + len);
		r = vu_region_read_req_parse(p, len, XFER, &ra);
		OK_OR_EINVAL(r);
		if (!r)
			assert_true(ra.count <= XFER);
		r = vu_region_read_rep_parse(p, len, XFER, &ra);
		OK_OR_EINVAL(r);
		if (!r)
			assert_true(ra.data + ra.count <= p + len);
		r = vu_region_write_req_parse(p, len, XFER, &ra);
		OK_OR_EINVAL(r);
		if (!r)
			assert_true(ra.data + ra.count == p + len);
		OK_OR_EINVAL(vu_region_write_rep_parse(p, len, &ra));
		OK_OR_EINVAL(vu_dma_read_req_parse(p, len, XFER, &da));
		r = vu_dma_read_rep_parse(p, len, XFER, &da);
		OK_OR_EINVAL(r);
		if (!r)
			assert_true(da.data + da.count == p + len);
		OK_OR_EINVAL(vu_dma_write_req_parse(p, len, XFER, &da));
		OK_OR_EINVAL(vu_dma_write_rep_parse(p, len, &da));
		r = vu_write_multi_req_parse(p, len, &wm);
		OK_OR_EINVAL(r);
		if (!r) {
			struct vfio_user_write_multi_data e;

			assert_true(8 + wm.wr_cnt * 24 <= len);
			for (uint64_t i = 0; i < wm.wr_cnt; i++) {
				vu_write_multi_entry(&wm, i, &e);
				assert_true(e.count <= 8);
			}
		}
		OK_OR_EINVAL(vu_write_multi_rep_parse(p, len, &cnt));
		r = vu_feature_req_parse(p, len, &f);
		OK_OR_EINVAL(r);
		if (!r)
			assert_true(f.data + f.data_len == p + len);
		OK_OR_EINVAL(vu_feature_rep_parse(p, len, &f));
		OK_OR_EINVAL(vu_mig_read_req_parse(p, len, XFER, &md));
		r = vu_mig_read_rep_parse(p, len, XFER, &md);
		OK_OR_EINVAL(r);
		if (!r)
			assert_true(md.data + md.size <= p + len);
		r = vu_mig_write_req_parse(p, len, XFER, &md);
		OK_OR_EINVAL(r);
		if (!r)
			assert_true(md.data + md.size == p + len);
		free(p);
	}
}

/* Mutations of real capability strings: flips, cuts, insertions. */
static void test_fuzz_json(void **state)
{
	static const char *const seeds[] = {
		"{\"capabilities\": {\"max_msg_fds\": 16, \"max_data_xfer_size\": 1048576, "
		"\"pgsizes\": 4096, \"max_dma_maps\": 65535, "
		"\"migration\": {\"pgsize\": 4096, \"max_bitmap_size\": 268435456}, "
		"\"write_multiple\": true}}",
		"{\"capabilities\":{\"twin_socket\":{\"supported\":true,\"fd_index\":0},"
		"\"x\":[1,-2.5e3,\"\\u00e9\",null,[[{}]]]}}",
	};
	static const char alphabet[] = "{}[]\":,\\ 0123456789-+.eEtruefalsn";
	int accepted = 0, rejected = 0;

	for (int it = 0; it < ITER; it++) {
		const char *seed = seeds[rnd() % 2];
		size_t n = strlen(seed), muts = 1 + rnd() % 4;
		char *s = malloc(n + 8);
		struct vu_caps c;
		int r;

		memcpy(s, seed, n);
		for (size_t k = 0; k < muts; k++) {
			size_t at = rnd() % n;

			switch (rnd() % 3) {
			case 0:
				s[at] = alphabet[rnd() % (sizeof(alphabet) - 1)];
				break;
			case 1:
				n = at; /* cut */
				break;
			default:
				s[at] = (char)rnd();
				break;
			}
			if (!n)
				break;
		}
		r = vu_caps_parse(s, n, &c);
		if (r == 0) {
			accepted++;
			assert_true(c.max_data_xfer_size >= 1);
			assert_true(c.max_msg_fds <= 1024);
			assert_true(c.pgsizes != 0);
		} else {
			assert_int_equal(r, -EINVAL);
			rejected++;
		}
		free(s);
	}
	/* the mutator reaches both outcomes */
	assert_true(accepted > 0 && rejected > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_parsers),
		cmocka_unit_test(test_fuzz_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
