/* SPDX-License-Identifier: MIT */
/*
 * Dirty page logging from the client side, one call for either backend:
 * the kernel's DMA_LOGGING features carry user pointers (ranges, bitmap),
 * vfio-user's carry them inline. The caller never sees the difference
 * except one: the kernel refuses num_ranges 0, vfio-user reads it as
 * "everything" (include/uvfio/migrate.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uvfio/migrate.h>

#include "core/vfio_compat.h"

#define HDR sizeof(struct vfio_device_feature)
/* Bitmap bytes per vfio-user REPORT: far below any max_data_xfer_size. */
#define VU_REPORT_WORDS 8192u

static bool is_vfio_user(struct uvfio_client *c)
{
	return !strcmp(uvfio_client_backend(c), "vfio-user");
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

int uvfio_client_dma_log_start(struct uvfio_client *c, uint64_t *page_size,
			       const struct uvfio_dma_range *ranges, uint32_t n)
{
	size_t argsz;
	uint8_t *buf;
	int ret;

	if (!page_size || (n && !ranges) || n > 256)
		return n > 256 ? -E2BIG : -EINVAL;
	if (is_vfio_user(c)) {
		argsz = HDR + 16 + (size_t)n * sizeof(*ranges);
		buf = calloc(1, argsz);
		if (!buf)
			return -ENOMEM;
		put64(buf + HDR, *page_size);
		put32(buf + HDR + 8, n);
		if (n)
			memcpy(buf + HDR + 16, ranges, (size_t)n * sizeof(*ranges));
	} else {
		struct vfio_device_feature_dma_logging_control ctl = {
			.page_size = *page_size, .num_ranges = n,
			.ranges = (uintptr_t)ranges, /* same layout as the uapi's range */
		};

		argsz = HDR + sizeof(ctl);
		buf = calloc(1, argsz);
		if (!buf)
			return -ENOMEM;
		memcpy(buf + HDR, &ctl, sizeof(ctl));
	}
	put32(buf, (uint32_t)argsz);
	put32(buf + 4, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START);
	ret = uvfio_client_feature(c, buf);
	if (!ret) /* the device may have chosen another page size */
		memcpy(page_size, buf + HDR, sizeof(*page_size));
	free(buf);
	return ret;
}

int uvfio_client_dma_log_stop(struct uvfio_client *c)
{
	struct vfio_device_feature h = {
		.argsz = HDR,
		.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
	};

	return uvfio_client_feature(c, &h);
}

/* One vfio-user REPORT of at most VU_REPORT_WORDS words into bitmap. */
static int vu_report(struct uvfio_client *c, uint64_t iova, uint64_t length,
		     uint64_t page_size, uint64_t *bitmap, uint64_t words)
{
	size_t argsz = HDR + 24 + (size_t)words * 8;
	uint8_t *buf = calloc(1, argsz);
	int ret;

	if (!buf)
		return -ENOMEM;
	put32(buf, (uint32_t)argsz);
	put32(buf + 4, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT);
	put64(buf + HDR, iova);
	put64(buf + HDR + 8, length);
	put64(buf + HDR + 16, page_size);
	ret = uvfio_client_feature(c, buf);
	if (!ret) /* the kernel only sets bits: OR them in, the same here */
		for (uint64_t i = 0; i < words; i++) {
			uint64_t w;

			memcpy(&w, buf + HDR + 24 + i * 8, 8);
			bitmap[i] |= w;
		}
	free(buf);
	return ret;
}

int uvfio_client_dma_log_report(struct uvfio_client *c, uint64_t iova, uint64_t length,
				uint64_t page_size, uint64_t *bitmap, size_t bitmap_bytes)
{
	uint64_t words, end;

	if (!bitmap || !length || page_size < 4096 || (page_size & (page_size - 1)))
		return -EINVAL;
	if (__builtin_add_overflow(iova, length, &end))
		return -EOVERFLOW;
	words = ((length - 1) / page_size) / 64 + 1;
	if (words > bitmap_bytes / 8)
		return -EINVAL;
	if (!is_vfio_user(c)) {
		/* vfio_device_feature's argsz/flags spelled out: a struct with
		 * a flexible array inside another is a GNU extension. */
		struct {
			struct {
				uint32_t argsz, flags;
			} h;
			struct vfio_device_feature_dma_logging_report r;
		} f = {
			.h = { .argsz = sizeof(f),
			       .flags = VFIO_DEVICE_FEATURE_GET |
					VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT },
			.r = { .iova = iova, .length = length, .page_size = page_size,
			       .bitmap = (uintptr_t)bitmap },
		};

		return uvfio_client_feature(c, &f);
	}
	/* vfio-user: the bitmap travels in the reply; keep replies small. */
	for (uint64_t done = 0; done < words; done += VU_REPORT_WORDS) {
		uint64_t nw = words - done < VU_REPORT_WORDS ? words - done : VU_REPORT_WORDS;
		uint64_t off = done * 64 * page_size;
		uint64_t len = length - off < nw * 64 * page_size ? length - off : nw * 64 * page_size;
		int ret = vu_report(c, iova + off, len, page_size, bitmap + done, nw);

		if (ret)
			return ret;
	}
	return 0;
}
