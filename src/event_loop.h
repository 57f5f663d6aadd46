/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One thread's wait for everything at once: file descriptors (a server socket, a ring buffer),
 * signals read through a signalfd, and timers on CLOCK_MONOTONIC, in one ppoll.
 */
#ifndef LT_EVENT_LOOP_H
#define LT_EVENT_LOOP_H

#include <signal.h>
#include <stdint.h>

struct event_loop;

/*
 * Callbacks return 0 to go on waiting; any other value ends event_loop__run, which returns it
 * (EVENT_LOOP_END for a plain end, a negative errno for a failure).
 */
#define EVENT_LOOP_END 1
/* fd became ready: revents as poll(2) gives them. */
typedef int (*event_fd_fn)(void *arg, short revents);
/* One signal of the set, taken (it is no longer pending). */
typedef int (*event_signal_fn)(void *arg, int sig);
/* A timer came due; now is the CLOCK_MONOTONIC time in ns. */
typedef int (*event_timer_fn)(void *arg, uint64_t now);

int event_loop__new(struct event_loop **out);
/* Closes the signalfd it made, not the descriptors it was given. Accepts NULL. */
void event_loop__free(struct event_loop *l);
/* Waits for events on fd (POLLIN, POLLOUT); returns the registration's id (>= 0) or -errno. */
int event_loop__add_fd(struct event_loop *l, int fd, short events, event_fd_fn fn, void *arg);
/*
 * Takes the signals of sigs through a signalfd; the caller has blocked them. Until taken here
 * they stay pending, as sigpending() (stop__requested) sees them. Returns an id or -errno.
 */
int event_loop__add_signals(struct event_loop *l, const sigset_t *sigs, event_signal_fn fn,
			    void *arg);
/*
 * Calls fn at first_ns (CLOCK_MONOTONIC), then every period_ns after (0: once, then removed).
 * A periodic timer that falls behind skips to a period after now. Returns an id or -errno.
 */
int event_loop__add_timer(struct event_loop *l, uint64_t first_ns, uint64_t period_ns,
			  event_timer_fn fn, void *arg);
/* Ends a registration (from a callback too); the id may be given out again. */
void event_loop__remove(struct event_loop *l, int id);
/*
 * Waits and calls back until a callback returns non-zero; returns that value. Timers due at
 * the same time run in the order of their ids (a new source takes the lowest free one), after
 * the ready descriptors and signals.
 */
int event_loop__run(struct event_loop *l);
/* CLOCK_MONOTONIC in ns, the clock of the timers. */
uint64_t event_loop__now_ns(void);

#endif
