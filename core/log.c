/* SPDX-License-Identifier: MIT */
/* One logging function with levels; every line names who logs. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uvfio/log.h>

static const char *const level_names[] = { "err", "warn", "info", "debug", "trace" };

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int threshold = UVFIO_LOG_WARN;
static uvfio_log_sink_fn sink;
static void *sink_opaque;

static void log_init(void)
{
	const char *env = getenv("UVFIO_LOG");

	if (!env || !*env)
		return;
	for (int i = 0; i <= UVFIO_LOG_TRACE; i++) {
		if (!strcasecmp(env, level_names[i])) {
			threshold = i;
			return;
		}
	}
	if (env[0] >= '0' && env[0] <= '9') {
		int v = atoi(env);
		threshold = v > UVFIO_LOG_TRACE ? UVFIO_LOG_TRACE : v;
	}
}

void uvfio_log_set_level(enum uvfio_log_level level)
{
	pthread_once(&init_once, log_init);
	__atomic_store_n(&threshold, (int)level, __ATOMIC_RELAXED);
}

enum uvfio_log_level uvfio_log_get_level(void)
{
	pthread_once(&init_once, log_init);
	return (enum uvfio_log_level)__atomic_load_n(&threshold, __ATOMIC_RELAXED);
}

int uvfio_log_enabled(enum uvfio_log_level level)
{
	return (int)level <= (int)uvfio_log_get_level();
}

void uvfio_log_set_sink(uvfio_log_sink_fn fn, void *opaque)
{
	sink = fn;
	sink_opaque = opaque;
}

void uvfio_vlog(enum uvfio_log_level level, const char *who, const char *fmt, va_list ap)
{
	char msg[1024];

	if (!uvfio_log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (sink) {
		sink(level, who ? who : "uvfio", msg, sink_opaque);
		return;
	}
	/* One fprintf per line so lines from several threads don't interleave. */
	fprintf(stderr, "uvfio[%s] %s: %s\n", who ? who : "-",
		level_names[level > UVFIO_LOG_TRACE ? UVFIO_LOG_TRACE : level], msg);
}

void uvfio_log(enum uvfio_log_level level, const char *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	uvfio_vlog(level, who, fmt, ap);
	va_end(ap);
}
