/* SPDX-License-Identifier: MIT */
/*
 * Client-side migration driver (include/uvfio/migrate.h): the state machine
 * walk on both ends and the data pump between them.
 *
 * The pump overlaps the two connections: a reader thread pulls chunks from
 * the source while the caller's thread writes the previous ones to the
 * destination, through a small ring of buffers. Sequentially each byte
 * would wait for two round trips; overlapped, the slower socket sets the
 * pace.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uvfio/log.h>
#include <uvfio/migrate.h>

#include "core/vfio_compat.h"

#define DEF_CHUNK (1u << 20)
#define DEF_ITER 8u
#define DEF_CONVERGE (1u << 20)
#define RING 4u

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void why(const struct uvfio_migrate_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void why(const struct uvfio_migrate_opts *o, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	uvfio_log(UVFIO_LOG_ERR, "migrate", "%s", msg);
	if (o->why && o->why_len)
		snprintf(o->why, o->why_len, "%s", msg);
}

/* ---- MIG_DEVICE_STATE / MIGRATION ------------------------------------------- */

/* struct vfio_device_feature's layout (argsz, flags, data[]) spelled out:
 * a struct with a flexible array inside another is a GNU extension. */
struct feat_hdr {
	uint32_t argsz;
	uint32_t flags;
};
_Static_assert(sizeof(struct feat_hdr) == sizeof(struct vfio_device_feature), "feature hdr");

struct feat_state {
	struct feat_hdr h;
	struct vfio_device_feature_mig_state s;
};

int uvfio_client_mig_set_state(struct uvfio_client *c, uint32_t state)
{
	struct feat_state m = {
		.h = { .argsz = sizeof(m),
		       .flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE },
		.s = { .device_state = state, .data_fd = -1 },
	};

	return uvfio_client_feature(c, &m);
}

int uvfio_client_mig_get_state(struct uvfio_client *c, uint32_t *state)
{
	struct feat_state m = {
		.h = { .argsz = sizeof(m),
		       .flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE },
	};
	int ret = uvfio_client_feature(c, &m);

	if (!ret)
		*state = m.s.device_state;
	return ret;
}

int uvfio_client_mig_flags(struct uvfio_client *c, uint64_t *flags)
{
	struct {
		struct feat_hdr h;
		struct vfio_device_feature_migration m;
	} f = {
		.h = { .argsz = sizeof(f),
		       .flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION },
	};
	int ret = uvfio_client_feature(c, &f);

	if (!ret)
		*flags = f.m.flags;
	return ret;
}

/* ---- the pump ---------------------------------------------------------------- */

struct pump {
	struct uvfio_client *src;
	size_t chunk;
	bool precopy;	  /* a pre-copy round: ENOMSG ends it */
	bool until_short; /* and so does a short read (vfio-user's end mark) */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint8_t *buf[RING];
	ssize_t len[RING];
	unsigned int head, tail; /* filled: [tail, head) */
	bool done, stop;
	int err;
};

static void *pump_reader(void *arg)
{
	struct pump *p = arg;

	for (;;) {
		unsigned int slot;
		ssize_t n;

		pthread_mutex_lock(&p->lock);
		while (p->head - p->tail == RING && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stop) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		slot = p->head % RING;
		pthread_mutex_unlock(&p->lock);

		n = uvfio_client_mig_read(p->src, p->buf[slot], p->chunk);

		pthread_mutex_lock(&p->lock);
		if (n == -ENOMSG && p->precopy) {
			p->done = true; /* the kernel's data_fd: nothing more for now */
		} else if (n < 0) {
			p->err = (int)n;
			p->done = true;
		} else {
			if (n > 0) {
				p->len[slot] = n;
				p->head++;
			}
			if (!n || (p->until_short && (size_t)n < p->chunk))
				p->done = true;
		}
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
		if (p->done)
			break;
	}
	return NULL;
}

/*
 * Move one phase's bytes: until the end of a pre-copy round or an empty
 * read (stop-copy). *moved counts the bytes; progress is called per chunk.
 */
static int pump_run(struct uvfio_client *src, struct uvfio_client *dst, size_t chunk,
		    bool precopy, uint64_t *moved, const struct uvfio_migrate_opts *o,
		    struct uvfio_migrate_stats *st)
{
	/*
	 * A short MIG_DATA_READ reply is vfio-user's end of a round; the
	 * kernel's read() may come back short anywhere and says ENOMSG.
	 */
	struct pump p = { .src = src, .chunk = chunk, .precopy = precopy,
			  .until_short = precopy && !strcmp(uvfio_client_backend(src), "vfio-user") };
	pthread_t th;
	int ret = 0, wret = 0;
	unsigned int i;

	for (i = 0; i < RING; i++) {
		p.buf[i] = malloc(chunk);
		if (!p.buf[i]) {
			ret = -ENOMEM;
			goto out_free;
		}
	}
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.cond, NULL);
	ret = -pthread_create(&th, NULL, pump_reader, &p);
	if (ret)
		goto out_sync;

	for (;;) {
		unsigned int slot;
		ssize_t n;

		pthread_mutex_lock(&p.lock);
		while (p.head == p.tail && !p.done)
			pthread_cond_wait(&p.cond, &p.lock);
		if (p.head == p.tail) { /* done and drained */
			pthread_mutex_unlock(&p.lock);
			break;
		}
		slot = p.tail % RING;
		n = p.len[slot];
		pthread_mutex_unlock(&p.lock);

		wret = uvfio_client_mig_write(dst, p.buf[slot], (size_t)n);
		if (wret)
			break;
		*moved += (uint64_t)n;
		st->bytes += (uint64_t)n;
		if (o->progress)
			o->progress(st, o->opaque);

		pthread_mutex_lock(&p.lock);
		p.tail++;
		pthread_cond_broadcast(&p.cond);
		pthread_mutex_unlock(&p.lock);
	}
	pthread_mutex_lock(&p.lock);
	p.stop = true;
	pthread_cond_broadcast(&p.cond);
	pthread_mutex_unlock(&p.lock);
	pthread_join(th, NULL);
	ret = p.err ? p.err : wret;
	if (p.err)
		why(o, "reading the source's stream: %s", strerror(-p.err));
	else if (wret == -EINVAL)
		why(o, "destination refused the stream (%s): incompatible device or bad stream",
		    strerror(-wret));
	else if (wret)
		why(o, "writing the destination's stream: %s", strerror(-wret));
out_sync:
	pthread_cond_destroy(&p.cond);
	pthread_mutex_destroy(&p.lock);
out_free:
	for (i = 0; i < RING; i++)
		free(p.buf[i]);
	return ret;
}

/* ---- the walk ---------------------------------------------------------------- */

static int set_state(struct uvfio_client *c, const char *side, uint32_t state,
		     const struct uvfio_migrate_opts *o)
{
	static const char *const names[] = { "ERROR", "STOP", "RUNNING", "STOP_COPY",
					     "RESUMING", "RUNNING_P2P", "PRE_COPY",
					     "PRE_COPY_P2P" };
	int ret = uvfio_client_mig_set_state(c, state);

	if (ret)
		why(o, "%s -> %s: %s", side, state < 8 ? names[state] : "?", strerror(-ret));
	return ret;
}

/* Leave the source running and the destination fresh, whatever happened. */
static void roll_back(struct uvfio_client *src, struct uvfio_client *dst, bool dst_touched)
{
	uint32_t s = 0;

	if (uvfio_client_mig_set_state(src, UVFIO_MIG_RUNNING)) {
		/* ERROR (or a failed arc): only reset leaves it */
		if (uvfio_client_reset(src) ||
		    (!uvfio_client_mig_get_state(src, &s) && s != UVFIO_MIG_RUNNING))
			uvfio_log(UVFIO_LOG_ERR, "migrate", "source could not be brought back to RUNNING");
		else
			uvfio_log(UVFIO_LOG_WARN, "migrate", "source was reset to leave ERROR");
	}
	if (dst_touched && uvfio_client_reset(dst))
		uvfio_log(UVFIO_LOG_ERR, "migrate", "destination reset failed");
}

int uvfio_migrate(struct uvfio_client *src, struct uvfio_client *dst,
		  const struct uvfio_migrate_opts *opts,
		  struct uvfio_migrate_stats *stats)
{
	struct uvfio_migrate_opts o = { 0 };
	struct uvfio_migrate_stats st = { .phase = "precopy" };
	uint64_t sflags = 0, dflags = 0, moved;
	double t0 = now_ms(), t_stop;
	size_t chunk;
	int ret;

	if (opts)
		o = *opts;
	chunk = o.chunk ? o.chunk : DEF_CHUNK;
	if (!o.max_iterations)
		o.max_iterations = DEF_ITER;
	if (!o.converge_bytes)
		o.converge_bytes = DEF_CONVERGE;

	ret = uvfio_client_mig_flags(src, &sflags);
	if (ret || !(sflags & VFIO_MIGRATION_STOP_COPY)) {
		why(&o, "source device does not migrate (%s)", ret ? strerror(-ret) : "no STOP_COPY");
		return ret ? ret : -EOPNOTSUPP;
	}
	ret = uvfio_client_mig_flags(dst, &dflags);
	if (ret || !(dflags & VFIO_MIGRATION_STOP_COPY)) {
		why(&o, "destination device does not migrate (%s)",
		    ret ? strerror(-ret) : "no STOP_COPY");
		return ret ? ret : -EOPNOTSUPP;
	}

	ret = set_state(dst, "destination", UVFIO_MIG_RESUMING, &o);
	if (ret)
		goto fail;

	if ((sflags & VFIO_MIGRATION_PRE_COPY) && !o.no_precopy) {
		ret = set_state(src, "source", UVFIO_MIG_PRE_COPY, &o);
		if (ret)
			goto fail;
		while (st.iterations < o.max_iterations) {
			moved = 0;
			ret = pump_run(src, dst, chunk, true, &moved, &o, &st);
			if (ret)
				goto fail;
			st.iterations++;
			st.precopy_bytes += moved;
			if (o.progress) /* a round's end is news too */
				o.progress(&st, o.opaque);
			/* A round this small: the rest fits in the downtime. */
			if (moved <= o.converge_bytes)
				break;
		}
	}

	if (o.before_stop)
		o.before_stop(o.opaque);
	st.phase = "stopcopy";
	t_stop = now_ms();
	ret = set_state(src, "source", UVFIO_MIG_STOP_COPY, &o);
	if (ret)
		goto fail;
	moved = 0;
	ret = pump_run(src, dst, chunk, false, &moved, &o, &st);
	if (ret)
		goto fail;
	ret = set_state(dst, "destination", UVFIO_MIG_STOP, &o);
	if (ret) {
		why(&o, "destination refused the stream (%s): incompatible device or bad stream",
		    strerror(-ret));
		goto fail;
	}
	ret = set_state(dst, "destination", UVFIO_MIG_RUNNING, &o);
	if (ret)
		goto fail;
	st.downtime_ms = now_ms() - t_stop;
	/* The state lives on at the destination; the source stays stopped. */
	ret = set_state(src, "source", UVFIO_MIG_STOP, &o);
	if (ret)
		uvfio_log(UVFIO_LOG_WARN, "migrate", "source -> STOP after the move failed");
	st.phase = "done";
	st.total_ms = now_ms() - t0;
	if (o.progress)
		o.progress(&st, o.opaque);
	if (stats)
		*stats = st;
	return 0;

fail:
	roll_back(src, dst, true);
	st.total_ms = now_ms() - t0;
	if (stats)
		*stats = st;
	return ret;
}
