/* SPDX-License-Identifier: MIT */
/*
 * Prints the iommufd / VFIO-cdev ABI as the compiler sees it: sizes, field
 * offsets, ioctl numbers, flag values. abi.sh builds it twice — against the
 * uvfio's private definitions (kernel/iommufd_compat.h, core/vfio_compat.h
 * over Debian 12's 6.1 headers) and against the 6.12 uapi headers from
 * kernel-612.sh — and diffs the two outputs.
 */
#include <stddef.h>
#include <stdio.h>
#include <linux/vfio.h>
#ifdef UVFIO_COMPAT
#include "core/vfio_compat.h"
#include "kernel/iommufd_compat.h"
#else
#include <linux/iommufd.h>
#endif

#define SIZE(s) printf("sizeof(struct %s) %zu\n", #s, sizeof(struct s))
#define OFF(s, f) printf("offsetof(%s, %s) %zu size %zu\n", #s, #f, offsetof(struct s, f), \
			 sizeof(((struct s *)0)->f))
#define VAL(x) printf("%s 0x%llx\n", #x, (unsigned long long)(x))

int main(void)
{
	SIZE(iommu_destroy);
	OFF(iommu_destroy, size); OFF(iommu_destroy, id);
	SIZE(iommu_ioas_alloc);
	OFF(iommu_ioas_alloc, size); OFF(iommu_ioas_alloc, flags); OFF(iommu_ioas_alloc, out_ioas_id);
	SIZE(iommu_iova_range);
	OFF(iommu_iova_range, start); OFF(iommu_iova_range, last);
	SIZE(iommu_ioas_iova_ranges);
	OFF(iommu_ioas_iova_ranges, size); OFF(iommu_ioas_iova_ranges, ioas_id);
	OFF(iommu_ioas_iova_ranges, num_iovas); OFF(iommu_ioas_iova_ranges, allowed_iovas);
	OFF(iommu_ioas_iova_ranges, out_iova_alignment);
	SIZE(iommu_ioas_map);
	OFF(iommu_ioas_map, size); OFF(iommu_ioas_map, flags); OFF(iommu_ioas_map, ioas_id);
	OFF(iommu_ioas_map, user_va); OFF(iommu_ioas_map, length); OFF(iommu_ioas_map, iova);
	SIZE(iommu_ioas_unmap);
	OFF(iommu_ioas_unmap, size); OFF(iommu_ioas_unmap, ioas_id);
	OFF(iommu_ioas_unmap, iova); OFF(iommu_ioas_unmap, length);
	VAL(IOMMU_IOAS_MAP_FIXED_IOVA); VAL(IOMMU_IOAS_MAP_WRITEABLE); VAL(IOMMU_IOAS_MAP_READABLE);
	VAL(IOMMU_DESTROY); VAL(IOMMU_IOAS_ALLOC); VAL(IOMMU_IOAS_IOVA_RANGES);
	VAL(IOMMU_IOAS_MAP); VAL(IOMMU_IOAS_UNMAP);

	SIZE(vfio_device_bind_iommufd);
	OFF(vfio_device_bind_iommufd, argsz); OFF(vfio_device_bind_iommufd, flags);
	OFF(vfio_device_bind_iommufd, iommufd); OFF(vfio_device_bind_iommufd, out_devid);
	SIZE(vfio_device_attach_iommufd_pt);
	OFF(vfio_device_attach_iommufd_pt, argsz); OFF(vfio_device_attach_iommufd_pt, flags);
	OFF(vfio_device_attach_iommufd_pt, pt_id);
	SIZE(vfio_device_detach_iommufd_pt);
	OFF(vfio_device_detach_iommufd_pt, argsz); OFF(vfio_device_detach_iommufd_pt, flags);
	VAL(VFIO_DEVICE_BIND_IOMMUFD); VAL(VFIO_DEVICE_ATTACH_IOMMUFD_PT);
	VAL(VFIO_DEVICE_DETACH_IOMMUFD_PT);

	VAL(VFIO_DEVICE_FLAGS_CDX); VAL(VFIO_MIGRATION_PRE_COPY);
	VAL(VFIO_DEVICE_FEATURE_MIG_DATA_SIZE); VAL(VFIO_DEVICE_FEATURE_BUS_MASTER);
	VAL(VFIO_DEVICE_FEATURE_CLEAR_MASTER); VAL(VFIO_DEVICE_FEATURE_SET_MASTER);
	SIZE(vfio_device_feature_bus_master);
	SIZE(vfio_device_feature_mig_data_size);
	return 0;
}
