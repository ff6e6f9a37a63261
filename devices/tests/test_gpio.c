/* SPDX-License-Identifier: MIT */
/*
 * The gpio sample: the PCI-IDIO-16 registers as Linux's driver uses them,
 * change-of-state IRQs on a real eventfd, and the host side over the real
 * control socket.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include <uvfio/device.h>
#include <uvfio/log.h>

#include "devices/gpio_control.h"
#include "devices/registry.h"
#include "devices/tests/pci_guest.h"

#define BAR2 VFIO_PCI_BAR2_REGION_INDEX

struct gpio_fixture {
	const struct uvfio_sample *sample;
	struct uvfio_sample_dev sd;
	struct uvfio_device *dev;
	char dir[64];
	char path[128];
	int ctl;   /* a connection to the control socket */
	int irq;   /* INTx eventfd */
};

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static int setup(void **state)
{
	struct gpio_fixture *f = calloc(1, sizeof(*f));
	char *argv[4] = { "gpio", "--control", NULL, NULL };

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/uvfio-gpio-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/control", f->dir);
	argv[2] = f->path;
	f->sample = uvfio_sample_find("gpio");
	assert_non_null(f->sample);
	assert_int_equal(f->sample->create(3, argv, &f->sd), 0);
	f->dev = f->sd.dev;
	assert_int_equal(uvfio_device_open(f->dev), 0);
	cfg_command(f->dev, CMD_IO);
	f->irq = irq_eventfd(f->dev, VFIO_PCI_INTX_IRQ_INDEX);
	f->ctl = connect_to(f->path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct gpio_fixture *f = *state;

	close(f->ctl);
	close(f->irq);
	uvfio_device_close(f->dev);
	f->sample->destroy(f->sd.priv);
	/* destroy removed the control socket; the directory is empty again. */
	assert_int_equal(rmdir(f->dir), 0);
	free(f);
	return 0;
}

/* Sends one request and runs the sample's event handler, as the serve loop
 * would, until a reply line is there; consumes exactly that line. */
static void request(struct gpio_fixture *f, const char *req, char *reply, size_t len)
{
	int fd = f->sample->event_fd(f->sd.priv);

	assert_true(fd >= 0);
	if (*req)
		assert_int_equal(send(f->ctl, req, strlen(req), MSG_NOSIGNAL),
				 (ssize_t)strlen(req));
	for (int tries = 0; tries < 100; tries++) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = f->ctl, .events = POLLIN } };
		ssize_t n;
		char *nl;

		assert_true(poll(p, 2, 1000) > 0);
		if (p[0].revents)
			assert_int_equal(f->sample->handle_event(f->sd.priv), 0);
		if (!(p[1].revents & POLLIN))
			continue;
		n = recv(f->ctl, reply, len - 1, MSG_PEEK | MSG_DONTWAIT);
		assert_true(n > 0);
		reply[n] = '\0';
		nl = strchr(reply, '\n');
		if (!nl)
			continue;
		n = nl - reply + 1;
		assert_int_equal(recv(f->ctl, reply, (size_t)n, 0), n);
		reply[n - 1] = '\0';
		return;
	}
	fail_msg("no reply to '%s'", req);
}

static void expect(struct gpio_fixture *f, const char *req, const char *want)
{
	char reply[256];

	request(f, req, reply, sizeof(reply));
	assert_string_equal(reply, want);
}

static uint8_t io_read(struct gpio_fixture *f, uint64_t reg)
{
	return (uint8_t)bar_read(f->dev, BAR2, reg, 1);
}

static void io_write(struct gpio_fixture *f, uint64_t reg, uint8_t v)
{
	bar_write(f->dev, BAR2, reg, 1, v);
}

/* What gpio-pci-idio-16 + gpio-idio-16 do at probe. */
static void driver_probe(struct gpio_fixture *f)
{
	io_write(f, 0x2, 0);	/* disable IRQ */
	(void)io_read(f, 0x6);	/* regmap-irq reads status ... */
	io_write(f, 0x1, 0);	/* ... and acks */
	io_write(f, 0x3, 0);	/* deactivate input filters */
}

/* First unmasked line: clear, then enable by reading +2. */
static void driver_enable_irq(struct gpio_fixture *f)
{
	io_write(f, 0x1, 0);
	(void)io_read(f, 0x2);
}

static void test_pci_identity(void **state)
{
	struct gpio_fixture *f = *state;
	const struct uvfio_region *r2 = uvfio_device_region(f->dev, BAR2);

	assert_int_equal(cfg_read(f->dev, 0x00, 4), 0x0dc8494f);
	assert_int_equal(cfg_read(f->dev, 0x3d, 1), 1);
	assert_non_null(r2);
	assert_int_equal(r2->size, 256);
	assert_int_equal(cfg_read(f->dev, 0x18, 4) & 1, 1); /* I/O BAR */
}

static void test_outputs_to_host(void **state)
{
	struct gpio_fixture *f = *state;

	driver_probe(f);
	expect(f, "outputs\n", "0x0000");
	io_write(f, 0x0, 0x34);
	io_write(f, 0x4, 0x12);
	assert_int_equal(io_read(f, 0x0), 0x34);
	assert_int_equal(io_read(f, 0x4), 0x12);
	expect(f, "outputs\n", "0x1234");
	/* Writing the input registers changes no output. */
	io_write(f, 0x5, 0xff);
	expect(f, "outputs\r\n", "0x1234");
	/* A 2-byte access is two byte registers in order: +4, +5. */
	bar_write(f->dev, BAR2, 0x4, 2, 0x00ab);
	expect(f, "outputs\n", "0xab34");
}

static void test_inputs_from_host(void **state)
{
	struct gpio_fixture *f = *state;

	driver_probe(f);
	expect(f, "inputs\n", "0x0000");
	expect(f, "inputs 0xbeef\n", "ok");
	expect(f, "inputs\n", "0xbeef");
	assert_int_equal(io_read(f, 0x1), 0xef);
	assert_int_equal(io_read(f, 0x5), 0xbe);
	/* IRQs disabled: no interrupt, nothing latched. */
	assert_int_equal(irq_fired(f->irq), 0);
	assert_int_equal(io_read(f, 0x6), 0);
	/* Two requests in one packet, decimal value: two replies in order. */
	expect(f, "inputs 1\ninputs\n", "ok");
	expect(f, "", "0x0001");
}

static void test_change_of_state_irq(void **state)
{
	struct gpio_fixture *f = *state;

	driver_probe(f);
	driver_enable_irq(f);
	assert_int_equal(irq_fired(f->irq), 0);

	/* IN3 goes high: bit 2 (pending) and bit 0 (inputs 0-7). */
	expect(f, "inputs 0x0008\n", "ok");
	assert_int_equal(irq_fired(f->irq), 1);
	assert_true(cfg_intx_asserted(f->dev));
	assert_int_equal(io_read(f, 0x6), 0x05);
	/* The driver clears through +1; the line drops. */
	io_write(f, 0x1, 0x04);
	assert_int_equal(io_read(f, 0x6), 0);
	assert_false(cfg_intx_asserted(f->dev));
	irq_unmask(f->dev, VFIO_PCI_INTX_IRQ_INDEX);

	/* The same value again is no change of state. */
	expect(f, "inputs 0x0008\n", "ok");
	assert_int_equal(irq_fired(f->irq), 0);
	assert_int_equal(io_read(f, 0x6), 0);

	/* IN12 rises and IN3 falls: both halves changed. */
	expect(f, "inputs 0x1000\n", "ok");
	assert_int_equal(irq_fired(f->irq), 1);
	assert_int_equal(io_read(f, 0x6), 0x07);
	io_write(f, 0x1, 0);
	irq_unmask(f->dev, VFIO_PCI_INTX_IRQ_INDEX);

	/* Disabled (all lines masked): changes raise nothing. */
	io_write(f, 0x2, 0);
	expect(f, "inputs 0x0000\n", "ok");
	assert_int_equal(irq_fired(f->irq), 0);
	assert_int_equal(io_read(f, 0x6), 0);
	assert_false(cfg_intx_asserted(f->dev));
}

static void test_disable_keeps_latch(void **state)
{
	struct gpio_fixture *f = *state;

	driver_probe(f);
	driver_enable_irq(f);
	expect(f, "inputs 0x0100\n", "ok");
	assert_int_equal(irq_fired(f->irq), 1);
	assert_int_equal(io_read(f, 0x6), 0x06);
	/* Disable: the line drops, the latch stays. */
	io_write(f, 0x2, 0);
	assert_false(cfg_intx_asserted(f->dev));
	assert_int_equal(io_read(f, 0x6), 0x06);
	irq_unmask(f->dev, VFIO_PCI_INTX_IRQ_INDEX);
	/* Enable without clearing: the latched interrupt comes again. */
	(void)io_read(f, 0x2);
	assert_true(cfg_intx_asserted(f->dev));
	assert_int_equal(irq_fired(f->irq), 1);
}

static void test_protocol_errors(void **state)
{
	struct gpio_fixture *f = *state;

	expect(f, "bogus\n", "error: unknown command 'bogus' (try 'help')");
	expect(f, "inputs 0x10000\n", "error: '0x10000' is not a 16-bit value");
	expect(f, "inputs -1\n", "error: '-1' is not a 16-bit value");
	expect(f, "inputs 12abc\n", "error: '12abc' is not a 16-bit value");
	expect(f, "inputs 1 2\n", "error: too many arguments");
	expect(f, "outputs 1\n", "error: 'outputs' takes no argument");
	expect(f, "\n", "error: empty request (try 'help')");
	expect(f, "help\n", "commands: inputs, inputs VALUE, outputs, help");
	/* None of that changed the inputs. */
	expect(f, "inputs\n", "0x0000");
}

static void test_line_too_long(void **state)
{
	struct gpio_fixture *f = *state;
	char req[GPIO_CONTROL_LINE_MAX + 8];
	char reply[256];

	memset(req, 'x', sizeof(req) - 1);
	req[sizeof(req) - 1] = '\0';
	request(f, req, reply, sizeof(reply));
	assert_string_equal(reply, "error: line too long");
	/* The connection is closed (reset, as our extra bytes were unread);
	 * a new one works. */
	assert_true(recv(f->ctl, reply, sizeof(reply), 0) <= 0);
	close(f->ctl);
	f->ctl = connect_to(f->path);
	expect(f, "inputs\n", "0x0000");
}

static void test_socket_mode(void **state)
{
	struct gpio_fixture *f = *state;
	struct stat st;

	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_bad_options(void **state)
{
	const struct uvfio_sample *s = uvfio_sample_find("gpio");
	struct uvfio_sample_dev sd = { 0 };
	char *bogus[] = { "gpio", "--bogus", NULL };
	char *missing[] = { "gpio", "--control", NULL };
	char *empty[] = { "gpio", "--control=", NULL };
	char dir[] = "/tmp/uvfio-gpio-XXXXXX";
	char path[64];
	char *taken[] = { "gpio", "--control", path, NULL };
	FILE *fp;

	(void)state;
	assert_int_equal(s->create(2, bogus, &sd), -EINVAL);
	assert_int_equal(s->create(2, missing, &sd), -EINVAL);
	assert_int_equal(s->create(2, empty, &sd), -EINVAL);
	/* An existing path is never taken over. */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(s->create(3, taken, &sd), -EADDRINUSE);
	assert_null(sd.dev);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* Without --control the card still works; it just has no host side. */
static void test_no_control(void **state)
{
	const struct uvfio_sample *s = uvfio_sample_find("gpio");
	struct uvfio_sample_dev sd = { 0 };
	char *argv[] = { "gpio", NULL };

	(void)state;
	assert_int_equal(s->create(1, argv, &sd), 0);
	assert_int_equal(s->event_fd(sd.priv), -1);
	s->destroy(sd.priv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pci_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outputs_to_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inputs_from_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_of_state_irq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disable_keeps_latch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protocol_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_mode, setup, teardown),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_no_control),
	};

	uvfio_log_set_level(UVFIO_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
