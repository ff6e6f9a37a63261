/* SPDX-License-Identifier: MIT */
/*
 * uvfio trace --listen A --connect B [--json] [--filter CMD,...]
 *
 * A transparent proxy between a vfio-user client and a server. Each client
 * that connects to A gets its own connection to B; every message is
 * forwarded unchanged (header, payload, and the fds that came with it, both
 * ways) and then printed decoded. The proxy never answers for either side:
 * a server that refuses a second client refuses it through the proxy too.
 *
 * Framing and fd passing are the transport's (user/transport.h), decoding
 * is trace_decode.c on top of the codec. One thread, one poll loop.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "commands.h"
#include "tool_error.h"
#include "trace_decode.h"
#include "user/transport.h"

#define TRACE_MAX_SESSIONS 8
#define TRACE_TIMEOUT_MS 10000 /* a started message must complete within it */
#define TRACE_MAX_MSG VFIO_USER_MAX_MSG_SIZE(VFIO_USER_MAX_MAX_DATA_XFER)
#define TRACE_MAX_FILTER VFIO_USER_MAX_CMD

enum { C2S = 0, S2C = 1 };

struct session {
	unsigned int id;
	int fd[2];		  /* [C2S] the client, [S2C] the server */
	struct uvfio_tp tp[2];
	bool eof[2];		  /* side d closed; the other side got SHUT_WR */
	/* Requests sent by side d still waiting for their reply: receipt
	 * time by msg_id (0: none), and the command. */
	uint64_t *pending[2];
	uint16_t *pending_cmd[2];
};

struct tracer {
	const char *listen_path, *connect_path;
	bool json;
	bool filter_on;
	bool filter[TRACE_MAX_FILTER + 1];
	uint64_t t0;
	uint8_t *buf;
	size_t buf_cap;
	unsigned int next_id;
	struct session *s[TRACE_MAX_SESSIONS];
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: uvfio trace --listen PATH --connect PATH [--json] [--filter CMD,...]\n"
		"\n"
		"A transparent vfio-user proxy: clients connect to --listen, each gets its\n"
		"own connection to the server at --connect, and every message is forwarded\n"
		"unchanged (with its fds) and printed decoded: direction, command, msg_id,\n"
		"flags, the command's fields, fds, errno of error replies, and the latency\n"
		"from a request to its reply.\n"
		"\n"
		"  --listen PATH     the socket clients connect to (must not be in use)\n"
		"  --connect PATH    the server's socket (vfio-user:PATH also accepted)\n"
		"  --json            one JSON object per message and line\n"
		"  --filter CMD,...  print only these commands (e.g. REGION_READ,DMA_MAP)\n"
		"  -h, --help        this text\n"
		"\n"
		"Runs until SIGINT or SIGTERM.\n");
}

static const char *strip_scheme(const char *loc)
{
	return strncmp(loc, "vfio-user:", 10) ? loc : loc + 10;
}

static int parse_filter(struct tracer *t, char *list)
{
	char *save = NULL;

	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool found = false;

		for (uint16_t c = 1; c < VFIO_USER_MAX_CMD; c++)
			if (trace_cmd_matches(tok, c)) {
				t->filter[c] = true;
				found = true;
			}
		if (!found) {
			fprintf(stderr, "uvfio: trace: --filter: '%s' is not a vfio-user command "
					"(e.g. VERSION, DMA_MAP, REGION_READ)\n", tok);
			return -EINVAL;
		}
	}
	t->filter_on = true;
	return 0;
}

/* ---- printing ------------------------------------------------------------------ */

static void json_string(const char *s, size_t len)
{
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static size_t field_len(const struct trace_field *f)
{
	return f->s_len ? f->s_len : strlen(f->s);
}

static void print_msg(const struct tracer *t, const struct session *s, int dir,
		      const struct trace_msg *m, uint64_t now, uint64_t latency_ns,
		      bool has_latency)
{
	double ts = (double)(now - t->t0) / 1e9;
	const char *ename = m->error ? strerrorname_np((int)m->h.error_no) : NULL;

	if (t->json) {
		printf("{\"time\": %.6f, \"conn\": %u, \"dir\": \"%s\", \"cmd\": \"%s\", "
		       "\"cmd_id\": %u, \"msg_id\": %u, \"msg_size\": %u, \"reply\": %s, "
		       "\"no_reply\": %s, \"error\": %s, \"fds\": %u",
		       ts, s->id, dir == C2S ? "c2s" : "s2c", m->cmd, m->h.cmd, m->h.msg_id,
		       m->h.msg_size, m->reply ? "true" : "false",
		       m->no_reply ? "true" : "false", m->error ? "true" : "false", m->nfds);
		if (m->error) {
			printf(", \"errno\": %u", m->h.error_no);
			if (ename)
				printf(", \"errno_name\": \"%s\"", ename);
		}
		if (m->malformed)
			printf(", \"malformed\": true");
		if (has_latency)
			printf(", \"latency_us\": %.1f", (double)latency_ns / 1e3);
		printf(", \"fields\": {");
		for (unsigned int i = 0; i < m->nfields; i++) {
			const struct trace_field *f = &m->f[i];

			printf("%s\"%s\": ", i ? ", " : "", f->key);
			if (f->kind == TRACE_STR)
				json_string(f->s, field_len(f));
			else if (f->kind == TRACE_BOOL)
				printf("%s", f->v ? "true" : "false");
			else
				printf("%llu", (unsigned long long)f->v);
		}
		printf("}}\n");
		return;
	}
	printf("%10.6f #%u %s %-24s id=%u", ts, s->id, dir == C2S ? "C>S" : "S>C", m->cmd,
	       m->h.msg_id);
	if (m->reply)
		printf(" reply");
	if (m->no_reply)
		printf(" no_reply");
	if (m->error)
		printf(" error errno=%u (%s)", m->h.error_no, ename ? ename : "?");
	for (unsigned int i = 0; i < m->nfields; i++) {
		const struct trace_field *f = &m->f[i];

		if (f->kind == TRACE_STR)
			printf(" %s=%.*s", f->key, (int)field_len(f), f->s);
		else if (f->kind == TRACE_HEX)
			printf(" %s=%#llx", f->key, (unsigned long long)f->v);
		else
			printf(" %s=%llu", f->key, (unsigned long long)f->v);
	}
	if (m->nfds)
		printf(" fds=%u", m->nfds);
	if (m->malformed)
		printf(" MALFORMED");
	printf(" msg_size=%u", m->h.msg_size);
	if (has_latency)
		printf(" latency=%.1fus", (double)latency_ns / 1e3);
	printf("\n");
}

/* ---- sessions -------------------------------------------------------------------- */

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void session_free(struct session *s)
{
	for (int d = 0; d < 2; d++) {
		if (s->fd[d] >= 0) {
			uvfio_tp_fini(&s->tp[d]);
			close(s->fd[d]);
		}
		free(s->pending[d]);
		free(s->pending_cmd[d]);
	}
	free(s);
}

static struct session *session_new(struct tracer *t, int cfd)
{
	struct session *s = calloc(1, sizeof(*s));
	int sfd;

	if (!s) {
		close(cfd);
		return NULL;
	}
	s->fd[C2S] = cfd;
	s->fd[S2C] = -1;
	for (int d = 0; d < 2; d++) {
		s->pending[d] = calloc(65536, sizeof(uint64_t));
		s->pending_cmd[d] = calloc(65536, sizeof(uint16_t));
		if (!s->pending[d] || !s->pending_cmd[d])
			goto fail;
	}
	if (uvfio_tp_init(&s->tp[C2S], cfd, TRACE_TIMEOUT_MS)) {
		close(cfd);
		s->fd[C2S] = -1;
		goto fail;
	}
	sfd = unix_connect(t->connect_path);
	if (sfd < 0) {
		tool_error(t->connect_path, -sfd,
			   sfd == -ECONNREFUSED || sfd == -ENOENT
				   ? "is 'uvfio serve' running? closing the client" : "closing the client");
		goto fail;
	}
	s->fd[S2C] = sfd;
	if (uvfio_tp_init(&s->tp[S2C], sfd, TRACE_TIMEOUT_MS)) {
		close(sfd);
		s->fd[S2C] = -1;
		goto fail;
	}
	s->id = ++t->next_id;
	fprintf(stderr, "uvfio: trace: #%u: client connected, forwarding to %s\n", s->id,
		t->connect_path);
	return s;
fail:
	session_free(s);
	return NULL;
}

/*
 * Move one message from side `dir` to the other. Returns 1 when one went,
 * 0 when none was waiting, or a negative errno: the session is over.
 */
static int forward(struct tracer *t, struct session *s, int dir)
{
	struct uvfio_tp *from = &s->tp[dir], *to = &s->tp[!dir];
	uint8_t hdr[UVFIO_TP_HDR_SIZE];
	int fds[UVFIO_TP_MAX_FDS];
	unsigned int nfds = 0;
	struct trace_msg m;
	uint32_t msg_size;
	uint64_t now, lat = 0;
	bool has_lat = false;
	size_t len;
	int r;

	r = uvfio_tp_recv_hdr(from, hdr, fds, UVFIO_TP_MAX_FDS, &nfds, UVFIO_TP_NOWAIT);
	if (r == -EAGAIN)
		return 0;
	if (r)
		return r;
	now = uvfio_tp_now_ns();
	memcpy(&msg_size, hdr + UVFIO_TP_MSG_SIZE_OFFSET, sizeof(msg_size));
	len = msg_size - UVFIO_TP_HDR_SIZE;
	if (msg_size > TRACE_MAX_MSG) {
		r = -EMSGSIZE;
		goto out;
	}
	if (len > t->buf_cap) {
		uint8_t *nb = realloc(t->buf, len);

		if (!nb) {
			r = -ENOMEM;
			goto out;
		}
		t->buf = nb;
		t->buf_cap = len;
	}
	r = uvfio_tp_recv_payload(from, t->buf, len, uvfio_tp_deadline(TRACE_TIMEOUT_MS));
	if (r)
		goto out;
	r = uvfio_tp_send(to, hdr, t->buf, len, fds, nfds, uvfio_tp_deadline(TRACE_TIMEOUT_MS));
	if (r == -ECONNRESET)
		r = -EPIPE; /* the receiving side is gone, not the sending one */
	if (r)
		goto out;

	trace_decode(hdr, t->buf, len, nfds, &m);
	if (!m.reply && !m.no_reply && !m.hdr_err) {
		s->pending[dir][m.h.msg_id] = now;
		s->pending_cmd[dir][m.h.msg_id] = m.h.cmd;
	} else if (m.reply && s->pending[!dir][m.h.msg_id] &&
		   s->pending_cmd[!dir][m.h.msg_id] == m.h.cmd) {
		lat = now - s->pending[!dir][m.h.msg_id];
		has_lat = true;
		s->pending[!dir][m.h.msg_id] = 0;
	}
	if (!t->filter_on || (m.h.cmd <= TRACE_MAX_FILTER && t->filter[m.h.cmd]))
		print_msg(t, s, dir, &m, now, lat, has_lat);
	r = 1;
out:
	uvfio_tp_close_fds(fds, nfds);
	return r;
}

/*
 * Moving a message from side `dir` failed: -ECONNRESET, that side closed;
 * -EPIPE, the other side did. A closed side is passed on as a half-close,
 * as if there were no proxy: what it had sent still goes to its peer, which
 * then reads EOF, and the session ends when the peer closes too or writes
 * to the closed side. Closing at once could lose that last reply (a server
 * refusing a second client) or make the kernel reset a peer whose bytes we
 * had not read.
 */
static void session_fail(struct tracer *t, unsigned int i, int dir, int err)
{
	struct session *s = t->s[i];
	int gone = err == -EPIPE ? !dir : dir;
	bool closed = err == -ECONNRESET || err == -EPIPE;

	if (closed && !s->eof[0] && !s->eof[1]) {
		if (gone != dir)
			while (forward(t, s, gone) > 0)
				;
		fprintf(stderr, "uvfio: trace: #%u: %s closed the connection\n", s->id,
			gone == C2S ? "client" : "server");
		s->eof[gone] = true;
		shutdown(s->fd[!gone], SHUT_WR);
		return;
	}
	if (closed)
		fprintf(stderr, "uvfio: trace: #%u: %s closed the connection too; session over\n",
			s->id, gone == C2S ? "client" : "server");
	else
		fprintf(stderr, "uvfio: trace: #%u: %s: %s; closing both sides\n", s->id,
			dir == C2S ? "from the client" : "from the server", strerror(-err));
	session_free(s);
	t->s[i] = NULL;
}

/* ---- listening ------------------------------------------------------------------------ */

/* A socket at path that still accepts connections belongs to a live peer. */
static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		fd = unix_connect(path);
		if (fd >= 0) {
			close(fd);
			return -EADDRINUSE;
		}
		unlink(path); /* stale */
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static const char *listen_hint(int err)
{
	switch (err) {
	case -EADDRINUSE: return "a running server accepts connections there";
	case -EEXIST: return "a file that is not a socket is there";
	case -ENOENT: return "its directory does not exist";
	case -EACCES: return "no permission on its directory";
	case -ENAMETOOLONG: return "longer than a UNIX socket path may be";
	default: return NULL;
	}
}

static int signals_open(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int trace_loop(struct tracer *t, int lfd, int sigfd)
{
	for (;;) {
		struct pollfd pfd[2 + 2 * TRACE_MAX_SESSIONS];
		unsigned int n = 0, nsess = 0;
		int r;

		pfd[n++] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		for (unsigned int i = 0; i < TRACE_MAX_SESSIONS; i++)
			nsess += t->s[i] != NULL;
		/* With every slot taken, new clients wait in the backlog. */
		pfd[n++] = (struct pollfd){ .fd = nsess < TRACE_MAX_SESSIONS ? lfd : -1,
					    .events = POLLIN };
		for (unsigned int i = 0; i < TRACE_MAX_SESSIONS; i++)
			for (int d = 0; d < 2; d++)
				pfd[n++] = (struct pollfd){
					.fd = t->s[i] && !t->s[i]->eof[d] ? t->s[i]->fd[d] : -1,
					.events = POLLIN };
		r = poll(pfd, n, -1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[0].revents)
			return 0;
		for (unsigned int i = 0; i < TRACE_MAX_SESSIONS; i++) {
			for (int d = 0; d < 2 && t->s[i]; d++) {
				if (!pfd[2 + 2 * i + d].revents)
					continue;
				do {
					r = forward(t, t->s[i], d);
				} while (r > 0);
				if (r < 0)
					session_fail(t, i, d, r);
			}
		}
		fflush(stdout);
		if (pfd[1].revents & POLLIN) {
			int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (cfd < 0)
				continue;
			for (unsigned int i = 0; i < TRACE_MAX_SESSIONS; i++)
				if (!t->s[i]) {
					t->s[i] = session_new(t, cfd);
					break;
				}
		}
	}
}

int cmd_trace(int argc, char **argv)
{
	struct tracer t = { 0 };
	int lfd, sigfd, ret;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return UVFIO_EXIT_OK;
		} else if (!strcmp(a, "--json")) {
			t.json = true;
		} else if (i + 1 < argc && !strcmp(a, "--listen")) {
			t.listen_path = strip_scheme(argv[++i]);
		} else if (i + 1 < argc && !strcmp(a, "--connect")) {
			t.connect_path = strip_scheme(argv[++i]);
		} else if (i + 1 < argc && !strcmp(a, "--filter")) {
			if (parse_filter(&t, argv[++i]))
				return UVFIO_EXIT_USAGE;
		} else {
			fprintf(stderr, "uvfio: trace: unknown option or missing value: '%s'\n", a);
			usage(stderr);
			return UVFIO_EXIT_USAGE;
		}
	}
	if (!t.listen_path || !t.connect_path || !*t.listen_path || !*t.connect_path) {
		fprintf(stderr, "uvfio: trace: --listen PATH and --connect PATH are required\n");
		return UVFIO_EXIT_USAGE;
	}
	if (!strcmp(t.listen_path, t.connect_path)) {
		fprintf(stderr, "uvfio: trace: %s: --listen and --connect name the same socket\n",
			t.listen_path);
		return UVFIO_EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	sigfd = signals_open();
	if (sigfd < 0) {
		tool_error("trace: signalfd", errno, NULL);
		return UVFIO_EXIT_FAILURE;
	}
	lfd = listen_on(t.listen_path);
	if (lfd < 0) {
		tool_error(t.listen_path, -lfd, listen_hint(lfd));
		close(sigfd);
		return UVFIO_EXIT_FAILURE;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	t.t0 = uvfio_tp_now_ns();
	fprintf(stderr, "uvfio: trace: listening on %s, forwarding to %s\n", t.listen_path,
		t.connect_path);
	ret = trace_loop(&t, lfd, sigfd);
	for (unsigned int i = 0; i < TRACE_MAX_SESSIONS; i++)
		if (t.s[i])
			session_free(t.s[i]);
	close(lfd);
	unlink(t.listen_path);
	close(sigfd);
	free(t.buf);
	if (ret) {
		tool_error("trace: poll", -ret, NULL);
		return UVFIO_EXIT_FAILURE;
	}
	return UVFIO_EXIT_OK;
}
