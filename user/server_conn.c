/* SPDX-License-Identifier: MIT */
/*
 * One client connection of the vfio-user server: receiving messages,
 * replying, the in-order queue used while a DMA request waits, and the
 * teardown that drops everything the client gave us.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uvfio/device.h>
#include <uvfio/log.h>

#include "user/server_priv.h"

static void close_fds(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

void vu_msg_free(struct vu_msg *m)
{
	if (!m)
		return;
	close_fds(m->fds, m->nfds);
	m->nfds = 0;
	if (m->slot_of) {
		m->slot_of->slot_busy = false;
		return;
	}
	if (m->payload != m->inl)
		free(m->payload);
	free(m);
}

/* The slot if it is free, else an allocated message; fds all -1. */
static struct vu_msg *msg_new(struct vu_conn *c)
{
	struct vu_msg *m;

	if (!c->slot_busy) {
		m = &c->slot;
		memset(m, 0, offsetof(struct vu_msg, inl));
		m->slot_of = c;
		c->slot_busy = true;
	} else {
		m = calloc(1, sizeof(*m));
		if (!m)
			return NULL;
	}
	for (unsigned int i = 0; i < VFIO_USER_SERVER_MAX_FDS; i++)
		m->fds[i] = -1;
	return m;
}

struct vu_msg *vu_msg_detach(struct vu_msg *m)
{
	struct vu_msg *h;

	if (!m->slot_of)
		return m;
	h = malloc(sizeof(*h));
	if (!h)
		return NULL;
	*h = *m;
	h->slot_of = NULL;
	h->next = NULL;
	h->payload = h->inl;
	if (m->len > VU_MSG_INLINE) {
		h->payload = malloc(m->len);
		if (!h->payload) {
			free(h);
			return NULL;
		}
	}
	if (m->len)
		memcpy(h->payload, m->payload, m->len);
	/* The fds went with the copy. */
	m->nfds = 0;
	vu_msg_free(m);
	return h;
}

int vu_conn_create(struct uvfio_server *srv, int fd, struct vu_conn **out)
{
	pthread_condattr_t ca;
	struct vu_conn *c;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->srv = srv;
	c->fd = fd;
	snprintf(c->name, sizeof(c->name), "%s#%u", uvfio_device_name(srv->dev),
		 srv->nconn);
	vu_caps_defaults(&c->caps);
	/* Replies are bounded like requests: our max_data_xfer_size + overhead. */
	c->rbuf_cap = srv->max_msg_size;
	c->rbuf = malloc(c->rbuf_cap);
	c->pbuf = malloc(srv->max_msg_size);
	if (!c->rbuf || !c->pbuf) {
		ret = -ENOMEM;
		goto err_rbuf;
	}
	ret = uvfio_tp_init(&c->tp, fd, srv->msg_timeout_ms);
	if (ret)
		goto err_rbuf;
	ret = -ENOMEM;
	if (pthread_mutex_init(&c->send_lock, NULL))
		goto err_tp;
	if (pthread_mutex_init(&c->lock, NULL))
		goto err_send_lock;
	if (pthread_condattr_init(&ca))
		goto err_lock;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	ret = pthread_cond_init(&c->cond, &ca) ? -ENOMEM : 0;
	pthread_condattr_destroy(&ca);
	if (ret)
		goto err_lock;
	*out = c;
	return 0;

err_lock:
	pthread_mutex_destroy(&c->lock);
err_send_lock:
	pthread_mutex_destroy(&c->send_lock);
err_tp:
	uvfio_tp_fini(&c->tp);
err_rbuf:
	free(c->pbuf);
	free(c->rbuf);
	free(c);
	return ret;
}

/* Undo vu_conn_attach: what the client gave us goes, the device state stays. */
static void conn_detach(struct vu_conn *c)
{
	struct uvfio_device *dev = c->srv->dev;

	if (!c->versioned)
		return;
	vu_iofds_release(c); /* no doorbell reaches the device after this */
	uvfio_device_set_dma(dev, NULL);
	uvfio_dma_destroy(c->dma); /* unmaps every window and its backing mappings */
	c->dma = NULL;
	uvfio_irq_release_all(dev);
	uvfio_device_close(dev);
	c->versioned = false;
}

void vu_conn_destroy(struct vu_conn *c)
{
	struct vu_msg *m;

	if (!c)
		return;
	uvfio_log(UVFIO_LOG_INFO, c->name, "client gone");
	while ((m = c->q_head)) {
		c->q_head = m->next;
		vu_msg_free(m);
	}
	vu_msg_free(c->outer_reply);
	/* Device threads waiting for a reply leave their DMA (and with it
	 * the device's DMA space, which conn_detach waits for) first. */
	vu_conn_fail_waiters(c, -ECONNRESET);
	conn_detach(c);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->send_lock);
	uvfio_tp_fini(&c->tp);
	close(c->fd);
	free(c->pbuf);
	free(c->rbuf);
	free(c);
}

int vu_conn_attach(struct vu_conn *c)
{
	struct uvfio_server *srv = c->srv;
	struct uvfio_dma_limits lim = { .max_entries = srv->max_dma_maps };
	int ret;

	ret = uvfio_device_open(srv->dev);
	if (ret)
		return ret;
	c->dma = uvfio_dma_create(&lim);
	if (!c->dma) {
		ret = -ENOMEM;
		goto err_close;
	}
	uvfio_dma_set_msg_handler(c->dma, vu_conn_dma_msg, c);
	uvfio_device_set_dma(srv->dev, c->dma);
	c->versioned = true;
	return 0;

err_close:
	uvfio_device_close(srv->dev);
	return ret;
}

int vu_conn_send(struct vu_conn *c, const void *hdr, const void *payload,
		 size_t len, const int *fds, unsigned int nfds)
{
	int ret;

	if (c->dead)
		return -EPIPE;
	pthread_mutex_lock(&c->send_lock);
	/* NOWAIT: msg_timeout_ms from now, the clock read only if it must wait. */
	ret = uvfio_tp_send(&c->tp, hdr, payload, len, fds, nfds, UVFIO_TP_NOWAIT);
	pthread_mutex_unlock(&c->send_lock);
	if (ret) {
		uvfio_log(UVFIO_LOG_INFO, c->name, "send: %s", strerror(-ret));
		c->dead = true;
	}
	return ret;
}

/* Answer a message we could not take apart (no dispatch), honouring No_reply. */
static void send_error(struct vu_conn *c, const struct vfio_user_header *h, int err)
{
	uint8_t eh[sizeof(struct vfio_user_header)];

	if (vu_hdr_no_reply(h))
		return;
	vu_hdr_encode_error(eh, h, err);
	vu_conn_send(c, eh, NULL, 0, NULL, 0);
}

/* The DMA_READ reply this thread waits for, shaped so that its data can go
 * straight to the device (spec or QEMU layout, exactly the count asked). */
static bool dma_direct(const struct vu_conn *c, const struct vu_msg *m)
{
	const struct vu_rx_dst *d = &c->rx_dst;

	return d->armed && !m->err && !m->nfds && vu_hdr_is_reply(&m->hdr) &&
	       !vu_hdr_is_error(&m->hdr) && m->hdr.cmd == VFIO_USER_DMA_READ &&
	       m->hdr.msg_id == d->id &&
	       (m->len == sizeof(struct vfio_user_dma_region_access) + d->len ||
		m->len == sizeof(struct vfio_user_dma_region_access_u32) + d->len);
}

int vu_conn_recv(struct vu_conn *c, uint64_t deadline, struct vu_msg **out)
{
	struct uvfio_server *srv = c->srv;
	struct vu_msg *m;
	uint8_t raw[sizeof(struct vfio_user_header)];
	int ret;

	*out = NULL;
	if (c->dead)
		return -EPIPE;
	m = msg_new(c);
	if (!m)
		return -ENOMEM;

	ret = uvfio_tp_recv_hdr(&c->tp, raw, m->fds, VFIO_USER_SERVER_MAX_FDS,
				&m->nfds, deadline);
	/* Nothing arrived (or, with a deadline, nothing started in time): the
	 * stream is intact and the connection stays. */
	if (ret == -EAGAIN || (ret == -ETIMEDOUT && c->tp.rx_len == c->tp.rx_off)) {
		vu_msg_free(m);
		return ret;
	}
	if (ret == -EMSGSIZE) {
		/* More fds than we advertised: the kernel gave them, the
		 * transport closed them; the payload can still be skipped. */
		uvfio_log(UVFIO_LOG_WARN, c->name, "too many fds with a message");
		m->err = -EINVAL;
	} else if (ret == -EPROTO) {
		/* msg_size < 16 or truncated control data: framing is lost. */
		memcpy(&m->hdr, raw, sizeof(m->hdr));
		uvfio_log(UVFIO_LOG_WARN, c->name, "unusable stream (msg_size %u), dropping",
			  m->hdr.msg_size);
		m->hdr.flags &= ~VFIO_USER_F_NO_REPLY;
		send_error(c, &m->hdr, EINVAL);
		goto dead;
	} else if (ret) {
		if (ret != -ECONNRESET)
			uvfio_log(UVFIO_LOG_WARN, c->name, "receive: %s", strerror(-ret));
		goto dead;
	}

	ret = vu_hdr_parse(raw, sizeof(raw), srv->max_msg_size, &m->hdr);
	if (ret == -EMSGSIZE) {
		/* Skipping up to 4 GiB would let a client stall us: drop it. */
		uvfio_log(UVFIO_LOG_WARN, c->name, "%s: msg_size %u > %u, dropping",
			  vu_cmd_name(m->hdr.cmd), m->hdr.msg_size, srv->max_msg_size);
		send_error(c, &m->hdr, EMSGSIZE);
		goto dead;
	}
	if (ret && !m->err)
		m->err = ret;

	ret = 0;
	m->len = vu_hdr_payload_len(&m->hdr);
	if (m->len && dma_direct(c, m)) {
		ret = vu_dma_recv_direct(c, m);
	} else if (m->len) {
		/* Bounded by max_msg_size, checked above. */
		if (m->len <= VU_MSG_INLINE)
			m->payload = m->inl;
		else
			m->payload = m->slot_of ? c->pbuf : malloc(m->len);
		/* UVFIO_TP_NOWAIT: the message has started; a deadline is
		 * computed only if the socket must be read. */
		if (!m->payload) {
			/* Can't hold it, but can skip it and keep the stream. */
			m->err = -ENOMEM;
			ret = uvfio_tp_skip_payload(&c->tp, UVFIO_TP_NOWAIT);
			m->len = 0;
		} else {
			ret = uvfio_tp_recv_payload(&c->tp, m->payload, m->len, UVFIO_TP_NOWAIT);
		}
	}
	if (ret) {
		/* A started message that doesn't complete in time: the
		 * client is stuck or hostile; nothing can resync it. */
		uvfio_log(UVFIO_LOG_WARN, c->name, "%s: payload: %s, dropping",
			  vu_cmd_name(m->hdr.cmd), strerror(-ret));
		goto dead;
	}
	*out = m;
	return 0;

dead:
	c->dead = true;
	vu_msg_free(m);
	return ret ? ret : -EPROTO;
}

int vu_conn_enqueue(struct vu_conn *c, struct vu_msg *m)
{
	if (c->q_len >= VU_QUEUE_MAX || m->len > VU_QUEUE_MAX_BYTES - c->q_bytes)
		return -ENOBUFS;
	m->next = NULL;
	if (c->q_tail)
		c->q_tail->next = m;
	else
		c->q_head = m;
	c->q_tail = m;
	c->q_len++;
	c->q_bytes += m->len;
	return 0;
}

struct vu_msg *vu_conn_dequeue(struct vu_conn *c)
{
	struct vu_msg *m = c->q_head;

	if (!m)
		return NULL;
	c->q_head = m->next;
	if (!c->q_head)
		c->q_tail = NULL;
	c->q_len--;
	c->q_bytes -= m->len;
	return m;
}

void vu_conn_handle(struct vu_conn *c, struct vu_msg *m)
{
	struct vu_reply r = { .buf = c->rbuf + sizeof(struct vfio_user_header),
			      .cap = c->rbuf_cap - sizeof(struct vfio_user_header),
			      .fd = -1 };
	const struct vfio_user_header *h = &m->hdr;
	int ret = m->err;

	if (!ret && vu_hdr_is_reply(h)) {
		/* A late answer to a DMA request we gave up on: drop quietly;
		 * answering a reply would only confuse the client. */
		if (h->cmd == VFIO_USER_DMA_READ || h->cmd == VFIO_USER_DMA_WRITE) {
			if (vu_conn_route_reply(c, m))
				return; /* a device thread's, now */
			uvfio_log(UVFIO_LOG_INFO, c->name, "stale %s reply %u dropped",
				  vu_cmd_name(h->cmd), h->msg_id);
			goto out;
		}
		ret = -EINVAL;
	}
	if (!ret && vu_cmd_check_fds(h->cmd, false, m->nfds, VFIO_USER_SERVER_MAX_FDS))
		ret = -EINVAL;
	/* An unmap waits for accesses in flight: device threads waiting for
	 * a DMA reply (that only this thread could route) give up first. */
	if (!ret && h->cmd == VFIO_USER_DMA_UNMAP)
		vu_conn_fail_waiters(c, -ECANCELED);
	if (!ret) {
		c->in_cmd = true;
		ret = vu_dispatch(c, m, &r);
		c->in_cmd = false;
	}
	if (ret)
		uvfio_log(ret == -EINVAL || ret == -ENOSYS ? UVFIO_LOG_INFO : UVFIO_LOG_DEBUG,
			  c->name, "%s (id %u): %s", vu_cmd_name(h->cmd), h->msg_id,
			  strerror(-ret));
	else if (uvfio_log_enabled(UVFIO_LOG_TRACE)) /* no varargs call per command */
		uvfio_log(UVFIO_LOG_TRACE, c->name, "%s (id %u) ok, %zu bytes",
			  vu_cmd_name(h->cmd), h->msg_id, r.len);

	if (vu_hdr_no_reply(h) || c->dead)
		goto out;
	if (ret) {
		send_error(c, h, ret);
		if (c->close_after_reply)
			c->dead = true; /* refused at VERSION: hang up */
		goto out;
	}
	vu_hdr_encode(c->rbuf, h->msg_id, h->cmd, (uint32_t)r.len,
		      VFIO_USER_F_TYPE_REPLY, 0);
	if (r.nfds)
		vu_conn_send(c, c->rbuf, r.buf, r.len, r.fds, r.nfds);
	else
		vu_conn_send(c, c->rbuf, r.buf, r.len, r.fd >= 0 ? &r.fd : NULL,
			     r.fd >= 0 ? 1 : 0);
out:
	vu_msg_free(m);
}

bool vu_conn_route_reply(struct vu_conn *c, struct vu_msg *m)
{
	struct vu_waiter **pp, *w;

	pthread_mutex_lock(&c->lock);
	for (pp = &c->waiters; (w = *pp); pp = &w->next)
		if (w->id == m->hdr.msg_id && w->cmd == m->hdr.cmd)
			break;
	if (w) {
		/* The device thread frees it: it can't be the slot. */
		struct vu_msg *own = vu_msg_detach(m);

		if (!own)
			vu_msg_free(m);
		*pp = w->next;
		w->reply = own;
		w->err = own ? 0 : -ENOMEM;
		w->done = true;
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	return w != NULL;
}

void vu_conn_fail_waiters(struct vu_conn *c, int err)
{
	struct vu_waiter *w;

	pthread_mutex_lock(&c->lock);
	if (err == -ECONNRESET)
		c->closed = true;
	while ((w = c->waiters)) {
		c->waiters = w->next;
		w->err = err;
		w->done = true;
	}
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

void vu_conn_wake(struct vu_conn *c)
{
	uint64_t one = 1;
	ssize_t n;

	/* A connection that died during a DMA between dispatch calls
	 * must be dropped too. */
	if (!c->dead && !c->q_head && !uvfio_tp_buffered(&c->tp))
		return;
	/* A full counter is a pending wake-up already. */
	n = write(c->srv->wake_efd, &one, sizeof(one));
	(void)n;
}

void vu_conn_serve(struct vu_conn *c)
{
	bool first = true;
	struct vu_msg *m;

	while (!c->srv->stopping && !c->dead) {
		/* Commands queued behind a DMA wait go first: arrival order. */
		m = vu_conn_dequeue(c);
		/*
		 * After a message, a socket that the last read left empty needs
		 * no recv to learn that it is still empty: whatever came since
		 * queued a new (edge-triggered) epoll event, and the next
		 * dispatch reads it. That recv would be a third of the syscalls
		 * of a round trip. Every other way out of this loop is a read
		 * that found the socket empty, or the end of the connection:
		 * server.c registers the socket edge triggered and relies on it.
		 */
		if (!m && !first && !uvfio_tp_maybe_more(&c->tp))
			return;
		if (!m) {
			int ret = vu_conn_recv(c, UVFIO_TP_NOWAIT, &m);

			if (ret == -ENOMEM) { /* bytes may wait unread: come back */
				uint64_t one = 1;
				ssize_t n = write(c->srv->wake_efd, &one, sizeof(one));

				(void)n;
			}
			if (ret)
				return;
		}
		first = false;
		vu_conn_handle(c, m);
	}
}
