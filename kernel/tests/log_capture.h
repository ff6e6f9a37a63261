/* SPDX-License-Identifier: MIT */
/* Capture uvfio_log() lines so tests can assert what a user would read. */
#ifndef UVFIO_KERNEL_TESTS_LOG_CAPTURE_H
#define UVFIO_KERNEL_TESTS_LOG_CAPTURE_H

#include <stdio.h>
#include <string.h>

#include <uvfio/log.h>

static char captured[4096];

static void capture_sink(enum uvfio_log_level level, const char *who, const char *msg,
			 void *opaque)
{
	size_t used = strlen(captured);

	(void)level;
	(void)opaque;
	if (used < sizeof(captured) - 1)
		snprintf(captured + used, sizeof(captured) - used, "[%s] %s\n", who, msg);
}

static void capture_start(void)
{
	captured[0] = 0;
	uvfio_log_set_sink(capture_sink, NULL);
}

#endif
