/* SPDX-License-Identifier: MIT */
/*
 * testdev: a small bus-neutral device that exercises every vfio-user
 * command. Its layout is part of the test contract:
 *
 *   region 0  "regs"  256 B, READ|WRITE: the register file below; the IRQ
 *                     register is a doorbell for vectors 0-2: GET_REGION_IO_FDS
 *                     lists 3 ioeventfds, 8-byte writes of 0, 1, 2 at 0x10.
 *                     Vector 3 deliberately has none: a write of 3 goes the
 *                     message path, so a test can tell the two apart.
 *   region 1  "mem"   8 KiB, READ|WRITE|MMAP, memfd-backed; sparse area =
 *                     the second page only
 *   region 2  "whole" 4 KiB, READ|WRITE|MMAP, same memfd at 8 KiB; no areas
 *                     (the server reports the whole region as sparse)
 *   IRQ 0     4 vectors, EVENTFD|MASKABLE
 *   feature   TESTDEV_FEATURE (GET|SET, u64 value)
 *   region 3  "state" (testdev_create_opts(N), N > 0 only) N bytes READ|WRITE,
 *                     client writes are tracked page by page for pre-copy
 *   migration STOP_COPY|PRE_COPY; a versioned stream (devices/testdev_mig.c)
 *   reset     clears the registers (ID stays)
 */
#ifndef UVFIO_DEVICES_TESTDEV_H
#define UVFIO_DEVICES_TESTDEV_H

#include <stdbool.h>

#include <uvfio/device.h>

#define TESTDEV_REGS_SIZE 256u
#define TESTDEV_MEM_SIZE 8192u
#define TESTDEV_WHOLE_SIZE 4096u
#define TESTDEV_NUM_REGIONS 3u
#define TESTDEV_NUM_VECTORS 4u
#define TESTDEV_DOORBELL_VECTORS 3u /* vectors 0..2 have a doorbell */

/* Registers (little-endian u64 unless noted). */
#define TESTDEV_REG_ID	       0x00 /* RO: TESTDEV_ID */
#define TESTDEV_REG_SCRATCH    0x08
#define TESTDEV_REG_IRQ	       0x10 /* write v: raise vector v of IRQ 0;
					       read: the rings counted below */
#define TESTDEV_REG_DMA_SRC    0x18
#define TESTDEV_REG_DMA_DST    0x20
#define TESTDEV_REG_DMA_LEN    0x28 /* <= TESTDEV_DMA_MAX */
#define TESTDEV_REG_DMA_CMD    0x30 /* write TESTDEV_DMA_COPY or TESTDEV_DMA_FILL */
#define TESTDEV_REG_DMA_STATUS 0x38 /* RO: 0 or the positive errno of the copy */
#define TESTDEV_REG_DATA       0x40 /* 0x40..0xff: plain storage */

/*
 * Reading TESTDEV_REG_IRQ (u64) tells how the device was rung: the low 32
 * bits count writes that reached its write op (REGION_WRITE messages), the
 * high 32 bits rings through the doorbell eventfds (what the eventfds
 * counted). Reset clears both.
 */
#define TESTDEV_IRQ_BY_WRITE(v)	   ((uint32_t)(v))
#define TESTDEV_IRQ_BY_DOORBELL(v) ((uint32_t)((v) >> 32))

#define TESTDEV_DMA_COPY 1 /* copy SRC -> DST through DMA (read, then write) */
#define TESTDEV_DMA_FILL 2 /* fill DST with the low byte of SRC (write only) */

#define TESTDEV_ID 0x75f1de7e0001ull
#define TESTDEV_DMA_MAX (4u << 20)
#define TESTDEV_FEATURE 0x100 /* device-specific feature index */

#define TESTDEV_STATE_REGION 3u
#define TESTDEV_STATE_MAX (16ull << 30)

/*
 * A new, unregistered testdev. Register it to serve it; unregister frees
 * the device and its state (ops->release).
 */
struct uvfio_device *testdev_create(void);
/* With a state region of state_bytes (a multiple of 4096, <= 16 GiB; 0: none). */
struct uvfio_device *testdev_create_opts(uint64_t state_bytes);
/* `*released` becomes true when unregister has freed the device. */
void testdev_notify_release(struct uvfio_device *dev, bool *released);
/* Free a testdev that was never registered. */
void testdev_destroy(struct uvfio_device *dev);

#endif
