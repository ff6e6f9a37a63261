/* SPDX-License-Identifier: MIT */
/*
 * The vfio-user server's private state, shared by
 *   server.c           listening socket, epoll loop, accept/refuse, stop
 *   server_conn.c      one client: receive, reply, in-order queue, teardown
 *   server_dma.c       DMA_READ/WRITE issued by the server (the DMA space's
 *                      message handler), waiting for the client's reply
 *   server_dispatch.c  one handler per command
 *
 * Single-threaded: every function runs on the thread that calls
 * uvfio_server_dispatch()/run(); only uvfio_server_stop() may come from
 * elsewhere (a signal handler, another thread).
 */
#ifndef UVFIO_USER_SERVER_PRIV_H
#define UVFIO_USER_SERVER_PRIV_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <uvfio/server.h>
#include <uvfio/dma.h>

#include "user/codec.h"
#include "user/transport.h"

/* Commands (and their bytes) that may wait behind a DMA reply; more and
 * the client is flooding us: it gets dropped. */
#define VU_QUEUE_MAX 256u
#define VU_QUEUE_MAX_BYTES (16u << 20)

struct vu_msg {
	struct vfio_user_header hdr;
	uint8_t *payload; /* malloc'd; hdr.msg_size - 16 bytes, NULL if none */
	size_t len;
	int fds[VFIO_USER_SERVER_MAX_FDS]; /* owned until a handler takes one (-1) */
	unsigned int nfds;
	int err; /* < 0: found bad while receiving; answer with it */
	struct vu_msg *next;
};

struct vu_conn {
	struct uvfio_server *srv;
	int fd;
	char name[48]; /* "<device>#<n>": names the connection in every log line */
	struct uvfio_tp tp;
	bool versioned;	  /* VERSION negotiated: the device is open */
	bool dead;	  /* stream unusable: close once the current call unwinds */
	struct vu_caps caps; /* the client's */
	struct uvfio_dma *dma;
	uint16_t next_id;     /* msg_id of the next server-issued request */
	bool dma_narrow;      /* the client answered DMA_READ in QEMU's u32
				 layout: send DMA_WRITE in it too (§4.1) */
	bool dma_layout_known; /* a DMA_READ reply has shown the layout */
	struct vu_msg *q_head, *q_tail; /* commands that arrived during a DMA wait */
	unsigned int q_len;
	size_t q_bytes;
	uint8_t *rbuf;	      /* reply: header + payload */
	size_t rbuf_cap;
};

struct uvfio_server {
	struct uvfio_device *dev;
	char *path; /* unlinked on destroy; NULL with an inherited listen fd */
	int listen_fd;
	int epfd;
	int stop_efd;
	volatile sig_atomic_t stopping;
	struct vu_conn *conn; /* one client at a time */
	unsigned int nconn;   /* connections so far, for names */
	uint32_t max_dma_maps;
	uint32_t max_xfer;
	uint32_t msg_timeout_ms;
	uint32_t max_msg_size;
	uint32_t allow_uids[UVFIO_SERVER_MAX_ALLOW];
	uint32_t allow_gids[UVFIO_SERVER_MAX_ALLOW];
	size_t n_allow_uids, n_allow_gids;
	pthread_t owner;  /* the thread in dispatch: the only one that may
			     use the socket (message-based DMA included) */
	bool dispatching;
};

/* server_conn.c */
int vu_conn_create(struct uvfio_server *srv, int fd, struct vu_conn **out);
void vu_conn_destroy(struct vu_conn *c);
/*
 * Receive one message. deadline UVFIO_TP_NOWAIT: -EAGAIN if none started.
 * 0 with *out set: a message to handle (possibly with m->err set). Any other
 * error marks the connection dead (an error reply has been sent if the
 * header could be read).
 */
int vu_conn_recv(struct vu_conn *c, uint64_t deadline, struct vu_msg **out);
void vu_msg_free(struct vu_msg *m);
/* Handle a command (or a misplaced reply): dispatch, reply, free. */
void vu_conn_handle(struct vu_conn *c, struct vu_msg *m);
/* Serve what the socket holds now, then the queue, in order. */
void vu_conn_serve(struct vu_conn *c);
int vu_conn_send(struct vu_conn *c, const void *hdr, const void *payload,
		 size_t len, const int *fds, unsigned int nfds);
int vu_conn_enqueue(struct vu_conn *c, struct vu_msg *m);
/* First valid VERSION: open the device, create the DMA space. */
int vu_conn_attach(struct vu_conn *c);

/* server_dma.c: the DMA space's message handler */
int vu_conn_dma_msg(void *opaque, uint64_t iova, void *buf, size_t len, bool is_write);

/* server_dispatch.c */
struct vu_reply {
	uint8_t *buf; /* payload area */
	size_t cap;
	size_t len;
	int fd;	      /* one fd to send with the reply, -1: none (not owned) */
};
int vu_dispatch(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r);

#endif
