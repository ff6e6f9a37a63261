/* SPDX-License-Identifier: MIT */
/*
 * VFIO_DEVICE_BIND_IOMMUFD with a VF token (Linux 6.17+) as the compiler sees
 * it: built against the repo's private definition (kernel/iommufd_compat.h)
 * and against the 7.2 uapi from kernel-72.sh; abi.sh diffs the outputs.
 */
#include <stddef.h>
#include <stdio.h>
#include <linux/vfio.h>
#ifdef UVFIO_COMPAT
#include "core/vfio_compat.h"
#include "kernel/iommufd_compat.h"
#define BIND struct kvfio_bind_iommufd_token
#define FLAG_TOKEN KVFIO_BIND_FLAG_TOKEN
#else
#define BIND struct vfio_device_bind_iommufd
#define FLAG_TOKEN VFIO_DEVICE_BIND_FLAG_TOKEN
#endif

#define OFF(f) printf("offsetof(bind, %s) %zu size %zu\n", #f, offsetof(BIND, f), \
		      sizeof(((BIND *)0)->f))

int main(void)
{
	printf("sizeof(bind) %zu\n", sizeof(BIND));
	OFF(argsz); OFF(flags); OFF(iommufd); OFF(out_devid); OFF(token_uuid_ptr);
	printf("flag token 0x%x\n", (unsigned int)FLAG_TOKEN);
	printf("VFIO_DEVICE_BIND_IOMMUFD 0x%lx\n", (unsigned long)VFIO_DEVICE_BIND_IOMMUFD);
	return 0;
}
