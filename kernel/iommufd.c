/* SPDX-License-Identifier: MIT */
/*
 * iommufd (/dev/iommu) for cdev devices: one iommufd and one IOAS per
 * process, shared by every cdev device it opens (the same "one address
 * space per process" as the container). A device fd from
 * /dev/vfio/devices/vfioX is unusable until VFIO_DEVICE_BIND_IOMMUFD;
 * ATTACH_IOMMUFD_PT then puts it behind the IOAS. The IOAS's valid ranges
 * narrow with each attached device, so they are re-read after each attach.
 *
 * Callers hold the handle registry lock (handle.c) for get/put/bind.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <uvfio/dma.h>
#include <uvfio/log.h>

#include "kernel/iommufd_compat.h"
#include "kernel/kvfio.h"

struct kvfio_iommufd {
	int fd;
	uint32_t ioas;
	unsigned int refs;
	/* Re-read on each attach while other threads map: guarded. */
	pthread_mutex_t info_lock;
	struct kvfio_iommu_info info;
};

static struct kvfio_iommufd *the_iommufd;

int kvfio_iommufd_get(struct kvfio_iommufd **out)
{
	struct kvfio_iommufd *ctx = the_iommufd;
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	char path[256];
	int ret;

	if (ctx) {
		ctx->refs++;
		*out = ctx;
		return 0;
	}
	ret = kvfio_path(path, sizeof(path), "%s/iommu", kvfio_dev_root());
	if (ret)
		return ret;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->fd = open(path, O_RDWR | O_CLOEXEC);
	if (ctx->fd < 0) {
		ret = -errno;
		uvfio_log(UVFIO_LOG_ERR, "iommufd", "open %s: %s", path, strerror(-ret));
		goto err_free;
	}
	if (ioctl(ctx->fd, IOMMU_IOAS_ALLOC, &alloc)) {
		ret = -errno;
		uvfio_log(UVFIO_LOG_ERR, "iommufd", "IOMMU_IOAS_ALLOC: %s", strerror(-ret));
		goto err_close;
	}
	ctx->ioas = alloc.out_ioas_id;
	pthread_mutex_init(&ctx->info_lock, NULL);
	ctx->refs = 1;
	the_iommufd = ctx;
	*out = ctx;
	return 0;

err_close:
	close(ctx->fd);
err_free:
	free(ctx);
	return ret;
}

void kvfio_iommufd_put(struct kvfio_iommufd *ctx)
{
	if (!ctx || --ctx->refs)
		return;
	/* Closing the iommufd destroys the IOAS and its mappings. */
	close(ctx->fd);
	if (the_iommufd == ctx)
		the_iommufd = NULL;
	pthread_mutex_destroy(&ctx->info_lock);
	free(ctx);
}

void kvfio_iommufd_info(struct kvfio_iommufd *ctx, struct kvfio_iommu_info *out)
{
	pthread_mutex_lock(&ctx->info_lock);
	*out = ctx->info;
	pthread_mutex_unlock(&ctx->info_lock);
}

/* IOMMU_IOAS_IOVA_RANGES into ctx->info (EMSGSIZE: the array was short). */
static int read_ranges(struct kvfio_iommufd *ctx, const char *who)
{
	struct iommu_iova_range r[KVFIO_MAX_IOVA_RANGES];
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = ctx->ioas,
		.num_iovas = KVFIO_MAX_IOVA_RANGES,
		.allowed_iovas = (uintptr_t)r,
	};
	struct kvfio_iommu_info info;
	uint32_t n;

	if (ioctl(ctx->fd, IOMMU_IOAS_IOVA_RANGES, &q) && errno != EMSGSIZE) {
		int ret = -errno;

		uvfio_log(UVFIO_LOG_ERR, who, "IOMMU_IOAS_IOVA_RANGES: %s", strerror(-ret));
		return ret;
	}
	/* On EMSGSIZE num_iovas is the total; we keep the first ones, which
	 * only makes our pre-check stricter than the kernel's. */
	n = q.num_iovas < KVFIO_MAX_IOVA_RANGES ? q.num_iovas : KVFIO_MAX_IOVA_RANGES;
	memset(&info, 0, sizeof(info));
	for (uint32_t i = 0; i < n; i++) {
		if (r[i].start > r[i].last)
			return -EPROTO;
		info.ranges[info.nr_ranges].start = r[i].start;
		info.ranges[info.nr_ranges].last = r[i].last;
		info.nr_ranges++;
	}
	/* alignment is a power of two no bigger than PAGE_SIZE; 0/odd: page. */
	if (q.out_iova_alignment && !(q.out_iova_alignment & (q.out_iova_alignment - 1)))
		info.pgsizes = q.out_iova_alignment;
	else
		info.pgsizes = 4096;
	pthread_mutex_lock(&ctx->info_lock);
	ctx->info = info;
	pthread_mutex_unlock(&ctx->info_lock);
	return 0;
}

int kvfio_iommufd_bind(struct kvfio_iommufd *ctx, int devfd, const uint8_t *vf_token)
{
	struct kvfio_bind_iommufd_token bind = {
		.argsz = sizeof(struct vfio_device_bind_iommufd),
		.iommufd = ctx->fd,
	};

	if (vf_token) {
		bind.argsz = sizeof(bind);
		bind.flags = KVFIO_BIND_FLAG_TOKEN;
		bind.token_uuid_ptr = (uintptr_t)vf_token;
	}
	/* EACCES/EINVAL: the VF token; EINVAL: the device is open elsewhere;
	 * EBUSY: its group is open; EPERM: iommufd could not claim the
	 * group's DMA (another device of it is on a host driver), or a
	 * noiommu cdev without CAP_SYS_RAWIO. handle.c tells them apart. */
	return ioctl(devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind) ? -errno : 0;
}

int kvfio_iommufd_attach(struct kvfio_iommufd *ctx, int devfd, const char *who)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = ctx->ioas,
	};
	int ret;

	if (ioctl(devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
		ret = -errno;
		uvfio_log(UVFIO_LOG_ERR, who, "VFIO_DEVICE_ATTACH_IOMMUFD_PT (ioas %u): %s",
			  ctx->ioas, strerror(-ret));
		return ret; /* unbind happens when the device fd is closed */
	}
	return read_ranges(ctx, who);
}

int kvfio_iommufd_dma_map(struct kvfio_iommufd *ctx, uint64_t iova, uint64_t size,
			  void *vaddr, uint32_t prot, const char *who)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA,
		.ioas_id = ctx->ioas,
		.user_va = (uintptr_t)vaddr,
		.length = size,
		.iova = iova,
	};
	struct kvfio_iommu_info info;
	char msg[512];
	int ret;

	kvfio_iommufd_info(ctx, &info);
	ret = kvfio_iova_check(&info, iova, size, msg, sizeof(msg));
	if (ret) {
		uvfio_log(UVFIO_LOG_ERR, who, "DMA map: %s", msg);
		return ret;
	}
	if (prot & UVFIO_DMA_READ)
		map.flags |= IOMMU_IOAS_MAP_READABLE;
	if (prot & UVFIO_DMA_WRITE)
		map.flags |= IOMMU_IOAS_MAP_WRITEABLE;
	if (ioctl(ctx->fd, IOMMU_IOAS_MAP, &map)) {
		ret = -errno;
		uvfio_log(UVFIO_LOG_ERR, who, "IOMMU_IOAS_MAP iova %#" PRIx64 " size %#"
			  PRIx64 ": %s", iova, size, strerror(-ret));
		return ret;
	}
	return 0;
}

int kvfio_iommufd_dma_unmap(struct kvfio_iommufd *ctx, uint64_t iova,
			    uint64_t size, uint64_t *unmapped, const char *who)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = ctx->ioas,
		.iova = iova,
		.length = size,
	};
	int ret;

	*unmapped = 0;
	if (ioctl(ctx->fd, IOMMU_IOAS_UNMAP, &unmap)) {
		ret = -errno;
		/* ENOENT: nothing mapped there, which type1 reports as 0 bytes. */
		if (ret == -ENOENT)
			return 0;
		uvfio_log(UVFIO_LOG_ERR, who, "IOMMU_IOAS_UNMAP iova %#" PRIx64 " size %#"
			  PRIx64 ": %s", iova, size, strerror(-ret));
		return ret;
	}
	*unmapped = unmap.length;
	return 0;
}
