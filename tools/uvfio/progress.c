/* SPDX-License-Identifier: MIT */
/* A progress bar on a terminal, plain lines elsewhere. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

#define REDRAW_NS 100000000ull /* 100 ms */
#define QUIET_NS 1000000000ull /* plain lines only for loops longer than 1 s */
#define BAR_WIDTH 30

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void amount(char *buf, size_t cap, uint64_t v, enum progress_unit unit)
{
	static const char *const sfx[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int i = 0;

	if (unit == PROGRESS_COUNT) {
		snprintf(buf, cap, "%llu", (unsigned long long)v);
		return;
	}
	while (d >= 1024 && i < 4) {
		d /= 1024;
		i++;
	}
	snprintf(buf, cap, i ? "%.1f %s" : "%.0f %s", d, sfx[i]);
}

void progress_start_on(struct progress *p, FILE *out, bool tty, const char *label,
		       uint64_t total, enum progress_unit unit)
{
	const char *env = getenv("UVFIO_PROGRESS");

	memset(p, 0, sizeof(*p));
	p->out = out;
	p->tty = tty;
	p->label = label;
	p->total = total;
	p->unit = unit;
	p->enabled = !(env && !strcmp(env, "0"));
	p->last_quarter = -1;
	p->start_ns = now_ns();
}

void progress_start(struct progress *p, const char *label, uint64_t total,
		    enum progress_unit unit)
{
	progress_start_on(p, stderr, isatty(STDERR_FILENO), label, total, unit);
}

static void draw(struct progress *p, uint64_t now, bool final)
{
	char done[32], total[32], rate[48] = "";
	double secs = (double)(now - p->start_ns) / 1e9;
	double frac = p->total ? (double)p->done / (double)p->total : 0;

	if (frac > 1)
		frac = 1;
	amount(done, sizeof(done), p->done, p->unit);
	amount(total, sizeof(total), p->total, p->unit);
	if (p->unit == PROGRESS_BYTES && secs >= 0.05) { /* a rate over less is noise */
		char r[32];

		amount(r, sizeof(r), (uint64_t)((double)p->done / secs), p->unit);
		snprintf(rate, sizeof(rate), ", %s/s", r);
	}
	if (p->tty && !p->total) {
		/* Nothing to fill a bar against: the amount, redrawn in place. */
		fprintf(p->out, "\r%s: %s (%.1fs%s)\033[K", p->label, done, secs, rate);
		if (final)
			fputc('\n', p->out);
	} else if (p->tty) {
		int fill = (int)(frac * BAR_WIDTH + 0.5);

		fprintf(p->out, "\r%s [", p->label);
		for (int i = 0; i < BAR_WIDTH; i++)
			fputc(i < fill ? '#' : '.', p->out);
		fprintf(p->out, "] %3.0f%% %s/%s (%.1fs%s)\033[K", frac * 100, done, total, secs,
			rate);
		if (final)
			fputc('\n', p->out);
	} else if (p->total) {
		fprintf(p->out, "%s: %3.0f%% %s/%s (%.1fs%s)\n", p->label, frac * 100, done, total,
			secs, rate);
	} else {
		fprintf(p->out, "%s: %s (%.1fs%s)\n", p->label, done, secs, rate);
	}
	fflush(p->out);
	p->drawn = true;
	p->last_ns = now;
}

void progress_update(struct progress *p, uint64_t done)
{
	uint64_t now;

	p->done = done;
	if (!p->enabled)
		return;
	if (p->tty) {
		now = now_ns();
		if (!p->drawn || now - p->last_ns >= REDRAW_NS)
			draw(p, now, false);
		return;
	}
	/* Plain lines, once a loop has run 1 s: one per quarter crossed
	 * (unknown total: every 10 s). */
	now = now_ns();
	if (now - p->start_ns < QUIET_NS)
		return;
	if (p->total) {
		int q = (int)(done * 4 / p->total);

		if (q > 3)
			q = 3; /* 100% is progress_done's line */
		if (q > p->last_quarter && q > 0) {
			p->last_quarter = q;
			draw(p, now, false);
		}
	} else {
		if (now - (p->drawn ? p->last_ns : p->start_ns) >= 100 * REDRAW_NS)
			draw(p, now, false);
	}
}

void progress_done(struct progress *p)
{
	uint64_t now = now_ns();

	if (!p->enabled || (!p->tty && !p->drawn && now - p->start_ns < QUIET_NS))
		return;
	draw(p, now, true);
}
