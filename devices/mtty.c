/* SPDX-License-Identifier: MIT */
/*
 * mtty: the kernel's samples/vfio-mdev/mtty.c as an mdev parent of uvfio.
 *
 * Types mtty-1 ("Single port serial") and mtty-2 ("Dual port serial")
 * share a budget of MTTY_MAX_PORTS ports; available_instances is the ports
 * left divided by the type's ports, and a create that does not fit answers
 * -ENOSPC, as the sample's init does.
 *
 * An instance is a PCI device (include/uvfio/pci.h), vendor 0x4348 device
 * 0x3253, class 0x0700 (16550-compatible serial), with one 8-byte I/O BAR
 * per port holding a 16550A (devices/uart16550.c), INTx and one MSI vector.
 * Each port is bridged to a host pty: what the driver transmits can be read
 * from /dev/pts/N, and what is written there arrives in the receive FIFO.
 * The pty paths are the instance's info line ("pty /dev/pts/3 ...").
 *
 * Locks: the parent's lock is taken before an instance's (the parent
 * dispatches to us under its lock). A BAR handler may run without the
 * parent's lock, so it never calls into the parent while holding ours:
 * restarting the pty watch waits until ours is released.
 *
 * Migration (STOP_COPY, stream "mtty" v1): each port's 16550A state (FIFO
 * contents included) and interrupt lines; a stream with another port count
 * is refused. Like the kernel sample's, the ptys stay with their host.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <uvfio/log.h>
#include <uvfio/mdev.h>
#include <uvfio/pci.h>

#include "devices/mdev_samples.h"
#include "devices/mtty.h"
#include "devices/uart16550.h"

struct mtty_dev;

struct mtty_port {
	struct mtty_dev *d;
	struct uart16550 uart;
	int master, slave;	/* the pty; slave kept open so reads never see EIO */
	char pty[64];
	bool watching;		/* master is in the parent's loop */
	bool rewatch;		/* the FIFO has room again: watch after unlock */
	bool irq;		/* this port's interrupt line */
};

struct mtty_dev {
	struct uvfio_mdev_parent *parent;
	struct uvfio_pci_device *pdev;
	pthread_mutex_t lock;
	unsigned int nr_ports;
	bool irq;		/* the function's line: OR of the ports */
	bool stopped;		/* migration STOP: take nothing from the ptys */
	struct mtty_port port[2];
};

struct mtty_parent {
	pthread_mutex_t lock;
	unsigned int avail_ports;
};

/* ---- the uart's callbacks (instance lock held) ---------------------------- */

static void port_tx(void *opaque, uint8_t byte)
{
	struct mtty_port *pt = opaque;
	ssize_t n = write(pt->master, &byte, 1);

	/* A full pty drops the byte, as a line with nobody listening. */
	if (n != 1)
		uvfio_log(UVFIO_LOG_DEBUG, pt->pty, "tx byte dropped");
}

static void port_irq(void *opaque, bool level)
{
	struct mtty_port *pt = opaque;
	struct mtty_dev *d = pt->d;
	bool line = false;

	pt->irq = level;
	for (unsigned int i = 0; i < d->nr_ports; i++)
		line |= d->port[i].irq;
	if (line == d->irq)
		return;
	d->irq = line;
	if (line)
		uvfio_pci_raise_irq(d->pdev, 0);
	else
		uvfio_pci_lower_irq(d->pdev);
}

static void port_rx_room(void *opaque)
{
	struct mtty_port *pt = opaque;

	if (!pt->watching)
		pt->rewatch = true;
}

/* ---- host side of the pty ------------------------------------------------- */

static void port_readable(void *opaque);

/*
 * Instance lock NOT held: this takes the parent's. `watching` is set before
 * the fd enters the loop, under the instance lock: once it is in, the loop
 * may fill the FIFO and drop the watch at once, and a flag set afterwards
 * would claim a watch that no longer exists (and no read of RBR would
 * restart it).
 */
static void port_watch(struct mtty_port *pt)
{
	struct mtty_dev *d = pt->d;

	pthread_mutex_lock(&d->lock);
	if (pt->watching) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	pt->watching = true;
	pthread_mutex_unlock(&d->lock);
	if (uvfio_mdev_watch_fd(d->parent, pt->master, port_readable, pt)) {
		pthread_mutex_lock(&d->lock);
		pt->watching = false;
		pthread_mutex_unlock(&d->lock);
	}
}

/* The parent's loop, parent lock held: move bytes from the pty to the
 * FIFO. With the FIFO full, stop watching (the level-triggered loop would
 * spin) until the driver reads RBR. */
static void port_readable(void *opaque)
{
	struct mtty_port *pt = opaque;
	struct mtty_dev *d = pt->d;
	uint8_t buf[UART_FIFO_SIZE];
	size_t room;
	ssize_t n;

	pthread_mutex_lock(&d->lock);
	room = uart16550_rx_room(&pt->uart);
	/* Stopped: the state is being saved; bytes wait in the pty. */
	if (!room || d->stopped) {
		uvfio_mdev_unwatch_fd(d->parent, pt->master);
		pt->watching = false;
	} else {
		n = read(pt->master, buf, room);
		if (n > 0)
			uart16550_rx(&pt->uart, buf, (size_t)n);
	}
	pthread_mutex_unlock(&d->lock);
}

static int port_open_pty(struct mtty_port *pt)
{
	struct termios tio;
	const char *name;
	int ret;

	pt->master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (pt->master < 0)
		return -errno;
	if (grantpt(pt->master) < 0 || unlockpt(pt->master) < 0 ||
	    !(name = ptsname(pt->master))) {
		ret = -errno;
		goto err_master;
	}
	snprintf(pt->pty, sizeof(pt->pty), "%s", name);
	pt->slave = open(pt->pty, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (pt->slave < 0) {
		ret = -errno;
		goto err_master;
	}
	/* Raw: bytes pass unchanged both ways, no echo. */
	if (tcgetattr(pt->slave, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(pt->slave, TCSANOW, &tio);
	}
	return 0;

err_master:
	close(pt->master);
	pt->master = -1;
	return ret;
}

static void port_close_pty(struct mtty_port *pt)
{
	if (pt->watching)
		uvfio_mdev_unwatch_fd(pt->d->parent, pt->master);
	pt->watching = false;
	if (pt->slave >= 0)
		close(pt->slave);
	if (pt->master >= 0)
		close(pt->master);
	pt->slave = pt->master = -1;
}

/* ---- PCI side ------------------------------------------------------------ */

/* Restart the watches the handler asked for; instance lock not held. */
static void rewatch_ports(struct mtty_dev *d)
{
	for (unsigned int i = 0; i < d->nr_ports; i++) {
		struct mtty_port *pt = &d->port[i];
		bool want;

		pthread_mutex_lock(&d->lock);
		want = pt->rewatch;
		pt->rewatch = false;
		pthread_mutex_unlock(&d->lock);
		if (want)
			port_watch(pt);
	}
}

static int mtty_bar_read(struct uvfio_pci_device *pdev, int bar, uint64_t offset,
			 void *buf, size_t size)
{
	struct mtty_dev *d = uvfio_pci_priv(pdev);
	uint8_t *p = buf;

	if (bar < 0 || (unsigned int)bar >= d->nr_ports)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < size; i++)
		p[i] = uart16550_read(&d->port[bar].uart, (unsigned int)(offset + i));
	pthread_mutex_unlock(&d->lock);
	rewatch_ports(d);
	return 0;
}

static int mtty_bar_write(struct uvfio_pci_device *pdev, int bar, uint64_t offset,
			  const void *buf, size_t size)
{
	struct mtty_dev *d = uvfio_pci_priv(pdev);
	const uint8_t *p = buf;

	if (bar < 0 || (unsigned int)bar >= d->nr_ports)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < size; i++)
		uart16550_write(&d->port[bar].uart, (unsigned int)(offset + i), p[i]);
	pthread_mutex_unlock(&d->lock);
	rewatch_ports(d);
	return 0;
}

static int mtty_reset(struct uvfio_pci_device *pdev)
{
	struct mtty_dev *d = uvfio_pci_priv(pdev);

	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < d->nr_ports; i++) {
		uart16550_reset(&d->port[i].uart);
		d->port[i].rewatch = true;
	}
	d->stopped = false; /* reset leaves migration states: RUNNING */
	pthread_mutex_unlock(&d->lock);
	rewatch_ports(d);
	return 0;
}

/* ---- migration ---------------------------------------------------------------- */

/*
 * The device section of mtty's stream (version 1): PORTS (u32, must match
 * this instance's count), then one PORT record per port: the UART image
 * and the port's line; LINE: the function's line. The pty is not state:
 * it belongs to this host (bytes in flight in it stay here).
 */
enum { MTTY_MIG_PORTS = 1, MTTY_MIG_PORT0, MTTY_MIG_PORT1, MTTY_MIG_LINE, MTTY_MIG_NR };
#define PORT_IMG (UART16550_STATE_SIZE + 1u)

static int mtty_save(struct uvfio_pci_device *pdev, struct uvfio_mig_writer *w)
{
	struct mtty_dev *d = uvfio_pci_priv(pdev);
	uint8_t img[PORT_IMG];

	pthread_mutex_lock(&d->lock);
	uvfio_mig_put_u32(w, MTTY_MIG_PORTS, d->nr_ports);
	for (unsigned int i = 0; i < d->nr_ports; i++) {
		uart16550_save(&d->port[i].uart, img);
		img[UART16550_STATE_SIZE] = d->port[i].irq;
		uvfio_mig_put(w, (uint16_t)(MTTY_MIG_PORT0 + i), img, sizeof(img));
	}
	uvfio_mig_put_u8(w, MTTY_MIG_LINE, d->irq);
	pthread_mutex_unlock(&d->lock);
	return w->err;
}

static int mtty_load(struct uvfio_pci_device *pdev, struct uvfio_mig_reader *r)
{
	struct mtty_dev *d = uvfio_pci_priv(pdev);
	uint8_t img[2][PORT_IMG];
	struct uart16550 u[2];
	uint32_t ports = 0, seen = 0;
	uint8_t line = 0;
	const void *v;
	uint16_t tag;
	size_t n;
	int ret;

	while ((ret = uvfio_mig_next(r, &tag, &v, &n)) == 1) {
		if (!tag || tag >= MTTY_MIG_NR || (seen & (1u << tag)))
			return -EINVAL;
		seen |= 1u << tag;
		if (tag == MTTY_MIG_PORTS)
			ret = uvfio_mig_get_u32(v, n, &ports);
		else if (tag == MTTY_MIG_LINE)
			ret = uvfio_mig_get_u8(v, n, &line);
		else
			ret = uvfio_mig_get_bytes(v, n, img[tag - MTTY_MIG_PORT0], PORT_IMG);
		if (ret)
			return ret;
	}
	if (ret)
		return ret;
	if (ports != d->nr_ports) {
		uvfio_dev_log(uvfio_pci_to_device(pdev), UVFIO_LOG_ERR,
			      "migration stream has %u port(s), this mtty %u", ports, d->nr_ports);
		return -EINVAL;
	}
	if (!(seen & (1u << MTTY_MIG_PORTS)) || !(seen & (1u << MTTY_MIG_LINE)) || line > 1 ||
	    (seen & (1u << MTTY_MIG_PORT1)) != (ports == 2 ? 1u << MTTY_MIG_PORT1 : 0) ||
	    !(seen & (1u << MTTY_MIG_PORT0)))
		return -EINVAL;
	/* Check every port image before changing any port. */
	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < ports; i++) {
		u[i] = d->port[i].uart;
		if (uart16550_load(&u[i], img[i]) || img[i][UART16550_STATE_SIZE] > 1) {
			pthread_mutex_unlock(&d->lock);
			return -EINVAL;
		}
	}
	for (unsigned int i = 0; i < ports; i++) {
		d->port[i].uart = u[i];
		d->port[i].irq = img[i][UART16550_STATE_SIZE];
		d->port[i].rewatch = true; /* the FIFO may have room now */
	}
	d->irq = line;
	pthread_mutex_unlock(&d->lock);
	rewatch_ports(d);
	return 0;
}

static int mtty_set_running(struct uvfio_pci_device *pdev, bool running)
{
	struct mtty_dev *d = uvfio_pci_priv(pdev);

	pthread_mutex_lock(&d->lock);
	d->stopped = !running;
	for (unsigned int i = 0; running && i < d->nr_ports; i++)
		d->port[i].rewatch = true;
	pthread_mutex_unlock(&d->lock);
	if (running)
		rewatch_ports(d);
	return 0;
}

static const struct uvfio_pci_ops mtty_pci_ops = {
	.reset = mtty_reset,
	.bar_read = mtty_bar_read,
	.bar_write = mtty_bar_write,
	.mig_type = "mtty",
	.mig_version = 1,
	.set_running = mtty_set_running,
	.save = mtty_save,
	.load = mtty_load,
};

static void mtty_dev_free(struct mtty_dev *d)
{
	for (unsigned int i = 0; i < d->nr_ports; i++)
		port_close_pty(&d->port[i]);
	uvfio_pci_destroy(d->pdev);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static struct mtty_dev *mtty_dev_new(struct uvfio_mdev_parent *parent, const char *name,
				     unsigned int nr_ports, int *err)
{
	struct uvfio_pci_info info = {
		.vendor_id = MTTY_VENDOR,
		.device_id = MTTY_DEVICE,
		.subsystem_vendor_id = MTTY_VENDOR,
		.subsystem_id = MTTY_DEVICE,
		.class_code = 0x070002, /* serial controller, 16550 compatible */
		.revision = 0x10,
		.interrupt_pin = 1,
		.msi = { .vectors = 1 },
		.ops = &mtty_pci_ops,
	};
	struct mtty_dev *d = calloc(1, sizeof(*d));

	*err = -ENOMEM;
	if (!d)
		return NULL;
	d->parent = parent;
	d->nr_ports = nr_ports;
	for (unsigned int i = 0; i < 2; i++) {
		d->port[i].d = d;
		d->port[i].master = d->port[i].slave = -1;
	}
	*err = -pthread_mutex_init(&d->lock, NULL);
	if (*err) {
		free(d);
		return NULL;
	}
	for (unsigned int i = 0; i < nr_ports; i++) {
		struct mtty_port *pt = &d->port[i];

		info.bars[i].size = MTTY_BAR_SIZE;
		info.bars[i].flags = UVFIO_PCI_BAR_IO;
		pt->uart.tx = port_tx;
		pt->uart.irq = port_irq;
		pt->uart.rx_room = port_rx_room;
		pt->uart.opaque = pt;
		uart16550_reset(&pt->uart);
		*err = port_open_pty(pt);
		if (*err)
			goto err;
	}
	d->pdev = uvfio_pci_create(name, &info, d);
	if (!d->pdev) {
		*err = -errno;
		goto err;
	}
	return d;
err:
	mtty_dev_free(d);
	return NULL;
}

/* ---- the parent ------------------------------------------------------------ */

static unsigned int type_ports(unsigned int type)
{
	return type + 1; /* mtty-1, mtty-2 */
}

static unsigned int mtty_get_available(struct uvfio_mdev_parent *p, unsigned int type)
{
	struct mtty_parent *mp = uvfio_mdev_parent_priv(p);
	unsigned int n;

	pthread_mutex_lock(&mp->lock);
	n = mp->avail_ports / type_ports(type);
	pthread_mutex_unlock(&mp->lock);
	return n;
}

static int mtty_create(struct uvfio_mdev_parent *p, struct uvfio_mdev_instance *inst,
		       struct uvfio_device **dev, char *info, size_t info_len)
{
	struct mtty_parent *mp = uvfio_mdev_parent_priv(p);
	unsigned int nr = type_ports(inst->type);
	struct mtty_dev *d;
	int ret;

	pthread_mutex_lock(&mp->lock);
	if (mp->avail_ports < nr) {
		pthread_mutex_unlock(&mp->lock);
		return -ENOSPC;
	}
	mp->avail_ports -= nr;
	pthread_mutex_unlock(&mp->lock);

	d = mtty_dev_new(p, inst->uuid, nr, &ret);
	if (!d)
		goto err_ports;
	for (unsigned int i = 0; i < nr; i++)
		port_watch(&d->port[i]);
	snprintf(info, info_len, "pty %s%s%s", d->port[0].pty, nr > 1 ? " " : "",
		 nr > 1 ? d->port[1].pty : "");
	inst->priv = d;
	*dev = uvfio_pci_to_device(d->pdev);
	return 0;

err_ports:
	pthread_mutex_lock(&mp->lock);
	mp->avail_ports += nr;
	pthread_mutex_unlock(&mp->lock);
	return ret;
}

static void mtty_remove(struct uvfio_mdev_parent *p, struct uvfio_mdev_instance *inst)
{
	struct mtty_parent *mp = uvfio_mdev_parent_priv(p);
	struct mtty_dev *d = inst->priv;

	if (!d)
		return;
	pthread_mutex_lock(&mp->lock);
	mp->avail_ports += d->nr_ports;
	pthread_mutex_unlock(&mp->lock);
	mtty_dev_free(d);
	inst->priv = NULL;
}

static const struct uvfio_mdev_parent_ops mtty_ops = {
	.create = mtty_create,
	.remove = mtty_remove,
	.get_available = mtty_get_available,
};

static const struct uvfio_mdev_parent_info mtty_info = {
	.name = "mtty",
	.num_types = 2,
	.types = {
		{ .sysfs_name = "1", .name = "Single port serial",
		  .description = "mtty: one 16550A port bridged to a host pty",
		  .device_api = "vfio-pci" },
		{ .sysfs_name = "2", .name = "Dual port serial",
		  .description = "mtty: two 16550A ports bridged to host ptys",
		  .device_api = "vfio-pci" },
	},
	.ops = &mtty_ops,
};

static int mtty_parent_create(const char *dir, struct uvfio_mdev_parent **out)
{
	struct mtty_parent *mp = calloc(1, sizeof(*mp));
	int ret;

	if (!mp)
		return -ENOMEM;
	ret = -pthread_mutex_init(&mp->lock, NULL);
	if (ret)
		goto err_free;
	mp->avail_ports = MTTY_MAX_PORTS;
	ret = uvfio_mdev_parent_create(&mtty_info, dir, mp, out);
	if (ret)
		goto err_lock;
	return 0;

err_lock:
	pthread_mutex_destroy(&mp->lock);
err_free:
	free(mp);
	return ret;
}

static void mtty_parent_destroy(struct uvfio_mdev_parent *p)
{
	struct mtty_parent *mp = uvfio_mdev_parent_priv(p);

	uvfio_mdev_parent_destroy(p);
	if (mp) {
		pthread_mutex_destroy(&mp->lock);
		free(mp);
	}
}

const struct uvfio_mdev_sample uvfio_mdev_sample_mtty = {
	.name = "mtty",
	.summary = "virtual 16550A serial ports bridged to host ptys (types mtty-1, mtty-2)",
	.create = mtty_parent_create,
	.destroy = mtty_parent_destroy,
};
