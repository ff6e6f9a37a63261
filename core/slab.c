/* SPDX-License-Identifier: MIT */
/* Fixed-size objects in large (eventually huge-page) chunks: see slab.h. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#include "slab.h"

#define CHUNK_MIN (16u << 10)
#define CHUNK_HUGE (2u << 20)
#define HDR 64 /* the chunk header, keeps objects cache-line aligned */

struct slab_chunk {
	struct slab_chunk *next;
	size_t bytes;
};

int slab_init(struct slab *s, size_t obj)
{
	memset(s, 0, sizeof(*s));
	s->obj = ((obj < sizeof(void *) ? sizeof(void *) : obj) + 63) & ~(size_t)63;
	if (s->obj > CHUNK_MIN - HDR)
		return -EINVAL;
	return -pthread_mutex_init(&s->lock, NULL);
}

/*
 * Unmap the chunks; with keep_first, all but the first (smallest) one,
 * which becomes empty: a space that goes back and forth between no window
 * and a few then does not pay an mmap and a munmap each time.
 */
static void release_chunks(struct slab *s, bool keep_first)
{
	struct slab_chunk *c, *keep = NULL;

	while ((c = s->chunks)) {
		s->chunks = c->next;
		if (keep_first && !c->next)
			keep = c; /* newest first: the last one is the first */
		else
			munmap(c, c->bytes);
	}
	s->free = NULL;
	s->bump = s->end = NULL;
	s->total = 0;
	if (keep) {
		s->chunks = keep;
		s->total = keep->bytes;
		s->bump = (char *)keep + HDR;
		s->end = (char *)keep + keep->bytes;
	}
}

void slab_fini(struct slab *s)
{
	release_chunks(s, false);
	pthread_mutex_destroy(&s->lock);
}

static void *map_chunk(size_t bytes)
{
	char *p, *a;

	if (bytes < CHUNK_HUGE) {
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	/* 2 MiB aligned, so that the kernel can back it with one huge page */
	p = mmap(NULL, 2 * bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + bytes - 1) & ~(uintptr_t)(bytes - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	munmap(a + bytes, (size_t)(p + 2 * bytes - (a + bytes)));
	madvise(a, bytes, MADV_HUGEPAGE); /* advice: no huge pages is still correct */
	return a;
}

static int grow(struct slab *s)
{
	size_t bytes = s->total < CHUNK_MIN ? CHUNK_MIN
		       : s->total >= CHUNK_HUGE ? CHUNK_HUGE : s->total;
	struct slab_chunk *c = map_chunk(bytes);

	if (!c)
		return -ENOMEM;
	c->bytes = bytes;
	c->next = s->chunks;
	s->chunks = c;
	s->total += bytes;
	s->bump = (char *)c + HDR;
	s->end = (char *)c + bytes;
	return 0;
}

void *slab_alloc(struct slab *s)
{
	void *p = NULL;

	pthread_mutex_lock(&s->lock);
	if (s->free) {
		p = s->free;
		s->free = *(void **)p;
	} else if ((size_t)(s->end - s->bump) >= s->obj || !grow(s)) {
		p = s->bump;
		s->bump += s->obj;
	}
	if (p)
		s->live++;
	pthread_mutex_unlock(&s->lock);
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	memset(p, 0, s->obj);
	return p;
}

void slab_free(struct slab *s, void *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&s->lock);
	*(void **)p = s->free;
	s->free = p;
	if (!--s->live)
		release_chunks(s, true);
	pthread_mutex_unlock(&s->lock);
}
