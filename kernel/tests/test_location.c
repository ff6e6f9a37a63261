/* SPDX-License-Identifier: MIT */
/* Location strings of the kernel backend: every form, and malformed ones. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "kernel/kvfio.h"
#include "log_capture.h"

static void test_pci(void **state)
{
	struct kvfio_location l;

	assert_int_equal(kvfio_location_parse("pci:0000:00:03.0", &l), 0);
	assert_int_equal(l.kind, KVFIO_LOC_PCI);
	assert_int_equal(l.pref, KVFIO_IOMMU_AUTO);
	assert_string_equal(l.device, "0000:00:03.0");

	/* Short form gets domain 0000; hex is normalised to lower case. */
	assert_int_equal(kvfio_location_parse("pci:0A:1f.7", &l), 0);
	assert_string_equal(l.device, "0000:0a:1f.7");

	assert_int_equal(kvfio_location_parse("pci:0000:00:03.0?iommu=group", &l), 0);
	assert_int_equal(l.pref, KVFIO_IOMMU_GROUP);
	assert_string_equal(l.device, "0000:00:03.0");
	assert_int_equal(kvfio_location_parse("pci:0000:00:03.0?iommu=cdev", &l), 0);
	assert_int_equal(l.pref, KVFIO_IOMMU_CDEV);
	(void)state;
}

static void test_mdev_cdx(void **state)
{
	struct kvfio_location l;

	assert_int_equal(kvfio_location_parse("mdev:83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", &l), 0);
	assert_int_equal(l.kind, KVFIO_LOC_MDEV);
	assert_string_equal(l.device, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
	assert_string_equal(kvfio_location_bus(l.kind), "mdev");

	assert_int_equal(kvfio_location_parse("cdx:cdx-00:01?iommu=group", &l), 0);
	assert_int_equal(l.kind, KVFIO_LOC_CDX);
	assert_string_equal(l.device, "cdx-00:01");
	assert_int_equal(l.pref, KVFIO_IOMMU_GROUP);
	(void)state;
}

static void test_dev_paths(void **state)
{
	struct kvfio_location l;

	assert_int_equal(kvfio_location_parse("/dev/vfio/5:0000:00:03.0", &l), 0);
	assert_int_equal(l.kind, KVFIO_LOC_GROUP);
	assert_string_equal(l.group, "5");
	assert_string_equal(l.device, "0000:00:03.0");

	assert_int_equal(kvfio_location_parse("/dev/vfio/noiommu-0:0000:00:04.0", &l), 0);
	assert_string_equal(l.group, "noiommu-0");
	assert_string_equal(l.device, "0000:00:04.0");

	assert_int_equal(kvfio_location_parse("/dev/vfio/devices/vfio12", &l), 0);
	assert_int_equal(l.kind, KVFIO_LOC_CDEV);
	assert_string_equal(l.cdev, "vfio12");
	(void)state;
}

static void expect_bad(const char *loc, const char *words)
{
	struct kvfio_location l;

	capture_start();
	assert_int_equal(kvfio_location_parse(loc, &l), -EINVAL);
	if (!strstr(captured, words)) {
		fprintf(stderr, "for '%s' expected '%s' in: %s\n", loc, words, captured);
		fail();
	}
}

static void test_malformed(void **state)
{
	expect_bad("pci:0000:00:03", "want pci:DDDD:BB:DD.F");
	expect_bad("pci:0000:00:03.8", "want pci:DDDD:BB:DD.F");	/* function 0-7 */
	expect_bad("pci:0000:00:20.0", "want pci:DDDD:BB:DD.F");	/* slot 0-1f */
	expect_bad("pci:zzzz:00:03.0", "want pci:DDDD:BB:DD.F");
	expect_bad("pci:0000:00:03.0?iommu=fast", "unknown option");
	expect_bad("pci:0000:00:03.0?", "unknown option");
	expect_bad("mdev:not-a-uuid", "want mdev:UUID");
	expect_bad("mdev:83b8f4f2-509f-382f-3c1e-e6bfe0fa100", "want mdev:UUID");
	expect_bad("cdx:../../etc", "want cdx:NAME");
	expect_bad("cdx:..", "want cdx:NAME");
	expect_bad("cdx:", "want cdx:NAME");
	expect_bad("/dev/vfio/5", "want /dev/vfio/N:DEVICE");
	expect_bad("/dev/vfio/x:0000:00:03.0", "group must be a number");
	expect_bad("/dev/vfio/noiommu-:0000:00:03.0", "group must be a number");
	expect_bad("/dev/vfio/5:", "want a device name");
	expect_bad("/dev/vfio/5:../x", "want a device name");
	expect_bad("/dev/vfio/devices/vfio", "want /dev/vfio/devices/vfioX");
	expect_bad("/dev/vfio/devices/vfio1x", "want /dev/vfio/devices/vfioX");
	expect_bad("/dev/vfio/devices/../vfio", "want /dev/vfio/devices/vfioX");
	expect_bad("usb:1-1", "want pci:BDF");
	expect_bad("", "empty");
	uvfio_log_set_sink(NULL, NULL);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pci),
		cmocka_unit_test(test_mdev_cdx),
		cmocka_unit_test(test_dev_paths),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
