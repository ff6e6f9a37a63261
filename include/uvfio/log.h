/* SPDX-License-Identifier: MIT */
/*
 * uvfio logging: one function with levels. Every line names who logs (a
 * device, a connection, a tool), so interleaved output stays readable.
 */
#ifndef UVFIO_LOG_H
#define UVFIO_LOG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

enum uvfio_log_level {
	UVFIO_LOG_ERR = 0,
	UVFIO_LOG_WARN = 1,
	UVFIO_LOG_INFO = 2,
	UVFIO_LOG_DEBUG = 3,
	UVFIO_LOG_TRACE = 4,
};

/*
 * Lines above the threshold are dropped. The default is UVFIO_LOG_WARN, or
 * the value of the environment variable UVFIO_LOG (a number or a level name:
 * err, warn, info, debug, trace) read on first use.
 */
void uvfio_log_set_level(enum uvfio_log_level level);
enum uvfio_log_level uvfio_log_get_level(void);
int uvfio_log_enabled(enum uvfio_log_level level);

/* A sink replaces the default (stderr, "uvfio[who] level: msg\n"). */
typedef void (*uvfio_log_sink_fn)(enum uvfio_log_level level, const char *who,
				  const char *msg, void *opaque);
void uvfio_log_set_sink(uvfio_log_sink_fn fn, void *opaque);

void uvfio_log(enum uvfio_log_level level, const char *who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void uvfio_vlog(enum uvfio_log_level level, const char *who, const char *fmt,
		va_list ap) __attribute__((format(printf, 3, 0)));

#ifdef __cplusplus
}
#endif
#endif
