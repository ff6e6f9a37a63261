/* SPDX-License-Identifier: MIT */
/*
 * The verbs of a kernel VFIO device fd. Group- and cdev-obtained fds speak
 * the same ioctls, so nothing here knows how the fd was opened. Region
 * offsets are taken as the kernel reports them and never computed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <uvfio/log.h>

#include "kernel/kvfio.h"

#define KVFIO_MAX_IRQ_VECTORS 2048u /* PCI MSI-X table limit */

int kvfio_dev_get_info(int fd, struct vfio_device_info *info, const char *who)
{
	struct vfio_device_info i = { .argsz = sizeof(i) };
	int ret;

	if (ioctl(fd, VFIO_DEVICE_GET_INFO, &i)) {
		ret = -errno;
		uvfio_log(UVFIO_LOG_ERR, who, "VFIO_DEVICE_GET_INFO: %s", strerror(-ret));
		return ret;
	}
	*info = i;
	info->argsz = sizeof(*info);
	return 0;
}

int kvfio_dev_region(int fd, uint32_t index, struct uvfio_region *r, const char *who)
{
	size_t len = 256; /* room for the usual caps; the kernel says if not */
	uint8_t *buf = NULL;
	int ret = -EPROTO;

	for (int tries = 0; tries < 3; tries++) {
		struct vfio_region_info *ri;
		uint8_t *nbuf = realloc(buf, len);

		if (!nbuf) {
			ret = -ENOMEM;
			break;
		}
		buf = nbuf;
		memset(buf, 0, len);
		ri = (struct vfio_region_info *)buf;
		ri->argsz = (uint32_t)len;
		ri->index = index;
		if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, ri)) {
			ret = -errno;
			/* EINVAL for an absent optional region (e.g. VGA) is normal. */
			uvfio_log(ret == -EINVAL ? UVFIO_LOG_DEBUG : UVFIO_LOG_ERR, who,
				  "VFIO_DEVICE_GET_REGION_INFO %u: %s", index, strerror(-ret));
			break;
		}
		if (ri->argsz <= len) {
			ret = kvfio_parse_region_info(buf, len, r);
			if (ret)
				uvfio_log(UVFIO_LOG_ERR, who, "region %u: corrupt capability "
					  "chain", index);
			break;
		}
		if (ri->argsz > KVFIO_INFO_MAX) {
			uvfio_log(UVFIO_LOG_ERR, who, "region %u info wants %u bytes", index,
				  ri->argsz);
			break;
		}
		len = ri->argsz;
	}
	free(buf);
	return ret;
}

int kvfio_dev_irq_info(int fd, struct vfio_irq_info *info)
{
	struct vfio_irq_info i = { .argsz = sizeof(i), .index = info->index };

	if (ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, &i))
		return -errno;
	*info = i;
	return 0;
}

int kvfio_dev_set_irqs(int fd, const struct vfio_irq_set *hdr, const void *data,
		       const char *who)
{
	struct vfio_irq_set *set;
	size_t elem, dlen, total;
	int ret;

	switch (hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		elem = 0;
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		elem = 1;
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		elem = sizeof(int32_t);
		break;
	default:
		return -EINVAL;
	}
	/* The count sizes our copy: bound it before multiplying. */
	if (elem && hdr->count > KVFIO_MAX_IRQ_VECTORS)
		return -EINVAL;
	dlen = elem * hdr->count;
	if (dlen && !data)
		return -EINVAL;
	total = sizeof(*set) + dlen;
	set = calloc(1, total);
	if (!set)
		return -ENOMEM;
	*set = *hdr;
	set->argsz = (uint32_t)total;
	if (dlen)
		memcpy(set->data, data, dlen);
	ret = ioctl(fd, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
	if (ret)
		uvfio_log(UVFIO_LOG_DEBUG, who, "VFIO_DEVICE_SET_IRQS index %u: %s",
			  hdr->index, strerror(-ret));
	free(set);
	return ret;
}

int kvfio_dev_reset(int fd)
{
	return ioctl(fd, VFIO_DEVICE_RESET) ? -errno : 0;
}

int kvfio_dev_feature(int fd, void *buf)
{
	struct vfio_device_feature *f = buf;

	if (f->argsz < sizeof(*f))
		return -EINVAL;
	return ioctl(fd, VFIO_DEVICE_FEATURE, buf) ? -errno : 0;
}
