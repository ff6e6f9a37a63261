/* SPDX-License-Identifier: MIT */
/*
 * Decoding of one vfio-user message for `uvfio trace`: the header and the
 * command's fields, as a list of named values. All parsing is the codec's
 * (user/codec.h); this file only names what the codec returns.
 */
#ifndef UVFIO_TOOL_TRACE_DECODE_H
#define UVFIO_TOOL_TRACE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "user/proto.h"

#define TRACE_MAX_FIELDS 16

enum trace_kind {
	TRACE_DEC,  /* decimal */
	TRACE_HEX,  /* 0x..., a number in JSON */
	TRACE_STR,  /* a string (flag names, feature names) */
	TRACE_BOOL,
};

struct trace_field {
	const char *key;
	enum trace_kind kind;
	uint64_t v;
	const char *s; /* TRACE_STR: NUL-terminated, or s_len bytes when s_len */
	size_t s_len;
};

struct trace_msg {
	struct vfio_user_header h; /* as received, fields host-endian */
	int hdr_err;		   /* vu_hdr_parse(): 0 or -errno */
	const char *cmd;	   /* vu_cmd_name() */
	bool reply, no_reply, error;
	unsigned int nfds;
	bool malformed;		   /* the codec refused the payload */
	unsigned int nfields;
	struct trace_field f[TRACE_MAX_FIELDS];
	char strbuf[256];	   /* flag names live here */
	size_t strused;
};

/*
 * Decode the 16-byte header at hdr and its payload (len bytes). Strings in
 * out->f may point into payload: use them before it goes away. Never fails:
 * what the codec refuses is marked malformed and keeps its header fields.
 */
void trace_decode(const void *hdr, const uint8_t *payload, size_t len,
		  unsigned int nfds, struct trace_msg *out);

/* Whether `name` (case-insensitive, with or without a VFIO_USER_ prefix)
 * names command `cmd`. */
bool trace_cmd_matches(const char *name, uint16_t cmd);

#endif
