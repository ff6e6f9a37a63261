/* SPDX-License-Identifier: MIT */
/*
 * IRQ indexes: GET_IRQ_INFO, SET_IRQS validation exactly as the kernel's
 * vfio_set_irqs_validate_and_prepare(), and a generic action engine
 * (eventfd triggers, mask/unmask, loopback, pending, automask).
 *
 * Everything runs under irq_lock: devices trigger from worker threads while
 * the server thread changes eventfds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/device_internal.h"

#define IRQ_SET_MINSZ sizeof(struct vfio_irq_set) /* 20 */
#define IRQ_INFO_FLAGS_ALLOWED                                           \
	(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |                \
	 VFIO_IRQ_INFO_AUTOMASKED | VFIO_IRQ_INFO_NORESIZE)

static void vec_close(struct uvfio_irq_vector *v)
{
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
}

static void index_reset(struct uvfio_irq_index *ix)
{
	for (uint32_t v = 0; v < ix->count; v++) {
		vec_close(&ix->vec[v]);
		ix->vec[v].masked = false;
		ix->vec[v].pending = false;
	}
}

int uvfio_device_set_num_irqs(struct uvfio_device *dev, uint32_t n)
{
	struct uvfio_irq_index *tab = NULL;

	if (n > UVFIO_MAX_IRQ_INDEXES)
		return -EINVAL;
	if (n) {
		tab = calloc(n, sizeof(*tab));
		if (!tab)
			return -ENOMEM;
	}

	pthread_mutex_lock(&dev->irq_lock);
	/* Keep the indexes that survive; drop the others with their fds. */
	for (uint32_t i = 0; i < dev->num_irqs; i++) {
		if (i < n) {
			tab[i] = dev->irqs[i];
		} else {
			index_reset(&dev->irqs[i]);
			free(dev->irqs[i].vec);
		}
	}
	free(dev->irqs);
	dev->irqs = tab;
	dev->num_irqs = n;
	pthread_mutex_unlock(&dev->irq_lock);
	return 0;
}

int uvfio_device_set_irq_info(struct uvfio_device *dev, uint32_t index,
			      uint32_t count, uint32_t flags)
{
	struct uvfio_irq_vector *vec = NULL;
	struct uvfio_irq_index *ix;

	if (count > UVFIO_MAX_IRQ_VECTORS || (flags & ~IRQ_INFO_FLAGS_ALLOWED))
		return -EINVAL;
	if (count) {
		vec = calloc(count, sizeof(*vec));
		if (!vec)
			return -ENOMEM;
		for (uint32_t v = 0; v < count; v++)
			vec[v].fd = -1;
	}

	pthread_mutex_lock(&dev->irq_lock);
	if (index >= dev->num_irqs) {
		pthread_mutex_unlock(&dev->irq_lock);
		free(vec);
		return -EINVAL;
	}
	ix = &dev->irqs[index];
	index_reset(ix);
	free(ix->vec);
	ix->vec = vec;
	ix->count = count;
	ix->flags = flags;
	pthread_mutex_unlock(&dev->irq_lock);
	return 0;
}

uint32_t uvfio_device_num_irqs(struct uvfio_device *dev)
{
	uint32_t n;

	pthread_mutex_lock(&dev->irq_lock);
	n = dev->num_irqs;
	pthread_mutex_unlock(&dev->irq_lock);
	return n;
}

int uvfio_device_irq_info(struct uvfio_device *dev, struct vfio_irq_info *info)
{
	int ret = 0;

	if (!info || info->argsz < sizeof(*info))
		return -EINVAL;
	pthread_mutex_lock(&dev->irq_lock);
	if (info->index >= dev->num_irqs) {
		ret = -EINVAL;
	} else {
		info->flags = dev->irqs[info->index].flags;
		info->count = dev->irqs[info->index].count;
	}
	pthread_mutex_unlock(&dev->irq_lock);
	return ret;
}

/*
 * The kernel's vfio_set_irqs_validate_and_prepare(), same checks in the
 * same order. num_irqs is the vector count of hdr->index (0 for a bad
 * index, as vfio-pci computes it before validating); max_irq_type is the
 * number of indexes. On success *data_size is the payload size.
 */
static int irqs_validate(const struct vfio_irq_set *hdr, uint32_t num_irqs,
			 uint32_t max_irq_type, size_t *data_size)
{
	size_t size;

	if (hdr->argsz < IRQ_SET_MINSZ || hdr->index >= max_irq_type ||
	    hdr->count >= UINT32_MAX - hdr->start ||
	    (hdr->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK)))
		return -EINVAL;

	*data_size = 0;
	if (hdr->start >= num_irqs || hdr->start + hdr->count > num_irqs)
		return -EINVAL;

	switch (hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		size = 0;
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		size = sizeof(uint8_t);
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		size = sizeof(int32_t);
		break;
	default:
		return -EINVAL;
	}
	if (size) {
		/* count < 2^32 and size <= 4: the product fits in size_t. */
		if (hdr->argsz - IRQ_SET_MINSZ < (size_t)hdr->count * size)
			return -EINVAL;
		*data_size = (size_t)hdr->count * size;
	}
	return 0;
}

int uvfio_device_set_irqs(struct uvfio_device *dev,
			  const struct vfio_irq_set *hdr, const void *data,
			  size_t data_len)
{
	uint32_t num = 0, max;
	size_t data_size;
	int ret;

	if (!hdr)
		return -EINVAL;
	pthread_mutex_lock(&dev->irq_lock);
	max = dev->num_irqs;
	if (hdr->index < max)
		num = dev->irqs[hdr->index].count;
	pthread_mutex_unlock(&dev->irq_lock);

	ret = irqs_validate(hdr, num, max, &data_size);
	if (ret)
		return ret;
	/* argsz is what the peer claims; data_len is what it really sent. */
	if (data_size && (!data || data_len < data_size))
		return -EINVAL;

	if (dev->ops->set_irqs)
		return dev->ops->set_irqs(dev, hdr, data);
	return uvfio_irq_set_default(dev, hdr, data);
}

/*
 * Deliver one interrupt; irq_lock held. Masked: remember it as pending.
 * AUTOMASKED (level-triggered INTx): delivery masks until the user unmasks.
 */
static int vec_deliver(struct uvfio_device *dev, uint32_t index, uint32_t vector)
{
	struct uvfio_irq_index *ix = &dev->irqs[index];
	struct uvfio_irq_vector *v = &ix->vec[vector];
	uint64_t one = 1;

	if (v->masked) {
		v->pending = true;
		return 0;
	}
	/* No eventfd: nobody listens, the interrupt is lost as on hardware
	 * whose line is not routed. */
	if (v->fd < 0)
		return 0;
	if (write(v->fd, &one, sizeof(one)) != sizeof(one)) {
		int err = errno;

		uvfio_dev_log(dev, UVFIO_LOG_WARN, "irq %u.%u: eventfd write: %s",
			      index, vector, strerror(err));
		return -err;
	}
	v->pending = false;
	if (ix->flags & VFIO_IRQ_INFO_AUTOMASKED)
		v->masked = true;
	return 1;
}

static void vec_unmask(struct uvfio_device *dev, uint32_t index, uint32_t vector)
{
	struct uvfio_irq_vector *v = &dev->irqs[index].vec[vector];

	v->masked = false;
	if (v->pending) {
		v->pending = false;
		vec_deliver(dev, index, vector);
	}
}

/* DATA_NONE acts on every vector; DATA_BOOL on those whose byte is set. */
static bool vec_selected(const struct vfio_irq_set *hdr, const void *data,
			 uint32_t i)
{
	if (hdr->flags & VFIO_IRQ_SET_DATA_BOOL)
		return ((const uint8_t *)data)[i] != 0;
	return true;
}

/*
 * TRIGGER with DATA_EVENTFD: dup every new fd first, then swap them in, so
 * a bad fd leaves the whole block as it was (the kernel rolls back too).
 */
static int set_trigger_fds(struct uvfio_device *dev, const struct vfio_irq_set *hdr,
			   const int32_t *fds)
{
	struct uvfio_irq_index *ix = &dev->irqs[hdr->index];
	int *dups;
	int ret = 0;
	uint32_t i;

	dups = malloc(((size_t)hdr->count + 1) * sizeof(*dups));
	if (!dups)
		return -ENOMEM;
	for (i = 0; i < hdr->count; i++) {
		int32_t fd;

		memcpy(&fd, &fds[i], sizeof(fd)); /* data may be unaligned */
		dups[i] = -1;
		if (fd < 0)
			continue; /* de-assign */
		dups[i] = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (dups[i] < 0) {
			ret = -errno;
			goto unwind;
		}
	}
	for (i = 0; i < hdr->count; i++) {
		struct uvfio_irq_vector *v = &ix->vec[hdr->start + i];

		vec_close(v);
		v->fd = dups[i];
	}
	free(dups);
	return 0;

unwind:
	while (i-- > 0)
		if (dups[i] >= 0)
			close(dups[i]);
	free(dups);
	uvfio_dev_log(dev, UVFIO_LOG_WARN, "irq %u: bad eventfd: %s", hdr->index,
		      strerror(-ret));
	return ret;
}

static int action_trigger(struct uvfio_device *dev, const struct vfio_irq_set *hdr,
			  const void *data)
{
	uint32_t data_type = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;

	/* count 0 + DATA_NONE: disable the index, releasing its eventfds. */
	if (hdr->count == 0 && data_type == VFIO_IRQ_SET_DATA_NONE) {
		index_reset(&dev->irqs[hdr->index]);
		return 0;
	}
	if (data_type == VFIO_IRQ_SET_DATA_EVENTFD)
		return set_trigger_fds(dev, hdr, data);

	/* NONE/BOOL: loopback, the user fires the interrupt itself. */
	for (uint32_t i = 0; i < hdr->count; i++)
		if (vec_selected(hdr, data, i))
			vec_deliver(dev, hdr->index, hdr->start + i);
	return 0;
}

static int action_mask(struct uvfio_device *dev, const struct vfio_irq_set *hdr,
		       const void *data, bool mask)
{
	struct uvfio_irq_index *ix = &dev->irqs[hdr->index];

	/* vfio-pci answers ENOTTY for unsupported (index, action) pairs:
	 * MSI masking, unmask-irqfds. */
	if (!(ix->flags & VFIO_IRQ_INFO_MASKABLE) ||
	    (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD))
		return -ENOTTY;

	for (uint32_t i = 0; i < hdr->count; i++) {
		if (!vec_selected(hdr, data, i))
			continue;
		if (mask)
			ix->vec[hdr->start + i].masked = true;
		else
			vec_unmask(dev, hdr->index, hdr->start + i);
	}
	return 0;
}

int uvfio_irq_set_default(struct uvfio_device *dev,
			  const struct vfio_irq_set *hdr, const void *data)
{
	uint32_t action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	uint32_t data_type = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	uint32_t end;
	int ret;

	/* Callers are bus drivers after validation; stay safe regardless. */
	if (data_type != VFIO_IRQ_SET_DATA_NONE && hdr->count && !data)
		return -EINVAL;

	pthread_mutex_lock(&dev->irq_lock);
	if (hdr->index >= dev->num_irqs ||
	    __builtin_add_overflow(hdr->start, hdr->count, &end) ||
	    end > dev->irqs[hdr->index].count) {
		ret = -EINVAL;
		goto out;
	}
	switch (action) {
	case VFIO_IRQ_SET_ACTION_TRIGGER:
		ret = action_trigger(dev, hdr, data);
		break;
	case VFIO_IRQ_SET_ACTION_MASK:
		ret = action_mask(dev, hdr, data, true);
		break;
	case VFIO_IRQ_SET_ACTION_UNMASK:
		ret = action_mask(dev, hdr, data, false);
		break;
	default:
		/* None or several actions: vfio-pci's dispatch finds no handler. */
		ret = -ENOTTY;
		break;
	}
out:
	pthread_mutex_unlock(&dev->irq_lock);
	return ret;
}

/* Look up (index, vector) under irq_lock; NULL when out of range. */
static struct uvfio_irq_vector *vec_get(struct uvfio_device *dev, uint32_t index,
					uint32_t vector)
{
	if (index >= dev->num_irqs || vector >= dev->irqs[index].count)
		return NULL;
	return &dev->irqs[index].vec[vector];
}

int uvfio_irq_trigger(struct uvfio_device *dev, uint32_t index, uint32_t vector)
{
	int ret;

	pthread_mutex_lock(&dev->irq_lock);
	if (!vec_get(dev, index, vector))
		ret = -EINVAL;
	else
		ret = vec_deliver(dev, index, vector);
	pthread_mutex_unlock(&dev->irq_lock);
	return ret;
}

bool uvfio_irq_masked(struct uvfio_device *dev, uint32_t index, uint32_t vector)
{
	struct uvfio_irq_vector *v;
	bool ret;

	pthread_mutex_lock(&dev->irq_lock);
	v = vec_get(dev, index, vector);
	ret = v && v->masked;
	pthread_mutex_unlock(&dev->irq_lock);
	return ret;
}

bool uvfio_irq_pending(struct uvfio_device *dev, uint32_t index, uint32_t vector)
{
	struct uvfio_irq_vector *v;
	bool ret;

	pthread_mutex_lock(&dev->irq_lock);
	v = vec_get(dev, index, vector);
	ret = v && v->pending;
	pthread_mutex_unlock(&dev->irq_lock);
	return ret;
}

void uvfio_irq_set_masked(struct uvfio_device *dev, uint32_t index,
			  uint32_t vector, bool masked)
{
	struct uvfio_irq_vector *v;

	pthread_mutex_lock(&dev->irq_lock);
	v = vec_get(dev, index, vector);
	if (v) {
		if (masked)
			v->masked = true;
		else
			vec_unmask(dev, index, vector);
	}
	pthread_mutex_unlock(&dev->irq_lock);
}

bool uvfio_irq_has_trigger(struct uvfio_device *dev, uint32_t index,
			   uint32_t vector)
{
	struct uvfio_irq_vector *v;
	bool ret;

	pthread_mutex_lock(&dev->irq_lock);
	v = vec_get(dev, index, vector);
	ret = v && v->fd >= 0;
	pthread_mutex_unlock(&dev->irq_lock);
	return ret;
}

void uvfio_irq_release_all(struct uvfio_device *dev)
{
	pthread_mutex_lock(&dev->irq_lock);
	for (uint32_t i = 0; i < dev->num_irqs; i++)
		index_reset(&dev->irqs[i]);
	pthread_mutex_unlock(&dev->irq_lock);
}

void uvfio_irq_free_all(struct uvfio_device *dev)
{
	for (uint32_t i = 0; i < dev->num_irqs; i++) {
		index_reset(&dev->irqs[i]);
		free(dev->irqs[i].vec);
	}
	free(dev->irqs);
	dev->irqs = NULL;
	dev->num_irqs = 0;
}
