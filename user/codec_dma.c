/* SPDX-License-Identifier: MIT */
/* vfio-user codec: DMA_MAP, DMA_UNMAP, and the server's DMA_READ/DMA_WRITE. */
#include <errno.h>
#include <string.h>

#include "user/codec.h"
#include "user/codec_util.h"

/* ---- DMA_MAP ------------------------------------------------------------------ */

int vu_dma_map_req_parse(const void *p, size_t len, struct vfio_user_dma_map *out)
{
	if (len < sizeof(*out))
		return -EINVAL;
	memcpy(out, p, sizeof(*out));
	if (out->argsz < sizeof(*out))
		return -EINVAL;
	if (out->flags & ~(VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE))
		return -EINVAL;
	return 0;
}

ssize_t vu_dma_map_req_encode(void *buf, size_t cap, uint32_t flags,
			      uint64_t fd_offset, uint64_t iova, uint64_t size)
{
	struct vfio_user_dma_map m = {
		.argsz = sizeof(m), .flags = flags, .offset = fd_offset,
		.addr = iova, .size = size,
	};

	if (cap < sizeof(m))
		return -ENOSPC;
	memcpy(buf, &m, sizeof(m));
	return sizeof(m);
}

/* ---- DMA_UNMAP ---------------------------------------------------------------- */

#define UNMAP_FLAGS (VFIO_USER_F_DMA_UNMAP_GET_DIRTY_BITMAP | VFIO_USER_F_DMA_UNMAP_ALL)

static int unmap_parse_fixed(const void *p, size_t len, uint32_t max_xfer,
			     struct vu_dma_unmap *out)
{
	struct vfio_user_dma_unmap u;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(u))
		return -EINVAL;
	memcpy(&u, p, sizeof(u));
	out->argsz = u.argsz;
	out->flags = u.flags;
	out->addr = u.addr;
	out->size = u.size;
	if (u.argsz < sizeof(u) || (u.flags & ~UNMAP_FLAGS))
		return -EINVAL;
	if (u.flags & VFIO_USER_F_DMA_UNMAP_ALL) {
		if (u.addr || u.size || (u.flags & VFIO_USER_F_DMA_UNMAP_GET_DIRTY_BITMAP))
			return -EINVAL;
		return 0;
	}
	if (!(u.flags & VFIO_USER_F_DMA_UNMAP_GET_DIRTY_BITMAP))
		return 0;
	if (len < sizeof(u) + sizeof(out->bitmap))
		return -EINVAL;
	memcpy(&out->bitmap, (const uint8_t *)p + sizeof(u), sizeof(out->bitmap));
	if (!out->bitmap.pgsize || out->bitmap.size > max_xfer)
		return -EINVAL;
	out->dirty = true;
	return 0;
}

int vu_dma_unmap_req_parse(const void *p, size_t len, uint32_t max_xfer,
			   struct vu_dma_unmap *out)
{
	return unmap_parse_fixed(p, len, max_xfer, out);
}

ssize_t vu_dma_unmap_req_encode(void *buf, size_t cap, uint32_t flags,
				uint64_t addr, uint64_t size,
				const struct vfio_user_bitmap *bitmap)
{
	struct vfio_user_dma_unmap u = {
		.argsz = sizeof(u), .flags = flags, .addr = addr, .size = size,
	};
	size_t need = sizeof(u);

	if (flags & VFIO_USER_F_DMA_UNMAP_GET_DIRTY_BITMAP) {
		if (!bitmap)
			return -EINVAL;
		need += sizeof(*bitmap);
		/* argsz offers the reply: header, bitmap header and bitmap. */
		if (bitmap->size > UINT32_MAX - need)
			return -EINVAL;
		u.argsz = (uint32_t)(need + bitmap->size);
	}
	if (cap < need)
		return -ENOSPC;
	memcpy(buf, &u, sizeof(u));
	if (flags & VFIO_USER_F_DMA_UNMAP_GET_DIRTY_BITMAP)
		memcpy((uint8_t *)buf + sizeof(u), bitmap, sizeof(*bitmap));
	return (ssize_t)need;
}

int vu_dma_unmap_rep_parse(const void *p, size_t len, uint32_t max_xfer,
			   struct vu_dma_unmap *out)
{
	size_t fixed = sizeof(struct vfio_user_dma_unmap) + sizeof(struct vfio_user_bitmap);
	int ret = unmap_parse_fixed(p, len, max_xfer, out);

	if (ret || !out->dirty)
		return ret;
	if (!vu_fits(len, fixed, out->bitmap.size))
		return -EINVAL;
	out->bits = (const uint8_t *)p + fixed;
	return 0;
}

ssize_t vu_dma_unmap_rep_encode(void *buf, size_t cap,
				const struct vu_dma_unmap *req, const void *bits)
{
	struct vfio_user_dma_unmap u = {
		.flags = req->flags, .addr = req->addr, .size = req->size,
	};
	size_t need = sizeof(u);

	if (req->dirty) {
		if (!bits && req->bitmap.size)
			return -EINVAL;
		need += sizeof(req->bitmap);
		if (!vu_fits(cap, need, req->bitmap.size) ||
		    need + req->bitmap.size > UINT32_MAX)
			return -ENOSPC;
		need += req->bitmap.size;
	} else if (cap < need) {
		return -ENOSPC;
	}
	u.argsz = (uint32_t)need;
	memcpy(buf, &u, sizeof(u));
	if (req->dirty) {
		memcpy((uint8_t *)buf + sizeof(u), &req->bitmap, sizeof(req->bitmap));
		if (req->bitmap.size)
			memcpy((uint8_t *)buf + sizeof(u) + sizeof(req->bitmap), bits,
			       req->bitmap.size);
	}
	return (ssize_t)need;
}

/* ---- DMA_READ / DMA_WRITE (server -> client) ----------------------------------------- */

#define DMA_RW_FIXED sizeof(struct vfio_user_dma_region_access)

static int dma_rw_parse(const void *p, size_t len, uint32_t max_xfer,
			struct vu_dma_access *out)
{
	uint64_t end;

	memset(out, 0, sizeof(*out));
	if (len < DMA_RW_FIXED)
		return -EINVAL;
	out->addr = vu_ld64(p, 0);
	out->count = vu_ld64(p, 8);
	if (out->count > max_xfer)
		return -EINVAL;
	if (__builtin_add_overflow(out->addr, out->count, &end))
		return -EINVAL;
	out->data = (const uint8_t *)p + DMA_RW_FIXED;
	return 0;
}

static ssize_t dma_rw_encode(void *buf, size_t cap, uint64_t addr,
			     const void *data, uint64_t count, bool with_data)
{
	size_t n = with_data ? count : 0;

	if (with_data && !vu_fits(cap, DMA_RW_FIXED, count))
		return -ENOSPC;
	if (cap < DMA_RW_FIXED)
		return -ENOSPC;
	vu_st64(buf, 0, addr);
	vu_st64(buf, 8, count);
	if (n)
		memmove((uint8_t *)buf + DMA_RW_FIXED, data, n);
	return (ssize_t)(DMA_RW_FIXED + n);
}

int vu_dma_read_req_parse(const void *p, size_t len, uint32_t max_xfer,
			  struct vu_dma_access *out)
{
	int ret = dma_rw_parse(p, len, max_xfer, out);

	out->data = NULL;
	return ret;
}

ssize_t vu_dma_read_req_encode(void *buf, size_t cap, uint64_t addr, uint64_t count)
{
	return dma_rw_encode(buf, cap, addr, NULL, count, false);
}

#define DMA_RW32_FIXED sizeof(struct vfio_user_dma_region_access_u32)

int vu_dma_read_rep_parse(const void *p, size_t len, uint32_t max_xfer,
			  struct vu_dma_access *out)
{
	uint64_t end;
	int ret = dma_rw_parse(p, len, max_xfer, out);

	if (!ret && len - DMA_RW_FIXED == out->count)
		return 0;
	/* QEMU's layout (reference §4.1): u32 count, data at 12. */
	memset(out, 0, sizeof(*out));
	if (len < DMA_RW32_FIXED)
		return -EINVAL;
	out->addr = vu_ld64(p, 0);
	out->count = vu_ld32(p, 8);
	if (out->count > max_xfer || len - DMA_RW32_FIXED != out->count ||
	    __builtin_add_overflow(out->addr, out->count, &end))
		return -EINVAL;
	out->data = (const uint8_t *)p + DMA_RW32_FIXED;
	out->narrow = true;
	return 0;
}

ssize_t vu_dma_read_rep_encode(void *buf, size_t cap, uint64_t addr,
			       const void *data, uint64_t count)
{
	return dma_rw_encode(buf, cap, addr, data, count, true);
}

int vu_dma_write_req_parse(const void *p, size_t len, uint32_t max_xfer,
			   struct vu_dma_access *out)
{
	int ret = dma_rw_parse(p, len, max_xfer, out);

	if (ret)
		return ret;
	return len - DMA_RW_FIXED == out->count ? 0 : -EINVAL;
}

ssize_t vu_dma_write_req_encode(void *buf, size_t cap, uint64_t addr,
				const void *data, uint64_t count)
{
	return dma_rw_encode(buf, cap, addr, data, count, true);
}

ssize_t vu_dma_write_req_encode_u32(void *buf, size_t cap, uint64_t addr,
				    const void *data, uint32_t count)
{
	if (!vu_fits(cap, DMA_RW32_FIXED, count))
		return -ENOSPC;
	vu_st64(buf, 0, addr);
	vu_st32(buf, 8, count);
	if (count)
		memmove((uint8_t *)buf + DMA_RW32_FIXED, data, count);
	return (ssize_t)(DMA_RW32_FIXED + count);
}

int vu_dma_write_rep_parse(const void *p, size_t len, struct vu_dma_access *out)
{
	memset(out, 0, sizeof(*out));
	if (len == 0)
		return 0; /* QEMU's header-only reply */
	if (len < DMA_RW_FIXED)
		return -EINVAL;
	out->addr = vu_ld64(p, 0);
	out->count = vu_ld64(p, 8);
	return 0;
}

ssize_t vu_dma_write_rep_encode(void *buf, size_t cap, uint64_t addr, uint64_t count)
{
	return dma_rw_encode(buf, cap, addr, NULL, count, false);
}
