/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "tool_error.h"

const char *tool_strerror(int err, char *buf, size_t len)
{
	snprintf(buf, len, "%s", strerror(err));
	/* "No such file" -> "no such file", but keep acronyms ("I/O error"). */
	if (len > 1 && isupper((unsigned char)buf[0]) && !isupper((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

void tool_error(const char *what, int err, const char *hint)
{
	char msg[128];

	fprintf(stderr, "uvfio: %s: %s%s%s%s\n", what, tool_strerror(err, msg, sizeof(msg)),
		hint && *hint ? " (" : "", hint && *hint ? hint : "", hint && *hint ? ")" : "");
}
