/* SPDX-License-Identifier: MIT */
/*
 * kvfio-selftest: the kernel backend against QEMU's edu inside a guest.
 * Real ioctls only run here (the unit tests cover parsing and sysfs).
 *
 *   kvfio-selftest [LOCATION] [--nonviable LOCATION]
 *   kvfio-selftest --nonviable LOCATION      (only the error checks)
 *
 * LOCATION defaults to pci:BDF of the first edu (1234:11e8) in sysfs. With
 * --nonviable, opening that location must fail naming why. When the kernel
 * has the mtty mdev sample, an instance is created and driven as
 * mdev:UUID too (info, config, migration through the data_fd). Prints one
 * "CHECK name PASS|FAIL detail" line per check; exit 0 only if all passed.
 * Static-linkable: no dlopen, no NSS.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <uvfio/client.h>
#include <uvfio/log.h>

#include "kernel/kvfio.h"
#include "kernel/tests/check_line.h"

#define BAR0 0u
#define CONFIG 7u
#define EDU_ID 0x00
#define EDU_LIVENESS 0x04

static char logbuf[4096];

/* Keep what the library logs, so checks can assert the message a user sees. */
static void sink(enum uvfio_log_level level, const char *who, const char *msg, void *o)
{
	size_t used = strlen(logbuf);

	(void)o;
	fprintf(stderr, "uvfio[%s] %d: %s\n", who, (int)level, msg);
	if (used < sizeof(logbuf) - 1)
		snprintf(logbuf + used, sizeof(logbuf) - used, "%s\n", msg);
}

static void log_reset(void)
{
	logbuf[0] = 0;
}

static int find_edu(char *loc, size_t len)
{
	char path[512], id[32];
	struct dirent *de;
	DIR *d = opendir("/sys/bus/pci/devices");
	int ret = -ENODEV;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		FILE *f;
		unsigned v = 0, dv = 0;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(id, sizeof(id), f))
			v = (unsigned)strtoul(id, NULL, 16);
		fclose(f);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(id, sizeof(id), f))
			dv = (unsigned)strtoul(id, NULL, 16);
		fclose(f);
		if (v == 0x1234 && dv == 0x11e8 &&
		    snprintf(loc, len, "pci:%s", de->d_name) < (int)len) {
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

static void check_info(struct uvfio_client *c)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = 1 /* MSI */ };
	struct uvfio_region r;
	uint32_t id = 0, live = 0, v = 0x5a5aa5a5;
	uint16_t ids[2] = { 0, 0 };
	int ret;

	ret = uvfio_client_get_info(c, &info);
	check("device-info", !ret && (info.flags & VFIO_DEVICE_FLAGS_PCI) &&
	      info.num_regions >= 9 && info.num_irqs >= 5,
	      "ret %d flags %#x regions %u irqs %u", ret, info.flags, info.num_regions,
	      info.num_irqs);

	ret = uvfio_client_region(c, BAR0, &r);
	/* edu's BAR0 is 1 MiB of MMIO; the offset is whatever the kernel says. */
	check("region-bar0", !ret && r.size == 1u << 20 &&
	      (r.flags & VFIO_REGION_INFO_FLAG_READ) && (r.flags & VFIO_REGION_INFO_FLAG_WRITE),
	      "ret %d size %#" PRIx64 " offset %#" PRIx64 " flags %#x areas %u mmap_fd %d",
	      ret, r.size, r.offset, r.flags, r.nr_areas, r.mmap_fd);

	ret = uvfio_client_region(c, CONFIG, &r);
	check("region-config", !ret && r.size >= 256 && !(r.flags & VFIO_REGION_INFO_FLAG_MMAP),
	      "ret %d size %#" PRIx64 " offset %#" PRIx64, ret, r.size, r.offset);

	ret = (int)uvfio_client_read(c, CONFIG, 0, ids, sizeof(ids));
	check("config-read-ids", ret == 4 && ids[0] == 0x1234 && ids[1] == 0x11e8,
	      "ret %d vendor %#06x device %#06x", ret, ids[0], ids[1]);

	ret = (int)uvfio_client_read(c, BAR0, EDU_ID, &id, 4);
	check("bar0-read-id", ret == 4 && id == 0x010000ed, "ret %d id %#010x", ret, id);

	ret = (int)uvfio_client_write(c, BAR0, EDU_LIVENESS, &v, 4);
	if (ret == 4)
		ret = (int)uvfio_client_read(c, BAR0, EDU_LIVENESS, &live, 4);
	check("bar0-write-liveness", ret == 4 && live == ~v, "ret %d ~%#x = %#x", ret, v, live);

	/* Past the end of the region must fail, not spill into the next one. */
	ret = (int)uvfio_client_read(c, BAR0, (1u << 20) - 2, &id, 4);
	check("bar0-read-past-end", ret == -EINVAL, "ret %d", ret);

	/* The generic mmap path on the device fd at region.offset + pos. */
	if (!uvfio_client_region(c, BAR0, &r) && (r.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		volatile uint32_t *m = uvfio_client_mmap(c, BAR0, 0, 4096, PROT_READ | PROT_WRITE);

		check("bar0-mmap-id", m && m[0] == 0x010000ed, "map %p id %#x errno %d",
		      (void *)m, m ? m[0] : 0, m ? 0 : errno);
		if (m)
			check("bar0-munmap", uvfio_client_munmap(c, (void *)m, 4096) == 0, "-");
	} else {
		check("bar0-mmap-id", 0, "BAR0 not mappable (flags %#x)", r.flags);
	}

	ret = uvfio_client_irq_info(c, &irq);
	check("irq-info-msi", !ret && irq.count >= 1 && (irq.flags & VFIO_IRQ_INFO_EVENTFD),
	      "ret %d count %u flags %#x", ret, irq.count, irq.flags);
	irq = (struct vfio_irq_info){ .argsz = sizeof(irq), .index = 0 /* INTx */ };
	ret = uvfio_client_irq_info(c, &irq);
	check("irq-info-intx", !ret && irq.count == 1, "ret %d count %u flags %#x", ret,
	      irq.count, irq.flags);
}

/* An IOVA inside the valid ranges, below edu's 28-bit DMA mask. */
static uint64_t pick_iova(const struct kvfio_iommu_info *info)
{
	uint64_t want = 0x100000;

	for (uint32_t i = 0; i < info->nr_ranges; i++) {
		uint64_t s = (info->ranges[i].start + 0xfffff) & ~0xfffffull;

		if (s < want)
			s = want;
		if (s < info->ranges[i].last && info->ranges[i].last - s >= 0x10000)
			return s;
	}
	return want;
}

/* An IOVA outside every range: a gap between two, or past the last. */
static int pick_bad_iova(const struct kvfio_iommu_info *info, uint64_t *iova)
{
	for (uint32_t i = 0; i + 1 < info->nr_ranges; i++) {
		if (info->ranges[i + 1].start - info->ranges[i].last > 0x1000 &&
		    info->ranges[i].last < ~0ull - 0x1000) {
			*iova = (info->ranges[i].last + 1 + 0xfff) & ~0xfffull;
			if (*iova < info->ranges[i + 1].start)
				return 0;
		}
	}
	if (info->nr_ranges && info->ranges[info->nr_ranges - 1].last < ~0ull - 0x2000) {
		*iova = (info->ranges[info->nr_ranges - 1].last + 1 + 0xfff) & ~0xfffull;
		return 0;
	}
	return -ENOENT;
}

static void check_dma(struct uvfio_client *c)
{
	struct kvfio_iommu_info info;
	size_t size = 4 * 4096;
	uint8_t *mem;
	uint64_t iova, bad;
	int ret;

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		check("dma-buffer", 0, "%s", strerror(errno));
		return;
	}
	memset(mem, 0xab, size);
	ret = kvfio_client_iommu_info(c, &info);
	if (ret == -EOPNOTSUPP) {
		/* noiommu: no IOMMU to map through; the backend must say so. */
		struct uvfio_dma_map_args a = { .iova = 0x100000, .size = size,
			.prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE, .fd = -1, .vaddr = mem };

		log_reset();
		ret = uvfio_client_dma_map(c, &a);
		check("dma-map-noiommu", ret == -EOPNOTSUPP && strstr(logbuf, "noiommu"),
		      "ret %d (want -EOPNOTSUPP with a noiommu message)", ret);
		goto out;
	}
	{
		char ranges[256] = "";
		size_t used = 0;

		for (uint32_t i = 0; i < info.nr_ranges && used < sizeof(ranges) - 48; i++)
			used += (size_t)snprintf(ranges + used, sizeof(ranges) - used,
						 " [%#" PRIx64 ",%#" PRIx64 "]",
						 info.ranges[i].start, info.ranges[i].last);
		check("iommu-info", !ret && info.nr_ranges > 0 && info.pgsizes,
		      "ret %d pgsizes %#" PRIx64 " dma_avail %s%u ranges%s", ret, info.pgsizes,
		      info.has_dma_avail ? "" : "(n/a) ", info.dma_avail, ranges);
	}
	iova = pick_iova(&info);
	struct uvfio_dma_map_args a = { .iova = iova, .size = size,
		.prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE, .fd = -1, .vaddr = mem };

	ret = uvfio_client_dma_map(c, &a);
	check("dma-map", ret == 0, "iova %#" PRIx64 " size %#zx: %d", iova, size, ret);
	if (!ret) {
		/* The same range again overlaps: the kernel says EEXIST. */
		int again = uvfio_client_dma_map(c, &a);

		check("dma-map-overlap", again == -EEXIST, "ret %d (want -EEXIST)", again);
		ret = uvfio_client_dma_unmap(c, iova, size);
		check("dma-unmap", ret == 0, "ret %d", ret);
		/* Unmapped: mapping it again must work. */
		ret = uvfio_client_dma_map(c, &a);
		check("dma-remap", ret == 0, "ret %d", ret);
		ret = uvfio_client_dma_unmap_all(c);
		check("dma-unmap-all", ret == 0, "ret %d", ret);
	}

	if (!pick_bad_iova(&info, &bad)) {
		a.iova = bad;
		a.size = 4096;
		log_reset();
		ret = uvfio_client_dma_map(c, &a);
		check("dma-map-out-of-range", ret == -EINVAL &&
		      strstr(logbuf, "outside the IOMMU's valid ranges"),
		      "iova %#" PRIx64 ": ret %d msg: %.200s", bad, ret, logbuf);
	} else {
		check("dma-map-out-of-range", 0, "no IOVA outside the ranges to try");
	}
	a.iova = iova + 0x800;
	a.size = 4096;
	log_reset();
	ret = uvfio_client_dma_map(c, &a);
	check("dma-map-unaligned", ret == -EINVAL && strstr(logbuf, "not aligned"),
	      "iova %#" PRIx64 ": ret %d", a.iova, ret);
	a.iova = iova;
	a.vaddr = NULL;
	ret = uvfio_client_dma_map(c, &a);
	check("dma-map-needs-vaddr", ret == -EINVAL, "ret %d", ret);
out:
	munmap(mem, size);
}

static void check_lifetime(const char *loc)
{
	struct uvfio_client *a = NULL, *b = NULL;
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int ra, rb;

	/* Two clients of one device share one open device. */
	ra = uvfio_client_open(loc, NULL, &a);
	rb = uvfio_client_open(loc, NULL, &b);
	check("open-twice-shared", !ra && !rb && kvfio_handle_count() == 1,
	      "ret %d/%d handles %u", ra, rb, kvfio_handle_count());
	uvfio_client_close(a);
	check("close-one-keeps-other", b && !uvfio_client_get_info(b, &info),
	      "handles %u", kvfio_handle_count());
	uvfio_client_close(b);
	check("close-releases", kvfio_handle_count() == 0, "handles %u", kvfio_handle_count());

	/* Group, container (or iommufd) were released: a reopen works. */
	ra = uvfio_client_open(loc, NULL, &a);
	check("reopen", !ra && !uvfio_client_get_info(a, &info), "ret %d backend %s", ra,
	      a ? uvfio_client_backend(a) : "-");
	uvfio_client_close(a);
}

static void check_errors(const char *nonviable)
{
	struct uvfio_client *c = NULL;
	int ret;

	log_reset();
	ret = uvfio_client_open("pci:0000:00:03", NULL, &c);
	check("bad-location", ret == -EINVAL && strstr(logbuf, "bad location"),
	      "ret %d", ret);
	log_reset();
	ret = uvfio_client_open("pci:0000:7f:1f.7", NULL, &c);
	check("missing-device", ret == -ENODEV && strstr(logbuf, "no such device"),
	      "ret %d", ret);
	if (nonviable) {
		log_reset();
		ret = uvfio_client_open(nonviable, NULL, &c);
		check("nonviable-group", ret < 0 && strstr(logbuf, "is not viable: ") &&
		      strstr(logbuf, " is bound to "),
		      "%s: ret %d msg: %.300s", nonviable, ret, logbuf);
		if (!ret)
			uvfio_client_close(c);
	}
}

static int write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -errno;
	ret = fputs(s, f) < 0 ? -EIO : 0;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

/* VFIO_DEVICE_FEATURE with an 8-byte payload. */
static int feature8(struct uvfio_client *c, uint32_t flags, void *data)
{
	struct {
		struct vfio_device_feature f;
		uint64_t data;
	} buf = { .f = { .argsz = sizeof(buf), .flags = flags }, .data = 0 };
	int ret;

	memcpy(&buf.data, data, 8);
	ret = uvfio_client_feature(c, &buf);
	memcpy(data, &buf.data, 8);
	return ret;
}

static int set_state(struct uvfio_client *c, uint32_t state)
{
	struct vfio_device_feature_mig_state st = { .device_state = state, .data_fd = -1 };

	return feature8(c, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &st);
}

/* The mtty sample as mdev:UUID: resolution by the mdev bus, and migration. */
static void check_mdev(void)
{
	static const char uuid[] = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
	const char *create = "/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/create";
	char loc[64], rm[128];
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct uvfio_client *c;
	uint64_t mflags = 0;
	uint8_t *stream = NULL;
	size_t len = 0;
	int ret;

	if (access(create, W_OK))
		return; /* no mtty in this kernel */
	ret = write_file(create, uuid);
	check("mdev-create", !ret, "mtty-1 %s: %d", uuid, ret);
	if (ret)
		return;
	snprintf(loc, sizeof(loc), "mdev:%s", uuid);
	snprintf(rm, sizeof(rm), "/sys/bus/mdev/devices/%s/remove", uuid);
	ret = uvfio_client_open(loc, NULL, &c);
	check("mdev-open", !ret, "%s: ret %d backend %s", loc, ret,
	      ret ? "-" : uvfio_client_backend(c));
	if (ret)
		goto out_remove;
	ret = uvfio_client_get_info(c, &info);
	check("mdev-info", !ret && (info.flags & VFIO_DEVICE_FLAGS_PCI) && info.num_regions >= 9,
	      "ret %d flags %#x regions %u irqs %u", ret, info.flags, info.num_regions,
	      info.num_irqs);

	ret = feature8(c, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION, &mflags);
	if (ret) {
		check("mdev-migration", ret == -ENOTTY, "no migration: ret %d", ret);
		goto out_close;
	}
	check("mdev-migration", mflags & VFIO_MIGRATION_STOP_COPY, "flags %#" PRIx64, mflags);
	/* Save: STOP, STOP_COPY (data_fd), read to the end, STOP. */
	ret = set_state(c, VFIO_DEVICE_STATE_STOP);
	if (!ret)
		ret = set_state(c, VFIO_DEVICE_STATE_STOP_COPY);
	for (int i = 0; !ret && i < 1024; i++) {
		uint8_t *n = realloc(stream, len + 4096);
		ssize_t got;

		if (!n) {
			ret = -ENOMEM;
			break;
		}
		stream = n;
		got = uvfio_client_mig_read(c, stream + len, 4096);
		if (got < 0)
			ret = (int)got;
		else if (!got)
			break;
		else
			len += (size_t)got;
	}
	check("mdev-mig-save", !ret && len > 0, "ret %d, %zu bytes via the data_fd", ret, len);
	ret = set_state(c, VFIO_DEVICE_STATE_STOP);
	/* Load the same stream: RESUMING (data_fd), write, STOP, RUNNING. */
	if (!ret)
		ret = set_state(c, VFIO_DEVICE_STATE_RESUMING);
	if (!ret && len)
		ret = uvfio_client_mig_write(c, stream, len);
	if (!ret)
		ret = set_state(c, VFIO_DEVICE_STATE_STOP);
	if (!ret)
		ret = set_state(c, VFIO_DEVICE_STATE_RUNNING);
	check("mdev-mig-load", !ret, "ret %d", ret);
	/* Outside a session there is no data_fd to read. */
	check("mdev-mig-no-session", uvfio_client_mig_read(c, stream, 1) == -EINVAL, "-");
out_close:
	free(stream);
	uvfio_client_close(c);
out_remove:
	ret = write_file(rm, "1");
	check("mdev-remove", !ret, "ret %d", ret);
}

int main(int argc, char **argv)
{
	char found[64];
	const char *loc = NULL, *nonviable = NULL;
	struct uvfio_client *c;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--nonviable") && i + 1 < argc)
			nonviable = argv[++i];
		else if (argv[i][0] != '-' && !loc)
			loc = argv[i];
		else {
			fprintf(stderr, "usage: %s [LOCATION] [--nonviable LOCATION]\n", argv[0]);
			return 2;
		}
	}
	uvfio_log_set_sink(sink, NULL);
	/* Only a non-viable location: the error checks are all there is. */
	if (nonviable && !loc) {
		check_errors(nonviable);
		printf("kvfio-selftest: --nonviable %s: %d failure(s)\n", nonviable, failures);
		return failures ? 1 : 0;
	}
	if (!loc) {
		if (find_edu(found, sizeof(found))) {
			check("find-edu", 0, "no edu (1234:11e8) in /sys/bus/pci/devices");
			return 1;
		}
		loc = found;
	}
	ret = uvfio_client_open(loc, NULL, &c);
	check("open", !ret, "%s: ret %d backend %s", loc, ret, ret ? "-" : uvfio_client_backend(c));
	if (ret)
		return 1;
	check_info(c);
	check_dma(c);
	uvfio_client_close(c);
	check_lifetime(loc);
	check_errors(nonviable);
	check_mdev();
	printf("kvfio-selftest: %s: %d failure(s)\n", loc, failures);
	return failures ? 1 : 0;
}
