/* SPDX-License-Identifier: MIT */
/*
 * `uvfio info LOCATION [--json]`: a device's flags, regions, IRQs and the
 * VFIO_DEVICE_FEATUREs it supports (by PROBE); for PCI devices also config
 * space decoded as lspci -vv shows it (info_pci.c).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uvfio/client.h>

#include "commands.h"
#include "core/vfio_compat.h"
#include "info_pci.h"

struct flag_name {
	uint32_t bit;
	const char *name;
};

static const struct flag_name device_flags[] = {
	{ VFIO_DEVICE_FLAGS_RESET, "RESET" },	{ VFIO_DEVICE_FLAGS_PCI, "PCI" },
	{ VFIO_DEVICE_FLAGS_PLATFORM, "PLATFORM" }, { VFIO_DEVICE_FLAGS_AMBA, "AMBA" },
	{ VFIO_DEVICE_FLAGS_CCW, "CCW" },	{ VFIO_DEVICE_FLAGS_AP, "AP" },
	{ VFIO_DEVICE_FLAGS_FSL_MC, "FSL_MC" },	{ VFIO_DEVICE_FLAGS_CAPS, "CAPS" },
	{ VFIO_DEVICE_FLAGS_CDX, "CDX" },
};

static const struct flag_name region_flags[] = {
	{ VFIO_REGION_INFO_FLAG_READ, "READ" },
	{ VFIO_REGION_INFO_FLAG_WRITE, "WRITE" },
	{ VFIO_REGION_INFO_FLAG_MMAP, "MMAP" },
	{ VFIO_REGION_INFO_FLAG_CAPS, "CAPS" },
};

static const struct flag_name irq_flags[] = {
	{ VFIO_IRQ_INFO_EVENTFD, "EVENTFD" },
	{ VFIO_IRQ_INFO_MASKABLE, "MASKABLE" },
	{ VFIO_IRQ_INFO_AUTOMASKED, "AUTOMASKED" },
	{ VFIO_IRQ_INFO_NORESIZE, "NORESIZE" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void print_flags(uint32_t flags, const struct flag_name *names, size_t n)
{
	printf("%#x", flags);
	for (size_t i = 0; i < n; i++)
		if (flags & names[i].bit) {
			printf(" %s", names[i].name);
			flags &= ~names[i].bit;
		}
	if (flags)
		printf(" +%#x", flags);
}

/* The PCI layout of the kernel's vfio-pci: names for the fixed indexes. */
static const char *pci_region_name(uint32_t i)
{
	static const char *const names[] = { "BAR0", "BAR1", "BAR2", "BAR3", "BAR4",
					     "BAR5", "ROM",  "CONFIG", "VGA" };

	return i < N(names) ? names[i] : NULL;
}

static const char *pci_irq_name(uint32_t i)
{
	static const char *const names[] = { "INTX", "MSI", "MSIX", "ERR", "REQ" };

	return i < N(names) ? names[i] : NULL;
}

/* "connection refused", with a hint when nothing listens there. */
static void report(const char *location, const char *what, int err)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "%s", strerror(err));
	msg[0] = (char)tolower((unsigned char)msg[0]);
	fprintf(stderr, "uvfio: %s: %s%s%s%s\n", location, what ? what : "", what ? ": " : "",
		msg,
		err == ECONNREFUSED || err == ENOENT ? " (is 'uvfio serve' running?)" : "");
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: uvfio info LOCATION [--json] [--timeout MS]\n"
		"\n"
		"Connect to a device and print its flags, regions, IRQs and the features it\n"
		"supports (VFIO_DEVICE_FEATURE PROBE); for a PCI device also its config\n"
		"space as lspci -vv shows it (names from pci.ids when installed).\n"
		"LOCATION: vfio-user:/path.sock (or a socket path).\n"
		"  --json        one JSON object: flags, regions, irqs, features, pci\n"
		"  --timeout MS  per reply (default 5000)\n");
}

/* The features a PROBE asks about; a device answers for the ones it has. */
static const struct {
	uint16_t index;
	const char *name;
} known_features[] = {
	{ VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, "PCI_VF_TOKEN" },
	{ VFIO_DEVICE_FEATURE_MIGRATION, "MIGRATION" },
	{ VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, "MIG_DEVICE_STATE" },
	{ VFIO_DEVICE_FEATURE_DMA_LOGGING_START, "DMA_LOGGING_START" },
	{ VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, "DMA_LOGGING_STOP" },
	{ VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, "DMA_LOGGING_REPORT" },
	{ VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, "MIG_DATA_SIZE" },
	{ VFIO_DEVICE_FEATURE_BUS_MASTER, "BUS_MASTER" },
};

static const struct flag_name mig_flag_names[] = {
	{ VFIO_MIGRATION_STOP_COPY, "STOP_COPY" },
	{ VFIO_MIGRATION_P2P, "P2P" },
	{ VFIO_MIGRATION_PRE_COPY, "PRE_COPY" },
};

#define N_FEATURES (sizeof(known_features) / sizeof(known_features[0]))

struct feature_view {
	bool get, set;
};

/* The doorbells (GET_REGION_IO_FDS) of a region that `info` shows. */
#define INFO_DOORBELLS_MAX 16
struct region_doorbells {
	int n; /* how many the region has; at most INFO_DOORBELLS_MAX listed */
	struct uvfio_client_ioeventfd e[INFO_DOORBELLS_MAX];
};

struct info {
	struct vfio_device_info dev;
	struct uvfio_region *regions;
	struct region_doorbells *doorbells; /* per region */
	struct vfio_irq_info *irqs;
	struct feature_view features[N_FEATURES];
	uint64_t mig_flags;
	bool features_any;
	bool has_pci;
	struct pci_view pci;
};

/* PROBE one op of a feature: 0 = it has it; EINVAL, ENOTTY = it has not. */
static int probe(struct uvfio_client *c, uint16_t index, uint32_t op)
{
	struct vfio_device_feature f = { .argsz = sizeof(f),
					 .flags = index | VFIO_DEVICE_FEATURE_PROBE | op };

	return uvfio_client_feature(c, &f);
}

static void probe_features(struct uvfio_client *c, struct info *in)
{
	for (size_t i = 0; i < N_FEATURES; i++) {
		in->features[i].get = !probe(c, known_features[i].index, VFIO_DEVICE_FEATURE_GET);
		in->features[i].set = !probe(c, known_features[i].index, VFIO_DEVICE_FEATURE_SET);
		in->features_any |= in->features[i].get || in->features[i].set;
		if (known_features[i].index == VFIO_DEVICE_FEATURE_MIGRATION && in->features[i].get) {
			struct {
				struct { /* vfio_device_feature without data[] */
					uint32_t argsz, flags;
				} hdr;
				struct vfio_device_feature_migration mig;
			} __attribute__((packed)) buf = {
				.hdr = { .argsz = sizeof(buf),
					 .flags = VFIO_DEVICE_FEATURE_MIGRATION |
						  VFIO_DEVICE_FEATURE_GET },
			};

			if (!uvfio_client_feature(c, &buf))
				in->mig_flags = buf.mig.flags;
		}
	}
}

/* Config space of a PCI device (region 7), decoded. Errors leave has_pci false. */
static void read_pci(struct uvfio_client *c, struct info *in)
{
	uint8_t cfg[4096];
	uint64_t size;
	ssize_t n;

	if (!(in->dev.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    in->dev.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX)
		return;
	size = in->regions[VFIO_PCI_CONFIG_REGION_INDEX].size;
	if (size > sizeof(cfg))
		size = sizeof(cfg);
	n = uvfio_client_read(c, VFIO_PCI_CONFIG_REGION_INDEX, 0, cfg, size);
	if (n < 0x40)
		return;
	in->has_pci = !pci_view_decode(cfg, (size_t)n, in->regions, in->dev.num_regions,
				       &in->pci);
}

static int listed(const struct region_doorbells *d)
{
	return d->n < INFO_DOORBELLS_MAX ? d->n : INFO_DOORBELLS_MAX;
}

/* "doorbells: 0x60/4B=0x0 ...": writes that signal the device with no reply. */
static void print_doorbells_text(const struct region_doorbells *d)
{
	if (d->n <= 0)
		return;
	printf("      doorbells (ioeventfd):");
	for (int k = 0; k < listed(d); k++) {
		printf(" %#llx/%uB", (unsigned long long)d->e[k].offset, d->e[k].size);
		if (d->e[k].datamatch)
			printf("=%#llx", (unsigned long long)d->e[k].data);
	}
	if (d->n > listed(d))
		printf(" (+%d more)", d->n - listed(d));
	printf("\n");
}

static void print_doorbells_json(const struct region_doorbells *d)
{
	printf(", \"doorbells\": [");
	for (int k = 0; k < listed(d); k++) {
		printf("%s{\"offset\": %llu, \"size\": %u", k ? ", " : "",
		       (unsigned long long)d->e[k].offset, d->e[k].size);
		if (d->e[k].datamatch)
			printf(", \"data\": %llu", (unsigned long long)d->e[k].data);
		printf("}");
	}
	printf("]");
}


static void print_text(const char *location, struct uvfio_client *c, const struct info *in)
{
	bool pci = in->dev.flags & VFIO_DEVICE_FLAGS_PCI;

	printf("device %s (backend %s)\n  flags ", location, uvfio_client_backend(c));
	print_flags(in->dev.flags, device_flags, N(device_flags));
	printf("\n  regions: %u\n", in->dev.num_regions);
	for (uint32_t i = 0; i < in->dev.num_regions; i++) {
		const struct uvfio_region *r = &in->regions[i];
		const char *name = pci ? pci_region_name(i) : NULL;

		printf("    %u%s%s%s: size %#llx", i, name ? " (" : "", name ? name : "",
		       name ? ")" : "", (unsigned long long)r->size);
		if (!r->size && !r->flags) {
			printf(" (not present)\n");
			continue;
		}
		printf(" offset %#llx flags ", (unsigned long long)r->offset);
		print_flags(r->flags, region_flags, N(region_flags));
		printf("\n");
		if (r->flags & VFIO_REGION_INFO_FLAG_MMAP) {
			printf("      mmap areas:");
			if (!r->nr_areas)
				printf(" whole region");
			for (uint32_t a = 0; a < r->nr_areas; a++)
				printf(" [%#llx, +%#llx)", (unsigned long long)r->areas[a].offset,
				       (unsigned long long)r->areas[a].size);
			printf("%s\n", r->mmap_fd < 0 ? " (no fd given)" : "");
		}
		if (r->has_type)
			printf("      cap type: type %u subtype %u\n", r->type, r->subtype);
		print_doorbells_text(&in->doorbells[i]);
	}
	if (in->has_pci)
		pci_view_print_text(&in->pci);
	printf("  irqs: %u\n", in->dev.num_irqs);
	for (uint32_t i = 0; i < in->dev.num_irqs; i++) {
		const char *name = pci ? pci_irq_name(i) : NULL;

		printf("    %u%s%s%s: count %u flags ", i, name ? " (" : "", name ? name : "",
		       name ? ")" : "", in->irqs[i].count);
		print_flags(in->irqs[i].flags, irq_flags, N(irq_flags));
		printf("\n");
	}
	printf("  features (PROBE):");
	for (size_t i = 0, any = 0; i < N_FEATURES; i++) {
		const struct feature_view *f = &in->features[i];

		if (!f->get && !f->set)
			continue;
		printf("%s %s [%s%s%s]", any++ ? "," : "", known_features[i].name,
		       f->get ? "GET" : "", f->get && f->set ? "|" : "", f->set ? "SET" : "");
		if (known_features[i].index == VFIO_DEVICE_FEATURE_MIGRATION) {
			printf(" flags ");
			print_flags((uint32_t)in->mig_flags, mig_flag_names, N(mig_flag_names));
		}
	}
	if (!in->features_any)
		printf(" none");
	printf("\n");
}

static void print_json(const struct info *in)
{
	printf("{\"flags\": %u, \"regions\": [", in->dev.flags);
	for (uint32_t i = 0; i < in->dev.num_regions; i++) {
		const struct uvfio_region *r = &in->regions[i];

		printf("%s{\"index\": %u, \"size\": %llu, \"flags\": %u, \"offset\": %llu, "
		       "\"mmap_areas\": [",
		       i ? ", " : "", i, (unsigned long long)r->size, r->flags,
		       (unsigned long long)r->offset);
		if (r->flags & VFIO_REGION_INFO_FLAG_MMAP && !r->nr_areas)
			printf("{\"offset\": 0, \"size\": %llu}", (unsigned long long)r->size);
		for (uint32_t a = 0; a < r->nr_areas; a++)
			printf("%s{\"offset\": %llu, \"size\": %llu}", a ? ", " : "",
			       (unsigned long long)r->areas[a].offset,
			       (unsigned long long)r->areas[a].size);
		printf("]");
		if (r->has_type)
			printf(", \"type\": %u, \"subtype\": %u", r->type, r->subtype);
		print_doorbells_json(&in->doorbells[i]);
		printf("}");
	}
	printf("], \"irqs\": [");
	for (uint32_t i = 0; i < in->dev.num_irqs; i++)
		printf("%s{\"index\": %u, \"count\": %u, \"flags\": %u}", i ? ", " : "", i,
		       in->irqs[i].count, in->irqs[i].flags);
	printf("], \"features\": [");
	for (size_t i = 0, any = 0; i < N_FEATURES; i++) {
		const struct feature_view *f = &in->features[i];

		if (!f->get && !f->set)
			continue;
		printf("%s{\"index\": %u, \"name\": \"%s\", \"get\": %s, \"set\": %s",
		       any++ ? ", " : "", known_features[i].index, known_features[i].name,
		       f->get ? "true" : "false", f->set ? "true" : "false");
		if (known_features[i].index == VFIO_DEVICE_FEATURE_MIGRATION) {
			printf(", \"migration_flags\": %llu, \"migration_flag_names\": [",
			       (unsigned long long)in->mig_flags);
			for (size_t b = 0, k = 0; b < N(mig_flag_names); b++)
				if (in->mig_flags & mig_flag_names[b].bit)
					printf("%s\"%s\"", k++ ? ", " : "", mig_flag_names[b].name);
			printf("]");
		}
		printf("}");
	}
	printf("]");
	if (in->has_pci) {
		printf(", ");
		pci_view_print_json(&in->pci);
	}
	printf("}\n");
}

int cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct uvfio_client_opts opts = { 0 };
	struct info in = { 0 };
	struct uvfio_client *c;
	const char *location;
	bool json = false;
	char what[32];
	int opt, ret = UVFIO_EXIT_FAILURE, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jt:h", longopts, NULL)) != -1) {
		char *end;
		unsigned long v;

		switch (opt) {
		case 'j':
			json = true;
			break;
		case 't':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !v || v > 3600000) {
				fprintf(stderr, "uvfio info: --timeout: '%s' is not a time in ms\n",
					optarg);
				return UVFIO_EXIT_USAGE;
			}
			opts.timeout_ms = (uint32_t)v;
			break;
		case 'h':
			usage(stdout);
			return UVFIO_EXIT_OK;
		default:
			usage(stderr);
			return UVFIO_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return UVFIO_EXIT_USAGE;
	}
	location = argv[optind];

	rc = uvfio_client_open(location, &opts, &c);
	if (rc == -EPROTONOSUPPORT) {
		fprintf(stderr, "uvfio: %s: not a device location (want vfio-user:/path.sock)\n",
			location);
		return UVFIO_EXIT_FAILURE;
	}
	if (rc) {
		report(location, NULL, -rc);
		return UVFIO_EXIT_FAILURE;
	}
	in.dev.argsz = sizeof(in.dev);
	rc = uvfio_client_get_info(c, &in.dev);
	if (rc) {
		report(location, "device info", -rc);
		goto out;
	}
	in.regions = calloc(in.dev.num_regions ? in.dev.num_regions : 1, sizeof(*in.regions));
	in.doorbells = calloc(in.dev.num_regions ? in.dev.num_regions : 1, sizeof(*in.doorbells));
	in.irqs = calloc(in.dev.num_irqs ? in.dev.num_irqs : 1, sizeof(*in.irqs));
	if (!in.regions || !in.doorbells || !in.irqs) {
		report(location, NULL, ENOMEM);
		goto out;
	}
	for (uint32_t i = 0; i < in.dev.num_regions; i++) {
		rc = uvfio_client_region(c, i, &in.regions[i]);
		if (rc) {
			snprintf(what, sizeof(what), "region %u", i);
			report(location, what, -rc);
			goto out;
		}
		/* 0 on kernel VFIO and for servers without GET_REGION_IO_FDS */
		if (in.regions[i].size) {
			rc = uvfio_client_ioeventfds(c, i, in.doorbells[i].e, INFO_DOORBELLS_MAX);
			if (rc < 0) {
				snprintf(what, sizeof(what), "region %u doorbells", i);
				report(location, what, -rc);
				goto out;
			}
			in.doorbells[i].n = rc;
			rc = 0;
		}
	}
	for (uint32_t i = 0; i < in.dev.num_irqs; i++) {
		in.irqs[i].argsz = sizeof(in.irqs[i]);
		in.irqs[i].index = i;
		rc = uvfio_client_irq_info(c, &in.irqs[i]);
		if (rc) {
			snprintf(what, sizeof(what), "irq %u", i);
			report(location, what, -rc);
			goto out;
		}
	}
	probe_features(c, &in);
	read_pci(c, &in);
	if (json)
		print_json(&in);
	else
		print_text(location, c, &in);
	ret = UVFIO_EXIT_OK;
out:
	free(in.regions);
	free(in.doorbells);
	free(in.irqs);
	uvfio_client_close(c);
	return ret;
}
