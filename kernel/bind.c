/* SPDX-License-Identifier: MIT */
/*
 * Binding a PCI device to vfio-pci and back, the way the kernel documents
 * it: driver_override names the driver, the current driver lets go
 * (unbind), and drivers_probe binds the override. The previous driver is
 * remembered in a state file so unbind can give the device back.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/kvfio.h"

extern char **environ;

const char *kvfio_run_dir(void)
{
	const char *v = getenv("UVFIO_RUN_DIR");

	return v && *v ? v : "/run/uvfio";
}

static int write_str(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

/* Write `s` to the sysfs file named by fmt (relative to the sysfs root). */
static int sysfs_writef(const char *s, char *msg, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int sysfs_writef(const char *s, char *msg, size_t len, const char *fmt, ...)
{
	char rel[PATH_MAX], path[PATH_MAX];
	va_list ap;
	int n, ret;

	va_start(ap, fmt);
	n = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rel))
		return -ENAMETOOLONG;
	ret = kvfio_path(path, sizeof(path), "%s/%s", kvfio_sysfs_root(), rel);
	if (!ret)
		ret = write_str(path, s);
	if (ret)
		snprintf(msg, len, "writing '%s' to %s failed: %s",
			 strcmp(s, "\n") ? s : "\\n", path, strerror(-ret));
	return ret;
}

static bool driver_present(const char *drv)
{
	char path[PATH_MAX];
	struct stat st;

	if (kvfio_path(path, sizeof(path), "%s/bus/pci/drivers/%s", kvfio_sysfs_root(), drv))
		return false;
	return !stat(path, &st);
}

/* modprobe vfio-pci, only against the real sysfs (never from tests). */
static void load_vfio_pci(void)
{
	char *argv[] = { "modprobe", "vfio-pci", NULL };
	pid_t pid;
	int st;

	if (strcmp(kvfio_sysfs_root(), "/sys"))
		return;
	if (posix_spawnp(&pid, "modprobe", NULL, NULL, argv, environ))
		return;
	waitpid(pid, &st, 0);
}

/* mkdir -p: /run may be all there is (a minimal initramfs has not even that). */
static int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];

	if (strlen(dir) >= sizeof(tmp))
		return -ENAMETOOLONG;
	strcpy(tmp, dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static int state_path(const char *bdf, char *path, size_t len)
{
	return kvfio_path(path, len, "%s/%s.driver", kvfio_run_dir(), bdf);
}

static int check_bdf(const char *bdf, char *out, size_t len)
{
	return kvfio_parse_bdf(bdf, out, len) ? 0 : -EINVAL;
}

int kvfio_bind_pci(const char *bdf_in, char *msg, size_t len)
{
	char bdf[16], drv[128] = "", path[PATH_MAX], grp[32];
	FILE *f;
	int ret;

	msg[0] = 0;
	if (check_bdf(bdf_in, bdf, sizeof(bdf))) {
		snprintf(msg, len, "'%s' is not a PCI address (DDDD:BB:DD.F)", bdf_in);
		return -EINVAL;
	}
	ret = kvfio_device_driver("pci", bdf, drv, sizeof(drv));
	if (ret < 0 && ret != -ENOENT) {
		snprintf(msg, len, "%s: cannot read its driver: %s", bdf, strerror(-ret));
		return ret;
	}
	if (kvfio_path(path, sizeof(path), "%s/bus/pci/devices/%s", kvfio_sysfs_root(), bdf) ||
	    access(path, F_OK)) {
		snprintf(msg, len, "%s: no such PCI device", bdf);
		return -ENODEV;
	}
	if (ret == 1 && !strcmp(drv, "vfio-pci")) {
		snprintf(msg, len, "%s is already bound to vfio-pci", bdf);
		goto viability;
	}
	if (!driver_present("vfio-pci"))
		load_vfio_pci();
	if (!driver_present("vfio-pci")) {
		snprintf(msg, len, "the vfio-pci driver is not available (modprobe vfio-pci failed)");
		return -ENODEV;
	}
	/* Remember the old driver before touching anything. */
	ret = mkdir_p(kvfio_run_dir());
	if (ret) {
		snprintf(msg, len, "cannot create %s: %s", kvfio_run_dir(), strerror(-ret));
		return ret;
	}
	ret = state_path(bdf, path, sizeof(path));
	if (ret)
		return ret;
	f = fopen(path, "we");
	if (!f) {
		ret = -errno;
		snprintf(msg, len, "cannot write %s: %s", path, strerror(-ret));
		return ret;
	}
	fprintf(f, "%s\n", drv);
	fclose(f);

	ret = sysfs_writef("vfio-pci", msg, len, "bus/pci/devices/%s/driver_override", bdf);
	if (ret)
		return ret;
	if (drv[0]) {
		ret = sysfs_writef(bdf, msg, len, "bus/pci/devices/%s/driver/unbind", bdf);
		if (ret)
			return ret;
	}
	ret = sysfs_writef(bdf, msg, len, "bus/pci/drivers_probe");
	if (ret)
		return ret;
	if (kvfio_device_driver("pci", bdf, drv, sizeof(drv)) != 1 || strcmp(drv, "vfio-pci")) {
		snprintf(msg, len, "%s did not bind to vfio-pci (see dmesg)", bdf);
		return -EIO;
	}
	snprintf(msg, len, "%s bound to vfio-pci", bdf);
viability:
	if (kvfio_path(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group",
		       kvfio_sysfs_root(), bdf) == 0 &&
	    kvfio_readlink_base(path, grp, sizeof(grp)) == 0) {
		char why[768];

		if (kvfio_group_viability(grp, why, sizeof(why)) > 0) {
			snprintf(msg, len, "%s is bound to vfio-pci, but %s", bdf, why);
			return -EBUSY;
		}
	}
	return 0;
}

int kvfio_unbind_pci(const char *bdf_in, char *msg, size_t len)
{
	char bdf[16], prev[128] = "", drv[128], path[PATH_MAX];
	bool have_state = false;
	FILE *f;
	int ret;

	msg[0] = 0;
	if (check_bdf(bdf_in, bdf, sizeof(bdf))) {
		snprintf(msg, len, "'%s' is not a PCI address (DDDD:BB:DD.F)", bdf_in);
		return -EINVAL;
	}
	if (kvfio_path(path, sizeof(path), "%s/bus/pci/devices/%s", kvfio_sysfs_root(), bdf) ||
	    access(path, F_OK)) {
		snprintf(msg, len, "%s: no such PCI device", bdf);
		return -ENODEV;
	}
	ret = state_path(bdf, path, sizeof(path));
	if (ret)
		return ret;
	f = fopen(path, "re");
	if (f) {
		have_state = true;
		if (fgets(prev, sizeof(prev), f))
			prev[strcspn(prev, "\n")] = 0;
		fclose(f);
	}
	/* An empty override lets the bus match drivers by id again. */
	ret = sysfs_writef("\n", msg, len, "bus/pci/devices/%s/driver_override", bdf);
	if (ret)
		return ret;
	if (kvfio_device_driver("pci", bdf, drv, sizeof(drv)) == 1 && !strcmp(drv, "vfio-pci")) {
		ret = sysfs_writef(bdf, msg, len, "bus/pci/devices/%s/driver/unbind", bdf);
		if (ret)
			return ret;
	}
	ret = sysfs_writef(bdf, msg, len, "bus/pci/drivers_probe");
	if (ret)
		return ret;
	/* drivers_probe may pick another driver than the one we replaced. */
	if (prev[0] && (kvfio_device_driver("pci", bdf, drv, sizeof(drv)) != 1 ||
			strcmp(drv, prev)) && driver_present(prev))
		sysfs_writef(bdf, msg, len, "bus/pci/drivers/%s/bind", prev);
	if (have_state)
		unlink(path);
	if (kvfio_device_driver("pci", bdf, drv, sizeof(drv)) == 1)
		snprintf(msg, len, "%s is bound to %s%s", bdf, drv,
			 prev[0] && strcmp(drv, prev) ? " (not the remembered driver)" : "");
	else
		snprintf(msg, len, "%s has no driver%s", bdf,
			 have_state ? "" : " (no remembered driver)");
	return 0;
}
