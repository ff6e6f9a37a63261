/* SPDX-License-Identifier: MIT */
/*
 * vfio-user message transport over a UNIX stream socket, shared by the
 * server and the client. It knows the framing only: a message is a 16-byte
 * header whose u32 at offset 4 is the whole message size (header included),
 * then the payload. fds travel in one SCM_RIGHTS control message attached to
 * the first byte of the header. Commands, flags and payload layouts belong
 * to the codec (proto.h), not here.
 *
 * Every wait is bounded by a deadline (CLOCK_MONOTONIC ns) so a stalled peer
 * never blocks a caller forever. The socket may be blocking or not; a blocking
 * socket gets SO_RCVTIMEO/SO_SNDTIMEO so that one blocking syscall is the
 * common case (no poll before every recv).
 *
 * Receiving is batched: the header is read with one recvmsg into a small
 * connection buffer that also takes whatever payload (and following
 * messages) are already queued, so a short reply costs one syscall. Reads
 * never run past the current message while fds received earlier still wait
 * for their message, which keeps fds tied to the message they came with.
 *
 * Not thread safe: one connection is driven by one thread at a time.
 */
#ifndef UVFIO_USER_TRANSPORT_H
#define UVFIO_USER_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define UVFIO_TP_HDR_SIZE 16u
#define UVFIO_TP_MSG_SIZE_OFFSET 4u /* u32 msg_size inside the header */
#define UVFIO_TP_MAX_FDS 253	    /* Linux's SCM_MAX_FD */
#define UVFIO_TP_RXBUF_SIZE 8192u   /* batched-read buffer per connection */

/* Deadline value meaning "don't wait for a message to start". */
#define UVFIO_TP_NOWAIT 0ull

struct uvfio_tp {
	int fd;
	bool blocking;	   /* socket without O_NONBLOCK: SO_*TIMEO are set */
	uint32_t timeout_ms; /* bound for each blocking syscall, and for the
				rest of a message once it has started */
	uint64_t coarse_res_ns; /* CLOCK_MONOTONIC_COARSE's resolution, 0: unused */
	/* Receive side. rx[rx_off, rx_len) is buffered stream data;
	 * rx_pos is the stream offset of rx[rx_off]. */
	uint8_t *rx;
	size_t rx_off, rx_len;
	uint64_t rx_pos;
	/* The message whose header was returned last: stream end offset and
	 * how much of its payload the caller has not taken yet. */
	uint64_t msg_end;
	uint64_t payload_left;
	/* fds received with stream bytes ending at pend_end, not yet handed
	 * to their message (the last message starting before pend_end). */
	int pend[UVFIO_TP_MAX_FDS];
	unsigned int npend;
	uint64_t pend_end;
	/* fds the receive control buffer has room for (tests lower it to
	 * provoke MSG_CTRUNC); UVFIO_TP_MAX_FDS by default. */
	unsigned int cmsg_fds;
	/* The last read into the buffer was short (or found nothing) and
	 * brought no fds (a read stops after an skb with fds): the socket held
	 * no more at that moment. A caller woken by readiness may go back to
	 * waiting instead of reading again to learn that it is empty. */
	bool rx_drained;
	uint64_t nr_recvmsg; /* recvmsg calls made, for tests and benches */
	uint64_t nr_send;    /* send/sendmsg calls made */
};

/*
 * Take over `fd` (a connected stream socket) for message I/O. The caller
 * still owns fd and closes it after uvfio_tp_fini(). timeout_ms 0 means 5000.
 * Returns 0 or -ENOMEM / -errno of setsockopt.
 */
int uvfio_tp_init(struct uvfio_tp *tp, int fd, uint32_t timeout_ms);
/* Frees the buffer and closes fds received but never handed out. */
void uvfio_tp_fini(struct uvfio_tp *tp);

uint64_t uvfio_tp_now_ns(void);
/* now + timeout_ms, as an absolute deadline. */
uint64_t uvfio_tp_deadline(uint32_t timeout_ms);

/*
 * Send one message (iov[0] starts with the header) with one send (one flat
 * buffer: adjacent pieces, or a small message copied together) or one
 * sendmsg; fds (at most UVFIO_TP_MAX_FDS) are attached to its first byte.
 * deadline UVFIO_TP_NOWAIT means timeout_ms from now: the first try doesn't
 * block, and the clock is read only if the message can't go at once. A partial write is
 * completed without sending the fds again. MSG_NOSIGNAL: a closed peer gives
 * -EPIPE (or -ECONNRESET), never SIGPIPE. -ETIMEDOUT when the peer does not
 * drain its socket before the deadline (the message may then be cut: the
 * stream is no longer usable). iov is not modified.
 */
int uvfio_tp_sendv(struct uvfio_tp *tp, const struct iovec *iov, int iovcnt,
		   const int *fds, unsigned int nfds, uint64_t deadline);
/* Header + payload (payload may be NULL with len 0). */
int uvfio_tp_send(struct uvfio_tp *tp, const void *hdr, const void *payload,
		  size_t len, const int *fds, unsigned int nfds, uint64_t deadline);

/*
 * Receive the next message header (UVFIO_TP_HDR_SIZE bytes into hdr) and the
 * fds sent with that message (into fds[max_fds], count in *nfds; the caller
 * owns them). The payload of the previous message must have been taken or
 * skipped. With deadline UVFIO_TP_NOWAIT it returns -EAGAIN unless a message
 * has started; once one has, its header is waited for up to timeout_ms.
 * Errors: -ETIMEDOUT; -ECONNRESET peer closed (also mid-message); -EPROTO
 * control data truncated (its fds are closed) or msg_size < 16 (stream
 * unusable); -EMSGSIZE more than max_fds fds (they are closed, *nfds = 0,
 * the header is valid and the payload can still be skipped); -errno.
 */
int uvfio_tp_recv_hdr(struct uvfio_tp *tp, void *hdr, int *fds,
		      unsigned int max_fds, unsigned int *nfds, uint64_t deadline);
/* Payload bytes of the current message not taken yet. */
static inline uint64_t uvfio_tp_payload_left(const struct uvfio_tp *tp)
{
	return tp->payload_left;
}
/*
 * Take the next len bytes of the current message's payload (len <=
 * payload_left, else -EINVAL). Large payloads are read straight into buf.
 * Errors as uvfio_tp_recv_hdr; fds arriving inside a payload -> -EPROTO.
 */
int uvfio_tp_recv_payload(struct uvfio_tp *tp, void *buf, size_t len,
			  uint64_t deadline);
/* Discard the rest of the current message's payload. */
int uvfio_tp_skip_payload(struct uvfio_tp *tp, uint64_t deadline);
/* Whether buffered bytes already hold the start of a message. */
static inline bool uvfio_tp_buffered(const struct uvfio_tp *tp)
{
	return tp->payload_left == 0 && tp->rx_len > tp->rx_off;
}

/*
 * Whether another message may be there without waiting: bytes are buffered,
 * or the last read filled what it asked for (the socket may hold more).
 * false means the socket was empty after the last read; data that came
 * since makes it readable again, so a poll/epoll wait sees it.
 */
static inline bool uvfio_tp_maybe_more(const struct uvfio_tp *tp)
{
	return tp->rx_len > tp->rx_off || !tp->rx_drained;
}

/* Close received fds (negative entries are skipped) and mark them -1. */
void uvfio_tp_close_fds(int *fds, unsigned int n);

/*
 * Wait until fd is ready for `events` (POLLIN/POLLOUT) or the deadline
 * passes. Returns 0, -ETIMEDOUT, -errno. EINTR is retried.
 */
int uvfio_tp_wait(int fd, short events, uint64_t deadline);

#endif
