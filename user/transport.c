/* SPDX-License-Identifier: MIT */
/*
 * vfio-user message transport: framing, fd passing and deadlines on a UNIX
 * stream socket. See transport.h for the rules this file keeps.
 *
 * How fds stay with their message: the sender attaches them to the first
 * byte of a message's header, and a UNIX stream recvmsg that picks up an
 * skb's fds stops at the end of that skb. So the fds returned by one recvmsg
 * belong to the last message that starts inside the bytes it returned. We
 * keep them (pend, pend_end) until the header of that message is parsed, and
 * while some wait we never read past the current message, so at most one set
 * is ever pending.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "user/transport.h"

#define NSEC_PER_MSEC 1000000ull
#define TP_MAX_IOV 8
/* Messages up to this size without fds are sent from one flat copy. */
#define TP_FLAT_MAX 256u

uint64_t uvfio_tp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t uvfio_tp_deadline(uint32_t timeout_ms)
{
	return uvfio_tp_now_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
}

int uvfio_tp_init(struct uvfio_tp *tp, int fd, uint32_t timeout_ms)
{
	int fl;

	memset(tp, 0, sizeof(*tp));
	tp->fd = fd;
	tp->timeout_ms = timeout_ms ? timeout_ms : 5000;
	tp->cmsg_fds = UVFIO_TP_MAX_FDS;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	tp->blocking = !(fl & O_NONBLOCK);
	if (tp->blocking) {
		struct timespec res;
		/* Each blocking syscall is bounded, so a blocking recv (one
		 * syscall) can stand in for poll + recv on the hot path. */
		struct timeval tv = {
			.tv_sec = tp->timeout_ms / 1000,
			.tv_usec = (tp->timeout_ms % 1000) * 1000,
		};

		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
			return -errno;
		/* A coarse clock that ticks in 10 ms or less may decide may_block(). */
		if (!clock_getres(CLOCK_MONOTONIC_COARSE, &res) && !res.tv_sec &&
		    res.tv_nsec <= 10 * (long)NSEC_PER_MSEC)
			tp->coarse_res_ns = (uint64_t)res.tv_nsec;
	}
	tp->rx = malloc(UVFIO_TP_RXBUF_SIZE);
	if (!tp->rx)
		return -ENOMEM;
	return 0;
}

void uvfio_tp_close_fds(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

void uvfio_tp_fini(struct uvfio_tp *tp)
{
	uvfio_tp_close_fds(tp->pend, tp->npend);
	tp->npend = 0;
	free(tp->rx);
	tp->rx = NULL;
}

int uvfio_tp_wait(int fd, short events, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		uint64_t now = uvfio_tp_now_ns();
		uint64_t left;
		int ms, rc;

		if (now >= deadline)
			return -ETIMEDOUT;
		left = deadline - now;
		/* Round up so we never wake just before the deadline. */
		ms = left / NSEC_PER_MSEC > 3600000 ? 3600000
						    : (int)((left + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
		rc = poll(&pfd, 1, ms);
		if (rc > 0)
			return 0; /* readable, writable, or HUP/ERR: the syscall tells */
		if (rc < 0 && errno != EINTR)
			return -errno;
	}
}

/*
 * A blocking syscall lasts up to timeout_ms (SO_*TIMEO). Use one only when
 * that cannot overshoot the deadline by more than a little slack; otherwise
 * poll for exactly the time left.
 */
static bool may_block(const struct uvfio_tp *tp, uint64_t deadline)
{
	uint64_t timeo = (uint64_t)tp->timeout_ms * NSEC_PER_MSEC;
	uint64_t slack = timeo / 8 < 50 * NSEC_PER_MSEC ? timeo / 8 : 50 * NSEC_PER_MSEC;
	uint64_t end;

	if (!tp->blocking)
		return false;
	/* The coarse clock (a third of the cost) plus its resolution is never
	 * earlier than the precise one: if even that end fits, block. */
	if (tp->coarse_res_ns) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		end = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec +
		      tp->coarse_res_ns + timeo;
		if (end <= deadline || end - deadline <= slack)
			return true;
	}
	end = uvfio_tp_now_ns() + timeo; /* when a blocking call gives up at worst */
	return end <= deadline || end - deadline <= slack;
}

static uint64_t started_deadline(const struct uvfio_tp *tp, uint64_t deadline)
{
	return deadline == UVFIO_TP_NOWAIT ? uvfio_tp_deadline(tp->timeout_ms) : deadline;
}

/* ---- send ---------------------------------------------------------------- */

/*
 * Gather iov into v[] the way it goes out best: pieces adjacent in memory
 * become one, and a small message without fds is copied into `flat` so that
 * it leaves with send(2), which costs less than sendmsg(2) (no msghdr to
 * copy in, no iovec import; ≈0.25 µs on the 2-vCPU VM of bench/README.md).
 * Returns the new iovec count, or -EINVAL.
 */
static int gather(const struct iovec *iov, int iovcnt, unsigned int nfds,
		  struct iovec *v, uint8_t *flat, size_t *total)
{
	int n = 0;

	*total = 0;
	for (int i = 0; i < iovcnt; i++) {
		if (__builtin_add_overflow(*total, iov[i].iov_len, total))
			return -EINVAL;
		if (!iov[i].iov_len)
			continue;
		if (n && (char *)v[n - 1].iov_base + v[n - 1].iov_len == iov[i].iov_base)
			v[n - 1].iov_len += iov[i].iov_len;
		else
			v[n++] = iov[i];
	}
	if (n > 1 && !nfds && *total <= TP_FLAT_MAX) {
		size_t off = 0;

		for (int i = 0; i < n; i++) {
			memcpy(flat + off, v[i].iov_base, v[i].iov_len);
			off += v[i].iov_len;
		}
		v[0] = (struct iovec){ flat, off };
		n = 1;
	}
	return n;
}

int uvfio_tp_sendv(struct uvfio_tp *tp, const struct iovec *iov, int iovcnt,
		   const int *fds, unsigned int nfds, uint64_t deadline)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * UVFIO_TP_MAX_FDS)];
	} ctl;
	struct iovec v[TP_MAX_IOV];
	uint8_t flat[TP_FLAT_MAX];
	struct msghdr msg = { 0 };
	size_t total;
	int first = 0;

	if (iovcnt < 1 || iovcnt > TP_MAX_IOV || nfds > UVFIO_TP_MAX_FDS)
		return -EINVAL;
	iovcnt = gather(iov, iovcnt, nfds, v, flat, &total);
	if (iovcnt < 0 || total < UVFIO_TP_HDR_SIZE)
		return -EINVAL;

	if (nfds) {
		struct cmsghdr *cm;

		memset(ctl.buf, 0, CMSG_SPACE(sizeof(int) * nfds));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}

	while (total) {
		int flags = MSG_NOSIGNAL;
		ssize_t n;

		/* NOWAIT (timeout_ms from now): the first try never blocks, so
		 * the clock is read only if the message can't go at once. */
		if (deadline == UVFIO_TP_NOWAIT || !may_block(tp, deadline))
			flags |= MSG_DONTWAIT;

		if (first + 1 == iovcnt && !msg.msg_controllen) {
			n = send(tp->fd, v[first].iov_base, v[first].iov_len, flags);
		} else {
			msg.msg_iov = &v[first];
			msg.msg_iovlen = (size_t)(iovcnt - first);
			n = sendmsg(tp->fd, &msg, flags);
		}
		tp->nr_send++;
		if (n < 0) {
			int rc;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			if (deadline == UVFIO_TP_NOWAIT) {
				deadline = uvfio_tp_deadline(tp->timeout_ms);
				continue; /* now blocking, if the socket is */
			}
			rc = uvfio_tp_wait(tp->fd, POLLOUT, deadline);
			if (rc)
				return rc;
			continue;
		}
		/* The fds went with the first skb: never send them twice. */
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
		total -= (size_t)n;
		if (total)
			deadline = started_deadline(tp, deadline);
		while (n > 0) {
			size_t step = (size_t)n < v[first].iov_len ? (size_t)n : v[first].iov_len;

			v[first].iov_base = (char *)v[first].iov_base + step;
			v[first].iov_len -= step;
			n -= (ssize_t)step;
			if (!v[first].iov_len && first + 1 < iovcnt)
				first++;
		}
		while (first + 1 < iovcnt && !v[first].iov_len)
			first++;
	}
	return 0;
}

int uvfio_tp_send(struct uvfio_tp *tp, const void *hdr, const void *payload,
		  size_t len, const int *fds, unsigned int nfds, uint64_t deadline)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)hdr, .iov_len = UVFIO_TP_HDR_SIZE },
		{ .iov_base = (void *)payload, .iov_len = len },
	};

	return uvfio_tp_sendv(tp, iov, len ? 2 : 1, fds, nfds, deadline);
}

/* ---- receive ------------------------------------------------------------- */

/*
 * One recvmsg into buf[len]. Received fds land in got[*ngot]. Returns the
 * byte count (> 0) or -errno; -EAGAIN only when `nowait` and nothing came.
 */
static ssize_t recv_some(struct uvfio_tp *tp, void *buf, size_t len, int *got,
			 unsigned int *ngot, uint64_t deadline, bool nowait)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * UVFIO_TP_MAX_FDS)];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg;
	unsigned int cmsg_fds = tp->cmsg_fds < UVFIO_TP_MAX_FDS ? tp->cmsg_fds
								: UVFIO_TP_MAX_FDS;
	ssize_t n;

	*ngot = 0;
	for (;;) {
		int flags = MSG_CMSG_CLOEXEC;
		int rc;

		if (nowait || !may_block(tp, deadline))
			flags |= MSG_DONTWAIT;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * cmsg_fds);
		n = recvmsg(tp->fd, &msg, flags);
		tp->nr_recvmsg++;
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		if (nowait)
			return -EAGAIN;
		rc = uvfio_tp_wait(tp->fd, POLLIN, deadline);
		if (rc)
			return rc;
	}

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		size_t nb;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nb = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (*ngot + nb > UVFIO_TP_MAX_FDS) { /* cannot happen on Linux */
			uvfio_tp_close_fds(got, *ngot);
			*ngot = 0;
			return -EPROTO;
		}
		memcpy(got + *ngot, CMSG_DATA(cm), nb * sizeof(int));
		*ngot += (unsigned int)nb;
	}
	if (msg.msg_flags & MSG_CTRUNC) {
		/* Some fds were dropped by the kernel: the message cannot be
		 * trusted, and the ones we did get must not leak. */
		uvfio_tp_close_fds(got, *ngot);
		*ngot = 0;
		return -EPROTO;
	}
	if (n == 0) {
		uvfio_tp_close_fds(got, *ngot);
		*ngot = 0;
		return -ECONNRESET;
	}
	return n;
}

static void rx_consume(struct uvfio_tp *tp, size_t n)
{
	tp->rx_off += n;
	tp->rx_pos += n;
	if (tp->rx_off == tp->rx_len)
		tp->rx_off = tp->rx_len = 0;
}

int uvfio_tp_recv_hdr(struct uvfio_tp *tp, void *hdr, int *fds,
		      unsigned int max_fds, unsigned int *nfds, uint64_t deadline)
{
	bool nowait = deadline == UVFIO_TP_NOWAIT;
	uint32_t msg_size;
	uint64_t start;

	*nfds = 0;
	if (tp->payload_left)
		return -EINVAL;
	/* A message has started: its header is no longer optional. The
	 * deadline (timeout_ms from now) is computed if a read must wait. */
	if (tp->rx_len > tp->rx_off && nowait)
		nowait = false;

	while (tp->rx_len - tp->rx_off < UVFIO_TP_HDR_SIZE) {
		size_t have = tp->rx_len - tp->rx_off;
		size_t want;
		unsigned int ngot;
		int got[UVFIO_TP_MAX_FDS];
		ssize_t n;

		memmove(tp->rx, tp->rx + tp->rx_off, have);
		tp->rx_off = 0;
		tp->rx_len = have;
		/* Batched read, unless fds wait for a later message. */
		want = tp->npend ? UVFIO_TP_HDR_SIZE - have : UVFIO_TP_RXBUF_SIZE - have;
		if (!nowait)
			deadline = started_deadline(tp, deadline);
		n = recv_some(tp, tp->rx + have, want, got, &ngot, deadline, nowait);
		if (n == -EAGAIN)
			tp->rx_drained = true;
		if (n < 0)
			return (int)n;
		/* A short read emptied the socket (for now) -- unless fds came
		 * with it: a UNIX stream read stops after the skb that carries
		 * fds, whatever follows it. */
		tp->rx_drained = (size_t)n < want && !ngot;
		if (ngot) {
			if (tp->npend) { /* fds in the middle of a header */
				uvfio_tp_close_fds(got, ngot);
				return -EPROTO;
			}
			memcpy(tp->pend, got, ngot * sizeof(int));
			tp->npend = ngot;
			tp->pend_end = tp->rx_pos + have + (uint64_t)n;
		}
		tp->rx_len += (size_t)n;
		nowait = false; /* started: NOWAIT is resolved above if needed */
	}

	memcpy(hdr, tp->rx + tp->rx_off, UVFIO_TP_HDR_SIZE);
	memcpy(&msg_size, (const uint8_t *)hdr + UVFIO_TP_MSG_SIZE_OFFSET, sizeof(msg_size));
	if (msg_size < UVFIO_TP_HDR_SIZE)
		return -EPROTO; /* the framing is lost */
	start = tp->rx_pos;
	rx_consume(tp, UVFIO_TP_HDR_SIZE);
	tp->msg_end = start + msg_size;
	tp->payload_left = msg_size - UVFIO_TP_HDR_SIZE;

	if (tp->npend && start < tp->pend_end && tp->pend_end <= tp->msg_end) {
		unsigned int n = tp->npend;

		tp->npend = 0;
		if (n > max_fds) {
			uvfio_tp_close_fds(tp->pend, n);
			return -EMSGSIZE;
		}
		memcpy(fds, tp->pend, n * sizeof(int));
		*nfds = n;
	}
	return 0;
}

int uvfio_tp_recv_payload(struct uvfio_tp *tp, void *buf, size_t len,
			  uint64_t deadline)
{
	uint8_t *p = buf;
	size_t avail;

	if (len > tp->payload_left)
		return -EINVAL;
	avail = tp->rx_len - tp->rx_off;
	if (avail > len)
		avail = len;
	if (avail) { /* p may be NULL for an empty payload: no arithmetic on it */
		memcpy(p, tp->rx + tp->rx_off, avail);
		p += avail;
	}
	rx_consume(tp, avail);
	tp->payload_left -= avail;
	len -= avail;
	if (!len)
		return 0;

	/* The buffer is empty now; read exactly what is missing, straight
	 * into the caller's memory, never past this message. */
	deadline = started_deadline(tp, deadline);
	while (len) {
		int got[UVFIO_TP_MAX_FDS];
		unsigned int ngot;
		ssize_t n = recv_some(tp, p, len, got, &ngot, deadline, false);

		if (n < 0)
			return (int)n;
		if (ngot) { /* fds belong on a header's first byte */
			uvfio_tp_close_fds(got, ngot);
			return -EPROTO;
		}
		tp->rx_pos += (uint64_t)n;
		tp->payload_left -= (uint64_t)n;
		p += n;
		len -= (size_t)n;
	}
	tp->rx_drained = false; /* read to the message's end: more may wait */
	return 0;
}

int uvfio_tp_skip_payload(struct uvfio_tp *tp, uint64_t deadline)
{
	deadline = started_deadline(tp, deadline);
	while (tp->payload_left) {
		size_t step = tp->rx_len > tp->rx_off ? tp->rx_len - tp->rx_off
						      : UVFIO_TP_RXBUF_SIZE;
		int rc;

		if (step > tp->payload_left)
			step = (size_t)tp->payload_left;
		if (tp->rx_len > tp->rx_off) {
			rx_consume(tp, step);
			tp->payload_left -= step;
			continue;
		}
		/* Buffer empty: it can serve as the scratch area. */
		rc = uvfio_tp_recv_payload(tp, tp->rx, step, deadline);
		if (rc)
			return rc;
	}
	return 0;
}
