/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the migration stream loaders of the sample devices that
 * have one (edu, gpio, testdev). Input: byte 0 picks the device, byte 1 the
 * chunk size of the MIG_DATA_WRITEs (1..256, 0 = all at once), the rest is
 * the stream. The destination goes RESUMING, takes the stream, then STOP
 * (the load commits) and RUNNING. Whatever happens, a reset must bring it
 * back to RUNNING with working migration (it saves a stream again).
 *
 * With UVFIO_FUZZ_MKSEEDS=DIR set, writes each device's real stream (after
 * a few register writes) to DIR as a seed and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uvfio/device.h>
#include <uvfio/log.h>

#include "devices/registry.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = { "edu", "gpio", "testdev" };
#define NDEV (sizeof(names) / sizeof(names[0]))
static struct uvfio_sample_dev sd[NDEV];

static ssize_t save(struct uvfio_device *dev, uint8_t *buf, size_t cap)
{
	size_t total = 0;
	ssize_t n;

	if (uvfio_device_mig_set_state(dev, UVFIO_MIG_STOP_COPY))
		return -1;
	while (total < cap && (n = uvfio_device_mig_read(dev, buf + total, cap - total)) > 0)
		total += (size_t)n;
	if (uvfio_device_mig_set_state(dev, UVFIO_MIG_STOP) ||
	    uvfio_device_mig_set_state(dev, UVFIO_MIG_RUNNING))
		return -1;
	return (ssize_t)total;
}

static void mkseeds(const char *dir)
{
	static uint8_t buf[1 << 20];

	for (size_t i = 0; i < NDEV; i++) {
		char p[512];
		ssize_t n = save(sd[i].dev, buf + 2, sizeof(buf) - 2);
		FILE *f;

		if (n < 0)
			abort();
		buf[0] = (uint8_t)i;
		buf[1] = 0; /* one MIG_DATA_WRITE */
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		f = fopen(p, "wb");
		if (!f || fwrite(buf, 1, (size_t)n + 2, f) != (size_t)n + 2)
			abort();
		fclose(f);
	}
	exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seeds = getenv("UVFIO_FUZZ_MKSEEDS");

	if (!getenv("UVFIO_LOG"))
		uvfio_log_set_level(UVFIO_LOG_ERR);
	for (size_t i = 0; i < NDEV; i++) {
		const struct uvfio_sample *s = uvfio_sample_find(names[i]);
		char *av[] = { (char *)names[i], NULL };

		if (!s || s->create(1, av, &sd[i]) || uvfio_device_open(sd[i].dev))
			abort();
	}
	if (seeds)
		mkseeds(seeds);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[1 << 20];
	struct uvfio_device *dev;
	size_t chunk;
	int ret = 0;

	if (size < 2)
		return 0;
	dev = sd[data[0] % NDEV].dev;
	chunk = data[1] ? data[1] : size;
	data += 2;
	size -= 2;
	if (!uvfio_device_mig_set_state(dev, UVFIO_MIG_RESUMING)) {
		for (size_t off = 0; off < size && !ret; off += chunk)
			ret = uvfio_device_mig_write(dev, data + off,
						     size - off < chunk ? size - off : chunk);
		if (!ret)
			ret = uvfio_device_mig_set_state(dev, UVFIO_MIG_STOP);
		if (!ret)
			ret = uvfio_device_mig_set_state(dev, UVFIO_MIG_RUNNING);
	}
	if (ret) {
		if (uvfio_device_reset(dev))
			abort();
		if (uvfio_device_mig_state(dev) != UVFIO_MIG_RUNNING &&
		    uvfio_device_mig_set_state(dev, UVFIO_MIG_RUNNING))
			abort(); /* a bad stream left the device stuck */
	}
	if (save(dev, again, sizeof(again)) < 0)
		abort(); /* the device no longer migrates */
	return 0;
}
