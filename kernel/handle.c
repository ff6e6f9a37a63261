/* SPDX-License-Identifier: MIT */
/*
 * Open devices of the kernel backend, refcounted and shared: two clients of
 * one device in a process share one device fd (a cdev can be bound to
 * iommufd only once, and a group's device fd serves any number of users).
 * The last put closes the device fd, then drops the group (which leaves the
 * container with its last device) or the iommufd.
 *
 * One lock guards this registry and, through it, the group list, the
 * container and the iommufd context, so opens and closes from several
 * threads see a consistent set.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <uvfio/log.h>
#include <uvfio/mdev.h>

#include "kernel/kvfio.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kvfio_handle *handles;

static int key_of(const struct kvfio_target *t, char *key, size_t len)
{
	if (t->cdev)
		return kvfio_path(key, len, "%s", t->cdev_path);
	return kvfio_path(key, len, "%s:%s", t->group_path, t->device);
}

/* The device behind a cdev node: /sys/class/vfio-dev/vfioX/device. */
static void cdev_device(const struct kvfio_target *t, char *out, size_t len)
{
	const char *node = strrchr(t->cdev_path, '/');
	char path[512];

	out[0] = 0;
	if (t->device[0]) {
		snprintf(out, len, "%s", t->device);
		return;
	}
	if (node && !kvfio_path(path, sizeof(path), "%s/class/vfio-dev/%s/device",
				kvfio_sysfs_root(), node + 1))
		kvfio_readlink_base(path, out, len);
}

/* The IOMMU group of the device behind a cdev node ("" if none). */
static void cdev_group(const struct kvfio_target *t, char *out, size_t len)
{
	const char *node = strrchr(t->cdev_path, '/');
	char path[512];

	out[0] = 0;
	if (t->group[0]) {
		snprintf(out, len, "%s", t->group);
		return;
	}
	if (node && !kvfio_path(path, sizeof(path), "%s/class/vfio-dev/%s/device/iommu_group",
				kvfio_sysfs_root(), node + 1))
		kvfio_readlink_base(path, out, len);
}

/* The running kernel is major.minor or newer (uname). */
static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

/*
 * VFIO_DEVICE_BIND_IOMMUFD failed with ret: log one line saying why, as far
 * as sysfs, the kernel's version and this process's open devices tell.
 * Returns the errno to report.
 */
static int bind_failed(struct kvfio_handle *h, const struct kvfio_target *t,
		       const uint8_t *tok, int ret)
{
	const struct kvfio_handle *other;
	char dev[KVFIO_NAME_MAX], grp[32], msg[1024];

	cdev_device(t, dev, sizeof(dev));
	cdev_group(t, grp, sizeof(grp));
	msg[0] = 0;
	if (dev[0] && kvfio_vf_token_refusal(dev, ret, tok != NULL, msg, sizeof(msg))) {
		/* vfio-pci's VF token rules (BIND_IOMMUFD, Linux 6.17+). */
	} else if (ret == -EINVAL && tok && !kernel_at_least(6, 17)) {
		snprintf(msg, sizeof(msg), "the kernel refused the VF token: before Linux 6.17 "
			 "VFIO_DEVICE_BIND_IOMMUFD takes none; open the device through its group "
			 "(?iommu=group)");
	} else if (ret == -EINVAL) {
		/* vfio_df_open(): a cdev opens a device only if nothing has it open. */
		snprintf(msg, sizeof(msg), "%s is already open elsewhere (another process's cdev "
			 "or a device fd from its group): the kernel binds a device's cdev only "
			 "while nothing else has the device open", dev[0] ? dev : t->cdev_path);
	} else if (ret == -EBUSY && grp[0] && (other = kvfio_handle_in_group(grp, false))) {
		/* vfio_device_block_group(): the group is open. */
		snprintf(msg, sizeof(msg), "its IOMMU group %s is open in this process (%s is "
			 "open through it as %s): the kernel binds a device's cdev only while its "
			 "group is closed", grp, other->device, other->name);
	} else if (t->group[0] && strncmp(t->group, "noiommu-", 8) &&
		   kvfio_group_viability(t->group, msg, sizeof(msg)) > 0) {
		/* iommufd refuses to own DMA of a group that a host driver
		 * shares: name that device, as the group path does. */
		ret = -EBUSY; /* as the group path reports it */
	} else if (ret == -EBUSY && grp[0]) {
		snprintf(msg, sizeof(msg), "its IOMMU group %s is open, by another process "
			 "(/dev/vfio/%s): the kernel binds a device's cdev only while its group "
			 "is closed", grp, grp);
	} else {
		msg[0] = 0;
	}
	uvfio_log(UVFIO_LOG_ERR, h->name, "VFIO_DEVICE_BIND_IOMMUFD (%s): %s%s%s", t->cdev_path,
		  strerror(-ret), msg[0] ? ": " : "", msg);
	return ret;
}

static int open_cdev(struct kvfio_handle *h, const struct kvfio_target *t,
		     const uint8_t *tok)
{
	int ret;

	h->fd = open(t->cdev_path, O_RDWR | O_CLOEXEC);
	if (h->fd < 0) {
		ret = -errno;
		uvfio_log(UVFIO_LOG_ERR, h->name, "open %s: %s", t->cdev_path, strerror(-ret));
		return ret;
	}
	ret = kvfio_iommufd_get(&h->iommufd);
	if (ret)
		goto err_close;
	ret = kvfio_iommufd_bind(h->iommufd, h->fd, tok);
	if (ret) {
		ret = bind_failed(h, t, tok, ret);
		goto err_put;
	}
	ret = kvfio_iommufd_attach(h->iommufd, h->fd, h->name);
	if (ret)
		goto err_put;
	h->cdev = true;
	cdev_device(t, h->device, sizeof(h->device));
	cdev_group(t, h->iommu_group, sizeof(h->iommu_group));
	return 0;

err_put:
	/* Close the device first: that unbinds it from the iommufd. */
	close(h->fd);
	h->fd = -1;
	kvfio_iommufd_put(h->iommufd);
	h->iommufd = NULL;
	return ret;
err_close:
	close(h->fd);
	h->fd = -1;
	return ret;
}

static int open_group(struct kvfio_handle *h, const struct kvfio_target *t,
		      const char *vf_token)
{
	int ret;

	ret = kvfio_group_get(t, &h->group);
	if (ret)
		return ret;
	ret = kvfio_group_device_fd(h->group, t->device, vf_token);
	if (ret < 0) {
		kvfio_group_put(h->group);
		h->group = NULL;
		return ret;
	}
	h->fd = ret;
	snprintf(h->device, sizeof(h->device), "%s", t->device);
	snprintf(h->iommu_group, sizeof(h->iommu_group), "%s", t->group);
	return 0;
}

/*
 * A second open of a device the process has open shares its fd, but the
 * kernel's VF token rules apply to it as to a second VFIO_GROUP_GET_DEVICE_FD
 * (vfio_pci_core_match() judges every one): the group path asks the kernel
 * again with a throwaway device fd. A cdev is bound once and the kernel
 * judges the token only then, so a shared cdev takes only the token it was
 * bound with.
 */
static int share(struct kvfio_handle *h, const struct kvfio_target *t, const uint8_t *tok,
		 const char *vf_token)
{
	int fd;

	if (h->cdev) {
		if (tok ? h->has_token && !memcmp(tok, h->vf_token, 16) : !h->has_token)
			return 0;
		uvfio_log(UVFIO_LOG_ERR, h->name, "already open in this process through %s, bound "
			  "with %s: the kernel judges a VF token only when a cdev is bound, so a "
			  "different one (or none) is refused", t->cdev_path,
			  h->has_token ? "another VF token" : "no VF token");
		return -EACCES;
	}
	fd = kvfio_group_device_fd(h->group, t->device, vf_token);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int kvfio_handle_open(const char *location, const char *vf_token,
		      struct kvfio_handle **out)
{
	struct kvfio_location loc;
	struct kvfio_target t;
	struct kvfio_handle *h;
	char key[sizeof(h->key)];
	uint8_t tok[16];
	int ret;

	*out = NULL;
	ret = kvfio_location_parse(location, &loc);
	if (ret)
		return ret;
	if (vf_token && uvfio_mdev_uuid_parse(vf_token, tok)) {
		uvfio_log(UVFIO_LOG_ERR, location, "vf_token \"%.40s\" is not a UUID (want "
			  "8-4-4-4-12 hex digits)", vf_token);
		return -EINVAL;
	}
	pthread_mutex_lock(&registry_lock);
	ret = kvfio_resolve(&loc, &t);
	if (ret)
		goto out;
	ret = key_of(&t, key, sizeof(key));
	if (ret)
		goto out;
	for (h = handles; h; h = h->next) {
		if (!strcmp(h->key, key)) {
			ret = share(h, &t, vf_token ? tok : NULL, vf_token);
			if (ret)
				goto out;
			h->refs++;
			*out = h;
			goto out;
		}
	}
	ret = -ENOMEM;
	h = calloc(1, sizeof(*h));
	if (!h)
		goto out;
	h->fd = -1;
	strcpy(h->key, key);
	snprintf(h->name, sizeof(h->name), "%s", location);
	ret = t.cdev ? open_cdev(h, &t, vf_token ? tok : NULL) : open_group(h, &t, vf_token);
	if (ret) {
		free(h);
		goto out;
	}
	h->has_token = vf_token != NULL;
	if (vf_token)
		memcpy(h->vf_token, tok, sizeof(tok));
	uvfio_log(UVFIO_LOG_INFO, h->name, "opened via %s", t.cdev ? t.cdev_path : t.group_path);
	h->refs = 1;
	h->next = handles;
	handles = h;
	*out = h;
out:
	pthread_mutex_unlock(&registry_lock);
	return ret;
}

void kvfio_handle_put(struct kvfio_handle *h)
{
	struct kvfio_handle **pp;

	if (!h)
		return;
	pthread_mutex_lock(&registry_lock);
	if (--h->refs) {
		pthread_mutex_unlock(&registry_lock);
		return;
	}
	for (pp = &handles; *pp; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	}
	close(h->fd);
	kvfio_group_put(h->group);
	kvfio_iommufd_put(h->iommufd);
	pthread_mutex_unlock(&registry_lock);
	free(h);
}

const struct kvfio_handle *kvfio_handle_in_group(const char *group, bool cdev)
{
	for (const struct kvfio_handle *h = handles; h; h = h->next)
		if (h->cdev == cdev && h->iommu_group[0] && !strcmp(h->iommu_group, group))
			return h;
	return NULL;
}

unsigned int kvfio_handle_count(void)
{
	unsigned int n = 0;

	pthread_mutex_lock(&registry_lock);
	for (struct kvfio_handle *h = handles; h; h = h->next)
		n++;
	pthread_mutex_unlock(&registry_lock);
	return n;
}

int kvfio_handle_dma_map(struct kvfio_handle *h, uint64_t iova, uint64_t size,
			 void *vaddr, uint32_t prot)
{
	if (h->cdev)
		return kvfio_iommufd_dma_map(h->iommufd, iova, size, vaddr, prot, h->name);
	return kvfio_container_dma_map(kvfio_group_container(h->group), iova, size,
				       vaddr, prot, h->name);
}

int kvfio_handle_dma_unmap(struct kvfio_handle *h, uint64_t iova, uint64_t size,
			   uint64_t *unmapped)
{
	if (h->cdev)
		return kvfio_iommufd_dma_unmap(h->iommufd, iova, size, unmapped, h->name);
	return kvfio_container_dma_unmap(kvfio_group_container(h->group), iova, size,
					 unmapped, h->name);
}
