/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the DMA space tests. */
#ifndef UVFIO_TEST_DMA_H
#define UVFIO_TEST_DMA_H

#include <uvfio/dma.h>

#define RW (UVFIO_DMA_READ | UVFIO_DMA_WRITE)

/* A window backed by caller memory (vaddr NULL: message based). */
static inline int map_va(struct uvfio_dma *dma, uint64_t iova, uint64_t size,
			 uint32_t prot, void *vaddr)
{
	struct uvfio_dma_map_args a = {
		.iova = iova, .size = size, .prot = prot, .fd = -1, .vaddr = vaddr,
	};

	return uvfio_dma_map(dma, &a);
}

#endif
