/* SPDX-License-Identifier: MIT */
/* `uvfio unbind DEVICE`: undo `uvfio bind`, giving the device back to its driver. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "kernel/kvfio.h"

int cmd_unbind(int argc, char **argv)
{
	const char *dev;
	char msg[1024];
	int ret;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
			"usage: uvfio unbind DEVICE\n"
			"  clear driver_override, unbind DEVICE from vfio-pci and reprobe, restoring\n"
			"  the driver 'uvfio bind' remembered\n");
		return argc == 2 && !strcmp(argv[1], "--help") ? UVFIO_EXIT_OK : UVFIO_EXIT_USAGE;
	}
	dev = strncmp(argv[1], "pci:", 4) ? argv[1] : argv[1] + 4;
	ret = kvfio_unbind_pci(dev, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "uvfio unbind: %s\n", msg[0] ? msg : strerror(-ret));
		return ret == -EINVAL ? UVFIO_EXIT_USAGE : UVFIO_EXIT_FAILURE;
	}
	printf("%s\n", msg);
	return UVFIO_EXIT_OK;
}
