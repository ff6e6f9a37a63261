/* SPDX-License-Identifier: MIT */
/*
 * edu-driver: a userspace driver for QEMU's "edu" device, written on the uvfio
 * client API. The same binary drives
 *   - uvfio's edu served over vfio-user:   edu-driver vfio-user:/run/edu.sock
 *   - QEMU's edu through the kernel's VFIO: edu-driver pci:0000:00:03.0
 * and prints the same lines on both.
 *
 * It checks the identification register, liveness, the factorial unit, a DMA
 * round trip through a buffer it maps for the device, and an MSI delivered
 * on an eventfd. Exit status 0 only if every check passed.
 *
 * Options: --no-fd maps the DMA buffer without its fd (vfio-user only: the
 * server then reaches it with DMA_READ/DMA_WRITE messages).
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <uvfio/uvfio.h>

#define BAR0 0u			/* VFIO_PCI_BAR0_REGION_INDEX */
#define CONFIG 7u		/* VFIO_PCI_CONFIG_REGION_INDEX */
#define MSI 1u			/* VFIO_PCI_MSI_IRQ_INDEX */

/* edu registers (QEMU docs/specs/edu.rst) */
#define EDU_ID 0x00
#define EDU_LIVENESS 0x04
#define EDU_FACTORIAL 0x08
#define EDU_STATUS 0x20
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_BUFFER 0x40000

#define DMA_START 1u
#define DMA_TO_RAM 2u

#define IOVA 0x100000ull	/* edu masks DMA addresses above 256 MiB */
#define DMA_LEN 2048u		/* < 4096: QEMU 7.2's edu aborts at the buffer end */

static int failures;

static void check(int ok, const char *what, const char *detail)
{
	printf("%-28s %s%s%s\n", what, ok ? "ok" : "FAILED", detail ? "  " : "", detail ? detail : "");
	failures += !ok;
}

static uint32_t rd32(struct uvfio_client *c, uint32_t reg)
{
	uint32_t v = 0xffffffff;
	ssize_t n = uvfio_client_read(c, BAR0, reg, &v, 4);

	if (n != 4)
		fprintf(stderr, "edu-driver: read 0x%x: %s\n", reg, strerror(n < 0 ? (int)-n : EIO));
	return v;
}

static void wr32(struct uvfio_client *c, uint32_t reg, uint32_t v)
{
	ssize_t n = uvfio_client_write(c, BAR0, reg, &v, 4);

	if (n != 4)
		fprintf(stderr, "edu-driver: write 0x%x: %s\n", reg, strerror(n < 0 ? (int)-n : EIO));
}

/* Poll a register until (value & mask) == 0; edu needs ~100 ms for a DMA. */
static int wait_clear(struct uvfio_client *c, uint32_t reg, uint32_t mask)
{
	for (int i = 0; i < 400; i++) {
		if (!(rd32(c, reg) & mask))
			return 0;
		usleep(5000);
	}
	return -ETIMEDOUT;
}

static uint64_t factorial(uint32_t n)
{
	uint32_t f = 1; /* edu computes in 32 bits */

	while (n > 1)
		f *= n--;
	return f;
}

static void check_registers(struct uvfio_client *c)
{
	char detail[64];
	uint32_t v;

	v = rd32(c, EDU_ID);
	snprintf(detail, sizeof(detail), "0x%08x", v);
	check(v == 0x010000ed, "identification", detail);

	wr32(c, EDU_LIVENESS, 0x12345678);
	v = rd32(c, EDU_LIVENESS);
	snprintf(detail, sizeof(detail), "~0x12345678 = 0x%08x", v);
	check(v == ~0x12345678u, "liveness", detail);

	wr32(c, EDU_FACTORIAL, 10);
	v = wait_clear(c, EDU_STATUS, 1) ? 0 : rd32(c, EDU_FACTORIAL);
	snprintf(detail, sizeof(detail), "10! = %u", v);
	check(v == factorial(10), "factorial", detail);
}

static int enable_bus_master(struct uvfio_client *c)
{
	uint16_t cmd;

	if (uvfio_client_read(c, CONFIG, 4, &cmd, 2) != 2)
		return -EIO;
	cmd |= 0x6; /* memory space + bus master */
	return uvfio_client_write(c, CONFIG, 4, &cmd, 2) == 2 ? 0 : -EIO;
}

static void check_dma(struct uvfio_client *c, int use_fd)
{
	size_t size = 2 * 4096;
	int fd = memfd_create("edu-dma", MFD_CLOEXEC);
	uint8_t *mem;
	char detail[80];
	int ret;

	if (fd < 0 || ftruncate(fd, size) < 0) {
		check(0, "dma buffer", strerror(errno));
		return;
	}
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		check(0, "dma buffer", strerror(errno));
		close(fd);
		return;
	}
	struct uvfio_dma_map_args map = {
		.iova = IOVA, .size = size, .prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE,
		.fd = use_fd ? fd : -1, .vaddr = mem,
	};
	ret = uvfio_client_dma_map(c, &map);
	check(ret == 0, "dma map", ret ? strerror(-ret) : (use_fd ? "fd-backed" : "message-based"));
	if (ret)
		goto out;

	for (unsigned i = 0; i < DMA_LEN; i++)
		mem[i] = (uint8_t)(i * 7 + 3);
	memset(mem + 4096, 0, DMA_LEN);

	/* RAM -> device buffer, then device buffer -> the second page. */
	wr32(c, EDU_DMA_SRC, (uint32_t)IOVA);
	wr32(c, EDU_DMA_DST, EDU_BUFFER);
	wr32(c, EDU_DMA_COUNT, DMA_LEN);
	wr32(c, EDU_DMA_CMD, DMA_START);
	ret = wait_clear(c, EDU_DMA_CMD, DMA_START);
	wr32(c, EDU_DMA_SRC, EDU_BUFFER);
	wr32(c, EDU_DMA_DST, (uint32_t)(IOVA + 4096));
	wr32(c, EDU_DMA_COUNT, DMA_LEN);
	wr32(c, EDU_DMA_CMD, DMA_START | DMA_TO_RAM);
	ret = ret ? ret : wait_clear(c, EDU_DMA_CMD, DMA_START);

	snprintf(detail, sizeof(detail), "%u bytes RAM -> device -> RAM", DMA_LEN);
	check(ret == 0 && !memcmp(mem, mem + 4096, DMA_LEN), "dma round trip", detail);

	ret = uvfio_client_dma_unmap(c, IOVA, size);
	check(ret == 0, "dma unmap", ret ? strerror(-ret) : NULL);
out:
	munmap(mem, size);
	close(fd);
}

static void check_msi(struct uvfio_client *c)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = MSI };
	/* The eventfd goes in its own array; argsz counts it as data[]. */
	struct vfio_irq_set set = { .argsz = sizeof(set) + sizeof(int32_t),
		.index = MSI, .start = 0, .count = 1,
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER };
	int32_t efd;
	struct vfio_irq_set off = { .argsz = sizeof(off), .index = MSI,
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER };
	struct pollfd pfd;
	uint64_t count = 0;
	int ret;

	ret = uvfio_client_irq_info(c, &info);
	if (ret || info.count < 1) {
		check(0, "msi", ret ? strerror(-ret) : "no MSI vectors");
		return;
	}
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ret = uvfio_client_set_irqs(c, &set, &efd);
	if (ret) {
		check(0, "msi enable", strerror(-ret));
		goto out;
	}
	wr32(c, EDU_IRQ_RAISE, 0x1);
	pfd = (struct pollfd){ .fd = efd, .events = POLLIN };
	if (poll(&pfd, 1, 2000) != 1 || read(efd, &count, sizeof(count)) != sizeof(count))
		count = 0;
	check(count >= 1 && (rd32(c, EDU_IRQ_STATUS) & 1), "msi on eventfd",
	      count ? "raised via 0x60, status 0x1" : "no interrupt within 2 s");
	wr32(c, EDU_IRQ_ACK, 0x1);
	check(rd32(c, EDU_IRQ_STATUS) == 0, "interrupt ack", NULL);
	uvfio_client_set_irqs(c, &off, NULL);
out:
	close(efd);
}

int main(int argc, char **argv)
{
	struct uvfio_client *c;
	const char *location = NULL;
	int use_fd = 1, ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-fd"))
			use_fd = 0;
		else if (argv[i][0] != '-' && !location)
			location = argv[i];
		else {
			fprintf(stderr, "usage: %s [--no-fd] LOCATION\n", argv[0]);
			return 2;
		}
	}
	if (!location) {
		fprintf(stderr, "usage: %s [--no-fd] LOCATION\n", argv[0]);
		return 2;
	}
	ret = uvfio_client_open(location, NULL, &c);
	if (ret) {
		fprintf(stderr, "edu-driver: %s: %s\n", location, strerror(-ret));
		return 1;
	}
	printf("edu-driver: %s (%s)\n", location, uvfio_client_backend(c));
	check_registers(c);
	/* DMA and MSI (a write to the MSI address) both need bus mastering. */
	check(enable_bus_master(c) == 0, "bus master on", NULL);
	check_dma(c, use_fd);
	check_msi(c);
	uvfio_client_close(c);
	printf("edu-driver: %s\n", failures ? "FAILED" : "all checks passed");
	return failures ? 1 : 0;
}
