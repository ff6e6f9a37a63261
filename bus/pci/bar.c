/* SPDX-License-Identifier: MIT */
/*
 * BAR and expansion ROM regions. Trapped BARs are forwarded to the device's
 * handlers in naturally aligned pieces of at most 8 bytes (so a handler
 * never sees an access crossing a register), except the MSI-X table and
 * PBA, served by intr.c. Mappable BARs are a memfd the device and the client
 * share.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <uvfio/log.h>
#include "bus/pci/pci_internal.h"

int pci_bars_init(struct uvfio_pci_device *pdev)
{
	const struct uvfio_pci_rom_info *rom = &pdev->info.rom;
	int ret;

	for (int i = 0; i < 6; i++) {
		const struct uvfio_pci_bar_info *b = &pdev->info.bars[i];
		void *mem;
		int fd;

		if (!b->size || !(b->flags & UVFIO_PCI_BAR_MAPPABLE))
			continue;
		if (b->size > (uint64_t)SIZE_MAX || b->size > (uint64_t)INT64_MAX) {
			ret = -EINVAL;
			goto unwind;
		}
		fd = memfd_create(uvfio_device_name(pdev->dev), MFD_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			goto unwind;
		}
		if (ftruncate(fd, (off_t)b->size) < 0) {
			ret = -errno;
			close(fd);
			goto unwind;
		}
		mem = mmap(NULL, (size_t)b->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (mem == MAP_FAILED) {
			ret = -errno;
			close(fd);
			goto unwind;
		}
		pdev->bar_fd[i] = fd;
		pdev->bar_mem[i] = mem;
	}

	if (rom->size) {
		pdev->rom = malloc((size_t)rom->size);
		if (!pdev->rom) {
			ret = -ENOMEM;
			goto unwind;
		}
		/* Unprogrammed flash reads as all-ones. */
		memset(pdev->rom, 0xff, (size_t)rom->size);
		if (rom->len)
			memcpy(pdev->rom, rom->data, rom->len);
		pdev->info.rom.data = pdev->rom;
	}
	return 0;

unwind:
	pci_bars_free(pdev);
	return ret;
}

void pci_bars_free(struct uvfio_pci_device *pdev)
{
	for (int i = 0; i < 6; i++) {
		if (pdev->bar_mem[i])
			munmap(pdev->bar_mem[i], (size_t)pdev->info.bars[i].size);
		if (pdev->bar_fd[i] >= 0)
			close(pdev->bar_fd[i]);
		pdev->bar_mem[i] = NULL;
		pdev->bar_fd[i] = -1;
	}
	free(pdev->rom);
	pdev->rom = NULL;
	pdev->info.rom.data = NULL;
}

void *uvfio_pci_bar_mem(struct uvfio_pci_device *pdev, int bar)
{
	if (!pdev || bar < 0 || bar >= 6)
		return NULL;
	return pdev->bar_mem[bar];
}

/* The largest naturally aligned piece (8, 4, 2, 1) at pos within left. */
static size_t piece(uint64_t pos, size_t left)
{
	for (size_t n = 8; n > 1; n >>= 1)
		if (left >= n && !(pos & (n - 1)))
			return n;
	return 1;
}

/*
 * Client access to BAR `bar`; the core has checked [pos, pos+count) against
 * the region size. Without memory (or I/O) decode, or in D3hot, reads
 * return all-ones and writes are dropped, as a master abort on a real bus.
 */
ssize_t pci_bar_rw(struct uvfio_pci_device *pdev, int bar, uint64_t pos,
		   void *buf, size_t count, bool write)
{
	const struct uvfio_pci_bar_info *b = &pdev->info.bars[bar];
	const struct uvfio_pci_ops *ops = pdev->info.ops;
	uvfio_pci_bar_read_fn rd = b->read ? b->read : (ops ? ops->bar_read : NULL);
	uvfio_pci_bar_write_fn wr = b->write ? b->write : (ops ? ops->bar_write : NULL);
	uint8_t *p = buf;
	uint64_t end;
	bool decode;
	size_t done = 0;

	if (__builtin_add_overflow(pos, (uint64_t)count, &end) || end > b->size)
		return -EINVAL;

	if (pdev->bar_mem[bar]) {
		/* The client may have it mapped: decode can't gate it either. */
		if (write)
			memcpy((uint8_t *)pdev->bar_mem[bar] + pos, buf, count);
		else
			memcpy(buf, (uint8_t *)pdev->bar_mem[bar] + pos, count);
		return (ssize_t)count;
	}

	pthread_mutex_lock(&pdev->lock);
	decode = pci_bar_decode_locked(pdev, bar);
	pthread_mutex_unlock(&pdev->lock);
	if (!decode) {
		if (!write)
			memset(buf, 0xff, count);
		uvfio_dev_log(pdev->dev, UVFIO_LOG_DEBUG,
			      "BAR%d %s at 0x%llx with decode off: %s", bar,
			      write ? "write" : "read", (unsigned long long)pos,
			      write ? "dropped" : "all-ones");
		return (ssize_t)count;
	}

	while (done < count) {
		uint64_t off = pos + done;
		size_t n = piece(off, count - done);
		int ret = 0;

		if (pci_msix_table_access(pdev, bar, off, p + done, n, write)) {
			/* served */
		} else if (write) {
			if (wr)
				ret = wr(pdev, bar, off, p + done, n);
		} else if (rd) {
			ret = rd(pdev, bar, off, p + done, n);
		} else {
			memset(p + done, 0, n);
		}
		if (ret < 0)
			return ret;
		done += n;
	}
	return (ssize_t)count;
}

ssize_t pci_rom_read(struct uvfio_pci_device *pdev, uint64_t pos, void *buf,
		     size_t count)
{
	uint64_t end;

	if (!pdev->rom || __builtin_add_overflow(pos, (uint64_t)count, &end) ||
	    end > pdev->info.rom.size)
		return -EINVAL;
	memcpy(buf, pdev->rom + pos, count);
	return (ssize_t)count;
}
