/* SPDX-License-Identifier: MIT */
/*
 * DMA_READ / DMA_WRITE issued by the server, for windows the client mapped
 * without an fd. The device's access is split into chunks of the client's
 * max_data_xfer_size; each chunk is one request and one awaited reply
 * (matched by msg_id).
 *
 * How commands that arrive during the wait are treated depends on where the
 * DMA comes from (see server_priv.h):
 *   - inside a command: queued, handled after it, in order (the command
 *     that caused this DMA has not been answered yet);
 *   - outside commands (a uvfio_server_add_fd callback): handled at once.
 *     QEMU answers DMA requests from its main loop, which can't run while a
 *     vCPU waits for a register access: that access must be answered first.
 *     Exception: a DMA_UNMAP would wait for this very access to end, so it
 *     is queued and the DMA fails with -ECANCELED (its late reply is
 *     dropped as stale).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uvfio/log.h>

#include "user/codec_util.h"
#include "user/server_priv.h"

/*
 * A command arrived while a DMA outside commands waits: handle it now.
 * Returns 0 to keep waiting, or a negative errno that ends the DMA.
 */
static int handle_inline(struct vu_conn *c, struct vu_msg *m)
{
	if (!m->err && !vu_hdr_is_reply(&m->hdr) && m->hdr.cmd == VFIO_USER_DMA_UNMAP) {
		uvfio_log(UVFIO_LOG_INFO, c->name,
			  "DMA_UNMAP (id %u) during a DMA: the DMA is cancelled",
			  m->hdr.msg_id);
		if (vu_conn_enqueue(c, m)) {
			vu_msg_free(m);
			c->dead = true;
			return -EIO;
		}
		return -ECANCELED;
	}
	vu_conn_handle(c, m);
	return c->dead ? -EIO : 0;
}

/*
 * Wait for the reply to request `id`; queue commands (in_cmd) or handle
 * them (outside commands); drop stale replies.
 */
static int wait_reply(struct vu_conn *c, uint16_t id, uint16_t cmd,
		      struct vu_msg **out)
{
	uint64_t deadline = uvfio_tp_deadline(c->srv->msg_timeout_ms);
	bool outer = !c->in_cmd;
	struct vu_msg *m;
	int ret;

	for (;;) {
		if (outer) {
			/* A command handled meanwhile DMA'd and its wait took
			 * our reply, or queued commands behind it. */
			if (c->outer_reply) {
				*out = c->outer_reply;
				c->outer_reply = NULL;
				return 0; /* only ever our request's (below) */
			}
			m = c->q_head;
			if (m) {
				if (!m->err && m->hdr.cmd == VFIO_USER_DMA_UNMAP)
					return -ECANCELED; /* stays queued */
				ret = handle_inline(c, vu_conn_dequeue(c));
				if (ret)
					return ret;
				continue;
			}
		}
		ret = vu_conn_recv(c, deadline, &m);
		if (ret)
			return ret; /* timeout, or the connection is dead */
		if (!vu_hdr_is_reply(&m->hdr) || m->err) {
			if (outer) {
				ret = handle_inline(c, m);
				if (ret)
					return ret;
				continue;
			}
			ret = vu_conn_enqueue(c, m);
			if (ret) {
				uvfio_log(UVFIO_LOG_WARN, c->name,
					  "%u commands (%zu bytes) queued during DMA, dropping client",
					  c->q_len, c->q_bytes);
				vu_msg_free(m);
				c->dead = true;
				return ret;
			}
			continue;
		}
		if (m->hdr.msg_id == id && m->hdr.cmd == cmd) {
			*out = m;
			return 0;
		}
		if (!outer && c->outer_waiting && !c->outer_reply &&
		    m->hdr.msg_id == c->outer_id && m->hdr.cmd == c->outer_cmd) {
			c->outer_reply = m; /* for the DMA we are nested in */
			continue;
		}
		if (vu_conn_route_reply(c, m))
			continue; /* a device thread's */
		uvfio_log(UVFIO_LOG_INFO, c->name, "unexpected %s reply %u while waiting for %u",
			  vu_cmd_name(m->hdr.cmd), m->hdr.msg_id, id);
		vu_msg_free(m);
	}
}

enum dma_mode {
	DMA_IN_CMD, /* inside a command handler: queue commands meanwhile */
	DMA_OUTER,  /* dispatching thread, outside commands: handle them */
	DMA_THREAD, /* another thread: the dispatching thread routes the reply */
};

/*
 * From a device thread: send the request and sleep until the dispatching
 * thread hands over the reply, the client leaves, or msg_timeout_ms pass.
 */
static int thread_xact(struct vu_conn *c, const uint8_t *req, const uint8_t *pl,
		       size_t n, uint16_t id, uint16_t cmd, struct vu_msg **out)
{
	struct vu_waiter w = { .id = id, .cmd = cmd };
	uint64_t ns = (uint64_t)c->srv->msg_timeout_ms * 1000000ull;
	struct vu_waiter **pp;
	struct timespec ts;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns += (uint64_t)ts.tv_nsec;
	ts.tv_sec += (time_t)(ns / 1000000000ull);
	ts.tv_nsec = (long)(ns % 1000000000ull);

	/* Registered before sending: the reply may come at once. */
	pthread_mutex_lock(&c->lock);
	if (c->closed) {
		pthread_mutex_unlock(&c->lock);
		return -ECONNRESET;
	}
	w.next = c->waiters;
	c->waiters = &w;
	pthread_mutex_unlock(&c->lock);

	ret = vu_conn_send(c, req, pl, n, NULL, 0);

	pthread_mutex_lock(&c->lock);
	while (!ret && !w.done) {
		int r = pthread_cond_timedwait(&c->cond, &c->lock, &ts);

		if (r == ETIMEDOUT && !w.done)
			ret = -ETIMEDOUT;
	}
	if (!w.done) { /* still listed: unlink, a late reply is stale */
		for (pp = &c->waiters; *pp; pp = &(*pp)->next) {
			if (*pp == &w) {
				*pp = w.next;
				break;
			}
		}
	} else if (w.err) {
		ret = w.err;
	} else {
		*out = w.reply;
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

static int dma_chunk(struct vu_conn *c, enum dma_mode mode, uint64_t iova, uint8_t *buf,
		     size_t len, bool is_write, uint8_t *req, size_t req_cap)
{
	uint16_t cmd = is_write ? VFIO_USER_DMA_WRITE : VFIO_USER_DMA_READ;
	uint16_t id;
	uint8_t *pl = req + sizeof(struct vfio_user_header);
	size_t pl_cap = req_cap - sizeof(struct vfio_user_header);
	struct vu_dma_access a;
	struct vu_rx_dst saved;
	struct vu_msg *m = NULL;
	ssize_t n;
	int ret;

	if (is_write && c->dma_narrow)
		n = vu_dma_write_req_encode_u32(pl, pl_cap, iova, buf, (uint32_t)len);
	else if (is_write)
		n = vu_dma_write_req_encode(pl, pl_cap, iova, buf, len);
	else
		n = vu_dma_read_req_encode(pl, pl_cap, iova, len);
	if (n < 0)
		return (int)n;
	pthread_mutex_lock(&c->lock);
	id = c->next_id++;
	pthread_mutex_unlock(&c->lock);
	vu_hdr_encode(req, id, cmd, (uint32_t)n, VFIO_USER_F_TYPE_COMMAND, 0);
	if (mode == DMA_THREAD) {
		ret = thread_xact(c, req, pl, (size_t)n, id, cmd, &m);
		goto got;
	}
	ret = vu_conn_send(c, req, pl, (size_t)n, NULL, 0);
	if (ret)
		return ret;
	if (mode == DMA_OUTER) {
		c->outer_waiting = true;
		c->outer_id = id;
		c->outer_cmd = cmd;
	}
	/* Read data goes from the socket straight into buf. A DMA nested in
	 * this wait (a command handled meanwhile) arms its own and puts ours
	 * back; our reply, if it comes during that one, is copied instead. */
	saved = c->rx_dst;
	if (!is_write && len)
		c->rx_dst = (struct vu_rx_dst){ .armed = true, .id = id, .iova = iova,
						.buf = buf, .len = len };
	else
		c->rx_dst.armed = false;
	ret = wait_reply(c, id, cmd, &m);
	c->rx_dst = saved;
	if (mode == DMA_OUTER) {
		c->outer_waiting = false;
		/* Kept for a wait that ended otherwise (cancelled): stale. */
		vu_msg_free(c->outer_reply);
		c->outer_reply = NULL;
	}
got:
	if (ret) {
		uvfio_log(ret == -ECANCELED ? UVFIO_LOG_DEBUG : UVFIO_LOG_WARN, c->name,
			  "%s 0x%llx+%zu: no reply: %s",
			  vu_cmd_name(cmd), (unsigned long long)iova, len, strerror(-ret));
		return ret;
	}
	if (vu_hdr_is_error(&m->hdr)) {
		ret = m->hdr.error_no ? -(int)m->hdr.error_no : -EIO;
		goto out;
	}
	if (m->nfds) { /* QEMU rejects fds on these; so do we */
		ret = -EIO;
		goto out;
	}
	if (is_write) {
		/* QEMU answers with the header only; otherwise it must echo us
		 * (a u32-layout peer echoes 12 bytes: nothing more to check). */
		if (c->dma_narrow && m->len == sizeof(struct vfio_user_dma_region_access_u32))
			goto out;
		ret = vu_dma_write_rep_parse(m->payload, m->len, &a);
		if (!ret && m->len && (a.addr != iova || a.count != len))
			ret = -EIO;
	} else {
		if (m->direct) { /* checked, and the data is in buf already */
			a.narrow = m->narrow;
			ret = 0;
		} else {
			ret = vu_dma_read_rep_parse(m->payload, m->len, c->srv->max_xfer, &a);
			if (!ret && (a.addr != iova || a.count != len))
				ret = -EIO;
		}
		if (!ret)
			c->dma_layout_known = true;
		if (!ret && a.narrow && !c->dma_narrow) {
			uvfio_log(UVFIO_LOG_INFO, c->name,
				  "client uses the u32-count DMA layout (QEMU): following it");
			c->dma_narrow = true;
		}
		if (!ret && len && !m->direct)
			memcpy(buf, a.data, len);
	}
	if (ret == -EINVAL)
		ret = -EIO;
out:
	vu_msg_free(m);
	return ret;
}

int vu_dma_recv_direct(struct vu_conn *c, struct vu_msg *m)
{
	const struct vu_rx_dst *d = &c->rx_dst;
	size_t fixed = m->len - d->len; /* 16, or 12 in QEMU's layout */
	uint64_t count;
	int ret;

	m->payload = m->inl;
	ret = uvfio_tp_recv_payload(&c->tp, m->inl, fixed, UVFIO_TP_NOWAIT);
	if (ret)
		return ret;
	count = fixed == sizeof(struct vfio_user_dma_region_access) ? vu_ld64(m->inl, 8)
								    : vu_ld32(m->inl, 8);
	if (vu_ld64(m->inl, 0) != d->iova || count != d->len) {
		m->len = 0; /* an empty reply: refused as malformed */
		return uvfio_tp_skip_payload(&c->tp, UVFIO_TP_NOWAIT);
	}
	m->len = fixed;
	ret = uvfio_tp_recv_payload(&c->tp, d->buf, d->len, UVFIO_TP_NOWAIT);
	if (ret)
		return ret;
	m->direct = true;
	m->narrow = fixed != sizeof(struct vfio_user_dma_region_access);
	return 0;
}

int vu_conn_dma_msg(void *opaque, uint64_t iova, void *buf, size_t len, bool is_write)
{
	struct vu_conn *c = opaque;
	size_t chunk = c->caps.max_data_xfer_size;
	uint8_t *req;
	size_t req_cap, done = 0;
	enum dma_mode mode;
	int ret = 0;

	if (c->dead)
		return -EIO;
	/*
	 * Only the thread that dispatches reads the socket. There, the DMA
	 * waits in place: inside a device op (DMA_IN_CMD), or outside
	 * commands (DMA_OUTER: a uvfio_server_add_fd() callback, or between
	 * dispatch calls). Another thread waits for that thread to hand it
	 * the reply (DMA_THREAD; the server must be dispatched meanwhile).
	 */
	if (!pthread_equal(c->srv->owner, pthread_self()))
		mode = DMA_THREAD;
	else
		mode = c->in_cmd ? DMA_IN_CMD : DMA_OUTER;
	if (mode == DMA_IN_CMD && !c->told_in_cmd_dma) {
		uvfio_log(UVFIO_LOG_INFO, c->name,
			  "DMA from inside a command: commands wait until it is done "
			  "(a client that serves DMA only from its main loop, like QEMU, "
			  "can't answer; run device DMA from a server fd callback)");
		c->told_in_cmd_dma = true;
	}
	/* A DMA_UNMAP queued by a previous DMA of this callback waits for
	 * this access (the windows are held): don't start, let it run. */
	if (mode == DMA_OUTER && c->q_head && !c->q_head->err &&
	    c->q_head->hdr.cmd == VFIO_USER_DMA_UNMAP) {
		vu_conn_wake(c);
		return -ECANCELED;
	}
	/* Respect the client's limit and never expect a reply above ours. */
	if (chunk > c->srv->max_xfer)
		chunk = c->srv->max_xfer;
	req_cap = sizeof(struct vfio_user_header) + sizeof(struct vfio_user_dma_region_access) +
		  (is_write ? (len < chunk ? len : chunk) : 0);
	req = malloc(req_cap);
	if (!req)
		return -ENOMEM;
	/*
	 * Before the first DMA_WRITE, learn the client's layout with a
	 * zero-length DMA_READ: a spec client answers 16 bytes, QEMU 12
	 * (reference §4.1). Writing blind would let QEMU take the high half
	 * of our u64 count for data. An error answer keeps the spec's layout.
	 */
	if (is_write && !c->dma_layout_known) {
		ret = dma_chunk(c, mode, iova, NULL, 0, false, req, req_cap);
		if (ret == -ECANCELED)
			goto out; /* learn it next time */
		c->dma_layout_known = true;
		if (ret && c->dead)
			goto out;
	}
	ret = 0;
	while (done < len) {
		size_t n = len - done < chunk ? len - done : chunk;

		ret = dma_chunk(c, mode, iova + done, (uint8_t *)buf + done, n, is_write,
				req, req_cap);
		if (ret)
			break;
		done += n;
	}
out:
	free(req);
	/* Commands that came during the wait were read off the socket (or
	 * queued behind a DMA_UNMAP): nothing would wake the loop for them. */
	if (mode == DMA_OUTER)
		vu_conn_wake(c);
	return ret;
}
