/* SPDX-License-Identifier: MIT */
/*
 * vfio-user client messaging: one request, its reply matched by msg_id, and
 * the server's own requests (DMA_READ/DMA_WRITE) served in between from the
 * windows this client mapped without an fd — never outside them.
 *
 * A transport failure (timeout, reset, broken framing) marks the connection
 * dead: that call and every later one fail with the same error at once.
 *
 * Hot path: no allocation, one sendmsg with the data referenced by an
 * iovec, one recvmsg that usually brings header and payload together, read
 * data landing straight in the caller's buffer.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uvfio/log.h>

#include "user/client_vu.h"

/* The connection can no longer be trusted: remember why, fail fast after. */
int vu_fail(struct vu_client *vc, int err, const char *what)
{
	if (!vc->dead) {
		uvfio_log(UVFIO_LOG_WARN, vc->who, "%s: %s; connection is dead", what,
			  strerror(-err));
		vc->dead = err;
		shutdown(vc->sock, SHUT_RDWR);
	}
	return vc->dead;
}

static int vu_send(struct vu_client *vc, struct iovec *iov, int iovcnt,
		   const int *fds, unsigned int nfds)
{
	/* NOWAIT: timeout_ms from now; the clock is read only if it must wait. */
	int rc = uvfio_tp_sendv(&vc->tp, iov, iovcnt, fds, nfds, UVFIO_TP_NOWAIT);

	return rc ? vu_fail(vc, rc, "send") : 0;
}

/* Read `len` bytes of the current message's payload; failure kills the link. */
static int vu_recv(struct vu_client *vc, void *buf, size_t len)
{
	int rc = uvfio_tp_recv_payload(&vc->tp, buf, len, UVFIO_TP_NOWAIT);

	return rc ? vu_fail(vc, rc, "receive") : 0;
}

static int vu_skip(struct vu_client *vc)
{
	int rc = uvfio_tp_skip_payload(&vc->tp, UVFIO_TP_NOWAIT);

	return rc ? vu_fail(vc, rc, "receive") : 0;
}

/* Refuse a server request: drop what is left of it, answer with an error
 * unless it asked for no reply. */
static int vu_refuse(struct vu_client *vc, const struct vfio_user_header *h, int err)
{
	uint8_t hdr[sizeof(struct vfio_user_header)];
	struct iovec iov = { hdr, sizeof(hdr) };
	int rc = vu_skip(vc);

	if (rc)
		return rc;
	uvfio_log(UVFIO_LOG_WARN, vc->who, "server %s (id %u) refused: %s",
		  vu_cmd_name(h->cmd), h->msg_id, strerror(err));
	if (vu_hdr_no_reply(h))
		return 0;
	vu_hdr_encode_error(hdr, h, err);
	return vu_send(vc, &iov, 1, NULL, 0);
}

/* Reply addr, count (+ data) to a DMA request. */
static int dma_reply(struct vu_client *vc, const struct vfio_user_header *h,
		     const struct vfio_user_dma_region_access *req, const void *data,
		     uint64_t len)
{
	uint8_t hdr[sizeof(struct vfio_user_header)];
	struct iovec iov[3] = {
		{ hdr, sizeof(hdr) },
		{ (void *)req, sizeof(*req) },
		{ (void *)data, len },
	};

	if (vu_hdr_no_reply(h))
		return 0;
	vu_hdr_encode(hdr, h->msg_id, h->cmd, (uint32_t)(sizeof(*req) + len),
		      VFIO_USER_F_TYPE_REPLY, 0);
	return vu_send(vc, iov, len ? 3 : 2, NULL, 0);
}

/* ---- server-initiated DMA ----------------------------------------------- */

/* DMA_READ: the device reads client memory, sent straight from it. */
static int serve_dma_read(struct vu_client *vc, const struct vfio_user_header *h,
			  const struct vfio_user_dma_region_access *req)
{
	struct vu_dma_access acc;
	void *src = NULL;

	if (vu_dma_read_req_parse(req, sizeof(*req), VU_CLIENT_MAX_XFER, &acc))
		return vu_refuse(vc, h, EINVAL);
	if (acc.count) {
		src = uvfio_client_windows_find(&vc->wins, acc.addr, acc.count, UVFIO_DMA_READ);
		if (!src)
			return vu_refuse(vc, h, EFAULT);
	}
	/* Trailing bytes after the request are tolerated. */
	return vu_skip(vc) ?: dma_reply(vc, h, req, src, acc.count);
}

/* DMA_WRITE: the device writes client memory; the data lands in place. */
static int serve_dma_write(struct vu_client *vc, const struct vfio_user_header *h,
			   const struct vfio_user_dma_region_access *req)
{
	void *dst = NULL;
	int rc;

	/* Checked here rather than by the codec: the data must not be copied
	 * through a buffer, so the message is never whole in memory. */
	if (req->count != uvfio_tp_payload_left(&vc->tp) || req->count > VU_CLIENT_MAX_XFER)
		return vu_refuse(vc, h, EINVAL);
	if (req->count) {
		dst = uvfio_client_windows_find(&vc->wins, req->addr, req->count, UVFIO_DMA_WRITE);
		if (!dst)
			return vu_refuse(vc, h, EFAULT);
		rc = vu_recv(vc, dst, req->count);
		if (rc)
			return rc;
	}
	return dma_reply(vc, h, req, NULL, 0);
}

/* A command from the server. Returns 0 or the error that killed the link. */
static int serve_request(struct vu_client *vc, const struct vfio_user_header *h,
			 int *fds, unsigned int nfds)
{
	struct vfio_user_dma_region_access req;
	int rc;

	if (nfds) { /* no server request carries fds (QEMU refuses them too) */
		uvfio_tp_close_fds(fds, nfds);
		return vu_refuse(vc, h, EINVAL);
	}
	if (h->cmd != VFIO_USER_DMA_READ && h->cmd != VFIO_USER_DMA_WRITE)
		return vu_refuse(vc, h, ENOSYS);
	/* Both start with {addr, count}. */
	if (uvfio_tp_payload_left(&vc->tp) < sizeof(req))
		return vu_refuse(vc, h, EINVAL);
	rc = vu_recv(vc, &req, sizeof(req));
	if (rc)
		return rc;
	if (h->cmd == VFIO_USER_DMA_READ)
		return serve_dma_read(vc, h, &req);
	return serve_dma_write(vc, h, &req);
}

/*
 * Take the next message. A server request is served (*h->flags tells the
 * caller it was not a reply). Returns 0, or a negative errno: the link's
 * death, or -EAGAIN with UVFIO_TP_NOWAIT and nothing there.
 */
static int next_message(struct vu_client *vc, struct vfio_user_header *h, int *fds,
			unsigned int *nfds, uint64_t deadline, bool *was_request)
{
	uint8_t raw[sizeof(*h)];
	int rc;

	*was_request = false;
	rc = uvfio_tp_recv_hdr(&vc->tp, raw, fds, UVFIO_TP_MAX_FDS, nfds, deadline);
	if (rc == -EAGAIN)
		return rc;
	if (rc)
		return vu_fail(vc, rc, "receive");
	rc = vu_hdr_parse(raw, sizeof(raw), vc->max_msg, h);
	if (rc == -EMSGSIZE) {
		uvfio_tp_close_fds(fds, *nfds);
		return vu_fail(vc, -EPROTO, "oversized message");
	}
	if (rc) {
		uvfio_log(UVFIO_LOG_WARN, vc->who, "malformed message (cmd %u, id %u) dropped",
			  h->cmd, h->msg_id);
		uvfio_tp_close_fds(fds, *nfds);
		*nfds = 0;
		rc = vu_skip(vc);
		if (rc)
			return rc;
		/* Our reply, unreadable: report it as such. */
		h->flags = VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR;
		h->error_no = EPROTO;
		return 0;
	}
	if (!vu_hdr_is_reply(h)) {
		*was_request = true;
		return serve_request(vc, h, fds, *nfds);
	}
	return 0;
}

static int take_reply(struct vu_client *vc, const struct vfio_user_header *h,
		      int *fds, unsigned int nfds, struct vu_reply *rep)
{
	size_t len = vu_hdr_payload_len(h), first;
	int rc;

	if (len > rep->fixed_cap + rep->data_cap || nfds > rep->max_fds) {
		uvfio_log(UVFIO_LOG_WARN, vc->who, "%s reply: %zu bytes, %u fds: unexpected",
			  vu_cmd_name(h->cmd), len, nfds);
		uvfio_tp_close_fds(fds, nfds);
		rc = vu_skip(vc);
		return rc ? rc : -EPROTO;
	}
	first = len < rep->fixed_cap ? len : rep->fixed_cap;
	rc = vu_recv(vc, rep->fixed, first);
	if (!rc && len > first)
		rc = vu_recv(vc, rep->data, len - first);
	if (rc) {
		uvfio_tp_close_fds(fds, nfds);
		return rc;
	}
	rep->len = len;
	rep->nfds = nfds;
	if (nfds)
		memcpy(rep->fds, fds, nfds * sizeof(int));
	return 0;
}

/* A reply nobody waits for (a late one, or a confused server): drop it. */
static int drop_stray(struct vu_client *vc, const struct vfio_user_header *h, int *fds,
		      unsigned int nfds)
{
	uvfio_log(UVFIO_LOG_WARN, vc->who, "stray %s reply (id %u) dropped",
		  vu_cmd_name(h->cmd), h->msg_id);
	uvfio_tp_close_fds(fds, nfds);
	return vu_skip(vc);
}

int vu_serve_pending(struct vu_client *vc, bool socket_too)
{
	int served = 0;

	while (!vc->dead && (socket_too || uvfio_tp_buffered(&vc->tp))) {
		struct vfio_user_header h;
		int fds[UVFIO_TP_MAX_FDS];
		unsigned int nfds;
		bool req;
		int rc = next_message(vc, &h, fds, &nfds, UVFIO_TP_NOWAIT, &req);

		if (rc == -EAGAIN)
			break;
		if (rc)
			return rc;
		if (req) {
			served++;
			continue;
		}
		rc = drop_stray(vc, &h, fds, nfds);
		if (rc)
			return rc;
	}
	return vc->dead ? vc->dead : served;
}

/*
 * The server hung up while we were sending: it may have said why first (a
 * busy server answers a second client's VERSION with EBUSY, then closes).
 * Returns that error if it is there, else `err`.
 */
static int last_words(struct vu_client *vc, uint16_t id, uint16_t cmd, int err)
{
	struct vfio_user_header h;
	uint8_t raw[sizeof(h)];
	int fds[UVFIO_TP_MAX_FDS];
	unsigned int nfds;

	if (uvfio_tp_recv_hdr(&vc->tp, raw, fds, UVFIO_TP_MAX_FDS, &nfds, UVFIO_TP_NOWAIT))
		return err;
	uvfio_tp_close_fds(fds, nfds);
	if (vu_hdr_parse(raw, sizeof(raw), vc->max_msg, &h) || !vu_hdr_is_reply(&h) ||
	    !vu_hdr_is_error(&h) || h.msg_id != id || h.cmd != cmd ||
	    !h.error_no || h.error_no >= 4096)
		return err;
	return -(int)h.error_no;
}

int vu_call(struct vu_client *vc, uint16_t cmd, struct iovec *iov, int iovcnt,
		   const int *fds, unsigned int nfds, struct vu_reply *rep)
{
	uint8_t hdr[sizeof(struct vfio_user_header)];
	uint64_t deadline;
	size_t plen = 0;
	uint16_t id;
	int rc;

	if (vc->dead)
		return vc->dead;
	for (int i = 1; i < iovcnt; i++)
		plen += iov[i].iov_len;
	if (plen > vc->max_msg)
		return -EINVAL;
	id = vc->next_id++;
	vu_hdr_encode(hdr, id, cmd, (uint32_t)plen, VFIO_USER_F_TYPE_COMMAND, 0);
	iov[0] = (struct iovec){ hdr, sizeof(hdr) };
	rc = uvfio_tp_sendv(&vc->tp, iov, iovcnt, fds, nfds, UVFIO_TP_NOWAIT);
	if (rc == -EPIPE || rc == -ECONNRESET)
		rc = last_words(vc, id, cmd, rc);
	if (rc)
		return vu_fail(vc, rc, "send");

	deadline = uvfio_tp_deadline(vc->tp.timeout_ms);
	for (;;) {
		struct vfio_user_header h;
		int got[UVFIO_TP_MAX_FDS];
		unsigned int ngot;
		bool req;

		rc = next_message(vc, &h, got, &ngot, deadline, &req);
		if (rc)
			return rc;
		if (req) {
			/* The server is alive and working for us: wait anew. */
			deadline = uvfio_tp_deadline(vc->tp.timeout_ms);
			continue;
		}
		if (h.msg_id != id || h.cmd != cmd) {
			rc = drop_stray(vc, &h, got, ngot);
			if (rc)
				return rc;
			continue;
		}
		if (vu_hdr_is_error(&h)) {
			uvfio_tp_close_fds(got, ngot);
			rc = vu_skip(vc);
			if (rc)
				return rc;
			rc = h.error_no && h.error_no < 4096 ? -(int)h.error_no : -EIO;
		} else {
			rc = take_reply(vc, &h, got, ngot, rep);
		}
		/* Requests that came in the same read as the reply would
		 * not make the socket poll readable: serve them now. */
		vu_serve_pending(vc, false);
		return rc;
	}
}

int vu_call_simple(struct vu_client *vc, uint16_t cmd, const void *req,
			  size_t req_len, void *rep, size_t rep_cap, size_t *rep_len)
{
	struct iovec iov[2] = { { 0 }, { (void *)req, req_len } };
	struct vu_reply r = { .fixed = rep, .fixed_cap = rep_cap };
	int rc = vu_call(vc, cmd, iov, req_len ? 2 : 1, NULL, 0, &r);

	if (!rc && rep_len)
		*rep_len = r.len;
	return rc;
}

