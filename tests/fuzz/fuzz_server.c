/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the vfio-user server's request handling. Each input is
 * a stream of records (fuzz_stream.h) written to one end of a socketpair
 * whose other end is served by a real server connection (vu_conn, the code
 * uvfio_server_dispatch() runs for a client) in front of testdev, which
 * exercises every command. Records that are replies (DMA_READ/WRITE
 * answers) are sent together with the command before them, so that a DMA
 * the command starts finds its answer. Replies of the server are drained.
 *
 * Oracles: ASan/UBSan, and no fd may outlive the connection (the fd count
 * is back to its value before the input, or the target aborts).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include <uvfio/device.h>
#include <uvfio/log.h>

#include "devices/testdev.h"
#include "tests/fuzz/fuzz_stream.h"
#include "user/server_priv.h"

static struct uvfio_server srv;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct uvfio_device *dev;

	if (!getenv("UVFIO_LOG"))
		uvfio_log_set_level(UVFIO_LOG_ERR);
	dev = testdev_create();
	if (!dev || uvfio_device_register(dev))
		abort();
	srv.dev = dev;
	srv.listen_fd = srv.stop_efd = -1;
	/* GET_REGION_IO_FDS polls the doorbell eventfds it makes here */
	srv.epfd = epoll_create1(EPOLL_CLOEXEC);
	/* the connection pokes it when messages wait in its buffer */
	srv.wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv.wake_efd < 0 || srv.epfd < 0)
		abort();
	srv.max_dma_maps = 16;
	srv.max_xfer = 64u << 10;
	srv.max_msg_size = (uint32_t)VFIO_USER_MAX_MSG_SIZE(srv.max_xfer);
	srv.msg_timeout_ms = 2; /* a DMA answer missing from the input costs this */
	return 0;
}

static int is_reply(const struct fz_rec *r)
{
	return r->len >= 16 && (r->p[8] & VFIO_USER_F_TYPE_MASK) == VFIO_USER_F_TYPE_REPLY;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2], big = 1 << 20, base;
	struct vu_conn *c = NULL;
	struct fz_rec r, nx;
	size_t off = 0, peek;

	base = fz_fd_count();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	fcntl(sv[1], F_SETFL, O_NONBLOCK); /* the server's end, as accept4 gives it */
	srv.owner = pthread_self();
	srv.dispatching = true;
	srv.nconn++;
	if (vu_conn_create(&srv, sv[1], &c))
		abort();

	while (fz_next(data, size, &off, &r)) {
		if (fz_send(sv[0], &r))
			break;
		/* Answers to the DMA this command may start go with it. */
		for (peek = off; fz_next(data, size, &peek, &nx) && is_reply(&nx); off = peek)
			if (fz_send(sv[0], &nx))
				break;
		vu_conn_serve(c);
		fz_drain(sv[0]);
		if (c->dead)
			break;
	}
	shutdown(sv[0], SHUT_WR);
	if (!c->dead)
		vu_conn_serve(c); /* what is left, then EOF */
	srv.dispatching = false; /* outside a dispatch, removed fd callbacks are freed at once */
	vu_conn_destroy(c); /* closes sv[1] and the doorbell eventfds */
	fz_drain(sv[0]);
	close(sv[0]);
	if (fz_fd_count() != base) {
		fprintf(stderr, "fuzz_server: fd leak: %d open, %d before\n", fz_fd_count(), base);
		abort();
	}
	return 0;
}
