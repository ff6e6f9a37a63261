/* SPDX-License-Identifier: MIT */
/*
 * Serving the VFs of an SR-IOV PF, on the PF server's thread.
 *
 * A PF sample embeds a struct uvfio_sriov_host. Once served (the sample's
 * attach), VF Enable with NumVFs = n (the PF's ops->sriov_configure) makes
 * n VFs through the ops, registers each and serves it at
 * "<PF socket without .sock>.vf<i>.sock". The VF servers' fds and the VFs'
 * event fds are registered on the PF's server (uvfio_server_add_fd), so
 * everything runs inside the PF server's dispatch. Clearing VF Enable
 * removes them, unless a VF has a client: then -EBUSY (the bus driver
 * logs it and VF Enable stays set).
 *
 * Each VF server checks the VF token at VERSION against the PF
 * (uvfio_pci_sriov_check_vf_token): a refusal is logged on the PF, naming
 * the VF and the reason, and the client gets the errno. The PF's server
 * checks its clients too (uvfio_pci_sriov_check_pf_token): while a VF is
 * in use a PF client must present the token; otherwise a token it presents
 * becomes the PF's, as the kernel's "BDF vf_token=UUID" on a PF.
 *
 * Ownership: the host owns the VFs (their devices, servers, sockets); the
 * PF's sample owns the host. Teardown: uvfio_sriov_host_detach() (before the
 * PF's server goes) removes every VF, clients or not.
 */
#ifndef UVFIO_DEVICES_SRIOV_H
#define UVFIO_DEVICES_SRIOV_H

#include <uvfio/pci.h>
#include <uvfio/server.h>

#include "devices/registry.h"

struct uvfio_sriov_vf_ops {
	/* Make VF `index` (not registered): fill out->dev and out->priv. */
	int (*create)(void *opaque, unsigned int index, struct uvfio_sample_dev *out);
	/* Optional, as struct uvfio_sample's. */
	int (*event_fd)(void *vf_priv);
	int (*handle_event)(void *vf_priv);
	/* After unregister. */
	void (*destroy)(void *vf_priv);
};

struct uvfio_sriov_vf;

struct uvfio_sriov_host {
	struct uvfio_pci_device *pf;
	const struct uvfio_sriov_vf_ops *ops;
	void *opaque;
	struct uvfio_server *srv; /* the PF's; NULL until attached */
	char *base;		  /* socket path without ".sock" */
	struct uvfio_sriov_vf *vfs;
	unsigned int nr_vfs;
};

void uvfio_sriov_host_init(struct uvfio_sriov_host *h, struct uvfio_pci_device *pf,
			   const struct uvfio_sriov_vf_ops *ops, void *opaque);
/* -EINVAL without a socket path (VF sockets are named after it). */
int uvfio_sriov_host_attach(struct uvfio_sriov_host *h, struct uvfio_server *srv,
			    const char *socket);
void uvfio_sriov_host_detach(struct uvfio_sriov_host *h);
/* For ops->sriov_configure: n VFs up (n > 0) or all down (0). */
int uvfio_sriov_host_configure(struct uvfio_sriov_host *h, uint16_t n);

#endif
