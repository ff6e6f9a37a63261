/* SPDX-License-Identifier: MIT */
/*
 * PCI interrupts and reset: MSI per-vector masking, MSI-X table/PBA and
 * function mask, INTx with INTX_DISABLE and automask, the SET_IRQS one-mode
 * rule, FLR and DEVICE_RESET, and the bus master gate on device DMA. Every
 * delivery is checked by reading a real eventfd.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <uvfio/dma.h>

#include "pci_test.h"

static int resets;

static int t_reset(struct uvfio_pci_device *p)
{
	resets++;
	return 0;
}

static const struct uvfio_pci_ops ops = { .reset = t_reset };

#define MSIX_TABLE 0x1000
#define MSIX_PBA 0x1800

static struct uvfio_pci_device *mk(void)
{
	struct uvfio_pci_info info = {
		.vendor_id = 0x1234, .device_id = 0x11e8, .class_code = 0x00ff00,
		.interrupt_pin = 1,
		.bars = { [0] = { .size = 8192 } },
		.pm = true,
		.msi = { .vectors = 4, .addr64 = true, .per_vector_mask = true },
		.msix = { .table_size = 70, .table_bar = 0, .table_offset = MSIX_TABLE,
			  .pba_bar = 0, .pba_offset = MSIX_PBA },
		.pcie = true,
		.ops = &ops,
	};
	struct uvfio_pci_device *p = uvfio_pci_create("irqtest", &info, NULL);

	assert_non_null(p);
	resets = 0;
	return p;
}

static void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/* ---- MSI ---------------------------------------------------------------------- */

static void test_msi_mask_pending(void **state)
{
	struct uvfio_pci_device *p = mk();
	uint32_t msi = find_cap(p, PCI_CAP_ID_MSI);
	int32_t fds[4];

	for (int i = 0; i < 4; i++)
		fds[i] = make_eventfd();
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_MSI_IRQ_INDEX, 0, 4, fds), 0);

	/*
	 * SET_IRQS alone enables MSI, as vfio-pci enables the real capability
	 * for a user who never writes it: every capable vector is usable.
	 */
	assert_int_equal(uvfio_pci_raise_irq(p, 0), 1);
	assert_int_equal(efd_count(fds[0]), 1);
	assert_int_equal(uvfio_pci_raise_irq(p, 3), 1);
	assert_int_equal(efd_count(fds[3]), 1);
	/* Disabled through SET_IRQS: INTx gets it (no INTx trigger set). */
	assert_int_equal(set_irqs_none(p, VFIO_PCI_MSI_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0), 0);
	assert_int_equal(uvfio_pci_raise_irq(p, 0), 0);
	assert_int_equal(efd_count(fds[0]), 0);
	uvfio_pci_lower_irq(p);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	for (int i = 0; i < 4; i++)
		fds[i] = make_eventfd();
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_MSI_IRQ_INDEX, 0, 4, fds), 0);

	/* Enabled in config space too (QEMU writes the guest's cap writes
	 * through): the Multiple Message Enable field bounds the vectors. */
	cfg_write(p, msi + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | 2 << 4);
	assert_int_equal(uvfio_pci_raise_irq(p, 0), 1);
	assert_int_equal(efd_count(fds[0]), 1);
	assert_int_equal(uvfio_pci_raise_irq(p, 4), -EINVAL);

	/* Mask vector 1: raise -> pending, no signal. */
	cfg_write(p, msi + PCI_MSI_MASK_64, 4, 1u << 1);
	assert_int_equal(uvfio_pci_raise_irq(p, 1), 0);
	assert_int_equal(efd_count(fds[1]), 0);
	assert_int_equal(cfg_read(p, msi + PCI_MSI_PENDING_64, 4), 1u << 1);
	/* The pending register is read-only to the client. */
	cfg_write(p, msi + PCI_MSI_PENDING_64, 4, 0);
	assert_int_equal(cfg_read(p, msi + PCI_MSI_PENDING_64, 4), 1u << 1);
	/* Other vectors are unaffected. */
	assert_int_equal(uvfio_pci_raise_irq(p, 3), 1);
	assert_int_equal(efd_count(fds[3]), 1);
	/* Unmask delivers once and clears pending. */
	cfg_write(p, msi + PCI_MSI_MASK_64, 4, 0);
	assert_int_equal(efd_count(fds[1]), 1);
	assert_int_equal(cfg_read(p, msi + PCI_MSI_PENDING_64, 4), 0);
	cfg_write(p, msi + PCI_MSI_MASK_64, 4, 0);
	assert_int_equal(efd_count(fds[1]), 0);

	/* With MME 0 only vector 0 exists. */
	cfg_write(p, msi + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
	assert_int_equal(uvfio_pci_raise_irq(p, 1), -EINVAL);
	/* A masked vector stays pending until unmasked. */
	cfg_write(p, msi + PCI_MSI_MASK_64, 4, 1);
	assert_int_equal(uvfio_pci_raise_irq(p, 0), 0);
	assert_int_equal(efd_count(fds[0]), 0);
	cfg_write(p, msi + PCI_MSI_MASK_64, 4, 0);
	assert_int_equal(efd_count(fds[0]), 1);

	uvfio_pci_destroy(p);
	close_fds(fds, 4);
}

/* ---- MSI-X -------------------------------------------------------------------- */

static uint32_t entry_ctrl(uint32_t v)
{
	return MSIX_TABLE + v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL;
}

static void test_msix_table_pba(void **state)
{
	struct uvfio_pci_device *p = mk();
	uint32_t msix = find_cap(p, PCI_CAP_ID_MSIX);

	/* No eventfds: only the PCI-level state is looked at here. */
	cfg_write(p, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	cfg_write(p, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);

	/* Power-on entries are masked: raise sets the PBA bit. */
	assert_int_equal(bar_read(p, 0, entry_ctrl(2), 4), PCI_MSIX_ENTRY_CTRL_MASKBIT);
	assert_int_equal(uvfio_pci_raise_irq(p, 2), 0);
	assert_int_equal(uvfio_pci_raise_irq(p, 65), 0);
	assert_int_equal(uvfio_pci_raise_irq(p, 70), -EINVAL);
	assert_int_equal(bar_read(p, 0, MSIX_PBA, 8), 1ull << 2);
	assert_int_equal(bar_read(p, 0, MSIX_PBA + 8, 4), 1u << 1);
	assert_int_equal(bar_read(p, 0, MSIX_PBA + 8, 1), 1u << 1);
	/* PBA writes are dropped. */
	bar_write(p, 0, MSIX_PBA, 8, 0);
	assert_int_equal(bar_read(p, 0, MSIX_PBA, 8), 1ull << 2);

	/* Entry fields: address/data writable, only the mask bit of control. */
	bar_write(p, 0, MSIX_TABLE + 2 * 16, 8, 0x00000000fee00000ull);
	bar_write(p, 0, MSIX_TABLE + 2 * 16 + 8, 4, 0x4041);
	assert_int_equal(bar_read(p, 0, MSIX_TABLE + 2 * 16, 8), 0xfee00000ull);
	assert_int_equal(bar_read(p, 0, MSIX_TABLE + 2 * 16 + 8, 4), 0x4041);
	bar_write(p, 0, entry_ctrl(2), 4, 0xfffffffe); /* unmask; reserved bits stay 0 */
	assert_int_equal(bar_read(p, 0, entry_ctrl(2), 4), 0);
	/* Unmasking consumed the pending bit (no eventfd: nothing to signal). */
	assert_int_equal(bar_read(p, 0, MSIX_PBA, 8), 0);
	assert_int_equal(bar_read(p, 0, MSIX_PBA + 8, 8), 2);

	uvfio_pci_destroy(p);
}

static void test_msix_delivery(void **state)
{
	struct uvfio_pci_device *p = mk();
	uint32_t msix = find_cap(p, PCI_CAP_ID_MSIX);
	struct {
		struct vfio_irq_set hdr;
		int32_t fds[70];
	} s = { .hdr = {
			.argsz = sizeof(s),
			.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = VFIO_PCI_MSIX_IRQ_INDEX, .start = 0, .count = 70,
		} };
	int32_t e2 = make_eventfd(), e3 = make_eventfd(), e65 = make_eventfd();
	const int32_t none = -1;

	for (int i = 0; i < 70; i++)
		s.fds[i] = -1;
	s.fds[2] = e2;
	s.fds[65] = e65;
	assert_int_equal(uvfio_device_set_irqs(uvfio_pci_to_device(p), &s.hdr, s.fds,
					       sizeof(s.fds)), 0);
	cfg_write(p, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	cfg_write(p, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);

	/* Vectors with an eventfd are unmasked (host-programmed), others not. */
	assert_int_equal(bar_read(p, 0, entry_ctrl(2), 4), 0);
	assert_int_equal(bar_read(p, 0, entry_ctrl(65), 4), 0);
	assert_int_equal(bar_read(p, 0, entry_ctrl(3), 4), PCI_MSIX_ENTRY_CTRL_MASKBIT);
	assert_int_equal(uvfio_pci_raise_irq(p, 65), 1);
	assert_int_equal(efd_count(e65), 1);

	/* Client-masked entry: pending, delivered once on unmask. */
	bar_write(p, 0, entry_ctrl(65), 4, 1);
	assert_int_equal(uvfio_pci_raise_irq(p, 65), 0);
	assert_int_equal(uvfio_pci_raise_irq(p, 65), 0);
	assert_int_equal(efd_count(e65), 0);
	assert_int_equal(bar_read(p, 0, MSIX_PBA + 8, 8), 2);
	bar_write(p, 0, entry_ctrl(65), 4, 0);
	assert_int_equal(efd_count(e65), 1);
	assert_int_equal(bar_read(p, 0, MSIX_PBA + 8, 8), 0);

	/* A vector raised before it has an eventfd is delivered when it
	 * gets one (QEMU adds vectors as the guest unmasks them). */
	assert_int_equal(uvfio_pci_raise_irq(p, 3), 0);
	assert_int_equal(bar_read(p, 0, MSIX_PBA, 8), 1ull << 3);
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_MSIX_IRQ_INDEX, 3, 1, &e3), 0);
	assert_int_equal(efd_count(e3), 1);
	assert_int_equal(bar_read(p, 0, MSIX_PBA, 8), 0);
	/* De-assigning masks the entry again. */
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_MSIX_IRQ_INDEX, 3, 1, &none), 0);
	assert_int_equal(bar_read(p, 0, entry_ctrl(3), 4), PCI_MSIX_ENTRY_CTRL_MASKBIT);

	/* Function mask holds every vector; clearing it delivers. */
	bar_write(p, 0, entry_ctrl(2), 4, 0);
	cfg_write(p, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(uvfio_pci_raise_irq(p, 2), 0);
	assert_int_equal(uvfio_pci_raise_irq(p, 65), 0);
	assert_int_equal(efd_count(e2), 0);
	assert_int_equal(bar_read(p, 0, MSIX_PBA, 8), 1ull << 2);
	/* Masking the entry too: clearing the function mask alone is not enough. */
	bar_write(p, 0, entry_ctrl(65), 4, 1);
	cfg_write(p, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(efd_count(e2), 1);
	assert_int_equal(efd_count(e65), 0);
	assert_int_equal(bar_read(p, 0, MSIX_PBA, 8), 0);
	assert_int_equal(bar_read(p, 0, MSIX_PBA + 8, 8), 2);
	bar_write(p, 0, entry_ctrl(65), 4, 0);
	assert_int_equal(efd_count(e65), 1);

	/* MSI-X wins over MSI when both are enabled in config. */
	cfg_write(p, find_cap(p, PCI_CAP_ID_MSI) + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
	assert_int_equal(uvfio_pci_raise_irq(p, 2), 1);
	assert_int_equal(efd_count(e2), 1);

	/* Decode off: the table reads all-ones like the rest of the BAR. */
	cfg_write(p, PCI_COMMAND, 2, 0);
	assert_int_equal(bar_read(p, 0, entry_ctrl(2), 4), 0xffffffff);

	/* Reset restores the host-programmed masks: eventfd vectors unmasked. */
	bar_write(p, 0, entry_ctrl(3), 4, 0);
	assert_int_equal(uvfio_device_reset(uvfio_pci_to_device(p)), 0);
	cfg_write(p, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(bar_read(p, 0, entry_ctrl(2), 4), 0);
	assert_int_equal(bar_read(p, 0, entry_ctrl(3), 4), PCI_MSIX_ENTRY_CTRL_MASKBIT);

	/* Disabling MSI-X through SET_IRQS masks every entry. */
	assert_int_equal(set_irqs_none(p, VFIO_PCI_MSIX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0), 0);
	assert_int_equal(bar_read(p, 0, entry_ctrl(2), 4), PCI_MSIX_ENTRY_CTRL_MASKBIT);

	uvfio_pci_destroy(p);
	close(e2);
	close(e3);
	close(e65);
}

/*
 * The PCI maximum, 2048 MSI-X vectors, enabled the way a vfio-user server
 * sees it: in chunks of 16 eventfds (the server's max_msg_fds), the first
 * enabling MSI-X and each later one adding vectors (no NORESIZE for MSI-X).
 */
static void test_msix_2048(void **state)
{
	struct uvfio_pci_info info = {
		.vendor_id = 0x1234, .device_id = 0x11e8, .class_code = 0x00ff00,
		.bars = { [0] = { .size = 65536 } },
		.msix = { .table_size = 2048, .table_bar = 0, .table_offset = 0,
			  .pba_bar = 0, .pba_offset = 0x8000 },
	};
	struct uvfio_pci_device *p = uvfio_pci_create("msix2048", &info, NULL);
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	struct rlimit rl;
	int32_t *fds = calloc(2048, sizeof(*fds));

	assert_non_null(p);
	assert_non_null(fds);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 2048 + 256) {
		if (rl.rlim_max < 2048 + 256) {
			uvfio_pci_destroy(p);
			free(fds);
			skip(); /* the environment allows too few files */
		}
		rl.rlim_cur = 2048 + 256;
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	assert_int_equal(uvfio_device_irq_info(uvfio_pci_to_device(p), &ii), 0);
	assert_int_equal(ii.count, 2048);
	assert_int_equal(ii.flags, VFIO_IRQ_INFO_EVENTFD);
	for (int i = 0; i < 2048; i++)
		fds[i] = make_eventfd();
	for (uint32_t start = 0; start < 2048; start += 16)
		assert_int_equal(set_trigger_fds(p, VFIO_PCI_MSIX_IRQ_INDEX, start, 16,
						 fds + start), 0);
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_MSIX_IRQ_INDEX, 2047, 2, fds), -EINVAL);
	for (uint32_t v = 0; v < 2048; v += 89) {
		assert_int_equal(uvfio_pci_raise_irq(p, v), 1);
		assert_int_equal(efd_count(fds[v]), 1);
	}
	assert_int_equal(uvfio_pci_raise_irq(p, 2047), 1);
	assert_int_equal(efd_count(fds[2047]), 1);
	assert_int_equal(efd_count(fds[2046]), 0);
	assert_int_equal(uvfio_pci_raise_irq(p, 2048), -EINVAL);

	/* The last entry masked: its PBA bit is bit 63 of the last word. */
	cfg_write(p, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	bar_write(p, 0, 2047 * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	assert_int_equal(uvfio_pci_raise_irq(p, 2047), 0);
	assert_int_equal(efd_count(fds[2047]), 0);
	assert_int_equal(bar_read(p, 0, 0x8000 + 31 * 8, 8), 1ull << 63);
	/* Unmasking another entry leaves it pending; its own delivers it. */
	bar_write(p, 0, 5 * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
	assert_int_equal(efd_count(fds[2047]), 0);
	bar_write(p, 0, 2047 * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
	assert_int_equal(efd_count(fds[2047]), 1);
	assert_int_equal(bar_read(p, 0, 0x8000 + 31 * 8, 8), 0);

	/* Disabled: every eventfd is let go. */
	assert_int_equal(set_irqs_none(p, VFIO_PCI_MSIX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0), 0);
	assert_int_equal(uvfio_pci_raise_irq(p, 0), 0);
	assert_int_equal(efd_count(fds[0]), 0);
	uvfio_pci_destroy(p);
	close_fds(fds, 2048);
	free(fds);
}

/* ---- INTx --------------------------------------------------------------------- */

static void test_intx(void **state)
{
	struct uvfio_pci_device *p = mk();
	int32_t fd = make_eventfd();

	assert_int_equal(set_trigger_fds(p, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd), 0);

	assert_int_equal(uvfio_pci_raise_irq(p, 0), 1);
	assert_int_equal(efd_count(fd), 1);
	assert_true(cfg_read(p, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* Automasked: a second raise is held. */
	assert_int_equal(uvfio_pci_raise_irq(p, 0), 0);
	assert_int_equal(efd_count(fd), 0);
	/* Unmask with the line still up: re-signalled (level semantics). */
	assert_int_equal(set_irqs_none(p, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_UNMASK, 0, 1), 0);
	assert_int_equal(efd_count(fd), 1);
	/* Device lowers the line, then the client unmasks: nothing stale. */
	uvfio_pci_lower_irq(p);
	assert_false(cfg_read(p, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	assert_int_equal(set_irqs_none(p, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_UNMASK, 0, 1), 0);
	assert_int_equal(efd_count(fd), 0);

	/* INTX_DISABLE: the status bit still shows, nothing is signalled. */
	cfg_write(p, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	assert_int_equal(uvfio_pci_raise_irq(p, 0), 0);
	assert_int_equal(efd_count(fd), 0);
	assert_true(cfg_read(p, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* Clearing it with the line up asserts it. */
	cfg_write(p, PCI_COMMAND, 2, 0);
	assert_int_equal(efd_count(fd), 1);
	/* Lowered while disabled (and automasked): neither the unmask nor
	 * clearing INTX_DISABLE signals. */
	cfg_write(p, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	uvfio_pci_lower_irq(p);
	assert_int_equal(set_irqs_none(p, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_UNMASK, 0, 1), 0);
	cfg_write(p, PCI_COMMAND, 2, 0);
	assert_int_equal(efd_count(fd), 0);
	/* ... and the unmasked line works again. */
	assert_int_equal(uvfio_pci_raise_irq(p, 0), 1);
	assert_int_equal(efd_count(fd), 1);

	/* MSI/MSI-X mask via SET_IRQS does not exist (kernel: ENOTTY). */
	assert_int_equal(set_irqs_none(p, VFIO_PCI_MSI_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_MASK, 0, 1), -ENOTTY);
	uvfio_pci_destroy(p);
	close(fd);
}

/* ---- SET_IRQS mode rules ----------------------------------------------------------- */

static void test_irq_mode_conflict(void **state)
{
	struct uvfio_pci_device *p = mk();
	int32_t fds[4];

	for (int i = 0; i < 4; i++)
		fds[i] = make_eventfd();
	/* INTx mask before INTx is enabled: EINVAL. */
	assert_int_equal(set_irqs_none(p, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_MASK, 0, 1), -EINVAL);
	/* Loopback on an index that is not enabled: EINVAL. */
	assert_int_equal(set_irqs_none(p, VFIO_PCI_MSI_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1), -EINVAL);
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, fds), 0);
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, fds + 1), -EINVAL);
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, fds + 1), -EINVAL);
	/* Disabling an index that is not active is not a disable. */
	assert_int_equal(set_irqs_none(p, VFIO_PCI_MSI_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0), -EINVAL);
	/* Loopback on the active INTx fires it. */
	assert_int_equal(set_irqs_none(p, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1), 0);
	assert_int_equal(efd_count(fds[0]), 1);
	/* Disable INTx: now MSI may be enabled, with 2 vectors. */
	assert_int_equal(set_irqs_none(p, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0), 0);
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_MSI_IRQ_INDEX, 0, 2, fds + 1), 0);
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, fds), -EINVAL);
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, fds), -EINVAL);
	/* NORESIZE: vectors beyond those enabled need a disable first. */
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_MSI_IRQ_INDEX, 2, 1, fds + 3), -EINVAL);
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_MSI_IRQ_INDEX, 1, 1, fds + 3), 0);
	assert_int_equal(set_irqs_none(p, VFIO_PCI_MSI_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0), 0);
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_MSIX_IRQ_INDEX, 0, 3, fds + 1), 0);
	/* ERR/REQ are outside the mode rule. */
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, fds), 0);
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, fds), 0);
	/* Last close drops the mode: INTx may be enabled again after reopen. */
	assert_int_equal(uvfio_device_open(uvfio_pci_to_device(p)), 0);
	uvfio_device_close(uvfio_pci_to_device(p));
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, fds), 0);
	uvfio_pci_destroy(p);
	close_fds(fds, 4);
}

/* ---- reset ---------------------------------------------------------------------- */

static void dirty_state(struct uvfio_pci_device *p)
{
	uint32_t msi = find_cap(p, PCI_CAP_ID_MSI), msix = find_cap(p, PCI_CAP_ID_MSIX);
	uint32_t pm = find_cap(p, PCI_CAP_ID_PM);

	cfg_write(p, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cfg_write(p, PCI_BASE_ADDRESS_0, 4, 0xfe000000);
	cfg_write(p, PCI_INTERRUPT_LINE, 1, 11);
	cfg_write(p, msi + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
	cfg_write(p, msi + PCI_MSI_ADDRESS_LO, 4, 0xfee00000);
	cfg_write(p, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	bar_write(p, 0, entry_ctrl(0), 4, 0);
	assert_int_equal(uvfio_pci_raise_irq(p, 5), 0); /* PBA bit */
	cfg_write(p, pm + PCI_PM_CTRL, 1, 3);
	assert_true(uvfio_pci_bus_master(p));
	assert_true(uvfio_device_bus_master(uvfio_pci_to_device(p)));
}

static void assert_power_on(struct uvfio_pci_device *p)
{
	uint32_t msi = find_cap(p, PCI_CAP_ID_MSI), msix = find_cap(p, PCI_CAP_ID_MSIX);
	uint32_t pm = find_cap(p, PCI_CAP_ID_PM), exp = find_cap(p, PCI_CAP_ID_EXP);

	assert_int_equal(cfg_read(p, PCI_COMMAND, 2), 0);
	assert_false(uvfio_pci_bus_master(p));
	assert_false(uvfio_device_bus_master(uvfio_pci_to_device(p)));
	assert_int_equal(cfg_read(p, PCI_BASE_ADDRESS_0, 4), 0);
	assert_int_equal(cfg_read(p, PCI_INTERRUPT_LINE, 1), 0);
	assert_int_equal(cfg_read(p, msi + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE, 0);
	assert_int_equal(cfg_read(p, msi + PCI_MSI_ADDRESS_LO, 4), 0);
	assert_int_equal(cfg_read(p, msix + PCI_MSIX_FLAGS, 2), 69);
	assert_int_equal(cfg_read(p, pm + PCI_PM_CTRL, 1) & 3, 0);
	assert_int_equal(cfg_read(p, exp + PCI_EXP_DEVCTL, 2) & PCI_EXP_DEVCTL_BCR_FLR, 0);
	/* Table entries masked again, PBA clear (decode on to look). */
	cfg_write(p, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(bar_read(p, 0, entry_ctrl(0), 4), PCI_MSIX_ENTRY_CTRL_MASKBIT);
	assert_int_equal(bar_read(p, 0, MSIX_PBA, 8), 0);
	cfg_write(p, PCI_COMMAND, 2, 0);
}

static void test_flr(void **state)
{
	struct uvfio_pci_device *p = mk();
	uint32_t exp = find_cap(p, PCI_CAP_ID_EXP);

	dirty_state(p);
	/* A DEVCTL write without the FLR bit is just a write. */
	cfg_write(p, exp + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_CERE);
	assert_int_equal(resets, 0);
	assert_true(uvfio_pci_bus_master(p));
	/* FLR: reset op called once, config at power-on, the bit reads 0. */
	cfg_write(p, exp + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_CERE);
	assert_int_equal(resets, 1);
	assert_int_equal(cfg_read(p, exp + PCI_EXP_DEVCTL, 2),
			 PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_NOSNOOP_EN |
				 PCI_EXP_DEVCTL_READRQ_512B);
	assert_power_on(p);

	/* DEVICE_RESET does the same through the core. */
	dirty_state(p);
	assert_int_equal(uvfio_device_reset(uvfio_pci_to_device(p)), 0);
	assert_int_equal(resets, 2);
	assert_power_on(p);
	uvfio_pci_destroy(p);
}

/* The last close resets like the kernel's vfio-pci disable path. */
static void test_close_resets(void **state)
{
	struct uvfio_pci_device *p = mk();
	struct uvfio_device *dev = uvfio_pci_to_device(p);

	assert_int_equal(uvfio_device_open(dev), 0);
	assert_int_equal(uvfio_device_open(dev), 0);
	dirty_state(p);
	uvfio_device_close(dev); /* not the last */
	assert_int_equal(resets, 0);
	assert_true(uvfio_pci_bus_master(p));
	uvfio_device_close(dev);
	assert_int_equal(resets, 1);
	assert_power_on(p);
	uvfio_pci_destroy(p);
}

/* Registered: unregister frees the core device, destroy the rest. */
static void test_register_lifecycle(void **state)
{
	struct uvfio_pci_device *p = mk();

	assert_int_equal(uvfio_device_register(uvfio_pci_to_device(p)), 0);
	uvfio_device_unregister(uvfio_pci_to_device(p));
	assert_null(uvfio_pci_to_device(p));
	uvfio_pci_destroy(p);
	uvfio_pci_destroy(NULL);
}

/*
 * A device thread raising while the client masks, unmasks, re-assigns
 * eventfds and resets: no deadlock (lock order bus -> core), and once
 * everything is unmasked nothing stays pending.
 */
static int stop_raising; /* __atomic */
static unsigned long raised; /* __atomic */

static void *raiser(void *arg)
{
	struct uvfio_pci_device *p = arg;

	while (!__atomic_load_n(&stop_raising, __ATOMIC_RELAXED)) {
		uvfio_pci_raise_irq(p, 5);
		__atomic_add_fetch(&raised, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_concurrent_raise(void **state)
{
	struct uvfio_pci_device *p = mk();
	uint32_t msix = find_cap(p, PCI_CAP_ID_MSIX);
	int32_t fd = make_eventfd();
	pthread_t t;

	cfg_write(p, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	cfg_write(p, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(set_trigger_fds(p, VFIO_PCI_MSIX_IRQ_INDEX, 0, 6, (int32_t[]){
		-1, -1, -1, -1, -1, fd }), 0);
	__atomic_store_n(&stop_raising, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&raised, 0, __ATOMIC_RELAXED);
	assert_int_equal(pthread_create(&t, NULL, raiser, p), 0);
	/* Keep going until the device thread really ran alongside. */
	for (int i = 0; i < 2000 || __atomic_load_n(&raised, __ATOMIC_RELAXED) < 20000; i++) {
		bar_write(p, 0, entry_ctrl(5), 4, i & 1);
		cfg_write(p, msix + PCI_MSIX_FLAGS, 2,
			  PCI_MSIX_FLAGS_ENABLE | ((i % 3) ? 0 : PCI_MSIX_FLAGS_MASKALL));
		if (i % 100 == 0)
			assert_int_equal(set_trigger_fds(p, VFIO_PCI_MSIX_IRQ_INDEX, 5, 1, &fd), 0);
		if (i % 500 == 0) {
			assert_int_equal(uvfio_device_reset(uvfio_pci_to_device(p)), 0);
			cfg_write(p, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
		}
	}
	__atomic_store_n(&stop_raising, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	cfg_write(p, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	bar_write(p, 0, entry_ctrl(5), 4, 0);
	assert_int_equal(bar_read(p, 0, MSIX_PBA, 8), 0);
	assert_true(efd_count(fd) > 0);
	/* And the vector still works normally. */
	assert_int_equal(uvfio_pci_raise_irq(p, 5), 1);
	assert_int_equal(efd_count(fd), 1);
	uvfio_pci_destroy(p);
	close(fd);
}

/* ---- bus master ------------------------------------------------------------------- */

static void test_bus_master_gates_dma(void **state)
{
	struct uvfio_pci_device *p = mk();
	struct uvfio_device *dev = uvfio_pci_to_device(p);
	struct uvfio_dma *dma = uvfio_dma_create(NULL);
	uint8_t *mem = aligned_alloc(4096, 4096);
	struct uvfio_dma_map_args map = {
		.iova = 0x100000, .size = 4096, .fd = -1, .vaddr = mem,
		.prot = UVFIO_DMA_READ | UVFIO_DMA_WRITE,
	};
	uint32_t v = 0xcafef00d;

	assert_non_null(dma);
	assert_non_null(mem);
	memset(mem, 0, 4096);
	assert_int_equal(uvfio_dma_map(dma, &map), 0);
	uvfio_device_set_dma(dev, dma);

	/* Power-on: COMMAND.MASTER clear -> the device may not DMA. */
	assert_int_equal(uvfio_device_dma_write(dev, 0x100010, &v, 4), -EPERM);
	assert_int_equal(mem[0x10], 0);
	cfg_write(p, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	assert_int_equal(uvfio_device_dma_write(dev, 0x100010, &v, 4), 0);
	assert_memory_equal(mem + 0x10, &v, 4);
	/* Any COMMAND write keeps the gate in step with bit 2. */
	cfg_write(p, PCI_COMMAND, 1, PCI_COMMAND_MEMORY);
	assert_int_equal(uvfio_device_dma_read(dev, 0x100010, &v, 4), -EPERM);
	cfg_write(p, PCI_COMMAND, 4, PCI_COMMAND_MASTER);
	assert_int_equal(uvfio_device_dma_read(dev, 0x100010, &v, 4), 0);
	/* FLR turns it off again. */
	cfg_write(p, find_cap(p, PCI_CAP_ID_EXP) + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR);
	assert_int_equal(uvfio_device_dma_write(dev, 0x100010, &v, 4), -EPERM);

	uvfio_device_set_dma(dev, NULL);
	uvfio_pci_destroy(p);
	uvfio_dma_destroy(dma);
	free(mem);
}

static void quiet(enum uvfio_log_level level, const char *who, const char *msg,
		  void *opaque)
{
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msi_mask_pending),
		cmocka_unit_test(test_msix_table_pba),
		cmocka_unit_test(test_msix_delivery),
		cmocka_unit_test(test_msix_2048),
		cmocka_unit_test(test_intx),
		cmocka_unit_test(test_irq_mode_conflict),
		cmocka_unit_test(test_flr),
		cmocka_unit_test(test_close_resets),
		cmocka_unit_test(test_register_lifecycle),
		cmocka_unit_test(test_concurrent_raise),
		cmocka_unit_test(test_bus_master_gates_dma),
	};

	/* The bus-master test logs the refused DMA on purpose. */
	uvfio_log_set_sink(quiet, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
