// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The event loop of the long-running modes: one registration per source (a descriptor, a set
 * of signals, a timer), so that a server socket or a ring buffer joins trace mode's loop by one
 * call. Timers are computed timeouts of the one ppoll: no descriptor per timer.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "event_loop.h"

enum source_kind { SOURCE_FREE, SOURCE_FD, SOURCE_SIGNALS, SOURCE_TIMER };

struct source {
	enum source_kind kind;
	int fd; /* SOURCE_FD, SOURCE_SIGNALS (the signalfd, ours) */
	short events;
	uint64_t due, period; /* SOURCE_TIMER */
	union {
		event_fd_fn on_fd;
		event_signal_fn on_signal;
		event_timer_fn on_timer;
	};
	void *arg;
};

struct event_loop {
	struct source *src;
	int nr_src;
	struct pollfd *pfd; /* rebuilt before each wait, one per descriptor source */
	int *pfd_src;	    /* the source of each pollfd */
};

uint64_t event_loop__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int event_loop__new(struct event_loop **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void event_loop__free(struct event_loop *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->nr_src; i++)
		event_loop__remove(l, i);
	free(l->src);
	free(l->pfd);
	free(l->pfd_src);
	free(l);
}

/* A free slot, the arrays grown by one when none is; its index or -ENOMEM. */
static int new_source(struct event_loop *l)
{
	struct source *src;
	struct pollfd *pfd;
	int *pfd_src, n = l->nr_src + 1;

	for (int i = 0; i < l->nr_src; i++)
		if (l->src[i].kind == SOURCE_FREE)
			return i;
	src = realloc(l->src, n * sizeof(*src));
	if (src)
		l->src = src;
	pfd = realloc(l->pfd, n * sizeof(*pfd));
	if (pfd)
		l->pfd = pfd;
	pfd_src = realloc(l->pfd_src, n * sizeof(*pfd_src));
	if (pfd_src)
		l->pfd_src = pfd_src;
	if (!src || !pfd || !pfd_src)
		return -ENOMEM;
	memset(&l->src[l->nr_src], 0, sizeof(*src));
	return l->nr_src++;
}

int event_loop__add_fd(struct event_loop *l, int fd, short events, event_fd_fn fn, void *arg)
{
	int id = new_source(l);

	if (id < 0)
		return id;
	l->src[id] = (struct source){ .kind = SOURCE_FD,
				      .fd = fd,
				      .events = events,
				      .on_fd = fn,
				      .arg = arg };
	return id;
}

int event_loop__add_signals(struct event_loop *l, const sigset_t *sigs, event_signal_fn fn,
			    void *arg)
{
	int fd, id = new_source(l);

	if (id < 0)
		return id;
	fd = signalfd(-1, sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	l->src[id] = (struct source){ .kind = SOURCE_SIGNALS,
				      .fd = fd,
				      .events = POLLIN,
				      .on_signal = fn,
				      .arg = arg };
	return id;
}

int event_loop__add_timer(struct event_loop *l, uint64_t first_ns, uint64_t period_ns,
			  event_timer_fn fn, void *arg)
{
	int id = new_source(l);

	if (id < 0)
		return id;
	l->src[id] = (struct source){ .kind = SOURCE_TIMER,
				      .fd = -1,
				      .due = first_ns,
				      .period = period_ns,
				      .on_timer = fn,
				      .arg = arg };
	return id;
}

void event_loop__remove(struct event_loop *l, int id)
{
	if (id < 0 || id >= l->nr_src)
		return;
	if (l->src[id].kind == SOURCE_SIGNALS)
		close(l->src[id].fd);
	l->src[id].kind = SOURCE_FREE;
}

/* Every signal waiting in the signalfd, in turn; stops at the first non-zero return. */
static int take_signals(struct source *s)
{
	struct signalfd_siginfo si;
	event_signal_fn fn = s->on_signal;
	void *arg = s->arg;
	int fd = s->fd, ret = 0;

	/* s may be removed (its fd closed) by fn: what is needed was copied before. */
	while (!ret && read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		ret = fn(arg, (int)si.ssi_signo);
	return ret;
}

/* The descriptors to wait on, and how long until the earliest timer (NULL: no timer). */
static int prepare(struct event_loop *l, uint64_t now, struct timespec *ts, bool *timed)
{
	uint64_t first = UINT64_MAX;
	int n = 0;

	for (int i = 0; i < l->nr_src; i++) {
		struct source *s = &l->src[i];

		if (s->kind == SOURCE_TIMER && s->due < first)
			first = s->due;
		if (s->kind != SOURCE_FD && s->kind != SOURCE_SIGNALS)
			continue;
		l->pfd[n] = (struct pollfd){ .fd = s->fd, .events = s->events };
		l->pfd_src[n++] = i;
	}
	*timed = first != UINT64_MAX;
	first = first > now ? first - now : 0;
	*ts = (struct timespec){ .tv_sec = first / 1000000000ULL,
				 .tv_nsec = first % 1000000000ULL };
	return n;
}

static int run_ready(struct event_loop *l, int n)
{
	int ret = 0;

	for (int i = 0; i < n && !ret; i++) {
		struct source *s = &l->src[l->pfd_src[i]];

		/* Removed by an earlier callback of this round, or its slot given out again. */
		if (!l->pfd[i].revents || s->fd != l->pfd[i].fd ||
		    (s->kind != SOURCE_FD && s->kind != SOURCE_SIGNALS))
			continue;
		if (s->kind == SOURCE_SIGNALS)
			ret = take_signals(s);
		else
			ret = s->on_fd(s->arg, l->pfd[i].revents);
	}
	return ret;
}

static int run_timers(struct event_loop *l)
{
	uint64_t now = event_loop__now_ns();
	int ret = 0;

	for (int i = 0; i < l->nr_src && !ret; i++) {
		struct source *s = &l->src[i];
		event_timer_fn fn = s->on_timer;

		if (s->kind != SOURCE_TIMER || s->due > now)
			continue;
		if (!s->period) {
			s->kind = SOURCE_FREE;
		} else {
			s->due += s->period;
			if (s->due <= now)
				s->due = now + s->period;
		}
		/* s is not used after: fn may add a source, which can move the array. */
		ret = fn(s->arg, now);
	}
	return ret;
}

int event_loop__run(struct event_loop *l)
{
	struct timespec ts;
	bool timed;
	int n, r, ret = 0;

	while (!ret) {
		n = prepare(l, event_loop__now_ns(), &ts, &timed);
		r = ppoll(l->pfd, n, timed ? &ts : NULL, NULL);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			ret = run_ready(l, n);
		if (!ret)
			ret = run_timers(l);
	}
	return ret;
}
