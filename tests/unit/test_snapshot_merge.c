// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Merging snapshots of several hosts: sums, origins, and every format on the result. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "export_svg.h"
#include "golden.h"
#include "report_text.h"
#include "snapshot_json.h"
#include "snapshot_merge.h"

#define GOLDEN_HOST2 "tests/unit/golden/host-02.json"

static struct snapshot *in[2];

static struct snapshot *merged_two(void)
{
	struct snapshot *m = NULL;

	in[0] = golden__snapshot(GOLDEN_SNAPSHOT);
	in[1] = golden__snapshot(GOLDEN_HOST2);
	cr_assert_eq(snapshot__merge((const struct snapshot *const *)in, 2, &m), 0);
	/* The merged snapshot owns its strings: the inputs can go at once. */
	snapshot__free(in[0]);
	snapshot__free(in[1]);
	return m;
}

static const struct stack_stat *find(const struct proc_stat *p, const char *sym, const char *module)
{
	for (size_t i = 0; i < p->nr_stacks; i++) {
		const struct stack_stat *s = &p->stacks[i];

		if (s->nr_frames &&
		    !strcmp(s->frames[0]->symbol ? s->frames[0]->symbol : "", sym) &&
		    !strcmp(s->frames[0]->module ? s->frames[0]->module : "", module))
			return s;
	}
	return NULL;
}

Test(snapshot_merge, matches_golden_json)
{
	struct snapshot *m = merged_two();
	struct capture c;

	snapshot_json__write(golden__open(&c), m);
	golden__close(&c);
	golden__check("tests/unit/golden/merged.json", c.buf, c.len);
	free(c.buf);
	snapshot__free(m);
}

Test(snapshot_merge, same_process_of_two_hosts_becomes_one)
{
	struct snapshot *m = merged_two();
	const struct proc_stat *p = &m->procs[0];

	cr_assert_eq(m->nr_procs, 2);
	cr_assert_str_eq(p->comm, "leaky");
	cr_assert_eq(p->bytes, 2287239 + 500100);
	cr_assert_eq(p->allocs, 1004 + 11);
	cr_assert_eq(p->pid, 0, "pids differ: none is the merged process's");
	cr_assert_eq(p->nr_origins, 2);
	cr_assert_str_eq(p->origins[0].host, "host-01");
	cr_assert_eq(p->origins[0].pid, 4242);
	cr_assert_str_eq(p->origins[1].host, "host-02");
	cr_assert_eq(p->origins[1].pid, 1717);
	cr_assert_eq(m->procs[1].pid, 777, "a process from one host keeps its pid");
	snapshot__free(m);
}

Test(snapshot_merge, identical_stacks_are_summed_with_their_origins)
{
	struct snapshot *m = merged_two();
	const struct stack_stat *s = find(&m->procs[0], "leak_here", "/usr/bin/leaky");

	cr_assert_not_null(s);
	cr_assert_eq(s->bytes, 1234567 + 500000);
	cr_assert_eq(s->allocs, 1001 + 10);
	cr_assert_eq(s->oldest_s, 29.0);
	cr_assert_eq(s->nr_frames, 3);
	cr_assert_eq(s->nr_origins, 2);
	cr_assert_str_eq(s->origins[1].host, "host-02");
	cr_assert_eq(s->origins[1].pid, 1717);
	cr_assert_eq(&m->procs[0].stacks[0], s, "largest first");
	snapshot__free(m);
}

Test(snapshot_merge, same_function_in_another_module_stays_apart)
{
	struct snapshot *m = merged_two();
	const struct stack_stat *s = find(&m->procs[0], "leak_here", "/usr/lib/other.so");

	cr_assert_not_null(s);
	cr_assert_eq(s->bytes, 100);
	cr_assert_eq(s->nr_origins, 1);
	cr_assert_eq(m->procs[0].nr_stacks, 4);
	snapshot__free(m);
}

Test(snapshot_merge, hosts_times_and_losses_are_combined)
{
	struct snapshot *m = merged_two();

	cr_assert_str_eq(m->host, "2 hosts");
	cr_assert_eq(m->nr_hosts, 2);
	cr_assert_str_eq(m->hosts[0], "host-01");
	cr_assert_str_eq(m->hosts[1], "host-02");
	cr_assert_eq(m->started.tv_sec, 1699999990);
	cr_assert_eq(m->taken.tv_sec, 1700000020);
	cr_assert_eq(m->elapsed_s, 30.0);
	cr_assert_eq(m->lost[LOST_ALLOCS_UNTRACKED], 11);
	cr_assert_eq(m->lost[LOST_FREES_UNMATCHED], 4);
	snapshot__free(m);
}

/* Merging merged snapshots keeps the original origins, not the merged file's. */
Test(snapshot_merge, merged_snapshot_round_trips_and_merges_again)
{
	struct snapshot *m = merged_two(), *back = NULL, *again = NULL;
	struct capture c;
	char err[256];

	snapshot_json__write(golden__open(&c), m);
	golden__close(&c);
	cr_assert_eq(snapshot_json__load_text(c.buf, "merged", &back, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(back->nr_hosts, 2);
	cr_assert_eq(back->procs[0].stacks[0].nr_origins, 2);
	cr_assert_eq(snapshot__merge((const struct snapshot *const *)&back, 1, &again), 0);
	cr_assert_eq(again->nr_hosts, 2);
	cr_assert_str_eq(again->procs[0].stacks[0].origins[1].host, "host-02");
	cr_assert_eq(again->procs[0].stacks[0].bytes, 1734567);
	free(c.buf);
	snapshot__free(m);
	snapshot__free(back);
	snapshot__free(again);
}

Test(snapshot_merge, every_format_writes_a_merged_snapshot)
{
	struct snapshot *m = merged_two();
	struct export_opts opts = { .top = 10 };

	for (size_t i = 0; i < GOLDEN_NR_FORMATS; i++) {
		struct capture c;

		cr_assert_eq(export__write(golden__open(&c), m, golden__formats[i], &opts), 0);
		golden__close(&c);
		cr_assert_gt(c.len, 100, "format %d", golden__formats[i]);
		free(c.buf);
	}
	snapshot__free(m);
}

Test(snapshot_merge, merged_svg_title_names_the_hosts)
{
	struct snapshot *m = merged_two();
	struct capture c;

	cr_assert_eq(export_svg__write(golden__open(&c), m), 0);
	golden__close(&c);
	cr_assert_not_null(strstr(c.buf, "Outstanding memory: leaky, gone (pid 777) on 2 hosts "
					 "(host-01, host-02)</text>"),
			   "%.2000s", c.buf);
	free(c.buf);
	snapshot__free(m);
}

Test(snapshot_merge, build_ids_of_the_hosts_are_kept)
{
	struct snapshot *m = merged_two();

	cr_assert_eq(m->procs[0].nr_modules, 1);
	cr_assert_str_eq(m->procs[0].modules[0].path, "/usr/bin/leaky");
	cr_assert_str_eq(m->procs[0].modules[0].build_id,
			 "0123456789abcdef0123456789abcdef01234567");
	snapshot__free(m);
}

/* A host's suppressed stack stays marked after the merge, its counts summed with the process. */
Test(snapshot_merge, suppressed_stacks_and_counts_are_kept)
{
	static const char one[] =
		"{\"leaktrace\": 1, \"processes\": [{\"pid\": 1, \"comm\": "
		"\"a\", \"exe\": \"/a\", \"suppressed\": {\"bytes\": 10, \"allocs\": 1, "
		"\"lost_bytes\": 10}, "
		"\"stacks\": [{\"bytes\": 10, \"allocs\": 1, \"suppressed\": \"mine\", \"frames\": "
		"[{\"symbol\": \"f\", \"module\": \"/a\", \"address\": \"0x10\", "
		"\"build_id\": \"abcd\"}]}]}]}";
	struct snapshot *a = NULL, *b = NULL, *m = NULL;
	const struct snapshot *v[2];
	char err[256];

	cr_assert_eq(snapshot_json__load_text(one, "a.json", &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(snapshot_json__load_text(one, "b.json", &b, err, sizeof(err)), 0, "%s", err);
	v[0] = a;
	v[1] = b;
	cr_assert_eq(snapshot__merge(v, 2, &m), 0);
	snapshot__free(a);
	snapshot__free(b);
	cr_assert_eq(m->nr_procs, 1);
	cr_assert_eq(m->procs[0].nr_stacks, 1);
	cr_assert_str_eq(m->procs[0].stacks[0].suppressed, "mine");
	cr_assert_str_eq(m->procs[0].stacks[0].frames[0]->build_id, "abcd");
	cr_assert_eq(m->procs[0].suppressed_bytes, 20);
	cr_assert_eq(m->procs[0].suppressed_allocs, 2);
	cr_assert_eq(m->procs[0].suppressed_lost_bytes, 20);
	snapshot__free(m);
}
