/* SPDX-License-Identifier: MIT */
/*
 * Raw vfio-user client helpers for the cross-process tests: hand-built
 * messages over a real socket, no client library, so the server is tested
 * on the wire. Header-only; every helper asserts through cmocka.
 */
#ifndef UVFIO_TESTS_VU_RAW_H
#define UVFIO_TESTS_VU_RAW_H

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "user/proto.h"

struct raw_server {
	pid_t pid;
	char dir[64];
	char path[128];
};

static const char *server_exe __attribute__((unused));
/* server_exe is the `uvfio` CLI: run `uvfio serve testdev --socket PATH`. */
static bool serve_mode __attribute__((unused));

static inline void raw_server_start(struct raw_server *s, const char *max_maps,
				    const char *timeout_ms)
{
	int pfd[2];
	char line[16] = { 0 };
	ssize_t n;

	snprintf(s->dir, sizeof(s->dir), "/tmp/uvfio-proc-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/sock", s->dir);
	assert_int_equal(pipe(pfd), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		if (serve_mode)
			execl(server_exe, server_exe, "serve", "testdev", "--socket", s->path,
			      (char *)NULL);
		else
			execl(server_exe, server_exe, s->path, max_maps ? max_maps : "0",
			      timeout_ms ? timeout_ms : "0", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	if (serve_mode) {
		/* `uvfio serve` prints nothing: wait for its socket */
		struct stat st;

		close(pfd[0]);
		for (int i = 0; i < 500 && stat(s->path, &st); i++)
			usleep(10000);
		assert_int_equal(stat(s->path, &st), 0);
		return;
	}
	n = read(pfd[0], line, sizeof(line) - 1);
	close(pfd[0]);
	assert_true(n > 0);
	assert_string_equal(line, "ready\n");
}

static inline int raw_server_stop(struct raw_server *s)
{
	int st = 0;

	kill(s->pid, SIGTERM);
	waitpid(s->pid, &st, 0);
	unlink(s->path);
	rmdir(s->dir);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Teardown after a failed assertion: the server may be wedged, so no SIGTERM handshake. */
static inline void raw_server_kill(struct raw_server *s)
{
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	unlink(s->path);
	rmdir(s->dir);
}

static inline int raw_fd_count(pid_t pid)
{
	char p[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
	d = opendir(p);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * The server's fd count once it reaches `expect` (a dropped client's fds are
 * closed asynchronously), or the last count seen after 3 s.
 */
static inline int raw_settled_fds(const struct raw_server *s, int expect)
{
	int n = -1;

	for (int i = 0; i < 300; i++) {
		n = raw_fd_count(s->pid);
		if (n == expect)
			break;
		usleep(10000);
	}
	return n;
}

/* Wait until the server holds exactly `idle_fds` fds: its last client is gone. */
static inline void raw_wait_idle(const struct raw_server *s, int idle_fds)
{
	int n = raw_settled_fds(s, idle_fds);

	if (n != idle_fds)
		fail_msg("server holds %d fds, %d when idle", n, idle_fds);
}

static inline int raw_connect(const struct raw_server *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, s->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static inline void raw_send(int fd, const void *buf, size_t len, const int *fds,
			    unsigned int nfds)
{
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * 253)];
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.b;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	assert_int_equal(n, (ssize_t)len);
}

/* Send a message: header built here, payload as given. */
static inline void raw_cmd(int fd, uint16_t id, uint16_t cmd, uint32_t flags,
			   const void *payload, size_t len, const int *fds,
			   unsigned int nfds)
{
	uint8_t *buf = malloc(sizeof(struct vfio_user_header) + len);
	struct vfio_user_header h = {
		.msg_id = id, .cmd = cmd,
		.msg_size = (uint32_t)(sizeof(h) + len), .flags = flags,
	};

	assert_non_null(buf);
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), payload, len);
	raw_send(fd, buf, sizeof(h) + len, fds, nfds);
	free(buf);
}

/* Read exactly len bytes within timeout_ms; returns 0, or -1 on EOF/timeout. */
static inline int raw_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	uint8_t *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, timeout_ms) != 1)
			return -1;
		n = read(fd, p, len);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct raw_msg {
	struct vfio_user_header h;
	uint8_t p[(1u << 20) + 128];
	size_t len;
	int fds[16];
	unsigned int nfds;
};

/* Receive one message (header with its fds, then the payload). 0 or -1. */
static inline int raw_recv(int fd, struct raw_msg *m, int timeout_ms)
{
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * 16)];
	} ctl;
	struct iovec iov = { .iov_base = &m->h, .iov_len = sizeof(m->h) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	m->nfds = 0;
	m->len = 0;
	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_type != SCM_RIGHTS)
			continue;
		m->nfds = (unsigned int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(m->fds, CMSG_DATA(cm), m->nfds * sizeof(int));
	}
	if (n < (ssize_t)sizeof(m->h) &&
	    raw_read_full(fd, (uint8_t *)&m->h + n, sizeof(m->h) - (size_t)n, timeout_ms))
		return -1;
	if (m->h.msg_size < sizeof(m->h) || m->h.msg_size - sizeof(m->h) > sizeof(m->p))
		return -1;
	m->len = m->h.msg_size - sizeof(m->h);
	return m->len ? raw_read_full(fd, m->p, m->len, timeout_ms) : 0;
}

static inline void raw_close_fds(struct raw_msg *m)
{
	for (unsigned int i = 0; i < m->nfds; i++)
		close(m->fds[i]);
	m->nfds = 0;
}

/* Whether the peer closed the connection (EOF) within timeout_ms. */
static inline bool raw_closed(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;

	for (;;) {
		if (poll(&pfd, 1, timeout_ms) != 1)
			return false;
		ssize_t n = recv(fd, &c, 1, 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (n < 0)
			return false;
		/* skip anything pending (e.g. an error reply) */
	}
}

#endif
