/* SPDX-License-Identifier: MIT */
/*
 * Interrupts of a PCI function: routing a device's raise to the mode the
 * guest enabled in config space (MSI-X, MSI, INTx), the PCI-level masking
 * (MSI per-vector mask/pending, MSI-X table mask bits, function mask, PBA,
 * COMMAND.INTX_DISABLE), the MSI-X table and PBA the client reaches through
 * its BAR, and the SET_IRQS rule that one of INTx/MSI/MSI-X is active at a
 * time (the kernel's vfio_pci_intrs.c).
 *
 * PCI-level masking is kept here, not in the core's per-vector mask: the
 * kernel rejects SET_IRQS MASK/UNMASK for MSI and MSI-X, and a vector masked
 * by the guest must show up in the PBA / pending register the guest reads.
 */
#include <errno.h>
#include <stdlib.h>

#include <uvfio/log.h>
#include "bus/pci/pci_internal.h"

/* ---- MSI-X table and PBA ----------------------------------------------- */

static bool range_ok(uint64_t off, uint64_t len, uint64_t size)
{
	uint64_t end;

	return !__builtin_add_overflow(off, len, &end) && end <= size;
}

static bool msix_bar_ok(const struct uvfio_pci_device *p, unsigned int bar)
{
	const struct uvfio_pci_bar_info *b;

	if (bar >= 6)
		return false;
	b = &p->info.bars[bar];
	/* The table must be trapped: an I/O or mapped BAR can't hold it. */
	return b->size && !(b->flags & (UVFIO_PCI_BAR_IO | UVFIO_PCI_BAR_MAPPABLE));
}

int pci_msix_init(struct uvfio_pci_device *pdev)
{
	const struct uvfio_pci_msix_info *x = &pdev->info.msix;
	uint32_t n = x->table_size;

	if (!n)
		return 0;
	if (n > PCI_MSIX_MAX_VECTORS || !msix_bar_ok(pdev, x->table_bar) ||
	    !msix_bar_ok(pdev, x->pba_bar) || (x->table_offset & 7) ||
	    (x->pba_offset & 7))
		return -EINVAL;
	pdev->msix_table_len = n * PCI_MSIX_ENTRY_SIZE;
	pdev->msix_pba_len = (n + 63) / 64 * 8;
	if (!range_ok(x->table_offset, pdev->msix_table_len,
		      pdev->info.bars[x->table_bar].size) ||
	    !range_ok(x->pba_offset, pdev->msix_pba_len,
		      pdev->info.bars[x->pba_bar].size))
		return -EINVAL;
	if (x->table_bar == x->pba_bar &&
	    x->table_offset < (uint64_t)x->pba_offset + pdev->msix_pba_len &&
	    x->pba_offset < (uint64_t)x->table_offset + pdev->msix_table_len)
		return -EINVAL;

	pdev->msix_table = calloc(n, PCI_MSIX_ENTRY_SIZE);
	pdev->msix_pba = calloc(pdev->msix_pba_len / 8, sizeof(uint64_t));
	if (!pdev->msix_table || !pdev->msix_pba) {
		pci_msix_free(pdev);
		return -ENOMEM;
	}
	pci_msix_reset_locked(pdev);
	return 0;
}

void pci_msix_free(struct uvfio_pci_device *pdev)
{
	free(pdev->msix_table);
	free(pdev->msix_pba);
	pdev->msix_table = NULL;
	pdev->msix_pba = NULL;
}

/*
 * Reset: nothing pending, and each entry masked unless its vector has an
 * eventfd (see msix_sync_masks: the host-programmed state, which the kernel
 * restores around a function reset). At create no vector has one.
 */
void pci_msix_reset_locked(struct uvfio_pci_device *pdev)
{
	uint32_t n = pdev->info.msix.table_size;

	if (!pdev->msix_table)
		return;
	memset(pdev->msix_table, 0, (size_t)n * PCI_MSIX_ENTRY_SIZE);
	for (uint32_t v = 0; v < n; v++)
		if (!uvfio_irq_has_trigger(pdev->dev, VFIO_PCI_MSIX_IRQ_INDEX, v))
			pdev->msix_table[v * PCI_MSIX_ENTRY_SIZE +
					 PCI_MSIX_ENTRY_VECTOR_CTRL] =
				PCI_MSIX_ENTRY_CTRL_MASKBIT;
	memset(pdev->msix_pba, 0, pdev->msix_pba_len);
}

/*
 * The interrupt mode SET_IRQS chose (the kernel's vdev->irq_type). Read
 * without irq_lock: raise_irq runs under `lock` only, and a mode change
 * racing with an interrupt delivers it in either mode, as on hardware.
 */
static int irq_mode(const struct uvfio_pci_device *p)
{
	return __atomic_load_n(&p->irq_mode, __ATOMIC_RELAXED);
}

/*
 * MSI-X (and MSI below) is on when the client enabled it in config space
 * (QEMU writes the guest's capability writes through) or through SET_IRQS
 * alone: under the kernel, vfio-pci enables the real capability when the
 * user assigns eventfds, and a driver never writes the capability itself.
 */
static bool msix_enabled(const struct uvfio_pci_device *p)
{
	return p->msix_cap &&
	       ((cfg_rd16(p, p->msix_cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE) ||
		irq_mode(p) == VFIO_PCI_MSIX_IRQ_INDEX);
}

static bool msix_masked(const struct uvfio_pci_device *p, uint32_t v)
{
	return (cfg_rd16(p, p->msix_cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_MASKALL) ||
	       (p->msix_table[v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL] &
		PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

/*
 * Deliver the PBA bits of vectors [first, first+count) that are no longer
 * masked. The PBA is walked a word at a time and empty words are skipped,
 * so the cost follows the pending vectors, not the table size: a table
 * write or a SET_IRQS chunk looks only at the vectors it touched.
 */
static void msix_deliver_range_locked(struct uvfio_pci_device *pdev, uint32_t first,
				      uint32_t count)
{
	uint32_t n = pdev->info.msix.table_size, end;

	if (!msix_enabled(pdev) || first >= n)
		return;
	end = count > n - first ? n : first + count;
	for (uint32_t w = first / 64; w * 64 < end; w++) {
		uint64_t bits = pdev->msix_pba[w];

		/* only the vectors of [first, end) in this word */
		if (w * 64 < first)
			bits &= ~0ull << (first % 64);
		if (end - w * 64 < 64)
			bits &= (1ull << (end - w * 64)) - 1;
		while (bits) {
			uint32_t v = w * 64 + (uint32_t)__builtin_ctzll(bits);

			bits &= bits - 1;
			if (msix_masked(pdev, v))
				continue;
			pdev->msix_pba[w] &= ~(1ull << (v % 64));
			uvfio_irq_trigger(pdev->dev, VFIO_PCI_MSIX_IRQ_INDEX, v);
		}
	}
}

/* Deliver PBA bits whose vector is no longer masked (function mask, enable). */
void pci_msix_deliver_locked(struct uvfio_pci_device *pdev)
{
	msix_deliver_range_locked(pdev, 0, pdev->info.msix.table_size);
}

/*
 * A client access at `off` of `bar`, aligned to its size (<= 8). Returns
 * true if it hit the table or the PBA (and was served here). Table: address,
 * data and the vector control mask bit are writable; PBA: read-only, writes
 * dropped.
 */
bool pci_msix_table_access(struct uvfio_pci_device *pdev, int bar,
			   uint64_t off, void *buf, size_t size, bool write)
{
	const struct uvfio_pci_msix_info *x = &pdev->info.msix;
	uint8_t *b = buf;

	if (!pdev->msix_table)
		return false;
	if (bar == x->table_bar && off >= x->table_offset &&
	    off - x->table_offset < pdev->msix_table_len) {
		uint64_t t = off - x->table_offset;

		pthread_mutex_lock(&pdev->lock);
		for (size_t i = 0; i < size; i++) {
			uint64_t field = (t + i) % PCI_MSIX_ENTRY_SIZE;
			uint8_t wm = 0xff;

			if (field >= PCI_MSIX_ENTRY_VECTOR_CTRL)
				wm = field == PCI_MSIX_ENTRY_VECTOR_CTRL ?
					     PCI_MSIX_ENTRY_CTRL_MASKBIT : 0;
			if (write)
				pdev->msix_table[t + i] = (uint8_t)(
					(pdev->msix_table[t + i] & ~wm) | (b[i] & wm));
			else
				b[i] = pdev->msix_table[t + i];
		}
		if (write) /* an unmask releases the PBA bits of the entries written */
			msix_deliver_range_locked(pdev, (uint32_t)(t / PCI_MSIX_ENTRY_SIZE),
						  (uint32_t)((t + size - 1) / PCI_MSIX_ENTRY_SIZE -
							     t / PCI_MSIX_ENTRY_SIZE + 1));
		pthread_mutex_unlock(&pdev->lock);
		return true;
	}
	if (bar == x->pba_bar && off >= x->pba_offset &&
	    off - x->pba_offset < pdev->msix_pba_len) {
		uint64_t t = off - x->pba_offset;

		if (write)
			return true;
		pthread_mutex_lock(&pdev->lock);
		for (size_t i = 0; i < size; i++)
			b[i] = (uint8_t)(pdev->msix_pba[(t + i) / 8] >> (8 * ((t + i) % 8)));
		pthread_mutex_unlock(&pdev->lock);
		return true;
	}
	return false;
}

/* ---- MSI ----------------------------------------------------------------- */

static bool msi_enabled(const struct uvfio_pci_device *p)
{
	return p->msi_cap &&
	       ((cfg_rd16(p, p->msi_cap + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE) ||
		irq_mode(p) == VFIO_PCI_MSI_IRQ_INDEX);
}

static uint32_t msi_mask_reg(const struct uvfio_pci_device *p)
{
	return p->msi_cap + (p->info.msi.addr64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
}

static uint32_t msi_nvec(const struct uvfio_pci_device *p)
{
	uint16_t flags = cfg_rd16(p, p->msi_cap + PCI_MSI_FLAGS);

	/* Enabled through SET_IRQS alone: the vectors the client may assign. */
	if (!(flags & PCI_MSI_FLAGS_ENABLE))
		return p->info.msi.vectors;
	return 1u << ((flags & PCI_MSI_FLAGS_QSIZE) >> 4);
}

/* Deliver pending MSI vectors that are now unmasked (and enabled). */
void pci_msi_deliver_locked(struct uvfio_pci_device *pdev)
{
	uint32_t mreg, mask, pend;

	if (!pdev->info.msi.per_vector_mask || !msi_enabled(pdev))
		return;
	mreg = msi_mask_reg(pdev);
	mask = cfg_rd32(pdev, mreg);
	pend = cfg_rd32(pdev, mreg + 4);
	for (uint32_t v = 0; v < msi_nvec(pdev); v++) {
		if (!(pend & (1u << v)) || (mask & (1u << v)))
			continue;
		pend &= ~(1u << v);
		put_le(pdev->cfg, mreg + 4, 4, pend);
		uvfio_irq_trigger(pdev->dev, VFIO_PCI_MSI_IRQ_INDEX, v);
	}
}

/* ---- INTx ---------------------------------------------------------------- */

/*
 * INTx is a level: STATUS.INTERRUPT is the line, and it reaches the client
 * unless COMMAND.INTX_DISABLE or the client's (auto)mask holds it. We signal
 * only when the client could take it, and re-signal on unmask if the line
 * is still up (the kernel's unmask re-check), so no stale signal is left
 * pending after the device lowered the line.
 */
static int intx_signal_locked(struct uvfio_pci_device *p)
{
	if (!p->info.interrupt_pin || msi_enabled(p) || msix_enabled(p))
		return 0;
	if (!(cfg_rd16(p, PCI_STATUS) & PCI_STATUS_INTERRUPT) ||
	    (cfg_rd16(p, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE))
		return 0;
	if (uvfio_irq_masked(p->dev, VFIO_PCI_INTX_IRQ_INDEX, 0))
		return 0;
	return uvfio_irq_trigger(p->dev, VFIO_PCI_INTX_IRQ_INDEX, 0);
}

/* COMMAND.INTX_DISABLE changed: clearing it re-asserts a line still up. */
void pci_intx_update_locked(struct uvfio_pci_device *pdev, uint16_t old_cmd)
{
	if (old_cmd & PCI_COMMAND_INTX_DISABLE)
		intx_signal_locked(pdev);
}

/* ---- the device's side ---------------------------------------------------- */

int uvfio_pci_raise_irq(struct uvfio_pci_device *pdev, unsigned int vector)
{
	int ret = 0;

	pthread_mutex_lock(&pdev->lock);
	if (msix_enabled(pdev)) {
		if (vector >= pdev->info.msix.table_size) {
			ret = -EINVAL;
		} else if (msix_masked(pdev, vector)) {
			pdev->msix_pba[vector / 64] |= 1ull << (vector % 64);
		} else {
			ret = uvfio_irq_trigger(pdev->dev, VFIO_PCI_MSIX_IRQ_INDEX, vector);
		}
	} else if (msi_enabled(pdev)) {
		uint32_t mreg = msi_mask_reg(pdev);

		if (vector >= msi_nvec(pdev)) {
			ret = -EINVAL;
		} else if (pdev->info.msi.per_vector_mask &&
			   (cfg_rd32(pdev, mreg) & (1u << vector))) {
			put_le(pdev->cfg, mreg + 4, 4,
			       cfg_rd32(pdev, mreg + 4) | 1u << vector);
		} else {
			ret = uvfio_irq_trigger(pdev->dev, VFIO_PCI_MSI_IRQ_INDEX, vector);
		}
	} else if (pdev->info.interrupt_pin) {
		pci_set_status_locked(pdev, PCI_STATUS_INTERRUPT);
		ret = intx_signal_locked(pdev);
	}
	pthread_mutex_unlock(&pdev->lock);
	return ret;
}

void uvfio_pci_lower_irq(struct uvfio_pci_device *pdev)
{
	pthread_mutex_lock(&pdev->lock);
	put_le(pdev->cfg, PCI_STATUS, 2,
	       cfg_rd16(pdev, PCI_STATUS) & ~PCI_STATUS_INTERRUPT);
	pthread_mutex_unlock(&pdev->lock);
}

/* ---- SET_IRQS: one mode at a time ----------------------------------------- */

/*
 * Under the kernel the MSI-X table belongs to the host: when the user
 * assigns an eventfd to a vector, vfio-pci requests the host IRQ and the
 * host unmasks that entry; de-assigning masks it again. QEMU never writes
 * our table (it emulates the guest's copy and only reads our PBA), and a
 * driver written for kernel VFIO never touches it either, so the entry mask
 * follows trigger assignment for [start, start+count). A client may still
 * write mask bits through the BAR in between.
 */
static void msix_sync_masks(struct uvfio_pci_device *p, uint32_t start,
			    uint32_t count)
{
	uint32_t n = p->info.msix.table_size;

	pthread_mutex_lock(&p->lock);
	for (uint32_t v = start; v < n && v - start < count; v++) {
		uint8_t *ctrl = &p->msix_table[v * PCI_MSIX_ENTRY_SIZE +
					       PCI_MSIX_ENTRY_VECTOR_CTRL];

		if (uvfio_irq_has_trigger(p->dev, VFIO_PCI_MSIX_IRQ_INDEX, v))
			*ctrl &= (uint8_t)~PCI_MSIX_ENTRY_CTRL_MASKBIT;
		else
			*ctrl |= PCI_MSIX_ENTRY_CTRL_MASKBIT;
	}
	msix_deliver_range_locked(p, start, count); /* vectors that just got their eventfd */
	pthread_mutex_unlock(&p->lock);
}

void pci_irq_mode_reset(struct uvfio_pci_device *pdev)
{
	pthread_mutex_lock(&pdev->irq_lock);
	pdev->irq_mode = PCI_IRQ_NONE;
	pdev->irq_nvec = 0;
	pthread_mutex_unlock(&pdev->irq_lock);
}

static int set_intx_mask(struct uvfio_pci_device *p, const struct vfio_irq_set *hdr,
			 const void *data)
{
	uint32_t action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	int ret;

	if (p->irq_mode != VFIO_PCI_INTX_IRQ_INDEX || hdr->start || hdr->count != 1)
		return -EINVAL;
	if (action == VFIO_IRQ_SET_ACTION_MASK && (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD))
		return -ENOTTY;
	ret = uvfio_irq_set_default(p->dev, hdr, data);
	if (!ret && action == VFIO_IRQ_SET_ACTION_UNMASK) {
		pthread_mutex_lock(&p->lock);
		intx_signal_locked(p);
		pthread_mutex_unlock(&p->lock);
	}
	return ret;
}

static int set_trigger(struct uvfio_pci_device *p, const struct vfio_irq_set *hdr,
		       const void *data)
{
	uint32_t index = hdr->index;
	uint32_t dtype = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	bool active = p->irq_mode == (int)index;
	int ret;

	/* count 0 + DATA_NONE on the active index: disable it. */
	if (active && !hdr->count && dtype == VFIO_IRQ_SET_DATA_NONE) {
		ret = uvfio_irq_set_default(p->dev, hdr, data);
		if (!ret) {
			__atomic_store_n(&p->irq_mode, PCI_IRQ_NONE, __ATOMIC_RELAXED);
			p->irq_nvec = 0;
			if (index == VFIO_PCI_MSIX_IRQ_INDEX)
				msix_sync_masks(p, 0, UINT32_MAX);
		}
		return ret;
	}
	/* Mode conflict: another of INTx/MSI/MSI-X is active. */
	if (!active && p->irq_mode != PCI_IRQ_NONE)
		return -EINVAL;
	if (index == VFIO_PCI_INTX_IRQ_INDEX && (hdr->start || hdr->count != 1))
		return -EINVAL;
	if (!hdr->count)
		return -EINVAL;
	/* Loopback (NONE/BOOL) only tests an enabled index. */
	if (dtype != VFIO_IRQ_SET_DATA_EVENTFD && !active)
		return -EINVAL;
	/* MSI is NORESIZE: the vectors enabled first are all there is until
	 * disable. MSI-X grows (dynamic allocation, see setup_irqs). */
	if (dtype == VFIO_IRQ_SET_DATA_EVENTFD && active &&
	    index == VFIO_PCI_MSI_IRQ_INDEX && hdr->start + hdr->count > p->irq_nvec)
		return -EINVAL;

	ret = uvfio_irq_set_default(p->dev, hdr, data);
	if (!ret && index == VFIO_PCI_MSIX_IRQ_INDEX &&
	    dtype == VFIO_IRQ_SET_DATA_EVENTFD)
		msix_sync_masks(p, hdr->start, hdr->count);
	if (!ret && !active)
		__atomic_store_n(&p->irq_mode, (int)index, __ATOMIC_RELAXED);
	if (!ret && (!active || hdr->start + hdr->count > p->irq_nvec))
		p->irq_nvec = hdr->start + hdr->count;
	/*
	 * A line already up reaches the new trigger, also when the mode was
	 * already INTx (a migrated-in function keeps its mode, the client's
	 * eventfd comes afterwards).
	 */
	if (!ret && index == VFIO_PCI_INTX_IRQ_INDEX && dtype == VFIO_IRQ_SET_DATA_EVENTFD) {
		pthread_mutex_lock(&p->lock);
		intx_signal_locked(p);
		pthread_mutex_unlock(&p->lock);
	}
	return ret;
}

/* struct uvfio_device_ops.set_irqs: the core has validated the header. */
int pci_set_irqs(struct uvfio_device *dev, const struct vfio_irq_set *hdr,
		 const void *data)
{
	struct uvfio_pci_device *p = uvfio_device_priv(dev);
	uint32_t action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	int ret;

	if (hdr->index > VFIO_PCI_MSIX_IRQ_INDEX)
		return uvfio_irq_set_default(dev, hdr, data); /* ERR, REQ */

	pthread_mutex_lock(&p->irq_lock);
	switch (action) {
	case VFIO_IRQ_SET_ACTION_MASK:
	case VFIO_IRQ_SET_ACTION_UNMASK:
		/* The kernel has no MSI/MSI-X mask through SET_IRQS. */
		ret = hdr->index == VFIO_PCI_INTX_IRQ_INDEX ? set_intx_mask(p, hdr, data)
							    : -ENOTTY;
		break;
	case VFIO_IRQ_SET_ACTION_TRIGGER:
		ret = set_trigger(p, hdr, data);
		break;
	default:
		ret = -ENOTTY;
		break;
	}
	pthread_mutex_unlock(&p->irq_lock);
	return ret;
}
