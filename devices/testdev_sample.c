/* SPDX-License-Identifier: MIT */
/* testdev as a `uvfio serve` sample: `uvfio serve testdev --socket PATH`. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <uvfio/log.h>

#include "devices/samples.h"
#include "devices/testdev.h"

/* The sample's handle: knows whether unregister already freed the device. */
struct testdev_sample {
	struct uvfio_device *dev;
	bool released;
};

static int ts_create(int argc, char **argv, struct uvfio_sample_dev *out)
{
	struct testdev_sample *s;

	if (argc > 1) {
		uvfio_log(UVFIO_LOG_ERR, "testdev", "no device options (got %s)", argv[1]);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dev = testdev_create_notify(&s->released);
	if (!s->dev) {
		free(s);
		return -ENOMEM;
	}
	out->dev = s->dev;
	out->priv = s;
	return 0;
}

static void ts_destroy(void *priv)
{
	struct testdev_sample *s = priv;

	if (!s->released)
		testdev_destroy(s->dev);
	free(s);
}

const struct uvfio_sample uvfio_sample_testdev = {
	.name = "testdev",
	.summary = "vfio-user test device: every command (regions, mmap, IRQs, feature, migration, DMA)",
	.options = NULL,
	.create = ts_create,
	.destroy = ts_destroy,
};
