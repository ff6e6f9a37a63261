/* SPDX-License-Identifier: MIT */
/*
 * The legacy container (/dev/vfio/vfio): one per process, shared by every
 * group the process opens, as the kernel intends (one IOMMU address space
 * for all devices of a process). Opened on the first group, closed when the
 * last group leaves. The IOMMU type is set when the first group has joined,
 * because the kernel only offers the types that group allows (a noiommu
 * group only allows NOIOMMU).
 *
 * Callers hold the handle registry lock (handle.c) for get/put/set_iommu;
 * map/unmap are single ioctls and need no lock.
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

#include "kernel/kvfio.h"

struct kvfio_container {
	int fd;
	unsigned int refs;
	int iommu_type; /* 0 until set */
	/* Re-read when a group joins while other threads map: guarded. */
	pthread_mutex_t info_lock;
	struct kvfio_iommu_info info;
};

static struct kvfio_container *the_container;

int kvfio_container_get(struct kvfio_container **out)
{
	struct kvfio_container *c = the_container;
	char path[256];
	int ret, ver;

	if (c) {
		c->refs++;
		*out = c;
		return 0;
	}
	ret = kvfio_path(path, sizeof(path), "%s/vfio/vfio", kvfio_dev_root());
	if (ret)
		return ret;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = open(path, O_RDWR | O_CLOEXEC);
	if (c->fd < 0) {
		ret = -errno;
		uvfio_log(UVFIO_LOG_ERR, "vfio-container", "open %s: %s (is the vfio module loaded?)",
			  path, strerror(-ret));
		goto err_free;
	}
	ver = ioctl(c->fd, VFIO_GET_API_VERSION);
	if (ver != VFIO_API_VERSION) {
		uvfio_log(UVFIO_LOG_ERR, "vfio-container", "VFIO API version %d, want %d",
			  ver, VFIO_API_VERSION);
		ret = -EPROTO;
		goto err_close;
	}
	pthread_mutex_init(&c->info_lock, NULL);
	c->refs = 1;
	the_container = c;
	*out = c;
	return 0;

err_close:
	close(c->fd);
err_free:
	free(c);
	return ret;
}

void kvfio_container_put(struct kvfio_container *c)
{
	if (!c || --c->refs)
		return;
	/* Closing the fd releases the IOMMU and every mapping in it. */
	close(c->fd);
	if (the_container == c)
		the_container = NULL;
	pthread_mutex_destroy(&c->info_lock);
	free(c);
}

int kvfio_container_fd(struct kvfio_container *c)
{
	return c->fd;
}

bool kvfio_container_noiommu(struct kvfio_container *c)
{
	return c->iommu_type == VFIO_NOIOMMU_IOMMU;
}

void kvfio_container_info(struct kvfio_container *c, struct kvfio_iommu_info *out)
{
	pthread_mutex_lock(&c->info_lock);
	*out = c->info;
	pthread_mutex_unlock(&c->info_lock);
}

/* VFIO_IOMMU_GET_INFO with the argsz retry: caps may not fit the first time. */
static int get_info(struct kvfio_container *c, const char *who)
{
	struct vfio_iommu_type1_info req = { 0 };
	struct kvfio_iommu_info parsed;
	uint8_t *buf;
	size_t len;
	int ret;

	ret = kvfio_info_ioctl(c->fd, VFIO_IOMMU_GET_INFO, &req, sizeof(req), &buf, &len);
	if (ret) {
		uvfio_log(UVFIO_LOG_ERR, who, "VFIO_IOMMU_GET_INFO: %s", strerror(-ret));
		return ret;
	}
	/* Replace the known info only with a complete new one. */
	ret = kvfio_parse_iommu_info(buf, len, &parsed);
	if (!ret) {
		pthread_mutex_lock(&c->info_lock);
		c->info = parsed;
		pthread_mutex_unlock(&c->info_lock);
	} else {
		uvfio_log(UVFIO_LOG_ERR, who, "VFIO_IOMMU_GET_INFO: corrupt capability chain");
	}
	free(buf);
	return ret;
}

int kvfio_container_set_iommu(struct kvfio_container *c, const char *who)
{
	static const int types[] = { VFIO_TYPE1v2_IOMMU, VFIO_TYPE1_IOMMU, VFIO_NOIOMMU_IOMMU };
	int ret;

	/* Each group that joins may narrow the valid IOVA ranges: re-read. */
	if (c->iommu_type) {
		if (c->iommu_type != VFIO_NOIOMMU_IOMMU && get_info(c, who))
			uvfio_log(UVFIO_LOG_WARN, who, "keeping the previous IOVA ranges");
		return 0;
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (ioctl(c->fd, VFIO_CHECK_EXTENSION, types[i]) <= 0)
			continue;
		if (ioctl(c->fd, VFIO_SET_IOMMU, types[i])) {
			ret = -errno;
			uvfio_log(UVFIO_LOG_ERR, who, "VFIO_SET_IOMMU(%d): %s", types[i],
				  strerror(-ret));
			return ret;
		}
		c->iommu_type = types[i];
		uvfio_log(UVFIO_LOG_INFO, who, "container IOMMU type %d", types[i]);
		if (types[i] == VFIO_NOIOMMU_IOMMU)
			return 0; /* no IOMMU, nothing to ask */
		ret = get_info(c, who);
		if (ret) {
			/* Unknown ranges would only weaken the checks; the kernel
			 * still validates every map. */
			pthread_mutex_lock(&c->info_lock);
			memset(&c->info, 0, sizeof(c->info));
			pthread_mutex_unlock(&c->info_lock);
			uvfio_log(UVFIO_LOG_WARN, who, "continuing without IOVA ranges");
		}
		return 0;
	}
	uvfio_log(UVFIO_LOG_ERR, who, "the container offers no usable IOMMU type (load "
		  "vfio_iommu_type1, or vfio with enable_unsafe_noiommu_mode=1)");
	return -ENODEV;
}

int kvfio_container_dma_map(struct kvfio_container *c, uint64_t iova, uint64_t size,
			    void *vaddr, uint32_t prot, const char *who)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};
	struct kvfio_iommu_info info;
	char msg[512];
	int ret;

	if (c->iommu_type == VFIO_NOIOMMU_IOMMU) {
		uvfio_log(UVFIO_LOG_ERR, who, "noiommu: there is no IOMMU to map through; "
			  "the device must be given physical addresses");
		return -EOPNOTSUPP;
	}
	pthread_mutex_lock(&c->info_lock);
	info = c->info;
	pthread_mutex_unlock(&c->info_lock);
	ret = kvfio_iova_check(&info, iova, size, msg, sizeof(msg));
	if (ret) {
		uvfio_log(UVFIO_LOG_ERR, who, "DMA map: %s", msg);
		return ret;
	}
	if (prot & UVFIO_DMA_READ)
		map.flags |= VFIO_DMA_MAP_FLAG_READ;
	if (prot & UVFIO_DMA_WRITE)
		map.flags |= VFIO_DMA_MAP_FLAG_WRITE;
	if (ioctl(c->fd, VFIO_IOMMU_MAP_DMA, &map)) {
		ret = -errno;
		uvfio_log(UVFIO_LOG_ERR, who, "VFIO_IOMMU_MAP_DMA iova %#" PRIx64 " size %#"
			  PRIx64 ": %s%s", iova, size, strerror(-ret),
			  ret == -ENOMEM ? " (RLIMIT_MEMLOCK?)" : "");
		return ret;
	}
	return 0;
}

int kvfio_container_dma_unmap(struct kvfio_container *c, uint64_t iova,
			      uint64_t size, uint64_t *unmapped, const char *who)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = size,
	};
	int ret;

	*unmapped = 0;
	if (c->iommu_type == VFIO_NOIOMMU_IOMMU)
		return -EOPNOTSUPP;
	if (ioctl(c->fd, VFIO_IOMMU_UNMAP_DMA, &unmap)) {
		ret = -errno;
		uvfio_log(UVFIO_LOG_ERR, who, "VFIO_IOMMU_UNMAP_DMA iova %#" PRIx64 " size %#"
			  PRIx64 ": %s", iova, size, strerror(-ret));
		return ret;
	}
	*unmapped = unmap.size;
	return 0;
}
