/* SPDX-License-Identifier: MIT */
/*
 * The uvfio PCI bus driver: a PCI function declared by a table.
 *
 * A device fills a struct uvfio_pci_info (IDs, class, BARs, ROM, which
 * capabilities it has) and BAR handlers; uvfio_pci_create() turns it into a
 * ready struct uvfio_device with the vfio-pci layout:
 *
 *   regions  BAR0-5 = 0-5, ROM = 6, CONFIG = 7 (256 bytes, 4096 with a PCIe
 *            cap), VGA = 8 (absent: size 0)  (VFIO_PCI_*_REGION_INDEX)
 *   irqs     INTx 0 (count 1 if interrupt_pin, EVENTFD|MASKABLE|AUTOMASKED),
 *            MSI 1 (count = msi.vectors, EVENTFD|NORESIZE),
 *            MSI-X 2 (count = msix.table_size, EVENTFD: vectors may be
 *            added while enabled, as vfio-pci with dynamic MSI-X allocation),
 *            ERR 3 (count 1 with PCIe), REQ 4 (count 1)
 *   flags    VFIO_DEVICE_FLAGS_PCI | RESET
 *
 * Config space is emulated here with per-bit write and RW1C masks, as the
 * kernel's vfio_pci_config.c virtualizes it; the device never touches config
 * bytes. The bus driver owns COMMAND (memory/IO decode, bus master), the
 * capability list (PM, MSI, MSI-X, PCIe), the MSI-X table and PBA, INTx
 * status, FLR and DEVICE_RESET.
 *
 * BAR access rules the device can rely on:
 *   - Handlers see naturally aligned accesses of 1, 2, 4 or 8 bytes
 *     (offset % size == 0); a longer client access is split, as the kernel
 *     splits BAR rw.
 *   - While COMMAND.MEMORY (memory BARs) or COMMAND.IO (I/O BARs) is clear,
 *     or the function is in D3hot, the client's reads return all-ones and its
 *     writes are dropped without calling the handler. A client must enable
 *     decode (write COMMAND) before touching a BAR; QEMU's guest does that.
 *   - The MSI-X table and PBA ranges of their BAR are served by the bus
 *     driver; the handlers never see them.
 *   - A MAPPABLE BAR is a memfd of the BAR's size, offered to the client as
 *     an mmap area (sparse mmap cap covering the BAR). The device reads and
 *     writes it through uvfio_pci_bar_mem(); client REGION_READ/WRITE access
 *     the same memory and no handler is called. Decode gating cannot apply
 *     to a client's existing mapping. Note: QEMU turns off posted writes for
 *     the whole device once any region is mmappable (ordering between mapped
 *     and socket accesses), so every register write becomes a round trip.
 *
 * Thread safety: raise/lower_irq may be called from any device thread while
 * the server accesses regions. Handlers and ops->reset are called without
 * any bus lock held, so they may call uvfio_pci_raise_irq() and friends.
 */
#ifndef UVFIO_PCI_H
#define UVFIO_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uvfio/device.h>
#include <uvfio/mig_stream.h>

#ifdef __cplusplus
extern "C" {
#endif

struct uvfio_pci_device;

/* BAR flags. Memory BARs are the default (no UVFIO_PCI_BAR_IO). */
#define UVFIO_PCI_BAR_IO	   (1u << 0) /* I/O space (4..256 bytes) */
#define UVFIO_PCI_BAR_64	   (1u << 1) /* 64-bit memory BAR: uses BARn+1 */
#define UVFIO_PCI_BAR_PREFETCH	   (1u << 2) /* prefetchable memory */
#define UVFIO_PCI_BAR_MAPPABLE	   (1u << 3) /* memfd-backed, mmap by client */

/*
 * BAR access handler. `offset` is relative to the BAR, `size` is 1, 2, 4 or
 * 8 and offset % size == 0. Data is little endian, as PCI. Returns 0 or a
 * negative errno (the client's access fails with it).
 */
typedef int (*uvfio_pci_bar_read_fn)(struct uvfio_pci_device *pdev, int bar,
				     uint64_t offset, void *buf, size_t size);
typedef int (*uvfio_pci_bar_write_fn)(struct uvfio_pci_device *pdev, int bar,
				      uint64_t offset, const void *buf,
				      size_t size);

struct uvfio_pci_bar_info {
	/*
	 * 0: not implemented. Else a power of two: memory >= 16 bytes
	 * (32-bit memory <= 2 GiB), I/O 4..256, MAPPABLE >= the page size.
	 * A 64-bit BAR n takes BAR n+1 as its upper dword: leave n+1 empty.
	 */
	uint64_t size;
	uint32_t flags; /* UVFIO_PCI_BAR_* */
	/* Per-BAR handlers; NULL falls back to ops->bar_read/bar_write. With
	 * neither, reads return 0 and writes are dropped. */
	uvfio_pci_bar_read_fn read;
	uvfio_pci_bar_write_fn write;
};

struct uvfio_pci_ops {
	/*
	 * Put device-specific state back to power-on. Called on DEVICE_RESET,
	 * on FLR (PCIe DEVCTL.BCR_FLR) and on the last close, after the bus
	 * driver restored config space (so bus mastering is already off).
	 * NULL: nothing device-specific to reset. Returns 0 or -errno.
	 */
	int (*reset)(struct uvfio_pci_device *pdev);
	/* Default BAR handlers, for BARs without their own. */
	uvfio_pci_bar_read_fn bar_read;
	uvfio_pci_bar_write_fn bar_write;
	/*
	 * Migration (VFIO_MIGRATION_STOP_COPY), offered when save and load are
	 * both set. The bus driver builds the stream (mig_stream.h): a header
	 * naming mig_type, mig_version and the PCI IDs, a section with the
	 * function's config space, MSI-X table/PBA and interrupt mode, and a
	 * section with the device's records:
	 *   save  put the device's records (called in STOP, device quiet);
	 *   load  parse the records of a stream into the device; check every
	 *         record before changing anything (a failure must leave the
	 *         device as it was). Called in RESUMING -> STOP, after the
	 *         PCI section was checked; the PCI state is applied after a
	 *         successful load.
	 */
	const char *mig_type;
	uint32_t mig_version;
	/*
	 * Optional: the function stops (RUNNING -> STOP: finish or hold back
	 * work, start nothing new) or runs again (STOP -> RUNNING: resume what
	 * was held back). Returns 0 or -errno (the arc fails).
	 */
	int (*set_running)(struct uvfio_pci_device *pdev, bool running);
	int (*save)(struct uvfio_pci_device *pdev, struct uvfio_mig_writer *w);
	int (*load)(struct uvfio_pci_device *pdev, struct uvfio_mig_reader *r);
	/*
	 * SR-IOV (info.sriov.total_vfs != 0): the client set VF Enable with
	 * NumVFs = num_vfs (bring up num_vfs VFs), or cleared it (num_vfs 0:
	 * tear them down). Called from the config write, without the bus lock.
	 * Returns 0 or -errno: the write then has no effect (VF Enable keeps
	 * its old value) and the bus driver logs the error; -EBUSY is what a
	 * PF answers while a VF still has a client. NULL: always succeeds.
	 */
	int (*sriov_configure)(struct uvfio_pci_device *pdev, uint16_t num_vfs);
};

struct uvfio_pci_msi_info {
	uint8_t vectors;      /* 0: no MSI cap; else 1, 2, 4, 8, 16 or 32 */
	bool addr64;	      /* 64-bit message address */
	bool per_vector_mask; /* mask and pending registers */
};

struct uvfio_pci_msix_info {
	uint16_t table_size;   /* 0: no MSI-X cap; else 1..2048 vectors */
	uint8_t table_bar;     /* BAR holding the table (not MAPPABLE) */
	uint32_t table_offset; /* 8-byte aligned, table fits in the BAR */
	uint8_t pba_bar;       /* BAR holding the PBA (not MAPPABLE) */
	uint32_t pba_offset;   /* 8-byte aligned, no overlap with the table */
};

struct uvfio_pci_rom_info {
	/* Region size: 0 = the contents' length rounded up to a power of two
	 * (at least 2 KiB); else a power of two >= 2 KiB and >= len. */
	uint64_t size;
	const void *data; /* copied at create; bytes past len read as 0xff */
	size_t len;	  /* 0 with size 0: no ROM */
};

/*
 * An SR-IOV extended capability at 0x100 (needs pcie: 4 KiB config space).
 * Config rules: NumVFs is writable while VF Enable is clear and takes values
 * <= TotalVFs (a larger value is dropped); VF Enable and VF MSE are the
 * writable control bits; System Page Size takes 4 KiB only; the VF BARs size
 * like BARs; the rest is read-only. VF Enable 0 -> 1 and 1 -> 0 call
 * ops->sriov_configure. A function reset (FLR, DEVICE_RESET, last close)
 * leaves the capability as it is, so resetting the PF never pulls VFs from
 * under their clients. A PF with this capability offers
 * VFIO_DEVICE_FEATURE_PCI_VF_TOKEN (SET only, a 16-byte UUID), as vfio-pci.
 */
struct uvfio_pci_sriov_info {
	uint16_t total_vfs;	 /* 0: no SR-IOV capability */
	uint16_t initial_vfs;	 /* 0: total_vfs */
	uint16_t vf_offset;	 /* routing ID of VF 1 minus the PF's; 0: 1 */
	uint16_t vf_stride;	 /* between VFs; 0: 1 */
	uint16_t vf_device_id;
	uint32_t vf_bar_size[6]; /* 32-bit memory BARs of each VF; 0 or 2^n >= 16 */
};

struct uvfio_pci_info {
	uint16_t vendor_id, device_id;
	uint16_t subsystem_vendor_id, subsystem_id;
	uint32_t class_code;   /* 24 bits: base class, sub class, prog-if */
	uint8_t revision;
	uint8_t interrupt_pin; /* 0: no INTx; 1..4 = INTA..INTD */
	struct uvfio_pci_bar_info bars[6];
	struct uvfio_pci_rom_info rom;
	/* Capabilities, linked from 0x40 in this order: PM, MSI, MSI-X, PCIe. */
	bool pm;	       /* power management: D0 and D3hot */
	struct uvfio_pci_msi_info msi;
	struct uvfio_pci_msix_info msix;
	bool pcie;	       /* PCI Express endpoint cap v2 with FLR; 4 KiB config */
	struct uvfio_pci_sriov_info sriov; /* extended cap at 0x100; needs pcie */
	const struct uvfio_pci_ops *ops; /* may be NULL; not copied: must outlive the device */
};

/*
 * Create a PCI device. `info` is copied (and the ROM contents). Returns NULL
 * with errno set: EINVAL for an inconsistent table (size not a power of
 * two, 64-bit BAR in BAR5 or over a used BAR, MSI-X table outside its BAR
 * or overlapping the PBA, ...), ENOMEM, or the memfd error.
 * The device is not registered: call uvfio_device_register() on
 * uvfio_pci_to_device() when it should be served.
 */
struct uvfio_pci_device *uvfio_pci_create(const char *name,
					  const struct uvfio_pci_info *info,
					  void *priv);
/*
 * Free the PCI device. If it was registered, call uvfio_device_unregister()
 * first (that frees the struct uvfio_device); then uvfio_pci_destroy()
 * frees the rest. NULL is a no-op.
 */
void uvfio_pci_destroy(struct uvfio_pci_device *pdev);

struct uvfio_device *uvfio_pci_to_device(struct uvfio_pci_device *pdev);
/* The PCI device behind `dev`, which must come from uvfio_pci_create()
 * (e.g. inside a uvfio_device op); its device priv is the PCI device. */
struct uvfio_pci_device *uvfio_pci_from_device(struct uvfio_device *dev);
void *uvfio_pci_priv(struct uvfio_pci_device *pdev);
const char *uvfio_pci_name(struct uvfio_pci_device *pdev);

/* The memory of a MAPPABLE BAR (size = its BAR size), else NULL. */
void *uvfio_pci_bar_mem(struct uvfio_pci_device *pdev, int bar);

/*
 * Raise interrupt `vector`, routed to the mode the guest enabled in config
 * space:
 *   - MSI-X enabled: vector < table size; delivered unless the entry or the
 *     function is masked, in which case its PBA bit is set and it is
 *     delivered (and the bit cleared) on unmask. As under kernel VFIO, where
 *     the host owns the table, an entry is unmasked when the client assigns
 *     the vector an eventfd (SET_IRQS) and masked when it is de-assigned;
 *     a client may also write mask bits through the BAR. (QEMU emulates the
 *     guest's table itself, never writes ours, and reads our PBA.)
 *   - MSI enabled: vector < enabled vectors (multiple message enable);
 *     masked (per-vector mask) -> pending bit, delivered on unmask.
 *   - else INTx, if interrupt_pin != 0: sets STATUS.INTERRUPT (the line)
 *     and, unless COMMAND.INTX_DISABLE, triggers IRQ index 0. INTx is
 *     AUTOMASKED: after a signal nothing more is sent until the client
 *     unmasks (SET_IRQS UNMASK); if the line is still up then, or when
 *     INTX_DISABLE is cleared, it is signalled again (level semantics).
 *     The device lowers the line with uvfio_pci_lower_irq() once the cause
 *     is gone. `vector` is ignored for INTx.
 * Returns 1 if an eventfd was signalled, 0 if not (pending, masked,
 * disabled, no eventfd, no interrupt mode), -EINVAL for a vector out of
 * range of the enabled mode.
 */
int uvfio_pci_raise_irq(struct uvfio_pci_device *pdev, unsigned int vector);
/* INTx is level triggered: the device lowers it when the cause is gone
 * (clears STATUS.INTERRUPT). No-op for MSI/MSI-X. */
void uvfio_pci_lower_irq(struct uvfio_pci_device *pdev);

/* COMMAND.BUS_MASTER; the core's uvfio_device_dma_read/write follow it. */
bool uvfio_pci_bus_master(struct uvfio_pci_device *pdev);

/* SR-IOV: the number of VFs enabled now (0 with VF Enable clear). */
uint16_t uvfio_pci_sriov_num_vfs(struct uvfio_pci_device *pdev);
/*
 * May a client open a VF of this PF, presenting `token` (16-byte UUID, or
 * NULL for none)? The kernel's vfio_pci_validate_vf_token() for a VF:
 *   - the PF has a user (open) or a token was set: the token must be given
 *     and match the PF's, else -EACCES;
 *   - otherwise (the PF is not owned by a user, no token set): allowed
 *     without a token; a token given anyway is -EINVAL.
 * `why` (may be NULL) gets a static reason for the log on refusal.
 * -ENODEV if pdev has no SR-IOV capability.
 */
int uvfio_pci_sriov_check_vf_token(struct uvfio_pci_device *pdev,
				   const uint8_t *token, const char **why);

/*
 * May a client open the PF itself, presenting `token` (or NULL)? The
 * kernel's rule for a PF: while a VF is in use (`vfs_in_use`), the token
 * must be given and match (else -EACCES); otherwise a token given sets the
 * PF's VF token, and none is fine. -ENODEV without the SR-IOV capability.
 */
int uvfio_pci_sriov_check_pf_token(struct uvfio_pci_device *pdev,
				   const uint8_t *token, bool vfs_in_use,
				   const char **why);

/* Read-only view of the emulated config space (uvfio_pci_config_size()
 * bytes, little endian). For inspection and tests; may change under you. */
const uint8_t *uvfio_pci_config(struct uvfio_pci_device *pdev);
size_t uvfio_pci_config_size(struct uvfio_pci_device *pdev);

#ifdef __cplusplus
}
#endif
#endif
