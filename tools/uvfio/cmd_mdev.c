/* SPDX-License-Identifier: MIT */
/*
 * uvfio mdev types|create|remove|list --control PATH   (talk to a parent)
 * uvfio serve mdev PARENT --dir DIR [--control PATH]   (run a parent)
 *
 * The parent answers on its control socket (protocol in
 * include/uvfio/mdev.h); this command turns a command line into one
 * request and prints the reply's data as it came.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uvfio/log.h>
#include <uvfio/mdev.h>

#include "commands.h"
#include "tool_error.h"
#include "devices/mdev_samples.h"

#define MDEV_REPLY_MAX (64 * 1024)

static void mdev_usage(FILE *out)
{
	fprintf(out,
		"usage: uvfio mdev types [--json] --control PATH\n"
		"       uvfio mdev create TYPE [--uuid UUID] [--json] --control PATH\n"
		"       uvfio mdev remove UUID --control PATH\n"
		"       uvfio mdev list [--json] --control PATH\n"
		"\n"
		"Manage the mediated devices of a parent started with\n"
		"  uvfio serve mdev PARENT --dir DIR [--control PATH]\n"
		"(its control socket is DIR/control unless --control says otherwise).\n"
		"Each instance is served over vfio-user on DIR/UUID.sock.\n"
		"\n"
		"  types    the types, their available_instances, device_api, name, description\n"
		"  create   a new instance of TYPE (a random UUID unless --uuid); prints\n"
		"           UUID, type, socket and what the parent reported (mtty: its ptys)\n"
		"  remove   remove an instance, closing its client\n"
		"  list     the instances\n"
		"  --json   one JSON value instead of tab-separated lines\n");
}

/*
 * A failed request, named: the control socket when nothing answers there,
 * else what was asked (the parent's errno, with what it means for mdevs).
 */
static void report_request_error(const char *control, const char *verb, const char *arg,
				 const char *uuid, int ret)
{
	struct stat st;
	char what[PATH_MAX + 64];
	const char *hint = NULL;

	if (ret == -ECONNREFUSED || (ret == -ENOENT && stat(control, &st)) ||
	    ret == -ENOTSOCK) {
		tool_error(control, -ret, "is 'uvfio serve mdev' running with this control socket?");
		return;
	}
	if (ret == -EPROTO) {
		tool_error(control, EPROTO, "not an mdev control socket?");
		return;
	}
	snprintf(what, sizeof(what), "mdev %s%s%s%s%s", verb, arg ? " " : "", arg ? arg : "",
		 uuid ? " --uuid " : "", uuid ? uuid : "");
	if (!strcmp(verb, "create")) {
		hint = ret == -EEXIST	 ? "an instance with that UUID exists"
		       : ret == -ENOENT ? "no such type; see 'uvfio mdev types'"
		       : ret == -EINVAL ? "is the UUID well formed?"
		       : ret == -ENOSPC ? "no instances of that type are available"
					: NULL;
	} else if (!strcmp(verb, "remove") && ret == -ENOENT) {
		hint = "no such instance; see 'uvfio mdev list'";
	}
	tool_error(what, -ret, hint);
}

int cmd_mdev(int argc, char **argv)
{
	const char *control = NULL, *uuid = NULL, *verb, *arg = NULL;
	char req[UVFIO_MDEV_CONTROL_LINE_MAX + 64];
	bool json = false;
	char *out;
	int n, ret;

	if (argc < 2) {
		mdev_usage(stderr);
		return UVFIO_EXIT_USAGE;
	}
	verb = argv[1];
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		mdev_usage(stdout);
		return UVFIO_EXIT_OK;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--control") && i + 1 < argc) {
			control = argv[++i];
		} else if (!strcmp(argv[i], "--uuid") && i + 1 < argc) {
			uuid = argv[++i];
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (argv[i][0] != '-' && !arg) {
			arg = argv[i];
		} else {
			fprintf(stderr, "uvfio mdev: unexpected '%s'\n", argv[i]);
			return UVFIO_EXIT_USAGE;
		}
	}
	if (!control) {
		fprintf(stderr, "uvfio mdev: --control PATH is required\n");
		return UVFIO_EXIT_USAGE;
	}

	if ((!strcmp(verb, "types") || !strcmp(verb, "list")) && !arg && !uuid)
		n = snprintf(req, sizeof(req), "%s%s", verb, json ? " --json" : "");
	else if (!strcmp(verb, "create") && arg)
		n = snprintf(req, sizeof(req), "create %s%s%s%s", arg, uuid ? " " : "",
			     uuid ? uuid : "", json ? " --json" : "");
	else if (!strcmp(verb, "remove") && arg && !uuid && !json)
		n = snprintf(req, sizeof(req), "remove %s", arg);
	else {
		mdev_usage(stderr);
		return UVFIO_EXIT_USAGE;
	}
	/* Spaces would split an argument into two on the wire. */
	if (n < 0 || (size_t)n >= UVFIO_MDEV_CONTROL_LINE_MAX ||
	    (arg && strpbrk(arg, " \t\n")) || (uuid && strpbrk(uuid, " \t\n"))) {
		fprintf(stderr, "uvfio mdev: bad argument\n");
		return UVFIO_EXIT_USAGE;
	}

	out = malloc(MDEV_REPLY_MAX);
	if (!out) {
		fprintf(stderr, "uvfio mdev: out of memory\n");
		return UVFIO_EXIT_FAILURE;
	}
	ret = uvfio_mdev_control_request(control, req, out, MDEV_REPLY_MAX);
	if (ret) {
		report_request_error(control, verb, arg, uuid, ret);
		free(out);
		return UVFIO_EXIT_FAILURE;
	}
	fputs(out, stdout);
	free(out);
	return UVFIO_EXIT_OK;
}

/* ---- uvfio serve mdev ---------------------------------------------------- */

static void serve_usage(FILE *out)
{
	fprintf(out,
		"usage: uvfio serve mdev PARENT --dir DIR [--control PATH] [-v]\n"
		"\n"
		"Run a sample mdev parent until SIGINT or SIGTERM. Instances are created\n"
		"and removed with 'uvfio mdev' through the control socket (default\n"
		"DIR/control); each is served over vfio-user on DIR/UUID.sock.\n"
		"\n"
		"parents:\n");
	for (size_t i = 0; uvfio_mdev_samples[i]; i++)
		fprintf(out, "  %-8s %s\n", uvfio_mdev_samples[i]->name,
			uvfio_mdev_samples[i]->summary);
}

/* The loop: the parent's fd and a signalfd, in one thread. */
static int serve_loop(struct uvfio_mdev_parent *p, int sfd)
{
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = uvfio_mdev_parent_fd(p), .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		int ret;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[1].revents)
			return 0;
		if (pfd[0].revents) {
			ret = uvfio_mdev_parent_dispatch(p, 0);
			if (ret)
				uvfio_log(UVFIO_LOG_WARN, "serve", "dispatch: %s", strerror(-ret));
		}
	}
}

int cmd_serve_mdev(int argc, char **argv)
{
	const char *dir = NULL, *control = NULL, *name = NULL;
	const struct uvfio_mdev_sample *s;
	struct uvfio_mdev_parent *p;
	char ctl_default[4096];
	bool verbose = false;
	sigset_t mask;
	int sfd, ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
			dir = argv[++i];
		} else if (!strcmp(argv[i], "--control") && i + 1 < argc) {
			control = argv[++i];
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			serve_usage(stdout);
			return UVFIO_EXIT_OK;
		} else if (argv[i][0] != '-' && !name) {
			name = argv[i];
		} else {
			fprintf(stderr, "uvfio serve mdev: unexpected '%s'\n", argv[i]);
			return UVFIO_EXIT_USAGE;
		}
	}
	if (!name || !dir) {
		serve_usage(stderr);
		return UVFIO_EXIT_USAGE;
	}
	s = uvfio_mdev_sample_find(name);
	if (!s) {
		fprintf(stderr, "uvfio serve mdev: no parent '%s'\n", name);
		return UVFIO_EXIT_USAGE;
	}
	if (!control) {
		if (snprintf(ctl_default, sizeof(ctl_default), "%s/control", dir) >=
		    (int)sizeof(ctl_default))
			return UVFIO_EXIT_USAGE;
		control = ctl_default;
	}
	/* Creates and removals are worth a line each (info); -v shows more. */
	if (verbose)
		uvfio_log_set_level(UVFIO_LOG_DEBUG);
	else if (!getenv("UVFIO_LOG"))
		uvfio_log_set_level(UVFIO_LOG_INFO);

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return UVFIO_EXIT_FAILURE;
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		perror("uvfio serve mdev: signalfd");
		return UVFIO_EXIT_FAILURE;
	}
	ret = s->create(dir, &p);
	if (ret) {
		char what[4200];

		snprintf(what, sizeof(what), "serve mdev %s: %s", name, dir);
		tool_error(what, -ret, ret == -ENOENT ? "create the directory first" : NULL);
		goto err_sfd;
	}
	ret = uvfio_mdev_control_listen(p, control);
	if (ret) {
		tool_error(control, -ret, ret == -EEXIST || ret == -EADDRINUSE
					  ? "is another parent running there?" : NULL);
		goto err_parent;
	}
	printf("mdev parent %s: control %s, instances in %s\n", name, control, dir);
	fflush(stdout);
	ret = serve_loop(p, sfd);
	if (ret)
		fprintf(stderr, "uvfio serve mdev: %s\n", strerror(-ret));
err_parent:
	s->destroy(p); /* removes the instances, their sockets and the control socket */
err_sfd:
	close(sfd);
	return ret ? UVFIO_EXIT_FAILURE : UVFIO_EXIT_OK;
}
