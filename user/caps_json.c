/* SPDX-License-Identifier: MIT */
/*
 * The VERSION capabilities JSON: a small strict parser (RFC 8259 grammar,
 * no allocation, bounded depth and length) and the emitter.
 *
 * Only {"capabilities": {...}} is interpreted; every other key, at any
 * level, is parsed (so malformed JSON is still caught) and ignored, as
 * libvfio-user and rust-vmm do. A duplicated known key: the last one wins,
 * as in most JSON readers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "user/codec.h"

#define KEY_MAX 32 /* longer keys are never ours: compared as unknown */

struct jp {
	const char *s;
	size_t len, pos;
	int depth;
};

enum jtype { J_OBJECT, J_ARRAY, J_STRING, J_NUMBER, J_TRUE, J_FALSE, J_NULL };

struct jnum {
	bool is_uint; /* non-negative integer that fits u64 */
	uint64_t v;
};

static void skip_ws(struct jp *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static int peek(struct jp *p)
{
	skip_ws(p);
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int expect(struct jp *p, char c)
{
	if (peek(p) != (unsigned char)c)
		return -EINVAL;
	p->pos++;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * A string at p->pos (the opening quote). Copies up to KEY_MAX-1 plain bytes
 * into key (if given); *fits says whether all of it fitted.
 */
static int parse_string(struct jp *p, char *key, bool *fits)
{
	size_t n = 0;

	if (expect(p, '"'))
		return -EINVAL;
	if (fits)
		*fits = true;
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->s[p->pos++];

		if (c == '"') {
			if (key)
				key[n] = '\0';
			return 0;
		}
		if (c < 0x20)
			return -EINVAL; /* raw control characters are not JSON */
		if (c == '\\') {
			if (p->pos >= p->len)
				return -EINVAL;
			c = (unsigned char)p->s[p->pos++];
			if (c == 'u') {
				if (p->len - p->pos < 4)
					return -EINVAL;
				for (int i = 0; i < 4; i++)
					if (hexval(p->s[p->pos + i]) < 0)
						return -EINVAL;
				p->pos += 4;
				c = '?'; /* never part of a key we know */
			} else if (!strchr("\"\\/bfnrt", c)) {
				return -EINVAL;
			}
		}
		if (key && n < KEY_MAX - 1)
			key[n++] = (char)c;
		else if (fits)
			*fits = false;
	}
	return -EINVAL; /* unterminated */
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int parse_number(struct jp *p, struct jnum *num)
{
	bool neg = false, ovf = false, integer = true;
	uint64_t v = 0;

	if (peek(p) == '-') {
		neg = true;
		p->pos++;
	}
	if (p->pos >= p->len || !is_digit(p->s[p->pos]))
		return -EINVAL;
	if (p->s[p->pos] == '0' && p->pos + 1 < p->len && is_digit(p->s[p->pos + 1]))
		return -EINVAL; /* no leading zeros */
	while (p->pos < p->len && is_digit(p->s[p->pos])) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(p->s[p->pos] - '0'), &v))
			ovf = true;
		p->pos++;
	}
	if (p->pos < p->len && p->s[p->pos] == '.') {
		integer = false;
		p->pos++;
		if (p->pos >= p->len || !is_digit(p->s[p->pos]))
			return -EINVAL;
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		integer = false;
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || !is_digit(p->s[p->pos]))
			return -EINVAL;
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	}
	num->is_uint = integer && !ovf && (!neg || v == 0);
	num->v = num->is_uint ? v : 0;
	return 0;
}

static int parse_literal(struct jp *p, const char *lit)
{
	size_t n = strlen(lit);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, lit, n))
		return -EINVAL;
	p->pos += n;
	return 0;
}

typedef int (*member_fn)(struct jp *p, const char *key, bool key_fits, void *ctx);

static int parse_value(struct jp *p, enum jtype *type, struct jnum *num);

/* An object at p->pos; calls fn for each member, which must consume the value. */
static int parse_object(struct jp *p, member_fn fn, void *ctx)
{
	char key[KEY_MAX];
	bool fits;
	int ret;

	if (++p->depth > VU_CAPS_MAX_DEPTH)
		return -EINVAL;
	if (expect(p, '{'))
		return -EINVAL;
	if (peek(p) == '}') {
		p->pos++;
		p->depth--;
		return 0;
	}
	for (;;) {
		if (peek(p) != '"')
			return -EINVAL;
		ret = parse_string(p, key, &fits);
		if (ret)
			return ret;
		if (expect(p, ':'))
			return -EINVAL;
		ret = fn(p, key, fits, ctx);
		if (ret)
			return ret;
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (expect(p, '}'))
			return -EINVAL;
		break;
	}
	p->depth--;
	return 0;
}

static int skip_member(struct jp *p, const char *key, bool fits, void *ctx)
{
	enum jtype t;
	struct jnum n;

	return parse_value(p, &t, &n);
}

static int parse_array(struct jp *p)
{
	enum jtype t;
	struct jnum n;
	int ret;

	if (++p->depth > VU_CAPS_MAX_DEPTH)
		return -EINVAL;
	if (expect(p, '['))
		return -EINVAL;
	if (peek(p) == ']') {
		p->pos++;
		p->depth--;
		return 0;
	}
	for (;;) {
		ret = parse_value(p, &t, &n);
		if (ret)
			return ret;
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (expect(p, ']'))
			return -EINVAL;
		break;
	}
	p->depth--;
	return 0;
}

/* Any value; objects and arrays are validated and skipped. */
static int parse_value(struct jp *p, enum jtype *type, struct jnum *num)
{
	int c = peek(p);

	switch (c) {
	case '{':
		*type = J_OBJECT;
		return parse_object(p, skip_member, NULL);
	case '[':
		*type = J_ARRAY;
		return parse_array(p);
	case '"':
		*type = J_STRING;
		return parse_string(p, NULL, NULL);
	case 't':
		*type = J_TRUE;
		return parse_literal(p, "true");
	case 'f':
		*type = J_FALSE;
		return parse_literal(p, "false");
	case 'n':
		*type = J_NULL;
		return parse_literal(p, "null");
	default:
		if (c == '-' || is_digit(c)) {
			*type = J_NUMBER;
			return parse_number(p, num);
		}
		return -EINVAL;
	}
}

/* A known key's value: an unsigned integer in [min, max]. */
static int get_uint(struct jp *p, uint64_t min, uint64_t max, uint64_t *out)
{
	enum jtype t;
	struct jnum n = { 0 };
	int ret = parse_value(p, &t, &n);

	if (ret)
		return ret;
	if (t != J_NUMBER || !n.is_uint || n.v < min || n.v > max)
		return -EINVAL;
	*out = n.v;
	return 0;
}

static int get_bool(struct jp *p, bool *out)
{
	enum jtype t;
	struct jnum n;
	int ret = parse_value(p, &t, &n);

	if (ret)
		return ret;
	if (t != J_TRUE && t != J_FALSE)
		return -EINVAL;
	*out = t == J_TRUE;
	return 0;
}

static int twin_member(struct jp *p, const char *key, bool fits, void *ctx)
{
	struct vu_caps *caps = ctx;
	uint64_t v = 0;
	int ret;

	if (fits && !strcmp(key, "supported"))
		return get_bool(p, &caps->twin_socket);
	if (fits && !strcmp(key, "fd_index")) {
		ret = get_uint(p, 0, VFIO_USER_KERNEL_MAX_FDS - 1, &v);
		if (ret)
			return ret;
		caps->has_twin_fd_index = true;
		caps->twin_fd_index = (uint32_t)v;
		return 0;
	}
	return skip_member(p, key, fits, ctx);
}

static int migration_member(struct jp *p, const char *key, bool fits, void *ctx)
{
	struct vu_caps *caps = ctx;

	if (fits && !strcmp(key, "pgsize"))
		return get_uint(p, 1, UINT64_MAX, &caps->mig_pgsize);
	if (fits && !strcmp(key, "max_bitmap_size"))
		return get_uint(p, 0, UINT64_MAX, &caps->mig_max_bitmap_size);
	return skip_member(p, key, fits, ctx);
}

/*
 * A UUID string "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (docs/
 * protocol-extensions.md: vf_token); anything else is -EINVAL.
 */
static int get_uuid(struct jp *p, uint8_t out[16])
{
	static const char dash_at[] = { 8, 13, 18, 23 };
	const char *s;
	unsigned int n = 0;

	if (peek(p) != '"' || p->len - p->pos < 38 || p->s[p->pos + 37] != '"')
		return -EINVAL;
	s = p->s + p->pos + 1;
	for (int i = 0; i < 36; i++) {
		bool dash = memchr(dash_at, i, sizeof(dash_at)) != NULL;
		int hi, lo;

		if (dash) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		hi = hexval(s[i]);
		lo = i + 1 < 36 ? hexval(s[i + 1]) : -1;
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	if (n != 16)
		return -EINVAL;
	p->pos += 38;
	return 0;
}

static int caps_member(struct jp *p, const char *key, bool fits, void *ctx)
{
	struct vu_caps *caps = ctx;
	uint64_t v = 0;
	int ret;

	if (!fits)
		return skip_member(p, key, fits, ctx);
	if (!strcmp(key, "max_msg_fds")) {
		/* libvfio-user's bound: nobody receives more in one message. */
		ret = get_uint(p, 0, 1024, &v);
		if (!ret)
			caps->max_msg_fds = (uint32_t)v;
		return ret;
	}
	if (!strcmp(key, "max_data_xfer_size")) {
		ret = get_uint(p, 1, UINT32_MAX, &v);
		if (!ret)
			caps->max_data_xfer_size = (uint32_t)v;
		return ret;
	}
	if (!strcmp(key, "pgsizes"))
		return get_uint(p, 1, UINT64_MAX, &caps->pgsizes);
	if (!strcmp(key, "max_dma_maps")) {
		ret = get_uint(p, 1, UINT32_MAX, &v);
		if (!ret)
			caps->max_dma_maps = (uint32_t)v;
		return ret;
	}
	if (!strcmp(key, "write_multiple"))
		return get_bool(p, &caps->write_multiple);
	if (!strcmp(key, "vf_token")) {
		ret = get_uuid(p, caps->vf_token);
		if (!ret)
			caps->has_vf_token = true;
		return ret;
	}
	if (!strcmp(key, "twin_socket")) {
		if (peek(p) != '{')
			return -EINVAL;
		return parse_object(p, twin_member, caps);
	}
	if (!strcmp(key, "migration")) {
		if (peek(p) != '{')
			return -EINVAL;
		caps->has_migration = true;
		return parse_object(p, migration_member, caps);
	}
	return skip_member(p, key, fits, ctx);
}

static int top_member(struct jp *p, const char *key, bool fits, void *ctx)
{
	if (fits && !strcmp(key, "capabilities")) {
		if (peek(p) != '{')
			return -EINVAL;
		return parse_object(p, caps_member, ctx);
	}
	return skip_member(p, key, fits, ctx);
}

void vu_caps_defaults(struct vu_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->max_msg_fds = VFIO_USER_DEFAULT_MAX_FDS;
	caps->max_data_xfer_size = VFIO_USER_DEFAULT_MAX_DATA_XFER;
	caps->pgsizes = VFIO_USER_DEFAULT_PGSIZES;
	caps->max_dma_maps = VFIO_USER_DEFAULT_MAX_DMA_MAPS;
}

int vu_caps_parse(const char *json, size_t len, struct vu_caps *caps)
{
	struct jp p = { .s = json, .len = len };
	struct vu_caps tmp;
	int ret;

	if (len > VFIO_USER_MAX_CAPS_JSON)
		return -EINVAL;
	/* Fill a copy: the caller's caps stay as they were on failure. */
	vu_caps_defaults(&tmp);
	if (peek(&p) != '{')
		return -EINVAL;
	ret = parse_object(&p, top_member, &tmp);
	if (ret)
		return ret;
	if (peek(&p) != -1)
		return -EINVAL; /* trailing garbage */
	*caps = tmp;
	return 0;
}

ssize_t vu_caps_emit(const struct vu_caps *caps, char *buf, size_t cap)
{
	size_t n = 0;
	int r;

#define EMIT(...)                                                   \
	do {                                                        \
		r = snprintf(buf + n, cap > n ? cap - n : 0, __VA_ARGS__); \
		if (r < 0)                                          \
			return -EINVAL;                             \
		n += (size_t)r;                                     \
	} while (0)

	EMIT("{\"capabilities\":{\"max_msg_fds\":%" PRIu32
	     ",\"max_data_xfer_size\":%" PRIu32 ",\"pgsizes\":%" PRIu64
	     ",\"max_dma_maps\":%" PRIu32 ",\"write_multiple\":%s",
	     caps->max_msg_fds, caps->max_data_xfer_size, caps->pgsizes,
	     caps->max_dma_maps, caps->write_multiple ? "true" : "false");
	if (caps->twin_socket) {
		EMIT(",\"twin_socket\":{\"supported\":true");
		if (caps->has_twin_fd_index)
			EMIT(",\"fd_index\":%" PRIu32, caps->twin_fd_index);
		EMIT("}");
	}
	if (caps->has_migration) {
		/* pgsize 0 means "absent" (a peer's object without it): the
		 * parser refuses an explicit 0, so it must not be emitted. */
		EMIT(",\"migration\":{");
		if (caps->mig_pgsize)
			EMIT("\"pgsize\":%" PRIu64 ",", caps->mig_pgsize);
		EMIT("\"max_bitmap_size\":%" PRIu64 "}", caps->mig_max_bitmap_size);
	}
	if (caps->has_vf_token) {
		const uint8_t *u = caps->vf_token;

		EMIT(",\"vf_token\":\"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		     "%02x%02x%02x%02x%02x%02x\"", u[0], u[1], u[2], u[3], u[4], u[5],
		     u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
	}
	EMIT("}}");
#undef EMIT
	if (n >= cap)
		return -ENOSPC;
	return (ssize_t)n;
}
