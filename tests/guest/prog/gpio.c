/* SPDX-License-Identifier: MIT */
/*
 * Guest checks of a PCI-IDIO-16 card driven by the kernel's gpio-pci-idio-16
 * driver, through the GPIO character device (uAPI v2). Lines 0-15 are the
 * outputs, 16-31 the inputs.
 *
 * Interactive with the host runner, over the console:
 *   guest: "GPIO-OUTPUTS-SET 0xXXXX"   outputs driven; host reads them back
 *                                       through the device's control socket
 *   host:  "INPUTS 0xYYYY"             (on stdin) inputs set on the device
 *   guest: reads lines 16-31, and the edge events the change raised (the
 *          card's change-of-state interrupt, INTx, through the driver's
 *          regmap-irq chip), reports.
 */
#include <poll.h>
#include <sys/ioctl.h>
#include <linux/gpio.h>
#include "common.h"

static const uint16_t out_pat[] = { 0xa5c3, 0x3c5a };

static int open_chip(struct gpiochip_info *info, char *path, size_t len)
{
	double t0 = now_ms();
	int fd;

	/* The driver probes asynchronously to insmod returning: allow a moment. */
	snprintf(path, len, "/dev/gpiochip0");
	while ((fd = open(path, O_RDWR)) < 0 && now_ms() - t0 < 3000)
		usleep(10000);
	if (fd < 0)
		return -1;
	if (ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, info)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int line_name(int chip, unsigned off, char *name, size_t len)
{
	struct gpio_v2_line_info li = { .offset = off };

	if (ioctl(chip, GPIO_V2_GET_LINEINFO_IOCTL, &li))
		return -errno;
	snprintf(name, len, "%s", li.name);
	return 0;
}

static int request(int chip, unsigned first, uint64_t flags, const char *who)
{
	struct gpio_v2_line_request req = { .num_lines = 16 };

	for (unsigned i = 0; i < 16; i++)
		req.offsets[i] = first + i;
	req.config.flags = flags;
	snprintf(req.consumer, sizeof(req.consumer), "%s", who);
	if (ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &req))
		return -1;
	return req.fd;
}

/* Drains the edge events of the input request: returns the mask of lines (0-15) seen. */
static int read_events(int fd, int first_wait_ms, unsigned *count)
{
	struct gpio_v2_line_event ev;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int mask = 0, wait = first_wait_ms;

	*count = 0;
	while (poll(&pfd, 1, wait) == 1 && read(fd, &ev, sizeof(ev)) == sizeof(ev)) {
		mask |= 1 << (ev.offset - 16);
		(*count)++;
		wait = 200; /* the rest of the burst */
	}
	return mask;
}

/* Reads "INPUTS 0xYYYY" from the console (the host runner writes it). */
static long wait_host(int timeout_ms)
{
	char buf[128];
	size_t n = 0;
	double t0 = now_ms();

	for (;;) {
		struct pollfd pfd = { .fd = 0, .events = POLLIN };
		int left = timeout_ms - (int)(now_ms() - t0);
		char *p;

		if (left <= 0 || poll(&pfd, 1, left) != 1)
			return -1;
		if (read(0, buf + n, 1) != 1)
			return -1;
		if (buf[n] != '\n' && buf[n] != '\r' && n < sizeof(buf) - 2) {
			n++;
			continue;
		}
		buf[n] = 0;
		n = 0;
		p = strstr(buf, "INPUTS ");
		if (p)
			return strtol(p + 7, NULL, 0);
	}
}

int main(void)
{
	struct gpiochip_info info;
	char path[64], n0[32] = "", n16[32] = "";
	int chip, out, in;

	setvbuf(stdout, NULL, _IOLBF, 0);
	check_begin();
	chip = open_chip(&info, path, sizeof(path));
	if (chip < 0) {
		check("gpio-chip", 0, "no /dev/gpiochip0 (%s)", strerror(errno));
		return 1;
	}
	line_name(chip, 0, n0, sizeof(n0));
	line_name(chip, 16, n16, sizeof(n16));
	check("gpio-chip", info.lines == 32 && !strcmp(n0, "OUT0") && !strcmp(n16, "IIN0"),
	      "%s name %s label %s, %u lines, line 0 \"%s\", line 16 \"%s\"", path, info.name,
	      info.label, info.lines, n0, n16);

	out = request(chip, 0, GPIO_V2_LINE_FLAG_OUTPUT, "uvfio-out");
	in = request(chip, 16, GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING |
		     GPIO_V2_LINE_FLAG_EDGE_FALLING, "uvfio-in");
	if (out < 0 || in < 0) {
		check("gpio-request", 0, "GPIO_V2_GET_LINE_IOCTL: %s", strerror(errno));
		return 1;
	}
	for (unsigned r = 0, prev = 0; r < 2; r++) {
		struct gpio_v2_line_values set = { .bits = out_pat[r], .mask = 0xffff };
		struct gpio_v2_line_values get = { .mask = 0xffff };
		unsigned nev;
		long want;
		int ok, evmask;

		ok = !ioctl(out, GPIO_V2_LINE_SET_VALUES_IOCTL, &set);
		check("gpio-set-outputs", ok, "lines 0-15 <- 0x%04x (GPIO_V2_LINE_SET_VALUES_IOCTL)%s",
		      out_pat[r], ok ? "" : strerror(errno));
		printf("GPIO-OUTPUTS-SET 0x%04x\n", out_pat[r]);
		check_begin();
		want = wait_host(30000);
		if (want < 0) {
			check("gpio-inputs", 0, "no INPUTS line from the host runner in 30 s");
			return 1;
		}
		ok = !ioctl(in, GPIO_V2_LINE_GET_VALUES_IOCTL, &get);
		check("gpio-inputs", ok && get.bits == (uint64_t)want,
		      "lines 16-31 read 0x%04llx, host set 0x%04lx (GPIO_V2_LINE_GET_VALUES_IOCTL)",
		      (unsigned long long)get.bits, want);
		/*
		 * The card has one change-of-state interrupt for all inputs, so
		 * the driver's regmap-irq reports it on every line that asks for
		 * edges: require events on at least the lines that changed.
		 */
		evmask = read_events(in, 3000, &nev);
		check("gpio-irq-edges", nev && (evmask & (want ^ prev)) == (want ^ prev),
		      "%u edge events on lines 0x%04x, inputs that changed 0x%04lx (INTx, change of state)",
		      nev, evmask, want ^ prev);
		prev = want;
	}
	close(out);
	close(in);
	close(chip);
	return failures ? 1 : 0;
}
