// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Folded stacks, plain and differential, of the fixed snapshots. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "demangle.h"
#include "export.h"
#include "export_folded.h"
#include "golden.h"

#define GOLDEN_LATER "tests/unit/golden/later.json"

static char *folded(const struct snapshot *snap, bool counts)
{
	struct capture c;

	cr_assert_eq(export_folded__write(golden__open(&c), snap, counts, false), 0);
	golden__close(&c);
	return c.buf;
}

static void check_golden(const char *path, bool counts)
{
	struct snapshot *snap = golden__snapshot(GOLDEN_SNAPSHOT);
	char *got = folded(snap, counts);

	golden__check(path, got, strlen(got));
	free(got);
	snapshot__free(snap);
}

Test(export_folded, matches_golden_file)
{
	check_golden("tests/unit/golden/snapshot.folded", false);
}

Test(export_folded, count_flag_matches_golden_file)
{
	check_golden("tests/unit/golden/snapshot.count.folded", true);
}

Test(export_folded, line_is_process_then_frames_root_first_then_bytes)
{
	struct snapshot *snap = golden__snapshot(GOLDEN_SNAPSHOT);
	char *got = folded(snap, false);

	cr_assert_not_null(strstr(got, "leaky;__libc_start_call_main;main;leak_here 1234567\n"),
			   "%s", got);
	cr_assert_not_null(strstr(got, "leaky;[unknown] 1048576\n"), "%s", got);
	free(got);
	snapshot__free(snap);
}

Test(export_folded, equal_stacks_are_summed_and_lines_sorted)
{
	static const struct frame a = { "f", 1, "/m", 0x10, 0, false, NULL },
				  b = { "f", 2, "/m", 0x20, 0, false, NULL };
	struct stack_stat stacks[] = {
		{ .bytes = 10,
		  .allocs = 1,
		  .frames = (const struct frame *const[]){ &a },
		  .nr_frames = 1 },
		{ .bytes = 5,
		  .allocs = 1,
		  .frames = (const struct frame *const[]){ &b },
		  .nr_frames = 1 },
		{ .bytes = 7, .allocs = 1, .frames = NULL, .nr_frames = 0 },
	};
	struct proc_stat p = { .pid = 1, .comm = "x", .stacks = stacks, .nr_stacks = 3 };
	struct snapshot snap = { .procs = &p, .nr_procs = 1 };
	char *got = folded(&snap, false);

	cr_assert_str_eq(got, "x;[stack not recorded] 7\nx;f 15\n");
	free(got);
}

Test(export_folded, separators_in_names_are_replaced)
{
	static const struct frame fr = { "a;b\nc", 0, NULL, 0x10, 0, false, NULL };
	struct stack_stat s = { .bytes = 1,
				.allocs = 1,
				.frames = (const struct frame *const[]){ &fr },
				.nr_frames = 1 };
	struct proc_stat p = { .pid = 1, .comm = "p;q", .stacks = &s, .nr_stacks = 1 };
	struct snapshot snap = { .procs = &p, .nr_procs = 1 };
	char *got = folded(&snap, false);

	cr_assert_str_eq(got, "p_q;a_b_c 1\n");
	free(got);
}

Test(export_folded, unknown_function_is_named_by_its_module)
{
	static const struct frame fr = { NULL, 0, "/usr/lib/libjit.so", 0x10, 0, false, NULL };
	struct stack_stat s = { .bytes = 3,
				.allocs = 1,
				.frames = (const struct frame *const[]){ &fr },
				.nr_frames = 1 };
	struct proc_stat p = { .pid = 1, .comm = "p", .stacks = &s, .nr_stacks = 1 };
	struct snapshot snap = { .procs = &p, .nr_procs = 1 };
	char *got = folded(&snap, false);

	cr_assert_str_eq(got, "p;[libjit.so] 3\n");
	free(got);
}

Test(export_folded, diff_matches_golden_file)
{
	struct snapshot *old = golden__snapshot(GOLDEN_SNAPSHOT);
	struct snapshot *new = golden__snapshot(GOLDEN_LATER);
	struct capture c;

	cr_assert_eq(export_folded__diff(golden__open(&c), old, new, false), 0);
	golden__close(&c);
	golden__check("tests/unit/golden/diff.folded", c.buf, c.len);
	cr_assert_not_null(strstr(c.buf, "leaky;__libc_start_call_main;main;leak_here 1234567 "
					 "8374291\n"),
			   "%s", c.buf);
	cr_assert_not_null(strstr(c.buf, "gone;grow_list 200 0\n"), "%s", c.buf);
	cr_assert_not_null(strstr(c.buf, "leaky;_ZN5cache6refillEm 0 6000\n"), "%s", c.buf);
	free(c.buf);
	snapshot__free(old);
	snapshot__free(new);
}

Test(export_folded, demangled_names_are_written_after_demangling)
{
	struct snapshot *snap = golden__snapshot(GOLDEN_LATER);
	char *got;

	cr_assert_eq(demangle__snapshot(snap), 0);
	got = folded(snap, false);
	cr_assert_not_null(strstr(got, "leaky;cache::refill(unsigned long) 6000\n"), "%s", got);
	free(got);
	snapshot__free(snap);
}

/* --lost: only what a scan found lost, definitely and indirectly, per stack. */
Test(export_folded, lost_view_keeps_only_lost_bytes)
{
	static const struct frame lost_frames[] = { { "lose_blocks", 0x1f, "/bin/leaky", 0x1000, 0,
						      false, NULL } };
	static const struct frame kept_frames[] = { { "keep_cache", 0x1c, "/bin/leaky", 0x2000, 0,
						      false, NULL } };
	struct stack_stat stacks[] = {
		{ .bytes = 50000,
		  .allocs = 100,
		  .scanned = true,
		  .reachable_bytes = 50000,
		  .reachable_allocs = 100,
		  .frames = (const struct frame *const[]){ &kept_frames[0] },
		  .nr_frames = 1 },
		{ .bytes = 7914,
		  .allocs = 13,
		  .scanned = true,
		  .lost_bytes = 7770,
		  .lost_allocs = 10,
		  .indirect_bytes = 100,
		  .indirect_allocs = 2,
		  .reachable_bytes = 44,
		  .reachable_allocs = 1,
		  .frames = (const struct frame *const[]){ &lost_frames[0] },
		  .nr_frames = 1 },
	};
	struct proc_stat proc = { .pid = 1,
				  .comm = "leaky",
				  .scanned = true,
				  .stacks = stacks,
				  .nr_stacks = 2 };
	struct snapshot snap = { .host = "h", .procs = &proc, .nr_procs = 1 };
	struct export_opts opts = { .lost = true };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(export__write(f, &snap, LT_FORMAT_FOLDED, &opts), 0);
	fclose(f);
	cr_assert_str_eq(buf, "leaky;lose_blocks 7870\n");
	free(buf);
	cr_assert(snapshot__has_verdicts(&snap));
	proc.scanned = false;
	cr_assert_not(snapshot__has_verdicts(&snap));
}

/* --lines: frames with their source line where known, the others as always. */
static const struct frame src_frames[] = {
	{ .symbol = "make_block",
	  .module = "/usr/bin/leaky",
	  .address = 0x11a5,
	  .file = "/src/inlined.c",
	  .line = 17,
	  .inlined = true },
	{ .symbol = "leak_inlined",
	  .module = "/usr/bin/leaky",
	  .address = 0x11a5,
	  .file = "/src/inlined.c",
	  .line = 28 },
	{ .symbol = "main", .offset = 0x21, .module = "/usr/bin/leaky", .address = 0x1216 },
};
static struct stack_stat src_stacks[] = {
	{ .stack_id = 1,
	  .kind = STACK_HEAP,
	  .bytes = 640,
	  .allocs = 10,
	  .frames = (const struct frame *const[]){ &src_frames[0], &src_frames[1], &src_frames[2] },
	  .nr_frames = 3 },
};
static struct proc_stat src_proc = { .pid = 9,
				     .comm = "leaky",
				     .stacks = src_stacks,
				     .nr_stacks = 1 };
static const struct snapshot src_snap = { .host = "h", .procs = &src_proc, .nr_procs = 1 };

Test(export_folded, lines_flag_adds_file_and_line_to_frames_that_have_them)
{
	struct capture c;

	cr_assert_eq(export_folded__write(golden__open(&c), &src_snap, false, true), 0);
	golden__close(&c);
	cr_assert_str_eq(c.buf, "leaky;main;leak_inlined (inlined.c:28);make_block (inlined.c:17) "
				"640\n");
	free(c.buf);
	cr_assert_eq(export_folded__write(golden__open(&c), &src_snap, false, false), 0);
	golden__close(&c);
	cr_assert_str_eq(c.buf, "leaky;main;leak_inlined;make_block 640\n");
	free(c.buf);
}

Test(export_folded, kernel_frames_are_marked_as_perf_does)
{
	static const struct frame fr[] = { { .symbol = "alloc_pipe_info", .kernel = true },
					   { .symbol = NULL, .kernel = true } };
	struct stack_stat s = { .kind = STACK_KERNEL,
				.bytes = 64,
				.allocs = 1,
				.frames = (const struct frame *const[]){ &fr[0], &fr[1] },
				.nr_frames = 2 };
	struct proc_stat p = { .pid = 0, .comm = "kernel", .stacks = &s, .nr_stacks = 1 };
	struct snapshot snap = { .procs = &p, .nr_procs = 1 };
	char *got = folded(&snap, false);

	cr_assert_str_eq(got, "kernel;[unknown]_[k];alloc_pipe_info_[k] 64\n");
	free(got);
}
