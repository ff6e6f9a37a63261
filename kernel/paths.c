/* SPDX-License-Identifier: MIT */
/*
 * Where sysfs and /dev are. Normally "/sys" and "/dev"; tests point them at a
 * tree they build, so resolution and `uvfio ls` run without real devices.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernel/kvfio.h"

static pthread_mutex_t roots_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *sysfs_override, *dev_override;

static const char *root(const char *override, const char *env, const char *def)
{
	const char *v;

	if (override)
		return override;
	v = getenv(env);
	return v && *v ? v : def;
}

const char *kvfio_sysfs_root(void)
{
	const char *r;

	pthread_mutex_lock(&roots_lock);
	r = root(sysfs_override, "UVFIO_SYSFS_ROOT", "/sys");
	pthread_mutex_unlock(&roots_lock);
	return r;
}

const char *kvfio_dev_root(void)
{
	const char *r;

	pthread_mutex_lock(&roots_lock);
	r = root(dev_override, "UVFIO_DEV_ROOT", "/dev");
	pthread_mutex_unlock(&roots_lock);
	return r;
}

/* The caller keeps `r` alive while it is set (tests pass static buffers). */
void kvfio_set_sysfs_root(const char *r)
{
	pthread_mutex_lock(&roots_lock);
	sysfs_override = r;
	pthread_mutex_unlock(&roots_lock);
}

void kvfio_set_dev_root(const char *r)
{
	pthread_mutex_lock(&roots_lock);
	dev_override = r;
	pthread_mutex_unlock(&roots_lock);
}

int kvfio_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}
