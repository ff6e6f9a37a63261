/* SPDX-License-Identifier: MIT */
/*
 * The smallest useful driver on the uvfio client API, for minimal-device:
 *   minimal-driver vfio-user:/tmp/min.sock
 * The same calls drive a device behind the kernel's VFIO (pci:BDF, ...).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <uvfio/client.h>

static int fail(const char *loc, const char *what, int err)
{
	fprintf(stderr, "minimal-driver: %s: %s: %s\n", loc, what, strerror(-err));
	return 1;
}

int main(int argc, char **argv)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	/* One eventfd for vector 0; argsz counts it as the data[] after the header. */
	struct vfio_irq_set irq = { .argsz = sizeof(irq) + sizeof(int32_t), .index = 0,
		.start = 0, .count = 1,
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER };
	int32_t efd = -1;
	struct uvfio_client *c;
	uint32_t id = 0, v = 0xc0ffee, back = 0, one = 1;
	uint64_t events = 0;
	struct pollfd pfd;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s LOCATION\n", argv[0]);
		return 2;
	}
	ret = uvfio_client_open(argv[1], NULL, &c);
	if (ret)
		return fail(argv[1], "open", ret);
	ret = uvfio_client_get_info(c, &info);
	if (ret)
		return fail(argv[1], "device info", ret);
	printf("regions %u irqs %u reset %s\n", info.num_regions, info.num_irqs,
	       info.flags & VFIO_DEVICE_FLAGS_RESET ? "yes" : "no");

	if (uvfio_client_read(c, 0, 0x0, &id, 4) != 4)
		return fail(argv[1], "read ID", -EIO);
	printf("id %#x\n", id);
	if (uvfio_client_write(c, 0, 0x4, &v, 4) != 4 || uvfio_client_read(c, 0, 0x4, &back, 4) != 4)
		return fail(argv[1], "scratch", -EIO);
	printf("scratch %#x %s\n", back, back == v ? "ok" : "MISMATCH");

	/* An interrupt: hand the device an eventfd, ring the doorbell, wait. */
	efd = eventfd(0, EFD_CLOEXEC);
	ret = uvfio_client_set_irqs(c, &irq, &efd);
	if (ret)
		return fail(argv[1], "set irqs", ret);
	if (uvfio_client_write(c, 0, 0x8, &one, 4) != 4)
		return fail(argv[1], "doorbell", -EIO);
	pfd = (struct pollfd){ .fd = efd, .events = POLLIN };
	if (poll(&pfd, 1, 2000) != 1 || read(efd, &events, 8) != 8)
		return fail(argv[1], "interrupt", -ETIMEDOUT);
	printf("interrupt %llu\n", (unsigned long long)events);

	ret = uvfio_client_reset(c);
	if (ret)
		return fail(argv[1], "reset", ret);
	uvfio_client_read(c, 0, 0x4, &back, 4);
	printf("after reset scratch %#x\n", back);
	uvfio_client_close(c);
	close(efd);
	return back == 0 && id == 0x6d696e31u ? 0 : 1;
}
