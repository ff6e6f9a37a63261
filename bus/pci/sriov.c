/* SPDX-License-Identifier: MIT */
/*
 * The SR-IOV extended capability (the only extended capability so far, at
 * 0x100), VF Enable driving ops->sriov_configure, and the VF token: the
 * VFIO_DEVICE_FEATURE_PCI_VF_TOKEN feature of a PF and the check a VF's
 * open makes against it (the kernel's vfio_pci_core.c).
 */
#include <errno.h>

#include <uvfio/log.h>
#include "bus/pci/pci_internal.h"

#ifndef VFIO_DEVICE_FEATURE_PCI_VF_TOKEN
#define VFIO_DEVICE_FEATURE_PCI_VF_TOKEN 0
#endif

#define SRIOV_VERSION 1
#define SRIOV_CTRL_WRITABLE (PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE)
#define SRIOV_PGSIZE_4K 1u /* bit n: page size 2^(n+12) */
#define VF_TOKEN_LEN 16u

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int pci_sriov_init(struct uvfio_pci_device *pdev)
{
	const struct uvfio_pci_sriov_info *s = &pdev->info.sriov;
	uint32_t off = PCI_EXT_CAP_FIRST;
	uint16_t initial = s->initial_vfs ? s->initial_vfs : s->total_vfs;

	if (!s->total_vfs)
		return 0;
	/* Extended capabilities live in PCIe's 4 KiB config space. */
	if (!pdev->info.pcie || initial > s->total_vfs)
		return -EINVAL;
	for (int i = 0; i < PCI_SRIOV_NUM_BARS; i++)
		if (s->vf_bar_size[i] && (!is_pow2(s->vf_bar_size[i]) ||
					  s->vf_bar_size[i] < 16))
			return -EINVAL;

	pdev->sriov_cap = (uint16_t)off;
	/* Header: ID, version, next = 0 (the list ends here). */
	cfg_reg(pdev, off, 4, PCI_EXT_CAP_ID_SRIOV | SRIOV_VERSION << 16, 0, 0);
	cfg_reg(pdev, off + PCI_SRIOV_CAP, 4, 0, 0, 0);
	cfg_reg(pdev, off + PCI_SRIOV_CTRL, 2, 0, SRIOV_CTRL_WRITABLE, 0);
	cfg_reg(pdev, off + PCI_SRIOV_STATUS, 2, 0, 0, 0);
	cfg_reg(pdev, off + PCI_SRIOV_INITIAL_VF, 2, initial, 0, 0);
	cfg_reg(pdev, off + PCI_SRIOV_TOTAL_VF, 2, s->total_vfs, 0, 0);
	/* Checked (VF Enable clear, <= TotalVFs) in pci_sriov_written_locked. */
	cfg_reg(pdev, off + PCI_SRIOV_NUM_VF, 2, 0, 0xffff, 0);
	cfg_reg(pdev, off + PCI_SRIOV_FUNC_LINK, 2, 0, 0, 0);
	cfg_reg(pdev, off + PCI_SRIOV_VF_OFFSET, 2, s->vf_offset ? s->vf_offset : 1, 0, 0);
	cfg_reg(pdev, off + PCI_SRIOV_VF_STRIDE, 2, s->vf_stride ? s->vf_stride : 1, 0, 0);
	cfg_reg(pdev, off + PCI_SRIOV_VF_DID, 2, s->vf_device_id, 0, 0);
	cfg_reg(pdev, off + PCI_SRIOV_SUP_PGSIZE, 4, SRIOV_PGSIZE_4K, 0, 0);
	cfg_reg(pdev, off + PCI_SRIOV_SYS_PGSIZE, 4, SRIOV_PGSIZE_4K, 0, 0);
	for (uint32_t i = 0; i < PCI_SRIOV_NUM_BARS; i++) {
		uint32_t size = s->vf_bar_size[i];

		/* 32-bit non-prefetchable memory BARs, sized by their mask. */
		cfg_reg(pdev, off + PCI_SRIOV_BAR + 4 * i, 4,
			PCI_BASE_ADDRESS_SPACE_MEMORY,
			size ? ~(size - 1) & (uint32_t)PCI_BASE_ADDRESS_MEM_MASK : 0, 0);
	}
	cfg_reg(pdev, off + PCI_SRIOV_VFM, 4, 0, 0, 0);
	return 0;
}

static bool touches(uint32_t pos, uint32_t len, uint32_t reg, uint32_t size)
{
	return pos < reg + size && reg < pos + len;
}

/* The byte at `b` before the write of [pos, pos+len): old[] or untouched. */
static uint8_t byte_before(const struct uvfio_pci_device *p, uint32_t b, uint32_t pos,
			   uint32_t len, const uint8_t *old)
{
	return b >= pos && b < pos + len ? old[b - pos] : p->cfg[b];
}

/*
 * After the masked write: NumVFs only changes while VF Enable is clear and
 * to a value <= TotalVFs; a VF Enable change is queued for
 * pci_sriov_apply(), which runs the PF's hook once the lock is dropped.
 */
void pci_sriov_written_locked(struct uvfio_pci_device *pdev, uint32_t pos,
			      uint32_t len, const uint8_t *old)
{
	uint32_t base = pdev->sriov_cap;
	uint32_t ctrl = base + PCI_SRIOV_CTRL, num = base + PCI_SRIOV_NUM_VF;
	uint16_t vfe_now, vfe_old, n;

	if (touches(pos, len, num, 2)) {
		/* The write may cover one byte of NumVFs only. */
		uint16_t prev = (uint16_t)(byte_before(pdev, num, pos, len, old) |
					   byte_before(pdev, num + 1, pos, len, old) << 8);

		n = cfg_rd16(pdev, num);
		if (cfg_rd16(pdev, ctrl) & PCI_SRIOV_CTRL_VFE) {
			uvfio_dev_log(pdev->dev, UVFIO_LOG_WARN,
				      "SR-IOV: NumVFs is read-only while VF Enable is set");
			put_le(pdev->cfg, num, 2, prev);
		} else if (n > pdev->info.sriov.total_vfs) {
			uvfio_dev_log(pdev->dev, UVFIO_LOG_WARN,
				      "SR-IOV: NumVFs %u > TotalVFs %u: ignored", n,
				      pdev->info.sriov.total_vfs);
			put_le(pdev->cfg, num, 2, prev);
		}
	}
	if (!touches(pos, len, ctrl, 1))
		return;
	vfe_old = old[ctrl - pos] & PCI_SRIOV_CTRL_VFE;
	vfe_now = cfg_rd16(pdev, ctrl) & PCI_SRIOV_CTRL_VFE;
	if (vfe_old == vfe_now)
		return;
	/* Enabling 0 VFs, or disabling when none came up: nothing to do. */
	if (vfe_now && cfg_rd16(pdev, num))
		pdev->sriov_pending = cfg_rd16(pdev, num);
	else if (!vfe_now && pdev->sriov_num_vfs)
		pdev->sriov_pending = 0;
}

/* Run the PF's hook for a queued VF Enable change; undo it on failure. */
void pci_sriov_apply(struct uvfio_pci_device *pdev)
{
	const struct uvfio_pci_ops *ops = pdev->info.ops;
	uint32_t ctrl = pdev->sriov_cap + PCI_SRIOV_CTRL;
	uint16_t n, was;
	int ret = 0;

	pthread_mutex_lock(&pdev->lock);
	if (pdev->sriov_pending < 0) {
		pthread_mutex_unlock(&pdev->lock);
		return;
	}
	n = (uint16_t)pdev->sriov_pending;
	pdev->sriov_pending = -1;
	was = pdev->sriov_num_vfs;
	pthread_mutex_unlock(&pdev->lock);

	/* Enable: was is 0 and the write asks for n VFs; disable: n is 0. */
	if (ops && ops->sriov_configure)
		ret = ops->sriov_configure(pdev, n);

	pthread_mutex_lock(&pdev->lock);
	if (ret) {
		uint16_t v = cfg_rd16(pdev, ctrl);

		v = was || !n ? (v | PCI_SRIOV_CTRL_VFE) : (v & ~PCI_SRIOV_CTRL_VFE);
		put_le(pdev->cfg, ctrl, 2, v);
	} else {
		pdev->sriov_num_vfs = n;
	}
	pthread_mutex_unlock(&pdev->lock);

	if (ret)
		uvfio_dev_log(pdev->dev, UVFIO_LOG_ERR,
			      "SR-IOV: %s %u VFs refused: %s%s", n ? "enabling" : "disabling",
			      n ? n : was, strerror(-ret),
			      ret == -EBUSY ? " (a VF has a client)" : "");
	else
		uvfio_dev_log(pdev->dev, UVFIO_LOG_INFO, "SR-IOV: %u VFs %s",
			      n ? n : was, n ? "enabled" : "disabled");
}

void pci_sriov_save_locked(const struct uvfio_pci_device *pdev, uint8_t *save)
{
	if (pdev->sriov_cap)
		memcpy(save, pdev->cfg + pdev->sriov_cap, PCI_EXT_CAP_SRIOV_SIZEOF);
}

void pci_sriov_restore_locked(struct uvfio_pci_device *pdev, const uint8_t *save)
{
	if (pdev->sriov_cap)
		memcpy(pdev->cfg + pdev->sriov_cap, save, PCI_EXT_CAP_SRIOV_SIZEOF);
}

/*
 * PCI_VF_TOKEN, as vfio_pci_core_feature_token(): SET only (a GET could
 * leak a previous user's token), a 16-byte UUID, offered by every PF with
 * the SR-IOV capability; the kernel sets it whatever the VFs' state.
 */
static int vf_token_feature(struct uvfio_device *dev, uint32_t flags, void *data,
			    size_t len, size_t *out_len)
{
	struct uvfio_pci_device *pdev = uvfio_device_priv(dev);

	(void)flags;
	(void)len;
	(void)out_len;
	pthread_mutex_lock(&pdev->lock);
	memcpy(pdev->vf_token, data, VF_TOKEN_LEN);
	pdev->vf_token_set = true;
	pthread_mutex_unlock(&pdev->lock);
	uvfio_dev_log(dev, UVFIO_LOG_INFO, "SR-IOV: VF token set");
	return 0;
}

int pci_sriov_add_feature(struct uvfio_pci_device *pdev)
{
	const struct uvfio_feature f = {
		.index = VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
		.ops = VFIO_DEVICE_FEATURE_SET,
		.minsz = VF_TOKEN_LEN,
		.fn = vf_token_feature,
	};

	if (!pdev->sriov_cap)
		return 0;
	return uvfio_device_add_feature(pdev->dev, &f);
}

uint16_t uvfio_pci_sriov_num_vfs(struct uvfio_pci_device *pdev)
{
	uint16_t n;

	pthread_mutex_lock(&pdev->lock);
	n = pdev->sriov_num_vfs;
	pthread_mutex_unlock(&pdev->lock);
	return n;
}

int uvfio_pci_sriov_check_vf_token(struct uvfio_pci_device *pdev,
				   const uint8_t *token, const char **why)
{
	bool owned, set, match = false;
	const char *dummy;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!pdev->sriov_cap) {
		*why = "not an SR-IOV PF";
		return -ENODEV;
	}
	owned = pdev->dev && uvfio_device_open_count(pdev->dev) > 0;
	pthread_mutex_lock(&pdev->lock);
	set = pdev->vf_token_set;
	if (set && token)
		match = !memcmp(token, pdev->vf_token, VF_TOKEN_LEN);
	pthread_mutex_unlock(&pdev->lock);

	if (!owned && !set) {
		if (token) {
			*why = "VF token provided, but the PF has no user and no token";
			return -EINVAL;
		}
		return 0;
	}
	if (!token) {
		*why = "VF token required to access the VF";
		return -EACCES;
	}
	if (!set) {
		*why = "the PF's user set no VF token";
		return -EACCES;
	}
	if (!match) {
		*why = "incorrect VF token";
		return -EACCES;
	}
	return 0;
}

int uvfio_pci_sriov_check_pf_token(struct uvfio_pci_device *pdev,
				   const uint8_t *token, bool vfs_in_use,
				   const char **why)
{
	const char *dummy;
	int ret = 0;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!pdev->sriov_cap) {
		*why = "not an SR-IOV PF";
		return -ENODEV;
	}
	pthread_mutex_lock(&pdev->lock);
	if (vfs_in_use) {
		if (!token) {
			*why = "VFs are in use: the VF token is required";
			ret = -EACCES;
		} else if (!pdev->vf_token_set ||
			   memcmp(token, pdev->vf_token, VF_TOKEN_LEN)) {
			*why = "VFs are in use: incorrect VF token";
			ret = -EACCES;
		}
	} else if (token) {
		/* No VF user to protect: the token given becomes the PF's. */
		memcpy(pdev->vf_token, token, VF_TOKEN_LEN);
		pdev->vf_token_set = true;
	}
	pthread_mutex_unlock(&pdev->lock);
	return ret;
}
