/* SPDX-License-Identifier: MIT */
/*
 * The CDX bus driver's object: checks a struct uvfio_cdx_info, turns it into
 * a struct uvfio_device with vfio-cdx's layout (flags CDX, one region per
 * resource, one MSI index) and implements the device ops: open (reset, then
 * clear bus mastering), close (reset, withdraw BUS_MASTER), reset, access.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/cdx/cdx_internal.h"
#include "core/device_internal.h"

uint64_t cdx_page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (uint64_t)ps : 4096;
}

/* First open: the kernel's vfio_cdx_open_device. A device that cannot be
 * reset is not handed out in an unknown state. */
static int cdx_open_device(struct uvfio_device *dev)
{
	struct uvfio_cdx_device *cdx = uvfio_device_priv(dev);
	int ret;

	ret = cdx->info.ops->reset(cdx);
	if (ret) {
		uvfio_dev_log(dev, UVFIO_LOG_ERR, "reset at open failed: %d", ret);
		return ret > 0 ? -ret : ret;
	}
	cdx_bus_master_open(cdx);
	return 0;
}

/* Last close: reset so the next user finds the device as new; the core
 * closes the IRQ eventfds with the client. */
static void cdx_close_device(struct uvfio_device *dev)
{
	struct uvfio_cdx_device *cdx = uvfio_device_priv(dev);
	int ret;

	cdx_bus_master_close(cdx);
	ret = cdx->info.ops->reset(cdx);
	if (ret)
		uvfio_dev_log(dev, UVFIO_LOG_WARN, "reset at close failed: %d", ret);
	uvfio_irq_release_all(dev);
}

static int cdx_reset(struct uvfio_device *dev)
{
	struct uvfio_cdx_device *cdx = uvfio_device_priv(dev);
	int ret = cdx->info.ops->reset(cdx);

	return ret > 0 ? -ret : ret;
}

/* Unregister frees the struct uvfio_device; uvfio_cdx_destroy() the rest. */
static void cdx_release(struct uvfio_device *dev)
{
	struct uvfio_cdx_device *cdx = uvfio_device_priv(dev);

	cdx->dev = NULL;
}

const struct uvfio_device_ops uvfio_cdx_device_ops = {
	.open_device = cdx_open_device,
	.close_device = cdx_close_device,
	.read = cdx_region_read,
	.write = cdx_region_write,
	.reset = cdx_reset,
	.release = cdx_release,
};

/* Reasons are logged under the device's name; NULL when all is well. */
static const char *info_check(const struct uvfio_cdx_info *info, uint64_t page)
{
	if (info->vendor == UVFIO_CDX_ANY_ID || info->device == UVFIO_CDX_ANY_ID)
		return "vendor or device is CDX_ANY_ID (0xFFFF)";
	if (!info->ops || !info->ops->reset)
		return "no reset op (vfio-cdx resets at open and close)";
	if (!info->num_resources || info->num_resources > UVFIO_CDX_MAX_RESOURCES)
		return "resource count out of range";
	if (info->num_msi > UVFIO_CDX_MAX_MSI)
		return "too many MSI vectors";
	for (uint32_t i = 0; i < info->num_resources; i++) {
		const struct uvfio_cdx_resource *r = &info->resources[i];
		uint64_t end;

		if (!r->size || r->size > (uint64_t)SIZE_MAX ||
		    __builtin_add_overflow(r->start, r->size - 1, &end))
			return "resource size zero or out of range";
		if ((r->read || r->write) && !(r->start % page) && !(r->size % page))
			return "handlers on a mappable (page aligned) resource";
		if (r->write && !r->read)
			return "write handler without a read handler";
		if (r->read && !r->write && !r->read_only)
			return "writable handler resource without a write handler";
	}
	return NULL;
}

int uvfio_cdx_create(const char *name, const struct uvfio_cdx_info *info,
		     void *priv, struct uvfio_cdx_device **out)
{
	struct uvfio_cdx_device *cdx;
	const char *why;
	int ret;

	if (!name || !info || !out)
		return -EINVAL;
	why = info_check(info, cdx_page_size());
	if (why) {
		uvfio_log(UVFIO_LOG_ERR, name, "cdx: %s", why);
		return -EINVAL;
	}
	cdx = calloc(1, sizeof(*cdx));
	if (!cdx)
		return -ENOMEM;
	cdx->info = *info;
	cdx->priv = priv;
	for (uint32_t i = 0; i < UVFIO_CDX_MAX_RESOURCES; i++)
		cdx->res[i].fd = -1;

	cdx->dev = uvfio_device_create(name, &uvfio_cdx_device_ops, cdx);
	if (!cdx->dev) {
		ret = -ENOMEM;
		goto err_free;
	}
	uvfio_device_set_flags(cdx->dev, VFIO_DEVICE_FLAGS_CDX);
	ret = cdx_resources_init(cdx);
	if (ret)
		goto err_dev;
	ret = cdx_regions_init(cdx);
	if (ret)
		goto err_res;
	if (info->num_msi) {
		ret = uvfio_device_set_num_irqs(cdx->dev, 1);
		if (!ret)
			ret = uvfio_device_set_irq_info(cdx->dev, 0, info->num_msi,
							VFIO_IRQ_INFO_EVENTFD |
							VFIO_IRQ_INFO_NORESIZE);
		if (ret)
			goto err_res;
	}
	*out = cdx;
	return 0;

err_res:
	cdx_resources_free(cdx);
err_dev:
	uvfio_device_destroy(cdx->dev);
err_free:
	free(cdx);
	return ret;
}

void uvfio_cdx_destroy(struct uvfio_cdx_device *cdx)
{
	if (!cdx)
		return;
	if (cdx->dev)
		uvfio_device_destroy(cdx->dev);
	cdx_resources_free(cdx);
	free(cdx);
}

struct uvfio_device *uvfio_cdx_to_device(struct uvfio_cdx_device *cdx)
{
	return cdx ? cdx->dev : NULL;
}

struct uvfio_cdx_device *uvfio_cdx_from_device(struct uvfio_device *dev)
{
	if (!dev || dev->ops != &uvfio_cdx_device_ops)
		return NULL;
	return uvfio_device_priv(dev);
}

void *uvfio_cdx_priv(struct uvfio_cdx_device *cdx)
{
	return cdx ? cdx->priv : NULL;
}

int uvfio_cdx_raise_msi(struct uvfio_cdx_device *cdx, uint32_t vector)
{
	if (!cdx || vector >= cdx->info.num_msi)
		return -EINVAL;
	return uvfio_irq_trigger(cdx->dev, 0, vector);
}
