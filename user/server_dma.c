/* SPDX-License-Identifier: MIT */
/*
 * DMA_READ / DMA_WRITE issued by the server, for windows the client mapped
 * without an fd. The device's access is split into chunks of the client's
 * max_data_xfer_size; each chunk is one request and one awaited reply
 * (matched by msg_id). Commands that arrive meanwhile are queued, not
 * processed: the server handles commands strictly in arrival order, and the
 * command that caused this DMA has not been answered yet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uvfio/log.h>

#include "user/server_priv.h"

/* Wait for the reply to request `id`; queue commands, drop stale replies. */
static int wait_reply(struct vu_conn *c, uint16_t id, uint16_t cmd,
		      struct vu_msg **out)
{
	uint64_t deadline = uvfio_tp_deadline(c->srv->msg_timeout_ms);
	struct vu_msg *m;
	int ret;

	for (;;) {
		ret = vu_conn_recv(c, deadline, &m);
		if (ret)
			return ret; /* timeout, or the connection is dead */
		if (!vu_hdr_is_reply(&m->hdr) || m->err) {
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
		uvfio_log(UVFIO_LOG_INFO, c->name, "unexpected %s reply %u while waiting for %u",
			  vu_cmd_name(m->hdr.cmd), m->hdr.msg_id, id);
		vu_msg_free(m);
	}
}

static int dma_chunk(struct vu_conn *c, uint64_t iova, uint8_t *buf, size_t len,
		     bool is_write, uint8_t *req, size_t req_cap)
{
	uint16_t cmd = is_write ? VFIO_USER_DMA_WRITE : VFIO_USER_DMA_READ;
	uint16_t id = c->next_id++;
	uint8_t *pl = req + sizeof(struct vfio_user_header);
	size_t pl_cap = req_cap - sizeof(struct vfio_user_header);
	struct vu_dma_access a;
	struct vu_msg *m;
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
	vu_hdr_encode(req, id, cmd, (uint32_t)n, VFIO_USER_F_TYPE_COMMAND, 0);
	ret = vu_conn_send(c, req, pl, (size_t)n, NULL, 0);
	if (ret)
		return ret;
	ret = wait_reply(c, id, cmd, &m);
	if (ret) {
		uvfio_log(UVFIO_LOG_WARN, c->name, "%s 0x%llx+%zu: no reply: %s",
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
		ret = vu_dma_read_rep_parse(m->payload, m->len, c->srv->max_xfer, &a);
		if (!ret && (a.addr != iova || a.count != len))
			ret = -EIO;
		if (!ret)
			c->dma_layout_known = true;
		if (!ret && a.narrow && !c->dma_narrow) {
			uvfio_log(UVFIO_LOG_INFO, c->name,
				  "client uses the u32-count DMA layout (QEMU): following it");
			c->dma_narrow = true;
		}
		if (!ret && len)
			memcpy(buf, a.data, len);
	}
	if (ret == -EINVAL)
		ret = -EIO;
out:
	vu_msg_free(m);
	return ret;
}

int vu_conn_dma_msg(void *opaque, uint64_t iova, void *buf, size_t len, bool is_write)
{
	struct vu_conn *c = opaque;
	size_t chunk = c->caps.max_data_xfer_size;
	uint8_t *req;
	size_t req_cap, done = 0;
	int ret = 0;

	if (c->dead)
		return -EIO;
	/*
	 * The socket belongs to the dispatching thread: a device reaches a
	 * message-based window only from inside one of its ops (a register
	 * write that starts a DMA), never from a thread of its own, which
	 * would interleave with the server's reads.
	 */
	if (!c->srv->dispatching || !pthread_equal(c->srv->owner, pthread_self())) {
		uvfio_log(UVFIO_LOG_WARN, c->name,
			  "message-based DMA outside the server thread refused");
		return -EWOULDBLOCK;
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
		ret = dma_chunk(c, iova, NULL, 0, false, req, req_cap);
		c->dma_layout_known = true;
		if (ret && c->dead)
			goto out;
	}
	ret = 0;
	while (done < len) {
		size_t n = len - done < chunk ? len - done : chunk;

		ret = dma_chunk(c, iova + done, (uint8_t *)buf + done, n, is_write,
				req, req_cap);
		if (ret)
			break;
		done += n;
	}
out:
	free(req);
	return ret;
}
