/* SPDX-License-Identifier: MIT */
/*
 * The smallest useful uvfio device, served over vfio-user:
 *   minimal-device /tmp/min.sock     (until SIGINT/SIGTERM)
 * Region 0 is 16 bytes of registers: 0x0 ID (read-only), 0x4 SCRATCH,
 * 0x8 DOORBELL (a write raises vector 0 of IRQ 0), 0xc WRITES (a counter).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <uvfio/device.h>
#include <uvfio/server.h>

#define MIN_ID 0x6d696e31u /* "min1" */

struct regs { uint32_t id, scratch, doorbell, writes; };
static struct uvfio_server *srv;

static ssize_t min_read(struct uvfio_device *dev, uint32_t index, uint64_t pos,
			void *buf, size_t count)
{
	struct regs *r = uvfio_device_priv(dev);

	memcpy(buf, (const uint8_t *)r + pos, count); /* the core checked the range */
	return (ssize_t)count;
}

static ssize_t min_write(struct uvfio_device *dev, uint32_t index, uint64_t pos,
			 const void *buf, size_t count)
{
	struct regs *r = uvfio_device_priv(dev);

	if (pos < 4)
		return -EPERM; /* ID is read-only */
	memcpy((uint8_t *)r + pos, buf, count);
	r->writes++;
	if (pos <= 8 && pos + count > 8)
		uvfio_irq_trigger(dev, 0, 0); /* the doorbell */
	return (ssize_t)count;
}

static int min_reset(struct uvfio_device *dev)
{
	*(struct regs *)uvfio_device_priv(dev) = (struct regs){ .id = MIN_ID };
	return 0;
}

static const struct uvfio_device_ops min_ops = {
	.read = min_read, .write = min_write, .reset = min_reset,
};

static void on_signal(int sig)
{
	uvfio_server_stop(srv); /* async-signal-safe */
}

int main(int argc, char **argv)
{
	struct regs regs = { .id = MIN_ID };
	struct uvfio_region r0 = { .flags = VFIO_REGION_INFO_FLAG_READ |
					    VFIO_REGION_INFO_FLAG_WRITE,
				   .size = sizeof(regs), .mmap_fd = -1 };
	struct uvfio_server_opts opts = { .listen_fd = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct uvfio_device *dev;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
		return 2;
	}
	dev = uvfio_device_create("minimal", &min_ops, &regs);
	if (!dev || uvfio_device_set_num_regions(dev, 1) ||
	    uvfio_device_set_region(dev, 0, &r0) || uvfio_device_set_num_irqs(dev, 1) ||
	    uvfio_device_set_irq_info(dev, 0, 1, VFIO_IRQ_INFO_EVENTFD) ||
	    uvfio_device_register(dev)) {
		fprintf(stderr, "minimal-device: cannot create the device\n");
		return 1;
	}
	ret = uvfio_server_create(dev, argv[1], &opts, &srv);
	if (ret) {
		fprintf(stderr, "minimal-device: %s: %s\n", argv[1], strerror(-ret));
		uvfio_device_unregister(dev);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	printf("ready\n");
	fflush(stdout);
	ret = uvfio_server_run(srv); /* one client at a time, until stopped */
	uvfio_server_destroy(srv);
	uvfio_device_unregister(dev);
	return ret ? 1 : 0;
}
