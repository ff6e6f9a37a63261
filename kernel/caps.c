/* SPDX-License-Identifier: MIT */
/*
 * VFIO info capability chains, as the kernel writes them after an INFO
 * struct: {u16 id; u16 version; u32 next} headers, `next` an offset from the
 * start of the buffer, 0 at the end. The bytes come from the kernel, but the
 * walk is written as if they came from a peer: every header and every
 * array is bounds checked, and a chain that does not move forward is
 * rejected, so a corrupt buffer is an error and never a loop.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kernel/kvfio.h"

int kvfio_cap_walk(const void *buf, size_t len, size_t hdr_size, uint32_t first,
		   kvfio_cap_fn fn, void *opaque)
{
	const uint8_t *p = buf;
	uint32_t off = first;
	unsigned int n = 0;
	int ret;

	while (off) {
		struct vfio_info_cap_header h;
		size_t end;

		if (++n > KVFIO_MAX_CAPS)
			return -EPROTO;
		/* Caps follow the fixed struct; the header must fit. */
		if (off < hdr_size || off > len || len - off < sizeof(h))
			return -EPROTO;
		memcpy(&h, p + off, sizeof(h));
		if (h.next && (h.next <= off || h.next > len))
			return -EPROTO; /* backwards (a loop) or outside */
		end = h.next ? h.next : len;
		ret = fn(opaque, h.id, h.version, p + off, end - off);
		if (ret)
			return ret;
		off = h.next;
	}
	return 0;
}

/* ---- VFIO_IOMMU_GET_INFO ------------------------------------------------- */

static int iommu_cap(void *opaque, uint16_t id, uint16_t version,
		     const uint8_t *cap, size_t cap_len)
{
	struct kvfio_iommu_info *info = opaque;

	switch (id) {
	case VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE: {
		struct vfio_iommu_type1_info_cap_iova_range r;
		uint64_t need;

		if (cap_len < sizeof(r))
			return -EPROTO;
		memcpy(&r, cap, sizeof(r));
		/* nr_iovas entries of 16 bytes must lie inside this cap. */
		need = sizeof(r) + (uint64_t)r.nr_iovas * sizeof(struct vfio_iova_range);
		if (need > cap_len)
			return -EPROTO;
		info->nr_ranges = 0;
		for (uint32_t i = 0; i < r.nr_iovas && i < KVFIO_MAX_IOVA_RANGES; i++) {
			struct vfio_iova_range v;

			memcpy(&v, cap + sizeof(r) + i * sizeof(v), sizeof(v));
			if (v.start > v.end)
				return -EPROTO;
			info->ranges[info->nr_ranges].start = v.start;
			info->ranges[info->nr_ranges].last = v.end;
			info->nr_ranges++;
		}
		break;
	}
	case VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL: {
		struct vfio_iommu_type1_info_dma_avail a;

		if (cap_len < sizeof(a))
			return -EPROTO;
		memcpy(&a, cap, sizeof(a));
		info->has_dma_avail = true;
		info->dma_avail = a.avail;
		break;
	}
	default: /* MIGRATION and later caps: not needed by the client */
		break;
	}
	(void)version;
	return 0;
}

int kvfio_parse_iommu_info(const void *buf, size_t len, struct kvfio_iommu_info *info)
{
	struct vfio_iommu_type1_info hdr = { 0 };
	size_t have;

	memset(info, 0, sizeof(*info));
	/* minsz is 16 (up to iova_pgsizes); cap_offset needs the full 24. */
	if (len < 16)
		return -EPROTO;
	have = len < sizeof(hdr) ? len : sizeof(hdr);
	memcpy(&hdr, buf, have);
	if (hdr.flags & VFIO_IOMMU_INFO_PGSIZES)
		info->pgsizes = hdr.iova_pgsizes;
	if (!(hdr.flags & VFIO_IOMMU_INFO_CAPS) || have < sizeof(hdr) || !hdr.cap_offset)
		return 0;
	return kvfio_cap_walk(buf, len, sizeof(hdr), hdr.cap_offset, iommu_cap, info);
}

/* ---- VFIO_DEVICE_GET_REGION_INFO ----------------------------------------- */

static int region_cap(void *opaque, uint16_t id, uint16_t version,
		      const uint8_t *cap, size_t cap_len)
{
	struct uvfio_region *r = opaque;

	switch (id) {
	case VFIO_REGION_INFO_CAP_SPARSE_MMAP: {
		struct vfio_region_info_cap_sparse_mmap s;
		uint64_t need;

		if (cap_len < sizeof(s))
			return -EPROTO;
		memcpy(&s, cap, sizeof(s));
		need = sizeof(s) + (uint64_t)s.nr_areas * sizeof(struct vfio_region_sparse_mmap_area);
		if (need > cap_len)
			return -EPROTO;
		r->nr_areas = 0;
		for (uint32_t i = 0; i < s.nr_areas; i++) {
			struct vfio_region_sparse_mmap_area a;
			uint64_t end;

			memcpy(&a, cap + sizeof(s) + i * sizeof(a), sizeof(a));
			if (!a.size)
				continue;
			if (__builtin_add_overflow(a.offset, a.size, &end) || end > r->size)
				return -EPROTO;
			/* Fewer areas only means less is mappable: safe to drop. */
			if (r->nr_areas == UVFIO_MAX_MMAP_AREAS)
				break;
			r->areas[r->nr_areas].offset = a.offset;
			r->areas[r->nr_areas].size = a.size;
			r->nr_areas++;
		}
		/* A sparse cap without areas: nothing is mappable. */
		if (!r->nr_areas)
			r->flags &= ~VFIO_REGION_INFO_FLAG_MMAP;
		break;
	}
	case VFIO_REGION_INFO_CAP_TYPE: {
		struct vfio_region_info_cap_type t;

		if (cap_len < sizeof(t))
			return -EPROTO;
		memcpy(&t, cap, sizeof(t));
		r->has_type = true;
		r->type = t.type;
		r->subtype = t.subtype;
		break;
	}
	case VFIO_REGION_INFO_CAP_MSIX_MAPPABLE:
		/* The MSI-X table BAR may be mapped whole: MMAP already says so. */
		break;
	default:
		break;
	}
	(void)version;
	return 0;
}

int kvfio_parse_region_info(const void *buf, size_t len, struct uvfio_region *r)
{
	struct vfio_region_info hdr;
	uint32_t flags;
	int ret;

	memset(r, 0, sizeof(*r));
	r->mmap_fd = -1;
	if (len < sizeof(hdr))
		return -EPROTO;
	memcpy(&hdr, buf, sizeof(hdr));
	r->size = hdr.size;
	r->offset = hdr.offset;
	flags = hdr.flags;
	r->flags = flags & (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			    VFIO_REGION_INFO_FLAG_MMAP);
	if (!(flags & VFIO_REGION_INFO_FLAG_CAPS) || !hdr.cap_offset)
		return 0;
	ret = kvfio_cap_walk(buf, len, sizeof(hdr), hdr.cap_offset, region_cap, r);
	if (ret)
		memset(r->areas, 0, sizeof(r->areas));
	return ret;
}

/* ---- IOVA checks before MAP_DMA ------------------------------------------ */

int kvfio_iova_check(const struct kvfio_iommu_info *info, uint64_t iova,
		     uint64_t size, char *msg, size_t len)
{
	uint64_t pg = info->pgsizes ? info->pgsizes & -info->pgsizes : 4096;
	uint64_t last;
	size_t used;

	if (len)
		msg[0] = 0;
	if (!size || (iova | size) & (pg - 1)) {
		snprintf(msg, len, "iova %#" PRIx64 " size %#" PRIx64 " not aligned to the "
			 "IOMMU page size %#" PRIx64, iova, size, pg);
		return -EINVAL;
	}
	if (__builtin_add_overflow(iova, size - 1, &last)) {
		snprintf(msg, len, "iova %#" PRIx64 " + size %#" PRIx64 " wraps", iova, size);
		return -EOVERFLOW;
	}
	if (!info->nr_ranges)
		return 0;
	for (uint32_t i = 0; i < info->nr_ranges; i++)
		if (iova >= info->ranges[i].start && last <= info->ranges[i].last)
			return 0;
	snprintf(msg, len, "iova [%#" PRIx64 ", %#" PRIx64 "] is outside the IOMMU's "
		 "valid ranges:", iova, last);
	for (uint32_t i = 0; i < info->nr_ranges && i < 8; i++) {
		used = strlen(msg);
		if (used + 1 >= len)
			break;
		snprintf(msg + used, len - used, " [%#" PRIx64 ", %#" PRIx64 "]",
			 info->ranges[i].start, info->ranges[i].last);
	}
	return -EINVAL;
}
