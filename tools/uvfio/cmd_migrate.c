/* SPDX-License-Identifier: MIT */
/*
 * `uvfio migrate --from SOCK_A --to SOCK_B [--json] [--max-iterations N]`:
 * move a device's state between two vfio-user servers with uvfio_migrate().
 *
 * Progress: a bar redrawn in place when stdout is a terminal, else one plain
 * line per pre-copy round and one at the end. --json prints one summary
 * object: {"bytes", "downtime_ms", "iterations", "mibps"}.
 *
 * Note: a vfio-pci-like server resets a PCI function at its client's last
 * close, so a destination driven only by this tool loses the state when the
 * tool disconnects; a VMM keeps its connection. The library call is what a
 * VMM (or a test) uses with the connections it keeps.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uvfio/client.h>
#include <uvfio/migrate.h>

#include "commands.h"
#include "progress.h"
#include "tool_error.h"

/* Progress on stderr: the shared bar on a terminal (one line per phase and
 * round), a line per finished pre-copy round otherwise. */
struct mig_progress {
	bool tty, json;
	unsigned int last_iter;
	double t0;
	bool started;
	const char *phase;
	unsigned int round;
	uint64_t base; /* stream bytes before this bar's first chunk */
	char label[48];
	struct progress bar;
};

static double mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double rate_mibps(uint64_t bytes, double ms)
{
	return ms > 0 ? (double)bytes / (1 << 20) / (ms / 1e3) : 0;
}

static void on_progress(const struct uvfio_migrate_stats *s, void *opaque)
{
	struct mig_progress *p = opaque;
	bool done = !strcmp(s->phase, "done");
	unsigned int round = s->iterations + !strcmp(s->phase, "precopy");
	double t = mono_ms();

	if (p->json)
		return;
	if (p->tty) {
		if (p->started && (done || strcmp(s->phase, p->phase) || round != p->round)) {
			progress_update(&p->bar, s->bytes - p->base);
			progress_done(&p->bar); /* this round's line stays */
			p->started = false;
			p->base = s->bytes;
		}
		/* A round's end is reported before the next round has data:
		 * start the next bar with its first bytes. */
		if (done || (!p->started && s->bytes == p->base))
			return;
		if (!p->started) {
			if (!strcmp(s->phase, "precopy"))
				snprintf(p->label, sizeof(p->label), "migrate: precopy round %u", round);
			else
				snprintf(p->label, sizeof(p->label), "migrate: %s", s->phase);
			progress_start(&p->bar, p->label, 0, PROGRESS_BYTES);
			p->started = true;
			p->phase = s->phase;
			p->round = round;
		}
		progress_update(&p->bar, s->bytes - p->base);
		return;
	}
	/* Not a terminal: a line per finished pre-copy round; the summary follows. */
	while (p->last_iter < s->iterations) {
		p->last_iter++;
		fprintf(stderr, "precopy round %u done: %llu bytes so far, %.1f MiB/s\n",
			p->last_iter, (unsigned long long)s->bytes, rate_mibps(s->bytes, t - p->t0));
	}
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: uvfio migrate --from SOCK_A --to SOCK_B [--json] [--max-iterations N]\n"
		"                     [--no-precopy]\n"
		"\n"
		"Move the device state served on SOCK_A to the device served on SOCK_B\n"
		"(vfio-user migration v2: PRE_COPY rounds if the source offers them, then\n"
		"STOP_COPY). On failure the source runs on and the destination is reset.\n"
		"\n"
		"  --from SOCK          source server socket\n"
		"  --to SOCK            destination server socket\n"
		"  --json               print a JSON summary (bytes, downtime_ms, iterations, mibps)\n"
		"  --max-iterations N   at most N pre-copy rounds (default 8)\n"
		"  --no-precopy         straight to STOP_COPY, even if the source offers PRE_COPY\n"
		"\n"
		"A server resets a PCI function when its last client goes (as vfio-pci), so\n"
		"a PCI destination keeps the state only while someone stays connected; a\n"
		"VMM migrates on its own connections with uvfio_migrate() (uvfio/migrate.h).\n");
}

static int open_sock(const char *path, struct uvfio_client **c)
{
	char loc[4096];
	int ret;

	if (snprintf(loc, sizeof(loc), "vfio-user:%s", path) >= (int)sizeof(loc))
		return -ENAMETOOLONG;
	ret = uvfio_client_open(loc, NULL, c);
	if (ret)
		tool_error(path, -ret, ret == -ECONNREFUSED || ret == -ENOENT
					       ? "is 'uvfio serve' running?" : NULL);
	return ret;
}

int cmd_migrate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "max-iterations", required_argument, NULL, 'n' },
		{ "no-precopy", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct mig_progress pr = { 0 };
	struct uvfio_migrate_opts o = { 0 };
	struct uvfio_migrate_stats st = { 0 };
	struct uvfio_client *src = NULL, *dst = NULL;
	const char *from = NULL, *to = NULL;
	char why[256] = "";
	char *end;
	int c, ret, rc = UVFIO_EXIT_FAILURE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'j':
			pr.json = true;
			break;
		case 'n':
			errno = 0;
			o.max_iterations = (unsigned int)strtoul(optarg, &end, 0);
			if (errno || *end || !o.max_iterations || o.max_iterations > 100000) {
				fprintf(stderr, "uvfio migrate: --max-iterations wants 1..100000\n");
				return UVFIO_EXIT_USAGE;
			}
			break;
		case 'P':
			o.no_precopy = true;
			break;
		case 'h':
			usage(stdout);
			return UVFIO_EXIT_OK;
		default:
			usage(stderr);
			return UVFIO_EXIT_USAGE;
		}
	}
	if (!from || !to || optind != argc) {
		usage(stderr);
		return UVFIO_EXIT_USAGE;
	}
	if (open_sock(from, &src))
		return UVFIO_EXIT_FAILURE;
	if (open_sock(to, &dst))
		goto out;

	pr.tty = isatty(STDERR_FILENO);
	pr.t0 = mono_ms();
	o.progress = on_progress;
	o.opaque = &pr;
	o.why = why;
	o.why_len = sizeof(why);
	ret = uvfio_migrate(src, dst, &o, &st);
	if (ret) {
		if (pr.started)
			progress_done(&pr.bar);
		fprintf(stderr, "uvfio migrate: failed: %s (source left running, destination reset)\n",
			why[0] ? why : strerror(-ret));
		goto out;
	}
	if (pr.json)
		printf("{\"bytes\": %llu, \"downtime_ms\": %.3f, \"iterations\": %u, \"mibps\": %.1f}\n",
		       (unsigned long long)st.bytes, st.downtime_ms, st.iterations,
		       rate_mibps(st.bytes, st.total_ms));
	else
		printf("migrated %llu bytes in %.1f ms (%.1f MiB/s), %u pre-copy round(s), downtime %.3f ms\n",
		       (unsigned long long)st.bytes, st.total_ms, rate_mibps(st.bytes, st.total_ms),
		       st.iterations, st.downtime_ms);
	rc = UVFIO_EXIT_OK;
out:
	uvfio_client_close(dst);
	uvfio_client_close(src);
	return rc;
}
