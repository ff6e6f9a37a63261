/* SPDX-License-Identifier: MIT */
/* Codec unit tests: every command both ways, truncated inputs, each bound. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/vfio.h>
#include <cmocka.h>

#include "user/codec.h"
#include "user/codec_util.h"

#define XFER 4096u

static uint8_t buf[8192];

/* Every parser must refuse each proper prefix of a valid payload shorter than `fixed`. */
#define ASSERT_TRUNCATED(fixed, call)                                   \
	do {                                                            \
		for (size_t _l = 0; _l < (fixed); _l++) {               \
			size_t len = _l;                                \
			assert_int_equal(call, -EINVAL);                \
		}                                                       \
	} while (0)

static void test_hdr(void **state)
{
	struct vfio_user_header h;

	vu_hdr_encode(buf, 7, VFIO_USER_REGION_READ, 16, 0, 0);
	assert_int_equal(vu_hdr_parse(buf, 16, 1024, &h), 0);
	assert_int_equal(h.msg_id, 7);
	assert_int_equal(h.cmd, VFIO_USER_REGION_READ);
	assert_int_equal(h.msg_size, 32);
	assert_int_equal(vu_hdr_payload_len(&h), 16);
	assert_false(vu_hdr_is_reply(&h));

	/* short buffer */
	assert_int_equal(vu_hdr_parse(buf, 15, 1024, &h), -EINVAL);
	/* msg_size bounds: < 16, == max, > max */
	vu_hdr_encode(buf, 1, 1, 0, 0, 0);
	((struct vfio_user_header *)buf)->msg_size = 15;
	assert_int_equal(vu_hdr_parse(buf, 16, 1024, &h), -EINVAL);
	((struct vfio_user_header *)buf)->msg_size = 1024;
	assert_int_equal(vu_hdr_parse(buf, 16, 1024, &h), 0);
	((struct vfio_user_header *)buf)->msg_size = 1025;
	assert_int_equal(vu_hdr_parse(buf, 16, 1024, &h), -EMSGSIZE);
	assert_int_equal(h.msg_id, 1); /* filled for the error reply */
	((struct vfio_user_header *)buf)->msg_size = UINT32_MAX;
	assert_int_equal(vu_hdr_parse(buf, 16, 1024, &h), -EMSGSIZE);

	/* type bits 2..15 are invalid, unknown flag bits too */
	for (uint32_t t = 2; t <= 0xf; t++) {
		vu_hdr_encode(buf, 1, 1, 0, t, 0);
		assert_int_equal(vu_hdr_parse(buf, 16, 1024, &h), -EINVAL);
	}
	vu_hdr_encode(buf, 1, 1, 0, 0x40, 0);
	assert_int_equal(vu_hdr_parse(buf, 16, 1024, &h), -EINVAL);
	/* error bit on a command */
	vu_hdr_encode(buf, 1, 1, 0, VFIO_USER_F_ERROR, 5);
	assert_int_equal(vu_hdr_parse(buf, 16, 1024, &h), -EINVAL);
	/* error reply with a payload */
	vu_hdr_encode(buf, 1, 1, 4, VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR, 5);
	assert_int_equal(vu_hdr_parse(buf, 16, 1024, &h), -EINVAL);
	/* no_reply is accepted */
	vu_hdr_encode(buf, 1, 10, 4, VFIO_USER_F_NO_REPLY, 0);
	assert_int_equal(vu_hdr_parse(buf, 16, 1024, &h), 0);
	assert_true(vu_hdr_no_reply(&h));

	/* error reply: 0x21, errno never 0 */
	vu_hdr_encode(buf, 3, 9, 0, 0, 0);
	assert_int_equal(vu_hdr_parse(buf, 16, 1024, &h), 0);
	vu_hdr_encode_error(buf + 16, &h, -ENOENT);
	assert_int_equal(vu_hdr_parse(buf + 16, 16, 1024, &h), 0);
	assert_int_equal(h.flags, 0x21);
	assert_int_equal(h.error_no, ENOENT);
	assert_int_equal(h.msg_id, 3);
	assert_int_equal(h.msg_size, 16);
	vu_hdr_encode_error(buf + 16, &h, 0);
	assert_int_equal(((struct vfio_user_header *)(buf + 16))->error_no, EINVAL);
}

static void test_fds_rules(void **state)
{
	assert_int_equal(vu_cmd_check_fds(VFIO_USER_DMA_MAP, false, 1, 16), 0);
	assert_int_equal(vu_cmd_check_fds(VFIO_USER_DMA_MAP, false, 2, 16), -EINVAL);
	assert_int_equal(vu_cmd_check_fds(VFIO_USER_DEVICE_SET_IRQS, false, 16, 16), 0);
	assert_int_equal(vu_cmd_check_fds(VFIO_USER_DEVICE_SET_IRQS, false, 17, 16), -EINVAL);
	assert_int_equal(vu_cmd_check_fds(VFIO_USER_REGION_READ, false, 1, 16), -EINVAL);
	assert_int_equal(vu_cmd_check_fds(VFIO_USER_VERSION, false, 1, 16), -EINVAL);
	assert_int_equal(vu_cmd_check_fds(VFIO_USER_VERSION, true, 1, 16), 0);
	assert_int_equal(vu_cmd_check_fds(VFIO_USER_DEVICE_GET_REGION_INFO, true, 1, 16), 0);
	assert_int_equal(vu_cmd_check_fds(VFIO_USER_DEVICE_GET_REGION_INFO, true, 2, 16), -EINVAL);
	assert_int_equal(vu_cmd_check_fds(VFIO_USER_REGION_READ, false, 0, 16), 0);
	assert_string_equal(vu_cmd_name(VFIO_USER_DMA_READ), "DMA_READ");
	assert_string_equal(vu_cmd_name(99), "UNKNOWN");
}

static void test_version(void **state)
{
	struct vu_version v;
	const char *json = "{\"capabilities\":{}}";
	ssize_t n = vu_version_req_encode(buf, sizeof(buf), 0, 2, json);

	assert_int_equal(n, 4 + strlen(json) + 1);
	assert_int_equal(vu_version_req_parse(buf, (size_t)n, &v), 0);
	assert_int_equal(v.major, 0);
	assert_int_equal(v.minor, 2);
	assert_int_equal(v.caps_len, strlen(json));
	assert_memory_equal(v.caps, json, v.caps_len);
	/* without JSON (SPDK) */
	n = vu_version_rep_encode(buf, sizeof(buf), 0, 1, NULL);
	assert_int_equal(n, 4);
	assert_int_equal(vu_version_rep_parse(buf, 4, &v), 0);
	assert_null(v.caps);
	assert_int_equal(v.minor, 1);
	ASSERT_TRUNCATED(4, vu_version_req_parse(buf, len, &v));
	/* unterminated JSON */
	memcpy(buf + 4, "{}", 2);
	assert_int_equal(vu_version_req_parse(buf, 6, &v), -EINVAL);
	/* too long */
	memset(buf + 4, ' ', VFIO_USER_MAX_CAPS_JSON);
	buf[4 + VFIO_USER_MAX_CAPS_JSON] = 0;
	assert_int_equal(vu_version_req_parse(buf, 4 + VFIO_USER_MAX_CAPS_JSON + 1, &v), -EINVAL);
	buf[4 + VFIO_USER_MAX_CAPS_JSON - 1] = 0;
	assert_int_equal(vu_version_req_parse(buf, 4 + VFIO_USER_MAX_CAPS_JSON, &v), 0);
	assert_int_equal(vu_version_req_encode(buf, 5, 0, 0, "{}"), -ENOSPC);
}

static void test_dma_map(void **state)
{
	struct vfio_user_dma_map m;
	ssize_t n = vu_dma_map_req_encode(buf, sizeof(buf), 3, 0x1000, 0x2000, 0x3000);

	assert_int_equal(n, 32);
	assert_int_equal(vu_dma_map_req_parse(buf, 32, &m), 0);
	assert_int_equal(m.argsz, 32);
	assert_int_equal(m.flags, 3);
	assert_int_equal(m.offset, 0x1000);
	assert_int_equal(m.addr, 0x2000);
	assert_int_equal(m.size, 0x3000);
	ASSERT_TRUNCATED(32, vu_dma_map_req_parse(buf, len, &m));
	/* longer payload tolerated */
	assert_int_equal(vu_dma_map_req_parse(buf, 40, &m), 0);
	/* argsz too small, unknown flags */
	((struct vfio_user_dma_map *)buf)->argsz = 31;
	assert_int_equal(vu_dma_map_req_parse(buf, 32, &m), -EINVAL);
	vu_dma_map_req_encode(buf, sizeof(buf), 4, 0, 0, 0x1000);
	assert_int_equal(vu_dma_map_req_parse(buf, 32, &m), -EINVAL);
	assert_int_equal(vu_dma_map_req_encode(buf, 31, 3, 0, 0, 0), -ENOSPC);
	assert_int_equal(vu_dma_map_rep_encode(buf, 0), 0);
	assert_int_equal(vu_dma_map_rep_parse(buf, 0), 0);
}

static void test_dma_unmap(void **state)
{
	struct vu_dma_unmap u;
	struct vfio_user_bitmap bm = { .pgsize = 4096, .size = 8 };
	uint64_t bits = 0x5;
	ssize_t n;

	n = vu_dma_unmap_req_encode(buf, sizeof(buf), 0, 0x1000, 0x2000, NULL);
	assert_int_equal(n, 24);
	assert_int_equal(vu_dma_unmap_req_parse(buf, 24, XFER, &u), 0);
	assert_false(u.dirty);
	assert_int_equal(u.addr, 0x1000);
	assert_int_equal(u.size, 0x2000);
	ASSERT_TRUNCATED(24, vu_dma_unmap_req_parse(buf, len, XFER, &u));
	n = vu_dma_unmap_rep_encode(buf + 100, 200, &u, NULL);
	assert_int_equal(n, 24);
	assert_int_equal(vu_dma_unmap_rep_parse(buf + 100, 24, XFER, &u), 0);

	/* ALL: addr = size = 0 only, not with the bitmap */
	vu_dma_unmap_req_encode(buf, sizeof(buf), VFIO_USER_F_DMA_UNMAP_ALL, 0, 0, NULL);
	assert_int_equal(vu_dma_unmap_req_parse(buf, 24, XFER, &u), 0);
	vu_dma_unmap_req_encode(buf, sizeof(buf), VFIO_USER_F_DMA_UNMAP_ALL, 0, 4096, NULL);
	assert_int_equal(vu_dma_unmap_req_parse(buf, 24, XFER, &u), -EINVAL);
	vu_dma_unmap_req_encode(buf, sizeof(buf), VFIO_USER_F_DMA_UNMAP_ALL | 1, 0, 0, &bm);
	assert_int_equal(vu_dma_unmap_req_parse(buf, 40, XFER, &u), -EINVAL);
	/* unknown flag */
	vu_dma_unmap_req_encode(buf, sizeof(buf), 4, 0, 4096, NULL);
	assert_int_equal(vu_dma_unmap_req_parse(buf, 24, XFER, &u), -EINVAL);

	/* dirty bitmap request and reply */
	n = vu_dma_unmap_req_encode(buf, sizeof(buf), 1, 0, 0x40000, &bm);
	assert_int_equal(n, 40);
	assert_int_equal(vu_dma_unmap_req_parse(buf, 39, XFER, &u), -EINVAL);
	assert_int_equal(vu_dma_unmap_req_parse(buf, 40, XFER, &u), 0);
	assert_true(u.dirty);
	assert_int_equal(u.bitmap.size, 8);
	n = vu_dma_unmap_rep_encode(buf + 100, 200, &u, &bits);
	assert_int_equal(n, 48);
	assert_int_equal(vu_dma_unmap_rep_parse(buf + 100, 48, XFER, &u), 0);
	assert_memory_equal(u.bits, &bits, 8);
	assert_int_equal(vu_dma_unmap_rep_parse(buf + 100, 47, XFER, &u), -EINVAL);
	assert_int_equal(vu_dma_unmap_rep_encode(buf + 100, 47, &u, &bits), -ENOSPC);
	/* bitmap size bound and pgsize 0 */
	bm.size = XFER + 1;
	vu_dma_unmap_req_encode(buf, sizeof(buf), 1, 0, 0x40000, &bm);
	assert_int_equal(vu_dma_unmap_req_parse(buf, 40, XFER, &u), -EINVAL);
	bm.size = 8;
	bm.pgsize = 0;
	vu_dma_unmap_req_encode(buf, sizeof(buf), 1, 0, 0x40000, &bm);
	assert_int_equal(vu_dma_unmap_req_parse(buf, 40, XFER, &u), -EINVAL);
}

static void test_quads(void **state)
{
	struct vfio_user_device_info di;
	struct vfio_user_irq_info ii, in = { .argsz = 16, .flags = 3, .index = 2, .count = 4 };

	assert_int_equal(vu_device_info_req_encode(buf, sizeof(buf)), 16);
	assert_int_equal(vu_device_info_req_parse(buf, 16, &di), 0);
	assert_int_equal(di.argsz, 16);
	ASSERT_TRUNCATED(16, vu_device_info_req_parse(buf, len, &di));
	((struct vfio_user_device_info *)buf)->argsz = 15;
	assert_int_equal(vu_device_info_req_parse(buf, 16, &di), -EINVAL);
	assert_int_equal(vu_device_info_rep_encode(buf, 16, 1, 3, 1), 16);
	assert_int_equal(vu_device_info_rep_parse(buf, 16, &di), 0);
	assert_int_equal(di.flags, 1);
	assert_int_equal(di.num_regions, 3);
	assert_int_equal(di.num_irqs, 1);
	assert_int_equal(vu_device_info_rep_encode(buf, 15, 1, 3, 1), -ENOSPC);

	assert_int_equal(vu_irq_info_req_encode(buf, 16, 2), 16);
	assert_int_equal(vu_irq_info_req_parse(buf, 16, &ii), 0);
	assert_int_equal(ii.index, 2);
	ASSERT_TRUNCATED(16, vu_irq_info_req_parse(buf, len, &ii));
	assert_int_equal(vu_irq_info_rep_encode(buf, 16, &in), 16);
	assert_int_equal(vu_irq_info_rep_parse(buf, 16, &ii), 0);
	assert_int_equal(ii.count, 4);
	assert_int_equal(ii.flags, 3);
}

static size_t build_region_info(uint8_t *p, uint32_t nr_areas)
{
	struct vfio_user_region_info ri = {
		.flags = VFIO_USER_F_REGION_READ | VFIO_USER_F_REGION_MMAP |
			 VFIO_USER_F_REGION_CAPS,
		.index = 1, .cap_offset = 32, .size = 0x2000, .offset = 0,
	};
	struct vfio_user_cap_sparse_mmap sp = {
		.header = { .id = VFIO_USER_CAP_SPARSE_MMAP, .version = 1, .next = 0 },
		.nr_areas = nr_areas,
	};
	struct vfio_user_sparse_area a = { .offset = 0x1000, .size = 0x1000 };
	struct vfio_user_cap_type ty = {
		.header = { .id = VFIO_USER_CAP_TYPE, .version = 1 },
		.type = 7, .subtype = 9,
	};
	size_t off = 32 + sizeof(sp) + nr_areas * sizeof(a);

	sp.header.next = (uint32_t)off;
	for (uint32_t i = 0; i < nr_areas; i++)
		memcpy(p + 32 + sizeof(sp) + i * sizeof(a), &a, sizeof(a));
	memcpy(p + 32, &sp, sizeof(sp));
	memcpy(p + off, &ty, sizeof(ty));
	off += sizeof(ty);
	ri.argsz = (uint32_t)off;
	memcpy(p, &ri, sizeof(ri));
	return off;
}

static void test_region_info(void **state)
{
	struct vfio_user_region_info ri;
	struct vu_region_caps caps;
	uint8_t info[512];
	size_t ilen;

	assert_int_equal(vu_region_info_req_encode(buf, sizeof(buf), 5, 32), 32);
	assert_int_equal(vu_region_info_req_parse(buf, 32, &ri), 0);
	assert_int_equal(ri.index, 5);
	ASSERT_TRUNCATED(32, vu_region_info_req_parse(buf, len, &ri));
	assert_int_equal(vu_region_info_req_encode(buf, sizeof(buf), 5, 31), -EINVAL);
	((struct vfio_user_region_info *)buf)->argsz = 31;
	assert_int_equal(vu_region_info_req_parse(buf, 32, &ri), -EINVAL);

	ilen = build_region_info(info, 1);
	assert_int_equal(vu_region_info_rep_encode(buf, sizeof(buf), info, ilen), (ssize_t)ilen);
	assert_int_equal(vu_region_info_rep_parse(buf, ilen, &ri, &caps), 0);
	assert_true(caps.has_sparse);
	assert_int_equal(caps.nr_areas, 1);
	assert_int_equal(caps.areas[0].offset, 0x1000);
	assert_true(caps.has_type);
	assert_int_equal(caps.type, 7);
	assert_int_equal(caps.subtype, 9);
	/* each truncation of the chain is caught */
	for (size_t l = 32; l < ilen; l++)
		assert_int_equal(vu_region_info_rep_parse(buf, l, &ri, &caps), -EINVAL);
	/* too many areas */
	ilen = build_region_info(info, VU_MAX_SPARSE_AREAS + 1);
	assert_int_equal(vu_region_info_rep_parse(info, ilen, &ri, &caps), -EINVAL);
	/* a loop: next pointing back */
	ilen = build_region_info(info, 1);
	((struct vfio_user_cap_type *)(info + ilen - 16))->header.next = 32;
	assert_int_equal(vu_region_info_rep_parse(info, ilen, &ri, &caps), -EINVAL);
	/* cap_offset inside the struct */
	ilen = build_region_info(info, 1);
	((struct vfio_user_region_info *)info)->cap_offset = 8;
	assert_int_equal(vu_region_info_rep_parse(info, ilen, &ri, &caps), -EINVAL);
	/* short reply (argsz retry): CAPS set, cap_offset 0 */
	((struct vfio_user_region_info *)info)->cap_offset = 0;
	assert_int_equal(vu_region_info_rep_parse(info, 32, &ri, &caps), 0);
	assert_false(caps.has_sparse);
	assert_int_equal(vu_region_info_rep_encode(buf, 10, info, 32), -ENOSPC);
	assert_int_equal(vu_region_info_rep_encode(buf, 100, info, 31), -EINVAL);
}

static void test_io_fds(void **state)
{
	struct vfio_user_region_io_fds r;
	struct vfio_user_sub_region_ioeventfd e[2] = {
		{ .offset = 8, .size = 4, .fd_index = 0, .flags = 1, .datamatch = 0x11 },
		{ .offset = 16, .size = 8, .fd_index = 1, .datamatch = 0x2222222222ull } };
	struct vfio_user_sub_region_ioeventfd got;
	const void *ents;
	size_t stride;

	assert_int_equal(vu_region_io_fds_req_encode(buf, 16, 1, 1024), 16);
	assert_int_equal(vu_region_io_fds_req_parse(buf, 16, &r), 0);
	assert_int_equal(r.index, 1);
	ASSERT_TRUNCATED(16, vu_region_io_fds_req_parse(buf, len, &r));
	((struct vfio_user_region_io_fds *)buf)->flags = 1;
	assert_int_equal(vu_region_io_fds_req_parse(buf, 16, &r), -EINVAL);
	/* reply with entries that fit, and a short one */
	assert_int_equal(vu_region_io_fds_rep_encode(buf, sizeof(buf), 1, 1024, e, 2), 96);
	assert_int_equal(vu_region_io_fds_rep_parse(buf, 96, &r, &ents, &stride), 0);
	assert_int_equal(r.count, 2);
	assert_non_null(ents);
	assert_int_equal(stride, 40);
	vu_region_io_fds_entry(ents, stride, 1, &got);
	assert_int_equal(got.offset, 16);
	assert_int_equal(got.size, 8);
	assert_int_equal(got.fd_index, 1);
	assert_int_equal(got.datamatch, 0x2222222222ull);
	ASSERT_TRUNCATED(16, vu_region_io_fds_rep_parse(buf, len, &r, &ents, &stride));
	assert_int_equal(vu_region_io_fds_rep_encode(buf, sizeof(buf), 1, 16, e, 2), 16);
	assert_int_equal(vu_region_io_fds_rep_parse(buf, 16, &r, &ents, &stride), 0);
	assert_int_equal(r.argsz, 96);
	assert_int_equal(r.count, 2);
	assert_null(ents);
	/* 95 bytes offered for 96: still the short reply */
	assert_int_equal(vu_region_io_fds_rep_encode(buf, sizeof(buf), 1, 95, e, 2), 16);
	assert_int_equal(vu_region_io_fds_rep_encode(buf, sizeof(buf), 1, 16, NULL, 0), 16);
	assert_int_equal(vu_region_io_fds_rep_parse(buf, 16, &r, &ents, &stride), 0);
	assert_null(ents);

	/* libvfio-user's 48-byte entries: datamatch after the shadow fields */
	memset(buf, 0, 16 + 2 * 48);
	vu_st32(buf, 0, 16 + 2 * 48);
	vu_st32(buf, 12, 2);
	vu_st64(buf, 16 + 48, 0x40);		/* entry 1: offset */
	vu_st64(buf, 16 + 48 + 8, 2);		/* size */
	vu_st32(buf, 16 + 48 + 16, 1);		/* fd_index */
	vu_st32(buf, 16 + 48 + 24, 1);		/* flags: DATAMATCH */
	vu_st64(buf, 16 + 48 + 32, 0xdead);	/* shadow_offset */
	vu_st64(buf, 16 + 48 + 40, 0xbeef);	/* datamatch */
	assert_int_equal(vu_region_io_fds_rep_parse(buf, 16 + 96, &r, &ents, &stride), 0);
	assert_int_equal(stride, 48);
	vu_region_io_fds_entry(ents, stride, 1, &got);
	assert_int_equal(got.offset, 0x40);
	assert_int_equal(got.size, 2);
	assert_int_equal(got.fd_index, 1);
	assert_int_equal(got.flags, 1);
	assert_int_equal(got.datamatch, 0xbeef);
	/* any other stride, and flags, are malformed */
	vu_st32(buf, 0, 16 + 2 * 44);
	assert_int_equal(vu_region_io_fds_rep_parse(buf, 16 + 96, &r, &ents, &stride), -EINVAL);
	vu_st32(buf, 0, 16 + 2 * 48 - 1);
	assert_int_equal(vu_region_io_fds_rep_parse(buf, 16 + 96, &r, &ents, &stride), -EINVAL);
	vu_st32(buf, 0, 16 + 2 * 48);
	vu_st32(buf, 4, 1);
	assert_int_equal(vu_region_io_fds_rep_parse(buf, 16 + 96, &r, &ents, &stride), -EINVAL);
}

static void test_set_irqs(void **state)
{
	struct vu_set_irqs s;
	uint8_t bools[4] = { 1, 0, 1, 0 };
	uint32_t ev = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	ssize_t n;

	n = vu_set_irqs_req_encode(buf, sizeof(buf), ev, 0, 0, 4, NULL);
	assert_int_equal(n, 20);
	assert_int_equal(vu_set_irqs_req_parse(buf, 20, 4, &s), 0);
	assert_int_equal(vu_set_irqs_req_parse(buf, 20, 0, &s), 0); /* de-assign */
	assert_int_equal(vu_set_irqs_req_parse(buf, 20, 3, &s), -EINVAL);
	assert_int_equal(vu_set_irqs_req_parse(buf, 20, 5, &s), -EINVAL);
	ASSERT_TRUNCATED(20, vu_set_irqs_req_parse(buf, len, 0, &s));

	n = vu_set_irqs_req_encode(buf, sizeof(buf),
				   VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK,
				   0, 0, 4, bools);
	assert_int_equal(n, 24);
	assert_int_equal(vu_set_irqs_req_parse(buf, 24, 0, &s), 0);
	assert_memory_equal(s.bools, bools, 4);
	assert_int_equal(vu_set_irqs_req_parse(buf, 23, 0, &s), -EINVAL);
	assert_int_equal(vu_set_irqs_req_parse(buf, 24, 1, &s), -EINVAL);

	/* two DATA bits, two ACTION bits, none, unknown bits */
	vu_set_irqs_req_encode(buf, sizeof(buf), ev | VFIO_IRQ_SET_DATA_NONE, 0, 0, 1, NULL);
	assert_int_equal(vu_set_irqs_req_parse(buf, 20, 0, &s), -EINVAL);
	vu_set_irqs_req_encode(buf, sizeof(buf), ev | VFIO_IRQ_SET_ACTION_MASK, 0, 0, 1, NULL);
	assert_int_equal(vu_set_irqs_req_parse(buf, 20, 0, &s), -EINVAL);
	vu_set_irqs_req_encode(buf, sizeof(buf), VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, 1, NULL);
	assert_int_equal(vu_set_irqs_req_parse(buf, 20, 0, &s), -EINVAL);
	vu_set_irqs_req_encode(buf, sizeof(buf), ev | 0x40, 0, 0, 1, NULL);
	assert_int_equal(vu_set_irqs_req_parse(buf, 20, 0, &s), -EINVAL);
	/* start + count wraps */
	vu_set_irqs_req_encode(buf, sizeof(buf), ev, 0, UINT32_MAX, 2, NULL);
	assert_int_equal(vu_set_irqs_req_parse(buf, 20, 0, &s), -EINVAL);
	/* NONE with fds */
	vu_set_irqs_req_encode(buf, sizeof(buf),
			       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, 1, NULL);
	assert_int_equal(vu_set_irqs_req_parse(buf, 20, 1, &s), -EINVAL);
	assert_int_equal(vu_set_irqs_req_parse(buf, 20, 0, &s), 0);
	/* argsz below the struct */
	((struct vfio_user_irq_set *)buf)->argsz = 19;
	assert_int_equal(vu_set_irqs_req_parse(buf, 20, 0, &s), -EINVAL);
}

static void test_region_rw(void **state)
{
	struct vu_region_access a;
	const char data[4] = "abcd";
	ssize_t n;

	n = vu_region_read_req_encode(buf, sizeof(buf), 2, 0x10, 4);
	assert_int_equal(n, 16);
	assert_int_equal(vu_region_read_req_parse(buf, 16, XFER, &a), 0);
	assert_int_equal(a.region, 2);
	assert_int_equal(a.offset, 0x10);
	assert_int_equal(a.count, 4);
	ASSERT_TRUNCATED(16, vu_region_read_req_parse(buf, len, XFER, &a));
	/* count bound: max ok, max + 1 not */
	vu_region_read_req_encode(buf, sizeof(buf), 2, 0, XFER);
	assert_int_equal(vu_region_read_req_parse(buf, 16, XFER, &a), 0);
	vu_region_read_req_encode(buf, sizeof(buf), 2, 0, XFER + 1);
	assert_int_equal(vu_region_read_req_parse(buf, 16, XFER, &a), -EINVAL);
	/* offset + count wraps */
	vu_region_read_req_encode(buf, sizeof(buf), 2, UINT64_MAX - 1, 4);
	assert_int_equal(vu_region_read_req_parse(buf, 16, XFER, &a), -EINVAL);
	vu_region_read_req_encode(buf, sizeof(buf), 2, UINT64_MAX - 3, 3);
	assert_int_equal(vu_region_read_req_parse(buf, 16, XFER, &a), 0);

	n = vu_region_read_rep_encode(buf, sizeof(buf), 2, 0x10, data, 4);
	assert_int_equal(n, 20);
	assert_int_equal(vu_region_read_rep_parse(buf, 20, XFER, &a), 0);
	assert_memory_equal(a.data, data, 4);
	assert_int_equal(vu_region_read_rep_parse(buf, 19, XFER, &a), -EINVAL);

	n = vu_region_write_req_encode(buf, sizeof(buf), 1, 8, data, 4);
	assert_int_equal(n, 20);
	assert_int_equal(vu_region_write_req_parse(buf, 20, XFER, &a), 0);
	assert_memory_equal(a.data, data, 4);
	/* data length must equal count, both ways */
	assert_int_equal(vu_region_write_req_parse(buf, 19, XFER, &a), -EINVAL);
	assert_int_equal(vu_region_write_req_parse(buf, 21, XFER, &a), -EINVAL);
	ASSERT_TRUNCATED(16, vu_region_write_req_parse(buf, len, XFER, &a));
	assert_int_equal(vu_region_write_rep_encode(buf, 16, 1, 8, 4), 16);
	assert_int_equal(vu_region_write_rep_parse(buf, 16, &a), 0);
	assert_int_equal(a.count, 4);
	assert_int_equal(vu_region_write_req_encode(buf, 19, 1, 8, data, 4), -ENOSPC);
}

static void test_dma_rw(void **state)
{
	struct vu_dma_access d;
	uint8_t data[16];
	ssize_t n;

	memset(data, 0xab, sizeof(data));
	n = vu_dma_read_req_encode(buf, sizeof(buf), 0x1000, 16);
	assert_int_equal(n, 16);
	assert_int_equal(vu_dma_read_req_parse(buf, 16, XFER, &d), 0);
	assert_int_equal(d.addr, 0x1000);
	assert_int_equal(d.count, 16);
	ASSERT_TRUNCATED(16, vu_dma_read_req_parse(buf, len, XFER, &d));
	vu_dma_read_req_encode(buf, sizeof(buf), 0, (uint64_t)XFER + 1);
	assert_int_equal(vu_dma_read_req_parse(buf, 16, XFER, &d), -EINVAL);
	vu_dma_read_req_encode(buf, sizeof(buf), UINT64_MAX, 2);
	assert_int_equal(vu_dma_read_req_parse(buf, 16, XFER, &d), -EINVAL);

	/* data at payload offset 16 (u64 count) */
	n = vu_dma_read_rep_encode(buf, sizeof(buf), 0x1000, data, 16);
	assert_int_equal(n, 32);
	assert_memory_equal(buf + 16, data, 16);
	assert_int_equal(vu_dma_read_rep_parse(buf, 32, XFER, &d), 0);
	assert_ptr_equal(d.data, buf + 16);
	assert_int_equal(vu_dma_read_rep_parse(buf, 31, XFER, &d), -EINVAL);
	assert_int_equal(vu_dma_read_rep_parse(buf, 33, XFER, &d), -EINVAL);

	assert_false(d.narrow);
	/* QEMU's u32 layout: count at 8, data at 12 */
	{
		uint64_t addr = 0x1000;
		uint32_t c32 = 16;

		memcpy(buf, &addr, 8);
		memcpy(buf + 8, &c32, 4);
		memcpy(buf + 12, data, 16);
		assert_int_equal(vu_dma_read_rep_parse(buf, 28, XFER, &d), 0);
		assert_true(d.narrow);
		assert_int_equal(d.count, 16);
		assert_int_equal(d.addr, 0x1000);
		assert_ptr_equal(d.data, buf + 12);
		assert_int_equal(vu_dma_read_rep_parse(buf, 27, XFER, &d), -EINVAL);
		assert_int_equal(vu_dma_read_rep_parse(buf, 11, XFER, &d), -EINVAL);
		c32 = XFER + 1;
		memcpy(buf + 8, &c32, 4);
		assert_int_equal(vu_dma_read_rep_parse(buf, 12 + XFER + 1, XFER, &d), -EINVAL);
		assert_int_equal(vu_dma_write_req_encode_u32(buf, sizeof(buf), 0x2000, data, 16), 28);
		memcpy(&c32, buf + 8, 4);
		assert_int_equal(c32, 16);
		assert_memory_equal(buf + 12, data, 16);
		assert_int_equal(vu_dma_write_req_encode_u32(buf, 27, 0x2000, data, 16), -ENOSPC);
	}

	n = vu_dma_write_req_encode(buf, sizeof(buf), 0x2000, data, 16);
	assert_int_equal(n, 32);
	assert_int_equal(vu_dma_write_req_parse(buf, 32, XFER, &d), 0);
	assert_int_equal(vu_dma_write_req_parse(buf, 28, XFER, &d), -EINVAL);
	assert_int_equal(vu_dma_write_rep_encode(buf, 16, 0x2000, 16), 16);
	assert_int_equal(vu_dma_write_rep_parse(buf, 16, &d), 0);
	assert_int_equal(d.count, 16);
	assert_int_equal(vu_dma_write_rep_parse(buf, 0, &d), 0); /* QEMU */
	assert_int_equal(vu_dma_write_rep_parse(buf, 8, &d), -EINVAL);
}

static void test_write_multi(void **state)
{
	struct vfio_user_write_multi_data w[3], e;
	struct vu_write_multi m;
	uint64_t cnt;
	ssize_t n;

	memset(w, 0, sizeof(w));
	for (int i = 0; i < 3; i++) {
		w[i].offset = (uint64_t)i * 4;
		w[i].region = 0;
		w[i].count = 4;
		memset(w[i].data, i + 1, 4);
	}
	n = vu_write_multi_req_encode(buf, sizeof(buf), w, 3);
	assert_int_equal(n, 8 + 3 * 24);
	assert_int_equal(vu_write_multi_req_parse(buf, (size_t)n, &m), 0);
	assert_int_equal(m.wr_cnt, 3);
	vu_write_multi_entry(&m, 2, &e);
	assert_int_equal(e.offset, 8);
	assert_int_equal(e.data[0], 3);
	assert_int_equal(vu_write_multi_req_parse(buf, (size_t)n - 1, &m), -EINVAL);
	ASSERT_TRUNCATED(8, vu_write_multi_req_parse(buf, len, &m));
	/* an entry with count 9 */
	w[1].count = 9;
	vu_write_multi_req_encode(buf, sizeof(buf), w, 3);
	assert_int_equal(vu_write_multi_req_parse(buf, (size_t)n, &m), -EINVAL);
	/* wr_cnt 0 and above the cap */
	memset(buf, 0, 8);
	assert_int_equal(vu_write_multi_req_parse(buf, (size_t)n, &m), -EINVAL);
	cnt = VFIO_USER_MULTI_MAX + 1;
	memcpy(buf, &cnt, 8);
	assert_int_equal(vu_write_multi_req_parse(buf, sizeof(buf), &m), -EINVAL);
	cnt = UINT64_MAX;
	memcpy(buf, &cnt, 8);
	assert_int_equal(vu_write_multi_req_parse(buf, sizeof(buf), &m), -EINVAL);
	assert_int_equal(vu_write_multi_rep_encode(buf, 8, 3), 8);
	assert_int_equal(vu_write_multi_rep_parse(buf, 8, &cnt), 0);
	assert_int_equal(cnt, 3);
	assert_int_equal(vu_write_multi_rep_parse(buf, 7, &cnt), -EINVAL);
}

static void test_feature(void **state)
{
	struct vu_feature f;
	uint64_t v = 0x1234;
	ssize_t n;

	n = vu_feature_req_encode(buf, sizeof(buf), 16,
				  VFIO_DEVICE_FEATURE_GET | 1, NULL, 0);
	assert_int_equal(n, 8);
	assert_int_equal(vu_feature_req_parse(buf, 8, &f), 0);
	assert_int_equal(f.argsz, 16);
	assert_int_equal(f.data_len, 0);
	ASSERT_TRUNCATED(8, vu_feature_req_parse(buf, len, &f));
	assert_int_equal(vu_feature_req_encode(buf, sizeof(buf), 7, 0, NULL, 0), -EINVAL);
	vu_feature_req_encode(buf, sizeof(buf), 8, 0, NULL, 0);
	((uint32_t *)buf)[0] = 7;
	assert_int_equal(vu_feature_req_parse(buf, 8, &f), -EINVAL);
	n = vu_feature_rep_encode(buf, sizeof(buf), VFIO_DEVICE_FEATURE_GET | 1, &v, 8);
	assert_int_equal(n, 16);
	assert_int_equal(vu_feature_rep_parse(buf, 16, &f), 0);
	assert_int_equal(f.argsz, 16);
	assert_int_equal(f.data_len, 8);
	assert_memory_equal(f.data, &v, 8);
}

static void test_mig_data(void **state)
{
	struct vu_mig_data m;
	const char data[5] = "hello";
	ssize_t n;

	n = vu_mig_read_req_encode(buf, sizeof(buf), 100);
	assert_int_equal(n, 8);
	assert_int_equal(vu_mig_read_req_parse(buf, 8, XFER, &m), 0);
	assert_int_equal(m.size, 100);
	assert_int_equal(m.argsz, 108);
	ASSERT_TRUNCATED(8, vu_mig_read_req_parse(buf, len, XFER, &m));
	vu_mig_read_req_encode(buf, sizeof(buf), XFER + 1);
	assert_int_equal(vu_mig_read_req_parse(buf, 8, XFER, &m), -EINVAL);

	n = vu_mig_read_rep_encode(buf, sizeof(buf), data, 5);
	assert_int_equal(n, 13);
	assert_int_equal(vu_mig_read_rep_parse(buf, 13, XFER, &m), 0);
	assert_int_equal(m.size, 5);
	assert_memory_equal(m.data, data, 5);
	/* oversize reply tolerated (libvfio-user), short one not */
	assert_int_equal(vu_mig_read_rep_parse(buf, 20, XFER, &m), 0);
	assert_int_equal(vu_mig_read_rep_parse(buf, 12, XFER, &m), -EINVAL);

	n = vu_mig_write_req_encode(buf, sizeof(buf), data, 5);
	assert_int_equal(n, 13);
	assert_int_equal(vu_mig_write_req_parse(buf, 13, XFER, &m), 0);
	assert_int_equal(vu_mig_write_req_parse(buf, 12, XFER, &m), -EINVAL);
	assert_int_equal(vu_mig_write_req_parse(buf, 14, XFER, &m), -EINVAL);
	ASSERT_TRUNCATED(8, vu_mig_write_req_parse(buf, len, XFER, &m));
	assert_int_equal(vu_mig_write_req_parse(buf, 13, 4, &m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr),
		cmocka_unit_test(test_fds_rules),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_dma_map),
		cmocka_unit_test(test_dma_unmap),
		cmocka_unit_test(test_quads),
		cmocka_unit_test(test_region_info),
		cmocka_unit_test(test_io_fds),
		cmocka_unit_test(test_set_irqs),
		cmocka_unit_test(test_region_rw),
		cmocka_unit_test(test_dma_rw),
		cmocka_unit_test(test_write_multi),
		cmocka_unit_test(test_feature),
		cmocka_unit_test(test_mig_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
