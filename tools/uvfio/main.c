/* SPDX-License-Identifier: MIT */
/* uvfio: the command line for serving and driving VFIO devices in userspace. */
#include <stdio.h>
#include <string.h>

#include <uvfio/version.h>

#include "commands.h"

static const struct uvfio_command commands[] = {
	{ "demo", "run the core device model in-process and print what it did", cmd_demo },
	{ "serve", "serve a device over vfio-user on a UNIX socket", cmd_serve },
	{ "info", "connect to a device and print its regions and IRQs", cmd_info },
	{ "ls", "list VFIO-capable PCI devices and vfio-user sockets, usable or why not", cmd_ls },
	{ "bind", "bind a PCI device to vfio-pci (uvfio unbind restores its driver)", cmd_bind },
	{ "unbind", "give a device bound with 'uvfio bind' back to its driver", cmd_unbind },
	{ "bench", "benchmarks (dma-map, rtt) against a floor measured in the same run", cmd_bench },
	{ "mdev", "create, remove and list mediated devices of a running parent", cmd_mdev },
	{ "trace", "a vfio-user proxy that prints every message decoded", cmd_trace },
	{ "migrate", "move a device's state between two vfio-user servers", cmd_migrate },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: uvfio [--version] [--help] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'uvfio COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return UVFIO_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("uvfio %s\n", UVFIO_VERSION);
		return UVFIO_EXIT_OK;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return UVFIO_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "uvfio: '%s' is not a command (see 'uvfio --help')\n", argv[1]);
	return UVFIO_EXIT_USAGE;
}
