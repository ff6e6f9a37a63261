/* SPDX-License-Identifier: MIT */
/*
 * A device's migration stream: a tiny versioned TLV format, so every device
 * saves and loads its state the same way and a loader never trusts a size.
 *
 *   stream  := header record* END
 *   header  := magic u32 "UVMS" | format u16 (1) | reserved u16 (0) |
 *              type char[16] (NUL padded, e.g. "edu") | version u32 |
 *              id u64 (the device's identity, e.g. PCI vendor:device)
 *   record  := tag u16 | reserved u16 (0) | len u32 | value[len]
 *   END     := tag 0xffff, len 0; nothing may follow it
 *
 * All integers little endian. A record's value may itself be a sequence of
 * records (a nested section, e.g. the PCI function inside a device stream).
 *
 * Loading is strict: the whole framing is checked before the first record
 * is handed out (so a stream cut at any byte fails with -EINVAL), a wrong
 * magic, format, type, version or id fails with -EINVAL and a log line
 * naming both sides, and a loader checks each value's exact length.
 */
#ifndef UVFIO_MIG_STREAM_H
#define UVFIO_MIG_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UVFIO_MIG_MAGIC 0x534d5655u /* "UVMS" */
#define UVFIO_MIG_FORMAT 1u
#define UVFIO_MIG_TAG_END 0xffffu
#define UVFIO_MIG_HDR_SIZE 36u
#define UVFIO_MIG_REC_SIZE 8u
#define UVFIO_MIG_TYPE_LEN 16u

/* Who a stream is for; loading into anything else fails. */
struct uvfio_mig_id {
	const char *type; /* < 16 chars */
	uint32_t version; /* the device's stream version */
	uint64_t id;	  /* device identity (IDs, geometry) */
};

/* ---- writer: a growing buffer ---------------------------------------------- */

struct uvfio_mig_writer {
	uint8_t *buf;
	size_t len, cap;
	size_t limit; /* 0: 64 MiB */
	int err;      /* first error; later puts are no-ops */
	size_t open[4]; /* offsets of open nested sections' length fields */
	unsigned int depth;
};

void uvfio_mig_writer_init(struct uvfio_mig_writer *w, size_t limit);
void uvfio_mig_writer_fini(struct uvfio_mig_writer *w);
void uvfio_mig_put_header(struct uvfio_mig_writer *w, const struct uvfio_mig_id *id);
void uvfio_mig_put(struct uvfio_mig_writer *w, uint16_t tag, const void *val, size_t len);
void uvfio_mig_put_u8(struct uvfio_mig_writer *w, uint16_t tag, uint8_t v);
void uvfio_mig_put_u32(struct uvfio_mig_writer *w, uint16_t tag, uint32_t v);
void uvfio_mig_put_u64(struct uvfio_mig_writer *w, uint16_t tag, uint64_t v);
/* A nested section: records put until section_end form its value. */
void uvfio_mig_section_begin(struct uvfio_mig_writer *w, uint16_t tag);
void uvfio_mig_section_end(struct uvfio_mig_writer *w);
/* Append END. Returns w->err (0, -ENOMEM, -E2BIG, -EINVAL). */
int uvfio_mig_put_end(struct uvfio_mig_writer *w);

/* ---- reader ----------------------------------------------------------------- */

struct uvfio_mig_reader {
	const uint8_t *p;
	size_t len, pos;
};

/*
 * Check a whole stream (header, expected identity, framing, END last) and
 * leave `r` on its first record. `who` names the device in the log line.
 * -EINVAL for anything wrong.
 */
int uvfio_mig_open(struct uvfio_mig_reader *r, const void *buf, size_t len,
		   const struct uvfio_mig_id *expect, const char *who);
/* A reader over a nested section's value (framing checked here too). */
int uvfio_mig_open_section(struct uvfio_mig_reader *r, const void *val, size_t len);
/*
 * Next record: 1 with tag/val/len set, 0 at END (or the end of a section),
 * -EINVAL on a framing error.
 */
int uvfio_mig_next(struct uvfio_mig_reader *r, uint16_t *tag, const void **val,
		   size_t *len);
/* Value getters: -EINVAL unless len is exactly the size. */
int uvfio_mig_get_u8(const void *val, size_t len, uint8_t *out);
int uvfio_mig_get_u32(const void *val, size_t len, uint32_t *out);
int uvfio_mig_get_u64(const void *val, size_t len, uint64_t *out);
int uvfio_mig_get_bytes(const void *val, size_t len, void *out, size_t size);

/* ---- pieces, for devices that stream their state in and out incrementally ---- */

/* Header bytes (UVFIO_MIG_HDR_SIZE) for `id`; -EINVAL if the type is too long. */
int uvfio_mig_encode_header(uint8_t *p, const struct uvfio_mig_id *id);
/* Check a received header against `expect` (-EINVAL and a log line). */
int uvfio_mig_check_header(const uint8_t *p, const struct uvfio_mig_id *expect,
			   const char *who);
/* A record header (UVFIO_MIG_REC_SIZE bytes). */
void uvfio_mig_encode_rec(uint8_t *p, uint16_t tag, uint32_t len);
/* Decode one; -EINVAL if its reserved bits are set. */
int uvfio_mig_decode_rec(const uint8_t *p, uint16_t *tag, uint32_t *len);

/* ---- a device's stream bytes, for its migration_ops ----------------------------- */

/*
 * The saving side holds one finished stream and hands it out in pieces
 * (mig_ops->save); the resuming side collects the written bytes, up to a
 * limit, until RESUMING -> STOP parses them (mig_ops->load appends).
 */
struct uvfio_mig_buffer {
	uint8_t *save;
	size_t save_len, save_pos;
	uint8_t *load;
	size_t load_len, load_cap, load_limit;
};

void uvfio_mig_buffer_init(struct uvfio_mig_buffer *b, size_t load_limit);
void uvfio_mig_buffer_fini(struct uvfio_mig_buffer *b);
/* Take w's bytes as the saving stream (w is left empty). */
void uvfio_mig_buffer_set_save(struct uvfio_mig_buffer *b, struct uvfio_mig_writer *w);
void uvfio_mig_buffer_drop_save(struct uvfio_mig_buffer *b);
/* Next bytes of the saving stream; 0 at its end. */
size_t uvfio_mig_buffer_read(struct uvfio_mig_buffer *b, void *buf, size_t len);
size_t uvfio_mig_buffer_pending(const struct uvfio_mig_buffer *b);
/* Collect resuming bytes; -E2BIG past the limit (then the stream is not ours). */
int uvfio_mig_buffer_append(struct uvfio_mig_buffer *b, const void *buf, size_t len);
void uvfio_mig_buffer_drop_load(struct uvfio_mig_buffer *b);

#ifdef __cplusplus
}
#endif
#endif
