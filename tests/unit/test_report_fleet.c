// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The fleet ranking of a merged snapshot: one row per stack across hosts, suspects first. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "golden.h"
#include "report_fleet.h"
#include "report_text.h"
#include "snapshot_json.h"
#include "snapshot_merge.h"

#define GOLDEN_HOST2 "tests/unit/golden/host-02.json"

/* Merges the files given; the inputs are freed at once (the result owns its strings). */
static struct snapshot *merge_files(const char *a, const char *b)
{
	struct snapshot *in[2] = { golden__snapshot(a), golden__snapshot(b) }, *m = NULL;

	cr_assert_eq(snapshot__merge((const struct snapshot *const *)in, 2, &m), 0);
	snapshot__free(in[0]);
	snapshot__free(in[1]);
	return m;
}

static const char *row_symbol(const struct fleet_row *r)
{
	return r->stack->nr_frames && r->stack->frames[0]->symbol ? r->stack->frames[0]->symbol :
								    "[unknown]";
}

static char *fleet_text(const struct snapshot *m, int top)
{
	struct capture c;

	cr_assert_eq(report_fleet__write(golden__open(&c), m, top), 0);
	golden__close(&c);
	return c.buf;
}

Test(report_fleet, same_stack_on_two_hosts_is_one_row)
{
	struct snapshot *m = merge_files(GOLDEN_SNAPSHOT, GOLDEN_HOST2);
	struct fleet_row *rows;
	size_t nr, found = 0;

	cr_assert_eq(report_fleet__rank(m, &rows, &nr), 0);
	for (size_t i = 0; i < nr; i++) {
		if (strcmp(row_symbol(&rows[i]), "leak_here") ||
		    strcmp(rows[i].stack->frames[0]->module, "/usr/bin/leaky"))
			continue;
		found++;
		cr_assert_eq(rows[i].nr_hosts, 2);
		cr_assert_eq(rows[i].stack->bytes, 1234567 + 500000);
		cr_assert_str_eq(rows[i].proc->comm, "leaky");
	}
	cr_assert_eq(found, 1);
	free(rows);
	snapshot__free(m);
}

/*
 * Suspects in the reports' order: grow_list (+10000 B/s, growing), leak_here (growing,
 * +2048 and +100 B/s summed), cache_fill (unknown trend, grew 512 B/s); then the others,
 * largest first, ties by process name: the stable 1 MiB, shrinker (gone), leak_here
 * of other.so (leaky), 100 bytes each.
 */
Test(report_fleet, suspects_rank_first_then_the_rest_by_bytes)
{
	static const char *const want[] = { "grow_list", "leak_here", "cache_fill",
					    "[unknown]", "shrinker",  "leak_here" };
	struct snapshot *m = merge_files(GOLDEN_SNAPSHOT, GOLDEN_HOST2);
	struct fleet_row *rows;
	size_t nr;

	cr_assert_eq(report_fleet__rank(m, &rows, &nr), 0);
	cr_assert_eq(nr, 6);
	for (size_t i = 0; i < nr; i++)
		cr_assert_str_eq(row_symbol(&rows[i]), want[i], "rank %zu", i + 1);
	cr_assert_eq(rows[1].stack->slope, 2048 + 100);
	cr_assert_str_eq(rows[5].stack->frames[0]->module, "/usr/lib/other.so");
	free(rows);
	snapshot__free(m);
}

/* The same host twice (two snapshots of it, or two pids of one service): one host. */
Test(report_fleet, one_host_seen_twice_counts_once)
{
	struct snapshot *m = merge_files(GOLDEN_SNAPSHOT, GOLDEN_SNAPSHOT);
	struct fleet_row *rows;
	size_t nr;

	cr_assert_eq(m->nr_hosts, 1);
	cr_assert_eq(report_fleet__rank(m, &rows, &nr), 0);
	cr_assert_str_eq(row_symbol(&rows[1]), "leak_here");
	cr_assert_eq(rows[1].stack->nr_origins, 2);
	cr_assert_eq(rows[1].nr_hosts, 1);
	free(rows);
	snapshot__free(m);
}

Test(report_fleet, text_matches_golden)
{
	struct snapshot *m = merge_files(GOLDEN_SNAPSHOT, GOLDEN_HOST2);
	char *text = fleet_text(m, 10);

	golden__check("tests/unit/golden/fleet.txt", text, strlen(text));
	free(text);
	snapshot__free(m);
}

Test(report_fleet, top_cuts_the_ranking_and_says_how_many_more)
{
	struct snapshot *m = merge_files(GOLDEN_SNAPSHOT, GOLDEN_HOST2);
	char *text = fleet_text(m, 2);

	cr_assert_not_null(strstr(text, "\n  ... 4 more stacks (-n to show more)\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\n[2] leak_here in leaky (/usr/bin/leaky): host-01 pid "
					"4242, host-02 pid 1717\n"),
			   "%s", text);
	cr_assert_null(strstr(text, "[3]"), "%s", text);
	free(text);
	snapshot__free(m);
}

/* With --scan, a lost stack ranks first, lost before growing, and the table gets a lost column. */
Test(report_fleet, lost_stack_ranks_first_with_a_lost_column)
{
	struct snapshot *in[2] = { golden__snapshot(GOLDEN_SNAPSHOT),
				   golden__snapshot(GOLDEN_HOST2) };
	struct stack_stat *other = &in[1]->procs[0].stacks[1];
	struct snapshot *m = NULL;
	struct fleet_row *rows;
	char *text;
	size_t nr;

	cr_assert_str_eq(other->frames[0]->module, "/usr/lib/other.so");
	other->scanned = true;
	other->lost_bytes = 100;
	other->lost_allocs = 1;
	cr_assert_eq(snapshot__merge((const struct snapshot *const *)in, 2, &m), 0);
	cr_assert_eq(report_fleet__rank(m, &rows, &nr), 0);
	cr_assert_str_eq(rows[0].stack->frames[0]->module, "/usr/lib/other.so");
	cr_assert_eq(rows[0].stack->lost_bytes, 100);
	cr_assert_str_eq(row_symbol(&rows[1]), "grow_list");
	text = fleet_text(m, 10);
	cr_assert_not_null(strstr(text, "; 4 suspects (lost or growing), ranked first\n"), "%s",
			   text);
	cr_assert_not_null(strstr(text, "  hosts      bytes     size   lost      growth  trend"),
			   "%s", text);
	cr_assert_not_null(strstr(text,
				  "  1  leak_here   leaky      1/2        100    100 B  100 B"),
			   "%s", text);
	free(text);
	free(rows);
	snapshot__free(m);
	snapshot__free(in[0]);
	snapshot__free(in[1]);
}

/* `leaktrace report --merge` and -o fleet.txt write the ranking through export__write. */
Test(report_fleet, text_format_of_a_merged_snapshot_is_the_ranking)
{
	struct snapshot *m = merge_files(GOLDEN_SNAPSHOT, GOLDEN_HOST2);
	struct export_opts opts = { .top = 10 };
	char *want = fleet_text(m, 10);
	struct capture c;

	cr_assert_eq(export__write(golden__open(&c), m, LT_FORMAT_TEXT, &opts), 0);
	golden__close(&c);
	cr_assert_str_eq(c.buf, want);
	free(c.buf);
	free(want);
	snapshot__free(m);
}

Test(report_fleet, merged_suspects_name_their_hosts_once_each)
{
	struct snapshot *m = merge_files(GOLDEN_SNAPSHOT, GOLDEN_HOST2);
	json_t *root, *leak, *hosts;
	json_error_t jerr;
	struct capture c;

	snapshot_json__write(golden__open(&c), m);
	golden__close(&c);
	root = json_loads(c.buf, 0, &jerr);
	cr_assert_not_null(root, "%s", jerr.text);
	leak = json_array_get(json_object_get(root, "suspects"), 1);
	cr_assert_str_eq(json_string_value(json_object_get(leak, "symbol")), "leak_here");
	hosts = json_object_get(leak, "hosts");
	cr_assert_eq(json_array_size(hosts), 2);
	cr_assert_str_eq(json_string_value(json_array_get(hosts, 0)), "host-01");
	cr_assert_str_eq(json_string_value(json_array_get(hosts, 1)), "host-02");
	json_decref(root);
	free(c.buf);
	snapshot__free(m);
}
