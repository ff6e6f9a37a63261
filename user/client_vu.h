/* SPDX-License-Identifier: MIT */
/*
 * Private to the vfio-user client backend: the connection state and the
 * request/reply machinery (client_vu_msg.c) the verbs (client_vfio_user.c)
 * are built on.
 */
#ifndef UVFIO_USER_CLIENT_VU_H
#define UVFIO_USER_CLIENT_VU_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "user/client_backend.h"
#include "user/client_windows.h"
#include "user/codec.h"
#include "user/transport.h"

#define VU_CLIENT_MAX_FDS 16u	       /* fds we receive in one message */
#define VU_CLIENT_MAX_XFER (1u << 20)  /* largest DMA_READ/WRITE we serve */

struct vu_client {
	const char *who; /* c->location, for log lines */
	int sock;
	struct uvfio_tp tp;
	uint16_t next_id;
	int dead; /* 0, or the negative errno that killed the connection */
	struct vu_caps peer;
	uint32_t xfer;	  /* largest count we send: the server's max_data_xfer_size */
	uint32_t max_fds; /* fds the server takes in one message */
	uint32_t max_msg; /* largest message we accept */
	struct uvfio_client_windows wins;
	bool no_iofds;		     /* opts.no_ioeventfds */
	uint32_t iofd_nregions;	     /* entries of iofd, sized at first use */
	struct vu_iofd_region **iofd; /* doorbells per region (client_iofd.c) */
};

/* Where a reply's payload goes: the first bytes into `fixed`, the rest
 * straight into `data` (zero copy for read data). */
struct vu_reply {
	void *fixed;
	size_t fixed_cap;
	void *data;
	size_t data_cap;
	size_t len; /* out: payload length */
	int *fds;   /* fds accepted with the reply, NULL: none */
	unsigned int max_fds, nfds;
};

static inline struct vu_client *vu(struct uvfio_client *c)
{
	return c->be_priv;
}

/* Mark the connection dead (first error wins); returns that error. */
int vu_fail(struct vu_client *vc, int err, const char *what);
/*
 * Send a command (iov[0] is filled with its header here; iov[1..] hold the
 * payload) and wait for its reply, serving server requests meanwhile.
 * Returns 0, -errno of an error reply (0 there becomes -EIO), -EPROTO for a
 * reply of the wrong shape, or the error that killed the connection.
 */
int vu_call(struct vu_client *vc, uint16_t cmd, struct iovec *iov, int iovcnt,
	    const int *fds, unsigned int nfds, struct vu_reply *rep);
/* A call whose request and reply are small contiguous buffers. */
int vu_call_simple(struct vu_client *vc, uint16_t cmd, const void *req,
		   size_t req_len, void *rep, size_t rep_cap, size_t *rep_len);
/*
 * Serve server requests already waiting: those buffered by the last read,
 * and with `socket_too` also those queued on the socket. Never waits for a
 * message to start. Returns how many were served, or the link's death.
 */
int vu_serve_pending(struct vu_client *vc, bool socket_too);

/*
 * client_iofd.c: the device's doorbells. vu_iofds_ring() rings the doorbell
 * a posted write matches: 1 if it did, 0 if the write is no doorbell's (or
 * doorbells are off), or the error that killed the connection while asking
 * for them.
 */
int vu_iofds_list(struct uvfio_client *c, uint32_t index,
		  struct uvfio_client_ioeventfd *out, size_t cap);
int vu_iofds_ring(struct uvfio_client *c, uint32_t index, uint64_t pos,
		  const void *buf, size_t count);
void vu_iofds_fini(struct vu_client *vc);

#endif
