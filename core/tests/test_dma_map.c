/* SPDX-License-Identifier: MIT */
/* Map and unmap rules of the DMA space (kernel type1 v2 semantics). */
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

static void test_map_einval(void **state)
{
	struct uvfio_dma *dma = *state;
	static char buf[0x2000] __attribute__((aligned(4096)));

	assert_int_equal(map_va(dma, 0x1000, 0x1000, 0, buf), -EINVAL);
	assert_int_equal(map_va(dma, 0x1000, 0x1000, 4, buf), -EINVAL);
	assert_int_equal(map_va(dma, 0x1000, 0x1000, RW | 8, buf), -EINVAL);
	assert_int_equal(map_va(dma, 0x1000, 0, RW, buf), -EINVAL);
	assert_int_equal(map_va(dma, 0x1800, 0x1000, RW, buf), -EINVAL);
	assert_int_equal(map_va(dma, 0x1000, 0x800, RW, buf), -EINVAL);
	assert_int_equal(uvfio_dma_count(dma), 0);
	assert_int_equal(map_va(dma, 0x1000, 0x1000, UVFIO_DMA_READ, buf), 0);
	assert_int_equal(uvfio_dma_count(dma), 1);
}

static void test_map_eoverflow(void **state)
{
	struct uvfio_dma *dma = *state;

	assert_int_equal(map_va(dma, 0xfffffffffffff000ull, 0x2000, RW, NULL), -EOVERFLOW);
	/* the kernel checks the wrap before prot and alignment */
	assert_int_equal(map_va(dma, 0xfffffffffffff000ull, 0x2000, 0, NULL), -EOVERFLOW);
	assert_int_equal(map_va(dma, 0xfffffffffffff800ull, 0x1000, RW, NULL), -EOVERFLOW);
	/* but unknown prot bits come first */
	assert_int_equal(map_va(dma, 0xfffffffffffff000ull, 0x2000, 0x10, NULL), -EINVAL);
	/* the very last page of the space is fine */
	assert_int_equal(map_va(dma, 0xfffffffffffff000ull, 0x1000, RW, NULL), 0);
	/* vaddr + size - 1 wraps */
	assert_int_equal(map_va(dma, 0x1000, 0x2000, RW, (void *)(uintptr_t)0xfffffffffffff000ull),
			 -EOVERFLOW);
}

static void test_map_eexist(void **state)
{
	struct uvfio_dma *dma = *state;

	assert_int_equal(map_va(dma, 0x10000, 0x4000, RW, NULL), 0);
	assert_int_equal(map_va(dma, 0xf000, 0x2000, RW, NULL), -EEXIST);  /* low edge */
	assert_int_equal(map_va(dma, 0x13000, 0x2000, RW, NULL), -EEXIST); /* high edge */
	assert_int_equal(map_va(dma, 0x11000, 0x1000, RW, NULL), -EEXIST); /* inside */
	assert_int_equal(map_va(dma, 0x0, 0x100000, RW, NULL), -EEXIST);   /* contains */
	assert_int_equal(map_va(dma, 0x10000, 0x4000, RW, NULL), -EEXIST); /* same */
	/* adjacent on both sides */
	assert_int_equal(map_va(dma, 0xf000, 0x1000, RW, NULL), 0);
	assert_int_equal(map_va(dma, 0x14000, 0x1000, RW, NULL), 0);
	assert_int_equal(uvfio_dma_count(dma), 3);
}

static void test_map_enospc_small_limit(void **state)
{
	struct uvfio_dma_limits lim = { .max_entries = 4 };
	struct uvfio_dma *dma = uvfio_dma_create(&lim);
	uint64_t n;

	(void)state;
	assert_non_null(dma);
	for (uint64_t i = 0; i < 4; i++)
		assert_int_equal(map_va(dma, i * 0x2000, 0x1000, RW, NULL), 0);
	assert_int_equal(map_va(dma, 0x100000, 0x1000, RW, NULL), -ENOSPC);
	/* overlap is checked before the entry limit */
	assert_int_equal(map_va(dma, 0x0, 0x1000, RW, NULL), -EEXIST);
	assert_int_equal(uvfio_dma_unmap(dma, 0x2000, 0x1000, 0, &n), 0);
	assert_int_equal(n, 0x1000);
	assert_int_equal(map_va(dma, 0x100000, 0x1000, RW, NULL), 0);
	assert_int_equal(uvfio_dma_count(dma), 4);
	uvfio_dma_destroy(dma);
}

static void test_map_enospc_default_limit(void **state)
{
	struct uvfio_dma *dma = *state;
	uint64_t n;

	/* insert in a scrambled order (40499 is coprime to 65535) */
	for (uint64_t i = 0; i < UVFIO_DMA_DEFAULT_MAX_ENTRIES; i++) {
		uint64_t slot = (i * 40499u) % UVFIO_DMA_DEFAULT_MAX_ENTRIES;

		assert_int_equal(map_va(dma, slot * 0x2000, 0x1000, RW, NULL), 0);
	}
	assert_int_equal(uvfio_dma_count(dma), 65535);
	assert_int_equal(map_va(dma, 0x1000, 0x1000, RW, NULL), -ENOSPC);
	assert_int_equal(uvfio_dma_unmap(dma, 0x4000, 0x1000, UVFIO_DMA_UNMAP_EXACT, &n), 0);
	assert_int_equal(map_va(dma, 0x1000, 0x1000, RW, NULL), 0);
	assert_int_equal(map_va(dma, 0x3000, 0x1000, RW, NULL), -ENOSPC);
	assert_int_equal(uvfio_dma_unmap_all(dma, &n), 0);
	assert_int_equal(n, 65535ull * 0x1000);
	assert_int_equal(uvfio_dma_count(dma), 0);
}

static void test_unmap_exact_and_partial(void **state)
{
	struct uvfio_dma *dma = *state;
	uint64_t n = 99;

	assert_int_equal(map_va(dma, 0x10000, 0x4000, RW, NULL), 0);
	/* v2: no bisection */
	assert_int_equal(uvfio_dma_unmap(dma, 0x10000, 0x2000, 0, &n), -EINVAL);
	assert_int_equal(n, 0);
	assert_int_equal(uvfio_dma_unmap(dma, 0x12000, 0x2000, 0, &n), -EINVAL);
	assert_int_equal(uvfio_dma_unmap(dma, 0x11000, 0x1000, 0, &n), -EINVAL);
	assert_int_equal(uvfio_dma_unmap(dma, 0xf000, 0x2000, 0, &n), -EINVAL);
	/* EXACT turns a mismatch into ENOENT */
	assert_int_equal(uvfio_dma_unmap(dma, 0x10000, 0x2000, UVFIO_DMA_UNMAP_EXACT, &n),
			 -ENOENT);
	assert_int_equal(uvfio_dma_unmap(dma, 0x0, 0x20000, UVFIO_DMA_UNMAP_EXACT, &n),
			 -ENOENT);
	assert_int_equal(uvfio_dma_count(dma), 1);
	assert_int_equal(uvfio_dma_unmap(dma, 0x10000, 0x4000, UVFIO_DMA_UNMAP_EXACT, &n), 0);
	assert_int_equal(n, 0x4000);
	assert_int_equal(uvfio_dma_count(dma), 0);
}

static void test_unmap_span_and_nothing(void **state)
{
	struct uvfio_dma *dma = *state;
	uint64_t n = 99;

	assert_int_equal(map_va(dma, 0x10000, 0x2000, RW, NULL), 0);
	assert_int_equal(map_va(dma, 0x20000, 0x3000, RW, NULL), 0);
	assert_int_equal(map_va(dma, 0x30000, 0x1000, RW, NULL), 0);
	/* a range in a hole removes nothing, successfully */
	assert_int_equal(uvfio_dma_unmap(dma, 0x13000, 0x1000, 0, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(uvfio_dma_unmap(dma, 0x13000, 0x1000, UVFIO_DMA_UNMAP_EXACT, &n),
			 -ENOENT);
	/* EXACT over two whole windows is not one window */
	assert_int_equal(uvfio_dma_unmap(dma, 0x10000, 0x13000, UVFIO_DMA_UNMAP_EXACT, &n),
			 -ENOENT);
	/* two windows and the holes around them; the third stays */
	assert_int_equal(uvfio_dma_unmap(dma, 0x8000, 0x28000, 0, &n), 0);
	assert_int_equal(n, 0x5000);
	assert_int_equal(uvfio_dma_count(dma), 1);
	assert_int_equal(map_va(dma, 0x10000, 0x13000, RW, NULL), 0);
}

static void test_unmap_einval(void **state)
{
	struct uvfio_dma *dma = *state;
	uint64_t n;

	assert_int_equal(uvfio_dma_unmap(dma, 0x1000, 0, 0, &n), -EINVAL);
	assert_int_equal(uvfio_dma_unmap(dma, 0x1800, 0x1000, 0, &n), -EINVAL);
	assert_int_equal(uvfio_dma_unmap(dma, 0x1000, 0x1800, 0, &n), -EINVAL);
	assert_int_equal(uvfio_dma_unmap(dma, 0x1000, 0x1000, 0x80, &n), -EINVAL);
	assert_int_equal(uvfio_dma_unmap(dma, 0xfffffffffffff000ull, 0x2000, 0, &n), -EOVERFLOW);
	/* a range ending at 2^64 - 1 is valid */
	assert_int_equal(map_va(dma, 0xffffffffffffe000ull, 0x2000, RW, NULL), 0);
	assert_int_equal(uvfio_dma_unmap(dma, 0xfffffffffff00000ull, 0x100000, 0, &n), 0);
	assert_int_equal(n, 0x2000);
}

static void test_unmap_all(void **state)
{
	struct uvfio_dma *dma = *state;
	uint64_t n;

	assert_int_equal(uvfio_dma_unmap_all(dma, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(map_va(dma, 0x0, 0x1000, RW, NULL), 0);
	assert_int_equal(map_va(dma, 0x7000, 0x2000, RW, NULL), 0);
	assert_int_equal(map_va(dma, 0xfffffffffffff000ull, 0x1000, RW, NULL), 0);
	assert_int_equal(uvfio_dma_unmap_all(dma, &n), 0);
	assert_int_equal(n, 0x4000);
	assert_int_equal(uvfio_dma_count(dma), 0);
}

struct notified {
	int n;
	uint64_t iova[4], size[4];
};

static void notify(void *opaque, uint64_t iova, uint64_t size)
{
	struct notified *nt = opaque;

	if (nt->n < 4) {
		nt->iova[nt->n] = iova;
		nt->size[nt->n] = size;
	}
	nt->n++;
}

static void test_unmap_notify(void **state)
{
	struct uvfio_dma *dma = *state;
	struct notified nt = { 0 };
	uint64_t n;

	uvfio_dma_set_unmap_notify(dma, notify, &nt);
	assert_int_equal(map_va(dma, 0x20000, 0x1000, RW, NULL), 0);
	assert_int_equal(map_va(dma, 0x10000, 0x2000, RW, NULL), 0);
	assert_int_equal(map_va(dma, 0x40000, 0x1000, RW, NULL), 0);
	/* failed unmaps notify nothing */
	assert_int_equal(uvfio_dma_unmap(dma, 0x10000, 0x1000, 0, &n), -EINVAL);
	assert_int_equal(nt.n, 0);
	assert_int_equal(uvfio_dma_unmap(dma, 0x10000, 0x20000, 0, &n), 0);
	assert_int_equal(nt.n, 2);
	assert_int_equal(nt.iova[0], 0x10000);
	assert_int_equal(nt.size[0], 0x2000);
	assert_int_equal(nt.iova[1], 0x20000);
	assert_int_equal(nt.size[1], 0x1000);
	uvfio_dma_destroy(dma); /* destroy notifies the rest */
	*state = NULL;
	assert_int_equal(nt.n, 3);
	assert_int_equal(nt.iova[2], 0x40000);
}

static int make_memfd(size_t size)
{
	int fd = memfd_create("uvfio-test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void test_fd_window(void **state)
{
	struct uvfio_dma *dma = *state;
	struct uvfio_dma_map_args a = {
		.iova = 0x100000, .size = 0x1000, .prot = RW, .fd_offset = 0x1000,
	};
	char out[16] = "through the dma", back[16] = { 0 };
	int fd = make_memfd(0x2000), given = dup(fd);
	uint64_t n;

	assert_true(given >= 0);
	a.fd = given;
	a.fd_offset = 0x800;
	assert_int_equal(uvfio_dma_map(dma, &a), -EINVAL); /* fd_offset alignment */
	assert_true(fd_open(given));
	a.fd_offset = 0x1000;
	assert_int_equal(uvfio_dma_map(dma, &a), 0);
	/* the space took the fd and closed it: its mapping holds the file */
	assert_false(fd_open(given));
	assert_int_equal(uvfio_dma_write(dma, 0x100010, out, sizeof(out)), 0);
	/* the bytes land in the fd, at fd_offset + (iova - window start) */
	assert_int_equal(pread(fd, back, sizeof(back), 0x1010), (ssize_t)sizeof(back));
	assert_memory_equal(back, out, sizeof(out));
	/* and what the fd holds is what the device reads */
	assert_int_equal(pwrite(fd, "memfd", 5, 0x1ffb), 5);
	assert_int_equal(uvfio_dma_read(dma, 0x100ffb, back, 5), 0);
	assert_memory_equal(back, "memfd", 5);

	/* a failed map leaves the fd to the caller */
	int fd2 = make_memfd(0x1000);

	a.fd = fd2;
	a.fd_offset = 0;
	assert_int_equal(uvfio_dma_map(dma, &a), -EEXIST);
	assert_true(fd_open(fd2));
	close(fd2);

	assert_int_equal(uvfio_dma_unmap(dma, 0x100000, 0x1000, UVFIO_DMA_UNMAP_EXACT, &n), 0);
	close(fd);
}

static void test_fd_mmap_errors(void **state)
{
	struct uvfio_dma *dma = *state;
	struct uvfio_dma_map_args a = { .iova = 0x100000, .size = 0x1000, .prot = RW };
	int fd;

	/* /dev/null cannot be mmapped */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	a.fd = fd;
	assert_int_equal(uvfio_dma_map(dma, &a), -ENODEV);
	assert_true(fd_open(fd));
	close(fd);

	/* a read-only fd cannot back a writable shared window */
	fd = make_memfd(0x1000);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int ro = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(ro >= 0);
	close(fd);
	a.fd = ro;
	assert_int_equal(uvfio_dma_map(dma, &a), -EACCES);
	a.prot = UVFIO_DMA_READ;
	assert_int_equal(uvfio_dma_map(dma, &a), 0);
	assert_int_equal(uvfio_dma_count(dma), 1);
	/* destroy (teardown) closes it */
}

static void test_create_limits(void **state)
{
	struct uvfio_dma_limits lim = { .pgsize = 3000 };
	struct uvfio_dma *dma;

	(void)state;
	assert_null(uvfio_dma_create(&lim));
	lim.pgsize = 0x10000;
	dma = uvfio_dma_create(&lim);
	assert_non_null(dma);
	assert_int_equal(uvfio_dma_pgsize(dma), 0x10000);
	assert_int_equal(map_va(dma, 0x10000, 0x1000, RW, NULL), -EINVAL);
	assert_int_equal(map_va(dma, 0x10000, 0x10000, RW, NULL), 0);
	uvfio_dma_destroy(dma);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_map_einval),
		T(test_map_eoverflow),
		T(test_map_eexist),
		T(test_map_enospc_small_limit),
		T(test_map_enospc_default_limit),
		T(test_unmap_exact_and_partial),
		T(test_unmap_span_and_nothing),
		T(test_unmap_einval),
		T(test_unmap_all),
		T(test_unmap_notify),
		T(test_fd_window),
		T(test_fd_mmap_errors),
		T(test_create_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
