/* SPDX-License-Identifier: MIT */
/* The uvfio subcommands; each lives in its own cmd_*.c file. */
#ifndef UVFIO_TOOL_COMMANDS_H
#define UVFIO_TOOL_COMMANDS_H

struct uvfio_command {
	const char *name;
	const char *summary;
	/* argv[0] is the subcommand name. Returns the process exit code. */
	int (*run)(int argc, char **argv);
};

int cmd_demo(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_mdev(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
/* `uvfio serve mdev ...`: cmd_serve hands over when DEVICE is "mdev". */
int cmd_serve_mdev(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_bind(int argc, char **argv);
int cmd_unbind(int argc, char **argv);
int cmd_trace(int argc, char **argv);

/* Exit codes, documented in the README. */
enum {
	UVFIO_EXIT_OK = 0,
	UVFIO_EXIT_FAILURE = 1, /* the operation failed */
	UVFIO_EXIT_USAGE = 2,	/* bad command line */
};

#endif
