/* SPDX-License-Identifier: MIT */
/* `uvfio info LOCATION [--json]`: a device's flags, regions and IRQs. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uvfio/client.h>

#include "commands.h"
#include "core/vfio_compat.h"

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
		"Connect to a device and print its flags, regions and IRQs.\n"
		"LOCATION: vfio-user:/path.sock (or a socket path).\n"
		"  --json        one JSON object: flags, regions, irqs\n"
		"  --timeout MS  per reply (default 5000)\n");
}

struct info {
	struct vfio_device_info dev;
	struct uvfio_region *regions;
	struct vfio_irq_info *irqs;
};

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
	}
	printf("  irqs: %u\n", in->dev.num_irqs);
	for (uint32_t i = 0; i < in->dev.num_irqs; i++) {
		const char *name = pci ? pci_irq_name(i) : NULL;

		printf("    %u%s%s%s: count %u flags ", i, name ? " (" : "", name ? name : "",
		       name ? ")" : "", in->irqs[i].count);
		print_flags(in->irqs[i].flags, irq_flags, N(irq_flags));
		printf("\n");
	}
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
		printf("}");
	}
	printf("], \"irqs\": [");
	for (uint32_t i = 0; i < in->dev.num_irqs; i++)
		printf("%s{\"index\": %u, \"count\": %u, \"flags\": %u}", i ? ", " : "", i,
		       in->irqs[i].count, in->irqs[i].flags);
	printf("]}\n");
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
	in.irqs = calloc(in.dev.num_irqs ? in.dev.num_irqs : 1, sizeof(*in.irqs));
	if (!in.regions || !in.irqs) {
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
	if (json)
		print_json(&in);
	else
		print_text(location, c, &in);
	ret = UVFIO_EXIT_OK;
out:
	free(in.regions);
	free(in.irqs);
	uvfio_client_close(c);
	return ret;
}
