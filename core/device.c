/* SPDX-License-Identifier: MIT */
/*
 * Device lifecycle, as the kernel's vfio_main.c: create, register (one
 * reference), try_get/put, open counting (open_device on the first open,
 * close_device on the last), unregister (drop the registration reference,
 * ask users to let go until the count is 0, then release), device info and
 * reset.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/device_internal.h"

struct uvfio_device *uvfio_device_create(const char *name,
					 const struct uvfio_device_ops *ops,
					 void *priv)
{
	struct uvfio_device *dev;

	if (!ops) {
		errno = EINVAL;
		return NULL;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;
	dev->name = strdup(name && *name ? name : "device");
	if (!dev->name)
		goto err_free;
	dev->ops = ops;
	dev->priv = priv;
	dev->request_interval_ms = UVFIO_REQUEST_INTERVAL_MS_DEFAULT;
	dev->mig_state = UVFIO_MIG_RUNNING;

	if (pthread_mutex_init(&dev->ref_lock, NULL))
		goto err_name;
	if (pthread_cond_init(&dev->ref_cond, NULL))
		goto err_ref_lock;
	if (pthread_mutex_init(&dev->open_lock, NULL))
		goto err_ref_cond;
	if (pthread_mutex_init(&dev->cfg_lock, NULL))
		goto err_open_lock;
	if (pthread_mutex_init(&dev->irq_lock, NULL))
		goto err_cfg_lock;
	if (pthread_mutex_init(&dev->mig_lock, NULL))
		goto err_irq_lock;
	if (pthread_rwlock_init(&dev->dma_lock, NULL))
		goto err_mig_lock;
	return dev;

err_mig_lock:
	pthread_mutex_destroy(&dev->mig_lock);
err_irq_lock:
	pthread_mutex_destroy(&dev->irq_lock);
err_cfg_lock:
	pthread_mutex_destroy(&dev->cfg_lock);
err_open_lock:
	pthread_mutex_destroy(&dev->open_lock);
err_ref_cond:
	pthread_cond_destroy(&dev->ref_cond);
err_ref_lock:
	pthread_mutex_destroy(&dev->ref_lock);
err_name:
	free(dev->name);
err_free:
	free(dev);
	errno = ENOMEM;
	return NULL;
}

void *uvfio_device_priv(struct uvfio_device *dev)
{
	return dev->priv;
}

const char *uvfio_device_name(struct uvfio_device *dev)
{
	return dev ? dev->name : "-";
}

void uvfio_dev_log(struct uvfio_device *dev, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	uvfio_vlog((enum uvfio_log_level)level, uvfio_device_name(dev), fmt, ap);
	va_end(ap);
}

void uvfio_device_set_request_interval_ms(struct uvfio_device *dev,
					  unsigned int ms)
{
	pthread_mutex_lock(&dev->ref_lock);
	dev->request_interval_ms = ms ? ms : 1;
	pthread_mutex_unlock(&dev->ref_lock);
}

/* Frees everything; the caller made sure nobody else holds the device. */
static void device_free(struct uvfio_device *dev)
{
	/* Detach so the space no longer notifies a device about to vanish. */
	uvfio_device_set_dma(dev, NULL);
	uvfio_irq_free_all(dev);
	uvfio_feature_free_all(dev);
	uvfio_ioeventfd_free_all(dev);
	uvfio_region_free_all(dev);
	pthread_rwlock_destroy(&dev->dma_lock);
	pthread_mutex_destroy(&dev->mig_lock);
	pthread_mutex_destroy(&dev->irq_lock);
	pthread_mutex_destroy(&dev->cfg_lock);
	pthread_mutex_destroy(&dev->open_lock);
	pthread_cond_destroy(&dev->ref_cond);
	pthread_mutex_destroy(&dev->ref_lock);
	free(dev->name);
	free(dev);
}

int uvfio_device_register(struct uvfio_device *dev)
{
	const struct uvfio_migration_ops *mig = dev->ops->mig_ops;
	int ret = 0;

	/*
	 * The kernel refuses a migration driver without the mandatory
	 * STOP_COPY; without set_state no arc could ever be taken.
	 */
	if (mig && (!(mig->flags & VFIO_MIGRATION_STOP_COPY) || !mig->set_state)) {
		uvfio_dev_log(dev, UVFIO_LOG_ERR,
			      "migration ops without STOP_COPY or set_state");
		return -EINVAL;
	}

	pthread_mutex_lock(&dev->ref_lock);
	if (dev->registered || dev->refcount) {
		ret = -EBUSY;
	} else {
		dev->registered = true;
		dev->refcount = 1;
	}
	pthread_mutex_unlock(&dev->ref_lock);
	return ret;
}

bool uvfio_device_try_get(struct uvfio_device *dev)
{
	bool ok;

	/* Like refcount_inc_not_zero(): no new users once unregister began. */
	pthread_mutex_lock(&dev->ref_lock);
	ok = dev->refcount > 0;
	if (ok)
		dev->refcount++;
	pthread_mutex_unlock(&dev->ref_lock);
	return ok;
}

void uvfio_device_put(struct uvfio_device *dev)
{
	pthread_mutex_lock(&dev->ref_lock);
	if (!dev->refcount) {
		pthread_mutex_unlock(&dev->ref_lock);
		uvfio_dev_log(dev, UVFIO_LOG_ERR, "put without a reference");
		return;
	}
	if (--dev->refcount == 0)
		pthread_cond_broadcast(&dev->ref_cond);
	pthread_mutex_unlock(&dev->ref_lock);
}

static void deadline_after_ms(struct timespec *ts, unsigned int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/*
 * Wait until the last reference is gone, calling ops->request every
 * interval. pthread_cond_clockwait measures on CLOCK_MONOTONIC, so a wall
 * clock jump neither shortens nor stretches the interval.
 */
static void wait_for_zero(struct uvfio_device *dev)
{
	unsigned int count = 0;

	pthread_mutex_lock(&dev->ref_lock);
	while (dev->refcount) {
		struct timespec deadline;
		unsigned int ms = dev->request_interval_ms;
		int rc = 0;

		/* As the kernel: ask at once, then every interval. */
		if (dev->ops->request) {
			pthread_mutex_unlock(&dev->ref_lock);
			uvfio_dev_log(dev, UVFIO_LOG_INFO,
				      "unregister waiting for users (request %u)", count);
			dev->ops->request(dev, count);
			pthread_mutex_lock(&dev->ref_lock);
		}
		count++;
		deadline_after_ms(&deadline, ms);
		while (dev->refcount && rc != ETIMEDOUT)
			rc = pthread_cond_clockwait(&dev->ref_cond, &dev->ref_lock,
						    CLOCK_MONOTONIC, &deadline);
	}
	pthread_mutex_unlock(&dev->ref_lock);
}

void uvfio_device_unregister(struct uvfio_device *dev)
{
	pthread_mutex_lock(&dev->ref_lock);
	if (!dev->registered) {
		pthread_mutex_unlock(&dev->ref_lock);
		uvfio_dev_log(dev, UVFIO_LOG_ERR, "unregister of an unregistered device");
		return;
	}
	dev->registered = false;
	pthread_mutex_unlock(&dev->ref_lock);

	/* Drop the registration reference; try_get fails from here on. */
	uvfio_device_put(dev);
	wait_for_zero(dev);

	if (uvfio_device_open_count(dev))
		uvfio_dev_log(dev, UVFIO_LOG_WARN, "released while still open");
	if (dev->ops->release)
		dev->ops->release(dev);
	device_free(dev);
}

void uvfio_device_destroy(struct uvfio_device *dev)
{
	if (!dev)
		return;
	pthread_mutex_lock(&dev->ref_lock);
	if (dev->registered || dev->refcount) {
		pthread_mutex_unlock(&dev->ref_lock);
		uvfio_dev_log(dev, UVFIO_LOG_ERR,
			      "destroy of a registered device refused; use unregister");
		return;
	}
	pthread_mutex_unlock(&dev->ref_lock);
	device_free(dev);
}

int uvfio_device_open(struct uvfio_device *dev)
{
	int ret = 0;

	pthread_mutex_lock(&dev->open_lock);
	if (dev->open_count == UINT32_MAX) {
		ret = -EBUSY;
		goto out;
	}
	dev->open_count++;
	if (dev->open_count == 1 && dev->ops->open_device) {
		ret = dev->ops->open_device(dev);
		if (ret) {
			/* A failed first open leaves the device closed. */
			dev->open_count--;
			if (ret > 0)
				ret = -ret;
			uvfio_dev_log(dev, UVFIO_LOG_WARN, "open_device failed: %s",
				      strerror(-ret));
		}
	}
out:
	pthread_mutex_unlock(&dev->open_lock);
	return ret;
}

void uvfio_device_close(struct uvfio_device *dev)
{
	pthread_mutex_lock(&dev->open_lock);
	if (!dev->open_count) {
		pthread_mutex_unlock(&dev->open_lock);
		uvfio_dev_log(dev, UVFIO_LOG_ERR, "close without open");
		return;
	}
	if (dev->open_count == 1) {
		if (dev->ops->close_device)
			dev->ops->close_device(dev);
		/* Nobody has the device open: no client may keep our eventfds. */
		uvfio_irq_release_all(dev);
		/*
		 * A client gone mid-migration must not leave the next one a
		 * device in STOP_COPY or RESUMING: as the kernel's drivers do at
		 * close (mlx5, hisi), the state is RUNNING again.
		 */
		if (dev->ops->mig_ops)
			uvfio_mig_reset_state(dev);
	}
	dev->open_count--;
	pthread_mutex_unlock(&dev->open_lock);
}

unsigned int uvfio_device_open_count(struct uvfio_device *dev)
{
	unsigned int n;

	pthread_mutex_lock(&dev->open_lock);
	n = dev->open_count;
	pthread_mutex_unlock(&dev->open_lock);
	return n;
}

void uvfio_device_set_flags(struct uvfio_device *dev, uint32_t flags)
{
	/* RESET follows ops->reset and CAPS follows the caps we build. */
	pthread_mutex_lock(&dev->cfg_lock);
	dev->flags = flags & ~(uint32_t)(VFIO_DEVICE_FLAGS_RESET | VFIO_DEVICE_FLAGS_CAPS);
	pthread_mutex_unlock(&dev->cfg_lock);
}

int uvfio_device_get_info(struct uvfio_device *dev, struct vfio_device_info *info)
{
	if (!info || info->argsz < offsetof(struct vfio_device_info, cap_offset))
		return -EINVAL;

	pthread_mutex_lock(&dev->cfg_lock);
	info->flags = dev->flags;
	info->num_regions = dev->num_regions;
	pthread_mutex_unlock(&dev->cfg_lock);
	if (dev->ops->reset)
		info->flags |= VFIO_DEVICE_FLAGS_RESET;
	info->num_irqs = uvfio_device_num_irqs(dev);
	/* No device info caps yet; argsz is left as the caller gave it. */
	if (info->argsz >= sizeof(*info))
		info->cap_offset = 0;
	return 0;
}

int uvfio_device_reset(struct uvfio_device *dev)
{
	int ret;

	if (!dev->ops->reset)
		return -EINVAL; /* the kernel's answer without reset support */
	ret = dev->ops->reset(dev);
	if (ret)
		return ret > 0 ? -ret : ret;
	uvfio_mig_reset_state(dev);
	return 0;
}
