/* SPDX-License-Identifier: MIT */
/*
 * systemd socket activation (sd_listen_fds(3)'s protocol, without
 * libsystemd): the service manager passes listening sockets from fd 3 on and
 * sets LISTEN_PID to our pid and LISTEN_FDS to their count.
 */
#ifndef UVFIO_TOOL_SD_LISTEN_H
#define UVFIO_TOOL_SD_LISTEN_H

#include <stdbool.h>

#define SD_LISTEN_FDS_START 3

/* Whether the environment passes us sockets (LISTEN_PID is our pid). */
bool sd_listen_requested(void);
/*
 * The one passed socket: fd 3, checked to be a listening UNIX stream socket
 * and made close-on-exec; the LISTEN_* variables are removed so children do
 * not take them. Returns the fd, -ENOENT when nothing was passed, -EINVAL
 * when LISTEN_FDS is not "1", -ENOTSOCK when fd 3 is not such a socket.
 */
int sd_listen_fd(void);

#endif
