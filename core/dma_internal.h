/* SPDX-License-Identifier: MIT */
/* Private to libuvfio, its tests and tools: facts about the DMA space. */
#ifndef UVFIO_CORE_DMA_INTERNAL_H
#define UVFIO_CORE_DMA_INTERNAL_H

#include <stddef.h>

/* sizeof the per-window bookkeeping (for the benchmark's memory report). */
size_t uvfio_dma__window_bytes(void);

#endif
