/* SPDX-License-Identifier: MIT */
/*
 * `uvfio ls --json` run as a process against a fake sysfs/dev tree and a
 * socket directory holding a live vfio-user server, a dead socket and a
 * plain file. Asserts what each device and socket is reported as.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <uvfio/device.h>
#include <uvfio/server.h>

#include "fake_sysfs.h"

static struct fake_tree tree;
static char sockdir[PATH_MAX];
static pid_t server_pid = -1;

static void write_attr(const char *bdf, const char *name, const char *val)
{
	char p[PATH_MAX];
	FILE *f;

	PATHF(p, "%s/bus/pci/devices/%s/%s", tree.sys, bdf, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", val);
	fclose(f);
}

static const struct uvfio_device_ops test_ops = { 0 };

/* A vfio-user server in a child process: PCI, 9 regions, 5 irqs. */
static pid_t start_server(const char *path)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		struct uvfio_device *dev = uvfio_device_create("ls-test", &test_ops, NULL);
		struct uvfio_server *srv;

		if (!dev || uvfio_device_set_num_regions(dev, 9) ||
		    uvfio_device_set_num_irqs(dev, 5))
			_exit(1);
		uvfio_device_set_flags(dev, VFIO_DEVICE_FLAGS_PCI);
		if (uvfio_device_register(dev) || uvfio_server_create(dev, path, NULL, &srv))
			_exit(1);
		if (write(p[1], "1", 1) != 1)
			_exit(1);
		uvfio_server_run(srv);
		_exit(0);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &c, 1) != 1) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	return pid;
}

/* A socket file nobody listens on: connect() gets ECONNREFUSED. */
static void dead_socket(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(a.sun_path));
	strcpy(a.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
}

static int setup(void **state)
{
	char p[PATH_MAX];

	if (fake_tree_init(&tree))
		return -1;
	/* group 5: ours on vfio-pci + a NIC on e1000e -> not viable */
	fake_pci(&tree, "0000:00:03.0", 5, "vfio-pci", 0);
	fake_pci(&tree, "0000:00:04.0", 5, "e1000e", -1);
	/* group 6: on vfio-pci but no /dev node */
	fake_pci(&tree, "0000:00:07.0", 6, "vfio-pci", -1);
	/* no group, host driver: not VFIO-capable, not listed */
	fake_pci(&tree, "0000:00:08.0", -1, "virtio-pci", -1);
	/* group 9: usable through the group node and the cdev */
	fake_pci(&tree, "0000:00:09.0", 9, "vfio-pci", 3);
	write_attr("0000:00:09.0", "vendor", "0x1234");
	write_attr("0000:00:09.0", "device", "0x11e8");
	/* SR-IOV: a PF with 2 of 4 VFs enabled, and one of its VFs. */
	fake_pci(&tree, "0000:00:0a.0", 10, "vfio-pci", -1);
	write_attr("0000:00:0a.0", "sriov_totalvfs", "4");
	write_attr("0000:00:0a.0", "sriov_numvfs", "2");
	fake_pci(&tree, "0000:00:0a.1", 11, "vfio-pci", -1);
	fake_link(&tree, "sys/devices/pci0000:00/0000:00:0a.1/physfn",
		  "sys/devices/pci0000:00/0000:00:0a.0");
	fake_file(&tree, "dev/vfio/5");
	fake_file(&tree, "dev/vfio/9");
	fake_file(&tree, "dev/vfio/devices/vfio3");

	PATHF(sockdir, "%s/run", tree.root);
	fake_dir(&tree, "run");
	fake_file(&tree, "run/notes.txt");
	PATHF(p, "%s/dead.sock", sockdir);
	dead_socket(p);
	PATHF(p, "%s/live.sock", sockdir);
	server_pid = start_server(p);
	if (server_pid < 0)
		return -1;
	setenv("UVFIO_SYSFS_ROOT", tree.sys, 1);
	setenv("UVFIO_DEV_ROOT", tree.dev, 1);
	unsetenv("UVFIO_LOG");
	(void)state;
	return 0;
}

static int teardown(void **state)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
	fake_tree_fini(&tree);
	(void)state;
	return 0;
}

static char *run_ls(int *status)
{
	static char out[16384];
	char cmd[PATH_MAX * 2];
	const char *bin = getenv("UVFIO_BIN");
	size_t n;
	FILE *f;

	assert_non_null(bin);
	PATHF(cmd, "'%s' ls --json --dir '%s'", bin, sockdir);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	*status = pclose(f);
	return out;
}

static void expect(const char *out, const char *frag)
{
	if (!strstr(out, frag)) {
		fprintf(stderr, "missing: %s\nin: %s\n", frag, out);
		fail();
	}
}

/* Braces and brackets balance outside strings: cheap well-formedness. */
static int balanced(const char *s)
{
	int depth = 0, in_str = 0;

	for (; *s; s++) {
		if (in_str) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				in_str = 0;
			continue;
		}
		if (*s == '"')
			in_str = 1;
		else if (*s == '{' || *s == '[')
			depth++;
		else if (*s == '}' || *s == ']')
			if (--depth < 0)
				return 0;
	}
	return depth == 0 && !in_str;
}

static void test_ls_json(void **state)
{
	char frag[PATH_MAX + 128];
	int status;
	char *out = run_ls(&status);

	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(out[0] == '{');
	assert_true(balanced(out));

	/* Not viable, and the message names the NIC. */
	expect(out, "{\"bdf\":\"0000:00:03.0\"");
	expect(out, "\"iommu_group\":\"5\",\"driver\":\"vfio-pci\",\"vfio_bound\":true,"
		    "\"viable\":false");
	expect(out, "\"problem\":\"group 5 is not viable: 0000:00:04.0 is bound to e1000e; "
		    "bind it to vfio-pci or unbind it\"");
	/* The NIC itself: listed (it has a group), not bound. */
	expect(out, "{\"bdf\":\"0000:00:04.0\"");
	expect(out, "\"driver\":\"e1000e\",\"vfio_bound\":false");
	/* Bound and viable but no node. */
	expect(out, "\"iommu_group\":\"6\",\"driver\":\"vfio-pci\",\"vfio_bound\":true,"
		    "\"viable\":true,\"group_node\":null,\"cdev\":null,\"usable\":false,"
		    "\"problem\":\"no /dev/vfio node\"");
	/* Usable, both nodes named. */
	PATHF(frag, "{\"bdf\":\"0000:00:09.0\",\"vendor\":\"0x1234\",\"device\":\"0x11e8\","
	      "\"iommu_group\":\"9\",\"driver\":\"vfio-pci\",\"vfio_bound\":true,\"viable\":true,"
	      "\"group_node\":\"%s/vfio/9\",\"cdev\":\"%s/vfio/devices/vfio3\",\"usable\":true,"
	      "\"problem\":null}", tree.dev, tree.dev);
	expect(out, frag);
	/* No group, host driver: not VFIO-capable. */
	assert_null(strstr(out, "0000:00:08.0"));
	/* SR-IOV roles as sysfs shows them. */
	expect(out, "\"problem\":\"no /dev/vfio node\",\"sriov\":\"pf\",\"num_vfs\":2,"
		    "\"total_vfs\":4}");
	expect(out, "\"sriov\":\"vf\",\"physfn\":\"0000:00:0a.0\"}");

	/* Sockets: the live one answered GET_INFO, the dead one is an error. */
	PATHF(frag, "{\"path\":\"%s/dead.sock\",\"ok\":false,\"error\":\"Connection refused\"}",
	      sockdir);
	expect(out, frag);
	PATHF(frag, "{\"path\":\"%s/live.sock\",\"ok\":true,\"flags\":2,\"num_regions\":9,"
	      "\"num_irqs\":5}", sockdir);
	expect(out, frag);
	assert_null(strstr(out, "notes.txt"));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ls_json),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
