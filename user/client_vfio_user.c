/* SPDX-License-Identifier: MIT */
/*
 * The client API's vfio-user backend: connect, negotiate the version, and
 * turn each verb into its request/reply (client_vu_msg.c carries them).
 * Transfers are chunked by the server's max_data_xfer_size, SET_IRQS fds by
 * its max_msg_fds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <uvfio/log.h>
#include <uvfio/mdev.h>

#include "core/vfio_compat.h"
#include "user/client_vfio_user.h"
#include "user/client_vu.h"

#define VU_REGION_INFO_FIRST 256u /* first argsz offered; retried if short */
#define VU_MAX_IRQ_BOOLS 65536u	  /* DATA_BOOL vectors in one SET_IRQS */

/* ---- connection ------------------------------------------------------------ */

static int vu_connect(struct vu_client *vc, const char *path, uint32_t timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	vc->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (vc->sock < 0)
		return -errno;
	/* The transport sets SO_SNDTIMEO, which also bounds connect() on a
	 * server whose backlog is full. */
	rc = uvfio_tp_init(&vc->tp, vc->sock, timeout_ms);
	if (rc)
		return rc;
	while (connect(vc->sock, (struct sockaddr *)&sa, sizeof(sa))) {
		if (errno == EINTR)
			continue;
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	}
	return 0;
}

static int vu_version(struct vu_client *vc, const struct uvfio_client_opts *opts)
{
	uint8_t req[sizeof(struct vfio_user_version) + VFIO_USER_MAX_CAPS_JSON];
	uint8_t rep[sizeof(struct vfio_user_version) + VFIO_USER_MAX_CAPS_JSON];
	char json[VFIO_USER_MAX_CAPS_JSON];
	struct vu_caps ours;
	struct vu_version v;
	ssize_t n;
	size_t len;
	int rc;

	vu_caps_defaults(&ours);
	ours.max_msg_fds = VU_CLIENT_MAX_FDS;
	ours.max_data_xfer_size = VU_CLIENT_MAX_XFER;
	if (opts->vf_token) {
		if (uvfio_mdev_uuid_parse(opts->vf_token, ours.vf_token)) {
			uvfio_log(UVFIO_LOG_ERR, vc->who, "vf_token '%s' is not a UUID",
				  opts->vf_token);
			return -EINVAL;
		}
		ours.has_vf_token = true;
	}
	n = vu_caps_emit(&ours, json, sizeof(json));
	if (n < 0)
		return (int)n;
	n = vu_version_req_encode(req, sizeof(req), VFIO_USER_MAJOR, VFIO_USER_MINOR, json);
	if (n < 0)
		return (int)n;
	rc = vu_call_simple(vc, VFIO_USER_VERSION, req, (size_t)n, rep, sizeof(rep), &len);
	if (rc == -EACCES || rc == -EPERM)
		uvfio_log(UVFIO_LOG_ERR, vc->who,
			  "the server refused to open the device: %s (%s)", strerror(-rc),
			  opts->vf_token ? "wrong VF token?" : "a VF needs its PF's VF token");
	if (rc)
		return rc;
	if (vu_version_rep_parse(rep, len, &v)) {
		uvfio_log(UVFIO_LOG_ERR, vc->who, "malformed VERSION reply");
		return -EPROTO;
	}
	if (v.major != VFIO_USER_MAJOR || v.minor > VFIO_USER_MINOR) {
		uvfio_log(UVFIO_LOG_ERR, vc->who, "server speaks vfio-user %u.%u, we %u.%u",
			  v.major, v.minor, VFIO_USER_MAJOR, VFIO_USER_MINOR);
		return -EPROTO;
	}
	vu_caps_defaults(&vc->peer);
	if (v.caps && vu_caps_parse(v.caps, v.caps_len, &vc->peer)) {
		uvfio_log(UVFIO_LOG_ERR, vc->who, "bad capabilities in VERSION reply");
		return -EPROTO;
	}
	rc = uvfio_client_vu_limits(&vc->peer, &vc->xfer, &vc->max_fds, &vc->max_msg);
	if (rc)
		return rc;
	uvfio_client_windows_init(&vc->wins, vc->peer.max_dma_maps);
	uvfio_log(UVFIO_LOG_DEBUG, vc->who,
		  "vfio-user %u.%u: max_msg_fds %u, max_data_xfer_size %u, write_multiple %d",
		  v.major, v.minor, vc->peer.max_msg_fds, vc->peer.max_data_xfer_size,
		  vc->peer.write_multiple);
	return 0;
}

int uvfio_client_vu_limits(const struct vu_caps *peer, uint32_t *xfer,
			   uint32_t *max_fds, uint32_t *max_msg)
{
	if (!peer->max_data_xfer_size)
		return -EPROTO;
	/* Sending less than the peer allows is always fine; more than 64 MiB
	 * per message is more than any peer needs (QEMU refuses it too). */
	*xfer = peer->max_data_xfer_size < VFIO_USER_MAX_MAX_DATA_XFER
			? peer->max_data_xfer_size
			: VFIO_USER_MAX_MAX_DATA_XFER;
	*max_fds = peer->max_msg_fds < VFIO_USER_KERNEL_MAX_FDS ? peer->max_msg_fds
								 : VFIO_USER_KERNEL_MAX_FDS;
	/* Replies carry at most xfer data bytes; server requests at most ours. */
	*max_msg = (uint32_t)VFIO_USER_MAX_MSG_SIZE(*xfer > VU_CLIENT_MAX_XFER ? *xfer
									: VU_CLIENT_MAX_XFER);
	return 0;
}

static void vu_close(struct uvfio_client *c)
{
	struct vu_client *vc = vu(c);

	if (!vc)
		return;
	uvfio_client_windows_fini(&vc->wins);
	vu_iofds_fini(vc);
	uvfio_tp_fini(&vc->tp);
	if (vc->sock >= 0)
		close(vc->sock);
	free(vc);
	c->be_priv = NULL;
}

static int vu_open(struct uvfio_client *c, const char *path,
		   const struct uvfio_client_opts *opts)
{
	struct vu_client *vc = calloc(1, sizeof(*vc));
	int rc;

	if (!vc)
		return -ENOMEM;
	c->be_priv = vc;
	vc->who = c->location;
	vc->sock = -1;
	vc->no_iofds = opts->no_ioeventfds;
	/* Until the server says otherwise: the protocol's defaults. */
	vu_caps_defaults(&vc->peer);
	vc->max_msg = VFIO_USER_MAX_MSG_SIZE(VU_CLIENT_MAX_XFER);
	uvfio_client_windows_init(&vc->wins, 0);

	if (opts->vf_token) { /* checked before we bother the server */
		uint8_t tok[16];

		if (uvfio_mdev_uuid_parse(opts->vf_token, tok)) {
			uvfio_log(UVFIO_LOG_ERR, vc->who, "vf_token '%s' is not a UUID",
				  opts->vf_token);
			rc = -EINVAL;
			goto err;
		}
	}
	rc = vu_connect(vc, path, opts->timeout_ms); /* 0: the transport's 5 s */
	if (rc) {
		uvfio_log(UVFIO_LOG_DEBUG, vc->who, "connect: %s", strerror(-rc));
		goto err;
	}
	rc = vu_version(vc, opts);
	if (rc)
		goto err;
	return 0;
err:
	vu_close(c);
	return rc;
}

/* ---- device, regions, irqs -------------------------------------------------- */

static int vu_get_info(struct uvfio_client *c, struct vfio_device_info *info)
{
	struct vfio_user_device_info req, rep;
	uint8_t buf[64]; /* room for a longer reply than the struct */
	size_t len;
	int rc;

	vu_device_info_req_encode(&req, sizeof(req));
	rc = vu_call_simple(vu(c), VFIO_USER_DEVICE_GET_INFO, &req, sizeof(req), buf,
			    sizeof(buf), &len);
	if (rc)
		return rc;
	if (vu_device_info_rep_parse(buf, len, &rep))
		return -EPROTO;
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->flags = rep.flags;
	info->num_regions = rep.num_regions;
	info->num_irqs = rep.num_irqs;
	return 0;
}

int uvfio_client_vu_region(const struct vfio_user_region_info *ri,
			   const struct vu_region_caps *caps, int fd,
			   struct uvfio_region *out)
{
	uint64_t end;

	memset(out, 0, sizeof(*out));
	out->flags = ri->flags & (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
				  VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS);
	out->size = ri->size;
	out->offset = ri->offset;
	out->mmap_fd = -1;
	if (out->flags & VFIO_REGION_INFO_FLAG_MMAP &&
	    __builtin_add_overflow(ri->offset, ri->size, &end))
		return -EPROTO;
	if (caps->has_sparse) {
		if (caps->nr_areas > UVFIO_MAX_MMAP_AREAS)
			return -EPROTO;
		for (uint32_t i = 0; i < caps->nr_areas; i++) {
			const struct vfio_user_sparse_area *a = &caps->areas[i];

			if (__builtin_add_overflow(a->offset, a->size, &end) || end > ri->size)
				return -EPROTO;
			if (!a->size)
				continue; /* maps nothing */
			out->areas[out->nr_areas].offset = a->offset;
			out->areas[out->nr_areas].size = a->size;
			out->nr_areas++;
		}
		/* A sparse cap without areas: nothing of it may be mapped. */
		if (!out->nr_areas)
			out->flags &= ~VFIO_REGION_INFO_FLAG_MMAP;
	}
	if (caps->has_type) {
		out->has_type = true;
		out->type = caps->type;
		out->subtype = caps->subtype;
	}
	if (fd >= 0 && (out->flags & VFIO_REGION_INFO_FLAG_MMAP))
		out->mmap_fd = fd;
	return 0;
}

static int vu_region(struct uvfio_client *c, uint32_t index, struct uvfio_region *out)
{
	struct vu_client *vc = vu(c);
	uint8_t buf[VFIO_USER_MAX_REGION_INFO];
	struct vfio_user_region_info req, ri;
	struct vu_region_caps caps;
	uint32_t argsz = VU_REGION_INFO_FIRST;
	struct iovec iov[2];
	int fd, rc;

	/* The kernel's argsz dance: a reply that needs more than we offered
	 * comes without its caps and says how much; ask again with that. */
	for (int tries = 0; tries < 3; tries++) {
		struct vu_reply rep = { .fixed = buf, .fixed_cap = argsz, .fds = &fd, .max_fds = 1 };

		vu_region_info_req_encode(&req, sizeof(req), index, argsz);
		iov[1] = (struct iovec){ &req, sizeof(req) };
		rc = vu_call(vc, VFIO_USER_DEVICE_GET_REGION_INFO, iov, 2, NULL, 0, &rep);
		if (rc)
			return rc;
		rc = vu_region_info_rep_parse(buf, rep.len, &ri, &caps);
		if (!rc && ri.index != index)
			rc = -EPROTO;
		if (!rc && ri.argsz > argsz) {
			if (rep.nfds)
				close(fd);
			if (ri.argsz > sizeof(buf)) {
				uvfio_log(UVFIO_LOG_WARN, vc->who, "region %u: info of %u bytes: too big",
					  index, ri.argsz);
				return -E2BIG;
			}
			argsz = ri.argsz;
			continue;
		}
		if (!rc)
			rc = uvfio_client_vu_region(&ri, &caps, rep.nfds ? fd : -1, out);
		if (rc) {
			uvfio_log(UVFIO_LOG_WARN, vc->who, "region %u: malformed info", index);
			if (rep.nfds)
				close(fd);
			return -EPROTO;
		}
		if (rep.nfds && out->mmap_fd != fd)
			close(fd); /* an fd for a region that is not mappable */
		return 0;
	}
	return -EPROTO; /* the size needed keeps growing */
}

static int vu_irq_info(struct uvfio_client *c, struct vfio_irq_info *info)
{
	struct vfio_user_irq_info req, rep;
	uint8_t buf[64];
	size_t len;
	int rc;

	vu_irq_info_req_encode(&req, sizeof(req), info->index);
	rc = vu_call_simple(vu(c), VFIO_USER_DEVICE_GET_IRQ_INFO, &req, sizeof(req), buf,
			    sizeof(buf), &len);
	if (rc)
		return rc;
	if (vu_irq_info_rep_parse(buf, len, &rep) || rep.index != info->index)
		return -EPROTO;
	info->argsz = sizeof(*info);
	info->flags = rep.flags;
	info->count = rep.count;
	return 0;
}

/* One SET_IRQS message: [start, start+count) with these fds (maybe none). */
static int set_irqs_one(struct vu_client *vc, const struct vfio_irq_set *hdr,
			uint32_t start, uint32_t count, const int *fds,
			unsigned int nfds, const uint8_t *bools)
{
	struct vfio_user_irq_set s;
	struct iovec iov[3];
	struct vu_reply rep = { 0 };
	size_t nb = bools ? count : 0;

	/* The struct is encoded by hand: the bools ride in their own iovec. */
	s = (struct vfio_user_irq_set){
		.argsz = (uint32_t)(sizeof(s) + nb),
		.flags = hdr->flags,
		.index = hdr->index,
		.start = start,
		.count = count,
	};
	iov[1] = (struct iovec){ &s, sizeof(s) };
	iov[2] = (struct iovec){ (void *)bools, nb };
	return vu_call(vc, VFIO_USER_DEVICE_SET_IRQS, iov, nb ? 3 : 2, fds, nfds, &rep);
}

static int vu_set_irqs(struct uvfio_client *c, const struct vfio_irq_set *hdr,
		       const void *data)
{
	struct vu_client *vc = vu(c);
	uint32_t type = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	const int32_t *fds = data;
	uint32_t i = 0;

	if (hdr->count && hdr->start + hdr->count < hdr->start)
		return -EINVAL;
	if (type == VFIO_IRQ_SET_DATA_BOOL) {
		if (hdr->count > VU_MAX_IRQ_BOOLS || (hdr->count && !data))
			return -EINVAL;
		return set_irqs_one(vc, hdr, hdr->start, hdr->count, NULL, 0, data);
	}
	if (type != VFIO_IRQ_SET_DATA_EVENTFD || !hdr->count)
		return set_irqs_one(vc, hdr, hdr->start, hdr->count, NULL, 0, NULL);
	if (!data)
		return -EINVAL;

	/*
	 * Chunks the server can take: runs of valid fds of at most its
	 * max_msg_fds, and runs of -1 sent with no fds at all, which
	 * de-assigns them (the vfio-user form of the kernel's fd -1).
	 */
	while (i < hdr->count) {
		bool valid = fds[i] >= 0;
		uint32_t j = i;
		int rc;

		while (j < hdr->count && (fds[j] >= 0) == valid &&
		       (!valid || j - i < vc->max_fds))
			j++;
		if (valid && j == i)
			return -EOPNOTSUPP; /* the server takes no fds at all */
		rc = set_irqs_one(vc, hdr, hdr->start + i, j - i, valid ? &fds[i] : NULL,
				  valid ? j - i : 0, NULL);
		if (rc)
			return rc;
		i = j;
	}
	return 0;
}

/* ---- region access ------------------------------------------------------------ */

static ssize_t vu_read(struct uvfio_client *c, uint32_t index, uint64_t pos,
		       void *buf, size_t count)
{
	struct vu_client *vc = vu(c);
	size_t done = 0;

	while (done < count) {
		uint32_t n = count - done < vc->xfer ? (uint32_t)(count - done) : vc->xfer;
		struct vfio_user_region_access req = { .region = index, .count = n }, r;
		struct vu_reply rep = {
			.fixed = &r, .fixed_cap = sizeof(r),
			.data = (uint8_t *)buf + done, .data_cap = n,
		};
		struct iovec iov[2] = { { 0 }, { &req, sizeof(req) } };
		uint64_t off;
		int rc;

		/* req is packed: compute into an aligned local, then store. */
		if (__builtin_add_overflow(pos, done, &off))
			return -EINVAL;
		req.offset = off;
		rc = vu_call(vc, VFIO_USER_REGION_READ, iov, 2, NULL, 0, &rep);
		if (rc)
			return rc;
		/* Parsed here, not by the codec: the data went straight to buf. */
		if (rep.len < sizeof(r) || r.region != index || r.offset != req.offset ||
		    r.count > n || rep.len - sizeof(r) < r.count)
			return -EPROTO;
		done += r.count;
		if (r.count < n)
			break; /* a short read ends the transfer, as pread does */
	}
	return (ssize_t)done;
}

static ssize_t vu_write(struct uvfio_client *c, uint32_t index, uint64_t pos,
			const void *buf, size_t count)
{
	struct vu_client *vc = vu(c);
	size_t done = 0;

	while (done < count) {
		uint32_t n = count - done < vc->xfer ? (uint32_t)(count - done) : vc->xfer;
		struct vfio_user_region_access req = { .region = index, .count = n }, r;
		uint8_t extra[16];
		struct vu_reply rep = { .fixed = &r, .fixed_cap = sizeof(r),
					.data = extra, .data_cap = sizeof(extra) };
		struct iovec iov[3] = { { 0 }, { &req, sizeof(req) },
					{ (uint8_t *)buf + done, n } };
		uint64_t off;
		int rc;

		/* req is packed: compute into an aligned local, then store. */
		if (__builtin_add_overflow(pos, done, &off))
			return -EINVAL;
		req.offset = off;
		rc = vu_call(vc, VFIO_USER_REGION_WRITE, iov, 3, NULL, 0, &rep);
		if (rc)
			return rc;
		if (rep.len < sizeof(r) || r.region != index || r.offset != req.offset ||
		    r.count > n)
			return -EPROTO;
		done += r.count;
		if (r.count < n)
			break;
	}
	return (ssize_t)done;
}

/*
 * REGION_WRITE with No_reply: one sendmsg per message (header, request and
 * the caller's bytes gathered), no wait. The server handles messages in
 * order and batches its reads, so a run of posted writes costs a send each.
 * A write that matches one of the device's doorbells writes its eventfd
 * instead (client_iofd.c).
 */
static ssize_t vu_write_posted(struct uvfio_client *c, uint32_t index, uint64_t pos,
			       const void *buf, size_t count)
{
	struct vu_client *vc = vu(c);
	size_t done = 0;

	int rung;

	if (vc->dead)
		return vc->dead;
	/* The fast path: a doorbell's eventfd instead of a message. */
	rung = vu_iofds_ring(c, index, pos, buf, count);
	if (rung)
		return rung < 0 ? rung : (ssize_t)count;
	while (done < count) {
		uint32_t n = count - done < vc->xfer ? (uint32_t)(count - done) : vc->xfer;
		struct vfio_user_region_access req = { .region = index, .count = n };
		uint8_t hdr[sizeof(struct vfio_user_header)];
		struct iovec iov[3] = { { hdr, sizeof(hdr) }, { &req, sizeof(req) },
					{ (uint8_t *)buf + done, n } };
		uint64_t offset; /* req is packed: no pointer to its members */
		int rc;

		if (__builtin_add_overflow(pos, done, &offset) ||
		    sizeof(req) + n > vc->max_msg)
			return -EINVAL;
		req.offset = offset;
		vu_hdr_encode(hdr, vc->next_id++, VFIO_USER_REGION_WRITE,
			      (uint32_t)(sizeof(req) + n),
			      VFIO_USER_F_TYPE_COMMAND | VFIO_USER_F_NO_REPLY, 0);
		rc = uvfio_tp_sendv(&vc->tp, iov, 3, NULL, 0, UVFIO_TP_NOWAIT);
		if (rc)
			return vu_fail(vc, rc, "send");
		done += n;
	}
	return (ssize_t)done;
}

/* ---- DMA ------------------------------------------------------------------------ */

static int vu_dma_map(struct uvfio_client *c, const struct uvfio_dma_map_args *a)
{
	struct vu_client *vc = vu(c);
	struct vfio_user_dma_map req;
	struct uvfio_client_window w;
	struct vu_reply rep = { 0 };
	struct iovec iov[2];
	int rc;

	if (!a->size || !(a->prot & (UVFIO_DMA_READ | UVFIO_DMA_WRITE)) ||
	    (a->prot & ~(UVFIO_DMA_READ | UVFIO_DMA_WRITE)))
		return -EINVAL;
	vu_dma_map_req_encode(&req, sizeof(req), a->prot, a->fd >= 0 ? a->fd_offset : 0,
			      a->iova, a->size);
	iov[1] = (struct iovec){ &req, sizeof(req) };
	if (a->fd >= 0) {
		if (!vc->max_fds)
			return -EOPNOTSUPP;
		return vu_call(vc, VFIO_USER_DMA_MAP, iov, 2, &a->fd, 1, &rep);
	}

	/* No fd: the server will ask us for the bytes, served from vaddr.
	 * The window is known before the request goes out, so the overlap
	 * and count limits are checked here first. */
	if (!a->vaddr)
		return -EINVAL;
	w = (struct uvfio_client_window){ a->iova, a->size, a->vaddr, a->prot };
	rc = uvfio_client_windows_add(&vc->wins, &w);
	if (rc)
		return rc;
	rc = vu_call(vc, VFIO_USER_DMA_MAP, iov, 2, NULL, 0, &rep);
	if (rc)
		uvfio_client_windows_remove(&vc->wins, a->iova, a->size);
	return rc;
}

static int vu_unmap(struct vu_client *vc, uint32_t flags, uint64_t iova, uint64_t size)
{
	struct vfio_user_dma_unmap req;
	uint8_t buf[64];
	struct vu_dma_unmap out;
	size_t len;
	int rc;

	vu_dma_unmap_req_encode(&req, sizeof(req), flags, iova, size, NULL);
	rc = vu_call_simple(vc, VFIO_USER_DMA_UNMAP, &req, sizeof(req), buf, sizeof(buf), &len);
	if (rc)
		return rc;
	/* libvfio-user and QEMU echo the request; be lenient with a bare reply. */
	if (len && vu_dma_unmap_rep_parse(buf, len, vc->xfer, &out))
		return -EPROTO;
	return 0;
}

static int vu_dma_unmap(struct uvfio_client *c, uint64_t iova, uint64_t size)
{
	struct vu_client *vc = vu(c);
	int rc = vu_unmap(vc, 0, iova, size);

	/* The server has dropped every access to it: forget the window (an
	 * fd-backed one was never recorded). */
	if (!rc)
		uvfio_client_windows_remove(&vc->wins, iova, size);
	return rc;
}

static int vu_dma_unmap_all(struct uvfio_client *c)
{
	struct vu_client *vc = vu(c);
	int rc = vu_unmap(vc, VFIO_USER_F_DMA_UNMAP_ALL, 0, 0);

	if (!rc)
		uvfio_client_windows_clear(&vc->wins);
	return rc;
}

/* ---- reset, features, migration ------------------------------------------------------ */

static int vu_reset(struct uvfio_client *c)
{
	return vu_call_simple(vu(c), VFIO_USER_DEVICE_RESET, NULL, 0, NULL, 0, NULL);
}

/*
 * As VFIO_DEVICE_FEATURE: the whole argsz buffer goes out; GET data comes
 * back into the data part while argsz and flags stay the caller's, as the
 * kernel's ioctl leaves them.
 */
static int vu_feature(struct uvfio_client *c, void *buf)
{
	struct vu_client *vc = vu(c);
	struct vfio_device_feature f;
	struct vfio_user_device_feature r;
	struct vu_feature out;
	struct iovec iov[2];
	struct vu_reply rep = { .fixed = &r, .fixed_cap = sizeof(r) };
	int rc;

	memcpy(&f, buf, sizeof(f));
	if (f.argsz < sizeof(f))
		return -EINVAL;
	if (f.argsz - sizeof(f) > vc->xfer)
		return -E2BIG;
	rep.data = (uint8_t *)buf + sizeof(f);
	rep.data_cap = f.argsz - sizeof(f);
	iov[1] = (struct iovec){ buf, f.argsz };
	rc = vu_call(vc, VFIO_USER_DEVICE_FEATURE, iov, 2, NULL, 0, &rep);
	if (rc)
		return rc;
	if (rep.len < sizeof(r) || vu_feature_rep_parse(&r, sizeof(r), &out))
		return -EPROTO;
	return 0;
}

static ssize_t vu_mig_read(struct uvfio_client *c, void *buf, size_t len)
{
	struct vu_client *vc = vu(c);
	uint32_t n = len < vc->xfer ? (uint32_t)len : vc->xfer;
	struct vfio_user_mig_data req, r;
	struct vu_reply rep = { .fixed = &r, .fixed_cap = sizeof(r), .data = buf, .data_cap = n };
	struct iovec iov[2] = { { 0 }, { &req, sizeof(req) } };
	int rc;

	if (!len)
		return 0;
	vu_mig_read_req_encode(&req, sizeof(req), n);
	rc = vu_call(vc, VFIO_USER_MIG_DATA_READ, iov, 2, NULL, 0, &rep);
	if (rc)
		return rc;
	/* The size field counts, not the message size (libvfio-user pads). */
	if (rep.len < sizeof(r) || r.size > n || rep.len - sizeof(r) < r.size)
		return -EPROTO;
	return r.size;
}

static int vu_mig_write(struct uvfio_client *c, const void *buf, size_t len)
{
	struct vu_client *vc = vu(c);
	size_t done = 0;

	while (done < len) {
		uint32_t n = len - done < vc->xfer ? (uint32_t)(len - done) : vc->xfer;
		struct vfio_user_mig_data req = { .argsz = (uint32_t)(sizeof(req) + n), .size = n };
		struct iovec iov[3] = { { 0 }, { &req, sizeof(req) },
					{ (uint8_t *)buf + done, n } };
		uint8_t extra[16];
		struct vu_reply rep = { .fixed = extra, .fixed_cap = sizeof(extra) };
		int rc = vu_call(vc, VFIO_USER_MIG_DATA_WRITE, iov, 3, NULL, 0, &rep);

		if (rc)
			return rc;
		done += n;
	}
	return 0;
}

/* ---- idle service ------------------------------------------------------------- */

static int vu_fd(struct uvfio_client *c)
{
	return vu(c)->sock;
}

static int vu_process(struct uvfio_client *c)
{
	return vu_serve_pending(vu(c), true);
}

const struct uvfio_client_backend uvfio_client_vfio_user = {
	.name = "vfio-user",
	.open = vu_open,
	.close = vu_close,
	.get_info = vu_get_info,
	.region = vu_region,
	.read = vu_read,
	.write = vu_write,
	.write_posted = vu_write_posted,
	.ioeventfds = vu_iofds_list,
	.irq_info = vu_irq_info,
	.set_irqs = vu_set_irqs,
	.dma_map = vu_dma_map,
	.dma_unmap = vu_dma_unmap,
	.dma_unmap_all = vu_dma_unmap_all,
	.reset = vu_reset,
	.feature = vu_feature,
	.mig_read = vu_mig_read,
	.mig_write = vu_mig_write,
	.fd = vu_fd,
	.process = vu_process,
};
