// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* stop: a deadline or a pending stop signal cuts long steps short. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "elf_syms.h"
#include "stop.h"
#include "unwind_table.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

Test(stop, a_passed_deadline_cuts_symbols_and_unwind_tables_short)
{
	struct unwind_table *t = NULL;
	int err;

	stop__set_deadline(1);
	cr_assert(stop__requested());
	cr_assert_null(elf_syms__open("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", NULL, &err));
	cr_assert_eq(err, -EINTR);
	cr_assert_eq(unwind_table__build(LIBC, &t), -EINTR);
	cr_assert_null(t);
}

Test(stop, a_pending_stop_signal_is_a_stop_request)
{
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	stop__watch(&sigs);
	cr_assert_not(stop__requested());
	usleep(20000); /* past the check interval */
	raise(SIGTERM);
	cr_assert(stop__requested());
}

/* The main loop takes the signal (and ends the run its own way): the final report is not cut. */
Test(stop, a_stop_signal_taken_is_no_longer_a_stop_request)
{
	struct timespec zero = {};
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	stop__watch(&sigs);
	raise(SIGHUP);
	cr_assert(stop__requested());
	cr_assert_eq(sigtimedwait(&sigs, NULL, &zero), SIGHUP);
	cr_assert_not(stop__requested());
}
