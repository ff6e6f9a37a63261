/* SPDX-License-Identifier: MIT */
/*
 * The DMA windows a vfio-user client mapped without an fd: the server
 * reaches their memory only through DMA_READ/DMA_WRITE requests, which the
 * client serves from the caller's vaddr. Lookups decide which bytes a
 * request may touch, so they never hand out memory outside a window.
 * Sorted by IOVA, non-overlapping; lookup is a binary search.
 */
#ifndef UVFIO_USER_CLIENT_WINDOWS_H
#define UVFIO_USER_CLIENT_WINDOWS_H

#include <stddef.h>
#include <stdint.h>

struct uvfio_client_window {
	uint64_t iova, size;
	uint8_t *vaddr;
	uint32_t prot; /* UVFIO_DMA_READ | UVFIO_DMA_WRITE, as seen by the device */
};

struct uvfio_client_windows {
	struct uvfio_client_window *w;
	size_t n, cap;
	size_t max; /* at most this many windows (the server's max_dma_maps) */
};

void uvfio_client_windows_init(struct uvfio_client_windows *ws, size_t max);
void uvfio_client_windows_fini(struct uvfio_client_windows *ws);
/* -EINVAL size 0 or wrap, -EEXIST overlap, -ENOSPC max reached, -ENOMEM. */
int uvfio_client_windows_add(struct uvfio_client_windows *ws,
			     const struct uvfio_client_window *win);
/* Remove the window that is exactly [iova, iova+size); -ENOENT if none. */
int uvfio_client_windows_remove(struct uvfio_client_windows *ws, uint64_t iova,
				uint64_t size);
void uvfio_client_windows_clear(struct uvfio_client_windows *ws);
/*
 * Host memory for [iova, iova+len) when it lies inside one window that
 * allows `prot`; NULL otherwise (unmapped, crosses the window end, wraps,
 * wrong protection, len 0).
 */
void *uvfio_client_windows_find(const struct uvfio_client_windows *ws,
				uint64_t iova, uint64_t len, uint32_t prot);

#endif
