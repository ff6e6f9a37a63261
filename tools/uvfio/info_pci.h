/* SPDX-License-Identifier: MIT */
/*
 * `uvfio info` for PCI devices: config space decoded as lspci -vv does
 * (IDs and names from pci.ids, class, command/status, BARs, capabilities),
 * printed as text or as one JSON object.
 */
#ifndef UVFIO_TOOL_INFO_PCI_H
#define UVFIO_TOOL_INFO_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uvfio/device.h>

#define PCI_VIEW_MAX_CAPS 48

struct pci_cap_view {
	uint16_t id, off;
	bool ext; /* PCIe extended capability (config offset >= 0x100) */
	uint8_t version;
	union {
		struct {
			uint8_t version, state; /* D0..D3 */
			bool d1, d2;
		} pm;
		struct {
			unsigned int vectors, enabled_vectors;
			bool enabled, addr64, maskable;
		} msi;
		struct {
			unsigned int table_size;
			bool enabled, function_mask;
			uint8_t table_bir, pba_bir;
			uint32_t table_offset, pba_offset;
		} msix;
		struct {
			uint8_t version, type;
			bool flr;
			unsigned int max_payload, link_speed, link_width;
		} pcie;
	};
};

struct pci_bar_view {
	bool present, io, mem64, prefetch;
	uint64_t addr, size;
};

struct pci_view {
	uint16_t vendor, device, subvendor, subdevice, command, status;
	uint32_t class_code;
	uint8_t revision, header_type, irq_pin, irq_line;
	size_t cfg_len;
	char vendor_name[128], device_name[128], subsys_name[128], class_name[200];
	struct pci_bar_view bars[6];
	uint64_t rom_size;
	unsigned int ncaps;
	struct pci_cap_view caps[PCI_VIEW_MAX_CAPS];
};

/*
 * Decode cfg (len bytes, 64..4096) with the VFIO regions for BAR sizes
 * (regions[0..5], rom = regions[6]; NULL/0 when unknown). Names come from
 * the first pci.ids found: $UVFIO_PCI_IDS, /usr/share/misc/pci.ids,
 * /usr/share/hwdata/pci.ids; empty names when none is installed.
 * Returns 0, or -EINVAL when cfg is too short for a header.
 */
int pci_view_decode(const uint8_t *cfg, size_t len, const struct uvfio_region *regions,
		    uint32_t nregions, struct pci_view *v);
void pci_view_print_text(const struct pci_view *v);
/* `"pci": {...}` without a leading comma. */
void pci_view_print_json(const struct pci_view *v);
const char *pci_cap_name(uint16_t id, bool ext);

#endif
