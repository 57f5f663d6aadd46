// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Stop requests for long steps: a pending stop signal, or a deadline. */
#include <time.h>

#include "stop.h"

/* How often the pending signals are asked for: the clock alone is cheaper. */
#define SIGNAL_CHECK_NS 10000000ULL

static sigset_t watched;
static bool watching;
static uint64_t deadline, last_check;
static bool signalled; /* pending at the last check */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void stop__watch(const sigset_t *sigs)
{
	watched = *sigs;
	watching = true;
}

void stop__set_deadline(uint64_t ns)
{
	if (ns && (!deadline || ns < deadline))
		deadline = ns;
}

static bool signal_pending(void)
{
	sigset_t pending;
	int sig;

	if (!watching || sigpending(&pending))
		return false;
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(&watched, sig) == 1 && sigismember(&pending, sig) == 1)
			return true;
	return false;
}

bool stop__requested(void)
{
	uint64_t now = now_ns();

	if (deadline && now >= deadline)
		return true;
	/* A signal seen pending is asked for again: the main loop may have taken it since. */
	if (signalled || now - last_check >= SIGNAL_CHECK_NS) {
		last_check = now;
		signalled = signal_pending();
	}
	return signalled;
}
