/* SPDX-License-Identifier: MIT */
/*
 * The 16550A register model (see uart16550.h). Interrupt sources in the
 * data sheet's priority order: receiver line status (overrun), received
 * data, THR empty, modem status. The line level is recomputed after every
 * access and reported to irq() only when it changes.
 */
#include <errno.h>
#include <string.h>

#include "devices/uart16550.h"

static unsigned int fifo_depth(const struct uart16550 *u)
{
	return (u->fcr & UART_FCR_ENABLE) ? UART_FIFO_SIZE : 1;
}

size_t uart16550_rx_room(const struct uart16550 *u)
{
	unsigned int depth = fifo_depth(u);

	return u->rx_count < depth ? depth - u->rx_count : 0;
}

/* The highest-priority pending source as IIR bits 0-3. */
static uint8_t iir_source(const struct uart16550 *u)
{
	if ((u->ier & UART_IER_RLSI) && (u->lsr & UART_LSR_OE))
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && u->rx_count)
		return UART_IIR_RDI;
	if ((u->ier & UART_IER_THRI) && u->thr_int)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_MSI) && (u->msr & 0x0f))
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

static void update_irq(struct uart16550 *u)
{
	bool level = iir_source(u) != UART_IIR_NO_INT;

	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->irq)
			u->irq(u->opaque, level);
	}
}

/* Modem status inputs: in loopback they are the MCR outputs; on the pty
 * the line is always up (CTS, DSR, DCD). Delta bits record changes. */
static void update_msr(struct uart16550 *u)
{
	uint8_t in;

	if (u->mcr & UART_MCR_LOOP)
		in = (uint8_t)(((u->mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
			       ((u->mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
			       ((u->mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
			       ((u->mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0));
	else
		in = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	if ((in ^ u->msr) & UART_MSR_CTS)
		u->msr |= UART_MSR_DCTS;
	if ((in ^ u->msr) & UART_MSR_DSR)
		u->msr |= UART_MSR_DDSR;
	if ((u->msr & UART_MSR_RI) && !(in & UART_MSR_RI))
		u->msr |= UART_MSR_TERI; /* trailing edge of RI */
	if ((in ^ u->msr) & UART_MSR_DCD)
		u->msr |= UART_MSR_DDCD;
	u->msr = (uint8_t)((u->msr & 0x0f) | in);
}

void uart16550_reset(struct uart16550 *u)
{
	u->ier = u->fcr = u->lcr = u->mcr = u->scr = 0;
	u->dll = 0x0c; /* 9600 baud from 1.8432 MHz, a common BIOS setting */
	u->dlm = 0;
	u->lsr = UART_LSR_THRE | UART_LSR_TEMT;
	u->msr = 0;
	u->rx_head = u->rx_count = 0;
	u->thr_int = false;
	update_msr(u);
	u->msr &= 0xf0; /* no deltas at power-on */
	update_irq(u);
}

static void rx_push(struct uart16550 *u, uint8_t b)
{
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = b;
	u->rx_count++;
	u->lsr |= UART_LSR_DR;
}

size_t uart16550_rx(struct uart16550 *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	while (n < len && uart16550_rx_room(u)) {
		rx_push(u, buf[n]);
		n++;
	}
	update_irq(u);
	return n;
}

static void transmit(struct uart16550 *u, uint8_t b)
{
	if (u->mcr & UART_MCR_LOOP) {
		if (uart16550_rx_room(u))
			rx_push(u, b);
		else
			u->lsr |= UART_LSR_OE;
	} else if (u->tx) {
		u->tx(u->opaque, b);
	}
	/* Sent at once: THR and the shift register are empty again. */
	u->lsr |= UART_LSR_THRE | UART_LSR_TEMT;
	u->thr_int = true;
}

uint8_t uart16550_read(struct uart16550 *u, unsigned int off)
{
	uint8_t v = 0xff;
	bool had_room;

	switch (off) {
	case UART_RBR:
		if (u->lcr & UART_LCR_DLAB) {
			v = u->dll;
			break;
		}
		v = 0;
		had_room = uart16550_rx_room(u) > 0;
		if (u->rx_count) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
			u->rx_count--;
		}
		if (!u->rx_count)
			u->lsr &= (uint8_t)~UART_LSR_DR;
		if (!had_room && u->rx_room)
			u->rx_room(u->opaque);
		break;
	case UART_IER:
		v = (u->lcr & UART_LCR_DLAB) ? u->dlm : u->ier;
		break;
	case UART_IIR:
		v = iir_source(u);
		if (u->fcr & UART_FCR_ENABLE)
			v |= UART_IIR_FIFO;
		/* Reading IIR acknowledges a THR-empty interrupt it reports. */
		if ((v & 0x0f) == UART_IIR_THRI)
			u->thr_int = false;
		break;
	case UART_LCR:
		v = u->lcr;
		break;
	case UART_MCR:
		v = u->mcr;
		break;
	case UART_LSR:
		v = u->lsr;
		u->lsr &= (uint8_t)~UART_LSR_OE; /* error bits clear on read */
		break;
	case UART_MSR:
		v = u->msr;
		u->msr &= 0xf0; /* deltas clear on read */
		break;
	case UART_SCR:
		v = u->scr;
		break;
	}
	update_irq(u);
	return v;
}

void uart16550_write(struct uart16550 *u, unsigned int off, uint8_t val)
{
	bool had_room;

	switch (off) {
	case UART_THR:
		if (u->lcr & UART_LCR_DLAB) {
			u->dll = val;
			break;
		}
		u->thr_int = false;
		transmit(u, val);
		break;
	case UART_IER:
		if (u->lcr & UART_LCR_DLAB) {
			u->dlm = val;
			break;
		}
		/* Enabling the THR interrupt while THR is empty raises it. */
		if ((val & UART_IER_THRI) && !(u->ier & UART_IER_THRI) &&
		    (u->lsr & UART_LSR_THRE))
			u->thr_int = true;
		u->ier = val & 0x0f;
		break;
	case UART_FCR:
		had_room = uart16550_rx_room(u) > 0;
		if ((val ^ u->fcr) & UART_FCR_ENABLE) {
			/* Switching the FIFOs on or off empties them. */
			val |= UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX;
		}
		if (val & UART_FCR_CLEAR_RX) {
			u->rx_head = u->rx_count = 0;
			u->lsr &= (uint8_t)~UART_LSR_DR;
		}
		u->fcr = val & 0xc9; /* enable, DMA mode, trigger level */
		if (!had_room && uart16550_rx_room(u) && u->rx_room)
			u->rx_room(u->opaque);
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		u->mcr = val & 0x1f;
		update_msr(u);
		break;
	case UART_LSR:
	case UART_MSR:
		break; /* read-only here (factory test use only on the real part) */
	case UART_SCR:
		u->scr = val;
		break;
	}
	update_irq(u);
}

/* ---- migration image ------------------------------------------------------- */

void uart16550_save(const struct uart16550 *u, uint8_t out[UART16550_STATE_SIZE])
{
	uint8_t *p = out;

	*p++ = u->ier;
	*p++ = u->fcr;
	*p++ = u->lcr;
	*p++ = u->mcr;
	*p++ = u->lsr;
	*p++ = u->msr;
	*p++ = u->scr;
	*p++ = u->dll;
	*p++ = u->dlm;
	*p++ = (uint8_t)u->rx_count;
	memset(p, 0, UART_FIFO_SIZE);
	for (unsigned int i = 0; i < u->rx_count; i++)
		p[i] = u->rx[(u->rx_head + i) % UART_FIFO_SIZE];
	p += UART_FIFO_SIZE;
	*p++ = u->thr_int;
	*p++ = u->irq_level;
}

int uart16550_load(struct uart16550 *u, const uint8_t in[UART16550_STATE_SIZE])
{
	const uint8_t *p = in;
	unsigned int count = p[9];
	bool fifo = p[1] & UART_FCR_ENABLE;
	uint8_t thr = p[10 + UART_FIFO_SIZE], irq = p[11 + UART_FIFO_SIZE];

	if (count > (fifo ? UART_FIFO_SIZE : 1u) || thr > 1 || irq > 1)
		return -EINVAL;
	if (!!(p[4] & UART_LSR_DR) != (count > 0))
		return -EINVAL; /* data-ready must say what the FIFO holds */
	u->ier = p[0];
	u->fcr = p[1];
	u->lcr = p[2];
	u->mcr = p[3];
	u->lsr = p[4];
	u->msr = p[5];
	u->scr = p[6];
	u->dll = p[7];
	u->dlm = p[8];
	u->rx_head = 0;
	u->rx_count = count;
	memcpy(u->rx, p + 10, UART_FIFO_SIZE);
	u->thr_int = thr;
	u->irq_level = irq;
	return 0;
}
