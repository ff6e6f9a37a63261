/* SPDX-License-Identifier: MIT */
/*
 * `uvfio bench dma-map`: shared between the in-process part
 * (bench_dma_map.c) and the end-to-end part over a vfio-user socket
 * (bench_dma_map_e2e.c).
 */
#ifndef UVFIO_TOOL_BENCH_DMA_MAP_H
#define UVFIO_TOOL_BENCH_DMA_MAP_H

#include <stdbool.h>
#include <stdint.h>

struct dma_e2e_opts {
	uint64_t windows; /* windows per round of the fd / no-fd comparison */
	uint64_t rounds;  /* interleaved rounds of each */
	uint64_t full;	  /* fd-backed windows of the full-scale run (0: skip) */
	unsigned long cpu;
	bool pinned, json;
};

/* Prints its results; returns 0 or a negative errno (after a message). */
int bench_dma_map_e2e(const struct dma_e2e_opts *o);

#endif
