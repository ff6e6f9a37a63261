/* SPDX-License-Identifier: MIT */
/*
 * vfio-user codec: pure functions from bytes to validated message fields and
 * back. No I/O, no allocation, no global state: fuzzable on its own.
 *
 * Conventions
 *   - `p, len`: a payload (the bytes after the 16-byte header, len =
 *     msg_size - 16). Nothing beyond p[len-1] is ever read.
 *   - Parsers return 0 or -EINVAL (malformed: payload shorter than the
 *     command's struct, argsz below the struct, count above max_xfer, an
 *     offset+count that wraps, data length not matching count, unknown flag
 *     bits the protocol defines as reserved). Pointers they return (data,
 *     caps) point into `p` and may be unaligned: memcpy from them.
 *   - Encoders write the payload (never the header) into `buf`/`cap` and
 *     return its length, or -ENOSPC when it does not fit, or -EINVAL for
 *     arguments that would make an invalid message. Data may already sit
 *     at its place in buf (it is moved, not copied): a server reads
 *     straight into the reply.
 *   - Request = command sent by the side that issues it (client for most,
 *     server for DMA_READ/WRITE); reply = the answer to it.
 *   - Semantic checks that need the device (index ranges, alignment, states)
 *     belong to core/; the codec checks the message against itself.
 */
#ifndef UVFIO_USER_CODEC_H
#define UVFIO_USER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "user/proto.h"

/* ---- header ---------------------------------------------------------------- */

/*
 * Validate a received header (len >= 16 bytes at buf). *out is filled even on
 * error so the caller can answer with the right msg_id/cmd.
 *   -EINVAL    msg_size < 16; type bits neither command nor reply; unknown
 *              flag bits; Error bit on a command; an error reply with payload
 *   -EMSGSIZE  msg_size > max_msg_size: the stream cannot be resynchronised
 */
int vu_hdr_parse(const void *buf, size_t len, uint32_t max_msg_size,
		 struct vfio_user_header *out);
void vu_hdr_encode(void *buf, uint16_t msg_id, uint16_t cmd,
		   uint32_t payload_len, uint32_t flags, uint32_t error_no);
/* An error reply to `req`: Reply|Error, non-zero errno (0 becomes EINVAL). */
void vu_hdr_encode_error(void *buf, const struct vfio_user_header *req, int err);

static inline bool vu_hdr_is_reply(const struct vfio_user_header *h)
{
	return (h->flags & VFIO_USER_F_TYPE_MASK) == VFIO_USER_F_TYPE_REPLY;
}
static inline bool vu_hdr_no_reply(const struct vfio_user_header *h)
{
	return h->flags & VFIO_USER_F_NO_REPLY;
}
static inline bool vu_hdr_is_error(const struct vfio_user_header *h)
{
	return h->flags & VFIO_USER_F_ERROR;
}
/* Payload length of a header that vu_hdr_parse() accepted. */
static inline size_t vu_hdr_payload_len(const struct vfio_user_header *h)
{
	return h->msg_size >= sizeof(*h) ? h->msg_size - sizeof(*h) : 0;
}

/*
 * How many fds message (cmd, reply?) may carry: DMA_MAP request 1,
 * SET_IRQS request `max_fds`, REGION_INFO reply 1, REGION_IO_FDS reply and
 * VERSION reply (twin socket) `max_fds`, everything else 0.
 * Returns 0 if nfds is allowed, else -EINVAL.
 */
int vu_cmd_check_fds(uint16_t cmd, bool reply, size_t nfds, uint32_t max_fds);
const char *vu_cmd_name(uint16_t cmd);

/* ---- VERSION (1): same layout both ways ---------------------------------------- */

struct vu_version {
	uint16_t major, minor;
	const char *caps; /* JSON without its NUL, NULL if absent */
	size_t caps_len;
};
/* The JSON, if any, must end the payload with its NUL and fit VFIO_USER_MAX_CAPS_JSON. */
int vu_version_req_parse(const void *p, size_t len, struct vu_version *out);
ssize_t vu_version_req_encode(void *buf, size_t cap, uint16_t major,
			      uint16_t minor, const char *json);
int vu_version_rep_parse(const void *p, size_t len, struct vu_version *out);
ssize_t vu_version_rep_encode(void *buf, size_t cap, uint16_t major,
			      uint16_t minor, const char *json);

/* ---- DMA_MAP (2) ----------------------------------------------------------------- */

/* flags other than READ|WRITE -> -EINVAL; alignment is the DMA space's rule. */
int vu_dma_map_req_parse(const void *p, size_t len, struct vfio_user_dma_map *out);
ssize_t vu_dma_map_req_encode(void *buf, size_t cap, uint32_t flags,
			      uint64_t fd_offset, uint64_t iova, uint64_t size);
int vu_dma_map_rep_parse(const void *p, size_t len);
ssize_t vu_dma_map_rep_encode(void *buf, size_t cap);

/* ---- DMA_UNMAP (3) --------------------------------------------------------------- */

struct vu_dma_unmap {
	uint32_t argsz, flags;
	uint64_t addr, size;
	bool dirty;			/* GET_DIRTY_BITMAP: bitmap is valid */
	struct vfio_user_bitmap bitmap; /* pgsize, size (bytes, <= max_xfer) */
	const void *bits;		/* reply only: bitmap.size bytes */
};
/*
 * Unknown flags, ALL with addr/size != 0, ALL with GET_DIRTY_BITMAP, a dirty
 * request without its bitmap header or with bitmap.size > max_xfer or
 * pgsize 0 -> -EINVAL.
 */
int vu_dma_unmap_req_parse(const void *p, size_t len, uint32_t max_xfer,
			   struct vu_dma_unmap *out);
ssize_t vu_dma_unmap_req_encode(void *buf, size_t cap, uint32_t flags,
				uint64_t addr, uint64_t size,
				const struct vfio_user_bitmap *bitmap);
int vu_dma_unmap_rep_parse(const void *p, size_t len, uint32_t max_xfer,
			   struct vu_dma_unmap *out);
/* Echo of the request (+ bitmap header and `bits` when req->dirty). */
ssize_t vu_dma_unmap_rep_encode(void *buf, size_t cap,
				const struct vu_dma_unmap *req, const void *bits);

/* ---- DEVICE_GET_INFO (4) ----------------------------------------------------------- */

int vu_device_info_req_parse(const void *p, size_t len,
			     struct vfio_user_device_info *out);
ssize_t vu_device_info_req_encode(void *buf, size_t cap);
int vu_device_info_rep_parse(const void *p, size_t len,
			     struct vfio_user_device_info *out);
ssize_t vu_device_info_rep_encode(void *buf, size_t cap, uint32_t flags,
				  uint32_t num_regions, uint32_t num_irqs);

/* ---- DEVICE_GET_REGION_INFO (5) ------------------------------------------------------ */

#define VU_MAX_SPARSE_AREAS 16

struct vu_region_caps {
	bool has_sparse;
	uint32_t nr_areas;
	struct vfio_user_sparse_area areas[VU_MAX_SPARSE_AREAS];
	bool has_type;
	uint32_t type, subtype;
};

/* argsz < 32 -> -EINVAL. out->argsz is the reply space the peer offers. */
int vu_region_info_req_parse(const void *p, size_t len,
			     struct vfio_user_region_info *out);
ssize_t vu_region_info_req_encode(void *buf, size_t cap, uint32_t index,
				  uint32_t argsz);
/*
 * Reply: the struct and, when CAPS is set and cap_offset != 0, the chain,
 * walked with every cap inside the payload, strictly increasing offsets
 * (no loops), at most 16 caps, sparse nr_areas <= VU_MAX_SPARSE_AREAS.
 * Unknown cap ids are skipped. `caps` may be NULL.
 */
int vu_region_info_rep_parse(const void *p, size_t len,
			     struct vfio_user_region_info *out,
			     struct vu_region_caps *caps);
/* `info` is a struct vfio_user_region_info followed by its chain (info_len bytes). */
ssize_t vu_region_info_rep_encode(void *buf, size_t cap, const void *info,
				  size_t info_len);

/* ---- DEVICE_GET_REGION_IO_FDS (6) ----------------------------------------------------- */

int vu_region_io_fds_req_parse(const void *p, size_t len,
			       struct vfio_user_region_io_fds *out);
ssize_t vu_region_io_fds_req_encode(void *buf, size_t cap, uint32_t index,
				    uint32_t argsz);
/*
 * The reply. Entries are the spec's 40 bytes, or libvfio-user's 48 (its
 * shadow fields inserted, datamatch at +40; interop hazard 7): the stride
 * is (argsz - 16) / count, and any other stride is -EINVAL. *ents is NULL
 * and *stride 0 when no entries came (count 0, or argsz larger than the
 * reply: offer that much and ask again).
 */
int vu_region_io_fds_rep_parse(const void *p, size_t len,
			       struct vfio_user_region_io_fds *out,
			       const void **ents, size_t *stride);
/* Entry i (< count) of a parsed reply, in the spec's struct whatever the layout. */
void vu_region_io_fds_entry(const void *ents, size_t stride, uint32_t i,
			    struct vfio_user_sub_region_ioeventfd *out);
/* Entries are included only if they fit `argsz_offered`; argsz says what is needed. */
ssize_t vu_region_io_fds_rep_encode(void *buf, size_t cap, uint32_t index,
				    uint32_t argsz_offered,
				    const struct vfio_user_sub_region_ioeventfd *ents,
				    uint32_t count);

/* ---- DEVICE_GET_IRQ_INFO (7) ----------------------------------------------------------- */

int vu_irq_info_req_parse(const void *p, size_t len, struct vfio_user_irq_info *out);
ssize_t vu_irq_info_req_encode(void *buf, size_t cap, uint32_t index);
int vu_irq_info_rep_parse(const void *p, size_t len, struct vfio_user_irq_info *out);
ssize_t vu_irq_info_rep_encode(void *buf, size_t cap,
			       const struct vfio_user_irq_info *info);

/* ---- DEVICE_SET_IRQS (8) ------------------------------------------------------------- */

struct vu_set_irqs {
	struct vfio_user_irq_set s;
	const uint8_t *bools; /* DATA_BOOL: s.count bytes */
};
/*
 * nfds = fds received with the message. Unknown flag bits, not exactly one
 * DATA and one ACTION bit, start+count wrapping, DATA_BOOL with fewer than
 * count bytes, DATA_EVENTFD with nfds not 0 or count, fds with another DATA
 * type -> -EINVAL. DATA_EVENTFD with nfds 0 means de-assign.
 */
int vu_set_irqs_req_parse(const void *p, size_t len, size_t nfds,
			  struct vu_set_irqs *out);
/* bools: count bytes for DATA_BOOL, else NULL (eventfds travel as fds). */
ssize_t vu_set_irqs_req_encode(void *buf, size_t cap, uint32_t flags,
			       uint32_t index, uint32_t start, uint32_t count,
			       const uint8_t *bools);
int vu_set_irqs_rep_parse(const void *p, size_t len);
ssize_t vu_set_irqs_rep_encode(void *buf, size_t cap);

/* ---- REGION_READ (9) / REGION_WRITE (10) ---------------------------------------------- */

struct vu_region_access {
	uint64_t offset;
	uint32_t region, count;
	const uint8_t *data; /* WRITE request / READ reply */
};
int vu_region_read_req_parse(const void *p, size_t len, uint32_t max_xfer,
			     struct vu_region_access *out);
ssize_t vu_region_read_req_encode(void *buf, size_t cap, uint32_t region,
				  uint64_t offset, uint32_t count);
/* count <= max_xfer and count data bytes present (a short count is fine). */
int vu_region_read_rep_parse(const void *p, size_t len, uint32_t max_xfer,
			     struct vu_region_access *out);
ssize_t vu_region_read_rep_encode(void *buf, size_t cap, uint32_t region,
				  uint64_t offset, const void *data, uint32_t count);
/* The data length must equal count. */
int vu_region_write_req_parse(const void *p, size_t len, uint32_t max_xfer,
			      struct vu_region_access *out);
ssize_t vu_region_write_req_encode(void *buf, size_t cap, uint32_t region,
				   uint64_t offset, const void *data, uint32_t count);
int vu_region_write_rep_parse(const void *p, size_t len, struct vu_region_access *out);
ssize_t vu_region_write_rep_encode(void *buf, size_t cap, uint32_t region,
				   uint64_t offset, uint32_t count);

/* ---- DMA_READ (11) / DMA_WRITE (12): requests come from the server --------------------- */

struct vu_dma_access {
	uint64_t addr, count;
	const uint8_t *data; /* WRITE request / READ reply */
	bool narrow;	     /* READ reply in QEMU's u32-count layout */
};
int vu_dma_read_req_parse(const void *p, size_t len, uint32_t max_xfer,
			  struct vu_dma_access *out);
ssize_t vu_dma_read_req_encode(void *buf, size_t cap, uint64_t addr, uint64_t count);
/*
 * count <= max_xfer and exactly count data bytes. The spec's layout (u64
 * count, data at 16) is tried first; if the length doesn't fit it, QEMU's
 * (u32 count, data at 12) is accepted and out->narrow set. The two can't
 * both fit one length, so the choice is never ambiguous.
 */
int vu_dma_read_rep_parse(const void *p, size_t len, uint32_t max_xfer,
			  struct vu_dma_access *out);
ssize_t vu_dma_read_rep_encode(void *buf, size_t cap, uint64_t addr,
			       const void *data, uint64_t count);
int vu_dma_write_req_parse(const void *p, size_t len, uint32_t max_xfer,
			   struct vu_dma_access *out);
ssize_t vu_dma_write_req_encode(void *buf, size_t cap, uint64_t addr,
				const void *data, uint64_t count);
/* QEMU's u32-count layout, for a peer that answered DMA_READ in it. */
ssize_t vu_dma_write_req_encode_u32(void *buf, size_t cap, uint64_t addr,
				    const void *data, uint32_t count);
/* QEMU answers with the header only: len 0 is accepted (out->count = 0). */
int vu_dma_write_rep_parse(const void *p, size_t len, struct vu_dma_access *out);
ssize_t vu_dma_write_rep_encode(void *buf, size_t cap, uint64_t addr, uint64_t count);

/* ---- DEVICE_RESET (13): no payload -------------------------------------------------- */

int vu_reset_req_parse(const void *p, size_t len);
ssize_t vu_reset_req_encode(void *buf, size_t cap);
int vu_reset_rep_parse(const void *p, size_t len);
ssize_t vu_reset_rep_encode(void *buf, size_t cap);

/* ---- REGION_WRITE_MULTI (15) ------------------------------------------------------------ */

struct vu_write_multi {
	uint64_t wr_cnt;
	const void *wrs; /* wr_cnt entries of struct vfio_user_write_multi_data */
};
/* wr_cnt 0 or > VFIO_USER_MULTI_MAX, entries missing, an entry's count > 8
 * or offset+count wrapping -> -EINVAL. */
int vu_write_multi_req_parse(const void *p, size_t len, struct vu_write_multi *out);
void vu_write_multi_entry(const struct vu_write_multi *m, uint64_t i,
			  struct vfio_user_write_multi_data *out);
ssize_t vu_write_multi_req_encode(void *buf, size_t cap,
				  const struct vfio_user_write_multi_data *wrs,
				  uint64_t n);
int vu_write_multi_rep_parse(const void *p, size_t len, uint64_t *wr_cnt);
ssize_t vu_write_multi_rep_encode(void *buf, size_t cap, uint64_t wr_cnt);

/* ---- DEVICE_FEATURE (16) ------------------------------------------------------------------ */

struct vu_feature {
	uint32_t argsz, flags;
	const uint8_t *data;
	size_t data_len; /* bytes after {argsz, flags} in this message */
};
/* argsz < 8 -> -EINVAL; flag semantics are the core's (vfio_check_feature). */
int vu_feature_req_parse(const void *p, size_t len, struct vu_feature *out);
ssize_t vu_feature_req_encode(void *buf, size_t cap, uint32_t argsz,
			      uint32_t flags, const void *data, size_t data_len);
int vu_feature_rep_parse(const void *p, size_t len, struct vu_feature *out);
/* argsz = 8 + data_len */
ssize_t vu_feature_rep_encode(void *buf, size_t cap, uint32_t flags,
			      const void *data, size_t data_len);

/* ---- MIG_DATA_READ (17) / MIG_DATA_WRITE (18) --------------------------------------------- */

struct vu_mig_data {
	uint32_t argsz, size;
	const uint8_t *data; /* READ reply / WRITE request */
};
/* size > max_xfer -> -EINVAL */
int vu_mig_read_req_parse(const void *p, size_t len, uint32_t max_xfer,
			  struct vu_mig_data *out);
ssize_t vu_mig_read_req_encode(void *buf, size_t cap, uint32_t size);
/* Uses the size field, not the payload length (§4.6): size <= len - 8. */
int vu_mig_read_rep_parse(const void *p, size_t len, uint32_t max_xfer,
			  struct vu_mig_data *out);
ssize_t vu_mig_read_rep_encode(void *buf, size_t cap, const void *data, uint32_t n);
/* size > max_xfer or data length != size -> -EINVAL */
int vu_mig_write_req_parse(const void *p, size_t len, uint32_t max_xfer,
			   struct vu_mig_data *out);
ssize_t vu_mig_write_req_encode(void *buf, size_t cap, const void *data, uint32_t n);
int vu_mig_write_rep_parse(const void *p, size_t len);
ssize_t vu_mig_write_rep_encode(void *buf, size_t cap);

/* ---- VERSION capabilities JSON (caps_json.c) ----------------------------------------------- */

struct vu_caps {
	uint32_t max_msg_fds;	     /* default 1 */
	uint32_t max_data_xfer_size; /* default 1 MiB */
	uint64_t pgsizes;	     /* default 4096 */
	uint32_t max_dma_maps;	     /* default 65535 */
	bool write_multiple;	     /* default false */
	bool twin_socket;	     /* twin_socket.supported */
	bool has_twin_fd_index;
	uint32_t twin_fd_index;
	bool has_migration;	     /* legacy object, tolerated */
	uint64_t mig_pgsize;
	uint64_t mig_max_bitmap_size;
	bool has_vf_token;	     /* "vf_token": UUID string (uvfio extension) */
	uint8_t vf_token[16];
};

#define VU_CAPS_MAX_DEPTH 8 /* nesting of objects/arrays, top level = 1 */

/* The protocol's defaults: what a peer that sends no JSON gets. */
void vu_caps_defaults(struct vu_caps *caps);
/*
 * Parse `json` (len bytes, no NUL needed). Starts from the defaults; reads
 * {"capabilities": {...}}; ignores unknown keys at any level; tolerates the
 * legacy "migration" object. -EINVAL: malformed JSON, trailing garbage, a
 * known key with the wrong type or out of range (max_data_xfer_size 0 or
 * > 4 GiB, pgsizes 0, ...), nesting > VU_CAPS_MAX_DEPTH, len >
 * VFIO_USER_MAX_CAPS_JSON.
 */
int vu_caps_parse(const char *json, size_t len, struct vu_caps *caps);
/* Emit NUL-terminated JSON; returns strlen or -ENOSPC. Only non-default
 * optional parts (twin_socket, migration) are omitted when unset. */
ssize_t vu_caps_emit(const struct vu_caps *caps, char *buf, size_t cap);

#endif
