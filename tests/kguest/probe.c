/* SPDX-License-Identifier: MIT */
/*
 * kguest-probe: proves a guest's VFIO plumbing without the uvfio library.
 *   kguest-probe legacy BDF    container + group, type1v2
 *   kguest-probe noiommu BDF   container + noiommu group, VFIO_NOIOMMU_IOMMU
 *   kguest-probe cdev BDF      /dev/iommu IOAS + /dev/vfio/devices/vfioX bind/attach
 * In each mode it reaches the device fd and reads edu's identification
 * register from BAR0. Prints "CHECK probe-... PASS|FAIL detail" lines.
 * The iommufd and cdev ABI is defined here: Debian 12's headers lack it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

/* iommufd (include/uapi/linux/iommufd.h, 6.2+) */
struct iommu_ioas_alloc { uint32_t size, flags, out_ioas_id; };
#define IOMMU_IOAS_ALLOC _IO(';', 0x81)
/* VFIO device cdev (include/uapi/linux/vfio.h, 6.6+) */
struct bind_iommufd { uint32_t argsz, flags; int32_t iommufd; uint32_t out_devid; };
#define BIND_IOMMUFD _IO(';', 100 + 18)
struct attach_pt { uint32_t argsz, flags, pt_id; };
#define ATTACH_IOMMUFD_PT _IO(';', 100 + 19)
#ifndef VFIO_NOIOMMU_IOMMU
#define VFIO_NOIOMMU_IOMMU 8
#endif

static int failures;

static void __attribute__((format(printf, 3, 4)))
check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("CHECK probe-%s %s ", name, ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	failures += !ok;
}

static int read_edu_id(int dev)
{
	struct vfio_region_info r = { .argsz = sizeof(r), .index = VFIO_PCI_BAR0_REGION_INDEX };
	uint32_t id = 0;

	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &r)) {
		check(0, "bar0", "GET_REGION_INFO: %s", strerror(errno));
		return -1;
	}
	if (pread(dev, &id, 4, r.offset) != 4) {
		check(0, "bar0", "pread: %s", strerror(errno));
		return -1;
	}
	check(id == 0x010000ed, "edu-id", "BAR0 size 0x%llx, id 0x%08x", (unsigned long long)r.size, id);
	return 0;
}

static int legacy(const char *bdf, int noiommu)
{
	char link[PATH_MAX], path[PATH_MAX], target[PATH_MAX];
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int c, g, d, type = noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU;
	ssize_t n;

	c = open("/dev/vfio/vfio", O_RDWR);
	if (c < 0) {
		check(0, "container", "/dev/vfio/vfio: %s", strerror(errno));
		return -1;
	}
	check(ioctl(c, VFIO_GET_API_VERSION) == VFIO_API_VERSION, "api-version", "%d",
	      ioctl(c, VFIO_GET_API_VERSION));
	check(ioctl(c, VFIO_CHECK_EXTENSION, type) == 1, "extension",
	      "CHECK_EXTENSION(%s) = %d, TYPE1v2 %d, NOIOMMU %d", noiommu ? "NOIOMMU" : "TYPE1v2",
	      ioctl(c, VFIO_CHECK_EXTENSION, type),
	      ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU),
	      ioctl(c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU));

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0) {
		check(0, "group", "%s: %s", link, strerror(errno));
		return -1;
	}
	target[n] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s%s", noiommu ? "noiommu-" : "", basename(target));
	g = open(path, O_RDWR);
	if (g < 0 || ioctl(g, VFIO_GROUP_GET_STATUS, &st)) {
		check(0, "group", "%s: %s", path, strerror(errno));
		return -1;
	}
	check(st.flags & VFIO_GROUP_FLAGS_VIABLE, "group", "%s viable", path);
	if (ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) || ioctl(c, VFIO_SET_IOMMU, type)) {
		check(0, "set-iommu", "%s", strerror(errno));
		return -1;
	}
	d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, bdf);
	check(d >= 0, "device-fd", "GROUP_GET_DEVICE_FD(%s) %s", bdf, d >= 0 ? "ok" : strerror(errno));
	return d < 0 ? -1 : read_edu_id(d);
}

static int cdev(const char *bdf)
{
	char dir[PATH_MAX], path[PATH_MAX + 300] = "";
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct bind_iommufd bind = { .argsz = sizeof(bind) };
	struct attach_pt at = { .argsz = sizeof(at) };
	struct dirent *e;
	DIR *dp;
	int iommufd, d;

	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0 || ioctl(iommufd, IOMMU_IOAS_ALLOC, &ioas)) {
		check(0, "iommufd", "/dev/iommu: %s", strerror(errno));
		return -1;
	}
	check(1, "iommufd", "/dev/iommu IOAS_ALLOC -> ioas %u", ioas.out_ioas_id);
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dp = opendir(dir);
	while (dp && (e = readdir(dp)))
		if (!strncmp(e->d_name, "vfio", 4))
			snprintf(path, sizeof(path), "/dev/vfio/devices/%s", e->d_name);
	if (dp)
		closedir(dp);
	d = path[0] ? open(path, O_RDWR) : -1;
	if (d < 0) {
		check(0, "cdev", "%s: %s", path[0] ? path : dir, strerror(errno));
		return -1;
	}
	bind.iommufd = iommufd;
	if (ioctl(d, BIND_IOMMUFD, &bind)) {
		check(0, "cdev", "%s BIND_IOMMUFD: %s", path, strerror(errno));
		return -1;
	}
	at.pt_id = ioas.out_ioas_id;
	if (ioctl(d, ATTACH_IOMMUFD_PT, &at)) {
		check(0, "cdev", "%s ATTACH_IOMMUFD_PT: %s", path, strerror(errno));
		return -1;
	}
	check(1, "cdev", "%s bound (devid %u), attached to ioas %u", path, bind.out_devid, at.pt_id);
	return read_edu_id(d);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s legacy|noiommu|cdev BDF\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "cdev"))
		cdev(argv[2]);
	else
		legacy(argv[2], !strcmp(argv[1], "noiommu"));
	return failures ? 1 : 0;
}
