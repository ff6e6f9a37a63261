/* SPDX-License-Identifier: MIT */
/*
 * One client API for a VFIO device, wherever it lives:
 *   "vfio-user:/path/to.sock"      a vfio-user server (uvfio serve, libvfio-user, SPDK ...)
 *   "pci:0000:00:03.0[?iommu=group|cdev]", "mdev:UUID", "cdx:NAME",
 *   "/dev/vfio/N:DEVICE", "/dev/vfio/noiommu-N:DEVICE", "/dev/vfio/devices/vfioX"
 *                                  the kernel's VFIO (container/group or iommufd
 *                                  cdev; the cdev is preferred when present)
 *
 * The verbs are those of the kernel's device fd. A driver written on them
 * runs unchanged against real hardware and against an emulated device.
 * Functions return 0 (or a byte count) or a negative errno.
 */
#ifndef UVFIO_CLIENT_H
#define UVFIO_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uvfio/device.h>
#include <uvfio/dma.h>

#ifdef __cplusplus
extern "C" {
#endif

struct uvfio_client;

struct uvfio_client_opts {
	uint32_t timeout_ms; /* per reply; 0: 5000. A dead server never hangs a call. */
	/*
	 * The VF token (a UUID, "8-4-4-4-12") shared with the PF's user, or
	 * NULL. Needed to open an SR-IOV VF whose PF is owned by a user or has
	 * a token set. vfio-user: sent as "vf_token" in VERSION's capabilities
	 * (docs/protocol-extensions.md); a refusal fails the open with the
	 * server's errno (EACCES, as the kernel). Kernel VFIO: passed as
	 * "BDF vf_token=UUID" to VFIO_GROUP_GET_DEVICE_FD, or in the iommufd
	 * cdev's BIND_IOMMUFD token. A malformed UUID: -EINVAL. The kernel
	 * refuses a missing or wrong token with -EACCES and a token for a
	 * device that takes none with -EINVAL; the error line says which.
	 */
	const char *vf_token;
	/*
	 * vfio-user: never use the device's doorbells (see
	 * uvfio_client_write_posted): every write goes as a message. Kernel
	 * VFIO has no doorbells in this API; ignored there.
	 */
	bool no_ioeventfds;
};

/* -EPROTONOSUPPORT: the location names no backend this build has. */
int uvfio_client_open(const char *location, const struct uvfio_client_opts *opts,
		      struct uvfio_client **out);
/* Unmaps what the client mapped, closes fds and the connection. */
void uvfio_client_close(struct uvfio_client *c);

/* As the ioctls: info->argsz (and irq_info's) must be at least 16, else -EINVAL. */
int uvfio_client_get_info(struct uvfio_client *c, struct vfio_device_info *info);
/*
 * Region info with its capabilities parsed (argsz retry done inside).
 * out->mmap_fd is the region's fd when it is mappable (owned by the client,
 * valid until close), else -1.
 */
int uvfio_client_region(struct uvfio_client *c, uint32_t index,
			struct uvfio_region *out);
ssize_t uvfio_client_read(struct uvfio_client *c, uint32_t index, uint64_t pos,
			  void *buf, size_t count);
ssize_t uvfio_client_write(struct uvfio_client *c, uint32_t index, uint64_t pos,
			   const void *buf, size_t count);
/*
 * A posted write, as on PCI: sent without waiting for the device's answer.
 * Returns count once the bytes are on their way (vfio-user: REGION_WRITE
 * messages flagged No_reply, sent with the caller's data in one sendmsg per
 * message; kernel VFIO: a plain pwrite). An error the device meets while
 * applying the write is not reported. Order is kept: a later call on this
 * client (a read, say) is handled after the write, so a read flushes it.
 * Errors: EINVAL (bad arguments), or the connection's error.
 *
 * Doorbells, the fast path (vfio-user): a device may name registers whose
 * writes need no answer (DEVICE_GET_REGION_IO_FDS, asked once per region,
 * on its first posted write). A posted write that matches one -- same
 * offset, same size, and the same value when the doorbell has a datamatch
 * -- writes 1 to the doorbell's eventfd instead of sending a message: one
 * syscall, no message, no reply, the device's server wakes on the eventfd.
 * Such a write is NOT ordered against later calls: as with KVM's
 * ioeventfd, the device sees it when its loop next runs, possibly after a
 * read sent later; learn that it arrived from the device (an interrupt, a
 * register it changes). Writes that match no doorbell, and every write
 * with opts.no_ioeventfds, go as REGION_WRITE with No_reply as above.
 * uvfio_client_write() never takes this path. (A server that rejects
 * GET_REGION_IO_FDS without reading its payload -- rust-vmm's -- loses
 * the stream: use opts.no_ioeventfds there.)
 */
ssize_t uvfio_client_write_posted(struct uvfio_client *c, uint32_t index, uint64_t pos,
				  const void *buf, size_t count);
/* A doorbell of a region, as the device's server described it. */
struct uvfio_client_ioeventfd {
	uint64_t offset;  /* in the region */
	uint32_t size;	  /* bytes of the write: 1, 2, 4 or 8 */
	bool datamatch;	  /* only writes of `data` (little endian) */
	uint64_t data;
	int fd;		  /* its eventfd; the client's, valid until close */
};

/*
 * The doorbells of region `index` (vfio-user DEVICE_GET_REGION_IO_FDS,
 * asked once per region and kept): up to `cap` into `out`; returns how many
 * the region has. 0: none, also for kernel VFIO, with opts.no_ioeventfds,
 * and for a server without the command. For a VMM that hands the eventfds
 * to KVM (KVM_IOEVENTFD), so a guest's write never leaves the kernel;
 * uvfio_client_write_posted() uses them by itself. Entries of other types
 * (ioregionfd, libvfio-user's shadow ioeventfd) or with flags we do not
 * know are left out. -EINVAL: bad index; or the connection's error.
 */
int uvfio_client_ioeventfds(struct uvfio_client *c, uint32_t index,
			    struct uvfio_client_ioeventfd *out, size_t cap);

/*
 * Map [pos, pos+len) of a mappable area of region `index` (prot: PROT_*).
 * Returns NULL with errno set: EINVAL (pos not page aligned, range not
 * inside one mmap area, region not mappable, prot beyond the region's
 * READ/WRITE), ENODEV (mappable but no fd was given), or mmap's errno.
 */
void *uvfio_client_mmap(struct uvfio_client *c, uint32_t index, uint64_t pos,
			size_t len, int prot);
int uvfio_client_munmap(struct uvfio_client *c, void *addr, size_t len);

int uvfio_client_irq_info(struct uvfio_client *c, struct vfio_irq_info *info);
/* As VFIO_DEVICE_SET_IRQS: data is u8[count] (BOOL) or s32 fds[count] (EVENTFD). */
int uvfio_client_set_irqs(struct uvfio_client *c, const struct vfio_irq_set *hdr,
			  const void *data);

/*
 * Map caller memory for device DMA. Over vfio-user: with args->fd >= 0 the
 * fd is passed to the server (the client keeps its own fd) and the device
 * reaches the memory directly; without an fd the window is message based
 * and the client serves the server's DMA_READ/WRITE from args->vaddr.
 * On the kernel, vaddr is required (the IOMMU pins process memory; fd is
 * not used), the IOVA is checked against the IOMMU's valid ranges first,
 * and the address space is the process's, shared by its kernel devices:
 * unmap_all and close remove only what this client mapped. noiommu has no
 * IOMMU to map through (-EOPNOTSUPP).
 */
int uvfio_client_dma_map(struct uvfio_client *c, const struct uvfio_dma_map_args *args);
int uvfio_client_dma_unmap(struct uvfio_client *c, uint64_t iova, uint64_t size);
int uvfio_client_dma_unmap_all(struct uvfio_client *c);

int uvfio_client_reset(struct uvfio_client *c);
/* As VFIO_DEVICE_FEATURE on `buf` (struct vfio_device_feature + data, argsz bytes). */
int uvfio_client_feature(struct uvfio_client *c, void *buf);
/* Migration data (MIG_DATA_READ/WRITE over vfio-user, data_fd on the kernel). */
ssize_t uvfio_client_mig_read(struct uvfio_client *c, void *buf, size_t len);
int uvfio_client_mig_write(struct uvfio_client *c, const void *buf, size_t len);

/*
 * Serve requests the device sends while no call is in progress (vfio-user
 * DMA_READ/WRITE). Poll uvfio_client_fd() for POLLIN, then call this, or
 * let it wait: up to timeout_ms (0: not at all, < 0: until a request comes).
 * Returns the number of requests served, or a negative errno when the
 * connection is dead. The wait does not hold up calls from other threads.
 */
int uvfio_client_fd(struct uvfio_client *c);
int uvfio_client_process(struct uvfio_client *c, int timeout_ms);

/* "vfio-user", "kernel-group", "kernel-cdev" */
const char *uvfio_client_backend(struct uvfio_client *c);

#ifdef __cplusplus
}
#endif
#endif
