/* SPDX-License-Identifier: MIT */
/*
 * uvfio serve DEVICE --socket PATH [--mode OCTAL] [--group NAME]
 *             [--allow-uid LIST] [--allow-gid LIST] [-v] [DEVICE OPTIONS]
 *
 * Creates one sample device (devices/registry.h), registers it, serves it
 * over vfio-user on a UNIX socket and polls, in one thread, the server's fd
 * and a signalfd for SIGINT/SIGTERM. The sample's own event fd (the gpio
 * card's control socket, edu's DMA engine) is registered with the server
 * (uvfio_server_add_fd), so its work runs inside the server's dispatch and
 * may reach message-based DMA windows. A signal ends the loop; then the
 * server is destroyed (which removes the socket) and the device unregistered.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <uvfio/device.h>
#include <uvfio/log.h>
#include <uvfio/server.h>

#include "commands.h"
#include "devices/registry.h"
#include "sd_listen.h"

#define SERVE_MAX_DEVICE_ARGS 64

struct serve_args {
	const char *device;
	const char *socket;
	mode_t mode;		/* 0: the server's default (0600) */
	const char *group;	/* socket group, or NULL */
	uint32_t uids[UVFIO_SERVER_MAX_ALLOW], gids[UVFIO_SERVER_MAX_ALLOW];
	size_t nuids, ngids;
	bool verbose;
	int dev_argc;
	char *dev_argv[SERVE_MAX_DEVICE_ARGS + 1];
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: uvfio serve DEVICE --socket PATH [--mode OCTAL] [--group NAME]\n"
		"                   [--allow-uid LIST] [--allow-gid LIST] [-v] [DEVICE OPTIONS]\n"
		"       uvfio serve --list\n"
		"       uvfio serve mdev PARENT --dir DIR [--control PATH]  (see 'uvfio serve mdev --help')\n"
		"\n"
		"Serve a sample device over vfio-user on a UNIX socket until SIGINT or\n"
		"SIGTERM. QEMU attaches it with\n"
		"  -device '{\"driver\":\"vfio-user-pci\",\"socket\":{\"type\":\"unix\",\"path\":\"PATH\"}}'\n"
		"\n"
		"  --socket PATH   the socket to listen on (must not exist); not needed when\n"
		"                  systemd passes a socket (LISTEN_FDS=1, fd 3), which wins\n"
		"  --mode OCTAL    file mode of the socket (default 0600)\n"
		"  --group NAME    group of the socket file (name or number)\n"
		"  --allow-uid LIST, --allow-gid LIST\n"
		"                  comma-separated users/groups (names or numbers) whose\n"
		"                  connections are served (SO_PEERCRED; uid or primary gid\n"
		"                  must match); others are closed and logged. Default: any\n"
		"                  peer the socket mode lets in\n"
		"  -v, --verbose   trace every command (default: one line per connection event)\n"
		"  --list          name the devices and what they are\n"
		"  -h, --help      this text\n"
		"\n"
		"The log level is info, or UVFIO_LOG (err, warn, info, debug, trace) if set;\n"
		"-v overrides both.\n");
	for (size_t i = 0; uvfio_samples[i]; i++) {
		const struct uvfio_sample *s = uvfio_samples[i];

		fprintf(out, "\n%s: %s\n", s->name, s->summary);
		if (s->options)
			fprintf(out, "%s", s->options);
	}
}

static void list(void)
{
	for (size_t i = 0; uvfio_samples[i]; i++)
		printf("%-8s %s\n", uvfio_samples[i]->name, uvfio_samples[i]->summary);
}

/* "0600" -> 0600; only permission bits. */
static int parse_mode(const char *s, mode_t *mode)
{
	char *end;
	unsigned long v;

	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || *end || v > 0777)
		return -EINVAL;
	*mode = (mode_t)v;
	return 0;
}

/* "a,b,1000" -> ids; users (is_gid false) or groups by name or number. */
static int parse_ids(const char *list, bool is_gid, uint32_t *ids, size_t *n)
{
	char buf[1024], pwbuf[4096], *save = NULL, *tok;

	if (!*list || strlen(list) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v;

		if (*n >= UVFIO_SERVER_MAX_ALLOW)
			return -E2BIG;
		errno = 0;
		v = strtoul(tok, &end, 10);
		if (!*end && !errno && v < UINT32_MAX) {
			ids[(*n)++] = (uint32_t)v;
			continue;
		}
		if (is_gid) {
			struct group gr, *r = NULL;

			if (getgrnam_r(tok, &gr, pwbuf, sizeof(pwbuf), &r) || !r)
				return -EINVAL;
			ids[(*n)++] = r->gr_gid;
		} else {
			struct passwd pw, *r = NULL;

			if (getpwnam_r(tok, &pw, pwbuf, sizeof(pwbuf), &r) || !r)
				return -EINVAL;
			ids[(*n)++] = r->pw_uid;
		}
	}
	return *n ? 0 : -EINVAL;
}

/* Matches "--name VALUE" and "--name=VALUE"; advances *i past what it used. */
static int opt_value(int argc, char **argv, int *i, const char *name,
		     const char **value)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n))
		return 0;
	if (a[n] == '=') {
		*value = a + n + 1;
		return 1;
	}
	if (a[n])
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "uvfio: serve: %s needs a value\n", name);
		return -EINVAL;
	}
	*value = argv[++*i];
	return 1;
}

/*
 * Serve options may come before or after DEVICE; after DEVICE, whatever is
 * not a serve option belongs to the device. Returns -1 for --help/--list
 * (already handled), 0, or UVFIO_EXIT_USAGE.
 */
static int parse_args(int argc, char **argv, struct serve_args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *val;
		int r;

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			usage(stdout);
			return -1;
		}
		if (!strcmp(arg, "--list")) {
			list();
			return -1;
		}
		if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
			a->verbose = true;
			continue;
		}
		r = opt_value(argc, argv, &i, "--socket", &val);
		if (r < 0)
			return UVFIO_EXIT_USAGE;
		if (r) {
			if (!*val) {
				fprintf(stderr, "uvfio: serve: empty socket path\n");
				return UVFIO_EXIT_USAGE;
			}
			a->socket = val;
			continue;
		}
		r = opt_value(argc, argv, &i, "--mode", &val);
		if (r < 0)
			return UVFIO_EXIT_USAGE;
		if (r) {
			if (parse_mode(val, &a->mode)) {
				fprintf(stderr, "uvfio: serve: bad --mode '%s' (want octal, e.g. 0660)\n",
					val);
				return UVFIO_EXIT_USAGE;
			}
			continue;
		}
		r = opt_value(argc, argv, &i, "--group", &val);
		if (r < 0)
			return UVFIO_EXIT_USAGE;
		if (r) {
			a->group = val;
			continue;
		}
		r = opt_value(argc, argv, &i, "--allow-uid", &val);
		if (r == 0)
			r = opt_value(argc, argv, &i, "--allow-gid", &val) * 2;
		if (r < 0)
			return UVFIO_EXIT_USAGE;
		if (r) {
			bool g = r == 2;

			if (parse_ids(val, g, g ? a->gids : a->uids, g ? &a->ngids : &a->nuids)) {
				fprintf(stderr, "uvfio: serve: bad --allow-%s '%s' (want names or numbers, comma-separated, at most %u)\n",
					g ? "gid" : "uid", val, UVFIO_SERVER_MAX_ALLOW);
				return UVFIO_EXIT_USAGE;
			}
			continue;
		}
		if (!a->device) {
			if (arg[0] == '-') {
				fprintf(stderr, "uvfio: serve: unknown option '%s' before DEVICE\n",
					arg);
				return UVFIO_EXIT_USAGE;
			}
			a->device = arg;
			a->dev_argv[a->dev_argc++] = argv[i];
			continue;
		}
		if (a->dev_argc >= SERVE_MAX_DEVICE_ARGS) {
			fprintf(stderr, "uvfio: serve: too many device options\n");
			return UVFIO_EXIT_USAGE;
		}
		a->dev_argv[a->dev_argc++] = argv[i];
	}
	a->dev_argv[a->dev_argc] = NULL;
	if (!a->device) {
		fprintf(stderr, "uvfio: serve: no DEVICE given (see 'uvfio serve --list')\n");
		return UVFIO_EXIT_USAGE;
	}
	if (!a->socket && !sd_listen_requested()) {
		fprintf(stderr, "uvfio: serve: --socket PATH is required (or a socket from systemd)\n");
		return UVFIO_EXIT_USAGE;
	}
	return 0;
}

static void set_log_level(bool verbose)
{
	const char *env = getenv("UVFIO_LOG");

	if (verbose)
		uvfio_log_set_level(UVFIO_LOG_TRACE);
	else if (!env || !*env)
		uvfio_log_set_level(UVFIO_LOG_INFO);
}

/* Blocks SIGINT/SIGTERM and returns a signalfd that reports them. */
static int signals_open(void)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	return fd;
}

/*
 * The server replaces a stale socket left by a previous run. A socket that
 * still accepts connections belongs to a live server: refuse, rather than
 * steal its path. Returns 0 when the path is free or stale, else -EADDRINUSE.
 */
static int socket_in_use(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret = 0;

	if (lstat(path, &st) || !S_ISSOCK(st.st_mode) ||
	    strlen(path) >= sizeof(sa.sun_path))
		return 0; /* the server reports these itself */
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		ret = -EADDRINUSE;
	close(fd);
	return ret;
}

static const char *server_error_hint(int err)
{
	switch (err) {
	case -EADDRINUSE:
		return " (a running server accepts connections there)";
	case -EEXIST:
		return " (a file that is not a socket is there)";
	case -ENOENT:
		return " (its directory does not exist)";
	case -EACCES:
		return " (no permission on its directory)";
	case -ENAMETOOLONG:
		return " (longer than a UNIX socket path may be)";
	default:
		return "";
	}
}

struct serve_dev {
	const struct uvfio_sample *sample;
	const struct uvfio_sample_dev *sd;
};

/* The sample's event fd is readable: runs inside uvfio_server_dispatch(). */
static void serve_dev_event(void *opaque)
{
	struct serve_dev *d = opaque;
	int r = d->sample->handle_event(d->sd->priv);

	if (r < 0)
		uvfio_dev_log(d->sd->dev, UVFIO_LOG_WARN, "event handler: %s", strerror(-r));
}

/* The poll loop; returns 0 after a signal, or a negative errno. */
static int serve_loop(struct uvfio_server *srv, int sigfd)
{
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = uvfio_server_fd(srv), .events = POLLIN },
		};
		int r = poll(pfd, 2, -1);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				uvfio_log(UVFIO_LOG_INFO, "serve", "%s: stopping",
					  strsignal((int)si.ssi_signo));
			uvfio_server_stop(srv);
			return 0;
		}
		if (pfd[1].revents) {
			r = uvfio_server_dispatch(srv, 0);
			if (r < 0 && r != -EINTR && r != -EAGAIN) {
				uvfio_log(UVFIO_LOG_ERR, "serve", "server failed: %s",
					  strerror(-r));
				return r;
			}
		}
	}
}

int cmd_serve(int argc, char **argv)
{
	struct serve_args a = { 0 };
	struct uvfio_server_opts opts = { 0 };
	const struct uvfio_sample *sample;
	struct uvfio_server *srv = NULL;
	struct uvfio_sample_dev sd = { 0 };
	struct serve_dev sdev = { .sd = &sd };
	int ret, sigfd, dev_fd, status = UVFIO_EXIT_FAILURE;

	/* A parent of mediated devices, not one device: cmd_mdev.c runs it. */
	if (argc > 1 && !strcmp(argv[1], "mdev"))
		return cmd_serve_mdev(argc - 1, argv + 1);

	ret = parse_args(argc, argv, &a);
	if (ret < 0)
		return UVFIO_EXIT_OK;
	if (ret)
		return ret;
	sample = uvfio_sample_find(a.device);
	if (!sample) {
		fprintf(stderr, "uvfio: serve: unknown device '%s' (see 'uvfio serve --list')\n",
			a.device);
		return UVFIO_EXIT_USAGE;
	}
	sdev.sample = sample;
	set_log_level(a.verbose);
	/* A client that vanishes mid-reply must not kill the server. */
	signal(SIGPIPE, SIG_IGN);

	sigfd = signals_open();
	if (sigfd < 0) {
		fprintf(stderr, "uvfio: serve: signalfd: %s\n", strerror(-sigfd));
		return UVFIO_EXIT_FAILURE;
	}
	ret = sample->create(a.dev_argc, a.dev_argv, &sd);
	if (ret) {
		if (ret == -EINVAL) {
			fprintf(stderr, "uvfio: serve: bad options for '%s' (see 'uvfio serve --help')\n",
				a.device);
			status = UVFIO_EXIT_USAGE;
		} else {
			fprintf(stderr, "uvfio: serve: cannot create '%s': %s\n",
				a.device, strerror(-ret));
		}
		goto out_sigfd;
	}
	ret = uvfio_device_register(sd.dev);
	if (ret) {
		fprintf(stderr, "uvfio: serve: cannot register '%s': %s\n", a.device,
			strerror(-ret));
		goto out_destroy;
	}
	opts.mode = a.mode;
	opts.listen_fd = -1;
	opts.group = a.group;
	opts.allow_uids = a.uids;
	opts.n_allow_uids = a.nuids;
	opts.allow_gids = a.gids;
	opts.n_allow_gids = a.ngids;
	if (sd_listen_requested()) { /* systemd socket activation: --socket is ignored */
		opts.listen_fd = sd_listen_fd();
		if (opts.listen_fd < 0) {
			fprintf(stderr, "uvfio: serve: systemd socket (LISTEN_FDS): %s\n",
				opts.listen_fd == -EINVAL ? "want exactly one socket"
							  : "fd 3 is not a listening UNIX stream socket");
			goto out_unregister;
		}
		if (a.group) /* the socket unit's SocketGroup= says that */
			fprintf(stderr, "uvfio: serve: --group ignored for a systemd socket\n");
		opts.group = NULL;
		a.socket = NULL;
	}
	ret = a.socket ? socket_in_use(a.socket) : 0;
	if (!ret)
		ret = uvfio_server_create(sd.dev, a.socket, &opts, &srv);
	if (ret) {
		if (!a.socket) {
			fprintf(stderr, "uvfio: serve: cannot serve on the systemd socket: %s\n",
				strerror(-ret));
			goto out_unregister;
		}
		fprintf(stderr, "uvfio: serve: cannot listen on '%s': %s%s\n", a.socket,
			strerror(-ret), server_error_hint(ret));
		goto out_unregister;
	}
	dev_fd = sample->event_fd && sample->handle_event ? sample->event_fd(sd.priv) : -1;
	if (dev_fd >= 0) {
		ret = uvfio_server_add_fd(srv, dev_fd, serve_dev_event, &sdev);
		if (ret) {
			fprintf(stderr, "uvfio: serve: cannot watch the device's events: %s\n",
				strerror(-ret));
			goto out_server;
		}
	}
	if (sample->attach) {
		ret = sample->attach(sd.priv, srv, a.socket);
		if (ret) {
			fprintf(stderr, "uvfio: serve: %s: %s\n", a.device, strerror(-ret));
			goto out_fd;
		}
	}
	ret = serve_loop(srv, sigfd);
	if (!ret)
		status = UVFIO_EXIT_OK;
	if (sample->detach)
		sample->detach(sd.priv);
out_fd:
	if (dev_fd >= 0)
		uvfio_server_remove_fd(srv, dev_fd);
out_server:
	uvfio_server_destroy(srv);
out_unregister:
	uvfio_device_unregister(sd.dev);
out_destroy:
	sample->destroy(sd.priv);
out_sigfd:
	close(sigfd);
	return status;
}
