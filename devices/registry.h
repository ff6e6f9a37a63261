/* SPDX-License-Identifier: MIT */
/*
 * The sample devices `uvfio serve` can run, and how a serve loop drives them.
 *
 * create() parses the device options and fills a struct uvfio_sample_dev:
 * `dev` is the struct uvfio_device to register and serve, `priv` is the
 * sample's handle for the other calls. The device is not registered.
 *
 * Teardown: if the caller registered `dev`, it calls uvfio_device_unregister()
 * first (that frees `dev`); then, registered or not, destroy(priv) frees the
 * rest. (This is the order of the PCI bus driver: unregister, then
 * uvfio_pci_destroy.)
 *
 * A sample may need its own input besides the vfio-user socket (the gpio
 * card's control socket, edu's DMA engine). It exposes that as one pollable
 * fd: `uvfio serve` registers event_fd() with uvfio_server_add_fd(), so
 * handle_event() runs inside the server's dispatch, on its thread, after the
 * client's pending messages; there it may reach message-based DMA windows
 * (include/uvfio/server.h). The fd stays valid until destroy().
 */
#ifndef UVFIO_DEVICES_REGISTRY_H
#define UVFIO_DEVICES_REGISTRY_H

#include <stddef.h>

#include <uvfio/device.h>

struct uvfio_sample_dev {
	struct uvfio_device *dev;
	void *priv;
};

struct uvfio_sample {
	const char *name;
	const char *summary;	/* one line, for `uvfio serve --list` */
	const char *options;	/* help for device options (lines), or NULL */
	/*
	 * Parse the device options (argv[0] is the sample's name, argv[argc]
	 * is NULL) and create the device. Returns 0 or a negative errno;
	 * -EINVAL means bad options, after a log line that says which.
	 */
	int (*create)(int argc, char **argv, struct uvfio_sample_dev *out);
	/* Optional: an fd to poll for POLLIN, or -1 for none. */
	int (*event_fd)(void *priv);
	/* Optional: event_fd() is readable. Returns 0 or a negative errno
	 * (which the loop logs; it keeps serving). */
	int (*handle_event)(void *priv);
	/* Free what create() made, after unregister if it was registered. */
	void (*destroy)(void *priv);
};

/* NULL-terminated table of every sample. */
extern const struct uvfio_sample *const uvfio_samples[];

/* The sample called `name`, or NULL. */
const struct uvfio_sample *uvfio_sample_find(const char *name);

#endif
