/* SPDX-License-Identifier: MIT */
/*
 * testdev's migration (STOP_COPY | PRE_COPY), streamed: nothing is built or
 * buffered whole, so a device with hundreds of MiB of state moves at the
 * speed of the sockets.
 *
 * Stream (uvfio/mig_stream.h), type "testdev" version 1, id = state size:
 *   STATE    u64 offset | data   (offset page aligned, 1..TD_RUN_PAGES pages)
 *            every page once in the first pass (PRE_COPY or STOP_COPY), then
 *            in later PRE_COPY rounds the pages written since they were sent
 *   REGS     the 256-byte register file      } in STOP_COPY, after the
 *   MEM      regions 1-2 (12 KiB)             } state; each exactly once
 *   FEATURE  u64 TESTDEV_FEATURE's value      }
 *   END
 *
 * Saving: PRE_COPY reads end a round (a short read, 0 bytes when nothing is
 * dirty: the kernel's ENOMSG) when the scan of the dirty bitmap reaches the
 * end; the next read starts a new round. STOP_COPY sends what is still
 * dirty, then the tail, then reads return 0.
 *
 * Resuming: bytes are checked as they arrive — header and identity first,
 * every record's tag and exact length before its value, a STATE offset
 * against the state size — and the first error sticks (MIG_DATA_WRITE
 * fails, so does RESUMING -> STOP). STATE data goes straight into the state
 * region: in RESUMING the device's state is being replaced anyway, and a
 * failed load leaves the device in ERROR until reset. Registers, MEM and
 * the feature value are staged and applied at RESUMING -> STOP, only when
 * END and all three records came.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uvfio/log.h>

#include "core/vfio_compat.h"
#include "devices/testdev_priv.h"

enum { TAG_STATE = 1, TAG_REGS, TAG_MEM, TAG_FEATURE };
#define TAIL_TAGS ((1u << TAG_REGS) | (1u << TAG_MEM) | (1u << TAG_FEATURE))
#define OBUF_SIZE (UVFIO_MIG_REC_SIZE + 8 + (size_t)TD_RUN_PAGES * TD_PAGE)

static struct testdev *td(struct uvfio_device *dev)
{
	return uvfio_device_priv(dev);
}

static void td_id(const struct testdev *t, struct uvfio_mig_id *id)
{
	id->type = "testdev";
	id->version = 1;
	id->id = t->state_size;
}

static uint64_t npages(const struct testdev *t)
{
	return t->state_size / TD_PAGE;
}

/* Lock held. */
void testdev_mark_dirty(struct testdev *t, uint64_t pos, uint64_t len)
{
	if (!t->state_dirty || !len)
		return;
	for (uint64_t p = pos / TD_PAGE; p <= (pos + len - 1) / TD_PAGE; p++)
		t->state_dirty[p / 64] |= 1ull << (p % 64);
}

static uint64_t dirty_count(const struct testdev *t, uint64_t from)
{
	uint64_t n = 0;

	for (uint64_t p = from; p < npages(t); p++)
		n += (t->state_dirty[p / 64] >> (p % 64)) & 1;
	return n;
}

/* ---- saving ------------------------------------------------------------------- */

static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * Put the next run of dirty pages from the cursor into `out` (room bytes,
 * at least one page's record): up to TD_RUN_PAGES pages, fewer to fit.
 * Returns the record's size, 0 at the end of the scan (the cursor goes back
 * to 0 for the next round). Lock held.
 */
static size_t put_state(struct testdev *t, uint8_t *out, size_t room)
{
	struct td_save *s = &t->save;
	uint64_t n = npages(t), first, p, max;

	for (p = s->cursor; p < n; p++) {
		/* skip clean words fast */
		if (!(p % 64) && !t->state_dirty[p / 64] && p + 64 <= n) {
			p += 63;
			continue;
		}
		if (t->state_dirty[p / 64] & (1ull << (p % 64)))
			break;
	}
	if (p >= n) {
		s->cursor = 0;
		s->first_pass = false;
		return 0;
	}
	max = (room - UVFIO_MIG_REC_SIZE - 8) / TD_PAGE;
	if (max > TD_RUN_PAGES)
		max = TD_RUN_PAGES;
	first = p;
	while (p < n && p - first < max && (t->state_dirty[p / 64] & (1ull << (p % 64)))) {
		t->state_dirty[p / 64] &= ~(1ull << (p % 64));
		p++;
	}
	uvfio_mig_encode_rec(out, TAG_STATE, (uint32_t)(8 + (p - first) * TD_PAGE));
	le64(out + UVFIO_MIG_REC_SIZE, first * TD_PAGE);
	memcpy(out + UVFIO_MIG_REC_SIZE + 8, t->state + first * TD_PAGE, (p - first) * TD_PAGE);
	s->cursor = p;
	return UVFIO_MIG_REC_SIZE + 8 + (p - first) * TD_PAGE;
}

#define STATE_REC_MIN (UVFIO_MIG_REC_SIZE + 8 + TD_PAGE)

/* Stage the next run into obuf, for a reader with less room than a page. */
static bool stage_state(struct testdev *t)
{
	size_t n = put_state(t, t->save.obuf, OBUF_SIZE);

	t->save.olen = n;
	t->save.opos = 0;
	return n != 0;
}

/* REGS, MEM, FEATURE, END in one go (about 12.6 KiB). Lock held. */
static void stage_tail(struct testdev *t)
{
	struct td_save *s = &t->save;
	uint8_t *p = s->obuf;

	uvfio_mig_encode_rec(p, TAG_REGS, TESTDEV_REGS_SIZE);
	memcpy(p + UVFIO_MIG_REC_SIZE, t->regs, TESTDEV_REGS_SIZE);
	p += UVFIO_MIG_REC_SIZE + TESTDEV_REGS_SIZE;
	uvfio_mig_encode_rec(p, TAG_MEM, TESTDEV_MEMFD_SIZE);
	memcpy(p + UVFIO_MIG_REC_SIZE, t->mem, TESTDEV_MEMFD_SIZE);
	p += UVFIO_MIG_REC_SIZE + TESTDEV_MEMFD_SIZE;
	uvfio_mig_encode_rec(p, TAG_FEATURE, 8);
	le64(p + UVFIO_MIG_REC_SIZE, t->feature_value);
	p += UVFIO_MIG_REC_SIZE + 8;
	uvfio_mig_encode_rec(p, UVFIO_MIG_TAG_END, 0);
	p += UVFIO_MIG_REC_SIZE;
	s->olen = (size_t)(p - s->obuf);
	s->opos = 0;
	s->tail_sent = true;
}

/* Stage the next piece; false: nothing more now. Lock held. */
static bool stage_next(struct testdev *t, bool stop_copy)
{
	struct td_save *s = &t->save;
	struct uvfio_mig_id id;

	if (!s->hdr_sent) {
		td_id(t, &id);
		uvfio_mig_encode_header(s->obuf, &id);
		s->olen = UVFIO_MIG_HDR_SIZE;
		s->opos = 0;
		s->hdr_sent = true;
		return true;
	}
	if (s->tail_sent)
		return false;
	if (t->state_dirty && stage_state(t))
		return true;
	if (!stop_copy)
		return false; /* the end of a pre-copy round */
	stage_tail(t);
	return true;
}

static ssize_t td_save(struct uvfio_device *dev, void *buf, size_t len)
{
	struct testdev *t = td(dev);
	struct td_save *s = &t->save;
	uint8_t *out = buf;
	size_t done = 0;

	pthread_mutex_lock(&t->lock);
	/* Fill the whole buffer: a short read means the end (of a round). */
	while (done < len) {
		size_t n;

		/*
		 * State records go straight into the caller's buffer when a
		 * page fits: one copy of each page on the way out.
		 */
		if (s->opos == s->olen && s->hdr_sent && !s->tail_sent && t->state_dirty &&
		    len - done >= STATE_REC_MIN) {
			n = put_state(t, out + done, len - done);
			if (n) {
				done += n;
				continue;
			}
			if (!s->stop_copy)
				break; /* the end of a pre-copy round */
		}
		if (s->opos == s->olen && !stage_next(t, s->stop_copy))
			break;
		n = s->olen - s->opos;
		if (n > len - done)
			n = len - done;
		memcpy(out + done, s->obuf + s->opos, n);
		s->opos += n;
		done += n;
	}
	pthread_mutex_unlock(&t->lock);
	return (ssize_t)done;
}

/* ---- resuming ------------------------------------------------------------------ */

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int load_fail(struct uvfio_device *dev, struct td_load *l, const char *what)
{
	uvfio_dev_log(dev, UVFIO_LOG_ERR, "migration stream refused: %s", what);
	l->err = -EINVAL;
	return l->err;
}

/* A record header arrived: check tag and length before any value byte. */
static int load_rec(struct uvfio_device *dev, struct testdev *t, struct td_load *l)
{
	uint32_t len;
	uint16_t tag;

	if (uvfio_mig_decode_rec(l->rec, &tag, &len))
		return load_fail(dev, l, "reserved bits in a record header");
	if (tag == UVFIO_MIG_TAG_END) {
		if (len)
			return load_fail(dev, l, "END with a length");
		l->done = true;
		return 0;
	}
	if (tag >= TAG_REGS && tag <= TAG_FEATURE && (l->seen & (1u << tag)))
		return load_fail(dev, l, "a record twice");
	switch (tag) {
	case TAG_STATE:
		if (!t->state_size || len <= 8 || len - 8 > TD_RUN_PAGES * TD_PAGE)
			return load_fail(dev, l, "bad STATE record length");
		break;
	case TAG_REGS:
		if (len != TESTDEV_REGS_SIZE)
			return load_fail(dev, l, "bad REGS length");
		break;
	case TAG_MEM:
		if (len != TESTDEV_MEMFD_SIZE)
			return load_fail(dev, l, "bad MEM length");
		break;
	case TAG_FEATURE:
		if (len != 8)
			return load_fail(dev, l, "bad FEATURE length");
		break;
	default:
		return load_fail(dev, l, "unknown record");
	}
	l->seen |= 1u << tag;
	l->tag = tag;
	l->val_len = len;
	l->val_pos = 0;
	return 0;
}

/* Take up to n value bytes of the current record; returns bytes taken. */
static size_t load_value(struct uvfio_device *dev, struct testdev *t, struct td_load *l,
			 const uint8_t *p, size_t n)
{
	size_t k = l->val_len - l->val_pos;

	if (k > n)
		k = n;
	if (l->tag == TAG_STATE) {
		size_t used = 0;

		if (l->val_pos < 8) {
			used = 8 - l->val_pos < k ? 8 - l->val_pos : k;
			memcpy(l->offb + l->val_pos, p, used);
			l->val_pos += (uint32_t)used;
			if (l->val_pos < 8)
				return used;
			l->state_off = ld64(l->offb);
			/* the whole record must land inside the state */
			if (l->state_off % TD_PAGE || l->state_off > t->state_size ||
			    l->val_len - 8 > t->state_size - l->state_off) {
				load_fail(dev, l, "STATE record outside the state");
				return used;
			}
		}
		if (k > used) {
			pthread_mutex_lock(&t->lock);
			memcpy(t->state + l->state_off + (l->val_pos - 8), p + used, k - used);
			pthread_mutex_unlock(&t->lock);
			l->val_pos += (uint32_t)(k - used);
		}
	} else {
		uint8_t *dst = l->tag == TAG_REGS ? l->regs :
			       l->tag == TAG_MEM  ? l->mem : l->offb;

		memcpy(dst + l->val_pos, p, k);
		l->val_pos += (uint32_t)k;
		if (l->tag == TAG_FEATURE && l->val_pos == 8)
			l->feature = ld64(l->offb);
	}
	if (l->val_pos == l->val_len)
		l->rec_len = 0; /* record complete: next header */
	return k;
}

static int td_load(struct uvfio_device *dev, const void *buf, size_t len)
{
	struct testdev *t = td(dev);
	struct td_load *l = t->load;
	const uint8_t *p = buf;
	struct uvfio_mig_id id;

	if (!l)
		return -EINVAL;
	while (len && !l->err) {
		size_t k;

		if (l->done)
			return load_fail(dev, l, "bytes after END");
		if (l->hdr_len < UVFIO_MIG_HDR_SIZE) {
			k = UVFIO_MIG_HDR_SIZE - l->hdr_len < len ? UVFIO_MIG_HDR_SIZE - l->hdr_len : len;
			memcpy(l->hdr + l->hdr_len, p, k);
			l->hdr_len += k;
			if (l->hdr_len == UVFIO_MIG_HDR_SIZE) {
				td_id(t, &id);
				if (uvfio_mig_check_header(l->hdr, &id, uvfio_device_name(dev)))
					l->err = -EINVAL;
			}
		} else if (l->rec_len < UVFIO_MIG_REC_SIZE) {
			k = UVFIO_MIG_REC_SIZE - l->rec_len < len ? UVFIO_MIG_REC_SIZE - l->rec_len : len;
			memcpy(l->rec + l->rec_len, p, k);
			l->rec_len += k;
			if (l->rec_len == UVFIO_MIG_REC_SIZE) {
				load_rec(dev, t, l);
				if (l->done)
					l->rec_len = 0;
			}
		} else {
			k = load_value(dev, t, l, p, len);
		}
		p += k;
		len -= k;
	}
	return l->err;
}

/* RESUMING -> STOP: everything came and checked out; apply the staged parts. */
static int load_finish(struct uvfio_device *dev, struct testdev *t)
{
	struct td_load *l = t->load;

	if (l->err)
		return l->err;
	if (l->hdr_len < UVFIO_MIG_HDR_SIZE || !l->done || (l->seen & TAIL_TAGS) != TAIL_TAGS) {
		uvfio_dev_log(dev, UVFIO_LOG_ERR, "migration stream refused: %s",
			      l->done ? "a record is missing" : "cut short (no END)");
		return -EINVAL;
	}
	pthread_mutex_lock(&t->lock);
	memcpy(t->regs, l->regs, sizeof(t->regs));
	memcpy(t->mem, l->mem, sizeof(l->mem));
	t->feature_value = l->feature;
	/* the ID register is the device's, whatever the stream says */
	memcpy(t->regs + TESTDEV_REG_ID, &(uint64_t){ TESTDEV_ID }, 8);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/* ---- state machine -------------------------------------------------------------- */

static bool saving(enum uvfio_mig_state s)
{
	return s == UVFIO_MIG_PRE_COPY || s == UVFIO_MIG_STOP_COPY;
}

static int td_mig_set_state(struct uvfio_device *dev, enum uvfio_mig_state from,
			    enum uvfio_mig_state to)
{
	struct testdev *t = td(dev);
	int ret = 0;

	if (saving(to) && !saving(from)) {
		/* A new saving session: every page once, from the top. */
		pthread_mutex_lock(&t->lock);
		if (!t->save.obuf)
			t->save.obuf = malloc(OBUF_SIZE);
		if (!t->save.obuf) {
			pthread_mutex_unlock(&t->lock);
			return -ENOMEM;
		}
		t->save.hdr_sent = t->save.tail_sent = false;
		t->save.first_pass = true;
		t->save.cursor = 0;
		t->save.olen = t->save.opos = 0;
		if (t->state_dirty)
			memset(t->state_dirty, 0xff, (npages(t) + 63) / 64 * 8);
		pthread_mutex_unlock(&t->lock);
	}
	pthread_mutex_lock(&t->lock);
	t->save.active = saving(to);
	t->save.stop_copy = to == UVFIO_MIG_STOP_COPY;
	/* Into STOP_COPY: what is dirty now goes in one last scan from the top. */
	if (to == UVFIO_MIG_STOP_COPY && from == UVFIO_MIG_PRE_COPY)
		t->save.cursor = 0;
	pthread_mutex_unlock(&t->lock);
	if (to == UVFIO_MIG_RESUMING) {
		free(t->load);
		t->load = calloc(1, sizeof(*t->load));
		if (!t->load)
			return -ENOMEM;
	}
	if (from == UVFIO_MIG_RESUMING) {
		ret = load_finish(dev, t);
		free(t->load);
		t->load = NULL;
	}
	return ret;
}

static int td_mig_data_size(struct uvfio_device *dev, uint64_t *len)
{
	struct testdev *t = td(dev);

	pthread_mutex_lock(&t->lock);
	*len = UVFIO_MIG_HDR_SIZE + 4 * UVFIO_MIG_REC_SIZE + TESTDEV_REGS_SIZE +
	       TESTDEV_MEMFD_SIZE + 8;
	if (t->state_dirty) {
		uint64_t d = t->save.active ? dirty_count(t, 0) : npages(t);

		*len += d * TD_PAGE + (d / TD_RUN_PAGES + 1) * (UVFIO_MIG_REC_SIZE + 8);
	}
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static int td_mig_precopy_info(struct uvfio_device *dev, uint64_t *initial, uint64_t *dirty)
{
	struct testdev *t = td(dev);

	/* The core called us in PRE_COPY only. */
	pthread_mutex_lock(&t->lock);
	*initial = *dirty = 0;
	if (t->state_dirty) {
		if (t->save.first_pass)
			*initial = dirty_count(t, t->save.cursor) * TD_PAGE;
		else
			*dirty = dirty_count(t, 0) * TD_PAGE;
	}
	if (!t->save.hdr_sent)
		*initial += UVFIO_MIG_HDR_SIZE;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

const struct uvfio_migration_ops testdev_mig_ops = {
	.flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY,
	.set_state = td_mig_set_state,
	.save = td_save,
	.load = td_load,
	.data_size = td_mig_data_size,
	.precopy_info = td_mig_precopy_info,
};

void testdev_mig_fini(struct testdev *t)
{
	free(t->save.obuf);
	t->save.obuf = NULL;
	free(t->load);
	t->load = NULL;
}
