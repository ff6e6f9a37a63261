/* SPDX-License-Identifier: MIT */
/*
 * PCI config space: header write masks, RW1C status, BAR and ROM sizing,
 * the capability chain, PM state, region/IRQ layout, table validation,
 * and BAR access (forwarding, splitting, decode gating, mappable BARs).
 */
#include <stdio.h>
#include <stdlib.h>

#include "pci_test.h"

#define VID 0x1b36
#define DID 0x11e8
#define SVID 0x1af4
#define SSID 0x1100
#define CLASS 0x00ff00
#define REV 0x10

static const uint8_t rom_bytes[] = { 0x55, 0xaa, 0x01, 0x02 };

/* What the last handler call saw. */
static struct {
	int calls, bar;
	uint64_t off;
	size_t size;
	uint8_t data[8];
} seen[8];
static int nseen;

static int h_read(struct uvfio_pci_device *p, int bar, uint64_t off, void *buf,
		  size_t size)
{
	if (nseen < 8)
		seen[nseen++] = (typeof(seen[0])){ 1, bar, off, size, { 0 } };
	for (size_t i = 0; i < size; i++)
		((uint8_t *)buf)[i] = (uint8_t)(off + i);
	return 0;
}

static int h_write(struct uvfio_pci_device *p, int bar, uint64_t off,
		   const void *buf, size_t size)
{
	if (off == 0x40)
		return -EIO;
	if (nseen < 8) {
		seen[nseen] = (typeof(seen[0])){ 1, bar, off, size, { 0 } };
		memcpy(seen[nseen].data, buf, size);
		nseen++;
	}
	return 0;
}

static const struct uvfio_pci_ops ops = { .bar_read = h_read, .bar_write = h_write };

/* BAR0 mem32 4K, BAR1 none, BAR2/3 mem64 prefetchable 1M, BAR4 I/O 32, BAR5 none. */
static struct uvfio_pci_info base_info(void)
{
	struct uvfio_pci_info info = {
		.vendor_id = VID, .device_id = DID,
		.subsystem_vendor_id = SVID, .subsystem_id = SSID,
		.class_code = CLASS, .revision = REV, .interrupt_pin = 1,
		.bars = {
			[0] = { .size = 4096 },
			[2] = { .size = 1 << 20, .flags = UVFIO_PCI_BAR_64 | UVFIO_PCI_BAR_PREFETCH },
			[4] = { .size = 32, .flags = UVFIO_PCI_BAR_IO },
		},
		.rom = { .data = rom_bytes, .len = sizeof(rom_bytes), .size = 4096 },
		.ops = &ops,
	};
	return info;
}

static struct uvfio_pci_info full_info(void)
{
	struct uvfio_pci_info info = base_info();

	info.pm = true;
	info.msi = (struct uvfio_pci_msi_info){ .vectors = 4, .addr64 = true,
						.per_vector_mask = true };
	info.msix = (struct uvfio_pci_msix_info){ .table_size = 8, .table_bar = 0,
						  .table_offset = 0x800, .pba_bar = 0,
						  .pba_offset = 0xc00 };
	info.pcie = true;
	return info;
}

static struct uvfio_pci_device *mk(const struct uvfio_pci_info *info)
{
	struct uvfio_pci_device *p = uvfio_pci_create("pcitest", info, NULL);

	assert_non_null(p);
	return p;
}

/* ---- header registers ----------------------------------------------------- */

struct reg_case {
	uint32_t off, size, write, expect;
};

static void test_header_masks(void **state)
{
	struct uvfio_pci_info info = base_info();
	struct uvfio_pci_device *p = mk(&info);
	static const struct reg_case cases[] = {
		{ PCI_VENDOR_ID, 2, 0xffff, VID },
		{ PCI_DEVICE_ID, 2, 0x0000, DID },
		{ PCI_COMMAND, 2, 0xffff, 0x0547 }, /* IO MEM MASTER PARITY SERR INTX_DIS */
		{ PCI_COMMAND, 2, 0x0000, 0x0000 },
		{ PCI_STATUS, 2, 0xffff, 0x0000 },  /* nothing set, RW1C clears nothing */
		{ PCI_REVISION_ID, 1, 0xff, REV },
		{ PCI_CLASS_PROG, 2, 0xffff, 0xff00 },
		{ PCI_CLASS_REVISION, 4, 0xffffffff, CLASS << 8 | REV },
		{ PCI_CACHE_LINE_SIZE, 1, 0x10, 0x10 },
		{ PCI_LATENCY_TIMER, 1, 0xff, 0xff },
		{ PCI_HEADER_TYPE, 1, 0xff, 0x00 },
		{ PCI_BIST, 1, 0xff, 0x00 },
		{ PCI_CARDBUS_CIS, 4, 0xffffffff, 0 },
		{ PCI_SUBSYSTEM_VENDOR_ID, 2, 0xffff, SVID },
		{ PCI_SUBSYSTEM_ID, 2, 0, SSID },
		{ PCI_CAPABILITY_LIST, 1, 0xff, 0x00 }, /* no caps in this table */
		{ PCI_INTERRUPT_LINE, 1, 0x0b, 0x0b },
		{ PCI_INTERRUPT_PIN, 1, 0x04, 0x01 },
		{ PCI_MIN_GNT, 2, 0xffff, 0 },
		{ 0x3c, 4, 0xffffffff, 0x000001ff }, /* line writable, pin not */
		{ 0x40, 4, 0xffffffff, 0 },	    /* no caps: plain read-only zeros */
		{ 0xfc, 4, 0xffffffff, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct reg_case *c = &cases[i];

		assert_int_equal(uvfio_device_reset(uvfio_pci_to_device(p)), 0);
		cfg_write(p, c->off, c->size, c->write);
		if (cfg_read(p, c->off, c->size) != c->expect)
			fail_msg("case %zu: off 0x%x size %u wrote 0x%x read 0x%x want 0x%x",
				 i, c->off, c->size, c->write, cfg_read(p, c->off, c->size),
				 c->expect);
	}
	uvfio_pci_destroy(p);
}

static void test_status_rw1c(void **state)
{
	struct uvfio_pci_info info = base_info();
	struct uvfio_pci_device *p = mk(&info);

	pthread_mutex_lock(&p->lock);
	pci_set_status_locked(p, 0xf900);
	pthread_mutex_unlock(&p->lock);
	assert_int_equal(cfg_read(p, PCI_STATUS, 2), 0xf900);
	cfg_write(p, PCI_STATUS, 2, 0); /* 0 clears nothing */
	assert_int_equal(cfg_read(p, PCI_STATUS, 2), 0xf900);
	cfg_write(p, PCI_STATUS, 2, PCI_STATUS_PARITY | PCI_STATUS_DETECTED_PARITY);
	assert_int_equal(cfg_read(p, PCI_STATUS, 2), 0x7800);
	/* A dword write to COMMAND also reaches STATUS's high half. */
	cfg_write(p, PCI_COMMAND, 4, 0x10000000u | PCI_COMMAND_MEMORY);
	assert_int_equal(cfg_read(p, PCI_STATUS, 2), 0x6800);
	assert_int_equal(cfg_read(p, PCI_COMMAND, 2), PCI_COMMAND_MEMORY);
	/* INTERRUPT and CAP_LIST are not RW1C. */
	uvfio_pci_raise_irq(p, 0);
	cfg_write(p, PCI_STATUS, 2, 0xffff);
	assert_int_equal(cfg_read(p, PCI_STATUS, 2), PCI_STATUS_INTERRUPT);
	uvfio_pci_destroy(p);
}

/* ---- BARs ----------------------------------------------------------------- */

static void test_bar_sizing(void **state)
{
	struct uvfio_pci_info info = base_info();
	struct uvfio_pci_device *p = mk(&info);
	static const struct reg_case cases[] = {
		{ PCI_BASE_ADDRESS_0, 4, 0xffffffff, 0xfffff000 },
		{ PCI_BASE_ADDRESS_0, 4, 0xfebf1234, 0xfebf1000 },
		{ PCI_BASE_ADDRESS_1, 4, 0xffffffff, 0 },	   /* unimplemented */
		{ PCI_BASE_ADDRESS_2, 4, 0xffffffff, 0xfff0000c }, /* 64-bit prefetch */
		{ PCI_BASE_ADDRESS_3, 4, 0xffffffff, 0xffffffff }, /* upper dword */
		{ PCI_BASE_ADDRESS_3, 4, 0x00000012, 0x00000012 },
		{ PCI_BASE_ADDRESS_4, 4, 0xffffffff, 0xffffffe1 }, /* I/O: bit 0 */
		{ PCI_BASE_ADDRESS_4, 4, 0x0000c05e, 0x0000c041 },
		{ PCI_BASE_ADDRESS_5, 4, 0xffffffff, 0 },
		{ PCI_ROM_ADDRESS, 4, 0xffffffff, 0xfffff001 },
		{ PCI_ROM_ADDRESS, 4, 0xfeb00000, 0xfeb00000 },
		{ PCI_BASE_ADDRESS_0 + 2, 2, 0xffff, 0xffff }, /* 16-bit half of BAR0 */
		{ PCI_BASE_ADDRESS_0, 1, 0xff, 0x00 },	       /* type/low bits */
	};

	/* Power-on: type bits only. */
	assert_int_equal(cfg_read(p, PCI_BASE_ADDRESS_0, 4), 0);
	assert_int_equal(cfg_read(p, PCI_BASE_ADDRESS_2, 4), 0xc);
	assert_int_equal(cfg_read(p, PCI_BASE_ADDRESS_4, 4), 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct reg_case *c = &cases[i];

		cfg_write(p, c->off, c->size, c->write);
		if (cfg_read(p, c->off, c->size) != c->expect)
			fail_msg("case %zu: off 0x%x wrote 0x%x read 0x%x want 0x%x", i,
				 c->off, c->write, cfg_read(p, c->off, c->size), c->expect);
	}
	uvfio_pci_destroy(p);
}

static void test_bar_sizing_large(void **state)
{
	struct uvfio_pci_info info = { .vendor_id = VID, .device_id = DID };
	struct uvfio_pci_device *p;

	/* An 8 GiB 64-bit BAR: the low dword has no size bits at all. */
	info.bars[0] = (struct uvfio_pci_bar_info){ .size = 8ull << 30,
						    .flags = UVFIO_PCI_BAR_64 };
	info.bars[5] = (struct uvfio_pci_bar_info){ .size = 16 }; /* smallest memory BAR */
	p = mk(&info);
	cfg_write(p, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	cfg_write(p, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	assert_int_equal(cfg_read(p, PCI_BASE_ADDRESS_0, 4), 0x4);
	assert_int_equal(cfg_read(p, PCI_BASE_ADDRESS_1, 4), 0xfffffffe);
	cfg_write(p, PCI_BASE_ADDRESS_5, 4, 0xffffffff);
	assert_int_equal(cfg_read(p, PCI_BASE_ADDRESS_5, 4), 0xfffffff0);
	/* No ROM: the ROM BAR reads 0 and sizes to 0. */
	cfg_write(p, PCI_ROM_ADDRESS, 4, 0xffffffff);
	assert_int_equal(cfg_read(p, PCI_ROM_ADDRESS, 4), 0);
	uvfio_pci_destroy(p);
}

static void test_access_split_and_range(void **state)
{
	struct uvfio_pci_info info = base_info();
	struct uvfio_pci_device *p = mk(&info);
	uint8_t buf[8];

	/* An 8-byte read spans two dwords: IDs, COMMAND, STATUS. */
	assert_int_equal(uvfio_device_read(uvfio_pci_to_device(p), CFG, 0, buf, 8), 8);
	assert_int_equal(buf[0] | buf[1] << 8, VID);
	assert_int_equal(buf[2] | buf[3] << 8, DID);
	/* An unaligned 3-byte write at 0x3b..0x3d: line writable, pin not. */
	buf[0] = 0xaa; buf[1] = 0x05; buf[2] = 0x03;
	assert_int_equal(uvfio_device_write(uvfio_pci_to_device(p), CFG, 0x3b, buf, 3), 3);
	assert_int_equal(cfg_read(p, 0x3c, 2), 0x0105);
	/* Out of range, directly and through the core. */
	assert_int_equal(pci_config_rw(p, 256, buf, 1, false), -EINVAL);
	assert_int_equal(pci_config_rw(p, 252, buf, 8, true), -EINVAL);
	assert_int_equal(pci_config_rw(p, UINT64_MAX, buf, 2, false), -EINVAL);
	assert_true(uvfio_device_read(uvfio_pci_to_device(p), CFG, 255, buf, 2) < 0);
	uvfio_pci_destroy(p);
}

/* ---- capabilities ---------------------------------------------------------- */

static void test_cap_chain(void **state)
{
	struct uvfio_pci_info info = full_info();
	struct uvfio_pci_device *p = mk(&info);
	const struct uvfio_region *cfgr = uvfio_device_region(uvfio_pci_to_device(p), CFG);
	static const uint8_t want[] = { PCI_CAP_ID_PM, PCI_CAP_ID_MSI, PCI_CAP_ID_MSIX,
					PCI_CAP_ID_EXP };
	uint32_t pos, prev = 0;

	assert_true(cfg_read(p, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	pos = cfg_read(p, PCI_CAPABILITY_LIST, 1);
	assert_int_equal(pos, 0x40);
	for (size_t i = 0; i < sizeof(want); i++) {
		assert_int_equal(cfg_read(p, pos, 1), want[i]);
		assert_true(pos > prev && !(pos & 3));
		/* id and next are read-only */
		cfg_write(p, pos, 2, 0);
		assert_int_equal(cfg_read(p, pos, 1), want[i]);
		prev = pos;
		pos = cfg_read(p, pos + 1, 1);
	}
	assert_int_equal(pos, 0);
	/* MSI 64-bit + masking: 0x18 bytes after PM's 8. */
	assert_int_equal(find_cap(p, PCI_CAP_ID_MSI), 0x48);
	assert_int_equal(find_cap(p, PCI_CAP_ID_MSIX), 0x60);
	assert_int_equal(find_cap(p, PCI_CAP_ID_EXP), 0x6c);
	/* The PCIe cap makes config space 4 KiB; the extended header is empty. */
	assert_int_equal(cfgr->size, 4096);
	assert_int_equal(cfg_read(p, 0x100, 4), 0);
	cfg_write(p, 0xffc, 4, 0xffffffff);
	assert_int_equal(cfg_read(p, 0xffc, 4), 0);
	uvfio_pci_destroy(p);

	/* Without caps: no CAP_LIST, pointer 0, 256 bytes. */
	info = base_info();
	p = mk(&info);
	assert_false(cfg_read(p, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	assert_int_equal(cfg_read(p, PCI_CAPABILITY_LIST, 1), 0);
	assert_int_equal(uvfio_device_region(uvfio_pci_to_device(p), CFG)->size, 256);
	uvfio_pci_destroy(p);

	/* Only MSI, 32-bit without masking: 10 bytes at 0x40. */
	info = base_info();
	info.msi.vectors = 1;
	p = mk(&info);
	assert_int_equal(find_cap(p, PCI_CAP_ID_MSI), 0x40);
	assert_int_equal(cfg_read(p, 0x41, 1), 0);
	assert_int_equal(cfg_read(p, 0x42, 2), 0); /* MMC 0, 32-bit, no mask */
	uvfio_pci_destroy(p);
}

static void test_cap_registers(void **state)
{
	struct uvfio_pci_info info = full_info();
	struct uvfio_pci_device *p = mk(&info);
	uint32_t msi = find_cap(p, PCI_CAP_ID_MSI), msix = find_cap(p, PCI_CAP_ID_MSIX);
	uint32_t exp = find_cap(p, PCI_CAP_ID_EXP);
	static const struct {
		uint32_t rel, size, write, expect;
		uint8_t cap;
	} cases[] = {
		/* MSI: MMC 2 (4 vectors), 64-bit, maskable; MME clamped to MMC */
		{ PCI_MSI_FLAGS, 2, 0x0000, 0x0184, PCI_CAP_ID_MSI },
		{ PCI_MSI_FLAGS, 2, 0xffff, 0x01a5, PCI_CAP_ID_MSI },
		{ PCI_MSI_FLAGS, 2, 0x0010, 0x0194, PCI_CAP_ID_MSI },
		{ PCI_MSI_ADDRESS_LO, 4, 0xfee0100f, 0xfee0100c, PCI_CAP_ID_MSI },
		{ PCI_MSI_ADDRESS_HI, 4, 0x12345678, 0x12345678, PCI_CAP_ID_MSI },
		{ PCI_MSI_DATA_64, 4, 0xffff4021, 0x00004021, PCI_CAP_ID_MSI },
		{ PCI_MSI_MASK_64, 4, 0xffffffff, 0x0000000f, PCI_CAP_ID_MSI },
		{ PCI_MSI_PENDING_64, 4, 0xffffffff, 0, PCI_CAP_ID_MSI },
		/* MSI-X: size 7, enable + mask-all writable, table/PBA read-only */
		{ PCI_MSIX_FLAGS, 2, 0x3fff, 0x0007, PCI_CAP_ID_MSIX },
		{ PCI_MSIX_FLAGS, 2, 0xffff, 0xc007, PCI_CAP_ID_MSIX },
		{ PCI_MSIX_TABLE, 4, 0xffffffff, 0x800, PCI_CAP_ID_MSIX },
		{ PCI_MSIX_PBA, 4, 0, 0xc00, PCI_CAP_ID_MSIX },
		/* PCIe: v2 endpoint, FLR capable, DEVCTL writable but FLR reads 0 */
		{ PCI_EXP_FLAGS, 2, 0xffff, 0x0002, PCI_CAP_ID_EXP },
		{ PCI_EXP_DEVCAP, 4, 0, PCI_EXP_DEVCAP_FLR | PCI_EXP_DEVCAP_RBER, PCI_CAP_ID_EXP },
		{ PCI_EXP_DEVCTL, 2, 0x7fff, 0x78ff, PCI_CAP_ID_EXP },
		{ PCI_EXP_DEVCTL, 2, 0x0000, 0x0000, PCI_CAP_ID_EXP },
		{ PCI_EXP_LNKCAP, 4, 0, 0x11, PCI_CAP_ID_EXP },
		{ PCI_EXP_LNKSTA, 2, 0xffff, 0x1011, PCI_CAP_ID_EXP },
		{ PCI_EXP_LNKCTL, 2, 0xffff, 0x00c8, PCI_CAP_ID_EXP },
		{ PCI_EXP_LNKCAP2, 4, 0, 0x2, PCI_CAP_ID_EXP },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t base = cases[i].cap == PCI_CAP_ID_MSI ? msi :
				cases[i].cap == PCI_CAP_ID_MSIX ? msix : exp;
		uint32_t got;

		cfg_write(p, base + cases[i].rel, cases[i].size, cases[i].write);
		got = cfg_read(p, base + cases[i].rel, cases[i].size);
		if (got != cases[i].expect)
			fail_msg("case %zu: cap 0x%x +0x%x wrote 0x%x read 0x%x want 0x%x", i,
				 cases[i].cap, cases[i].rel, cases[i].write, got,
				 cases[i].expect);
	}
	/* DEVSTA error bits are RW1C. */
	p->cfg[exp + PCI_EXP_DEVSTA] = 0x0f;
	cfg_write(p, exp + PCI_EXP_DEVSTA, 2, PCI_EXP_DEVSTA_CED | PCI_EXP_DEVSTA_URD);
	assert_int_equal(cfg_read(p, exp + PCI_EXP_DEVSTA, 2), 0x06);
	uvfio_pci_destroy(p);
}

static void test_pm_state(void **state)
{
	struct uvfio_pci_info info = full_info();
	struct uvfio_pci_device *p = mk(&info);
	uint32_t pm = find_cap(p, PCI_CAP_ID_PM);

	assert_int_equal(cfg_read(p, pm + PCI_PM_PMC, 2), 3);
	assert_int_equal(cfg_read(p, pm + PCI_PM_CTRL, 2), PCI_PM_CTRL_NO_SOFT_RESET);
	cfg_write(p, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(bar_read(p, 0, 0x10, 4), 0x13121110);
	/* D3hot: kept, and BARs stop decoding. */
	cfg_write(p, pm + PCI_PM_CTRL, 2, 0xffff);
	assert_int_equal(cfg_read(p, pm + PCI_PM_CTRL, 2), 3 | PCI_PM_CTRL_NO_SOFT_RESET);
	assert_int_equal(bar_read(p, 0, 0x10, 4), 0xffffffff);
	/* D1/D2 are not supported: writes ignored. */
	cfg_write(p, pm + PCI_PM_CTRL, 1, 1);
	assert_int_equal(cfg_read(p, pm + PCI_PM_CTRL, 1) & 3, 3);
	cfg_write(p, pm + PCI_PM_CTRL, 1, 2);
	assert_int_equal(cfg_read(p, pm + PCI_PM_CTRL, 1) & 3, 3);
	cfg_write(p, pm + PCI_PM_CTRL, 1, 0);
	assert_int_equal(cfg_read(p, pm + PCI_PM_CTRL, 1) & 3, 0);
	assert_int_equal(bar_read(p, 0, 0x10, 4), 0x13121110);
	/* Reset brings D0 back. */
	cfg_write(p, pm + PCI_PM_CTRL, 1, 3);
	assert_int_equal(uvfio_device_reset(uvfio_pci_to_device(p)), 0);
	assert_int_equal(cfg_read(p, pm + PCI_PM_CTRL, 1) & 3, 0);
	uvfio_pci_destroy(p);
}

/* ---- device layout ------------------------------------------------------------ */

static void test_layout(void **state)
{
	struct uvfio_pci_info info = full_info();
	struct uvfio_pci_device *p = mk(&info);
	struct uvfio_device *dev = uvfio_pci_to_device(p);
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	static const struct {
		uint32_t count, flags;
	} irqs[] = {
		{ 1, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED },
		{ 4, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE },
		{ 8, VFIO_IRQ_INFO_EVENTFD }, /* MSI-X grows while enabled */
		{ 1, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE },
		{ 1, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE },
	};
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	static const uint64_t sizes[] = { 4096, 0, 1 << 20, 0, 32, 0, 4096, 4096, 0 };

	assert_ptr_equal(uvfio_pci_from_device(dev), p);
	assert_int_equal(uvfio_device_get_info(dev, &di), 0);
	assert_int_equal(di.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
	assert_int_equal(di.num_regions, 9);
	assert_int_equal(di.num_irqs, 5);
	for (uint32_t i = 0; i < 5; i++) {
		ii.index = i;
		assert_int_equal(uvfio_device_irq_info(dev, &ii), 0);
		assert_int_equal(ii.count, irqs[i].count);
		assert_int_equal(ii.flags, irqs[i].flags);
	}
	for (uint32_t i = 0; i < 9; i++) {
		const struct uvfio_region *r = uvfio_device_region(dev, i);

		assert_non_null(r);
		assert_int_equal(r->size, sizes[i]);
		if (i == VFIO_PCI_ROM_REGION_INDEX)
			assert_int_equal(r->flags, VFIO_REGION_INFO_FLAG_READ);
		else
			assert_int_equal(r->flags, sizes[i] ? rw : 0);
	}
	uvfio_pci_destroy(p);

	/* No pin, no PCIe: INTx and ERR have count 0. */
	info = base_info();
	info.interrupt_pin = 0;
	p = mk(&info);
	dev = uvfio_pci_to_device(p);
	ii.index = VFIO_PCI_INTX_IRQ_INDEX;
	assert_int_equal(uvfio_device_irq_info(dev, &ii), 0);
	assert_int_equal(ii.count, 0);
	ii.index = VFIO_PCI_ERR_IRQ_INDEX;
	assert_int_equal(uvfio_device_irq_info(dev, &ii), 0);
	assert_int_equal(ii.count, 0);
	assert_int_equal(cfg_read(p, PCI_INTERRUPT_PIN, 1), 0);
	uvfio_pci_destroy(p);
}

static void test_rom(void **state)
{
	struct uvfio_pci_info info = base_info();
	struct uvfio_pci_device *p;
	uint8_t buf[8];

	info.rom.size = 0; /* derived: 4 bytes round up to the 2 KiB minimum */
	p = mk(&info);
	assert_int_equal(uvfio_device_region(uvfio_pci_to_device(p),
					     VFIO_PCI_ROM_REGION_INDEX)->size, 2048);
	cfg_write(p, PCI_ROM_ADDRESS, 4, 0xffffffff);
	assert_int_equal(cfg_read(p, PCI_ROM_ADDRESS, 4), 0xfffff801);
	assert_int_equal(uvfio_device_read(uvfio_pci_to_device(p), VFIO_PCI_ROM_REGION_INDEX,
					   0, buf, 8), 8);
	assert_memory_equal(buf, rom_bytes, sizeof(rom_bytes));
	assert_int_equal(buf[4], 0xff);
	assert_true(uvfio_device_write(uvfio_pci_to_device(p), VFIO_PCI_ROM_REGION_INDEX,
				       0, buf, 1) < 0);
	uvfio_pci_destroy(p);
}

static void test_invalid_tables(void **state)
{
	struct uvfio_pci_info info;
	int n = 0;

#define BAD(...)                                                         \
	do {                                                             \
		info = full_info();                                      \
		__VA_ARGS__;                                                  \
		errno = 0;                                               \
		if (uvfio_pci_create("bad", &info, NULL) || errno != EINVAL) \
			fail_msg("bad table %d accepted (errno %d)", n, errno); \
		n++;                                                     \
	} while (0)

	BAD(info.bars[0].size = 3000);
	BAD(info.bars[0].size = 8);
	BAD(info.bars[4].size = 512);
	BAD(info.bars[4].flags |= UVFIO_PCI_BAR_PREFETCH);
	BAD(info.bars[3].size = 16);		     /* under a 64-bit BAR */
	BAD(info.bars[5] = (struct uvfio_pci_bar_info){ .size = 16, .flags = UVFIO_PCI_BAR_64 });
	BAD(info.bars[0].size = 4ull << 30);	     /* 32-bit BAR over 2 GiB */
	BAD(info.bars[1].flags = UVFIO_PCI_BAR_IO);  /* flags without size */
	BAD(info.bars[0].flags = 1u << 7);
	BAD(info.msi.vectors = 3);
	BAD(info.msi.vectors = 64);
	BAD(info.msix.table_size = 2049);
	BAD(info.msix.table_offset = 0xfc0);	     /* table runs past BAR0 */
	BAD(info.msix.pba_offset = 0x840);	     /* PBA inside the table */
	BAD(info.msix.table_offset = 0x804);
	BAD(info.msix.pba_bar = 1);		     /* unimplemented BAR */
	BAD(info.msix.table_bar = 4);		     /* I/O BAR */
	BAD(info.bars[0].flags = UVFIO_PCI_BAR_MAPPABLE); /* table in a mapped BAR */
	BAD(info.interrupt_pin = 5);
	BAD(info.class_code = 0x1000000);
	BAD(info.rom.size = 3000);
	BAD(info.rom.size = 1024);
	BAD(info.rom = (struct uvfio_pci_rom_info){ .size = 2048, .len = 4096, .data = rom_bytes });
#undef BAD
	errno = 0;
	assert_null(uvfio_pci_create(NULL, &info, NULL));
	assert_int_equal(errno, EINVAL);
}

/* ---- BAR access -------------------------------------------------------------- */

static void test_bar_forwarding(void **state)
{
	struct uvfio_pci_info info = base_info();
	struct uvfio_pci_device *p = mk(&info);
	struct uvfio_device *dev = uvfio_pci_to_device(p);
	uint8_t buf[16];

	/* Decode off: all-ones, writes dropped, handler untouched. */
	nseen = 0;
	assert_int_equal(bar_read(p, 0, 0, 4), 0xffffffff);
	bar_write(p, 0, 0, 4, 0x1234);
	assert_int_equal(nseen, 0);

	cfg_write(p, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(bar_read(p, 0, 8, 8), 0x0f0e0d0c0b0a0908ull);
	assert_int_equal(nseen, 1);
	assert_int_equal(seen[0].size, 8);

	/* A 7-byte write at 1 splits into naturally aligned 1, 2, 4. */
	nseen = 0;
	memcpy(buf, "ABCDEFG", 7);
	assert_int_equal(uvfio_device_write(dev, 0, 1, buf, 7), 7);
	assert_int_equal(nseen, 3);
	assert_int_equal(seen[0].off, 1);
	assert_int_equal(seen[0].size, 1);
	assert_int_equal(seen[1].off, 2);
	assert_int_equal(seen[1].size, 2);
	assert_memory_equal(seen[1].data, "BC", 2);
	assert_int_equal(seen[2].off, 4);
	assert_int_equal(seen[2].size, 4);
	assert_memory_equal(seen[2].data, "DEFG", 4);
	/* Handler errors reach the client. */
	assert_int_equal(uvfio_device_write(dev, 0, 0x40, buf, 4), -EIO);

	/* The I/O BAR decodes on COMMAND.IO, not MEMORY. */
	assert_int_equal(bar_read(p, 4, 0, 2), 0xffff);
	cfg_write(p, PCI_COMMAND, 2, PCI_COMMAND_IO);
	assert_int_equal(bar_read(p, 4, 2, 2), 0x0302);
	assert_int_equal(bar_read(p, 0, 0, 4), 0xffffffff);
	/* Out of the BAR: the core refuses. */
	assert_true(uvfio_device_read(dev, 4, 30, buf, 4) < 0);
	uvfio_pci_destroy(p);
}

/* First open enables decoding of the implemented BARs, as pci_enable_device(). */
static void test_open_enables_decode(void **state)
{
	struct uvfio_pci_info info = base_info();
	struct uvfio_pci_device *p = mk(&info);
	struct uvfio_device *dev = uvfio_pci_to_device(p);

	assert_int_equal(cfg_read(p, PCI_COMMAND, 2), 0);
	assert_int_equal(uvfio_device_open(dev), 0);
	assert_int_equal(cfg_read(p, PCI_COMMAND, 2) &
			 (PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER),
			 PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	assert_int_equal(bar_read(p, 0, 8, 8), 0x0f0e0d0c0b0a0908ull);
	assert_false(uvfio_device_bus_master(dev));
	/* The last close resets the function: decoding off again. */
	uvfio_device_close(dev);
	assert_int_equal(cfg_read(p, PCI_COMMAND, 2), 0);
	uvfio_pci_destroy(p);
}

static void test_mappable_bar(void **state)
{
	struct uvfio_pci_info info = base_info();
	struct uvfio_pci_device *p;
	const struct uvfio_region *r;
	uint8_t *mem;
	uint32_t v = 0xdeadbeef;

	info.bars[0].flags = UVFIO_PCI_BAR_MAPPABLE;
	p = mk(&info);
	r = uvfio_device_region(uvfio_pci_to_device(p), 0);
	assert_int_equal(r->flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
					   VFIO_REGION_INFO_FLAG_MMAP);
	assert_true(r->mmap_fd >= 0);
	assert_int_equal(r->nr_areas, 1);
	assert_int_equal(r->areas[0].size, 4096);
	assert_int_equal(lseek(r->mmap_fd, 0, SEEK_END), 4096);
	mem = uvfio_pci_bar_mem(p, 0);
	assert_non_null(mem);
	assert_null(uvfio_pci_bar_mem(p, 2));
	/* Region writes land in the device's memory, and the fd shows them. */
	bar_write(p, 0, 0x100, 4, v);
	assert_memory_equal(mem + 0x100, &v, 4);
	mem[0x200] = 0x5a;
	assert_int_equal(bar_read(p, 0, 0x200, 1), 0x5a);
	v = 0;
	assert_int_equal(pread(r->mmap_fd, &v, 4, 0x100), 4);
	assert_int_equal(v, 0xdeadbeef);
	uvfio_pci_destroy(p);
}

static void quiet(enum uvfio_log_level level, const char *who, const char *msg,
		  void *opaque)
{
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_masks),
		cmocka_unit_test(test_status_rw1c),
		cmocka_unit_test(test_bar_sizing),
		cmocka_unit_test(test_bar_sizing_large),
		cmocka_unit_test(test_access_split_and_range),
		cmocka_unit_test(test_cap_chain),
		cmocka_unit_test(test_cap_registers),
		cmocka_unit_test(test_pm_state),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_rom),
		cmocka_unit_test(test_invalid_tables),
		cmocka_unit_test(test_bar_forwarding),
		cmocka_unit_test(test_open_enables_decode),
		cmocka_unit_test(test_mappable_bar),
	};

	/* The invalid tables log errors on purpose. */
	uvfio_log_set_sink(quiet, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
