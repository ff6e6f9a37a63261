/* SPDX-License-Identifier: MIT */
/*
 * `uvfio serve edu-sriov` as a real process, driven through the client
 * library: enabling 4 VFs by config writes makes PF.vfN.sock appear, each VF
 * a working edu (id, device ID, factorial); the PF's VF token guards the VFs
 * (right token works, wrong or none is refused with EACCES and the PF logs
 * it); clearing VF Enable is refused while a VF has a client and removes the
 * sockets once it left. argv[1] is the uvfio binary.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <cmocka.h>

#include <uvfio/client.h>
#include <uvfio/log.h>

#define CFG VFIO_PCI_CONFIG_REGION_INDEX
#define SR 0x100u
#define TOKEN "bd8d9d2b-5a5f-4f5a-a211-f591514ba1f3"
#define WRONG "00000000-5a5f-4f5a-a211-f591514ba1f3"

static const char *uvfio_bin;
static char dir[64], pf_sock[128], err_path[160];

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static pid_t spawn_serve(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (err < 0 || dup2(err, 2) < 0)
			_exit(127);
		unsetenv("UVFIO_LOG");
		execl(uvfio_bin, uvfio_bin, "serve", "edu-sriov", "--socket", pf_sock,
		      (char *)NULL);
		_exit(127);
	}
	return pid;
}

static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

static void vf_path(char *buf, size_t n, unsigned int i)
{
	snprintf(buf, n, "%s/pf.vf%u.sock", dir, i);
}

static int open_loc(const char *sock, const char *token, struct uvfio_client **c)
{
	struct uvfio_client_opts o = { .vf_token = token };
	char loc[200];

	snprintf(loc, sizeof(loc), "vfio-user:%s", sock);
	return uvfio_client_open(loc, &o, c);
}

static uint32_t rd(struct uvfio_client *c, uint32_t idx, uint64_t off, size_t n)
{
	uint32_t v = 0;

	assert_int_equal(uvfio_client_read(c, idx, off, &v, n), (ssize_t)n);
	return v;
}

static void wr(struct uvfio_client *c, uint32_t idx, uint64_t off, size_t n, uint32_t v)
{
	assert_int_equal(uvfio_client_write(c, idx, off, &v, n), (ssize_t)n);
}

static int feature(struct uvfio_client *c, uint32_t flags, const char *uuid_bytes)
{
	uint8_t buf[sizeof(struct vfio_device_feature) + 16] = { 0 };
	struct vfio_device_feature *f = (void *)buf;

	f->argsz = sizeof(buf);
	f->flags = flags;
	if (uuid_bytes)
		memcpy(f->data, uuid_bytes, 16);
	return uvfio_client_feature(c, buf);
}

/* A working edu: its ID register, the VF device ID, a factorial. */
static void check_vf(struct uvfio_client *c)
{
	assert_int_equal(rd(c, CFG, PCI_DEVICE_ID, 2), 0x11e9);
	assert_int_equal(rd(c, 0, 0x00, 4), 0x010000ed);
	wr(c, 0, 0x08, 4, 5);
	assert_int_equal(rd(c, 0, 0x08, 4), 120);
}

static void test_sriov(void **state)
{
	static const char token_bytes[16] = { 0xbd, 0x8d, 0x9d, 0x2b, 0x5a, 0x5f, 0x4f,
					       0x5a, (char)0xa2, 0x11, (char)0xf5,
					       (char)0x91, 0x51, 0x4b, (char)0xa1,
					       (char)0xf3 };
	struct uvfio_client *pf, *vf0, *vf;
	char path[160];
	pid_t pid;
	int status, ret = -1;
	FILE *fp;
	char log[16384];
	size_t n;

	(void)state;
	pid = spawn_serve();
	for (int t = 0; t < 500 && ret; t++) {
		ret = open_loc(pf_sock, NULL, &pf);
		if (ret)
			sleep_ms(10);
	}
	assert_int_equal(ret, 0);
	assert_int_equal(rd(pf, CFG, SR, 2), PCI_EXT_CAP_ID_SRIOV);
	assert_int_equal(rd(pf, CFG, SR + PCI_SRIOV_TOTAL_VF, 2), 4);
	/* PCI_VF_TOKEN (0): SET only. */
	assert_int_equal(feature(pf, 0 | VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET,
				 NULL), 0);
	assert_int_equal(feature(pf, 0 | VFIO_DEVICE_FEATURE_GET, NULL), -EINVAL);
	assert_int_equal(feature(pf, 0xffff | VFIO_DEVICE_FEATURE_PROBE |
				 VFIO_DEVICE_FEATURE_GET, NULL), -ENOTTY);

	/* Enable 4 VFs: their sockets appear. */
	wr(pf, CFG, SR + PCI_SRIOV_NUM_VF, 2, 4);
	wr(pf, CFG, SR + PCI_SRIOV_CTRL, 2, PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE);
	for (unsigned int i = 0; i < 4; i++) {
		vf_path(path, sizeof(path), i);
		assert_true(exists(path));
	}
	vf_path(path, sizeof(path), 4);
	assert_false(exists(path));

	/* The PF has a user who set no token: a VF cannot be opened. */
	vf_path(path, sizeof(path), 0);
	assert_int_equal(open_loc(path, NULL, &vf), -EACCES);
	assert_int_equal(feature(pf, 0 | VFIO_DEVICE_FEATURE_SET, token_bytes), 0);

	/* Each VF with the right token is a working edu. */
	for (unsigned int i = 0; i < 4; i++) {
		vf_path(path, sizeof(path), i);
		assert_int_equal(open_loc(path, TOKEN, &vf), 0);
		check_vf(vf);
		if (i == 0)
			vf0 = vf;
		else
			uvfio_client_close(vf);
	}
	/* Wrong token, no token, a malformed one. */
	vf_path(path, sizeof(path), 1);
	assert_int_equal(open_loc(path, WRONG, &vf), -EACCES);
	assert_int_equal(open_loc(path, NULL, &vf), -EACCES);
	assert_int_equal(open_loc(path, "not-a-uuid", &vf), -EINVAL);

	/* VF 0 has a client: clearing VF Enable is refused. */
	wr(pf, CFG, SR + PCI_SRIOV_CTRL, 2, 0);
	assert_int_equal(rd(pf, CFG, SR + PCI_SRIOV_CTRL, 2) & PCI_SRIOV_CTRL_VFE,
			 PCI_SRIOV_CTRL_VFE);
	vf_path(path, sizeof(path), 0);
	assert_true(exists(path));
	check_vf(vf0);

	/* A VF is in use: a new PF client must know the token (the kernel's
	 * "BDF vf_token=UUID" on a PF). */
	uvfio_client_close(pf);
	assert_int_equal(open_loc(pf_sock, NULL, &pf), -EACCES);
	assert_int_equal(open_loc(pf_sock, WRONG, &pf), -EACCES);
	assert_int_equal(open_loc(pf_sock, TOKEN, &pf), 0);

	/* It left: now the VFs go, sockets and all. */
	uvfio_client_close(vf0);
	for (int t = 0; t < 100; t++) { /* the server sees the hang-up */
		wr(pf, CFG, SR + PCI_SRIOV_CTRL, 2, 0);
		if (!(rd(pf, CFG, SR + PCI_SRIOV_CTRL, 2) & PCI_SRIOV_CTRL_VFE))
			break;
		sleep_ms(10);
	}
	assert_int_equal(rd(pf, CFG, SR + PCI_SRIOV_CTRL, 2) & PCI_SRIOV_CTRL_VFE, 0);
	for (unsigned int i = 0; i < 4; i++) {
		vf_path(path, sizeof(path), i);
		assert_false(exists(path));
	}
	uvfio_client_close(pf);

	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_false(exists(pf_sock));

	/* The PF's log names the VF and the reason of each refusal. */
	fp = fopen(err_path, "r");
	assert_non_null(fp);
	n = fread(log, 1, sizeof(log) - 1, fp);
	log[n] = '\0';
	fclose(fp);
	assert_non_null(strstr(log, "VF 1 (edu-vf1"));
	assert_non_null(strstr(log, "incorrect VF token"));
	assert_non_null(strstr(log, "VF token required"));
	assert_non_null(strstr(log, "has a client"));
	assert_non_null(strstr(log, "PF open (edu-pf#2) refused: VFs are in use"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sriov),
	};
	int ret;

	if (argc < 2) {
		fprintf(stderr, "usage: %s UVFIO\n", argv[0]);
		return 2;
	}
	uvfio_bin = argv[1];
	uvfio_log_set_level(UVFIO_LOG_ERR);
	snprintf(dir, sizeof(dir), "/tmp/uvfio-sriov-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(pf_sock, sizeof(pf_sock), "%s/pf.sock", dir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(err_path);
	rmdir(dir);
	return ret;
}
