/* SPDX-License-Identifier: MIT */
/*
 * Can a PCI device be used through VFIO right now, and if not, why? The
 * answer `uvfio ls` prints: bound to a vfio driver, group viable, group node
 * present, cdev present — each read from sysfs and /dev, nothing opened.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kernel/kvfio.h"

static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

/* Copy a path if it fits; a node we cannot name is reported as absent. */
static bool set_path(char *dst, size_t len, const char *src)
{
	if (strlen(src) >= len)
		return false;
	strcpy(dst, src);
	return true;
}

/* Small sysfs attribute ("0x1234\n") into out, newline stripped. */
static void read_attr(const char *dir, const char *name, char *out, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	out[0] = 0;
	if (kvfio_path(path, sizeof(path), "%s/%s", dir, name))
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = 0;
	fclose(f);
}

int kvfio_pci_status(const char *bdf, struct kvfio_pci_status *s)
{
	char devdir[PATH_MAX], path[PATH_MAX], cdev[32];
	const char *dev = kvfio_dev_root();
	int ret;

	memset(s, 0, sizeof(*s));
	if (strlen(bdf) >= sizeof(s->bdf))
		return -ENAMETOOLONG;
	strcpy(s->bdf, bdf);
	ret = kvfio_path(devdir, sizeof(devdir), "%s/bus/pci/devices/%s", kvfio_sysfs_root(), bdf);
	if (ret)
		return ret;
	if (!exists(devdir))
		return -ENODEV;
	read_attr(devdir, "vendor", s->vendor, sizeof(s->vendor));
	read_attr(devdir, "device", s->device, sizeof(s->device));

	ret = kvfio_device_driver("pci", bdf, s->driver, sizeof(s->driver));
	if (ret < 0)
		return ret;
	s->bound = ret == 1 && strstr(s->driver, "vfio");

	if (!kvfio_path(path, sizeof(path), "%s/iommu_group", devdir) &&
	    !kvfio_readlink_base(path, s->group, sizeof(s->group))) {
		s->viable = kvfio_group_viability(s->group, s->problem, sizeof(s->problem)) == 0;
		if (!kvfio_path(path, sizeof(path), "%s/vfio/%s", dev, s->group) && exists(path))
			set_path(s->group_node, sizeof(s->group_node), path);
		else if (!kvfio_path(path, sizeof(path), "%s/vfio/noiommu-%s", dev, s->group) &&
			 exists(path))
			set_path(s->group_node, sizeof(s->group_node), path);
	}
	if (!kvfio_path(path, sizeof(path), "%s/vfio-dev", devdir) && exists(path)) {
		DIR *d = opendir(path);
		struct dirent *de;

		cdev[0] = 0;
		while (d && (de = readdir(d))) {
			if (!strncmp(de->d_name, "vfio", 4) && strlen(de->d_name) < sizeof(cdev)) {
				strcpy(cdev, de->d_name);
				break;
			}
		}
		if (d)
			closedir(d);
		if (cdev[0] && !kvfio_path(path, sizeof(path), "%s/vfio/devices/%s", dev, cdev) &&
		    exists(path))
			set_path(s->cdev_node, sizeof(s->cdev_node), path);
	}

	/* The first reason wins; viability already wrote its own. */
	if (!s->group[0])
		snprintf(s->problem, sizeof(s->problem), "no IOMMU group");
	else if (!s->bound && !s->driver[0])
		snprintf(s->problem, sizeof(s->problem), "no driver (uvfio bind %s)", bdf);
	else if (!s->bound)
		snprintf(s->problem, sizeof(s->problem), "bound to %s, not vfio-pci "
			 "(uvfio bind %s)", s->driver, bdf);
	else if (s->viable && !s->group_node[0] && !s->cdev_node[0])
		snprintf(s->problem, sizeof(s->problem), "no /dev/vfio node");
	s->usable = s->bound && s->viable && (s->group_node[0] || s->cdev_node[0]);
	if (s->usable)
		s->problem[0] = 0;
	return 0;
}
