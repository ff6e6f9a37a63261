/* SPDX-License-Identifier: MIT */
/* The table of sample mdev parents; each lives in its own file. */
#include <string.h>

#include "devices/mdev_samples.h"

const struct uvfio_mdev_sample *const uvfio_mdev_samples[] = {
	&uvfio_mdev_sample_mtty,
	NULL,
};

const struct uvfio_mdev_sample *uvfio_mdev_sample_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; uvfio_mdev_samples[i]; i++)
		if (!strcmp(uvfio_mdev_samples[i]->name, name))
			return uvfio_mdev_samples[i];
	return NULL;
}
