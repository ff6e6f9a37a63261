/* SPDX-License-Identifier: MIT */
/*
 * Guest checks of an edu device (QEMU's edu register layout) as the guest's
 * kernel sees it: enumeration, BAR0 registers, factorial, DMA to and from
 * guest RAM, and an INTx interrupt counted through uio_pci_generic.
 *
 *   edu [--no-bar-buffer]
 *
 * --no-bar-buffer: the device does not expose its DMA buffer in BAR0 (QEMU's
 * own edu); the DMA check then compares only the round trip through RAM.
 */
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "common.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_ID 0x00
#define EDU_LIVENESS 0x04
#define EDU_FACT 0x08
#define EDU_STATUS 0x20
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_START 0x1
#define EDU_DMA_TO_RAM 0x2
#define EDU_BUF 0x40000
/* The address registers are written 32 bits wide. (QEMU's edu also masks DMA
 * addresses to 28 bits unless dma_mask is set: the reference run sets it.) */
#define EDU_DMA_32 (1ull << 32)
#define PAGE 4096

static volatile uint32_t *bar;
static char dev[300];

static uint32_t rd(unsigned off)
{
	return bar[off / 4];
}

static void wr(unsigned off, uint32_t v)
{
	bar[off / 4] = v;
}

/* Polls until (reg & mask) == 0; returns elapsed ms or -1 on timeout. */
static double wait_clear(unsigned reg, uint32_t mask, double timeout_ms)
{
	double t0 = now_ms();

	while (rd(reg) & mask) {
		if (now_ms() - t0 > timeout_ms)
			return -1;
		usleep(100);
	}
	return now_ms() - t0;
}

static int check_enumerate(void)
{
	unsigned long cls;

	if (find_pci(EDU_VENDOR, EDU_DEVICE, dev, sizeof(dev))) {
		check("edu-enumerate", 0, "no PCI device %04x:%04x in /sys/bus/pci/devices",
		      EDU_VENDOR, EDU_DEVICE);
		return -1;
	}
	cls = read_hex(dev, "class");
	check("edu-enumerate", cls == 0x00ff00, "%s vendor 0x%04x device 0x%04x class 0x%06lx",
	      strrchr(dev, '/') + 1, EDU_VENDOR, EDU_DEVICE, cls);
	return 0;
}

static int map_bar0(void)
{
	char path[400];
	struct stat st;
	void *p;
	int fd;

	snprintf(path, sizeof(path), "%s/enable", dev);
	if (write_str(path, "1")) {
		check("edu-bar0-id", 0, "cannot enable %s: %s", dev, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/resource0", dev);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0 || fstat(fd, &st)) {
		check("edu-bar0-id", 0, "open %s: %s", path, strerror(errno));
		return -1;
	}
	p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		check("edu-bar0-id", 0, "mmap %s: %s", path, strerror(errno));
		return -1;
	}
	bar = p;
	check("edu-bar0-id", rd(EDU_ID) == 0x010000ed, "BAR0 %lld KiB, id 0x%08x (want 0x010000ed)",
	      (long long)st.st_size / 1024, rd(EDU_ID));
	return 0;
}

static void check_liveness(void)
{
	const uint32_t v[] = { 0x12345678, 0, 0xdeadbeef };
	int ok = 1;

	for (unsigned i = 0; i < 3; i++) {
		wr(EDU_LIVENESS, v[i]);
		if (rd(EDU_LIVENESS) != ~v[i]) {
			check("edu-liveness", 0, "wrote 0x%08x read 0x%08x", v[i], rd(EDU_LIVENESS));
			return;
		}
	}
	check("edu-liveness", ok, "3 values read back inverted");
}

static void check_factorial(void)
{
	double ms;
	uint32_t r;

	wr(EDU_FACT, 10);
	ms = wait_clear(EDU_STATUS, 1, 5000);
	r = rd(EDU_FACT);
	check("edu-factorial", ms >= 0 && r == 3628800, "10! = %u (want 3628800), status cleared after %.1f ms",
	      r, ms);
}

static uint64_t phys_of(void *va)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;

	if (fd < 0)
		return 0;
	if (pread(fd, &e, 8, (uintptr_t)va / PAGE * 8) != 8)
		e = 0;
	close(fd);
	if (!(e & (1ull << 63)))
		return 0;
	return (e & ((1ull << 55) - 1)) * PAGE;
}

/* Two locked pages (src and dst) below limit, reachable by the 32-bit DMA registers. */
static int dma_pages(uint8_t **pages, uint64_t *phys, uint64_t limit)
{
	uint8_t *area = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (area == MAP_FAILED || mlock(area, 2 * PAGE))
		return -errno;
	for (int n = 0; n < 2; n++) {
		pages[n] = area + n * PAGE;
		phys[n] = phys_of(pages[n]);
		if (!phys[n] || phys[n] + PAGE > limit)
			return -ENOMEM;
	}
	return 0;
}

static int edu_dma(uint64_t src, uint64_t dst, uint32_t cnt, uint32_t cmd, double *ms)
{
	wr(EDU_DMA_SRC, (uint32_t)src);
	wr(EDU_DMA_DST, (uint32_t)dst);
	wr(EDU_DMA_CNT, cnt);
	wr(EDU_DMA_CMD, cmd | EDU_DMA_START);
	*ms = wait_clear(EDU_DMA_CMD, EDU_DMA_START, 5000);
	return *ms < 0 ? -ETIMEDOUT : 0;
}

/* COMMAND register through sysfs config: set and clear bits. */
static int pci_command(uint16_t set, uint16_t clear)
{
	char path[400];
	uint16_t cmd;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/config", dev);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return -errno;
	if (pread(fd, &cmd, 2, 4) != 2)
		ret = -EIO;
	cmd = (cmd | set) & ~clear;
	if (!ret && pwrite(fd, &cmd, 2, 4) != 2)
		ret = -EIO;
	close(fd);
	return ret;
}

/* The DMA pages, shared with the interrupt checks (a DMA that raises one). */
static uint8_t *pg[2];
static uint64_t pa[2];

/* A partial transfer at odd offsets both ways; returns the differing bytes or -1. */
static int dma_partial(void)
{
	const unsigned len = 300, src_off = 0x123, dev_off = 0x801, dst_off = 0x456;
	double ms;
	int bad = 0;

	memset(pg[1], 0, PAGE);
	if (edu_dma(pa[0] + src_off, EDU_BUF + dev_off, len, 0, &ms) ||
	    edu_dma(EDU_BUF + dev_off, pa[1] + dst_off, len, EDU_DMA_TO_RAM, &ms))
		return -1;
	for (unsigned i = 0; i < PAGE; i++) {
		int in = i >= dst_off && i < dst_off + len;

		bad += pg[1][i] != (in ? pg[0][src_off + i - dst_off] : 0);
	}
	return bad;
}

static void check_dma(int bar_buffer)
{
	double ms1, ms2;
	int bad = 0, barbad = 0, pbad;

	if (dma_pages(pg, pa, EDU_DMA_32)) {
		check("edu-dma", 0, "no two locked pages below 4 GiB (through /proc/self/pagemap)");
		return;
	}
	if (pci_command(0x4, 0)) {
		check("edu-dma", 0, "set COMMAND bus master: %s", strerror(errno));
		return;
	}

	for (int i = 0; i < PAGE; i++) {
		pg[0][i] = (uint8_t)(i * 7 + 3 + (i >> 8));
		pg[1][i] = 0;
	}
	if (edu_dma(pa[0], EDU_BUF, PAGE, 0, &ms1)) {
		check("edu-dma", 0, "RAM 0x%llx -> device: DMA did not complete in 5 s",
		      (unsigned long long)pa[0]);
		return;
	}
	if (bar_buffer)
		for (int i = 0; i < PAGE / 4; i++)
			if (rd(EDU_BUF + 4 * i) != ((uint32_t *)pg[0])[i])
				barbad++;
	if (edu_dma(EDU_BUF, pa[1], PAGE, EDU_DMA_TO_RAM, &ms2)) {
		check("edu-dma", 0, "device -> RAM 0x%llx: DMA did not complete in 5 s",
		      (unsigned long long)pa[1]);
		return;
	}
	for (int i = 0; i < PAGE; i++)
		bad += pg[0][i] != pg[1][i];
	check("edu-dma", !bad && !barbad,
	      "4096 B RAM 0x%llx -> dev (%.1f ms)%s -> RAM 0x%llx (%.1f ms): %d bytes differ",
	      (unsigned long long)pa[0], ms1,
	      bar_buffer ? (barbad ? ", BAR0 buffer WRONG" : ", BAR0 buffer ok") : "",
	      (unsigned long long)pa[1], ms2, bad);
	pbad = dma_partial();
	check("edu-dma-partial", pbad == 0,
	      "300 B RAM +0x123 -> dev 0x40801 -> RAM +0x456: %s",
	      pbad < 0 ? "DMA did not complete in 5 s" : pbad ? "bytes differ" : "exact, rest of page untouched");
}

/*
 * INTx through uio_pci_generic: its handler masks INTx (COMMAND.INTX_DISABLE)
 * when the status register shows the interrupt; userspace unmasks by clearing
 * the bit in config space (as DPDK does). MSI would need VFIO noiommu, which
 * Debian kernels lack.
 */
static int uio_fd = -1;

static int uio_open(void)
{
	double t0;

	if (write_str("/sys/bus/pci/drivers/uio_pci_generic/new_id", "1234 11e8")) {
		check("edu-irq", 0, "bind uio_pci_generic (new_id): %s", strerror(errno));
		return -1;
	}
	t0 = now_ms();
	while ((uio_fd = open("/dev/uio0", O_RDONLY)) < 0 && now_ms() - t0 < 3000)
		usleep(10000);
	if (uio_fd < 0) {
		check("edu-irq", 0, "/dev/uio0 did not appear: %s", strerror(errno));
		return -1;
	}
	return 0;
}

enum trigger { RAISE, FACTORIAL, DMA_DONE };

/* Unmasks INTx, makes the device interrupt, waits for it: the uio count, or 0. */
static uint32_t irq_round(const char *name, enum trigger how, uint32_t want)
{
	struct pollfd pfd = { .fd = uio_fd, .events = POLLIN };
	uint32_t count = 0, st;

	if (pci_command(0, 0x400)) { /* unmask INTx */
		check(name, 0, "clear INTX_DISABLE: %s", strerror(errno));
		return 0;
	}
	switch (how) {
	case RAISE:
		wr(EDU_IRQ_RAISE, want);
		break;
	case FACTORIAL:
		wr(EDU_STATUS, 0x80); /* raise an interrupt when done */
		wr(EDU_FACT, 5);
		break;
	case DMA_DONE:
		wr(EDU_DMA_SRC, (uint32_t)pa[0]);
		wr(EDU_DMA_DST, EDU_BUF);
		wr(EDU_DMA_CNT, 64);
		wr(EDU_DMA_CMD, EDU_DMA_START | 0x4); /* interrupt when done */
		break;
	}
	if (poll(&pfd, 1, 5000) != 1 || read(uio_fd, &count, 4) != 4) {
		check(name, 0, "no interrupt in 5 s (irq status 0x%x)", rd(EDU_IRQ_STATUS));
		return 0;
	}
	st = rd(EDU_IRQ_STATUS);
	wr(EDU_IRQ_ACK, st);
	if (how == FACTORIAL)
		wr(EDU_STATUS, 0);
	if (st != want) {
		check(name, 0, "irq status 0x%x, want 0x%x", st, want);
		return 0;
	}
	return count;
}

static void check_irq(void)
{
	uint32_t c[4] = { 0 };

	if (uio_open())
		return;
	c[0] = irq_round("edu-irq", RAISE, 0x100);
	c[1] = c[0] ? irq_round("edu-irq", RAISE, 0x200) : 0;
	if (c[1])
		check("edu-irq", c[1] == c[0] + 1,
		      "2 INTx raised through 0x60, counted by uio_pci_generic (%u, %u); MSI untested (needs VFIO noiommu, absent from Debian kernels)",
		      c[0], c[1]);
	c[2] = irq_round("edu-irq-factorial", FACTORIAL, 0x1);
	if (c[2])
		check("edu-irq-factorial", 1, "INTx 0x1 at the end of a factorial (uio count %u), 5! = %u",
		      c[2], rd(EDU_FACT));
	c[3] = irq_round("edu-irq-dma", DMA_DONE, 0x100);
	if (c[3])
		check("edu-irq-dma", 1, "INTx 0x100 at the end of a 64 B DMA (uio count %u)", c[3]);
	close(uio_fd);
}

int main(int argc, char **argv)
{
	int bar_buffer = !(argc > 1 && !strcmp(argv[1], "--no-bar-buffer"));

	setvbuf(stdout, NULL, _IOLBF, 0);
	check_begin();
	if (check_enumerate() || map_bar0())
		return 1;
	check_liveness();
	check_factorial();
	check_dma(bar_buffer);
	check_irq();
	return failures ? 1 : 0;
}
