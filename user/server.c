/* SPDX-License-Identifier: MIT */
/*
 * The vfio-user server: a listening UNIX socket, one client at a time, an
 * epoll set that an application can embed (uvfio_server_fd + dispatch) or
 * run (uvfio_server_run), a stop eventfd that a signal handler may poke, a
 * wake eventfd for messages left buffered after a DMA, and the fds of
 * device work (uvfio_server_add_fd) whose callbacks run inside dispatch.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <uvfio/log.h>

#include "user/server_priv.h"

/* epoll data: one of these, or (any larger value) a struct vu_fd_cb *. */
enum { EV_LISTEN = 1, EV_STOP = 2, EV_CONN = 3, EV_WAKE = 4, EV_MAX_TAG = 4 };

#define DEFAULT_MSG_TIMEOUT_MS 5000u

static const char *srv_name(struct uvfio_server *srv)
{
	return uvfio_device_name(srv->dev);
}

static int ep_add_events(int epfd, int fd, uint64_t tag, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int ep_add(int epfd, int fd, uint64_t tag)
{
	return ep_add_events(epfd, fd, tag, EPOLLIN);
}

/*
 * Bind + listen at path with `mode` (and group `gid` unless -1), whatever
 * the process umask is. The socket is bound and listening under a temporary
 * name first and renamed into place, so whoever sees `path` can connect (no
 * window between bind and listen in which a client waiting for the file
 * would be refused).
 */
static int listen_path(const char *path, mode_t mode, gid_t gid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	/* A stale socket of a previous run may be replaced; a live one (a
	 * server still accepts on it) or anything that is no socket not. */
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		/* Non-blocking: a live server's full backlog gives EAGAIN, not a hang. */
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -errno;
		ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
		close(fd);
		if (!ret || ret == -EAGAIN)
			return -EADDRINUSE;
	}
	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.%d~", path, (int)getpid()) >=
	    (int)sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(sa.sun_path); /* a leftover of a crashed run with our pid */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		goto err_close;
	}
	/* Before listen(): nobody can connect while the umask's mode applies. */
	if ((gid != (gid_t)-1 && chown(sa.sun_path, (uid_t)-1, gid)) ||
	    chmod(sa.sun_path, mode) || listen(fd, 4) || rename(sa.sun_path, path)) {
		ret = -errno;
		goto err_unlink;
	}
	return fd;

err_unlink:
	unlink(sa.sun_path);
err_close:
	close(fd);
	return ret;
}

/* A group by name or number; -EINVAL if there is no such group. */
static int resolve_group(const char *name, gid_t *gid)
{
	struct group gr, *res = NULL;
	char buf[4096], *end;
	unsigned long v;

	errno = 0;
	v = strtoul(name, &end, 10);
	if (*name && !*end && !errno && v < (gid_t)-1) {
		*gid = (gid_t)v;
		return 0;
	}
	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) || !res)
		return -EINVAL;
	*gid = res->gr_gid;
	return 0;
}

/* SO_PEERCRED against the allow lists; true: serve this peer. */
static bool peer_allowed(struct uvfio_server *srv, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (!srv->n_allow_uids && !srv->n_allow_gids)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len)) {
		uvfio_log(UVFIO_LOG_WARN, srv_name(srv), "refused a client: SO_PEERCRED: %s",
			  strerror(errno));
		return false;
	}
	for (size_t i = 0; i < srv->n_allow_uids; i++)
		if (srv->allow_uids[i] == cr.uid)
			return true;
	for (size_t i = 0; i < srv->n_allow_gids; i++)
		if (srv->allow_gids[i] == cr.gid)
			return true;
	uvfio_log(UVFIO_LOG_WARN, srv_name(srv),
		  "refused a client: uid %u gid %u pid %d not allowed",
		  (unsigned int)cr.uid, (unsigned int)cr.gid, (int)cr.pid);
	return false;
}

int uvfio_server_create(struct uvfio_device *dev, const char *path,
			const struct uvfio_server_opts *opts,
			struct uvfio_server **out)
{
	struct uvfio_server_opts o = { .listen_fd = -1 };
	struct uvfio_server *srv;

	if (!dev || !out)
		return -EINVAL;
	if (opts)
		o = *opts;
	if (!path && o.listen_fd < 0)
		return -EINVAL;
	gid_t gid = (gid_t)-1;
	int ret;

	if (o.max_data_xfer_size > VFIO_USER_MAX_MAX_DATA_XFER)
		return -EINVAL;
	if (o.n_allow_uids > UVFIO_SERVER_MAX_ALLOW || o.n_allow_gids > UVFIO_SERVER_MAX_ALLOW ||
	    (o.n_allow_uids && !o.allow_uids) || (o.n_allow_gids && !o.allow_gids))
		return -EINVAL;
	if (o.group && (!path || resolve_group(o.group, &gid)))
		return -EINVAL; /* an inherited socket's group is its creator's */

	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->dev = dev;
	srv->listen_fd = -1;
	srv->epfd = -1;
	srv->stop_efd = -1;
	srv->wake_efd = -1;
	/* The creating thread, until a dispatch says otherwise. */
	srv->owner = pthread_self();
	srv->max_dma_maps = o.max_dma_maps ? o.max_dma_maps : VFIO_USER_DEFAULT_MAX_DMA_MAPS;
	srv->max_xfer = o.max_data_xfer_size ? o.max_data_xfer_size
					     : VFIO_USER_DEFAULT_MAX_DATA_XFER;
	srv->msg_timeout_ms = o.msg_timeout_ms ? o.msg_timeout_ms : DEFAULT_MSG_TIMEOUT_MS;
	srv->max_msg_size = (uint32_t)VFIO_USER_MAX_MSG_SIZE(srv->max_xfer);
	srv->n_allow_uids = o.n_allow_uids;
	srv->n_allow_gids = o.n_allow_gids;
	if (o.n_allow_uids)
		memcpy(srv->allow_uids, o.allow_uids, o.n_allow_uids * sizeof(uint32_t));
	if (o.n_allow_gids)
		memcpy(srv->allow_gids, o.allow_gids, o.n_allow_gids * sizeof(uint32_t));

	if (o.listen_fd >= 0) {
		srv->listen_fd = o.listen_fd;
		if (fcntl(srv->listen_fd, F_SETFL,
			  fcntl(srv->listen_fd, F_GETFL) | O_NONBLOCK)) {
			ret = -errno;
			goto err;
		}
	} else {
		srv->path = strdup(path);
		if (!srv->path) {
			ret = -ENOMEM;
			goto err;
		}
		ret = listen_path(path, o.mode ? o.mode : 0600, gid);
		if (ret < 0)
			goto err;
		srv->listen_fd = ret;
	}
	srv->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	srv->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->stop_efd < 0 || srv->wake_efd < 0 || srv->epfd < 0) {
		ret = -errno;
		goto err_unlink;
	}
	ret = ep_add(srv->epfd, srv->listen_fd, EV_LISTEN);
	if (!ret)
		ret = ep_add(srv->epfd, srv->stop_efd, EV_STOP);
	if (!ret)
		ret = ep_add(srv->epfd, srv->wake_efd, EV_WAKE);
	if (ret)
		goto err_unlink;
	uvfio_log(UVFIO_LOG_INFO, srv_name(srv), "serving on %s", path ? path : "inherited fd");
	*out = srv;
	return 0;

err_unlink:
	if (srv->path)
		unlink(srv->path);
err:
	if (srv->epfd >= 0)
		close(srv->epfd);
	if (srv->stop_efd >= 0)
		close(srv->stop_efd);
	if (srv->wake_efd >= 0)
		close(srv->wake_efd);
	/* An inherited fd stays the caller's when we fail. */
	if (srv->listen_fd >= 0 && srv->listen_fd != o.listen_fd)
		close(srv->listen_fd);
	free(srv->path);
	free(srv);
	return ret;
}

static void drop_conn(struct uvfio_server *srv)
{
	if (!srv->conn)
		return;
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, srv->conn->fd, NULL);
	vu_conn_destroy(srv->conn);
	srv->conn = NULL;
}

static void free_cbs(struct vu_fd_cb *cb)
{
	while (cb) {
		struct vu_fd_cb *next = cb->next;

		free(cb);
		cb = next;
	}
}

int uvfio_server_add_fd(struct uvfio_server *srv, int fd,
			void (*fn)(void *opaque), void *opaque)
{
	struct vu_fd_cb *cb;
	int ret;

	if (!srv || fd < 0 || !fn)
		return -EINVAL;
	for (cb = srv->cbs; cb; cb = cb->next)
		if (cb->fd == fd)
			return -EEXIST;
	cb = calloc(1, sizeof(*cb));
	if (!cb)
		return -ENOMEM;
	cb->fd = fd;
	cb->fn = fn;
	cb->opaque = opaque;
	/* A heap pointer is never as small as the fixed tags. */
	ret = ep_add(srv->epfd, fd, (uint64_t)(uintptr_t)cb);
	if (ret) {
		free(cb);
		return ret;
	}
	cb->next = srv->cbs;
	srv->cbs = cb;
	return 0;
}

int uvfio_server_remove_fd(struct uvfio_server *srv, int fd)
{
	struct vu_fd_cb **pp, *cb;

	if (!srv)
		return -EINVAL;
	for (pp = &srv->cbs; (cb = *pp); pp = &cb->next)
		if (cb->fd == fd)
			break;
	if (!cb)
		return -ENOENT;
	*pp = cb->next;
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, fd, NULL);
	/* The current epoll batch may still name it: free it afterwards. */
	cb->removed = true;
	cb->next = srv->cb_dead;
	srv->cb_dead = cb;
	if (!srv->dispatching) {
		free_cbs(srv->cb_dead);
		srv->cb_dead = NULL;
	}
	return 0;
}

void uvfio_server_destroy(struct uvfio_server *srv)
{
	if (!srv)
		return;
	drop_conn(srv);
	close(srv->listen_fd);
	if (srv->path)
		unlink(srv->path);
	close(srv->epfd);
	close(srv->stop_efd);
	close(srv->wake_efd);
	free_cbs(srv->cbs);
	free_cbs(srv->cb_dead);
	free(srv->path);
	free(srv);
}

int uvfio_server_fd(struct uvfio_server *srv)
{
	return srv->epfd;
}

int uvfio_server_has_client(struct uvfio_server *srv)
{
	return srv->conn != NULL;
}

void uvfio_server_stop(struct uvfio_server *srv)
{
	uint64_t one = 1;
	ssize_t n;

	srv->stopping = 1;
	/* write(2) is async-signal-safe; a full counter is already a wake-up. */
	n = write(srv->stop_efd, &one, sizeof(one));
	(void)n;
}

/*
 * A second client gets an immediate error reply (EBUSY, as an answer to the
 * VERSION it is about to send, msg_id 0) and is closed, instead of hanging
 * in the handshake as it would with libvfio-user.
 */
static void refuse(struct uvfio_server *srv, int fd)
{
	struct vfio_user_header req = { .cmd = VFIO_USER_VERSION };
	uint8_t h[sizeof(struct vfio_user_header)];
	ssize_t n;

	uint8_t scratch[256];

	vu_hdr_encode_error(h, &req, EBUSY);
	n = send(fd, h, sizeof(h), MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)n;
	/* Closing with unread bytes would make the peer's read fail with
	 * ECONNRESET before it sees the refusal: take what it sent so far
	 * (its VERSION, fds closed by the kernel with the skb). */
	for (int i = 0; i < 16; i++)
		if (recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT) <= 0)
			break;
	uvfio_log(UVFIO_LOG_INFO, srv_name(srv), "refused a second client");
	close(fd);
}

static void do_accept(struct uvfio_server *srv)
{
	struct vu_conn *c = NULL;
	int fd, ret;

	fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			uvfio_log(UVFIO_LOG_WARN, srv_name(srv), "accept: %s", strerror(errno));
		return;
	}
	if (!peer_allowed(srv, fd)) {
		close(fd);
		return;
	}
	if (srv->conn) {
		refuse(srv, fd);
		return;
	}
	srv->nconn++;
	ret = vu_conn_create(srv, fd, &c);
	if (ret) {
		close(fd);
		goto err;
	}
	/*
	 * Edge triggered: every arrival of bytes queues the event again, and
	 * vu_conn_serve() stops reading only after a read found the socket
	 * empty (short or EAGAIN), so no bytes are left unannounced. Level
	 * triggered, each epoll_wait would poll the socket once more after
	 * the request was read (≈0.6 µs of a 15 µs round trip here).
	 */
	ret = ep_add_events(srv->epfd, fd, EV_CONN, EPOLLIN | EPOLLET);
	if (ret) {
		vu_conn_destroy(c); /* closes fd */
		goto err;
	}
	srv->conn = c;
	uvfio_log(UVFIO_LOG_INFO, c->name, "client connected");
	return;
err:
	uvfio_log(UVFIO_LOG_WARN, srv_name(srv), "new client: %s", strerror(-ret));
}

static void serve_conn(struct uvfio_server *srv)
{
	if (!srv->conn)
		return;
	vu_conn_serve(srv->conn);
	if (srv->conn->dead)
		drop_conn(srv);
}

static void drain_efd(int fd)
{
	uint64_t v;
	ssize_t r = read(fd, &v, sizeof(v));

	(void)r;
}

#define EV_BATCH 16

int uvfio_server_dispatch(struct uvfio_server *srv, int timeout_ms)
{
	struct epoll_event ev[EV_BATCH];
	int n, i;

	n = epoll_wait(srv->epfd, ev, EV_BATCH, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	srv->owner = pthread_self();
	srv->dispatching = true;
	/* The client first: a client that just left must be dropped before
	 * a reconnecting one is accepted, or the latter would be refused.
	 * And its register accesses go before device work. */
	for (i = 0; i < n; i++) {
		if (ev[i].data.u64 == EV_WAKE) {
			drain_efd(srv->wake_efd);
			serve_conn(srv);
		} else if (ev[i].data.u64 == EV_CONN) {
			serve_conn(srv);
		}
	}
	/* Device work: may reach message-based windows (server_dma.c). */
	for (i = 0; i < n; i++) {
		struct vu_fd_cb *cb;

		if (ev[i].data.u64 <= EV_MAX_TAG)
			continue;
		cb = (struct vu_fd_cb *)(uintptr_t)ev[i].data.u64;
		if (cb->removed || srv->stopping)
			continue;
		cb->fn(cb->opaque);
		/* A DMA wait may have found the client gone. */
		if (srv->conn && srv->conn->dead)
			drop_conn(srv);
	}
	for (i = 0; i < n; i++) {
		switch (ev[i].data.u64) {
		case EV_STOP:
			drain_efd(srv->stop_efd);
			break;
		case EV_LISTEN:
			if (!srv->stopping)
				do_accept(srv);
			break;
		}
	}
	free_cbs(srv->cb_dead);
	srv->cb_dead = NULL;
	srv->dispatching = false;
	return 0;
}

int uvfio_server_run(struct uvfio_server *srv)
{
	int ret = 0;

	while (!srv->stopping) {
		ret = uvfio_server_dispatch(srv, -1);
		if (ret)
			break;
	}
	return ret;
}

void uvfio_server_set_open_check(struct uvfio_server *srv,
				 uvfio_server_open_check_fn fn, void *opaque)
{
	srv->open_check = fn;
	srv->open_check_opaque = opaque;
}
