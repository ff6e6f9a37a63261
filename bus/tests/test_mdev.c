/* SPDX-License-Identifier: MIT */
/*
 * The mdev layer: UUIDs, instance lifecycle with each errno in the kernel's
 * order, available_instances falling and rising, sockets appearing and
 * disappearing, remove closing a connected client, no default access
 * handlers, and the control socket protocol.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include <uvfio/client.h>
#include <uvfio/log.h>
#include <uvfio/mdev.h>

#define U1 "0b1e2b3c-4d5e-4f60-8172-8394a5b6c7d8"
#define U1_UPPER "0B1E2B3C-4D5E-4F60-8172-8394A5B6C7D8"
#define U2 "11111111-2222-4333-8444-555555555555"
#define U3 "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

/* ---- a fake parent -------------------------------------------------------- */

struct fake_parent {
	unsigned int budget;	/* units left for type "b" (get_available) */
	int creates, removes;
	int fail_create;	/* errno the create op answers, 0: none */
};

/* No read/write ops: the mdev layer must not supply any. */
static const struct uvfio_device_ops bare_ops = { 0 };

static int fake_create(struct uvfio_mdev_parent *p, struct uvfio_mdev_instance *inst,
		       struct uvfio_device **dev, char *info, size_t info_len)
{
	struct fake_parent *f = uvfio_mdev_parent_priv(p);
	struct uvfio_region r = { .flags = VFIO_REGION_INFO_FLAG_READ |
					   VFIO_REGION_INFO_FLAG_WRITE |
					   VFIO_REGION_INFO_FLAG_MMAP,
				  .size = 4096, .mmap_fd = -1 };
	unsigned int units = inst->type + 1;

	if (f->fail_create)
		return -f->fail_create;
	if (f->budget < units)
		return -ENOSPC;
	*dev = uvfio_device_create(inst->uuid, &bare_ops, NULL);
	if (!*dev)
		return -ENOMEM;
	uvfio_device_set_num_regions(*dev, 1);
	uvfio_device_set_region(*dev, 0, &r);
	f->budget -= units;
	f->creates++;
	inst->priv = (void *)(uintptr_t)units;
	snprintf(info, info_len, "units %u", units);
	return 0;
}

static void fake_remove(struct uvfio_mdev_parent *p, struct uvfio_mdev_instance *inst)
{
	struct fake_parent *f = uvfio_mdev_parent_priv(p);

	f->budget += (unsigned int)(uintptr_t)inst->priv;
	f->removes++;
}

static unsigned int fake_available(struct uvfio_mdev_parent *p, unsigned int type)
{
	struct fake_parent *f = uvfio_mdev_parent_priv(p);

	return f->budget / (type + 1);
}

/* Two types counted by max_instances. */
static const struct uvfio_mdev_parent_ops ops_max = {
	.create = fake_create, .remove = fake_remove,
};
/* Two types sharing a budget (1 and 2 units), as mtty's ports. */
static const struct uvfio_mdev_parent_ops ops_budget = {
	.create = fake_create, .remove = fake_remove, .get_available = fake_available,
};

static struct uvfio_mdev_parent_info fake_info(const struct uvfio_mdev_parent_ops *ops)
{
	struct uvfio_mdev_parent_info info = {
		.name = "fake",
		.num_types = 2,
		.types = {
			{ .sysfs_name = "a", .name = "Type A", .description = "one unit",
			  .device_api = "vfio-pci", .max_instances = 2 },
			{ .sysfs_name = "b", .name = "Type B", .description = "two\tunits",
			  .device_api = "vfio-pci", .max_instances = 1 },
		},
		.ops = ops,
	};
	return info;
}

struct fx {
	char dir[64];
	struct fake_parent f;
	struct uvfio_mdev_parent *p;
	pthread_t loop;
	volatile int stop;
	bool looping;
};

static void *loop_main(void *arg)
{
	struct fx *x = arg;

	while (!x->stop)
		uvfio_mdev_parent_dispatch(x->p, 20);
	return NULL;
}

static struct fx *fx_new(const struct uvfio_mdev_parent_ops *ops, unsigned int budget)
{
	struct uvfio_mdev_parent_info info = fake_info(ops);
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	strcpy(x->dir, "/tmp/uvfio-mdev-XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	x->f.budget = budget;
	assert_int_equal(uvfio_mdev_parent_create(&info, x->dir, &x->f, &x->p), 0);
	return x;
}

static void fx_loop(struct fx *x)
{
	assert_int_equal(pthread_create(&x->loop, NULL, loop_main, x), 0);
	x->looping = true;
}

static void fx_free(struct fx *x)
{
	if (x->looping) {
		x->stop = 1;
		pthread_join(x->loop, NULL);
	}
	uvfio_mdev_parent_destroy(x->p);
	assert_int_equal(rmdir(x->dir), 0); /* every socket was removed */
	free(x);
}

static bool sock_exists(struct fx *x, const char *uuid)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s.sock", x->dir, uuid);
	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static unsigned int avail(struct fx *x, const char *type)
{
	unsigned int n = 12345;

	assert_int_equal(uvfio_mdev_available(x->p, type, &n), 0);
	return n;
}

/* ---- UUIDs ---------------------------------------------------------------- */

static void test_uuid(void **state)
{
	uint8_t a[16], b[16];
	char s[UVFIO_MDEV_UUID_LEN + 1];

	assert_int_equal(uvfio_mdev_uuid_parse(U1, a), 0);
	assert_int_equal(uvfio_mdev_uuid_parse(U1_UPPER, b), 0);
	assert_memory_equal(a, b, 16);
	assert_int_equal(a[0], 0x0b);
	assert_int_equal(a[15], 0xd8);
	uvfio_mdev_uuid_format(b, s);
	assert_string_equal(s, U1);

	/* Strict 8-4-4-4-12. */
	assert_int_equal(uvfio_mdev_uuid_parse("0b1e2b3c4d5e4f6081728394a5b6c7d8", a), -EINVAL);
	assert_int_equal(uvfio_mdev_uuid_parse("0b1e2b3c-4d5e-4f60-8172-8394a5b6c7d", a), -EINVAL);
	assert_int_equal(uvfio_mdev_uuid_parse(U1 "0", a), -EINVAL);
	assert_int_equal(uvfio_mdev_uuid_parse("{b1e2b3c-4d5e-4f60-8172-8394a5b6c7d8", a), -EINVAL);
	assert_int_equal(uvfio_mdev_uuid_parse("0b1e2b3c-4d5e-4f60-8172-8394a5b6c7dg", a), -EINVAL);
	assert_int_equal(uvfio_mdev_uuid_parse("0b1e2b3-c4d5e-4f60-8172-8394a5b6c7d8", a), -EINVAL);
	assert_int_equal(uvfio_mdev_uuid_parse("0b1e2b3c-4d5e-4f60-8172+8394a5b6c7d8", a), -EINVAL);
	assert_int_equal(uvfio_mdev_uuid_parse(" b1e2b3c-4d5e-4f60-8172-8394a5b6c7d8", a), -EINVAL);
	assert_int_equal(uvfio_mdev_uuid_parse("", a), -EINVAL);
	assert_int_equal(uvfio_mdev_uuid_parse(NULL, a), -EINVAL);

	assert_int_equal(uvfio_mdev_uuid_generate(a), 0);
	assert_int_equal(uvfio_mdev_uuid_generate(b), 0);
	assert_memory_not_equal(a, b, 16);
	assert_int_equal(a[6] >> 4, 4);		/* version 4 */
	assert_int_equal(a[8] & 0xc0, 0x80);	/* RFC 4122 variant */
	uvfio_mdev_uuid_format(a, s);
	assert_int_equal(uvfio_mdev_uuid_parse(s, b), 0);
	assert_memory_equal(a, b, 16);
}

/* ---- parent ------------------------------------------------------------- */

static void test_parent_rejects(void **state)
{
	struct uvfio_mdev_parent_info info = fake_info(&ops_max);
	struct uvfio_mdev_parent *p = NULL;
	static const struct uvfio_mdev_parent_ops no_remove = { .create = fake_create };

	assert_int_equal(uvfio_mdev_parent_create(&info, "/nonexistent/dir", NULL, &p), -ENOENT);
	assert_int_equal(uvfio_mdev_parent_create(&info, "/dev/null", NULL, &p), -ENOTDIR);
	info.ops = &no_remove;
	assert_int_equal(uvfio_mdev_parent_create(&info, "/tmp", NULL, &p), -EINVAL);
	info = fake_info(&ops_max);
	info.num_types = 0;
	assert_int_equal(uvfio_mdev_parent_create(&info, "/tmp", NULL, &p), -EINVAL);
	info = fake_info(&ops_max);
	info.types[0].max_instances = 0; /* no way to count it */
	assert_int_equal(uvfio_mdev_parent_create(&info, "/tmp", NULL, &p), -EINVAL);
	info = fake_info(&ops_max);
	info.types[1].sysfs_name = "b/c";
	assert_int_equal(uvfio_mdev_parent_create(&info, "/tmp", NULL, &p), -EINVAL);
	assert_null(p);

	info = fake_info(&ops_max);
	assert_int_equal(uvfio_mdev_parent_create(&info, "/tmp", NULL, &p), 0);
	assert_int_equal(uvfio_mdev_num_types(p), 2);
	assert_string_equal(uvfio_mdev_type_id(p, 0), "fake-a");
	assert_string_equal(uvfio_mdev_type_id(p, 1), "fake-b");
	assert_null(uvfio_mdev_type_id(p, 2));
	uvfio_mdev_parent_destroy(p);
}

static void test_lifecycle_max_instances(void **state)
{
	struct fx *x = fx_new(&ops_max, 100);
	char id[UVFIO_MDEV_UUID_LEN + 1], info[UVFIO_MDEV_INFO_LEN];
	struct uvfio_mdev_instance_desc d;
	unsigned int n;

	assert_int_equal(avail(x, "fake-a"), 2);
	assert_int_equal(uvfio_mdev_available(x->p, "fake-z", &n), -ENOENT);

	assert_int_equal(uvfio_mdev_create(x->p, "fake-a", U1_UPPER, id, info), 0);
	assert_string_equal(id, U1); /* normalised */
	assert_string_equal(info, "units 1");
	assert_true(sock_exists(x, U1));
	assert_int_equal(avail(x, "fake-a"), 1);
	assert_int_equal(avail(x, "fake-b"), 1); /* per type */

	/* Each errno, in the kernel's order. */
	assert_int_equal(uvfio_mdev_create(x->p, "fake-zz", "not-a-uuid", NULL, NULL), -EINVAL);
	assert_int_equal(uvfio_mdev_create(x->p, "fake-zz", U1, NULL, NULL), -ENOENT);
	assert_int_equal(uvfio_mdev_create(x->p, "fake-a", U1, NULL, NULL), -EEXIST);
	assert_int_equal(uvfio_mdev_create(x->p, "fake-b", U1_UPPER, NULL, NULL), -EEXIST);
	assert_int_equal(uvfio_mdev_create(x->p, "fake-a", U2, NULL, NULL), 0);
	assert_int_equal(avail(x, "fake-a"), 0);
	/* Full: the duplicate is still found first, then the capacity. */
	assert_int_equal(uvfio_mdev_create(x->p, "fake-a", U2, NULL, NULL), -EEXIST);
	assert_int_equal(uvfio_mdev_create(x->p, "fake-a", U3, NULL, NULL), -EUSERS);
	assert_false(sock_exists(x, U3));
	assert_int_equal(x->f.creates, 2); /* refusals never reached the op */
	assert_int_equal(uvfio_mdev_count(x->p), 2);

	assert_int_equal(uvfio_mdev_instance_get(x->p, 0, &d), 0);
	assert_string_equal(d.uuid, U1);
	assert_string_equal(d.type_id, "fake-a");
	assert_non_null(strstr(d.socket, U1 ".sock"));
	assert_int_equal(uvfio_mdev_instance_get(x->p, 1, &d), 0);
	assert_string_equal(d.uuid, U2);
	assert_int_equal(uvfio_mdev_instance_get(x->p, 2, &d), -ENOENT);

	/* Remove: the socket goes, the count rises, the op frees the rest. */
	assert_int_equal(uvfio_mdev_remove(x->p, U1_UPPER), 0);
	assert_false(sock_exists(x, U1));
	assert_int_equal(avail(x, "fake-a"), 1);
	assert_int_equal(x->f.removes, 1);
	assert_int_equal(uvfio_mdev_remove(x->p, U1), -ENOENT);
	assert_int_equal(uvfio_mdev_remove(x->p, "xyz"), -EINVAL);
	assert_null(uvfio_mdev_instance_device(x->p, U1));
	/* The UUID is free again. */
	assert_int_equal(uvfio_mdev_create(x->p, "fake-a", U1, NULL, NULL), 0);
	assert_int_equal(avail(x, "fake-a"), 0);

	/* A random UUID when none is given. */
	assert_int_equal(uvfio_mdev_create(x->p, "fake-b", NULL, id, NULL), 0);
	assert_true(sock_exists(x, id));
	assert_int_equal(avail(x, "fake-b"), 0);
	fx_free(x); /* destroy removes the rest */
}

static void test_lifecycle_budget(void **state)
{
	struct fx *x = fx_new(&ops_budget, 5);

	/* The driver's own count: 5 units, types of 1 and 2 units. */
	assert_int_equal(avail(x, "fake-a"), 5);
	assert_int_equal(avail(x, "fake-b"), 2);
	assert_int_equal(uvfio_mdev_create(x->p, "fake-b", U1, NULL, NULL), 0);
	assert_int_equal(avail(x, "fake-a"), 3);
	assert_int_equal(avail(x, "fake-b"), 1);
	assert_int_equal(uvfio_mdev_create(x->p, "fake-b", U2, NULL, NULL), 0);
	assert_int_equal(avail(x, "fake-a"), 1);
	assert_int_equal(avail(x, "fake-b"), 0);
	/* The driver answers for its capacity: ENOSPC, and nothing is left
	 * behind. max_instances (1 for fake-b) does not apply here. */
	assert_int_equal(uvfio_mdev_create(x->p, "fake-b", U3, NULL, NULL), -ENOSPC);
	assert_false(sock_exists(x, U3));
	assert_int_equal(uvfio_mdev_count(x->p), 2);
	assert_int_equal(uvfio_mdev_create(x->p, "fake-a", U3, NULL, NULL), 0);
	assert_int_equal(avail(x, "fake-a"), 0);
	assert_int_equal(uvfio_mdev_remove(x->p, U1), 0);
	assert_int_equal(avail(x, "fake-a"), 2);
	assert_int_equal(avail(x, "fake-b"), 1);

	/* Any create op failure is passed on, leaving nothing behind. */
	x->f.fail_create = EIO;
	assert_int_equal(uvfio_mdev_create(x->p, "fake-a", U1, NULL, NULL), -EIO);
	assert_false(sock_exists(x, U1));
	assert_int_equal(x->f.removes, 1);
	fx_free(x);
}

/* ---- serving ------------------------------------------------------------- */

static void test_serve_and_remove_closes_client(void **state)
{
	struct fx *x = fx_new(&ops_max, 100);
	char loc[160];
	struct uvfio_client *c = NULL;
	struct vfio_device_info di = { .argsz = sizeof(di) };
	uint32_t v = 0;
	struct uvfio_device *dev;

	assert_int_equal(uvfio_mdev_create(x->p, "fake-a", U1, NULL, NULL), 0);
	dev = uvfio_mdev_instance_device(x->p, U1);
	assert_non_null(dev);
	/* Nothing is answered for the vendor: no handler means an error. */
	assert_int_equal(uvfio_device_read(dev, 0, 0, &v, 4), -EINVAL);
	assert_int_equal(uvfio_device_write(dev, 0, 0, &v, 4), -EINVAL);

	fx_loop(x);
	snprintf(loc, sizeof(loc), "vfio-user:%s/%s.sock", x->dir, U1);
	assert_int_equal(uvfio_client_open(loc, NULL, &c), 0);
	assert_int_equal(uvfio_client_get_info(c, &di), 0);
	assert_int_equal(di.num_regions, 1);
	/* Over the wire, too: an access without a handler fails. */
	assert_true(uvfio_client_read(c, 0, 0, &v, 4) < 0);

	/* Remove with the client connected: its connection is closed. */
	assert_int_equal(uvfio_mdev_remove(x->p, U1), 0);
	assert_false(sock_exists(x, U1));
	di.argsz = sizeof(di);
	assert_true(uvfio_client_get_info(c, &di) < 0);
	uvfio_client_close(c);
	/* Nobody listens there any more. */
	assert_int_not_equal(uvfio_client_open(loc, NULL, &c), 0);
	fx_free(x);
}

/* ---- control socket -------------------------------------------------------- */

static void test_control_protocol(void **state)
{
	struct fx *x = fx_new(&ops_budget, 3);
	char path[128], out[4096], line[400];

	snprintf(path, sizeof(path), "%s/control", x->dir);
	assert_int_equal(uvfio_mdev_control_listen(x->p, path), 0);
	assert_int_equal(uvfio_mdev_control_listen(x->p, path), -EBUSY);
	{
		struct stat st;

		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	fx_loop(x);

	assert_int_equal(uvfio_mdev_control_request(path, "types", out, sizeof(out)), 0);
	assert_string_equal(out,
			    "fake-a\t3\tvfio-pci\tType A\tone unit\n"
			    "fake-b\t1\tvfio-pci\tType B\ttwo units\n");
	assert_int_equal(uvfio_mdev_control_request(path, "types --json", out, sizeof(out)), 0);
	assert_string_equal(out,
			    "[{\"id\":\"fake-a\",\"name\":\"Type A\",\"description\":\"one unit\","
			    "\"device_api\":\"vfio-pci\",\"available_instances\":3},"
			    "{\"id\":\"fake-b\",\"name\":\"Type B\",\"description\":\"two\\tunits\","
			    "\"device_api\":\"vfio-pci\",\"available_instances\":1}]\n");

	assert_int_equal(uvfio_mdev_control_request(path, "create fake-b " U1_UPPER, out,
						    sizeof(out)), 0);
	snprintf(line, sizeof(line), U1 "\tfake-b\t%s/" U1 ".sock\tunits 2\n", x->dir);
	assert_string_equal(out, line);
	assert_true(sock_exists(x, U1));

	assert_int_equal(uvfio_mdev_control_request(path, "create fake-a --json", out,
						    sizeof(out)), 0);
	assert_non_null(strstr(out, "\"type\":\"fake-a\""));
	assert_non_null(strstr(out, "\"info\":\"units 1\""));
	assert_int_equal(uvfio_mdev_count(x->p), 2);

	/* Errors carry the errno. */
	assert_int_equal(uvfio_mdev_control_request(path, "create fake-a " U1, out, sizeof(out)),
			 -EEXIST);
	assert_int_equal(uvfio_mdev_control_request(path, "create fake-a", out, sizeof(out)),
			 -ENOSPC);
	assert_int_equal(uvfio_mdev_control_request(path, "create fake-q", out, sizeof(out)),
			 -ENOENT);
	assert_int_equal(uvfio_mdev_control_request(path, "create fake-a 1234", out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(uvfio_mdev_control_request(path, "frobnicate", out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(uvfio_mdev_control_request(path, "", out, sizeof(out)), -EINVAL);
	assert_int_equal(uvfio_mdev_control_request(path, "remove", out, sizeof(out)), -EINVAL);
	assert_int_equal(uvfio_mdev_control_request(path, "remove " U2, out, sizeof(out)),
			 -ENOENT);

	assert_int_equal(uvfio_mdev_control_request(path, "list --json", out, sizeof(out)), 0);
	assert_int_equal(out[0], '[');
	assert_non_null(strstr(out, "\"uuid\":\"" U1 "\""));
	assert_int_equal(uvfio_mdev_control_request(path, "list", out, sizeof(out)), 0);
	assert_int_equal(strncmp(out, U1 "\tfake-b\t", 44), 0);
	assert_non_null(strchr(strchr(out, '\n') + 1, '\n')); /* two lines */

	assert_int_equal(uvfio_mdev_control_request(path, "remove " U1, out, sizeof(out)), 0);
	assert_false(sock_exists(x, U1));
	assert_int_equal(uvfio_mdev_count(x->p), 1);
	assert_int_equal(uvfio_mdev_control_request(path, "types", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "fake-a\t2\t"));

	/* A line longer than UVFIO_MDEV_CONTROL_LINE_MAX (no newline in a
	 * full buffer): an error line, then the connection is closed. */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		char big[UVFIO_MDEV_CONTROL_LINE_MAX + 64];
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		size_t got = 0;
		ssize_t n;

		memset(big, 'x', sizeof(big));
		assert_true(strlen(path) < sizeof(sa.sun_path));
		memcpy(sa.sun_path, path, strlen(path) + 1);
		assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(send(fd, big, sizeof(big), MSG_NOSIGNAL), (ssize_t)sizeof(big));
		while (got < sizeof(out) - 1 && (n = recv(fd, out + got, sizeof(out) - 1 - got, 0)) > 0)
			got += (size_t)n; /* until EOF: the parent closed it */
		out[got] = '\0';
		assert_non_null(strstr(out, "request line too long"));
		close(fd);
	}

	/* The client refuses what the protocol cannot carry. */
	memset(line, 'a', 300);
	line[300] = '\0';
	assert_int_equal(uvfio_mdev_control_request(path, line, out, sizeof(out)), -EINVAL);
	assert_int_equal(uvfio_mdev_control_request(path, "list\nremove " U1, out, sizeof(out)),
			 -EINVAL);
	/* The server too: a line longer than the protocol allows is an error,
	 * and the connection ends. */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		char big[400], reply[64] = { 0 };
		ssize_t n, got = 0;

		strcpy(sa.sun_path, path);
		assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\n';
		assert_int_equal(send(fd, big, sizeof(big), MSG_NOSIGNAL), (ssize_t)sizeof(big));
		while ((n = read(fd, reply + got, sizeof(reply) - 1 - (size_t)got)) > 0)
			got += n;
		assert_int_equal(strncmp(reply, "error 22 ", 9), 0);
		close(fd);
	}
	fx_free(x);
	assert_int_equal(access(path, F_OK), -1);
}

static void quiet(enum uvfio_log_level level, const char *who, const char *msg,
		  void *opaque)
{
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_parent_rejects),
		cmocka_unit_test(test_lifecycle_max_instances),
		cmocka_unit_test(test_lifecycle_budget),
		cmocka_unit_test(test_serve_and_remove_closes_client),
		cmocka_unit_test(test_control_protocol),
	};

	uvfio_log_set_sink(quiet, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
