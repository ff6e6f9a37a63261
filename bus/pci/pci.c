/* SPDX-License-Identifier: MIT */
/*
 * The PCI bus driver's object: turns a struct uvfio_pci_info into a struct
 * uvfio_device with vfio-pci's region and IRQ layout, and implements the
 * device ops (region access dispatch, reset, SET_IRQS, last close).
 */
#include <errno.h>
#include <stdlib.h>

#include <uvfio/log.h>
#include "bus/pci/pci_internal.h"

/*
 * Region offsets as vfio-pci encodes them (index << 40), for regions that
 * are only read and written. A mappable BAR reports 0 instead: over
 * vfio-user the offset is where the region sits in its mmap fd, and every
 * mappable BAR has a memfd of its own.
 */
#define PCI_OFFSET_SHIFT 40

static ssize_t pci_read(struct uvfio_device *dev, uint32_t index, uint64_t pos,
			void *buf, size_t count)
{
	struct uvfio_pci_device *pdev = uvfio_device_priv(dev);

	if (index <= VFIO_PCI_BAR5_REGION_INDEX)
		return pci_bar_rw(pdev, (int)index, pos, buf, count, false);
	if (index == VFIO_PCI_ROM_REGION_INDEX)
		return pci_rom_read(pdev, pos, buf, count);
	if (index == VFIO_PCI_CONFIG_REGION_INDEX)
		return pci_config_rw(pdev, pos, buf, count, false);
	return -EINVAL;
}

static ssize_t pci_write(struct uvfio_device *dev, uint32_t index, uint64_t pos,
			 const void *buf, size_t count)
{
	struct uvfio_pci_device *pdev = uvfio_device_priv(dev);

	/* The buffer is not written to on these paths; the shared rw helpers
	 * take a non-const pointer for both directions. */
	if (index <= VFIO_PCI_BAR5_REGION_INDEX)
		return pci_bar_rw(pdev, (int)index, pos, (void *)buf, count, true);
	if (index == VFIO_PCI_CONFIG_REGION_INDEX)
		return pci_config_rw(pdev, pos, (void *)buf, count, true);
	return -EINVAL; /* ROM is read-only, as vfio-pci */
}

/* FLR, DEVICE_RESET, last close: config back to power-on, then the device. */
int pci_function_reset(struct uvfio_pci_device *pdev)
{
	const struct uvfio_pci_ops *ops = pdev->info.ops;

	pthread_mutex_lock(&pdev->lock);
	pci_config_reset_locked(pdev);
	pthread_mutex_unlock(&pdev->lock);
	uvfio_dev_log(pdev->dev, UVFIO_LOG_DEBUG, "function reset");
	if (ops && ops->reset)
		return ops->reset(pdev);
	return 0;
}

static int pci_reset(struct uvfio_device *dev)
{
	return pci_function_reset(uvfio_device_priv(dev));
}

/*
 * First open: as the kernel's vfio-pci (pci_enable_device() enables the
 * decoding of every implemented BAR), memory and I/O decoding are on when a
 * client starts, so a driver reads its registers without touching COMMAND.
 * Bus mastering stays off until the driver sets it.
 */
static int pci_open_device(struct uvfio_device *dev)
{
	struct uvfio_pci_device *pdev = uvfio_device_priv(dev);
	uint16_t enable = 0;

	for (int i = 0; i < 6; i++) {
		if (!pdev->info.bars[i].size)
			continue;
		enable |= (pdev->info.bars[i].flags & UVFIO_PCI_BAR_IO) ? PCI_COMMAND_IO
									  : PCI_COMMAND_MEMORY;
	}
	pthread_mutex_lock(&pdev->lock);
	put_le(pdev->cfg, PCI_COMMAND, 2, cfg_rd16(pdev, PCI_COMMAND) | enable);
	pthread_mutex_unlock(&pdev->lock);
	return 0;
}

/*
 * Last close: the kernel's vfio-pci resets the function and turns off
 * interrupts, so the next client finds a device in power-on state. The
 * core releases the eventfds after we return.
 */
static void pci_close_device(struct uvfio_device *dev)
{
	struct uvfio_pci_device *pdev = uvfio_device_priv(dev);
	int ret;

	pci_irq_mode_reset(pdev);
	ret = pci_function_reset(pdev);
	if (ret)
		uvfio_dev_log(dev, UVFIO_LOG_WARN, "reset on close failed: %d", ret);
}

/* Unregister frees the struct uvfio_device; uvfio_pci_destroy() the rest. */
static void pci_release(struct uvfio_device *dev)
{
	struct uvfio_pci_device *pdev = uvfio_device_priv(dev);

	pdev->dev = NULL;
}

static const struct uvfio_device_ops pci_device_ops = {
	.read = pci_read,
	.write = pci_write,
	.reset = pci_reset,
	.set_irqs = pci_set_irqs,
	.open_device = pci_open_device,
	.close_device = pci_close_device,
	.release = pci_release,
};

/* The same, for functions that migrate (uvfio_pci_ops save and load). */
static const struct uvfio_device_ops pci_device_mig_ops = {
	.read = pci_read,
	.write = pci_write,
	.reset = pci_reset,
	.set_irqs = pci_set_irqs,
	.open_device = pci_open_device,
	.close_device = pci_close_device,
	.release = pci_release,
	.mig_ops = &pci_mig_ops,
};

static int setup_regions(struct uvfio_pci_device *pdev)
{
	struct uvfio_device *dev = pdev->dev;
	struct uvfio_region r;
	int ret;

	ret = uvfio_device_set_num_regions(dev, VFIO_PCI_NUM_REGIONS);
	if (ret)
		return ret;
	for (uint32_t i = 0; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		const struct uvfio_pci_bar_info *b = &pdev->info.bars[i];

		if (!b->size)
			continue; /* unimplemented or the upper half of a 64-bit BAR */
		memset(&r, 0, sizeof(r));
		r.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		r.size = b->size;
		r.offset = (uint64_t)i << PCI_OFFSET_SHIFT;
		r.mmap_fd = -1;
		if (pdev->bar_fd[i] >= 0) {
			r.flags |= VFIO_REGION_INFO_FLAG_MMAP;
			r.offset = 0;
			r.mmap_fd = pdev->bar_fd[i];
			r.nr_areas = 1;
			r.areas[0].offset = 0;
			r.areas[0].size = b->size;
		}
		ret = uvfio_device_set_region(dev, i, &r);
		if (ret)
			return ret;
	}
	if (pdev->info.rom.size) {
		memset(&r, 0, sizeof(r));
		r.flags = VFIO_REGION_INFO_FLAG_READ;
		r.size = pdev->info.rom.size;
		r.offset = (uint64_t)VFIO_PCI_ROM_REGION_INDEX << PCI_OFFSET_SHIFT;
		r.mmap_fd = -1;
		ret = uvfio_device_set_region(dev, VFIO_PCI_ROM_REGION_INDEX, &r);
		if (ret)
			return ret;
	}
	memset(&r, 0, sizeof(r));
	r.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	r.size = pdev->cfg_size;
	r.offset = (uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << PCI_OFFSET_SHIFT;
	r.mmap_fd = -1;
	/* VGA (8) stays absent: size 0, no flags. */
	return uvfio_device_set_region(dev, VFIO_PCI_CONFIG_REGION_INDEX, &r);
}

/* IRQ indexes as vfio-pci's GET_IRQ_INFO reports them (reference §3.4). */
static int setup_irqs(struct uvfio_pci_device *pdev)
{
	struct uvfio_device *dev = pdev->dev;
	const struct uvfio_pci_info *info = &pdev->info;
	const uint32_t nores = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
	int ret;

	ret = uvfio_device_set_num_irqs(dev, VFIO_PCI_NUM_IRQS);
	if (!ret)
		ret = uvfio_device_set_irq_info(dev, VFIO_PCI_INTX_IRQ_INDEX,
						info->interrupt_pin ? 1 : 0,
						VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
							VFIO_IRQ_INFO_AUTOMASKED);
	if (!ret)
		ret = uvfio_device_set_irq_info(dev, VFIO_PCI_MSI_IRQ_INDEX,
						info->msi.vectors, nores);
	/* MSI-X without NORESIZE, as vfio-pci where the platform allocates
	 * MSI-X vectors dynamically (v6.5+): vectors may be added while it is
	 * enabled. Over vfio-user a client must be able to: an enable of more
	 * vectors than the server's max_msg_fds arrives in several messages. */
	if (!ret)
		ret = uvfio_device_set_irq_info(dev, VFIO_PCI_MSIX_IRQ_INDEX,
						info->msix.table_size, VFIO_IRQ_INFO_EVENTFD);
	if (!ret)
		ret = uvfio_device_set_irq_info(dev, VFIO_PCI_ERR_IRQ_INDEX,
						info->pcie ? 1 : 0, nores);
	if (!ret)
		ret = uvfio_device_set_irq_info(dev, VFIO_PCI_REQ_IRQ_INDEX, 1, nores);
	return ret;
}

struct uvfio_pci_device *uvfio_pci_create(const char *name,
					  const struct uvfio_pci_info *info,
					  void *priv)
{
	struct uvfio_pci_device *pdev;
	int ret;

	if (!name || !info) {
		errno = EINVAL;
		return NULL;
	}
	pdev = calloc(1, sizeof(*pdev));
	if (!pdev) {
		errno = ENOMEM;
		return NULL;
	}
	pdev->info = *info;
	pdev->priv = priv;
	pdev->irq_mode = PCI_IRQ_NONE;
	pdev->sriov_pending = -1;
	for (int i = 0; i < 6; i++)
		pdev->bar_fd[i] = -1;
	pthread_mutex_init(&pdev->lock, NULL);
	pthread_mutex_init(&pdev->irq_lock, NULL);

	pci_mig_init(pdev);
	if (info->ops && info->ops->save && info->ops->load)
		pdev->dev = uvfio_device_create(name, &pci_device_mig_ops, pdev);
	else
		pdev->dev = uvfio_device_create(name, &pci_device_ops, pdev);
	if (!pdev->dev) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = pci_config_init(pdev);
	if (ret)
		goto err_invalid;
	ret = pci_msix_init(pdev);
	if (ret)
		goto err_invalid;
	ret = pci_bars_init(pdev);
	if (ret)
		goto err_msix;
	uvfio_device_set_flags(pdev->dev, VFIO_DEVICE_FLAGS_PCI);
	ret = setup_regions(pdev);
	if (!ret)
		ret = setup_irqs(pdev);
	if (!ret)
		ret = pci_sriov_add_feature(pdev);
	if (ret)
		goto err_bars;
	uvfio_device_set_bus_master(pdev->dev, false);
	return pdev;

err_bars:
	pci_bars_free(pdev);
err_msix:
	pci_msix_free(pdev);
	goto err_dev;
err_invalid:
	uvfio_dev_log(pdev->dev, UVFIO_LOG_ERR, "inconsistent PCI device table: %d", ret);
	pci_msix_free(pdev);
err_dev:
	uvfio_device_destroy(pdev->dev);
err_free:
	pci_mig_fini(pdev);
	pthread_mutex_destroy(&pdev->irq_lock);
	pthread_mutex_destroy(&pdev->lock);
	free(pdev);
	errno = -ret;
	return NULL;
}

void uvfio_pci_destroy(struct uvfio_pci_device *pdev)
{
	if (!pdev)
		return;
	if (pdev->dev)
		uvfio_device_destroy(pdev->dev);
	pci_bars_free(pdev);
	pci_msix_free(pdev);
	pci_mig_fini(pdev);
	pthread_mutex_destroy(&pdev->irq_lock);
	pthread_mutex_destroy(&pdev->lock);
	free(pdev);
}

struct uvfio_device *uvfio_pci_to_device(struct uvfio_pci_device *pdev)
{
	return pdev->dev;
}

struct uvfio_pci_device *uvfio_pci_from_device(struct uvfio_device *dev)
{
	return uvfio_device_priv(dev);
}

void *uvfio_pci_priv(struct uvfio_pci_device *pdev)
{
	return pdev->priv;
}

const char *uvfio_pci_name(struct uvfio_pci_device *pdev)
{
	return uvfio_device_name(pdev->dev);
}

bool uvfio_pci_bus_master(struct uvfio_pci_device *pdev)
{
	bool on;

	pthread_mutex_lock(&pdev->lock);
	on = cfg_rd16(pdev, PCI_COMMAND) & PCI_COMMAND_MASTER;
	pthread_mutex_unlock(&pdev->lock);
	return on;
}

const uint8_t *uvfio_pci_config(struct uvfio_pci_device *pdev)
{
	return pdev->cfg;
}

size_t uvfio_pci_config_size(struct uvfio_pci_device *pdev)
{
	return pdev->cfg_size;
}
