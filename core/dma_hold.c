/* SPDX-License-Identifier: MIT */
/*
 * Accesses in flight, counted per window but kept in one small table per
 * space instead of in each window: a translate (uvfio_dma_get/put) then
 * touches the index leaf and this table, which stays in the cache because
 * it holds only the windows being accessed right now, and not the window
 * itself, which in a big space is a second cache miss. Unmap waits until
 * the window has no entry here.
 *
 * Open addressing, linear probing, keyed by the window's address; removal
 * shifts the following entries back (no tombstones). Kept at most half
 * full; grows by doubling. All calls with the space's lock held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dma_internal.h"

#define HOLDS_MIN 64u

int dma_holds_init(struct dma_holds *h)
{
	h->v = calloc(HOLDS_MIN, sizeof(*h->v));
	if (!h->v)
		return -ENOMEM;
	h->mask = HOLDS_MIN - 1;
	h->used = 0;
	return 0;
}

void dma_holds_fini(struct dma_holds *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

static inline uint32_t slot_of(const struct dma_holds *h, const void *key)
{
	/* windows are 64-byte aligned: the low bits say nothing */
	uint64_t x = ((uint64_t)(uintptr_t)key >> 6) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(x >> 40) & h->mask;
}

static inline struct dma_hold *lookup(const struct dma_holds *h, const void *key)
{
	for (uint32_t i = slot_of(h, key);; i = (i + 1) & h->mask) {
		struct dma_hold *e = &h->v[i];

		if (e->key == key || !e->key)
			return e;
	}
}

static int grow(struct dma_holds *h)
{
	struct dma_holds n;
	uint32_t cap = (h->mask + 1) * 2;

	if (!cap)
		return -ENOMEM;
	n.v = calloc(cap, sizeof(*n.v));
	if (!n.v)
		return -ENOMEM;
	n.mask = cap - 1;
	n.used = h->used;
	for (uint32_t i = 0; i <= h->mask; i++)
		if (h->v[i].key)
			*lookup(&n, h->v[i].key) = h->v[i];
	free(h->v);
	*h = n;
	return 0;
}

int dma_holds_reserve(struct dma_holds *h, uint32_t more)
{
	while ((uint64_t)h->used + more > (h->mask + 1) / 2) {
		int ret = grow(h);

		if (ret)
			return ret;
	}
	return 0;
}

int dma_hold_check(const struct dma_holds *h, const void *key, bool write)
{
	const struct dma_hold *e = lookup(h, key);

	if (e->key && (e->n == UINT32_MAX || (write && e->w == UINT32_MAX)))
		return -EAGAIN;
	return 0;
}

int dma_hold_take(struct dma_holds *h, const void *key, bool write)
{
	struct dma_hold *e = lookup(h, key);
	int ret;

	if (e->key) {
		if (e->n == UINT32_MAX || (write && e->w == UINT32_MAX))
			return -EAGAIN;
	} else if (h->used + 1 > (h->mask + 1) / 2) {
		ret = grow(h);
		if (ret)
			return ret;
		e = lookup(h, key);
	}
	if (!e->key) {
		e->key = key;
		h->used++;
	}
	e->n++;
	e->w += write;
	return 0;
}

void dma_hold_add(struct dma_holds *h, const void *key, bool write)
{
	struct dma_hold *e = lookup(h, key);

	if (!e->key) {
		e->key = key;
		h->used++;
	}
	e->n++;
	e->w += write;
}

uint32_t dma_hold_drop(struct dma_holds *h, const void *key, bool write)
{
	struct dma_hold *e = lookup(h, key);
	uint32_t i, j, n;

	if (!e->key)
		return 0; /* a put without a get: nothing to drop */
	e->w -= write;
	n = --e->n;
	if (n)
		return n;
	/* delete: move back every later entry of the run that may sit in i */
	h->used--;
	i = (uint32_t)(e - h->v);
	for (j = (i + 1) & h->mask; h->v[j].key; j = (j + 1) & h->mask) {
		uint32_t k = slot_of(h, h->v[j].key);

		/* entry j stays if its home k lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		h->v[i] = h->v[j];
		i = j;
	}
	memset(&h->v[i], 0, sizeof(h->v[i]));
	return 0;
}

uint32_t dma_hold_count(const struct dma_holds *h, const void *key)
{
	return lookup(h, key)->n;
}

uint32_t dma_hold_writes(const struct dma_holds *h, const void *key)
{
	return lookup(h, key)->w;
}
