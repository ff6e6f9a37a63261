/* SPDX-License-Identifier: MIT */
/*
 * `uvfio bind DEVICE`: give a PCI device to vfio-pci (driver_override,
 * unbind, drivers_probe), remembering its driver for `uvfio unbind`. Fails
 * when the device's IOMMU group is not viable afterwards, naming the
 * device that keeps it so.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "kernel/kvfio.h"

int cmd_bind(int argc, char **argv)
{
	const char *dev;
	char msg[1024];
	int ret;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
			"usage: uvfio bind DEVICE\n"
			"  bind PCI device DEVICE (0000:00:03.0 or pci:0000:00:03.0) to vfio-pci;\n"
			"  its driver is remembered in %s for 'uvfio unbind'\n", kvfio_run_dir());
		return argc == 2 && !strcmp(argv[1], "--help") ? UVFIO_EXIT_OK : UVFIO_EXIT_USAGE;
	}
	dev = strncmp(argv[1], "pci:", 4) ? argv[1] : argv[1] + 4;
	ret = kvfio_bind_pci(dev, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "uvfio bind: %s\n", msg[0] ? msg : strerror(-ret));
		return ret == -EINVAL ? UVFIO_EXIT_USAGE : UVFIO_EXIT_FAILURE;
	}
	printf("%s\n", msg);
	return UVFIO_EXIT_OK;
}
