/* SPDX-License-Identifier: MIT */
/* The 16550A register model on its own: reset values, transmit, the receive
 * FIFO, interrupt identification and priorities, DLAB, loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devices/uart16550.h"

struct obs {
	uint8_t tx[64];
	size_t ntx;
	int irq_changes;
	bool level;
	int rooms;
};

static void o_tx(void *op, uint8_t b)
{
	struct obs *o = op;

	o->tx[o->ntx++ % sizeof(o->tx)] = b;
}

static void o_irq(void *op, bool level)
{
	struct obs *o = op;

	o->irq_changes++;
	o->level = level;
}

static void o_room(void *op)
{
	((struct obs *)op)->rooms++;
}

static void setup(struct uart16550 *u, struct obs *o)
{
	memset(u, 0, sizeof(*u));
	memset(o, 0, sizeof(*o));
	u->tx = o_tx;
	u->irq = o_irq;
	u->rx_room = o_room;
	u->opaque = o;
	uart16550_reset(u);
}

static void test_reset_values(void **state)
{
	struct uart16550 u;
	struct obs o;

	setup(&u, &o);
	assert_int_equal(uart16550_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(uart16550_read(&u, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(uart16550_read(&u, UART_IER), 0);
	assert_int_equal(uart16550_read(&u, UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
	assert_int_equal(uart16550_read(&u, UART_RBR), 0); /* empty */
	assert_false(o.level);
	uart16550_write(&u, UART_SCR, 0x5a);
	assert_int_equal(uart16550_read(&u, UART_SCR), 0x5a);
	assert_int_equal(uart16550_read(&u, 8), 0xff);
}

static void test_tx_and_thre_interrupt(void **state)
{
	struct uart16550 u;
	struct obs o;

	setup(&u, &o);
	uart16550_write(&u, UART_THR, 'A');
	assert_int_equal(o.ntx, 1);
	assert_int_equal(o.tx[0], 'A');
	assert_false(o.level); /* THRI not enabled */

	/* Enabling THRI with THR empty raises it at once. */
	uart16550_write(&u, UART_IER, UART_IER_THRI);
	assert_true(o.level);
	assert_int_equal(uart16550_read(&u, UART_IIR), UART_IIR_THRI);
	/* Reading IIR acknowledged it. */
	assert_false(o.level);
	assert_int_equal(uart16550_read(&u, UART_IIR), UART_IIR_NO_INT);
	/* The next transmit raises it again; writing THR clears the old one first. */
	uart16550_write(&u, UART_THR, 'B');
	assert_true(o.level);
	assert_int_equal(o.tx[1], 'B');
}

static void test_rx_fifo(void **state)
{
	struct uart16550 u;
	struct obs o;
	uint8_t data[20];

	setup(&u, &o);
	for (int i = 0; i < 20; i++)
		data[i] = (uint8_t)('a' + i);
	/* FIFO off: one holding register. */
	assert_int_equal(uart16550_rx(&u, data, 3), 1);
	assert_int_equal(uart16550_rx_room(&u), 0);
	assert_true(uart16550_read(&u, UART_LSR) & UART_LSR_DR);
	assert_int_equal(uart16550_read(&u, UART_RBR), 'a');
	assert_int_equal(o.rooms, 1); /* full -> room */
	assert_false(uart16550_read(&u, UART_LSR) & UART_LSR_DR);

	/* FIFO on: 16 entries, order kept, DR until empty. */
	uart16550_write(&u, UART_FCR, UART_FCR_ENABLE);
	assert_int_equal(uart16550_rx(&u, data, 20), 16);
	uart16550_write(&u, UART_IER, UART_IER_RDI);
	assert_true(o.level);
	assert_int_equal(uart16550_read(&u, UART_IIR), UART_IIR_FIFO | UART_IIR_RDI);
	for (int i = 0; i < 16; i++) {
		assert_true(uart16550_read(&u, UART_LSR) & UART_LSR_DR);
		assert_int_equal(uart16550_read(&u, UART_RBR), 'a' + i);
	}
	assert_false(uart16550_read(&u, UART_LSR) & UART_LSR_DR);
	assert_false(o.level);
	assert_int_equal(o.rooms, 2);

	/* FCR clear empties the receive FIFO. */
	uart16550_rx(&u, data, 4);
	uart16550_write(&u, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	assert_false(uart16550_read(&u, UART_LSR) & UART_LSR_DR);
	assert_int_equal(uart16550_rx_room(&u), 16);
}

static void test_priority_and_loopback(void **state)
{
	struct uart16550 u;
	struct obs o;

	setup(&u, &o);
	/* Loopback: transmit lands in our own FIFO, not on the line. */
	uart16550_write(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_RTS);
	assert_int_equal(uart16550_read(&u, UART_MSR) & 0xf0, UART_MSR_CTS | UART_MSR_DSR);
	uart16550_write(&u, UART_THR, 'x');
	assert_int_equal(o.ntx, 0);
	/* FIFO off: a second byte overruns. */
	uart16550_write(&u, UART_THR, 'y');
	uart16550_write(&u, UART_IER, UART_IER_RDI | UART_IER_THRI | UART_IER_RLSI);
	/* Line status first, then data, then THR empty. */
	assert_int_equal(uart16550_read(&u, UART_IIR), UART_IIR_RLSI);
	assert_true(uart16550_read(&u, UART_LSR) & UART_LSR_OE); /* read clears OE */
	assert_int_equal(uart16550_read(&u, UART_IIR), UART_IIR_RDI);
	assert_int_equal(uart16550_read(&u, UART_RBR), 'x');
	assert_int_equal(uart16550_read(&u, UART_IIR), UART_IIR_THRI);
	assert_int_equal(uart16550_read(&u, UART_IIR), UART_IIR_NO_INT);
	assert_false(o.level);
	/* Modem status deltas, reported last and cleared by reading MSR. */
	uart16550_write(&u, UART_IER, UART_IER_MSI);
	uart16550_write(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	assert_true(o.level);
	assert_int_equal(uart16550_read(&u, UART_IIR), UART_IIR_MSI);
	assert_int_equal(uart16550_read(&u, UART_MSR),
			 UART_MSR_DCD | UART_MSR_DDCD | UART_MSR_DCTS | UART_MSR_DDSR);
	assert_false(o.level);
}

static void test_dlab(void **state)
{
	struct uart16550 u;
	struct obs o;

	setup(&u, &o);
	uart16550_write(&u, UART_IER, UART_IER_RDI);
	uart16550_write(&u, UART_LCR, UART_LCR_DLAB | 0x03);
	uart16550_write(&u, UART_DLL, 0x01);
	uart16550_write(&u, UART_DLM, 0x02);
	assert_int_equal(uart16550_read(&u, UART_DLL), 0x01);
	assert_int_equal(uart16550_read(&u, UART_DLM), 0x02);
	assert_int_equal(o.ntx, 0); /* DLL is not THR */
	uart16550_write(&u, UART_LCR, 0x03);
	assert_int_equal(uart16550_read(&u, UART_IER), UART_IER_RDI);
	assert_int_equal(uart16550_read(&u, UART_LCR), 0x03);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_values),
		cmocka_unit_test(test_tx_and_thre_interrupt),
		cmocka_unit_test(test_rx_fifo),
		cmocka_unit_test(test_priority_and_loopback),
		cmocka_unit_test(test_dlab),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
