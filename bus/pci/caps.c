/* SPDX-License-Identifier: MIT */
/*
 * The capability list, built from the device's table: PM, MSI, MSI-X and a
 * PCI Express endpoint (v2), linked in that order from 0x40, each dword
 * aligned. IDs and next pointers are read-only; each register gets its
 * write/RW1C masks here, and the side effects of writes (power state, MSI
 * unmask delivery, MSI-X enable/function mask, FLR) run after the masked
 * write landed in config space.
 */
#include <errno.h>

#include <uvfio/log.h>
#include "bus/pci/pci_internal.h"

#define PM_CAP_LEN PCI_PM_SIZEOF
#define PM_CAP_VERSION 3 /* PCI PM 1.2 */
#define PM_D0 0
#define PM_D3HOT 3

#define EXP_DEVCTL_WRITABLE (PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_NFERE | \
			     PCI_EXP_DEVCTL_FERE | PCI_EXP_DEVCTL_URRE | \
			     PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_PAYLOAD | \
			     PCI_EXP_DEVCTL_NOSNOOP_EN | PCI_EXP_DEVCTL_READRQ | \
			     PCI_EXP_DEVCTL_BCR_FLR)
#define EXP_DEVCTL_POWER_ON (PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_NOSNOOP_EN | \
			     PCI_EXP_DEVCTL_READRQ_512B)
#define EXP_DEVSTA_RW1C (PCI_EXP_DEVSTA_CED | PCI_EXP_DEVSTA_NFED | \
			 PCI_EXP_DEVSTA_FED | PCI_EXP_DEVSTA_URD)

struct cap_builder {
	struct uvfio_pci_device *pdev;
	uint32_t next;	   /* where the next cap starts */
	uint32_t link_ptr; /* byte that points at the next cap */
};

/* Start a capability of `len` bytes; returns its offset or 0 when full. */
static uint32_t cap_add(struct cap_builder *cb, uint8_t id, uint32_t len)
{
	uint32_t off = cb->next;

	if (off + len > PCI_CFG_SIZE_LEGACY)
		return 0;
	cfg_reg(cb->pdev, cb->link_ptr, 1, off, 0, 0);
	cfg_reg(cb->pdev, off + PCI_CAP_LIST_ID, 1, id, 0, 0);
	cfg_reg(cb->pdev, off + PCI_CAP_LIST_NEXT, 1, 0, 0, 0);
	cb->link_ptr = off + PCI_CAP_LIST_NEXT;
	cb->next = (off + len + 3) & ~3u;
	return off;
}

static int pm_init(struct cap_builder *cb)
{
	struct uvfio_pci_device *p = cb->pdev;
	uint32_t off;

	if (!p->info.pm)
		return 0;
	off = cap_add(cb, PCI_CAP_ID_PM, PM_CAP_LEN);
	if (!off)
		return -ENOSPC;
	p->pm_cap = (uint8_t)off;
	/* D0 and D3hot only, no PME. NO_SOFT_RESET: D3hot -> D0 keeps state,
	 * so a power cycle through D3hot needs no reset emulation. */
	cfg_reg(p, off + PCI_PM_PMC, 2, PM_CAP_VERSION, 0, 0);
	cfg_reg(p, off + PCI_PM_CTRL, 2, PCI_PM_CTRL_NO_SOFT_RESET,
		PCI_PM_CTRL_STATE_MASK, 0);
	return 0;
}

static int msi_init(struct cap_builder *cb)
{
	struct uvfio_pci_device *p = cb->pdev;
	const struct uvfio_pci_msi_info *m = &p->info.msi;
	uint32_t len, off, mask_off, data_off;
	uint16_t flags;
	unsigned int mmc = 0;

	if (!m->vectors)
		return 0;
	if (m->vectors > 32 || (m->vectors & (m->vectors - 1)))
		return -EINVAL;
	while ((1u << mmc) < m->vectors)
		mmc++;

	if (m->addr64)
		len = m->per_vector_mask ? PCI_MSI_PENDING_64 + 4 : PCI_MSI_DATA_64 + 2;
	else
		len = m->per_vector_mask ? PCI_MSI_PENDING_32 + 4 : PCI_MSI_DATA_32 + 2;
	off = cap_add(cb, PCI_CAP_ID_MSI, len);
	if (!off)
		return -ENOSPC;
	p->msi_cap = (uint8_t)off;
	p->msi_len = (uint8_t)len;

	flags = (uint16_t)(mmc << 1);
	if (m->addr64)
		flags |= PCI_MSI_FLAGS_64BIT;
	if (m->per_vector_mask)
		flags |= PCI_MSI_FLAGS_MASKBIT;
	cfg_reg(p, off + PCI_MSI_FLAGS, 2, flags,
		PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE, 0);
	/* The message address is dword aligned: bits 1:0 read 0. */
	cfg_reg(p, off + PCI_MSI_ADDRESS_LO, 4, 0, 0xfffffffc, 0);
	if (m->addr64)
		cfg_reg(p, off + PCI_MSI_ADDRESS_HI, 4, 0, 0xffffffff, 0);
	data_off = m->addr64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32;
	cfg_reg(p, off + data_off, 2, 0, 0xffff, 0);
	if (m->per_vector_mask) {
		mask_off = m->addr64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32;
		/* Only implemented vectors have mask bits; pending is ours. */
		cfg_reg(p, off + mask_off, 4, 0,
			m->vectors == 32 ? 0xffffffffu : (1u << m->vectors) - 1, 0);
		cfg_reg(p, off + mask_off + 4, 4, 0, 0, 0);
	}
	return 0;
}

static int msix_cap_init(struct cap_builder *cb)
{
	struct uvfio_pci_device *p = cb->pdev;
	const struct uvfio_pci_msix_info *x = &p->info.msix;
	uint32_t off;

	if (!x->table_size)
		return 0;
	off = cap_add(cb, PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF);
	if (!off)
		return -ENOSPC;
	p->msix_cap = (uint8_t)off;
	cfg_reg(p, off + PCI_MSIX_FLAGS, 2, (uint32_t)(x->table_size - 1),
		PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 0);
	cfg_reg(p, off + PCI_MSIX_TABLE, 4, x->table_offset | x->table_bar, 0, 0);
	cfg_reg(p, off + PCI_MSIX_PBA, 4, x->pba_offset | x->pba_bar, 0, 0);
	return 0;
}

static int exp_init(struct cap_builder *cb)
{
	struct uvfio_pci_device *p = cb->pdev;
	uint32_t off;

	if (!p->info.pcie)
		return 0;
	off = cap_add(cb, PCI_CAP_ID_EXP, PCI_EXP_CAP_V2_LEN);
	if (!off)
		return -ENOSPC;
	p->exp_cap = (uint8_t)off;
	/* Version 2, endpoint. A 128-byte payload, FLR, role-based errors. */
	cfg_reg(p, off + PCI_EXP_FLAGS, 2, 2 | PCI_EXP_TYPE_ENDPOINT << 4, 0, 0);
	cfg_reg(p, off + PCI_EXP_DEVCAP, 4, PCI_EXP_DEVCAP_FLR | PCI_EXP_DEVCAP_RBER,
		0, 0);
	/* BCR_FLR is writable so the write lands; it triggers FLR and reads 0. */
	cfg_reg(p, off + PCI_EXP_DEVCTL, 2, EXP_DEVCTL_POWER_ON,
		EXP_DEVCTL_WRITABLE, 0);
	cfg_reg(p, off + PCI_EXP_DEVSTA, 2, 0, 0, EXP_DEVSTA_RW1C);
	/* A plausible x1 2.5 GT/s link, trained. */
	cfg_reg(p, off + PCI_EXP_LNKCAP, 4,
		PCI_EXP_LNKCAP_SLS_2_5GB | (1u << 4) /* MLW x1 */, 0, 0);
	cfg_reg(p, off + PCI_EXP_LNKCTL, 2, 0,
		PCI_EXP_LNKCTL_RCB | PCI_EXP_LNKCTL_CCC | PCI_EXP_LNKCTL_ES, 0);
	cfg_reg(p, off + PCI_EXP_LNKSTA, 2,
		PCI_EXP_LNKSTA_CLS_2_5GB | PCI_EXP_LNKSTA_NLW_X1 | PCI_EXP_LNKSTA_SLC,
		0, 0);
	cfg_reg(p, off + PCI_EXP_LNKCAP2, 4, PCI_EXP_LNKCAP2_SLS_2_5GB, 0, 0);
	cfg_reg(p, off + PCI_EXP_LNKCTL2, 2, PCI_EXP_LNKCTL2_TLS_2_5GT, 0, 0);
	return 0;
}

int pci_caps_init(struct uvfio_pci_device *pdev)
{
	struct cap_builder cb = {
		.pdev = pdev,
		.next = PCI_CAP_FIRST,
		.link_ptr = PCI_CAPABILITY_LIST,
	};
	int (*const init[])(struct cap_builder *) = {
		pm_init, msi_init, msix_cap_init, exp_init,
	};
	int ret;

	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++) {
		ret = init[i](&cb);
		if (ret)
			return ret;
	}
	if (cb.next != PCI_CAP_FIRST)
		pci_set_status_locked(pdev, PCI_STATUS_CAP_LIST);
	return 0;
}

bool pci_pm_d3_locked(const struct uvfio_pci_device *pdev)
{
	return pdev->pm_cap &&
	       (cfg_rd16(pdev, pdev->pm_cap + PCI_PM_CTRL) & PCI_PM_CTRL_STATE_MASK) ==
		       PM_D3HOT;
}

/* Did a write to [pos, pos+len) touch [reg, reg+size)? */
static bool touches(uint32_t pos, uint32_t len, uint32_t reg, uint32_t size)
{
	return pos < reg + size && reg < pos + len;
}

static void pm_written(struct uvfio_pci_device *p, uint32_t pos, uint32_t len,
		       const uint8_t *old)
{
	uint32_t ctrl = p->pm_cap + PCI_PM_CTRL;
	uint8_t prev, now;

	if (!touches(pos, len, ctrl, 1))
		return;
	prev = old[ctrl - pos] & PCI_PM_CTRL_STATE_MASK;
	now = p->cfg[ctrl] & PCI_PM_CTRL_STATE_MASK;
	if (prev == now)
		return;
	/* Writes of a state we do not support (D1, D2) are ignored, as the
	 * PM spec asks: the function stays where it was. */
	if (now != PM_D0 && now != PM_D3HOT) {
		p->cfg[ctrl] = (uint8_t)((p->cfg[ctrl] & ~PCI_PM_CTRL_STATE_MASK) | prev);
		return;
	}
	uvfio_dev_log(p->dev, UVFIO_LOG_DEBUG, "power state D%u -> D%u", prev, now);
}

static void msi_written(struct uvfio_pci_device *p, uint32_t pos, uint32_t len)
{
	uint32_t ctrl = p->msi_cap + PCI_MSI_FLAGS;
	uint16_t flags = cfg_rd16(p, ctrl);
	unsigned int mmc = (flags & PCI_MSI_FLAGS_QMASK) >> 1;
	unsigned int mme = (flags & PCI_MSI_FLAGS_QSIZE) >> 4;

	if (touches(pos, len, ctrl, 2) && mme > mmc) {
		/* More than capable is undefined; we grant what we have. */
		flags = (uint16_t)((flags & ~PCI_MSI_FLAGS_QSIZE) | mmc << 4);
		put_le(p->cfg, ctrl, 2, flags);
	}
	/* Enable or an unmask may release pending vectors. */
	pci_msi_deliver_locked(p);
}

static void exp_written(struct uvfio_pci_device *p, uint32_t pos, uint32_t len,
			bool *flr)
{
	uint32_t devctl = p->exp_cap + PCI_EXP_DEVCTL;
	uint16_t v = cfg_rd16(p, devctl);

	if (!touches(pos, len, devctl, 2) || !(v & PCI_EXP_DEVCTL_BCR_FLR))
		return;
	/* Initiate FLR; the bit always reads 0. The reset itself (which
	 * restores this register too) runs once the config lock is dropped. */
	put_le(p->cfg, devctl, 2, v & ~PCI_EXP_DEVCTL_BCR_FLR);
	*flr = true;
}

void pci_caps_written_locked(struct uvfio_pci_device *pdev, uint32_t pos,
			     uint32_t len, const uint8_t *old, bool *flr)
{
	if (pdev->pm_cap && touches(pos, len, pdev->pm_cap, PM_CAP_LEN))
		pm_written(pdev, pos, len, old);
	if (pdev->msi_cap && touches(pos, len, pdev->msi_cap, pdev->msi_len))
		msi_written(pdev, pos, len);
	if (pdev->msix_cap && touches(pos, len, pdev->msix_cap + PCI_MSIX_FLAGS, 2))
		pci_msix_deliver_locked(pdev);
	if (pdev->exp_cap && touches(pos, len, pdev->exp_cap, PCI_EXP_CAP_V2_LEN))
		exp_written(pdev, pos, len, flr);
}
