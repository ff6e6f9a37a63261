/* SPDX-License-Identifier: MIT */
/* mtty's identity and port layout (devices/mtty.c), for drivers and tests. */
#ifndef UVFIO_DEVICES_MTTY_H
#define UVFIO_DEVICES_MTTY_H

#define MTTY_VENDOR 0x4348
#define MTTY_DEVICE 0x3253
#define MTTY_MAX_PORTS 24	/* the ports all instances share */
#define MTTY_BAR_SIZE 8		/* one I/O BAR per port: BAR0, BAR1 */

#endif
