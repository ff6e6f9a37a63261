/* SPDX-License-Identifier: MIT */
/*
 * The parent's event loop: one epoll set holding each instance's server fd
 * (itself an epoll fd), the control socket and its connections, and fds
 * that instances asked to have watched (their ptys). epoll_wait runs
 * without the lock; each event is looked up by its token under the lock,
 * so an instance removed in between is simply not found.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "bus/mdev/mdev_internal.h"

int mdev_loop_add(struct uvfio_mdev_parent *p, int fd, uint64_t token)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = token };

	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

void mdev_loop_del(struct uvfio_mdev_parent *p, int fd)
{
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
}

int uvfio_mdev_parent_fd(struct uvfio_mdev_parent *p)
{
	return p ? p->epfd : -EINVAL;
}

int uvfio_mdev_watch_fd(struct uvfio_mdev_parent *p, int fd,
			uvfio_mdev_watch_fn cb, void *opaque)
{
	struct mdev_watch *w;
	int ret;

	if (!p || fd < 0 || !cb)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->cb = cb;
	w->opaque = opaque;
	pthread_mutex_lock(&p->lock);
	w->token = MDEV_TOKEN(MDEV_EV_WATCH, ++p->serial);
	ret = mdev_loop_add(p, fd, w->token);
	if (!ret) {
		w->next = p->watches;
		p->watches = w;
	}
	pthread_mutex_unlock(&p->lock);
	if (ret)
		free(w);
	return ret;
}

void uvfio_mdev_unwatch_fd(struct uvfio_mdev_parent *p, int fd)
{
	struct mdev_watch **pp, *w;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	for (pp = &p->watches; *pp; pp = &(*pp)->next) {
		if ((*pp)->fd == fd) {
			w = *pp;
			*pp = w->next;
			mdev_loop_del(p, fd);
			free(w);
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
}

void mdev_watch_free_all(struct uvfio_mdev_parent *p)
{
	while (p->watches) {
		struct mdev_watch *w = p->watches;

		p->watches = w->next;
		mdev_loop_del(p, w->fd);
		free(w);
	}
}

static void dispatch_one(struct uvfio_mdev_parent *p, uint64_t token)
{
	struct mdev_inst *in;
	struct mdev_watch *w;

	switch (MDEV_TOKEN_KIND(token)) {
	case MDEV_EV_INSTANCE:
		in = mdev_inst_by_token(p, token);
		if (in)
			uvfio_server_dispatch(in->srv, 0);
		break;
	case MDEV_EV_WATCH:
		for (w = p->watches; w; w = w->next) {
			if (w->token == token) {
				w->cb(w->opaque);
				break;
			}
		}
		break;
	case MDEV_EV_CTL_LISTEN:
		mdev_ctl_accept(p);
		break;
	case MDEV_EV_CTL_CONN:
		mdev_ctl_serve(p, token);
		break;
	}
}

int uvfio_mdev_parent_dispatch(struct uvfio_mdev_parent *p, int timeout_ms)
{
	struct epoll_event ev[16];
	int n;

	if (!p)
		return -EINVAL;
	n = epoll_wait(p->epfd, ev, 16, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < n; i++)
		dispatch_one(p, ev[i].data.u64);
	pthread_mutex_unlock(&p->lock);
	return 0;
}
