// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* diag: one line per message, the prefix first, shown as -q and -v say. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdio.h>

#include "diag.h"
#include "escape.h"

static void say_all(void)
{
	diag__error("cannot attach to pid %d: %s", 42, "no such process");
	diag__warn("pid %d: not counted", 43);
	diag__info("tracing %d process", 1);
	diag__debug("snapshot: %.1f ms", 1.5);
	diag__target("cannot read the mappings of pid %d", 44);
	fflush(stderr);
}

Test(diag, by_default_errors_warnings_and_info_are_shown_not_debug, .init = cr_redirect_stderr)
{
	diag__setup(false, false);
	say_all();
	cr_assert_stderr_eq_str("leaktrace: cannot attach to pid 42: no such process\n"
				"leaktrace: pid 43: not counted\n"
				"leaktrace: tracing 1 process\n"
				"leaktrace: cannot read the mappings of pid 44\n");
}

Test(diag, quiet_hides_info_only, .init = cr_redirect_stderr)
{
	diag__setup(true, false);
	say_all();
	cr_assert_stderr_eq_str("leaktrace: cannot attach to pid 42: no such process\n"
				"leaktrace: pid 43: not counted\n"
				"leaktrace: cannot read the mappings of pid 44\n");
}

Test(diag, verbose_shows_debug_even_when_quiet, .init = cr_redirect_stderr)
{
	diag__setup(true, true);
	say_all();
	cr_assert_stderr_eq_str("leaktrace: cannot attach to pid 42: no such process\n"
				"leaktrace: pid 43: not counted\n"
				"leaktrace: snapshot: 1.5 ms\n"
				"leaktrace: cannot read the mappings of pid 44\n");
}

Test(diag, among_many_targets_a_failure_on_one_needs_verbose, .init = cr_redirect_stderr)
{
	diag__setup(false, false);
	diag__set_many_targets(true);
	diag__target("cannot read the mappings of pid %d", 44);
	diag__setup(false, true);
	diag__target("cannot read the mappings of pid %d", 45);
	fflush(stderr);
	cr_assert_stderr_eq_str("leaktrace: cannot read the mappings of pid 45\n");
}

Test(diag, the_report_command_has_its_own_prefix, .init = cr_redirect_stderr)
{
	diag__set_prefix("leaktrace report");
	diag__error("give %s", "a snapshot");
	fflush(stderr);
	cr_assert_stderr_eq_str("leaktrace report: give a snapshot\n");
}

/* A name of a target's (here a symbol holding ESC) cannot drive the terminal. */
Test(diag, control_bytes_of_a_targets_name_are_escaped, .init = cr_redirect_stderr)
{
	FILE *raw = stderr;

	cr_assert_eq(escape__stderr(), 0);
	diag__error("cannot probe %s", "evil\x1b[2Jname");
	fflush(stderr);
	stderr = raw;
	cr_assert_stderr_eq_str("leaktrace: cannot probe evil\\x1b[2Jname\n");
}

Test(diag, a_failure_repeated_at_every_tick_is_new_once)
{
	int last = 0;

	cr_assert_not(diag__new_failure(&last, 0));
	cr_assert(diag__new_failure(&last, -ENOMEM));
	cr_assert_not(diag__new_failure(&last, -ENOMEM));
	cr_assert(diag__new_failure(&last, -EBADF));
	cr_assert_not(diag__new_failure(&last, 0));
	cr_assert(diag__new_failure(&last, -EBADF));
}
