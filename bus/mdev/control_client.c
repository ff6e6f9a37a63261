/* SPDX-License-Identifier: MIT */
/*
 * The client side of the control socket: one request, its reply's data
 * lines, and its status line turned into 0 or -errno.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <uvfio/mdev.h>

#define CTL_REPLY_MAX (1u << 20)
#define CTL_TIMEOUT_MS 5000

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/* The status line is the last complete line of the reply. */
static const char *last_line(const char *buf, size_t len)
{
	size_t i;

	if (len < 2 || buf[len - 1] != '\n')
		return NULL;
	for (i = len - 1; i > 0 && buf[i - 1] != '\n'; i--)
		;
	return buf + i;
}

static bool is_status(const char *line)
{
	return !strcmp(line, "ok\n") || !strncmp(line, "error ", 6);
}

int uvfio_mdev_control_request(const char *path, const char *request,
			       char *out, size_t out_len)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, req_len;
	const char *st;
	int fd, ret;

	if (!path || !request)
		return -EINVAL;
	req_len = strlen(request);
	if (req_len + 1 > UVFIO_MDEV_CONTROL_LINE_MAX || memchr(request, '\n', req_len))
		return -EINVAL;
	fd = ctl_connect(path);
	if (fd < 0)
		return fd;
	if (send(fd, request, req_len, MSG_NOSIGNAL) != (ssize_t)req_len ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		st = last_line(buf, len);
		if (st && is_status(st))
			break;
		if (len + 1 >= cap) {
			char *nb;

			if (cap >= CTL_REPLY_MAX) {
				ret = -E2BIG;
				goto out;
			}
			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				ret = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		if (poll(&pfd, 1, CTL_TIMEOUT_MS) != 1) {
			ret = -ETIMEDOUT;
			goto out;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EPROTO;
			goto out;
		}
		len += (size_t)n;
		buf[len] = '\0';
	}
	if (out && out_len) {
		size_t data = (size_t)(st - buf);

		if (data >= out_len)
			data = out_len - 1;
		memcpy(out, buf, data);
		out[data] = '\0';
	}
	if (!strcmp(st, "ok\n")) {
		ret = 0;
	} else {
		char *end;
		long e = strtol(st + 6, &end, 10);

		ret = (end != st + 6 && e > 0 && e < 4096) ? -(int)e : -EPROTO;
	}
out:
	free(buf);
	close(fd);
	return ret;
}
