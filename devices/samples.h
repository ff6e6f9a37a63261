/* SPDX-License-Identifier: MIT */
/* The sample device descriptors that registry.c lists (one per file). */
#ifndef UVFIO_DEVICES_SAMPLES_H
#define UVFIO_DEVICES_SAMPLES_H

#include "devices/registry.h"

extern const struct uvfio_sample uvfio_sample_edu;  /* devices/edu.c */
extern const struct uvfio_sample uvfio_sample_gpio; /* devices/gpio.c */
extern const struct uvfio_sample uvfio_sample_cdx_demo; /* devices/cdx_demo.c */
extern const struct uvfio_sample uvfio_sample_testdev; /* devices/testdev_sample.c */

#endif
