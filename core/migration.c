/* SPDX-License-Identifier: MIT */
/*
 * Migration v2: the kernel's next-state table and vfio_mig_get_next_state(),
 * composite transitions walked one arc at a time through mig_ops->set_state,
 * the saving/resuming stream gates, and the core features MIGRATION (1),
 * MIG_DEVICE_STATE (2) and MIG_DATA_SIZE (9).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "core/device_internal.h"

#define S(x) UVFIO_MIG_##x

/* table[cur][target]: the next state on the shortest path (vfio_main.c). */
static const enum uvfio_mig_state next_table[S(NR_STATES)][S(NR_STATES)] = {
	[S(STOP)] = {
		[S(STOP)] = S(STOP), [S(RUNNING)] = S(RUNNING_P2P),
		[S(STOP_COPY)] = S(STOP_COPY), [S(RESUMING)] = S(RESUMING),
		[S(RUNNING_P2P)] = S(RUNNING_P2P), [S(PRE_COPY)] = S(RUNNING_P2P),
		[S(PRE_COPY_P2P)] = S(RUNNING_P2P), [S(ERROR)] = S(ERROR),
	},
	[S(RUNNING)] = {
		[S(STOP)] = S(RUNNING_P2P), [S(RUNNING)] = S(RUNNING),
		[S(STOP_COPY)] = S(RUNNING_P2P), [S(RESUMING)] = S(RUNNING_P2P),
		[S(RUNNING_P2P)] = S(RUNNING_P2P), [S(PRE_COPY)] = S(PRE_COPY),
		[S(PRE_COPY_P2P)] = S(RUNNING_P2P), [S(ERROR)] = S(ERROR),
	},
	[S(STOP_COPY)] = {
		[S(STOP)] = S(STOP), [S(RUNNING)] = S(STOP),
		[S(STOP_COPY)] = S(STOP_COPY), [S(RESUMING)] = S(STOP),
		[S(RUNNING_P2P)] = S(STOP), [S(PRE_COPY)] = S(ERROR),
		[S(PRE_COPY_P2P)] = S(ERROR), [S(ERROR)] = S(ERROR),
	},
	[S(RESUMING)] = {
		[S(STOP)] = S(STOP), [S(RUNNING)] = S(STOP),
		[S(STOP_COPY)] = S(STOP), [S(RESUMING)] = S(RESUMING),
		[S(RUNNING_P2P)] = S(STOP), [S(PRE_COPY)] = S(STOP),
		[S(PRE_COPY_P2P)] = S(STOP), [S(ERROR)] = S(ERROR),
	},
	[S(RUNNING_P2P)] = {
		[S(STOP)] = S(STOP), [S(RUNNING)] = S(RUNNING),
		[S(STOP_COPY)] = S(STOP), [S(RESUMING)] = S(STOP),
		[S(RUNNING_P2P)] = S(RUNNING_P2P), [S(PRE_COPY)] = S(RUNNING),
		[S(PRE_COPY_P2P)] = S(PRE_COPY_P2P), [S(ERROR)] = S(ERROR),
	},
	[S(PRE_COPY)] = {
		[S(STOP)] = S(RUNNING), [S(RUNNING)] = S(RUNNING),
		[S(STOP_COPY)] = S(PRE_COPY_P2P), [S(RESUMING)] = S(RUNNING),
		[S(RUNNING_P2P)] = S(RUNNING), [S(PRE_COPY)] = S(PRE_COPY),
		[S(PRE_COPY_P2P)] = S(PRE_COPY_P2P), [S(ERROR)] = S(ERROR),
	},
	[S(PRE_COPY_P2P)] = {
		[S(STOP)] = S(RUNNING_P2P), [S(RUNNING)] = S(RUNNING_P2P),
		[S(STOP_COPY)] = S(STOP_COPY), [S(RESUMING)] = S(RUNNING_P2P),
		[S(RUNNING_P2P)] = S(RUNNING_P2P), [S(PRE_COPY)] = S(PRE_COPY),
		[S(PRE_COPY_P2P)] = S(PRE_COPY_P2P), [S(ERROR)] = S(ERROR),
	},
	[S(ERROR)] = {
		[S(STOP)] = S(ERROR), [S(RUNNING)] = S(ERROR),
		[S(STOP_COPY)] = S(ERROR), [S(RESUMING)] = S(ERROR),
		[S(RUNNING_P2P)] = S(ERROR), [S(PRE_COPY)] = S(ERROR),
		[S(PRE_COPY_P2P)] = S(ERROR), [S(ERROR)] = S(ERROR),
	},
};

/* Migration flags a state needs; ERROR needs everything (never requested). */
static const uint64_t state_flags[S(NR_STATES)] = {
	[S(STOP)] = VFIO_MIGRATION_STOP_COPY,
	[S(RUNNING)] = VFIO_MIGRATION_STOP_COPY,
	[S(STOP_COPY)] = VFIO_MIGRATION_STOP_COPY,
	[S(RESUMING)] = VFIO_MIGRATION_STOP_COPY,
	[S(RUNNING_P2P)] = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P,
	[S(PRE_COPY)] = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY,
	[S(PRE_COPY_P2P)] = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
			    VFIO_MIGRATION_PRE_COPY,
	[S(ERROR)] = ~(uint64_t)0,
};

static bool state_supported(uint64_t mig_flags, enum uvfio_mig_state s)
{
	return (state_flags[s] & mig_flags) == state_flags[s];
}

int uvfio_mig_next_state(uint64_t mig_flags, enum uvfio_mig_state cur,
			 enum uvfio_mig_state target, enum uvfio_mig_state *next)
{
	enum uvfio_mig_state n;

	if ((unsigned int)cur >= S(NR_STATES) || !state_supported(mig_flags, cur))
		return -EINVAL;
	if ((unsigned int)target >= S(NR_STATES) || !state_supported(mig_flags, target))
		return -EINVAL;

	/*
	 * Skip arcs through states this device lacks. The loop stops at ERROR:
	 * ERROR is "unsupported" too, and the kernel's loop as written spins
	 * forever on e.g. STOP_COPY -> PRE_COPY (fixed upstream in 2026 by the
	 * same extra test).
	 */
	n = next_table[cur][target];
	while (n != S(ERROR) && !state_supported(mig_flags, n))
		n = next_table[n][target];
	*next = n;
	return n == S(ERROR) ? -EINVAL : 0;
}

enum uvfio_mig_state uvfio_device_mig_state(struct uvfio_device *dev)
{
	enum uvfio_mig_state s;

	pthread_mutex_lock(&dev->mig_lock);
	s = dev->mig_state;
	pthread_mutex_unlock(&dev->mig_lock);
	return s;
}

static const char *state_name(enum uvfio_mig_state s)
{
	static const char *const names[S(NR_STATES)] = {
		"ERROR", "STOP", "RUNNING", "STOP_COPY", "RESUMING",
		"RUNNING_P2P", "PRE_COPY", "PRE_COPY_P2P",
	};

	return (unsigned int)s < S(NR_STATES) ? names[s] : "?";
}

/* mig_lock held. */
static int mig_set_state_locked(struct uvfio_device *dev, enum uvfio_mig_state target)
{
	const struct uvfio_migration_ops *mig = dev->ops->mig_ops;

	/*
	 * ERROR is never a valid target, even from ERROR (the drivers' "while
	 * (cur != new)" loops would report that as success).
	 */
	if ((unsigned int)target >= S(NR_STATES) || target == S(ERROR))
		return -EINVAL;
	while (dev->mig_state != target) {
		enum uvfio_mig_state cur = dev->mig_state, next;
		int ret;

		ret = uvfio_mig_next_state(mig->flags, cur, target, &next);
		if (ret)
			return ret; /* refused before any arc: state unchanged */
		ret = mig->set_state(dev, cur, next);
		if (ret) {
			if (ret > 0)
				ret = -ret;
			uvfio_dev_log(dev, UVFIO_LOG_ERR,
				      "migration arc %s -> %s failed (%s): ERROR",
				      state_name(cur), state_name(next), strerror(-ret));
			dev->mig_state = S(ERROR);
			return ret;
		}
		dev->mig_state = next;
	}
	return 0;
}

int uvfio_device_mig_set_state(struct uvfio_device *dev, enum uvfio_mig_state target)
{
	int ret;

	if (!dev->ops->mig_ops)
		return -ENOTTY;
	if (!dev->ops->mig_ops->set_state)
		return -EINVAL;
	pthread_mutex_lock(&dev->mig_lock);
	ret = mig_set_state_locked(dev, target);
	pthread_mutex_unlock(&dev->mig_lock);
	return ret;
}

void uvfio_mig_reset_state(struct uvfio_device *dev)
{
	/* The device was reset: whatever the stream state was, it runs again. */
	pthread_mutex_lock(&dev->mig_lock);
	dev->mig_state = S(RUNNING);
	pthread_mutex_unlock(&dev->mig_lock);
}

static bool state_saving(enum uvfio_mig_state s)
{
	return s == S(PRE_COPY) || s == S(PRE_COPY_P2P) || s == S(STOP_COPY);
}

ssize_t uvfio_device_mig_read(struct uvfio_device *dev, void *buf, size_t len)
{
	const struct uvfio_migration_ops *mig = dev->ops->mig_ops;
	ssize_t ret;

	if (!mig || !mig->save || len > SSIZE_MAX || (len && !buf))
		return -EINVAL;
	pthread_mutex_lock(&dev->mig_lock);
	if (!state_saving(dev->mig_state)) {
		ret = -EINVAL;
		goto out;
	}
	ret = mig->save(dev, buf, len);
	if (ret > (ssize_t)len) {
		uvfio_dev_log(dev, UVFIO_LOG_ERR, "save returned %zd for %zu bytes",
			      ret, len);
		ret = -EIO;
	}
out:
	pthread_mutex_unlock(&dev->mig_lock);
	return ret;
}

int uvfio_device_mig_precopy_info(struct uvfio_device *dev, uint64_t *initial_bytes,
				  uint64_t *dirty_bytes)
{
	const struct uvfio_migration_ops *mig = dev->ops->mig_ops;
	int ret;

	if (!mig)
		return -ENOTTY;
	if (!mig->precopy_info || !(mig->flags & VFIO_MIGRATION_PRE_COPY))
		return -EINVAL;
	pthread_mutex_lock(&dev->mig_lock);
	/* As the drivers' VFIO_MIG_GET_PRECOPY_INFO: pre-copy states only. */
	if (dev->mig_state != S(PRE_COPY) && dev->mig_state != S(PRE_COPY_P2P))
		ret = -EINVAL;
	else
		ret = mig->precopy_info(dev, initial_bytes, dirty_bytes);
	pthread_mutex_unlock(&dev->mig_lock);
	return ret > 0 ? -ret : ret;
}

int uvfio_device_mig_write(struct uvfio_device *dev, const void *buf, size_t len)
{
	const struct uvfio_migration_ops *mig = dev->ops->mig_ops;
	int ret;

	if (!mig || !mig->load || (len && !buf))
		return -EINVAL;
	pthread_mutex_lock(&dev->mig_lock);
	if (dev->mig_state != S(RESUMING))
		ret = -EINVAL;
	else
		ret = mig->load(dev, buf, len);
	pthread_mutex_unlock(&dev->mig_lock);
	return ret > 0 ? -ret : ret;
}

/* ---- core features ------------------------------------------------------ */

bool uvfio_mig_feature_index(uint16_t index)
{
	return index == VFIO_DEVICE_FEATURE_MIGRATION ||
	       index == VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE ||
	       index == VFIO_DEVICE_FEATURE_MIG_DATA_SIZE;
}

static int feature_migration(struct uvfio_device *dev, uint32_t flags, void *data,
			     size_t len, size_t *out_len)
{
	struct vfio_device_feature_migration m = { .flags = dev->ops->mig_ops->flags };
	int ret = uvfio_check_feature(flags, len, VFIO_DEVICE_FEATURE_GET, sizeof(m));

	if (ret != 1)
		return ret;
	memcpy(data, &m, sizeof(m));
	*out_len = sizeof(m);
	return 0;
}

static int feature_mig_state(struct uvfio_device *dev, uint32_t flags, void *data,
			     size_t len, size_t *out_len)
{
	struct vfio_device_feature_mig_state st;
	int ret = uvfio_check_feature(flags, len,
				      VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET,
				      sizeof(st));

	if (ret != 1)
		return ret;
	memcpy(&st, data, sizeof(st));
	if (flags & VFIO_DEVICE_FEATURE_GET) {
		st.device_state = uvfio_device_mig_state(dev);
		st.data_fd = -1;
		memcpy(data, &st, sizeof(st));
		*out_len = sizeof(st);
		return 0;
	}
	/*
	 * SET: the stream goes through MIG_DATA_READ/WRITE here, not an fd, so
	 * data_fd is always -1 and device_state stays as the user gave it.
	 */
	ret = uvfio_device_mig_set_state(dev, (enum uvfio_mig_state)st.device_state);
	st.data_fd = -1;
	memcpy(data, &st, sizeof(st));
	return ret;
}

static int feature_data_size(struct uvfio_device *dev, uint32_t flags, void *data,
			     size_t len, size_t *out_len)
{
	const struct uvfio_migration_ops *mig = dev->ops->mig_ops;
	struct vfio_device_feature_mig_data_size ds = { 0 };
	uint64_t n = 0;
	int ret;

	/* Not offered (not even to a probe) when the device cannot answer. */
	if (!mig->data_size)
		return -ENOTTY;
	ret = uvfio_check_feature(flags, len, VFIO_DEVICE_FEATURE_GET, sizeof(ds));
	if (ret != 1)
		return ret;
	/* Under mig_lock: the estimate must not race an arc building the stream. */
	pthread_mutex_lock(&dev->mig_lock);
	ret = mig->data_size(dev, &n);
	pthread_mutex_unlock(&dev->mig_lock);
	if (ret)
		return ret > 0 ? -ret : ret;
	ds.stop_copy_length = n;
	memcpy(data, &ds, sizeof(ds));
	*out_len = sizeof(ds);
	return 0;
}

int uvfio_mig_feature(struct uvfio_device *dev, uint32_t flags, void *data,
		      size_t len, size_t *out_len)
{
	if (!dev->ops->mig_ops)
		return -ENOTTY;
	switch (flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_MIGRATION:
		return feature_migration(dev, flags, data, len, out_len);
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
		return feature_mig_state(dev, flags, data, len, out_len);
	case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE:
		return feature_data_size(dev, flags, data, len, out_len);
	}
	return -ENOTTY;
}
