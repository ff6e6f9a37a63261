/* SPDX-License-Identifier: MIT */
/*
 * The sample mdev parents `uvfio serve mdev PARENT` can run. create makes
 * the parent with its instances' sockets in dir; destroy removes every
 * instance and frees it.
 */
#ifndef UVFIO_DEVICES_MDEV_SAMPLES_H
#define UVFIO_DEVICES_MDEV_SAMPLES_H

#include <uvfio/mdev.h>

struct uvfio_mdev_sample {
	const char *name;
	const char *summary;
	int (*create)(const char *dir, struct uvfio_mdev_parent **out);
	void (*destroy)(struct uvfio_mdev_parent *p);
};

extern const struct uvfio_mdev_sample uvfio_mdev_sample_mtty; /* devices/mtty.c */

/* NULL-terminated table of every sample parent. */
extern const struct uvfio_mdev_sample *const uvfio_mdev_samples[];
const struct uvfio_mdev_sample *uvfio_mdev_sample_find(const char *name);

#endif
