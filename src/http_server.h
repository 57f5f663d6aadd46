/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent's HTTP server: libmicrohttpd without threads, its one epoll descriptor in the
 * event loop, so that requests are answered between snapshots from the same thread.
 */
#ifndef LT_HTTP_SERVER_H
#define LT_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct event_loop;
struct http_server;

/* A reply: body is malloc'd and taken by the server. */
struct http_reply {
	unsigned int status;
	const char *type; /* Content-Type */
	char *body;
	size_t len;
};

/* Called for each GET or HEAD; fills r (0), or returns -errno (500). */
typedef int (*http_handler_fn)(void *arg, const char *path, struct http_reply *r);

/*
 * Whether listen is "ADDR:PORT" ("[ADDR]:PORT" for IPv6; PORT 0: any free one) or
 * "unix:/path"; with a message in err when not.
 */
int http_listen__check(const char *listen, char *err, size_t size);
/* Whether listen is a loopback address or a unix socket. */
bool http_listen__is_local(const char *listen);

/*
 * Binds listen (a unix socket's stale file is replaced) and serves it from l. 0, or -errno
 * with one line said.
 */
int http_server__new(const char *listen, struct event_loop *l, http_handler_fn fn, void *arg,
		     struct http_server **out);
/* Where it listens, as a URL ("http://127.0.0.1:9464", "unix:/path"). */
const char *http_server__url(const struct http_server *s);
/* Accepts NULL. Removes its unix socket file. */
void http_server__free(struct http_server *s);

#endif
