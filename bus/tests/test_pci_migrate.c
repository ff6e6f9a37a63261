/* SPDX-License-Identifier: MIT */
/*
 * The PCI bus driver's part of migration: config space (writable bits,
 * the INTx line, MSI pending bits), the MSI-X table and PBA, and the
 * interrupt mode travel; read-only config bits stay the destination's own;
 * a stream whose PCI section is cut or wrong is refused.
 */
#include "bus/tests/pci_test.h"

#include <stdlib.h>

#define MSIX_TABLE 0x1000
#define MSIX_PBA 0x1800

/* The device's own section: one u32 record, the "device state". */
static uint32_t dev_state[2];

static int t_save(struct uvfio_pci_device *p, struct uvfio_mig_writer *w)
{
	uvfio_mig_put_u32(w, 1, dev_state[(uintptr_t)uvfio_pci_priv(p)]);
	return w->err;
}

static int t_load(struct uvfio_pci_device *p, struct uvfio_mig_reader *r)
{
	const void *v;
	uint16_t tag;
	size_t n;
	uint32_t x = 0;
	int ret = uvfio_mig_next(r, &tag, &v, &n);

	if (ret != 1 || tag != 1 || uvfio_mig_get_u32(v, n, &x))
		return -EINVAL;
	if (uvfio_mig_next(r, &tag, &v, &n) != 0)
		return -EINVAL;
	dev_state[(uintptr_t)uvfio_pci_priv(p)] = x;
	return 0;
}

static const struct uvfio_pci_ops ops = {
	.mig_type = "pcitest", .mig_version = 1, .save = t_save, .load = t_load,
};

static struct uvfio_pci_device *mk(uintptr_t idx, uint16_t subsys)
{
	struct uvfio_pci_info info = {
		.vendor_id = 0x1234, .device_id = 0x5678, .subsystem_id = subsys,
		.class_code = 0x00ff00, .interrupt_pin = 1,
		.bars = { [0] = { .size = 8192 } },
		.msi = { .vectors = 4, .addr64 = true, .per_vector_mask = true },
		.msix = { .table_size = 70, .table_bar = 0, .table_offset = MSIX_TABLE,
			  .pba_bar = 0, .pba_offset = MSIX_PBA },
		.pcie = true,
		.ops = &ops,
	};
	struct uvfio_pci_device *p = uvfio_pci_create("migtest", &info, (void *)idx);

	assert_non_null(p);
	return p;
}

static size_t save_all(struct uvfio_pci_device *p, uint8_t *buf, size_t cap)
{
	struct uvfio_device *d = uvfio_pci_to_device(p);
	size_t total = 0;
	ssize_t n;

	assert_int_equal(uvfio_device_mig_set_state(d, UVFIO_MIG_STOP_COPY), 0);
	while ((n = uvfio_device_mig_read(d, buf + total, cap - total)) > 0)
		total += (size_t)n;
	assert_int_equal(n, 0);
	assert_int_equal(uvfio_device_mig_set_state(d, UVFIO_MIG_RUNNING), 0);
	return total;
}

static int load_all(struct uvfio_pci_device *p, const uint8_t *buf, size_t len)
{
	struct uvfio_device *d = uvfio_pci_to_device(p);
	int ret;

	assert_int_equal(uvfio_device_mig_set_state(d, UVFIO_MIG_RESUMING), 0);
	ret = uvfio_device_mig_write(d, buf, len);
	if (!ret)
		ret = uvfio_device_mig_set_state(d, UVFIO_MIG_STOP);
	else
		(void)uvfio_device_mig_set_state(d, UVFIO_MIG_STOP);
	return ret;
}

static void quiet(enum uvfio_log_level l, const char *who, const char *msg, void *o)
{
}

static void test_config_msix_mode(void **state)
{
	static uint8_t stream[64 * 1024];
	struct uvfio_pci_device *a = mk(0, 1), *b = mk(1, 1);
	uint32_t msix = find_cap(a, PCI_CAP_ID_MSIX);
	struct vfio_irq_set set = { .argsz = sizeof(set) + 8, .index = VFIO_PCI_MSIX_IRQ_INDEX,
				     .start = 0, .count = 2,
				     .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER };
	int32_t fds[2] = { make_eventfd(), make_eventfd() };
	size_t len;

	dev_state[0] = 0xabcd;
	cfg_write(a, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cfg_write(a, PCI_BASE_ADDRESS_0, 4, 0xfe000000);
	cfg_write(a, PCI_INTERRUPT_LINE, 1, 11);
	cfg_write(a, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	bar_write(a, 0, MSIX_TABLE + 3 * 16, 8, 0xfee01000ull);
	bar_write(a, 0, MSIX_TABLE + 3 * 16 + 8, 4, 0x4242);
	assert_int_equal(uvfio_pci_raise_irq(a, 66), 0); /* masked: PBA bit 66 */
	/* SET_IRQS MSI-X, 2 vectors */
	assert_int_equal(uvfio_device_set_irqs(uvfio_pci_to_device(a), &set, fds, sizeof(fds)), 0);
	len = save_all(a, stream, sizeof(stream));

	assert_int_equal(load_all(b, stream, len), 0);
	assert_int_equal(dev_state[1], 0xabcd);
	assert_int_equal(cfg_read(b, PCI_COMMAND, 2) & 0x7, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_true(uvfio_device_bus_master(uvfio_pci_to_device(b)));
	assert_int_equal(cfg_read(b, PCI_BASE_ADDRESS_0, 4) & ~0xfu, 0xfe000000);
	assert_int_equal(cfg_read(b, PCI_INTERRUPT_LINE, 1), 11);
	assert_int_equal(cfg_read(b, msix + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_ENABLE,
			 PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(bar_read(b, 0, MSIX_TABLE + 3 * 16, 8), 0xfee01000ull);
	assert_int_equal(bar_read(b, 0, MSIX_TABLE + 3 * 16 + 8, 4), 0x4242);
	assert_int_equal(bar_read(b, 0, MSIX_PBA + 8, 8), 1ull << 2);
	assert_int_equal(b->irq_mode, VFIO_PCI_MSIX_IRQ_INDEX);
	assert_int_equal(b->irq_nvec, 2);
	/* read-only bits are the destination's: the IDs were never in question */
	assert_int_equal(cfg_read(b, PCI_VENDOR_ID, 2), 0x1234);
	assert_int_equal(cfg_read(b, PCI_CAPABILITY_LIST, 1), cfg_read(a, PCI_CAPABILITY_LIST, 1));
	uvfio_pci_destroy(a);
	uvfio_pci_destroy(b);
	close(fds[0]);
	close(fds[1]);
}

static void test_refused(void **state)
{
	static uint8_t stream[64 * 1024];
	struct uvfio_pci_device *a = mk(0, 1), *b = mk(1, 1), *c = mk(1, 2);
	size_t len;

	uvfio_log_set_sink(quiet, NULL);
	dev_state[1] = 7;
	cfg_write(b, PCI_INTERRUPT_LINE, 1, 5);
	len = save_all(a, stream, sizeof(stream));
	/* another subsystem ID: another device */
	assert_int_equal(load_all(c, stream, len), -EINVAL);
	/* cut anywhere: refused, nothing applied */
	for (size_t cut = 0; cut < len; cut += 61) {
		assert_int_equal(uvfio_device_reset(uvfio_pci_to_device(b)), 0);
		cfg_write(b, PCI_INTERRUPT_LINE, 1, 5);
		assert_int_equal(load_all(b, stream, cut), -EINVAL);
		assert_int_equal(cfg_read(b, PCI_INTERRUPT_LINE, 1), 5);
		assert_int_equal(dev_state[1], 7);
	}
	uvfio_log_set_sink(NULL, NULL);
	uvfio_pci_destroy(a);
	uvfio_pci_destroy(b);
	uvfio_pci_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_msix_mode),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
