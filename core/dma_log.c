/* SPDX-License-Identifier: MIT */
/*
 * Dirty page logging of the DMA space: one bitmap per window, allocated at
 * log start (and at map while logging), reported with the kernel's bit rule
 * (bit n = page (addr - iova) / pgsize, little-endian u64 words).
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <uvfio/dma.h>

#include "dma_internal.h"

/* Set bits first..last (inclusive); `le`: the words are little-endian u64. */
static void bits_set(uint64_t *map, uint64_t first, uint64_t last, bool le)
{
	for (uint64_t k = first / 64; k <= last / 64; k++) {
		uint64_t m = ~0ull;

		if (k == first / 64)
			m &= ~0ull << (first % 64);
		if (k == last / 64)
			m &= ~0ull >> (63 - last % 64);
		if (le)
			map[k] = htole64(le64toh(map[k]) | m);
		else
			map[k] |= m;
	}
}

uint64_t *dma_dirty_alloc(const struct dma_window *w, unsigned int shift)
{
	/* Logging pages need not align to the window: count the pages it touches. */
	uint64_t words = ((w->node.last >> shift) - (w->node.start >> shift)) / 64 + 1;

	if (words > SIZE_MAX / sizeof(uint64_t))
		return NULL;
	return calloc((size_t)words, sizeof(uint64_t));
}

static void win_set_bits(struct uvfio_dma *dma, struct dma_window *w, uint64_t a,
			 uint64_t b)
{
	unsigned int s = dma->log_shift;
	uint64_t base = w->node.start >> s;

	bits_set(w->dirty, (a >> s) - base, (b >> s) - base, false);
}

/* Index of the first tracked range that ends at or after addr. */
static uint32_t range_first(const struct uvfio_dma *dma, uint64_t addr)
{
	uint32_t lo = 0, hi = dma->log_nranges;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (dma->log_ranges[mid].last < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Mark [a, b] dirty; both inside w. Only the parts inside the tracked
 * ranges count: a device that asked for ranges reads back only those, and
 * a page outside them must not look dirty later. Lock held.
 */
void dma_win_set_dirty(struct uvfio_dma *dma, struct dma_window *w, uint64_t a,
		       uint64_t b)
{
	if (!dma->logging || !w->dirty)
		return;
	if (dma->log_all) {
		win_set_bits(dma, w, a, b);
		return;
	}
	for (uint32_t i = range_first(dma, a); i < dma->log_nranges; i++) {
		const struct iova_node *r = &dma->log_ranges[i];

		if (r->start > b)
			break;
		win_set_bits(dma, w, r->start > a ? r->start : a, r->last < b ? r->last : b);
	}
}

static void free_bitmaps(struct uvfio_dma *dma)
{
	struct dma_window *w;

	for (w = to_win(iova_tree_first_from(&dma->tree, 0)); w; w = win_next(dma, w)) {
		free(w->dirty);
		w->dirty = NULL;
	}
}

static int range_cmp(const void *x, const void *y)
{
	const struct iova_node *a = x, *b = y;

	return a->start < b->start ? -1 : a->start > b->start;
}

/*
 * The requested ranges as sorted [start, last] nodes, zero-length ones
 * dropped. -EOVERFLOW: a range wraps; -EINVAL: two ranges overlap.
 */
static int ranges_prepare(const struct uvfio_dma_range *ranges, uint32_t n,
			  struct iova_node **out, uint32_t *nout)
{
	struct iova_node *v;
	uint32_t k = 0;

	*out = NULL;
	*nout = 0;
	if (!n)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t last;

		if (!ranges[i].length)
			continue;
		if (__builtin_add_overflow(ranges[i].iova, ranges[i].length - 1, &last)) {
			free(v);
			return -EOVERFLOW;
		}
		v[k].start = ranges[i].iova;
		v[k].last = last;
		k++;
	}
	qsort(v, k, sizeof(*v), range_cmp);
	for (uint32_t i = 1; i < k; i++) {
		if (v[i].start <= v[i - 1].last) {
			free(v);
			return -EINVAL;
		}
	}
	*out = v;
	*nout = k;
	return 0;
}

int uvfio_dma_log_start_ranges(struct uvfio_dma *dma, uint64_t pgsize,
			       const struct uvfio_dma_range *ranges, uint32_t n)
{
	struct iova_node *rv;
	struct dma_window *w;
	unsigned int shift;
	uint32_t nr;
	int ret;

	if (!dma || (n && !ranges))
		return -EINVAL;
	if (!pgsize)
		pgsize = dma->pgsize;
	if (!is_pow2(pgsize))
		return -EINVAL;
	shift = (unsigned int)__builtin_ctzll(pgsize);
	ret = ranges_prepare(ranges, n, &rv, &nr);
	if (ret)
		return ret;

	pthread_mutex_lock(&dma->lock);
	if (dma->logging) {
		ret = -EBUSY; /* one start at a time, as the device feature */
		goto out;
	}
	for (w = to_win(iova_tree_first_from(&dma->tree, 0)); w; w = win_next(dma, w)) {
		w->dirty = dma_dirty_alloc(w, shift);
		if (!w->dirty) {
			free_bitmaps(dma);
			ret = -ENOMEM;
			goto out;
		}
	}
	dma->log_shift = shift;
	dma->logging = true;
	/* n > 0 with only empty ranges tracks nothing, not everything. */
	dma->log_all = !n;
	dma->log_ranges = rv;
	dma->log_nranges = nr;
	rv = NULL;
out:
	pthread_mutex_unlock(&dma->lock);
	free(rv);
	return ret;
}

int uvfio_dma_log_start(struct uvfio_dma *dma, uint64_t pgsize)
{
	return uvfio_dma_log_start_ranges(dma, pgsize, NULL, 0);
}

int uvfio_dma_log_stop(struct uvfio_dma *dma)
{
	if (!dma)
		return -EINVAL;
	pthread_mutex_lock(&dma->lock);
	if (dma->logging) {
		free_bitmaps(dma);
		dma->logging = false;
		free(dma->log_ranges);
		dma->log_ranges = NULL;
		dma->log_nranges = 0;
	}
	pthread_mutex_unlock(&dma->lock);
	return 0;
}

bool uvfio_dma_logging(struct uvfio_dma *dma)
{
	bool on;

	if (!dma)
		return false;
	pthread_mutex_lock(&dma->lock);
	on = dma->logging;
	pthread_mutex_unlock(&dma->lock);
	return on;
}

/*
 * Report the dirty logging pages of w inside [lo, hi] into the caller's
 * bitmap (report pages of pgsize from iova; rlast ends the report), clearing
 * each logging page that the report covers whole. Lock held.
 */
static void report_window(struct uvfio_dma *dma, struct dma_window *w,
			  uint64_t lo, uint64_t hi, uint64_t iova, uint64_t rlast,
			  unsigned int rshift, uint64_t *bitmap)
{
	unsigned int ls = dma->log_shift;
	uint64_t base = w->node.start >> ls;
	uint32_t writes = dma_hold_writes(&dma->holds, w); /* write refs held */
	uint64_t fb = (lo >> ls) - base, lb = (hi >> ls) - base;

	for (uint64_t k = fb / 64; k <= lb / 64; k++) {
		uint64_t word = w->dirty[k];

		if (k == fb / 64)
			word &= ~0ull << (fb % 64);
		if (k == lb / 64)
			word &= ~0ull >> (63 - lb % 64);
		while (word) {
			unsigned int b = (unsigned int)__builtin_ctzll(word);
			uint64_t pstart = (base + k * 64 + b) << ls;
			uint64_t pend = pstart | ((1ull << ls) - 1);
			uint64_t a = pstart > lo ? pstart : lo;
			uint64_t z = pend < hi ? pend : hi;
			/* the part of this logging page that is mapped in w */
			uint64_t ma = pstart > w->node.start ? pstart : w->node.start;
			uint64_t mz = pend < w->node.last ? pend : w->node.last;

			word &= word - 1;
			bits_set(bitmap, (a - iova) >> rshift, (z - iova) >> rshift, true);
			if (!writes && ma >= iova && mz <= rlast)
				w->dirty[k] &= ~(1ull << b);
		}
	}
}

int uvfio_dma_log_report(struct uvfio_dma *dma, uint64_t iova, uint64_t length,
			 uint64_t pgsize, uint64_t *bitmap, size_t bitmap_bytes)
{
	uint64_t rlast, words;
	struct dma_window *w;
	unsigned int rshift;
	int ret = 0;

	if (!dma || !bitmap)
		return -EINVAL;
	if (!is_pow2(pgsize) || pgsize < 4096)
		return -EINVAL;
	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, &rlast))
		return -EOVERFLOW;
	rshift = (unsigned int)__builtin_ctzll(pgsize);
	/* bits for report pages 0 .. (rlast - iova) / pgsize */
	words = ((rlast - iova) >> rshift) / 64 + 1;
	if (words > bitmap_bytes / sizeof(uint64_t))
		return -EINVAL;

	pthread_mutex_lock(&dma->lock);
	if (!dma->logging) {
		ret = -EINVAL;
		goto out;
	}
	for (w = win_first_overlap(dma, iova, rlast); w && w->node.start <= rlast;
	     w = win_next(dma, w)) {
		uint64_t lo = w->node.start > iova ? w->node.start : iova;
		uint64_t hi = w->node.last < rlast ? w->node.last : rlast;

		if (w->dirty)
			report_window(dma, w, lo, hi, iova, rlast, rshift, bitmap);
	}
out:
	pthread_mutex_unlock(&dma->lock);
	return ret;
}

void uvfio_dma_mark_dirty(struct uvfio_dma *dma, uint64_t iova, uint64_t len)
{
	struct dma_window *w;
	uint64_t last;

	if (!dma || !len)
		return;
	if (__builtin_add_overflow(iova, len - 1, &last))
		last = UINT64_MAX;
	pthread_mutex_lock(&dma->lock);
	if (dma->logging) {
		for (w = win_first_overlap(dma, iova, last); w && w->node.start <= last;
		     w = win_next(dma, w)) {
			uint64_t lo = w->node.start > iova ? w->node.start : iova;
			uint64_t hi = w->node.last < last ? w->node.last : last;

			dma_win_set_dirty(dma, w, lo, hi);
		}
	}
	pthread_mutex_unlock(&dma->lock);
}
