/* SPDX-License-Identifier: MIT */
/*
 * An edu-compatible PCI device: the registers of QEMU's educational device
 * (hw/misc/edu.c, docs/specs/edu.rst), so a driver written for QEMU's edu
 * runs unchanged against this one over vfio-user.
 *
 * PCI: 1234:11e8, revision 0x10, class 0x00ff00, INTx pin A, an MSI
 * capability with one vector (64-bit address), BAR0 1 MiB 32-bit
 * non-prefetchable memory.
 *
 * BAR0 registers (little endian). Offsets below 0x80 take 4-byte accesses
 * only, 0x80 and up 4 or 8 bytes; another size reads all-ones and drops the
 * write, as QEMU's edu does. Unlisted offsets read all-ones.
 *   0x00 RO  identification 0x010000ed
 *   0x04 RW  liveness: reads back the bitwise inverse of the last write
 *   0x08 RW  factorial: write n, read n! (mod 2^32)
 *   0x20 RW  status: bit 0 computing (RO), bit 7 raise IRQ 0x1 after a factorial
 *   0x24 RO  interrupt status
 *   0x60 WO  interrupt raise: OR the value into the interrupt status, raise
 *   0x64 WO  interrupt acknowledge: clear the bits; none left -> INTx lowered
 *   0x80 RW  DMA source, 0x88 DMA destination, 0x90 DMA count (64 bits each)
 *   0x98 RW  DMA command: bit 0 start (reads 1 while running), bit 1 direction
 *            (0: RAM -> buffer, 1: buffer -> RAM), bit 2 raise IRQ 0x100 when
 *            done, bit 31 (ours) the last transfer failed
 *   0x40000..0x40fff  the 4 KiB DMA buffer, readable and writable directly
 *            (QEMU's edu does not expose it; a client may use it to check DMA)
 *
 * Differences from QEMU's edu, each on purpose:
 *   - A factorial completes in the write that starts it: the computing bit
 *     (status bit 0) always reads 0 and the completion IRQ comes at once.
 *   - A DMA runs right after the write that starts it has been handled, from
 *     the server's fd callback (the sample's event fd, registered with
 *     uvfio_server_add_fd), not inside that write: command
 *     bit 0 reads 1 until it is done, as on QEMU. Not inside the write,
 *     because QEMU serves DMA_READ/WRITE requests (RAM not shared with the
 *     server) from its main loop, which needs the BQL, and the vCPU holds
 *     the BQL while it waits for the reply to its next register access: a
 *     DMA issued while a register access is being handled can only time out.
 *     While a transfer is pending, writes to the DMA registers are ignored,
 *     as on QEMU. In-process users call the sample's handle_event().
 *   - A 4-byte access at 0x84/0x8c/0x94/0x9c reaches the upper half of the
 *     64-bit register (QEMU ignores it). A 4-byte write at 0x80 still sets
 *     the whole register to the zero-extended value, as QEMU does, so a
 *     driver that only writes the low half never sees a stale upper half.
 *     This makes an 8-byte access the kernel splits in two 4-byte ones work.
 *   - DMA addresses are not clamped to a 28-bit mask: the RAM side is an
 *     IOVA of the client's DMA space and is used as is.
 *   - A transfer must lie inside the buffer: [0x40000, 0x41000), the full
 *     4096 bytes allowed (QEMU 7.2 aborts on one that ends at 0x41000). A
 *     transfer that does not fit, or whose DMA fails (bus master off: EPERM,
 *     IOVA not mapped with the needed access: EFAULT), completes with
 *     command bit 31 set and a log line; the completion IRQ 0x100 is still
 *     raised when asked for, so a driver waiting for it wakes up. Starting
 *     a new transfer clears bit 31.
 *   - Device reset (and the last close) clears every register and the buffer.
 *
 * Migration (STOP_COPY, stream "edu" v1 inside the PCI bus's stream): the
 * registers, the buffer, pending interrupts and the DMA registers. A
 * finished transfer moves as its outcome (buffer, command bits, IRQ 0x100);
 * one started but not yet run when the device stopped is held back and runs
 * on the destination once it is RUNNING (or on the source if it resumes).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <uvfio/device.h>
#include <uvfio/log.h>
#include <uvfio/pci.h>

#include "devices/samples.h"

#define EDU_BAR_SIZE		(1u << 20)

#define EDU_REG_ID		0x00
#define EDU_REG_LIVENESS	0x04
#define EDU_REG_FACTORIAL	0x08
#define EDU_REG_STATUS		0x20
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_REG_WIDE_END	0xa0 /* end of the 64-bit DMA registers */

#define EDU_ID			0x010000edu

#define EDU_STATUS_COMPUTING	0x01u
#define EDU_STATUS_IRQ_FACT	0x80u

#define EDU_IRQ_FACT		0x00000001u
#define EDU_IRQ_DMA		0x00000100u

#define EDU_DMA_CMD_START	0x1u
#define EDU_DMA_CMD_TO_RAM	0x2u
#define EDU_DMA_CMD_IRQ		0x4u
#define EDU_DMA_CMD_ERROR	0x80000000u

#define EDU_BUF_START		0x40000u
#define EDU_BUF_SIZE		4096u

struct edu {
	struct uvfio_pci_device *pdev;
	/* Readable while a DMA waits to run (see the header comment). */
	int work_fd;
	/* Guards the registers and the buffer: BAR handlers may run on more
	 * than one thread (server, tests). */
	pthread_mutex_t lock;
	uint32_t liveness;
	uint32_t factorial;
	uint32_t status;
	uint32_t irq_status;
	uint64_t dma_src, dma_dst, dma_count, dma_cmd;
	uint64_t dma_seq; /* counts starts and resets: which transfer is whose */
	uint8_t buf[EDU_BUF_SIZE];
	/* Migration: stopped holds DMA back; dma_busy while one runs. */
	bool stopped, dma_busy;
	pthread_cond_t idle;
};

static struct edu *to_edu(struct uvfio_pci_device *pdev)
{
	return uvfio_pci_priv(pdev);
}

static struct uvfio_device *edu_dev(struct edu *edu)
{
	return uvfio_pci_to_device(edu->pdev);
}

/* n! mod 2^32. From 34! on, the product holds 2^32 (34! has 32 factors of
 * two), so the answer is 0: no loop over billions of values. */
static uint32_t factorial32(uint32_t n)
{
	uint32_t r = 1;

	if (n >= 34)
		return 0;
	while (n > 1)
		r *= n--;
	return r;
}

/* Called with edu->lock held. MSI when the guest enabled it, else INTx. */
static void edu_raise_irq(struct edu *edu, uint32_t bits)
{
	edu->irq_status |= bits;
	if (edu->irq_status)
		uvfio_pci_raise_irq(edu->pdev, 0);
}

static void edu_ack_irq(struct edu *edu, uint32_t bits)
{
	edu->irq_status &= ~bits;
	/* INTx is a level: it stays up until every cause is acknowledged. */
	if (!edu->irq_status)
		uvfio_pci_lower_irq(edu->pdev);
}

static void edu_factorial(struct edu *edu, uint32_t n)
{
	/* The computing bit is set for the (synchronous) computation only. */
	edu->status |= EDU_STATUS_COMPUTING;
	edu->factorial = factorial32(n);
	edu->status &= ~EDU_STATUS_COMPUTING;
	if (edu->status & EDU_STATUS_IRQ_FACT)
		edu_raise_irq(edu, EDU_IRQ_FACT);
}

/*
 * Buffer offset of a device-side range [addr, addr + count), or -ERANGE when
 * it is not inside [0x40000, 0x41000).
 */
static int64_t edu_buf_range(uint64_t addr, uint64_t count)
{
	uint64_t end;

	if (addr < EDU_BUF_START || __builtin_add_overflow(addr, count, &end) ||
	    end > EDU_BUF_START + EDU_BUF_SIZE)
		return -ERANGE;
	return (int64_t)(addr - EDU_BUF_START);
}

static const char *edu_dma_error(int err)
{
	switch (err) {
	case -ERANGE:
		return "device side outside the buffer [0x40000, 0x41000)";
	case -EPERM:
		return "bus master is off";
	case -EFAULT:
		return "IOVA range not mapped with the needed access";
	case -ENODEV:
		return "no client DMA space";
	default:
		return strerror(-err);
	}
}

static void edu_dma_log(struct edu *edu, int ret, bool to_ram, uint64_t count,
			uint64_t dev_addr, uint64_t iova)
{
	if (ret)
		uvfio_dev_log(edu_dev(edu), UVFIO_LOG_WARN,
			      "DMA %s of %#llx bytes, device %#llx, IOVA %#llx failed: %s",
			      to_ram ? "to RAM" : "from RAM",
			      (unsigned long long)count, (unsigned long long)dev_addr,
			      (unsigned long long)iova, edu_dma_error(ret));
	else
		uvfio_dev_log(edu_dev(edu), UVFIO_LOG_TRACE,
			      "DMA %s of %#llx bytes, device %#llx, IOVA %#llx",
			      to_ram ? "to RAM" : "from RAM",
			      (unsigned long long)count, (unsigned long long)dev_addr,
			      (unsigned long long)iova);
}

/*
 * Runs the pending transfer, if any. The lock is not held across the DMA
 * itself: a message-based DMA waits for the client, and register reads
 * (command bit 0 = still running) must not wait behind it. The registers
 * can't change meanwhile: writes to them are ignored while START is set.
 */
static void edu_dma_work(struct edu *edu)
{
	uint8_t bounce[EDU_BUF_SIZE];
	uint64_t cmd, dev_addr, iova, count, seq;
	bool to_ram;
	int64_t off;
	int ret;

	pthread_mutex_lock(&edu->lock);
	/* A stopped device starts nothing: the transfer migrates as pending. */
	if (edu->stopped) {
		pthread_mutex_unlock(&edu->lock);
		return;
	}
	cmd = edu->dma_cmd;
	seq = edu->dma_seq;
	to_ram = cmd & EDU_DMA_CMD_TO_RAM;
	dev_addr = to_ram ? edu->dma_src : edu->dma_dst;
	iova = to_ram ? edu->dma_dst : edu->dma_src;
	count = edu->dma_count;
	off = edu_buf_range(dev_addr, count);
	if (off >= 0 && to_ram)
		memcpy(bounce, edu->buf + off, (size_t)count);
	if (cmd & EDU_DMA_CMD_START)
		edu->dma_busy = true;
	pthread_mutex_unlock(&edu->lock);
	if (!(cmd & EDU_DMA_CMD_START))
		return;

	if (off < 0)
		ret = (int)off;
	else if (to_ram)
		ret = uvfio_device_dma_write(edu_dev(edu), iova, bounce, (size_t)count);
	else
		ret = uvfio_device_dma_read(edu_dev(edu), iova, bounce, (size_t)count);
	edu_dma_log(edu, ret, to_ram, count, dev_addr, iova);

	pthread_mutex_lock(&edu->lock);
	/* A reset while the DMA ran cancelled it: leave the fresh state alone. */
	if (edu->dma_seq == seq && (edu->dma_cmd & EDU_DMA_CMD_START)) {
		if (!ret && !to_ram)
			memcpy(edu->buf + off, bounce, (size_t)count);
		if (ret)
			edu->dma_cmd |= EDU_DMA_CMD_ERROR;
		edu->dma_cmd &= ~(uint64_t)EDU_DMA_CMD_START;
		if (edu->dma_cmd & EDU_DMA_CMD_IRQ)
			edu_raise_irq(edu, EDU_IRQ_DMA);
	}
	edu->dma_busy = false;
	pthread_cond_broadcast(&edu->idle);
	pthread_mutex_unlock(&edu->lock);
}

/* Called with edu->lock held. */
static void edu_dma_start(struct edu *edu, uint64_t cmd)
{
	uint64_t one = 1;

	edu->dma_cmd = cmd & (EDU_DMA_CMD_START | EDU_DMA_CMD_TO_RAM | EDU_DMA_CMD_IRQ);
	edu->dma_seq++;
	if (write(edu->work_fd, &one, sizeof(one)) != (ssize_t)sizeof(one)) {
		/* Only an overflowing counter fails, and then it is readable. */
		uvfio_dev_log(edu_dev(edu), UVFIO_LOG_WARN, "DMA kick: %m");
	}
}

static uint64_t *edu_dma_reg(struct edu *edu, uint64_t reg)
{
	switch (reg) {
	case EDU_REG_DMA_SRC:
		return &edu->dma_src;
	case EDU_REG_DMA_DST:
		return &edu->dma_dst;
	case EDU_REG_DMA_COUNT:
		return &edu->dma_count;
	default:
		return &edu->dma_cmd;
	}
}

/* Whether a register access has the size edu accepts at that offset. */
static bool edu_reg_size_ok(uint64_t offset, size_t size)
{
	if (offset < EDU_REG_DMA_SRC)
		return size == 4;
	return size == 4 || size == 8;
}

static uint64_t edu_reg_read(struct edu *edu, uint64_t offset, size_t size)
{
	if (offset >= EDU_REG_DMA_SRC && offset < EDU_REG_WIDE_END) {
		uint64_t v = *edu_dma_reg(edu, offset & ~7ull);

		if (size == 8)
			return (offset & 7) ? ~0ull : v;
		return (offset & 4) ? v >> 32 : (uint32_t)v;
	}
	switch (offset) {
	case EDU_REG_ID:
		return EDU_ID;
	case EDU_REG_LIVENESS:
		return edu->liveness;
	case EDU_REG_FACTORIAL:
		return edu->factorial;
	case EDU_REG_STATUS:
		return edu->status;
	case EDU_REG_IRQ_STATUS:
		return edu->irq_status;
	default:
		return ~0ull;
	}
}

static void edu_dma_reg_write(struct edu *edu, uint64_t offset, size_t size,
			      uint64_t val)
{
	uint64_t reg = offset & ~7ull;
	uint64_t *r = edu_dma_reg(edu, reg);

	if (size == 8 && (offset & 7))
		return;
	/* As on QEMU, the registers are frozen while a transfer is pending. */
	if (edu->dma_cmd & EDU_DMA_CMD_START)
		return;
	if (reg == EDU_REG_DMA_CMD) {
		/* As on QEMU, only a write that starts a transfer counts. */
		if (size == 4 && (offset & 4))
			return;
		if (val & EDU_DMA_CMD_START)
			edu_dma_start(edu, val);
		return;
	}
	if (size == 8)
		*r = val;
	else if (offset & 4)
		*r = (*r & 0xffffffffull) | (val << 32);
	else
		*r = (uint32_t)val; /* zero-extended, as QEMU */
}

static void edu_reg_write(struct edu *edu, uint64_t offset, size_t size,
			  uint64_t val)
{
	if (offset >= EDU_REG_DMA_SRC && offset < EDU_REG_WIDE_END) {
		edu_dma_reg_write(edu, offset, size, val);
		return;
	}
	switch (offset) {
	case EDU_REG_LIVENESS:
		edu->liveness = ~(uint32_t)val;
		break;
	case EDU_REG_FACTORIAL:
		edu_factorial(edu, (uint32_t)val);
		break;
	case EDU_REG_STATUS:
		/* Only the IRQ-on-completion bit is writable. */
		edu->status = (edu->status & ~EDU_STATUS_IRQ_FACT) |
			      ((uint32_t)val & EDU_STATUS_IRQ_FACT);
		break;
	case EDU_REG_IRQ_RAISE:
		edu_raise_irq(edu, (uint32_t)val);
		break;
	case EDU_REG_IRQ_ACK:
		edu_ack_irq(edu, (uint32_t)val);
		break;
	default:
		break;
	}
}

static bool edu_in_buf(uint64_t offset, size_t size)
{
	return edu_buf_range(offset, size) >= 0;
}

static uint64_t le_load(const void *buf, size_t size)
{
	const uint8_t *p = buf;
	uint64_t v = 0;

	for (size_t i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void le_store(void *buf, size_t size, uint64_t v)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int edu_bar_read(struct uvfio_pci_device *pdev, int bar, uint64_t offset,
			void *buf, size_t size)
{
	struct edu *edu = to_edu(pdev);
	uint64_t v = ~0ull;

	if (bar != 0 || size > 8)
		return -EINVAL;
	pthread_mutex_lock(&edu->lock);
	if (edu_in_buf(offset, size)) {
		memcpy(buf, edu->buf + (offset - EDU_BUF_START), size);
	} else {
		if (edu_reg_size_ok(offset, size))
			v = edu_reg_read(edu, offset, size);
		le_store(buf, size, v);
	}
	pthread_mutex_unlock(&edu->lock);
	return 0;
}

static int edu_bar_write(struct uvfio_pci_device *pdev, int bar, uint64_t offset,
			 const void *buf, size_t size)
{
	struct edu *edu = to_edu(pdev);

	if (bar != 0 || size > 8)
		return -EINVAL;
	pthread_mutex_lock(&edu->lock);
	if (edu_in_buf(offset, size))
		memcpy(edu->buf + (offset - EDU_BUF_START), buf, size);
	else if (edu_reg_size_ok(offset, size))
		edu_reg_write(edu, offset, size, le_load(buf, size));
	else
		uvfio_dev_log(edu_dev(edu), UVFIO_LOG_DEBUG,
			      "%zu-byte write at %#llx dropped (edu takes 4 bytes below 0x80, 4 or 8 above)",
			      size, (unsigned long long)offset);
	pthread_mutex_unlock(&edu->lock);
	return 0;
}

static int edu_reset(struct uvfio_pci_device *pdev)
{
	struct edu *edu = to_edu(pdev);

	pthread_mutex_lock(&edu->lock);
	edu->liveness = 0;
	edu->factorial = 0;
	edu->status = 0;
	edu->irq_status = 0;
	edu->dma_src = edu->dma_dst = edu->dma_count = edu->dma_cmd = 0;
	edu->dma_seq++;
	memset(edu->buf, 0, sizeof(edu->buf));
	edu->stopped = false; /* reset leaves any migration state: RUNNING */
	pthread_mutex_unlock(&edu->lock);
	return 0;
}

static int edu_event_fd(void *priv)
{
	struct edu *edu = priv;

	return edu->work_fd;
}

static int edu_handle_event(void *priv)
{
	struct edu *edu = priv;
	uint64_t n;

	if (read(edu->work_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return -errno;
	edu_dma_work(edu);
	return 0;
}

/* ---- migration ------------------------------------------------------------- */

/*
 * The device section of edu's stream (stream version 1). Every record is
 * required once; its value has the exact size.
 */
enum {
	EDU_MIG_LIVENESS = 1, EDU_MIG_FACTORIAL, EDU_MIG_STATUS, EDU_MIG_IRQ_STATUS,
	EDU_MIG_DMA_SRC, EDU_MIG_DMA_DST, EDU_MIG_DMA_COUNT, EDU_MIG_DMA_CMD,
	EDU_MIG_BUF, EDU_MIG_NR
};

struct edu_regs {
	uint32_t liveness, factorial, status, irq_status;
	uint64_t dma[4]; /* src, dst, count, cmd */
	uint8_t buf[EDU_BUF_SIZE];
};

static int edu_set_running(struct uvfio_pci_device *pdev, bool running)
{
	struct edu *edu = to_edu(pdev);
	bool kick;

	pthread_mutex_lock(&edu->lock);
	edu->stopped = !running;
	/* STOP means quiet: a transfer already running finishes first. */
	while (!running && edu->dma_busy)
		pthread_cond_wait(&edu->idle, &edu->lock);
	kick = running && (edu->dma_cmd & EDU_DMA_CMD_START);
	pthread_mutex_unlock(&edu->lock);
	if (kick) {
		uint64_t one = 1;

		/* A transfer held back (or migrated in) runs now. */
		if (write(edu->work_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
			uvfio_dev_log(edu_dev(edu), UVFIO_LOG_WARN, "DMA kick: %m");
	}
	return 0;
}

static int edu_save(struct uvfio_pci_device *pdev, struct uvfio_mig_writer *w)
{
	struct edu *edu = to_edu(pdev);

	pthread_mutex_lock(&edu->lock);
	uvfio_mig_put_u32(w, EDU_MIG_LIVENESS, edu->liveness);
	uvfio_mig_put_u32(w, EDU_MIG_FACTORIAL, edu->factorial);
	uvfio_mig_put_u32(w, EDU_MIG_STATUS, edu->status);
	uvfio_mig_put_u32(w, EDU_MIG_IRQ_STATUS, edu->irq_status);
	uvfio_mig_put_u64(w, EDU_MIG_DMA_SRC, edu->dma_src);
	uvfio_mig_put_u64(w, EDU_MIG_DMA_DST, edu->dma_dst);
	uvfio_mig_put_u64(w, EDU_MIG_DMA_COUNT, edu->dma_count);
	uvfio_mig_put_u64(w, EDU_MIG_DMA_CMD, edu->dma_cmd);
	uvfio_mig_put(w, EDU_MIG_BUF, edu->buf, sizeof(edu->buf));
	pthread_mutex_unlock(&edu->lock);
	return w->err;
}

static int edu_parse(struct uvfio_mig_reader *r, struct edu_regs *st)
{
	uint32_t seen = 0;
	const void *v;
	uint16_t tag;
	size_t n;
	int ret;

	while ((ret = uvfio_mig_next(r, &tag, &v, &n)) == 1) {
		if (tag == 0 || tag >= EDU_MIG_NR || (seen & (1u << tag)))
			return -EINVAL;
		seen |= 1u << tag;
		switch (tag) {
		case EDU_MIG_LIVENESS:
			ret = uvfio_mig_get_u32(v, n, &st->liveness);
			break;
		case EDU_MIG_FACTORIAL:
			ret = uvfio_mig_get_u32(v, n, &st->factorial);
			break;
		case EDU_MIG_STATUS:
			ret = uvfio_mig_get_u32(v, n, &st->status);
			/* only the IRQ-on-completion bit can be set at rest */
			if (!ret && (st->status & ~EDU_STATUS_IRQ_FACT))
				ret = -EINVAL;
			break;
		case EDU_MIG_IRQ_STATUS:
			ret = uvfio_mig_get_u32(v, n, &st->irq_status);
			break;
		case EDU_MIG_BUF:
			ret = uvfio_mig_get_bytes(v, n, st->buf, sizeof(st->buf));
			break;
		default: /* the four DMA registers, in order */
			ret = uvfio_mig_get_u64(v, n, &st->dma[tag - EDU_MIG_DMA_SRC]);
			break;
		}
		if (ret)
			return ret;
	}
	if (ret)
		return ret;
	if (seen != ((1u << EDU_MIG_NR) - 2))
		return -EINVAL; /* a record is missing */
	if (st->dma[3] & ~(uint64_t)(EDU_DMA_CMD_START | EDU_DMA_CMD_TO_RAM |
				     EDU_DMA_CMD_IRQ | EDU_DMA_CMD_ERROR))
		return -EINVAL;
	return 0;
}

static int edu_load(struct uvfio_pci_device *pdev, struct uvfio_mig_reader *r)
{
	struct edu *edu = to_edu(pdev);
	struct edu_regs *st;
	int ret;

	/* 4 KiB of buffer: off the stack of a server thread. */
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	ret = edu_parse(r, st);
	if (ret) {
		uvfio_dev_log(edu_dev(edu), UVFIO_LOG_ERR, "edu state in the stream is invalid");
		goto out;
	}
	pthread_mutex_lock(&edu->lock);
	edu->liveness = st->liveness;
	edu->factorial = st->factorial;
	edu->status = st->status;
	edu->irq_status = st->irq_status;
	edu->dma_src = st->dma[0];
	edu->dma_dst = st->dma[1];
	edu->dma_count = st->dma[2];
	edu->dma_cmd = st->dma[3];
	edu->dma_seq++; /* whatever ran here before is not this transfer */
	memcpy(edu->buf, st->buf, sizeof(edu->buf));
	pthread_mutex_unlock(&edu->lock);
out:
	free(st);
	return ret;
}

static const struct uvfio_pci_ops edu_pci_ops = {
	.reset = edu_reset,
	.bar_read = edu_bar_read,
	.bar_write = edu_bar_write,
	.mig_type = "edu",
	.mig_version = 1,
	.set_running = edu_set_running,
	.save = edu_save,
	.load = edu_load,
};

static const struct uvfio_pci_info edu_pci_info = {
	.vendor_id = 0x1234,
	.device_id = 0x11e8,
	.subsystem_vendor_id = 0x1af4, /* QEMU's default subsystem IDs */
	.subsystem_id = 0x1100,
	.class_code = 0x00ff00,
	.revision = 0x10,
	.interrupt_pin = 1,
	.bars[0] = { .size = EDU_BAR_SIZE },
	.msi = { .vectors = 1, .addr64 = true },
	.ops = &edu_pci_ops,
};

static void edu_destroy(void *priv)
{
	struct edu *edu = priv;

	if (!edu)
		return;
	uvfio_pci_destroy(edu->pdev);
	close(edu->work_fd);
	pthread_cond_destroy(&edu->idle);
	pthread_mutex_destroy(&edu->lock);
	free(edu);
}

static int edu_create(int argc, char **argv, struct uvfio_sample_dev *out)
{
	struct edu *edu;
	int ret;

	if (argc > 1) {
		uvfio_log(UVFIO_LOG_ERR, "edu", "no device options, got '%s'", argv[1]);
		return -EINVAL;
	}
	edu = calloc(1, sizeof(*edu));
	if (!edu)
		return -ENOMEM;
	ret = -pthread_mutex_init(&edu->lock, NULL);
	if (ret)
		goto err_free;
	ret = -pthread_cond_init(&edu->idle, NULL);
	if (ret) {
		pthread_mutex_destroy(&edu->lock);
		goto err_free;
	}
	edu->work_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (edu->work_fd < 0) {
		ret = -errno;
		goto err_lock;
	}
	edu->pdev = uvfio_pci_create("edu", &edu_pci_info, edu);
	if (!edu->pdev) {
		ret = -errno;
		goto err_fd;
	}
	out->dev = uvfio_pci_to_device(edu->pdev);
	out->priv = edu;
	return 0;

err_fd:
	close(edu->work_fd);
err_lock:
	pthread_cond_destroy(&edu->idle);
	pthread_mutex_destroy(&edu->lock);
err_free:
	free(edu);
	return ret;
}

const struct uvfio_sample uvfio_sample_edu = {
	.name = "edu",
	.summary = "QEMU's educational PCI device (1234:11e8): factorial, DMA, INTx/MSI",
	.options = NULL,
	.create = edu_create,
	.event_fd = edu_event_fd,
	.handle_event = edu_handle_event,
	.destroy = edu_destroy,
};
