/* SPDX-License-Identifier: MIT */
/*
 * Location strings of the kernel backend:
 *   pci:0000:00:03.0[?iommu=group|cdev]   (also pci:00:03.0, domain 0000)
 *   mdev:UUID[?iommu=...]  cdx:NAME[?iommu=...]
 *   /dev/vfio/N:DEVICE  /dev/vfio/noiommu-N:DEVICE
 *   /dev/vfio/devices/vfioX
 * Parsing is pure: nothing is opened, so every form is unit tested. Names
 * end up in paths, so they are checked to be plain names (no '/', no "..").
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <uvfio/log.h>

#include "kernel/kvfio.h"

static bool all_digits(const char *s, size_t n)
{
	if (!n || n > 9) /* group and cdev numbers fit an int */
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* DDDD:BB:DD.F, or BB:DD.F with domain 0000 (written to out). */
static bool parse_bdf(const char *s, size_t n, char *out, size_t len)
{
	char tmp[16];

	if (n == 7) {
		if (snprintf(tmp, sizeof(tmp), "0000:%.7s", s) != 12)
			return false;
		s = tmp;
		n = 12;
	}
	if (n != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.')
		return false;
	if (!hex_run(s, 4) || !hex_run(s + 5, 2) || !hex_run(s + 8, 2) ||
	    s[11] < '0' || s[11] > '7')
		return false;
	/* The slot is 5 bits: 00-1f. */
	if (s[8] > '1')
		return false;
	if (len < 13)
		return false;
	for (int i = 0; i < 12; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[12] = 0;
	return true;
}

static bool parse_uuid(const char *s, size_t n, char *out, size_t len)
{
	static const size_t dash[] = { 8, 13, 18, 23 };

	if (n != 36 || len < 37)
		return false;
	for (size_t i = 0, d = 0; i < n; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != '-')
				return false;
			d++;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[n] = 0;
	return true;
}

/* A sysfs device name: [A-Za-z0-9:._-]+, not "." or "..". */
static bool parse_name(const char *s, size_t n, char *out, size_t len)
{
	if (!n || n >= len || n >= KVFIO_NAME_MAX)
		return false;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(":._-", s[i]))
			return false;
	memcpy(out, s, n);
	out[n] = 0;
	return true;
}

static int bad(const char *loc, const char *why)
{
	uvfio_log(UVFIO_LOG_ERR, loc, "bad location: %s", why);
	return -EINVAL;
}

static int parse_query(const char *loc, const char *q, struct kvfio_location *out)
{
	if (!q)
		return 0;
	if (!strcmp(q, "iommu=group"))
		out->pref = KVFIO_IOMMU_GROUP;
	else if (!strcmp(q, "iommu=cdev"))
		out->pref = KVFIO_IOMMU_CDEV;
	else if (!strcmp(q, "iommu=auto"))
		out->pref = KVFIO_IOMMU_AUTO;
	else
		return bad(loc, "unknown option (want ?iommu=group, ?iommu=cdev or ?iommu=auto)");
	return 0;
}

static int parse_sysfs_form(const char *loc, const char *rest,
			    struct kvfio_location *out)
{
	const char *q = strchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : strlen(rest);
	bool ok;

	switch (out->kind) {
	case KVFIO_LOC_PCI:
		ok = parse_bdf(rest, n, out->device, sizeof(out->device));
		if (!ok)
			return bad(loc, "want pci:DDDD:BB:DD.F (e.g. pci:0000:00:03.0)");
		break;
	case KVFIO_LOC_MDEV:
		ok = parse_uuid(rest, n, out->device, sizeof(out->device));
		if (!ok)
			return bad(loc, "want mdev:UUID (8-4-4-4-12 hex digits)");
		break;
	default:
		ok = parse_name(rest, n, out->device, sizeof(out->device));
		if (!ok)
			return bad(loc, "want cdx:NAME (letters, digits, ':', '.', '_', '-')");
		break;
	}
	return parse_query(loc, q ? q + 1 : NULL, out);
}

/* /dev/vfio/N:DEVICE or /dev/vfio/noiommu-N:DEVICE */
static int parse_group_form(const char *loc, const char *rest,
			    struct kvfio_location *out)
{
	const char *colon = strchr(rest, ':');
	const char *num = rest;
	size_t n;

	if (!colon)
		return bad(loc, "want /dev/vfio/N:DEVICE (e.g. /dev/vfio/5:0000:00:03.0)");
	n = (size_t)(colon - rest);
	if (n > 8 && !strncmp(rest, "noiommu-", 8)) {
		num += 8;
		n -= 8;
	}
	if (!all_digits(num, n))
		return bad(loc, "group must be a number (/dev/vfio/N or /dev/vfio/noiommu-N)");
	memcpy(out->group, rest, (size_t)(colon - rest));
	out->group[colon - rest] = 0;
	if (!parse_name(colon + 1, strlen(colon + 1), out->device, sizeof(out->device)))
		return bad(loc, "want a device name after the group (e.g. :0000:00:03.0)");
	out->kind = KVFIO_LOC_GROUP;
	return 0;
}

int kvfio_location_parse(const char *loc, struct kvfio_location *out)
{
	static const struct {
		const char *prefix;
		enum kvfio_loc_kind kind;
	} sysfs_forms[] = {
		{ "pci:", KVFIO_LOC_PCI },
		{ "mdev:", KVFIO_LOC_MDEV },
		{ "cdx:", KVFIO_LOC_CDX },
	};
	static const char cdev_prefix[] = "/dev/vfio/devices/";
	static const char group_prefix[] = "/dev/vfio/";

	memset(out, 0, sizeof(*out));
	if (!loc || !*loc)
		return bad("(null)", "empty");
	if (strlen(loc) > 200)
		return bad("(too long)", "longer than 200 characters");
	for (size_t i = 0; i < sizeof(sysfs_forms) / sizeof(sysfs_forms[0]); i++) {
		size_t n = strlen(sysfs_forms[i].prefix);

		if (!strncmp(loc, sysfs_forms[i].prefix, n)) {
			out->kind = sysfs_forms[i].kind;
			return parse_sysfs_form(loc, loc + n, out);
		}
	}
	if (!strncmp(loc, cdev_prefix, sizeof(cdev_prefix) - 1)) {
		const char *name = loc + sizeof(cdev_prefix) - 1;

		if (strncmp(name, "vfio", 4) || !all_digits(name + 4, strlen(name + 4)))
			return bad(loc, "want /dev/vfio/devices/vfioX");
		strcpy(out->cdev, name); /* <= 4 + 9 digits, checked above */
		out->kind = KVFIO_LOC_CDEV;
		out->pref = KVFIO_IOMMU_CDEV;
		return 0;
	}
	if (!strncmp(loc, group_prefix, sizeof(group_prefix) - 1))
		return parse_group_form(loc, loc + sizeof(group_prefix) - 1, out);
	return bad(loc, "want pci:BDF, mdev:UUID, cdx:NAME, /dev/vfio/N:DEVICE or "
			"/dev/vfio/devices/vfioX");
}

bool kvfio_parse_bdf(const char *s, char *out, size_t len)
{
	return parse_bdf(s, strlen(s), out, len);
}

const char *kvfio_location_bus(enum kvfio_loc_kind kind)
{
	switch (kind) {
	case KVFIO_LOC_PCI:
		return "pci";
	case KVFIO_LOC_MDEV:
		return "mdev";
	case KVFIO_LOC_CDX:
		return "cdx";
	default:
		return NULL;
	}
}
