/* SPDX-License-Identifier: MIT */
/*
 * kguest-sriov: the SR-IOV VF token on the real kernel, through our client
 * API only. Runs in a guest (tests/kguest/sriov.py) with an SR-IOV PF
 * (QEMU's igb, 8086:10c9, VFs 8086:10ca) and a plain device (QEMU's edu)
 * and vfio-pci loaded with enable_sriov=1.
 *
 *   kguest-sriov [--uvfio PATH]
 *
 * The PF's user sets a VF token with VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, the
 * test enables VFs (sriov_numvfs) and opens a VF with the right token, a
 * wrong one and none; the kernel decides (vfio_pci_core.c,
 * vfio_pci_validate_vf_token) and our client must say why it refused. With
 * --uvfio, `uvfio ls` must mark the PF and its VFs. Prints one
 * "CHECK name PASS|FAIL detail" line per check (tests/kguest/sriov.py knows
 * the names and fails on a missing one); exit 0 only if all passed.
 * Static-linkable: no dlopen, no NSS.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <uvfio/client.h>
#include <uvfio/log.h>
#include <uvfio/mdev.h>

#include "kernel/tests/check_line.h"

#define CONFIG 7u /* VFIO_PCI_CONFIG_REGION_INDEX */
#define REQ_IRQ 4u /* VFIO_PCI_REQ_IRQ_INDEX */
#define NUM_VFS 2
#define SYS "/sys/bus/pci/devices"

extern char **environ;

/* A: the PF user's first token; B differs from A in its last bit; C replaces A. */
static const char *const TOKEN_A = "bd8d9d2b-5a5f-4f5a-a211-f591514ba1f3";
static const char *const TOKEN_B = "bd8d9d2b-5a5f-4f5a-a211-f591514ba1f2";
static const char *const TOKEN_C = "4e1b0fd3-7d31-4f6e-9a85-2c1f30b8d6a2";

static char logbuf[8192];
/*
 * The group-path checks open pci:BDF locations; where the kernel has the
 * device cdev (and /dev/iommu), pci:BDF would pick the cdev, whose rules
 * differ (one bind per device, the token judged only at bind), so they are
 * pinned to the group there. cdev_checks() covers the cdev path.
 */
static const char *group_q = "";

/* What the library logged since log_reset(): the message a user would see. */
static void sink(enum uvfio_log_level level, const char *who, const char *msg, void *o)
{
	size_t used = strlen(logbuf);

	(void)o;
	if (level > UVFIO_LOG_WARN)
		return;
	fprintf(stderr, "uvfio[%s]: %s\n", who, msg);
	if (used < sizeof(logbuf) - 1)
		snprintf(logbuf + used, sizeof(logbuf) - used, "%s%s", used ? " | " : "", msg);
}

static void log_reset(void)
{
	logbuf[0] = 0;
}

static const char *err(int ret)
{
	static char buf[4][64];
	static int i;

	i = (i + 1) % 4;
	if (!ret)
		return "0";
	snprintf(buf[i], sizeof(buf[i]), "%s%s", ret == -EACCES ? "EACCES " : ret == -EINVAL ?
		 "EINVAL " : ret == -ENOTTY ? "ENOTTY " : ret == -EBUSY ? "EBUSY " : "", strerror(ret < 0 ? -ret : ret));
	return buf[i];
}

/* ---- sysfs ---------------------------------------------------------------- */

static int sys_read(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int sys_read(char *out, size_t len, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	ssize_t n;
	int fd;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, out, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	out[n] = 0;
	out[strcspn(out, "\n")] = 0;
	return 0;
}

static int sys_write(const char *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sys_write(const char *s, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	int fd, ret = 0;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* A sysfs name into out, if it fits. */
static int copy_name(char *out, size_t len, const char *name)
{
	if (strlen(name) >= len)
		return 0;
	memcpy(out, name, strlen(name) + 1);
	return 1;
}

/* Basename of the link DEV/what (driver, iommu_group, physfn, virtfnN); "" if none. */
static const char *link_base(const char *bdf, const char *what, char *out, size_t len)
{
	char path[PATH_MAX], buf[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), SYS "/%s/%s", bdf, what);
	out[0] = 0;
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = 0;
		copy_name(out, len, strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf);
	}
	return out;
}

static int find_pci(unsigned vendor, unsigned device, char *bdf, size_t len)
{
	DIR *d = opendir(SYS);
	struct dirent *de;
	char v[32], dv[32];
	int ret = -ENODEV;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || sys_read(v, sizeof(v), SYS "/%s/vendor", de->d_name) ||
		    sys_read(dv, sizeof(dv), SYS "/%s/device", de->d_name))
			continue;
		if (strtoul(v, NULL, 16) == vendor && strtoul(dv, NULL, 16) == device &&
		    copy_name(bdf, len, de->d_name)) {
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

/* The device's cdev name (vfio-dev/vfioX), "" without one. */
static void find_cdev(const char *bdf, char *out, size_t len)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	out[0] = 0;
	snprintf(dir, sizeof(dir), SYS "/%s/vfio-dev", bdf);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "vfio", 4))
			copy_name(out, len, de->d_name);
	closedir(d);
}

/* driver_override + drivers_probe, as the kernel documents it; 0 when on vfio-pci. */
static int bind_vfio(const char *bdf, char *drv, size_t len)
{
	int ret;

	if (!strcmp(link_base(bdf, "driver", drv, len), "vfio-pci"))
		return 0;
	ret = sys_write("vfio-pci", SYS "/%s/driver_override", bdf);
	if (!ret && drv[0])
		ret = sys_write(bdf, SYS "/%s/driver/unbind", bdf);
	if (!ret)
		ret = sys_write(bdf, "/sys/bus/pci/drivers_probe");
	if (ret)
		return ret;
	return strcmp(link_base(bdf, "driver", drv, len), "vfio-pci") ? -ENODEV : 0;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* ---- the client API --------------------------------------------------------- */

static int open_dev(const char *loc, const char *token, struct uvfio_client **c)
{
	struct uvfio_client_opts o = { .vf_token = token };

	log_reset();
	return uvfio_client_open(loc, &o, c);
}

/* Vendor and device id from config space through the region API. */
static int read_ids(struct uvfio_client *c, unsigned *vendor, unsigned *device)
{
	uint16_t ids[2] = { 0, 0 };
	ssize_t n = uvfio_client_read(c, CONFIG, 0, ids, sizeof(ids));

	*vendor = ids[0];
	*device = ids[1];
	return n == (ssize_t)sizeof(ids) ? 0 : n < 0 ? (int)n : -EIO;
}

/* VFIO_DEVICE_FEATURE PCI_VF_TOKEN with `flags` and `datalen` bytes of token. */
static int token_feature(struct uvfio_client *c, uint32_t flags, const char *uuid,
			 size_t datalen)
{
	struct {
		struct vfio_device_feature f;
		uint8_t uuid[16];
	} buf;

	memset(&buf, 0, sizeof(buf));
	buf.f.argsz = (uint32_t)(sizeof(buf.f) + datalen);
	buf.f.flags = flags | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
	if (uuid && uvfio_mdev_uuid_parse(uuid, buf.uuid))
		return -EFAULT; /* a bug in this test */
	return uvfio_client_feature(c, &buf);
}

/*
 * Opening `loc` with `token` must fail with `want` and the client's log
 * must contain `says`. Returns 1 if so.
 */
static int refused(const char *name, const char *loc, const char *token, int want,
		   const char *says)
{
	struct uvfio_client *c = NULL;
	int ret = open_dev(loc, token, &c);
	int ok = ret == want && strstr(logbuf, says);

	check(name, ok, "%s with %s: %s (want %s); client said: \"%s\"", loc,
	      token ? token : "no token", err(ret), err(want), logbuf);
	if (c)
		uvfio_client_close(c);
	return ok;
}

/* Opening `loc` with `token` must work and config space must read vendor:device. */
static struct uvfio_client *opens(const char *name, const char *loc, const char *token,
				  unsigned vendor, unsigned device)
{
	struct uvfio_client *c = NULL;
	unsigned v = 0, d = 0;
	int ret = open_dev(loc, token, &c);

	if (!ret)
		ret = read_ids(c, &v, &d);
	check(name, !ret && v == vendor && d == device, "%s with %s: %s, backend %s, config "
	      "%04x:%04x (want %04x:%04x)%s%s", loc, token ? token : "no token", err(ret),
	      c ? uvfio_client_backend(c) : "-", v, d, vendor, device,
	      logbuf[0] ? "; client said: " : "", logbuf);
	if (ret && c) {
		uvfio_client_close(c);
		c = NULL;
	}
	return c;
}

/* ---- steps ------------------------------------------------------------------ */

struct vf {
	char bdf[32], group[16], cdev[32];
};

/* `uvfio ls` must mark the PF (n/total VFs) and each VF (its PF). */
static void uvfio_ls(const char *uvfio, const char *pf, const struct vf *vfs, int n)
{
	char cmd[PATH_MAX + 32], line[512], want[128];
	int pf_seen = 0, vf_seen = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s ls 2>&1", uvfio);
	p = popen(cmd, "r");
	if (!p) {
		check("uvfio-ls", 0, "popen %s: %s", uvfio, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), p)) {
		printf("LS| %s", line);
		if (!strncmp(line, pf, strlen(pf))) {
			snprintf(want, sizeof(want), "[SR-IOV PF: %d/", n);
			pf_seen += !!strstr(line, want);
		}
		for (int i = 0; i < n; i++) {
			snprintf(want, sizeof(want), "[SR-IOV VF of %s]", pf);
			if (!strncmp(line, vfs[i].bdf, strlen(vfs[i].bdf)) && strstr(line, want))
				vf_seen++;
		}
	}
	int rc = pclose(p);

	check("uvfio-ls", rc == 0 && pf_seen == 1 && vf_seen == n, "exit %d, PF %s marked %s, "
	      "%d/%d VFs marked as VFs of it", WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, pf,
	      pf_seen ? "[SR-IOV PF: n/total]" : "NOT", vf_seen, n);
}

/* The PF user's token feature (vfio_pci_core_feature_token: SET only, 16 bytes). */
static void pf_token_feature(struct uvfio_client *pf, const char *bdf)
{
	char numvfs[16] = "?";
	int r1, r2, r3;

	r1 = token_feature(pf, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET, NULL, 0);
	check("token-probe", r1 == 0, "PF: PROBE|SET: %s (want 0)", err(r1));
	r1 = token_feature(pf, VFIO_DEVICE_FEATURE_GET, NULL, 16);
	r2 = token_feature(pf, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET, NULL, 0);
	check("token-get-refused", r1 == -EINVAL && r2 == -EINVAL,
	      "PF: GET: %s, PROBE|GET: %s (want EINVAL: the token is never read back)",
	      err(r1), err(r2));
	r3 = token_feature(pf, VFIO_DEVICE_FEATURE_SET, TOKEN_A, 8);
	check("token-set-short", r3 == -EINVAL, "PF: SET with 8 of 16 bytes: %s (want EINVAL)",
	      err(r3));
	sys_read(numvfs, sizeof(numvfs), SYS "/%s/sriov_numvfs", bdf);
	r1 = token_feature(pf, VFIO_DEVICE_FEATURE_SET, TOKEN_A, 16);
	check("token-set-before-vfs", r1 == 0 && !strcmp(numvfs, "0"),
	      "PF: SET %s with sriov_numvfs %s: %s (want 0: SET needs only the SR-IOV capability)",
	      TOKEN_A, numvfs, err(r1));
}

/* Enables NUM_VFS VFs; fills vfs[] from the PF's virtfnN links. */
static int enable_vfs(const char *pf, struct vf *vfs)
{
	char numvfs[16] = "?", total[16] = "?", drv[64], ovr[64] = "?", grp[16], pgrp[16];
	char buf[16];
	int ret, n = 0, bound = 0;

	sys_read(total, sizeof(total), SYS "/%s/sriov_totalvfs", pf);
	snprintf(buf, sizeof(buf), "%d", NUM_VFS);
	ret = sys_write(buf, SYS "/%s/sriov_numvfs", pf);
	sys_read(numvfs, sizeof(numvfs), SYS "/%s/sriov_numvfs", pf);
	for (int i = 0; i < NUM_VFS; i++) {
		char fn[16], phys[32];

		snprintf(fn, sizeof(fn), "virtfn%d", i);
		if (!link_base(pf, fn, vfs[i].bdf, sizeof(vfs[i].bdf))[0])
			break;
		if (strcmp(link_base(vfs[i].bdf, "physfn", phys, sizeof(phys)), pf))
			break;
		n++;
	}
	check("vfs-enable", !ret && n == NUM_VFS && atoi(numvfs) == NUM_VFS,
	      "echo %d > %s/sriov_numvfs: %s; sriov_numvfs %s of %s, %d VFs with physfn -> PF:"
	      " %s %s", NUM_VFS, pf, err(ret), numvfs, total, n, n > 0 ? vfs[0].bdf : "",
	      n > 1 ? vfs[1].bdf : "");
	if (n != NUM_VFS)
		return -ENODEV;

	/* vfio-pci's bus notifier sets driver_override on a vfio-pci PF's new
	 * VFs, so they bind to vfio-pci by themselves (sriov_drivers_autoprobe). */
	link_base(pf, "iommu_group", pgrp, sizeof(pgrp));
	for (int i = 0; i < n; i++) {
		sys_read(ovr, sizeof(ovr), SYS "/%s/driver_override", vfs[i].bdf);
		link_base(vfs[i].bdf, "driver", drv, sizeof(drv));
		link_base(vfs[i].bdf, "iommu_group", grp, sizeof(grp));
		snprintf(vfs[i].group, sizeof(vfs[i].group), "%s", grp);
		find_cdev(vfs[i].bdf, vfs[i].cdev, sizeof(vfs[i].cdev));
		bound += !strcmp(drv, "vfio-pci") && !strcmp(ovr, "vfio-pci") && grp[0] &&
			 strcmp(grp, pgrp);
		printf("VF| %s: driver %s, driver_override %s, iommu_group %s (PF's %s), cdev %s\n",
		       vfs[i].bdf, drv[0] ? drv : "none", ovr, grp[0] ? grp : "none", pgrp,
		       vfs[i].cdev[0] ? vfs[i].cdev : "none");
	}
	check("vf-autobind", bound == n, "%d/%d VFs bound to vfio-pci by themselves "
	      "(driver_override vfio-pci), each in an IOMMU group of its own", bound, n);
	return bound == n ? 0 : -ENODEV;
}

/*
 * Clearing sriov_numvfs while a VF is open: vfio_unregister_group_dev()
 * asks the VF's user to let go (the REQ interrupt) and waits for the
 * release; the write returns once the VF is closed. The writer is another
 * program (sh), so it holds none of our fds: the library's (device fd,
 * BAR0's region fd, group) must all be close-on-exec, or the writer itself
 * would keep the VF open for ever.
 */
static void disable_while_open(const char *pf, const struct vf *vf, struct uvfio_client **vfc)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set) + sizeof(int32_t),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = REQ_IRQ, .start = 0, .count = 1,
	};
	char numvfs[16] = "?", path[PATH_MAX], cmd[PATH_MAX + 32];
	char *const argv[] = { "sh", "-c", cmd, NULL };
	int efd = eventfd(0, EFD_CLOEXEC), ret, status = -1;
	int req_seen = 0, blocked = 0, gone, exited = 0;
	double t0, t_req = -1, t_close, t_done;
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	struct uvfio_region bar0 = { .mmap_fd = -1 };
	pid_t child;

	ret = efd < 0 ? -errno : uvfio_client_set_irqs(*vfc, &set, &efd);
	/* A mappable BAR gives the client a region fd of its own: it must not
	 * reach the writer either. */
	if (!ret)
		ret = uvfio_client_region(*vfc, 0, &bar0);
	if (ret || !(bar0.flags & VFIO_REGION_INFO_FLAG_MMAP) || bar0.mmap_fd < 0) {
		check("vfs-disable-while-open", 0, "REQ eventfd and mappable BAR0 on %s: %s, "
		      "flags %#x, fd %d", vf->bdf, err(ret), bar0.flags, bar0.mmap_fd);
		return;
	}
	snprintf(cmd, sizeof(cmd), "echo 0 > " SYS "/%s/sriov_numvfs", pf);
	fflush(stdout);
	t0 = now_ms();
	ret = posix_spawn(&child, "/bin/sh", NULL, NULL, argv, environ);
	if (ret) {
		check("vfs-disable-while-open", 0, "posix_spawn /bin/sh: %s", strerror(ret));
		close(efd);
		return;
	}
	/* The kernel asks at once, then every 10 s. */
	if (poll(&pfd, 1, 5000) == 1) {
		uint64_t v;

		req_seen = read(efd, &v, sizeof(v)) == sizeof(v);
		t_req = now_ms() - t0;
	}
	usleep(500 * 1000); /* the writer must still be waiting for us */
	blocked = waitpid(child, &status, WNOHANG) == 0;
	t_close = now_ms();
	uvfio_client_close(*vfc);
	*vfc = NULL;
	for (int i = 0; i < 300 && !exited; i++) {
		if (!blocked || waitpid(child, &status, WNOHANG) == child)
			exited = 1;
		else
			usleep(50 * 1000);
	}
	t_done = now_ms();
	if (!exited) {
		/* The writer holds the PF's device lock: reading sriov_numvfs
		 * would block this test too. */
		check("vfs-disable-while-open", 0, "echo 0 > sriov_numvfs with %s open: REQ "
		      "interrupt %s, writer %s, and STILL BLOCKED %.0f ms after we closed the VF: "
		      "something still holds the VF open (an fd the writer inherited?)", vf->bdf,
		      req_seen ? "signalled" : "NOT signalled", blocked ? "blocked" : "NOT blocked",
		      t_done - t_close);
		close(efd);
		return;
	}
	sys_read(numvfs, sizeof(numvfs), SYS "/%s/sriov_numvfs", pf);
	snprintf(path, sizeof(path), SYS "/%s", vf->bdf);
	gone = access(path, F_OK) != 0;
	close(efd);
	check("vfs-disable-while-open", req_seen && blocked && exited && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0 && !strcmp(numvfs, "0") && gone,
	      "echo 0 > sriov_numvfs with %s open: REQ interrupt %s (after %.0f ms), writer %s "
	      "until the VF was closed, then %s (%.0f ms after the close); sriov_numvfs %s, %s %s",
	      vf->bdf, req_seen ? "signalled" : "NOT signalled", t_req,
	      blocked ? "blocked" : "NOT blocked",
	      WIFEXITED(status) && !WEXITSTATUS(status) ? "returned 0" : "FAILED", t_done - t_close, numvfs, vf->bdf,
	      gone ? "removed" : "STILL THERE");
}

/*
 * A PF freshly bound to vfio-pci (vfio_pci_vf_init: a random token) whose
 * user never set a token, and has no user: its VF still needs a token
 * (the vfio-user server would let such a VF open without one).
 */
static void fresh_pf(const char *pf)
{
	char drv[64], vf[32] = "", loc[64];
	int ret;

	ret = sys_write(pf, SYS "/%s/driver/unbind", pf);
	if (!ret)
		ret = bind_vfio(pf, drv, sizeof(drv));
	if (!ret)
		ret = sys_write("1", SYS "/%s/sriov_numvfs", pf);
	if (!ret && !link_base(pf, "virtfn0", vf, sizeof(vf))[0])
		ret = -ENODEV;
	if (ret) {
		check("vf-fresh-pf-no-token", 0, "rebinding PF %s to vfio-pci and enabling a VF: %s",
		      pf, err(ret));
		return;
	}
	snprintf(loc, sizeof(loc), "pci:%s%s", vf, group_q);
	refused("vf-fresh-pf-no-token", loc, NULL, -EACCES, "requires a VF token");
	refused("vf-fresh-pf-old-token", loc, TOKEN_C, -EACCES, "refused the VF token");
	ret = sys_write("0", SYS "/%s/sriov_numvfs", pf);
	if (ret)
		printf("NOTE echo 0 > %s/sriov_numvfs: %s\n", pf, err(ret));
}

/* Whether PCI device bdf has a cdev and the kernel /dev/iommu to bind it to. */
static int has_cdev(const char *bdf)
{
	char cdev[32];

	find_cdev(bdf, cdev, sizeof(cdev));
	return cdev[0] && !access("/dev/iommu", F_OK);
}

/*
 * Another process binds the cdev at loc and holds it while this one tries
 * with the same (right) token: the kernel binds a device once (EINVAL from
 * vfio_df_open()), after the token check; the client must not blame the
 * token.
 */
static void cdev_open_elsewhere(const char *loc, const char *token)
{
	int ready[2], hold[2], status;
	char b = 'n';
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) || pipe2(hold, O_CLOEXEC)) {
		check("cdev-vf-open-elsewhere", 0, "pipe2: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct uvfio_client *c = NULL;

		close(ready[0]);
		close(hold[1]);
		b = open_dev(loc, token, &c) ? 'n' : 'y';
		if (write(ready[1], &b, 1) == 1)
			while (read(hold[0], &b, 1) < 0 && errno == EINTR)
				;
		_exit(0); /* the bound fd goes with the process */
	}
	close(ready[1]);
	close(hold[0]);
	if (pid < 0 || read(ready[0], &b, 1) != 1 || b != 'y')
		check("cdev-vf-open-elsewhere", 0, "another process could not bind %s with %s "
		      "(fork: %s)", loc, token, pid < 0 ? strerror(errno) : "ok");
	else
		refused("cdev-vf-open-elsewhere", loc, token, -EINVAL, "already open");
	close(hold[1]);
	close(ready[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
}

/*
 * The cdev path for a VF (VFIO_DEVICE_BIND_IOMMUFD with the token, Linux
 * 6.17+): the kernel judges the token at bind, through
 * vfio_df_check_token() -> vfio_pci_core_match_token_uuid(). A second open
 * in this process shares the bound fd (a cdev binds once), at
 * /dev/vfio/devices/vfioX and at pci:BDF alike (pci:BDF picks the cdev
 * where there is one): the same token is accepted, another refused. The
 * kernel keeps a device's group and its cdev apart: a bound cdev makes its
 * group EBUSY, an open group its devices' cdevs; vfs[0] is open through
 * its group here, vfs[1] not.
 */
static void cdev_checks(const struct vf *vfs, const char *token)
{
	const struct vf *vf = &vfs[1];
	struct uvfio_client *c, *c2;
	char loc[64], pci[64], grp[96];

	snprintf(loc, sizeof(loc), "/dev/vfio/devices/%s", vf->cdev);
	if (!vf->cdev[0] || access(loc, F_OK) || access("/dev/iommu", F_OK)) {
		printf("NOTE cdev: not covered: no %s or no /dev/iommu (the kernel lacks "
		       "CONFIG_VFIO_DEVICE_CDEV / CONFIG_IOMMUFD)\n", vf->cdev[0] ? loc :
		       "vfio-dev/vfioX");
		return;
	}
	refused("cdev-vf-no-token", loc, NULL, -EACCES, "requires a VF token");
	refused("cdev-vf-wrong-token", loc, TOKEN_B, -EACCES, "refused the VF token");
	c = opens("cdev-vf-right-token", loc, token, 0x8086, 0x10ca);
	if (!c)
		return;
	snprintf(pci, sizeof(pci), "pci:%s", vf->bdf);
	c2 = opens("cdev-vf-shared-right-token", pci, token, 0x8086, 0x10ca);
	if (c2) {
		if (strcmp(uvfio_client_backend(c2), "kernel-cdev"))
			check("cdev-vf-shared-backend", 0, "%s: backend %s (want kernel-cdev: "
			      "pci:BDF picks the cdev)", pci, uvfio_client_backend(c2));
		uvfio_client_close(c2);
	}
	refused("cdev-vf-shared-wrong-token", pci, TOKEN_B, -EACCES,
		"judges a VF token only when a cdev is bound");
	refused("cdev-vf-shared-no-token", pci, NULL, -EACCES,
		"judges a VF token only when a cdev is bound");
	snprintf(grp, sizeof(grp), "/dev/vfio/%s:%s", vf->group, vf->bdf);
	refused("cdev-group-vf-bound", grp, token, -EBUSY, "is bound through its cdev");
	uvfio_client_close(c);
	cdev_open_elsewhere(loc, token);
	if (vfs[0].cdev[0]) {
		snprintf(loc, sizeof(loc), "/dev/vfio/devices/%s", vfs[0].cdev);
		refused("cdev-vf-group-open", loc, token, -EBUSY, "is open in this process");
	}
}

/*
 * The PF through its cdev while a VF is in use (and the PF's group is
 * closed: BIND_IOMMUFD refuses a device whose group is open): the bind
 * needs the token as VFIO_GROUP_GET_DEVICE_FD does. Its user sets another
 * token through the cdev fd, which a VF's cdev bind (at pci:BDF, which
 * picks the cdev) then needs; then `token` again.
 */
static void cdev_pf_checks(const char *pf, const struct vf *vf, const char *token)
{
	struct uvfio_client *c, *v;
	char cdev[32], loc[64], vfloc[64];
	int r1, r2;

	find_cdev(pf, cdev, sizeof(cdev));
	snprintf(loc, sizeof(loc), "/dev/vfio/devices/%s", cdev);
	if (!has_cdev(pf))
		return; /* cdev_checks() said why */
	refused("cdev-pf-no-token", loc, NULL, -EACCES, "requires a VF token");
	refused("cdev-pf-wrong-token", loc, TOKEN_B, -EACCES, "refused the VF token");
	c = opens("cdev-pf-right-token", loc, token, 0x8086, 0x10c9);
	if (!c)
		return;
	r1 = token_feature(c, VFIO_DEVICE_FEATURE_SET, TOKEN_A, 16);
	snprintf(vfloc, sizeof(vfloc), "pci:%s", vf->bdf);
	refused("cdev-vf-token-from-cdev-pf-old", vfloc, token, -EACCES, "refused the VF token");
	v = opens("cdev-vf-token-from-cdev-pf", vfloc, TOKEN_A, 0x8086, 0x10ca);
	if (v) {
		if (strcmp(uvfio_client_backend(v), "kernel-cdev"))
			check("cdev-vf-token-from-cdev-pf-backend", 0, "%s: backend %s (want "
			      "kernel-cdev)", vfloc, uvfio_client_backend(v));
		uvfio_client_close(v);
	}
	r2 = token_feature(c, VFIO_DEVICE_FEATURE_SET, token, 16);
	check("cdev-pf-token-set", r1 == 0 && r2 == 0, "PF at %s: SET %s: %s, SET %s again: "
	      "%s (want 0, 0)", loc, TOKEN_A, err(r1), token, err(r2));
	uvfio_client_close(c);
}

int main(int argc, char **argv)
{
	const char *uvfio = argc > 2 && !strcmp(argv[1], "--uvfio") ? argv[2] : NULL;
	char pf[32], edu[32], drv[64], loc[96], loc2[96], pfloc[64];
	struct uvfio_client *pfc, *pfc2, *vfc, *vfc2, *c;
	struct vf vfs[NUM_VFS];
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	uvfio_log_set_sink(sink, NULL);
	memset(vfs, 0, sizeof(vfs));

	/* Setup: the PF (igb) and a plain device (edu) on vfio-pci. */
	ret = find_pci(0x8086, 0x10c9, pf, sizeof(pf));
	if (!ret)
		ret = bind_vfio(pf, drv, sizeof(drv));
	check("pf-bind", !ret, "igb PF %s: driver %s: %s", ret == -ENODEV && !pf[0] ? "none" : pf,
	      drv, err(ret));
	if (ret)
		return 1;
	if (has_cdev(pf)) {
		group_q = "?iommu=group";
		printf("NOTE the kernel has the device cdev: pci:BDF checks use %s, the cdev-* "
		       "checks the cdev\n", group_q);
	}
	ret = find_pci(0x1234, 0x11e8, edu, sizeof(edu));
	if (!ret)
		ret = bind_vfio(edu, drv, sizeof(drv));
	check("plain-bind", !ret, "edu %s: driver %s: %s", edu, drv, err(ret));

	/* The PF's user: open without a token, set one with the feature. */
	snprintf(pfloc, sizeof(pfloc), "pci:%s%s", pf, group_q);
	pfc = opens("pf-open", pfloc, NULL, 0x8086, 0x10c9);
	if (!pfc)
		return 1;
	pf_token_feature(pfc, pf);
	if (enable_vfs(pf, vfs))
		return 1;
	if (uvfio)
		uvfio_ls(uvfio, pf, vfs, NUM_VFS);

	/* A VF of a vfio-pci PF: the token is required and must match. */
	snprintf(loc, sizeof(loc), "pci:%s%s", vfs[0].bdf, group_q);
	refused("vf-no-token", loc, NULL, -EACCES, "requires a VF token");
	refused("vf-wrong-token", loc, TOKEN_B, -EACCES, "refused the VF token");
	refused("vf-malformed-token", loc, "bd8d9d2b-5a5f-4f5a-a211", -EINVAL, "not a UUID");
	vfc = opens("vf-right-token", loc, TOKEN_A, 0x8086, 0x10ca);
	if (!vfc)
		return 1;
	ret = token_feature(vfc, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET, NULL, 0);
	check("vf-token-feature", ret == -ENOTTY, "VF %s: PROBE|SET PCI_VF_TOKEN: %s (want "
	      "ENOTTY: only a PF has a token)", vfs[0].bdf, err(ret));

	/* A second open of the open VF in this process shares its fd; the
	 * kernel must still judge the token. */
	snprintf(loc2, sizeof(loc2), "/dev/vfio/%s:%s", vfs[0].group, vfs[0].bdf);
	refused("vf-shared-wrong-token", loc2, TOKEN_B, -EACCES, "refused the VF token");
	c = opens("vf-shared-right-token", loc2, TOKEN_A, 0x8086, 0x10ca);
	if (c)
		uvfio_client_close(c);

	/* The PF while a VF is in use: the token is required to open it. */
	refused("pf-reopen-no-token", pfloc, NULL, -EACCES, "requires a VF token");
	refused("pf-reopen-wrong-token", pfloc, TOKEN_B, -EACCES, "refused the VF token");
	pfc2 = opens("pf-reopen-right-token", pfloc, TOKEN_A, 0x8086, 0x10c9);
	if (pfc2)
		uvfio_client_close(pfc2);

	/* The PF's user may replace the token while a VF is in use; new VF
	 * opens then need the new one. */
	ret = token_feature(pfc, VFIO_DEVICE_FEATURE_SET, TOKEN_C, 16);
	check("token-set-while-vf-open", ret == 0, "PF: SET %s with VF %s open: %s (want 0)",
	      TOKEN_C, vfs[0].bdf, err(ret));
	snprintf(loc2, sizeof(loc2), "/dev/vfio/%s:%s", vfs[1].group, vfs[1].bdf);
	refused("vf-old-token", loc2, TOKEN_A, -EACCES, "refused the VF token");
	vfc2 = opens("vf-new-token", loc2, TOKEN_C, 0x8086, 0x10ca);
	if (vfc2)
		uvfio_client_close(vfc2);
	cdev_checks(vfs, TOKEN_C);

	/* The PF's user leaves: the token stays, and is still required. */
	uvfio_client_close(pfc);
	refused("vf-no-token-pf-closed", loc2, NULL, -EACCES, "requires a VF token");
	vfc2 = opens("vf-token-outlives-pf-user", loc2, TOKEN_C, 0x8086, 0x10ca);
	if (vfc2)
		uvfio_client_close(vfc2);
	cdev_pf_checks(pf, &vfs[1], TOKEN_C);
	pfc = opens("pf-open-vfs-in-use", pfloc, TOKEN_C, 0x8086, 0x10c9);

	/* VFs cannot go away under their user. */
	disable_while_open(pf, &vfs[0], &vfc);

	/* A device that is neither PF nor VF takes no token. */
	if (edu[0]) {
		snprintf(loc, sizeof(loc), "pci:%s%s", edu, group_q);
		refused("plain-token-refused", loc, TOKEN_A, -EINVAL, "refused the VF token");
		c = opens("plain-no-token", loc, NULL, 0x1234, 0x11e8);
		if (c) {
			ret = token_feature(c, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET,
					    NULL, 0);
			check("plain-token-feature", ret == -ENOTTY, "edu: PROBE|SET PCI_VF_TOKEN: "
			      "%s (want ENOTTY)", err(ret));
			uvfio_client_close(c);
		}
	}
	if (vfc)
		uvfio_client_close(vfc);
	if (pfc)
		uvfio_client_close(pfc);
	/* Last: with no user and no VF left, the PF can be rebound. */
	if (!vfc)
		fresh_pf(pf);
	printf("kguest-sriov: %d failed\n", failures);
	return failures ? 1 : 0;
}
