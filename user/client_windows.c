/* SPDX-License-Identifier: MIT */
/* Message-based DMA windows of a vfio-user client: a sorted array. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "user/client_windows.h"

void uvfio_client_windows_init(struct uvfio_client_windows *ws, size_t max)
{
	memset(ws, 0, sizeof(*ws));
	ws->max = max;
}

void uvfio_client_windows_fini(struct uvfio_client_windows *ws)
{
	free(ws->w);
	memset(ws, 0, sizeof(*ws));
}

void uvfio_client_windows_clear(struct uvfio_client_windows *ws)
{
	ws->n = 0;
}

/* Index of the first window whose last byte is >= iova (n if none). */
static size_t lower_bound(const struct uvfio_client_windows *ws, uint64_t iova)
{
	size_t lo = 0, hi = ws->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct uvfio_client_window *w = &ws->w[mid];

		if (w->iova + (w->size - 1) < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int uvfio_client_windows_add(struct uvfio_client_windows *ws,
			     const struct uvfio_client_window *win)
{
	uint64_t last;
	size_t i;

	if (!win->size || __builtin_add_overflow(win->iova, win->size - 1, &last))
		return -EINVAL;
	i = lower_bound(ws, win->iova);
	if (i < ws->n && ws->w[i].iova <= last)
		return -EEXIST;
	if (ws->n >= ws->max)
		return -ENOSPC;
	if (ws->n == ws->cap) {
		size_t cap = ws->cap ? ws->cap * 2 : 8;
		struct uvfio_client_window *w = realloc(ws->w, cap * sizeof(*w));

		if (!w)
			return -ENOMEM;
		ws->w = w;
		ws->cap = cap;
	}
	memmove(&ws->w[i + 1], &ws->w[i], (ws->n - i) * sizeof(*ws->w));
	ws->w[i] = *win;
	ws->n++;
	return 0;
}

int uvfio_client_windows_remove(struct uvfio_client_windows *ws, uint64_t iova,
				uint64_t size)
{
	size_t i = lower_bound(ws, iova);

	if (i >= ws->n || ws->w[i].iova != iova || ws->w[i].size != size)
		return -ENOENT;
	memmove(&ws->w[i], &ws->w[i + 1], (ws->n - i - 1) * sizeof(*ws->w));
	ws->n--;
	return 0;
}

void *uvfio_client_windows_find(const struct uvfio_client_windows *ws,
				uint64_t iova, uint64_t len, uint32_t prot)
{
	const struct uvfio_client_window *w;
	uint64_t last;
	size_t i;

	if (!len || __builtin_add_overflow(iova, len - 1, &last))
		return NULL;
	i = lower_bound(ws, iova);
	if (i >= ws->n)
		return NULL;
	w = &ws->w[i];
	/* The window must hold the first and the last byte. */
	if (iova < w->iova || last - w->iova > w->size - 1)
		return NULL;
	if ((w->prot & prot) != prot)
		return NULL;
	return w->vaddr + (iova - w->iova);
}
