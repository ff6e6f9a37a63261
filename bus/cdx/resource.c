/* SPDX-License-Identifier: MIT */
/*
 * CDX resources: their backing (a memfd for mappable resources, plain
 * memory or device handlers for the rest), the region table vfio-cdx
 * builds from them, region access, and the mmap rules of vfio_cdx_mmap().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bus/cdx/cdx_internal.h"

/*
 * A mappable resource's memfd holds its data at index << 40, the offset
 * region info reports, so that a vfio-user client maps fd at exactly that
 * offset. The file is sparse below it. Seals stop a client holding the fd
 * from resizing it under the device (SIGBUS) and, for a read-only
 * resource, from mapping it writable: the device's own mapping, made
 * before the seal, stays writable.
 */
static int res_memfd(struct uvfio_cdx_device *cdx, uint32_t index)
{
	const struct uvfio_cdx_resource *r = &cdx->info.resources[index];
	struct uvfio_cdx_res_state *s = &cdx->res[index];
	int seals = F_SEAL_SHRINK | F_SEAL_GROW;
	uint64_t off = (uint64_t)index << UVFIO_CDX_OFFSET_SHIFT;
	uint64_t end;
	void *mem;
	int fd, ret;

	if (__builtin_add_overflow(off, r->size, &end) || end > (uint64_t)INT64_MAX)
		return -EINVAL;
	fd = memfd_create(uvfio_device_name(cdx->dev), MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)end) < 0) {
		ret = -errno;
		goto err_close;
	}
	mem = mmap(NULL, (size_t)r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   (off_t)off);
	if (mem == MAP_FAILED) {
		ret = -errno;
		goto err_close;
	}
	if (r->read_only)
		seals |= F_SEAL_FUTURE_WRITE;
	if (fcntl(fd, F_ADD_SEALS, seals | F_SEAL_SEAL) < 0) {
		ret = -errno;
		goto err_unmap;
	}
	s->fd = fd;
	s->fd_offset = off;
	s->mem = mem;
	return 0;

err_unmap:
	munmap(mem, (size_t)r->size);
err_close:
	close(fd);
	return ret;
}

int cdx_resources_init(struct uvfio_cdx_device *cdx)
{
	uint64_t page = cdx_page_size();
	int ret;

	for (uint32_t i = 0; i < cdx->info.num_resources; i++) {
		const struct uvfio_cdx_resource *r = &cdx->info.resources[i];
		struct uvfio_cdx_res_state *s = &cdx->res[i];

		/* vfio-cdx: "Only regions addressed with PAGE granularity may
		 * be MMAP'ed securely." */
		s->mappable = !(r->start % page) && !(r->size % page);
		if (s->mappable) {
			ret = res_memfd(cdx, i);
			if (ret) {
				uvfio_dev_log(cdx->dev, UVFIO_LOG_ERR,
					      "resource %u: memfd: %d", i, ret);
				goto unwind;
			}
		} else if (!r->read) {
			s->mem = calloc(1, (size_t)r->size);
			if (!s->mem) {
				ret = -ENOMEM;
				goto unwind;
			}
		}
	}
	return 0;

unwind:
	cdx_resources_free(cdx);
	return ret;
}

void cdx_resources_free(struct uvfio_cdx_device *cdx)
{
	for (uint32_t i = 0; i < UVFIO_CDX_MAX_RESOURCES; i++) {
		struct uvfio_cdx_res_state *s = &cdx->res[i];

		if (s->fd >= 0) {
			if (s->mem)
				munmap(s->mem, (size_t)cdx->info.resources[i].size);
			close(s->fd);
		} else {
			free(s->mem);
		}
		s->fd = -1;
		s->mem = NULL;
	}
}

int cdx_regions_init(struct uvfio_cdx_device *cdx)
{
	struct uvfio_region reg;
	int ret;

	ret = uvfio_device_set_num_regions(cdx->dev, cdx->info.num_resources);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < cdx->info.num_resources; i++) {
		const struct uvfio_cdx_resource *r = &cdx->info.resources[i];

		memset(&reg, 0, sizeof(reg));
		reg.flags = VFIO_REGION_INFO_FLAG_READ;
		if (!r->read_only)
			reg.flags |= VFIO_REGION_INFO_FLAG_WRITE;
		if (cdx->res[i].mappable)
			reg.flags |= VFIO_REGION_INFO_FLAG_MMAP;
		reg.size = r->size;
		reg.offset = (uint64_t)i << UVFIO_CDX_OFFSET_SHIFT;
		reg.mmap_fd = cdx->res[i].fd;
		ret = uvfio_device_set_region(cdx->dev, i, &reg);
		if (ret)
			return ret;
	}
	return 0;
}

void *uvfio_cdx_resource_mem(struct uvfio_cdx_device *cdx, uint32_t index)
{
	if (!cdx || index >= cdx->info.num_resources)
		return NULL;
	return cdx->res[index].mem;
}

/* The core checked index, the READ/WRITE flag and the bounds. */
ssize_t cdx_region_read(struct uvfio_device *dev, uint32_t index, uint64_t pos,
			void *buf, size_t count)
{
	struct uvfio_cdx_device *cdx = uvfio_device_priv(dev);
	const struct uvfio_cdx_resource *r = &cdx->info.resources[index];

	if (cdx->res[index].mem) {
		memcpy(buf, (uint8_t *)cdx->res[index].mem + pos, count);
		return (ssize_t)count;
	}
	return r->read(cdx, index, pos, buf, count);
}

ssize_t cdx_region_write(struct uvfio_device *dev, uint32_t index, uint64_t pos,
			 const void *buf, size_t count)
{
	struct uvfio_cdx_device *cdx = uvfio_device_priv(dev);
	const struct uvfio_cdx_resource *r = &cdx->info.resources[index];

	if (cdx->res[index].mem) {
		memcpy((uint8_t *)cdx->res[index].mem + pos, buf, count);
		return (ssize_t)count;
	}
	if (!r->write)
		return -EINVAL; /* unreachable: read-only regions have no WRITE */
	return r->write(cdx, index, pos, buf, count);
}

int uvfio_cdx_mmap_check(struct uvfio_device *dev, uint32_t index,
			 uint64_t offset, uint64_t len, int prot)
{
	struct uvfio_cdx_device *cdx = uvfio_cdx_from_device(dev);
	const struct uvfio_region *reg;
	uint64_t page = cdx_page_size();
	uint64_t end;

	if (!cdx)
		return -EINVAL;
	if (index >= cdx->info.num_resources)
		return -EINVAL;
	reg = uvfio_device_region(dev, index);
	if (!reg || !(reg->flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -EINVAL;
	if ((prot & PROT_READ) && !(reg->flags & VFIO_REGION_INFO_FLAG_READ))
		return -EPERM;
	if ((prot & PROT_WRITE) && !(reg->flags & VFIO_REGION_INFO_FLAG_WRITE))
		return -EPERM;
	/* A vma is whole pages at a page offset; a request that is not could
	 * not come from one. */
	if (len < page || len % page || offset % page)
		return -EINVAL;
	if (__builtin_add_overflow(offset, len, &end) || end > reg->size)
		return -EINVAL;
	return 0;
}

int uvfio_cdx_mmap(struct uvfio_device *dev, uint32_t index, uint64_t offset,
		   uint64_t len, int prot, void **addr)
{
	struct uvfio_cdx_device *cdx;
	void *p;
	int ret;

	if (!addr)
		return -EINVAL;
	ret = uvfio_cdx_mmap_check(dev, index, offset, len, prot);
	if (ret)
		return ret;
	cdx = uvfio_cdx_from_device(dev);
	p = mmap(NULL, (size_t)len, prot, MAP_SHARED, cdx->res[index].fd,
		 (off_t)(cdx->res[index].fd_offset + offset));
	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	return 0;
}
