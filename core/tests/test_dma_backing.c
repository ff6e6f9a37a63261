/* SPDX-License-Identifier: MIT */
/*
 * fd-backed windows share one mapping per backing object (core/dma_backing.c):
 * observed in /proc/self/maps, where a memfd's mapping shows as one line
 * "/memfd:NAME (deleted)". Every map gets a fresh fd (a dup), as the server
 * gets from each DMA_MAP's SCM_RIGHTS; the space closes it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "dma_test.h"

#define PG 0x1000ull

static int setup(void **state)
{
	*state = uvfio_dma_create(NULL);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	uvfio_dma_destroy(*state);
	return 0;
}

/* Lines of /proc/self/maps containing `what` (all lines: NULL). */
static int maps_lines(const char *what)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		n += !what || strstr(line, what) != NULL;
	fclose(f);
	return n;
}

static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own */
}

static int memfd(const char *name, uint64_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

/* Map [iova, iova + size) from a fresh dup of fd at off. */
static int map_fd(struct uvfio_dma *dma, uint64_t iova, uint64_t size, uint32_t prot, int fd,
		  uint64_t off)
{
	struct uvfio_dma_map_args a = { .iova = iova, .size = size, .prot = prot,
					.fd = dup(fd), .fd_offset = off };
	int ret;

	assert_true(a.fd >= 0);
	ret = uvfio_dma_map(dma, &a);
	if (ret)
		close(a.fd); /* a failed map leaves it to us */
	return ret;
}

static void *host_of(struct uvfio_dma *dma, uint64_t iova)
{
	struct uvfio_dma_ref ref;
	void *p = uvfio_dma_get(dma, iova, 1, UVFIO_DMA_READ, &ref);

	assert_non_null(p);
	uvfio_dma_put(dma, &ref);
	return p;
}

/*
 * Many windows of one memfd: one mapping (the VMA count does not grow with
 * the windows), no fd kept; it stays while any window does and goes with
 * the last one.
 */
static void test_windows_share_one_mapping(void **state)
{
	struct uvfio_dma *dma = *state;
	enum { N = 4096 };
	int fd = memfd("uvfio-share", N * PG), vmas0 = maps_lines(NULL), fds0 = fd_count();
	uint8_t v = 0;
	uint64_t n;

	assert_int_equal(maps_lines("memfd:uvfio-share"), 0);
	for (uint64_t i = 0; i < N; i++)
		assert_int_equal(map_fd(dma, 0x100000 + i * 2 * PG, PG, RW, fd, i * PG), 0);
	assert_int_equal(uvfio_dma_count(dma), N);
	assert_int_equal(maps_lines("memfd:uvfio-share"), 1);
	/* the index's arenas and the allocator's (ASan's: ~30) may add some;
	 * one VMA per window would add 4096 */
	assert_true(maps_lines(NULL) <= vmas0 + 64);
	assert_int_equal(fd_count(), fds0);
	/* the same mapping: window i is i pages after window 0 */
	for (uint64_t i = 0; i < N; i += 511)
		assert_ptr_equal(host_of(dma, 0x100000 + i * 2 * PG),
				 (char *)host_of(dma, 0x100000) + i * PG);
	/* and it is the memfd */
	assert_int_equal(pwrite(fd, "\x5a", 1, 77 * PG + 5), 1);
	assert_int_equal(uvfio_dma_read(dma, 0x100000 + 77 * 2 * PG + 5, &v, 1), 0);
	assert_int_equal(v, 0x5a);

	for (uint64_t i = 1; i < N; i++)
		assert_int_equal(uvfio_dma_unmap(dma, 0x100000 + i * 2 * PG, PG,
						 UVFIO_DMA_UNMAP_EXACT, &n), 0);
	assert_int_equal(maps_lines("memfd:uvfio-share"), 1); /* window 0 still uses it */
	assert_int_equal(uvfio_dma_read(dma, 0x100000, &v, 1), 0);
	assert_int_equal(uvfio_dma_unmap(dma, 0x100000, PG, UVFIO_DMA_UNMAP_EXACT, &n), 0);
	assert_int_equal(maps_lines("memfd:uvfio-share"), 0);
	close(fd);
}

/* Unmap-all and destroy release the mapping too. */
static void test_unmap_all_releases(void **state)
{
	struct uvfio_dma *dma = *state, *dma2 = uvfio_dma_create(NULL);
	int fd = memfd("uvfio-all", 16 * PG);

	assert_non_null(dma2);
	for (uint64_t i = 0; i < 16; i++) {
		assert_int_equal(map_fd(dma, i * 2 * PG, PG, RW, fd, i * PG), 0);
		assert_int_equal(map_fd(dma2, i * 2 * PG, PG, RW, fd, i * PG), 0);
	}
	/* one per space: a space's mappings are its own */
	assert_int_equal(maps_lines("memfd:uvfio-all"), 2);
	assert_int_equal(uvfio_dma_unmap_all(dma, NULL), 0);
	assert_int_equal(maps_lines("memfd:uvfio-all"), 1);
	uvfio_dma_destroy(dma2);
	assert_int_equal(maps_lines("memfd:uvfio-all"), 0);
	close(fd);
}

/* The permissions ("r--s", "rw-s") of the mapping holding p, from /proc/self/maps. */
static void perms_at(const void *p, char perms[5])
{
	char line[512];
	unsigned long lo, hi, a = (unsigned long)p;
	FILE *f = fopen("/proc/self/maps", "re");

	assert_non_null(f);
	strcpy(perms, "none");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && lo <= a && a < hi)
			break;
		else
			strcpy(perms, "none");
	fclose(f);
}

/*
 * One mapping per access class: read-only windows in a read-only mapping
 * (the MMU stops a write through their pointer, as an IOMMU would), the
 * others in a read-write one; each window's prot checked on every access.
 */
static void test_prot_per_window(void **state)
{
	struct uvfio_dma *dma = *state;
	int fd = memfd("uvfio-prot", 4 * PG);
	struct uvfio_dma_ref ref;
	char buf[8] = "written", back[8], perms[5];
	void *p;

	assert_int_equal(map_fd(dma, 0x10000, PG, UVFIO_DMA_READ, fd, 0), 0);
	assert_int_equal(map_fd(dma, 0x20000, PG, RW, fd, PG), 0);
	assert_int_equal(map_fd(dma, 0x30000, PG, UVFIO_DMA_WRITE, fd, 2 * PG), 0);
	assert_int_equal(map_fd(dma, 0x40000, PG, UVFIO_DMA_READ, fd, 3 * PG), 0);
	assert_int_equal(maps_lines("memfd:uvfio-prot"), 2);
	p = uvfio_dma_get(dma, 0x10000, 8, UVFIO_DMA_READ, &ref);
	assert_non_null(p);
	perms_at(p, perms);
	assert_string_equal(perms, "r--s");
	uvfio_dma_put(dma, &ref);
	p = uvfio_dma_get(dma, 0x20000, 8, RW, &ref);
	assert_non_null(p);
	perms_at(p, perms);
	assert_string_equal(perms, "rw-s");
	uvfio_dma_put(dma, &ref);

	assert_int_equal(uvfio_dma_write(dma, 0x10000, buf, 8), -EFAULT);
	assert_null(uvfio_dma_get(dma, 0x10000, 8, UVFIO_DMA_WRITE, &ref));
	assert_int_equal(errno, EFAULT);
	assert_int_equal(uvfio_dma_read(dma, 0x10000, back, 8), 0);

	assert_int_equal(uvfio_dma_write(dma, 0x20000, buf, 8), 0);
	assert_int_equal(uvfio_dma_read(dma, 0x20000, back, 8), 0);
	assert_memory_equal(back, buf, 8);

	assert_int_equal(uvfio_dma_read(dma, 0x30000, back, 8), -EFAULT);
	assert_null(uvfio_dma_get(dma, 0x30000, 8, UVFIO_DMA_READ, &ref));
	assert_int_equal(uvfio_dma_write(dma, 0x30000, buf, 8), 0);
	assert_int_equal(pread(fd, back, 8, 2 * PG), 8);
	assert_memory_equal(back, buf, 8);
	/* the read-only window's page was never written */
	assert_int_equal(pread(fd, back, 8, 0), 8);
	assert_memory_equal(back, "\0\0\0\0\0\0\0\0", 8);
	close(fd);
}

/* Windows over overlapping ranges of one file see the same bytes. */
static void test_overlapping_offsets(void **state)
{
	struct uvfio_dma *dma = *state;
	int fd = memfd("uvfio-overlap", 8 * PG);
	uint32_t v = 0xc0ffee, back = 0;

	assert_int_equal(map_fd(dma, 0x100000, 2 * PG, RW, fd, 0), 0);      /* pages 0-1 */
	assert_int_equal(map_fd(dma, 0x200000, 3 * PG, RW, fd, PG), 0);     /* pages 1-3 */
	assert_int_equal(map_fd(dma, 0x300000, PG, RW, fd, PG), 0);         /* page 1 again */
	assert_int_equal(maps_lines("memfd:uvfio-overlap"), 1);
	assert_int_equal(uvfio_dma_write(dma, 0x100000 + PG + 12, &v, 4), 0);
	assert_int_equal(uvfio_dma_read(dma, 0x200000 + 12, &back, 4), 0);
	assert_int_equal(back, v);
	back = 0;
	assert_int_equal(uvfio_dma_read(dma, 0x300000 + 12, &back, 4), 0);
	assert_int_equal(back, v);
	assert_int_equal(uvfio_dma_unmap(dma, 0x100000, 2 * PG, 0, NULL), 0);
	assert_int_equal(uvfio_dma_unmap(dma, 0x300000, PG, 0, NULL), 0);
	back = 0;
	assert_int_equal(uvfio_dma_read(dma, 0x200000 + 12, &back, 4), 0);
	assert_int_equal(back, v);
	close(fd);
}

/* Two memfds: a mapping each, each window its own memory. */
static void test_two_memfds(void **state)
{
	struct uvfio_dma *dma = *state;
	int a = memfd("uvfio-two-a", 4 * PG), b = memfd("uvfio-two-b", 4 * PG);
	char ca = 0, cb = 0;

	assert_int_equal(pwrite(a, "A", 1, PG), 1);
	assert_int_equal(pwrite(b, "B", 1, PG), 1);
	for (uint64_t i = 0; i < 4; i++) {
		assert_int_equal(map_fd(dma, 0x100000 + i * PG, PG, RW, a, i * PG), 0);
		assert_int_equal(map_fd(dma, 0x200000 + i * PG, PG, RW, b, i * PG), 0);
	}
	assert_int_equal(maps_lines("memfd:uvfio-two-a"), 1);
	assert_int_equal(maps_lines("memfd:uvfio-two-b"), 1);
	assert_int_equal(uvfio_dma_read(dma, 0x100000 + PG, &ca, 1), 0);
	assert_int_equal(uvfio_dma_read(dma, 0x200000 + PG, &cb, 1), 0);
	assert_int_equal(ca, 'A');
	assert_int_equal(cb, 'B');
	/* b's windows gone: b's mapping gone, a's stays */
	assert_int_equal(uvfio_dma_unmap(dma, 0x200000, 4 * PG, 0, NULL), 0);
	assert_int_equal(maps_lines("memfd:uvfio-two-b"), 0);
	assert_int_equal(maps_lines("memfd:uvfio-two-a"), 1);
	close(a);
	close(b);
}

/* A window past the end of the mapping (the file grew) gets a new one. */
static void test_file_grows(void **state)
{
	struct uvfio_dma *dma = *state;
	int fd = memfd("uvfio-grow", 2 * PG);
	char c = 0;

	assert_int_equal(map_fd(dma, 0x100000, PG, RW, fd, 0), 0);
	assert_int_equal(map_fd(dma, 0x200000, PG, RW, fd, 2 * PG), -EFAULT); /* not yet */
	assert_int_equal(ftruncate(fd, 8 * PG), 0);
	assert_int_equal(map_fd(dma, 0x200000, PG, RW, fd, 2 * PG), 0);
	assert_int_equal(maps_lines("memfd:uvfio-grow"), 2);
	/* later windows anywhere in the file use the bigger one */
	assert_int_equal(map_fd(dma, 0x300000, PG, RW, fd, 7 * PG), 0);
	assert_int_equal(map_fd(dma, 0x400000, PG, RW, fd, 0), 0);
	assert_int_equal(maps_lines("memfd:uvfio-grow"), 2);
	assert_int_equal(pwrite(fd, "g", 1, 7 * PG), 1);
	assert_int_equal(uvfio_dma_read(dma, 0x300000, &c, 1), 0);
	assert_int_equal(c, 'g');
	assert_int_equal(uvfio_dma_unmap(dma, 0x100000, PG, 0, NULL), 0);
	assert_int_equal(maps_lines("memfd:uvfio-grow"), 1);
	close(fd);
}

static int reopen(int fd, int flags)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = open(path, flags | O_CLOEXEC);
	assert_true(r >= 0);
	return r;
}

/*
 * The fd's access mode counts as mmap would count it, also when the window
 * reuses a mapping made from another fd of the same file.
 */
static void test_fd_access_mode(void **state)
{
	struct uvfio_dma *dma = *state;
	int rw = memfd("uvfio-mode", 4 * PG), ro = reopen(rw, O_RDONLY);
	int path = reopen(rw, O_PATH), wo = reopen(rw, O_WRONLY);

	/* nothing mapped yet: mmap itself refuses */
	assert_int_equal(map_fd(dma, 0x10000, PG, RW, ro, 0), -EACCES);
	assert_int_equal(map_fd(dma, 0x10000, PG, UVFIO_DMA_READ, path, 0), -EBADF);
	/* a read-only fd backs a read-only window (a read-only mapping) */
	assert_int_equal(map_fd(dma, 0x10000, PG, UVFIO_DMA_READ, ro, 0), 0);
	assert_int_equal(maps_lines("memfd:uvfio-mode"), 1);
	/* a writable window needs a writable mapping: made from the rw fd */
	assert_int_equal(map_fd(dma, 0x20000, PG, RW, rw, PG), 0);
	assert_int_equal(maps_lines("memfd:uvfio-mode"), 2);
	/* a writable mapping exists now, but these fds still cannot write */
	assert_int_equal(map_fd(dma, 0x30000, PG, RW, ro, 2 * PG), -EACCES);
	assert_int_equal(map_fd(dma, 0x30000, PG, UVFIO_DMA_WRITE, wo, 2 * PG), -EACCES);
	assert_int_equal(map_fd(dma, 0x30000, PG, UVFIO_DMA_READ, path, 2 * PG), -EBADF);
	/* and a read-only one may reuse it */
	assert_int_equal(map_fd(dma, 0x30000, PG, UVFIO_DMA_READ, ro, 2 * PG), 0);
	assert_int_equal(maps_lines("memfd:uvfio-mode"), 2);
	assert_int_equal(uvfio_dma_count(dma), 3);
	close(wo);
	close(path);
	close(ro);
	close(rw);
}

/* Device memory is not shared: each /dev/zero mapping is memory of its own. */
static void test_char_device_not_shared(void **state)
{
	struct uvfio_dma *dma = *state;
	int z = open("/dev/zero", O_RDWR | O_CLOEXEC);
	char c = 'x', back = 'y';

	assert_true(z >= 0);
	assert_int_equal(map_fd(dma, 0x10000, PG, RW, z, 0), 0);
	assert_int_equal(map_fd(dma, 0x20000, PG, RW, z, 0), 0);
	assert_int_equal(uvfio_dma_write(dma, 0x10000, &c, 1), 0);
	assert_int_equal(uvfio_dma_read(dma, 0x20000, &back, 1), 0);
	assert_int_equal(back, 0);
	assert_int_equal(uvfio_dma_read(dma, 0x10000, &back, 1), 0);
	assert_int_equal(back, 'x');
	close(z);
}

/*
 * The type1 entry limit with fd-backed windows: 65535 windows of one memfd,
 * each from its own fd, are one mapping (one VMA per window would pass
 * vm.max_map_count, 65530 by default), then all unmapped.
 */
static void test_65535_fd_windows(void **state)
{
	struct uvfio_dma *dma = *state;
	uint64_t n = UVFIO_DMA_DEFAULT_MAX_ENTRIES, got;
	int fd = memfd("uvfio-65535", n * PG), vmas0 = maps_lines(NULL), fds0 = fd_count();

	for (uint64_t i = 0; i < n; i++) {
		uint64_t slot = (i * 40499u) % n; /* scrambled order */

		assert_int_equal(map_fd(dma, slot * 2 * PG, PG, RW, fd, slot * PG), 0);
	}
	assert_int_equal(uvfio_dma_count(dma), n);
	assert_int_equal(maps_lines("memfd:uvfio-65535"), 1);
	assert_true(maps_lines(NULL) <= vmas0 + 64); /* one per window: 65535 */
	assert_int_equal(fd_count(), fds0);
	assert_int_equal(map_fd(dma, n * 2 * PG, PG, RW, fd, 0), -ENOSPC);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(uvfio_dma_unmap(dma, i * 2 * PG, PG, UVFIO_DMA_UNMAP_EXACT, &got),
				 0);
	assert_int_equal(uvfio_dma_count(dma), 0);
	assert_int_equal(maps_lines("memfd:uvfio-65535"), 0);
	close(fd);
}

/* hugetlbfs: windows at 4 KiB offsets inside a huge page share its mapping. */
static void test_hugetlb(void **state)
{
	struct uvfio_dma *dma = *state;
	int fd = memfd_create("uvfio-huge", MFD_CLOEXEC | MFD_HUGETLB);
	void *probe;
	char c = 0;

	if (fd < 0 || ftruncate(fd, 2u << 20)) {
		if (fd >= 0)
			close(fd);
		skip();
	}
	/* a huge page must be free to map at all */
	probe = mmap(NULL, 2u << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (probe == MAP_FAILED) {
		close(fd);
		skip();
	}
	memset(probe, 'h', 4096 * 3);
	munmap(probe, 2u << 20);
	assert_int_equal(map_fd(dma, 0x10000, PG, RW, fd, PG), 0);
	assert_int_equal(map_fd(dma, 0x20000, PG, RW, fd, 2 * PG), 0);
	assert_int_equal(uvfio_dma_read(dma, 0x20000, &c, 1), 0);
	assert_int_equal(c, 'h');
	assert_int_equal(maps_lines("memfd:uvfio-huge"), 1);
	assert_int_equal(uvfio_dma_unmap_all(dma, NULL), 0);
	/* munmap of a hugetlb mapping needs its huge-page length: it is gone */
	assert_int_equal(maps_lines("memfd:uvfio-huge"), 0);
	close(fd);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_windows_share_one_mapping),
		T(test_unmap_all_releases),
		T(test_prot_per_window),
		T(test_overlapping_offsets),
		T(test_two_memfds),
		T(test_file_grows),
		T(test_fd_access_mode),
		T(test_char_device_not_shared),
		T(test_65535_fd_windows),
		T(test_hugetlb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
