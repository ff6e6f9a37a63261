/* SPDX-License-Identifier: MIT */
/*
 * Errors for people: every CLI failure names the thing and the reason,
 *   uvfio: /run/x.sock: connection refused (is 'uvfio serve' running?)
 * and exits 1 (UVFIO_EXIT_FAILURE); a bad command line exits 2.
 */
#ifndef UVFIO_TOOL_ERROR_H
#define UVFIO_TOOL_ERROR_H

#include <stddef.h>

/* "uvfio: WHAT: reason[ (hint)]" on stderr; err is a positive errno. */
void tool_error(const char *what, int err, const char *hint);
/* strerror(err) as a sentence part: "connection refused". */
const char *tool_strerror(int err, char *buf, size_t len);

#endif
