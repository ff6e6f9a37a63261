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

int kvfio_info_ioctl(int fd, unsigned long cmd, const void *req, size_t hdr_len,
		     uint8_t **out, size_t *out_len)
{
	size_t len = 256; /* room for the usual caps; the kernel says if not */
	uint8_t *buf = NULL;
	int ret = -EPROTO;

	if (hdr_len < sizeof(uint32_t) || hdr_len > len)
		return -EINVAL;
	for (int tries = 0; tries < 3; tries++) {
		uint8_t *nbuf = realloc(buf, len);
		uint32_t argsz = (uint32_t)len;

		if (!nbuf) {
			ret = -ENOMEM;
			break;
		}
		buf = nbuf;
		memset(buf, 0, len);
		memcpy(buf, req, hdr_len);
		memcpy(buf, &argsz, sizeof(argsz));
		if (ioctl(fd, cmd, buf)) {
			ret = -errno;
			break;
		}
		memcpy(&argsz, buf, sizeof(argsz));
		if (argsz <= len) {
			*out = buf;
			*out_len = len;
			return 0;
		}
		/* Never let a kernel-reported size drive an unbounded allocation. */
		if (argsz > KVFIO_INFO_MAX) {
			ret = -EMSGSIZE;
			break;
		}
		len = argsz;
	}
	free(buf);
	return ret;
}

int kvfio_dev_region(int fd, uint32_t index, struct uvfio_region *r, const char *who)
{
	struct vfio_region_info req = { .index = index };
	uint8_t *buf;
	size_t len;
	int ret;

	ret = kvfio_info_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &req, sizeof(req), &buf, &len);
	if (ret) {
		/* EINVAL for an absent optional region (e.g. VGA) is normal. */
		uvfio_log(ret == -EINVAL ? UVFIO_LOG_DEBUG : UVFIO_LOG_ERR, who,
			  "VFIO_DEVICE_GET_REGION_INFO %u: %s", index, strerror(-ret));
		return ret;
	}
	ret = kvfio_parse_region_info(buf, len, r);
	if (ret)
		uvfio_log(UVFIO_LOG_ERR, who, "region %u: corrupt capability chain", index);
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
