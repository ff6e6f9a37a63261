/* SPDX-License-Identifier: MIT */
/*
 * The vfio-user server's command handlers: one per command. Each parses its
 * request with the codec, calls the device core, and writes the reply
 * payload into r->buf (r->cap bytes, i.e. our max message size). They
 * return 0 or a negative errno that becomes an error reply.
 *
 * errno choices (the kernel's where it has one; see also the core):
 *   malformed request, argsz too small, index out of range      EINVAL
 *   a command before VERSION, VERSION twice                     EINVAL
 *   VERSION with a major we don't speak                         ENOTSUP
 *   unknown or removed command (DIRTY_PAGES)                     ENOSYS
 *   DMA_READ/WRITE sent to us (server->client commands)         EINVAL
 *   DMA_MAP overlap / entry limit / unmap of an unmapped range  EEXIST / ENOSPC / ENOENT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uvfio/device.h>
#include <uvfio/log.h>

#include "core/vfio_compat.h"
#include "user/codec_util.h"
#include "user/server_priv.h"

_Static_assert(VU_MAX_SPARSE_AREAS == UVFIO_MAX_MMAP_AREAS, "sparse areas");
_Static_assert(sizeof(struct vfio_region_info) >= sizeof(struct vfio_user_region_info),
	       "region info");

#define DEV(c) ((c)->srv->dev)

static int h_version(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r)
{
	struct uvfio_server *srv = c->srv;
	struct vu_caps peer, ours;
	struct vu_version v;
	char json[256];
	ssize_t n;
	int ret;

	if (c->versioned)
		return -EINVAL;
	ret = vu_version_req_parse(m->payload, m->len, &v);
	if (ret)
		return ret;
	if (v.major != VFIO_USER_MAJOR)
		return -ENOTSUP;
	vu_caps_defaults(&peer);
	if (v.caps && v.caps_len) {
		ret = vu_caps_parse(v.caps, v.caps_len, &peer);
		if (ret) {
			uvfio_log(UVFIO_LOG_WARN, c->name, "bad capabilities JSON");
			return ret;
		}
	}
	/* Who may open the device (a VF checks its PF's token): refused ->
	 * error reply, then the connection is closed. */
	if (srv->open_check) {
		ret = srv->open_check(srv->open_check_opaque,
				      peer.has_vf_token ? peer.vf_token : NULL, c->name);
		if (ret) {
			c->close_after_reply = true;
			return ret;
		}
	}

	vu_caps_defaults(&ours);
	ours.max_msg_fds = VFIO_USER_SERVER_MAX_FDS;
	ours.max_data_xfer_size = srv->max_xfer;
	ours.pgsizes = UVFIO_DMA_DEFAULT_PGSIZE;
	ours.max_dma_maps = srv->max_dma_maps;
	ours.write_multiple = true;
	n = vu_caps_emit(&ours, json, sizeof(json));
	if (n < 0)
		return (int)n;
	n = vu_version_rep_encode(r->buf, r->cap, VFIO_USER_MAJOR,
				  v.minor < VFIO_USER_MINOR ? v.minor : VFIO_USER_MINOR,
				  json);
	if (n < 0)
		return (int)n;

	ret = vu_conn_attach(c);
	if (ret)
		return ret;
	c->caps = peer;
	r->len = (size_t)n;
	uvfio_log(UVFIO_LOG_INFO, c->name,
		  "client %u.%u: max_msg_fds %u max_data_xfer_size %u%s",
		  v.major, v.minor, peer.max_msg_fds, peer.max_data_xfer_size,
		  peer.write_multiple ? " write_multiple" : "");
	return 0;
}

static int h_dma_map(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r)
{
	struct vfio_user_dma_map dm;
	struct uvfio_dma_map_args a = { .fd = -1 };
	int ret;

	ret = vu_dma_map_req_parse(m->payload, m->len, &dm);
	if (ret)
		return ret;
	a.iova = dm.addr;
	a.size = dm.size;
	/* READ/WRITE have the same values in both APIs. */
	a.prot = (dm.flags & VFIO_USER_F_DMA_REGION_READ ? UVFIO_DMA_READ : 0) |
		 (dm.flags & VFIO_USER_F_DMA_REGION_WRITE ? UVFIO_DMA_WRITE : 0);
	if (m->nfds) {
		a.fd = m->fds[0];
		a.fd_offset = dm.offset;
	}
	ret = uvfio_dma_map(c->dma, &a);
	if (ret)
		return ret;
	if (m->nfds)
		m->fds[0] = -1; /* the DMA space owns it now */
	return 0;
}

static int h_dma_unmap(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r)
{
	struct vu_dma_unmap u;
	uint64_t unmapped, pages, need;
	uint8_t *bits = NULL;
	ssize_t n;
	int ret;

	ret = vu_dma_unmap_req_parse(m->payload, m->len, c->srv->max_xfer, &u);
	if (ret)
		return ret;
	if (u.flags & VFIO_USER_F_DMA_UNMAP_ALL) {
		ret = uvfio_dma_unmap_all(c->dma, &unmapped);
		goto reply;
	}
	if (u.dirty) {
		/* Only meaningful while dirty logging runs (kernel: type1 v1
		 * needs dirty tracking started). */
		if (!uvfio_dma_logging(c->dma) || !u.size || u.size % u.bitmap.pgsize)
			return -EINVAL;
		pages = u.size / u.bitmap.pgsize;
		need = (pages + 63) / 64 * 8;
		if (u.bitmap.size < need)
			return -EINVAL;
		u.bitmap.size = need; /* <= max_xfer: fits the reply buffer */
		bits = r->buf + sizeof(struct vfio_user_dma_unmap) + sizeof(u.bitmap);
		/* The report only sets bits: clear what an earlier reply left. */
		memset(bits, 0, need);
		ret = uvfio_dma_log_report(c->dma, u.addr, u.size, u.bitmap.pgsize,
					   (uint64_t *)(void *)bits, need);
		if (ret)
			return ret;
	}
	ret = uvfio_dma_unmap(c->dma, u.addr, u.size, UVFIO_DMA_UNMAP_EXACT, &unmapped);
reply:
	if (ret)
		return ret;
	n = vu_dma_unmap_rep_encode(r->buf, r->cap, &u, bits);
	if (n < 0)
		return (int)n;
	r->len = (size_t)n;
	return 0;
}

static int h_get_info(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r)
{
	struct vfio_user_device_info req;
	struct vfio_device_info di = { .argsz = sizeof(di) };
	ssize_t n;
	int ret;

	ret = vu_device_info_req_parse(m->payload, m->len, &req);
	if (ret)
		return ret;
	ret = uvfio_device_get_info(DEV(c), &di);
	if (ret)
		return ret;
	n = vu_device_info_rep_encode(r->buf, r->cap, di.flags, di.num_regions, di.num_irqs);
	if (n < 0)
		return (int)n;
	r->len = (size_t)n;
	return 0;
}

/* Bytes a cap of the core's chain occupies (the core emits these two). */
static size_t cap_len(const uint8_t *info, size_t off)
{
	struct vfio_user_cap_header ch;

	memcpy(&ch, info + off, sizeof(ch));
	if (ch.id == VFIO_USER_CAP_SPARSE_MMAP)
		return sizeof(struct vfio_user_cap_sparse_mmap) +
		       vu_ld32(info, off + 8) * sizeof(struct vfio_user_sparse_area);
	return sizeof(struct vfio_user_cap_type);
}

/*
 * A mappable region always gets a SPARSE_MMAP cap, the whole region if the
 * device named no areas (libvfio-user does the same, and clients mmap only
 * what a sparse cap names). Returns the new chain end.
 */
static size_t add_whole_sparse(uint8_t *info, size_t end, uint64_t size)
{
	struct vfio_user_region_info *vi = (void *)info;
	struct vfio_user_cap_sparse_mmap sp = {
		.header = { .id = VFIO_USER_CAP_SPARSE_MMAP, .version = 1 },
		.nr_areas = 1,
	};
	struct vfio_user_sparse_area a = { .offset = 0, .size = size };
	size_t off;

	if (!vi->cap_offset) {
		vi->cap_offset = (uint32_t)end;
	} else {
		struct vfio_user_cap_header ch;

		for (off = vi->cap_offset;; off = ch.next) {
			memcpy(&ch, info + off, sizeof(ch));
			if (!ch.next)
				break;
		}
		ch.next = (uint32_t)end;
		memcpy(info + off, &ch, sizeof(ch));
	}
	vi->flags |= VFIO_USER_F_REGION_CAPS;
	memcpy(info + end, &sp, sizeof(sp));
	memcpy(info + end + sizeof(sp), &a, sizeof(a));
	return end + sizeof(sp) + sizeof(a);
}

static int h_region_info(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r)
{
	struct vfio_user_region_info req, *vi;
	const struct uvfio_region *reg;
	union {
		uint64_t align;
		uint8_t b[VFIO_USER_MAX_REGION_INFO];
	} info;
	size_t end, off;
	bool mappable;
	ssize_t n;
	int ret;

	ret = vu_region_info_req_parse(m->payload, m->len, &req);
	if (ret)
		return ret;
	reg = uvfio_device_region(DEV(c), req.index);
	if (!reg)
		return -EINVAL;
	vi = (void *)info.b;
	memset(vi, 0, sizeof(*vi));
	vi->argsz = sizeof(info.b);
	vi->index = req.index;
	ret = uvfio_device_region_info(DEV(c), info.b, sizeof(info.b));
	if (ret)
		return ret;
	if (vi->argsz > sizeof(info.b))
		return -E2BIG; /* more caps than any device of ours has */

	/* Where the core's chain ends; its offsets only grow (checked, so a
	 * core bug can't loop us or send memory past the chain). */
	end = sizeof(*vi);
	for (off = vi->cap_offset; off; ) {
		struct vfio_user_cap_header ch;

		if (off < end || off + sizeof(struct vfio_user_cap_sparse_mmap) > sizeof(info.b))
			return -EIO;
		memcpy(&ch, info.b + off, sizeof(ch));
		if (off + cap_len(info.b, off) > sizeof(info.b))
			return -EIO;
		if (off + cap_len(info.b, off) > end)
			end = off + cap_len(info.b, off);
		off = ch.next;
	}
	/* Over vfio-user a region is mappable only through its fd, and only
	 * for a client that said it can receive one (max_msg_fds). */
	mappable = (reg->flags & VFIO_REGION_INFO_FLAG_MMAP) && reg->mmap_fd >= 0 &&
		   c->caps.max_msg_fds >= 1;
	if (!mappable)
		vi->flags &= ~VFIO_USER_F_REGION_MMAP;
	else if (!reg->nr_areas) {
		if (end + 32 > sizeof(info.b))
			return -E2BIG;
		end = add_whole_sparse(info.b, end, reg->size);
	}

	if (req.argsz < end) {
		/* The retry answer: the size needed, no caps, no fd. */
		vi->argsz = (uint32_t)end;
		vi->cap_offset = 0;
		end = sizeof(*vi);
	} else {
		vi->argsz = (uint32_t)end;
		if (mappable)
			r->fd = reg->mmap_fd; /* sent only with the caps */
	}
	n = vu_region_info_rep_encode(r->buf, r->cap, info.b, end);
	if (n < 0)
		return (int)n;
	r->len = (size_t)n;
	return 0;
}

/*
 * The doorbells of a region, each with its eventfd (the spec's 40-byte
 * entries, type ioeventfd, KVM's flags; fd_index i for entry i). An argsz
 * too small for the entries gets the fixed part with the argsz needed and
 * the count, and no fds, as the other info commands. A client that takes
 * fewer fds per message than the region has doorbells gets none (count
 * 0): its writes then go as messages, which is always correct.
 */
static int h_region_io_fds(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r)
{
	struct uvfio_ioeventfd ev[UVFIO_MAX_IOEVENTFDS_PER_REGION];
	struct vfio_user_sub_region_ioeventfd ents[UVFIO_MAX_IOEVENTFDS_PER_REGION];
	struct vfio_user_region_io_fds req;
	uint32_t n;
	ssize_t len;
	int ret;

	_Static_assert(UVFIO_MAX_IOEVENTFDS_PER_REGION <= VU_REPLY_MAX_FDS, "reply fds");
	ret = vu_region_io_fds_req_parse(m->payload, m->len, &req);
	if (ret)
		return ret;
	if (req.count)
		return -EINVAL; /* the spec's request has count 0 */
	ret = uvfio_device_ioeventfds(DEV(c), req.index, ev, UVFIO_MAX_IOEVENTFDS_PER_REGION);
	if (ret < 0)
		return ret;
	n = (uint32_t)ret < UVFIO_MAX_IOEVENTFDS_PER_REGION ? (uint32_t)ret
							     : UVFIO_MAX_IOEVENTFDS_PER_REGION;
	if (n > c->caps.max_msg_fds) {
		if (!c->told_iofd_limit)
			uvfio_log(UVFIO_LOG_INFO, c->name,
				  "region %u has %u doorbells, the client takes %u fds per "
				  "message: offering none", req.index, n, c->caps.max_msg_fds);
		c->told_iofd_limit = true;
		n = 0;
	}
	if (n && req.argsz >= 16 + n * sizeof(ents[0])) {
		ret = vu_iofds_get(c, req.index, n, r->fds);
		if (ret)
			return ret;
		for (uint32_t i = 0; i < n; i++) {
			bool dm = ev[i].flags & UVFIO_IOEVENTFD_DATAMATCH;

			ents[i] = (struct vfio_user_sub_region_ioeventfd){
				.offset = ev[i].offset,
				.size = ev[i].size,
				.fd_index = i,
				.type = VFIO_USER_IO_FD_TYPE_IOEVENTFD,
				.flags = dm ? VFIO_USER_IOEVENTFD_DATAMATCH : 0,
				.datamatch = dm ? ev[i].datamatch : 0,
			};
		}
		r->nfds = n;
	}
	len = vu_region_io_fds_rep_encode(r->buf, r->cap, req.index, req.argsz, ents, n);
	if (len < 0)
		return (int)len;
	r->len = (size_t)len;
	return 0;
}

static int h_irq_info(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r)
{
	struct vfio_user_irq_info req, rep;
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	ssize_t n;
	int ret;

	ret = vu_irq_info_req_parse(m->payload, m->len, &req);
	if (ret)
		return ret;
	ii.index = req.index;
	ret = uvfio_device_irq_info(DEV(c), &ii);
	if (ret)
		return ret;
	rep.flags = ii.flags;
	rep.index = ii.index;
	rep.count = ii.count;
	n = vu_irq_info_rep_encode(r->buf, r->cap, &rep);
	if (n < 0)
		return (int)n;
	r->len = (size_t)n;
	return 0;
}

static int h_set_irqs(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	struct vfio_irq_set *set;
	struct vu_set_irqs s;
	size_t data_len = 0;
	uint32_t i;
	int ret;

	ret = vu_set_irqs_req_parse(m->payload, m->len, m->nfds, &s);
	if (ret)
		return ret;
	/* Bound the data by the device's own vector count, never by the peer's. */
	ii.index = s.s.index;
	ret = uvfio_device_irq_info(DEV(c), &ii);
	if (ret)
		return ret;
	if (s.s.start + s.s.count > ii.count)
		return -EINVAL;
	if (s.s.flags & VFIO_IRQ_SET_DATA_BOOL)
		data_len = s.s.count;
	else if (s.s.flags & VFIO_IRQ_SET_DATA_EVENTFD)
		data_len = (size_t)s.s.count * sizeof(int32_t);

	set = malloc(sizeof(*set) + data_len);
	if (!set)
		return -ENOMEM;
	set->argsz = (uint32_t)(sizeof(*set) + data_len);
	set->flags = s.s.flags;
	set->index = s.s.index;
	set->start = s.s.start;
	set->count = s.s.count;
	if (s.s.flags & VFIO_IRQ_SET_DATA_BOOL) {
		memcpy(set->data, s.bools, data_len);
	} else if (s.s.flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		/* No fds: de-assign, which the kernel spells fd -1. */
		for (i = 0; i < s.s.count; i++) {
			int32_t fd = m->nfds ? m->fds[i] : -1;

			memcpy(set->data + i * sizeof(fd), &fd, sizeof(fd));
		}
	}
	/* The core dup()s what it keeps; ours are closed with the message. */
	ret = uvfio_device_set_irqs(DEV(c), set, set->data, data_len);
	free(set);
	return ret;
}

static int h_region_read(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r)
{
	size_t fixed = sizeof(struct vfio_user_region_access);
	struct vu_region_access a;
	ssize_t n;
	int ret;

	ret = vu_region_read_req_parse(m->payload, m->len, c->srv->max_xfer, &a);
	if (ret)
		return ret;
	n = uvfio_device_read(DEV(c), a.region, a.offset, r->buf + fixed, a.count);
	if (n < 0)
		return (int)n;
	n = vu_region_read_rep_encode(r->buf, r->cap, a.region, a.offset,
				      r->buf + fixed, (uint32_t)n);
	if (n < 0)
		return (int)n;
	r->len = (size_t)n;
	return 0;
}

static int h_region_write(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r)
{
	struct vu_region_access a;
	ssize_t n;
	int ret;

	ret = vu_region_write_req_parse(m->payload, m->len, c->srv->max_xfer, &a);
	if (ret)
		return ret;
	n = uvfio_device_write(DEV(c), a.region, a.offset, a.data, a.count);
	if (n < 0)
		return (int)n;
	n = vu_region_write_rep_encode(r->buf, r->cap, a.region, a.offset, (uint32_t)n);
	if (n < 0)
		return (int)n;
	r->len = (size_t)n;
	return 0;
}

static int h_write_multi(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r)
{
	struct vfio_user_write_multi_data e;
	struct vu_write_multi wm;
	uint64_t i;
	ssize_t n = 0;
	int ret;

	ret = vu_write_multi_req_parse(m->payload, m->len, &wm);
	if (ret)
		return ret;
	for (i = 0; i < wm.wr_cnt; i++) {
		vu_write_multi_entry(&wm, i, &e);
		n = uvfio_device_write(DEV(c), e.region, e.offset, e.data, e.count);
		if (n < 0)
			break;
	}
	/* Report how many were done; fail only if none was. */
	if (i == 0 && n < 0)
		return (int)n;
	if (n < 0)
		uvfio_log(UVFIO_LOG_INFO, c->name, "WRITE_MULTI stopped at %llu: %s",
			  (unsigned long long)i, strerror((int)-n));
	n = vu_write_multi_rep_encode(r->buf, r->cap, i);
	if (n < 0)
		return (int)n;
	r->len = (size_t)n;
	return 0;
}

static int h_reset(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r)
{
	return uvfio_device_reset(DEV(c));
}

static int h_feature(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r)
{
	size_t hdr = sizeof(struct vfio_user_device_feature);
	size_t argsz, buflen, reply_len = hdr;
	struct vu_feature f;
	int ret;

	ret = vu_feature_req_parse(m->payload, m->len, &f);
	if (ret)
		return ret;
	/* The GET reply is capped by the request's argsz and by our limit. */
	argsz = f.argsz;
	if (argsz > c->srv->max_xfer + hdr)
		argsz = c->srv->max_xfer + hdr;
	buflen = argsz > m->len ? argsz : m->len;
	if (buflen > r->cap)
		return -EINVAL;
	memcpy(r->buf, m->payload, m->len);
	/* argsz beyond what was sent reads as zeros, never as stale bytes. */
	if (buflen > m->len)
		memset(r->buf + m->len, 0, buflen - m->len);
	vu_st32(r->buf, 0, (uint32_t)argsz);
	ret = uvfio_device_feature(DEV(c), r->buf, buflen, &reply_len);
	if (ret)
		return ret;
	if ((f.flags & VFIO_DEVICE_FEATURE_GET) && !(f.flags & VFIO_DEVICE_FEATURE_PROBE)) {
		vu_st32(r->buf, 0, (uint32_t)reply_len);
		vu_st32(r->buf, 4, f.flags);
		r->len = reply_len;
	} else {
		/*
		 * SET and PROBE echo the request, with what the handler wrote
		 * back (DMA_LOGGING_START returns the page size it uses).
		 */
		vu_st32(r->buf, 0, f.argsz);
		r->len = m->len;
	}
	return 0;
}

static int h_mig_read(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r)
{
	size_t fixed = sizeof(struct vfio_user_mig_data);
	struct vu_mig_data md;
	ssize_t n;
	int ret;

	ret = vu_mig_read_req_parse(m->payload, m->len, c->srv->max_xfer, &md);
	if (ret)
		return ret;
	n = uvfio_device_mig_read(DEV(c), r->buf + fixed, md.size);
	if (n < 0)
		return (int)n;
	n = vu_mig_read_rep_encode(r->buf, r->cap, r->buf + fixed, (uint32_t)n);
	if (n < 0)
		return (int)n;
	r->len = (size_t)n;
	return 0;
}

static int h_mig_write(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r)
{
	struct vu_mig_data md;
	int ret;

	ret = vu_mig_write_req_parse(m->payload, m->len, c->srv->max_xfer, &md);
	if (ret)
		return ret;
	return uvfio_device_mig_write(DEV(c), md.data, md.size);
}

typedef int (*vu_handler_fn)(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r);

static const vu_handler_fn handlers[VFIO_USER_MAX_CMD] = {
	[VFIO_USER_VERSION] = h_version,
	[VFIO_USER_DMA_MAP] = h_dma_map,
	[VFIO_USER_DMA_UNMAP] = h_dma_unmap,
	[VFIO_USER_DEVICE_GET_INFO] = h_get_info,
	[VFIO_USER_DEVICE_GET_REGION_INFO] = h_region_info,
	[VFIO_USER_DEVICE_GET_REGION_IO_FDS] = h_region_io_fds,
	[VFIO_USER_DEVICE_GET_IRQ_INFO] = h_irq_info,
	[VFIO_USER_DEVICE_SET_IRQS] = h_set_irqs,
	[VFIO_USER_REGION_READ] = h_region_read,
	[VFIO_USER_REGION_WRITE] = h_region_write,
	[VFIO_USER_DEVICE_RESET] = h_reset,
	[VFIO_USER_REGION_WRITE_MULTI] = h_write_multi,
	[VFIO_USER_DEVICE_FEATURE] = h_feature,
	[VFIO_USER_MIG_DATA_READ] = h_mig_read,
	[VFIO_USER_MIG_DATA_WRITE] = h_mig_write,
};

int vu_dispatch(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r)
{
	uint16_t cmd = m->hdr.cmd;

	if (cmd == VFIO_USER_DMA_READ || cmd == VFIO_USER_DMA_WRITE)
		return -EINVAL; /* ours to send, not to receive */
	if (cmd >= VFIO_USER_MAX_CMD || !handlers[cmd])
		return -ENOSYS;
	if (!c->versioned && cmd != VFIO_USER_VERSION)
		return -EINVAL; /* VERSION must come first */
	return handlers[cmd](c, m, r);
}
