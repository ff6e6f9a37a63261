/* SPDX-License-Identifier: MIT */
/* DEVELOPMENT PLACEHOLDER: replaced by the real command before landing. */
#include <stdio.h>
#include "commands.h"

int cmd_info(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "uvfio: %s: not implemented yet\n", argv[0]);
	return UVFIO_EXIT_FAILURE;
}
