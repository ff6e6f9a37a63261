/* SPDX-License-Identifier: MIT */
/*
 * Why the kernel refused to open a device over its VF token. vfio-pci
 * decides in vfio_pci_validate_vf_token() (the group path's match(), the
 * cdev's BIND_IOMMUFD since 6.17) and only says why in the kernel log; the
 * errno alone (EACCES, EINVAL) does not tell a user what to do. The answer
 * is rebuilt here from what sysfs shows: a VF has a physfn link, an SR-IOV
 * PF has sriov_totalvfs.
 *   VF, PF on vfio-pci:    no token -> EACCES; a token that is not the PF's -> EACCES
 *   VF, PF on another driver: a token -> EINVAL
 *   PF, VFs in use:         no token or another token -> EACCES
 *   neither PF nor VF:      a token -> EINVAL
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kernel/kvfio.h"

int kvfio_vf_token_refusal(const char *device, int err, bool token, char *msg, size_t len)
{
	const char *root = kvfio_sysfs_root();
	char path[PATH_MAX], pf[KVFIO_NAME_MAX], drv[64];
	struct stat st;
	bool vf, is_pf;
	int n;

	if (err != -EACCES && !(err == -EINVAL && token))
		return 0;
	if (kvfio_path(path, sizeof(path), "%s/bus/pci/devices/%s", root, device) ||
	    stat(path, &st))
		return 0; /* not a PCI device: no VF token rules */
	vf = !kvfio_path(path, sizeof(path), "%s/bus/pci/devices/%s/physfn", root, device) &&
	     !kvfio_readlink_base(path, pf, sizeof(pf));
	is_pf = !vf && !kvfio_path(path, sizeof(path), "%s/bus/pci/devices/%s/sriov_totalvfs",
				   root, device) && !stat(path, &st);

	if (vf && err == -EACCES && !token)
		n = snprintf(msg, len, "the kernel requires a VF token to open VF %s: its PF %s is "
			     "bound to vfio-pci (pass the PF user's token as vf_token)", device, pf);
	else if (vf && err == -EACCES)
		n = snprintf(msg, len, "the kernel refused the VF token: it is not the token of PF %s "
			     "(which the PF's user sets with VFIO_DEVICE_FEATURE_PCI_VF_TOKEN)", pf);
	else if (vf) {
		if (kvfio_device_driver("pci", pf, drv, sizeof(drv)) <= 0)
			snprintf(drv, sizeof(drv), "none");
		else if (!strcmp(drv, "vfio-pci"))
			return 0; /* EINVAL for another reason */
		n = snprintf(msg, len, "the kernel refused the VF token: the PF %s of VF %s is not "
			     "on vfio-pci (driver: %s), so the VF takes no token", pf, device, drv);
	} else if (is_pf && err == -EACCES && !token)
		n = snprintf(msg, len, "the kernel requires a VF token to open PF %s: VFs of it are "
			     "in use (pass their token as vf_token)", device);
	else if (is_pf && err == -EACCES)
		n = snprintf(msg, len, "the kernel refused the VF token: VFs of PF %s are in use "
			     "with another token", device);
	else if (err == -EINVAL && !is_pf)
		n = snprintf(msg, len, "the kernel refused the VF token: %s is neither an SR-IOV PF "
			     "nor a VF, so it takes no token", device);
	else
		return 0;
	return n > 0 ? 1 : 0;
}
