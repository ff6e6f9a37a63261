/* SPDX-License-Identifier: MIT */
/*
 * mtty as an mdev parent: types and the shared port budget (ENOSPC), the
 * PCI identity and BARs of an instance, and bytes crossing between the
 * 16550 registers and the host pty in both directions.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <uvfio/log.h>
#include <uvfio/mdev.h>

#include "devices/mdev_samples.h"
#include "devices/mtty.h"
#include "devices/uart16550.h"

#define CFG VFIO_PCI_CONFIG_REGION_INDEX
#define U1 "5f0d8a36-0e3c-4a2b-9c1d-2e3f40516273"

struct fx {
	char dir[64];
	const struct uvfio_mdev_sample *s;
	struct uvfio_mdev_parent *p;
	pthread_t loop;
	volatile int stop;
};

static void *loop_main(void *arg)
{
	struct fx *x = arg;

	while (!x->stop)
		uvfio_mdev_parent_dispatch(x->p, 10);
	return NULL;
}

static void fx_up(struct fx *x)
{
	memset(x, 0, sizeof(*x));
	strcpy(x->dir, "/tmp/uvfio-mtty-XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	x->s = uvfio_mdev_sample_find("mtty");
	assert_non_null(x->s);
	assert_int_equal(x->s->create(x->dir, &x->p), 0);
	assert_int_equal(pthread_create(&x->loop, NULL, loop_main, x), 0);
}

static void fx_down(struct fx *x)
{
	x->stop = 1;
	pthread_join(x->loop, NULL);
	x->s->destroy(x->p);
	assert_int_equal(rmdir(x->dir), 0);
}

static unsigned int avail(struct fx *x, const char *type)
{
	unsigned int n = 999;

	assert_int_equal(uvfio_mdev_available(x->p, type, &n), 0);
	return n;
}

static uint32_t cfg_read(struct uvfio_device *dev, uint32_t off, size_t size)
{
	uint32_t v = 0;

	assert_int_equal(uvfio_device_read(dev, CFG, off, &v, size), (ssize_t)size);
	return v;
}

static uint8_t port_read(struct uvfio_device *dev, uint32_t bar, uint32_t reg)
{
	uint8_t v = 0;

	assert_int_equal(uvfio_device_read(dev, bar, reg, &v, 1), 1);
	return v;
}

static void port_write(struct uvfio_device *dev, uint32_t bar, uint32_t reg, uint8_t v)
{
	assert_int_equal(uvfio_device_write(dev, bar, reg, &v, 1), 1);
}

static void test_types_and_budget(void **state)
{
	struct fx x;
	char info[UVFIO_MDEV_INFO_LEN], id[UVFIO_MDEV_UUID_LEN + 1];
	char ids[12][UVFIO_MDEV_UUID_LEN + 1];

	fx_up(&x);
	assert_string_equal(uvfio_mdev_type_id(x.p, 0), "mtty-1");
	assert_string_equal(uvfio_mdev_type_id(x.p, 1), "mtty-2");
	assert_int_equal(avail(&x, "mtty-1"), MTTY_MAX_PORTS);
	assert_int_equal(avail(&x, "mtty-2"), MTTY_MAX_PORTS / 2);

	assert_int_equal(uvfio_mdev_create(x.p, "mtty-1", NULL, id, info), 0);
	assert_int_equal(strncmp(info, "pty /dev/", 9), 0);
	assert_null(strchr(info + 4, ' ')); /* one port, one pty */
	assert_int_equal(avail(&x, "mtty-1"), 23);
	assert_int_equal(avail(&x, "mtty-2"), 11);
	for (int i = 0; i < 11; i++)
		assert_int_equal(uvfio_mdev_create(x.p, "mtty-2", NULL, ids[i], NULL), 0);
	/* 23 ports used, one left: a dual port does not fit, a single does. */
	assert_int_equal(avail(&x, "mtty-2"), 0);
	assert_int_equal(avail(&x, "mtty-1"), 1);
	assert_int_equal(uvfio_mdev_create(x.p, "mtty-2", NULL, NULL, NULL), -ENOSPC);
	assert_int_equal(uvfio_mdev_create(x.p, "mtty-1", NULL, ids[11], NULL), 0);
	assert_int_equal(uvfio_mdev_create(x.p, "mtty-1", NULL, NULL, NULL), -ENOSPC);
	assert_int_equal(uvfio_mdev_count(x.p), 13);
	/* Removing gives the ports back. */
	assert_int_equal(uvfio_mdev_remove(x.p, ids[0]), 0);
	assert_int_equal(avail(&x, "mtty-1"), 2);
	assert_int_equal(avail(&x, "mtty-2"), 1);
	fx_down(&x);
}

static void test_pci_identity(void **state)
{
	struct fx x;
	struct uvfio_device *dev;
	struct vfio_device_info di = { .argsz = sizeof(di) };

	fx_up(&x);
	assert_int_equal(uvfio_mdev_create(x.p, "mtty-2", U1, NULL, NULL), 0);
	dev = uvfio_mdev_instance_device(x.p, U1);
	assert_non_null(dev);
	assert_int_equal(uvfio_device_get_info(dev, &di), 0);
	assert_true(di.flags & VFIO_DEVICE_FLAGS_PCI);
	assert_int_equal(cfg_read(dev, 0, 2), MTTY_VENDOR);
	assert_int_equal(cfg_read(dev, 2, 2), MTTY_DEVICE);
	assert_int_equal(cfg_read(dev, 0x0b, 1), 0x07); /* serial controller */
	/* I/O BARs: bit 0 set in config space, 8 bytes each. */
	assert_int_equal(cfg_read(dev, 0x10, 4) & 1, 1);
	assert_int_equal(cfg_read(dev, 0x14, 4) & 1, 1);
	assert_int_equal(uvfio_device_region(dev, 0)->size, MTTY_BAR_SIZE);
	assert_int_equal(uvfio_device_region(dev, 1)->size, MTTY_BAR_SIZE);
	assert_int_equal(uvfio_device_region(dev, 2)->size, 0);
	assert_false(uvfio_device_region(dev, 0)->flags & VFIO_REGION_INFO_FLAG_MMAP);
	fx_down(&x);
}

/* Wait (up to 2 s) until LSR says data is ready. */
static bool wait_dr(struct uvfio_device *dev, uint32_t bar)
{
	for (int i = 0; i < 200; i++) {
		if (port_read(dev, bar, UART_LSR) & UART_LSR_DR)
			return true;
		usleep(10000);
	}
	return false;
}

static void test_pty_bridge(void **state)
{
	struct fx x;
	struct uvfio_device *dev;
	char info[UVFIO_MDEV_INFO_LEN], pty0[64], pty1[64];
	char got[8] = { 0 };
	uint16_t cmd = 1; /* I/O decode */
	struct pollfd pfd;
	int s0, s1;

	fx_up(&x);
	assert_int_equal(uvfio_mdev_create(x.p, "mtty-2", U1, NULL, info), 0);
	assert_int_equal(sscanf(info, "pty %63s %63s", pty0, pty1), 2);
	s0 = open(pty0, O_RDWR | O_NOCTTY);
	s1 = open(pty1, O_RDWR | O_NOCTTY);
	assert_true(s0 >= 0 && s1 >= 0);
	dev = uvfio_mdev_instance_device(x.p, U1);
	assert_int_equal(uvfio_device_write(dev, CFG, 4, &cmd, 2), 2);
	assert_int_equal(port_read(dev, 1, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);

	/* Transmit on port 1: the bytes come out of its pty, not port 0's. */
	port_write(dev, 1, UART_THR, 'H');
	port_write(dev, 1, UART_THR, 'i');
	for (size_t n = 0; n < 2;) {
		ssize_t r;

		pfd = (struct pollfd){ .fd = s1, .events = POLLIN };
		assert_int_equal(poll(&pfd, 1, 2000), 1);
		r = read(s1, got + n, 2 - n);
		assert_true(r > 0);
		n += (size_t)r;
	}
	assert_string_equal(got, "Hi");
	pfd = (struct pollfd){ .fd = s0, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 50), 0);

	/* Receive on port 0: typed into the pty, read from RBR in order, with
	 * the received-data interrupt identified. */
	port_write(dev, 0, UART_FCR, UART_FCR_ENABLE);
	port_write(dev, 0, UART_IER, UART_IER_RDI);
	assert_int_equal(write(s0, "xyz", 3), 3);
	assert_true(wait_dr(dev, 0));
	usleep(20000); /* let all three arrive */
	assert_int_equal(port_read(dev, 0, UART_IIR) & 0x0f, UART_IIR_RDI);
	assert_int_equal(port_read(dev, 0, UART_RBR), 'x');
	assert_int_equal(port_read(dev, 0, UART_RBR), 'y');
	assert_int_equal(port_read(dev, 0, UART_RBR), 'z');
	assert_false(port_read(dev, 0, UART_LSR) & UART_LSR_DR);

	/* More than the FIFO holds: nothing is lost, the rest waits in the pty
	 * until the driver makes room. */
	{
		char in[40], out[40];

		for (int i = 0; i < 40; i++)
			in[i] = (char)('A' + i % 26);
		assert_int_equal(write(s0, in, 40), 40);
		for (int i = 0; i < 40; i++) {
			assert_true(wait_dr(dev, 0));
			out[i] = (char)port_read(dev, 0, UART_RBR);
		}
		assert_memory_equal(in, out, 40);
	}
	close(s0);
	close(s1);
	fx_down(&x);
}

static void quiet(enum uvfio_log_level level, const char *who, const char *msg,
		  void *opaque)
{
}


/* src -> STOP_COPY -> read all; dst -> RESUMING -> write -> STOP (its result). */
static int mig_move(struct uvfio_device *src, struct uvfio_device *dst)
{
	static uint8_t stream[16384];
	size_t total = 0;
	ssize_t n;
	int ret;

	assert_int_equal(uvfio_device_mig_set_state(src, UVFIO_MIG_STOP_COPY), 0);
	while ((n = uvfio_device_mig_read(src, stream + total, 64)) > 0)
		total += (size_t)n;
	assert_int_equal(n, 0);
	assert_int_equal(uvfio_device_mig_set_state(src, UVFIO_MIG_STOP), 0);
	assert_int_equal(uvfio_device_mig_set_state(dst, UVFIO_MIG_RESUMING), 0);
	assert_int_equal(uvfio_device_mig_write(dst, stream, total), 0);
	ret = uvfio_device_mig_set_state(dst, UVFIO_MIG_STOP);
	if (!ret)
		assert_int_equal(uvfio_device_mig_set_state(dst, UVFIO_MIG_RUNNING), 0);
	return ret;
}

#define U2 "6a1e9b47-1f4d-4b3c-8d2e-3f4051627384"
#define U3 "7b2fac58-2a5e-4c4d-9e3f-405162738495"

/* UART state (registers, a received byte in the FIFO, its interrupt) moves. */
static void test_migration(void **state)
{
	struct fx x;
	struct uvfio_device *a, *b, *c;

	fx_up(&x);
	assert_int_equal(uvfio_mdev_create(x.p, "mtty-2", U1, NULL, NULL), 0);
	assert_int_equal(uvfio_mdev_create(x.p, "mtty-2", U2, NULL, NULL), 0);
	assert_int_equal(uvfio_mdev_create(x.p, "mtty-1", U3, NULL, NULL), 0);
	a = uvfio_mdev_instance_device(x.p, U1);
	b = uvfio_mdev_instance_device(x.p, U2);
	c = uvfio_mdev_instance_device(x.p, U3);
	assert_int_equal(uvfio_device_open(a), 0);
	assert_int_equal(uvfio_device_open(b), 0);
	assert_int_equal(uvfio_device_open(c), 0);

	port_write(a, 0, UART_LCR, 0x03);
	port_write(a, 0, UART_SCR, 0x5a);
	port_write(a, 0, UART_FCR, UART_FCR_ENABLE);
	port_write(a, 0, UART_IER, UART_IER_RDI);
	port_write(a, 0, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	port_write(a, 0, UART_THR, 'A'); /* looped back into the FIFO */
	port_write(a, 0, UART_THR, 'B');
	assert_true(port_read(a, 0, UART_LSR) & UART_LSR_DR);
	port_write(a, 1, UART_LCR, UART_LCR_DLAB);
	port_write(a, 1, UART_DLL, 0x0c);
	port_write(a, 1, UART_LCR, 0x07);
	port_write(a, 1, UART_SCR, 0x77);

	assert_int_equal(mig_move(a, b), 0);
	assert_int_equal(port_read(b, 0, UART_LCR), 0x03);
	assert_int_equal(port_read(b, 0, UART_SCR), 0x5a);
	assert_int_equal(port_read(b, 0, UART_IER), UART_IER_RDI);
	assert_int_equal(port_read(b, 0, UART_IIR) & 0x0f, UART_IIR_RDI);
	assert_int_equal(port_read(b, 0, UART_RBR), 'A');
	assert_int_equal(port_read(b, 0, UART_RBR), 'B');
	assert_false(port_read(b, 0, UART_LSR) & UART_LSR_DR);
	assert_int_equal(port_read(b, 1, UART_LCR), 0x07);
	assert_int_equal(port_read(b, 1, UART_SCR), 0x77);
	port_write(b, 1, UART_LCR, UART_LCR_DLAB | 0x07);
	assert_int_equal(port_read(b, 1, UART_DLL), 0x0c);

	/* two ports into one: refused, the single port untouched */
	port_write(c, 0, UART_SCR, 0x11);
	assert_int_equal(uvfio_device_mig_set_state(a, UVFIO_MIG_RUNNING), 0);
	assert_int_equal(mig_move(a, c), -EINVAL);
	assert_int_equal(port_read(c, 0, UART_SCR), 0x11);

	uvfio_device_close(a);
	uvfio_device_close(b);
	uvfio_device_close(c);
	fx_down(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types_and_budget),
		cmocka_unit_test(test_pci_identity),
		cmocka_unit_test(test_pty_bridge),
		cmocka_unit_test(test_migration),
	};

	uvfio_log_set_sink(quiet, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
