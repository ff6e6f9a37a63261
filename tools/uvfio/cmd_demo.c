/* SPDX-License-Identifier: MIT */
/*
 * uvfio demo: the core device model, in-process, with nothing but the public
 * API. It builds a small device (one register region, one feature, one IRQ,
 * a DMA space with a memfd-backed window), drives it the way a server would
 * on behalf of a client, and prints each step with what it observed. Exit
 * status 0 means every observation matched what the kernel's rules predict.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <uvfio/uvfio.h>

#include "commands.h"

#define DEMO_FEATURE 0x100	   /* a device-specific feature index */
#define DEMO_ID 0x75766669u	   /* what the feature's GET answers: "uvfi" */
#define DEMO_IOVA 0x100000ull	   /* where the client maps its memory */
#define DEMO_WINDOW 0x2000ull

struct demo {
	uint8_t regs[256];
	int failures;
};

static ssize_t demo_read(struct uvfio_device *dev, uint32_t index, uint64_t pos,
			 void *buf, size_t count)
{
	struct demo *d = uvfio_device_priv(dev);

	memcpy(buf, d->regs + pos, count); /* the core checked the bounds */
	return (ssize_t)count;
}

static ssize_t demo_write(struct uvfio_device *dev, uint32_t index, uint64_t pos,
			  const void *buf, size_t count)
{
	struct demo *d = uvfio_device_priv(dev);

	memcpy(d->regs + pos, buf, count);
	return (ssize_t)count;
}

static int demo_feature_get(struct uvfio_device *dev, uint32_t flags, void *data,
			    size_t len, size_t *out_len)
{
	uint32_t id = DEMO_ID;

	memcpy(data, &id, sizeof(id));
	*out_len = sizeof(id);
	return 0;
}

static const struct uvfio_device_ops demo_ops = {
	.read = demo_read,
	.write = demo_write,
};

/* Print one observation and remember whether it matched. */
static void check(struct demo *d, int ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void check(struct demo *d, int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", ok ? "  ok  " : "  FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		d->failures++;
}

static void demo_region(struct uvfio_device *dev, struct demo *d)
{
	uint32_t v = 0xc0ffee00, got = 0;
	ssize_t n;

	printf("region 0: write 0x%08x at 0x10, read it back\n", v);
	n = uvfio_device_write(dev, 0, 0x10, &v, sizeof(v));
	check(d, n == 4, "write returned %zd", n);
	n = uvfio_device_read(dev, 0, 0x10, &got, sizeof(got));
	check(d, n == 4 && got == v, "read returned %zd, value 0x%08x", n, got);
	n = uvfio_device_read(dev, 0, 0xfe, &got, sizeof(got));
	check(d, n == -EINVAL, "read across the region end refused: %s", strerror((int)-n));
}

static int feature(struct uvfio_device *dev, uint32_t flags, uint32_t *value)
{
	uint8_t buf[sizeof(struct vfio_device_feature) + sizeof(uint32_t)] = { 0 };
	struct vfio_device_feature hdr = { .argsz = sizeof(buf), .flags = flags };
	size_t reply = 0;
	int ret;

	memcpy(buf, &hdr, sizeof(hdr));
	ret = uvfio_device_feature(dev, buf, sizeof(buf), &reply);
	if (value)
		memcpy(value, buf + sizeof(hdr), sizeof(*value));
	return ret;
}

static void demo_feature(struct uvfio_device *dev, struct demo *d)
{
	uint32_t id = 0;
	int ret;

	printf("feature 0x%x (GET only):\n", DEMO_FEATURE);
	ret = feature(dev, DEMO_FEATURE | VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET, NULL);
	check(d, ret == 0, "PROBE|GET -> %d (supported)", ret);
	ret = feature(dev, DEMO_FEATURE | VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET, NULL);
	check(d, ret == -EINVAL, "PROBE|SET -> %s (no SET op)", strerror(-ret));
	ret = feature(dev, DEMO_FEATURE | VFIO_DEVICE_FEATURE_GET, &id);
	check(d, ret == 0 && id == DEMO_ID, "GET -> %d, value 0x%08x", ret, id);
	ret = feature(dev, (DEMO_FEATURE + 1) | VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET, NULL);
	check(d, ret == -ENOTTY, "PROBE of feature 0x%x -> %s (not offered)",
	      DEMO_FEATURE + 1, strerror(-ret));
}

static void demo_irq(struct uvfio_device *dev, struct demo *d)
{
	struct vfio_irq_set hdr = {
		.argsz = sizeof(hdr) + sizeof(int32_t), /* header + one fd */ .index = 0, .start = 0, .count = 1,
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
	};
	int32_t efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint64_t count = 0;
	int ret;

	printf("irq 0: give the device an eventfd, then raise the interrupt\n");
	if (efd < 0) {
		check(d, 0, "eventfd: %s", strerror(errno));
		return;
	}
	ret = uvfio_device_set_irqs(dev, &hdr, &efd, sizeof(efd));
	check(d, ret == 0, "SET_IRQS(EVENTFD|TRIGGER) -> %d", ret);
	ret = uvfio_irq_trigger(dev, 0, 0);
	check(d, ret == 1, "uvfio_irq_trigger -> %d (eventfd signalled)", ret);
	if (read(efd, &count, sizeof(count)) != sizeof(count))
		count = 0;
	check(d, count == 1, "eventfd counter read by the client: %llu",
	      (unsigned long long)count);
	close(efd);
}

static void demo_dma(struct uvfio_device *dev, struct demo *d)
{
	static const char msg[] = "written by the device";
	struct uvfio_dma_map_args map = {
		.iova = DEMO_IOVA, .size = DEMO_WINDOW, .fd_offset = 0,
		.prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE, .vaddr = NULL,
	};
	struct uvfio_dma *dma = uvfio_dma_create(NULL);
	char seen[sizeof(msg)] = { 0 };
	int memfd, ret;

	printf("dma: the client maps a memfd at iova 0x%llx, the device writes to it\n",
	       (unsigned long long)DEMO_IOVA);
	memfd = memfd_create("uvfio-demo", MFD_CLOEXEC);
	if (!dma || memfd < 0 || ftruncate(memfd, DEMO_WINDOW)) {
		check(d, 0, "setup: %s", strerror(errno));
		goto out;
	}
	map.fd = dup(memfd); /* the space owns what it is given */
	ret = uvfio_dma_map(dma, &map);
	check(d, ret == 0, "uvfio_dma_map(fd window) -> %d", ret);
	uvfio_device_set_dma(dev, dma);

	ret = uvfio_device_dma_write(dev, DEMO_IOVA + 0x1000, msg, sizeof(msg));
	check(d, ret == -EPERM, "DMA with bus mastering off refused: %s", strerror(-ret));

	uvfio_device_set_bus_master(dev, true);
	ret = uvfio_device_dma_write(dev, DEMO_IOVA + 0x1000, msg, sizeof(msg));
	check(d, ret == 0, "DMA write with bus mastering on -> %d", ret);
	if (pread(memfd, seen, sizeof(seen), 0x1000) != (ssize_t)sizeof(seen))
		seen[0] = '\0';
	check(d, !memcmp(seen, msg, sizeof(msg)), "memfd at offset 0x1000 reads \"%.*s\"",
	      (int)sizeof(seen) - 1, seen);

	ret = uvfio_device_dma_read(dev, DEMO_IOVA + DEMO_WINDOW, seen, 4);
	check(d, ret == -EFAULT, "DMA read past the window refused: %s", strerror(-ret));
	uvfio_device_set_dma(dev, NULL);
out:
	if (memfd >= 0)
		close(memfd);
	if (dma)
		uvfio_dma_destroy(dma);
}

int cmd_demo(int argc, char **argv)
{
	struct uvfio_region regs = {
		.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
		.size = sizeof(((struct demo *)0)->regs), .offset = 0, .mmap_fd = -1,
	};
	struct uvfio_feature feat = {
		.index = DEMO_FEATURE, .ops = VFIO_DEVICE_FEATURE_GET,
		.minsz = sizeof(uint32_t), .fn = demo_feature_get,
	};
	struct demo d = { .failures = 0 };
	struct uvfio_device *dev;

	if (argc > 1) {
		printf("usage: uvfio demo\n\n"
		       "Runs the core device model in-process (region, feature, IRQ, DMA)\n"
		       "and prints each step; exits 0 only if every observation matched.\n");
		return strcmp(argv[1], "--help") && strcmp(argv[1], "-h") ?
			       UVFIO_EXIT_USAGE : UVFIO_EXIT_OK;
	}

	dev = uvfio_device_create("demo", &demo_ops, &d);
	if (!dev ||
	    uvfio_device_set_num_regions(dev, 1) || uvfio_device_set_region(dev, 0, &regs) ||
	    uvfio_device_add_feature(dev, &feat) ||
	    uvfio_device_set_num_irqs(dev, 1) ||
	    uvfio_device_set_irq_info(dev, 0, 1, VFIO_IRQ_INFO_EVENTFD) ||
	    uvfio_device_register(dev)) {
		fprintf(stderr, "uvfio demo: cannot build the device\n");
		if (dev)
			uvfio_device_destroy(dev);
		return UVFIO_EXIT_FAILURE;
	}
	printf("device \"%s\": 1 region of %llu bytes, feature 0x%x, 1 IRQ index\n",
	       uvfio_device_name(dev), (unsigned long long)regs.size, DEMO_FEATURE);

	if (uvfio_device_open(dev)) {
		fprintf(stderr, "uvfio demo: open failed\n");
		uvfio_device_unregister(dev);
		return UVFIO_EXIT_FAILURE;
	}
	demo_region(dev, &d);
	demo_feature(dev, &d);
	demo_irq(dev, &d);
	demo_dma(dev, &d);
	uvfio_device_close(dev);
	uvfio_device_unregister(dev);

	printf("%s: %d observation(s) did not match\n", d.failures ? "FAILED" : "PASSED",
	       d.failures);
	return d.failures ? UVFIO_EXIT_FAILURE : UVFIO_EXIT_OK;
}
