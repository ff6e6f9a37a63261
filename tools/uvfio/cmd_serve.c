/* SPDX-License-Identifier: MIT */
/* DEVELOPMENT PLACEHOLDER: replaced by the real command before landing. */
#include <stdio.h>
#include <string.h>
#include "commands.h"

int cmd_serve(int argc, char **argv)
{
	/* A parent of mediated devices, not one device: cmd_mdev.c runs it. */
	if (argc > 1 && !strcmp(argv[1], "mdev"))
		return cmd_serve_mdev(argc - 1, argv + 1);
	fprintf(stderr, "uvfio: %s: not implemented yet\n", argv[0]);
	return UVFIO_EXIT_FAILURE;
}
