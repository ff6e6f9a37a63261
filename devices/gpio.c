/* SPDX-License-Identifier: MIT */
/*
 * A GPIO card register-compatible with the ACCES PCI-IDIO-16 (494f:0dc8):
 * 16 isolated inputs, 16 FET outputs, change-of-state interrupts on INTx
 * pin A. Linux's gpio-pci-idio-16 driver binds to it.
 *
 * I/O BAR2, 256 bytes, one byte per register (the map Linux's gpio-idio-16
 * library and the older gpio-pci-idio-16 use):
 *   +0  read: outputs 0-7          write: outputs 0-7
 *   +1  read: inputs 0-7           write: clear interrupt
 *   +2  read: enable IRQ           write: disable IRQ
 *   +3  read: activate filters     write: deactivate filters
 *   +4  read: outputs 8-15         write: outputs 8-15
 *   +5  read: inputs 8-15          write: ignored
 *   +6  read: interrupt status     write: ignored
 *   other offsets read 0xff, writes are ignored.
 * Reads of +2 and +3 return 0 (their effect is the point). Wider accesses
 * are taken one byte at a time, in address order.
 *
 * Change of state: while IRQs are enabled, any change of an input latches
 * the interrupt status and asserts INTx. Status bits: 2 = an interrupt is
 * latched, 0 = inputs 0-7 changed, 1 = inputs 8-15 changed. (The regmap
 * driver tests bit 2; the older driver wants bit 2 and one of bits 0-1.)
 * Clearing the interrupt empties the status and lowers INTx. Disabling IRQs
 * lowers INTx but keeps the latch; enabling them with a latch pending
 * asserts INTx again. Changes while disabled are not latched.
 *
 * The host sets the inputs and reads the outputs over the control socket
 * (--control PATH; protocol in gpio_control.h).
 *
 * Migration (STOP_COPY, stream "gpio" v1): inputs, outputs, IRQ enable,
 * filters and the latched status; the INTx line comes with config space.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uvfio/device.h>
#include <uvfio/log.h>
#include <uvfio/pci.h>

#include "devices/gpio_control.h"
#include "devices/samples.h"

#define GPIO_BAR		2
#define GPIO_BAR_SIZE		256

#define GPIO_REG_OUT_LO		0x0
#define GPIO_REG_IN_LO		0x1 /* write: clear interrupt */
#define GPIO_REG_IRQ_CTL	0x2 /* read: enable, write: disable */
#define GPIO_REG_FILTER_CTL	0x3 /* read: activate, write: deactivate */
#define GPIO_REG_OUT_HI		0x4
#define GPIO_REG_IN_HI		0x5
#define GPIO_REG_IRQ_STATUS	0x6

#define GPIO_IRQ_STATUS_LO	0x01u /* inputs 0-7 changed */
#define GPIO_IRQ_STATUS_HI	0x02u /* inputs 8-15 changed */
#define GPIO_IRQ_STATUS_PENDING	0x04u

struct gpio {
	struct uvfio_pci_device *pdev;
	struct gpio_control *ctl;
	/* Guards the state below: the control socket and the BAR handlers may
	 * run on different threads. */
	pthread_mutex_t lock;
	uint16_t inputs;
	uint16_t outputs;
	bool irq_enabled;
	bool filters;
	uint8_t irq_status;
};

static struct gpio *to_gpio(struct uvfio_pci_device *pdev)
{
	return uvfio_pci_priv(pdev);
}

/* The line follows (latched && enabled). Called with gpio->lock held. */
static void gpio_update_irq(struct gpio *g)
{
	if (g->irq_enabled && (g->irq_status & GPIO_IRQ_STATUS_PENDING))
		uvfio_pci_raise_irq(g->pdev, 0);
	else
		uvfio_pci_lower_irq(g->pdev);
}

static uint8_t gpio_read_byte(struct gpio *g, uint64_t reg)
{
	switch (reg) {
	case GPIO_REG_OUT_LO:
		return (uint8_t)g->outputs;
	case GPIO_REG_OUT_HI:
		return (uint8_t)(g->outputs >> 8);
	case GPIO_REG_IN_LO:
		return (uint8_t)g->inputs;
	case GPIO_REG_IN_HI:
		return (uint8_t)(g->inputs >> 8);
	case GPIO_REG_IRQ_CTL:
		g->irq_enabled = true;
		gpio_update_irq(g);
		return 0;
	case GPIO_REG_FILTER_CTL:
		g->filters = true;
		return 0;
	case GPIO_REG_IRQ_STATUS:
		return g->irq_status;
	default:
		return 0xff;
	}
}

static void gpio_write_byte(struct gpio *g, uint64_t reg, uint8_t v)
{
	switch (reg) {
	case GPIO_REG_OUT_LO:
		g->outputs = (uint16_t)((g->outputs & 0xff00) | v);
		break;
	case GPIO_REG_OUT_HI:
		g->outputs = (uint16_t)((g->outputs & 0x00ff) | (v << 8));
		break;
	case GPIO_REG_IN_LO:
		g->irq_status = 0;
		gpio_update_irq(g);
		break;
	case GPIO_REG_IRQ_CTL:
		g->irq_enabled = false;
		gpio_update_irq(g);
		break;
	case GPIO_REG_FILTER_CTL:
		g->filters = false;
		break;
	default:
		break;
	}
}

static int gpio_bar_read(struct uvfio_pci_device *pdev, int bar, uint64_t offset,
			 void *buf, size_t size)
{
	struct gpio *g = to_gpio(pdev);
	uint8_t *p = buf;

	if (bar != GPIO_BAR || offset >= GPIO_BAR_SIZE || size > GPIO_BAR_SIZE - offset)
		return -EINVAL;
	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < size; i++)
		p[i] = gpio_read_byte(g, offset + i);
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static int gpio_bar_write(struct uvfio_pci_device *pdev, int bar, uint64_t offset,
			  const void *buf, size_t size)
{
	struct gpio *g = to_gpio(pdev);
	const uint8_t *p = buf;

	if (bar != GPIO_BAR || offset >= GPIO_BAR_SIZE || size > GPIO_BAR_SIZE - offset)
		return -EINVAL;
	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < size; i++)
		gpio_write_byte(g, offset + i, p[i]);
	pthread_mutex_unlock(&g->lock);
	return 0;
}

/* Outputs and IRQ state go back to power-on; the inputs are the outside
 * world's and stay as they are. */
static int gpio_reset(struct uvfio_pci_device *pdev)
{
	struct gpio *g = to_gpio(pdev);

	pthread_mutex_lock(&g->lock);
	g->outputs = 0;
	g->irq_enabled = false;
	g->filters = false;
	g->irq_status = 0;
	gpio_update_irq(g);
	pthread_mutex_unlock(&g->lock);
	return 0;
}

/* ---- the host side: control socket ops ------------------------------- */

static uint16_t gpio_get_inputs(void *opaque)
{
	struct gpio *g = opaque;
	uint16_t v;

	pthread_mutex_lock(&g->lock);
	v = g->inputs;
	pthread_mutex_unlock(&g->lock);
	return v;
}

static uint16_t gpio_get_outputs(void *opaque)
{
	struct gpio *g = opaque;
	uint16_t v;

	pthread_mutex_lock(&g->lock);
	v = g->outputs;
	pthread_mutex_unlock(&g->lock);
	return v;
}

static void gpio_set_inputs(void *opaque, uint16_t inputs)
{
	struct gpio *g = opaque;
	uint16_t changed;

	pthread_mutex_lock(&g->lock);
	changed = g->inputs ^ inputs;
	g->inputs = inputs;
	if (changed && g->irq_enabled) {
		g->irq_status |= GPIO_IRQ_STATUS_PENDING;
		if (changed & 0x00ff)
			g->irq_status |= GPIO_IRQ_STATUS_LO;
		if (changed & 0xff00)
			g->irq_status |= GPIO_IRQ_STATUS_HI;
		gpio_update_irq(g);
	}
	pthread_mutex_unlock(&g->lock);
	uvfio_dev_log(uvfio_pci_to_device(g->pdev), UVFIO_LOG_DEBUG,
		      "inputs 0x%04x (changed 0x%04x)", inputs, changed);
}

static const struct gpio_control_ops gpio_control_ops = {
	.get_inputs = gpio_get_inputs,
	.set_inputs = gpio_set_inputs,
	.get_outputs = gpio_get_outputs,
};

/* ---- the sample ------------------------------------------------------- */

/* ---- migration ---------------------------------------------------------------- */

/* The device section of gpio's stream (version 1): each record once, all required. */
enum { GPIO_MIG_INPUTS = 1, GPIO_MIG_OUTPUTS, GPIO_MIG_IRQ_ENABLED, GPIO_MIG_FILTERS,
       GPIO_MIG_IRQ_STATUS, GPIO_MIG_NR };

static int gpio_save(struct uvfio_pci_device *pdev, struct uvfio_mig_writer *w)
{
	struct gpio *g = to_gpio(pdev);

	pthread_mutex_lock(&g->lock);
	uvfio_mig_put_u32(w, GPIO_MIG_INPUTS, g->inputs);
	uvfio_mig_put_u32(w, GPIO_MIG_OUTPUTS, g->outputs);
	uvfio_mig_put_u8(w, GPIO_MIG_IRQ_ENABLED, g->irq_enabled);
	uvfio_mig_put_u8(w, GPIO_MIG_FILTERS, g->filters);
	uvfio_mig_put_u8(w, GPIO_MIG_IRQ_STATUS, g->irq_status);
	pthread_mutex_unlock(&g->lock);
	return w->err;
}

static int gpio_load(struct uvfio_pci_device *pdev, struct uvfio_mig_reader *r)
{
	struct gpio *g = to_gpio(pdev);
	uint32_t in = 0, out = 0, seen = 0;
	uint8_t en = 0, filt = 0, st = 0;
	const void *v;
	uint16_t tag;
	size_t n;
	int ret;

	while ((ret = uvfio_mig_next(r, &tag, &v, &n)) == 1) {
		if (!tag || tag >= GPIO_MIG_NR || (seen & (1u << tag)))
			return -EINVAL;
		seen |= 1u << tag;
		switch (tag) {
		case GPIO_MIG_INPUTS:
			ret = uvfio_mig_get_u32(v, n, &in);
			break;
		case GPIO_MIG_OUTPUTS:
			ret = uvfio_mig_get_u32(v, n, &out);
			break;
		case GPIO_MIG_IRQ_ENABLED:
			ret = uvfio_mig_get_u8(v, n, &en);
			break;
		case GPIO_MIG_FILTERS:
			ret = uvfio_mig_get_u8(v, n, &filt);
			break;
		default:
			ret = uvfio_mig_get_u8(v, n, &st);
			break;
		}
		if (ret)
			return ret;
	}
	if (ret)
		return ret;
	if (seen != (1u << GPIO_MIG_NR) - 2 || in > 0xffff || out > 0xffff || en > 1 ||
	    filt > 1 || (st & ~(GPIO_IRQ_STATUS_LO | GPIO_IRQ_STATUS_HI | GPIO_IRQ_STATUS_PENDING)))
		return -EINVAL;
	pthread_mutex_lock(&g->lock);
	g->inputs = (uint16_t)in;
	g->outputs = (uint16_t)out;
	g->irq_enabled = en;
	g->filters = filt;
	g->irq_status = st;
	pthread_mutex_unlock(&g->lock);
	/* The INTx line itself comes with the PCI section (STATUS.INTERRUPT). */
	return 0;
}

static const struct uvfio_pci_ops gpio_pci_ops = {
	.reset = gpio_reset,
	.bar_read = gpio_bar_read,
	.bar_write = gpio_bar_write,
	.mig_type = "gpio",
	.mig_version = 1,
	.save = gpio_save,
	.load = gpio_load,
};

static const struct uvfio_pci_info gpio_pci_info = {
	.vendor_id = 0x494f,
	.device_id = 0x0dc8,
	.subsystem_vendor_id = 0x494f,
	.subsystem_id = 0x0dc8,
	.class_code = 0x118000, /* data acquisition, other; the driver matches IDs only */
	.revision = 0x00,
	.interrupt_pin = 1,
	.bars[GPIO_BAR] = { .size = GPIO_BAR_SIZE, .flags = UVFIO_PCI_BAR_IO },
	.ops = &gpio_pci_ops,
};

static int gpio_event_fd(void *priv)
{
	struct gpio *g = priv;

	return g->ctl ? gpio_control_fd(g->ctl) : -1;
}

static int gpio_handle_event(void *priv)
{
	struct gpio *g = priv;

	return g->ctl ? gpio_control_handle(g->ctl) : 0;
}

static void gpio_destroy(void *priv)
{
	struct gpio *g = priv;

	if (!g)
		return;
	gpio_control_close(g->ctl);
	uvfio_pci_destroy(g->pdev);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* --control PATH or --control=PATH; nothing else. */
static int gpio_parse(int argc, char **argv, const char **control)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--control") && i + 1 < argc) {
			*control = argv[++i];
		} else if (!strncmp(argv[i], "--control=", 10)) {
			*control = argv[i] + 10;
		} else {
			uvfio_log(UVFIO_LOG_ERR, "gpio", "bad option '%s' (want --control PATH)",
				  argv[i]);
			return -EINVAL;
		}
	}
	if (*control && !**control) {
		uvfio_log(UVFIO_LOG_ERR, "gpio", "empty --control path");
		return -EINVAL;
	}
	return 0;
}

static int gpio_create(int argc, char **argv, struct uvfio_sample_dev *out)
{
	const char *control = NULL;
	struct gpio *g;
	int ret;

	ret = gpio_parse(argc, argv, &control);
	if (ret)
		return ret;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	ret = -pthread_mutex_init(&g->lock, NULL);
	if (ret)
		goto err_free;
	g->pdev = uvfio_pci_create("gpio", &gpio_pci_info, g);
	if (!g->pdev) {
		ret = -errno;
		goto err_lock;
	}
	if (control) {
		ret = gpio_control_open(control, uvfio_pci_to_device(g->pdev),
					&gpio_control_ops, g, &g->ctl);
		if (ret) {
			uvfio_log(UVFIO_LOG_ERR, "gpio", "control socket %s: %s%s", control,
				  strerror(-ret),
				  ret == -EADDRINUSE ? " (the path exists)" : "");
			/* Not a usage error: keep -EINVAL for bad options only. */
			if (ret == -EINVAL)
				ret = -EIO;
			goto err_pdev;
		}
	}
	out->dev = uvfio_pci_to_device(g->pdev);
	out->priv = g;
	return 0;

err_pdev:
	uvfio_pci_destroy(g->pdev);
err_lock:
	pthread_mutex_destroy(&g->lock);
err_free:
	free(g);
	return ret;
}

const struct uvfio_sample uvfio_sample_gpio = {
	.name = "gpio",
	.summary = "ACCES PCI-IDIO-16 compatible card (494f:0dc8): 16 inputs, 16 outputs, IRQ",
	.options =
		"  --control PATH  UNIX socket for the host side, one request per line:\n"
		"                    inputs         -> 0xABCD  current inputs\n"
		"                    inputs VALUE   -> ok      set inputs (IRQ on change)\n"
		"                    outputs        -> 0x1234  outputs the guest wrote\n"
		"                    help           -> the commands\n"
		"                  errors reply 'error: ...'; e.g.\n"
		"                    echo 'inputs 0x5' | socat - UNIX-CONNECT:PATH\n",
	.create = gpio_create,
	.event_fd = gpio_event_fd,
	.handle_event = gpio_handle_event,
	.destroy = gpio_destroy,
};
