/* SPDX-License-Identifier: MIT */
/*
 * The server side of the control socket (protocol: include/uvfio/mdev.h).
 * Connections are non-blocking and buffered per connection, so a slow or
 * silent control client never holds up the instances' sockets; a reply is
 * small and written out with a short bounded wait.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bus/mdev/mdev_internal.h"

#define CTL_MAX_CONNS 16
#define CTL_MAX_ARGS 4
#define CTL_WRITE_WAIT_MS 1000

/* A growable reply; on allocation failure it stays marked failed. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	size_t need;

	if (b->failed)
		return;
	if (__builtin_add_overflow(b->len, n + 1, &need)) {
		b->failed = true;
		return;
	}
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *np;

		while (cap < need)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->failed = true;
		return;
	}
	sb_put(b, tmp, (size_t)n);
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void sb_json_str(struct sbuf *b, const char *s)
{
	sb_put(b, "\"", 1);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };

			sb_put(b, esc, 2);
		} else if (c == '\t' || c == '\n' || c == '\r') {
			char esc[2] = { '\\', c == '\t' ? 't' : c == '\n' ? 'n' : 'r' };

			sb_put(b, esc, 2);
		} else if (c < 0x20) {
			sb_printf(b, "\\u%04x", c);
		} else {
			sb_put(b, (const char *)&c, 1);
		}
	}
	sb_put(b, "\"", 1);
}

/* Text fields are tab separated: a tab or newline inside one would split it. */
static void sb_text_field(struct sbuf *b, const char *s)
{
	if (!s || !*s) {
		sb_put(b, "-", 1);
		return;
	}
	for (; *s; s++)
		sb_put(b, (*s == '\t' || *s == '\n') ? " " : s, 1);
}

static void reply_types(struct uvfio_mdev_parent *p, struct sbuf *b, bool json)
{
	if (json)
		sb_put(b, "[", 1);
	for (unsigned int i = 0; i < p->info.num_types; i++) {
		const struct uvfio_mdev_type_info *t = &p->info.types[i];
		unsigned int avail = mdev_available_locked(p, i);

		if (json) {
			sb_put(b, i ? ",{\"id\":" : "{\"id\":", i ? 7 : 6);
			sb_json_str(b, p->type_ids[i]);
			sb_put(b, ",\"name\":", 8);
			sb_json_str(b, t->name);
			sb_put(b, ",\"description\":", 15);
			sb_json_str(b, t->description);
			sb_put(b, ",\"device_api\":", 14);
			sb_json_str(b, t->device_api);
			sb_printf(b, ",\"available_instances\":%u}", avail);
		} else {
			sb_text_field(b, p->type_ids[i]);
			sb_printf(b, "\t%u\t", avail);
			sb_text_field(b, t->device_api);
			sb_put(b, "\t", 1);
			sb_text_field(b, t->name);
			sb_put(b, "\t", 1);
			sb_text_field(b, t->description);
			sb_put(b, "\n", 1);
		}
	}
	if (json)
		sb_put(b, "]\n", 2);
}

static void put_instance(struct sbuf *b, const struct uvfio_mdev_instance_desc *d, bool json)
{
	if (json) {
		sb_put(b, "{\"uuid\":", 8);
		sb_json_str(b, d->uuid);
		sb_put(b, ",\"type\":", 8);
		sb_json_str(b, d->type_id);
		sb_put(b, ",\"socket\":", 10);
		sb_json_str(b, d->socket);
		sb_put(b, ",\"info\":", 8);
		sb_json_str(b, d->info);
		sb_put(b, "}", 1);
	} else {
		sb_text_field(b, d->uuid);
		sb_put(b, "\t", 1);
		sb_text_field(b, d->type_id);
		sb_put(b, "\t", 1);
		sb_text_field(b, d->socket);
		sb_put(b, "\t", 1);
		sb_text_field(b, d->info);
		sb_put(b, "\n", 1);
	}
}

static void reply_list(struct uvfio_mdev_parent *p, struct sbuf *b, bool json)
{
	struct uvfio_mdev_instance_desc d;

	if (json)
		sb_put(b, "[", 1);
	for (unsigned int i = 0; uvfio_mdev_instance_get(p, i, &d) == 0; i++) {
		if (json && i)
			sb_put(b, ",", 1);
		put_instance(b, &d, json);
	}
	if (json)
		sb_put(b, "]\n", 2);
}

static int reply_create(struct uvfio_mdev_parent *p, struct sbuf *b, const char *type,
			const char *uuid, bool json)
{
	struct uvfio_mdev_instance_desc d;
	char id[UVFIO_MDEV_UUID_LEN + 1];
	int ret;

	ret = mdev_create_locked(p, type, uuid, id, NULL);
	if (ret)
		return ret;
	/* The new instance is the last one. */
	ret = uvfio_mdev_instance_get(p, p->ninst - 1, &d);
	if (ret)
		return ret;
	put_instance(b, &d, json);
	if (json)
		sb_put(b, "\n", 1);
	return 0;
}

/* One request line -> data lines + status line in b. */
static void handle_line(struct uvfio_mdev_parent *p, char *line, struct sbuf *b)
{
	char *argv[CTL_MAX_ARGS + 1];
	int argc = 0, ret = 0;
	bool json = false;
	char *save = NULL, *tok;

	for (tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
		if (!strcmp(tok, "--json")) {
			json = true;
			continue;
		}
		if (argc == CTL_MAX_ARGS) {
			ret = -E2BIG;
			goto status;
		}
		argv[argc++] = tok;
	}
	argv[argc] = NULL;

	if (!argc)
		ret = -EINVAL;
	else if (!strcmp(argv[0], "types") && argc == 1)
		reply_types(p, b, json);
	else if (!strcmp(argv[0], "list") && argc == 1)
		reply_list(p, b, json);
	else if (!strcmp(argv[0], "create") && (argc == 2 || argc == 3))
		ret = reply_create(p, b, argv[1], argc == 3 ? argv[2] : NULL, json);
	else if (!strcmp(argv[0], "remove") && argc == 2)
		ret = mdev_remove_locked(p, argv[1]);
	else
		ret = -EINVAL;
status:
	if (b->failed)
		ret = -ENOMEM;
	if (ret) {
		b->len = 0;
		b->failed = false;
		sb_printf(b, "error %d %s\n", -ret, strerror(-ret));
	} else {
		sb_put(b, "ok\n", 3);
	}
}

static void conn_close(struct uvfio_mdev_parent *p, struct mdev_ctl_conn *c)
{
	struct mdev_ctl_conn **pp;

	for (pp = &p->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	mdev_loop_del(p, c->fd);
	close(c->fd);
	p->nconns--;
	free(c);
}

/* Write all of b, waiting a little for a full socket. */
static int conn_send(int fd, const struct sbuf *b)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = send(fd, b->p + off, b->len - off, MSG_NOSIGNAL);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			if (poll(&pfd, 1, CTL_WRITE_WAIT_MS) == 1)
				continue;
			return -ETIMEDOUT;
		}
		return n < 0 ? -errno : -EPIPE;
	}
	return 0;
}

void mdev_ctl_serve(struct uvfio_mdev_parent *p, uint64_t token)
{
	struct mdev_ctl_conn *c;
	struct sbuf b = { 0 };
	ssize_t n;
	char *nl;

	for (c = p->conns; c && c->token != token; c = c->next)
		;
	if (!c)
		return;
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(p, c);
		return;
	}
	c->len += (size_t)n;
	while ((nl = memchr(c->buf, '\n', c->len))) {
		size_t used = (size_t)(nl - c->buf) + 1;

		*nl = '\0';
		b.len = 0;
		handle_line(p, c->buf, &b);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		if (b.failed || conn_send(c->fd, &b)) {
			conn_close(p, c);
			free(b.p);
			return;
		}
	}
	if (c->len == sizeof(c->buf)) {
		/* No newline in a full buffer: the line is too long. */
		b.len = 0;
		sb_printf(&b, "error %d %s\n", EINVAL, "request line too long");
		conn_send(c->fd, &b);
		conn_close(p, c);
	}
	free(b.p);
}

void mdev_ctl_accept(struct uvfio_mdev_parent *p)
{
	struct mdev_ctl_conn *c;
	int fd;

	fd = accept4(p->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (p->nconns >= CTL_MAX_CONNS) {
		uvfio_log(UVFIO_LOG_WARN, p->info.name, "control: too many connections");
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->token = MDEV_TOKEN(MDEV_EV_CTL_CONN, ++p->serial);
	if (mdev_loop_add(p, fd, c->token)) {
		close(fd);
		free(c);
		return;
	}
	c->next = p->conns;
	p->conns = c;
	p->nconns++;
}

int uvfio_mdev_control_listen(struct uvfio_mdev_parent *p, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (!p || !path || strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	if (p->ctl_fd >= 0) {
		ret = -EBUSY;
		goto out;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto err_close;
	}
	/* Whoever can connect can create and remove devices: owner only. */
	if (chmod(path, 0600) < 0 || listen(fd, 8) < 0) {
		ret = -errno;
		goto err_unlink;
	}
	p->ctl_path = strdup(path);
	if (!p->ctl_path) {
		ret = -ENOMEM;
		goto err_unlink;
	}
	ret = mdev_loop_add(p, fd, MDEV_TOKEN(MDEV_EV_CTL_LISTEN, 0));
	if (ret)
		goto err_path;
	p->ctl_fd = fd;
	pthread_mutex_unlock(&p->lock);
	return 0;

err_path:
	free(p->ctl_path);
	p->ctl_path = NULL;
err_unlink:
	unlink(path);
err_close:
	close(fd);
out:
	pthread_mutex_unlock(&p->lock);
	return ret;
}

void mdev_ctl_close_all(struct uvfio_mdev_parent *p)
{
	while (p->conns)
		conn_close(p, p->conns);
	if (p->ctl_fd >= 0) {
		mdev_loop_del(p, p->ctl_fd);
		close(p->ctl_fd);
		unlink(p->ctl_path);
	}
	p->ctl_fd = -1;
	free(p->ctl_path);
	p->ctl_path = NULL;
}
