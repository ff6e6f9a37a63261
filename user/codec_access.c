/* SPDX-License-Identifier: MIT */
/* vfio-user codec: REGION_READ/WRITE, REGION_WRITE_MULTI, DEVICE_FEATURE, MIG_DATA_*. */
#include <errno.h>
#include <string.h>

#include "user/codec.h"
#include "user/codec_util.h"

/* ---- REGION_READ / REGION_WRITE ----------------------------------------------------- */

#define RA_FIXED sizeof(struct vfio_user_region_access)

static int ra_parse(const void *p, size_t len, uint32_t max_xfer,
		    struct vu_region_access *out)
{
	uint64_t end;

	memset(out, 0, sizeof(*out));
	if (len < RA_FIXED)
		return -EINVAL;
	out->offset = vu_ld64(p, 0);
	out->region = vu_ld32(p, 8);
	out->count = vu_ld32(p, 12);
	if (out->count > max_xfer)
		return -EINVAL;
	if (__builtin_add_overflow(out->offset, (uint64_t)out->count, &end))
		return -EINVAL;
	out->data = (const uint8_t *)p + RA_FIXED;
	return 0;
}

static ssize_t ra_encode(void *buf, size_t cap, uint32_t region, uint64_t offset,
			 const void *data, uint32_t count, size_t ndata)
{
	if (!vu_fits(cap, RA_FIXED, ndata))
		return -ENOSPC;
	vu_st64(buf, 0, offset);
	vu_st32(buf, 8, region);
	vu_st32(buf, 12, count);
	if (ndata)
		memmove((uint8_t *)buf + RA_FIXED, data, ndata);
	return (ssize_t)(RA_FIXED + ndata);
}

int vu_region_read_req_parse(const void *p, size_t len, uint32_t max_xfer,
			     struct vu_region_access *out)
{
	int ret = ra_parse(p, len, max_xfer, out);

	out->data = NULL;
	return ret;
}

ssize_t vu_region_read_req_encode(void *buf, size_t cap, uint32_t region,
				  uint64_t offset, uint32_t count)
{
	return ra_encode(buf, cap, region, offset, NULL, count, 0);
}

int vu_region_read_rep_parse(const void *p, size_t len, uint32_t max_xfer,
			     struct vu_region_access *out)
{
	int ret = ra_parse(p, len, max_xfer, out);

	if (ret)
		return ret;
	return len - RA_FIXED >= out->count ? 0 : -EINVAL;
}

ssize_t vu_region_read_rep_encode(void *buf, size_t cap, uint32_t region,
				  uint64_t offset, const void *data, uint32_t count)
{
	return ra_encode(buf, cap, region, offset, data, count, count);
}

int vu_region_write_req_parse(const void *p, size_t len, uint32_t max_xfer,
			      struct vu_region_access *out)
{
	int ret = ra_parse(p, len, max_xfer, out);

	if (ret)
		return ret;
	return len - RA_FIXED == out->count ? 0 : -EINVAL;
}

ssize_t vu_region_write_req_encode(void *buf, size_t cap, uint32_t region,
				   uint64_t offset, const void *data, uint32_t count)
{
	return ra_encode(buf, cap, region, offset, data, count, count);
}

int vu_region_write_rep_parse(const void *p, size_t len, struct vu_region_access *out)
{
	int ret = ra_parse(p, len, UINT32_MAX, out);

	out->data = NULL;
	return ret;
}

ssize_t vu_region_write_rep_encode(void *buf, size_t cap, uint32_t region,
				   uint64_t offset, uint32_t count)
{
	return ra_encode(buf, cap, region, offset, NULL, count, 0);
}

/* ---- REGION_WRITE_MULTI ---------------------------------------------------------------- */

#define WM_ENT sizeof(struct vfio_user_write_multi_data)

void vu_write_multi_entry(const struct vu_write_multi *m, uint64_t i,
			  struct vfio_user_write_multi_data *out)
{
	memcpy(out, (const uint8_t *)m->wrs + i * WM_ENT, WM_ENT);
}

int vu_write_multi_req_parse(const void *p, size_t len, struct vu_write_multi *out)
{
	struct vfio_user_write_multi_data e;
	uint64_t i, end;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(uint64_t))
		return -EINVAL;
	out->wr_cnt = vu_ld64(p, 0);
	if (!out->wr_cnt || out->wr_cnt > VFIO_USER_MULTI_MAX)
		return -EINVAL;
	if (!vu_fits(len, sizeof(uint64_t), out->wr_cnt * WM_ENT))
		return -EINVAL;
	out->wrs = (const uint8_t *)p + sizeof(uint64_t);
	for (i = 0; i < out->wr_cnt; i++) {
		vu_write_multi_entry(out, i, &e);
		if (e.count > VFIO_USER_MULTI_DATA ||
		    __builtin_add_overflow(e.offset, (uint64_t)e.count, &end))
			return -EINVAL;
	}
	return 0;
}

ssize_t vu_write_multi_req_encode(void *buf, size_t cap,
				  const struct vfio_user_write_multi_data *wrs,
				  uint64_t n)
{
	if (!n || n > VFIO_USER_MULTI_MAX)
		return -EINVAL;
	if (!vu_fits(cap, sizeof(uint64_t), n * WM_ENT))
		return -ENOSPC;
	vu_st64(buf, 0, n);
	memcpy((uint8_t *)buf + sizeof(uint64_t), wrs, n * WM_ENT);
	return (ssize_t)(sizeof(uint64_t) + n * WM_ENT);
}

int vu_write_multi_rep_parse(const void *p, size_t len, uint64_t *wr_cnt)
{
	if (len < sizeof(uint64_t))
		return -EINVAL;
	*wr_cnt = vu_ld64(p, 0);
	return 0;
}

ssize_t vu_write_multi_rep_encode(void *buf, size_t cap, uint64_t wr_cnt)
{
	if (cap < sizeof(uint64_t))
		return -ENOSPC;
	vu_st64(buf, 0, wr_cnt);
	return sizeof(uint64_t);
}

/* ---- DEVICE_FEATURE ------------------------------------------------------------------- */

#define FEAT_FIXED sizeof(struct vfio_user_device_feature)

int vu_feature_req_parse(const void *p, size_t len, struct vu_feature *out)
{
	memset(out, 0, sizeof(*out));
	if (len < FEAT_FIXED)
		return -EINVAL;
	out->argsz = vu_ld32(p, 0);
	out->flags = vu_ld32(p, 4);
	if (out->argsz < FEAT_FIXED)
		return -EINVAL;
	out->data = (const uint8_t *)p + FEAT_FIXED;
	out->data_len = len - FEAT_FIXED;
	return 0;
}

ssize_t vu_feature_req_encode(void *buf, size_t cap, uint32_t argsz,
			      uint32_t flags, const void *data, size_t data_len)
{
	if (argsz < FEAT_FIXED)
		return -EINVAL;
	if (!vu_fits(cap, FEAT_FIXED, data_len))
		return -ENOSPC;
	vu_st32(buf, 0, argsz);
	vu_st32(buf, 4, flags);
	if (data_len)
		memmove((uint8_t *)buf + FEAT_FIXED, data, data_len);
	return (ssize_t)(FEAT_FIXED + data_len);
}

int vu_feature_rep_parse(const void *p, size_t len, struct vu_feature *out)
{
	return vu_feature_req_parse(p, len, out);
}

ssize_t vu_feature_rep_encode(void *buf, size_t cap, uint32_t flags,
			      const void *data, size_t data_len)
{
	if (data_len > UINT32_MAX - FEAT_FIXED)
		return -EINVAL;
	return vu_feature_req_encode(buf, cap, (uint32_t)(FEAT_FIXED + data_len),
				     flags, data, data_len);
}

/* ---- MIG_DATA_READ / MIG_DATA_WRITE ------------------------------------------------------ */

#define MIG_FIXED sizeof(struct vfio_user_mig_data)

static int mig_parse(const void *p, size_t len, uint32_t max_xfer,
		     struct vu_mig_data *out)
{
	memset(out, 0, sizeof(*out));
	if (len < MIG_FIXED)
		return -EINVAL;
	out->argsz = vu_ld32(p, 0);
	out->size = vu_ld32(p, 4);
	if (out->argsz < MIG_FIXED || out->size > max_xfer)
		return -EINVAL;
	out->data = (const uint8_t *)p + MIG_FIXED;
	return 0;
}

static ssize_t mig_encode(void *buf, size_t cap, uint32_t argsz, uint32_t size,
			  const void *data, size_t ndata)
{
	if (!vu_fits(cap, MIG_FIXED, ndata))
		return -ENOSPC;
	vu_st32(buf, 0, argsz);
	vu_st32(buf, 4, size);
	/* The server reads device data in place: no copy of it onto itself. */
	if (ndata && data != (uint8_t *)buf + MIG_FIXED)
		memmove((uint8_t *)buf + MIG_FIXED, data, ndata);
	return (ssize_t)(MIG_FIXED + ndata);
}

int vu_mig_read_req_parse(const void *p, size_t len, uint32_t max_xfer,
			  struct vu_mig_data *out)
{
	int ret = mig_parse(p, len, max_xfer, out);

	out->data = NULL;
	return ret;
}

ssize_t vu_mig_read_req_encode(void *buf, size_t cap, uint32_t size)
{
	if (size > UINT32_MAX - MIG_FIXED)
		return -EINVAL;
	/* argsz: the reply space we accept, data included. */
	return mig_encode(buf, cap, (uint32_t)(MIG_FIXED + size), size, NULL, 0);
}

int vu_mig_read_rep_parse(const void *p, size_t len, uint32_t max_xfer,
			  struct vu_mig_data *out)
{
	int ret = mig_parse(p, len, max_xfer, out);

	if (ret)
		return ret;
	return len - MIG_FIXED >= out->size ? 0 : -EINVAL;
}

ssize_t vu_mig_read_rep_encode(void *buf, size_t cap, const void *data, uint32_t n)
{
	if (n > UINT32_MAX - MIG_FIXED)
		return -EINVAL;
	return mig_encode(buf, cap, (uint32_t)(MIG_FIXED + n), n, data, n);
}

int vu_mig_write_req_parse(const void *p, size_t len, uint32_t max_xfer,
			   struct vu_mig_data *out)
{
	int ret = mig_parse(p, len, max_xfer, out);

	if (ret)
		return ret;
	return len - MIG_FIXED == out->size ? 0 : -EINVAL;
}

ssize_t vu_mig_write_req_encode(void *buf, size_t cap, const void *data, uint32_t n)
{
	if (n > UINT32_MAX - MIG_FIXED)
		return -EINVAL;
	return mig_encode(buf, cap, (uint32_t)(MIG_FIXED + n), n, data, n);
}
