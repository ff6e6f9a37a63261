/* SPDX-License-Identifier: MIT */
/*
 * The CDX bus driver: a device on AMD's CDX bus as the kernel's vfio-cdx
 * (drivers/vfio/cdx/main.c) presents it.
 *
 *   - VFIO_DEVICE_GET_INFO: flags CDX | RESET, num_regions = number of
 *     resources, num_irqs = 1 if the device has MSI vectors, else 0.
 *   - One region per resource. Reported offset = index << 40 (the driver's
 *     private VFIO_CDX_OFFSET_SHIFT). Flags: READ always, WRITE unless the
 *     resource is read-only, MMAP only when both its start address and its
 *     size are page aligned.
 *   - One IRQ index (MSI), EVENTFD | NORESIZE, count = vectors.
 *   - reset on the first open (a failure fails the open), on the last close
 *     and on VFIO_DEVICE_RESET. DEVICE_RESET leaves bus mastering as it is:
 *     vfio-cdx's reset ioctl is cdx_dev_reset() alone.
 *   - VFIO_DEVICE_FEATURE_BUS_MASTER (SET only, {u32 op}: 0 clear, 1 set),
 *     offered only when the device has a bus_master op and clearing bus
 *     mastering at open worked. Bus mastering then starts off, and the core
 *     refuses the device's DMA until the driver sets it.
 *
 * Where uvfio differs from the kernel, and why:
 *   - The kernel's vfio-cdx has no read()/write(): its regions are only
 *     mapped. vfio-user clients read and write regions by message, and a
 *     resource that is not page aligned cannot be mapped at all, so regions
 *     here are also readable and writable by message.
 *   - A mappable resource is memory (a memfd) the device and the client
 *     share, so a mapping bypasses the device: a mappable resource cannot
 *     have read/write handlers. Registers with side effects go in a resource
 *     that is not page aligned.
 *
 * Over vfio-user, every mappable resource has a memfd of its own, whose
 * data sits at file offset index << 40 (the hole before it is sparse and
 * costs nothing). The reported offset is then both the kernel's encoding
 * and the offset a vfio-user client passes to mmap(). One fd per resource
 * (rather than one fd for all) means a client holding resource 0's fd can
 * reach nothing else, and the fd of a read-only resource can be sealed
 * against writable mappings (F_SEAL_FUTURE_WRITE), so the kernel enforces
 * read-only for a client that bypasses uvfio_cdx_mmap_check().
 */
#ifndef UVFIO_CDX_H
#define UVFIO_CDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uvfio/device.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The wildcard of an ID table; never a device's own vendor or device ID. */
#define UVFIO_CDX_ANY_ID 0xFFFFu
/* The CDX bus's MAX_CDX_DEV_RESOURCES. */
#define UVFIO_CDX_MAX_RESOURCES 4u
/* The CDX bus's MSI limit per device. */
#define UVFIO_CDX_MAX_MSI 2048u
/* Region offsets: index << 40, private to this driver. */
#define UVFIO_CDX_OFFSET_SHIFT 40

struct uvfio_cdx_device;

/*
 * Handlers of a resource that is not page aligned. `pos` and `count` have
 * been checked against the resource size. Return bytes done or -errno.
 */
typedef ssize_t (*uvfio_cdx_read_fn)(struct uvfio_cdx_device *cdx,
				     uint32_t index, uint64_t pos, void *buf,
				     size_t count);
typedef ssize_t (*uvfio_cdx_write_fn)(struct uvfio_cdx_device *cdx,
				      uint32_t index, uint64_t pos,
				      const void *buf, size_t count);

struct uvfio_cdx_resource {
	/* The bus address: only its page alignment matters (the MMAP rule). */
	uint64_t start;
	uint64_t size; /* > 0 */
	bool read_only;
	/*
	 * NULL read (and write): the resource is memory, zeroed at create and
	 * reachable with uvfio_cdx_resource_mem(). With read set, accesses go
	 * to the handlers; write may be NULL only for a read-only resource.
	 * A page-aligned (mappable) resource must not have handlers.
	 */
	uvfio_cdx_read_fn read;
	uvfio_cdx_write_fn write;
};

struct uvfio_cdx_ops {
	/* Required: put the device back to its power-on state. 0 or -errno. */
	int (*reset)(struct uvfio_cdx_device *cdx);
	/*
	 * Optional: turn the device's bus mastering on or off (the firmware's
	 * cdx_set_master / cdx_clear_master). 0 or -errno. Without it, or if
	 * clearing fails at open, the BUS_MASTER feature is not offered.
	 */
	int (*bus_master)(struct uvfio_cdx_device *cdx, bool on);
};

struct uvfio_cdx_info {
	uint16_t vendor; /* not UVFIO_CDX_ANY_ID */
	uint16_t device; /* not UVFIO_CDX_ANY_ID */
	uint32_t num_resources; /* 1..UVFIO_CDX_MAX_RESOURCES */
	struct uvfio_cdx_resource resources[UVFIO_CDX_MAX_RESOURCES];
	uint32_t num_msi; /* 0: no IRQ index */
	const struct uvfio_cdx_ops *ops;
};

/*
 * Create a CDX device (not registered). -EINVAL for a bad description
 * (logged with the reason): an ANY_ID vendor or device, no reset op, no or
 * too many resources, a zero size, handlers on a mappable resource, a
 * writable handler resource without write, too many MSI vectors.
 */
int uvfio_cdx_create(const char *name, const struct uvfio_cdx_info *info,
		     void *priv, struct uvfio_cdx_device **out);
/* Free what create made; after uvfio_device_unregister() if registered. */
void uvfio_cdx_destroy(struct uvfio_cdx_device *cdx);

struct uvfio_device *uvfio_cdx_to_device(struct uvfio_cdx_device *cdx);
/* The CDX device behind a device made by uvfio_cdx_create(), else NULL. */
struct uvfio_cdx_device *uvfio_cdx_from_device(struct uvfio_device *dev);
void *uvfio_cdx_priv(struct uvfio_cdx_device *cdx);

/* The memory of a memory-backed resource (size = resource size), else NULL. */
void *uvfio_cdx_resource_mem(struct uvfio_cdx_device *cdx, uint32_t index);

/*
 * Whether mapping [offset, offset + len) of resource `index` with `prot`
 * (PROT_READ | PROT_WRITE) is allowed, in the kernel's vfio_cdx_mmap order:
 *   index >= num_resources             -EINVAL
 *   region without MMAP                -EINVAL
 *   PROT_READ on a region without READ, PROT_WRITE without WRITE  -EPERM
 *   len < one page, or offset or len not page granular  -EINVAL
 *   offset + len beyond the resource   -EINVAL
 * `offset` is relative to the resource (the region's offset removed).
 */
int uvfio_cdx_mmap_check(struct uvfio_device *dev, uint32_t index,
			 uint64_t offset, uint64_t len, int prot);
/*
 * Map part of a resource into this process after uvfio_cdx_mmap_check()
 * (an in-process client). Unmap with munmap(*addr, len).
 */
int uvfio_cdx_mmap(struct uvfio_device *dev, uint32_t index, uint64_t offset,
		   uint64_t len, int prot, void **addr);

/* The device raises MSI vector `vector`: see uvfio_irq_trigger(). */
int uvfio_cdx_raise_msi(struct uvfio_cdx_device *cdx, uint32_t vector);

/* ---- IDs and module aliases ---------------------------------------------- */

/* An ID table entry; UVFIO_CDX_ANY_ID matches any value. A table ends with
 * an entry whose vendor and device are both 0, as the kernel's. */
struct uvfio_cdx_id {
	uint16_t vendor;
	uint16_t device;
};

bool uvfio_cdx_id_match(const struct uvfio_cdx_id *id, uint16_t vendor,
			uint16_t device);
/* The first entry of `table` matching, or NULL. */
const struct uvfio_cdx_id *uvfio_cdx_match_table(const struct uvfio_cdx_id *table,
						 uint16_t vendor, uint16_t device);

/*
 * The module alias of an ID table entry of a vfio driver override, as the
 * kernel's file2alias writes it: "vfio_cdx:v%04Xd%04X", each ANY_ID field
 * written as "*" (vfio-cdx's own match-all entry is "vfio_cdx:v*d*").
 * Later kernels, whose cdx_device_id also has subvendor, subdevice and
 * class, append "sv..sd..c.." fields; uvfio's IDs are vendor and device
 * only, so it writes the two-field form.
 * Returns the length (without NUL) or -ENOSPC if buf is too small.
 */
int uvfio_cdx_modalias(const struct uvfio_cdx_id *id, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
