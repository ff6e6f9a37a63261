/* SPDX-License-Identifier: MIT */
/*
 * The uvfio device model, mirroring the kernel's drivers/vfio/vfio_main.c.
 *
 * A device is an opaque object created with an ops table and a private
 * pointer. The bus driver (bus/pci, bus/cdx, ...) or the device itself fills
 * in regions and IRQ indexes; the core validates every request with the
 * kernel's rules before an op sees it, so no driver repeats those checks.
 *
 * Region offsets: `struct uvfio_region.offset` is what region info reports.
 * Its encoding belongs to the bus driver; the core never decodes it. Region
 * accesses name (index, position inside the region).
 *
 * Errors: functions return 0 (or a byte count) or a negative errno.
 */
#ifndef UVFIO_DEVICE_H
#define UVFIO_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/vfio.h>

#include <uvfio/dma.h>

#ifdef __cplusplus
extern "C" {
#endif

struct uvfio_device;

/* Migration states: the kernel's enum vfio_device_mig_state values. */
enum uvfio_mig_state {
	UVFIO_MIG_ERROR = 0,
	UVFIO_MIG_STOP = 1,
	UVFIO_MIG_RUNNING = 2,
	UVFIO_MIG_STOP_COPY = 3,
	UVFIO_MIG_RESUMING = 4,
	UVFIO_MIG_RUNNING_P2P = 5,
	UVFIO_MIG_PRE_COPY = 6,
	UVFIO_MIG_PRE_COPY_P2P = 7,
	UVFIO_MIG_NR_STATES = 8,
};

/*
 * Migration hooks. The core runs the kernel's state machine and calls
 * set_state once per arc of a composite transition; a failing hook leaves
 * the device in ERROR, which only reset leaves.
 */
struct uvfio_migration_ops {
	uint64_t flags; /* VFIO_MIGRATION_STOP_COPY (mandatory) | P2P | PRE_COPY */
	int (*set_state)(struct uvfio_device *dev, enum uvfio_mig_state from,
			 enum uvfio_mig_state to);
	/* Next bytes of the saving stream (PRE_COPY*, STOP_COPY); 0 = none left. */
	ssize_t (*save)(struct uvfio_device *dev, void *buf, size_t len);
	/* Bytes of the resuming stream, in order (segmentation not preserved). */
	int (*load)(struct uvfio_device *dev, const void *buf, size_t len);
	/* MIG_DATA_SIZE; valid in any state. Called with the migration lock held,
	 * like every hook here: a hook must not call uvfio_device_mig_*(). */
	int (*data_size)(struct uvfio_device *dev, uint64_t *stop_copy_length);
	/* VFIO_MIG_GET_PRECOPY_INFO, called in PRE_COPY* only. */
	int (*precopy_info)(struct uvfio_device *dev, uint64_t *initial_bytes,
			    uint64_t *dirty_bytes);
};

struct uvfio_device_ops {
	/* First open / last close, exactly as the kernel's open_device/close_device. */
	int (*open_device)(struct uvfio_device *dev);
	void (*close_device)(struct uvfio_device *dev);
	/*
	 * Region access; the core has checked index, the READ/WRITE flag and
	 * that [pos, pos+count) lies inside the region. Returns bytes done or
	 * a negative errno. A NULL op fails every access with -EINVAL.
	 */
	ssize_t (*read)(struct uvfio_device *dev, uint32_t index, uint64_t pos,
			void *buf, size_t count);
	ssize_t (*write)(struct uvfio_device *dev, uint32_t index, uint64_t pos,
			 const void *buf, size_t count);
	/* Device reset; NULL: the device has no VFIO_DEVICE_FLAGS_RESET. */
	int (*reset)(struct uvfio_device *dev);
	/*
	 * Optional SET_IRQS hook, called after the core's validation (the
	 * kernel's vfio_set_irqs_validate_and_prepare). A bus driver uses it
	 * for its own rules (e.g. one PCI interrupt mode at a time) and calls
	 * uvfio_irq_set_default() to apply the action. NULL: default only.
	 */
	int (*set_irqs)(struct uvfio_device *dev, const struct vfio_irq_set *hdr,
			const void *data);
	/* A DMA window is going away (so a device can drop cached pointers). */
	void (*dma_unmap)(struct uvfio_device *dev, uint64_t iova, uint64_t size);
	/* Unregister is waiting for users: ask them to let go (count = 0, 1, ..). */
	void (*request)(struct uvfio_device *dev, unsigned int count);
	/* Last reference gone after unregister: free the private data. */
	void (*release)(struct uvfio_device *dev);
	const struct uvfio_migration_ops *mig_ops;
};

/* ---- lifecycle ---------------------------------------------------------- */

/* Create a device; `name` appears in every log line about it. */
struct uvfio_device *uvfio_device_create(const char *name,
					 const struct uvfio_device_ops *ops,
					 void *priv);
void *uvfio_device_priv(struct uvfio_device *dev);
const char *uvfio_device_name(struct uvfio_device *dev);

/* Registration holds one reference; unregister drops it and waits until
 * every other reference is dropped (calling ops->request every interval),
 * then calls ops->release and frees the device. */
int uvfio_device_register(struct uvfio_device *dev);
void uvfio_device_unregister(struct uvfio_device *dev);
/* Free a device that was never registered. */
void uvfio_device_destroy(struct uvfio_device *dev);

/* Take a reference unless the device is being unregistered. */
bool uvfio_device_try_get(struct uvfio_device *dev);
void uvfio_device_put(struct uvfio_device *dev);

/* open_device runs on the first open, close_device on the last close. */
int uvfio_device_open(struct uvfio_device *dev);
void uvfio_device_close(struct uvfio_device *dev);
unsigned int uvfio_device_open_count(struct uvfio_device *dev);

/* ---- device info -------------------------------------------------------- */

/* VFIO_DEVICE_FLAGS_* (PCI, CDX, ...). RESET is added when ops->reset exists. */
void uvfio_device_set_flags(struct uvfio_device *dev, uint32_t flags);
/* Fills flags, num_regions, num_irqs (argsz < 16 -> -EINVAL). */
int uvfio_device_get_info(struct uvfio_device *dev, struct vfio_device_info *info);
int uvfio_device_reset(struct uvfio_device *dev);

/* ---- regions ------------------------------------------------------------ */

#define UVFIO_MAX_MMAP_AREAS 16

struct uvfio_mmap_area {
	uint64_t offset; /* relative to the region start */
	uint64_t size;
};

struct uvfio_region {
	uint32_t flags;	 /* VFIO_REGION_INFO_FLAG_READ | WRITE | MMAP */
	uint64_t size;
	uint64_t offset; /* reported offset: the bus driver's encoding; over
			    vfio-user, the offset of the region in mmap_fd */
	int mmap_fd;	 /* backing fd for MMAP regions, else -1; device-owned */
	/* Sparse mmap areas; none with MMAP set means the whole region. */
	uint32_t nr_areas;
	struct uvfio_mmap_area areas[UVFIO_MAX_MMAP_AREAS];
	/* VFIO_REGION_INFO_CAP_TYPE, for device-specific regions. */
	bool has_type;
	uint32_t type, subtype;
};

/* Regions are numbered 0..n-1; unset regions have size 0 and no flags. */
int uvfio_device_set_num_regions(struct uvfio_device *dev, uint32_t n);
int uvfio_device_set_region(struct uvfio_device *dev, uint32_t index,
			    const struct uvfio_region *region);
/* NULL when index >= num_regions. */
const struct uvfio_region *uvfio_device_region(struct uvfio_device *dev,
					       uint32_t index);
uint32_t uvfio_device_num_regions(struct uvfio_device *dev);

/*
 * VFIO_DEVICE_GET_REGION_INFO: `buf` holds a struct vfio_region_info whose
 * argsz is the caller's buffer size (<= buflen). On return the struct and
 * its capability chain (SPARSE_MMAP, TYPE) are filled as the kernel does: if
 * argsz is too small for the caps, argsz is raised to the size needed, CAPS
 * is set and cap_offset is 0. -EINVAL: argsz < 32, index out of range.
 */
int uvfio_device_region_info(struct uvfio_device *dev, void *buf, size_t buflen);

/* Region access with the core's checks (index, flag, bounds, overflow). */
ssize_t uvfio_device_read(struct uvfio_device *dev, uint32_t index,
			  uint64_t pos, void *buf, size_t count);
ssize_t uvfio_device_write(struct uvfio_device *dev, uint32_t index,
			   uint64_t pos, const void *buf, size_t count);

/* ---- ioeventfds (doorbells) --------------------------------------------- */

/*
 * A doorbell: a register whose writes need no answer. The device names
 * (region, offset, size[, value]); a vfio-user client that asks
 * DEVICE_GET_REGION_IO_FDS gets an eventfd for each and, instead of sending
 * a REGION_WRITE that matches one, writes 1 to its eventfd: no message, no
 * reply. It is KVM's ioeventfd, with KVM's semantics:
 *
 *   - A doorbell matches a write of exactly `size` bytes at exactly
 *     `offset`; with UVFIO_IOEVENTFD_DATAMATCH only of the value `datamatch`
 *     (little endian, as the bytes of the write). Every other write takes
 *     the usual path (REGION_WRITE, then ops->write).
 *   - Without DATAMATCH the value written is lost: the eventfd carries "it
 *     was written", not the data. When the value matters, declare one
 *     doorbell per value (DATAMATCH), or use a register whose value does
 *     not (a kick).
 *   - Asynchronous and unordered: the client's write returns once the
 *     eventfd is written, and the device sees it when the server's loop
 *     next runs, possibly after messages the client sent later (a
 *     REGION_READ right behind the doorbell may be answered first). An
 *     eventfd counts, it does not queue: rings that come before the device
 *     ran are delivered as one call. No error reaches the client.
 *   Declaring a doorbell is the device's promise that writes to it may
 *   arrive late and merged. A device whose register must be seen before
 *   the next access (a "start" bit that a driver then polls) must not.
 *
 * Delivery, on the thread that dispatches the server:
 *   - `notify` set: notify(dev, ev, count), count >= 1 being what the
 *     eventfd counted since the last call (the client may add any amount
 *     to its eventfd: a hint, not a fact).
 *   - `notify` NULL (DATAMATCH required): the write the doorbell stands
 *     for, uvfio_device_write(index, offset, datamatch, size), once per
 *     call -- the device's write op sees exactly what a REGION_WRITE of
 *     that value would show it, so a device needs no code for the fast
 *     path.
 *
 * Kernel VFIO clients write through the device fd as before (the kernel's
 * VFIO_DEVICE_IOEVENTFD is the other direction: it turns a KVM eventfd
 * into a write to the real device), so doorbells only matter over
 * vfio-user.
 */
#define UVFIO_IOEVENTFD_DATAMATCH (1u << 0)
#define UVFIO_MAX_IOEVENTFDS_PER_REGION 16u /* one reply's fds (QEMU takes 16) */
#define UVFIO_MAX_IOEVENTFDS 256u	    /* per device */

struct uvfio_ioeventfd {
	uint32_t index;	    /* region */
	uint32_t flags;	    /* UVFIO_IOEVENTFD_DATAMATCH */
	uint64_t offset;    /* in the region; a multiple of size */
	uint32_t size;	    /* 1, 2, 4 or 8 */
	uint64_t datamatch; /* with DATAMATCH: the value, < 2^(8*size) */
	void (*notify)(struct uvfio_device *dev, const struct uvfio_ioeventfd *ev,
		       uint64_t count);
	void *opaque;	    /* for notify */
};

/*
 * Declare a doorbell; `ev` is copied. Call it while setting the device up,
 * before any client opens it (-EBUSY once open; not from open_device).
 * -EINVAL: size not 1/2/4/8, offset not a multiple of it, [offset, +size)
 * outside the region or inside one of its mmap areas (a mapped register
 * never reaches the device), a region without WRITE, a datamatch wider
 * than size, unknown flags, no notify without DATAMATCH. -EEXIST: the
 * same (index, offset, size) is a doorbell already and either one has no
 * datamatch or both have the same (KVM's collision rule). -ENOSPC: more
 * than UVFIO_MAX_IOEVENTFDS_PER_REGION on the region or
 * UVFIO_MAX_IOEVENTFDS on the device.
 */
int uvfio_device_add_ioeventfd(struct uvfio_device *dev, const struct uvfio_ioeventfd *ev);

/*
 * For servers. The doorbells of region `index` in the order they were
 * added: up to `cap` are copied to `out`; returns how many there are (may
 * exceed cap), or -EINVAL for an index out of range.
 */
int uvfio_device_ioeventfds(struct uvfio_device *dev, uint32_t index,
			    struct uvfio_ioeventfd *out, size_t cap);
/*
 * For servers: the client rang doorbell `i` of region `index` (as listed
 * above) `count` times. Delivers it as described above; count 0 does
 * nothing. -EINVAL if there is no such doorbell.
 */
int uvfio_device_ioeventfd_signal(struct uvfio_device *dev, uint32_t index,
				  uint32_t i, uint64_t count);

/* ---- interrupts --------------------------------------------------------- */

int uvfio_device_set_num_irqs(struct uvfio_device *dev, uint32_t n);
/* flags: VFIO_IRQ_INFO_EVENTFD | MASKABLE | AUTOMASKED | NORESIZE */
int uvfio_device_set_irq_info(struct uvfio_device *dev, uint32_t index,
			      uint32_t count, uint32_t flags);
uint32_t uvfio_device_num_irqs(struct uvfio_device *dev);
/* VFIO_DEVICE_GET_IRQ_INFO: argsz < 16 or index out of range -> -EINVAL. */
int uvfio_device_irq_info(struct uvfio_device *dev, struct vfio_irq_info *info);

/*
 * VFIO_DEVICE_SET_IRQS. `data` follows the header as in the ioctl: u8 per
 * vector for DATA_BOOL, s32 fd per vector for DATA_EVENTFD (-1 de-assigns).
 * `data_len` is what the caller has after the header. The core dup()s the
 * eventfds it keeps; the caller keeps its own fds.
 */
int uvfio_device_set_irqs(struct uvfio_device *dev,
			  const struct vfio_irq_set *hdr, const void *data,
			  size_t data_len);
/* The generic action handler (trigger eventfds, mask/unmask, bool/none). */
int uvfio_irq_set_default(struct uvfio_device *dev,
			  const struct vfio_irq_set *hdr, const void *data);

/*
 * The device raises vector `vector` of IRQ `index`. Masked: it becomes
 * pending and is delivered on unmask. AUTOMASKED indexes (INTx) mask on
 * delivery. Returns 1 if an eventfd was signalled, 0 if not (no fd set,
 * masked), or a negative errno.
 */
int uvfio_irq_trigger(struct uvfio_device *dev, uint32_t index, uint32_t vector);
bool uvfio_irq_masked(struct uvfio_device *dev, uint32_t index, uint32_t vector);
bool uvfio_irq_pending(struct uvfio_device *dev, uint32_t index, uint32_t vector);
/* Device-side mask control (e.g. PCI MSI per-vector mask bits). */
void uvfio_irq_set_masked(struct uvfio_device *dev, uint32_t index,
			  uint32_t vector, bool masked);
/* Whether an eventfd is assigned to the vector. */
bool uvfio_irq_has_trigger(struct uvfio_device *dev, uint32_t index,
			   uint32_t vector);
/* Close every eventfd of every index (client gone, device closed). */
void uvfio_irq_release_all(struct uvfio_device *dev);

/* ---- VFIO_DEVICE_FEATURE ------------------------------------------------- */

/*
 * A feature handler runs after vfio_check_feature() succeeded with a GET or
 * a SET. `data` is the payload after {argsz, flags}; `len` is argsz - 8 (at
 * least minsz). For GET the handler writes up to `len` bytes and sets
 * *out_len to what it wrote. Returns 0 or a negative errno.
 */
typedef int (*uvfio_feature_fn)(struct uvfio_device *dev, uint32_t flags,
				void *data, size_t len, size_t *out_len);

struct uvfio_feature {
	uint16_t index;	 /* VFIO_DEVICE_FEATURE_* */
	uint32_t ops;	 /* VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET */
	size_t minsz;	 /* minimum data size for GET/SET */
	uvfio_feature_fn fn;
};

/*
 * Offer a feature. A device calls this only for features that really work
 * (e.g. from open_device once it knows). -EEXIST if the index is offered.
 * Migration (MIGRATION, MIG_DEVICE_STATE, MIG_DATA_SIZE) is offered by the
 * core when ops->mig_ops is set. Dirty logging (DMA_LOGGING_START, STOP,
 * REPORT) is offered by the core whenever the device has a DMA space; the
 * payloads are the vfio-user layouts (ranges and bitmap inline), see
 * core/dma_log_feature.c. Both kinds are refused here (-EEXIST / -EINVAL).
 */
int uvfio_device_add_feature(struct uvfio_device *dev, const struct uvfio_feature *f);
int uvfio_device_remove_feature(struct uvfio_device *dev, uint16_t index);

/*
 * VFIO_DEVICE_FEATURE with the kernel's order of checks: argsz < 8, unknown
 * flag bits, GET and SET without PROBE -> -EINVAL; index not offered ->
 * -ENOTTY; GET/SET the feature lacks -> -EINVAL (also under PROBE); PROBE
 * -> 0; data shorter than minsz -> -EINVAL. `buf` holds the struct
 * vfio_device_feature and `buflen` >= its argsz bytes. On GET, *reply_len is
 * 8 + the bytes the handler wrote; otherwise 8.
 */
int uvfio_device_feature(struct uvfio_device *dev, void *buf, size_t buflen,
			 size_t *reply_len);

/* ---- migration ----------------------------------------------------------- */

enum uvfio_mig_state uvfio_device_mig_state(struct uvfio_device *dev);
/* Walk the kernel's next-state table one arc at a time to `target`. */
int uvfio_device_mig_set_state(struct uvfio_device *dev, enum uvfio_mig_state target);
/* The kernel's vfio_mig_get_next_state(), for tests and tools. */
int uvfio_mig_next_state(uint64_t mig_flags, enum uvfio_mig_state cur,
			 enum uvfio_mig_state target, enum uvfio_mig_state *next);
/*
 * MIG_DATA_READ: valid in PRE_COPY*, STOP_COPY; returns bytes. In STOP_COPY
 * 0 is the end of the stream. In PRE_COPY* fewer bytes than asked (0 when
 * nothing is pending) is a temporary end: the kernel's read() says ENOMSG
 * there, vfio-user's MIG_DATA_READ replies short; more may come later.
 * mig_ops->save must therefore fill the buffer unless it is at such an end.
 */
ssize_t uvfio_device_mig_read(struct uvfio_device *dev, void *buf, size_t len);
/*
 * VFIO_MIG_GET_PRECOPY_INFO: bytes of the initial pass still to read and
 * bytes dirtied since. -EINVAL outside PRE_COPY* or without the op.
 */
int uvfio_device_mig_precopy_info(struct uvfio_device *dev, uint64_t *initial_bytes,
				  uint64_t *dirty_bytes);
/* MIG_DATA_WRITE: valid in RESUMING. */
int uvfio_device_mig_write(struct uvfio_device *dev, const void *buf, size_t len);

/* ---- DMA ----------------------------------------------------------------- */

/*
 * The DMA space of the device's current client (set by the server on
 * connect, NULL when none). The device accesses client memory through
 * uvfio_device_dma_read/write, which fail with -EPERM (and log) while bus
 * mastering is off, and -ENODEV without a client.
 */
void uvfio_device_set_dma(struct uvfio_device *dev, struct uvfio_dma *dma);
struct uvfio_dma *uvfio_device_dma(struct uvfio_device *dev);
void uvfio_device_set_bus_master(struct uvfio_device *dev, bool enabled);
bool uvfio_device_bus_master(struct uvfio_device *dev);
int uvfio_device_dma_read(struct uvfio_device *dev, uint64_t iova, void *buf,
			  size_t len);
int uvfio_device_dma_write(struct uvfio_device *dev, uint64_t iova,
			   const void *buf, size_t len);

/* Log a line naming this device. */
void uvfio_dev_log(struct uvfio_device *dev, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif
