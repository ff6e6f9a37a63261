/* SPDX-License-Identifier: MIT */
/*
 * CDX ID matching and module aliases. In an ID table CDX_ANY_ID (0xFFFF)
 * matches any value, as the kernel's cdx_match_one_device(); a device's
 * own IDs are never 0xFFFF (uvfio_cdx_create refuses them).
 */
#include <errno.h>
#include <stdio.h>

#include "bus/cdx/cdx_internal.h"

bool uvfio_cdx_id_match(const struct uvfio_cdx_id *id, uint16_t vendor,
			uint16_t device)
{
	if (!id)
		return false;
	return (id->vendor == UVFIO_CDX_ANY_ID || id->vendor == vendor) &&
	       (id->device == UVFIO_CDX_ANY_ID || id->device == device);
}

const struct uvfio_cdx_id *uvfio_cdx_match_table(const struct uvfio_cdx_id *table,
						 uint16_t vendor, uint16_t device)
{
	if (!table)
		return NULL;
	for (; table->vendor || table->device; table++)
		if (uvfio_cdx_id_match(table, vendor, device))
			return table;
	return NULL;
}

/* One field as file2alias's ADD(): 4 upper-case hex digits for a u16, or
 * "*" when the table entry is the wildcard. */
static int alias_field(char *buf, size_t len, const char *sep, uint16_t v)
{
	if (v == UVFIO_CDX_ANY_ID)
		return snprintf(buf, len, "%s*", sep);
	return snprintf(buf, len, "%s%04X", sep, v);
}

int uvfio_cdx_modalias(const struct uvfio_cdx_id *id, char *buf, size_t len)
{
	size_t pos;
	int n;

	if (!id || !buf)
		return -EINVAL;
	n = snprintf(buf, len, "vfio_cdx:");
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	pos = (size_t)n;
	n = alias_field(buf + pos, len - pos, "v", id->vendor);
	if (n < 0 || (size_t)n >= len - pos)
		return -ENOSPC;
	pos += (size_t)n;
	n = alias_field(buf + pos, len - pos, "d", id->device);
	if (n < 0 || (size_t)n >= len - pos)
		return -ENOSPC;
	pos += (size_t)n;
	return (int)pos;
}
