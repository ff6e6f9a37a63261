/* SPDX-License-Identifier: MIT */
/*
 * Guest checks of an mtty instance (vendor 0x4348 device 0x3253, class
 * 0x0700, one 16550A per 8-byte I/O BAR) driven by the kernel's 8250_pci
 * driver ("serial"), through its /dev/ttyS* ports in raw mode.
 *
 * Interactive with the host runner, which holds the instance's ptys; per
 * port P (in the order of the tty lines, which is the order of the BARs):
 *   guest: writes "hello-from-guest-TOKEN\n" to its ttyS, then prints
 *          "MTTY-SENT P ttySn hello-from-guest-TOKEN" on the console; the host
 *          reads that line from pty P, then writes "hello-from-host-T2\n" there
 *   guest: reads a line from the ttyS (10 s timeout), prints
 *          "MTTY-RECEIVED P <line>" (the host compares it) and a CHECK line.
 * then BULK bytes of every value (raw both ways, no flow control):
 *   guest: writes (k * 7 + SEED) & 0xff, k < BULK, prints
 *          "MTTY-BULK-SENT P BULK SEED"; the host reads and compares them,
 *          then writes (k * 13 + SEED + 1) & 0xff, k < BULK, into pty P
 *   guest: reads BULK bytes (10 s timeout), compares, reports.
 */
#include <limits.h>
#include <poll.h>
#include <termios.h>
#include "common.h"

#define MAX_PORTS 4
#define BULK 512

struct port {
	int line;		/* n of ttySn */
	char name[32];
};

/* The tty lines whose sysfs device lies under the PCI device dir. */
static int find_ttys(const char *pcidir, struct port *p, int max)
{
	char real_pci[PATH_MAX], real[PATH_MAX], path[300];
	DIR *d = opendir("/sys/class/tty");
	struct dirent *e;
	int n = 0;

	if (!d || !realpath(pcidir, real_pci)) {
		if (d)
			closedir(d);
		return 0;
	}
	strcat(real_pci, "/");
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "ttyS", 4))
			continue;
		snprintf(path, sizeof(path), "/sys/class/tty/%s", e->d_name);
		if (!realpath(path, real) || strncmp(real, real_pci, strlen(real_pci)))
			continue;
		if (n < max) {
			p[n].line = atoi(e->d_name + 4);
			snprintf(p[n].name, sizeof(p[n].name), "%.31s", e->d_name);
		}
		n++;
	}
	closedir(d);
	if (n > max)
		n = max;
	/* Registration order (BAR order) = ascending line numbers. */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && p[j].line < p[j - 1].line; j--) {
			struct port t = p[j];

			p[j] = p[j - 1];
			p[j - 1] = t;
		}
	return n;
}

/* The /proc/interrupts count of irq want (all CPUs); its line in irqs.
 * The 8250 requests its irq when the tty is opened and frees it on close. */
static long irq_count(long want, char *irqs, size_t len)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[1024];
	long total = -1;

	if (irqs && len)
		irqs[0] = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;
		long irq, cnt, sum = 0;

		irq = strtol(p, &end, 10);
		if (end == p || *end != ':' || irq != want)
			continue;
		p = end + 1;
		while ((cnt = strtol(p, &end, 10)), end != p) {
			sum += cnt;
			p = end;
		}
		total = sum;
		if (irqs) {
			line[strcspn(line, "\n")] = 0;
			/* irq number, type and name: squeeze the spaces */
			char sq[200];
			size_t k = 0;
			for (char *c = line; *c && k < sizeof(sq) - 1; c++)
				if (*c != ' ' || (k && sq[k - 1] != ' '))
					sq[k++] = *c;
			sq[k] = 0;
			size_t l = strlen(irqs);
			snprintf(irqs + l, len - l, "%s[%s]", l ? " " : "", sq);
		}
	}
	fclose(f);
	return total;
}

static int open_raw(const char *dev, char *err, size_t len)
{
	struct termios tio;
	int fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		snprintf(err, len, "open %s: %s", dev, strerror(errno));
		return -1;
	}
	if (tcgetattr(fd, &tio)) {
		snprintf(err, len, "tcgetattr %s: %s", dev, strerror(errno));
		close(fd);
		return -1;
	}
	cfmakeraw(&tio);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cflag &= ~CRTSCTS;
	cfsetspeed(&tio, B115200);
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &tio)) {
		snprintf(err, len, "tcsetattr %s: %s", dev, strerror(errno));
		close(fd);
		return -1;
	}
	tcflush(fd, TCIOFLUSH);
	return fd;
}

/* Writes all of s within timeout_ms; returns bytes written. */
static ssize_t write_all(int fd, const char *s, size_t n, int timeout_ms)
{
	double t0 = now_ms();
	size_t done = 0;

	while (done < n && now_ms() - t0 < timeout_ms) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		ssize_t w;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		w = write(fd, s + done, n - done);
		if (w > 0)
			done += w;
		else if (w < 0 && errno != EAGAIN && errno != EINTR)
			break;
	}
	return done;
}

/* Reads n bytes within timeout_ms; returns the count read. */
static size_t read_n(int fd, unsigned char *buf, size_t n, int timeout_ms)
{
	double t0 = now_ms();
	size_t done = 0;

	while (done < n && now_ms() - t0 < timeout_ms) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		r = read(fd, buf + done, n - done);
		if (r > 0)
			done += r;
	}
	return done;
}

/* Reads up to a '\n' within timeout_ms; returns the length (without '\n'),
 * -1 on timeout (buf holds what came). */
static ssize_t read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	double t0 = now_ms();
	size_t n = 0;

	buf[0] = 0;
	while (now_ms() - t0 < timeout_ms) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char c;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		while (read(fd, &c, 1) == 1) {
			if (c == '\n') {
				buf[n] = 0;
				return n;
			}
			if (n < len - 1)
				buf[n++] = c;
			buf[n] = 0;
		}
	}
	return -1;
}

int main(void)
{
	char dir[300], path[400], drv[PATH_MAX], msi[256] = "", irqs[512];
	struct port ports[MAX_PORTS];
	unsigned long cls;
	int n = 0, fd;
	unsigned tok;

	setvbuf(stdout, NULL, _IOLBF, 0);
	check_begin();
	if (find_pci(0x4348, 0x3253, dir, sizeof(dir))) {
		check("mtty-enum", 0, "no PCI device 4348:3253");
		return 1;
	}
	cls = read_hex(dir, "class");
	check("mtty-enum", (cls >> 8) == 0x0700, "%s 4348:3253 class 0x%06lx%s", dir + 21,
	      cls, (cls >> 8) == 0x0700 ? " (serial, 16550)" : " (want 0x0700xx)");

	/* 8250_pci is built in: it has bound the device before /init ran. */
	snprintf(path, sizeof(path), "%s/driver", dir);
	ssize_t l = readlink(path, drv, sizeof(drv) - 1);
	drv[l > 0 ? l : 0] = 0;
	const char *base = strrchr(drv, '/') ? strrchr(drv, '/') + 1 : drv;
	{
		DIR *d;
		struct dirent *e;

		snprintf(path, sizeof(path), "%s/msi_irqs", dir);
		if ((d = opendir(path))) {
			while ((e = readdir(d)))
				if (e->d_name[0] != '.')
					snprintf(msi + strlen(msi), sizeof(msi) - strlen(msi),
						 " %.16s", e->d_name);
			closedir(d);
		}
	}
	snprintf(path, sizeof(path), "%s/irq", dir);
	char irq[32] = "?";
	read_file(path, irq, sizeof(irq));
	check("mtty-driver", !strcmp(base, "serial"), "driver '%s', irq %s, msi_irqs:%s", base,
	      irq, msi[0] ? msi : " none");

	n = find_ttys(dir, ports, MAX_PORTS);
	{
		char list[200] = "";

		for (int i = 0; i < n; i++) {
			char port[32] = "?", tirq[32] = "?";

			snprintf(path, sizeof(path), "/sys/class/tty/%s/port", ports[i].name);
			read_file(path, port, sizeof(port));
			snprintf(path, sizeof(path), "/sys/class/tty/%s/irq", ports[i].name);
			read_file(path, tirq, sizeof(tirq));
			snprintf(list + strlen(list), sizeof(list) - strlen(list), " %s(io %s irq %s)",
				 ports[i].name, port, tirq);
		}
		check("mtty-ttys", n > 0, "%d port(s):%s", n, n ? list : " none");
	}
	printf("MTTY-PORTS %d\n", n);

	{
		/* Not /dev/urandom: before the crng is ready (early in this guest)
		 * its first read gathers jitter entropy for about a second. */
		struct timespec a, b;

		clock_gettime(CLOCK_REALTIME, &a);
		clock_gettime(CLOCK_MONOTONIC, &b);
		tok = (unsigned)(a.tv_nsec ^ a.tv_sec ^ (b.tv_nsec << 7) ^ getpid());
	}
	for (int i = 0; i < n; i++) {
		char dev[48], err[200], msg[64], got[256], name[32], tirq[32] = "-1";
		long irq0, irq1;
		ssize_t w, r;
		double t0;

		snprintf(dev, sizeof(dev), "/dev/%s", ports[i].name);
		fd = open_raw(dev, err, sizeof(err));
		snprintf(name, sizeof(name), "mtty-raw-p%d", i);
		check(name, fd >= 0, "%s", fd >= 0 ? dev : err);
		if (fd < 0)
			continue;
		snprintf(path, sizeof(path), "/sys/class/tty/%s/irq", ports[i].name);
		read_file(path, tirq, sizeof(tirq));
		irq0 = irq_count(atol(tirq), NULL, 0);
		snprintf(msg, sizeof(msg), "hello-from-guest-%08x-p%d\n", tok, i);
		t0 = now_ms();
		w = write_all(fd, msg, strlen(msg), 5000);
		/* The bytes are on their way out; wait for the UART to send them. */
		snprintf(name, sizeof(name), "mtty-tx-p%d", i);
		check(name, w == (ssize_t)strlen(msg), "%s: wrote %zd of %zu bytes in %.1f ms",
		      ports[i].name, w, strlen(msg), now_ms() - t0);
		msg[strlen(msg) - 1] = 0;
		printf("MTTY-SENT %d %s %s\n", i, ports[i].name, msg);
		t0 = now_ms();
		r = read_line(fd, got, sizeof(got), 10000);
		printf("MTTY-RECEIVED %d %s\n", i, got);
		snprintf(name, sizeof(name), "mtty-rx-p%d", i);
		check(name, r >= 0 && !strncmp(got, "hello-from-host-", 16),
		      "%s: read '%s'%s after %.1f ms", ports[i].name, got,
		      r < 0 ? " (NO NEWLINE within 10 s)" : "", now_ms() - t0);
		/* Bulk, every byte value. */
		{
			unsigned char out[BULK], in[BULK];
			unsigned seed = (tok + i) & 0xff;
			size_t got_n, bad = BULK;

			for (int k = 0; k < BULK; k++)
				out[k] = (k * 7 + seed) & 0xff;
			t0 = now_ms();
			w = write_all(fd, (const char *)out, BULK, 10000);
			snprintf(name, sizeof(name), "mtty-bulk-tx-p%d", i);
			check(name, w == BULK, "%s: wrote %zd of %d bytes (all values) in %.1f ms",
			      ports[i].name, w, BULK, now_ms() - t0);
			printf("MTTY-BULK-SENT %d %d %u\n", i, BULK, seed);
			t0 = now_ms();
			got_n = read_n(fd, in, BULK, 10000);
			for (size_t k = 0; k < got_n; k++)
				if (in[k] != ((k * 13 + seed + 1) & 0xff)) {
					bad = k;
					break;
				}
			snprintf(name, sizeof(name), "mtty-bulk-rx-p%d", i);
			if (got_n == BULK && bad == BULK)
				check(name, 1, "%s: read %d of %d bytes, all as the host wrote, "
				      "in %.1f ms", ports[i].name, BULK, BULK, now_ms() - t0);
			else if (bad < got_n)
				check(name, 0, "%s: read %zu of %d bytes; byte %zu is 0x%02x, host "
				      "wrote 0x%02x", ports[i].name, got_n, BULK, bad, in[bad],
				      (unsigned)((bad * 13 + seed + 1) & 0xff));
			else
				check(name, 0, "%s: read %zu of %d bytes within 10 s (all as "
				      "written)", ports[i].name, got_n, BULK);
		}
		/* The transmit (THRE) and receive interrupts of the exchange. */
		irq1 = irq_count(atol(tirq), irqs, sizeof(irqs));
		snprintf(name, sizeof(name), "mtty-irq-p%d", i);
		check(name, irq0 >= 0 && irq1 > irq0, "%s: irq %s count %ld -> %ld during the "
		      "exchange: %s", ports[i].name, tirq, irq0, irq1,
		      irqs[0] ? irqs : "(irq not in /proc/interrupts)");
		close(fd);
	}
	return failures ? 1 : 0;
}
