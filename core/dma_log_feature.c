/* SPDX-License-Identifier: MIT */
/*
 * The core-owned dirty logging features DMA_LOGGING_START (6), STOP (7) and
 * REPORT (8), with the kernel's checks (vfio_ioctl_device_feature_logging_*),
 * implemented on the device's current DMA space (core/dma_log.c).
 *
 * Who offers them: every device that has a DMA space at the time of the
 * call (over vfio-user: every served device with a client). Without a DMA
 * space there is nothing to log and the features answer ENOTTY, as the
 * kernel does for a device without log_ops. A device needs no code: the
 * core sees every device write (uvfio_dma_write, write references of
 * uvfio_dma_get, message-based DMA_WRITE) and logs it.
 *
 * Payloads are the vfio-user layouts, where the kernel has user pointers:
 *   START  {u64 page_size; u32 num_ranges; u32 reserved;
 *           {u64 iova, length} ranges[num_ranges]}        (minsz 16)
 *   REPORT {u64 iova; u64 length; u64 page_size; u64 bitmap[]}  (minsz 24)
 *          GET writes the bitmap after the 24 bytes, argsz must leave room.
 * Differences from the kernel's ioctl, on purpose:
 *   - num_ranges == 0 means "log everything" (the vfio-user spec's wording),
 *     windows mapped later included; the kernel rejects 0 with EINVAL.
 *   - page_size 0 is refused with EINVAL (the kernel leaves the alignment
 *     test to IS_ALIGNED, undefined for 0 and non powers of two). Another
 *     size is rounded up to a power of two of at least the DMA space's page
 *     size, and the size used is written back (the kernel lets drivers pick).
 *   - REPORT while not logging is EINVAL (what mlx5/pds answer).
 */
#include <errno.h>
#include <string.h>

#include "core/device_internal.h"

#define LOG_MAX_RANGES 256u /* the kernel's PAGE_SIZE / sizeof(struct vfio_device_feature_dma_logging_range) */
#define START_FIXED 16u
#define RANGE_SZ 16u
#define REPORT_FIXED 24u

bool uvfio_log_feature_index(uint16_t index)
{
	return index == VFIO_DEVICE_FEATURE_DMA_LOGGING_START ||
	       index == VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP ||
	       index == VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT;
}

static uint64_t rd64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

/* The logging page size used for a requested one (0 = refused). */
static uint64_t log_pgsize(struct uvfio_dma *dma, uint64_t req)
{
	uint64_t min = uvfio_dma_pgsize(dma), p = min;

	while (p < req) {
		if (p > UINT64_MAX / 2)
			return 0;
		p <<= 1;
	}
	return p;
}

static int log_start(struct uvfio_device *dev, struct uvfio_dma *dma, uint8_t *data,
		     size_t len)
{
	struct uvfio_dma_range ranges[LOG_MAX_RANGES];
	uint64_t page_size = rd64(data, 0), used;
	uint32_t n = rd32(data, 8);
	int ret;

	if (n > LOG_MAX_RANGES)
		return -E2BIG;
	/* n <= 256: no overflow */
	if (len < START_FIXED + (size_t)n * RANGE_SZ)
		return -EINVAL;
	if (!page_size)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t iova = rd64(data, START_FIXED + i * RANGE_SZ);
		uint64_t length = rd64(data, START_FIXED + i * RANGE_SZ + 8);
		uint64_t end;

		if (iova % page_size || length % page_size)
			return -EINVAL;
		if (__builtin_add_overflow(iova, length, &end))
			return -EOVERFLOW;
		/* The kernel checks each range against the earlier ones. */
		for (uint32_t j = 0; j < i; j++) {
			uint64_t a = ranges[j].iova, b = ranges[j].iova + ranges[j].length;

			if (length && ranges[j].length && iova < b && a < end)
				return -EINVAL;
		}
		ranges[i].iova = iova;
		ranges[i].length = length;
	}
	used = log_pgsize(dma, page_size);
	if (!used)
		return -EINVAL;
	ret = uvfio_dma_log_start_ranges(dma, used, ranges, n);
	if (ret)
		return ret;
	memcpy(data, &used, sizeof(used));
	uvfio_dev_log(dev, UVFIO_LOG_DEBUG, "dirty logging on: %u range(s), page %llu",
		      n, (unsigned long long)used);
	return 0;
}

/*
 * Report `words` bitmap words for [iova, iova + length) into out, which
 * need not be u64-aligned (it sits in a message): 64 words at a time
 * through an aligned bounce buffer, each chunk a whole number of report
 * pages from a 64-page boundary, so clear-on-read sees whole pages.
 */
static int report_into(struct uvfio_dma *dma, uint64_t iova, uint64_t length,
		       uint64_t pgsize, uint64_t words, uint8_t *out)
{
	uint64_t chunk[64];

	for (uint64_t done = 0; done < words;) {
		uint64_t nw = words - done < 64 ? words - done : 64;
		uint64_t off = done * 64 * pgsize;
		uint64_t clen = length - off < nw * 64 * pgsize ? length - off : nw * 64 * pgsize;
		int ret;

		memset(chunk, 0, sizeof(chunk));
		ret = uvfio_dma_log_report(dma, iova + off, clen, pgsize, chunk,
					   (size_t)nw * sizeof(uint64_t));
		if (ret)
			return ret;
		memcpy(out + done * sizeof(uint64_t), chunk, (size_t)nw * sizeof(uint64_t));
		done += nw;
	}
	return 0;
}

static int log_report(struct uvfio_dma *dma, uint8_t *data, size_t len,
		      size_t *out_len)
{
	uint64_t iova = rd64(data, 0), length = rd64(data, 8), pgsize = rd64(data, 16);
	uint64_t end, words;
	size_t bytes;
	int ret;

	if (pgsize < 4096 || (pgsize & (pgsize - 1)))
		return -EINVAL;
	if (__builtin_add_overflow(iova, length, &end))
		return -EOVERFLOW;
	if (!length)
		return -EINVAL;
	words = ((length - 1) / pgsize) / 64 + 1;
	if (words > (len - REPORT_FIXED) / sizeof(uint64_t))
		return -EINVAL; /* argsz leaves no room for the bitmap */
	bytes = (size_t)words * sizeof(uint64_t);
	ret = report_into(dma, iova, length, pgsize, words, data + REPORT_FIXED);
	if (ret)
		return ret;
	*out_len = REPORT_FIXED + bytes;
	return 0;
}

int uvfio_log_feature(struct uvfio_device *dev, uint32_t flags, void *data,
		      size_t len, size_t *out_len)
{
	uint16_t index = flags & VFIO_DEVICE_FEATURE_MASK;
	struct uvfio_dma *dma;
	int ret;

	/* Read-held across the call: the space cannot go away under us. */
	pthread_rwlock_rdlock(&dev->dma_lock);
	dma = dev->dma;
	if (!dma) {
		ret = -ENOTTY;
		goto out;
	}
	switch (index) {
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_START:
		ret = uvfio_check_feature(flags, len, VFIO_DEVICE_FEATURE_SET, START_FIXED);
		if (ret == 1)
			ret = log_start(dev, dma, data, len);
		break;
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP:
		ret = uvfio_check_feature(flags, len, VFIO_DEVICE_FEATURE_SET, 0);
		if (ret == 1)
			ret = uvfio_dma_log_stop(dma);
		break;
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT:
		ret = uvfio_check_feature(flags, len, VFIO_DEVICE_FEATURE_GET, REPORT_FIXED);
		if (ret == 1)
			ret = log_report(dma, data, len, out_len);
		break;
	default:
		ret = -ENOTTY;
	}
out:
	pthread_rwlock_unlock(&dev->dma_lock);
	return ret;
}
