/* SPDX-License-Identifier: MIT */
/* VF serving for an SR-IOV PF on its server's thread (devices/sriov.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uvfio/log.h>
#include "devices/sriov.h"

struct uvfio_sriov_vf {
	struct uvfio_sriov_host *host;
	unsigned int index;
	struct uvfio_sample_dev sd;
	bool registered;
	struct uvfio_server *srv;
	int srv_fd; /* registered on the PF's server; -1 if not */
	int ev_fd;  /* the VF's own event fd, registered too; -1 if none */
};

void uvfio_sriov_host_init(struct uvfio_sriov_host *h, struct uvfio_pci_device *pf,
			   const struct uvfio_sriov_vf_ops *ops, void *opaque)
{
	memset(h, 0, sizeof(*h));
	h->pf = pf;
	h->ops = ops;
	h->opaque = opaque;
}

static bool vfs_in_use(struct uvfio_sriov_host *h)
{
	for (unsigned int i = 0; i < h->nr_vfs; i++)
		if (uvfio_device_open_count(h->vfs[i].sd.dev))
			return true;
	return false;
}

/* VERSION on the PF: with VFs in use, the client must know their token. */
static int pf_open_check(void *opaque, const uint8_t *token, const char *conn)
{
	struct uvfio_sriov_host *h = opaque;
	const char *why = NULL;
	int ret = uvfio_pci_sriov_check_pf_token(h->pf, token, vfs_in_use(h), &why);

	if (ret)
		uvfio_dev_log(uvfio_pci_to_device(h->pf), UVFIO_LOG_ERR,
			      "SR-IOV: PF open (%s) refused: %s", conn,
			      why ? why : strerror(-ret));
	else if (token)
		uvfio_dev_log(uvfio_pci_to_device(h->pf), UVFIO_LOG_INFO,
			      "SR-IOV: VF token set by the opening client (%s)", conn);
	return ret;
}

int uvfio_sriov_host_attach(struct uvfio_sriov_host *h, struct uvfio_server *srv,
			    const char *socket)
{
	size_t n;

	if (!socket)
		return -EINVAL;
	n = strlen(socket);
	if (n > 5 && !strcmp(socket + n - 5, ".sock"))
		n -= 5;
	h->base = strndup(socket, n);
	if (!h->base)
		return -ENOMEM;
	h->srv = srv;
	uvfio_server_set_open_check(srv, pf_open_check, h);
	return 0;
}

/* The VF server's socket is readable: serve it (inside the PF's dispatch). */
static void vf_dispatch(void *opaque)
{
	struct uvfio_sriov_vf *vf = opaque;
	int r = uvfio_server_dispatch(vf->srv, 0);

	if (r < 0 && r != -EINTR && r != -EAGAIN)
		uvfio_dev_log(vf->sd.dev, UVFIO_LOG_ERR, "VF server: %s", strerror(-r));
}

static void vf_event(void *opaque)
{
	struct uvfio_sriov_vf *vf = opaque;
	int r = vf->host->ops->handle_event(vf->sd.priv);

	if (r < 0)
		uvfio_dev_log(vf->sd.dev, UVFIO_LOG_WARN, "event handler: %s", strerror(-r));
}

/* VERSION on a VF: the kernel's VF token rules against the PF. */
static int vf_open_check(void *opaque, const uint8_t *token, const char *conn)
{
	struct uvfio_sriov_vf *vf = opaque;
	const char *why = NULL;
	int ret = uvfio_pci_sriov_check_vf_token(vf->host->pf, token, &why);

	if (ret)
		uvfio_dev_log(uvfio_pci_to_device(vf->host->pf), UVFIO_LOG_ERR,
			      "SR-IOV: VF %u (%s, %s): open refused: %s", vf->index,
			      uvfio_device_name(vf->sd.dev), conn, why ? why : strerror(-ret));
	return ret;
}

static void vf_down(struct uvfio_sriov_vf *vf)
{
	struct uvfio_sriov_host *h = vf->host;

	if (vf->ev_fd >= 0)
		uvfio_server_remove_fd(h->srv, vf->ev_fd);
	if (vf->srv_fd >= 0)
		uvfio_server_remove_fd(h->srv, vf->srv_fd);
	uvfio_server_destroy(vf->srv); /* closes its client, unlinks the socket */
	if (vf->registered)
		uvfio_device_unregister(vf->sd.dev);
	if (vf->sd.priv)
		h->ops->destroy(vf->sd.priv);
}

static int vf_up(struct uvfio_sriov_host *h, struct uvfio_sriov_vf *vf, unsigned int i)
{
	struct uvfio_server_opts opts = { .listen_fd = -1 };
	char path[4096];
	int ret;

	vf->host = h;
	vf->index = i;
	vf->srv_fd = vf->ev_fd = -1;
	if (snprintf(path, sizeof(path), "%s.vf%u.sock", h->base, i) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	ret = h->ops->create(h->opaque, i, &vf->sd);
	if (ret)
		return ret;
	ret = uvfio_device_register(vf->sd.dev);
	if (ret)
		goto err;
	vf->registered = true;
	ret = uvfio_server_create(vf->sd.dev, path, &opts, &vf->srv);
	if (ret)
		goto err;
	uvfio_server_set_open_check(vf->srv, vf_open_check, vf);
	ret = uvfio_server_add_fd(h->srv, uvfio_server_fd(vf->srv), vf_dispatch, vf);
	if (ret)
		goto err;
	vf->srv_fd = uvfio_server_fd(vf->srv);
	if (h->ops->event_fd && h->ops->handle_event) {
		int fd = h->ops->event_fd(vf->sd.priv);

		if (fd >= 0) {
			ret = uvfio_server_add_fd(h->srv, fd, vf_event, vf);
			if (ret)
				goto err;
			vf->ev_fd = fd;
		}
	}
	uvfio_dev_log(vf->sd.dev, UVFIO_LOG_INFO, "VF %u serving at %s", i, path);
	return 0;
err:
	vf_down(vf);
	return ret;
}

static void all_down(struct uvfio_sriov_host *h)
{
	while (h->nr_vfs)
		vf_down(&h->vfs[--h->nr_vfs]);
	free(h->vfs);
	h->vfs = NULL;
}

int uvfio_sriov_host_configure(struct uvfio_sriov_host *h, uint16_t n)
{
	int ret;

	if (!n) {
		for (unsigned int i = 0; i < h->nr_vfs; i++) {
			if (uvfio_device_open_count(h->vfs[i].sd.dev)) {
				uvfio_dev_log(uvfio_pci_to_device(h->pf), UVFIO_LOG_ERR,
					      "SR-IOV: VF %u (%s) has a client: VFs stay", i,
					      uvfio_device_name(h->vfs[i].sd.dev));
				return -EBUSY;
			}
		}
		all_down(h);
		return 0;
	}
	if (!h->srv) {
		uvfio_dev_log(uvfio_pci_to_device(h->pf), UVFIO_LOG_ERR,
			      "SR-IOV: not served on a socket: cannot serve VFs");
		return -ENXIO;
	}
	if (h->nr_vfs)
		return -EBUSY; /* enabled already (the bus driver never asks twice) */
	h->vfs = calloc(n, sizeof(*h->vfs));
	if (!h->vfs)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		ret = vf_up(h, &h->vfs[i], i);
		if (ret) {
			uvfio_dev_log(uvfio_pci_to_device(h->pf), UVFIO_LOG_ERR,
				      "SR-IOV: VF %u: %s", i, strerror(-ret));
			all_down(h);
			return ret;
		}
		h->nr_vfs++;
	}
	return 0;
}

void uvfio_sriov_host_detach(struct uvfio_sriov_host *h)
{
	if (h->srv)
		uvfio_server_set_open_check(h->srv, NULL, NULL);
	all_down(h);
	free(h->base);
	h->base = NULL;
	h->srv = NULL;
}
