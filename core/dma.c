/* SPDX-License-Identifier: MIT */
/*
 * The DMA address space of one device's client: type1 (v2) map/unmap rules,
 * access to the windows from device code (dirty logging: dma_log.c).
 *
 * Locking: dma->lock guards the tree, the in-flight table, every window's
 * bitmaps, the logging state and the callbacks. It is never held across a
 * memcpy into client memory, a message handler or the unmap notifier;
 * instead an access holds the window (dma_hold.c: a count per window in one
 * small table, so that a translate reads the index leaf and that table, not
 * the window), and removal waits (dma->drained) until the window's count
 * drops to zero. dma->unmap_lock serialises removals, so every window
 * marked dying belongs to the one removal in progress.
 *
 * The unmap notifier runs with unmap_lock held: it may drop references
 * (uvfio_dma_put) and map, but must not unmap. A thread that holds a
 * reference and unmaps the same window waits for itself, as with a pinned
 * page in the kernel; the notifier is where a device lets go.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uvfio/dma.h>

#include "dma_internal.h"

/*
 * SIGBUS-safe copies for fd-backed windows. The client owns the fd: it can
 * truncate it under our mapping at any time, and touching a page past the
 * new end raises SIGBUS. A size check at map time catches a window that is
 * bigger than its file from the start; a truncation later can only be
 * caught at the access itself (an fstat before each copy is a syscall per
 * access and still races with the truncate; F_SEAL_SHRINK needs a memfd the
 * client created with MFD_ALLOW_SEALING and would take the client's right
 * to shrink its own memory). So each copy runs under a thread-local jump
 * buffer; the SIGBUS handler (installed by fd-backed maps, see bus_install)
 * jumps back out of the copy, which then fails with -EFAULT. A SIGBUS
 * outside a guarded copy goes to the handler that was there before (or the
 * default action). Pointers from uvfio_dma_get() are not guarded: a device
 * that keeps one is exposed to the truncation as the kernel's would be.
 */
/* volatile: the compiler knows memcpy leaves it alone and would otherwise
 * drop the store before the copy as dead. */
static __thread sigjmp_buf *volatile bus_guard;
static struct sigaction bus_prev;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	sigjmp_buf *g = bus_guard;

	if (g) {
		bus_guard = NULL;
		siglongjmp(*g, 1);
	}
	if ((bus_prev.sa_flags & SA_SIGINFO) && bus_prev.sa_sigaction) {
		bus_prev.sa_sigaction(sig, si, uc);
		return;
	}
	if (!(bus_prev.sa_flags & SA_SIGINFO) && bus_prev.sa_handler != SIG_DFL &&
	    bus_prev.sa_handler != SIG_IGN) {
		bus_prev.sa_handler(sig);
		return;
	}
	/* Returning re-executes the faulting access: now the default action. */
	signal(SIGBUS, SIG_DFL);
}

/*
 * Make sure our handler is the current one. Checked whenever an fd-backed
 * map makes a new mapping (not at every access, nor at a map that reuses
 * one): a handler installed after ours (a test framework, the application)
 * is chained to, not lost.
 */
static pthread_mutex_t bus_lock = PTHREAD_MUTEX_INITIALIZER;

static void bus_install(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus,
				.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK };
	struct sigaction cur;

	pthread_mutex_lock(&bus_lock);
	if (!sigaction(SIGBUS, NULL, &cur) &&
	    !((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_sigbus)) {
		sigemptyset(&sa.sa_mask);
		sigaction(SIGBUS, &sa, &bus_prev);
	}
	pthread_mutex_unlock(&bus_lock);
}

/* memcpy that fails with -EFAULT instead of dying when a page is gone. */
static int guarded_copy(void *dst, const void *src, size_t n)
{
	sigjmp_buf jb;

	/* No signal mask to restore: SA_NODEFER leaves SIGBUS unblocked. */
	if (sigsetjmp(jb, 0)) {
		bus_guard = NULL;
		return -EFAULT;
	}
	bus_guard = &jb;
	__asm__ __volatile__("" ::: "memory");
	memcpy(dst, src, n);
	__asm__ __volatile__("" ::: "memory");
	bus_guard = NULL;
	return 0;
}

size_t uvfio_dma__window_bytes(void)
{
	return sizeof(struct dma_window);
}

size_t uvfio_dma__arena_bytes(struct uvfio_dma *dma)
{
	size_t n;

	pthread_mutex_lock(&dma->lock);
	n = dma->windows.total + dma->tree.nodes.total;
	pthread_mutex_unlock(&dma->lock);
	return n + dma_backings_bytes(&dma->backings);
}

/* ---- lifecycle ---- */

struct uvfio_dma *uvfio_dma_create(const struct uvfio_dma_limits *limits)
{
	struct uvfio_dma *dma;
	uint64_t pgsize = limits && limits->pgsize ? limits->pgsize : UVFIO_DMA_DEFAULT_PGSIZE;

	if (!is_pow2(pgsize)) {
		errno = EINVAL;
		return NULL;
	}
	dma = calloc(1, sizeof(*dma));
	if (!dma)
		return NULL;
	if (pthread_mutex_init(&dma->lock, NULL))
		goto err_free;
	if (pthread_cond_init(&dma->drained, NULL))
		goto err_lock;
	if (pthread_mutex_init(&dma->unmap_lock, NULL))
		goto err_cond;
	if (iova_tree_init(&dma->tree))
		goto err_unmap_lock;
	if (slab_init(&dma->windows, sizeof(struct dma_window)))
		goto err_tree;
	if (dma_backings_init(&dma->backings))
		goto err_windows;
	if (dma_holds_init(&dma->holds))
		goto err_backings;
	dma->pgsize = pgsize;
	dma->max_entries = limits && limits->max_entries ? limits->max_entries
							: UVFIO_DMA_DEFAULT_MAX_ENTRIES;
	return dma;

err_backings:
	dma_backings_fini(&dma->backings);
err_windows:
	slab_fini(&dma->windows);
err_tree:
	iova_tree_fini(&dma->tree);
err_unmap_lock:
	pthread_mutex_destroy(&dma->unmap_lock);
err_cond:
	pthread_cond_destroy(&dma->drained);
err_lock:
	pthread_mutex_destroy(&dma->lock);
err_free:
	free(dma);
	errno = ENOMEM;
	return NULL;
}

void uvfio_dma_destroy(struct uvfio_dma *dma)
{
	if (!dma)
		return;
	uvfio_dma_unmap_all(dma, NULL);
	iova_tree_fini(&dma->tree);
	slab_fini(&dma->windows);
	dma_backings_fini(&dma->backings);
	dma_holds_fini(&dma->holds);
	free(dma->log_ranges);
	pthread_mutex_destroy(&dma->unmap_lock);
	pthread_cond_destroy(&dma->drained);
	pthread_mutex_destroy(&dma->lock);
	free(dma);
}

void uvfio_dma_set_msg_handler(struct uvfio_dma *dma, uvfio_dma_msg_fn fn,
			       void *opaque)
{
	if (!dma)
		return;
	pthread_mutex_lock(&dma->lock);
	dma->msg_fn = fn;
	dma->msg_opaque = opaque;
	pthread_mutex_unlock(&dma->lock);
}

void uvfio_dma_set_unmap_notify(struct uvfio_dma *dma, uvfio_dma_unmap_fn fn,
				void *opaque)
{
	if (!dma)
		return;
	pthread_mutex_lock(&dma->lock);
	dma->unmap_fn = fn;
	dma->unmap_opaque = opaque;
	pthread_mutex_unlock(&dma->lock);
}

uint32_t uvfio_dma_count(struct uvfio_dma *dma)
{
	uint32_t n;

	if (!dma)
		return 0;
	pthread_mutex_lock(&dma->lock);
	n = dma->tree.count;
	pthread_mutex_unlock(&dma->lock);
	return n;
}

uint64_t uvfio_dma_pgsize(struct uvfio_dma *dma)
{
	return dma ? dma->pgsize : 0; /* immutable after create */
}

/* ---- map ---- */

/* The checks that depend on the current windows. Lock held. */
static int map_precheck(struct uvfio_dma *dma, uint64_t start, uint64_t last)
{
	if (win_first_overlap(dma, start, last))
		return -EEXIST;
	if (dma->tree.count >= dma->max_entries)
		return -ENOSPC;
	return 0;
}

static int map_validate(struct uvfio_dma *dma, const struct uvfio_dma_map_args *a)
{
	uint64_t mask = dma->pgsize - 1, end;

	/* Order of vfio_iommu_type1: flags, size, wrap, prot, alignment. */
	if (a->prot & ~(uint32_t)(UVFIO_DMA_READ | UVFIO_DMA_WRITE))
		return -EINVAL;
	if (!a->size)
		return -EINVAL;
	if (a->size > SIZE_MAX && (a->fd >= 0 || a->vaddr))
		return -EINVAL; /* cannot be addressed on this host */
	if (__builtin_add_overflow(a->iova, a->size - 1, &end))
		return -EOVERFLOW;
	if (a->fd >= 0) {
		/* mmap takes a signed off_t */
		if (__builtin_add_overflow(a->fd_offset, a->size, &end) ||
		    end > (uint64_t)INT64_MAX)
			return -EOVERFLOW;
	} else if (a->vaddr) {
		if (__builtin_add_overflow((uint64_t)(uintptr_t)a->vaddr, a->size - 1, &end))
			return -EOVERFLOW;
	}
	if (!a->prot)
		return -EINVAL;
	if ((a->iova | a->size) & mask)
		return -EINVAL;
	if (a->fd >= 0 && (a->fd_offset & mask))
		return -EINVAL;
	return 0;
}

int uvfio_dma_map(struct uvfio_dma *dma, const struct uvfio_dma_map_args *args)
{
	struct dma_window *w;
	uint64_t start, last;
	void *host = NULL;
	uint8_t tag;
	int ret;

	if (!dma || !args)
		return -EINVAL;
	ret = map_validate(dma, args);
	if (ret)
		return ret;
	start = args->iova;
	last = args->iova + args->size - 1;

	w = slab_alloc(&dma->windows);
	if (!w)
		return -ENOMEM;
	w->node.start = start;
	w->node.last = last;
	tag = (uint8_t)args->prot;

	if (args->fd >= 0) {
		/*
		 * Check before finding or making the mapping, so that a bad
		 * request fails as the kernel orders it, but do not hold the
		 * lock across mmap: check again afterwards for a map that
		 * raced in.
		 */
		pthread_mutex_lock(&dma->lock);
		ret = map_precheck(dma, start, last);
		pthread_mutex_unlock(&dma->lock);
		if (ret)
			goto err_free;
		ret = dma_backing_get(&dma->backings, args->fd, args->fd_offset, args->size,
				      args->prot, &w->bk, &host);
		if (ret < 0)
			goto err_free;
		if (ret > 0)
			bus_install(); /* a new mapping: copies from it must be guarded */
		tag |= WIN_GUARD;
	} else {
		host = args->vaddr;
	}
	w->node.data = (uint64_t)(uintptr_t)host;

	pthread_mutex_lock(&dma->lock);
	/* map_precheck without its own overlap lookup: insert checks (EEXIST) */
	if (dma->tree.count >= dma->max_entries) {
		ret = map_precheck(dma, start, last);
		goto err_unlock;
	}
	if (dma->logging) {
		w->dirty = dma_dirty_alloc(w, dma->log_shift);
		if (!w->dirty) {
			ret = -ENOMEM;
			goto err_unlock;
		}
	}
	ret = iova_tree_insert(&dma->tree, &w->node, tag);
	if (ret)
		goto err_unlock;
	pthread_mutex_unlock(&dma->lock);
	/* The space owns the fd only once the map can no longer fail; the
	 * mapping holds the file, the fd is not needed. */
	if (args->fd >= 0)
		close(args->fd);
	return 0;

err_unlock:
	pthread_mutex_unlock(&dma->lock);
	free(w->dirty);
	dma_backing_put(&dma->backings, w->bk);
err_free:
	slab_free(&dma->windows, w);
	return ret;
}

/* ---- unmap ---- */

static void window_free(struct uvfio_dma *dma, struct dma_window *w)
{
	dma_backing_put(&dma->backings, w->bk);
	free(w->dirty);
	slab_free(&dma->windows, w);
}

/* Drop one access to w. Lock held. */
static void window_release(struct uvfio_dma *dma, struct dma_window *w, bool write)
{
	if (!dma_hold_drop(&dma->holds, w, write) && dma->draining == w)
		pthread_cond_broadcast(&dma->drained);
}

/*
 * Mark every window inside [start, last] dying, so no new access reaches it;
 * returns the bytes marked. Works on the index alone. Lock and unmap_lock
 * held.
 */
static uint64_t mark_dying(struct uvfio_dma *dma, uint64_t start, uint64_t last)
{
	return iova_tree_or_tags(&dma->tree, start, last, WIN_DYING);
}

/*
 * Remove the dying windows in [start, last], one at a time: notify, wait for
 * accesses in flight, unlink, free. unmap_lock held, lock not held.
 */
static void remove_dying(struct uvfio_dma *dma, uint64_t start, uint64_t last)
{
	uint64_t cursor = start;

	for (;;) {
		struct dma_window *w;
		struct iova_hit h;
		uvfio_dma_unmap_fn fn;
		void *opaque;
		bool found;

		pthread_mutex_lock(&dma->lock);
		/* Skip windows mapped into holes of the range meanwhile. */
		while ((found = iova_tree_seek(&dma->tree, cursor, &h) && h.start <= last) &&
		       !(h.tag & WIN_DYING) && h.last < last)
			cursor = h.last + 1;
		if (!found || !(h.tag & WIN_DYING)) {
			pthread_mutex_unlock(&dma->lock);
			return;
		}
		fn = dma->unmap_fn;
		opaque = dma->unmap_opaque;
		pthread_mutex_unlock(&dma->lock);

		if (fn)
			fn(opaque, h.start, h.last - h.start + 1);

		w = to_win(h.node);
		pthread_mutex_lock(&dma->lock);
		dma->draining = w;
		while (dma_hold_count(&dma->holds, w))
			pthread_cond_wait(&dma->drained, &dma->lock);
		dma->draining = NULL;
		iova_tree_remove_at(&dma->tree, h.start);
		pthread_mutex_unlock(&dma->lock);

		window_free(dma, w);
		if (h.last >= last)
			return;
		cursor = h.last + 1;
	}
}

int uvfio_dma_unmap(struct uvfio_dma *dma, uint64_t iova, uint64_t size,
		    uint32_t flags, uint64_t *unmapped)
{
	uint64_t mask, last, total;
	struct iova_hit h;
	int ret = 0;

	if (unmapped)
		*unmapped = 0;
	if (!dma)
		return -EINVAL;
	mask = dma->pgsize - 1;
	if (flags & ~UVFIO_DMA_UNMAP_EXACT)
		return -EINVAL;
	if (iova & mask)
		return -EINVAL;
	if (!size || (size & mask))
		return -EINVAL;
	if (__builtin_add_overflow(iova, size - 1, &last))
		return -EOVERFLOW;

	pthread_mutex_lock(&dma->unmap_lock);
	pthread_mutex_lock(&dma->lock);
	if (flags & UVFIO_DMA_UNMAP_EXACT) {
		if (!iova_tree_lookup(&dma->tree, iova, &h) || h.start != iova || h.last != last) {
			ret = -ENOENT;
			goto out_unlock;
		}
		/* freed after the wait: start fetching it now */
		__builtin_prefetch(h.node, 1);
	} else {
		/* v2: no bisection of a window at either end of the range */
		if (iova_tree_lookup(&dma->tree, iova, &h) && h.start != iova) {
			ret = -EINVAL;
			goto out_unlock;
		}
		if (iova_tree_lookup(&dma->tree, last, &h) && h.last != last) {
			ret = -EINVAL;
			goto out_unlock;
		}
	}
	total = mark_dying(dma, iova, last);
	pthread_mutex_unlock(&dma->lock);

	remove_dying(dma, iova, last);
	pthread_mutex_unlock(&dma->unmap_lock);
	if (unmapped)
		*unmapped = total;
	return 0;

out_unlock:
	pthread_mutex_unlock(&dma->lock);
	pthread_mutex_unlock(&dma->unmap_lock);
	return ret;
}

int uvfio_dma_unmap_all(struct uvfio_dma *dma, uint64_t *unmapped)
{
	uint64_t total;

	if (unmapped)
		*unmapped = 0;
	if (!dma)
		return -EINVAL;
	pthread_mutex_lock(&dma->unmap_lock);
	pthread_mutex_lock(&dma->lock);
	total = mark_dying(dma, 0, UINT64_MAX);
	pthread_mutex_unlock(&dma->lock);
	remove_dying(dma, 0, UINT64_MAX);
	pthread_mutex_unlock(&dma->unmap_lock);
	if (unmapped)
		*unmapped = total;
	return 0;
}

/* ---- access ---- */

/*
 * Check that every byte of [iova, last] is mapped, live and allows `need`,
 * then hold each window. All or nothing, so that a failing access touches
 * no window. Reads only the index (and the in-flight table). Lock held.
 */
static int span_acquire(struct uvfio_dma *dma, uint64_t iova, uint64_t last,
			uint32_t need, struct iova_hit *first)
{
	struct iova_hit h;
	bool need_handler = false;
	uint32_t n = 0;
	uint64_t end;
	int ret;

	if (!iova_tree_lookup(&dma->tree, iova, &h))
		return -EFAULT;
	*first = h;
	for (;;) {
		if ((h.tag & WIN_DYING) || (h.tag & need) != need)
			return -EFAULT;
		ret = dma_hold_check(&dma->holds, to_win(h.node), false);
		if (ret)
			return ret;
		if (!h.data)
			need_handler = true;
		n++;
		if (h.last >= last)
			break;
		end = h.last; /* < last: end + 1 cannot wrap */
		/* adjacent windows only: a hole is an unmapped byte */
		if (!iova_tree_lookup(&dma->tree, end + 1, &h) || h.start != end + 1)
			return -EFAULT;
	}
	if (need_handler && !dma->msg_fn)
		return -ENOTSUP;
	ret = dma_holds_reserve(&dma->holds, n);
	if (ret)
		return ret;

	h = *first;
	for (;;) {
		dma_hold_add(&dma->holds, to_win(h.node), false);
		if (h.last >= last)
			break;
		iova_tree_lookup(&dma->tree, h.last + 1, &h);
	}
	return 0;
}

static int dma_access(struct uvfio_dma *dma, uint64_t iova, void *buf,
		      size_t len, bool is_write)
{
	uint64_t last, cur = iova;
	struct iova_hit h;
	uvfio_dma_msg_fn fn;
	char *p = buf;
	size_t left = len;
	void *opaque;
	int ret, err = 0;

	if (!dma || (!buf && len))
		return -EINVAL;
	if (!len)
		return 0;
	if (__builtin_add_overflow(iova, (uint64_t)len - 1, &last))
		return -EFAULT;

	pthread_mutex_lock(&dma->lock);
	ret = span_acquire(dma, iova, last,
			   is_write ? UVFIO_DMA_WRITE : UVFIO_DMA_READ, &h);
	/* One handler for the whole access, even if it is replaced meanwhile. */
	fn = dma->msg_fn;
	opaque = dma->msg_opaque;
	pthread_mutex_unlock(&dma->lock);
	if (ret)
		return ret;

	while (left) {
		uint64_t avail = h.last - cur; /* bytes after cur in the window */
		size_t chunk = (uint64_t)left - 1 <= avail ? left : (size_t)(avail + 1);
		/* no pointer arithmetic on 0 (a message-based window) */
		char *host = h.data ? (char *)(uintptr_t)h.data + (cur - h.start) : NULL;
		int r = 0;

		/* After a failure, keep walking only to drop the holds taken. */
		if (!err) {
			if (h.tag & WIN_GUARD) {
				/* The client may have truncated the fd. */
				err = is_write ? guarded_copy(host, p, chunk)
					       : guarded_copy(p, host, chunk);
			} else if (h.data) {
				if (is_write)
					memcpy(host, p, chunk);
				else
					memcpy(p, host, chunk);
			} else {
				r = fn(opaque, cur, p, chunk, is_write);
				if (r > 0)
					r = -EIO; /* a handler must return 0 or -errno */
				err = r;
			}
		}

		pthread_mutex_lock(&dma->lock);
		if (is_write && !err)
			dma_win_set_dirty(dma, to_win(h.node), cur, cur + chunk - 1);
		window_release(dma, to_win(h.node), false);
		left -= chunk;
		cur += chunk;
		p += chunk;
		/* The next window is still held by us, so it is still there. */
		if (left)
			iova_tree_lookup(&dma->tree, cur, &h);
		pthread_mutex_unlock(&dma->lock);
	}
	return err;
}

int uvfio_dma_read(struct uvfio_dma *dma, uint64_t iova, void *buf, size_t len)
{
	return dma_access(dma, iova, buf, len, false);
}

int uvfio_dma_write(struct uvfio_dma *dma, uint64_t iova, const void *buf,
		    size_t len)
{
	/* The buffer is only read from; dma_access shares code with read. */
	return dma_access(dma, iova, (void *)(uintptr_t)buf, len, true);
}

void *uvfio_dma_get(struct uvfio_dma *dma, uint64_t iova, size_t len,
		    uint32_t prot, struct uvfio_dma_ref *ref)
{
	bool write = prot & UVFIO_DMA_WRITE;
	struct dma_window *w;
	struct iova_hit h;
	uint64_t last;
	void *host;
	int err;

	if (!dma || !ref || !len || !prot ||
	    (prot & ~(uint32_t)(UVFIO_DMA_READ | UVFIO_DMA_WRITE))) {
		errno = EINVAL;
		return NULL;
	}
	if (__builtin_add_overflow(iova, (uint64_t)len - 1, &last)) {
		errno = EFAULT;
		return NULL;
	}

	pthread_mutex_lock(&dma->lock);
	/* The index answers; the window itself is not touched. */
	if (!iova_tree_lookup(&dma->tree, iova, &h) || (h.tag & WIN_DYING) ||
	    (h.tag & prot) != prot || last > h.last) {
		err = EFAULT;
		goto err_unlock;
	}
	if (!h.data) {
		err = ENOTSUP;
		goto err_unlock;
	}
	w = to_win(h.node);
	err = -dma_hold_take(&dma->holds, w, write);
	if (err)
		goto err_unlock;
	ref->window = w;
	if (write) {
		/*
		 * The device may write until put(); the pages stay dirty in
		 * every report until then (log_report skips clearing them).
		 */
		dma_win_set_dirty(dma, w, iova, last);
		ref->window = (void *)((uintptr_t)w | REF_WRITE);
	}
	host = (char *)(uintptr_t)h.data + (iova - h.start);
	pthread_mutex_unlock(&dma->lock);
	return host;

err_unlock:
	pthread_mutex_unlock(&dma->lock);
	errno = err;
	return NULL;
}

void uvfio_dma_put(struct uvfio_dma *dma, struct uvfio_dma_ref *ref)
{
	struct dma_window *w;
	uintptr_t v;

	if (!dma || !ref || !ref->window)
		return;
	v = (uintptr_t)ref->window;
	w = (struct dma_window *)(v & ~REF_WRITE);
	pthread_mutex_lock(&dma->lock);
	window_release(dma, w, v & REF_WRITE);
	pthread_mutex_unlock(&dma->lock);
	ref->window = NULL;
}
