/* SPDX-License-Identifier: MIT */
/*
 * Serve testdev on a socket, for the cross-process tests:
 *   testdev_server PATH [max_dma_maps [msg_timeout_ms]]
 * Prints "ready" on stdout once the socket listens; SIGTERM stops it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uvfio/server.h>

#include "devices/testdev.h"

static struct uvfio_server *srv;

static void on_term(int sig)
{
	uvfio_server_stop(srv);
}

int main(int argc, char **argv)
{
	struct uvfio_server_opts o = { .listen_fd = -1 };
	struct sigaction sa = { .sa_handler = on_term };
	struct uvfio_device *dev;
	int ret;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH [max_dma_maps [msg_timeout_ms]]\n", argv[0]);
		return 2;
	}
	if (argc > 2)
		o.max_dma_maps = (uint32_t)strtoul(argv[2], NULL, 0);
	if (argc > 3)
		o.msg_timeout_ms = (uint32_t)strtoul(argv[3], NULL, 0);
	dev = testdev_create();
	if (!dev || uvfio_device_register(dev))
		return 1;
	ret = uvfio_server_create(dev, argv[1], &o, &srv);
	if (ret) {
		fprintf(stderr, "server: %s\n", strerror(-ret));
		uvfio_device_unregister(dev);
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	printf("ready\n");
	fflush(stdout);
	ret = uvfio_server_run(srv);
	uvfio_server_destroy(srv);
	uvfio_device_unregister(dev);
	return ret ? 1 : 0;
}
