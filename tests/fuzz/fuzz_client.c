/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the vfio-user client's reply and server-request parsing.
 * Each input is the byte stream a hostile server sends (records, see
 * fuzz_stream.h), fed by a thread on a real socket; the client opens the
 * device and makes a fixed sequence of calls, each of which consumes the
 * replies (msg_id 0, 1, ...) and serves the DMA_READ/DMA_WRITE requests it
 * finds against its two message-based windows:
 *
 *   open (VERSION 0, GET_INFO 1), region 0, region 1, irq info 0,
 *   read r0 @0 8 B, write r0 @8 8 B, DMA_MAP A (0x10000, 16 KiB, RW),
 *   DMA_MAP B (0x40000, 4 KiB, READ), SET_IRQS (1 eventfd), feature GET
 *   0x100, process (serves queued DMA requests), MIG_DATA_READ 64 B,
 *   MIG_DATA_WRITE 16 B, reset, unmap A, unmap all.
 *
 * Every record's payload also goes through each client-side parse function
 * of the codec. Oracles: ASan/UBSan; the windows' guard bytes stay intact
 * (a DMA_WRITE never lands outside a window); no fd leaks.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/un.h>

#include <uvfio/client.h>
#include <uvfio/log.h>

#include "tests/fuzz/fuzz_stream.h"
#include "user/codec.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[108];
static int lfd = -1;

struct feed {
	const uint8_t *data;
	size_t size;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (!getenv("UVFIO_LOG"))
		uvfio_log_set_level(UVFIO_LOG_ERR);
	snprintf(path, sizeof(path), "/tmp/uvfio-fuzz-client-%d.sock", (int)getpid());
	unlink(path);
	strcpy(sa.sun_path, path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4))
		abort();
	return 0;
}

static void parse_all(const uint8_t *p, size_t len)
{
	union {
		struct vu_version v;
		struct vu_dma_unmap u;
		struct vfio_user_device_info di;
		struct vfio_user_irq_info ii;
		struct vu_region_access ra;
		struct vu_dma_access da;
		struct vu_mig_data md;
		struct vu_caps caps;
		uint8_t raw[512];
	} o;
	struct vfio_user_header h;
	struct vfio_user_region_info ri;
	struct vfio_user_region_io_fds io;
	struct vu_region_caps rc;
	const void *ents;
	size_t stride;

	vu_hdr_parse(p, len, 1u << 20, &h);
	if (len >= 16) {
		p += 16;
		len -= 16;
	}
	vu_version_rep_parse(p, len, &o.v);
	vu_dma_map_rep_parse(p, len);
	vu_dma_unmap_rep_parse(p, len, 1u << 20, &o.u);
	vu_device_info_rep_parse(p, len, &o.di);
	vu_region_info_rep_parse(p, len, &ri, &rc);
	if (!vu_region_io_fds_rep_parse(p, len, &io, &ents, &stride) && ents) {
		struct vfio_user_sub_region_ioeventfd e;

		vu_region_io_fds_entry(ents, stride, io.count - 1, &e); /* the last one fits */
	}
	vu_irq_info_rep_parse(p, len, &o.ii);
	vu_set_irqs_rep_parse(p, len);
	vu_region_read_rep_parse(p, len, 1u << 20, &o.ra);
	vu_dma_read_rep_parse(p, len, 1u << 20, &o.da);
	vu_dma_write_rep_parse(p, len, &o.da);
	vu_region_write_rep_parse(p, len, &o.ra);
	vu_dma_read_req_parse(p, len, 1u << 20, &o.da);
	vu_dma_write_req_parse(p, len, 1u << 20, &o.da);
	vu_mig_read_rep_parse(p, len, 1u << 20, &o.md);
	vu_mig_write_rep_parse(p, len);
	vu_caps_parse((const char *)p, len, &o.caps);
}

/* The client's side of the stream, framed, to count its commands. */
struct framer {
	uint8_t hdr[16];
	size_t have;   /* header bytes so far */
	uint64_t skip; /* payload bytes still to skip */
	unsigned int cmds;
};

static void frame(struct framer *fr, const uint8_t *p, size_t n)
{
	while (n) {
		if (fr->skip) {
			size_t k = n < fr->skip ? n : (size_t)fr->skip;

			fr->skip -= k;
			p += k;
			n -= k;
			continue;
		}
		fr->hdr[fr->have++] = *p++;
		n--;
		if (fr->have == 16) {
			uint32_t size, flags;

			memcpy(&size, fr->hdr + 4, 4);
			memcpy(&flags, fr->hdr + 8, 4);
			fr->skip = size > 16 ? size - 16 : 0;
			fr->have = 0;
			if ((flags & 0xf) == 0)
				fr->cmds++;
		}
	}
}

/* Read what the client sent (never waits longer than wait_ms). */
static int pump(int fd, struct framer *fr, int wait_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t buf[65536];
	ssize_t k;

	if (poll(&p, 1, wait_ms) != 1)
		return 0;
	k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (k <= 0)
		return -1; /* closed */
	frame(fr, buf, (size_t)k);
	return 1;
}

/*
 * Send the records. A reply goes only once the client has sent the command
 * it answers (a real server cannot answer early, and the client drops
 * replies that come before their command); requests go at once.
 */
static void *feeder(void *arg)
{
	struct feed *f = arg;
	struct framer fr = { 0 };
	unsigned int replies = 0;
	struct fz_rec r;
	size_t off = 0;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), big = 1 << 20;

	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	while (fz_next(f->data, f->size, &off, &r)) {
		if (r.len >= 16 && (r.p[8] & 0xf) == 1) {
			while (fr.cmds <= replies)
				if (pump(fd, &fr, 200) <= 0)
					break;
			replies++;
		}
		if (fz_send(fd, &r))
			break;
		while (pump(fd, &fr, 0) > 0)
			;
	}
	shutdown(fd, SHUT_WR);
	while (pump(fd, &fr, 5000) > 0) /* until the client closes */
		;
	close(fd);
	return NULL;
}

#define GUARD 64
static uint8_t mem_a[GUARD + 16384 + GUARD] __attribute__((aligned(4096)));
static uint8_t mem_b[GUARD + 4096 + GUARD];

static void check_guard(const uint8_t *m, size_t n)
{
	for (size_t i = 0; i < GUARD; i++)
		if (m[i] != 0xa5 || m[GUARD + n + i] != 0xa5)
			abort(); /* a DMA wrote outside its window */
}

static void calls(struct uvfio_client *c)
{
	struct uvfio_region reg;
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = 0 };
	struct vfio_irq_set set = { .argsz = sizeof(set) + 4, .index = 0, .count = 1,
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER };
	struct uvfio_dma_map_args a = { .iova = 0x10000, .size = 16384, .fd = -1,
		.vaddr = mem_a + GUARD, .prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE };
	struct uvfio_dma_map_args b = { .iova = 0x40000, .size = 4096, .fd = -1,
		.vaddr = mem_b + GUARD, .prot = UVFIO_DMA_READ };
	struct {
		uint32_t argsz, flags;
		uint64_t v;
	} feat = { sizeof(feat), VFIO_DEVICE_FEATURE_GET | 0x100, 0 };
	uint8_t buf[64] = { 0 };
	int efd = eventfd(0, EFD_CLOEXEC);

	/* a region fd stays the client core's, closed at close */
	for (uint32_t i = 0; i < 2; i++)
		uvfio_client_region(c, i, &reg);
	uvfio_client_irq_info(c, &ii);
	uvfio_client_read(c, 0, 0, buf, 8);
	uvfio_client_write(c, 0, 8, buf, 8);
	uvfio_client_dma_map(c, &a);
	uvfio_client_dma_map(c, &b);
	uvfio_client_set_irqs(c, &set, &efd);
	uvfio_client_feature(c, &feat);
	uvfio_client_process(c, 0);
	uvfio_client_mig_read(c, buf, sizeof(buf));
	uvfio_client_mig_write(c, buf, 16);
	uvfio_client_reset(c);
	uvfio_client_dma_unmap(c, a.iova, a.size);
	uvfio_client_dma_unmap_all(c);
	if (efd >= 0)
		close(efd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uvfio_client_opts o = { .timeout_ms = 200 };
	struct feed f = { data, size };
	struct uvfio_client *c = NULL;
	struct fz_rec r;
	size_t off = 0;
	pthread_t t;
	int base = fz_fd_count();

	while (fz_next(data, size, &off, &r))
		parse_all(r.p, r.len);

	memset(mem_a, 0xa5, sizeof(mem_a));
	memset(mem_b, 0xa5, sizeof(mem_b));
	if (pthread_create(&t, NULL, feeder, &f))
		abort();
	/* A failed open has connected already: the feeder's accept returns. */
	if (!uvfio_client_open(path, &o, &c)) {
		calls(c);
		uvfio_client_close(c);
	}
	pthread_join(t, NULL);
	check_guard(mem_a, 16384);
	check_guard(mem_b, 4096);
	if (fz_fd_count() != base) {
		fprintf(stderr, "fuzz_client: fd leak: %d open, %d before\n", fz_fd_count(), base);
		abort();
	}
	return 0;
}
