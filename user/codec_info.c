/* SPDX-License-Identifier: MIT */
/* vfio-user codec: GET_INFO, GET_REGION_INFO, GET_REGION_IO_FDS, GET_IRQ_INFO, SET_IRQS. */
#include <errno.h>
#include <string.h>
#include <linux/vfio.h>

#include "user/codec.h"
#include "user/codec_util.h"

/* The four-u32 structs (device info, irq info, io fds) share one shape. */
static int quad_parse(const void *p, size_t len, void *out)
{
	if (len < 16)
		return -EINVAL;
	memcpy(out, p, 16);
	return vu_ld32(out, 0) < 16 ? -EINVAL : 0;
}

static ssize_t quad_encode(void *buf, size_t cap, uint32_t a, uint32_t b,
			   uint32_t c, uint32_t d)
{
	if (cap < 16)
		return -ENOSPC;
	vu_st32(buf, 0, a);
	vu_st32(buf, 4, b);
	vu_st32(buf, 8, c);
	vu_st32(buf, 12, d);
	return 16;
}

/* ---- DEVICE_GET_INFO -------------------------------------------------------------- */

int vu_device_info_req_parse(const void *p, size_t len,
			     struct vfio_user_device_info *out)
{
	return quad_parse(p, len, out);
}

ssize_t vu_device_info_req_encode(void *buf, size_t cap)
{
	return quad_encode(buf, cap, sizeof(struct vfio_user_device_info), 0, 0, 0);
}

int vu_device_info_rep_parse(const void *p, size_t len,
			     struct vfio_user_device_info *out)
{
	return quad_parse(p, len, out);
}

ssize_t vu_device_info_rep_encode(void *buf, size_t cap, uint32_t flags,
				  uint32_t num_regions, uint32_t num_irqs)
{
	return quad_encode(buf, cap, sizeof(struct vfio_user_device_info), flags,
			   num_regions, num_irqs);
}

/* ---- DEVICE_GET_REGION_INFO ------------------------------------------------------- */

#define RI_SIZE sizeof(struct vfio_user_region_info)
#define MAX_CAPS 16

int vu_region_info_req_parse(const void *p, size_t len,
			     struct vfio_user_region_info *out)
{
	if (len < RI_SIZE)
		return -EINVAL;
	memcpy(out, p, RI_SIZE);
	return out->argsz < RI_SIZE ? -EINVAL : 0;
}

ssize_t vu_region_info_req_encode(void *buf, size_t cap, uint32_t index,
				  uint32_t argsz)
{
	struct vfio_user_region_info ri = { .argsz = argsz, .index = index };

	if (argsz < RI_SIZE)
		return -EINVAL;
	if (cap < RI_SIZE)
		return -ENOSPC;
	memcpy(buf, &ri, RI_SIZE);
	return RI_SIZE;
}

static int parse_cap(const void *p, size_t len, size_t off, uint16_t id,
		     struct vu_region_caps *caps)
{
	uint32_t nr;

	if (id == VFIO_USER_CAP_SPARSE_MMAP) {
		if (!vu_fits(len, off, sizeof(struct vfio_user_cap_sparse_mmap)))
			return -EINVAL;
		nr = vu_ld32(p, off + 8);
		if (nr > VU_MAX_SPARSE_AREAS)
			return -EINVAL;
		if (!vu_fits(len, off + sizeof(struct vfio_user_cap_sparse_mmap),
			     (uint64_t)nr * sizeof(struct vfio_user_sparse_area)))
			return -EINVAL;
		caps->has_sparse = true;
		caps->nr_areas = nr;
		memcpy(caps->areas,
		       (const uint8_t *)p + off + sizeof(struct vfio_user_cap_sparse_mmap),
		       nr * sizeof(struct vfio_user_sparse_area));
	} else if (id == VFIO_USER_CAP_TYPE) {
		if (!vu_fits(len, off, sizeof(struct vfio_user_cap_type)))
			return -EINVAL;
		caps->has_type = true;
		caps->type = vu_ld32(p, off + 8);
		caps->subtype = vu_ld32(p, off + 12);
	}
	/* Unknown ids: skipped, as the kernel's users do. */
	return 0;
}

int vu_region_info_rep_parse(const void *p, size_t len,
			     struct vfio_user_region_info *out,
			     struct vu_region_caps *caps)
{
	struct vu_region_caps scratch;
	struct vfio_user_cap_header ch;
	size_t off;
	int n, ret;

	if (!caps)
		caps = &scratch;
	memset(caps, 0, sizeof(*caps));
	if (len < RI_SIZE)
		return -EINVAL;
	memcpy(out, p, RI_SIZE);
	if (out->argsz < RI_SIZE)
		return -EINVAL;
	if (!(out->flags & VFIO_USER_F_REGION_CAPS) || !out->cap_offset)
		return 0;
	off = out->cap_offset;
	for (n = 0; off; n++) {
		/* Offsets only grow, so a chain can neither loop nor go back into the struct. */
		if (n >= MAX_CAPS || off < RI_SIZE || !vu_fits(len, off, sizeof(ch)))
			return -EINVAL;
		memcpy(&ch, (const uint8_t *)p + off, sizeof(ch));
		ret = parse_cap(p, len, off, ch.id, caps);
		if (ret)
			return ret;
		if (ch.next && ch.next <= off)
			return -EINVAL;
		off = ch.next;
	}
	return 0;
}

ssize_t vu_region_info_rep_encode(void *buf, size_t cap, const void *info,
				  size_t info_len)
{
	if (info_len < RI_SIZE || info_len > UINT32_MAX)
		return -EINVAL;
	if (cap < info_len)
		return -ENOSPC;
	memcpy(buf, info, info_len);
	return (ssize_t)info_len;
}

/* ---- DEVICE_GET_REGION_IO_FDS ------------------------------------------------------- */

#define IOFD_ENT sizeof(struct vfio_user_sub_region_ioeventfd)

int vu_region_io_fds_req_parse(const void *p, size_t len,
			       struct vfio_user_region_io_fds *out)
{
	int ret = quad_parse(p, len, out);

	if (ret)
		return ret;
	return out->flags ? -EINVAL : 0;
}

ssize_t vu_region_io_fds_req_encode(void *buf, size_t cap, uint32_t index,
				    uint32_t argsz)
{
	if (argsz < sizeof(struct vfio_user_region_io_fds))
		return -EINVAL;
	return quad_encode(buf, cap, argsz, 0, index, 0);
}

#define IOFD_ENT_LVFU 48u /* libvfio-user: + shadow_mem_fd_index u32, shadow_offset u64 */

int vu_region_io_fds_rep_parse(const void *p, size_t len,
			       struct vfio_user_region_io_fds *out,
			       const void **ents, size_t *stride)
{
	int ret = quad_parse(p, len, out);
	uint64_t body;

	*ents = NULL;
	*stride = 0;
	if (ret)
		return ret;
	if (out->flags)
		return -EINVAL;
	if (!out->count || out->argsz > len)
		return 0; /* nothing, or a retry with argsz */
	body = out->argsz - 16u;
	if (body % out->count)
		return -EINVAL;
	body /= out->count;
	if (body != IOFD_ENT && body != IOFD_ENT_LVFU)
		return -EINVAL;
	*ents = (const uint8_t *)p + 16;
	*stride = (size_t)body;
	return 0;
}

void vu_region_io_fds_entry(const void *ents, size_t stride, uint32_t i,
			    struct vfio_user_sub_region_ioeventfd *out)
{
	const uint8_t *e = (const uint8_t *)ents + (size_t)i * stride;

	memcpy(out, e, 28); /* offset, size, fd_index, type, flags */
	out->padding = 0;
	memcpy(&out->datamatch, e + stride - 8, 8); /* last in both layouts */
}

ssize_t vu_region_io_fds_rep_encode(void *buf, size_t cap, uint32_t index,
				    uint32_t argsz_offered,
				    const struct vfio_user_sub_region_ioeventfd *ents,
				    uint32_t count)
{
	uint64_t need = 16 + (uint64_t)count * IOFD_ENT;
	size_t n = need <= argsz_offered ? (size_t)need : 16;

	if (need > UINT32_MAX)
		return -EINVAL;
	if (cap < n)
		return -ENOSPC;
	quad_encode(buf, cap, (uint32_t)need, 0, index, count);
	if (n > 16)
		memcpy((uint8_t *)buf + 16, ents, n - 16);
	return (ssize_t)n;
}

/* ---- DEVICE_GET_IRQ_INFO -------------------------------------------------------------- */

int vu_irq_info_req_parse(const void *p, size_t len, struct vfio_user_irq_info *out)
{
	return quad_parse(p, len, out);
}

ssize_t vu_irq_info_req_encode(void *buf, size_t cap, uint32_t index)
{
	return quad_encode(buf, cap, sizeof(struct vfio_user_irq_info), 0, index, 0);
}

int vu_irq_info_rep_parse(const void *p, size_t len, struct vfio_user_irq_info *out)
{
	return quad_parse(p, len, out);
}

ssize_t vu_irq_info_rep_encode(void *buf, size_t cap,
			       const struct vfio_user_irq_info *info)
{
	return quad_encode(buf, cap, sizeof(*info), info->flags, info->index,
			   info->count);
}

/* ---- DEVICE_SET_IRQS ---------------------------------------------------------------- */

#define IRQ_SET_SIZE sizeof(struct vfio_user_irq_set)

int vu_set_irqs_req_parse(const void *p, size_t len, size_t nfds,
			  struct vu_set_irqs *out)
{
	uint32_t data, action, end;

	memset(out, 0, sizeof(*out));
	if (len < IRQ_SET_SIZE)
		return -EINVAL;
	memcpy(&out->s, p, IRQ_SET_SIZE);
	if (out->s.argsz < IRQ_SET_SIZE)
		return -EINVAL;
	if (out->s.flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK))
		return -EINVAL;
	data = out->s.flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	action = out->s.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	if (__builtin_popcount(data) != 1 || __builtin_popcount(action) != 1)
		return -EINVAL;
	if (__builtin_add_overflow(out->s.start, out->s.count, &end))
		return -EINVAL;
	switch (data) {
	case VFIO_IRQ_SET_DATA_BOOL:
		if (nfds || len - IRQ_SET_SIZE < out->s.count)
			return -EINVAL;
		out->bools = (const uint8_t *)p + IRQ_SET_SIZE;
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		/* vfio-user: zero fds de-assigns [start, start+count). */
		if (nfds && nfds != out->s.count)
			return -EINVAL;
		break;
	default:
		if (nfds)
			return -EINVAL;
		break;
	}
	return 0;
}

ssize_t vu_set_irqs_req_encode(void *buf, size_t cap, uint32_t flags,
			       uint32_t index, uint32_t start, uint32_t count,
			       const uint8_t *bools)
{
	size_t n = (flags & VFIO_IRQ_SET_DATA_BOOL) ? count : 0;
	struct vfio_user_irq_set s = {
		.flags = flags, .index = index, .start = start, .count = count,
	};

	if (n && !bools)
		return -EINVAL;
	if (!vu_fits(cap, IRQ_SET_SIZE, n))
		return -ENOSPC;
	s.argsz = (uint32_t)(IRQ_SET_SIZE + n);
	memcpy(buf, &s, IRQ_SET_SIZE);
	if (n)
		memcpy((uint8_t *)buf + IRQ_SET_SIZE, bools, n);
	return (ssize_t)(IRQ_SET_SIZE + n);
}
