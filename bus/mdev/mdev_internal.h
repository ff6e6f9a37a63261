/* SPDX-License-Identifier: MIT */
/*
 * The private side of an mdev parent, shared by bus/mdev's files:
 * parent.c (types, instance lifecycle), loop.c (epoll loop, watched fds),
 * control.c (the control socket's server side), uuid.c.
 *
 * One recursive lock guards everything: an instance's ops run under it
 * (from dispatch) and may call back into the parent (unwatch a pty on
 * close), which a plain mutex would deadlock on.
 */
#ifndef UVFIO_BUS_MDEV_INTERNAL_H
#define UVFIO_BUS_MDEV_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include <uvfio/log.h>
#include <uvfio/mdev.h>
#include <uvfio/server.h>

#define MDEV_TYPE_ID_MAX 64

/* epoll tokens: kind in the top byte, a serial number below, so an event
 * for something removed meanwhile finds nothing instead of freed memory. */
enum mdev_kind {
	MDEV_EV_INSTANCE = 1,
	MDEV_EV_WATCH = 2,
	MDEV_EV_CTL_LISTEN = 3,
	MDEV_EV_CTL_CONN = 4,
};
#define MDEV_TOKEN(kind, serial) (((uint64_t)(kind) << 56) | (serial))
#define MDEV_TOKEN_KIND(t) ((unsigned int)((t) >> 56))

struct mdev_inst {
	struct uvfio_mdev_instance pub;
	char uuid[UVFIO_MDEV_UUID_LEN + 1];
	uint8_t uuid_bin[16];
	struct uvfio_device *dev;
	struct uvfio_server *srv;
	char *sock_path;
	char info[UVFIO_MDEV_INFO_LEN];
	uint64_t token;
	struct mdev_inst *next;
};

struct mdev_watch {
	int fd;
	uvfio_mdev_watch_fn cb;
	void *opaque;
	uint64_t token;
	struct mdev_watch *next;
};

struct mdev_ctl_conn {
	int fd;
	char buf[UVFIO_MDEV_CONTROL_LINE_MAX];
	size_t len;
	uint64_t token;
	struct mdev_ctl_conn *next;
};

struct uvfio_mdev_parent {
	struct uvfio_mdev_parent_info info;
	char type_ids[UVFIO_MDEV_MAX_TYPES][MDEV_TYPE_ID_MAX];
	unsigned int live[UVFIO_MDEV_MAX_TYPES];
	char *dir;
	void *priv;

	pthread_mutex_t lock; /* recursive */
	int epfd;
	uint64_t serial;
	struct mdev_inst *insts; /* creation order */
	unsigned int ninst;
	struct mdev_watch *watches;

	int ctl_fd;
	char *ctl_path;
	struct mdev_ctl_conn *conns;
	unsigned int nconns;
};

/* loop.c */
int mdev_loop_add(struct uvfio_mdev_parent *p, int fd, uint64_t token);
void mdev_loop_del(struct uvfio_mdev_parent *p, int fd);
void mdev_watch_free_all(struct uvfio_mdev_parent *p);

/* parent.c: lock held */
int mdev_create_locked(struct uvfio_mdev_parent *p, const char *type_id,
		       const char *uuid, char *uuid_out, char *info_out);
int mdev_remove_locked(struct uvfio_mdev_parent *p, const char *uuid);
unsigned int mdev_available_locked(struct uvfio_mdev_parent *p, unsigned int type);
struct mdev_inst *mdev_inst_by_token(struct uvfio_mdev_parent *p, uint64_t token);

/* control.c */
void mdev_ctl_accept(struct uvfio_mdev_parent *p);
void mdev_ctl_serve(struct uvfio_mdev_parent *p, uint64_t token);
void mdev_ctl_close_all(struct uvfio_mdev_parent *p);

#endif
