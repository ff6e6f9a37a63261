/* SPDX-License-Identifier: MIT */
/*
 * Serve a uvfio device over the vfio-user protocol on a UNIX socket.
 *
 * One client at a time (a second one gets a clear refusal). On disconnect
 * the server drops every DMA window and IRQ eventfd of that client, keeps
 * the device's state, and accepts the next client.
 *
 * Run it in its own loop (uvfio_server_run) or embed it: poll
 * uvfio_server_fd() for POLLIN and call uvfio_server_dispatch().
 *
 * Wire behaviour worth knowing as a peer:
 *   - VERSION first (reply minor = min(client's, 2)); caps offered:
 *     max_msg_fds 16, max_data_xfer_size (opts), pgsizes 4096,
 *     max_dma_maps (opts), write_multiple true; no twin socket.
 *   - Error replies are Reply|Error with a non-zero errno and no payload:
 *     EINVAL malformed / before VERSION / fds where none belong, ENOSYS
 *     unknown command, ENOTSUP other major, else the core's errno.
 *   - GET_REGION_IO_FDS lists the doorbells the device declared
 *     (uvfio_device_add_ioeventfd) in the spec's 40-byte entries, one
 *     eventfd each, made per connection and closed when the client leaves;
 *     a client whose max_msg_fds is below a region's count gets none.
 *     Rings are device work: they run after the messages of the same wake-up
 *     (docs/protocol-extensions.md).
 *   - A second client gets an EBUSY error reply (msg_id 0, cmd VERSION)
 *     and is closed. msg_size above the limit, msg_size < 16, or a message
 *     not completed within msg_timeout_ms drops the connection.
 *   - The device reaches memory mapped without an fd through DMA_READ/
 *     DMA_WRITE sent to the client. Replies in QEMU's u32-count layout
 *     are understood and then followed; before the first DMA_WRITE a
 *     zero-length DMA_READ learns the client's layout. Each request waits
 *     at most msg_timeout_ms for its reply.
 *
 * Device work and message-based DMA -- the rule for device authors:
 *   A device that reaches message-based windows must do it from a callback
 *   registered with uvfio_server_add_fd() (e.g. a region write kicks an
 *   eventfd, the callback runs the DMA). While such a DMA waits for its
 *   reply, client commands are handled at once and answered, so a client
 *   that serves DMA requests only when it is not waiting for a reply of
 *   its own (QEMU: its main loop answers them, while a vCPU waits for a
 *   register access) can make progress. A DMA_UNMAP arriving meanwhile
 *   cancels that DMA (-ECANCELED) and runs right after it. The callback
 *   must not hold locks that the device's region handlers or reset need.
 *
 *   A device thread of its own may DMA too, while the server is being
 *   dispatched: it sends its request and sleeps until the dispatching
 *   thread, which goes on serving commands, hands it the reply (or
 *   msg_timeout_ms pass: -ETIMEDOUT). A client that leaves fails it with
 *   -ECONNRESET; a DMA_UNMAP that arrives meanwhile with -ECANCELED.
 *
 *   The thread that dispatches may also DMA between dispatch calls (as from
 *   a callback: commands are handled meanwhile); the server fd turns
 *   readable for what is left.
 *
 *   Never DMA to a message-based window from inside a region read/write
 *   handler when the client may be QEMU: it can only time out. It works
 *   with clients that serve DMA while they wait for a reply (uvfio's own,
 *   libvfio-user's): commands that arrive meanwhile are queued and handled
 *   after that command, in order (logged once per connection).
 */
#ifndef UVFIO_SERVER_H
#define UVFIO_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uvfio/device.h>

#ifdef __cplusplus
extern "C" {
#endif

struct uvfio_server;

struct uvfio_server_opts {
	mode_t mode;		     /* socket file mode; 0 means 0600 */
	int listen_fd;		     /* >= 0: an already listening socket (systemd) */
	uint32_t max_dma_maps;	     /* 0: 65535 */
	uint32_t max_data_xfer_size; /* 0: 1 MiB */
	uint32_t msg_timeout_ms;     /* a started message must complete; 0: 5000 */
	/* Access control (see docs/reliability.md). The socket's mode and
	 * group are the first fence; SO_PEERCRED is checked at accept: with
	 * either list non-empty, a peer whose uid is in allow_uids or whose
	 * (primary) gid is in allow_gids is served, any other one is closed
	 * at once with a log line naming its uid, gid and pid. */
	const char *group;	     /* socket file group (name or number); NULL: keep */
	const uint32_t *allow_uids;  /* NULL/0: no uid rule */
	size_t n_allow_uids;
	const uint32_t *allow_gids;  /* NULL/0: no gid rule */
	size_t n_allow_gids;
};

#define UVFIO_SERVER_MAX_ALLOW 64 /* entries per allow list (-EINVAL beyond) */

/* Create a listening server for `dev` at `path` (NULL with listen_fd). */
int uvfio_server_create(struct uvfio_device *dev, const char *path,
			const struct uvfio_server_opts *opts,
			struct uvfio_server **out);
/* Stops serving, closes the client and the socket, unlinks the path. */
void uvfio_server_destroy(struct uvfio_server *srv);

/* An fd that becomes readable when the server has work. */
int uvfio_server_fd(struct uvfio_server *srv);
/* Handle what is ready, waiting at most timeout_ms (0: don't wait). */
int uvfio_server_dispatch(struct uvfio_server *srv, int timeout_ms);
/*
 * Device work on the server's thread: when `fd` is readable (level
 * triggered: fn must consume what makes it so), uvfio_server_dispatch()
 * calls fn(opaque) after it has served the client's messages. fn may
 * reach message-based DMA windows (see above). -EEXIST if fd is registered
 * already. Call both from the dispatching thread, or while no dispatch
 * runs; remove_fd may be called from a callback. The fd stays the
 * caller's: remove it before closing it.
 */
int uvfio_server_add_fd(struct uvfio_server *srv, int fd,
			void (*fn)(void *opaque), void *opaque);
/* -ENOENT if fd is not registered. */
int uvfio_server_remove_fd(struct uvfio_server *srv, int fd);

/* Serve until uvfio_server_stop(). Returns 0 or a negative errno. */
int uvfio_server_run(struct uvfio_server *srv);
/* Async-signal-safe and thread-safe. */
void uvfio_server_stop(struct uvfio_server *srv);

/*
 * Decide at VERSION whether a client may open the device. `vf_token` is the
 * 16-byte UUID the client sent as "vf_token" in its capabilities
 * (docs/protocol-extensions.md), or NULL; `conn` names the connection for
 * logs. Return 0 to go on, or a negative errno: the VERSION gets an error
 * reply with it and the connection is closed (the check logs the reason).
 * Without a check, a vf_token is ignored. Set it before serving.
 */
typedef int (*uvfio_server_open_check_fn)(void *opaque, const uint8_t *vf_token,
					  const char *conn);
void uvfio_server_set_open_check(struct uvfio_server *srv,
				 uvfio_server_open_check_fn fn, void *opaque);

/* Whether a client is connected now. */
int uvfio_server_has_client(struct uvfio_server *srv);

#ifdef __cplusplus
}
#endif
#endif
