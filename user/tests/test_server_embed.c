/* SPDX-License-Identifier: MIT */
/*
 * The server API in-process: socket mode (umask-proof), an inherited listen
 * fd, the embed loop (fd + dispatch), stop from a signal handler and from
 * another thread, disconnect handling, and the dirty-bitmap DMA_UNMAP
 * (logging is started in-process: no feature exposes it on the wire yet).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <cmocka.h>

#include <uvfio/server.h>

#include "devices/testdev.h"
#include "tests/proc/vu_raw.h"

static struct raw_msg rm;
static char dir[64], path[128];
static struct uvfio_device *dev;

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/uvfio-embed-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	dev = testdev_create();
	assert_non_null(dev);
	assert_int_equal(uvfio_device_register(dev), 0);
	return 0;
}

static int teardown(void **state)
{
	uvfio_device_unregister(dev);
	unlink(path);
	rmdir(dir);
	return 0;
}

static int client(void)
{
	struct raw_server s;

	strcpy(s.path, path);
	return raw_connect(&s);
}

/* One request: send, let the server dispatch, read the reply. */
static int call(struct uvfio_server *srv, int fd, uint16_t cmd, const void *p,
		size_t len, const int *fds, unsigned int nfds)
{
	static uint16_t id;

	raw_cmd(fd, ++id, cmd, 0, p, len, fds, nfds);
	for (int i = 0; i < 100; i++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		assert_int_equal(uvfio_server_dispatch(srv, 10), 0);
		if (poll(&pfd, 1, 0) == 1)
			break;
	}
	assert_int_equal(raw_recv(fd, &rm, 1000), 0);
	assert_int_equal(rm.h.msg_id, id);
	return rm.h.flags & VFIO_USER_F_ERROR ? (int)rm.h.error_no : 0;
}

static void version(struct uvfio_server *srv, int fd)
{
	assert_int_equal(call(srv, fd, VFIO_USER_VERSION, "\0\0\0\0", 4, NULL, 0), 0);
}

static mode_t sock_mode(void)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	return st.st_mode & 07777;
}

static void test_socket_mode(void **state)
{
	struct uvfio_server_opts o = { .listen_fd = -1 };
	struct uvfio_server *srv;
	mode_t old = umask(0);
	int fd;

	/* default 0600 even with umask 0 */
	assert_int_equal(uvfio_server_create(dev, path, NULL, &srv), 0);
	assert_int_equal(sock_mode(), 0600);
	/* a second server never takes a live server's path */
	{
		struct uvfio_server *srv2;

		assert_int_equal(uvfio_server_create(dev, path, NULL, &srv2), -EADDRINUSE);
		assert_int_equal(sock_mode(), 0600);
	}
	/* destroy unlinks */
	uvfio_server_destroy(srv);
	assert_int_not_equal(access(path, F_OK), 0);
	/* a stale socket (nobody listening) is replaced */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		strcpy(sa.sun_path, path);
		assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(s);
		assert_int_equal(uvfio_server_create(dev, path, NULL, &srv), 0);
		uvfio_server_destroy(srv);
	}

	/* an explicit mode, and a restrictive umask does not narrow it */
	umask(0077);
	o.mode = 0660;
	assert_int_equal(uvfio_server_create(dev, path, &o, &srv), 0);
	assert_int_equal(sock_mode(), 0660);
	uvfio_server_destroy(srv);

	/* a regular file at the path is never replaced */
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(uvfio_server_create(dev, path, NULL, &srv), -EEXIST);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
	/* a path that does not fit sun_path */
	{
		char longp[200];

		memset(longp, 'a', sizeof(longp) - 1);
		longp[sizeof(longp) - 1] = 0;
		assert_int_equal(uvfio_server_create(dev, longp, NULL, &srv), -ENAMETOOLONG);
	}
	assert_int_equal(uvfio_server_create(dev, NULL, NULL, &srv), -EINVAL);
	umask(old);
}

static void test_embed_and_disconnect(void **state)
{
	struct uvfio_server *srv;
	struct pollfd pfd;
	int fd;

	assert_int_equal(uvfio_server_create(dev, path, NULL, &srv), 0);
	assert_false(uvfio_server_has_client(srv));
	fd = client();
	/* the embed fd turns readable for the new client */
	pfd = (struct pollfd){ .fd = uvfio_server_fd(srv), .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_int_equal(uvfio_server_dispatch(srv, 0), 0);
	assert_true(uvfio_server_has_client(srv));
	version(srv, fd);
	assert_int_equal(uvfio_device_open_count(dev), 1);
	assert_non_null(uvfio_device_dma(dev));

	/* disconnect: DMA space gone, device closed, next client accepted */
	close(fd);
	for (int i = 0; i < 100 && uvfio_server_has_client(srv); i++)
		assert_int_equal(uvfio_server_dispatch(srv, 10), 0);
	assert_false(uvfio_server_has_client(srv));
	assert_int_equal(uvfio_device_open_count(dev), 0);
	assert_null(uvfio_device_dma(dev));
	fd = client();
	version(srv, fd);
	close(fd);
	uvfio_server_destroy(srv); /* with a client still attached */
	assert_int_equal(uvfio_device_open_count(dev), 0);
}

static void test_listen_fd(void **state)
{
	struct uvfio_server_opts o = { .listen_fd = -1 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct uvfio_server *srv;
	int lfd, fd;

	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	o.listen_fd = lfd;
	assert_int_equal(uvfio_server_create(dev, NULL, &o, &srv), 0);
	fd = client();
	assert_int_equal(uvfio_server_dispatch(srv, 1000), 0);
	version(srv, fd);
	close(fd);
	uvfio_server_destroy(srv); /* closes lfd; the path is the caller's */
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
}

static struct uvfio_server *alarm_srv;

static void on_alarm(int sig)
{
	uvfio_server_stop(alarm_srv);
}

static void *stopper(void *arg)
{
	usleep(50000);
	uvfio_server_stop(arg);
	return NULL;
}

static void test_stop(void **state)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_usec = 50000 } };
	pthread_t t;

	assert_int_equal(uvfio_server_create(dev, path, NULL, &alarm_srv), 0);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	assert_int_equal(uvfio_server_run(alarm_srv), 0); /* returns: stopped */
	uvfio_server_destroy(alarm_srv);

	assert_int_equal(uvfio_server_create(dev, path, NULL, &alarm_srv), 0);
	pthread_create(&t, NULL, stopper, alarm_srv);
	assert_int_equal(uvfio_server_run(alarm_srv), 0);
	pthread_join(t, NULL);
	uvfio_server_destroy(alarm_srv);
}

static void test_dirty_bitmap_unmap(void **state)
{
	struct uvfio_server *srv;
	struct vfio_user_dma_map m = { .argsz = 32, .flags = 3, .addr = 0x100000,
				       .size = 16 * 4096 };
	uint32_t un[10] = { 40, VFIO_USER_F_DMA_UNMAP_GET_DIRTY_BITMAP, 0x100000, 0,
			    16 * 4096, 0, 4096, 0, 8, 0 };
	uint64_t bits, one = 1;
	int fd, mfd;

	assert_int_equal(uvfio_server_create(dev, path, NULL, &srv), 0);
	fd = client();
	version(srv, fd);
	mfd = memfd_create("ram", MFD_CLOEXEC);
	assert_int_equal(ftruncate(mfd, 16 * 4096), 0);
	assert_int_equal(call(srv, fd, VFIO_USER_DMA_MAP, &m, 32, &mfd, 1), 0);
	close(mfd);
	/* not logging: the bitmap request is refused */
	assert_int_equal(call(srv, fd, VFIO_USER_DMA_UNMAP, un, 40, NULL, 0), EINVAL);

	assert_int_equal(uvfio_dma_log_start(uvfio_device_dma(dev), 4096), 0);
	assert_int_equal(uvfio_device_dma_write(dev, 0x100000 + 3 * 4096, &one, 8), 0);
	assert_int_equal(uvfio_device_dma_write(dev, 0x100000 + 15 * 4096, &one, 8), 0);
	/* a bitmap too small for 16 pages */
	un[8] = 1;
	assert_int_equal(call(srv, fd, VFIO_USER_DMA_UNMAP, un, 40, NULL, 0), EINVAL);
	un[8] = 8;
	assert_int_equal(call(srv, fd, VFIO_USER_DMA_UNMAP, un, 40, NULL, 0), 0);
	assert_int_equal(rm.len, 24 + 16 + 8);
	assert_int_equal(*(uint32_t *)rm.p, 48);
	memcpy(&bits, rm.p + 40, 8);
	assert_int_equal(bits, (1ull << 3) | (1ull << 15));
	/* the window is gone */
	un[1] = 0;
	assert_int_equal(call(srv, fd, VFIO_USER_DMA_UNMAP, un, 24, NULL, 0), ENOENT);
	close(fd);
	uvfio_server_destroy(srv);
}

static uint64_t thread_val;

static void *dma_from_thread(void *arg)
{
	return (void *)(intptr_t)uvfio_device_dma_read(dev, 0x200000, &thread_val,
						     sizeof(thread_val));
}

/* Answer DMA_READ request `id` with 8 bytes of `v`. */
static void answer_read(int fd, uint16_t id, uint64_t v)
{
	uint8_t rep[16 + 16 + 8];
	struct vfio_user_header h = { .msg_id = id, .cmd = VFIO_USER_DMA_READ,
				      .msg_size = sizeof(rep),
				      .flags = VFIO_USER_F_TYPE_REPLY };
	uint64_t addr = 0x200000, count = 8;

	memcpy(rep, &h, 16);
	memcpy(rep + 16, &addr, 8);
	memcpy(rep + 24, &count, 8);
	memcpy(rep + 32, &v, 8);
	assert_int_equal(send(fd, rep, sizeof(rep), 0), (ssize_t)sizeof(rep));
}

/* The client side of one message DMA, in a thread: answer the DMA_READ,
 * after pipelining a GET_INFO that the server must answer meanwhile. */
static void *answer_dma(void *arg)
{
	static struct raw_msg m;
	int fd = (int)(intptr_t)arg;
	uint32_t gi[4] = { 16, 0, 0, 0 };
	uint8_t rep[16 + 16 + 8];
	struct vfio_user_header h;
	uint64_t val = 0xabcdef;

	if (raw_recv(fd, &m, 2000) || m.h.cmd != VFIO_USER_DMA_READ)
		return (void *)1;
	raw_cmd(fd, 0x4242, VFIO_USER_DEVICE_GET_INFO, 0, gi, 16, NULL, 0);
	h = (struct vfio_user_header){ .msg_id = m.h.msg_id, .cmd = m.h.cmd,
				       .msg_size = sizeof(rep),
				       .flags = VFIO_USER_F_TYPE_REPLY };
	memcpy(rep, &h, 16);
	memcpy(rep + 16, m.p, 16); /* addr, count echoed */
	memcpy(rep + 32, &val, 8);
	raw_send(fd, rep, sizeof(rep), NULL, 0);
	return NULL;
}

/*
 * Message-based DMA from outside a dispatch: from the server's thread
 * between dispatch calls (as from a uvfio_server_add_fd callback: commands
 * that arrive meanwhile are answered at once); from a device thread while
 * the server thread dispatches, which hands it the reply; a disconnect
 * fails the device thread's DMA with -ECONNRESET.
 */
static void test_msg_dma_outside_dispatch(void **state)
{
	struct uvfio_server *srv;
	struct vfio_user_dma_map m = { .argsz = 32, .flags = 3, .addr = 0x200000,
				       .size = 4096 };
	struct pollfd pfd;
	pthread_t t;
	uint16_t req_id;
	void *ret;
	uint64_t v = 0;
	int fd;

	assert_int_equal(uvfio_server_create(dev, path, NULL, &srv), 0);
	fd = client();
	version(srv, fd);
	assert_int_equal(call(srv, fd, VFIO_USER_DMA_MAP, &m, 32, NULL, 0), 0);
	/* The server's thread between dispatch calls. */
	pthread_create(&t, NULL, answer_dma, (void *)(intptr_t)fd);
	assert_int_equal(uvfio_device_dma_read(dev, 0x200000, &v, sizeof(v)), 0);
	pthread_join(t, &ret);
	assert_null(ret);
	assert_int_equal(v, 0xabcdef);
	/* the GET_INFO sent during the DMA was answered during it */
	assert_int_equal(raw_recv(fd, &rm, 1000), 0);
	assert_int_equal(rm.h.msg_id, 0x4242);
	assert_int_equal(rm.h.flags, VFIO_USER_F_TYPE_REPLY);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 50), 0); /* nothing else */

	/* A device thread: its request goes out, the reply is routed to it. */
	pthread_create(&t, NULL, dma_from_thread, NULL);
	assert_int_equal(raw_recv(fd, &rm, 2000), 0);
	assert_int_equal(rm.h.cmd, VFIO_USER_DMA_READ);
	req_id = rm.h.msg_id;
	/* meanwhile the server thread answers commands */
	assert_int_equal(call(srv, fd, VFIO_USER_DEVICE_GET_INFO, "\x10\0\0\0", 4, NULL, 0) >= 0,
			 1);
	answer_read(fd, req_id, 0x1122334455667788ull);
	assert_int_equal(uvfio_server_dispatch(srv, 1000), 0);
	pthread_join(t, &ret);
	assert_int_equal((intptr_t)ret, 0);
	assert_int_equal(thread_val, 0x1122334455667788ull);

	/* The client leaves while a device thread waits: -ECONNRESET. */
	pthread_create(&t, NULL, dma_from_thread, NULL);
	assert_int_equal(raw_recv(fd, &rm, 2000), 0);
	assert_int_equal(rm.h.cmd, VFIO_USER_DMA_READ);
	close(fd);
	for (int i = 0; i < 20 && uvfio_server_has_client(srv); i++)
		uvfio_server_dispatch(srv, 100);
	assert_false(uvfio_server_has_client(srv));
	pthread_join(t, &ret);
	assert_int_equal((intptr_t)ret, -ECONNRESET);
	uvfio_server_destroy(srv);
}

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/*
 * Random commands (random flags, payloads, sizes) from one client. After
 * each, a GET_INFO must be answered: on the same connection, or on a new
 * one if the server dropped the old (it may only do that for framing
 * errors). Under ASan this is the server's fuzz test.
 */
static void test_random_commands(void **state)
{
	static const uint16_t cmds[] = { 0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
					 15, 16, 17, 18, 19, 200 };
	struct uvfio_server *srv;
	uint8_t msg[16 + 96];
	int fd, drops = 0, errors = 0;

	assert_int_equal(uvfio_server_create(dev, path, NULL, &srv), 0);
	fd = client();
	version(srv, fd);
	for (int it = 0; it < 3000; it++) {
		struct vfio_user_header h = { .msg_id = 0xf000 };
		size_t len = rnd() % 96;
		uint32_t gi[4] = { 16, 0, 0, 0 };
		bool got = false;

		h.cmd = cmds[rnd() % (sizeof(cmds) / sizeof(cmds[0]))];
		h.flags = rnd() % 8 == 0 ? rnd() : (rnd() % 4 == 0 ? VFIO_USER_F_NO_REPLY : 0);
		h.msg_size = (uint32_t)(16 + len);
		if (rnd() % 50 == 0)
			h.msg_size = rnd();
		for (size_t i = 0; i < len; i++)
			msg[16 + i] = (uint8_t)(rnd() % 4 ? rnd() % 8 : rnd());
		/* plausible argsz/sizes in front, so handlers get past parsing */
		if (len >= 4 && rnd() % 2) {
			uint32_t a = (uint32_t)len;
			memcpy(msg + 16, &a, 4);
		}
		memcpy(msg, &h, 16);
		if (send(fd, msg, 16 + len, MSG_NOSIGNAL) < 0)
			goto reconnect;
		raw_cmd(fd, 0x7777, VFIO_USER_DEVICE_GET_INFO, 0, gi, 16, NULL, 0);
		for (int k = 0; k < 300 && !got; k++) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			assert_int_equal(uvfio_server_dispatch(srv, 5), 0);
			while (!got && poll(&pfd, 1, 0) == 1) {
				if (raw_recv(fd, &rm, 100))
					goto reconnect;
				raw_close_fds(&rm);
				if (rm.h.msg_id == 0x7777 && rm.h.cmd == VFIO_USER_DEVICE_GET_INFO) {
					got = true;
					if (rm.h.flags & VFIO_USER_F_ERROR)
						errors++;
				}
			}
		}
		if (got)
			continue;
reconnect:
		/* only a lost framing may cost the connection */
		drops++;
		close(fd);
		for (int k = 0; k < 100 && uvfio_server_has_client(srv); k++)
			assert_int_equal(uvfio_server_dispatch(srv, 5), 0);
		assert_false(uvfio_server_has_client(srv));
		fd = client();
		version(srv, fd);
	}
	print_message("random commands: %d drops\n", drops);
	/* GET_INFO always worked when the connection stayed */
	assert_int_equal(errors, 0);
	/* framing errors are rare in this mix: most iterations kept the connection */
	assert_true(drops < 300);
	close(fd);
	uvfio_server_destroy(srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_mode),
		cmocka_unit_test(test_embed_and_disconnect),
		cmocka_unit_test(test_listen_fd),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_dirty_bitmap_unmap),
		cmocka_unit_test(test_msg_dma_outside_dispatch),
		cmocka_unit_test(test_random_commands),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
