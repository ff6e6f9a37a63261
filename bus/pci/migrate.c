/* SPDX-License-Identifier: MIT */
/*
 * Migration of a PCI function: the bus driver's mig_ops for devices whose
 * uvfio_pci_ops have save and load. The stream (uvfio/mig_stream.h):
 *
 *   header   type = ops->mig_type, version = ops->mig_version,
 *            id = vendor << 48 | device << 32 | subvendor << 16 | subdevice
 *   PCI      section: CFG (cfg_size bytes), MSIX_TABLE, MSIX_PBA (when the
 *            function has MSI-X), IRQ_MODE (u32: SET_IRQS index + 1, 0 none),
 *            IRQ_NVEC (u32)
 *   DEV      section: the device's own records
 *
 * Only STOP_COPY: these functions hold kilobytes, so pre-copy would only
 * add rounds. The stream is built when STOP_COPY starts and parsed at
 * RESUMING -> STOP; a bad stream fails that arc (the core then reports
 * ERROR) and changes nothing.
 *
 * Config space on load: the bits a client may write (and RW1C status bits)
 * come from the stream; read-only bits stay the destination's own (IDs,
 * capability layout: a stream must not rewrite the capability chain), except
 * device-owned state: STATUS.INTERRUPT (the INTx line) and the MSI pending
 * bits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uvfio/log.h>

#include "bus/pci/pci_internal.h"

enum { TAG_PCI = 1, TAG_DEV = 2 };
enum { P_CFG = 1, P_MSIX_TABLE, P_MSIX_PBA, P_IRQ_MODE, P_IRQ_NVEC };

#define LOAD_LIMIT (1u << 20) /* a PCI function's stream: far below this */

static struct uvfio_pci_device *to_pdev(struct uvfio_device *dev)
{
	return uvfio_device_priv(dev);
}

static void pci_mig_id(const struct uvfio_pci_device *p, struct uvfio_mig_id *id)
{
	const struct uvfio_pci_info *i = &p->info;

	id->type = i->ops->mig_type ? i->ops->mig_type : "pci";
	id->version = i->ops->mig_version;
	id->id = (uint64_t)i->vendor_id << 48 | (uint64_t)i->device_id << 32 |
		 (uint64_t)i->subsystem_vendor_id << 16 | i->subsystem_id;
}

static uint32_t pba_bytes(const struct uvfio_pci_device *p)
{
	return p->msix_pba_len;
}

static void save_pci(struct uvfio_pci_device *p, struct uvfio_mig_writer *w)
{
	uvfio_mig_section_begin(w, TAG_PCI);
	pthread_mutex_lock(&p->lock);
	uvfio_mig_put(w, P_CFG, p->cfg, p->cfg_size);
	if (p->msix_table) {
		uvfio_mig_put(w, P_MSIX_TABLE, p->msix_table, p->msix_table_len);
		uvfio_mig_put(w, P_MSIX_PBA, p->msix_pba, pba_bytes(p));
	}
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_lock(&p->irq_lock);
	uvfio_mig_put_u32(w, P_IRQ_MODE, (uint32_t)(p->irq_mode + 1));
	uvfio_mig_put_u32(w, P_IRQ_NVEC, p->irq_nvec);
	pthread_mutex_unlock(&p->irq_lock);
	uvfio_mig_section_end(w);
}

static int pci_build_stream(struct uvfio_pci_device *p, struct uvfio_mig_writer *w)
{
	struct uvfio_mig_id id;
	int ret;

	pci_mig_id(p, &id);
	uvfio_mig_writer_init(w, 0);
	uvfio_mig_put_header(w, &id);
	save_pci(p, w);
	uvfio_mig_section_begin(w, TAG_DEV);
	ret = p->info.ops->save(p, w);
	if (ret)
		return ret > 0 ? -ret : ret;
	uvfio_mig_section_end(w);
	return uvfio_mig_put_end(w);
}

/* The PCI section, checked; applied only after the device load worked. */
struct pci_state {
	const uint8_t *cfg;
	const uint8_t *table, *pba;
	uint32_t irq_mode, irq_nvec;
	bool has_cfg, has_mode, has_nvec;
};

static int parse_pci(struct uvfio_pci_device *p, const void *val, size_t len,
		     struct pci_state *st)
{
	struct uvfio_mig_reader r;
	const void *v;
	uint16_t tag;
	size_t n;
	int ret;

	memset(st, 0, sizeof(*st));
	ret = uvfio_mig_open_section(&r, val, len);
	while (!ret && (ret = uvfio_mig_next(&r, &tag, &v, &n)) == 1) {
		ret = -EINVAL;
		switch (tag) {
		case P_CFG:
			if (n == p->cfg_size && !st->has_cfg) {
				st->cfg = v;
				st->has_cfg = true;
				ret = 0;
			}
			break;
		case P_MSIX_TABLE:
			if (p->msix_table && n == p->msix_table_len && !st->table) {
				st->table = v;
				ret = 0;
			}
			break;
		case P_MSIX_PBA:
			if (p->msix_table && n == pba_bytes(p) && !st->pba) {
				st->pba = v;
				ret = 0;
			}
			break;
		case P_IRQ_MODE:
			ret = uvfio_mig_get_u32(v, n, &st->irq_mode);
			/* NONE, INTx, MSI or MSI-X, and one this function has */
			if (!ret && st->irq_mode > VFIO_PCI_MSIX_IRQ_INDEX + 1)
				ret = -EINVAL;
			st->has_mode = true;
			break;
		case P_IRQ_NVEC:
			ret = uvfio_mig_get_u32(v, n, &st->irq_nvec);
			if (!ret && st->irq_nvec > PCI_MSIX_MAX_VECTORS)
				ret = -EINVAL;
			st->has_nvec = true;
			break;
		}
	}
	if (ret < 0)
		return ret;
	if (!st->has_cfg || !st->has_mode || !st->has_nvec ||
	    (p->msix_table && (!st->table || !st->pba)))
		return -EINVAL;
	return 0;
}

static void apply_pci(struct uvfio_pci_device *p, const struct pci_state *st)
{
	uint16_t cmd;

	pthread_mutex_lock(&p->lock);
	for (uint32_t i = 0; i < p->cfg_size; i++) {
		uint8_t m = p->wmask[i] | p->w1cmask[i];

		p->cfg[i] = (uint8_t)((p->cfg[i] & ~m) | (st->cfg[i] & m));
	}
	/* The INTx line is the device's state, not a client-writable bit. */
	put_le(p->cfg, PCI_STATUS, 2,
	       (cfg_rd16(p, PCI_STATUS) & ~PCI_STATUS_INTERRUPT) |
		       ((uint16_t)(st->cfg[PCI_STATUS] | st->cfg[PCI_STATUS + 1] << 8) &
			PCI_STATUS_INTERRUPT));
	if (p->msi_cap && p->info.msi.per_vector_mask) {
		uint32_t off = p->msi_cap + (p->info.msi.addr64 ? PCI_MSI_PENDING_64
								 : PCI_MSI_PENDING_32);

		memcpy(p->cfg + off, st->cfg + off, 4);
	}
	if (p->msix_table) {
		memcpy(p->msix_table, st->table, p->msix_table_len);
		memcpy(p->msix_pba, st->pba, pba_bytes(p));
	}
	cmd = cfg_rd16(p, PCI_COMMAND);
	pthread_mutex_unlock(&p->lock);
	uvfio_device_set_bus_master(p->dev, cmd & PCI_COMMAND_MASTER);

	/*
	 * The interrupt mode follows when this side's client has set none yet;
	 * its SET_IRQS of the same mode then only assigns eventfds. A client
	 * that already chose another mode keeps it (and is told in the log).
	 */
	pthread_mutex_lock(&p->irq_lock);
	if (p->irq_mode == PCI_IRQ_NONE) {
		__atomic_store_n(&p->irq_mode, (int)st->irq_mode - 1, __ATOMIC_RELAXED);
		p->irq_nvec = st->irq_mode ? st->irq_nvec : 0;
	} else if (p->irq_mode != (int)st->irq_mode - 1) {
		uvfio_dev_log(p->dev, UVFIO_LOG_WARN,
			      "migrated interrupt mode %d kept as the client's %d",
			      (int)st->irq_mode - 1, p->irq_mode);
	}
	pthread_mutex_unlock(&p->irq_lock);
}

static int pci_load_stream(struct uvfio_pci_device *p, const uint8_t *buf, size_t len)
{
	const void *pci_val = NULL, *dev_val = NULL;
	size_t pci_len = 0, dev_len = 0, n;
	struct uvfio_mig_reader r, dr;
	struct pci_state st;
	struct uvfio_mig_id id;
	const void *v;
	uint16_t tag;
	int ret;

	pci_mig_id(p, &id);
	ret = uvfio_mig_open(&r, buf, len, &id, uvfio_device_name(p->dev));
	if (ret)
		return ret;
	while ((ret = uvfio_mig_next(&r, &tag, &v, &n)) == 1) {
		if (tag == TAG_PCI && !pci_val) {
			pci_val = v;
			pci_len = n;
		} else if (tag == TAG_DEV && !dev_val) {
			dev_val = v;
			dev_len = n;
		} else {
			ret = -EINVAL;
			break;
		}
	}
	if (ret || !pci_val || !dev_val)
		goto bad;
	ret = parse_pci(p, pci_val, pci_len, &st);
	if (ret)
		goto bad;
	ret = uvfio_mig_open_section(&dr, dev_val, dev_len);
	if (ret)
		goto bad;
	ret = p->info.ops->load(p, &dr);
	if (ret) {
		ret = ret > 0 ? -ret : ret;
		goto bad;
	}
	apply_pci(p, &st);
	return 0;

bad:
	uvfio_dev_log(p->dev, UVFIO_LOG_ERR, "migration stream refused: %s",
		      strerror(-ret));
	return ret < 0 ? ret : -EINVAL;
}

static int pci_mig_set_state(struct uvfio_device *dev, enum uvfio_mig_state from,
			     enum uvfio_mig_state to)
{
	struct uvfio_pci_device *p = to_pdev(dev);
	struct uvfio_mig_writer w;
	int ret = 0;

	if ((from == UVFIO_MIG_RUNNING && to == UVFIO_MIG_STOP) ||
	    (from == UVFIO_MIG_STOP && to == UVFIO_MIG_RUNNING)) {
		if (p->info.ops->set_running)
			ret = p->info.ops->set_running(p, to == UVFIO_MIG_RUNNING);
	} else if (from == UVFIO_MIG_STOP && to == UVFIO_MIG_STOP_COPY) {
		ret = pci_build_stream(p, &w);
		if (!ret)
			uvfio_mig_buffer_set_save(&p->mig, &w);
		uvfio_mig_writer_fini(&w);
	} else if (from == UVFIO_MIG_STOP_COPY) {
		uvfio_mig_buffer_drop_save(&p->mig);
	} else if (to == UVFIO_MIG_RESUMING) {
		uvfio_mig_buffer_drop_load(&p->mig);
	} else if (from == UVFIO_MIG_RESUMING) {
		ret = pci_load_stream(p, p->mig.load, p->mig.load_len);
		uvfio_mig_buffer_drop_load(&p->mig);
	}
	return ret;
}

static ssize_t pci_mig_save(struct uvfio_device *dev, void *buf, size_t len)
{
	return (ssize_t)uvfio_mig_buffer_read(&to_pdev(dev)->mig, buf, len);
}

static int pci_mig_load(struct uvfio_device *dev, const void *buf, size_t len)
{
	struct uvfio_pci_device *p = to_pdev(dev);
	size_t before = p->mig.load_len;
	struct uvfio_mig_id id;
	int ret = uvfio_mig_buffer_append(&p->mig, buf, len);

	/* Refuse another device's stream at once, not after all its bytes. */
	if (!ret && before < UVFIO_MIG_HDR_SIZE && p->mig.load_len >= UVFIO_MIG_HDR_SIZE) {
		pci_mig_id(p, &id);
		ret = uvfio_mig_check_header(p->mig.load, &id, uvfio_device_name(dev));
	}
	if (ret == -E2BIG)
		uvfio_dev_log(dev, UVFIO_LOG_ERR, "migration stream over %u bytes: not ours",
			      LOAD_LIMIT);
	return ret == -E2BIG ? -EINVAL : ret;
}

static int pci_mig_data_size(struct uvfio_device *dev, uint64_t *len)
{
	struct uvfio_pci_device *p = to_pdev(dev);
	struct uvfio_mig_writer w;
	int ret;

	/* Small enough to measure by building it. */
	if (uvfio_mig_buffer_pending(&p->mig)) {
		*len = uvfio_mig_buffer_pending(&p->mig);
		return 0;
	}
	ret = pci_build_stream(p, &w);
	*len = w.len;
	uvfio_mig_writer_fini(&w);
	return ret;
}

const struct uvfio_migration_ops pci_mig_ops = {
	.flags = VFIO_MIGRATION_STOP_COPY,
	.set_state = pci_mig_set_state,
	.save = pci_mig_save,
	.load = pci_mig_load,
	.data_size = pci_mig_data_size,
};

void pci_mig_init(struct uvfio_pci_device *pdev)
{
	uvfio_mig_buffer_init(&pdev->mig, LOAD_LIMIT);
}

void pci_mig_fini(struct uvfio_pci_device *pdev)
{
	uvfio_mig_buffer_fini(&pdev->mig);
}
