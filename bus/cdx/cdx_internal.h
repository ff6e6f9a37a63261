/* SPDX-License-Identifier: MIT */
/*
 * The private side of a CDX device, shared by bus/cdx's files:
 * cdx.c (object, device ops, open/close), resource.c (backing memory,
 * region access, mmap), bus_master.c (the BUS_MASTER feature), id.c.
 */
#ifndef UVFIO_BUS_CDX_INTERNAL_H
#define UVFIO_BUS_CDX_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vfio_compat.h"
#include <uvfio/cdx.h>
#include <uvfio/log.h>

struct uvfio_cdx_res_state {
	bool mappable;	/* start and size page aligned: memfd-backed */
	int fd;		/* mappable: the memfd, data at index << 40; else -1 */
	void *mem;	/* memory-backed: the device's view; else NULL */
	uint64_t fd_offset; /* where the data sits in fd */
};

struct uvfio_cdx_device {
	struct uvfio_device *dev;
	struct uvfio_cdx_info info;
	void *priv;
	struct uvfio_cdx_res_state res[UVFIO_CDX_MAX_RESOURCES];
	/* Set while open: clearing bus mastering at open worked. */
	bool bme_support;
};

extern const struct uvfio_device_ops uvfio_cdx_device_ops;

uint64_t cdx_page_size(void);

/* resource.c */
int cdx_resources_init(struct uvfio_cdx_device *cdx);
void cdx_resources_free(struct uvfio_cdx_device *cdx);
int cdx_regions_init(struct uvfio_cdx_device *cdx);
ssize_t cdx_region_read(struct uvfio_device *dev, uint32_t index, uint64_t pos,
			void *buf, size_t count);
ssize_t cdx_region_write(struct uvfio_device *dev, uint32_t index, uint64_t pos,
			 const void *buf, size_t count);

/* bus_master.c: at open (clear, offer) and at close (withdraw). */
void cdx_bus_master_open(struct uvfio_cdx_device *cdx);
void cdx_bus_master_close(struct uvfio_cdx_device *cdx);

#endif
