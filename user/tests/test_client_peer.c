/* SPDX-License-Identifier: MIT */
/*
 * The vfio-user client against a scripted peer: a thread that plays the
 * server byte by byte, to reach what a well-behaved server never does —
 * DMA requests outside the client's windows, stray and malformed replies,
 * unexpected fds, small transfer limits, argsz retries, bad versions.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include <uvfio/client.h>

#include "core/vfio_compat.h"
#include "user/codec.h"
#include "user/transport.h"

/* ---- the scripted peer ------------------------------------------------------ */

struct peer {
	char dir[32], path[64];
	int lfd, fd;
	struct uvfio_tp tp;
	pthread_t th;
	void (*script)(struct peer *p);
	uint16_t minor, major;
	const char *caps; /* VERSION reply JSON */
	void *arg;	  /* the test's data for its script */
	bool version_only; /* the client is expected to hang up after VERSION */
	bool busy;	   /* refuse the client at once, as a busy server does */
	int ok;		  /* the script reached its end */
};

struct msg {
	struct vfio_user_header h;
	uint8_t p[8192];
	size_t len;
	int fds[8];
	unsigned int nfds;
};

static void peer_recv(struct peer *p, struct msg *m)
{
	uint8_t raw[16];

	assert_int_equal(uvfio_tp_recv_hdr(&p->tp, raw, m->fds, 8, &m->nfds,
					   uvfio_tp_deadline(3000)), 0);
	assert_int_equal(vu_hdr_parse(raw, 16, 1 << 21, &m->h), 0);
	m->len = vu_hdr_payload_len(&m->h);
	assert_true(m->len <= sizeof(m->p));
	assert_int_equal(uvfio_tp_recv_payload(&p->tp, m->p, m->len, uvfio_tp_deadline(3000)), 0);
}

/* Send a message: a reply to `req` or (req NULL) a command with id/cmd. */
static void peer_send(struct peer *p, uint16_t id, uint16_t cmd, uint32_t flags,
		      uint32_t err, const void *pl, size_t len, const int *fds,
		      unsigned int nfds)
{
	uint8_t hdr[16];

	vu_hdr_encode(hdr, id, cmd, (uint32_t)len, flags, err);
	assert_int_equal(uvfio_tp_send(&p->tp, hdr, pl, len, fds, nfds,
				       uvfio_tp_deadline(3000)), 0);
}

static void peer_reply(struct peer *p, const struct msg *req, const void *pl, size_t len)
{
	peer_send(p, req->h.msg_id, req->h.cmd, VFIO_USER_F_TYPE_REPLY, 0, pl, len, NULL, 0);
}

static void peer_error(struct peer *p, const struct msg *req, uint32_t err)
{
	peer_send(p, req->h.msg_id, req->h.cmd, VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR,
		  err, NULL, 0, NULL, 0);
}

/* VERSION and GET_INFO, as the client's open expects them. */
static void peer_handshake(struct peer *p)
{
	struct msg m;
	uint8_t buf[512];
	ssize_t n;

	peer_recv(p, &m);
	assert_int_equal(m.h.cmd, VFIO_USER_VERSION);
	n = vu_version_rep_encode(buf, sizeof(buf), p->major, p->minor, p->caps);
	assert_true(n > 0);
	peer_reply(p, &m, buf, (size_t)n);
	if (p->version_only)
		return; /* the client hangs up */
	peer_recv(p, &m);
	assert_int_equal(m.h.cmd, VFIO_USER_DEVICE_GET_INFO);
	n = vu_device_info_rep_encode(buf, sizeof(buf), VFIO_USER_F_DEVICE_RESET, 1, 1);
	peer_reply(p, &m, buf, (size_t)n);
}

/*
 * A busy server: answer the VERSION about to come with EBUSY and hang up
 * at once — the client may still be sending it, or may already have.
 */
static void peer_busy(struct peer *p)
{
	struct vfio_user_header req = { .cmd = VFIO_USER_VERSION };
	uint8_t h[16], scratch[512];

	vu_hdr_encode_error(h, &req, EBUSY);
	assert_int_equal(send(p->fd, h, sizeof(h), MSG_NOSIGNAL), 16);
	usleep(p->minor * 1000); /* vary the moment of the close */
	while (recv(p->fd, scratch, sizeof(scratch), MSG_DONTWAIT) > 0)
		;
}

static void *peer_main(void *arg)
{
	struct peer *p = arg;

	p->fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(p->fd >= 0);
	assert_int_equal(uvfio_tp_init(&p->tp, p->fd, 3000), 0);
	if (p->busy) {
		peer_busy(p);
		p->ok = 1;
		return NULL;
	}
	peer_handshake(p);
	if (p->script)
		p->script(p);
	p->ok = 1;
	return NULL;
}

static void peer_start(struct peer *p, void (*script)(struct peer *), const char *caps)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	p->script = script;
	p->caps = caps ? caps : "{\"capabilities\":{\"max_msg_fds\":2,\"max_data_xfer_size\":4096}}";
	strcpy(p->dir, "/tmp/uvfio-peer-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->path, sizeof(p->path), "%s/s", p->dir);
	strcpy(sa.sun_path, p->path);
	p->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(p->lfd, 1), 0);
	pthread_create(&p->th, NULL, peer_main, p);
}

static void peer_join(struct peer *p)
{
	pthread_join(p->th, NULL);
	assert_true(p->ok);
	uvfio_tp_fini(&p->tp);
	close(p->fd);
	close(p->lfd);
	unlink(p->path);
	rmdir(p->dir);
}

static struct uvfio_client *open_client(struct peer *p, uint32_t timeout_ms)
{
	struct uvfio_client_opts o = { .timeout_ms = timeout_ms };
	struct uvfio_client *c;

	assert_int_equal(uvfio_client_open(p->path, &o, &c), 0);
	return c;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

/* ---- transfers chunked by the server's max_data_xfer_size (4096) ------------- */

static void script_chunks(struct peer *p)
{
	uint64_t *seen = p->arg; /* offset, count of each request, then 0 */
	struct msg m;
	int i = 0;

	for (;;) {
		struct vu_region_access a;
		uint8_t buf[16 + 4096];
		ssize_t n;

		peer_recv(p, &m);
		if (m.h.cmd == VFIO_USER_DEVICE_RESET) { /* the script's end */
			peer_reply(p, &m, NULL, 0);
			break;
		}
		if (m.h.cmd == VFIO_USER_REGION_READ) {
			uint8_t data[4096];

			assert_int_equal(vu_region_read_req_parse(m.p, m.len, 4096, &a), 0);
			for (uint32_t k = 0; k < a.count; k++)
				data[k] = (uint8_t)(a.offset + k);
			n = vu_region_read_rep_encode(buf, sizeof(buf), a.region, a.offset, data,
						      a.count);
		} else {
			assert_int_equal(m.h.cmd, VFIO_USER_REGION_WRITE);
			assert_int_equal(vu_region_write_req_parse(m.p, m.len, 4096, &a), 0);
			for (uint32_t k = 0; k < a.count; k++)
				assert_int_equal(a.data[k], (uint8_t)((a.offset + k) * 3));
			n = vu_region_write_rep_encode(buf, sizeof(buf), a.region, a.offset, a.count);
		}
		seen[i++] = a.offset;
		seen[i++] = a.count;
		peer_reply(p, &m, buf, (size_t)n);
	}
	seen[i] = UINT64_MAX;
}

static void test_chunking(void **state)
{
	uint64_t seen[32];
	struct peer p = { .arg = seen };
	uint8_t buf[10000];
	struct uvfio_client *c;

	peer_start(&p, script_chunks, NULL);
	c = open_client(&p, 2000);
	assert_int_equal(uvfio_client_read(c, 0, 100, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	for (size_t k = 0; k < sizeof(buf); k++)
		assert_int_equal(buf[k], (uint8_t)(100 + k));
	for (size_t k = 0; k < sizeof(buf); k++)
		buf[k] = (uint8_t)((200 + k) * 3); /* the byte for offset o: o * 3 */
	assert_int_equal(uvfio_client_write(c, 0, 200, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	assert_int_equal(uvfio_client_reset(c), 0);
	uvfio_client_close(c);
	peer_join(&p);
	uint64_t want[] = { 100, 4096, 4196, 4096, 8292, 1808,
			    200, 4096, 4296, 4096, 8392, 1808, UINT64_MAX };
	assert_memory_equal(seen, want, sizeof(want));
}

/* ---- SET_IRQS eventfds chunked by the server's max_msg_fds (2) ---------------- */

static void script_irqs(struct peer *p)
{
	uint32_t *seen = p->arg; /* start, count, nfds of each message */
	struct msg m;
	int i = 0;

	for (int k = 0; k < 4; k++) {
		struct vu_set_irqs s;

		peer_recv(p, &m);
		assert_int_equal(m.h.cmd, VFIO_USER_DEVICE_SET_IRQS);
		assert_int_equal(vu_set_irqs_req_parse(m.p, m.len, m.nfds, &s), 0);
		seen[i++] = s.s.start;
		seen[i++] = s.s.count;
		seen[i++] = m.nfds;
		uvfio_tp_close_fds(m.fds, m.nfds);
		peer_reply(p, &m, NULL, 0);
	}
}

static void test_set_irqs_chunks(void **state)
{
	uint32_t seen[12];
	struct peer p = { .arg = seen };
	struct uvfio_client *c;
	int e[4];
	struct vfio_irq_set s = {
		.argsz = sizeof(s) + 6 * 4,
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = 0, .start = 1, .count = 6,
	};

	for (int k = 0; k < 4; k++)
		e[k] = eventfd(0, EFD_CLOEXEC);
	int32_t fds[6] = { e[0], e[1], e[2], -1, -1, e[3] };

	peer_start(&p, script_irqs, NULL);
	c = open_client(&p, 2000);
	assert_int_equal(uvfio_client_set_irqs(c, &s, fds), 0);
	uvfio_client_close(c);
	peer_join(&p);
	/* Two fds at most per message; the run of -1 goes with none. */
	uint32_t want[] = { 1, 2, 2, 3, 1, 1, 4, 2, 0, 6, 1, 1 };
	assert_memory_equal(seen, want, sizeof(want));
	for (int k = 0; k < 4; k++)
		close(e[k]);
}

/* ---- server DMA requests: only inside the fd-less windows ----------------------- */

struct dma_case {
	uint16_t cmd;
	uint64_t addr, count;
	int with_fd;
	uint32_t want_err; /* 0: a normal reply */
};

static const struct dma_case dma_cases[] = {
	{ VFIO_USER_DMA_READ, 0x10010, 16, 0, 0 },
	{ VFIO_USER_DMA_READ, 0x10ff8, 16, 0, EFAULT },	  /* crosses the end */
	{ VFIO_USER_DMA_READ, 0xff00, 16, 0, EFAULT },	  /* before the window */
	{ VFIO_USER_DMA_READ, 0x20000, 16, 0, EFAULT },	  /* fd-backed: not ours to serve */
	{ VFIO_USER_DMA_WRITE, 0x10100, 8, 0, 0 },
	{ VFIO_USER_DMA_WRITE, 0x10ffc, 8, 0, EFAULT },	  /* crosses the end */
	{ VFIO_USER_DMA_WRITE, 0x30000, 8, 0, EFAULT },	  /* read-only window */
	{ VFIO_USER_DMA_READ, 0x10000, 2u << 20, 0, EINVAL }, /* above our 1 MiB */
	{ VFIO_USER_DMA_READ, 0x10010, 16, 1, EINVAL },	  /* fds on a request */
	{ 99, 0, 0, 0, ENOSYS },
};

static void script_dma(struct peer *p)
{
	struct msg m, r;
	uint8_t buf[64];
	uint16_t id = 0x700;
	ssize_t n;
	int efd = eventfd(0, EFD_CLOEXEC);

	for (int k = 0; k < 3; k++) { /* three DMA_MAPs */
		peer_recv(p, &m);
		assert_int_equal(m.h.cmd, VFIO_USER_DMA_MAP);
		uvfio_tp_close_fds(m.fds, m.nfds);
		peer_reply(p, &m, NULL, 0);
	}
	peer_recv(p, &m); /* the REGION_READ that the DMA happens "for" */
	assert_int_equal(m.h.cmd, VFIO_USER_REGION_READ);

	for (size_t k = 0; k < sizeof(dma_cases) / sizeof(dma_cases[0]); k++) {
		const struct dma_case *dc = &dma_cases[k];
		uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

		if (dc->cmd == VFIO_USER_DMA_WRITE)
			n = vu_dma_write_req_encode(buf, sizeof(buf), dc->addr, data, dc->count);
		else
			n = vu_dma_read_req_encode(buf, sizeof(buf), dc->addr, dc->count);
		peer_send(p, id, dc->cmd, VFIO_USER_F_TYPE_COMMAND, 0, buf, (size_t)n,
			  &efd, dc->with_fd ? 1 : 0);
		peer_recv(p, &r);
		assert_int_equal(r.h.msg_id, id);
		assert_int_equal(r.h.cmd, dc->cmd);
		assert_true(vu_hdr_is_reply(&r.h));
		assert_int_equal(r.h.error_no, dc->want_err);
		assert_int_equal(vu_hdr_is_error(&r.h), dc->want_err != 0);
		if (!dc->want_err && dc->cmd == VFIO_USER_DMA_READ) {
			struct vu_dma_access a;

			assert_int_equal(vu_dma_read_rep_parse(r.p, r.len, 1 << 20, &a), 0);
			assert_int_equal(a.count, dc->count);
			for (uint64_t b = 0; b < a.count; b++)
				assert_int_equal(a.data[b], (uint8_t)(dc->addr - 0x10000 + b));
		}
		id++;
	}
	/* A stray reply, then an unreadable one, then the real one. */
	peer_send(p, (uint16_t)(m.h.msg_id + 100), m.h.cmd, VFIO_USER_F_TYPE_REPLY, 0,
		  "junk", 4, NULL, 0);
	n = vu_region_read_rep_encode(buf, sizeof(buf), 0, 0, "\x11\x22\x33\x44", 4);
	peer_reply(p, &m, buf, (size_t)n);
	close(efd);
}

static void test_dma_requests_bounded(void **state)
{
	struct peer p = { 0 };
	struct uvfio_client *c;
	static uint8_t rw[0x1000], ro[0x1000];
	struct uvfio_dma_map_args w = {
		.iova = 0x10000, .size = 0x1000, .prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE,
		.fd = -1, .vaddr = rw,
	};
	struct uvfio_dma_map_args r = {
		.iova = 0x30000, .size = 0x1000, .prot = UVFIO_DMA_READ, .fd = -1, .vaddr = ro,
	};
	struct uvfio_dma_map_args f = {
		.iova = 0x20000, .size = 0x1000, .prot = UVFIO_DMA_READ,
		.fd = eventfd(0, EFD_CLOEXEC), /* any fd: the peer just closes it */
	};
	uint32_t v = 0;

	for (size_t k = 0; k < sizeof(rw); k++)
		rw[k] = (uint8_t)k;
	peer_start(&p, script_dma, NULL);
	c = open_client(&p, 2000);
	assert_int_equal(uvfio_client_dma_map(c, &w), 0);
	assert_int_equal(uvfio_client_dma_map(c, &f), 0);
	assert_int_equal(uvfio_client_dma_map(c, &r), 0);
	assert_int_equal(uvfio_client_read(c, 0, 0, &v, 4), 4);
	assert_int_equal(v, 0x44332211);
	/* The one allowed write landed; the refused ones touched nothing. */
	assert_memory_equal(rw + 0x100, "\1\2\3\4\5\6\7\10", 8);
	assert_int_equal(rw[0xffc], 0xfc);
	for (size_t k = 0; k < sizeof(ro); k++)
		assert_int_equal(ro[k], 0);
	uvfio_client_close(c);
	peer_join(&p);
	close(f.fd);
}

/* ---- error replies, unexpected fds, dead peers --------------------------------------- */

static void script_errors(struct peer *p)
{
	struct msg m;
	int efd = *(int *)p->arg;
	uint8_t buf[64];
	ssize_t n;

	peer_recv(p, &m);
	peer_error(p, &m, ENODEV);
	peer_recv(p, &m);
	peer_error(p, &m, 0); /* the spec allows it; it is still a failure */
	peer_recv(p, &m);	/* a reply with an fd it must not carry */
	n = vu_region_read_rep_encode(buf, sizeof(buf), 0, 0, "abcd", 4);
	peer_send(p, m.h.msg_id, m.h.cmd, VFIO_USER_F_TYPE_REPLY, 0, buf, (size_t)n, &efd, 1);
	peer_recv(p, &m); /* a reply longer than asked for */
	n = vu_region_read_rep_encode(buf, sizeof(buf), 0, 0, "abcdefgh", 8);
	peer_reply(p, &m, buf, (size_t)n);
	peer_recv(p, &m); /* still in sync: a good one, then hang up */
	n = vu_region_read_rep_encode(buf, sizeof(buf), 0, 0, "wxyz", 4);
	peer_reply(p, &m, buf, (size_t)n);
}

static void test_errors(void **state)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	struct peer p = { .arg = &efd };
	struct uvfio_client *c;
	char v[4];
	int before, rc;

	peer_start(&p, script_errors, NULL);
	c = open_client(&p, 2000);
	before = count_fds();
	assert_int_equal(uvfio_client_reset(c), -ENODEV);
	assert_int_equal(uvfio_client_reset(c), -EIO);
	assert_int_equal(uvfio_client_read(c, 0, 0, v, 4), -EPROTO);
	assert_int_equal(count_fds(), before); /* the stray fd was closed */
	assert_int_equal(uvfio_client_read(c, 0, 0, v, 4), -EPROTO);
	assert_int_equal(uvfio_client_read(c, 0, 0, v, 4), 4);
	assert_memory_equal(v, "wxyz", 4);
	peer_join(&p); /* the peer is gone now */
	rc = (int)uvfio_client_read(c, 0, 0, v, 4);
	assert_true(rc == -ECONNRESET || rc == -EPIPE);
	assert_int_equal(uvfio_client_reset(c), rc); /* and stays so */
	uvfio_client_close(c);
	close(efd);
}

/* ---- region info: the argsz retry ---------------------------------------------------- */

static void script_region_retry(struct peer *p)
{
	struct msg m;
	uint8_t buf[512];
	struct vfio_user_region_info ri = {
		.argsz = 300, .flags = VFIO_USER_F_REGION_READ | VFIO_USER_F_REGION_MMAP |
				       VFIO_USER_F_REGION_CAPS,
		.index = 0, .size = 0x2000, .offset = 0x5000,
	};
	struct vfio_user_cap_sparse_mmap sp = {
		.header = { .id = VFIO_USER_CAP_SPARSE_MMAP, .version = 1 }, .nr_areas = 1,
	};
	struct vfio_user_sparse_area area = { 0x1000, 0x1000 };
	struct vfio_user_region_info req;
	int fd1 = ((int *)p->arg)[0], fd2 = ((int *)p->arg)[1];

	/* First ask (argsz 256): "I need 300", the struct only, and an fd that
	 * the client must drop (libvfio-user sends it only with the caps). */
	peer_recv(p, &m);
	assert_int_equal(vu_region_info_req_parse(m.p, m.len, &req), 0);
	assert_int_equal(req.argsz, 256);
	peer_send(p, m.h.msg_id, m.h.cmd, VFIO_USER_F_TYPE_REPLY, 0, &ri, sizeof(ri), &fd1, 1);
	/* Second ask: 300, the caps come with the real fd. */
	peer_recv(p, &m);
	assert_int_equal(vu_region_info_req_parse(m.p, m.len, &req), 0);
	assert_int_equal(req.argsz, 300);
	ri.cap_offset = sizeof(ri);
	memcpy(buf, &ri, sizeof(ri));
	memcpy(buf + sizeof(ri), &sp, sizeof(sp));
	memcpy(buf + sizeof(ri) + sizeof(sp), &area, sizeof(area));
	peer_send(p, m.h.msg_id, m.h.cmd, VFIO_USER_F_TYPE_REPLY, 0, buf,
		  sizeof(ri) + sizeof(sp) + sizeof(area), &fd2, 1);
}

static void test_region_retry(void **state)
{
	int efds[2] = { eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC) };
	struct peer p = { .arg = efds };
	struct uvfio_client *c;
	struct uvfio_region r;
	int before;

	peer_start(&p, script_region_retry, NULL);
	c = open_client(&p, 2000);
	before = count_fds();
	assert_int_equal(uvfio_client_region(c, 0, &r), 0);
	assert_int_equal(r.nr_areas, 1);
	assert_int_equal(r.areas[0].offset, 0x1000);
	assert_int_equal(r.offset, 0x5000);
	assert_true(r.mmap_fd >= 0);
	/* Cached: asking again costs no message (the peer would not answer). */
	assert_int_equal(uvfio_client_region(c, 0, &r), 0);
	peer_join(&p); /* closes its 2 sockets */
	assert_int_equal(count_fds(), before - 2 + 1); /* kept one, dropped one */
	uvfio_client_close(c);
	assert_int_equal(count_fds(), before - 3); /* and the socket and region fd go */
	close(efds[0]);
	close(efds[1]);
}

/* ---- versions --------------------------------------------------------------------------- */

static void version_refused(uint16_t major, uint16_t minor, const char *caps)
{
	struct peer p = { .major = major, .minor = minor, .version_only = true };
	struct uvfio_client *c;

	peer_start(&p, NULL, caps);
	assert_int_equal(uvfio_client_open(p.path, NULL, &c), -EPROTO);
	peer_join(&p);
}

static void test_versions(void **state)
{
	version_refused(0, 3, NULL);	/* a minor above ours */
	version_refused(1, 0, NULL);	/* another major */
	version_refused(0, 1, "{\"capabilities\":{\"max_data_xfer_size\":\"big\"}}");
	version_refused(0, 1, "{\"capabilities\":{\"max_data_xfer_size\":0}}");
}

/* Refused with EBUSY: the client reports that, not the broken pipe. */
static void test_busy_server(void **state)
{
	for (uint16_t delay = 0; delay < 4; delay++) {
		struct peer p = { .busy = true, .minor = delay };
		struct uvfio_client *c;

		peer_start(&p, NULL, NULL);
		assert_int_equal(uvfio_client_open(p.path, NULL, &c), -EBUSY);
		peer_join(&p);
	}
}

/* An answer sent before the peer hung up is still read when our send
 * fails: the next call is refused (here before it is even made, as a busy
 * server refuses VERSION), and the call reports the peer's reason. */
static void script_last_words(struct peer *p)
{
	char go;

	/* Once the client's open is over (else it drops this as stray)... */
	assert_int_equal(read(*(int *)p->arg, &go, 1), 1);
	/* ids 0 and 1 went to VERSION and GET_INFO: 2 is the next call. */
	peer_send(p, 2, VFIO_USER_DEVICE_RESET, VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR,
		  EBUSY, NULL, 0, NULL, 0);
}

static void test_last_words(void **state)
{
	int go[2];
	struct peer p = { .arg = &go[0] };
	struct uvfio_client *c;
	char v[4];

	assert_int_equal(pipe(go), 0);
	peer_start(&p, script_last_words, NULL);
	c = open_client(&p, 2000);
	assert_int_equal(write(go[1], "g", 1), 1);
	peer_join(&p); /* closed: our next send fails with EPIPE */
	close(go[0]);
	close(go[1]);
	assert_int_equal(uvfio_client_reset(c), -EBUSY);
	assert_int_equal(uvfio_client_read(c, 0, 0, v, 4), -EBUSY);
	uvfio_client_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunking),
		cmocka_unit_test(test_set_irqs_chunks),
		cmocka_unit_test(test_dma_requests_bounded),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_region_retry),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_busy_server),
		cmocka_unit_test(test_last_words),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("user/client vs a scripted peer", tests, NULL, NULL);
}
