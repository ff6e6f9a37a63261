/* SPDX-License-Identifier: MIT */
/*
 * vfio-user wire format: packed structs and constants of every message.
 *
 * Layouts follow QEMU's docs/interop/vfio-user.rst (the current spec) plus
 * the de-facto extras every peer relies on (DMA_UNMAP flag bits, the u64
 * count of DMA_READ/WRITE). All integers are host-endian. Payload offsets
 * are relative to the end of the 16-byte header.
 *
 * Private to libuvfio: the server and the client both include it.
 */
#ifndef UVFIO_USER_PROTO_H
#define UVFIO_USER_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* ---- versions ------------------------------------------------------------ */

#define VFIO_USER_MAJOR 0
#define VFIO_USER_MINOR 2 /* ours; a reply carries min(peer's minor, ours) */

/* ---- commands ------------------------------------------------------------ */

enum vfio_user_command {
	VFIO_USER_VERSION = 1,
	VFIO_USER_DMA_MAP = 2,
	VFIO_USER_DMA_UNMAP = 3,
	VFIO_USER_DEVICE_GET_INFO = 4,
	VFIO_USER_DEVICE_GET_REGION_INFO = 5,
	VFIO_USER_DEVICE_GET_REGION_IO_FDS = 6,
	VFIO_USER_DEVICE_GET_IRQ_INFO = 7,
	VFIO_USER_DEVICE_SET_IRQS = 8,
	VFIO_USER_REGION_READ = 9,
	VFIO_USER_REGION_WRITE = 10,
	VFIO_USER_DMA_READ = 11,	/* server -> client */
	VFIO_USER_DMA_WRITE = 12,	/* server -> client */
	VFIO_USER_DEVICE_RESET = 13,
	VFIO_USER_DIRTY_PAGES = 14,	/* removed with migration v1: rejected */
	VFIO_USER_REGION_WRITE_MULTI = 15,
	VFIO_USER_DEVICE_FEATURE = 16,
	VFIO_USER_MIG_DATA_READ = 17,
	VFIO_USER_MIG_DATA_WRITE = 18,
	VFIO_USER_MAX_CMD = 19,
};

/* ---- header ---------------------------------------------------------------- */

struct vfio_user_header {
	uint16_t msg_id;   /* chosen by the sender, echoed in the reply */
	uint16_t cmd;
	uint32_t msg_size; /* whole message, header included */
	uint32_t flags;
	uint32_t error_no; /* errno of an error reply; 0 in commands */
} __attribute__((packed));

#define VFIO_USER_F_TYPE_MASK	 0xfu
#define VFIO_USER_F_TYPE_COMMAND 0x0u
#define VFIO_USER_F_TYPE_REPLY	 0x1u
#define VFIO_USER_F_NO_REPLY	 0x10u /* not the legacy 0x1 of old headers */
#define VFIO_USER_F_ERROR	 0x20u
#define VFIO_USER_F_ALL \
	(VFIO_USER_F_TYPE_MASK | VFIO_USER_F_NO_REPLY | VFIO_USER_F_ERROR)

/* ---- limits ---------------------------------------------------------------- */

#define VFIO_USER_DEFAULT_MAX_DATA_XFER (1u << 20) /* spec default: 1 MiB */
/* QEMU refuses a server value above this; we never advertise or accept more. */
#define VFIO_USER_MAX_MAX_DATA_XFER	(64u << 20)
/*
 * Largest fixed part that precedes a max_data_xfer_size-bounded data block:
 * header (16) + DMA_UNMAP struct (24) + bitmap header (16) = 56 is the
 * biggest; round up so a message never exceeds xfer + 64.
 */
#define VFIO_USER_MSG_OVERHEAD		64u
#define VFIO_USER_MAX_MSG_SIZE(xfer)	((uint64_t)(xfer) + VFIO_USER_MSG_OVERHEAD)

#define VFIO_USER_DEFAULT_MAX_FDS	1u  /* peer's max_msg_fds when absent */
#define VFIO_USER_SERVER_MAX_FDS	16u /* what we receive; QEMU refuses > 16 */
#define VFIO_USER_KERNEL_MAX_FDS	253u /* SCM_MAX_FD: one sendmsg's limit */
#define VFIO_USER_DEFAULT_PGSIZES	4096u
#define VFIO_USER_DEFAULT_MAX_DMA_MAPS	65535u
/* VERSION's JSON, NUL included: generous for real peers (QEMU sends ~200 B). */
#define VFIO_USER_MAX_CAPS_JSON		4096u
/* REGION_WRITE_MULTI: QEMU batches at most 200 writes of at most 8 bytes. */
#define VFIO_USER_MULTI_MAX		200u
#define VFIO_USER_MULTI_DATA		8u

/* ---- VERSION (1) ------------------------------------------------------------- */

struct vfio_user_version {
	uint16_t major;
	uint16_t minor;
	char caps[]; /* optional NUL-terminated JSON */
} __attribute__((packed));

/* ---- DMA_MAP (2) / DMA_UNMAP (3) ---------------------------------------------- */

#define VFIO_USER_F_DMA_REGION_READ  (1u << 0)
#define VFIO_USER_F_DMA_REGION_WRITE (1u << 1)

struct vfio_user_dma_map {
	uint32_t argsz; /* = sizeof(struct vfio_user_dma_map) */
	uint32_t flags;
	uint64_t offset; /* in the passed fd; 0 without fd */
	uint64_t addr;	 /* IOVA */
	uint64_t size;
} __attribute__((packed));

/* Not in the spec text ("unused") but sent by QEMU / handled by libvfio-user. */
#define VFIO_USER_F_DMA_UNMAP_GET_DIRTY_BITMAP (1u << 0)
#define VFIO_USER_F_DMA_UNMAP_ALL	       (1u << 1) /* addr = size = 0 */

struct vfio_user_bitmap {
	uint64_t pgsize;
	uint64_t size; /* bytes of bitmap data that follow */
} __attribute__((packed));

struct vfio_user_dma_unmap {
	uint32_t argsz;
	uint32_t flags;
	uint64_t addr;
	uint64_t size;
	/* GET_DIRTY_BITMAP: struct vfio_user_bitmap, then (reply) the bitmap */
} __attribute__((packed));

/* ---- DEVICE_GET_INFO (4) -------------------------------------------------------- */

#define VFIO_USER_F_DEVICE_RESET (1u << 0)
#define VFIO_USER_F_DEVICE_PCI	 (1u << 1)

struct vfio_user_device_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t num_regions;
	uint32_t num_irqs;
} __attribute__((packed));

/* ---- DEVICE_GET_REGION_INFO (5): struct vfio_region_info + cap chain ------------- */

#define VFIO_USER_F_REGION_READ	 (1u << 0)
#define VFIO_USER_F_REGION_WRITE (1u << 1)
#define VFIO_USER_F_REGION_MMAP	 (1u << 2) /* an fd comes with the full reply */
#define VFIO_USER_F_REGION_CAPS	 (1u << 3)

struct vfio_user_region_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t cap_offset; /* from the start of this struct; 0: none */
	uint64_t size;
	uint64_t offset; /* where to mmap in the region's fd */
} __attribute__((packed));

struct vfio_user_cap_header {
	uint16_t id;
	uint16_t version;
	uint32_t next; /* from the start of the region info; 0 ends the chain */
} __attribute__((packed));

#define VFIO_USER_CAP_SPARSE_MMAP 1 /* version 1 */
#define VFIO_USER_CAP_TYPE	  2 /* version 1 */

struct vfio_user_sparse_area {
	uint64_t offset; /* relative to the region's offset */
	uint64_t size;
} __attribute__((packed));

struct vfio_user_cap_sparse_mmap {
	struct vfio_user_cap_header header;
	uint32_t nr_areas;
	uint32_t reserved;
	struct vfio_user_sparse_area areas[];
} __attribute__((packed));

struct vfio_user_cap_type {
	struct vfio_user_cap_header header;
	uint32_t type;
	uint32_t subtype;
} __attribute__((packed));

/* Longest region-info reply we build or accept: struct + generous caps. */
#define VFIO_USER_MAX_REGION_INFO 4096u

/* ---- DEVICE_GET_REGION_IO_FDS (6) ------------------------------------------------- */

struct vfio_user_region_io_fds {
	uint32_t argsz;
	uint32_t flags; /* 0 */
	uint32_t index;
	uint32_t count; /* entries that follow (reply) */
} __attribute__((packed));

#define VFIO_USER_IO_FD_TYPE_IOEVENTFD	 0
#define VFIO_USER_IO_FD_TYPE_IOREGIONFD	 1
#define VFIO_USER_IO_FD_TYPE_SHADOW	 2 /* libvfio-user's shadow ioeventfd */
/* An ioeventfd entry's flags are KVM's KVM_IOEVENTFD_FLAG_*. */
#define VFIO_USER_IOEVENTFD_DATAMATCH	 (1u << 0) /* KVM_IOEVENTFD_FLAG_DATAMATCH */
#define VFIO_USER_IOEVENTFD_PIO		 (1u << 1) /* KVM_IOEVENTFD_FLAG_PIO */

/* The spec's 40-byte entry (libvfio-user uses a 48-byte variant: §4.7). */
struct vfio_user_sub_region_ioeventfd {
	uint64_t offset;
	uint64_t size;
	uint32_t fd_index;
	uint32_t type;
	uint32_t flags;
	uint32_t padding;
	uint64_t datamatch;
} __attribute__((packed));

/* ---- DEVICE_GET_IRQ_INFO (7) / DEVICE_SET_IRQS (8) ------------------------------- */

struct vfio_user_irq_info {
	uint32_t argsz;
	uint32_t flags; /* VFIO_IRQ_INFO_* */
	uint32_t index;
	uint32_t count;
} __attribute__((packed));

struct vfio_user_irq_set {
	uint32_t argsz;
	uint32_t flags; /* VFIO_IRQ_SET_DATA_* | VFIO_IRQ_SET_ACTION_* */
	uint32_t index;
	uint32_t start;
	uint32_t count;
	/* DATA_BOOL: u8[count]; DATA_EVENTFD: count fds in SCM_RIGHTS, or none */
} __attribute__((packed));

/* ---- REGION_READ (9) / REGION_WRITE (10) ------------------------------------------- */

struct vfio_user_region_access {
	uint64_t offset; /* inside the region */
	uint32_t region;
	uint32_t count;
	uint8_t data[]; /* READ reply / WRITE request */
} __attribute__((packed));

/* ---- DMA_READ (11) / DMA_WRITE (12), server -> client ----------------------------- */

/*
 * u64 count, data at payload offset 16 (spec, libvfio-user). QEMU's
 * protocol.h still declares a u32 count (data at 12): see reference §4.1.
 */
struct vfio_user_dma_region_access {
	uint64_t addr;
	uint64_t count;
	uint8_t data[]; /* READ reply / WRITE request */
} __attribute__((packed));

/*
 * QEMU's VFIOUserDMARW (hw/vfio-user/protocol.h): the pre-2021 u32 count,
 * data at payload offset 12. Accepted in DMA_READ replies and used for
 * DMA_WRITE requests once a peer has shown it speaks it (reference §4.1).
 */
struct vfio_user_dma_region_access_u32 {
	uint64_t addr;
	uint32_t count;
	uint8_t data[];
} __attribute__((packed));

/* ---- REGION_WRITE_MULTI (15) --------------------------------------------------------- */

struct vfio_user_write_multi_data {
	uint64_t offset;
	uint32_t region;
	uint32_t count; /* <= VFIO_USER_MULTI_DATA */
	uint8_t data[VFIO_USER_MULTI_DATA];
} __attribute__((packed));

struct vfio_user_write_multi {
	uint64_t wr_cnt; /* request: entries that follow; reply: entries done */
	struct vfio_user_write_multi_data wrs[];
} __attribute__((packed));

/* ---- DEVICE_FEATURE (16): mirror of struct vfio_device_feature --------------------- */

struct vfio_user_device_feature {
	uint32_t argsz;
	uint32_t flags; /* index | VFIO_DEVICE_FEATURE_GET/SET/PROBE */
	uint8_t data[];
} __attribute__((packed));

/* ---- MIG_DATA_READ (17) / MIG_DATA_WRITE (18) ---------------------------------------- */

struct vfio_user_mig_data {
	uint32_t argsz;
	uint32_t size; /* READ request: wanted; READ reply / WRITE: bytes of data */
	uint8_t data[];
} __attribute__((packed));

/* ---- sizes, checked once here so a layout slip fails the build ---------------------- */

_Static_assert(sizeof(struct vfio_user_header) == 16, "header");
_Static_assert(sizeof(struct vfio_user_version) == 4, "version");
_Static_assert(sizeof(struct vfio_user_dma_map) == 32, "dma_map");
_Static_assert(sizeof(struct vfio_user_dma_unmap) == 24, "dma_unmap");
_Static_assert(sizeof(struct vfio_user_bitmap) == 16, "bitmap");
_Static_assert(sizeof(struct vfio_user_device_info) == 16, "device_info");
_Static_assert(sizeof(struct vfio_user_region_info) == 32, "region_info");
_Static_assert(sizeof(struct vfio_user_cap_header) == 8, "cap_header");
_Static_assert(sizeof(struct vfio_user_cap_sparse_mmap) == 16, "sparse cap");
_Static_assert(sizeof(struct vfio_user_sparse_area) == 16, "sparse area");
_Static_assert(sizeof(struct vfio_user_cap_type) == 16, "type cap");
_Static_assert(sizeof(struct vfio_user_region_io_fds) == 16, "io_fds");
_Static_assert(sizeof(struct vfio_user_sub_region_ioeventfd) == 40, "ioeventfd");
_Static_assert(sizeof(struct vfio_user_irq_info) == 16, "irq_info");
_Static_assert(sizeof(struct vfio_user_irq_set) == 20, "irq_set");
_Static_assert(sizeof(struct vfio_user_region_access) == 16, "region_access");
_Static_assert(offsetof(struct vfio_user_dma_region_access, data) == 16, "dma_rw");
_Static_assert(offsetof(struct vfio_user_dma_region_access_u32, data) == 12, "dma_rw u32");
_Static_assert(sizeof(struct vfio_user_write_multi_data) == 24, "multi entry");
_Static_assert(sizeof(struct vfio_user_write_multi) == 8, "multi");
_Static_assert(sizeof(struct vfio_user_device_feature) == 8, "feature");
_Static_assert(sizeof(struct vfio_user_mig_data) == 8, "mig_data");
_Static_assert(16 + sizeof(struct vfio_user_dma_unmap) + sizeof(struct vfio_user_bitmap)
	       <= VFIO_USER_MSG_OVERHEAD, "overhead covers every fixed part");

#endif
