/* SPDX-License-Identifier: MIT */
/*
 * Cross-process: fd-backed DMA windows against a real testdev server
 * process, over raw sockets. Every DMA_MAP carries the memfd again, so the
 * server gets a fresh fd number each time (as from QEMU). Seen from outside,
 * in the server's /proc/PID/maps and /proc/PID/fd:
 *   - the windows of one memfd share one mapping: the VMA count stays put
 *     while 2000 windows are mapped, and no window keeps its fd
 *   - the mapping goes with the last window (unmap, and disconnect)
 *   - each window keeps its own prot (device DMA into a read-only window
 *     fails, the bytes stay), and its own place in the file
 *   - partially overlapping ranges of one file, two memfds
 *   - 65535 fd-backed windows (the type1 entry limit) mapped and unmapped
 *     while vm.max_map_count is 65530
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>
#include <linux/vfio.h>
#include <cmocka.h>

#include "devices/testdev.h"
#include "tests/proc/vu_raw.h"
#include "tests/proc/vu_xact.h"

#define PG 0x1000ull

static struct raw_server srv;
static int base_fds, base_vmas;

/* Lines of the server's /proc/PID/maps containing `what` (all: NULL). */
static int srv_maps(const char *what)
{
	char path[64], line[512];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)srv.pid);
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		n += !what || strstr(line, what) != NULL;
	fclose(f);
	return n;
}

/* The server drops a connection's windows after it noticed the close. */
static int settled_maps(const char *what, int expect)
{
	int n = -1;

	for (int i = 0; i < 300; i++) {
		n = srv_maps(what);
		if (n == expect)
			break;
		usleep(10000);
	}
	return n;
}

/*
 * The server holds only its baseline fds and the connection's: no window
 * fd. (Settled: a refused DMA_MAP's fd is closed just after the reply.)
 */
static void check_fds(void)
{
	char path[64], target[256];
	struct dirent *e;
	DIR *d;
	int n = raw_settled_fds(&srv, base_fds + 1);

	if (n == base_fds + 1)
		return;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)srv.pid);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		char link[512];
		ssize_t k;

		snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
		k = readlink(link, target, sizeof(target) - 1);
		if (k > 0) {
			target[k] = 0;
			fprintf(stderr, "server fd %s -> %s\n", e->d_name, target);
		}
	}
	if (d)
		closedir(d);
	fail_msg("server holds %d fds, %d expected", n, base_fds + 1);
}

static int setup(void **state)
{
	raw_server_start(&srv, "0", "0"); /* max_dma_maps: the default, 65535 */
	base_fds = raw_fd_count(srv.pid);
	base_vmas = srv_maps(NULL);
	return 0;
}

static int teardown(void **state)
{
	return raw_server_stop(&srv);
}

static int connect_versioned(void)
{
	int fd = raw_connect(&srv);

	do_version(fd);
	return fd;
}

static int memfd(const char *name, uint64_t size, uint8_t **map)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	*map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(*map != MAP_FAILED);
	return fd;
}

static int dma_map_prot(int fd, uint64_t iova, uint64_t size, uint64_t off, int mfd,
			uint32_t prot)
{
	struct vfio_user_dma_map m = {
		.argsz = sizeof(m), .flags = prot, .offset = off, .addr = iova, .size = size,
	};

	return xact(fd, VFIO_USER_DMA_MAP, &m, sizeof(m), &mfd, 1);
}

static uint64_t dma_status(int fd)
{
	uint64_t v;

	assert_int_equal(region_read(fd, 0, TESTDEV_REG_DMA_STATUS, 8), 0);
	memcpy(&v, rm.p + 16, 8);
	return v;
}

/* 2000 windows of one memfd: one mapping, no fd held, gone with the last window. */
static void test_windows_share_one_mapping(void **state)
{
	enum { N = 2000 };
	int fd = connect_versioned(), vmas;
	uint8_t *ram;
	int mfd = memfd("proc-share", N * PG, &ram);

	for (uint64_t i = 0; i < N; i++)
		assert_int_equal(dma_map(fd, 0x10000000 + i * 2 * PG, PG, i * PG, mfd), 0);
	vmas = srv_maps(NULL);
	assert_int_equal(srv_maps("memfd:proc-share"), 1);
	/* allocator arenas may add some (under ASan ~30, also with 65535
	 * windows); one per window would add 2000 */
	if (vmas > base_vmas + 64)
		fail_msg("%d VMAs with %d windows mapped, %d before", vmas, N, base_vmas);
	check_fds(); /* the connection only */

	/* the device reaches the memfd through them: page 5 -> page 1500 */
	for (unsigned int i = 0; i < PG; i++)
		ram[5 * PG + i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(dma_copy(fd, 0x10000000 + 5 * 2 * PG, 0x10000000 + 1500 * 2 * PG, PG,
				  NULL), 0);
	assert_int_equal(dma_status(fd), 0);
	assert_memory_equal(ram + 5 * PG, ram + 1500 * PG, PG);

	for (uint64_t i = 1; i < N; i++)
		assert_int_equal(dma_unmap(fd, 0x10000000 + i * 2 * PG, PG, 0), 0);
	assert_int_equal(srv_maps("memfd:proc-share"), 1); /* window 0 still there */
	assert_int_equal(dma_unmap(fd, 0x10000000, PG, 0), 0);
	assert_int_equal(srv_maps("memfd:proc-share"), 0);

	/* mapped again, then the client leaves: the mapping goes too */
	assert_int_equal(dma_map(fd, 0x10000000, PG, 0, mfd), 0);
	assert_int_equal(srv_maps("memfd:proc-share"), 1);
	close(fd);
	assert_int_equal(settled_maps("memfd:proc-share", 0), 0);
	munmap(ram, N * PG);
	close(mfd);
}

/*
 * Read-only and read-write windows of one memfd: a mapping per access class
 * (the read-only one PROT_READ, so even a device's stray pointer write
 * faults), each window its prot.
 */
static void test_prot_per_window(void **state)
{
	int fd = connect_versioned();
	uint8_t *ram;
	int mfd = memfd("proc-prot", 4 * PG, &ram);

	memset(ram, 0x11, PG);
	memset(ram + PG, 0x22, PG);
	assert_int_equal(dma_map_prot(fd, 0x100000, PG, 0, mfd, VFIO_DMA_MAP_FLAG_READ), 0);
	assert_int_equal(dma_map_prot(fd, 0x200000, PG, PG, mfd,
				      VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE), 0);
	assert_int_equal(srv_maps("memfd:proc-prot"), 2);
	/* into the read-only window: refused, its bytes stay */
	assert_int_equal(dma_copy(fd, 0x200000, 0x100000, 64, NULL), 0);
	assert_int_equal(dma_status(fd), EFAULT);
	assert_int_equal(ram[0], 0x11);
	assert_int_equal(ram[63], 0x11);
	/* out of it into the read-write one: fine */
	assert_int_equal(dma_copy(fd, 0x100000, 0x200000, 64, NULL), 0);
	assert_int_equal(dma_status(fd), 0);
	assert_int_equal(ram[PG], 0x11);
	assert_int_equal(ram[PG + 64], 0x22);
	close(fd);
	assert_int_equal(settled_maps("memfd:proc-prot", 0), 0);
	munmap(ram, 4 * PG);
	close(mfd);
}

/* Windows over overlapping ranges of one file, and a second memfd. */
static void test_overlap_and_two_memfds(void **state)
{
	int fd = connect_versioned();
	uint8_t *a, *b;
	int ma = memfd("proc-two-a", 8 * PG, &a), mb = memfd("proc-two-b", 8 * PG, &b);

	/* a's pages 0-3 at 0x100000, pages 2-5 at 0x200000; b's 0-3 at 0x300000 */
	assert_int_equal(dma_map(fd, 0x100000, 4 * PG, 0, ma), 0);
	assert_int_equal(dma_map(fd, 0x200000, 4 * PG, 2 * PG, ma), 0);
	assert_int_equal(dma_map(fd, 0x300000, 4 * PG, 0, mb), 0);
	assert_int_equal(srv_maps("memfd:proc-two-a"), 1);
	assert_int_equal(srv_maps("memfd:proc-two-b"), 1);

	memset(b + PG, 0xbb, PG);
	/* b page 1 -> a page 3 through the second window (its page 1) */
	assert_int_equal(dma_copy(fd, 0x300000 + PG, 0x200000 + PG, PG, NULL), 0);
	assert_int_equal(dma_status(fd), 0);
	assert_int_equal(a[3 * PG], 0xbb);
	/* a page 3 again, through the first window -> b page 2 */
	assert_int_equal(dma_copy(fd, 0x100000 + 3 * PG, 0x300000 + 2 * PG, PG, NULL), 0);
	assert_int_equal(dma_status(fd), 0);
	assert_int_equal(b[2 * PG + PG - 1], 0xbb);

	/* b's window gone: b's mapping gone, a's stays */
	assert_int_equal(dma_unmap(fd, 0x300000, 4 * PG, 0), 0);
	assert_int_equal(srv_maps("memfd:proc-two-b"), 0);
	assert_int_equal(srv_maps("memfd:proc-two-a"), 1);
	close(fd);
	assert_int_equal(settled_maps("memfd:proc-two-a", 0), 0);
	munmap(a, 8 * PG);
	munmap(b, 8 * PG);
	close(ma);
	close(mb);
}

/*
 * The type1 entry limit: 65535 fd-backed windows, one DMA_MAP with the fd
 * each, mapped at once and unmapped again. One VMA per window would pass
 * vm.max_map_count (65530 by default) on the way, and one kept fd per
 * window RLIMIT_NOFILE.
 */
static void test_65535_windows(void **state)
{
	const uint64_t n = 65535;
	int fd = connect_versioned(), vmas;
	uint8_t *ram;
	int mfd = memfd("proc-65535", n * PG, &ram);

	for (uint64_t i = 0; i < n; i++) {
		int ret = dma_map(fd, i * 2 * PG, PG, i * PG, mfd);

		if (ret)
			fail_msg("DMA_MAP of window %llu: %s", (unsigned long long)i, strerror(ret));
	}
	assert_int_equal(dma_map(fd, n * 2 * PG, PG, 0, mfd), ENOSPC);
	vmas = srv_maps(NULL);
	if (vmas > base_vmas + 64)
		fail_msg("%d VMAs with 65535 windows mapped, %d before", vmas, base_vmas);
	assert_int_equal(srv_maps("memfd:proc-65535"), 1);
	check_fds();
	/* the last one works */
	ram[(n - 1) * PG] = 0x77;
	assert_int_equal(dma_copy(fd, (n - 1) * 2 * PG, 0, 1, NULL), 0);
	assert_int_equal(dma_status(fd), 0);
	assert_int_equal(ram[0], 0x77);
	for (uint64_t i = 0; i < n; i++) {
		int ret = dma_unmap(fd, i * 2 * PG, PG, 0);

		if (ret)
			fail_msg("DMA_UNMAP of window %llu: %s", (unsigned long long)i,
				 strerror(ret));
	}
	assert_int_equal(srv_maps("memfd:proc-65535"), 0);
	close(fd);
	munmap(ram, n * PG);
	close(mfd);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_windows_share_one_mapping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prot_per_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap_and_two_memfds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_65535_windows, setup, teardown),
	};

	if (argc < 2)
		return 2;
	server_exe = argv[1];
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
