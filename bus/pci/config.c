/* SPDX-License-Identifier: MIT */
/*
 * Config space emulation. Every byte is virtualized (there is no hardware
 * behind us), so the kernel's virt/write masks reduce to two per-byte masks:
 *   wmask    bits the client may write (others keep their value)
 *   w1cmask  RW1C bits: writing 1 clears them (status error bits)
 * A write therefore is new = (old & ~wmask) | (val & wmask), then
 * new &= ~(val & w1cmask); side effects (COMMAND, capabilities) look at old
 * and new afterwards. BAR sizing falls out of the masks: a BAR's wmask is
 * its size mask, so writing all-ones reads back size mask | type bits.
 */
#include <errno.h>
#include <unistd.h>

#include <uvfio/log.h>
#include "bus/pci/pci_internal.h"

#define CMD_WRITABLE (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
		      PCI_COMMAND_PARITY | PCI_COMMAND_SERR | \
		      PCI_COMMAND_INTX_DISABLE)
#define STATUS_RW1C (PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | \
		     PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT | \
		     PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY)
#define PCI_MEM32_MAX_SIZE (1ull << 31)

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* One BAR's register(s); -EINVAL when the table describes an impossible BAR. */
static int bar_init(struct uvfio_pci_device *pdev, int i, bool *skip_next)
{
	const struct uvfio_pci_bar_info *b = &pdev->info.bars[i];
	uint32_t off = PCI_BASE_ADDRESS_0 + 4 * (uint32_t)i;
	const uint32_t known = UVFIO_PCI_BAR_IO | UVFIO_PCI_BAR_64 |
			       UVFIO_PCI_BAR_PREFETCH | UVFIO_PCI_BAR_MAPPABLE;
	uint64_t mask;
	uint32_t type;

	*skip_next = false;
	if (!b->size)
		return b->flags ? -EINVAL : 0;
	if ((b->flags & ~known) || !is_pow2(b->size))
		return -EINVAL;

	if (b->flags & UVFIO_PCI_BAR_IO) {
		/* I/O BARs: 4..256 bytes, no memory attributes, never mapped. */
		if (b->flags != UVFIO_PCI_BAR_IO || b->size < 4 || b->size > 256)
			return -EINVAL;
		mask = ~(b->size - 1);
		cfg_reg(pdev, off, 4, PCI_BASE_ADDRESS_SPACE_IO,
			(uint32_t)mask & (uint32_t)PCI_BASE_ADDRESS_IO_MASK, 0);
		return 0;
	}

	if (b->size < 16)
		return -EINVAL;
	if ((b->flags & UVFIO_PCI_BAR_MAPPABLE) &&
	    b->size < (uint64_t)sysconf(_SC_PAGESIZE))
		return -EINVAL;
	type = PCI_BASE_ADDRESS_SPACE_MEMORY;
	if (b->flags & UVFIO_PCI_BAR_PREFETCH)
		type |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	mask = ~(b->size - 1);
	if (b->flags & UVFIO_PCI_BAR_64) {
		/* The upper dword lives in BAR i+1, which must be free. */
		if (i >= 5 || pdev->info.bars[i + 1].size ||
		    pdev->info.bars[i + 1].flags)
			return -EINVAL;
		type |= PCI_BASE_ADDRESS_MEM_TYPE_64;
		cfg_reg(pdev, off + 4, 4, 0, (uint32_t)(mask >> 32), 0);
		*skip_next = true;
	} else if (b->size > PCI_MEM32_MAX_SIZE) {
		return -EINVAL;
	}
	cfg_reg(pdev, off, 4, type, (uint32_t)mask & (uint32_t)PCI_BASE_ADDRESS_MEM_MASK, 0);
	return 0;
}

static int rom_init(struct uvfio_pci_device *pdev)
{
	struct uvfio_pci_rom_info *rom = &pdev->info.rom;
	uint64_t size = rom->size;

	if (!size && !rom->len)
		return 0;
	if (rom->len && !rom->data)
		return -EINVAL;
	if (!size) {
		size = PCI_ROM_MIN_SIZE;
		while (size < rom->len)
			size <<= 1;
	}
	/* The ROM BAR decodes address bits 31:11: 2 KiB .. 2 GiB. */
	if (!is_pow2(size) || size < PCI_ROM_MIN_SIZE || size < rom->len ||
	    size > PCI_MEM32_MAX_SIZE)
		return -EINVAL;
	rom->size = size;
	cfg_reg(pdev, PCI_ROM_ADDRESS, 4, 0,
		((uint32_t)~(size - 1) & PCI_ROM_ADDRESS_MASK) | PCI_ROM_ADDRESS_ENABLE,
		0);
	return 0;
}

/* Build the type 0 header and the capability list; the power-on image. */
int pci_config_init(struct uvfio_pci_device *pdev)
{
	const struct uvfio_pci_info *info = &pdev->info;
	bool skip = false;
	int ret;

	if (info->interrupt_pin > 4 || info->class_code > 0xffffff)
		return -EINVAL;
	pdev->cfg_size = info->pcie ? PCI_CFG_SIZE_EXP : PCI_CFG_SIZE_LEGACY;

	cfg_reg(pdev, PCI_VENDOR_ID, 2, info->vendor_id, 0, 0);
	cfg_reg(pdev, PCI_DEVICE_ID, 2, info->device_id, 0, 0);
	cfg_reg(pdev, PCI_COMMAND, 2, 0, CMD_WRITABLE, 0);
	/* INTERRUPT and CAP_LIST are ours to maintain, the rest report errors. */
	cfg_reg(pdev, PCI_STATUS, 2, 0, 0, STATUS_RW1C);
	cfg_reg(pdev, PCI_REVISION_ID, 4, info->revision | info->class_code << 8, 0, 0);
	cfg_reg(pdev, PCI_CACHE_LINE_SIZE, 1, 0, 0xff, 0);
	cfg_reg(pdev, PCI_LATENCY_TIMER, 1, 0, 0xff, 0);
	cfg_reg(pdev, PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_NORMAL, 0, 0);
	cfg_reg(pdev, PCI_BIST, 1, 0, 0, 0); /* not BIST capable */

	for (int i = 0; i < 6; i++) {
		if (skip) {
			skip = false;
			continue;
		}
		ret = bar_init(pdev, i, &skip);
		if (ret)
			return ret;
	}
	ret = rom_init(pdev);
	if (ret)
		return ret;

	cfg_reg(pdev, PCI_SUBSYSTEM_VENDOR_ID, 2, info->subsystem_vendor_id, 0, 0);
	cfg_reg(pdev, PCI_SUBSYSTEM_ID, 2, info->subsystem_id, 0, 0);
	cfg_reg(pdev, PCI_INTERRUPT_LINE, 1, 0, 0xff, 0);
	cfg_reg(pdev, PCI_INTERRUPT_PIN, 1, info->interrupt_pin, 0, 0);

	ret = pci_caps_init(pdev);
	if (ret)
		return ret;
	memcpy(pdev->power_on, pdev->cfg, sizeof(pdev->cfg));
	return 0;
}

/*
 * Back to the power-on image: BARs unassigned, COMMAND 0 (no decode, no bus
 * master), MSI/MSI-X off, D0, STATUS.INTERRUPT clear.
 */
void pci_config_reset_locked(struct uvfio_pci_device *pdev)
{
	memcpy(pdev->cfg, pdev->power_on, sizeof(pdev->cfg));
	pci_msix_reset_locked(pdev);
	if (pdev->dev)
		uvfio_device_set_bus_master(pdev->dev, false);
}

bool pci_bar_decode_locked(const struct uvfio_pci_device *pdev, int bar)
{
	uint16_t cmd = cfg_rd16(pdev, PCI_COMMAND);
	uint16_t need = (pdev->info.bars[bar].flags & UVFIO_PCI_BAR_IO) ?
				PCI_COMMAND_IO : PCI_COMMAND_MEMORY;

	return (cmd & need) && !pci_pm_d3_locked(pdev);
}

/* Device-side status report (error bits the client later clears by RW1C). */
void pci_set_status_locked(struct uvfio_pci_device *pdev, uint16_t bits)
{
	put_le(pdev->cfg, PCI_STATUS, 2, cfg_rd16(pdev, PCI_STATUS) | bits);
}

static void command_written(struct uvfio_pci_device *pdev, uint16_t old)
{
	uint16_t cmd = cfg_rd16(pdev, PCI_COMMAND);

	if ((cmd ^ old) & PCI_COMMAND_MASTER) {
		/* The core refuses device DMA (-EPERM) while this is off. */
		uvfio_device_set_bus_master(pdev->dev, cmd & PCI_COMMAND_MASTER);
		uvfio_dev_log(pdev->dev, UVFIO_LOG_DEBUG, "bus master %s",
			      (cmd & PCI_COMMAND_MASTER) ? "on" : "off");
	}
	if ((cmd ^ old) & PCI_COMMAND_INTX_DISABLE)
		pci_intx_update_locked(pdev, old);
}

/* One naturally aligned chunk inside a dword; lock held. */
static void config_write_chunk(struct uvfio_pci_device *pdev, uint32_t pos,
			       const uint8_t *val, uint32_t len, bool *flr)
{
	uint8_t old[4];
	uint16_t old_cmd = cfg_rd16(pdev, PCI_COMMAND);

	for (uint32_t i = 0; i < len; i++) {
		uint32_t p = pos + i;
		uint8_t v = val[i];

		old[i] = pdev->cfg[p];
		pdev->cfg[p] = (uint8_t)((old[i] & ~pdev->wmask[p]) | (v & pdev->wmask[p]));
		pdev->cfg[p] &= (uint8_t)~(v & pdev->w1cmask[p]);
	}
	if (pos <= PCI_COMMAND + 1 && pos + len > PCI_COMMAND)
		command_written(pdev, old_cmd);
	if (pos >= PCI_CAP_FIRST)
		pci_caps_written_locked(pdev, pos, len, old, flr);
}

/* The largest naturally aligned access (4, 2, 1) at pos within left bytes. */
static uint32_t chunk_size(uint64_t pos, uint64_t left)
{
	if (left >= 4 && !(pos & 3))
		return 4;
	if (left >= 2 && !(pos & 1))
		return 2;
	return 1;
}

/*
 * Config region access, split like the kernel's vfio_config_do_rw into
 * naturally aligned chunks that never cross a dword. Returns count or
 * -EINVAL when [pos, pos+count) is outside config space (the core checks the
 * region size first; this protects direct callers).
 */
ssize_t pci_config_rw(struct uvfio_pci_device *pdev, uint64_t pos, void *buf,
		      size_t count, bool write)
{
	uint8_t *b = buf;
	uint64_t end;
	bool flr = false;
	size_t done = 0;

	if (__builtin_add_overflow(pos, (uint64_t)count, &end) || end > pdev->cfg_size)
		return -EINVAL;

	pthread_mutex_lock(&pdev->lock);
	while (done < count) {
		uint32_t p = (uint32_t)(pos + done);
		uint32_t n = chunk_size(p, count - done);

		if (write)
			config_write_chunk(pdev, p, b + done, n, &flr);
		else
			memcpy(b + done, pdev->cfg + p, n);
		done += n;
	}
	pthread_mutex_unlock(&pdev->lock);

	/* FLR runs the device's reset op, which must not see our lock held. */
	if (flr) {
		int ret = pci_function_reset(pdev);

		if (ret)
			uvfio_dev_log(pdev->dev, UVFIO_LOG_WARN,
				      "function level reset: device reset failed: %d", ret);
	}
	return (ssize_t)count;
}
