/* SPDX-License-Identifier: MIT */
/*
 * Save -> load round trips of the sample devices, in process, through the
 * core's migration API (the same path MIG_DATA_READ/WRITE take): the state
 * a driver sees afterwards equals the state before, a pending interrupt and
 * a finished DMA included; a stream for another device is refused cleanly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <cmocka.h>

#include <uvfio/device.h>
#include <uvfio/dma.h>
#include <uvfio/log.h>

#include "core/vfio_compat.h"
#include "devices/registry.h"
#include "devices/testdev.h"
#include "devices/tests/pci_guest.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define IOVA 0x10000000ull
#define RAM_SIZE (16 * 1024)

struct inst {
	const struct uvfio_sample *sample;
	struct uvfio_sample_dev sd;
	struct uvfio_device *dev;
	struct uvfio_dma *dma;
	uint8_t *ram;
};

static char logged[512];

static void sink(enum uvfio_log_level level, const char *who, const char *msg, void *o)
{
	if (level <= UVFIO_LOG_ERR && !logged[0])
		snprintf(logged, sizeof(logged), "%s: %s", who, msg);
}

static void inst_new(struct inst *in, const char *name)
{
	char *argv[] = { (char *)name, NULL };

	memset(in, 0, sizeof(*in));
	in->sample = uvfio_sample_find(name);
	assert_non_null(in->sample);
	assert_int_equal(in->sample->create(1, argv, &in->sd), 0);
	in->dev = in->sd.dev;
	assert_int_equal(uvfio_device_open(in->dev), 0);
}

static void inst_ram(struct inst *in)
{
	struct uvfio_dma_map_args m = {
		.iova = IOVA, .size = RAM_SIZE, .fd = -1,
		.prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE,
	};

	in->ram = aligned_alloc(4096, RAM_SIZE);
	memset(in->ram, 0, RAM_SIZE);
	m.vaddr = in->ram;
	in->dma = uvfio_dma_create(NULL);
	assert_int_equal(uvfio_dma_map(in->dma, &m), 0);
	uvfio_device_set_dma(in->dev, in->dma);
}

static void inst_free(struct inst *in)
{
	uvfio_device_set_dma(in->dev, NULL);
	uvfio_device_close(in->dev);
	in->sample->destroy(in->sd.priv);
	if (in->dma)
		uvfio_dma_destroy(in->dma);
	free(in->ram);
}

static void run_events(struct inst *in)
{
	struct pollfd p = { .fd = in->sample->event_fd(in->sd.priv), .events = POLLIN };

	while (poll(&p, 1, 0) == 1)
		assert_int_equal(in->sample->handle_event(in->sd.priv), 0);
}

/*
 * The whole dance: src -> STOP_COPY, read the stream, src -> STOP; dst ->
 * RESUMING, write it in odd pieces, dst -> STOP (the load) -> RUNNING.
 * Returns the result of dst's RESUMING -> STOP.
 */
static int move(struct uvfio_device *src, struct uvfio_device *dst)
{
	static uint8_t stream[64 * 1024];
	size_t total = 0;
	ssize_t n;
	int ret;

	assert_int_equal(uvfio_device_mig_set_state(src, UVFIO_MIG_STOP_COPY), 0);
	while ((n = uvfio_device_mig_read(src, stream + total, 100)) > 0)
		total += (size_t)n;
	assert_int_equal(n, 0);
	assert_true(total > 0);
	assert_int_equal(uvfio_device_mig_set_state(src, UVFIO_MIG_STOP), 0);

	assert_int_equal(uvfio_device_mig_set_state(dst, UVFIO_MIG_RESUMING), 0);
	/* A stream for another device may be refused at its header already. */
	for (size_t off = 0, wret = 0; off < total && !wret; off += 77) {
		size_t k = total - off < 77 ? total - off : 77;

		wret = (size_t)-uvfio_device_mig_write(dst, stream + off, k);
		assert_true(wret == 0 || wret == EINVAL);
	}
	ret = uvfio_device_mig_set_state(dst, UVFIO_MIG_STOP);
	if (!ret)
		assert_int_equal(uvfio_device_mig_set_state(dst, UVFIO_MIG_RUNNING), 0);
	return ret;
}

static void test_edu_round_trip(void **state)
{
	struct inst a, b;
	uint8_t pattern[4096];
	uint64_t v;

	inst_new(&a, "edu");
	inst_new(&b, "edu");
	inst_ram(&a);
	inst_ram(&b);
	cfg_command(a.dev, CMD_MEMORY | CMD_MASTER);

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(pattern); i += 8) {
		memcpy(&v, pattern + i, 8);
		bar_write(a.dev, BAR0, 0x40000 + i, 8, v);
	}
	bar_write(a.dev, BAR0, 0x04, 4, 0x12345678);	   /* liveness */
	bar_write(a.dev, BAR0, 0x20, 4, 0x80);		   /* IRQ on factorial */
	bar_write(a.dev, BAR0, 0x08, 4, 10);		   /* 10! -> IRQ 0x1 pending */
	assert_int_equal(bar_read(a.dev, BAR0, 0x24, 4), 1);
	assert_true(cfg_intx_asserted(a.dev));
	/* a finished DMA: buffer[0x100..0x200) -> RAM, IRQ 0x100 */
	bar_write(a.dev, BAR0, 0x80, 8, 0x40100);
	bar_write(a.dev, BAR0, 0x88, 8, IOVA);
	bar_write(a.dev, BAR0, 0x90, 8, 0x100);
	bar_write(a.dev, BAR0, 0x98, 8, 0x1 | 0x2 | 0x4);
	run_events(&a);
	assert_int_equal(bar_read(a.dev, BAR0, 0x98, 8), 0x6);
	assert_memory_equal(a.ram, pattern + 0x100, 0x100);
	assert_int_equal(bar_read(a.dev, BAR0, 0x24, 4), 0x101);

	assert_int_equal(move(a.dev, b.dev), 0);

	assert_int_equal(bar_read(b.dev, BAR0, 0x04, 4), 0xedcba987); /* ~written */
	assert_int_equal(bar_read(b.dev, BAR0, 0x08, 4), 3628800);
	assert_int_equal(bar_read(b.dev, BAR0, 0x20, 4), 0x80);
	assert_int_equal(bar_read(b.dev, BAR0, 0x24, 4), 0x101); /* pending interrupts */
	assert_true(cfg_intx_asserted(b.dev));			 /* the line is up */
	assert_int_equal(bar_read(b.dev, BAR0, 0x80, 8), 0x40100);
	assert_int_equal(bar_read(b.dev, BAR0, 0x88, 8), IOVA);
	assert_int_equal(bar_read(b.dev, BAR0, 0x90, 8), 0x100);
	assert_int_equal(bar_read(b.dev, BAR0, 0x98, 8), 0x6);	 /* finished, no error */
	for (size_t i = 0; i < sizeof(pattern); i += 8) {
		memcpy(&v, pattern + i, 8);
		assert_int_equal(bar_read(b.dev, BAR0, 0x40000 + i, 8), v);
	}
	/* config space: decoding and bus mastering came along */
	assert_int_equal(cfg_read(b.dev, 0x04, 2) & 0x7, CMD_MEMORY | CMD_MASTER);
	assert_true(uvfio_device_bus_master(b.dev));
	/* the INTx line reaches the destination client's eventfd */
	{
		int fd = irq_eventfd(b.dev, VFIO_PCI_INTX_IRQ_INDEX);
		uint64_t cnt = 0;

		assert_int_equal(read(fd, &cnt, 8), 8);
		assert_true(cnt >= 1);
		close(fd);
	}
	inst_free(&a);
	inst_free(&b);
}

/* A DMA started but held back by STOP runs on the destination. */
static void test_edu_pending_dma_moves(void **state)
{
	struct inst a, b;

	inst_new(&a, "edu");
	inst_new(&b, "edu");
	inst_ram(&a);
	inst_ram(&b);
	cfg_command(a.dev, CMD_MEMORY | CMD_MASTER);
	bar_write(a.dev, BAR0, 0x40000, 8, 0x0102030405060708ull);
	bar_write(a.dev, BAR0, 0x80, 8, 0x40000);
	bar_write(a.dev, BAR0, 0x88, 8, IOVA + 0x1000);
	bar_write(a.dev, BAR0, 0x90, 8, 8);
	bar_write(a.dev, BAR0, 0x98, 8, 0x1 | 0x2);
	/* stop before the serve loop ran it: the source must not run it now */
	assert_int_equal(uvfio_device_mig_set_state(a.dev, UVFIO_MIG_STOP), 0);
	run_events(&a);
	assert_int_equal(bar_read(a.dev, BAR0, 0x98, 8), 0x3);
	assert_int_equal(move(a.dev, b.dev), 0);
	run_events(&b);
	assert_int_equal(bar_read(b.dev, BAR0, 0x98, 8), 0x2);
	assert_int_equal(b.ram[0x1000], 0x08);
	assert_int_equal(b.ram[0x1007], 0x01);
	assert_int_equal(a.ram[0x1000], 0); /* never on the source */
	inst_free(&a);
	inst_free(&b);
}

/* A failed migration leaves the source able to run again, its DMA too. */
static void test_edu_source_resumes(void **state)
{
	struct inst a;

	inst_new(&a, "edu");
	inst_ram(&a);
	cfg_command(a.dev, CMD_MEMORY | CMD_MASTER);
	bar_write(a.dev, BAR0, 0x40000, 8, 0xaa);
	bar_write(a.dev, BAR0, 0x80, 8, 0x40000);
	bar_write(a.dev, BAR0, 0x88, 8, IOVA);
	bar_write(a.dev, BAR0, 0x90, 8, 8);
	bar_write(a.dev, BAR0, 0x98, 8, 0x1 | 0x2);
	assert_int_equal(uvfio_device_mig_set_state(a.dev, UVFIO_MIG_STOP_COPY), 0);
	run_events(&a);
	assert_int_equal(a.ram[0], 0);
	assert_int_equal(uvfio_device_mig_set_state(a.dev, UVFIO_MIG_RUNNING), 0);
	run_events(&a);
	assert_int_equal(a.ram[0], 0xaa);
	inst_free(&a);
}

static void test_gpio_round_trip(void **state)
{
	struct inst a, b;

	inst_new(&a, "gpio");
	inst_new(&b, "gpio");
	cfg_command(a.dev, CMD_IO);
	cfg_command(b.dev, CMD_IO);
	bar_write(a.dev, 2, 0, 1, 0x5a);    /* outputs 0-7 */
	bar_write(a.dev, 2, 4, 1, 0xc3);    /* outputs 8-15 */
	(void)bar_read(a.dev, 2, 2, 1);	    /* enable IRQ */
	(void)bar_read(a.dev, 2, 3, 1);	    /* filters on */
	assert_int_equal(move(a.dev, b.dev), 0);
	assert_int_equal(bar_read(b.dev, 2, 0, 1), 0x5a);
	assert_int_equal(bar_read(b.dev, 2, 4, 1), 0xc3);
	assert_int_equal(bar_read(b.dev, 2, 6, 1), 0);
	assert_int_equal(cfg_read(b.dev, 0x04, 2) & 0x1, CMD_IO);
	inst_free(&a);
	inst_free(&b);
}

/* edu's stream into a gpio card: refused with EINVAL and a log line. */
static void test_incompatible(void **state)
{
	struct inst a, b;

	inst_new(&a, "edu");
	inst_new(&b, "gpio");
	cfg_command(b.dev, CMD_IO);
	bar_write(b.dev, 2, 0, 1, 0x11);
	logged[0] = '\0';
	uvfio_log_set_sink(sink, NULL);
	assert_int_equal(move(a.dev, b.dev), -EINVAL);
	uvfio_log_set_sink(NULL, NULL);
	assert_non_null(strstr(logged, "edu"));
	assert_non_null(strstr(logged, "gpio"));
	/* the destination is in ERROR until reset, its state untouched */
	assert_int_equal(uvfio_device_mig_state(b.dev), UVFIO_MIG_ERROR);
	assert_int_equal(bar_read(b.dev, 2, 0, 1), 0x11);
	assert_int_equal(uvfio_device_reset(b.dev), 0);
	assert_int_equal(uvfio_device_mig_state(b.dev), UVFIO_MIG_RUNNING);
	/* the source runs on */
	assert_int_equal(uvfio_device_mig_set_state(a.dev, UVFIO_MIG_RUNNING), 0);
	inst_free(&a);
	inst_free(&b);
}

/* A cut stream fails the load and leaves the destination's state alone. */
static void test_truncated_load(void **state)
{
	static uint8_t stream[64 * 1024];
	struct inst a, b;
	size_t total = 0;
	ssize_t n;

	inst_new(&a, "edu");
	inst_new(&b, "edu");
	bar_write(a.dev, BAR0, 0x04, 4, 1);
	bar_write(b.dev, BAR0, 0x04, 4, 2);
	assert_int_equal(uvfio_device_mig_set_state(a.dev, UVFIO_MIG_STOP_COPY), 0);
	while ((n = uvfio_device_mig_read(a.dev, stream + total, 4096)) > 0)
		total += (size_t)n;
	uvfio_log_set_sink(sink, NULL);
	for (size_t cut = 0; cut < total; cut += 97) {
		assert_int_equal(uvfio_device_mig_set_state(b.dev, UVFIO_MIG_RESUMING), 0);
		assert_int_equal(uvfio_device_mig_write(b.dev, stream, cut), 0);
		assert_int_equal(uvfio_device_mig_set_state(b.dev, UVFIO_MIG_STOP), -EINVAL);
		assert_int_equal(uvfio_device_reset(b.dev), 0);
		cfg_command(b.dev, CMD_MEMORY);
		bar_write(b.dev, BAR0, 0x04, 4, 2);
	}
	uvfio_log_set_sink(NULL, NULL);
	assert_int_equal(bar_read(b.dev, BAR0, 0x04, 4), ~2u);
	inst_free(&a);
	inst_free(&b);
}


/* testdev with a state region: pre-copy rounds carry only what was written. */
static ssize_t read_round(struct uvfio_device *d, uint8_t *buf, size_t cap)
{
	size_t total = 0;
	ssize_t n;

	/* a round ends with a short read */
	do {
		n = uvfio_device_mig_read(d, buf + total, 4096 < cap - total ? 4096 : cap - total);
		assert_true(n >= 0);
		total += (size_t)n;
	} while (n == 4096);
	return (ssize_t)total;
}

static void test_testdev_precopy(void **state)
{
	static uint8_t stream[4 << 20];
	struct uvfio_device *a = testdev_create_opts(1 << 20), *b = testdev_create_opts(1 << 20);
	uint8_t page[4096], got[4096];
	uint64_t ini = 0, dirty = 0, v = 0x1234, fv = 0xfeedull;
	struct {
		struct vfio_device_feature h;
		uint64_t v;
	} f = { .h = { .argsz = sizeof(f), .flags = VFIO_DEVICE_FEATURE_SET | TESTDEV_FEATURE },
		.v = 0 };
	size_t total = 0;
	ssize_t n;

	assert_non_null(a);
	assert_non_null(b);
	/* registered, so that unregister's release frees them */
	assert_int_equal(uvfio_device_register(a), 0);
	assert_int_equal(uvfio_device_register(b), 0);
	f.v = fv;
	assert_int_equal(uvfio_device_feature(a, &f, sizeof(f), NULL), 0);
	assert_int_equal(uvfio_device_write(a, 0, TESTDEV_REG_SCRATCH, &v, 8), 8);
	assert_int_equal(uvfio_device_mig_set_state(a, UVFIO_MIG_PRE_COPY), 0);
	assert_int_equal(uvfio_device_mig_precopy_info(a, &ini, &dirty), 0);
	assert_true(ini >= (1 << 20));
	assert_int_equal(dirty, 0);
	/* round 1: every page */
	n = read_round(a, stream, sizeof(stream));
	assert_true(n > (1 << 20));
	total += (size_t)n;
	assert_int_equal(uvfio_device_mig_precopy_info(a, &ini, &dirty), 0);
	assert_int_equal(ini, 0);
	assert_int_equal(dirty, 0);
	/* nothing written: an empty round (the kernel's ENOMSG) */
	assert_int_equal(uvfio_device_mig_read(a, stream + total, 4096), 0);
	/* the driver writes two pages; round 2 carries those two */
	memset(page, 0xab, sizeof(page));
	assert_int_equal(uvfio_device_write(a, TESTDEV_STATE_REGION, 5 * 4096, page, 4096), 4096);
	assert_int_equal(uvfio_device_write(a, TESTDEV_STATE_REGION, 200 * 4096 + 10, page, 4), 4);
	assert_int_equal(uvfio_device_mig_precopy_info(a, &ini, &dirty), 0);
	assert_int_equal(dirty, 2 * 4096);
	n = read_round(a, stream + total, sizeof(stream) - total);
	assert_int_equal(n, 2 * (8 + 8 + 4096));
	total += (size_t)n;
	/* stop: the tail (and a last page written before the stop) */
	assert_int_equal(uvfio_device_write(a, TESTDEV_STATE_REGION, 0, page, 1), 1);
	assert_int_equal(uvfio_device_mig_set_state(a, UVFIO_MIG_STOP_COPY), 0);
	assert_int_equal(uvfio_device_mig_precopy_info(a, &ini, &dirty), -EINVAL);
	while ((n = uvfio_device_mig_read(a, stream + total, 4096)) > 0)
		total += (size_t)n;
	assert_int_equal(n, 0);

	assert_int_equal(uvfio_device_mig_set_state(b, UVFIO_MIG_RESUMING), 0);
	assert_int_equal(uvfio_device_mig_write(b, stream, total), 0);
	assert_int_equal(uvfio_device_mig_set_state(b, UVFIO_MIG_STOP), 0);
	for (uint64_t off = 0; off < (1 << 20); off += 4096) {
		uint8_t want[4096];

		assert_int_equal(uvfio_device_read(a, TESTDEV_STATE_REGION, off, want, 4096), 4096);
		assert_int_equal(uvfio_device_read(b, TESTDEV_STATE_REGION, off, got, 4096), 4096);
		assert_memory_equal(want, got, 4096);
	}
	assert_int_equal(uvfio_device_read(b, 0, TESTDEV_REG_SCRATCH, &v, 8), 8);
	assert_int_equal(v, 0x1234);
	f.h.flags = VFIO_DEVICE_FEATURE_GET | TESTDEV_FEATURE;
	f.v = 0;
	assert_int_equal(uvfio_device_feature(b, &f, sizeof(f), NULL), 0);
	assert_int_equal(f.v, fv);

	/* cut short, or for another state size: refused */
	uvfio_log_set_sink(sink, NULL);
	for (size_t cut = 1; cut < total; cut += total / 7) {
		assert_int_equal(uvfio_device_reset(b), 0);
		assert_int_equal(uvfio_device_mig_set_state(b, UVFIO_MIG_RESUMING), 0);
		(void)uvfio_device_mig_write(b, stream, cut);
		assert_int_equal(uvfio_device_mig_set_state(b, UVFIO_MIG_STOP), -EINVAL);
	}
	{
		struct uvfio_device *c = testdev_create_opts(2 << 20);

		assert_int_equal(uvfio_device_register(c), 0);
		assert_int_equal(uvfio_device_mig_set_state(c, UVFIO_MIG_RESUMING), 0);
		assert_int_equal(uvfio_device_mig_write(c, stream, total), -EINVAL);
		assert_int_equal(uvfio_device_mig_set_state(c, UVFIO_MIG_STOP), -EINVAL);
		uvfio_device_unregister(c);
	}
	uvfio_log_set_sink(NULL, NULL);
	uvfio_device_unregister(a);
	uvfio_device_unregister(b);
}

/* MIG_DATA_SIZE: the estimate is the stream's length for a PCI function. */
static void test_data_size(void **state)
{
	static uint8_t stream[64 * 1024];
	struct {
		struct vfio_device_feature h;
		struct vfio_device_feature_mig_data_size d;
	} f = { .h = { .argsz = sizeof(f),
		       .flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE } };
	struct inst a;
	size_t total = 0;
	ssize_t n;

	inst_new(&a, "edu");
	assert_int_equal(uvfio_device_feature(a.dev, &f, sizeof(f), NULL), 0);
	assert_true(f.d.stop_copy_length > 4096);
	assert_int_equal(uvfio_device_mig_set_state(a.dev, UVFIO_MIG_STOP_COPY), 0);
	while ((n = uvfio_device_mig_read(a.dev, stream + total, 1000)) > 0)
		total += (size_t)n;
	assert_int_equal(total, f.d.stop_copy_length);
	assert_int_equal(uvfio_device_mig_set_state(a.dev, UVFIO_MIG_RUNNING), 0);
	inst_free(&a);
}

/*
 * Mutated streams (bytes flipped, cut, grown), fed in random pieces: every
 * load ends in 0 or -EINVAL, never in a crash (run under the sanitizers),
 * and a device that refused a stream is reset and takes the good one.
 */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static void mutate_into(struct uvfio_device *src, struct uvfio_device *dst, unsigned int rounds)
{
	static uint8_t good[256 * 1024], bad[256 * 1024 + 64];
	uint64_t seed = 0x5eed;
	size_t total = 0;
	ssize_t n;

	assert_int_equal(uvfio_device_mig_set_state(src, UVFIO_MIG_STOP_COPY), 0);
	while ((n = uvfio_device_mig_read(src, good + total, 4096)) > 0) {
		total += (size_t)n;
		assert_true(total <= sizeof(good) - 4096);
	}
	assert_int_equal(uvfio_device_mig_set_state(src, UVFIO_MIG_RUNNING), 0);
	uvfio_log_set_sink(sink, NULL);
	for (unsigned int r = 0; r < rounds; r++) {
		size_t len = total, off = 0;
		unsigned int flips = 1 + (unsigned int)(rng_next(&seed) % 4);
		int ret = 0;

		memcpy(bad, good, total);
		switch (rng_next(&seed) % 4) {
		case 0: /* cut */
			len = (size_t)(rng_next(&seed) % total);
			break;
		case 1: /* grown */
			len = total + 1 + (size_t)(rng_next(&seed) % 63);
			break;
		default:
			break;
		}
		for (unsigned int i = 0; i < flips && len; i++)
			bad[rng_next(&seed) % len] ^= (uint8_t)(1 + rng_next(&seed) % 255);
		assert_int_equal(uvfio_device_mig_set_state(dst, UVFIO_MIG_RESUMING), 0);
		while (off < len && !ret) {
			size_t k = 1 + (size_t)(rng_next(&seed) % 5000);

			if (k > len - off)
				k = len - off;
			ret = uvfio_device_mig_write(dst, bad + off, k);
			assert_true(ret == 0 || ret == -EINVAL);
			off += k;
		}
		ret = uvfio_device_mig_set_state(dst, UVFIO_MIG_STOP);
		assert_true(ret == 0 || ret == -EINVAL);
		if (ret)
			assert_int_equal(uvfio_device_reset(dst), 0);
		else
			assert_int_equal(uvfio_device_mig_set_state(dst, UVFIO_MIG_RUNNING), 0);
	}
	/* the good stream still loads */
	assert_int_equal(uvfio_device_mig_set_state(dst, UVFIO_MIG_RESUMING), 0);
	assert_int_equal(uvfio_device_mig_write(dst, good, total), 0);
	assert_int_equal(uvfio_device_mig_set_state(dst, UVFIO_MIG_STOP), 0);
	uvfio_log_set_sink(NULL, NULL);
}

static void test_mutated_streams(void **state)
{
	struct inst a, b;
	struct uvfio_device *ta = testdev_create_opts(64 << 10), *tb = testdev_create_opts(64 << 10);

	inst_new(&a, "edu");
	inst_new(&b, "edu");
	mutate_into(a.dev, b.dev, 1500);
	inst_free(&a);
	inst_free(&b);
	inst_new(&a, "gpio");
	inst_new(&b, "gpio");
	mutate_into(a.dev, b.dev, 1500);
	inst_free(&a);
	inst_free(&b);
	assert_int_equal(uvfio_device_register(ta), 0);
	assert_int_equal(uvfio_device_register(tb), 0);
	mutate_into(ta, tb, 1500);
	uvfio_device_unregister(ta);
	uvfio_device_unregister(tb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edu_round_trip),
		cmocka_unit_test(test_edu_pending_dma_moves),
		cmocka_unit_test(test_edu_source_resumes),
		cmocka_unit_test(test_gpio_round_trip),
		cmocka_unit_test(test_incompatible),
		cmocka_unit_test(test_truncated_load),
		cmocka_unit_test(test_testdev_precopy),
		cmocka_unit_test(test_data_size),
		cmocka_unit_test(test_mutated_streams),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
