/* SPDX-License-Identifier: MIT */
/* `uvfio bench NAME [ARGS]`: dispatch to one benchmark. */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "commands.h"

/* Adding a benchmark: one line here, its function in bench.h, its file in meson.build. */
static const struct uvfio_command benches[] = {
	{ "dma-map", "DMA space: map N windows, random translates, unmap (ns/op)", bench_dma_map },
	{ "rtt", "client round trip and message DMA vs raw-socket floors", bench_rtt },
	{ "migrate", "migrate a testdev with N MiB of state vs the raw-socket floor", bench_migrate },
	{ "posted", "N posted (No_reply) REGION_WRITEs vs N with replies (ops/s)", bench_posted },
	{ "mmio", "4-byte access through the BAR mmap vs REGION_READ (ns)", bench_mmio },
	{ "dma", "1 MiB DMA into an fd-backed window vs memcpy (% of bandwidth)", bench_dma },
	{ "ioeventfd", "doorbell via ioeventfd vs REGION_WRITE, replied and posted (ns, ops/s)",
	  bench_ioeventfd },
	{ "irq", "MSI-X with 1..2048 vectors: raise, table write, SET_IRQS (ns, ratio)", bench_irq },
};

#define N_BENCHES (sizeof(benches) / sizeof(benches[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: uvfio bench NAME [ARGS]\n\nbenchmarks:\n");
	for (size_t i = 0; i < N_BENCHES; i++)
		fprintf(out, "  %-10s %s\n", benches[i].name, benches[i].summary);
	fprintf(out, "\n'uvfio bench NAME --help' describes a benchmark.\n");
}

int cmd_bench(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return UVFIO_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return UVFIO_EXIT_OK;
	}
	for (size_t i = 0; i < N_BENCHES; i++)
		if (!strcmp(argv[1], benches[i].name))
			return benches[i].run(argc - 1, argv + 1);
	fprintf(stderr, "uvfio bench: '%s' is not a benchmark (see 'uvfio bench --help')\n",
		argv[1]);
	return UVFIO_EXIT_USAGE;
}
