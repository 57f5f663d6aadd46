// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The agent's history: a ring of the last N lines, and the line of a snapshot. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"

static char *dump(const struct history *h)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	history__write(h, f);
	fclose(f);
	return buf;
}

Test(history, ring_keeps_the_last_n_oldest_first)
{
	struct history *h;
	char *out;

	cr_assert_eq(history__new(3, &h), 0);
	out = dump(h);
	cr_assert_str_eq(out, "");
	free(out);
	for (int i = 1; i <= 5; i++) {
		char *line;

		cr_assert(asprintf(&line, "{\"n\":%d}", i) > 0);
		history__push(h, line);
	}
	cr_assert_eq(history__len(h), 3);
	out = dump(h);
	cr_assert_str_eq(out, "{\"n\":3}\n{\"n\":4}\n{\"n\":5}\n");
	free(out);
	history__free(h);
}

Test(history, ring_of_one_holds_the_last)
{
	struct history *h;
	char *out;

	cr_assert_eq(history__new(1, &h), 0);
	history__push(h, strdup("a"));
	history__push(h, strdup("b"));
	out = dump(h);
	cr_assert_str_eq(out, "b\n");
	free(out);
	history__free(h);
}

Test(history, line_of_a_snapshot_is_exact)
{
	struct frame fr = { .symbol = "leak_here", .module = "/usr/bin/svc" };
	struct stack_stat st = { .bytes = 4096,
				 .allocs = 4,
				 .trend = TREND_GROWING,
				 .slope = 64,
				 .frames = (const struct frame *const[]){ &fr },
				 .nr_frames = 1 };
	struct proc_stat p = { .pid = 42,
			       .comm = "svc",
			       .alive = true,
			       .bytes = 4096,
			       .allocs = 4,
			       .stacks = &st,
			       .nr_stacks = 1 };
	struct snapshot snap = { .procs = &p, .nr_procs = 1, .taken = { 1700000000, 500000000 } };
	char *line;

	cr_assert_eq(history__line(&snap, 10, &line), 0);
	cr_assert_str_eq(line, "{\"t\":1700000000.500,\"processes\":[{\"pid\":42,\"comm\":\"svc\","
			       "\"bytes\":4096,\"allocs\":4}],\"stacks\":[{\"pid\":42,\"comm\":"
			       "\"svc\",\"function\":\"leak_here\",\"module\":\"/usr/bin/svc\","
			       "\"bytes\":4096,\"growth_bytes_per_s\":64.000,\"suspect\":true}]}");
	free(line);
}
