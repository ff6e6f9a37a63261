/* SPDX-License-Identifier: MIT */
/*
 * What a guest driver does to a PCI function, done through the core API:
 * config space accesses (region 7), BAR accesses, eventfds for interrupts.
 * Shared by the device tests; every helper asserts that its access worked.
 */
#ifndef UVFIO_DEVICES_TESTS_PCI_GUEST_H
#define UVFIO_DEVICES_TESTS_PCI_GUEST_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <uvfio/device.h>

#define CFG_REGION VFIO_PCI_CONFIG_REGION_INDEX

static inline uint32_t cfg_read(struct uvfio_device *dev, uint64_t off, size_t size)
{
	uint8_t b[4] = { 0 };
	uint32_t v = 0;

	assert_int_equal(uvfio_device_read(dev, CFG_REGION, off, b, size), (ssize_t)size);
	for (size_t i = 0; i < size; i++)
		v |= (uint32_t)b[i] << (8 * i);
	return v;
}

static inline void cfg_write(struct uvfio_device *dev, uint64_t off, size_t size,
			     uint32_t v)
{
	uint8_t b[4];

	for (size_t i = 0; i < size; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	assert_int_equal(uvfio_device_write(dev, CFG_REGION, off, b, size), (ssize_t)size);
}

/* COMMAND register bits, as a guest sets them. */
#define CMD_IO		0x1
#define CMD_MEMORY	0x2
#define CMD_MASTER	0x4

static inline void cfg_command(struct uvfio_device *dev, uint16_t bits)
{
	cfg_write(dev, 0x04, 2, bits);
}

/* Offset of capability `id` in the list, 0 if absent. */
static inline uint8_t cfg_find_cap(struct uvfio_device *dev, uint8_t id)
{
	uint8_t pos;
	int hops = 0;

	if (!(cfg_read(dev, 0x06, 2) & 0x10)) /* STATUS.CAP_LIST */
		return 0;
	pos = (uint8_t)cfg_read(dev, 0x34, 1) & ~3;
	while (pos && hops++ < 48) {
		if (cfg_read(dev, pos, 1) == id)
			return pos;
		pos = (uint8_t)cfg_read(dev, pos + 1, 1) & ~3;
	}
	return 0;
}

/* STATUS.INTERRUPT: the INTx level the function asserts. */
static inline int cfg_intx_asserted(struct uvfio_device *dev)
{
	return !!(cfg_read(dev, 0x06, 2) & 0x08);
}

static inline uint64_t bar_read(struct uvfio_device *dev, uint32_t bar,
				uint64_t off, size_t size)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;

	assert_int_equal(uvfio_device_read(dev, bar, off, b, size), (ssize_t)size);
	for (size_t i = 0; i < size; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static inline void bar_write(struct uvfio_device *dev, uint32_t bar, uint64_t off,
			     size_t size, uint64_t v)
{
	uint8_t b[8];

	for (size_t i = 0; i < size; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	assert_int_equal(uvfio_device_write(dev, bar, off, b, size), (ssize_t)size);
}

/* A non-blocking eventfd wired to vector 0 of IRQ `index` with SET_IRQS. */
static inline int irq_eventfd(struct uvfio_device *dev, uint32_t index)
{
	struct {
		struct vfio_irq_set hdr;
		int32_t fd;
	} s = { 0 };
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	assert_true(fd >= 0);
	s.hdr.argsz = sizeof(s);
	s.hdr.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	s.hdr.index = index;
	s.hdr.start = 0;
	s.hdr.count = 1;
	s.fd = fd;
	assert_int_equal(uvfio_device_set_irqs(dev, &s.hdr, &s.fd, sizeof(s.fd)), 0);
	return fd;
}

/* Unmask an AUTOMASKED index (INTx) as the client does after servicing. */
static inline void irq_unmask(struct uvfio_device *dev, uint32_t index)
{
	struct vfio_irq_set hdr = {
		.argsz = sizeof(hdr),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
		.index = index,
		.start = 0,
		.count = 1,
	};

	assert_int_equal(uvfio_device_set_irqs(dev, &hdr, NULL, 0), 0);
}

/* How many times the eventfd fired since the last call (0: none). */
static inline uint64_t irq_fired(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n)) {
		assert_int_equal(errno, EAGAIN);
		return 0;
	}
	return n;
}

#endif
