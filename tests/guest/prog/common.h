/* SPDX-License-Identifier: MIT */
/* Helpers shared by the guest check programs (static, run from the initramfs). */
#ifndef GUEST_COMMON_H
#define GUEST_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int failures;
static struct timespec check_start;

static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline void check_begin(void)
{
	clock_gettime(CLOCK_MONOTONIC, &check_start);
}

/* One line per check: "CHECK <name> PASS|FAIL <detail> [guest ms]". */
static inline void __attribute__((format(printf, 3, 4)))
check(const char *name, int ok, const char *fmt, ...)
{
	struct timespec ts;
	double ms;
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ms = (ts.tv_sec - check_start.tv_sec) * 1e3 +
	     (ts.tv_nsec - check_start.tv_nsec) / 1e6;
	printf("CHECK %s %s ", name, ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" [guest %.1f ms]\n", ms);
	fflush(stdout);
	if (!ok)
		failures++;
	check_begin();
}

static inline int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

static inline unsigned long read_hex(const char *dir, const char *attr)
{
	char path[512], buf[64];

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	if (read_file(path, buf, sizeof(buf)))
		return ~0ul;
	return strtoul(buf, NULL, 16);
}

static inline int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : (n < 0 ? -errno : -EIO);
}

/* Finds the PCI device vendor:device; fills dir with its sysfs path. */
static inline int find_pci(unsigned vendor, unsigned device, char *dir, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int found = -ENODEV;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char p[300];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s", e->d_name);
		if (read_hex(p, "vendor") == vendor && read_hex(p, "device") == device) {
			snprintf(dir, len, "%s", p);
			found = 0;
			break;
		}
	}
	closedir(d);
	return found;
}

#endif
