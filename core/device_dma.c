/* SPDX-License-Identifier: MIT */
/*
 * The device side of DMA: the device's current DMA space (its client's
 * memory map), the bus-master gate, and ops->dma_unmap wired to the space's
 * unmap notifier.
 *
 * A device with bus mastering off must not reach memory, as on hardware:
 * the access is refused with -EPERM and logged, which shows a driver that
 * forgot to enable bus mastering.
 */
#include <errno.h>

#include "core/device_internal.h"

static void dma_unmap_notify(void *opaque, uint64_t iova, uint64_t size)
{
	struct uvfio_device *dev = opaque;

	dev->ops->dma_unmap(dev, iova, size);
}

void uvfio_device_set_dma(struct uvfio_device *dev, struct uvfio_dma *dma)
{
	/* The write lock waits for device accesses in flight on the old space. */
	pthread_rwlock_wrlock(&dev->dma_lock);
	if (dev->dma && dev->dma != dma && dev->ops->dma_unmap)
		uvfio_dma_set_unmap_notify(dev->dma, NULL, NULL);
	dev->dma = dma;
	if (dma && dev->ops->dma_unmap)
		uvfio_dma_set_unmap_notify(dma, dma_unmap_notify, dev);
	pthread_rwlock_unlock(&dev->dma_lock);
}

struct uvfio_dma *uvfio_device_dma(struct uvfio_device *dev)
{
	struct uvfio_dma *dma;

	pthread_rwlock_rdlock(&dev->dma_lock);
	dma = dev->dma;
	pthread_rwlock_unlock(&dev->dma_lock);
	return dma;
}

void uvfio_device_set_bus_master(struct uvfio_device *dev, bool enabled)
{
	__atomic_store_n(&dev->bus_master, enabled, __ATOMIC_RELEASE);
}

bool uvfio_device_bus_master(struct uvfio_device *dev)
{
	return __atomic_load_n(&dev->bus_master, __ATOMIC_ACQUIRE);
}

/* Log the first refusal loudly, later ones at debug: a busy device that
 * keeps trying must not flood the log. */
static void log_refused(struct uvfio_device *dev, const char *what, uint64_t iova,
			size_t len)
{
	unsigned int n = __atomic_fetch_add(&dev->dma_refused, 1, __ATOMIC_RELAXED);

	uvfio_dev_log(dev, n ? UVFIO_LOG_DEBUG : UVFIO_LOG_WARN,
		      "DMA %s of %zu bytes at 0x%llx refused: bus mastering is off",
		      what, len, (unsigned long long)iova);
}

static int device_dma(struct uvfio_device *dev, uint64_t iova, void *rbuf,
		      const void *wbuf, size_t len)
{
	int ret;

	if (!uvfio_device_bus_master(dev)) {
		log_refused(dev, wbuf ? "write" : "read", iova, len);
		return -EPERM;
	}
	pthread_rwlock_rdlock(&dev->dma_lock);
	if (!dev->dma)
		ret = -ENODEV;
	else if (wbuf)
		ret = uvfio_dma_write(dev->dma, iova, wbuf, len);
	else
		ret = uvfio_dma_read(dev->dma, iova, rbuf, len);
	pthread_rwlock_unlock(&dev->dma_lock);
	return ret;
}

int uvfio_device_dma_read(struct uvfio_device *dev, uint64_t iova, void *buf,
			  size_t len)
{
	if (len && !buf)
		return -EINVAL;
	return device_dma(dev, iova, buf, NULL, len);
}

int uvfio_device_dma_write(struct uvfio_device *dev, uint64_t iova,
			   const void *buf, size_t len)
{
	static const uint8_t none;

	if (len && !buf)
		return -EINVAL;
	/* wbuf non-NULL marks the direction, even for an empty write. */
	return device_dma(dev, iova, NULL, buf ? buf : &none, len);
}
