/* SPDX-License-Identifier: MIT */
/* Device access to the DMA space: translate, copy, prot, messages, unmap vs access. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "dma_test.h"

static char mem_a[0x2000], mem_b[0x2000];

static int setup(void **state)
{
	memset(mem_a, 'a', sizeof(mem_a));
	memset(mem_b, 'b', sizeof(mem_b));
	*state = uvfio_dma_create(NULL);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	uvfio_dma_destroy(*state);
	return 0;
}

static void test_get_edges(void **state)
{
	struct uvfio_dma *dma = *state;
	struct uvfio_dma_ref ref = { 0 };
	char *p;

	assert_int_equal(map_va(dma, 0x10000, 0x2000, RW, mem_a), 0);
	p = uvfio_dma_get(dma, 0x10000, 1, UVFIO_DMA_READ, &ref);
	assert_ptr_equal(p, mem_a);
	uvfio_dma_put(dma, &ref);
	assert_null(ref.window);
	p = uvfio_dma_get(dma, 0x11fff, 1, RW, &ref);
	assert_ptr_equal(p, mem_a + 0x1fff);
	uvfio_dma_put(dma, &ref);
	p = uvfio_dma_get(dma, 0x10000, 0x2000, RW, &ref); /* the whole window */
	assert_ptr_equal(p, mem_a);
	uvfio_dma_put(dma, &ref);

	errno = 0;
	assert_null(uvfio_dma_get(dma, 0x12000, 1, UVFIO_DMA_READ, &ref)); /* one past */
	assert_int_equal(errno, EFAULT);
	errno = 0;
	assert_null(uvfio_dma_get(dma, 0xffff, 1, UVFIO_DMA_READ, &ref)); /* one before */
	assert_int_equal(errno, EFAULT);
	errno = 0;
	assert_null(uvfio_dma_get(dma, 0x11fff, 2, UVFIO_DMA_READ, &ref)); /* crosses end */
	assert_int_equal(errno, EFAULT);
	/* even into an adjacent window: a reference is one window */
	assert_int_equal(map_va(dma, 0x12000, 0x1000, RW, mem_b), 0);
	errno = 0;
	assert_null(uvfio_dma_get(dma, 0x11fff, 2, UVFIO_DMA_READ, &ref));
	assert_int_equal(errno, EFAULT);
	errno = 0;
	assert_null(uvfio_dma_get(dma, 0xffffffffffffffffull, 2, UVFIO_DMA_READ, &ref));
	assert_int_equal(errno, EFAULT);
	errno = 0;
	assert_null(uvfio_dma_get(dma, 0x10000, 1, 0, &ref));
	assert_int_equal(errno, EINVAL);
}

static void test_prot(void **state)
{
	struct uvfio_dma *dma = *state;
	struct uvfio_dma_ref ref;
	char c = 'x', d;

	assert_int_equal(map_va(dma, 0x10000, 0x1000, UVFIO_DMA_READ, mem_a), 0);
	assert_int_equal(map_va(dma, 0x20000, 0x1000, UVFIO_DMA_WRITE, mem_b), 0);
	assert_int_equal(uvfio_dma_write(dma, 0x10000, &c, 1), -EFAULT);
	assert_int_equal(mem_a[0], 'a');
	assert_int_equal(uvfio_dma_read(dma, 0x10000, &d, 1), 0);
	assert_int_equal(d, 'a');
	errno = 0;
	assert_null(uvfio_dma_get(dma, 0x10000, 1, UVFIO_DMA_WRITE, &ref));
	assert_int_equal(errno, EFAULT);
	assert_int_equal(uvfio_dma_read(dma, 0x20000, &d, 1), -EFAULT);
	assert_int_equal(uvfio_dma_write(dma, 0x20000, &c, 1), 0);
	assert_int_equal(mem_b[0], 'x');
	assert_int_equal(uvfio_dma_read(dma, 0x30000, &d, 1), -EFAULT); /* unmapped */
}

static void test_span_adjacent(void **state)
{
	struct uvfio_dma *dma = *state;
	char buf[8] = "01234567", back[8];

	assert_int_equal(map_va(dma, 0x10000, 0x1000, RW, mem_a), 0);
	assert_int_equal(map_va(dma, 0x11000, 0x1000, RW, mem_b), 0);
	assert_int_equal(uvfio_dma_write(dma, 0x10ffc, buf, 8), 0);
	assert_memory_equal(mem_a + 0xffc, "0123", 4);
	assert_memory_equal(mem_b, "4567", 4);
	assert_int_equal(uvfio_dma_read(dma, 0x10ffc, back, 8), 0);
	assert_memory_equal(back, buf, 8);
}

static void test_span_checked_before_copy(void **state)
{
	struct uvfio_dma *dma = *state;
	char buf[8] = "01234567";

	/* RW window, then a READ-only one: the write must not touch the first */
	assert_int_equal(map_va(dma, 0x10000, 0x1000, RW, mem_a), 0);
	assert_int_equal(map_va(dma, 0x11000, 0x1000, UVFIO_DMA_READ, mem_b), 0);
	assert_int_equal(uvfio_dma_write(dma, 0x10ffc, buf, 8), -EFAULT);
	assert_memory_equal(mem_a + 0xffc, "aaaa", 4);
	/* a window, then a hole */
	assert_int_equal(map_va(dma, 0x20000, 0x1000, RW, mem_a + 0x1000), 0);
	assert_int_equal(uvfio_dma_write(dma, 0x20ffc, buf, 8), -EFAULT);
	assert_memory_equal(mem_a + 0x1ffc, "aaaa", 4);
	/* wraps the address space */
	assert_int_equal(uvfio_dma_read(dma, 0xfffffffffffffffcull, buf, 8), -EFAULT);
	/* zero bytes are always fine */
	assert_int_equal(uvfio_dma_read(dma, 0x50000, buf, 0), 0);
}

struct msg_log {
	int calls;
	uint64_t iova;
	size_t len;
	bool is_write;
	int ret;
};

static int msg_handler(void *opaque, uint64_t iova, void *buf, size_t len, bool is_write)
{
	struct msg_log *m = opaque;

	m->calls++;
	m->iova = iova;
	m->len = len;
	m->is_write = is_write;
	if (!is_write)
		memset(buf, 'm', len);
	return m->ret;
}

static void test_message_window(void **state)
{
	struct uvfio_dma *dma = *state;
	struct msg_log m = { 0 };
	struct uvfio_dma_ref ref;
	char buf[16];

	assert_int_equal(map_va(dma, 0x10000, 0x1000, RW, mem_a), 0);
	assert_int_equal(map_va(dma, 0x11000, 0x1000, RW, NULL), 0);
	/* no handler: the window exists but cannot be reached */
	assert_int_equal(uvfio_dma_read(dma, 0x11000, buf, 4), -ENOTSUP);
	errno = 0;
	assert_null(uvfio_dma_get(dma, 0x11000, 4, UVFIO_DMA_READ, &ref));
	assert_int_equal(errno, ENOTSUP);

	uvfio_dma_set_msg_handler(dma, msg_handler, &m);
	/* 4 bytes from memory, 12 through the handler, with the window's iova */
	assert_int_equal(uvfio_dma_read(dma, 0x10ffc, buf, 16), 0);
	assert_int_equal(m.calls, 1);
	assert_int_equal(m.iova, 0x11000);
	assert_int_equal(m.len, 12);
	assert_false(m.is_write);
	assert_memory_equal(buf, "aaaammmmmmmmmmmm", 16);
	assert_int_equal(uvfio_dma_write(dma, 0x11800, buf, 16), 0);
	assert_int_equal(m.calls, 2);
	assert_int_equal(m.iova, 0x11800);
	assert_int_equal(m.len, 16);
	assert_true(m.is_write);
	m.ret = -EIO;
	assert_int_equal(uvfio_dma_read(dma, 0x11000, buf, 1), -EIO);
	/* len never exceeds the window */
	m.ret = 0;
	assert_int_equal(uvfio_dma_read(dma, 0x11ff0, buf, 32), -EFAULT);
	assert_int_equal(m.calls, 3);
}

/* ---- unmap from another thread waits for access in flight ---- */

struct race {
	struct uvfio_dma *dma;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool notified;	       /* the notifier ran: the window is dying */
	bool released;	       /* main released its access */
	bool released_at_done; /* `released` seen when unmap returned */
	bool handler_in, handler_go;
	int unmap_ret;
	uint64_t unmapped;
};

static void race_notify(void *opaque, uint64_t iova, uint64_t size)
{
	struct race *r = opaque;

	pthread_mutex_lock(&r->lock);
	r->notified = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void *race_unmap(void *arg)
{
	struct race *r = arg;
	uint64_t n;
	int ret = uvfio_dma_unmap(r->dma, 0x10000, 0x1000, 0, &n);

	pthread_mutex_lock(&r->lock);
	r->unmap_ret = ret;
	r->unmapped = n;
	r->released_at_done = r->released;
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static void *race_unmap7(void *arg)
{
	struct race *r = arg;
	uint64_t n;
	int ret = uvfio_dma_unmap(r->dma, 0x100000 + 7 * 0x2000ull, 0x1000, 0, &n);

	pthread_mutex_lock(&r->lock);
	r->unmap_ret = ret;
	r->unmapped = n;
	r->released_at_done = r->released;
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static void race_wait(struct race *r, bool *flag)
{
	pthread_mutex_lock(&r->lock);
	while (!*flag)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
}

static void race_set(struct race *r, bool *flag)
{
	pthread_mutex_lock(&r->lock);
	*flag = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void race_init(struct race *r, struct uvfio_dma *dma)
{
	memset(r, 0, sizeof(*r));
	r->dma = dma;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	r->unmap_ret = 1;
	uvfio_dma_set_unmap_notify(dma, race_notify, r);
}

static void test_unmap_waits_for_ref(void **state)
{
	struct uvfio_dma *dma = *state;
	struct uvfio_dma_ref ref;
	struct race r;
	pthread_t th;
	char c;

	race_init(&r, dma);
	assert_int_equal(map_va(dma, 0x10000, 0x1000, RW, mem_a), 0);
	assert_non_null(uvfio_dma_get(dma, 0x10000, 16, UVFIO_DMA_READ, &ref));
	assert_int_equal(pthread_create(&th, NULL, race_unmap, &r), 0);
	race_wait(&r, &r.notified);

	/* the window is dying: new accesses fail, old ones continue */
	assert_int_equal(uvfio_dma_read(dma, 0x10000, &c, 1), -EFAULT);
	assert_null(uvfio_dma_get(dma, 0x10000, 1, UVFIO_DMA_READ, &(struct uvfio_dma_ref){ 0 }));
	assert_int_equal(map_va(dma, 0x10000, 0x1000, RW, mem_b), -EEXIST);
	pthread_mutex_lock(&r.lock);
	assert_int_equal(r.unmap_ret, 1); /* still blocked: we hold the reference */
	pthread_mutex_unlock(&r.lock);

	race_set(&r, &r.released);
	uvfio_dma_put(dma, &ref);
	pthread_join(th, NULL);
	assert_int_equal(r.unmap_ret, 0);
	assert_int_equal(r.unmapped, 0x1000);
	assert_true(r.released_at_done);
	assert_int_equal(uvfio_dma_count(dma), 0);
}


/*
 * Holds are per window: with references held on many windows (more than
 * the in-flight table's first size), unmapping a window nobody holds does
 * not wait, and each held window waits for exactly its own references.
 */
static void test_holds_per_window(void **state)
{
	enum { W = 300 };
	struct uvfio_dma *dma = *state;
	static struct uvfio_dma_ref refs[W][2];
	static char mem[W][0x1000];
	struct race r;
	pthread_t th;
	uint64_t n;

	for (unsigned int i = 0; i < W; i++)
		assert_int_equal(map_va(dma, 0x100000 + i * 0x2000ull, 0x1000, RW, mem[i]), 0);
	assert_int_equal(map_va(dma, 0x10000, 0x1000, RW, mem_a), 0);
	for (unsigned int i = 0; i < W; i++) {
		assert_non_null(uvfio_dma_get(dma, 0x100000 + i * 0x2000ull, 8, UVFIO_DMA_READ,
					      &refs[i][0]));
		assert_non_null(uvfio_dma_get(dma, 0x100000 + i * 0x2000ull + 8, 8, RW,
					      &refs[i][1]));
	}
	/* not held by anyone: returns at once (a shared count would block) */
	assert_int_equal(uvfio_dma_unmap(dma, 0x10000, 0x1000, 0, &n), 0);
	assert_int_equal(n, 0x1000);
	/* drop them in a scrambled order, all but window 7's write reference */
	for (unsigned int k = 0; k < 2 * W; k++) {
		unsigned int j = (k * 263u) % (2 * W), i = j / 2;

		if (i != 7 || j % 2 == 0)
			uvfio_dma_put(dma, &refs[i][j % 2]);
	}
	for (unsigned int i = 0; i < W; i++)
		if (i != 7)
			assert_int_equal(uvfio_dma_unmap(dma, 0x100000 + i * 0x2000ull, 0x1000,
							 UVFIO_DMA_UNMAP_EXACT, &n), 0);
	assert_int_equal(uvfio_dma_count(dma), 1);
	/* window 7 still waits for its reference */
	race_init(&r, dma);
	assert_int_equal(pthread_create(&th, NULL, race_unmap7, &r), 0);
	race_wait(&r, &r.notified);
	pthread_mutex_lock(&r.lock);
	assert_int_equal(r.unmap_ret, 1);
	pthread_mutex_unlock(&r.lock);
	race_set(&r, &r.released);
	uvfio_dma_put(dma, &refs[7][1]);
	pthread_join(th, NULL);
	assert_int_equal(r.unmap_ret, 0);
	assert_true(r.released_at_done);
	assert_int_equal(uvfio_dma_count(dma), 0);
}

static int blocking_handler(void *opaque, uint64_t iova, void *buf, size_t len, bool is_write)
{
	struct race *r = opaque;

	race_set(r, &r->handler_in);
	race_wait(r, &r->handler_go);
	memset(buf, 'h', len);
	return 0;
}

static void *race_read(void *arg)
{
	struct race *r = arg;
	char buf[4];

	return (void *)(intptr_t)uvfio_dma_read(r->dma, 0x10000, buf, sizeof(buf));
}

static void test_unmap_waits_for_handler(void **state)
{
	struct uvfio_dma *dma = *state;
	pthread_t reader, unmapper;
	struct race r;
	void *ret;

	race_init(&r, dma);
	uvfio_dma_set_msg_handler(dma, blocking_handler, &r);
	assert_int_equal(map_va(dma, 0x10000, 0x1000, RW, NULL), 0);
	assert_int_equal(pthread_create(&reader, NULL, race_read, &r), 0);
	race_wait(&r, &r.handler_in); /* the read is in the handler, no lock held */
	assert_int_equal(pthread_create(&unmapper, NULL, race_unmap, &r), 0);
	race_wait(&r, &r.notified);
	pthread_mutex_lock(&r.lock);
	assert_int_equal(r.unmap_ret, 1);
	r.released = true;
	pthread_mutex_unlock(&r.lock);
	race_set(&r, &r.handler_go);
	pthread_join(reader, &ret);
	pthread_join(unmapper, NULL);
	assert_int_equal((intptr_t)ret, 0);
	assert_int_equal(r.unmap_ret, 0);
	assert_true(r.released_at_done);
}


/* ---- stress: accesses racing map/unmap of the same windows ---- */

struct stress {
	struct uvfio_dma *dma;
	int stop;
	unsigned long ok, fault, bad; /* bad: checked in the main thread */
};

static void *stress_access(void *arg)
{
	struct stress *st = arg;
	char buf[32];

	while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
		struct uvfio_dma_ref ref;
		int r = uvfio_dma_write(st->dma, 0x10ff0, buf, sizeof(buf)); /* spans both */
		char *p;

		if (r == 0)
			__atomic_add_fetch(&st->ok, 1, __ATOMIC_RELAXED);
		else if (r == -EFAULT)
			__atomic_add_fetch(&st->fault, 1, __ATOMIC_RELAXED);
		else
			st->bad++;
		p = uvfio_dma_get(st->dma, 0x11000, 16, RW, &ref);
		if (p) {
			p[0] = 1; /* the window cannot go away under us */
			uvfio_dma_put(st->dma, &ref);
		} else if (errno != EFAULT) {
			st->bad++;
		}
	}
	return NULL;
}

static unsigned long accesses(struct stress *st)
{
	return __atomic_load_n(&st->ok, __ATOMIC_RELAXED) +
	       __atomic_load_n(&st->fault, __ATOMIC_RELAXED);
}

static void test_stress_map_unmap(void **state)
{
	struct uvfio_dma *dma = *state;
	struct stress st = { .dma = dma };
	pthread_t th;
	uint64_t n;

	assert_int_equal(uvfio_dma_log_start(dma, 0), 0);
	assert_int_equal(pthread_create(&th, NULL, stress_access, &st), 0);
	/*
	 * At least 20000 map/unmap rounds, and on until the accessing thread
	 * has really raced them: on a loaded machine it may not even have run
	 * yet when the rounds are done. The bound keeps a stuck thread from
	 * hanging the test (it then fails below).
	 */
	for (long i = 0; i < 20000 || (i < 20000000 && accesses(&st) < 1000); i++) {
		assert_int_equal(map_va(dma, 0x10000, 0x1000, RW, mem_a), 0);
		assert_int_equal(map_va(dma, 0x11000, 0x1000, RW, mem_b), 0);
		if (i % 2)
			assert_int_equal(uvfio_dma_unmap(dma, 0x0, 0x100000, 0, &n), 0);
		else
			assert_int_equal(uvfio_dma_unmap_all(dma, &n), 0);
		assert_int_equal(n, 0x2000);
		if (i == 10000)
			assert_int_equal(uvfio_dma_log_stop(dma), 0);
	}
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_int_equal(uvfio_dma_count(dma), 0);
	assert_int_equal(st.bad, 0);
	assert_true(accesses(&st) >= 1000);
}

/*
 * The client owns a window's fd: a window longer than its file is refused,
 * and a truncation under a mapped window makes the access fail (-EFAULT)
 * instead of killing the process with SIGBUS; other pages still work.
 */
static void test_truncated_fd(void **state)
{
	struct uvfio_dma *dma = *state;
	struct uvfio_dma_map_args m = { .iova = 0x100000, .size = 0x4000,
					.prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE };
	char buf[64] = "hello";
	int fd = memfd_create("trunc", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 0x2000), 0);
	m.fd = fd;
	assert_int_equal(uvfio_dma_map(dma, &m), -EFAULT); /* file too short */
	m.size = 0x2000;
	m.fd_offset = 0x1000;
	assert_int_equal(uvfio_dma_map(dma, &m), -EFAULT); /* offset + size past the end */
	m.fd_offset = 0;
	m.fd = dup(fd);
	assert_int_equal(uvfio_dma_map(dma, &m), 0); /* the space owns m.fd now */

	assert_int_equal(uvfio_dma_write(dma, 0x101000, buf, sizeof(buf)), 0);
	assert_int_equal(ftruncate(fd, 0x1000), 0); /* the second page is gone */
	assert_int_equal(uvfio_dma_read(dma, 0x101000, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(uvfio_dma_write(dma, 0x101ff0, buf, 32), -EFAULT);
	assert_int_equal(uvfio_dma_write(dma, 0x100000, buf, sizeof(buf)), 0);
	assert_int_equal(uvfio_dma_read(dma, 0x100000, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "hello");
	assert_int_equal(uvfio_dma_unmap(dma, 0x100000, 0x2000, 0, NULL), 0);
	close(fd);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_get_edges),
		T(test_prot),
		T(test_span_adjacent),
		T(test_span_checked_before_copy),
		T(test_message_window),
		T(test_unmap_waits_for_ref),
		T(test_holds_per_window),
		T(test_unmap_waits_for_handler),
		T(test_stress_map_unmap),
		T(test_truncated_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
