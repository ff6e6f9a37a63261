/* SPDX-License-Identifier: MIT */
/*
 * kguest-probe: proves a guest's VFIO plumbing without the uvfio library.
 *   kguest-probe legacy BDF    container + group, type1v2
 *   kguest-probe noiommu BDF   container + noiommu group, VFIO_NOIOMMU_IOMMU
 *   kguest-probe cdev BDF      /dev/iommu IOAS + /dev/vfio/devices/vfioX bind/attach
 * In each mode it reaches the device fd and reads edu's identification
 * register from BAR0; legacy maps a buffer with VFIO_IOMMU_MAP_DMA and noiommu
 * finds the buffer's physical address in /proc/self/pagemap, then both let
 * edu copy it to its own buffer and back (the IOVA / physical-address paths),
 * then checks an MSI arrives on an eventfd. Prints "CHECK probe-... PASS|FAIL detail" lines.
 * The iommufd and cdev ABI is defined here: Debian 12's headers lack it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vfio.h>

/* iommufd (include/uapi/linux/iommufd.h, 6.2+) */
struct iommu_ioas_alloc { uint32_t size, flags, out_ioas_id; };
#define IOMMU_IOAS_ALLOC _IO(';', 0x81)
struct iommu_ioas_map {
	uint32_t size, flags, ioas_id, reserved;
	uint64_t user_va, length, iova;
};
#define IOMMU_IOAS_MAP _IO(';', 0x85) /* flags: FIXED_IOVA 1, WRITEABLE 2, READABLE 4 */
struct iommu_ioas_unmap { uint32_t size, ioas_id; uint64_t iova, length; };
#define IOMMU_IOAS_UNMAP _IO(';', 0x86)
/* VFIO device cdev (include/uapi/linux/vfio.h, 6.6+) */
struct bind_iommufd { uint32_t argsz, flags; int32_t iommufd; uint32_t out_devid; };
#define BIND_IOMMUFD _IO(';', 100 + 18)
struct attach_pt { uint32_t argsz, flags, pt_id; };
#define ATTACH_IOMMUFD_PT _IO(';', 100 + 19)
#ifndef VFIO_NOIOMMU_IOMMU
#define VFIO_NOIOMMU_IOMMU 8
#endif

static int failures;

static void __attribute__((format(printf, 3, 4)))
check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("CHECK probe-%s %s ", name, ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	failures += !ok;
}

static int read_edu_id(int dev)
{
	struct vfio_region_info r = { .argsz = sizeof(r), .index = VFIO_PCI_BAR0_REGION_INDEX };
	uint32_t id = 0;

	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &r)) {
		check(0, "bar0", "GET_REGION_INFO: %s", strerror(errno));
		return -1;
	}
	if (pread(dev, &id, 4, r.offset) != 4) {
		check(0, "bar0", "pread: %s", strerror(errno));
		return -1;
	}
	check(id == 0x010000ed, "edu-id", "BAR0 size 0x%llx, id 0x%08x", (unsigned long long)r.size, id);
	return 0;
}

static uint32_t bar_rd(int dev, uint64_t off, uint32_t reg)
{
	uint32_t v = 0xffffffff;

	if (pread(dev, &v, 4, off + reg) != 4)
		return 0xffffffff;
	return v;
}

static void bar_wr(int dev, uint64_t off, uint32_t reg, uint32_t v)
{
	if (pwrite(dev, &v, 4, off + reg) != 4)
		fprintf(stderr, "probe: write 0x%x: %s\n", reg, strerror(errno));
}

/* One edu DMA (0x80 src, 0x88 dst, 0x90 count, 0x98 cmd); ~100 ms on QEMU 7.2. */
static int edu_dma(int dev, uint64_t off, uint64_t src, uint64_t dst, uint32_t cmd)
{
	bar_wr(dev, off, 0x80, (uint32_t)src);
	bar_wr(dev, off, 0x84, (uint32_t)(src >> 32));
	bar_wr(dev, off, 0x88, (uint32_t)dst);
	bar_wr(dev, off, 0x8c, (uint32_t)(dst >> 32));
	bar_wr(dev, off, 0x90, 2048);
	bar_wr(dev, off, 0x98, cmd);
	for (int i = 0; i < 400; i++) {
		if (!(bar_rd(dev, off, 0x98) & 1))
			return 0;
		usleep(5000);
	}
	return -1;
}

/* RAM (buf at device address a0) -> edu buffer -> RAM (buf + 4096 at a1). */
static void dma_roundtrip(int dev, uint8_t *buf, uint64_t a0, uint64_t a1, const char *how)
{
	struct vfio_region_info bar = { .argsz = sizeof(bar), .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct vfio_region_info cfg = { .argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	uint16_t cmd = 0;
	int ok;

	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &bar) ||
	    ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &cfg) ||
	    pread(dev, &cmd, 2, cfg.offset + 4) != 2) {
		check(0, "dma", "region info / config read: %s", strerror(errno));
		return;
	}
	cmd |= 0x6; /* memory + bus master */
	if (pwrite(dev, &cmd, 2, cfg.offset + 4) != 2) {
		check(0, "dma", "bus master: %s", strerror(errno));
		return;
	}
	for (int i = 0; i < 2048; i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	memset(buf + 4096, 0, 2048);
	ok = !edu_dma(dev, bar.offset, a0, 0x40000, 1) &&
	     !edu_dma(dev, bar.offset, 0x40000, a1, 3) && !memcmp(buf, buf + 4096, 2048);
	check(ok, "dma", "2048 bytes RAM -> edu -> RAM, %s 0x%llx -> 0x%llx", how,
	      (unsigned long long)a0, (unsigned long long)a1);
}

/* MSI on an eventfd (edu raises it via 0x60); bus master must be on. */
static void msi_check(int dev)
{
	struct vfio_region_info bar = { .argsz = sizeof(bar), .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct {
		struct vfio_irq_set hdr;
		int32_t fd;
	} set = { { .argsz = sizeof(set), .index = VFIO_PCI_MSI_IRQ_INDEX, .count = 1,
		    .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER }, -1 };
	struct pollfd pfd;
	uint64_t n = 0;
	int ret;

	set.fd = eventfd(0, EFD_NONBLOCK);
	if (set.fd < 0 || ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &bar) ||
	    ioctl(dev, VFIO_DEVICE_SET_IRQS, &set)) {
		check(0, "msi", "SET_IRQS: %s", strerror(errno));
		return;
	}
	bar_wr(dev, bar.offset, 0x60, 1);
	pfd = (struct pollfd){ .fd = set.fd, .events = POLLIN };
	ret = poll(&pfd, 1, 2000);
	if (ret == 1 && read(set.fd, &n, 8) != 8)
		n = 0;
	check(ret == 1 && n >= 1, "msi", "%s", ret == 1 ? "eventfd signalled" : "no MSI within 2 s");
	bar_wr(dev, bar.offset, 0x64, 1);
	set.hdr.argsz = sizeof(set.hdr);
	set.hdr.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	set.hdr.count = 0;
	ioctl(dev, VFIO_DEVICE_SET_IRQS, &set.hdr);
	close(set.fd);
}

/* A locked, populated 2-page buffer. */
static uint8_t *dma_buffer(void)
{
	uint8_t *b = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0);

	return b == MAP_FAILED ? NULL : b;
}

/* noiommu: the device sees physical addresses (pagemap: bit 63 present, PFN in 0..54). */
static uint64_t phys_addr(uint8_t *p)
{
	uint64_t pm = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 || pread(fd, &pm, 8, (uintptr_t)p / 4096 * 8) != 8)
		pm = 0;
	if (fd >= 0)
		close(fd);
	return (pm >> 63) ? (pm & ((1ull << 55) - 1)) * 4096 : 0;
}

static int legacy(const char *bdf, int noiommu)
{
	char link[PATH_MAX], path[PATH_MAX], target[PATH_MAX];
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int c, g, d, type = noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU;
	ssize_t n;

	c = open("/dev/vfio/vfio", O_RDWR);
	if (c < 0) {
		check(0, "container", "/dev/vfio/vfio: %s", strerror(errno));
		return -1;
	}
	check(ioctl(c, VFIO_GET_API_VERSION) == VFIO_API_VERSION, "api-version", "%d",
	      ioctl(c, VFIO_GET_API_VERSION));
	check(ioctl(c, VFIO_CHECK_EXTENSION, type) == 1, "extension",
	      "CHECK_EXTENSION(%s) = %d, TYPE1v2 %d, NOIOMMU %d", noiommu ? "NOIOMMU" : "TYPE1v2",
	      ioctl(c, VFIO_CHECK_EXTENSION, type),
	      ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU),
	      ioctl(c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU));

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0) {
		check(0, "group", "%s: %s", link, strerror(errno));
		return -1;
	}
	target[n] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s%s", noiommu ? "noiommu-" : "", basename(target));
	g = open(path, O_RDWR);
	if (g < 0 || ioctl(g, VFIO_GROUP_GET_STATUS, &st)) {
		check(0, "group", "%s: %s", path, strerror(errno));
		return -1;
	}
	check(st.flags & VFIO_GROUP_FLAGS_VIABLE, "group", "%s viable", path);
	if (ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) || ioctl(c, VFIO_SET_IOMMU, type)) {
		check(0, "set-iommu", "%s", strerror(errno));
		return -1;
	}
	d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, bdf);
	check(d >= 0, "device-fd", "GROUP_GET_DEVICE_FD(%s) %s", bdf, d >= 0 ? "ok" : strerror(errno));
	if (d < 0 || read_edu_id(d))
		return -1;

	uint8_t *buf = dma_buffer();
	if (!buf) {
		check(0, "dma", "buffer: %s", strerror(errno));
		return -1;
	}
	if (noiommu) {
		uint64_t p0 = phys_addr(buf), p1 = phys_addr(buf + 4096);

		if (!p0 || !p1 || p0 >= (256u << 20) || p1 >= (256u << 20)) /* edu's 28-bit mask */
			check(0, "dma", "no usable physical address (0x%llx, 0x%llx)",
			      (unsigned long long)p0, (unsigned long long)p1);
		else
			dma_roundtrip(d, buf, p0, p1, "physical");
		msi_check(d);
		return 0;
	}
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)buf, .iova = 0x200000, .size = 8192,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = 0x200000, .size = 8192,
	};
	if (ioctl(c, VFIO_IOMMU_MAP_DMA, &map)) {
		check(0, "dma", "MAP_DMA: %s", strerror(errno));
		return -1;
	}
	dma_roundtrip(d, buf, map.iova, map.iova + 4096, "IOVA");
	msi_check(d);
	check(!ioctl(c, VFIO_IOMMU_UNMAP_DMA, &unmap) && unmap.size == 8192, "dma-unmap",
	      "UNMAP_DMA: %llu bytes", (unsigned long long)unmap.size);
	return 0;
}

static int cdev(const char *bdf)
{
	char dir[PATH_MAX], path[PATH_MAX + 300] = "";
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct bind_iommufd bind = { .argsz = sizeof(bind) };
	struct attach_pt at = { .argsz = sizeof(at) };
	struct dirent *e;
	DIR *dp;
	int iommufd, d;

	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0 || ioctl(iommufd, IOMMU_IOAS_ALLOC, &ioas)) {
		check(0, "iommufd", "/dev/iommu: %s", strerror(errno));
		return -1;
	}
	check(1, "iommufd", "/dev/iommu IOAS_ALLOC -> ioas %u", ioas.out_ioas_id);
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dp = opendir(dir);
	while (dp && (e = readdir(dp)))
		if (!strncmp(e->d_name, "vfio", 4))
			snprintf(path, sizeof(path), "/dev/vfio/devices/%s", e->d_name);
	if (dp)
		closedir(dp);
	d = path[0] ? open(path, O_RDWR) : -1;
	if (d < 0) {
		check(0, "cdev", "%s: %s", path[0] ? path : dir, strerror(errno));
		return -1;
	}
	bind.iommufd = iommufd;
	if (ioctl(d, BIND_IOMMUFD, &bind)) {
		check(0, "cdev", "%s BIND_IOMMUFD: %s", path, strerror(errno));
		return -1;
	}
	at.pt_id = ioas.out_ioas_id;
	if (ioctl(d, ATTACH_IOMMUFD_PT, &at)) {
		check(0, "cdev", "%s ATTACH_IOMMUFD_PT: %s", path, strerror(errno));
		return -1;
	}
	check(1, "cdev", "%s bound (devid %u), attached to ioas %u", path, bind.out_devid, at.pt_id);
	if (read_edu_id(d))
		return -1;

	uint8_t *buf = dma_buffer();
	struct iommu_ioas_map map = {
		.size = sizeof(map), .flags = 1 | 2 | 4, .ioas_id = ioas.out_ioas_id,
		.user_va = (uintptr_t)buf, .length = 8192, .iova = 0x200000,
	};
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap), .ioas_id = ioas.out_ioas_id, .iova = 0x200000, .length = 8192,
	};
	if (!buf || ioctl(iommufd, IOMMU_IOAS_MAP, &map)) {
		check(0, "dma", "IOAS_MAP: %s", strerror(errno));
		return -1;
	}
	dma_roundtrip(d, buf, map.iova, map.iova + 4096, "IOVA");
	msi_check(d);
	check(!ioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap) && unmap.length == 8192, "dma-unmap",
	      "IOAS_UNMAP: %llu bytes", (unsigned long long)unmap.length);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s legacy|noiommu|cdev BDF\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "cdev"))
		cdev(argv[2]);
	else
		legacy(argv[2], !strcmp(argv[1], "noiommu"));
	return failures ? 1 : 0;
}
