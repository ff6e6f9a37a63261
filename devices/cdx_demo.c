/* SPDX-License-Identifier: MIT */
/*
 * cdx-demo: a device on the CDX bus driver (include/uvfio/cdx.h) with one
 * resource of each kind vfio-cdx distinguishes, and a DMA engine that
 * shows the BUS_MASTER feature at work.
 *
 *   resource 0  SRAM     16 KiB at 0x...0000, writable, page aligned: mappable
 *   resource 1  ID ROM    4 KiB, read-only, page aligned: mappable read-only
 *   resource 2  mailbox  0x100 bytes at 0x...2000: memory, not mappable
 *   resource 3  DMA      0x40 bytes of registers at 0x...3100: not mappable
 *   MSI         1 vector, raised when a DMA with CTRL.IRQ completes
 *
 * DMA registers (little endian):
 *   0x00 SRC (u64)  IOVA to copy from
 *   0x08 DST (u64)  IOVA to copy to
 *   0x10 LEN (u32)  bytes, at most CDX_DEMO_DMA_MAX
 *   0x14 CTRL (u32) write: bit 0 GO runs the copy now, bit 1 IRQ raises
 *                   the MSI when it is done; reads 0
 *   0x18 STATUS (u32)  0 idle, 1 done, 2 error
 *   0x1c ERROR (u32)   positive errno of the failed copy (EPERM: bus
 *                      mastering is off), else 0
 *   0x20 ID (u32)      CDX_DEMO_ID, read-only
 * The copy runs in the write of CTRL, through uvfio_device_dma_read/write,
 * so it fails with EPERM until the driver sets bus mastering with
 * VFIO_DEVICE_FEATURE_BUS_MASTER. Running it inside the write is fine for
 * a client that serves DMA_READ/WRITE messages while it waits for a reply
 * (uvfio's client does); edu defers its DMA to the serve loop because
 * QEMU does not, but QEMU has no vfio-user CDX device to attach this to.
 * STATUS is final when the CTRL write returns.
 *
 * Device option --no-bus-master builds it without a bus_master op: the
 * feature is then not offered (ENOTTY) and the device masters as built.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <uvfio/cdx.h>
#include <uvfio/log.h>

#include "devices/cdx_demo.h"
#include "devices/samples.h"

struct cdx_demo {
	struct uvfio_cdx_device *cdx;
	pthread_mutex_t lock; /* the DMA registers */
	uint64_t src, dst;
	uint32_t len, status, error;
	bool bus_master;      /* what the "firmware" was told last */
	unsigned int resets;
};

static uint32_t ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void st32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The register file as bytes, so any access size and alignment inside it
 * reads what a 32-bit view would. Lock held. */
static void regs_snapshot(struct cdx_demo *d, uint8_t *r)
{
	memset(r, 0, CDX_DEMO_DMA_REGS_SIZE);
	st32(r + CDX_DEMO_DMA_SRC, (uint32_t)d->src);
	st32(r + CDX_DEMO_DMA_SRC + 4, (uint32_t)(d->src >> 32));
	st32(r + CDX_DEMO_DMA_DST, (uint32_t)d->dst);
	st32(r + CDX_DEMO_DMA_DST + 4, (uint32_t)(d->dst >> 32));
	st32(r + CDX_DEMO_DMA_LEN, d->len);
	st32(r + CDX_DEMO_DMA_STATUS, d->status);
	st32(r + CDX_DEMO_DMA_ERROR, d->error);
	st32(r + CDX_DEMO_DMA_ID, CDX_DEMO_ID);
}

static ssize_t dma_regs_read(struct uvfio_cdx_device *cdx, uint32_t index,
			     uint64_t pos, void *buf, size_t count)
{
	struct cdx_demo *d = uvfio_cdx_priv(cdx);
	uint8_t r[CDX_DEMO_DMA_REGS_SIZE];

	pthread_mutex_lock(&d->lock);
	regs_snapshot(d, r);
	pthread_mutex_unlock(&d->lock);
	memcpy(buf, r + pos, count);
	return (ssize_t)count;
}

/* Copy LEN bytes from SRC to DST as the device: bounded by the engine's
 * maximum, refused by the core while bus mastering is off. Lock held. */
static void dma_run(struct cdx_demo *d, bool irq)
{
	struct uvfio_device *dev = uvfio_cdx_to_device(d->cdx);
	uint8_t *buf = NULL;
	int ret;

	if (!d->len || d->len > CDX_DEMO_DMA_MAX) {
		ret = -EINVAL;
		goto out;
	}
	buf = malloc(d->len);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	ret = uvfio_device_dma_read(dev, d->src, buf, d->len);
	if (!ret)
		ret = uvfio_device_dma_write(dev, d->dst, buf, d->len);
out:
	free(buf);
	d->status = ret ? CDX_DEMO_STATUS_ERROR : CDX_DEMO_STATUS_DONE;
	d->error = (uint32_t)-ret;
	if (ret)
		uvfio_dev_log(dev, UVFIO_LOG_INFO, "dma 0x%llx -> 0x%llx (%u bytes): %d",
			      (unsigned long long)d->src, (unsigned long long)d->dst,
			      d->len, ret);
	if (irq)
		uvfio_cdx_raise_msi(d->cdx, 0);
}

static ssize_t dma_regs_write(struct uvfio_cdx_device *cdx, uint32_t index,
			      uint64_t pos, const void *buf, size_t count)
{
	struct cdx_demo *d = uvfio_cdx_priv(cdx);
	uint8_t r[CDX_DEMO_DMA_REGS_SIZE];
	uint32_t ctrl = 0;
	bool ctrl_written;

	pthread_mutex_lock(&d->lock);
	regs_snapshot(d, r);
	memcpy(r + pos, buf, count);
	/* Only SRC, DST and LEN hold what is written; STATUS, ERROR and ID
	 * are the device's. CTRL acts on the bytes written to it. */
	d->src = (uint64_t)ld32(r + CDX_DEMO_DMA_SRC) |
		 (uint64_t)ld32(r + CDX_DEMO_DMA_SRC + 4) << 32;
	d->dst = (uint64_t)ld32(r + CDX_DEMO_DMA_DST) |
		 (uint64_t)ld32(r + CDX_DEMO_DMA_DST + 4) << 32;
	d->len = ld32(r + CDX_DEMO_DMA_LEN);
	ctrl_written = pos < CDX_DEMO_DMA_CTRL + 4 && pos + count > CDX_DEMO_DMA_CTRL;
	if (ctrl_written)
		ctrl = ld32(r + CDX_DEMO_DMA_CTRL);
	if (ctrl & CDX_DEMO_CTRL_GO)
		dma_run(d, ctrl & CDX_DEMO_CTRL_IRQ);
	pthread_mutex_unlock(&d->lock);
	return (ssize_t)count;
}

/* The ROM's contents: written once through the device's own mapping. */
static void rom_fill(struct cdx_demo *d)
{
	uint8_t *rom = uvfio_cdx_resource_mem(d->cdx, CDX_DEMO_RES_ROM);
	static const char text[] = "uvfio cdx-demo";

	st32(rom + 0, CDX_DEMO_ID);
	st32(rom + 4, (uint32_t)CDX_DEMO_VENDOR | (uint32_t)CDX_DEMO_DEVICE << 16);
	memcpy(rom + 8, text, sizeof(text));
}

static int demo_reset(struct uvfio_cdx_device *cdx)
{
	struct cdx_demo *d = uvfio_cdx_priv(cdx);

	pthread_mutex_lock(&d->lock);
	d->src = d->dst = 0;
	d->len = d->status = d->error = 0;
	d->resets++;
	pthread_mutex_unlock(&d->lock);
	memset(uvfio_cdx_resource_mem(cdx, CDX_DEMO_RES_SRAM), 0, CDX_DEMO_SRAM_SIZE);
	memset(uvfio_cdx_resource_mem(cdx, CDX_DEMO_RES_MAILBOX), 0, CDX_DEMO_MAILBOX_SIZE);
	return 0;
}

static int demo_bus_master(struct uvfio_cdx_device *cdx, bool on)
{
	struct cdx_demo *d = uvfio_cdx_priv(cdx);

	pthread_mutex_lock(&d->lock);
	d->bus_master = on;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static const struct uvfio_cdx_ops demo_ops = {
	.reset = demo_reset,
	.bus_master = demo_bus_master,
};

static const struct uvfio_cdx_ops demo_ops_no_bm = {
	.reset = demo_reset,
};

static void demo_destroy(void *priv)
{
	struct cdx_demo *d = priv;

	if (!d)
		return;
	uvfio_cdx_destroy(d->cdx);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static int demo_create(int argc, char **argv, struct uvfio_sample_dev *out)
{
	struct uvfio_cdx_info info = {
		.vendor = CDX_DEMO_VENDOR,
		.device = CDX_DEMO_DEVICE,
		.num_resources = 4,
		.resources = {
			[CDX_DEMO_RES_SRAM] = { .start = 0x20000000, .size = CDX_DEMO_SRAM_SIZE },
			[CDX_DEMO_RES_ROM] = { .start = 0x20004000, .size = 0x1000,
					       .read_only = true },
			[CDX_DEMO_RES_MAILBOX] = { .start = 0x20005000,
						   .size = CDX_DEMO_MAILBOX_SIZE },
			[CDX_DEMO_RES_DMA] = { .start = 0x20006100,
					       .size = CDX_DEMO_DMA_REGS_SIZE,
					       .read = dma_regs_read,
					       .write = dma_regs_write },
		},
		.num_msi = 1,
		.ops = &demo_ops,
	};
	struct cdx_demo *d;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-bus-master")) {
			info.ops = &demo_ops_no_bm;
		} else {
			uvfio_log(UVFIO_LOG_ERR, "cdx-demo", "unknown option '%s'", argv[i]);
			return -EINVAL;
		}
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	ret = -pthread_mutex_init(&d->lock, NULL);
	if (ret)
		goto err_free;
	ret = uvfio_cdx_create("cdx-demo", &info, d, &d->cdx);
	if (ret)
		goto err_lock;
	rom_fill(d);
	out->dev = uvfio_cdx_to_device(d->cdx);
	out->priv = d;
	return 0;

err_lock:
	pthread_mutex_destroy(&d->lock);
err_free:
	free(d);
	return ret;
}

unsigned int cdx_demo_resets(void *priv)
{
	struct cdx_demo *d = priv;
	unsigned int n;

	pthread_mutex_lock(&d->lock);
	n = d->resets;
	pthread_mutex_unlock(&d->lock);
	return n;
}

bool cdx_demo_bus_master(void *priv)
{
	struct cdx_demo *d = priv;
	bool on;

	pthread_mutex_lock(&d->lock);
	on = d->bus_master;
	pthread_mutex_unlock(&d->lock);
	return on;
}

const struct uvfio_sample uvfio_sample_cdx_demo = {
	.name = "cdx-demo",
	.summary = "a CDX bus device (10ee:cd01): mappable, read-only and register "
		   "resources, a DMA engine gated by BUS_MASTER",
	.options = "  --no-bus-master   no bus-master control: BUS_MASTER is not offered\n",
	.create = demo_create,
	.destroy = demo_destroy,
};
