/* SPDX-License-Identifier: MIT */
/* cdx-demo's register map and resource numbers (devices/cdx_demo.c), for
 * its drivers and tests. */
#ifndef UVFIO_DEVICES_CDX_DEMO_H
#define UVFIO_DEVICES_CDX_DEMO_H

#include <stdbool.h>
#include <stdint.h>

#define CDX_DEMO_VENDOR 0x10ee
#define CDX_DEMO_DEVICE 0xcd01
#define CDX_DEMO_ID 0xcd0de001u

enum {
	CDX_DEMO_RES_SRAM = 0,	  /* writable, mappable */
	CDX_DEMO_RES_ROM = 1,	  /* read-only, mappable read-only */
	CDX_DEMO_RES_MAILBOX = 2, /* not page aligned: memory by message */
	CDX_DEMO_RES_DMA = 3,	  /* DMA engine registers */
};

#define CDX_DEMO_SRAM_SIZE 0x4000u
#define CDX_DEMO_MAILBOX_SIZE 0x100u
#define CDX_DEMO_DMA_REGS_SIZE 0x40u
#define CDX_DEMO_DMA_MAX (1u << 20)

#define CDX_DEMO_DMA_SRC 0x00
#define CDX_DEMO_DMA_DST 0x08
#define CDX_DEMO_DMA_LEN 0x10
#define CDX_DEMO_DMA_CTRL 0x14
#define CDX_DEMO_DMA_STATUS 0x18
#define CDX_DEMO_DMA_ERROR 0x1c
#define CDX_DEMO_DMA_ID 0x20

#define CDX_DEMO_CTRL_GO (1u << 0)
#define CDX_DEMO_CTRL_IRQ (1u << 1)

#define CDX_DEMO_STATUS_IDLE 0
#define CDX_DEMO_STATUS_DONE 1
#define CDX_DEMO_STATUS_ERROR 2

/* For tests: the priv of a created cdx-demo. */
unsigned int cdx_demo_resets(void *priv);
bool cdx_demo_bus_master(void *priv);

#endif
