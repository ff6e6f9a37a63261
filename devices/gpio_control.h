/* SPDX-License-Identifier: MIT */
/*
 * The host side of the gpio card: a UNIX stream socket with a line protocol
 * that sets the isolated inputs and reads the FET outputs.
 *
 * Requests and replies are single lines ending in '\n' (a trailing '\r' is
 * ignored), at most GPIO_CONTROL_LINE_MAX bytes with the newline. Values are
 * 16-bit, given in C notation (0x1f, 31, 037); replies print them as 0x%04x.
 *   inputs          -> "0xABCD"  the current inputs (IN0 = bit 0)
 *   inputs VALUE    -> "ok"      set the inputs; a change of state raises
 *                                the card's IRQ when the guest enabled it
 *   outputs         -> "0x1234"  the outputs the guest wrote (OUT0 = bit 0)
 *   help            -> one line naming the commands
 * Anything else    -> "error: <why>". An over-long line gets an error and the
 * connection is closed. Several clients may be connected at once.
 */
#ifndef UVFIO_DEVICES_GPIO_CONTROL_H
#define UVFIO_DEVICES_GPIO_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include <uvfio/device.h>

#define GPIO_CONTROL_LINE_MAX 128
#define GPIO_CONTROL_MAX_CLIENTS 8

struct gpio_control_ops {
	uint16_t (*get_inputs)(void *opaque);
	void (*set_inputs)(void *opaque, uint16_t inputs);
	uint16_t (*get_outputs)(void *opaque);
};

struct gpio_control;

/*
 * Listen on `path` (mode 0600; the path must not exist: -EADDRINUSE).
 * `dev` names the log lines.
 */
int gpio_control_open(const char *path, struct uvfio_device *dev,
		      const struct gpio_control_ops *ops, void *opaque,
		      struct gpio_control **out);
/* Closes every connection and the socket, and removes the path. */
void gpio_control_close(struct gpio_control *ctl);

/* Readable when a connection or a request is waiting. */
int gpio_control_fd(struct gpio_control *ctl);
/* Accept connections and answer complete requests, without blocking. */
int gpio_control_handle(struct gpio_control *ctl);

/*
 * Execute one request line (no newline) and write the reply line (no
 * newline) into `reply`. The protocol's core, without sockets.
 */
void gpio_control_exec(const struct gpio_control_ops *ops, void *opaque,
		       const char *line, char *reply, size_t reply_len);

#endif
