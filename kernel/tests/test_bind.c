/* SPDX-License-Identifier: MIT */
/*
 * `uvfio bind`/`unbind` helpers against a fake sysfs: the attribute writes
 * land in plain files there, so the test sees exactly what would be written
 * and in which files; the state file remembers the old driver; a group that
 * is not viable is refused naming the device.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "kernel/kvfio.h"
#include "fake_sysfs.h"

static struct fake_tree tree;
static char rundir[PATH_MAX];

static void slurp(const char *rel, char *out, size_t len)
{
	char p[PATH_MAX];
	size_t n = 0;
	FILE *f;

	PATHF(p, "%s/%s", tree.root, rel);
	f = fopen(p, "r");
	out[0] = 0;
	if (!f)
		return;
	n = fread(out, 1, len - 1, f);
	out[n] = 0;
	fclose(f);
}

static void attr_files(const char *drv)
{
	fake_file(&tree, "sys/bus/pci/drivers/%s/unbind", drv);
	fake_file(&tree, "sys/bus/pci/drivers/%s/bind", drv);
}

static int setup(void **state)
{
	if (fake_tree_init(&tree))
		return -1;
	fake_pci(&tree, "0000:00:03.0", 5, "e1000e", -1);
	fake_pci(&tree, "0000:00:04.0", 6, "vfio-pci", -1);
	fake_pci(&tree, "0000:00:05.0", 6, "snd_hda_intel", -1);
	attr_files("e1000e");
	attr_files("vfio-pci");
	attr_files("snd_hda_intel");
	fake_file(&tree, "sys/devices/pci0000:00/0000:00:03.0/driver_override");
	fake_file(&tree, "sys/devices/pci0000:00/0000:00:04.0/driver_override");
	fake_file(&tree, "sys/bus/pci/drivers_probe");
	PATHF(rundir, "%s/run-uvfio/nested", tree.root); /* parents created too */
	setenv("UVFIO_RUN_DIR", rundir, 1);
	kvfio_set_sysfs_root(tree.sys);
	kvfio_set_dev_root(tree.dev);
	(void)state;
	return 0;
}

static int teardown(void **state)
{
	kvfio_set_sysfs_root(NULL);
	kvfio_set_dev_root(NULL);
	fake_tree_fini(&tree);
	(void)state;
	return 0;
}

static void test_bind_writes(void **state)
{
	char msg[1024], buf[256];

	/* The fake driver link never moves, so the bind is reported as not
	 * having taken; every write before that must have happened. */
	assert_int_equal(kvfio_bind_pci("0000:00:03.0", msg, sizeof(msg)), -EIO);
	assert_non_null(strstr(msg, "did not bind to vfio-pci"));
	slurp("run-uvfio/nested/0000:00:03.0.driver", buf, sizeof(buf));
	assert_string_equal(buf, "e1000e\n");
	slurp("sys/devices/pci0000:00/0000:00:03.0/driver_override", buf, sizeof(buf));
	assert_string_equal(buf, "vfio-pci");
	slurp("sys/bus/pci/drivers/e1000e/unbind", buf, sizeof(buf));
	assert_string_equal(buf, "0000:00:03.0");
	slurp("sys/bus/pci/drivers_probe", buf, sizeof(buf));
	assert_string_equal(buf, "0000:00:03.0");
	(void)state;
}

static void test_bind_not_viable(void **state)
{
	char msg[1024];

	/* Already on vfio-pci, but the sound card shares its group. */
	assert_int_equal(kvfio_bind_pci("0000:00:04.0", msg, sizeof(msg)), -EBUSY);
	assert_string_equal(msg, "0000:00:04.0 is bound to vfio-pci, but group 6 is not "
				 "viable: 0000:00:05.0 is bound to snd_hda_intel; bind it to "
				 "vfio-pci or unbind it");
	(void)state;
}

static void test_unbind_restores(void **state)
{
	char msg[1024], buf[256], p[PATH_MAX];
	FILE *f;

	/* As if bind had succeeded: state says e1000e, device is on vfio-pci. */
	fake_dir(&tree, "run-uvfio/nested");
	PATHF(p, "%s/0000:00:04.0.driver", rundir);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("e1000e\n", f);
	fclose(f);
	assert_int_equal(kvfio_unbind_pci("0000:00:04.0", msg, sizeof(msg)), 0);
	slurp("sys/devices/pci0000:00/0000:00:04.0/driver_override", buf, sizeof(buf));
	assert_string_equal(buf, "\n");
	slurp("sys/bus/pci/drivers/vfio-pci/unbind", buf, sizeof(buf));
	assert_string_equal(buf, "0000:00:04.0");
	/* Probe did not bring e1000e back (fake tree): bound explicitly. */
	slurp("sys/bus/pci/drivers/e1000e/bind", buf, sizeof(buf));
	assert_string_equal(buf, "0000:00:04.0");
	assert_int_equal(access(p, F_OK), -1); /* state file removed */
	(void)state;
}

static void test_bad_names(void **state)
{
	char msg[256];

	assert_int_equal(kvfio_bind_pci("../../x", msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "not a PCI address"));
	assert_int_equal(kvfio_bind_pci("0000:00:1f.0", msg, sizeof(msg)), -ENODEV);
	assert_non_null(strstr(msg, "no such PCI device"));
	assert_int_equal(kvfio_unbind_pci("0000:00:3", msg, sizeof(msg)), -EINVAL);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind_writes),
		cmocka_unit_test(test_bind_not_viable),
		cmocka_unit_test(test_unbind_restores),
		cmocka_unit_test(test_bad_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
