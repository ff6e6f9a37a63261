/* SPDX-License-Identifier: MIT */
/*
 * `uvfio ls [--json] [--dir DIR]`: what a driver could open. PCI devices
 * with an IOMMU group or a vfio driver, with their group, driver and
 * whether they are usable (and why not); then the vfio-user sockets in DIR
 * (default /run/uvfio), each connected to and asked for its info.
 * UVFIO_SYSFS_ROOT and UVFIO_DEV_ROOT point it at another tree (tests).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <uvfio/client.h>
#include <uvfio/log.h>

#include "commands.h"
#include "tool_error.h"
#include "kernel/kvfio.h"

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void json_str(const char *s)
{
	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void quiet(enum uvfio_log_level l, const char *who, const char *msg, void *o)
{
	(void)l;
	(void)who;
	(void)msg;
	(void)o;
}

static const char *opt_str(const char *s)
{
	return s && *s ? s : NULL;
}

static int skip_dots(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

static int list_pci(int json)
{
	struct dirent **names = NULL;
	char dir[PATH_MAX];
	int n, shown = 0;

	if (kvfio_path(dir, sizeof(dir), "%s/bus/pci/devices", kvfio_sysfs_root()))
		return -ENAMETOOLONG;
	n = scandir(dir, &names, skip_dots, alphasort);
	if (n < 0)
		n = 0; /* no PCI bus: an empty list, not an error */
	if (json)
		fputs("\"pci\":[", stdout);
	else
		printf("%-13s %-10s %-6s %-14s %s\n", "PCI DEVICE", "ID", "GROUP", "DRIVER", "USABLE");
	for (int i = 0; i < n; i++) {
		struct kvfio_pci_status s;

		if (kvfio_pci_status(names[i]->d_name, &s))
			continue;
		/* VFIO-capable: has an IOMMU group, or is already on vfio. */
		if (!s.group[0] && !s.bound)
			continue;
		if (json) {
			printf("%s{\"bdf\":", shown ? "," : "");
			json_str(s.bdf);
			printf(",\"vendor\":");
			json_str(opt_str(s.vendor));
			printf(",\"device\":");
			json_str(opt_str(s.device));
			printf(",\"iommu_group\":");
			json_str(opt_str(s.group));
			printf(",\"driver\":");
			json_str(opt_str(s.driver));
			printf(",\"vfio_bound\":%s,\"viable\":%s,\"group_node\":",
			       s.bound ? "true" : "false", s.viable ? "true" : "false");
			json_str(opt_str(s.group_node));
			printf(",\"cdev\":");
			json_str(opt_str(s.cdev_node));
			printf(",\"usable\":%s,\"problem\":", s.usable ? "true" : "false");
			json_str(opt_str(s.problem));
			putchar('}');
		} else {
			char id[32];

			snprintf(id, sizeof(id), "%.6s:%.6s", s.vendor[0] ? s.vendor + 2 : "?",
				 s.device[0] ? s.device + 2 : "?");
			printf("%-13s %-10s %-6s %-14s %s", s.bdf, id, s.group[0] ? s.group : "-",
			       s.driver[0] ? s.driver : "-", s.usable ? "yes" : "no");
			if (s.usable)
				printf("  %s%s%s", s.cdev_node, s.cdev_node[0] && s.group_node[0] ?
				       ", " : "", s.group_node);
			else
				printf("  %s", s.problem);
			putchar('\n');
		}
		shown++;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (json)
		putchar(']');
	return shown;
}

static void list_sockets(const char *dir, int json)
{
	const struct uvfio_client_opts opts = { .timeout_ms = 1000 };
	struct dirent **names = NULL;
	int n, shown = 0, err;

	errno = 0;
	n = scandir(dir, &names, skip_dots, alphasort);
	err = n < 0 ? errno : 0;
	if (json) {
		fputs(",\"sockets_dir\":", stdout);
		json_str(dir);
		fputs(",\"sockets\":[", stdout);
	} else {
		char why[160] = "", reason[128];

		if (err)
			snprintf(why, sizeof(why), " (%s)", tool_strerror(err, reason, sizeof(reason)));
		printf("\nvfio-user sockets in %s:%s%s\n", dir, n <= 0 ? " none" : "", why);
	}
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX], loc[PATH_MAX + 16];
		struct vfio_device_info info = { .argsz = sizeof(info) };
		struct uvfio_client *c;
		struct stat st;
		int ret;

		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >= (int)sizeof(path) ||
		    stat(path, &st) || !S_ISSOCK(st.st_mode))
			continue;
		snprintf(loc, sizeof(loc), "vfio-user:%s", path);
		ret = uvfio_client_open(loc, &opts, &c);
		if (!ret) {
			ret = uvfio_client_get_info(c, &info);
			uvfio_client_close(c);
		}
		if (json) {
			printf("%s{\"path\":", shown ? "," : "");
			json_str(path);
			if (ret) {
				printf(",\"ok\":false,\"error\":");
				json_str(strerror(-ret));
			} else {
				printf(",\"ok\":true,\"flags\":%u,\"num_regions\":%u,\"num_irqs\":%u",
				       info.flags, info.num_regions, info.num_irqs);
			}
			putchar('}');
		} else if (ret) {
			printf("%-40s error: %s\n", path, strerror(-ret));
		} else {
			printf("%-40s flags %#x%s%s%s, %u regions, %u irqs\n", path, info.flags,
			       info.flags & VFIO_DEVICE_FLAGS_PCI ? " PCI" : "",
			       info.flags & VFIO_DEVICE_FLAGS_RESET ? " RESET" : "",
			       info.flags & VFIO_DEVICE_FLAGS_CDX ? " CDX" : "",
			       info.num_regions, info.num_irqs);
		}
		shown++;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (json)
		putchar(']');
}

int cmd_ls(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL;
	int json = 0, opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jd:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			printf("usage: uvfio ls [--json] [--dir DIR]\n"
			       "  VFIO-capable PCI devices (group, driver, usable or why not)\n"
			       "  and the vfio-user sockets in DIR (default %s).\n"
			       "  UVFIO_SYSFS_ROOT / UVFIO_DEV_ROOT: read another sysfs and /dev.\n",
			       kvfio_run_dir());
			return UVFIO_EXIT_OK;
		default:
			return UVFIO_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "uvfio ls: unexpected argument '%s'\n", argv[optind]);
		return UVFIO_EXIT_USAGE;
	}
	if (!dir)
		dir = kvfio_run_dir();
	/* Connection errors are reported per socket; keep stderr quiet
	 * unless UVFIO_LOG asks for the library's lines. */
	if (!getenv("UVFIO_LOG"))
		uvfio_log_set_sink(quiet, NULL);
	if (json)
		putchar('{');
	list_pci(json);
	list_sockets(dir, json);
	if (json)
		puts("}");
	return UVFIO_EXIT_OK;
}
