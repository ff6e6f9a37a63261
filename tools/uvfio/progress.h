/* SPDX-License-Identifier: MIT */
/*
 * Progress of a long loop, on stderr: a bar redrawn in place on a terminal;
 * otherwise (logs, pipes) a plain line at each quarter and at the end, for
 * loops that run longer than a second; nothing when UVFIO_PROGRESS=0. Updates are cheap (a clock read; a redraw at most every
 * 100 ms), but call them between timed sections, not inside one.
 *
 *   struct progress p;
 *   progress_start(&p, "map", total, PROGRESS_COUNT);
 *   for (...) { ...; progress_update(&p, done); }
 *   progress_done(&p);
 */
#ifndef UVFIO_TOOL_PROGRESS_H
#define UVFIO_TOOL_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum progress_unit {
	PROGRESS_COUNT, /* plain numbers */
	PROGRESS_BYTES, /* KiB/MiB/GiB, and a rate */
};

struct progress {
	FILE *out;
	const char *label;
	uint64_t total, done; /* total 0: unknown, no percentage */
	enum progress_unit unit;
	bool enabled, tty, drawn;
	int last_quarter;
	uint64_t start_ns, last_ns;
};

void progress_start(struct progress *p, const char *label, uint64_t total,
		    enum progress_unit unit);
/* Like progress_start, but to `out` and with tty forced (tests). */
void progress_start_on(struct progress *p, FILE *out, bool tty, const char *label,
		       uint64_t total, enum progress_unit unit);
void progress_update(struct progress *p, uint64_t done);
static inline void progress_add(struct progress *p, uint64_t n)
{
	progress_update(p, p->done + n);
}
/* The final state (what was done, the elapsed time), ending the bar's line. */
void progress_done(struct progress *p);

#endif
