/* SPDX-License-Identifier: MIT */
/*
 * A fake sysfs + /dev tree in a temp dir, laid out as the kernel does:
 * bus/pci/devices/BDF is a link into devices/, iommu_group links to
 * kernel/iommu_groups/N, driver links to bus/pci/drivers/NAME. /dev nodes
 * are plain files (resolution only stats them).
 */
#ifndef UVFIO_KERNEL_TESTS_FAKE_SYSFS_H
#define UVFIO_KERNEL_TESTS_FAKE_SYSFS_H

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Paths in tests never truncate silently. */
#define PATHF(buf, ...)                                                   \
	do {                                                              \
		if (snprintf(buf, sizeof(buf), __VA_ARGS__) >= (int)sizeof(buf)) \
			abort();                                          \
	} while (0)

struct fake_tree {
	char root[PATH_MAX];
	char sys[PATH_MAX];
	char dev[PATH_MAX];
};

static void fake_mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	PATHF(tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(tmp, 0755);
		*p = '/';
	}
	mkdir(tmp, 0755);
}

static void fake_path(const struct fake_tree *t, char *out, size_t len, const char *base,
		      const char *fmt, va_list ap)
{
	char rel[PATH_MAX];

	if (vsnprintf(rel, sizeof(rel), fmt, ap) >= (int)sizeof(rel) ||
	    snprintf(out, len, "%s/%s", base, rel) >= (int)len)
		abort();
	(void)t;
}

__attribute__((format(printf, 2, 3)))
static void fake_dir(const struct fake_tree *t, const char *fmt, ...)
{
	char p[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	fake_path(t, p, sizeof(p), t->root, fmt, ap);
	va_end(ap);
	fake_mkdirs(p);
}

__attribute__((format(printf, 2, 3)))
static void fake_file(const struct fake_tree *t, const char *fmt, ...)
{
	char p[PATH_MAX], d[PATH_MAX];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	fake_path(t, p, sizeof(p), t->root, fmt, ap);
	va_end(ap);
	PATHF(d, "%s", p);
	*strrchr(d, '/') = 0;
	fake_mkdirs(d);
	f = fopen(p, "w");
	if (f)
		fclose(f);
}

/* A symlink at `at` (relative to root) pointing to root/`to`. */
static void fake_link(const struct fake_tree *t, const char *at, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX], d[PATH_MAX];

	PATHF(a, "%s/%s", t->root, at);
	PATHF(b, "%s/%s", t->root, to);
	PATHF(d, "%s", a);
	*strrchr(d, '/') = 0;
	fake_mkdirs(d);
	unlink(a);
	if (symlink(b, a))
		perror("symlink");
}

/*
 * A PCI device BDF in group `grp` (-1: no iommu_group link) bound to `drv`
 * (NULL: none), with cdev "vfioN" when cdev >= 0.
 */
static void fake_pci(const struct fake_tree *t, const char *bdf, int grp, const char *drv,
		     int cdev)
{
	char dev[PATH_MAX], at[PATH_MAX], to[PATH_MAX];

	PATHF(dev, "sys/devices/pci0000:00/%s", bdf);
	fake_dir(t, "%s", dev);
	PATHF(at, "sys/bus/pci/devices/%s", bdf);
	fake_link(t, at, dev);
	if (grp >= 0) {
		PATHF(to, "sys/kernel/iommu_groups/%d", grp);
		fake_dir(t, "%s/devices", to);
		PATHF(at, "%s/iommu_group", dev);
		fake_link(t, at, to);
		PATHF(at, "%s/devices/%s", to, bdf);
		fake_link(t, at, dev);
	}
	if (drv) {
		PATHF(to, "sys/bus/pci/drivers/%s", drv);
		fake_dir(t, "%s", to);
		PATHF(at, "%s/driver", dev);
		fake_link(t, at, to);
	}
	if (cdev >= 0)
		fake_dir(t, "%s/vfio-dev/vfio%d", dev, cdev);
	fake_file(t, "%s/vendor", dev);
}

static int fake_tree_init(struct fake_tree *t)
{
	PATHF(t->root, "/tmp/uvfio-fake-XXXXXX");
	if (!mkdtemp(t->root))
		return -1;
	PATHF(t->sys, "%s/sys", t->root);
	PATHF(t->dev, "%s/dev", t->root);
	fake_mkdirs(t->sys);
	fake_mkdirs(t->dev);
	return 0;
}

static void fake_tree_fini(struct fake_tree *t)
{
	char cmd[PATH_MAX + 16];

	/* The tree is ours and under /tmp/uvfio-fake-*: remove it whole. */
	if (strncmp(t->root, "/tmp/uvfio-fake-", 16))
		return;
	PATHF(cmd, "rm -rf '%s'", t->root);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", t->root);
}

#endif
