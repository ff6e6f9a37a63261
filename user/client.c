/* SPDX-License-Identifier: MIT */
/*
 * The client API: parse a location, pick a backend, and keep what every
 * backend shares — the lock that serialises calls, the region cache (region
 * fds are opened once), and mmap of mappable areas with their bounds checks.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uvfio/log.h>

#include "core/vfio_compat.h"
#include "user/client_backend.h"
#include "user/transport.h" /* uvfio_tp_wait: a deadline-bounded poll */

static const struct {
	const char *scheme;
	const struct uvfio_client_backend *be;
} schemes[] = {
	{ "vfio-user:", &uvfio_client_vfio_user },
	/* The kernel's VFIO (kernel/client_kernel.c parses the whole location). */
	{ "pci:", &uvfio_client_kernel },
	{ "mdev:", &uvfio_client_kernel },
	{ "cdx:", &uvfio_client_kernel },
	{ "/dev/vfio/", &uvfio_client_kernel },
};

/* A bare path naming a UNIX socket is a vfio-user server too. */
static const struct uvfio_client_backend *pick(const char *location, const char **target)
{
	struct stat st;

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i].scheme);

		if (!strncmp(location, schemes[i].scheme, n)) {
			*target = location + n;
			return schemes[i].be;
		}
	}
	*target = location;
	if (!stat(location, &st) && S_ISSOCK(st.st_mode))
		return &uvfio_client_vfio_user;
	if (strlen(location) > 5 && !strcmp(location + strlen(location) - 5, ".sock"))
		return &uvfio_client_vfio_user;
	return NULL;
}

int uvfio_client_open(const char *location, const struct uvfio_client_opts *opts,
		      struct uvfio_client **out)
{
	static const struct uvfio_client_opts defaults = { 0 };
	struct uvfio_client *c;
	const char *target;
	uint32_t n;
	int ret;

	*out = NULL;
	if (!location || !*location)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->be = pick(location, &target);
	if (!c->be || !*target) {
		uvfio_log(UVFIO_LOG_DEBUG, location, "unknown location (want vfio-user:/path.sock, "
			  "pci:BDF, mdev:UUID, cdx:NAME, /dev/vfio/N:DEVICE or /dev/vfio/devices/vfioX)");
		ret = -EPROTONOSUPPORT;
		goto err_free;
	}
	c->location = strdup(location);
	if (!c->location) {
		ret = -ENOMEM;
		goto err_free;
	}
	pthread_mutex_init(&c->lock, NULL);
	ret = c->be->open(c, target, opts ? opts : &defaults);
	if (ret)
		goto err_lock;

	/* Device info once: it bounds every index the caller passes. */
	ret = c->be->get_info(c, &c->info);
	if (ret)
		goto err_close;
	if (c->info.num_regions > UVFIO_CLIENT_MAX_REGIONS ||
	    c->info.num_irqs > UVFIO_CLIENT_MAX_IRQS) {
		uvfio_log(UVFIO_LOG_ERR, c->location, "device reports %u regions, %u irqs: too many",
			  c->info.num_regions, c->info.num_irqs);
		ret = -EPROTO;
		goto err_close;
	}
	n = c->info.num_regions;
	c->regions = calloc(n ? n : 1, sizeof(*c->regions));
	c->region_valid = calloc(n ? n : 1, 1);
	if (!c->regions || !c->region_valid) {
		ret = -ENOMEM;
		goto err_regions;
	}
	*out = c;
	return 0;

err_regions:
	free(c->regions);
	free(c->region_valid);
err_close:
	c->be->close(c);
err_lock:
	pthread_mutex_destroy(&c->lock);
	free(c->location);
err_free:
	free(c);
	return ret;
}

void uvfio_client_close(struct uvfio_client *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nr_maps; i++)
		munmap(c->maps[i].addr, c->maps[i].len);
	free(c->maps);
	for (uint32_t i = 0; i < c->info.num_regions; i++)
		if (c->region_valid[i] && c->regions[i].mmap_fd >= 0)
			close(c->regions[i].mmap_fd);
	free(c->regions);
	free(c->region_valid);
	c->be->close(c);
	pthread_mutex_destroy(&c->lock);
	free(c->location);
	free(c);
}

const char *uvfio_client_backend(struct uvfio_client *c)
{
	return c->be->name;
}

/* Run `expr` (a backend call) with the client's lock held. */
#define LOCKED(c, expr)                          \
	({                                       \
		__typeof__(expr) __r;            \
		pthread_mutex_lock(&(c)->lock);  \
		__r = (expr);                    \
		pthread_mutex_unlock(&(c)->lock); \
		__r;                             \
	})

/* The kernel's minsz for these ioctls: argsz must cover the fields through
 * num_irqs / count (16 bytes). */
#define INFO_MINSZ 16u

int uvfio_client_get_info(struct uvfio_client *c, struct vfio_device_info *info)
{
	int ret;

	if (info->argsz < INFO_MINSZ)
		return -EINVAL;
	ret = LOCKED(c, c->be->get_info(c, info));

	/* The counts are what open validated and sized the cache with. */
	if (!ret && (info->num_regions != c->info.num_regions ||
		     info->num_irqs != c->info.num_irqs))
		return -EPROTO;
	return ret;
}

static int region_locked(struct uvfio_client *c, uint32_t index,
			 const struct uvfio_region **out)
{
	int ret;

	if (index >= c->info.num_regions)
		return -EINVAL;
	if (!c->region_valid[index]) {
		ret = c->be->region(c, index, &c->regions[index]);
		if (ret)
			return ret;
		c->region_valid[index] = 1;
	}
	*out = &c->regions[index];
	return 0;
}

int uvfio_client_region(struct uvfio_client *c, uint32_t index, struct uvfio_region *out)
{
	const struct uvfio_region *r;
	int ret;

	pthread_mutex_lock(&c->lock);
	ret = region_locked(c, index, &r);
	if (!ret)
		*out = *r;
	pthread_mutex_unlock(&c->lock);
	return ret;
}

ssize_t uvfio_client_read(struct uvfio_client *c, uint32_t index, uint64_t pos,
			  void *buf, size_t count)
{
	if (index >= c->info.num_regions || (!buf && count))
		return -EINVAL;
	if (!count)
		return 0;
	return LOCKED(c, c->be->read(c, index, pos, buf, count));
}

ssize_t uvfio_client_write(struct uvfio_client *c, uint32_t index, uint64_t pos,
			   const void *buf, size_t count)
{
	if (index >= c->info.num_regions || (!buf && count))
		return -EINVAL;
	if (!count)
		return 0;
	return LOCKED(c, c->be->write(c, index, pos, buf, count));
}

ssize_t uvfio_client_write_posted(struct uvfio_client *c, uint32_t index, uint64_t pos,
				  const void *buf, size_t count)
{
	if (index >= c->info.num_regions || (!buf && count))
		return -EINVAL;
	if (!count)
		return 0;
	if (!c->be->write_posted)
		return LOCKED(c, c->be->write(c, index, pos, buf, count));
	return LOCKED(c, c->be->write_posted(c, index, pos, buf, count));
}

int uvfio_client_ioeventfds(struct uvfio_client *c, uint32_t index,
			    struct uvfio_client_ioeventfd *out, size_t cap)
{
	if (index >= c->info.num_regions || (!out && cap))
		return -EINVAL;
	if (!c->be->ioeventfds)
		return 0; /* kernel VFIO: the write goes through the device fd */
	return LOCKED(c, c->be->ioeventfds(c, index, out, cap));
}

/* [pos, pos+len) inside one mmap area of r (the whole region if none). */
static bool in_area(const struct uvfio_region *r, uint64_t pos, uint64_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(pos, len, &end))
		return false;
	if (!r->nr_areas)
		return end <= r->size;
	for (uint32_t i = 0; i < r->nr_areas; i++) {
		const struct uvfio_mmap_area *a = &r->areas[i];

		/* end >= pos >= a->offset, so the subtraction cannot wrap. */
		if (pos >= a->offset && end - a->offset <= a->size)
			return true;
	}
	return false;
}

void *uvfio_client_mmap(struct uvfio_client *c, uint32_t index, uint64_t pos,
			size_t len, int prot)
{
	long pgsize = sysconf(_SC_PAGESIZE);
	const struct uvfio_region *r;
	struct uvfio_client_mapping *m;
	uint64_t file_off;
	void *addr = NULL;
	int err;

	pthread_mutex_lock(&c->lock);
	err = -region_locked(c, index, &r);
	if (err)
		goto out;
	err = EINVAL;
	if (!len || (pos & (uint64_t)(pgsize - 1)) || (prot & ~(PROT_READ | PROT_WRITE)))
		goto out;
	if (!(r->flags & VFIO_REGION_INFO_FLAG_MMAP) || !in_area(r, pos, len))
		goto out;
	if ((prot & PROT_READ && !(r->flags & VFIO_REGION_INFO_FLAG_READ)) ||
	    (prot & PROT_WRITE && !(r->flags & VFIO_REGION_INFO_FLAG_WRITE)))
		goto out;
	err = ENODEV; /* mappable by flag, but the device gave no fd */
	if (r->mmap_fd < 0)
		goto out;
	err = EOVERFLOW;
	if (__builtin_add_overflow(r->offset, pos, &file_off) || file_off > INT64_MAX)
		goto out;
	if (c->nr_maps == c->cap_maps) {
		size_t cap = c->cap_maps ? c->cap_maps * 2 : 8;

		err = ENOMEM;
		m = realloc(c->maps, cap * sizeof(*m));
		if (!m)
			goto out;
		c->maps = m;
		c->cap_maps = cap;
	}
	addr = mmap(NULL, len, prot, MAP_SHARED, r->mmap_fd, (off_t)file_off);
	if (addr == MAP_FAILED) {
		err = errno;
		addr = NULL;
		uvfio_log(UVFIO_LOG_WARN, c->location, "mmap of region %u [%#llx, +%#zx): %s",
			  index, (unsigned long long)pos, len, strerror(err));
		goto out;
	}
	c->maps[c->nr_maps++] = (struct uvfio_client_mapping){ addr, len };
	err = 0;
out:
	pthread_mutex_unlock(&c->lock);
	if (err)
		errno = err;
	return addr;
}

int uvfio_client_munmap(struct uvfio_client *c, void *addr, size_t len)
{
	int ret = -EINVAL;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->nr_maps; i++) {
		if (c->maps[i].addr != addr || c->maps[i].len != len)
			continue;
		ret = munmap(addr, len) ? -errno : 0;
		c->maps[i] = c->maps[--c->nr_maps];
		break;
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int uvfio_client_irq_info(struct uvfio_client *c, struct vfio_irq_info *info)
{
	if (info->argsz < INFO_MINSZ || info->index >= c->info.num_irqs)
		return -EINVAL;
	return LOCKED(c, c->be->irq_info(c, info));
}

int uvfio_client_set_irqs(struct uvfio_client *c, const struct vfio_irq_set *hdr,
			  const void *data)
{
	if (hdr->index >= c->info.num_irqs)
		return -EINVAL;
	return LOCKED(c, c->be->set_irqs(c, hdr, data));
}

int uvfio_client_dma_map(struct uvfio_client *c, const struct uvfio_dma_map_args *args)
{
	return LOCKED(c, c->be->dma_map(c, args));
}

int uvfio_client_dma_unmap(struct uvfio_client *c, uint64_t iova, uint64_t size)
{
	return LOCKED(c, c->be->dma_unmap(c, iova, size));
}

int uvfio_client_dma_unmap_all(struct uvfio_client *c)
{
	return LOCKED(c, c->be->dma_unmap_all(c));
}

int uvfio_client_reset(struct uvfio_client *c)
{
	return LOCKED(c, c->be->reset(c));
}

int uvfio_client_feature(struct uvfio_client *c, void *buf)
{
	return LOCKED(c, c->be->feature(c, buf));
}

ssize_t uvfio_client_mig_read(struct uvfio_client *c, void *buf, size_t len)
{
	return LOCKED(c, c->be->mig_read(c, buf, len));
}

int uvfio_client_mig_write(struct uvfio_client *c, const void *buf, size_t len)
{
	return LOCKED(c, c->be->mig_write(c, buf, len));
}

int uvfio_client_fd(struct uvfio_client *c)
{
	return c->be->fd(c);
}

int uvfio_client_process(struct uvfio_client *c, int timeout_ms)
{
	/*
	 * Wait without the lock, so an idle wait never holds up a call from
	 * another thread. Backends leave no complete request buffered after
	 * a call, so the fd polling readable is the whole story.
	 */
	if (timeout_ms) {
		int fd = c->be->fd(c);
		uint64_t deadline = timeout_ms < 0 ? UINT64_MAX
						   : uvfio_tp_deadline((uint32_t)timeout_ms);
		int rc = uvfio_tp_wait(fd, POLLIN, deadline);

		if (rc == -ETIMEDOUT)
			return 0;
		if (rc)
			return rc;
	}
	return LOCKED(c, c->be->process(c));
}
