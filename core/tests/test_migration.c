/* SPDX-License-Identifier: MIT */
/* Migration v2: the next-state table for every (from, to) pair and flag
 * combination, arcs walked through the hook, failure to ERROR, features. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/device_internal.h"

#define ST(x) UVFIO_MIG_##x
#define NR UVFIO_MIG_NR_STATES
#define SC VFIO_MIGRATION_STOP_COPY
#define P2P VFIO_MIGRATION_P2P
#define PRE VFIO_MIGRATION_PRE_COPY

/* Column order of the reference table: STOP, RUNNING, STOP_COPY, RESUMING,
 * RUNNING_P2P, PRE_COPY, PRE_COPY_P2P, ERROR. */
static const enum uvfio_mig_state cols[NR] = {
	ST(STOP), ST(RUNNING), ST(STOP_COPY), ST(RESUMING),
	ST(RUNNING_P2P), ST(PRE_COPY), ST(PRE_COPY_P2P), ST(ERROR),
};

/* Reference §1.4, "Next-step table", copied row by row. */
static const struct {
	enum uvfio_mig_state cur;
	enum uvfio_mig_state next[NR]; /* in `cols` order */
} ref_rows[NR] = {
	{ ST(STOP), { ST(STOP), ST(RUNNING_P2P), ST(STOP_COPY), ST(RESUMING),
		      ST(RUNNING_P2P), ST(RUNNING_P2P), ST(RUNNING_P2P), ST(ERROR) } },
	{ ST(RUNNING), { ST(RUNNING_P2P), ST(RUNNING), ST(RUNNING_P2P), ST(RUNNING_P2P),
			 ST(RUNNING_P2P), ST(PRE_COPY), ST(RUNNING_P2P), ST(ERROR) } },
	{ ST(STOP_COPY), { ST(STOP), ST(STOP), ST(STOP_COPY), ST(STOP),
			   ST(STOP), ST(ERROR), ST(ERROR), ST(ERROR) } },
	{ ST(RESUMING), { ST(STOP), ST(STOP), ST(STOP), ST(RESUMING),
			  ST(STOP), ST(STOP), ST(STOP), ST(ERROR) } },
	{ ST(RUNNING_P2P), { ST(STOP), ST(RUNNING), ST(STOP), ST(STOP),
			     ST(RUNNING_P2P), ST(RUNNING), ST(PRE_COPY_P2P), ST(ERROR) } },
	{ ST(PRE_COPY), { ST(RUNNING), ST(RUNNING), ST(PRE_COPY_P2P), ST(RUNNING),
			  ST(RUNNING), ST(PRE_COPY), ST(PRE_COPY_P2P), ST(ERROR) } },
	{ ST(PRE_COPY_P2P), { ST(RUNNING_P2P), ST(RUNNING_P2P), ST(STOP_COPY), ST(RUNNING_P2P),
			      ST(RUNNING_P2P), ST(PRE_COPY), ST(PRE_COPY_P2P), ST(ERROR) } },
	{ ST(ERROR), { ST(ERROR), ST(ERROR), ST(ERROR), ST(ERROR),
		       ST(ERROR), ST(ERROR), ST(ERROR), ST(ERROR) } },
};

static enum uvfio_mig_state ref_table[NR][NR];

static void build_ref_table(void)
{
	for (int r = 0; r < NR; r++)
		for (int c = 0; c < NR; c++)
			ref_table[ref_rows[r].cur][cols[c]] = ref_rows[r].next[c];
}

/* Reference: which flags each state needs; ERROR is never supported. */
static bool ref_supported(uint64_t flags, enum uvfio_mig_state s)
{
	switch (s) {
	case ST(STOP): case ST(RUNNING): case ST(STOP_COPY): case ST(RESUMING):
		return flags & SC;
	case ST(RUNNING_P2P):
		return (flags & SC) && (flags & P2P);
	case ST(PRE_COPY):
		return (flags & SC) && (flags & PRE);
	case ST(PRE_COPY_P2P):
		return (flags & SC) && (flags & P2P) && (flags & PRE);
	default:
		return false;
	}
}

/* Expected answer of vfio_mig_get_next_state(): skip unsupported states by
 * re-reading the table from them, stop at ERROR. */
static int ref_next(uint64_t flags, int cur, int target, enum uvfio_mig_state *next)
{
	enum uvfio_mig_state n;

	if (cur >= NR || !ref_supported(flags, cur) ||
	    target >= NR || !ref_supported(flags, target))
		return -EINVAL;
	n = ref_table[cur][target];
	while (n != ST(ERROR) && !ref_supported(flags, n))
		n = ref_table[n][target];
	*next = n;
	return n == ST(ERROR) ? -EINVAL : 0;
}

static const uint64_t flag_sets[4] = { SC, SC | P2P, SC | PRE, SC | P2P | PRE };

static void test_next_state_all_pairs(void **state)
{
	int checked = 0, ok = 0;

	build_ref_table();
	for (int f = 0; f < 4; f++) {
		for (int cur = 0; cur <= NR; cur++) {
			for (int target = 0; target <= NR; target++) {
				enum uvfio_mig_state want = ST(ERROR), got = ST(ERROR);
				int wret = ref_next(flag_sets[f], cur, target, &want);
				int gret = uvfio_mig_next_state(flag_sets[f], cur, target, &got);

				if (gret != wret || (wret == 0 && got != want))
					print_message("flags %#lx %d -> %d: got %d/%d want %d/%d\n",
						      (unsigned long)flag_sets[f], cur, target,
						      gret, got, wret, want);
				assert_int_equal(gret, wret);
				if (wret == 0) {
					assert_int_equal(got, want);
					ok++;
				}
				checked++;
			}
		}
	}
	/* 4 flag sets x 9 x 9 (incl. out of range) pairs; the number of legal
	 * pairs is 4x4 + 5x5 + 5x5 + 7x7 minus the two STOP_COPY->PRE_COPY* arcs
	 * of each precopy set (1 + 2). */
	assert_int_equal(checked, 4 * 9 * 9);
	assert_int_equal(ok, 16 + 25 + 24 + 47);
}

static void test_next_state_spot(void **state)
{
	enum uvfio_mig_state n;

	/* Without P2P, RUNNING_P2P is skipped: RUNNING goes straight to STOP. */
	assert_int_equal(uvfio_mig_next_state(SC, ST(RUNNING), ST(STOP_COPY), &n), 0);
	assert_int_equal(n, ST(STOP));
	assert_int_equal(uvfio_mig_next_state(SC | P2P, ST(RUNNING), ST(STOP_COPY), &n), 0);
	assert_int_equal(n, ST(RUNNING_P2P));
	/* PRE_COPY without P2P goes to STOP_COPY directly. */
	assert_int_equal(uvfio_mig_next_state(SC | PRE, ST(PRE_COPY), ST(STOP_COPY), &n), 0);
	assert_int_equal(n, ST(STOP_COPY));
	/* Blocked arcs, ERROR, unsupported states, missing STOP_COPY. */
	assert_int_equal(uvfio_mig_next_state(SC | PRE, ST(STOP_COPY), ST(PRE_COPY), &n), -EINVAL);
	assert_int_equal(uvfio_mig_next_state(SC, ST(RUNNING), ST(ERROR), &n), -EINVAL);
	assert_int_equal(uvfio_mig_next_state(SC, ST(ERROR), ST(RUNNING), &n), -EINVAL);
	assert_int_equal(uvfio_mig_next_state(SC, ST(RUNNING), ST(RUNNING_P2P), &n), -EINVAL);
	assert_int_equal(uvfio_mig_next_state(P2P | PRE, ST(RUNNING), ST(STOP), &n), -EINVAL);
	assert_int_equal(uvfio_mig_next_state(SC, ST(RUNNING), ST(RUNNING), &n), 0);
	assert_int_equal(n, ST(RUNNING));
}

/* ---- a device that records the arcs it is asked to take ------------------ */

struct arc {
	enum uvfio_mig_state from, to;
};

struct migdev {
	struct uvfio_migration_ops mig;
	struct uvfio_device_ops ops;
	struct arc arcs[16];
	int nr_arcs;
	struct arc fail_on; /* arc whose hook fails, from == to: none */
	uint8_t stream[8];
	size_t pos, loaded;
};

static int m_set_state(struct uvfio_device *dev, enum uvfio_mig_state from,
		       enum uvfio_mig_state to)
{
	struct migdev *m = uvfio_device_priv(dev);

	if (m->nr_arcs < 16)
		m->arcs[m->nr_arcs++] = (struct arc){ from, to };
	if (m->fail_on.from != m->fail_on.to && from == m->fail_on.from &&
	    to == m->fail_on.to)
		return -EIO;
	if (to == ST(STOP_COPY) || to == ST(PRE_COPY) || to == ST(PRE_COPY_P2P))
		if (from != ST(PRE_COPY) && from != ST(PRE_COPY_P2P))
			m->pos = 0; /* a new saving session */
	return 0;
}

static ssize_t m_save(struct uvfio_device *dev, void *buf, size_t len)
{
	struct migdev *m = uvfio_device_priv(dev);
	size_t n = sizeof(m->stream) - m->pos;

	if (n > len)
		n = len;
	memcpy(buf, m->stream + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static int m_load(struct uvfio_device *dev, const void *buf, size_t len)
{
	struct migdev *m = uvfio_device_priv(dev);

	m->loaded += len;
	return 0;
}

static int m_data_size(struct uvfio_device *dev, uint64_t *len)
{
	*len = 8;
	return 0;
}

static int m_reset(struct uvfio_device *dev)
{
	return 0;
}

static struct uvfio_device *mig_device(struct migdev *m, uint64_t flags)
{
	struct uvfio_device *dev;

	memset(m, 0, sizeof(*m));
	memcpy(m->stream, "uvfiomig", 8);
	m->mig = (struct uvfio_migration_ops){
		.flags = flags, .set_state = m_set_state, .save = m_save,
		.load = m_load, .data_size = m_data_size,
	};
	m->ops = (struct uvfio_device_ops){ .reset = m_reset, .mig_ops = &m->mig };
	dev = uvfio_device_create("mig", &m->ops, m);
	assert_non_null(dev);
	assert_int_equal(uvfio_device_register(dev), 0);
	return dev;
}

/* Reference §1.4 "Direct arcs a driver must implement" per flag set. */
static bool ref_direct_arc(uint64_t flags, enum uvfio_mig_state a, enum uvfio_mig_state b)
{
	static const struct arc always[] = {
		{ ST(RESUMING), ST(STOP) }, { ST(STOP), ST(RESUMING) },
		{ ST(STOP), ST(STOP_COPY) }, { ST(STOP_COPY), ST(STOP) },
	};
	static const struct arc p2p[] = {
		{ ST(RUNNING), ST(RUNNING_P2P) }, { ST(RUNNING_P2P), ST(RUNNING) },
		{ ST(RUNNING_P2P), ST(STOP) }, { ST(STOP), ST(RUNNING_P2P) },
	};
	static const struct arc nop2p[] = {
		{ ST(RUNNING), ST(STOP) }, { ST(STOP), ST(RUNNING) },
	};
	static const struct arc pre[] = {
		{ ST(RUNNING), ST(PRE_COPY) }, { ST(PRE_COPY), ST(RUNNING) },
		{ ST(PRE_COPY), ST(STOP_COPY) },
	};
	static const struct arc pre_p2p[] = {
		{ ST(PRE_COPY), ST(PRE_COPY_P2P) }, { ST(PRE_COPY_P2P), ST(PRE_COPY) },
		{ ST(PRE_COPY_P2P), ST(RUNNING_P2P) }, { ST(PRE_COPY_P2P), ST(STOP_COPY) },
		{ ST(RUNNING_P2P), ST(PRE_COPY_P2P) },
	};
#define IN(set) for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++) \
		if (set[i].from == a && set[i].to == b) return true
	IN(always);
	if (flags & P2P) {
		IN(p2p);
	} else {
		IN(nop2p);
	}
	if (flags & PRE) {
		IN(pre);
	}
	if ((flags & PRE) && (flags & P2P)) {
		IN(pre_p2p);
	}
#undef IN
	return false;
}

static void test_walk_all_pairs(void **state)
{
	for (int f = 0; f < 4; f++) {
		uint64_t flags = flag_sets[f];

		for (int from = 1; from < NR; from++) {
			for (int to = 1; to < NR; to++) {
				struct migdev m;
				struct uvfio_device *dev;
				int ret;

				if (!ref_supported(flags, from) || !ref_supported(flags, to))
					continue;
				dev = mig_device(&m, flags);
				assert_int_equal(uvfio_device_mig_set_state(dev, from), 0);
				assert_int_equal(uvfio_device_mig_state(dev), from);
				m.nr_arcs = 0;

				ret = uvfio_device_mig_set_state(dev, to);
				if (from == ST(STOP_COPY) &&
				    (to == ST(PRE_COPY) || to == ST(PRE_COPY_P2P))) {
					/* Blocked: refused before any arc. */
					assert_int_equal(ret, -EINVAL);
					assert_int_equal(m.nr_arcs, 0);
					assert_int_equal(uvfio_device_mig_state(dev), from);
				} else {
					assert_int_equal(ret, 0);
					assert_int_equal(uvfio_device_mig_state(dev), to);
					for (int i = 0; i < m.nr_arcs; i++) {
						if (!ref_direct_arc(flags, m.arcs[i].from, m.arcs[i].to))
							print_message("flags %#lx %d->%d: arc %d->%d\n",
								      (unsigned long)flags, from, to,
								      m.arcs[i].from, m.arcs[i].to);
						assert_true(ref_direct_arc(flags, m.arcs[i].from,
									   m.arcs[i].to));
						/* Arcs chain and the saving group is never interior. */
						assert_int_equal(m.arcs[i].from,
								 i ? (int)m.arcs[i - 1].to : from);
						if (i + 1 < m.nr_arcs)
							assert_true(m.arcs[i].to != ST(STOP_COPY));
					}
					assert_int_equal(m.nr_arcs ? (int)m.arcs[m.nr_arcs - 1].to : from, to);
				}
				uvfio_device_unregister(dev);
			}
		}
	}
}

static void test_composite_paths(void **state)
{
	struct migdev m;
	struct uvfio_device *dev = mig_device(&m, SC | P2P | PRE);

	/* RUNNING -> STOP_COPY = RUNNING -> RUNNING_P2P -> STOP -> STOP_COPY */
	assert_int_equal(uvfio_device_mig_set_state(dev, ST(STOP_COPY)), 0);
	assert_int_equal(m.nr_arcs, 3);
	assert_int_equal(m.arcs[0].to, ST(RUNNING_P2P));
	assert_int_equal(m.arcs[1].to, ST(STOP));
	assert_int_equal(m.arcs[2].to, ST(STOP_COPY));
	/* STOP_COPY -> RUNNING = STOP -> RUNNING_P2P -> RUNNING */
	m.nr_arcs = 0;
	assert_int_equal(uvfio_device_mig_set_state(dev, ST(RUNNING)), 0);
	assert_int_equal(m.nr_arcs, 3);
	assert_int_equal(m.arcs[0].to, ST(STOP));
	assert_int_equal(m.arcs[1].to, ST(RUNNING_P2P));
	assert_int_equal(m.arcs[2].to, ST(RUNNING));
	/* Same state: no arc. */
	m.nr_arcs = 0;
	assert_int_equal(uvfio_device_mig_set_state(dev, ST(RUNNING)), 0);
	assert_int_equal(m.nr_arcs, 0);
	uvfio_device_unregister(dev);
}

static void test_hook_failure_error(void **state)
{
	struct migdev m;
	struct uvfio_device *dev = mig_device(&m, SC | P2P);

	m.fail_on = (struct arc){ ST(RUNNING_P2P), ST(STOP) };
	assert_int_equal(uvfio_device_mig_set_state(dev, ST(STOP_COPY)), -EIO);
	assert_int_equal(uvfio_device_mig_state(dev), ST(ERROR));
	assert_int_equal(m.nr_arcs, 2); /* the walk stopped at the failing arc */
	/* Nothing leaves ERROR but reset. */
	m.nr_arcs = 0;
	assert_int_equal(uvfio_device_mig_set_state(dev, ST(RUNNING)), -EINVAL);
	assert_int_equal(uvfio_device_mig_set_state(dev, ST(ERROR)), -EINVAL);
	assert_int_equal(m.nr_arcs, 0);
	assert_int_equal(uvfio_device_mig_state(dev), ST(ERROR));
	assert_int_equal(uvfio_device_reset(dev), 0);
	assert_int_equal(uvfio_device_mig_state(dev), ST(RUNNING));
	uvfio_device_unregister(dev);
}

static void test_stream(void **state)
{
	struct migdev m;
	struct uvfio_device *dev = mig_device(&m, SC | PRE);
	uint8_t buf[16];

	assert_int_equal(uvfio_device_mig_read(dev, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(uvfio_device_mig_write(dev, buf, 4), -EINVAL);
	assert_int_equal(uvfio_device_mig_set_state(dev, ST(PRE_COPY)), 0);
	assert_int_equal(uvfio_device_mig_read(dev, buf, 3), 3);
	assert_memory_equal(buf, "uvf", 3);
	assert_int_equal(uvfio_device_mig_set_state(dev, ST(STOP_COPY)), 0);
	assert_int_equal(uvfio_device_mig_read(dev, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "iomig", 5);
	assert_int_equal(uvfio_device_mig_read(dev, buf, sizeof(buf)), 0);
	assert_int_equal(uvfio_device_mig_write(dev, buf, 4), -EINVAL);
	assert_int_equal(uvfio_device_mig_set_state(dev, ST(RESUMING)), 0);
	assert_int_equal(uvfio_device_mig_read(dev, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(uvfio_device_mig_write(dev, buf, 4), 0);
	assert_int_equal(uvfio_device_mig_write(dev, buf, 3), 0);
	assert_int_equal(m.loaded, 7);
	uvfio_device_unregister(dev);
}


/* The last close puts a device left mid-migration back to RUNNING. */
static void test_last_close_runs(void **state)
{
	struct migdev m;
	struct uvfio_device *dev = mig_device(&m, SC);

	assert_int_equal(uvfio_device_open(dev), 0);
	assert_int_equal(uvfio_device_open(dev), 0);
	assert_int_equal(uvfio_device_mig_set_state(dev, ST(STOP_COPY)), 0);
	uvfio_device_close(dev);
	assert_int_equal(uvfio_device_mig_state(dev), ST(STOP_COPY)); /* still open */
	uvfio_device_close(dev);
	assert_int_equal(uvfio_device_mig_state(dev), ST(RUNNING));
	assert_int_equal(uvfio_device_open(dev), 0);
	assert_int_equal(uvfio_device_mig_set_state(dev, ST(RESUMING)), 0);
	uvfio_device_close(dev);
	assert_int_equal(uvfio_device_mig_state(dev), ST(RUNNING));
	uvfio_device_unregister(dev);
}

static int never_called(struct uvfio_device *dev, uint32_t flags, void *data,
			size_t len, size_t *out_len)
{
	fail();
	return 0;
}

static int feature(struct uvfio_device *dev, uint32_t flags, void *data,
		   size_t len, size_t *reply)
{
	uint8_t buf[64];
	struct vfio_device_feature hdr = { .argsz = (uint32_t)(8 + len), .flags = flags };
	int ret;

	assert_true(len <= sizeof(buf) - 8);
	memcpy(buf, &hdr, 8);
	memcpy(buf + 8, data, len);
	ret = uvfio_device_feature(dev, buf, sizeof(buf), reply);
	memcpy(data, buf + 8, len);
	return ret;
}

static void test_features(void **state)
{
	struct migdev m;
	struct uvfio_device *dev = mig_device(&m, SC | P2P);
	struct vfio_device_feature_migration mf = { 0 };
	struct vfio_device_feature_mig_state st = { 0 };
	struct vfio_device_feature_mig_data_size ds = { 0 };
	struct uvfio_feature dup = { VFIO_DEVICE_FEATURE_MIGRATION, VFIO_DEVICE_FEATURE_GET,
				     8, NULL };
	size_t reply = 0;

	dup.fn = never_called;
	assert_int_equal(uvfio_device_add_feature(dev, &dup), -EEXIST);

	assert_int_equal(feature(dev, VFIO_DEVICE_FEATURE_MIGRATION | VFIO_DEVICE_FEATURE_GET,
				 &mf, sizeof(mf), &reply), 0);
	assert_int_equal(mf.flags, SC | P2P);
	assert_int_equal(reply, 16);
	assert_int_equal(feature(dev, VFIO_DEVICE_FEATURE_MIGRATION | VFIO_DEVICE_FEATURE_SET,
				 &mf, sizeof(mf), NULL), -EINVAL);
	assert_int_equal(feature(dev, VFIO_DEVICE_FEATURE_MIGRATION | VFIO_DEVICE_FEATURE_GET,
				 &mf, 7, NULL), -EINVAL);

	st.data_fd = 1234;
	assert_int_equal(feature(dev, VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE |
				 VFIO_DEVICE_FEATURE_GET, &st, sizeof(st), &reply), 0);
	assert_int_equal(st.device_state, ST(RUNNING));
	assert_int_equal(st.data_fd, -1);
	assert_int_equal(reply, 16);

	st.device_state = ST(STOP_COPY);
	st.data_fd = 1234;
	assert_int_equal(feature(dev, VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE |
				 VFIO_DEVICE_FEATURE_SET, &st, sizeof(st), &reply), 0);
	assert_int_equal(st.data_fd, -1);
	assert_int_equal(reply, 8);
	assert_int_equal(uvfio_device_mig_state(dev), ST(STOP_COPY));
	/* ERROR cannot be requested; unsupported PRE_COPY neither. */
	st.device_state = ST(ERROR);
	assert_int_equal(feature(dev, VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE |
				 VFIO_DEVICE_FEATURE_SET, &st, sizeof(st), NULL), -EINVAL);
	st.device_state = ST(PRE_COPY);
	assert_int_equal(feature(dev, VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE |
				 VFIO_DEVICE_FEATURE_SET, &st, sizeof(st), NULL), -EINVAL);
	assert_int_equal(uvfio_device_mig_state(dev), ST(STOP_COPY));
	assert_int_equal(feature(dev, VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE |
				 VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
				 VFIO_DEVICE_FEATURE_SET, &st, 0, NULL), 0);

	assert_int_equal(feature(dev, VFIO_DEVICE_FEATURE_MIG_DATA_SIZE |
				 VFIO_DEVICE_FEATURE_GET, &ds, sizeof(ds), &reply), 0);
	assert_int_equal(ds.stop_copy_length, 8);
	assert_int_equal(reply, 16);
	/* Logging is not core-offered: no log ops in this model. */
	assert_int_equal(feature(dev, VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP |
				 VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET,
				 &ds, 0, NULL), -ENOTTY);
	uvfio_device_unregister(dev);
}

static void test_register_checks(void **state)
{
	struct migdev m;
	struct uvfio_device *dev;

	memset(&m, 0, sizeof(m));
	m.mig.flags = P2P; /* STOP_COPY is mandatory */
	m.mig.set_state = m_set_state;
	m.ops.mig_ops = &m.mig;
	dev = uvfio_device_create("mig-bad", &m.ops, &m);
	assert_int_equal(uvfio_device_register(dev), -EINVAL);
	m.mig.flags = SC;
	m.mig.set_state = NULL;
	assert_int_equal(uvfio_device_register(dev), -EINVAL);
	uvfio_device_destroy(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next_state_all_pairs),
		cmocka_unit_test(test_next_state_spot),
		cmocka_unit_test(test_walk_all_pairs),
		cmocka_unit_test(test_composite_paths),
		cmocka_unit_test(test_hook_failure_error),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_last_close_runs),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_register_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
