// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* event_loop: descriptors, signals and timers in one wait, each a registration of its own. */
#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "event_loop.h"
#include "stop.h"

struct trail {
	char seen[16];
	int n;
	int end_after;
};

static int mark(struct trail *t, char c)
{
	t->seen[t->n++] = c;
	return t->n >= t->end_after ? EVENT_LOOP_END : 0;
}

static int timer_a(void *arg, uint64_t now)
{
	return mark(arg, 'a');
}

static int timer_b(void *arg, uint64_t now)
{
	return mark(arg, 'b');
}

Test(event_loop, timers_due_together_run_in_the_order_they_were_added)
{
	struct trail t = { .end_after = 2 };
	struct event_loop *l;
	uint64_t now = event_loop__now_ns();

	cr_assert_eq(event_loop__new(&l), 0);
	cr_assert_eq(event_loop__add_timer(l, now, 0, timer_b, &t), 0);
	cr_assert_eq(event_loop__add_timer(l, now, 0, timer_a, &t), 1);
	cr_assert_eq(event_loop__run(l), EVENT_LOOP_END);
	cr_assert_str_eq(t.seen, "ba");
	event_loop__free(l);
}

Test(event_loop, a_periodic_timer_comes_again_and_a_one_shot_once)
{
	struct trail t = { .end_after = 4 };
	struct event_loop *l;
	uint64_t now = event_loop__now_ns();

	cr_assert_eq(event_loop__new(&l), 0);
	event_loop__add_timer(l, now, 0, timer_b, &t);
	event_loop__add_timer(l, now, 1000000, timer_a, &t);
	cr_assert_eq(event_loop__run(l), EVENT_LOOP_END);
	cr_assert_str_eq(t.seen, "baaa");
	event_loop__free(l);
}

static int read_pipe(void *arg, short revents)
{
	int *fd = arg;
	char c = 0;

	cr_assert(revents & POLLIN);
	cr_assert_eq(read(*fd, &c, 1), 1);
	return c;
}

Test(event_loop, a_ready_descriptor_calls_back_and_its_value_ends_the_run)
{
	struct event_loop *l;
	int p[2];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(event_loop__new(&l), 0);
	cr_assert_geq(event_loop__add_fd(l, p[0], POLLIN, read_pipe, &p[0]), 0);
	cr_assert_eq(write(p[1], "\x07", 1), 1);
	cr_assert_eq(event_loop__run(l), 7);
	event_loop__free(l);
	close(p[0]);
	close(p[1]);
}

static int take_signal(void *arg, int sig)
{
	*(int *)arg = sig;
	return EVENT_LOOP_END;
}

/* stop__requested sees a signal until the loop takes it, and not after (the final report runs). */
Test(event_loop, a_signal_is_a_stop_request_until_the_loop_takes_it)
{
	struct event_loop *l;
	sigset_t sigs;
	int sig = 0;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	stop__watch(&sigs);
	cr_assert_eq(event_loop__new(&l), 0);
	cr_assert_geq(event_loop__add_signals(l, &sigs, take_signal, &sig), 0);
	raise(SIGTERM);
	cr_assert(stop__requested());
	cr_assert_eq(event_loop__run(l), EVENT_LOOP_END);
	cr_assert_eq(sig, SIGTERM);
	cr_assert_not(stop__requested());
	event_loop__free(l);
}

static int remove_other(void *arg, uint64_t now)
{
	struct event_loop **l = arg;

	event_loop__remove(*l, 1);
	return 0;
}

static int never(void *arg, uint64_t now)
{
	cr_assert_fail("a removed timer ran");
	return EVENT_LOOP_END;
}

static int later(void *arg, uint64_t now)
{
	return EVENT_LOOP_END;
}

Test(event_loop, a_source_removed_by_a_callback_is_not_called)
{
	struct event_loop *l;
	uint64_t now = event_loop__now_ns();

	cr_assert_eq(event_loop__new(&l), 0);
	cr_assert_eq(event_loop__add_timer(l, now, 0, remove_other, &l), 0);
	cr_assert_eq(event_loop__add_timer(l, now, 0, never, NULL), 1);
	cr_assert_eq(event_loop__add_timer(l, now + 1000000, 0, later, NULL), 2);
	cr_assert_eq(event_loop__run(l), EVENT_LOOP_END);
	event_loop__free(l);
}
