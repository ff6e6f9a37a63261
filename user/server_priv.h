/* SPDX-License-Identifier: MIT */
/*
 * The vfio-user server's private state, shared by
 *   server.c           listening socket, epoll loop, accept/refuse, stop
 *   server_conn.c      one client: receive, reply, in-order queue, teardown
 *   server_dma.c       DMA_READ/WRITE issued by the server (the DMA space's
 *                      message handler), waiting for the client's reply
 *   server_dispatch.c  one handler per command
 *   server_iofd.c      a connection's doorbell eventfds (GET_REGION_IO_FDS)
 *
 * Single-threaded: every function runs on the thread that calls
 * uvfio_server_dispatch()/run(); only uvfio_server_stop() may come from
 * elsewhere (a signal handler, another thread), and a device thread's
 * message-based DMA (vu_conn_dma_msg in DMA_THREAD mode: send_lock, lock,
 * cond and the waiter list below are what it shares).
 *
 * Server-issued DMA (server_dma.c) waits for the client's reply in one of
 * two modes:
 *   - inside a command (c->in_cmd: a region access that starts a DMA):
 *     commands that arrive meanwhile are queued and handled after that
 *     command, in order. Needs a client that serves DMA while it waits for
 *     a reply (ours, libvfio-user's); QEMU does not.
 *   - outside commands (a callback of uvfio_server_add_fd): commands that
 *     arrive meanwhile are handled at once, their replies go out, so QEMU's
 *     vCPU gets its register access answered and its main loop can then
 *     answer our DMA request. A command handled so may itself start a DMA:
 *     that one is inside a command (queue mode); a reply to the outer
 *     request that arrives during it is kept in c->outer_reply.
 * A device thread of its own may also DMA (DMA_THREAD): it sends under
 * send_lock, registers a struct vu_waiter and sleeps on `cond`; the
 * dispatching thread, which alone reads the socket, hands it the reply
 * (vu_conn_route_reply). Disconnect fails every waiter with -ECONNRESET
 * before the DMA space goes, so the thread is out before the conn is freed.
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

/* Payloads up to this size live in the message itself (most commands). */
#define VU_MSG_INLINE 48u

/*
 * A received message. The one being handled normally is the connection's
 * slot (c->slot, payload in c->pbuf or inline): receiving and answering a
 * command allocates nothing. A message received while the slot is taken (a
 * command or reply that arrives during a DMA wait) is allocated.
 */
struct vu_msg {
	struct vfio_user_header hdr;
	uint8_t *payload; /* len bytes: inline, the conn's pbuf, or malloc'd */
	size_t len;
	int fds[VFIO_USER_SERVER_MAX_FDS]; /* owned until a handler takes one (-1) */
	unsigned int nfds;
	int err; /* < 0: found bad while receiving; answer with it */
	/* A DMA_READ reply whose data went straight into the device's buffer
	 * (c->rx_dst): payload holds only {addr, count}, already checked. */
	bool direct;
	bool narrow;	      /* ... in QEMU's u32-count layout */
	struct vu_conn *slot_of; /* the conn whose slot this is, NULL: allocated */
	struct vu_msg *next;
	_Alignas(16) uint8_t inl[VU_MSG_INLINE]; /* aligned as malloc's */
};

/* A device thread waiting for the reply to its DMA request. */
struct vu_waiter {
	uint16_t id, cmd;
	bool done;
	int err;	      /* set with done and no reply: -ECONNRESET */
	struct vu_msg *reply; /* set with done */
	struct vu_waiter *next;
};

struct vu_conn {
	struct uvfio_server *srv;
	int fd;
	char name[48]; /* "<device>#<n>": names the connection in every log line */
	struct uvfio_tp tp;
	bool versioned;	  /* VERSION negotiated: the device is open */
	bool close_after_reply; /* refused at VERSION: reply, then hang up */
	bool dead;	  /* stream unusable: close once the current call unwinds */
	bool in_cmd;	  /* a command is being dispatched */
	bool told_in_cmd_dma; /* logged: a DMA inside a command holds commands */
	bool outer_waiting;   /* a DMA outside commands waits for its reply: */
	uint16_t outer_id, outer_cmd; /* the request's msg_id and command */
	struct vu_msg *outer_reply;   /* its reply, if a nested wait got it */
	struct vu_caps caps; /* the client's */
	struct uvfio_dma *dma;
	uint16_t next_id;     /* msg_id of the next server-issued request */
	bool dma_narrow;      /* the client answered DMA_READ in QEMU's u32
				 layout: send DMA_WRITE in it too (§4.1) */
	bool dma_layout_known; /* a DMA_READ reply has shown the layout */
	struct vu_msg *q_head, *q_tail; /* commands that arrived during a DMA wait */
	unsigned int q_len;
	size_t q_bytes;
	/* Shared with device threads (DMA_THREAD): */
	pthread_mutex_t send_lock; /* one message on the wire at a time */
	pthread_mutex_t lock;	   /* next_id, waiters, closed, layout flags */
	pthread_cond_t cond;	   /* a waiter is done */
	struct vu_waiter *waiters;
	bool closed;		   /* disconnected: no new waiter */
	uint8_t *rbuf;	      /* reply: header + payload */
	size_t rbuf_cap;
	struct vu_iofd *iofds; /* doorbell eventfds handed out (server_iofd.c) */
	bool told_iofd_limit;  /* logged: the client takes too few fds for them */
	/* The message slot (see struct vu_msg) and its payload buffer. */
	struct vu_msg slot;
	bool slot_busy;
	uint8_t *pbuf; /* max_msg_size */
	/* The DMA_READ reply being waited for on this thread: its data is
	 * received straight into buf (server_dma.c). */
	struct vu_rx_dst {
		bool armed;
		uint16_t id;
		uint64_t iova;
		uint8_t *buf;
		size_t len;
	} rx_dst;
};

/* A callback registered with uvfio_server_add_fd(). */
struct vu_fd_cb {
	int fd;
	void (*fn)(void *opaque);
	void *opaque;
	bool removed;	/* freed once the current dispatch is over */
	struct vu_fd_cb *next;
};

struct uvfio_server {
	struct uvfio_device *dev;
	char *path; /* unlinked on destroy; NULL with an inherited listen fd */
	int listen_fd;
	int epfd;
	int stop_efd;
	int wake_efd;	/* messages are buffered or queued: serve them */
	struct vu_fd_cb *cbs;	  /* uvfio_server_add_fd() */
	struct vu_fd_cb *cb_dead; /* removed during a dispatch */
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
	pthread_t owner;  /* the thread that dispatches (creates, at first):
			     the only one that reads the socket */
	bool dispatching; /* inside uvfio_server_dispatch() */
	uvfio_server_open_check_fn open_check; /* uvfio_server_set_open_check() */
	void *open_check_opaque;
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
struct vu_msg *vu_conn_dequeue(struct vu_conn *c);
/* Buffered or queued messages are left: have the next dispatch serve them. */
void vu_conn_wake(struct vu_conn *c);
/* A reply a device thread waits for: hand it over (true) or not ours. */
bool vu_conn_route_reply(struct vu_conn *c, struct vu_msg *m);
/* Wake every waiting device thread with err; -ECONNRESET: no new ones. */
void vu_conn_fail_waiters(struct vu_conn *c, int err);
/* First valid VERSION: open the device, create the DMA space. */
int vu_conn_attach(struct vu_conn *c);


/* A message that outlives its turn on the dispatching thread (handed to a
 * device thread): the slot's is copied to the heap. NULL: no memory. */
struct vu_msg *vu_msg_detach(struct vu_msg *m);

/* server_dma.c: the DMA space's message handler */
int vu_conn_dma_msg(void *opaque, uint64_t iova, void *buf, size_t len, bool is_write);
/*
 * The payload of the DMA_READ reply c->rx_dst waits for (header in m):
 * {addr, count} into m->payload; if they match the request, the data
 * straight into rx_dst.buf (m->direct), else the rest is skipped (the
 * reply is then refused as malformed). Returns 0 or a transport error.
 */
int vu_dma_recv_direct(struct vu_conn *c, struct vu_msg *m);

/* server_iofd.c */
/*
 * The eventfds of the first n doorbells of region `index` (n <= what the
 * device lists), into fds[]: made and polled on the first request, the
 * same ones afterwards. Not owned by the caller.
 */
int vu_iofds_get(struct vu_conn *c, uint32_t index, uint32_t n, int *fds);
/* Stop polling and close them all (the client is leaving). */
void vu_iofds_release(struct vu_conn *c);

/* server_dispatch.c */
#define VU_REPLY_MAX_FDS 16u
struct vu_reply {
	uint8_t *buf; /* payload area */
	size_t cap;
	size_t len;
	int fd;	      /* one fd to send with the reply, -1: none (not owned) */
	int fds[VU_REPLY_MAX_FDS]; /* or nfds of them (not owned) */
	unsigned int nfds;
};
int vu_dispatch(struct vu_conn *c, struct vu_msg *m, struct vu_reply *r);

#endif
