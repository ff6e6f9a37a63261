/* SPDX-License-Identifier: MIT */
/*
 * cdx-demo served over vfio-user by another process, driven with the
 * client API: vfio-cdx's device info and region layout as a client sees
 * them, mapping the resources through the fds the server passed, the
 * BUS_MASTER feature, and DMA that the device may do only while it is set.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <uvfio/client.h>
#include <uvfio/log.h>
#include <uvfio/server.h>

#include "core/vfio_compat.h"
#include "devices/cdx_demo.h"
#include "devices/registry.h"

#define IOVA 0x40000000u
#define MEMSZ 0x4000u

struct served {
	char dir[64];
	char path[96];
	char loc[112];
	pid_t pid;
};

static struct uvfio_server *child_srv;

static void child_term(int sig)
{
	uvfio_server_stop(child_srv);
}

/* The server process: cdx-demo with `opt` (or none), until SIGTERM. */
static void child_serve(const char *path, const char *opt, int ready_fd)
{
	const struct uvfio_sample *s = uvfio_sample_find("cdx-demo");
	char *argv[] = { "cdx-demo", (char *)opt, NULL };
	struct uvfio_server_opts o = { .listen_fd = -1 };
	struct sigaction sa = { .sa_handler = child_term };
	struct uvfio_sample_dev sd;
	int ret;

	if (!s || s->create(opt ? 2 : 1, argv, &sd) || uvfio_device_register(sd.dev))
		_exit(1);
	ret = uvfio_server_create(sd.dev, path, &o, &child_srv);
	if (ret)
		_exit(1);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	close(ready_fd);
	ret = uvfio_server_run(child_srv);
	uvfio_server_destroy(child_srv);
	uvfio_device_unregister(sd.dev);
	s->destroy(sd.priv);
	_exit(ret ? 1 : 0);
}

static void serve(struct served *sv, const char *opt)
{
	int p[2];
	char c;

	strcpy(sv->dir, "/tmp/uvfio-cdx-XXXXXX");
	assert_non_null(mkdtemp(sv->dir));
	snprintf(sv->path, sizeof(sv->path), "%s/cdx.sock", sv->dir);
	snprintf(sv->loc, sizeof(sv->loc), "vfio-user:%s", sv->path);
	assert_int_equal(pipe(p), 0);
	sv->pid = fork();
	assert_true(sv->pid >= 0);
	if (!sv->pid) {
		close(p[0]);
		child_serve(sv->path, opt, p[1]);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
}

static void unserve(struct served *sv)
{
	int status = 0;

	kill(sv->pid, SIGTERM);
	assert_int_equal(waitpid(sv->pid, &status, 0), sv->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The server removed its socket. */
	assert_int_equal(access(sv->path, F_OK), -1);
	rmdir(sv->dir);
}

static int bus_master(struct uvfio_client *c, uint32_t flags, uint32_t argsz, uint32_t op)
{
	struct {
		struct vfio_device_feature hdr;
		uint32_t op;
	} f = { .hdr = { .argsz = argsz, .flags = flags | VFIO_DEVICE_FEATURE_BUS_MASTER },
		.op = op };

	return uvfio_client_feature(c, &f);
}

static void reg_write(struct uvfio_client *c, uint32_t off, const void *v, size_t n)
{
	assert_int_equal(uvfio_client_write(c, CDX_DEMO_RES_DMA, off, v, n), (ssize_t)n);
}

static uint32_t reg_read(struct uvfio_client *c, uint32_t off)
{
	uint32_t v = 0;

	assert_int_equal(uvfio_client_read(c, CDX_DEMO_RES_DMA, off, &v, 4), 4);
	return v;
}

/* Copy 256 bytes IOVA -> IOVA + 0x2000 with the device's engine. */
static uint32_t dma_copy(struct uvfio_client *c)
{
	uint64_t src = IOVA, dst = IOVA + 0x2000;
	uint32_t len = 256, go = CDX_DEMO_CTRL_GO;

	reg_write(c, CDX_DEMO_DMA_SRC, &src, 8);
	reg_write(c, CDX_DEMO_DMA_DST, &dst, 8);
	reg_write(c, CDX_DEMO_DMA_LEN, &len, 4);
	reg_write(c, CDX_DEMO_DMA_CTRL, &go, 4);
	return reg_read(c, CDX_DEMO_DMA_STATUS);
}

static void test_info_and_regions(void **state)
{
	struct served sv;
	struct uvfio_client *c = NULL;
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = 0 };
	struct uvfio_region r;
	const uint32_t R = VFIO_REGION_INFO_FLAG_READ, W = VFIO_REGION_INFO_FLAG_WRITE,
		       M = VFIO_REGION_INFO_FLAG_MMAP;
	uint32_t v = 0x600dcafe, got = 0, *sram, *rom;
	void *p;

	serve(&sv, NULL);
	assert_int_equal(uvfio_client_open(sv.loc, NULL, &c), 0);
	assert_int_equal(uvfio_client_get_info(c, &di), 0);
	assert_int_equal(di.flags & (VFIO_DEVICE_FLAGS_CDX | VFIO_DEVICE_FLAGS_RESET |
				     VFIO_DEVICE_FLAGS_PCI),
			 VFIO_DEVICE_FLAGS_CDX | VFIO_DEVICE_FLAGS_RESET);
	assert_int_equal(di.num_regions, 4);
	assert_int_equal(di.num_irqs, 1);
	assert_int_equal(uvfio_client_irq_info(c, &ii), 0);
	assert_int_equal(ii.count, 1);

	/* Offsets are index << 40, flags by kind of resource. */
	assert_int_equal(uvfio_client_region(c, CDX_DEMO_RES_SRAM, &r), 0);
	assert_int_equal(r.flags & (R | W | M), R | W | M);
	assert_int_equal(r.offset, 0);
	assert_int_equal(r.size, CDX_DEMO_SRAM_SIZE);
	assert_true(r.mmap_fd >= 0);
	assert_int_equal(uvfio_client_region(c, CDX_DEMO_RES_ROM, &r), 0);
	assert_int_equal(r.flags & (R | W | M), R | M);
	assert_int_equal(r.offset, (uint64_t)CDX_DEMO_RES_ROM << 40);
	assert_true(r.mmap_fd >= 0);
	/* The fd the server passed cannot be mapped writable (sealed). */
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, r.mmap_fd, (off_t)r.offset);
	assert_true(p == MAP_FAILED);
	assert_int_equal(errno, EPERM);
	assert_int_equal(uvfio_client_region(c, CDX_DEMO_RES_MAILBOX, &r), 0);
	assert_int_equal(r.flags & (R | W | M), R | W);
	assert_int_equal(r.offset, (uint64_t)CDX_DEMO_RES_MAILBOX << 40);
	assert_int_equal(uvfio_client_region(c, CDX_DEMO_RES_DMA, &r), 0);
	assert_int_equal(r.flags & (R | W | M), R | W);
	assert_int_equal(r.offset, (uint64_t)CDX_DEMO_RES_DMA << 40);
	assert_int_equal(uvfio_client_region(c, 4, &r), -EINVAL);

	/* A mapping of SRAM is the device's memory: what we store through it,
	 * the server reads back by message. */
	sram = uvfio_client_mmap(c, CDX_DEMO_RES_SRAM, 0x1000, 0x1000, PROT_READ | PROT_WRITE);
	assert_non_null(sram);
	sram[3] = v;
	assert_int_equal(uvfio_client_read(c, CDX_DEMO_RES_SRAM, 0x100c, &got, 4), 4);
	assert_int_equal(got, v);
	rom = uvfio_client_mmap(c, CDX_DEMO_RES_ROM, 0, 0x1000, PROT_READ);
	assert_non_null(rom);
	assert_int_equal(rom[0], CDX_DEMO_ID);
	assert_null(uvfio_client_mmap(c, CDX_DEMO_RES_ROM, 0, 0x1000, PROT_WRITE));
	assert_null(uvfio_client_mmap(c, CDX_DEMO_RES_MAILBOX, 0, 0x1000, PROT_READ));
	/* Read-only by message too. */
	assert_true(uvfio_client_write(c, CDX_DEMO_RES_ROM, 0, &v, 4) < 0);

	uvfio_client_close(c);
	unserve(&sv);
}

static void test_bus_master_dma(void **state)
{
	struct served sv;
	struct uvfio_client *c = NULL;
	struct uvfio_dma_map_args map = {
		.iova = IOVA, .size = MEMSZ, .prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE,
	};
	uint8_t *mem;
	int fd;

	serve(&sv, NULL);
	assert_int_equal(uvfio_client_open(sv.loc, NULL, &c), 0);
	fd = memfd_create("dma", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, MEMSZ), 0);
	mem = mmap(NULL, MEMSZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(mem != MAP_FAILED);
	for (unsigned int i = 0; i < 256; i++)
		mem[i] = (uint8_t)(i ^ 0x5a);
	map.fd = fd;
	assert_int_equal(uvfio_client_dma_map(c, &map), 0);

	/* The feature: SET only, a u32 op of 0 or 1. */
	assert_int_equal(bus_master(c, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET, 8, 0), 0);
	assert_int_equal(bus_master(c, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET, 8, 0),
			 -EINVAL);
	assert_int_equal(bus_master(c, VFIO_DEVICE_FEATURE_GET, 12, 0), -EINVAL);
	assert_int_equal(bus_master(c, VFIO_DEVICE_FEATURE_SET, 12, 7), -EINVAL);
	assert_int_equal(bus_master(c, VFIO_DEVICE_FEATURE_SET, 10, 1), -EINVAL);

	/* Bus mastering starts off after open: the engine's copy is refused. */
	assert_int_equal(dma_copy(c), CDX_DEMO_STATUS_ERROR);
	assert_int_equal(reg_read(c, CDX_DEMO_DMA_ERROR), EPERM);
	assert_int_equal(mem[0x2000], 0);

	assert_int_equal(bus_master(c, VFIO_DEVICE_FEATURE_SET, 12,
				    VFIO_DEVICE_FEATURE_SET_MASTER), 0);
	assert_int_equal(dma_copy(c), CDX_DEMO_STATUS_DONE);
	assert_memory_equal(mem + 0x2000, mem, 256);

	memset(mem + 0x2000, 0, 256);
	assert_int_equal(bus_master(c, VFIO_DEVICE_FEATURE_SET, 12,
				    VFIO_DEVICE_FEATURE_CLEAR_MASTER), 0);
	assert_int_equal(dma_copy(c), CDX_DEMO_STATUS_ERROR);
	assert_int_equal(mem[0x2000], 0);

	assert_int_equal(uvfio_client_reset(c), 0);
	assert_int_equal(reg_read(c, CDX_DEMO_DMA_STATUS), CDX_DEMO_STATUS_IDLE);

	uvfio_client_close(c);
	/* A new client starts from a fresh open: off again. */
	assert_int_equal(uvfio_client_open(sv.loc, NULL, &c), 0);
	map.fd = fd;
	assert_int_equal(uvfio_client_dma_map(c, &map), 0);
	assert_int_equal(dma_copy(c), CDX_DEMO_STATUS_ERROR);
	uvfio_client_close(c);
	munmap(mem, MEMSZ);
	close(fd);
	unserve(&sv);
}

/* A window without an fd: the device's DMA travels as DMA_READ/WRITE
 * messages that the client serves while it waits for its register write. */
static void test_dma_by_message(void **state)
{
	struct served sv;
	struct uvfio_client *c = NULL;
	uint8_t *mem = aligned_alloc(4096, MEMSZ);
	struct uvfio_dma_map_args map = {
		.iova = IOVA, .size = MEMSZ, .prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE,
		.fd = -1, .vaddr = mem,
	};

	assert_non_null(mem);
	memset(mem, 0, MEMSZ);
	for (unsigned int i = 0; i < 256; i++)
		mem[i] = (uint8_t)(255 - i);
	serve(&sv, NULL);
	assert_int_equal(uvfio_client_open(sv.loc, NULL, &c), 0);
	assert_int_equal(uvfio_client_dma_map(c, &map), 0);
	assert_int_equal(dma_copy(c), CDX_DEMO_STATUS_ERROR);
	assert_int_equal(bus_master(c, VFIO_DEVICE_FEATURE_SET, 12, 1), 0);
	assert_int_equal(dma_copy(c), CDX_DEMO_STATUS_DONE);
	assert_memory_equal(mem + 0x2000, mem, 256);
	uvfio_client_close(c);
	unserve(&sv);
	free(mem);
}

static void test_no_bus_master(void **state)
{
	struct served sv;
	struct uvfio_client *c = NULL;

	serve(&sv, "--no-bus-master");
	assert_int_equal(uvfio_client_open(sv.loc, NULL, &c), 0);
	assert_int_equal(bus_master(c, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET, 8, 0),
			 -ENOTTY);
	assert_int_equal(bus_master(c, VFIO_DEVICE_FEATURE_SET, 12, 1), -ENOTTY);
	uvfio_client_close(c);
	unserve(&sv);
}

static void quiet(enum uvfio_log_level level, const char *who, const char *msg,
		  void *opaque)
{
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_info_and_regions),
		cmocka_unit_test(test_bus_master_dma),
		cmocka_unit_test(test_dma_by_message),
		cmocka_unit_test(test_no_bus_master),
	};

	if (sysconf(_SC_PAGESIZE) != 4096)
		return 77;
	uvfio_log_set_sink(quiet, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
