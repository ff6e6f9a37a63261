/* SPDX-License-Identifier: MIT */
/*
 * UUIDs of mdev instances: the kernel's uuid_is_valid()/guid_parse()
 * format, 36 characters, dashes at 8, 13, 18 and 23, hex digits (either
 * case) everywhere else. Stored and compared as 16 bytes, shown lower case.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <uvfio/mdev.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int uvfio_mdev_uuid_parse(const char *s, uint8_t out[16])
{
	unsigned int n = 0;

	if (!s || !out || strnlen(s, UVFIO_MDEV_UUID_LEN + 1) != UVFIO_MDEV_UUID_LEN)
		return -EINVAL;
	for (unsigned int i = 0; i < UVFIO_MDEV_UUID_LEN; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		hi = hexval(s[i]);
		lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	return 0;
}

void uvfio_mdev_uuid_format(const uint8_t in[16], char *out)
{
	snprintf(out, UVFIO_MDEV_UUID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], in[8], in[9],
		 in[10], in[11], in[12], in[13], in[14], in[15]);
}

int uvfio_mdev_uuid_generate(uint8_t out[16])
{
	ssize_t n = getrandom(out, 16, 0);

	if (n != 16)
		return n < 0 ? -errno : -EIO;
	out[6] = (uint8_t)((out[6] & 0x0f) | 0x40); /* version 4 */
	out[8] = (uint8_t)((out[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	return 0;
}
