/* SPDX-License-Identifier: MIT */
/*
 * An mdev parent: its types, available_instances, and the lifecycle of
 * instances, as the kernel's mdev core (mdev_core.c, mdev_sysfs.c) runs
 * them: create checks the UUID, the type, duplicates and the capacity, then
 * lets the type's create op make the device; the instance is registered
 * and served on DIR/UUID.sock. remove stops serving (closing the client),
 * unregisters the device and lets the remove op free the rest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/mdev/mdev_internal.h"

static const char *parent_check(const struct uvfio_mdev_parent_info *info)
{
	if (!info->name || !*info->name || strchr(info->name, '/'))
		return "bad parent name";
	if (!info->ops || !info->ops->create || !info->ops->remove)
		return "create and remove ops are required";
	if (!info->num_types || info->num_types > UVFIO_MDEV_MAX_TYPES)
		return "type count out of range";
	for (unsigned int i = 0; i < info->num_types; i++) {
		const struct uvfio_mdev_type_info *t = &info->types[i];

		if (!t->sysfs_name || !*t->sysfs_name || strpbrk(t->sysfs_name, "/ \t\n"))
			return "bad type sysfs_name";
		if (strlen(info->name) + 1 + strlen(t->sysfs_name) >= MDEV_TYPE_ID_MAX)
			return "type id too long";
		if (!t->device_api || !*t->device_api)
			return "a type needs a device_api";
		if (!info->ops->get_available && !t->max_instances)
			return "a type needs max_instances or get_available";
	}
	return NULL;
}

int uvfio_mdev_parent_create(const struct uvfio_mdev_parent_info *info,
			     const char *dir, void *priv,
			     struct uvfio_mdev_parent **out)
{
	struct uvfio_mdev_parent *p;
	pthread_mutexattr_t attr;
	const char *why;
	struct stat st;
	int ret;

	if (!info || !dir || !out)
		return -EINVAL;
	why = parent_check(info);
	if (why) {
		uvfio_log(UVFIO_LOG_ERR, info->name ? info->name : "mdev", "mdev: %s", why);
		return -EINVAL;
	}
	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->info = *info;
	p->priv = priv;
	p->ctl_fd = -1;
	for (unsigned int i = 0; i < info->num_types; i++)
		snprintf(p->type_ids[i], sizeof(p->type_ids[i]), "%s-%s", info->name,
			 info->types[i].sysfs_name);
	p->dir = strdup(dir);
	if (!p->dir) {
		ret = -ENOMEM;
		goto err_free;
	}
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0) {
		ret = -errno;
		goto err_dir;
	}
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	ret = -pthread_mutex_init(&p->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (ret)
		goto err_ep;
	*out = p;
	return 0;

err_ep:
	close(p->epfd);
err_dir:
	free(p->dir);
err_free:
	free(p);
	return ret;
}

void uvfio_mdev_parent_destroy(struct uvfio_mdev_parent *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	mdev_ctl_close_all(p);
	while (p->insts)
		mdev_remove_locked(p, p->insts->uuid);
	mdev_watch_free_all(p);
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_destroy(&p->lock);
	close(p->epfd);
	free(p->dir);
	free(p);
}

void *uvfio_mdev_parent_priv(struct uvfio_mdev_parent *p)
{
	return p ? p->priv : NULL;
}

const char *uvfio_mdev_type_id(struct uvfio_mdev_parent *p, unsigned int type)
{
	if (!p || type >= p->info.num_types)
		return NULL;
	return p->type_ids[type];
}

unsigned int uvfio_mdev_num_types(struct uvfio_mdev_parent *p)
{
	return p ? p->info.num_types : 0;
}

static int type_find(struct uvfio_mdev_parent *p, const char *type_id)
{
	for (unsigned int i = 0; i < p->info.num_types; i++)
		if (!strcmp(p->type_ids[i], type_id))
			return (int)i;
	return -ENOENT;
}

/* The kernel's available_instances_show(): the driver's count, or what
 * max_instances leaves. */
unsigned int mdev_available_locked(struct uvfio_mdev_parent *p, unsigned int type)
{
	unsigned int max = p->info.types[type].max_instances;

	if (p->info.ops->get_available)
		return p->info.ops->get_available(p, type);
	return p->live[type] < max ? max - p->live[type] : 0;
}

int uvfio_mdev_available(struct uvfio_mdev_parent *p, const char *type_id,
			 unsigned int *avail)
{
	int t;

	if (!p || !type_id || !avail)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	t = type_find(p, type_id);
	if (t >= 0)
		*avail = mdev_available_locked(p, (unsigned int)t);
	pthread_mutex_unlock(&p->lock);
	return t < 0 ? t : 0;
}

static struct mdev_inst *inst_find(struct uvfio_mdev_parent *p, const uint8_t bin[16])
{
	for (struct mdev_inst *i = p->insts; i; i = i->next)
		if (!memcmp(i->uuid_bin, bin, 16))
			return i;
	return NULL;
}

struct mdev_inst *mdev_inst_by_token(struct uvfio_mdev_parent *p, uint64_t token)
{
	for (struct mdev_inst *i = p->insts; i; i = i->next)
		if (i->token == token)
			return i;
	return NULL;
}

/* Register the device and serve it on DIR/UUID.sock. */
static int inst_serve(struct uvfio_mdev_parent *p, struct mdev_inst *in)
{
	struct uvfio_server_opts o = { .listen_fd = -1 };
	int ret;

	if (asprintf(&in->sock_path, "%s/%s.sock", p->dir, in->uuid) < 0) {
		in->sock_path = NULL;
		return -ENOMEM;
	}
	ret = uvfio_device_register(in->dev);
	if (ret)
		return ret;
	ret = uvfio_server_create(in->dev, in->sock_path, &o, &in->srv);
	if (ret)
		goto err_unreg;
	in->token = MDEV_TOKEN(MDEV_EV_INSTANCE, ++p->serial);
	ret = mdev_loop_add(p, uvfio_server_fd(in->srv), in->token);
	if (ret)
		goto err_srv;
	return 0;

err_srv:
	uvfio_server_destroy(in->srv);
	in->srv = NULL;
err_unreg:
	uvfio_device_unregister(in->dev);
	in->dev = NULL;
	return ret;
}

int mdev_create_locked(struct uvfio_mdev_parent *p, const char *type_id,
		       const char *uuid, char *uuid_out, char *info_out)
{
	struct mdev_inst *in, **tail;
	uint8_t bin[16];
	int t, ret;

	if (uuid) {
		ret = uvfio_mdev_uuid_parse(uuid, bin);
		if (ret)
			return ret;
	} else {
		ret = uvfio_mdev_uuid_generate(bin);
		if (ret)
			return ret;
	}
	t = type_find(p, type_id);
	if (t < 0)
		return t;
	if (inst_find(p, bin))
		return -EEXIST;
	if (!p->info.ops->get_available && !mdev_available_locked(p, (unsigned int)t))
		return -EUSERS;

	in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	memcpy(in->uuid_bin, bin, 16);
	uvfio_mdev_uuid_format(bin, in->uuid);
	in->pub.uuid = in->uuid;
	in->pub.type = (unsigned int)t;
	ret = p->info.ops->create(p, &in->pub, &in->dev, in->info, sizeof(in->info));
	if (ret) {
		ret = ret > 0 ? -ret : ret;
		goto err_free;
	}
	if (!in->dev) {
		ret = -EIO;
		goto err_free;
	}
	in->info[sizeof(in->info) - 1] = '\0';
	ret = inst_serve(p, in);
	if (ret)
		goto err_op;

	for (tail = &p->insts; *tail; tail = &(*tail)->next)
		;
	*tail = in;
	p->ninst++;
	p->live[t]++;
	if (uuid_out)
		memcpy(uuid_out, in->uuid, sizeof(in->uuid));
	if (info_out)
		memcpy(info_out, in->info, sizeof(in->info));
	uvfio_log(UVFIO_LOG_INFO, p->info.name, "created %s (%s) on %s%s%s", in->uuid,
		  p->type_ids[t], in->sock_path, in->info[0] ? ": " : "", in->info);
	return 0;

err_op:
	/* The remove op frees the device either way: unregistered by
	 * inst_serve, or never registered (a bus driver's destroy handles
	 * both, as uvfio_pci_destroy does). */
	p->info.ops->remove(p, &in->pub);
err_free:
	free(in->sock_path);
	free(in);
	return ret;
}

int uvfio_mdev_create(struct uvfio_mdev_parent *p, const char *type_id,
		      const char *uuid, char *uuid_out, char *info_out)
{
	int ret;

	if (!p || !type_id)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	ret = mdev_create_locked(p, type_id, uuid, uuid_out, info_out);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int mdev_remove_locked(struct uvfio_mdev_parent *p, const char *uuid)
{
	struct mdev_inst **pp, *in;
	uint8_t bin[16];
	int ret;

	ret = uvfio_mdev_uuid_parse(uuid, bin);
	if (ret)
		return ret;
	for (pp = &p->insts; *pp; pp = &(*pp)->next)
		if (!memcmp((*pp)->uuid_bin, bin, 16))
			break;
	in = *pp;
	if (!in)
		return -ENOENT;
	*pp = in->next;
	p->ninst--;
	p->live[in->pub.type]--;

	/* Stop serving first: the client is closed, the socket unlinked, and
	 * with it the last user of the device goes. */
	mdev_loop_del(p, uvfio_server_fd(in->srv));
	uvfio_server_destroy(in->srv);
	uvfio_device_unregister(in->dev);
	p->info.ops->remove(p, &in->pub);
	uvfio_log(UVFIO_LOG_INFO, p->info.name, "removed %s", in->uuid);
	free(in->sock_path);
	free(in);
	return 0;
}

int uvfio_mdev_remove(struct uvfio_mdev_parent *p, const char *uuid)
{
	int ret;

	if (!p || !uuid)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	ret = mdev_remove_locked(p, uuid);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

unsigned int uvfio_mdev_count(struct uvfio_mdev_parent *p)
{
	unsigned int n;

	if (!p)
		return 0;
	pthread_mutex_lock(&p->lock);
	n = p->ninst;
	pthread_mutex_unlock(&p->lock);
	return n;
}

int uvfio_mdev_instance_get(struct uvfio_mdev_parent *p, unsigned int i,
			    struct uvfio_mdev_instance_desc *out)
{
	struct mdev_inst *in;
	int ret = -ENOENT;

	if (!p || !out)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	for (in = p->insts; in && i; in = in->next)
		i--;
	if (in) {
		memset(out, 0, sizeof(*out));
		memcpy(out->uuid, in->uuid, sizeof(out->uuid));
		snprintf(out->type_id, sizeof(out->type_id), "%s", p->type_ids[in->pub.type]);
		snprintf(out->socket, sizeof(out->socket), "%s", in->sock_path);
		memcpy(out->info, in->info, sizeof(out->info));
		ret = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

struct uvfio_device *uvfio_mdev_instance_device(struct uvfio_mdev_parent *p,
						const char *uuid)
{
	struct uvfio_device *dev = NULL;
	struct mdev_inst *in;
	uint8_t bin[16];

	if (!p || uvfio_mdev_uuid_parse(uuid, bin))
		return NULL;
	pthread_mutex_lock(&p->lock);
	in = inst_find(p, bin);
	if (in)
		dev = in->dev;
	pthread_mutex_unlock(&p->lock);
	return dev;
}
