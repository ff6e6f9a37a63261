/* SPDX-License-Identifier: MIT */
/*
 * The client API's backends. user/client.c parses the location, keeps what
 * every backend shares (lock, region cache, mappings) and calls one of these
 * tables; the vfio-user backend is user/client_vfio_user.c, the kernel VFIO
 * backends will slot in beside it.
 *
 * A backend's ops are called with the client's lock held, after the generic
 * argument checks. They return 0 (or a byte count) or a negative errno.
 */
#ifndef UVFIO_USER_CLIENT_BACKEND_H
#define UVFIO_USER_CLIENT_BACKEND_H

#include <pthread.h>
#include <stdint.h>

#include <uvfio/client.h>

/* Bounds on what a device may report, so its counts never size an
 * allocation unchecked (QEMU accepts 100 regions, 50 IRQ indexes). */
#define UVFIO_CLIENT_MAX_REGIONS 256u
#define UVFIO_CLIENT_MAX_IRQS 64u

struct uvfio_client_backend {
	const char *name; /* uvfio_client_backend() */
	/* `target` is the location without its scheme. Sets c->be_priv. */
	int (*open)(struct uvfio_client *c, const char *target,
		    const struct uvfio_client_opts *opts);
	void (*close)(struct uvfio_client *c);
	int (*get_info)(struct uvfio_client *c, struct vfio_device_info *info);
	/* Fresh region info; a mappable region's fd goes to out->mmap_fd
	 * (owned by the client core from then on), else -1. */
	int (*region)(struct uvfio_client *c, uint32_t index, struct uvfio_region *out);
	ssize_t (*read)(struct uvfio_client *c, uint32_t index, uint64_t pos,
			void *buf, size_t count);
	ssize_t (*write)(struct uvfio_client *c, uint32_t index, uint64_t pos,
			 const void *buf, size_t count);
	/* The doorbells of a region (see uvfio_client_ioeventfds); NULL: none. */
	int (*ioeventfds)(struct uvfio_client *c, uint32_t index,
			  struct uvfio_client_ioeventfd *out, size_t cap);
	/* No answer awaited; NULL: the backend's write is already posted. */
	ssize_t (*write_posted)(struct uvfio_client *c, uint32_t index, uint64_t pos,
				const void *buf, size_t count);
	int (*irq_info)(struct uvfio_client *c, struct vfio_irq_info *info);
	int (*set_irqs)(struct uvfio_client *c, const struct vfio_irq_set *hdr,
			const void *data);
	int (*dma_map)(struct uvfio_client *c, const struct uvfio_dma_map_args *args);
	int (*dma_unmap)(struct uvfio_client *c, uint64_t iova, uint64_t size);
	int (*dma_unmap_all)(struct uvfio_client *c);
	int (*reset)(struct uvfio_client *c);
	int (*feature)(struct uvfio_client *c, void *buf);
	ssize_t (*mig_read)(struct uvfio_client *c, void *buf, size_t len);
	int (*mig_write)(struct uvfio_client *c, const void *buf, size_t len);
	/* An fd that polls readable when the device has sent requests. */
	int (*fd)(struct uvfio_client *c);
	/* Serve the requests waiting now, without waiting for more; returns
	 * how many were served, or the error that killed the connection. */
	int (*process)(struct uvfio_client *c);
};

struct uvfio_client_mapping {
	void *addr;
	size_t len;
};

struct uvfio_client {
	const struct uvfio_client_backend *be;
	void *be_priv;
	char *location; /* names the device in log lines */
	pthread_mutex_t lock; /* one call at a time on the connection */
	/* Region info cache, filled on first use: region fds are opened once
	 * and stay valid until close. */
	struct vfio_device_info info;
	struct uvfio_region *regions;
	uint8_t *region_valid;
	/* What uvfio_client_mmap() mapped, unmapped at close. */
	struct uvfio_client_mapping *maps;
	size_t nr_maps, cap_maps;
};

extern const struct uvfio_client_backend uvfio_client_vfio_user;
/* kernel/client_kernel.c; its open installs "kernel-group" or "kernel-cdev". */
extern const struct uvfio_client_backend uvfio_client_kernel;

#endif
