/* SPDX-License-Identifier: MIT */
/*
 * A 16550A UART register model: 8 registers (DLAB selects DLL/DLM at 0/1),
 * a 16-byte receive FIFO (1 byte with the FIFO off), transmit that is done
 * the moment THR is written, the interrupt identification priorities of the
 * data sheet, and loopback (MCR bit 4). It knows nothing of PCI or ptys:
 * transmitted bytes go to tx(), the interrupt line's changes to irq(), and
 * received bytes come in through uart16550_rx().
 *
 * Not locked: the caller serialises every call on one UART.
 */
#ifndef UVFIO_DEVICES_UART16550_H
#define UVFIO_DEVICES_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_RBR 0 /* read, DLAB=0 */
#define UART_THR 0 /* write, DLAB=0 */
#define UART_DLL 0 /* DLAB=1 */
#define UART_IER 1 /* DLAB=0 */
#define UART_DLM 1 /* DLAB=1 */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_RDI 0x01  /* received data available */
#define UART_IER_THRI 0x02 /* THR empty */
#define UART_IER_RLSI 0x04 /* receiver line status */
#define UART_IER_MSI 0x08  /* modem status */

#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI 0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_FIFO 0xc0 /* FIFOs enabled */

#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_CLEAR_TX 0x04

#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

#define UART_FIFO_SIZE 16

struct uart16550 {
	uint8_t ier, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
	uint8_t rx[UART_FIFO_SIZE];
	unsigned int rx_head, rx_count;
	bool thr_int;	/* THR-empty interrupt pending (cleared by IIR read / THR write) */
	bool irq_level;
	/* Where transmitted bytes go (not in loopback). */
	void (*tx)(void *opaque, uint8_t byte);
	/* The interrupt line changed. */
	void (*irq)(void *opaque, bool level);
	/* A read of RBR made room in the receive FIFO. */
	void (*rx_room)(void *opaque);
	void *opaque;
};

/* Power-on state; the callbacks and opaque are kept. */
void uart16550_reset(struct uart16550 *u);
/* Register access; off is 0..7 (others read 0xff / are ignored). */
uint8_t uart16550_read(struct uart16550 *u, unsigned int off);
void uart16550_write(struct uart16550 *u, unsigned int off, uint8_t val);
/* Bytes that arrived from the line: returns how many fit in the FIFO. A
 * byte that does not fit sets overrun (LSR.OE) only if `overrun`. */
size_t uart16550_rx(struct uart16550 *u, const uint8_t *buf, size_t len);
/* Free receive FIFO entries. */
size_t uart16550_rx_room(const struct uart16550 *u);

/*
 * The UART's state as a fixed byte image, for migration: the registers,
 * the receive FIFO (oldest byte first), the pending THR-empty interrupt and
 * the line. load() checks the image (FIFO count, LSR.DR agreeing with it,
 * booleans) and changes nothing unless it is valid: -EINVAL. Callbacks
 * and opaque are kept; nothing is signalled.
 */
#define UART16550_STATE_SIZE (9u + 1u + UART_FIFO_SIZE + 2u)
void uart16550_save(const struct uart16550 *u, uint8_t out[UART16550_STATE_SIZE]);
int uart16550_load(struct uart16550 *u, const uint8_t in[UART16550_STATE_SIZE]);

#endif
