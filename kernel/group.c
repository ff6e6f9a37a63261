/* SPDX-License-Identifier: MIT */
/*
 * VFIO groups (/dev/vfio/N): opened once per process and shared by the
 * devices of the group, joined to the process's container while a device
 * of the group is open, detached and closed with the last one. A group that
 * is not viable (another device of it is bound to a host driver) is refused
 * with the devices that make it so, named from sysfs.
 *
 * Callers hold the handle registry lock (handle.c).
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <uvfio/log.h>

#include "kernel/kvfio.h"

struct kvfio_group {
	char name[32]; /* "5" or "noiommu-5" */
	int fd;
	unsigned int refs;
	struct kvfio_container *container;
	struct kvfio_group *next;
};

static struct kvfio_group *groups;

static void explain_not_viable(const char *name, const char *who)
{
	const char *nr = strncmp(name, "noiommu-", 8) ? name : name + 8;
	char msg[1024];
	int n = kvfio_group_viability(nr, msg, sizeof(msg));

	if (n > 0)
		uvfio_log(UVFIO_LOG_ERR, who, "%s", msg);
	else
		uvfio_log(UVFIO_LOG_ERR, who, "group %s is not viable: a device of "
			  "/sys/kernel/iommu_groups/%s/devices is bound to a host driver; "
			  "bind it to vfio-pci or unbind it", name, nr);
}

int kvfio_group_get(const struct kvfio_target *t, struct kvfio_group **out)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	const char *who = t->device;
	struct kvfio_group *g;
	int ret, cfd;

	for (g = groups; g; g = g->next) {
		if (!strcmp(g->name, t->group)) {
			g->refs++;
			*out = g;
			return 0;
		}
	}
	if (strlen(t->group) >= sizeof(g->name))
		return -ENAMETOOLONG;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	strcpy(g->name, t->group);
	g->fd = open(t->group_path, O_RDWR | O_CLOEXEC);
	if (g->fd < 0) {
		const struct kvfio_handle *h;

		ret = -errno;
		/* EBUSY: the group is open elsewhere, or (cdev kernels) a
		 * device of it is bound through its cdev, maybe by us. */
		if (ret == -EBUSY && (h = kvfio_handle_in_group(t->group, true)))
			uvfio_log(UVFIO_LOG_ERR, who, "open %s: %s: %s of this group is bound "
				  "through its cdev in this process (as %s): the kernel refuses a "
				  "group while a device of it is bound through its cdev", t->group_path,
				  strerror(-ret), h->device[0] ? h->device : "a device", h->name);
		else
			uvfio_log(UVFIO_LOG_ERR, who, "open %s: %s%s", t->group_path, strerror(-ret),
				  ret == -EBUSY ? " (another process has the group open, or has a "
				  "device of it bound through its cdev)" : "");
		goto err_free;
	}
	if (ioctl(g->fd, VFIO_GROUP_GET_STATUS, &st)) {
		ret = -errno;
		uvfio_log(UVFIO_LOG_ERR, who, "VFIO_GROUP_GET_STATUS: %s", strerror(-ret));
		goto err_close;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		explain_not_viable(g->name, who);
		ret = -EBUSY;
		goto err_close;
	}
	ret = kvfio_container_get(&g->container);
	if (ret)
		goto err_close;
	cfd = kvfio_container_fd(g->container);
	if (ioctl(g->fd, VFIO_GROUP_SET_CONTAINER, &cfd)) {
		ret = -errno;
		uvfio_log(UVFIO_LOG_ERR, who, "VFIO_GROUP_SET_CONTAINER (group %s): %s%s",
			  g->name, strerror(-ret), ret == -EPERM ?
			  " (noiommu and IOMMU groups cannot share the container)" : "");
		goto err_put;
	}
	ret = kvfio_container_set_iommu(g->container, who);
	if (ret)
		goto err_unset;
	g->refs = 1;
	g->next = groups;
	groups = g;
	*out = g;
	return 0;

err_unset:
	ioctl(g->fd, VFIO_GROUP_UNSET_CONTAINER);
err_put:
	kvfio_container_put(g->container);
err_close:
	close(g->fd);
err_free:
	free(g);
	return ret;
}

void kvfio_group_put(struct kvfio_group *g)
{
	struct kvfio_group **pp;

	if (!g || --g->refs)
		return;
	for (pp = &groups; *pp; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	/* Leave the container before dropping our reference on it, so the
	 * last group's departure tears the IOMMU down in order. */
	ioctl(g->fd, VFIO_GROUP_UNSET_CONTAINER);
	close(g->fd);
	kvfio_container_put(g->container);
	free(g);
}

int kvfio_group_device_fd(struct kvfio_group *g, const char *device,
			  const char *vf_token)
{
	char name[KVFIO_NAME_MAX + 64];
	int fd;

	/* vfio-pci's match(): "BDF vf_token=UUID" (vfio_pci_core_match). */
	if (vf_token)
		snprintf(name, sizeof(name), "%s vf_token=%s", device, vf_token);
	else
		snprintf(name, sizeof(name), "%s", device);
	fd = ioctl(g->fd, VFIO_GROUP_GET_DEVICE_FD, name);

	if (fd < 0) {
		int ret = -errno;
		char why[512];

		if (kvfio_vf_token_refusal(device, ret, vf_token != NULL, why, sizeof(why)))
			uvfio_log(UVFIO_LOG_ERR, device, "VFIO_GROUP_GET_DEVICE_FD (group %s): %s: %s",
				  g->name, strerror(-ret), why);
		else
			uvfio_log(UVFIO_LOG_ERR, device, "VFIO_GROUP_GET_DEVICE_FD (group %s): %s",
				  g->name, strerror(-ret));
		return ret;
	}
	return fd;
}

struct kvfio_container *kvfio_group_container(struct kvfio_group *g)
{
	return g->container;
}
