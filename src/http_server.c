// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent's HTTP server. libmicrohttpd parses HTTP; it runs in "external" mode with its own
 * epoll set, whose one descriptor joins leaktrace's event loop: no thread, so the handlers read
 * the agent's state without locks. The listening socket is made here (TCP or unix).
 *
 * libmicrohttpd is loaded at run time (dlopen), as libdebuginfod is: its static archive needs
 * GnuTLS, which Debian ships shared only, and the tracer must run on hosts that have neither;
 * the agent alone needs it (Debian's libmicrohttpd12).
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "diag.h"
#include "event_loop.h"
#include "http_server.h"

/* Scrapers and a browser or two: more would be a misuse, refused by libmicrohttpd. */
#define HTTP_MAX_CONNECTIONS 16
/* Idle connections are closed after this many seconds (checked by a timer as often). */
#define HTTP_IDLE_S 30
#define HTTP_TIMER_NS 1000000000ULL

/* libmicrohttpd's API as the server uses it, found by dlsym. */
static struct mhd_api {
	typeof(MHD_start_daemon) *start_daemon;
	typeof(MHD_stop_daemon) *stop_daemon;
	typeof(MHD_get_daemon_info) *get_daemon_info;
	typeof(MHD_run) *run;
	typeof(MHD_get_timeout) *get_timeout;
	typeof(MHD_create_response_from_buffer) *create_response_from_buffer;
	typeof(MHD_add_response_header) *add_response_header;
	typeof(MHD_queue_response) *queue_response;
	typeof(MHD_destroy_response) *destroy_response;
} mhd;

/* make static's binary: glibc's dlopen there needs the very glibc it was linked with. */
#ifndef LT_STATIC_BUILD
#define LT_STATIC_BUILD 0
#endif

#define MHD_LIB "libmicrohttpd.so.12"

static int mhd_load(void)
{
	static int state; /* 0: not tried, 1: loaded, -errno: failed */
	void *lib;

	if (state)
		return state > 0 ? 0 : state;
	state = -ENOENT;
	if (LT_STATIC_BUILD) {
		diag__error("this leaktrace is fully static (make static): its agent cannot load "
			    "%s; run the agent with the regular build",
			    MHD_LIB);
		return state;
	}
	lib = dlopen(MHD_LIB, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		diag__error("the agent needs %s (Debian and Ubuntu: apt install libmicrohttpd12)",
			    MHD_LIB);
		return state;
	}
#define MHD_SYM(f) ((mhd.f = (typeof(mhd.f))dlsym(lib, "MHD_" #f)) != NULL)
	if (!MHD_SYM(start_daemon) || !MHD_SYM(stop_daemon) || !MHD_SYM(get_daemon_info) ||
	    !MHD_SYM(run) || !MHD_SYM(get_timeout) || !MHD_SYM(create_response_from_buffer) ||
	    !MHD_SYM(add_response_header) || !MHD_SYM(queue_response) ||
	    !MHD_SYM(destroy_response)) {
		diag__error("%s lacks a function the agent calls: %s", MHD_LIB, dlerror());
		dlclose(lib);
		return state;
	}
#undef MHD_SYM
	state = 1;
	return 0;
}

struct http_server {
	struct MHD_Daemon *mhd;
	struct event_loop *loop;
	int fd_id, timer_id;
	int sock;
	http_handler_fn fn;
	void *arg;
	char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char url[160];
};

/* A parsed --listen: a unix path, or a host and a port. */
struct listen_addr {
	bool is_unix;
	char host[128];
	char port[8];
	const char *path;
};

static int parse(const char *listen, struct listen_addr *a, char *err, size_t size)
{
	const char *colon;
	char *end;
	long port;
	size_t len;

	*a = (struct listen_addr){ 0 };
	if (!strncmp(listen, "unix:", 5)) {
		a->is_unix = true;
		a->path = listen + 5;
		if (a->path[0] != '/' ||
		    strlen(a->path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(err, size, "'%s': give unix:/ABSOLUTE/PATH of at most 107 bytes",
				 listen);
			return -EINVAL;
		}
		return 0;
	}
	colon = strrchr(listen, ':');
	len = colon ? (size_t)(colon - listen) : 0;
	if (len > 1 && listen[0] == '[' && listen[len - 1] == ']') {
		listen++;
		len -= 2;
	}
	errno = 0;
	port = colon ? strtol(colon + 1, &end, 10) : -1;
	if (!colon || !len || len >= sizeof(a->host) || errno || end == colon + 1 || *end ||
	    port < 0 || port > 65535) {
		snprintf(err, size,
			 "'%s' is not ADDR:PORT (like 127.0.0.1:9464, [::1]:9464) or "
			 "unix:/PATH",
			 listen);
		return -EINVAL;
	}
	memcpy(a->host, listen, len);
	snprintf(a->port, sizeof(a->port), "%ld", port);
	return 0;
}

int http_listen__check(const char *listen, char *err, size_t size)
{
	struct listen_addr a;

	return parse(listen, &a, err, size);
}

bool http_listen__is_local(const char *listen)
{
	struct listen_addr a;
	struct in6_addr v6;
	struct in_addr v4;
	char err[8];

	if (parse(listen, &a, err, sizeof(err)))
		return false;
	if (a.is_unix || !strcmp(a.host, "localhost"))
		return true;
	if (inet_pton(AF_INET, a.host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, a.host, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

static int bind_unix(struct http_server *s, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	/* A socket left by an agent that was killed: replaced; any other file is not touched. */
	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int err = -errno;

		close(fd);
		return err;
	}
	snprintf(s->unix_path, sizeof(s->unix_path), "%s", path);
	snprintf(s->url, sizeof(s->url), "unix:%s", path);
	return fd;
}

/* The URL of the bound socket, its port as the kernel chose it for port 0. */
static void set_url(struct http_server *s, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return;
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		snprintf(s->url, sizeof(s->url), "http://%s:%d", host, port);
	} else {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		snprintf(s->url, sizeof(s->url), "http://[%s]:%d", host, port);
	}
}

static int bind_tcp(struct http_server *s, const struct listen_addr *a)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res;
	int fd, one = 1, err;

	err = getaddrinfo(a->host, a->port, &hints, &res);
	if (err)
		return err == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = -errno;
	} else {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		err = bind(fd, res->ai_addr, res->ai_addrlen) ? -errno : 0;
	}
	freeaddrinfo(res);
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	set_url(s, fd);
	return fd;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_reply r = { .status = MHD_HTTP_OK, .type = "text/plain; charset=utf-8" };
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int err = 0;

	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		r.status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else {
		err = s->fn(s->arg, url, &r);
		if (err) {
			free(r.body);
			r = (struct http_reply){ .status = MHD_HTTP_INTERNAL_SERVER_ERROR,
						 .type = "text/plain; charset=utf-8" };
			r.len = asprintf(&r.body, "leaktrace: %s\n", strerror(-err));
			if ((int)r.len < 0)
				r = (struct http_reply){ .status = MHD_HTTP_INTERNAL_SERVER_ERROR };
		}
	}
	resp = mhd.create_response_from_buffer(r.len, r.body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(r.body);
		return MHD_NO;
	}
	if (r.type)
		mhd.add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.type);
	mhd.add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = mhd.queue_response(conn, r.status, resp);
	mhd.destroy_response(resp);
	return ret;
}

/* libmicrohttpd's work: what is ready, and what it left ready to go on with at once. */
static void run(struct http_server *s)
{
	MHD_UNSIGNED_LONG_LONG timeout;
	int rounds = 0;

	do
		mhd.run(s->mhd);
	while (mhd.get_timeout(s->mhd, &timeout) == MHD_YES && !timeout && ++rounds < 16);
}

static int on_ready(void *arg, short revents)
{
	run(arg);
	return 0;
}

static int on_timer(void *arg, uint64_t now)
{
	run(arg);
	return 0;
}

/* libmicrohttpd's own messages, through leaktrace's diagnostics. */
static void mhd_log(void *arg, const char *fmt, va_list ap)
{
	char line[256];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = 0;
	diag__debug("http: %s", line);
}

static int start(struct http_server *s, const char *where)
{
	const union MHD_DaemonInfo *info;
	struct listen_addr a;
	char err[160];
	int ret;

	if (parse(where, &a, err, sizeof(err))) {
		diag__error("--listen %s", err);
		return -EINVAL;
	}
	ret = mhd_load();
	if (ret)
		return ret;
	s->sock = a.is_unix ? bind_unix(s, a.path) : bind_tcp(s, &a);
	if (s->sock < 0 || listen(s->sock, 64)) {
		ret = s->sock < 0 ? s->sock : -errno;
		diag__error("cannot listen on %s: %s", where, strerror(-ret));
		return ret;
	}
	s->mhd = mhd.start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, answer, s,
				  MHD_OPTION_LISTEN_SOCKET, s->sock, MHD_OPTION_CONNECTION_LIMIT,
				  (unsigned int)HTTP_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
				  (unsigned int)HTTP_IDLE_S, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
				  NULL, MHD_OPTION_END);
	info = s->mhd ? mhd.get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!info) {
		diag__error("cannot serve %s: libmicrohttpd did not start", where);
		return -EIO;
	}
	s->fd_id = event_loop__add_fd(s->loop, info->epoll_fd, POLLIN, on_ready, s);
	if (s->fd_id < 0)
		return s->fd_id;
	s->timer_id = event_loop__add_timer(s->loop, event_loop__now_ns() + HTTP_TIMER_NS,
					    HTTP_TIMER_NS, on_timer, s);
	return s->timer_id < 0 ? s->timer_id : 0;
}

int http_server__new(const char *listen, struct event_loop *l, http_handler_fn fn, void *arg,
		     struct http_server **out)
{
	struct http_server *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	*s = (struct http_server){ .loop = l,
				   .fd_id = -1,
				   .timer_id = -1,
				   .sock = -1,
				   .fn = fn,
				   .arg = arg };
	err = start(s, listen);
	if (err) {
		http_server__free(s);
		return err;
	}
	*out = s;
	return 0;
}

const char *http_server__url(const struct http_server *s)
{
	return s->url;
}

void http_server__free(struct http_server *s)
{
	if (!s)
		return;
	event_loop__remove(s->loop, s->timer_id);
	event_loop__remove(s->loop, s->fd_id);
	/* libmicrohttpd closes the socket it was given. */
	if (s->mhd)
		mhd.stop_daemon(s->mhd);
	else if (s->sock >= 0)
		close(s->sock);
	if (s->unix_path[0])
		unlink(s->unix_path);
	free(s);
}
