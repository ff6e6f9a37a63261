/* SPDX-License-Identifier: MIT */
/*
 * `uvfio serve` as a real process: the socket appears with its mode, a
 * client can connect, SIGTERM/SIGINT end it cleanly and remove the socket,
 * a path in use is refused, the gpio control socket answers, and usage
 * errors exit 2. argv[1] is the uvfio binary.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

static const char *uvfio_bin;

struct proc_fixture {
	char dir[64];
	char sock[128];
	int spawned;
	pid_t pids[64]; /* every child started, killed at teardown if still there */
	char out[128]; /* stdout of the last child started */
	char err[128]; /* its stderr */
};

static int setup(void **state)
{
	struct proc_fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/uvfio-serve-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/dev.sock", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct proc_fixture *f = *state;
	char cmd[160];

	/* A failed assertion skips a test's own cleanup: no child outlives it. */
	for (int i = 0; i < f->spawned && i < 64; i++) {
		if (f->pids[i] > 0 && waitpid(f->pids[i], NULL, WNOHANG) == 0) {
			kill(f->pids[i], SIGKILL);
			waitpid(f->pids[i], NULL, 0);
		}
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return 0;
}

/* Starts `uvfio ARGS...` (NULL-terminated) with stdout/stderr to files. */
static pid_t spawn(struct proc_fixture *f, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;
	pid_t pid;

	argv[argc++] = (char *)uvfio_bin;
	va_start(ap, f);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	/* Files of their own: a child still running keeps writing to its. */
	f->spawned++;
	snprintf(f->out, sizeof(f->out), "%s/stdout.%d", f->dir, f->spawned);
	snprintf(f->err, sizeof(f->err), "%s/stderr.%d", f->dir, f->spawned);

	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		int out = open(f->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int err = open(f->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
			_exit(127);
		unsetenv("UVFIO_LOG");
		execv(uvfio_bin, argv);
		_exit(127);
	}
	if (f->spawned <= 64)
		f->pids[f->spawned - 1] = pid;
	return pid;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Exit status of `pid`, failing the test if it runs past `ms`. */
static int wait_exit(pid_t pid, long ms)
{
	int status;

	for (long t = 0; t < ms; t += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		assert_true(r >= 0);
		if (r == pid) {
			assert_true(WIFEXITED(status));
			return WEXITSTATUS(status);
		}
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fail_msg("uvfio did not exit within %ld ms", ms);
	return -1;
}

static int try_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Waits until `path` accepts connections (the server is up). */
static void wait_listening(pid_t pid, const char *path)
{
	for (int t = 0; t < 500; t++) {
		int fd = try_connect(path);
		int status;

		if (fd >= 0) {
			close(fd);
			return;
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			fail_msg("uvfio exited before listening on %s", path);
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	fail_msg("%s never accepted a connection", path);
}

static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not in:\n%s", needle, hay);
}

static void test_edu_socket_lifecycle(void **state)
{
	struct proc_fixture *f = *state;
	pid_t pid = spawn(f, "serve", "edu", "--socket", f->sock, NULL);
	struct stat st;

	wait_listening(pid, f->sock);
	assert_int_equal(lstat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);

	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(wait_exit(pid, 5000), 0);
	assert_int_equal(lstat(f->sock, &st), -1);
	assert_int_equal(errno, ENOENT);
	/* The default level is info: connection events are logged. */
	assert_contains(slurp(f->err), "info:");
}

/*
 * The socket file appears only once it accepts connections: a client that
 * waits for the path and connects at once is never refused (the server
 * listens under a temporary name and renames it into place).
 */
static void test_socket_appears_listening(void **state)
{
	struct proc_fixture *f = *state;
	struct stat st;

	for (int round = 0; round < 20; round++) {
		pid_t pid = spawn(f, "serve", "testdev", "--socket", f->sock, NULL);
		int fd = -1;

		for (int t = 0; t < 50000 && lstat(f->sock, &st); t++)
			usleep(100);
		assert_int_equal(lstat(f->sock, &st), 0);
		fd = try_connect(f->sock);
		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(kill(pid, SIGTERM), 0);
		assert_int_equal(wait_exit(pid, 5000), 0);
	}
}

static void test_sigint_and_mode(void **state)
{
	struct proc_fixture *f = *state;
	pid_t pid = spawn(f, "serve", "--socket", f->sock, "--mode", "0640", "edu", NULL);
	struct stat st;

	wait_listening(pid, f->sock);
	assert_int_equal(lstat(f->sock, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(kill(pid, SIGINT), 0);
	assert_int_equal(wait_exit(pid, 5000), 0);
	assert_int_equal(lstat(f->sock, &st), -1);
}

/* A group for the socket that differs from ours when we may chown to one. */
static gid_t other_group(void)
{
	struct group *g;
	gid_t want = getegid();

	if (geteuid() != 0)
		return want; /* without privilege only our own groups are allowed */
	setgrent();
	while ((g = getgrent()))
		if (g->gr_gid != getegid()) {
			want = g->gr_gid;
			break;
		}
	endgrent();
	return want;
}

static void test_group(void **state)
{
	struct proc_fixture *f = *state;
	char gid[16];
	gid_t g = other_group();
	struct stat st;
	pid_t pid;

	snprintf(gid, sizeof(gid), "%u", (unsigned int)g);
	pid = spawn(f, "serve", "edu", "--socket", f->sock, "--mode", "0660", "--group", gid, NULL);
	wait_listening(pid, f->sock);
	assert_int_equal(lstat(f->sock, &st), 0);
	assert_int_equal(st.st_gid, g);
	assert_int_equal(st.st_mode & 07777, 0660);
	kill(pid, SIGTERM);
	assert_int_equal(wait_exit(pid, 5000), 0);
	/* a group that does not exist: no socket, a failure exit */
	pid = spawn(f, "serve", "edu", "--socket", f->sock, "--group", "no-such-group-uvfio", NULL);
	assert_int_not_equal(wait_exit(pid, 5000), 0);
	assert_int_equal(lstat(f->sock, &st), -1);
}

/* VERSION 0.0; 1 if a reply came, 0 if the server closed, -1 on timeout. */
static int version_answered(const char *path)
{
	uint8_t m[20] = { 0 }, r[64];
	uint32_t size = sizeof(m);
	uint16_t id = 1, cmd = 1;
	struct timeval tv = { .tv_sec = 3 };
	int fd = try_connect(path);
	ssize_t n;

	assert_true(fd >= 0);
	memcpy(m, &id, 2);
	memcpy(m + 2, &cmd, 2);
	memcpy(m + 4, &size, 4);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = send(fd, m, sizeof(m), MSG_NOSIGNAL);
	(void)n;
	n = recv(fd, r, sizeof(r), 0);
	close(fd);
	if (n >= 16)
		return (r[8] & 0xf) == 1 && !(r[8] & 0x20) ? 1 : 0;
	if (n == 0 || (n < 0 && errno == ECONNRESET))
		return 0;
	return -1;
}

/* SO_PEERCRED allow lists: a peer not on them is closed and logged with its
 * uid, gid and pid; one on them (by uid or by gid) is served. */
static void test_peer_credentials(void **state)
{
	struct proc_fixture *f = *state;
	char other[16], me[16], mygid[16], line[96];
	pid_t pid;

	snprintf(other, sizeof(other), "%u", (unsigned int)geteuid() + 4242);
	snprintf(me, sizeof(me), "%u", (unsigned int)geteuid());
	snprintf(mygid, sizeof(mygid), "%u", (unsigned int)getegid());

	pid = spawn(f, "serve", "edu", "--socket", f->sock, "--allow-uid", other,
		    "--allow-gid", "4242424", NULL);
	wait_listening(pid, f->sock);
	assert_int_equal(version_answered(f->sock), 0);
	kill(pid, SIGTERM);
	assert_int_equal(wait_exit(pid, 5000), 0);
	snprintf(line, sizeof(line), "refused a client: uid %s gid %s pid %d", me, mygid,
		 (int)getpid());
	assert_contains(slurp(f->err), line);

	pid = spawn(f, "serve", "edu", "--socket", f->sock, "--allow-uid", other, NULL);
	wait_listening(pid, f->sock);
	kill(pid, SIGTERM);
	wait_exit(pid, 5000);

	snprintf(line, sizeof(line), "%s,%s", other, me);
	pid = spawn(f, "serve", "edu", "--socket", f->sock, "--allow-uid", line, NULL);
	wait_listening(pid, f->sock);
	assert_int_equal(version_answered(f->sock), 1);
	kill(pid, SIGTERM);
	assert_int_equal(wait_exit(pid, 5000), 0);

	pid = spawn(f, "serve", "edu", "--socket", f->sock, "--allow-uid", other,
		    "--allow-gid", mygid, NULL);
	wait_listening(pid, f->sock);
	assert_int_equal(version_answered(f->sock), 1);
	kill(pid, SIGTERM);
	assert_int_equal(wait_exit(pid, 5000), 0);

	/* bad lists are usage errors */
	pid = spawn(f, "serve", "edu", "--socket", f->sock, "--allow-uid", "no-such-user-uvfio", NULL);
	assert_int_equal(wait_exit(pid, 5000), 2);
	pid = spawn(f, "serve", "edu", "--socket", f->sock, "--allow-gid", "", NULL);
	assert_int_equal(wait_exit(pid, 5000), 2);
}

static void test_path_in_use(void **state)
{
	struct proc_fixture *f = *state;
	pid_t first = spawn(f, "serve", "edu", "--socket", f->sock, NULL);
	pid_t second;
	int fd;

	wait_listening(first, f->sock);
	second = spawn(f, "serve", "edu", "--socket", f->sock, NULL);
	assert_int_equal(wait_exit(second, 5000), 1);
	assert_contains(slurp(f->err), f->sock);
	assert_contains(slurp(f->err), "running server");
	/* The first one still owns and serves the path. */
	fd = try_connect(f->sock);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(kill(first, SIGTERM), 0);
	assert_int_equal(wait_exit(first, 5000), 0);
}

static void control_request(int fd, const char *req, const char *want)
{
	char buf[128];
	size_t got = 0;

	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (got < sizeof(buf) - 1 && !memchr(buf, '\n', got)) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);

		assert_true(n > 0);
		got += (size_t)n;
	}
	buf[got] = '\0';
	assert_string_equal(buf, want);
}

static void test_gpio_control(void **state)
{
	struct proc_fixture *f = *state;
	char ctl[160];
	pid_t pid;
	struct stat st;
	int fd;

	snprintf(ctl, sizeof(ctl), "%s/control", f->dir);
	pid = spawn(f, "serve", "gpio", "--socket", f->sock, "--control", ctl, NULL);
	wait_listening(pid, f->sock);
	fd = try_connect(ctl);
	assert_true(fd >= 0);
	control_request(fd, "inputs 0x5\n", "ok\n");
	control_request(fd, "inputs\n", "0x0005\n");
	control_request(fd, "outputs\n", "0x0000\n");
	close(fd);
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(wait_exit(pid, 5000), 0);
	assert_int_equal(lstat(f->sock, &st), -1);
	assert_int_equal(lstat(ctl, &st), -1);
}

static void test_usage_errors(void **state)
{
	struct proc_fixture *f = *state;

	assert_int_equal(wait_exit(spawn(f, "serve", "nope", "--socket", f->sock, NULL),
				   5000), 2);
	assert_contains(slurp(f->err),
			"uvfio: serve: unknown device 'nope' (see 'uvfio serve --list')");
	assert_int_equal(wait_exit(spawn(f, "serve", "edu", NULL), 5000), 2);
	assert_contains(slurp(f->err), "--socket");
	assert_int_equal(wait_exit(spawn(f, "serve", "edu", "--socket", f->sock,
					 "--mode", "9", NULL), 5000), 2);
	assert_int_equal(wait_exit(spawn(f, "serve", "edu", "--socket", f->sock,
					 "--bogus", NULL), 5000), 2);
	assert_int_equal(wait_exit(spawn(f, "serve", "gpio", "--socket", f->sock,
					 "--control", NULL), 5000), 2);
	/* None of them left a socket behind. */
	assert_int_equal(access(f->sock, F_OK), -1);
}

static void test_list_and_help(void **state)
{
	struct proc_fixture *f = *state;

	assert_int_equal(wait_exit(spawn(f, "serve", "--list", NULL), 5000), 0);
	assert_contains(slurp(f->out), "edu ");
	assert_contains(slurp(f->out), "gpio ");
	assert_int_equal(wait_exit(spawn(f, "serve", "--help", NULL), 5000), 0);
	assert_contains(slurp(f->out), "inputs VALUE");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_edu_socket_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_appears_listening, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigint_and_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio_control, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_help, setup, teardown),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-TO-UVFIO\n", argv[0]);
		return 2;
	}
	uvfio_bin = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
