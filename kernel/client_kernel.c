/* SPDX-License-Identifier: MIT */
/*
 * The client backends for the kernel's VFIO: "kernel-group" (container +
 * group) and "kernel-cdev" (iommufd). One open entry point resolves the
 * location and then installs the table that names how the device was
 * opened; the verbs are the same for both, since both end in a device fd.
 *
 * Mappable regions: the kernel maps a region through the device fd at the
 * region's reported offset, which is exactly what the generic client does
 * with a region fd (mmap(fd, region.offset + pos)). Each mappable region is
 * given its own (close-on-exec) dup of the device fd because the generic code owns and
 * closes region fds.
 *
 * DMA: the IOMMU address space is the process's (container or IOAS), shared
 * by all devices; each client remembers what it mapped so that unmap_all
 * and close remove its own mappings and nobody else's.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <uvfio/log.h>

#include "kernel/kvfio.h"
#include "user/client_backend.h"

struct kregion {
	bool valid;
	uint32_t flags;
	uint64_t offset, size;
};

struct kmap {
	uint64_t iova, size;
};

struct kclient {
	struct kvfio_handle *h;
	uint32_t nr_regions;
	struct kregion *regions;
	struct kmap *maps;
	size_t nr_maps, cap_maps;
	int mig_fd; /* data_fd of the current migration session, or -1 */
	int idle_fd; /* uvfio_client_fd(): never readable */
};

extern const struct uvfio_client_backend uvfio_client_kernel_group;
extern const struct uvfio_client_backend uvfio_client_kernel_cdev;

static struct kclient *kc(struct uvfio_client *c)
{
	return c->be_priv;
}

static int k_open(struct uvfio_client *c, const char *target,
		  const struct uvfio_client_opts *opts)
{
	struct vfio_device_info info;
	struct kclient *k;
	int ret;

	(void)target; /* the full location names the form */
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->mig_fd = -1;
	k->idle_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (k->idle_fd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = kvfio_handle_open(c->location, opts->vf_token, &k->h);
	if (ret)
		goto err_idle;
	ret = kvfio_dev_get_info(k->h->fd, &info, c->location);
	if (ret)
		goto err_put;
	/* The region cache is sized by the device; the core rejects more. */
	k->nr_regions = info.num_regions < UVFIO_CLIENT_MAX_REGIONS ?
			info.num_regions : UVFIO_CLIENT_MAX_REGIONS;
	k->regions = calloc(k->nr_regions ? k->nr_regions : 1, sizeof(*k->regions));
	if (!k->regions) {
		ret = -ENOMEM;
		goto err_put;
	}
	c->be_priv = k;
	c->be = k->h->cdev ? &uvfio_client_kernel_cdev : &uvfio_client_kernel_group;
	return 0;

err_put:
	kvfio_handle_put(k->h);
err_idle:
	close(k->idle_fd);
err_free:
	free(k);
	return ret;
}

static void forget_maps(struct kclient *k, uint64_t iova, uint64_t size)
{
	uint64_t end = iova + size; /* checked by the caller's unmap */

	for (size_t i = 0; i < k->nr_maps;) {
		if (k->maps[i].iova >= iova && k->maps[i].iova + k->maps[i].size <= end)
			k->maps[i] = k->maps[--k->nr_maps];
		else
			i++;
	}
}

static int k_dma_unmap_all(struct uvfio_client *c)
{
	struct kclient *k = kc(c);
	int ret = 0;

	while (k->nr_maps) {
		struct kmap m = k->maps[k->nr_maps - 1];
		uint64_t done;
		int r = kvfio_handle_dma_unmap(k->h, m.iova, m.size, &done);

		if (r && !ret)
			ret = r;
		k->nr_maps--; /* even on error: never retry forever */
	}
	return ret;
}

static void k_close(struct uvfio_client *c)
{
	struct kclient *k = kc(c);

	if (!k)
		return;
	k_dma_unmap_all(c);
	if (k->mig_fd >= 0)
		close(k->mig_fd);
	close(k->idle_fd);
	kvfio_handle_put(k->h);
	free(k->maps);
	free(k->regions);
	free(k);
	c->be_priv = NULL;
}

static int k_get_info(struct uvfio_client *c, struct vfio_device_info *info)
{
	return kvfio_dev_get_info(kc(c)->h->fd, info, c->location);
}

static int k_region(struct uvfio_client *c, uint32_t index, struct uvfio_region *out)
{
	struct kclient *k = kc(c);
	int ret;

	if (index >= k->nr_regions)
		return -EINVAL;
	ret = kvfio_dev_region(k->h->fd, index, out, c->location);
	if (ret)
		return ret;
	k->regions[index] = (struct kregion){ true, out->flags, out->offset, out->size };
	if (out->flags & VFIO_REGION_INFO_FLAG_MMAP) {
		/* Close-on-exec like the device fd: a process this one
		 * spawns must not keep the device open (a VF's removal waits
		 * for its last fd). */
		out->mmap_fd = fcntl(k->h->fd, F_DUPFD_CLOEXEC, 0);
		if (out->mmap_fd < 0)
			return -errno;
	}
	return 0;
}

/* Offset in the device fd of [pos, pos+count) of a region, bounds checked
 * so an access can never spill into the next region's offset range. */
static int region_pos(struct uvfio_client *c, uint32_t index, uint64_t pos,
		      size_t count, uint32_t need, off_t *off)
{
	struct kclient *k = kc(c);
	struct kregion *r;
	uint64_t end, o;

	if (index >= k->nr_regions)
		return -EINVAL;
	r = &k->regions[index];
	if (!r->valid) {
		struct uvfio_region tmp;
		int ret = kvfio_dev_region(k->h->fd, index, &tmp, c->location);

		if (ret)
			return ret;
		*r = (struct kregion){ true, tmp.flags, tmp.offset, tmp.size };
	}
	if (!(r->flags & need))
		return -EINVAL;
	if (__builtin_add_overflow(pos, (uint64_t)count, &end) || end > r->size)
		return -EINVAL;
	if (__builtin_add_overflow(r->offset, pos, &o) || o > INT64_MAX)
		return -EOVERFLOW;
	*off = (off_t)o;
	return 0;
}

static ssize_t k_read(struct uvfio_client *c, uint32_t index, uint64_t pos,
		      void *buf, size_t count)
{
	off_t off;
	ssize_t n;
	int ret = region_pos(c, index, pos, count, VFIO_REGION_INFO_FLAG_READ, &off);

	if (ret)
		return ret;
	n = pread(kc(c)->h->fd, buf, count, off);
	return n < 0 ? -errno : n;
}

static ssize_t k_write(struct uvfio_client *c, uint32_t index, uint64_t pos,
		       const void *buf, size_t count)
{
	off_t off;
	ssize_t n;
	int ret = region_pos(c, index, pos, count, VFIO_REGION_INFO_FLAG_WRITE, &off);

	if (ret)
		return ret;
	n = pwrite(kc(c)->h->fd, buf, count, off);
	return n < 0 ? -errno : n;
}

static int k_irq_info(struct uvfio_client *c, struct vfio_irq_info *info)
{
	return kvfio_dev_irq_info(kc(c)->h->fd, info);
}

static int k_set_irqs(struct uvfio_client *c, const struct vfio_irq_set *hdr,
		      const void *data)
{
	return kvfio_dev_set_irqs(kc(c)->h->fd, hdr, data, c->location);
}

static int k_dma_map(struct uvfio_client *c, const struct uvfio_dma_map_args *args)
{
	struct kclient *k = kc(c);
	int ret;

	if (!args->vaddr) {
		uvfio_log(UVFIO_LOG_ERR, c->location, "DMA map: the kernel IOMMU maps process "
			  "memory; pass vaddr (mmap the fd first)");
		return -EINVAL;
	}
	if (!(args->prot & (UVFIO_DMA_READ | UVFIO_DMA_WRITE)) ||
	    (args->prot & ~(UVFIO_DMA_READ | UVFIO_DMA_WRITE)))
		return -EINVAL;
	/* Room first, so a mapping that succeeded is always remembered. */
	if (k->nr_maps == k->cap_maps) {
		size_t cap = k->cap_maps ? k->cap_maps * 2 : 16;
		struct kmap *m = realloc(k->maps, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		k->maps = m;
		k->cap_maps = cap;
	}
	ret = kvfio_handle_dma_map(k->h, args->iova, args->size, args->vaddr, args->prot);
	if (ret)
		return ret;
	k->maps[k->nr_maps++] = (struct kmap){ args->iova, args->size };
	return 0;
}

static int k_dma_unmap(struct uvfio_client *c, uint64_t iova, uint64_t size)
{
	struct kclient *k = kc(c);
	uint64_t done, end;
	int ret;

	if (!size || __builtin_add_overflow(iova, size, &end))
		return size ? -EOVERFLOW : -EINVAL;
	ret = kvfio_handle_dma_unmap(k->h, iova, size, &done);
	if (ret)
		return ret;
	forget_maps(k, iova, size);
	return 0;
}

static int k_reset(struct uvfio_client *c)
{
	return kvfio_dev_reset(kc(c)->h->fd);
}

/* States in which a data_fd session is open (it persists across moves
 * inside the saving group, and ends on any other state). */
static bool session_state(uint32_t s)
{
	return s == VFIO_DEVICE_STATE_STOP_COPY || s == VFIO_DEVICE_STATE_RESUMING ||
	       s == 6 /* PRE_COPY */ || s == 7 /* PRE_COPY_P2P */;
}

static int k_feature(struct uvfio_client *c, void *buf)
{
	struct vfio_device_feature *f = buf;
	struct kclient *k = kc(c);
	struct vfio_device_feature_mig_state st;
	int ret;

	ret = kvfio_dev_feature(k->h->fd, buf);
	if (ret)
		return ret;
	if ((f->flags & VFIO_DEVICE_FEATURE_MASK) != VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE ||
	    !(f->flags & VFIO_DEVICE_FEATURE_SET) || (f->flags & VFIO_DEVICE_FEATURE_PROBE) ||
	    f->argsz < sizeof(*f) + sizeof(st))
		return 0;
	/* The client owns the data_fd: mig_read/mig_write use it, the
	 * caller sees its number only for information. */
	memcpy(&st, f->data, sizeof(st));
	if (st.data_fd >= 0) {
		if (k->mig_fd >= 0)
			close(k->mig_fd);
		k->mig_fd = st.data_fd;
	} else if (!session_state(st.device_state) && k->mig_fd >= 0) {
		close(k->mig_fd);
		k->mig_fd = -1;
	}
	return 0;
}

static ssize_t k_mig_read(struct uvfio_client *c, void *buf, size_t len)
{
	ssize_t n;

	if (kc(c)->mig_fd < 0)
		return -EINVAL;
	n = read(kc(c)->mig_fd, buf, len);
	return n < 0 ? -errno : n;
}

static int k_mig_write(struct uvfio_client *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (kc(c)->mig_fd < 0)
		return -EINVAL;
	while (len) {
		ssize_t n = write(kc(c)->mig_fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!n)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The kernel sends no requests: the fd to poll is an eventfd that never
 * fires, so a driver's poll loop (or uvfio_client_process with a timeout)
 * just waits, and process has nothing to serve.
 */
static int k_fd(struct uvfio_client *c)
{
	return kc(c)->idle_fd;
}

static int k_process(struct uvfio_client *c)
{
	(void)c;
	return 0;
}

#define KERNEL_OPS                          \
	.open = k_open,                     \
	.close = k_close,                   \
	.get_info = k_get_info,             \
	.region = k_region,                 \
	.read = k_read,                     \
	.write = k_write,                   \
	.irq_info = k_irq_info,             \
	.set_irqs = k_set_irqs,             \
	.dma_map = k_dma_map,               \
	.dma_unmap = k_dma_unmap,           \
	.dma_unmap_all = k_dma_unmap_all,   \
	.reset = k_reset,                   \
	.feature = k_feature,               \
	.mig_read = k_mig_read,             \
	.mig_write = k_mig_write,           \
	.fd = k_fd,                         \
	.process = k_process

/* What the location table points at; open replaces it with one below. */
const struct uvfio_client_backend uvfio_client_kernel = { .name = "kernel", KERNEL_OPS };
const struct uvfio_client_backend uvfio_client_kernel_group = { .name = "kernel-group", KERNEL_OPS };
const struct uvfio_client_backend uvfio_client_kernel_cdev = { .name = "kernel-cdev", KERNEL_OPS };

int kvfio_client_iommu_info(struct uvfio_client *c, struct kvfio_iommu_info *out)
{
	struct kclient *k;

	if (c->be != &uvfio_client_kernel_group && c->be != &uvfio_client_kernel_cdev)
		return -EINVAL;
	k = kc(c);
	if (k->h->cdev) {
		kvfio_iommufd_info(k->h->iommufd, out);
		return 0;
	}
	if (kvfio_container_noiommu(kvfio_group_container(k->h->group)))
		return -EOPNOTSUPP;
	kvfio_container_info(kvfio_group_container(k->h->group), out);
	return 0;
}
