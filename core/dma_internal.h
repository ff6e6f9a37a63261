/* SPDX-License-Identifier: MIT */
/*
 * Private to libuvfio (and its tests and tools): the DMA space's structures,
 * shared by dma.c (map, unmap, access) and dma_log.c (dirty logging).
 * Locking rules are described at the top of dma.c.
 */
#ifndef UVFIO_CORE_DMA_INTERNAL_H
#define UVFIO_CORE_DMA_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uvfio/dma.h>

#include "iova_tree.h"

/* The mappings behind fd-backed windows, shared by windows (dma_backing.c). */
struct dma_backing;
struct dma_backings {
	pthread_mutex_t lock;
	struct dma_backing **tab; /* hash of (st_dev, st_ino) */
	uint32_t nbuckets, count;
	size_t bytes;		  /* for the benchmark's memory report */
};

int dma_backings_init(struct dma_backings *t);
void dma_backings_fini(struct dma_backings *t);
/*
 * A mapping of fd that covers [off, off + size) and allows prot, found or
 * made; counts a reference. *host = the address of off. Returns 0 (found),
 * 1 (mapped now) or a negative errno: -EFAULT for a regular file shorter
 * than off + size, mmap's errno, or what mmap would have refused for this
 * fd (-EACCES, -EBADF). The fd is not kept.
 */
int dma_backing_get(struct dma_backings *t, int fd, uint64_t off, uint64_t size,
		    uint32_t prot, struct dma_backing **out, void **host);
/* Drop a reference; the last one unmaps. */
void dma_backing_put(struct dma_backings *t, struct dma_backing *b);
size_t dma_backings_bytes(struct dma_backings *t);

/*
 * Accesses in flight per window, in one table per space (dma_hold.c), so
 * that a translate does not touch the window. Lock held for all calls.
 */
struct dma_hold {
	const void *key; /* the window; NULL: a free slot */
	uint32_t n;	 /* accesses and references in flight */
	uint32_t w;	 /* of them, write references (their pages stay dirty) */
};

struct dma_holds {
	struct dma_hold *v;
	uint32_t mask; /* slots - 1 */
	uint32_t used;
};

int dma_holds_init(struct dma_holds *h);
void dma_holds_fini(struct dma_holds *h);
/* Room for `more` new windows, so that the next dma_hold_add()s cannot fail. */
int dma_holds_reserve(struct dma_holds *h, uint32_t more);
/* -EAGAIN if one more (write) hold of key would overflow its count. */
int dma_hold_check(const struct dma_holds *h, const void *key, bool write);
void dma_hold_add(struct dma_holds *h, const void *key, bool write);
/* check + reserve + add in one probe: 0, -EAGAIN or -ENOMEM. */
int dma_hold_take(struct dma_holds *h, const void *key, bool write);
/* Drop one; returns the holds left on key. */
uint32_t dma_hold_drop(struct dma_holds *h, const void *key, bool write);
uint32_t dma_hold_count(const struct dma_holds *h, const void *key);
uint32_t dma_hold_writes(const struct dma_holds *h, const void *key);

/*
 * A window. What an access needs is in the tree's leaf, which answers
 * lookups (iova_tree_lookup) without touching the window: the node's start,
 * last and data (the host address; 0: message based) and the entry's tag
 * (the WIN_* bits below). The rest is for unmap and dirty logging.
 */
#define WIN_PROT  (UVFIO_DMA_READ | UVFIO_DMA_WRITE) /* the window's prot */
#define WIN_GUARD (1u << 2) /* fd-backed: copies guarded against SIGBUS */
#define WIN_DYING (1u << 3) /* being unmapped: new accesses fail */

struct dma_window {
	struct iova_node node;	/* [start, last], data = host address */
	uint64_t *dirty;	/* one bit per logging page while logging */
	struct dma_backing *bk; /* the mapping of an fd-backed window, or NULL */
};

struct uvfio_dma {
	pthread_mutex_t lock;
	pthread_cond_t drained; /* the draining window's last access ended */
	pthread_mutex_t unmap_lock;
	struct dma_window *draining; /* the window a removal waits for, or NULL */
	struct dma_holds holds;
	struct iova_tree tree;
	struct slab windows; /* struct dma_window, packed for lookups (slab.h) */
	struct dma_backings backings;
	uint64_t pgsize;
	uint32_t max_entries;
	bool logging;
	unsigned int log_shift;
	/* Ranges being tracked, sorted, disjoint (unless log_all). */
	bool log_all;
	struct iova_node *log_ranges;
	uint32_t log_nranges;
	uvfio_dma_msg_fn msg_fn;
	void *msg_opaque;
	uvfio_dma_unmap_fn unmap_fn;
	void *unmap_opaque;
};

/* A write reference is tagged in the low bit of ref->window (windows are aligned). */
#define REF_WRITE ((uintptr_t)1)

/* sizeof the per-window bookkeeping (for the benchmark's memory report). */
size_t uvfio_dma__window_bytes(void);
/* Bytes the space holds for its bookkeeping outside the heap: the window
 * and index arenas (for the benchmark's memory report). */
size_t uvfio_dma__arena_bytes(struct uvfio_dma *dma);

static inline struct dma_window *to_win(struct iova_node *n)
{
	return n ? (struct dma_window *)((char *)n - offsetof(struct dma_window, node)) : NULL;
}

static inline uint64_t win_size(const struct dma_window *w)
{
	return w->node.last - w->node.start + 1;
}

static inline struct dma_window *win_first_overlap(struct uvfio_dma *dma,
						   uint64_t start, uint64_t last)
{
	return to_win(iova_tree_first_overlap(&dma->tree, start, last));
}

static inline struct dma_window *win_next(struct uvfio_dma *dma, struct dma_window *w)
{
	return to_win(iova_tree_next(&dma->tree, &w->node));
}

static inline bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* dma_log.c: bitmaps. Called with dma->lock held. */
uint64_t *dma_dirty_alloc(const struct dma_window *w, unsigned int shift);
void dma_win_set_dirty(struct uvfio_dma *dma, struct dma_window *w, uint64_t a,
		       uint64_t b);

#endif
