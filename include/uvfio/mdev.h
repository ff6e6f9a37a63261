/* SPDX-License-Identifier: MIT */
/*
 * Mediated devices: a parent offers types; an instance of a type is created
 * by UUID, becomes a vfio device of its own, and is served over vfio-user on
 * its own socket DIR/UUID.sock until it is removed.
 *
 * This layer manages lifecycle only, as the kernel's mdev core does: it
 * defines no region offsets, validates no mmap and adds no device ops. The
 * type's create op makes the whole device (usually with a bus driver such
 * as include/uvfio/pci.h); an access the device has no handler for fails
 * as the core fails it (-EINVAL), never with a silent success.
 *
 * Errors (negative errno), in the order they are checked by create:
 *   -EINVAL   malformed UUID (not strict 8-4-4-4-12 hex)
 *   -ENOENT   no such type (the sysfs directory would not exist)
 *   -EEXIST   an instance with this UUID exists (compared as 128-bit
 *             values, so case does not matter)
 *   -EUSERS   a type without a get_available op has max_instances live
 *             instances: the kernel's mdev_device_create() answer
 *   the create op's error: a type whose capacity is its own (get_available)
 *             answers for itself; mtty answers -ENOSPC when its ports are
 *             used up, as the kernel's sample does
 * remove: -EINVAL malformed UUID, -ENOENT no such instance.
 *
 * Threads: every function may be called from any thread; one lock covers
 * the instance table and the dispatch of ready sockets.
 *
 * ---- Control socket protocol --------------------------------------------
 * A UNIX stream socket. A request is one line (at most 255 bytes + '\n'):
 *
 *   types [--json]               the types and their available_instances
 *   create TYPE [UUID] [--json]  new instance (a random v4 UUID if none)
 *   remove UUID                  remove an instance, closing its client
 *   list [--json]                the instances
 *
 * A reply is zero or more data lines and then one status line, either
 * "ok" or "error ERRNO MESSAGE" (ERRNO a positive decimal errno). Then the
 * next request may follow on the same connection. Data lines:
 *
 *   types   TYPE-ID \t AVAILABLE \t DEVICE-API \t NAME \t DESCRIPTION
 *   create  UUID \t TYPE-ID \t SOCKET \t INFO
 *   list    UUID \t TYPE-ID \t SOCKET \t INFO      (one per instance)
 *
 * INFO is what the type's create op reported (mtty: its pty paths), or "-".
 * With --json the data is exactly one line holding one JSON value:
 *   types   [{"id","name","description","device_api","available_instances"}]
 *   create  {"uuid","type","socket","info"}
 *   list    [{"uuid","type","socket","info"}]
 * A request that is too long, or an unknown verb, gets an error status
 * (EINVAL); a too-long line also ends the connection.
 */
#ifndef UVFIO_MDEV_H
#define UVFIO_MDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uvfio/device.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UVFIO_MDEV_UUID_LEN 36	/* without the NUL */
#define UVFIO_MDEV_MAX_TYPES 16
#define UVFIO_MDEV_INFO_LEN 128	/* what create may report, with the NUL */
#define UVFIO_MDEV_CONTROL_LINE_MAX 256

struct uvfio_mdev_parent;

struct uvfio_mdev_type_info {
	const char *sysfs_name;	  /* "1": the type id is "<parent name>-1" */
	const char *name;	  /* sysfs "name": "Single port serial" */
	const char *description;  /* sysfs "description" */
	const char *device_api;	  /* "vfio-pci" */
	/* Without ops->get_available: at most this many live instances. */
	unsigned int max_instances;
};

/* One live instance, as an op sees it. */
struct uvfio_mdev_instance {
	const char *uuid;	/* lower-case 8-4-4-4-12 */
	unsigned int type;	/* index into the parent's types */
	void *priv;		/* the create op's, for remove */
};

struct uvfio_mdev_parent_ops {
	/*
	 * Required. Make the device of a new instance: set *dev to a created,
	 * unregistered device and inst->priv to whatever remove needs. May
	 * write a line for the user into info (e.g. "pty /dev/pts/4").
	 * Returns 0 or -errno (-ENOSPC when the parent's capacity is used up).
	 */
	int (*create)(struct uvfio_mdev_parent *p, struct uvfio_mdev_instance *inst,
		      struct uvfio_device **dev, char *info, size_t info_len);
	/*
	 * Required. Free the instance: its device has been unregistered (which
	 * freed the struct uvfio_device), or, if serving it failed, was never
	 * registered. A bus driver's destroy (uvfio_pci_destroy,
	 * uvfio_cdx_destroy) handles both cases.
	 */
	void (*remove)(struct uvfio_mdev_parent *p, struct uvfio_mdev_instance *inst);
	/* Optional: available_instances of a type (the driver's own count). */
	unsigned int (*get_available)(struct uvfio_mdev_parent *p, unsigned int type);
};

struct uvfio_mdev_parent_info {
	const char *name;	/* driver name: "mtty" */
	unsigned int num_types;	/* 1..UVFIO_MDEV_MAX_TYPES */
	struct uvfio_mdev_type_info types[UVFIO_MDEV_MAX_TYPES];
	const struct uvfio_mdev_parent_ops *ops;
};

/*
 * A parent whose instances get their sockets in `dir` (an existing
 * directory). -EINVAL: bad info; -ENOTDIR/-ENOENT: bad dir.
 */
int uvfio_mdev_parent_create(const struct uvfio_mdev_parent_info *info,
			     const char *dir, void *priv,
			     struct uvfio_mdev_parent **out);
/* Removes every instance (closing their clients), the control socket, and
 * frees the parent. No thread may be in uvfio_mdev_parent_dispatch(). */
void uvfio_mdev_parent_destroy(struct uvfio_mdev_parent *p);
void *uvfio_mdev_parent_priv(struct uvfio_mdev_parent *p);

/* "<parent>-<sysfs_name>" of type index `type`, or NULL. */
const char *uvfio_mdev_type_id(struct uvfio_mdev_parent *p, unsigned int type);
unsigned int uvfio_mdev_num_types(struct uvfio_mdev_parent *p);
/* available_instances of `type_id`; -ENOENT if there is no such type. */
int uvfio_mdev_available(struct uvfio_mdev_parent *p, const char *type_id,
			 unsigned int *avail);

/*
 * Create an instance of `type_id` with `uuid` (NULL: a random one) and
 * serve it on DIR/UUID.sock. uuid_out (UVFIO_MDEV_UUID_LEN + 1 bytes, may
 * be NULL) gets the normalised UUID; info_out (UVFIO_MDEV_INFO_LEN, may be
 * NULL) what the create op reported. Errors: see the top of this file.
 */
int uvfio_mdev_create(struct uvfio_mdev_parent *p, const char *type_id,
		      const char *uuid, char *uuid_out, char *info_out);
/* Close the instance's client and socket, unregister and free it. */
int uvfio_mdev_remove(struct uvfio_mdev_parent *p, const char *uuid);

/* Live instances, in creation order. */
unsigned int uvfio_mdev_count(struct uvfio_mdev_parent *p);
struct uvfio_mdev_instance_desc {
	char uuid[UVFIO_MDEV_UUID_LEN + 1];
	char type_id[64];
	char socket[256];
	char info[UVFIO_MDEV_INFO_LEN];
};
/* The i-th live instance; -ENOENT past the end. */
int uvfio_mdev_instance_get(struct uvfio_mdev_parent *p, unsigned int i,
			    struct uvfio_mdev_instance_desc *out);
/* The device of a live instance (for tests and tools), or NULL. */
struct uvfio_device *uvfio_mdev_instance_device(struct uvfio_mdev_parent *p,
						const char *uuid);

/* ---- event loop ---------------------------------------------------------- */

/* Readable when a socket of the parent has work: poll it, then dispatch. */
int uvfio_mdev_parent_fd(struct uvfio_mdev_parent *p);
/* Serve what is ready (instance sockets, the control socket, watched fds),
 * waiting at most timeout_ms. Returns 0 or -errno. */
int uvfio_mdev_parent_dispatch(struct uvfio_mdev_parent *p, int timeout_ms);

/* An instance's own fd (a pty) to serve from the parent's loop: cb runs
 * when fd is readable (or hung up), under the parent's lock. */
typedef void (*uvfio_mdev_watch_fn)(void *opaque);
int uvfio_mdev_watch_fd(struct uvfio_mdev_parent *p, int fd,
			uvfio_mdev_watch_fn cb, void *opaque);
void uvfio_mdev_unwatch_fd(struct uvfio_mdev_parent *p, int fd);

/* ---- control socket ------------------------------------------------------ */

/* Listen on `path` (must not exist; mode 0600) for the protocol above. */
int uvfio_mdev_control_listen(struct uvfio_mdev_parent *p, const char *path);
/*
 * Client side: send one request line (without '\n') to the control socket
 * at `path`, and collect the data lines into out (NUL terminated,
 * truncated to out_len). Returns 0 on "ok", the negative errno of an
 * "error" status, or -EPROTO for a reply that is neither.
 */
int uvfio_mdev_control_request(const char *path, const char *request,
			       char *out, size_t out_len);

/* ---- UUIDs -------------------------------------------------------------- */

/* Strict 8-4-4-4-12 hex (either case) -> 16 bytes. -EINVAL otherwise. */
int uvfio_mdev_uuid_parse(const char *s, uint8_t out[16]);
/* 16 bytes -> lower-case text (37 bytes with the NUL). */
void uvfio_mdev_uuid_format(const uint8_t in[16], char *out);
/* A random version 4 UUID. */
int uvfio_mdev_uuid_generate(uint8_t out[16]);

#ifdef __cplusplus
}
#endif
#endif
