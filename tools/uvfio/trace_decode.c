/* SPDX-License-Identifier: MIT */
/* Name the fields of one vfio-user message; the codec does the parsing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/vfio_compat.h"
#include "trace_decode.h"
#include "user/codec.h"

/* Generous limits: the tracer shows what peers send, it does not police it. */
#define TRACE_MAX_XFER VFIO_USER_MAX_MAX_DATA_XFER

struct bit_name {
	uint32_t bit;
	const char *name;
};

static void add(struct trace_msg *m, const char *key, enum trace_kind kind, uint64_t v)
{
	if (m->nfields < TRACE_MAX_FIELDS)
		m->f[m->nfields++] = (struct trace_field){ .key = key, .kind = kind, .v = v };
}

static void add_str(struct trace_msg *m, const char *key, const char *s, size_t len)
{
	if (m->nfields < TRACE_MAX_FIELDS)
		m->f[m->nfields++] = (struct trace_field){ .key = key, .kind = TRACE_STR,
							   .s = s, .s_len = len };
}

/* "READ|WRITE" (unknown bits as +0x..) into the message's string space. */
static void add_bits(struct trace_msg *m, const char *key, uint32_t v,
		     const struct bit_name *names, size_t n)
{
	char *out = m->strbuf + m->strused;
	size_t cap = sizeof(m->strbuf) - m->strused, used = 0;
	int w;

	if (cap < 2)
		return;
	out[0] = 0;
	for (size_t i = 0; i < n; i++) {
		if (!(v & names[i].bit))
			continue;
		w = snprintf(out + used, cap - used, "%s%s", used ? "|" : "", names[i].name);
		if (w < 0 || (size_t)w >= cap - used)
			return;
		used += (size_t)w;
		v &= ~names[i].bit;
	}
	if (v) {
		w = snprintf(out + used, cap - used, "%s%#x", used ? "|" : "", v);
		if (w < 0 || (size_t)w >= cap - used)
			return;
		used += (size_t)w;
	}
	if (!used)
		snprintf(out, cap, "0");
	m->strused += (used ? used : 1) + 1;
	add_str(m, key, out, 0);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct bit_name dma_flags[] = {
	{ VFIO_USER_F_DMA_REGION_READ, "READ" }, { VFIO_USER_F_DMA_REGION_WRITE, "WRITE" },
};
static const struct bit_name unmap_flags[] = {
	{ VFIO_USER_F_DMA_UNMAP_GET_DIRTY_BITMAP, "GET_DIRTY_BITMAP" },
	{ VFIO_USER_F_DMA_UNMAP_ALL, "ALL" },
};
static const struct bit_name dev_flags[] = {
	{ VFIO_DEVICE_FLAGS_RESET, "RESET" }, { VFIO_DEVICE_FLAGS_PCI, "PCI" },
	{ VFIO_DEVICE_FLAGS_PLATFORM, "PLATFORM" }, { VFIO_DEVICE_FLAGS_CAPS, "CAPS" },
	{ VFIO_DEVICE_FLAGS_CDX, "CDX" },
};
static const struct bit_name region_flags[] = {
	{ VFIO_USER_F_REGION_READ, "READ" }, { VFIO_USER_F_REGION_WRITE, "WRITE" },
	{ VFIO_USER_F_REGION_MMAP, "MMAP" }, { VFIO_USER_F_REGION_CAPS, "CAPS" },
};
static const struct bit_name irq_info_flags[] = {
	{ VFIO_IRQ_INFO_EVENTFD, "EVENTFD" }, { VFIO_IRQ_INFO_MASKABLE, "MASKABLE" },
	{ VFIO_IRQ_INFO_AUTOMASKED, "AUTOMASKED" }, { VFIO_IRQ_INFO_NORESIZE, "NORESIZE" },
};
static const struct bit_name irq_set_flags[] = {
	{ VFIO_IRQ_SET_DATA_NONE, "DATA_NONE" }, { VFIO_IRQ_SET_DATA_BOOL, "DATA_BOOL" },
	{ VFIO_IRQ_SET_DATA_EVENTFD, "DATA_EVENTFD" }, { VFIO_IRQ_SET_ACTION_MASK, "MASK" },
	{ VFIO_IRQ_SET_ACTION_UNMASK, "UNMASK" }, { VFIO_IRQ_SET_ACTION_TRIGGER, "TRIGGER" },
};
static const struct bit_name feature_ops[] = {
	{ VFIO_DEVICE_FEATURE_GET, "GET" }, { VFIO_DEVICE_FEATURE_SET, "SET" },
	{ VFIO_DEVICE_FEATURE_PROBE, "PROBE" },
};
static const struct bit_name mig_flags[] = {
	{ VFIO_MIGRATION_STOP_COPY, "STOP_COPY" }, { VFIO_MIGRATION_P2P, "P2P" },
	{ VFIO_MIGRATION_PRE_COPY, "PRE_COPY" },
};

static const char *feature_name(uint32_t idx)
{
	switch (idx) {
	case VFIO_DEVICE_FEATURE_PCI_VF_TOKEN: return "PCI_VF_TOKEN";
	case VFIO_DEVICE_FEATURE_MIGRATION: return "MIGRATION";
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE: return "MIG_DEVICE_STATE";
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_START: return "DMA_LOGGING_START";
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP: return "DMA_LOGGING_STOP";
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT: return "DMA_LOGGING_REPORT";
	case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE: return "MIG_DATA_SIZE";
	case VFIO_DEVICE_FEATURE_BUS_MASTER: return "BUS_MASTER";
	default: return NULL;
	}
}

static const char *mig_state_name(uint32_t s)
{
	static const char *const names[] = { "ERROR", "STOP", "RUNNING", "STOP_COPY",
					     "RESUMING", "RUNNING_P2P", "PRE_COPY",
					     "PRE_COPY_P2P" };

	return s < N(names) ? names[s] : "?";
}

static int decode_feature(struct trace_msg *m, const struct vu_feature *f, bool reply)
{
	uint32_t idx = f->flags & VFIO_DEVICE_FEATURE_MASK;
	const char *name = feature_name(idx);
	uint32_t u32;
	uint64_t u64;

	add(m, "argsz", TRACE_DEC, f->argsz);
	add(m, "feature", TRACE_DEC, idx);
	if (name)
		add_str(m, "feature_name", name, 0);
	add_bits(m, "ops", f->flags & ~VFIO_DEVICE_FEATURE_MASK, feature_ops, N(feature_ops));
	if (f->flags & VFIO_DEVICE_FEATURE_PROBE)
		return 0;
	switch (idx) {
	case VFIO_DEVICE_FEATURE_MIGRATION:
		if (reply && f->data_len >= 8) {
			memcpy(&u64, f->data, 8);
			add_bits(m, "mig_flags", (uint32_t)u64, mig_flags, N(mig_flags));
		}
		break;
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
		if (f->data_len >= 4) {
			memcpy(&u32, f->data, 4);
			add_str(m, "state", mig_state_name(u32), 0);
		}
		break;
	case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE:
		if (reply && f->data_len >= 8) {
			memcpy(&u64, f->data, 8);
			add(m, "stop_copy_length", TRACE_DEC, u64);
		}
		break;
	case VFIO_DEVICE_FEATURE_BUS_MASTER:
		if (f->data_len >= 4) {
			memcpy(&u32, f->data, 4);
			add_str(m, "op", u32 == VFIO_DEVICE_FEATURE_SET_MASTER ? "SET_MASTER" :
					 u32 == VFIO_DEVICE_FEATURE_CLEAR_MASTER ? "CLEAR_MASTER" :
					 "?", 0);
		}
		break;
	default:
		break;
	}
	return 0;
}

static int decode_access(struct trace_msg *m, const struct vu_region_access *a)
{
	add(m, "region", TRACE_DEC, a->region);
	add(m, "offset", TRACE_HEX, a->offset);
	add(m, "count", TRACE_DEC, a->count);
	return 0;
}

static int decode_dma_access(struct trace_msg *m, const struct vu_dma_access *a)
{
	add(m, "iova", TRACE_HEX, a->addr);
	add(m, "count", TRACE_DEC, a->count);
	return 0;
}

/* The command's fields; returns the codec's verdict. */
static int decode_payload(struct trace_msg *m, const uint8_t *p, size_t len)
{
	bool rep = m->reply;
	int r;

	switch (m->h.cmd) {
	case VFIO_USER_VERSION: {
		struct vu_version v;

		r = rep ? vu_version_rep_parse(p, len, &v) : vu_version_req_parse(p, len, &v);
		if (r)
			return r;
		add(m, "major", TRACE_DEC, v.major);
		add(m, "minor", TRACE_DEC, v.minor);
		if (v.caps)
			add_str(m, "caps", v.caps, v.caps_len);
		return 0;
	}
	case VFIO_USER_DMA_MAP: {
		struct vfio_user_dma_map d;

		if (rep)
			return vu_dma_map_rep_parse(p, len);
		r = vu_dma_map_req_parse(p, len, &d);
		if (r)
			return r;
		add(m, "argsz", TRACE_DEC, d.argsz);
		add_bits(m, "flags", d.flags, dma_flags, N(dma_flags));
		add(m, "iova", TRACE_HEX, d.addr);
		add(m, "size", TRACE_HEX, d.size);
		add(m, "fd_offset", TRACE_HEX, d.offset);
		return 0;
	}
	case VFIO_USER_DMA_UNMAP: {
		struct vu_dma_unmap u;

		r = rep ? vu_dma_unmap_rep_parse(p, len, TRACE_MAX_XFER, &u)
			: vu_dma_unmap_req_parse(p, len, TRACE_MAX_XFER, &u);
		if (r)
			return r;
		add(m, "argsz", TRACE_DEC, u.argsz);
		add_bits(m, "flags", u.flags, unmap_flags, N(unmap_flags));
		add(m, "iova", TRACE_HEX, u.addr);
		add(m, "size", TRACE_HEX, u.size);
		if (u.dirty) {
			add(m, "pgsize", TRACE_DEC, u.bitmap.pgsize);
			add(m, "bitmap_size", TRACE_DEC, u.bitmap.size);
		}
		return 0;
	}
	case VFIO_USER_DEVICE_GET_INFO: {
		struct vfio_user_device_info d;

		r = rep ? vu_device_info_rep_parse(p, len, &d)
			: vu_device_info_req_parse(p, len, &d);
		if (r)
			return r;
		add(m, "argsz", TRACE_DEC, d.argsz);
		if (rep) {
			add_bits(m, "flags", d.flags, dev_flags, N(dev_flags));
			add(m, "num_regions", TRACE_DEC, d.num_regions);
			add(m, "num_irqs", TRACE_DEC, d.num_irqs);
		}
		return 0;
	}
	case VFIO_USER_DEVICE_GET_REGION_INFO: {
		struct vfio_user_region_info ri;
		struct vu_region_caps caps;

		if (!rep) {
			r = vu_region_info_req_parse(p, len, &ri);
			if (r)
				return r;
			add(m, "argsz", TRACE_DEC, ri.argsz);
			add(m, "index", TRACE_DEC, ri.index);
			return 0;
		}
		r = vu_region_info_rep_parse(p, len, &ri, &caps);
		if (r)
			return r;
		add(m, "argsz", TRACE_DEC, ri.argsz);
		add(m, "index", TRACE_DEC, ri.index);
		add_bits(m, "flags", ri.flags, region_flags, N(region_flags));
		add(m, "size", TRACE_HEX, ri.size);
		add(m, "offset", TRACE_HEX, ri.offset);
		if (caps.has_sparse)
			add(m, "sparse_areas", TRACE_DEC, caps.nr_areas);
		if (caps.has_type) {
			add(m, "type", TRACE_DEC, caps.type);
			add(m, "subtype", TRACE_DEC, caps.subtype);
		}
		return 0;
	}
	case VFIO_USER_DEVICE_GET_REGION_IO_FDS: {
		struct vfio_user_region_io_fds io;
		const void *ents;
		size_t stride;

		r = rep ? vu_region_io_fds_rep_parse(p, len, &io, &ents, &stride)
			: vu_region_io_fds_req_parse(p, len, &io);
		if (r)
			return r;
		add(m, "argsz", TRACE_DEC, io.argsz);
		add(m, "index", TRACE_DEC, io.index);
		if (rep)
			add(m, "count", TRACE_DEC, io.count);
		if (rep && ents)
			add(m, "entry_bytes", TRACE_DEC, stride); /* 40: spec, 48: libvfio-user */
		return 0;
	}
	case VFIO_USER_DEVICE_GET_IRQ_INFO: {
		struct vfio_user_irq_info ii;

		r = rep ? vu_irq_info_rep_parse(p, len, &ii) : vu_irq_info_req_parse(p, len, &ii);
		if (r)
			return r;
		add(m, "argsz", TRACE_DEC, ii.argsz);
		add(m, "index", TRACE_DEC, ii.index);
		if (rep) {
			add_bits(m, "flags", ii.flags, irq_info_flags, N(irq_info_flags));
			add(m, "count", TRACE_DEC, ii.count);
		}
		return 0;
	}
	case VFIO_USER_DEVICE_SET_IRQS: {
		struct vu_set_irqs s;

		if (rep)
			return vu_set_irqs_rep_parse(p, len);
		r = vu_set_irqs_req_parse(p, len, m->nfds, &s);
		if (r)
			return r;
		add(m, "argsz", TRACE_DEC, s.s.argsz);
		add_bits(m, "flags", s.s.flags, irq_set_flags, N(irq_set_flags));
		add(m, "index", TRACE_DEC, s.s.index);
		add(m, "start", TRACE_DEC, s.s.start);
		add(m, "count", TRACE_DEC, s.s.count);
		return 0;
	}
	case VFIO_USER_REGION_READ: {
		struct vu_region_access a;

		r = rep ? vu_region_read_rep_parse(p, len, TRACE_MAX_XFER, &a)
			: vu_region_read_req_parse(p, len, TRACE_MAX_XFER, &a);
		return r ? r : decode_access(m, &a);
	}
	case VFIO_USER_REGION_WRITE: {
		struct vu_region_access a;

		r = rep ? vu_region_write_rep_parse(p, len, &a)
			: vu_region_write_req_parse(p, len, TRACE_MAX_XFER, &a);
		return r ? r : decode_access(m, &a);
	}
	case VFIO_USER_DMA_READ: {
		struct vu_dma_access a;

		r = rep ? vu_dma_read_rep_parse(p, len, TRACE_MAX_XFER, &a)
			: vu_dma_read_req_parse(p, len, TRACE_MAX_XFER, &a);
		return r ? r : decode_dma_access(m, &a);
	}
	case VFIO_USER_DMA_WRITE: {
		struct vu_dma_access a;

		r = rep ? vu_dma_write_rep_parse(p, len, &a)
			: vu_dma_write_req_parse(p, len, TRACE_MAX_XFER, &a);
		return r ? r : decode_dma_access(m, &a);
	}
	case VFIO_USER_DEVICE_RESET:
		return rep ? vu_reset_rep_parse(p, len) : vu_reset_req_parse(p, len);
	case VFIO_USER_REGION_WRITE_MULTI: {
		struct vu_write_multi w;
		uint64_t n;

		if (rep) {
			r = vu_write_multi_rep_parse(p, len, &n);
			if (!r)
				add(m, "wr_cnt", TRACE_DEC, n);
			return r;
		}
		r = vu_write_multi_req_parse(p, len, &w);
		if (!r)
			add(m, "wr_cnt", TRACE_DEC, w.wr_cnt);
		return r;
	}
	case VFIO_USER_DEVICE_FEATURE: {
		struct vu_feature f;

		r = rep ? vu_feature_rep_parse(p, len, &f) : vu_feature_req_parse(p, len, &f);
		return r ? r : decode_feature(m, &f, rep);
	}
	case VFIO_USER_MIG_DATA_READ: {
		struct vu_mig_data d;

		r = rep ? vu_mig_read_rep_parse(p, len, TRACE_MAX_XFER, &d)
			: vu_mig_read_req_parse(p, len, TRACE_MAX_XFER, &d);
		if (!r) {
			add(m, "argsz", TRACE_DEC, d.argsz);
			add(m, "size", TRACE_DEC, d.size);
		}
		return r;
	}
	case VFIO_USER_MIG_DATA_WRITE: {
		struct vu_mig_data d;

		if (rep)
			return vu_mig_write_rep_parse(p, len);
		r = vu_mig_write_req_parse(p, len, TRACE_MAX_XFER, &d);
		if (!r) {
			add(m, "argsz", TRACE_DEC, d.argsz);
			add(m, "size", TRACE_DEC, d.size);
		}
		return r;
	}
	default:
		return 0; /* unknown command: the header says all we know */
	}
}

void trace_decode(const void *hdr, const uint8_t *payload, size_t len,
		  unsigned int nfds, struct trace_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->hdr_err = vu_hdr_parse(hdr, 16, UINT32_MAX, &m->h);
	m->cmd = vu_cmd_name(m->h.cmd);
	m->reply = vu_hdr_is_reply(&m->h);
	m->no_reply = vu_hdr_no_reply(&m->h);
	m->error = vu_hdr_is_error(&m->h);
	m->nfds = nfds;
	if (m->hdr_err) {
		m->malformed = true;
		return;
	}
	if (m->error)
		return; /* an error reply carries no payload */
	if (decode_payload(m, payload, len))
		m->malformed = true;
}

bool trace_cmd_matches(const char *name, uint16_t cmd)
{
	const char *cname = vu_cmd_name(cmd);

	if (!strncasecmp(name, "VFIO_USER_", 10))
		name += 10;
	return !strcasecmp(name, cname);
}
