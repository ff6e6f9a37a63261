/* SPDX-License-Identifier: MIT */
/*
 * The migration stream's TLV writer and reader (include/uvfio/mig_stream.h).
 * Every device's save/load goes through here, so the bounds checks live in
 * one place: a stream is untrusted input from another process.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uvfio/log.h>
#include <uvfio/mig_stream.h>

#define DEFAULT_LIMIT (64u << 20)

static void st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void st32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void st64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t ld64(const uint8_t *p)
{
	return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

/* ---- writer ------------------------------------------------------------------ */

void uvfio_mig_writer_init(struct uvfio_mig_writer *w, size_t limit)
{
	memset(w, 0, sizeof(*w));
	w->limit = limit ? limit : DEFAULT_LIMIT;
}

void uvfio_mig_writer_fini(struct uvfio_mig_writer *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

/* Room for n more bytes; returns the place or NULL (w->err set). */
static uint8_t *reserve(struct uvfio_mig_writer *w, size_t n)
{
	size_t need, cap;
	uint8_t *b;

	if (w->err)
		return NULL;
	if (__builtin_add_overflow(w->len, n, &need) || need > w->limit) {
		w->err = -E2BIG;
		return NULL;
	}
	if (need > w->cap) {
		cap = w->cap ? w->cap : 256;
		while (cap < need)
			cap = cap > w->limit / 2 ? w->limit : cap * 2;
		b = realloc(w->buf, cap);
		if (!b) {
			w->err = -ENOMEM;
			return NULL;
		}
		w->buf = b;
		w->cap = cap;
	}
	b = w->buf + w->len;
	w->len = need;
	return b;
}

int uvfio_mig_encode_header(uint8_t *p, const struct uvfio_mig_id *id)
{
	size_t tl = strlen(id->type);

	if (tl >= UVFIO_MIG_TYPE_LEN)
		return -EINVAL;
	memset(p, 0, UVFIO_MIG_HDR_SIZE);
	st32(p, UVFIO_MIG_MAGIC);
	st16(p + 4, UVFIO_MIG_FORMAT);
	memcpy(p + 8, id->type, tl);
	st32(p + 24, id->version);
	st64(p + 28, id->id);
	return 0;
}

void uvfio_mig_encode_rec(uint8_t *p, uint16_t tag, uint32_t len)
{
	st16(p, tag);
	st16(p + 2, 0);
	st32(p + 4, len);
}

int uvfio_mig_decode_rec(const uint8_t *p, uint16_t *tag, uint32_t *len)
{
	if (ld16(p + 2))
		return -EINVAL;
	*tag = ld16(p);
	*len = ld32(p + 4);
	return 0;
}

void uvfio_mig_put_header(struct uvfio_mig_writer *w, const struct uvfio_mig_id *id)
{
	uint8_t *p;

	if (strlen(id->type) >= UVFIO_MIG_TYPE_LEN) {
		w->err = w->err ? w->err : -EINVAL;
		return;
	}
	p = reserve(w, UVFIO_MIG_HDR_SIZE);
	if (p)
		uvfio_mig_encode_header(p, id);
}

static uint8_t *put_rec(struct uvfio_mig_writer *w, uint16_t tag, size_t len)
{
	uint8_t *p;

	if (len > UINT32_MAX) {
		w->err = w->err ? w->err : -E2BIG;
		return NULL;
	}
	p = reserve(w, UVFIO_MIG_REC_SIZE + len);
	if (!p)
		return NULL;
	uvfio_mig_encode_rec(p, tag, (uint32_t)len);
	return p + UVFIO_MIG_REC_SIZE;
}

void uvfio_mig_put(struct uvfio_mig_writer *w, uint16_t tag, const void *val, size_t len)
{
	uint8_t *p = put_rec(w, tag, len);

	if (p && len)
		memcpy(p, val, len);
}

void uvfio_mig_put_u8(struct uvfio_mig_writer *w, uint16_t tag, uint8_t v)
{
	uvfio_mig_put(w, tag, &v, 1);
}

void uvfio_mig_put_u32(struct uvfio_mig_writer *w, uint16_t tag, uint32_t v)
{
	uint8_t *p = put_rec(w, tag, 4);

	if (p)
		st32(p, v);
}

void uvfio_mig_put_u64(struct uvfio_mig_writer *w, uint16_t tag, uint64_t v)
{
	uint8_t *p = put_rec(w, tag, 8);

	if (p)
		st64(p, v);
}

void uvfio_mig_section_begin(struct uvfio_mig_writer *w, uint16_t tag)
{
	if (w->depth >= sizeof(w->open) / sizeof(w->open[0])) {
		w->err = w->err ? w->err : -EINVAL;
		return;
	}
	if (!put_rec(w, tag, 0))
		return;
	/* the length is patched when the section ends */
	w->open[w->depth++] = w->len - UVFIO_MIG_REC_SIZE + 4;
}

void uvfio_mig_section_end(struct uvfio_mig_writer *w)
{
	size_t at, n;

	if (w->err)
		return;
	if (!w->depth) {
		w->err = -EINVAL;
		return;
	}
	at = w->open[--w->depth];
	n = w->len - (at + 4);
	if (n > UINT32_MAX) {
		w->err = -E2BIG;
		return;
	}
	st32(w->buf + at, (uint32_t)n);
}

int uvfio_mig_put_end(struct uvfio_mig_writer *w)
{
	if (w->depth && !w->err)
		w->err = -EINVAL; /* a section left open */
	put_rec(w, UVFIO_MIG_TAG_END, 0);
	return w->err;
}

/* ---- reader ------------------------------------------------------------------ */

/* Walk [pos, len) as records; `top`: END must be the last and only there. */
static int check_framing(const uint8_t *p, size_t pos, size_t len, bool top)
{
	while (pos < len) {
		uint16_t tag;
		uint32_t n;

		if (len - pos < UVFIO_MIG_REC_SIZE)
			return -EINVAL;
		tag = ld16(p + pos);
		n = ld32(p + pos + 4);
		if (ld16(p + pos + 2))
			return -EINVAL;
		pos += UVFIO_MIG_REC_SIZE;
		if (n > len - pos)
			return -EINVAL;
		pos += n;
		if (tag == UVFIO_MIG_TAG_END)
			return (top && !n && pos == len) ? 0 : -EINVAL;
	}
	/* A top-level stream without END was cut short. */
	return top ? -EINVAL : 0;
}

int uvfio_mig_check_header(const uint8_t *p, const struct uvfio_mig_id *expect,
			   const char *who)
{
	char type[UVFIO_MIG_TYPE_LEN + 1];
	uint32_t version;
	uint64_t id;

	if (ld32(p) != UVFIO_MIG_MAGIC || ld16(p + 4) != UVFIO_MIG_FORMAT || ld16(p + 6)) {
		uvfio_log(UVFIO_LOG_ERR, who,
			  "migration stream: bad magic %#x or format %u (want %#x, %u)",
			  ld32(p), ld16(p + 4), UVFIO_MIG_MAGIC, UVFIO_MIG_FORMAT);
		return -EINVAL;
	}
	memcpy(type, p + 8, UVFIO_MIG_TYPE_LEN);
	type[UVFIO_MIG_TYPE_LEN] = '\0';
	for (size_t i = 0; i < UVFIO_MIG_TYPE_LEN; i++)
		if (type[i] && (type[i] < 0x20 || type[i] > 0x7e))
			type[i] = '?'; /* the log line must not carry junk */
	version = ld32(p + 24);
	id = ld64(p + 28);
	if (strncmp(type, expect->type, UVFIO_MIG_TYPE_LEN) || version != expect->version ||
	    id != expect->id) {
		uvfio_log(UVFIO_LOG_ERR, who,
			  "migration stream is for %s v%u id %#llx, this device is %s v%u id %#llx",
			  type, version, (unsigned long long)id, expect->type,
			  expect->version, (unsigned long long)expect->id);
		return -EINVAL;
	}
	return 0;
}

int uvfio_mig_open(struct uvfio_mig_reader *r, const void *buf, size_t len,
		   const struct uvfio_mig_id *expect, const char *who)
{
	const uint8_t *p = buf;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!buf || len < UVFIO_MIG_HDR_SIZE) {
		uvfio_log(UVFIO_LOG_ERR, who, "migration stream: %zu bytes, too short", len);
		return -EINVAL;
	}
	ret = uvfio_mig_check_header(p, expect, who);
	if (ret)
		return ret;
	if (check_framing(p, UVFIO_MIG_HDR_SIZE, len, true)) {
		uvfio_log(UVFIO_LOG_ERR, who, "migration stream: truncated or malformed");
		return -EINVAL;
	}
	r->p = p;
	r->len = len;
	r->pos = UVFIO_MIG_HDR_SIZE;
	return 0;
}

int uvfio_mig_open_section(struct uvfio_mig_reader *r, const void *val, size_t len)
{
	memset(r, 0, sizeof(*r));
	if (len && !val)
		return -EINVAL;
	if (check_framing(val, 0, len, false))
		return -EINVAL;
	r->p = val;
	r->len = len;
	return 0;
}

int uvfio_mig_next(struct uvfio_mig_reader *r, uint16_t *tag, const void **val,
		   size_t *len)
{
	uint32_t n;
	uint16_t t;

	if (r->pos == r->len)
		return 0;
	/* The framing was checked at open; check again, cheaply, anyway. */
	if (r->len - r->pos < UVFIO_MIG_REC_SIZE)
		return -EINVAL;
	t = ld16(r->p + r->pos);
	n = ld32(r->p + r->pos + 4);
	if (n > r->len - r->pos - UVFIO_MIG_REC_SIZE)
		return -EINVAL;
	if (t == UVFIO_MIG_TAG_END)
		return 0;
	*tag = t;
	*val = r->p + r->pos + UVFIO_MIG_REC_SIZE;
	*len = n;
	r->pos += UVFIO_MIG_REC_SIZE + n;
	return 1;
}

int uvfio_mig_get_u8(const void *val, size_t len, uint8_t *out)
{
	if (len != 1)
		return -EINVAL;
	*out = *(const uint8_t *)val;
	return 0;
}

int uvfio_mig_get_u32(const void *val, size_t len, uint32_t *out)
{
	if (len != 4)
		return -EINVAL;
	*out = ld32(val);
	return 0;
}

int uvfio_mig_get_u64(const void *val, size_t len, uint64_t *out)
{
	if (len != 8)
		return -EINVAL;
	*out = ld64(val);
	return 0;
}

int uvfio_mig_get_bytes(const void *val, size_t len, void *out, size_t size)
{
	if (len != size)
		return -EINVAL;
	if (size)
		memcpy(out, val, size);
	return 0;
}
