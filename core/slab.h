/* SPDX-License-Identifier: MIT */
/*
 * Fixed-size objects packed into a few large chunks, so that a big DMA space
 * (65535 windows and their index) sits on a handful of transparent huge
 * pages instead of ~2000 scattered 4 KiB pages: a random lookup then costs a
 * cache miss, not a cache miss plus a TLB miss (a nested page walk in a VM).
 *
 * Chunks grow geometrically (16 KiB, 16, 32, ... 1 MiB, then 2 MiB aligned
 * and madvised MADV_HUGEPAGE), so a small space costs little. Freed objects
 * are reused; the chunks but the first (16 KiB) are returned when the last
 * object is freed, all at fini. Thread safe (one mutex; allocation is not on any lookup path).
 */
#ifndef UVFIO_CORE_SLAB_H
#define UVFIO_CORE_SLAB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct slab_chunk;

struct slab {
	pthread_mutex_t lock;
	void *free;		   /* free objects, linked through their first word */
	struct slab_chunk *chunks; /* newest first */
	char *bump, *end;	   /* never-used tail of the newest chunk */
	size_t obj;		   /* object size, a multiple of 64 */
	size_t total;		   /* bytes in all chunks */
	size_t live;
};

int slab_init(struct slab *s, size_t obj);
void slab_fini(struct slab *s);
/* A zeroed, 64-byte aligned object, or NULL (errno ENOMEM). */
void *slab_alloc(struct slab *s);
void slab_free(struct slab *s, void *p);

#endif
