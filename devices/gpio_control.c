/* SPDX-License-Identifier: MIT */
/*
 * The gpio card's control socket (protocol in gpio_control.h). One epoll fd
 * covers the listening socket and the connections, so a serve loop polls a
 * single fd for all of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <uvfio/log.h>

#include "devices/gpio_control.h"

struct gpio_client {
	int fd; /* -1: slot free */
	size_t len;
	char buf[GPIO_CONTROL_LINE_MAX];
};

struct gpio_control {
	struct uvfio_device *dev;
	const struct gpio_control_ops *ops;
	void *opaque;
	char *path;
	int listen_fd;
	int epoll_fd;
	struct gpio_client clients[GPIO_CONTROL_MAX_CLIENTS];
};

/* Parses a 16-bit value in C notation; the whole token must be a number. */
static int parse_u16(const char *s, uint16_t *v)
{
	char *end;
	unsigned long n;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	n = strtoul(s, &end, 0);
	if (errno || *end || n > 0xffff)
		return -EINVAL;
	*v = (uint16_t)n;
	return 0;
}

void gpio_control_exec(const struct gpio_control_ops *ops, void *opaque,
		       const char *line, char *reply, size_t reply_len)
{
	char copy[GPIO_CONTROL_LINE_MAX];
	char *save, *cmd, *arg;
	uint16_t v;

	snprintf(copy, sizeof(copy), "%s", line);
	cmd = strtok_r(copy, " \t", &save);
	arg = cmd ? strtok_r(NULL, " \t", &save) : NULL;
	if (!cmd) {
		snprintf(reply, reply_len, "error: empty request (try 'help')");
		return;
	}
	if (arg && strtok_r(NULL, " \t", &save)) {
		snprintf(reply, reply_len, "error: too many arguments");
		return;
	}
	if (!strcmp(cmd, "inputs")) {
		if (!arg) {
			snprintf(reply, reply_len, "0x%04x", ops->get_inputs(opaque));
			return;
		}
		if (parse_u16(arg, &v)) {
			snprintf(reply, reply_len, "error: '%.32s' is not a 16-bit value", arg);
			return;
		}
		ops->set_inputs(opaque, v);
		snprintf(reply, reply_len, "ok");
		return;
	}
	if (!strcmp(cmd, "outputs") || !strcmp(cmd, "help")) {
		if (arg)
			snprintf(reply, reply_len, "error: '%s' takes no argument", cmd);
		else if (cmd[0] == 'o')
			snprintf(reply, reply_len, "0x%04x", ops->get_outputs(opaque));
		else
			snprintf(reply, reply_len, "commands: inputs, inputs VALUE, outputs, help");
		return;
	}
	snprintf(reply, reply_len, "error: unknown command '%.32s' (try 'help')", cmd);
}

static void client_drop(struct gpio_control *ctl, struct gpio_client *c)
{
	epoll_ctl(ctl->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/* Replies are a few bytes: one send, and a client that can't take them goes. */
static int client_reply(struct gpio_control *ctl, struct gpio_client *c,
			const char *msg)
{
	char line[GPIO_CONTROL_LINE_MAX + 1];
	int n = snprintf(line, sizeof(line), "%.*s\n", GPIO_CONTROL_LINE_MAX - 1, msg);

	if (n < 0)
		return -EINVAL;
	if (send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
		uvfio_dev_log(ctl->dev, UVFIO_LOG_WARN,
			      "control: client does not take replies, closing it");
		client_drop(ctl, c);
		return -EPIPE;
	}
	return 0;
}

/* Answers every complete line in the client's buffer. */
static void client_lines(struct gpio_control *ctl, struct gpio_client *c)
{
	char reply[GPIO_CONTROL_LINE_MAX];
	char *nl;

	while (c->fd >= 0 && (nl = memchr(c->buf, '\n', c->len))) {
		size_t used = (size_t)(nl - c->buf) + 1;

		*nl = '\0';
		if (nl > c->buf && nl[-1] == '\r')
			nl[-1] = '\0';
		gpio_control_exec(ctl->ops, ctl->opaque, c->buf, reply, sizeof(reply));
		uvfio_dev_log(ctl->dev, UVFIO_LOG_DEBUG, "control: '%s' -> '%s'",
			      c->buf, reply);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		client_reply(ctl, c, reply);
	}
}

static void client_read(struct gpio_control *ctl, struct gpio_client *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len,
			 MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		uvfio_dev_log(ctl->dev, UVFIO_LOG_DEBUG, "control: client left");
		client_drop(ctl, c);
		return;
	}
	c->len += (size_t)n;
	client_lines(ctl, c);
	if (c->fd >= 0 && c->len == sizeof(c->buf)) {
		client_reply(ctl, c, "error: line too long");
		if (c->fd >= 0)
			client_drop(ctl, c);
	}
}

static void accept_clients(struct gpio_control *ctl)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct gpio_client *c = NULL;
		int fd = accept4(ctl->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return; /* EAGAIN: no more; anything else: try next time */
		for (size_t i = 0; i < GPIO_CONTROL_MAX_CLIENTS; i++)
			if (ctl->clients[i].fd < 0) {
				c = &ctl->clients[i];
				break;
			}
		if (!c) {
			static const char busy[] = "error: too many connections\n";

			send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		ev.data.ptr = c;
		if (epoll_ctl(ctl->epoll_fd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = 0;
		uvfio_dev_log(ctl->dev, UVFIO_LOG_DEBUG, "control: client connected");
	}
}

int gpio_control_handle(struct gpio_control *ctl)
{
	struct epoll_event evs[GPIO_CONTROL_MAX_CLIENTS + 1];
	int n = epoll_wait(ctl->epoll_fd, evs, GPIO_CONTROL_MAX_CLIENTS + 1, 0);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct gpio_client *c = evs[i].data.ptr;

		if (!c)
			accept_clients(ctl);
		else if (c->fd >= 0)
			client_read(ctl, c);
	}
	return 0;
}

int gpio_control_fd(struct gpio_control *ctl)
{
	return ctl->epoll_fd;
}

int gpio_control_open(const char *path, struct uvfio_device *dev,
		      const struct gpio_control_ops *ops, void *opaque,
		      struct gpio_control **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct gpio_control *ctl;
	int ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);

	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->dev = dev;
	ctl->ops = ops;
	ctl->opaque = opaque;
	for (size_t i = 0; i < GPIO_CONTROL_MAX_CLIENTS; i++)
		ctl->clients[i].fd = -1;
	ctl->path = strdup(path);
	if (!ctl->path) {
		ret = -ENOMEM;
		goto err_free;
	}
	ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->listen_fd < 0) {
		ret = -errno;
		goto err_path;
	}
	/* bind() refuses an existing path: never take over someone's file. */
	if (bind(ctl->listen_fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		goto err_sock;
	}
	/* Before listen(), nobody can connect while the mode is still wide. */
	if (chmod(path, 0600) || listen(ctl->listen_fd, 8)) {
		ret = -errno;
		goto err_unlink;
	}
	ctl->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (ctl->epoll_fd < 0) {
		ret = -errno;
		goto err_unlink;
	}
	if (epoll_ctl(ctl->epoll_fd, EPOLL_CTL_ADD, ctl->listen_fd, &ev)) {
		ret = -errno;
		goto err_epoll;
	}
	uvfio_dev_log(dev, UVFIO_LOG_INFO, "control socket on %s", path);
	*out = ctl;
	return 0;

err_epoll:
	close(ctl->epoll_fd);
err_unlink:
	unlink(path);
err_sock:
	close(ctl->listen_fd);
err_path:
	free(ctl->path);
err_free:
	free(ctl);
	return ret;
}

void gpio_control_close(struct gpio_control *ctl)
{
	if (!ctl)
		return;
	for (size_t i = 0; i < GPIO_CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i].fd >= 0)
			close(ctl->clients[i].fd);
	close(ctl->epoll_fd);
	close(ctl->listen_fd);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}
