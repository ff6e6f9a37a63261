/* SPDX-License-Identifier: MIT */
/*
 * testdev's private state, shared by testdev.c (regions, DMA engine,
 * feature) and testdev_mig.c (the migration stream).
 */
#ifndef UVFIO_DEVICES_TESTDEV_PRIV_H
#define UVFIO_DEVICES_TESTDEV_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <uvfio/mig_stream.h>

#include "devices/testdev.h"

#define TESTDEV_MEMFD_SIZE (TESTDEV_MEM_SIZE + TESTDEV_WHOLE_SIZE)
#define TD_PAGE 4096u
#define TD_RUN_PAGES 64u /* pages per STATE record at most (256 KiB) */

/* The saving side: the stream is generated as it is read. */
struct td_save {
	bool active, stop_copy; /* a saving session; in STOP_COPY */
	bool hdr_sent, tail_sent, first_pass;
	uint64_t cursor;  /* next state page to look at */
	uint8_t *obuf;	  /* one record, staged */
	size_t olen, opos;
};

/* The resuming side: records are checked and taken as bytes arrive. */
struct td_load {
	int err;
	bool done;	     /* END seen */
	uint8_t hdr[UVFIO_MIG_HDR_SIZE];
	size_t hdr_len;
	uint8_t rec[UVFIO_MIG_REC_SIZE];
	size_t rec_len;	     /* bytes of the current record header */
	uint16_t tag;
	uint32_t val_len, val_pos;
	uint8_t offb[8];     /* a STATE record's offset */
	uint64_t state_off;
	uint32_t seen;	     /* bit per tag */
	uint8_t regs[TESTDEV_REGS_SIZE];
	uint8_t mem[TESTDEV_MEMFD_SIZE];
	uint64_t feature;
};

struct testdev {
	pthread_mutex_t lock;
	uint8_t regs[TESTDEV_REGS_SIZE];
	int memfd;
	uint8_t *mem; /* the memfd, mapped: regions 1 and 2 */
	uint64_t feature_value;
	/* Optional region 3: state_size bytes; client writes dirty its pages. */
	uint8_t *state;
	uint64_t state_size;
	uint64_t *state_dirty; /* a bit per TD_PAGE page, set until sent */
	struct td_save save;
	struct td_load *load;
	bool *released; /* set when unregister releases us (may be NULL) */
};

/* testdev.c: the register file at power-on. Lock held. */
void testdev_regs_reset(struct testdev *t);

/* testdev_mig.c */
extern const struct uvfio_migration_ops testdev_mig_ops;
void testdev_mark_dirty(struct testdev *t, uint64_t pos, uint64_t len);
void testdev_mig_fini(struct testdev *t);

#endif
