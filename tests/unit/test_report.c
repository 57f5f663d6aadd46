// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* report_json and report_text of a fixed, hand-built snapshot. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "report_text.h"
#include "snapshot_json.h"

/* LT_UPDATE_GOLDEN=1 rewrites the golden file from the current output (then review the diff). */
#define GOLDEN_JSON GOLDEN_SNAPSHOT

static const struct frame leak_frames[] = {
	{ "leak_here", 0x1f, "/usr/bin/leaky", 0x55d0c5a0111f, 0x111f, true,
	  "8f3a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c" },
	{ "main", 0x42, "/usr/bin/leaky", 0x55d0c5a01242, 0, false, NULL },
	{ "__libc_start_call_main", 0x7a, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x7f001234ad7a,
	  0x27d7a, true, NULL },
};

/* Unknown function in no file: a JIT or a stripped anonymous mapping. */
static const struct frame unknown_frames[] = {
	{ NULL, 0, NULL, 0x7f00dead0000, 0, false, NULL },
};

static const struct frame cache_frames[] = {
	{ "cache_fill", 0x10, "/usr/bin/leaky", 0x55d0c5a01310, 0, false, NULL },
};

static const struct frame gone_frames[] = {
	{ "grow_list", 0x8, "/opt/gone/bin/gone", 0x401008, 0, false, NULL },
};

static const struct frame shrink_frames[] = {
	{ "shrinker", 0x4, "/opt/gone/bin/gone", 0x402004, 0, false, NULL },
};

static struct stack_stat leaky_stacks[] = {
	{ .stack_id = 11,
	  .kind = STACK_HEAP,
	  .bytes = 1234567,
	  .allocs = 1001,
	  .oldest_s = 12.5,
	  .growth = 2048,
	  .trend = TREND_GROWING,
	  .slope = 2048,
	  .frames = (const struct frame *const[]){ &leak_frames[0], &leak_frames[1],
						   &leak_frames[2] },
	  .nr_frames = 3,
	  .truncated = false },
	{ .stack_id = 12,
	  .kind = STACK_MMAP,
	  .bytes = 1048576,
	  .allocs = 1,
	  .oldest_s = -1,
	  .growth = 0,
	  .trend = TREND_STABLE,
	  .frames = (const struct frame *const[]){ &unknown_frames[0] },
	  .nr_frames = 1,
	  .truncated = true },
	{ .stack_id = 13,
	  .kind = STACK_HEAP,
	  .bytes = 4096,
	  .allocs = 2,
	  .oldest_s = 3.25,
	  .growth = 512,
	  .frames = (const struct frame *const[]){ &cache_frames[0] },
	  .nr_frames = 1,
	  .truncated = false },
};

static struct stack_stat gone_stacks[] = {
	{ .stack_id = 21,
	  .kind = STACK_HEAP,
	  .bytes = 200,
	  .allocs = 1,
	  .oldest_s = 1,
	  .growth = 10000,
	  .trend = TREND_GROWING,
	  .slope = 10000,
	  .frames = (const struct frame *const[]){ &gone_frames[0] },
	  .nr_frames = 1,
	  .truncated = false },
	{ .stack_id = 22,
	  .kind = STACK_HEAP,
	  .bytes = 100,
	  .allocs = 1,
	  .oldest_s = 0.5,
	  .growth = -50,
	  .trend = TREND_SHRINKING,
	  .slope = -50,
	  .frames = (const struct frame *const[]){ &shrink_frames[0] },
	  .nr_frames = 1,
	  .truncated = false },
};

/*
 * Two processes, the live one holding most bytes first; suspects by growth are
 * pid 777's grow_list (10000/s), then leak_here (2048/s), then cache_fill (512/s).
 */
static struct proc_stat test_procs[] = {
	{ .pid = 4242,
	  .comm = "leaky",
	  .exe = "/usr/bin/leaky",
	  .alive = true,
	  .bytes = 1234567 + 1048576 + 4096,
	  .allocs = 1004,
	  .growth = 2560,
	  .stacks = leaky_stacks,
	  .nr_stacks = 3 },
	{ .pid = 777,
	  .comm = "gone",
	  .exe = "/opt/gone/bin/gone",
	  .alive = false,
	  .bytes = 300,
	  .allocs = 2,
	  .growth = 9950,
	  .stacks = gone_stacks,
	  .nr_stacks = 2 },
};

/* 2023-11-14T22:13:20Z and 12 s later. */
static const struct snapshot test_snap = {
	.host = "host-01",
	.started = { .tv_sec = 1700000000, .tv_nsec = 250000000 },
	.taken = { .tv_sec = 1700000012, .tv_nsec = 750000000 },
	.elapsed_s = 12.5,
	.lost = {
		[LOST_ALLOCS_UNTRACKED] = 1,
		[LOST_STACKS_DROPPED] = 2,
		[LOST_FREES_UNMATCHED] = 3,
		[LOST_FREES_BEFORE_ATTACH] = 4,
		[LOST_THREADS_UNTRACKED] = 5,
		[LOST_MUNMAPS_PARTIAL_LOST] = 6,
		[LOST_FREES_INTERNAL] = 7,
	},
	.procs = test_procs,
	.nr_procs = 2,
};

static char *json_text(const struct snapshot *snap)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	snapshot_json__write(f, snap);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

static char *text_report(const struct snapshot *snap, int top)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	report_text__write(f, snap, top);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

static json_t *json_report(const struct snapshot *snap)
{
	char *text = json_text(snap);
	json_error_t err;
	json_t *root = json_loads(text, 0, &err);

	cr_assert_not_null(root, "jansson: %s at column %d", err.text, err.column);
	free(text);
	return root;
}

static json_t *process_at(json_t *root, size_t i)
{
	return json_array_get(json_object_get(root, "processes"), i);
}

static json_t *stack_at(json_t *root, size_t proc, size_t i)
{
	return json_array_get(json_object_get(process_at(root, proc), "stacks"), i);
}

static json_t *frame_at(json_t *root, size_t proc, size_t stack, size_t i)
{
	return json_array_get(json_object_get(stack_at(root, proc, stack), "frames"), i);
}

static const char *str_of(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	cr_assert(json_is_string(v), "\"%s\" is not a string", key);
	return json_string_value(v);
}

static json_int_t int_of(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	cr_assert(json_is_integer(v), "\"%s\" is not an integer", key);
	return json_integer_value(v);
}

static double real_of(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	cr_assert(json_is_real(v), "\"%s\" is not a real", key);
	return json_real_value(v);
}

/* The line of text that starts with prefix, without its newline; NULL if none. */
static char *line_starting(const char *text, const char *prefix, char *buf, size_t size)
{
	const char *p = text;

	while (p && *p) {
		size_t n = strcspn(p, "\n");

		if (!strncmp(p, prefix, strlen(prefix))) {
			snprintf(buf, size, "%.*s", (int)n, p);
			return buf;
		}
		p = p[n] ? p + n + 1 : NULL;
	}
	return NULL;
}

Test(report_json, matches_golden_file)
{
	char *got = json_text(&test_snap);

	golden__check(GOLDEN_JSON, got, strlen(got));
	free(got);
}

Test(report_json, schema_version_is_integer_1)
{
	json_t *root = json_report(&test_snap);

	cr_assert_eq(int_of(root, "leaktrace"), 1);
	json_decref(root);
}

Test(report_json, host_and_elapsed_are_written)
{
	json_t *root = json_report(&test_snap);

	cr_assert_str_eq(str_of(root, "host"), "host-01");
	cr_assert_eq(real_of(root, "elapsed_s"), 12.5);
	cr_assert_str_eq(str_of(json_object_get(root, "sampling"), "mode"), "exact");
	json_decref(root);
}

Test(report_json, timestamps_are_rfc3339_utc_seconds)
{
	json_t *root = json_report(&test_snap);

	cr_assert_str_eq(str_of(root, "started"), "2023-11-14T22:13:20Z");
	cr_assert_str_eq(str_of(root, "taken"), "2023-11-14T22:13:32Z");
	json_decref(root);
}

Test(report_json, lost_counters_are_present_by_name)
{
	json_t *root = json_report(&test_snap);
	json_t *lost = json_object_get(root, "lost");

	cr_assert_eq(int_of(lost, "allocs_untracked"), 1);
	cr_assert_eq(int_of(lost, "stacks_dropped"), 2);
	cr_assert_eq(int_of(lost, "frees_unmatched"), 3);
	cr_assert_eq(int_of(lost, "frees_before_attach"), 4);
	cr_assert_eq(int_of(lost, "threads_untracked"), 5);
	cr_assert_eq(int_of(lost, "munmaps_partial_lost"), 6);
	cr_assert_eq(int_of(lost, "frees_internal"), 7);
	json_decref(root);
}

Test(report_json, processes_keep_snapshot_order_with_totals)
{
	json_t *root = json_report(&test_snap);
	json_t *p0 = process_at(root, 0), *p1 = process_at(root, 1);

	cr_assert_eq(json_array_size(json_object_get(root, "processes")), 2);
	cr_assert_eq(int_of(p0, "pid"), 4242);
	cr_assert_str_eq(str_of(p0, "comm"), "leaky");
	cr_assert_str_eq(str_of(p0, "exe"), "/usr/bin/leaky");
	cr_assert(json_is_true(json_object_get(p0, "alive")));
	cr_assert_eq(int_of(p0, "outstanding_bytes"), 2287239);
	cr_assert_eq(int_of(p0, "outstanding_allocs"), 1004);
	cr_assert_eq(json_array_size(json_object_get(p0, "stacks")), 3);
	cr_assert_eq(int_of(p1, "pid"), 777);
	json_decref(root);
}

Test(report_json, exited_process_is_not_alive)
{
	json_t *root = json_report(&test_snap);

	cr_assert(json_is_false(json_object_get(process_at(root, 1), "alive")));
	json_decref(root);
}

Test(report_json, stack_fields_are_written)
{
	json_t *root = json_report(&test_snap);
	json_t *s = stack_at(root, 0, 0);

	cr_assert_str_eq(str_of(s, "kind"), "heap");
	cr_assert_eq(int_of(s, "bytes"), 1234567);
	cr_assert_eq(int_of(s, "allocs"), 1001);
	cr_assert_eq(real_of(s, "oldest_s"), 12.5);
	cr_assert_eq(real_of(s, "growth_bytes_per_s"), 2048.0);
	cr_assert(json_is_false(json_object_get(s, "truncated")));
	cr_assert_eq(json_array_size(json_object_get(s, "frames")), 3);
	json_decref(root);
}

Test(report_json, mmap_stack_has_kind_mmap)
{
	json_t *root = json_report(&test_snap);

	cr_assert_str_eq(str_of(stack_at(root, 0, 1), "kind"), "mmap");
	cr_assert(json_is_true(json_object_get(stack_at(root, 0, 1), "truncated")));
	json_decref(root);
}

Test(report_json, unknown_oldest_age_is_written_as_zero)
{
	json_t *root = json_report(&test_snap);

	cr_assert_eq(real_of(stack_at(root, 0, 1), "oldest_s"), 0.0);
	json_decref(root);
}

Test(report_json, frame_has_symbol_offset_module_and_hex_address)
{
	json_t *root = json_report(&test_snap);
	json_t *f0 = frame_at(root, 0, 0, 0), *f2 = frame_at(root, 0, 0, 2);

	cr_assert_str_eq(str_of(f0, "symbol"), "leak_here");
	cr_assert_eq(int_of(f0, "offset"), 0x1f);
	cr_assert_str_eq(str_of(f0, "module"), "/usr/bin/leaky");
	cr_assert_str_eq(str_of(f0, "address"), "0x55d0c5a0111f");
	cr_assert_str_eq(str_of(f2, "symbol"), "__libc_start_call_main");
	cr_assert_str_eq(str_of(f2, "module"), "/usr/lib/x86_64-linux-gnu/libc.so.6");
	cr_assert_str_eq(str_of(f2, "address"), "0x7f001234ad7a");
	cr_assert_eq(json_object_size(f0), 6);
	json_decref(root);
}

/* Known: written, for symbolizing later; unknown (no file read): left out, never invented. */
Test(report_json, frame_has_module_offset_and_build_id_when_known)
{
	json_t *root = json_report(&test_snap);
	json_t *f0 = frame_at(root, 0, 0, 0), *f1 = frame_at(root, 0, 0, 1);
	json_t *f2 = frame_at(root, 0, 0, 2);

	cr_assert_str_eq(str_of(f0, "module_offset"), "0x111f");
	cr_assert_str_eq(str_of(f0, "build_id"), "8f3a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c");
	cr_assert_str_eq(str_of(f2, "module_offset"), "0x27d7a");
	cr_assert_null(json_object_get(f2, "build_id"));
	cr_assert_null(json_object_get(f1, "module_offset"));
	cr_assert_null(json_object_get(f1, "build_id"));
	cr_assert_eq(json_object_size(f1), 4);
	json_decref(root);
}

Test(report_json, unknown_symbol_is_written_as_unknown_in_anonymous)
{
	json_t *root = json_report(&test_snap);
	json_t *f = frame_at(root, 0, 1, 0);

	cr_assert_str_eq(str_of(f, "symbol"), "[unknown]");
	cr_assert_eq(int_of(f, "offset"), 0);
	cr_assert_str_eq(str_of(f, "module"), "[anonymous]");
	cr_assert_str_eq(str_of(f, "address"), "0x7f00dead0000");
	json_decref(root);
}

Test(report_json, suspects_are_growing_stacks_by_growth)
{
	json_t *root = json_report(&test_snap);
	json_t *sus = json_object_get(root, "suspects");
	json_t *s0 = json_array_get(sus, 0), *s1 = json_array_get(sus, 1);
	json_t *s2 = json_array_get(sus, 2);

	cr_assert_eq(json_array_size(sus), 3);
	cr_assert_eq(int_of(s0, "pid"), 777);
	cr_assert_str_eq(str_of(s0, "symbol"), "grow_list");
	cr_assert_str_eq(str_of(s0, "module"), "/opt/gone/bin/gone");
	cr_assert_eq(int_of(s0, "bytes"), 200);
	cr_assert_eq(real_of(s0, "growth_bytes_per_s"), 10000.0);
	cr_assert_eq(int_of(s1, "pid"), 4242);
	cr_assert_str_eq(str_of(s1, "symbol"), "leak_here");
	cr_assert_eq(int_of(s1, "bytes"), 1234567);
	cr_assert_eq(real_of(s1, "growth_bytes_per_s"), 2048.0);
	cr_assert_eq(int_of(s2, "pid"), 4242);
	cr_assert_str_eq(str_of(s2, "symbol"), "cache_fill");
	cr_assert_eq(real_of(s2, "growth_bytes_per_s"), 512.0);
	json_decref(root);
}

Test(report_json, suspect_has_every_field_of_the_schema)
{
	json_t *root = json_report(&test_snap);
	json_t *s = json_array_get(json_object_get(root, "suspects"), 1);

	cr_assert_eq(int_of(s, "lost_bytes"), 0);
	cr_assert_str_eq(str_of(s, "trend"), "growing");
	cr_assert_str_eq(str_of(s, "reason"), "growing");
	cr_assert_str_eq(str_of(s, "module"), "/usr/bin/leaky");
	cr_assert_eq(int_of(s, "indirect_bytes"), 0);
	cr_assert_eq(json_object_size(s), 9);
	json_decref(root);
}

Test(report_json, empty_snapshot_has_empty_processes_and_suspects)
{
	struct snapshot empty = { .host = "h" };
	json_t *root = json_report(&empty);

	cr_assert_eq(json_array_size(json_object_get(root, "processes")), 0);
	cr_assert(json_is_array(json_object_get(root, "suspects")));
	cr_assert_eq(json_array_size(json_object_get(root, "suspects")), 0);
	cr_assert_str_eq(str_of(root, "started"), "1970-01-01T00:00:00Z");
	json_decref(root);
}

Test(report_text, header_names_host_and_traced_seconds)
{
	char *text = text_report(&test_snap, 10);

	/* "[HH:MM:SS] ": local time, so only its shape is checked. */
	cr_assert_eq(text[0], '[');
	cr_assert_eq(text[3], ':');
	cr_assert_eq(text[6], ':');
	cr_assert_eq(text[9], ']');
	cr_assert_eq(strncmp(text + 10, " leaktrace on host-01, 12.5 s traced\n", 37), 0, "%s",
		     text);
	free(text);
}

Test(report_text, lost_line_names_every_counter)
{
	char *text = text_report(&test_snap, 10);
	char line[512];

	cr_assert_not_null(line_starting(text, "not tracked:", line, sizeof(line)), "%s", text);
	cr_assert_str_eq(line, "not tracked: 1 allocations (map full), 2 stacks dropped, "
			       "3 unmatched frees, 5 calls of untracked threads, 6 partial "
			       "munmaps; normal: 4 frees of blocks from before the attach, 7 of "
			       "the allocator's own");
	free(text);
}

Test(report_text, process_summary_has_total_growth_and_top_suspect)
{
	char *text = text_report(&test_snap, 10);
	char line[512];

	cr_assert_not_null(line_starting(text, "pid 4242 ", line, sizeof(line)), "%s", text);
	cr_assert_str_eq(line, "pid 4242 (leaky) /usr/bin/leaky: 2.2 MiB outstanding (2,287,239 "
			       "bytes in 1,004 allocations), +2.5 KiB/s, top suspect leak_here "
			       "+2.0 KiB/s");
	free(text);
}

Test(report_text, exited_process_is_marked)
{
	char *text = text_report(&test_snap, 10);
	char line[512];

	cr_assert_not_null(line_starting(text, "pid 777 ", line, sizeof(line)), "%s", text);
	cr_assert_str_eq(line, "pid 777 (gone) /opt/gone/bin/gone [exited]: 300 B outstanding "
			       "(300 bytes in 2 allocations), +9.7 KiB/s, top suspect grow_list "
			       "+9.8 KiB/s");
	free(text);
}

Test(report_text, process_without_growing_stack_says_so)
{
	struct stack_stat s = { .bytes = 64, .allocs = 1, .oldest_s = 1, .growth = 0 };
	struct proc_stat p = { .pid = 5,
			       .comm = "c",
			       .exe = "/e",
			       .alive = true,
			       .bytes = 64,
			       .allocs = 1,
			       .stacks = &s,
			       .nr_stacks = 1 };
	struct snapshot snap = { .host = "h", .procs = &p, .nr_procs = 1 };
	char *text = text_report(&snap, 10);

	cr_assert_not_null(strstr(text, "\npid 5 (c) /e: 64 B outstanding (64 bytes in 1 "
					"allocation), 0 B/s, no growing stack\n"),
			   "%s", text);
	free(text);
}

Test(report_text, stack_columns_are_aligned_under_a_header)
{
	char *text = text_report(&test_snap, 10);

	cr_assert_not_null(
		strstr(text,
		       "\n  #      bytes     size  allocs  kind  oldest      growth  trend\n"
		       "  1  1,234,567  1.2 MiB   1,001  heap  12.5 s  +2.0 KiB/s  growing\n"),
		"%s", text);
	cr_assert_not_null(strstr(text,
				  "\n  3      4,096  4.0 KiB       2  heap   3.2 s    +512 B/s\n"),
			   "%s", text);
	free(text);
}

Test(report_text, mmap_stack_of_unknown_age_shows_a_dash)
{
	char *text = text_report(&test_snap, 10);

	cr_assert_not_null(
		strstr(text,
		       "\n  2  1,048,576  1.0 MiB       1  mmap       -       0 B/s  stable\n"),
		"%s", text);
	free(text);
}

Test(report_text, shrinking_stack_shows_negative_growth)
{
	char *text = text_report(&test_snap, 10);

	cr_assert_not_null(
		strstr(text, "\n  2    100  100 B       1  heap   0.5 s     -50 B/s  shrinking\n"),
		"%s", text);
	free(text);
}

Test(report_text, frame_lines_align_functions_and_modules)
{
	char *text = text_report(&test_snap, 10);

	cr_assert_not_null(
		strstr(text,
		       "     0   0x000055d0c5a0111f  leak_here+0x1f               /usr/bin/leaky\n"
		       "     1   0x000055d0c5a01242  main+0x42                    /usr/bin/leaky\n"
		       "     2   0x00007f001234ad7a  __libc_start_call_main+0x7a  "
		       "/usr/lib/x86_64-linux-gnu/libc.so.6\n"),
		"%s", text);
	free(text);
}

Test(report_text, unknown_frame_and_truncated_stack_are_said)
{
	char *text = text_report(&test_snap, 10);

	/* The note's wording is still being tuned: its start is what is fixed. */
	cr_assert_not_null(strstr(text, "     0   0x00007f00dead0000  [unknown]                    "
					"[anonymous]\n     ... (outer frames "),
			   "%s", text);
	free(text);
}

Test(report_text, stack_without_frames_says_not_recorded)
{
	struct stack_stat s = { .stack_id = 0, .bytes = 64, .allocs = 1, .oldest_s = -1 };
	struct proc_stat p = { .pid = 5,
			       .comm = "c",
			       .exe = "/e",
			       .alive = true,
			       .bytes = 64,
			       .allocs = 1,
			       .stacks = &s,
			       .nr_stacks = 1 };
	struct snapshot snap = { .host = "h", .procs = &p, .nr_procs = 1 };
	char *text = text_report(&snap, 10);

	cr_assert_not_null(strstr(text, "  1     64  64 B       1  heap       -   0 B/s\n"
					"     [stack not recorded: --max-stacks reached]\n"),
			   "%s", text);
	free(text);
}

Test(report_text, top_limits_stacks_and_counts_the_rest)
{
	char *text = text_report(&test_snap, 1);

	cr_assert_not_null(strstr(text, "\n  1  1,234,567  1.2 MiB"), "%s", text);
	cr_assert_null(strstr(text, "\n  2  "), "%s", text);
	cr_assert_not_null(strstr(text, "\n  ... 2 more stacks (-n to show more)\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\n  ... 1 more stack (-n to show more)\n"), "%s", text);
	free(text);
}

Test(report_text, all_stacks_shown_when_top_covers_them)
{
	char *text = text_report(&test_snap, 3);

	cr_assert_not_null(strstr(text, "\n  3      4,096  4.0 KiB"), "%s", text);
	cr_assert_null(strstr(text, "more stack"), "%s", text);
	free(text);
}

Test(report_text, no_color_when_not_a_terminal)
{
	char *text = text_report(&test_snap, 10);

	cr_assert_null(strchr(text, '\033'), "%s", text);
	free(text);
}

Test(report_text, report_ends_with_blank_line)
{
	char *text = text_report(&test_snap, 10);
	size_t n = strlen(text);

	cr_assert_geq(n, 2);
	cr_assert_str_eq(text + n - 2, "\n\n");
	free(text);
}

/* --scan: a large reachable cache, a lost stack, a growing reachable one, a lost and growing one. */
static struct stack_stat scanned_stacks[] = {
	{ .stack_id = 31,
	  .kind = STACK_HEAP,
	  .bytes = 10000000,
	  .allocs = 100,
	  .oldest_s = 9,
	  .trend = TREND_STABLE,
	  .frames = (const struct frame *const[]){ &cache_frames[0] },
	  .nr_frames = 1,
	  .scanned = true,
	  .reachable_bytes = 10000000,
	  .reachable_allocs = 100 },
	{ .stack_id = 32,
	  .kind = STACK_HEAP,
	  .bytes = 1500,
	  .allocs = 3,
	  .oldest_s = 9,
	  .trend = TREND_STABLE,
	  .frames = (const struct frame *const[]){ &leak_frames[0], &leak_frames[1],
						   &leak_frames[2] },
	  .nr_frames = 3,
	  .scanned = true,
	  .lost_bytes = 1000,
	  .lost_allocs = 1,
	  .indirect_bytes = 500,
	  .indirect_allocs = 2 },
	{ .stack_id = 33,
	  .kind = STACK_HEAP,
	  .bytes = 800,
	  .allocs = 8,
	  .oldest_s = 2,
	  .growth = 100,
	  .trend = TREND_GROWING,
	  .slope = 100,
	  .frames = (const struct frame *const[]){ &gone_frames[0] },
	  .nr_frames = 1,
	  .scanned = true,
	  .reachable_bytes = 800,
	  .reachable_allocs = 8 },
	{ .stack_id = 34,
	  .kind = STACK_HEAP,
	  .bytes = 64,
	  .allocs = 4,
	  .oldest_s = 2,
	  .growth = 16,
	  .trend = TREND_GROWING,
	  .slope = 16,
	  .frames = (const struct frame *const[]){ &shrink_frames[0] },
	  .nr_frames = 1,
	  .scanned = true,
	  .lost_bytes = 48,
	  .lost_allocs = 3,
	  .reachable_bytes = 16,
	  .reachable_allocs = 1 },
};

static struct proc_stat scanned_proc = {
	.pid = 5,
	.comm = "svc",
	.exe = "/usr/bin/svc",
	.alive = true,
	.bytes = 10002364,
	.allocs = 115,
	.growth = 116,
	.scanned = true,
	.lost_bytes = 1048,
	.indirect_bytes = 500,
	.reachable_bytes = 10000816,
	.stacks = scanned_stacks,
	.nr_stacks = 4,
};

static const struct snapshot scanned_snap = {
	.host = "h",
	.elapsed_s = 30,
	.procs = &scanned_proc,
	.nr_procs = 1,
};

Test(report_json, scanned_stacks_carry_their_verdicts)
{
	json_t *root = json_report(&scanned_snap);
	json_t *p = json_array_get(json_object_get(root, "processes"), 0);
	json_t *s = json_array_get(json_object_get(p, "stacks"), 1);

	cr_assert_eq(int_of(p, "lost_bytes"), 1048);
	cr_assert_eq(int_of(p, "indirect_bytes"), 500);
	cr_assert_eq(int_of(p, "reachable_bytes"), 10000816);
	cr_assert_eq(int_of(s, "lost_bytes"), 1000);
	cr_assert_eq(int_of(s, "lost_allocs"), 1);
	cr_assert_eq(int_of(s, "indirect_bytes"), 500);
	cr_assert_eq(int_of(s, "indirect_allocs"), 2);
	cr_assert_eq(int_of(s, "reachable_bytes"), 0);
	cr_assert_eq(int_of(s, "reachable_allocs"), 0);
	json_decref(root);
}

Test(report_json, unscanned_stacks_have_no_verdicts)
{
	json_t *root = json_report(&test_snap);
	json_t *p = json_array_get(json_object_get(root, "processes"), 0);

	cr_assert_null(json_object_get(p, "lost_bytes"));
	cr_assert_null(
		json_object_get(json_array_get(json_object_get(p, "stacks"), 0), "lost_bytes"));
	json_decref(root);
}

/* Lost and growing, then lost, then growing; the large reachable, stable cache is no suspect. */
Test(report_json, lost_stacks_rank_first_and_a_stable_cache_not_at_all)
{
	json_t *root = json_report(&scanned_snap);
	json_t *v = json_object_get(root, "suspects");

	cr_assert_eq(json_array_size(v), 3);
	cr_assert_str_eq(str_of(json_array_get(v, 0), "symbol"), "shrinker");
	cr_assert_str_eq(str_of(json_array_get(v, 0), "reason"), "both");
	cr_assert_eq(int_of(json_array_get(v, 0), "lost_bytes"), 48);
	cr_assert_str_eq(str_of(json_array_get(v, 1), "symbol"), "leak_here");
	cr_assert_str_eq(str_of(json_array_get(v, 1), "reason"), "lost");
	cr_assert_eq(int_of(json_array_get(v, 1), "lost_bytes"), 1000);
	cr_assert_eq(int_of(json_array_get(v, 1), "indirect_bytes"), 500);
	cr_assert_str_eq(str_of(json_array_get(v, 2), "symbol"), "grow_list");
	cr_assert_str_eq(str_of(json_array_get(v, 2), "reason"), "growing");
	json_decref(root);
}

Test(report_text, scanned_report_has_a_lost_column_and_summary)
{
	char *text = text_report(&scanned_snap, 10);

	cr_assert(strstr(text, "1.5 KiB lost (1,048 definitely, 500 indirectly), "
			       "0 B possibly lost, 9.5 MiB reachable"),
		  "%s", text);
	cr_assert(strstr(text, "top suspect shrinker 48 B lost\n"), "%s", text);
	/* The lost column: 1000 + 500 bytes for leak_here, "0 B" for the cache. */
	cr_assert(strstr(text, "  lost  possible  "), "%s", text);
	cr_assert(strstr(text, "1.5 KiB"), "%s", text);
	free(text);
}

/* A command's final report: definitely, indirectly, possibly lost rank; growth is no sign. */
static const struct frame final_frames[] = {
	{ "grows", 0x1, "/bin/cmd", 0x1001, 0, false, NULL },
	{ "loses_few", 0x2, "/bin/cmd", 0x1002, 0, false, NULL },
	{ "loses_indirectly", 0x3, "/bin/cmd", 0x1003, 0, false, NULL },
	{ "interior_only", 0x4, "/bin/cmd", 0x1004, 0, false, NULL },
};
static struct stack_stat final_stacks[] = {
	{ .stack_id = 1,
	  .bytes = 90000,
	  .allocs = 9,
	  .growth = 90000,
	  .trend = TREND_GROWING,
	  .slope = 90000,
	  .scanned = true,
	  .reachable_bytes = 90000,
	  .reachable_allocs = 9,
	  .final = true,
	  .frames = (const struct frame *const[]){ &final_frames[0] },
	  .nr_frames = 1 },
	{ .stack_id = 2,
	  .bytes = 10,
	  .allocs = 1,
	  .scanned = true,
	  .lost_bytes = 10,
	  .lost_allocs = 1,
	  .final = true,
	  .frames = (const struct frame *const[]){ &final_frames[1] },
	  .nr_frames = 1 },
	{ .stack_id = 3,
	  .bytes = 500,
	  .allocs = 5,
	  .scanned = true,
	  .indirect_bytes = 500,
	  .indirect_allocs = 5,
	  .final = true,
	  .frames = (const struct frame *const[]){ &final_frames[2] },
	  .nr_frames = 1 },
	{ .stack_id = 4,
	  .bytes = 9000,
	  .allocs = 3,
	  .scanned = true,
	  .possible_bytes = 9000,
	  .possible_allocs = 3,
	  .final = true,
	  .frames = (const struct frame *const[]){ &final_frames[3] },
	  .nr_frames = 1 },
};
static struct proc_stat final_proc = {
	.pid = 8,
	.comm = "cmd",
	.exe = "/bin/cmd",
	.alive = false,
	.final = true,
	.bytes = 99510,
	.allocs = 18,
	.scanned = true,
	.lost_bytes = 10,
	.indirect_bytes = 500,
	.possible_bytes = 9000,
	.possible_allocs = 3,
	.reachable_bytes = 90000,
	.stacks = final_stacks,
	.nr_stacks = 4,
};
static const struct snapshot final_snap = { .host = "h", .procs = &final_proc, .nr_procs = 1 };

Test(report_json, a_final_reports_suspects_are_its_verdicts_not_its_growth)
{
	json_t *root = json_report(&final_snap);
	json_t *v = json_object_get(root, "suspects");
	json_t *p = json_array_get(json_object_get(root, "processes"), 0);

	cr_assert_eq(json_array_size(v), 3);
	cr_assert_str_eq(str_of(json_array_get(v, 0), "symbol"), "loses_few");
	cr_assert_str_eq(str_of(json_array_get(v, 0), "reason"), "lost");
	cr_assert_str_eq(str_of(json_array_get(v, 1), "symbol"), "loses_indirectly");
	cr_assert_str_eq(str_of(json_array_get(v, 1), "reason"), "lost");
	cr_assert_str_eq(str_of(json_array_get(v, 2), "symbol"), "interior_only");
	cr_assert_str_eq(str_of(json_array_get(v, 2), "reason"), "possible");
	cr_assert(json_is_true(json_object_get(p, "final")));
	cr_assert_eq(int_of(p, "possible_bytes"), 9000);
	cr_assert_eq(int_of(p, "possible_allocs"), 3);
	cr_assert_eq(int_of(json_array_get(json_object_get(p, "stacks"), 3), "possible_bytes"),
		     9000);
	json_decref(root);
}

Test(report_text, a_final_report_without_lost_bytes_says_no_leak)
{
	struct stack_stat only = final_stacks[0];
	struct proc_stat p = final_proc;
	struct snapshot snap = { .host = "h", .procs = &p, .nr_procs = 1 };
	char *text;

	p.stacks = &only;
	p.nr_stacks = 1;
	p.lost_bytes = p.indirect_bytes = p.possible_bytes = 0;
	text = text_report(&snap, 10);
	cr_assert(strstr(text, ", 0 B possibly lost, 87.9 KiB reachable, no leak\n"), "%s", text);
	free(text);
	text = text_report(&final_snap, 10);
	cr_assert(strstr(text, "top suspect loses_few 10 B lost\n"), "%s", text);
	free(text);
}

/* A walk stopped at a library whose unwind table was not built yet: said in text and JSON, read back. */
Test(report, table_pending_stack_is_said_and_read_back)
{
	struct stack_stat s = { .stack_id = 31,
				.bytes = 64,
				.allocs = 1,
				.oldest_s = 1,
				.frames = (const struct frame *const[]){ &unknown_frames[0] },
				.nr_frames = 1,
				.truncated = true,
				.table_pending = true };
	struct proc_stat p = { .pid = 6,
			       .comm = "c",
			       .exe = "/e",
			       .alive = true,
			       .bytes = 64,
			       .allocs = 1,
			       .stacks = &s,
			       .nr_stacks = 1 };
	struct snapshot snap = { .host = "h", .procs = &p, .nr_procs = 1 };
	char *text = text_report(&snap, 10), *js = json_text(&snap), err[256];
	json_t *root = json_report(&snap);
	struct snapshot *back;

	cr_assert_not_null(strstr(text, "     0   0x00007f00dead0000  [unknown]  [anonymous]\n"
					"     ... (outer frames cut: a library's unwind table was "
					"not built yet at this allocation)\n"),
			   "%s", text);
	cr_assert(json_is_true(json_object_get(stack_at(root, 0, 0), "truncated")));
	cr_assert(json_is_true(json_object_get(stack_at(root, 0, 0), "table_pending")));
	cr_assert_eq(snapshot_json__load_text(js, "test", &back, err, sizeof(err)), 0, "%s", err);
	cr_assert(back->procs[0].stacks[0].truncated);
	cr_assert(back->procs[0].stacks[0].table_pending);
	snapshot__free(back);
	/* Only where it is so: a stack cut for another reason has no such field. */
	s.table_pending = false;
	json_decref(root);
	root = json_report(&snap);
	cr_assert_null(json_object_get(stack_at(root, 0, 0), "table_pending"));
	json_decref(root);
	free(js);
	free(text);
}

/* A reservation, mostly untouched, and glibc's cached thread stacks. */
static const struct frame resident_frames[] = {
	{ .symbol = "reserve", .module = "/bin/srv", .address = 0x1001 },
	{ .symbol = "allocate_stack",
	  .module = "/usr/lib/x86_64-linux-gnu/libc.so.6",
	  .address = 0x7f0000001000 },
};
static struct stack_stat resident_stacks[] = {
	{ .stack_id = 1,
	  .kind = STACK_MMAP,
	  .bytes = 64ll << 30,
	  .allocs = 1,
	  .has_resident = true,
	  .resident_bytes = 10 << 20,
	  .frames = (const struct frame *const[]){ &resident_frames[0] },
	  .nr_frames = 1 },
	{ .stack_id = 2,
	  .kind = STACK_MMAP,
	  .bytes = 8 * 1052672,
	  .allocs = 8,
	  .has_resident = true,
	  .resident_bytes = 65536,
	  .has_cached = true,
	  .cached_bytes = 8 * 1052672,
	  .cached_allocs = 8,
	  .allocator = "glibc",
	  .frames = (const struct frame *const[]){ &resident_frames[1] },
	  .nr_frames = 1 },
};
static struct proc_stat resident_proc = { .pid = 7,
					  .comm = "srv",
					  .exe = "/bin/srv",
					  .alive = true,
					  .bytes = (64ll << 30) + 8 * 1052672,
					  .allocs = 9,
					  .has_resident = true,
					  .resident_bytes = (10 << 20) + 65536,
					  .stacks = resident_stacks,
					  .nr_stacks = 2 };
static const struct snapshot resident_snap = { .host = "h",
					       .procs = &resident_proc,
					       .nr_procs = 1 };

Test(report_text, mappings_show_what_they_hold_and_the_allocators_own)
{
	char *text = text_report(&resident_snap, 10);

	cr_assert(strstr(text, ", of its mappings 10.1 MiB resident"), "%s", text);
	cr_assert(strstr(text, "glibc's own: 8,421,376 bytes in 8 mappings (64.0 KiB held), 8 "
			       "cached thread stacks: not counted as leaks\n"),
		  "%s", text);
	cr_assert(strstr(text, "  kind  oldest  resident  growth  trend\n"), "%s", text);
	cr_assert(strstr(text, "  64.0 GiB       1  mmap   0.0 s  10.0 MiB   0 B/s"), "%s", text);
	cr_assert(strstr(text, "(glibc's own, never a leak: thread stacks, 8 of 8 in its cache "
			       "for reuse, their threads gone)"),
		  "%s", text);
	free(text);
}
