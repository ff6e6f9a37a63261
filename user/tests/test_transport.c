/* SPDX-License-Identifier: MIT */
/* Transport over a socketpair: framing, fds, truncation, partial I/O, deadlines. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "user/transport.h"

struct pair {
	int fd[2];
	struct uvfio_tp tp[2];
};

static void pair_open(struct pair *p, bool nonblock, uint32_t timeout_ms)
{
	int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0);

	assert_int_equal(socketpair(AF_UNIX, type, 0, p->fd), 0);
	assert_int_equal(uvfio_tp_init(&p->tp[0], p->fd[0], timeout_ms), 0);
	assert_int_equal(uvfio_tp_init(&p->tp[1], p->fd[1], timeout_ms), 0);
}

static void pair_close(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		uvfio_tp_fini(&p->tp[i]);
		if (p->fd[i] >= 0)
			close(p->fd[i]);
	}
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the DIR's own fd */
}

static void mkhdr(uint8_t hdr[16], uint16_t id, uint32_t msg_size)
{
	memset(hdr, 0, 16);
	memcpy(hdr, &id, 2);
	memcpy(hdr + 4, &msg_size, 4);
}

static uint16_t hdr_id(const uint8_t hdr[16])
{
	uint16_t id;

	memcpy(&id, hdr, 2);
	return id;
}

static void send_msg(struct uvfio_tp *tp, uint16_t id, const void *payload,
		     size_t len, const int *fds, unsigned int nfds)
{
	uint8_t hdr[16];

	mkhdr(hdr, id, (uint32_t)(16 + len));
	assert_int_equal(uvfio_tp_send(tp, hdr, payload, len, fds, nfds,
				       uvfio_tp_deadline(1000)), 0);
}

/* A short message arrives whole with one recvmsg: header and payload. */
static void test_small_message_one_recv(void **state)
{
	struct pair p;
	uint8_t hdr[16], out[20];
	uint8_t data[20] = "0123456789abcdefghi";
	unsigned int nfds = 9;
	int fds[4];

	pair_open(&p, false, 1000);
	send_msg(&p.tp[0], 7, data, sizeof(data), NULL, 0);
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, fds, 4, &nfds,
					   uvfio_tp_deadline(1000)), 0);
	assert_int_equal(hdr_id(hdr), 7);
	assert_int_equal(nfds, 0);
	assert_int_equal(uvfio_tp_payload_left(&p.tp[1]), 20);
	assert_int_equal(uvfio_tp_recv_payload(&p.tp[1], out, 20, uvfio_tp_deadline(1000)), 0);
	assert_memory_equal(out, data, 20);
	assert_int_equal(p.tp[1].nr_recvmsg, 1);
	/* Taking more than the message holds is refused. */
	assert_int_equal(uvfio_tp_recv_payload(&p.tp[1], out, 1, uvfio_tp_deadline(10)), -EINVAL);
	pair_close(&p);
}

/* fds arrive with their message, usable and close-on-exec. */
static void test_fds_passed(void **state)
{
	struct pair p;
	int efd[3], got[8];
	uint8_t hdr[16];
	unsigned int nfds;
	uint64_t v = 0;

	pair_open(&p, false, 1000);
	for (int i = 0; i < 3; i++)
		efd[i] = eventfd(0, EFD_CLOEXEC);
	send_msg(&p.tp[0], 1, NULL, 0, efd, 3);
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 8, &nfds,
					   uvfio_tp_deadline(1000)), 0);
	assert_int_equal(nfds, 3);
	for (int i = 0; i < 3; i++) {
		uint64_t one = i + 1;

		assert_true(fcntl(got[i], F_GETFD) & FD_CLOEXEC);
		assert_int_equal(write(got[i], &one, 8), 8);
		assert_int_equal(read(efd[i], &v, 8), 8);
		assert_int_equal(v, i + 1);
		close(got[i]);
		close(efd[i]);
	}
	pair_close(&p);
}

/*
 * Messages sent back to back are read in one batch; each one's fds still
 * come out with that message and no other.
 */
static void test_fds_stay_with_their_message(void **state)
{
	struct pair p;
	int a = eventfd(0, EFD_CLOEXEC), b = eventfd(0, EFD_CLOEXEC);
	int two[2] = { a, b }, got[4];
	unsigned int want[5] = { 0, 2, 0, 1, 0 };
	uint8_t hdr[16], pl[8] = { 0 };
	unsigned int nfds;
	int before;

	before = count_fds();
	pair_open(&p, false, 1000);
	send_msg(&p.tp[0], 0, pl, 8, NULL, 0);
	send_msg(&p.tp[0], 1, pl, 4, two, 2);
	send_msg(&p.tp[0], 2, NULL, 0, NULL, 0);
	send_msg(&p.tp[0], 3, pl, 8, &a, 1);
	send_msg(&p.tp[0], 4, pl, 2, NULL, 0);
	for (uint16_t i = 0; i < 5; i++) {
		assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 4, &nfds,
						   uvfio_tp_deadline(1000)), 0);
		assert_int_equal(hdr_id(hdr), i);
		assert_int_equal(nfds, want[i]);
		for (unsigned int k = 0; k < nfds; k++)
			close(got[k]);
		assert_int_equal(uvfio_tp_skip_payload(&p.tp[1], uvfio_tp_deadline(1000)), 0);
	}
	close(a);
	close(b);
	pair_close(&p);
	assert_int_equal(count_fds(), before - 2);
}

/* A control buffer too small for the fds sent: -EPROTO and nothing leaks. */
static void test_ctrunc_closes_fds(void **state)
{
	struct pair p;
	int efd[4], got[8];
	uint8_t hdr[16];
	unsigned int nfds;
	int before;

	pair_open(&p, false, 1000);
	for (int i = 0; i < 4; i++)
		efd[i] = eventfd(0, EFD_CLOEXEC);
	before = count_fds();
	p.tp[1].cmsg_fds = 2;
	send_msg(&p.tp[0], 1, NULL, 0, efd, 4);
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 8, &nfds,
					   uvfio_tp_deadline(1000)), -EPROTO);
	assert_int_equal(nfds, 0);
	assert_int_equal(count_fds(), before);
	for (int i = 0; i < 4; i++)
		close(efd[i]);
	pair_close(&p);
}

/* More fds than the caller accepts: closed, -EMSGSIZE, the stream goes on. */
static void test_too_many_fds(void **state)
{
	struct pair p;
	int efd[3], got[2];
	uint8_t hdr[16], pl[5] = "abcd";
	unsigned int nfds;
	int before;

	pair_open(&p, false, 1000);
	for (int i = 0; i < 3; i++)
		efd[i] = eventfd(0, EFD_CLOEXEC);
	before = count_fds();
	send_msg(&p.tp[0], 1, pl, 5, efd, 3);
	send_msg(&p.tp[0], 2, pl, 5, NULL, 0);
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 2, &nfds,
					   uvfio_tp_deadline(1000)), -EMSGSIZE);
	assert_int_equal(nfds, 0);
	assert_int_equal(count_fds(), before);
	assert_int_equal(uvfio_tp_skip_payload(&p.tp[1], uvfio_tp_deadline(1000)), 0);
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 2, &nfds,
					   uvfio_tp_deadline(1000)), 0);
	assert_int_equal(hdr_id(hdr), 2);
	for (int i = 0; i < 3; i++)
		close(efd[i]);
	pair_close(&p);
}

static void test_bad_msg_size(void **state)
{
	struct pair p;
	uint8_t hdr[16];
	unsigned int nfds;
	int got[1];

	pair_open(&p, false, 1000);
	mkhdr(hdr, 1, 15);
	assert_int_equal(write(p.fd[0], hdr, 16), 16);
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 1, &nfds,
					   uvfio_tp_deadline(1000)), -EPROTO);
	pair_close(&p);
}

/* ---- partial I/O --------------------------------------------------------- */

struct slow_sender {
	int fd;
	const uint8_t *bytes;
	size_t len;
	int sendfd;
};

/* Writes a message in pieces, pausing between them; fds with the first. */
static void *slow_send(void *arg)
{
	struct slow_sender *s = arg;
	size_t off = 0;

	while (off < s->len) {
		/* Split the header (5-byte pieces), then the payload. */
		size_t piece = off < 20 ? 5 : 200;
		size_t n = s->len - off < piece ? s->len - off : piece;
		struct iovec iov = { (void *)(s->bytes + off), n };
		union {
			struct cmsghdr a;
			char b[CMSG_SPACE(sizeof(int))];
		} ctl;
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t w;

		if (!off && s->sendfd >= 0) {
			struct cmsghdr *cm;

			m.msg_control = ctl.b;
			m.msg_controllen = sizeof(ctl.b);
			cm = CMSG_FIRSTHDR(&m);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &s->sendfd, sizeof(int));
		}
		w = sendmsg(s->fd, &m, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		off += (size_t)w;
		usleep(2000);
	}
	return NULL;
}

/* A message trickling in (split header, split payload) is reassembled. */
static void test_partial_message(void **state)
{
	struct pair p;
	uint8_t msg[16 + 1000], out[1000], hdr[16];
	struct slow_sender s;
	pthread_t th;
	unsigned int nfds;
	int got[2];

	pair_open(&p, false, 2000);
	mkhdr(msg, 42, sizeof(msg));
	for (size_t i = 16; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7);
	s = (struct slow_sender){ p.fd[0], msg, sizeof(msg), eventfd(0, EFD_CLOEXEC) };
	pthread_create(&th, NULL, slow_send, &s);
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 2, &nfds,
					   uvfio_tp_deadline(2000)), 0);
	assert_int_equal(hdr_id(hdr), 42);
	assert_int_equal(nfds, 1);
	close(got[0]);
	/* The payload still trickles: take it in two calls. */
	assert_int_equal(uvfio_tp_recv_payload(&p.tp[1], out, 10, uvfio_tp_deadline(2000)), 0);
	assert_int_equal(uvfio_tp_recv_payload(&p.tp[1], out + 10, 990, uvfio_tp_deadline(5000)), 0);
	assert_memory_equal(out, msg + 16, 1000);
	pthread_join(th, NULL);
	close(s.sendfd);
	pair_close(&p);
}

struct big_sender {
	struct uvfio_tp *tp;
	const uint8_t *payload;
	size_t len;
	int fd;
	int rc;
};

static void *big_send(void *arg)
{
	struct big_sender *b = arg;
	uint8_t hdr[16];

	mkhdr(hdr, 9, (uint32_t)(16 + b->len));
	b->rc = uvfio_tp_send(b->tp, hdr, b->payload, b->len, &b->fd, 1,
			      uvfio_tp_deadline(5000));
	return NULL;
}

/*
 * A payload far larger than the socket buffer goes out in several partial
 * writes; the fd is sent once and the bytes arrive intact.
 */
static void big_payload(bool nonblock)
{
	size_t len = 4u << 20;
	uint8_t *src = malloc(len), *dst = malloc(len), hdr[16];
	struct big_sender b;
	struct pair p;
	pthread_t th;
	unsigned int nfds;
	int got[2];

	pair_open(&p, nonblock, 5000);
	for (size_t i = 0; i < len; i++)
		src[i] = (uint8_t)(i ^ (i >> 9));
	b = (struct big_sender){ &p.tp[0], src, len, eventfd(0, EFD_CLOEXEC), -1 };
	pthread_create(&th, NULL, big_send, &b);
	usleep(20000); /* let the sender fill the socket and block */
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 2, &nfds,
					   uvfio_tp_deadline(5000)), 0);
	assert_int_equal(nfds, 1);
	close(got[0]);
	assert_int_equal(uvfio_tp_recv_payload(&p.tp[1], dst, len, uvfio_tp_deadline(5000)), 0);
	pthread_join(th, NULL);
	assert_int_equal(b.rc, 0);
	assert_memory_equal(src, dst, len);
	/* Nothing else (no second copy of the fd) follows. */
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 2, &nfds, UVFIO_TP_NOWAIT),
			 -EAGAIN);
	close(b.fd);
	free(src);
	free(dst);
	pair_close(&p);
}

static void test_big_payload_blocking(void **state) { big_payload(false); }
static void test_big_payload_nonblocking(void **state) { big_payload(true); }

/*
 * A small message in several pieces leaves as one flat send; adjacent pieces
 * are merged. With the socket full it waits for room (blocking, or EAGAIN
 * and poll) and arrives intact, once, after what was queued before it.
 */
struct drainer {
	int fd;
	size_t want;
	uint8_t *out;
};

static void *drain_slowly(void *arg)
{
	struct drainer *d = arg;
	size_t got = 0;

	usleep(20000);
	while (got < d->want) {
		ssize_t n = read(d->fd, d->out + got, d->want - got < 997 ? d->want - got : 997);

		if (n <= 0)
			break;
		got += (size_t)n;
		usleep(100);
	}
	d->want = got;
	return NULL;
}

static void flat_send(bool nonblock)
{
	uint8_t hdr[16], a[100], b[60], whole[300];
	struct iovec iov[4];
	struct pair p;
	struct drainer d;
	pthread_t th;
	size_t fill = 0, msg;
	uint8_t junk[4096] = { 0 };
	int fl;

	pair_open(&p, nonblock, 5000);
	for (unsigned int i = 0; i < sizeof(whole); i++)
		whole[i] = (uint8_t)(i * 5 + 1);
	memcpy(a, whole + 16, sizeof(a));
	memcpy(b, whole + 16 + sizeof(a) + 40, sizeof(b));
	mkhdr(hdr, 3, 16 + sizeof(a) + 40 + sizeof(b));
	memcpy(whole, hdr, 16);
	msg = 16 + sizeof(a) + 40 + sizeof(b);
	/* header, a, 40 bytes adjacent to each other in `whole`, b */
	iov[0] = (struct iovec){ hdr, 16 };
	iov[1] = (struct iovec){ a, sizeof(a) };
	iov[2] = (struct iovec){ whole + 16 + sizeof(a), 40 };
	iov[3] = (struct iovec){ b, sizeof(b) };

	/* Fill the socket until only a few bytes fit. */
	fl = fcntl(p.fd[0], F_GETFL);
	fcntl(p.fd[0], F_SETFL, fl | O_NONBLOCK);
	for (size_t step = sizeof(junk); step; step /= 2) {
		while (write(p.fd[0], junk, step) == (ssize_t)step)
			fill += step;
	}
	fcntl(p.fd[0], F_SETFL, fl);
	d = (struct drainer){ p.fd[1], fill + msg, malloc(fill + msg) };
	pthread_create(&th, NULL, drain_slowly, &d);
	p.tp[0].nr_send = 0;
	assert_int_equal(uvfio_tp_sendv(&p.tp[0], iov, 4, NULL, 0, uvfio_tp_deadline(5000)), 0);
	assert_true(p.tp[0].nr_send >= 1);
	pthread_join(th, NULL);
	assert_int_equal(d.want, fill + msg);
	assert_memory_equal(d.out + fill, whole, msg);
	free(d.out);

	/* With room, one send: no sendmsg of four pieces. */
	p.tp[0].nr_send = 0;
	assert_int_equal(uvfio_tp_sendv(&p.tp[0], iov, 4, NULL, 0, uvfio_tp_deadline(1000)), 0);
	assert_int_equal(p.tp[0].nr_send, 1);
	assert_int_equal(read(p.fd[1], d.out = malloc(msg), msg), (ssize_t)msg);
	assert_memory_equal(d.out, whole, msg);
	free(d.out);
	pair_close(&p);
}

static void test_flat_send_blocking(void **state) { flat_send(false); }
static void test_flat_send_nonblocking(void **state) { flat_send(true); }

/*
 * The drained hint: a read that found less than it asked for says the
 * socket was empty; buffered messages or a full read say there may be more.
 */
static void test_drained_hint(void **state)
{
	uint8_t hdr[16], payload[100] = { 0 };
	static uint8_t big[UVFIO_TP_RXBUF_SIZE * 2];
	struct pair p;
	unsigned int nfds;
	int got[1];

	pair_open(&p, true, 1000);
	assert_true(uvfio_tp_maybe_more(&p.tp[1])); /* nothing read yet: unknown */
	send_msg(&p.tp[0], 1, payload, sizeof(payload), NULL, 0);
	send_msg(&p.tp[0], 2, payload, sizeof(payload), NULL, 0);
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 1, &nfds, UVFIO_TP_NOWAIT), 0);
	assert_int_equal(uvfio_tp_skip_payload(&p.tp[1], UVFIO_TP_NOWAIT), 0);
	assert_true(uvfio_tp_maybe_more(&p.tp[1])); /* the second is buffered */
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 1, &nfds, UVFIO_TP_NOWAIT), 0);
	assert_int_equal(hdr_id(hdr), 2);
	assert_int_equal(uvfio_tp_skip_payload(&p.tp[1], UVFIO_TP_NOWAIT), 0);
	assert_false(uvfio_tp_maybe_more(&p.tp[1])); /* one short read took both */
	/* A read that brings fds stops after their skb: short, yet more may
	 * wait behind it. */
	{
		int efd = eventfd(0, EFD_CLOEXEC), gotfd[1];

		send_msg(&p.tp[0], 3, payload, sizeof(payload), &efd, 1);
		send_msg(&p.tp[0], 4, payload, sizeof(payload), NULL, 0);
		assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, gotfd, 1, &nfds,
						   UVFIO_TP_NOWAIT), 0);
		assert_int_equal(hdr_id(hdr), 3);
		assert_int_equal(nfds, 1);
		close(gotfd[0]);
		assert_int_equal(uvfio_tp_skip_payload(&p.tp[1], UVFIO_TP_NOWAIT), 0);
		assert_false(uvfio_tp_buffered(&p.tp[1]));
		assert_true(uvfio_tp_maybe_more(&p.tp[1]));
		assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, gotfd, 1, &nfds,
						   UVFIO_TP_NOWAIT), 0);
		assert_int_equal(hdr_id(hdr), 4);
		assert_int_equal(uvfio_tp_skip_payload(&p.tp[1], UVFIO_TP_NOWAIT), 0);
		assert_false(uvfio_tp_maybe_more(&p.tp[1]));
		close(efd);
	}
	/* A read that fills the buffer can't tell: more may wait. */
	for (unsigned int i = 0; i < 4; i++)
		send_msg(&p.tp[0], (uint16_t)(10 + i), big, UVFIO_TP_RXBUF_SIZE / 2, NULL, 0);
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 1, &nfds, UVFIO_TP_NOWAIT), 0);
	assert_true(uvfio_tp_maybe_more(&p.tp[1]));
	assert_int_equal(uvfio_tp_recv_payload(&p.tp[1], big, UVFIO_TP_RXBUF_SIZE / 2,
					       UVFIO_TP_NOWAIT), 0);
	assert_true(uvfio_tp_maybe_more(&p.tp[1]));
	/* Nothing there: EAGAIN, and the hint says empty. */
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 1, &nfds,
						   UVFIO_TP_NOWAIT), 0);
		assert_int_equal(uvfio_tp_skip_payload(&p.tp[1], UVFIO_TP_NOWAIT), 0);
	}
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 1, &nfds, UVFIO_TP_NOWAIT),
			 -EAGAIN);
	assert_false(uvfio_tp_maybe_more(&p.tp[1]));
	pair_close(&p);
}

/* ---- deadlines and dead peers ------------------------------------------- */

static void test_recv_timeout(void **state)
{
	struct pair p;
	uint8_t hdr[16];
	unsigned int nfds;
	int got[1];
	uint64_t t0;

	pair_open(&p, false, 5000);
	/* Nothing at all: NOWAIT says so at once, a deadline expires. */
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 1, &nfds, UVFIO_TP_NOWAIT),
			 -EAGAIN);
	t0 = uvfio_tp_now_ns();
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 1, &nfds,
					   uvfio_tp_deadline(100)), -ETIMEDOUT);
	assert_true(uvfio_tp_now_ns() - t0 >= 100000000ull);
	assert_true(uvfio_tp_now_ns() - t0 < 1000000000ull);
	/* Half a header, then silence: the header wait is bounded too. */
	mkhdr(hdr, 1, 16);
	assert_int_equal(write(p.fd[0], hdr, 8), 8);
	t0 = uvfio_tp_now_ns();
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 1, &nfds,
					   uvfio_tp_deadline(100)), -ETIMEDOUT);
	assert_true(uvfio_tp_now_ns() - t0 < 1000000000ull);
	pair_close(&p);
}

/* A started message with NOWAIT waits for the rest with timeout_ms. */
static void test_nowait_started_message(void **state)
{
	struct pair p;
	uint8_t hdr[16];
	unsigned int nfds;
	int got[1];
	uint64_t t0;

	pair_open(&p, true, 100);
	mkhdr(hdr, 1, 20);
	assert_int_equal(write(p.fd[0], hdr, 10), 10);
	t0 = uvfio_tp_now_ns();
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 1, &nfds, UVFIO_TP_NOWAIT),
			 -ETIMEDOUT);
	assert_true(uvfio_tp_now_ns() - t0 >= 100000000ull);
	pair_close(&p);
}

static void test_send_timeout(void **state)
{
	size_t len = 16u << 20;
	uint8_t *buf = calloc(1, len), hdr[16];
	struct pair p;
	uint64_t t0;

	pair_open(&p, false, 5000);
	mkhdr(hdr, 1, (uint32_t)(16 + len));
	t0 = uvfio_tp_now_ns();
	assert_int_equal(uvfio_tp_send(&p.tp[0], hdr, buf, len, NULL, 0,
				       uvfio_tp_deadline(150)), -ETIMEDOUT);
	assert_true(uvfio_tp_now_ns() - t0 < 1500000000ull);
	free(buf);
	pair_close(&p);
}

/* NOWAIT on a send means timeout_ms from now, computed only once the
 * message can't go at once: a peer that never reads still ends it in time. */
static void send_nowait_timeout(bool nonblock)
{
	size_t len = 16u << 20;
	uint8_t *buf = calloc(1, len), hdr[16];
	struct pair p;
	uint64_t t0, dt;

	pair_open(&p, nonblock, 150);
	mkhdr(hdr, 1, (uint32_t)(16 + len));
	t0 = uvfio_tp_now_ns();
	assert_int_equal(uvfio_tp_send(&p.tp[0], hdr, buf, len, NULL, 0, UVFIO_TP_NOWAIT),
			 -ETIMEDOUT);
	dt = uvfio_tp_now_ns() - t0;
	assert_true(dt >= 140000000ull);
	assert_true(dt < 1500000000ull);
	free(buf);
	pair_close(&p);
}

static void test_send_nowait_timeout_blocking(void **state) { send_nowait_timeout(false); }
static void test_send_nowait_timeout_nonblocking(void **state) { send_nowait_timeout(true); }

static void test_peer_gone(void **state)
{
	struct pair p;
	uint8_t hdr[16], out[8];
	unsigned int nfds;
	int got[1];

	/* Closed before a header: reset. */
	pair_open(&p, false, 1000);
	close(p.fd[0]);
	p.fd[0] = -1;
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 1, &nfds,
					   uvfio_tp_deadline(1000)), -ECONNRESET);
	/* Sending to it: an error, not SIGPIPE. */
	mkhdr(hdr, 1, 16);
	int rc = uvfio_tp_send(&p.tp[1], hdr, NULL, 0, NULL, 0, uvfio_tp_deadline(1000));
	assert_true(rc == -EPIPE || rc == -ECONNRESET);
	pair_close(&p);

	/* Closed in the middle of a payload. */
	pair_open(&p, false, 1000);
	mkhdr(hdr, 1, 24);
	assert_int_equal(write(p.fd[0], hdr, 16), 16);
	assert_int_equal(write(p.fd[0], "abc", 3), 3);
	close(p.fd[0]);
	p.fd[0] = -1;
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 1, &nfds,
					   uvfio_tp_deadline(1000)), 0);
	assert_int_equal(uvfio_tp_recv_payload(&p.tp[1], out, 8, uvfio_tp_deadline(1000)),
			 -ECONNRESET);
	pair_close(&p);
}

/* Skipping a payload bigger than the buffer leaves the next message intact. */
static void test_skip_large(void **state)
{
	size_t len = 100000;
	uint8_t *buf = calloc(1, len), hdr[16];
	struct big_sender b;
	struct pair p;
	pthread_t th;
	unsigned int nfds;
	int got[2];

	pair_open(&p, false, 2000);
	b = (struct big_sender){ &p.tp[0], buf, len, eventfd(0, EFD_CLOEXEC), -1 };
	pthread_create(&th, NULL, big_send, &b);
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 2, &nfds,
					   uvfio_tp_deadline(2000)), 0);
	close(got[0]);
	assert_int_equal(uvfio_tp_skip_payload(&p.tp[1], uvfio_tp_deadline(2000)), 0);
	pthread_join(th, NULL);
	send_msg(&p.tp[0], 77, "xy", 2, NULL, 0);
	assert_int_equal(uvfio_tp_recv_hdr(&p.tp[1], hdr, got, 2, &nfds,
					   uvfio_tp_deadline(2000)), 0);
	assert_int_equal(hdr_id(hdr), 77);
	assert_int_equal(uvfio_tp_payload_left(&p.tp[1]), 2);
	close(b.fd);
	free(buf);
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_message_one_recv),
		cmocka_unit_test(test_fds_passed),
		cmocka_unit_test(test_fds_stay_with_their_message),
		cmocka_unit_test(test_ctrunc_closes_fds),
		cmocka_unit_test(test_too_many_fds),
		cmocka_unit_test(test_bad_msg_size),
		cmocka_unit_test(test_partial_message),
		cmocka_unit_test(test_big_payload_blocking),
		cmocka_unit_test(test_big_payload_nonblocking),
		cmocka_unit_test(test_flat_send_blocking),
		cmocka_unit_test(test_flat_send_nonblocking),
		cmocka_unit_test(test_drained_hint),
		cmocka_unit_test(test_recv_timeout),
		cmocka_unit_test(test_nowait_started_message),
		cmocka_unit_test(test_send_timeout),
		cmocka_unit_test(test_send_nowait_timeout_blocking),
		cmocka_unit_test(test_send_nowait_timeout_nonblocking),
		cmocka_unit_test(test_peer_gone),
		cmocka_unit_test(test_skip_large),
	};

	return cmocka_run_group_tests_name("user/transport", tests, NULL, NULL);
}
