/* SPDX-License-Identifier: MIT */
/*
 * Resolution against a fake sysfs/dev tree: group links, cdev preference
 * and forcing, mdev and cdx by the same links, missing iommu_group, a
 * device bound to a host driver, noiommu groups, and the viability message
 * naming the offending device, and why a VF token was refused (vf_token.c).
 * Also: the client API routes kernel locations here and fails cleanly
 * without leaking a handle.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <uvfio/client.h>

#include "kernel/kvfio.h"
#include "fake_sysfs.h"
#include "log_capture.h"

static struct fake_tree tree;

static int setup(void **state)
{
	if (fake_tree_init(&tree))
		return -1;
	/* group 5: our device (vfio-pci, cdev vfio0) and a NIC on e1000e,
	 * a device without driver and a bridge on pcieport. */
	fake_pci(&tree, "0000:00:03.0", 5, "vfio-pci", 0);
	fake_pci(&tree, "0000:00:04.0", 5, "e1000e", -1);
	fake_pci(&tree, "0000:00:05.0", 5, NULL, -1);
	fake_pci(&tree, "0000:00:06.0", 5, "pcieport", -1);
	/* group 6: alone and viable, no cdev. */
	fake_pci(&tree, "0000:00:07.0", 6, "vfio-pci", -1);
	/* no iommu_group at all */
	fake_pci(&tree, "0000:00:08.0", -1, "vfio-pci", -1);
	/* bound to a host driver */
	fake_pci(&tree, "0000:00:09.0", 9, "nvme", -1);
	/* noiommu: only /dev/vfio/noiommu-7 exists */
	fake_pci(&tree, "0000:00:0a.0", 7, "vfio-pci", -1);
	/* SR-IOV: a PF on vfio-pci and its VF; a VF whose PF is on igb. */
	fake_pci(&tree, "0000:00:10.0", 13, "vfio-pci", -1);
	fake_file(&tree, "sys/devices/pci0000:00/0000:00:10.0/sriov_totalvfs");
	fake_pci(&tree, "0000:00:10.2", 14, "vfio-pci", -1);
	fake_link(&tree, "sys/devices/pci0000:00/0000:00:10.2/physfn",
		  "sys/devices/pci0000:00/0000:00:10.0");
	fake_pci(&tree, "0000:00:11.0", 15, "igb", -1);
	fake_file(&tree, "sys/devices/pci0000:00/0000:00:11.0/sriov_totalvfs");
	fake_pci(&tree, "0000:00:11.2", 16, "vfio-pci", -1);
	fake_link(&tree, "sys/devices/pci0000:00/0000:00:11.2/physfn",
		  "sys/devices/pci0000:00/0000:00:11.0");

	/* an mdev and a cdx device, found through the same kind of links */
	fake_dir(&tree, "sys/devices/virtual/mtty/mtty/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
	fake_link(&tree, "sys/bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001",
		  "sys/devices/virtual/mtty/mtty/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
	fake_dir(&tree, "sys/kernel/iommu_groups/11/devices");
	fake_link(&tree, "sys/devices/virtual/mtty/mtty/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001/iommu_group",
		  "sys/kernel/iommu_groups/11");
	fake_dir(&tree, "sys/devices/platform/cdx/cdx-00:01");
	fake_link(&tree, "sys/bus/cdx/devices/cdx-00:01", "sys/devices/platform/cdx/cdx-00:01");
	fake_dir(&tree, "sys/kernel/iommu_groups/12/devices");
	fake_link(&tree, "sys/devices/platform/cdx/cdx-00:01/iommu_group",
		  "sys/kernel/iommu_groups/12");

	fake_file(&tree, "dev/vfio/vfio");
	fake_file(&tree, "dev/vfio/5");
	fake_file(&tree, "dev/vfio/6");
	fake_file(&tree, "dev/vfio/11");
	fake_file(&tree, "dev/vfio/12");
	fake_file(&tree, "dev/vfio/noiommu-7");
	fake_file(&tree, "dev/vfio/devices/vfio0");
	fake_file(&tree, "dev/iommu");
	kvfio_set_sysfs_root(tree.sys);
	kvfio_set_dev_root(tree.dev);
	(void)state;
	return 0;
}

static int teardown(void **state)
{
	kvfio_set_sysfs_root(NULL);
	kvfio_set_dev_root(NULL);
	uvfio_log_set_sink(NULL, NULL);
	fake_tree_fini(&tree);
	(void)state;
	return 0;
}

static int resolve(const char *loc, struct kvfio_target *t)
{
	struct kvfio_location l;

	assert_int_equal(kvfio_location_parse(loc, &l), 0);
	capture_start();
	return kvfio_resolve(&l, t);
}

static void test_pci_cdev_preferred(void **state)
{
	struct kvfio_target t;
	char want[PATH_MAX];

	assert_int_equal(resolve("pci:0000:00:03.0", &t), 0);
	assert_true(t.cdev);
	PATHF(want, "%s/vfio/devices/vfio0", tree.dev);
	assert_string_equal(t.cdev_path, want);
	assert_string_equal(t.group, "5");
	assert_string_equal(t.device, "0000:00:03.0");
	(void)state;
}

static void test_pci_group_forced(void **state)
{
	struct kvfio_target t;
	char want[PATH_MAX];

	assert_int_equal(resolve("pci:0000:00:03.0?iommu=group", &t), 0);
	assert_false(t.cdev);
	assert_false(t.noiommu);
	PATHF(want, "%s/vfio/5", tree.dev);
	assert_string_equal(t.group_path, want);
	(void)state;
}

static void test_pci_no_dev_iommu(void **state)
{
	struct kvfio_target t;
	char p[PATH_MAX];

	/* Without /dev/iommu the cdev cannot be bound: the group is used. */
	PATHF(p, "%s/iommu", tree.dev);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(resolve("pci:0000:00:03.0", &t), 0);
	assert_false(t.cdev);
	assert_string_equal(t.group, "5");
	/* ...and forcing the cdev says what is missing. */
	assert_int_equal(resolve("pci:0000:00:03.0?iommu=cdev", &t), -ENODEV);
	assert_non_null(strstr(captured, "cdev requested"));
	assert_non_null(strstr(captured, "/dev/iommu"));
	fake_file(&tree, "dev/iommu");
	(void)state;
}

static void test_pci_no_cdev(void **state)
{
	struct kvfio_target t;

	assert_int_equal(resolve("pci:0000:00:07.0", &t), 0);
	assert_false(t.cdev);
	assert_string_equal(t.group, "6");
	assert_int_equal(resolve("pci:0000:00:07.0?iommu=cdev", &t), -ENODEV);
	assert_non_null(strstr(captured, "has no vfio-dev/vfioX"));
	(void)state;
}

static void test_mdev_cdx(void **state)
{
	struct kvfio_target t;

	assert_int_equal(resolve("mdev:83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", &t), 0);
	assert_false(t.cdev);
	assert_string_equal(t.group, "11");
	assert_string_equal(t.device, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
	/* An mdev's driver is its parent's ("mtty"); its vfio-dev/ dir says
	 * it is a vfio device all the same. */
	fake_dir(&tree, "sys/bus/mdev/drivers/mtty");
	fake_link(&tree, "sys/devices/virtual/mtty/mtty/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001/driver",
		  "sys/bus/mdev/drivers/mtty");
	fake_dir(&tree, "sys/devices/virtual/mtty/mtty/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001/vfio-dev/vfio4");
	assert_int_equal(resolve("mdev:83b8f4f2-509f-382f-3c1e-e6bfe0fa1001?iommu=group", &t), 0);
	assert_string_equal(t.group, "11");
	assert_int_equal(resolve("cdx:cdx-00:01", &t), 0);
	assert_string_equal(t.group, "12");
	assert_string_equal(t.device, "cdx-00:01");
	(void)state;
}

static void test_errors(void **state)
{
	struct kvfio_target t;

	assert_int_equal(resolve("pci:0000:00:08.0", &t), -ENODEV);
	assert_non_null(strstr(captured, "has no IOMMU group"));
	assert_non_null(strstr(captured, "iommu_group missing"));

	assert_int_equal(resolve("pci:0000:00:09.0", &t), -EBUSY);
	assert_non_null(strstr(captured, "is bound to nvme, not to a vfio driver"));
	assert_non_null(strstr(captured, "uvfio bind 0000:00:09.0"));

	assert_int_equal(resolve("pci:0000:00:1f.0", &t), -ENODEV);
	assert_non_null(strstr(captured, "no such device"));

	assert_int_equal(resolve("/dev/vfio/42:0000:00:03.0", &t), -ENOENT);
	assert_non_null(strstr(captured, "/vfio/42 does not exist"));
	assert_int_equal(resolve("/dev/vfio/devices/vfio9", &t), -ENOENT);
	(void)state;
}

static void test_noiommu(void **state)
{
	struct kvfio_target t;

	assert_int_equal(resolve("pci:0000:00:0a.0", &t), 0);
	assert_false(t.cdev);
	assert_true(t.noiommu);
	assert_string_equal(t.group, "noiommu-7");
	assert_int_equal(resolve("/dev/vfio/noiommu-7:0000:00:0a.0", &t), 0);
	assert_true(t.noiommu);
	(void)state;
}

static void test_viability(void **state)
{
	char msg[512];

	assert_int_equal(kvfio_group_viability("5", msg, sizeof(msg)), 1);
	assert_string_equal(msg, "group 5 is not viable: 0000:00:04.0 is bound to e1000e; "
				 "bind it to vfio-pci or unbind it");
	assert_int_equal(kvfio_group_viability("6", msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");
	/* A second offender is named too. */
	fake_pci(&tree, "0000:00:0b.0", 5, "snd_hda_intel", -1);
	assert_int_equal(kvfio_group_viability("5", msg, sizeof(msg)), 2);
	assert_non_null(strstr(msg, "0000:00:04.0 is bound to e1000e"));
	assert_non_null(strstr(msg, "0000:00:0b.0 is bound to snd_hda_intel"));
	assert_non_null(strstr(msg, "bind them to vfio-pci"));
	/* Truncation stays a terminated string. */
	assert_int_equal(kvfio_group_viability("5", msg, 20), 2);
	assert_int_equal(strlen(msg), 19);
	assert_int_equal(kvfio_group_viability("../5", msg, sizeof(msg)), -EINVAL);
	assert_int_equal(kvfio_group_viability("99", msg, sizeof(msg)), -ENOENT);
	(void)state;
}

static void test_client_routes_to_kernel(void **state)
{
	struct uvfio_client *c = (void *)1;

	/* The client API hands kernel locations to this backend: the
	 * resolution error comes back, and nothing stays open. */
	capture_start();
	assert_int_equal(uvfio_client_open("pci:0000:00:08.0", NULL, &c), -ENODEV);
	assert_null(c);
	assert_non_null(strstr(captured, "has no IOMMU group"));
	assert_int_equal(uvfio_client_open("pci:0000:00:03", NULL, &c), -EINVAL);
	assert_int_equal(kvfio_handle_count(), 0);
	(void)state;
}

static const char *refusal(const char *dev, int err, bool token)
{
	static char msg[512];

	msg[0] = 0;
	if (!kvfio_vf_token_refusal(dev, err, token, msg, sizeof(msg)))
		return NULL;
	return msg;
}

static void test_vf_token_refusal(void **state)
{
	const struct uvfio_client_opts bad = { .vf_token = "bd8d9d2b-5a5f-4f5a-a211" };
	struct uvfio_client *c = (void *)1;
	const char *m;

	/* vfio_pci_validate_vf_token()'s refusals, told from sysfs. */
	m = refusal("0000:00:10.2", -EACCES, false);
	assert_non_null(m);
	assert_non_null(strstr(m, "the kernel requires a VF token to open VF 0000:00:10.2: "
				  "its PF 0000:00:10.0 is bound to vfio-pci"));
	m = refusal("0000:00:10.2", -EACCES, true);
	assert_non_null(m);
	assert_non_null(strstr(m, "the kernel refused the VF token: it is not the token of "
				  "PF 0000:00:10.0"));
	m = refusal("0000:00:11.2", -EINVAL, true);
	assert_non_null(m);
	assert_non_null(strstr(m, "the PF 0000:00:11.0 of VF 0000:00:11.2 is not on vfio-pci "
				  "(driver: igb)"));
	m = refusal("0000:00:10.0", -EACCES, false);
	assert_non_null(m);
	assert_non_null(strstr(m, "requires a VF token to open PF 0000:00:10.0: VFs of it are "
				  "in use"));
	m = refusal("0000:00:10.0", -EACCES, true);
	assert_non_null(m);
	assert_non_null(strstr(m, "refused the VF token: VFs of PF 0000:00:10.0 are in use"));
	m = refusal("0000:00:07.0", -EINVAL, true);
	assert_non_null(m);
	assert_non_null(strstr(m, "0000:00:07.0 is neither an SR-IOV PF nor a VF"));

	/* Not the token's doing: left to the caller's plain errno. */
	assert_null(refusal("0000:00:10.0", -EINVAL, true)); /* a PF takes a token */
	assert_null(refusal("0000:00:10.2", -EINVAL, true)); /* so does its VF */
	assert_null(refusal("0000:00:07.0", -EACCES, false));
	assert_null(refusal("0000:00:07.0", -EINVAL, false));
	assert_null(refusal("0000:00:10.2", -EPERM, true));
	assert_null(refusal("0000:00:1f.0", -EACCES, true)); /* no such device */
	assert_null(refusal("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", -EINVAL, true));

	/* A malformed token is refused before anything is opened, saying so. */
	capture_start();
	assert_int_equal(uvfio_client_open("pci:0000:00:07.0", &bad, &c), -EINVAL);
	assert_null(c);
	assert_non_null(strstr(captured, "is not a UUID"));
	assert_int_equal(kvfio_handle_count(), 0);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pci_cdev_preferred),
		cmocka_unit_test(test_pci_group_forced),
		cmocka_unit_test(test_pci_no_dev_iommu),
		cmocka_unit_test(test_pci_no_cdev),
		cmocka_unit_test(test_mdev_cdx),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_noiommu),
		cmocka_unit_test(test_viability),
		cmocka_unit_test(test_client_routes_to_kernel),
		cmocka_unit_test(test_vf_token_refusal),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
