/* SPDX-License-Identifier: MIT */
/* systemd socket activation: take the listening socket passed as fd 3. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sd_listen.h"

static bool pid_is_ours(void)
{
	const char *s = getenv("LISTEN_PID");
	char *end;
	long pid;

	if (!s || !*s)
		return false;
	errno = 0;
	pid = strtol(s, &end, 10);
	return !errno && !*end && pid == (long)getpid();
}

bool sd_listen_requested(void)
{
	return pid_is_ours() && getenv("LISTEN_FDS");
}

static int check_socket(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);

	if (fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) || v != SOCK_STREAM)
		return -ENOTSOCK;
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) || !v)
		return -ENOTSOCK;
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) || ss.ss_family != AF_UNIX)
		return -ENOTSOCK;
	return 0;
}

int sd_listen_fd(void)
{
	const char *n = getenv("LISTEN_FDS");
	bool ours = pid_is_ours();
	int ret;

	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (!ours || !n)
		return -ENOENT;
	if (strcmp(n, "1"))
		return -EINVAL;
	ret = check_socket(SD_LISTEN_FDS_START);
	if (ret)
		return ret;
	fcntl(SD_LISTEN_FDS_START, F_SETFD, FD_CLOEXEC);
	return SD_LISTEN_FDS_START;
}
