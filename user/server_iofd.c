/* SPDX-License-Identifier: MIT */
/*
 * A connection's doorbells (GET_REGION_IO_FDS): one eventfd per doorbell
 * the device declared (uvfio_device_add_ioeventfd), made when the client
 * first asks for the doorbells of its region and kept until the client
 * leaves. A repeated request hands out the same eventfds; the next client
 * gets new ones, so copies an old client kept ring nothing.
 *
 * Each eventfd is polled in the server's loop (uvfio_server_add_fd): when
 * the client writes it, the callback reads the count (which resets it)
 * and the core delivers it to the device, on the dispatching thread as a
 * region write would be. Doorbells are device work: in a batch of ready
 * fds they run after the client's messages.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <uvfio/log.h>

#include "user/server_priv.h"

struct vu_iofd {
	struct vu_conn *c;
	uint32_t index, i; /* doorbell i of region index (the device's order) */
	int fd;
	struct vu_iofd *next;
};

static void iofd_ring(void *opaque)
{
	struct vu_iofd *f = opaque;
	uint64_t n;

	/* Non-blocking: nothing to read means another wake-up got it. */
	if (read(f->fd, &n, sizeof(n)) != sizeof(n))
		return;
	uvfio_device_ioeventfd_signal(f->c->srv->dev, f->index, f->i, n);
}

static struct vu_iofd *iofd_find(struct vu_conn *c, uint32_t index, uint32_t i)
{
	for (struct vu_iofd *f = c->iofds; f; f = f->next)
		if (f->index == index && f->i == i)
			return f;
	return NULL;
}

static int iofd_new(struct vu_conn *c, uint32_t index, uint32_t i, struct vu_iofd **out)
{
	struct vu_iofd *f = calloc(1, sizeof(*f));
	int ret;

	if (!f)
		return -ENOMEM;
	f->c = c;
	f->index = index;
	f->i = i;
	f->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = uvfio_server_add_fd(c->srv, f->fd, iofd_ring, f);
	if (ret)
		goto err_close;
	f->next = c->iofds;
	c->iofds = f;
	*out = f;
	return 0;

err_close:
	close(f->fd);
err_free:
	free(f);
	uvfio_log(UVFIO_LOG_WARN, c->name, "doorbell %u of region %u: %s", i, index,
		  strerror(-ret));
	return ret;
}

int vu_iofds_get(struct vu_conn *c, uint32_t index, uint32_t n, int *fds)
{
	for (uint32_t i = 0; i < n; i++) {
		struct vu_iofd *f = iofd_find(c, index, i);
		int ret;

		if (!f) {
			/* Those made so far stay: a retry finds them. */
			ret = iofd_new(c, index, i, &f);
			if (ret)
				return ret;
		}
		fds[i] = f->fd;
	}
	return 0;
}

void vu_iofds_release(struct vu_conn *c)
{
	struct vu_iofd *f;

	while ((f = c->iofds)) {
		c->iofds = f->next;
		uvfio_server_remove_fd(c->srv, f->fd);
		close(f->fd);
		free(f);
	}
}
