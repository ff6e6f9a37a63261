/* SPDX-License-Identifier: MIT */
/*
 * VFIO ABI that Debian 12's linux/vfio.h (Linux 6.1) lacks, with upstream's
 * values. The one place such constants are defined; every private source
 * includes this instead of <linux/vfio.h>.
 */
#ifndef UVFIO_VFIO_COMPAT_H
#define UVFIO_VFIO_COMPAT_H

#include <linux/types.h>
#include <linux/vfio.h>

#ifndef VFIO_DEVICE_FLAGS_CDX
#define VFIO_DEVICE_FLAGS_CDX (1 << 8)
#endif

#ifndef VFIO_MIGRATION_PRE_COPY
#define VFIO_MIGRATION_PRE_COPY (1 << 2)
#endif

#ifndef VFIO_DEVICE_FEATURE_DMA_LOGGING_START
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_START 6
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP 7
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT 8
#endif

#ifndef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9
struct vfio_device_feature_mig_data_size {
	__aligned_u64 stop_copy_length;
};
#endif

#ifndef VFIO_DEVICE_FEATURE_BUS_MASTER
#define VFIO_DEVICE_FEATURE_BUS_MASTER 10
#define VFIO_DEVICE_FEATURE_CLEAR_MASTER 0
#define VFIO_DEVICE_FEATURE_SET_MASTER 1
struct vfio_device_feature_bus_master {
	__u32 op;
};
#endif

/* The iommufd cdev verbs on a device fd (Linux 6.6+). */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)

struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)

struct vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20)
#endif

/* Feature index 0xffff is reserved for extended features. */
#define UVFIO_FEATURE_EXTENDED 0xffff

#endif
