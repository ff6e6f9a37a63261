/* SPDX-License-Identifier: MIT */
/*
 * From a device name to the node to open, by following sysfs links as the
 * kernel lays them out: bus/BUS/devices/NAME/iommu_group -> ../../kernel/
 * iommu_groups/N, and NAME/vfio-dev/vfioX for the cdev. The bus only picks
 * the directory the name lives in; everything after follows links, so PCI,
 * mdev and cdx devices resolve alike.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uvfio/log.h>

#include "kernel/kvfio.h"

int kvfio_readlink_base(const char *path, char *out, size_t len)
{
	char buf[PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	if (!*base || strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(out, base);
	return 0;
}

int kvfio_device_driver(const char *bus, const char *name, char *drv, size_t len)
{
	char path[PATH_MAX];
	int ret;

	ret = kvfio_path(path, sizeof(path), "%s/bus/%s/devices/%s/driver",
			 kvfio_sysfs_root(), bus, name);
	if (ret)
		return ret;
	ret = kvfio_readlink_base(path, drv, len);
	if (ret == -ENOENT)
		return 0;
	return ret ? ret : 1;
}

bool kvfio_driver_is_vfio_safe(const char *drv)
{
	/* vfio-pci, vfio_pci variants (mlx5_vfio_pci ...), vfio-cdx, vfio_mdev;
	 * pci-stub and pcieport do no DMA of their own (driver_managed_dma). */
	return strstr(drv, "vfio") || !strcmp(drv, "pci-stub") || !strcmp(drv, "pcieport");
}

static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

static bool digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Append to msg, truncating (the message is for humans). */
static void append(char *msg, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char *msg, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used + 1 >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t)n < len - *used ? (size_t)n : len - *used - 1;
}

int kvfio_group_viability(const char *group_nr, char *msg, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX], drv[128];
	size_t used = 0;
	struct dirent *de;
	int ret, bad = 0;
	DIR *d;

	if (len)
		msg[0] = 0;
	if (!digits(group_nr))
		return -EINVAL;
	ret = kvfio_path(path, sizeof(path), "%s/kernel/iommu_groups/%s/devices",
			 kvfio_sysfs_root(), group_nr);
	if (ret)
		return ret;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (kvfio_path(link, sizeof(link), "%s/%s/driver", path, de->d_name))
			continue;
		ret = kvfio_readlink_base(link, drv, sizeof(drv));
		if (ret) /* no driver: harmless */
			continue;
		if (kvfio_driver_is_vfio_safe(drv))
			continue;
		if (!bad++)
			append(msg, len, &used, "group %s is not viable: ", group_nr);
		else
			append(msg, len, &used, "; ");
		append(msg, len, &used, "%s is bound to %s", de->d_name, drv);
	}
	closedir(d);
	if (bad)
		append(msg, len, &used, "; bind %s to vfio-pci or unbind %s",
		       bad > 1 ? "them" : "it", bad > 1 ? "them" : "it");
	return bad;
}

/* The cdev name under NAME/vfio-dev/ ("vfio3"), if the device has one. */
static int find_cdev(const char *devdir, char *out, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	int ret = -ENOENT;
	DIR *d;

	if (kvfio_path(path, sizeof(path), "%s/vfio-dev", devdir))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "vfio", 4) || !digits(de->d_name + 4))
			continue;
		if (strlen(de->d_name) >= len) {
			ret = -ENAMETOOLONG;
			break;
		}
		strcpy(out, de->d_name);
		ret = 0;
		break;
	}
	closedir(d);
	return ret;
}

/* Fill group_path for group `t->group` ("N"): /dev/vfio/N, else noiommu-N. */
static int group_node(struct kvfio_target *t, const char *who)
{
	const char *dev = kvfio_dev_root();
	char name[32];
	int ret;

	ret = kvfio_path(t->group_path, sizeof(t->group_path), "%s/vfio/%s", dev, t->group);
	if (ret)
		return ret;
	if (exists(t->group_path))
		return 0;
	if (kvfio_path(name, sizeof(name), "noiommu-%s", t->group) == 0 &&
	    kvfio_path(t->group_path, sizeof(t->group_path), "%s/vfio/%s", dev, name) == 0 &&
	    exists(t->group_path)) {
		strcpy(t->group, name);
		t->noiommu = true;
		return 0;
	}
	kvfio_path(t->group_path, sizeof(t->group_path), "%s/vfio/%s", dev, t->group);
	uvfio_log(UVFIO_LOG_ERR, who, "%s does not exist: bind the device to vfio-pci "
		  "(uvfio bind) and load vfio_iommu_type1", t->group_path);
	return -ENOENT;
}

static int resolve_sysfs(const struct kvfio_location *loc, struct kvfio_target *t,
			 const char *who)
{
	const char *bus = kvfio_location_bus(loc->kind);
	char devdir[PATH_MAX], path[PATH_MAX], cdev[32], drv[128];
	bool iommu;
	int ret;

	ret = kvfio_path(devdir, sizeof(devdir), "%s/bus/%s/devices/%s",
			 kvfio_sysfs_root(), bus, loc->device);
	if (ret)
		return ret;
	if (!exists(devdir)) {
		uvfio_log(UVFIO_LOG_ERR, who, "no such device: %s does not exist", devdir);
		return -ENODEV;
	}
	strcpy(t->device, loc->device);

	/* A device that is not bound to a vfio driver has no group node and
	 * no cdev: say so rather than "no such file". A registered vfio
	 * device has a vfio-dev/ dir (6.1+), whatever its driver is called
	 * (an mdev's driver is its parent's, e.g. "mtty"). */
	ret = kvfio_device_driver(bus, loc->device, drv, sizeof(drv));
	if (ret == 1 && !strstr(drv, "vfio") &&
	    !kvfio_path(path, sizeof(path), "%s/vfio-dev", devdir) && !exists(path)) {
		uvfio_log(UVFIO_LOG_ERR, who, "%s is bound to %s, not to a vfio driver: "
			  "run 'uvfio bind %s'", loc->device, drv, loc->device);
		return -EBUSY;
	}

	ret = kvfio_path(path, sizeof(path), "%s/iommu_group", devdir);
	if (ret)
		return ret;
	ret = kvfio_readlink_base(path, t->group, sizeof(t->group));
	if (ret == -ENOENT) {
		uvfio_log(UVFIO_LOG_ERR, who, "%s has no IOMMU group (%s missing): enable "
			  "the IOMMU (e.g. intel_iommu=on) or use vfio noiommu mode",
			  loc->device, path);
		return -ENODEV;
	}
	if (ret || !digits(t->group)) {
		uvfio_log(UVFIO_LOG_ERR, who, "%s: cannot read the group number", path);
		return ret ? ret : -EPROTO;
	}

	/* The cdev wants both the node and /dev/iommu to bind it. */
	if (loc->pref != KVFIO_IOMMU_GROUP && !find_cdev(devdir, cdev, sizeof(cdev))) {
		ret = kvfio_path(t->cdev_path, sizeof(t->cdev_path), "%s/vfio/devices/%s",
				 kvfio_dev_root(), cdev);
		if (ret)
			return ret;
		ret = kvfio_path(path, sizeof(path), "%s/iommu", kvfio_dev_root());
		if (ret)
			return ret;
		iommu = exists(path);
		if (iommu && exists(t->cdev_path)) {
			t->cdev = true;
			return 0;
		}
		if (loc->pref == KVFIO_IOMMU_CDEV) {
			uvfio_log(UVFIO_LOG_ERR, who, "cdev requested but %s is missing",
				  iommu ? t->cdev_path : path);
			return -ENODEV;
		}
	} else if (loc->pref == KVFIO_IOMMU_CDEV) {
		uvfio_log(UVFIO_LOG_ERR, who, "cdev requested but %s has no vfio-dev/vfioX "
			  "(kernel without CONFIG_VFIO_DEVICE_CDEV?)", loc->device);
		return -ENODEV;
	}
	t->cdev_path[0] = 0;
	return group_node(t, who);
}

int kvfio_resolve(const struct kvfio_location *loc, struct kvfio_target *t)
{
	char who[KVFIO_NAME_MAX + 8];
	int ret;

	memset(t, 0, sizeof(*t));
	switch (loc->kind) {
	case KVFIO_LOC_GROUP:
		snprintf(who, sizeof(who), "%s", loc->device);
		strcpy(t->device, loc->device);
		strcpy(t->group, loc->group);
		t->noiommu = !strncmp(loc->group, "noiommu-", 8);
		ret = kvfio_path(t->group_path, sizeof(t->group_path), "%s/vfio/%s",
				 kvfio_dev_root(), t->group);
		if (!ret && !exists(t->group_path)) {
			uvfio_log(UVFIO_LOG_ERR, who, "%s does not exist", t->group_path);
			ret = -ENOENT;
		}
		return ret;
	case KVFIO_LOC_CDEV:
		snprintf(who, sizeof(who), "%s", loc->cdev);
		t->cdev = true;
		ret = kvfio_path(t->cdev_path, sizeof(t->cdev_path), "%s/vfio/devices/%s",
				 kvfio_dev_root(), loc->cdev);
		if (!ret && !exists(t->cdev_path)) {
			uvfio_log(UVFIO_LOG_ERR, who, "%s does not exist", t->cdev_path);
			ret = -ENOENT;
		}
		return ret;
	default:
		snprintf(who, sizeof(who), "%s", loc->device);
		return resolve_sysfs(loc, t, who);
	}
}
