/* SPDX-License-Identifier: MIT */
/*
 * VFIO_DEVICE_FEATURE: the kernel's vfio_ioctl_device_feature() order of
 * checks, vfio_check_feature() for each feature, the per-device table of
 * offered features, and the core-owned migration indexes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/device_internal.h"

#define FEATURE_HDR_SZ sizeof(struct vfio_device_feature) /* 8 */
#define FEATURE_FLAGS_ALLOWED                                             \
	(VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_GET |             \
	 VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PROBE)
#define FEATURE_OPS (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)

int uvfio_check_feature(uint32_t flags, size_t len, uint32_t supported_ops,
			size_t minsz)
{
	if ((flags & FEATURE_OPS) & ~supported_ops)
		return -EINVAL;
	if (flags & VFIO_DEVICE_FEATURE_PROBE)
		return 0;
	/* Without GET or SET there is nothing to do. */
	if (!(flags & FEATURE_OPS))
		return -EINVAL;
	if (len < minsz)
		return -EINVAL;
	return 1;
}

/* Index of feature `index` in the table, or -1; cfg_lock held. */
static ssize_t feature_find(struct uvfio_device *dev, uint16_t index)
{
	for (size_t i = 0; i < dev->nr_features; i++)
		if (dev->features[i].index == index)
			return (ssize_t)i;
	return -1;
}

int uvfio_device_add_feature(struct uvfio_device *dev, const struct uvfio_feature *f)
{
	struct uvfio_feature *tab;
	int ret = 0;

	if (!f || !f->fn || !f->ops || (f->ops & ~FEATURE_OPS))
		return -EINVAL;
	/* The core answers these itself, as vfio_main.c does. */
	if (uvfio_mig_feature_index(f->index))
		return dev->ops->mig_ops ? -EEXIST : -EINVAL;
	if (uvfio_log_feature_index(f->index))
		return -EEXIST; /* dirty logging belongs to the core */

	pthread_mutex_lock(&dev->cfg_lock);
	if (feature_find(dev, f->index) >= 0) {
		ret = -EEXIST;
		goto out;
	}
	tab = realloc(dev->features, (dev->nr_features + 1) * sizeof(*tab));
	if (!tab) {
		ret = -ENOMEM;
		goto out;
	}
	tab[dev->nr_features++] = *f;
	dev->features = tab;
out:
	pthread_mutex_unlock(&dev->cfg_lock);
	return ret;
}

int uvfio_device_remove_feature(struct uvfio_device *dev, uint16_t index)
{
	ssize_t i;
	int ret = 0;

	pthread_mutex_lock(&dev->cfg_lock);
	i = feature_find(dev, index);
	if (i < 0) {
		ret = -ENOENT;
	} else {
		dev->features[i] = dev->features[dev->nr_features - 1];
		dev->nr_features--;
	}
	pthread_mutex_unlock(&dev->cfg_lock);
	return ret;
}

void uvfio_feature_free_all(struct uvfio_device *dev)
{
	free(dev->features);
	dev->features = NULL;
	dev->nr_features = 0;
}

/* A device-offered feature: check, then run the handler (no lock held). */
static int feature_device(struct uvfio_device *dev, uint32_t flags, void *data,
			  size_t len, size_t *out_len)
{
	uint16_t index = flags & VFIO_DEVICE_FEATURE_MASK;
	struct uvfio_feature f;
	ssize_t i;
	int ret;

	pthread_mutex_lock(&dev->cfg_lock);
	i = feature_find(dev, index);
	if (i >= 0)
		f = dev->features[i];
	pthread_mutex_unlock(&dev->cfg_lock);
	if (i < 0)
		return -ENOTTY;

	ret = uvfio_check_feature(flags, len, f.ops, f.minsz);
	if (ret != 1)
		return ret;
	ret = f.fn(dev, flags, data, len, out_len);
	return ret > 0 ? -ret : ret;
}

int uvfio_device_feature(struct uvfio_device *dev, void *buf, size_t buflen,
			 size_t *reply_len)
{
	struct vfio_device_feature hdr;
	size_t len, out_len = 0;
	uint8_t *data;
	int ret;

	if (reply_len)
		*reply_len = FEATURE_HDR_SZ;
	/* The kernel's copy_from_user of the 8-byte header. */
	if (!buf || buflen < FEATURE_HDR_SZ)
		return -EFAULT;
	memcpy(&hdr, buf, FEATURE_HDR_SZ);

	if (hdr.argsz < FEATURE_HDR_SZ)
		return -EINVAL;
	if (hdr.flags & ~FEATURE_FLAGS_ALLOWED)
		return -EINVAL;
	/* GET and SET together only make sense as a probe for both. */
	if ((hdr.flags & FEATURE_OPS) == FEATURE_OPS &&
	    !(hdr.flags & VFIO_DEVICE_FEATURE_PROBE))
		return -EINVAL;
	/* Never look past what the caller really has. */
	if (hdr.argsz > buflen)
		return -EFAULT;

	data = (uint8_t *)buf + FEATURE_HDR_SZ;
	len = hdr.argsz - FEATURE_HDR_SZ;
	if (uvfio_mig_feature_index(hdr.flags & VFIO_DEVICE_FEATURE_MASK))
		ret = uvfio_mig_feature(dev, hdr.flags, data, len, &out_len);
	else if (uvfio_log_feature_index(hdr.flags & VFIO_DEVICE_FEATURE_MASK))
		ret = uvfio_log_feature(dev, hdr.flags, data, len, &out_len);
	else
		ret = feature_device(dev, hdr.flags, data, len, &out_len);
	if (ret)
		return ret;

	if ((hdr.flags & VFIO_DEVICE_FEATURE_GET) &&
	    !(hdr.flags & VFIO_DEVICE_FEATURE_PROBE)) {
		if (out_len > len) {
			uvfio_dev_log(dev, UVFIO_LOG_ERR,
				      "feature %u: handler wrote %zu of %zu bytes",
				      hdr.flags & VFIO_DEVICE_FEATURE_MASK, out_len, len);
			return -EIO;
		}
		if (reply_len)
			*reply_len = FEATURE_HDR_SZ + out_len;
	}
	return 0;
}
