/* SPDX-License-Identifier: MIT */
/*
 * The private side of struct uvfio_device, shared by the core's files
 * (device.c, region.c, irq.c, feature.c, migration.c, device_dma.c).
 *
 * Locks, each guarding one concern so that a device op called under one of
 * them may still use the others (open_device may add features, a region
 * handler may trigger an IRQ or do DMA):
 *   ref_lock   refcount, registration state; ref_cond signals refcount 0
 *   open_lock  open_count; held across ops->open_device/close_device
 *   cfg_lock   flags, region table, feature table, ioeventfds
 *   irq_lock   IRQ tables and their eventfds (devices trigger from workers)
 *   mig_lock   migration state; held across the migration hooks
 *   dma_lock   the DMA space pointer; read-held across a device DMA access
 */
#ifndef UVFIO_CORE_DEVICE_INTERNAL_H
#define UVFIO_CORE_DEVICE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/vfio_compat.h"
#include <uvfio/device.h>
#include <uvfio/log.h>

/* The kernel asks users to let go every 10 s (HZ * 10). */
#define UVFIO_REQUEST_INTERVAL_MS_DEFAULT 10000u

/* Upper bounds on the tables, so a confused bus driver cannot ask for GBs. */
#define UVFIO_MAX_REGIONS 1024u
#define UVFIO_MAX_IRQ_INDEXES 64u
#define UVFIO_MAX_IRQ_VECTORS 2048u /* MSI-X table size limit */

struct uvfio_irq_vector {
	int fd; /* our dup of the caller's eventfd, -1 when none */
	bool masked;
	bool pending;
};

struct uvfio_irq_index {
	uint32_t count;
	uint32_t flags; /* VFIO_IRQ_INFO_* */
	struct uvfio_irq_vector *vec;
};

struct uvfio_device {
	char *name;
	const struct uvfio_device_ops *ops;
	void *priv;

	pthread_mutex_t ref_lock;
	pthread_cond_t ref_cond;
	unsigned int refcount;
	bool registered;
	unsigned int request_interval_ms;

	pthread_mutex_t open_lock;
	unsigned int open_count;

	pthread_mutex_t cfg_lock;
	uint32_t flags;
	uint32_t num_regions;
	struct uvfio_region *regions;
	struct uvfio_feature *features;
	size_t nr_features;
	struct uvfio_ioeventfd *ioefds; /* append-only, in the order added */
	uint32_t nr_ioefds;

	pthread_mutex_t irq_lock;
	uint32_t num_irqs;
	struct uvfio_irq_index *irqs;

	pthread_mutex_t mig_lock;
	enum uvfio_mig_state mig_state;

	pthread_rwlock_t dma_lock;
	struct uvfio_dma *dma;
	bool bus_master;		/* atomic */
	unsigned int dma_refused;	/* atomic; for log rate limiting */
};

/* Shorten the unregister wait between ops->request calls (tests, tools). */
void uvfio_device_set_request_interval_ms(struct uvfio_device *dev,
					  unsigned int ms);

/* Teardown helpers of each file, called when the device is freed. */
void uvfio_region_free_all(struct uvfio_device *dev);
void uvfio_irq_free_all(struct uvfio_device *dev);
void uvfio_feature_free_all(struct uvfio_device *dev);
void uvfio_ioeventfd_free_all(struct uvfio_device *dev);

/* Core-owned feature indexes (migration); feature.c dispatches to them. */
bool uvfio_mig_feature_index(uint16_t index);
int uvfio_mig_feature(struct uvfio_device *dev, uint32_t flags, void *data,
		      size_t len, size_t *out_len);

/* Core-owned dirty logging features (dma_log_feature.c). */
bool uvfio_log_feature_index(uint16_t index);
int uvfio_log_feature(struct uvfio_device *dev, uint32_t flags, void *data,
		      size_t len, size_t *out_len);

/* The kernel's vfio_check_feature(): 1 = do the GET/SET, 0 = probe ok. */
int uvfio_check_feature(uint32_t flags, size_t len, uint32_t supported_ops,
			size_t minsz);

/* Reset moves migration back to RUNNING (leaves ERROR). */
void uvfio_mig_reset_state(struct uvfio_device *dev);

#endif
