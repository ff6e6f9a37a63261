/* SPDX-License-Identifier: MIT */
/*
 * The vfio-user client's doorbells: DEVICE_GET_REGION_IO_FDS, asked once per
 * region (on its first posted write, or when the caller lists them), and
 * kept until close. A posted write that matches an entry writes 1 to its
 * eventfd instead of sending REGION_WRITE.
 *
 * Replies are read in the spec's 40-byte layout and in libvfio-user's
 * 48-byte one (codec). Only plain ioeventfds with KVM's DATAMATCH flag (or
 * none) are used; other types and flags we cannot honour are left out, and
 * a server that refuses the command (one that predates it) has none.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uvfio/log.h>

#include "user/client_vu.h"

#define IOFD_MAX VU_CLIENT_MAX_FDS /* entries (and fds) we take per region */
#define IOFD_ARGSZ (16u + IOFD_MAX * 48u) /* room for either layout */

struct vu_iofd_region {
	uint32_t n;				/* usable entries */
	struct uvfio_client_ioeventfd e[IOFD_MAX];
	uint32_t nfds;				/* every fd received, closed at close */
	int fds[IOFD_MAX];
};

static bool size_ok(uint64_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* Take the usable entries of a reply; the fds become the region's. */
static int take(struct vu_client *vc, uint32_t index, const uint8_t *buf, size_t len,
		const int *fds, unsigned int nfds, struct vu_iofd_region *r)
{
	struct vfio_user_region_io_fds io;
	const void *ents;
	size_t stride;

	memcpy(r->fds, fds, nfds * sizeof(int));
	r->nfds = nfds;
	if (vu_region_io_fds_rep_parse(buf, len, &io, &ents, &stride) || io.index != index ||
	    (io.count && !ents) || io.count > IOFD_MAX)
		return -EPROTO;
	for (uint32_t i = 0; i < io.count; i++) {
		struct vfio_user_sub_region_ioeventfd e;
		bool dm;

		vu_region_io_fds_entry(ents, stride, i, &e);
		if (e.fd_index >= nfds)
			return -EPROTO;
		dm = e.flags & VFIO_USER_IOEVENTFD_DATAMATCH;
		if (e.type != VFIO_USER_IO_FD_TYPE_IOEVENTFD ||
		    (e.flags & ~VFIO_USER_IOEVENTFD_DATAMATCH) || !size_ok(e.size) ||
		    (dm && e.size < 8 && e.datamatch >> (8 * e.size))) {
			uvfio_log(UVFIO_LOG_DEBUG, vc->who,
				  "region %u: io fd %u (type %u flags %#x size %llu) not used",
				  index, i, e.type, e.flags, (unsigned long long)e.size);
			continue;
		}
		r->e[r->n++] = (struct uvfio_client_ioeventfd){
			.offset = e.offset, .size = (uint32_t)e.size, .datamatch = dm,
			.data = dm ? e.datamatch : 0, .fd = fds[e.fd_index],
		};
	}
	return 0;
}

/* Ask the server once; a refusal or a reply we cannot use means none. */
static int fetch(struct vu_client *vc, uint32_t index, struct vu_iofd_region *r)
{
	uint8_t buf[IOFD_ARGSZ];
	struct vfio_user_region_io_fds req;
	int fds[IOFD_MAX];
	struct vu_reply rep = { .fixed = buf, .fixed_cap = sizeof(buf), .fds = fds,
				.max_fds = IOFD_MAX };
	struct iovec iov[2];
	int rc;

	vu_region_io_fds_req_encode(&req, sizeof(req), index, IOFD_ARGSZ);
	iov[1] = (struct iovec){ &req, sizeof(req) };
	rc = vu_call(vc, VFIO_USER_DEVICE_GET_REGION_IO_FDS, iov, 2, NULL, 0, &rep);
	if (rc && vc->dead)
		return rc;
	if (!rc)
		rc = take(vc, index, buf, rep.len, fds, rep.nfds, r);
	if (rc) {
		/* More than we can take, malformed, or not implemented:
		 * writes go as messages, which is always correct. */
		uvfio_log(UVFIO_LOG_DEBUG, vc->who, "region %u: no doorbells (%s)", index,
			  strerror(-rc));
		for (uint32_t i = 0; i < r->nfds; i++)
			close(r->fds[i]);
		memset(r, 0, sizeof(*r));
	}
	return 0;
}

/* The region's doorbells, asked for on first use; NULL with *err on failure. */
static struct vu_iofd_region *region(struct uvfio_client *c, uint32_t index, int *err)
{
	struct vu_client *vc = vu(c);
	struct vu_iofd_region *r;

	*err = 0;
	if (vc->no_iofds || index >= c->info.num_regions)
		return NULL;
	if (!vc->iofd) {
		vc->iofd = calloc(c->info.num_regions, sizeof(*vc->iofd));
		if (!vc->iofd)
			return NULL; /* no memory: the slow path still works */
		vc->iofd_nregions = c->info.num_regions;
	}
	if (vc->iofd[index])
		return vc->iofd[index];
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	*err = fetch(vc, index, r);
	if (*err) {
		free(r);
		return NULL;
	}
	vc->iofd[index] = r;
	return r;
}

int vu_iofds_list(struct uvfio_client *c, uint32_t index,
		  struct uvfio_client_ioeventfd *out, size_t cap)
{
	int err;
	struct vu_iofd_region *r = region(c, index, &err);

	if (!r)
		return err;
	for (uint32_t i = 0; i < r->n && i < cap; i++)
		out[i] = r->e[i];
	return (int)r->n;
}

int vu_iofds_ring(struct uvfio_client *c, uint32_t index, uint64_t pos,
		  const void *buf, size_t count)
{
	static const uint64_t one = 1;
	struct vu_iofd_region *r;
	uint64_t v = 0;
	int err;

	if (!size_ok(count))
		return 0;
	r = region(c, index, &err);
	if (!r)
		return err;
	for (size_t b = 0; b < count; b++) /* little endian, as the wire */
		v |= (uint64_t)((const uint8_t *)buf)[b] << (8 * b);
	for (uint32_t i = 0; i < r->n; i++) {
		const struct uvfio_client_ioeventfd *e = &r->e[i];

		if (e->offset != pos || e->size != count || (e->datamatch && e->data != v))
			continue;
		/* EAGAIN only when the counter is about to overflow: then the
		 * message path does the job. */
		return write(e->fd, &one, sizeof(one)) == sizeof(one);
	}
	return 0;
}

void vu_iofds_fini(struct vu_client *vc)
{
	for (uint32_t i = 0; i < vc->iofd_nregions; i++) {
		struct vu_iofd_region *r = vc->iofd[i];

		if (!r)
			continue;
		for (uint32_t k = 0; k < r->nfds; k++)
			close(r->fds[k]);
		free(r);
	}
	free(vc->iofd);
	vc->iofd = NULL;
	vc->iofd_nregions = 0;
}
