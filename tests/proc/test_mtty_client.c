/* SPDX-License-Identifier: MIT */
/*
 * An mtty instance driven over its own vfio-user socket with the client
 * API: created through the control socket, found by PCI IDs in config
 * space, its UART reached through BAR0 by message, its bytes out on the
 * host pty, its interrupt delivered as an MSI eventfd; then removed while
 * connected.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include <uvfio/client.h>
#include <uvfio/log.h>
#include <uvfio/mdev.h>

#include "devices/mdev_samples.h"
#include "devices/mtty.h"
#include "devices/uart16550.h"

#define CFG VFIO_PCI_CONFIG_REGION_INDEX

static struct uvfio_mdev_parent *parent;
static volatile int stop;

static void *loop_main(void *arg)
{
	while (!stop)
		uvfio_mdev_parent_dispatch(parent, 10);
	return NULL;
}

static uint8_t reg_read(struct uvfio_client *c, uint32_t reg)
{
	uint8_t v = 0;

	assert_int_equal(uvfio_client_read(c, 0, reg, &v, 1), 1);
	return v;
}

static void reg_write(struct uvfio_client *c, uint32_t reg, uint8_t v)
{
	assert_int_equal(uvfio_client_write(c, 0, reg, &v, 1), 1);
}

static void test_mtty_over_vfio_user(void **state)
{
	const struct uvfio_mdev_sample *s = uvfio_mdev_sample_find("mtty");
	char dir[] = "/tmp/uvfio-mtty-proc-XXXXXX";
	char ctl[128], out[1024], uuid[64], sock[256], pty[64], loc[300];
	struct uvfio_client *c = NULL;
	struct vfio_device_info di = { .argsz = sizeof(di) };
	uint16_t vendor = 0, device = 0, cmd = 1 | 4; /* I/O decode, bus master */
	struct {
		struct vfio_irq_set hdr;
		int32_t fd;
	} set = { .hdr = { .argsz = sizeof(set), .index = VFIO_PCI_MSI_IRQ_INDEX,
			   .start = 0, .count = 1,
			   .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER } };
	struct pollfd pfd;
	uint64_t ev;
	char got = 0;
	uint16_t msi_ctl;
	pthread_t th;
	int slave;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(s->create(dir, &parent), 0);
	snprintf(ctl, sizeof(ctl), "%s/control", dir);
	assert_int_equal(uvfio_mdev_control_listen(parent, ctl), 0);
	assert_int_equal(pthread_create(&th, NULL, loop_main, NULL), 0);

	assert_int_equal(uvfio_mdev_control_request(ctl, "create mtty-1", out, sizeof(out)), 0);
	assert_int_equal(sscanf(out, "%63s %*s %255s pty %63s", uuid, sock, pty), 3);
	snprintf(loc, sizeof(loc), "vfio-user:%s", sock);
	slave = open(pty, O_RDWR | O_NOCTTY);
	assert_true(slave >= 0);

	assert_int_equal(uvfio_client_open(loc, NULL, &c), 0);
	assert_int_equal(uvfio_client_get_info(c, &di), 0);
	assert_true(di.flags & VFIO_DEVICE_FLAGS_PCI);
	assert_int_equal(uvfio_client_read(c, CFG, 0, &vendor, 2), 2);
	assert_int_equal(uvfio_client_read(c, CFG, 2, &device, 2), 2);
	assert_int_equal(vendor, MTTY_VENDOR);
	assert_int_equal(device, MTTY_DEVICE);
	assert_int_equal(uvfio_client_write(c, CFG, 4, &cmd, 2), 2);

	/* MSI: find the capability, enable it, give vector 0 an eventfd. */
	{
		uint8_t ptr = 0, id = 0;

		assert_int_equal(uvfio_client_read(c, CFG, 0x34, &ptr, 1), 1);
		while (ptr) {
			assert_int_equal(uvfio_client_read(c, CFG, ptr, &id, 1), 1);
			if (id == 0x05)
				break;
			assert_int_equal(uvfio_client_read(c, CFG, ptr + 1u, &ptr, 1), 1);
		}
		assert_int_equal(id, 0x05);
		assert_int_equal(uvfio_client_read(c, CFG, ptr + 2u, &msi_ctl, 2), 2);
		msi_ctl |= 1;
		assert_int_equal(uvfio_client_write(c, CFG, ptr + 2u, &msi_ctl, 2), 2);
	}
	set.fd = eventfd(0, EFD_NONBLOCK);
	assert_int_equal(uvfio_client_set_irqs(c, &set.hdr, &set.fd), 0);

	/* Transmit: out on the pty. */
	reg_write(c, UART_THR, '!');
	pfd = (struct pollfd){ .fd = slave, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_int_equal(read(slave, &got, 1), 1);
	assert_int_equal(got, '!');

	/* Receive with the data interrupt on: the MSI fires. */
	reg_write(c, UART_IER, UART_IER_RDI);
	assert_int_equal(write(slave, "k", 1), 1);
	pfd = (struct pollfd){ .fd = set.fd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_int_equal(read(set.fd, &ev, 8), 8);
	assert_int_equal(reg_read(c, UART_IIR) & 0x0f, UART_IIR_RDI);
	assert_int_equal(reg_read(c, UART_RBR), 'k');
	assert_int_equal(reg_read(c, UART_IIR) & 0x0f, UART_IIR_NO_INT);

	/* Removed while connected: the client loses the device. */
	snprintf(out, sizeof(out), "remove %s", uuid);
	assert_int_equal(uvfio_mdev_control_request(ctl, out, NULL, 0), 0);
	assert_int_equal(access(sock, F_OK), -1);
	di.argsz = sizeof(di);
	assert_true(uvfio_client_get_info(c, &di) < 0);
	uvfio_client_close(c);
	close(set.fd);
	close(slave);

	stop = 1;
	pthread_join(th, NULL);
	s->destroy(parent);
	assert_int_equal(rmdir(dir), 0);
}

static void quiet(enum uvfio_log_level level, const char *who, const char *msg,
		  void *opaque)
{
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mtty_over_vfio_user),
	};

	uvfio_log_set_sink(quiet, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
