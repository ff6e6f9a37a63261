/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the PCI config-space write/read path (bus/pci) of edu
 * and of a device with every capability (PM, MSI 32 vectors 64-bit with
 * per-vector masking, MSI-X 64 vectors, PCIe with FLR, a ROM, memory, 64-bit
 * prefetchable mappable and I/O BARs, INTx).
 *
 * Input: byte 0 picks the device; then 8-byte ops:
 *   u8 op   bits 0-1: size 1, 2, 4, 8; bit 2: write; bit 3: region = the
 *           BAR named by bits 4-6 instead of config space; op 0xff: reset;
 *           op 0xfe: raise vector (value)
 *   u8 pad, u16 offset (config) / u16 offset << 0 (BAR), u32 value
 * Checks: accesses never crash; the config header's vendor/device ID read
 * back unchanged (read-only bits stay read-only); a reset restores them.
 */
#include <stdlib.h>
#include <string.h>

#include <uvfio/device.h>
#include <uvfio/log.h>
#include <uvfio/pci.h>

#include "core/vfio_compat.h"
#include "devices/registry.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct uvfio_device *devs[2];
static struct uvfio_pci_device *full;
static uint32_t ids[2];

static const uint8_t rom[100] = { 0x55, 0xaa };

static const struct uvfio_pci_info full_info = {
	.vendor_id = 0x1b36, .device_id = 0x7e57,
	.class_code = 0xff0000, .interrupt_pin = 1,
	.bars = {
		[0] = { .size = 4096 },
		[2] = { .size = 1 << 20, .flags = UVFIO_PCI_BAR_64 | UVFIO_PCI_BAR_PREFETCH |
					     UVFIO_PCI_BAR_MAPPABLE },
		[4] = { .size = 256, .flags = UVFIO_PCI_BAR_IO },
		[5] = { .size = 64 },
	},
	.rom = { .data = rom, .len = sizeof(rom) },
	.pm = true,
	.msi = { .vectors = 32, .addr64 = true, .per_vector_mask = true },
	.msix = { .table_size = 64, .table_bar = 0, .table_offset = 0,
		  .pba_bar = 0, .pba_offset = 2048 },
	.pcie = true,
};

static uint32_t cfg_id(struct uvfio_device *dev)
{
	uint32_t v = 0;

	uvfio_device_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, 0, &v, 4);
	return v;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct uvfio_sample *edu = uvfio_sample_find("edu");
	struct uvfio_sample_dev sd;
	char *av[] = { (char *)"edu", NULL };

	if (!getenv("UVFIO_LOG"))
		uvfio_log_set_level(UVFIO_LOG_ERR);
	if (!edu || edu->create(1, av, &sd) || uvfio_device_open(sd.dev))
		abort();
	devs[0] = sd.dev;
	full = uvfio_pci_create("full", &full_info, NULL);
	if (!full || uvfio_device_open(uvfio_pci_to_device(full)))
		abort();
	devs[1] = uvfio_pci_to_device(full);
	for (int i = 0; i < 2; i++)
		ids[i] = cfg_id(devs[i]);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int which;
	struct uvfio_device *dev;

	if (size < 1)
		return 0;
	which = data[0] & 1;
	dev = devs[which];
	for (size_t off = 1; off + 8 <= size; off += 8) {
		const uint8_t *op = data + off;
		size_t len = (size_t)1 << (op[0] & 3);
		uint64_t pos = (uint64_t)op[2] | ((uint64_t)op[3] << 8);
		uint64_t v = 0;
		uint32_t index = VFIO_PCI_CONFIG_REGION_INDEX;

		memcpy(&v, op + 4, 4);
		if (op[0] == 0xff) {
			uvfio_device_reset(dev);
			continue;
		}
		if (op[0] == 0xfe) {
			if (which)
				uvfio_pci_raise_irq(full, (unsigned int)v & 0x7f);
			continue;
		}
		if (op[0] & 8)
			index = (op[0] >> 4) & 7; /* BAR0..5, ROM (6), config (7) */
		if (op[0] & 4)
			uvfio_device_write(dev, index, pos, &v, len);
		else
			uvfio_device_read(dev, index, pos, &v, len);
	}
	if (cfg_id(dev) != ids[which])
		abort(); /* vendor/device ID are read-only */
	uvfio_device_reset(dev);
	return 0;
}
