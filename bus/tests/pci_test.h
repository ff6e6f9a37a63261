/* SPDX-License-Identifier: MIT */
/* Helpers shared by the PCI bus driver tests: config and BAR access through
 * the core's checked region read/write, as a client reaches them. */
#ifndef UVFIO_PCI_TEST_H
#define UVFIO_PCI_TEST_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include <uvfio/log.h>

#include "bus/pci/pci_internal.h"

#define CFG VFIO_PCI_CONFIG_REGION_INDEX

/* The host is little endian (x86/arm64), as config space. */
static inline uint32_t cfg_read(struct uvfio_pci_device *p, uint32_t off,
				uint32_t size)
{
	uint32_t v = 0;

	assert_int_equal(uvfio_device_read(uvfio_pci_to_device(p), CFG, off, &v, size),
			 size);
	return v;
}

static inline void cfg_write(struct uvfio_pci_device *p, uint32_t off,
			     uint32_t size, uint32_t v)
{
	assert_int_equal(uvfio_device_write(uvfio_pci_to_device(p), CFG, off, &v, size),
			 size);
}

static inline uint64_t bar_read(struct uvfio_pci_device *p, int bar,
				uint64_t off, uint32_t size)
{
	uint64_t v = 0;

	assert_int_equal(uvfio_device_read(uvfio_pci_to_device(p), (uint32_t)bar, off,
					   &v, size), size);
	return v;
}

static inline void bar_write(struct uvfio_pci_device *p, int bar, uint64_t off,
			     uint32_t size, uint64_t v)
{
	assert_int_equal(uvfio_device_write(uvfio_pci_to_device(p), (uint32_t)bar, off,
					    &v, size), size);
}

/* Find capability `id` by walking the list the way a guest does. */
static inline uint32_t find_cap(struct uvfio_pci_device *p, uint8_t id)
{
	uint32_t pos = cfg_read(p, PCI_CAPABILITY_LIST, 1);

	for (int n = 0; pos && n < 48; n++) {
		if (cfg_read(p, pos, 1) == id)
			return pos;
		pos = cfg_read(p, pos + 1, 1);
	}
	return 0;
}

static inline int make_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

/* Signals counted by the eventfd since the last call (0 if none). */
static inline uint64_t efd_count(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* SET_IRQS TRIGGER with eventfds for [start, start+count). */
static inline int set_trigger_fds(struct uvfio_pci_device *p, uint32_t index,
				  uint32_t start, uint32_t count, const int32_t *fds)
{
	struct {
		struct vfio_irq_set hdr;
		int32_t fds[32];
	} s;

	memset(&s, 0, sizeof(s));
	s.hdr.argsz = (uint32_t)(sizeof(s.hdr) + count * sizeof(int32_t));
	s.hdr.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	s.hdr.index = index;
	s.hdr.start = start;
	s.hdr.count = count;
	memcpy(s.fds, fds, count * sizeof(int32_t));
	return uvfio_device_set_irqs(uvfio_pci_to_device(p), &s.hdr, s.fds,
				     count * sizeof(int32_t));
}

/* SET_IRQS with DATA_NONE and the given action. */
static inline int set_irqs_none(struct uvfio_pci_device *p, uint32_t index,
				uint32_t action, uint32_t start, uint32_t count)
{
	struct vfio_irq_set hdr = {
		.argsz = sizeof(hdr),
		.flags = VFIO_IRQ_SET_DATA_NONE | action,
		.index = index,
		.start = start,
		.count = count,
	};

	return uvfio_device_set_irqs(uvfio_pci_to_device(p), &hdr, NULL, 0);
}

#endif
