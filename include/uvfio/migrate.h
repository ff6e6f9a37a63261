/* SPDX-License-Identifier: MIT */
/*
 * Move a device's state from one client connection to another (migration
 * v2 driven from the client side, as a VMM does):
 *
 *   1. both devices must offer MIGRATION with STOP_COPY;
 *   2. destination -> RESUMING;
 *   3. source RUNNING -> PRE_COPY when it offers PRE_COPY, then rounds of
 *      MIG_DATA_READ -> MIG_DATA_WRITE; a round ends at a short read over
 *      vfio-user, at ENOMSG (or 0) from the kernel's data_fd; the rounds end
 *      when one moved at most converge_bytes or after max_iterations;
 *   4. before_stop() (the caller pauses what drives the device), source ->
 *      STOP_COPY, drain until a read returns nothing;
 *   5. destination -> STOP (it loads) -> RUNNING; source -> STOP.
 *
 * Downtime is measured from the source's STOP_COPY request to the
 * destination's RUNNING reply.
 *
 * On failure the source is put back to RUNNING (reset if it went to ERROR,
 * which loses its state: the kernel's rule) and the destination is reset;
 * opts->why says what failed. If before_stop() had been called, the caller
 * resumes what it paused.
 */
#ifndef UVFIO_MIGRATE_H
#define UVFIO_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uvfio/client.h>

#ifdef __cplusplus
extern "C" {
#endif

struct uvfio_migrate_stats {
	uint64_t bytes;		 /* stream bytes moved in total */
	uint64_t precopy_bytes;	 /* of which while the source ran */
	unsigned int iterations; /* pre-copy rounds */
	double downtime_ms;
	double total_ms;
	const char *phase;	 /* "precopy", "stopcopy", "done" (for progress) */
};

struct uvfio_migrate_opts {
	unsigned int max_iterations; /* pre-copy rounds; 0: 8 */
	uint64_t converge_bytes;     /* a round this small ends pre-copy; 0: 1 MiB */
	size_t chunk;		     /* bytes per MIG_DATA_READ; 0: 1 MiB */
	bool no_precopy;	     /* straight to STOP_COPY (all of it is downtime) */
	/* Optional, called every chunk and at the end of each round: progress. */
	void (*progress)(const struct uvfio_migrate_stats *s, void *opaque);
	/* Optional, called before the source stops (pause the vCPUs here). */
	void (*before_stop)(void *opaque);
	void *opaque;
	char *why;		     /* optional: a failure's reason */
	size_t why_len;
};

int uvfio_migrate(struct uvfio_client *src, struct uvfio_client *dst,
		  const struct uvfio_migrate_opts *opts,
		  struct uvfio_migrate_stats *stats);

/* Small helpers a migration driver needs (MIG_DEVICE_STATE / MIGRATION). */
int uvfio_client_mig_flags(struct uvfio_client *c, uint64_t *flags);
int uvfio_client_mig_set_state(struct uvfio_client *c, uint32_t state);
int uvfio_client_mig_get_state(struct uvfio_client *c, uint32_t *state);

/*
 * Dirty page logging (DMA_LOGGING_START/STOP/REPORT) on either backend: the
 * kernel's features take user pointers, vfio-user's take the data inline;
 * these calls build whichever the client needs.
 *   start   *page_size in, the page size the device uses out; n ranges
 *           (at most 256: -E2BIG). n == 0 logs everything over vfio-user;
 *           the kernel refuses it (-EINVAL).
 *   report  ORs one bit per page_size page from iova into bitmap (u64
 *           words, bit n%64 of word n/64), clearing the device's log.
 */
int uvfio_client_dma_log_start(struct uvfio_client *c, uint64_t *page_size,
			       const struct uvfio_dma_range *ranges, uint32_t n);
int uvfio_client_dma_log_stop(struct uvfio_client *c);
int uvfio_client_dma_log_report(struct uvfio_client *c, uint64_t iova, uint64_t length,
				uint64_t page_size, uint64_t *bitmap, size_t bitmap_bytes);

#ifdef __cplusplus
}
#endif
#endif
