/* SPDX-License-Identifier: MIT */
/*
 * Private state of the PCI bus driver, shared by its files:
 *   pci.c     object lifecycle, region/IRQ tables, struct uvfio_device_ops
 *   config.c  config space store with per-bit masks, header, BARs, COMMAND
 *   caps.c    capability list (PM, MSI, MSI-X, PCIe) and its side effects
 *   bar.c     BAR and ROM region access, mappable BAR memfds, MSI-X table/PBA
 *   intr.c    interrupt routing (INTx/MSI/MSI-X) and the SET_IRQS mode rules
 */
#ifndef UVFIO_BUS_PCI_INTERNAL_H
#define UVFIO_BUS_PCI_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <linux/pci_regs.h>

#include <uvfio/pci.h>
#include "core/vfio_compat.h"

#define PCI_CFG_SIZE_LEGACY 256u
#define PCI_CFG_SIZE_EXP 4096u
#define PCI_CAP_FIRST 0x40u
/* The architected size of a PCIe v2 endpoint capability (through SLTSTA2). */
#define PCI_EXP_CAP_V2_LEN 0x3cu
#define PCI_ROM_MIN_SIZE 2048u
#define PCI_MSIX_MAX_VECTORS 2048u

/* The interrupt mode set through SET_IRQS; -1: none (the kernel's NUM_IRQS). */
#define PCI_IRQ_NONE (-1)

struct uvfio_pci_device {
	struct uvfio_device *dev; /* NULL once unregister freed it */
	struct uvfio_pci_info info; /* copy; info.rom.data -> rom below */
	void *priv;

	/*
	 * `lock` guards config space, the MSI-X table and PBA. Device handlers
	 * and ops->reset are never called with it held; uvfio_irq_trigger()
	 * is (lock order: irq_lock -> lock -> the core's IRQ lock).
	 */
	pthread_mutex_t lock;
	uint32_t cfg_size;
	uint8_t cfg[PCI_CFG_SIZE_EXP];	  /* what the client reads */
	uint8_t wmask[PCI_CFG_SIZE_EXP];  /* bits the client may write */
	uint8_t w1cmask[PCI_CFG_SIZE_EXP]; /* bits a client 1 clears */
	uint8_t power_on[PCI_CFG_SIZE_EXP]; /* cfg after create: reset image */

	/* Capability offsets in config space; 0 = absent. */
	uint8_t pm_cap, msi_cap, msix_cap, exp_cap;
	uint8_t msi_len;

	/* MSI-X table (16 bytes per entry) and PBA (one bit per vector). */
	uint8_t *msix_table;
	uint64_t *msix_pba;
	uint32_t msix_table_len, msix_pba_len; /* bytes in the BAR */

	/* MAPPABLE BARs: memfd and our mapping of it; -1 / NULL otherwise. */
	int bar_fd[6];
	void *bar_mem[6];
	uint8_t *rom; /* info.rom.size bytes, 0xff past the contents */

	/* SET_IRQS mode, as the kernel's vdev->irq_type; guarded by irq_lock. */
	pthread_mutex_t irq_lock;
	int irq_mode;
	uint32_t irq_nvec; /* MSI/MSI-X vectors enabled by SET_IRQS */

	/* Migration stream bytes (migrate.c); under the core's mig_lock. */
	struct uvfio_mig_buffer mig;
};

/* ---- little-endian config accessors (lock held) ---- */
static inline uint16_t cfg_rd16(const struct uvfio_pci_device *p, uint32_t off)
{
	return (uint16_t)(p->cfg[off] | p->cfg[off + 1] << 8);
}

static inline uint32_t cfg_rd32(const struct uvfio_pci_device *p, uint32_t off)
{
	return (uint32_t)cfg_rd16(p, off) | (uint32_t)cfg_rd16(p, off + 2) << 16;
}

static inline void put_le(uint8_t *b, uint32_t off, uint32_t size, uint32_t v)
{
	for (uint32_t i = 0; i < size; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

/*
 * Define a register: power-on value, writable bits, RW1C bits. Used while
 * building config space, before it is copied to the power-on image.
 */
static inline void cfg_reg(struct uvfio_pci_device *p, uint32_t off,
			   uint32_t size, uint32_t val, uint32_t wmask,
			   uint32_t w1c)
{
	put_le(p->cfg, off, size, val);
	put_le(p->wmask, off, size, wmask);
	put_le(p->w1cmask, off, size, w1c);
}

/* config.c */
int pci_config_init(struct uvfio_pci_device *pdev);
void pci_config_reset_locked(struct uvfio_pci_device *pdev);
ssize_t pci_config_rw(struct uvfio_pci_device *pdev, uint64_t pos, void *buf,
		      size_t count, bool write);
bool pci_bar_decode_locked(const struct uvfio_pci_device *pdev, int bar);
void pci_set_status_locked(struct uvfio_pci_device *pdev, uint16_t bits);

/* caps.c */
int pci_caps_init(struct uvfio_pci_device *pdev);
/* Side effects of a config write inside [pos, pos+len); old = prior bytes. */
void pci_caps_written_locked(struct uvfio_pci_device *pdev, uint32_t pos,
			     uint32_t len, const uint8_t *old, bool *flr);
bool pci_pm_d3_locked(const struct uvfio_pci_device *pdev);

/* bar.c */
int pci_bars_init(struct uvfio_pci_device *pdev);
void pci_bars_free(struct uvfio_pci_device *pdev);
ssize_t pci_bar_rw(struct uvfio_pci_device *pdev, int bar, uint64_t pos,
		   void *buf, size_t count, bool write);
ssize_t pci_rom_read(struct uvfio_pci_device *pdev, uint64_t pos, void *buf,
		     size_t count);

/* intr.c */
int pci_msix_init(struct uvfio_pci_device *pdev);
void pci_msix_free(struct uvfio_pci_device *pdev);
void pci_msix_reset_locked(struct uvfio_pci_device *pdev);
bool pci_msix_table_access(struct uvfio_pci_device *pdev, int bar,
			   uint64_t off, void *buf, size_t size, bool write);
void pci_msix_deliver_locked(struct uvfio_pci_device *pdev);
void pci_msi_deliver_locked(struct uvfio_pci_device *pdev);
void pci_intx_update_locked(struct uvfio_pci_device *pdev, uint16_t old_cmd);
int pci_set_irqs(struct uvfio_device *dev, const struct vfio_irq_set *hdr,
		 const void *data);
void pci_irq_mode_reset(struct uvfio_pci_device *pdev);

/* migrate.c */
extern const struct uvfio_migration_ops pci_mig_ops;
void pci_mig_init(struct uvfio_pci_device *pdev);
void pci_mig_fini(struct uvfio_pci_device *pdev);

/* pci.c */
int pci_function_reset(struct uvfio_pci_device *pdev);

#endif
