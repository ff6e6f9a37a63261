/* SPDX-License-Identifier: MIT */
/*
 * VFIO_DEVICE_FEATURE_BUS_MASTER, as vfio-cdx's vfio_cdx_bm_ctrl(): SET
 * only, payload {u32 op}, op 0 clears and op 1 sets bus mastering through
 * the device's bus_master op, anything else is -EINVAL. The core has done
 * vfio_check_feature() (GET -> EINVAL, PROBE -> 0, short payload -> EINVAL)
 * before the handler runs.
 *
 * The feature is offered only while the device is open and only if
 * clearing bus mastering at open worked: the kernel's BME_SUPPORT flag. A
 * probe must not say yes for an op that would then always fail. The
 * core's gate (uvfio_device_set_bus_master) follows every change the op
 * accepted, so a device's DMA is refused while bus mastering is off.
 */
#include <errno.h>
#include <string.h>

#include "bus/cdx/cdx_internal.h"

static int bm_set(struct uvfio_device *dev, uint32_t flags, void *data,
		  size_t len, size_t *out_len)
{
	struct uvfio_cdx_device *cdx = uvfio_cdx_from_device(dev);
	struct vfio_device_feature_bus_master bm;
	bool on;
	int ret;

	if (!cdx)
		return -EINVAL;
	memcpy(&bm, data, sizeof(bm)); /* len >= minsz, checked by the core */
	switch (bm.op) {
	case VFIO_DEVICE_FEATURE_CLEAR_MASTER:
		on = false;
		break;
	case VFIO_DEVICE_FEATURE_SET_MASTER:
		on = true;
		break;
	default:
		return -EINVAL;
	}
	ret = cdx->info.ops->bus_master(cdx, on);
	if (ret) {
		uvfio_dev_log(dev, UVFIO_LOG_WARN, "bus master %s failed: %d",
			      on ? "set" : "clear", ret);
		return ret > 0 ? -ret : ret;
	}
	uvfio_device_set_bus_master(dev, on);
	uvfio_dev_log(dev, UVFIO_LOG_DEBUG, "bus mastering %s", on ? "on" : "off");
	return 0;
}

static const struct uvfio_feature bm_feature = {
	.index = VFIO_DEVICE_FEATURE_BUS_MASTER,
	.ops = VFIO_DEVICE_FEATURE_SET,
	.minsz = sizeof(struct vfio_device_feature_bus_master),
	.fn = bm_set,
};

/*
 * At first open, after the reset. Without a working control the device
 * masters as it was built to (there is nobody to turn it off), so the gate
 * is left open; with one, bus mastering starts off until the driver sets it.
 */
void cdx_bus_master_open(struct uvfio_cdx_device *cdx)
{
	int ret;

	cdx->bme_support = false;
	if (!cdx->info.ops->bus_master) {
		uvfio_device_set_bus_master(cdx->dev, true);
		return;
	}
	ret = cdx->info.ops->bus_master(cdx, false);
	if (ret) {
		uvfio_dev_log(cdx->dev, UVFIO_LOG_WARN,
			      "clearing bus mastering failed (%d): BUS_MASTER not offered",
			      ret);
		uvfio_device_set_bus_master(cdx->dev, true);
		return;
	}
	uvfio_device_set_bus_master(cdx->dev, false);
	ret = uvfio_device_add_feature(cdx->dev, &bm_feature);
	if (ret && ret != -EEXIST) {
		uvfio_dev_log(cdx->dev, UVFIO_LOG_WARN, "BUS_MASTER not offered: %d", ret);
		return;
	}
	cdx->bme_support = true;
}

/* At last close: nobody drives the device, so it does not master, and the
 * next open decides again whether the feature works. */
void cdx_bus_master_close(struct uvfio_cdx_device *cdx)
{
	if (cdx->bme_support)
		uvfio_device_remove_feature(cdx->dev, VFIO_DEVICE_FEATURE_BUS_MASTER);
	cdx->bme_support = false;
	uvfio_device_set_bus_master(cdx->dev, false);
}
