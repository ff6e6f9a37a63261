/* SPDX-License-Identifier: MIT */
/*
 * The edu sample through the core API, as a guest driver would use it:
 * config space (region 7), BAR0 registers, interrupts on real eventfds and
 * DMA into memory of a uvfio_dma space.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include <uvfio/device.h>
#include <uvfio/dma.h>
#include <uvfio/log.h>

#include "devices/registry.h"
#include "devices/tests/pci_guest.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define IOVA 0x10000000ull  /* where the test's RAM sits in the DMA space */
#define RAM_SIZE (64 * 1024)
#define BUF 0x40000ull
#define BUF_SIZE 4096u
#define DMA_ERROR 0x80000000ull

struct edu_fixture {
	const struct uvfio_sample *sample;
	struct uvfio_sample_dev sd;
	struct uvfio_device *dev;
	struct uvfio_dma *dma;
	uint8_t *ram;
};

static int setup(void **state)
{
	static char *argv[] = { "edu", NULL };
	struct edu_fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->sample = uvfio_sample_find("edu");
	assert_non_null(f->sample);
	assert_int_equal(f->sample->create(1, argv, &f->sd), 0);
	f->dev = f->sd.dev;
	assert_int_equal(uvfio_device_open(f->dev), 0);
	/* What a guest does before touching BAR0. */
	cfg_command(f->dev, CMD_MEMORY);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct edu_fixture *f = *state;

	uvfio_device_set_dma(f->dev, NULL);
	uvfio_device_close(f->dev);
	f->sample->destroy(f->sd.priv);
	if (f->dma)
		uvfio_dma_destroy(f->dma);
	free(f->ram);
	free(f);
	return 0;
}

/* Gives the device RAM_SIZE bytes of test memory at IOVA (vaddr window). */
static void give_ram(struct edu_fixture *f)
{
	struct uvfio_dma_map_args m = {
		.iova = IOVA,
		.size = RAM_SIZE,
		.prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE,
		.fd = -1,
	};

	f->ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(f->ram);
	memset(f->ram, 0, RAM_SIZE);
	m.vaddr = f->ram;
	f->dma = uvfio_dma_create(NULL);
	assert_non_null(f->dma);
	assert_int_equal(uvfio_dma_map(f->dma, &m), 0);
	uvfio_device_set_dma(f->dev, f->dma);
}

/* Runs what the serve loop runs when the sample's event fd is readable. */
static void run_events(struct edu_fixture *f)
{
	struct pollfd p = { .fd = f->sample->event_fd(f->sd.priv), .events = POLLIN };

	assert_true(p.fd >= 0);
	while (poll(&p, 1, 0) == 1)
		assert_int_equal(f->sample->handle_event(f->sd.priv), 0);
}

/* Programs and starts a transfer as a driver does, lets it run, and returns
 * the command register when done. */
static uint64_t dma(struct edu_fixture *f, uint64_t src, uint64_t dst,
		    uint64_t count, uint64_t cmd)
{
	struct uvfio_device *dev = f->dev;

	bar_write(dev, BAR0, 0x80, 8, src);
	bar_write(dev, BAR0, 0x88, 8, dst);
	bar_write(dev, BAR0, 0x90, 8, count);
	bar_write(dev, BAR0, 0x98, 8, cmd);
	/* Running until the serve loop gets to it. */
	assert_int_equal(bar_read(dev, BAR0, 0x98, 8), cmd & 0x7);
	run_events(f);
	return bar_read(dev, BAR0, 0x98, 8);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

/* ---- identity ----------------------------------------------------------- */

static void test_pci_identity(void **state)
{
	struct edu_fixture *f = *state;
	const struct uvfio_region *r0 = uvfio_device_region(f->dev, BAR0);

	assert_int_equal(cfg_read(f->dev, 0x00, 2), 0x1234);
	assert_int_equal(cfg_read(f->dev, 0x02, 2), 0x11e8);
	assert_int_equal(cfg_read(f->dev, 0x08, 1), 0x10);		/* revision */
	assert_int_equal(cfg_read(f->dev, 0x09, 3), 0x00ff00);	/* class */
	assert_int_equal(cfg_read(f->dev, 0x3d, 1), 1);		/* INTA */
	assert_int_not_equal(cfg_find_cap(f->dev, 0x05), 0);	/* MSI */
	assert_non_null(r0);
	assert_int_equal(r0->size, 1 << 20);
	/* 32-bit non-prefetchable memory BAR: type bits 0. */
	assert_int_equal(cfg_read(f->dev, 0x10, 4) & 0xf, 0);
}

static void test_id_and_liveness(void **state)
{
	struct edu_fixture *f = *state;

	assert_int_equal(bar_read(f->dev, BAR0, 0x00, 4), 0x010000ed);
	bar_write(f->dev, BAR0, 0x00, 4, 0x12345678); /* RO */
	assert_int_equal(bar_read(f->dev, BAR0, 0x00, 4), 0x010000ed);

	bar_write(f->dev, BAR0, 0x04, 4, 0x12345678);
	assert_int_equal(bar_read(f->dev, BAR0, 0x04, 4), 0xedcba987);
	bar_write(f->dev, BAR0, 0x04, 4, 0);
	assert_int_equal(bar_read(f->dev, BAR0, 0x04, 4), 0xffffffff);
}

static void test_access_sizes(void **state)
{
	struct edu_fixture *f = *state;

	/* Below 0x80 only 4-byte accesses: others read all-ones, writes drop. */
	assert_int_equal(bar_read(f->dev, BAR0, 0x00, 2), 0xffff);
	assert_int_equal(bar_read(f->dev, BAR0, 0x00, 8), ~0ull);
	bar_write(f->dev, BAR0, 0x04, 4, 1);
	bar_write(f->dev, BAR0, 0x04, 2, 0x5555);
	assert_int_equal(bar_read(f->dev, BAR0, 0x04, 4), 0xfffffffe);
	/* Unassigned offsets read all-ones. */
	assert_int_equal(bar_read(f->dev, BAR0, 0x10, 4), 0xffffffff);
	assert_int_equal(bar_read(f->dev, BAR0, 0x1000, 4), 0xffffffff);
	/* 64-bit DMA registers: 8 bytes, or 4 bytes at either half. */
	bar_write(f->dev, BAR0, 0x80, 8, 0x1122334455667788ull);
	assert_int_equal(bar_read(f->dev, BAR0, 0x80, 8), 0x1122334455667788ull);
	assert_int_equal(bar_read(f->dev, BAR0, 0x80, 4), 0x55667788);
	assert_int_equal(bar_read(f->dev, BAR0, 0x84, 4), 0x11223344);
	/* A low-half write zero-extends, as QEMU's edu ... */
	bar_write(f->dev, BAR0, 0x80, 4, 0xaabbccdd);
	assert_int_equal(bar_read(f->dev, BAR0, 0x80, 8), 0xaabbccddull);
	/* ... and the high half follows it (a split 8-byte write). */
	bar_write(f->dev, BAR0, 0x84, 4, 0x1);
	assert_int_equal(bar_read(f->dev, BAR0, 0x80, 8), 0x1aabbccddull);
}

/* ---- factorial ---------------------------------------------------------- */

static uint32_t fact(uint32_t n)
{
	uint32_t r = 1;

	while (n > 1)
		r *= n--;
	return r;
}

static void test_factorial(void **state)
{
	struct edu_fixture *f = *state;
	static const struct {
		uint32_t n, r;
	} known[] = {
		{ 0, 1 }, { 1, 1 }, { 5, 120 }, { 12, 479001600 },
		{ 13, 1932053504 }, /* 6227020800 mod 2^32 */
		{ 34, 0 }, { 0xffffffff, 0 },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		bar_write(f->dev, BAR0, 0x08, 4, known[i].n);
		assert_int_equal(bar_read(f->dev, BAR0, 0x20, 4) & 1, 0);
		assert_int_equal(bar_read(f->dev, BAR0, 0x08, 4), known[i].r);
	}
	/* Every value up to the point where 2^32 divides n!. */
	for (uint32_t n = 0; n < 40; n++) {
		bar_write(f->dev, BAR0, 0x08, 4, n);
		assert_int_equal(bar_read(f->dev, BAR0, 0x08, 4), fact(n));
	}
}

static void test_status_bits(void **state)
{
	struct edu_fixture *f = *state;

	assert_int_equal(bar_read(f->dev, BAR0, 0x20, 4), 0);
	bar_write(f->dev, BAR0, 0x20, 4, 0xffffffff); /* only bit 7 sticks */
	assert_int_equal(bar_read(f->dev, BAR0, 0x20, 4), 0x80);
	bar_write(f->dev, BAR0, 0x20, 4, 0);
	assert_int_equal(bar_read(f->dev, BAR0, 0x20, 4), 0);
}

/* ---- interrupts --------------------------------------------------------- */

static void test_intx(void **state)
{
	struct edu_fixture *f = *state;
	int fd = irq_eventfd(f->dev, VFIO_PCI_INTX_IRQ_INDEX);

	assert_int_equal(irq_fired(fd), 0);
	bar_write(f->dev, BAR0, 0x60, 4, 0x5);
	assert_int_equal(irq_fired(fd), 1);
	assert_int_equal(bar_read(f->dev, BAR0, 0x24, 4), 0x5);
	assert_true(cfg_intx_asserted(f->dev));

	/* The level stays up until every bit is acknowledged. */
	bar_write(f->dev, BAR0, 0x64, 4, 0x4);
	assert_int_equal(bar_read(f->dev, BAR0, 0x24, 4), 0x1);
	assert_true(cfg_intx_asserted(f->dev));
	bar_write(f->dev, BAR0, 0x64, 4, 0x1);
	assert_int_equal(bar_read(f->dev, BAR0, 0x24, 4), 0);
	assert_false(cfg_intx_asserted(f->dev));
	irq_unmask(f->dev, VFIO_PCI_INTX_IRQ_INDEX);
	assert_int_equal(irq_fired(fd), 0);

	/* Factorial with IRQ-on-completion raises 0x1. */
	bar_write(f->dev, BAR0, 0x20, 4, 0x80);
	bar_write(f->dev, BAR0, 0x08, 4, 5);
	assert_int_equal(irq_fired(fd), 1);
	assert_int_equal(bar_read(f->dev, BAR0, 0x24, 4), 0x1);
	assert_int_equal(bar_read(f->dev, BAR0, 0x08, 4), 120);
	bar_write(f->dev, BAR0, 0x64, 4, 0x1);
	assert_false(cfg_intx_asserted(f->dev));
	irq_unmask(f->dev, VFIO_PCI_INTX_IRQ_INDEX);

	/* Without bit 7, a factorial raises nothing. */
	bar_write(f->dev, BAR0, 0x20, 4, 0);
	bar_write(f->dev, BAR0, 0x08, 4, 6);
	assert_int_equal(irq_fired(fd), 0);
	assert_int_equal(bar_read(f->dev, BAR0, 0x24, 4), 0);
	close(fd);
}

static void test_msi(void **state)
{
	struct edu_fixture *f = *state;
	uint8_t cap = cfg_find_cap(f->dev, 0x05);
	uint16_t flags;
	int fd;

	assert_int_not_equal(cap, 0);
	flags = (uint16_t)cfg_read(f->dev, cap + 2, 2);
	assert_true(flags & 0x80);		/* 64-bit address */
	assert_int_equal((flags >> 1) & 7, 0);	/* one vector */
	/* The guest programs the message and enables MSI; QEMU then wires an
	 * eventfd to MSI vector 0. */
	cfg_write(f->dev, cap + 4, 4, 0xfee00000);
	cfg_write(f->dev, cap + 8, 4, 0);
	cfg_write(f->dev, cap + 12, 2, 0x4021);
	cfg_write(f->dev, cap + 2, 2, flags | 1);
	cfg_command(f->dev, CMD_MEMORY | 0x400); /* INTx disabled, as Linux does */
	fd = irq_eventfd(f->dev, VFIO_PCI_MSI_IRQ_INDEX);

	bar_write(f->dev, BAR0, 0x60, 4, 0x1000);
	assert_int_equal(irq_fired(fd), 1);
	assert_int_equal(bar_read(f->dev, BAR0, 0x24, 4), 0x1000);
	bar_write(f->dev, BAR0, 0x64, 4, 0x1000);
	assert_int_equal(bar_read(f->dev, BAR0, 0x24, 4), 0);

	/* MSI is an edge: each completion is a message, no unmask needed. */
	bar_write(f->dev, BAR0, 0x20, 4, 0x80);
	bar_write(f->dev, BAR0, 0x08, 4, 3);
	bar_write(f->dev, BAR0, 0x64, 4, 0x1);
	bar_write(f->dev, BAR0, 0x08, 4, 4);
	assert_int_equal(irq_fired(fd), 2);
	close(fd);
}

/* ---- DMA ---------------------------------------------------------------- */

static void read_buf(struct uvfio_device *dev, uint8_t *out)
{
	assert_int_equal(uvfio_device_read(dev, BAR0, BUF, out, BUF_SIZE), BUF_SIZE);
}

static void test_dma_both_directions_full_buffer(void **state)
{
	struct edu_fixture *f = *state;
	uint8_t want[BUF_SIZE], got[BUF_SIZE];

	give_ram(f);
	cfg_command(f->dev, CMD_MEMORY | CMD_MASTER);

	/* RAM -> buffer, the whole 4 KiB: ends exactly at 0x41000. */
	fill(f->ram, BUF_SIZE, 3);
	assert_int_equal(dma(f, IOVA, BUF, BUF_SIZE, 0x1), 0);
	read_buf(f->dev, got);
	assert_memory_equal(got, f->ram, BUF_SIZE);

	/* Buffer (written by the client) -> RAM, again the whole 4 KiB. */
	fill(want, BUF_SIZE, 99);
	assert_int_equal(uvfio_device_write(f->dev, BAR0, BUF, want, BUF_SIZE), BUF_SIZE);
	assert_int_equal(dma(f, BUF, IOVA + 0x8000, BUF_SIZE, 0x3), 0x2);
	assert_memory_equal(f->ram + 0x8000, want, BUF_SIZE);

	/* A piece in the middle of both sides. */
	memset(f->ram + 0x100, 0, 0x40);
	assert_int_equal(dma(f, BUF + 0x7c0, IOVA + 0x100, 0x40, 0x3), 0x2);
	assert_memory_equal(f->ram + 0x100, want + 0x7c0, 0x40);
	/* The last 16 bytes of the buffer. */
	assert_int_equal(dma(f, IOVA + 0x8000, BUF + 0xff0, 0x10, 0x1), 0);
}

static void test_dma_irq(void **state)
{
	struct edu_fixture *f = *state;
	int fd;

	give_ram(f);
	cfg_command(f->dev, CMD_MEMORY | CMD_MASTER);
	fd = irq_eventfd(f->dev, VFIO_PCI_INTX_IRQ_INDEX);
	assert_int_equal(dma(f, IOVA, BUF, 64, 0x5), 0x4);
	assert_int_equal(irq_fired(fd), 1);
	assert_int_equal(bar_read(f->dev, BAR0, 0x24, 4), 0x100);
	close(fd);
}

static void test_dma_out_of_range(void **state)
{
	struct edu_fixture *f = *state;
	static const struct {
		uint64_t dev_addr, count;
	} bad[] = {
		{ BUF - 1, 16 },		/* starts before the buffer */
		{ BUF + 0xff0, 0x11 },		/* ends one past 0x41000 */
		{ BUF + BUF_SIZE, 1 },		/* starts at the end */
		{ BUF, BUF_SIZE + 1 },
		{ BUF, ~0ull },			/* wraps */
		{ 0, 16 },
	};
	uint8_t before[BUF_SIZE], after[BUF_SIZE];
	int fd;

	give_ram(f);
	cfg_command(f->dev, CMD_MEMORY | CMD_MASTER);
	fill(f->ram, 2 * BUF_SIZE, 5);
	read_buf(f->dev, before);
	fd = irq_eventfd(f->dev, VFIO_PCI_INTX_IRQ_INDEX);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* RAM -> device and device -> RAM, both refused. */
		assert_int_equal(dma(f, IOVA, bad[i].dev_addr, bad[i].count, 0x1),
				 DMA_ERROR);
		assert_int_equal(dma(f, bad[i].dev_addr, IOVA, bad[i].count, 0x3),
				 DMA_ERROR | 0x2);
	}
	read_buf(f->dev, after);
	assert_memory_equal(before, after, BUF_SIZE);

	/* The completion IRQ still comes, so a waiting driver wakes up. */
	assert_int_equal(dma(f, IOVA, BUF - 1, 16, 0x5), DMA_ERROR | 0x4);
	assert_int_equal(irq_fired(fd), 1);
	/* A good transfer clears the error bit. */
	assert_int_equal(dma(f, IOVA, BUF, 16, 0x1), 0);
	close(fd);
}

static void test_dma_bus_master_off(void **state)
{
	struct edu_fixture *f = *state;
	uint8_t got[BUF_SIZE];

	give_ram(f);
	fill(f->ram, BUF_SIZE, 1);
	cfg_command(f->dev, CMD_MEMORY); /* no bus master */
	assert_int_equal(dma(f, IOVA, BUF, 256, 0x1), DMA_ERROR);
	read_buf(f->dev, got);
	assert_int_equal(got[0], 0); /* nothing was read */
	assert_int_equal(dma(f, BUF, IOVA, 256, 0x3), DMA_ERROR | 0x2);
	assert_int_equal(f->ram[0], 1); /* nothing was written */

	cfg_command(f->dev, CMD_MEMORY | CMD_MASTER);
	assert_int_equal(dma(f, IOVA, BUF, 256, 0x1), 0);
	read_buf(f->dev, got);
	assert_memory_equal(got, f->ram, 256);
}

static void test_dma_unmapped_and_no_space(void **state)
{
	struct edu_fixture *f = *state;

	cfg_command(f->dev, CMD_MEMORY | CMD_MASTER);
	/* No DMA space at all (no client). */
	assert_int_equal(dma(f, IOVA, BUF, 16, 0x1), DMA_ERROR);
	give_ram(f);
	/* Outside the window, and running off its end. */
	assert_int_equal(dma(f, 0xdead0000, BUF, 16, 0x1), DMA_ERROR);
	assert_int_equal(dma(f, BUF, IOVA + RAM_SIZE - 8, 16, 0x3),
			 DMA_ERROR | 0x2);
	assert_int_equal(dma(f, BUF, IOVA + RAM_SIZE - 16, 16, 0x3), 0x2);
}

/* While a transfer waits to run, its registers are frozen (as on QEMU); a
 * reset cancels it. */
static void test_dma_pending(void **state)
{
	struct edu_fixture *f = *state;
	uint8_t got[16];

	give_ram(f);
	cfg_command(f->dev, CMD_MEMORY | CMD_MASTER);
	fill(f->ram, 64, 9);
	run_events(f); /* nothing pending: harmless */
	bar_write(f->dev, BAR0, 0x80, 8, IOVA);
	bar_write(f->dev, BAR0, 0x88, 8, BUF);
	bar_write(f->dev, BAR0, 0x90, 8, 16);
	bar_write(f->dev, BAR0, 0x98, 4, 0x1);
	assert_int_equal(bar_read(f->dev, BAR0, 0x98, 4), 0x1);
	bar_write(f->dev, BAR0, 0x80, 8, IOVA + 32);
	bar_write(f->dev, BAR0, 0x90, 4, 4096);
	bar_write(f->dev, BAR0, 0x98, 4, 0x3);
	assert_int_equal(bar_read(f->dev, BAR0, 0x80, 8), IOVA);
	assert_int_equal(bar_read(f->dev, BAR0, 0x90, 8), 16);
	assert_int_equal(bar_read(f->dev, BAR0, 0x98, 4), 0x1);
	run_events(f);
	assert_int_equal(bar_read(f->dev, BAR0, 0x98, 4), 0);
	assert_int_equal(uvfio_device_read(f->dev, BAR0, BUF, got, 16), 16);
	assert_memory_equal(got, f->ram, 16);

	/* Reset between the start and the serve loop: nothing happens. */
	assert_int_equal(dma(f, IOVA, BUF, 0, 0x1), 0);
	bar_write(f->dev, BAR0, 0x80, 8, IOVA + 16);
	bar_write(f->dev, BAR0, 0x88, 8, BUF + 16);
	bar_write(f->dev, BAR0, 0x90, 8, 16);
	bar_write(f->dev, BAR0, 0x98, 4, 0x5);
	assert_int_equal(uvfio_device_reset(f->dev), 0);
	cfg_command(f->dev, CMD_MEMORY | CMD_MASTER);
	run_events(f);
	assert_int_equal(bar_read(f->dev, BAR0, 0x98, 4), 0);
	assert_int_equal(bar_read(f->dev, BAR0, 0x24, 4), 0);
	assert_int_equal(uvfio_device_read(f->dev, BAR0, BUF + 16, got, 16), 16);
	for (size_t i = 0; i < sizeof(got); i++)
		assert_int_equal(got[i], 0);
}

/* A memfd-backed window: the device writes straight into shared memory. */
static void test_dma_memfd_window(void **state)
{
	struct edu_fixture *f = *state;
	struct uvfio_dma_map_args m = {
		.iova = IOVA,
		.size = RAM_SIZE,
		.prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE,
	};
	uint8_t want[BUF_SIZE];
	uint8_t *view;
	int fd = memfd_create("edu-test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, RAM_SIZE), 0);
	view = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(view != MAP_FAILED);
	m.fd = dup(fd);
	f->dma = uvfio_dma_create(NULL);
	assert_non_null(f->dma);
	assert_int_equal(uvfio_dma_map(f->dma, &m), 0);
	uvfio_device_set_dma(f->dev, f->dma);
	cfg_command(f->dev, CMD_MEMORY | CMD_MASTER);

	fill(want, BUF_SIZE, 42);
	assert_int_equal(uvfio_device_write(f->dev, BAR0, BUF, want, BUF_SIZE), BUF_SIZE);
	assert_int_equal(dma(f, BUF, IOVA + 0x1000, BUF_SIZE, 0x3), 0x2);
	assert_memory_equal(view + 0x1000, want, BUF_SIZE);

	munmap(view, RAM_SIZE);
	close(fd);
}

static void test_reset(void **state)
{
	struct edu_fixture *f = *state;
	uint8_t got[16];

	bar_write(f->dev, BAR0, 0x04, 4, 7);
	bar_write(f->dev, BAR0, 0x20, 4, 0x80);
	bar_write(f->dev, BAR0, BUF, 4, 0xdeadbeef);
	assert_int_equal(uvfio_device_reset(f->dev), 0);
	cfg_command(f->dev, CMD_MEMORY); /* reset turned decode off */
	assert_int_equal(bar_read(f->dev, BAR0, 0x04, 4), 0);
	assert_int_equal(bar_read(f->dev, BAR0, 0x20, 4), 0);
	assert_int_equal(uvfio_device_read(f->dev, BAR0, BUF, got, sizeof(got)),
			 sizeof(got));
	for (size_t i = 0; i < sizeof(got); i++)
		assert_int_equal(got[i], 0);
}

static void test_bad_options(void **state)
{
	static char *argv[] = { "edu", "--bogus", NULL };
	const struct uvfio_sample *s = uvfio_sample_find("edu");
	struct uvfio_sample_dev sd = { 0 };

	(void)state;
	assert_int_equal(s->create(2, argv, &sd), -EINVAL);
	assert_null(sd.dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pci_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_and_liveness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_factorial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_both_directions_full_buffer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_irq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_bus_master_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_unmapped_and_no_space, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dma_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_memfd_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test(test_bad_options),
	};

	/* Expected failures (bad DMA) log warnings; keep the output quiet. */
	uvfio_log_set_level(UVFIO_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
