/* SPDX-License-Identifier: MIT */
/*
 * Doorbells (ioeventfds): the registers a device names whose writes a
 * client may turn into an eventfd signal (vfio-user GET_REGION_IO_FDS),
 * with KVM's rules for what matches and what collides. The table is
 * append-only and filled before the device is opened, so an index a server
 * learned stays valid while it serves a client.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/device_internal.h"

static bool size_ok(uint32_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* [off, end) overlaps an mmap area of r (the whole region without areas). */
static bool in_mmap_area(const struct uvfio_region *r, uint64_t off, uint64_t end)
{
	if (!(r->flags & VFIO_REGION_INFO_FLAG_MMAP))
		return false;
	if (!r->nr_areas)
		return true;
	for (uint32_t i = 0; i < r->nr_areas; i++) {
		const struct uvfio_mmap_area *a = &r->areas[i];

		if (off < a->offset + a->size && a->offset < end)
			return true;
	}
	return false;
}

/* KVM's ioeventfd_check_collision(): same place and length, and either
 * side matches any value or both match the same one. */
static bool collides(const struct uvfio_ioeventfd *a, const struct uvfio_ioeventfd *b)
{
	if (a->index != b->index || a->offset != b->offset || a->size != b->size)
		return false;
	if (!(a->flags & UVFIO_IOEVENTFD_DATAMATCH) || !(b->flags & UVFIO_IOEVENTFD_DATAMATCH))
		return true;
	return a->datamatch == b->datamatch;
}

/* The checks that need the region table; cfg_lock held. */
static int check_locked(struct uvfio_device *dev, const struct uvfio_ioeventfd *ev)
{
	const struct uvfio_region *r;
	uint32_t on_region = 0;
	uint64_t end;

	if (ev->index >= dev->num_regions)
		return -EINVAL;
	r = &dev->regions[ev->index];
	if (!(r->flags & VFIO_REGION_INFO_FLAG_WRITE) ||
	    __builtin_add_overflow(ev->offset, (uint64_t)ev->size, &end) || end > r->size ||
	    in_mmap_area(r, ev->offset, end))
		return -EINVAL;
	for (uint32_t i = 0; i < dev->nr_ioefds; i++) {
		if (collides(&dev->ioefds[i], ev))
			return -EEXIST;
		on_region += dev->ioefds[i].index == ev->index;
	}
	if (on_region >= UVFIO_MAX_IOEVENTFDS_PER_REGION || dev->nr_ioefds >= UVFIO_MAX_IOEVENTFDS)
		return -ENOSPC;
	return 0;
}

int uvfio_device_add_ioeventfd(struct uvfio_device *dev, const struct uvfio_ioeventfd *ev)
{
	struct uvfio_ioeventfd *tab;
	bool dm;
	int ret;

	if (!dev || !ev)
		return -EINVAL;
	dm = ev->flags & UVFIO_IOEVENTFD_DATAMATCH;
	if (!size_ok(ev->size) || ev->offset % ev->size ||
	    (ev->flags & ~UVFIO_IOEVENTFD_DATAMATCH) ||
	    (dm && ev->size < 8 && ev->datamatch >> (8 * ev->size)) ||
	    (!dm && !ev->notify))
		goto bad;
	/* A server holds indexes into the table while a client has the
	 * device open; the table only changes while nobody has. */
	if (__atomic_load_n(&dev->open_count, __ATOMIC_ACQUIRE))
		return -EBUSY;

	pthread_mutex_lock(&dev->cfg_lock);
	ret = check_locked(dev, ev);
	if (ret) {
		pthread_mutex_unlock(&dev->cfg_lock);
		if (ret == -EINVAL)
			goto bad;
		return ret;
	}
	tab = realloc(dev->ioefds, (dev->nr_ioefds + 1) * sizeof(*tab));
	if (!tab) {
		pthread_mutex_unlock(&dev->cfg_lock);
		return -ENOMEM;
	}
	tab[dev->nr_ioefds++] = *ev;
	dev->ioefds = tab;
	pthread_mutex_unlock(&dev->cfg_lock);
	return 0;
bad:
	uvfio_dev_log(dev, UVFIO_LOG_ERR, "ioeventfd %u@%#llx/%u: invalid", ev->index,
		      (unsigned long long)ev->offset, ev->size);
	return -EINVAL;
}

int uvfio_device_ioeventfds(struct uvfio_device *dev, uint32_t index,
			    struct uvfio_ioeventfd *out, size_t cap)
{
	int n = 0;

	pthread_mutex_lock(&dev->cfg_lock);
	if (index >= dev->num_regions) {
		pthread_mutex_unlock(&dev->cfg_lock);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < dev->nr_ioefds; i++) {
		if (dev->ioefds[i].index != index)
			continue;
		if ((size_t)n < cap)
			out[n] = dev->ioefds[i];
		n++;
	}
	pthread_mutex_unlock(&dev->cfg_lock);
	return n;
}

int uvfio_device_ioeventfd_signal(struct uvfio_device *dev, uint32_t index,
				  uint32_t i, uint64_t count)
{
	struct uvfio_ioeventfd ev;
	uint8_t val[8];
	bool found = false;
	ssize_t r;

	pthread_mutex_lock(&dev->cfg_lock);
	for (uint32_t k = 0, seen = 0; k < dev->nr_ioefds; k++) {
		if (dev->ioefds[k].index != index)
			continue;
		if (seen++ == i) {
			ev = dev->ioefds[k];
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&dev->cfg_lock);
	if (!found)
		return -EINVAL;
	if (!count)
		return 0;
	/* Outside the lock: the device may do anything a region write may. */
	if (ev.notify) {
		ev.notify(dev, &ev, count);
		return 0;
	}
	for (uint32_t b = 0; b < ev.size; b++)
		val[b] = (uint8_t)(ev.datamatch >> (8 * b));
	r = uvfio_device_write(dev, ev.index, ev.offset, val, ev.size);
	if (r != (ssize_t)ev.size)
		uvfio_dev_log(dev, UVFIO_LOG_DEBUG, "doorbell %u@%#llx: write: %s", ev.index,
			      (unsigned long long)ev.offset,
			      r < 0 ? strerror((int)-r) : "short");
	return 0;
}

void uvfio_ioeventfd_free_all(struct uvfio_device *dev)
{
	free(dev->ioefds);
	dev->ioefds = NULL;
	dev->nr_ioefds = 0;
}
