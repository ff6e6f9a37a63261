/* SPDX-License-Identifier: MIT */
/*
 * edu-sriov: an edu PF (1234:11e8, PCIe) with an SR-IOV capability of 4
 * VFs, each VF a working edu with device ID 11e9. A client enables VFs by
 * writing NumVFs and VF Enable in the PF's config space; the VFs are then
 * served at "<PF socket without .sock>.vf<i>.sock" by the same process and
 * thread (devices/sriov.h), and go away when VF Enable is cleared (refused
 * while a VF has a client). The PF offers VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
 * a VF client presents the token as "vf_token" in VERSION.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <uvfio/log.h>
#include "devices/edu.h"
#include "devices/samples.h"
#include "devices/sriov.h"

#define EDU_SRIOV_TOTAL_VFS 4
#define EDU_VF_DEVICE_ID 0x11e9

struct edu_sriov {
	struct edu *pf;
	struct uvfio_pci_ops pf_ops;   /* edu's, plus sriov_configure */
	struct uvfio_pci_info pf_info; /* must outlive the PF: its ops */
	struct uvfio_pci_info vf_info;
	struct uvfio_sriov_host host;
};

static int pf_sriov_configure(struct uvfio_pci_device *pdev, uint16_t n)
{
	struct edu_sriov *es = edu_owner(uvfio_pci_priv(pdev));

	return uvfio_sriov_host_configure(&es->host, n);
}

static int vf_create(void *opaque, unsigned int index, struct uvfio_sample_dev *out)
{
	struct edu_sriov *es = opaque;
	struct edu *vf;
	char name[32];
	int ret;

	snprintf(name, sizeof(name), "edu-vf%u", index);
	ret = edu_new(name, &es->vf_info, es, &vf);
	if (ret)
		return ret;
	out->dev = uvfio_pci_to_device(edu_pdev(vf));
	out->priv = vf;
	return 0;
}

static void vf_destroy(void *priv)
{
	edu_free(priv);
}

static const struct uvfio_sriov_vf_ops edu_vf_ops = {
	.create = vf_create,
	.event_fd = edu_event_fd,
	.handle_event = edu_handle_event,
	.destroy = vf_destroy,
};

static int es_create(int argc, char **argv, struct uvfio_sample_dev *out)
{
	struct edu_sriov *es;
	int ret;

	if (argc > 1) {
		uvfio_log(UVFIO_LOG_ERR, "edu-sriov", "no device options, got '%s'", argv[1]);
		return -EINVAL;
	}
	es = calloc(1, sizeof(*es));
	if (!es)
		return -ENOMEM;
	es->pf_ops = edu_pci_ops;
	es->pf_ops.sriov_configure = pf_sriov_configure;
	es->pf_info = edu_pci_info;
	es->pf_info.pcie = true;
	es->pf_info.ops = &es->pf_ops;
	es->pf_info.sriov = (struct uvfio_pci_sriov_info){
		.total_vfs = EDU_SRIOV_TOTAL_VFS,
		.vf_offset = 1,
		.vf_stride = 1,
		.vf_device_id = EDU_VF_DEVICE_ID,
		.vf_bar_size = { [0] = 1u << 20 }, /* edu's BAR0 */
	};
	es->vf_info = edu_pci_info;
	es->vf_info.device_id = EDU_VF_DEVICE_ID;
	ret = edu_new("edu-pf", &es->pf_info, es, &es->pf);
	if (ret) {
		free(es);
		return ret;
	}
	uvfio_sriov_host_init(&es->host, edu_pdev(es->pf), &edu_vf_ops, es);
	out->dev = uvfio_pci_to_device(edu_pdev(es->pf));
	out->priv = es;
	return 0;
}

static int es_event_fd(void *priv)
{
	return edu_event_fd(((struct edu_sriov *)priv)->pf);
}

static int es_handle_event(void *priv)
{
	return edu_handle_event(((struct edu_sriov *)priv)->pf);
}

static int es_attach(void *priv, struct uvfio_server *srv, const char *socket)
{
	struct edu_sriov *es = priv;

	if (!socket) {
		uvfio_log(UVFIO_LOG_WARN, "edu-sriov",
			  "no socket path (systemd socket): VFs cannot be served");
		return 0;
	}
	return uvfio_sriov_host_attach(&es->host, srv, socket);
}

static void es_detach(void *priv)
{
	uvfio_sriov_host_detach(&((struct edu_sriov *)priv)->host);
}

static void es_destroy(void *priv)
{
	struct edu_sriov *es = priv;

	if (!es)
		return;
	uvfio_sriov_host_detach(&es->host); /* no-op after es_detach */
	edu_free(es->pf);
	free(es);
}

const struct uvfio_sample uvfio_sample_edu_sriov = {
	.name = "edu-sriov",
	.summary = "an edu SR-IOV PF with 4 VFs (edu 1234:11e9) at SOCKET.vfN.sock",
	.options = NULL,
	.create = es_create,
	.event_fd = es_event_fd,
	.handle_event = es_handle_event,
	.attach = es_attach,
	.detach = es_detach,
	.destroy = es_destroy,
};
