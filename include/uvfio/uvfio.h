/* SPDX-License-Identifier: MIT */
/* Everything public of libuvfio. */
#ifndef UVFIO_H
#define UVFIO_H

#include <uvfio/version.h>
#include <uvfio/log.h>
#include <uvfio/dma.h>
#include <uvfio/device.h>
#include <uvfio/server.h>
#include <uvfio/client.h>
#include <uvfio/pci.h>

#endif
