/* SPDX-License-Identifier: MIT */
/* The table of sample devices; each sample lives in its own file. */
#include <string.h>

#include "devices/registry.h"
#include "devices/samples.h"

const struct uvfio_sample *const uvfio_samples[] = {
	&uvfio_sample_edu,
	&uvfio_sample_gpio,
	&uvfio_sample_cdx_demo,
	&uvfio_sample_testdev,
	NULL,
};

const struct uvfio_sample *uvfio_sample_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; uvfio_samples[i]; i++)
		if (!strcmp(uvfio_samples[i]->name, name))
			return uvfio_samples[i];
	return NULL;
}
