/* SPDX-License-Identifier: MIT */
/*
 * `uvfio serve testdev [--state-mib N]`: testdev as a sample, so a test or
 * a benchmark can give it a big state region (region 3, N MiB, tracked for
 * pre-copy) and migrate it between two servers.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <uvfio/log.h>

#include "devices/samples.h"
#include "devices/testdev.h"

static int parse_mib(const char *s, uint64_t *bytes)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || (v << 20) > TESTDEV_STATE_MAX || v > (1ull << 44))
		return -EINVAL;
	*bytes = v << 20;
	return 0;
}

/* The sample's handle: knows whether unregister already freed the device. */
struct testdev_sample {
	struct uvfio_device *dev;
	bool released;
};

static int td_create(int argc, char **argv, struct uvfio_sample_dev *out)
{
	struct testdev_sample *s;
	uint64_t bytes = 0;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--state-mib") && i + 1 < argc)
			arg = argv[++i];
		else if (!strncmp(arg, "--state-mib=", 12))
			arg += 12;
		else {
			uvfio_log(UVFIO_LOG_ERR, "testdev", "unknown option '%s'", argv[i]);
			return -EINVAL;
		}
		if (parse_mib(arg, &bytes)) {
			uvfio_log(UVFIO_LOG_ERR, "testdev", "--state-mib wants 0..16384, got '%s'", arg);
			return -EINVAL;
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dev = testdev_create_opts(bytes);
	if (!s->dev) {
		free(s);
		return -ENOMEM;
	}
	testdev_notify_release(s->dev, &s->released);
	out->dev = s->dev;
	out->priv = s;
	return 0;
}

/* Unregister frees the device (ops->release); one never registered is ours. */
static void td_destroy(void *priv)
{
	struct testdev_sample *s = priv;

	if (!s->released)
		testdev_destroy(s->dev);
	free(s);
}

const struct uvfio_sample uvfio_sample_testdev = {
	.name = "testdev",
	.summary = "the test device: every vfio-user command; --state-mib N for migration tests",
	.options = "  --state-mib N   a state region of N MiB (region 3), migrated with pre-copy\n",
	.create = td_create,
	.destroy = td_destroy,
};
