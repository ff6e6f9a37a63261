/* SPDX-License-Identifier: MIT */
/*
 * The edu device for other samples in devices/ (edu-sriov builds its PF and
 * VFs from it): a struct edu made from any PCI table based on edu_pci_info
 * whose ops are edu_pci_ops (or a copy of them with more hooks).
 */
#ifndef UVFIO_DEVICES_EDU_H
#define UVFIO_DEVICES_EDU_H

#include <uvfio/pci.h>

struct edu;

extern const struct uvfio_pci_info edu_pci_info;
extern const struct uvfio_pci_ops edu_pci_ops;

/* `info` must outlive the device (its ops are not copied); `owner` is
 * returned by edu_owner(). Returns 0 or a negative errno. */
int edu_new(const char *name, const struct uvfio_pci_info *info, void *owner,
	    struct edu **out);
/* After uvfio_device_unregister() if it was registered; NULL is a no-op. */
void edu_free(struct edu *edu);
struct uvfio_pci_device *edu_pdev(struct edu *edu);
void *edu_owner(struct edu *edu);
/* The DMA engine's eventfd and its handler (struct uvfio_sample's). */
int edu_event_fd(void *edu);
int edu_handle_event(void *edu);

#endif
