/* SPDX-License-Identifier: MIT */
/*
 * A PCI device with every capability bus/pci builds (PM, MSI with per-vector
 * masking, MSI-X, PCIe), served for `uvfio info`'s config-space decoding:
 *   pcicaps_server PATH     prints "ready"; SIGTERM stops it
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <uvfio/pci.h>
#include <uvfio/server.h>

static struct uvfio_server *srv;

static void on_term(int sig)
{
	uvfio_server_stop(srv);
}

int main(int argc, char **argv)
{
	static const struct uvfio_pci_info info = {
		.vendor_id = 0x1b36, .device_id = 0x0005, /* Red Hat, QEMU PCI test device */
		.subsystem_vendor_id = 0x1af4, .subsystem_id = 0x1100,
		.class_code = 0x020000, .revision = 0x02, .interrupt_pin = 1,
		.bars = { [0] = { .size = 8192, .flags = UVFIO_PCI_BAR_64 | UVFIO_PCI_BAR_PREFETCH },
			  [2] = { .size = 256, .flags = UVFIO_PCI_BAR_IO } },
		.pm = true,
		.msi = { .vectors = 4, .addr64 = true, .per_vector_mask = true },
		.msix = { .table_size = 70, .table_bar = 0, .table_offset = 0x1000,
			  .pba_bar = 0, .pba_offset = 0x1800 },
		.pcie = true,
	};
	struct uvfio_server_opts o = { .listen_fd = -1 };
	struct sigaction sa = { .sa_handler = on_term };
	struct uvfio_pci_device *pdev;
	struct uvfio_device *dev;
	int ret;

	if (argc != 2)
		return 2;
	pdev = uvfio_pci_create("pcicaps", &info, NULL);
	if (!pdev)
		return 1;
	dev = uvfio_pci_to_device(pdev);
	if (uvfio_device_register(dev))
		return 1;
	ret = uvfio_server_create(dev, argv[1], &o, &srv);
	if (ret) {
		fprintf(stderr, "server: %s\n", strerror(-ret));
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	printf("ready\n");
	fflush(stdout);
	ret = uvfio_server_run(srv);
	uvfio_server_destroy(srv);
	uvfio_device_unregister(dev);
	return ret ? 1 : 0;
}
