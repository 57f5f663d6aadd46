// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* leaktrace report --diff as text: what grew, what shrank, per process. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "report_diff.h"

static char *diff_text(int top)
{
	struct snapshot *old = golden__snapshot(GOLDEN_SNAPSHOT);
	struct snapshot *new = golden__snapshot("tests/unit/golden/later.json");
	struct capture c;

	cr_assert_eq(report_diff__text(golden__open(&c), old, "old.json", new, "new.json", top), 0);
	golden__close(&c);
	snapshot__free(old);
	snapshot__free(new);
	return c.buf;
}

Test(report_diff, matches_golden_file)
{
	char *got = diff_text(10);

	golden__check("tests/unit/golden/diff.txt", got, strlen(got));
	free(got);
}

Test(report_diff, header_names_both_snapshots_and_the_time_between)
{
	char *got = diff_text(10);

	cr_assert_eq(strstr(got, "leaktrace diff: old.json (host-01, 2023-11-14 22:13:32 UTC) -> "
				 "new.json (host-01, 2023-11-14 23:13:32 UTC), 3600.0 s apart\n\n"),
		     got, "%s", got);
	free(got);
}

Test(report_diff, growing_stack_comes_first_with_its_growth)
{
	char *got = diff_text(10);

	cr_assert_not_null(strstr(got, "\nleaky /usr/bin/leaky: 2.2 MiB -> 9.0 MiB (+7,143,676 "
				       "bytes, +7,000 allocations)\n"),
			   "%s", got);
	cr_assert_not_null(strstr(got, "    1     +7,139,724    6.8 MiB     +7,000    8.0 MiB  "
				       "leak_here < main < __libc_start_call_main\n"),
			   "%s", got);
	cr_assert_not_null(strstr(got, "    2         +6,000    5.9 KiB         +1    5.9 KiB  "
				       "_ZN5cache6refillEm (new)\n"),
			   "%s", got);
	cr_assert_not_null(strstr(got, "  1 stack shrank or was freed: -2.0 KiB\n"), "%s", got);
	free(got);
}

Test(report_diff, process_gone_from_the_new_snapshot_shrinks_to_zero)
{
	char *got = diff_text(10);

	cr_assert_not_null(strstr(got, "\ngone /opt/gone/bin/gone: 300 B -> 0 B (-300 bytes, -2 "
				       "allocations)\n  no stack grew\n  2 stacks shrank or were "
				       "freed: -300 B\n"),
			   "%s", got);
	free(got);
}

Test(report_diff, top_limits_the_growing_stacks_shown)
{
	char *got = diff_text(1);

	cr_assert_null(strstr(got, "refill"), "%s", got);
	cr_assert_not_null(strstr(got, "  ... 1 more stack grew (-n to show more)\n"), "%s", got);
	free(got);
}
