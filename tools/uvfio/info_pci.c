/* SPDX-License-Identifier: MIT */
/* PCI config space, decoded as lspci -vv shows it; names from pci.ids. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pci_regs.h>

#include "info_pci.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint8_t rd8(const uint8_t *c, size_t len, size_t off)
{
	return off < len ? c[off] : 0xff;
}
static uint16_t rd16(const uint8_t *c, size_t len, size_t off)
{
	return (uint16_t)(rd8(c, len, off) | rd8(c, len, off + 1) << 8);
}
static uint32_t rd32(const uint8_t *c, size_t len, size_t off)
{
	return (uint32_t)rd16(c, len, off) | (uint32_t)rd16(c, len, off + 2) << 16;
}

/* ---- pci.ids ---------------------------------------------------------------------- */

static FILE *open_ids(void)
{
	static const char *const paths[] = { "/usr/share/misc/pci.ids",
					     "/usr/share/hwdata/pci.ids",
					     "/usr/share/pci.ids" };
	const char *env = getenv("UVFIO_PCI_IDS");
	FILE *f;

	if (env && *env)
		return fopen(env, "re");
	for (size_t i = 0; i < N(paths); i++) {
		f = fopen(paths[i], "re");
		if (f)
			return f;
	}
	return NULL;
}

static void copy_name(char *dst, size_t cap, const char *src)
{
	size_t n = strcspn(src, "\r\n");

	while (*src == ' ')
		src++, n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/*
 * One pass over pci.ids: vendor ("vvvv  name"), device ("\tdddd  name"),
 * subsystem ("\t\tssss dddd  name"), then the class section ("C cc  name",
 * "\tss  name", "\t\tpp  name").
 */
static void lookup_names(struct pci_view *v)
{
	unsigned int base = v->class_code >> 16, sub = (v->class_code >> 8) & 0xff,
		     prog = v->class_code & 0xff;
	char line[512], cls[3][96] = { "", "", "" };
	bool in_vendor = false, in_device = false, in_class = false, in_sub = false;
	FILE *f = open_ids();
	unsigned int a, b;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (line[0] == 'C' && line[1] == ' ') {
			in_vendor = in_device = in_sub = false;
			in_class = sscanf(line + 2, "%2x", &a) == 1 && a == base;
			if (in_class)
				copy_name(cls[0], sizeof(cls[0]), line + 4);
			continue;
		}
		if (line[0] != '\t') {
			in_class = in_device = in_sub = false;
			in_vendor = sscanf(line, "%4x", &a) == 1 && a == v->vendor;
			if (in_vendor)
				copy_name(v->vendor_name, sizeof(v->vendor_name), line + 4);
			continue;
		}
		if (in_class) {
			if (line[1] != '\t') {
				in_sub = sscanf(line + 1, "%2x", &a) == 1 && a == sub;
				if (in_sub)
					copy_name(cls[1], sizeof(cls[1]), line + 3);
			} else if (in_sub && sscanf(line + 2, "%2x", &a) == 1 && a == prog) {
				copy_name(cls[2], sizeof(cls[2]), line + 4);
			}
			continue;
		}
		if (!in_vendor)
			continue;
		if (line[1] != '\t') {
			in_device = sscanf(line + 1, "%4x", &a) == 1 && a == v->device;
			if (in_device)
				copy_name(v->device_name, sizeof(v->device_name), line + 5);
		} else if (in_device && sscanf(line + 2, "%4x %4x", &a, &b) == 2 &&
			   a == v->subvendor && b == v->subdevice) {
			copy_name(v->subsys_name, sizeof(v->subsys_name), line + 12);
		}
	}
	fclose(f);
	if (cls[1][0] && cls[2][0])
		snprintf(v->class_name, sizeof(v->class_name), "%s (%s)", cls[1], cls[2]);
	else if (cls[1][0])
		snprintf(v->class_name, sizeof(v->class_name), "%s", cls[1]);
	else if (cls[0][0])
		snprintf(v->class_name, sizeof(v->class_name), "%s", cls[0]);
}

/* ---- decoding ---------------------------------------------------------------------- */

const char *pci_cap_name(uint16_t id, bool ext)
{
	if (ext) {
		switch (id) {
		case PCI_EXT_CAP_ID_ERR: return "AER";
		case PCI_EXT_CAP_ID_VC: return "VC";
		case PCI_EXT_CAP_ID_DSN: return "DSN";
		case PCI_EXT_CAP_ID_PWR: return "Power Budgeting";
		case PCI_EXT_CAP_ID_VNDR: return "Vendor Specific";
		case PCI_EXT_CAP_ID_ACS: return "ACS";
		case PCI_EXT_CAP_ID_ARI: return "ARI";
		case PCI_EXT_CAP_ID_ATS: return "ATS";
		case PCI_EXT_CAP_ID_SRIOV: return "SR-IOV";
		case PCI_EXT_CAP_ID_PRI: return "PRI";
		case PCI_EXT_CAP_ID_REBAR: return "Resizable BAR";
		case PCI_EXT_CAP_ID_LTR: return "LTR";
		case PCI_EXT_CAP_ID_SECPCI: return "Secondary PCIe";
		case PCI_EXT_CAP_ID_PASID: return "PASID";
		case PCI_EXT_CAP_ID_L1SS: return "L1 PM Substates";
		case PCI_EXT_CAP_ID_PTM: return "PTM";
		case PCI_EXT_CAP_ID_DVSEC: return "DVSEC";
		default: return "?";
		}
	}
	switch (id) {
	case PCI_CAP_ID_PM: return "Power Management";
	case PCI_CAP_ID_AGP: return "AGP";
	case PCI_CAP_ID_VPD: return "VPD";
	case PCI_CAP_ID_SLOTID: return "Slot ID";
	case PCI_CAP_ID_MSI: return "MSI";
	case PCI_CAP_ID_PCIX: return "PCI-X";
	case PCI_CAP_ID_HT: return "HyperTransport";
	case PCI_CAP_ID_VNDR: return "Vendor Specific";
	case PCI_CAP_ID_DBG: return "Debug port";
	case PCI_CAP_ID_SSVID: return "Subsystem ID";
	case PCI_CAP_ID_EXP: return "Express";
	case PCI_CAP_ID_MSIX: return "MSI-X";
	case PCI_CAP_ID_SATA: return "SATA";
	case PCI_CAP_ID_AF: return "Advanced Features";
	case PCI_CAP_ID_EA: return "Enhanced Allocation";
	default: return "?";
	}
}

static void decode_cap(const uint8_t *c, size_t len, struct pci_cap_view *cap)
{
	uint16_t o = cap->off, ctl;
	uint32_t v;

	switch (cap->id) {
	case PCI_CAP_ID_PM:
		v = rd16(c, len, o + PCI_PM_PMC);
		cap->pm.version = v & PCI_PM_CAP_VER_MASK;
		cap->pm.d1 = v & PCI_PM_CAP_D1;
		cap->pm.d2 = v & PCI_PM_CAP_D2;
		cap->pm.state = rd16(c, len, o + PCI_PM_CTRL) & PCI_PM_CTRL_STATE_MASK;
		break;
	case PCI_CAP_ID_MSI:
		ctl = rd16(c, len, o + PCI_MSI_FLAGS);
		cap->msi.enabled = ctl & PCI_MSI_FLAGS_ENABLE;
		cap->msi.vectors = 1u << ((ctl & PCI_MSI_FLAGS_QMASK) >> 1);
		cap->msi.enabled_vectors = 1u << ((ctl & PCI_MSI_FLAGS_QSIZE) >> 4);
		cap->msi.addr64 = ctl & PCI_MSI_FLAGS_64BIT;
		cap->msi.maskable = ctl & PCI_MSI_FLAGS_MASKBIT;
		break;
	case PCI_CAP_ID_MSIX:
		ctl = rd16(c, len, o + PCI_MSIX_FLAGS);
		cap->msix.table_size = (ctl & PCI_MSIX_FLAGS_QSIZE) + 1;
		cap->msix.enabled = ctl & PCI_MSIX_FLAGS_ENABLE;
		cap->msix.function_mask = ctl & PCI_MSIX_FLAGS_MASKALL;
		v = rd32(c, len, o + PCI_MSIX_TABLE);
		cap->msix.table_bir = v & PCI_MSIX_TABLE_BIR;
		cap->msix.table_offset = v & PCI_MSIX_TABLE_OFFSET;
		v = rd32(c, len, o + PCI_MSIX_PBA);
		cap->msix.pba_bir = v & PCI_MSIX_PBA_BIR;
		cap->msix.pba_offset = v & PCI_MSIX_PBA_OFFSET;
		break;
	case PCI_CAP_ID_EXP:
		ctl = rd16(c, len, o + PCI_EXP_FLAGS);
		cap->pcie.version = ctl & PCI_EXP_FLAGS_VERS;
		cap->pcie.type = (ctl & PCI_EXP_FLAGS_TYPE) >> 4;
		v = rd32(c, len, o + PCI_EXP_DEVCAP);
		cap->pcie.flr = v & PCI_EXP_DEVCAP_FLR;
		cap->pcie.max_payload = 128u << (v & PCI_EXP_DEVCAP_PAYLOAD);
		v = rd32(c, len, o + PCI_EXP_LNKCAP);
		cap->pcie.link_speed = v & PCI_EXP_LNKCAP_SLS;
		cap->pcie.link_width = (v & PCI_EXP_LNKCAP_MLW) >> 4;
		break;
	default:
		break;
	}
}

static void walk_caps(const uint8_t *c, size_t len, struct pci_view *v)
{
	uint8_t seen[4096 / 4] = { 0 };
	unsigned int off;

	if (v->status & PCI_STATUS_CAP_LIST) {
		off = rd8(c, len, PCI_CAPABILITY_LIST) & ~3u;
		while (off >= 0x40 && off + 2 <= len && off < 0x100 && !seen[off / 4] &&
		       v->ncaps < PCI_VIEW_MAX_CAPS) {
			struct pci_cap_view *cap = &v->caps[v->ncaps++];

			seen[off / 4] = 1;
			cap->id = rd8(c, len, off);
			cap->off = (uint16_t)off;
			decode_cap(c, len, cap);
			off = rd8(c, len, off + 1) & ~3u;
		}
	}
	if (len <= 0x100)
		return;
	off = 0x100;
	while (off >= 0x100 && off + 4 <= len && !seen[off / 4] && v->ncaps < PCI_VIEW_MAX_CAPS) {
		uint32_t h = rd32(c, len, off);
		struct pci_cap_view *cap;

		if (!h || h == 0xffffffffu)
			break;
		seen[off / 4] = 1;
		cap = &v->caps[v->ncaps++];
		cap->id = (uint16_t)PCI_EXT_CAP_ID(h);
		cap->version = (uint8_t)PCI_EXT_CAP_VER(h);
		cap->off = (uint16_t)off;
		cap->ext = true;
		off = PCI_EXT_CAP_NEXT(h);
	}
}

int pci_view_decode(const uint8_t *c, size_t len, const struct uvfio_region *regions,
		    uint32_t nregions, struct pci_view *v)
{
	memset(v, 0, sizeof(*v));
	if (len < 0x40)
		return -EINVAL;
	v->cfg_len = len;
	v->vendor = rd16(c, len, PCI_VENDOR_ID);
	v->device = rd16(c, len, PCI_DEVICE_ID);
	v->command = rd16(c, len, PCI_COMMAND);
	v->status = rd16(c, len, PCI_STATUS);
	v->revision = rd8(c, len, PCI_REVISION_ID);
	v->class_code = rd32(c, len, PCI_REVISION_ID) >> 8;
	v->header_type = rd8(c, len, PCI_HEADER_TYPE);
	v->irq_line = rd8(c, len, PCI_INTERRUPT_LINE);
	v->irq_pin = rd8(c, len, PCI_INTERRUPT_PIN);
	if ((v->header_type & 0x7f) == PCI_HEADER_TYPE_NORMAL) {
		v->subvendor = rd16(c, len, PCI_SUBSYSTEM_VENDOR_ID);
		v->subdevice = rd16(c, len, PCI_SUBSYSTEM_ID);
		for (int i = 0; i < 6; i++) {
			uint32_t lo = rd32(c, len, PCI_BASE_ADDRESS_0 + 4 * i);
			struct pci_bar_view *b = &v->bars[i];

			b->size = regions && (uint32_t)i < nregions ? regions[i].size : 0;
			b->present = b->size || lo;
			if (!b->present)
				continue;
			b->io = lo & PCI_BASE_ADDRESS_SPACE_IO;
			if (b->io) {
				b->addr = lo & PCI_BASE_ADDRESS_IO_MASK;
				continue;
			}
			b->prefetch = lo & PCI_BASE_ADDRESS_MEM_PREFETCH;
			b->addr = lo & PCI_BASE_ADDRESS_MEM_MASK;
			if ((lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64 &&
			    i < 5) {
				b->mem64 = true;
				b->addr |= (uint64_t)rd32(c, len, PCI_BASE_ADDRESS_0 + 4 * (i + 1)) << 32;
				i++; /* the upper half is not a BAR */
			}
		}
		v->rom_size = regions && nregions > 6 ? regions[6].size : 0;
	}
	walk_caps(c, len, v);
	lookup_names(v);
	return 0;
}

/* ---- printing ---------------------------------------------------------------------- */

struct bit_name {
	uint16_t bit;
	const char *name;
};

static const struct bit_name command_bits[] = {
	{ PCI_COMMAND_IO, "I/O" }, { PCI_COMMAND_MEMORY, "Mem" },
	{ PCI_COMMAND_MASTER, "BusMaster" }, { PCI_COMMAND_SPECIAL, "SpecCycle" },
	{ PCI_COMMAND_INVALIDATE, "MemWINV" }, { PCI_COMMAND_VGA_PALETTE, "VGASnoop" },
	{ PCI_COMMAND_PARITY, "ParErr" }, { PCI_COMMAND_SERR, "SERR" },
	{ PCI_COMMAND_FAST_BACK, "FastB2B" }, { PCI_COMMAND_INTX_DISABLE, "DisINTx" },
};

static const struct bit_name status_bits[] = {
	{ PCI_STATUS_INTERRUPT, "INTx" }, { PCI_STATUS_CAP_LIST, "Cap" },
	{ PCI_STATUS_66MHZ, "66MHz" }, { PCI_STATUS_FAST_BACK, "FastB2B" },
	{ PCI_STATUS_PARITY, "ParErr" }, { PCI_STATUS_SIG_TARGET_ABORT, ">TAbort" },
	{ PCI_STATUS_REC_TARGET_ABORT, "<TAbort" }, { PCI_STATUS_REC_MASTER_ABORT, "<MAbort" },
	{ PCI_STATUS_SIG_SYSTEM_ERROR, ">SERR" }, { PCI_STATUS_DETECTED_PARITY, "DetParErr" },
};

static const char *pcie_type(uint8_t t)
{
	static const char *const names[] = {
		"Endpoint", "Legacy Endpoint", "?", "?", "Root Port", "Upstream Port",
		"Downstream Port", "PCI-PCIe Bridge", "PCIe-PCI Bridge", "Root Complex Endpoint",
		"Root Complex Event Collector",
	};

	return t < N(names) ? names[t] : "?";
}

static const char *link_speed(unsigned int s)
{
	static const char *const names[] = { "?", "2.5GT/s", "5GT/s", "8GT/s", "16GT/s",
					     "32GT/s", "64GT/s" };

	return s < N(names) ? names[s] : "?";
}

static void print_bits_text(uint16_t v, const struct bit_name *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf(" %s%c", names[i].name, v & names[i].bit ? '+' : '-');
}

static void print_bits_json(uint16_t v, const struct bit_name *names, size_t n)
{
	bool first = true;

	printf("[");
	for (size_t i = 0; i < n; i++)
		if (v & names[i].bit) {
			printf("%s\"%s\"", first ? "" : ", ", names[i].name);
			first = false;
		}
	printf("]");
}

static const char *or_unknown(const char *s)
{
	return *s ? s : NULL;
}

void pci_view_print_text(const struct pci_view *v)
{
	const char *vn = or_unknown(v->vendor_name), *dn = or_unknown(v->device_name);

	printf("  pci: %04x:%04x (rev %02x) %s%s%s\n", v->vendor, v->device, v->revision,
	       vn ? vn : "", vn && dn ? " " : "", dn ? dn : (vn ? "" : "(no pci.ids names)"));
	printf("    class %06x%s%s\n", v->class_code, v->class_name[0] ? " " : "",
	       v->class_name);
	printf("    subsystem %04x:%04x%s%s\n", v->subvendor, v->subdevice,
	       v->subsys_name[0] ? " " : "", v->subsys_name);
	printf("    header type %#x, config space %zu bytes\n", v->header_type, v->cfg_len);
	printf("    Control:");
	print_bits_text(v->command, command_bits, N(command_bits));
	printf("\n    Status:");
	print_bits_text(v->status, status_bits, N(status_bits));
	printf("\n");
	if (v->irq_pin)
		printf("    Interrupt: pin %c routed to IRQ %u\n", 'A' + v->irq_pin - 1, v->irq_line);
	for (int i = 0; i < 6; i++) {
		const struct pci_bar_view *b = &v->bars[i];

		if (!b->present)
			continue;
		if (b->io)
			printf("    Region %d: I/O ports at %#llx [size=%llu]\n", i,
			       (unsigned long long)b->addr, (unsigned long long)b->size);
		else
			printf("    Region %d: Memory at %#llx (%s, %sprefetchable) [size=%llu]\n", i,
			       (unsigned long long)b->addr, b->mem64 ? "64-bit" : "32-bit",
			       b->prefetch ? "" : "non-", (unsigned long long)b->size);
	}
	if (v->rom_size)
		printf("    Expansion ROM [size=%llu]\n", (unsigned long long)v->rom_size);
	for (unsigned int i = 0; i < v->ncaps; i++) {
		const struct pci_cap_view *c = &v->caps[i];

		printf("    Capabilities: [%x] %s%s", c->off, pci_cap_name(c->id, c->ext),
		       c->ext ? "" : "");
		if (c->ext) {
			printf(" (ext id %#x, v%u)\n", c->id, c->version);
			continue;
		}
		switch (c->id) {
		case PCI_CAP_ID_PM:
			printf(" version %u: D1%c D2%c, state D%u\n", c->pm.version,
			       c->pm.d1 ? '+' : '-', c->pm.d2 ? '+' : '-', c->pm.state);
			break;
		case PCI_CAP_ID_MSI:
			printf(": Enable%c Count=%u/%u Maskable%c 64bit%c\n",
			       c->msi.enabled ? '+' : '-', c->msi.enabled_vectors, c->msi.vectors,
			       c->msi.maskable ? '+' : '-', c->msi.addr64 ? '+' : '-');
			break;
		case PCI_CAP_ID_MSIX:
			printf(": Enable%c Count=%u Masked%c\n"
			       "      Vector table: BAR=%u offset=%08x\n"
			       "      PBA: BAR=%u offset=%08x\n",
			       c->msix.enabled ? '+' : '-', c->msix.table_size,
			       c->msix.function_mask ? '+' : '-', c->msix.table_bir,
			       c->msix.table_offset, c->msix.pba_bir, c->msix.pba_offset);
			break;
		case PCI_CAP_ID_EXP:
			printf(" (v%u) %s: MaxPayload %u bytes, FLReset%c, link %s x%u\n",
			       c->pcie.version, pcie_type(c->pcie.type), c->pcie.max_payload,
			       c->pcie.flr ? '+' : '-', link_speed(c->pcie.link_speed),
			       c->pcie.link_width);
			break;
		default:
			printf(" (id %#x)\n", c->id);
		}
	}
}

static void json_str(const char *key, const char *s)
{
	printf("\"%s\": ", key);
	if (!s || !*s) {
		printf("null");
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s < 0x20)
			continue;
		putchar(*s);
	}
	putchar('"');
}

#define B(x) ((x) ? "true" : "false")

void pci_view_print_json(const struct pci_view *v)
{
	printf("\"pci\": {\"vendor_id\": %u, \"device_id\": %u, ", v->vendor, v->device);
	json_str("vendor_name", v->vendor_name);
	printf(", ");
	json_str("device_name", v->device_name);
	printf(", \"subsystem_vendor_id\": %u, \"subsystem_id\": %u, ", v->subvendor,
	       v->subdevice);
	json_str("subsystem_name", v->subsys_name);
	printf(", \"revision\": %u, \"class\": %u, ", v->revision, v->class_code);
	json_str("class_name", v->class_name);
	printf(", \"header_type\": %u, \"config_size\": %zu, \"command\": %u, \"command_bits\": ",
	       v->header_type, v->cfg_len, v->command);
	print_bits_json(v->command, command_bits, N(command_bits));
	printf(", \"status\": %u, \"status_bits\": ", v->status);
	print_bits_json(v->status, status_bits, N(status_bits));
	printf(", \"interrupt_pin\": %u, \"interrupt_line\": %u, \"bars\": [", v->irq_pin,
	       v->irq_line);
	for (int i = 0, first = 1; i < 6; i++) {
		const struct pci_bar_view *b = &v->bars[i];

		if (!b->present)
			continue;
		printf("%s{\"index\": %d, \"type\": \"%s\", \"address\": %llu, \"size\": %llu",
		       first ? "" : ", ", i, b->io ? "io" : "memory",
		       (unsigned long long)b->addr, (unsigned long long)b->size);
		if (!b->io)
			printf(", \"64bit\": %s, \"prefetchable\": %s", B(b->mem64), B(b->prefetch));
		printf("}");
		first = 0;
	}
	printf("], \"rom_size\": %llu, \"capabilities\": [", (unsigned long long)v->rom_size);
	for (unsigned int i = 0; i < v->ncaps; i++) {
		const struct pci_cap_view *c = &v->caps[i];

		printf("%s{\"offset\": %u, \"id\": %u, \"extended\": %s, ", i ? ", " : "", c->off,
		       c->id, B(c->ext));
		json_str("name", pci_cap_name(c->id, c->ext));
		if (c->ext) {
			printf(", \"version\": %u}", c->version);
			continue;
		}
		switch (c->id) {
		case PCI_CAP_ID_PM:
			printf(", \"version\": %u, \"d1\": %s, \"d2\": %s, \"state\": \"D%u\"",
			       c->pm.version, B(c->pm.d1), B(c->pm.d2), c->pm.state);
			break;
		case PCI_CAP_ID_MSI:
			printf(", \"enabled\": %s, \"vectors\": %u, \"enabled_vectors\": %u, "
			       "\"64bit\": %s, \"maskable\": %s",
			       B(c->msi.enabled), c->msi.vectors, c->msi.enabled_vectors,
			       B(c->msi.addr64), B(c->msi.maskable));
			break;
		case PCI_CAP_ID_MSIX:
			printf(", \"enabled\": %s, \"function_mask\": %s, \"table_size\": %u, "
			       "\"table_bar\": %u, \"table_offset\": %u, \"pba_bar\": %u, "
			       "\"pba_offset\": %u",
			       B(c->msix.enabled), B(c->msix.function_mask), c->msix.table_size,
			       c->msix.table_bir, c->msix.table_offset, c->msix.pba_bir,
			       c->msix.pba_offset);
			break;
		case PCI_CAP_ID_EXP:
			printf(", \"version\": %u, \"type\": \"%s\", \"flr\": %s, "
			       "\"max_payload\": %u, \"link_speed\": \"%s\", \"link_width\": %u",
			       c->pcie.version, pcie_type(c->pcie.type), B(c->pcie.flr),
			       c->pcie.max_payload, link_speed(c->pcie.link_speed),
			       c->pcie.link_width);
			break;
		default:
			break;
		}
		printf("}");
	}
	printf("]}");
}
