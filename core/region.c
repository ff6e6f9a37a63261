/* SPDX-License-Identifier: MIT */
/*
 * The region table, VFIO_DEVICE_GET_REGION_INFO with its capability chain
 * (SPARSE_MMAP, TYPE) and checked region read/write.
 *
 * The reported offset is the bus driver's encoding; the core stores it and
 * reports it, never decodes it. Accesses name (index, position).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/device_internal.h"

#define REGION_INFO_MINSZ sizeof(struct vfio_region_info) /* 32: ends at offset */
#define REGION_FLAGS_ALLOWED \
	(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE | VFIO_REGION_INFO_FLAG_MMAP)

static void region_init_empty(struct uvfio_region *r)
{
	memset(r, 0, sizeof(*r));
	r->mmap_fd = -1;
}

int uvfio_device_set_num_regions(struct uvfio_device *dev, uint32_t n)
{
	struct uvfio_region *tab;

	if (n > UVFIO_MAX_REGIONS)
		return -EINVAL;

	pthread_mutex_lock(&dev->cfg_lock);
	if (n == 0) {
		free(dev->regions);
		dev->regions = NULL;
		dev->num_regions = 0;
		pthread_mutex_unlock(&dev->cfg_lock);
		return 0;
	}
	tab = realloc(dev->regions, n * sizeof(*tab));
	if (!tab) {
		pthread_mutex_unlock(&dev->cfg_lock);
		return -ENOMEM;
	}
	for (uint32_t i = dev->num_regions; i < n; i++)
		region_init_empty(&tab[i]);
	dev->regions = tab;
	dev->num_regions = n;
	pthread_mutex_unlock(&dev->cfg_lock);
	return 0;
}

/* A region description must be self-consistent before anyone sees it. */
static int region_validate(struct uvfio_device *dev, uint32_t index,
			   const struct uvfio_region *r)
{
	if (r->flags & ~REGION_FLAGS_ALLOWED)
		goto bad;
	if (r->nr_areas > UVFIO_MAX_MMAP_AREAS)
		goto bad;
	if (r->nr_areas && !(r->flags & VFIO_REGION_INFO_FLAG_MMAP))
		goto bad;
	for (uint32_t i = 0; i < r->nr_areas; i++) {
		uint64_t end;

		if (__builtin_add_overflow(r->areas[i].offset, r->areas[i].size, &end) ||
		    end > r->size)
			goto bad;
	}
	return 0;
bad:
	uvfio_dev_log(dev, UVFIO_LOG_ERR, "region %u: invalid description", index);
	return -EINVAL;
}

int uvfio_device_set_region(struct uvfio_device *dev, uint32_t index,
			    const struct uvfio_region *region)
{
	int ret;

	if (!region)
		return -EINVAL;
	ret = region_validate(dev, index, region);
	if (ret)
		return ret;

	pthread_mutex_lock(&dev->cfg_lock);
	if (index >= dev->num_regions) {
		ret = -EINVAL;
	} else {
		dev->regions[index] = *region;
		ret = 0;
	}
	pthread_mutex_unlock(&dev->cfg_lock);
	return ret;
}

const struct uvfio_region *uvfio_device_region(struct uvfio_device *dev,
					       uint32_t index)
{
	const struct uvfio_region *r = NULL;

	/* The table is set up before clients come; the pointer stays valid
	 * until set_num_regions resizes it. */
	pthread_mutex_lock(&dev->cfg_lock);
	if (index < dev->num_regions)
		r = &dev->regions[index];
	pthread_mutex_unlock(&dev->cfg_lock);
	return r;
}

uint32_t uvfio_device_num_regions(struct uvfio_device *dev)
{
	uint32_t n;

	pthread_mutex_lock(&dev->cfg_lock);
	n = dev->num_regions;
	pthread_mutex_unlock(&dev->cfg_lock);
	return n;
}

void uvfio_region_free_all(struct uvfio_device *dev)
{
	free(dev->regions);
	dev->regions = NULL;
	dev->num_regions = 0;
}

static size_t sparse_cap_size(const struct uvfio_region *r)
{
	return sizeof(struct vfio_region_info_cap_sparse_mmap) +
	       r->nr_areas * sizeof(struct vfio_region_sparse_mmap_area);
}

/* Bytes of the capability chain for region r (each cap is 8-byte sized). */
static size_t caps_size(const struct uvfio_region *r)
{
	size_t n = 0;

	if ((r->flags & VFIO_REGION_INFO_FLAG_MMAP) && r->nr_areas)
		n += sparse_cap_size(r);
	if (r->has_type)
		n += sizeof(struct vfio_region_info_cap_type);
	return n;
}

/*
 * Write the chain at buf + REGION_INFO_MINSZ. Each header's `next` is the
 * offset of the next cap from the start of the info struct, 0 at the end,
 * as the kernel's vfio_info_cap_shift() leaves it.
 */
static void caps_write(const struct uvfio_region *r, uint8_t *buf)
{
	size_t pos = REGION_INFO_MINSZ;
	struct vfio_info_cap_header *prev = NULL;

	if ((r->flags & VFIO_REGION_INFO_FLAG_MMAP) && r->nr_areas) {
		struct vfio_region_info_cap_sparse_mmap *sp = (void *)(buf + pos);

		sp->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
		sp->header.version = 1;
		sp->header.next = 0;
		sp->nr_areas = r->nr_areas;
		sp->reserved = 0;
		for (uint32_t i = 0; i < r->nr_areas; i++) {
			sp->areas[i].offset = r->areas[i].offset;
			sp->areas[i].size = r->areas[i].size;
		}
		prev = &sp->header;
		pos += sparse_cap_size(r);
	}
	if (r->has_type) {
		struct vfio_region_info_cap_type *ty = (void *)(buf + pos);

		ty->header.id = VFIO_REGION_INFO_CAP_TYPE;
		ty->header.version = 1;
		ty->header.next = 0;
		ty->type = r->type;
		ty->subtype = r->subtype;
		if (prev)
			prev->next = (uint32_t)pos;
	}
}

int uvfio_device_region_info(struct uvfio_device *dev, void *buf, size_t buflen)
{
	struct vfio_region_info *info = buf;
	struct uvfio_region r;
	size_t need, caps;

	if (!buf || buflen < REGION_INFO_MINSZ)
		return -EINVAL;
	if (info->argsz < REGION_INFO_MINSZ || info->argsz > buflen)
		return -EINVAL;

	pthread_mutex_lock(&dev->cfg_lock);
	if (info->index >= dev->num_regions) {
		pthread_mutex_unlock(&dev->cfg_lock);
		return -EINVAL;
	}
	r = dev->regions[info->index];
	pthread_mutex_unlock(&dev->cfg_lock);

	info->flags = r.flags;
	info->size = r.size;
	info->offset = r.offset;
	info->cap_offset = 0;

	caps = caps_size(&r);
	if (!caps)
		return 0;
	/* As the kernel: CAPS is set either way; too small a buffer only
	 * learns the size it needs and retries. */
	info->flags |= VFIO_REGION_INFO_FLAG_CAPS;
	need = REGION_INFO_MINSZ + caps;
	if (info->argsz < need) {
		info->argsz = (uint32_t)need;
		return 0;
	}
	caps_write(&r, buf);
	info->cap_offset = REGION_INFO_MINSZ;
	return 0;
}

/* The checks every access gets before the op runs; region copied out. */
static int access_check(struct uvfio_device *dev, uint32_t index, uint64_t pos,
			size_t count, uint32_t need_flag)
{
	uint64_t end;
	int ret = 0;

	if (count > SSIZE_MAX)
		return -EINVAL;
	pthread_mutex_lock(&dev->cfg_lock);
	if (index >= dev->num_regions ||
	    !(dev->regions[index].flags & need_flag) ||
	    __builtin_add_overflow(pos, (uint64_t)count, &end) ||
	    end > dev->regions[index].size)
		ret = -EINVAL;
	pthread_mutex_unlock(&dev->cfg_lock);
	return ret;
}

/* An op may do less than asked but never more. */
static ssize_t access_result(struct uvfio_device *dev, uint32_t index,
			     ssize_t ret, size_t count)
{
	if (ret > (ssize_t)count) {
		uvfio_dev_log(dev, UVFIO_LOG_ERR,
			      "region %u: op returned %zd for %zu bytes", index, ret, count);
		return -EIO;
	}
	return ret;
}

ssize_t uvfio_device_read(struct uvfio_device *dev, uint32_t index,
			  uint64_t pos, void *buf, size_t count)
{
	int ret = access_check(dev, index, pos, count, VFIO_REGION_INFO_FLAG_READ);

	if (ret)
		return ret;
	if (!dev->ops->read)
		return -EINVAL;
	if (!count)
		return 0;
	if (!buf)
		return -EINVAL;
	return access_result(dev, index, dev->ops->read(dev, index, pos, buf, count),
			     count);
}

ssize_t uvfio_device_write(struct uvfio_device *dev, uint32_t index,
			   uint64_t pos, const void *buf, size_t count)
{
	int ret = access_check(dev, index, pos, count, VFIO_REGION_INFO_FLAG_WRITE);

	if (ret)
		return ret;
	if (!dev->ops->write)
		return -EINVAL;
	if (!count)
		return 0;
	if (!buf)
		return -EINVAL;
	return access_result(dev, index, dev->ops->write(dev, index, pos, buf, count),
			     count);
}
