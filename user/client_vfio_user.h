/* SPDX-License-Identifier: MIT */
/*
 * Pieces of the vfio-user client backend that are pure functions of what
 * the server sent, exposed for unit tests.
 */
#ifndef UVFIO_USER_CLIENT_VFIO_USER_H
#define UVFIO_USER_CLIENT_VFIO_USER_H

#include <stdint.h>

#include <uvfio/device.h>

#include "user/codec.h"

/*
 * Turn a parsed GET_REGION_INFO reply into a struct uvfio_region. Sparse
 * areas must lie inside the region (else -EPROTO); empty areas are dropped
 * and a sparse cap without any area clears MMAP (nothing may be mapped).
 * `fd` (or -1) becomes mmap_fd only for a mappable region; the caller keeps
 * ownership of an fd that was not taken.
 */
int uvfio_client_vu_region(const struct vfio_user_region_info *ri,
			   const struct vu_region_caps *caps, int fd,
			   struct uvfio_region *out);

/*
 * From the server's capabilities: the largest data count we send in one
 * message (its max_data_xfer_size, at most 64 MiB), the fds it takes per
 * message (at most 253), and the largest message we accept from it.
 * -EPROTO for a max_data_xfer_size of 0.
 */
int uvfio_client_vu_limits(const struct vu_caps *peer, uint32_t *xfer,
			   uint32_t *max_fds, uint32_t *max_msg);

#endif
