/* SPDX-License-Identifier: MIT */
/*
 * The input format of the wire fuzz targets (fuzz_server, fuzz_client): a
 * sequence of records, each sent with one sendmsg() so that its fds ride on
 * its first byte, as a peer would send a message:
 *
 *   u8  ctl   bits 0-1: number of fds (0..3); bit 2: memfds (16 KiB, sealed
 *             against nothing) instead of eventfds
 *   u16 len   little endian; the record's bytes follow (normally one whole
 *             vfio-user message, header included, but anything goes)
 *
 * A truncated last record is sent as far as it goes. tests/fuzz/mkseeds.py
 * writes the seed corpora in this format.
 */
#ifndef UVFIO_TESTS_FUZZ_STREAM_H
#define UVFIO_TESTS_FUZZ_STREAM_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define FZ_MEMFD_SIZE (16u * 1024)

struct fz_rec {
	const uint8_t *p;
	size_t len;
	unsigned int nfds;
	int memfd;
};

/* Next record of data[*off..size); 0 when none is left. */
static inline int fz_next(const uint8_t *data, size_t size, size_t *off, struct fz_rec *r)
{
	size_t o = *off, len;

	if (size - o < 3)
		return 0;
	r->nfds = data[o] & 3u;
	r->memfd = !!(data[o] & 4u);
	len = (size_t)data[o + 1] | ((size_t)data[o + 2] << 8);
	o += 3;
	if (len > size - o)
		len = size - o;
	r->p = data + o;
	r->len = len;
	*off = o + len;
	return 1;
}

/* Send a record on fd with its fds (created here, closed here: the peer
 * gets its own copies). Returns 0, or -errno of sendmsg. */
static inline int fz_send(int fd, const struct fz_rec *r)
{
	int fds[3];
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)r->p, r->len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	unsigned int n = 0;
	size_t done = 0;
	int ret = 0;

	if (!r->len)
		return 0;
	for (; n < r->nfds; n++) {
		fds[n] = r->memfd ? memfd_create("fuzz", MFD_CLOEXEC) : eventfd(0, EFD_CLOEXEC);
		if (fds[n] < 0)
			break;
		if (r->memfd && ftruncate(fds[n], FZ_MEMFD_SIZE)) {
			close(fds[n]);
			break;
		}
	}
	if (n) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	}
	while (done < r->len) {
		ssize_t k;

		iov.iov_base = (uint8_t *)r->p + done;
		iov.iov_len = r->len - done;
		k = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		done += (size_t)k;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	for (unsigned int i = 0; i < n; i++)
		close(fds[i]);
	return ret;
}

/* Read and drop whatever the peer sent, closing any fds; never waits. */
static inline void fz_drain(int fd)
{
	uint8_t buf[65536];
	union {
		char b[CMSG_SPACE(253 * sizeof(int))];
		struct cmsghdr align;
	} u;

	for (;;) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = u.b, .msg_controllen = sizeof(u.b) };
		ssize_t k = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (k <= 0)
			return;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
				int f;

				memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				close(f);
			}
		}
	}
}

/* Open fds of this process (the oracle for fd leaks). */
static inline int fz_fd_count(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

#endif
