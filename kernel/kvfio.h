/* SPDX-License-Identifier: MIT */
/*
 * The kernel VFIO backend of the client, private interfaces. Files:
 *   paths.c      sysfs and /dev roots (configurable for tests)
 *   location.c   location strings -> struct kvfio_location (pure)
 *   sysfs.c      location -> group / cdev, device drivers, group viability
 *   caps.c       VFIO info capability chains (IOMMU info, region info; pure)
 *   container.c  the process's one container (/dev/vfio/vfio), type1 DMA
 *   group.c      /dev/vfio/N groups, refcounted, joined to the container
 *   iommufd.c    the process's one /dev/iommu + IOAS, cdev bind/attach
 *   handle.c     refcounted open devices (group- or cdev-obtained fds)
 *   device.c     the device-fd verbs (info, regions, irqs, reset, feature)
 *   client_kernel.c  the client backend vtable over the above
 *   bind.c       driver_override bind/unbind helpers (uvfio bind)
 *   vf_token.c   why the kernel refused a VF token, from sysfs
 * Functions return 0 (or a count) or a negative errno; errors are logged
 * naming the device, so callers need not repeat the reason.
 */
#ifndef UVFIO_KERNEL_KVFIO_H
#define UVFIO_KERNEL_KVFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uvfio/device.h>

#include "core/vfio_compat.h"

/* ---- paths.c ------------------------------------------------------------ */

/* "/sys" and "/dev" unless UVFIO_SYSFS_ROOT / UVFIO_DEV_ROOT say otherwise,
 * or a setter was called (NULL restores the environment/default). */
const char *kvfio_sysfs_root(void);
const char *kvfio_dev_root(void);
void kvfio_set_sysfs_root(const char *root);
void kvfio_set_dev_root(const char *root);
/* snprintf into buf; -ENAMETOOLONG when it does not fit. */
int kvfio_path(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- location.c --------------------------------------------------------- */

#define KVFIO_NAME_MAX 64 /* device names: BDF, UUID, cdx names */

enum kvfio_loc_kind {
	KVFIO_LOC_PCI,	 /* pci:BDF */
	KVFIO_LOC_MDEV,	 /* mdev:UUID */
	KVFIO_LOC_CDX,	 /* cdx:NAME */
	KVFIO_LOC_GROUP, /* /dev/vfio/N:NAME, /dev/vfio/noiommu-N:NAME */
	KVFIO_LOC_CDEV,	 /* /dev/vfio/devices/vfioX */
};

enum kvfio_iommu_pref {
	KVFIO_IOMMU_AUTO,  /* cdev when /dev/iommu and the cdev exist */
	KVFIO_IOMMU_GROUP, /* ?iommu=group */
	KVFIO_IOMMU_CDEV,  /* ?iommu=cdev */
};

struct kvfio_location {
	enum kvfio_loc_kind kind;
	enum kvfio_iommu_pref pref;
	char device[KVFIO_NAME_MAX]; /* sysfs name; empty for CDEV */
	char group[32];		     /* GROUP: "5" or "noiommu-5" */
	char cdev[32];		     /* CDEV: "vfio0" */
};

/* -EINVAL (logged, naming the location) for anything malformed. */
int kvfio_location_parse(const char *loc, struct kvfio_location *out);
/* DDDD:BB:DD.F (or BB:DD.F) normalised into out; false if malformed. Silent. */
bool kvfio_parse_bdf(const char *s, char *out, size_t len);
/* The sysfs bus directory of a PCI/MDEV/CDX location ("pci", ...). */
const char *kvfio_location_bus(enum kvfio_loc_kind kind);

/* ---- sysfs.c ------------------------------------------------------------ */

struct kvfio_target {
	bool cdev;		     /* open cdev_path, else group_path */
	bool noiommu;		     /* the group is /dev/vfio/noiommu-N */
	char device[KVFIO_NAME_MAX]; /* name for VFIO_GROUP_GET_DEVICE_FD */
	char group[32];		     /* "5" / "noiommu-5"; empty if unknown */
	char group_path[256];
	char cdev_path[256];
};

/*
 * Where to open the device named by `loc`. For sysfs forms: follows
 * bus/X/devices/NAME/iommu_group to the group number and vfio-dev/vfioN to
 * the cdev, then checks the /dev nodes. Errors are logged with the fix.
 */
int kvfio_resolve(const struct kvfio_location *loc, struct kvfio_target *t);
/* Basename of the symlink at `path` (e.g. driver, iommu_group). */
int kvfio_readlink_base(const char *path, char *out, size_t len);
/* Driver bound to bus/BUS/devices/NAME: 1 with name, 0 if none, -errno. */
int kvfio_device_driver(const char *bus, const char *name, char *drv, size_t len);
/* The driver may share a group with a VFIO user (vfio drivers, pci-stub, pcieport). */
bool kvfio_driver_is_vfio_safe(const char *drv);
/*
 * Why group `group_nr` (digits) is not viable: writes "group 5 is not
 * viable: 0000:00:04.0 is bound to e1000e; bind it to vfio-pci or unbind it"
 * (one clause per offending device) to msg. Returns the number of
 * offending devices (0: none found) or -errno.
 */
int kvfio_group_viability(const char *group_nr, char *msg, size_t len);

/* ---- vf_token.c --------------------------------------------------------- */

/*
 * The kernel refused to open PCI device `device` with `err` (-EACCES, or
 * -EINVAL when a token was given): if vfio-pci's VF token rules explain it,
 * writes why and what to do to msg ("the kernel refused the VF token: ...",
 * "the kernel requires a VF token to open VF ...") and returns 1, else 0.
 */
int kvfio_vf_token_refusal(const char *device, int err, bool token, char *msg, size_t len);

/* ---- pci_status.c ------------------------------------------------------- */

struct kvfio_pci_status {
	char bdf[16];
	char vendor[16], device[16]; /* "0x1234" as sysfs has them */
	char driver[64];	     /* empty: none */
	char group[16];		     /* empty: no IOMMU group */
	bool bound;		     /* to a vfio driver */
	bool viable;		     /* no other group member on a host driver */
	char group_node[256];	     /* /dev/vfio/N or noiommu-N, if present */
	char cdev_node[256];	     /* /dev/vfio/devices/vfioX, if present */
	bool usable;
	char problem[512];	     /* why not usable */
};

/* -ENODEV if there is no such device. */
int kvfio_pci_status(const char *bdf, struct kvfio_pci_status *s);

/* ---- caps.c ------------------------------------------------------------- */

#define KVFIO_MAX_CAPS 64	  /* a longer chain is treated as corrupt */
#define KVFIO_MAX_IOVA_RANGES 64  /* more: the rest are ignored (stricter checks) */
#define KVFIO_INFO_MAX (64u << 10) /* cap on a kernel-requested argsz */

struct kvfio_iova_range {
	uint64_t start, last; /* inclusive */
};

struct kvfio_iommu_info {
	uint64_t pgsizes; /* VFIO_IOMMU_INFO_PGSIZES; 0 if not reported */
	uint32_t nr_ranges;
	struct kvfio_iova_range ranges[KVFIO_MAX_IOVA_RANGES];
	bool has_dma_avail;
	uint32_t dma_avail;
};

/*
 * Walk the chain of an info struct of `hdr_size` bytes in buf[0, len),
 * starting at `first`: each header must lie inside the buffer past the
 * fixed struct, and each `next` must point forward (no loops). fn gets the
 * cap and the bytes up to the next cap (or the buffer end).
 */
typedef int (*kvfio_cap_fn)(void *opaque, uint16_t id, uint16_t version,
			    const uint8_t *cap, size_t cap_len);
int kvfio_cap_walk(const void *buf, size_t len, size_t hdr_size, uint32_t first,
		   kvfio_cap_fn fn, void *opaque);
/* struct vfio_iommu_type1_info + caps -> info; -EPROTO on a bad chain. */
int kvfio_parse_iommu_info(const void *buf, size_t len, struct kvfio_iommu_info *info);
/* struct vfio_region_info + caps -> region (mmap_fd = -1); -EPROTO on bad caps. */
int kvfio_parse_region_info(const void *buf, size_t len, struct uvfio_region *r);
/*
 * May [iova, iova+size) be mapped? Aligned to the smallest page size and
 * inside one range (an empty range list allows everything, as type1).
 * -EINVAL/-EOVERFLOW with a message in msg naming the valid ranges.
 */
int kvfio_iova_check(const struct kvfio_iommu_info *info, uint64_t iova,
		     uint64_t size, char *msg, size_t len);

/* ---- container.c -------------------------------------------------------- */

struct kvfio_container;

/* The process's container, opened on first use (API version checked). */
int kvfio_container_get(struct kvfio_container **out);
void kvfio_container_put(struct kvfio_container *c);
int kvfio_container_fd(struct kvfio_container *c);
/* After a group joined: pick TYPE1v2 > TYPE1 > NOIOMMU, SET_IOMMU, GET_INFO. */
int kvfio_container_set_iommu(struct kvfio_container *c, const char *who);
bool kvfio_container_noiommu(struct kvfio_container *c);
int kvfio_container_dma_map(struct kvfio_container *c, uint64_t iova, uint64_t size,
			    void *vaddr, uint32_t prot, const char *who);
int kvfio_container_dma_unmap(struct kvfio_container *c, uint64_t iova,
			      uint64_t size, uint64_t *unmapped, const char *who);
void kvfio_container_info(struct kvfio_container *c, struct kvfio_iommu_info *out);

/* ---- group.c ------------------------------------------------------------ */

struct kvfio_group;

/* Open (or share) group `t->group`, check viability, join the container. */
int kvfio_group_get(const struct kvfio_target *t, struct kvfio_group **out);
void kvfio_group_put(struct kvfio_group *g);
/* VFIO_GROUP_GET_DEVICE_FD: a new fd or -errno. */
/* vf_token (UUID string or NULL): asked for as "device vf_token=UUID". */
int kvfio_group_device_fd(struct kvfio_group *g, const char *device,
			  const char *vf_token);
struct kvfio_container *kvfio_group_container(struct kvfio_group *g);

/* ---- iommufd.c ---------------------------------------------------------- */

struct kvfio_iommufd;

int kvfio_iommufd_get(struct kvfio_iommufd **out);
void kvfio_iommufd_put(struct kvfio_iommufd *ctx);
/* VFIO_DEVICE_BIND_IOMMUFD: 0 or -errno, NOT logged (the caller says why;
 * the kernel gives only the errno). vf_token: 16 bytes
 * (VFIO_DEVICE_BIND_FLAG_TOKEN, Linux 6.17+) or NULL. */
int kvfio_iommufd_bind(struct kvfio_iommufd *ctx, int devfd, const uint8_t *vf_token);
/* ATTACH_IOMMUFD_PT to the IOAS, then refreshes the ranges; logs errors. */
int kvfio_iommufd_attach(struct kvfio_iommufd *ctx, int devfd, const char *who);
int kvfio_iommufd_dma_map(struct kvfio_iommufd *ctx, uint64_t iova, uint64_t size,
			  void *vaddr, uint32_t prot, const char *who);
int kvfio_iommufd_dma_unmap(struct kvfio_iommufd *ctx, uint64_t iova,
			    uint64_t size, uint64_t *unmapped, const char *who);
void kvfio_iommufd_info(struct kvfio_iommufd *ctx, struct kvfio_iommu_info *out);

/* ---- handle.c ----------------------------------------------------------- */

/* One open device, shared by every client of it in the process. */
struct kvfio_handle {
	char name[KVFIO_NAME_MAX + 40]; /* for log lines: "pci:0000:00:03.0" */
	char key[300];			/* group/device or cdev path */
	int fd;
	bool cdev;
	struct kvfio_group *group;	/* !cdev */
	struct kvfio_iommufd *iommufd;	/* cdev */
	bool has_token;			/* opened (cdev: bound) with vf_token */
	uint8_t vf_token[16];
	char device[KVFIO_NAME_MAX];	/* "" if unknown */
	char iommu_group[32];		/* the device's group, "" if unknown */
	unsigned int refs;
	struct kvfio_handle *next;
};

/* vf_token: a UUID string for an SR-IOV VF (or PF) of vfio-pci, or NULL. */
int kvfio_handle_open(const char *location, const char *vf_token,
		      struct kvfio_handle **out);
void kvfio_handle_put(struct kvfio_handle *h);
int kvfio_handle_dma_map(struct kvfio_handle *h, uint64_t iova, uint64_t size,
			 void *vaddr, uint32_t prot);
int kvfio_handle_dma_unmap(struct kvfio_handle *h, uint64_t iova, uint64_t size,
			   uint64_t *unmapped);
/* Number of open handles (tests: everything released after close). */
unsigned int kvfio_handle_count(void);
/*
 * A device of IOMMU group `group` that this process has open through its
 * cdev (cdev true) or through the group (false), or NULL. The kernel keeps
 * the two apart: a bound cdev makes its group's open EBUSY, an open group
 * its devices' cdev binds. Callers hold the registry lock (group.c, while
 * opening a group).
 */
const struct kvfio_handle *kvfio_handle_in_group(const char *group, bool cdev);

/* ---- device.c ----------------------------------------------------------- */

int kvfio_dev_get_info(int fd, struct vfio_device_info *info, const char *who);
/* GET_REGION_INFO with the argsz retry, caps parsed; r->mmap_fd = -1. */
int kvfio_dev_region(int fd, uint32_t index, struct uvfio_region *r, const char *who);
/*
 * An INFO ioctl whose struct starts with u32 argsz and may grow with caps:
 * `req` is the request struct (hdr_len bytes, argsz set here), retried with
 * the argsz the kernel asks for, capped at KVFIO_INFO_MAX (-EMSGSIZE). On 0,
 * *out (free it) holds *out_len bytes with the complete answer. An ioctl
 * failure returns -errno without logging: the caller knows which are normal.
 */
int kvfio_info_ioctl(int fd, unsigned long cmd, const void *req, size_t hdr_len,
		     uint8_t **out, size_t *out_len);
int kvfio_dev_irq_info(int fd, struct vfio_irq_info *info);
int kvfio_dev_set_irqs(int fd, const struct vfio_irq_set *hdr, const void *data,
		       const char *who);
int kvfio_dev_reset(int fd);
/* VFIO_DEVICE_FEATURE on a buffer of argsz bytes. */
int kvfio_dev_feature(int fd, void *buf);

/* ---- client_kernel.c ---------------------------------------------------- */

struct uvfio_client;
/* The IOMMU facts behind a kernel client (tests, tools); -EOPNOTSUPP on
 * noiommu, -EINVAL if the client is not a kernel one. */
int kvfio_client_iommu_info(struct uvfio_client *c, struct kvfio_iommu_info *out);

/* ---- bind.c ------------------------------------------------------------- */

/* State files of `uvfio bind` live here (UVFIO_RUN_DIR overrides). */
const char *kvfio_run_dir(void);
/* Bind PCI device `bdf` to vfio-pci; remembers the old driver. */
int kvfio_bind_pci(const char *bdf, char *msg, size_t len);
/* Restore the driver remembered by kvfio_bind_pci. */
int kvfio_unbind_pci(const char *bdf, char *msg, size_t len);

#endif
